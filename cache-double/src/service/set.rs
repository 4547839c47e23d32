//! Sets: union (add), difference (remove, or delete the set), fetch,
//! sample, contains, length, pop. Semantics in [`crate::store::set`]; an
//! emptied set is removed.

use bytes::Bytes;
use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{
    bytes, cache, check_elements, check_key, check_size, count, store_status, ttl, type_error,
    vecs, write_collection, wrong_type, Reply,
};
use super::DataPlane;
use crate::stats::Outcome;
use crate::store::set::Set;
use crate::store::{Cache, Effect, Lookup, Value};

/// Reads an existing set through `f`; `None` when there is none.
fn read<T>(cache: &Cache, name: &[u8], f: impl FnOnce(&Set) -> T) -> Result<Option<T>, Status> {
    check_key(name)?;
    match cache.read(name, |value| match value {
        Value::Set(set) => Ok(f(set)),
        other => Err(wrong_type(other)),
    }) {
        Lookup::Hit(answer) => answer.map(Some),
        Lookup::Miss => Ok(None),
    }
}

pub fn union(
    plane: &DataPlane,
    request: Request<pb::SetUnionRequest>,
) -> Reply<pb::SetUnionResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    let ttl = ttl(r.ttl_milliseconds)?;
    let limits = cache.limits();
    let elements = bytes(r.elements);
    let key = Bytes::from(r.set_name);
    cache
        .modify(key.clone(), |current| {
            check_elements(&limits, elements.iter().map(Bytes::as_ref))?;
            write_collection(
                &limits,
                &key,
                current,
                ttl,
                r.refresh_ttl,
                |set: &mut Set| {
                    check_size(&limits, &key, set.size_after_union(&elements))?;
                    set.union(elements);
                    Ok(())
                },
            )
        })
        .map_err(store_status)?;
    count(&plane.shared, "SetUnion", Outcome::Set);
    Ok(Response::new(pb::SetUnionResponse {}))
}

pub fn difference(
    plane: &DataPlane,
    request: Request<pb::SetDifferenceRequest>,
) -> Reply<pb::SetDifferenceResponse> {
    use pb::set_difference_request::subtrahend::SubtrahendSet;
    use pb::set_difference_request::Difference;
    use pb::set_difference_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    let difference = r
        .difference
        .ok_or_else(|| Status::invalid_argument("SetDifference needs a minuend or subtrahend"))?;
    let found = cache
        .modify(r.set_name.into(), |current| {
            let set = match current {
                None => return Ok((Effect::Unchanged, false)),
                Some((Value::Set(set), _)) => set,
                Some((other, _)) => return Err(type_error(other)),
            };
            match difference {
                // stored − given: remove these elements.
                Difference::Subtrahend(s) => match s.subtrahend_set {
                    Some(SubtrahendSet::Set(given)) => set.remove(&bytes(given.elements)),
                    Some(SubtrahendSet::Identity(_)) | None => return Ok((Effect::Removed, true)),
                },
                // given − stored: the given elements the set lacks.
                Difference::Minuend(m) => {
                    let given = bytes(m.elements);
                    let keep: Vec<Bytes> =
                        given.iter().filter(|e| !set.contains(e)).cloned().collect();
                    let all: Vec<Bytes> = set.iter().cloned().collect();
                    set.remove(&all);
                    set.union(keep);
                }
            }
            Ok(if set.is_empty() {
                (Effect::Removed, true)
            } else {
                (Effect::Changed(None), true)
            })
        })
        .map_err(store_status)?;
    let set = if found {
        S::Found(Found {})
    } else {
        S::Missing(Missing {})
    };
    Ok(Response::new(pb::SetDifferenceResponse { set: Some(set) }))
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::SetFetchRequest>,
) -> Reply<pb::SetFetchResponse> {
    use pb::set_fetch_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let found = read(&cache, &request.into_inner().set_name, |set| {
        set.iter().map(|e| e.to_vec()).collect::<Vec<_>>()
    })?;
    count(
        &plane.shared,
        "SetFetch",
        if found.is_some() {
            Outcome::Hit
        } else {
            Outcome::Miss
        },
    );
    let set = match found {
        Some(elements) => S::Found(Found { elements }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetFetchResponse { set: Some(set) }))
}

pub fn sample(
    plane: &DataPlane,
    request: Request<pb::SetSampleRequest>,
) -> Reply<pb::SetSampleResponse> {
    use pb::set_sample_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let limit = usize::try_from(r.limit).unwrap_or(usize::MAX);
    let found = read(&cache, &r.set_name, |set| set.sample(limit))?;
    let set = match found {
        Some(elements) => S::Found(Found {
            elements: vecs(elements),
        }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetSampleResponse { set: Some(set) }))
}

pub fn contains(
    plane: &DataPlane,
    request: Request<pb::SetContainsRequest>,
) -> Reply<pb::SetContainsResponse> {
    use pb::set_contains_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let found = read(&cache, &r.set_name, |set| {
        r.elements
            .iter()
            .map(|e| set.contains(e))
            .collect::<Vec<_>>()
    })?;
    let set = match found {
        Some(contains) => S::Found(Found { contains }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetContainsResponse { set: Some(set) }))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::SetLengthRequest>,
) -> Reply<pb::SetLengthResponse> {
    use pb::set_length_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let found = read(&cache, &request.into_inner().set_name, |set| {
        set.len() as u32
    })?;
    let set = match found {
        Some(length) => S::Found(Found { length }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetLengthResponse { set: Some(set) }))
}

pub fn pop(plane: &DataPlane, request: Request<pb::SetPopRequest>) -> Reply<pb::SetPopResponse> {
    use pb::set_pop_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.set_name)?;
    let popped = cache
        .modify(r.set_name.into(), |current| {
            let set = match current {
                None => return Ok((Effect::Unchanged, None)),
                Some((Value::Set(set), _)) => set,
                Some((other, _)) => return Err(type_error(other)),
            };
            let popped = set.pop(r.count as usize);
            let effect = if set.is_empty() {
                Effect::Removed
            } else {
                Effect::Changed(None)
            };
            Ok((effect, Some(popped)))
        })
        .map_err(store_status)?;
    let set = match popped {
        Some(elements) => S::Found(Found {
            elements: vecs(elements),
        }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetPopResponse { set: Some(set) }))
}
