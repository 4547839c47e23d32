//! The letter: one poison user record, with everything needed to find,
//! understand and replay it, fitted to the queue's message size.

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::event::InputRecord;

/// Most characters of a partition key a letter copies: Kinesis's own limit
/// for a record's key. Inside an aggregate nothing limits a user record's.
pub const MAX_KEY_CHARS: usize = 256;
/// Most characters of an explicit hash key a letter copies (a real one is a
/// decimal of at most 39 digits).
pub const MAX_HASH_KEY_CHARS: usize = 64;
/// Most characters of the record's data (base64) a letter copies before it
/// is fitted to the queue: room for the other fields in a 256 KiB message.
pub const MAX_DATA_CHARS: usize = 200 * 1024;

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
    /// `shard/sequence` or `shard/sequence/subsequence`: the same for every
    /// copy of this record's letter, so a reader deduplicates on it (a retry
    /// may send a letter again: see [`super::DeadLetters::send`]).
    #[serde(default)]
    pub letter_id: String,
    pub shard_id: String,
    pub sequence_number: String,
    /// The user record's place in its KPL aggregate; absent for a plain record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subsequence_number: Option<u64>,
    /// The user record's partition key (inside an aggregate, its own), cut
    /// at [`MAX_KEY_CHARS`] characters or less to fit the queue.
    pub partition_key: String,
    /// Set when `partition_key` was cut; `partition_key_bytes` is then the
    /// whole key's length.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partition_key_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key_bytes: Option<usize>,
    /// The explicit hash key its producer gave it inside an aggregate, cut
    /// at [`MAX_HASH_KEY_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explicit_hash_key: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub explicit_hash_key_truncated: bool,
    pub approximate_arrival_timestamp: Option<f64>,
    pub event_id: String,
    pub event_source_arn: String,
    /// The user record's data in base64 (a plain record's as delivered; a
    /// whole unreadable aggregate's too), cut at [`MAX_DATA_CHARS`] or to
    /// what the queue's message size leaves; `data_truncated` says so and
    /// the coordinates above find the whole record in the stream while it is
    /// retained.
    pub data: String,
    pub data_truncated: bool,
}

impl DeadLetter {
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
        let key = packed.map_or(record.kinesis.partition_key.as_str(), |u| &u.partition_key);
        let (partition_key, key_cut) = cut_chars(key, MAX_KEY_CHARS);
        let hash_key = packed
            .and_then(|u| u.explicit_hash_key.as_deref())
            .map(|k| cut_chars(k, MAX_HASH_KEY_CHARS));
        let (data, data_cut) = cut_bytes(data, MAX_DATA_CHARS);
        let shard_id = record.shard_id().to_owned();
        let sequence_number = record.kinesis.sequence_number.clone();
        let subsequence_number = packed.map(|u| u.subsequence_number);
        Self {
            reason: reason.to_owned(),
            detail,
            letter_id: letter_id(&shard_id, &sequence_number, subsequence_number),
            shard_id,
            sequence_number,
            subsequence_number,
            partition_key: partition_key.to_owned(),
            partition_key_truncated: key_cut,
            partition_key_bytes: key_cut.then_some(key.len()),
            explicit_hash_key: hash_key.map(|(k, _)| k.to_owned()),
            explicit_hash_key_truncated: hash_key.is_some_and(|(_, cut)| cut),
            approximate_arrival_timestamp: record.kinesis.approximate_arrival_timestamp,
            event_id: record.event_id.clone(),
            event_source_arn: record.event_source_arn.clone(),
            data: data.to_owned(),
            data_truncated: data_cut,
        }
    }

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

    /// The body in at most `max_bytes` (the queue's maximum message size,
    /// at least 1,024 as SQS allows): what the input filled is cut until it
    /// fits, the data first, then the keys, the detail and the event's own
    /// fields, each with its flag where it has one. Counted in UTF-8 bytes,
    /// which is what SQS counts (never less than characters).
    pub fn body_within(&self, max_bytes: usize) -> String {
        let body = self.body();
        if body.len() <= max_bytes {
            return body;
        }
        let mut letter = self.clone();
        let mut body = body;
        while body.len() > max_bytes && letter.shrink(body.len() - max_bytes) {
            body = letter.body();
        }
        body
    }

    /// Cuts about `over` bytes off the first field that still has some;
    /// `false` when nothing is left to cut.
    fn shrink(&mut self, over: usize) -> bool {
        if !self.data.is_empty() {
            // Base64 is one byte per character in JSON: cut what is over.
            let keep = self.data.len().saturating_sub(over);
            let (kept, _) = cut_bytes(&self.data, keep);
            self.data.truncate(kept.len());
            self.data_truncated = true;
            return true;
        }
        // Keys may be escaped six bytes a character: halve until it fits.
        if !self.partition_key.is_empty() {
            self.partition_key_bytes
                .get_or_insert(self.partition_key.len());
            self.partition_key_truncated = true;
            halve(&mut self.partition_key);
            return true;
        }
        if let Some(key) = self.explicit_hash_key.as_mut().filter(|k| !k.is_empty()) {
            self.explicit_hash_key_truncated = true;
            halve(key);
            return true;
        }
        // Only a hostile invocation payload gets here: AWS bounds these.
        for field in [
            &mut self.detail,
            &mut self.event_source_arn,
            &mut self.event_id,
            &mut self.letter_id,
            &mut self.sequence_number,
            &mut self.shard_id,
        ] {
            if !field.is_empty() {
                halve(field);
                return true;
            }
        }
        false
    }
}

/// The id every copy of a record's letter carries.
pub fn letter_id(shard_id: &str, sequence_number: &str, subsequence: Option<u64>) -> String {
    match subsequence {
        Some(sub) => format!("{shard_id}/{sequence_number}/{sub}"),
        None => format!("{shard_id}/{sequence_number}"),
    }
}

/// `text`'s first `max` characters, and whether that cut anything.
fn cut_chars(text: &str, max: usize) -> (&str, bool) {
    match text.char_indices().nth(max) {
        Some((end, _)) => (&text[..end], true),
        None => (text, false),
    }
}

/// `text` cut to at most `max` bytes on a character boundary, and whether
/// that cut anything.
fn cut_bytes(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let end = (0..=max)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    (&text[..end], true)
}

fn halve(text: &mut String) {
    let chars = text.chars().count();
    let (kept, _) = cut_chars(text, chars / 2);
    text.truncate(kept.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQS's smallest allowed maximum message size.
    const SQS_MIN: usize = 1024;

    fn packed(key: &str, hash_key: Option<&str>, data: &[u8]) -> kpl_aggregation::UserRecord {
        kpl_aggregation::UserRecord {
            partition_key: key.to_owned(),
            explicit_hash_key: hash_key.map(str::to_owned),
            data: data.to_vec(),
            tags: vec![],
            subsequence_number: 7,
        }
    }

    fn record(event_id: String, arn: &str, sequence: String) -> InputRecord {
        let mut record = InputRecord {
            event_id,
            event_source_arn: arn.to_owned(),
            ..InputRecord::default()
        };
        record.kinesis.sequence_number = sequence;
        record
    }

    #[test]
    fn long_data_is_cut_on_a_char_boundary() {
        let mut record = InputRecord::default();
        record.kinesis.data = "é".repeat(MAX_DATA_CHARS);
        let letter = DeadLetter::new(&record, None, "too_large", "big".into());
        assert!(letter.data_truncated);
        assert!(letter.data.len() <= MAX_DATA_CHARS);
        assert!(letter.body().len() < 256 * 1024);

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

    #[test]
    fn a_user_records_keys_are_cut_with_their_flags() {
        let record = record("shardId-000000000001:49".into(), "", "49".into());
        let key = "\u{1}".repeat(200_000);
        let hash_key = "9".repeat(1000);
        let user = packed(&key, Some(&hash_key), b"{broken");
        let letter = DeadLetter::new(&record, Some(&user), "not_json", String::new());
        assert_eq!(letter.partition_key.chars().count(), MAX_KEY_CHARS);
        assert!(letter.partition_key_truncated);
        assert_eq!(letter.partition_key_bytes, Some(200_000));
        assert_eq!(
            letter.explicit_hash_key.as_deref().map(str::len),
            Some(MAX_HASH_KEY_CHARS)
        );
        assert!(letter.explicit_hash_key_truncated);
        assert_eq!(letter.letter_id, "shardId-000000000001/49/7");
        assert!(!letter.data_truncated);

        let short = packed("k", Some("12"), b"x");
        let letter = DeadLetter::new(&record, Some(&short), "not_json", String::new());
        let body = letter.body();
        assert!(!body.contains("truncated\":true"), "{body}");
        assert!(!body.contains("partition_key_bytes"), "{body}");
    }

    #[test]
    fn every_letter_fits_any_queue_sqs_allows() {
        let record = record(
            "shardId-000000000001:49".into(),
            "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            "4".repeat(56),
        );
        let worst = [
            // escaped six bytes a character, in the key and the hash key
            packed(
                &"\u{1}".repeat(200_000),
                Some(&"\u{1}".repeat(5000)),
                &[0xAB; 900_000],
            ),
            packed("k", None, &[0; 900_000]),
            packed(&"é".repeat(300), None, b""),
        ];
        for max in [SQS_MIN, 2048, 64 * 1024, 256 * 1024, 1024 * 1024] {
            for user in &worst {
                let letter = DeadLetter::new(&record, Some(user), "not_json", "d".into());
                let body = letter.body_within(max);
                assert!(body.len() <= max, "{} > {max}", body.len());
                let back: DeadLetter = serde_json::from_str(&body).unwrap();
                assert_eq!(back.letter_id, letter.letter_id, "the identity is kept");
                assert_eq!(back.sequence_number, letter.sequence_number);
                if back.data != letter.data {
                    assert!(back.data_truncated);
                }
                if back.partition_key != letter.partition_key {
                    assert!(back.partition_key_truncated);
                }
            }
        }
        // What fits is left whole.
        let small = DeadLetter::new(
            &record,
            Some(&packed("k", None, b"x")),
            "not_json",
            "".into(),
        );
        assert_eq!(small.body_within(SQS_MIN), small.body());
    }

    #[test]
    fn a_hostile_event_still_fits() {
        let record = record(
            format!("{}:{}", "s".repeat(5000), "1".repeat(5000)),
            &"a".repeat(5000),
            "1".repeat(5000),
        );
        let letter = DeadLetter::new(&record, None, "not_json", "d".repeat(5000));
        assert!(letter.body_within(SQS_MIN).len() <= SQS_MIN);
    }
}
