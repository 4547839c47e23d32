//! The Lambda Kinesis event-source mapping, run locally: the twin of what
//! AWS runs between a stream and a function, for any Rust Kinesis function
//! (behind the Lambda Invoke API, the Lambda API, or an async closure).
//!
//! # Layout
//! - [`engine`]: every decision, without I/O: events in, actions out.
//! - [`shell`]: carries the engine's actions out ([`EventSourceMapping`]):
//!   [`shell::reader`] (Kinesis), [`shell::invoker`] (the function),
//!   [`shell::sender`] (the on-failure destination).
//! - the rules' own modules, used by the engine: [`settings`], [`state`]
//!   (what survives a restart), [`shards`] (children after parents),
//!   [`filter`] (FilterCriteria), [`window`] (tumbling windows),
//!   [`destination`] (the invocation record), [`records`] (events),
//!   [`sequence`] (sequence numbers as numbers), [`arn`].
//! - [`redrive`]: the way back for records the mapping gave up on.
//! - [`applied`]: a mapping as the Lambda API returns it (what Terraform
//!   applied), turned into [`MappingSettings`].

pub mod applied;
pub mod arn;
pub mod destination;
pub mod engine;
pub mod filter;
pub mod records;
pub mod redrive;
pub mod sequence;
pub mod settings;
pub mod shards;
pub mod shell;
pub mod state;
pub mod window;

pub use engine::{Backoff, EventCountMetrics, InvokeError, Summary};
pub use filter::FilterCriteria;
pub use records::{EventSource, StreamRecord};
pub use redrive::{Redrive, RedriveConfig, RedriveReport};
pub use settings::{MappingSettings, SettingsError, StartingPosition};
pub use shell::invoker::{Failed, Function};
pub use shell::{EventSourceMapping, MappingConfig, MappingError};
