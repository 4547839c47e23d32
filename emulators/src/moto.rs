//! moto server as a child process on a free loopback port.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{free_port, spawn_logged, EmulatorError};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Loaded first by the moto server started here: moto would invoke a
/// stream's mapped function itself inside PutRecord(s), through Docker (and
/// without Docker fail the put after storing one record); the harness runs
/// mappings itself. See the file.
const SITECUSTOMIZE: &str = include_str!("moto_sitecustomize.py");

/// A running moto server. Dropping it kills the process.
pub struct MotoServer {
    child: Child,
    endpoint: String,
    log: PathBuf,
}

impl MotoServer {
    /// Starts `moto_server` (installing it first if needed) on a free port
    /// and waits until it answers.
    ///
    /// # Errors
    /// [`EmulatorError`] if it cannot be installed, started, or does not answer.
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::start_on(free_port()?).await
    }

    /// Like [`MotoServer::start`], on a chosen port of 127.0.0.1.
    ///
    /// # Errors
    /// As [`MotoServer::start`]; also if the port is taken.
    pub async fn start_on(port: u16) -> Result<Self, EmulatorError> {
        let program = find_or_install_moto()?;
        let (child, log) = spawn_logged(
            Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("PYTHONPATH", python_path()?),
            &format!("moto-{port}"),
        )?;
        let mut server = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    /// The endpoint URL for the AWS SDK, e.g. `http://127.0.0.1:41234`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The process id, for callers that track it (the harness's pid files).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Leaves the server running after this value is gone (for `harness
    /// up`); returns its process id.
    pub fn detach(self) -> u32 {
        std::mem::ManuallyDrop::new(self).child.id()
    }

    /// Where the server's output goes.
    pub fn log(&self) -> &Path {
        &self.log
    }

    async fn wait_ready(&mut self) -> Result<(), EmulatorError> {
        let started = Instant::now();
        let address = self.endpoint.trim_start_matches("http://").to_owned();
        loop {
            if self.child.try_wait()?.is_some() {
                return Err(EmulatorError::Exited {
                    what: "moto_server".into(),
                    log: self.log.clone(),
                });
            }
            if answers_http(&address).await {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                return Err(EmulatorError::NotReady {
                    what: "moto_server".into(),
                    endpoint: self.endpoint.clone(),
                    seconds: READY_TIMEOUT.as_secs(),
                    log: self.log.clone(),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// True once something at `address` (`host:port`) answers an HTTP request
/// with a status line.
pub async fn answers_http(address: &str) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
        return false;
    };
    let request =
        format!("GET /moto-api/ HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(
        tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut head)).await,
        Ok(Ok(_)) if head.starts_with(b"HTTP/1.")
    )
}

/// The `moto_server` program: on PATH, else in `.local/venv`, else installed
/// there now with pip (once per machine checkout, whoever asks; it says so
/// on stderr).
///
/// # Errors
/// [`EmulatorError::Install`] with pip's output if it cannot be installed.
pub fn find_or_install_moto() -> Result<PathBuf, EmulatorError> {
    Ok(crate::install::moto_server()?)
}

/// moto's PYTHONPATH: the folder of [`SITECUSTOMIZE`] first, then the
/// caller's.
fn python_path() -> Result<std::ffi::OsString, EmulatorError> {
    let folder = crate::local_dir().join("moto-python");
    std::fs::create_dir_all(&folder)?;
    let file = folder.join("sitecustomize.py");
    if std::fs::read_to_string(&file).ok().as_deref() != Some(SITECUSTOMIZE) {
        // A partial file per caller: tests start moto from several threads
        // of one process at once, and a shared name was renamed away under
        // the second writer.
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = folder.join(format!("sitecustomize.py.{}.{call}", std::process::id()));
        std::fs::write(&partial, SITECUSTOMIZE)?;
        std::fs::rename(&partial, &file)?;
    }
    let mut paths = vec![folder];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).map_err(|e| EmulatorError::Io(std::io::Error::other(e)))
}
