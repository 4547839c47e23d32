//! A deterministic simulation of the event-source mapping's engine: seeded
//! runs against an in-memory stream that splits and merges, with records
//! arriving while the mapping is down, iterators that expire, throttles,
//! a function that fails, partially fails, throttles and times out on
//! chosen records, and crashes and graceful stops at random steps, each
//! followed by a restart from the saved state. The invariants
//! (`checks.rs`) are checked after every step.
//!
//! ```sh
//! cargo test -p mapping --test simulation                      # 1,000 seeds (CI)
//! SIM_SEEDS=100000 cargo test -p mapping --release --test simulation -- --nocapture
//! SIM_SEED=1234 cargo test -p mapping --test simulation -- --nocapture   # one seed, its steps printed
//! ```

mod checks;
mod redrive;
mod rng;
mod world;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mapping::engine::{Backoff, EngineConfig, Event};
use mapping::{EventSource, FilterCriteria, MappingSettings, StartingPosition};
use rng::Rng;
use world::{Plan, World};

/// Steps of faults, writes and restarts before the quiet end.
const STEPS: usize = 300;
/// Steps the quiet end may take to account for every record.
const SETTLE_STEPS: usize = 20_000;

fn settings(rng: &mut Rng) -> MappingSettings {
    let lanes = *rng.pick(&[1, 1, 2, 3]);
    let tumbling = lanes == 1 && rng.chance(0.2);
    let filter = if rng.chance(0.3) {
        FilterCriteria::parse(&[r#"{"data": {"kind": [{"anything-but": ["drop"]}]}}"#.to_owned()])
            .expect("a valid pattern")
    } else {
        FilterCriteria::default()
    };
    MappingSettings {
        batch_size: *rng.pick(&[1, 2, 3, 10]),
        batching_window: Duration::from_millis(*rng.pick(&[0, 0, 500])),
        starting_position: *rng.pick(&[
            StartingPosition::TrimHorizon,
            StartingPosition::Latest,
            StartingPosition::AtTimestamp(1_800_000_003.0),
        ]),
        report_batch_item_failures: rng.chance(0.8),
        bisect_on_error: rng.chance(0.6),
        maximum_retry_attempts: *rng.pick(&[None, Some(0), Some(1), Some(3)]),
        maximum_record_age: *rng.pick(&[
            None,
            Some(Duration::from_secs(60)),
            Some(Duration::from_secs(120)),
        ]),
        parallelization_factor: lanes,
        on_failure: Some("arn:aws:sqs:us-east-1:123456789012:on-failure".into()),
        filter,
        tumbling_window: tumbling.then(|| Duration::from_secs(30)),
        enabled: true,
    }
}

fn plan(rng: &mut Rng, settings: &MappingSettings) -> Plan {
    // A record that never succeeds needs a way out: a retry or age limit.
    let bounded =
        settings.maximum_retry_attempts.is_some() || settings.maximum_record_age.is_some();
    let roll = rng.below(100);
    match roll {
        0..=59 => Plan::Ok,
        60..=67 => Plan::Fail(1 + rng.below(3) as u32),
        68..=71 => Plan::Timeout(1),
        72..=81 => Plan::Partial(1 + rng.below(4) as u32),
        82..=87 => Plan::Throttle(1 + rng.below(3) as u32),
        88..=91 if bounded => Plan::Poison,
        _ if !settings.filter.is_empty() => Plan::Drop,
        _ => Plan::Ok,
    }
}

/// One seeded run; `Err` names the broken invariant and the step.
fn run(seed: u64, verbose: bool) -> Result<BTreeMap<String, u32>, String> {
    let mut rng = Rng::new(seed);
    let settings = settings(&mut rng);
    let config = EngineConfig {
        settings: settings.clone(),
        follow: true,
        poll_interval: rng.chance(0.3).then_some(1.0),
        backoff: Backoff::AWS_LIKE,
        source: EventSource {
            stream_arn: "arn:aws:kinesis:us-east-1:123456789012:stream/sim".into(),
            region: "us-east-1".into(),
            role_arn: "arn:aws:iam::123456789012:role/f-role".into(),
        },
        function_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
    };
    let shards = 1 + rng.below(3) as usize;
    let mut world = World::new(rng.fork(), settings.clone(), config, shards);
    world.outage = *rng.pick(&[0.0, 0.0, 0.05, 0.2]);
    if verbose {
        println!(
            "seed {seed}: {settings:?}, {shards} shards, outage {}",
            world.outage
        );
    }
    // Records before the mapping exists: out of reach of LATEST.
    for _ in 0..rng.below(5) {
        let plan = plan(&mut rng, &settings);
        world.put(plan);
        world.now += 1.0;
    }
    world.start()?;
    let mut down_until: Option<usize> = None;
    for step in 0..STEPS + SETTLE_STEPS {
        let quiet = step >= STEPS;
        if quiet && world.running() && world.unaccounted().is_empty() && world.in_flight.is_empty()
        {
            world
                .redrive_given_up()
                .map_err(|e| format!("redrive: {e}"))?;
            return Ok(world.coverage);
        }
        let described = step_once(
            &mut world,
            &mut rng,
            &settings,
            quiet,
            step,
            &mut down_until,
        )
        .map_err(|e| format!("step {step}: {e}"))?;
        if verbose {
            println!("{step:5} t={:.3} {described}", world.now - 1_800_000_000.0);
        }
        world
            .check_state()
            .map_err(|e| format!("step {step} ({described}): {e}"))?;
    }
    let left = world.unaccounted();
    let first = &world.records[left[0]];
    let shard = &first.record.shard_id;
    Err(format!(
        "after {SETTLE_STEPS} quiet steps, {} records were never processed nor given up; the first: {} on {shard} ({:?}, delivered {} times); the shard's saved progress: {:?}, closed: {}",
        left.len(),
        first.record.sequence_number,
        first.plan,
        first.deliveries,
        world.saved.as_ref().and_then(|s| s.shards.get(shard)),
        world.saved.as_ref().is_some_and(|s| s.closed.contains(shard)),
    ))
}

/// One step: the world, the function or the clock moves, or the mapping
/// crashes, stops or restarts.
fn step_once(
    world: &mut World,
    rng: &mut Rng,
    settings: &MappingSettings,
    quiet: bool,
    step: usize,
    down_until: &mut Option<usize>,
) -> Result<String, String> {
    if let Some(until) = *down_until {
        if step < until && !quiet {
            if rng.chance(0.5) {
                let plan = plan(rng, settings);
                world.put(plan);
            }
            world.now += rng.below(2000) as f64 / 1000.0;
            return Ok("down: a record written while the mapping is stopped".into());
        }
        *down_until = None;
        world.start()?;
        return Ok("restart from the saved state".into());
    }
    if !world.running() {
        // Stopped gracefully: Done came; start again.
        world.start()?;
        return Ok("restart after a graceful stop".into());
    }
    let roll = rng.below(100);
    if !quiet {
        match roll {
            0..=11 => {
                let plan = plan(rng, settings);
                world.put(plan);
                return Ok(format!("put {plan:?}"));
            }
            12 if rng.chance(0.3) => {
                world.reshard();
                return Ok("reshard".into());
            }
            13 => {
                world.expire_iterator();
                return Ok("an iterator expires".into());
            }
            14..=16 => {
                world.crash();
                *down_until = Some(step + rng.below(6) as usize);
                return Ok("crash".into());
            }
            17 if !world.stopping => {
                world.stopping = true;
                world.handle(Event::Stop)?;
                return Ok("Stop (Ctrl-C)".into());
            }
            _ => {}
        }
    }
    if !world.in_flight.is_empty() && (roll < 75 || quiet && rng.chance(0.8)) {
        let index = rng.below(world.in_flight.len() as u64) as usize;
        let kind = world::action_kind(&world.in_flight[index].action);
        world.now += rng.below(30) as f64 / 1000.0;
        world.complete(index)?;
        return Ok(format!("answer {kind}"));
    }
    match world.next_wake() {
        Some(wake) if wake > world.now && (quiet || wake - world.now < 5.0 || rng.chance(0.2)) => {
            world.now = wake;
        }
        Some(_) => {}
        None => world.now += 0.05,
    }
    world.handle(Event::Tick)?;
    Ok("tick".into())
}

#[test]
fn seeded_runs_lose_nothing_repeat_only_what_was_in_flight_and_retry_as_aws_does() {
    if let Ok(seed) = std::env::var("SIM_SEED") {
        let seed: u64 = seed.parse().expect("SIM_SEED is a number");
        if let Err(failure) = run(seed, true) {
            panic!("seed {seed}: {failure}");
        }
        return;
    }
    let seeds: u64 = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let first: u64 = std::env::var("SIM_FIRST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let started = Instant::now();
    let mut coverage: BTreeMap<String, u32> = BTreeMap::new();
    for seed in first..first + seeds {
        match run(seed, false) {
            Ok(seen) => {
                for (kind, n) in seen {
                    *coverage.entry(kind).or_default() += n;
                }
            }
            Err(failure) => panic!(
                "seed {seed} failed: {failure}\nrerun it, with its steps: SIM_SEED={seed} cargo test -p mapping --test simulation -- --nocapture"
            ),
        }
    }
    println!(
        "{seeds} seeds in {:.1} s; restarts after each kind of event and action:",
        started.elapsed().as_secs_f64()
    );
    for (kind, n) in coverage.iter().filter(|(k, _)| !k.contains(" / ")) {
        println!("  {n:7}  {kind}");
    }
    if seeds >= 1_000 {
        let kinds = [
            "event Shards",
            "event Page",
            "event Page (empty)",
            "event Page (end of shard)",
            "event IteratorExpired",
            "event ReadThrottled",
            "event Invoked (success)",
            "event Invoked (partial failure)",
            "event Invoked (function error)",
            "event Invoked (throttled)",
            "event Sent",
            "event Tick",
            "event Stop",
            "action ListShards",
            "action Read",
            "action Read (new iterator)",
            "action Invoke",
            "action Invoke (final window)",
            "action Send",
            "action Save",
        ];
        for kind in kinds {
            assert!(
                coverage
                    .get(&format!("restart after {kind}"))
                    .is_some_and(|n| *n > 0),
                "no seed restarted after {kind}"
            );
        }
    }
}
