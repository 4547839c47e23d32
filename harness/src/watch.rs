//! `cargo lambda watch` for the consumer: the built `bootstrap` binary behind
//! a local Lambda Invoke API, as the demo, the CLI's `watch` and the
//! end-to-end tests run it.

use std::process::Command;

use emulators::Names;

/// The function name `cargo lambda watch` serves the watched binary under
/// (any other name starts a second instance, built anew).
pub const FUNCTION: &str = "_";

/// The Invoke API URL of a `cargo lambda watch` on 127.0.0.1:`port`.
pub fn invoke_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/2015-03-31/functions/{FUNCTION}/invocations")
}

/// The environment variables the consumer reads (the ones Terraform sets),
/// pointing at local emulators, plus fake credentials.
pub fn function_env(
    names: &Names,
    dead_letter_queue_url: &str,
    momento_endpoint: &str,
    aws_endpoint: &str,
) -> Vec<(String, String)> {
    let max_message_bytes = emulators::DEAD_LETTER_MAX_MESSAGE_BYTES.to_string();
    [
        ("TABLE_NAME", names.table.as_str()),
        ("CACHE_NAME", names.cache.as_str()),
        ("MOMENTO_API_KEY_PARAMETER", names.parameter.as_str()),
        ("DLQ_URL", dead_letter_queue_url),
        ("DLQ_MAX_MESSAGE_BYTES", max_message_bytes.as_str()),
        ("MOMENTO_ENDPOINT", momento_endpoint),
        ("AWS_ENDPOINT_URL", aws_endpoint),
        ("AWS_REGION", names.region.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        // the double's local key makes the SDK warn that it looks like a v2 key
        ("RUST_LOG", "info,momento::credential_provider=error"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// `cargo` run from the workspace root with `.local/venv/bin` first on PATH,
/// cargo-lambda installed there with pip if missing (once, whoever asks).
///
/// # Errors
/// If cargo-lambda is missing and pip cannot install it (with pip's output).
pub fn cargo_with_lambda() -> anyhow::Result<Command> {
    let bin = emulators::install::cargo_lambda()?;
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cargo = Command::new("cargo");
    cargo
        .env("PATH", path)
        .current_dir(emulators::workspace_root());
    Ok(cargo)
}

/// `cargo lambda watch` serving the consumer's `bootstrap` on
/// 127.0.0.1:`port`, with `variables` as the function's environment.
///
/// # Errors
/// If cargo-lambda cannot be installed.
pub fn command(variables: &[(String, String)], port: u16) -> anyhow::Result<Command> {
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
    for (name, value) in variables {
        command.args(["--env-var", &format!("{name}={value}")]);
    }
    Ok(command)
}
