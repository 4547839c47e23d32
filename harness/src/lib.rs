//! Local emulation of the pipeline's AWS side, around the event-source
//! mapping (the `mapping` crate).
//!
//! # Layout
//! - [`in_process`]: the consumer library as a [`mapping::Function`].
//! - [`replay_file`]: records to replay from a file (the producer's
//!   output, or captured Kinesis events).
//! - [`runtime_api`]: the Lambda Runtime API, so a built `bootstrap` runs
//!   as Lambda runs it (the cold-start benchmark).
//! - [`watch`]: `cargo lambda watch` serving the consumer's `bootstrap`.
//!
//! The `harness` binary (`src/bin/harness/`) has one module per subcommand;
//! `local` runs the emulators as background processes and `plumbing` holds
//! what several subcommands share (provisioning, the consumer's local
//! configuration).

pub mod in_process;
pub mod replay_file;
pub mod runtime_api;
pub mod watch;
