//! Poison records go to an SQS dead-letter queue with everything needed to
//! find, understand and replay them.
//!
//! - [`letter`]: one letter's shape, bounded and fitted to the queue's
//!   maximum message size whatever the record held.
//! - [`queue`]: sending an invocation's letters, ten to a call, several
//!   calls at once, stopping before the invocation's deadline.
//! - [`remembered`]: what the container already sent for records Kinesis
//!   will deliver again, so their retry makes progress.

mod letter;
mod queue;
mod remembered;

pub use letter::{letter_id, DeadLetter, MAX_DATA_CHARS, MAX_HASH_KEY_CHARS, MAX_KEY_CHARS};
pub use queue::{DeadLetters, SendWindow, DEFAULT_MAX_MESSAGE_BYTES};
