//! `harness status`: what runs where.

use clap::Args;

use crate::local::{self, Environment};

#[derive(Args)]
pub struct StatusArgs {
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    /// Print only the AWS emulator's endpoint URL (for scripts and recipes).
    #[arg(long, conflicts_with = "json")]
    aws_endpoint: bool,
    /// Print only the Momento API key the local cache double accepts (a key of this machine's emulator, never a Momento key), for `terraform/local`'s `momento_api_key`.
    #[arg(long, conflicts_with_all = ["json", "aws_endpoint"])]
    momento_api_key: bool,
}

impl StatusArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        match Environment::load() {
            Some(environment) if self.aws_endpoint => println!("{}", environment.aws_endpoint),
            Some(environment) if self.momento_api_key => println!("{}", environment.api_key()),
            Some(environment) => print(&environment, self.json).await,
            None if self.aws_endpoint || self.momento_api_key => {
                anyhow::bail!("the emulators are not running: run `harness up` first")
            }
            None => println!("not running (no {})", local::state_path().display()),
        }
        Ok(())
    }
}

/// One line per service (or JSON): endpoint, pid, whether it answers.
pub async fn print(environment: &Environment, json: bool) {
    let statuses = local::status(environment).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&statuses).expect("status serializes")
        );
        return;
    }
    for s in statuses {
        let state = match (s.running, s.answering) {
            (_, true) => "up",
            (true, false) => "starting or stuck (not answering)",
            (false, _) => "down",
        };
        let pid = s
            .pid
            .map(|p| format!("pid {p}"))
            .unwrap_or_else(|| "docker".into());
        println!("{:<13} {:<24} {:<10} {state}", s.name, s.endpoint, pid);
    }
}
