//! The end-to-end fixture: moto server and the cache double on free loopback
//! ports, provisioned through the `emulators` library, the consumer built by
//! its own `init`, the harness's event-source mapping, and the accounting
//! check every scenario ends with. The tests are in `tests/`, behind the
//! `integration` feature (`cargo test --features integration`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use cache_double::CacheDouble;
use clap::Parser;
use consumer::{Captured, Config, Consumer, DeadLetter, Output};
use emulators::{Emulators, MotoServer, Names, Provisioned};
use harness::{Function, MappingSettings, ReplayConfig, StartingPosition};

const SECRET: &str = "e2e-secret";

/// One running environment; everything stops when it is dropped.
pub struct Pipeline {
    pub moto: MotoServer,
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
        let emulators = Emulators::start(SECRET).await.expect("emulators start");
        let mut config = Config::new(
            &emulators.names.table,
            &emulators.names.cache,
            &emulators.names.parameter,
            &emulators.provisioned.dead_letter_queue_url,
        );
        config.momento_endpoint = Some(emulators.double.endpoint());
        tune(&mut config);
        let (output, captured) = Output::capture();
        let consumer = consumer::init(&config, &emulators.sdk, output)
            .await
            .expect("consumer init");
        let Emulators {
            moto,
            double,
            sdk,
            names,
            provisioned,
            ..
        } = emulators;
        Self {
            moto,
            double,
            sdk,
            names,
            provisioned,
            config,
            consumer: Arc::new(consumer),
            output: captured,
        }
    }

    /// `n` records from the producer (one task: moto loses records under
    /// concurrent writes). Returns every partition key in the stream (the
    /// producer's are the record ids).
    pub async fn produce(&self, n: u64) -> Vec<String> {
        let options = producer::Options::try_parse_from([
            "producer",
            "--stream",
            &self.names.stream,
            "-n",
            &n.to_string(),
            "-c",
            "1",
            "--json",
        ])
        .unwrap();
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

    /// Every partition key in the stream (read from the start).
    pub async fn stream_partition_keys(&self) -> Vec<String> {
        use aws_sdk_kinesis::types::ShardIteratorType;
        let kinesis = aws_sdk_kinesis::Client::new(&self.sdk);
        let shards = kinesis
            .list_shards()
            .stream_name(&self.names.stream)
            .send()
            .await
            .unwrap();
        let mut keys = Vec::new();
        for shard in shards.shards() {
            let mut iterator = kinesis
                .get_shard_iterator()
                .stream_name(&self.names.stream)
                .shard_id(shard.shard_id())
                .shard_iterator_type(ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            loop {
                let page = kinesis
                    .get_records()
                    .shard_iterator(&iterator)
                    .limit(10_000)
                    .send()
                    .await
                    .unwrap();
                keys.extend(
                    page.records()
                        .iter()
                        .filter_map(|r| r.partition_key().map(str::to_owned)),
                );
                match page.next_shard_iterator() {
                    Some(next) if !page.records().is_empty() => iterator = next.to_owned(),
                    _ => break,
                }
            }
        }
        keys
    }

    /// The mapping's configuration: Terraform's defaults from the start of the stream.
    pub fn replay_config(&self, follow: bool) -> ReplayConfig {
        ReplayConfig {
            stream: self.names.stream.clone(),
            region: self.names.region.clone(),
            function_name: self.names.function.clone(),
            settings: MappingSettings {
                starting_position: StartingPosition::TrimHorizon,
                on_failure: Some(self.provisioned.dead_letter_queue_url.clone()),
                ..MappingSettings::default()
            },
            follow,
            checkpoint_file: None,
        }
    }

    pub fn in_process(&self) -> Function {
        Function::InProcess(self.consumer.clone())
    }

    /// Drains the stream through the in-process consumer.
    pub async fn replay(&self) -> harness::ReplaySummary {
        let replay = harness::Replay::new(&self.sdk, self.replay_config(false), self.in_process())
            .await
            .unwrap();
        Arc::new(replay).run().await.unwrap()
    }

    /// Where every record went.
    pub async fn accounting(&self) -> Accounting {
        let mut accounting = Accounting::default();
        for line in self.output.take_lines() {
            *accounting
                .enriched
                .entry(line.record.record.id)
                .or_default() += 1;
        }
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        loop {
            let page = sqs
                .receive_message()
                .queue_url(&self.provisioned.dead_letter_queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return accounting;
            }
            for message in messages {
                let body: serde_json::Value =
                    serde_json::from_str(message.body().unwrap()).unwrap();
                if body.get("KinesisBatchInfo").is_some() {
                    accounting.destination.push(body);
                } else {
                    let letter: DeadLetter = serde_json::from_value(body).unwrap();
                    accounting
                        .dead_lettered
                        .entry(letter.partition_key.clone())
                        .or_default()
                        .push(letter.reason);
                }
                sqs.delete_message()
                    .queue_url(&self.provisioned.dead_letter_queue_url)
                    .receipt_handle(message.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

/// Every record's fate: enriched output (by id) or the dead-letter queue (by
/// partition key, with reasons), plus the mapping's on-failure records.
#[derive(Debug, Default)]
pub struct Accounting {
    pub enriched: HashMap<String, usize>,
    pub dead_lettered: HashMap<String, Vec<String>>,
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
