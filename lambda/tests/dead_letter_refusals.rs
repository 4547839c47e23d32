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

/// An HTTP proxy in front of moto's SQS that refuses the dead letters of
/// chosen records (by the `sequence_number` in their body): a SendMessage
/// for one gets a 500 (the SDK's retries get the same), a SendMessageBatch
/// forwards the other entries and reports the chosen ones as Failed.
mod refusing_proxy {
    use std::collections::HashSet;
    use std::sync::Arc;

    use axum::body::{to_bytes, Body};
    use axum::extract::State;
    use axum::http::{HeaderMap, Request, Response};
    use parking_lot::Mutex;
    use serde_json::{json, Value};

    pub struct Proxy {
        pub endpoint: String,
        state: Arc<Inner>,
    }

    struct Inner {
        upstream: String,
        refuse: Mutex<HashSet<String>>,
        refused: Mutex<HashSet<String>>,
        http: reqwest::Client,
    }

    impl Proxy {
        pub fn refuse(&self, sequence_number: &str) {
            self.state.refuse.lock().insert(sequence_number.to_owned());
        }

        pub fn refuse_nothing(&self) {
            self.state.refuse.lock().clear();
        }

        pub fn refused_sequence_numbers(&self) -> HashSet<String> {
            self.state.refused.lock().clone()
        }
    }

    pub async fn start(upstream: &str) -> Proxy {
        let state = Arc::new(Inner {
            upstream: upstream.to_owned(),
            refuse: Mutex::new(HashSet::new()),
            refused: Mutex::new(HashSet::new()),
            http: reqwest::Client::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy { endpoint, state }
    }

    /// The record a letter body is about, if it is refused.
    fn refused(inner: &Inner, body: &str) -> Option<String> {
        let letter: Value = serde_json::from_str(body).ok()?;
        let sequence = letter["sequence_number"].as_str()?;
        inner
            .refuse
            .lock()
            .contains(sequence)
            .then(|| sequence.to_owned())
    }

    async fn forward(inner: &Inner, headers: &HeaderMap, body: Vec<u8>) -> (u16, Vec<u8>) {
        let mut request = inner.http.post(&inner.upstream).body(body);
        for (name, value) in headers {
            if name != "host" && name != "content-length" {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        let response = request.send().await.unwrap();
        (
            response.status().as_u16(),
            response.bytes().await.unwrap().to_vec(),
        )
    }

    async fn handle(State(inner): State<Arc<Inner>>, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = to_bytes(body, usize::MAX).await.unwrap().to_vec();
        let target = parts
            .headers
            .get("x-amz-target")
            .map(|t| String::from_utf8_lossy(t.as_bytes()).into_owned())
            .unwrap_or_default();
        let (status, out) = if target.ends_with(".SendMessage") {
            let call: Value = serde_json::from_slice(&body).unwrap();
            match refused(&inner, call["MessageBody"].as_str().unwrap_or_default()) {
                Some(sequence) => {
                    inner.refused.lock().insert(sequence);
                    let error = json!({
                        "__type": "com.amazonaws.sqs#InternalError",
                        "message": "refused by the test proxy"
                    });
                    (500, serde_json::to_vec(&error).unwrap())
                }
                None => forward(&inner, &parts.headers, body).await,
            }
        } else if target.ends_with(".SendMessageBatch") {
            let mut call: Value = serde_json::from_slice(&body).unwrap();
            let entries = call["Entries"].as_array().unwrap().clone();
            let (kept, dropped): (Vec<Value>, Vec<Value>) = entries.into_iter().partition(|e| {
                refused(&inner, e["MessageBody"].as_str().unwrap_or_default()).is_none()
            });
            for entry in &dropped {
                let sequence = refused(&inner, entry["MessageBody"].as_str().unwrap()).unwrap();
                inner.refused.lock().insert(sequence);
            }
            let mut reply = json!({"Successful": [], "Failed": []});
            if !kept.is_empty() {
                call["Entries"] = Value::Array(kept);
                let (status, out) =
                    forward(&inner, &parts.headers, serde_json::to_vec(&call).unwrap()).await;
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
        } else {
            forward(&inner, &parts.headers, body).await
        };
        Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.0")
            .body(Body::from(out))
            .unwrap()
    }
}
