//! Local emulation of the pipeline's AWS side, around the event-source
//! mapping (the `mapping` crate).
//!
//! # Layout
//! - [`supervisor`]: the event-source mappings an emulator holds (what
//!   Terraform applied), run live (`harness run`).
//! - [`function`]: the function a mapping invokes, resolved through its
//!   alias (GetAlias, GetFunction).
//! - [`environments`]: a function version as Lambda runs it, in execution
//!   environments under the Runtime API (`harness run`'s default).
//! - [`code`]: a function's zip: packaged, compared by CodeSha256,
//!   extracted.
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

pub mod code;
pub mod environments;
pub mod function;
pub mod in_process;
pub mod replay_file;
pub mod runtime_api;
pub mod supervisor;
pub mod watch;
