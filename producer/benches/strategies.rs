//! Benchmark: the batched strategy against the article's one-PutRecord-per-
//! record loop, side by side against the same moto server with the same
//! concurrency; KPL aggregation (`--aggregate`) against plain batched
//! records, the same way, in user records per second and Kinesis records per
//! user record; then the producer's own CPU cost per record with the
//! emulator out of the picture (`--dry-run` to a null sink).
//!
//! Run: `cargo bench -p producer --bench strategies`
//! (env: BENCH_CONCURRENCY=1,8 BENCH_BATCHED_RECORDS=20000 BENCH_SINGLE_RECORDS=1000
//! BENCH_AGGREGATE_RECORDS=50000 BENCH_DRY_RECORDS=1000000)
//!
//! moto is a Python server: more concurrent calls make it slower, not faster,
//! and a stream slows as it fills, so each concurrency level runs two rounds
//! on fresh servers, batched first in one and single first in the other.
//! Both strategies keep every task busy (the single strategy hands out one
//! record at a time).

use std::time::Instant;

use clap::Parser;
use emulators::{create_stream, MotoServer};
use producer::{Options, Summary};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(args: &[String]) -> Options {
    Options::try_parse_from(std::iter::once("producer".to_owned()).chain(args.iter().cloned()))
        .expect("valid options")
}

/// CPU time this thread has used, from the kernel's scheduler statistics.
fn thread_cpu_nanos() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn report(name: &str, s: &Summary) {
    println!(
        "{name:<8} {:>8} records {:>8.2} s {:>10.0} records/s  calls {:>6}  call p50 {:>7.2} ms  p99 {:>7.2} ms  failed {}",
        s.sent, s.wall_seconds, s.records_per_second, s.calls, s.call_latency.p50_ms, s.call_latency.p99_ms, s.failed
    );
}

/// `args` as the producer's command line (the program name added).
fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The producer run with `args` against `client`.
async fn produce(client: &aws_sdk_kinesis::Client, args: Vec<String>) -> Summary {
    producer::run(&options(&args), client.clone())
        .await
        .expect("run succeeds")
}

/// A fresh moto server with a four-shard stream `bench`: moto slows as a
/// stream fills, so each round starts empty.
async fn fresh_stream() -> (MotoServer, aws_sdk_kinesis::Client) {
    let moto = MotoServer::start().await.expect("moto starts");
    let client = create_stream(moto.endpoint(), "bench", 4)
        .await
        .expect("stream");
    (moto, client)
}

/// One round on a fresh moto server: both strategies, in the given order.
async fn round(
    concurrency: &str,
    batched_records: &str,
    single_records: &str,
    single_first: bool,
) -> (Summary, Summary) {
    let (_moto, client) = fresh_stream().await;
    let run = |records: &str, strategy: &str| {
        produce(
            &client,
            args(&[
                "--stream",
                "bench",
                "-c",
                concurrency,
                "-n",
                records,
                "--strategy",
                strategy,
            ]),
        )
    };
    if single_first {
        let single = run(single_records, "single").await;
        (run(batched_records, "batched").await, single)
    } else {
        let batched = run(batched_records, "batched").await;
        (batched, run(single_records, "single").await)
    }
}

/// One round on a fresh moto server: plain batched records and aggregated
/// ones, `records` user records each, 500 user records per call, in the
/// given order.
async fn aggregation_round(
    concurrency: &str,
    records: &str,
    aggregated_first: bool,
) -> (Summary, Summary) {
    let (_moto, client) = fresh_stream().await;
    let run = |aggregate: bool| {
        let mut args = args(&[
            "--stream",
            "bench",
            "-c",
            concurrency,
            "-n",
            records,
            "--batch-size",
            "500",
        ]);
        if aggregate {
            args.push("--aggregate".into());
        }
        produce(&client, args)
    };
    if aggregated_first {
        let aggregated = run(true).await;
        (run(false).await, aggregated)
    } else {
        let plain = run(false).await;
        (plain, run(true).await)
    }
}

fn main() {
    let levels: Vec<String> = std::env::var("BENCH_CONCURRENCY")
        .unwrap_or_else(|_| "1,8".into())
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    let batched_records = env_or("BENCH_BATCHED_RECORDS", 20_000).to_string();
    let single_records = env_or("BENCH_SINGLE_RECORDS", 1_000).to_string();
    let dry_records = env_or("BENCH_DRY_RECORDS", 1_000_000);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut failed = 0;
    for concurrency in &levels {
        println!("producer strategies, concurrency {concurrency} (every task busy in both strategies), two rounds on fresh moto servers, order alternated:");
        let (mut batched_rate, mut single_rate) = (Vec::new(), Vec::new());
        for single_first in [false, true] {
            let (batched, single) = runtime.block_on(round(
                concurrency,
                &batched_records,
                &single_records,
                single_first,
            ));
            let order = if single_first {
                "single first"
            } else {
                "batched first"
            };
            println!("  round {order}:");
            report("batched", &batched);
            report("single", &single);
            println!(
                "    batched/single throughput: {:.1}x",
                batched.records_per_second / single.records_per_second
            );
            batched_rate.push(batched.records_per_second);
            single_rate.push(single.records_per_second);
            failed += batched.failed + single.failed;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "  mean of the two rounds: batched {:.0} vs single {:.0} records/s, {:.1}x (target >= 20x)\n",
            mean(&batched_rate),
            mean(&single_rate),
            mean(&batched_rate) / mean(&single_rate)
        );
    }

    let aggregate_records = env_or("BENCH_AGGREGATE_RECORDS", 50_000).to_string();
    for concurrency in &levels {
        println!("KPL aggregation, concurrency {concurrency}, 500 user records per call, two rounds on fresh moto servers, order alternated:");
        let (mut plain_rate, mut aggregated_rate) = (Vec::new(), Vec::new());
        for aggregated_first in [false, true] {
            let (plain, aggregated) = runtime.block_on(aggregation_round(
                concurrency,
                &aggregate_records,
                aggregated_first,
            ));
            let order = if aggregated_first {
                "aggregated first"
            } else {
                "plain first"
            };
            println!("  round {order}:");
            for (name, s) in [("plain", &plain), ("aggregated", &aggregated)] {
                println!(
                    "    {name:<10} {:>8} user records {:>8.2} s {:>10.0} user records/s  {:>7} Kinesis records ({:.4} per user record)  calls {}  call p50 {:.2} ms",
                    s.sent, s.wall_seconds, s.records_per_second, s.kinesis_records,
                    s.kinesis_records as f64 / s.sent.max(1) as f64, s.calls, s.call_latency.p50_ms
                );
            }
            plain_rate.push(plain.records_per_second);
            aggregated_rate.push(aggregated.records_per_second);
            failed += plain.failed + aggregated.failed;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        println!(
            "  mean of the two rounds: aggregated {:.0} vs plain {:.0} user records/s, {:.2}x\n",
            mean(&aggregated_rate),
            mean(&plain_rate),
            mean(&aggregated_rate) / mean(&plain_rate)
        );
    }

    let dry = options(&["--dry-run".into(), "-n".into(), dry_records.to_string()]);
    let (cpu_before, started) = (thread_cpu_nanos(), Instant::now());
    let summary = producer::dry_run(&dry).expect("dry run");
    let wall = started.elapsed();
    let cpu = thread_cpu_nanos()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let per_record_us = |nanos: u64| nanos as f64 / 1_000.0 / summary.records as f64;
    match cpu {
        Some(cpu) => println!(
            "dry run to a null sink: {} records, CPU {:.3} µs/record (target <= 5), wall {:.3} µs/record",
            summary.records,
            per_record_us(cpu),
            per_record_us(wall.as_nanos() as u64)
        ),
        None => println!(
            "dry run to a null sink: {} records, wall {:.3} µs/record (thread CPU time unavailable)",
            summary.records,
            per_record_us(wall.as_nanos() as u64)
        ),
    }
    assert_eq!(failed, 0, "records were lost during the benchmark");
}
