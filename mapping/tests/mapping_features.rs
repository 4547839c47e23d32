//! The rest of what AWS's Kinesis mapping does, each against moto with a
//! purpose-built function: resharding, FilterCriteria, tumbling windows,
//! EventCount metrics, SNS and S3 on-failure destinations, the batch-size
//! and 6 MB limits, a function timeout, throttles, `Enabled`, and an
//! enhanced fan-out consumer as the event source.
#![cfg(feature = "integration")]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use common::{numbered, payloads, stream, Stream};
use mapping::{
    Backoff, EventSourceMapping, Failed, FilterCriteria, Function, InvokeError, MappingSettings,
    StreamRecord,
};
use parking_lot::Mutex;
use serde_json::{json, Value};

/// What a recording function saw: (shard id, partition key, data) per record,
/// in the order it was invoked, and each invocation's shard.
#[derive(Default)]
struct Seen {
    records: Vec<(String, String, String)>,
    invocations: Vec<String>,
}

fn recording(seen: Arc<Mutex<Seen>>, slow_shard: Option<&'static str>) -> Function {
    Function::handler(move |event| {
        let seen = seen.clone();
        async move {
            let shard = event["Records"][0]["eventID"]
                .as_str()
                .and_then(|id| id.split(':').next())
                .unwrap_or_default()
                .to_owned();
            if slow_shard == Some(shard.as_str()) {
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            let mut seen = seen.lock();
            for (record, data) in event["Records"]
                .as_array()
                .unwrap()
                .iter()
                .zip(payloads(&event))
            {
                let key = record["kinesis"]["partitionKey"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                seen.records.push((shard.clone(), key, data));
            }
            seen.invocations.push(shard);
            Ok(json!({}))
        }
    })
}

/// Puts records with explicit hash keys, so the test decides their shard.
async fn put_hashed(stream: &Stream, records: &[(String, u128, String)]) {
    let kinesis = aws_sdk_kinesis::Client::new(&stream.sdk);
    for chunk in records.chunks(500) {
        let entries = chunk.iter().map(|(key, hash, data)| {
            PutRecordsRequestEntry::builder()
                .partition_key(key)
                .explicit_hash_key(hash.to_string())
                .data(Blob::new(data.as_bytes()))
                .build()
                .unwrap()
        });
        kinesis
            .put_records()
            .stream_name(&stream.name)
            .set_records(Some(entries.collect()))
            .send()
            .await
            .unwrap();
    }
}

/// A split and a merge: nothing is lost, every partition key's records
/// arrive in order, and a child is read only after all its parents. The last
/// part is proven on the shard graph (`mapping::shards`): moto 5.2.1 keeps
/// writing to closed parents and never ends them (GetRecords always returns
/// a next iterator, AWS's only end-of-shard signal), so under moto the
/// parents are read for ever and the children (a merge child holding copies
/// of both parents' records) never start. On an emulator that ends closed
/// shards, the child checks below apply.
#[tokio::test]
async fn a_reshard_loses_nothing_and_keeps_key_order() {
    let stream = stream(3).await;
    let third = u128::MAX / 3; // the hash range of one of three shards
    let keys: Vec<(String, u128)> = (0..6)
        .map(|k| {
            (
                format!("key-{k}"),
                (k as u128 / 2) * third + third / 4 + k as u128 % 2 * third / 2,
            )
        })
        .collect();
    let phase = |phase: usize| -> Vec<(String, u128, String)> {
        (0..60)
            .map(|i| {
                let (key, hash) = &keys[i % keys.len()];
                (key.clone(), *hash, format!("{phase}-{i:03}"))
            })
            .collect()
    };
    put_hashed(&stream, &phase(0)).await;
    let kinesis = aws_sdk_kinesis::Client::new(&stream.sdk);
    kinesis
        .split_shard()
        .stream_name(&stream.name)
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((third / 2).to_string())
        .send()
        .await
        .unwrap();
    kinesis
        .merge_shards()
        .stream_name(&stream.name)
        .shard_to_merge("shardId-000000000001")
        .adjacent_shard_to_merge("shardId-000000000002")
        .send()
        .await
        .unwrap();
    put_hashed(&stream, &phase(1)).await;

    let seen = Arc::new(Mutex::new(Seen::default()));
    // The merge's second parent is the slow one: a child that waited only
    // for its first parent would start while the second is still read.
    let summary = stream
        .replay(
            MappingSettings::default(),
            recording(seen.clone(), Some("shardId-000000000002")),
        )
        .await;
    let seen = seen.lock();

    let position = |shard: &str, last: bool| {
        let mut at = seen
            .invocations
            .iter()
            .enumerate()
            .filter(|(_, s)| *s == shard);
        if last {
            at.next_back().map(|(i, _)| i)
        } else {
            at.next().map(|(i, _)| i)
        }
    };
    for (child, parents) in [
        ("shardId-000000000003", vec!["shardId-000000000000"]),
        ("shardId-000000000004", vec!["shardId-000000000000"]),
        (
            "shardId-000000000005",
            vec!["shardId-000000000001", "shardId-000000000002"],
        ),
    ] {
        let Some(first) = position(child, false) else {
            continue;
        };
        for parent in parents {
            if let Some(last) = position(parent, true) {
                assert!(
                    last < first,
                    "{child} was invoked (#{first}) before its parent {parent} was done (#{last})"
                );
            }
        }
    }

    let mut first_delivery: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut delivered = std::collections::HashSet::new();
    for (_, key, data) in &seen.records {
        if delivered.insert(data.as_str()) {
            first_delivery.entry(key).or_default().push(data);
        }
    }
    for (key, data) in &first_delivery {
        let mut sorted = data.clone();
        sorted.sort();
        assert_eq!(data, &sorted, "{key}'s records out of order");
    }
    assert_eq!(delivered.len(), 120, "every record delivered");
    println!(
        "reshard: {} deliveries of 120 records ({} moto copies), {} invocations",
        seen.records.len(),
        seen.records.len() - 120,
        summary.invocations
    );
}

#[tokio::test]
async fn filter_criteria_drop_records_before_invocation_and_count_them() {
    let stream = stream(1).await;
    let mut records: Vec<(String, String)> = ["Car", "Diner", "Car", "House", "Diner"]
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                format!("k{i}"),
                json!({"read_location": l, "n": i}).to_string(),
            )
        })
        .collect();
    records.push(("k5".into(), "not json at all".into()));
    stream.put(&records).await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let settings = MappingSettings {
        filter: FilterCriteria::parse(&[
            r#"{"data":{"read_location":["Car"]}}"#.to_owned(),
            r#"{"data":{"read_location":[{"prefix":"Ho"}]}}"#.to_owned(),
        ])
        .unwrap(),
        ..MappingSettings::default()
    };
    let dir = tempfile_dir();
    let mut config = stream.config(settings);
    config.checkpoint_file = Some(dir.join("checkpoints.json"));
    let replay = Arc::new(
        EventSourceMapping::new(&stream.sdk, config.clone(), recording(seen.clone(), None))
            .await
            .unwrap(),
    );
    let summary = replay.run().await.unwrap();
    let delivered: Vec<String> = seen.lock().records.iter().map(|r| r.1.clone()).collect();
    assert_eq!(delivered, ["k0", "k2", "k3"]);
    assert_eq!(summary.metrics.polled_event_count, 6);
    assert_eq!(
        summary.metrics.filtered_out_event_count, 3,
        "Diner twice and the non-JSON record"
    );
    assert_eq!(summary.metrics.invoked_event_count, 3);

    // Filtered-out records are consumed: the checkpoint moved past them.
    let again = Arc::new(
        EventSourceMapping::new(&stream.sdk, config, recording(seen.clone(), None))
            .await
            .unwrap(),
    );
    let second = again.run().await.unwrap();
    assert_eq!((second.records, second.invocations), (0, 0));
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mapping-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An aggregating function as AWS's tumbling-window example has it: counts
/// records per partition key in `state`; the final invocation hands over the
/// window's total.
#[tokio::test]
async fn tumbling_windows_carry_state_and_end_with_a_final_invocation() {
    let stream = stream(1).await;
    let length = Duration::from_secs(60);
    let now = mapping::records::now_seconds();
    let first_window = ((now - 180.0) / 60.0).floor() * 60.0;
    // 7 records in one window, 5 in the next, by arrival time.
    let records: Vec<StreamRecord> = (0..12)
        .map(|i| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: format!("{:056}", i + 1),
            partition_key: format!("k{}", i % 2),
            data: b"{}".to_vec(),
            arrival: first_window
                + if i < 7 {
                    1.0 + i as f64
                } else {
                    61.0 + i as f64
                },
        })
        .collect();
    let finals: Arc<Mutex<Vec<(Value, bool)>>> = Arc::default();
    let calls: Arc<Mutex<Vec<Value>>> = Arc::default();
    let stateless_once = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let function = {
        let (finals, calls) = (finals.clone(), calls.clone());
        Function::handler(move |event: Value| {
            let (finals, calls, stateless_once) =
                (finals.clone(), calls.clone(), stateless_once.clone());
            async move {
                calls.lock().push(event.clone());
                let mut state = event["state"].clone();
                if event["isFinalInvokeForWindow"] == true {
                    finals
                        .lock()
                        .push((state, event["isWindowTerminatedEarly"] == true));
                    return Ok(json!({"state": {}}));
                }
                // The first answer forgets `state`: that invocation counts as failed.
                if stateless_once.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    return Ok(json!({"batchItemFailures": []}));
                }
                for record in event["Records"].as_array().unwrap() {
                    let key = record["kinesis"]["partitionKey"].as_str().unwrap();
                    state[key] = json!(state[key].as_u64().unwrap_or(0) + 1);
                }
                Ok(json!({"state": state, "batchItemFailures": []}))
            }
        })
    };
    let settings = MappingSettings {
        batch_size: 3,
        tumbling_window: Some(length),
        ..MappingSettings::default()
    };
    let replay = EventSourceMapping::for_records(
        &stream.sdk,
        stream.config(settings),
        function,
        "arn:aws:kinesis:us-east-1:000000000000:stream/s",
        records,
    )
    .unwrap();
    let summary = replay.run().await.unwrap();

    let finals = finals.lock().clone();
    assert_eq!(
        finals,
        [
            (json!({"k0": 4, "k1": 3}), false),
            (json!({"k0": 2, "k1": 3}), false)
        ],
        "each window's final state counts its records once"
    );
    assert_eq!(summary.windows_closed, 2);
    assert!(summary.function_errors >= 1, "the stateless answer failed");
    let calls = calls.lock();
    let first = &calls[0];
    assert_eq!(first["shardId"], "shardId-000000000000");
    assert_eq!(
        first["eventSourceARN"],
        "arn:aws:kinesis:us-east-1:000000000000:stream/s"
    );
    assert_eq!(first["state"], json!({}));
    let start = chrono::DateTime::parse_from_rfc3339(first["window"]["start"].as_str().unwrap())
        .unwrap()
        .timestamp() as f64;
    assert_eq!(start, first_window);
    let seconds = |text: &Value| {
        chrono::DateTime::parse_from_rfc3339(text.as_str().unwrap())
            .unwrap()
            .timestamp() as f64
    };
    for call in calls.iter() {
        let (start, end) = (
            seconds(&call["window"]["start"]),
            seconds(&call["window"]["end"]),
        );
        for record in call["Records"].as_array().unwrap() {
            let arrival = record["kinesis"]["approximateArrivalTimestamp"]
                .as_f64()
                .unwrap();
            assert!(
                (start..end).contains(&arrival),
                "a record of another window in {}",
                call["window"]
            );
        }
    }
}

/// A state over 1 MB ends the window early.
#[tokio::test]
async fn a_state_over_one_megabyte_ends_the_window_early() {
    let stream = stream(1).await;
    let now = mapping::records::now_seconds();
    let records: Vec<StreamRecord> = (0..4)
        .map(|i| StreamRecord {
            shard_id: "shardId-000000000000".into(),
            sequence_number: format!("{}", i + 1),
            partition_key: "k".into(),
            data: b"{}".to_vec(),
            arrival: now - 1.0,
        })
        .collect();
    let finals: Arc<Mutex<Vec<bool>>> = Arc::default();
    let function = {
        let finals = finals.clone();
        Function::handler(move |event: Value| {
            let finals = finals.clone();
            async move {
                if event["isFinalInvokeForWindow"] == true {
                    finals.lock().push(event["isWindowTerminatedEarly"] == true);
                    return Ok(json!({"state": {}}));
                }
                Ok(json!({"state": {"blob": "x".repeat(1_100_000)}}))
            }
        })
    };
    let settings = MappingSettings {
        batch_size: 2,
        tumbling_window: Some(Duration::from_secs(900)),
        ..MappingSettings::default()
    };
    EventSourceMapping::for_records(
        &stream.sdk,
        stream.config(settings),
        function,
        "arn:aws:kinesis:us-east-1:000000000000:stream/s",
        records,
    )
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        *finals.lock(),
        [true, true],
        "each oversized state ends its window"
    );
}

#[tokio::test]
async fn sns_and_s3_destinations_receive_aws_invocation_records() {
    let stream = stream(1).await;
    stream.put(&numbered(2, |i| format!("k{i}"))).await;
    let sns = aws_sdk_sns::Client::new(&stream.sdk);
    let topic = sns
        .create_topic()
        .name("failures")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue_arn = "arn:aws:sqs:us-east-1:123456789012:on-failure";
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "false")
        .send()
        .await
        .unwrap();
    let failing = || Function::handler(|_| async { Err("always".into()) });
    let settings = |destination: &str| MappingSettings {
        maximum_retry_attempts: Some(0),
        bisect_on_error: false,
        on_failure: Some(destination.to_owned()),
        ..MappingSettings::default()
    };

    let summary = stream.replay(settings(&topic), failing()).await;
    assert_eq!(
        summary.metrics.on_failure_destination_delivered_event_count,
        2
    );
    let notifications = stream.destination().await;
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0]["Type"], "Notification");
    let record: Value =
        serde_json::from_str(notifications[0]["Message"].as_str().unwrap()).unwrap();
    assert_eq!(
        record["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(record["KinesisBatchInfo"]["batchSize"], 2);

    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&stream.sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket("failures").send().await.unwrap();
    let summary = stream
        .replay(settings("arn:aws:s3:::failures"), failing())
        .await;
    assert_eq!(
        summary.metrics.on_failure_destination_delivered_event_count,
        2
    );
    let objects = s3
        .list_objects_v2()
        .bucket("failures")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = objects.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1);
    let key = keys[0];
    let parts: Vec<&str> = key.split('/').collect();
    assert_eq!(
        (parts[0], parts[1], parts[3]),
        ("aws", "lambda", "shardId-000000000000"),
        "{key}"
    );
    let body = s3
        .get_object()
        .bucket("failures")
        .key(key)
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap();
    let object: Value = serde_json::from_slice(&body.into_bytes()).unwrap();
    let payload: Value = serde_json::from_str(object["payload"].as_str().unwrap()).unwrap();
    assert_eq!(
        payload["Records"].as_array().unwrap().len(),
        2,
        "the whole event, escaped"
    );
    assert_eq!(
        object["KinesisBatchInfo"]["shardId"],
        "shardId-000000000000"
    );
}

/// Batches up to 10,000 records, and no invocation payload over 6 MB.
#[tokio::test]
async fn batches_reach_ten_thousand_records_and_stay_under_six_megabytes() {
    let stream = stream(1).await;
    stream
        .put(&numbered(10_200, |i| format!("k{}", i % 50)))
        .await;
    let sizes: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    let measuring = |sizes: Arc<Mutex<Vec<(usize, usize)>>>| {
        Function::handler(move |event: Value| {
            let sizes = sizes.clone();
            async move {
                let count = event["Records"].as_array().unwrap().len();
                sizes.lock().push((count, event.to_string().len()));
                Ok(json!({}))
            }
        })
    };
    let settings = MappingSettings {
        batch_size: 10_000,
        ..MappingSettings::default()
    };
    stream
        .replay(settings.clone(), measuring(sizes.clone()))
        .await;
    let counts: Vec<usize> = sizes.lock().iter().map(|s| s.0).collect();
    assert_eq!(counts.iter().sum::<usize>(), 10_200);
    assert_eq!(counts.iter().max(), Some(&10_000), "{counts:?}");

    // 40 records of 300 KB: 12 MB of data in all.
    let big = stream_big().await;
    let sizes: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
    big.replay(settings, measuring(sizes.clone())).await;
    let sizes = sizes.lock();
    assert_eq!(sizes.iter().map(|s| s.0).sum::<usize>(), 40);
    assert!(sizes.len() >= 3, "cut into several invocations: {sizes:?}");
    assert!(
        sizes
            .iter()
            .all(|(_, bytes)| *bytes <= mapping::engine::MAX_PAYLOAD_BYTES),
        "{sizes:?}"
    );
}

async fn stream_big() -> Stream {
    let stream = stream(1).await;
    let blob = "x".repeat(300 * 1024);
    let records: Vec<(String, String)> = (0..40).map(|i| (format!("k{i}"), blob.clone())).collect();
    for chunk in records.chunks(10) {
        stream.put(chunk).await;
    }
    stream
}

/// An invocation longer than the function's timeout is a function error:
/// retried (and bisected) like any other.
#[tokio::test]
async fn a_function_timeout_fails_the_invocation() {
    let stream = stream(1).await;
    stream.put(&numbered(4, |i| format!("k{i}"))).await;
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let function = Function::handler(move |_| {
        let first = first.clone();
        async move {
            if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Ok(json!({}))
        }
    });
    let mut config = stream.config(MappingSettings::default());
    config.function_timeout = Some(Duration::from_millis(100));
    let summary = Arc::new(
        EventSourceMapping::new(&stream.sdk, config, function)
            .await
            .unwrap(),
    )
    .run()
    .await
    .unwrap();
    assert_eq!(summary.function_errors, 1);
    assert_eq!(summary.processed, 4);
    assert_eq!(summary.metrics.failed_invoke_event_count, 4);
}

/// A batch that never reached the function (throttled) is retried without
/// using up MaximumRetryAttempts, until the records are too old.
#[tokio::test]
async fn throttles_do_not_use_up_retry_attempts() {
    let stream = stream(1).await;
    stream.put(&numbered(3, |i| format!("k{i}"))).await;
    let throttles = Arc::new(std::sync::atomic::AtomicUsize::new(3));
    let function = Function::service(move |_| {
        let throttles = throttles.clone();
        async move {
            let left = throttles.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                throttles.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                return Err(InvokeError::Service("Rate Exceeded (throttled)".into()));
            }
            Ok(json!({}))
        }
    });
    let settings = MappingSettings {
        maximum_retry_attempts: Some(0),
        ..MappingSettings::default()
    };
    let summary = stream.replay(settings, function).await;
    assert_eq!(
        (
            summary.service_errors,
            summary.retries,
            summary.processed,
            summary.sent_to_destination
        ),
        (3, 0, 3, 0),
        "{summary:?}"
    );

    // Throttled for longer than the records may age: given up, as too old.
    let always = Function::service(|_| async {
        Err::<Value, _>(InvokeError::Service("Rate Exceeded (throttled)".into()))
    });
    let settings = MappingSettings {
        maximum_retry_attempts: Some(0),
        maximum_record_age: Some(Duration::from_secs(1)),
        ..MappingSettings::default()
    };
    let summary = stream.replay(settings, always).await;
    assert_eq!(summary.sent_to_destination, 3);
    let records = stream.destination().await;
    assert_eq!(
        records[0]["requestContext"]["condition"],
        "RecordAgeExceeded"
    );
    assert!(records[0].get("responseContext").is_none());
}

/// The rule chosen for a destination that refuses the invocation record: as
/// AWS, the records are dropped and counted (DestinationDeliveryFailures,
/// DroppedEventCount), the checkpoint moves on, the shard is not blocked.
#[tokio::test]
async fn a_refused_destination_drops_the_records_and_counts_them() {
    let stream = stream(1).await;
    stream.put(&numbered(3, |i| format!("k{i}"))).await;
    let fail = Function::handler(|_| async { Err::<Value, _>(Failed::from("always")) });
    let settings = MappingSettings {
        maximum_retry_attempts: Some(0),
        bisect_on_error: false,
        batch_size: 10,
        // A queue that does not exist: every SendMessage is refused.
        on_failure: Some(format!("{}-missing", stream.queue_url)),
        ..MappingSettings::default()
    };
    let mut config = stream.config(settings);
    config.backoff = Backoff {
        first: 0.01,
        max: 0.01,
    };
    let summary = EventSourceMapping::new(&stream.sdk, config, fail)
        .await
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        (
            summary.sent_to_destination,
            summary.destination_delivery_failures,
            summary.discarded,
            summary.metrics.dropped_event_count,
            summary.metrics.on_failure_destination_delivered_event_count
        ),
        (0, 3, 3, 3, 0),
        "{summary:?}"
    );
    assert!(stream.destination().await.is_empty());
}

/// A position Kinesis keeps answering as gone (here GetShardIterator
/// refused by a proxy in front of moto) is tried again with backoff; a drain
/// then ends, failing, naming the shard, its position kept.
#[tokio::test]
async fn a_position_answered_as_gone_is_retried_with_backoff_then_ends_the_drain_naming_the_shard()
{
    use std::sync::atomic::{AtomicUsize, Ordering};
    let stream = stream(1).await;
    stream.put(&numbered(2, |i| format!("k{i}"))).await;
    struct Gone(AtomicUsize, Mutex<Vec<std::time::Instant>>);
    impl emulators::proxy::Intercept for Gone {
        async fn call(&self, call: emulators::proxy::Call) -> (u16, Vec<u8>) {
            if call.operation() != "GetShardIterator" {
                return call.forward(call.body().to_vec()).await;
            }
            self.0.fetch_add(1, Ordering::SeqCst);
            self.1.lock().push(std::time::Instant::now());
            let error = json!({
                "__type": "InvalidArgumentException",
                "message": "StartingSequenceNumber is invalid (the test proxy)"
            });
            (400, serde_json::to_vec(&error).unwrap())
        }
    }
    let gone = Arc::new(Gone(AtomicUsize::new(0), Mutex::new(Vec::new())));
    let proxy = emulators::proxy::start(stream.moto.endpoint(), gone.clone()).await;
    let through_proxy = emulators::sdk_config(&proxy, "us-east-1").await;
    let mut config = stream.config(MappingSettings::default());
    config.backoff = Backoff {
        first: 0.05,
        max: 1.0,
    };
    let dir = tempfile_dir();
    config.checkpoint_file = Some(dir.join("state.json"));
    let function = Function::handler(|_| async { Ok(json!({})) });
    let error = EventSourceMapping::new(&through_proxy, config, function)
        .await
        .unwrap()
        .run()
        .await
        .expect_err("the drain fails");
    let message = error.to_string();
    assert!(message.contains("shardId-000000000000"), "{message}");
    assert!(
        message.contains("StartingSequenceNumber is invalid"),
        "{message}"
    );
    let tries = gone.0.load(Ordering::SeqCst);
    assert_eq!(tries, mapping::engine::UNREADABLE_AFTER as usize);
    // Each wait at least the backoff's: 0.05, 0.1, 0.2, 0.4 s.
    let at = gone.1.lock().clone();
    for (n, pair) in at.windows(2).enumerate() {
        let waited = pair[1] - pair[0];
        let backoff = Duration::from_secs_f64(0.05 * f64::from(1u32 << n));
        assert!(waited >= backoff, "wait {n}: {waited:?} < {backoff:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_disabled_mapping_polls_nothing_until_enabled() {
    let stream = stream(1).await;
    stream.put(&numbered(5, |i| format!("k{i}"))).await;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut config = stream.config(MappingSettings {
        enabled: false,
        ..MappingSettings::default()
    });
    config.follow = true;
    let replay = Arc::new(
        EventSourceMapping::new(&stream.sdk, config, recording(seen.clone(), None))
            .await
            .unwrap(),
    );
    let running = {
        let replay = replay.clone();
        tokio::spawn(async move { replay.run().await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(replay.summary().metrics.polled_event_count, 0, "paused");
    replay.set_enabled(true);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while replay.summary().processed < 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not resumed: {:?}",
            replay.summary()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    running.abort();
}

/// An enhanced fan-out consumer's ARN as the event source: its stream is
/// polled (the emulators have no SubscribeToShard).
#[tokio::test]
async fn a_fan_out_consumer_arn_reads_its_stream() {
    let stream = stream(1).await;
    stream.put(&numbered(3, |i| format!("k{i}"))).await;
    let kinesis = aws_sdk_kinesis::Client::new(&stream.sdk);
    let stream_arn = emulators::stream_arn(&kinesis, &stream.name).await.unwrap();
    let consumer = kinesis
        .register_stream_consumer()
        .stream_arn(&stream_arn)
        .consumer_name("fan-out")
        .send()
        .await
        .unwrap()
        .consumer
        .unwrap()
        .consumer_arn;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut config = stream.config(MappingSettings::default());
    config.stream = consumer;
    let replay = Arc::new(
        EventSourceMapping::new(&stream.sdk, config, recording(seen.clone(), None))
            .await
            .unwrap(),
    );
    assert_eq!(replay.stream_name(), stream.name);
    let summary = replay.run().await.unwrap();
    assert_eq!(summary.processed, 3);
}
