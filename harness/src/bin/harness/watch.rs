//! `harness watch`: the consumer's `bootstrap` under `cargo lambda watch`.

use clap::Args;

use crate::plumbing;

#[derive(Args)]
pub struct WatchArgs {
    /// Port of the Lambda Invoke API on 127.0.0.1.
    #[arg(long, default_value_t = 9000)]
    port: u16,
}

impl WatchArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let environment = plumbing::require_environment()?;
        let mut command = plumbing::watch_command(&environment, self.port).await?;
        eprintln!(
            "cargo lambda watch: invoke at {} (e.g. `harness replay --target invoke`)",
            harness::watch::invoke_url(self.port)
        );
        let status = command.status()?;
        anyhow::ensure!(status.success(), "cargo lambda watch exited with {status}");
        Ok(())
    }
}
