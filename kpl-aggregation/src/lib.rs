//! The Kinesis Producer Library's aggregated record format, for Rust
//! producers and consumers.
//!
//! KPL, Fluent Bit, Vector and awslabs' `kinesis-aggregation` libraries pack
//! many *user records* into one Kinesis record to get past a shard's 1,000
//! records/s write limit and to fill PUT payload units. The record's data is
//! the four magic bytes `F3 89 9A C2`, a protobuf `AggregatedRecord` (a table
//! of partition keys, a table of explicit hash keys, and the user records
//! that index them) and the protobuf's 16-byte MD5 digest. Lambda and
//! `GetRecords` deliver such a record as it is; [`deaggregate`] unpacks it,
//! [`Aggregator`] packs one.
//!
//! ```
//! use kpl_aggregation::{deaggregate, Aggregator, Deaggregated};
//!
//! let mut aggregator = Aggregator::new(kpl_aggregation::KPL_DEFAULT_MAX_BYTES).unwrap();
//! assert!(aggregator.add("key-1", None, b"first").unwrap().is_none());
//! assert!(aggregator.add("key-2", None, b"second").unwrap().is_none());
//! let aggregate = aggregator.finish().unwrap();
//! assert_eq!(aggregate.partition_key, "key-1");
//!
//! let Deaggregated::Aggregated(users) = deaggregate(&aggregate.data) else { panic!() };
//! assert_eq!(users[1].partition_key, "key-2");
//! assert_eq!(users[1].data, b"second");
//! assert_eq!(users[1].subsequence_number, 1);
//! assert_eq!(deaggregate(b"{\"plain\":true}"), Deaggregated::Plain);
//! ```

mod aggregate;
mod deaggregate;
mod proto;

pub use aggregate::{Aggregate, AggregateError, Aggregator};
pub use deaggregate::{deaggregate, CorruptAggregate, Deaggregated, UserRecord};
pub use proto::Tag;

use md5::{Digest, Md5};

/// The first four bytes of every aggregate.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];

/// The MD5 digest of the protobuf, at the end of every aggregate.
pub const DIGEST_BYTES: usize = 16;

/// KPL's default `AggregationMaxSize`: 50 KiB per aggregate.
pub const KPL_DEFAULT_MAX_BYTES: usize = 51_200;

/// The most data one Kinesis record holds (1 MiB, partition key included).
pub const MAX_RECORD_BYTES: usize = 1_048_576;

/// An aggregate's data around an already encoded `AggregatedRecord`
/// protobuf: the magic bytes, the message, its MD5. For tests and fuzzing
/// that build messages by hand ([`Aggregator`] makes whole aggregates).
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(MAGIC.len() + message.len() + DIGEST_BYTES);
    data.extend_from_slice(&MAGIC);
    data.extend_from_slice(message);
    data.extend_from_slice(&Md5::digest(message));
    data
}

/// The 128-bit hash key Kinesis gives a partition key (the MD5 of its UTF-8
/// bytes, big-endian): the record goes to the shard whose hash key range
/// holds it. A producer that aggregates groups user records by it, so each
/// lands on the shard its own key hashes to.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unpack(data: &[u8]) -> Vec<UserRecord> {
        match deaggregate(data) {
            Deaggregated::Aggregated(users) => users,
            other => panic!("not an aggregate: {other:?}"),
        }
    }

    #[test]
    fn round_trip_keeps_keys_data_order_and_numbers() {
        let mut aggregator = Aggregator::new(KPL_DEFAULT_MAX_BYTES).unwrap();
        let records: Vec<(String, Vec<u8>)> = (0..100)
            .map(|i| (format!("key-{}", i % 7), format!("data {i}").into_bytes()))
            .collect();
        for (key, data) in &records {
            assert!(aggregator.add(key, None, data).unwrap().is_none());
        }
        assert_eq!(aggregator.len(), 100);
        let aggregate = aggregator.finish().unwrap();
        assert!(aggregator.is_empty() && aggregator.finish().is_none());
        assert_eq!(aggregate.user_records, 100);
        assert_eq!(aggregate.data.len(), {
            let mut again = Aggregator::new(KPL_DEFAULT_MAX_BYTES).unwrap();
            for (key, data) in &records {
                again.add(key, None, data).unwrap();
            }
            again.size()
        });
        let users = unpack(&aggregate.data);
        assert_eq!(users.len(), 100);
        assert_eq!(aggregate.partition_key, "key-0");
        for (i, (user, (key, data))) in users.iter().zip(&records).enumerate() {
            assert_eq!(
                (&user.partition_key, &user.data, user.subsequence_number),
                (key, data, i as u64)
            );
            assert_eq!(user.explicit_hash_key, None);
        }
    }

    #[test]
    fn empty_data_and_an_empty_aggregate() {
        let mut aggregator = Aggregator::new(1024).unwrap();
        aggregator.add("k", None, b"").unwrap();
        let users = unpack(&aggregator.finish().unwrap().data);
        assert_eq!(users[0].data, b"");
        // An aggregate of no user record decodes to none (awslabs' libraries
        // yield none for it too): nothing to deliver, nothing lost.
        use prost::Message;
        let body = proto::AggregatedRecord {
            partition_key_table: vec!["unused".into()],
            ..Default::default()
        }
        .encode_to_vec();
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(&Md5::digest(&body));
        assert_eq!(deaggregate(&data), Deaggregated::Aggregated(vec![]));
    }

    #[test]
    fn explicit_hash_keys_and_tags_come_back() {
        let mut aggregator = Aggregator::new(4096).unwrap();
        let tags = [
            Tag {
                key: "source".into(),
                value: Some("test".into()),
            },
            Tag {
                key: "flag".into(),
                value: None,
            },
        ];
        aggregator.add("a", Some("1234"), b"one").unwrap();
        aggregator
            .add_tagged("b", Some("5678"), b"two", &tags)
            .unwrap();
        aggregator.add("c", Some("1234"), b"three").unwrap();
        let aggregate = aggregator.finish().unwrap();
        assert_eq!(aggregate.explicit_hash_key.as_deref(), Some("1234"));
        let users = unpack(&aggregate.data);
        let keys: Vec<_> = users
            .iter()
            .map(|u| u.explicit_hash_key.as_deref())
            .collect();
        assert_eq!(keys, [Some("1234"), Some("5678"), Some("1234")]);
        assert_eq!(users[1].tags, tags);
        assert!(users[0].tags.is_empty());
    }

    #[test]
    fn an_aggregate_never_exceeds_its_size_and_a_record_at_the_limit_fits() {
        let max = 1000;
        let mut aggregator = Aggregator::new(max).unwrap();
        let mut aggregates = Vec::new();
        for i in 0..500 {
            let data = vec![b'x'; i % 97];
            if let Some(full) = aggregator.add(&format!("key-{i}"), None, &data).unwrap() {
                aggregates.push(full);
            }
        }
        aggregates.extend(aggregator.finish());
        assert!(aggregates.len() > 10);
        let mut users = 0;
        // Kinesis counts the data and the partition key it is written with.
        let counted = |a: &Aggregate| a.data.len() + a.partition_key.len();
        for aggregate in &aggregates {
            assert!(counted(aggregate) <= max, "{} bytes", counted(aggregate));
            users += unpack(&aggregate.data).len();
        }
        assert_eq!(users, 500);

        // One record that fills the aggregate exactly fits; one byte more
        // does not. The key is counted: a long one leaves less for data.
        for key in ["k", &"k".repeat(256)] {
            let overhead = {
                let mut probe = Aggregator::new(max).unwrap();
                probe.add(key, None, b"").unwrap();
                probe.record_bytes()
            };
            let mut exact = None;
            for len in (max - overhead - 4)..=(max - overhead) {
                let mut one = Aggregator::new(max).unwrap();
                if one.add(key, None, &vec![0; len]).is_ok() {
                    let aggregate = one.finish().unwrap();
                    exact = Some((len, counted(&aggregate)));
                }
            }
            let (len, size) = exact.expect("some record fits");
            assert_eq!(
                size, max,
                "the largest record that fits fills the aggregate"
            );
            let mut one = Aggregator::new(max).unwrap();
            assert_eq!(
                one.add(key, None, &vec![0; len + 1]),
                Err(AggregateError::TooLarge {
                    needed: max + 1,
                    max
                })
            );
            assert!(one.is_empty());
        }
    }

    #[test]
    fn a_key_that_is_not_utf8_is_read_lossily_and_sinks_nothing() {
        use prost::Message;
        let message = proto::AggregatedRecord {
            partition_key_table: vec![b"good".to_vec(), vec![b'b', 0xFF, b'd']],
            explicit_hash_key_table: vec![vec![0xC3]],
            records: vec![
                proto::Record {
                    partition_key_index: 0,
                    explicit_hash_key_index: None,
                    data: b"one".to_vec(),
                    tags: vec![],
                },
                proto::Record {
                    partition_key_index: 1,
                    explicit_hash_key_index: Some(0),
                    data: b"two".to_vec(),
                    tags: vec![proto::RawTag {
                        key: vec![0xFE],
                        value: None,
                    }],
                },
            ],
        };
        let body = message.encode_to_vec();
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(&Md5::digest(&body));
        let users = unpack(&data);
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].partition_key, "good");
        assert_eq!(users[1].partition_key, "b\u{fffd}d");
        assert_eq!(users[1].explicit_hash_key.as_deref(), Some("\u{fffd}"));
        assert_eq!(users[1].tags[0].key, "\u{fffd}");
        assert_eq!(users[1].data, b"two");
    }

    #[test]
    fn what_is_not_an_aggregate_is_plain() {
        assert_eq!(deaggregate(b""), Deaggregated::Plain);
        assert_eq!(deaggregate(b"{\"id\":1}"), Deaggregated::Plain);
        assert_eq!(deaggregate(&MAGIC), Deaggregated::Plain);
        let mut almost = MAGIC.to_vec();
        almost[3] ^= 1;
        almost.extend_from_slice(&[0; 40]);
        assert_eq!(deaggregate(&almost), Deaggregated::Plain);
    }

    #[test]
    fn a_bad_checksum_or_a_truncated_protobuf_is_corrupt() {
        let mut aggregator = Aggregator::new(4096).unwrap();
        aggregator.add("key", None, b"some data").unwrap();
        aggregator.add("other", None, b"more data").unwrap();
        let good = aggregator.finish().unwrap().data;

        let mut flipped = good.clone();
        flipped[10] ^= 0xFF;
        assert_eq!(
            deaggregate(&flipped),
            Deaggregated::Corrupt(CorruptAggregate::Checksum)
        );

        // The message cut short, with a checksum that matches the cut.
        let body = &good[MAGIC.len()..good.len() - DIGEST_BYTES];
        let cut = &body[..body.len() - 3];
        let mut truncated = MAGIC.to_vec();
        truncated.extend_from_slice(cut);
        truncated.extend_from_slice(&Md5::digest(cut));
        assert!(matches!(
            deaggregate(&truncated),
            Deaggregated::Corrupt(CorruptAggregate::Protobuf(_))
        ));
    }

    #[test]
    fn a_key_index_outside_its_table_is_corrupt() {
        use prost::Message;
        let message = proto::AggregatedRecord {
            partition_key_table: vec!["only".into()],
            explicit_hash_key_table: vec![],
            records: vec![
                proto::Record {
                    partition_key_index: 0,
                    explicit_hash_key_index: None,
                    data: b"fine".to_vec(),
                    tags: vec![],
                },
                proto::Record {
                    partition_key_index: 3,
                    explicit_hash_key_index: None,
                    data: b"lost by a library that stops here".to_vec(),
                    tags: vec![],
                },
            ],
        };
        let body = message.encode_to_vec();
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(&Md5::digest(&body));
        assert_eq!(
            deaggregate(&data),
            Deaggregated::Corrupt(CorruptAggregate::KeyIndex {
                subsequence: 1,
                kind: "partition",
                index: 3,
                table: 1
            })
        );
    }

    #[test]
    fn a_maximum_outside_a_kinesis_record_is_refused() {
        assert!(Aggregator::new(10).is_err());
        assert!(Aggregator::new(MAX_RECORD_BYTES + 1).is_err());
        assert!(Aggregator::new(MAX_RECORD_BYTES).is_ok());
    }

    #[test]
    fn hash_keys_are_kinesis_md5() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e.
        assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
    }
}
