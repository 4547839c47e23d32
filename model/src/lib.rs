//! The records that flow through the pipeline.
//!
//! The producer writes [`ModelOne`] as JSON into Kinesis; the consumer decodes
//! it with [`ModelOne::decode`], looks up its `read_location` as a
//! [`LocationRecord`] and emits an [`EnrichedModelOne`]. Keeping the types in
//! one crate means the three sides cannot drift apart.
//!
//! # Layout
//! - [`ModelOne`]: the stream record, with validation.
//! - [`LocationRecord`]: the document stored in DynamoDB and cached in Momento.
//! - [`RecordError`]: why a payload is not a valid record (the poison reason).

mod error;
mod location;
mod record;

pub use error::RecordError;
pub use location::{sample_locations, LocationRecord};
pub use record::{EnrichedModelOne, ModelOne, MAX_KEY_BYTES, MAX_RECORD_BYTES};
