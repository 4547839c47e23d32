//! Per-RPC counters, served as JSON by the admin endpoint's `/stats`.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// The RPCs the double implements, in the order their counters are stored.
/// Everything else is counted under `Other`.
pub const RPCS: &[&str] = &[
    "Get",
    "GetWithHash",
    "GetBatch",
    "Set",
    "SetBatch",
    "SetIf",
    "SetIfHash",
    "SetIfNotExists",
    "Delete",
    "KeysExist",
    "Increment",
    "UpdateTtl",
    "ItemGetTtl",
    "ItemGetType",
    "DictionaryGet",
    "DictionaryFetch",
    "DictionarySet",
    "DictionaryIncrement",
    "DictionaryDelete",
    "DictionaryLength",
    "SetFetch",
    "SetSample",
    "SetUnion",
    "SetDifference",
    "SetContains",
    "SetLength",
    "SetPop",
    "ListPushFront",
    "ListPushBack",
    "ListPopFront",
    "ListPopBack",
    "ListErase",
    "ListRemove",
    "ListFetch",
    "ListLength",
    "ListConcatenateFront",
    "ListConcatenateBack",
    "ListRetain",
    "SortedSetPut",
    "SortedSetFetch",
    "SortedSetGetScore",
    "SortedSetRemove",
    "SortedSetIncrement",
    "SortedSetGetRank",
    "SortedSetLength",
    "SortedSetLengthByScore",
    "SortedSetUnionStore",
    "Publish",
    "Subscribe",
    "CreateCache",
    "DeleteCache",
    "ListCaches",
    "FlushCache",
    "Other",
];

/// Index of an RPC's counters, from the method part of its gRPC path.
pub fn rpc_index(method: &str) -> usize {
    RPCS.iter()
        .position(|name| *name == method)
        .unwrap_or(RPCS.len() - 1)
}

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
            rpcs: RPCS.iter().map(|_| Counters::default()).collect(),
        }
    }
}

/// What a key lookup found, for the hit/miss counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hit,
    Miss,
    Set,
}

impl Stats {
    pub fn call(&self, rpc: usize) {
        self.rpcs[rpc].calls.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, rpc: usize) {
        self.rpcs[rpc].errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record(&self, rpc: usize, outcome: Outcome) {
        let c = &self.rpcs[rpc];
        let counter = match outcome {
            Outcome::Hit => &c.hits,
            Outcome::Miss => &c.misses,
            Outcome::Set => &c.sets,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A copy of the counters, leaving out RPCs that were never called.
    pub fn snapshot(&self) -> StatsSnapshot {
        let mut total = RpcStats::default();
        let rpcs = RPCS
            .iter()
            .zip(&self.rpcs)
            .filter_map(|(name, c)| {
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
                (s.calls > 0).then(|| ((*name).to_owned(), s))
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
    /// Items written.
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
