//! The tiered read-through lookup: L1 (in-process) → Momento → DynamoDB.
//!
//! One [`TieredLookup::resolve`] call answers every distinct key of a batch
//! in at most two sequential network stages: concurrent Momento gets, then
//! one BatchGetItem for what Momento missed. Documents found in DynamoDB are
//! written back to Momento by background tasks the handler waits for at the
//! end of the invocation ([`TieredLookup::settle`]), after it has emitted the
//! records, so the write-back is never on the records' path.
//!
//! When Momento refuses the key (a rotation revoked it), the parameter is
//! read again ([`KeySource`]) and the client rebuilt with the new key.

mod breaker;
mod key;
mod l1;
mod single_flight;
mod table;

use std::collections::{HashMap, HashSet};
use std::ops::AddAssign;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use std::time::Duration;

use futures::future::join_all;
use model::LocationRecord;
use momento::cache::GetResponse;
use momento::{CacheClient, MomentoError, MomentoErrorCode};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub use breaker::{BreakerState, Permit};
pub use key::{KeySource, Refreshed};
pub use table::{location_from_item, Table};

use breaker::Breaker;
use l1::L1;
use single_flight::{Flight, SingleFlight};

use crate::Config;

/// While the cache is missing, Momento is skipped and asked again this often
/// (someone may create it).
const CACHE_RECHECK: Duration = Duration::from_secs(60);
/// The key [`TieredLookup::check_cache`] reads: any key tells a missing cache
/// from a present one.
const PROBE_KEY: &str = "__kinesis_consumer_cache_probe__";

/// What [`TieredLookup::check_cache`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheCheck {
    Present,
    /// Momento answered that the cache does not exist.
    Missing,
    /// Momento did not answer (slow, down, refused): nothing is known.
    Unknown(String),
}

/// The answer for one key.
#[derive(Debug, Clone)]
pub enum Answer {
    Found(Arc<LocationRecord>),
    /// The table has no such location: the record is poison.
    Missing,
    /// The table's item for the key is not a location document: a data
    /// error in the table (said so in the dead letter), never cached.
    Malformed(Arc<str>),
    /// No tier could answer (DynamoDB failed): retry the record later.
    Failed(Arc<str>),
}

/// What lookups did, per batch ([`Resolution::counts`]) or in total
/// ([`TieredLookup::totals`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LookupCounts {
    /// Distinct keys asked for.
    pub keys: u64,
    pub l1_hits: u64,
    /// Keys L1 remembers the table does not have.
    pub l1_negative_hits: u64,
    /// Keys answered by a concurrent lookup's request (single-flight).
    pub shared: u64,
    pub momento_gets: u64,
    pub momento_hits: u64,
    pub momento_misses: u64,
    pub momento_errors: u64,
    /// Cached values that were not a valid document (treated as misses and overwritten).
    pub momento_corrupt: u64,
    /// Keys that skipped Momento because the breaker was open.
    pub momento_skipped: u64,
    pub dynamodb_calls: u64,
    pub dynamodb_found: u64,
    pub dynamodb_missing: u64,
    /// Items that exist but are not location documents.
    pub dynamodb_malformed: u64,
    pub dynamodb_failed: u64,
    pub momento_sets: u64,
    pub momento_set_failures: u64,
    /// Momento calls refused for the key (counted in `momento_errors` too,
    /// not in the breaker: an open breaker would hide them).
    pub momento_key_refused: u64,
    /// Times the key was read again from SSM and a new client built.
    pub momento_key_refreshes: u64,
    pub breaker_opened: u64,
    /// Sequential network stages the records waited for (0, 1 or 2).
    pub stages: u64,
}

impl AddAssign for LookupCounts {
    fn add_assign(&mut self, o: Self) {
        self.keys += o.keys;
        self.l1_hits += o.l1_hits;
        self.l1_negative_hits += o.l1_negative_hits;
        self.shared += o.shared;
        self.momento_gets += o.momento_gets;
        self.momento_hits += o.momento_hits;
        self.momento_misses += o.momento_misses;
        self.momento_errors += o.momento_errors;
        self.momento_corrupt += o.momento_corrupt;
        self.momento_skipped += o.momento_skipped;
        self.dynamodb_calls += o.dynamodb_calls;
        self.dynamodb_found += o.dynamodb_found;
        self.dynamodb_missing += o.dynamodb_missing;
        self.dynamodb_malformed += o.dynamodb_malformed;
        self.dynamodb_failed += o.dynamodb_failed;
        self.momento_sets += o.momento_sets;
        self.momento_set_failures += o.momento_set_failures;
        self.momento_key_refused += o.momento_key_refused;
        self.momento_key_refreshes += o.momento_key_refreshes;
        self.breaker_opened += o.breaker_opened;
        self.stages += o.stages;
    }
}

/// The answers for a batch's keys.
pub struct Resolution {
    pub answers: HashMap<String, Answer>,
    pub counts: LookupCounts,
    /// Momento sets still running; pass to [`TieredLookup::settle`].
    pub write_back: WriteBack,
}

/// Momento sets started by a lookup.
#[derive(Default)]
pub struct WriteBack {
    sets: Vec<JoinHandle<Result<(), MomentoError>>>,
}

/// Everything a container keeps between invocations for lookups.
pub struct TieredLookup {
    l1: L1,
    /// Replaced when the key changes; `key_generation` counts the clients.
    momento: RwLock<CacheClient>,
    key_generation: AtomicU64,
    key: Option<KeySource>,
    /// `Some(until)` while Momento refuses the key and SSM holds no other:
    /// Momento is skipped until the parameter may be read again.
    key_refused: Mutex<Option<Instant>>,
    cache_name: String,
    table: Table,
    breaker: Breaker,
    /// `Some(next check)` while Momento says the cache does not exist.
    cache_missing: Mutex<Option<Instant>>,
    flights: SingleFlight<Answer>,
    totals: Mutex<LookupCounts>,
}

impl TieredLookup {
    pub fn new(config: &Config, momento: CacheClient, table: Table) -> Self {
        Self {
            l1: L1::new(config.l1_capacity, config.l1_ttl, config.negative_ttl),
            momento: RwLock::new(momento),
            key_generation: AtomicU64::new(0),
            key: None,
            key_refused: Mutex::new(None),
            cache_name: config.cache_name.clone(),
            table,
            breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
            cache_missing: Mutex::new(None),
            flights: SingleFlight::new(),
            totals: Mutex::new(LookupCounts::default()),
        }
    }

    /// Reads the key again from `source` when Momento refuses it.
    #[must_use]
    pub fn with_key_source(mut self, source: KeySource) -> Self {
        self.key = Some(source);
        self
    }

    /// The client in use.
    fn momento(&self) -> CacheClient {
        self.momento.read().clone()
    }

    /// Answers every distinct key in `keys`.
    pub async fn resolve<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Resolution {
        let mut counts = LookupCounts::default();
        let mut answers = HashMap::new();
        let mut leaders = Vec::new();
        let mut followers = Vec::new();
        let mut seen = HashSet::new();
        for key in keys {
            if !seen.insert(key) {
                continue;
            }
            counts.keys += 1;
            if let Some(entry) = self.l1.get(key) {
                let answer = match entry.document {
                    Some(document) => {
                        counts.l1_hits += 1;
                        Answer::Found(document)
                    }
                    None => {
                        counts.l1_negative_hits += 1;
                        Answer::Missing
                    }
                };
                answers.insert(key.to_owned(), answer);
                continue;
            }
            match self.flights.join(key) {
                Flight::Leader(leader) => leaders.push(leader),
                Flight::Follower(receiver) => followers.push((key, receiver)),
            }
        }

        let mut write_back = WriteBack::default();
        if !leaders.is_empty() {
            let keys: Vec<String> = leaders.iter().map(|l| l.key().to_owned()).collect();
            let mut fetched = self.fetch(&keys, &mut counts, &mut write_back).await;
            for leader in leaders {
                let answer = fetched
                    .remove(leader.key())
                    .unwrap_or_else(|| Answer::Failed("no tier answered".into()));
                answers.insert(leader.key().to_owned(), answer.clone());
                leader.complete(answer);
            }
        }
        for (key, receiver) in followers {
            counts.shared += 1;
            let answer = single_flight::wait(receiver)
                .await
                .unwrap_or_else(|| Answer::Failed("the shared lookup was abandoned".into()));
            answers.insert(key.to_owned(), answer);
        }

        *self.totals.lock() += counts;
        Resolution {
            answers,
            counts,
            write_back,
        }
    }

    /// Momento, then DynamoDB for what Momento could not answer.
    async fn fetch(
        &self,
        keys: &[String],
        counts: &mut LookupCounts,
        write_back: &mut WriteBack,
    ) -> HashMap<String, Answer> {
        let mut answers = HashMap::with_capacity(keys.len());
        let permit = if self.cache_usable() && self.key_usable() {
            self.breaker.allow()
        } else {
            Permit::Skip
        };
        // A probe asks Momento for one key; the rest go on to DynamoDB.
        let asked = match permit {
            Permit::Call => keys.len(),
            Permit::Probe => 1,
            Permit::Skip => 0,
        };
        let mut misses = if asked > 0 {
            self.momento_gets(&keys[..asked], counts, &mut answers)
                .await
        } else {
            Vec::new()
        };
        counts.momento_skipped += (keys.len() - asked) as u64;
        misses.extend_from_slice(&keys[asked..]);
        if misses.is_empty() {
            return answers;
        }

        counts.stages += 1;
        let reply = self.table.get_many(&misses).await;
        counts.dynamodb_calls += u64::from(reply.calls);
        // Write back only through a healthy cache (closed breaker).
        let write_to_momento =
            asked > 0 && !self.cache_missing() && self.breaker.state() == BreakerState::Closed;
        for (key, document) in reply.answered {
            let answer = match document {
                Some(document) => {
                    counts.dynamodb_found += 1;
                    let document = Arc::new(document);
                    self.l1.insert(&key, Some(document.clone()));
                    if write_to_momento {
                        write_back.sets.push(self.spawn_set(&key, &document));
                    }
                    Answer::Found(document)
                }
                None => {
                    counts.dynamodb_missing += 1;
                    self.l1.insert(&key, None);
                    Answer::Missing
                }
            };
            answers.insert(key, answer);
        }
        for (key, problem) in reply.malformed {
            counts.dynamodb_malformed += 1;
            answers.insert(key, Answer::Malformed(problem.into()));
        }
        for (key, reason) in reply.failed {
            counts.dynamodb_failed += 1;
            answers.insert(key, Answer::Failed(reason));
        }
        answers
    }

    /// Concurrent gets; returns the keys DynamoDB must answer.
    async fn momento_gets(
        &self,
        keys: &[String],
        counts: &mut LookupCounts,
        answers: &mut HashMap<String, Answer>,
    ) -> Vec<String> {
        counts.stages += 1;
        counts.momento_gets += keys.len() as u64;
        let generation = self.key_generation.load(Ordering::Acquire);
        let momento = self.momento();
        let gets = keys
            .iter()
            .map(|key| momento.get(self.cache_name.as_str(), key.as_str()));
        let mut misses = Vec::new();
        let mut first_error = None;
        let mut key_refused = false;
        for (key, result) in keys.iter().zip(join_all(gets).await) {
            if result.is_ok() {
                self.cache_found();
            }
            match result {
                Ok(GetResponse::Hit { value }) => {
                    self.breaker.record(true);
                    match LocationRecord::from_cached(&Vec::<u8>::from(value)) {
                        Ok(document) => {
                            counts.momento_hits += 1;
                            let document = Arc::new(document);
                            self.l1.insert(key, Some(document.clone()));
                            answers.insert(key.clone(), Answer::Found(document));
                        }
                        Err(_) => {
                            counts.momento_corrupt += 1;
                            misses.push(key.clone());
                        }
                    }
                }
                Ok(GetResponse::Miss) => {
                    self.breaker.record(true);
                    counts.momento_misses += 1;
                    misses.push(key.clone());
                }
                Err(error) if is_key_refused(&error) => {
                    // Not an outage: the breaker stays as it is (open, it
                    // would hide the refusals); the key is read again.
                    counts.momento_errors += 1;
                    counts.momento_key_refused += 1;
                    key_refused = true;
                    misses.push(key.clone());
                }
                Err(error) if is_cache_missing(&error) => {
                    // Not an outage (the breaker stays as it is): a
                    // configuration error, logged once, skipped for a while.
                    self.mark_cache_missing();
                    counts.momento_errors += 1;
                    misses.push(key.clone());
                }
                Err(error) => {
                    counts.momento_errors += 1;
                    if self.breaker.record(false) {
                        counts.breaker_opened += 1;
                        tracing::warn!(
                            "Momento keeps failing: skipping it for the breaker's cool-down"
                        );
                    }
                    first_error.get_or_insert(error);
                    misses.push(key.clone());
                }
            }
        }
        if let Some(error) = first_error {
            tracing::warn!(errors = counts.momento_errors, error = %error, "Momento get failed; reading DynamoDB instead");
        }
        if key_refused {
            self.key_refused(generation, counts).await;
        }
        misses
    }

    /// Momento refused the key of client `generation`: read the parameter
    /// again (at most once per interval) and use a new key if there is one;
    /// else skip Momento until the parameter may be read again.
    async fn key_refused(&self, generation: u64, counts: &mut LookupCounts) {
        let Some(source) = &self.key else {
            return;
        };
        if self.key_generation.load(Ordering::Acquire) != generation {
            return; // another batch already changed the key
        }
        let skip_for = |lookup: &Self| {
            *lookup.key_refused.lock() = Some(Instant::now() + source.interval());
        };
        match source.refresh().await {
            Refreshed::NewKey(client) => {
                *self.momento.write() = *client;
                self.key_generation.fetch_add(1, Ordering::AcqRel);
                *self.key_refused.lock() = None;
                counts.momento_key_refreshes += 1;
                tracing::info!("Momento refused the key and SSM holds a new one: using it");
            }
            Refreshed::SameKey => {
                skip_for(self);
                tracing::error!(
                    seconds = source.interval().as_secs(),
                    "Momento refuses the key SSM holds: skipping Momento until the parameter is read again"
                );
            }
            Refreshed::Failed(error) => {
                skip_for(self);
                tracing::error!(%error, "Momento refused the key and reading it again failed: skipping Momento for now");
            }
            Refreshed::NotYet => {
                let mut refused = self.key_refused.lock();
                refused.get_or_insert(Instant::now() + source.interval());
            }
        }
    }

    /// False while Momento refuses the key and SSM has no other, except once
    /// the parameter may be read again (a batch asks Momento then).
    fn key_usable(&self) -> bool {
        let mut refused = self.key_refused.lock();
        match *refused {
            None => true,
            Some(until) if Instant::now() >= until => {
                *refused = None;
                true
            }
            Some(_) => false,
        }
    }

    fn spawn_set(
        &self,
        key: &str,
        document: &LocationRecord,
    ) -> JoinHandle<Result<(), MomentoError>> {
        let client = self.momento();
        let cache = self.cache_name.clone();
        let key = key.to_owned();
        let value = document.to_cached();
        tokio::spawn(async move { client.set(cache, key, value).await.map(|_| ()) })
    }

    /// Waits for a resolution's Momento sets. A failed set only costs a future
    /// miss: it is logged and counted, never reported against a record.
    pub async fn settle(&self, write_back: WriteBack) -> LookupCounts {
        let mut counts = LookupCounts::default();
        for set in join_all(write_back.sets).await {
            counts.momento_sets += 1;
            match set {
                Ok(Ok(())) => {
                    self.breaker.record(true);
                }
                Ok(Err(error)) => {
                    counts.momento_set_failures += 1;
                    // A refused key is not an outage (see momento_gets).
                    if !is_key_refused(&error) && self.breaker.record(false) {
                        counts.breaker_opened += 1;
                    }
                    tracing::warn!(error = %error, "Momento set failed");
                }
                Err(error) => {
                    counts.momento_set_failures += 1;
                    tracing::warn!(%error, "Momento set task failed");
                }
            }
        }
        *self.totals.lock() += counts;
        counts
    }

    /// Asks Momento whether the cache exists (one get of a probe key, within
    /// the client's deadline). A missing cache is logged once at ERROR and
    /// skipped until a later check finds it; at init this is also the
    /// connection set-up the first batch would otherwise pay for.
    pub async fn check_cache(&self) -> CacheCheck {
        match self
            .momento()
            .get(self.cache_name.as_str(), PROBE_KEY)
            .await
        {
            Ok(_) => {
                self.cache_found();
                CacheCheck::Present
            }
            Err(error) if is_cache_missing(&error) => {
                self.mark_cache_missing();
                CacheCheck::Missing
            }
            Err(error) => {
                tracing::warn!(cache = %self.cache_name, error = %error, "could not check that the Momento cache exists");
                CacheCheck::Unknown(error.to_string())
            }
        }
    }

    /// Whether Momento said the cache does not exist (and no later call found it).
    pub fn cache_missing(&self) -> bool {
        self.cache_missing.lock().is_some()
    }

    /// False while the cache is known to be missing, except once per
    /// [`CACHE_RECHECK`], when a batch asks again.
    fn cache_usable(&self) -> bool {
        let mut missing = self.cache_missing.lock();
        match *missing {
            None => true,
            Some(next_check) if Instant::now() >= next_check => {
                *missing = Some(Instant::now() + CACHE_RECHECK);
                true
            }
            Some(_) => false,
        }
    }

    fn mark_cache_missing(&self) {
        let was_missing = self
            .cache_missing
            .lock()
            .replace(Instant::now() + CACHE_RECHECK)
            .is_some();
        if !was_missing {
            tracing::error!(
                cache = %self.cache_name,
                "the Momento cache {} does not exist: every lookup goes to DynamoDB until it is created (`just momento-cache`)",
                self.cache_name
            );
        }
    }

    fn cache_found(&self) {
        if self.cache_missing.lock().take().is_some() {
            tracing::info!(cache = %self.cache_name, "the Momento cache exists now: reading through it again");
        }
    }

    /// Counts since the container started.
    pub fn totals(&self) -> LookupCounts {
        *self.totals.lock()
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// Entries in the in-process tier.
    pub fn l1_len(&self) -> usize {
        self.l1.len()
    }

    pub fn table(&self) -> &Table {
        &self.table
    }
}

/// Momento refused the key (a rotation revoked it, or it is wrong).
fn is_key_refused(error: &MomentoError) -> bool {
    matches!(error.error_code, MomentoErrorCode::AuthenticationError)
}

fn is_cache_missing(error: &MomentoError) -> bool {
    matches!(error.error_code, MomentoErrorCode::CacheNotFoundError)
}
