//! The pieces the CLI's commands are made of: provisioning, the consumer's
//! configuration for the local emulators, `cargo lambda watch`, and the demo.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use aws_config::SdkConfig;
use consumer::{Captured, Config, Consumer, Output};
use emulators::{provision, sdk_config, Names, Provisioned};

use crate::local::Environment;

/// The function name `cargo lambda watch` serves the watched binary under
/// (any other name starts a second instance, built anew).
pub const WATCH_FUNCTION: &str = "_";

pub fn invoke_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/2015-03-31/functions/{WATCH_FUNCTION}/invocations")
}

pub async fn sdk(environment: &Environment) -> SdkConfig {
    sdk_config(&environment.aws_endpoint, &environment.region).await
}

/// Creates the stream, table, parameter, queue and cache (idempotent).
///
/// # Errors
/// If an emulator call fails.
pub async fn provision_environment(environment: &Environment) -> anyhow::Result<Provisioned> {
    let momento = cache_client::connect(&cache_client::ClientSettings::new(
        Some(&environment.momento_endpoint),
        cache_client::ApiKey::new(environment.api_key()),
    ))?;
    let provisioned = provision(
        &sdk(environment).await,
        &momento,
        &Names::default(),
        &environment.api_key(),
    )
    .await?;
    Ok(provisioned)
}

/// The URL of the dead-letter queue (which must exist: run `provision`).
///
/// # Errors
/// If the queue does not exist.
pub async fn dead_letter_queue_url(environment: &Environment) -> anyhow::Result<String> {
    let names = Names::default();
    let output = aws_sdk_sqs::Client::new(&sdk(environment).await)
        .get_queue_url()
        .queue_name(&names.dead_letter_queue)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "queue {} not found ({}): run `provision` first",
                names.dead_letter_queue,
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })?;
    Ok(output.queue_url.unwrap_or_default())
}

/// The environment variables the consumer reads, pointing at `environment`
/// (the same ones Terraform sets, plus the local endpoints and fake credentials).
pub fn consumer_env(
    environment: &Environment,
    dead_letter_queue_url: &str,
) -> Vec<(String, String)> {
    let names = Names::default();
    [
        ("TABLE_NAME", names.table.as_str()),
        ("CACHE_NAME", names.cache.as_str()),
        ("MOMENTO_API_KEY_PARAMETER", names.parameter.as_str()),
        ("DLQ_URL", dead_letter_queue_url),
        ("MOMENTO_ENDPOINT", environment.momento_endpoint.as_str()),
        ("AWS_ENDPOINT_URL", environment.aws_endpoint.as_str()),
        ("AWS_REGION", environment.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        // the double's local key makes the SDK warn that it looks like a v2 key
        ("RUST_LOG", "info,momento::credential_provider=error"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The consumer library, configured for `environment`, writing to memory.
///
/// # Errors
/// If the consumer's init fails (e.g. nothing provisioned).
pub async fn in_process_consumer(
    environment: &Environment,
) -> anyhow::Result<(Arc<Consumer>, Captured)> {
    let variables = consumer_env(environment, &dead_letter_queue_url(environment).await?);
    let config = Config::from_lookup(|name| {
        variables
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })?;
    let (output, captured) = Output::capture();
    let consumer = consumer::init(&config, &sdk(environment).await, output).await?;
    Ok((Arc::new(consumer), captured))
}

/// `cargo` with `.local/venv/bin` first on PATH, cargo-lambda installed there if missing.
///
/// # Errors
/// If cargo-lambda is missing and pip cannot install it.
pub fn cargo_with_lambda() -> anyhow::Result<Command> {
    let venv = emulators::local_dir().join("venv");
    let path = format!(
        "{}:{}",
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let installed = Command::new("cargo")
        .args(["lambda", "--help"])
        .env("PATH", &path)
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!(
            "cargo-lambda not found: installing it into {} with pip",
            venv.display()
        );
        if !venv.join("bin/python").exists() {
            let made = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()?;
            anyhow::ensure!(made.success(), "python3 -m venv {} failed", venv.display());
        }
        let pip = Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "cargo-lambda",
            ])
            .status()?;
        anyhow::ensure!(pip.success(), "pip install cargo-lambda failed");
    }
    let mut cargo = Command::new("cargo");
    cargo
        .env("PATH", path)
        .current_dir(emulators::workspace_root());
    Ok(cargo)
}

/// `cargo lambda watch` for the consumer on 127.0.0.1:`port`, with the
/// consumer's environment pointing at `environment`.
///
/// # Errors
/// If cargo-lambda cannot be installed or the queue is missing.
pub async fn watch_command(environment: &Environment, port: u16) -> anyhow::Result<Command> {
    let variables = consumer_env(environment, &dead_letter_queue_url(environment).await?);
    let mut command = cargo_with_lambda()?;
    command.args([
        "lambda",
        "watch",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--package",
        "consumer",
        "--bin",
        "bootstrap",
    ]);
    for (name, value) in &variables {
        command.args(["--env-var", &format!("{name}={value}")]);
    }
    Ok(command)
}

/// Where replays keep their checkpoints by default.
pub fn default_checkpoint_file(stream: &str) -> PathBuf {
    emulators::local_dir()
        .join("checkpoints")
        .join(format!("{stream}.json"))
}
