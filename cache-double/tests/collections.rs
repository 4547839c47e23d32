//! Conformance, collections: lists, sets and sorted sets through the real
//! Momento SDK, asserting the results and errors Momento documents (slicing,
//! truncation, ordering, emptied collections disappearing, collection TTLs,
//! type errors, element limits). Where the Rust SDK has no method for an RPC
//! (SetContains, SetLength, SetPop, SetSample, ListErase, GetWithHash,
//! SetIfHash, a score-less SortedSetFetch) the generated client sends it.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use cache_double::{DoubleConfig, Limits};
use momento::cache::{
    CollectionTtl, ItemGetTtlResponse, ItemGetTypeResponse, ItemType, ListConcatenateBackRequest,
    ListConcatenateFrontRequest, ListFetchRequest, ListFetchResponse, ListLengthResponse,
    ListPopBackResponse, ListPopFrontResponse, ListPushBackRequest, ListPushFrontRequest,
    ListRetainRequest, ListRetainResponse, ScoreBound, SetAddElementsRequest, SetFetchResponse,
    SortedSetAggregateFunction, SortedSetElement, SortedSetFetchByScoreRequest,
    SortedSetFetchResponse, SortedSetGetRankRequest, SortedSetGetRankResponse,
    SortedSetGetScoreResponse, SortedSetLengthByScoreRequest, SortedSetLengthResponse,
    SortedSetOrder, SortedSetUnionStoreRequest, SortedSetUnionStoreSource,
};
use momento::MomentoErrorCode;
use momento_protos::cache_client as pb;
use momento_protos::common as pbc;

use common::*;

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

async fn list(client: &momento::CacheClient, name: &str) -> Option<Vec<String>> {
    match client.list_fetch(CACHE, name).await.unwrap() {
        ListFetchResponse::Hit { values } => Some(values.try_into().unwrap()),
        ListFetchResponse::Miss => None,
    }
}

async fn set_members(client: &momento::CacheClient, name: &str) -> Option<HashSet<String>> {
    match client.set_fetch(CACHE, name).await.unwrap() {
        SetFetchResponse::Hit { values } => {
            let members: Vec<String> = values.try_into().unwrap();
            Some(members.into_iter().collect())
        }
        SetFetchResponse::Miss => None,
    }
}

fn elements(response: SortedSetFetchResponse) -> Vec<(String, f64)> {
    response.try_into().expect("a hit")
}

fn names(response: SortedSetFetchResponse) -> Vec<String> {
    elements(response).into_iter().map(|(v, _)| v).collect()
}

#[tokio::test]
async fn lists_push_concatenate_truncate_and_pop() {
    let (_double, client) = setup().await;
    client
        .list_concatenate_back(CACHE, "l", ["1", "2", "3"])
        .await
        .unwrap();
    // Truncating the front after a concatenation at the back keeps the newest.
    client
        .send_request(
            ListConcatenateBackRequest::new(CACHE, "l", ["4", "5", "6"]).truncate_front_to_size(5),
        )
        .await
        .unwrap();
    assert_eq!(
        list(&client, "l").await,
        Some(strings(&["2", "3", "4", "5", "6"]))
    );
    // Values concatenated at the front keep their order.
    client
        .send_request(
            ListConcatenateFrontRequest::new(CACHE, "l", ["a", "b"]).truncate_back_to_size(4),
        )
        .await
        .unwrap();
    assert_eq!(
        list(&client, "l").await,
        Some(strings(&["a", "b", "2", "3"]))
    );
    client
        .send_request(ListPushFrontRequest::new(CACHE, "l", "front").truncate_back_to_size(2))
        .await
        .unwrap();
    client
        .send_request(ListPushBackRequest::new(CACHE, "l", "back").truncate_front_to_size(0))
        .await
        .unwrap();
    assert_eq!(
        list(&client, "l").await,
        Some(strings(&["front", "a", "back"]))
    );
    assert_eq!(
        client.list_length(CACHE, "l").await.unwrap(),
        ListLengthResponse::Hit { length: 3 }
    );

    assert_eq!(
        client.list_pop_front(CACHE, "l").await.unwrap(),
        ListPopFrontResponse::from("front")
    );
    assert_eq!(
        client.list_pop_back(CACHE, "l").await.unwrap(),
        ListPopBackResponse::from("back")
    );
    assert_eq!(
        client.list_pop_back(CACHE, "l").await.unwrap(),
        ListPopBackResponse::from("a")
    );
    // The emptied list is gone.
    assert_eq!(
        client.list_pop_front(CACHE, "l").await.unwrap(),
        ListPopFrontResponse::Miss
    );
    assert_eq!(
        client.list_length(CACHE, "l").await.unwrap(),
        ListLengthResponse::Miss
    );
    assert_eq!(list(&client, "l").await, None);

    // The wire answer carries the length after the pop.
    client
        .list_concatenate_back(CACHE, "m", ["x", "y"])
        .await
        .unwrap();
    let mut raw = raw(&_double).await;
    let popped = raw
        .list_pop_front(raw_request(
            pb::ListPopFrontRequest {
                list_name: b"m".to_vec(),
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        popped.list,
        Some(pb::list_pop_front_response::List::Found(
            pb::list_pop_front_response::Found {
                front: b"x".to_vec(),
                list_length: 1
            }
        ))
    );
}

#[tokio::test]
async fn lists_fetch_and_retain_slice_like_python() {
    let (_double, client) = setup().await;
    let digits: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    client
        .list_concatenate_back(CACHE, "l", digits.clone())
        .await
        .unwrap();
    let fetch = |start: Option<i32>, end: Option<i32>| {
        let client = client.clone();
        async move {
            let response = client
                .send_request(
                    ListFetchRequest::new(CACHE, "l")
                        .start_index(start)
                        .end_index(end),
                )
                .await
                .unwrap();
            Vec::<String>::try_from(response).unwrap()
        }
    };
    // The protocol's own examples over l = [0..9].
    let slice = |range: std::ops::Range<usize>| digits[range].to_vec();
    assert_eq!(fetch(Some(5), Some(0)).await, Vec::<String>::new());
    assert_eq!(fetch(Some(-5), None).await, slice(5..10));
    assert_eq!(fetch(Some(-5), Some(0)).await, Vec::<String>::new());
    assert_eq!(fetch(Some(2), Some(-6)).await, slice(2..4));
    assert_eq!(fetch(Some(-7), Some(-2)).await, slice(3..8));
    assert_eq!(fetch(Some(-2), Some(-6)).await, Vec::<String>::new());
    assert_eq!(fetch(Some(0), Some(0)).await, Vec::<String>::new());
    assert_eq!(fetch(Some(2), Some(4)).await, slice(2..4));
    assert_eq!(fetch(Some(-100), Some(100)).await, digits);

    let retained = client
        .send_request(
            ListRetainRequest::new(CACHE, "l")
                .start_index(1)
                .end_index(-1),
        )
        .await
        .unwrap();
    assert_eq!(retained, ListRetainResponse::Hit { length: 8 });
    assert_eq!(list(&client, "l").await, Some(slice(1..9)));
    // Retaining an empty slice removes the list.
    client
        .send_request(
            ListRetainRequest::new(CACHE, "l")
                .start_index(-2)
                .end_index(-6),
        )
        .await
        .unwrap();
    assert_eq!(list(&client, "l").await, None);
    assert_eq!(
        client
            .send_request(ListRetainRequest::new(CACHE, "l").start_index(0))
            .await
            .unwrap(),
        ListRetainResponse::Miss
    );
}

#[tokio::test]
async fn lists_remove_values_and_erase_ranges() {
    let (double, client) = setup().await;
    client
        .list_concatenate_back(CACHE, "l", ["a", "b", "a", "c", "a", "d", "e"])
        .await
        .unwrap();
    client.list_remove_value(CACHE, "l", "a").await.unwrap();
    assert_eq!(
        list(&client, "l").await,
        Some(strings(&["b", "c", "d", "e"]))
    );
    // Removing from a missing list is not an error.
    client
        .list_remove_value(CACHE, "nothing", "a")
        .await
        .unwrap();

    let mut raw = raw(&double).await;
    let erase = |erase| {
        raw_request(
            pb::ListEraseRequest {
                list_name: b"l".to_vec(),
                erase: Some(erase),
            },
            &[],
        )
    };
    let ranges = pb::list_erase_request::Erase::Some(pb::list_erase_request::ListRanges {
        ranges: vec![
            pb::ListRange {
                begin_index: 0,
                count: 1,
            },
            pb::ListRange {
                begin_index: 2,
                count: 1,
            },
        ],
    });
    let erased = raw.list_erase(erase(ranges)).await.unwrap().into_inner();
    assert_eq!(
        erased.list,
        Some(pb::list_erase_response::List::Found(
            pb::list_erase_response::Found { list_length: 2 }
        ))
    );
    assert_eq!(list(&client, "l").await, Some(strings(&["c", "e"])));
    let all = pb::list_erase_request::Erase::All(pb::list_erase_request::All {});
    raw.list_erase(erase(all.clone())).await.unwrap();
    assert_eq!(list(&client, "l").await, None);
    let missing = raw.list_erase(erase(all)).await.unwrap().into_inner();
    assert!(matches!(
        missing.list,
        Some(pb::list_erase_response::List::Missing(_))
    ));
}

#[tokio::test]
async fn sets_add_remove_fetch_and_disappear_when_emptied() {
    let (_double, client) = setup().await;
    client
        .set_add_elements(CACHE, "s", ["a", "b", "b", "c"])
        .await
        .unwrap();
    assert_eq!(
        set_members(&client, "s").await,
        Some(["a", "b", "c"].iter().map(|s| s.to_string()).collect())
    );
    client
        .set_remove_elements(CACHE, "s", vec!["a", "absent"])
        .await
        .unwrap();
    assert_eq!(
        set_members(&client, "s").await,
        Some(["b", "c"].iter().map(|s| s.to_string()).collect())
    );
    client
        .set_remove_elements(CACHE, "s", vec!["b", "c"])
        .await
        .unwrap();
    assert_eq!(set_members(&client, "s").await, None);
    client
        .set_remove_elements(CACHE, "never", vec!["x"])
        .await
        .unwrap();
}

#[tokio::test]
async fn sets_contain_count_pop_and_sample_over_the_wire() {
    let (double, client) = setup().await;
    client
        .set_add_elements(CACHE, "s", ["1", "2", "3", "4", "5"])
        .await
        .unwrap();
    let mut raw = raw(&double).await;
    let name = || b"s".to_vec();

    let contains = raw
        .set_contains(raw_request(
            pb::SetContainsRequest {
                set_name: name(),
                elements: vec![b"1".to_vec(), b"9".to_vec(), b"5".to_vec()],
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        contains.set,
        Some(pb::set_contains_response::Set::Found(
            pb::set_contains_response::Found {
                contains: vec![true, false, true]
            }
        ))
    );
    let length = raw
        .set_length(raw_request(pb::SetLengthRequest { set_name: name() }, &[]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        length.set,
        Some(pb::set_length_response::Set::Found(
            pb::set_length_response::Found { length: 5 }
        ))
    );

    // Samples are distinct members, at most the set's size, and leave it whole.
    for (limit, expected) in [(0, 0), (3, 3), (5, 5), (10, 5)] {
        let sample = raw
            .set_sample(raw_request(
                pb::SetSampleRequest {
                    set_name: name(),
                    limit,
                },
                &[],
            ))
            .await
            .unwrap()
            .into_inner();
        let Some(pb::set_sample_response::Set::Found(found)) = sample.set else {
            panic!("sample of an existing set: {sample:?}");
        };
        let distinct: HashSet<_> = found.elements.iter().collect();
        assert_eq!((found.elements.len(), distinct.len()), (expected, expected));
    }

    let pop = |count| {
        raw_request(
            pb::SetPopRequest {
                set_name: name(),
                count,
            },
            &[],
        )
    };
    let popped = raw.set_pop(pop(2)).await.unwrap().into_inner();
    let Some(pb::set_pop_response::Set::Found(found)) = popped.set else {
        panic!("pop of an existing set: {popped:?}");
    };
    assert_eq!(found.elements.len(), 2);
    let left = set_members(&client, "s").await.unwrap();
    assert_eq!(left.len(), 3);
    for element in &found.elements {
        assert!(!left.contains(std::str::from_utf8(element).unwrap()));
    }
    // Popping more than there is takes everything and removes the set.
    let rest = raw.set_pop(pop(10)).await.unwrap().into_inner();
    assert!(matches!(rest.set, Some(pb::set_pop_response::Set::Found(f)) if f.elements.len() == 3));
    let gone = raw.set_pop(pop(1)).await.unwrap().into_inner();
    assert!(matches!(
        gone.set,
        Some(pb::set_pop_response::Set::Missing(_))
    ));
    let sample = raw
        .set_sample(raw_request(
            pb::SetSampleRequest {
                set_name: name(),
                limit: 1,
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        sample.set,
        Some(pb::set_sample_response::Set::Missing(_))
    ));
}

async fn put_peppers(client: &momento::CacheClient) {
    client
        .sorted_set_put_elements(
            CACHE,
            "z",
            vec![
                ("bam", 1000.0),
                ("habanero", 68.0),
                ("jalapeno", 1.0),
                ("poblano", 100.0),
                ("serrano", 25.0),
                ("ghost", 100000.0),
            ],
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn sorted_sets_order_by_score_then_value_and_fetch_by_rank() {
    let (_double, client) = setup().await;
    put_peppers(&client).await;
    let by_rank = |order, start, end| {
        let client = client.clone();
        async move {
            names(
                client
                    .sorted_set_fetch_by_rank(CACHE, "z", order, start, end)
                    .await
                    .unwrap(),
            )
        }
    };
    let ascending = ["jalapeno", "serrano", "habanero", "poblano", "bam", "ghost"];
    assert_eq!(
        by_rank(SortedSetOrder::Ascending, None, None).await,
        strings(&ascending)
    );
    let descending: Vec<&str> = ascending.iter().rev().copied().collect();
    assert_eq!(
        by_rank(SortedSetOrder::Descending, None, None).await,
        strings(&descending)
    );
    assert_eq!(
        by_rank(SortedSetOrder::Ascending, Some(-5), Some(-2)).await,
        strings(&["serrano", "habanero", "poblano"])
    );
    assert_eq!(
        by_rank(SortedSetOrder::Descending, Some(1), Some(3)).await,
        strings(&["bam", "poblano"])
    );
    // A start past the end is an empty hit, not a miss.
    assert_eq!(
        by_rank(SortedSetOrder::Ascending, Some(10), None).await,
        Vec::<String>::new()
    );
    // Equal scores order by value.
    client
        .sorted_set_put_elements(CACHE, "ties", vec![("b", 1.0), ("c", 1.0), ("a", 1.0)])
        .await
        .unwrap();
    assert_eq!(
        names(
            client
                .sorted_set_fetch_by_rank(CACHE, "ties", SortedSetOrder::Ascending, None, None)
                .await
                .unwrap()
        ),
        strings(&["a", "b", "c"])
    );
    assert_eq!(
        client
            .sorted_set_fetch_by_rank(CACHE, "absent", SortedSetOrder::Ascending, None, None)
            .await
            .unwrap(),
        SortedSetFetchResponse::Miss
    );

    let rank = |value: &'static str, order| {
        let client = client.clone();
        async move {
            client
                .send_request(SortedSetGetRankRequest::new(CACHE, "z", value).order(order))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        rank("jalapeno", SortedSetOrder::Ascending).await,
        SortedSetGetRankResponse::Hit { rank: 0 }
    );
    assert_eq!(
        rank("jalapeno", SortedSetOrder::Descending).await,
        SortedSetGetRankResponse::Hit { rank: 5 }
    );
    assert_eq!(
        rank("carolina", SortedSetOrder::Ascending).await,
        SortedSetGetRankResponse::Miss
    );
}

#[tokio::test]
async fn sorted_sets_fetch_and_count_by_score() {
    let (double, client) = setup().await;
    put_peppers(&client).await;
    let fetched = client
        .send_request(
            SortedSetFetchByScoreRequest::new(CACHE, "z")
                .min_score(ScoreBound::Inclusive(20.0))
                .max_score(ScoreBound::Inclusive(100000.0))
                .order(SortedSetOrder::Descending)
                .offset(2)
                .count(2),
        )
        .await
        .unwrap();
    assert_eq!(
        elements(fetched),
        vec![
            ("poblano".to_string(), 100.0),
            ("habanero".to_string(), 68.0)
        ]
    );
    let exclusive = client
        .send_request(
            SortedSetFetchByScoreRequest::new(CACHE, "z")
                .min_score(ScoreBound::Exclusive(25.0))
                .max_score(ScoreBound::Exclusive(1000.0)),
        )
        .await
        .unwrap();
    assert_eq!(names(exclusive), strings(&["habanero", "poblano"]));

    let length_by_score = |min, max| {
        let client = client.clone();
        async move {
            u32::try_from(
                client
                    .send_request(
                        SortedSetLengthByScoreRequest::new(CACHE, "z")
                            .min_score(min)
                            .max_score(max),
                    )
                    .await
                    .unwrap(),
            )
            .unwrap()
        }
    };
    assert_eq!(
        length_by_score(
            Some(ScoreBound::Inclusive(25.0)),
            Some(ScoreBound::Inclusive(100.0))
        )
        .await,
        3
    );
    assert_eq!(
        length_by_score(
            Some(ScoreBound::Exclusive(25.0)),
            Some(ScoreBound::Exclusive(100.0))
        )
        .await,
        1
    );
    assert_eq!(length_by_score(None, None).await, 6);
    assert_eq!(
        client.sorted_set_length(CACHE, "z").await.unwrap(),
        SortedSetLengthResponse::Hit { length: 6 }
    );

    // Without scores, as other SDKs ask for them.
    let mut raw = raw(&double).await;
    let values_only = raw
        .sorted_set_fetch(raw_request(
            pb::SortedSetFetchRequest {
                set_name: b"z".to_vec(),
                order: pb::sorted_set_fetch_request::Order::Ascending as i32,
                with_scores: false,
                range: Some(pb::sorted_set_fetch_request::Range::ByIndex(
                    pb::sorted_set_fetch_request::ByIndex {
                        start: Some(
                            pb::sorted_set_fetch_request::by_index::Start::InclusiveStartIndex(0),
                        ),
                        end: Some(
                            pb::sorted_set_fetch_request::by_index::End::ExclusiveEndIndex(2),
                        ),
                    },
                )),
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    use pb::sorted_set_fetch_response::{found::Elements, SortedSet};
    let Some(SortedSet::Found(found)) = values_only.sorted_set else {
        panic!("{values_only:?}");
    };
    assert_eq!(
        found.elements,
        Some(Elements::Values(
            pb::sorted_set_fetch_response::found::Values {
                values: vec![b"jalapeno".to_vec(), b"serrano".to_vec()]
            }
        ))
    );
}

#[tokio::test]
async fn sorted_sets_scores_increments_removal_and_union_store() {
    let (_double, client) = setup().await;
    client
        .sorted_set_put_elements(CACHE, "set3", vec![("foo", 1.0), ("bar", 3.0)])
        .await
        .unwrap();
    client
        .sorted_set_put_elements(CACHE, "set4", vec![("abc", 2.0), ("bar", 2.0)])
        .await
        .unwrap();
    assert_eq!(
        client
            .sorted_set_get_score(CACHE, "set3", "bar")
            .await
            .unwrap(),
        SortedSetGetScoreResponse::Hit { score: 3.0 }
    );
    assert_eq!(
        client
            .sorted_set_get_score(CACHE, "set3", "nope")
            .await
            .unwrap(),
        SortedSetGetScoreResponse::Miss
    );
    let scores: Vec<SortedSetElement<String>> = client
        .sorted_set_get_scores(CACHE, "set3", vec!["foo", "absent", "bar"])
        .await
        .unwrap()
        .try_into()
        .unwrap();
    let scores: Vec<(String, f64)> = scores.into_iter().map(|e| (e.value, e.score)).collect();
    assert_eq!(scores, vec![("foo".into(), 1.0), ("bar".into(), 3.0)]);

    let incremented = client
        .sorted_set_increment_score(CACHE, "counts", "x", 2.5)
        .await
        .unwrap();
    assert_eq!(incremented.score, 2.5);
    let incremented = client
        .sorted_set_increment_score(CACHE, "counts", "x", -1.0)
        .await
        .unwrap();
    assert_eq!(incremented.score, 1.5);

    let sources = || {
        vec![
            SortedSetUnionStoreSource::new("set3", 1.0),
            SortedSetUnionStoreSource::new("set4", 2.5),
            SortedSetUnionStoreSource::new("missing", 7.0),
        ]
    };
    let union = |aggregate| {
        let client = client.clone();
        async move {
            client
                .send_request(
                    SortedSetUnionStoreRequest::new(CACHE, "dest", sources()).aggregate(aggregate),
                )
                .await
                .unwrap();
            let mut all = elements(
                client
                    .sorted_set_fetch_by_rank(CACHE, "dest", SortedSetOrder::Ascending, None, None)
                    .await
                    .unwrap(),
            );
            all.sort_by(|a, b| a.0.cmp(&b.0));
            all
        }
    };
    assert_eq!(
        union(SortedSetAggregateFunction::Sum).await,
        vec![
            ("abc".into(), 5.0),
            ("bar".into(), 8.0),
            ("foo".into(), 1.0)
        ]
    );
    assert_eq!(
        union(SortedSetAggregateFunction::Min).await[1],
        ("bar".into(), 3.0)
    );
    assert_eq!(
        union(SortedSetAggregateFunction::Max).await[1],
        ("bar".into(), 5.0)
    );
    // No sources at all is refused; only missing sources leave nothing.
    let empty: Vec<SortedSetUnionStoreSource<&str>> = vec![];
    assert_eq!(
        code(client.sorted_set_union_store(CACHE, "dest", empty).await),
        MomentoErrorCode::InvalidArgumentError
    );
    let nothing = client
        .sorted_set_union_store(
            CACHE,
            "dest",
            vec![SortedSetUnionStoreSource::new("missing", 1.0)],
        )
        .await
        .unwrap();
    assert_eq!(nothing.length, 0);
    assert_eq!(
        client.sorted_set_length(CACHE, "dest").await.unwrap(),
        SortedSetLengthResponse::Miss
    );

    client
        .sorted_set_remove_elements(CACHE, "set3", vec!["foo", "bar"])
        .await
        .unwrap();
    assert_eq!(
        client.sorted_set_length(CACHE, "set3").await.unwrap(),
        SortedSetLengthResponse::Miss
    );
}

#[tokio::test]
async fn collection_ttls_are_set_on_create_and_refreshed_only_when_asked() {
    let (_double, client) = setup().await;
    let remaining = |key: &'static str| {
        let client = client.clone();
        async move {
            match client.item_get_ttl(CACHE, key).await.unwrap() {
                ItemGetTtlResponse::Hit { remaining_ttl } => remaining_ttl,
                ItemGetTtlResponse::Miss => panic!("{key} is missing"),
            }
        }
    };
    let short = CollectionTtl::new(Some(Duration::from_secs(60)), false);
    let long_no_refresh = CollectionTtl::new(Some(Duration::from_secs(600)), false);
    let long_refresh = CollectionTtl::new(Some(Duration::from_secs(600)), true);

    client
        .send_request(ListPushBackRequest::new(CACHE, "l", "a").ttl(short))
        .await
        .unwrap();
    client
        .send_request(ListPushBackRequest::new(CACHE, "l", "b").ttl(long_no_refresh))
        .await
        .unwrap();
    assert!(remaining("l").await <= Duration::from_secs(60));
    client
        .send_request(ListPushBackRequest::new(CACHE, "l", "c").ttl(long_refresh))
        .await
        .unwrap();
    assert!(remaining("l").await > Duration::from_secs(60));

    client
        .send_request(SetAddElementsRequest::new(CACHE, "s", ["a"]).ttl(short))
        .await
        .unwrap();
    client
        .send_request(SetAddElementsRequest::new(CACHE, "s", ["b"]).ttl(long_no_refresh))
        .await
        .unwrap();
    assert!(remaining("s").await <= Duration::from_secs(60));
    client
        .send_request(SetAddElementsRequest::new(CACHE, "s", ["c"]).ttl(long_refresh))
        .await
        .unwrap();
    assert!(remaining("s").await > Duration::from_secs(60));
}

#[tokio::test]
async fn each_family_refuses_a_key_of_another_type() {
    let (_double, client) = setup().await;
    client.set(CACHE, "scalar", "v").await.unwrap();
    client.list_push_back(CACHE, "list", "v").await.unwrap();
    client.set_add_elements(CACHE, "set", ["v"]).await.unwrap();
    client
        .sorted_set_put_element(CACHE, "zset", "v", 1.0)
        .await
        .unwrap();
    let precondition = MomentoErrorCode::FailedPreconditionError;
    assert_eq!(code(client.list_fetch(CACHE, "scalar").await), precondition);
    assert_eq!(
        code(client.list_push_back(CACHE, "set", "x").await),
        precondition
    );
    assert_eq!(code(client.set_fetch(CACHE, "list").await), precondition);
    assert_eq!(
        code(client.set_add_elements(CACHE, "zset", ["x"]).await),
        precondition
    );
    assert_eq!(
        code(client.sorted_set_put_element(CACHE, "list", "x", 1.0).await),
        precondition
    );
    assert_eq!(
        code(client.dictionary_set_field(CACHE, "set", "f", "v").await),
        precondition
    );
    assert_eq!(code(client.get(CACHE, "list").await), precondition);
    // The key keeps its value and type after the refusals.
    assert_eq!(
        client.item_get_type(CACHE, "list").await.unwrap(),
        ItemGetTypeResponse::Hit {
            key_type: ItemType::List
        }
    );
    assert_eq!(
        client.item_get_type(CACHE, "zset").await.unwrap(),
        ItemGetTypeResponse::Hit {
            key_type: ItemType::SortedSet
        }
    );
}

#[tokio::test]
async fn elements_and_collections_over_the_limits_are_refused() {
    let limits = Limits {
        max_item_bytes: 4096,
        max_element_bytes: 1024,
        ..Limits::default()
    };
    let double = start(DoubleConfig {
        limits,
        ..Default::default()
    })
    .await;
    let client = client_with_key(&double, SECRET);
    let big = vec![b'x'; 1025];
    let limit = MomentoErrorCode::LimitExceededError;
    assert_eq!(
        code(client.list_push_back(CACHE, "l", big.clone()).await),
        limit
    );
    assert_eq!(
        code(client.set_add_elements(CACHE, "s", [big.clone()]).await),
        limit
    );
    assert_eq!(
        code(
            client
                .sorted_set_put_element(CACHE, "z", big.clone(), 1.0)
                .await
        ),
        limit
    );
    assert_eq!(
        code(client.dictionary_set_field(CACHE, "d", "f", big).await),
        limit
    );
    assert_eq!(list(&client, "l").await, None);

    // Elements under the element limit, but together over the item limit.
    let element = vec![b'y'; 1020];
    for _ in 0..3 {
        client
            .list_push_back(CACHE, "l", element.clone())
            .await
            .unwrap();
    }
    assert_eq!(
        code(client.list_push_back(CACHE, "l", element.clone()).await),
        limit
    );
    assert_eq!(list(&client, "l").await.unwrap().len(), 3);
    // Truncation that keeps it under the limit is allowed.
    let truncated = client
        .send_request(ListPushBackRequest::new(CACHE, "l", element).truncate_front_to_size(3))
        .await;
    assert!(truncated.is_ok(), "{truncated:?}");
    assert_eq!(list(&client, "l").await.unwrap().len(), 3);
}

#[tokio::test]
async fn hashes_guard_conditional_sets_over_the_wire() {
    let (double, client) = setup().await;
    let mut raw = raw(&double).await;
    use pb::set_if_hash_request::Condition;
    let set_if_hash = |value: &str, condition| {
        raw_request(
            pb::SetIfHashRequest {
                cache_key: b"k".to_vec(),
                cache_body: value.as_bytes().to_vec(),
                ttl_milliseconds: 60_000,
                condition: Some(condition),
            },
            &[],
        )
    };
    let stored = raw
        .set_if_hash(set_if_hash(
            "v1",
            Condition::Unconditional(pbc::Unconditional {}),
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::set_if_hash_response::Result::Stored(stored)) = stored.result else {
        panic!("{stored:?}");
    };
    let got = raw
        .get_with_hash(raw_request(
            pb::GetWithHashRequest {
                cache_key: b"k".to_vec(),
            },
            &[],
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::get_with_hash_response::Result::Found(found)) = got.result else {
        panic!("{got:?}");
    };
    assert_eq!(
        (found.value.as_slice(), &found.hash),
        (&b"v1"[..], &stored.new_hash)
    );

    let stale = pbc::PresentAndHashEqual {
        hash_to_check: b"not the hash".to_vec(),
    };
    let refused = raw
        .set_if_hash(set_if_hash("v2", Condition::PresentAndHashEqual(stale)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        refused.result,
        Some(pb::set_if_hash_response::Result::NotStored(_))
    ));
    let current = pbc::PresentAndHashEqual {
        hash_to_check: stored.new_hash.clone(),
    };
    let accepted = raw
        .set_if_hash(set_if_hash("v2", Condition::PresentAndHashEqual(current)))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::set_if_hash_response::Result::Stored(second)) = accepted.result else {
        panic!("{accepted:?}");
    };
    assert_ne!(second.new_hash, stored.new_hash);
    assert_eq!(get_string(&client, "k").await.as_deref(), Some("v2"));
    let absent = pbc::AbsentOrHashEqual {
        hash_to_check: stored.new_hash,
    };
    let refused = raw
        .set_if_hash(set_if_hash("v3", Condition::AbsentOrHashEqual(absent)))
        .await
        .unwrap()
        .into_inner();
    assert!(matches!(
        refused.result,
        Some(pb::set_if_hash_response::Result::NotStored(_))
    ));
}

#[tokio::test]
async fn stats_report_items_and_bytes_per_type() {
    let (double, client) = setup().await;
    client.set(CACHE, "a", "1").await.unwrap();
    client.set(CACHE, "b", "2").await.unwrap();
    client
        .list_concatenate_back(CACHE, "l", ["x", "y"])
        .await
        .unwrap();
    client.set_add_elements(CACHE, "s", ["x"]).await.unwrap();
    client
        .sorted_set_put_element(CACHE, "z", "x", 1.0)
        .await
        .unwrap();
    client
        .dictionary_set_field(CACHE, "d", "f", "v")
        .await
        .unwrap();
    let stats: cache_double::AdminStats = reqwest::get(format!("{}/stats", double.admin_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cache = &stats.caches[CACHE];
    let items: Vec<(&str, usize)> = cache
        .by_type
        .iter()
        .map(|(kind, t)| (kind.as_str(), t.items))
        .collect();
    assert_eq!(
        items,
        vec![
            ("dictionary", 1),
            ("list", 1),
            ("scalar", 2),
            ("set", 1),
            ("sorted_set", 1)
        ]
    );
    assert!(cache.by_type.values().all(|t| t.bytes > 0));
    assert_eq!(
        cache.by_type.values().map(|t| t.bytes).sum::<usize>(),
        cache.bytes
    );
    // Popping the list's last element frees its bytes.
    client.list_pop_back(CACHE, "l").await.unwrap();
    client.list_pop_back(CACHE, "l").await.unwrap();
    let after = double.stats();
    assert_eq!(after.caches[CACHE].by_type["list"].items, 0);
    assert_eq!(after.caches[CACHE].by_type["list"].bytes, 0);
    assert_eq!(
        after.caches[CACHE].bytes,
        cache.bytes - cache.by_type["list"].bytes
    );
}
