//! KPL aggregates in the batch: each user record gets its own fate, named by
//! (shard, sequence number, subsequence number); an aggregate that cannot be
//! read is dead-lettered whole; a retry reports the aggregate's sequence
//! number and emits none of its user records now. Against moto server and
//! the in-process cache double.
#![cfg(feature = "integration")]

mod common;

use base64::Engine;
use common::{failures, Env, Events};
use kpl_aggregation::Aggregator;
use model::{LocationRecord, ModelOne};

/// An aggregate of `users` (partition key, data), as KPL packs them.
fn aggregate(users: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut aggregator = Aggregator::new(kpl_aggregation::MAX_RECORD_BYTES).unwrap();
    for (key, data) in users {
        assert!(aggregator.add(key, None, data).unwrap().is_none());
    }
    aggregator.finish().unwrap().data
}

/// An aggregate of no user record: magic, a protobuf holding only a
/// partition key table (field 1, "unused"), its MD5. KPL never writes one;
/// it is read as an aggregate with nothing in it.
const EMPTY_AGGREGATE: [u8; 28] = [
    0xF3, 0x89, 0x9A, 0xC2, 0x0A, 0x06, b'u', b'n', b'u', b's', b'e', b'd', 0xb5, 0x89, 0x1f, 0x20,
    0xb5, 0xb7, 0xb4, 0x2b, 0x10, 0x6f, 0x41, 0x39, 0xd9, 0xb4, 0x25, 0x40,
];

fn valid(location: &str) -> (String, Vec<u8>) {
    let model = ModelOne::new(location);
    (model.id.clone(), model.to_json())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn each_user_record_of_a_mixed_batch_gets_its_own_fate() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();

    let plain = events.record(0, "Car");
    let mut oversize = ModelOne::new("Car").to_json();
    oversize.resize(model::MAX_RECORD_BYTES + 1, b' ');
    let users = vec![
        valid("House"),
        ("not-json-key".to_owned(), b"{broken".to_vec()),
        valid("Nowhere"),
        ("big-key".to_owned(), oversize),
        valid("Diner"),
    ];
    let packed = aggregate(&users);
    let aggregate_seq = events.data(0, &users[0].0, packed.clone());
    let mut corrupt = aggregate(&[valid("Car"), valid("Car")]);
    *corrupt.last_mut().unwrap() ^= 1;
    let corrupt_seq = events.data(0, "corrupt", corrupt.clone());
    events.data(0, "empty", EMPTY_AGGREGATE.to_vec());
    let after = events.record(1, "Diner");
    let event = events.build();

    let result = consumer.handle(event).await;
    assert!(result.response.batch_item_failures.is_empty());
    let report = &result.report;
    assert_eq!(
        (report.records, report.aggregates, report.user_records),
        (5, 3, 8),
        "5 Kinesis records, 3 of them aggregates (one unreadable, one empty), 8 user records (the unreadable aggregate is one, lettered whole)"
    );
    assert_eq!((report.enriched, report.dead_lettered), (4, 4));
    assert_eq!(
        report.user_records,
        report.enriched + report.dead_lettered + report.retried,
        "every user record counted in exactly one fate"
    );

    let lines = captured.take_lines();
    let emitted: Vec<(String, Option<u64>)> = lines
        .iter()
        .map(|l| (l.record.record.id.clone(), l.subsequence_number))
        .collect();
    assert_eq!(
        emitted,
        [
            (plain, None),
            (users[0].0.clone(), Some(0)),
            (users[4].0.clone(), Some(4)),
            (after, None)
        ]
    );
    assert!(lines[1..3]
        .iter()
        .all(|l| l.sequence_number == aggregate_seq));

    let mut letters = env.dead_letters().await;
    letters.sort_by_key(|l| (l.sequence_number.clone(), l.subsequence_number));
    let found: Vec<(&str, Option<u64>, &str)> = letters
        .iter()
        .map(|l| {
            (
                l.sequence_number.as_str(),
                l.subsequence_number,
                l.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (aggregate_seq.as_str(), Some(1), "not_json"),
            (aggregate_seq.as_str(), Some(2), "unknown_location"),
            (aggregate_seq.as_str(), Some(3), "too_large"),
            (corrupt_seq.as_str(), None, "bad_aggregate"),
        ],
        "the 64 KiB limit holds for each user record"
    );
    // A user record's letter carries its own key and data; the unreadable
    // aggregate's, the whole record as delivered.
    assert_eq!(letters[0].partition_key, "not-json-key");
    assert_eq!(letters[0].data, b64(b"{broken"));
    assert_eq!(letters[1].partition_key, users[2].0);
    assert_eq!(letters[3].partition_key, "corrupt");
    assert_eq!(letters[3].data, b64(&corrupt));
    assert!(
        letters[3].detail.contains("checksum"),
        "{}",
        letters[3].detail
    );
}

#[tokio::test]
async fn a_retry_inside_an_aggregate_reports_the_aggregate_and_emits_none_of_it() {
    let env = Env::start().await;
    // Car is in Momento; Diner can only come from DynamoDB, which is down.
    env.momento()
        .set(
            &env.names.cache,
            "Car",
            LocationRecord::sample("Car").to_cached(),
        )
        .await
        .unwrap();
    let (consumer, captured) = env.consumer_without_dynamodb().await;

    let mut events = Events::new();
    let before = events.record(0, "Car");
    let users = vec![
        valid("Car"),
        ("poison".to_owned(), b"nope".to_vec()),
        valid("Diner"),
        valid("Car"),
    ];
    let aggregate_seq = events.data(0, &users[0].0, aggregate(&users));
    let later = events.record(0, "Car");
    let other_shard = events.record(1, "Car");
    let event = events.build();

    let result = consumer.handle(event.clone()).await;
    assert_eq!(
        failures(&result.response),
        [
            aggregate_seq,
            event.records[2].kinesis.sequence_number.clone()
        ],
        "the aggregate (Kinesis retries whole records) and what follows it"
    );
    let emitted: Vec<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(
        emitted,
        [before, other_shard],
        "no user record of the retried aggregate is emitted now, so none is emitted twice"
    );
    assert!(!emitted.contains(&later));
    assert!(
        env.dead_letters().await.is_empty(),
        "its poison waits for the retry too"
    );
    assert_eq!(result.report.failed, 2);
}

/// An `AggregatedRecord` protobuf written byte by byte, so a partition key
/// can be any bytes: the key table, then (key index, data) per user record.
fn hand_made_aggregate(keys: &[&[u8]], users: &[(u64, Vec<u8>)]) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
        out.push(tag);
        let mut len = bytes.len();
        while len >= 0x80 {
            out.push((len as u8 & 0x7F) | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(bytes);
    }
    let mut message = Vec::new();
    for key in keys {
        field(&mut message, 0x0A, key); // 1: partition_key_table
    }
    for (index, data) in users {
        let mut record = vec![0x08, *index as u8]; // 1: partition_key_index
        field(&mut record, 0x1A, data); // 3: data
        field(&mut message, 0x1A, &record); // 3: records
    }
    kpl_aggregation::frame(&message)
}

#[tokio::test]
async fn a_partition_key_that_is_not_utf8_sinks_nothing() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let bad_key: &[u8] = b"b\xFFd";
    let (car, house, diner) = (valid("Car"), valid("House"), valid("Diner"));
    let packed = hand_made_aggregate(
        &[b"good", bad_key],
        &[
            (0, car.1.clone()),
            (1, house.1.clone()),
            (0, diner.1.clone()),
            (1, b"{broken".to_vec()),
        ],
    );
    let mut events = Events::new();
    let sequence = events.data(0, "good", packed);
    let result = consumer.handle(events.build()).await;
    assert!(result.response.batch_item_failures.is_empty());
    assert_eq!(
        (result.report.enriched, result.report.dead_lettered),
        (3, 1),
        "the aggregate is read: its key is converted, not fatal"
    );
    let emitted: Vec<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(
        emitted,
        [car.0, house.0, diner.0],
        "the bad key's valid record too"
    );
    let letters = env.dead_letters().await;
    assert_eq!(letters.len(), 1);
    assert_eq!(
        (
            letters[0].sequence_number.as_str(),
            letters[0].subsequence_number
        ),
        (sequence.as_str(), Some(3))
    );
    assert_eq!(letters[0].reason, "not_json");
    assert_eq!(letters[0].partition_key, "b\u{FFFD}d", "converted lossily");
}
