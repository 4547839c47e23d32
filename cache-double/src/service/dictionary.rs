//! Dictionaries: get fields, fetch, set, increment, delete, length, over the
//! store's dictionary operations.

use momento_protos::cache_client as pb;
use tonic::{Request, Response, Status};

use super::common::{cache, store_status, Reply};
use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::store::rules::CollectionTtl;

pub fn get(
    plane: &DataPlane,
    request: Request<pb::DictionaryGetRequest>,
) -> Reply<pb::DictionaryGetResponse> {
    use pb::dictionary_get_response::{
        Dictionary as D, DictionaryGetResponsePart as Part, Found, Missing,
    };
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let found = plane.read(
        Rpc::DictionaryGet,
        cache.dictionary_get(&r.dictionary_name, &r.fields),
    )?;
    let dictionary = match found {
        Some(values) => D::Found(Found {
            items: values
                .into_iter()
                .map(|value| match value {
                    Some(v) => Part {
                        result: pb::ECacheResult::Hit as i32,
                        cache_body: v.to_vec(),
                    },
                    None => Part {
                        result: pb::ECacheResult::Miss as i32,
                        cache_body: Vec::new(),
                    },
                })
                .collect(),
        }),
        None => D::Missing(Missing {}),
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
    let found = plane.read(
        Rpc::DictionaryFetch,
        cache.dictionary_fetch(&request.into_inner().dictionary_name),
    )?;
    let dictionary = match found {
        Some(items) => D::Found(Found {
            items: items
                .into_iter()
                .map(|(field, value)| pb::DictionaryFieldValuePair {
                    field: field.to_vec(),
                    value: value.to_vec(),
                })
                .collect(),
        }),
        None => D::Missing(Missing {}),
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
    let r = request.into_inner();
    let ttl = CollectionTtl::new(r.ttl_milliseconds, r.refresh_ttl).map_err(store_status)?;
    let items = r.items.into_iter().map(|i| (i.field, i.value)).collect();
    plane.write(
        Rpc::DictionarySet,
        cache.dictionary_set(r.dictionary_name, items, ttl),
        |_| true,
    )?;
    Ok(Response::new(pb::DictionarySetResponse {}))
}

pub fn increment(
    plane: &DataPlane,
    request: Request<pb::DictionaryIncrementRequest>,
) -> Reply<pb::DictionaryIncrementResponse> {
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let ttl = CollectionTtl::new(r.ttl_milliseconds, r.refresh_ttl).map_err(store_status)?;
    let incremented = cache.dictionary_increment(r.dictionary_name, r.field, r.amount, ttl);
    let value = plane.write(Rpc::DictionaryIncrement, incremented, |_| true)?;
    Ok(Response::new(pb::DictionaryIncrementResponse { value }))
}

pub fn delete(
    plane: &DataPlane,
    request: Request<pb::DictionaryDeleteRequest>,
) -> Reply<pb::DictionaryDeleteResponse> {
    use pb::dictionary_delete_request::Delete;
    let cache = cache(&plane.shared, &request)?;
    let r = request.into_inner();
    let fields = match r
        .delete
        .ok_or_else(|| Status::invalid_argument("DictionaryDelete needs fields or all"))?
    {
        Delete::Some(some) => Some(some.fields),
        Delete::All(_) => None,
    };
    let deleted = cache.dictionary_delete(r.dictionary_name, fields);
    plane.write(Rpc::DictionaryDelete, deleted, |found| *found)?;
    Ok(Response::new(pb::DictionaryDeleteResponse {}))
}

pub fn length(
    plane: &DataPlane,
    request: Request<pb::DictionaryLengthRequest>,
) -> Reply<pb::DictionaryLengthResponse> {
    use pb::dictionary_length_response::{Dictionary as D, Found, Missing};
    let cache = cache(&plane.shared, &request)?;
    let found = plane.read(
        Rpc::DictionaryLength,
        cache.dictionary_length(&request.into_inner().dictionary_name),
    )?;
    let dictionary = match found {
        Some(length) => D::Found(Found { length }),
        None => D::Missing(Missing {}),
    };
    Ok(Response::new(pb::DictionaryLengthResponse {
        dictionary: Some(dictionary),
    }))
}
