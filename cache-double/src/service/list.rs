//! Lists: push and concatenate at either end (with truncation of the other
//! end), pop, fetch and retain a slice, erase ranges, remove a value,
//! length, over the store's list operations.

use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{cache, store_status, vecs, Reply};
use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::store::list::{End, Erase};
use crate::store::rules::CollectionTtl;

/// One push or concatenation, whichever RPC it came from.
struct Push {
    rpc: Rpc,
    name: Vec<u8>,
    values: Vec<Vec<u8>>,
    end: End,
    truncate: u32,
    ttl_ms: u64,
    refresh: bool,
}

/// The list's length after the push a request asks for.
fn push<T>(
    plane: &DataPlane,
    request: Request<T>,
    decode: impl FnOnce(T) -> Push,
) -> Result<u32, Status> {
    let cache = cache(&plane.shared, &request)?;
    let push = decode(request.into_inner());
    let ttl = CollectionTtl::new(push.ttl_ms, push.refresh).map_err(store_status)?;
    let pushed = cache.list_push(push.name, push.values, push.end, push.truncate, ttl);
    plane.write(push.rpc, pushed, |_| true)
}

pub fn push_front(
    plane: &DataPlane,
    request: Request<pb::ListPushFrontRequest>,
) -> Reply<pb::ListPushFrontResponse> {
    let list_length = push(plane, request, |r| Push {
        rpc: Rpc::ListPushFront,
        name: r.list_name,
        values: vec![r.value],
        end: End::Front,
        truncate: r.truncate_back_to_size,
        ttl_ms: r.ttl_milliseconds,
        refresh: r.refresh_ttl,
    })?;
    Ok(Response::new(pb::ListPushFrontResponse { list_length }))
}

pub fn push_back(
    plane: &DataPlane,
    request: Request<pb::ListPushBackRequest>,
) -> Reply<pb::ListPushBackResponse> {
    let list_length = push(plane, request, |r| Push {
        rpc: Rpc::ListPushBack,
        name: r.list_name,
        values: vec![r.value],
        end: End::Back,
        truncate: r.truncate_front_to_size,
        ttl_ms: r.ttl_milliseconds,
        refresh: r.refresh_ttl,
    })?;
    Ok(Response::new(pb::ListPushBackResponse { list_length }))
}

pub fn concatenate_front(
    plane: &DataPlane,
    request: Request<pb::ListConcatenateFrontRequest>,
) -> Reply<pb::ListConcatenateFrontResponse> {
    let list_length = push(plane, request, |r| Push {
        rpc: Rpc::ListConcatenateFront,
        name: r.list_name,
        values: r.values,
        end: End::Front,
        truncate: r.truncate_back_to_size,
        ttl_ms: r.ttl_milliseconds,
        refresh: r.refresh_ttl,
    })?;
    Ok(Response::new(pb::ListConcatenateFrontResponse {
        list_length,
    }))
}

pub fn concatenate_back(
    plane: &DataPlane,
    request: Request<pb::ListConcatenateBackRequest>,
) -> Reply<pb::ListConcatenateBackResponse> {
    let list_length = push(plane, request, |r| Push {
        rpc: Rpc::ListConcatenateBack,
        name: r.list_name,
        values: r.values,
        end: End::Back,
        truncate: r.truncate_front_to_size,
        ttl_ms: r.ttl_milliseconds,
        refresh: r.refresh_ttl,
    })?;
    Ok(Response::new(pb::ListConcatenateBackResponse {
        list_length,
    }))
}

/// The element taken from `end` of the list a request names, with the
/// length after, if there is a list.
fn pop<T>(
    plane: &DataPlane,
    rpc: Rpc,
    request: Request<T>,
    name: impl FnOnce(T) -> Vec<u8>,
    end: End,
) -> Result<Option<(Vec<u8>, u32)>, Status> {
    let cache = cache(&plane.shared, &request)?;
    let popped = cache.list_pop(name(request.into_inner()), end);
    Ok(plane
        .read(rpc, popped)?
        .map(|(value, length)| (value.to_vec(), length)))
}

pub fn pop_front(
    plane: &DataPlane,
    request: Request<pb::ListPopFrontRequest>,
) -> Reply<pb::ListPopFrontResponse> {
    use pb::list_pop_front_response::{Found, List as L, Missing};
    let list = match pop(
        plane,
        Rpc::ListPopFront,
        request,
        |r| r.list_name,
        End::Front,
    )? {
        Some((front, list_length)) => L::Found(Found { front, list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListPopFrontResponse { list: Some(list) }))
}

pub fn pop_back(
    plane: &DataPlane,
    request: Request<pb::ListPopBackRequest>,
) -> Reply<pb::ListPopBackResponse> {
    use pb::list_pop_back_response::{Found, List as L, Missing};
    let list = match pop(plane, Rpc::ListPopBack, request, |r| r.list_name, End::Back)? {
        Some((back, list_length)) => L::Found(Found { back, list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListPopBackResponse { list: Some(list) }))
}

pub fn erase(
    plane: &DataPlane,
    request: Request<pb::ListEraseRequest>,
) -> Reply<pb::ListEraseResponse> {
    use pb::list_erase_request::Erase as Which;
    use pb::list_erase_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let erase = match r
        .erase
        .ok_or_else(|| Status::invalid_argument("ListErase needs ranges or all"))?
    {
        Which::All(_) => Erase::All,
        Which::Some(some) => Erase::Ranges(
            some.ranges
                .iter()
                .map(|range| (range.begin_index as usize, range.count as usize))
                .collect(),
        ),
    };
    let erased = cache.list_erase(r.list_name, erase);
    let list = match plane.write(Rpc::ListErase, erased, Option::is_some)? {
        Some(list_length) => L::Found(Found { list_length }),
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
        return Err(Status::invalid_argument(
            "ListRemove needs a value to remove",
        ));
    };
    let removed = cache.list_remove(r.list_name, &value);
    let list = match plane.write(Rpc::ListRemove, removed, Option::is_some)? {
        Some(list_length) => L::Found(Found { list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListRemoveResponse { list: Some(list) }))
}

/// The slice bounds of ListFetch (`None`: unbounded).
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
    let (start, end) = bounds(r.start_index, r.end_index);
    let list = match plane.read(Rpc::ListFetch, cache.list_fetch(&r.list_name, start, end))? {
        Some(values) => L::Found(Found {
            values: vecs(values),
        }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListFetchResponse { list: Some(list) }))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::ListLengthRequest>,
) -> Reply<pb::ListLengthResponse> {
    use pb::list_length_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let list = match plane.read(
        Rpc::ListLength,
        cache.list_length(&request.into_inner().list_name),
    )? {
        Some(length) => L::Found(Found { length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListLengthResponse { list: Some(list) }))
}

pub fn retain(
    plane: &DataPlane,
    request: Request<pb::ListRetainRequest>,
) -> Reply<pb::ListRetainResponse> {
    use pb::list_retain_request::{EndIndex, StartIndex};
    use pb::list_retain_response::{Found, List as L, Missing};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let start = match r.start_index {
        Some(StartIndex::InclusiveStart(i)) => Some(i64::from(i)),
        _ => None,
    };
    let end = match r.end_index {
        Some(EndIndex::ExclusiveEnd(i)) => Some(i64::from(i)),
        _ => None,
    };
    let refresh = r.refresh_ttl.then_some(r.ttl_milliseconds);
    let retained = cache.list_retain(r.list_name, start, end, refresh);
    let list = match plane.write(Rpc::ListRetain, retained, Option::is_some)? {
        Some(list_length) => L::Found(Found { list_length }),
        None => L::Missing(Missing {}),
    };
    Ok(Response::new(pb::ListRetainResponse { list: Some(list) }))
}
