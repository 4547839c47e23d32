//! The format's protobuf messages, declared by hand for `prost`'s derive (no
//! `protoc` needed to build). They are KPL's `messages.proto` (proto2,
//! package `aws.kinesis.protobuf`), field for field:
//!
//! ```proto
//! message AggregatedRecord {
//!   repeated string partition_key_table     = 1;
//!   repeated string explicit_hash_key_table = 2;
//!   repeated Record records                 = 3;
//! }
//! message Record {
//!   required uint64 partition_key_index     = 1;
//!   optional uint64 explicit_hash_key_index = 2;
//!   required bytes  data                    = 3;
//!   repeated Tag    tags                    = 4;
//! }
//! message Tag {
//!   required string key   = 1;
//!   optional string value = 2;
//! }
//! ```
//!
//! The interoperability tests (`tests/interop.rs`) hold these to awslabs'
//! generated code, both ways, on the same bytes.
//!
//! The `string` fields are declared `bytes` here (the same on the wire):
//! prost refuses a `string` that is not UTF-8, which would sink the whole
//! aggregate for one key, where awslabs' deaggregators hand the user records
//! on. Keys and tags are read as bytes and converted lossily
//! ([`lossy`]).

/// The whole aggregate: tables of keys, then the user records that index them.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct AggregatedRecord {
    #[prost(bytes = "vec", repeated, tag = "1")]
    pub partition_key_table: Vec<Vec<u8>>,
    #[prost(bytes = "vec", repeated, tag = "2")]
    pub explicit_hash_key_table: Vec<Vec<u8>>,
    #[prost(message, repeated, tag = "3")]
    pub records: Vec<Record>,
}

/// One user record inside an aggregate.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Record {
    #[prost(uint64, required, tag = "1")]
    pub partition_key_index: u64,
    #[prost(uint64, optional, tag = "2")]
    pub explicit_hash_key_index: Option<u64>,
    #[prost(bytes = "vec", required, tag = "3")]
    pub data: Vec<u8>,
    #[prost(message, repeated, tag = "4")]
    pub tags: Vec<RawTag>,
}

/// A tag as the wire carries it.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RawTag {
    #[prost(bytes = "vec", required, tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub value: Option<Vec<u8>>,
}

/// A key (and optional value) a producer attached to a user record; KPL
/// writes none, the format carries them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Tag {
    pub key: String,
    pub value: Option<String>,
}

impl From<&Tag> for RawTag {
    fn from(tag: &Tag) -> Self {
        Self {
            key: tag.key.as_bytes().to_vec(),
            value: tag.value.as_ref().map(|v| v.as_bytes().to_vec()),
        }
    }
}

impl From<RawTag> for Tag {
    fn from(tag: RawTag) -> Self {
        Self {
            key: lossy(tag.key),
            value: tag.value.map(lossy),
        }
    }
}

/// Bytes as text, each invalid UTF-8 sequence replaced by U+FFFD.
pub(crate) fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
