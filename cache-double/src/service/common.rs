//! What every data-plane RPC shares: the cache a request names, the status
//! Momento answers for each store error, and the counting of reads and
//! writes the RPC table asks for.

use std::sync::Arc;

use bytes::Bytes;
use tonic::{Request, Status};

use super::DataPlane;
use crate::state::rpc::Rpc;
use crate::state::Shared;
use crate::store::{Cache, StoreError};

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
        StoreError::ZeroTtl | StoreError::Invalid(_) => Status::invalid_argument(err.to_string()),
        StoreError::WrongType { .. } | StoreError::NotAnInteger | StoreError::Overflow => {
            Status::failed_precondition(err.to_string())
        }
    }
}

/// Values as the protos carry them.
pub fn vecs(values: Vec<Bytes>) -> Vec<Vec<u8>> {
    values.into_iter().map(|v| v.to_vec()).collect()
}

impl DataPlane {
    /// A read RPC's answer from the store: a hit when the item was there,
    /// else a miss.
    pub(super) fn read<T>(
        &self,
        rpc: Rpc,
        answer: Result<Option<T>, StoreError>,
    ) -> Result<Option<T>, Status> {
        let answer = answer.map_err(store_status)?;
        self.shared.stats.looked_up(rpc, answer.is_some());
        Ok(answer)
    }

    /// A write RPC's answer from the store: a set when `changed` says it
    /// changed its item.
    pub(super) fn write<T>(
        &self,
        rpc: Rpc,
        answer: Result<T, StoreError>,
        changed: impl FnOnce(&T) -> bool,
    ) -> Result<T, Status> {
        let answer = answer.map_err(store_status)?;
        if changed(&answer) {
            self.shared.stats.wrote(rpc, 1);
        }
        Ok(answer)
    }
}
