//! Conformance, scalars, dictionaries, control plane, auth, limits and
//! faults: the real Momento SDK against the double, started in-process on an
//! ephemeral port. Where the SDK cannot express a request (momento-local's
//! fault headers, SetIfNotExists, deleting a whole dictionary), the generated
//! tonic client from `momento-protos` sends it, as any other Momento client
//! would. Lists, sets and sorted sets are in `collections.rs`, topics and
//! stream faults in `topics.rs`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{DoubleConfig, FaultConfig, Injected, Limits};
use momento::cache::{
    CollectionTtl, CreateCacheResponse, DecreaseTtlResponse, DictionaryFetchResponse,
    DictionaryGetFieldResponse, DictionaryIncrementRequest, DictionaryLengthResponse,
    DictionarySetFieldRequest, GetResponse, IncreaseTtlResponse, ItemGetTtlResponse,
    ItemGetTypeResponse, ItemType, SetIfAbsentOrEqualResponse, SetIfAbsentResponse,
    SetIfEqualResponse, SetIfNotEqualResponse, SetIfPresentAndNotEqualResponse,
    SetIfPresentResponse, SetRequest, UpdateTtlResponse,
};
use momento::MomentoErrorCode;
use momento_protos::cache_client as pb;
use momento_protos::control_client as ctl;

use common::*;

#[tokio::test]
async fn set_get_delete_round_trip() {
    let (_double, client) = setup().await;
    assert_eq!(get_string(&client, "k").await, None);
    client.set(CACHE, "k", "v1").await.unwrap();
    assert_eq!(get_string(&client, "k").await.as_deref(), Some("v1"));
    client.set(CACHE, "k", "v2").await.unwrap();
    assert_eq!(get_string(&client, "k").await.as_deref(), Some("v2"));
    client.delete(CACHE, "k").await.unwrap();
    assert_eq!(get_string(&client, "k").await, None);
    // Deleting what is not there is not an error.
    client.delete(CACHE, "k").await.unwrap();
}

#[tokio::test]
async fn batches_answer_per_key() {
    let (double, client) = setup().await;
    client
        .set_batch(CACHE, vec![("a", "1"), ("b", "2")])
        .await
        .unwrap();
    let found: HashMap<Vec<u8>, Vec<u8>> = client
        .get_batch(CACHE, vec!["a", "b", "missing"])
        .await
        .unwrap()
        .into();
    assert_eq!(found.len(), 2);
    assert_eq!(found[b"a".as_slice()], b"1");
    assert_eq!(found[b"b".as_slice()], b"2");
    let exists: Vec<bool> = client
        .keys_exist(CACHE, vec!["a", "nope", "b"])
        .await
        .unwrap()
        .into();
    assert_eq!(exists, [true, false, true]);
    let stats = double.stats();
    assert_eq!(stats.rpc("SetBatch").sets, 2);
    assert_eq!(
        (stats.rpc("GetBatch").hits, stats.rpc("GetBatch").misses),
        (2, 1)
    );
    assert_eq!(stats.rpc("Get").calls, 0);
}

#[tokio::test]
async fn set_if_conditions() {
    let (_double, client) = setup().await;
    assert_eq!(
        client.set_if_present(CACHE, "k", "x").await.unwrap(),
        SetIfPresentResponse::NotStored
    );
    assert_eq!(
        client.set_if_absent(CACHE, "k", "a").await.unwrap(),
        SetIfAbsentResponse::Stored
    );
    assert_eq!(
        client.set_if_absent(CACHE, "k", "b").await.unwrap(),
        SetIfAbsentResponse::NotStored
    );
    assert_eq!(
        client.set_if_present(CACHE, "k", "b").await.unwrap(),
        SetIfPresentResponse::Stored
    );
    assert_eq!(
        client.set_if_equal(CACHE, "k", "c", "zzz").await.unwrap(),
        SetIfEqualResponse::NotStored
    );
    assert_eq!(
        client.set_if_equal(CACHE, "k", "c", "b").await.unwrap(),
        SetIfEqualResponse::Stored
    );
    assert_eq!(
        client.set_if_not_equal(CACHE, "k", "d", "c").await.unwrap(),
        SetIfNotEqualResponse::NotStored
    );
    assert_eq!(
        client.set_if_not_equal(CACHE, "k", "d", "x").await.unwrap(),
        SetIfNotEqualResponse::Stored
    );
    assert_eq!(
        client
            .set_if_present_and_not_equal(CACHE, "k", "e", "d")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::NotStored
    );
    assert_eq!(
        client
            .set_if_present_and_not_equal(CACHE, "k", "e", "x")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::Stored
    );
    assert_eq!(
        client
            .set_if_absent_or_equal(CACHE, "k", "f", "x")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::NotStored
    );
    assert_eq!(
        client
            .set_if_absent_or_equal(CACHE, "k", "f", "e")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::Stored
    );
    assert_eq!(get_string(&client, "k").await.as_deref(), Some("f"));
    // Absent keys: NotEqual and AbsentOrEqual store, PresentAndNotEqual does not.
    assert_eq!(
        client
            .set_if_not_equal(CACHE, "n1", "v", "x")
            .await
            .unwrap(),
        SetIfNotEqualResponse::Stored
    );
    assert_eq!(
        client
            .set_if_absent_or_equal(CACHE, "n2", "v", "x")
            .await
            .unwrap(),
        SetIfAbsentOrEqualResponse::Stored
    );
    assert_eq!(
        client
            .set_if_present_and_not_equal(CACHE, "n3", "v", "x")
            .await
            .unwrap(),
        SetIfPresentAndNotEqualResponse::NotStored
    );
}

#[tokio::test]
#[allow(deprecated)] // Momento deprecated SetIfNotExists in favour of SetIf; clients may still send it
async fn set_if_not_exists_over_the_wire() {
    let (double, _client) = setup().await;
    let mut raw = raw(&double).await;
    let request = |body: &str| {
        raw_request(
            pb::SetIfNotExistsRequest {
                cache_key: b"k".to_vec(),
                cache_body: body.as_bytes().to_vec(),
                ttl_milliseconds: 60_000,
            },
            &[],
        )
    };
    use pb::set_if_not_exists_response::Result as R;
    let first = raw
        .set_if_not_exists(request("a"))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(first.result, Some(R::Stored(_))));
    let second = raw
        .set_if_not_exists(request("b"))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(second.result, Some(R::NotStored(_))));
}

#[tokio::test]
async fn increment_counts_and_rejects_non_integers() {
    let (_double, client) = setup().await;
    assert_eq!(client.increment(CACHE, "n", 5).await.unwrap().value, 5);
    assert_eq!(client.increment(CACHE, "n", -7).await.unwrap().value, -2);
    assert_eq!(get_string(&client, "n").await.as_deref(), Some("-2"));
    client.set(CACHE, "word", "hello").await.unwrap();
    assert_eq!(
        code(client.increment(CACHE, "word", 1).await),
        MomentoErrorCode::FailedPreconditionError
    );
    client
        .set(CACHE, "max", i64::MAX.to_string())
        .await
        .unwrap();
    assert_eq!(
        code(client.increment(CACHE, "max", 1).await),
        MomentoErrorCode::FailedPreconditionError
    );
}

#[tokio::test]
async fn ttls_expire_and_can_be_read_and_changed() {
    let (_double, client) = setup().await;
    client
        .send_request(SetRequest::new(CACHE, "short", "v").ttl(Duration::from_millis(150)))
        .await
        .unwrap();
    client
        .send_request(SetRequest::new(CACHE, "long", "v").ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    let ItemGetTtlResponse::Hit { remaining_ttl } =
        client.item_get_ttl(CACHE, "long").await.unwrap()
    else {
        panic!("long should be found");
    };
    assert!(remaining_ttl > Duration::from_secs(59) && remaining_ttl <= Duration::from_secs(60));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(
        get_string(&client, "short").await,
        None,
        "expired item is a miss"
    );
    assert_eq!(
        client.item_get_ttl(CACHE, "short").await.unwrap(),
        ItemGetTtlResponse::Miss
    );

    let ten = Duration::from_secs(10);
    assert_eq!(
        client.increase_ttl(CACHE, "long", ten).await.unwrap(),
        IncreaseTtlResponse::NotSet
    );
    assert_eq!(
        client.decrease_ttl(CACHE, "long", ten).await.unwrap(),
        DecreaseTtlResponse::Set
    );
    assert_eq!(
        client
            .decrease_ttl(CACHE, "long", Duration::from_secs(20))
            .await
            .unwrap(),
        DecreaseTtlResponse::NotSet
    );
    assert_eq!(
        client
            .increase_ttl(CACHE, "long", Duration::from_secs(30))
            .await
            .unwrap(),
        IncreaseTtlResponse::Set
    );
    assert_eq!(
        client
            .update_ttl(CACHE, "long", Duration::from_millis(100))
            .await
            .unwrap(),
        UpdateTtlResponse::Set
    );
    assert_eq!(
        client.update_ttl(CACHE, "absent", ten).await.unwrap(),
        UpdateTtlResponse::Miss
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        get_string(&client, "long").await,
        None,
        "overwritten TTL applies"
    );
}

#[tokio::test]
async fn item_types() {
    let (_double, client) = setup().await;
    client.set(CACHE, "s", "v").await.unwrap();
    client
        .dictionary_set_field(CACHE, "d", "f", "v")
        .await
        .unwrap();
    let kind = |r: ItemGetTypeResponse| match r {
        ItemGetTypeResponse::Hit { key_type } => Some(key_type),
        ItemGetTypeResponse::Miss => None,
    };
    assert_eq!(
        kind(client.item_get_type(CACHE, "s").await.unwrap()),
        Some(ItemType::Scalar)
    );
    assert_eq!(
        kind(client.item_get_type(CACHE, "d").await.unwrap()),
        Some(ItemType::Dictionary)
    );
    assert_eq!(
        kind(client.item_get_type(CACHE, "none").await.unwrap()),
        None
    );
    // Using one type as another is a failed precondition, as in Momento.
    assert_eq!(
        code(client.get(CACHE, "d").await),
        MomentoErrorCode::FailedPreconditionError
    );
    assert_eq!(
        code(client.dictionary_set_field(CACHE, "s", "f", "v").await),
        MomentoErrorCode::FailedPreconditionError
    );
}

#[tokio::test]
async fn dictionaries() {
    let (double, client) = setup().await;
    assert!(matches!(
        client.dictionary_fetch(CACHE, "d").await.unwrap(),
        DictionaryFetchResponse::Miss
    ));
    assert!(matches!(
        client.dictionary_length(CACHE, "d").await.unwrap(),
        DictionaryLengthResponse::Miss
    ));
    client
        .dictionary_set_fields(CACHE, "d", vec![("a", "1"), ("b", "2")])
        .await
        .unwrap();
    client
        .dictionary_set_field(CACHE, "d", "c", "3")
        .await
        .unwrap();
    let fetched: HashMap<String, String> = client
        .dictionary_fetch(CACHE, "d")
        .await
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(fetched.len(), 3);
    assert_eq!(fetched["b"], "2");
    let field = client.dictionary_get_field(CACHE, "d", "a").await.unwrap();
    assert!(
        matches!(&field, DictionaryGetFieldResponse::Hit { .. }),
        "{field:?}"
    );
    let field = client.dictionary_get_field(CACHE, "d", "zz").await.unwrap();
    assert!(
        matches!(field, DictionaryGetFieldResponse::Miss),
        "{field:?}"
    );
    let fields = client
        .dictionary_get_fields(CACHE, "d", vec!["a", "zz", "c"])
        .await
        .unwrap();
    let got: HashMap<String, String> = fields.try_into().unwrap();
    assert_eq!(
        got,
        HashMap::from([("a".into(), "1".into()), ("c".into(), "3".into())])
    );

    assert_eq!(
        client
            .dictionary_increment(CACHE, "d", "a", 10)
            .await
            .unwrap()
            .value,
        11
    );
    assert_eq!(
        client
            .dictionary_increment(CACHE, "d", "new", 2)
            .await
            .unwrap()
            .value,
        2
    );
    client
        .dictionary_set_field(CACHE, "d", "word", "x")
        .await
        .unwrap();
    assert_eq!(
        code(client.dictionary_increment(CACHE, "d", "word", 1).await),
        MomentoErrorCode::FailedPreconditionError
    );
    let DictionaryLengthResponse::Hit { length } =
        client.dictionary_length(CACHE, "d").await.unwrap()
    else {
        panic!("dictionary exists");
    };
    assert_eq!(length, 5);

    client
        .dictionary_remove_fields(CACHE, "d", vec!["a", "b", "c"])
        .await
        .unwrap();
    client
        .dictionary_remove_field(CACHE, "d", "new")
        .await
        .unwrap();
    let DictionaryLengthResponse::Hit { length } =
        client.dictionary_length(CACHE, "d").await.unwrap()
    else {
        panic!("dictionary exists");
    };
    assert_eq!(length, 1);
    client
        .dictionary_remove_field(CACHE, "d", "word")
        .await
        .unwrap();
    assert!(
        matches!(
            client.dictionary_length(CACHE, "d").await.unwrap(),
            DictionaryLengthResponse::Miss
        ),
        "a dictionary without fields no longer exists"
    );

    // Delete-all, which the SDK does not send.
    client
        .dictionary_set_field(CACHE, "d2", "f", "v")
        .await
        .unwrap();
    let mut raw = raw(&double).await;
    use pb::dictionary_delete_request::{All, Delete};
    raw.dictionary_delete(raw_request(
        pb::DictionaryDeleteRequest {
            dictionary_name: b"d2".to_vec(),
            delete: Some(Delete::All(All {})),
        },
        &[],
    ))
    .await
    .unwrap();
    assert!(matches!(
        client.dictionary_fetch(CACHE, "d2").await.unwrap(),
        DictionaryFetchResponse::Miss
    ));
}

#[tokio::test]
async fn collection_ttl_refresh_semantics() {
    let (_double, client) = setup().await;
    let ttl_of = |r: ItemGetTtlResponse| match r {
        ItemGetTtlResponse::Hit { remaining_ttl } => remaining_ttl,
        ItemGetTtlResponse::Miss => Duration::ZERO,
    };
    let short = Duration::from_secs(10);
    let long = Duration::from_secs(100);
    client
        .send_request(
            DictionarySetFieldRequest::new(CACHE, "d", "a", "1")
                .ttl(CollectionTtl::new(Some(short), true)),
        )
        .await
        .unwrap();
    assert!(ttl_of(client.item_get_ttl(CACHE, "d").await.unwrap()) <= short);
    // Without refresh, a write keeps the collection's deadline.
    client
        .send_request(
            DictionarySetFieldRequest::new(CACHE, "d", "b", "2")
                .ttl(CollectionTtl::new(Some(long), false)),
        )
        .await
        .unwrap();
    assert!(ttl_of(client.item_get_ttl(CACHE, "d").await.unwrap()) <= short);
    // With refresh, it takes the new TTL.
    client
        .send_request(
            DictionaryIncrementRequest::new(CACHE, "d", "n", 1)
                .ttl(CollectionTtl::new(Some(long), true)),
        )
        .await
        .unwrap();
    assert!(ttl_of(client.item_get_ttl(CACHE, "d").await.unwrap()) > short);
    // A new collection always gets the TTL it was written with, refresh or not.
    client
        .send_request(
            DictionarySetFieldRequest::new(CACHE, "e", "a", "1")
                .ttl(CollectionTtl::new(Some(short), false)),
        )
        .await
        .unwrap();
    let ttl = ttl_of(client.item_get_ttl(CACHE, "e").await.unwrap());
    assert!(ttl > Duration::from_secs(9) && ttl <= short, "{ttl:?}");
}

#[tokio::test]
async fn control_plane() {
    let (_double, client) = setup().await;
    assert_eq!(
        client.create_cache("other").await.unwrap(),
        CreateCacheResponse::Created
    );
    assert_eq!(
        client.create_cache("other").await.unwrap(),
        CreateCacheResponse::AlreadyExists
    );
    let names: Vec<String> = client
        .list_caches()
        .await
        .unwrap()
        .caches
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["conformance", "other"]);

    client.set("other", "k", "v").await.unwrap();
    client.flush_cache("other").await.unwrap();
    assert!(matches!(
        client.get("other", "k").await.unwrap(),
        GetResponse::Miss
    ));

    client.delete_cache("other").await.unwrap();
    assert_eq!(
        code(client.get("other", "k").await),
        MomentoErrorCode::CacheNotFoundError
    );
    assert_eq!(
        code(client.delete_cache("other").await),
        MomentoErrorCode::CacheNotFoundError
    );
    assert_eq!(
        code(client.flush_cache("other").await),
        MomentoErrorCode::CacheNotFoundError
    );
}

#[tokio::test]
async fn invalid_arguments() {
    let limits = Limits {
        max_item_bytes: 1024,
        ..Limits::default()
    };
    let double = start(DoubleConfig {
        limits,
        ..Default::default()
    })
    .await;
    let client = client_with_key(&double, SECRET);
    assert_eq!(
        code(client.set(CACHE, "", "v").await),
        MomentoErrorCode::InvalidArgumentError
    );
    assert_eq!(
        code(client.get(CACHE, "").await),
        MomentoErrorCode::InvalidArgumentError
    );
    assert_eq!(
        code(
            client
                .send_request(SetRequest::new(CACHE, "k", "v").ttl(Duration::ZERO))
                .await
        ),
        MomentoErrorCode::InvalidArgumentError
    );
    // Momento answers an oversize item with RESOURCE_EXHAUSTED (`item_size_limit_exceeded`).
    let err = client.set(CACHE, "k", vec![b'x'; 2048]).await.unwrap_err();
    assert_eq!(err.error_code, MomentoErrorCode::LimitExceededError);
    assert!(matches!(
        client.get(CACHE, "k").await.unwrap(),
        GetResponse::Miss
    ));
    assert_eq!(
        code(client.get("no-such-cache", "k").await),
        MomentoErrorCode::CacheNotFoundError
    );
}

#[tokio::test]
async fn unimplemented_rpcs_name_themselves() {
    // Signing keys and vector indexes are the only RPCs the double lacks.
    let double = start(DoubleConfig::default()).await;
    let mut control = ctl::scs_control_client::ScsControlClient::connect(double.endpoint())
        .await
        .unwrap();
    let status = control
        .list_signing_keys(ctl::ListSigningKeysRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert!(status.message().contains("ListSigningKeys"), "{status:?}");
}

#[tokio::test]
async fn auth_accepts_the_key_and_rejects_others() {
    let faults = FaultConfig {
        api_key: Some(SECRET.into()),
        ..Default::default()
    };
    let double = start(DoubleConfig {
        faults,
        ..Default::default()
    })
    .await;
    let good = client_with_key(&double, SECRET);
    good.set(CACHE, "k", "v").await.unwrap();
    assert_eq!(get_string(&good, "k").await.as_deref(), Some("v"));
    good.list_caches().await.unwrap();

    let bad = client_with_key(&double, "wrong-key");
    let err = bad.get(CACHE, "k").await.unwrap_err();
    assert_eq!(err.error_code, MomentoErrorCode::AuthenticationError);
    assert!(
        !format!("{err:?}").contains("wrong-key"),
        "the rejection must not echo the key"
    );
    assert_eq!(
        code(bad.list_caches().await),
        MomentoErrorCode::AuthenticationError
    );

    let mut raw = raw(&double).await;
    let status = raw.get(raw_get("k", &[])).await.unwrap_err();
    assert_eq!(
        status.code(),
        tonic::Code::Unauthenticated,
        "no authorization metadata"
    );
}

/// A key rotation through the admin API: the accepted keys change while the
/// double runs, and nothing echoes them.
#[tokio::test]
async fn the_accepted_keys_rotate_through_the_admin_api() {
    let double = start(DoubleConfig {
        faults: FaultConfig {
            api_key: Some("old-key".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let old = client_with_key(&double, "old-key");
    let new = client_with_key(&double, "new-key");
    old.set(CACHE, "k", "v").await.unwrap();
    assert_eq!(
        code(new.get(CACHE, "k").await),
        MomentoErrorCode::AuthenticationError
    );

    let http = reqwest::Client::new();
    let keys = format!("{}/api-keys", double.admin_url());
    let post = |body: serde_json::Value| http.post(&keys).json(&body).send();
    // Both during the rotation, then the new one alone.
    let answer = post(serde_json::json!({"api_keys": ["old-key", "new-key"]}))
        .await
        .unwrap();
    assert!(answer.status().is_success());
    let text = answer.text().await.unwrap();
    assert!(
        !text.contains("old-key") && !text.contains("new-key"),
        "{text}"
    );
    assert_eq!(get_string(&old, "k").await.as_deref(), Some("v"));
    assert_eq!(get_string(&new, "k").await.as_deref(), Some("v"));
    post(serde_json::json!({"api_keys": ["new-key"]}))
        .await
        .unwrap();
    assert_eq!(
        code(old.get(CACHE, "k").await),
        MomentoErrorCode::AuthenticationError
    );
    assert_eq!(get_string(&new, "k").await.as_deref(), Some("v"));

    let empty = post(serde_json::json!({"api_keys": []})).await.unwrap();
    assert_eq!(empty.status(), reqwest::StatusCode::BAD_REQUEST);
    post(serde_json::json!({"api_keys": null})).await.unwrap();
    assert_eq!(
        get_string(&old, "k").await.as_deref(),
        Some("v"),
        "any key now"
    );
    double.set_api_keys(Some(vec!["third".into()]));
    assert_eq!(
        code(new.get(CACHE, "k").await),
        MomentoErrorCode::AuthenticationError
    );
}

#[tokio::test]
async fn eviction_keeps_the_cache_within_its_bound() {
    let limits = Limits {
        max_items: 200,
        ..Limits::default()
    };
    let double = start(DoubleConfig {
        limits,
        ..Default::default()
    })
    .await;
    let client = client_with_key(&double, SECRET);
    for i in 0..1_000 {
        client.set(CACHE, format!("k{i}"), "value").await.unwrap();
    }
    let stats = double.stats();
    let cache = &stats.caches[CACHE];
    assert!(cache.items <= 200, "{} items", cache.items);
    assert!(cache.evictions >= 800);
    assert_eq!(
        get_string(&client, "k999").await.as_deref(),
        Some("value"),
        "newest item survives"
    );
}

#[tokio::test]
async fn header_driven_errors_follow_momento_local() {
    let (double, _client) = setup().await;
    let mut raw = raw(&double).await;
    let headers = [
        ("request-id", "session-1"),
        ("return-error", "unavailable"),
        ("error-rpcs", "get set"),
        ("error-count", "2"),
    ];
    for _ in 0..2 {
        let status = raw.get(raw_get("k", &headers)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }
    // The count is spent for this request-id; another session starts over.
    raw.get(raw_get("k", &headers))
        .await
        .expect("third call passes");
    let other = [
        ("request-id", "session-2"),
        ("return-error", "internal"),
        ("error-rpcs", "get"),
    ];
    assert_eq!(
        raw.get(raw_get("k", &other)).await.unwrap_err().code(),
        tonic::Code::Internal
    );
    assert_eq!(
        raw.get(raw_get("k", &other)).await.unwrap_err().code(),
        tonic::Code::Internal,
        "no count: always"
    );
    // RPCs not listed are untouched.
    let only_set = [
        ("request-id", "session-3"),
        ("return-error", "internal"),
        ("error-rpcs", "set"),
    ];
    raw.get(raw_get("k", &only_set))
        .await
        .expect("get is not listed");
    assert!(double.stats().rpc("Get").errors >= 4);
}

#[tokio::test]
async fn header_driven_delay() {
    let (double, _client) = setup().await;
    let mut raw = raw(&double).await;
    let headers = [
        ("request-id", "slow"),
        ("delay-rpcs", "get"),
        ("delay-ms", "300"),
        ("delay-count", "1"),
    ];
    let started = std::time::Instant::now();
    raw.get(raw_get("k", &headers)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = std::time::Instant::now();
    raw.get(raw_get("k", &headers)).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "delay-count spent"
    );
}

#[tokio::test]
async fn delay_beyond_the_client_deadline_fails_the_call() {
    let faults = FaultConfig {
        injected: Injected {
            latency: Duration::from_millis(300),
            ..Default::default()
        },
        ..Default::default()
    };
    let double = start(DoubleConfig {
        faults,
        ..Default::default()
    })
    .await;
    let mut settings =
        ClientSettings::new(Some(&double.endpoint()), ApiKey::new(local_api_key(SECRET)));
    settings.deadline = Duration::from_millis(50);
    let client = connect(&settings).unwrap();
    let err = client.get(CACHE, "k").await.unwrap_err();
    // tonic enforces the deadline on the client and reports it as cancelled.
    assert!(
        matches!(
            err.error_code,
            MomentoErrorCode::TimeoutError | MomentoErrorCode::CancelledError
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn process_wide_latency_and_error_rate() {
    let faults = FaultConfig {
        injected: Injected {
            latency: Duration::from_millis(20),
            ..Default::default()
        },
        ..Default::default()
    };
    let double = start(DoubleConfig {
        faults,
        ..Default::default()
    })
    .await;
    let client = client_with_key(&double, SECRET);
    let started = std::time::Instant::now();
    client.get(CACHE, "k").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(20));

    let faults = FaultConfig {
        injected: Injected {
            error_rate: 1.0,
            error_code: Some(tonic::Code::Internal),
            ..Default::default()
        },
        ..Default::default()
    };
    let double = start(DoubleConfig {
        faults,
        ..Default::default()
    })
    .await;
    let client = client_with_key(&double, SECRET);
    assert_eq!(
        code(client.get(CACHE, "k").await),
        MomentoErrorCode::InternalServerError
    );
    assert_eq!(double.stats().rpc("Get").errors, 1);
}

#[tokio::test]
async fn admin_block_unblock_health_and_stats() {
    let (double, client) = setup().await;
    let http = reqwest::Client::new();
    let admin = double.admin_url();
    let health = http.get(format!("{admin}/health")).send().await.unwrap();
    assert!(health.status().is_success());

    client.set(CACHE, "k", "v").await.unwrap();
    assert_eq!(
        http.post(format!("{admin}/block"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        code(client.get(CACHE, "k").await),
        MomentoErrorCode::ServerUnavailable
    );
    assert_eq!(
        http.post(format!("{admin}/unblock"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(get_string(&client, "k").await.as_deref(), Some("v"));
    get_string(&client, "absent").await;

    let stats: serde_json::Value = http
        .get(format!("{admin}/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["rpcs"]["Get"]["calls"], 3);
    assert_eq!(stats["rpcs"]["Get"]["hits"], 1);
    assert_eq!(stats["rpcs"]["Get"]["misses"], 1);
    assert_eq!(stats["rpcs"]["Get"]["errors"], 1);
    assert_eq!(stats["rpcs"]["Set"]["sets"], 1);
    assert_eq!(stats["caches"][CACHE]["items"], 1);
    assert_eq!(stats["blocked"], false);
}

#[tokio::test]
async fn admin_faults_change_latency_and_error_rate_while_running() {
    let (double, client) = setup().await;
    let http = reqwest::Client::new();
    let faults = format!("{}/faults", double.admin_url());
    let post = |body: serde_json::Value| http.post(&faults).json(&body).send();

    let reply = post(serde_json::json!({"error_rate": 1.0, "error_code": "internal"}))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    assert_eq!(
        code(client.get(CACHE, "k").await),
        MomentoErrorCode::InternalServerError
    );

    post(serde_json::json!({"error_rate": 0.0, "latency_ms": 30}))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    client.get(CACHE, "k").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(30));

    for bad in [
        serde_json::json!({"error_rate": 1.5}),
        serde_json::json!({"error_code": "sideways"}),
        serde_json::json!({"latency": 3}),
    ] {
        let reply = post(bad.clone()).await.unwrap();
        assert!(reply.status().is_client_error(), "{bad} was accepted");
    }
    post(serde_json::json!({"latency_ms": 0})).await.unwrap();
    let started = std::time::Instant::now();
    client.get(CACHE, "k").await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(30));
}
