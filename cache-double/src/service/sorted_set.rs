//! Sorted sets: put, fetch by rank or by score, scores, ranks, increment,
//! remove, length (in all, or within scores), union-store, over the store's
//! sorted-set operations.

use std::ops::Bound;

use momento_protos::cache_client as pb;
use tonic::{Request, Response};

use super::common::{cache, store_status, Reply};
use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::store::rules::CollectionTtl;
use crate::store::sorted_set::{Aggregate, Range};

pub fn put(
    plane: &DataPlane,
    request: Request<pb::SortedSetPutRequest>,
) -> Reply<pb::SortedSetPutResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let ttl = CollectionTtl::new(r.ttl_milliseconds, r.refresh_ttl).map_err(store_status)?;
    let elements = r.elements.into_iter().map(|e| (e.value, e.score)).collect();
    plane.write(
        Rpc::SortedSetPut,
        cache.sorted_set_put(r.set_name, elements, ttl),
        |_| true,
    )?;
    Ok(Response::new(pb::SortedSetPutResponse {}))
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::SortedSetFetchRequest>,
) -> Reply<pb::SortedSetFetchResponse> {
    use pb::sorted_set_fetch_request::{by_index, by_score, Order, Range as Which};
    use pb::sorted_set_fetch_response::found::{Elements, Values, ValuesWithScores};
    use pb::sorted_set_fetch_response::{Found, Missing, SortedSet as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let range = match r.range {
        Some(Which::ByScore(score)) => {
            let bound = |s: by_score::Score| {
                if s.exclusive {
                    Bound::Excluded(s.score)
                } else {
                    Bound::Included(s.score)
                }
            };
            Range::ByScore {
                min: match score.min {
                    Some(by_score::Min::MinScore(s)) => bound(s),
                    _ => Bound::Unbounded,
                },
                max: match score.max {
                    Some(by_score::Max::MaxScore(s)) => bound(s),
                    _ => Bound::Unbounded,
                },
                offset: score.offset as usize,
                count: usize::try_from(score.count).ok(),
            }
        }
        Some(Which::ByIndex(index)) => Range::ByRank {
            start: match index.start {
                Some(by_index::Start::InclusiveStartIndex(i)) => Some(i64::from(i)),
                _ => None,
            },
            end: match index.end {
                Some(by_index::End::ExclusiveEndIndex(i)) => Some(i64::from(i)),
                _ => None,
            },
        },
        None => Range::ByRank {
            start: None,
            end: None,
        },
    };
    let descending = r.order == Order::Descending as i32;
    let found = plane.read(
        Rpc::SortedSetFetch,
        cache.sorted_set_fetch(&r.set_name, range, descending),
    )?;
    let set = match found {
        Some(elements) if r.with_scores => S::Found(Found {
            elements: Some(Elements::ValuesWithScores(ValuesWithScores {
                elements: elements
                    .into_iter()
                    .map(|(value, score)| pb::SortedSetElement {
                        value: value.to_vec(),
                        score,
                    })
                    .collect(),
            })),
        }),
        Some(elements) => S::Found(Found {
            elements: Some(Elements::Values(Values {
                values: elements.into_iter().map(|(v, _)| v.to_vec()).collect(),
            })),
        }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SortedSetFetchResponse {
        sorted_set: Some(set),
    }))
}

pub fn get_score(
    plane: &DataPlane,
    request: Request<pb::SortedSetGetScoreRequest>,
) -> Reply<pb::SortedSetGetScoreResponse> {
    use pb::sorted_set_get_score_response::{
        SortedSet as S, SortedSetFound, SortedSetGetScoreResponsePart as Part, SortedSetMissing,
    };
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let set = match plane.read(
        Rpc::SortedSetGetScore,
        cache.sorted_set_scores(&r.set_name, &r.values),
    )? {
        Some(scores) => S::Found(SortedSetFound {
            elements: scores
                .into_iter()
                .map(|score| Part {
                    result: match score {
                        Some(_) => pb::ECacheResult::Hit as i32,
                        None => pb::ECacheResult::Miss as i32,
                    },
                    score: score.unwrap_or(0.0),
                })
                .collect(),
        }),
        None => S::Missing(SortedSetMissing {}),
    };
    Ok(Response::new(pb::SortedSetGetScoreResponse {
        sorted_set: Some(set),
    }))
}

pub fn remove(
    plane: &DataPlane,
    request: Request<pb::SortedSetRemoveRequest>,
) -> Reply<pb::SortedSetRemoveResponse> {
    use pb::sorted_set_remove_request::RemoveElements;
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let values = match r.remove_elements {
        Some(RemoveElements::Some(some)) => Some(some.values),
        Some(RemoveElements::All(_)) | None => None,
    };
    plane.write(
        Rpc::SortedSetRemove,
        cache.sorted_set_remove(r.set_name, values),
        |found| *found,
    )?;
    Ok(Response::new(pb::SortedSetRemoveResponse {}))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::SortedSetIncrementRequest>,
) -> Reply<pb::SortedSetIncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let ttl = CollectionTtl::new(r.ttl_milliseconds, r.refresh_ttl).map_err(store_status)?;
    let incremented = cache.sorted_set_increment(r.set_name, r.value, r.amount, ttl);
    let score = plane.write(Rpc::SortedSetIncrement, incremented, |_| true)?;
    Ok(Response::new(pb::SortedSetIncrementResponse { score }))
}

pub fn get_rank(
    plane: &DataPlane,
    request: Request<pb::SortedSetGetRankRequest>,
) -> Reply<pb::SortedSetGetRankResponse> {
    use pb::sorted_set_get_rank_request::Order;
    use pb::sorted_set_get_rank_response::{Rank, RankResponsePart, SortedSetMissing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let descending = r.order == Order::Descending as i32;
    let rank = match plane.read(
        Rpc::SortedSetGetRank,
        cache.sorted_set_rank(&r.set_name, &r.value, descending),
    )? {
        None => Rank::Missing(SortedSetMissing {}),
        Some(rank) => Rank::ElementRank(RankResponsePart {
            result: match rank {
                Some(_) => pb::ECacheResult::Hit as i32,
                None => pb::ECacheResult::Miss as i32,
            },
            rank: rank.unwrap_or(0),
        }),
    };
    Ok(Response::new(pb::SortedSetGetRankResponse {
        rank: Some(rank),
    }))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::SortedSetLengthRequest>,
) -> Reply<pb::SortedSetLengthResponse> {
    use pb::sorted_set_length_response::{Found, Missing, SortedSet as S};
    let cache = cache(&plane.shared, &request)?;
    let set = match plane.read(
        Rpc::SortedSetLength,
        cache.sorted_set_length(&request.into_inner().set_name),
    )? {
        Some(length) => S::Found(Found { length }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SortedSetLengthResponse {
        sorted_set: Some(set),
    }))
}

pub fn length_by_score(
    plane: &DataPlane,
    request: Request<pb::SortedSetLengthByScoreRequest>,
) -> Reply<pb::SortedSetLengthByScoreResponse> {
    use pb::sorted_set_length_by_score_request::{Max, Min};
    use pb::sorted_set_length_by_score_response::{Found, Missing, SortedSet as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let min = match r.min {
        Some(Min::InclusiveMin(m)) => Bound::Included(m),
        Some(Min::ExclusiveMin(m)) => Bound::Excluded(m),
        _ => Bound::Unbounded,
    };
    let max = match r.max {
        Some(Max::InclusiveMax(m)) => Bound::Included(m),
        Some(Max::ExclusiveMax(m)) => Bound::Excluded(m),
        _ => Bound::Unbounded,
    };
    let counted = cache.sorted_set_length_by_score(&r.set_name, min, max);
    let set = match plane.read(Rpc::SortedSetLengthByScore, counted)? {
        Some(length) => S::Found(Found { length }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SortedSetLengthByScoreResponse {
        sorted_set: Some(set),
    }))
}

pub fn union_store(
    plane: &DataPlane,
    request: Request<pb::SortedSetUnionStoreRequest>,
) -> Reply<pb::SortedSetUnionStoreResponse> {
    use pb::sorted_set_union_store_request::AggregateFunction;
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let aggregate = match AggregateFunction::try_from(r.aggregate) {
        Ok(AggregateFunction::Min) => Aggregate::Min,
        Ok(AggregateFunction::Max) => Aggregate::Max,
        _ => Aggregate::Sum,
    };
    let sources: Vec<(Vec<u8>, f64)> = r
        .sources
        .into_iter()
        .map(|source| (source.set_name, f64::from(source.weight)))
        .collect();
    let stored = cache.sorted_set_union_store(r.set_name, &sources, aggregate, r.ttl_milliseconds);
    let length = plane.write(Rpc::SortedSetUnionStore, stored, |_| true)?;
    Ok(Response::new(pb::SortedSetUnionStoreResponse { length }))
}
