//! The mapping's resharding, filtering and tumbling windows with the real
//! consumer behind them, each ending in the accounting check.
#![cfg(feature = "integration")]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use consumer::KinesisInput;
use e2e::{eventually, Pipeline};
use mapping::{EventSourceMapping, FilterCriteria, Function};
use model::ModelOne;
use parking_lot::Mutex;
use serde_json::{json, Value};

/// Records with ids `<key>-<n>` and partition key `<key>`, so each key has
/// a sequence whose order the output must keep.
fn keyed(keys: usize, from: usize, count: usize) -> Vec<(String, Vec<u8>)> {
    (from..from + count)
        .map(|n| {
            let key = format!("key-{:02}", n % keys);
            let location = ["Car", "House", "Diner"][n % 3];
            let model = ModelOne::with_id(format!("{key}-{n:06}"), location, chrono::Utc::now());
            (key, model.to_json())
        })
        .collect()
}

/// One shard split and two merged while records flow. Every record is
/// enriched exactly once as far as the mapping goes (moto keeps writing to
/// the closed parents and never ends them, so their children, one holding
/// copies of its parents' records, are never read; a duplicate would be
/// moto's copy, counted and allowed), and each partition key's records come
/// out in order, counting each record's first delivery.
#[tokio::test]
async fn a_split_and_a_merge_while_records_flow_lose_nothing_and_keep_key_order() {
    let pipeline = Pipeline::start().await;
    let mapping = pipeline.follow(pipeline.in_process()).await;
    let kinesis = aws_sdk_kinesis::Client::new(&pipeline.sdk);
    let shards = kinesis
        .list_shards()
        .stream_name(&pipeline.names.stream)
        .send()
        .await
        .unwrap();
    let shards: Vec<_> = shards.shards().to_vec();
    assert!(shards.len() >= 3, "an on-demand stream of several shards");

    let mut produced = Vec::new();
    for round in 0..6 {
        let records = keyed(20, round * 150, 150);
        produced.extend(
            records
                .iter()
                .map(|(_, data)| serde_json::from_slice::<ModelOne>(data).unwrap().id),
        );
        pipeline.put_raw(&records).await;
        if round == 2 {
            let first = &shards[0];
            let range = first.hash_key_range().unwrap();
            let (low, high): (u128, u128) = (
                range.starting_hash_key().parse().unwrap(),
                range.ending_hash_key().parse().unwrap(),
            );
            kinesis
                .split_shard()
                .stream_name(&pipeline.names.stream)
                .shard_to_split(first.shard_id())
                .new_starting_hash_key((low + (high - low) / 2).to_string())
                .send()
                .await
                .unwrap();
            kinesis
                .merge_shards()
                .stream_name(&pipeline.names.stream)
                .shard_to_merge(shards[1].shard_id())
                .adjacent_shard_to_merge(shards[2].shard_id())
                .send()
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let lines: Arc<Mutex<Vec<consumer::OutputLine>>> = Arc::default();
    let all: HashSet<&String> = produced.iter().collect();
    let complete = eventually(Duration::from_secs(120), || {
        let mut lines = lines.lock();
        lines.extend(pipeline.output.take_lines());
        let ids: HashSet<&String> = lines.iter().map(|l| &l.record.record.id).collect();
        all.iter().all(|id| ids.contains(id))
    })
    .await;
    let summary = mapping.stop().await;
    let lines = std::mem::take(&mut *lines.lock());
    assert!(complete, "records missing after the reshard: {summary:?}");

    let mut first_seen: HashMap<String, Vec<String>> = HashMap::new();
    let mut seen = HashSet::new();
    for line in &lines {
        let id = &line.record.record.id;
        if seen.insert(id.clone()) {
            let (key, _) = id.rsplit_once('-').unwrap();
            first_seen
                .entry(key.to_owned())
                .or_default()
                .push(id.clone());
        }
    }
    for (key, ids) in &first_seen {
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            ids, &sorted,
            "{key}'s records out of order across the reshard"
        );
    }
    let duplicates = lines.len() - seen.len();
    let accounting = pipeline.accounting_of(lines).await;
    accounting.assert_each_once(&produced, duplicates);
    println!(
        "reshard while flowing: {} records, {duplicates} delivered twice (moto's copies), {} invocations",
        produced.len(),
        summary.invocations
    );
}

/// A filter in front of the consumer and tumbling windows around it: the
/// function enriches each batch through the consumer and counts what it
/// enriched per location in the window's state. Filtered records never
/// reach it; every other record is enriched once; the windows' final states
/// add up to the output.
#[tokio::test]
async fn a_filter_and_tumbling_windows_account_for_every_record() {
    let pipeline = Pipeline::start().await;
    let consumer = pipeline.consumer.clone();
    let finals: Arc<Mutex<Vec<Value>>> = Arc::default();
    let function = {
        let finals = finals.clone();
        Function::handler(move |event: Value| {
            let (consumer, finals) = (consumer.clone(), finals.clone());
            async move {
                let mut state = event["state"].clone();
                if event["isFinalInvokeForWindow"] == true {
                    finals.lock().push(state);
                    return Ok(json!({"state": {}}));
                }
                let input: KinesisInput =
                    serde_json::from_value(event.clone()).map_err(|e| e.to_string())?;
                let locations: Vec<String> = input
                    .records
                    .iter()
                    .filter_map(|r| r.unpack().ok())
                    .flat_map(|unpacked| unpacked.users)
                    .filter_map(|u| u.decode().ok().map(|m| m.read_location))
                    .collect();
                let result = consumer.handle(input).await;
                if result.response.batch_item_failures.is_empty() {
                    for location in locations {
                        state[&location] = json!(state[&location].as_u64().unwrap_or(0) + 1);
                    }
                }
                let mut response = serde_json::to_value(result.response).unwrap();
                response["state"] = state;
                Ok(response)
            }
        })
    };
    let records = keyed(50, 0, 600);
    pipeline.put_raw(&records).await;
    let kept: Vec<String> = records
        .iter()
        .map(|(_, data)| serde_json::from_slice::<ModelOne>(data).unwrap())
        .filter(|m| m.read_location != "Diner")
        .map(|m| m.id)
        .collect();

    let mut config = pipeline.replay_config(false);
    config.settings.filter =
        FilterCriteria::parse(&[r#"{"data":{"read_location":["Car","House"]}}"#.to_owned()])
            .unwrap();
    config.settings.tumbling_window = Some(Duration::from_secs(2));
    let summary = Arc::new(
        EventSourceMapping::new(&pipeline.sdk, config, function)
            .await
            .unwrap(),
    )
    .run()
    .await
    .unwrap();

    assert_eq!(summary.metrics.polled_event_count, 600);
    assert_eq!(summary.metrics.filtered_out_event_count, 200, "every Diner");
    assert_eq!(summary.metrics.invoked_event_count, 400);
    let accounting = pipeline.accounting().await;
    assert!(accounting.dead_lettered.is_empty());
    accounting.assert_each_once(&kept, 0);
    accounting.assert_shard_order();

    let mut totals: HashMap<String, u64> = HashMap::new();
    for state in finals.lock().iter() {
        for (location, count) in state.as_object().unwrap() {
            *totals.entry(location.clone()).or_default() += count.as_u64().unwrap();
        }
    }
    assert_eq!(totals.get("Car").copied(), Some(200));
    assert_eq!(totals.get("House").copied(), Some(200));
    assert!(
        !totals.contains_key("Diner"),
        "filtered out before the function"
    );
    assert!(summary.windows_closed >= 1);
    println!(
        "filter + tumbling windows: 600 produced, 200 filtered out, 400 enriched in {} windows ({} invocations)",
        summary.windows_closed, summary.invocations
    );
}
