//! Errors from starting emulators and provisioning resources.

use std::path::PathBuf;

/// What went wrong, with enough context to act on it.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// moto server is missing and could not be installed (`pip install 'moto[server]'` by hand is the way out).
    #[error(transparent)]
    Install(#[from] crate::install::InstallError),
    #[error("could not start {what}: {source}")]
    Spawn {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} exited before it answered (see {log})")]
    Exited { what: String, log: PathBuf },
    #[error("{what} did not answer on {endpoint} within {seconds} s (see {log})")]
    NotReady {
        what: String,
        endpoint: String,
        seconds: u64,
        log: PathBuf,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the cache double failed: {0}")]
    Double(#[from] cache_double::ServeError),
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("Momento {operation} failed: {message}")]
    Momento {
        operation: &'static str,
        message: String,
    },
}

impl EmulatorError {
    pub(crate) fn aws<E>(operation: &'static str, err: E) -> Self
    where
        E: std::error::Error + 'static,
    {
        let message = aws_sdk_kinesis::error::DisplayErrorContext(&err).to_string();
        Self::Aws { operation, message }
    }
}
