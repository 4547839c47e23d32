//! The RPCs the double does not implement. Each answers UNIMPLEMENTED with a
//! message naming the RPC; the SDK maps that to `BadRequestError`.

use tonic::Status;

/// The status for an RPC the double does not implement.
pub fn unimplemented_rpc(rpc: &str) -> Status {
    Status::unimplemented(format!("the cache double does not implement {rpc}"))
}

/// Writes one stub trait method per `name(Request, Response, "RpcName");` row.
///
/// The methods are written in the form `#[async_trait]` expands to, because
/// that attribute runs before this macro is expanded inside the impl.
macro_rules! stubs {
    ($module:ident; $($method:ident($req:ident, $resp:ident, $rpc:literal);)*) => {
        $(
            fn $method<'life0, 'async_trait>(
                &'life0 self,
                _request: tonic::Request<momento_protos::$module::$req>,
            ) -> ::std::pin::Pin<Box<
                dyn ::std::future::Future<
                    Output = Result<tonic::Response<momento_protos::$module::$resp>, tonic::Status>,
                > + Send + 'async_trait,
            >>
            where
                'life0: 'async_trait,
                Self: 'async_trait,
            {
                Box::pin(::std::future::ready(Err(
                    $crate::unimplemented::unimplemented_rpc($rpc),
                )))
            }
        )*
    };
}

/// Stubs for the rest of `cache_client.Scs`.
macro_rules! scs_stubs {
    () => {
        $crate::unimplemented::stubs! { cache_client;
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
    };
}

/// Stubs for the rest of `control_client.ScsControl`.
macro_rules! control_stubs {
    () => {
        $crate::unimplemented::stubs! { control_client;
            create_signing_key(CreateSigningKeyRequest, CreateSigningKeyResponse, "CreateSigningKey");
            revoke_signing_key(RevokeSigningKeyRequest, RevokeSigningKeyResponse, "RevokeSigningKey");
            list_signing_keys(ListSigningKeysRequest, ListSigningKeysResponse, "ListSigningKeys");
            create_index(CreateIndexRequest, CreateIndexResponse, "CreateIndex");
            delete_index(DeleteIndexRequest, DeleteIndexResponse, "DeleteIndex");
            list_indexes(ListIndexesRequest, ListIndexesResponse, "ListIndexes");
        }
    };
}

pub(crate) use {control_stubs, scs_stubs, stubs};
