//! `harness up`: moto server and the cache double in the background.

use clap::Args;

use crate::local::{self, Backend, Ports};

#[derive(Args)]
pub struct UpArgs {
    /// `native` (moto server + the double as processes) or `docker` (docker compose: LocalStack + the double's image).
    #[arg(long, value_enum, env = "HARNESS_BACKEND", default_value = "native")]
    backend: Backend,
    /// Port of the AWS emulator on 127.0.0.1.
    #[arg(long, default_value_t = Ports::default().aws)]
    aws_port: u16,
    /// Port of the cache double's gRPC (Momento) endpoint on 127.0.0.1.
    #[arg(long, default_value_t = Ports::default().momento)]
    momento_port: u16,
    /// Port of the cache double's admin API (health, stats, faults) on 127.0.0.1.
    #[arg(long, default_value_t = Ports::default().admin)]
    admin_port: u16,
}

impl UpArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let ports = Ports {
            aws: self.aws_port,
            momento: self.momento_port,
            admin: self.admin_port,
        };
        let environment = local::up(self.backend, ports).await?;
        crate::status::print(&environment, false).await;
        eprintln!("next: `just deploy-local` (terraform/local applied here), produce, and `harness run`; or `harness provision`, produce and `harness replay`; `harness down` stops everything");
        Ok(())
    }
}
