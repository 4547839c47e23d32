//! `harness package`: the consumer built for this machine and zipped as
//! Lambda takes it: what `terraform/local` deploys and `harness run` runs in
//! its execution environments (the arm64 zip of `just build` is for AWS).

use std::path::PathBuf;
use std::process::Command;

use clap::Args;

/// Where `package` writes the zip, and where `terraform/local` and `run`
/// look for it.
pub const HOST_ZIP: &str = "target/lambda-host/bootstrap/bootstrap.zip";

#[derive(Args)]
pub struct PackageArgs {
    /// Zip this binary instead of building the consumer (`cargo build -p consumer --bin bootstrap`, the dev profile the tests build too).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Where the zip goes.
    #[arg(long, default_value = HOST_ZIP)]
    out: PathBuf,
}

impl PackageArgs {
    pub fn run(self) -> anyhow::Result<()> {
        let binary = match self.binary {
            Some(binary) => binary,
            None => build()?,
        };
        harness::code::package(&binary, &self.out)?;
        println!(
            "{} ({} bytes, CodeSha256 {})",
            self.out.display(),
            std::fs::metadata(&self.out)?.len(),
            harness::code::code_sha256(&self.out)?
        );
        Ok(())
    }
}

/// `cargo build -p consumer --bin bootstrap`; the binary's path.
fn build() -> anyhow::Result<PathBuf> {
    eprintln!("building the consumer for this machine (cargo build -p consumer --bin bootstrap) …");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo.args(["build", "-p", "consumer", "--bin", "bootstrap"]);
    emulators::without_cargo_env(&mut cargo);
    anyhow::ensure!(
        cargo.status()?.success(),
        "building bootstrap failed (above)"
    );
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    Ok(target.join("debug/bootstrap"))
}
