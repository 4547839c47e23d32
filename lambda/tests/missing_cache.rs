//! A Momento cache nobody created: init says so once, at ERROR, naming the
//! cache; every batch counts `MomentoCacheMissing`; records are enriched from
//! DynamoDB all the same, without a Momento call per batch.
#![cfg(feature = "integration")]

mod common;

use common::{emf_collector, Env, Events, Logs};

#[tokio::test]
async fn a_missing_cache_is_loud_and_records_are_still_enriched() {
    let logs = Logs::default();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(logs.clone())
        .init();
    let collector = emf_collector();

    let env = Env::start().await;
    let mut config = env.config();
    config.cache_name = "nobody-created-this-cache".to_owned();
    config.l1_ttl = std::time::Duration::from_millis(1); // every batch looks past L1
    let (consumer, captured) = env.consumer(&config).await;
    assert!(consumer.lookup().cache_missing());
    let gets_after_init = env.double.stats().rpc("Get").calls;

    for round in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await; // past the L1 TTL
        let mut events = Events::new();
        for location in ["Car", "Diner", "House"] {
            events.record(round, location);
        }
        let result = consumer.handle(events.build()).await;
        assert_eq!(result.report.enriched, 3, "round {round}");
        assert!(result.response.batch_item_failures.is_empty());
        assert!(result.report.momento_cache_missing);
        let lookups = result.report.lookups;
        assert_eq!(
            (lookups.momento_skipped, lookups.dynamodb_found),
            (3, 3),
            "round {round}: {lookups:?}"
        );
    }
    assert_eq!(captured.take_lines().len(), 9);
    assert_eq!(
        env.double.stats().rpc("Get").calls,
        gets_after_init,
        "no Momento call while the cache is known to be missing"
    );

    let text = logs.text();
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("\"level\":\"ERROR\""))
        .collect();
    assert_eq!(errors.len(), 1, "one ERROR line: {text}");
    assert!(
        errors[0].contains("nobody-created-this-cache"),
        "{}",
        errors[0]
    );

    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    let document: serde_json::Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(document["MomentoCacheMissing"], 3, "{document}");
    assert_eq!(document["Enriched"], 9);

    // A cache that exists is found by the same check, and nothing is counted.
    let (healthy, _) = env.consumer(&env.config()).await;
    assert!(!healthy.lookup().cache_missing());
}
