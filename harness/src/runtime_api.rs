//! The Lambda Runtime API, so a built `bootstrap` runs the way Lambda runs
//! it: the process polls `GET /2018-06-01/runtime/invocation/next`, gets one
//! event, posts its response (or error) and polls again. [`RuntimeApi`]
//! serves those routes on a loopback port and hands events in through
//! [`RuntimeApi::invoke`]; it records when the process first asked for an
//! event, which is where Lambda's init phase ends.
//!
//! Only what a custom runtime uses: `next`, `response`, `error` and
//! `init/error`, with the request id, deadline and function ARN headers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Notify};

/// The outcome of one invocation.
pub type Outcome = Result<Value, String>;

struct Pending {
    request_id: String,
    event: Value,
    reply: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Shared {
    /// When the process first asked for an event (its init was done).
    first_poll: Mutex<Option<Instant>>,
    /// Set by `init/error`.
    init_error: Mutex<Option<String>>,
    /// How many times the process asked for an event: it asks again when
    /// it is done with one, which is where Lambda ends an invocation.
    polls: AtomicU64,
    polled: Notify,
    /// Invocations handed out and waiting for their response, by request id.
    in_flight: Mutex<Vec<(String, oneshot::Sender<Outcome>)>>,
}

/// A Runtime API endpoint for one function process.
pub struct RuntimeApi {
    address: std::net::SocketAddr,
    shared: Arc<Shared>,
    events: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
}

struct AppState {
    shared: Arc<Shared>,
    events: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    function_arn: String,
    /// The function's timeout: each event's deadline header is this far
    /// from when it is handed out.
    timeout: Duration,
}

impl RuntimeApi {
    /// Serves on a free port of 127.0.0.1 for the function `function_arn`
    /// whose timeout is `timeout`.
    ///
    /// # Errors
    /// If no loopback port can be bound.
    pub async fn start(function_arn: &str, timeout: Duration) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let (events, receiver) = mpsc::channel(1);
        let state = Arc::new(AppState {
            shared: shared.clone(),
            events: tokio::sync::Mutex::new(receiver),
            function_arn: function_arn.to_owned(),
            timeout,
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            shared,
            events,
            server,
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function process.
    pub fn host(&self) -> String {
        self.address.to_string()
    }

    /// Waits until the process asks for its first event (init is done) or
    /// reports an init error; returns when it asked.
    ///
    /// # Errors
    /// The process's init error, or a timeout.
    pub async fn ready(&self, within: Duration) -> Result<Instant, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let polled = self.shared.polled.notified();
            if let Some(at) = *self.shared.first_poll.lock() {
                return Ok(at);
            }
            if let Some(error) = self.shared.init_error.lock().clone() {
                return Err(format!("init failed: {error}"));
            }
            if tokio::time::timeout_at(deadline, polled).await.is_err() {
                return Err(format!(
                    "the function did not ask for an event within {within:?}"
                ));
            }
        }
    }

    /// How many times the process has asked for an event so far.
    pub fn polls(&self) -> u64 {
        self.shared.polls.load(Ordering::Acquire)
    }

    /// Waits until the process has asked for an event more than `polls`
    /// times: it is done with the one it had.
    pub async fn polled_after(&self, polls: u64) {
        loop {
            let polled = self.shared.polled.notified();
            if self.polls() > polls {
                return;
            }
            polled.await;
        }
    }

    /// Hands `event` to the process's next poll and waits for its response.
    /// `Err` is a function error (or the process went away).
    pub async fn invoke(&self, event: Value) -> Outcome {
        self.invoke_as(uuid::Uuid::new_v4().to_string(), event)
            .await
    }

    /// [`invoke`](Self::invoke) under a request id of the caller's (the one
    /// its log lines name).
    pub async fn invoke_as(&self, request_id: String, event: Value) -> Outcome {
        let (reply, outcome) = oneshot::channel();
        self.events
            .send(Pending {
                request_id,
                event,
                reply,
            })
            .await
            .map_err(|_| "the runtime API stopped".to_owned())?;
        outcome
            .await
            .unwrap_or_else(|_| Err("the function never answered".to_owned()))
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(state): State<Arc<AppState>>) -> Response {
    {
        let mut first = state.shared.first_poll.lock();
        if first.is_none() {
            *first = Some(Instant::now());
        }
    }
    state.shared.polls.fetch_add(1, Ordering::AcqRel);
    state.shared.polled.notify_waiters();
    let Some(pending) = state.events.lock().await.recv().await else {
        return StatusCode::GONE.into_response();
    };
    let id = pending.request_id;
    state
        .shared
        .in_flight
        .lock()
        .push((id.clone(), pending.reply));
    let deadline = chrono::Utc::now() + state.timeout;
    let mut headers = HeaderMap::new();
    let mut header = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    header("lambda-runtime-aws-request-id", id);
    header(
        "lambda-runtime-deadline-ms",
        deadline.timestamp_millis().to_string(),
    );
    header(
        "lambda-runtime-invoked-function-arn",
        state.function_arn.clone(),
    );
    header(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000;Sampled=0".to_owned(),
    );
    header("content-type", "application/json".to_owned());
    (StatusCode::OK, headers, pending.event.to_string()).into_response()
}

fn finish(state: &AppState, id: &str, outcome: Outcome) -> StatusCode {
    let mut in_flight = state.shared.in_flight.lock();
    match in_flight.iter().position(|(pending, _)| pending == id) {
        Some(index) => {
            let (_, reply) = in_flight.swap_remove(index);
            let _ = reply.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    let outcome = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|e| format!("response is not JSON: {e}"))
    };
    finish(&state, &id, outcome)
}

async fn error(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    finish(
        &state,
        &id,
        Err(format!(
            "function error: {}",
            String::from_utf8_lossy(&body)
        )),
    )
}

async fn init_error(State(state): State<Arc<AppState>>, body: Bytes) -> StatusCode {
    *state.shared.init_error.lock() = Some(String::from_utf8_lossy(&body).into_owned());
    state.shared.polled.notify_waiters();
    StatusCode::ACCEPTED
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client that speaks the Runtime API as a custom runtime does.
    #[tokio::test]
    async fn serves_an_event_and_takes_the_response() {
        let before = chrono::Utc::now();
        let api = RuntimeApi::start(
            "arn:aws:lambda:us-east-1:000000000000:function:f",
            Duration::from_secs(3),
        )
        .await
        .unwrap();
        let base = format!("http://{}/2018-06-01/runtime", api.host());
        let function = tokio::spawn(async move {
            let http = reqwest::Client::new();
            let next = http
                .get(format!("{base}/invocation/next"))
                .send()
                .await
                .unwrap();
            let id = next.headers()["lambda-runtime-aws-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let deadline: i64 = next.headers()["lambda-runtime-deadline-ms"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let from_start = deadline - before.timestamp_millis();
            assert!((3000..4000).contains(&from_start), "{from_start} ms");
            let event: Value = next.json().await.unwrap();
            http.post(format!("{base}/invocation/{id}/response"))
                .json(&serde_json::json!({ "echo": event }))
                .send()
                .await
                .unwrap();
        });
        let answer = api.invoke(serde_json::json!({ "Records": [] })).await;
        assert_eq!(answer, Ok(serde_json::json!({ "echo": { "Records": [] } })));
        assert!(api.ready(Duration::from_secs(1)).await.is_ok());
        function.await.unwrap();
    }
}
