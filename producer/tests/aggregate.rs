//! `--aggregate` against moto server: user records packed into KPL
//! aggregates, each on the shard its own key hashes to, none lost; after a
//! split, each aggregate holds one child shard's keys.
#![cfg(feature = "integration")]

use std::collections::HashSet;

use clap::Parser;
use emulators::{create_stream, MotoServer};
use kpl_aggregation::{deaggregate, hash_key, Deaggregated};
use model::ModelOne;
use producer::records::{Locations, RecordSource};
use producer::shards::ShardMap;
use producer::Options;

fn options(args: &[&str]) -> Options {
    Options::try_parse_from(std::iter::once("producer").chain(args.iter().copied())).unwrap()
}

/// Every Kinesis record of the stream: its shard and its user records.
async fn aggregates(client: &aws_sdk_kinesis::Client, name: &str) -> Vec<(String, Vec<ModelOne>)> {
    emulators::stream_records(client, name)
        .await
        .unwrap()
        .into_iter()
        .map(|(shard, record)| {
            let Deaggregated::Aggregated(users) = deaggregate(record.data().as_ref()) else {
                panic!("a Kinesis record that is not an aggregate");
            };
            assert_eq!(
                record.partition_key(),
                Some(users[0].partition_key.as_str())
            );
            let users = users
                .into_iter()
                .map(|user| {
                    let decoded = ModelOne::decode(&user.data).expect("a valid user record");
                    assert_eq!(decoded.id, user.partition_key, "partition key is the id");
                    decoded
                })
                .collect();
            (shard, users)
        })
        .collect()
}

#[tokio::test]
async fn every_user_record_arrives_once_on_the_shard_its_key_hashes_to() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "packed", 4).await.unwrap();
    let summary = producer::run(
        &options(&[
            "--stream",
            "packed",
            "-c",
            "1",
            "-n",
            "3000",
            "--batch-size",
            "1000",
            "--aggregate",
            "--json",
        ]),
        client.clone(),
    )
    .await
    .unwrap();
    assert!(summary.aggregated);
    assert_eq!((summary.sent, summary.failed), (3000, 0));
    assert_eq!(summary.calls, 3, "one PutRecords per 1,000 user records");

    let map = ShardMap::load(&client, "packed").await.unwrap();
    let stored = aggregates(&client, "packed").await;
    assert_eq!(stored.len() as u64, summary.kinesis_records);
    assert!(
        summary.kinesis_records < 30,
        "{} Kinesis records for 3,000 user records",
        summary.kinesis_records
    );
    let mut ids = HashSet::new();
    let mut shards = HashSet::new();
    for (shard, users) in &stored {
        shards.insert(shard.clone());
        for user in users {
            assert_eq!(
                &map.shard_of(hash_key(&user.id)).unwrap().id,
                shard,
                "{} is not on the shard its key hashes to",
                user.id
            );
            assert!(ids.insert(user.id.clone()), "{} twice", user.id);
        }
    }
    assert_eq!(ids.len(), 3000, "no user record lost");
    assert_eq!(shards.len(), 4, "every shard got aggregates");
    assert_eq!(summary.shard_mismatches, 0);
}

#[tokio::test]
async fn at_the_largest_aggregate_size_kinesis_refuses_nothing() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "full", 1).await.unwrap();
    let summary = producer::run(
        &options(&[
            "--stream",
            "full",
            "-n",
            "20000",
            "--batch-size",
            "20000",
            "--aggregate",
            "--aggregate-max-bytes",
            "1048576",
            "--seed",
            "7",
            "--retry-deadline",
            "2s",
            "--failure-file",
            std::env::temp_dir()
                .join(format!("producer-full-{}.jsonl", std::process::id()))
                .to_str()
                .unwrap(),
        ]),
        client.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.sent, summary.failed, summary.invalid),
        (20_000, 0, 0),
        "{summary:?}"
    );
    let mut largest = 0;
    let mut users = 0;
    for (_, record) in emulators::stream_records(&client, "full").await.unwrap() {
        // What Kinesis counts: the data and the partition key.
        let counted =
            record.data().as_ref().len() + record.partition_key().unwrap_or_default().len();
        assert!(counted <= 1_048_576, "{counted} bytes");
        largest = largest.max(counted);
        let Deaggregated::Aggregated(inside) = deaggregate(record.data().as_ref()) else {
            panic!("not an aggregate");
        };
        users += inside.len();
    }
    assert_eq!(users, 20_000);
    assert!(
        largest > 1_048_576 - 200,
        "aggregates are filled to the limit: the largest is {largest} bytes"
    );
}

#[test]
fn an_aggregate_size_too_small_for_one_record_is_refused() {
    let error = options(&[
        "--stream",
        "s",
        "--aggregate",
        "--aggregate-max-bytes",
        "100",
    ])
    .check()
    .unwrap_err();
    assert!(error.contains("cannot hold one record"), "{error}");
    assert!(options(&[
        "--stream",
        "s",
        "--aggregate",
        "--aggregate-max-bytes",
        "1048576"
    ])
    .check()
    .is_ok());
}

#[tokio::test]
async fn after_a_split_each_aggregate_holds_one_childs_keys() {
    let moto = MotoServer::start().await.unwrap();
    let client = create_stream(moto.endpoint(), "resharded", 1)
        .await
        .unwrap();
    let run = |seed: &'static str, n: &'static str| {
        let client = client.clone();
        async move {
            producer::run(
                &options(&[
                    "--stream",
                    "resharded",
                    "-c",
                    "1",
                    "-n",
                    n,
                    "--seed",
                    seed,
                    "--batch-size",
                    "1000",
                    "--aggregate",
                ]),
                client,
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(run("1", "500").await.sent, 500);
    let parent = ShardMap::load(&client, "resharded").await.unwrap();
    assert_eq!(parent.len(), 1);
    client
        .split_shard()
        .stream_name("resharded")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key((u128::MAX / 2 + 1).to_string())
        .send()
        .await
        .unwrap();
    let children = ShardMap::load(&client, "resharded").await.unwrap();
    assert_eq!(children.len(), 2, "two open children; the parent is closed");

    let after = run("2", "2000").await;
    assert_eq!((after.sent, after.failed), (2000, 0));
    // The producer read the shards again (a new run): its aggregates each
    // hold the keys of one child. AWS puts each on that child by its
    // explicit hash key; moto still routes to the closed parent, which the
    // producer notices (shard_mismatches) and answers by reading the map
    // again.
    let mut source = RecordSource::new(Locations::default(), Some(2));
    let written: HashSet<String> = (0..2000).map(|_| source.next_record().id).collect();
    let mut packed = 0;
    for (_, users) in aggregates(&client, "resharded").await {
        if !written.contains(&users[0].id) {
            continue;
        }
        packed += users.len();
        let child = &children.shard_of(hash_key(&users[0].id)).unwrap().id;
        for user in &users {
            assert_eq!(
                &children.shard_of(hash_key(&user.id)).unwrap().id,
                child,
                "an aggregate written after the split mixes the children's keys"
            );
        }
    }
    assert_eq!(
        packed, 2000,
        "every user record written after the split was found"
    );
    assert!(
        after.shard_mismatches > 0,
        "moto routes to the parent: the producer notices"
    );
}
