//! The gRPC services: Momento's data plane (`cache_client.Scs`), by family,
//! and its control plane (`control_client.ScsControl`), over the
//! [`crate::store`].
//!
//! Semantics follow Momento's service as the SDKs observe it: missing items
//! are misses, not errors; an unknown cache is NOT_FOUND; bad arguments are
//! INVALID_ARGUMENT; an operation on an item of the wrong type, or an
//! increment of a non-integer, is FAILED_PRECONDITION; an item or element
//! over its size limit is RESOURCE_EXHAUSTED with Momento's `err` metadata.
//!
//! Each RPC decodes its request, makes one call to the store (which holds
//! every one of Momento's rules) and encodes the answer; the RPC table
//! ([`crate::state::rpc`]) says how it is counted.
//!
//! # Layout
//! - [`common`]: the cache a request names, statuses, counting.
//! - `scalar`, `dictionary`, `list`, `set`, `sorted_set`: one module per family.
//! - [`topics`]: the topics service.
//! - [`control`]: the control plane.

pub mod common;
pub mod control;
mod dictionary;
mod list;
mod scalar;
mod set;
mod sorted_set;
pub mod topics;

use std::sync::Arc;

use momento_protos::cache_client::{self as pb, scs_server::Scs};
use tonic::{Request, Response, Status};

pub use control::ControlPlane;

use self::common::Reply;
use crate::faults::{FaultyStream, StreamFault};
use crate::state::rpc::Rpc;
use crate::state::Shared;

/// The data plane.
#[derive(Clone)]
pub struct DataPlane {
    shared: Arc<Shared>,
}

impl DataPlane {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

type BatchStream<T> = FaultyStream<T>;

/// The batch's answers as a stream, cut short by a stream fault if asked.
fn batch_stream<T: Send + 'static>(
    fault: Option<StreamFault>,
    replies: Vec<Result<T, Status>>,
) -> BatchStream<T> {
    let stream = tokio_stream::iter(replies);
    match fault {
        Some(fault) => fault.apply(stream),
        None => Box::pin(stream),
    }
}

/// Each RPC delegates to its family's module.
#[tonic::async_trait]
impl Scs for DataPlane {
    async fn get(&self, r: Request<pb::GetRequest>) -> Reply<pb::GetResponse> {
        scalar::get(self, r)
    }

    async fn get_with_hash(
        &self,
        r: Request<pb::GetWithHashRequest>,
    ) -> Reply<pb::GetWithHashResponse> {
        scalar::get_with_hash(self, r)
    }

    type GetBatchStream = BatchStream<pb::GetResponse>;

    /// One answer per key, in order, streamed.
    async fn get_batch(&self, r: Request<pb::GetBatchRequest>) -> Reply<Self::GetBatchStream> {
        let cache = common::cache(&self.shared, &r)?;
        let fault = StreamFault::from_headers(r.metadata().as_ref(), Rpc::GetBatch);
        let replies = r
            .into_inner()
            .items
            .into_iter()
            .map(|item| scalar::get_one(self, Rpc::GetBatch, &cache, &item.cache_key));
        Ok(Response::new(batch_stream(fault, replies.collect())))
    }

    async fn set(&self, r: Request<pb::SetRequest>) -> Reply<pb::SetResponse> {
        scalar::set(self, r)
    }

    type SetBatchStream = BatchStream<pb::SetResponse>;

    /// One answer per item, in order, streamed.
    async fn set_batch(&self, r: Request<pb::SetBatchRequest>) -> Reply<Self::SetBatchStream> {
        let cache = common::cache(&self.shared, &r)?;
        let fault = StreamFault::from_headers(r.metadata().as_ref(), Rpc::SetBatch);
        let replies = r
            .into_inner()
            .items
            .into_iter()
            .map(|item| scalar::set_one(self, Rpc::SetBatch, &cache, item));
        Ok(Response::new(batch_stream(fault, replies.collect())))
    }

    async fn set_if(&self, r: Request<pb::SetIfRequest>) -> Reply<pb::SetIfResponse> {
        scalar::set_if(self, r)
    }

    async fn set_if_hash(&self, r: Request<pb::SetIfHashRequest>) -> Reply<pb::SetIfHashResponse> {
        scalar::set_if_hash(self, r)
    }

    async fn set_if_not_exists(
        &self,
        r: Request<pb::SetIfNotExistsRequest>,
    ) -> Reply<pb::SetIfNotExistsResponse> {
        scalar::set_if_not_exists(self, r)
    }

    async fn delete(&self, r: Request<pb::DeleteRequest>) -> Reply<pb::DeleteResponse> {
        scalar::delete(self, r)
    }

    async fn keys_exist(&self, r: Request<pb::KeysExistRequest>) -> Reply<pb::KeysExistResponse> {
        scalar::keys_exist(self, r)
    }

    async fn increment(&self, r: Request<pb::IncrementRequest>) -> Reply<pb::IncrementResponse> {
        scalar::increment(self, r)
    }

    async fn update_ttl(&self, r: Request<pb::UpdateTtlRequest>) -> Reply<pb::UpdateTtlResponse> {
        scalar::update_ttl(self, r)
    }

    async fn item_get_ttl(
        &self,
        r: Request<pb::ItemGetTtlRequest>,
    ) -> Reply<pb::ItemGetTtlResponse> {
        scalar::item_get_ttl(self, r)
    }

    async fn item_get_type(
        &self,
        r: Request<pb::ItemGetTypeRequest>,
    ) -> Reply<pb::ItemGetTypeResponse> {
        scalar::item_get_type(self, r)
    }

    async fn dictionary_get(
        &self,
        r: Request<pb::DictionaryGetRequest>,
    ) -> Reply<pb::DictionaryGetResponse> {
        dictionary::get(self, r)
    }

    async fn dictionary_fetch(
        &self,
        r: Request<pb::DictionaryFetchRequest>,
    ) -> Reply<pb::DictionaryFetchResponse> {
        dictionary::fetch(self, r)
    }

    async fn dictionary_set(
        &self,
        r: Request<pb::DictionarySetRequest>,
    ) -> Reply<pb::DictionarySetResponse> {
        dictionary::set(self, r)
    }

    async fn dictionary_increment(
        &self,
        r: Request<pb::DictionaryIncrementRequest>,
    ) -> Reply<pb::DictionaryIncrementResponse> {
        dictionary::increment(self, r)
    }

    async fn dictionary_delete(
        &self,
        r: Request<pb::DictionaryDeleteRequest>,
    ) -> Reply<pb::DictionaryDeleteResponse> {
        dictionary::delete(self, r)
    }

    async fn dictionary_length(
        &self,
        r: Request<pb::DictionaryLengthRequest>,
    ) -> Reply<pb::DictionaryLengthResponse> {
        dictionary::length(self, r)
    }

    async fn set_fetch(&self, r: Request<pb::SetFetchRequest>) -> Reply<pb::SetFetchResponse> {
        set::fetch(self, r)
    }

    async fn set_sample(&self, r: Request<pb::SetSampleRequest>) -> Reply<pb::SetSampleResponse> {
        set::sample(self, r)
    }

    async fn set_union(&self, r: Request<pb::SetUnionRequest>) -> Reply<pb::SetUnionResponse> {
        set::union(self, r)
    }

    async fn set_difference(
        &self,
        r: Request<pb::SetDifferenceRequest>,
    ) -> Reply<pb::SetDifferenceResponse> {
        set::difference(self, r)
    }

    async fn set_contains(
        &self,
        r: Request<pb::SetContainsRequest>,
    ) -> Reply<pb::SetContainsResponse> {
        set::contains(self, r)
    }

    async fn set_length(&self, r: Request<pb::SetLengthRequest>) -> Reply<pb::SetLengthResponse> {
        set::length(self, r)
    }

    async fn set_pop(&self, r: Request<pb::SetPopRequest>) -> Reply<pb::SetPopResponse> {
        set::pop(self, r)
    }

    async fn list_push_front(
        &self,
        r: Request<pb::ListPushFrontRequest>,
    ) -> Reply<pb::ListPushFrontResponse> {
        list::push_front(self, r)
    }

    async fn list_push_back(
        &self,
        r: Request<pb::ListPushBackRequest>,
    ) -> Reply<pb::ListPushBackResponse> {
        list::push_back(self, r)
    }

    async fn list_pop_front(
        &self,
        r: Request<pb::ListPopFrontRequest>,
    ) -> Reply<pb::ListPopFrontResponse> {
        list::pop_front(self, r)
    }

    async fn list_pop_back(
        &self,
        r: Request<pb::ListPopBackRequest>,
    ) -> Reply<pb::ListPopBackResponse> {
        list::pop_back(self, r)
    }

    async fn list_erase(&self, r: Request<pb::ListEraseRequest>) -> Reply<pb::ListEraseResponse> {
        list::erase(self, r)
    }

    async fn list_remove(
        &self,
        r: Request<pb::ListRemoveRequest>,
    ) -> Reply<pb::ListRemoveResponse> {
        list::remove(self, r)
    }

    async fn list_fetch(&self, r: Request<pb::ListFetchRequest>) -> Reply<pb::ListFetchResponse> {
        list::fetch(self, r)
    }

    async fn list_length(
        &self,
        r: Request<pb::ListLengthRequest>,
    ) -> Reply<pb::ListLengthResponse> {
        list::length(self, r)
    }

    async fn list_concatenate_front(
        &self,
        r: Request<pb::ListConcatenateFrontRequest>,
    ) -> Reply<pb::ListConcatenateFrontResponse> {
        list::concatenate_front(self, r)
    }

    async fn list_concatenate_back(
        &self,
        r: Request<pb::ListConcatenateBackRequest>,
    ) -> Reply<pb::ListConcatenateBackResponse> {
        list::concatenate_back(self, r)
    }

    async fn list_retain(
        &self,
        r: Request<pb::ListRetainRequest>,
    ) -> Reply<pb::ListRetainResponse> {
        list::retain(self, r)
    }

    async fn sorted_set_put(
        &self,
        r: Request<pb::SortedSetPutRequest>,
    ) -> Reply<pb::SortedSetPutResponse> {
        sorted_set::put(self, r)
    }

    async fn sorted_set_fetch(
        &self,
        r: Request<pb::SortedSetFetchRequest>,
    ) -> Reply<pb::SortedSetFetchResponse> {
        sorted_set::fetch(self, r)
    }

    async fn sorted_set_get_score(
        &self,
        r: Request<pb::SortedSetGetScoreRequest>,
    ) -> Reply<pb::SortedSetGetScoreResponse> {
        sorted_set::get_score(self, r)
    }

    async fn sorted_set_remove(
        &self,
        r: Request<pb::SortedSetRemoveRequest>,
    ) -> Reply<pb::SortedSetRemoveResponse> {
        sorted_set::remove(self, r)
    }

    async fn sorted_set_increment(
        &self,
        r: Request<pb::SortedSetIncrementRequest>,
    ) -> Reply<pb::SortedSetIncrementResponse> {
        sorted_set::increment(self, r)
    }

    async fn sorted_set_get_rank(
        &self,
        r: Request<pb::SortedSetGetRankRequest>,
    ) -> Reply<pb::SortedSetGetRankResponse> {
        sorted_set::get_rank(self, r)
    }

    async fn sorted_set_length(
        &self,
        r: Request<pb::SortedSetLengthRequest>,
    ) -> Reply<pb::SortedSetLengthResponse> {
        sorted_set::length(self, r)
    }

    async fn sorted_set_length_by_score(
        &self,
        r: Request<pb::SortedSetLengthByScoreRequest>,
    ) -> Reply<pb::SortedSetLengthByScoreResponse> {
        sorted_set::length_by_score(self, r)
    }

    async fn sorted_set_union_store(
        &self,
        r: Request<pb::SortedSetUnionStoreRequest>,
    ) -> Reply<pb::SortedSetUnionStoreResponse> {
        sorted_set::union_store(self, r)
    }
}
