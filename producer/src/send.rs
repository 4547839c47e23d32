//! Writing records to Kinesis: batched `PutRecords` with per-entry retries,
//! or the article's one `PutRecord` per record.

use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;
use rand::Rng;

use model::ModelOne;

/// Kinesis' record limit for one `PutRecords` call. Its 5 MB limit cannot be
/// reached: generated records are about 120 bytes, so 500 of them are ~60 kB.
pub const MAX_BATCH_RECORDS: usize = 500;

/// How records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// `PutRecords` with up to `--batch-size` records per call.
    Batched,
    /// One `PutRecord` per record, as the article's publisher does.
    Single,
}

/// A record that could not be delivered, and the last error it got.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Failed {
    pub record: ModelOne,
    pub error: String,
}

/// What one batch's delivery did.
#[derive(Debug, Default)]
pub struct Delivery {
    pub sent: u64,
    pub failed: Vec<Failed>,
    /// Entries sent again after a partial failure or a failed call.
    pub retried: u64,
    /// Entries Kinesis refused with ProvisionedThroughputExceeded.
    pub throttled: u64,
    /// Latency of every call, in microseconds.
    pub call_micros: Vec<u64>,
}

impl Delivery {
    /// Adds `other`'s counts, failures and latencies to this one.
    pub fn absorb(&mut self, other: Delivery) {
        self.sent += other.sent;
        self.retried += other.retried;
        self.throttled += other.throttled;
        self.failed.extend(other.failed);
        self.call_micros.extend(other.call_micros);
    }
}

/// Sends records to one stream.
#[derive(Clone)]
pub struct Sender {
    client: Client,
    stream: String,
    strategy: Strategy,
    retry_deadline: Duration,
}

impl Sender {
    /// `stream` is a name or an ARN. Failed entries are retried with jittered
    /// exponential backoff until `retry_deadline` has passed since the batch began.
    pub fn new(
        client: Client,
        stream: String,
        strategy: Strategy,
        retry_deadline: Duration,
    ) -> Self {
        Self {
            client,
            stream,
            strategy,
            retry_deadline,
        }
    }

    fn is_arn(&self) -> bool {
        self.stream.starts_with("arn:")
    }

    /// Fails with a one-line reason if the stream cannot be written to.
    ///
    /// # Errors
    /// The stream does not exist or the endpoint does not answer.
    pub async fn check_stream(&self) -> Result<(), String> {
        let request = self.client.describe_stream_summary();
        let request = if self.is_arn() {
            request.stream_arn(&self.stream)
        } else {
            request.stream_name(&self.stream)
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Err(format!("stream `{}` does not exist", self.stream))
            }
            Err(e) => Err(format!(
                "cannot reach stream `{}`: {}",
                self.stream,
                aws_sdk_kinesis::error::DisplayErrorContext(&e)
            )),
        }
    }

    /// Delivers `records` with the configured strategy.
    pub async fn deliver(&self, records: Vec<ModelOne>) -> Delivery {
        match self.strategy {
            Strategy::Batched => self.put_records(records).await,
            Strategy::Single => self.put_each(records).await,
        }
    }

    async fn put_each(&self, records: Vec<ModelOne>) -> Delivery {
        let mut delivery = Delivery::default();
        for record in records {
            let request = self
                .client
                .put_record()
                .partition_key(&record.id)
                .data(Blob::new(record.to_json()));
            let request = if self.is_arn() {
                request.stream_arn(&self.stream)
            } else {
                request.stream_name(&self.stream)
            };
            let started = Instant::now();
            let result = request.send().await;
            delivery
                .call_micros
                .push(started.elapsed().as_micros() as u64);
            match result {
                Ok(_) => delivery.sent += 1,
                Err(e) => delivery.failed.push(Failed {
                    record,
                    error: aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string(),
                }),
            }
        }
        delivery
    }

    async fn put_records(&self, records: Vec<ModelOne>) -> Delivery {
        let started = Instant::now();
        let mut delivery = Delivery::default();
        let mut pending: Vec<(ModelOne, Vec<u8>)> = records
            .into_iter()
            .map(|r| {
                let json = r.to_json();
                (r, json)
            })
            .collect();
        let mut attempt = 0u32;
        while !pending.is_empty() {
            let entries = pending
                .iter()
                .map(|(record, json)| {
                    PutRecordsRequestEntry::builder()
                        .partition_key(&record.id)
                        .data(Blob::new(json.clone()))
                        .build()
                        .expect("partition key and data are set")
                })
                .collect::<Vec<_>>();
            let request = self.client.put_records().set_records(Some(entries));
            let request = if self.is_arn() {
                request.stream_arn(&self.stream)
            } else {
                request.stream_name(&self.stream)
            };
            let call_started = Instant::now();
            let result = request.send().await;
            delivery
                .call_micros
                .push(call_started.elapsed().as_micros() as u64);
            let mut last_error = String::new();
            pending = match result {
                Ok(output) => {
                    let mut again = Vec::new();
                    for ((record, json), entry) in pending.into_iter().zip(output.records()) {
                        match entry.error_code() {
                            None => delivery.sent += 1,
                            Some(code) => {
                                if code == "ProvisionedThroughputExceededException" {
                                    delivery.throttled += 1;
                                }
                                last_error = format!(
                                    "{code}: {}",
                                    entry.error_message().unwrap_or_default()
                                );
                                again.push((record, json));
                            }
                        }
                    }
                    again
                }
                Err(e) => {
                    last_error = aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string();
                    pending
                }
            };
            if pending.is_empty() {
                break;
            }
            attempt += 1;
            let backoff = backoff(attempt);
            if started.elapsed() + backoff > self.retry_deadline {
                delivery
                    .failed
                    .extend(pending.into_iter().map(|(record, _)| Failed {
                        record,
                        error: last_error.clone(),
                    }));
                break;
            }
            delivery.retried += pending.len() as u64;
            tokio::time::sleep(backoff).await;
        }
        delivery
    }
}

/// Full-jitter exponential backoff: random in [0, min(1 s, 50 ms × 2^attempt)].
fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(50)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(1));
    cap.mul_f64(rand::rng().random_range(0.0..=1.0))
}
