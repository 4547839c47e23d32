//! The stream record and its enriched form.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::{LocationRecord, RecordError};

/// Largest accepted record payload. Real records are ~120 bytes; anything near
/// Kinesis' 1 MiB limit is a producer bug, not data to enrich.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// Longest accepted `id` or `read_location`, in bytes. Keys are used as
/// Momento cache keys and DynamoDB partition keys, so keep them short.
pub const MAX_KEY_BYTES: usize = 255;

/// One record on the stream, as the article's publisher writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelOne {
    /// Unique id; also the Kinesis partition key.
    pub id: String,
    /// Which location document enriches this record (`Car`, `House`, `Diner`).
    pub read_location: String,
    /// When the producer created the record; the consumer measures end-to-end
    /// latency from it. Written with millisecond precision.
    #[serde(serialize_with = "rfc3339_millis")]
    pub created_at: DateTime<Utc>,
}

impl ModelOne {
    /// A new record with a random id, created now.
    pub fn new(read_location: impl Into<String>) -> Self {
        Self::with_id(uuid::Uuid::new_v4().to_string(), read_location, Utc::now())
    }

    /// A record with the given fields (timestamps are truncated to milliseconds,
    /// as they would be after a JSON round trip).
    pub fn with_id(
        id: impl Into<String>,
        read_location: impl Into<String>,
        created_at: DateTime<Utc>,
    ) -> Self {
        let millis = created_at.timestamp_millis();
        Self {
            id: id.into(),
            read_location: read_location.into(),
            created_at: DateTime::from_timestamp_millis(millis).unwrap_or(created_at),
        }
    }

    /// Decodes and validates a record from its raw JSON bytes.
    ///
    /// # Errors
    /// [`RecordError`] saying whether the payload was too large, not JSON, of the
    /// wrong shape, or had an unacceptable value.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(RecordError::TooLarge {
                len: bytes.len(),
                max: MAX_RECORD_BYTES,
            });
        }
        let record: ModelOne = serde_json::from_slice(bytes).map_err(RecordError::from_json)?;
        record.validate()?;
        Ok(record)
    }

    /// Serializes the record as the JSON the stream carries.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("ModelOne always serializes")
    }

    /// Checks the values serde cannot: non-empty, bounded, printable keys.
    ///
    /// # Errors
    /// [`RecordError::InvalidField`] naming the first bad field.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_key("id", &self.id)?;
        check_key("read_location", &self.read_location)
    }

    /// Joins the record with its location document.
    pub fn enrich(self, location: LocationRecord) -> EnrichedModelOne {
        EnrichedModelOne {
            record: self,
            location,
        }
    }
}

/// A record after the consumer has resolved its location: the article's "ModelOne AFTER".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichedModelOne {
    #[serde(flatten)]
    pub record: ModelOne,
    pub location: LocationRecord,
}

fn check_key(field: &'static str, value: &str) -> Result<(), RecordError> {
    let reason = if value.is_empty() {
        "must not be empty"
    } else if value.len() > MAX_KEY_BYTES {
        "must be at most 255 bytes"
    } else if value.chars().any(char::is_control) {
        "must not contain control characters"
    } else {
        return Ok(());
    };
    Err(RecordError::InvalidField { field, reason })
}

fn rfc3339_millis<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_millisecond_timestamp() {
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let record = ModelOne::with_id("id-1", "Car", at);
        let json = String::from_utf8(record.to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"id":"id-1","read_location":"Car","created_at":"2026-11-26T10:00:00.123Z"}"#
        );
        assert_eq!(ModelOne::decode(json.as_bytes()).unwrap(), record);
    }

    #[test]
    fn new_records_have_unique_ids() {
        assert_ne!(ModelOne::new("Car").id, ModelOne::new("Car").id);
    }

    #[test]
    fn classifies_bad_payloads() {
        let cases: &[(&[u8], &str)] = &[
            (b"not json", "not_json"),
            (b"{\"id\":\"a\"", "not_json"),
            (b"\xff\xfe", "not_json"),
            (b"{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\"}", "schema"),
            (b"{\"id\":1,\"read_location\":\"Car\",\"created_at\":\"2026-01-01T00:00:00Z\"}", "schema"),
            (b"{\"id\":\"a\",\"read_location\":\"Car\",\"created_at\":\"yesterday\"}", "schema"),
            (b"[1,2]", "schema"),
            (b"{\"id\":\"\",\"read_location\":\"Car\",\"created_at\":\"2026-01-01T00:00:00Z\"}", "invalid_field"),
            (b"{\"id\":\"a\",\"read_location\":\"C\\nar\",\"created_at\":\"2026-01-01T00:00:00Z\"}", "invalid_field"),
        ];
        for (payload, kind) in cases {
            let err = ModelOne::decode(payload).unwrap_err();
            assert_eq!(
                err.kind(),
                *kind,
                "{:?} gave {err}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn names_the_invalid_field() {
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        let json =
            format!(r#"{{"id":"a","read_location":"{long}","created_at":"2026-01-01T00:00:00Z"}}"#);
        let err = ModelOne::decode(json.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field `read_location` is invalid: must be at most 255 bytes"
        );
    }

    #[test]
    fn rejects_oversize_payload_before_parsing() {
        let payload = vec![b' '; MAX_RECORD_BYTES + 1];
        assert!(matches!(
            ModelOne::decode(&payload),
            Err(RecordError::TooLarge { len, .. }) if len == MAX_RECORD_BYTES + 1
        ));
    }

    #[test]
    fn enriched_output_flattens_the_record() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let enriched = ModelOne::with_id("id-1", "Car", at).enrich(LocationRecord {
            location: "Car".into(),
            description: "Car description".into(),
            notes: "Car notes".into(),
        });
        let value: serde_json::Value = serde_json::to_value(&enriched).unwrap();
        assert_eq!(value["id"], "id-1");
        assert_eq!(value["location"]["notes"], "Car notes");
        let back: EnrichedModelOne = serde_json::from_value(value).unwrap();
        assert_eq!(back, enriched);
    }
}
