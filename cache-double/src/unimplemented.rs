//! The RPCs the double does not implement (the control plane's signing keys
//! and vector indexes). Each answers UNIMPLEMENTED with a message naming the
//! RPC; the SDK maps that to `BadRequestError`.

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

pub(crate) use {control_stubs, stubs};
