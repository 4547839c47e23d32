//! The admin HTTP endpoint, on its own loopback port: `/health`, `/stats`,
//! and `POST /block` / `POST /unblock` to simulate an outage.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::state::Shared;
use crate::stats::{RpcStats, StatsSnapshot};

/// What `/stats` returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminStats {
    /// Per-RPC counters (only RPCs called at least once) and their sum.
    #[serde(flatten)]
    pub calls: StatsSnapshot,
    pub caches: BTreeMap<String, CacheStats>,
    pub blocked: bool,
}

impl AdminStats {
    /// Counters of one RPC (zero if it was never called).
    pub fn rpc(&self, name: &str) -> RpcStats {
        self.calls.rpcs.get(name).copied().unwrap_or_default()
    }
}

/// Size of one cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheStats {
    pub items: usize,
    pub bytes: usize,
    pub evictions: u64,
}

/// A snapshot of everything `/stats` reports.
pub fn stats(shared: &Shared) -> AdminStats {
    let caches = shared
        .caches()
        .into_iter()
        .map(|(name, cache)| {
            let stats = CacheStats {
                items: cache.len(),
                bytes: cache.bytes(),
                evictions: cache.evictions(),
            };
            (name, stats)
        })
        .collect();
    AdminStats {
        calls: shared.stats.snapshot(),
        caches,
        blocked: shared.blocked.load(Ordering::Relaxed),
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route(
            "/stats",
            get(|State(s): State<Arc<Shared>>| async move { Json(stats(&s)) }),
        )
        .route(
            "/block",
            post(|State(s): State<Arc<Shared>>| async move { set_blocked(&s, true) }),
        )
        .route(
            "/unblock",
            post(|State(s): State<Arc<Shared>>| async move { set_blocked(&s, false) }),
        )
        .with_state(shared)
}

fn set_blocked(shared: &Shared, blocked: bool) -> &'static str {
    shared.blocked.store(blocked, Ordering::Relaxed);
    tracing::info!(blocked, "admin: block state changed");
    if blocked {
        "blocked\n"
    } else {
        "unblocked\n"
    }
}
