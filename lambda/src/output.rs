//! Where enriched records go: one JSON line per record (the article's
//! "ModelOne AFTER" log line, but structured), written once per batch.

use std::io::Write;
use std::sync::Arc;

use model::EnrichedModelOne;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

pub const MESSAGE: &str = "ModelOne AFTER";

/// One output line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputLine {
    pub timestamp: String,
    pub level: String,
    pub message: String,
    pub shard_id: String,
    pub sequence_number: String,
    /// The user record's place in its KPL aggregate; absent for a plain record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<u64>,
    pub record: EnrichedModelOne,
}

/// The same line, borrowed, for writing without copies.
#[derive(Serialize)]
pub(crate) struct OutputLineRef<'a> {
    pub timestamp: &'a str,
    pub level: &'static str,
    pub message: &'static str,
    pub shard_id: &'a str,
    pub sequence_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<u64>,
    pub record: &'a EnrichedModelOne,
}

/// The sink for output lines.
#[derive(Clone)]
pub enum Output {
    /// The Lambda's log stream (CloudWatch Logs).
    Stdout,
    /// An in-memory buffer, for the harness's in-process replay and for tests.
    Capture(Captured),
}

/// Lines written to an [`Output::Capture`].
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Output {
    /// An in-memory output and a handle to read it.
    pub fn capture() -> (Output, Captured) {
        let captured = Captured::default();
        (Output::Capture(captured.clone()), captured)
    }

    pub(crate) fn write(&self, lines: &[u8]) {
        if lines.is_empty() {
            return;
        }
        match self {
            Output::Stdout => {
                let mut stdout = std::io::stdout().lock();
                if let Err(error) = stdout.write_all(lines).and_then(|()| stdout.flush()) {
                    tracing::error!(%error, "could not write output lines");
                }
            }
            Output::Capture(captured) => captured.0.lock().extend_from_slice(lines),
        }
    }
}

impl Captured {
    /// Takes everything written so far, parsed.
    ///
    /// # Panics
    /// If a line is not an [`OutputLine`] (the consumer wrote it, so it is).
    pub fn take_lines(&self) -> Vec<OutputLine> {
        let bytes = std::mem::take(&mut *self.0.lock());
        bytes
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .map(|line| serde_json::from_slice(line).expect("the consumer writes OutputLine JSON"))
            .collect()
    }

    /// Drops everything written so far; returns how many bytes that was.
    pub fn clear(&self) -> usize {
        std::mem::take(&mut *self.0.lock()).len()
    }
}
