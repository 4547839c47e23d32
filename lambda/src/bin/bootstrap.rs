//! The Lambda entry point: init once, then one `Consumer::handle` per batch,
//! with the batch's EMF metrics flushed after each.

use std::io::Write;

use aws_config::BehaviorVersion;
use consumer::{init, Config, KinesisInput, Output};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_target(false)
        .with_current_span(false)
        .init();

    let config = Config::from_env().inspect_err(|e| tracing::error!(error = %e, "init failed"))?;
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let consumer = init(&config, &sdk, Output::Stdout)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "init failed"))?;

    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
    let metrics = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(config.metrics_namespace.clone())
        .with_dimension("FunctionName", function)
        .init()?;
    consumer::metrics::describe();

    let consumer = &consumer;
    lambda_runtime::run(service_fn(|event: LambdaEvent<KinesisInput>| async move {
        let deadline = deadline_instant(event.context.deadline);
        let result = consumer.handle_until(event.payload, Some(deadline)).await;
        let mut stdout = std::io::stdout().lock();
        if let Err(error) = metrics.flush(&mut stdout).and_then(|()| stdout.flush()) {
            tracing::warn!(%error, "could not write EMF metrics");
        }
        Ok::<_, Error>(result.response)
    }))
    .await
}

/// The invocation's deadline (milliseconds since the epoch, from the Runtime
/// API's header) as an `Instant` of this process's clock.
fn deadline_instant(deadline_ms: u64) -> std::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    std::time::Instant::now() + std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}
