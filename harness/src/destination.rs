//! The on-failure destination: what Lambda sends to SQS when it gives up on
//! a Kinesis batch (a pointer to the records, not the records themselves).

use serde_json::{json, Value};

use crate::records::{rfc3339, StreamRecord};

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

/// The invocation record AWS documents for a Kinesis on-failure destination.
pub fn invocation_record(
    function_arn: &str,
    stream_arn: &str,
    condition: Condition,
    invoke_count: u32,
    function_error: Option<&str>,
    records: &[StreamRecord],
) -> Value {
    let first = records.first().expect("a failed batch has records");
    let last = records.last().expect("a failed batch has records");
    let mut response = json!({ "statusCode": 200, "executedVersion": "$LATEST" });
    if let Some(error) = function_error {
        response["functionError"] = error.into();
    }
    json!({
        "requestContext": {
            "requestId": uuid::Uuid::new_v4().to_string(),
            "functionArn": function_arn,
            "condition": condition.as_str(),
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": rfc3339(crate::records::now_seconds()),
        "KinesisBatchInfo": {
            "shardId": first.shard_id,
            "startSequenceNumber": first.sequence_number,
            "endSequenceNumber": last.sequence_number,
            "approximateArrivalOfFirstRecord": rfc3339(first.arrival),
            "approximateArrivalOfLastRecord": rfc3339(last.arrival),
            "batchSize": records.len(),
            "streamArn": stream_arn,
        },
    })
}
