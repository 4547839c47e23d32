//! What a mapping keeps across restarts: its identity (the stream it reads,
//! its UUID, when it was created), where a shard without a checkpoint
//! starts (resolved once, at creation), and per shard the last record up to
//! which everything is finished, the records finished above it (lanes finish
//! out of order), and the shards read to their end. Locally a mapping *is*
//! its state file: the same file means the same mapping.
//!
//! The engine changes it and asks the shell to save it
//! ([`Action::Save`](crate::engine::Action::Save)); [`load`] and [`save`]
//! read and write the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::settings::StartingPosition;

/// Where a shard iterator starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Position {
    /// The oldest record the shard retains.
    TrimHorizon,
    /// Records that arrived at or after this time (seconds since the epoch).
    AtTimestamp(f64),
    /// The record after this sequence number.
    AfterSequenceNumber(String),
    /// This record.
    AtSequenceNumber(String),
    /// Only records written from now on. A mapping never starts a shard
    /// here after its creation (LATEST is resolved to a time once); readers
    /// accept it for other uses.
    Latest,
}

/// One shard's progress.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ShardProgress {
    /// Every record up to and including this one is finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// Records after the checkpoint that are finished too (another lane's
    /// batch was still in flight below them): skipped when read again.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub finished_above: BTreeSet<String>,
}

/// The persisted state of one mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingState {
    /// The stream's ARN and creation time: a file left by a deleted and
    /// re-created stream of the same name is another mapping's.
    pub stream: String,
    /// Names the mapping (S3 destination keys).
    pub uuid: String,
    /// When the mapping was created (seconds since the epoch).
    pub created: f64,
    /// Where every shard without a checkpoint starts, resolved at creation:
    /// LATEST became the creation time, so a shard that had no record yet,
    /// a child born later and a restarted mapping lose nothing.
    pub start: Position,
    pub shards: BTreeMap<String, ShardProgress>,
    /// Shards read to their end (closed by a reshard).
    #[serde(default)]
    pub closed: BTreeSet<String>,
}

impl MappingState {
    /// A mapping created at `now` for `stream` (its identity), starting at
    /// `starting_position`.
    pub fn new(stream: &str, starting_position: StartingPosition, now: f64) -> Self {
        let start = match starting_position {
            StartingPosition::Latest => Position::AtTimestamp(now),
            StartingPosition::TrimHorizon => Position::TrimHorizon,
            StartingPosition::AtTimestamp(at) => Position::AtTimestamp(at),
        };
        Self {
            stream: stream.to_owned(),
            uuid: uuid::Uuid::new_v4().to_string(),
            created: now,
            start,
            shards: BTreeMap::new(),
            closed: BTreeSet::new(),
        }
    }

    /// Where `shard` resumes: after its checkpoint, else at the mapping's start.
    pub fn resume(&self, shard: &str) -> Position {
        match self.shards.get(shard).and_then(|p| p.checkpoint.clone()) {
            Some(sequence) => Position::AfterSequenceNumber(sequence),
            None => self.start.clone(),
        }
    }

    pub fn checkpoint(&self, shard: &str) -> Option<&str> {
        self.shards.get(shard)?.checkpoint.as_deref()
    }
}

/// Why the state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read the mapping's state file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the mapping's state file {path} is not a state file ({source}); move it away to start a new mapping")]
    Parse {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the mapping's state file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// The mapping saved at `path`, if the file exists and belongs to `stream`
/// (its identity). `None` means a new mapping: no file, or one left by
/// another stream (a deleted and re-created one: its sequence numbers mean
/// nothing in the new stream; it is overwritten at the first save).
///
/// # Errors
/// [`StateError`] if the file cannot be read or parsed.
pub fn load(path: &Path, stream: &str) -> Result<Option<MappingState>, StateError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Read {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let state: MappingState =
        serde_json::from_slice(&bytes).map_err(|source| StateError::Parse {
            path: path.display().to_string(),
            source,
        })?;
    if state.stream != stream {
        tracing::warn!(
            file = %path.display(),
            saved = %state.stream,
            stream,
            "the state file belongs to another stream (deleted and re-created?): starting a new mapping"
        );
        return Ok(None);
    }
    Ok(Some(state))
}

/// One step of replacing the state file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaveStep {
    CreateDirectory,
    WriteTemporary,
    /// The temporary file's bytes on disk before it takes the file's name.
    SyncTemporary,
    RenameOverFile,
    /// The rename itself on disk.
    SyncDirectory,
}

/// The steps of [`save`], in order: a kill or a power loss at any point
/// leaves the previous state file or the new one, whole, never half of one
/// (a rename without the first sync can leave an empty file after a power
/// loss; without the second, the old file).
const SAVE_STEPS: [SaveStep; 5] = [
    SaveStep::CreateDirectory,
    SaveStep::WriteTemporary,
    SaveStep::SyncTemporary,
    SaveStep::RenameOverFile,
    SaveStep::SyncDirectory,
];

/// Writes `state` to `path` durably ([`SAVE_STEPS`]).
///
/// # Errors
/// [`StateError::Write`].
pub fn save(path: &Path, state: &MappingState) -> Result<(), StateError> {
    let temporary = path.with_extension("json.tmp");
    let directory = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => Path::new(".").to_path_buf(),
    };
    let step = |step: SaveStep| -> std::io::Result<()> {
        match step {
            SaveStep::CreateDirectory => std::fs::create_dir_all(&directory),
            SaveStep::WriteTemporary => {
                std::fs::write(&temporary, serde_json::to_vec_pretty(state)?)
            }
            SaveStep::SyncTemporary => std::fs::File::open(&temporary)?.sync_all(),
            SaveStep::RenameOverFile => std::fs::rename(&temporary, path),
            SaveStep::SyncDirectory => std::fs::File::open(&directory)?.sync_all(),
        }
    };
    SAVE_STEPS
        .into_iter()
        .try_for_each(step)
        .map_err(|source| StateError::Write {
            path: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_is_resolved_once_to_the_creation_time() {
        let state = MappingState::new("arn:a", StartingPosition::Latest, 1_800_000_000.5);
        assert_eq!(state.start, Position::AtTimestamp(1_800_000_000.5));
        assert_eq!(
            state.resume("a-shard-never-seen"),
            Position::AtTimestamp(1_800_000_000.5),
            "a shard without a checkpoint starts at the creation time, whenever it is first read"
        );
        let trim = MappingState::new("arn:a", StartingPosition::TrimHorizon, 1.0);
        assert_eq!(trim.resume("s"), Position::TrimHorizon);
    }

    #[test]
    fn survives_a_reload_and_ignores_another_streams_file() {
        let dir = tempfile_dir();
        let path = dir.join("stream.json");
        assert_eq!(load(&path, "arn:a").unwrap(), None);
        let mut state = MappingState::new("arn:a", StartingPosition::Latest, 5.0);
        state.shards.insert(
            "shard-0".into(),
            ShardProgress {
                checkpoint: Some("17".into()),
                finished_above: ["19".to_owned()].into(),
            },
        );
        state.closed.insert("parent".into());
        save(&path, &state).unwrap();
        let loaded = load(&path, "arn:a").unwrap().unwrap();
        assert_eq!(loaded, state);
        assert_eq!(
            loaded.resume("shard-0"),
            Position::AfterSequenceNumber("17".into())
        );
        assert_eq!(load(&path, "arn:b").unwrap(), None);
        std::fs::write(&path, "{").unwrap();
        let error = load(&path, "arn:a").unwrap_err();
        assert!(error.to_string().contains("move it away"), "{error}");
        assert!(std::error::Error::source(&error).is_some());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_file_is_replaced_durably() {
        use SaveStep::*;
        // Each sync before what depends on it: the data before the rename,
        // the rename before the save counts as done.
        assert_eq!(
            SAVE_STEPS,
            [
                CreateDirectory,
                WriteTemporary,
                SyncTemporary,
                RenameOverFile,
                SyncDirectory
            ]
        );
        let dir = tempfile_dir();
        let path = dir.join("nested").join("stream.json");
        let state = MappingState::new("arn:a", StartingPosition::TrimHorizon, 1.0);
        save(&path, &state).unwrap();
        assert_eq!(load(&path, "arn:a").unwrap(), Some(state));
        assert!(!path.with_extension("json.tmp").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("mapping-state-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
