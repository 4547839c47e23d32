//! Conformance, topics and streams: the SDK's TopicClient and the generated
//! Pubsub client against the double (ordering, sequence numbers, resume,
//! discontinuities, heartbeats, the cache's lifetime, `/block`), and
//! momento-local's mid-stream faults on Subscribe, GetBatch and SetBatch.

mod common;

use std::time::Duration;

use cache_double::store::topics::HISTORY;
use cache_double::DoubleConfig;
use futures::StreamExt;
use momento::topics::{SubscribeRequest, Subscription, SubscriptionValue, ValueKind};
use momento::MomentoErrorCode;
use momento_protos::cache_client as pb;
use momento_protos::cache_client::pubsub::{self as ps, pubsub_client::PubsubClient};
use tonic::transport::Channel;

use common::*;

const TOPIC: &str = "orders";
/// Long enough for any message on a loaded machine; a hang fails, not stalls.
const WAIT: Duration = Duration::from_secs(20);

async fn next_value(subscription: &mut Subscription) -> SubscriptionValue {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("a message in time")
        .expect("the subscription goes on")
}

fn text(value: &SubscriptionValue) -> &str {
    match &value.kind {
        ValueKind::Text(text) => text,
        ValueKind::Binary(_) => panic!("expected text"),
    }
}

async fn raw_pubsub(double: &cache_double::CacheDouble) -> PubsubClient<Channel> {
    PubsubClient::connect(double.endpoint())
        .await
        .expect("raw pubsub client connects")
}

fn subscription_request(
    resume: u64,
    page: u64,
    headers: &[(&'static str, &str)],
) -> tonic::Request<ps::SubscriptionRequest> {
    raw_request(
        ps::SubscriptionRequest {
            cache_name: CACHE.into(),
            topic: TOPIC.into(),
            resume_at_topic_sequence_number: resume,
            sequence_page: page,
        },
        headers,
    )
}

/// What a raw stream sent, in a form tests can compare.
#[derive(Debug, PartialEq)]
enum Seen {
    Heartbeat,
    Item(u64, String),
    Discontinuity { last: u64, new: u64 },
}

async fn next_raw(
    stream: &mut tonic::Streaming<ps::SubscriptionItem>,
) -> Result<Seen, tonic::Status> {
    use ps::subscription_item::Kind;
    let message = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("a message in time")?
        .expect("the stream goes on");
    Ok(match message.kind.expect("a kind") {
        Kind::Heartbeat(_) => Seen::Heartbeat,
        Kind::Item(item) => {
            let Some(ps::topic_value::Kind::Text(text)) = item.value.and_then(|v| v.kind) else {
                panic!("expected text");
            };
            Seen::Item(item.topic_sequence_number, text)
        }
        Kind::Discontinuity(d) => Seen::Discontinuity {
            last: d.last_topic_sequence,
            new: d.new_topic_sequence,
        },
    })
}

/// The next non-heartbeat message (heartbeats keep coming, so one deadline
/// for the whole wait).
async fn next_event(
    stream: &mut tonic::Streaming<ps::SubscriptionItem>,
) -> Result<Seen, tonic::Status> {
    let skip_heartbeats = async {
        loop {
            match next_raw(stream).await? {
                Seen::Heartbeat => continue,
                seen => return Ok(seen),
            }
        }
    };
    tokio::time::timeout(WAIT, skip_heartbeats)
        .await
        .expect("a message other than a heartbeat in time")
}

async fn publish_numbered(topics: &momento::TopicClient, range: std::ops::Range<usize>) {
    for i in range {
        topics.publish(CACHE, TOPIC, format!("m{i}")).await.unwrap();
    }
}

#[tokio::test]
async fn two_subscribers_receive_every_message_in_order() {
    let (double, _client) = setup().await;
    let topics = topic_client(&double);
    let mut first = topics.subscribe(CACHE, TOPIC).await.unwrap();
    let mut second = topics.subscribe(CACHE, TOPIC).await.unwrap();
    let publisher = {
        let topics = topics.clone();
        tokio::spawn(async move { publish_numbered(&topics, 0..1000).await })
    };
    for subscription in [&mut first, &mut second] {
        let mut page = None;
        for i in 0..1000u64 {
            let value = next_value(subscription).await;
            assert_eq!(text(&value), format!("m{i}"));
            assert_eq!(
                value.topic_sequence_number,
                i + 1,
                "numbered from 1, one by one"
            );
            assert_ne!(value.topic_sequence_page, 0);
            assert_eq!(
                *page.get_or_insert(value.topic_sequence_page),
                value.topic_sequence_page
            );
        }
    }
    publisher.await.unwrap();
    // A topic in another cache, or another topic, has its own numbering.
    topics.publish(CACHE, "other", "x").await.unwrap();
    let mut raw = raw_pubsub(&double).await;
    let mut other = raw
        .subscribe(raw_request(
            ps::SubscriptionRequest {
                cache_name: CACHE.into(),
                topic: "other".into(),
                resume_at_topic_sequence_number: 1,
                sequence_page: 0,
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        next_event(&mut other).await.unwrap(),
        Seen::Item(1, "x".into())
    );
}

#[tokio::test]
async fn a_subscriber_that_reconnects_with_its_last_sequence_number_misses_nothing() {
    let (double, _client) = setup().await;
    let topics = topic_client(&double);
    let mut subscription = topics.subscribe(CACHE, TOPIC).await.unwrap();
    publish_numbered(&topics, 0..400).await;
    let mut last = None;
    for _ in 0..400 {
        last = Some(next_value(&mut subscription).await);
    }
    let last = last.unwrap();
    drop(subscription);
    publish_numbered(&topics, 400..1000).await;

    // The protocol replays from the number given, inclusive: the next one,
    // as the JS and Java SDKs ask, gives exactly the rest.
    let mut resumed = topics
        .send_request(SubscribeRequest::new(
            CACHE,
            TOPIC,
            Some(last.topic_sequence_number + 1),
            Some(last.topic_sequence_page),
        ))
        .await
        .unwrap();
    for i in 400..1000u64 {
        let value = next_value(&mut resumed).await;
        assert_eq!(
            (text(&value), value.topic_sequence_number),
            (format!("m{i}").as_str(), i + 1)
        );
    }
    // The last one seen, as the Rust and Go SDKs ask, repeats it first.
    let mut again = topics
        .send_request(SubscribeRequest::new(
            CACHE,
            TOPIC,
            Some(last.topic_sequence_number),
            Some(last.topic_sequence_page),
        ))
        .await
        .unwrap();
    assert_eq!(next_value(&mut again).await.topic_sequence_number, 400);
    assert_eq!(next_value(&mut again).await.topic_sequence_number, 401);
}

#[tokio::test]
async fn resuming_past_the_history_or_on_another_page_is_a_discontinuity() {
    let (double, _client) = setup().await;
    let topics = topic_client(&double);
    let total = HISTORY + 10;
    publish_numbered(&topics, 0..total).await;
    let mut raw = raw_pubsub(&double).await;

    let mut from_one = raw
        .subscribe(subscription_request(1, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        next_raw(&mut from_one).await.unwrap(),
        Seen::Heartbeat,
        "opens with a heartbeat"
    );
    assert_eq!(
        next_raw(&mut from_one).await.unwrap(),
        Seen::Discontinuity { last: 0, new: 11 }
    );
    assert_eq!(
        next_raw(&mut from_one).await.unwrap(),
        Seen::Item(11, "m10".into())
    );

    // A page the topic never had: the topic was reset since, start live.
    let mut other_page = raw
        .subscribe(subscription_request(20, 1, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_raw(&mut other_page).await.unwrap(), Seen::Heartbeat);
    assert_eq!(
        next_raw(&mut other_page).await.unwrap(),
        Seen::Discontinuity {
            last: 19,
            new: total as u64 + 1
        }
    );
    topics.publish(CACHE, TOPIC, "live").await.unwrap();
    assert_eq!(
        next_event(&mut other_page).await.unwrap(),
        Seen::Item(total as u64 + 1, "live".into())
    );
}

#[tokio::test]
async fn idle_subscriptions_hear_heartbeats() {
    let (double, _client) = setup().await;
    let mut raw = raw_pubsub(&double).await;
    let mut stream = raw
        .subscribe(subscription_request(0, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..3 {
        assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);
    }
}

#[tokio::test]
async fn topics_need_an_existing_cache_and_a_small_value() {
    let (double, client) = setup().await;
    let topics = topic_client(&double);
    assert_eq!(
        topics
            .publish("no-such-cache", TOPIC, "x")
            .await
            .unwrap_err()
            .error_code,
        MomentoErrorCode::CacheNotFoundError
    );
    let Err(refused) = topics.subscribe("no-such-cache", TOPIC).await else {
        panic!("subscribing in a missing cache must fail");
    };
    assert_eq!(refused.error_code, MomentoErrorCode::CacheNotFoundError);
    // Publishing to a topic nobody listens to is fine.
    topics.publish(CACHE, "nobody", "x").await.unwrap();
    assert_eq!(
        topics
            .publish(CACHE, TOPIC, vec![0u8; 4097])
            .await
            .unwrap_err()
            .error_code,
        MomentoErrorCode::LimitExceededError
    );
    topics.publish(CACHE, TOPIC, vec![0u8; 4096]).await.unwrap();

    // Deleting the cache ends its subscriptions with NOT_FOUND.
    let mut raw = raw_pubsub(&double).await;
    let mut stream = raw
        .subscribe(subscription_request(0, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);
    client.delete_cache(CACHE).await.unwrap();
    let ended = next_event(&mut stream).await.unwrap_err();
    assert_eq!(ended.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn block_ends_subscriptions_until_unblock_whichever_way_it_is_asked() {
    let (double, _client) = setup().await;
    let admin = double.admin_url();
    let http = reqwest::Client::new();
    let mut raw = raw_pubsub(&double).await;
    let mut stream = raw
        .subscribe(subscription_request(0, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);

    // Go's test client asks for "//block"; Java requires a 200.
    let blocked = http.get(format!("{admin}//block")).send().await.unwrap();
    assert_eq!(blocked.status(), 200);
    assert!(double.stats().blocked);
    let ended = next_event(&mut stream).await.unwrap_err();
    assert_eq!(ended.code(), tonic::Code::Unavailable);
    let refused = raw
        .subscribe(subscription_request(0, 0, &[]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable);

    let unblocked = http.get(format!("{admin}/unblock")).send().await.unwrap();
    assert_eq!(unblocked.status(), 200);
    assert!(!double.stats().blocked);
    let mut stream = raw
        .subscribe(subscription_request(0, 0, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);
    // GET /block and POST /unblock work as well.
    assert_eq!(
        http.get(format!("{admin}/block"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(double.stats().blocked);
    assert_eq!(
        http.post(format!("{admin}//unblock"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(!double.stats().blocked);
}

#[tokio::test]
async fn a_subscribe_stream_fails_after_the_message_limit_every_time() {
    let (double, _client) = setup().await;
    let topics = topic_client(&double);
    publish_numbered(&topics, 0..5).await;
    let mut raw = raw_pubsub(&double).await;
    let headers = [
        ("stream-error-rpcs", "topic-subscribe"),
        ("stream-error", "unavailable"),
        ("stream-error-message-limit", "3"),
        ("request-id", "stream-fault-test"),
    ];
    // Heartbeats count: heartbeat, item 1, item 2, then the error. A client
    // that reconnects with the same headers meets it again.
    for resume in [1, 3] {
        let mut stream = raw
            .subscribe(subscription_request(resume, 0, &headers))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);
        for seq in resume..resume + 2 {
            assert_eq!(
                next_raw(&mut stream).await.unwrap(),
                Seen::Item(seq, format!("m{}", seq - 1))
            );
        }
        let status = next_raw(&mut stream).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(status.message().contains("topic-subscribe"), "{status:?}");
    }
    // Without the headers the stream goes on past that point.
    let mut other = raw
        .subscribe(subscription_request(1, 0, &headers[..0]))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..4 {
        next_raw(&mut other).await.unwrap();
    }
}

#[tokio::test]
async fn batch_streams_fail_after_the_message_limit() {
    let (double, client) = setup().await;
    for i in 0..5 {
        client.set(CACHE, format!("k{i}"), "v").await.unwrap();
    }
    let mut raw = raw(&double).await;
    let headers = [
        ("stream-error-rpcs", "get-batch set-batch"),
        ("stream-error", "internal"),
        ("stream-error-message-limit", "2"),
    ];
    let keys = pb::GetBatchRequest {
        items: (0..5)
            .map(|i| pb::GetRequest {
                cache_key: format!("k{i}").into_bytes(),
            })
            .collect(),
    };
    let mut gets = raw
        .get_batch(raw_request(keys.clone(), &headers))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..2 {
        let got = gets.message().await.unwrap().unwrap();
        assert_eq!(got.result, pb::ECacheResult::Hit as i32);
    }
    assert_eq!(
        gets.message().await.unwrap_err().code(),
        tonic::Code::Internal
    );

    let items = pb::SetBatchRequest {
        items: (0..4)
            .map(|i| pb::SetRequest {
                cache_key: format!("new{i}").into_bytes(),
                cache_body: b"v".to_vec(),
                ttl_milliseconds: 60_000,
            })
            .collect(),
    };
    let mut sets = raw
        .set_batch(raw_request(items, &headers))
        .await
        .unwrap()
        .into_inner();
    for _ in 0..2 {
        sets.message().await.unwrap().unwrap();
    }
    assert_eq!(
        sets.message().await.unwrap_err().code(),
        tonic::Code::Internal
    );

    // Without the headers the whole batch streams.
    let mut all = raw
        .get_batch(raw_request(keys, &[]))
        .await
        .unwrap()
        .into_inner();
    let mut answers = 0;
    while let Some(answer) = all.message().await.unwrap() {
        assert_eq!(answer.result, pb::ECacheResult::Hit as i32);
        answers += 1;
    }
    assert_eq!(answers, 5);
}

#[tokio::test]
async fn topic_rpcs_take_momento_local_error_and_delay_headers() {
    let double = start(DoubleConfig::default()).await;
    let mut raw = raw_pubsub(&double).await;
    let publish = |headers: &[(&'static str, &str)]| {
        raw_request(
            ps::PublishRequest {
                cache_name: CACHE.into(),
                topic: TOPIC.into(),
                value: Some(ps::TopicValue {
                    kind: Some(ps::topic_value::Kind::Text("x".into())),
                }),
            },
            headers,
        )
    };
    let failing = [
        ("return-error", "resource-exhausted"),
        ("error-rpcs", "topic-publish topic-subscribe"),
        ("error-count", "1"),
        ("request-id", "topic-errors"),
    ];
    let status = raw.publish(publish(&failing)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    raw.publish(publish(&failing)).await.unwrap();
    let refused = raw
        .subscribe(subscription_request(
            0,
            0,
            &[("request-id", "subscribe-errors"), failing[0], failing[1]],
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted);

    let delayed = [("delay-rpcs", "topic-subscribe"), ("delay-ms", "300")];
    let started = std::time::Instant::now();
    let mut stream = raw
        .subscribe(subscription_request(0, 0, &delayed))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next_raw(&mut stream).await.unwrap(), Seen::Heartbeat);
    assert!(started.elapsed() >= Duration::from_millis(300));
}
