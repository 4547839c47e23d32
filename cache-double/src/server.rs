//! Starting and stopping the double: [`serve`] for the binary (any shutdown
//! future), [`CacheDouble`] for tests (ephemeral ports, a handle, `stop`).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use momento_protos::cache_client::pubsub::pubsub_server::PubsubServer;
use momento_protos::cache_client::scs_server::ScsServer;
use momento_protos::control_client::scs_control_server::ScsControlServer;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;

use crate::admin::{self, AdminStats};
use crate::faults::{FaultConfig, Faults, GateLayer};
use crate::service::topics::TopicPlane;
use crate::service::{ControlPlane, DataPlane};
use crate::state::{Injected, Shared};
use crate::store::Limits;

/// Everything a double is started with.
#[derive(Debug, Clone, Default)]
pub struct DoubleConfig {
    pub limits: Limits,
    pub faults: FaultConfig,
    /// Caches that exist from the start.
    pub caches: Vec<String>,
}

/// Why the double could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("could not bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("admin server failed: {0}")]
    Admin(std::io::Error),
}

/// Binds `addr` (port 0 picks a free one).
///
/// # Errors
/// [`ServeError::Bind`] naming the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Serves the gRPC API on `listener` (and the admin API on `admin`, if given)
/// until `shutdown` completes, then drains in-flight requests.
///
/// # Errors
/// [`ServeError`] if a server fails while running.
pub async fn serve(
    listener: TcpListener,
    admin: Option<TcpListener>,
    config: DoubleConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let shared = Arc::new(Shared::with_caches(config.limits, &config.caches));
    serve_shared(listener, admin, shared, config.faults, shutdown).await
}

async fn serve_shared(
    listener: TcpListener,
    admin: Option<TcpListener>,
    shared: Arc<Shared>,
    faults: FaultConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stop = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
    };
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });

    let admin_task = admin.map(|listener| {
        let router = admin::router(shared.clone());
        let stopped = stop(stop_rx.clone());
        tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(stopped)
                .await
        })
    });
    let purge_task = tokio::spawn(purge_expired(shared.clone()));

    // Messages up to the item limit plus room for the key and framing, so an
    // oversize item reaches our check (RESOURCE_EXHAUSTED, like Momento)
    // instead of tonic's 4 MiB decoder limit.
    let max_message = shared.limits.max_item_bytes + 64 * 1024;
    *shared.injected.write() = faults.injected;
    *shared.api_keys.write() = faults.api_key.clone().map(|key| vec![key]);
    let gate = GateLayer::new(shared.clone(), Arc::new(Faults::new()));
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let result = Server::builder()
        .layer(gate)
        .add_service(
            ScsServer::new(DataPlane::new(shared.clone()))
                .max_decoding_message_size(max_message)
                .max_encoding_message_size(max_message),
        )
        .add_service(ScsControlServer::new(ControlPlane::new(shared.clone())))
        .add_service(PubsubServer::new(TopicPlane::new(shared.clone())))
        .serve_with_incoming_shutdown(incoming, stop(stop_rx))
        .await;
    purge_task.abort();
    if let Some(task) = admin_task {
        if let Ok(Err(e)) = task.await {
            return Err(ServeError::Admin(e));
        }
    }
    result.map_err(ServeError::from)
}

/// Removes expired items in the background so memory follows the TTLs even
/// for keys nobody reads again.
async fn purge_expired(shared: Arc<Shared>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        for (_, cache) in shared.caches() {
            cache.purge_expired();
        }
    }
}

/// A double running in this process on ephemeral loopback ports, for tests
/// and benchmarks. Dropping it stops it too.
pub struct CacheDouble {
    addr: SocketAddr,
    admin_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

impl CacheDouble {
    /// Starts a double on 127.0.0.1 with free ports for gRPC and admin.
    ///
    /// # Errors
    /// [`ServeError::Bind`] if no loopback port is available.
    pub async fn start(config: DoubleConfig) -> Result<Self, ServeError> {
        let loopback: SocketAddr = ([127, 0, 0, 1], 0).into();
        let listener = bind(loopback).await?;
        let admin = bind(loopback).await?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: loopback,
            source,
        })?;
        let admin_addr = admin.local_addr().map_err(|source| ServeError::Bind {
            addr: loopback,
            source,
        })?;
        let shared = Arc::new(Shared::with_caches(config.limits, &config.caches));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve_shared(
            listener,
            Some(admin),
            shared.clone(),
            config.faults,
            async {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            addr,
            admin_addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The gRPC endpoint, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin endpoint's base URL.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// What `/stats` would answer.
    pub fn stats(&self) -> AdminStats {
        admin::stats(&self.shared)
    }

    /// Same as `POST /faults`: replaces the latency and error rate.
    pub fn set_injected(&self, injected: Injected) {
        *self.shared.injected.write() = injected;
    }

    /// Same as `POST /api-keys`: the `authorization` values accepted from
    /// now on (`None`: any), as a key rotation changes them.
    pub fn set_api_keys(&self, keys: Option<Vec<String>>) {
        *self.shared.api_keys.write() = keys;
    }

    /// Same as `POST /block` or `/unblock`.
    pub fn set_blocked(&self, blocked: bool) {
        self.shared.set_blocked(blocked);
    }

    /// Stops serving and waits until the ports are closed.
    ///
    /// # Errors
    /// The server's error, if it failed while running.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for CacheDouble {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
