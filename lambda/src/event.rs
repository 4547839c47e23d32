//! The Kinesis event as the handler reads it.
//!
//! `aws_lambda_events::KinesisEvent` decodes every record's base64 `data` while
//! deserializing, so one record with bad base64 would fail the whole batch and
//! block its shard. This type has the same JSON shape but keeps `data` as the
//! string it arrived as; the handler decodes each record on its own and sends
//! the undecodable one to the dead-letter queue. Tests build their events with
//! `aws_lambda_events` types to keep the two shapes in step.

use base64::Engine;
use kpl_aggregation::Deaggregated;
use model::ModelOne;
use serde::Deserialize;

/// A Kinesis event-source-mapping payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct KinesisInput {
    #[serde(rename = "Records", default)]
    pub records: Vec<InputRecord>,
}

/// One record of a [`KinesisInput`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InputRecord {
    /// `shardId-000000000000:49545115243490985018280067714973144582180062593244200961`
    #[serde(rename = "eventID", default, deserialize_with = "text")]
    pub event_id: String,
    #[serde(rename = "eventSourceARN", default, deserialize_with = "text")]
    pub event_source_arn: String,
    pub kinesis: InputKinesis,
}

/// The `kinesis` member of an [`InputRecord`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputKinesis {
    #[serde(default, deserialize_with = "text")]
    pub partition_key: String,
    /// Opaque: compared only for equality, never parsed.
    pub sequence_number: String,
    /// Base64, as Kinesis delivers it; decoded per record by the handler.
    #[serde(default, deserialize_with = "text")]
    pub data: String,
    /// Seconds since the epoch, with fractions. AWS sends a number;
    /// `aws_lambda_events` serializes a string: both are read.
    #[serde(default, deserialize_with = "seconds")]
    pub approximate_arrival_timestamp: Option<f64>,
}

/// A string field that may be absent or `null` (read as empty).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(f64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(d)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(n)),
        Some(Seconds::Text(t)) => t.trim().parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// Why a record cannot be decoded: a stable reason (`bad_base64`,
/// `bad_aggregate` or one of the record decoder's kinds) and a readable detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Poison {
    pub reason: &'static str,
    pub detail: String,
}

/// One user record: a plain Kinesis record, or one a producer packed into an
/// aggregate (KPL aggregation), with its own keys and its place in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRecord {
    /// A plain record's data, base64 decoded; its keys are the Kinesis record's.
    Plain(Vec<u8>),
    /// A user record out of an aggregate.
    Packed(kpl_aggregation::UserRecord),
}

impl UserRecord {
    pub fn data(&self) -> &[u8] {
        match self {
            UserRecord::Plain(data) => data,
            UserRecord::Packed(user) => &user.data,
        }
    }

    /// The user record with its keys and subsequence number, if it came out
    /// of an aggregate.
    pub fn packed(&self) -> Option<&kpl_aggregation::UserRecord> {
        match self {
            UserRecord::Plain(_) => None,
            UserRecord::Packed(user) => Some(user),
        }
    }

    /// Its position in its aggregate, from 0; `None` for a plain record.
    pub fn subsequence_number(&self) -> Option<u64> {
        self.packed().map(|user| user.subsequence_number)
    }

    /// The record decoder, with its limits (64 KiB) applied to this user record.
    ///
    /// # Errors
    /// [`Poison`] saying why the record is unusable.
    pub fn decode(&self) -> Result<ModelOne, Poison> {
        ModelOne::decode(self.data()).map_err(|e| Poison {
            reason: e.kind(),
            detail: e.to_string(),
        })
    }
}

/// A Kinesis record unpacked into its user records, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    /// Whether the record was a KPL aggregate (counted apart in the metrics,
    /// even when it holds no user record).
    pub aggregate: bool,
    pub users: Vec<UserRecord>,
}

impl InputRecord {
    /// Base64, then KPL deaggregation: the record's user records, in order.
    /// A plain record is its own one user record; an aggregate of none has
    /// none.
    ///
    /// # Errors
    /// [`Poison`] for the whole record: `bad_base64`, or `bad_aggregate` when
    /// it starts like an aggregate but cannot be read (a checksum that does
    /// not match, a protobuf that does not decode): awslabs' libraries hand
    /// such a record on whole, and so it is dead-lettered whole.
    pub fn unpack(&self) -> Result<Unpacked, Poison> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.kinesis.data.as_bytes())
            .map_err(|e| Poison {
                reason: "bad_base64",
                detail: format!("data is not base64: {e}"),
            })?;
        match kpl_aggregation::deaggregate(&bytes) {
            Deaggregated::Plain => Ok(Unpacked {
                aggregate: false,
                users: vec![UserRecord::Plain(bytes)],
            }),
            Deaggregated::Aggregated(users) => Ok(Unpacked {
                aggregate: true,
                users: users.into_iter().map(UserRecord::Packed).collect(),
            }),
            Deaggregated::Corrupt(why) => Err(Poison {
                reason: "bad_aggregate",
                detail: format!("the record starts like a KPL aggregate but {why}"),
            }),
        }
    }

    /// The shard the record came from: the part of `eventID` before the colon.
    /// Records without an event id share one pseudo-shard, so their relative
    /// order is still kept.
    pub fn shard_id(&self) -> &str {
        match self.event_id.split_once(':') {
            Some((shard, _)) => shard,
            None => "unknown-shard",
        }
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::encodings::SecondTimestamp;
    use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};

    use super::*;

    #[test]
    fn reads_what_aws_lambda_events_writes() {
        let mut record = KinesisEventRecord::default();
        record.event_id = Some("shardId-000000000003:4954".into());
        record.event_source_arn = Some("arn:aws:kinesis:us-east-1:123456789012:stream/s".into());
        record.kinesis.partition_key = "pk-1".into();
        record.kinesis.sequence_number = "4954".into();
        record.kinesis.data.0 = b"{\"hello\":1}".to_vec();
        record.kinesis.approximate_arrival_timestamp =
            SecondTimestamp(chrono::DateTime::from_timestamp_millis(1_700_000_000_250).unwrap());
        let mut event = KinesisEvent::default();
        event.records.push(record);

        let json = serde_json::to_vec(&event).unwrap();
        let input: KinesisInput = serde_json::from_slice(&json).unwrap();
        let got = &input.records[0];
        assert_eq!(got.shard_id(), "shardId-000000000003");
        assert_eq!(got.kinesis.sequence_number, "4954");
        assert_eq!(got.kinesis.partition_key, "pk-1");
        assert_eq!(got.kinesis.data, "eyJoZWxsbyI6MX0=");
        assert_eq!(
            got.kinesis.approximate_arrival_timestamp,
            Some(1_700_000_000.25)
        );

        let aws = r#"{"Records":[{"kinesis":{"sequenceNumber":"1","approximateArrivalTimestamp":1545084650.987}}]}"#;
        let input: KinesisInput = serde_json::from_str(aws).unwrap();
        assert_eq!(
            input.records[0].kinesis.approximate_arrival_timestamp,
            Some(1545084650.987)
        );
    }

    #[test]
    fn keeps_bad_base64_for_the_handler() {
        let json =
            r#"{"Records":[{"eventID":"s:1","kinesis":{"sequenceNumber":"1","data":"***"}}]}"#;
        let input: KinesisInput = serde_json::from_str(json).unwrap();
        assert_eq!(input.records[0].kinesis.data, "***");
        let nulls = r#"{"Records":[{"eventID":null,"eventSourceARN":null,"kinesis":{"sequenceNumber":"1","data":null}}]}"#;
        let input: KinesisInput = serde_json::from_str(nulls).unwrap();
        assert_eq!(input.records[0].shard_id(), "unknown-shard");
        assert!(serde_json::from_str::<KinesisEvent>(json).is_err());
    }
}
