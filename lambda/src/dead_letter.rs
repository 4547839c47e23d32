//! Poison records go to an SQS dead-letter queue with everything needed to
//! find, understand and replay them.

use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use futures::future::join_all;
use serde::{Deserialize, Serialize};

use crate::event::InputRecord;

/// SQS's limit on a message and on a whole SendMessageBatch.
const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Room left for the other fields when a record's data is copied in.
const MAX_DATA_CHARS: usize = 200 * 1024;
/// SendMessageBatch's limit on entries.
const MAX_ENTRIES: usize = 10;

/// One dead-letter message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Machine-readable: `bad_base64`, `too_large`, `not_json`, `schema`,
    /// `invalid_field` or `unknown_location`.
    pub reason: String,
    /// Human-readable detail (never the record's content).
    pub detail: String,
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub approximate_arrival_timestamp: Option<f64>,
    pub event_id: String,
    pub event_source_arn: String,
    /// The record's data as delivered (base64), cut at 200 KiB so the message
    /// fits SQS; `data_truncated` says so and the coordinates above find the
    /// whole record in the stream while it is retained.
    pub data: String,
    pub data_truncated: bool,
}

impl DeadLetter {
    pub fn new(record: &InputRecord, reason: &str, detail: String) -> Self {
        let data = &record.kinesis.data;
        let cut = floor_char_boundary(data, MAX_DATA_CHARS);
        Self {
            reason: reason.to_owned(),
            detail,
            shard_id: record.shard_id().to_owned(),
            sequence_number: record.kinesis.sequence_number.clone(),
            partition_key: record.kinesis.partition_key.clone(),
            approximate_arrival_timestamp: record.kinesis.approximate_arrival_timestamp,
            event_id: record.event_id.clone(),
            event_source_arn: record.event_source_arn.clone(),
            data: data[..cut].to_owned(),
            data_truncated: cut < data.len(),
        }
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0)
}

/// The dead-letter queue.
#[derive(Clone)]
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl DeadLetters {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Sends every letter (batches of up to 10, concurrently). Returns, per
    /// letter, whether SQS accepted it.
    pub async fn send(&self, letters: &[DeadLetter]) -> Vec<bool> {
        let bodies: Vec<String> = letters
            .iter()
            .map(|l| serde_json::to_string(l).expect("a DeadLetter always serializes"))
            .collect();
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut size = 0;
        for (i, body) in bodies.iter().enumerate() {
            let full = batches.last().is_none_or(|b| b.len() == MAX_ENTRIES)
                || size + body.len() > MAX_BATCH_BYTES;
            if full {
                batches.push(Vec::new());
                size = 0;
            }
            size += body.len();
            batches.last_mut().expect("just pushed").push(i);
        }
        let calls = batches.iter().map(|batch| self.send_batch(batch, &bodies));
        let mut sent = vec![false; letters.len()];
        for accepted in join_all(calls).await {
            for i in accepted {
                sent[i] = true;
            }
        }
        sent
    }

    /// One SendMessageBatch; returns the indexes SQS accepted.
    async fn send_batch(&self, batch: &[usize], bodies: &[String]) -> Vec<usize> {
        let entries = batch.iter().map(|&i| {
            SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(&bodies[i])
                .build()
                .expect("id and body are set")
        });
        match self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries.collect()))
            .send()
            .await
        {
            Ok(output) => {
                for failed in &output.failed {
                    tracing::warn!(code = %failed.code, message = ?failed.message, "dead-letter entry refused");
                }
                output
                    .successful
                    .iter()
                    .filter_map(|ok| ok.id.parse().ok())
                    .collect()
            }
            Err(error) => {
                tracing::warn!(letters = batch.len(), error = %DisplayErrorContext(error), "dead-letter send failed");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_is_cut_on_a_char_boundary() {
        let mut record = InputRecord::default();
        record.kinesis.data = "é".repeat(MAX_DATA_CHARS);
        let letter = DeadLetter::new(&record, "too_large", "big".into());
        assert!(letter.data_truncated);
        assert!(letter.data.len() <= MAX_DATA_CHARS);
        assert!(serde_json::to_string(&letter).unwrap().len() < MAX_BATCH_BYTES);

        record.kinesis.data = "abc".into();
        let letter = DeadLetter::new(&record, "not_json", String::new());
        assert_eq!(
            (letter.data.as_str(), letter.data_truncated),
            ("abc", false)
        );
    }
}
