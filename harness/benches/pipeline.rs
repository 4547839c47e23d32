//! The whole pipeline through moto: producer → stream → the harness's
//! event-source mapping → the consumer (in-process) → the double / moto.
//!
//! 1. write→processed latency at a paced 1,000 records/s (p50/p99 from the
//!    records' arrival timestamps), twice on fresh servers: with the local
//!    mapping's polling (as fast as records come) and with AWS's (one
//!    GetRecords per shard per second), so the figures say what the harness
//!    does and what a deployment should expect;
//! 2. the article's volume, 65,000 records, produced then replayed: time and
//!    records lost (ids missing from the enriched output); then the same with
//!    the producer's `--aggregate` (KPL aggregates, unpacked by the consumer).
//!
//! `cargo bench -p harness --bench pipeline` (`PIPELINE_SECONDS`, default 15,
//! sets the length of the paced run).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_report::{Distribution, Figure, Results};
use cache_double::CacheDouble;
use clap::Parser;
use consumer::{Captured, Config, Output};
use emulators::{Aws, Emulators, Names};
use harness::in_process::in_process;
use mapping::{Backoff, EventSourceMapping, MappingConfig, MappingSettings, StartingPosition};

const SECRET: &str = "pipeline-bench";

struct Pipeline {
    _aws: Aws,
    _double: CacheDouble,
    sdk: aws_config::SdkConfig,
    names: Names,
    consumer: Arc<consumer::Consumer>,
    output: Captured,
    on_failure_queue: String,
}

async fn pipeline() -> anyhow::Result<Pipeline> {
    let Emulators {
        aws,
        double,
        sdk,
        names,
        provisioned,
        ..
    } = Emulators::start(SECRET).await?;
    let mut config = Config::new(
        &names.table,
        &names.cache,
        &names.parameter,
        &provisioned.dead_letter_queue_url,
    );
    config.momento_endpoint = Some(double.endpoint());
    let (output, captured) = Output::capture();
    let consumer = Arc::new(consumer::init(&config, &sdk, output).await?);
    Ok(Pipeline {
        _aws: aws,
        _double: double,
        sdk,
        names,
        consumer,
        output: captured,
        on_failure_queue: provisioned.on_failure_queue_url,
    })
}

impl Pipeline {
    fn replay(
        &self,
        starting_position: StartingPosition,
        follow: bool,
        poll_interval: Option<Duration>,
    ) -> anyhow::Result<MappingConfig> {
        Ok(MappingConfig {
            stream: self.names.stream.clone(),
            region: self.names.region.clone(),
            function_name: self.names.function.clone(),
            settings: MappingSettings {
                starting_position,
                on_failure: Some(self.on_failure_queue.clone()),
                ..MappingSettings::default()
            },
            follow,
            checkpoint_file: None,
            poll_interval,
            function_timeout: None,
            backoff: Backoff::AWS_LIKE,
            uuid: None,
        })
    }

    async fn produce(&self, args: &[&str]) -> anyhow::Result<producer::Summary> {
        let mut argv = vec![
            "producer",
            "--stream",
            &self.names.stream,
            "-c",
            "1",
            "--json",
        ];
        argv.extend_from_slice(args);
        let options = producer::Options::try_parse_from(argv)?;
        producer::run(&options, aws_sdk_kinesis::Client::new(&self.sdk)).await
    }

    /// Distinct record ids in the enriched output so far.
    fn enriched_ids(&self) -> HashSet<String> {
        self.output
            .take_lines()
            .into_iter()
            .map(|line| line.record.record.id)
            .collect()
    }
}

/// The paced run's write→processed latency, in µs.
async fn paced(
    seconds: u64,
    label: &str,
    poll_interval: Option<Duration>,
) -> anyhow::Result<hdrhistogram::Histogram<u64>> {
    let pipeline = pipeline().await?;
    let config = pipeline.replay(StartingPosition::Latest, true, poll_interval)?;
    let replay = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, config, in_process(pipeline.consumer.clone()))
            .await?,
    );
    let running = {
        let replay = replay.clone();
        tokio::spawn(async move { replay.run().await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await; // shard iterators at LATEST
    let produced = pipeline
        .produce(&[
            "--rate",
            "1000",
            "--duration",
            &format!("{seconds}s"),
            "--batch-size",
            "50",
        ])
        .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while replay.summary().processed < produced.sent && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.abort();
    let summary = replay.summary();
    let ids = pipeline.enriched_ids();
    println!(
        "paced 1,000 records/s for {seconds} s through moto, {label}: produced {}, enriched {} ({} lost), {} invocations",
        produced.sent,
        ids.len(),
        produced.sent.saturating_sub(ids.len() as u64),
        summary.invocations
    );
    println!(
        "  write→processed latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        summary.latency_p50_ms, summary.latency_p99_ms, summary.latency_max_ms
    );
    Ok(replay.latency())
}

/// Produce `records` (with `flags`), then replay them; returns (produce,
/// replay, total) seconds.
async fn volume(records: u64, flags: &[&str]) -> anyhow::Result<(f64, f64, f64)> {
    let pipeline = pipeline().await?;
    let started = Instant::now();
    let count = records.to_string();
    let mut args = vec!["-n", count.as_str()];
    args.extend_from_slice(flags);
    let produced = pipeline.produce(&args).await?;
    let produce_seconds = started.elapsed().as_secs_f64();
    let config = pipeline.replay(StartingPosition::TrimHorizon, false, None)?;
    let replay = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, config, in_process(pipeline.consumer.clone()))
            .await?,
    );
    let replay_started = Instant::now();
    let summary = replay.run().await?;
    let replay_seconds = replay_started.elapsed().as_secs_f64();
    let ids = pipeline.enriched_ids();
    println!(
        "{records} records {flags:?}: produced {} in {} Kinesis records in {produce_seconds:.1} s, replayed in {replay_seconds:.1} s ({:.0} user records/s), total {:.1} s (target ≤ 90 s)",
        produced.sent,
        produced.kinesis_records,
        ids.len() as f64 / replay_seconds,
        started.elapsed().as_secs_f64()
    );
    println!(
        "  {} invocations, {} enriched, {} lost, {} to the destination, {} retries",
        summary.invocations,
        ids.len(),
        records.saturating_sub(ids.len() as u64),
        summary.sent_to_destination,
        summary.retries
    );
    Ok((
        produce_seconds,
        replay_seconds,
        started.elapsed().as_secs_f64(),
    ))
}

fn main() -> anyhow::Result<()> {
    let seconds: u64 = std::env::var("PIPELINE_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let runtime = tokio::runtime::Runtime::new()?;
    let mut saved = Results::new("pipeline", "cargo bench -p harness --bench pipeline");
    let group = "write→processed, producer paced at 1,000 records/s";
    let local = runtime.block_on(paced(seconds, "local polling", None))?;
    println!("  (targets for the local mapping: p50 ≤ 16 ms, p99 ≤ 50 ms)");
    saved.distributions.push(Distribution::from_micros(
        group,
        "local mapping (polls as fast as records come)",
        &local,
    ));
    let aws_like = runtime.block_on(paced(
        seconds,
        "AWS-like polling (one GetRecords per shard per second)",
        Some(Duration::from_secs(1)),
    ))?;
    saved.distributions.push(Distribution::from_micros(
        group,
        "AWS-like polling (one GetRecords per shard per second)",
        &aws_like,
    ));
    for (label, flags) in [
        ("65,000 records", &[][..]),
        ("65,000 records, --aggregate", &["--aggregate"][..]),
    ] {
        let (produce, replay, total) = runtime.block_on(volume(65_000, flags))?;
        for (name, value) in [
            ("produced (one task, batched)", produce),
            ("replayed", replay),
            ("in all", total),
        ] {
            saved.figures.push(Figure::new(label, name, value, "s"));
        }
    }
    println!("\nsaved {}", saved.save()?.display());
    Ok(())
}
