//! The local event-source mapping through the `harness` CLI, against moto:
//! a LATEST mapping restarted loses nothing written while it was stopped
//! (on a shard that had seen no record before), Ctrl-C with `--output`
//! leaves an output file and a state file that agree, a partial failure is
//! retried as AWS counts it, and every ARN the mapping writes names one
//! account. Each test runs its own emulators on free ports in a scratch
//! `--dir`.
#![cfg(feature = "integration")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use axum::routing::post;
use axum::Json;
use parking_lot::Mutex;
use serde_json::{json, Value};

const STREAM: &str = "cli-test";
/// An explicit hash key in each half of the hash space: one per shard of two.
const SHARD_KEYS: [&str; 2] = ["1", "170141183460469231731687303715884105729"];

struct Local {
    dir: tempfile::TempDir,
    sdk: SdkConfig,
}

impl Local {
    /// `harness up` on free ports and `provision` in a scratch `--dir`, and
    /// a stream of two shards.
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let local = Self {
            sdk: aws_config::SdkConfig::builder().build(),
            dir,
        };
        let ports: Vec<String> = (0..3)
            .map(|_| emulators::free_port().unwrap().to_string())
            .collect();
        local.ok(&[
            "up",
            "--aws-port",
            &ports[0],
            "--momento-port",
            &ports[1],
            "--admin-port",
            &ports[2],
        ]);
        local.ok(&["provision"]);
        let endpoint = local.ok(&["status", "--aws-endpoint"]).trim().to_owned();
        let sdk = emulators::sdk_config(&endpoint, "us-east-1").await;
        let kinesis = aws_sdk_kinesis::Client::new(&sdk);
        kinesis
            .create_stream()
            .stream_name(STREAM)
            .shard_count(2)
            .send()
            .await
            .unwrap();
        let mut local = local;
        local.sdk = sdk;
        local
    }

    /// `replay` of the test stream with a state file and `--output`, quiet.
    fn replay(&self, start: &str, state: &Path, output: &Path, follow: bool) -> Command {
        let mut command = self.harness();
        command.args(["replay", "--stream", STREAM, "--starting-position", start]);
        command.arg("--checkpoint-file").arg(state);
        command.arg("--output").arg(output);
        if follow {
            command.arg("--follow");
        }
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command
    }

    fn harness(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command.arg("--dir").arg(self.dir.path());
        command
    }

    /// Runs a harness command to its end; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.harness().args(args).output().unwrap();
        assert!(
            output.status.success(),
            "harness {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `n` records to shard `shard` (0 or 1); returns their ids, in order.
    async fn put(&self, shard: usize, n: usize) -> Vec<String> {
        self.put_numbered(shard, n)
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    /// The same, with each record's sequence number.
    async fn put_numbered(&self, shard: usize, n: usize) -> Vec<(String, String)> {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        let mut ids = Vec::new();
        for _ in 0..n {
            let record = model::ModelOne::new("Car");
            let put = kinesis
                .put_record()
                .stream_name(STREAM)
                .partition_key(&record.id)
                .explicit_hash_key(SHARD_KEYS[shard])
                .data(Blob::new(record.to_json()))
                .send()
                .await
                .unwrap();
            ids.push((record.id, put.sequence_number));
        }
        ids
    }
}

/// Waits until the state file holds a checkpoint, at `sequence_number` if
/// one is given.
fn wait_checkpointed(state: &Path, sequence_number: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(state) {
            let value: Value = serde_json::from_str(&text).unwrap_or_default();
            let checkpoints: Vec<String> =
                value["shards"].as_object().map_or(Vec::new(), |shards| {
                    shards
                        .values()
                        .filter_map(|s| s["checkpoint"].as_str().map(str::to_owned))
                        .collect()
                });
            let reached = match sequence_number {
                Some(sequence) => checkpoints.iter().any(|c| c == sequence),
                None => !checkpoints.is_empty(),
            };
            if reached {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{} never showed the checkpoint {sequence_number:?}",
        state.display()
    );
}

impl Drop for Local {
    fn drop(&mut self) {
        let _ = self.harness().arg("down").output();
    }
}

/// The record ids in a `--output` file.
fn output_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let line: Value = serde_json::from_str(line).unwrap();
            line["record"]["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Ctrl-C, once.
fn ctrl_c(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for a replay to exit after Ctrl-C; it must exit cleanly.
fn wait_stopped(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "replay exited with {status} after Ctrl-C");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("replay did not stop within a minute of Ctrl-C");
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn a_latest_mapping_restarted_loses_nothing_written_while_it_was_stopped() {
    let local = Local::start().await;
    let before = local.put(0, 3).await; // before the mapping exists: out of LATEST's reach
    let state = local.path("mapping.json");
    let first_output = local.path("first.jsonl");
    let replay = |output: &Path, follow: bool| local.replay("LATEST", &state, output, follow);
    let mut following = replay(&first_output, true).spawn().unwrap();
    wait_for_file(&state); // the mapping exists from here on
    let numbered = local.put_numbered(0, 5).await;
    wait_checkpointed(&state, numbered.last().map(|(_, s)| s.as_str()));
    let while_running: Vec<String> = numbered.into_iter().map(|(id, _)| id).collect();
    ctrl_c(&following);
    wait_stopped(&mut following);
    // Written while it is stopped, half of it to the shard that had seen no record.
    let mut while_stopped = local.put(0, 10).await;
    while_stopped.extend(local.put(1, 10).await);
    let second_output = local.path("second.jsonl");
    let status = replay(&second_output, false).status().unwrap();
    assert!(status.success());

    let first = output_ids(&first_output);
    let second = output_ids(&second_output);
    assert_eq!(
        first, while_running,
        "the first run saw what was written while it ran"
    );
    let second: BTreeSet<String> = second.into_iter().collect();
    let expected: BTreeSet<String> = while_stopped.into_iter().collect();
    assert_eq!(
        second, expected,
        "the restart read everything written while it was stopped, both shards"
    );
    assert!(before
        .iter()
        .all(|id| !first.contains(id) && !second.contains(id)));
}

#[tokio::test]
async fn ctrl_c_with_output_leaves_an_output_and_a_state_file_that_agree() {
    let local = Local::start().await;
    let state = local.path("mapping.json");
    let run = |output: &Path, follow: bool| local.replay("TRIM_HORIZON", &state, output, follow);
    let first_output = local.path("first.jsonl");
    let mut following = run(&first_output, true).spawn().unwrap();
    wait_for_file(&state);
    let mut written = Vec::new();
    for round in 0..6 {
        written.extend(local.put(round % 2, 25).await);
        if round == 2 {
            // Stop while records keep coming: some were processed, some not yet.
            wait_checkpointed(&state, None);
            ctrl_c(&following);
        }
    }
    wait_stopped(&mut following);
    let second_output = local.path("second.jsonl");
    assert!(run(&second_output, false).status().unwrap().success());
    let first = output_ids(&first_output);
    let second = output_ids(&second_output);
    assert!(
        !first.is_empty(),
        "the first run processed records before Ctrl-C"
    );
    let overlap: Vec<&String> = first.iter().filter(|id| second.contains(id)).collect();
    assert!(
        overlap.is_empty(),
        "nothing the output file holds is delivered again: {overlap:?}"
    );
    let all: BTreeSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(
        all.len(),
        written.len(),
        "nothing lost between the two runs"
    );
}

#[tokio::test]
async fn a_partial_failure_is_retried_as_aws_counts_it_and_every_arn_names_one_account() {
    let local = Local::start().await;
    let events: Arc<Mutex<Vec<Value>>> = Arc::default();
    let seen = events.clone();
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |Json(event): Json<Value>| {
            let seen = seen.clone();
            async move {
                // The second record fails, always.
                let failing = event["Records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["kinesis"]["partitionKey"] == "fails")
                    .map(|r| r["kinesis"]["sequenceNumber"].clone());
                seen.lock().push(event);
                Json(json!({"batchItemFailures": failing.map(|s| vec![json!({"itemIdentifier": s})]).unwrap_or_default()}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/2015-03-31/functions/f/invocations",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });

    let kinesis = aws_sdk_kinesis::Client::new(&local.sdk);
    for key in ["first", "fails", "third"] {
        kinesis
            .put_record()
            .stream_name(STREAM)
            .partition_key(key)
            .explicit_hash_key(SHARD_KEYS[0])
            .data(Blob::new(key.as_bytes().to_vec()))
            .send()
            .await
            .unwrap();
    }
    let started = Instant::now();
    let replay = tokio::task::spawn_blocking({
        let mut command = local.harness();
        command.args([
            "replay",
            "--stream",
            STREAM,
            "--no-checkpoint",
            "--target",
            "invoke",
            "--invoke-url",
            &url,
            "--maximum-retry-attempts",
            "3",
            "--json",
        ]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let events = events.lock().clone();
    let arrivals = events
        .iter()
        .filter(|e| {
            e["Records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kinesis"]["partitionKey"] == "fails")
        })
        .count();
    assert_eq!(
        arrivals, 5,
        "the failed record: once in the partial invocation, then 1 + MaximumRetryAttempts more"
    );
    assert!(
        // The remainder after the partial failure waits 0.25 s, then its
        // three retries 0.25, 0.5 and 1 s: a lower bound, never flaky.
        started.elapsed() >= Duration::from_secs_f64(0.25 + 0.25 + 0.5 + 1.0),
        "the retries waited the backoff: {:?}",
        started.elapsed()
    );

    let queue = aws_sdk_sqs::Client::new(&local.sdk)
        .get_queue_url()
        .queue_name(emulators::Names::default().on_failure_queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let messages = aws_sdk_sqs::Client::new(&local.sdk)
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(messages.len(), 1);
    let pointer: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(
        pointer["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(
        pointer["requestContext"]["approximateInvokeCount"], 4,
        "as AWS reports it"
    );
    assert_eq!(
        pointer["KinesisBatchInfo"]["batchSize"], 2,
        "the failed record and the one after it"
    );

    let account = |arn: &Value| arn.as_str().unwrap().split(':').nth(4).unwrap().to_owned();
    let stream_account = account(&pointer["KinesisBatchInfo"]["streamArn"]);
    assert_eq!(stream_account, "123456789012", "moto's account");
    assert_eq!(
        account(&pointer["requestContext"]["functionArn"]),
        stream_account
    );
    for event in &events {
        for record in event["Records"].as_array().unwrap() {
            assert_eq!(account(&record["eventSourceARN"]), stream_account);
            assert_eq!(account(&record["invokeIdentityArn"]), stream_account);
            let role = format!(":role/{}-role", emulators::Names::default().function);
            assert!(
                record["invokeIdentityArn"]
                    .as_str()
                    .unwrap()
                    .ends_with(&role),
                "{record}"
            );
        }
    }
}

/// A function behind the Invoke API: while `failing`, every record whose key
/// starts with `bad` is reported in `batchItemFailures`; it remembers what
/// it saw and what succeeded.
#[derive(Default)]
struct Recorder {
    failing: bool,
    seen: Vec<(String, String)>,
    succeeded: BTreeSet<String>,
}

async fn serve(recorder: Arc<Mutex<Recorder>>) -> String {
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |Json(event): Json<Value>| {
            let recorder = recorder.clone();
            async move {
                let mut r = recorder.lock();
                let mut failed = None;
                for record in event["Records"].as_array().unwrap() {
                    let key = record["kinesis"]["partitionKey"].as_str().unwrap().to_owned();
                    let sequence = record["kinesis"]["sequenceNumber"].as_str().unwrap().to_owned();
                    r.seen.push((sequence.clone(), key.clone()));
                    if failed.is_none() && r.failing && key.starts_with("bad") {
                        failed = Some(sequence.clone());
                    }
                    if failed.is_none() {
                        r.succeeded.insert(sequence);
                    }
                }
                Json(json!({"batchItemFailures": failed.map(|s| vec![json!({"itemIdentifier": s})]).unwrap_or_default()}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/2015-03-31/functions/f/invocations",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn redrive_delivers_exactly_what_a_mapping_with_lanes_and_a_filter_gave_up_on_beside_a_foreign_message_and_an_aged_out_pointer(
) {
    let local = Local::start().await;
    let recorder = Arc::new(Mutex::new(Recorder {
        failing: true,
        ..Recorder::default()
    }));
    let url = serve(recorder.clone()).await;
    let kinesis = aws_sdk_kinesis::Client::new(&local.sdk);
    let mut stream_arn = String::new();
    let mut shard = String::new();
    for i in 0..40 {
        let key = match i % 5 {
            0 => format!("bad-{i}"),
            1 => "dropped".to_owned(),
            _ => format!("good-{i}"),
        };
        let put = kinesis
            .put_record()
            .stream_name(STREAM)
            .partition_key(&key)
            .explicit_hash_key(SHARD_KEYS[0])
            .data(Blob::new(format!("record {i}").into_bytes()))
            .send()
            .await
            .unwrap();
        shard = put.shard_id;
    }
    stream_arn.push_str(&emulators::stream_arn(&kinesis, STREAM).await.unwrap());
    let filter = r#"{"partitionKey": [{"anything-but": ["dropped"]}]}"#;
    let mapping_flags = ["--parallelization-factor", "3", "--filter", filter];
    let replay = {
        let mut command = local.harness();
        command.args([
            "replay",
            "--stream",
            STREAM,
            "--no-checkpoint",
            "--target",
            "invoke",
            "--invoke-url",
            &url,
        ]);
        command
            .args(mapping_flags)
            .args(["--maximum-retry-attempts", "0"]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    };
    assert!(
        replay.status.success(),
        "{}",
        String::from_utf8_lossy(&replay.stderr)
    );
    let given_up: BTreeSet<String> = {
        let mut r = recorder.lock();
        r.failing = false;
        let given_up = r
            .seen
            .iter()
            .map(|(s, _)| s.clone())
            .filter(|s| !r.succeeded.contains(s))
            .collect();
        r.seen.clear();
        given_up
    };
    assert!(
        given_up.len() >= 6,
        "every bad record at least: {given_up:?}"
    );

    // Beside the pointers: a message that is not one, and a pointer to a
    // range the stream no longer holds, before the live ones of its shard.
    let sqs = aws_sdk_sqs::Client::new(&local.sdk);
    let queue = sqs
        .get_queue_url()
        .queue_name(emulators::Names::default().on_failure_queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    sqs.send_message()
        .queue_url(&queue)
        .message_body("a note someone left here")
        .send()
        .await
        .unwrap();
    let aged = json!({
        "requestContext": {"condition": "RecordAgeExceeded"},
        "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": "0", "endSequenceNumber": "0",
                             "batchSize": 1, "streamArn": stream_arn},
    });
    sqs.send_message()
        .queue_url(&queue)
        .message_body(aged.to_string())
        .send()
        .await
        .unwrap();

    let redrive = {
        let mut command = local.harness();
        command.args([
            "redrive",
            "--target",
            "invoke",
            "--invoke-url",
            &url,
            "--json",
        ]);
        command.args(mapping_flags);
        tokio::time::timeout(
            Duration::from_secs(120),
            tokio::task::spawn_blocking(move || command.output().unwrap()),
        )
        .await
        .expect("redrive finishes beside a foreign message")
        .unwrap()
    };
    assert_eq!(
        redrive.status.code(),
        Some(1),
        "an aged-out pointer makes the exit status 1"
    );
    let report: Value = serde_json::from_slice(&redrive.stdout).unwrap();
    let outcomes = report["outcomes"].as_array().unwrap();
    let aged_out: Vec<&Value> = outcomes
        .iter()
        .filter(|o| o["result"]["kind"] == "aged_out")
        .collect();
    assert_eq!(aged_out.len(), 1, "{report:#}");
    assert!(
        outcomes
            .iter()
            .filter(|o| o["result"]["kind"] != "aged_out")
            .all(|o| o["result"]["kind"] == "redriven" && o["mismatch"].is_null()),
        "every live pointer delivered, its batchSize matched: {report:#}"
    );
    assert_eq!(report["foreign"].as_array().unwrap().len(), 1);
    let redriven: Vec<String> = recorder
        .lock()
        .seen
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    let once: BTreeSet<String> = redriven.iter().cloned().collect();
    assert_eq!(once.len(), redriven.len(), "each record once");
    assert_eq!(
        once, given_up,
        "exactly the records given up on: no other lane's, none the filter dropped"
    );
    let left = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let bodies: Vec<&str> = left.iter().filter_map(|m| m.body()).collect();
    assert_eq!(
        bodies.len(),
        2,
        "the foreign message and the aged-out pointer are kept: {bodies:?}"
    );
}

/// `redrive --deployed` invokes the alias the mapping invokes (`live` by
/// default, `--qualifier` for another), never `$LATEST` by accident: moto
/// cannot run a function, so a stub of Lambda's Invoke API (through
/// `AWS_ENDPOINT_URL_LAMBDA`) records the calls; moto holds the stream and
/// the on-failure queue.
#[tokio::test]
async fn a_deployed_redrive_invokes_the_alias_the_mapping_invokes() {
    let moto = emulators::MotoServer::start().await.unwrap();
    let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    kinesis
        .create_stream()
        .stream_name("deployed")
        .shard_count(1)
        .send()
        .await
        .unwrap();
    let mut sequences = Vec::new();
    let mut shard = String::new();
    for i in 0..3 {
        let put = kinesis
            .put_record()
            .stream_name("deployed")
            .partition_key(format!("k{i}"))
            .data(Blob::new(format!("record {i}").into_bytes()))
            .send()
            .await
            .unwrap();
        shard = put.shard_id;
        sequences.push(put.sequence_number);
    }
    let stream_arn = emulators::stream_arn(&kinesis, "deployed").await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name("prod-on-failure")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let pointer = json!({
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 4},
        "KinesisBatchInfo": {"shardId": shard, "startSequenceNumber": sequences[0],
                             "endSequenceNumber": sequences[2], "batchSize": 3, "streamArn": stream_arn},
    });

    let calls: Arc<Mutex<Vec<String>>> = Arc::default();
    let recorded = calls.clone();
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |uri: axum::http::Uri| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().push(uri.to_string());
                Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let lambda = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().unwrap();
    for qualifier in [None, Some("7")] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(pointer.to_string())
            .send()
            .await
            .unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_harness"));
        command
            .arg("--dir")
            .arg(dir.path())
            .args(["redrive", "--deployed", "--queue", &queue])
            .args(["--function-name", "prod-kinesis-consumer-model-one-rust"])
            .args(qualifier.map(|q| ["--qualifier", q]).into_iter().flatten())
            .env_remove("AWS_PROFILE")
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ENDPOINT_URL_LAMBDA", &lambda)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test");
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let expected = format!(
            "/2015-03-31/functions/prod-kinesis-consumer-model-one-rust/invocations?Qualifier={}",
            qualifier.unwrap_or("live")
        );
        let seen = std::mem::take(&mut *calls.lock());
        assert!(!seen.is_empty(), "redrive invoked the function");
        assert!(
            seen.iter().all(|uri| *uri == expected),
            "every Invoke names the alias: {seen:?}"
        );
    }
}

/// Bad mapping flags are refused by name before anything looks for the
/// emulators (none run for this `--dir`).
#[test]
fn replay_refuses_bad_flags_before_looking_for_the_emulators() {
    let dir = tempfile::tempdir().unwrap();
    for (args, said) in [
        (
            &["--batch-size", "0"][..],
            "batch size 0 is outside 1-10000",
        ),
        (
            &["--parallelization-factor", "11"],
            "parallelization factor 11 is outside 1-10",
        ),
        (
            &["--maximum-retry-attempts", "-2"],
            "--maximum-retry-attempts",
        ),
        (
            &["--batching-window-ms", "300001"],
            "batching window is at most 300 s",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_harness"))
            .arg("--dir")
            .arg(dir.path())
            .arg("replay")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success() && stderr.contains(said) && !stderr.contains("not running"),
            "{args:?}: {stderr}"
        );
    }
}

/// `harness run --print-settings` shows what would run: each Kinesis
/// mapping the emulator holds with its applied settings and the function
/// version its alias resolves to (moto names the version the alias had at
/// creation); an AT_TIMESTAMP mapping is refused by name until
/// `--starting-position-timestamp` gives the time moto does not return; a
/// function with no mapping is an error that says what to do.
#[tokio::test]
async fn harness_run_prints_the_applied_settings_and_refuses_what_it_cannot_run() {
    let local = Local::start().await;
    let lambda = aws_sdk_lambda::Client::new(&local.sdk);
    let role = aws_sdk_iam::Client::new(&local.sdk)
        .create_role()
        .role_name("f-role")
        .assume_role_policy_document("{}")
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    let zip = std::fs::read(
        emulators::workspace_root().join("terraform/modules/stack/tests/fixture.zip"),
    )
    .unwrap();
    lambda
        .create_function()
        .function_name("f")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip))
                .build(),
        )
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .variables("TABLE_NAME", "Locations")
                .build(),
        )
        .timeout(9)
        .send()
        .await
        .unwrap();
    lambda
        .publish_version()
        .function_name("f")
        .send()
        .await
        .unwrap();
    lambda
        .create_alias()
        .function_name("f")
        .name("live")
        .function_version("1")
        .send()
        .await
        .unwrap();
    let stream = emulators::stream_arn(&aws_sdk_kinesis::Client::new(&local.sdk), STREAM)
        .await
        .unwrap();
    let pattern = r#"{"data":{"read_location":["Car"]}}"#;
    lambda
        .create_event_source_mapping()
        .event_source_arn(&stream)
        .function_name("f:live")
        .starting_position(aws_sdk_lambda::types::EventSourcePosition::TrimHorizon)
        .batch_size(7)
        .parallelization_factor(3)
        .maximum_retry_attempts(2)
        .bisect_batch_on_function_error(true)
        .filter_criteria(
            aws_sdk_lambda::types::FilterCriteria::builder()
                .filters(
                    aws_sdk_lambda::types::Filter::builder()
                        .pattern(pattern)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let at_timestamp = lambda
        .create_event_source_mapping()
        .event_source_arn(&stream)
        .function_name("f:live")
        .starting_position(aws_sdk_lambda::types::EventSourcePosition::AtTimestamp)
        .starting_position_timestamp(aws_sdk_lambda::primitives::DateTime::from_secs(
            1_800_000_000,
        ))
        .send()
        .await
        .unwrap()
        .uuid
        .unwrap();

    let shown: Vec<Value> =
        serde_json::from_str(&local.ok(&["run", "--print-settings", "--json"])).unwrap();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    let applied = shown.iter().find(|m| m["uuid"] != at_timestamp).unwrap();
    let settings = &applied["settings"];
    assert_eq!(
        (
            &settings["batch_size"],
            &settings["parallelization_factor"],
            &settings["maximum_retry_attempts"],
            &settings["bisect_batch_on_function_error"],
            &settings["starting_position"],
        ),
        (
            &json!(7),
            &json!(3),
            &json!(2),
            &json!(true),
            &json!("TRIM_HORIZON")
        ),
        "{applied:#}"
    );
    assert_eq!(settings["filter_criteria"], json!([pattern]));
    let function = &applied["function"];
    assert_eq!(
        (
            &function["qualifier"],
            &function["version"],
            &function["timeout_seconds"]
        ),
        (&json!("live"), &json!("1"), &json!(9)),
        "{applied:#}"
    );
    assert_eq!(
        function["environment"],
        json!(["TABLE_NAME"]),
        "names, never values"
    );
    let refused = shown.iter().find(|m| m["uuid"] == at_timestamp).unwrap();
    assert!(
        refused["refused"]
            .as_str()
            .unwrap()
            .contains("StartingPositionTimestamp"),
        "{refused:#}"
    );

    let shown: Vec<Value> = serde_json::from_str(&local.ok(&[
        "run",
        "--print-settings",
        "--json",
        "--starting-position-timestamp",
        "2027-01-15T08:00:00Z",
    ]))
    .unwrap();
    let given = shown.iter().find(|m| m["uuid"] == at_timestamp).unwrap();
    assert!(
        given["settings"]["starting_position"]
            .as_str()
            .unwrap()
            .starts_with("AT_TIMESTAMP=2027-01-15T08:00:00"),
        "{given:#}"
    );

    // Code that is not what was deployed: said loudly and run; --strict
    // refuses to run it (nothing invoked, nothing spent).
    let script = local.path("bootstrap");
    std::fs::write(&script, "#!/bin/sh\nexit 1\n").unwrap();
    let other = local.path("other.zip");
    harness::code::package(&script, &other).unwrap();
    let other = other.to_str().unwrap();
    let timestamp = ["--starting-position-timestamp", "2027-01-15T08:00:00Z"];
    let output = local
        .harness()
        .args(["run", "--function", "f", "--code", other])
        .args(timestamp)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && said.contains("THE LOCAL CODE IS NOT WHAT IS DEPLOYED"),
        "{said}"
    );
    let output = local
        .harness()
        .args(["run", "--function", "f", "--strict", "--code", other])
        .args(timestamp)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && said.contains("may not be the code deployed (CodeSha256")
            && said.contains("--strict refuses to run it"),
        "{said}"
    );

    let output = local
        .harness()
        .args(["run", "--function", "no-such-function", "--code", other])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success()
            && said.contains("no Kinesis event-source mapping to run for no-such-function"),
        "{said}"
    );
}
