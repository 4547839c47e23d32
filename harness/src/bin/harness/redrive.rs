//! `harness redrive`: deliver again what the event-source mapping gave up on,
//! locally or on a deployment (`--deployed`).

use std::time::Duration;

use aws_config::BehaviorVersion;
use clap::Args;
use mapping::engine::redrive::Selection;
use mapping::redrive::{Outcome, RangeResult};
use mapping::{Backoff, FilterCriteria, Function, Redrive, RedriveConfig, RedriveReport};

use crate::plumbing;

#[derive(Args)]
#[command(
    long_about = "Deliver again the records the event-source mapping gave up on.\n\n\
    Reads every message in the on-failure queue once. Each invocation record (a pointer: stream \
    ARN, shard, sequence range) is fetched from the stream its ARN names, in that ARN's region \
    (AT_SEQUENCE_NUMBER up to the range's end), and exactly the records the mapping gave up on \
    go back to the function: the filter criteria are re-applied (--filter, as the mapping had \
    them), and so is the mapping's lane (--parallelization-factor) where it is known, locally. \
    What was picked is checked against the pointer's batchSize. Pointers go in the order the \
    mapping read them: a shard's ranges in order, a parent's before its children's; unrelated \
    shards side by side. Retries use the mapping's rules and backoff. A pointer is deleted once \
    its records are delivered; a partly delivered one is replaced by one naming the rest; a \
    range the stream no longer holds is reported with its coordinates and kept, and blocks \
    nothing; a range that fails blocks what must follow it. Duplicate and overlapping pointers \
    deliver each record once. Messages that are not pointers are reported and left in the queue \
    (or moved with --foreign-queue). A second run finds only what was kept. Exits with status 1 \
    unless every range was delivered.\n\n\
    Locally it uses the emulators `harness up` started; with --deployed, the AWS credentials \
    and region of the usual chain (environment, profile, SSO, role) and the Lambda API. \
    Deployed, AWS's lane assignment is not public: every lane's records of a range go back \
    (at least once), and a batchSize mismatch says how many more there were."
)]
pub struct RedriveArgs {
    /// Work on the deployed stack (AWS credentials and region from the usual chain) instead of the local emulators.
    #[arg(long)]
    deployed: bool,
    /// The on-failure queue: a name or a URL.
    #[arg(long, default_value_t = emulators::Names::default().on_failure_queue)]
    queue: String,
    /// Move messages that are not pointers to this queue (a name or a URL) instead of leaving them.
    #[arg(long)]
    foreign_queue: Option<String>,
    /// With --deployed: the function to invoke (name or ARN): the stack's
    /// `function_name` output, with the stage's prefix.
    #[arg(long, default_value_t = emulators::Names::default().function)]
    function_name: String,
    /// With --deployed: the alias (or version) to invoke, the one the
    /// event-source mapping invokes, so records go back into the code the
    /// mapping runs (after a rollback of the alias, not the newest).
    /// `$LATEST` for the newest code.
    #[arg(long, default_value = "live")]
    qualifier: String,
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
    /// Invocations of one batch without progress (with the mapping's backoff) before its range counts as failed.
    #[arg(long, default_value_t = 5)]
    attempts: u32,
    /// Locally: the mapping's parallelization factor, so only the pointer's lane goes back (1-10).
    #[arg(long, default_value_t = 1, conflicts_with = "deployed")]
    parallelization_factor: u32,
    /// The mapping's FilterCriteria patterns (as `replay --filter`): records they drop stay out.
    #[arg(long = "filter", value_name = "PATTERN")]
    filters: Vec<String>,
    /// The function's timeout (e.g. `30s`): a longer invocation fails [default: none].
    #[arg(long, value_parser = humantime::parse_duration)]
    function_timeout: Option<Duration>,
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
                qualifier: Some(self.qualifier.clone()),
            };
            eprintln!("invoking {}:{}", self.function_name, self.qualifier);
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
        anyhow::ensure!(
            (1..=10).contains(&self.parallelization_factor),
            "--parallelization-factor is 1-10"
        );
        let queue_url = plumbing::queue_url(&sdk, &self.queue).await?;
        let foreign_queue_url = match &self.foreign_queue {
            Some(queue) => Some(plumbing::queue_url(&sdk, queue).await?),
            None => None,
        };
        let config = RedriveConfig {
            queue_url: queue_url.clone(),
            batch_size: self.batch_size,
            attempts: self.attempts.max(1),
            dry_run: self.dry_run,
            function_name: self.function_name.clone(),
            selection: Selection {
                lanes: (!self.deployed).then_some(self.parallelization_factor as usize),
                filter: FilterCriteria::parse(&self.filters)?,
            },
            foreign_queue_url,
            backoff: Backoff::AWS_LIKE,
            function_timeout: self.function_timeout,
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
        picked,
        delivered,
        result,
        mismatch,
    } in &report.outcomes
    {
        let range = format!(
            "{} {} {}..{} ({} records, {})",
            p.stream_arn,
            p.shard_id,
            p.start_sequence_number,
            p.end_sequence_number,
            p.batch_size,
            p.condition
        );
        let found = picked.records.len();
        match result {
            RangeResult::Redriven => println!("redriven   {range}: {delivered} delivered"),
            RangeResult::Available => println!("available  {range}: {found} records to deliver"),
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
                "waiting    {range}: a range it must follow (earlier in its shard, or of a parent shard) failed; pointer kept"
            ),
        }
        if picked.other_lanes + picked.filtered + picked.already_delivered > 0 {
            println!(
                "           left out of the range: {} of other lanes, {} filtered out, {} delivered already by an overlapping pointer",
                picked.other_lanes, picked.filtered, picked.already_delivered
            );
        }
        if let Some(mismatch) = mismatch {
            println!(
                "MISMATCH   {range}: {mismatch} (check --parallelization-factor and --filter)"
            );
        }
    }
    for foreign in &report.foreign {
        println!(
            "NOT A POINTER message {} ({} bytes): {}",
            foreign.message_id,
            foreign.bytes,
            if foreign.moved {
                "moved to the foreign queue"
            } else {
                "left in the queue"
            }
        );
    }
    let verb = if dry_run {
        "would deliver"
    } else {
        "delivered"
    };
    println!(
        "{} pointers, {} records {verb}, {} invocations, {} other messages",
        report.outcomes.len(),
        if dry_run {
            report
                .outcomes
                .iter()
                .map(|o| o.picked.records.len())
                .sum::<usize>()
        } else {
            report.records_delivered()
        },
        report.invocations,
        report.foreign.len()
    );
}
