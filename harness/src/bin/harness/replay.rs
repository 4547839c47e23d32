//! `harness replay`: the local event-source mapping over the emulator's
//! stream (or a file), into the consumer in-process or under `watch`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use consumer::Captured;
use mapping::{
    Backoff, EventSourceMapping, Function, MappingConfig, MappingSettings, StartingPosition,
    Summary,
};

use crate::plumbing;

#[derive(Args)]
pub struct ReplayArgs {
    /// The Kinesis stream to read.
    #[arg(long, default_value_t = emulators::Names::default().stream)]
    stream: String,
    /// What to invoke: the consumer library in this process, or the Invoke API of `watch`.
    #[arg(long, value_enum, default_value = "in-process")]
    target: Target,
    /// Invoke API URL for `--target invoke` [default: the one `watch` serves on port 9000].
    #[arg(long)]
    invoke_url: Option<String>,
    /// Keep polling after the stream is drained (Ctrl-C stops).
    #[arg(long)]
    follow: bool,
    /// Once a shard is caught up, poll it again only this many milliseconds after the last poll, as AWS's mapping does (about 1000); a shard that is behind is read on without waiting [default: as fast as records come].
    #[arg(long)]
    poll_interval_ms: Option<u64>,
    /// The function's timeout (e.g. `30s`, `500ms`): a longer invocation fails, as a function error [default: none].
    #[arg(long, value_parser = humantime::parse_duration)]
    function_timeout: Option<Duration>,
    /// Replay a file instead of the stream: the producer's JSON lines or captured Kinesis events.
    #[arg(long, conflicts_with = "follow")]
    from_file: Option<PathBuf>,
    /// The mapping's state file (its checkpoints and where it started): the same file is the same mapping, resumed [default: .local/checkpoints/<stream>.json].
    #[arg(long)]
    checkpoint_file: Option<PathBuf>,
    /// Keep the state in memory only: every run is a new mapping, starting at --starting-position.
    #[arg(long, conflicts_with = "checkpoint_file")]
    no_checkpoint: bool,
    /// Write the consumer's enriched output lines here (with `--target in-process`).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    mapping: MappingArgs,
}

/// Where the mapping delivers batches.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The consumer library, called in this process.
    InProcess,
    /// The Lambda Invoke API (`harness watch` serves one).
    Invoke,
}

/// The event-source mapping's settings: Terraform's names, and its defaults
/// through `MappingSettings::default()` (a test holds that to the stack's).
#[derive(Args)]
struct MappingArgs {
    /// Largest number of records per invocation (batch_size, 1-10000).
    #[arg(long, default_value_t = defaults().batch_size)]
    batch_size: usize,
    /// How long to wait to fill a batch, in milliseconds (maximum_batching_window_in_seconds × 1000).
    #[arg(long, default_value_t = defaults().batching_window.as_millis() as u64)]
    batching_window_ms: u64,
    /// LATEST, TRIM_HORIZON or AT_TIMESTAMP=<RFC 3339>: where a new mapping starts (resolved once, when its state file is created; LATEST means the creation time).
    #[arg(long, default_value_t = defaults().starting_position, value_parser = StartingPosition::parse)]
    starting_position: StartingPosition,
    /// Treat any response as full success (no ReportBatchItemFailures).
    #[arg(long)]
    no_report_batch_item_failures: bool,
    /// Do not split a batch whose invocation failed (bisect_batch_on_function_error = false).
    #[arg(long)]
    no_bisect: bool,
    /// Retries of a failed batch before its records go to the on-failure destination; -1 retries until they are too old.
    #[arg(long, default_value_t = defaults().maximum_retry_attempts.map_or(-1, i64::from), allow_negative_numbers = true)]
    maximum_retry_attempts: i64,
    /// Records older than this (seconds) go to the on-failure destination instead of the function; -1 never.
    #[arg(long, default_value_t = defaults().maximum_record_age.map_or(-1, |age| age.as_secs() as i64), allow_negative_numbers = true)]
    maximum_record_age_seconds: i64,
    /// Concurrent batches per shard (1-10); a partition key's records stay in order.
    #[arg(long, default_value_t = defaults().parallelization_factor)]
    parallelization_factor: u32,
    /// The on-failure destination: an SQS queue (URL or ARN), an SNS topic ARN or an S3 bucket ARN (arn:aws:s3:::<bucket>) [default: the provisioned on-failure queue].
    #[arg(long)]
    on_failure: Option<String>,
    /// A FilterCriteria pattern (AWS's JSON filter syntax, e.g. '{"data":{"read_location":["Car"]}}'); up to 5, a record is delivered if any matches.
    #[arg(long = "filter", value_name = "PATTERN")]
    filters: Vec<String>,
    /// Tumbling window length in seconds (1-900; 0 = none): the function gets and returns a per-window `state`.
    #[arg(long, default_value_t = defaults().tumbling_window.map_or(0, |w| w.as_secs()))]
    tumbling_window_seconds: u64,
}

fn defaults() -> MappingSettings {
    MappingSettings::default()
}

impl MappingArgs {
    /// The flags' settings checked without the emulators (the default
    /// on-failure queue is theirs), so bad flags are refused first.
    fn check(&self) -> anyhow::Result<()> {
        let mut settings = self.settings(String::new())?;
        if self.on_failure.is_none() {
            settings.on_failure = None;
        }
        settings.validate()?;
        Ok(())
    }

    fn settings(&self, on_failure: String) -> anyhow::Result<MappingSettings> {
        anyhow::ensure!(
            self.maximum_retry_attempts >= -1 && self.maximum_record_age_seconds >= -1,
            "--maximum-retry-attempts and --maximum-record-age-seconds take -1 (no limit) or a count"
        );
        Ok(MappingSettings {
            batch_size: self.batch_size,
            batching_window: Duration::from_millis(self.batching_window_ms),
            starting_position: self.starting_position,
            report_batch_item_failures: !self.no_report_batch_item_failures,
            bisect_on_error: !self.no_bisect,
            maximum_retry_attempts: u32::try_from(self.maximum_retry_attempts).ok(),
            maximum_record_age: u64::try_from(self.maximum_record_age_seconds)
                .ok()
                .map(Duration::from_secs),
            parallelization_factor: self.parallelization_factor,
            on_failure: Some(self.on_failure.clone().unwrap_or(on_failure)),
            filter: mapping::FilterCriteria::parse(&self.filters)?,
            tumbling_window: (self.tumbling_window_seconds > 0)
                .then(|| Duration::from_secs(self.tumbling_window_seconds)),
            enabled: true,
        })
    }
}

impl ReplayArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        self.mapping.check()?;
        let environment = plumbing::require_environment()?;
        let sdk = plumbing::sdk(&environment).await;
        let on_failure_queue = plumbing::on_failure_queue_url(&environment).await?;
        let mut captured: Option<(Arc<consumer::Consumer>, Captured)> = None;
        let function = match self.target {
            Target::InProcess => {
                let (consumer, output) = plumbing::in_process_consumer(&environment).await?;
                captured = Some((consumer.clone(), output));
                harness::in_process::in_process(consumer)
            }
            Target::Invoke => Function::invoke_api(
                self.invoke_url
                    .clone()
                    .unwrap_or_else(|| harness::watch::invoke_url(9000)),
            ),
        };
        let config = MappingConfig {
            stream: self.stream.clone(),
            region: environment.region.clone(),
            function_name: emulators::Names::default().function,
            settings: self.mapping.settings(on_failure_queue)?,
            follow: self.follow,
            checkpoint_file: (!self.no_checkpoint && self.from_file.is_none()).then(|| {
                self.checkpoint_file
                    .clone()
                    .unwrap_or_else(|| plumbing::default_checkpoint_file(&self.stream))
            }),
            poll_interval: self.poll_interval_ms.map(Duration::from_millis),
            function_timeout: self.function_timeout,
            backoff: Backoff::AWS_LIKE,
            uuid: None,
        };
        let mapping = match &self.from_file {
            Some(path) => {
                let records = harness::replay_file::read_file(path)?;
                eprintln!(
                    "replaying {} records from {}",
                    records.len(),
                    path.display()
                );
                let arn = format!(
                    "arn:aws:kinesis:{}:000000000000:stream/{}",
                    environment.region, self.stream
                );
                EventSourceMapping::for_records(&sdk, config, function, &arn, records)?
            }
            None => EventSourceMapping::new(&sdk, config, function).await?,
        };
        let result = run_with_progress(Arc::new(mapping)).await;
        // Written whether the mapping ended, was stopped or failed: what is
        // in the file is what the state file holds as done.
        let tiers = captured
            .as_ref()
            .map(|(consumer, _)| consumer.lookup().totals());
        if let (Some(path), Some((_, output))) = (&self.output, &captured) {
            let lines = output.take_lines();
            let text: String = lines
                .iter()
                .map(|l| serde_json::to_string(l).expect("line serializes") + "\n")
                .collect();
            std::fs::write(path, text)?;
            eprintln!(
                "{} enriched records written to {}",
                lines.len(),
                path.display()
            );
        }
        let summary = result?;
        if self.json {
            let value = serde_json::json!({ "replay": summary, "consumer_lookups": tiers });
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            print_summary(&summary, tiers.as_ref());
        }
        Ok(())
    }
}

/// Runs the mapping, printing progress to stderr every 2 s. Ctrl-C stops it
/// gracefully: nothing new starts, the invocations in flight finish and are
/// checkpointed; a second Ctrl-C exits at once.
async fn run_with_progress(mapping: Arc<EventSourceMapping>) -> anyhow::Result<Summary> {
    let progress = {
        let mapping = mapping.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            tick.tick().await;
            loop {
                tick.tick().await;
                let s = mapping.summary();
                eprintln!(
                    "… {} records, {} invocations, {} retries, {} to the destination",
                    s.records, s.invocations, s.retries, s.sent_to_destination
                );
            }
        })
    };
    let stopper = {
        let mapping = mapping.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping: the invocations in flight finish and are checkpointed (Ctrl-C again to quit now)");
                mapping.stop();
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        })
    };
    let result = mapping.run().await;
    progress.abort();
    stopper.abort();
    Ok(result?)
}

/// The replay's counts and, in-process, the consumer's tier counts.
pub fn print_summary(s: &Summary, tiers: Option<&consumer::lookup::LookupCounts>) {
    println!(
        "records {}  batches {}  invocations {}  retries {}  bisections {}  to destination {}  discarded {}  destination delivery failures {}",
        s.records, s.batches, s.invocations, s.retries, s.bisections, s.sent_to_destination, s.discarded, s.destination_delivery_failures
    );
    println!(
        "processed {}  arrival→processed p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  wall {:.2} s",
        s.processed, s.latency_p50_ms, s.latency_p99_ms, s.latency_max_ms, s.wall_seconds
    );
    if let Some(t) = tiers {
        println!(
            "consumer lookups: keys {}  L1 hits {}  Momento hits {} / misses {} / errors {}  DynamoDB found {} / missing {} / failed {} ({} calls)  Momento sets {}",
            t.keys,
            t.l1_hits + t.l1_negative_hits,
            t.momento_hits,
            t.momento_misses,
            t.momento_errors,
            t.dynamodb_found,
            t.dynamodb_missing,
            t.dynamodb_failed,
            t.dynamodb_calls,
            t.momento_sets
        );
    }
}
