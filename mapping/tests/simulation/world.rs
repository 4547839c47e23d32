//! The simulated world: an in-memory Kinesis stream (shards that split and
//! merge, AWS-shaped 56-digit sequence numbers, iterators that expire,
//! throttled and failing reads and listings, positions answered as gone,
//! retention that trims records and expires closed shards), a function that
//! fails, partially fails, throttles and times out on chosen records, an
//! on-failure destination that may refuse, and the mapping process, which
//! the simulation disables, stops, and crashes between steps or between any
//! two actions of a step, then restarts from its saved state.

use std::collections::{BTreeMap, HashMap};

use mapping::engine::{Action, Engine, EngineConfig, Event, InvokeError, ReadFault, WindowInvoke};
use mapping::sequence;
use mapping::shards::Shard;
use mapping::state::{MappingState, Position};
use mapping::{MappingSettings, StreamRecord};
use serde_json::{json, Value};

use super::rng::Rng;

/// What the function does with a record the next times it sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Ok,
    /// Fails the whole invocation (an error) this many more times.
    Fail(u32),
    /// Times out (a function error) this many more times.
    Timeout(u32),
    /// Reported in `batchItemFailures` this many more times.
    Partial(u32),
    /// The invocation never reaches the function this many more times.
    Throttle(u32),
    /// Fails every invocation it is in, for ever.
    Poison,
    /// Dropped by the filter.
    Drop,
}

#[derive(Clone)]
pub struct SimRecord {
    pub record: StreamRecord,
    pub key: String,
    pub plan: Plan,
    /// Written in the order of this index (across shards).
    pub index: usize,
    /// Within the mapping's reach: written after its creation, or its start.
    pub expected: bool,
    pub filtered: bool,
    /// Seen by the function, each time.
    pub deliveries: u32,
    /// The function processed it (and its result may or may not have
    /// reached the mapping).
    pub processed: bool,
    /// It reached the destination.
    pub sent: bool,
    /// The destination refused its invocation record, and the mapping was
    /// told (AWS drops such records and counts them).
    pub refused: bool,
    /// The stream's retention removed it.
    pub trimmed: bool,
    /// The mapping saved it as done (at or behind a checkpoint, finished
    /// above one, or of a shard saved as closed): it must never be delivered
    /// again.
    pub saved_done: bool,
}

#[derive(Clone)]
pub struct SimShard {
    pub id: String,
    pub parent: Option<String>,
    pub adjacent: Option<String>,
    pub low: u64,
    pub high: u64,
    pub open: bool,
    /// When a reshard closed it.
    pub closed_at: Option<f64>,
    /// Indices into `World::records`, in sequence order.
    pub records: Vec<usize>,
    /// How many of `records` retention has removed (from the front).
    pub trimmed: usize,
    /// Closed, every record trimmed, gone from the listing: reads answer
    /// that the shard does not exist.
    pub expired: bool,
}

/// An action the mapping started and the world has not answered yet.
#[derive(Clone)]
pub struct InFlight {
    pub action: Action,
}

/// The exact set of records an invocation carried, and how it went.
#[derive(Default, Clone)]
pub struct SetHistory {
    /// Invocations of exactly this set that reached the function and failed
    /// without progress, in a row.
    pub failures: u32,
    /// MaximumRetryAttempts changed while this set was retried.
    pub retry_limit_changed: bool,
    /// Bisected: its halves are batches of their own, and no rest of it
    /// inherits its count.
    pub split: bool,
    pub throttles: u32,
    /// When its last invocation returned.
    pub last: f64,
    /// Not to be invoked again before this (the backoff).
    pub earliest: f64,
}

#[derive(Clone)]
pub struct World {
    pub rng: Rng,
    pub now: f64,
    pub settings: MappingSettings,
    pub config: EngineConfig,
    pub shards: Vec<SimShard>,
    pub records: Vec<SimRecord>,
    pub by_sequence: HashMap<String, usize>,
    next_shard: u32,
    next_sequence: u64,
    pub engine: Option<Engine>,
    pub in_flight: Vec<InFlight>,
    /// Per shard: the next index a held iterator reads, and whether it expired.
    pub iterators: BTreeMap<String, (usize, bool)>,
    /// The state as the last executed Save left it.
    pub saved: Option<MappingState>,
    pub stopping: bool,
    /// The mapping's `Enabled`, as the simulation last set it.
    pub enabled: bool,
    pub history: HashMap<Vec<String>, SetHistory>,
    /// Retries the specification says are due: the first record of the set
    /// → when, and what.
    pub due: HashMap<String, (f64, String)>,
    /// Kinds of the last event handled and the last action started.
    pub last_event: &'static str,
    pub last_action: &'static str,
    /// How often each fault, restart and crash point was hit.
    pub coverage: BTreeMap<String, u32>,
    pub keys: Vec<String>,
    pub outage: f64,
    /// Records older than this (seconds) are trimmed when retention runs.
    pub retention: f64,
    pub window_state: u64,
    /// When the mapping was first started (created).
    pub created: Option<f64>,
    /// What the function saw that breaks a rule.
    pub violations: Vec<String>,
    /// Invocation records that reached the destination, with their records
    /// and the parallelization factor of the mapping that sent them (redrive
    /// must be told it).
    pub pointers: Vec<(Value, Vec<StreamRecord>, u32)>,
    /// A restart with a new parallelization factor regrouped the lanes: a
    /// range given up after it may hold records the old lanes processed.
    pub lanes_regrouped: bool,
    /// New-iterator reads of a shard still to be answered "gone".
    pub gone: BTreeMap<String, u32>,
    /// Crash after this many actions of the current step (a crash point
    /// inside a step), if set.
    pub crash_after: Option<usize>,
    /// Actions carried out in the current step.
    pub actions_this_step: usize,
    /// The process crashed during the current step.
    pub crashed: bool,
    /// Records whose refusal the mapping was told of, and what the engines
    /// that have died counted of them.
    pub refused: u64,
    pub refusals_counted_before: u64,
    /// Print every event and action (SIM_SEED).
    pub trace: bool,
    /// Settings for the next start (a change the running lanes cannot take).
    pub next_settings: Option<MappingSettings>,
    /// Per shard: how many of its records the saved states have covered.
    pub covered_prefix: Vec<usize>,
    /// Records the last saves covered, to check before the step ends.
    pub newly_saved: Vec<usize>,
    /// Records the engine was told are done (processed, or recorded in the
    /// destination) and no save has covered yet.
    pub told_done: Vec<usize>,
}

pub fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::Shards(_) => "event Shards",
        Event::Page { records, .. } if records.is_empty() => "event Page (empty)",
        Event::Page { end: true, .. } => "event Page (end of shard)",
        Event::Page { .. } => "event Page",
        Event::ReadFailed { fault, .. } => match fault {
            ReadFault::Expired => "event ReadFailed (expired iterator)",
            ReadFault::Throttled => "event ReadFailed (throttled)",
            ReadFault::Gone(_) => "event ReadFailed (gone)",
            ReadFault::Other(_) => "event ReadFailed (other)",
        },
        Event::ListFailed { .. } => "event ListFailed",
        Event::Invoked { result: Ok(v), .. }
            if v["batchItemFailures"]
                .as_array()
                .is_some_and(|a| !a.is_empty()) =>
        {
            "event Invoked (partial failure)"
        }
        Event::Invoked { result: Ok(_), .. } => "event Invoked (success)",
        Event::Invoked {
            result: Err(InvokeError::Function(_)),
            ..
        } => "event Invoked (function error)",
        Event::Invoked {
            result: Err(InvokeError::Service(_)),
            ..
        } => "event Invoked (throttled)",
        Event::Sent { error: None, .. } => "event Sent",
        Event::Sent { error: Some(_), .. } => "event Sent (refused)",
        Event::Tick => "event Tick",
        Event::SetEnabled(_) => "event SetEnabled",
        Event::SettingsChanged(_) => "event SettingsChanged",
        Event::Stop => "event Stop",
    }
}

pub fn action_kind(action: &Action) -> &'static str {
    match action {
        Action::ListShards => "action ListShards",
        Action::Read { from: Some(_), .. } => "action Read (new iterator)",
        Action::Read { .. } => "action Read",
        Action::Invoke {
            window: Some(w), ..
        } if w.final_invoke => "action Invoke (final window)",
        Action::Invoke { .. } => "action Invoke",
        Action::Send { .. } => "action Send",
        Action::Save(_) => "action Save",
        Action::Done => "action Done",
    }
}

impl World {
    pub fn new(rng: Rng, settings: MappingSettings, config: EngineConfig, shards: usize) -> Self {
        let mut world = Self {
            rng,
            now: 1_800_000_000.0,
            settings,
            config,
            shards: Vec::new(),
            records: Vec::new(),
            by_sequence: HashMap::new(),
            next_shard: 0,
            next_sequence: 0,
            engine: None,
            in_flight: Vec::new(),
            iterators: BTreeMap::new(),
            saved: None,
            stopping: false,
            enabled: true,
            history: HashMap::new(),
            due: HashMap::new(),
            last_event: "start",
            last_action: "start",
            coverage: BTreeMap::new(),
            keys: (0..12).map(|k| format!("key-{k}")).collect(),
            outage: 0.0,
            retention: 600.0,
            window_state: 0,
            created: None,
            violations: Vec::new(),
            pointers: Vec::new(),
            lanes_regrouped: false,
            gone: BTreeMap::new(),
            crash_after: None,
            actions_this_step: 0,
            crashed: false,
            refused: 0,
            refusals_counted_before: 0,
            trace: false,
            next_settings: None,
            covered_prefix: Vec::new(),
            newly_saved: Vec::new(),
            told_done: Vec::new(),
        };
        let width = u64::MAX / shards as u64;
        for i in 0..shards {
            let low = width * i as u64;
            let high = if i + 1 == shards {
                u64::MAX
            } else {
                low + width - 1
            };
            world.add_shard(None, None, low, high);
        }
        world
    }

    pub fn hit(&mut self, what: impl Into<String>) {
        *self.coverage.entry(what.into()).or_default() += 1;
    }

    fn add_shard(&mut self, parent: Option<String>, adjacent: Option<String>, low: u64, high: u64) {
        let id = format!("shardId-{:012}", self.next_shard);
        self.next_shard += 1;
        self.covered_prefix.push(0);
        self.shards.push(SimShard {
            id,
            parent,
            adjacent,
            low,
            high,
            open: true,
            closed_at: None,
            records: Vec::new(),
            trimmed: 0,
            expired: false,
        });
    }

    /// What ListShards answers: every shard that has not expired.
    pub fn shard_list(&self) -> Vec<Shard> {
        self.shards
            .iter()
            .filter(|s| !s.expired)
            .map(|s| Shard::new(&s.id, s.parent.as_deref(), s.adjacent.as_deref()))
            .collect()
    }

    fn shard_index(&self, id: &str) -> usize {
        self.shards
            .iter()
            .position(|s| s.id == id)
            .expect("known shard")
    }

    // --- the stream ---

    /// Writes one record with the given plan, to the open shard its key hashes to.
    pub fn put(&mut self, plan: Plan) {
        let key = self.keys[self.rng.below(self.keys.len() as u64) as usize].clone();
        let hash = hash(&key);
        let shard = self
            .shards
            .iter()
            .position(|s| s.open && s.low <= hash && hash <= s.high)
            .expect("open shards cover the hash space");
        self.next_sequence += 1 + self.rng.below(1000);
        let sequence_number = format!("4959033827149025660855969253{:028}", self.next_sequence);
        let index = self.records.len();
        let kind = match plan {
            Plan::Drop => "drop",
            _ => "keep",
        };
        let record = StreamRecord {
            shard_id: self.shards[shard].id.clone(),
            sequence_number: sequence_number.clone(),
            partition_key: key.clone(),
            data: serde_json::to_vec(&json!({"kind": kind, "n": index})).unwrap(),
            arrival: self.now,
        };
        let filtered = !self.settings.filter.keeps(&record);
        let expected = match self.settings.starting_position {
            mapping::StartingPosition::TrimHorizon => true,
            // Written before the mapping exists: out of a LATEST mapping's reach.
            mapping::StartingPosition::Latest => self.created.is_some_and(|c| self.now >= c),
            mapping::StartingPosition::AtTimestamp(t) => self.now >= t,
        };
        self.by_sequence.insert(sequence_number, index);
        self.records.push(SimRecord {
            record,
            key,
            plan,
            index,
            expected,
            filtered,
            deliveries: 0,
            processed: false,
            sent: false,
            refused: false,
            trimmed: false,
            saved_done: false,
        });
        self.shards[shard].records.push(index);
    }

    /// Splits a random open shard, or merges two adjacent open ones.
    pub fn reshard(&mut self) {
        let open: Vec<usize> = (0..self.shards.len())
            .filter(|&i| self.shards[i].open)
            .collect();
        if open.len() > 1 && self.rng.chance(0.4) {
            let mut sorted = open.clone();
            sorted.sort_by_key(|&i| self.shards[i].low);
            let at = self.rng.below(sorted.len() as u64 - 1) as usize;
            let (a, b) = (sorted[at], sorted[at + 1]);
            for closed in [a, b] {
                self.shards[closed].open = false;
                self.shards[closed].closed_at = Some(self.now);
            }
            let (low, high) = (self.shards[a].low, self.shards[b].high);
            let (pa, pb) = (self.shards[a].id.clone(), self.shards[b].id.clone());
            self.add_shard(Some(pa), Some(pb), low, high);
        } else if open.len() < 6 {
            let s = open[self.rng.below(open.len() as u64) as usize];
            let (low, high) = (self.shards[s].low, self.shards[s].high);
            if high - low < 4 {
                return;
            }
            self.shards[s].open = false;
            self.shards[s].closed_at = Some(self.now);
            let middle = low + (high - low) / 2;
            let parent = self.shards[s].id.clone();
            self.add_shard(Some(parent.clone()), None, low, middle);
            self.add_shard(Some(parent), None, middle + 1, high);
        }
    }

    pub fn expire_iterator(&mut self) {
        let held: Vec<String> = self.iterators.keys().cloned().collect();
        if !held.is_empty() {
            let shard = &held[self.rng.below(held.len() as u64) as usize];
            self.iterators.get_mut(shard).expect("held").1 = true;
        }
    }

    /// Retention: every record that arrived more than `retention` ago is
    /// removed; a shard closed more than `retention` ago, left with none,
    /// expires (unlisted, gone), as Kinesis deletes closed shards.
    pub fn trim(&mut self) -> usize {
        let horizon = self.now - self.retention;
        let mut removed = 0;
        for s in 0..self.shards.len() {
            while let Some(&i) = self.shards[s].records.get(self.shards[s].trimmed) {
                if self.records[i].record.arrival >= horizon {
                    break;
                }
                self.records[i].trimmed = true;
                self.shards[s].trimmed += 1;
                removed += 1;
            }
            let shard = &mut self.shards[s];
            let old = shard.closed_at.is_some_and(|at| at < horizon);
            if old && shard.trimmed == shard.records.len() && !shard.expired {
                shard.expired = true;
                self.iterators.remove(&shard.id.clone());
                *self
                    .coverage
                    .entry("fault: a closed shard expired".into())
                    .or_default() += 1;
            }
        }
        removed
    }

    /// The next `times` new-iterator reads of a random shard answer that
    /// the position is not there.
    pub fn make_gone(&mut self, times: u32) {
        let listed: Vec<String> = self
            .shards
            .iter()
            .filter(|s| !s.expired)
            .map(|s| s.id.clone())
            .collect();
        let shard = listed[self.rng.below(listed.len() as u64) as usize].clone();
        *self.gone.entry(shard).or_default() += times;
    }

    // --- the mapping process ---

    /// UpdateEventSourceMapping with `settings`: what the running lanes can
    /// take goes to the engine now; a new parallelization factor waits for a
    /// restart from the saved state, as the harness does it.
    pub fn change_settings(&mut self, mut settings: MappingSettings) -> Result<(), String> {
        // Kept enabled for the next start (which the simulation enables);
        // the update carries the mapping's Enabled as it stands.
        settings.enabled = true;
        if settings.maximum_retry_attempts != self.settings.maximum_retry_attempts {
            for history in self.history.values_mut() {
                history.retry_limit_changed = true;
            }
        }
        if Engine::restart_needed(&self.settings, &settings) {
            if settings.parallelization_factor != self.settings.parallelization_factor {
                self.lanes_regrouped = true;
            }
            self.next_settings = Some(settings);
            self.stopping = true;
            return self.handle(Event::Stop);
        }
        self.settings = settings.clone();
        self.config.settings = settings.clone();
        settings.enabled = self.enabled;
        self.handle(Event::SettingsChanged(settings))
    }

    /// Starts the mapping from its saved state (a new mapping without one).
    pub fn start(&mut self) -> Result<(), String> {
        if let Some(settings) = self.next_settings.take() {
            self.settings = settings.clone();
            self.config.settings = settings;
        }
        self.created.get_or_insert(self.now);
        let state = self.saved.clone().unwrap_or_else(|| {
            MappingState::new("sim-stream", self.settings.starting_position, self.now)
        });
        let (engine, actions) = Engine::new(self.config.clone(), state, self.now)
            .map_err(|e| format!("the engine refused its settings: {e}"))?;
        self.engine = Some(engine);
        self.stopping = false;
        self.enabled = true;
        // The retry counts and backoffs live in the process (AWS documents
        // nothing to say they survive a restart): a new process starts them
        // anew.
        self.history.clear();
        self.due.clear();
        self.told_done.clear();
        self.take(actions)
    }

    /// The process dies now: what is in flight may or may not have happened.
    pub fn crash(&mut self) {
        let key = format!("restart after {} / {}", self.last_event, self.last_action);
        self.hit(key);
        self.hit(format!("restart after {}", self.last_event));
        self.hit(format!("restart after {}", self.last_action));
        for in_flight in std::mem::take(&mut self.in_flight) {
            match in_flight.action {
                Action::Invoke {
                    records, window, ..
                } if self.rng.chance(0.5) => {
                    // The function ran; its answer never reached the mapping.
                    let _ = self.function(&records, window.as_ref());
                }
                Action::Send {
                    record, records, ..
                } if self.rng.chance(0.5) => {
                    for r in &records {
                        let i = self.by_sequence[&r.sequence_number];
                        self.records[i].sent = true;
                    }
                    let lanes = self.settings.parallelization_factor;
                    self.pointers.push((record, records, lanes));
                }
                _ => {}
            }
        }
        if let Some(engine) = self.engine.take() {
            self.refusals_counted_before += engine.summary().destination_delivery_failures;
        }
        self.iterators.clear();
        self.crashed = true;
    }

    /// Hands the engine an event and carries out what it asks.
    pub fn handle(&mut self, event: Event) -> Result<(), String> {
        self.last_event = event_kind(&event);
        if matches!(event, Event::Stop) {
            // Nothing new starts after a Stop: no retry is due any more.
            self.due.clear();
        }
        if self.trace {
            println!("        event {}", describe_event(&event));
        }
        let engine = self.engine.as_mut().expect("running");
        let actions = engine.handle(self.now, event);
        self.take(actions)?;
        self.check_after_handle()
    }

    fn take(&mut self, actions: Vec<Action>) -> Result<(), String> {
        for action in actions {
            if self.engine.is_none() {
                break;
            }
            self.last_action = action_kind(&action);
            if self.trace {
                println!("        action {}", describe_action(&action));
            }
            match action {
                Action::Save(state) => {
                    self.mark_saved(&state);
                    self.saved = Some(state);
                }
                Action::Done => {
                    if !self.stopping {
                        return Err("the mapping said Done while following".into());
                    }
                    // The process ends: an answer still on its way (a
                    // listing) reaches no one.
                    self.in_flight.clear();
                    if let Some(engine) = self.engine.take() {
                        self.refusals_counted_before +=
                            engine.summary().destination_delivery_failures;
                    }
                }
                Action::Invoke { ref records, .. } => {
                    self.check_invoke(records)?;
                    self.in_flight.push(InFlight { action });
                }
                Action::Send {
                    ref record,
                    ref records,
                    ..
                } => {
                    self.check_give_up(record, records)?;
                    self.in_flight.push(InFlight { action });
                }
                Action::Read { .. } if !self.enabled => {
                    return Err("a read started while the mapping is disabled".into());
                }
                action => self.in_flight.push(InFlight { action }),
            }
            self.actions_this_step += 1;
            if self.crash_after == Some(self.actions_this_step) && self.engine.is_some() {
                // A crash point inside the step: the rest of the step's
                // actions (a Save among them, perhaps) never happen.
                self.crash_after = None;
                self.hit(format!(
                    "crash point: inside a step, after {}",
                    self.last_action
                ));
                self.crash();
            }
        }
        Ok(())
    }

    /// Answers the in-flight action at `index`.
    pub fn complete(&mut self, index: usize) -> Result<(), String> {
        let InFlight { action } = self.in_flight.swap_remove(index);
        let event = match action {
            Action::ListShards => {
                if self.rng.chance(0.05) {
                    self.hit("fault: ListShards failed");
                    Event::ListFailed {
                        error: "InternalFailure (the simulation)".into(),
                    }
                } else {
                    Event::Shards(self.shard_list())
                }
            }
            Action::Read { shard, from, limit } => self.read(&shard, from, limit),
            Action::Invoke {
                id,
                records,
                window,
                ..
            } => {
                let result = self.function(&records, window.as_ref());
                if matches!(result, Err(InvokeError::Service(_))) {
                    self.hit("fault: invocation throttled");
                }
                self.returned(&records, &result)?;
                Event::Invoked { id, result }
            }
            Action::Send {
                id,
                record,
                records,
                ..
            } => {
                let refused = self.rng.chance(0.1);
                for r in &records {
                    let i = self.by_sequence[&r.sequence_number];
                    self.told_done.push(i);
                    if refused {
                        self.records[i].refused = true;
                    } else {
                        self.records[i].sent = true;
                    }
                }
                if refused {
                    self.hit("fault: the destination refused");
                    self.refused += records.len() as u64;
                    Event::Sent {
                        id,
                        error: Some("AccessDenied (the simulation)".into()),
                    }
                } else {
                    let lanes = self.settings.parallelization_factor;
                    self.pointers.push((record, records, lanes));
                    Event::Sent { id, error: None }
                }
            }
            Action::Save(_) | Action::Done => unreachable!("carried out at once"),
        };
        self.handle(event)
    }

    fn read(&mut self, shard: &str, from: Option<Position>, limit: usize) -> Event {
        let s = self.shard_index(shard);
        let failed = |fault| Event::ReadFailed {
            shard: shard.to_owned(),
            fault,
        };
        if self.shards[s].expired {
            self.iterators.remove(shard);
            self.hit("fault: read of an expired shard");
            return failed(ReadFault::Gone(
                "ResourceNotFoundException: the shard expired".into(),
            ));
        }
        if from.is_some() {
            if let Some(left) = self.gone.get_mut(shard).filter(|n| **n > 0) {
                *left -= 1;
                self.hit("fault: a position answered as gone");
                return failed(ReadFault::Gone(
                    "InvalidArgumentException (the simulation)".into(),
                ));
            }
        }
        if self.rng.chance(0.02) {
            self.iterators.remove(shard);
            self.hit("fault: a read failed");
            return failed(ReadFault::Other("InternalFailure (the simulation)".into()));
        }
        let records: Vec<usize> = self.shards[s].records.clone();
        let trimmed = self.shards[s].trimmed;
        let seq = |i: usize| self.records[i].record.sequence_number.clone();
        // A position older than retention reads from the oldest record kept.
        let start = match from {
            Some(Position::TrimHorizon) => 0,
            Some(Position::Latest) => records.len(),
            Some(Position::AtTimestamp(t)) => records
                .iter()
                .position(|&i| self.records[i].record.arrival >= t)
                .unwrap_or(records.len()),
            Some(Position::AfterSequenceNumber(after)) => records
                .iter()
                .position(|&i| sequence::compare(&seq(i), &after).is_gt())
                .unwrap_or(records.len()),
            Some(Position::AtSequenceNumber(at)) => records
                .iter()
                .position(|&i| sequence::compare(&seq(i), &at).is_ge())
                .unwrap_or(records.len()),
            None => match self.iterators.remove(shard) {
                Some((next, false)) => next,
                _ => {
                    self.hit("fault: an iterator expired");
                    return failed(ReadFault::Expired);
                }
            },
        }
        .max(trimmed);
        if self.rng.chance(0.03) {
            // Throttled: the iterator stays good.
            self.iterators.insert(shard.to_owned(), (start, false));
            self.hit("fault: a read throttled");
            return failed(ReadFault::Throttled);
        }
        let end = (start + limit.min(1 + self.rng.below(limit as u64) as usize)).min(records.len());
        let page: Vec<StreamRecord> = records[start..end]
            .iter()
            .map(|&i| self.records[i].record.clone())
            .collect();
        // The mapping filters what it reads with the filter of the moment.
        for &i in &records[start..end] {
            self.records[i].filtered = !self.settings.filter.keeps(&self.records[i].record);
        }
        let closed = !self.shards[s].open && end == records.len();
        if !closed {
            self.iterators.insert(shard.to_owned(), (end, false));
        }
        Event::Page {
            shard: shard.to_owned(),
            records: page,
            end: closed,
            behind: end < records.len(),
        }
    }

    /// The function: runs the records' plans.
    fn function(
        &mut self,
        records: &[StreamRecord],
        window: Option<&WindowInvoke>,
    ) -> Result<Value, InvokeError> {
        let indices: Vec<usize> = records
            .iter()
            .map(|r| self.by_sequence[&r.sequence_number])
            .collect();
        let throttled: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| matches!(self.records[i].plan, Plan::Throttle(n) if n > 0))
            .collect();
        if !throttled.is_empty() {
            for i in throttled {
                if let Plan::Throttle(n) = &mut self.records[i].plan {
                    *n -= 1;
                }
            }
            return Err(InvokeError::Service("Rate Exceeded.".into()));
        }
        let state = window.map(|w| {
            self.window_state += 1;
            json!({ "n": w.window.state.get("n").and_then(Value::as_u64).unwrap_or(0) + records.len() as u64 })
        });
        if window.is_some_and(|w| w.final_invoke) {
            return if self.rng.chance(self.outage) {
                Err(InvokeError::Function("outage".into()))
            } else {
                Ok(json!({ "state": state }))
            };
        }
        let mut failed = false;
        let mut reported = Vec::new();
        for (position, &i) in indices.iter().enumerate() {
            self.delivered(i, &indices[..position]);
            let record = &mut self.records[i];
            record.deliveries += 1;
            match &mut record.plan {
                Plan::Fail(n) | Plan::Timeout(n) if *n > 0 => {
                    *n -= 1;
                    failed = true;
                }
                Plan::Poison => failed = true,
                Plan::Partial(n) if *n > 0 => {
                    *n -= 1;
                    reported.push(record.record.sequence_number.clone());
                }
                _ => {}
            }
        }
        if failed || self.rng.chance(self.outage) {
            return Err(InvokeError::Function("the function failed".into()));
        }
        if !reported.is_empty() && !self.settings.report_batch_item_failures {
            return Err(InvokeError::Function(
                "the function failed (no partial responses)".into(),
            ));
        }
        let first_reported = indices
            .iter()
            .position(|&i| reported.contains(&self.records[i].record.sequence_number))
            .unwrap_or(indices.len());
        for (position, &i) in indices[..first_reported].iter().enumerate() {
            self.processed(i, &indices[..position]);
            self.records[i].processed = true;
        }
        let failures: Vec<Value> = reported
            .iter()
            .map(|s| json!({ "itemIdentifier": s }))
            .collect();
        let mut response = json!({ "batchItemFailures": failures });
        if let Some(state) = state {
            response["state"] = state;
        }
        Ok(response)
    }

    pub fn running(&self) -> bool {
        self.engine.is_some()
    }

    pub fn next_wake(&self) -> Option<f64> {
        self.engine.as_ref()?.next_wake()
    }
}

fn first_last(records: &[StreamRecord]) -> String {
    let short = |s: &str| s[s.len().saturating_sub(6)..].to_owned();
    match (records.first(), records.last()) {
        (Some(a), Some(b)) => format!(
            "{} records ..{}–..{}",
            records.len(),
            short(&a.sequence_number),
            short(&b.sequence_number)
        ),
        _ => "no records".into(),
    }
}

fn describe_event(event: &Event) -> String {
    match event {
        Event::Page { shard, records, .. } => format!("Page {shard}: {}", first_last(records)),
        Event::Invoked { id, result } => format!("Invoked #{id}: {result:?}"),
        Event::Sent { id, error } => format!("Sent #{id}: {error:?}"),
        other => event_kind(other).trim_start_matches("event ").to_owned(),
    }
}

fn describe_action(action: &Action) -> String {
    match action {
        Action::Read { shard, from, .. } => format!("Read {shard} from {from:?}"),
        Action::Invoke {
            id, shard, records, ..
        } => format!("Invoke #{id} {shard}: {}", first_last(records)),
        Action::Send {
            id, shard, records, ..
        } => format!("Send #{id} {shard}: {}", first_last(records)),
        other => action_kind(other).trim_start_matches("action ").to_owned(),
    }
}

/// A key's place in the hash space (FNV-1a; any stable spread will do).
fn hash(key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
