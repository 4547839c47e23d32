//! The in-process tier: a bounded map that outlives one invocation, since a
//! warm Lambda container serves many batches.

use std::sync::Arc;
use std::time::Duration;

use model::LocationRecord;
use tokio::time::Instant;

/// What the container remembers about a key: its document, or that the table
/// does not have it (a negative entry, kept for a shorter time).
#[derive(Debug, Clone)]
pub struct L1Entry {
    pub document: Option<Arc<LocationRecord>>,
    expires: Instant,
}

/// Bounded (S3-FIFO eviction from `quick_cache`) with a TTL per entry.
pub struct L1 {
    entries: quick_cache::sync::Cache<String, L1Entry>,
    ttl: Duration,
    negative_ttl: Duration,
}

impl L1 {
    pub fn new(capacity: usize, ttl: Duration, negative_ttl: Duration) -> Self {
        Self {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            ttl,
            negative_ttl,
        }
    }

    /// The live entry for `key`; an expired one is dropped and reads as absent.
    pub fn get(&self, key: &str) -> Option<L1Entry> {
        let entry = self.entries.get(key)?;
        if entry.expires > Instant::now() {
            Some(entry)
        } else {
            self.entries.remove(key);
            None
        }
    }

    pub fn insert(&self, key: &str, document: Option<Arc<LocationRecord>>) {
        let ttl = if document.is_some() {
            self.ttl
        } else {
            self.negative_ttl
        };
        let entry = L1Entry {
            document,
            expires: Instant::now() + ttl,
        };
        self.entries.insert(key.to_owned(), entry);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_negative_ones_sooner() {
        let l1 = L1::new(10, Duration::from_secs(60), Duration::from_secs(5));
        l1.insert("Car", Some(Arc::new(LocationRecord::sample("Car"))));
        l1.insert("Nowhere", None);
        assert!(l1.get("Car").unwrap().document.is_some());
        assert!(l1.get("Nowhere").unwrap().document.is_none());

        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(l1.get("Nowhere").is_none());
        assert!(l1.get("Car").is_some());

        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(l1.get("Car").is_none());
        assert_eq!(l1.len(), 0, "expired entries are dropped on read");
    }

    #[test]
    fn stays_within_capacity() {
        let l1 = L1::new(100, Duration::from_secs(60), Duration::from_secs(5));
        for i in 0..1_000 {
            l1.insert(&format!("key-{i}"), None);
        }
        assert!(l1.len() <= 100, "{} entries", l1.len());
    }
}
