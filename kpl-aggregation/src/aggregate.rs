//! Packing: user records into aggregates up to a size.

use std::collections::HashMap;

use md5::{Digest, Md5};
use prost::encoding::{encoded_len_varint, key_len};
use prost::Message;

use crate::proto::{lossy, AggregatedRecord, RawTag, Record, Tag};
use crate::{DIGEST_BYTES, MAGIC, MAX_RECORD_BYTES};

/// One packed Kinesis record, ready for `PutRecord(s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate {
    /// The first user record's partition key (the one KPL gives the record).
    pub partition_key: String,
    /// The first user record's explicit hash key, if it had one. A producer
    /// that places aggregates on shards sets its own (see the README).
    pub explicit_hash_key: Option<String>,
    /// Magic bytes, protobuf, MD5 checksum.
    pub data: Vec<u8>,
    pub user_records: usize,
}

/// Why a user record was not added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    #[error("a user record of {needed} bytes does not fit an aggregate of at most {max} bytes: send it on its own")]
    TooLarge { needed: usize, max: usize },
    #[error("the maximum aggregate size must be between {min} and {max} bytes, not {given}")]
    MaxBytes {
        given: usize,
        min: usize,
        max: usize,
    },
}

/// Packs user records, in the order added, into aggregates of at most
/// `max_bytes` as Kinesis counts a record: the data (magic, protobuf and
/// checksum) and the partition key it is written with, the first user
/// record's (never the explicit hash key).
#[derive(Debug)]
pub struct Aggregator {
    max_bytes: usize,
    message: AggregatedRecord,
    /// Encoded size of `message`.
    message_bytes: usize,
    partition_keys: HashMap<String, u64>,
    explicit_hash_keys: HashMap<String, u64>,
}

/// The smallest useful aggregate: magic, checksum and a few bytes of message.
const MIN_BYTES: usize = MAGIC.len() + DIGEST_BYTES + 8;

impl Aggregator {
    /// # Errors
    /// [`AggregateError::MaxBytes`] outside what a Kinesis record can hold.
    pub fn new(max_bytes: usize) -> Result<Self, AggregateError> {
        if !(MIN_BYTES..=MAX_RECORD_BYTES).contains(&max_bytes) {
            return Err(AggregateError::MaxBytes {
                given: max_bytes,
                min: MIN_BYTES,
                max: MAX_RECORD_BYTES,
            });
        }
        Ok(Self {
            max_bytes,
            message: AggregatedRecord::default(),
            message_bytes: 0,
            partition_keys: HashMap::new(),
            explicit_hash_keys: HashMap::new(),
        })
    }

    /// User records waiting in the aggregate being built.
    pub fn len(&self) -> usize {
        self.message.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.message.records.is_empty()
    }

    /// Size of the aggregate being built, as [`Aggregator::finish`] would make it.
    pub fn size(&self) -> usize {
        MAGIC.len() + self.message_bytes + DIGEST_BYTES
    }

    /// What Kinesis would count for the aggregate being built: its size and
    /// the partition key it is written with (the first user record's).
    pub fn record_bytes(&self) -> usize {
        let key = self.message.records.first().map_or(0, |r| {
            self.message.partition_key_table[r.partition_key_index as usize].len()
        });
        self.size() + key
    }

    /// Adds a user record. When it does not fit the aggregate being built,
    /// that aggregate is returned, complete, and the record starts the next.
    ///
    /// # Errors
    /// [`AggregateError::TooLarge`] when the record would not fit even an
    /// empty aggregate; nothing is changed.
    pub fn add(
        &mut self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
    ) -> Result<Option<Aggregate>, AggregateError> {
        self.add_tagged(partition_key, explicit_hash_key, data, &[])
    }

    /// [`Aggregator::add`] with tags on the user record.
    ///
    /// # Errors
    /// As [`Aggregator::add`].
    pub fn add_tagged(
        &mut self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
        tags: &[Tag],
    ) -> Result<Option<Aggregate>, AggregateError> {
        let alone = self.growth(partition_key, explicit_hash_key, data, tags, true);
        let needed = MAGIC.len() + alone + DIGEST_BYTES + partition_key.len();
        if needed > self.max_bytes {
            return Err(AggregateError::TooLarge {
                needed,
                max: self.max_bytes,
            });
        }
        let growth = self.growth(partition_key, explicit_hash_key, data, tags, false);
        let (full, growth) = if self.record_bytes() + growth > self.max_bytes {
            // The record starts the next aggregate, where it grows the
            // message as it would alone.
            (self.finish(), alone)
        } else {
            (None, growth)
        };
        self.message_bytes += growth;
        self.push(partition_key, explicit_hash_key, data, tags);
        Ok(full)
    }

    /// The aggregate built so far, if it holds any user record; the
    /// aggregator starts empty again.
    pub fn finish(&mut self) -> Option<Aggregate> {
        if self.message.records.is_empty() {
            return None;
        }
        let message = std::mem::take(&mut self.message);
        self.message_bytes = 0;
        self.partition_keys.clear();
        self.explicit_hash_keys.clear();
        let user_records = message.records.len();
        let first = &message.records[0];
        // Keys went in as `&str`: the conversion back loses nothing.
        let partition_key =
            lossy(message.partition_key_table[first.partition_key_index as usize].clone());
        let explicit_hash_key = first
            .explicit_hash_key_index
            .map(|i| lossy(message.explicit_hash_key_table[i as usize].clone()));
        let body = message.encode_to_vec();
        let mut data = Vec::with_capacity(MAGIC.len() + body.len() + DIGEST_BYTES);
        data.extend_from_slice(&MAGIC);
        data.extend_from_slice(&body);
        data.extend_from_slice(&Md5::digest(&body));
        Some(Aggregate {
            partition_key,
            explicit_hash_key,
            data,
            user_records,
        })
    }

    /// How many bytes the message grows by with this record (`fresh`: as
    /// the first record of an empty aggregate).
    fn growth(
        &self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
        tags: &[Tag],
        fresh: bool,
    ) -> usize {
        let mut bytes = 0;
        // The index `key` has, or would get, in a key table; a new entry
        // grows the message.
        let mut index = |table: &HashMap<String, u64>, key: &str| match table.get(key) {
            Some(&index) if !fresh => index,
            _ => {
                bytes += key_len(1) + encoded_len_varint(key.len() as u64) + key.len();
                if fresh {
                    0
                } else {
                    table.len() as u64
                }
            }
        };
        let pk_index = index(&self.partition_keys, partition_key);
        let ehk_index = explicit_hash_key.map(|key| index(&self.explicit_hash_keys, key));
        let record = Record {
            partition_key_index: pk_index,
            explicit_hash_key_index: ehk_index,
            data: Vec::new(),
            tags: tags.iter().map(RawTag::from).collect(),
        };
        // The data is counted without copying it.
        let inner =
            record.encoded_len() + key_len(3) + encoded_len_varint(data.len() as u64) + data.len()
                - (key_len(3) + encoded_len_varint(0));
        bytes + key_len(3) + encoded_len_varint(inner as u64) + inner
    }

    /// Appends the record to the message, its keys to the key tables (once
    /// each); `message_bytes` is the caller's to grow.
    fn push(
        &mut self,
        partition_key: &str,
        explicit_hash_key: Option<&str>,
        data: &[u8],
        tags: &[Tag],
    ) {
        let partition_key_index = intern(
            &mut self.partition_keys,
            &mut self.message.partition_key_table,
            partition_key,
        );
        let explicit_hash_key_index = explicit_hash_key.map(|key| {
            intern(
                &mut self.explicit_hash_keys,
                &mut self.message.explicit_hash_key_table,
                key,
            )
        });
        self.message.records.push(Record {
            partition_key_index,
            explicit_hash_key_index,
            data: data.to_vec(),
            tags: tags.iter().map(RawTag::from).collect(),
        });
    }
}

/// `key`'s index in a key table, added to the table (and its index) when new.
fn intern(indices: &mut HashMap<String, u64>, table: &mut Vec<Vec<u8>>, key: &str) -> u64 {
    if let Some(&index) = indices.get(key) {
        return index;
    }
    let index = table.len() as u64;
    table.push(key.as_bytes().to_vec());
    indices.insert(key.to_owned(), index);
    index
}
