//! The local event-source mapping: polls every shard, builds the Kinesis
//! events Lambda would, invokes the function, and applies the mapping's
//! retry, bisection, age and destination rules with per-shard checkpoints.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_kinesis::error::DisplayErrorContext;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::Value;
use tokio::task::JoinSet;

use crate::checkpoint::Checkpoints;
use crate::destination::{invocation_record, Condition};
use crate::function::Function;
use crate::mapping::{MappingSettings, StartingPosition};
use crate::records::{EventSource, StreamRecord};

/// Idle polling starts here when a shard runs dry and doubles, up to
/// `FLOWING_IDLE` while records came in the last `FLOWING`, then up to `MAX_IDLE`.
const MIN_IDLE: Duration = Duration::from_millis(2);
const FLOWING_IDLE: Duration = Duration::from_millis(8);
const FLOWING: Duration = Duration::from_secs(2);
const MAX_IDLE: Duration = Duration::from_millis(200);
/// How often the shard list is re-read (new shards after a reshard).
const SHARD_REFRESH: Duration = Duration::from_millis(500);
const RETRY_PAUSE: Duration = Duration::from_millis(5);

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{operation} failed: {message}")]
    Kinesis {
        operation: &'static str,
        message: String,
    },
    #[error("could not send to the on-failure destination {queue}: {message} (the records stay unprocessed; nothing was checkpointed past them)")]
    Destination { queue: String, message: String },
    #[error("could not write the checkpoint file: {0}")]
    Checkpoint(#[from] std::io::Error),
    #[error("invalid mapping settings: {0}")]
    Settings(String),
    #[error("a shard reader stopped unexpectedly: {0}")]
    Task(String),
}

fn kinesis_error<E>(operation: &'static str, e: aws_sdk_kinesis::error::SdkError<E>) -> ReplayError
where
    E: std::error::Error + Send + Sync + 'static,
{
    ReplayError::Kinesis {
        operation,
        message: DisplayErrorContext(e).to_string(),
    }
}

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayConfig {
    pub stream: String,
    pub region: String,
    /// Put into events (`invokeIdentityArn`) and destination records (`functionArn`).
    pub function_name: String,
    pub settings: MappingSettings,
    /// Keep polling after the stream is drained.
    pub follow: bool,
    /// Where checkpoints persist; `None` keeps them in memory.
    pub checkpoint_file: Option<PathBuf>,
    /// `None`: poll a shard again as soon as records come (2–8 ms while they
    /// flow, backing off to 200 ms when it is quiet), the local default.
    /// `Some(d)`: at most one GetRecords per shard every `d`, as AWS's
    /// mapping polls at a base rate of about once per second.
    pub poll_interval: Option<Duration>,
}

/// Counts of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplaySummary {
    /// Records read from the stream (each counted once, however often retried).
    pub records: u64,
    /// Batches formed from them (before retries and bisection).
    pub batches: u64,
    pub invocations: u64,
    /// Re-invocations of a failed (part of a) batch.
    pub retries: u64,
    pub bisections: u64,
    pub function_errors: u64,
    pub partial_failures: u64,
    /// Records handed to the on-failure destination.
    pub sent_to_destination: u64,
    /// Records given up on with no destination configured (AWS drops them too).
    pub discarded: u64,
    /// Records the function processed successfully.
    pub processed: u64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub wall_seconds: f64,
}

struct Stats {
    summary: ReplaySummary,
    /// write (arrival) → processed, in microseconds.
    latency: Histogram<u64>,
}

/// The mapping. Share it in an `Arc` to run it.
pub struct Replay {
    kinesis: aws_sdk_kinesis::Client,
    sqs: aws_sdk_sqs::Client,
    config: ReplayConfig,
    source: EventSource,
    function_arn: String,
    function: Function,
    checkpoints: Mutex<Checkpoints>,
    stats: Mutex<Stats>,
    started: Instant,
}

impl Replay {
    /// Looks up the stream and loads the checkpoints.
    ///
    /// # Errors
    /// [`ReplayError`] if the stream cannot be described, the settings are
    /// out of range, or the checkpoint file cannot be read.
    pub async fn new(
        sdk: &SdkConfig,
        config: ReplayConfig,
        function: Function,
    ) -> Result<Self, ReplayError> {
        config.settings.validate().map_err(ReplayError::Settings)?;
        let kinesis = aws_sdk_kinesis::Client::new(sdk);
        let summary = kinesis
            .describe_stream_summary()
            .stream_name(&config.stream)
            .send()
            .await
            .map_err(|e| kinesis_error("kinesis:DescribeStreamSummary", e))?;
        let description = summary.stream_description_summary();
        let stream_arn = description
            .map(|s| s.stream_arn().to_owned())
            .unwrap_or_default();
        // A stream deleted and re-created under the same name has the same
        // ARN; its creation time tells the two apart for the checkpoints.
        let created = description.map_or(0.0, |s| s.stream_creation_timestamp().as_secs_f64());
        let mut replay = Self::with_stream_arn(sdk, config, function, stream_arn.clone())?;
        if let Some(path) = &replay.config.checkpoint_file {
            let identity = format!("{stream_arn} created {created}");
            replay.checkpoints = Mutex::new(Checkpoints::load(path, &identity)?);
        }
        Ok(replay)
    }

    /// For replaying records that do not come from a stream (`--from-file`).
    ///
    /// # Errors
    /// [`ReplayError::Settings`] or a checkpoint file that cannot be read.
    pub fn with_stream_arn(
        sdk: &SdkConfig,
        config: ReplayConfig,
        function: Function,
        stream_arn: String,
    ) -> Result<Self, ReplayError> {
        config.settings.validate().map_err(ReplayError::Settings)?;
        let account = "000000000000";
        let region = &config.region;
        let checkpoints = match &config.checkpoint_file {
            Some(path) => Checkpoints::load(path, &stream_arn)?,
            None => Checkpoints::in_memory(&stream_arn),
        };
        Ok(Self {
            kinesis: aws_sdk_kinesis::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            source: EventSource {
                stream_arn,
                region: region.clone(),
                role_arn: format!("arn:aws:iam::{account}:role/{}", config.function_name),
            },
            function_arn: format!(
                "arn:aws:lambda:{region}:{account}:function:{}",
                config.function_name
            ),
            config,
            function,
            checkpoints: Mutex::new(checkpoints),
            stats: Mutex::new(Stats {
                summary: ReplaySummary::default(),
                latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            }),
            started: Instant::now(),
        })
    }

    /// Counts so far.
    pub fn summary(&self) -> ReplaySummary {
        let stats = self.stats.lock();
        let mut summary = stats.summary.clone();
        let ms = |us: u64| us as f64 / 1000.0;
        if !stats.latency.is_empty() {
            summary.latency_p50_ms = ms(stats.latency.value_at_quantile(0.5));
            summary.latency_p99_ms = ms(stats.latency.value_at_quantile(0.99));
            summary.latency_max_ms = ms(stats.latency.max());
        }
        summary.wall_seconds = self.started.elapsed().as_secs_f64();
        summary
    }

    /// Every processed record's write (arrival) → processed latency, in µs.
    pub fn latency(&self) -> Histogram<u64> {
        self.stats.lock().latency.clone()
    }

    /// Reads every shard (children after their parents) until drained, or
    /// forever with `follow`.
    ///
    /// # Errors
    /// The first shard reader's error; checkpoints stay at the last batch
    /// that was fully handled.
    pub async fn run(self: &Arc<Self>) -> Result<ReplaySummary, ReplayError> {
        let mut started: HashSet<String> = HashSet::new();
        let mut finished: HashSet<String> = HashSet::new();
        let mut readers = JoinSet::new();
        loop {
            let shards = self.list_shards().await?;
            for (shard, parent) in &shards {
                let parent_pending = parent
                    .as_ref()
                    .is_some_and(|p| shards.iter().any(|(s, _)| s == p) && !finished.contains(p));
                if started.contains(shard) || parent_pending {
                    continue;
                }
                started.insert(shard.clone());
                let this = self.clone();
                let shard = shard.clone();
                readers.spawn(async move { this.read_shard(&shard).await.map(|()| shard) });
            }
            if readers.is_empty() && !self.config.follow {
                return Ok(self.summary());
            }
            tokio::select! {
                Some(done) = readers.join_next() => match done {
                    Ok(Ok(shard)) => {
                        finished.insert(shard);
                    }
                    Ok(Err(error)) => return Err(error),
                    Err(join) => return Err(ReplayError::Task(join.to_string())),
                },
                () = tokio::time::sleep(SHARD_REFRESH) => {}
            }
        }
    }

    /// Delivers records that did not come from a stream, grouped by shard in order.
    ///
    /// # Errors
    /// As [`Replay::run`].
    pub async fn run_records(
        &self,
        records: Vec<StreamRecord>,
    ) -> Result<ReplaySummary, ReplayError> {
        let mut by_shard: Vec<(String, Vec<StreamRecord>)> = Vec::new();
        for record in records {
            match by_shard.iter_mut().find(|(s, _)| *s == record.shard_id) {
                Some((_, list)) => list.push(record),
                None => by_shard.push((record.shard_id.clone(), vec![record])),
            }
        }
        let shards = by_shard
            .into_iter()
            .map(|(shard, records)| async move { self.deliver(&shard, records).await });
        futures::future::try_join_all(shards).await?;
        Ok(self.summary())
    }

    /// Every shard with its parent.
    async fn list_shards(&self) -> Result<Vec<(String, Option<String>)>, ReplayError> {
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let request = match &next_token {
                Some(token) => self.kinesis.list_shards().next_token(token),
                None => self.kinesis.list_shards().stream_name(&self.config.stream),
            };
            let page = request
                .send()
                .await
                .map_err(|e| kinesis_error("kinesis:ListShards", e))?;
            shards.extend(page.shards().iter().map(|s| {
                (
                    s.shard_id().to_owned(),
                    s.parent_shard_id().map(str::to_owned),
                )
            }));
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(shards);
            }
        }
    }

    /// An iterator after the shard's checkpoint, or at the starting position.
    async fn iterator(&self, shard: &str) -> Result<String, ReplayError> {
        let checkpoint = self.checkpoints.lock().get(shard).map(str::to_owned);
        let request = self
            .kinesis
            .get_shard_iterator()
            .stream_name(&self.config.stream)
            .shard_id(shard);
        let request = match (checkpoint, self.config.settings.starting_position) {
            (Some(sequence), _) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
            (None, StartingPosition::Latest) => {
                request.shard_iterator_type(ShardIteratorType::Latest)
            }
            (None, StartingPosition::TrimHorizon) => {
                request.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            (None, StartingPosition::AtTimestamp(at)) => request
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_secs_f64(at)),
        };
        let output = request
            .send()
            .await
            .map_err(|e| kinesis_error("kinesis:GetShardIterator", e))?;
        output.shard_iterator.ok_or_else(|| ReplayError::Kinesis {
            operation: "kinesis:GetShardIterator",
            message: format!("no iterator returned for {shard}"),
        })
    }

    /// Polls one shard until it is closed, or drained (without `follow`).
    async fn read_shard(&self, shard: &str) -> Result<(), ReplayError> {
        let settings = &self.config.settings;
        let lanes = settings.parallelization_factor as usize;
        let limit = (settings.batch_size * lanes * 10).clamp(100, 10_000) as i32;
        let mut iterator = Some(self.iterator(shard).await?);
        let mut buffer: Vec<StreamRecord> = Vec::new();
        let mut window_started: Option<Instant> = None;
        let mut idle = MIN_IDLE;
        let mut last_records = Instant::now();
        let mut last_poll: Option<tokio::time::Instant> = None;
        loop {
            let Some(current) = iterator.take() else {
                // Closed (resharded): what is left, then the children take over.
                return self.deliver(shard, std::mem::take(&mut buffer)).await;
            };
            if let (Some(interval), Some(last)) = (self.config.poll_interval, last_poll) {
                tokio::time::sleep_until(last + interval).await;
            }
            last_poll = Some(tokio::time::Instant::now());
            let page = match self
                .kinesis
                .get_records()
                .shard_iterator(&current)
                .limit(limit)
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    let service = e.as_service_error();
                    if service.is_some_and(|s| s.is_provisioned_throughput_exceeded_exception()) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        iterator = Some(current);
                        continue;
                    }
                    if service.is_some_and(|s| s.is_expired_iterator_exception()) {
                        self.deliver(shard, std::mem::take(&mut buffer)).await?;
                        iterator = Some(self.iterator(shard).await?);
                        continue;
                    }
                    return Err(kinesis_error("kinesis:GetRecords", e));
                }
            };
            let got: Vec<StreamRecord> = page
                .records()
                .iter()
                .map(|r| StreamRecord::from_kinesis(shard, r))
                .collect();
            let drained = got.is_empty() && page.millis_behind_latest().is_none_or(|m| m == 0);
            iterator = page.next_shard_iterator().map(str::to_owned);
            if !got.is_empty() {
                idle = MIN_IDLE;
                last_records = Instant::now();
                window_started.get_or_insert_with(Instant::now);
                buffer.extend(got);
            }
            let window_open = window_started
                .is_some_and(|t| t.elapsed() < settings.batching_window)
                && buffer.len() < settings.batch_size
                && iterator.is_some();
            if !buffer.is_empty() && !window_open {
                self.deliver(shard, std::mem::take(&mut buffer)).await?;
                window_started = None;
                continue;
            }
            if drained && buffer.is_empty() && !self.config.follow {
                return Ok(());
            }
            if (drained || window_open) && self.config.poll_interval.is_none() {
                tokio::time::sleep(idle).await;
                let cap = if last_records.elapsed() < FLOWING {
                    FLOWING_IDLE
                } else {
                    MAX_IDLE
                };
                idle = (idle * 2).min(cap);
            }
        }
    }

    /// Delivers records of one shard in batches, lanes in parallel when the
    /// parallelization factor is above 1 (a partition key always maps to the
    /// same lane, so its records stay in order), then checkpoints.
    async fn deliver(&self, shard: &str, records: Vec<StreamRecord>) -> Result<(), ReplayError> {
        let Some(last) = records.last().map(|r| r.sequence_number.clone()) else {
            return Ok(());
        };
        self.stats.lock().summary.records += records.len() as u64;
        let batch_size = self.config.settings.batch_size;
        let lanes = self.config.settings.parallelization_factor as usize;
        if lanes == 1 {
            for batch in records.chunks(batch_size) {
                self.deliver_batch(batch.to_vec()).await?;
                let done = &batch.last().expect("chunks are not empty").sequence_number;
                self.checkpoints.lock().set(shard, done)?;
            }
            return Ok(());
        }
        let mut by_lane: Vec<Vec<StreamRecord>> = vec![Vec::new(); lanes];
        for record in records {
            by_lane[lane(&record.partition_key, lanes)].push(record);
        }
        let lanes = by_lane
            .into_iter()
            .filter(|lane| !lane.is_empty())
            .map(|lane| async move {
                for batch in lane.chunks(batch_size) {
                    self.deliver_batch(batch.to_vec()).await?;
                }
                Ok::<(), ReplayError>(())
            });
        futures::future::try_join_all(lanes).await?;
        self.checkpoints.lock().set(shard, &last)?;
        Ok(())
    }

    /// One batch through invocations, retries and bisection until every
    /// record is processed or given up on.
    async fn deliver_batch(&self, batch: Vec<StreamRecord>) -> Result<(), ReplayError> {
        let settings = &self.config.settings;
        self.stats.lock().summary.batches += 1;
        // (records, retries so far); halves of a bisected batch go first, in order.
        let mut queue: VecDeque<(Vec<StreamRecord>, u32)> = VecDeque::from([(batch, 0)]);
        while let Some((mut batch, retries)) = queue.pop_front() {
            if let Some(max_age) = settings.maximum_record_age {
                let (old, fresh): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .partition(|r| r.age() > max_age.as_secs_f64());
                if !old.is_empty() {
                    self.give_up(&old, Condition::RecordAgeExceeded, retries, None)
                        .await?;
                }
                batch = fresh;
                if batch.is_empty() {
                    continue;
                }
            }

            self.stats.lock().summary.invocations += 1;
            let outcome = self.function.invoke(self.source.event(&batch)).await;
            let failed_from = match &outcome {
                Ok(response) if settings.report_batch_item_failures => {
                    first_failure(response, &batch)
                }
                Ok(_) => None,
                Err(error) => {
                    tracing::debug!(%error, records = batch.len(), "function error");
                    Some(0)
                }
            };
            let Some(from) = failed_from else {
                self.processed(&batch);
                continue;
            };
            self.processed(&batch[..from]);
            let mut rest = batch.split_off(from);
            let function_error = outcome.is_err();
            {
                let mut stats = self.stats.lock();
                if function_error {
                    stats.summary.function_errors += 1;
                } else {
                    stats.summary.partial_failures += 1;
                }
            }
            if function_error && settings.bisect_on_error && rest.len() > 1 {
                // Splitting is not a retry: it narrows down which record fails.
                self.stats.lock().summary.bisections += 1;
                let second = rest.split_off(rest.len() / 2);
                queue.push_front((second, retries));
                queue.push_front((rest, retries));
                continue;
            }
            // `retries` is now also how many times these records were invoked.
            let retries = retries + 1;
            if settings
                .maximum_retry_attempts
                .is_some_and(|max| retries > max)
            {
                let error = function_error.then_some("Unhandled");
                self.give_up(&rest, Condition::RetryAttemptsExhausted, retries, error)
                    .await?;
            } else {
                self.stats.lock().summary.retries += 1;
                queue.push_front((rest, retries));
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
        Ok(())
    }

    fn processed(&self, records: &[StreamRecord]) {
        if records.is_empty() {
            return;
        }
        let mut stats = self.stats.lock();
        stats.summary.processed += records.len() as u64;
        for record in records {
            let micros = (record.age() * 1e6).max(1.0) as u64;
            let _ = stats.latency.record(micros);
        }
    }

    /// Sends the invocation record to the on-failure destination (or drops
    /// the records, as AWS does without one).
    async fn give_up(
        &self,
        records: &[StreamRecord],
        condition: Condition,
        invocations: u32,
        function_error: Option<&str>,
    ) -> Result<(), ReplayError> {
        let Some(queue) = &self.config.settings.on_failure else {
            tracing::warn!(
                records = records.len(),
                condition = condition.as_str(),
                "records discarded (no on-failure destination)"
            );
            self.stats.lock().summary.discarded += records.len() as u64;
            return Ok(());
        };
        let body = invocation_record(
            &self.function_arn,
            &self.source.stream_arn,
            condition,
            invocations,
            function_error,
            records,
        );
        self.sqs
            .send_message()
            .queue_url(queue)
            .message_body(body.to_string())
            .send()
            .await
            .map_err(|e| ReplayError::Destination {
                queue: queue.clone(),
                message: aws_sdk_sqs::error::DisplayErrorContext(e).to_string(),
            })?;
        self.stats.lock().summary.sent_to_destination += records.len() as u64;
        Ok(())
    }
}

/// The index of the first record to retry, from `batchItemFailures`. An
/// empty, null or unknown identifier fails the whole batch, as AWS treats it.
pub(crate) fn first_failure(response: &Value, batch: &[StreamRecord]) -> Option<usize> {
    let failures = response.get("batchItemFailures")?.as_array()?;
    failures
        .iter()
        .map(|failure| {
            let id = failure.get("itemIdentifier").and_then(Value::as_str);
            id.filter(|id| !id.is_empty())
                .and_then(|id| batch.iter().position(|r| r.sequence_number == id))
                .unwrap_or(0)
        })
        .min()
}

fn lane(partition_key: &str, lanes: usize) -> usize {
    let mut hasher = std::hash::DefaultHasher::new();
    partition_key.hash(&mut hasher);
    (hasher.finish() % lanes as u64) as usize
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn batch(n: usize) -> Vec<StreamRecord> {
        (0..n)
            .map(|i| StreamRecord {
                shard_id: "s".into(),
                sequence_number: format!("{i}"),
                partition_key: "pk".into(),
                data: Vec::new(),
                arrival: 0.0,
            })
            .collect()
    }

    #[test]
    fn reads_batch_item_failures_as_aws_does() {
        let b = batch(5);
        assert_eq!(first_failure(&json!(null), &b), None);
        assert_eq!(first_failure(&json!({"batchItemFailures": []}), &b), None);
        let two = json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]});
        assert_eq!(first_failure(&two, &b), Some(2), "the lowest one");
        for malformed in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "99"}]}),
            json!({"batchItemFailures": [{}]}),
        ] {
            assert_eq!(first_failure(&malformed, &b), Some(0), "{malformed}");
        }
    }

    #[test]
    fn a_partition_key_always_maps_to_one_lane() {
        assert_eq!(lane("abc", 4), lane("abc", 4));
        let used: HashSet<usize> = (0..100).map(|i| lane(&format!("k{i}"), 4)).collect();
        assert_eq!(used.len(), 4);
    }
}
