//! The Kinesis consumer: enriches each `ModelOne` record with its location
//! document through a tiered read-through cache, and gives every record
//! exactly one fate.
//!
//! # Layout
//! - [`Config`]: settings from the environment, read once per container.
//! - [`init`]: the Momento key from SSM and every client, built once.
//! - [`Consumer::handle`]: one batch → its user records (KPL aggregates
//!   unpacked) → enriched output, dead letters, and the `batchItemFailures`
//!   Kinesis retries.
//! - [`lookup`]: L1 → Momento → DynamoDB, with negative caching,
//!   single-flight and a circuit breaker.
//! - [`DeadLetter`]: the shape of a poison record in the dead-letter queue,
//!   and [`DeadLetters`], which sends them.
//! - [`Output`]: where enriched records are written (stdout in Lambda).
//! - [`metrics`]: per-batch CloudWatch EMF metrics.
//!
//! The `bootstrap` binary wires these into `lambda_runtime`.

mod batch;
mod config;
mod dead_letter;
mod event;
mod init;
pub mod lookup;
pub mod metrics;
mod output;

pub use batch::{BatchReport, BatchResult, Consumer, DEADLINE_MARGIN};
pub use config::{Config, ConfigError};
pub use dead_letter::{
    letter_id, DeadLetter, DeadLetters, DEFAULT_MAX_MESSAGE_BYTES, MAX_DATA_CHARS,
    MAX_HASH_KEY_CHARS, MAX_KEY_CHARS,
};
pub use event::{InputKinesis, InputRecord, KinesisInput, Poison, Unpacked, UserRecord};
pub use init::{init, read_api_key, InitError, PLACEHOLDER_PREFIX};
pub use output::{Captured, Output, OutputLine};
