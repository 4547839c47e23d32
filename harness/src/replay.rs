//! The local event-source mapping: polls every shard (children after all
//! their parents), drops what the filter criteria reject, builds the Kinesis
//! events Lambda would (cut to the batch size and the 6 MB payload limit,
//! with tumbling-window fields when configured), invokes the function, and
//! applies the mapping's retry, bisection, age and destination rules with
//! per-shard checkpoints. It counts what AWS's EventCount metrics count.

use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
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
use crate::destination::{self, invocation_record, Condition, Destination};
use crate::function::{Function, InvokeError};
use crate::mapping::{MappingSettings, StartingPosition};
use crate::records::{EventSource, StreamRecord};
use crate::shards::{self, Shard};
use crate::window::{self, OpenWindow, Window, WindowFields};

/// Idle polling starts here when a shard runs dry and doubles, up to
/// `FLOWING_IDLE` while records came in the last `FLOWING`, then up to `MAX_IDLE`.
const MIN_IDLE: Duration = Duration::from_millis(2);
const FLOWING_IDLE: Duration = Duration::from_millis(8);
const FLOWING: Duration = Duration::from_secs(2);
const MAX_IDLE: Duration = Duration::from_millis(200);
/// How often the shard list is re-read (new shards after a reshard).
const SHARD_REFRESH: Duration = Duration::from_millis(500);
const RETRY_PAUSE: Duration = Duration::from_millis(5);
/// Retries of a batch that never reached the function back off up to this.
const MAX_SERVICE_BACKOFF: Duration = Duration::from_secs(5);
/// Lambda's limit on a synchronous invocation's payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Room kept for the event's envelope (and a window's fields besides its state).
const ENVELOPE_BYTES: usize = 4 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{operation} failed: {message}")]
    Kinesis {
        operation: &'static str,
        message: String,
    },
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
    /// A stream name or ARN, or an enhanced fan-out consumer's ARN (records
    /// are polled from its stream: the emulators have no SubscribeToShard).
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
    /// `Some(d)`: once a shard is caught up, its next GetRecords waits until
    /// `d` after the last one, as AWS's mapping polls at a base rate of
    /// about once per second; while the shard is behind (a full page, or
    /// `MillisBehindLatest` above 0) it reads on without waiting, as AWS's
    /// does.
    pub poll_interval: Option<Duration>,
    /// The function's timeout: an invocation that takes longer fails (as a
    /// function error). `None`: no limit.
    pub function_timeout: Option<Duration>,
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
    /// Invocations that never reached the function (throttled, unreachable).
    pub service_errors: u64,
    pub partial_failures: u64,
    /// Records handed to the on-failure destination.
    pub sent_to_destination: u64,
    /// Records given up on with no destination configured (AWS drops them too).
    pub discarded: u64,
    /// Records the function processed successfully.
    pub processed: u64,
    /// Tumbling windows closed with a final invocation.
    pub windows_closed: u64,
    pub metrics: EventCountMetrics,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_max_ms: f64,
    pub wall_seconds: f64,
}

/// AWS's EventCount metrics of a mapping (`metrics_config`), with their
/// meanings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventCountMetrics {
    /// Records read from the stream.
    pub polled_event_count: u64,
    /// Records the filter criteria dropped.
    pub filtered_out_event_count: u64,
    /// Records sent to the function, each time they were (retries count again).
    pub invoked_event_count: u64,
    /// Records of invocations that failed or reported batch item failures.
    pub failed_invoke_event_count: u64,
    /// Records given up on without reaching a destination (none configured,
    /// or its delivery failed).
    pub dropped_event_count: u64,
    /// Records recorded in the on-failure destination.
    pub on_failure_destination_delivered_event_count: u64,
}

impl std::fmt::Display for EventCountMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PolledEventCount={} FilteredOutEventCount={} InvokedEventCount={} FailedInvokeEventCount={} DroppedEventCount={} OnFailureDestinationDeliveredEventCount={}",
            self.polled_event_count,
            self.filtered_out_event_count,
            self.invoked_event_count,
            self.failed_invoke_event_count,
            self.dropped_event_count,
            self.on_failure_destination_delivered_event_count
        )
    }
}

struct Stats {
    summary: ReplaySummary,
    /// write (arrival) → processed, in microseconds.
    latency: Histogram<u64>,
}

/// How a shard reader ended.
enum ShardEnd {
    /// Read to its end (resharded): its children may start.
    Closed,
    /// Drained without `follow`.
    Drained,
}

/// The mapping. Share it in an `Arc` to run it.
pub struct Replay {
    kinesis: aws_sdk_kinesis::Client,
    destinations: destination::Sender,
    stream: String,
    config: ReplayConfig,
    source: EventSource,
    function_arn: String,
    /// Names the mapping in S3 destination keys.
    mapping_uuid: String,
    function: Function,
    enabled: AtomicBool,
    checkpoints: Mutex<Checkpoints>,
    stats: Mutex<Stats>,
    started: Instant,
}

impl Replay {
    /// Looks up the stream (through its consumer, for a consumer ARN) and
    /// loads the checkpoints.
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
        let stream = stream_of(&kinesis, &config.stream).await?;
        let summary = kinesis
            .describe_stream_summary()
            .stream_name(&stream)
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
        replay.stream = stream;
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
            destinations: destination::Sender::new(sdk),
            stream: config.stream.clone(),
            source: EventSource {
                stream_arn,
                region: region.clone(),
                role_arn: format!("arn:aws:iam::{account}:role/{}", config.function_name),
            },
            function_arn: format!(
                "arn:aws:lambda:{region}:{account}:function:{}",
                config.function_name
            ),
            mapping_uuid: uuid::Uuid::new_v4().to_string(),
            enabled: AtomicBool::new(config.settings.enabled),
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

    /// `Enabled`: a disabled mapping keeps its position and polls nothing.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::SeqCst);
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    /// The name of the stream read (resolved from a consumer ARN).
    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    /// Reads every shard (children after all their parents) until drained,
    /// or forever with `follow`.
    ///
    /// # Errors
    /// The first shard reader's error; checkpoints stay at the last batch
    /// that was fully handled.
    pub async fn run(self: &Arc<Self>) -> Result<ReplaySummary, ReplayError> {
        let mut started: HashSet<String> = HashSet::new();
        let mut finished: HashSet<String> = self
            .checkpoints
            .lock()
            .closed()
            .map(str::to_owned)
            .collect();
        let mut readers = JoinSet::new();
        loop {
            let listed = self.list_shards().await?;
            for shard in shards::ready(&listed, &started, &finished) {
                started.insert(shard.id.clone());
                // The parents' positions are no longer needed once a child reads.
                for parent in shard.parents() {
                    self.checkpoints.lock().forget(parent)?;
                }
                let this = self.clone();
                let id = shard.id.clone();
                readers.spawn(async move { this.read_shard(&id).await.map(|end| (id, end)) });
            }
            if readers.is_empty() && !self.config.follow {
                return Ok(self.summary());
            }
            tokio::select! {
                Some(done) = readers.join_next() => match done {
                    Ok(Ok((shard, ShardEnd::Closed))) => {
                        self.checkpoints.lock().close(&shard)?;
                        finished.insert(shard);
                    }
                    Ok(Ok((_, ShardEnd::Drained))) => {}
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
        let shards = by_shard.into_iter().map(|(shard, records)| async move {
            let mut window = None;
            self.deliver(&shard, records, &mut window).await?;
            self.close_window(&shard, &mut window, false).await
        });
        futures::future::try_join_all(shards).await?;
        Ok(self.summary())
    }

    /// Every shard with its parents.
    async fn list_shards(&self) -> Result<Vec<Shard>, ReplayError> {
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let request = match &next_token {
                Some(token) => self.kinesis.list_shards().next_token(token),
                None => self.kinesis.list_shards().stream_name(&self.stream),
            };
            let page = request
                .send()
                .await
                .map_err(|e| kinesis_error("kinesis:ListShards", e))?;
            for s in page.shards() {
                shards.push(Shard::new(
                    s.shard_id(),
                    s.parent_shard_id(),
                    s.adjacent_parent_shard_id(),
                ));
            }
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
            .stream_name(&self.stream)
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

    /// Polls one shard until it ends (GetRecords returns no next iterator:
    /// AWS's only end-of-shard signal, after a reshard), or is drained
    /// (without `follow`).
    async fn read_shard(&self, shard: &str) -> Result<ShardEnd, ReplayError> {
        let settings = &self.config.settings;
        let lanes = settings.parallelization_factor as usize;
        let limit = (settings.batch_size * lanes * 10).clamp(100, 10_000) as i32;
        let mut iterator = Some(self.iterator(shard).await?);
        let mut buffer: Vec<StreamRecord> = Vec::new();
        let mut window: Option<OpenWindow> = None;
        let mut window_started: Option<Instant> = None;
        let mut idle = MIN_IDLE;
        let mut last_records = Instant::now();
        let mut last_poll: Option<tokio::time::Instant> = None;
        let mut caught_up = true;
        loop {
            while !self.is_enabled() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let Some(current) = iterator.take() else {
                // Closed (resharded): what is left, then the children take over.
                self.deliver(shard, std::mem::take(&mut buffer), &mut window)
                    .await?;
                self.close_window(shard, &mut window, false).await?;
                return Ok(ShardEnd::Closed);
            };
            if let (Some(interval), Some(last), true) =
                (self.config.poll_interval, last_poll, caught_up)
            {
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
                        self.deliver(shard, std::mem::take(&mut buffer), &mut window)
                            .await?;
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
            let behind = page.millis_behind_latest().is_some_and(|m| m != 0);
            let drained = got.is_empty() && !behind;
            caught_up = got.len() < limit as usize && !behind;
            iterator = page.next_shard_iterator().map(str::to_owned);
            if !got.is_empty() {
                idle = MIN_IDLE;
                last_records = Instant::now();
                window_started.get_or_insert_with(Instant::now);
                self.stats.lock().summary.metrics.polled_event_count += got.len() as u64;
                buffer.extend(got);
            }
            let window_open = window_started
                .is_some_and(|t| t.elapsed() < settings.batching_window)
                && buffer.len() < settings.batch_size
                && iterator.is_some();
            if !buffer.is_empty() && !window_open {
                self.deliver(shard, std::mem::take(&mut buffer), &mut window)
                    .await?;
                window_started = None;
                continue;
            }
            if drained && buffer.is_empty() {
                // A window whose time is over, with nothing more to come now.
                let over = window
                    .as_ref()
                    .is_some_and(|w| crate::records::now_seconds() >= w.window.end);
                if over || !self.config.follow {
                    self.close_window(shard, &mut window, false).await?;
                }
                if !self.config.follow {
                    return Ok(ShardEnd::Drained);
                }
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

    /// Delivers records of one shard: drops what the filter rejects, cuts
    /// batches (size, 6 MB, one tumbling window each), runs lanes in
    /// parallel when the parallelization factor is above 1 (a partition key
    /// always maps to the same lane, so its records stay in order), then
    /// checkpoints. Filtered-out records are checkpointed like delivered ones.
    async fn deliver(
        &self,
        shard: &str,
        records: Vec<StreamRecord>,
        window: &mut Option<OpenWindow>,
    ) -> Result<(), ReplayError> {
        let Some(last) = records.last().map(|r| r.sequence_number.clone()) else {
            return Ok(());
        };
        let settings = &self.config.settings;
        self.stats.lock().summary.records += records.len() as u64;
        let total = records.len();
        let records: Vec<StreamRecord> = records
            .into_iter()
            .filter(|r| settings.filter.keeps(r))
            .collect();
        self.stats.lock().summary.metrics.filtered_out_event_count +=
            (total - records.len()) as u64;
        if records.is_empty() {
            self.checkpoints.lock().set(shard, &last)?;
            return Ok(());
        }
        let lanes = settings.parallelization_factor as usize;
        if lanes == 1 {
            for batch in self.batches(records) {
                let done = batch
                    .last()
                    .expect("batches are not empty")
                    .sequence_number
                    .clone();
                match settings.tumbling_window {
                    Some(length) => self.deliver_in_window(shard, batch, window, length).await?,
                    None => self.deliver_batch(batch, None).await?,
                }
                self.checkpoints.lock().set(shard, &done)?;
            }
            self.checkpoints.lock().set(shard, &last)?;
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
                for batch in self.batches(lane) {
                    self.deliver_batch(batch, None).await?;
                }
                Ok::<(), ReplayError>(())
            });
        futures::future::try_join_all(lanes).await?;
        self.checkpoints.lock().set(shard, &last)?;
        Ok(())
    }

    /// Cuts `records` into batches of at most the batch size whose event
    /// stays under Lambda's 6 MB payload limit (a record alone always forms
    /// a batch, whatever its size). Under tumbling windows the state's
    /// largest size (1 MB) is kept free too.
    fn batches(&self, records: Vec<StreamRecord>) -> Vec<Vec<StreamRecord>> {
        let batch_size = self.config.settings.batch_size;
        let mut budget = MAX_PAYLOAD_BYTES - ENVELOPE_BYTES;
        if self.config.settings.tumbling_window.is_some() {
            budget -= window::MAX_STATE_BYTES;
        }
        let mut batches: Vec<Vec<StreamRecord>> = Vec::new();
        let mut bytes = 0;
        for record in records {
            // The record's JSON in the event, and the comma before it.
            let size = self
                .source
                .event(std::slice::from_ref(&record))
                .to_string()
                .len()
                + 1;
            let full = batches
                .last()
                .is_none_or(|b| b.len() == batch_size || bytes + size > budget);
            if full {
                batches.push(Vec::new());
                bytes = 0;
            }
            bytes += size;
            batches.last_mut().expect("just pushed").push(record);
        }
        batches
    }

    /// A batch under tumbling windows: one invocation per window it spans,
    /// closing the previous window first.
    async fn deliver_in_window(
        &self,
        shard: &str,
        batch: Vec<StreamRecord>,
        window: &mut Option<OpenWindow>,
        length: Duration,
    ) -> Result<(), ReplayError> {
        let mut rest = batch;
        while !rest.is_empty() {
            let current = Window::of(rest[0].arrival, length);
            let split = rest
                .iter()
                .position(|r| Window::of(r.arrival, length) != current)
                .unwrap_or(rest.len());
            let tail = rest.split_off(split);
            if window.as_ref().is_some_and(|w| w.window != current) {
                self.close_window(shard, window, false).await?;
            }
            let open = window.get_or_insert_with(|| OpenWindow::new(current));
            let mut context = WindowContext {
                shard,
                window: open,
                terminated_early: false,
            };
            self.deliver_batch(std::mem::take(&mut rest), Some(&mut context))
                .await?;
            let ended_early = context.terminated_early;
            if ended_early {
                self.close_window(shard, window, true).await?;
            }
            rest = tail;
        }
        Ok(())
    }

    /// The window's final invocation (no records, `isFinalInvokeForWindow`),
    /// retried until it succeeds or the retry limit is reached; the state
    /// is dropped either way.
    async fn close_window(
        &self,
        shard: &str,
        window: &mut Option<OpenWindow>,
        terminated_early: bool,
    ) -> Result<(), ReplayError> {
        let Some(open) = window.take() else {
            return Ok(());
        };
        let fields = WindowFields {
            window: &open,
            shard_id: shard,
            stream_arn: &self.source.stream_arn,
            final_invoke: true,
            terminated_early,
        };
        let mut attempts = 0;
        loop {
            let mut event = self.source.event(&[]);
            fields.decorate(&mut event);
            self.stats.lock().summary.invocations += 1;
            match self.invoke(event).await {
                Ok(_) => {
                    self.stats.lock().summary.windows_closed += 1;
                    return Ok(());
                }
                Err(error) => {
                    attempts += 1;
                    let limit = self.config.settings.maximum_retry_attempts;
                    if limit.is_some_and(|max| attempts > max) {
                        tracing::warn!(%error, shard, "final window invocation failed; the window's state is dropped");
                        return Ok(());
                    }
                    self.stats.lock().summary.retries += 1;
                    tokio::time::sleep(RETRY_PAUSE).await;
                }
            }
        }
    }

    /// Invokes the function, within its timeout.
    async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        match self.config.function_timeout {
            None => self.function.invoke(event).await,
            Some(timeout) => tokio::time::timeout(timeout, self.function.invoke(event))
                .await
                .unwrap_or_else(|_| {
                    Err(InvokeError::Function(format!(
                        "Task timed out after {:.2} seconds",
                        timeout.as_secs_f64()
                    )))
                }),
        }
    }

    /// One batch through invocations, retries and bisection until every
    /// record is processed or given up on.
    async fn deliver_batch(
        &self,
        batch: Vec<StreamRecord>,
        mut window: Option<&mut WindowContext<'_>>,
    ) -> Result<(), ReplayError> {
        let settings = &self.config.settings;
        self.stats.lock().summary.batches += 1;
        // (records, retries so far); halves of a bisected batch go first, in order.
        let mut queue: VecDeque<(Vec<StreamRecord>, u32)> = VecDeque::from([(batch, 0)]);
        let mut service_backoff = RETRY_PAUSE;
        while let Some((mut batch, retries)) = queue.pop_front() {
            if let Some(max_age) = settings.maximum_record_age {
                let (old, fresh): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .partition(|r| r.age() > max_age.as_secs_f64());
                if !old.is_empty() {
                    self.give_up(&old, Condition::RecordAgeExceeded, retries.max(1), None)
                        .await?;
                }
                batch = fresh;
                if batch.is_empty() {
                    continue;
                }
            }

            let mut event = self.source.event(&batch);
            if let Some(window) = window.as_deref() {
                window.fields(&self.source.stream_arn).decorate(&mut event);
            }
            {
                let mut stats = self.stats.lock();
                stats.summary.invocations += 1;
                stats.summary.metrics.invoked_event_count += batch.len() as u64;
            }
            let mut outcome = self.invoke(event).await;
            if let (Some(_), Ok(response)) = (window.as_deref(), &outcome) {
                if window::state_of(response).is_none() {
                    outcome = Err(InvokeError::Function(
                        "a tumbling-window response must carry `state`".to_owned(),
                    ));
                }
            }
            if let Err(InvokeError::Service(error)) = &outcome {
                // The batch never reached the function: not a retry, no
                // bisection; again until the records are too old.
                tracing::debug!(%error, records = batch.len(), "invocation did not reach the function");
                {
                    let mut stats = self.stats.lock();
                    stats.summary.service_errors += 1;
                    stats.summary.metrics.failed_invoke_event_count += batch.len() as u64;
                }
                tokio::time::sleep(service_backoff).await;
                service_backoff = (service_backoff * 2).min(MAX_SERVICE_BACKOFF);
                queue.push_front((batch, retries));
                continue;
            }
            service_backoff = RETRY_PAUSE;
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
            if let (Some(window), Ok(response)) = (window.as_deref_mut(), &outcome) {
                window.take_state(response);
            }
            let Some(from) = failed_from else {
                self.processed(&batch);
                continue;
            };
            self.stats.lock().summary.metrics.failed_invoke_event_count += batch.len() as u64;
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

    /// Records the batch in the on-failure destination (or drops it, as AWS
    /// does without one). A destination that refuses it drops it too and
    /// says so (AWS counts DestinationDeliveryFailures and DroppedEventCount).
    async fn give_up(
        &self,
        records: &[StreamRecord],
        condition: Condition,
        invocations: u32,
        function_error: Option<&str>,
    ) -> Result<(), ReplayError> {
        let count = records.len() as u64;
        let Some(destination) = &self.config.settings.on_failure else {
            tracing::warn!(
                records = records.len(),
                condition = condition.as_str(),
                "records discarded (no on-failure destination)"
            );
            let mut stats = self.stats.lock();
            stats.summary.discarded += count;
            stats.summary.metrics.dropped_event_count += count;
            return Ok(());
        };
        let destination = Destination::parse(destination).map_err(ReplayError::Settings)?;
        let record = invocation_record(
            &self.function_arn,
            &self.source.stream_arn,
            condition,
            invocations,
            function_error,
            records,
        );
        let event = self.source.event(records);
        match self
            .destinations
            .send(&destination, &self.mapping_uuid, &record, &event)
            .await
        {
            Ok(()) => {
                let mut stats = self.stats.lock();
                stats.summary.sent_to_destination += count;
                stats
                    .summary
                    .metrics
                    .on_failure_destination_delivered_event_count += count;
            }
            Err(error) => {
                tracing::error!(
                    records = records.len(),
                    %error,
                    "the on-failure destination refused the invocation record: the records are dropped"
                );
                let mut stats = self.stats.lock();
                stats.summary.discarded += count;
                stats.summary.metrics.dropped_event_count += count;
            }
        }
        Ok(())
    }
}

/// The window an invocation belongs to, and what it learned.
struct WindowContext<'a> {
    shard: &'a str,
    window: &'a mut OpenWindow,
    /// The returned state passed 1 MB: the window ends now.
    terminated_early: bool,
}

impl WindowContext<'_> {
    fn fields<'f>(&'f self, stream_arn: &'f str) -> WindowFields<'f> {
        WindowFields {
            window: self.window,
            shard_id: self.shard,
            stream_arn,
            final_invoke: false,
            terminated_early: false,
        }
    }

    fn take_state(&mut self, response: &Value) {
        if let Some(state) = window::state_of(response) {
            self.terminated_early = window::state_size(&state) > window::MAX_STATE_BYTES;
            self.window.state = state;
        }
    }
}

/// The stream's name: `stream` itself, the name in a stream ARN, or the
/// stream of an enhanced fan-out consumer ARN (`.../consumer/<name>:<ts>`).
async fn stream_of(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> Result<String, ReplayError> {
    if stream.contains(":stream/") && stream.contains("/consumer/") {
        let consumer = kinesis
            .describe_stream_consumer()
            .consumer_arn(stream)
            .send()
            .await
            .map_err(|e| kinesis_error("kinesis:DescribeStreamConsumer", e))?;
        let stream_arn = consumer
            .consumer_description()
            .map(|c| c.stream_arn().to_owned())
            .unwrap_or_default();
        tracing::info!(
            consumer = stream,
            stream = %stream_arn,
            "enhanced fan-out consumer: records are polled from its stream here (the emulators have no SubscribeToShard), not pushed"
        );
        return Ok(name_of(&stream_arn));
    }
    Ok(name_of(stream))
}

fn name_of(stream: &str) -> String {
    match stream.split_once(":stream/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest).to_owned(),
        None => stream.to_owned(),
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
        assert_eq!(first_failure(&json!({"batchItemFailures": null}), &b), None);
        assert_eq!(first_failure(&json!({}), &b), None);
        assert_eq!(first_failure(&json!(""), &b), None);
        let two = json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]});
        assert_eq!(first_failure(&two, &b), Some(2), "the lowest one");
        for malformed in [
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"itemIdentifier": null}]}),
            json!({"batchItemFailures": [{"itemIdentifier": "99"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": 123}]}),
            json!({"batchItemFailures": [{}]}),
            json!({"batchItemFailures": [{"foo": "1"}]}),
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

    #[test]
    fn stream_names_come_from_names_and_arns() {
        assert_eq!(name_of("model-one-stream"), "model-one-stream");
        assert_eq!(
            name_of("arn:aws:kinesis:us-east-1:123456789012:stream/model-one-stream"),
            "model-one-stream"
        );
        assert_eq!(
            name_of("arn:aws:kinesis:us-east-1:123456789012:stream/s/consumer/c:1700000000"),
            "s"
        );
    }
}
