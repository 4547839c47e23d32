//! `harness`: run the whole pipeline offline, and the operations a
//! deployment needs (redrive, creating the Momento cache). See `harness --help`.
//!
//! One module per subcommand; this file only parses and dispatches.

mod demo;
mod down;
mod local;
mod momento_cache;
mod package;
mod plumbing;
mod provision;
mod redrive;
mod replay;
mod run;
mod serve_double;
mod status;
mod up;
mod watch;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "harness",
    about = "Local emulation of the Kinesis → Lambda → Momento/DynamoDB pipeline, and its operations",
    long_about = "Local emulation of the Kinesis → Lambda → Momento/DynamoDB pipeline, and its operations.\n\n\
        Typical session: `up`, `provision`, produce records (`cargo run -p producer -- ...`), \
        then `replay` (the local event-source mapping) into the consumer, in-process or under \
        `watch` (cargo lambda watch). `demo` does all of it once. After `terraform/local` is \
        applied to the emulator, `run` runs the mappings it created, with their settings, and \
        follows changes (`--follow`). Everything binds 127.0.0.1; \
        state, logs, checkpoints and the tools installed for it (moto, cargo-lambda) live in \
        .local/ of the directory it runs in, or the folder --dir names.\n\n\
        `redrive` and `momento-cache` also work on a deployment (`--deployed`)."
)]
struct Cli {
    /// Where state, logs, checkpoints and installed tools live.
    #[arg(long, global = true, env = "HARNESS_DIR", default_value = ".local")]
    dir: std::path::PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start moto server and the cache double in the background (harmless to repeat).
    Up(up::UpArgs),
    /// Stop what `up` started.
    Down,
    /// Say what runs where.
    Status(status::StatusArgs),
    /// Create the stream, table, SecureString parameter, queues and cache (idempotent).
    Provision,
    /// Run the consumer under `cargo lambda watch` on 127.0.0.1, pointed at the emulators.
    Watch(watch::WatchArgs),
    /// The local event-source mapping: read the stream and invoke the consumer as AWS would.
    Replay(replay::ReplayArgs),
    /// Run the event-source mappings the emulator holds (what Terraform applied), live, into the function their alias points at.
    Run(run::RunArgs),
    /// Build the consumer for this machine and zip it as Lambda takes it (what terraform/local deploys and `run` runs).
    Package(package::PackageArgs),
    /// Deliver again the records the mapping gave up on (the pointers in its on-failure queue).
    Redrive(redrive::RedriveArgs),
    /// Create the Momento cache the consumer reads through (an existing cache is success).
    MomentoCache(momento_cache::MomentoCacheArgs),
    /// up → provision → produce → replay through the consumer → summary.
    Demo(demo::DemoArgs),
    /// Run the cache double in the foreground (used by `up`).
    #[command(hide = true)]
    ServeDouble(serve_double::ServeDoubleArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    emulators::use_local_dir(std::path::absolute(&cli.dir)?);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,momento=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match cli.command {
            Command::Up(args) => args.run().await,
            Command::Down => down::run(),
            Command::Status(args) => args.run().await,
            Command::Provision => provision::run().await,
            Command::Watch(args) => args.run().await,
            Command::Replay(args) => args.run().await,
            Command::Run(args) => args.run().await,
            Command::Package(args) => args.run(),
            Command::Redrive(args) => args.run().await,
            Command::MomentoCache(args) => args.run().await,
            Command::Demo(args) => args.run().await,
            Command::ServeDouble(args) => args.run().await,
        }
    })
}
