//! Lambda's rules in the execution environments `harness run` starts: a
//! function (a Python `bootstrap` speaking the Runtime API, created through
//! the Lambda API on moto) that times out, exits during init, or meets its
//! reserved concurrency, under a mapping created through the Lambda API;
//! what the mapping makes of each, and what the environments log. And a
//! Python handler under AWS's own runtime interface client (awslambdaric).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{
    DestinationConfig, Environment, EventSourcePosition, FunctionCode, OnFailure, Runtime,
};
use e2e::eventually;
use emulators::MotoServer;
use harness::supervisor::Target;
use mapping::Summary;
use serde_json::Value;

use super::Running;

const FUNCTION: &str = "python-bootstrap";
const STREAM: &str = "environments";
/// The lowest hash key of the second of two shards.
const SECOND_SHARD: &str = "170141183460469231731687303715884105728";

/// A custom runtime in Python: one line per invocation on stdout (its pid,
/// GREETING, the records' data), then a sleep of SLOW_SECONDS when a record
/// says "slow" and of EACH_SECONDS always; exits during init when
/// EXIT_DURING_INIT is set.
const BOOTSTRAP: &str = r#"
import base64, json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
if os.environ.get("EXIT_DURING_INIT"):
    print("exiting during init", flush=True)
    sys.exit(3)
while True:
    with urllib.request.urlopen(api + "next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(answer)
    data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
    print(json.dumps({"pid": os.getpid(), "greeting": os.environ.get("GREETING"), "records": data}), flush=True)
    if "slow" in data:
        time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))
    time.sleep(float(os.environ.get("EACH_SECONDS", "0")))
    body = json.dumps({"batchItemFailures": []}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST")).close()
"#;

/// A handler for the Python runtime: prints each record it processes (id,
/// shard, sequence number); a record `{"fail": n}` fails its first n
/// deliveries (counted in STATE_DIR), reported in `batchItemFailures` with
/// the rest of the batch left for the retry, as AWS advises.
const HANDLER: &str = r#"
import base64, json, os

def handler(event, context):
    for record in event["Records"]:
        data = json.loads(base64.b64decode(record["kinesis"]["data"]))
        sequence = record["kinesis"]["sequenceNumber"]
        if data.get("fail"):
            seen_path = os.path.join(os.environ["STATE_DIR"], data["id"])
            seen = int(open(seen_path).read()) if os.path.exists(seen_path) else 0
            if seen < data["fail"]:
                open(seen_path, "w").write(str(seen + 1))
                return {"batchItemFailures": [{"itemIdentifier": sequence}]}
        shard = record["eventID"].split(":")[0]
        print(json.dumps({"id": data["id"], "shard": shard, "sequence": sequence}), flush=True)
    return {"batchItemFailures": []}
"#;

/// The function's code and runtime.
#[derive(Debug, Clone, Copy)]
enum Code {
    /// [`BOOTSTRAP`] as a custom runtime (`provided.al2023`).
    Bootstrap,
    /// [`HANDLER`] as `app.handler` on `python3.11`.
    PythonHandler,
}

/// moto with a two-shard stream, the function and an on-failure queue; a
/// mapping once [`Lab::map`] asks for one.
struct Lab {
    moto: MotoServer,
    sdk: SdkConfig,
    dir: tempfile::TempDir,
    zip: PathBuf,
    stream_arn: String,
    on_failure_url: String,
}

/// How the mapping is set up.
struct MappingSettings {
    batch_size: i32,
    maximum_retry_attempts: i32,
    bisect: bool,
    report_batch_item_failures: bool,
}

impl Lab {
    async fn start(
        code: Code,
        timeout: i32,
        variables: &[(&str, &str)],
        reserved: Option<i32>,
    ) -> Self {
        let moto = MotoServer::start().await.unwrap();
        let sdk = emulators::sdk_config(moto.endpoint(), "us-east-1").await;
        let dir = tempfile::tempdir().unwrap();
        let (zip, runtime, handler) = match code {
            Code::Bootstrap => (python_zip(dir.path()), Runtime::Providedal2023, "bootstrap"),
            Code::PythonHandler => (handler_zip(dir.path()), Runtime::Python311, "app.handler"),
        };
        let role = aws_sdk_iam::Client::new(&sdk)
            .create_role()
            .role_name("python-role")
            .assume_role_policy_document("{}")
            .send()
            .await
            .unwrap()
            .role
            .unwrap()
            .arn;
        let lambda = aws_sdk_lambda::Client::new(&sdk);
        lambda
            .create_function()
            .function_name(FUNCTION)
            .runtime(runtime)
            .role(role)
            .handler(handler)
            .timeout(timeout)
            .code(
                FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(
                        std::fs::read(&zip).unwrap(),
                    ))
                    .build(),
            )
            .environment(environment(variables))
            .send()
            .await
            .unwrap();
        if let Some(reserved) = reserved {
            lambda
                .put_function_concurrency()
                .function_name(FUNCTION)
                .reserved_concurrent_executions(reserved)
                .send()
                .await
                .unwrap();
        }
        let kinesis = aws_sdk_kinesis::Client::new(&sdk);
        kinesis
            .create_stream()
            .stream_name(STREAM)
            .shard_count(2)
            .send()
            .await
            .unwrap();
        let stream_arn = emulators::stream_arn(&kinesis, STREAM).await.unwrap();
        let on_failure_url = aws_sdk_sqs::Client::new(&sdk)
            .create_queue()
            .queue_name("on-failure")
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        Self {
            moto,
            sdk,
            dir,
            zip,
            stream_arn,
            on_failure_url,
        }
    }

    async fn map(&self, settings: MappingSettings) {
        let queue_arn = "arn:aws:sqs:us-east-1:123456789012:on-failure";
        aws_sdk_lambda::Client::new(&self.sdk)
            .create_event_source_mapping()
            .event_source_arn(&self.stream_arn)
            .function_name(FUNCTION)
            .starting_position(EventSourcePosition::TrimHorizon)
            .batch_size(settings.batch_size)
            .maximum_retry_attempts(settings.maximum_retry_attempts)
            .bisect_batch_on_function_error(settings.bisect)
            .set_function_response_types(settings.report_batch_item_failures.then(|| {
                vec![aws_sdk_lambda::types::FunctionResponseType::ReportBatchItemFailures]
            }))
            .destination_config(
                DestinationConfig::builder()
                    .on_failure(OnFailure::builder().destination(queue_arn).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }

    /// Writes `data`, each on the shard `shard` (0 or 1) says, in order.
    async fn put(&self, records: &[(&str, usize)]) {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        for (data, shard) in records {
            kinesis
                .put_record()
                .stream_name(STREAM)
                .partition_key("any")
                .explicit_hash_key(if *shard == 0 { "0" } else { SECOND_SHARD })
                .data(Blob::new(data.as_bytes().to_vec()))
                .send()
                .await
                .unwrap();
        }
    }

    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs").join(FUNCTION)
    }

    /// The supervisor running the mapping into the function's environments
    /// ($LATEST, followed every 300 ms).
    fn run(&self) -> Running {
        super::supervise(
            &self.sdk,
            "$LATEST",
            Target::Environments {
                code: self.zip.clone(),
                defaults: harness::environments::emulator_defaults(
                    self.moto.endpoint(),
                    "http://127.0.0.1:9",
                ),
                functions_dir: self.dir.path().join("functions"),
                log_dir: self.dir.path().join("logs"),
                strict: true,
            },
            &self.dir.path().join("checkpoints"),
            mapping::Backoff {
                first: 0.05,
                max: 0.2,
            },
        )
    }

    /// The on-failure records received so far (up to `n`, waiting 20 s).
    async fn on_failure(&self, n: usize) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        super::wait_for_messages(&sqs, &self.on_failure_url, n)
            .await
            .iter()
            .map(|body| serde_json::from_str(body).unwrap())
            .collect()
    }
}

fn environment(variables: &[(&str, &str)]) -> Environment {
    let variables: BTreeMap<String, String> = variables
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Environment::builder()
        .set_variables(Some(variables.into_iter().collect()))
        .build()
}

/// The Python runtime as a `bootstrap` (this machine's interpreter by its
/// real path: the environment has no HOME for a shim), zipped.
fn python_zip(dir: &Path) -> PathBuf {
    let python = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("python3 on PATH");
    let python = String::from_utf8(python.stdout).unwrap();
    let script = dir.join("bootstrap");
    std::fs::write(&script, format!("#!{}\n{BOOTSTRAP}", python.trim())).unwrap();
    let zip = dir.join("python.zip");
    harness::code::package(&script, &zip).unwrap();
    zip
}

/// [`HANDLER`] as `app.py`, zipped (by Python's zipfile: the harness
/// zips a single bootstrap only).
fn handler_zip(dir: &Path) -> PathBuf {
    let source = dir.join("app.py");
    std::fs::write(&source, HANDLER).unwrap();
    let zip = dir.join("handler.zip");
    let made = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; zipfile.ZipFile(sys.argv[2], 'w').write(sys.argv[1], 'app.py')",
        ])
        .arg(&source)
        .arg(&zip)
        .status()
        .unwrap();
    assert!(made.success());
    zip
}

/// One line of an environment's log.
#[derive(Debug)]
enum Logged {
    /// Lambda's (START, END, REPORT), without its time.
    Platform(String),
    /// The function's (or a timeout, which Lambda writes as the
    /// invocation's), with the request id it was written under.
    Function { request: String, text: String },
}

impl Logged {
    fn text(&self) -> &str {
        match self {
            Self::Platform(text) | Self::Function { text, .. } => text,
        }
    }
}

/// Each environment's log (by file name), line by line (none before the
/// first environment starts).
fn read_logs(dir: &Path) -> BTreeMap<String, Vec<Logged>> {
    let mut logs = BTreeMap::new();
    for file in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(file.path()).unwrap();
        let lines = text
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.splitn(3, '\t').collect();
                match fields.as_slice() {
                    [_, request, text]
                        if !request.contains(' ') && !request.starts_with("REPORT") =>
                    {
                        Logged::Function {
                            request: (*request).to_owned(),
                            text: (*text).to_owned(),
                        }
                    }
                    [_, rest @ ..] => Logged::Platform(rest.join("\t")),
                    [] => Logged::Platform(String::new()),
                }
            })
            .collect();
        logs.insert(file.file_name().to_string_lossy().into_owned(), lines);
    }
    logs
}

/// What the function printed per invocation, across environments.
fn printed(logs: &BTreeMap<String, Vec<Logged>>) -> Vec<Value> {
    logs.values()
        .flatten()
        .filter_map(|l| match l {
            Logged::Function { text, .. } => serde_json::from_str(text).ok(),
            Logged::Platform(_) => None,
        })
        .collect()
}

/// Every invocation has its START, END and REPORT; Init Duration is on the
/// first REPORT of each environment and no other.
fn assert_reported(logs: &BTreeMap<String, Vec<Logged>>) {
    for (name, lines) in logs {
        let platform: Vec<&str> = lines
            .iter()
            .filter_map(|l| match l {
                Logged::Platform(text) => Some(text.as_str()),
                Logged::Function { .. } => None,
            })
            .collect();
        let count = |prefix: &str| platform.iter().filter(|l| l.starts_with(prefix)).count();
        let reports: Vec<&&str> = platform
            .iter()
            .filter(|l| l.starts_with("REPORT RequestId: "))
            .collect();
        assert!(!reports.is_empty(), "{name}: no REPORT in {platform:#?}");
        assert_eq!(
            count("START RequestId: "),
            reports.len(),
            "{name}: {platform:#?}"
        );
        assert_eq!(
            count("END RequestId: "),
            reports.len(),
            "{name}: {platform:#?}"
        );
        for (i, report) in reports.iter().enumerate() {
            assert!(
                report.contains("\tDuration: ")
                    && report.contains("\tBilled Duration: ")
                    && report.contains("\tMemory Size: 128 MB")
                    && report.contains("\tMax Memory Used: "),
                "{name}: {report}"
            );
            assert_eq!(
                report.contains("\tInit Duration: "),
                i == 0,
                "{name}: Init Duration on the first invocation only: {report}"
            );
        }
    }
}

fn summary(report: &harness::supervisor::RunReport) -> Summary {
    assert_eq!(report.mappings.len(), 1, "{:?}", report.mappings);
    report.mappings[0].1.clone().unwrap()
}

/// A 3 s timeout and a handler that sleeps 5 s on "slow": the batch
/// [fast, slow] times out as AWS reports it, is bisected, "fast" succeeds in
/// a new environment, "slow" times out until its retries are spent and
/// goes to the on-failure destination; each timeout ends its environment.
#[tokio::test]
async fn a_timeout_ends_its_environment_and_the_mapping_bisects_and_retries() {
    let lab = Lab::start(Code::Bootstrap, 3, &[("SLOW_SECONDS", "5")], None).await;
    lab.put(&[("fast", 0), ("slow", 0)]).await;
    lab.map(MappingSettings {
        batch_size: 10,
        maximum_retry_attempts: 1,
        bisect: true,
        report_batch_item_failures: false,
    })
    .await;
    let running = lab.run();
    let failed = lab.on_failure(1).await;
    let report = running.stop().await;
    let summary = summary(&report);

    assert_eq!(failed.len(), 1, "{failed:#?}");
    let batch = &failed[0]["KinesisBatchInfo"];
    assert_eq!(batch["batchSize"], 1, "only the slow record: {failed:#?}");
    assert!(
        failed[0]["responseContext"]["functionError"]
            .as_str()
            .is_some_and(|e| e == "Unhandled"),
        "{failed:#?}"
    );
    assert_eq!(summary.processed, 1, "{summary:?}");
    assert!(summary.bisections >= 1, "{summary:?}");

    let logs = read_logs(&lab.logs());
    let timed_out = |l: &Logged| l.text() == "Task timed out after 3.00 seconds";
    let timeouts = logs.values().flatten().filter(|l| timed_out(l)).count();
    assert_eq!(
        timeouts as u64, summary.function_errors,
        "each function error a timeout: {logs:#?}"
    );
    assert!(timeouts >= 2, "the batch and the slow half: {logs:#?}");
    // A timeout ends its environment: nothing after it but its END and
    // REPORT, and every environment is its own process.
    for (name, lines) in &logs {
        if let Some(at) = lines.iter().position(&timed_out) {
            let after: Vec<&str> = lines[at + 1..].iter().map(Logged::text).collect();
            assert!(
                after.len() == 2
                    && after[0].starts_with("END RequestId: ")
                    && after[1].starts_with("REPORT RequestId: "),
                "{name}: {lines:#?}"
            );
        }
    }
    let pids: Vec<Vec<u64>> = logs
        .values()
        .map(|lines| {
            let mut pids: Vec<u64> = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l.text()).ok())
                .map(|p| p["pid"].as_u64().unwrap())
                .collect();
            pids.dedup();
            pids
        })
        .collect();
    let mut distinct: Vec<u64> = pids.iter().flatten().copied().collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(
        pids.iter().all(|p| p.len() == 1) && distinct.len() == logs.len(),
        "one process per environment, a new one each: {pids:?}"
    );
    assert_eq!(
        logs.len(),
        timeouts,
        "each environment ended by a timeout: {logs:#?}"
    );
    assert_reported(&logs);
}

/// A runtime that exits during init fails every invocation as an
/// unhandled error; the mapping retries as configured and then gives the
/// batch to its destination.
#[tokio::test]
async fn a_function_that_exits_during_init_fails_as_an_unhandled_error() {
    let lab = Lab::start(Code::Bootstrap, 3, &[("EXIT_DURING_INIT", "1")], None).await;
    lab.put(&[("one", 0), ("two", 0)]).await;
    lab.map(MappingSettings {
        batch_size: 10,
        maximum_retry_attempts: 2,
        bisect: false,
        report_batch_item_failures: false,
    })
    .await;
    let running = lab.run();
    let failed = lab.on_failure(1).await;
    let summary = summary(&running.stop().await);

    assert_eq!(failed[0]["KinesisBatchInfo"]["batchSize"], 2, "{failed:#?}");
    assert_eq!(
        failed[0]["responseContext"]["functionError"], "Unhandled",
        "{failed:#?}"
    );
    assert_eq!(
        (summary.invocations, summary.retries, summary.processed),
        (3, 2, 0),
        "the first invocation and 2 retries: {summary:?}"
    );
    let logs = read_logs(&lab.logs());
    assert_eq!(logs.len(), 3, "an environment per attempt: {logs:#?}");
    for (name, lines) in &logs {
        assert!(
            lines.iter().any(|l| matches!(l,
                Logged::Function { request, text } if request == "INIT" && text == "exiting during init")),
            "{name}: {lines:#?}"
        );
        assert!(
            lines.iter().any(|l| matches!(l,
                Logged::Platform(text) if text.starts_with("INIT_REPORT") && text.contains("Runtime.ExitError"))),
            "{name}: {lines:#?}"
        );
    }
}

/// Reserved concurrency 1 and two shards whose invocations overlap: one is
/// throttled, retried, and never spends a retry attempt (there are none:
/// maximum_retry_attempts 0); every record is processed and nothing goes
/// to the destination. A changed variable reaches the next environment.
#[tokio::test]
async fn throttles_at_the_reserved_concurrency_never_spend_a_retry() {
    let lab = Lab::start(
        Code::Bootstrap,
        3,
        &[("EACH_SECONDS", "0.3"), ("GREETING", "one")],
        Some(1),
    )
    .await;
    let records = [
        ("a1", 0),
        ("b1", 1),
        ("a2", 0),
        ("b2", 1),
        ("a3", 0),
        ("b3", 1),
    ];
    lab.put(&records).await;
    lab.map(MappingSettings {
        batch_size: 1,
        maximum_retry_attempts: 0,
        bisect: false,
        report_batch_item_failures: false,
    })
    .await;
    let running = lab.run();
    assert!(
        eventually(Duration::from_secs(30), || printed(&read_logs(&lab.logs()))
            .len()
            >= records.len())
        .await,
        "{:#?}",
        read_logs(&lab.logs())
    );

    // The function's configuration changes: the next environment has it.
    aws_sdk_lambda::Client::new(&lab.sdk)
        .update_function_configuration()
        .function_name(FUNCTION)
        .environment(environment(&[("EACH_SECONDS", "0.3"), ("GREETING", "two")]))
        .send()
        .await
        .unwrap();
    running
        .wait_for("the new configuration", |c| {
            matches!(c, harness::supervisor::Change::FunctionVersion { .. })
        })
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    lab.put(&[("c1", 0)]).await;
    let greeted = |greeting: &str| {
        printed(&read_logs(&lab.logs()))
            .into_iter()
            .filter(|p| p["greeting"] == greeting)
            .flat_map(|p| p["records"].as_array().unwrap().clone())
            .collect::<Vec<Value>>()
    };
    assert!(
        eventually(Duration::from_secs(20), || greeted("two") == ["c1"]).await,
        "{:#?}",
        read_logs(&lab.logs())
    );
    let summary = summary(&running.stop().await);

    assert!(summary.service_errors > 0, "throttled: {summary:?}");
    assert_eq!(
        (
            summary.retries,
            summary.sent_to_destination,
            summary.processed
        ),
        (0, 0, 7),
        "{summary:?}"
    );
    assert_eq!(greeted("one").len(), 6);
    assert_reported(&read_logs(&lab.logs()));
}

/// A Python handler under AWS's runtime interface client, behind a mapping
/// with batch size 4, ReportBatchItemFailures and 2 retries: every record
/// processed once and each shard in order; a batch that fails at a record
/// after some succeeded is retried from that record without spending a
/// retry attempt; a record that always fails, alone, spends its attempt and
/// 2 retries and goes to the destination, alone.
#[tokio::test]
async fn a_python_handler_under_awslambdaric_keeps_the_mappings_promises() {
    let state = tempfile::tempdir().unwrap();
    let lab = Lab::start(
        Code::PythonHandler,
        10,
        &[("STATE_DIR", state.path().to_str().unwrap())],
        None,
    )
    .await;
    let mut written = Vec::new();
    let kinesis = aws_sdk_kinesis::Client::new(&lab.sdk);
    let mut poison_sequence = String::new();
    for i in 0..24 {
        let shard = i % 2;
        let fail = match i {
            5 | 10 => 1,
            23 => 9,
            _ => 0,
        };
        let id = format!("r{i}");
        let put = kinesis
            .put_record()
            .stream_name(STREAM)
            .partition_key("any")
            .explicit_hash_key(if shard == 0 { "0" } else { SECOND_SHARD })
            .data(Blob::new(
                serde_json::json!({ "id": id, "fail": fail }).to_string(),
            ))
            .send()
            .await
            .unwrap();
        if fail == 9 {
            poison_sequence = put.sequence_number;
        } else {
            written.push(id);
        }
    }
    lab.map(MappingSettings {
        batch_size: 4,
        maximum_retry_attempts: 2,
        bisect: false,
        report_batch_item_failures: true,
    })
    .await;
    let running = lab.run();
    let failed = lab.on_failure(1).await;
    assert!(
        eventually(Duration::from_secs(20), || printed(&read_logs(&lab.logs()))
            .len()
            >= written.len())
        .await,
        "{:#?}",
        read_logs(&lab.logs())
    );
    let summary = summary(&running.stop().await);

    let logs = read_logs(&lab.logs());
    let lines = printed(&logs);
    let mut ids: Vec<String> = lines
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    written.sort();
    assert_eq!(ids, written, "each record processed exactly once");
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for line in super::function_lines(&lab.logs())
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let shard = line["shard"].as_str().unwrap().to_owned();
        let sequence = line["sequence"].as_str().unwrap().to_owned();
        if let Some(previous) = last.insert(shard.clone(), sequence.clone()) {
            assert!(
                mapping::sequence::compare(&previous, &sequence).is_lt(),
                "{sequence} after {previous} on {shard}"
            );
        }
    }
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let batch = &failed[0]["KinesisBatchInfo"];
    assert_eq!(
        (
            batch["batchSize"].as_u64(),
            batch["startSequenceNumber"].as_str()
        ),
        (Some(1), Some(poison_sequence.as_str())),
        "{failed:#?}"
    );
    // Re-invocations: r5's and r10's batches once each from the failed
    // record (progress made: no attempt spent); the poison's batch once
    // from the poison (likewise), then the poison alone fails its attempt
    // and its 2 retries, and is given up: 5 in all, 6 partial failures.
    assert_eq!(
        (
            summary.retries,
            summary.partial_failures,
            summary.processed,
            summary.sent_to_destination
        ),
        (5, 6, 23, 1),
        "{summary:?}"
    );
    assert_reported(&logs);
}
