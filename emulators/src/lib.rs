//! Local stand-ins for the cloud, shared by the tests and the harness.
//!
//! - [`MotoServer`]: moto's server (Kinesis, DynamoDB, SSM, SQS, ...) on a free
//!   loopback port, installed into `.local/venv` with pip when missing.
//! - [`Double`]: the Momento cache double, in-process or as a child process.
//! - [`provision`]: creates the stream, table (with the article's items),
//!   SecureString parameter, dead-letter queue and cache, idempotently, with
//!   one set of default [`Names`].
//! - [`install`]: moto server, cargo-lambda and Rust targets installed when
//!   missing, once per machine even when several processes ask at once.
//! - [`create_stream`], [`stream_records`]: a stream of a test's own, and
//!   everything that reached a stream, for delivery checks.
//! - [`proxy`]: a proxy in front of an emulator's AWS API that lets a test
//!   refuse or throttle chosen calls or entries.
//!
//! Every server binds 127.0.0.1 on a port chosen at start, so tests run in
//! parallel and beside a developer's own running environment; each stops
//! when its handle is dropped.

mod aws;
mod double;
mod error;
pub mod install;
mod local;
mod moto;
mod names;
mod provision;
pub mod proxy;
mod stream;

pub use aws::sdk_config;
pub use double::Double;
pub use error::EmulatorError;
pub use local::{Aws, Emulators};
pub use moto::{answers_http, find_or_install_moto, MotoServer};
pub use names::Names;
pub use provision::{provision, Provisioned, DEAD_LETTER_MAX_MESSAGE_BYTES};
pub use stream::{create_stream, stream_arn, stream_records};

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// The workspace root (where `.local/` lives).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

static LOCAL_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Puts this process's `.local` folder at `dir` (the harness: its working
/// directory's `.local`, or the one the user names). The first call wins;
/// without one, it is the workspace's.
pub fn use_local_dir(dir: PathBuf) {
    let _ = LOCAL_DIR.set(dir);
}

/// The git-ignored folder for installed tools, logs and state.
pub fn local_dir() -> PathBuf {
    LOCAL_DIR
        .get()
        .cloned()
        .unwrap_or_else(|| workspace_root().join(".local"))
}

/// A free TCP port on 127.0.0.1 (bound, then released for a child to take).
///
/// # Errors
/// If no loopback port can be bound.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// Spawns `command` with its output in `.local/logs/<name>.log` and no stdin.
pub(crate) fn spawn_logged(
    command: &mut Command,
    name: &str,
) -> Result<(Child, PathBuf), EmulatorError> {
    let logs = local_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    let log = logs.join(format!("{name}.log"));
    let out = std::fs::File::create(&log)?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .map_err(|source| EmulatorError::Spawn {
            what: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
    Ok((child, log))
}

/// Removes the variables cargo sets for a test or benchmark process from
/// `command`: a cargo run inside one would otherwise see build scripts'
/// inputs changed and rebuild what is already built.
pub fn without_cargo_env(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo = (name == "CARGO" || name.starts_with("CARGO_"))
            && !matches!(
                &*name,
                "CARGO_HOME" | "CARGO_TARGET_DIR" | "CARGO_INCREMENTAL"
            );
        if set_by_cargo || name == "LD_LIBRARY_PATH" || name == "OUT_DIR" {
            command.env_remove(&*name);
        }
    }
}
