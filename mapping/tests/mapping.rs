//! The local event-source mapping against moto server, with purpose-built
//! functions that fail on cue: each test checks one of AWS's documented
//! behaviours.
#![cfg(feature = "integration")]

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{numbered, payloads, sequence_numbers, stream};
use mapping::{EventSourceMapping, Function, MappingSettings, StartingPosition};
use parking_lot::Mutex;
use serde_json::json;

type Seen = Arc<Mutex<Vec<Vec<String>>>>;

#[tokio::test]
async fn a_partial_failure_checkpoints_at_the_lowest_reported_record() {
    let stream = stream(1).await;
    stream.put(&numbered(10, |_| "k".into())).await;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let function = Function::handler(move |event| {
        let log = log.clone();
        async move {
            let first_call = log.lock().is_empty();
            log.lock().push(payloads(&event));
            let sequence = sequence_numbers(&event);
            Ok(if first_call {
                // fail records 4 and 6: retry from 4
                json!({"batchItemFailures": [{"itemIdentifier": sequence[6]}, {"itemIdentifier": sequence[4]}]})
            } else {
                json!({"batchItemFailures": []})
            })
        }
    });
    let summary = stream.replay(MappingSettings::default(), function).await;
    let seen = seen.lock().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].len(), 10);
    let retried: Vec<String> = (4..10).map(|i| format!("record-{i}")).collect();
    assert_eq!(
        seen[1], retried,
        "only the records from the lowest failure on"
    );
    assert_eq!(
        (summary.processed, summary.partial_failures, summary.retries),
        (10, 1, 1)
    );
    assert_eq!(summary.records, 10);
}

#[tokio::test]
async fn a_malformed_item_identifier_fails_the_whole_batch() {
    let stream = stream(1).await;
    stream.put(&numbered(5, |_| "k".into())).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let function = Function::handler(move |event| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            assert_eq!(
                payloads(&event).len(),
                5,
                "every attempt gets the whole batch"
            );
            Ok(if n == 0 {
                json!({"batchItemFailures": [{"itemIdentifier": ""}]})
            } else {
                json!({})
            })
        }
    });
    let summary = stream.replay(MappingSettings::default(), function).await;
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(summary.processed, 5);
}

#[tokio::test]
async fn bisection_isolates_a_poison_record_and_sends_it_to_the_destination() {
    let stream = stream(1).await;
    let mut records = numbered(10, |_| "k".into());
    records[6].1 = "poison".into();
    stream.put(&records).await;
    let processed: Seen = Arc::default();
    let log = processed.clone();
    let function = Function::handler(move |event| {
        let log = log.clone();
        async move {
            let data = payloads(&event);
            if data.iter().any(|d| d == "poison") {
                return Err("poison in the batch".into());
            }
            log.lock().push(data);
            Ok(json!({"batchItemFailures": []}))
        }
    });
    let settings = MappingSettings {
        maximum_retry_attempts: Some(2),
        ..Default::default()
    };
    let summary = stream.replay(settings, function).await;

    let mut good: Vec<String> = processed.lock().iter().flatten().cloned().collect();
    good.sort();
    let mut expected: Vec<String> = records
        .iter()
        .map(|r| r.1.clone())
        .filter(|d| d != "poison")
        .collect();
    expected.sort();
    assert_eq!(good, expected, "every other record processed exactly once");
    assert!(summary.bisections >= 3, "{summary:?}");
    assert_eq!(summary.sent_to_destination, 1);

    let sent = stream.destination().await;
    assert_eq!(sent.len(), 1);
    let message = &sent[0];
    let info = &message["KinesisBatchInfo"];
    assert_eq!(info["batchSize"], 1);
    assert_eq!(info["shardId"], "shardId-000000000000");
    assert_eq!(info["startSequenceNumber"], info["endSequenceNumber"]);
    assert!(info["streamArn"]
        .as_str()
        .unwrap()
        .ends_with(":stream/mapping-test"));
    assert!(info["approximateArrivalOfFirstRecord"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        message["requestContext"]["condition"],
        "RetryAttemptsExhausted"
    );
    assert_eq!(message["requestContext"]["approximateInvokeCount"], 3);
    // One account in every ARN: the stream's (moto's 123456789012).
    assert_eq!(
        message["requestContext"]["functionArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    );
    assert_eq!(message["responseContext"]["functionError"], "Unhandled");
    assert_eq!(message["version"], "1.0");
}

#[tokio::test]
async fn without_bisection_an_exhausted_batch_goes_to_the_destination_whole() {
    let stream = stream(1).await;
    stream.put(&numbered(10, |_| "k".into())).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let function = Function::handler(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Err("always".into()) }
    });
    let settings = MappingSettings {
        bisect_on_error: false,
        maximum_retry_attempts: Some(2),
        ..Default::default()
    };
    let summary = stream.replay(settings, function).await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one try and two retries");
    assert_eq!(
        (
            summary.retries,
            summary.sent_to_destination,
            summary.processed
        ),
        (2, 10, 0)
    );
    let sent = stream.destination().await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 10);
    assert_eq!(sent[0]["requestContext"]["approximateInvokeCount"], 3);
}

#[tokio::test]
async fn records_older_than_the_maximum_age_are_not_invoked() {
    let stream = stream(1).await;
    stream.put(&numbered(5, |_| "k".into())).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let function = Function::handler(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { Ok(json!({})) }
    });
    let settings = MappingSettings {
        maximum_record_age: Some(Duration::from_secs(1)),
        ..Default::default()
    };
    let summary = stream.replay(settings, function).await;
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(summary.sent_to_destination, 5);
    let sent = stream.destination().await;
    assert_eq!(sent[0]["requestContext"]["condition"], "RecordAgeExceeded");
    assert_eq!(sent[0]["KinesisBatchInfo"]["batchSize"], 5);
}

/// Order of processing under a parallelization factor: per partition key
/// always, per shard when the factor is 1; and lanes really run concurrently.
async fn ordering(parallelization_factor: u32) {
    let stream = stream(2).await;
    // data "key:n" with n counting up per key, and a global counter per key set
    let records: Vec<(String, String)> = (0..300)
        .map(|i| {
            let key = format!("key-{}", i % 12);
            (key.clone(), format!("{key}:{i}"))
        })
        .collect();
    stream.put(&records).await;
    let order: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let (log, now, max) = (order.clone(), in_flight.clone(), max_in_flight.clone());
    let function = Function::handler(move |event| {
        let (log, now, max) = (log.clone(), now.clone(), max.clone());
        async move {
            let current = now.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(3)).await;
            let shard = event["Records"][0]["eventID"]
                .as_str()
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_owned();
            log.lock()
                .extend(payloads(&event).into_iter().map(|d| (shard.clone(), d)));
            now.fetch_sub(1, Ordering::SeqCst);
            Ok(json!({"batchItemFailures": []}))
        }
    });
    let settings = MappingSettings {
        parallelization_factor,
        ..Default::default()
    };
    let summary = stream.replay(settings, function).await;
    let order = order.lock().clone();
    assert_eq!(order.len(), 300, "each record exactly once");
    assert_eq!(summary.processed, 300);

    let number = |d: &str| d.rsplit(':').next().unwrap().parse::<usize>().unwrap();
    let mut last_per_key: HashMap<String, usize> = HashMap::new();
    let mut last_per_shard: HashMap<String, usize> = HashMap::new();
    let mut shard_in_order = true;
    for (shard, data) in &order {
        let key = data.rsplit_once(':').unwrap().0.to_owned();
        let n = number(data);
        if let Some(previous) = last_per_key.insert(key, n) {
            assert!(
                previous < n,
                "partition key order broken: {previous} then {n}"
            );
        }
        if let Some(previous) = last_per_shard.insert(shard.clone(), n) {
            shard_in_order &= previous < n;
        }
    }
    if parallelization_factor == 1 {
        assert!(shard_in_order, "per-shard order broken with one lane");
    } else {
        assert!(
            max_in_flight.load(Ordering::SeqCst) > 2,
            "lanes ran concurrently"
        );
    }
}

#[tokio::test]
async fn one_lane_keeps_shard_order() {
    ordering(1).await;
}

#[tokio::test]
async fn parallel_lanes_keep_partition_key_order() {
    ordering(4).await;
}

#[tokio::test]
async fn at_timestamp_and_latest_starting_positions() {
    let stream = stream(1).await;
    stream.put(&numbered(5, |_| "k".into())).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let from = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.put(&numbered(3, |i| format!("late-{i}"))).await;
    let count = |counter: Arc<AtomicUsize>| {
        Function::handler(move |event| {
            counter.fetch_add(payloads(&event).len(), Ordering::SeqCst);
            async { Ok(json!({})) }
        })
    };

    let seen = Arc::new(AtomicUsize::new(0));
    let mut config = stream.config(MappingSettings::default());
    config.settings.starting_position =
        StartingPosition::AtTimestamp(from.timestamp_micros() as f64 / 1e6);
    let replay = EventSourceMapping::new(&stream.sdk, config.clone(), count(seen.clone()))
        .await
        .unwrap();
    Arc::new(replay).run().await.unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        3,
        "only records at or after the timestamp"
    );

    let seen = Arc::new(AtomicUsize::new(0));
    config.settings.starting_position = StartingPosition::Latest;
    let replay = EventSourceMapping::new(&stream.sdk, config, count(seen.clone()))
        .await
        .unwrap();
    Arc::new(replay).run().await.unwrap();
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "LATEST skips what is already there"
    );
}

#[tokio::test]
async fn a_killed_replay_resumes_from_its_checkpoint() {
    let stream = stream(1).await;
    stream.put(&numbered(400, |i| format!("k{i}"))).await;
    let dir = std::env::temp_dir().join(format!("replay-{}", uuid::Uuid::new_v4()));
    let mut config = stream.config(MappingSettings::default());
    config.checkpoint_file = Some(dir.join("checkpoints.json"));

    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let counting = |seen: Arc<Mutex<Vec<String>>>| {
        Function::handler(move |event| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(2)).await;
                seen.lock().extend(payloads(&event));
                Ok(json!({}))
            }
        })
    };
    let first = Arc::new(
        EventSourceMapping::new(&stream.sdk, config.clone(), counting(seen.clone()))
            .await
            .unwrap(),
    );
    let running = tokio::spawn(async move { first.run().await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.lock().len() < 120 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first replay delivered only {} of 120 records in 60 s",
            seen.lock().len()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    running.abort();
    let _ = running.await;
    let before = seen.lock().len();
    assert!(before < 400, "killed mid-run");

    let second = Arc::new(
        EventSourceMapping::new(&stream.sdk, config, counting(seen.clone()))
            .await
            .unwrap(),
    );
    let summary = second.run().await.unwrap();
    let all = seen.lock().clone();
    let mut distinct = all.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 400, "nothing lost");
    let duplicates = all.len() - distinct.len();
    assert!(
        duplicates <= 10,
        "at most the in-flight batch again, got {duplicates}"
    );
    assert!(
        summary.records <= (400 - before + 10) as u64,
        "resumed, not restarted: {summary:?}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
