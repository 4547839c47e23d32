//! The end-to-end fixture: an AWS emulator and the cache double on loopback
//! ports, provisioned through the `emulators` library, the consumer built by
//! its own `init`, the harness's event-source mapping, and the accounting
//! check every scenario ends with. The tests are in `tests/`, behind the
//! `integration` feature (`cargo test --features integration`).
//!
//! The AWS emulator is chosen by `E2E_BACKEND`:
//! - `moto` (the default): a moto server per test on a free port;
//! - `localstack`: LocalStack from the project's `docker-compose.yml` on
//!   127.0.0.1:4566 (started with `docker compose up -d --wait localstack`
//!   when it does not answer, and left running for the next run), shared by
//!   the tests, each with resource names of its own.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use cache_double::CacheDouble;
use clap::Parser;
use consumer::{Captured, Config, Consumer, DeadLetter, Output, OutputLine};
use emulators::{Aws, Double, Emulators, MotoServer, Names, Provisioned};
use mapping::{
    Backoff, EventSourceMapping, Function, MappingConfig, MappingError, MappingSettings,
    StartingPosition, Summary,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The secret the cache double requires (the API key in SSM wraps it).
pub const DOUBLE_SECRET: &str = "e2e-secret";

/// One running environment; everything stops when it is dropped.
pub struct Pipeline {
    pub aws: Aws,
    pub double: CacheDouble,
    pub sdk: SdkConfig,
    pub names: Names,
    pub provisioned: Provisioned,
    pub config: Config,
    pub consumer: Arc<Consumer>,
    pub output: Captured,
}

impl Pipeline {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with the consumer's configuration adjusted by `tune`.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> Self {
        let (aws, names) = aws_backend().await;
        let emulators = Emulators::start_with(DOUBLE_SECRET, aws, names)
            .await
            .expect("emulators start");
        let mut config = Config::new(
            &emulators.names.table,
            &emulators.names.cache,
            &emulators.names.parameter,
            &emulators.provisioned.dead_letter_queue_url,
        );
        config.momento_endpoint = Some(emulators.double.endpoint());
        tune(&mut config);
        let (consumer, output) = start_consumer(&config, &emulators.sdk).await;
        let Emulators {
            aws,
            double,
            sdk,
            names,
            provisioned,
            ..
        } = emulators;
        Self {
            aws,
            double,
            sdk,
            names,
            provisioned,
            config,
            consumer,
            output,
        }
    }

    /// Another consumer "container" (its own L1, breaker and output), set up
    /// by `config` against the AWS endpoint of `sdk`.
    pub async fn start_consumer(
        &self,
        config: &Config,
        sdk: &SdkConfig,
    ) -> (Arc<Consumer>, Captured) {
        start_consumer(config, sdk).await
    }

    /// What the consumer's environment holds when it runs as a Lambda
    /// binary against these emulators.
    pub fn function_env(&self) -> Vec<(String, String)> {
        harness::watch::function_env(
            &self.names,
            &self.provisioned.dead_letter_queue_url,
            &self.double.endpoint(),
            self.aws.endpoint(),
        )
    }

    /// `n` records from the producer (one task: moto loses records under
    /// concurrent writes). Returns every partition key in the stream (the
    /// producer's are the record ids).
    pub async fn produce(&self, n: u64) -> Vec<String> {
        self.produce_with(n, &[]).await
    }

    /// [`Pipeline::produce`] with more of the producer's flags (`--aggregate`).
    pub async fn produce_with(&self, n: u64, flags: &[&str]) -> Vec<String> {
        let count = n.to_string();
        let args = [
            "producer",
            "--stream",
            &self.names.stream,
            "-n",
            &count,
            "-c",
            "1",
            "--json",
        ];
        let options = producer::Options::try_parse_from(args.iter().chain(flags)).unwrap();
        let summary = producer::run(&options, aws_sdk_kinesis::Client::new(&self.sdk))
            .await
            .unwrap();
        assert_eq!(
            (summary.sent, summary.failed),
            (n, 0),
            "the producer delivered"
        );
        self.stream_partition_keys().await
    }

    /// Writes raw records (partition key, data) in order.
    pub async fn put_raw(&self, records: &[(String, Vec<u8>)]) {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        for chunk in records.chunks(500) {
            let entries = chunk.iter().map(|(key, data)| {
                PutRecordsRequestEntry::builder()
                    .partition_key(key)
                    .data(Blob::new(data.clone()))
                    .build()
                    .unwrap()
            });
            let out = kinesis
                .put_records()
                .stream_name(&self.names.stream)
                .set_records(Some(entries.collect()))
                .send()
                .await
                .unwrap();
            assert_eq!(out.failed_record_count, Some(0));
        }
    }

    /// Every user record in the stream, read from the start: a plain record
    /// is one, a KPL aggregate holds many (an unreadable one counts whole).
    pub async fn stream_user_records(&self) -> Vec<UserRecordId> {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        let mut ids = Vec::new();
        for (shard, record) in emulators::stream_records(&kinesis, &self.names.stream)
            .await
            .unwrap()
        {
            let sequence = record.sequence_number().to_owned();
            match kpl_aggregation::deaggregate(record.data().as_ref()) {
                kpl_aggregation::Deaggregated::Aggregated(users) => ids.extend(
                    users
                        .iter()
                        .map(|u| (shard.clone(), sequence.clone(), Some(u.subsequence_number))),
                ),
                _ => ids.push((shard, sequence, None)),
            }
        }
        ids
    }

    /// Every partition key in the stream (read from the start).
    pub async fn stream_partition_keys(&self) -> Vec<String> {
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        emulators::stream_records(&kinesis, &self.names.stream)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|(_, record)| record.partition_key)
            .collect()
    }

    /// The mapping's configuration: Terraform's defaults from the start of the stream.
    pub fn replay_config(&self, follow: bool) -> MappingConfig {
        MappingConfig {
            stream: self.names.stream.clone(),
            region: self.names.region.clone(),
            function_name: self.names.function.clone(),
            settings: MappingSettings {
                starting_position: StartingPosition::TrimHorizon,
                on_failure: Some(self.provisioned.on_failure_queue_url.clone()),
                ..MappingSettings::default()
            },
            follow,
            checkpoint_file: None,
            poll_interval: None,
            function_timeout: None,
            backoff: Backoff::AWS_LIKE,
            uuid: None,
        }
    }

    pub fn in_process(&self) -> Function {
        harness::in_process::in_process(self.consumer.clone())
    }

    /// Drains the stream through the in-process consumer.
    pub async fn replay(&self) -> Summary {
        self.replay_through(self.in_process()).await
    }

    /// Drains the stream through `function`.
    pub async fn replay_through(&self, function: Function) -> Summary {
        let mapping = EventSourceMapping::new(&self.sdk, self.replay_config(false), function)
            .await
            .unwrap();
        mapping.run().await.unwrap()
    }

    /// Starts a mapping that keeps following the stream into `function`.
    pub async fn follow(&self, function: Function) -> Following {
        let replay = Arc::new(
            EventSourceMapping::new(&self.sdk, self.replay_config(true), function)
                .await
                .unwrap(),
        );
        let task = {
            let replay = replay.clone();
            tokio::spawn(async move { replay.run().await })
        };
        Following { replay, task }
    }

    /// Where every record went, by the in-process consumer's output.
    pub async fn accounting(&self) -> Accounting {
        self.accounting_of(self.output.take_lines()).await
    }

    /// Where every record went, by `lines` of enriched output; takes the
    /// messages of the dead-letter and on-failure queues.
    pub async fn accounting_of(&self, lines: Vec<OutputLine>) -> Accounting {
        let mut accounting = Accounting::default();
        for line in lines {
            *accounting
                .enriched
                .entry(line.record.record.id.clone())
                .or_default() += 1;
            accounting.lines.push(line);
        }
        for body in self
            .take_messages(&self.provisioned.dead_letter_queue_url)
            .await
        {
            let letter: DeadLetter = serde_json::from_value(body).unwrap();
            accounting
                .dead_lettered
                .entry(letter.partition_key.clone())
                .or_default()
                .push(letter.reason.clone());
            accounting.letters.push(letter);
        }
        accounting.destination = self
            .take_messages(&self.provisioned.on_failure_queue_url)
            .await;
        accounting
    }

    /// Every message in `queue_url` (received and deleted), as JSON.
    pub async fn take_messages(&self, queue_url: &str) -> Vec<serde_json::Value> {
        use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut bodies = Vec::new();
        loop {
            let page = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            let mut deletes = Vec::with_capacity(messages.len());
            for (i, message) in messages.iter().enumerate() {
                bodies.push(serde_json::from_str(message.body().unwrap()).unwrap());
                deletes.push(
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(message.receipt_handle().unwrap())
                        .build()
                        .unwrap(),
                );
            }
            let deleted = sqs
                .delete_message_batch()
                .queue_url(queue_url)
                .set_entries(Some(deletes))
                .send()
                .await
                .unwrap();
            assert!(deleted.failed().is_empty(), "{:?}", deleted.failed());
        }
    }

    /// How many messages `queue_url` holds, visible or in flight.
    pub async fn queue_depth(&self, queue_url: &str) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName::{
            ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
        };
        let attributes = aws_sdk_sqs::Client::new(&self.sdk)
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(ApproximateNumberOfMessages)
            .attribute_names(ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap_or_default();
        [
            ApproximateNumberOfMessages,
            ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .map(|name| attributes.get(name).map_or(0, |n| n.parse().unwrap_or(0)))
        .sum()
    }
}

/// A user record's identity: shard, sequence number, and its place in a KPL
/// aggregate (`None` for a plain record).
pub type UserRecordId = (String, String, Option<u64>);

/// Every record's fate: enriched output (by id) or the dead-letter queue (by
/// partition key, with reasons), plus the mapping's on-failure records.
#[derive(Debug, Default)]
pub struct Accounting {
    pub enriched: HashMap<String, usize>,
    /// The enriched output in the order it was written.
    pub lines: Vec<OutputLine>,
    pub dead_lettered: HashMap<String, Vec<String>>,
    /// The dead letters themselves, in the order received.
    pub letters: Vec<DeadLetter>,
    pub destination: Vec<serde_json::Value>,
}

impl Accounting {
    /// Checks that each of `keys` ended in exactly one place, allowing
    /// `duplicates` extra deliveries (at-least-once retries); returns how many
    /// duplicates there were.
    pub fn assert_each_once(&self, keys: &[String], duplicates: usize) -> usize {
        assert!(
            self.destination.is_empty(),
            "records given up on: {:?}",
            self.destination
        );
        let mut missing = Vec::new();
        let mut extra = 0;
        for key in keys {
            let enriched = self.enriched.get(key).copied().unwrap_or(0);
            let lettered = self.dead_lettered.get(key).map_or(0, Vec::len);
            match enriched + lettered {
                0 => missing.push(key.clone()),
                n => extra += n - 1,
            }
            assert!(
                enriched == 0 || lettered == 0,
                "{key} both enriched and dead-lettered"
            );
        }
        assert!(
            missing.is_empty(),
            "{} records lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        assert!(
            extra <= duplicates,
            "{extra} duplicate deliveries (allowed {duplicates})"
        );
        let known: std::collections::HashSet<&String> = keys.iter().collect();
        let strays = self
            .enriched
            .keys()
            .filter(|id| !known.contains(id))
            .count();
        assert_eq!(strays, 0, "output holds records nobody produced");
        extra
    }
}

impl Accounting {
    /// Checks that each of `expected` (user records, by shard, sequence
    /// number and subsequence number) ended in exactly one place, enriched
    /// output or the dead-letter queue, and nothing else did. A repeat is
    /// accepted only for a user record of an aggregate in `retried` (a
    /// Kinesis record reported for retry after some of its user records had
    /// gone out: Kinesis retries whole records); returns how many repeats.
    pub fn assert_each_user_record_once(
        &self,
        expected: &[UserRecordId],
        retried: &HashSet<(String, String)>,
    ) -> usize {
        assert!(
            self.destination.is_empty(),
            "records given up on: {:?}",
            self.destination
        );
        let mut fates: HashMap<UserRecordId, (usize, usize)> =
            expected.iter().map(|id| (id.clone(), (0, 0))).collect();
        assert_eq!(fates.len(), expected.len(), "expected user records repeat");
        // (enriched, dead-lettered) of each user record.
        fn fate(
            fates: &mut HashMap<UserRecordId, (usize, usize)>,
            id: UserRecordId,
        ) -> &mut (usize, usize) {
            fates
                .get_mut(&id)
                .unwrap_or_else(|| panic!("{id:?} came out but was never written"))
        }
        for l in &self.lines {
            let id = (
                l.shard_id.clone(),
                l.sequence_number.clone(),
                l.subsequence_number,
            );
            fate(&mut fates, id).0 += 1;
        }
        for l in &self.letters {
            let id = (
                l.shard_id.clone(),
                l.sequence_number.clone(),
                l.subsequence_number,
            );
            fate(&mut fates, id).1 += 1;
        }
        let mut repeats = 0;
        let mut missing = Vec::new();
        for (id, (enriched, lettered)) in &fates {
            assert!(
                *enriched == 0 || *lettered == 0,
                "{id:?} both enriched and dead-lettered"
            );
            match enriched + lettered {
                0 => missing.push(id.clone()),
                1 => {}
                n => {
                    let (shard, sequence, subsequence) = id;
                    assert!(
                        subsequence.is_some()
                            && retried.contains(&(shard.clone(), sequence.clone())),
                        "{id:?} came out {n} times outside a retried aggregate"
                    );
                    repeats += n - 1;
                }
            }
        }
        missing.sort();
        assert!(
            missing.is_empty(),
            "{} user records lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        repeats
    }

    /// Checks that each shard's output came in stream order (sequence
    /// numbers rising, then subsequence numbers inside an aggregate): a
    /// retry may not run ahead of the record it retries.
    pub fn assert_shard_order(&self) {
        assert_shard_order(&self.lines);
    }
}

/// Checks that each shard's records in `lines` come in stream order, user
/// records of one aggregate by their subsequence numbers.
pub fn assert_shard_order(lines: &[OutputLine]) {
    // Sequence numbers as the decimal numbers they are: AWS's have 56
    // digits, more than a u128 holds.
    let mut last: HashMap<&str, (&str, Option<u64>)> = HashMap::new();
    for line in lines {
        let here = (line.sequence_number.as_str(), line.subsequence_number);
        if let Some(previous) = last.insert(&line.shard_id, here) {
            let later = mapping::sequence::compare(here.0, previous.0)
                .then(here.1.cmp(&previous.1))
                .is_gt();
            assert!(
                later,
                "{}: {:?} written after {:?}",
                line.shard_id, here, previous
            );
        }
    }
}

/// The AWS emulator `E2E_BACKEND` names and the resource names to use on it.
async fn aws_backend() -> (Aws, Names) {
    match std::env::var("E2E_BACKEND").as_deref() {
        Err(_) | Ok("" | "moto") => {
            let moto = MotoServer::start().await.expect("moto server starts");
            (Aws::Moto(moto), Names::default())
        }
        Ok("localstack") => (
            Aws::Running {
                endpoint: localstack().await,
            },
            unique_names(),
        ),
        Ok(other) => panic!("E2E_BACKEND={other}: expected `moto` or `localstack`"),
    }
}

const LOCALSTACK: &str = "127.0.0.1:4566";

/// LocalStack's endpoint, started through docker compose if it does not answer.
async fn localstack() -> String {
    static STARTED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    STARTED
        .get_or_init(|| async {
            if emulators::answers_http(LOCALSTACK).await {
                return;
            }
            let compose = emulators::workspace_root().join("docker-compose.yml");
            let status = tokio::process::Command::new("docker")
                .arg("compose")
                .arg("-f")
                .arg(&compose)
                .args(["up", "-d", "--wait", "localstack"])
                .status()
                .await
                .expect("E2E_BACKEND=localstack needs Docker with the compose plugin");
            assert!(
                status.success(),
                "`docker compose up localstack` failed ({status}): E2E_BACKEND=localstack \
                 needs a running Docker daemon with the compose plugin"
            );
        })
        .await;
    format!("http://{LOCALSTACK}")
}

/// Default names with a suffix of this test's own: tests share a LocalStack,
/// whose state outlives a run.
fn unique_names() -> Names {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    let suffix = format!(
        "e2e-{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let names = Names::default();
    Names {
        stream: format!("{}-{suffix}", names.stream),
        table: format!("{}-{suffix}", names.table),
        parameter: format!("{}-{suffix}", names.parameter),
        cache: format!("{}-{suffix}", names.cache),
        dead_letter_queue: format!("{}-{suffix}", names.dead_letter_queue),
        on_failure_queue: format!("{}-{suffix}", names.on_failure_queue),
        ..names
    }
}

async fn start_consumer(config: &Config, sdk: &SdkConfig) -> (Arc<Consumer>, Captured) {
    let (output, captured) = Output::capture();
    let consumer = consumer::init(config, sdk, output)
        .await
        .expect("consumer init");
    (Arc::new(consumer), captured)
}

/// A mapping running in the background with `follow` on.
pub struct Following {
    pub replay: Arc<EventSourceMapping>,
    task: JoinHandle<Result<Summary, MappingError>>,
}

impl Following {
    /// Waits until `n` records in all have been processed.
    ///
    /// # Panics
    /// After two minutes without getting there.
    pub async fn until_processed(&self, n: u64) {
        let reached = eventually(Duration::from_secs(120), || {
            self.replay.summary().processed >= n
        })
        .await;
        assert!(
            reached,
            "not processed in time: {:?}",
            self.replay.summary()
        );
    }

    pub fn summary(&self) -> Summary {
        self.replay.summary()
    }

    /// Stops the mapping as Ctrl-C does (what is in flight finishes);
    /// returns its counts.
    pub async fn stop(self) -> Summary {
        self.replay.stop();
        match self.task.await {
            Ok(Ok(summary)) => summary,
            Ok(Err(error)) => panic!("the mapping failed: {error}"),
            Err(join) => panic!("the mapping panicked: {join}"),
        }
    }
}

/// A TCP proxy in front of an emulator that can be shut, to take one
/// service away from one client: shutting it cuts the open connections and
/// drops new ones as they arrive.
pub struct TcpGate {
    addr: SocketAddr,
    open: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl TcpGate {
    /// Listens on a free loopback port and forwards to the emulator at
    /// `endpoint` (`http://127.0.0.1:PORT`).
    pub async fn start(endpoint: &str) -> Self {
        let upstream: SocketAddr = endpoint
            .trim_start_matches("http://")
            .parse()
            .expect("an emulator's loopback endpoint");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (open, opened) = watch::channel(true);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut opened = opened.clone();
                if !*opened.borrow() {
                    continue; // dropped: the client sees the connection close
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = opened.wait_for(|open| !*open) => {}
                    }
                });
            }
        });
        Self { addr, open, task }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_open(&self, open: bool) {
        self.open.send_replace(open);
    }
}

impl Drop for TcpGate {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The `cache-double` binary, built now if this test run did not build it.
pub fn double_binary() -> PathBuf {
    if let Some(binary) = Double::built_binary() {
        return binary;
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--package",
            "cache-double",
            "--bin",
            "cache-double",
        ])
        .current_dir(emulators::workspace_root());
    emulators::without_cargo_env(&mut cargo);
    assert!(
        cargo.status().unwrap().success(),
        "building cache-double failed"
    );
    Double::built_binary().expect("cache-double beside the test binary after building it")
}

/// The consumer's `bootstrap` binary served by `cargo lambda watch` on a free
/// loopback port, pointed at a [`Pipeline`]'s emulators. Its standard output
/// (where the binary writes enriched records) goes to a file under
/// `.local/logs`. Dropping it stops the whole process group.
pub struct LambdaWatch {
    child: Child,
    port: u16,
    stdout: PathBuf,
}

impl LambdaWatch {
    /// Starts `cargo lambda watch` and invokes the function once with an
    /// empty batch, which waits for the binary's build and init.
    pub async fn start(variables: &[(String, String)]) -> Self {
        use std::os::unix::process::CommandExt;
        let port = emulators::free_port().unwrap();
        let logs = emulators::local_dir().join("logs");
        std::fs::create_dir_all(&logs).unwrap();
        let stdout = logs.join(format!("e2e-lambda-watch-{port}.out"));
        let stderr = logs.join(format!("e2e-lambda-watch-{port}.err"));
        let mut command = harness::watch::command(variables, port).unwrap();
        emulators::without_cargo_env(&mut command);
        command
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .process_group(0);
        let child = command.spawn().expect("cargo lambda watch starts");
        let watch = Self {
            child,
            port,
            stdout,
        };
        let listening = eventually(Duration::from_secs(120), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })
        .await;
        assert!(
            listening,
            "cargo lambda watch did not listen: see {}",
            stderr.display()
        );
        let started = std::time::Instant::now();
        let response = watch
            .function()
            .invoke(serde_json::json!({ "Records": [] }))
            .await
            .unwrap_or_else(|e| panic!("first invocation: {e}; see {}", stderr.display()));
        assert_eq!(response, serde_json::json!({ "batchItemFailures": [] }));
        eprintln!(
            "cargo lambda watch: bootstrap built and ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        watch
    }

    /// The mapping's way to invoke it: the Lambda Invoke API.
    pub fn function(&self) -> Function {
        Function::invoke_api(harness::watch::invoke_url(self.port))
    }

    /// The enriched output lines the binary has written so far (cargo-lambda
    /// may prefix lines, so each is read from its first `{`).
    pub fn output_lines(&self) -> Vec<OutputLine> {
        std::fs::read_to_string(&self.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str(&line[line.find('{')?..]).ok())
            .collect()
    }
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        // cargo-lambda runs the function as its own child: stop the group.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Waits until `condition` holds, polling every 10 ms, for at most `limit`.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}
