//! The shell: runs the [`Engine`] against Kinesis (or records from a file),
//! the function and the on-failure destination. One task owns the engine
//! (cargo-lambda's watch scheduler is the model): it carries out each
//! action, as a task of its own where it waits on the network, and feeds
//! what comes back to the engine as an event. The shell decides nothing.

pub mod invoker;
pub mod reader;
pub mod sender;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_kinesis::error::DisplayErrorContext;
use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::arn::{self, FunctionArns};
use crate::engine::{Action, Backoff, Engine, EngineConfig, Event, ReadFault, Summary};
use crate::records::{now_seconds, EventSource, StreamRecord};
use crate::settings::{MappingSettings, SettingsError};
use crate::state::{self, MappingState, StateError};
use crate::window::WindowFields;
use invoker::Function;
use reader::{ReadError, RecordSource, Source, StreamReader};
use sender::Sender;

/// Why a mapping could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("{operation} failed: {}", DisplayErrorContext(source))]
    Kinesis {
        operation: &'static str,
        #[source]
        source: Box<aws_sdk_kinesis::Error>,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("invalid mapping settings: {0}")]
    Settings(#[from] SettingsError),
    /// A drain could not read some shards (or the shard list); their
    /// positions stay saved, so a later run resumes them.
    #[error("the drain could not read everything: {}", unread.iter().map(|(what, error)| format!("{what} ({error})")).collect::<Vec<_>>().join("; "))]
    Unread { unread: Vec<(String, String)> },
}

impl MappingError {
    pub(crate) fn kinesis<E, R>(
        operation: &'static str,
        error: aws_sdk_kinesis::error::SdkError<E, R>,
    ) -> Self
    where
        aws_sdk_kinesis::Error: From<aws_sdk_kinesis::error::SdkError<E, R>>,
    {
        Self::Kinesis {
            operation,
            source: Box::new(error.into()),
        }
    }
}

/// What to read and how.
#[derive(Debug, Clone)]
pub struct MappingConfig {
    /// A stream name or ARN, or an enhanced fan-out consumer's ARN (records
    /// are polled from its stream: the emulators have no SubscribeToShard).
    pub stream: String,
    /// Named in events when the stream's ARN has no region (records from a file).
    pub region: String,
    /// The function's name: its ARN and its role's (`<name>-role`) are in
    /// the stream's account, in events and invocation records.
    pub function_name: String,
    pub settings: MappingSettings,
    /// Keep reading after the stream is drained.
    pub follow: bool,
    /// The mapping's state file: the same file is the same mapping. `None`
    /// keeps the state in memory (every run is a new mapping).
    pub checkpoint_file: Option<PathBuf>,
    /// See [`EngineConfig::poll_interval`].
    pub poll_interval: Option<Duration>,
    /// The function's timeout: an invocation that takes longer fails (as a
    /// function error). `None`: no limit.
    pub function_timeout: Option<Duration>,
    /// Between retries of the same records.
    pub backoff: Backoff,
    /// The mapping's UUID when it has one (a mapping the Lambda API
    /// lists): a new state gets it. `None`: a new state gets a new one.
    pub uuid: Option<String>,
}

/// Counts and the latency histogram, as the owner last published them.
struct Observed {
    summary: Summary,
    /// write (arrival) → processed, in microseconds.
    latency: Histogram<u64>,
}

/// One completed action, for the owner.
enum Completion {
    Event(Event),
    /// A read, with the iterator to continue from (`None`: none to keep).
    Read {
        shard: String,
        iterator: Option<String>,
        event: Event,
    },
}

/// The local event-source mapping.
pub struct EventSourceMapping {
    source: Source,
    stream_name: String,
    config: MappingConfig,
    engine: EngineConfig,
    function: Function,
    /// The function's timeout, changed by a newly published version.
    function_timeout: Mutex<Option<Duration>>,
    sender: Sender,
    /// The mapping's UUID (S3 destination keys).
    uuid: String,
    initial: Mutex<Option<MappingState>>,
    observed: Mutex<Observed>,
    control: mpsc::UnboundedSender<Event>,
    control_rx: Mutex<Option<mpsc::UnboundedReceiver<Event>>>,
    started: Instant,
}

impl EventSourceMapping {
    /// Looks up the stream (through its consumer, for a consumer ARN) and
    /// loads the mapping's state, or creates the mapping.
    ///
    /// # Errors
    /// [`MappingError`] if the stream cannot be described, the settings are
    /// out of range, or the state file cannot be read.
    pub async fn new(
        sdk: &SdkConfig,
        config: MappingConfig,
        function: Function,
    ) -> Result<Self, MappingError> {
        config.settings.validate()?; // before any call to Kinesis
        let kinesis = aws_sdk_kinesis::Client::new(sdk);
        let stream = resolve(&kinesis, &config.stream).await?;
        // A stream deleted and re-created under the same name has the same
        // ARN; its creation time tells the two apart.
        let identity = format!("{} created {}", stream.arn, stream.created);
        let reader = StreamReader::new(kinesis, &stream.name);
        Self::build(
            sdk,
            config,
            function,
            Source::Stream(reader),
            &stream.name,
            &stream.arn,
            &identity,
        )
    }

    /// A mapping over records that do not come from a stream (a file), as
    /// if `stream_arn` held them; its state stays in memory.
    ///
    /// # Errors
    /// [`MappingError::Settings`].
    pub fn for_records(
        sdk: &SdkConfig,
        mut config: MappingConfig,
        function: Function,
        stream_arn: &str,
        records: Vec<StreamRecord>,
    ) -> Result<Self, MappingError> {
        config.checkpoint_file = None;
        config.follow = false;
        let name = arn::stream_name(stream_arn).to_owned();
        let source = Source::Records(RecordSource::new(records));
        Self::build(sdk, config, function, source, &name, stream_arn, stream_arn)
    }

    fn build(
        sdk: &SdkConfig,
        config: MappingConfig,
        function: Function,
        source: Source,
        stream_name: &str,
        stream_arn: &str,
        identity: &str,
    ) -> Result<Self, MappingError> {
        if matches!(source, Source::Records(_)) {
            config.settings.validate()?;
        }
        let now = now_seconds();
        let saved = match &config.checkpoint_file {
            Some(path) => state::load(path, identity)?,
            None => None,
        };
        let initial = saved.unwrap_or_else(|| {
            let mut state = MappingState::new(identity, config.settings.starting_position, now);
            if let Some(uuid) = &config.uuid {
                state.uuid.clone_from(uuid);
            }
            state
        });
        let arns = FunctionArns::new(stream_arn, &config.region, &config.function_name);
        let region = arn::Arn::parse(stream_arn)
            .map(|a| a.region)
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| config.region.clone());
        let engine = EngineConfig {
            settings: config.settings.clone(),
            follow: config.follow,
            poll_interval: config.poll_interval.map(|d| d.as_secs_f64()),
            backoff: config.backoff,
            source: EventSource {
                stream_arn: stream_arn.to_owned(),
                region,
                role_arn: arns.role,
            },
            function_arn: arns.function,
        };
        let (control, control_rx) = mpsc::unbounded_channel();
        Ok(Self {
            source,
            stream_name: stream_name.to_owned(),
            engine,
            function_timeout: Mutex::new(config.function_timeout),
            config,
            function,
            sender: Sender::new(sdk),
            uuid: initial.uuid.clone(),
            initial: Mutex::new(Some(initial)),
            observed: Mutex::new(Observed {
                summary: Summary::default(),
                latency: Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid bounds"),
            }),
            control,
            control_rx: Mutex::new(Some(control_rx)),
            started: Instant::now(),
        })
    }

    /// The name of the stream read (resolved from a consumer ARN).
    pub fn stream_name(&self) -> &str {
        &self.stream_name
    }

    /// The ARNs and region the events and invocation records name.
    pub fn event_source(&self) -> &EventSource {
        &self.engine.source
    }

    /// Counts so far.
    pub fn summary(&self) -> Summary {
        let observed = self.observed.lock();
        let mut summary = observed.summary.clone();
        let ms = |us: u64| us as f64 / 1000.0;
        if !observed.latency.is_empty() {
            summary.latency_p50_ms = ms(observed.latency.value_at_quantile(0.5));
            summary.latency_p99_ms = ms(observed.latency.value_at_quantile(0.99));
            summary.latency_max_ms = ms(observed.latency.max());
        }
        summary.wall_seconds = self.started.elapsed().as_secs_f64();
        summary
    }

    /// Every processed record's write (arrival) → processed latency, in µs.
    pub fn latency(&self) -> Histogram<u64> {
        self.observed.lock().latency.clone()
    }

    /// `Enabled`: a disabled mapping keeps its position and reads nothing.
    pub fn set_enabled(&self, enabled: bool) {
        let _ = self.control.send(Event::SetEnabled(enabled));
    }

    /// UpdateEventSourceMapping: the new settings apply from the next batch
    /// (see [`Event::SettingsChanged`] for what needs a restart instead).
    pub fn update_settings(&self, settings: MappingSettings) {
        let _ = self.control.send(Event::SettingsChanged(settings));
    }

    /// A new function timeout (a newly published version's), from the next
    /// invocation.
    pub fn set_function_timeout(&self, timeout: Option<Duration>) {
        *self.function_timeout.lock() = timeout;
    }

    /// Stops [`run`](Self::run) gracefully: nothing new starts, what is in
    /// flight finishes and is checkpointed, then `run` returns.
    pub fn stop(&self) {
        let _ = self.control.send(Event::Stop);
    }

    /// Reads every shard (children after all their parents) until drained,
    /// or until [`stop`](Self::stop) with `follow`. Call it once.
    ///
    /// # Errors
    /// The first error that stopped the mapping (a Kinesis call, the state
    /// file), after what was in flight finished and was checkpointed.
    pub async fn run(&self) -> Result<Summary, MappingError> {
        let mut control = self
            .control_rx
            .lock()
            .take()
            .expect("EventSourceMapping::run is called once");
        let state = self.initial.lock().take().expect("run once");
        let (mut engine, mut actions) = Engine::new(self.engine.clone(), state, now_seconds())?;
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Completion>();
        let mut tasks = JoinSet::new();
        let mut iterators: HashMap<String, String> = HashMap::new();
        let mut failure: Option<MappingError> = None;
        loop {
            for action in actions.drain(..) {
                match action {
                    Action::Save(state) => {
                        if let Some(path) = &self.config.checkpoint_file {
                            if let Err(error) = state::save(path, &state) {
                                failure.get_or_insert(error.into());
                                let _ = self.control.send(Event::Stop);
                            }
                        }
                    }
                    Action::Done => {
                        self.publish(&mut engine);
                        let unread = engine.unread();
                        return match failure {
                            Some(error) => Err(error),
                            None if !unread.is_empty() => Err(MappingError::Unread { unread }),
                            None => Ok(self.summary()),
                        };
                    }
                    action => self.carry_out(action, &mut iterators, &mut tasks, &done_tx),
                }
            }
            while tasks.try_join_next().is_some() {}
            let wake = engine
                .next_wake()
                .map(|at| Duration::from_secs_f64((at - now_seconds()).max(0.0)));
            let event = tokio::select! {
                Some(done) = done_rx.recv() => match done {
                    Completion::Event(event) => event,
                    Completion::Read { shard, iterator, event } => {
                        if let Some(iterator) = iterator {
                            iterators.insert(shard, iterator);
                        }
                        event
                    }
                },
                Some(event) = control.recv() => event,
                () = sleep(wake) => Event::Tick,
            };
            actions = engine.handle(now_seconds(), event);
            self.publish(&mut engine);
        }
    }

    fn publish(&self, engine: &mut Engine) {
        let latencies = engine.take_latencies();
        let mut observed = self.observed.lock();
        observed.summary = engine.summary().clone();
        for micros in latencies {
            let _ = observed.latency.record(micros);
        }
    }

    /// Starts what an action asks for; its result comes back on `done`.
    fn carry_out(
        &self,
        action: Action,
        iterators: &mut HashMap<String, String>,
        tasks: &mut JoinSet<()>,
        done: &mpsc::UnboundedSender<Completion>,
    ) {
        let done = done.clone();
        match action {
            Action::ListShards => {
                let source = self.source.clone();
                tasks.spawn(async move {
                    let event = match source.shards().await {
                        Ok(shards) => Event::Shards(shards),
                        Err(error) => Event::ListFailed {
                            error: error.to_string(),
                        },
                    };
                    let completion = Completion::Event(event);
                    let _ = done.send(completion);
                });
            }
            Action::Read { shard, from, limit } => {
                let held = iterators.remove(&shard);
                let source = self.source.clone();
                tasks.spawn(async move {
                    let completion = match source.read(&shard, from.as_ref(), held, limit).await {
                        Ok(page) => Completion::Read {
                            event: Event::Page {
                                shard: shard.clone(),
                                end: page.next_iterator.is_none(),
                                behind: page.behind,
                                records: page.records,
                            },
                            iterator: page.next_iterator,
                            shard,
                        },
                        Err(error) => {
                            let fault = match error {
                                ReadError::Expired => ReadFault::Expired,
                                ReadError::Throttled => ReadFault::Throttled,
                                ReadError::Gone(error) => ReadFault::Gone(error),
                                ReadError::Kinesis(error) => ReadFault::Other(error.to_string()),
                            };
                            Completion::Event(Event::ReadFailed { shard, fault })
                        }
                    };
                    let _ = done.send(completion);
                });
            }
            Action::Invoke {
                id,
                shard,
                records,
                window,
            } => {
                let mut event = self.engine.source.event(&records);
                if let Some(window) = &window {
                    WindowFields {
                        window: &window.window,
                        shard_id: &shard,
                        stream_arn: &self.engine.source.stream_arn,
                        final_invoke: window.final_invoke,
                        terminated_early: window.terminated_early,
                    }
                    .decorate(&mut event);
                }
                let function = self.function.clone();
                let timeout = *self.function_timeout.lock();
                tasks.spawn(async move {
                    let result = function.invoke_within(event, timeout).await;
                    let _ = done.send(Completion::Event(Event::Invoked { id, result }));
                });
            }
            Action::Send {
                id,
                destination,
                record,
                records,
                ..
            } => {
                let sender = self.sender.clone();
                let event: Value = self.engine.source.event(&records);
                let uuid = self.uuid.clone();
                tasks.spawn(async move {
                    let error = sender
                        .send(&destination, &uuid, &record, &event)
                        .await
                        .err()
                        .map(|e| e.to_string());
                    let _ = done.send(Completion::Event(Event::Sent { id, error }));
                });
            }
            Action::Save(_) | Action::Done => unreachable!("handled by the owner"),
        }
    }
}

async fn sleep(duration: Option<Duration>) {
    match duration {
        Some(duration) => tokio::time::sleep(duration).await,
        None => std::future::pending().await,
    }
}

/// A stream as the mapping names it.
struct Stream {
    name: String,
    arn: String,
    created: f64,
}

/// The stream behind a name, a stream ARN or a fan-out consumer's ARN.
async fn resolve(kinesis: &aws_sdk_kinesis::Client, stream: &str) -> Result<Stream, MappingError> {
    let mut name = arn::stream_name(stream).to_owned();
    if arn::Arn::parse(stream).is_some_and(|a| a.is_stream_consumer()) {
        let consumer = kinesis
            .describe_stream_consumer()
            .consumer_arn(stream)
            .send()
            .await
            .map_err(|e| MappingError::kinesis("kinesis:DescribeStreamConsumer", e))?;
        let stream_arn = consumer
            .consumer_description()
            .map(|c| c.stream_arn().to_owned())
            .unwrap_or_default();
        tracing::info!(
            consumer = stream,
            stream = %stream_arn,
            "enhanced fan-out consumer: records are polled from its stream here (the emulators have no SubscribeToShard), not pushed"
        );
        name = arn::stream_name(&stream_arn).to_owned();
    }
    let summary = kinesis
        .describe_stream_summary()
        .stream_name(&name)
        .send()
        .await
        .map_err(|e| MappingError::kinesis("kinesis:DescribeStreamSummary", e))?;
    let description = summary.stream_description_summary();
    Ok(Stream {
        arn: description
            .map(|s| s.stream_arn().to_owned())
            .unwrap_or_default(),
        created: description.map_or(0.0, |s| s.stream_creation_timestamp().as_secs_f64()),
        name,
    })
}
