//! Scalars: get and set (one, a batch, conditionally, by hash), delete,
//! existence, increment, and TTLs. A scalar op on a collection key, or an
//! increment of a non-integer, is FAILED_PRECONDITION.

use std::time::Duration;

use bytes::Bytes;
use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{cache, check_key, count, store_status, ttl, type_error, wrong_type, Reply};
use super::DataPlane;
use crate::stats::Outcome;
use crate::store::{parse_integer, Cache, Change, ItemType, Lookup, StoreError, Value};

/// A stable digest of a value for GetWithHash and SetIfHash (the SDKs only
/// compare these for equality): FNV-1a, 64 bits.
pub fn hash(value: &[u8]) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.to_be_bytes().to_vec()
}

pub fn get_one(
    plane: &DataPlane,
    rpc: &str,
    cache: &Cache,
    key: Vec<u8>,
) -> Result<pb::GetResponse, Status> {
    check_key(&key)?;
    let found = cache.read(&key, |value| match value {
        Value::Scalar(body) => Ok(body.to_vec()),
        other => Err(wrong_type(other)),
    });
    Ok(match found {
        Lookup::Hit(body) => {
            count(&plane.shared, rpc, Outcome::Hit);
            pb::GetResponse {
                result: pb::ECacheResult::Hit as i32,
                cache_body: body?,
                message: String::new(),
            }
        }
        Lookup::Miss => {
            count(&plane.shared, rpc, Outcome::Miss);
            pb::GetResponse {
                result: pb::ECacheResult::Miss as i32,
                ..Default::default()
            }
        }
    })
}

pub fn set_one(
    plane: &DataPlane,
    rpc: &str,
    cache: &Cache,
    item: pb::SetRequest,
) -> Result<pb::SetResponse, Status> {
    check_key(&item.cache_key)?;
    let ttl = ttl(item.ttl_milliseconds)?;
    cache
        .put(
            item.cache_key.into(),
            Value::Scalar(item.cache_body.into()),
            ttl,
        )
        .map_err(store_status)?;
    count(&plane.shared, rpc, Outcome::Set);
    Ok(pb::SetResponse {
        result: pb::ECacheResult::Ok as i32,
        message: String::new(),
    })
}

/// Stores `body` when `condition` holds for the current scalar (`None`
/// when absent); true when stored.
fn set_when(
    plane: &DataPlane,
    rpc: &str,
    cache: &Cache,
    key: Vec<u8>,
    body: Vec<u8>,
    ttl_ms: u64,
    condition: impl FnOnce(Option<&[u8]>) -> bool,
) -> Result<bool, Status> {
    check_key(&key)?;
    let ttl = ttl(ttl_ms)?;
    let stored = cache
        .update(key.into(), |current| {
            let current = match current {
                None => None,
                Some((Value::Scalar(v), _)) => Some(v.as_ref()),
                Some((other, _)) => return Err(type_error(other)),
            };
            Ok(if condition(current) {
                (Change::Put(Value::Scalar(body.into()), Some(ttl)), true)
            } else {
                (Change::Keep, false)
            })
        })
        .map_err(store_status)?;
    if stored {
        count(&plane.shared, rpc, Outcome::Set);
    }
    Ok(stored)
}

pub fn get(plane: &DataPlane, request: Request<pb::GetRequest>) -> Reply<pb::GetResponse> {
    let cache = cache(&plane.shared, &request)?;
    get_one(plane, "Get", &cache, request.into_inner().cache_key).map(Response::new)
}

pub fn get_with_hash(
    plane: &DataPlane,
    request: Request<pb::GetWithHashRequest>,
) -> Reply<pb::GetWithHashResponse> {
    use pb::get_with_hash_response::{Found, Missing, Result as R};
    let cache = cache(&plane.shared, &request)?;
    let key = request.into_inner().cache_key;
    check_key(&key)?;
    let found = cache.read(&key, |value| match value {
        Value::Scalar(body) => Ok(body.to_vec()),
        other => Err(wrong_type(other)),
    });
    let result = match found {
        Lookup::Hit(body) => {
            count(&plane.shared, "GetWithHash", Outcome::Hit);
            let body = body?;
            R::Found(Found {
                hash: hash(&body),
                value: body,
            })
        }
        Lookup::Miss => {
            count(&plane.shared, "GetWithHash", Outcome::Miss);
            R::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::GetWithHashResponse {
        result: Some(result),
    }))
}

pub fn set(plane: &DataPlane, request: Request<pb::SetRequest>) -> Reply<pb::SetResponse> {
    let cache = cache(&plane.shared, &request)?;
    set_one(plane, "Set", &cache, request.into_inner()).map(Response::new)
}

pub fn set_if(plane: &DataPlane, request: Request<pb::SetIfRequest>) -> Reply<pb::SetIfResponse> {
    use pb::set_if_request::Condition;
    use pb::set_if_response::{NotStored, Result as R, Stored};
    let cache = cache(&plane.shared, &request)?;
    let inner = request.into_inner();
    let condition = inner
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
    let stored = set_when(
        plane,
        "SetIf",
        &cache,
        inner.cache_key,
        inner.cache_body,
        inner.ttl_milliseconds,
        holds,
    )?;
    let result = if stored {
        R::Stored(Stored {})
    } else {
        R::NotStored(NotStored {})
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
    let inner = request.into_inner();
    let condition = inner
        .condition
        .ok_or_else(|| Status::invalid_argument("SetIfHash needs a condition"))?;
    let current_hash = |current: Option<&[u8]>| current.map(hash);
    let holds = move |current: Option<&[u8]>| {
        let found = current_hash(current);
        match &condition {
            Condition::PresentAndNotHashEqual(c) => found.is_some_and(|h| h != c.hash_to_check),
            Condition::PresentAndHashEqual(c) => found.is_some_and(|h| h == c.hash_to_check),
            Condition::AbsentOrHashEqual(c) => found.is_none_or(|h| h == c.hash_to_check),
            Condition::AbsentOrNotHashEqual(c) => found.is_none_or(|h| h != c.hash_to_check),
            Condition::Unconditional(_) => true,
        }
    };
    let new_hash = hash(&inner.cache_body);
    let stored = set_when(
        plane,
        "SetIfHash",
        &cache,
        inner.cache_key,
        inner.cache_body,
        inner.ttl_milliseconds,
        holds,
    )?;
    let result = if stored {
        R::Stored(Stored { new_hash })
    } else {
        R::NotStored(NotStored {})
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
    let inner = request.into_inner();
    let stored = set_when(
        plane,
        "SetIfNotExists",
        &cache,
        inner.cache_key,
        inner.cache_body,
        inner.ttl_milliseconds,
        |current| current.is_none(),
    )?;
    let result = if stored {
        R::Stored(Stored {})
    } else {
        R::NotStored(NotStored {})
    };
    Ok(Response::new(pb::SetIfNotExistsResponse {
        result: Some(result),
    }))
}

pub fn delete(plane: &DataPlane, request: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
    let cache = cache(&plane.shared, &request)?;
    let key = request.into_inner().cache_key;
    check_key(&key)?;
    cache.remove(&key);
    Ok(Response::new(pb::DeleteResponse {}))
}

pub fn keys_exist(
    plane: &DataPlane,
    request: Request<pb::KeysExistRequest>,
) -> Reply<pb::KeysExistResponse> {
    let cache = cache(&plane.shared, &request)?;
    let keys = request.into_inner().cache_keys;
    for key in &keys {
        check_key(key)?;
    }
    let exists = keys
        .iter()
        .map(|key| matches!(cache.read(key, |_| ()), Lookup::Hit(())))
        .collect();
    Ok(Response::new(pb::KeysExistResponse { exists }))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::IncrementRequest>,
) -> Reply<pb::IncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
    let pb::IncrementRequest {
        cache_key,
        amount,
        ttl_milliseconds,
    } = request.into_inner();
    check_key(&cache_key)?;
    let ttl = ttl(ttl_milliseconds)?;
    let value = cache
        .update(cache_key.into(), |current| {
            let old = match current {
                None => 0,
                Some((Value::Scalar(v), _)) => parse_integer(v)?,
                Some((other, _)) => return Err(type_error(other)),
            };
            let new = old.checked_add(amount).ok_or(StoreError::Overflow)?;
            Ok((
                Change::Put(Value::Scalar(Bytes::from(new.to_string())), Some(ttl)),
                new,
            ))
        })
        .map_err(store_status)?;
    count(&plane.shared, "Increment", Outcome::Set);
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
    let pb::UpdateTtlRequest {
        cache_key,
        update_ttl,
    } = request.into_inner();
    check_key(&cache_key)?;
    let update = update_ttl.ok_or_else(|| Status::invalid_argument("UpdateTtl needs a TTL"))?;
    let result = cache
        .modify(cache_key.into(), |current| {
            use crate::store::Effect;
            let Some((_, remaining)) = current else {
                return Ok((Effect::Unchanged, R::Missing(Missing {})));
            };
            let (wanted, apply) = match update {
                UpdateTtl::IncreaseToMilliseconds(ms) => {
                    (ms, Duration::from_millis(ms) > remaining)
                }
                UpdateTtl::DecreaseToMilliseconds(ms) => {
                    (ms, Duration::from_millis(ms) < remaining)
                }
                UpdateTtl::OverwriteToMilliseconds(ms) => (ms, true),
            };
            if wanted == 0 {
                return Err(StoreError::ZeroTtl);
            }
            Ok(if apply {
                let ttl = Some(Duration::from_millis(wanted));
                (Effect::Changed(ttl), R::Set(Set {}))
            } else {
                (Effect::Unchanged, R::NotSet(NotSet {}))
            })
        })
        .map_err(store_status)?;
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
    let key = request.into_inner().cache_key;
    check_key(&key)?;
    let result = match cache.ttl(&key) {
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
    let key = request.into_inner().cache_key;
    check_key(&key)?;
    let result = match cache.read(&key, Value::item_type) {
        Lookup::Hit(found) => R::Found(Found {
            item_type: match found {
                ItemType::Scalar => T::Scalar,
                ItemType::Dictionary => T::Dictionary,
                ItemType::List => T::List,
                ItemType::Set => T::Set,
                ItemType::SortedSet => T::SortedSet,
            } as i32,
        }),
        Lookup::Miss => R::Missing(Missing {}),
    };
    Ok(Response::new(pb::ItemGetTypeResponse {
        result: Some(result),
    }))
}
