//! The emulators as background processes: `up`, `down`, `status`. What `up`
//! started is recorded in `.local/run/environment.json` (git-ignored, mode
//! 0600: it holds the generated local API key), so `down` stops only that.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use emulators::{answers_http, local_dir, Double, MotoServer};
use serde::{Deserialize, Serialize};

/// Where the emulators run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// moto server and the cache double as local processes.
    Native,
    /// `docker compose`: LocalStack and the double's image.
    Docker,
}

/// Ports `up` uses.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub aws: u16,
    pub momento: u16,
    pub admin: u16,
}

impl Default for Ports {
    fn default() -> Self {
        // moto's own default port, and the double's.
        Self {
            aws: 5000,
            momento: 9090,
            admin: 9091,
        }
    }
}

/// What `up` started and how to reach it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Environment {
    pub backend: Backend,
    pub region: String,
    pub aws_endpoint: String,
    pub momento_endpoint: String,
    pub admin_url: String,
    /// The double's API secret; the Momento key is [`Environment::api_key`].
    pub api_secret: String,
    pub moto_pid: Option<u32>,
    pub double_pid: Option<u32>,
}

impl Environment {
    /// The Momento API key for this environment (a v1 key wrapping the secret).
    pub fn api_key(&self) -> String {
        cache_client::local_api_key(&self.api_secret)
    }

    /// The recorded environment, if `up` ran.
    pub fn load() -> Option<Self> {
        let bytes = std::fs::read(state_path()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn save(&self) -> std::io::Result<()> {
        let path = state_path();
        std::fs::create_dir_all(path.parent().expect("state path has a parent"))?;
        std::fs::write(&path, serde_json::to_vec_pretty(self)?)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
    }
}

pub fn state_path() -> PathBuf {
    local_dir().join("run").join("environment.json")
}

/// One line of `status`.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub name: &'static str,
    pub endpoint: String,
    pub pid: Option<u32>,
    pub running: bool,
    pub answering: bool,
}

/// Starts what is not already running. Harmless to repeat.
///
/// # Errors
/// If an emulator cannot be installed, started, or does not answer.
pub async fn up(backend: Backend, ports: Ports) -> anyhow::Result<Environment> {
    if let Some(existing) = Environment::load() {
        let statuses = status(&existing).await;
        if existing.backend == backend && statuses.iter().all(|s| s.answering) {
            eprintln!("already running ({})", state_path().display());
            return Ok(existing);
        }
        if statuses.iter().any(|s| s.running) {
            anyhow::bail!(
                "a partly running environment is recorded in {}: run `down` first",
                state_path().display()
            );
        }
    }
    let environment = match backend {
        Backend::Native => up_native(ports).await?,
        Backend::Docker => up_docker().await?,
    };
    environment.save()?;
    Ok(environment)
}

async fn up_native(ports: Ports) -> anyhow::Result<Environment> {
    for port in [ports.aws, ports.momento, ports.admin] {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            anyhow::bail!(
                "port {port} on 127.0.0.1 is taken: stop what uses it or pick other ports"
            );
        }
    }
    let api_secret = format!("local-{}", uuid::Uuid::new_v4().simple());
    let moto = MotoServer::start_on(ports.aws).await?;
    let aws_endpoint = moto.endpoint().to_owned();
    // The double runs as this executable's hidden `serve-double` command,
    // so `up` needs no separately built binary.
    let mut command = Command::new(std::env::current_exe()?);
    command.arg("serve-double");
    let names = emulators::Names::default();
    let double = Double::spawn_command(
        command,
        ports.momento,
        ports.admin,
        &api_secret,
        &names.cache,
    )
    .await?;
    Ok(Environment {
        backend: Backend::Native,
        region: names.region,
        aws_endpoint,
        momento_endpoint: double.endpoint(),
        admin_url: double.admin_url(),
        api_secret,
        moto_pid: Some(moto.detach()),
        double_pid: double.detach(),
    })
}

async fn up_docker() -> anyhow::Result<Environment> {
    let compose = emulators::workspace_root().join("docker-compose.yml");
    let status = Command::new("docker")
        .args(["compose", "-f"])
        .arg(&compose)
        .args(["up", "-d", "--wait"])
        .status()
        .map_err(|e| {
            anyhow::anyhow!("could not run `docker compose` ({e}): is Docker installed?")
        })?;
    anyhow::ensure!(status.success(), "`docker compose up` failed ({status})");
    Ok(Environment {
        backend: Backend::Docker,
        region: emulators::Names::default().region,
        aws_endpoint: "http://127.0.0.1:4566".into(),
        momento_endpoint: "http://127.0.0.1:9090".into(),
        admin_url: "http://127.0.0.1:9091".into(),
        api_secret: std::env::var("CACHE_DOUBLE_API_KEY").unwrap_or_else(|_| "local-secret".into()),
        moto_pid: None,
        double_pid: None,
    })
}

/// Stops what `up` started and forgets it. Returns what was stopped.
///
/// # Errors
/// If `docker compose down` fails.
pub fn down() -> anyhow::Result<Vec<String>> {
    let Some(environment) = Environment::load() else {
        return Ok(Vec::new());
    };
    let mut stopped = Vec::new();
    if environment.backend == Backend::Docker {
        let compose = emulators::workspace_root().join("docker-compose.yml");
        let status = Command::new("docker")
            .args(["compose", "-f"])
            .arg(&compose)
            .arg("down")
            .status()?;
        anyhow::ensure!(status.success(), "`docker compose down` failed ({status})");
        stopped.push("docker compose services".to_owned());
    }
    for (name, pid, program) in [
        ("moto server", environment.moto_pid, "moto_server"),
        ("cache double", environment.double_pid, "serve-double"),
    ] {
        if let Some(pid) = pid.filter(|&pid| is_ours(pid, program)) {
            terminate(pid, program);
            stopped.push(format!("{name} (pid {pid})"));
        }
    }
    std::fs::remove_file(state_path())?;
    Ok(stopped)
}

/// What runs where.
pub async fn status(environment: &Environment) -> Vec<ServiceStatus> {
    let address = |url: &str| url.trim_start_matches("http://").to_owned();
    let aws = ServiceStatus {
        name: match environment.backend {
            Backend::Native => "moto server",
            Backend::Docker => "localstack",
        },
        endpoint: environment.aws_endpoint.clone(),
        pid: environment.moto_pid,
        running: environment
            .moto_pid
            .is_none_or(|pid| is_ours(pid, "moto_server")),
        answering: answers_http(&address(&environment.aws_endpoint)).await,
    };
    let double = ServiceStatus {
        name: "cache double",
        endpoint: environment.momento_endpoint.clone(),
        pid: environment.double_pid,
        running: environment
            .double_pid
            .is_none_or(|pid| is_ours(pid, "serve-double")),
        answering: answers_http(&address(&environment.admin_url)).await,
    };
    vec![aws, double]
}

/// Whether `pid` is alive and is the program we started (a recycled pid is not).
fn is_ours(pid: u32, program: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| String::from_utf8_lossy(&cmdline).contains(program))
        .unwrap_or(false)
}

/// SIGTERM, then SIGKILL if it has not gone within 5 s. (An exited child
/// of a still-running parent lingers as a zombie with an empty command
/// line, hence the `is_ours` check rather than `/proc/<pid>` existing.)
fn terminate(pid: u32, program: &str) {
    let signal = |name: &str| {
        let _ = Command::new("kill")
            .args(["-s", name, &pid.to_string()])
            .status();
    };
    signal("TERM");
    let started = Instant::now();
    while is_ours(pid, program) {
        if started.elapsed() > Duration::from_secs(5) {
            signal("KILL");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
