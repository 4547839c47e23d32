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

/// No credentials anywhere the default chain looks: one line saying what
/// to set, not the SDK's dump, and nothing sent.
#[tokio::test]
async fn missing_credentials_are_one_line_saying_what_to_set() {
    let moto = MotoServer::start().await.unwrap();
    create_stream(moto.endpoint(), "no-credentials", 1)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["--stream", "no-credentials", "-n", "5"])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        // no instance metadata service here: do not wait for one
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values do for an emulator such as moto or LocalStack), or AWS_PROFILE"
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

/// A proxy that answers a PutRecords holding any of the chosen partition
/// keys as Kinesis answers an invalid request (400, ValidationException,
/// nothing written), and forwards the others; it counts PutRecords calls.
mod refusing_proxy {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use emulators::proxy::{self, Call, Intercept};
    use serde_json::{json, Value};

    pub const MESSAGE: &str =
        "1 validation error detected: refused by the test proxy at 'records.1.member.data'";

    pub struct Refuse {
        keys: HashSet<String>,
        pub calls: AtomicU32,
    }

    pub async fn start(moto: &str, keys: HashSet<String>) -> (String, Arc<Refuse>) {
        let refuse = Arc::new(Refuse {
            keys,
            calls: AtomicU32::new(0),
        });
        (proxy::start(moto, refuse.clone()).await, refuse)
    }

    impl Intercept for Refuse {
        async fn call(&self, call: Call) -> (u16, Vec<u8>) {
            if call.operation() != "PutRecords" {
                return call.forward(call.body().to_vec()).await;
            }
            self.calls.fetch_add(1, Ordering::SeqCst);
            let put: Value = serde_json::from_slice(call.body()).unwrap();
            let refused = put["Records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| self.keys.contains(r["PartitionKey"].as_str().unwrap()));
            if !refused {
                return call.forward(call.body().to_vec()).await;
            }
            let error = json!({"__type": "ValidationException", "message": MESSAGE});
            (400, serde_json::to_vec(&error).unwrap())
        }
    }
}

#[tokio::test]
async fn an_invalid_request_is_not_retried_and_reaches_the_failure_file() {
    use std::sync::atomic::Ordering;
    let moto = MotoServer::start().await.unwrap();
    let direct = create_stream(moto.endpoint(), "strict", 1).await.unwrap();
    // The third of three records is the one Kinesis refuses.
    let mut source = producer::records::RecordSource::new(Default::default(), Some(11));
    let third = (0..3).map(|_| source.next_record()).last().unwrap().id;
    let (proxy, refuse) =
        refusing_proxy::start(moto.endpoint(), HashSet::from([third.clone()])).await;
    let through_proxy = aws_sdk_kinesis::Client::new(&sdk_config(&proxy, "us-east-1").await);
    let failures =
        std::env::temp_dir().join(format!("producer-invalid-{}.jsonl", std::process::id()));
    let failure_path = failures.to_str().unwrap().to_owned();
    let args = [
        "--stream",
        "strict",
        "-n",
        "3",
        "--seed",
        "11",
        "--failure-file",
        &failure_path,
    ];
    let summary = producer::run(&options(&args), through_proxy).await.unwrap();
    assert_eq!(
        (
            summary.sent,
            summary.failed,
            summary.invalid,
            summary.retried
        ),
        (2, 1, 1, 0),
        "{summary:?}"
    );
    // [a b c] refused → [a] sent, [b c] refused → [b] sent, [c] refused: five
    // calls, and none of them a retry of the same request.
    assert_eq!(refuse.calls.load(Ordering::SeqCst), 5);
    assert_eq!(summary.calls, 5);
    let lines = std::fs::read_to_string(&failures).unwrap();
    let failed: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["record"]["id"], third.as_str());
    assert_eq!(failed[0]["invalid"], true);
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains(refusing_proxy::MESSAGE),
        "Kinesis's own message: {}",
        failed[0]["error"]
    );
    let stored: usize = read_all(&direct, "strict")
        .await
        .values()
        .map(Vec::len)
        .sum();
    assert_eq!(stored, 2);
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
