//! Reading a stream: its shards, an iterator at a position, pages of
//! records. The mapping and `redrive` read through this one reader; what a
//! failure means (an expired iterator, a throttle, a position the stream no
//! longer holds) is told apart here, once.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;

use super::MappingError;
use crate::records::{now_seconds, StreamRecord};
use crate::sequence;
use crate::shards::Shard;
use crate::state::Position;

/// One GetRecords answer.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<StreamRecord>,
    /// `None`: the shard is closed and this was its last page.
    pub next_iterator: Option<String>,
    /// More records wait (`MillisBehindLatest` above 0).
    pub behind: bool,
}

/// Why a read gave no page.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the shard iterator expired")]
    Expired,
    #[error("GetRecords was throttled")]
    Throttled,
    /// The position or shard is not in the stream (trimmed, or unknown),
    /// with Kinesis's message.
    #[error("the stream does not hold that position or shard: {0}")]
    Gone(String),
    #[error(transparent)]
    Kinesis(#[from] MappingError),
}

/// A stream, by name, through one Kinesis client (in the stream's region).
#[derive(Clone)]
pub struct StreamReader {
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
}

/// Records that do not come from a stream (a file), served as shards that
/// end after their last record.
#[derive(Clone)]
pub struct RecordSource {
    shards: Arc<BTreeMap<String, Vec<StreamRecord>>>,
}

/// Where a mapping reads.
#[derive(Clone)]
pub enum Source {
    Stream(StreamReader),
    Records(RecordSource),
}

impl StreamReader {
    pub fn new(kinesis: aws_sdk_kinesis::Client, stream_name: &str) -> Self {
        Self {
            kinesis,
            stream: stream_name.to_owned(),
        }
    }

    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    /// Every shard, with its parents.
    ///
    /// # Errors
    /// [`MappingError::Kinesis`].
    pub async fn shards(&self) -> Result<Vec<Shard>, MappingError> {
        let mut shards = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let request = match &next_token {
                Some(token) => self.kinesis.list_shards().next_token(token),
                None => self.kinesis.list_shards().stream_name(&self.stream),
            };
            let page = request
                .send()
                .await
                .map_err(|e| MappingError::kinesis("kinesis:ListShards", e))?;
            for s in page.shards() {
                shards.push(Shard::new(
                    s.shard_id(),
                    s.parent_shard_id(),
                    s.adjacent_parent_shard_id(),
                ));
            }
            next_token = page.next_token().map(str::to_owned);
            if next_token.is_none() {
                return Ok(shards);
            }
        }
    }

    /// An iterator on `shard` at `position`.
    ///
    /// # Errors
    /// [`ReadError::Gone`] for a trimmed position or an unknown shard,
    /// [`ReadError::Throttled`], else [`ReadError::Kinesis`].
    pub async fn iterator(&self, shard: &str, position: &Position) -> Result<String, ReadError> {
        let request = self
            .kinesis
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard);
        let request = match position {
            Position::TrimHorizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Position::Latest => request.shard_iterator_type(ShardIteratorType::Latest),
            Position::AtTimestamp(at) => request
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_secs_f64(*at)),
            Position::AfterSequenceNumber(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
            Position::AtSequenceNumber(sequence) => request
                .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
                .starting_sequence_number(sequence),
        };
        match request.send().await {
            Ok(output) => output
                .shard_iterator
                .ok_or_else(|| ReadError::Gone("GetShardIterator returned no iterator".into())),
            Err(e) => {
                let service = e.as_service_error();
                if service.is_some_and(|s| {
                    s.is_invalid_argument_exception() || s.is_resource_not_found_exception()
                }) {
                    return Err(ReadError::Gone(
                        aws_sdk_kinesis::error::DisplayErrorContext(&e).to_string(),
                    ));
                }
                if service.is_some_and(|s| s.is_provisioned_throughput_exceeded_exception()) {
                    return Err(ReadError::Throttled);
                }
                Err(MappingError::kinesis("kinesis:GetShardIterator", e).into())
            }
        }
    }

    /// One page of up to `limit` records from `iterator`.
    ///
    /// # Errors
    /// [`ReadError::Expired`], [`ReadError::Throttled`], else [`ReadError::Kinesis`].
    pub async fn page(&self, shard: &str, iterator: &str, limit: usize) -> Result<Page, ReadError> {
        let page = self
            .kinesis
            .get_records()
            .shard_iterator(iterator)
            .limit(limit.clamp(1, 10_000) as i32)
            .send()
            .await;
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let service = e.as_service_error();
                if service.is_some_and(|s| s.is_expired_iterator_exception()) {
                    return Err(ReadError::Expired);
                }
                if service.is_some_and(|s| s.is_provisioned_throughput_exceeded_exception()) {
                    return Err(ReadError::Throttled);
                }
                return Err(MappingError::kinesis("kinesis:GetRecords", e).into());
            }
        };
        Ok(Page {
            records: page
                .records()
                .iter()
                .map(|r| from_kinesis(shard, r))
                .collect(),
            next_iterator: page.next_shard_iterator().map(str::to_owned),
            behind: page.millis_behind_latest().is_some_and(|m| m != 0),
        })
    }
}

impl RecordSource {
    /// `records` grouped by shard, in their order.
    pub fn new(records: Vec<StreamRecord>) -> Self {
        let mut shards: BTreeMap<String, Vec<StreamRecord>> = BTreeMap::new();
        for record in records {
            shards
                .entry(record.shard_id.clone())
                .or_default()
                .push(record);
        }
        Self {
            shards: Arc::new(shards),
        }
    }

    pub fn shards(&self) -> Vec<Shard> {
        self.shards
            .keys()
            .map(|id| Shard::new(id, None, None))
            .collect()
    }

    /// An "iterator" is the index of the next record.
    pub fn iterator(&self, shard: &str, position: &Position) -> String {
        let records = self.shards.get(shard).map_or(&[][..], Vec::as_slice);
        let index = match position {
            Position::TrimHorizon => 0,
            Position::Latest => records.len(),
            Position::AtTimestamp(at) => records
                .iter()
                .position(|r| r.arrival >= *at)
                .unwrap_or(records.len()),
            Position::AfterSequenceNumber(s) => records
                .iter()
                .position(|r| sequence::compare(&r.sequence_number, s).is_gt())
                .unwrap_or(records.len()),
            Position::AtSequenceNumber(s) => records
                .iter()
                .position(|r| sequence::compare(&r.sequence_number, s).is_ge())
                .unwrap_or(records.len()),
        };
        index.to_string()
    }

    pub fn page(&self, shard: &str, iterator: &str, limit: usize) -> Page {
        let records = self.shards.get(shard).map_or(&[][..], Vec::as_slice);
        let start = iterator
            .parse::<usize>()
            .unwrap_or(records.len())
            .min(records.len());
        let end = (start + limit.max(1)).min(records.len());
        Page {
            records: records[start..end].to_vec(),
            next_iterator: (end < records.len()).then(|| end.to_string()),
            behind: end < records.len(),
        }
    }
}

impl Source {
    /// # Errors
    /// As [`StreamReader::shards`].
    pub async fn shards(&self) -> Result<Vec<Shard>, MappingError> {
        match self {
            Source::Stream(reader) => reader.shards().await,
            Source::Records(records) => Ok(records.shards()),
        }
    }

    /// Reads one page, from a new iterator at `from` or from `iterator`.
    ///
    /// # Errors
    /// As [`StreamReader::iterator`] and [`StreamReader::page`].
    pub async fn read(
        &self,
        shard: &str,
        from: Option<&Position>,
        iterator: Option<String>,
        limit: usize,
    ) -> Result<Page, ReadError> {
        match self {
            Source::Stream(reader) => {
                let iterator = match (from, iterator) {
                    (Some(position), _) => reader.iterator(shard, position).await?,
                    (None, Some(iterator)) => iterator,
                    (None, None) => return Err(ReadError::Expired),
                };
                reader.page(shard, &iterator, limit).await
            }
            Source::Records(records) => {
                let iterator = match (from, iterator) {
                    (Some(position), _) => records.iterator(shard, position),
                    (None, Some(iterator)) => iterator,
                    (None, None) => return Err(ReadError::Expired),
                };
                Ok(records.page(shard, &iterator, limit))
            }
        }
    }
}

pub(crate) fn from_kinesis(
    shard_id: &str,
    record: &aws_sdk_kinesis::types::Record,
) -> StreamRecord {
    StreamRecord {
        shard_id: shard_id.to_owned(),
        sequence_number: record.sequence_number().to_owned(),
        partition_key: record.partition_key().unwrap_or_default().to_owned(),
        data: record.data().as_ref().to_vec(),
        arrival: record
            .approximate_arrival_timestamp()
            .map_or_else(now_seconds, |t| t.as_secs_f64()),
    }
}
