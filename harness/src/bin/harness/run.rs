//! `harness run`: the event-source mappings the emulator holds (what
//! `terraform/local` applied), run with the settings the Lambda API returns,
//! into the function the stack's alias points at.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use harness::supervisor::{Change, RunConfig, RunReport, Supervisor, Target};
use mapping::applied::Applied;
use mapping::{Backoff, StartingPosition};

use crate::plumbing;
use crate::replay::print_summary;

#[derive(Args)]
pub struct RunArgs {
    /// Only the mappings of this function (a name or an ARN) [default: every Kinesis mapping].
    #[arg(long)]
    function: Option<String>,
    /// The alias (or version, or $LATEST) the mappings invoke: the stack's `live`. moto names the version the alias had when the mapping was created; the alias is resolved again at every refresh, so a newly published version is what runs.
    #[arg(long, default_value = "live")]
    qualifier: String,
    /// Keep running: read the mappings and the alias again every --refresh (a changed setting applies from the next batch, a new mapping starts, a deleted one stops). Ctrl-C stops [default: drain what each mapping holds and end].
    #[arg(long)]
    follow: bool,
    /// How often, with --follow, the mappings and the alias are read again.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    refresh: Duration,
    /// The function's code: the zip Terraform uploaded (compared with the deployed CodeSha256) or a folder (a Python function's sources), run in execution environments under the Runtime API with the function's configuration [default: target/lambda-host/bootstrap/bootstrap.zip, what `harness package` writes].
    #[arg(long, conflicts_with_all = ["in_process", "invoke_url"])]
    code: Option<PathBuf>,
    /// Refuse code that may not be the code deployed (a zip whose CodeSha256 differs, a folder) instead of saying so and running it.
    #[arg(long)]
    strict: bool,
    /// Call the consumer library in this process (configured by the function's environment as deployed) instead of running its code.
    #[arg(long, conflicts_with = "invoke_url")]
    in_process: bool,
    /// Invoke this Invoke API instead (`harness watch` serves one on 127.0.0.1:9000, a test's stub).
    #[arg(long)]
    invoke_url: Option<String>,
    /// Where each mapping's state file goes, named by its UUID: a restart resumes it; a mapping deleted and created again is a new one [default: .local/checkpoints/mappings].
    #[arg(long)]
    checkpoint_dir: Option<PathBuf>,
    /// Keep the state in memory only: every run starts each mapping anew.
    #[arg(long, conflicts_with = "checkpoint_dir")]
    no_checkpoint: bool,
    /// The time of an AT_TIMESTAMP mapping (RFC 3339): moto stores StartingPositionTimestamp but never returns it.
    #[arg(long, value_parser = parse_timestamp)]
    starting_position_timestamp: Option<f64>,
    /// Once a shard is caught up, poll it again only this many milliseconds after the last poll (AWS: about 1000) [default: as fast as records come].
    #[arg(long)]
    poll_interval_ms: Option<u64>,
    /// With --in-process: append the consumer's enriched output lines here.
    #[arg(long, requires = "in_process")]
    output: Option<PathBuf>,
    /// Print each mapping's effective settings and the function configuration it resolved, then exit.
    #[arg(long)]
    print_settings: bool,
    /// With --print-settings: as JSON.
    #[arg(long, requires = "print_settings")]
    json: bool,
}

fn parse_timestamp(text: &str) -> Result<f64, String> {
    match StartingPosition::parse(&format!("AT_TIMESTAMP={text}")) {
        Ok(StartingPosition::AtTimestamp(at)) => Ok(at),
        Ok(_) => unreachable!("parsed as AT_TIMESTAMP"),
        Err(error) => Err(error.to_string()),
    }
}

impl RunArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let environment = plumbing::require_environment()?;
        let sdk = plumbing::sdk(&environment).await;
        let target = if let Some(url) = &self.invoke_url {
            Target::Invoke { url: url.clone() }
        } else if self.in_process {
            Target::InProcess {
                // What Lambda's environment would give the consumer and
                // Terraform cannot know: where the cache is.
                defaults: BTreeMap::from([(
                    "MOMENTO_ENDPOINT".to_owned(),
                    environment.momento_endpoint.clone(),
                )]),
                output: self.output.clone(),
            }
        } else {
            let code = self
                .code
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::package::HOST_ZIP));
            anyhow::ensure!(
                code.exists() || self.print_settings,
                "no function code at {}: `harness package` builds it (`just deploy-local` does, and deploys it), or pass --code, or --in-process",
                code.display()
            );
            let local = emulators::local_dir();
            Target::Environments {
                code,
                defaults: harness::environments::emulator_defaults(
                    &environment.aws_endpoint,
                    &environment.momento_endpoint,
                ),
                functions_dir: local.join("functions"),
                log_dir: local.join("logs").join("functions"),
                strict: self.strict,
            }
        };
        let supervisor = Supervisor::new(
            &sdk,
            RunConfig {
                function: self.function.clone(),
                qualifier: self.qualifier.clone(),
                follow: self.follow,
                refresh: self.refresh,
                checkpoint_dir: (!self.no_checkpoint).then(|| {
                    self.checkpoint_dir.clone().unwrap_or_else(|| {
                        emulators::local_dir().join("checkpoints").join("mappings")
                    })
                }),
                starting_position_timestamp: self.starting_position_timestamp,
                target,
                backoff: Backoff::AWS_LIKE,
                poll_interval: self.poll_interval_ms.map(Duration::from_millis),
            },
        );
        if self.print_settings {
            return print_settings(&supervisor, self.json).await;
        }
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let stopper = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping: the invocations in flight finish and are checkpointed (Ctrl-C again to quit now)");
                let _ = stop.send(true);
                if tokio::signal::ctrl_c().await.is_ok() {
                    std::process::exit(130);
                }
            }
        });
        let report = supervisor.run(stopped, show).await;
        stopper.abort();
        let report = report?;
        print_report(&report);
        let failed = report.mappings.iter().filter(|(_, r)| r.is_err()).count();
        anyhow::ensure!(
            failed == 0 && report.refused.is_empty(),
            "{failed} mapping(s) failed and {} could not be run (above)",
            report.refused.len()
        );
        anyhow::ensure!(
            !report.mappings.is_empty(),
            "no Kinesis event-source mapping to run{}: apply terraform/local first (`just deploy-local`)",
            self.function
                .as_deref()
                .map(|f| format!(" for {f}"))
                .unwrap_or_default()
        );
        Ok(())
    }
}

/// One line per change, on stderr.
fn show(change: Change) {
    match change {
        Change::Started { uuid, stream } => eprintln!("mapping {uuid}: started on {stream}"),
        Change::Refused { uuid, reason } => eprintln!("mapping {uuid}: not run: {reason}"),
        Change::Updated { uuid, what } => {
            eprintln!("mapping {uuid}: updated ({what}), from the next batch");
        }
        Change::Restarted { uuid, what } => {
            eprintln!("mapping {uuid}: restarted from its saved state ({what})");
        }
        Change::Deleted { uuid } => {
            eprintln!("mapping {uuid}: deleted, stopping after its invocations in flight");
        }
        Change::Stopped { uuid, error: None } => eprintln!("mapping {uuid}: stopped"),
        Change::Stopped {
            uuid,
            error: Some(error),
        } => eprintln!(
            "mapping {uuid}: stopped: {error} (started again when its settings change, or by the next `run`)"
        ),
        Change::Failed { uuid, error } => eprintln!(
            "mapping {uuid}: could not start: {error} (tried again when its settings change, or by the next `run`)"
        ),
        Change::Progress { uuid, summary: s } => eprintln!(
            "… mapping {uuid}: {} records, {} invocations, {} retries, {} to the destination",
            s.records, s.invocations, s.retries, s.sent_to_destination
        ),
        Change::FunctionVersion { function, version } => {
            eprintln!("function {function}: running version {version}");
        }
        Change::CodeDiffers {
            function,
            local,
            deployed,
        } => eprintln!(
            "function {function}: THE LOCAL CODE IS NOT WHAT IS DEPLOYED (CodeSha256 {local} here, {deployed} deployed): running the local zip; `just deploy-local` deploys it, --strict refuses to run it"
        ),
        Change::FunctionNote { function, note } => eprintln!("function {function}: {note}"),
        Change::FunctionFailed { function, error } => {
            eprintln!("function {function}: {error} (its invocations fail until this is fixed)");
        }
    }
}

fn print_report(report: &RunReport) {
    for (uuid, result) in &report.mappings {
        println!("mapping {uuid}");
        match result {
            Ok(summary) => print_summary(summary, None),
            Err(error) => println!("failed: {error}"),
        }
    }
}

async fn print_settings(supervisor: &Supervisor, json: bool) -> anyhow::Result<()> {
    let mut shown = Vec::new();
    for entry in supervisor.list().await? {
        match entry {
            Ok(applied) => {
                let function = supervisor
                    .resolve(&applied)
                    .await
                    .map_err(|e| e.to_string());
                shown.push(settings_json(&applied, function));
            }
            Err((uuid, reason)) => {
                shown.push(serde_json::json!({ "uuid": uuid, "refused": reason }));
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    if shown.is_empty() {
        println!("no event-source mapping");
    }
    for mapping in shown {
        println!("{}", serde_json::to_string_pretty(&mapping)?);
    }
    Ok(())
}

/// What will run: the effective settings and the function resolved.
fn settings_json(
    applied: &Applied,
    function: Result<harness::function::FunctionConfig, String>,
) -> serde_json::Value {
    let s = &applied.settings;
    let seconds = |d: Option<Duration>| d.map_or(-1, |d| d.as_secs() as i64);
    serde_json::json!({
        "uuid": applied.uuid,
        "stream": applied.stream_arn,
        "settings": {
            "enabled": s.enabled,
            "batch_size": s.batch_size,
            "maximum_batching_window_in_seconds": s.batching_window.as_secs_f64(),
            "starting_position": s.starting_position.to_string(),
            "report_batch_item_failures": s.report_batch_item_failures,
            "bisect_batch_on_function_error": s.bisect_on_error,
            "maximum_retry_attempts": s.maximum_retry_attempts.map_or(-1, i64::from),
            "maximum_record_age_in_seconds": seconds(s.maximum_record_age),
            "parallelization_factor": s.parallelization_factor,
            "on_failure": s.on_failure,
            "filter_criteria": s.filter.sources(),
            "tumbling_window_in_seconds": s.tumbling_window.map_or(0, |d| d.as_secs()),
            "event_count_metrics": applied.event_count_metrics,
        },
        "notes": applied.notes,
        "function": match function {
            Ok(f) => serde_json::json!({
                "name": f.name,
                "qualifier": f.qualifier,
                "version": f.version,
                "arn": f.arn,
                "runtime": f.runtime,
                "handler": f.handler,
                "timeout_seconds": f.timeout.as_secs(),
                "memory_mb": f.memory_mb,
                "reserved_concurrency": f.reserved_concurrency,
                "architectures": f.architectures,
                "code_sha256": f.code_sha256,
                // Names only: a value may be a secret.
                "environment": f.environment.keys().collect::<Vec<_>>(),
            }),
            Err(error) => serde_json::json!({ "error": error }),
        },
        "mapping_function_arn": applied.function_arn,
    })
}
