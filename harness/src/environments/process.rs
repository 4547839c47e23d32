//! One execution environment: a process of the function's code, started
//! with Lambda's variables and its own Runtime API, serving one invocation
//! at a time. Its stdout and stderr go, as Lambda's do, into one log: each
//! line after its time (RFC 3339, microseconds) and the request id it was
//! written under (`INIT` before the first), between the START, END and
//! REPORT lines Lambda writes (after their time only). The harness writes
//! its lines into the same pipe as the process, so the log keeps their
//! order: an invocation's END comes after everything the process wrote
//! before it asked for its next event.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, PipeReader, PipeWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mapping::InvokeError;
use serde_json::Value;
use tokio::process::{Child, Command};

use super::report::{self, Invocation};
use crate::runtime_api::RuntimeApi;

/// Lambda's limit on an on-demand environment's init phase.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What every environment of one function version is started with.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The program Lambda starts: `bootstrap` in the code's folder, or a
    /// runtime's interpreter.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// LAMBDA_TASK_ROOT, the working directory.
    pub task_root: PathBuf,
    /// Every variable of the process (Lambda's reserved ones, the
    /// function's own, the emulators' endpoints); nothing else is inherited.
    pub variables: BTreeMap<String, String>,
    pub function_arn: String,
    pub version: String,
    pub timeout: Duration,
    pub memory_size_mb: i32,
    /// Where each environment's log file goes.
    pub log_dir: PathBuf,
}

/// One running environment.
pub struct Environment {
    name: String,
    child: Child,
    api: RuntimeApi,
    /// The log pipe's write end (the process holds the others).
    log: PipeWriter,
    /// Its init, reported (and billed) with its first invocation.
    init: Option<Duration>,
}

/// How an invocation ended for the environment.
pub struct Invoked {
    pub result: Result<Value, InvokeError>,
    /// `false`: the environment is gone (timed out, crashed); the next
    /// invocation gets a new one.
    pub reusable: bool,
}

impl Environment {
    /// Starts the process and waits for its init: until it asks for its
    /// first event.
    ///
    /// # Errors
    /// What Lambda would report for the invocation that needed it: the
    /// process could not start, exited, reported an init error, or did not
    /// finish init within [`INIT_TIMEOUT`].
    pub async fn start(spec: &Spec, name: String) -> Result<Self, String> {
        std::fs::create_dir_all(&spec.log_dir)
            .map_err(|e| format!("{}: {e}", spec.log_dir.display()))?;
        let log_path = spec.log_dir.join(format!("{name}.log"));
        let file =
            std::fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        let (reader, log) = std::io::pipe().map_err(|e| format!("a log pipe: {e}"))?;
        let stdout = log.try_clone().map_err(|e| format!("a log pipe: {e}"))?;
        let stderr = log.try_clone().map_err(|e| format!("a log pipe: {e}"))?;
        pump(reader, file);
        let api = RuntimeApi::start(&spec.function_arn, spec.timeout)
            .await
            .map_err(|e| format!("the Runtime API could not start: {e}"))?;
        let started = Instant::now();
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .env_clear()
            .envs(&spec.variables)
            .env("AWS_LAMBDA_RUNTIME_API", api.host())
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                log_stream(&spec.version, &name),
            )
            .current_dir(&spec.task_root)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                format!(
                    "Runtime.InvalidEntrypoint: {} could not start: {e}",
                    spec.program.display()
                )
            })?;
        let ready = tokio::select! {
            ready = api.ready(INIT_TIMEOUT) => ready.map_err(|e| format!("Runtime.InitError: {e}")),
            status = child.wait() => Err(format!(
                "Runtime.ExitError: the runtime exited during init ({})",
                status.map_or_else(|e| e.to_string(), |s| s.to_string())
            )),
        };
        let mut environment = Self {
            name,
            child,
            api,
            log,
            init: None,
        };
        match ready {
            Ok(at) => {
                environment.init = Some(at.saturating_duration_since(started));
                Ok(environment)
            }
            Err(error) => {
                environment.write("INIT", &format!("INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error}", started.elapsed().as_secs_f64() * 1000.0));
                environment.kill().await;
                Err(error)
            }
        }
    }

    /// The process id (a new environment has a new one).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The environment's name, as its log file is named.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// One invocation: the event to the process's next poll, its answer
    /// within the timeout; the invocation ends when the process asks for
    /// its next event (as Lambda's does). A timeout or an exit ends the
    /// environment.
    pub async fn invoke(&mut self, event: Value, spec: &Spec) -> Invoked {
        let request_id = uuid::Uuid::new_v4().to_string();
        self.write(&request_id, &report::start_line(&request_id, &spec.version));
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + spec.timeout;
        let polls = self.api.polls();
        let ended = tokio::select! {
            answer = self.api.invoke_as(request_id.clone(), event) => {
                // Done when it asks again: what it does after answering
                // still counts (and may still time out).
                tokio::select! {
                    () = self.api.polled_after(polls) => Ended::Answered(answer),
                    status = self.child.wait() => Ended::Exited(status),
                    () = tokio::time::sleep_until(deadline) => Ended::TimedOut,
                }
            }
            status = self.child.wait() => Ended::Exited(status),
            () = tokio::time::sleep_until(deadline) => Ended::TimedOut,
        };
        let duration = started.elapsed();
        let max_memory_used_mb = self.pid().and_then(peak_rss_mb).unwrap_or(0);
        let timed_out = matches!(ended, Ended::TimedOut);
        let (result, reusable) = match ended {
            Ended::Answered(answer) => (answer.map_err(InvokeError::Function), true),
            Ended::Exited(status) => (
                Err(InvokeError::Function(format!(
                    "RequestId: {request_id} Error: Runtime exited with error: {}\nRuntime.ExitError",
                    status.map_or_else(|e| e.to_string(), |s| s.to_string())
                ))),
                false,
            ),
            Ended::TimedOut => {
                let message = report::timed_out(spec.timeout);
                self.write(&request_id, &format!("{request_id}\t{message}"));
                (Err(InvokeError::Function(message)), false)
            }
        };
        if !reusable {
            self.kill().await;
        }
        self.write(&request_id, &report::end_line(&request_id));
        let report = report::report_line(&Invocation {
            request_id: &request_id,
            duration,
            memory_size_mb: spec.memory_size_mb,
            max_memory_used_mb,
            init: self.init.take(),
            timed_out,
        });
        self.write(&request_id, &report);
        Invoked { result, reusable }
    }

    /// A line of Lambda's into the log, after its time; what the process
    /// writes from now on is labelled `label`.
    fn write(&self, label: &str, line: &str) {
        let _ = writeln!(&self.log, "{CONTROL}{}\t{label}\t{line}", now());
    }

    async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// How an invocation ended.
enum Ended {
    Answered(Result<Value, String>),
    Exited(std::io::Result<std::process::ExitStatus>),
    TimedOut,
}

/// Starts a line of the harness's in the log pipe.
const CONTROL: char = '\u{1}';

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Lambda's log stream name: `YYYY/MM/DD/[version]<environment>`.
fn log_stream(version: &str, name: &str) -> String {
    format!(
        "{}/[{version}]{name}",
        chrono::Utc::now().format("%Y/%m/%d")
    )
}

/// Copies the log pipe into the log file until every write end is closed:
/// the process's lines after their time and label, the harness's as they
/// came (their time and text; their label applies to what follows).
fn pump(reader: PipeReader, mut file: std::fs::File) {
    std::thread::spawn(move || {
        let mut reader = BufReader::new(reader);
        let mut label = "INIT".to_owned();
        let mut line = Vec::new();
        while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\n', '\r']);
            // A failed write is dropped: the process must never block on its log.
            let _ = match text.strip_prefix(CONTROL) {
                Some(ours) => {
                    let mut fields = ours.splitn(3, '\t');
                    let (time, next, platform) = (
                        fields.next().unwrap_or_default(),
                        fields.next().unwrap_or_default(),
                        fields.next().unwrap_or_default(),
                    );
                    next.clone_into(&mut label);
                    writeln!(file, "{time}\t{platform}")
                }
                None => writeln!(file, "{}\t{label}\t{text}", now()),
            };
            line.clear();
        }
    });
}

/// The process's peak resident memory (VmHWM), in MB rounded up, as
/// Lambda's "Max Memory Used".
fn peak_rss_mb(pid: u32) -> Option<u64> {
    let status =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}
