//! The consumer's tiered lookup against the article's strategy, side by side
//! in one run, against the same cache double (1.8 ms added per Momento call,
//! the article's measured average) and the same moto server; then the
//! handler's CPU cost per user record when every lookup hits L1, for plain
//! records and for KPL aggregates side by side, and the deaggregation alone;
//! then how fast dead letters go out (the sender against the one it
//! replaced); then the size of the bootstrap zip, if it has been built.
//!
//! `cargo bench -p consumer --bench consumer` (needs Python for moto server;
//! the emulators library installs it when missing);
//! `cargo bench -p consumer --bench consumer -- dead-letters` runs only the
//! dead-letter rows.

use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_lambda_events::encodings::SecondTimestamp;
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use bench_report::{Distribution, Figure, Results};
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{CacheDouble, Injected};
use consumer::lookup::location_from_item;
use consumer::{Config, Consumer, KinesisInput, Output};
use emulators::{Aws, Emulators, Names};
use hdrhistogram::Histogram;
use model::{LocationRecord, ModelOne};
use momento::cache::GetResponse;
use momento::CacheClient;

const SECRET: &str = "bench-secret";
const MOMENTO_LATENCY: Duration = Duration::from_micros(1800);
const LOCATIONS: [&str; 3] = ["Car", "House", "Diner"];
const BATCH: usize = 10;
const COLD_BATCHES: usize = 100;
const WARM_BATCHES: usize = 300;

struct Setup {
    aws: Aws,
    double: CacheDouble,
    sdk: SdkConfig,
    names: Names,
    config: Config,
    momento: CacheClient,
}

/// One measured row.
struct Row {
    strategy: &'static str,
    state: &'static str,
    batch_us: Histogram<u64>,
    round_trips: f64,
    stages: f64,
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let setup = runtime.block_on(start())?;
    if std::env::args().any(|a| a == "dead-letters") {
        runtime.block_on(dead_letter_rate(&setup))?;
        return Ok(());
    }
    println!(
        "consumer benchmark: batches of {BATCH} records over {} locations, Momento latency {:?} added by the double, DynamoDB = moto server",
        LOCATIONS.len(),
        MOMENTO_LATENCY
    );
    let added = runtime.block_on(added_latency(&setup))?;
    println!(
        "the double's added latency, measured: {:+.3} ms at p50 (one sequential Get: p50 {:.3} ms with it, {:.3} ms without; p99 {:.3} / {:.3} ms; target 1.800 ± 0.150)\n",
        added.with_p50 - added.without_p50,
        added.with_p50,
        added.without_p50,
        added.with_p99,
        added.without_p99
    );
    let rows = runtime.block_on(side_by_side(&setup))?;
    print_rows(&rows);
    let dead_letters = runtime.block_on(dead_letter_rate(&setup))?;
    drop(runtime);

    let mut saved = Results::new("consumer", "cargo bench -p consumer --bench consumer");
    for row in &rows {
        saved.distributions.push(Distribution::from_micros(
            &format!("one batch of {BATCH} records: {}", row.state),
            row.strategy,
            &row.batch_us,
        ));
        saved.figures.push(Figure::new(
            &format!("{}, {}", row.strategy, row.state),
            "round trips per record",
            row.round_trips / BATCH as f64,
            "",
        ));
    }
    saved.figures.push(Figure::new(
        "the double",
        "added latency per Momento call (p50, measured)",
        added.with_p50 - added.without_p50,
        "ms",
    ));
    for (strategy, rate) in dead_letters {
        saved.figures.push(Figure::new(
            &format!("dead letters, {strategy}"),
            "letters per second (1,000 poison user records in one aggregate)",
            rate,
            "letters/s",
        ));
    }
    let cpu = cpu_throughput(&setup_config_only(&setup))?;
    saved.figures.push(Figure::new(
        "CPU, all L1 hits",
        "records per CPU-second",
        cpu.plain_per_second,
        "records/s",
    ));
    saved.figures.push(Figure::new(
        "CPU, all L1 hits, KPL aggregates",
        "user records per CPU-second",
        cpu.aggregated_per_second,
        "records/s",
    ));
    saved.figures.push(Figure::new(
        "KPL deaggregation alone",
        "CPU per user record",
        cpu.deaggregate_us,
        "µs",
    ));
    if let Some(bytes) = zip_size() {
        saved.figures.push(Figure::new(
            "bootstrap.zip",
            "size",
            bytes as f64 / 1e6,
            "MB",
        ));
    }
    println!("\nsaved {}", saved.save()?.display());
    Ok(())
}

async fn start() -> anyhow::Result<Setup> {
    let emulators = Emulators::start(SECRET).await?;
    let momento = emulators.momento();
    let Emulators {
        aws,
        double,
        sdk,
        names,
        provisioned,
        ..
    } = emulators;
    let mut config = Config::new(
        &names.table,
        &names.cache,
        &names.parameter,
        &provisioned.dead_letter_queue_url,
    );
    config.momento_endpoint = Some(double.endpoint());
    double.set_injected(Injected {
        latency: MOMENTO_LATENCY,
        ..Default::default()
    });
    Ok(Setup {
        aws,
        double,
        sdk,
        names,
        config,
        momento,
    })
}

/// A batch as the event-source mapping delivers it.
fn batch(records: usize) -> Vec<u8> {
    let mut event = KinesisEvent::default();
    for i in 0..records {
        let model = ModelOne::new(LOCATIONS[i % LOCATIONS.len()]);
        let mut record = KinesisEventRecord::default();
        record.event_id = Some(format!("shardId-000000000000:{i:056}"));
        record.event_source = Some("aws:kinesis".into());
        record.kinesis.partition_key = model.id.clone();
        record.kinesis.sequence_number = format!("{i:056}");
        record.kinesis.data.0 = model.to_json();
        record.kinesis.approximate_arrival_timestamp = SecondTimestamp(chrono::Utc::now());
        event.records.push(record);
    }
    serde_json::to_vec(&event).expect("event serializes")
}

fn parse(payload: &[u8]) -> KinesisInput {
    serde_json::from_slice(payload).expect("event parses")
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

/// Momento RPCs the double has answered so far.
fn momento_calls(setup: &Setup) -> u64 {
    let stats = setup.double.stats();
    stats.rpc("Get").calls + stats.rpc("Set").calls
}

/// One sequential Get with and without the injected latency, interleaved
/// in rounds so that both see the same machine: what the double really adds.
struct AddedLatency {
    with_p50: f64,
    without_p50: f64,
    with_p99: f64,
    without_p99: f64,
}

async fn added_latency(setup: &Setup) -> anyhow::Result<AddedLatency> {
    let (mut with, mut without) = (histogram(), histogram());
    for round in 0..10 {
        for (latency, into) in [(MOMENTO_LATENCY, &mut with), (Duration::ZERO, &mut without)] {
            setup.double.set_injected(Injected {
                latency,
                ..Default::default()
            });
            for _ in 0..if round == 0 { 150 } else { 100 } {
                let started = Instant::now();
                setup.momento.get(setup.names.cache.as_str(), "Car").await?;
                if round > 0 {
                    into.record(started.elapsed().as_micros() as u64)?;
                }
            }
        }
    }
    setup.double.set_injected(Injected {
        latency: MOMENTO_LATENCY,
        ..Default::default()
    });
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    Ok(AddedLatency {
        with_p50: ms(&with, 0.5),
        without_p50: ms(&without, 0.5),
        with_p99: ms(&with, 0.99),
        without_p99: ms(&without, 0.99),
    })
}

async fn side_by_side(setup: &Setup) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let article = Article::new(setup);

    // Cold: empty Momento, new container (empty L1) for every batch.
    let (mut ours, mut theirs) = (histogram(), histogram());
    let (mut ours_trips, mut ours_stages, mut theirs_trips) = (0u64, 0u64, 0u64);
    for _ in 0..COLD_BATCHES {
        setup.momento.flush_cache(&setup.names.cache).await?;
        let consumer = consumer(setup).await?;
        let payload = batch(BATCH);
        let before = momento_calls(setup);
        let started = Instant::now();
        let result = consumer.handle(parse(&payload)).await;
        ours.record(started.elapsed().as_micros() as u64)?;
        anyhow::ensure!(
            result.report.enriched == BATCH,
            "tiered: {:?}",
            result.report
        );
        ours_trips += momento_calls(setup) - before + result.report.lookups.dynamodb_calls;
        ours_stages += result.report.lookups.stages;

        setup.momento.flush_cache(&setup.names.cache).await?;
        let before = momento_calls(setup);
        let started = Instant::now();
        let dynamodb_calls = article.handle(&payload).await?;
        theirs.record(started.elapsed().as_micros() as u64)?;
        theirs_trips += momento_calls(setup) - before + dynamodb_calls;
    }
    let per_batch = |n: u64, batches: usize| n as f64 / batches as f64;
    rows.push(Row {
        strategy: "tiered (ours)",
        state: "cold",
        batch_us: ours,
        round_trips: per_batch(ours_trips, COLD_BATCHES),
        stages: per_batch(ours_stages, COLD_BATCHES),
    });
    rows.push(Row {
        strategy: "article",
        state: "cold",
        round_trips: per_batch(theirs_trips, COLD_BATCHES),
        // every call waits for the one before it
        stages: per_batch(theirs_trips, COLD_BATCHES),
        batch_us: theirs,
    });

    // Warm Momento, new container: what a freshly scaled-out Lambda sees.
    let mut fresh = histogram();
    let (mut trips, mut stages) = (0, 0);
    for _ in 0..COLD_BATCHES {
        let consumer = consumer(setup).await?;
        let payload = batch(BATCH);
        let before = momento_calls(setup);
        let started = Instant::now();
        let result = consumer.handle(parse(&payload)).await;
        fresh.record(started.elapsed().as_micros() as u64)?;
        trips += momento_calls(setup) - before + result.report.lookups.dynamodb_calls;
        stages += result.report.lookups.stages;
    }
    rows.push(Row {
        strategy: "tiered (ours)",
        state: "warm Momento, new container",
        batch_us: fresh,
        round_trips: per_batch(trips, COLD_BATCHES),
        stages: per_batch(stages, COLD_BATCHES),
    });

    // Warm: one long-lived container and a populated cache, interleaved.
    let consumer = consumer(setup).await?;
    consumer.handle(parse(&batch(BATCH))).await;
    let (mut ours, mut theirs) = (histogram(), histogram());
    let (mut ours_trips, mut ours_stages, mut theirs_trips) = (0, 0, 0);
    for _ in 0..WARM_BATCHES {
        let payload = batch(BATCH);
        let before = momento_calls(setup);
        let started = Instant::now();
        let result = consumer.handle(parse(&payload)).await;
        ours.record(started.elapsed().as_micros() as u64)?;
        ours_trips += momento_calls(setup) - before + result.report.lookups.dynamodb_calls;
        ours_stages += result.report.lookups.stages;

        let before = momento_calls(setup);
        let started = Instant::now();
        let dynamodb_calls = article.handle(&payload).await?;
        theirs.record(started.elapsed().as_micros() as u64)?;
        theirs_trips += momento_calls(setup) - before + dynamodb_calls;
    }
    rows.push(Row {
        strategy: "tiered (ours)",
        state: "warm",
        batch_us: ours,
        round_trips: per_batch(ours_trips, WARM_BATCHES),
        stages: per_batch(ours_stages, WARM_BATCHES),
    });
    rows.push(Row {
        strategy: "article",
        state: "warm",
        round_trips: per_batch(theirs_trips, WARM_BATCHES),
        stages: per_batch(theirs_trips, WARM_BATCHES),
        batch_us: theirs,
    });
    Ok(rows)
}

async fn consumer(setup: &Setup) -> anyhow::Result<Consumer> {
    let (output, _captured) = Output::capture();
    Ok(consumer::init(&setup.config, &setup.sdk, output).await?)
}

fn print_rows(rows: &[Row]) {
    println!(
        "{:<15} {:<28} {:>9} {:>9} {:>12} {:>11} {:>7}",
        "strategy", "state", "p50 ms", "p99 ms", "round trips", "per record", "stages"
    );
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    for row in rows {
        println!(
            "{:<15} {:<28} {:>9.3} {:>9.3} {:>12.2} {:>11.3} {:>7.2}",
            row.strategy,
            row.state,
            ms(&row.batch_us, 0.5),
            ms(&row.batch_us, 0.99),
            row.round_trips,
            row.round_trips / BATCH as f64,
            row.stages
        );
    }
    let find = |strategy: &str, state: &str| {
        rows.iter()
            .find(|r| r.strategy == strategy && r.state == state)
            .expect("row exists")
    };
    let (ours, theirs) = (find("tiered (ours)", "warm"), find("article", "warm"));
    let speedup = theirs.batch_us.value_at_quantile(0.5) as f64
        / ours.batch_us.value_at_quantile(0.5).max(1) as f64;
    let cold = find("tiered (ours)", "cold");
    println!();
    println!(
        "warm: {:.3} round trips per record (target ≤ 0.2); p50 {speedup:.0}× lower than the article's (target ≥ 10×)",
        ours.round_trips / BATCH as f64
    );
    println!(
        "cold: {:.2} sequential stages before records are emitted (target ≤ 2); write-back to Momento overlaps the output",
        cold.stages
    );
}

/// A faithful re-creation of the article's handler: for each record in turn,
/// a Momento get; on a miss a DynamoDB GetItem and a Momento set.
struct Article {
    momento: CacheClient,
    dynamodb: aws_sdk_dynamodb::Client,
    cache: String,
    table: String,
}

impl Article {
    fn new(setup: &Setup) -> Self {
        let mut settings = ClientSettings::new(
            Some(&setup.double.endpoint()),
            ApiKey::new(local_api_key(SECRET)),
        );
        settings.deadline = setup.config.momento_timeout;
        Self {
            momento: connect(&settings).expect("client builds"),
            dynamodb: aws_sdk_dynamodb::Client::new(&setup.sdk),
            cache: setup.names.cache.clone(),
            table: setup.names.table.clone(),
        }
    }

    /// Returns how many DynamoDB calls it made.
    async fn handle(&self, payload: &[u8]) -> anyhow::Result<u64> {
        let event = parse(payload);
        let mut dynamodb_calls = 0;
        let mut out = Vec::new();
        for record in event.records {
            let bytes = base64::engine::general_purpose::STANDARD.decode(&record.kinesis.data)?;
            let model = ModelOne::decode(&bytes)?;
            let location = match self
                .momento
                .get(self.cache.as_str(), model.read_location.as_str())
                .await?
            {
                GetResponse::Hit { value } => LocationRecord::from_cached(&Vec::<u8>::from(value))?,
                GetResponse::Miss => {
                    dynamodb_calls += 1;
                    let item = self
                        .dynamodb
                        .get_item()
                        .table_name(&self.table)
                        .key("location", AttributeValue::S(model.read_location.clone()))
                        .send()
                        .await?
                        .item
                        .unwrap_or_default();
                    let location = location_from_item(&item).map_err(anyhow::Error::msg)?;
                    self.momento
                        .set(
                            self.cache.as_str(),
                            model.read_location.as_str(),
                            location.to_cached(),
                        )
                        .await?;
                    location
                }
            };
            serde_json::to_writer(&mut out, &model.enrich(location))?;
            out.push(b'\n');
        }
        Ok(dynamodb_calls)
    }
}

/// Letters per second for 1,000 poison user records in one aggregate, to
/// moto's SQS: the handler as it is (SendMessageBatch, ten letters a call,
/// eight calls at once) against the sender it replaced (one SendMessage per
/// letter, in order, kept here as it was), rounds alternated old, new, new,
/// old. Both send through a proxy that purges the queue every 20 letters:
/// moto spends time in proportion to a queue's depth on every message, which
/// would otherwise measure moto, not the sender. Returns each mean rate.
async fn dead_letter_rate(setup: &Setup) -> anyhow::Result<Vec<(&'static str, f64)>> {
    const POISON: usize = 1_000;
    let sqs = aws_sdk_sqs::Client::new(&setup.sdk);
    let queue = setup.config.dead_letter_queue_url.clone();
    let proxy = emulators::proxy::start(
        setup.aws.endpoint(),
        std::sync::Arc::new(ShallowQueue {
            sqs: sqs.clone(),
            queue_url: queue.clone(),
            since_purge: std::sync::atomic::AtomicUsize::new(0),
        }),
    )
    .await;
    let through_proxy = emulators::sdk_config(&proxy, "us-east-1").await;
    let sqs = aws_sdk_sqs::Client::new(&through_proxy);
    let (output, _captured) = Output::capture();
    let consumer = consumer::init(&setup.config, &through_proxy, output).await?;
    println!("\ndead letters: {POISON} poison user records in one KPL aggregate, to moto's SQS");
    let mut rates: Vec<(&'static str, Vec<f64>)> = vec![("old", vec![]), ("new", vec![])];
    for (round, strategy) in ["old", "new", "new", "old"].into_iter().enumerate() {
        sqs.purge_queue().queue_url(&queue).send().await?;
        let event = poison_aggregate(POISON, round);
        let started = Instant::now();
        let sent = if strategy == "new" {
            let result = consumer.handle(event).await;
            anyhow::ensure!(result.response.batch_item_failures.is_empty(), "retried");
            result.report.dead_lettered
        } else {
            send_one_at_a_time(&sqs, &queue, &event).await?
        };
        let seconds = started.elapsed().as_secs_f64();
        anyhow::ensure!(sent == POISON, "{strategy}: {sent} letters");
        let rate = POISON as f64 / seconds;
        println!("  {strategy} {rate:>8.0} letters/s ({seconds:.2} s)");
        rates
            .iter_mut()
            .find(|(s, _)| *s == strategy)
            .expect("a known strategy")
            .1
            .push(rate);
    }
    let means: Vec<(&'static str, f64)> = rates
        .into_iter()
        .map(|(s, r)| (s, r.iter().sum::<f64>() / r.len() as f64))
        .collect();
    println!(
        "  mean: old {:.0}, new {:.0} letters/s ({:.1}x)",
        means[0].1,
        means[1].1,
        means[1].1 / means[0].1
    );
    Ok(means)
}

/// Forwards to moto; purges the queue once 20 messages went in since the last
/// purge.
struct ShallowQueue {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    since_purge: std::sync::atomic::AtomicUsize,
}

impl emulators::proxy::Intercept for ShallowQueue {
    async fn call(&self, call: emulators::proxy::Call) -> (u16, Vec<u8>) {
        use std::sync::atomic::Ordering;
        let messages = match call.operation() {
            "SendMessage" => 1,
            "SendMessageBatch" => serde_json::from_slice::<serde_json::Value>(call.body())
                .ok()
                .and_then(|b| b["Entries"].as_array().map(Vec::len))
                .unwrap_or(0),
            _ => 0,
        };
        let answer = call.forward(call.body().to_vec()).await;
        if messages > 0 && self.since_purge.fetch_add(messages, Ordering::SeqCst) + messages >= 20 {
            self.since_purge.store(0, Ordering::SeqCst);
            let _ = self
                .sqs
                .purge_queue()
                .queue_url(&self.queue_url)
                .send()
                .await;
        }
        answer
    }
}

/// One Kinesis record holding a KPL aggregate of `n` user records that are
/// not JSON; `round` makes its sequence number new.
fn poison_aggregate(n: usize, round: usize) -> KinesisInput {
    let mut aggregator = kpl_aggregation::Aggregator::new(kpl_aggregation::MAX_RECORD_BYTES)
        .expect("the largest aggregate");
    for i in 0..n {
        let full = aggregator
            .add(&format!("poison-{i:05}"), None, b"{not json")
            .expect("fits");
        assert!(full.is_none(), "{n} user records fit one aggregate");
    }
    let aggregate = aggregator.finish().expect("not empty");
    let mut record = KinesisEventRecord::default();
    record.event_id = Some(format!("shardId-000000000000:{round:056}"));
    record.event_source = Some("aws:kinesis".into());
    record.kinesis.partition_key = aggregate.partition_key;
    record.kinesis.sequence_number = format!("{round:056}");
    record.kinesis.data.0 = aggregate.data;
    record.kinesis.approximate_arrival_timestamp = SecondTimestamp(chrono::Utc::now());
    let mut event = KinesisEvent::default();
    event.records.push(record);
    parse(&serde_json::to_vec(&event).expect("event serializes"))
}

/// The sender before issue 29: each user record unpacked and decoded, then
/// its letter sent with one SendMessage, in order.
async fn send_one_at_a_time(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    event: &KinesisInput,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    for record in &event.records {
        let unpacked = record.unpack().map_err(|p| anyhow::anyhow!("{p:?}"))?;
        for user in &unpacked.users {
            let poison = user.decode().expect_err("poison");
            let letter =
                consumer::DeadLetter::new(record, user.packed(), poison.reason, poison.detail);
            sqs.send_message()
                .queue_url(queue)
                .message_body(letter.body())
                .send()
                .await?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// The setup's addresses, for a runtime of its own.
fn setup_config_only(setup: &Setup) -> (Config, SdkConfig) {
    (setup.config.clone(), setup.sdk.clone())
}

/// A batch of `records` user records packed into KPL aggregates of KPL's
/// default size, as a KPL producer writes them: how many Kinesis records.
fn aggregated_batch(records: usize) -> (Vec<u8>, usize) {
    let mut aggregates = Vec::new();
    let mut aggregator = kpl_aggregation::Aggregator::new(kpl_aggregation::KPL_DEFAULT_MAX_BYTES)
        .expect("KPL's default size");
    for i in 0..records {
        let model = ModelOne::new(LOCATIONS[i % LOCATIONS.len()]);
        aggregates.extend(
            aggregator
                .add(&model.id, None, &model.to_json())
                .expect("fits"),
        );
    }
    aggregates.extend(aggregator.finish());
    let mut event = KinesisEvent::default();
    for (i, aggregate) in aggregates.iter().enumerate() {
        let mut record = KinesisEventRecord::default();
        record.event_id = Some(format!("shardId-000000000000:{i:056}"));
        record.event_source = Some("aws:kinesis".into());
        record.kinesis.partition_key = aggregate.partition_key.clone();
        record.kinesis.sequence_number = format!("{i:056}");
        record.kinesis.data.0 = aggregate.data.clone();
        record.kinesis.approximate_arrival_timestamp = SecondTimestamp(chrono::Utc::now());
        event.records.push(record);
    }
    (
        serde_json::to_vec(&event).expect("event serializes"),
        aggregates.len(),
    )
}

/// CPU per user record through `handle`, plain records and the same number
/// of user records in KPL aggregates.
struct CpuFigures {
    plain_per_second: f64,
    aggregated_per_second: f64,
    /// `kpl_aggregation::deaggregate` alone, per user record.
    deaggregate_us: f64,
}

/// User records per CPU-second through `handle` (event JSON parse, base64,
/// deaggregation, decode, enrich, output line) when every lookup hits L1, on
/// one thread: plain and aggregated input alternated, twice each.
fn cpu_throughput((config, sdk): &(Config, SdkConfig)) -> anyhow::Result<CpuFigures> {
    const RECORDS: usize = 1_000;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (output, captured) = Output::capture();
        let consumer = consumer::init(config, sdk, output).await?;
        let plain = batch(RECORDS);
        let (aggregated, kinesis_records) = aggregated_batch(RECORDS);
        consumer.handle(parse(&plain)).await; // fills L1
        // CPU-seconds and user records, per input kind.
        let mut spent = [(Duration::ZERO, 0usize); 2];
        for round in 0..4 {
            let kind = round % 2;
            let payload = if kind == 0 { &plain } else { &aggregated };
            let started = Instant::now();
            while started.elapsed() < Duration::from_millis(1_500) {
                let before = cpu_time()?;
                let result = consumer.handle(parse(payload)).await;
                spent[kind].0 += cpu_time()? - before;
                anyhow::ensure!(
                    result.report.lookups.l1_hits == 3 && result.report.enriched == RECORDS,
                    "{:?}",
                    result.report
                );
                captured.clear();
                spent[kind].1 += RECORDS;
            }
        }
        let per_second = |(cpu, records): (Duration, usize)| records as f64 / cpu.as_secs_f64();
        let (plain_rate, aggregated_rate) = (per_second(spent[0]), per_second(spent[1]));

        let input = parse(&aggregated);
        let bytes: Vec<Vec<u8>> = input
            .records
            .iter()
            .map(|r| base64::engine::general_purpose::STANDARD.decode(&r.kinesis.data).expect("base64"))
            .collect();
        let (before, mut unpacked) = (cpu_time()?, 0usize);
        for _ in 0..200 {
            for data in &bytes {
                if let kpl_aggregation::Deaggregated::Aggregated(users) = kpl_aggregation::deaggregate(data) {
                    unpacked += users.len();
                }
            }
        }
        let deaggregate_us = (cpu_time()? - before).as_secs_f64() * 1e6 / unpacked as f64;

        println!(
            "\nCPU, all L1 hits, one thread, plain and aggregated input alternated (1,000 user records a batch; aggregated: {kinesis_records} Kinesis records of KPL's default 50 KiB):\n  plain      {plain_rate:.0} user records per CPU-second ({:.2} µs each) (target ≥ 200,000)\n  aggregated {aggregated_rate:.0} user records per CPU-second ({:.2} µs each): {:.2}x plain\n  deaggregation alone: {deaggregate_us:.3} µs per user record",
            1e6 / plain_rate,
            1e6 / aggregated_rate,
            aggregated_rate / plain_rate,
        );
        Ok(CpuFigures {
            plain_per_second: plain_rate,
            aggregated_per_second: aggregated_rate,
            deaggregate_us,
        })
    })
}

/// CPU time this thread has used, from the kernel's scheduler statistics.
///
/// # Errors
/// Where the kernel does not provide them (no figure beats a wrong one).
fn cpu_time() -> anyhow::Result<Duration> {
    let path = "/proc/thread-self/schedstat";
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {path} for the CPU-time figure: {e}"))?;
    let nanos: u64 = text
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("{path} does not start with a CPU time: {text:?}"))?;
    Ok(Duration::from_nanos(nanos))
}

/// The built zip's size in bytes, printed, if it has been built.
fn zip_size() -> Option<u64> {
    let zip = emulators::workspace_root().join("target/lambda/bootstrap/bootstrap.zip");
    match std::fs::metadata(&zip) {
        Ok(meta) => {
            println!(
                "\nbootstrap.zip: {:.2} MB ({} bytes; target ≤ 8 MB), built {}",
                meta.len() as f64 / 1e6,
                meta.len(),
                zip.display()
            );
            Some(meta.len())
        }
        Err(_) => {
            println!(
                "\nbootstrap.zip not built: run `just build` (cargo lambda build --release --arm64 --output-format zip) to measure its size"
            );
            None
        }
    }
}
