//! Sets: union (add), difference (remove, or delete the set), fetch,
//! sample, contains, length, pop, over the store's set operations.

use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{cache, store_status, vecs, Reply};
use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::store::rules::CollectionTtl;
use crate::store::set::Difference;

pub fn union(
    plane: &DataPlane,
    request: Request<pb::SetUnionRequest>,
) -> Reply<pb::SetUnionResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let ttl = CollectionTtl::new(r.ttl_milliseconds, r.refresh_ttl).map_err(store_status)?;
    plane.write(
        Rpc::SetUnion,
        cache.set_union(r.set_name, r.elements, ttl),
        |_| true,
    )?;
    Ok(Response::new(pb::SetUnionResponse {}))
}

pub fn difference(
    plane: &DataPlane,
    request: Request<pb::SetDifferenceRequest>,
) -> Reply<pb::SetDifferenceResponse> {
    use pb::set_difference_request::subtrahend::SubtrahendSet;
    use pb::set_difference_request::Difference as Which;
    use pb::set_difference_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let difference = match r
        .difference
        .ok_or_else(|| Status::invalid_argument("SetDifference needs a minuend or subtrahend"))?
    {
        // stored − given: remove these elements (or all of them).
        Which::Subtrahend(s) => Difference::Subtrahend(match s.subtrahend_set {
            Some(SubtrahendSet::Set(given)) => Some(given.elements),
            Some(SubtrahendSet::Identity(_)) | None => None,
        }),
        // given − stored: the given elements the set lacks.
        Which::Minuend(m) => Difference::Minuend(m.elements),
    };
    let changed = cache.set_difference(r.set_name, difference);
    let set = match plane.write(Rpc::SetDifference, changed, |found| *found)? {
        true => S::Found(Found {}),
        false => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetDifferenceResponse { set: Some(set) }))
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::SetFetchRequest>,
) -> Reply<pb::SetFetchResponse> {
    use pb::set_fetch_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let set = match plane.read(
        Rpc::SetFetch,
        cache.set_fetch(&request.into_inner().set_name),
    )? {
        Some(elements) => S::Found(Found {
            elements: vecs(elements),
        }),
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
    let set = match plane.read(Rpc::SetSample, cache.set_sample(&r.set_name, limit))? {
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
    let set = match plane.read(
        Rpc::SetContains,
        cache.set_contains(&r.set_name, &r.elements),
    )? {
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
    let set = match plane.read(
        Rpc::SetLength,
        cache.set_length(&request.into_inner().set_name),
    )? {
        Some(length) => S::Found(Found { length }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetLengthResponse { set: Some(set) }))
}

pub fn pop(plane: &DataPlane, request: Request<pb::SetPopRequest>) -> Reply<pb::SetPopResponse> {
    use pb::set_pop_response::{Found, Missing, Set as S};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let set = match plane.read(Rpc::SetPop, cache.set_pop(r.set_name, r.count as usize))? {
        Some(elements) => S::Found(Found {
            elements: vecs(elements),
        }),
        None => S::Missing(Missing {}),
    };
    Ok(Response::new(pb::SetPopResponse { set: Some(set) }))
}
