//! What AWS promises of a Kinesis event-source mapping, written from its
//! documentation and the behaviour recorded against it, not from the
//! engine's code (the constants are this file's own; nothing here calls the
//! engine's retry rules), checked as the simulation goes:
//!
//! - no loss: every record within the mapping's reach is processed by the
//!   function, recorded in the on-failure destination, counted as a
//!   destination delivery failure (the destination refused it: AWS drops
//!   such records and counts them in `DestinationDeliveryFailures`, and so
//!   must the engine, exactly), dropped by the filter, or trimmed by the
//!   stream's retention before it was processed; nothing at or behind a
//!   saved checkpoint (or saved as finished above it, or of a shard saved as
//!   closed) is missing any of those;
//! - order: no record is first processed after a later record of its
//!   partition key was processed (across retries, bisection, partial
//!   failures, restarts and reshards); with one lane (ParallelizationFactor
//!   1), no record is first processed after a later record of its shard;
//!   and a record is first delivered only once every earlier record of its
//!   key was delivered or given up on;
//! - repeats: what the mapping learns is done (processed, or recorded in the
//!   destination) is saved before the step that learnt it ends, and a record
//!   saved as done (at or behind a saved checkpoint, saved as finished above
//!   one, or of a shard saved as closed) is never delivered again: a restart
//!   repeats at most the batches in flight and those finished in the step
//!   the crash cut short;
//! - retries: a failure without progress retries the same records, counted;
//!   a partial failure that made progress starts a new batch of the rest,
//!   not counted; bisection splits without counting and invokes the first
//!   half at once; a throttle is retried and never counted; a batch given up
//!   as RetryAttemptsExhausted was invoked exactly 1 + MaximumRetryAttempts
//!   times without progress (its invocation record says so; records given
//!   up for their age leave the rest of their batch its count); a retry comes
//!   neither before nor after its backoff is over (0.25 s doubling to 60 s,
//!   the n-th retry of the same records after `0.25 × 2^(n-1)` s; the rest
//!   of a partial failure after 0.25 s); no invocation carries a record
//!   older than the maximum age, and every record given up for its age is
//!   older than that;
//! - `Enabled`: no read starts while the mapping is disabled.

use mapping::destination::Condition;
use mapping::engine::InvokeError;
use mapping::sequence;
use mapping::state::MappingState;
use mapping::StreamRecord;
use serde_json::Value;

use super::world::World;

/// Time stamps are seconds; sums of the same numbers agree to this.
const EPSILON: f64 = 1e-6;

/// AWS's retry schedule (not published by AWS; recorded against it: a
/// lasting failure gets 8 invocations in its first minute, then one a
/// minute).
const FIRST_RETRY_SECONDS: f64 = 0.25;
const LONGEST_RETRY_SECONDS: f64 = 60.0;

/// The wait before the `n`-th retry of the same records (n ≥ 1).
fn retry_delay(n: u32) -> f64 {
    let mut delay = FIRST_RETRY_SECONDS;
    for _ in 1..n {
        delay *= 2.0;
        if delay >= LONGEST_RETRY_SECONDS {
            return LONGEST_RETRY_SECONDS;
        }
    }
    delay.min(LONGEST_RETRY_SECONDS)
}

fn set_of(records: &[StreamRecord]) -> Vec<String> {
    records.iter().map(|r| r.sequence_number.clone()).collect()
}

impl World {
    /// Record `i` reaches the function, after `before` in the same batch.
    pub fn delivered(&mut self, i: usize, before: &[usize]) {
        let record = &self.records[i];
        if record.saved_done {
            self.violations.push(format!(
                "record {} ({}) delivered again after the mapping saved it as done",
                record.record.sequence_number, record.key
            ));
        }
        if record.deliveries == 0 {
            for earlier in self.records[..i].iter().rev() {
                if earlier.key != record.key || !earlier.expected || earlier.filtered {
                    continue;
                }
                let in_batch = before.contains(&earlier.index);
                if earlier.deliveries == 0
                    && !earlier.sent
                    && !earlier.refused
                    && !earlier.trimmed
                    && !in_batch
                {
                    self.violations.push(format!(
                        "key {}: record {} delivered before the earlier record {} (never delivered or given up)",
                        record.key, record.record.sequence_number, earlier.record.sequence_number
                    ));
                    break;
                }
            }
        }
    }

    /// Record `i` is processed by the function, after `before` of the same
    /// invocation. Only a first processing is held to the order (a repeat
    /// after a restart comes after what followed it, as AWS allows).
    pub fn processed(&mut self, i: usize, before: &[usize]) {
        let record = &self.records[i];
        if record.processed {
            return;
        }
        let settled = |e: &super::world::SimRecord| {
            !e.expected
                || e.filtered
                || e.processed
                || e.sent
                || e.refused
                || e.trimmed
                || before.contains(&e.index)
        };
        if let Some(earlier) = self.records[..i]
            .iter()
            .find(|e| e.key == record.key && !settled(e))
        {
            self.violations.push(format!(
                "key {}: record {} processed while the earlier record {} was not processed nor given up",
                record.key, record.record.sequence_number, earlier.record.sequence_number
            ));
            return;
        }
        if self.settings.parallelization_factor == 1 {
            let shard = self
                .shards
                .iter()
                .find(|s| s.id == record.record.shard_id)
                .expect("its shard");
            if let Some(&earlier) = shard
                .records
                .iter()
                .take_while(|&&e| e != i)
                .find(|&&e| !settled(&self.records[e]))
            {
                self.violations.push(format!(
                    "shard {} (one lane): record {} processed while the earlier record {} was not processed nor given up",
                    shard.id, record.record.sequence_number, self.records[earlier].record.sequence_number
                ));
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
        let Some(first) = records.first() else {
            return Ok(());
        };
        self.due.remove(&first.sequence_number);
        let history = self.history.get(&set_of(records));
        if let Some(history) = history.filter(|h| self.now + EPSILON < h.earliest) {
            return Err(format!(
                "records {}.. invoked {:.3} s after their last invocation returned, before their backoff of {:.3} s was over",
                first.sequence_number,
                self.now - history.last,
                history.earliest - history.last
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
        if let Some(first) = records.first() {
            self.due.remove(&first.sequence_number);
        }
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
            // The rest of their batch is the same batch: it keeps its count.
            // Not so the second half of a bisected batch whose first half
            // was given up (seed 97724): a half starts its own count.
            let given_up = set_of(records);
            let inherited = self
                .history
                .iter()
                .find(|(set, history)| {
                    !history.split && set.len() > given_up.len() && set.starts_with(&given_up)
                })
                .map(|(set, history)| (set[given_up.len()..].to_vec(), history.clone()));
            if let Some((rest, history)) = inherited {
                self.history.insert(rest, history);
            }
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
        let history = self
            .history
            .get(&set_of(records))
            .cloned()
            .unwrap_or_default();
        let failures = history.failures;
        // At the first failure past the limit; a limit lowered meanwhile
        // gives up at the next failure, however many came before.
        let expected = if history.retry_limit_changed {
            count == u64::from(failures) && failures > max
        } else {
            u64::from(max) + 1 == count && failures == max + 1
        };
        if !expected {
            return Err(format!(
                "records {}.. given up after {failures} failed invocations (approximateInvokeCount {count}); expected 1 + MaximumRetryAttempts = {}",
                records[0].sequence_number,
                max + 1
            ));
        }
        Ok(())
    }

    /// An invocation's result reaches the mapping now: what AWS does next,
    /// and when.
    pub fn returned(
        &mut self,
        records: &[StreamRecord],
        result: &Result<Value, InvokeError>,
    ) -> Result<(), String> {
        if records.is_empty() {
            return Ok(());
        }
        let now = self.now;
        let set = set_of(records);
        let first = set[0].clone();
        let entry = self.history.entry(set.clone()).or_default();
        entry.last = now;
        let done = match result {
            Err(InvokeError::Service(_)) => {
                entry.throttles += 1;
                entry.earliest = now + retry_delay(entry.throttles);
                let due = entry.earliest;
                self.due
                    .insert(first, (due, format!("throttle #{}", entry.throttles)));
                return Ok(());
            }
            Err(InvokeError::Function(_)) => 0,
            Ok(response) if self.settings.report_batch_item_failures => {
                first_failed(response, records).unwrap_or(records.len())
            }
            Ok(_) => records.len(),
        };
        entry.throttles = 0;
        let function_error = result.is_err();
        if done == records.len() {
            entry.failures = 0;
        } else if done > 0 {
            // Progress: the rest is a new batch, after the first backoff.
            entry.failures = 0;
            let rest = set[done..].to_vec();
            let rest_history = self.history.entry(rest.clone()).or_default();
            *rest_history = Default::default();
            rest_history.last = now;
            rest_history.earliest = now + retry_delay(1);
            self.due.insert(
                rest[0].clone(),
                (now + retry_delay(1), "the rest of a partial failure".into()),
            );
        } else if function_error && self.settings.bisect_on_error && records.len() > 1 {
            // Split, not a retry: the first half goes at once.
            entry.split = true;
            let half = records.len() / 2;
            self.history.entry(set[..half].to_vec()).or_default();
            self.due
                .insert(first, (now, "the first half of a bisection".into()));
        } else {
            entry.failures += 1;
            let failures = entry.failures;
            if self
                .settings
                .maximum_retry_attempts
                .is_some_and(|max| failures > max)
            {
                self.due.insert(first, (now, "a give-up".into()));
            } else {
                entry.earliest = now + retry_delay(failures);
                let due = entry.earliest;
                self.due.insert(first, (due, format!("retry #{failures}")));
            }
        }
        for r in &records[..done] {
            let i = self.by_sequence[&r.sequence_number];
            self.told_done.push(i);
        }
        Ok(())
    }

    /// A state was saved: what it covers is done for good.
    pub fn mark_saved(&mut self, state: &MappingState) {
        for i in self.covered(state) {
            self.records[i].saved_done = true;
            self.newly_saved.push(i);
        }
    }

    /// The records a saved state says are done: per shard, those at or
    /// behind its checkpoint, those finished above it, all of a closed
    /// shard. Only what is new since the last call (`covered_prefix`): what
    /// was covered stays covered.
    fn covered(&mut self, state: &MappingState) -> Vec<usize> {
        let mut covered = Vec::new();
        for s in 0..self.shards.len() {
            let shard = &self.shards[s];
            let closed = state.closed.contains(&shard.id);
            let progress = state.shards.get(&shard.id);
            let prefix = if closed {
                shard.records.len()
            } else {
                match progress.and_then(|p| p.checkpoint.as_deref()) {
                    Some(checkpoint) => shard.records.partition_point(|&i| {
                        sequence::compare(&self.records[i].record.sequence_number, checkpoint)
                            .is_le()
                    }),
                    None => 0,
                }
            };
            let from = self.covered_prefix[s].min(prefix);
            covered.extend_from_slice(&shard.records[from..prefix]);
            self.covered_prefix[s] = self.covered_prefix[s].max(prefix);
            if let Some(progress) = progress {
                covered.extend(
                    progress
                        .finished_above
                        .iter()
                        .filter_map(|sequence| self.by_sequence.get(sequence).copied()),
                );
            }
        }
        covered
    }

    /// After the engine handled an event: every retry that was due is under
    /// way, and its count of destination delivery failures is exact.
    pub fn check_after_handle(&mut self) -> Result<(), String> {
        let Some(engine) = &self.engine else {
            return Ok(());
        };
        if let Some(&unsaved) = self
            .told_done
            .iter()
            .find(|&&i| !self.records[i].saved_done)
        {
            return Err(format!(
                "record {} is done, but the step that learnt it ended without saving it",
                self.records[unsaved].record.sequence_number
            ));
        }
        self.told_done.clear();
        let counted = self.refusals_counted_before + engine.summary().destination_delivery_failures;
        if counted != self.refused {
            return Err(format!(
                "the destination refused {} records and the mapping counted {counted} destination delivery failures",
                self.refused
            ));
        }
        if self.stopping {
            return Ok(());
        }
        // Past due by more than the clocks' rounding: an engine woken at
        // the due time starts the retry then.
        if let Some((first, (due, what))) = self
            .due
            .iter()
            .find(|(_, (due, _))| *due < self.now - EPSILON)
        {
            return Err(format!(
                "{what} of records {first}.. was due at t={:.3} and had not started by t={:.3}",
                due - 1_800_000_000.0,
                self.now - 1_800_000_000.0
            ));
        }
        Ok(())
    }

    fn accounted(&self, i: usize) -> bool {
        let r = &self.records[i];
        r.processed || r.sent || r.refused || r.filtered || r.trimmed || !r.expected
    }

    /// Nothing skipped, by the saved state (each new save's coverage is
    /// checked when it is saved: what a record is accounted for by never
    /// changes).
    pub fn check_state(&mut self) -> Result<(), String> {
        if let Some(violation) = self.violations.first() {
            return Err(violation.clone());
        }
        if let Some(&i) = self.newly_saved.iter().find(|&&i| !self.accounted(i)) {
            let record = &self.records[i].record;
            return Err(format!(
                "record {} of {} is covered by the saved state (checkpoint, finished above it, or a closed shard) but was never processed nor given up: skipped",
                record.sequence_number, record.shard_id
            ));
        }
        self.newly_saved.clear();
        Ok(())
    }

    /// Records within the mapping's reach not yet processed or given up.
    pub fn unaccounted(&self) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| !self.accounted(i))
            .collect()
    }
}

/// The position of the first record to retry, read from
/// `batchItemFailures` as AWS documents it: the lowest reported record; an
/// identifier that is empty, null or not in the batch fails the whole batch.
fn first_failed(response: &Value, records: &[StreamRecord]) -> Option<usize> {
    let failures = response.get("batchItemFailures")?.as_array()?;
    failures
        .iter()
        .map(|f| {
            f.get("itemIdentifier")
                .and_then(Value::as_str)
                .and_then(|id| records.iter().position(|r| r.sequence_number == id))
                .unwrap_or(0)
        })
        .min()
}
