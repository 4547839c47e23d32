//! The way back for records the event-source mapping gave up on. The mapping
//! leaves only a pointer (shard and sequence range) in its on-failure queue;
//! [`Redrive`] reads every message there once, fetches each pointer's range
//! from the stream its ARN names, re-applies what the mapping applied (lanes
//! where known, the filter criteria) to deliver exactly the records given
//! up on, in the order the engine's schedule sets (parents before children,
//! each shard's ranges in order), through the mapping's own reader, invoker
//! and retry rules. The decisions are in [`crate::engine::redrive`].
//!
//! A pointer is deleted once its records are delivered; a partly delivered
//! one is replaced by a pointer to the rest; one the stream no longer holds
//! is reported and kept, and blocks nothing. Messages that are not pointers
//! are reported and kept, or moved to a queue the caller names. Plain AWS
//! SDK calls: the same code runs against a deployment and the emulators.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use aws_config::SdkConfig;
use serde::Serialize;
use serde_json::Value;

use crate::arn::{Arn, FunctionArns};
use crate::engine::redrive::{pick, range_of, Ending, Picked, Pointer, Range, Schedule, Selection};
use crate::engine::{first_failure_in, Backoff, InvokeError, Next, RetryRules, Returned};
use crate::records::{EventSource, StreamRecord};
use crate::shell::invoker::Function;
use crate::shell::reader::{ReadError, StreamReader};
use crate::state::Position;

/// How long received messages stay hidden while a run works on them; they
/// reappear by themselves if the run dies.
const VISIBILITY: Duration = Duration::from_secs(300);

/// Why the on-failure queue could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error(
        "{operation} failed: {}",
        aws_sdk_sqs::error::DisplayErrorContext(source)
    )]
    Sqs {
        operation: &'static str,
        #[source]
        source: Box<aws_sdk_sqs::Error>,
    },
}

fn sqs_error<E, R>(
    operation: &'static str,
    error: aws_sdk_sqs::error::SdkError<E, R>,
) -> RedriveError
where
    aws_sdk_sqs::Error: From<aws_sdk_sqs::error::SdkError<E, R>>,
{
    RedriveError::Sqs {
        operation,
        source: Box::new(error.into()),
    }
}

/// What to redrive and how.
#[derive(Debug, Clone)]
pub struct RedriveConfig {
    /// The on-failure queue (SQS URL).
    pub queue_url: String,
    /// Records per invocation.
    pub batch_size: usize,
    /// Invocations of one batch without progress before its range counts
    /// as failed (retried with the mapping's backoff in between).
    pub attempts: u32,
    /// Check what the pointers name and whether the stream still holds it,
    /// without invoking or deleting anything.
    pub dry_run: bool,
    /// The function's name: events name its role (`<function>-role`) in
    /// the stream's account, as the mapping's do.
    pub function_name: String,
    /// Which records of a range the mapping gave up on (lanes, filter).
    pub selection: Selection,
    /// Where messages that are not pointers go; `None`: they stay.
    pub foreign_queue_url: Option<String>,
    pub backoff: Backoff,
    pub function_timeout: Option<Duration>,
}

/// What happened to one pointer.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub pointer: Pointer,
    /// What the range held and what of it went back.
    pub picked: Picked,
    /// Records delivered successfully.
    pub delivered: usize,
    pub result: RangeResult,
    /// The pointer's `batchSize` disagrees with what was picked.
    pub mismatch: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RangeResult {
    /// Every record delivered; the pointer is deleted.
    Redriven,
    /// `--dry-run`: the stream holds the range; nothing was invoked.
    Available,
    /// The stream no longer holds the start of the range (retention passed,
    /// or the stream is gone): nothing delivered, the pointer kept.
    AgedOut { first_available: Option<String> },
    /// Delivery failed; the pointer is kept, narrowed to the undelivered rest.
    Failed { reason: String },
    /// Not attempted: a range it must follow (earlier in its shard, or of a
    /// parent shard) failed.
    Blocked,
}

/// A message in the on-failure queue that is not a pointer.
#[derive(Debug, Clone, Serialize)]
pub struct ForeignMessage {
    pub message_id: String,
    pub bytes: usize,
    /// Moved to the foreign queue (else left where it was).
    pub moved: bool,
    #[serde(skip)]
    receipt_handle: String,
}

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RedriveReport {
    pub outcomes: Vec<Outcome>,
    pub foreign: Vec<ForeignMessage>,
    pub invocations: u64,
}

impl RedriveReport {
    /// Whether every pointer's range was delivered (or, in a dry run, is available).
    pub fn complete(&self) -> bool {
        self.outcomes
            .iter()
            .all(|o| matches!(o.result, RangeResult::Redriven | RangeResult::Available))
    }

    pub fn records_delivered(&self) -> usize {
        self.outcomes.iter().map(|o| o.delivered).sum()
    }
}

/// A pointer as received, with what it takes to delete or narrow it.
struct Received {
    pointer: Pointer,
    receipt_handle: String,
    /// The invocation record (unwrapped from an SNS notification).
    record: Value,
}

/// A redrive run over one on-failure queue.
pub struct Redrive {
    sdk: SdkConfig,
    sqs: aws_sdk_sqs::Client,
    config: RedriveConfig,
    function: Function,
}

impl Redrive {
    pub fn new(sdk: &SdkConfig, config: RedriveConfig, function: Function) -> Self {
        Self {
            sdk: sdk.clone(),
            sqs: aws_sdk_sqs::Client::new(sdk),
            config,
            function,
        }
    }

    /// Reads every message in the queue once and redrives each pointer's
    /// range in the schedule's order.
    ///
    /// # Errors
    /// [`RedriveError`] if the queue cannot be read. A range that cannot be
    /// fetched or delivered is an [`Outcome`], not an error.
    pub async fn run(&self) -> Result<RedriveReport, RedriveError> {
        let (received, foreign) = self.receive_all().await?;
        let mut report = RedriveReport {
            foreign,
            ..RedriveReport::default()
        };
        let mut readers: HashMap<String, Option<StreamReader>> = HashMap::new();
        let mut graphs = HashMap::new();
        for r in &received {
            let stream = &r.pointer.stream_arn;
            if readers.contains_key(stream) {
                continue;
            }
            let reader = self.reader(stream);
            match &reader {
                Some(reader) => match reader.shards().await {
                    Ok(shards) => {
                        graphs.insert(stream.clone(), shards);
                    }
                    Err(error) => tracing::warn!(%error, stream, "cannot list the stream's shards"),
                },
                None => tracing::warn!(stream, "not a stream ARN"),
            }
            readers.insert(stream.clone(), reader);
        }
        let mut schedule = Schedule::new(
            received.iter().map(|r| r.pointer.clone()).collect(),
            &graphs,
        );
        let mut outcomes: Vec<Option<Outcome>> = vec![None; received.len()];
        let mut delivered: HashSet<(String, String)> = HashSet::new();
        loop {
            let ready = schedule.ready();
            if ready.is_empty() {
                break;
            }
            let runs = ready.iter().map(|&i| {
                let reader = readers
                    .get(&received[i].pointer.stream_arn)
                    .cloned()
                    .flatten();
                let already: HashSet<String> = delivered
                    .iter()
                    .filter(|(shard, _)| *shard == received[i].pointer.shard_id)
                    .map(|(_, s)| s.clone())
                    .collect();
                self.range(&received[i], reader, already)
            });
            let done = futures::future::join_all(runs).await;
            for (&i, (outcome, records, invocations)) in ready.iter().zip(done) {
                report.invocations += invocations;
                for record in records {
                    delivered.insert((record.shard_id, record.sequence_number));
                }
                let ending = match outcome.result {
                    RangeResult::Redriven | RangeResult::Available => Ending::Done,
                    RangeResult::AgedOut { .. } => Ending::AgedOut,
                    RangeResult::Failed { .. } | RangeResult::Blocked => Ending::Failed,
                };
                schedule.ended(i, ending);
                outcomes[i] = Some(outcome);
            }
        }
        for i in schedule.blocked() {
            outcomes[i] = Some(Outcome {
                pointer: received[i].pointer.clone(),
                picked: Picked::default(),
                delivered: 0,
                result: RangeResult::Blocked,
                mismatch: None,
            });
        }
        // What is kept becomes visible again now, for the next run (and for
        // whoever reads foreign messages).
        for foreign in report.foreign.iter().filter(|f| !f.moved) {
            self.release(&foreign.receipt_handle).await;
        }
        for (r, outcome) in received.iter().zip(&outcomes) {
            let kept = outcome.as_ref().is_none_or(|o| {
                !matches!(o.result, RangeResult::Redriven | RangeResult::Failed { .. })
            });
            if kept {
                self.release(&r.receipt_handle).await;
            }
        }
        report.outcomes = outcomes.into_iter().flatten().collect();
        Ok(report)
    }

    /// A reader for the stream an ARN names, in the ARN's region.
    fn reader(&self, stream_arn: &str) -> Option<StreamReader> {
        let arn = Arn::parse(stream_arn)?;
        let name = arn.stream_name()?.to_owned();
        let mut config = aws_sdk_kinesis::config::Builder::from(&self.sdk);
        if !arn.region.is_empty() {
            config = config.region(aws_config::Region::new(arn.region.clone()));
        }
        Some(StreamReader::new(
            aws_sdk_kinesis::Client::from_conf(config.build()),
            &name,
        ))
    }

    /// Receives until nothing is left to see. Nothing received is released
    /// before the end, so no message is received twice in a run.
    async fn receive_all(&self) -> Result<(Vec<Received>, Vec<ForeignMessage>), RedriveError> {
        let mut received = Vec::new();
        let mut foreign = Vec::new();
        loop {
            let page = self
                .sqs
                .receive_message()
                .queue_url(&self.config.queue_url)
                .max_number_of_messages(10)
                .visibility_timeout(VISIBILITY.as_secs() as i32)
                .wait_time_seconds(1)
                .send()
                .await
                .map_err(|e| sqs_error("sqs:ReceiveMessage", e))?;
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok((received, foreign));
            }
            for message in messages {
                let receipt_handle = message.receipt_handle().unwrap_or_default().to_owned();
                let body = message.body().unwrap_or_default();
                let record: Option<Value> =
                    serde_json::from_str::<Value>(body).ok().map(|v| {
                        match v.get("Type").and_then(Value::as_str) {
                            Some("Notification") => v["Message"]
                                .as_str()
                                .and_then(|m| serde_json::from_str(m).ok())
                                .unwrap_or(v),
                            _ => v,
                        }
                    });
                match Pointer::parse(body).zip(record) {
                    Some((pointer, record)) => received.push(Received {
                        pointer,
                        receipt_handle,
                        record,
                    }),
                    None => foreign.push(self.foreign(&message, body, &receipt_handle).await),
                }
            }
        }
    }

    /// A message that is not a pointer: moved, or left (hidden until this
    /// run ends, then visible again).
    async fn foreign(
        &self,
        message: &aws_sdk_sqs::types::Message,
        body: &str,
        receipt_handle: &str,
    ) -> ForeignMessage {
        let mut moved = false;
        if let Some(queue) = &self.config.foreign_queue_url {
            let sent = self
                .sqs
                .send_message()
                .queue_url(queue)
                .message_body(body)
                .send()
                .await;
            match sent {
                Ok(_) => moved = self.delete(receipt_handle).await.is_ok(),
                Err(e) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "could not move a foreign message")
                }
            }
        }
        ForeignMessage {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            bytes: body.len(),
            moved,
            receipt_handle: receipt_handle.to_owned(),
        }
    }

    /// One pointer: fetch, pick, deliver, then delete, narrow or keep it.
    /// Returns the outcome, the records delivered and the invocations made.
    async fn range(
        &self,
        received: &Received,
        reader: Option<StreamReader>,
        already: HashSet<String>,
    ) -> (Outcome, Vec<StreamRecord>, u64) {
        let pointer = &received.pointer;
        let outcome = |picked: Picked, delivered, result| Outcome {
            pointer: pointer.clone(),
            mismatch: picked.mismatch(pointer),
            picked,
            delivered,
            result,
        };
        let Some(reader) = reader else {
            let result = RangeResult::AgedOut {
                first_available: None,
            };
            return (outcome(Picked::default(), 0, result), Vec::new(), 0);
        };
        let read = match fetch(&reader, pointer).await {
            Ok(read) => read,
            Err(reason) => {
                let result = RangeResult::Failed { reason };
                return (outcome(Picked::default(), 0, result), Vec::new(), 0);
            }
        };
        let range = match range_of(pointer, read) {
            Range::Held(range) => range,
            Range::AgedOut { first_available } => {
                let result = RangeResult::AgedOut { first_available };
                return (outcome(Picked::default(), 0, result), Vec::new(), 0);
            }
            Range::Cut { last } => {
                let reason = format!(
                    "the stream ends before the range's end {} (last record {last})",
                    pointer.end_sequence_number
                );
                let result = RangeResult::Failed { reason };
                return (outcome(Picked::default(), 0, result), Vec::new(), 0);
            }
        };
        let picked = pick(pointer, &range, &self.config.selection, &already);
        if self.config.dry_run {
            return (outcome(picked, 0, RangeResult::Available), Vec::new(), 0);
        }
        let (delivered, invocations, failure) = self.deliver(pointer, &picked.records).await;
        let records = picked.records[..delivered].to_vec();
        let result = match failure {
            None => match self.delete(&received.receipt_handle).await {
                Ok(()) => RangeResult::Redriven,
                Err(reason) => RangeResult::Failed { reason },
            },
            Some(reason) => {
                let kept = self.narrow(received, &picked.records[delivered..]).await;
                RangeResult::Failed {
                    reason: match kept {
                        Ok(()) => reason,
                        Err(e) => format!("{reason}; and the pointer could not be narrowed: {e}"),
                    },
                }
            }
        };
        (outcome(picked, delivered, result), records, invocations)
    }

    /// Invokes the function over `records` in order, in batches, with the
    /// mapping's retry rules (no bisection: order first). Returns how many
    /// succeeded, the invocations made, and why it stopped short.
    async fn deliver(
        &self,
        pointer: &Pointer,
        records: &[StreamRecord],
    ) -> (usize, u64, Option<String>) {
        let region = Arn::parse(&pointer.stream_arn)
            .map(|a| a.region)
            .unwrap_or_default();
        let source = EventSource {
            stream_arn: pointer.stream_arn.clone(),
            role_arn: FunctionArns::new(&pointer.stream_arn, &region, &self.config.function_name)
                .role,
            region,
        };
        let rules = RetryRules {
            bisect_on_error: false,
            maximum_retry_attempts: Some(self.config.attempts.saturating_sub(1)),
            backoff: self.config.backoff,
        };
        let (mut delivered, mut invocations) = (0, 0);
        let (mut attempts, mut throttles) = (0, 0);
        while delivered < records.len() {
            let end = (delivered + self.config.batch_size.max(1)).min(records.len());
            let batch = &records[delivered..end];
            invocations += 1;
            let result = self
                .function
                .invoke_within(source.event(batch), self.config.function_timeout)
                .await;
            let returned = match &result {
                Ok(response) => Returned::Responded {
                    failed_from: first_failure_in(response, batch),
                },
                Err(InvokeError::Service(_)) => Returned::Throttled,
                Err(InvokeError::Function(_)) => Returned::FunctionError,
            };
            if let Err(error) = &result {
                tracing::warn!(%error, shard = %pointer.shard_id, "redrive invocation failed");
            }
            match rules.next(returned, batch.len(), &mut attempts, &mut throttles) {
                Next::Done => {
                    delivered = end;
                    attempts = 0;
                }
                Next::Rest { done, wait } => {
                    delivered += done;
                    attempts = 0;
                    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
                }
                Next::Again { wait } => tokio::time::sleep(Duration::from_secs_f64(wait)).await,
                Next::GiveUp {
                    invocations: failed,
                } => {
                    let reason = format!(
                        "record {} still failed after {failed} invocations",
                        records[delivered].sequence_number
                    );
                    return (delivered, invocations, Some(reason));
                }
                Next::Split => unreachable!("redrive does not bisect"),
            }
        }
        (delivered, invocations, None)
    }

    /// Replaces a partly delivered pointer with one naming only the rest.
    async fn narrow(&self, received: &Received, rest: &[StreamRecord]) -> Result<(), String> {
        let Some(first) = rest.first() else {
            return self.delete(&received.receipt_handle).await;
        };
        if first.sequence_number == received.pointer.start_sequence_number {
            // Nothing delivered: the pointer stays as it is.
            self.release(&received.receipt_handle).await;
            return Ok(());
        }
        let mut record = received.record.clone();
        record["KinesisBatchInfo"]["startSequenceNumber"] = first.sequence_number.clone().into();
        record["KinesisBatchInfo"]["batchSize"] = rest.len().into();
        self.sqs
            .send_message()
            .queue_url(&self.config.queue_url)
            .message_body(record.to_string())
            .send()
            .await
            .map_err(|e| {
                format!(
                    "sqs:SendMessage: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })?;
        self.delete(&received.receipt_handle).await
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), String> {
        self.sqs
            .delete_message()
            .queue_url(&self.config.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "sqs:DeleteMessage: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(e)
                )
            })
    }

    /// Makes a message visible again now rather than after [`VISIBILITY`].
    async fn release(&self, receipt_handle: &str) {
        let released = self
            .sqs
            .change_message_visibility()
            .queue_url(&self.config.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(0)
            .send()
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(e), "could not release a message; it reappears after the visibility timeout");
        }
    }
}

/// The shard's records from the range's start on, through the mapping's
/// reader, until past the range's end, the shard's end or the stream's tip
/// ([`range_of`] reads the range out of them); none when the position is gone.
async fn fetch(reader: &StreamReader, pointer: &Pointer) -> Result<Vec<StreamRecord>, String> {
    let mut from = Some(Position::AtSequenceNumber(
        pointer.start_sequence_number.clone(),
    ));
    let mut iterator: Option<String> = None;
    let mut records: Vec<StreamRecord> = Vec::new();
    loop {
        let current = match from.take() {
            Some(position) => match reader.iterator(&pointer.shard_id, &position).await {
                Ok(iterator) => iterator,
                Err(ReadError::Gone(_)) => return Ok(records),
                Err(ReadError::Throttled) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    from = Some(position);
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            },
            None => iterator.take().expect("an iterator or a position"),
        };
        let page = match reader.page(&pointer.shard_id, &current, 10_000).await {
            Ok(page) => page,
            Err(ReadError::Expired) => {
                from = Some(match records.last() {
                    Some(last) => Position::AfterSequenceNumber(last.sequence_number.clone()),
                    None => Position::AtSequenceNumber(pointer.start_sequence_number.clone()),
                });
                continue;
            }
            Err(ReadError::Throttled) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                iterator = Some(current);
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let at_tip = page.records.is_empty() && !page.behind;
        let past_end = page.records.last().is_some_and(|r| {
            crate::sequence::compare(&r.sequence_number, &pointer.end_sequence_number).is_ge()
        });
        records.extend(page.records);
        match page.next_iterator {
            Some(next) if !at_tip && !past_end => iterator = Some(next),
            _ => return Ok(records),
        }
    }
}
