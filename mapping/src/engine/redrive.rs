//! Redrive's decisions, without I/O: which messages of the on-failure queue
//! are pointers, which records of a pointer's range the mapping gave up on,
//! and in which order pointers go back (what waits for what).
//!
//! - A pointer names a range of one shard, `startSequenceNumber` to
//!   `endSequenceNumber`. The range also holds records the mapping did not
//!   give up on: other lanes' (ParallelizationFactor > 1: a given-up batch
//!   is one lane's) and records the filter criteria dropped. Redrive
//!   re-applies both: the filter always; the lane where it is known (the
//!   lane of the range's first record, which is the batch's first, by the
//!   mapping's own [`lane_of`]). It then checks that what it picked is the
//!   pointer's `batchSize`.
//! - Records delivered once in a run are not delivered again (duplicate or
//!   overlapping pointers: SQS delivers at least once).
//! - Order: a shard's pointers by their start; a pointer waits for every
//!   earlier pointer of its shard and of the shard's ancestors (parents
//!   before children, so one key's records keep their order across a
//!   reshard). A range that failed to go back blocks what waits for it; a
//!   range the stream no longer holds does not: its records can never come
//!   back, so waiting for it would buy no order and lose the rest.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use super::lane_of;
use crate::filter::FilterCriteria;
use crate::records::StreamRecord;
use crate::sequence;
use crate::shards::Shard;

/// One pointer from the on-failure queue: AWS's `KinesisBatchInfo`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pointer {
    pub stream_arn: String,
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub batch_size: u64,
    /// `RetryAttemptsExhausted` or `RecordAgeExceeded`.
    pub condition: String,
}

impl Pointer {
    /// Reads an on-failure invocation record, also inside an SNS
    /// notification (an SNS destination subscribed to the queue); `None`
    /// for any other message.
    pub fn parse(body: &str) -> Option<Pointer> {
        let body: Value = serde_json::from_str(body).ok()?;
        if body.get("Type").and_then(Value::as_str) == Some("Notification") {
            return Self::parse(body.get("Message")?.as_str()?);
        }
        let info = body.get("KinesisBatchInfo")?;
        let text = |name: &str| info.get(name)?.as_str().map(str::to_owned);
        Some(Pointer {
            stream_arn: text("streamArn")?,
            shard_id: text("shardId")?,
            start_sequence_number: text("startSequenceNumber")?,
            end_sequence_number: text("endSequenceNumber")?,
            batch_size: info.get("batchSize").and_then(Value::as_u64).unwrap_or(0),
            condition: body
                .pointer("/requestContext/condition")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }

    /// Whether `sequence_number` lies in the range.
    pub fn holds(&self, sequence_number: &str) -> bool {
        sequence::compare(sequence_number, &self.start_sequence_number).is_ge()
            && sequence::compare(sequence_number, &self.end_sequence_number).is_le()
    }
}

/// How redrive tells the given-up records of a range apart.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The mapping's ParallelizationFactor, where its lanes are known (the
    /// local mapping). `None`: every lane's records (a deployment: AWS's
    /// lane assignment is not public).
    pub lanes: Option<usize>,
    pub filter: FilterCriteria,
}

/// What a range held and what of it goes back.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Picked {
    #[serde(skip)]
    pub records: Vec<StreamRecord>,
    /// Records of the range in the stream.
    pub found: usize,
    /// Left out: another lane's.
    pub other_lanes: usize,
    /// Left out: dropped by the filter.
    pub filtered: usize,
    /// Left out: delivered already in this run (an overlapping pointer).
    pub already_delivered: usize,
}

impl Picked {
    /// The pointer's `batchSize` against what was picked (and what an
    /// earlier, overlapping pointer delivered): `Some(message)` if they differ.
    pub fn mismatch(&self, pointer: &Pointer) -> Option<String> {
        let accounted = (self.records.len() + self.already_delivered) as u64;
        (pointer.batch_size != 0 && accounted != pointer.batch_size).then(|| {
            format!(
                "the pointer says {} records, the range holds {} of them ({} found, {} of other lanes, {} filtered out)",
                pointer.batch_size, accounted, self.found, self.other_lanes, self.filtered
            )
        })
    }
}

/// The records of `range` (the stream's records from the pointer's start to
/// its end, in order) that go back.
pub fn pick(
    pointer: &Pointer,
    range: &[StreamRecord],
    selection: &Selection,
    delivered: &HashSet<String>,
) -> Picked {
    let lane = match (selection.lanes, range.first()) {
        (Some(lanes), Some(first)) if lanes > 1 => {
            Some((lanes, lane_of(&first.partition_key, lanes)))
        }
        _ => None,
    };
    let mut picked = Picked::default();
    for record in range.iter().filter(|r| pointer.holds(&r.sequence_number)) {
        picked.found += 1;
        if lane.is_some_and(|(lanes, lane)| lane_of(&record.partition_key, lanes) != lane) {
            picked.other_lanes += 1;
        } else if !selection.filter.keeps(record) {
            picked.filtered += 1;
        } else if delivered.contains(&record.sequence_number) {
            picked.already_delivered += 1;
        } else {
            picked.records.push(record.clone());
        }
    }
    picked
}

/// What the stream holds of a pointer's range.
#[derive(Debug, Clone, PartialEq)]
pub enum Range {
    /// Its records, start to end, in order.
    Held(Vec<StreamRecord>),
    /// The stream no longer holds its start (trimmed, or the shard is
    /// gone): `first_available` is where the shard now begins, if anywhere.
    AgedOut { first_available: Option<String> },
    /// It begins where it should but the shard's records stop before its end.
    Cut { last: String },
}

/// The range of `pointer` from what reading its shard at the pointer's start
/// sequence number returned: `read` is the shard's records from there on, in
/// order, up to the shard's end or the stream's tip (or fewer: only what
/// lies before the range's end matters); empty when the position is gone.
pub fn range_of(pointer: &Pointer, read: impl IntoIterator<Item = StreamRecord>) -> Range {
    let mut records: Vec<StreamRecord> = Vec::new();
    for record in read {
        if sequence::compare(&record.sequence_number, &pointer.end_sequence_number).is_gt() {
            break;
        }
        records.push(record);
    }
    let first = records.first().map(|r| r.sequence_number.clone());
    if first.as_deref() != Some(pointer.start_sequence_number.as_str()) {
        return Range::AgedOut {
            first_available: first,
        };
    }
    let last = records
        .last()
        .expect("it has a first")
        .sequence_number
        .clone();
    if last != pointer.end_sequence_number {
        return Range::Cut { last };
    }
    Range::Held(records)
}

/// How one pointer's range went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Delivered (or, in a dry run, found).
    Done,
    /// The stream no longer holds it: does not block.
    AgedOut,
    /// Could not be delivered: blocks what waits for it.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Running,
    Ended(Ending),
    /// Not attempted: a range it waits for failed.
    Blocked,
}

/// The order pointers go back in; pointers are numbered by the caller.
#[derive(Debug)]
pub struct Schedule {
    pointers: Vec<Pointer>,
    status: Vec<Status>,
    /// Per (stream, shard), its pointers by start.
    by_shard: BTreeMap<(String, String), Vec<usize>>,
    /// Per stream, each shard's parents.
    parents: HashMap<String, HashMap<String, Vec<String>>>,
}

impl Schedule {
    /// `pointers` with each stream's shard graph (`graphs[stream_arn]`; a
    /// shard missing from it has no known parents).
    pub fn new(pointers: Vec<Pointer>, graphs: &HashMap<String, Vec<Shard>>) -> Self {
        let mut by_shard: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for (i, p) in pointers.iter().enumerate() {
            by_shard
                .entry((p.stream_arn.clone(), p.shard_id.clone()))
                .or_default()
                .push(i);
        }
        for list in by_shard.values_mut() {
            list.sort_by(|&a, &b| {
                sequence::compare(
                    &pointers[a].start_sequence_number,
                    &pointers[b].start_sequence_number,
                )
                .then(sequence::compare(
                    &pointers[a].end_sequence_number,
                    &pointers[b].end_sequence_number,
                ))
            });
        }
        let parents = graphs
            .iter()
            .map(|(stream, shards)| {
                let map = shards
                    .iter()
                    .map(|s| (s.id.clone(), s.parents().map(str::to_owned).collect()))
                    .collect();
                (stream.clone(), map)
            })
            .collect();
        Self {
            status: vec![Status::Pending; pointers.len()],
            pointers,
            by_shard,
            parents,
        }
    }

    pub fn pointer(&self, i: usize) -> &Pointer {
        &self.pointers[i]
    }

    /// The shard and every shard it descends from.
    fn lineage(&self, stream: &str, shard: &str) -> Vec<String> {
        let mut lineage = vec![shard.to_owned()];
        let mut next = 0;
        while next < lineage.len() {
            if let Some(parents) = self.parents.get(stream).and_then(|p| p.get(&lineage[next])) {
                for parent in parents {
                    if !lineage.contains(parent) {
                        lineage.push(parent.clone());
                    }
                }
            }
            next += 1;
        }
        lineage
    }

    /// Pointers that may go now (their earlier pointers and ancestors'
    /// pointers ended); marks them running. Pointers that can never go (a
    /// range they wait for failed) are marked blocked.
    pub fn ready(&mut self) -> Vec<usize> {
        let mut ready = Vec::new();
        let keys: Vec<(String, String)> = self.by_shard.keys().cloned().collect();
        for (stream, shard) in keys {
            let lineage = self.lineage(&stream, &shard);
            let mut waits = false;
            let mut blocked = false;
            for ancestor in &lineage {
                let Some(list) = self.by_shard.get(&(stream.clone(), ancestor.clone())) else {
                    continue;
                };
                for &i in list {
                    let own = ancestor == &shard;
                    match self.status[i] {
                        Status::Ended(Ending::Failed) | Status::Blocked => blocked = true,
                        Status::Pending | Status::Running if !own => waits = true,
                        _ => {}
                    }
                }
            }
            let own = &self.by_shard[&(stream.clone(), shard.clone())];
            // The shard's own pointers go one at a time, in order.
            let Some(&next) = own
                .iter()
                .find(|&&i| !matches!(self.status[i], Status::Ended(_) | Status::Blocked))
            else {
                continue;
            };
            if self.status[next] == Status::Running {
                continue;
            }
            let earlier_failed = own
                .iter()
                .take_while(|&&i| i != next)
                .any(|&i| self.status[i] == Status::Ended(Ending::Failed));
            if blocked || earlier_failed {
                for &i in own {
                    if self.status[i] == Status::Pending {
                        self.status[i] = Status::Blocked;
                    }
                }
            } else if !waits {
                self.status[next] = Status::Running;
                ready.push(next);
            }
        }
        ready
    }

    pub fn ended(&mut self, i: usize, ending: Ending) {
        self.status[i] = Status::Ended(ending);
    }

    /// Pointers never attempted because a range they wait for failed.
    pub fn blocked(&self) -> Vec<usize> {
        (0..self.pointers.len())
            .filter(|&i| self.status[i] == Status::Blocked)
            .collect()
    }

    pub fn is_finished(&self) -> bool {
        self.status
            .iter()
            .all(|s| matches!(s, Status::Ended(_) | Status::Blocked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointer(shard: &str, start: u64, end: u64, batch_size: u64) -> Pointer {
        Pointer {
            stream_arn: "arn:aws:kinesis:us-east-1:1:stream/s".into(),
            shard_id: shard.into(),
            start_sequence_number: start.to_string(),
            end_sequence_number: end.to_string(),
            batch_size,
            condition: "RetryAttemptsExhausted".into(),
        }
    }

    fn record(sequence: u64, key: &str) -> StreamRecord {
        StreamRecord {
            shard_id: "a".into(),
            sequence_number: sequence.to_string(),
            partition_key: key.into(),
            data: br#"{"kind": "keep"}"#.to_vec(),
            arrival: 0.0,
        }
    }

    #[test]
    fn reads_pointers_plain_and_inside_an_sns_notification() {
        let body = r#"{"requestContext": {"condition": "RecordAgeExceeded"},
            "KinesisBatchInfo": {"shardId": "s", "startSequenceNumber": "11", "endSequenceNumber": "19",
                                 "batchSize": 9, "streamArn": "arn:aws:kinesis:us-east-1:1:stream/m"}}"#;
        let plain = Pointer::parse(body).unwrap();
        assert_eq!(plain.batch_size, 9);
        assert_eq!(plain.condition, "RecordAgeExceeded");
        let wrapped = serde_json::json!({"Type": "Notification", "Message": body}).to_string();
        assert_eq!(Pointer::parse(&wrapped), Some(plain));
        assert_eq!(Pointer::parse(r#"{"reason": "not_json"}"#), None);
        assert_eq!(Pointer::parse("hello"), None);
    }

    #[test]
    fn picks_the_pointers_lane_and_what_the_filter_keeps_once() {
        let keys: Vec<String> = (0..20).map(|i| format!("k{i}")).collect();
        let first = keys.iter().find(|k| lane_of(k, 3) == 0).unwrap().clone();
        let mut range = vec![record(10, &first)];
        range.extend((0..20).map(|i| record(11 + i as u64, &keys[i])));
        let p = pointer("a", 10, 30, 0);
        let selection = Selection {
            lanes: Some(3),
            filter: FilterCriteria::default(),
        };
        let picked = pick(&p, &range, &selection, &HashSet::new());
        assert!(picked
            .records
            .iter()
            .all(|r| lane_of(&r.partition_key, 3) == 0));
        assert_eq!(picked.found, 21);
        assert_eq!(picked.records.len() + picked.other_lanes, 21);
        let again: HashSet<String> = picked
            .records
            .iter()
            .map(|r| r.sequence_number.clone())
            .collect();
        let twice = pick(&p, &range, &selection, &again);
        assert!(
            twice.records.is_empty(),
            "an overlapping pointer delivers nothing twice"
        );
        assert_eq!(twice.already_delivered, picked.records.len());
        let sized = Pointer {
            batch_size: picked.records.len() as u64,
            ..p.clone()
        };
        assert_eq!(picked.mismatch(&sized), None);
        assert!(picked.mismatch(&Pointer { batch_size: 1, ..p }).is_some());
    }

    #[test]
    fn parents_go_before_children_and_an_aged_out_range_blocks_nothing() {
        let graph = vec![
            Shard::new("p", None, None),
            Shard::new("c", Some("p"), None),
        ];
        let graphs = HashMap::from([("arn:aws:kinesis:us-east-1:1:stream/s".to_owned(), graph)]);
        let pointers = vec![
            pointer("c", 50, 60, 1),
            pointer("p", 20, 30, 1),
            pointer("p", 1, 5, 1),
        ];
        let mut schedule = Schedule::new(pointers, &graphs);
        assert_eq!(schedule.ready(), [2], "the parent's first range alone");
        schedule.ended(2, Ending::AgedOut);
        assert_eq!(
            schedule.ready(),
            [1],
            "an aged-out range does not block the next"
        );
        assert!(
            schedule.ready().is_empty(),
            "one at a time per shard; the child waits"
        );
        schedule.ended(1, Ending::Done);
        assert_eq!(schedule.ready(), [0]);
        schedule.ended(0, Ending::Done);
        assert!(schedule.is_finished());
    }

    #[test]
    fn a_failed_range_blocks_its_shard_and_its_children() {
        let graph = vec![
            Shard::new("p", None, None),
            Shard::new("c", Some("p"), None),
            Shard::new("other", None, None),
        ];
        let graphs = HashMap::from([("arn:aws:kinesis:us-east-1:1:stream/s".to_owned(), graph)]);
        let pointers = vec![
            pointer("p", 1, 5, 1),
            pointer("p", 6, 9, 1),
            pointer("c", 50, 60, 1),
            pointer("other", 3, 4, 1),
        ];
        let mut schedule = Schedule::new(pointers, &graphs);
        let mut first = schedule.ready();
        first.sort_unstable();
        assert_eq!(first, [0, 3], "unrelated shards go side by side");
        schedule.ended(0, Ending::Failed);
        schedule.ended(3, Ending::Done);
        assert!(schedule.ready().is_empty());
        let mut blocked = schedule.blocked();
        blocked.sort_unstable();
        assert_eq!(blocked, [1, 2]);
        assert!(schedule.is_finished());
    }
}
