//! Redrive over what the mapping gave up on in a seeded run: the pointers
//! that reached the destination (lanes, filters, reshards and restarts made
//! them), plus a duplicate, an overlapping one and an aged-out one before a
//! live one, go back through the engine's schedule and range selection.
//! Each range is read out of the shard by the project's own `range_of`, as
//! redrive reads it out of a stream. Checked: exactly the records given up
//! on are delivered, each once, and per partition key in the order they were
//! written (parents before children), except those the stream's retention
//! trimmed first (their range reads as aged out); every live pointer's
//! `batchSize` matches what was picked.

use std::collections::{BTreeMap, HashMap, HashSet};

use mapping::engine::redrive::{pick, range_of, Ending, Pointer, Range, Schedule, Selection};
use mapping::sequence;
use serde_json::Value;

use super::world::World;

const STREAM_ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/sim";

impl World {
    pub fn redrive_given_up(&mut self) -> Result<(), String> {
        let mut given_up: HashSet<String> = HashSet::new();
        let mut pointers: Vec<(Pointer, bool, u32)> = Vec::new();
        for (record, records, lanes) in &self.pointers {
            let pointer = Pointer::parse(&record.to_string())
                .ok_or("an invocation record that is not a pointer")?;
            // A range whose start retention removed can never come back.
            let first = self.by_sequence[&records[0].sequence_number];
            let live = !self.records[first].trimmed;
            if live {
                given_up.extend(records.iter().map(|r| r.sequence_number.clone()));
            }
            pointers.push((pointer, live, *lanes));
        }
        if let Some(i) =
            (!pointers.is_empty()).then(|| self.rng.below(pointers.len() as u64) as usize)
        {
            // SQS delivers at least once: the same pointer twice.
            pointers.push(pointers[i].clone());
            // A narrowed copy: the rest of a range after its first record.
            let (record, records, lanes) = &self.pointers[i];
            if records.len() > 1 && pointers[i].1 {
                let mut narrowed = record.clone();
                narrowed["KinesisBatchInfo"]["startSequenceNumber"] =
                    Value::from(records[1].sequence_number.clone());
                narrowed["KinesisBatchInfo"]["batchSize"] = Value::from(records.len() - 1);
                pointers.push((
                    Pointer::parse(&narrowed.to_string()).expect("a pointer"),
                    true,
                    *lanes,
                ));
            }
            // A range the stream no longer holds, before a live one of the same shard.
            let live = &pointers[i].0;
            let mut aged = live.clone();
            aged.start_sequence_number = "1".into();
            aged.end_sequence_number = "2".into();
            aged.batch_size = 1;
            pointers.push((aged, false, 1));
        }
        let order: Vec<usize> = {
            let mut order: Vec<usize> = (0..pointers.len()).collect();
            // Received in any order.
            for k in (1..order.len()).rev() {
                let j = self.rng.below(k as u64 + 1) as usize;
                order.swap(k, j);
            }
            order
        };
        let pointers: Vec<(Pointer, bool, u32)> =
            order.into_iter().map(|i| pointers[i].clone()).collect();
        let graphs = HashMap::from([(STREAM_ARN.to_owned(), self.shard_list())]);
        let mut schedule =
            Schedule::new(pointers.iter().map(|(p, ..)| p.clone()).collect(), &graphs);
        // Redrive is told the lanes of the mapping that gave each range up.
        let selection = |lanes: u32| Selection {
            lanes: Some(lanes as usize),
            filter: self.settings.filter.clone(),
        };
        let mut delivered: Vec<String> = Vec::new();
        let mut once: HashSet<String> = HashSet::new();
        // Processed records a regrouped range sends again.
        let mut again: HashSet<String> = HashSet::new();
        let mut regrouped_ranges = 0;
        loop {
            let ready = schedule.ready();
            if ready.is_empty() {
                break;
            }
            for i in ready {
                let (pointer, live, lanes) = &pointers[i];
                let shard = self
                    .shards
                    .iter()
                    .find(|s| s.id == pointer.shard_id)
                    .ok_or("a pointer to an unknown shard")?;
                // What reading the shard at the pointer's start returns: the
                // records it still holds from there on.
                let read: Vec<_> = shard.records[shard.trimmed..]
                    .iter()
                    .map(|&r| self.records[r].record.clone())
                    .filter(|r| {
                        sequence::compare(&r.sequence_number, &pointer.start_sequence_number)
                            .is_ge()
                    })
                    .collect();
                let range = match range_of(pointer, read) {
                    Range::Held(range) => range,
                    Range::AgedOut { .. } if !*live => {
                        schedule.ended(i, Ending::AgedOut);
                        continue;
                    }
                    other => {
                        return Err(format!(
                            "the range of a live pointer at {} reads as {other:?}",
                            pointer.start_sequence_number
                        ))
                    }
                };
                if !*live {
                    return Err(format!(
                        "a range the stream no longer holds, at {}, reads as held",
                        pointer.start_sequence_number
                    ));
                }
                let picked = pick(pointer, &range, &selection(*lanes), &once);
                if let Some(mismatch) = picked.mismatch(pointer) {
                    // After a new parallelization factor regrouped the
                    // lanes, a batch can skip records the old lanes gave up
                    // (another pointer has them, or the destination refused
                    // theirs) or processed; a pointer
                    // (start, end, batchSize) cannot say so. Redrive sends
                    // each once in this run and the processed ones again (at
                    // least once), and says so. Nothing else may differ.
                    let extra: Vec<&mapping::StreamRecord> = picked
                        .records
                        .iter()
                        .filter(|r| !given_up.contains(&r.sequence_number))
                        .collect();
                    let regrouped = self.lanes_regrouped
                        && extra.iter().all(|r| {
                            let record = &self.records[self.by_sequence[&r.sequence_number]];
                            record.processed || record.refused
                        });
                    if !regrouped {
                        return Err(format!(
                            "redrive of {}..: {mismatch}",
                            pointer.start_sequence_number
                        ));
                    }
                    regrouped_ranges += 1;
                    again.extend(extra.iter().map(|r| r.sequence_number.clone()));
                }
                for r in &picked.records {
                    once.insert(r.sequence_number.clone());
                    delivered.push(r.sequence_number.clone());
                }
                schedule.ended(i, Ending::Done);
            }
        }
        for _ in 0..regrouped_ranges {
            self.hit("redrive: a range regrouped by a new parallelization factor, records processed sent again");
        }
        if !schedule.blocked().is_empty() {
            return Err(format!(
                "{} pointers blocked though nothing failed",
                schedule.blocked().len()
            ));
        }
        let got: HashSet<String> = delivered.iter().cloned().collect();
        if got.len() != delivered.len() {
            return Err("redrive delivered a record twice".into());
        }
        let got: HashSet<String> = got.difference(&again).cloned().collect();
        if got != given_up {
            let extra = got.difference(&given_up).count();
            let missing = given_up.difference(&got).count();
            return Err(format!("redrive delivered {extra} records the mapping did not give up on and missed {missing} it did"));
        }
        let mut last: BTreeMap<&str, usize> = BTreeMap::new();
        for sequence_number in &delivered {
            let record = &self.records[self.by_sequence[sequence_number]];
            if let Some(previous) = last.insert(record.key.as_str(), record.index) {
                if previous > record.index {
                    return Err(format!(
                        "redrive delivered {} of {} before an earlier record of its key",
                        sequence_number, record.key
                    ));
                }
            }
        }
        Ok(())
    }
}
