//! SQS refusing some dead letters: every record still ends in exactly one
//! place across the Kinesis retry. A proxy in front of the emulator's SQS
//! refuses the letters of chosen records, in SendMessage and, entry by entry,
//! in SendMessageBatch (so the test also catches a sender that batches
//! letters and lets a later one in while an earlier one is refused).
#![cfg(feature = "integration")]

mod common;

use std::collections::{HashMap, HashSet};

use common::{failures, Env, Events};
use consumer::lookup::{Table, TieredLookup};
use consumer::{Consumer, DeadLetters, Output};

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
