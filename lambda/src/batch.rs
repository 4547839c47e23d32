//! One invocation: unpack every record into its user records (a plain
//! record is one; a KPL aggregate holds many), decode them, resolve the
//! batch's locations in one tiered lookup, then give every user record
//! exactly one fate: emitted enriched, sent to the dead-letter queue, or
//! retried (its Kinesis record reported as a batch item failure).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_lambda_events::event::streams::KinesisEventResponse;
use chrono::{SecondsFormat, Utc};
use model::{EnrichedModelOne, ModelOne};
use serde::Serialize;

use crate::dead_letter::{DeadLetter, DeadLetters, SendWindow};
use crate::event::{InputRecord, KinesisInput, Poison, Unpacked, UserRecord};
use crate::lookup::{Answer, LookupCounts, TieredLookup};
use crate::output::{Output, OutputLineRef, MESSAGE};

/// How long before the invocation's deadline the handler starts no more
/// dead-letter sends; it waits for the sends in flight until half of it is
/// left: room to write the output, finish the cache write-backs (each
/// bounded by the Momento timeout) and answer.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);

/// What one invocation did. `records` and `failed` count Kinesis records (what
/// the mapping delivers and retries); `user_records`, `enriched` and
/// `dead_lettered` count user records (a plain record is one).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BatchReport {
    pub records: usize,
    /// Kinesis records that were KPL aggregates.
    pub aggregates: usize,
    pub user_records: usize,
    pub enriched: usize,
    pub dead_lettered: usize,
    /// Kinesis records reported in `batchItemFailures` (Kinesis retries them).
    pub failed: usize,
    /// User records of those Kinesis records: `user_records` is always
    /// `enriched + dead_lettered + retried`.
    pub retried: usize,
    pub lookups: LookupCounts,
    pub processing_ms: f64,
    /// Age of the oldest record, from its `approximateArrivalTimestamp`.
    pub oldest_record_age_ms: Option<f64>,
    /// The largest producer→consumer latency, from the records' `created_at`.
    pub max_producer_latency_ms: Option<f64>,
    /// Momento says the cache does not exist: the batch ran on DynamoDB alone.
    pub momento_cache_missing: bool,
}

/// The handler's answer and what it did.
#[derive(Debug, Clone)]
pub struct BatchResult {
    pub response: KinesisEventResponse,
    pub report: BatchReport,
}

/// The consumer: everything a container builds once and reuses.
pub struct Consumer {
    lookup: TieredLookup,
    dead_letters: DeadLetters,
    output: Output,
}

/// One user record of the batch, where it came from and what it decoded to.
struct Unit {
    /// Index of its Kinesis record in the batch.
    record: usize,
    /// The user record, or `None` when its whole Kinesis record is poison
    /// (bad base64, an aggregate that cannot be read).
    user: Option<UserRecord>,
    decoded: Result<ModelOne, Poison>,
}

/// What a unit's `decoded` holds once its fate is decided.
const TAKEN: Poison = Poison {
    reason: "",
    detail: String::new(),
};

/// Where a user record is heading while the batch is processed.
enum Fate {
    Enriched(EnrichedModelOne),
    Poison(DeadLetter),
    Retry,
}

impl Consumer {
    pub fn new(lookup: TieredLookup, dead_letters: DeadLetters, output: Output) -> Self {
        Self {
            lookup,
            dead_letters,
            output,
        }
    }

    pub fn lookup(&self) -> &TieredLookup {
        &self.lookup
    }

    /// Processes one Kinesis batch with no deadline.
    pub async fn handle(&self, event: KinesisInput) -> BatchResult {
        self.handle_until(event, None).await
    }

    /// Processes one Kinesis batch that must be answered by `deadline` (the
    /// invocation's, from the Lambda context): dead letters stop going out
    /// [`DEADLINE_MARGIN`] before it (sends in flight get half of that to
    /// answer), and the records whose letters were not sent are reported
    /// for retry instead of the invocation being killed mid-send.
    pub async fn handle_until(
        &self,
        event: KinesisInput,
        deadline: Option<std::time::Instant>,
    ) -> BatchResult {
        let started = Instant::now();
        let records = event.records;
        let mut aggregates = 0;
        let mut units: Vec<Unit> = Vec::with_capacity(records.len());
        for (index, record) in records.iter().enumerate() {
            match record.unpack() {
                Ok(Unpacked { aggregate, users }) => {
                    aggregates += usize::from(aggregate);
                    units.extend(users.into_iter().map(|user| Unit {
                        record: index,
                        decoded: user.decode(),
                        user: Some(user),
                    }));
                }
                Err(poison) => {
                    aggregates += usize::from(poison.reason == "bad_aggregate");
                    units.push(Unit {
                        record: index,
                        user: None,
                        decoded: Err(poison),
                    });
                }
            }
        }

        let keys = units
            .iter()
            .filter_map(|u| u.decoded.as_ref().ok().map(|m| m.read_location.as_str()));
        let resolution = self.lookup.resolve(keys).await;

        let fates: Vec<Fate> = units
            .iter_mut()
            .map(|unit| {
                let record = &records[unit.record];
                // Taken, not cloned: nothing reads it after the lookup.
                let decoded = std::mem::replace(&mut unit.decoded, Err(TAKEN));
                let letter = |reason: &str, detail: String| {
                    Fate::Poison(DeadLetter::new(
                        record,
                        unit.user.as_ref().and_then(UserRecord::packed),
                        reason,
                        detail,
                    ))
                };
                match decoded {
                    Err(poison) => letter(poison.reason, poison.detail),
                    Ok(model) => match resolution.answers.get(&model.read_location) {
                        Some(Answer::Found(document)) => {
                            Fate::Enriched(model.enrich((**document).clone()))
                        }
                        Some(Answer::Missing) => letter(
                            "unknown_location",
                            "read_location is not in the locations table".to_owned(),
                        ),
                        Some(Answer::Malformed(problem)) => letter(
                            "bad_table_item",
                            format!(
                                "the locations table's item for this read_location is malformed ({problem}): a data error in the table, not in the record"
                            ),
                        ),
                        Some(Answer::Failed(_)) | None => Fate::Retry,
                    },
                }
            })
            .collect();

        // Kinesis checkpoints at the lowest failed sequence number of a shard,
        // and retries whole Kinesis records: from the Kinesis record of a
        // shard's first retry on, every user record is retried, so none of
        // them is emitted or dead-lettered now (it would be again).
        let mut cutoff = first_retry_per_shard(&records, &units, &fates);
        let poison: Vec<usize> = (0..fates.len())
            .filter(|&i| {
                matches!(fates[i], Fate::Poison(_))
                    && units[i].record < cutoff[records[units[i].record].shard_id()]
            })
            .collect();
        let letters: Vec<&DeadLetter> = poison
            .iter()
            .map(|&i| match &fates[i] {
                Fate::Poison(letter) => letter,
                _ => unreachable!("only poison is lettered"),
            })
            .collect();
        let window = deadline.map(|d| {
            let deadline = tokio::time::Instant::from_std(d);
            SendWindow {
                start_before: deadline - DEADLINE_MARGIN,
                answer_before: deadline - DEADLINE_MARGIN / 2,
            }
        });
        let in_queue = self.dead_letters.send(&letters, window).await;
        // A shard's first letter not in the queue (refused, or not sent
        // before the deadline) is where its retry starts: never dropped.
        for (&i, sent) in poison.iter().zip(&in_queue) {
            if !sent {
                let record = units[i].record;
                let limit = cutoff
                    .get_mut(records[record].shard_id())
                    .expect("every shard has a cutoff");
                *limit = (*limit).min(record);
            }
        }
        // Letters in the queue for records that are done count now; those
        // of records retried are remembered for the retry.
        let mut done: Vec<&DeadLetter> = Vec::new();
        let mut retried: Vec<&DeadLetter> = Vec::new();
        for ((&i, &letter), &sent) in poison.iter().zip(&letters).zip(&in_queue) {
            let record = units[i].record;
            match (sent, record < cutoff[records[record].shard_id()]) {
                (true, true) => done.push(letter),
                (true, false) => retried.push(letter),
                (false, _) => {}
            }
        }
        let dead_lettered = done.len();
        self.dead_letters.settle(done, retried);

        let now = Utc::now();
        let timestamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut lines = Vec::with_capacity(records.len() * 256);
        let mut response = KinesisEventResponse::default();
        let mut report = BatchReport {
            records: records.len(),
            aggregates,
            // An unreadable record is one user record, lettered whole.
            user_records: units.len(),
            dead_lettered,
            ..BatchReport::default()
        };
        for (i, record) in records.iter().enumerate() {
            if i >= cutoff[record.shard_id()] {
                report.failed += 1;
                response.add_failure(record.kinesis.sequence_number.clone());
            }
        }
        for (unit, fate) in units.iter().zip(&fates) {
            let record = &records[unit.record];
            if unit.record >= cutoff[record.shard_id()] {
                report.retried += 1;
                continue;
            }
            if let Fate::Enriched(enriched) = fate {
                report.enriched += 1;
                let line = OutputLineRef {
                    timestamp: &timestamp,
                    level: "INFO",
                    message: MESSAGE,
                    shard_id: record.shard_id(),
                    sequence_number: &record.kinesis.sequence_number,
                    subsequence_number: unit.user.as_ref().and_then(UserRecord::subsequence_number),
                    record: enriched,
                };
                serde_json::to_writer(&mut lines, &line).expect("output lines serialize");
                lines.push(b'\n');
                let latency = (now - enriched.record.created_at).num_microseconds();
                let latency_ms = latency.unwrap_or(i64::MAX) as f64 / 1000.0;
                report.max_producer_latency_ms = Some(
                    report
                        .max_producer_latency_ms
                        .map_or(latency_ms, |m| m.max(latency_ms)),
                );
            }
        }
        self.output.write(&lines);

        let now_secs = now.timestamp_micros() as f64 / 1e6;
        report.oldest_record_age_ms = records
            .iter()
            .filter_map(|r| r.kinesis.approximate_arrival_timestamp)
            .map(|arrived| (now_secs - arrived) * 1000.0)
            .reduce(f64::max);
        report.lookups = resolution.counts;
        report.lookups += self.lookup.settle(resolution.write_back).await;
        report.momento_cache_missing = self.lookup.cache_missing();
        report.processing_ms = started.elapsed().as_secs_f64() * 1000.0;
        crate::metrics::record(&report);
        if report.failed > 0 || report.dead_lettered > 0 {
            tracing::info!(
                records = report.records,
                user_records = report.user_records,
                enriched = report.enriched,
                dead_lettered = report.dead_lettered,
                failed = report.failed,
                "batch had poison or failed records"
            );
        }
        BatchResult { response, report }
    }
}

/// For each shard, the index of its first Kinesis record with a user record
/// to retry (or past the end).
fn first_retry_per_shard<'a>(
    records: &'a [InputRecord],
    units: &[Unit],
    fates: &[Fate],
) -> HashMap<&'a str, usize> {
    let mut cutoff: HashMap<&str, usize> =
        records.iter().map(|r| (r.shard_id(), usize::MAX)).collect();
    for (unit, fate) in units.iter().zip(fates) {
        if matches!(fate, Fate::Retry) {
            let limit = cutoff
                .get_mut(records[unit.record].shard_id())
                .expect("every shard has a cutoff");
            *limit = (*limit).min(unit.record);
        }
    }
    cutoff
}
