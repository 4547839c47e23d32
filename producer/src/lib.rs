//! The load generator: writes `ModelOne` records to Kinesis the way the
//! article's publisher does (N tasks, random location, unique id as partition
//! key), but batched, retried, rate-limited and measured.
//!
//! # Layout
//! - [`Options`]: the CLI (also honours THREAD_COUNT, RECORD_COUNT, KINESIS_STREAM_NAME).
//! - [`records`]: reproducible record generation.
//! - [`send`]: `PutRecords` with per-entry retries, or one `PutRecord` per record.
//! - [`aggregated`] and [`shards`]: `--aggregate`, user records packed into
//!   KPL aggregates per shard (the stream's open shards from ListShards).
//! - [`run`]: the tasks, the rate limit and the [`Summary`].

pub mod aggregated;
pub mod records;
pub mod send;
pub mod shards;

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Mutex;

use records::{Locations, RecordSource};
use send::{Delivery, Failed, Sender, Strategy, MAX_BATCH_RECORDS};

/// Write ModelOne records to a Kinesis stream and report what happened.
#[derive(Debug, Clone, clap::Parser)]
#[command(version)]
pub struct Options {
    /// Stream name or ARN.
    #[arg(long, env = "KINESIS_STREAM_NAME", required_unless_present_any = ["dry_run", "output"])]
    pub stream: Option<String>,

    /// Concurrent sending tasks (the article's THREAD_COUNT).
    #[arg(short, long, env = "THREAD_COUNT", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,

    /// Records each task sends (the article's RECORD_COUNT); total = concurrency × this.
    #[arg(long, env = "RECORD_COUNT", default_value_t = 10)]
    pub records_per_task: u64,

    /// Total records to send, overriding concurrency × records-per-task.
    #[arg(short = 'n', long)]
    pub total: Option<u64>,

    /// Keep sending for this long (e.g. `30s`, `2m`) instead of a fixed count.
    #[arg(long, value_parser = parse_duration, conflicts_with_all = ["total", "dry_run", "output"])]
    pub duration: Option<Duration>,

    /// User records per PutRecords call: 1 to 500, or with --aggregate up to
    /// 100,000 (packed into aggregates, sent in calls of at most 500 Kinesis
    /// records and 5 MB).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=MAX_AGGREGATED_BATCH))]
    pub batch_size: u32,

    /// Pack user records into KPL aggregates (the Kinesis Producer Library's
    /// format), each shard's records together so that every one lands on the
    /// shard its own key hashes to; with `--strategy batched`.
    #[arg(long)]
    pub aggregate: bool,

    /// Largest aggregate in bytes, as Kinesis counts a record: data and
    /// partition key (KPL's AggregationMaxSize; up to 1,048,576, and at
    /// least enough for one record with its 36-character key).
    #[arg(long, default_value_t = kpl_aggregation::KPL_DEFAULT_MAX_BYTES, value_parser = parse_aggregate_bytes, requires = "aggregate")]
    pub aggregate_max_bytes: usize,

    /// Target rate in records per second across all tasks (default: as fast as possible).
    #[arg(long)]
    pub rate: Option<f64>,

    /// Locations to pick from, with optional weights: `Car:2,House,Diner`.
    #[arg(long, default_value = "Car,House,Diner", value_parser = Locations::parse)]
    pub locations: Locations,

    /// Seed for ids and locations, for reproducible runs.
    #[arg(long)]
    pub seed: Option<u64>,

    /// `batched` (PutRecords) or `single` (one PutRecord per record, as the article).
    #[arg(long, value_enum, default_value = "batched")]
    pub strategy: Strategy,

    /// Give up on a batch's failed entries after this long (e.g. `30s`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub retry_deadline: Duration,

    /// Where records that could not be delivered are written, one JSON object per line.
    #[arg(long, default_value = "producer-failures.jsonl")]
    pub failure_file: PathBuf,

    /// Write the records as JSON lines to this file instead of sending them.
    #[arg(long)]
    pub output: Option<PathBuf>,

    /// Generate the records without sending them (to --output, or nowhere).
    #[arg(long)]
    pub dry_run: bool,

    /// AWS endpoint, e.g. http://127.0.0.1:5000 for moto (AWS_ENDPOINT_URL also works).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,

    /// AWS region.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,

    /// Print the summary as JSON (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// A progress bar on stderr when it is a terminal; hidden on a pipe or with --json.
fn progress(options: &Options, total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if options.json || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = match options.duration {
        Some(_) => indicatif::ProgressBar::new_spinner(),
        None => indicatif::ProgressBar::new(total),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} records {per_sec}",
        )
        .expect("valid template"),
    );
    bar
}

/// The most user records one call may carry with `--aggregate`.
const MAX_AGGREGATED_BATCH: i64 = 100_000;

fn parse_aggregate_bytes(s: &str) -> Result<usize, String> {
    let bytes: usize = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of bytes"))?;
    kpl_aggregation::Aggregator::new(bytes)
        .map(|_| bytes)
        .map_err(|e| e.to_string())
}

/// What Kinesis counts for an aggregate holding one record of the longest
/// location in `locations`, its id the partition key.
fn smallest_aggregate(locations: &Locations) -> usize {
    let longest = locations
        .names()
        .max_by_key(|name| name.len())
        .unwrap_or("Car");
    let record = model::ModelOne::new(longest);
    let mut aggregator = kpl_aggregation::Aggregator::new(kpl_aggregation::MAX_RECORD_BYTES)
        .expect("the largest size is valid");
    aggregator
        .add(&record.id, None, &record.to_json())
        .expect("one record fits 1 MiB");
    aggregator.record_bytes()
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| c.is_alphabetic())
            .unwrap_or(s.len()),
    );
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30s or 500ms"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" | "" => value,
        "m" => value * 60.0,
        _ => return Err(format!("`{s}` is not a duration like 30s or 500ms")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

impl Options {
    /// What the flags cannot say one at a time: `--aggregate` goes with the
    /// batched strategy, and more than PutRecords' 500 records per call only
    /// with `--aggregate`.
    ///
    /// # Errors
    /// The message for the flags that do not go together.
    pub fn check(&self) -> Result<(), String> {
        if self.aggregate && self.strategy != Strategy::Batched {
            return Err(
                "--aggregate packs records for PutRecords: use it with --strategy batched".into(),
            );
        }
        if self.aggregate {
            let needed = smallest_aggregate(&self.locations);
            if self.aggregate_max_bytes < needed {
                return Err(format!(
                    "--aggregate-max-bytes {} cannot hold one record: an aggregate of one, with its 36-character partition key, takes {needed} bytes",
                    self.aggregate_max_bytes
                ));
            }
        }
        if !self.aggregate && self.batch_size as usize > MAX_BATCH_RECORDS {
            return Err(format!(
                "--batch-size {} is over PutRecords' {MAX_BATCH_RECORDS} records (more only with --aggregate)",
                self.batch_size
            ));
        }
        Ok(())
    }

    /// Records this run produces.
    pub fn total_records(&self) -> u64 {
        self.total
            .unwrap_or(u64::from(self.concurrency) * self.records_per_task)
    }
}

/// PutRecords latency figures, in milliseconds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// What a run did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Summary {
    /// True when records were only generated (`--dry-run` / `--output`).
    pub dry_run: bool,
    pub strategy: Strategy,
    /// User records packed into KPL aggregates (`--aggregate`).
    pub aggregated: bool,
    /// User records generated (a plain record is one Kinesis record).
    pub records: u64,
    /// User records delivered.
    pub sent: u64,
    /// Kinesis records delivered: the aggregates, or as many as `sent`.
    pub kinesis_records: u64,
    /// Aggregates Kinesis put on another shard than the shard map said (a
    /// reshard while sending; the map is read again).
    pub shard_mismatches: u64,
    pub failed: u64,
    /// Of `failed`: refused by Kinesis as invalid (ValidationException,
    /// InvalidArgumentException), never retried.
    pub invalid: u64,
    /// User records sent again to their own shard after a reshard put their
    /// aggregate on a sibling: each is in the stream twice.
    pub resent: u64,
    pub retried: u64,
    pub throttled: u64,
    pub calls: u64,
    pub wall_seconds: f64,
    pub records_per_second: f64,
    pub call_latency: Latency,
    /// Where undelivered records were written, if any were.
    pub failure_file: Option<PathBuf>,
}

impl Summary {
    pub fn print_text(&self) {
        if self.dry_run {
            println!(
                "generated {} records in {:.3} s ({:.0} records/s), nothing sent",
                self.records, self.wall_seconds, self.records_per_second
            );
            return;
        }
        println!(
            "sent {} of {} records ({:?}) in {:.2} s: {:.0} records/s; failed {}{}, retried {}, throttled {}",
            self.sent, self.records, self.strategy, self.wall_seconds, self.records_per_second,
            self.failed,
            match self.invalid {
                0 => String::new(),
                n => format!(" ({n} refused as invalid, not retried)"),
            },
            self.retried, self.throttled
        );
        if self.aggregated {
            println!(
                "aggregated: {} Kinesis records carried them ({:.1} user records each){}",
                self.kinesis_records,
                self.sent as f64 / self.kinesis_records.max(1) as f64,
                match (self.shard_mismatches, self.resent) {
                    (0, _) => String::new(),
                    (n, 0) => format!("; {n} aggregates landed on another shard than predicted (resharded while sending)"),
                    (n, r) => format!("; {n} aggregates landed on another shard than predicted (resharded while sending), {r} user records sent again to their own shard (now in the stream twice)"),
                }
            );
        }
        println!(
            "{} calls, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.calls,
            self.call_latency.p50_ms,
            self.call_latency.p99_ms,
            self.call_latency.max_ms
        );
        if let Some(file) = &self.failure_file {
            println!("undelivered records written to {}", file.display());
        }
    }
}

/// A smooth limiter shared by all tasks: each batch reserves its slot of time.
struct RateLimit {
    per_record: Duration,
    next: Mutex<Instant>,
}

impl RateLimit {
    async fn wait(&self, records: u64) {
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.per_record.mul_f64(records as f64);
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// Generates the records to `--output` (or nowhere) without sending them.
///
/// # Errors
/// If the output file cannot be written.
pub fn dry_run(options: &Options) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let total = options.total_records();
    let mut source = RecordSource::new(options.locations.clone(), options.seed);
    let mut out: Box<dyn Write> = match &options.output {
        Some(path) => Box::new(std::io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(std::io::sink()),
    };
    for _ in 0..total {
        let record = source.next_record();
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let wall = started.elapsed().as_secs_f64();
    Ok(Summary {
        dry_run: true,
        strategy: options.strategy,
        aggregated: options.aggregate,
        records: total,
        sent: 0,
        kinesis_records: 0,
        shard_mismatches: 0,
        failed: 0,
        invalid: 0,
        resent: 0,
        retried: 0,
        throttled: 0,
        calls: 0,
        wall_seconds: wall,
        records_per_second: total as f64 / wall.max(f64::EPSILON),
        call_latency: Latency::default(),
        failure_file: None,
    })
}

/// Sends the records with `options.concurrency` tasks and returns the summary.
///
/// # Errors
/// If the stream cannot be reached at all, or the failure file cannot be written.
pub async fn run(options: &Options, client: aws_sdk_kinesis::Client) -> anyhow::Result<Summary> {
    let stream = options
        .stream
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no stream given (--stream or KINESIS_STREAM_NAME)"))?;
    options.check().map_err(anyhow::Error::msg)?;
    let mut sender = Sender::new(client, stream, options.strategy, options.retry_deadline);
    if options.aggregate {
        sender = sender.with_aggregation(options.aggregate_max_bytes);
    }
    sender.check_stream().await.map_err(anyhow::Error::msg)?;

    let total = options.total_records();
    let claimed = Arc::new(AtomicU64::new(0));
    let limit = options.rate.filter(|r| *r > 0.0).map(|rate| {
        Arc::new(RateLimit {
            per_record: Duration::from_secs_f64(1.0 / rate),
            next: Mutex::new(Instant::now()),
        })
    });
    // What a task takes at a time: a PutRecords' worth, or, for the
    // single strategy, one record (so every task has work, as the article's
    // threads each put one record after another).
    let batch = match options.strategy {
        Strategy::Batched => u64::from(options.batch_size),
        Strategy::Single => 1,
    };
    let started = Instant::now();
    let bar = progress(options, total);
    let deadline = options.duration.map(|d| started + d);
    let tasks: Vec<_> = (0..options.concurrency)
        .map(|task| {
            let (sender, claimed, limit, bar) =
                (sender.clone(), claimed.clone(), limit.clone(), bar.clone());
            // Each task its own stream of records; a seed makes every stream reproducible.
            let mut source = RecordSource::new(
                options.locations.clone(),
                options.seed.map(|s| s.wrapping_add(u64::from(task))),
            );
            tokio::spawn(async move {
                let mut total_delivery = Delivery::default();
                loop {
                    let count = match deadline {
                        Some(deadline) if Instant::now() >= deadline => break,
                        Some(_) => batch,
                        None => {
                            let first = claimed.fetch_add(batch, Ordering::Relaxed);
                            if first >= total {
                                break;
                            }
                            batch.min(total - first)
                        }
                    };
                    if let Some(limit) = &limit {
                        limit.wait(count).await;
                    }
                    let records = (0..count).map(|_| source.next_record()).collect();
                    let delivery = sender.deliver(records).await;
                    bar.inc(delivery.sent);
                    total_delivery.absorb(delivery);
                }
                total_delivery
            })
        })
        .collect();

    let mut all = Delivery::default();
    for task in tasks {
        all.absorb(task.await?);
    }
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let mut histogram = Histogram::<u64>::new(3)?;
    for micros in &all.call_micros {
        histogram.record(*micros)?;
    }
    let ms = |micros: u64| micros as f64 / 1000.0;
    let failure_file = if all.failed.is_empty() {
        None
    } else {
        write_failures(&options.failure_file, &all.failed)?;
        Some(options.failure_file.clone())
    };
    Ok(Summary {
        dry_run: false,
        strategy: options.strategy,
        aggregated: options.aggregate,
        records: all.sent + all.failed.len() as u64,
        sent: all.sent,
        kinesis_records: all.kinesis_records,
        shard_mismatches: all.shard_mismatches,
        failed: all.failed.len() as u64,
        invalid: all.invalid,
        resent: all.resent,
        retried: all.retried,
        throttled: all.throttled,
        calls: all.call_micros.len() as u64,
        wall_seconds: wall,
        records_per_second: all.sent as f64 / wall.max(f64::EPSILON),
        call_latency: Latency {
            p50_ms: ms(histogram.value_at_quantile(0.5)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            max_ms: ms(histogram.max()),
        },
        failure_file,
    })
}

fn write_failures(path: &std::path::Path, failed: &[Failed]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for failure in failed {
        serde_json::to_writer(&mut out, failure)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
