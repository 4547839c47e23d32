//! Scalars: get and set (one, a batch, conditionally, by hash), delete,
//! existence, increment, and TTLs, over the store's scalar operations.

use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{cache, store_status, Reply};
use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::store::scalar::{hash, TtlUpdate};
use crate::store::{Cache, ItemType};

fn always<T>(_: &T) -> bool {
    true
}

pub fn get_one(
    plane: &DataPlane,
    rpc: Rpc,
    cache: &Cache,
    key: &[u8],
) -> Result<pb::GetResponse, Status> {
    Ok(match plane.read(rpc, cache.get(key))? {
        Some(body) => pb::GetResponse {
            result: pb::ECacheResult::Hit as i32,
            cache_body: body.to_vec(),
            message: String::new(),
        },
        None => pb::GetResponse {
            result: pb::ECacheResult::Miss as i32,
            ..Default::default()
        },
    })
}

pub fn set_one(
    plane: &DataPlane,
    rpc: Rpc,
    cache: &Cache,
    item: pb::SetRequest,
) -> Result<pb::SetResponse, Status> {
    let stored = cache.set(item.cache_key, item.cache_body, item.ttl_milliseconds);
    plane.write(rpc, stored, always)?;
    Ok(pb::SetResponse {
        result: pb::ECacheResult::Ok as i32,
        message: String::new(),
    })
}

pub fn get(plane: &DataPlane, request: Request<pb::GetRequest>) -> Reply<pb::GetResponse> {
    let cache = cache(&plane.shared, &request)?;
    get_one(plane, Rpc::Get, &cache, &request.into_inner().cache_key).map(Response::new)
}

pub fn get_with_hash(
    plane: &DataPlane,
    request: Request<pb::GetWithHashRequest>,
) -> Reply<pb::GetWithHashResponse> {
    use pb::get_with_hash_response::{Found, Missing, Result as R};
    let cache = cache(&plane.shared, &request)?;
    let result = match plane.read(Rpc::GetWithHash, cache.get(&request.into_inner().cache_key))? {
        Some(body) => R::Found(Found {
            hash: hash(&body),
            value: body.to_vec(),
        }),
        None => R::Missing(Missing {}),
    };
    Ok(Response::new(pb::GetWithHashResponse {
        result: Some(result),
    }))
}

pub fn set(plane: &DataPlane, request: Request<pb::SetRequest>) -> Reply<pb::SetResponse> {
    let cache = cache(&plane.shared, &request)?;
    set_one(plane, Rpc::Set, &cache, request.into_inner()).map(Response::new)
}

pub fn set_if(plane: &DataPlane, request: Request<pb::SetIfRequest>) -> Reply<pb::SetIfResponse> {
    use pb::set_if_request::Condition;
    use pb::set_if_response::{NotStored, Result as R, Stored};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let condition = r
        .condition
        .ok_or_else(|| Status::invalid_argument("SetIf needs a condition"))?;
    let holds = move |current: Option<&[u8]>| match &condition {
        Condition::Present(_) => current.is_some(),
        Condition::Absent(_) => current.is_none(),
        Condition::Equal(c) => current == Some(c.value_to_check.as_slice()),
        Condition::NotEqual(c) => current != Some(c.value_to_check.as_slice()),
        Condition::PresentAndNotEqual(c) => {
            current.is_some_and(|v| v != c.value_to_check.as_slice())
        }
        Condition::AbsentOrEqual(c) => current.is_none_or(|v| v == c.value_to_check.as_slice()),
    };
    let stored = cache.set_if(r.cache_key, r.cache_body, r.ttl_milliseconds, holds);
    let result = match plane.write(Rpc::SetIf, stored, |stored| *stored)? {
        true => R::Stored(Stored {}),
        false => R::NotStored(NotStored {}),
    };
    Ok(Response::new(pb::SetIfResponse {
        result: Some(result),
    }))
}

pub fn set_if_hash(
    plane: &DataPlane,
    request: Request<pb::SetIfHashRequest>,
) -> Reply<pb::SetIfHashResponse> {
    use pb::set_if_hash_request::Condition;
    use pb::set_if_hash_response::{NotStored, Result as R, Stored};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let condition = r
        .condition
        .ok_or_else(|| Status::invalid_argument("SetIfHash needs a condition"))?;
    let holds = move |current: Option<&[u8]>| {
        let found = current.map(hash);
        match &condition {
            Condition::PresentAndNotHashEqual(c) => found.is_some_and(|h| h != c.hash_to_check),
            Condition::PresentAndHashEqual(c) => found.is_some_and(|h| h == c.hash_to_check),
            Condition::AbsentOrHashEqual(c) => found.is_none_or(|h| h == c.hash_to_check),
            Condition::AbsentOrNotHashEqual(c) => found.is_none_or(|h| h != c.hash_to_check),
            Condition::Unconditional(_) => true,
        }
    };
    let new_hash = hash(&r.cache_body);
    let stored = cache.set_if(r.cache_key, r.cache_body, r.ttl_milliseconds, holds);
    let result = match plane.write(Rpc::SetIfHash, stored, |stored| *stored)? {
        true => R::Stored(Stored { new_hash }),
        false => R::NotStored(NotStored {}),
    };
    Ok(Response::new(pb::SetIfHashResponse {
        result: Some(result),
    }))
}

pub fn set_if_not_exists(
    plane: &DataPlane,
    request: Request<pb::SetIfNotExistsRequest>,
) -> Reply<pb::SetIfNotExistsResponse> {
    use pb::set_if_not_exists_response::{NotStored, Result as R, Stored};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let stored = cache.set_if(r.cache_key, r.cache_body, r.ttl_milliseconds, |current| {
        current.is_none()
    });
    let result = match plane.write(Rpc::SetIfNotExists, stored, |stored| *stored)? {
        true => R::Stored(Stored {}),
        false => R::NotStored(NotStored {}),
    };
    Ok(Response::new(pb::SetIfNotExistsResponse {
        result: Some(result),
    }))
}

pub fn delete(plane: &DataPlane, request: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
    let cache = cache(&plane.shared, &request)?;
    let deleted = cache.delete(&request.into_inner().cache_key);
    plane.write(Rpc::Delete, deleted, |deleted| *deleted)?;
    Ok(Response::new(pb::DeleteResponse {}))
}

pub fn keys_exist(
    plane: &DataPlane,
    request: Request<pb::KeysExistRequest>,
) -> Reply<pb::KeysExistResponse> {
    let cache = cache(&plane.shared, &request)?;
    let exists = cache
        .exist(&request.into_inner().cache_keys)
        .map_err(store_status)?;
    for found in &exists {
        plane.shared.stats.looked_up(Rpc::KeysExist, *found);
    }
    Ok(Response::new(pb::KeysExistResponse { exists }))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::IncrementRequest>,
) -> Reply<pb::IncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let value = plane.write(
        Rpc::Increment,
        cache.increment(r.cache_key, r.amount, r.ttl_milliseconds),
        always,
    )?;
    Ok(Response::new(pb::IncrementResponse { value }))
}

/// Any item's TTL, collections included.
pub fn update_ttl(
    plane: &DataPlane,
    request: Request<pb::UpdateTtlRequest>,
) -> Reply<pb::UpdateTtlResponse> {
    use pb::update_ttl_request::UpdateTtl;
    use pb::update_ttl_response::{Missing, NotSet, Result as R, Set};
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let update = match r
        .update_ttl
        .ok_or_else(|| Status::invalid_argument("UpdateTtl needs a TTL"))?
    {
        UpdateTtl::IncreaseToMilliseconds(ms) => TtlUpdate::IncreaseTo(ms),
        UpdateTtl::DecreaseToMilliseconds(ms) => TtlUpdate::DecreaseTo(ms),
        UpdateTtl::OverwriteToMilliseconds(ms) => TtlUpdate::OverwriteTo(ms),
    };
    let updated = cache.update_ttl(r.cache_key, update);
    let result = match plane.write(Rpc::UpdateTtl, updated, |set| *set == Some(true))? {
        Some(true) => R::Set(Set {}),
        Some(false) => R::NotSet(NotSet {}),
        None => R::Missing(Missing {}),
    };
    Ok(Response::new(pb::UpdateTtlResponse {
        result: Some(result),
    }))
}

pub fn item_get_ttl(
    plane: &DataPlane,
    request: Request<pb::ItemGetTtlRequest>,
) -> Reply<pb::ItemGetTtlResponse> {
    use pb::item_get_ttl_response::{Found, Missing, Result as R};
    let cache = cache(&plane.shared, &request)?;
    let result = match plane.read(
        Rpc::ItemGetTtl,
        cache.item_ttl(&request.into_inner().cache_key),
    )? {
        Some(ttl) => R::Found(Found {
            remaining_ttl_millis: ttl.as_millis() as u64,
        }),
        None => R::Missing(Missing {}),
    };
    Ok(Response::new(pb::ItemGetTtlResponse {
        result: Some(result),
    }))
}

pub fn item_get_type(
    plane: &DataPlane,
    request: Request<pb::ItemGetTypeRequest>,
) -> Reply<pb::ItemGetTypeResponse> {
    use pb::item_get_type_response::{Found, ItemType as T, Missing, Result as R};
    let cache = cache(&plane.shared, &request)?;
    let result = match plane.read(
        Rpc::ItemGetType,
        cache.item_type(&request.into_inner().cache_key),
    )? {
        Some(found) => R::Found(Found {
            item_type: match found {
                ItemType::Scalar => T::Scalar,
                ItemType::Dictionary => T::Dictionary,
                ItemType::List => T::List,
                ItemType::Set => T::Set,
                ItemType::SortedSet => T::SortedSet,
            } as i32,
        }),
        None => R::Missing(Missing {}),
    };
    Ok(Response::new(pb::ItemGetTypeResponse {
        result: Some(result),
    }))
}
