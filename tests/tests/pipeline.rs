//! The whole pipeline: the producer writes to moto's stream, the harness's
//! event-source mapping invokes the consumer, the consumer reads through the
//! cache double and moto's DynamoDB, and every record is accounted for; then
//! things break on purpose.
#![cfg(feature = "integration")]

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_double::Injected;
use e2e::{
    assert_shard_order, double_binary, eventually, LambdaWatch, Pipeline, TcpGate, DOUBLE_SECRET,
};
use emulators::{free_port, sdk_config, Double};
use harness::in_process::in_process;
use mapping::engine::redrive::Selection;
use mapping::redrive::RangeResult;
use mapping::{Backoff, EventSourceMapping, Redrive, RedriveConfig};

#[tokio::test]
async fn happy_path_2000_records_in_process() {
    let pipeline = Pipeline::start().await;
    let keys = pipeline.produce(2_000).await;
    assert_eq!(keys.len(), 2_000);
    let summary = pipeline.replay().await;
    assert_eq!((summary.records, summary.processed), (2_000, 2_000));
    assert_eq!((summary.retries, summary.sent_to_destination), (0, 0));
    let accounting = pipeline.accounting().await;
    assert!(accounting.dead_lettered.is_empty());
    assert_eq!(accounting.assert_each_once(&keys, 0), 0);
    let lookups = pipeline.consumer.lookup().totals();
    assert_eq!(
        lookups.dynamodb_found, 3,
        "each location read from DynamoDB once: {lookups:?}"
    );
}

#[tokio::test]
async fn happy_path_2000_records_through_the_built_binary_under_cargo_lambda_watch() {
    let pipeline = Pipeline::start().await;
    let watch = LambdaWatch::start(&pipeline.function_env()).await;
    let keys = pipeline.produce(2_000).await;
    let summary = pipeline.replay_through(watch.function()).await;
    assert_eq!((summary.records, summary.processed), (2_000, 2_000));
    assert_eq!(
        (
            summary.retries,
            summary.function_errors,
            summary.sent_to_destination
        ),
        (0, 0, 0)
    );
    let accounting = pipeline.accounting_of(watch.output_lines()).await;
    assert!(accounting.dead_lettered.is_empty());
    assert_eq!(accounting.assert_each_once(&keys, 0), 0);
    accounting.assert_shard_order();
    // One container: each location missed in Momento once, was read from
    // DynamoDB and written back; L1 answered everything after that. (Two
    // more misses: the cache-exists check at init of the fixture's
    // in-process consumer and of the binary.)
    let stats = pipeline.double.stats();
    assert_eq!(stats.rpc("Get").misses, 3 + 2, "{stats:?}");
    assert_eq!(stats.rpc("Set").sets, 3, "{stats:?}");
    println!(
        "2,000 records through bootstrap under cargo lambda watch: {} invocations in {:.1} s, write->processed p50 {:.1} ms p99 {:.1} ms",
        summary.invocations, summary.wall_seconds, summary.latency_p50_ms, summary.latency_p99_ms
    );
}

#[tokio::test]
async fn the_cache_double_killed_and_restarted_mid_run_loses_nothing() {
    let pipeline = Pipeline::start().await;
    // A double in its own process on fixed ports, so it can be killed and
    // started again where the consumer expects it.
    let (port, admin_port) = (free_port().unwrap(), free_port().unwrap());
    let start_double = || {
        Double::spawn_command(
            Command::new(double_binary()),
            port,
            admin_port,
            DOUBLE_SECRET,
            &pipeline.names.cache,
        )
    };
    let double = start_double().await.unwrap();
    let mut config = pipeline.config.clone();
    config.momento_endpoint = Some(double.endpoint());
    config.l1_ttl = Duration::from_millis(1); // every batch asks the remote tiers
    config.breaker_cooldown = Duration::from_millis(200);
    let (consumer, output) = pipeline.start_consumer(&config, &pipeline.sdk).await;
    let mapping = pipeline.follow(in_process(consumer.clone())).await;

    pipeline.produce(600).await;
    mapping.until_processed(600).await;
    let up = consumer.lookup().totals();
    assert!(up.momento_hits > 0, "{up:?}");

    drop(double); // SIGKILL
    pipeline.produce(700).await;
    mapping.until_processed(1_300).await;
    let down = consumer.lookup().totals();
    assert!(down.momento_errors > up.momento_errors, "{down:?}");
    assert!(down.breaker_opened >= 1, "{down:?}");
    assert!(
        down.dynamodb_found > up.dynamodb_found,
        "DynamoDB answered while the cache was down: {down:?}"
    );

    let double = start_double().await.unwrap();
    // Past the cool-down, so the next batch probes the restarted double.
    tokio::time::sleep(config.breaker_cooldown * 2).await;
    let keys = pipeline.produce(700).await;
    mapping.until_processed(2_000).await;
    let summary = mapping.stop().await;
    let after = consumer.lookup().totals();
    assert!(
        after.momento_hits > down.momento_hits,
        "hits resume after the restart: {after:?}"
    );
    assert!(
        double_gets(&double).await > 0,
        "the new double answered gets"
    );
    assert_eq!(
        (
            summary.retries,
            summary.function_errors,
            summary.partial_failures
        ),
        (0, 0, 0),
        "a cache outage fails no record"
    );
    let accounting = pipeline.accounting_of(output.take_lines()).await;
    assert!(accounting.dead_lettered.is_empty());
    accounting.assert_each_once(&keys, 0);
    accounting.assert_shard_order();
    println!(
        "cache double killed and restarted: Momento hits {} before, {} while down (errors {}, skipped {}), {} after; DynamoDB found {} / {} / {}",
        up.momento_hits,
        down.momento_hits - up.momento_hits,
        down.momento_errors - up.momento_errors,
        down.momento_skipped - up.momento_skipped,
        after.momento_hits - down.momento_hits,
        up.dynamodb_found,
        down.dynamodb_found - up.dynamodb_found,
        after.dynamodb_found - down.dynamodb_found,
    );
}

/// Hits of `Get` on a double in another process, from its admin API.
async fn double_gets(double: &Double) -> u64 {
    let stats: cache_double::AdminStats = reqwest::get(format!("{}/stats", double.admin_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats.rpc("Get").hits
}

/// The pipeline's consumer settings for an outage: both cache tiers expire
/// at once, so every batch reads DynamoDB, `attempts` tries of 200 ms each.
fn reading_dynamodb_every_batch(pipeline: &Pipeline, attempts: u32) -> consumer::Config {
    let mut config = pipeline.config.clone();
    config.l1_ttl = Duration::from_millis(1);
    config.cache_ttl = Duration::from_millis(1);
    config.dynamodb_attempts = attempts;
    config.dynamodb_timeout = Duration::from_millis(200);
    config
}

#[tokio::test]
async fn dynamodb_unavailable_mid_run_retries_then_completes_in_shard_order() {
    let pipeline = Pipeline::start().await;
    // The consumer reaches the AWS emulator through a gate; the producer and the mapping
    // do not. No record is poison, so the consumer's only AWS calls after
    // init are DynamoDB reads: shutting the gate is a DynamoDB outage.
    let gate = TcpGate::start(pipeline.aws.endpoint()).await;
    let gated = sdk_config(&gate.endpoint(), &pipeline.names.region).await;
    let config = reading_dynamodb_every_batch(&pipeline, 2);
    let (consumer, output) = pipeline.start_consumer(&config, &gated).await;
    let mapping = pipeline.follow(in_process(consumer.clone())).await;

    pipeline.produce(700).await;
    mapping.until_processed(700).await;
    gate.set_open(false);
    pipeline.produce(700).await;
    let retried = eventually(Duration::from_secs(60), || mapping.summary().retries >= 2).await;
    assert!(retried, "batches retried: {:?}", mapping.summary());
    assert!(
        mapping.summary().processed < 1_400,
        "records wait while DynamoDB is down"
    );
    gate.set_open(true);
    let keys = pipeline.produce(600).await;
    mapping.until_processed(2_000).await;
    let summary = mapping.stop().await;

    assert!(summary.partial_failures >= 1, "{summary:?}");
    assert_eq!(
        (summary.sent_to_destination, summary.function_errors),
        (0, 0),
        "{summary:?}"
    );
    assert!(consumer.lookup().totals().dynamodb_failed >= 1);
    let accounting = pipeline.accounting_of(output.take_lines()).await;
    assert!(accounting.dead_lettered.is_empty());
    accounting.assert_each_once(&keys, 0);
    accounting.assert_shard_order();
    println!(
        "DynamoDB outage: {} partial failures, {} retries, nothing lost",
        summary.partial_failures, summary.retries
    );
}

/// A stream of plain records and KPL aggregates (the producer's
/// `--aggregate`, and aggregates with poison inside) through a DynamoDB
/// outage: every user record ends in exactly one place, counted by (shard,
/// sequence number, subsequence number); a repeat is accepted only inside an
/// aggregate the consumer reported for retry, and each shard's output stays
/// in order.
#[tokio::test]
async fn plain_and_aggregated_records_through_a_dynamodb_outage_account_by_user_record() {
    let pipeline = Pipeline::start().await;
    let gate = TcpGate::start(pipeline.aws.endpoint()).await;
    let gated = sdk_config(&gate.endpoint(), &pipeline.names.region).await;
    let config = reading_dynamodb_every_batch(&pipeline, 2);
    let (consumer, output) = pipeline.start_consumer(&config, &gated).await;
    // The Kinesis records the consumer reported for retry, by shard.
    let retried: Arc<parking_lot::Mutex<HashSet<(String, String)>>> = Arc::default();
    let function = {
        let (consumer, retried) = (consumer.clone(), retried.clone());
        mapping::Function::service(move |event| {
            let (consumer, retried) = (consumer.clone(), retried.clone());
            async move {
                let input: consumer::KinesisInput = serde_json::from_value(event)
                    .map_err(|e| mapping::InvokeError::Function(e.to_string()))?;
                let shards: HashMap<String, String> = input
                    .records
                    .iter()
                    .map(|r| (r.kinesis.sequence_number.clone(), r.shard_id().to_owned()))
                    .collect();
                let result = consumer.handle(input).await;
                for failure in &result.response.batch_item_failures {
                    let sequence = failure.item_identifier.clone().unwrap_or_default();
                    retried.lock().insert((shards[&sequence].clone(), sequence));
                }
                serde_json::to_value(result.response)
                    .map_err(|e| mapping::InvokeError::Function(e.to_string()))
            }
        })
    };
    let mapping = pipeline.follow(function).await;

    // Each phase: the producer's aggregates, plain records, and aggregates
    // with a record that is not JSON and one whose location is unknown.
    let write = |phase: usize| {
        let pipeline = &pipeline;
        async move {
            pipeline
                .produce_with(300, &["--aggregate", "--batch-size", "300"])
                .await;
            pipeline.produce(100).await;
            let poisoned: Vec<(String, Vec<u8>)> = (0..5)
                .map(|i| {
                    let mut aggregator = kpl_aggregation::Aggregator::new(51_200).unwrap();
                    for (j, data) in [
                        model::ModelOne::new("Car").to_json(),
                        b"{not json".to_vec(),
                        model::ModelOne::new("Nowhere").to_json(),
                        model::ModelOne::new("Diner").to_json(),
                    ]
                    .iter()
                    .enumerate()
                    {
                        aggregator
                            .add(&format!("poisoned-{phase}-{i}-{j}"), None, data)
                            .unwrap();
                    }
                    let aggregate = aggregator.finish().unwrap();
                    (aggregate.partition_key, aggregate.data)
                })
                .collect();
            pipeline.put_raw(&poisoned).await;
            let kinesis_records: HashSet<(String, String)> = pipeline
                .stream_user_records()
                .await
                .into_iter()
                .map(|(shard, sequence, _)| (shard, sequence))
                .collect();
            kinesis_records.len() as u64
        }
    };
    let written = write(0).await;
    mapping.until_processed(written).await;
    gate.set_open(false);
    let written = write(1).await;
    let retrying = eventually(Duration::from_secs(60), || mapping.summary().retries >= 2).await;
    assert!(retrying, "batches retried: {:?}", mapping.summary());
    assert!(
        mapping.summary().processed < written,
        "records wait while DynamoDB is down"
    );
    gate.set_open(true);
    let written = write(2).await;
    mapping.until_processed(written).await;
    let summary = mapping.stop().await;

    assert!(summary.partial_failures >= 1, "{summary:?}");
    assert_eq!(
        (summary.sent_to_destination, summary.function_errors),
        (0, 0),
        "{summary:?}"
    );
    let accounting = pipeline.accounting_of(output.take_lines()).await;
    let expected = pipeline.stream_user_records().await;
    assert_eq!(
        expected.len(),
        3 * (300 + 100 + 5 * 4),
        "user records written"
    );
    let retried = retried.lock().clone();
    let repeats = accounting.assert_each_user_record_once(&expected, &retried);
    accounting.assert_shard_order();
    let reasons = |reason: &str| {
        accounting
            .letters
            .iter()
            .filter(|l| l.reason == reason)
            .count()
    };
    assert_eq!((reasons("not_json"), reasons("unknown_location")), (15, 15));
    assert!(
        accounting
            .letters
            .iter()
            .all(|l| l.subsequence_number.is_some()),
        "every poison record was inside an aggregate"
    );
    let aggregated_lines = accounting
        .lines
        .iter()
        .filter(|l| l.subsequence_number.is_some())
        .count();
    assert_eq!(
        aggregated_lines,
        3 * (300 + 5 * 2),
        "enriched user records of aggregates"
    );
    println!(
        "plain and aggregated through a DynamoDB outage: {} user records in {} Kinesis records, {} reported for retry, {} partial failures, {repeats} repeats, nothing lost",
        expected.len(),
        written,
        retried.len(),
        summary.partial_failures,
    );
}

/// The outage the old defaults could not survive: DynamoDB down for longer
/// than the mapping's retries (2 here, as a user could configure; 5 was the
/// old default), so the mapping gives up on records and leaves pointers in
/// its on-failure queue. `redrive` brings every one of them back, in shard
/// order, and deletes the pointers; a second run finds nothing; a pointer to
/// records the stream no longer holds is reported and kept.
#[tokio::test]
async fn records_given_up_on_during_an_outage_come_back_with_redrive() {
    let pipeline = Pipeline::start().await;
    let gate = TcpGate::start(pipeline.aws.endpoint()).await;
    // No SDK retries: each failed invocation costs one refused connection.
    let gated = sdk_config(&gate.endpoint(), &pipeline.names.region)
        .await
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let config = reading_dynamodb_every_batch(&pipeline, 1);
    let (consumer, output) = pipeline.start_consumer(&config, &gated).await;
    let mut replay_config = pipeline.replay_config(true);
    replay_config.settings.maximum_retry_attempts = Some(2);
    let replay = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, replay_config, in_process(consumer.clone()))
            .await
            .unwrap(),
    );
    let mapping = {
        let replay = replay.clone();
        tokio::spawn(async move { replay.run().await })
    };

    pipeline.produce(200).await;
    let first = eventually(Duration::from_secs(60), || {
        replay.summary().processed >= 200
    })
    .await;
    assert!(first, "{:?}", replay.summary());
    gate.set_open(false);
    pipeline.produce(100).await;
    let given_up = eventually(Duration::from_secs(120), || {
        replay.summary().sent_to_destination >= 100
    })
    .await;
    assert!(given_up, "records given up on: {:?}", replay.summary());
    gate.set_open(true);
    let keys = pipeline.produce(200).await;
    let rest = eventually(Duration::from_secs(60), || {
        replay.summary().processed >= 400
    })
    .await;
    assert!(rest, "{:?}", replay.summary());
    mapping.abort();
    let summary = replay.summary();
    assert_eq!(
        (summary.processed, summary.sent_to_destination),
        (400, 100),
        "{summary:?}"
    );
    let live = output.take_lines();
    assert_eq!(
        live.len(),
        400,
        "the skipped records are not in the output yet"
    );
    let on_failure = pipeline.provisioned.on_failure_queue_url.clone();
    let pointers = pipeline.queue_depth(&on_failure).await;
    assert!(pointers >= 4, "one pointer per given-up batch: {pointers}");

    let redrive = |dry_run| {
        Redrive::new(
            &pipeline.sdk,
            RedriveConfig {
                queue_url: on_failure.clone(),
                batch_size: 10,
                attempts: 3,
                dry_run,
                function_name: pipeline.names.function.clone(),
                selection: Selection::default(),
                foreign_queue_url: None,
                backoff: Backoff::AWS_LIKE,
                function_timeout: None,
            },
            in_process(consumer.clone()),
        )
    };
    let checked = redrive(true).run().await.unwrap();
    assert_eq!(checked.outcomes.len(), pointers);
    assert!(checked.complete(), "{checked:?}");
    assert_eq!(checked.invocations, 0, "a dry run invokes nothing");
    assert_eq!(pipeline.queue_depth(&on_failure).await, pointers);

    let redriven_report = redrive(false).run().await.unwrap();
    let report = &redriven_report;
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.records_delivered(), 100, "{report:?}");
    assert!(report
        .outcomes
        .iter()
        .all(|o| o.result == RangeResult::Redriven && o.delivered == o.picked.records.len()));
    assert_eq!(
        pipeline.queue_depth(&on_failure).await,
        0,
        "pointers deleted"
    );
    let again = redrive(false).run().await.unwrap();
    assert!(
        again.outcomes.is_empty() && again.invocations == 0,
        "{again:?}"
    );

    let redriven = output.take_lines();
    assert_eq!(redriven.len(), 100);
    assert_shard_order(&live);
    assert_shard_order(&redriven);
    let accounting = pipeline
        .accounting_of(live.into_iter().chain(redriven).collect())
        .await;
    assert!(accounting.dead_lettered.is_empty());
    accounting.assert_each_once(&keys, 0);

    // A pointer to records the stream no longer holds (its start lies before
    // the oldest record the shard has: what retention does in AWS).
    let shard = &accounting.lines[0].shard_id;
    let aged = serde_json::json!({
        "requestContext": {"condition": "RecordAgeExceeded"},
        "KinesisBatchInfo": {
            "shardId": shard, "startSequenceNumber": "0", "endSequenceNumber": "0",
            "batchSize": 1, "streamArn": pipeline.provisioned.stream_arn,
        },
    });
    aws_sdk_sqs::Client::new(&pipeline.sdk)
        .send_message()
        .queue_url(&on_failure)
        .message_body(aged.to_string())
        .send()
        .await
        .unwrap();
    let report = redrive(false).run().await.unwrap();
    assert!(!report.complete());
    assert!(
        matches!(report.outcomes[0].result, RangeResult::AgedOut { .. }),
        "{report:?}"
    );
    assert_eq!(report.invocations, 0);
    assert_eq!(
        pipeline.queue_depth(&on_failure).await,
        1,
        "the pointer is kept"
    );
    println!(
        "outage past the retries: {} records given up on in {pointers} pointers, all {} redriven in {} invocations",
        summary.sent_to_destination,
        redriven_report.records_delivered(),
        redriven_report.invocations
    );
}

#[tokio::test]
async fn a_poison_storm_goes_to_the_dead_letter_queue_without_blocking_a_shard() {
    let pipeline = Pipeline::start().await;
    // 5% poison, 20 of each kind the stream can carry (Kinesis data is bytes,
    // so bad base64 only comes from a hand-made event: see the consumer's tests).
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    let mut expected_reason = std::collections::HashMap::new();
    for i in 0..2_000 {
        let key = format!("record-{i:05}");
        let good = || {
            model::ModelOne::with_id(&key, ["Car", "House", "Diner"][i % 3], chrono_now()).to_json()
        };
        let (data, reason) = match i % 20 {
            0 if i % 100 == 0 => (b"{not json".to_vec(), Some("not_json")),
            0 if i % 100 == 20 => (br#"{"id":"x"}"#.to_vec(), Some("schema")),
            0 if i % 100 == 40 => (
                format!(
                    r#"{{"id":"{key}","read_location":"","created_at":"2026-01-01T00:00:00Z"}}"#
                )
                .into_bytes(),
                Some("invalid_field"),
            ),
            0 if i % 100 == 60 => (
                model::ModelOne::with_id(&key, "Atlantis", chrono_now()).to_json(),
                Some("unknown_location"),
            ),
            0 => {
                let mut big = good();
                big.resize(model::MAX_RECORD_BYTES + 1, b' ');
                (big, Some("too_large"))
            }
            _ => (good(), None),
        };
        if let Some(reason) = reason {
            expected_reason.insert(key.clone(), reason);
        }
        records.push((key, data));
    }
    assert_eq!(expected_reason.len(), 100);
    pipeline.put_raw(&records).await;
    let summary = pipeline.replay().await;
    assert_eq!(summary.records, 2_000);
    assert_eq!(
        (
            summary.retries,
            summary.function_errors,
            summary.partial_failures
        ),
        (0, 0, 0),
        "no shard blocked"
    );

    let keys: Vec<String> = records.iter().map(|(k, _)| k.clone()).collect();
    let accounting = pipeline.accounting().await;
    accounting.assert_each_once(&keys, 0);
    assert_eq!(accounting.enriched.len(), 1_900);
    for (key, reason) in &expected_reason {
        assert_eq!(
            accounting.dead_lettered.get(key).map(|r| r[0].as_str()),
            Some(*reason),
            "{key}"
        );
    }
}

/// One KPL aggregate of `n` poison user records (not JSON), written to the
/// stream; returns every user record's (sequence, subsequence).
async fn put_poison_aggregate(pipeline: &Pipeline, n: usize) -> HashSet<(String, u64)> {
    let mut aggregator =
        kpl_aggregation::Aggregator::new(kpl_aggregation::MAX_RECORD_BYTES).unwrap();
    for i in 0..n {
        let full = aggregator
            .add(&format!("poison-{i:05}"), None, b"{not json")
            .unwrap();
        assert!(full.is_none(), "{n} user records fit one aggregate");
    }
    let aggregate = aggregator.finish().unwrap();
    pipeline
        .put_raw(&[(aggregate.partition_key, aggregate.data)])
        .await;
    let expected: HashSet<(String, u64)> = pipeline
        .stream_user_records()
        .await
        .into_iter()
        .map(|(_, sequence, sub)| (sequence, sub.unwrap()))
        .collect();
    assert_eq!(expected.len(), n);
    expected
}

/// In front of moto's SQS for the consumer: each SendMessageBatch goes to
/// moto, and the letters moto's answer lists as stored are recorded; then
/// the answer waits `delay`, as a slow queue's would (a call the consumer
/// abandons at its deadline has still stored its letters). The queue is
/// purged every few calls: moto's SQS spends time in proportion to the
/// queue's depth on every message sent and received (its attribute counts
/// and ReceiveMessage scan the queue), so 10,000 letters left in it, or
/// read back out of it, take minutes.
struct AcceptingQueue {
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
    delay: Duration,
    calls: std::sync::atomic::AtomicUsize,
    letters: parking_lot::Mutex<Vec<consumer::DeadLetter>>,
}

impl emulators::proxy::Intercept for AcceptingQueue {
    async fn call(&self, call: emulators::proxy::Call) -> (u16, Vec<u8>) {
        if call.operation() != "SendMessageBatch" {
            return call.forward(call.body().to_vec()).await;
        }
        let (status, body) = call.forward(call.body().to_vec()).await;
        let request: serde_json::Value = serde_json::from_slice(call.body()).unwrap();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "{answer}");
        let entries = request["Entries"].as_array().unwrap();
        for stored in answer["Successful"].as_array().unwrap() {
            let entry = entries
                .iter()
                .find(|e| e["Id"] == stored["Id"])
                .expect("moto answers for the entries sent");
            let letter = entry["MessageBody"].as_str().unwrap();
            self.letters
                .lock()
                .push(serde_json::from_str(letter).unwrap());
        }
        let calls = self
            .calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if calls % 2 == 1 {
            self.sqs
                .purge_queue()
                .queue_url(&self.queue_url)
                .send()
                .await
                .unwrap();
        }
        tokio::time::sleep(self.delay).await;
        (status, body)
    }
}

impl AcceptingQueue {
    /// The proxy in front of `pipeline`'s emulator, and the consumer
    /// configured to send through it.
    async fn start(pipeline: &Pipeline, delay: Duration) -> (Arc<Self>, Arc<consumer::Consumer>) {
        let queue = Arc::new(AcceptingQueue {
            queue_url: pipeline.provisioned.dead_letter_queue_url.clone(),
            sqs: aws_sdk_sqs::Client::new(&pipeline.sdk),
            delay,
            calls: Default::default(),
            letters: Default::default(),
        });
        let proxy = emulators::proxy::start(pipeline.aws.endpoint(), queue.clone()).await;
        let through_proxy = sdk_config(&proxy, &pipeline.names.region).await;
        let (consumer, _output) = pipeline
            .start_consumer(&pipeline.config, &through_proxy)
            .await;
        (queue, consumer)
    }

    /// The letters the queue stored, by (sequence, subsequence), with how
    /// many copies of each.
    fn by_user_record(&self) -> HashMap<(String, u64), usize> {
        let mut copies = HashMap::new();
        for letter in self.letters.lock().iter() {
            assert_eq!(letter.reason, "not_json");
            let sub = letter.subsequence_number.unwrap();
            assert_eq!(
                letter.letter_id,
                consumer::letter_id(&letter.shard_id, &letter.sequence_number, Some(sub))
            );
            *copies
                .entry((letter.sequence_number.clone(), sub))
                .or_default() += 1;
        }
        copies
    }
}

#[tokio::test]
async fn ten_thousand_poison_user_records_in_one_aggregate_are_lettered_within_the_timeout() {
    let pipeline = Pipeline::start().await;
    let expected = put_poison_aggregate(&pipeline, 10_000).await;
    let (queue, consumer) = AcceptingQueue::start(&pipeline, Duration::ZERO).await;
    let mut config = pipeline.replay_config(false);
    config.function_timeout = Some(Duration::from_secs(30));
    let started = Instant::now();
    let summary = EventSourceMapping::new(&pipeline.sdk, config, in_process(consumer))
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        (
            summary.invocations,
            summary.retries,
            summary.function_errors,
            summary.partial_failures
        ),
        (1, 0, 0, 0),
        "one invocation sent every letter"
    );
    println!(
        "10,000 letters in one invocation: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let copies = queue.by_user_record();
    let lettered: HashSet<(String, u64)> = copies.keys().cloned().collect();
    assert_eq!(lettered, expected);
    assert!(copies.values().all(|&n| n == 1), "no letter repeated");
}

#[tokio::test]
async fn under_a_2_s_timeout_a_slow_queue_stops_before_the_deadline_and_the_retries_letter_everything(
) {
    const USERS: usize = 10_000;
    let pipeline = Pipeline::start().await;
    let expected = put_poison_aggregate(&pipeline, USERS).await;
    let (queue, consumer) = AcceptingQueue::start(&pipeline, Duration::from_millis(150)).await;
    let mut config = pipeline.replay_config(false);
    config.function_timeout = Some(Duration::from_secs(2));
    // A bound, so a retry that made no progress fails here instead of
    // retrying for the age limit's six hours; above what the storm needs
    // (each invocation reports the same aggregate, so each is a retry).
    config.settings.maximum_retry_attempts = Some(30);
    config.backoff = Backoff {
        first: 0.05,
        max: 0.1,
    };
    let started = Instant::now();
    let summary = EventSourceMapping::new(&pipeline.sdk, config, in_process(consumer))
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        summary.function_errors, 0,
        "no invocation outlived its deadline: {summary:?}"
    );
    assert!(
        summary.partial_failures >= 1 && summary.retries >= 1,
        "the invocation stopped and reported the rest: {summary:?}"
    );
    assert_eq!(
        summary.sent_to_destination, 0,
        "nothing given up: {summary:?}"
    );

    let copies = queue.by_user_record();
    let lettered: HashSet<(String, u64)> = copies.keys().cloned().collect();
    assert_eq!(lettered, expected, "every user record lettered");
    // The README's rule: a letter goes again only when the call carrying it
    // was abandoned at a deadline (SQS had stored it): at most eight calls
    // of ten letters in flight per invocation cut short.
    let repeats: usize = copies.values().map(|n| n - 1).sum();
    let cut_short = summary.partial_failures as usize;
    assert!(
        repeats <= cut_short * 80,
        "{repeats} repeats for {cut_short} invocations cut short"
    );
    println!(
        "{USERS} letters through a queue answering in 150 ms: {} invocations, {cut_short} cut short, {repeats} repeats, {:.1} s",
        summary.invocations,
        started.elapsed().as_secs_f64()
    );
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[tokio::test]
async fn a_killed_replay_resumes_from_its_checkpoint_with_nothing_lost() {
    let pipeline = Pipeline::start().await;
    let keys = pipeline.produce(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = pipeline.replay_config(false);
    config.checkpoint_file = Some(dir.path().join("checkpoints.json"));

    let first = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, config.clone(), pipeline.in_process())
            .await
            .unwrap(),
    );
    let running = {
        let first = first.clone();
        tokio::spawn(async move { first.run().await })
    };
    assert!(eventually(Duration::from_secs(60), || first.summary().processed >= 500).await);
    running.abort();
    let _ = running.await;
    let before = first.summary().processed;
    assert!(before < 2_000, "killed mid-run");

    let second = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, config, pipeline.in_process())
            .await
            .unwrap(),
    );
    let summary = second.run().await.unwrap();
    assert!(
        summary.records < 2_000,
        "resumed from the checkpoints, not from the start"
    );
    // At most one in-flight batch per shard is delivered again.
    let shards = 4;
    pipeline
        .accounting()
        .await
        .assert_each_once(&keys, 10 * shards);
}

#[tokio::test]
async fn a_momento_latency_spike_opens_the_breaker_and_records_still_flow() {
    let pipeline = Pipeline::start_with(|config| {
        config.l1_ttl = Duration::from_millis(1); // every batch asks the remote tiers
        config.breaker_cooldown = Duration::from_millis(500);
    })
    .await;
    let keys = pipeline.produce(2_000).await;
    // Above the consumer's 150 ms Momento deadline.
    pipeline.double.set_injected(Injected {
        latency: Duration::from_millis(400),
        ..Default::default()
    });
    let started = Instant::now();
    let summary = pipeline.replay().await;
    let elapsed = started.elapsed();
    assert_eq!((summary.processed, summary.retries), (2_000, 0));
    pipeline.accounting().await.assert_each_once(&keys, 0);
    let lookups = pipeline.consumer.lookup().totals();
    assert!(lookups.breaker_opened >= 1, "{lookups:?}");
    assert!(
        lookups.momento_skipped > lookups.momento_errors,
        "mostly skipped, not waited for: {lookups:?}"
    );
    println!(
        "2,000 records through a 400 ms Momento spike in {:.1} s: {lookups:?}",
        elapsed.as_secs_f64()
    );
}

#[tokio::test]
async fn the_articles_volume_65000_records_zero_lost() {
    let pipeline = Pipeline::start().await;
    let started = Instant::now();
    let keys = pipeline.produce(65_000).await;
    assert_eq!(keys.len(), 65_000);
    let produced = started.elapsed();
    let summary = pipeline.replay().await;
    assert_eq!(summary.processed, 65_000);
    pipeline.accounting().await.assert_each_once(&keys, 0);
    println!(
        "65,000 records: produced in {:.1} s, replayed in {:.1} s, {} invocations",
        produced.as_secs_f64(),
        summary.wall_seconds,
        summary.invocations
    );
}
