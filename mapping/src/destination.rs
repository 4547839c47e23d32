//! The on-failure destination: where the mapping records a batch it gives
//! up on. AWS sends an invocation record (a pointer to the records, not the
//! records) to an SQS queue or an SNS topic, or writes it, with the whole
//! event as an escaped JSON `payload`, to an S3 object under
//! `aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`.
//! This module is the format; [`crate::shell::sender`] delivers it.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::records::{rfc3339, StreamRecord};
use crate::settings::SettingsError;

/// Why the mapping gave up on the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// Where invocation records go, from the destination's ARN (or, for SQS,
/// its URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A queue URL.
    Sqs(String),
    /// A topic ARN.
    Sns(String),
    /// A bucket name.
    S3(String),
}

impl Destination {
    /// Reads `arn:aws:sqs:…`, an SQS queue URL, `arn:aws:sns:…` or
    /// `arn:aws:s3:::<bucket>`.
    ///
    /// # Errors
    /// [`SettingsError`] for anything else.
    pub fn parse(destination: &str) -> Result<Self, SettingsError> {
        if destination.starts_with("http://") || destination.starts_with("https://") {
            return Ok(Self::Sqs(destination.to_owned()));
        }
        let parts: Vec<&str> = destination.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", _, "sqs", _, _, name] if !name.is_empty() => {
                Ok(Self::Sqs(destination.to_owned()))
            }
            ["arn", _, "sns", _, _, name] if !name.is_empty() => {
                Ok(Self::Sns(destination.to_owned()))
            }
            ["arn", _, "s3", "", "", bucket] if !bucket.is_empty() => {
                Ok(Self::S3((*bucket).to_owned()))
            }
            _ => Err(SettingsError::new(format!(
                "{destination:?} is not an on-failure destination: an SQS queue (ARN or URL), an SNS topic ARN or an S3 bucket ARN (arn:aws:s3:::<bucket>)"
            ))),
        }
    }
}

/// `aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`.
pub fn s3_key(mapping_uuid: &str, shard_id: &str, at: DateTime<Utc>) -> String {
    format!(
        "aws/lambda/{mapping_uuid}/{shard_id}/{}-{}",
        at.format("%Y/%m/%d/%Y-%m-%dT%H.%M.%S"),
        uuid::Uuid::new_v4()
    )
}

/// The invocation record AWS documents for a Kinesis on-failure
/// destination, written at `now` (seconds since the epoch). Records given
/// up for their age were not invoked last, so that record has no
/// `responseContext` (as AWS sends it).
pub fn invocation_record(
    now: f64,
    function_arn: &str,
    stream_arn: &str,
    condition: Condition,
    invoke_count: u32,
    function_error: Option<&str>,
    records: &[StreamRecord],
) -> Value {
    let first = records.first().expect("a failed batch has records");
    let last = records.last().expect("a failed batch has records");
    let mut record = json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": invoke_count,
        },
        "version": "1.0",
        "timestamp": rfc3339(now),
        "KinesisBatchInfo": {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": rfc3339(first.arrival),
            "approximateArrivalOfLastRecord": rfc3339(last.arrival),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        },
    });
    if condition == Condition::RetryAttemptsExhausted {
        record["responseContext"] = json!({
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": function_error,
        });
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_by_service() {
        assert_eq!(
            Destination::parse("arn:aws:sqs:us-east-1:123456789012:q"),
            Ok(Destination::Sqs(
                "arn:aws:sqs:us-east-1:123456789012:q".into()
            ))
        );
        assert_eq!(
            Destination::parse("http://127.0.0.1:5000/123456789012/q"),
            Ok(Destination::Sqs(
                "http://127.0.0.1:5000/123456789012/q".into()
            ))
        );
        assert_eq!(
            Destination::parse("arn:aws:sns:us-east-1:123456789012:t"),
            Ok(Destination::Sns(
                "arn:aws:sns:us-east-1:123456789012:t".into()
            ))
        );
        assert_eq!(
            Destination::parse("arn:aws:s3:::failures"),
            Ok(Destination::S3("failures".into()))
        );
        assert!(Destination::parse("arn:aws:dynamodb:us-east-1:1:table/t").is_err());
        assert!(Destination::parse("queue").is_err());
    }

    #[test]
    fn the_s3_key_follows_aws_pattern() {
        let at = DateTime::parse_from_rfc3339("2026-11-27T09:05:07Z")
            .unwrap()
            .with_timezone(&Utc);
        let key = s3_key("uuid-1", "shardId-000000000003", at);
        assert!(
            key.starts_with(
                "aws/lambda/uuid-1/shardId-000000000003/2026/11/27/2026-11-27T09.05.07-"
            ),
            "{key}"
        );
        let suffix = key.rsplit_once("09.05.07-").unwrap().1;
        assert!(uuid::Uuid::parse_str(suffix).is_ok(), "{key}");
    }

    #[test]
    fn record_age_failures_have_no_response_context() {
        let records = [StreamRecord {
            shard_id: "s".into(),
            sequence_number: "7".into(),
            partition_key: "k".into(),
            data: Vec::new(),
            arrival: 0.0,
        }];
        let aged = invocation_record(
            0.0,
            "f",
            "s",
            Condition::RecordAgeExceeded,
            1,
            None,
            &records,
        );
        assert!(aged.get("responseContext").is_none());
        let exhausted = invocation_record(
            0.0,
            "f",
            "s",
            Condition::RetryAttemptsExhausted,
            3,
            Some("Unhandled"),
            &records,
        );
        assert_eq!(exhausted["responseContext"]["functionError"], "Unhandled");
        let partial = invocation_record(
            0.0,
            "f",
            "s",
            Condition::RetryAttemptsExhausted,
            3,
            None,
            &records,
        );
        assert!(partial["responseContext"]["functionError"].is_null());
        assert_eq!(partial["KinesisBatchInfo"]["batchSize"], 1);
    }
}
