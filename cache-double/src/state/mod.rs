//! State shared by the gRPC services, the fault layer and the admin endpoint:
//! the caches and topics (the store's), the RPC table and its counters, the
//! block switch and the injected faults.

pub mod rpc;
pub mod stats;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::watch;
use tonic::{Code, Status};

use self::stats::Stats;
use crate::store::topics::Topics;
use crate::store::{Cache, Limits};

/// Everything one running double knows.
pub struct Shared {
    caches: RwLock<HashMap<String, Arc<Cache>>>,
    /// Bounds applied to each cache.
    pub limits: Limits,
    pub stats: Stats,
    /// Set by `/block`: every RPC answers UNAVAILABLE until `/unblock`
    /// (read on every call, so an atomic rather than the channel below).
    blocked: AtomicBool,
    /// The same switch for open subscriptions, which `/block` ends.
    blocked_changes: watch::Sender<bool>,
    pub topics: Topics,
    /// Latency and error rate, set at start and changeable through `/faults`.
    pub injected: RwLock<Injected>,
    /// The `authorization` values accepted (`None`: any), set at start and
    /// changeable through `/api-keys`, as a key rotation changes them.
    pub api_keys: RwLock<Option<Vec<String>>>,
}

/// Faults applied to every RPC that passes authentication.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Injected {
    /// Added before every reply.
    pub latency: Duration,
    /// Fraction (0.0–1.0) of RPCs answered with `error_code`.
    pub error_rate: f64,
    /// The code used by `error_rate` (UNAVAILABLE when unset).
    pub error_code: Option<Code>,
}

impl Shared {
    pub fn new(limits: Limits) -> Self {
        Self {
            caches: RwLock::default(),
            limits,
            stats: Stats::default(),
            blocked: AtomicBool::new(false),
            blocked_changes: watch::channel(false).0,
            topics: Topics::default(),
            injected: RwLock::default(),
            api_keys: RwLock::default(),
        }
    }

    /// A state in which `caches` already exist.
    pub fn with_caches(limits: Limits, caches: &[String]) -> Self {
        let shared = Self::new(limits);
        for name in caches {
            shared.create_cache(name);
        }
        shared
    }

    /// The cache named `name`, or NOT_FOUND as Momento answers (the SDK maps
    /// it to `CacheNotFoundError`).
    pub fn cache(&self, name: &str) -> Result<Arc<Cache>, Status> {
        self.caches
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("cache '{name}' does not exist")))
    }

    /// Creates `name`; false if it already existed.
    pub fn create_cache(&self, name: &str) -> bool {
        let mut caches = self.caches.write();
        if caches.contains_key(name) {
            return false;
        }
        caches.insert(name.to_owned(), Arc::new(Cache::new(self.limits)));
        true
    }

    /// Deletes `name` and ends its topics; false if it did not exist.
    pub fn delete_cache(&self, name: &str) -> bool {
        let deleted = self.caches.write().remove(name).is_some();
        if deleted {
            self.topics.remove_cache(name);
        }
        deleted
    }

    pub fn blocked(&self) -> bool {
        self.blocked.load(Ordering::Relaxed)
    }

    /// `/block` (true) or `/unblock` (false).
    pub fn set_blocked(&self, blocked: bool) {
        self.blocked.store(blocked, Ordering::Relaxed);
        self.blocked_changes.send_replace(blocked);
    }

    /// Follows the block switch (for streams that must end when it is set).
    pub fn watch_blocked(&self) -> watch::Receiver<bool> {
        self.blocked_changes.subscribe()
    }

    /// Cache names, sorted.
    pub fn cache_names(&self) -> Vec<String> {
        let mut names: Vec<_> = self.caches.read().keys().cloned().collect();
        names.sort();
        names
    }

    /// Every cache, for the purge task and `/stats`.
    pub fn caches(&self) -> Vec<(String, Arc<Cache>)> {
        self.caches
            .read()
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect()
    }
}
