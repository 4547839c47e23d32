//! The producer against moto server: delivery, spread, env compatibility, errors.
#![cfg(feature = "integration")]

use std::collections::{HashMap, HashSet};
use std::process::Command;

use clap::Parser;
use emulators::{create_stream, sdk_config, MotoServer};
use model::ModelOne;
use producer::Options;

const BIN: &str = env!("CARGO_BIN_EXE_producer");

/// Every record in the stream, by shard, read from the start.
async fn read_all(client: &aws_sdk_kinesis::Client, name: &str) -> HashMap<String, Vec<ModelOne>> {
    let mut by_shard: HashMap<String, Vec<ModelOne>> = HashMap::new();
    for (shard, r) in emulators::stream_records(client, name).await.unwrap() {
        let record = ModelOne::decode(r.data().as_ref()).expect("valid record");
        assert_eq!(
            r.partition_key(),
            Some(record.id.as_str()),
            "partition key is the id"
        );
        by_shard.entry(shard).or_default().push(record);
    }
    by_shard
}

fn options(args: &[&str]) -> Options {
    Options::try_parse_from(std::iter::once("producer").chain(args.iter().copied())).unwrap()
}

#[tokio::test]
async fn records_arrive_exactly_once_spread_over_shards() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "spread", 4).await.unwrap();
    let summary = producer::run(
        &options(&[
            "--stream",
            "spread",
            // One task: moto numbers a shard's records without a lock, so
            // concurrent PutRecords can overwrite each other (moto's bug, not
            // the producer's; see the README).
            "-c",
            "1",
            "-n",
            "1200",
            "--batch-size",
            "250",
        ]),
        client.clone(),
    )
    .await
    .unwrap();
    assert_eq!((summary.sent, summary.failed), (1200, 0));
    assert_eq!(
        summary.calls,
        1200 / 250 + 1,
        "250-record batches: 4×250 + 200"
    );

    let by_shard = read_all(&client, "spread").await;
    let all: Vec<&ModelOne> = by_shard.values().flatten().collect();
    let ids: HashSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(all.len(), 1200, "no record lost or duplicated");
    assert_eq!(ids.len(), 1200);
    assert_eq!(by_shard.len(), 4, "every shard got records");
    for (shard, records) in &by_shard {
        assert!(
            records.len() > 150,
            "shard {shard} got only {} records",
            records.len()
        );
    }
    let locations: HashSet<&str> = all.iter().map(|r| r.read_location.as_str()).collect();
    assert_eq!(locations, HashSet::from(["Car", "House", "Diner"]));
}

#[tokio::test]
async fn single_strategy_delivers_too() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "single", 1).await.unwrap();
    let summary = producer::run(
        &options(&[
            "--stream",
            "single",
            "-c",
            "1",
            "-n",
            "40",
            "--strategy",
            "single",
        ]),
        client.clone(),
    )
    .await
    .unwrap();
    assert_eq!((summary.sent, summary.calls), (40, 40));
    assert_eq!(
        read_all(&client, "single").await.values().flatten().count(),
        40
    );
}

#[tokio::test]
async fn honours_the_articles_environment_variables() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "from-env", 1).await.unwrap();
    let out = Command::new(BIN)
        .arg("--json")
        .env("THREAD_COUNT", "3")
        .env("RECORD_COUNT", "7")
        .env("KINESIS_STREAM_NAME", "from-env")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["sent"], 21);
    assert_eq!(
        read_all(&client, "from-env")
            .await
            .values()
            .flatten()
            .count(),
        21
    );
}

#[tokio::test]
async fn unknown_stream_is_one_clear_line_and_a_failure() {
    let moto = MotoServer::start().await.unwrap();
    let out = Command::new(BIN)
        .args(["--stream", "no-such-stream", "-n", "5"])
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: stream `no-such-stream` does not exist"
    );
}

#[test]
fn bad_arguments_are_refused() {
    for args in [
        &["-c", "0", "--dry-run"][..],
        &["--batch-size", "501", "--dry-run"],
        &["--locations", "Car:0", "--dry-run"],
        &["--aggregate", "--strategy", "single", "--dry-run"],
        &["--aggregate", "--aggregate-max-bytes", "10", "--dry-run"],
        &["--aggregate-max-bytes", "2048", "--dry-run"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8(out.stderr)
            .unwrap()
            .starts_with("error: "));
    }
}

#[test]
fn dry_run_output_parses_back() {
    let dir = std::env::temp_dir().join(format!("producer-dry-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("records.jsonl");
    let status = Command::new(BIN)
        .args(["--dry-run", "-n", "250", "--seed", "42", "--output"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<ModelOne> = text
        .lines()
        .map(|l| ModelOne::decode(l.as_bytes()).unwrap())
        .collect();
    assert_eq!(records.len(), 250);
    assert_eq!(
        records.iter().map(|r| &r.id).collect::<HashSet<_>>().len(),
        250
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A proxy between the producer and moto that throttles every other entry of
/// the first `faults` PutRecords calls. It forwards only the even-indexed
/// entries to moto and answers the odd ones itself with
/// ProvisionedThroughputExceededException, so a throttled entry is never
/// written: if the producer did not retry exactly those, records would be
/// missing; if it retried the wrong ones, there would be duplicates.
mod throttling_proxy {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use emulators::proxy::{self, Call, Intercept};
    use serde_json::{json, Value};

    struct Throttle {
        faults: AtomicU32,
        /// Throttle every entry instead of every other one.
        all: bool,
    }

    /// Starts the proxy; returns its endpoint.
    pub async fn start(moto: &str, faults: u32, all: bool) -> String {
        let throttle = Throttle {
            faults: AtomicU32::new(faults),
            all,
        };
        proxy::start(moto, Arc::new(throttle)).await
    }

    fn throttled() -> Value {
        json!({
            "ErrorCode": "ProvisionedThroughputExceededException",
            "ErrorMessage": "Rate exceeded for shard (injected by the test proxy)"
        })
    }

    impl Intercept for Throttle {
        async fn call(&self, call: Call) -> (u16, Vec<u8>) {
            let inject = call.operation() == "PutRecords"
                && self
                    .faults
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            if !inject {
                return call.forward(call.body().to_vec()).await;
            }
            let mut put: Value = serde_json::from_slice(call.body()).unwrap();
            let entries = put["Records"].as_array().unwrap().clone();
            if self.all {
                let reply = json!({
                    "FailedRecordCount": entries.len(),
                    "Records": vec![throttled(); entries.len()]
                });
                return (200, serde_json::to_vec(&reply).unwrap());
            }
            put["Records"] = entries.iter().step_by(2).cloned().collect();
            let (status, reply) = call.forward(serde_json::to_vec(&put).unwrap()).await;
            assert_eq!(status, 200);
            let reply: Value = serde_json::from_slice(&reply).unwrap();
            let mut written = reply["Records"].as_array().unwrap().iter();
            let results: Vec<Value> = (0..entries.len())
                .map(|i| match i % 2 {
                    0 => written.next().unwrap().clone(),
                    _ => throttled(),
                })
                .collect();
            let reply = json!({"FailedRecordCount": entries.len() / 2, "Records": results});
            (200, serde_json::to_vec(&reply).unwrap())
        }
    }
}

#[tokio::test]
async fn throttled_entries_are_retried_and_nothing_is_lost() {
    let moto = MotoServer::start().await.unwrap();
    let direct = create_stream(moto.endpoint(), "throttled", 2)
        .await
        .unwrap();
    let proxy = throttling_proxy::start(moto.endpoint(), 3, false).await;
    let through_proxy = aws_sdk_kinesis::Client::new(&sdk_config(&proxy, "us-east-1").await);
    let summary = producer::run(
        &options(&["--stream", "throttled", "-n", "300", "--batch-size", "100"]),
        through_proxy,
    )
    .await
    .unwrap();
    assert_eq!((summary.sent, summary.failed), (300, 0));
    // One task claims the batches in turn, so the three faulty calls are the
    // first batch (100 → 50 throttled) and its two retries (50 → 25, 25 → 12).
    assert_eq!(summary.throttled, 87, "{summary:?}");
    assert_eq!(summary.retried, summary.throttled);

    let records: Vec<ModelOne> = read_all(&direct, "throttled")
        .await
        .into_values()
        .flatten()
        .collect();
    let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        (records.len(), ids.len()),
        (300, 300),
        "each record exactly once"
    );
}

#[tokio::test]
async fn entries_still_failing_at_the_deadline_go_to_the_failure_file() {
    let moto = MotoServer::start().await.unwrap();
    let _direct = create_stream(moto.endpoint(), "hopeless", 1).await.unwrap();
    let proxy = throttling_proxy::start(moto.endpoint(), u32::MAX, true).await;
    let through_proxy = aws_sdk_kinesis::Client::new(&sdk_config(&proxy, "us-east-1").await);
    let failures =
        std::env::temp_dir().join(format!("producer-failures-{}.jsonl", std::process::id()));
    let failure_path = failures.to_str().unwrap().to_owned();
    let args = [
        "--stream",
        "hopeless",
        "-n",
        "8",
        "--retry-deadline",
        "300ms",
        "--failure-file",
        &failure_path,
    ];
    let summary = producer::run(&options(&args), through_proxy).await.unwrap();
    assert_eq!((summary.sent, summary.failed), (0, 8), "{summary:?}");
    assert!(summary.calls >= 2, "retried before giving up: {summary:?}");
    let lines = std::fs::read_to_string(&failures).unwrap();
    let failed: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(failed.len() as u64, summary.failed);
    assert!(failed[0]["error"]
        .as_str()
        .unwrap()
        .contains("ProvisionedThroughputExceeded"));
    ModelOne::decode(failed[0]["record"].to_string().as_bytes())
        .expect("the failed record is written whole");
    std::fs::remove_file(&failures).unwrap();
}

#[tokio::test]
async fn duration_and_rate_bound_the_run() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "timed", 1).await.unwrap();
    let args = [
        "--stream",
        "timed",
        "-c",
        "2",
        "--duration",
        "1s",
        "--rate",
        "200",
        "--batch-size",
        "10",
    ];
    let summary = producer::run(&options(&args), client.clone())
        .await
        .unwrap();
    // 200 records/s for one second, plus at most one batch per task already under way.
    assert!((150..=240).contains(&summary.sent), "{summary:?}");
    assert!(summary.wall_seconds >= 0.95, "{summary:?}");
    let stored = read_all(&client, "timed").await.values().flatten().count() as u64;
    assert_eq!(stored, summary.sent);
}
