//! Local emulation of the pipeline's AWS side.
//!
//! # Layout
//! - [`replay`]: the local event-source mapping ([`Replay`]): polls the
//!   stream, invokes a [`Function`], applies [`MappingSettings`] (batching,
//!   ReportBatchItemFailures, bisection, retries, record age, on-failure
//!   destination, parallelization, filters, tumbling windows, the 6 MB
//!   payload limit, a function timeout, enabled/paused) with persisted
//!   [`checkpoint`]s, and counts AWS's EventCount metrics.
//! - [`shards`]: which shards may be read after a reshard (children after
//!   all their parents).
//! - [`filter`]: FilterCriteria patterns.
//! - [`window`]: tumbling windows' boundaries, state and event fields.
//! - [`records`]: stream records and the Kinesis events built from them.
//! - [`destination`]: AWS's on-failure invocation record, sent to SQS, SNS or S3.
//! - [`function`]: what gets invoked: the consumer in-process, the Lambda
//!   Invoke API of `cargo lambda watch`, or any async function.
//! - [`redrive`]: the way back for records the mapping gave up on: reads
//!   the on-failure queue's pointers and delivers those ranges again
//!   ([`Redrive`]), against the emulators or a deployment.
//! - [`runtime_api`]: the Lambda Runtime API, so a built `bootstrap` runs
//!   as Lambda runs it (the cold-start benchmark).
//! - [`watch`]: `cargo lambda watch` serving the consumer's `bootstrap`.
//!
//! The `harness` binary (`src/bin/harness/`) has one module per subcommand;
//! `local` runs the emulators as background processes and `plumbing` holds
//! what several subcommands share (provisioning, the consumer's local
//! configuration).

pub mod checkpoint;
pub mod destination;
pub mod filter;
pub mod function;
pub mod mapping;
pub mod records;
pub mod redrive;
pub mod replay;
pub mod runtime_api;
pub mod shards;
pub mod watch;
pub mod window;

pub use filter::FilterCriteria;
pub use function::{Function, InvokeError};
pub use mapping::{MappingSettings, StartingPosition};
pub use records::{EventSource, StreamRecord};
pub use redrive::{Redrive, RedriveConfig, RedriveReport};
pub use replay::{EventCountMetrics, Replay, ReplayConfig, ReplayError, ReplaySummary};
