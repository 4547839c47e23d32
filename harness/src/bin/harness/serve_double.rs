//! `harness serve-double` (hidden): the cache double in the foreground, as
//! `up` runs it in the background. The API secret comes from the environment
//! (`CACHE_DOUBLE_API_KEY`), never from the command line.

use std::net::SocketAddr;

use clap::Args;

#[derive(Args)]
pub struct ServeDoubleArgs {
    /// gRPC (Momento) address.
    #[arg(long)]
    addr: SocketAddr,
    /// Admin API address.
    #[arg(long)]
    admin_addr: SocketAddr,
    /// Caches that exist from the start.
    #[arg(long)]
    cache: Vec<String>,
}

impl ServeDoubleArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = cache_double::DoubleConfig {
            faults: cache_double::FaultConfig {
                api_key: std::env::var("CACHE_DOUBLE_API_KEY").ok(),
                ..Default::default()
            },
            caches: self.cache,
            ..Default::default()
        };
        let listener = cache_double::bind(self.addr).await?;
        let admin = cache_double::bind(self.admin_addr).await?;
        let shutdown = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    .expect("SIGTERM handler");
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        cache_double::serve(listener, Some(admin), config, shutdown).await?;
        Ok(())
    }
}
