//! The topics service (`cache_client.pubsub.Pubsub`): Publish and the
//! server-streaming Subscribe over the topic model ([`crate::store::topics`]).
//!
//! Every stream opens with a heartbeat (the Go and Python SDKs require it)
//! and sends one each [`HEARTBEAT`] while idle. Deleting the cache ends its
//! subscriptions with NOT_FOUND; `/block` ends every subscription with
//! UNAVAILABLE.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, Stream};
use momento_protos::cache_client::pubsub::{
    self as pb, pubsub_server::Pubsub, subscription_item::Kind, topic_value,
};
use momento_protos::common::Empty;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::common::Reply;
use crate::faults::StreamFault;
use crate::state::rpc::Rpc;
use crate::state::Shared;
use crate::store::topics::{Delivery, PublishError, Published, Topic, TopicValue};

/// How often an idle subscription hears a heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(1);

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

fn item(published: &Published) -> pb::SubscriptionItem {
    let kind = match &published.value {
        TopicValue::Text(text) => topic_value::Kind::Text(text.clone()),
        TopicValue::Binary(binary) => topic_value::Kind::Binary(binary.clone()),
    };
    pb::SubscriptionItem {
        kind: Some(Kind::Item(pb::TopicItem {
            topic_sequence_number: published.sequence,
            value: Some(pb::TopicValue { kind: Some(kind) }),
            publisher_id: String::new(),
            sequence_page: published.page,
        })),
    }
}

fn heartbeat() -> pb::SubscriptionItem {
    pb::SubscriptionItem {
        kind: Some(Kind::Heartbeat(pb::Heartbeat {})),
    }
}

fn delivery(delivery: &Delivery) -> pb::SubscriptionItem {
    match delivery {
        Delivery::Message(published) => item(published),
        Delivery::Discontinuity { last, new, page } => pb::SubscriptionItem {
            kind: Some(Kind::Discontinuity(pb::Discontinuity {
                last_topic_sequence: *last,
                new_topic_sequence: *new,
                new_sequence_page: *page,
            })),
        },
    }
}

#[tonic::async_trait]
impl Pubsub for TopicPlane {
    async fn publish(&self, request: Request<pb::PublishRequest>) -> Reply<Empty> {
        let request = request.into_inner();
        check_topic(&request.cache_name, &request.topic)?;
        self.shared.cache(&request.cache_name)?;
        let value = match request.value.and_then(|v| v.kind) {
            Some(topic_value::Kind::Text(text)) => TopicValue::Text(text),
            Some(topic_value::Kind::Binary(binary)) => TopicValue::Binary(binary),
            None => {
                return Err(Status::invalid_argument(
                    "publish needs a text or binary value",
                ))
            }
        };
        let topic = self
            .shared
            .topics
            .topic(&request.cache_name, &request.topic);
        match topic.publish(value) {
            Ok(_) => Ok(Response::new(Empty {})),
            Err(error @ PublishError::TooLarge { .. }) => {
                let mut status = Status::resource_exhausted(error.to_string());
                status.metadata_mut().insert(
                    "err",
                    tonic::metadata::MetadataValue::from_static("request_size_limit_exceeded"),
                );
                Err(status)
            }
        }
    }

    type SubscribeStream = SubscriptionStream;

    async fn subscribe(
        &self,
        request: Request<pb::SubscriptionRequest>,
    ) -> Reply<Self::SubscribeStream> {
        let fault = StreamFault::from_headers(request.metadata().as_ref(), Rpc::Subscribe);
        let request = request.into_inner();
        check_topic(&request.cache_name, &request.topic)?;
        // A missing cache fails the call itself, before any stream opens.
        self.shared.cache(&request.cache_name)?;
        let topic = self
            .shared
            .topics
            .topic(&request.cache_name, &request.topic);
        let subscription = topic.subscribe(
            request.resume_at_topic_sequence_number,
            request.sequence_page,
        );
        let mut first = vec![heartbeat()];
        first.extend(subscription.first.iter().map(delivery));

        let (tx, rx) = mpsc::channel(64);
        let subscriber = Subscriber {
            topic,
            live: subscription.live,
            blocked: self.shared.watch_blocked(),
            last_sent: subscription.last_sent,
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
    live: broadcast::Receiver<Arc<Published>>,
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
        let mut deleted = self.topic.deleted();
        let mut beat = tokio::time::interval(HEARTBEAT);
        beat.reset();
        loop {
            let message = tokio::select! {
                received = self.live.recv() => match received {
                    Ok(published) if published.sequence <= self.last_sent => continue,
                    Ok(published) => {
                        self.last_sent = published.sequence;
                        Ok(item(&published))
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Fell behind the broadcast: refill from the history.
                        for missed in self.topic.catch_up(self.last_sent) {
                            if let Delivery::Message(published) = &missed {
                                self.last_sent = published.sequence;
                            }
                            if self.tx.send(Ok(delivery(&missed))).await.is_err() {
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
