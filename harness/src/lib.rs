//! Local emulation of the pipeline's AWS side.
//!
//! # Layout
//! - [`replay`]: the local event-source mapping ([`Replay`]): polls the
//!   stream, invokes a [`Function`], applies [`MappingSettings`] (batching,
//!   ReportBatchItemFailures, bisection, retries, record age, on-failure
//!   destination, parallelization) with persisted [`checkpoint`]s.
//! - [`records`]: stream records and the Kinesis events built from them.
//! - [`destination`]: AWS's on-failure invocation record.
//! - [`function`]: what gets invoked: the consumer in-process, the Lambda
//!   Invoke API of `cargo lambda watch`, or any async function.
//! - [`redrive`]: the way back for records the mapping gave up on: reads
//!   the on-failure queue's pointers and delivers those ranges again
//!   ([`Redrive`]), against the emulators or a deployment.
//! - [`runtime_api`]: the Lambda Runtime API, so a built `bootstrap` runs
//!   as Lambda runs it (the cold-start benchmark).
//! - [`watch`]: `cargo lambda watch` serving the consumer's `bootstrap`.
//!
//! The binary adds the CLI's plumbing: `local` (the emulators as background
//! processes: `up`, `down`, `status`) and `commands` (provisioning, the
//! consumer's local configuration, reading files).

pub mod checkpoint;
pub mod destination;
pub mod function;
pub mod mapping;
pub mod records;
pub mod redrive;
pub mod replay;
pub mod runtime_api;
pub mod watch;

pub use function::Function;
pub use mapping::{MappingSettings, StartingPosition};
pub use records::{EventSource, StreamRecord};
pub use redrive::{Redrive, RedriveConfig, RedriveReport};
pub use replay::{Replay, ReplayConfig, ReplayError, ReplaySummary};
