//! The event-source mapping's decisions, without I/O: events in (the shard
//! list, a page of records, an expired iterator, an invocation's result, a
//! destination's answer, a timer, Stop), actions out (list the shards, read
//! a shard from a position, invoke a batch, send an invocation record, save
//! the state, done). Everything the mapping decides is decided here and
//! nowhere else: where a shard starts and resumes, which shards may be read
//! (children after all their parents), filters, batch cutting (batch size,
//! the 6 MB payload, lanes by partition key, tumbling windows, the batching
//! window), ReportBatchItemFailures, bisection, retry counting and backoff,
//! record age, checkpoints, what goes to the destination. The shell
//! ([`crate::shell`]) carries the actions out against Kinesis, the function
//! and the destinations; the simulation (`tests/simulation`) runs the same
//! engine against an in-memory stream with faults and restarts.
//!
//! One owner calls [`Engine::handle`] with each event and the current time
//! and carries out what it returns; [`Engine::next_wake`] says when to call
//! it with [`Event::Tick`] if nothing else happens first.

pub mod redrive;
mod retry;
mod shard;
mod stats;

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

pub use retry::{first_failure, first_failure_in, Backoff, Next, RetryRules, Returned};
use shard::{Current, Mark, Phase, Queued, ShardRun, Status, Work, WorkKind};
pub use stats::{EventCountMetrics, Summary};

use crate::destination::{invocation_record, Condition, Destination};
use crate::records::{EventSource, StreamRecord};
use crate::settings::{MappingSettings, SettingsError};
use crate::shards::{self, Shard};
use crate::state::{MappingState, Position};
use crate::window::{self, OpenWindow, Window};

/// Seconds since the epoch.
pub type Time = f64;

/// Idle polling starts here when a shard runs dry and doubles, up to
/// `FLOWING_IDLE` while records came in the last `FLOWING`, then up to `MAX_IDLE`.
const MIN_IDLE: f64 = 0.002;
const FLOWING_IDLE: f64 = 0.008;
const FLOWING: f64 = 2.0;
const MAX_IDLE: f64 = 0.2;
/// How often the shard list is read again (new shards after a reshard).
const SHARD_REFRESH: f64 = 0.5;
/// A throttled GetRecords is tried again after this.
const READ_THROTTLE_PAUSE: f64 = 0.1;
/// Without `follow`, a shard whose reads fail this many times in a row (a
/// position Kinesis answers as gone, any other error) is reported unreadable
/// and the drain ends without it; likewise ListShards.
pub const UNREADABLE_AFTER: u32 = 5;
/// Lambda's limit on a synchronous invocation's payload.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Room kept for the event's envelope (and a window's fields besides its state).
const ENVELOPE_BYTES: usize = 4 * 1024;

/// Why an invocation did not return a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and failed: an error, a crash, a timeout, a
    /// response that does not parse. Counts against MaximumRetryAttempts.
    #[error("{0}")]
    Function(String),
    /// The batch never reached the function: throttled, unreachable.
    /// Retried until the records are too old, never counted as a retry.
    #[error("{0}")]
    Service(String),
}

/// Why a read gave no page, as the shell saw it; what each means is decided
/// here ([`Engine::handle`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFault {
    /// The iterator expired before it was used: a new one where it was.
    Expired,
    /// Throttled; the iterator is still good.
    Throttled,
    /// Kinesis answers that the position or the shard is not there
    /// (ResourceNotFoundException, InvalidArgumentException): an expired
    /// shard when it is no longer listed, else a position to try again
    /// with backoff.
    Gone(String),
    /// Any other error (an internal error, the network): tried again with
    /// backoff.
    Other(String),
}

/// What the engine is told.
#[derive(Debug, Clone)]
pub enum Event {
    /// The stream's shards, each with its parents.
    Shards(Vec<Shard>),
    /// A page of `shard`'s records. `end`: the shard is closed and this was
    /// its last page (GetRecords gave no next iterator). `behind`: more
    /// records wait (`MillisBehindLatest` above 0).
    Page {
        shard: String,
        records: Vec<StreamRecord>,
        end: bool,
        behind: bool,
    },
    /// A read (GetShardIterator or GetRecords) gave no page.
    ReadFailed { shard: String, fault: ReadFault },
    /// ListShards failed: tried again with backoff.
    ListFailed { error: String },
    /// What an [`Action::Invoke`] returned.
    Invoked {
        id: u64,
        result: Result<Value, InvokeError>,
    },
    /// What an [`Action::Send`] did: `error` if the destination refused it.
    Sent { id: u64, error: Option<String> },
    /// The time [`Engine::next_wake`] named has come.
    Tick,
    /// `Enabled`: a disabled mapping keeps its place and reads nothing.
    SetEnabled(bool),
    /// UpdateEventSourceMapping: the new settings apply from the next batch
    /// formed and the next decision made (batch size, batching window,
    /// filter for records read from now on, bisection, retries, record age,
    /// destination, ReportBatchItemFailures). What shapes the running lanes
    /// (ParallelizationFactor, TumblingWindowInSeconds) and where a mapping
    /// starts are not changed here: the shell restarts the mapping from its
    /// saved state with those ([`Engine::restart_needed`]).
    SettingsChanged(MappingSettings),
    /// Finish what is in flight, start nothing new, then [`Action::Done`].
    Stop,
}

/// A tumbling window's fields for an invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowInvoke {
    pub window: OpenWindow,
    pub final_invoke: bool,
    pub terminated_early: bool,
}

/// What the engine asks for.
#[derive(Debug, Clone)]
pub enum Action {
    /// ListShards; answer with [`Event::Shards`].
    ListShards,
    /// GetRecords on `shard`, up to `limit` records: from a new iterator at
    /// `from`, or (`None`) with the iterator the last read of this shard
    /// returned. Answer with [`Event::Page`] or [`Event::ReadFailed`].
    Read {
        shard: String,
        from: Option<Position>,
        limit: usize,
    },
    /// Invoke the function with these records (and window fields); answer
    /// with [`Event::Invoked`].
    Invoke {
        id: u64,
        shard: String,
        records: Vec<StreamRecord>,
        window: Option<WindowInvoke>,
    },
    /// Record given-up records in the on-failure destination: `record` is
    /// AWS's invocation record, `records` what it points at (an S3 object
    /// carries their event). Answer with [`Event::Sent`].
    Send {
        id: u64,
        shard: String,
        destination: Destination,
        record: Value,
        records: Vec<StreamRecord>,
    },
    /// Persist this state before anything else happens.
    Save(MappingState),
    /// Nothing is in flight and nothing more will be done: drained (without
    /// `follow`) or stopped.
    Done,
}

/// What the engine needs to know besides its state.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub settings: MappingSettings,
    /// Keep reading after the stream is drained.
    pub follow: bool,
    /// `None`: poll a shard again as soon as records come (2–8 ms while
    /// they flow, backing off to 200 ms when quiet). `Some(seconds)`: a
    /// caught-up shard is polled that long after its last poll, as AWS's
    /// mapping polls about once a second; a shard that is behind is read on
    /// at once.
    pub poll_interval: Option<f64>,
    pub backoff: Backoff,
    /// The stream, region and role the events name.
    pub source: EventSource,
    /// The function's ARN, for invocation records.
    pub function_arn: String,
}

/// The mapping's state machine. See the module documentation.
#[derive(Clone)]
pub struct Engine {
    config: EngineConfig,
    destination: Option<Destination>,
    state: MappingState,
    dirty: bool,
    enabled: bool,
    stopping: bool,
    done: bool,
    listed: Vec<Shard>,
    listed_once: bool,
    listing: bool,
    next_list: Time,
    /// ListShards failures in a row, and the last one's error.
    list_failures: u32,
    list_error: Option<String>,
    shards: BTreeMap<String, ShardRun>,
    next_id: u64,
    /// Invocations and sends in flight: their shard and lane.
    calls: HashMap<u64, (String, usize)>,
    stats: Summary,
    /// Arrival → processed of records processed since the last take, in µs.
    latencies: Vec<u64>,
}

impl Engine {
    /// A mapping resuming from `state` (a new one's state is
    /// [`MappingState::new`]). The first actions save the state (a new
    /// mapping exists from then on) and list the shards.
    ///
    /// # Errors
    /// [`SettingsError`] if the settings are out of range.
    pub fn new(
        config: EngineConfig,
        state: MappingState,
        now: Time,
    ) -> Result<(Self, Vec<Action>), SettingsError> {
        config.settings.validate()?;
        let destination = config
            .settings
            .on_failure
            .as_deref()
            .map(Destination::parse)
            .transpose()?;
        let mut engine = Self {
            enabled: config.settings.enabled,
            config,
            destination,
            state,
            dirty: true,
            stopping: false,
            done: false,
            listed: Vec::new(),
            listed_once: false,
            listing: false,
            next_list: now,
            list_failures: 0,
            list_error: None,
            shards: BTreeMap::new(),
            next_id: 0,
            calls: HashMap::new(),
            stats: Summary::default(),
            latencies: Vec::new(),
        };
        let actions = engine.poll(now);
        Ok((engine, actions))
    }

    /// Takes in what happened at `now` and returns what to do next, in order.
    pub fn handle(&mut self, now: Time, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Shards(shards) => {
                self.listed = shards;
                self.listed_once = true;
                self.listing = false;
                self.next_list = now + SHARD_REFRESH;
                self.list_failures = 0;
                self.list_error = None;
            }
            Event::Page {
                shard,
                records,
                end,
                behind,
            } => self.on_page(&shard, records, end, behind, now),
            Event::ReadFailed { shard, fault } => self.on_read_failed(&shard, fault, now),
            Event::ListFailed { error } => {
                self.listing = false;
                self.list_failures += 1;
                self.next_list = now + self.config.backoff.delay(self.list_failures);
                tracing::warn!(%error, failures = self.list_failures, "ListShards failed: trying again");
                self.list_error = Some(error);
            }
            Event::Invoked { id, result } => self.on_invoked(id, result, now, &mut out),
            Event::Sent { id, error } => self.on_sent(id, error),
            Event::Tick => {}
            Event::SetEnabled(enabled) => self.enabled = enabled,
            Event::SettingsChanged(settings) => self.change_settings(settings),
            Event::Stop => self.stopping = true,
        }
        out.extend(self.poll(now));
        out
    }

    /// What a failed read means. An expired iterator is opened again where
    /// it was, at once; a throttle waits a moment with the same iterator; a
    /// shard no longer listed that answers "gone" has expired (its unread
    /// records were trimmed): it ends, its lanes finish what was read. Any
    /// other failure (a gone position of a listed shard included) is tried
    /// again from a new iterator with backoff; without `follow`, a shard
    /// that fails [`UNREADABLE_AFTER`] times in a row is reported and left
    /// (its position stays saved), so a drain ends.
    fn on_read_failed(&mut self, shard: &str, fault: ReadFault, now: Time) {
        let listed = !self.listed_once || self.listed.iter().any(|s| s.id == shard);
        let follow = self.config.follow;
        let backoff = self.config.backoff;
        let Some(run) = self.shards.get_mut(shard) else {
            return;
        };
        run.reading = false;
        let error = match fault {
            ReadFault::Throttled => {
                run.next_read = now + READ_THROTTLE_PAUSE;
                return;
            }
            ReadFault::Expired => {
                run.reopen = Some(reopen_at(run, &self.state));
                run.next_read = now;
                return;
            }
            ReadFault::Gone(error) if !listed => {
                tracing::warn!(shard, %error, "the shard expired before it was read to its end: its unread records were trimmed");
                run.ended = true;
                return;
            }
            ReadFault::Gone(error) | ReadFault::Other(error) => error,
        };
        run.read_failures += 1;
        run.reopen = Some(reopen_at(run, &self.state));
        run.next_read = now + backoff.delay(run.read_failures);
        tracing::warn!(shard, %error, failures = run.read_failures, "reading the shard failed: trying again");
        if !follow && run.read_failures >= UNREADABLE_AFTER {
            tracing::error!(shard, %error, "the shard cannot be read: the drain ends without it (its position is kept)");
            run.unreadable = true;
            self.stats.unreadable.insert(shard.to_owned(), error);
        }
    }

    /// Whether going from the running settings to `new` takes a restart
    /// from the saved state (lanes or windows change) rather than
    /// [`Event::SettingsChanged`].
    pub fn restart_needed(current: &MappingSettings, new: &MappingSettings) -> bool {
        current.parallelization_factor != new.parallelization_factor
            || current.tumbling_window != new.tumbling_window
    }

    /// The settings in use.
    pub fn settings(&self) -> &MappingSettings {
        &self.config.settings
    }

    fn change_settings(&mut self, mut settings: MappingSettings) {
        if let Err(error) = settings.validate() {
            tracing::error!(%error, "settings refused: the mapping keeps its settings");
            return;
        }
        if Self::restart_needed(&self.config.settings, &settings) {
            tracing::warn!("the parallelization factor and tumbling window change only with a restart: kept as they were");
            settings.parallelization_factor = self.config.settings.parallelization_factor;
            settings.tumbling_window = self.config.settings.tumbling_window;
        }
        // Where a shard without a checkpoint starts was resolved at creation.
        settings.starting_position = self.config.settings.starting_position;
        self.destination = match settings.on_failure.as_deref().map(Destination::parse) {
            Some(Ok(destination)) => Some(destination),
            Some(Err(_)) | None => None,
        };
        self.enabled = settings.enabled;
        self.config.settings = settings;
    }

    /// When to send [`Event::Tick`] if no other event comes first.
    pub fn next_wake(&self) -> Option<Time> {
        if self.done || self.stopping {
            return None;
        }
        let mut wake: Option<Time> = None;
        let mut at = |t: Time| wake = Some(wake.map_or(t, |w| w.min(t)));
        if !self.listing {
            at(self.next_list);
        }
        let window = self.config.settings.batching_window.as_secs_f64();
        for run in self.shards.values().filter(|r| !r.closed) {
            if self.may_read_later(run) {
                at(run.next_read);
            }
            for lane in &run.lanes {
                match &lane.current {
                    Some(Current {
                        phase: Phase::Waiting(t),
                        ..
                    }) => at(*t),
                    None if lane.work.is_empty() => {
                        if let Some(since) = lane.since.filter(|_| !lane.queue.is_empty()) {
                            at(since + window);
                        }
                    }
                    _ => {}
                }
            }
            if let Some(open) = &run.window {
                if self.config.follow && run.drained && run.lanes_idle() {
                    at(open.window.end);
                }
            }
        }
        wake
    }

    /// Counts so far (latency percentiles and wall time are the shell's).
    pub fn summary(&self) -> &Summary {
        &self.stats
    }

    /// Arrival → processed of each record processed since the last call, in µs.
    pub fn take_latencies(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.latencies)
    }

    /// The state as it stands (what the last [`Action::Save`] carried, or newer).
    pub fn state(&self) -> &MappingState {
        &self.state
    }

    fn limit(&self) -> usize {
        let s = &self.config.settings;
        (s.batch_size * s.parallelization_factor as usize * 10).clamp(100, 10_000)
    }

    fn budget(&self) -> usize {
        let mut budget = MAX_PAYLOAD_BYTES - ENVELOPE_BYTES;
        if self.config.settings.tumbling_window.is_some() {
            budget -= window::MAX_STATE_BYTES;
        }
        budget
    }

    fn id(&mut self, shard: &str, lane: usize) -> u64 {
        self.next_id += 1;
        self.calls.insert(self.next_id, (shard.to_owned(), lane));
        self.next_id
    }

    /// Everything that can happen now.
    fn poll(&mut self, now: Time) -> Vec<Action> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if !self.stopping {
            if !self.listing && now >= self.next_list {
                self.listing = true;
                out.push(Action::ListShards);
            }
            if self.listed_once {
                self.start_ready_shards(now);
            }
        }
        let ids: Vec<String> = self.shards.keys().cloned().collect();
        for id in ids {
            let mut run = self.shards.remove(&id).expect("listed above");
            self.poll_shard(&mut run, now, &mut out);
            self.shards.insert(id, run);
        }
        if self.dirty {
            out.push(Action::Save(self.state.clone()));
            self.dirty = false;
        }
        if self.finished() {
            self.done = true;
            out.push(Action::Done);
        }
        out
    }

    /// Starts the shards whose parents are all read to their end; a started
    /// child's parents need no position any more.
    fn start_ready_shards(&mut self, now: Time) {
        let started: HashSet<String> = self.shards.keys().cloned().collect();
        let finished: HashSet<String> = self.state.closed.iter().cloned().collect();
        let ready: Vec<Shard> = shards::ready(&self.listed, &started, &finished)
            .into_iter()
            .cloned()
            .collect();
        let lanes = self.config.settings.parallelization_factor as usize;
        for shard in ready {
            for parent in shard.parents() {
                if self.state.shards.remove(parent).is_some() {
                    self.dirty = true;
                }
            }
            let start = self.state.resume(&shard.id);
            self.shards.insert(
                shard.id.clone(),
                ShardRun::new(&shard.id, lanes, start, MIN_IDLE, now),
            );
        }
    }

    fn may_read_later(&self, run: &ShardRun) -> bool {
        let s = &self.config.settings;
        !run.reading
            && !run.ended
            && !run.unreadable
            && self.enabled
            && !self.stopping
            && run.queued() < s.batch_size * s.parallelization_factor as usize
            && run.pending.len() < 2 * self.limit()
    }

    fn poll_shard(&mut self, run: &mut ShardRun, now: Time, out: &mut Vec<Action>) {
        if run.closed {
            return;
        }
        if self.may_read_later(run) && now >= run.next_read {
            run.reading = true;
            run.read_issued = now;
            out.push(Action::Read {
                shard: run.id.clone(),
                from: run.reopen.take(),
                limit: self.limit(),
            });
        }
        for lane in 0..run.lanes.len() {
            self.poll_lane(run, lane, now, out);
        }
        // A tumbling window ends at the shard's end, at the end of a drain,
        // or (following) once its time has passed and the shard is idle.
        if let Some(open) = &run.window {
            let all_read = run.ended && !run.reading;
            let over = run.drained && (!self.config.follow || now >= open.window.end);
            if !self.stopping && run.lanes_idle() && (all_read || over) {
                run.lanes[0].work.push_back(Work::close_window(false));
                self.poll_lane(run, 0, now, out);
            }
        }
        if run.ended
            && !run.reading
            && run.pending.is_empty()
            && run.window.is_none()
            && run.lanes_idle()
        {
            run.closed = true;
            self.state.closed.insert(run.id.clone());
            self.dirty = true;
        }
    }

    fn poll_lane(&mut self, run: &mut ShardRun, lane: usize, now: Time, out: &mut Vec<Action>) {
        loop {
            if run.lanes[lane].current.is_none() {
                if self.stopping {
                    return;
                }
                let next = match run.lanes[lane].work.pop_front() {
                    Some(work) => Some(work),
                    None => self.cut(run, lane, now),
                };
                let Some(work) = next else { return };
                run.lanes[lane].current = Some(Current {
                    work,
                    phase: Phase::Ready,
                });
            }
            let current = run.lanes[lane].current.as_mut().expect("set above");
            match current.phase {
                Phase::Waiting(until) if now >= until => current.phase = Phase::Ready,
                Phase::Ready if !self.stopping => {
                    self.start(run, lane, now, out);
                    if run.lanes[lane].current.is_some() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// The next batch of a lane, if one is due: full (batch size or
    /// payload), its batching window passed, or the shard read to its end.
    /// Under tumbling windows a batch holds one window's records, and a
    /// record of a new window first closes the open one.
    fn cut(&mut self, run: &mut ShardRun, lane_index: usize, now: Time) -> Option<Work> {
        let settings = &self.config.settings;
        let budget = self.budget();
        let lane = &mut run.lanes[lane_index];
        let first = lane.queue.front()?;
        let mut window_of_batch = None;
        if let Some(length) = settings.tumbling_window {
            let current = Window::of(first.record.arrival, length);
            match &run.window {
                Some(open) if open.window != current => return Some(Work::close_window(false)),
                Some(_) => {}
                None => run.window = Some(OpenWindow::new(current)),
            }
            window_of_batch = Some((current, length));
        }
        let full = lane.queue.len() >= settings.batch_size || lane.queued_bytes >= budget;
        let waited = lane
            .since
            .is_none_or(|since| now >= since + settings.batching_window.as_secs_f64());
        let all_read = run.ended && !run.reading;
        if !(full || waited || all_read) {
            return None;
        }
        let mut batch: Vec<Queued> = Vec::new();
        let mut bytes = 0;
        while let Some(next) = lane.queue.front() {
            let over = !batch.is_empty() && bytes + next.bytes > budget;
            let other_window = window_of_batch
                .is_some_and(|(w, length)| Window::of(next.record.arrival, length) != w);
            if batch.len() == settings.batch_size || over || other_window {
                break;
            }
            bytes += next.bytes;
            let next = lane.queue.pop_front().expect("peeked");
            lane.queued_bytes -= next.bytes;
            batch.push(next);
        }
        if lane.queue.is_empty() {
            lane.since = None;
        }
        self.stats.batches += 1;
        Some(Work::batch(batch))
    }

    /// Starts a lane's ready work: records too old go to the destination
    /// first, the rest (or a window's final invocation) is invoked.
    fn start(&mut self, run: &mut ShardRun, lane: usize, now: Time, out: &mut Vec<Action>) {
        let Current { work, .. } = run.lanes[lane].current.take().expect("ready work");
        let Work {
            kind,
            attempts,
            throttles,
        } = work;
        match kind {
            WorkKind::CloseWindow { terminated_early } => {
                let Some(open) = run.window.clone() else {
                    return;
                };
                let id = self.id(&run.id, lane);
                self.stats.invocations += 1;
                out.push(Action::Invoke {
                    id,
                    shard: run.id.clone(),
                    records: Vec::new(),
                    window: Some(WindowInvoke {
                        window: open,
                        final_invoke: true,
                        terminated_early,
                    }),
                });
                run.lanes[lane].current = Some(Current {
                    work: Work {
                        kind: WorkKind::CloseWindow { terminated_early },
                        attempts,
                        throttles,
                    },
                    phase: Phase::Invoking(id),
                });
            }
            WorkKind::Batch(records) => {
                let (old, fresh): (Vec<Queued>, Vec<Queued>) =
                    match self.config.settings.maximum_record_age {
                        Some(max) => records
                            .into_iter()
                            .partition(|q| q.record.age(now) > max.as_secs_f64()),
                        None => (Vec::new(), records),
                    };
                if !old.is_empty() {
                    let then = (!fresh.is_empty()).then_some(Work {
                        kind: WorkKind::Batch(fresh),
                        attempts,
                        throttles,
                    });
                    let invoked = attempts.max(1);
                    self.give_up(
                        run,
                        lane,
                        old,
                        Condition::RecordAgeExceeded,
                        invoked,
                        None,
                        then,
                        now,
                        out,
                    );
                    return;
                }
                if fresh.is_empty() {
                    return;
                }
                let id = self.id(&run.id, lane);
                self.stats.invocations += 1;
                self.stats.metrics.invoked_event_count += fresh.len() as u64;
                let window = run.window.clone().map(|window| WindowInvoke {
                    window,
                    final_invoke: false,
                    terminated_early: false,
                });
                out.push(Action::Invoke {
                    id,
                    shard: run.id.clone(),
                    records: fresh.iter().map(|q| q.record.clone()).collect(),
                    window,
                });
                run.lanes[lane].current = Some(Current {
                    work: Work {
                        kind: WorkKind::Batch(fresh),
                        attempts,
                        throttles,
                    },
                    phase: Phase::Invoking(id),
                });
            }
        }
    }

    /// Records given up on go to the destination (or are dropped without
    /// one, as AWS drops them); `then` is the lane's work after that.
    #[allow(clippy::too_many_arguments)]
    fn give_up(
        &mut self,
        run: &mut ShardRun,
        lane: usize,
        records: Vec<Queued>,
        condition: Condition,
        invocations: u32,
        function_error: Option<&str>,
        then: Option<Work>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let count = records.len() as u64;
        let Some(destination) = self.destination.clone() else {
            tracing::warn!(
                records = count,
                condition = condition.as_str(),
                shard = %run.id,
                "records discarded (no on-failure destination)"
            );
            self.stats.discarded += count;
            self.stats.metrics.dropped_event_count += count;
            self.finish(run, &records, now, false);
            run.lanes[lane].current = then.map(|work| Current {
                work,
                phase: Phase::Ready,
            });
            return;
        };
        let plain: Vec<StreamRecord> = records.iter().map(|q| q.record.clone()).collect();
        let record = invocation_record(
            now,
            &self.config.function_arn,
            &self.config.source.stream_arn,
            condition,
            invocations,
            function_error,
            &plain,
        );
        let id = self.id(&run.id, lane);
        out.push(Action::Send {
            id,
            shard: run.id.clone(),
            destination,
            record,
            records: plain,
        });
        run.lanes[lane].current = Some(Current {
            work: Work::batch(records),
            phase: Phase::Sending {
                id,
                then: then.map(Box::new),
            },
        });
    }

    fn on_page(
        &mut self,
        shard: &str,
        records: Vec<StreamRecord>,
        end: bool,
        behind: bool,
        now: Time,
    ) {
        let limit = self.limit();
        let Some(mut run) = self.shards.remove(shard) else {
            return;
        };
        run.reading = false;
        run.read_failures = 0;
        let count = records.len();
        self.stats.records += count as u64;
        self.stats.metrics.polled_event_count += count as u64;
        let lanes = run.lanes.len();
        let settings = &self.config.settings;
        let skip = self.state.shards.get(shard).map(|p| &p.finished_above);
        for record in records {
            run.last_read = Some(record.sequence_number.clone());
            let ordinal = run.next_ordinal;
            run.next_ordinal += 1;
            let status = if skip.is_some_and(|s| s.contains(&record.sequence_number)) {
                Status::Finished
            } else if settings.filter.keeps(&record) {
                Status::Open
            } else {
                self.stats.metrics.filtered_out_event_count += 1;
                Status::Filtered
            };
            run.pending.insert(
                ordinal,
                Mark {
                    sequence_number: record.sequence_number.clone(),
                    status,
                },
            );
            if status == Status::Open {
                let lane = lane_of(&record.partition_key, lanes);
                let bytes = self.config.source.record_bytes(&record);
                run.lanes[lane].push(
                    Queued {
                        record,
                        ordinal,
                        bytes,
                    },
                    now,
                );
            }
        }
        run.ended |= end;
        run.drained = count == 0 && !behind;
        let caught_up = count < limit && !behind;
        if count > 0 {
            run.idle = MIN_IDLE;
            run.last_records = now;
        }
        run.next_read = match self.config.poll_interval {
            Some(interval) if caught_up => run.read_issued + interval,
            Some(_) => now,
            None if run.drained => {
                let wait = run.idle;
                let cap = if now - run.last_records < FLOWING {
                    FLOWING_IDLE
                } else {
                    MAX_IDLE
                };
                run.idle = (run.idle * 2.0).min(cap);
                now + wait
            }
            None => now,
        };
        self.settle(&mut run);
        self.shards.insert(shard.to_owned(), run);
    }

    fn on_invoked(
        &mut self,
        id: u64,
        result: Result<Value, InvokeError>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let Some((shard, lane)) = self.calls.remove(&id) else {
            return;
        };
        let Some(mut run) = self.shards.remove(&shard) else {
            return;
        };
        let current = run.lanes[lane]
            .current
            .take()
            .expect("an invocation in flight");
        debug_assert!(matches!(current.phase, Phase::Invoking(i) if i == id));
        match current.work.kind {
            WorkKind::CloseWindow { .. } => {
                self.window_closed(&mut run, lane, current.work, result, now)
            }
            WorkKind::Batch(_) => {
                self.batch_returned(&mut run, lane, current.work, result, now, out)
            }
        }
        self.shards.insert(shard, run);
    }

    fn window_closed(
        &mut self,
        run: &mut ShardRun,
        lane: usize,
        mut work: Work,
        result: Result<Value, InvokeError>,
        now: Time,
    ) {
        let returned = match &result {
            Ok(_) => Returned::Responded { failed_from: None },
            Err(InvokeError::Service(_)) => {
                self.stats.service_errors += 1;
                Returned::Throttled
            }
            Err(InvokeError::Function(_)) => Returned::FunctionError,
        };
        let rules = RetryRules {
            bisect_on_error: false,
            ..self.rules()
        };
        match rules.next(returned, 0, &mut work.attempts, &mut work.throttles) {
            Next::Done => {
                run.window = None;
                self.stats.windows_closed += 1;
            }
            Next::GiveUp { .. } => {
                tracing::warn!(shard = %run.id, error = ?result.err(), "final window invocation failed; the window's state is dropped");
                run.window = None;
            }
            Next::Again { wait } => {
                if returned == Returned::FunctionError {
                    self.stats.retries += 1;
                }
                run.lanes[lane].current = Some(Current {
                    work,
                    phase: Phase::Waiting(now + wait),
                });
            }
            Next::Split | Next::Rest { .. } => unreachable!("a final invocation has no records"),
        }
    }

    /// A batch's invocation returned: what succeeded is finished, what
    /// failed is split, retried after a backoff, or given up on.
    fn batch_returned(
        &mut self,
        run: &mut ShardRun,
        lane: usize,
        work: Work,
        result: Result<Value, InvokeError>,
        now: Time,
        out: &mut Vec<Action>,
    ) {
        let Work {
            kind: WorkKind::Batch(mut records),
            mut attempts,
            throttles,
        } = work
        else {
            unreachable!("a batch");
        };
        let count = records.len() as u64;
        let outcome: Result<Value, String> = match result {
            Err(InvokeError::Service(error)) => {
                // Never reached the function: no retry used, no bisection.
                tracing::debug!(%error, records = count, "invocation did not reach the function");
                self.stats.service_errors += 1;
                self.stats.metrics.failed_invoke_event_count += count;
                let mut throttles = throttles;
                let next = self.rules().next(
                    Returned::Throttled,
                    records.len(),
                    &mut attempts,
                    &mut throttles,
                );
                let Next::Again { wait } = next else {
                    unreachable!("a throttle is tried again");
                };
                run.lanes[lane].current = Some(Current {
                    work: Work {
                        kind: WorkKind::Batch(records),
                        attempts,
                        throttles,
                    },
                    phase: Phase::Waiting(now + wait),
                });
                return;
            }
            Err(InvokeError::Function(error)) => Err(error),
            Ok(response) if run.window.is_some() && window::state_of(&response).is_none() => {
                Err("a tumbling-window response must carry `state`".to_owned())
            }
            Ok(response) => Ok(response),
        };
        let mut terminated_early = false;
        if let (Some(open), Ok(response)) = (run.window.as_mut(), &outcome) {
            if let Some(state) = window::state_of(response) {
                terminated_early = window::state_size(&state) > window::MAX_STATE_BYTES;
                open.state = state;
            }
        }
        let report_failures = self.config.settings.report_batch_item_failures;
        let returned = match &outcome {
            Ok(response) if report_failures => Returned::Responded {
                failed_from: first_failure(response, |id| {
                    records.iter().position(|q| q.record.sequence_number == id)
                }),
            },
            Ok(_) => Returned::Responded { failed_from: None },
            Err(error) => {
                tracing::debug!(%error, records = count, "function error");
                Returned::FunctionError
            }
        };
        let function_error = returned == Returned::FunctionError;
        if returned != (Returned::Responded { failed_from: None }) {
            self.stats.metrics.failed_invoke_event_count += count;
            if function_error {
                self.stats.function_errors += 1;
            } else {
                self.stats.partial_failures += 1;
            }
        }
        let mut throttles = throttles;
        let next = self
            .rules()
            .next(returned, records.len(), &mut attempts, &mut throttles);
        let (done, rest): (Vec<Queued>, Vec<Queued>) = match next {
            Next::Done => (records, Vec::new()),
            Next::Rest { done, .. } => {
                let rest = records.split_off(done);
                (records, rest)
            }
            _ => (Vec::new(), records),
        };
        self.finish(run, &done, now, true);
        let lane_state = &mut run.lanes[lane];
        match next {
            Next::Done => {
                if terminated_early {
                    lane_state.work.push_front(Work::close_window(true));
                }
            }
            Next::Split => {
                // Splitting is not a retry: it narrows down which record fails.
                self.stats.bisections += 1;
                let mut first = rest;
                let second = first.split_off(first.len() / 2);
                lane_state.work.push_front(Work::batch(second));
                lane_state.work.push_front(Work::batch(first));
            }
            Next::Rest { wait, .. } => {
                // Progress: the failed rest is a new batch, its own retries ahead.
                self.stats.retries += 1;
                lane_state.current = Some(Current {
                    work: Work::batch(rest),
                    phase: Phase::Waiting(now + wait),
                });
            }
            Next::Again { wait } => {
                self.stats.retries += 1;
                lane_state.current = Some(Current {
                    work: Work {
                        kind: WorkKind::Batch(rest),
                        attempts,
                        throttles,
                    },
                    phase: Phase::Waiting(now + wait),
                });
            }
            Next::GiveUp { invocations } => {
                let error = function_error.then_some("Unhandled");
                let condition = Condition::RetryAttemptsExhausted;
                self.give_up(
                    run,
                    lane,
                    rest,
                    condition,
                    invocations,
                    error,
                    None,
                    now,
                    out,
                );
            }
        }
    }

    fn rules(&self) -> RetryRules {
        RetryRules {
            bisect_on_error: self.config.settings.bisect_on_error,
            maximum_retry_attempts: self.config.settings.maximum_retry_attempts,
            backoff: self.config.backoff,
        }
    }

    fn on_sent(&mut self, id: u64, error: Option<String>) {
        let Some((shard, lane)) = self.calls.remove(&id) else {
            return;
        };
        let Some(mut run) = self.shards.remove(&shard) else {
            return;
        };
        let current = run.lanes[lane].current.take().expect("a send in flight");
        let Phase::Sending { id: sending, then } = current.phase else {
            unreachable!("a send in flight");
        };
        debug_assert_eq!(sending, id);
        if let WorkKind::Batch(records) = &current.work.kind {
            let count = records.len() as u64;
            match error {
                None => {
                    self.stats.sent_to_destination += count;
                    self.stats
                        .metrics
                        .on_failure_destination_delivered_event_count += count;
                }
                Some(error) => {
                    // As AWS: dropped, counted (the function's
                    // DestinationDeliveryFailures metric, alarmed on by
                    // the stack), the checkpoint moves on.
                    tracing::error!(records = count, %error, shard = %run.id, "the on-failure destination refused the invocation record: the records are dropped (DestinationDeliveryFailures)");
                    self.stats.discarded += count;
                    self.stats.destination_delivery_failures += count;
                    self.stats.metrics.dropped_event_count += count;
                }
            }
            // The records' time stamps do not matter here: not processed.
            self.finish(&mut run, records, 0.0, false);
        }
        run.lanes[lane].current = then.map(|work| Current {
            work: *work,
            phase: Phase::Ready,
        });
        self.shards.insert(shard, run);
    }

    /// Marks records finished (`processed`: by the function, at `now`) and
    /// moves the checkpoint.
    fn finish(&mut self, run: &mut ShardRun, records: &[Queued], now: Time, processed: bool) {
        for q in records {
            if let Some(mark) = run.pending.get_mut(&q.ordinal) {
                mark.status = Status::Finished;
            }
            if processed {
                self.stats.processed += 1;
                self.latencies
                    .push((q.record.age(now) * 1e6).max(1.0) as u64);
            }
        }
        self.settle(run);
        // What is finished above a record still open is remembered too, so
        // a restart skips it.
        for q in records {
            if run.pending.contains_key(&q.ordinal) {
                self.state
                    .shards
                    .entry(run.id.clone())
                    .or_default()
                    .finished_above
                    .insert(q.record.sequence_number.clone());
                self.dirty = true;
            }
        }
    }

    /// Moves the shard's checkpoint past every leading record that is done.
    fn settle(&mut self, run: &mut ShardRun) {
        let mut last = None;
        while let Some(entry) = run.pending.first_entry() {
            if entry.get().status == Status::Open {
                break;
            }
            last = Some(entry.remove().sequence_number);
            if let Some(progress) = self.state.shards.get_mut(&run.id) {
                if !progress.finished_above.is_empty() {
                    progress
                        .finished_above
                        .remove(last.as_deref().expect("just set"));
                }
            }
        }
        if let Some(sequence) = last {
            self.state
                .shards
                .entry(run.id.clone())
                .or_default()
                .checkpoint = Some(sequence);
            self.dirty = true;
        }
    }

    fn finished(&self) -> bool {
        if !self.calls.is_empty() || self.shards.values().any(|r| r.reading) {
            return false;
        }
        if self.stopping {
            return true;
        }
        if self.config.follow {
            return false;
        }
        if self.list_failures >= UNREADABLE_AFTER {
            // Nothing more can be known of the stream: the drain ends, saying so.
            return self.shards.values().all(|run| run.lanes_idle());
        }
        if !self.listed_once {
            return false;
        }
        let started: HashSet<String> = self.shards.keys().cloned().collect();
        let finished: HashSet<String> = self.state.closed.iter().cloned().collect();
        if !shards::ready(&self.listed, &started, &finished).is_empty() {
            return false;
        }
        self.shards.values().all(|run| {
            let drained = run.drained && run.pending.is_empty() && run.window.is_none();
            run.closed || ((drained || run.unreadable) && run.lanes_idle())
        })
    }

    /// Why the drain could not read everything: unreadable shards, and
    /// ListShards if it kept failing. Empty when it could.
    pub fn unread(&self) -> Vec<(String, String)> {
        let mut unread: Vec<(String, String)> = self
            .stats
            .unreadable
            .iter()
            .map(|(shard, error)| (shard.clone(), error.clone()))
            .collect();
        if !self.config.follow && self.list_failures >= UNREADABLE_AFTER {
            unread.push((
                "ListShards".to_owned(),
                self.list_error.clone().unwrap_or_default(),
            ));
        }
        unread
    }
}

/// Where a shard's next new iterator opens: after the last record read, else
/// where the shard resumes.
fn reopen_at(run: &ShardRun, state: &MappingState) -> Position {
    match &run.last_read {
        Some(sequence) => Position::AfterSequenceNumber(sequence.clone()),
        None => state.resume(&run.id),
    }
}

/// The lane a partition key always takes: a stable hash (FNV-1a), the same
/// in every build, so `redrive` can tell a lane's records apart later.
pub fn lane_of(partition_key: &str, lanes: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in partition_key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % lanes.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_key_always_maps_to_one_lane() {
        assert_eq!(lane_of("abc", 4), lane_of("abc", 4));
        assert_eq!(lane_of("abc", 4), 3, "stable across builds");
        let used: HashSet<usize> = (0..100).map(|i| lane_of(&format!("k{i}"), 4)).collect();
        assert_eq!(used.len(), 4);
        assert_eq!(lane_of("abc", 1), 0);
    }
}
