//! Dictionaries: get fields, fetch, set, increment, delete, length. Writes
//! follow Momento's collection TTL; deleting the last field removes the
//! dictionary.

use bytes::Bytes;
use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{
    cache, check_elements, check_key, check_size, count, store_status, ttl, type_error,
    write_collection, wrong_type, Reply,
};
use super::DataPlane;
use crate::stats::Outcome;
use crate::store::dictionary::Dictionary;
use crate::store::{Effect, Lookup, Value};

pub fn get(
    plane: &DataPlane,
    request: Request<pb::DictionaryGetRequest>,
) -> Reply<pb::DictionaryGetResponse> {
    use pb::dictionary_get_response::{
        Dictionary as D, DictionaryGetResponsePart as Part, Found, Missing,
    };
    let cache = cache(&plane.shared, &request)?;
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
            .map(|field| match map.get(field) {
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
                count(
                    &plane.shared,
                    "DictionaryGet",
                    if hit { Outcome::Hit } else { Outcome::Miss },
                );
            }
            D::Found(Found { items })
        }
        Lookup::Miss => {
            count(&plane.shared, "DictionaryGet", Outcome::Miss);
            D::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::DictionaryGetResponse {
        dictionary: Some(dictionary),
    }))
}

pub fn fetch(
    plane: &DataPlane,
    request: Request<pb::DictionaryFetchRequest>,
) -> Reply<pb::DictionaryFetchResponse> {
    use pb::dictionary_fetch_response::{Dictionary as D, Found, Missing};
    let cache = cache(&plane.shared, &request)?;
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
            count(&plane.shared, "DictionaryFetch", Outcome::Hit);
            D::Found(Found { items: items? })
        }
        Lookup::Miss => {
            count(&plane.shared, "DictionaryFetch", Outcome::Miss);
            D::Missing(Missing {})
        }
    };
    Ok(Response::new(pb::DictionaryFetchResponse {
        dictionary: Some(dictionary),
    }))
}

pub fn set(
    plane: &DataPlane,
    request: Request<pb::DictionarySetRequest>,
) -> Reply<pb::DictionarySetResponse> {
    let cache = cache(&plane.shared, &request)?;
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
    let limits = cache.limits();
    let items: Vec<(Bytes, Bytes)> = items
        .into_iter()
        .map(|i| (Bytes::from(i.field), Bytes::from(i.value)))
        .collect();
    let count_items = items.len();
    let key = Bytes::from(dictionary_name);
    cache
        .modify(key.clone(), |current| {
            check_elements(&limits, items.iter().map(|(_, v)| v.as_ref()))?;
            write_collection(
                &limits,
                &key,
                current,
                ttl,
                refresh_ttl,
                |dictionary: &mut Dictionary| {
                    check_size(&limits, &key, dictionary.size_after(&items))?;
                    for (field, value) in items {
                        dictionary.insert(field, value);
                    }
                    Ok(())
                },
            )
        })
        .map_err(store_status)?;
    for _ in 0..count_items {
        count(&plane.shared, "DictionarySet", Outcome::Set);
    }
    Ok(Response::new(pb::DictionarySetResponse {}))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::DictionaryIncrementRequest>,
) -> Reply<pb::DictionaryIncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
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
    let limits = cache.limits();
    let key = Bytes::from(dictionary_name);
    let value = cache
        .modify(key.clone(), |current| {
            write_collection(
                &limits,
                &key,
                current,
                ttl,
                refresh_ttl,
                |dictionary: &mut Dictionary| dictionary.increment(field.into(), amount),
            )
        })
        .map_err(store_status)?;
    count(&plane.shared, "DictionaryIncrement", Outcome::Set);
    Ok(Response::new(pb::DictionaryIncrementResponse { value }))
}

pub fn delete(
    plane: &DataPlane,
    request: Request<pb::DictionaryDeleteRequest>,
) -> Reply<pb::DictionaryDeleteResponse> {
    use pb::dictionary_delete_request::Delete;
    let cache = cache(&plane.shared, &request)?;
    let pb::DictionaryDeleteRequest {
        dictionary_name,
        delete,
    } = request.into_inner();
    check_key(&dictionary_name)?;
    let delete =
        delete.ok_or_else(|| Status::invalid_argument("DictionaryDelete needs fields or all"))?;
    cache
        .modify(dictionary_name.into(), |current| {
            let dictionary = match current {
                None => return Ok((Effect::Unchanged, ())),
                Some((Value::Dictionary(dictionary), _)) => dictionary,
                Some((other, _)) => return Err(type_error(other)),
            };
            let Delete::Some(some) = delete else {
                return Ok((Effect::Removed, ()));
            };
            for field in &some.fields {
                dictionary.remove(field);
            }
            // Momento removes a collection once its last element is gone.
            Ok(if dictionary.is_empty() {
                (Effect::Removed, ())
            } else {
                (Effect::Changed(None), ())
            })
        })
        .map_err(store_status)?;
    Ok(Response::new(pb::DictionaryDeleteResponse {}))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::DictionaryLengthRequest>,
) -> Reply<pb::DictionaryLengthResponse> {
    use pb::dictionary_length_response::{Dictionary as D, Found, Missing};
    let cache = cache(&plane.shared, &request)?;
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
