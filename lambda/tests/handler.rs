//! The real handler on real Kinesis event JSON, against moto server and the
//! in-process cache double.
#![cfg(feature = "integration")]

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use cache_double::Injected;
use common::{failures, Env, Events};
use consumer::lookup::BreakerState;
use consumer::KinesisInput;
use model::LocationRecord;
use momento::cache::GetResponse;

/// Ten records over the article's three locations, on one shard.
fn article_batch(events: &mut Events) -> Vec<String> {
    [
        "Car", "House", "Diner", "Car", "Car", "House", "Diner", "Car", "House", "Car",
    ]
    .iter()
    .map(|location| events.record(0, location))
    .collect()
}

#[tokio::test]
async fn the_aws_example_fixture_is_enriched() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let event: KinesisInput =
        serde_json::from_str(include_str!("fixtures/kinesis-event.json")).unwrap();
    let result = consumer.handle(event).await;
    assert!(result.response.batch_item_failures.is_empty());
    let lines = captured.take_lines();
    let ids: Vec<&str> = lines.iter().map(|l| l.record.record.id.as_str()).collect();
    assert_eq!(ids, ["fixture-1", "fixture-2", "fixture-3"]);
    assert_eq!(lines[1].record.location, LocationRecord::sample("Diner"));
    assert_eq!(lines[0].shard_id, "shardId-000000000006");
    assert_eq!(
        lines[2].sequence_number,
        "49590338271490256608559692540925702759324208523137515618"
    );
}

#[tokio::test]
async fn cold_then_warm_then_l1() {
    let env = Env::start().await;
    let config = env.config();
    let (consumer, captured) = env.consumer(&config).await;

    // Cold: Momento misses, one BatchGetItem, three write-backs.
    let mut events = Events::new();
    let ids = article_batch(&mut events);
    let cold = consumer.handle(events.build()).await;
    assert!(cold.response.batch_item_failures.is_empty());
    let lookups = cold.report.lookups;
    assert_eq!((lookups.keys, lookups.momento_misses), (3, 3));
    assert_eq!((lookups.dynamodb_calls, lookups.dynamodb_found), (1, 3));
    assert_eq!((lookups.momento_sets, lookups.momento_set_failures), (3, 0));
    assert_eq!(lookups.stages, 2);
    let lines = captured.take_lines();
    assert_eq!(
        lines
            .iter()
            .map(|l| l.record.record.id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    for line in &lines {
        assert_eq!(
            line.record.location,
            LocationRecord::sample(&line.record.record.read_location)
        );
        assert_eq!(line.message, "ModelOne AFTER");
    }
    let stats = env.double.stats();
    // One Get is init's check that the cache exists.
    assert_eq!((stats.rpc("Get").calls, stats.rpc("Set").calls), (1 + 3, 3));
    match env.momento().get(&env.names.cache, "Diner").await.unwrap() {
        GetResponse::Hit { value } => assert_eq!(
            LocationRecord::from_cached(&Vec::<u8>::from(value)).unwrap(),
            LocationRecord::sample("Diner")
        ),
        GetResponse::Miss => panic!("the cold batch wrote Diner back to Momento"),
    }

    // Warm container: L1 answers, no network at all.
    let gets_before = env.double.stats().rpc("Get").calls;
    let mut events = Events::new();
    article_batch(&mut events);
    let warm = consumer.handle(events.build()).await;
    assert_eq!(warm.report.enriched, 10);
    assert_eq!(
        (warm.report.lookups.l1_hits, warm.report.lookups.stages),
        (3, 0)
    );
    assert_eq!(
        env.double.stats().rpc("Get").calls,
        gets_before,
        "no Momento call"
    );

    // A new container: Momento answers, DynamoDB is not asked.
    let (fresh, _) = env.consumer(&config).await;
    let mut events = Events::new();
    article_batch(&mut events);
    let hit = fresh.handle(events.build()).await;
    let lookups = hit.report.lookups;
    assert_eq!(
        (lookups.momento_hits, lookups.dynamodb_calls, lookups.stages),
        (3, 0, 1)
    );
    assert_eq!(consumer.lookup().totals().l1_hits, 3);
}

#[tokio::test]
async fn concurrent_batches_share_one_lookup_per_key() {
    let env = Env::start().await;
    let (consumer, _captured) = env.consumer(&env.config()).await;
    let batches: Vec<KinesisInput> = (0..8)
        .map(|_| {
            let mut events = Events::new();
            article_batch(&mut events);
            events.build()
        })
        .collect();
    let results = futures::future::join_all(batches.into_iter().map(|b| consumer.handle(b))).await;
    assert!(results.iter().all(|r| r.report.enriched == 10));
    let totals = consumer.lookup().totals();
    assert_eq!(
        totals.momento_gets, 3,
        "one Momento get per key: {totals:?}"
    );
    assert_eq!(totals.dynamodb_found, 3);
    assert_eq!(totals.shared + totals.l1_hits + totals.momento_gets, 8 * 3);
    assert!(totals.shared > 0, "{totals:?}");
}

#[tokio::test]
async fn unknown_locations_are_cached_negatively_and_dead_lettered() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();
    events.record(0, "Car");
    let bad = events.record(0, "Atlantis");
    let first = consumer.handle(events.build()).await;
    assert!(first.response.batch_item_failures.is_empty());
    assert_eq!((first.report.enriched, first.report.dead_lettered), (1, 1));
    assert_eq!(first.report.lookups.dynamodb_missing, 1);

    let mut events = Events::new();
    events.record(0, "Atlantis");
    events.record(0, "Atlantis");
    let second = consumer.handle(events.build()).await;
    assert_eq!(second.report.dead_lettered, 2);
    assert_eq!(second.report.lookups.l1_negative_hits, 1);
    assert_eq!(
        second.report.lookups.dynamodb_calls, 0,
        "the bad key does not reach DynamoDB"
    );

    let letters = env.dead_letters().await;
    assert_eq!(letters.len(), 3);
    assert!(letters.iter().all(|l| l.reason == "unknown_location"));
    assert!(letters.iter().any(|l| l.partition_key == bad));
    assert_eq!(captured.take_lines().len(), 1);
}

/// An item that exists but is not a location document is a data error in
/// the table: the record's letter says so (not "unknown location"), and
/// nothing is cached, so fixing the item fixes the next record.
#[tokio::test]
async fn a_malformed_table_item_is_a_table_error_and_never_cached() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let env = Env::start().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&env.sdk);
    dynamodb
        .put_item()
        .table_name(&env.names.table)
        .item("location", AttributeValue::S("Boat".into()))
        .item("description", AttributeValue::N("7".into()))
        .item("notes", AttributeValue::S("Boat notes".into()))
        .send()
        .await
        .unwrap();
    let (consumer, captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();
    let boat = events.record(0, "Boat");
    let first = consumer.handle(events.build()).await;
    assert!(first.response.batch_item_failures.is_empty());
    assert_eq!(first.report.dead_lettered, 1);
    assert_eq!(
        (
            first.report.lookups.dynamodb_malformed,
            first.report.lookups.dynamodb_missing
        ),
        (1, 0)
    );
    let letters = env.dead_letters().await;
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].partition_key, boat);
    assert_eq!(letters[0].reason, "bad_table_item");
    assert!(
        letters[0].detail.contains("description"),
        "{}",
        letters[0].detail
    );

    // Fixed in the table: the very next record is enriched.
    dynamodb
        .put_item()
        .table_name(&env.names.table)
        .item("location", AttributeValue::S("Boat".into()))
        .item("description", AttributeValue::S("Boat description".into()))
        .item("notes", AttributeValue::S("Boat notes".into()))
        .send()
        .await
        .unwrap();
    let mut events = Events::new();
    events.record(0, "Boat");
    let second = consumer.handle(events.build()).await;
    assert_eq!(second.report.enriched, 1);
    assert_eq!(second.report.lookups.l1_negative_hits, 0);
    assert_eq!(captured.take_lines().len(), 1);
}

#[tokio::test]
async fn every_kind_of_poison_goes_to_the_dead_letter_queue() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();
    let good_first = events.record(0, "Car");
    let mut expected = HashMap::new();
    expected.insert(events.raw(0, "%%% not base64 %%%"), "bad_base64");
    expected.insert(events.data(0, "pk", b"{not json".to_vec()), "not_json");
    expected.insert(
        events.data(
            0,
            "pk",
            br#"{"id":"x","created_at":"2026-01-01T00:00:00Z"}"#.to_vec(),
        ),
        "schema",
    );
    expected.insert(
        events.data(
            0,
            "pk",
            br#"{"id":"","read_location":"Car","created_at":"2026-01-01T00:00:00Z"}"#.to_vec(),
        ),
        "invalid_field",
    );
    let mut oversize = model::ModelOne::new("Car").to_json();
    oversize.resize(model::MAX_RECORD_BYTES + 10, b' ');
    expected.insert(events.data(0, "pk", oversize), "too_large");
    expected.insert(events.record(0, "Nowhere"), "");
    let good_last = events.record(0, "Diner");
    let unknown = events.build().records[6].kinesis.sequence_number.clone();
    expected.insert(unknown, "unknown_location");
    expected.retain(|_, reason| !reason.is_empty());

    let event = events.build();
    let result = consumer.handle(event.clone()).await;
    assert!(
        result.response.batch_item_failures.is_empty(),
        "poison is handled, not retried"
    );
    assert_eq!(
        (result.report.enriched, result.report.dead_lettered),
        (2, 6)
    );
    let ids: Vec<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(ids, [good_first, good_last]);

    let letters = env.dead_letters().await;
    assert_eq!(letters.len(), 6);
    for letter in &letters {
        assert_eq!(
            expected.get(&letter.sequence_number).copied(),
            Some(letter.reason.as_str()),
            "{letter:?}"
        );
        let source = event
            .records
            .iter()
            .find(|r| r.kinesis.sequence_number == letter.sequence_number)
            .unwrap();
        assert_eq!(letter.shard_id, "shardId-000000000000");
        assert_eq!(letter.event_id, source.event_id);
        assert_eq!(letter.partition_key, source.kinesis.partition_key);
        assert_eq!(
            letter.approximate_arrival_timestamp,
            source.kinesis.approximate_arrival_timestamp
        );
        assert_eq!(
            letter.data, source.kinesis.data,
            "small records are kept whole"
        );
        assert!(!letter.detail.is_empty());
    }
}

/// Ways Momento can fail.
#[derive(Clone, Copy)]
enum Outage {
    Blocked,
    SlowerThanDeadline,
    Erroring,
}

/// Momento failing: records still enriched from DynamoDB, the breaker opens
/// and skips Momento; once Momento is healthy again, a probe closes it.
///
/// Two consumers, so that no assertion depends on how long a call takes on a
/// loaded machine: one whose cool-down (60 s) cannot end during the test
/// checks the open breaker; one with a short cool-down is given at least
/// that long (a sleep can only overshoot) before it must probe.
async fn momento_outage(outage: Outage) {
    let env = Env::start().await;
    match outage {
        Outage::Blocked => env.double.set_blocked(true),
        Outage::SlowerThanDeadline => env.double.set_injected(Injected {
            latency: Duration::from_millis(400),
            ..Default::default()
        }),
        Outage::Erroring => env.double.set_injected(Injected {
            error_rate: 1.0,
            error_code: Some(tonic::Code::Internal),
            ..Default::default()
        }),
    }
    let mut config = env.config();
    config.l1_ttl = Duration::from_millis(1); // every batch asks the remote tiers
    config.momento_timeout = Duration::from_millis(50);
    config.breaker_failures = 3;
    config.breaker_cooldown = Duration::from_secs(60);
    let (stays_open, captured) = env.consumer(&config).await;
    config.breaker_cooldown = Duration::from_millis(300);
    let (recovers, _) = env.consumer(&config).await;

    for consumer in [&stays_open, &recovers] {
        let mut events = Events::new();
        article_batch(&mut events);
        let failing = consumer.handle(events.build()).await;
        assert!(failing.response.batch_item_failures.is_empty());
        assert_eq!(
            failing.report.enriched, 10,
            "DynamoDB answers while Momento fails"
        );
        let lookups = failing.report.lookups;
        assert_eq!(
            (lookups.momento_errors, lookups.breaker_opened),
            (3, 1),
            "{lookups:?}"
        );
        assert_eq!(
            lookups.momento_sets, 0,
            "no write-back while the breaker is open"
        );
        assert_eq!(consumer.lookup().breaker_state(), BreakerState::Open);
    }
    let opened = tokio::time::Instant::now();

    tokio::time::sleep(Duration::from_millis(5)).await; // past the L1 TTL
    let mut events = Events::new();
    article_batch(&mut events);
    let skipped = stays_open.handle(events.build()).await;
    assert_eq!(skipped.report.enriched, 10);
    assert_eq!(skipped.report.lookups.momento_skipped, 3);
    assert_eq!(skipped.report.lookups.momento_gets, 0);
    assert_eq!(captured.take_lines().len(), 20);

    env.double.set_blocked(false);
    env.double.set_injected(Injected::default());
    tokio::time::sleep_until(opened + Duration::from_millis(350)).await;
    let mut events = Events::new();
    article_batch(&mut events);
    let probe = recovers.handle(events.build()).await;
    assert_eq!(probe.report.enriched, 10);
    let lookups = probe.report.lookups;
    assert_eq!(
        (
            lookups.momento_gets,
            lookups.momento_errors,
            lookups.momento_skipped
        ),
        (1, 0, 2),
        "one key probes, the others go to DynamoDB: {lookups:?}"
    );
    assert_eq!(
        lookups.momento_sets, 3,
        "write-back resumes once the probe closed the breaker"
    );
    assert_eq!(recovers.lookup().breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn momento_blocked_falls_back_to_dynamodb_and_the_breaker_recovers() {
    momento_outage(Outage::Blocked).await;
}

#[tokio::test]
async fn momento_slower_than_its_deadline_falls_back_to_dynamodb() {
    momento_outage(Outage::SlowerThanDeadline).await;
}

#[tokio::test]
async fn momento_erroring_falls_back_to_dynamodb() {
    momento_outage(Outage::Erroring).await;
}

/// Half-open means one probe: batches arriving together after the cool-down
/// make one Momento request between them, not one each.
#[tokio::test]
async fn concurrent_batches_during_half_open_send_one_probe() {
    let env = Env::start().await;
    env.double.set_blocked(true);
    let mut config = env.config();
    config.momento_timeout = Duration::from_millis(50);
    config.breaker_failures = 1;
    config.breaker_cooldown = Duration::from_millis(200);
    let (consumer, _captured) = env.consumer(&config).await;
    let mut events = Events::new();
    events.record(0, "Car");
    consumer.handle(events.build()).await;
    assert_eq!(consumer.lookup().breaker_state(), BreakerState::Open);
    let opened = tokio::time::Instant::now();
    env.double.set_blocked(false);
    tokio::time::sleep_until(opened + Duration::from_millis(250)).await;

    // Distinct keys, so single-flight shares nothing: only the breaker
    // keeps these batches from each asking Momento.
    let gets_before = env.double.stats().rpc("Get").calls;
    let batches: Vec<_> = ["Diner", "House", "Atlantis", "Lemuria", "Mu"]
        .into_iter()
        .enumerate()
        .map(|(shard, location)| {
            let mut events = Events::new();
            events.record(shard as u32, location);
            consumer.handle(events.build())
        })
        .collect();
    let results = futures::future::join_all(batches).await;
    assert_eq!(
        env.double.stats().rpc("Get").calls - gets_before,
        1,
        "one probe"
    );
    let probes: u64 = results.iter().map(|r| r.report.lookups.momento_gets).sum();
    let skipped: u64 = results
        .iter()
        .map(|r| r.report.lookups.momento_skipped)
        .sum();
    assert_eq!((probes, skipped), (1, 4));
    assert_eq!(consumer.lookup().breaker_state(), BreakerState::Closed);
}

#[tokio::test]
async fn dynamodb_unavailable_fails_the_rest_of_each_shard_in_order() {
    let env = Env::start().await;
    // Car is in Momento; Diner and House can only come from DynamoDB.
    let car = LocationRecord::sample("Car");
    env.momento()
        .set(&env.names.cache, "Car", car.to_cached())
        .await
        .unwrap();
    let (consumer, captured) = env.consumer_without_dynamodb().await;

    let mut events = Events::new();
    let car_0 = events.record(0, "Car");
    let poison_before = events.data(0, "pk", b"nope".to_vec());
    let diner = events.record(0, "Diner");
    let car_after = events.record(0, "Car");
    let poison_after = events.data(0, "pk", b"nope".to_vec());
    let car_1 = events.record(1, "Car");
    let house = events.record(1, "House");
    let event = events.build();
    let seq = |i: usize| event.records[i].kinesis.sequence_number.clone();

    let result = consumer.handle(event.clone()).await;
    assert_eq!(
        failures(&result.response),
        [seq(2), seq(3), seq(4), seq(6)],
        "from each shard's first unavailable record on, in order"
    );
    let emitted: HashSet<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(emitted, HashSet::from([car_0, car_1]));
    assert!(
        !emitted.contains(&diner) && !emitted.contains(&car_after) && !emitted.contains(&house)
    );
    let letters = env.dead_letters().await;
    assert_eq!(
        letters
            .iter()
            .map(|l| l.sequence_number.clone())
            .collect::<Vec<_>>(),
        [poison_before],
        "poison after the failure waits for the retry"
    );
    assert_eq!(
        poison_after,
        seq(4),
        "the poison record after the failure is retried, not dead-lettered"
    );
    assert_eq!(result.report.failed, 4);
    assert!(result.report.lookups.dynamodb_failed >= 2);
}

#[tokio::test]
async fn a_failed_dead_letter_send_is_a_batch_item_failure() {
    let env = Env::start().await;
    let mut config = env.config();
    config.dead_letter_queue_url = format!("{}/123456789012/no-such-queue", env.aws.endpoint());
    let (consumer, captured) = env.consumer(&config).await;

    let mut events = Events::new();
    let good = events.record(0, "Car");
    let poison = events.data(0, "pk", b"{broken".to_vec());
    let later = events.record(0, "Diner");
    let other_shard = events.record(1, "House");
    let event = events.build();
    let result = consumer.handle(event.clone()).await;
    let seq = |i: usize| event.records[i].kinesis.sequence_number.clone();
    assert_eq!(poison, seq(1));
    assert_eq!(
        failures(&result.response),
        [seq(1), seq(2)],
        "the poison record and what follows it"
    );
    let emitted: Vec<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(emitted, [good, other_shard]);
    assert!(!emitted.contains(&later));
    assert_eq!(result.report.dead_lettered, 0);
}
