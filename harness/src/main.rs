//! `harness`: run the whole pipeline offline. See `harness --help`.

mod commands;
mod local;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use consumer::Captured;
use harness::{Function, MappingSettings, Replay, ReplayConfig, ReplaySummary, StartingPosition};
use local::{Backend, Environment, Ports};

#[derive(Parser)]
#[command(
    name = "harness",
    about = "Local emulation of the Kinesis → Lambda → Momento/DynamoDB pipeline",
    long_about = "Local emulation of the Kinesis → Lambda → Momento/DynamoDB pipeline.\n\n\
        Typical session: `up`, `provision`, produce records (`cargo run -p producer -- ...`), \
        then `replay` (the local event-source mapping) into the consumer, in-process or under \
        `watch` (cargo lambda watch). `demo` does all of it once. Everything binds 127.0.0.1; \
        state, logs and checkpoints live in the git-ignored .local/ folder."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start moto server and the cache double in the background (harmless to repeat).
    Up(UpArgs),
    /// Stop what `up` started.
    Down,
    /// Say what runs where.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Create the stream, table, SecureString parameter, queue and cache (idempotent).
    Provision,
    /// Run the consumer under `cargo lambda watch` on 127.0.0.1, pointed at the emulators.
    Watch {
        /// Port of the Lambda Invoke API.
        #[arg(long, default_value_t = 9000)]
        port: u16,
    },
    /// The local event-source mapping: read the stream and invoke the consumer as AWS would.
    Replay(ReplayArgs),
    /// up → provision → produce → replay through the consumer → summary.
    Demo {
        /// Records to produce.
        #[arg(long, default_value_t = 1000)]
        records: u64,
        /// Stop the emulators at the end instead of leaving them running.
        #[arg(long)]
        down: bool,
    },
    /// Run the cache double in the foreground (used by `up`).
    #[command(hide = true)]
    ServeDouble {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long)]
        admin_addr: SocketAddr,
        #[arg(long)]
        cache: Vec<String>,
    },
}

#[derive(Args)]
struct UpArgs {
    /// `native` (moto server + the double as processes) or `docker` (docker compose: LocalStack + the double's image).
    #[arg(long, value_enum, env = "HARNESS_BACKEND", default_value = "native")]
    backend: Backend,
    #[arg(long, default_value_t = Ports::default().aws)]
    aws_port: u16,
    #[arg(long, default_value_t = Ports::default().momento)]
    momento_port: u16,
    #[arg(long, default_value_t = Ports::default().admin)]
    admin_port: u16,
}

#[derive(Args)]
struct ReplayArgs {
    #[arg(long, default_value = "model-one-stream")]
    stream: String,
    /// What to invoke: the consumer library in this process, or the Invoke API of `watch`.
    #[arg(long, value_enum, default_value = "in-process")]
    target: Target,
    /// Invoke API URL for `--target invoke` [default: the one `watch` serves on port 9000].
    #[arg(long)]
    invoke_url: Option<String>,
    /// Keep polling after the stream is drained (Ctrl-C stops).
    #[arg(long)]
    follow: bool,
    /// Replay a file instead of the stream: the producer's JSON lines or captured Kinesis events.
    #[arg(long, conflicts_with = "follow")]
    from_file: Option<PathBuf>,
    /// Checkpoint file [default: .local/checkpoints/<stream>.json].
    #[arg(long)]
    checkpoint_file: Option<PathBuf>,
    /// Keep checkpoints in memory only (every run starts at the starting position).
    #[arg(long, conflicts_with = "checkpoint_file")]
    no_checkpoint: bool,
    /// Write the consumer's enriched output lines here (with `--target in-process`).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    mapping: MappingArgs,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Target {
    InProcess,
    Invoke,
}

/// The event-source mapping's settings (Terraform's names and defaults,
/// except the starting position: locally you usually replay what you just produced).
#[derive(Args)]
struct MappingArgs {
    #[arg(long, default_value_t = 10)]
    batch_size: usize,
    /// maximum_batching_window_in_seconds, in milliseconds.
    #[arg(long, default_value_t = 0)]
    batching_window_ms: u64,
    /// LATEST, TRIM_HORIZON or AT_TIMESTAMP=<RFC 3339> (used when a shard has no checkpoint).
    #[arg(long, default_value = "TRIM_HORIZON", value_parser = StartingPosition::parse)]
    starting_position: StartingPosition,
    /// Treat any response as full success (no ReportBatchItemFailures).
    #[arg(long)]
    no_report_batch_item_failures: bool,
    /// Do not split a failing batch.
    #[arg(long)]
    no_bisect: bool,
    /// -1 retries until the record expires.
    #[arg(long, default_value_t = 5, allow_negative_numbers = true)]
    maximum_retry_attempts: i64,
    /// -1 never expires.
    #[arg(long, default_value_t = 3600, allow_negative_numbers = true)]
    maximum_record_age_seconds: i64,
    #[arg(long, default_value_t = 1)]
    parallelization_factor: u32,
    /// SQS URL of the on-failure destination [default: the provisioned dead-letter queue].
    #[arg(long)]
    on_failure: Option<String>,
}

impl MappingArgs {
    fn settings(&self, on_failure: String) -> MappingSettings {
        MappingSettings {
            batch_size: self.batch_size,
            batching_window: Duration::from_millis(self.batching_window_ms),
            starting_position: self.starting_position,
            report_batch_item_failures: !self.no_report_batch_item_failures,
            bisect_on_error: !self.no_bisect,
            maximum_retry_attempts: u32::try_from(self.maximum_retry_attempts).ok(),
            maximum_record_age: u64::try_from(self.maximum_record_age_seconds)
                .ok()
                .map(Duration::from_secs),
            parallelization_factor: self.parallelization_factor,
            on_failure: Some(self.on_failure.clone().unwrap_or(on_failure)),
        }
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,momento=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => {
            let ports = Ports {
                aws: args.aws_port,
                momento: args.momento_port,
                admin: args.admin_port,
            };
            let environment = local::up(args.backend, ports).await?;
            print_status(&environment, false).await;
            eprintln!("next: `harness provision`, then produce and `harness replay`; `harness down` stops everything");
        }
        Command::Down => {
            let stopped = local::down()?;
            if stopped.is_empty() {
                println!("nothing to stop");
            }
            for what in stopped {
                println!("stopped {what}");
            }
        }
        Command::Status { json } => match Environment::load() {
            Some(environment) => print_status(&environment, json).await,
            None => println!("not running (no {})", local::state_path().display()),
        },
        Command::Provision => {
            let environment = require_environment()?;
            let provisioned = commands::provision_environment(&environment).await?;
            let names = emulators::Names::default();
            println!("stream     {} ({})", names.stream, provisioned.stream_arn);
            println!("table      {} (Car, Diner, House)", names.table);
            println!("parameter  {} (SecureString)", names.parameter);
            println!("queue      {}", provisioned.dead_letter_queue_url);
            println!("cache      {}", names.cache);
        }
        Command::Watch { port } => {
            let environment = require_environment()?;
            let mut command = commands::watch_command(&environment, port).await?;
            eprintln!(
                "cargo lambda watch: invoke at {} (e.g. `harness replay --target invoke`)",
                harness::watch::invoke_url(port)
            );
            let status = command.status()?;
            anyhow::ensure!(status.success(), "cargo lambda watch exited with {status}");
        }
        Command::Replay(args) => replay(args).await?,
        Command::Demo { records, down } => demo(records, down).await?,
        Command::ServeDouble {
            addr,
            admin_addr,
            cache,
        } => serve_double(addr, admin_addr, cache).await?,
    }
    Ok(())
}

fn require_environment() -> anyhow::Result<Environment> {
    Environment::load()
        .ok_or_else(|| anyhow::anyhow!("the emulators are not running: run `harness up` first"))
}

async fn print_status(environment: &Environment, json: bool) {
    let statuses = local::status(environment).await;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&statuses).expect("status serializes")
        );
        return;
    }
    for s in statuses {
        let state = match (s.running, s.answering) {
            (_, true) => "up",
            (true, false) => "starting or stuck (not answering)",
            (false, _) => "down",
        };
        let pid = s
            .pid
            .map(|p| format!("pid {p}"))
            .unwrap_or_else(|| "docker".into());
        println!("{:<13} {:<24} {:<10} {state}", s.name, s.endpoint, pid);
    }
}

async fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    let environment = require_environment()?;
    let sdk = commands::sdk(&environment).await;
    let dead_letter_queue = commands::dead_letter_queue_url(&environment).await?;
    let mut captured: Option<(Arc<consumer::Consumer>, Captured)> = None;
    let function = match args.target {
        Target::InProcess => {
            let (consumer, output) = commands::in_process_consumer(&environment).await?;
            captured = Some((consumer.clone(), output));
            Function::InProcess(consumer)
        }
        Target::Invoke => Function::invoke_api(
            args.invoke_url
                .clone()
                .unwrap_or_else(|| harness::watch::invoke_url(9000)),
        ),
    };
    let config = ReplayConfig {
        stream: args.stream.clone(),
        region: environment.region.clone(),
        function_name: emulators::Names::default().function,
        settings: args.mapping.settings(dead_letter_queue),
        follow: args.follow,
        checkpoint_file: (!args.no_checkpoint && args.from_file.is_none()).then(|| {
            args.checkpoint_file
                .clone()
                .unwrap_or_else(|| commands::default_checkpoint_file(&args.stream))
        }),
    };
    let summary = match &args.from_file {
        Some(path) => {
            let records = harness::records::read_file(path)?;
            eprintln!(
                "replaying {} records from {}",
                records.len(),
                path.display()
            );
            let arn = format!(
                "arn:aws:kinesis:{}:000000000000:stream/{}",
                environment.region, args.stream
            );
            Replay::with_stream_arn(&sdk, config, function, arn)?
                .run_records(records)
                .await?
        }
        None => {
            let replay = Arc::new(Replay::new(&sdk, config, function).await?);
            run_with_progress(replay).await?
        }
    };
    let tiers = captured
        .as_ref()
        .map(|(consumer, _)| consumer.lookup().totals());
    if let (Some(path), Some((_, output))) = (&args.output, &captured) {
        let lines = output.take_lines();
        let text: String = lines
            .iter()
            .map(|l| serde_json::to_string(l).expect("line serializes") + "\n")
            .collect();
        std::fs::write(path, text)?;
        eprintln!(
            "{} enriched records written to {}",
            lines.len(),
            path.display()
        );
    }
    if args.json {
        let value = serde_json::json!({ "replay": summary, "consumer_lookups": tiers });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_summary(&summary, tiers.as_ref());
    }
    Ok(())
}

/// Runs the replay, printing progress to stderr every 2 s; Ctrl-C stops it
/// after saving what was checkpointed.
async fn run_with_progress(replay: Arc<Replay>) -> anyhow::Result<ReplaySummary> {
    let running = {
        let replay = replay.clone();
        tokio::spawn(async move { replay.run().await })
    };
    let progress = {
        let replay = replay.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            tick.tick().await;
            loop {
                tick.tick().await;
                let s = replay.summary();
                eprintln!(
                    "… {} records, {} invocations, {} retries, {} to the destination",
                    s.records, s.invocations, s.retries, s.sent_to_destination
                );
            }
        })
    };
    let result = tokio::select! {
        done = running => done?,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopping: checkpoints hold the last batch fully handled");
            Ok(replay.summary())
        }
    };
    progress.abort();
    Ok(result?)
}

fn print_summary(s: &ReplaySummary, tiers: Option<&consumer::lookup::LookupCounts>) {
    println!(
        "records {}  batches {}  invocations {}  retries {}  bisections {}  to destination {}  discarded {}",
        s.records, s.batches, s.invocations, s.retries, s.bisections, s.sent_to_destination, s.discarded
    );
    println!(
        "processed {}  write→processed latency p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  wall {:.2} s",
        s.processed, s.latency_p50_ms, s.latency_p99_ms, s.latency_max_ms, s.wall_seconds
    );
    if let Some(t) = tiers {
        println!(
            "consumer lookups: keys {}  L1 hits {}  Momento hits {} / misses {} / errors {}  DynamoDB found {} / missing {} / failed {} ({} calls)  Momento sets {}",
            t.keys,
            t.l1_hits + t.l1_negative_hits,
            t.momento_hits,
            t.momento_misses,
            t.momento_errors,
            t.dynamodb_found,
            t.dynamodb_missing,
            t.dynamodb_failed,
            t.dynamodb_calls,
            t.momento_sets
        );
    }
}

async fn demo(records: u64, down: bool) -> anyhow::Result<()> {
    eprintln!("1/4 starting the emulators");
    let environment = local::up(Backend::Native, Ports::default()).await?;
    print_status(&environment, false).await;
    eprintln!("2/4 provisioning");
    commands::provision_environment(&environment).await?;
    let names = emulators::Names::default();
    eprintln!("3/4 producing {records} records to {}", names.stream);
    let sdk = commands::sdk(&environment).await;
    let options = <producer::Options as Parser>::try_parse_from([
        "producer",
        "--stream",
        &names.stream,
        "-n",
        &records.to_string(),
        // one task: moto's shards lose records under concurrent PutRecords
        "-c",
        "1",
        "--json",
    ])?;
    let produced = producer::run(&options, aws_sdk_kinesis::Client::new(&sdk)).await?;
    anyhow::ensure!(
        produced.failed == 0,
        "{} records could not be produced",
        produced.failed
    );
    eprintln!("4/4 replaying the stream through the consumer (in-process, batches of 10)");
    let (consumer, _output) = commands::in_process_consumer(&environment).await?;
    let config = ReplayConfig {
        stream: names.stream.clone(),
        region: environment.region.clone(),
        function_name: names.function.clone(),
        settings: MappingSettings {
            starting_position: StartingPosition::TrimHorizon,
            on_failure: Some(commands::dead_letter_queue_url(&environment).await?),
            ..MappingSettings::default()
        },
        follow: false,
        checkpoint_file: Some(commands::default_checkpoint_file(&names.stream)),
    };
    let replay = Arc::new(Replay::new(&sdk, config, Function::InProcess(consumer.clone())).await?);
    let summary = replay.run().await?;
    println!();
    print_summary(&summary, Some(&consumer.lookup().totals()));
    if down {
        for what in local::down()? {
            println!("stopped {what}");
        }
    } else {
        println!("\nstill running: `harness status`; produce more and `harness replay`; `harness down` to stop");
    }
    Ok(())
}

async fn serve_double(
    addr: SocketAddr,
    admin_addr: SocketAddr,
    caches: Vec<String>,
) -> anyhow::Result<()> {
    let config = cache_double::DoubleConfig {
        faults: cache_double::FaultConfig {
            api_key: std::env::var("CACHE_DOUBLE_API_KEY").ok(),
            ..Default::default()
        },
        caches,
        ..Default::default()
    };
    let listener = cache_double::bind(addr).await?;
    let admin = cache_double::bind(admin_addr).await?;
    let shutdown = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    cache_double::serve(listener, Some(admin), config, shutdown).await?;
    Ok(())
}
