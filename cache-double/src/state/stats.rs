//! Per-RPC counters, served as JSON by the admin endpoint's `/stats`, one
//! set per row of the RPC table ([`super::rpc`]).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use super::rpc::{Counting, Rpc};

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    sets: AtomicU64,
    errors: AtomicU64,
}

/// Counters for every RPC. Cheap enough (relaxed atomics) for the hot path.
pub struct Stats {
    rpcs: Vec<Counters>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            rpcs: Rpc::ALL.iter().map(|_| Counters::default()).collect(),
        }
    }
}

impl Stats {
    pub fn call(&self, rpc: Rpc) {
        self.rpcs[rpc.index()].calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, rpc: Rpc) {
        self.rpcs[rpc.index()]
            .errors
            .fetch_add(1, Ordering::Relaxed);
    }

    /// A read RPC looked an item up: a hit if it was there, else a miss.
    pub fn looked_up(&self, rpc: Rpc, found: bool) {
        debug_assert_eq!(rpc.counting(), Counting::Read, "{rpc:?} is not a read");
        let c = &self.rpcs[rpc.index()];
        let counter = if found { &c.hits } else { &c.misses };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A write RPC changed `items` items.
    pub fn wrote(&self, rpc: Rpc, items: u64) {
        debug_assert_eq!(rpc.counting(), Counting::Write, "{rpc:?} is not a write");
        self.rpcs[rpc.index()]
            .sets
            .fetch_add(items, Ordering::Relaxed);
    }

    /// A copy of the counters, leaving out RPCs that were never called.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut total = RpcStats::default();
        let rpcs = Rpc::ALL
            .iter()
            .zip(&self.rpcs)
            .filter_map(|(rpc, c)| {
                let s = RpcStats {
                    calls: c.calls.load(Ordering::Relaxed),
                    hits: c.hits.load(Ordering::Relaxed),
                    misses: c.misses.load(Ordering::Relaxed),
                    sets: c.sets.load(Ordering::Relaxed),
                    errors: c.errors.load(Ordering::Relaxed),
                };
                total.calls += s.calls;
                total.hits += s.hits;
                total.misses += s.misses;
                total.sets += s.sets;
                total.errors += s.errors;
                (s.calls > 0).then(|| (rpc.method().to_owned(), s))
            })
            .collect();
        StatsSnapshot { rpcs, total }
    }
}

/// Counters of one RPC.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RpcStats {
    pub calls: u64,
    /// Keys (or dictionary fields) found.
    pub hits: u64,
    /// Keys (or dictionary fields) not found.
    pub misses: u64,
    /// Items written (changed, created or removed).
    pub sets: u64,
    /// Calls answered with a non-OK status, injected faults included.
    pub errors: u64,
}

/// `/stats` as JSON: per-RPC counters and their sum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    pub rpcs: std::collections::BTreeMap<String, RpcStats>,
    pub total: RpcStats,
}
