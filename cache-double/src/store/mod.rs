//! The in-memory store: one [`Cache`] per cache name, each a set of shards
//! holding items with per-item expiry, bounded in bytes and items. What an
//! item holds is a [`Value`]: a scalar or one of the collections. Each
//! family has a module of its own with its structure and the typed
//! operations the RPCs make on a cache ([`scalar`], [`dictionary`], [`list`],
//! [`set`], [`sorted_set`]); the rules they share (TTLs, limits, wrong type,
//! emptied collections) are in [`rules`]; [`topics`] is the topic model.
//! Nothing here knows gRPC: an operation answers a value or a [`StoreError`].
//!
//! Expired items are invisible at once (every read checks the deadline) and
//! are removed by [`Cache::purge_expired`] (run periodically by the server)
//! or by eviction. Eviction is approximated LRU, as in Redis: sample a few
//! random items of a shard and drop the least recently used, preferring
//! expired ones. Shards are `IndexMap`s so a random item is one index away.

pub mod dictionary;
pub mod list;
pub mod rules;
pub mod scalar;
pub mod set;
pub mod size;
pub mod sorted_set;
pub mod topics;
pub mod value;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use indexmap::IndexMap;
use parking_lot::RwLock;
use rand::Rng;
use tokio::time::{Duration, Instant};

const SHARDS: usize = 16;
/// Items sampled per eviction (Redis uses 5 by default).
const EVICTION_SAMPLES: usize = 5;
/// Fixed bookkeeping cost charged per item on top of its key and value bytes.
const ITEM_OVERHEAD: usize = 64;

/// Memory bounds for one cache.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Evict once the cache holds more than this many bytes (keys + values + overhead).
    pub max_bytes: usize,
    /// Evict once the cache holds more than this many items.
    pub max_items: usize,
    /// Reject a single item (key plus value, or a whole collection) larger than this.
    pub max_item_bytes: usize,
    /// Reject a collection element larger than this (Momento: 128 KB).
    pub max_element_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_items: 1_000_000,
            max_item_bytes: 5 * 1024 * 1024,
            max_element_bytes: 128 * 1024,
        }
    }
}

pub use value::{ItemType, Value};

/// Why an operation on an item failed; the service maps these to gRPC codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("item is {size} bytes, more than the {max}-byte item size limit")]
    TooLarge { size: usize, max: usize },
    #[error("element is {size} bytes, more than the {max}-byte element size limit")]
    ElementTooLarge { size: usize, max: usize },
    #[error("item is not of the type this operation needs (found {found})")]
    WrongType { found: &'static str },
    #[error("value is not an integer that fits in 64 bits")]
    NotAnInteger,
    #[error("ttl must be positive")]
    ZeroTtl,
    /// A request Momento refuses as INVALID_ARGUMENT (an empty key, a TTL of 0, ...).
    #[error("{0}")]
    Invalid(&'static str),
    #[error("increment would overflow a 64-bit integer")]
    Overflow,
}

struct Item {
    value: Value,
    expires_at: Instant,
    /// Tick of the last read or write, for LRU-like eviction.
    last_used: AtomicU64,
    /// Bytes charged against the limit: key + value + [`ITEM_OVERHEAD`].
    charged: usize,
}

impl Item {
    fn live(&self, now: Instant) -> bool {
        self.expires_at > now
    }
}

#[derive(Default)]
struct Shard {
    items: IndexMap<Bytes, Item>,
}

/// One named cache.
pub struct Cache {
    shards: Box<[RwLock<Shard>]>,
    limits: Limits,
    bytes: AtomicUsize,
    items: AtomicUsize,
    ticks: AtomicU64,
    evictions: AtomicU64,
}

/// What a [`Cache::modify`] closure did with the item it was given.
#[derive(Debug)]
pub enum Effect {
    /// Nothing changed.
    Unchanged,
    /// The value was changed in place; `Some(ttl)` sets a new deadline.
    Changed(Option<Duration>),
    /// Store this value (creating the item, or replacing it); `Some(ttl)`
    /// sets a new deadline, `None` keeps the current one.
    Put(Value, Option<Duration>),
    /// Delete the item (a collection whose last element went).
    Removed,
}

/// What [`Cache::update`] does with an item.
#[derive(Debug)]
pub enum Change {
    /// Leave the item (or its absence) as it is.
    Keep,
    /// Store this value; `Some(ttl)` sets a new deadline, `None` keeps the
    /// item's current one.
    Put(Value, Option<Duration>),
    /// Delete the item.
    Remove,
}

/// A read of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Hit(T),
    Miss,
}

impl Cache {
    pub fn new(limits: Limits) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            limits,
            bytes: AtomicUsize::new(0),
            items: AtomicUsize::new(0),
            ticks: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Items currently stored (expired ones included until purged).
    pub fn len(&self) -> usize {
        self.items.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes currently charged against the limit.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Items evicted to respect the limits since the cache was created.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    fn shard(&self, key: &[u8]) -> &RwLock<Shard> {
        use std::hash::BuildHasher;
        // A fixed hasher: shard choice needs spread, not DoS resistance.
        static HASHER: std::sync::OnceLock<std::collections::hash_map::RandomState> =
            std::sync::OnceLock::new();
        let h = HASHER.get_or_init(Default::default).hash_one(key);
        &self.shards[(h as usize) % SHARDS]
    }

    fn tick(&self) -> u64 {
        self.ticks.fetch_add(1, Ordering::Relaxed)
    }

    /// Reads a live item through `f` without copying it out of the shard.
    pub fn read<T>(&self, key: &[u8], f: impl FnOnce(&Value) -> T) -> Lookup<T> {
        let now = Instant::now();
        let shard = self.shard(key).read();
        match shard.items.get(key) {
            Some(item) if item.live(now) => {
                item.last_used.store(self.tick(), Ordering::Relaxed);
                Lookup::Hit(f(&item.value))
            }
            _ => Lookup::Miss,
        }
    }

    /// Remaining time to live of a live item.
    pub fn ttl(&self, key: &[u8]) -> Option<Duration> {
        let now = Instant::now();
        let shard = self.shard(key).read();
        shard
            .items
            .get(key)
            .filter(|item| item.live(now))
            .map(|item| item.expires_at - now)
    }

    /// Stores `value` under `key` for `ttl`, replacing whatever was there.
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] when the item exceeds the item size limit.
    pub fn put(&self, key: Bytes, value: Value, ttl: Duration) -> Result<(), StoreError> {
        self.update(key, |_| Ok((Change::Put(value, Some(ttl)), ())))
    }

    /// Removes `key`; true if a live item was there.
    pub fn remove(&self, key: &[u8]) -> bool {
        let now = Instant::now();
        let removed = self.shard(key).write().items.swap_remove(key);
        match removed {
            Some(item) => {
                self.uncharge(item.charged);
                item.live(now)
            }
            None => false,
        }
    }

    /// Read-modify-write of a whole value: `f` sees the live item (`None`
    /// if absent or expired) with its remaining TTL, and says what to store
    /// and what to answer. For scalars and conditional writes.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`StoreError::TooLarge`] for a new value.
    pub fn update<T, F>(&self, key: Bytes, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(Option<(&Value, Duration)>) -> Result<(Change, T), StoreError>,
    {
        self.modify(key, |current| {
            let (change, answer) = f(current.map(|(value, ttl)| (&*value, ttl)))?;
            let effect = match change {
                Change::Keep => Effect::Unchanged,
                Change::Put(value, ttl) => Effect::Put(value, ttl),
                Change::Remove => Effect::Removed,
            };
            Ok((effect, answer))
        })
    }

    /// The primitive every write is built on, collections included: `f`
    /// gets the live item mutably (`None` if absent or expired) with its
    /// remaining TTL, may change it in place, and says what it did. A
    /// collection checks the size limits before it grows.
    ///
    /// # Errors
    /// Whatever `f` returns, or [`StoreError::TooLarge`] for a new value.
    pub fn modify<T, F>(&self, key: Bytes, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(Option<(&mut Value, Duration)>) -> Result<(Effect, T), StoreError>,
    {
        let now = Instant::now();
        let mut shard = self.shard(&key).write();
        let current = shard
            .items
            .get_mut(&key)
            .filter(|item| item.live(now))
            .map(|item| {
                let ttl = item.expires_at - now;
                (&mut item.value, ttl)
            });
        let (effect, answer) = f(current)?;
        match effect {
            Effect::Unchanged => Ok(answer),
            Effect::Removed => {
                let removed = shard.items.swap_remove(&key);
                drop(shard);
                if let Some(item) = removed {
                    self.uncharge(item.charged);
                }
                Ok(answer)
            }
            Effect::Changed(ttl) => {
                let item = shard.items.get_mut(&key).expect("changed in place");
                let charged = key.len() + item.value.size() + ITEM_OVERHEAD;
                let before = std::mem::replace(&mut item.charged, charged);
                if let Some(ttl) = ttl {
                    item.expires_at = now + ttl;
                }
                item.last_used.store(self.tick(), Ordering::Relaxed);
                drop(shard);
                if charged >= before {
                    self.bytes.fetch_add(charged - before, Ordering::Relaxed);
                    self.enforce_limits();
                } else {
                    self.bytes.fetch_sub(before - charged, Ordering::Relaxed);
                }
                Ok(answer)
            }
            Effect::Put(value, ttl) => {
                let size = key.len() + value.size();
                if size > self.limits.max_item_bytes {
                    return Err(StoreError::TooLarge {
                        size,
                        max: self.limits.max_item_bytes,
                    });
                }
                let old_deadline = shard
                    .items
                    .get(&key)
                    .filter(|item| item.live(now))
                    .map(|item| item.expires_at);
                let expires_at = match (ttl, old_deadline) {
                    (Some(ttl), _) => now + ttl,
                    (None, Some(deadline)) => deadline,
                    // Callers always give a TTL when they create an item; be safe anyway.
                    (None, None) => now + Duration::from_secs(86_400),
                };
                let charged = size + ITEM_OVERHEAD;
                let item = Item {
                    value,
                    expires_at,
                    last_used: AtomicU64::new(self.tick()),
                    charged,
                };
                let old = shard.items.insert(key, item);
                drop(shard);
                if let Some(old) = old {
                    self.uncharge(old.charged);
                }
                self.bytes.fetch_add(charged, Ordering::Relaxed);
                self.items.fetch_add(1, Ordering::Relaxed);
                self.enforce_limits();
                Ok(answer)
            }
        }
    }

    /// Live items and their bytes, by type (for `/stats`).
    pub fn by_type(&self) -> BTreeMap<ItemType, (usize, usize)> {
        let now = Instant::now();
        let mut counts: BTreeMap<ItemType, (usize, usize)> =
            ItemType::ALL.iter().map(|t| (*t, (0, 0))).collect();
        for shard in self.shards.iter() {
            for item in shard.read().items.values().filter(|i| i.live(now)) {
                let entry = counts.entry(item.value.item_type()).or_default();
                entry.0 += 1;
                entry.1 += item.charged;
            }
        }
        counts
    }

    /// Removes every item.
    pub fn flush(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.write();
            let freed: usize = shard.items.values().map(|i| i.charged).sum();
            let count = shard.items.len();
            shard.items.clear();
            drop(shard);
            self.bytes.fetch_sub(freed, Ordering::Relaxed);
            self.items.fetch_sub(count, Ordering::Relaxed);
        }
    }

    /// Removes expired items, sampling each shard as Redis' active expiry
    /// does: keep going while a quarter of a sample was expired.
    pub fn purge_expired(&self) -> usize {
        let mut purged = 0;
        for shard in self.shards.iter() {
            loop {
                let now = Instant::now();
                let mut shard = shard.write();
                let len = shard.items.len();
                if len == 0 {
                    break;
                }
                let sample = len.min(20);
                let mut expired = 0;
                let mut rng = rand::rng();
                for _ in 0..sample {
                    let len = shard.items.len();
                    if len == 0 {
                        break;
                    }
                    let i = rng.random_range(0..len);
                    if !shard.items[i].live(now) {
                        let (_, item) = shard.items.swap_remove_index(i).expect("index in range");
                        self.uncharge(item.charged);
                        expired += 1;
                    }
                }
                purged += expired;
                if expired * 4 <= sample {
                    break;
                }
            }
        }
        purged
    }

    fn uncharge(&self, charged: usize) {
        self.bytes.fetch_sub(charged, Ordering::Relaxed);
        self.items.fetch_sub(1, Ordering::Relaxed);
    }

    fn over_limit(&self) -> bool {
        self.bytes.load(Ordering::Relaxed) > self.limits.max_bytes
            || self.items.load(Ordering::Relaxed) > self.limits.max_items
    }

    /// Evicts until the cache is within its limits. Each victim is the least
    /// recently used (expired first) of [`EVICTION_SAMPLES`] items drawn from
    /// random shards, so the choice is cache-wide, not per shard. Samples are
    /// read under read locks; only the victim's shard is write-locked.
    fn enforce_limits(&self) {
        let mut rng = rand::rng();
        let mut fruitless = 0;
        while self.over_limit() && fruitless < 64 {
            let now = Instant::now();
            let mut victim: Option<((bool, u64), usize, Bytes)> = None;
            for _ in 0..EVICTION_SAMPLES {
                let index = rng.random_range(0..SHARDS);
                let shard = self.shards[index].read();
                if shard.items.is_empty() {
                    continue;
                }
                let (key, item) = shard
                    .items
                    .get_index(rng.random_range(0..shard.items.len()))
                    .expect("index in range");
                let rank = (item.live(now), item.last_used.load(Ordering::Relaxed));
                if victim.as_ref().is_none_or(|(best, ..)| rank < *best) {
                    victim = Some((rank, index, key.clone()));
                }
            }
            let removed = victim
                .and_then(|(_, index, key)| self.shards[index].write().items.swap_remove(&key));
            match removed {
                Some(item) => {
                    fruitless = 0;
                    self.uncharge(item.charged);
                    self.evictions.fetch_add(1, Ordering::Relaxed);
                }
                // Only empty shards sampled, or another writer got there first.
                None => fruitless += 1,
            }
        }
    }
}

/// A value stored by Increment or DictionaryIncrement: a base-10 `i64`.
///
/// # Errors
/// [`StoreError::NotAnInteger`] for anything else.
pub fn parse_integer(value: &[u8]) -> Result<i64, StoreError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(StoreError::NotAnInteger)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(s: &str) -> Value {
        Value::Scalar(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[tokio::test(start_paused = true)]
    async fn items_expire_at_their_own_deadline() {
        let cache = Cache::new(Limits::default());
        cache
            .put("a".into(), scalar("1"), Duration::from_millis(100))
            .unwrap();
        cache
            .put("b".into(), scalar("2"), Duration::from_millis(300))
            .unwrap();
        tokio::time::advance(Duration::from_millis(150)).await;
        assert_eq!(cache.read(b"a", Value::clone), Lookup::Miss);
        assert_eq!(cache.read(b"b", Value::clone), Lookup::Hit(scalar("2")));
        assert_eq!(cache.ttl(b"b"), Some(Duration::from_millis(150)));
        assert_eq!(cache.purge_expired(), 1);
        assert_eq!(cache.len(), 1);
    }

    #[tokio::test]
    async fn item_count_bound_evicts_least_recently_used() {
        let limits = Limits {
            max_items: 100,
            ..Limits::default()
        };
        let cache = Cache::new(limits);
        let ttl = Duration::from_secs(60);
        cache.put("hot".into(), scalar("x"), ttl).unwrap();
        for i in 0..1_000 {
            cache.put(format!("k{i}").into(), scalar("v"), ttl).unwrap();
            let _ = cache.read(b"hot", |_| ());
        }
        assert!(cache.len() <= 100, "{} items", cache.len());
        assert_eq!(cache.evictions(), 1_001 - cache.len() as u64);
        assert!(matches!(cache.read(b"hot", |_| ()), Lookup::Hit(())));
        assert!(matches!(cache.read(b"k999", |_| ()), Lookup::Hit(())));
    }

    #[tokio::test]
    async fn byte_bound_holds_and_accounting_balances() {
        let limits = Limits {
            max_bytes: 100_000,
            ..Limits::default()
        };
        let cache = Cache::new(limits);
        let value = "v".repeat(1_000);
        for i in 0..1_000 {
            cache
                .put(
                    format!("k{i}").into(),
                    scalar(&value),
                    Duration::from_secs(60),
                )
                .unwrap();
        }
        assert!(cache.bytes() <= 100_000);
        assert!(cache.len() > 50);
        for i in 0..1_000 {
            cache.remove(format!("k{i}").as_bytes());
        }
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }

    #[tokio::test]
    async fn oversize_item_is_refused_and_not_stored() {
        let limits = Limits {
            max_item_bytes: 10,
            ..Limits::default()
        };
        let cache = Cache::new(limits);
        let err = cache
            .put("k".into(), scalar("0123456789"), Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(err, StoreError::TooLarge { size: 11, max: 10 });
        assert!(cache.is_empty());
    }

    #[tokio::test]
    async fn collections_changed_in_place_keep_the_accounting_right() {
        let cache = Cache::new(Limits::default());
        let ttl = Duration::from_secs(60);
        cache
            .modify("l".into(), |current| {
                assert!(current.is_none());
                let mut list = list::List::default();
                list.push_back(vec!["a".into(), "b".into()], 0);
                Ok((Effect::Put(Value::List(list), Some(ttl)), ()))
            })
            .unwrap();
        let one = cache.bytes();
        cache
            .modify("l".into(), |current| {
                let Some((Value::List(list), _)) = current else {
                    panic!("a list")
                };
                list.push_back(vec!["c".into()], 0);
                Ok((Effect::Changed(None), ()))
            })
            .unwrap();
        assert_eq!(cache.bytes(), one + 1 + size::ELEMENT_OVERHEAD);
        assert_eq!(cache.by_type()[&ItemType::List].0, 1);
        cache
            .modify("l".into(), |_| Ok((Effect::Removed, ())))
            .unwrap();
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
    }
}
