//! `harness run` over what Terraform applied: `terraform/local` applied to
//! moto with the consumer zipped for this machine, its event-source mapping
//! run by the harness's supervisor with the settings the Lambda API
//! returns, into the function its alias points at, whose code runs in
//! execution environments; changes applied with Terraform (or published to
//! the function) reach the running mapping. Needs `terraform` on PATH
//! (skipped, saying so, when it is missing).
#![cfg(feature = "integration")]

mod common;
#[path = "harness_run/environments.rs"]
mod environments;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use axum::routing::post;
use axum::Json;
use cache_double::{CacheDouble, DoubleConfig, FaultConfig};
use consumer::OutputLine;
use e2e::eventually;
use emulators::{MotoServer, Names};
use harness::supervisor::{Change, RunConfig, RunReport, Supervisor, Target};
use mapping::Backoff;
use model::ModelOne;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use common::terraform::Terraform;

const SECRET: &str = "harness-run-secret";
const MAPPING: &str = "module.stack.module.consumer.aws_lambda_event_source_mapping.this";
const CARS_ONLY: &str = r#"{\"data\":{\"read_location\":[\"Car\"]}}"#;

/// The stack applied to moto with the cache double behind it.
struct Stack {
    /// Runs while the stack lives.
    _moto: MotoServer,
    double: CacheDouble,
    terraform: Terraform,
    sdk: SdkConfig,
    names: Names,
    key: String,
    /// The zip Terraform deployed (in `_dir`).
    zip: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Stack {
    async fn apply() -> Self {
        let names = Names::default();
        let moto = MotoServer::start().await.unwrap();
        let double = CacheDouble::start(DoubleConfig {
            faults: FaultConfig {
                api_key: Some(SECRET.to_owned()),
                ..Default::default()
            },
            caches: vec![names.cache.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("bootstrap.zip");
        harness::code::package(&built_bootstrap(), &zip).unwrap();
        let terraform = Terraform::new(moto.endpoint(), &zip);
        let key = format!("momento_api_key={}", cache_client::local_api_key(SECRET));
        terraform.plan_and_apply("first", &[&key, "mapping={batch_size=4}"]);
        let sdk = emulators::sdk_config(moto.endpoint(), &names.region).await;
        Self {
            _moto: moto,
            double,
            terraform,
            sdk,
            names,
            key,
            zip,
            _dir: dir,
        }
    }

    /// The deployed zip run in execution environments, their logs under
    /// `dir/logs`; a zip that is not the one deployed is refused.
    fn environments(&self, dir: &Path) -> Target {
        Target::Environments {
            code: self.zip.clone(),
            defaults: harness::environments::emulator_defaults(
                self._moto.endpoint(),
                &self.double.endpoint(),
            ),
            functions_dir: dir.join("functions"),
            log_dir: dir.join("logs"),
            strict: true,
        }
    }

    /// `terraform apply` of a changed `mapping`, without refreshing what did
    /// not change (seconds instead of a full plan against moto).
    fn apply_mapping(&self, mapping: &str) {
        let variable = format!("mapping={mapping}");
        self.terraform.apply_quick(&[&self.key, &variable], &[]);
    }

    /// Destroys the mapping alone, as `terraform destroy -target` does.
    fn destroy_mapping(&self, mapping: &str) {
        let variable = format!("mapping={mapping}");
        let target = format!("-target={MAPPING}");
        self.terraform
            .apply_quick(&[&self.key, &variable], &["-destroy", &target]);
    }

    fn supervisor(&self, target: Target, checkpoints: &Path) -> Running {
        supervise(&self.sdk, "live", target, checkpoints, Backoff::AWS_LIKE)
    }

    /// Writes model records (their ids are the partition keys unless
    /// `partition_key` puts them all on one shard), in order, in one call.
    async fn put(&self, locations: &[&str], partition_key: Option<&str>) -> Vec<ModelOne> {
        let records: Vec<ModelOne> = locations.iter().map(|l| ModelOne::new(*l)).collect();
        let entries = records.iter().map(|r| {
            PutRecordsRequestEntry::builder()
                .partition_key(partition_key.unwrap_or(&r.id))
                .data(Blob::new(serde_json::to_vec(r).unwrap()))
                .build()
                .unwrap()
        });
        let out = aws_sdk_kinesis::Client::new(&self.sdk)
            .put_records()
            .stream_name(&self.names.stream)
            .set_records(Some(entries.collect()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_record_count, Some(0));
        records
    }
}

/// The supervisor following the emulator's mappings (every 300 ms) into
/// `qualifier` of their functions, run by `target`.
fn supervise(
    sdk: &SdkConfig,
    qualifier: &str,
    target: Target,
    checkpoints: &Path,
    backoff: Backoff,
) -> Running {
    let changes: Arc<Mutex<Vec<Change>>> = Arc::default();
    let supervisor = Supervisor::new(
        sdk,
        RunConfig {
            function: None,
            qualifier: qualifier.to_owned(),
            follow: true,
            refresh: Duration::from_millis(300),
            checkpoint_dir: Some(checkpoints.to_owned()),
            starting_position_timestamp: None,
            target,
            backoff,
            poll_interval: Some(Duration::from_millis(50)),
        },
    );
    let (stop, stopped) = watch::channel(false);
    let task = {
        let changes = changes.clone();
        tokio::spawn(async move {
            supervisor
                .run(stopped, move |change| changes.lock().push(change))
                .await
                .unwrap()
        })
    };
    Running {
        changes,
        stop,
        task,
    }
}

/// A running supervisor and what it said.
struct Running {
    changes: Arc<Mutex<Vec<Change>>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<RunReport>,
}

impl Running {
    /// Waits (up to 20 s) for a change `matches` accepts; returns it.
    async fn wait_for(&self, what: &str, matches: impl Fn(&Change) -> bool) -> Change {
        let found = || self.changes.lock().iter().find(|c| matches(c)).cloned();
        assert!(
            eventually(Duration::from_secs(20), || found().is_some()).await,
            "no {what}; the supervisor said {:?}",
            self.changes.lock()
        );
        found().unwrap()
    }

    async fn stop(self) -> RunReport {
        self.stop.send(true).unwrap();
        self.task.await.unwrap()
    }
}

/// An Invoke API that records every event's records (shard, sequence
/// number, record id) per invocation and succeeds.
async fn recording_function() -> (String, Arc<Mutex<Vec<Vec<Delivered>>>>) {
    let invocations: Arc<Mutex<Vec<Vec<Delivered>>>> = Arc::default();
    let seen = invocations.clone();
    let app = axum::Router::new().route(
        "/2015-03-31/functions/{name}/invocations",
        post(move |Json(event): Json<Value>| {
            let seen = seen.clone();
            async move {
                let batch = event["Records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(Delivered::from_event_record)
                    .collect();
                seen.lock().push(batch);
                Json(json!({ "batchItemFailures": [] }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/2015-03-31/functions/f/invocations",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, invocations)
}

#[derive(Debug, Clone)]
struct Delivered {
    shard: String,
    sequence: String,
    id: String,
}

impl Delivered {
    fn from_event_record(record: &Value) -> Self {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD
            .decode(record["kinesis"]["data"].as_str().unwrap())
            .unwrap();
        // A record that is not a model (the poison one) by its data.
        let id = serde_json::from_slice::<ModelOne>(&data)
            .map_or_else(|_| String::from_utf8_lossy(&data).into_owned(), |m| m.id);
        Self {
            shard: record["eventID"]
                .as_str()
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_owned(),
            sequence: record["kinesis"]["sequenceNumber"]
                .as_str()
                .unwrap()
                .to_owned(),
            id,
        }
    }
}

fn ids(records: &[ModelOne]) -> Vec<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

/// The ids delivered in `invocations[from..]`, in order.
fn delivered_ids(invocations: &[Vec<Delivered>], from: usize) -> Vec<String> {
    invocations[from..]
        .iter()
        .flatten()
        .map(|d| d.id.clone())
        .collect()
}

/// Each shard's records came in rising sequence-number order.
fn assert_rising_per_shard(invocations: &[Vec<Delivered>]) {
    let mut last: HashMap<&str, &str> = HashMap::new();
    for d in invocations.iter().flatten() {
        if let Some(previous) = last.insert(&d.shard, &d.sequence) {
            assert_eq!(
                mapping::sequence::compare(previous, &d.sequence),
                std::cmp::Ordering::Less,
                "{} came after {previous} on {}",
                d.sequence,
                d.shard
            );
        }
    }
}

/// The consumer's `bootstrap` that cargo built beside this test (the
/// consumer's own integration tests make `cargo test` build its binaries).
fn built_bootstrap() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<this test> → target/<profile>/bootstrap
    let bootstrap = exe.parent().unwrap().parent().unwrap().join("bootstrap");
    assert!(
        bootstrap.is_file(),
        "{} is missing: `cargo test --features integration` builds it (alone: `cargo build -p consumer --bin bootstrap`)",
        bootstrap.display()
    );
    bootstrap
}

/// What the function wrote in its environments' logs under `logs`,
/// invocation by invocation in the order they started (each log keeps its
/// environment's order; START lines carry the harness's time).
fn function_lines(logs: &Path) -> Vec<String> {
    let mut invocations: Vec<(String, Vec<String>)> = Vec::new();
    for file in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
        let mut current: Option<usize> = None;
        for line in text.lines() {
            let fields: Vec<&str> = line.splitn(3, '\t').collect();
            if fields.len() == 2 && fields[1].starts_with("START RequestId: ") {
                invocations.push((fields[0].to_owned(), Vec::new()));
                current = Some(invocations.len() - 1);
            } else if let (3, Some(at)) = (fields.len(), current) {
                invocations[at].1.push(fields[2].to_owned());
            }
        }
    }
    invocations.sort_by(|a, b| a.0.cmp(&b.0));
    invocations
        .into_iter()
        .flat_map(|(_, lines)| lines)
        .collect()
}

/// The consumer's enriched lines among them.
fn output_lines(logs: &Path) -> Vec<OutputLine> {
    function_lines(logs)
        .iter()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[tokio::test]
async fn harness_run_runs_what_terraform_applied_and_follows_its_changes() {
    if std::process::Command::new("terraform")
        .arg("version")
        .output()
        .is_err()
    {
        eprintln!("terraform is not on PATH: skipping the harness run test");
        return;
    }
    let clock = std::time::Instant::now();
    let lap = |what: &str| eprintln!("{:>6.1} s  {what}", clock.elapsed().as_secs_f64());
    let stack = Stack::apply().await;
    lap("applied");
    let checkpoints = tempfile::tempdir().unwrap();
    let logs = checkpoints.path().join("logs").join(&stack.names.function);

    // 1. The deployed zip's bootstrap in execution environments, configured
    // as applied: every record enriched once, each shard in order.
    let written = stack.put(&["Car", "Diner", "House"].repeat(8), None).await;
    let environments = stack.supervisor(stack.environments(checkpoints.path()), checkpoints.path());
    let started = environments
        .wait_for("mapping started", |c| matches!(c, Change::Started { .. }))
        .await;
    let Change::Started { uuid, .. } = started else {
        unreachable!()
    };
    assert!(
        eventually(Duration::from_secs(30), || output_lines(&logs).len()
            >= written.len())
        .await,
        "{} of {} records enriched; the supervisor said {:?}",
        output_lines(&logs).len(),
        written.len(),
        environments.changes.lock()
    );
    let lines = output_lines(&logs);
    let mut enriched: Vec<String> = lines.iter().map(|l| l.record.record.id.clone()).collect();
    enriched.sort();
    let mut expected = ids(&written);
    expected.sort();
    assert_eq!(enriched, expected, "each record enriched exactly once");
    e2e::assert_shard_order(&lines);
    assert!(
        lines
            .iter()
            .all(|l| l.record.location.location == l.record.record.read_location),
        "enriched from the applied table through the cache"
    );

    lap("enriched in execution environments");

    // 2. A new version with another dead-letter queue, the alias moved: the
    // next invocation runs it.
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let second_queue = sqs
        .create_queue()
        .queue_name("second-dead-letters")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    publish_with(&stack.sdk, &stack.names.function, "DLQ_URL", &second_queue).await;
    environments
        .wait_for(
            "version 2 running",
            |c| matches!(c, Change::FunctionVersion { version, .. } if version == "2"),
        )
        .await;
    let first_queue = current_variable(&stack.sdk, &stack.names.function, "1", "DLQ_URL").await;
    put_raw(&stack, b"not a record").await;
    let letters = wait_for_messages(&sqs, &second_queue, 1).await;
    let letter: consumer::DeadLetter = serde_json::from_str(&letters[0]).unwrap();
    assert_eq!(
        (letter.reason.as_str(), letter.partition_key.as_str()),
        ("not_json", "raw")
    );
    let stale = sqs
        .receive_message()
        .queue_url(&first_queue)
        .send()
        .await
        .unwrap();
    assert!(
        stale.messages().is_empty(),
        "nothing went to version 1's queue"
    );
    let report = environments.stop().await;
    assert_eq!(report.mappings.len(), 1);
    let (_, summary) = &report.mappings[0];
    assert_eq!(summary.as_ref().unwrap().processed, 25);

    lap("new version ran");

    // 3. Restarted through an Invoke API, the same mapping resumes: nothing
    // done is delivered again. The applied batch size holds.
    let first = stack.put(&["House"; 8], Some("one-shard")).await;
    let (url, invocations) = recording_function().await;
    let running = stack.supervisor(Target::Invoke { url }, checkpoints.path());
    assert!(
        eventually(Duration::from_secs(20), || {
            delivered_ids(&invocations.lock(), 0).len() >= first.len()
        })
        .await,
        "delivered {:?}",
        invocations.lock()
    );
    assert_eq!(
        delivered_ids(&invocations.lock(), 0),
        ids(&first),
        "resumed, nothing repeated"
    );
    let sizes: Vec<usize> = invocations.lock().iter().map(Vec::len).collect();
    assert!(
        sizes.iter().all(|&n| n <= 4) && sizes.contains(&4),
        "batch_size 4: {sizes:?}"
    );

    lap("resumed");

    // 4. A smaller batch and a filter, applied while it runs: from the next
    // batch, invocations hold at most 2 records and only cars.
    let filtered = format!(r#"{{batch_size=2, filter_criteria=["{CARS_ONLY}"]}}"#);
    stack.apply_mapping(&filtered);
    running
        .wait_for(
            "the update",
            |c| matches!(c, Change::Updated { what, .. } if what.contains("batch size 4 → 2")),
        )
        .await;
    let from = invocations.lock().len();
    let mixed = [
        "Car", "Car", "Car", "Diner", "Car", "House", "Car", "Diner", "Car", "Car",
    ];
    let written_now = stack.put(&mixed, Some("one-shard")).await;
    let (cars, others): (Vec<ModelOne>, Vec<ModelOne>) = written_now
        .into_iter()
        .partition(|r| r.read_location == "Car");
    assert!(
        eventually(Duration::from_secs(20), || {
            delivered_ids(&invocations.lock(), from).len() >= cars.len()
        })
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        delivered_ids(&invocations.lock(), from),
        ids(&cars),
        "the cars, once and in order; none of {:?}",
        ids(&others)
    );
    let sizes: Vec<usize> = invocations.lock()[from..].iter().map(Vec::len).collect();
    assert!(sizes.iter().all(|&n| n <= 2), "batch_size 2: {sizes:?}");

    lap("updated");

    // 5. Disabled: nothing is invoked; enabled again, what was written
    // meanwhile arrives.
    let disabled = format!(r#"{{enabled=false, batch_size=2, filter_criteria=["{CARS_ONLY}"]}}"#);
    stack.apply_mapping(&disabled);
    running
        .wait_for(
            "disabled",
            |c| matches!(c, Change::Updated { what, .. } if what.contains("enabled true → false")),
        )
        .await;
    let from = invocations.lock().len();
    let meanwhile = stack.put(&["Car"; 4], Some("one-shard")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        invocations.lock().len(),
        from,
        "no invocation while disabled"
    );
    stack.apply_mapping(&filtered);
    assert!(
        eventually(Duration::from_secs(20), || {
            delivered_ids(&invocations.lock(), from).len() >= meanwhile.len()
        })
        .await
    );
    assert_eq!(delivered_ids(&invocations.lock(), from), ids(&meanwhile));
    let sizes: Vec<usize> = invocations.lock()[from..].iter().map(Vec::len).collect();
    assert_eq!(
        sizes,
        [2, 2],
        "what waited comes in batches of the applied size"
    );
    assert_rising_per_shard(&invocations.lock());

    lap("disabled and enabled");

    // 6. Destroyed: it stops. Created again (through the Lambda API: one
    // apply less), it is a new mapping, from the start of the stream
    // (TRIM_HORIZON), as on AWS.
    stack.destroy_mapping(&filtered);
    running
        .wait_for(
            "stopped",
            |c| matches!(c, Change::Stopped { uuid: u, error: None } if *u == uuid),
        )
        .await;
    let from = invocations.lock().len();
    stack.put(&["Car"], Some("one-shard")).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        invocations.lock().len(),
        from,
        "a destroyed mapping invokes nothing"
    );
    create_mapping(&stack).await;
    let recreated = running
        .wait_for(
            "a new mapping",
            |c| matches!(c, Change::Started { uuid: u, .. } if *u != uuid),
        )
        .await;
    let first_car = written.iter().find(|r| r.read_location == "Car").unwrap();
    assert!(
        eventually(Duration::from_secs(20), || {
            delivered_ids(&invocations.lock(), from).contains(&first_car.id)
        })
        .await,
        "{recreated:?} started from the start of the stream"
    );
    lap("destroyed and created again");
    let report = running.stop().await;
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert!(
        report.mappings.iter().all(|(_, r)| r.is_ok()),
        "{:?}",
        report.mappings
    );
}

/// UpdateFunctionConfiguration with one variable changed, PublishVersion,
/// and the alias `live` moved to the new version.
async fn publish_with(sdk: &SdkConfig, function: &str, name: &str, value: &str) {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let current = harness::function::resolve(&lambda, function, "live")
        .await
        .unwrap();
    let mut variables = current.environment.clone();
    variables.insert(name.to_owned(), value.to_owned());
    lambda
        .update_function_configuration()
        .function_name(function)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(variables.into_iter().collect()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let version = lambda
        .publish_version()
        .function_name(function)
        .send()
        .await
        .unwrap()
        .version
        .unwrap();
    lambda
        .update_alias()
        .function_name(function)
        .name("live")
        .function_version(version)
        .send()
        .await
        .unwrap();
}

/// A mapping of the stream to the function's alias `live`, AWS's defaults.
async fn create_mapping(stack: &Stack) {
    let stream = emulators::stream_arn(
        &aws_sdk_kinesis::Client::new(&stack.sdk),
        &stack.names.stream,
    )
    .await
    .unwrap();
    aws_sdk_lambda::Client::new(&stack.sdk)
        .create_event_source_mapping()
        .event_source_arn(stream)
        .function_name(format!("{}:live", stack.names.function))
        .starting_position(aws_sdk_lambda::types::EventSourcePosition::TrimHorizon)
        .send()
        .await
        .unwrap();
}

/// A variable of the function's environment at `version`.
async fn current_variable(sdk: &SdkConfig, function: &str, version: &str, name: &str) -> String {
    let lambda = aws_sdk_lambda::Client::new(sdk);
    let config = harness::function::resolve(&lambda, function, version)
        .await
        .unwrap();
    config.environment[name].clone()
}

async fn put_raw(stack: &Stack, data: &[u8]) {
    aws_sdk_kinesis::Client::new(&stack.sdk)
        .put_record()
        .stream_name(&stack.names.stream)
        .partition_key("raw")
        .data(Blob::new(data.to_vec()))
        .send()
        .await
        .unwrap();
}

/// At least `n` message bodies from `queue` (received, up to 20 s).
async fn wait_for_messages(sqs: &aws_sdk_sqs::Client, queue: &str, n: usize) -> Vec<String> {
    let mut bodies = Vec::new();
    for _ in 0..40 {
        let page = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        bodies.extend(
            page.messages()
                .iter()
                .filter_map(|m| m.body().map(str::to_owned)),
        );
        if bodies.len() >= n {
            return bodies;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{} of {n} messages in {queue}", bodies.len());
}
