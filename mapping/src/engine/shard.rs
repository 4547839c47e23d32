//! What the engine keeps per shard while it reads one: the records read and
//! not yet settled (for the checkpoint), the lanes that batch and invoke
//! them, and the open tumbling window.

use std::collections::{BTreeMap, VecDeque};

use super::Time;
use crate::records::StreamRecord;
use crate::state::Position;
use crate::window::OpenWindow;

/// A record waiting in a lane, numbered in the order it was read.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    pub record: StreamRecord,
    pub ordinal: u64,
    /// Its share of an event's JSON.
    pub bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Read, not finished.
    Open,
    /// Dropped by the filter criteria.
    Filtered,
    /// Processed by the function, or given up on (destination or dropped).
    Finished,
}

#[derive(Debug, Clone)]
pub(super) struct Mark {
    pub sequence_number: String,
    pub status: Status,
}

/// What a lane works on next.
#[derive(Debug, Clone)]
pub(super) enum WorkKind {
    Batch(Vec<Queued>),
    /// The window's final invocation (no records).
    CloseWindow {
        terminated_early: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Work {
    pub kind: WorkKind,
    /// Invocations of exactly these records that failed without progress.
    pub attempts: u32,
    /// Invocations that never reached the function, in a row.
    pub throttles: u32,
}

impl Work {
    pub fn batch(records: Vec<Queued>) -> Self {
        Self {
            kind: WorkKind::Batch(records),
            attempts: 0,
            throttles: 0,
        }
    }

    pub fn close_window(terminated_early: bool) -> Self {
        Self {
            kind: WorkKind::CloseWindow { terminated_early },
            attempts: 0,
            throttles: 0,
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Phase {
    /// To be invoked at the next poll.
    Ready,
    /// A retry, due at this time.
    Waiting(Time),
    Invoking(u64),
    /// Given up on and being recorded in the destination; `then` is what
    /// follows (the records of the batch that were not too old).
    Sending {
        id: u64,
        then: Option<Box<Work>>,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Current {
    pub work: Work,
    pub phase: Phase,
}

/// One lane (ParallelizationFactor): a partition key's records always take
/// the same lane, so they stay in order; lanes of a shard run concurrently.
#[derive(Debug, Default, Clone)]
pub(super) struct Lane {
    pub queue: VecDeque<Queued>,
    pub queued_bytes: usize,
    /// When the oldest queued record was queued (the batching window).
    pub since: Option<Time>,
    /// Halves of a bisected batch, front first.
    pub work: VecDeque<Work>,
    pub current: Option<Current>,
}

impl Lane {
    pub fn push(&mut self, record: Queued, now: Time) {
        self.since.get_or_insert(now);
        self.queued_bytes += record.bytes;
        self.queue.push_back(record);
    }

    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.work.is_empty() && self.current.is_none()
    }
}

/// A shard being read.
#[derive(Debug, Clone)]
pub(super) struct ShardRun {
    pub id: String,
    /// A read is in flight.
    pub reading: bool,
    /// Where the next read opens a new iterator; `None`: the one held.
    pub reopen: Option<Position>,
    /// The shard was read to its end (closed by a reshard).
    pub ended: bool,
    /// The next read is not before this.
    pub next_read: Time,
    pub read_issued: Time,
    /// Idle polling's current wait, in seconds.
    pub idle: f64,
    pub last_records: Time,
    /// The last page was empty and the shard is not behind.
    pub drained: bool,
    pub last_read: Option<String>,
    /// Every record read and not yet settled, by ordinal.
    pub pending: BTreeMap<u64, Mark>,
    pub next_ordinal: u64,
    pub lanes: Vec<Lane>,
    pub window: Option<OpenWindow>,
    /// Recorded as read to its end: never read again.
    pub closed: bool,
    /// Reads that failed in a row (a page resets it).
    pub read_failures: u32,
    /// Given up on by a drain after too many failed reads: not read again
    /// in this run, its position kept.
    pub unreadable: bool,
}

impl ShardRun {
    /// A shard starting to be read at `now`: it counts as flowing at first,
    /// so its idle polling stays short until it has been quiet a while.
    pub fn new(id: &str, lanes: usize, start: Position, idle: f64, now: Time) -> Self {
        Self {
            id: id.to_owned(),
            reading: false,
            reopen: Some(start),
            ended: false,
            next_read: f64::NEG_INFINITY,
            read_issued: f64::NEG_INFINITY,
            idle,
            last_records: now,
            drained: false,
            last_read: None,
            pending: BTreeMap::new(),
            next_ordinal: 0,
            lanes: (0..lanes).map(|_| Lane::default()).collect(),
            window: None,
            closed: false,
            read_failures: 0,
            unreadable: false,
        }
    }

    pub fn queued(&self) -> usize {
        self.lanes.iter().map(|l| l.queue.len()).sum()
    }

    pub fn lanes_idle(&self) -> bool {
        self.lanes.iter().all(Lane::is_idle)
    }
}
