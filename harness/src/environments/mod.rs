//! A function version run as Lambda runs it: execution environments
//! ([`process`]) under the Runtime API, one invocation at a time each. The
//! pool grows when every environment is busy, up to the function's reserved
//! concurrency; beyond it an invocation is throttled (a service error: the
//! mapping retries it without counting a retry). A timeout or a crash ends
//! its environment and the next invocation starts a new one; [`report`]
//! writes what Lambda logs around each invocation.

pub mod process;
pub mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use mapping::InvokeError;
use parking_lot::Mutex;
use serde_json::Value;

use crate::code::Code;
use crate::function::FunctionConfig;
pub use process::{Environment, Spec};

/// How an environment's process starts, by the function's runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// A custom runtime (`provided.*`): the code's `bootstrap`.
    Bootstrap,
    /// A Python runtime: AWS's runtime interface client (`awslambdaric`) on
    /// this interpreter, with the function's handler.
    Python { interpreter: PathBuf },
}

/// The Python that has AWS's runtime interface client, installed into
/// `.local/venv` when missing (under the venv's lock, as moto is), and its
/// version (`3.11`).
///
/// # Errors
/// pip's output when the install fails.
pub fn python_runtime() -> Result<(PathBuf, String), String> {
    let (python, _) = emulators::install::python_library(
        &emulators::install::venv(),
        &["awslambdaric"],
        "awslambdaric",
    )
    .map_err(|e| e.to_string())?;
    let version = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
        ])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    Ok((python, version))
}

/// The environments of one function version.
pub struct Environments {
    spec: Spec,
    /// Reserved concurrency: environments never exceed it.
    limit: Option<usize>,
    idle: Mutex<Vec<Environment>>,
    /// Environments alive (idle or busy).
    live: AtomicUsize,
    started: AtomicUsize,
}

impl Environments {
    /// The environments of `function` running `code`; `defaults` fill in
    /// what the function's variables leave out (the emulators' endpoints,
    /// the credentials Lambda would take from the role), in `region`.
    pub fn new(
        function: &FunctionConfig,
        code: &Code,
        launcher: Launcher,
        defaults: &BTreeMap<String, String>,
        region: &str,
        log_dir: PathBuf,
    ) -> Self {
        let mut variables = variables(function, code, defaults, region);
        let (program, args) = match launcher {
            Launcher::Bootstrap => (code.dir.join("bootstrap"), Vec::new()),
            Launcher::Python { interpreter } => {
                // As Lambda's Python runtimes: the task root is importable.
                variables.insert("PYTHONPATH".into(), code.dir.display().to_string());
                let handler = variables["_HANDLER"].clone();
                (
                    interpreter,
                    vec!["-m".into(), "awslambdaric".into(), handler],
                )
            }
        };
        Self {
            spec: Spec {
                program,
                args,
                task_root: code.dir.clone(),
                variables,
                function_arn: function.arn.clone(),
                version: function.version.clone(),
                timeout: function.timeout,
                memory_size_mb: function.memory_mb,
                log_dir,
            },
            limit: function
                .reserved_concurrency
                .map(|n| usize::try_from(n).unwrap_or(0)),
            idle: Mutex::new(Vec::new()),
            live: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
        }
    }

    /// How many environments were started so far.
    pub fn started(&self) -> usize {
        self.started.load(Ordering::Relaxed)
    }

    /// One invocation in an idle environment, or a new one; throttled at
    /// the reserved concurrency.
    ///
    /// # Errors
    /// [`InvokeError::Service`] when throttled; [`InvokeError::Function`]
    /// for what the function (or its init) made of it.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        let reused = self.idle.lock().pop();
        let mut lease = match reused {
            Some(environment) => Lease::new(self, environment),
            None => {
                if !self.reserve() {
                    return Err(InvokeError::Service(format!(
                        "TooManyRequestsException: Rate Exceeded (reserved concurrency {})",
                        self.limit.unwrap_or_default()
                    )));
                }
                self.started.fetch_add(1, Ordering::Relaxed);
                // Unique as Lambda's log streams are: a configuration
                // change or a restart starts new environments beside the
                // old ones' logs.
                let id = uuid::Uuid::new_v4().simple().to_string();
                let name = format!("{}-{}", self.spec.version.replace('$', ""), &id[..12]);
                match Environment::start(&self.spec, name).await {
                    Ok(environment) => Lease::new(self, environment),
                    Err(error) => {
                        self.live.fetch_sub(1, Ordering::Relaxed);
                        return Err(InvokeError::Function(error));
                    }
                }
            }
        };
        let invoked = lease.environment().invoke(event, &self.spec).await;
        if invoked.reusable {
            lease.give_back();
        }
        invoked.result
    }

    /// Takes a place for a new environment, if the limit allows.
    fn reserve(&self) -> bool {
        let limit = self.limit.unwrap_or(usize::MAX);
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |live| {
                (live < limit).then_some(live + 1)
            })
            .is_ok()
    }
}

/// A busy environment: back to the idle list when it can serve again, else
/// (timed out, crashed, or the invocation was abandoned) its process is
/// killed and its place freed.
struct Lease<'a> {
    pool: &'a Environments,
    environment: Option<Environment>,
}

impl<'a> Lease<'a> {
    fn new(pool: &'a Environments, environment: Environment) -> Self {
        Self {
            pool,
            environment: Some(environment),
        }
    }

    fn environment(&mut self) -> &mut Environment {
        self.environment.as_mut().expect("leased")
    }

    fn give_back(mut self) {
        if let Some(environment) = self.environment.take() {
            self.pool.idle.lock().push(environment);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.environment.take().is_some() {
            self.pool.live.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// What Lambda's environment would give a function and Terraform cannot
/// know, for `Target::Environments`'s defaults: the emulators' endpoints,
/// and credentials (Lambda's come from the role; the emulators take any).
pub fn emulator_defaults(aws_endpoint: &str, momento_endpoint: &str) -> BTreeMap<String, String> {
    [
        ("AWS_ENDPOINT_URL", aws_endpoint),
        ("MOMENTO_ENDPOINT", momento_endpoint),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_SESSION_TOKEN", "test"),
        // the double's local key makes the SDK warn that it looks like a v2 key
        ("RUST_LOG", "info,momento::credential_provider=error"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// The process's variables: Lambda's reserved ones over the function's own
/// over `defaults`; the host's PATH (the code's interpreters are the
/// host's), nothing else of the harness's environment.
fn variables(
    function: &FunctionConfig,
    code: &Code,
    defaults: &BTreeMap<String, String>,
    region: &str,
) -> BTreeMap<String, String> {
    let mut variables = defaults.clone();
    variables.extend(function.environment.clone());
    let task_root = code.dir.display().to_string();
    let mut reserved = vec![
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
        (
            "_HANDLER",
            function
                .handler
                .clone()
                .unwrap_or_else(|| "bootstrap".into()),
        ),
        ("AWS_REGION", region.to_owned()),
        ("AWS_DEFAULT_REGION", region.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", function.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", function.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            function.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", function.name),
        ),
        ("LAMBDA_TASK_ROOT", task_root.clone()),
        ("LAMBDA_RUNTIME_DIR", task_root),
    ];
    if let Some(runtime) = function
        .runtime
        .as_deref()
        .filter(|r| !r.starts_with("provided"))
    {
        reserved.push(("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime}")));
    }
    for (name, value) in reserved {
        variables.insert(name.to_owned(), value);
    }
    variables
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn function() -> FunctionConfig {
        FunctionConfig {
            name: "f".into(),
            qualifier: "live".into(),
            version: "3".into(),
            arn: "arn:aws:lambda:us-east-1:123456789012:function:f:3".into(),
            runtime: Some("provided.al2023".into()),
            handler: Some("bootstrap".into()),
            timeout: Duration::from_secs(3),
            memory_mb: 256,
            environment: BTreeMap::from([
                ("TABLE_NAME".into(), "Locations".into()),
                ("MOMENTO_ENDPOINT".into(), "http://deployed".into()),
                ("AWS_REGION".into(), "eu-west-1".into()),
            ]),
            code_sha256: None,
            reserved_concurrency: Some(1),
            architectures: vec![],
        }
    }

    #[test]
    fn reserved_variables_win_and_the_functions_own_win_over_defaults() {
        let code = Code {
            dir: "/tmp/code".into(),
            sha256: None,
        };
        let defaults = BTreeMap::from([
            ("MOMENTO_ENDPOINT".into(), "http://double".into()),
            ("AWS_ENDPOINT_URL".into(), "http://moto".into()),
        ]);
        let v = variables(&function(), &code, &defaults, "us-east-1");
        assert_eq!(
            v["AWS_REGION"], "us-east-1",
            "reserved: the function cannot set it"
        );
        assert_eq!(
            v["MOMENTO_ENDPOINT"], "http://deployed",
            "the function's own"
        );
        assert_eq!(
            v["AWS_ENDPOINT_URL"], "http://moto",
            "a default fills the gap"
        );
        assert_eq!(v["AWS_LAMBDA_FUNCTION_VERSION"], "3");
        assert_eq!(v["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
        assert_eq!(v["LAMBDA_TASK_ROOT"], "/tmp/code");
        assert!(
            !v.contains_key("AWS_EXECUTION_ENV"),
            "not for a custom runtime"
        );
        assert!(
            !v.contains_key("HOME"),
            "nothing else of the harness's environment"
        );
    }

    #[test]
    fn the_pool_never_exceeds_the_reserved_concurrency() {
        let code = Code {
            dir: "/tmp/code".into(),
            sha256: None,
        };
        let pool = Environments::new(
            &function(),
            &code,
            Launcher::Bootstrap,
            &BTreeMap::new(),
            "us-east-1",
            "/tmp".into(),
        );
        assert!(pool.reserve());
        assert!(!pool.reserve(), "reserved concurrency 1");
        pool.live.fetch_sub(1, Ordering::Relaxed);
        assert!(pool.reserve());
    }
}
