//! The control plane (`control_client.ScsControl`): create, delete, list
//! and flush caches. Signing keys and indexes are not implemented.

use std::sync::Arc;

use momento_protos::control_client::{self as ctl, scs_control_server::ScsControl};
use tonic::{Request, Response, Status};

use super::common::Reply;
use crate::state::Shared;

/// The control plane.
#[derive(Clone)]
pub struct ControlPlane {
    shared: Arc<Shared>,
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

fn check_cache_name(name: &str) -> Result<(), Status> {
    if name.trim().is_empty() {
        return Err(Status::invalid_argument("cache name must not be empty"));
    }
    Ok(())
}
