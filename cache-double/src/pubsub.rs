//! Topics (`cache_client.pubsub.Pubsub`): Publish and the server-streaming
//! Subscribe, with Momento's sequence numbers, pages, heartbeats and resume.
//!
//! Each topic numbers its messages from 1 within a page, chosen when the
//! topic is first used (a cache deleted and created again starts new pages).
//! A topic keeps its last [`HISTORY`] messages, so a subscriber that resumes
//! at a sequence number (inclusive, as the protocol documents it) or falls
//! behind the live broadcast gets what it missed; when the history no longer
//! holds it, the subscriber gets a Discontinuity instead. Every stream opens
//! with a heartbeat (the Go and Python SDKs require it) and sends one each
//! [`HEARTBEAT`] while idle. Deleting the cache ends its subscriptions with
//! NOT_FOUND; `/block` ends every subscription with UNAVAILABLE.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream};
use momento_protos::cache_client::pubsub::{
    self as pb, pubsub_server::Pubsub, subscription_item::Kind,
};
use momento_protos::common::Empty;
use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::faults::StreamFault;
use crate::service::common::Reply;
use crate::state::Shared;

/// Messages a topic keeps for resuming and for subscribers that fall behind.
pub const HISTORY: usize = 4096;
/// How often an idle subscription hears a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(1);
/// Momento's limit on one published value (4 KB).
pub const MAX_PAYLOAD: usize = 4 * 1024;

/// Every topic of every cache.
#[derive(Default)]
pub struct Topics {
    topics: Mutex<HashMap<(String, String), Arc<Topic>>>,
    last_page: AtomicU64,
}

impl Topics {
    fn topic(&self, cache: &str, name: &str) -> Arc<Topic> {
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

    /// Ends the topics of a deleted cache: their subscribers get NOT_FOUND.
    pub fn remove_cache(&self, cache: &str) {
        self.topics.lock().retain(|(c, _), topic| {
            let keep = c != cache;
            if !keep {
                let _ = topic.deleted.send(true);
            }
            keep
        });
    }
}

struct Topic {
    page: u64,
    log: Mutex<Log>,
    live: broadcast::Sender<Arc<pb::TopicItem>>,
    deleted: watch::Sender<bool>,
}

struct Log {
    next: u64,
    history: VecDeque<Arc<pb::TopicItem>>,
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

    /// Numbers, keeps and broadcasts one value (under the log's lock, so
    /// subscribers see sequence order).
    fn publish(&self, value: pb::TopicValue) {
        let mut log = self.log.lock();
        let item = Arc::new(pb::TopicItem {
            topic_sequence_number: log.next,
            value: Some(value),
            publisher_id: String::new(),
            sequence_page: self.page,
        });
        log.next += 1;
        if log.history.len() == HISTORY {
            log.history.pop_front();
        }
        log.history.push_back(item.clone());
        let _ = self.live.send(item);
    }

    /// What a subscriber resuming after `last_sent` gets from the history:
    /// a Discontinuity first when some of it is gone.
    fn catch_up(log: &Log, page: u64, last_sent: u64) -> Vec<pb::SubscriptionItem> {
        let mut items = Vec::new();
        let oldest = log
            .history
            .front()
            .map_or(log.next, |i| i.topic_sequence_number);
        if oldest > last_sent + 1 {
            items.push(discontinuity(last_sent, oldest, page));
        }
        items.extend(
            log.history
                .iter()
                .filter(|i| i.topic_sequence_number > last_sent)
                .map(|i| item(i)),
        );
        items
    }
}

fn item(item: &pb::TopicItem) -> pb::SubscriptionItem {
    pb::SubscriptionItem {
        kind: Some(Kind::Item(item.clone())),
    }
}

fn heartbeat() -> pb::SubscriptionItem {
    pb::SubscriptionItem {
        kind: Some(Kind::Heartbeat(pb::Heartbeat {})),
    }
}

fn discontinuity(last: u64, new: u64, page: u64) -> pb::SubscriptionItem {
    pb::SubscriptionItem {
        kind: Some(Kind::Discontinuity(pb::Discontinuity {
            last_topic_sequence: last,
            new_topic_sequence: new,
            new_sequence_page: page,
        })),
    }
}

/// The topics service.
#[derive(Clone)]
pub struct TopicPlane {
    shared: Arc<Shared>,
}

impl TopicPlane {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

pub type SubscriptionStream =
    Pin<Box<dyn Stream<Item = Result<pb::SubscriptionItem, Status>> + Send>>;

fn check_topic(cache: &str, topic: &str) -> Result<(), Status> {
    if cache.trim().is_empty() {
        return Err(Status::invalid_argument("cache name must not be empty"));
    }
    if topic.trim().is_empty() {
        return Err(Status::invalid_argument("topic name must not be empty"));
    }
    Ok(())
}

fn payload_len(value: &pb::TopicValue) -> usize {
    match &value.kind {
        Some(pb::topic_value::Kind::Text(text)) => text.len(),
        Some(pb::topic_value::Kind::Binary(binary)) => binary.len(),
        None => 0,
    }
}

#[tonic::async_trait]
impl Pubsub for TopicPlane {
    async fn publish(&self, request: Request<pb::PublishRequest>) -> Reply<Empty> {
        let request = request.into_inner();
        check_topic(&request.cache_name, &request.topic)?;
        self.shared.cache(&request.cache_name)?;
        let value = request
            .value
            .filter(|v| v.kind.is_some())
            .ok_or_else(|| Status::invalid_argument("publish needs a text or binary value"))?;
        let size = payload_len(&value);
        if size > MAX_PAYLOAD {
            let mut status = Status::resource_exhausted(format!(
                "topic value of {size} bytes exceeds the {MAX_PAYLOAD}-byte limit"
            ));
            status.metadata_mut().insert(
                "err",
                tonic::metadata::MetadataValue::from_static("request_size_limit_exceeded"),
            );
            return Err(status);
        }
        self.shared
            .topics
            .topic(&request.cache_name, &request.topic)
            .publish(value);
        Ok(Response::new(Empty {}))
    }

    type SubscribeStream = SubscriptionStream;

    async fn subscribe(
        &self,
        request: Request<pb::SubscriptionRequest>,
    ) -> Reply<Self::SubscribeStream> {
        let fault = StreamFault::from_headers(request.metadata().as_ref(), "Subscribe");
        let request = request.into_inner();
        check_topic(&request.cache_name, &request.topic)?;
        // A missing cache fails the call itself, before any stream opens.
        self.shared.cache(&request.cache_name)?;
        let topic = self
            .shared
            .topics
            .topic(&request.cache_name, &request.topic);

        // Replay and the live receiver are taken under one lock, so nothing
        // published in between is lost or doubled.
        let (first, live, last_sent) = {
            let log = topic.log.lock();
            let live = topic.live.subscribe();
            let resume = request.resume_at_topic_sequence_number;
            let same_page = request.sequence_page == 0 || request.sequence_page == topic.page;
            let mut first = vec![heartbeat()];
            let last_sent = if resume == 0 {
                log.next - 1
            } else if !same_page {
                // The topic was reset since the client's page: say so, start live.
                first.push(discontinuity(resume - 1, log.next, topic.page));
                log.next - 1
            } else {
                first.extend(Topic::catch_up(&log, topic.page, resume - 1));
                (log.next - 1).max(resume - 1)
            };
            (first, live, last_sent)
        };

        let (tx, rx) = mpsc::channel(64);
        let subscriber = Subscriber {
            topic,
            live,
            blocked: self.shared.watch_blocked(),
            last_sent,
            tx,
        };
        tokio::spawn(subscriber.run(first));
        let stream = ReceiverStream::new(rx);
        Ok(Response::new(match fault {
            Some(fault) => fault.apply(stream),
            None => Box::pin(stream),
        }))
    }
}

/// One subscription's sender task.
struct Subscriber {
    topic: Arc<Topic>,
    live: broadcast::Receiver<Arc<pb::TopicItem>>,
    blocked: watch::Receiver<bool>,
    last_sent: u64,
    tx: mpsc::Sender<Result<pb::SubscriptionItem, Status>>,
}

impl Subscriber {
    async fn run(mut self, first: Vec<pb::SubscriptionItem>) {
        for message in first {
            if self.tx.send(Ok(message)).await.is_err() {
                return;
            }
        }
        let mut deleted = self.topic.deleted.subscribe();
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.reset();
        loop {
            let message = tokio::select! {
                received = self.live.recv() => match received {
                    Ok(item) if item.topic_sequence_number <= self.last_sent => continue,
                    Ok(item) => {
                        self.last_sent = item.topic_sequence_number;
                        Ok(self::item(&item))
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Fell behind the broadcast: refill from the history.
                        let missed = Topic::catch_up(&self.topic.log.lock(), self.topic.page, self.last_sent);
                        for message in missed {
                            if let Some(Kind::Item(i)) = &message.kind {
                                self.last_sent = i.topic_sequence_number;
                            }
                            if self.tx.send(Ok(message)).await.is_err() {
                                return;
                            }
                        }
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = beat.tick() => Ok(heartbeat()),
                _ = deleted.wait_for(|deleted| *deleted).map(drop) => {
                    Err(Status::not_found("the topic's cache was deleted"))
                }
                _ = self.blocked.wait_for(|blocked| *blocked).map(drop) => {
                    Err(Status::unavailable("the cache double is blocked (simulated outage)"))
                }
                () = self.tx.closed() => return,
            };
            let last = message.is_err();
            if self.tx.send(message).await.is_err() || last {
                return;
            }
            beat.reset();
        }
    }
}
