//! The protocol floor: a tonic server that answers every Get with the same
//! Hit and every Set with Ok, storing nothing. No double can be faster than
//! this over the same SDK, transport and machine, so the benchmark reports
//! the double's latency and throughput as ratios to it.

use std::net::SocketAddr;

use momento_protos::cache_client::{self as pb, scs_server::Scs, scs_server::ScsServer};
use tokio::sync::oneshot;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

use crate::unimplemented::unimplemented_rpc;

struct Floor {
    body: Vec<u8>,
}

#[tonic::async_trait]
impl Scs for Floor {
    async fn get(
        &self,
        _request: Request<pb::GetRequest>,
    ) -> Result<Response<pb::GetResponse>, Status> {
        Ok(Response::new(pb::GetResponse {
            result: pb::ECacheResult::Hit as i32,
            cache_body: self.body.clone(),
            message: String::new(),
        }))
    }

    async fn set(
        &self,
        _request: Request<pb::SetRequest>,
    ) -> Result<Response<pb::SetResponse>, Status> {
        Ok(Response::new(pb::SetResponse {
            result: pb::ECacheResult::Ok as i32,
            message: String::new(),
        }))
    }

    type GetBatchStream = tokio_stream::Empty<Result<pb::GetResponse, Status>>;

    async fn get_batch(
        &self,
        _r: Request<pb::GetBatchRequest>,
    ) -> Result<Response<Self::GetBatchStream>, Status> {
        Err(unimplemented_rpc("GetBatch"))
    }

    type SetBatchStream = tokio_stream::Empty<Result<pb::SetResponse, Status>>;

    async fn set_batch(
        &self,
        _r: Request<pb::SetBatchRequest>,
    ) -> Result<Response<Self::SetBatchStream>, Status> {
        Err(unimplemented_rpc("SetBatch"))
    }

    crate::unimplemented::stubs! { cache_client;
        set_if(SetIfRequest, SetIfResponse, "SetIf");
        set_if_not_exists(SetIfNotExistsRequest, SetIfNotExistsResponse, "SetIfNotExists");
        delete(DeleteRequest, DeleteResponse, "Delete");
        keys_exist(KeysExistRequest, KeysExistResponse, "KeysExist");
        increment(IncrementRequest, IncrementResponse, "Increment");
        update_ttl(UpdateTtlRequest, UpdateTtlResponse, "UpdateTtl");
        item_get_ttl(ItemGetTtlRequest, ItemGetTtlResponse, "ItemGetTtl");
        item_get_type(ItemGetTypeRequest, ItemGetTypeResponse, "ItemGetType");
        dictionary_get(DictionaryGetRequest, DictionaryGetResponse, "DictionaryGet");
        dictionary_fetch(DictionaryFetchRequest, DictionaryFetchResponse, "DictionaryFetch");
        dictionary_set(DictionarySetRequest, DictionarySetResponse, "DictionarySet");
        dictionary_increment(DictionaryIncrementRequest, DictionaryIncrementResponse, "DictionaryIncrement");
        dictionary_delete(DictionaryDeleteRequest, DictionaryDeleteResponse, "DictionaryDelete");
        dictionary_length(DictionaryLengthRequest, DictionaryLengthResponse, "DictionaryLength");
        get_with_hash(GetWithHashRequest, GetWithHashResponse, "GetWithHash");
        set_if_hash(SetIfHashRequest, SetIfHashResponse, "SetIfHash");
        set_fetch(SetFetchRequest, SetFetchResponse, "SetFetch");
        set_sample(SetSampleRequest, SetSampleResponse, "SetSample");
        set_union(SetUnionRequest, SetUnionResponse, "SetUnion");
        set_difference(SetDifferenceRequest, SetDifferenceResponse, "SetDifference");
        set_contains(SetContainsRequest, SetContainsResponse, "SetContains");
        set_length(SetLengthRequest, SetLengthResponse, "SetLength");
        set_pop(SetPopRequest, SetPopResponse, "SetPop");
        list_push_front(ListPushFrontRequest, ListPushFrontResponse, "ListPushFront");
        list_push_back(ListPushBackRequest, ListPushBackResponse, "ListPushBack");
        list_pop_front(ListPopFrontRequest, ListPopFrontResponse, "ListPopFront");
        list_pop_back(ListPopBackRequest, ListPopBackResponse, "ListPopBack");
        list_erase(ListEraseRequest, ListEraseResponse, "ListErase");
        list_remove(ListRemoveRequest, ListRemoveResponse, "ListRemove");
        list_fetch(ListFetchRequest, ListFetchResponse, "ListFetch");
        list_length(ListLengthRequest, ListLengthResponse, "ListLength");
        list_concatenate_front(ListConcatenateFrontRequest, ListConcatenateFrontResponse, "ListConcatenateFront");
        list_concatenate_back(ListConcatenateBackRequest, ListConcatenateBackResponse, "ListConcatenateBack");
        list_retain(ListRetainRequest, ListRetainResponse, "ListRetain");
        sorted_set_put(SortedSetPutRequest, SortedSetPutResponse, "SortedSetPut");
        sorted_set_fetch(SortedSetFetchRequest, SortedSetFetchResponse, "SortedSetFetch");
        sorted_set_get_score(SortedSetGetScoreRequest, SortedSetGetScoreResponse, "SortedSetGetScore");
        sorted_set_remove(SortedSetRemoveRequest, SortedSetRemoveResponse, "SortedSetRemove");
        sorted_set_increment(SortedSetIncrementRequest, SortedSetIncrementResponse, "SortedSetIncrement");
        sorted_set_get_rank(SortedSetGetRankRequest, SortedSetGetRankResponse, "SortedSetGetRank");
        sorted_set_length(SortedSetLengthRequest, SortedSetLengthResponse, "SortedSetLength");
        sorted_set_length_by_score(SortedSetLengthByScoreRequest, SortedSetLengthByScoreResponse, "SortedSetLengthByScore");
        sorted_set_union_store(SortedSetUnionStoreRequest, SortedSetUnionStoreResponse, "SortedSetUnionStore");
    }
}

/// A running floor server on a free loopback port. Dropping it stops it.
pub struct FloorServer {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl FloorServer {
    /// Starts a floor server whose Gets all return `body`.
    ///
    /// # Errors
    /// If no loopback port can be bound.
    pub async fn start(body: Vec<u8>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        tokio::spawn(
            Server::builder()
                .add_service(ScsServer::new(Floor { body }))
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                }),
        );
        Ok(Self { addr, _stop: stop })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}
