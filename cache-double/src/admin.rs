//! The admin HTTP endpoint, on its own loopback port: `/health`, `/stats`,
//! `/block` / `/unblock` to simulate an outage (GET as momento-local's test
//! clients send it, including Go's `//block`, or POST), and `POST /faults` to
//! change the injected latency and error rate while running.

use std::collections::BTreeMap;
use std::sync::Arc;

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::faults::parse_code;
use crate::state::stats::{RpcStats, StatsSnapshot};
use crate::state::Shared;

/// What `/stats` returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminStats {
    /// Per-RPC counters (only RPCs called at least once) and their sum.
    #[serde(flatten)]
    pub calls: StatsSnapshot,
    pub caches: BTreeMap<String, CacheStats>,
    pub blocked: bool,
}

impl AdminStats {
    /// Counters of one RPC (zero if it was never called).
    pub fn rpc(&self, name: &str) -> RpcStats {
        self.calls.rpcs.get(name).copied().unwrap_or_default()
    }
}

/// Size of one cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheStats {
    pub items: usize,
    pub bytes: usize,
    pub evictions: u64,
    /// Live items and their bytes per type: `scalar`, `dictionary`, `list`,
    /// `set`, `sorted_set`.
    pub by_type: BTreeMap<String, TypeStats>,
}

/// Items of one type in one cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeStats {
    pub items: usize,
    pub bytes: usize,
}

/// A snapshot of everything `/stats` reports.
pub fn stats(shared: &Shared) -> AdminStats {
    let caches = shared
        .caches()
        .into_iter()
        .map(|(name, cache)| {
            let stats = CacheStats {
                items: cache.len(),
                bytes: cache.bytes(),
                evictions: cache.evictions(),
                by_type: cache
                    .by_type()
                    .into_iter()
                    .map(|(kind, (items, bytes))| {
                        (kind.name().to_owned(), TypeStats { items, bytes })
                    })
                    .collect(),
            };
            (name, stats)
        })
        .collect();
    AdminStats {
        calls: shared.stats.snapshot(),
        caches,
        blocked: shared.blocked(),
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    let block = || get(block).post(block);
    let unblock = || get(unblock).post(unblock);
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route(
            "/stats",
            get(|State(s): State<Arc<Shared>>| async move { Json(stats(&s)) }),
        )
        .route("/block", block())
        .route("//block", block())
        .route("/unblock", unblock())
        .route("//unblock", unblock())
        .route(
            "/api-keys",
            post(
                |State(s): State<Arc<Shared>>, Json(body): Json<ApiKeysBody>| async move {
                    set_api_keys(&s, body)
                },
            ),
        )
        .route(
            "/faults",
            post(
                |State(s): State<Arc<Shared>>, Json(body): Json<FaultsBody>| async move {
                    set_faults(&s, body)
                },
            ),
        )
        .with_state(shared)
}

/// Body of `POST /api-keys`: the `authorization` values accepted from now on
/// (the `api_key` inside a v1 Momento key), or `null` to accept any. A key
/// rotation: the new key and the old, then the new alone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeysBody {
    pub api_keys: Option<Vec<String>>,
}

fn set_api_keys(shared: &Shared, body: ApiKeysBody) -> Result<String, (StatusCode, String)> {
    if body.api_keys.as_ref().is_some_and(Vec::is_empty) {
        return Err((
            StatusCode::BAD_REQUEST,
            "api_keys must hold at least one key, or be null to accept any\n".to_owned(),
        ));
    }
    // The keys themselves are never logged nor echoed.
    let answer = match &body.api_keys {
        Some(keys) => format!("{} api keys accepted\n", keys.len()),
        None => "any api key accepted\n".to_owned(),
    };
    tracing::info!(
        keys = body.api_keys.as_ref().map(Vec::len),
        "admin: api keys changed"
    );
    *shared.api_keys.write() = body.api_keys;
    Ok(answer)
}

/// Body of `POST /faults`; fields left out keep their value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultsBody {
    pub latency_ms: Option<u64>,
    pub error_rate: Option<f64>,
    /// momento-local's kebab-case names, e.g. `unavailable`, `internal`.
    pub error_code: Option<String>,
}

fn set_faults(shared: &Shared, body: FaultsBody) -> Result<&'static str, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let mut injected = *shared.injected.read();
    if let Some(ms) = body.latency_ms {
        injected.latency = Duration::from_millis(ms);
    }
    if let Some(rate) = body.error_rate {
        if !(0.0..=1.0).contains(&rate) {
            return Err(bad(format!(
                "error_rate must be within 0.0..=1.0, got {rate}\n"
            )));
        }
        injected.error_rate = rate;
    }
    if let Some(name) = body.error_code {
        let code =
            parse_code(&name).ok_or_else(|| bad(format!("unknown error_code {name:?}\n")))?;
        injected.error_code = Some(code);
    }
    *shared.injected.write() = injected;
    tracing::info!(?injected, "admin: faults changed");
    Ok("faults set\n")
}

async fn block(State(shared): State<Arc<Shared>>) -> &'static str {
    set_blocked(&shared, true)
}

async fn unblock(State(shared): State<Arc<Shared>>) -> &'static str {
    set_blocked(&shared, false)
}

fn set_blocked(shared: &Shared, blocked: bool) -> &'static str {
    shared.set_blocked(blocked);
    tracing::info!(blocked, "admin: block state changed");
    if blocked {
        "blocked\n"
    } else {
        "unblocked\n"
    }
}
