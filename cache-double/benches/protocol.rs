//! Benchmark: the cache double against the protocol floor, through the real
//! Momento SDK, in one run on this machine.
//!
//! For each server it measures sequential Get latency (p50/p99 over
//! `BENCH_CALLS` calls) and Get throughput with 64 concurrent tasks for
//! `BENCH_SECONDS` seconds, in the order floor, double, double, floor
//! (A-B-B-A), so that neither side is favoured by going first or last; then
//! the double/floor ratios over both runs of each. Each server runs on its
//! own Tokio runtime so client and server do not share a scheduler.
//!
//! The floor answers every Get with the same Hit and stores nothing: no
//! server can be faster, and where both reach the same throughput that is the
//! client's own limit (the SDK on this machine), not the server's.
//!
//! Run: `cargo bench -p cache-double --bench protocol`
//! (env: BENCH_CALLS=20000 BENCH_SECONDS=5 BENCH_TASKS=64 BENCH_CONNECTIONS=4)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_report::{Distribution, Figure, Results};
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::floor::FloorServer;
use cache_double::{CacheDouble, DoubleConfig};
use hdrhistogram::Histogram;
use momento::cache::GetResponse;
use momento::CacheClient;

const CACHE: &str = "bench";
const KEY: &str = "Car";
const BODY: &[u8] = br#"{"location":"Car","description":"Car description","notes":"Car notes"}"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    /// Sequential Get latency, in nanoseconds.
    latency: Histogram<u64>,
    ops_per_sec: f64,
}

impl Figures {
    fn p50_us(&self) -> f64 {
        self.latency.value_at_quantile(0.50) as f64 / 1_000.0
    }

    fn p99_us(&self) -> f64 {
        self.latency.value_at_quantile(0.99) as f64 / 1_000.0
    }
}

fn client(endpoint: &str, connections: usize) -> CacheClient {
    let mut settings = ClientSettings::new(Some(endpoint), ApiKey::new(local_api_key("bench")));
    settings.connections = connections;
    connect(&settings).expect("client builds")
}

async fn get_hit(client: &CacheClient) {
    match client.get(CACHE, KEY).await {
        Ok(GetResponse::Hit { .. }) => {}
        other => panic!("expected a hit, got {other:?}"),
    }
}

async fn measure(
    endpoint: &str,
    calls: usize,
    seconds: u64,
    tasks: usize,
    connections: usize,
) -> Figures {
    let sequential = client(endpoint, 1);
    for _ in 0..1_000 {
        get_hit(&sequential).await;
    }
    let mut hist = Histogram::<u64>::new(3).expect("histogram");
    for _ in 0..calls {
        let started = Instant::now();
        get_hit(&sequential).await;
        hist.record(started.elapsed().as_nanos() as u64)
            .expect("in range");
    }

    let concurrent = client(endpoint, connections);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..tasks)
        .map(|_| {
            let (client, done, stop) = (concurrent.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    get_hit(&client).await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await; // warm up
    let (start_count, started) = (done.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let ops = done.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    Figures {
        latency: hist,
        ops_per_sec: ops as f64 / elapsed.as_secs_f64(),
    }
}

/// A runtime of its own for a server, kept alive for the whole benchmark.
fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime")
}

fn main() {
    let calls = env_or("BENCH_CALLS", 20_000usize);
    let seconds = env_or("BENCH_SECONDS", 5u64);
    let tasks = env_or("BENCH_TASKS", 64usize);
    let connections = env_or("BENCH_CONNECTIONS", 4usize);

    let double_rt = server_runtime();
    let double = double_rt.block_on(async {
        let double = CacheDouble::start(DoubleConfig {
            caches: vec![CACHE.into()],
            ..Default::default()
        })
        .await
        .expect("double starts");
        client(&double.endpoint(), 1)
            .set(CACHE, KEY, BODY)
            .await
            .expect("seed");
        double
    });
    let floor_rt = server_runtime();
    let floor = floor_rt
        .block_on(FloorServer::start(BODY.to_vec()))
        .expect("floor starts");

    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    println!(
        "protocol benchmark: {calls} sequential Gets, then {tasks} tasks on {connections} connection(s) for {seconds} s; order floor, double, double, floor"
    );
    println!(
        "{:<8} {:>10} {:>10} {:>12}",
        "server", "p50 µs", "p99 µs", "ops/s"
    );
    let mut runs: Vec<(&str, Figures)> = Vec::new();
    for name in ["floor", "double", "double", "floor"] {
        let endpoint = if name == "floor" {
            floor.endpoint()
        } else {
            double.endpoint()
        };
        let figures = client_rt.block_on(measure(&endpoint, calls, seconds, tasks, connections));
        println!(
            "{name:<8} {:>10.1} {:>10.1} {:>12.0}",
            figures.p50_us(),
            figures.p99_us(),
            figures.ops_per_sec
        );
        runs.push((name, figures));
    }
    let combined = |server: &str| {
        let mut latency = Histogram::<u64>::new(3).expect("histogram");
        let mut ops = Vec::new();
        for (_, f) in runs.iter().filter(|(name, _)| *name == server) {
            latency.add(&f.latency).expect("same bounds");
            ops.push(f.ops_per_sec);
        }
        Figures {
            latency,
            ops_per_sec: ops.iter().sum::<f64>() / ops.len() as f64,
        }
    };
    let (floor_figures, double_figures) = (combined("floor"), combined("double"));
    let gets = double.stats().rpc("Get");
    println!(
        "both runs of each: floor p50 {:.1} µs / p99 {:.1} µs, {:.0} ops/s; double p50 {:.1} µs / p99 {:.1} µs, {:.0} ops/s",
        floor_figures.p50_us(),
        floor_figures.p99_us(),
        floor_figures.ops_per_sec,
        double_figures.p50_us(),
        double_figures.p99_us(),
        double_figures.ops_per_sec
    );
    println!(
        "double/floor: p50 ratio {:.2} (target <= 1.25), throughput ratio {:.2} (target >= 0.80); the floor's {:.0} ops/s is this client's own limit",
        double_figures.p50_us() / floor_figures.p50_us(),
        double_figures.ops_per_sec / floor_figures.ops_per_sec,
        floor_figures.ops_per_sec,
    );
    println!(
        "double served {} Gets ({} hits, {} errors)",
        gets.calls, gets.hits, gets.errors
    );
    assert_eq!(
        gets.errors, 0,
        "the double answered with errors during the benchmark"
    );

    let mut saved = Results::new("protocol", "cargo bench -p cache-double --bench protocol");
    for (name, figures) in [("floor", &floor_figures), ("double", &double_figures)] {
        let mut micros = Histogram::<u64>::new(3).expect("histogram");
        for v in figures.latency.iter_recorded() {
            micros
                .record_n(v.value_iterated_to() / 1_000, v.count_at_value())
                .expect("in range");
        }
        saved.distributions.push(Distribution::from_micros(
            "sequential Get latency (both runs)",
            name,
            &micros,
        ));
        saved.figures.push(Figure::new(
            "Get throughput",
            name,
            figures.ops_per_sec,
            "ops/s",
        ));
    }
    match saved.save() {
        Ok(path) => println!("saved {}", path.display()),
        Err(e) => eprintln!("could not save the results: {e}"),
    }
}
