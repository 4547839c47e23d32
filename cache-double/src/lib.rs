//! A Momento-compatible cache server for local development and tests.
//!
//! It serves Momento's gRPC data plane (`cache_client.Scs`: scalars,
//! dictionaries, lists, sets, sorted sets), topics (`cache_client.pubsub.Pubsub`)
//! and control plane (`control_client.ScsControl`) on one plaintext port, so
//! the real `momento` SDK works against it unchanged, plus a small admin HTTP
//! API for tests.
//!
//! # Layout
//!
//! Layers, each importing only those below it (`tests/layers.rs` checks):
//! - [`server`], [`admin`], [`floor`]: [`serve`] for the binary and
//!   [`CacheDouble`] for tests; the admin HTTP API (`/health`, `/stats`,
//!   `/block`, `/unblock`, `/faults`); a do-nothing server that bounds what
//!   any double can achieve, for the benchmark.
//! - [`service`]: the gRPC services (data plane by family, topics, control
//!   plane); each RPC decodes its request, makes one store call and encodes
//!   the answer, with no rule of its own.
//! - [`faults`]: the tower layer for auth, latency, error rate, `/block`, and
//!   momento-local's fault-injection headers.
//! - [`state`]: what a running double shares: its caches and topics, the one
//!   table of RPCs ([`state::rpc`]) and their counters, the block switch.
//! - [`store`]: items of every type with Momento's rules (TTL, collection
//!   TTLs, size and element limits, wrong type, emptied collections), bounded
//!   memory and LRU-like eviction, and the topic model; it imports none of the
//!   layers above.
//!
//! Beside them, used by any layer and using none: [`delay`] (injected latency
//! accurate to the OS timer, not Tokio's 1 ms ticks).
//!
//! # Example
//! ```no_run
//! # async fn demo() -> Result<(), cache_double::ServeError> {
//! use cache_double::{CacheDouble, DoubleConfig};
//! let double = CacheDouble::start(DoubleConfig {
//!     caches: vec!["sample-a".into()],
//!     ..Default::default()
//! })
//! .await?;
//! println!("Momento endpoint: {}", double.endpoint());
//! double.stop().await
//! # }
//! ```

pub mod admin;
pub mod delay;
pub mod faults;
pub mod floor;
pub mod server;
pub mod service;
pub mod state;
pub mod store;
mod unimplemented;

pub use admin::AdminStats;
pub use faults::FaultConfig;
pub use server::{bind, serve, CacheDouble, DoubleConfig, ServeError};
pub use state::Injected;
pub use store::Limits;
