//! Dead letters at their limits, against moto server's SQS: a letter always
//! fits the queue whatever its record held, and SQS refusing some letters
//! still leaves every record in exactly one place across the Kinesis retry.
//! A proxy in front of the emulator's SQS refuses the letters of chosen
//! records, in SendMessage and, entry by entry, in SendMessageBatch (a batch
//! that lets a later letter in while refusing an earlier one).
#![cfg(feature = "integration")]

mod common;

use std::collections::{HashMap, HashSet};

use aws_sdk_sqs::types::QueueAttributeName;
use common::{failures, Env, Events};
use consumer::lookup::{Table, TieredLookup};
use consumer::{Consumer, DeadLetter, DeadLetters, Output};
use kpl_aggregation::Aggregator;
use model::ModelOne;

/// An aggregate of `users` (partition key, data), as KPL packs them.
fn aggregate(users: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut aggregator = Aggregator::new(kpl_aggregation::MAX_RECORD_BYTES).unwrap();
    for (key, data) in users {
        assert!(aggregator.add(key, None, data).unwrap().is_none());
    }
    aggregator.finish().unwrap().data
}

fn valid(location: &str) -> (String, Vec<u8>) {
    let model = ModelOne::new(location);
    (model.id.clone(), model.to_json())
}

/// A user record whose partition key is 200,000 `\u0001` characters: 1.2 MB
/// once JSON escapes it, over any queue's limit if a letter copied it whole.
fn hostile_key() -> String {
    "\u{1}".repeat(200_000)
}

#[tokio::test]
async fn a_hostile_partition_key_is_cut_and_its_siblings_are_enriched() {
    let env = Env::start().await;
    let (consumer, captured) = env.consumer(&env.config()).await;
    let mut events = Events::new();
    let users = vec![
        valid("Car"),
        (hostile_key(), b"{broken".to_vec()),
        valid("Diner"),
    ];
    let sequence = events.data(0, "aggregate", aggregate(&users));

    let result = consumer.handle(events.build()).await;
    assert_eq!(
        failures(&result.response),
        Vec::<String>::new(),
        "nothing retried"
    );
    let report = &result.report;
    assert_eq!(
        (
            report.user_records,
            report.enriched,
            report.dead_lettered,
            report.retried
        ),
        (3, 2, 1, 0)
    );
    let emitted: Vec<String> = captured
        .take_lines()
        .into_iter()
        .map(|l| l.record.record.id)
        .collect();
    assert_eq!(emitted, [users[0].0.clone(), users[2].0.clone()]);
    let letters = env.dead_letters().await;
    assert_eq!(letters.len(), 1);
    let letter = &letters[0];
    assert_eq!(
        (letter.sequence_number.as_str(), letter.subsequence_number),
        (sequence.as_str(), Some(1))
    );
    assert_eq!(
        letter.partition_key,
        "\u{1}".repeat(consumer::MAX_KEY_CHARS)
    );
    assert!(letter.partition_key_truncated);
    assert_eq!(letter.partition_key_bytes, Some(200_000));
    assert_eq!(
        letter.letter_id,
        format!("shardId-000000000000/{sequence}/1")
    );
}

#[tokio::test]
async fn with_a_64_kib_queue_no_letter_is_over_it_and_none_is_retried() {
    const MAX: usize = 64 * 1024;
    let env = Env::start().await;
    // moto refuses a message over the queue's size, counted in characters;
    // the letters are checked in bytes below.
    aws_sdk_sqs::Client::new(&env.sdk)
        .set_queue_attributes()
        .queue_url(&env.provisioned.dead_letter_queue_url)
        .attributes(QueueAttributeName::MaximumMessageSize, MAX.to_string())
        .send()
        .await
        .unwrap();
    let mut config = env.config();
    config.dead_letter_max_bytes = MAX;
    let (consumer, captured) = env.consumer(&config).await;

    let mut events = Events::new();
    let big_poison = vec![0xAB; 150 * 1024]; // 200 KiB of base64
    let users = vec![
        valid("House"),
        (hostile_key(), big_poison.clone()),
        valid("Car"),
    ];
    events.data(0, "aggregate", aggregate(&users));
    let plain_poison = events.data(1, "plain", big_poison);
    let result = consumer.handle(events.build()).await;
    assert_eq!(
        failures(&result.response),
        Vec::<String>::new(),
        "nothing retried"
    );
    assert_eq!(
        (result.report.enriched, result.report.dead_lettered),
        (2, 2)
    );
    assert_eq!(captured.take_lines().len(), 2);

    let bodies = env.dead_letter_bodies().await;
    assert_eq!(bodies.len(), 2);
    for body in &bodies {
        assert!(body.len() <= MAX, "a letter of {} bytes", body.len());
        let letter: DeadLetter = serde_json::from_str(body).unwrap();
        assert!(letter.data_truncated, "{}", letter.letter_id);
        assert!(!letter.data.is_empty(), "the data is cut, not dropped");
    }
    let plain: DeadLetter = bodies
        .iter()
        .map(|b| serde_json::from_str::<DeadLetter>(b).unwrap())
        .find(|l| l.subsequence_number.is_none())
        .unwrap();
    assert_eq!(plain.sequence_number, plain_poison);
    assert_eq!(plain.reason, "too_large");
}

#[tokio::test]
async fn a_refused_letter_is_retried_and_no_later_letter_is_sent_twice() {
    let env = Env::start().await;
    let proxy = refusing_proxy::start(env.aws.endpoint()).await;
    let config = env.config();
    let through_proxy = emulators::sdk_config(&proxy.endpoint, "us-east-1").await;
    let table = Table::new(
        aws_sdk_dynamodb::Client::new(&env.sdk),
        &config.table_name,
        config.dynamodb_attempts,
    );
    let (output, captured) = Output::capture();
    let consumer = Consumer::new(
        TieredLookup::new(&config, env.momento(), table),
        DeadLetters::new(
            aws_sdk_sqs::Client::new(&through_proxy),
            &config.dead_letter_queue_url,
        ),
        output,
    );

    let mut events = Events::new();
    let car = events.record(0, "Car");
    let poison_a = events.data(0, "a", b"{broken".to_vec());
    let diner = events.record(0, "Diner");
    let poison_b = events.data(0, "b", b"{broken".to_vec());
    let house = events.record(0, "House");
    let poison_c = events.data(0, "c", b"{broken".to_vec());
    let car_again = events.record(0, "Car");
    let poison_d = events.data(1, "d", b"{broken".to_vec());
    let other_shard = events.record(1, "House");
    let event = events.build();
    let seq = |i: usize| event.records[i].kinesis.sequence_number.clone();

    // B's letter is refused: B and everything after it on shard 0 is retried;
    // C comes after the refusal, so its letter must not be sent now.
    proxy.refuse(&poison_b);
    let first = consumer.handle(event.clone()).await;
    assert_eq!(failures(&first.response), [seq(3), seq(4), seq(5), seq(6)]);
    let report = &first.report;
    assert_eq!(
        (report.enriched, report.dead_lettered, report.failed),
        (3, 2, 4),
        "A and D lettered; car, diner and shard 1's house emitted"
    );
    assert_eq!(
        report.enriched + report.dead_lettered + report.failed,
        report.records
    );

    // The mapping's retry: the records from B on, with SQS healthy again.
    proxy.refuse_nothing();
    let mut retry = event.clone();
    retry.records = retry.records[3..7].to_vec();
    let second = consumer.handle(retry).await;
    assert!(second.response.batch_item_failures.is_empty());
    let report = &second.report;
    assert_eq!(
        (
            report.enriched,
            report.dead_lettered,
            report.failed,
            report.records
        ),
        (2, 2, 0, 4)
    );

    let mut emitted: HashMap<String, usize> = HashMap::new();
    for line in captured.take_lines() {
        *emitted.entry(line.record.record.id).or_default() += 1;
    }
    let expected: HashMap<String, usize> = [&car, &diner, &house, &car_again, &other_shard]
        .into_iter()
        .map(|id| (id.clone(), 1))
        .collect();
    assert_eq!(emitted, expected, "each good record emitted exactly once");
    let mut lettered: Vec<String> = env
        .dead_letters()
        .await
        .into_iter()
        .map(|l| l.sequence_number)
        .collect();
    lettered.sort();
    let mut poison = vec![poison_a, poison_b, poison_c, poison_d];
    poison.sort();
    assert_eq!(lettered, poison, "each poison record lettered exactly once");
    let refused: HashSet<String> = proxy.refused_sequence_numbers();
    assert_eq!(refused, HashSet::from([seq(3)]), "the proxy did refuse B");
}

/// A proxy in front of moto's SQS that refuses the dead letters of chosen
/// records (by the `sequence_number` in their body): a SendMessage for one
/// gets a 500 (the SDK's retries get the same), a SendMessageBatch forwards
/// the other entries and reports the chosen ones as Failed.
mod refusing_proxy {
    use std::collections::HashSet;
    use std::sync::Arc;

    use emulators::proxy::{self, Call, Intercept};
    use parking_lot::Mutex;
    use serde_json::{json, Value};

    pub struct Proxy {
        pub endpoint: String,
        refusals: Arc<Refusals>,
    }

    #[derive(Default)]
    struct Refusals {
        refuse: Mutex<HashSet<String>>,
        refused: Mutex<HashSet<String>>,
    }

    impl Proxy {
        pub fn refuse(&self, sequence_number: &str) {
            self.refusals
                .refuse
                .lock()
                .insert(sequence_number.to_owned());
        }

        pub fn refuse_nothing(&self) {
            self.refusals.refuse.lock().clear();
        }

        pub fn refused_sequence_numbers(&self) -> HashSet<String> {
            self.refusals.refused.lock().clone()
        }
    }

    pub async fn start(upstream: &str) -> Proxy {
        let refusals = Arc::new(Refusals::default());
        let endpoint = proxy::start(upstream, refusals.clone()).await;
        Proxy { endpoint, refusals }
    }

    impl Refusals {
        /// Whether the letter in `entry["MessageBody"]` is refused; notes it if so.
        fn refuses(&self, entry: &Value) -> bool {
            let letter: Option<Value> = entry["MessageBody"]
                .as_str()
                .and_then(|body| serde_json::from_str(body).ok());
            let Some(sequence) = letter.as_ref().and_then(|l| l["sequence_number"].as_str()) else {
                return false;
            };
            let refused = self.refuse.lock().contains(sequence);
            if refused {
                self.refused.lock().insert(sequence.to_owned());
            }
            refused
        }
    }

    impl Intercept for Refusals {
        async fn call(&self, call: Call) -> (u16, Vec<u8>) {
            match call.operation() {
                "SendMessage" => {
                    let message: Value = serde_json::from_slice(call.body()).unwrap();
                    if !self.refuses(&message) {
                        return call.forward(call.body().to_vec()).await;
                    }
                    let error = json!({
                        "__type": "com.amazonaws.sqs#InternalError",
                        "message": "refused by the test proxy"
                    });
                    (500, serde_json::to_vec(&error).unwrap())
                }
                "SendMessageBatch" => {
                    let mut batch: Value = serde_json::from_slice(call.body()).unwrap();
                    let entries = batch["Entries"].as_array().unwrap().clone();
                    let (dropped, kept): (Vec<Value>, Vec<Value>) =
                        entries.into_iter().partition(|e| self.refuses(e));
                    let mut reply = json!({"Successful": [], "Failed": []});
                    if !kept.is_empty() {
                        batch["Entries"] = Value::Array(kept);
                        let (status, out) = call.forward(serde_json::to_vec(&batch).unwrap()).await;
                        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&out));
                        reply = serde_json::from_slice(&out).unwrap();
                    }
                    let failed = reply["Failed"].as_array_mut().unwrap();
                    for entry in dropped {
                        failed.push(json!({
                            "Id": entry["Id"],
                            "SenderFault": false,
                            "Code": "InternalError",
                            "Message": "refused by the test proxy"
                        }));
                    }
                    (200, serde_json::to_vec(&reply).unwrap())
                }
                _ => call.forward(call.body().to_vec()).await,
            }
        }
    }
}
