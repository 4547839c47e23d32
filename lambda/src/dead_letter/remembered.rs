//! Letters SQS accepted for records that were then reported for retry.
//!
//! Kinesis retries whole records from the first one reported. An aggregate
//! of 10,000 poison user records whose letters do not all go out before the
//! deadline (or one of whose letters is refused) comes back whole; without
//! a memory each retry would send the same prefix again and never get
//! further. The container remembers what it sent for the records it
//! reported, and the retry skips those letters. Bounded: forgetting costs a
//! repeated letter, never a lost one. A retry that lands in another
//! container sends them again (the letters' `letter_id` says they are the
//! same).

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::DeadLetter;

/// Letters remembered at most: 100,000 keys of 16 bytes, twice.
const CAPACITY: usize = 100_000;

#[derive(Default)]
pub(super) struct Remembered {
    keys: HashSet<u128>,
    /// Insertion order, for forgetting the oldest first (may hold keys
    /// already forgotten).
    order: VecDeque<u128>,
}

impl Remembered {
    pub fn contains(&self, letter: &DeadLetter) -> bool {
        self.keys.contains(&key(letter))
    }

    pub fn remember(&mut self, letter: &DeadLetter) {
        let key = key(letter);
        if self.keys.insert(key) {
            self.order.push_back(key);
        }
        while self.keys.len() > CAPACITY {
            match self.order.pop_front() {
                Some(oldest) => self.keys.remove(&oldest),
                None => break,
            };
        }
        if self.order.len() > 2 * CAPACITY {
            let keys = &self.keys;
            self.order.retain(|k| keys.contains(k));
        }
    }

    /// The letter's record is done: it will not come again.
    pub fn forget(&mut self, letter: &DeadLetter) {
        self.keys.remove(&key(letter));
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.keys.len()
    }
}

/// 128 bits of the record's identity: its stream, shard, sequence and
/// subsequence numbers and its arrival time (a stream deleted and created
/// again numbers its records anew; the arrival time tells them apart).
fn key(letter: &DeadLetter) -> u128 {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        letter.event_source_arn.hash(&mut hasher);
        letter.shard_id.hash(&mut hasher);
        letter.sequence_number.hash(&mut hasher);
        letter.subsequence_number.hash(&mut hasher);
        letter
            .approximate_arrival_timestamp
            .map(f64::to_bits)
            .hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::InputRecord;

    fn letter(sequence: u64, arrival: f64) -> DeadLetter {
        let mut record = InputRecord {
            event_id: format!("shardId-000000000000:{sequence}"),
            ..InputRecord::default()
        };
        record.kinesis.sequence_number = sequence.to_string();
        record.kinesis.approximate_arrival_timestamp = Some(arrival);
        DeadLetter::new(&record, None, "not_json", String::new())
    }

    #[test]
    fn remembers_until_forgotten_and_tells_records_apart() {
        let mut remembered = Remembered::default();
        remembered.remember(&letter(1, 10.0));
        assert!(remembered.contains(&letter(1, 10.0)));
        assert!(!remembered.contains(&letter(2, 10.0)));
        assert!(
            !remembered.contains(&letter(1, 11.0)),
            "a stream created again numbers from 1 again"
        );
        remembered.forget(&letter(1, 10.0));
        assert!(!remembered.contains(&letter(1, 10.0)));
    }

    #[test]
    fn forgets_the_oldest_beyond_its_capacity() {
        let mut remembered = Remembered::default();
        for i in 0..(CAPACITY as u64 + 10) {
            remembered.remember(&letter(i, 1.0));
        }
        assert_eq!(remembered.len(), CAPACITY);
        assert!(!remembered.contains(&letter(0, 1.0)));
        assert!(remembered.contains(&letter(CAPACITY as u64 + 9, 1.0)));
    }
}
