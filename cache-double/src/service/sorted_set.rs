//! Sorted sets: put, fetch by rank or by score, scores, ranks, increment,
//! remove, length (in all, or within scores), union-store. Semantics in
//! [`crate::store::sorted_set`]; an emptied sorted set is removed.

use std::ops::Bound;

use bytes::Bytes;
use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{
    cache, check_elements, check_key, check_size, count, store_status, ttl, type_error,
    write_collection, wrong_type, Reply,
};
use super::DataPlane;
use crate::stats::Outcome;
use crate::store::sorted_set::{Aggregate, SortedSet};
use crate::store::{Cache, Effect, Lookup, Value};

fn read<T>(
    cache: &Cache,
    name: &[u8],
    f: impl FnOnce(&SortedSet) -> T,
) -> Result<Option<T>, Status> {
    check_key(name)?;
    match cache.read(name, |value| match value {
        Value::SortedSet(set) => Ok(f(set)),
        other => Err(wrong_type(other)),
    }) {
        Lookup::Hit(answer) => answer.map(Some),
        Lookup::Miss => Ok(None),
    }
}

fn descending(order: i32) -> bool {
    order == pb::sorted_set_fetch_request::Order::Descending as i32
}

pub fn put(
    plane: &DataPlane,
    request: Request<pb::SortedSetPutRequest>,
) -> Reply<pb::SortedSetPutResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    let ttl = ttl(r.ttl_milliseconds)?;
    let limits = cache.limits();
    let elements: Vec<(Bytes, f64)> = r
        .elements
        .into_iter()
        .map(|e| (Bytes::from(e.value), e.score))
        .collect();
    let key = Bytes::from(r.set_name);
    cache
        .modify(key.clone(), |current| {
            check_elements(&limits, elements.iter().map(|(v, _)| v.as_ref()))?;
            write_collection(
                &limits,
                &key,
                current,
                ttl,
                r.refresh_ttl,
                |set: &mut SortedSet| {
                    let values: Vec<&Bytes> = elements.iter().map(|(v, _)| v).collect();
                    check_size(&limits, &key, set.size_after_put(&values))?;
                    for (value, score) in elements {
                        set.put(value, score);
                    }
                    Ok(())
                },
            )
        })
        .map_err(store_status)?;
    count(&plane.shared, "SortedSetPut", Outcome::Set);
    Ok(Response::new(pb::SortedSetPutResponse {}))
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::SortedSetFetchRequest>,
) -> Reply<pb::SortedSetFetchResponse> {
    use pb::sorted_set_fetch_request::{by_index, by_score, Range};
    use pb::sorted_set_fetch_response::found::{Elements, Values, ValuesWithScores};
    use pb::sorted_set_fetch_response::{Found, Missing, SortedSet as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let descending = descending(r.order);
    let range = r.range.unwrap_or(Range::ByIndex(
        pb::sorted_set_fetch_request::ByIndex::default(),
    ));
    let found = read(&cache, &r.set_name, |set| match range {
        Range::ByIndex(index) => {
            let start = match index.start {
                Some(by_index::Start::InclusiveStartIndex(i)) => Some(i64::from(i)),
                _ => None,
            };
            let end = match index.end {
                Some(by_index::End::ExclusiveEndIndex(i)) => Some(i64::from(i)),
                _ => None,
            };
            set.by_rank(start, end, descending)
        }
        Range::ByScore(score) => {
            let bound = |s: by_score::Score| {
                if s.exclusive {
                    Bound::Excluded(s.score)
                } else {
                    Bound::Included(s.score)
                }
            };
            let min = match score.min {
                Some(by_score::Min::MinScore(s)) => bound(s),
                _ => Bound::Unbounded,
            };
            let max = match score.max {
                Some(by_score::Max::MaxScore(s)) => bound(s),
                _ => Bound::Unbounded,
            };
            let count = usize::try_from(score.count).ok();
            set.by_score(min, max, score.offset as usize, count, descending)
        }
    })?;
    count(
        &plane.shared,
        "SortedSetFetch",
        if found.is_some() {
            Outcome::Hit
        } else {
            Outcome::Miss
        },
    );
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
    let found = read(&cache, &r.set_name, |set| {
        r.values
            .iter()
            .map(|value| match set.score(value) {
                Some(score) => Part {
                    result: pb::ECacheResult::Hit as i32,
                    score,
                },
                None => Part {
                    result: pb::ECacheResult::Miss as i32,
                    score: 0.0,
                },
            })
            .collect::<Vec<_>>()
    })?;
    let set = match found {
        Some(elements) => S::Found(SortedSetFound { elements }),
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
    check_key(&r.set_name)?;
    cache
        .modify(r.set_name.into(), |current| {
            let set = match current {
                None => return Ok((Effect::Unchanged, ())),
                Some((Value::SortedSet(set), _)) => set,
                Some((other, _)) => return Err(type_error(other)),
            };
            match r.remove_elements {
                Some(RemoveElements::Some(some)) => {
                    for value in &some.values {
                        set.remove(value);
                    }
                }
                Some(RemoveElements::All(_)) | None => return Ok((Effect::Removed, ())),
            }
            Ok(if set.is_empty() {
                (Effect::Removed, ())
            } else {
                (Effect::Changed(None), ())
            })
        })
        .map_err(store_status)?;
    Ok(Response::new(pb::SortedSetRemoveResponse {}))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::SortedSetIncrementRequest>,
) -> Reply<pb::SortedSetIncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    let ttl = ttl(r.ttl_milliseconds)?;
    let limits = cache.limits();
    let key = Bytes::from(r.set_name);
    let value = Bytes::from(r.value);
    let score = cache
        .modify(key.clone(), |current| {
            check_elements(&limits, [value.as_ref()])?;
            write_collection(
                &limits,
                &key,
                current,
                ttl,
                r.refresh_ttl,
                |set: &mut SortedSet| {
                    check_size(&limits, &key, set.size_after_put(&[&value]))?;
                    Ok(set.increment(value, r.amount))
                },
            )
        })
        .map_err(store_status)?;
    count(&plane.shared, "SortedSetIncrement", Outcome::Set);
    Ok(Response::new(pb::SortedSetIncrementResponse { score }))
}

pub fn get_rank(
    plane: &DataPlane,
    request: Request<pb::SortedSetGetRankRequest>,
) -> Reply<pb::SortedSetGetRankResponse> {
    use pb::sorted_set_get_rank_response::{Rank, RankResponsePart, SortedSetMissing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let descending = r.order == pb::sorted_set_get_rank_request::Order::Descending as i32;
    let found = read(&cache, &r.set_name, |set| set.rank(&r.value, descending))?;
    let rank = match found {
        None => Rank::Missing(SortedSetMissing {}),
        Some(None) => Rank::ElementRank(RankResponsePart {
            result: pb::ECacheResult::Miss as i32,
            rank: 0,
        }),
        Some(Some(rank)) => Rank::ElementRank(RankResponsePart {
            result: pb::ECacheResult::Hit as i32,
            rank,
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
    let found = read(&cache, &request.into_inner().set_name, |set| {
        set.len() as u32
    })?;
    let set = match found {
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
    let found = read(&cache, &r.set_name, |set| {
        set.count_by_score(min, max) as u32
    })?;
    let set = match found {
        Some(length) => S::Found(Found { length }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SortedSetLengthByScoreResponse {
        sorted_set: Some(set),
    }))
}

/// The destination is overwritten (not a source unless listed), gets the
/// TTL, and is removed when the union is empty.
pub fn union_store(
    plane: &DataPlane,
    request: Request<pb::SortedSetUnionStoreRequest>,
) -> Reply<pb::SortedSetUnionStoreResponse> {
    use pb::sorted_set_union_store_request::AggregateFunction;
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    if r.sources.is_empty() {
        return Err(Status::invalid_argument("sources must not be empty"));
    }
    let ttl = ttl(r.ttl_milliseconds)?;
    let aggregate = match AggregateFunction::try_from(r.aggregate) {
        Ok(AggregateFunction::Min) => Aggregate::Min,
        Ok(AggregateFunction::Max) => Aggregate::Max,
        _ => Aggregate::Sum,
    };
    // Copies of the sources (each under its own lock), then one write.
    let mut copies: Vec<(Option<SortedSet>, f64)> = Vec::with_capacity(r.sources.len());
    for source in &r.sources {
        check_key(&source.set_name)?;
        let copy = read(&cache, &source.set_name, SortedSet::clone)?;
        copies.push((copy, f64::from(source.weight)));
    }
    let sources: Vec<(Option<&SortedSet>, f64)> =
        copies.iter().map(|(s, w)| (s.as_ref(), *w)).collect();
    let union = SortedSet::union(&sources, aggregate);
    let length = union.len() as u32;
    let limits = cache.limits();
    let key = Bytes::from(r.set_name);
    cache
        .modify(key.clone(), |current| {
            if let Some((other, _)) = current
                .as_ref()
                .filter(|(v, _)| !matches!(v, Value::SortedSet(_)))
            {
                return Err(type_error(other));
            }
            if union.is_empty() {
                return Ok((Effect::Removed, ()));
            }
            check_size(&limits, &key, union.size())?;
            Ok((Effect::Put(Value::SortedSet(union), Some(ttl)), ()))
        })
        .map_err(store_status)?;
    count(&plane.shared, "SortedSetUnionStore", Outcome::Set);
    Ok(Response::new(pb::SortedSetUnionStoreResponse { length }))
}
