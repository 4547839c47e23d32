//! The way back for records the event-source mapping gave up on. The mapping
//! leaves only a pointer (shard id and sequence range) in its on-failure
//! queue; [`Redrive`] reads those pointers, fetches exactly those ranges from
//! the stream (`AT_SEQUENCE_NUMBER`, stopping after the range's end) and
//! delivers them to the function again, in order per shard. A pointer is
//! deleted only once its whole range succeeded; a range the stream no longer
//! holds is reported with its coordinates and its pointer kept.
//!
//! Plain AWS SDK calls, so the same code runs against a deployment (the
//! function invoked through the Lambda API) and against the local emulators.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_kinesis::error::DisplayErrorContext;
use aws_sdk_kinesis::types::ShardIteratorType;
use serde::Serialize;
use serde_json::Value;

use crate::engine::first_failure_in as first_failure;
use crate::records::{EventSource, StreamRecord};
use crate::shell::invoker::Function;

/// How long received pointers stay hidden from other readers while a run
/// works on them; they reappear by themselves if the run dies.
const VISIBILITY: Duration = Duration::from_secs(300);
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
}

fn aws_error(operation: &'static str, error: impl std::fmt::Display) -> RedriveError {
    RedriveError::Aws {
        operation,
        message: error.to_string(),
    }
}

/// What to redrive and how.
#[derive(Debug, Clone)]
pub struct RedriveConfig {
    /// The on-failure queue (SQS URL).
    pub queue_url: String,
    /// Records per invocation.
    pub batch_size: usize,
    /// Invocations of one batch before its range counts as failed (with
    /// exponential backoff in between).
    pub attempts: u32,
    /// Check what the pointers name and whether the stream still holds it,
    /// without invoking or deleting anything.
    pub dry_run: bool,
    /// The function's name: the events' `invokeIdentityArn` names its role
    /// as the Terraform module does (`<function>-role`, informational only).
    pub function_name: String,
}

/// One pointer from the on-failure queue: AWS's `KinesisBatchInfo`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pointer {
    pub stream_arn: String,
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub batch_size: u64,
    /// `RetryAttemptsExhausted` or `RecordAgeExceeded`.
    pub condition: String,
    #[serde(skip)]
    receipt_handle: String,
    #[serde(skip)]
    body: Value,
}

impl Pointer {
    /// Reads an on-failure invocation record; `None` for any other message.
    pub fn parse(body: &str) -> Option<Pointer> {
        let body: Value = serde_json::from_str(body).ok()?;
        let info = body.get("KinesisBatchInfo")?;
        let text = |name: &str| info.get(name)?.as_str().map(str::to_owned);
        Some(Pointer {
            stream_arn: text("streamArn")?,
            shard_id: text("shardId")?,
            start_sequence_number: text("startSequenceNumber")?,
            end_sequence_number: text("endSequenceNumber")?,
            batch_size: info.get("batchSize").and_then(Value::as_u64).unwrap_or(0),
            condition: body
                .pointer("/requestContext/condition")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            receipt_handle: String::new(),
            body,
        })
    }

    /// The stream's name, from its ARN (`arn:aws:kinesis:<region>:<account>:stream/<name>`).
    pub fn stream_name(&self) -> &str {
        self.stream_arn
            .rsplit_once(":stream/")
            .map_or(self.stream_arn.as_str(), |(_, name)| name)
    }

    /// The same invocation record, narrowed to start at `sequence_number`
    /// and hold `remaining` records.
    fn narrowed(&self, sequence_number: &str, remaining: usize) -> Value {
        let mut body = self.body.clone();
        body["KinesisBatchInfo"]["startSequenceNumber"] = sequence_number.into();
        body["KinesisBatchInfo"]["batchSize"] = remaining.into();
        body
    }
}

/// What happened to one pointer.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub pointer: Pointer,
    /// Records of the range found in the stream.
    pub found: usize,
    /// Records delivered successfully.
    pub delivered: usize,
    pub result: RangeResult,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RangeResult {
    /// Every record delivered; the pointer is deleted.
    Redriven,
    /// `--dry-run`: the stream holds the range; nothing was invoked.
    Available,
    /// The stream no longer holds the start of the range (retention passed):
    /// nothing delivered, the pointer kept.
    AgedOut { first_available: Option<String> },
    /// Delivery failed; the pointer is kept, narrowed to the undelivered rest.
    Failed { reason: String },
    /// Not attempted: an earlier range of the same shard did not complete.
    Blocked,
}

/// Counts of one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RedriveReport {
    pub outcomes: Vec<Outcome>,
    /// Messages in the queue that are not on-failure invocation records (left there).
    pub other_messages: usize,
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

/// A redrive run over one on-failure queue.
pub struct Redrive {
    kinesis: aws_sdk_kinesis::Client,
    sqs: aws_sdk_sqs::Client,
    region: String,
    config: RedriveConfig,
    function: Function,
}

impl Redrive {
    pub fn new(sdk: &SdkConfig, config: RedriveConfig, function: Function) -> Self {
        Self {
            kinesis: aws_sdk_kinesis::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            region: sdk
                .region()
                .map_or_else(|| "us-east-1".to_owned(), |r| r.to_string()),
            config,
            function,
        }
    }

    /// Reads every pointer in the queue and redrives its range; shards run
    /// concurrently, each shard's ranges in sequence order.
    ///
    /// # Errors
    /// [`RedriveError`] if the queue cannot be read. A range that cannot be
    /// fetched or delivered is an [`Outcome`], not an error.
    pub async fn run(&self) -> Result<RedriveReport, RedriveError> {
        let (pointers, other_messages) = self.receive_all().await?;
        let mut by_shard: BTreeMap<(String, String), Vec<Pointer>> = BTreeMap::new();
        for pointer in pointers {
            by_shard
                .entry((pointer.stream_arn.clone(), pointer.shard_id.clone()))
                .or_default()
                .push(pointer);
        }
        let shards = by_shard.into_values().map(|mut pointers| {
            pointers.sort_by(|a, b| {
                compare_sequence_numbers(&a.start_sequence_number, &b.start_sequence_number)
            });
            self.shard(pointers)
        });
        let mut report = RedriveReport {
            other_messages,
            ..RedriveReport::default()
        };
        for (outcomes, invocations) in futures::future::join_all(shards).await {
            report.outcomes.extend(outcomes);
            report.invocations += invocations;
        }
        Ok(report)
    }

    /// Receives until the queue has nothing visible; other messages are made
    /// visible again at once.
    async fn receive_all(&self) -> Result<(Vec<Pointer>, usize), RedriveError> {
        let mut pointers = Vec::new();
        let mut others = 0;
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
                .map_err(|e| {
                    aws_error(
                        "sqs:ReceiveMessage",
                        aws_sdk_sqs::error::DisplayErrorContext(e),
                    )
                })?;
            let messages = page.messages.unwrap_or_default();
            if messages.is_empty() {
                return Ok((pointers, others));
            }
            for message in messages {
                let receipt = message.receipt_handle().unwrap_or_default().to_owned();
                match message.body().and_then(Pointer::parse) {
                    Some(mut pointer) => {
                        pointer.receipt_handle = receipt;
                        pointers.push(pointer);
                    }
                    None => {
                        others += 1;
                        self.release(&receipt).await;
                    }
                }
            }
        }
    }

    /// One shard's pointers in order; stops at the first that does not complete.
    async fn shard(&self, pointers: Vec<Pointer>) -> (Vec<Outcome>, u64) {
        let mut outcomes = Vec::with_capacity(pointers.len());
        let mut invocations = 0;
        let mut blocked = false;
        for pointer in pointers {
            if blocked {
                self.release(&pointer.receipt_handle).await;
                outcomes.push(Outcome {
                    pointer,
                    found: 0,
                    delivered: 0,
                    result: RangeResult::Blocked,
                });
                continue;
            }
            let (outcome, invoked) = self.range(pointer).await;
            invocations += invoked;
            blocked = !matches!(
                outcome.result,
                RangeResult::Redriven | RangeResult::Available
            );
            outcomes.push(outcome);
        }
        (outcomes, invocations)
    }

    async fn range(&self, pointer: Pointer) -> (Outcome, u64) {
        let outcome = |found, delivered, result| Outcome {
            pointer: pointer.clone(),
            found,
            delivered,
            result,
        };
        let records = match self.fetch(&pointer).await {
            Ok(records) => records,
            Err(reason) => {
                self.release(&pointer.receipt_handle).await;
                return (outcome(0, 0, RangeResult::Failed { reason }), 0);
            }
        };
        let first = records.first().map(|r| r.sequence_number.clone());
        if first.as_deref() != Some(pointer.start_sequence_number.as_str()) {
            self.release(&pointer.receipt_handle).await;
            let result = RangeResult::AgedOut {
                first_available: first,
            };
            return (outcome(records.len(), 0, result), 0);
        }
        if self.config.dry_run {
            self.release(&pointer.receipt_handle).await;
            return (outcome(records.len(), 0, RangeResult::Available), 0);
        }
        let (delivered, invocations, failure) = self.deliver(&pointer, &records).await;
        let result = match failure {
            None => match self.delete(&pointer.receipt_handle).await {
                Ok(()) => RangeResult::Redriven,
                Err(reason) => RangeResult::Failed { reason },
            },
            Some(reason) => {
                let kept = self.narrow(&pointer, &records[delivered..]).await;
                RangeResult::Failed {
                    reason: match kept {
                        Ok(()) => reason,
                        Err(e) => format!("{reason}; and the pointer could not be narrowed: {e}"),
                    },
                }
            }
        };
        (outcome(records.len(), delivered, result), invocations)
    }

    /// The range's records: from an `AT_SEQUENCE_NUMBER` iterator on its
    /// start until a record past its end, the shard's end, or the tip.
    async fn fetch(&self, pointer: &Pointer) -> Result<Vec<StreamRecord>, String> {
        let iterator = self
            .kinesis
            .get_shard_iterator()
            .stream_name(pointer.stream_name())
            .shard_id(&pointer.shard_id)
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(&pointer.start_sequence_number)
            .send()
            .await;
        let mut iterator = match iterator {
            Ok(output) => output.shard_iterator,
            // A trimmed or unknown position: nothing of the range is there.
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_invalid_argument_exception() || s.is_resource_not_found_exception()
                }) =>
            {
                return Ok(Vec::new())
            }
            Err(e) => {
                return Err(format!(
                    "kinesis:GetShardIterator: {}",
                    DisplayErrorContext(e)
                ))
            }
        };
        let mut records = Vec::new();
        while let Some(current) = iterator.take() {
            let page = self
                .kinesis
                .get_records()
                .shard_iterator(&current)
                .limit(10_000)
                .send()
                .await
                .map_err(|e| format!("kinesis:GetRecords: {}", DisplayErrorContext(e)))?;
            for record in page.records() {
                let past_end = compare_sequence_numbers(
                    record.sequence_number(),
                    &pointer.end_sequence_number,
                ) == Ordering::Greater;
                if past_end {
                    return Ok(records);
                }
                records.push(crate::shell::reader::from_kinesis(
                    &pointer.shard_id,
                    record,
                ));
            }
            let at_tip =
                page.records().is_empty() && page.millis_behind_latest().is_none_or(|m| m == 0);
            if at_tip {
                break;
            }
            iterator = page.next_shard_iterator().map(str::to_owned);
        }
        let reached_end = records
            .last()
            .is_some_and(|r| r.sequence_number == pointer.end_sequence_number);
        if !records.is_empty() && !reached_end {
            return Err(format!(
                "the stream ends before the range's end {} (last record {})",
                pointer.end_sequence_number,
                records.last().map_or("", |r| r.sequence_number.as_str())
            ));
        }
        Ok(records)
    }

    /// Invokes the function over `records` in order, in batches. Returns
    /// how many records succeeded, the invocations made, and why it stopped
    /// short (if it did).
    async fn deliver(
        &self,
        pointer: &Pointer,
        records: &[StreamRecord],
    ) -> (usize, u64, Option<String>) {
        let account = pointer.stream_arn.split(':').nth(4).unwrap_or_default();
        let source = EventSource {
            stream_arn: pointer.stream_arn.clone(),
            region: self.region.clone(),
            role_arn: format!(
                "arn:aws:iam::{account}:role/{}-role",
                self.config.function_name
            ),
        };
        let mut delivered = 0;
        let mut invocations = 0;
        let mut attempt = 0;
        let mut backoff = FIRST_BACKOFF;
        while delivered < records.len() {
            let end = (delivered + self.config.batch_size.max(1)).min(records.len());
            let batch = &records[delivered..end];
            invocations += 1;
            let failed_from = match self.function.invoke(source.event(batch)).await {
                Ok(response) => first_failure(&response, batch),
                Err(error) => {
                    tracing::warn!(%error, shard = %pointer.shard_id, "redrive invocation failed");
                    Some(0)
                }
            };
            match failed_from {
                None => {
                    delivered = end;
                    attempt = 0;
                    backoff = FIRST_BACKOFF;
                }
                Some(from) => {
                    delivered += from;
                    attempt = if from > 0 { 1 } else { attempt + 1 };
                    if attempt >= self.config.attempts {
                        let reason = format!(
                            "record {} still failed after {} invocations",
                            records[delivered].sequence_number, self.config.attempts
                        );
                        return (delivered, invocations, Some(reason));
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        (delivered, invocations, None)
    }

    /// Replaces a partly delivered pointer with one naming only the rest.
    async fn narrow(&self, pointer: &Pointer, rest: &[StreamRecord]) -> Result<(), String> {
        let Some(first) = rest.first() else {
            return self.delete(&pointer.receipt_handle).await;
        };
        if first.sequence_number != pointer.start_sequence_number {
            self.sqs
                .send_message()
                .queue_url(&self.config.queue_url)
                .message_body(
                    pointer
                        .narrowed(&first.sequence_number, rest.len())
                        .to_string(),
                )
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "sqs:SendMessage: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(e)
                    )
                })?;
            return self.delete(&pointer.receipt_handle).await;
        }
        self.release(&pointer.receipt_handle).await;
        Ok(())
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

/// Orders sequence numbers: numerically when both are decimal (AWS's and
/// the emulators' are), else as strings.
pub fn compare_sequence_numbers(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let a = a.trim_start_matches('0');
        let b = b.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers() {
        assert_eq!(compare_sequence_numbers("9", "10"), Ordering::Less);
        assert_eq!(
            compare_sequence_numbers(
                "49590338271490256608559692538361571095921575989136588898",
                "49590338271490256608559692540925702759324208523137515618"
            ),
            Ordering::Less
        );
        assert_eq!(compare_sequence_numbers("007", "7"), Ordering::Equal);
        assert_eq!(compare_sequence_numbers("b", "a"), Ordering::Greater);
    }

    #[test]
    fn reads_the_invocation_record_aws_sends() {
        let body = r#"{
            "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f",
                               "condition": "RecordAgeExceeded", "approximateInvokeCount": 3},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0", "timestamp": "2026-11-27T10:00:00.000Z",
            "KinesisBatchInfo": {"shardId": "shardId-000000000001", "startSequenceNumber": "11",
                                 "endSequenceNumber": "19", "approximateArrivalOfFirstRecord": "2026-11-27T09:00:00.000Z",
                                 "approximateArrivalOfLastRecord": "2026-11-27T09:00:01.000Z", "batchSize": 9,
                                 "streamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/model-one-stream"}
        }"#;
        let pointer = Pointer::parse(body).unwrap();
        assert_eq!(pointer.stream_name(), "model-one-stream");
        assert_eq!(
            (
                pointer.shard_id.as_str(),
                pointer.start_sequence_number.as_str(),
                pointer.end_sequence_number.as_str(),
                pointer.batch_size,
                pointer.condition.as_str()
            ),
            ("shardId-000000000001", "11", "19", 9, "RecordAgeExceeded")
        );
        let narrowed = pointer.narrowed("15", 5);
        assert_eq!(narrowed["KinesisBatchInfo"]["startSequenceNumber"], "15");
        assert_eq!(narrowed["KinesisBatchInfo"]["batchSize"], 5);
        assert_eq!(narrowed["requestContext"]["condition"], "RecordAgeExceeded");

        assert!(Pointer::parse(r#"{"reason": "not_json", "shard_id": "s"}"#).is_none());
        assert!(Pointer::parse("not json").is_none());
    }
}
