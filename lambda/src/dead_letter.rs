//! Poison records go to an SQS dead-letter queue with everything needed to
//! find, understand and replay them.

use aws_sdk_sqs::error::DisplayErrorContext;
use serde::{Deserialize, Serialize};

use base64::Engine;

use crate::event::InputRecord;

/// SQS's limit on a message.
#[cfg(test)]
const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Room left for the other fields when a record's data is copied in.
const MAX_DATA_CHARS: usize = 200 * 1024;

/// One dead-letter message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Machine-readable: `bad_base64`, `bad_aggregate` (a KPL aggregate that
    /// cannot be read, dead-lettered whole), `too_large`, `not_json`,
    /// `schema`, `invalid_field`, `unknown_location`, or `bad_table_item` (the
    /// record is fine; the table's item for its location is not a location
    /// document).
    pub reason: String,
    /// Human-readable detail (never the record's content).
    pub detail: String,
    pub shard_id: String,
    pub sequence_number: String,
    /// The user record's place in its KPL aggregate; absent for a plain record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<u64>,
    /// The user record's partition key (inside an aggregate, its own).
    pub partition_key: String,
    /// The explicit hash key its producer gave it inside an aggregate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<String>,
    pub approximate_arrival_timestamp: Option<f64>,
    pub event_id: String,
    pub event_source_arn: String,
    /// The user record's data in base64 (a plain record's as delivered; a
    /// whole unreadable aggregate's too), cut at 200 KiB so the message
    /// fits SQS; `data_truncated` says so and the coordinates above find the
    /// whole record in the stream while it is retained.
    pub data: String,
    pub data_truncated: bool,
}

impl DeadLetter {
    /// The message body: JSON that SQS accepts whatever the record held.
    /// SQS refuses U+FFFE and U+FFFF, which JSON may carry escaped; a
    /// partition key holding one would otherwise be refused on every retry.
    pub fn body(&self) -> String {
        let json = serde_json::to_string(self).expect("a DeadLetter always serializes");
        if json.contains(['\u{fffe}', '\u{ffff}']) {
            json.replace('\u{fffe}', "\\ufffe")
                .replace('\u{ffff}', "\\uffff")
        } else {
            json
        }
    }

    /// The letter for a user record of `record`: `packed` when it came out of
    /// an aggregate, `None` for a plain record or for a whole record whose
    /// data could not be unpacked into user records.
    pub fn new(
        record: &InputRecord,
        packed: Option<&kpl_aggregation::UserRecord>,
        reason: &str,
        detail: String,
    ) -> Self {
        let encoded;
        let data = match packed {
            Some(user) => {
                encoded = base64::engine::general_purpose::STANDARD.encode(&user.data);
                &encoded
            }
            None => &record.kinesis.data,
        };
        let cut = floor_char_boundary(data, MAX_DATA_CHARS);
        Self {
            reason: reason.to_owned(),
            detail,
            shard_id: record.shard_id().to_owned(),
            sequence_number: record.kinesis.sequence_number.clone(),
            subsequence_number: packed.map(|u| u.subsequence_number),
            partition_key: packed.map_or_else(
                || record.kinesis.partition_key.clone(),
                |u| u.partition_key.clone(),
            ),
            explicit_hash_key: packed.and_then(|u| u.explicit_hash_key.clone()),
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

    /// Sends `letters` one at a time, in order, and stops at the first one
    /// SQS refuses. Returns how many were accepted: always a prefix, so no
    /// letter after a refused one is ever in the queue (its record, retried
    /// from the refusal on, is then dead-lettered exactly once).
    ///
    /// One call per letter rather than SendMessageBatch: a batch can accept a
    /// later entry while refusing an earlier one, and that later record would
    /// be dead-lettered again on the retry. Poison is rare; each letter costs
    /// one round trip (the SDK retries transient errors itself).
    pub async fn send_in_order(&self, letters: &[&DeadLetter]) -> usize {
        for (sent, letter) in letters.iter().enumerate() {
            let result = self
                .client
                .send_message()
                .queue_url(&self.queue_url)
                .message_body(letter.body())
                .send()
                .await;
            if let Err(error) = result {
                tracing::warn!(
                    shard_id = %letter.shard_id,
                    sequence_number = %letter.sequence_number,
                    error = %DisplayErrorContext(error),
                    "dead-letter send failed: the record and the rest of its shard are retried"
                );
                return sent;
            }
        }
        letters.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_data_is_cut_on_a_char_boundary() {
        let mut record = InputRecord::default();
        record.kinesis.data = "é".repeat(MAX_DATA_CHARS);
        let letter = DeadLetter::new(&record, None, "too_large", "big".into());
        assert!(letter.data_truncated);
        assert!(letter.data.len() <= MAX_DATA_CHARS);
        assert!(letter.body().len() < MAX_MESSAGE_BYTES);

        record.kinesis.data = "abc".into();
        let letter = DeadLetter::new(&record, None, "not_json", String::new());
        assert_eq!(
            (letter.data.as_str(), letter.data_truncated),
            ("abc", false)
        );
    }

    #[test]
    fn characters_sqs_refuses_are_escaped() {
        let mut record = InputRecord::default();
        record.kinesis.partition_key = "key\u{ffff}with\u{fffe}".into();
        let letter = DeadLetter::new(&record, None, "not_json", String::new());
        let body = letter.body();
        assert!(!body.contains(['\u{fffe}', '\u{ffff}']), "{body}");
        let back: DeadLetter = serde_json::from_str(&body).unwrap();
        assert_eq!(back, letter);
    }
}
