//! The cache double, in-process (tests) or as a child process (harness, or
//! tests that kill and restart it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use cache_double::{CacheDouble, DoubleConfig, FaultConfig};

use crate::{free_port, spawn_logged, EmulatorError};

const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running cache double. Dropping it stops it.
pub enum Double {
    InProcess(CacheDouble),
    Child {
        child: Child,
        endpoint: String,
        admin_url: String,
        log: PathBuf,
    },
}

impl Double {
    /// Starts a double inside this process, requiring `api_key` and with
    /// `cache` created.
    ///
    /// # Errors
    /// If no loopback port can be bound.
    pub async fn in_process(api_key: &str, cache: &str) -> Result<Self, EmulatorError> {
        let double = CacheDouble::start(DoubleConfig {
            faults: FaultConfig {
                api_key: Some(api_key.to_owned()),
                ..Default::default()
            },
            caches: vec![cache.to_owned()],
            ..Default::default()
        })
        .await?;
        Ok(Double::InProcess(double))
    }

    /// Runs the `cache-double` binary at `binary` on free ports, passing
    /// `api_key` through the environment (never on the command line, where
    /// `ps` would show it), and waits for its `/health`.
    ///
    /// # Errors
    /// [`EmulatorError`] if it cannot start or does not answer.
    pub async fn spawn(binary: &Path, api_key: &str, cache: &str) -> Result<Self, EmulatorError> {
        let (port, admin_port) = (free_port()?, free_port()?);
        Self::spawn_command(Command::new(binary), port, admin_port, api_key, cache).await
    }

    /// Runs `command` (the `cache-double` binary, or a program that takes the
    /// same flags) on `port` and `admin_port` of 127.0.0.1 and waits for it.
    ///
    /// # Errors
    /// [`EmulatorError`] if it cannot start or does not answer.
    pub async fn spawn_command(
        mut command: Command,
        port: u16,
        admin_port: u16,
        api_key: &str,
        cache: &str,
    ) -> Result<Self, EmulatorError> {
        let (child, log) = spawn_logged(
            command
                .args(["--addr", &format!("127.0.0.1:{port}")])
                .args(["--admin-addr", &format!("127.0.0.1:{admin_port}")])
                .args(["--cache", cache])
                .env("CACHE_DOUBLE_API_KEY", api_key),
            &format!("cache-double-{port}"),
        )?;
        let mut double = Double::Child {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            admin_url: format!("http://127.0.0.1:{admin_port}"),
            log,
        };
        double.wait_ready().await?;
        Ok(double)
    }

    /// Leaves a child-process double running after this value is gone (for
    /// `harness up`); returns its process id.
    pub fn detach(self) -> Option<u32> {
        let this = std::mem::ManuallyDrop::new(self);
        this.pid()
    }

    /// The `cache-double` binary built beside the running executable
    /// (`target/<profile>/cache-double`), if there is one.
    pub fn built_binary() -> Option<PathBuf> {
        let exe = std::env::current_exe().ok()?;
        exe.ancestors()
            .skip(1)
            .take(3)
            .map(|dir| dir.join("cache-double"))
            .find(|candidate| candidate.is_file())
    }

    /// The gRPC endpoint for the Momento SDK.
    pub fn endpoint(&self) -> String {
        match self {
            Double::InProcess(d) => d.endpoint(),
            Double::Child { endpoint, .. } => endpoint.clone(),
        }
    }

    /// The admin API's base URL (`/health`, `/stats`, `/block`, `/unblock`).
    pub fn admin_url(&self) -> String {
        match self {
            Double::InProcess(d) => d.admin_url(),
            Double::Child { admin_url, .. } => admin_url.clone(),
        }
    }

    /// The child's process id (`None` in-process).
    pub fn pid(&self) -> Option<u32> {
        match self {
            Double::InProcess(_) => None,
            Double::Child { child, .. } => Some(child.id()),
        }
    }

    async fn wait_ready(&mut self) -> Result<(), EmulatorError> {
        let Double::Child {
            child,
            admin_url,
            log,
            ..
        } = self
        else {
            return Ok(());
        };
        let address = admin_url.trim_start_matches("http://").to_owned();
        let started = Instant::now();
        loop {
            if child.try_wait()?.is_some() {
                return Err(EmulatorError::Exited {
                    what: "cache-double".into(),
                    log: log.clone(),
                });
            }
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(EmulatorError::NotReady {
                    what: "cache-double".into(),
                    endpoint: admin_url.clone(),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Double {
    fn drop(&mut self) {
        if let Double::Child { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
