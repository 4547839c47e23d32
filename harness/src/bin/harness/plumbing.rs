//! What several subcommands share: provisioning, the consumer's
//! configuration for the local emulators, and `cargo lambda watch` pointed at them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use aws_config::SdkConfig;
use consumer::{Captured, Config, Consumer, Output};
use emulators::{provision, sdk_config, Names, Provisioned};

use crate::local::Environment;

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
    let sdk = sdk(environment).await;
    queue_url(&sdk, &Names::default().dead_letter_queue).await
}

/// The URL of the on-failure queue (which must exist: run `provision`).
///
/// # Errors
/// If the queue does not exist.
pub async fn on_failure_queue_url(environment: &Environment) -> anyhow::Result<String> {
    let sdk = sdk(environment).await;
    queue_url(&sdk, &Names::default().on_failure_queue).await
}

/// `queue` itself when it is a URL, else the URL of the queue of that name.
///
/// # Errors
/// If there is no such queue.
pub async fn queue_url(sdk: &SdkConfig, queue: &str) -> anyhow::Result<String> {
    if queue.starts_with("http://") || queue.starts_with("https://") {
        return Ok(queue.to_owned());
    }
    let output = aws_sdk_sqs::Client::new(sdk)
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "queue {queue} not found ({}): run `provision` first, or name the queue",
                aws_sdk_sqs::error::DisplayErrorContext(e)
            )
        })?;
    Ok(output.queue_url.unwrap_or_default())
}

/// The environment variables the consumer reads, pointing at `environment`.
pub fn consumer_env(
    environment: &Environment,
    dead_letter_queue_url: &str,
) -> Vec<(String, String)> {
    let names = Names {
        region: environment.region.clone(),
        ..Names::default()
    };
    harness::watch::function_env(
        &names,
        dead_letter_queue_url,
        &environment.momento_endpoint,
        &environment.aws_endpoint,
    )
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

/// `cargo lambda watch` for the consumer on 127.0.0.1:`port`, with the
/// consumer's environment pointing at `environment`.
///
/// # Errors
/// If cargo-lambda cannot be installed or the queue is missing.
pub async fn watch_command(environment: &Environment, port: u16) -> anyhow::Result<Command> {
    let variables = consumer_env(environment, &dead_letter_queue_url(environment).await?);
    harness::watch::command(&variables, port)
}

/// Where replays keep their checkpoints by default.
pub fn default_checkpoint_file(stream: &str) -> PathBuf {
    emulators::local_dir()
        .join("checkpoints")
        .join(format!("{stream}.json"))
}

/// What `up` started, or an error saying to run it.
///
/// # Errors
/// If `up` has not run (or `down` ran since).
pub fn require_environment() -> anyhow::Result<Environment> {
    Environment::load()
        .ok_or_else(|| anyhow::anyhow!("the emulators are not running: run `harness up` first"))
}
