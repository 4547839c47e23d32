//! The per-batch metrics come out as CloudWatch EMF documents through the
//! recorder the bootstrap installs.
#![cfg(feature = "integration")]

mod common;

use common::{emf_collector, Env, Events};

#[tokio::test]
async fn a_batch_flushes_one_emf_document() {
    let collector = emf_collector();

    let env = Env::start().await;
    let (consumer, _captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();
    for location in ["Car", "Car", "Diner", "Nowhere"] {
        events.record(0, location);
    }
    let result = consumer.handle(events.build()).await;
    assert_eq!(result.report.enriched, 3);

    let mut out = Vec::new();
    collector.flush(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one document per flush: {text}");
    let doc: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let directive = &doc["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "KinesisConsumer");
    assert_eq!(directive["Dimensions"][0][0], "FunctionName");
    assert_eq!(doc["FunctionName"], "test-function");
    assert_eq!(doc["Records"], 4);
    assert_eq!(doc["Enriched"], 3);
    assert_eq!(doc["DeadLettered"], 1);
    assert_eq!(doc["DynamoDbHits"], 2);
    assert_eq!(doc["DynamoDbMisses"], 1);
    assert!(doc["ProcessingTime"][0].as_f64().unwrap() > 0.0);
    assert!(doc["OldestRecordAge"].as_f64().unwrap() >= 0.0);
    assert!(doc["MaxProducerLatency"].as_f64().unwrap() >= 0.0);
    let unit = |name: &str| {
        directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["Name"] == name)
            .map(|m| m["Unit"].clone())
    };
    assert_eq!(unit("ProcessingTime"), Some("Milliseconds".into()));
    assert_eq!(unit("Records"), Some("Count".into()));

    // Counters are per flush: an empty flush writes nothing new for them.
    let mut again = Vec::new();
    collector.flush(&mut again).unwrap();
    let again = String::from_utf8(again).unwrap();
    assert!(!again.contains("\"Records\""), "{again}");
}
