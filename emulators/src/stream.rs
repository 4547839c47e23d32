//! A stream of a test's own, and reading back what reached a stream, for
//! tests that check delivery.

use aws_sdk_kinesis::types::{Record, ShardIteratorType};

use crate::EmulatorError;

/// A Kinesis client for the emulator at `endpoint` (region `us-east-1`) and
/// a new stream there, `name`, of `shards` shards.
///
/// # Errors
/// If CreateStream fails.
pub async fn create_stream(
    endpoint: &str,
    name: &str,
    shards: i32,
) -> Result<aws_sdk_kinesis::Client, EmulatorError> {
    let kinesis = aws_sdk_kinesis::Client::new(&crate::sdk_config(endpoint, "us-east-1").await);
    kinesis
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .map_err(|e| EmulatorError::aws("kinesis:CreateStream", e))?;
    Ok(kinesis)
}

/// The ARN of stream `name` (what an event-source mapping names).
///
/// # Errors
/// If DescribeStreamSummary fails.
pub async fn stream_arn(
    kinesis: &aws_sdk_kinesis::Client,
    name: &str,
) -> Result<String, EmulatorError> {
    let summary = kinesis
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .map_err(|e| EmulatorError::aws("kinesis:DescribeStreamSummary", e))?;
    Ok(summary
        .stream_description_summary()
        .map(|s| s.stream_arn().to_owned())
        .unwrap_or_default())
}

/// Every record in `stream`, shard by shard from the start, each with its
/// shard id, in stream order within a shard.
///
/// # Errors
/// If a Kinesis call fails.
pub async fn stream_records(
    kinesis: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Result<Vec<(String, Record)>, EmulatorError> {
    let shards = kinesis
        .list_shards()
        .stream_name(stream)
        .send()
        .await
        .map_err(|e| EmulatorError::aws("kinesis:ListShards", e))?;
    let mut records = Vec::new();
    for shard in shards.shards() {
        let mut iterator = kinesis
            .get_shard_iterator()
            .stream_name(stream)
            .shard_id(shard.shard_id())
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await
            .map_err(|e| EmulatorError::aws("kinesis:GetShardIterator", e))?
            .shard_iterator
            .unwrap_or_default();
        loop {
            let page = kinesis
                .get_records()
                .shard_iterator(&iterator)
                .limit(10_000)
                .send()
                .await
                .map_err(|e| EmulatorError::aws("kinesis:GetRecords", e))?;
            let got = page.records().len();
            let next = page.next_shard_iterator().map(str::to_owned);
            records.extend(
                page.records
                    .into_iter()
                    .map(|record| (shard.shard_id().to_owned(), record)),
            );
            match next {
                Some(next) if got > 0 => iterator = next,
                _ => break,
            }
        }
    }
    Ok(records)
}
