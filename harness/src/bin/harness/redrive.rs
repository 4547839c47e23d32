//! `harness redrive`: deliver again what the event-source mapping gave up on,
//! locally or on a deployment (`--deployed`).

use aws_config::BehaviorVersion;
use clap::Args;
use mapping::redrive::{Outcome, RangeResult};
use mapping::{Function, Redrive, RedriveConfig, RedriveReport};

use crate::plumbing;

#[derive(Args)]
#[command(
    long_about = "Deliver again the records the event-source mapping gave up on.\n\n\
    Reads every invocation record (a pointer: shard id and sequence range) in the on-failure \
    queue, fetches exactly those records from the stream (AT_SEQUENCE_NUMBER up to the range's \
    end) and invokes the function with them again, in order per shard, retrying the records it \
    reports in batchItemFailures. A pointer is deleted only once its whole range succeeded; a \
    partly delivered range keeps a pointer to the rest. Ranges the stream no longer holds \
    (retention passed) are reported with their coordinates and kept. Other messages in the \
    queue are left alone. Exits with status 1 unless every range was delivered.\n\n\
    Locally it uses the emulators `harness up` started; with --deployed, the AWS credentials \
    and region of the usual chain (environment, profile, SSO, role) and the Lambda API."
)]
pub struct RedriveArgs {
    /// Work on the deployed stack (AWS credentials and region from the usual chain) instead of the local emulators.
    #[arg(long)]
    deployed: bool,
    /// The on-failure queue: a name or a URL.
    #[arg(long, default_value_t = emulators::Names::default().on_failure_queue)]
    queue: String,
    /// With --deployed: the function to invoke (name or ARN).
    #[arg(long, default_value_t = emulators::Names::default().function)]
    function_name: String,
    /// Locally: what to invoke.
    #[arg(
        long,
        value_enum,
        default_value = "in-process",
        conflicts_with = "deployed"
    )]
    target: crate::replay::Target,
    /// Locally, with `--target invoke`: the Invoke API URL [default: the one `watch` serves on port 9000].
    #[arg(long)]
    invoke_url: Option<String>,
    /// Records per invocation.
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// Invocations of one batch (with exponential backoff) before its range counts as failed.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// Only check what the pointers name and whether the stream still holds it; invoke and delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

impl RedriveArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let (sdk, function) = if self.deployed {
            let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
            let function = Function::Lambda {
                client: aws_sdk_lambda::Client::new(&sdk),
                name: self.function_name.clone(),
            };
            (sdk, function)
        } else {
            let environment = plumbing::require_environment()?;
            let sdk = plumbing::sdk(&environment).await;
            let function = match self.target {
                crate::replay::Target::InProcess => harness::in_process::in_process(
                    plumbing::in_process_consumer(&environment).await?.0,
                ),
                crate::replay::Target::Invoke => Function::invoke_api(
                    self.invoke_url
                        .clone()
                        .unwrap_or_else(|| harness::watch::invoke_url(9000)),
                ),
            };
            (sdk, function)
        };
        let queue_url = plumbing::queue_url(&sdk, &self.queue).await?;
        let config = RedriveConfig {
            queue_url: queue_url.clone(),
            batch_size: self.batch_size,
            attempts: self.attempts.max(1),
            dry_run: self.dry_run,
            function_name: self.function_name.clone(),
        };
        eprintln!("reading pointers from {queue_url}");
        let report = Redrive::new(&sdk, config, function).run().await?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print(&report, self.dry_run);
        }
        anyhow::ensure!(
            report.complete(),
            "not every range was delivered: see the lines above (their pointers stay in the queue)"
        );
        Ok(())
    }
}

fn print(report: &RedriveReport, dry_run: bool) {
    if report.outcomes.is_empty() {
        println!("nothing to redrive: the queue holds no on-failure records");
    }
    for Outcome {
        pointer: p,
        found,
        delivered,
        result,
    } in &report.outcomes
    {
        let range = format!(
            "{} {} {}..{} ({} records, {})",
            p.stream_name(),
            p.shard_id,
            p.start_sequence_number,
            p.end_sequence_number,
            p.batch_size,
            p.condition
        );
        match result {
            RangeResult::Redriven => println!("redriven   {range}: {delivered} delivered"),
            RangeResult::Available => println!("available  {range}: {found} records in the stream"),
            RangeResult::AgedOut { first_available } => println!(
                "AGED OUT   {range}: the stream no longer holds the start of this range{}; pointer kept",
                first_available
                    .as_ref()
                    .map(|s| format!(" (oldest record there now: {s})"))
                    .unwrap_or_default()
            ),
            RangeResult::Failed { reason } => println!(
                "FAILED     {range}: {delivered} of {found} delivered; {reason}; pointer kept for the rest"
            ),
            RangeResult::Blocked => println!(
                "waiting    {range}: an earlier range of this shard did not complete; pointer kept"
            ),
        }
    }
    let verb = if dry_run {
        "would deliver"
    } else {
        "delivered"
    };
    println!(
        "{} pointers, {} records {verb}, {} invocations{}",
        report.outcomes.len(),
        if dry_run {
            report.outcomes.iter().map(|o| o.found).sum::<usize>()
        } else {
            report.records_delivered()
        },
        report.invocations,
        if report.other_messages > 0 {
            format!(
                "; {} other messages left in the queue",
                report.other_messages
            )
        } else {
            String::new()
        }
    );
}
