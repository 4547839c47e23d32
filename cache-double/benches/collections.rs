//! Benchmark: collection RPCs on the cache double through the real Momento
//! SDK, next to a scalar Get in the same run as the reference.
//!
//! For each operation: sequential latency (p50/p99 over `BENCH_CALLS` calls on
//! one connection), then throughput with `BENCH_TASKS` tasks on 4 connections
//! for `BENCH_SECONDS` seconds. The collections are realistic rather than
//! tiny: a list kept at 1,000 values by truncation (push) and a 100-value list
//! (fetch), a 10,000-member sorted set (put with a random score; fetch the top
//! 10 by rank, descending). The double runs on its own Tokio runtime.
//!
//! Run: `cargo bench -p cache-double --bench collections`
//! (env: BENCH_CALLS=10000 BENCH_SECONDS=3 BENCH_TASKS=32)

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_report::{Distribution, Figure, Results};
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{CacheDouble, DoubleConfig};
use hdrhistogram::Histogram;
use momento::cache::{
    GetResponse, ListFetchResponse, ListPushBackRequest, SortedSetFetchResponse, SortedSetOrder,
};
use momento::CacheClient;

const CACHE: &str = "bench";
const VALUE: &[u8] = br#"{"location":"Car","description":"Car description","notes":"Car notes"}"#;
const SORTED_SET_SIZE: usize = 10_000;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get,
    ListPushBack,
    ListFetch,
    SortedSetPut,
    SortedSetFetchByRank,
}

impl Op {
    const ALL: [Op; 5] = [
        Op::Get,
        Op::ListPushBack,
        Op::ListFetch,
        Op::SortedSetPut,
        Op::SortedSetFetchByRank,
    ];

    fn name(self) -> &'static str {
        match self {
            Op::Get => "Get (scalar, reference)",
            Op::ListPushBack => "ListPushBack (truncate to 1,000)",
            Op::ListFetch => "ListFetch (100 values)",
            Op::SortedSetPut => "SortedSetPutElement (10,000 members)",
            Op::SortedSetFetchByRank => "SortedSetFetchByRank (top 10 of 10,000)",
        }
    }

    /// One call; `n` varies the member or score so writes are not all alike.
    async fn call(self, client: &CacheClient, n: u64) {
        match self {
            Op::Get => match client.get(CACHE, "scalar").await {
                Ok(GetResponse::Hit { .. }) => {}
                other => panic!("Get: {other:?}"),
            },
            Op::ListPushBack => {
                client
                    .send_request(
                        ListPushBackRequest::new(CACHE, "pushed", VALUE)
                            .truncate_front_to_size(1_000),
                    )
                    .await
                    .expect("ListPushBack");
            }
            Op::ListFetch => match client.list_fetch(CACHE, "hundred").await {
                Ok(ListFetchResponse::Hit { .. }) => {}
                other => panic!("ListFetch: {other:?}"),
            },
            Op::SortedSetPut => {
                let member = format!("member-{}", n % SORTED_SET_SIZE as u64);
                let score = (n.wrapping_mul(2_654_435_761) % 1_000_000) as f64;
                client
                    .sorted_set_put_element(CACHE, "ranked", member, score)
                    .await
                    .expect("SortedSetPutElement");
            }
            Op::SortedSetFetchByRank => match client
                .sorted_set_fetch_by_rank(
                    CACHE,
                    "ranked",
                    SortedSetOrder::Descending,
                    Some(0),
                    Some(10),
                )
                .await
            {
                Ok(SortedSetFetchResponse::Hit { value }) => assert_eq!(value.len(), 10),
                other => panic!("SortedSetFetchByRank: {other:?}"),
            },
        }
    }
}

fn client(endpoint: &str, connections: usize) -> CacheClient {
    let mut settings = ClientSettings::new(Some(endpoint), ApiKey::new(local_api_key("bench")));
    settings.connections = connections;
    connect(&settings).expect("client builds")
}

async fn seed(client: &CacheClient) {
    client
        .set(CACHE, "scalar", VALUE)
        .await
        .expect("seed scalar");
    client
        .list_concatenate_back(CACHE, "hundred", vec![VALUE; 100])
        .await
        .expect("seed list");
    for chunk in (0..SORTED_SET_SIZE).collect::<Vec<_>>().chunks(1_000) {
        let members: Vec<(String, f64)> = chunk
            .iter()
            .map(|i| (format!("member-{i}"), *i as f64))
            .collect();
        client
            .sorted_set_put_elements(CACHE, "ranked", members)
            .await
            .expect("seed sorted set");
    }
}

/// Sequential latency in microseconds, then throughput.
async fn measure(
    op: Op,
    endpoint: &str,
    calls: u64,
    seconds: u64,
    tasks: usize,
) -> (Histogram<u64>, f64) {
    let sequential = client(endpoint, 1);
    for n in 0..500 {
        op.call(&sequential, n).await;
    }
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    for n in 0..calls {
        let started = Instant::now();
        op.call(&sequential, n).await;
        latency
            .record(started.elapsed().as_micros() as u64)
            .expect("in range");
    }

    let concurrent = client(endpoint, 4);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..tasks as u64)
        .map(|task| {
            let (client, done, stop) = (concurrent.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = task * 1_000_003;
                while !stop.load(Ordering::Relaxed) {
                    op.call(&client, n).await;
                    n += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await; // warm up
    let (start_count, started) = (done.load(Ordering::Relaxed), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let ops = done.load(Ordering::Relaxed) - start_count;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    (latency, ops as f64 / elapsed.as_secs_f64())
}

fn main() {
    let calls = env_or("BENCH_CALLS", 10_000u64);
    let seconds = env_or("BENCH_SECONDS", 3u64);
    let tasks = env_or("BENCH_TASKS", 32usize);

    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let double = server_rt
        .block_on(CacheDouble::start(DoubleConfig {
            caches: vec![CACHE.into()],
            ..Default::default()
        }))
        .expect("double starts");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    // The SDK's channel needs a runtime to connect in.
    client_rt.block_on(async { seed(&client(&double.endpoint(), 1)).await });

    println!(
        "collections benchmark: {calls} sequential calls per operation, then {tasks} tasks on 4 connections for {seconds} s"
    );
    println!(
        "{:<42} {:>8} {:>8} {:>10}",
        "operation", "p50 µs", "p99 µs", "ops/s"
    );
    let command = "cargo bench -p cache-double --bench collections";
    let mut saved = Results::new("collections", command);
    for op in Op::ALL {
        let (latency, ops_per_sec) =
            client_rt.block_on(measure(op, &double.endpoint(), calls, seconds, tasks));
        println!(
            "{:<42} {:>8} {:>8} {:>10.0}",
            op.name(),
            latency.value_at_quantile(0.5),
            latency.value_at_quantile(0.99),
            ops_per_sec
        );
        saved.distributions.push(Distribution::from_micros(
            "sequential latency",
            op.name(),
            &latency,
        ));
        saved
            .figures
            .push(Figure::new("throughput", op.name(), ops_per_sec, "ops/s"));
    }
    let stats = double.stats();
    let errors: u64 = stats.calls.rpcs.values().map(|r| r.errors).sum();
    let cache = &stats.caches[CACHE];
    println!(
        "double: {} items, {} bytes (list {} B, sorted set {} B), {errors} errors",
        cache.items, cache.bytes, cache.by_type["list"].bytes, cache.by_type["sorted_set"].bytes
    );
    assert_eq!(
        errors, 0,
        "the double answered with errors during the benchmark"
    );
    match saved.save() {
        Ok(path) => println!("saved {}", path.display()),
        Err(e) => eprintln!("could not save the results: {e}"),
    }
}
