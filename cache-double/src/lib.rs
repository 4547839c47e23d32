//! A Momento-compatible cache server for local development and tests.
//!
//! It serves Momento's gRPC data plane (`cache_client.Scs`: scalars,
//! dictionaries, lists, sets, sorted sets), topics (`cache_client.pubsub.Pubsub`)
//! and control plane (`control_client.ScsControl`) on one plaintext port, so
//! the real `momento` SDK works against it unchanged, plus a small admin HTTP
//! API for tests.
//!
//! # Layout
//! - [`store`]: items of every type with per-item TTL, bounded memory,
//!   LRU-like eviction; one module per value type.
//! - [`service`]: the cache RPCs, one module per family, with Momento's
//!   semantics and error codes.
//! - [`pubsub`]: topics: Publish, Subscribe, heartbeats, resume.
//! - [`faults`]: the tower layer for auth, latency, error rate, `/block`, and
//!   momento-local's fault-injection headers.
//! - [`delay`]: injected latency accurate to the OS timer, not Tokio's 1 ms ticks.
//! - [`admin`]: `/health`, `/stats`, `/block`, `/unblock`.
//! - [`server`]: [`serve`] for the binary, [`CacheDouble`] for tests.
//! - [`floor`]: a do-nothing server that bounds what any double can achieve,
//!   for the benchmark.
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
pub mod pubsub;
pub mod server;
pub mod service;
pub mod state;
pub mod stats;
pub mod store;
mod unimplemented;

pub use admin::AdminStats;
pub use faults::FaultConfig;
pub use server::{bind, serve, CacheDouble, DoubleConfig, ServeError};
pub use state::Injected;
pub use store::Limits;
