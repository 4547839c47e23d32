//! Cold start and footprint of the built `bootstrap`, run the way Lambda runs
//! it: a fresh process per container against the Lambda Runtime API
//! (`harness::runtime_api`), pointed at moto (SSM, DynamoDB, SQS) and the
//! cache double.
//!
//! - init: process start → its first `GET /runtime/invocation/next` (config,
//!   AWS SDK set-up, the SSM read of the Momento key, clients, the cache
//!   check), and the same without the SSM round trip (which the process logs);
//! - the first batch of a new container (empty L1), and warm batches;
//! - peak RSS (`VmHWM`) of a container after a 2,000-record run.
//!
//! The binary is the zip's profile (`release-lto`) built for this machine
//! (x86_64; Lambda's is arm64 from the same profile). `cargo bench -p harness --bench cold_start`.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_report::{Distribution, Figure, Results};
use emulators::Emulators;
use harness::runtime_api::RuntimeApi;
use hdrhistogram::Histogram;
use mapping::{EventSource, StreamRecord};
use model::ModelOne;

const SECRET: &str = "cold-start-bench";
const CONTAINERS: usize = 12;
const BATCH: usize = 10;
const WARM_BATCHES: usize = 200;
const LOCATIONS: [&str; 3] = ["Car", "House", "Diner"];

fn main() -> anyhow::Result<()> {
    let binary = build_bootstrap()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(binary))
}

/// `cargo build --profile release-lto --bin bootstrap`: the profile the zip ships with.
fn build_bootstrap() -> anyhow::Result<PathBuf> {
    let root = emulators::workspace_root();
    eprintln!("building bootstrap in the zip's profile (release-lto), for this machine …");
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .args([
            "build",
            "--profile",
            "release-lto",
            "--quiet",
            "-p",
            "consumer",
            "--bin",
            "bootstrap",
        ])
        .current_dir(&root);
    emulators::without_cargo_env(&mut cargo);
    anyhow::ensure!(cargo.status()?.success(), "building bootstrap failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release-lto/bootstrap"))
}

struct Container {
    init: Duration,
    /// The SSM round trip inside init, as the process logged it.
    ssm: Duration,
    first_batch: Duration,
}

async fn run(binary: PathBuf) -> anyhow::Result<()> {
    let emulators = Emulators::start(SECRET).await?;
    let mut variables = harness::watch::function_env(
        &emulators.names,
        &emulators.provisioned.dead_letter_queue_url,
        &emulators.double.endpoint(),
        emulators.aws.endpoint(),
    );
    variables.extend(
        [
            (
                "AWS_LAMBDA_FUNCTION_NAME",
                emulators.names.function.as_str(),
            ),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("RUST_LOG", "info"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let source = EventSource {
        stream_arn: emulators.provisioned.stream_arn.clone(),
        region: emulators.names.region.clone(),
        role_arn: "arn:aws:iam::000000000000:role/bench".into(),
    };
    let logs = emulators::local_dir().join("logs");
    std::fs::create_dir_all(&logs)?;
    println!(
        "cold start: {CONTAINERS} containers (fresh processes) of {}, batches of {BATCH}; SSM, DynamoDB, SQS = moto; Momento = the double\n",
        binary.display()
    );

    let mut containers = Vec::new();
    let mut warm = histogram();
    let mut peak_rss_kib = 0;
    for n in 0..CONTAINERS {
        let function_arn = format!(
            "arn:aws:lambda:us-east-1:000000000000:function:{}",
            emulators.names.function
        );
        let api = Arc::new(RuntimeApi::start(&function_arn, Duration::from_secs(30)).await?);
        let stdout = logs.join(format!("cold-start-{n}.out"));
        let started = Instant::now();
        let mut child = Command::new(&binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(variables.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", api.host())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout)?)
            .stderr(Stdio::inherit())
            .spawn()?;
        let ready = api
            .ready(Duration::from_secs(30))
            .await
            .map_err(anyhow::Error::msg)?;
        let init = ready.duration_since(started);

        let event = source.event(&records(n, BATCH));
        let sent = Instant::now();
        let response = api.invoke(event).await.map_err(anyhow::Error::msg)?;
        let first_batch = sent.elapsed();
        anyhow::ensure!(
            response["batchItemFailures"] == serde_json::json!([]),
            "first batch: {response}"
        );

        if n == 0 {
            // One container carries the 2,000-record run.
            for i in 0..WARM_BATCHES {
                let event = source.event(&records(1000 + i, BATCH));
                let sent = Instant::now();
                api.invoke(event).await.map_err(anyhow::Error::msg)?;
                warm.record(sent.elapsed().as_micros() as u64)?;
            }
            peak_rss_kib = peak_rss(child.id())?;
        }
        let _ = child.kill();
        let _ = child.wait();
        containers.push(Container {
            init,
            ssm: logged_ssm(&stdout)?,
            first_batch,
        });
    }

    let summarise = |f: &dyn Fn(&Container) -> Duration| {
        let mut h = histogram();
        for c in &containers {
            h.record(f(c).as_micros().max(1) as u64).expect("in bounds");
        }
        h
    };
    let init = summarise(&|c| c.init);
    let without_ssm = summarise(&|c| c.init.saturating_sub(c.ssm));
    let ssm = summarise(&|c| c.ssm);
    let first = summarise(&|c| c.first_batch);
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!("{:<42} {:>9} {:>9}", "", "p50 ms", "max ms");
    for (name, h) in [
        ("init (process start → ready)", &init),
        ("init without the SSM round trip", &without_ssm),
        ("SSM GetParameter (moto)", &ssm),
        ("first batch of a new container", &first),
    ] {
        println!(
            "{name:<42} {:>9.2} {:>9.2}",
            ms(h, 0.5),
            h.max() as f64 / 1000.0
        );
    }
    println!(
        "{:<42} {:>9.3} {:>9.3}   (p99 {:.3} ms, {WARM_BATCHES} batches)",
        "warm batch",
        ms(&warm, 0.5),
        warm.max() as f64 / 1000.0,
        ms(&warm, 0.99)
    );
    let rss_mb = peak_rss_kib as f64 / 1024.0;
    println!(
        "\npeak RSS after {} records: {rss_mb:.1} MiB (target ≤ 48 MB)",
        (WARM_BATCHES + 1) * BATCH
    );
    println!(
        "init without SSM p50 {:.1} ms (target ≤ 40 ms; lambda-perf measures ~14 ms for a hello-world Rust function on arm64)",
        ms(&without_ssm, 0.5)
    );

    let mut saved = Results::new("cold-start", "cargo bench -p harness --bench cold_start");
    for (group, label, h) in [
        ("cold start", "init (process start → ready)", &init),
        (
            "cold start",
            "init without the SSM round trip",
            &without_ssm,
        ),
        ("batches", "first batch of a new container", &first),
        ("batches", "warm batch", &warm),
    ] {
        saved
            .distributions
            .push(Distribution::from_micros(group, label, h));
    }
    saved.figures.push(Figure::new(
        "footprint",
        "peak RSS, 2,010 records",
        rss_mb,
        "MiB",
    ));
    saved.figures.push(Figure::new(
        "cold start",
        "SSM GetParameter p50 (moto)",
        ms(&ssm, 0.5),
        "ms",
    ));
    println!("\nsaved {}", saved.save()?.display());
    Ok(())
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// `count` records for shard 0, numbered from `first`.
fn records(first: usize, count: usize) -> Vec<StreamRecord> {
    (0..count)
        .map(|i| {
            let model = ModelOne::new(LOCATIONS[i % LOCATIONS.len()]);
            StreamRecord {
                shard_id: "shardId-000000000000".into(),
                sequence_number: format!("{:056}", first * count + i),
                partition_key: model.id.clone(),
                data: model.to_json(),
                arrival: mapping::records::now_seconds(),
            }
        })
        .collect()
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc/{pid}/status"))
}

/// The SSM round trip the process logged in its "consumer initialised" line.
fn logged_ssm(stdout: &std::path::Path) -> anyhow::Result<Duration> {
    let file = std::io::BufReader::new(std::fs::File::open(stdout)?);
    for line in file.lines() {
        let line = line?;
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "consumer initialised" {
            let ms = entry["fields"]["ssm_ms"].as_f64().unwrap_or_default();
            return Ok(Duration::from_secs_f64(ms / 1000.0));
        }
    }
    anyhow::bail!("{} has no \"consumer initialised\" line", stdout.display())
}
