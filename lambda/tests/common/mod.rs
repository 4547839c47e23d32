//! Shared fixture: moto server and an in-process cache double, provisioned
//! through the `emulators` library, and Kinesis events built with
//! `aws_lambda_events` types (the shape AWS sends).
#![allow(dead_code)] // each test binary uses a different part

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::encodings::SecondTimestamp;
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use cache_client::local_api_key;
use consumer::lookup::{Table, TieredLookup};
use consumer::{Captured, Config, Consumer, DeadLetter, DeadLetters, KinesisInput, Output};
use emulators::{sdk_config, Emulators};
use model::ModelOne;

pub const SECRET: &str = "local-secret-4f1c9a7e2b";

/// Log lines captured in memory: `tracing_subscriber::fmt().with_writer(logs.clone())`.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// The EMF recorder the bootstrap installs, with the consumer's metrics
/// described; once per test binary (it is the global recorder).
pub fn emf_collector() -> &'static metrics_cloudwatch_embedded::Collector {
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("KinesisConsumer")
        .with_dimension("FunctionName", "test-function")
        .init()
        .unwrap();
    consumer::metrics::describe();
    collector
}

/// The emulators, provisioned; the double requires [`SECRET`].
pub struct Env(pub Emulators);

impl std::ops::Deref for Env {
    type Target = Emulators;
    fn deref(&self) -> &Emulators {
        &self.0
    }
}

impl Env {
    pub async fn start() -> Self {
        Env(Emulators::start(SECRET).await.expect("emulators start"))
    }

    pub fn config(&self) -> Config {
        let mut config = Config::new(
            &self.names.table,
            &self.names.cache,
            &self.names.parameter,
            &self.provisioned.dead_letter_queue_url,
        );
        config.momento_endpoint = Some(self.double.endpoint());
        config
    }

    /// The consumer as the bootstrap builds it, writing to memory.
    pub async fn consumer(&self, config: &Config) -> (Consumer, Captured) {
        let (output, captured) = Output::capture();
        let consumer = consumer::init(config, &self.sdk, output)
            .await
            .expect("consumer init succeeds");
        (consumer, captured)
    }

    /// A consumer whose DynamoDB endpoint refuses connections (Momento and
    /// SQS as in [`Env::config`]), writing to memory.
    pub async fn consumer_without_dynamodb(&self) -> (Consumer, Captured) {
        let config = self.config();
        let table = Table::new(
            aws_sdk_dynamodb::Client::new(&unreachable_sdk().await),
            &config.table_name,
            config.dynamodb_attempts,
        );
        let lookup = TieredLookup::new(&config, self.momento(), table);
        let dead_letters = DeadLetters::new(
            aws_sdk_sqs::Client::new(&self.sdk),
            &config.dead_letter_queue_url,
        );
        let (output, captured) = Output::capture();
        (Consumer::new(lookup, dead_letters, output), captured)
    }

    /// Everything in the dead-letter queue (received and deleted).
    pub async fn dead_letters(&self) -> Vec<DeadLetter> {
        self.dead_letter_bodies()
            .await
            .iter()
            .map(|body| serde_json::from_str(body).expect("DeadLetter JSON"))
            .collect()
    }

    /// The dead-letter queue's messages as SQS holds them (received and deleted).
    pub async fn dead_letter_bodies(&self) -> Vec<String> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let queue = &self.provisioned.dead_letter_queue_url;
        let mut bodies = Vec::new();
        loop {
            let page = sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive from the DLQ");
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(message.body().unwrap().to_owned());
                sqs.delete_message()
                    .queue_url(queue)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// The Momento key provisioned into SSM: a v1 key wrapping [`SECRET`].
pub fn api_key() -> String {
    local_api_key(SECRET)
}

/// An SDK configuration whose endpoint refuses connections, with one attempt
/// per call: DynamoDB "unavailable after the SDK's retries", quickly.
pub async fn unreachable_sdk() -> SdkConfig {
    let port = emulators::free_port().unwrap();
    let sdk = sdk_config(&format!("http://127.0.0.1:{port}"), "us-east-1").await;
    sdk.into_builder()
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .build()
}

/// Builds Kinesis events the way the event-source mapping does.
#[derive(Default)]
pub struct Events {
    records: Vec<KinesisEventRecord>,
    /// (index, raw `data` string) to patch in after serialization.
    raw: Vec<(usize, String)>,
    sequence: u64,
}

impl Events {
    pub fn new() -> Self {
        Self::default()
    }

    /// A valid record for `location` on `shard`; returns its id.
    pub fn record(&mut self, shard: u32, location: &str) -> String {
        let model = ModelOne::new(location);
        self.data(shard, &model.id, model.to_json());
        model.id
    }

    /// A record with arbitrary `data` bytes; returns its sequence number.
    pub fn data(&mut self, shard: u32, partition_key: &str, data: Vec<u8>) -> String {
        self.sequence += 1;
        let sequence = format!(
            "4954511524349098501828006771497314458218006259324{:07}",
            self.sequence
        );
        let shard_id = format!("shardId-{shard:012}");
        let mut record = KinesisEventRecord::default();
        record.aws_region = Some("us-east-1".into());
        record.event_id = Some(format!("{shard_id}:{sequence}"));
        record.event_name = Some("aws:kinesis:record".into());
        record.event_source = Some("aws:kinesis".into());
        record.event_source_arn =
            Some("arn:aws:kinesis:us-east-1:123456789012:stream/model-one-stream".into());
        record.event_version = Some("1.0".into());
        record.kinesis.kinesis_schema_version = Some("1.0".into());
        record.kinesis.partition_key = partition_key.to_owned();
        record.kinesis.sequence_number = sequence.clone();
        record.kinesis.data.0 = data;
        record.kinesis.approximate_arrival_timestamp = SecondTimestamp(chrono::Utc::now());
        self.records.push(record);
        sequence
    }

    /// A record whose `data` is the literal (not base64) string `raw`.
    pub fn raw(&mut self, shard: u32, raw: &str) -> String {
        let sequence = self.data(shard, "raw", Vec::new());
        self.raw.push((self.records.len() - 1, raw.to_owned()));
        sequence
    }

    /// The JSON payload Lambda would receive, read as the handler reads it.
    pub fn build(&self) -> KinesisInput {
        serde_json::from_value(self.json()).expect("event parses")
    }

    pub fn json(&self) -> serde_json::Value {
        let mut event = KinesisEvent::default();
        event.records = self.records.clone();
        let mut json = serde_json::to_value(&event).unwrap();
        for (i, raw) in &self.raw {
            json["Records"][*i]["kinesis"]["data"] = raw.clone().into();
        }
        json
    }
}

/// Sequence numbers of a response's batch item failures.
pub fn failures(response: &aws_lambda_events::event::streams::KinesisEventResponse) -> Vec<String> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone().unwrap_or_default())
        .collect()
}
