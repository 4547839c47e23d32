//! Unpacking: one Kinesis record's data into its user records.

use md5::{Digest, Md5};
use prost::Message;

use crate::proto::{lossy, AggregatedRecord, Tag};
use crate::{DIGEST_BYTES, MAGIC};

/// One user record out of an aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Its partition key; a key that is not UTF-8 is converted lossily (each
    /// invalid sequence becomes U+FFFD), as awslabs' deaggregators hand it on.
    pub partition_key: String,
    /// The explicit hash key the producer gave this user record, if any
    /// (converted likewise).
    pub explicit_hash_key: Option<String>,
    pub data: Vec<u8>,
    /// Its position in the aggregate, from 0: with the Kinesis record's
    /// sequence number, what identifies a user record.
    pub subsequence_number: u64,
    pub tags: Vec<Tag>,
}

/// What a Kinesis record's data turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deaggregated {
    /// No aggregate: the record is one user record as it stands.
    Plain,
    /// An aggregate's user records, in order (possibly none).
    Aggregated(Vec<UserRecord>),
    /// The magic bytes, but the rest cannot be read. awslabs' libraries hand
    /// such a record on as a plain record, and so does this one: the caller
    /// treats the whole data as one record, and here is why it was not unpacked.
    Corrupt(CorruptAggregate),
}

/// Why data that starts with the magic bytes is not a readable aggregate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorruptAggregate {
    #[error("the aggregate's MD5 checksum does not match its contents")]
    Checksum,
    #[error("the aggregate's protobuf does not decode: {0}")]
    Protobuf(String),
    #[error("user record {subsequence} names {kind} key {index}, but the table has {table}")]
    KeyIndex {
        subsequence: u64,
        kind: &'static str,
        index: u64,
        table: usize,
    },
}

/// Unpacks `data` (a Kinesis record's data, base64 already decoded).
///
/// Data that does not start with the magic bytes, or holds no more than
/// them and a checksum, is [`Deaggregated::Plain`], as awslabs' libraries
/// decide. A checksum that does not match or a protobuf that does not decode
/// is [`Deaggregated::Corrupt`]; so is a key index outside its table, which
/// awslabs' Python library stops at, silently dropping the user records
/// after it: here no user record of an unreadable aggregate is delivered
/// without the others.
pub fn deaggregate(data: &[u8]) -> Deaggregated {
    let Some(rest) = data.strip_prefix(&MAGIC) else {
        return Deaggregated::Plain;
    };
    if rest.len() <= DIGEST_BYTES {
        return Deaggregated::Plain;
    }
    let (message, digest) = rest.split_at(rest.len() - DIGEST_BYTES);
    if Md5::digest(message).as_slice() != digest {
        return Deaggregated::Corrupt(CorruptAggregate::Checksum);
    }
    let aggregate = match AggregatedRecord::decode(message) {
        Ok(aggregate) => aggregate,
        Err(e) => return Deaggregated::Corrupt(CorruptAggregate::Protobuf(e.to_string())),
    };
    let AggregatedRecord {
        partition_key_table,
        explicit_hash_key_table,
        records,
    } = aggregate;
    let partition_key_table: Vec<String> = partition_key_table.into_iter().map(lossy).collect();
    let explicit_hash_key_table: Vec<String> =
        explicit_hash_key_table.into_iter().map(lossy).collect();
    let lookup = |table: &[String], index: u64, subsequence: u64, kind: &'static str| {
        usize::try_from(index)
            .ok()
            .and_then(|i| table.get(i))
            .cloned()
            .ok_or(CorruptAggregate::KeyIndex {
                subsequence,
                kind,
                index,
                table: table.len(),
            })
    };
    let mut users = Vec::with_capacity(records.len());
    for (subsequence, record) in (0u64..).zip(records) {
        let partition_key = match lookup(
            &partition_key_table,
            record.partition_key_index,
            subsequence,
            "partition",
        ) {
            Ok(key) => key,
            Err(e) => return Deaggregated::Corrupt(e),
        };
        let explicit_hash_key = match record.explicit_hash_key_index {
            None => None,
            Some(index) => match lookup(
                &explicit_hash_key_table,
                index,
                subsequence,
                "explicit hash",
            ) {
                Ok(key) => Some(key),
                Err(e) => return Deaggregated::Corrupt(e),
            },
        };
        users.push(UserRecord {
            partition_key,
            explicit_hash_key,
            data: record.data,
            subsequence_number: subsequence,
            tags: record.tags.into_iter().map(Tag::from).collect(),
        });
    }
    Deaggregated::Aggregated(users)
}
