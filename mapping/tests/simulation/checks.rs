//! The invariants, checked as the simulation goes:
//!
//! - nothing skipped: every record at or below a saved checkpoint (or saved
//!   as finished above it), and every record of a shard saved as closed, was
//!   processed, recorded in the destination or dropped by the filter; at the
//!   end, every record within the mapping's reach was;
//! - order: per partition key, a record's first delivery comes after every
//!   earlier record of the key was delivered or given up on;
//! - repeats: a record the mapping was told is done (processed, or in the
//!   destination) is never delivered again, restarts included, so a restart
//!   repeats only what was in flight;
//! - retries: a batch given up as RetryAttemptsExhausted was invoked exactly
//!   1 + MaximumRetryAttempts times without progress (the invocation record
//!   says so), throttles not counted; a retry of the same records waits the
//!   backoff; no invocation carries a record older than the maximum age, and
//!   every record given up for its age is older than that.

use mapping::destination::Condition;
use mapping::engine::InvokeError;
use mapping::sequence;
use mapping::StreamRecord;
use serde_json::Value;

use super::world::World;

/// Time stamps are seconds; the engine and the checks compute the same sums.
const EPSILON: f64 = 1e-6;

fn set_of(records: &[StreamRecord]) -> Vec<String> {
    records.iter().map(|r| r.sequence_number.clone()).collect()
}

impl World {
    /// Record `i` reaches the function, after `before` in the same batch.
    pub fn delivered(&mut self, i: usize, before: &[usize]) {
        let record = &self.records[i];
        if record.deliveries > 0 && record.finished_at_engine {
            self.violations.push(format!(
                "record {} ({}) delivered again after the mapping was told it was done",
                record.record.sequence_number, record.key
            ));
        }
        if record.deliveries == 0 {
            for earlier in self.records[..i].iter().rev() {
                if earlier.key != record.key || !earlier.expected || earlier.filtered {
                    continue;
                }
                let in_batch = before.contains(&earlier.index);
                if earlier.deliveries == 0 && !earlier.sent && !in_batch {
                    self.violations.push(format!(
                        "key {}: record {} delivered before the earlier record {} (never delivered or given up)",
                        record.key, record.record.sequence_number, earlier.record.sequence_number
                    ));
                    break;
                }
            }
        }
    }

    /// The mapping starts an invocation now.
    pub fn check_invoke(&mut self, records: &[StreamRecord]) -> Result<(), String> {
        if let Some(max) = self.settings.maximum_record_age {
            if let Some(old) = records
                .iter()
                .find(|r| r.age(self.now) > max.as_secs_f64() + EPSILON)
            {
                return Err(format!(
                    "invoked record {} aged {:.1} s, over the maximum age",
                    old.sequence_number,
                    old.age(self.now)
                ));
            }
        }
        if records.is_empty() {
            return Ok(());
        }
        let history = self
            .history
            .get(&set_of(records))
            .cloned()
            .unwrap_or_default();
        let backoff = self.config.backoff;
        if history.throttles > 0
            && self.now + EPSILON < history.last + backoff.delay(history.throttles)
        {
            return Err(format!(
                "records {}.. invoked {:.3} s after their throttle #{}, before the backoff's {} s",
                records[0].sequence_number,
                self.now - history.last,
                history.throttles,
                backoff.delay(history.throttles)
            ));
        }
        if history.failures > 0
            && self.now + EPSILON < history.last + backoff.delay(history.failures)
        {
            return Err(format!(
                "records {}.. retried {:.3} s after failure #{}, before the backoff's {} s",
                records[0].sequence_number,
                self.now - history.last,
                history.failures,
                backoff.delay(history.failures)
            ));
        }
        Ok(())
    }

    /// The mapping gives `records` up now with invocation record `record`.
    pub fn check_give_up(
        &mut self,
        record: &Value,
        records: &[StreamRecord],
    ) -> Result<(), String> {
        let condition = record["requestContext"]["condition"]
            .as_str()
            .unwrap_or_default();
        let count = record["requestContext"]["approximateInvokeCount"]
            .as_u64()
            .unwrap_or(0);
        let info = &record["KinesisBatchInfo"];
        if info["batchSize"].as_u64() != Some(records.len() as u64)
            || info["startSequenceNumber"].as_str()
                != records.first().map(|r| r.sequence_number.as_str())
            || info["endSequenceNumber"].as_str()
                != records.last().map(|r| r.sequence_number.as_str())
        {
            return Err(format!(
                "the invocation record does not describe its records: {info}"
            ));
        }
        if condition == Condition::RecordAgeExceeded.as_str() {
            let max = self
                .settings
                .maximum_record_age
                .expect("age given up only with a maximum");
            if let Some(young) = records
                .iter()
                .find(|r| r.age(self.now) <= max.as_secs_f64())
            {
                return Err(format!(
                    "record {} given up for its age while young",
                    young.sequence_number
                ));
            }
            return Ok(());
        }
        let max = self
            .settings
            .maximum_retry_attempts
            .ok_or("records given up for retries without a maximum")?;
        let failures = self.history.get(&set_of(records)).map_or(0, |h| h.failures);
        if u64::from(max) + 1 != count || failures != max + 1 {
            return Err(format!(
                "records {}.. given up after {failures} failed invocations (approximateInvokeCount {count}); expected 1 + MaximumRetryAttempts = {}",
                records[0].sequence_number,
                max + 1
            ));
        }
        Ok(())
    }

    /// An invocation's result reaches the mapping now.
    pub fn returned(
        &mut self,
        records: &[StreamRecord],
        result: &Result<Value, InvokeError>,
    ) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let set = set_of(records);
        let entry = self.history.entry(set).or_default();
        entry.last = self.now;
        let done = match result {
            Err(InvokeError::Service(_)) => {
                entry.throttles += 1;
                return Ok(());
            }
            Err(InvokeError::Function(_)) => 0,
            Ok(response) if self.settings.report_batch_item_failures => {
                let failed = response["batchItemFailures"]
                    .as_array()
                    .map_or(Vec::new(), |a| {
                        a.iter()
                            .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                            .collect()
                    });
                records
                    .iter()
                    .position(|r| failed.contains(&r.sequence_number))
                    .unwrap_or(records.len())
            }
            Ok(_) => records.len(),
        };
        entry.throttles = 0;
        if done == 0 {
            entry.failures += 1;
        } else {
            entry.failures = 0;
        }
        for r in &records[..done] {
            let i = self.by_sequence[&r.sequence_number];
            self.records[i].finished_at_engine = true;
        }
        Ok(())
    }

    fn accounted(&self, i: usize) -> bool {
        let r = &self.records[i];
        r.processed || r.sent || r.filtered || !r.expected
    }

    /// Nothing skipped, by the saved state.
    pub fn check_state(&mut self) -> Result<(), String> {
        if let Some(violation) = self.violations.first() {
            return Err(violation.clone());
        }
        let Some(state) = &self.saved else {
            return Ok(());
        };
        for shard in &self.shards {
            let closed = state.closed.contains(&shard.id);
            let progress = state.shards.get(&shard.id);
            let checkpoint = progress.and_then(|p| p.checkpoint.as_deref());
            for &i in &shard.records {
                let sequence_number = &self.records[i].record.sequence_number;
                let covered = closed
                    || checkpoint.is_some_and(|c| sequence::compare(sequence_number, c).is_le())
                    || progress.is_some_and(|p| p.finished_above.contains(sequence_number));
                if covered && !self.accounted(i) {
                    return Err(format!(
                        "record {sequence_number} of {} is behind the saved checkpoint ({checkpoint:?}, closed {closed}) but was never processed nor given up: skipped",
                        shard.id
                    ));
                }
            }
        }
        Ok(())
    }

    /// Records within the mapping's reach not yet processed or given up.
    pub fn unaccounted(&self) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| !self.accounted(i))
            .collect()
    }
}
