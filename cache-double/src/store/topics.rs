//! The topic model: per cache and topic name, a log of published values
//! numbered from 1 within a page, the last [`HISTORY`] of them kept for
//! subscribers that resume or fall behind, and what such a subscriber gets
//! when the log no longer holds what it missed (a discontinuity). The gRPC
//! stream around it (heartbeats, faults, the block switch) is the topics
//! service's.
//!
//! A topic's page is chosen when it is first used, so a cache deleted and
//! created again starts new pages; deleting a cache ends its topics.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::{broadcast, watch};

/// Messages a topic keeps for resuming and for subscribers that fall behind.
pub const HISTORY: usize = 4096;
/// Momento's limit on one published value (4 KB).
pub const MAX_PAYLOAD: usize = 4 * 1024;

/// A published value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicValue {
    Text(String),
    Binary(Vec<u8>),
}

impl TopicValue {
    pub fn len(&self) -> usize {
        match self {
            TopicValue::Text(text) => text.len(),
            TopicValue::Binary(binary) => binary.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A value as the log numbered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub sequence: u64,
    pub page: u64,
    pub value: TopicValue,
}

/// What a subscriber is sent from the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Message(Arc<Published>),
    /// The messages after `last` up to `new` are gone (or the topic started
    /// a new page): delivery goes on at `new` in `page`.
    Discontinuity {
        last: u64,
        new: u64,
        page: u64,
    },
}

/// Why a value was not published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    #[error("topic value of {size} bytes exceeds the {MAX_PAYLOAD}-byte limit")]
    TooLarge { size: usize },
}

/// Every topic of every cache.
#[derive(Default)]
pub struct Topics {
    topics: Mutex<HashMap<(String, String), Arc<Topic>>>,
    last_page: AtomicU64,
}

impl Topics {
    /// The topic `name` of `cache`, made on first use with a page of its own.
    pub fn topic(&self, cache: &str, name: &str) -> Arc<Topic> {
        let mut topics = self.topics.lock();
        topics
            .entry((cache.to_owned(), name.to_owned()))
            .or_insert_with(|| {
                // Pages only have to grow; a step keeps them visibly unlike sequence numbers.
                let page = self.last_page.fetch_add(1, Ordering::Relaxed) + 1;
                Arc::new(Topic::new(page * 1_000))
            })
            .clone()
    }

    /// Ends the topics of a deleted cache: their subscribers are told.
    pub fn remove_cache(&self, cache: &str) {
        self.topics.lock().retain(|(c, _), topic| {
            let keep = c != cache;
            if !keep {
                topic.deleted.send_replace(true);
            }
            keep
        });
    }
}

/// One topic: its log and its live broadcast.
pub struct Topic {
    page: u64,
    log: Mutex<Log>,
    live: broadcast::Sender<Arc<Published>>,
    deleted: watch::Sender<bool>,
}

struct Log {
    next: u64,
    history: VecDeque<Arc<Published>>,
}

/// A new subscription: what to send first, the live messages after it, and
/// the last sequence number the first part covers.
pub struct Subscription {
    pub first: Vec<Delivery>,
    pub live: broadcast::Receiver<Arc<Published>>,
    pub last_sent: u64,
}

impl Topic {
    fn new(page: u64) -> Self {
        Self {
            page,
            log: Mutex::new(Log {
                next: 1,
                history: VecDeque::new(),
            }),
            live: broadcast::channel(1024).0,
            deleted: watch::channel(false).0,
        }
    }

    pub fn page(&self) -> u64 {
        self.page
    }

    /// Follows whether the topic's cache was deleted.
    pub fn deleted(&self) -> watch::Receiver<bool> {
        self.deleted.subscribe()
    }

    /// Numbers, keeps and broadcasts one value (under the log's lock, so
    /// subscribers see sequence order); its sequence number.
    ///
    /// # Errors
    /// [`PublishError::TooLarge`] over Momento's 4 KB.
    pub fn publish(&self, value: TopicValue) -> Result<u64, PublishError> {
        if value.len() > MAX_PAYLOAD {
            return Err(PublishError::TooLarge { size: value.len() });
        }
        let mut log = self.log.lock();
        let published = Arc::new(Published {
            sequence: log.next,
            page: self.page,
            value,
        });
        log.next += 1;
        if log.history.len() == HISTORY {
            log.history.pop_front();
        }
        log.history.push_back(published.clone());
        let _ = self.live.send(published.clone());
        Ok(published.sequence)
    }

    /// A subscription resuming at `resume_at` (inclusive; 0: live only) of
    /// `page` (0: whichever). The catch-up and the live receiver are taken
    /// under one lock, so nothing published in between is lost or doubled.
    pub fn subscribe(&self, resume_at: u64, page: u64) -> Subscription {
        let log = self.log.lock();
        let live = self.live.subscribe();
        let mut first = Vec::new();
        let last_sent = if resume_at == 0 {
            log.next - 1
        } else if page != 0 && page != self.page {
            // The topic was reset since the subscriber's page: say so, start live.
            first.push(Delivery::Discontinuity {
                last: resume_at - 1,
                new: log.next,
                page: self.page,
            });
            log.next - 1
        } else {
            first.extend(self.catch_up_locked(&log, resume_at - 1));
            (log.next - 1).max(resume_at - 1)
        };
        Subscription {
            first,
            live,
            last_sent,
        }
    }

    /// What a subscriber that has everything up to `last_sent` missed: a
    /// discontinuity first when some of it is gone from the history.
    pub fn catch_up(&self, last_sent: u64) -> Vec<Delivery> {
        self.catch_up_locked(&self.log.lock(), last_sent)
    }

    fn catch_up_locked(&self, log: &Log, last_sent: u64) -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        let oldest = log.history.front().map_or(log.next, |m| m.sequence);
        if oldest > last_sent + 1 {
            deliveries.push(Delivery::Discontinuity {
                last: last_sent,
                new: oldest,
                page: self.page,
            });
        }
        deliveries.extend(
            log.history
                .iter()
                .filter(|m| m.sequence > last_sent)
                .map(|m| Delivery::Message(m.clone())),
        );
        deliveries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> TopicValue {
        TopicValue::Text(s.to_owned())
    }

    fn sequences(deliveries: &[Delivery]) -> Vec<u64> {
        deliveries
            .iter()
            .filter_map(|d| match d {
                Delivery::Message(m) => Some(m.sequence),
                Delivery::Discontinuity { .. } => None,
            })
            .collect()
    }

    #[test]
    fn values_are_numbered_from_one_and_resumed_inclusively() {
        let topics = Topics::default();
        let topic = topics.topic("c", "t");
        for i in 1..=5 {
            assert_eq!(topic.publish(text("x")), Ok(i));
        }
        let resumed = topic.subscribe(3, topic.page());
        assert_eq!(sequences(&resumed.first), [3, 4, 5]);
        assert_eq!(resumed.last_sent, 5);
        let live = topic.subscribe(0, 0);
        assert!(live.first.is_empty());
        assert_eq!(live.last_sent, 5);
    }

    #[test]
    fn what_the_history_lost_is_a_discontinuity() {
        let topic = Topics::default().topic("c", "t");
        for _ in 0..HISTORY + 10 {
            topic.publish(text("x")).unwrap();
        }
        let resumed = topic.catch_up(2);
        assert_eq!(
            resumed[0],
            Delivery::Discontinuity {
                last: 2,
                new: 11,
                page: topic.page()
            }
        );
        assert_eq!(sequences(&resumed).len(), HISTORY);
    }

    #[test]
    fn another_page_starts_live_after_a_discontinuity() {
        let topic = Topics::default().topic("c", "t");
        topic.publish(text("x")).unwrap();
        let other = topic.subscribe(7, topic.page() + 1);
        assert_eq!(
            other.first,
            [Delivery::Discontinuity {
                last: 6,
                new: 2,
                page: topic.page()
            }]
        );
        assert_eq!(other.last_sent, 1);
    }

    #[test]
    fn values_over_4_kb_are_refused_and_pages_grow() {
        let topics = Topics::default();
        let topic = topics.topic("c", "t");
        let big = TopicValue::Binary(vec![0; MAX_PAYLOAD + 1]);
        assert_eq!(
            topic.publish(big),
            Err(PublishError::TooLarge {
                size: MAX_PAYLOAD + 1
            })
        );
        assert_eq!(
            topic.publish(TopicValue::Binary(vec![0; MAX_PAYLOAD])),
            Ok(1)
        );
        topics.remove_cache("c");
        assert!(*topic.deleted().borrow());
        assert!(
            topics.topic("c", "t").page() > topic.page(),
            "a new page after deletion"
        );
    }
}
