//! Writing records to Kinesis: batched `PutRecords` with per-entry retries
//! (each record as it is, or user records packed into KPL aggregates), or
//! the article's one `PutRecord` per record.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use aws_sdk_kinesis::Client;
use rand::Rng;

use model::ModelOne;

use crate::aggregated::{misplaced, pack, Packed};
use crate::shards::ShardMap;

/// Kinesis' record limit for one `PutRecords` call.
pub const MAX_BATCH_RECORDS: usize = 500;

/// Kinesis' size limit for one `PutRecords` call (data and partition keys).
pub const MAX_BATCH_BYTES: usize = 5 * 1024 * 1024;

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
    /// Kinesis refused the request as invalid (ValidationException,
    /// InvalidArgumentException): the same request would be refused again,
    /// so it was not retried.
    pub invalid: bool,
}

/// What one batch's delivery did.
#[derive(Debug, Default)]
pub struct Delivery {
    /// User records delivered (a plain record is one).
    pub sent: u64,
    /// Kinesis records delivered (aggregates count once).
    pub kinesis_records: u64,
    /// Aggregates Kinesis put on another shard than the shard map said: a
    /// reshard since the map was read (it is read again), or moto, which
    /// still routes to a split shard's closed parent.
    pub shard_mismatches: u64,
    pub failed: Vec<Failed>,
    /// User records Kinesis refused as invalid (counted in `failed` too).
    pub invalid: u64,
    /// User records sent a second time, to the shard their key hashes to,
    /// because a reshard put their aggregate on a sibling (each is then in
    /// the stream twice, as with the KPL).
    pub resent: u64,
    /// Aggregates that landed on another shard than predicted, with that
    /// shard and their user records: what a reshard may have misplaced.
    misplaced: Vec<(String, Vec<ModelOne>)>,
    /// Entries sent again after a partial failure or a failed call.
    pub retried: u64,
    /// Entries Kinesis refused with ProvisionedThroughputExceeded.
    pub throttled: u64,
    /// Latency of every call, in microseconds.
    pub call_micros: Vec<u64>,
}

impl Delivery {
    /// None of `records` delivered, for `error`.
    fn all_failed(records: Vec<ModelOne>, error: &str) -> Self {
        let failed = records
            .into_iter()
            .map(|record| Failed {
                record,
                error: error.to_owned(),
                invalid: false,
            })
            .collect();
        Self {
            failed,
            ..Self::default()
        }
    }

    /// Adds `other`'s counts, failures and latencies to this one.
    pub fn absorb(&mut self, other: Delivery) {
        self.sent += other.sent;
        self.kinesis_records += other.kinesis_records;
        self.shard_mismatches += other.shard_mismatches;
        self.retried += other.retried;
        self.throttled += other.throttled;
        self.invalid += other.invalid;
        self.resent += other.resent;
        self.misplaced.extend(other.misplaced);
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
    aggregation: Option<Aggregation>,
}

/// Packing into KPL aggregates: their size, and the stream's shards, read
/// when first needed and again after Kinesis put an aggregate elsewhere.
#[derive(Clone)]
struct Aggregation {
    max_bytes: usize,
    shards: Arc<tokio::sync::Mutex<Option<ShardMap>>>,
}

/// One Kinesis record to put, and the user records it carries.
struct Entry {
    partition_key: String,
    explicit_hash_key: Option<String>,
    data: Vec<u8>,
    records: Vec<ModelOne>,
    /// The shard the shard map says it lands on (aggregates only).
    shard_id: Option<String>,
}

impl Entry {
    fn plain(record: ModelOne) -> Self {
        Self {
            partition_key: record.id.clone(),
            explicit_hash_key: None,
            data: record.to_json(),
            records: vec![record],
            shard_id: None,
        }
    }

    fn packed(packed: Packed) -> Self {
        Self {
            partition_key: packed.partition_key,
            explicit_hash_key: Some(packed.explicit_hash_key),
            data: packed.data,
            records: packed.records,
            shard_id: Some(packed.shard_id),
        }
    }

    /// What counts against PutRecords' 5 MB.
    fn bytes(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
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
            aggregation: None,
        }
    }

    /// Packs user records into KPL aggregates of at most `max_bytes`, per
    /// shard, so that each lands on the shard its own key hashes to.
    pub fn with_aggregation(mut self, max_bytes: usize) -> Self {
        self.aggregation = Some(Aggregation {
            max_bytes,
            shards: Arc::default(),
        });
        self
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
        match (self.strategy, &self.aggregation) {
            (Strategy::Single, _) => self.put_each(records).await,
            (Strategy::Batched, None) => {
                self.put_records(records.into_iter().map(Entry::plain).collect())
                    .await
            }
            (Strategy::Batched, Some(aggregation)) => {
                self.put_aggregated(aggregation, records).await
            }
        }
    }

    async fn put_aggregated(&self, aggregation: &Aggregation, records: Vec<ModelOne>) -> Delivery {
        let map = {
            let mut shards = aggregation.shards.lock().await;
            if shards.is_none() {
                *shards = match ShardMap::load(&self.client, &self.stream).await {
                    Ok(map) => Some(map),
                    Err(error) => return Delivery::all_failed(records, &error),
                };
            }
            shards.clone().expect("the map was just read")
        };
        let packed = match pack(records, &map, aggregation.max_bytes) {
            Ok(packed) => packed,
            Err((error, records)) => return Delivery::all_failed(records, &error),
        };
        let mut delivery = self
            .put_records(packed.into_iter().map(Entry::packed).collect())
            .await;
        if delivery.shard_mismatches == 0 {
            return delivery;
        }
        // Resharded since the map was read: read it again, and send the user
        // records Kinesis put on a child their keys do not hash to again, to
        // the right one (once: what that misplaces stays where it is).
        let map = match ShardMap::load(&self.client, &self.stream).await {
            Ok(map) => map,
            Err(_) => {
                // Read again before the next batch; these stay where they landed.
                *aggregation.shards.lock().await = None;
                return delivery;
            }
        };
        *aggregation.shards.lock().await = Some(map.clone());
        let again: Vec<ModelOne> = std::mem::take(&mut delivery.misplaced)
            .into_iter()
            .filter_map(|(landed, records)| misplaced(records, &landed, &map))
            .flatten()
            .collect();
        if again.is_empty() {
            return delivery;
        }
        if let Ok(packed) = pack(again, &map, aggregation.max_bytes) {
            let resend = self
                .put_records(packed.into_iter().map(Entry::packed).collect())
                .await;
            delivery.resent += resend.sent;
            delivery.shard_mismatches += resend.shard_mismatches;
            delivery.kinesis_records += resend.kinesis_records;
            delivery.call_micros.extend(resend.call_micros);
            // Not sending them again leaves them where they were: in the
            // stream, on a sibling of their shard.
        }
        delivery
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
                Ok(_) => {
                    delivery.sent += 1;
                    delivery.kinesis_records += 1;
                }
                Err(e) => {
                    let invalid = is_invalid(&e);
                    delivery.invalid += u64::from(invalid);
                    delivery.failed.push(Failed {
                        record,
                        error: aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string(),
                        invalid,
                    });
                }
            }
        }
        delivery
    }

    /// Puts `entries` with PutRecords, in calls of at most 500 records and
    /// 5 MB, retrying the entries Kinesis refused until the retry deadline.
    /// A call Kinesis refuses as invalid is halved until the entries it
    /// refuses are alone; those fail with Kinesis's message, never retried.
    async fn put_records(&self, entries: Vec<Entry>) -> Delivery {
        let started = Instant::now();
        let mut delivery = Delivery::default();
        let mut pending = entries;
        let mut attempt = 0u32;
        let mut last_error = String::new();
        while !pending.is_empty() {
            let mut again = Vec::new();
            let mut queue: std::collections::VecDeque<Vec<Entry>> = calls(pending).into();
            while let Some(call) = queue.pop_front() {
                let request = call
                    .iter()
                    .map(|entry| {
                        PutRecordsRequestEntry::builder()
                            .partition_key(&entry.partition_key)
                            .set_explicit_hash_key(entry.explicit_hash_key.clone())
                            .data(Blob::new(entry.data.clone()))
                            .build()
                            .expect("partition key and data are set")
                    })
                    .collect::<Vec<_>>();
                let request = self.client.put_records().set_records(Some(request));
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
                match result {
                    Ok(output) => {
                        for (entry, result) in call.into_iter().zip(output.records()) {
                            match result.error_code() {
                                None => {
                                    delivery.sent += entry.records.len() as u64;
                                    delivery.kinesis_records += 1;
                                    let landed = result.shard_id().unwrap_or_default();
                                    if entry.shard_id.as_deref().is_some_and(|s| s != landed) {
                                        delivery.shard_mismatches += 1;
                                        delivery.misplaced.push((landed.to_owned(), entry.records));
                                    }
                                }
                                Some(code) => {
                                    if code == "ProvisionedThroughputExceededException" {
                                        delivery.throttled += 1;
                                    }
                                    last_error = format!(
                                        "{code}: {}",
                                        result.error_message().unwrap_or_default()
                                    );
                                    again.push(entry);
                                }
                            }
                        }
                    }
                    Err(e) if is_invalid(&e) && call.len() > 1 => {
                        // Which entry is it? Each half on its own, not a retry.
                        let mut first = call;
                        let second = first.split_off(first.len() / 2);
                        queue.push_front(second);
                        queue.push_front(first);
                    }
                    Err(e) if is_invalid(&e) => {
                        let error = aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string();
                        for entry in call {
                            delivery.invalid += entry.records.len() as u64;
                            delivery
                                .failed
                                .extend(entry.records.into_iter().map(|record| Failed {
                                    record,
                                    error: error.clone(),
                                    invalid: true,
                                }));
                        }
                    }
                    Err(e) => {
                        last_error = aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string();
                        again.extend(call);
                    }
                }
            }
            pending = again;
            if pending.is_empty() {
                break;
            }
            attempt += 1;
            let backoff = backoff(attempt);
            if started.elapsed() + backoff > self.retry_deadline {
                for entry in pending {
                    delivery
                        .failed
                        .extend(entry.records.into_iter().map(|record| Failed {
                            record,
                            error: last_error.clone(),
                            invalid: false,
                        }));
                }
                break;
            }
            delivery.retried += pending.len() as u64;
            tokio::time::sleep(backoff).await;
        }
        delivery
    }
}

/// Whether Kinesis refused the request itself as invalid: the same request
/// is refused again, so retrying it only burns the retry deadline.
fn is_invalid<E: aws_sdk_kinesis::error::ProvideErrorMetadata>(
    error: &aws_sdk_kinesis::error::SdkError<E>,
) -> bool {
    matches!(
        error.as_service_error().and_then(|e| e.code()),
        Some("ValidationException" | "InvalidArgumentException")
    )
}

/// `entries` cut into PutRecords calls of at most 500 records and 5 MB, in order.
fn calls(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut calls: Vec<Vec<Entry>> = Vec::new();
    let mut bytes = 0;
    for entry in entries {
        let full = calls.last().is_none_or(|call| {
            call.len() == MAX_BATCH_RECORDS || bytes + entry.bytes() > MAX_BATCH_BYTES
        });
        if full {
            calls.push(Vec::new());
            bytes = 0;
        }
        bytes += entry.bytes();
        calls
            .last_mut()
            .expect("a call was just opened")
            .push(entry);
    }
    calls
}

/// Full-jitter exponential backoff: random in [0, min(1 s, 50 ms × 2^attempt)].
fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(50)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(1));
    cap.mul_f64(rand::rng().random_range(0.0..=1.0))
}
