//! The gRPC services: Momento's data plane (`cache_client.Scs`) and control
//! plane (`control_client.ScsControl`) over the [`crate::store`].
//!
//! Semantics follow Momento's service as the SDK observes it: missing items
//! are misses, not errors; an unknown cache is NOT_FOUND; bad arguments are
//! INVALID_ARGUMENT; an operation on an item of the wrong type, or an
//! increment of a non-integer, is FAILED_PRECONDITION.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use momento_protos::cache_client::{self as pb, scs_server::Scs};
use momento_protos::control_client::{self as ctl, scs_control_server::ScsControl};
use tonic::{Request, Response, Status};

use crate::state::Shared;
use crate::stats::{rpc_index, Outcome};
use crate::store::{Cache, Change, Lookup, StoreError, Value};

type Reply<T> = Result<Response<T>, Status>;

/// The data plane.
#[derive(Clone)]
pub struct DataPlane {
    shared: Arc<Shared>,
}

/// The control plane.
#[derive(Clone)]
pub struct ControlPlane {
    shared: Arc<Shared>,
}

impl DataPlane {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// The cache named by the request's `cache` metadata.
    fn cache<T>(&self, request: &Request<T>) -> Result<Arc<Cache>, Status> {
        let name = request
            .metadata()
            .get("cache")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::invalid_argument("request has no `cache` metadata"))?;
        self.shared.cache(name)
    }

    fn count(&self, rpc: &str, outcome: Outcome) {
        self.shared.stats.record(rpc_index(rpc), outcome);
    }

    fn get_one(&self, rpc: &str, cache: &Cache, key: Vec<u8>) -> Result<pb::GetResponse, Status> {
        check_key(&key)?;
        let found = cache.read(&key, |value| match value {
            Value::Scalar(body) => Ok(body.to_vec()),
            other => Err(wrong_type(other)),
        });
        Ok(match found {
            Lookup::Hit(body) => {
                self.count(rpc, Outcome::Hit);
                pb::GetResponse {
                    result: pb::ECacheResult::Hit as i32,
                    cache_body: body?,
                    message: String::new(),
                }
            }
            Lookup::Miss => {
                self.count(rpc, Outcome::Miss);
                pb::GetResponse {
                    result: pb::ECacheResult::Miss as i32,
                    ..Default::default()
                }
            }
        })
    }

    fn set_one(
        &self,
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
        self.count(rpc, Outcome::Set);
        Ok(pb::SetResponse {
            result: pb::ECacheResult::Ok as i32,
            message: String::new(),
        })
    }

    /// Shared by SetIf and SetIfNotExists: store when `condition` holds for
    /// the current value (`None` when absent).
    fn set_when(
        &self,
        rpc: &str,
        request: &Request<impl Sized>,
        key: Vec<u8>,
        body: Vec<u8>,
        ttl_ms: u64,
        condition: impl FnOnce(Option<&[u8]>) -> bool,
    ) -> Result<bool, Status> {
        let cache = self.cache(request)?;
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
            self.count(rpc, Outcome::Set);
        }
        Ok(stored)
    }
}

#[tonic::async_trait]
impl Scs for DataPlane {
    async fn get(&self, request: Request<pb::GetRequest>) -> Reply<pb::GetResponse> {
        let cache = self.cache(&request)?;
        self.get_one("Get", &cache, request.into_inner().cache_key)
            .map(Response::new)
    }

    type GetBatchStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::GetResponse, Status>>>;

    async fn get_batch(
        &self,
        request: Request<pb::GetBatchRequest>,
    ) -> Reply<Self::GetBatchStream> {
        let cache = self.cache(&request)?;
        let replies: Vec<_> = request
            .into_inner()
            .items
            .into_iter()
            .map(|item| self.get_one("GetBatch", &cache, item.cache_key))
            .collect();
        Ok(Response::new(tokio_stream::iter(replies)))
    }

    async fn set(&self, request: Request<pb::SetRequest>) -> Reply<pb::SetResponse> {
        let cache = self.cache(&request)?;
        self.set_one("Set", &cache, request.into_inner())
            .map(Response::new)
    }

    type SetBatchStream = tokio_stream::Iter<std::vec::IntoIter<Result<pb::SetResponse, Status>>>;

    async fn set_batch(
        &self,
        request: Request<pb::SetBatchRequest>,
    ) -> Reply<Self::SetBatchStream> {
        let cache = self.cache(&request)?;
        let replies: Vec<_> = request
            .into_inner()
            .items
            .into_iter()
            .map(|item| self.set_one("SetBatch", &cache, item))
            .collect();
        Ok(Response::new(tokio_stream::iter(replies)))
    }

    async fn set_if(&self, request: Request<pb::SetIfRequest>) -> Reply<pb::SetIfResponse> {
        use momento_protos::cache_client::set_if_request::Condition;
        use momento_protos::cache_client::set_if_response::{NotStored, Result as R, Stored};
        let (meta, ext, inner) = request.into_parts();
        let request = Request::from_parts(meta, ext, ());
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
        let stored = self.set_when(
            "SetIf",
            &request,
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

    async fn set_if_not_exists(
        &self,
        request: Request<pb::SetIfNotExistsRequest>,
    ) -> Reply<pb::SetIfNotExistsResponse> {
        use momento_protos::cache_client::set_if_not_exists_response::{
            NotStored, Result as R, Stored,
        };
        let (meta, ext, inner) = request.into_parts();
        let request = Request::from_parts(meta, ext, ());
        let stored = self.set_when(
            "SetIfNotExists",
            &request,
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

    async fn delete(&self, request: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
        let cache = self.cache(&request)?;
        let key = request.into_inner().cache_key;
        check_key(&key)?;
        cache.remove(&key);
        Ok(Response::new(pb::DeleteResponse {}))
    }

    async fn keys_exist(
        &self,
        request: Request<pb::KeysExistRequest>,
    ) -> Reply<pb::KeysExistResponse> {
        let cache = self.cache(&request)?;
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

    async fn increment(
        &self,
        request: Request<pb::IncrementRequest>,
    ) -> Reply<pb::IncrementResponse> {
        let cache = self.cache(&request)?;
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
                Ok((Change::Put(integer_value(new), Some(ttl)), new))
            })
            .map_err(store_status)?;
        self.count("Increment", Outcome::Set);
        Ok(Response::new(pb::IncrementResponse { value }))
    }

    async fn update_ttl(
        &self,
        request: Request<pb::UpdateTtlRequest>,
    ) -> Reply<pb::UpdateTtlResponse> {
        use momento_protos::cache_client::update_ttl_request::UpdateTtl;
        use momento_protos::cache_client::update_ttl_response::{
            Missing, NotSet, Result as R, Set,
        };
        let cache = self.cache(&request)?;
        let pb::UpdateTtlRequest {
            cache_key,
            update_ttl,
        } = request.into_inner();
        check_key(&cache_key)?;
        let update = update_ttl.ok_or_else(|| Status::invalid_argument("UpdateTtl needs a TTL"))?;
        let result = cache
            .update(cache_key.into(), |current| {
                let Some((value, remaining)) = current else {
                    return Ok((Change::Keep, R::Missing(Missing {})));
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
                    (Change::Put(value.clone(), ttl), R::Set(Set {}))
                } else {
                    (Change::Keep, R::NotSet(NotSet {}))
                })
            })
            .map_err(store_status)?;
        Ok(Response::new(pb::UpdateTtlResponse {
            result: Some(result),
        }))
    }

    async fn item_get_ttl(
        &self,
        request: Request<pb::ItemGetTtlRequest>,
    ) -> Reply<pb::ItemGetTtlResponse> {
        use momento_protos::cache_client::item_get_ttl_response::{Found, Missing, Result as R};
        let cache = self.cache(&request)?;
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

    async fn item_get_type(
        &self,
        request: Request<pb::ItemGetTypeRequest>,
    ) -> Reply<pb::ItemGetTypeResponse> {
        use momento_protos::cache_client::item_get_type_response::{
            Found, ItemType, Missing, Result as R,
        };
        let cache = self.cache(&request)?;
        let key = request.into_inner().cache_key;
        check_key(&key)?;
        let result = match cache.read(&key, |value| match value {
            Value::Scalar(_) => ItemType::Scalar,
            Value::Dictionary(_) => ItemType::Dictionary,
        }) {
            Lookup::Hit(t) => R::Found(Found {
                item_type: t as i32,
            }),
            Lookup::Miss => R::Missing(Missing {}),
        };
        Ok(Response::new(pb::ItemGetTypeResponse {
            result: Some(result),
        }))
    }

    async fn dictionary_get(
        &self,
        request: Request<pb::DictionaryGetRequest>,
    ) -> Reply<pb::DictionaryGetResponse> {
        use momento_protos::cache_client::dictionary_get_response::{
            Dictionary as D, DictionaryGetResponsePart as Part, Found, Missing,
        };
        let cache = self.cache(&request)?;
        let pb::DictionaryGetRequest {
            dictionary_name,
            fields,
        } = request.into_inner();
        check_key(&dictionary_name)?;
        if fields.is_empty() || fields.iter().any(Vec::is_empty) {
            return Err(Status::invalid_argument("fields must be non-empty"));
        }
        let found = cache.read(&dictionary_name, |value| {
            let Value::Dictionary(map) = value else {
                return Err(wrong_type(value));
            };
            Ok(fields
                .iter()
                .map(|field| match map.get(field.as_slice()) {
                    Some(v) => Part {
                        result: pb::ECacheResult::Hit as i32,
                        cache_body: v.to_vec(),
                    },
                    None => Part {
                        result: pb::ECacheResult::Miss as i32,
                        cache_body: Vec::new(),
                    },
                })
                .collect::<Vec<_>>())
        });
        let dictionary = match found {
            Lookup::Hit(items) => {
                let items = items?;
                for part in &items {
                    let hit = part.result == pb::ECacheResult::Hit as i32;
                    self.count(
                        "DictionaryGet",
                        if hit { Outcome::Hit } else { Outcome::Miss },
                    );
                }
                D::Found(Found { items })
            }
            Lookup::Miss => {
                self.count("DictionaryGet", Outcome::Miss);
                D::Missing(Missing {})
            }
        };
        Ok(Response::new(pb::DictionaryGetResponse {
            dictionary: Some(dictionary),
        }))
    }

    async fn dictionary_fetch(
        &self,
        request: Request<pb::DictionaryFetchRequest>,
    ) -> Reply<pb::DictionaryFetchResponse> {
        use momento_protos::cache_client::dictionary_fetch_response::{
            Dictionary as D, Found, Missing,
        };
        let cache = self.cache(&request)?;
        let name = request.into_inner().dictionary_name;
        check_key(&name)?;
        let found = cache.read(&name, |value| match value {
            Value::Dictionary(map) => Ok(map
                .iter()
                .map(|(f, v)| pb::DictionaryFieldValuePair {
                    field: f.to_vec(),
                    value: v.to_vec(),
                })
                .collect()),
            other => Err(wrong_type(other)),
        });
        let dictionary = match found {
            Lookup::Hit(items) => {
                self.count("DictionaryFetch", Outcome::Hit);
                D::Found(Found { items: items? })
            }
            Lookup::Miss => {
                self.count("DictionaryFetch", Outcome::Miss);
                D::Missing(Missing {})
            }
        };
        Ok(Response::new(pb::DictionaryFetchResponse {
            dictionary: Some(dictionary),
        }))
    }

    async fn dictionary_set(
        &self,
        request: Request<pb::DictionarySetRequest>,
    ) -> Reply<pb::DictionarySetResponse> {
        let cache = self.cache(&request)?;
        let pb::DictionarySetRequest {
            dictionary_name,
            items,
            ttl_milliseconds,
            refresh_ttl,
        } = request.into_inner();
        check_key(&dictionary_name)?;
        if items.is_empty() || items.iter().any(|i| i.field.is_empty()) {
            return Err(Status::invalid_argument(
                "items must be non-empty, with non-empty fields",
            ));
        }
        let ttl = ttl(ttl_milliseconds)?;
        let count = items.len();
        cache
            .update(dictionary_name.into(), |current| {
                let (mut map, keep_deadline) = dictionary_for_write(current)?;
                for item in items {
                    map.insert(item.field.into(), item.value.into());
                }
                Ok((
                    Change::Put(
                        Value::Dictionary(map),
                        collection_ttl(ttl, refresh_ttl, keep_deadline),
                    ),
                    (),
                ))
            })
            .map_err(store_status)?;
        for _ in 0..count {
            self.count("DictionarySet", Outcome::Set);
        }
        Ok(Response::new(pb::DictionarySetResponse {}))
    }

    async fn dictionary_increment(
        &self,
        request: Request<pb::DictionaryIncrementRequest>,
    ) -> Reply<pb::DictionaryIncrementResponse> {
        let cache = self.cache(&request)?;
        let pb::DictionaryIncrementRequest {
            dictionary_name,
            field,
            amount,
            ttl_milliseconds,
            refresh_ttl,
        } = request.into_inner();
        check_key(&dictionary_name)?;
        if field.is_empty() {
            return Err(Status::invalid_argument("field must be non-empty"));
        }
        let ttl = ttl(ttl_milliseconds)?;
        let value = cache
            .update(dictionary_name.into(), |current| {
                let (mut map, keep_deadline) = dictionary_for_write(current)?;
                let old = match map.get(field.as_slice()) {
                    Some(v) => parse_integer(v)?,
                    None => 0,
                };
                let new = old.checked_add(amount).ok_or(StoreError::Overflow)?;
                map.insert(field.into(), Bytes::from(new.to_string()));
                Ok((
                    Change::Put(
                        Value::Dictionary(map),
                        collection_ttl(ttl, refresh_ttl, keep_deadline),
                    ),
                    new,
                ))
            })
            .map_err(store_status)?;
        self.count("DictionaryIncrement", Outcome::Set);
        Ok(Response::new(pb::DictionaryIncrementResponse { value }))
    }

    async fn dictionary_delete(
        &self,
        request: Request<pb::DictionaryDeleteRequest>,
    ) -> Reply<pb::DictionaryDeleteResponse> {
        use momento_protos::cache_client::dictionary_delete_request::Delete;
        let cache = self.cache(&request)?;
        let pb::DictionaryDeleteRequest {
            dictionary_name,
            delete,
        } = request.into_inner();
        check_key(&dictionary_name)?;
        let delete = delete
            .ok_or_else(|| Status::invalid_argument("DictionaryDelete needs fields or all"))?;
        cache
            .update(dictionary_name.into(), |current| {
                let map = match current {
                    None => return Ok((Change::Keep, ())),
                    Some((Value::Dictionary(map), _)) => map,
                    Some((other, _)) => return Err(type_error(other)),
                };
                let Delete::Some(some) = delete else {
                    return Ok((Change::Remove, ()));
                };
                let mut map = map.clone();
                for field in &some.fields {
                    map.remove(field.as_slice());
                }
                // Momento removes a collection once its last element is gone.
                Ok(if map.is_empty() {
                    (Change::Remove, ())
                } else {
                    (Change::Put(Value::Dictionary(map), None), ())
                })
            })
            .map_err(store_status)?;
        Ok(Response::new(pb::DictionaryDeleteResponse {}))
    }

    async fn dictionary_length(
        &self,
        request: Request<pb::DictionaryLengthRequest>,
    ) -> Reply<pb::DictionaryLengthResponse> {
        use momento_protos::cache_client::dictionary_length_response::{
            Dictionary as D, Found, Missing,
        };
        let cache = self.cache(&request)?;
        let name = request.into_inner().dictionary_name;
        check_key(&name)?;
        let found = cache.read(&name, |value| match value {
            Value::Dictionary(map) => Ok(map.len() as u32),
            other => Err(wrong_type(other)),
        });
        let dictionary = match found {
            Lookup::Hit(length) => D::Found(Found { length: length? }),
            Lookup::Miss => D::Missing(Missing {}),
        };
        Ok(Response::new(pb::DictionaryLengthResponse {
            dictionary: Some(dictionary),
        }))
    }

    crate::unimplemented::scs_stubs!();
}

impl ControlPlane {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

#[tonic::async_trait]
impl ScsControl for ControlPlane {
    async fn create_cache(
        &self,
        request: Request<ctl::CreateCacheRequest>,
    ) -> Reply<ctl::CreateCacheResponse> {
        let name = request.into_inner().cache_name;
        check_cache_name(&name)?;
        if !self.shared.create_cache(&name) {
            return Err(Status::already_exists(format!(
                "cache '{name}' already exists"
            )));
        }
        Ok(Response::new(ctl::CreateCacheResponse {}))
    }

    async fn delete_cache(
        &self,
        request: Request<ctl::DeleteCacheRequest>,
    ) -> Reply<ctl::DeleteCacheResponse> {
        let name = request.into_inner().cache_name;
        check_cache_name(&name)?;
        if !self.shared.delete_cache(&name) {
            return Err(Status::not_found(format!("cache '{name}' does not exist")));
        }
        Ok(Response::new(ctl::DeleteCacheResponse {}))
    }

    async fn list_caches(
        &self,
        _request: Request<ctl::ListCachesRequest>,
    ) -> Reply<ctl::ListCachesResponse> {
        let limits = self.shared.limits;
        let cache = self
            .shared
            .cache_names()
            .into_iter()
            .map(|name| ctl::Cache {
                cache_id: name.clone(),
                cache_name: name,
                cache_limits: Some(ctl::CacheLimits {
                    max_traffic_rate: 1_000_000,
                    max_throughput_kbps: 10_000_000,
                    max_item_size_kb: (limits.max_item_bytes / 1024) as u32,
                    max_ttl_seconds: 86_400 * 365,
                }),
                topic_limits: Some(ctl::TopicLimits::default()),
            })
            .collect();
        Ok(Response::new(ctl::ListCachesResponse {
            cache,
            next_token: String::new(),
        }))
    }

    async fn flush_cache(
        &self,
        request: Request<ctl::FlushCacheRequest>,
    ) -> Reply<ctl::FlushCacheResponse> {
        let name = request.into_inner().cache_name;
        check_cache_name(&name)?;
        self.shared.cache(&name)?.flush();
        Ok(Response::new(ctl::FlushCacheResponse {}))
    }

    crate::unimplemented::control_stubs!();
}

fn check_key(key: &[u8]) -> Result<(), Status> {
    if key.is_empty() {
        return Err(Status::invalid_argument("key must not be empty"));
    }
    Ok(())
}

fn check_cache_name(name: &str) -> Result<(), Status> {
    if name.trim().is_empty() {
        return Err(Status::invalid_argument("cache name must not be empty"));
    }
    Ok(())
}

fn ttl(ms: u64) -> Result<Duration, Status> {
    if ms == 0 {
        return Err(Status::invalid_argument(
            "ttl_milliseconds must be positive",
        ));
    }
    Ok(Duration::from_millis(ms))
}

/// Momento's CollectionTtl: a new collection always gets `ttl`; an existing
/// one gets it only when `refresh` is set, otherwise it keeps its deadline.
fn collection_ttl(ttl: Duration, refresh: bool, existing: bool) -> Option<Duration> {
    (refresh || !existing).then_some(ttl)
}

/// The dictionary to modify (empty when absent) and whether it existed.
fn dictionary_for_write(
    current: Option<(&Value, Duration)>,
) -> Result<(HashMap<Bytes, Bytes>, bool), StoreError> {
    match current {
        None => Ok((HashMap::new(), false)),
        Some((Value::Dictionary(map), _)) => Ok((map.clone(), true)),
        Some((other, _)) => Err(type_error(other)),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Scalar(_) => "scalar",
        Value::Dictionary(_) => "dictionary",
    }
}

fn type_error(value: &Value) -> StoreError {
    StoreError::WrongType {
        found: type_name(value),
    }
}

fn wrong_type(value: &Value) -> Status {
    store_status(type_error(value))
}

fn parse_integer(value: &[u8]) -> Result<i64, StoreError> {
    std::str::from_utf8(value)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or(StoreError::NotAnInteger)
}

fn integer_value(value: i64) -> Value {
    Value::Scalar(Bytes::from(value.to_string()))
}

/// The status Momento answers for each store error.
fn store_status(err: StoreError) -> Status {
    match err {
        // Momento answers an oversize item with RESOURCE_EXHAUSTED and this
        // `err` metadata; the SDK maps it to LimitExceededError.
        StoreError::TooLarge { .. } => {
            let mut status = Status::resource_exhausted(err.to_string());
            status.metadata_mut().insert(
                "err",
                tonic::metadata::MetadataValue::from_static("item_size_limit_exceeded"),
            );
            status
        }
        StoreError::ZeroTtl => Status::invalid_argument(err.to_string()),
        StoreError::WrongType { .. } | StoreError::NotAnInteger | StoreError::Overflow => {
            Status::failed_precondition(err.to_string())
        }
    }
}
