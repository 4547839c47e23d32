//! The gate every RPC passes before it reaches the services: authentication,
//! the `/block` switch, process-wide latency and error rate, and momento-local's
//! header-driven fault injection. A tower layer, so the services stay plain.
//!
//! Header semantics follow momento-local: `return-error` names a gRPC code in
//! kebab case (`unavailable`, `not-found`, ...), `error-rpcs` / `delay-rpcs`
//! list RPC names separated by spaces (`get set dictionary-get`), `delay-ms`
//! delays the reply (errors included), and `error-count` / `delay-count` limit
//! the fault to the first N matching requests of one `request-id`. For the
//! streaming RPCs, `stream-error-rpcs` / `stream-error` /
//! `stream-error-message-limit` end each matching stream with that error
//! after N messages (heartbeats count); [`StreamFault`] does that inside the
//! service, where the stream is made.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use http::{HeaderMap, Request, Response};
use parking_lot::Mutex;
use rand::Rng;
use tonic::body::Body;
use tonic::{Code, Status};

use crate::state::rpc::Rpc;
use crate::state::{Injected, Shared};

/// Fault settings the double starts with.
#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// When set, every RPC must carry exactly this `authorization` value
    /// (at start: `/api-keys` changes the accepted values later).
    pub api_key: Option<String>,
    /// Latency and error rate at start (`/faults` changes them later).
    pub injected: Injected,
}

/// Parses momento-local's kebab-case error names (`resource-exhausted`).
pub fn parse_code(name: &str) -> Option<Code> {
    Some(
        match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "unavailable" => Code::Unavailable,
            "unknown" => Code::Unknown,
            "already-exists" => Code::AlreadyExists,
            "not-found" => Code::NotFound,
            "internal" => Code::Internal,
            "permission-denied" => Code::PermissionDenied,
            "unauthenticated" => Code::Unauthenticated,
            "cancelled" => Code::Cancelled,
            "resource-exhausted" => Code::ResourceExhausted,
            "invalid-argument" => Code::InvalidArgument,
            "deadline-exceeded" => Code::DeadlineExceeded,
            "failed-precondition" => Code::FailedPrecondition,
            _ => return None,
        },
    )
}

/// How many matching requests of one `request-id` have been failed or delayed.
#[derive(Default)]
struct Session {
    errors: u64,
    delays: u64,
}

/// The fault state shared by all connections (the settings themselves are
/// in [`Shared`], where the admin API changes them).
#[derive(Default)]
pub struct Faults {
    sessions: Mutex<HashMap<String, Session>>,
}

/// What to do with one request.
#[derive(Debug, Default)]
struct Plan {
    delay: Duration,
    error: Option<Status>,
}

impl Faults {
    pub fn new() -> Self {
        Self::default()
    }

    fn plan(&self, shared: &Shared, headers: &HeaderMap, rpc: Rpc) -> Plan {
        let injected = *shared.injected.read();
        let mut plan = Plan {
            delay: injected.latency,
            error: None,
        };
        if let Some(keys) = &*shared.api_keys.read() {
            let given = headers.get("authorization").map(|v| v.as_bytes());
            if !keys.iter().any(|key| given == Some(key.as_bytes())) {
                // Never echo what was sent: it may be someone's real key.
                plan.error = Some(Status::unauthenticated("missing or wrong API key"));
                return plan;
            }
        }
        if shared.blocked() {
            plan.error = Some(Status::unavailable(
                "the cache double is blocked (simulated outage)",
            ));
            return plan;
        }
        if injected.error_rate > 0.0 && rand::rng().random_bool(injected.error_rate.min(1.0)) {
            let code = injected.error_code.unwrap_or(Code::Unavailable);
            plan.error = Some(Status::new(code, "injected by the error rate"));
        }
        if headers.contains_key("error-rpcs") || headers.contains_key("delay-rpcs") {
            self.plan_from_headers(headers, rpc, &mut plan);
        }
        plan
    }

    fn plan_from_headers(&self, headers: &HeaderMap, rpc: Rpc, plan: &mut Plan) {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let number = |name: &str| text(name).and_then(|v| v.trim().parse::<u64>().ok());
        let rpc = rpc.local_name();
        let listed = |name: &str| {
            !rpc.is_empty()
                && text(name).is_some_and(|list| list.split_whitespace().any(|r| r == rpc))
        };
        let session_id = text("request-id").unwrap_or_default().to_owned();
        let mut sessions = self.sessions.lock();
        let session = sessions.entry(session_id).or_default();

        if listed("delay-rpcs") {
            if let Some(ms) = number("delay-ms") {
                if number("delay-count").is_none_or(|limit| session.delays < limit) {
                    session.delays += 1;
                    plan.delay += Duration::from_millis(ms);
                }
            }
        }
        if listed("error-rpcs") {
            if let Some(code) = text("return-error").and_then(parse_code) {
                if number("error-count").is_none_or(|limit| session.errors < limit) {
                    session.errors += 1;
                    plan.error = Some(Status::new(
                        code,
                        format!("injected by return-error for {rpc}"),
                    ));
                }
            }
        }
    }
}

/// A `grpc-timeout` header's duration: digits, then H, M, S, m, u or n.
fn grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// momento-local's mid-stream error: after `after` messages, the stream ends
/// with `status`. Read per stream, so a client that reconnects with the same
/// headers meets it again.
#[derive(Debug, Clone)]
pub struct StreamFault {
    after: usize,
    status: Status,
}

pub type FaultyStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

impl StreamFault {
    /// The fault the headers ask for on `rpc`.
    pub fn from_headers(headers: &HeaderMap, rpc: Rpc) -> Option<Self> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let rpc = rpc.local_name();
        if !text("stream-error-rpcs")?
            .split_whitespace()
            .any(|r| r == rpc)
        {
            return None;
        }
        let code = parse_code(text("stream-error")?)?;
        let after = text("stream-error-message-limit")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        Some(Self {
            after,
            status: Status::new(code, format!("injected by stream-error for {rpc}")),
        })
    }

    /// `stream`, cut after `after` messages with the error.
    pub fn apply<T: Send + 'static>(
        self,
        stream: impl Stream<Item = Result<T, Status>> + Send + 'static,
    ) -> FaultyStream<T> {
        let error = futures::stream::once(async move { Err(self.status) });
        Box::pin(stream.take(self.after).chain(error))
    }
}

/// The tower layer that puts [`Gate`] in front of the services.
#[derive(Clone)]
pub struct GateLayer {
    shared: Arc<Shared>,
    faults: Arc<Faults>,
}

impl GateLayer {
    pub fn new(shared: Arc<Shared>, faults: Arc<Faults>) -> Self {
        Self { shared, faults }
    }
}

impl<S> tower::Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            layer: self.clone(),
        }
    }
}

/// Counts each call, applies the fault plan, and counts error replies.
#[derive(Clone)]
pub struct Gate<S> {
    inner: S,
    layer: GateLayer,
}

impl<S> tower::Service<Request<Body>> for Gate<S>
where
    S: tower::Service<Request<Body>, Response = Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let method = request.uri().path().rsplit('/').next().unwrap_or_default();
        let shared = self.layer.shared.clone();
        let rpc = Rpc::from_method(method);
        shared.stats.call(rpc);
        let plan = self.layer.faults.plan(&shared, request.headers(), rpc);
        // The clone-and-swap dance: the clone may not be ready, the original is.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let deadline = request
            .headers()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(grpc_timeout);
        Box::pin(async move {
            if !plan.delay.is_zero() {
                // A client that gives up first gets DEADLINE_EXCEEDED at its
                // deadline, as from a server across a network (tonic's own
                // timeout would answer CANCELLED).
                if let Some(deadline) = deadline.filter(|d| *d <= plan.delay) {
                    crate::delay::sleep(deadline).await;
                    shared.stats.error(rpc);
                    let status = Status::deadline_exceeded("the deadline passed before the reply");
                    return Ok(status.into_http());
                }
                crate::delay::sleep(plan.delay).await;
            }
            let response = match plan.error {
                Some(status) => status.into_http(),
                None => inner.call(request).await?,
            };
            let failed = response
                .headers()
                .get("grpc-status")
                .is_some_and(|code| code.as_bytes() != b"0");
            if failed {
                shared.stats.error(rpc);
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's deadline (`grpc-timeout`) shorter than the injected latency
    /// is answered DEADLINE_EXCEEDED at the deadline, as a server across a
    /// network would be seen to (tonic's own timeout answers CANCELLED).
    #[tokio::test]
    async fn a_deadline_shorter_than_the_latency_is_deadline_exceeded_at_the_deadline() {
        use tower::{Layer, Service};
        let shared = Arc::new(Shared::new(crate::store::Limits::default()));
        *shared.injected.write() = Injected {
            latency: Duration::from_millis(200),
            ..Default::default()
        };
        let layer = GateLayer::new(shared.clone(), Arc::new(Faults::new()));
        let inner = tower::service_fn(|_: Request<Body>| async {
            let mut ok = Response::new(Body::empty());
            ok.headers_mut()
                .insert("grpc-status", http::HeaderValue::from_static("0"));
            Ok::<_, Infallible>(ok)
        });
        let mut gate = layer.layer(inner);
        let call = |timeout: &'static str| {
            Request::builder()
                .uri("/cache_client.Scs/Get")
                .header("grpc-timeout", timeout)
                .body(Body::empty())
                .unwrap()
        };
        let started = std::time::Instant::now();
        let response = gate.call(call("30m")).await.unwrap();
        let took = started.elapsed();
        assert_eq!(response.headers()["grpc-status"], "4", "DEADLINE_EXCEEDED");
        assert!(
            took >= Duration::from_millis(30) && took < Duration::from_millis(200),
            "{took:?}"
        );
        let response = gate.call(call("5S")).await.unwrap();
        assert_eq!(
            response.headers()["grpc-status"],
            "0",
            "room for the latency: through"
        );
        assert_eq!(shared.stats.snapshot().rpcs["Get"].errors, 1);
    }

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(grpc_timeout("1m"), Some(Duration::from_millis(1)));
        assert_eq!(grpc_timeout("15S"), Some(Duration::from_secs(15)));
        assert_eq!(grpc_timeout("2500u"), Some(Duration::from_micros(2500)));
        assert_eq!(grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout("9x"), None);
        assert_eq!(grpc_timeout(""), None);
    }

    #[test]
    fn error_names_parse() {
        assert_eq!(
            parse_code("resource-exhausted"),
            Some(Code::ResourceExhausted)
        );
        assert_eq!(
            parse_code("deadline-exceeded"),
            Some(Code::DeadlineExceeded)
        );
        assert_eq!(parse_code("nonsense"), None);
    }
}
