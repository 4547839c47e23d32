//! Stream records and the Lambda event payloads built from them, with every
//! field AWS sets.

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// One record read from a shard (or from a file).
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRecord {
    pub shard_id: String,
    /// A decimal string (up to 56 digits on AWS): order them with
    /// [`crate::sequence::compare`], never as fixed-width integers.
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
    /// `approximateArrivalTimestamp`, seconds since the epoch.
    pub arrival: f64,
}

impl StreamRecord {
    /// Seconds between the record's arrival and `now`.
    pub fn age(&self, now: f64) -> f64 {
        now - self.arrival
    }
}

pub fn now_seconds() -> f64 {
    Utc::now().timestamp_micros() as f64 / 1e6
}

pub fn rfc3339(seconds: f64) -> String {
    DateTime::from_timestamp_micros((seconds * 1e6) as i64)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Where the events say they come from.
#[derive(Debug, Clone)]
pub struct EventSource {
    pub stream_arn: String,
    pub region: String,
    /// The function's execution role, as `invokeIdentityArn`.
    pub role_arn: String,
}

impl EventSource {
    /// The Kinesis event for `records`, as Lambda delivers it.
    pub fn event(&self, records: &[StreamRecord]) -> Value {
        let records: Vec<Value> = records.iter().map(|r| self.record(r)).collect();
        json!({ "Records": records })
    }

    /// The bytes `record` adds to an event's JSON (with the comma before it).
    pub fn record_bytes(&self, record: &StreamRecord) -> usize {
        self.record(record).to_string().len() + 1
    }

    fn record(&self, r: &StreamRecord) -> Value {
        json!({
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": r.partition_key,
                "sequenceNumber": r.sequence_number,
                "data": base64::engine::general_purpose::STANDARD.encode(&r.data),
                "approximateArrivalTimestamp": r.arrival,
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": format!("{}:{}", r.shard_id, r.sequence_number),
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self.role_arn,
            "awsRegion": self.region,
            "eventSourceARN": self.stream_arn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_the_consumer_and_aws_lambda_events_read_them() {
        let source = EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/s".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
        };
        let record = StreamRecord {
            shard_id: "shardId-000000000001".into(),
            sequence_number: "42".into(),
            partition_key: "pk".into(),
            data: b"hello".to_vec(),
            arrival: 1_795_687_200.25,
        };
        let event = source.event(&[record]);
        fn record_for_size() -> StreamRecord {
            StreamRecord {
                shard_id: "shardId-000000000001".into(),
                sequence_number: "49590338271490256608559692538361571095921575989136588898".into(),
                partition_key: "a key with \"quotes\"".into(),
                data: Vec::new(),
                arrival: 1_795_687_200.25,
            }
        }
        let first = &event["Records"][0];
        assert_eq!(first["eventID"], "shardId-000000000001:42");
        assert_eq!(
            first["kinesis"]["approximateArrivalTimestamp"],
            1_795_687_200.25
        );
        assert_eq!(
            first["invokeIdentityArn"],
            "arn:aws:iam::123456789012:role/r"
        );
        assert_eq!(
            source.record_bytes(&StreamRecord {
                data: vec![0; 300],
                ..record_for_size()
            }),
            source
                .event(&[StreamRecord {
                    data: vec![0; 300],
                    ..record_for_size()
                }])
                .to_string()
                .len()
                - r#"{"Records":[]}"#.len()
                + 1,
            "a record's share of the event, comma included"
        );
        assert_eq!(event["Records"][0]["kinesis"]["data"], "aGVsbG8=");
        assert_eq!(rfc3339(1_795_687_200.25), "2026-11-26T10:00:00.250Z");
    }
}
