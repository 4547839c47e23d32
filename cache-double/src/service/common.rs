//! What every data-plane RPC shares, written once: the cache a request
//! names, key and TTL checks, Momento's collection TTL rule, the statuses
//! Momento answers for store errors, and the hit/miss counters.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tonic::{Request, Status};

use crate::state::Shared;
use crate::stats::{rpc_index, Outcome};
use crate::store::{Cache, Limits, StoreError, Value};

pub type Reply<T> = Result<tonic::Response<T>, Status>;

/// The cache named by the request's `cache` metadata.
pub fn cache<T>(shared: &Shared, request: &Request<T>) -> Result<Arc<Cache>, Status> {
    let name = request
        .metadata()
        .get("cache")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Status::invalid_argument("request has no `cache` metadata"))?;
    shared.cache(name)
}

pub fn count(shared: &Shared, rpc: &str, outcome: Outcome) {
    shared.stats.record(rpc_index(rpc), outcome);
}

pub fn check_key(key: &[u8]) -> Result<(), Status> {
    if key.is_empty() {
        return Err(Status::invalid_argument("key must not be empty"));
    }
    Ok(())
}

pub fn ttl(ms: u64) -> Result<Duration, Status> {
    if ms == 0 {
        return Err(Status::invalid_argument(
            "ttl_milliseconds must be positive",
        ));
    }
    Ok(Duration::from_millis(ms))
}

/// Momento's CollectionTtl: a new collection always gets `ttl`; an existing
/// one gets it only when `refresh` is set, otherwise it keeps its deadline.
pub fn collection_ttl(ttl: Duration, refresh: bool, existing: bool) -> Option<Duration> {
    (refresh || !existing).then_some(ttl)
}

pub fn type_error(value: &Value) -> StoreError {
    StoreError::WrongType {
        found: value.item_type().name(),
    }
}

pub fn wrong_type(value: &Value) -> Status {
    store_status(type_error(value))
}

/// Refuses an element over the element size limit.
pub fn check_elements<'a>(
    limits: &Limits,
    elements: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(), StoreError> {
    for element in elements {
        if element.len() > limits.max_element_bytes {
            return Err(StoreError::ElementTooLarge {
                size: element.len(),
                max: limits.max_element_bytes,
            });
        }
    }
    Ok(())
}

/// Refuses a collection that would grow past the item size limit.
pub fn check_size(limits: &Limits, key: &[u8], size: usize) -> Result<(), StoreError> {
    let size = key.len() + size;
    if size > limits.max_item_bytes {
        return Err(StoreError::TooLarge {
            size,
            max: limits.max_item_bytes,
        });
    }
    Ok(())
}

pub fn bytes(values: Vec<Vec<u8>>) -> Vec<Bytes> {
    values.into_iter().map(Bytes::from).collect()
}

pub fn vecs(values: Vec<Bytes>) -> Vec<Vec<u8>> {
    values.into_iter().map(|v| v.to_vec()).collect()
}

/// The status Momento answers for each store error.
pub fn store_status(err: StoreError) -> Status {
    let limit = |err: &StoreError, code: &'static str| {
        // Momento answers with RESOURCE_EXHAUSTED and this `err` metadata;
        // the SDK maps it to LimitExceededError.
        let mut status = Status::resource_exhausted(err.to_string());
        status
            .metadata_mut()
            .insert("err", tonic::metadata::MetadataValue::from_static(code));
        status
    };
    match err {
        StoreError::TooLarge { .. } => limit(&err, "item_size_limit_exceeded"),
        StoreError::ElementTooLarge { .. } => limit(&err, "element_size_limit_exceeded"),
        StoreError::ZeroTtl => Status::invalid_argument(err.to_string()),
        StoreError::WrongType { .. } | StoreError::NotAnInteger | StoreError::Overflow => {
            Status::failed_precondition(err.to_string())
        }
    }
}

/// A collection type, as far as writing one goes.
pub trait Collection: Default {
    fn wrap(self) -> Value;
    fn unwrap(value: &mut Value) -> Option<&mut Self>;
    fn size(&self) -> usize;
}

macro_rules! collection {
    ($type:ty, $variant:ident) => {
        impl Collection for $type {
            fn wrap(self) -> Value {
                Value::$variant(self)
            }
            fn unwrap(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(c) => Some(c),
                    _ => None,
                }
            }
            fn size(&self) -> usize {
                <$type>::size(self)
            }
        }
    };
}

collection!(crate::store::dictionary::Dictionary, Dictionary);
collection!(crate::store::list::List, List);
collection!(crate::store::set::Set, Set);
collection!(crate::store::sorted_set::SortedSet, SortedSet);

/// A write to the collection under `key`: `f` runs on the existing one
/// (changed in place; it checks the size limits before growing it) or on a
/// new one (created with the collection TTL, checked after). A key holding
/// another type is FAILED_PRECONDITION.
pub fn write_collection<C: Collection, T>(
    limits: &Limits,
    key: &[u8],
    current: Option<(&mut Value, Duration)>,
    ttl: Duration,
    refresh: bool,
    f: impl FnOnce(&mut C) -> Result<T, StoreError>,
) -> Result<(crate::store::Effect, T), StoreError> {
    use crate::store::Effect;
    match current {
        None => {
            let mut collection = C::default();
            let answer = f(&mut collection)?;
            check_size(limits, key, collection.size())?;
            Ok((Effect::Put(collection.wrap(), Some(ttl)), answer))
        }
        Some((value, _)) => {
            let found = value.item_type().name();
            let collection = C::unwrap(value).ok_or(StoreError::WrongType { found })?;
            let answer = f(collection)?;
            Ok((Effect::Changed(collection_ttl(ttl, refresh, true)), answer))
        }
    }
}
