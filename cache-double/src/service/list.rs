//! Lists: push and concatenate at either end (with truncation of the other
//! end), pop, fetch and retain a slice, erase ranges, remove a value,
//! length. Semantics in [`crate::store::list`]; an emptied list is removed.

use bytes::Bytes;
use momento_protos::cache_client as pb;
use tonic::{Request, Response};

use super::common::{
    bytes, cache, check_elements, check_key, check_size, count, store_status, ttl, type_error,
    vecs, write_collection, wrong_type, Reply,
};
use super::DataPlane;
use crate::stats::Outcome;
use crate::store::list::{self, List};
use crate::store::{Cache, Effect, Lookup, StoreError, Value};

/// Which end a push or a concatenation goes to.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

/// One push or concatenation, whichever RPC it came from.
struct Push {
    name: Vec<u8>,
    values: Vec<Vec<u8>>,
    end: End,
    /// Truncate the other end to this length afterwards (0: do not).
    truncate: u32,
    ttl_ms: u64,
    refresh: bool,
}

/// Adds the values at their end, then truncates the other end; the length after.
fn push(plane: &DataPlane, rpc: &str, cache: &Cache, push: Push) -> Result<u32, tonic::Status> {
    let Push {
        name,
        values,
        end,
        truncate,
        ttl_ms,
        refresh,
    } = push;
    check_key(&name)?;
    let ttl = ttl(ttl_ms)?;
    let limits = cache.limits();
    let values = bytes(values);
    let key = Bytes::from(name);
    let length = cache
        .modify(key.clone(), |current| {
            check_elements(&limits, values.iter().map(Bytes::as_ref))?;
            let added: usize = values.iter().map(|v| list::cost(v)).sum();
            write_collection(&limits, &key, current, ttl, refresh, |list: &mut List| {
                let apply = |list: &mut List| match end {
                    End::Front => list.push_front(values, truncate as usize),
                    End::Back => list.push_back(values, truncate as usize),
                };
                match check_size(&limits, &key, list.size() + added) {
                    Ok(()) => apply(list),
                    Err(too_large) if truncate == 0 => return Err(too_large),
                    Err(_) => {
                        // Truncation may bring it back under the limit: try on a copy.
                        let mut trial = list.clone();
                        apply(&mut trial);
                        check_size(&limits, &key, trial.size())?;
                        *list = trial;
                    }
                }
                Ok(list.len() as u32)
            })
        })
        .map_err(store_status)?;
    count(&plane.shared, rpc, Outcome::Set);
    Ok(length)
}

pub fn push_front(
    plane: &DataPlane,
    request: Request<pb::ListPushFrontRequest>,
) -> Reply<pb::ListPushFrontResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let list_length = push(
        plane,
        "ListPushFront",
        &cache,
        Push {
            name: r.list_name,
            values: vec![r.value],
            end: End::Front,
            truncate: r.truncate_back_to_size,
            ttl_ms: r.ttl_milliseconds,
            refresh: r.refresh_ttl,
        },
    )?;
    Ok(Response::new(pb::ListPushFrontResponse { list_length }))
}

pub fn push_back(
    plane: &DataPlane,
    request: Request<pb::ListPushBackRequest>,
) -> Reply<pb::ListPushBackResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let list_length = push(
        plane,
        "ListPushBack",
        &cache,
        Push {
            name: r.list_name,
            values: vec![r.value],
            end: End::Back,
            truncate: r.truncate_front_to_size,
            ttl_ms: r.ttl_milliseconds,
            refresh: r.refresh_ttl,
        },
    )?;
    Ok(Response::new(pb::ListPushBackResponse { list_length }))
}

pub fn concatenate_front(
    plane: &DataPlane,
    request: Request<pb::ListConcatenateFrontRequest>,
) -> Reply<pb::ListConcatenateFrontResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let list_length = push(
        plane,
        "ListConcatenateFront",
        &cache,
        Push {
            name: r.list_name,
            values: r.values,
            end: End::Front,
            truncate: r.truncate_back_to_size,
            ttl_ms: r.ttl_milliseconds,
            refresh: r.refresh_ttl,
        },
    )?;
    Ok(Response::new(pb::ListConcatenateFrontResponse {
        list_length,
    }))
}

pub fn concatenate_back(
    plane: &DataPlane,
    request: Request<pb::ListConcatenateBackRequest>,
) -> Reply<pb::ListConcatenateBackResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let list_length = push(
        plane,
        "ListConcatenateBack",
        &cache,
        Push {
            name: r.list_name,
            values: r.values,
            end: End::Back,
            truncate: r.truncate_front_to_size,
            ttl_ms: r.ttl_milliseconds,
            refresh: r.refresh_ttl,
        },
    )?;
    Ok(Response::new(pb::ListConcatenateBackResponse {
        list_length,
    }))
}

/// Changes an existing list in place; `None` when there is none. An
/// emptied list is removed.
fn change<T>(
    cache: &Cache,
    name: Vec<u8>,
    f: impl FnOnce(&mut List) -> T,
) -> Result<Option<(T, u32)>, tonic::Status> {
    check_key(&name)?;
    cache
        .modify(name.into(), |current| {
            let list = match current {
                None => return Ok((Effect::Unchanged, None)),
                Some((Value::List(list), _)) => list,
                Some((other, _)) => return Err(type_error(other)),
            };
            let answer = f(list);
            let length = list.len() as u32;
            let effect = if list.is_empty() {
                Effect::Removed
            } else {
                Effect::Changed(None)
            };
            Ok::<_, StoreError>((effect, Some((answer, length))))
        })
        .map_err(store_status)
}

pub fn pop_front(
    plane: &DataPlane,
    request: Request<pb::ListPopFrontRequest>,
) -> Reply<pb::ListPopFrontResponse> {
    use pb::list_pop_front_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let popped = change(&cache, request.into_inner().list_name, List::pop_front)?;
    let list = match popped {
        Some((Some(front), list_length)) => {
            count(&plane.shared, "ListPopFront", Outcome::Hit);
            L::Found(Found {
                front: front.to_vec(),
                list_length,
            })
        }
        _ => {
            count(&plane.shared, "ListPopFront", Outcome::Miss);
            L::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::ListPopFrontResponse { list: Some(list) }))
}

pub fn pop_back(
    plane: &DataPlane,
    request: Request<pb::ListPopBackRequest>,
) -> Reply<pb::ListPopBackResponse> {
    use pb::list_pop_back_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let popped = change(&cache, request.into_inner().list_name, List::pop_back)?;
    let list = match popped {
        Some((Some(back), list_length)) => {
            count(&plane.shared, "ListPopBack", Outcome::Hit);
            L::Found(Found {
                back: back.to_vec(),
                list_length,
            })
        }
        _ => {
            count(&plane.shared, "ListPopBack", Outcome::Miss);
            L::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::ListPopBackResponse { list: Some(list) }))
}

pub fn erase(
    plane: &DataPlane,
    request: Request<pb::ListEraseRequest>,
) -> Reply<pb::ListEraseResponse> {
    use pb::list_erase_request::Erase;
    use pb::list_erase_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let erase = r
        .erase
        .ok_or_else(|| tonic::Status::invalid_argument("ListErase needs ranges or all"))?;
    let erased = change(&cache, r.list_name, |list| match erase {
        Erase::All(_) => list.retain(Some(0), Some(0)),
        Erase::Some(some) => {
            let ranges: Vec<(usize, usize)> = some
                .ranges
                .iter()
                .map(|r| (r.begin_index as usize, r.count as usize))
                .collect();
            list.erase(&ranges);
        }
    })?;
    let list = match erased {
        Some(((), list_length)) => L::Found(Found { list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListEraseResponse { list: Some(list) }))
}

pub fn remove(
    plane: &DataPlane,
    request: Request<pb::ListRemoveRequest>,
) -> Reply<pb::ListRemoveResponse> {
    use pb::list_remove_request::Remove;
    use pb::list_remove_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let Some(Remove::AllElementsWithValue(value)) = r.remove else {
        return Err(tonic::Status::invalid_argument(
            "ListRemove needs a value to remove",
        ));
    };
    let removed = change(&cache, r.list_name, |list| list.remove_value(&value))?;
    let list = match removed {
        Some(((), list_length)) => L::Found(Found { list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListRemoveResponse { list: Some(list) }))
}

/// The slice bounds of ListFetch and ListRetain (`None`: unbounded).
fn bounds(
    start: Option<pb::list_fetch_request::StartIndex>,
    end: Option<pb::list_fetch_request::EndIndex>,
) -> (Option<i64>, Option<i64>) {
    use pb::list_fetch_request::{EndIndex, StartIndex};
    let start = match start {
        Some(StartIndex::InclusiveStart(i)) => Some(i64::from(i)),
        _ => None,
    };
    let end = match end {
        Some(EndIndex::ExclusiveEnd(i)) => Some(i64::from(i)),
        _ => None,
    };
    (start, end)
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::ListFetchRequest>,
) -> Reply<pb::ListFetchResponse> {
    use pb::list_fetch_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.list_name)?;
    let (start, end) = bounds(r.start_index, r.end_index);
    let found = cache.read(&r.list_name, |value| match value {
        Value::List(list) => Ok(list.fetch(start, end)),
        other => Err(wrong_type(other)),
    });
    let list = match found {
        Lookup::Hit(values) => {
            count(&plane.shared, "ListFetch", Outcome::Hit);
            L::Found(Found {
                values: vecs(values?),
            })
        }
        Lookup::Miss => {
            count(&plane.shared, "ListFetch", Outcome::Miss);
            L::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::ListFetchResponse { list: Some(list) }))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::ListLengthRequest>,
) -> Reply<pb::ListLengthResponse> {
    use pb::list_length_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let name = request.into_inner().list_name;
    check_key(&name)?;
    let found = cache.read(&name, |value| match value {
        Value::List(list) => Ok(list.len() as u32),
        other => Err(wrong_type(other)),
    });
    let list = match found {
        Lookup::Hit(length) => L::Found(Found { length: length? }),
        Lookup::Miss => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListLengthResponse { list: Some(list) }))
}

pub fn retain(
    plane: &DataPlane,
    request: Request<pb::ListRetainRequest>,
) -> Reply<pb::ListRetainResponse> {
    use pb::list_fetch_request::{EndIndex, StartIndex};
    use pb::list_retain_request as retain;
    use pb::list_retain_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    check_key(&r.list_name)?;
    let start = r.start_index.map(|s| match s {
        retain::StartIndex::UnboundedStart(u) => StartIndex::UnboundedStart(u),
        retain::StartIndex::InclusiveStart(i) => StartIndex::InclusiveStart(i),
    });
    let end = r.end_index.map(|e| match e {
        retain::EndIndex::UnboundedEnd(u) => EndIndex::UnboundedEnd(u),
        retain::EndIndex::ExclusiveEnd(i) => EndIndex::ExclusiveEnd(i),
    });
    let (start, end) = bounds(start, end);
    let ttl = if r.refresh_ttl {
        Some(ttl(r.ttl_milliseconds)?)
    } else {
        None
    };
    let retained = cache
        .modify(r.list_name.into(), |current| {
            let list = match current {
                None => return Ok((Effect::Unchanged, None)),
                Some((Value::List(list), _)) => list,
                Some((other, _)) => return Err(type_error(other)),
            };
            list.retain(start, end);
            let length = list.len() as u32;
            let effect = if list.is_empty() {
                Effect::Removed
            } else {
                Effect::Changed(ttl)
            };
            Ok((effect, Some(length)))
        })
        .map_err(store_status)?;
    let list = match retained {
        Some(list_length) => L::Found(Found { list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListRetainResponse { list: Some(list) }))
}
