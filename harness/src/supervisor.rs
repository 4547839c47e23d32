//! Runs the event-source mappings an emulator holds (what Terraform applied),
//! live: every Kinesis mapping the Lambda API lists (all, or one function's)
//! runs with the settings the API returns ([`mapping::applied`]), its state
//! in a file named by its UUID, the function resolved through its alias
//! ([`crate::function`]). With `follow`, the mappings are listed again every
//! `refresh`: a new mapping starts, a deleted one stops after its
//! invocations in flight, changed settings reach the running engine from
//! its next batch (or restart it from its state, for the parallelization
//! factor and tumbling window), and a newly published version the alias
//! points at is what the next invocation runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use consumer::{Captured, Config, Consumer, KinesisInput, Output};
use mapping::applied::{from_lambda_api, Applied};
use mapping::engine::Engine;
use mapping::{
    Backoff, EventSourceMapping, Function, InvokeError, MappingConfig, MappingSettings, Summary,
};
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::code;
use crate::environments::{self, Environments, Launcher};
use crate::function::{self, FunctionConfig};

/// What the mappings invoke.
#[derive(Debug, Clone)]
pub enum Target {
    /// The function as Lambda runs it: its code (the zip Terraform
    /// uploaded, or a folder) in execution environments under the Runtime
    /// API, with its configuration; `defaults` fill in what its variables
    /// leave out (the emulators' endpoints, credentials).
    Environments {
        code: PathBuf,
        defaults: BTreeMap<String, String>,
        /// Where zips are extracted (one folder per content).
        functions_dir: PathBuf,
        /// Each environment's log goes under `<log_dir>/<function>/`.
        log_dir: PathBuf,
        /// Refuse a local zip whose CodeSha256 is not the deployed one.
        strict: bool,
    },
    /// The consumer library in this process, built from the function's
    /// configuration (its environment) with `defaults` for what it leaves
    /// out (the emulators' endpoints), rebuilt when the alias moves.
    InProcess {
        defaults: BTreeMap<String, String>,
        /// Enriched output lines go here (JSON lines, appended), else nowhere.
        output: Option<PathBuf>,
    },
    /// An Invoke API (`cargo lambda watch`, a test's stub).
    Invoke { url: String },
}

/// How to run the applied mappings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Only the mappings of this function (a name or an ARN).
    pub function: Option<String>,
    /// The alias (or version) the mappings invoke: the stack's `live`.
    pub qualifier: String,
    /// Keep running and follow changes (else drain what each mapping holds
    /// and end).
    pub follow: bool,
    /// How often the mappings and the alias are read again.
    pub refresh: Duration,
    /// Where each mapping's state file goes (`<uuid>.json`); `None`: memory.
    pub checkpoint_dir: Option<PathBuf>,
    /// For AT_TIMESTAMP mappings: moto never returns the timestamp.
    pub starting_position_timestamp: Option<f64>,
    pub target: Target,
    pub backoff: Backoff,
    pub poll_interval: Option<Duration>,
}

/// Something that happened, for the caller to show.
#[derive(Debug, Clone)]
pub enum Change {
    Started {
        uuid: String,
        stream: String,
    },
    /// The converter refused it (a field the engine cannot honour).
    Refused {
        uuid: String,
        reason: String,
    },
    /// New settings, from the next batch.
    Updated {
        uuid: String,
        what: String,
    },
    /// New settings that shape its lanes: restarted from its saved state.
    Restarted {
        uuid: String,
        what: String,
    },
    /// No longer listed: it stops after its invocations in flight.
    Deleted {
        uuid: String,
    },
    /// Ended: drained, deleted, stopped, or failed (`error`: it is not
    /// started again until its settings change).
    Stopped {
        uuid: String,
        error: Option<String>,
    },
    /// Could not start (its stream is missing, say): not tried again until
    /// its settings change.
    Failed {
        uuid: String,
        error: String,
    },
    /// Its counts moved.
    Progress {
        uuid: String,
        summary: Summary,
    },
    /// The alias resolved to another version (or its configuration changed).
    FunctionVersion {
        function: String,
        version: String,
    },
    /// The local zip is not the code deployed (CodeSha256): it runs anyway
    /// unless `strict`.
    CodeDiffers {
        function: String,
        local: String,
        deployed: String,
    },
    /// Something the user should know about how the function runs here.
    FunctionNote {
        function: String,
        note: String,
    },
    FunctionFailed {
        function: String,
        error: String,
    },
}

/// How each mapping ended.
#[derive(Debug, Default)]
pub struct RunReport {
    pub mappings: Vec<(String, Result<Summary, String>)>,
    pub refused: Vec<(String, String)>,
}

/// The function as a mapping invokes it, swapped when the alias moves.
struct FunctionSlot {
    config: RwLock<Option<FunctionConfig>>,
    /// What runs the configuration, or why it cannot run.
    runner: RwLock<Result<Runner, Unrunnable>>,
}

/// Why a function version does not run.
#[derive(Clone)]
enum Unrunnable {
    /// Its init fails: as in Lambda, every invocation fails (a function
    /// error, which the mapping's retry rules take).
    InitFailed(String),
    /// The harness will not run it (not resolved yet; code `--strict`
    /// refuses): its invocations are held as throttles are, spending no
    /// retry and losing nothing, until it changes.
    Held(String),
}

/// What runs a function version.
#[derive(Clone)]
enum Runner {
    Environments(Arc<Environments>),
    InProcess(InProcess),
    /// The Invoke API: nothing to hold.
    Remote,
}

/// One in-process consumer "container" and the lines it wrote.
#[derive(Clone)]
struct InProcess {
    consumer: Arc<Consumer>,
    output: Captured,
}

struct Running {
    applied: Applied,
    /// No longer listed, stopping.
    deleted: bool,
    mapping: Arc<EventSourceMapping>,
    task: JoinHandle<Result<Summary, mapping::MappingError>>,
}

/// The applied mappings, running.
pub struct Supervisor {
    sdk: SdkConfig,
    lambda: aws_sdk_lambda::Client,
    config: RunConfig,
    running: HashMap<String, Running>,
    refused: HashMap<String, String>,
    /// Mappings that failed, with the settings they failed with.
    failed: HashMap<String, MappingSettings>,
    functions: HashMap<String, Arc<FunctionSlot>>,
    /// The counts last shown per mapping (records, invocations).
    reported: HashMap<String, (u64, u64)>,
    report: RunReport,
}

impl Supervisor {
    pub fn new(sdk: &SdkConfig, config: RunConfig) -> Self {
        Self {
            sdk: sdk.clone(),
            lambda: aws_sdk_lambda::Client::new(sdk),
            config,
            running: HashMap::new(),
            refused: HashMap::new(),
            failed: HashMap::new(),
            functions: HashMap::new(),
            reported: HashMap::new(),
            report: RunReport::default(),
        }
    }

    /// The mappings the Lambda API lists now, each converted or refused.
    ///
    /// # Errors
    /// If ListEventSourceMappings fails.
    pub async fn list(&self) -> anyhow::Result<Vec<Result<Applied, (String, String)>>> {
        let mut listed = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            // Filtered here, by the function's name: moto's FunctionName
            // filter matches only the ARN it stored (with its version).
            let mut request = self.lambda.list_event_source_mappings();
            if let Some(marker) = &marker {
                request = request.marker(marker);
            }
            let page = request.send().await.map_err(|e| {
                anyhow::anyhow!(
                    "lambda:ListEventSourceMappings: {}",
                    aws_sdk_lambda::error::DisplayErrorContext(e)
                )
            })?;
            for mapping in page.event_source_mappings() {
                if let Some(wanted) = &self.config.function {
                    let arn = mapping.function_arn().unwrap_or_default();
                    if function::function_name(arn) != function::function_name(wanted) {
                        continue;
                    }
                }
                let uuid = mapping.uuid().unwrap_or_default().to_owned();
                listed.push(
                    from_lambda_api(mapping, self.config.starting_position_timestamp)
                        .map_err(|refused| (uuid, refused.to_string())),
                );
            }
            marker = page.next_marker().map(str::to_owned);
            if marker.is_none() {
                return Ok(listed);
            }
        }
    }

    /// The function a mapping invokes, resolved through the alias.
    ///
    /// # Errors
    /// If the function cannot be resolved.
    pub async fn resolve(&self, applied: &Applied) -> anyhow::Result<FunctionConfig> {
        Ok(function::resolve(&self.lambda, &applied.function_arn, &self.config.qualifier).await?)
    }

    /// Runs until stopped (`stop` turns true), or, without `follow`, until
    /// every mapping listed at the start has drained; `on_change` hears what
    /// happens (and each mapping's progress, every `refresh`).
    ///
    /// # Errors
    /// If the mappings cannot be listed at the start.
    pub async fn run(
        mut self,
        mut stop: watch::Receiver<bool>,
        on_change: impl Fn(Change),
    ) -> anyhow::Result<RunReport> {
        self.reconcile(&on_change).await?;
        if !self.config.follow {
            // A drain would retry a held function for ever: nothing changes it.
            if let Some(held) = self.held() {
                for running in self.running.values() {
                    running.mapping.stop();
                }
                self.finish_all(&on_change).await;
                anyhow::bail!("{held}");
            }
        }
        loop {
            tokio::select! {
                Ok(_) = stop.wait_for(|stopped| *stopped) => break,
                () = tokio::time::sleep(self.config.refresh) => {}
            }
            if self.config.follow {
                if let Err(error) = self.reconcile(&on_change).await {
                    tracing::warn!(%error, "could not read the mappings again: they run on as they were");
                }
            }
            self.reap(&on_change).await;
            self.progress(&on_change);
            if !self.config.follow && self.running.is_empty() {
                break;
            }
        }
        for running in self.running.values() {
            running.mapping.stop();
        }
        self.finish_all(&on_change).await;
        Ok(self.report_with_refusals())
    }

    /// Why a function is held, if one is.
    fn held(&self) -> Option<String> {
        self.functions
            .values()
            .find_map(|slot| match &*slot.runner.read() {
                Err(Unrunnable::Held(why)) => Some(why.clone()),
                _ => None,
            })
    }

    /// Each running mapping's counts, when they moved.
    fn progress(&mut self, on_change: &impl Fn(Change)) {
        for (uuid, running) in &self.running {
            let summary = running.mapping.summary();
            let counts = (summary.records, summary.invocations);
            if self.reported.insert(uuid.clone(), counts) != Some(counts) {
                on_change(Change::Progress {
                    uuid: uuid.clone(),
                    summary,
                });
            }
        }
    }

    fn report_with_refusals(mut self) -> RunReport {
        self.report.refused = self.refused.into_iter().collect();
        self.report
    }

    /// One listing: start, update, restart or stop mappings to match it, and
    /// swap functions whose alias moved.
    async fn reconcile(&mut self, on_change: &impl Fn(Change)) -> anyhow::Result<()> {
        let listed = self.list().await?;
        let mut seen = HashSet::new();
        for entry in listed {
            let applied = match entry {
                Ok(applied) => applied,
                Err((uuid, reason)) => {
                    seen.insert(uuid.clone());
                    if self.refused.insert(uuid.clone(), reason.clone()).is_none() {
                        on_change(Change::Refused { uuid, reason });
                    }
                    continue;
                }
            };
            seen.insert(applied.uuid.clone());
            self.refused.remove(&applied.uuid);
            if self.failed.get(&applied.uuid) == Some(&applied.settings) {
                continue;
            }
            self.failed.remove(&applied.uuid);
            let slot = self.function_slot(&applied, on_change).await;
            if let Some(running) = self.running.get(&applied.uuid) {
                running
                    .mapping
                    .set_function_timeout(self.mapping_timeout(&slot));
            }
            match self.running.get(&applied.uuid) {
                None => self.start(applied, slot, on_change).await,
                Some(running) if running.applied.settings == applied.settings => {}
                Some(running)
                    if Engine::restart_needed(&running.applied.settings, &applied.settings) =>
                {
                    let uuid = applied.uuid.clone();
                    let what = changes(&running.applied, &applied);
                    let running = self.running.remove(&uuid).expect("running");
                    running.mapping.stop();
                    let summary = running.task.await;
                    self.report.mappings.push((uuid.clone(), joined(summary)));
                    on_change(Change::Restarted {
                        uuid: uuid.clone(),
                        what,
                    });
                    self.start(applied, slot, on_change).await;
                }
                Some(running) => {
                    let what = changes(&running.applied, &applied);
                    running.mapping.update_settings(applied.settings.clone());
                    let uuid = applied.uuid.clone();
                    self.running.get_mut(&uuid).expect("running").applied = applied;
                    on_change(Change::Updated { uuid, what });
                }
            }
        }
        let gone: Vec<String> = self
            .running
            .keys()
            .filter(|uuid| !seen.contains(*uuid))
            .cloned()
            .collect();
        for uuid in gone {
            // Deleted: it stops after its invocations in flight.
            if let Some(running) = self.running.get_mut(&uuid) {
                if !running.deleted {
                    running.deleted = true;
                    running.mapping.stop();
                    on_change(Change::Deleted { uuid });
                }
            }
        }
        self.refused.retain(|uuid, _| seen.contains(uuid));
        self.failed.retain(|uuid, _| seen.contains(uuid));
        Ok(())
    }

    /// The function slot of a mapping's function, its alias resolved again.
    async fn function_slot(
        &mut self,
        applied: &Applied,
        on_change: &impl Fn(Change),
    ) -> Arc<FunctionSlot> {
        let name = function::function_name(&applied.function_arn).to_owned();
        let slot = self
            .functions
            .entry(name.clone())
            .or_insert_with(|| {
                Arc::new(FunctionSlot {
                    config: RwLock::new(None),
                    runner: RwLock::new(Err(Unrunnable::Held(
                        "its configuration is not read yet".to_owned(),
                    ))),
                })
            })
            .clone();
        match self.resolve(applied).await {
            Ok(config) if slot.config.read().as_ref() != Some(&config) => {
                on_change(Change::FunctionVersion {
                    function: name.clone(),
                    version: config.version.clone(),
                });
                let runner = self.runner(&config, on_change).await;
                if let Err(Unrunnable::InitFailed(error) | Unrunnable::Held(error)) = &runner {
                    on_change(Change::FunctionFailed {
                        function: name,
                        error: error.clone(),
                    });
                }
                *slot.runner.write() = runner;
                *slot.config.write() = Some(config);
            }
            Ok(_) => {}
            Err(error) => on_change(Change::FunctionFailed {
                function: name,
                error: error.to_string(),
            }),
        }
        slot
    }

    /// What runs `function` for the target.
    async fn runner(
        &self,
        function: &FunctionConfig,
        on_change: &impl Fn(Change),
    ) -> Result<Runner, Unrunnable> {
        match &self.config.target {
            Target::Invoke { .. } => Ok(Runner::Remote),
            Target::InProcess { defaults, .. } => Ok(Runner::InProcess(
                build_consumer(function, defaults, &self.sdk)
                    .await
                    .map_err(Unrunnable::InitFailed)?,
            )),
            Target::Environments {
                code: path,
                defaults,
                functions_dir,
                log_dir,
                strict,
            } => {
                let code = code::local(path, functions_dir)
                    .map_err(|e| Unrunnable::InitFailed(e.to_string()))?;
                let deployed = function.code_sha256.clone().unwrap_or_default();
                let differs = match &code.sha256 {
                    Some(local) if *local == deployed => None,
                    Some(local) => {
                        on_change(Change::CodeDiffers {
                            function: function.name.clone(),
                            local: local.clone(),
                            deployed: deployed.clone(),
                        });
                        Some(format!("CodeSha256 {local} here, {deployed} deployed"))
                    }
                    None => Some("a folder: nothing to compare".to_owned()),
                };
                if let (Some(why), true) = (differs, *strict) {
                    return Err(Unrunnable::Held(format!(
                        "{} may not be the code deployed ({why}): --strict refuses to run it",
                        path.display()
                    )));
                }
                let launcher = launcher(function, on_change).await?;
                let region = self
                    .sdk
                    .region()
                    .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
                Ok(Runner::Environments(Arc::new(Environments::new(
                    function,
                    &code,
                    launcher,
                    defaults,
                    &region,
                    log_dir.join(&function.name),
                ))))
            }
        }
    }

    /// The function timeout the mapping enforces itself: environments
    /// enforce theirs (and end the environment), the others get it here.
    fn mapping_timeout(&self, slot: &FunctionSlot) -> Option<Duration> {
        match self.config.target {
            Target::Environments { .. } => None,
            _ => slot.config.read().as_ref().map(|c| c.timeout),
        }
    }

    async fn start(
        &mut self,
        applied: Applied,
        slot: Arc<FunctionSlot>,
        on_change: &impl Fn(Change),
    ) {
        let timeout = self.mapping_timeout(&slot);
        let config = MappingConfig {
            stream: applied.stream_arn.clone(),
            region: self
                .sdk
                .region()
                .map_or("us-east-1".to_owned(), |r| r.to_string()),
            function_name: function::function_name(&applied.function_arn).to_owned(),
            settings: applied.settings.clone(),
            follow: self.config.follow,
            checkpoint_file: self
                .config
                .checkpoint_dir
                .as_ref()
                .map(|dir| dir.join(format!("{}.json", applied.uuid))),
            poll_interval: self.config.poll_interval,
            function_timeout: timeout,
            backoff: self.config.backoff,
            uuid: Some(applied.uuid.clone()),
        };
        let function = self.function(&slot);
        let uuid = applied.uuid.clone();
        match EventSourceMapping::new(&self.sdk, config, function).await {
            Ok(mapping) => {
                let mapping = Arc::new(mapping);
                let task = {
                    let mapping = mapping.clone();
                    tokio::spawn(async move { mapping.run().await })
                };
                on_change(Change::Started {
                    uuid: uuid.clone(),
                    stream: applied.stream_arn.clone(),
                });
                self.running.insert(
                    uuid,
                    Running {
                        applied,
                        deleted: false,
                        mapping,
                        task,
                    },
                );
            }
            Err(error) => {
                let error = error.to_string();
                self.failed.insert(uuid.clone(), applied.settings);
                self.report
                    .mappings
                    .push((uuid.clone(), Err(error.clone())));
                on_change(Change::Failed { uuid, error });
            }
        }
    }

    /// What the mapping invokes: the slot's current runner, or the Invoke API.
    fn function(&self, slot: &Arc<FunctionSlot>) -> Function {
        let sink = match &self.config.target {
            Target::Invoke { url } => return Function::invoke_api(url.clone()),
            Target::InProcess { output, .. } => Arc::new(Mutex::new(output.clone())),
            Target::Environments { .. } => Arc::new(Mutex::new(None)),
        };
        let slot = slot.clone();
        Function::service_until(move |event, deadline| {
            let runner = slot.runner.read().clone();
            let sink = sink.clone();
            async move {
                let runner = runner.map_err(|unrunnable| match unrunnable {
                    // As Lambda: a function whose init fails fails every invocation.
                    Unrunnable::InitFailed(e) => InvokeError::Function(format!("init failed: {e}")),
                    Unrunnable::Held(e) => InvokeError::Service(format!("held: {e}")),
                })?;
                match runner {
                    Runner::Environments(environments) => environments.invoke(event).await,
                    Runner::InProcess(current) => {
                        let input: KinesisInput = serde_json::from_value(event).map_err(|e| {
                            InvokeError::Function(format!("event does not parse: {e}"))
                        })?;
                        let result = current.consumer.handle_until(input, deadline).await;
                        append_lines(&current.output, &sink);
                        serde_json::to_value(result.response)
                            .map_err(|e| InvokeError::Function(e.to_string()))
                    }
                    Runner::Remote => Err(InvokeError::Service(
                        "the Invoke API target invokes its URL".to_owned(),
                    )),
                }
            }
        })
    }

    /// Collects the mappings that ended on their own (a deleted one, a
    /// drained one).
    async fn reap(&mut self, on_change: &impl Fn(Change)) {
        let ended: Vec<String> = self
            .running
            .iter()
            .filter(|(_, r)| r.task.is_finished())
            .map(|(uuid, _)| uuid.clone())
            .collect();
        for uuid in ended {
            let running = self.running.remove(&uuid).expect("listed");
            self.ended(uuid, running, on_change).await;
        }
    }

    async fn finish_all(&mut self, on_change: &impl Fn(Change)) {
        for (uuid, running) in std::mem::take(&mut self.running) {
            self.ended(uuid, running, on_change).await;
        }
    }

    /// Reports how a mapping ended; one that failed waits for new settings.
    async fn ended(&mut self, uuid: String, running: Running, on_change: &impl Fn(Change)) {
        let result = joined(running.task.await);
        let error = result.as_ref().err().cloned();
        if error.is_some() && !running.deleted {
            self.failed.insert(uuid.clone(), running.applied.settings);
        }
        self.report.mappings.push((uuid.clone(), result));
        on_change(Change::Stopped { uuid, error });
    }
}

/// Moves what the consumer wrote to the output file (appended), under the
/// file's lock: one shard's lines keep their order.
fn append_lines(captured: &Captured, sink: &Mutex<Option<PathBuf>>) {
    let path = sink.lock();
    let lines = captured.take_lines();
    let Some(path) = path.as_ref() else {
        return;
    };
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        for line in &lines {
            serde_json::to_writer(&mut file, line)?;
            file.write_all(b"\n")?;
        }
        Ok(())
    };
    if let Err(error) = write() {
        tracing::warn!(%error, path = %path.display(), "could not write the output lines");
    }
}

/// How `function`'s environments start, by its runtime: a custom
/// runtime's `bootstrap`, or Python under AWS's runtime interface client
/// (installed into `.local/venv` once). Another runtime is held, saying so.
async fn launcher(
    function: &FunctionConfig,
    on_change: &impl Fn(Change),
) -> Result<Launcher, Unrunnable> {
    let runtime = function.runtime.as_deref().unwrap_or("provided.al2023");
    if runtime.starts_with("provided") {
        return Ok(Launcher::Bootstrap);
    }
    let Some(wanted) = runtime.strip_prefix("python") else {
        return Err(Unrunnable::Held(format!(
            "the {runtime} runtime is not run here: custom runtimes (provided.*) and Python (python3.*) are (README: Execution environments)"
        )));
    };
    let (interpreter, version) = tokio::task::spawn_blocking(environments::python_runtime)
        .await
        .map_err(|e| Unrunnable::Held(e.to_string()))?
        .map_err(Unrunnable::Held)?;
    if version != wanted {
        on_change(Change::FunctionNote {
            function: function.name.clone(),
            note: format!(
                "runtime {runtime}, run on this machine's Python {version} ({})",
                interpreter.display()
            ),
        });
    }
    Ok(Launcher::Python { interpreter })
}

/// The consumer the function's configuration describes, in this process:
/// its environment, then `defaults` for what it leaves out (the emulators'
/// endpoints), as the bootstrap would read them in Lambda.
async fn build_consumer(
    function: &FunctionConfig,
    defaults: &BTreeMap<String, String>,
    sdk: &SdkConfig,
) -> Result<InProcess, String> {
    let config = Config::from_lookup(|name| {
        function
            .environment
            .get(name)
            .or_else(|| defaults.get(name))
            .cloned()
    })
    .map_err(|e| e.to_string())?;
    let (output, captured) = Output::capture();
    let consumer = consumer::init(&config, sdk, output)
        .await
        .map_err(|e| e.to_string())?;
    Ok(InProcess {
        consumer: Arc::new(consumer),
        output: captured,
    })
}

fn joined(
    result: Result<Result<Summary, mapping::MappingError>, tokio::task::JoinError>,
) -> Result<Summary, String> {
    match result {
        Ok(Ok(summary)) => Ok(summary),
        Ok(Err(error)) => Err(error.to_string()),
        Err(error) => Err(error.to_string()),
    }
}

/// What changed between two listings of one mapping, for the log.
fn changes(before: &Applied, after: &Applied) -> String {
    let (a, b) = (&before.settings, &after.settings);
    let mut what = Vec::new();
    let mut field = |name: &str, x: String, y: String| {
        if x != y {
            what.push(format!("{name} {x} → {y}"));
        }
    };
    field(
        "batch size",
        a.batch_size.to_string(),
        b.batch_size.to_string(),
    );
    field(
        "batching window",
        format!("{:?}", a.batching_window),
        format!("{:?}", b.batching_window),
    );
    field("enabled", a.enabled.to_string(), b.enabled.to_string());
    field(
        "bisect",
        a.bisect_on_error.to_string(),
        b.bisect_on_error.to_string(),
    );
    field(
        "maximum retry attempts",
        format!("{:?}", a.maximum_retry_attempts),
        format!("{:?}", b.maximum_retry_attempts),
    );
    field(
        "maximum record age",
        format!("{:?}", a.maximum_record_age),
        format!("{:?}", b.maximum_record_age),
    );
    field(
        "parallelization factor",
        a.parallelization_factor.to_string(),
        b.parallelization_factor.to_string(),
    );
    field(
        "filter",
        format!("{:?}", a.filter.sources()),
        format!("{:?}", b.filter.sources()),
    );
    field(
        "on-failure destination",
        format!("{:?}", a.on_failure),
        format!("{:?}", b.on_failure),
    );
    field(
        "tumbling window",
        format!("{:?}", a.tumbling_window),
        format!("{:?}", b.tumbling_window),
    );
    field(
        "ReportBatchItemFailures",
        a.report_batch_item_failures.to_string(),
        b.report_batch_item_failures.to_string(),
    );
    if what.is_empty() {
        "no setting".to_owned()
    } else {
        what.join(", ")
    }
}
