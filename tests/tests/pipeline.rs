//! The whole pipeline: the producer writes to moto's stream, the harness's
//! event-source mapping invokes the consumer, the consumer reads through the
//! cache double and moto's DynamoDB, and every record is accounted for; then
//! things break on purpose.
#![cfg(feature = "integration")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use cache_double::Injected;
use e2e::{eventually, Pipeline};
use harness::Replay;

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
        Replay::new(&pipeline.sdk, config.clone(), pipeline.in_process())
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
        Replay::new(&pipeline.sdk, config, pipeline.in_process())
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
