//! A loopback HTTP proxy in front of an emulator's AWS JSON API (SQS,
//! Kinesis, DynamoDB) that lets a test answer chosen calls itself: how the
//! tests make moto refuse or throttle individual entries, which moto never
//! does on its own.

use std::future::Future;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response};

/// One call through the proxy, with the means to pass it (or an edited
/// body) on to the emulator.
pub struct Call {
    operation: String,
    body: Vec<u8>,
    headers: HeaderMap,
    upstream: Arc<Upstream>,
}

impl Call {
    /// The operation, from `X-Amz-Target` (`SendMessageBatch`, `PutRecords`).
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The request body (JSON).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Sends `body` to the emulator with the call's headers; returns the
    /// status and body of its answer.
    ///
    /// # Panics
    /// If the emulator cannot be reached: this is test plumbing.
    pub async fn forward(&self, body: Vec<u8>) -> (u16, Vec<u8>) {
        let mut request = self.upstream.http.post(&self.upstream.url).body(body);
        for (name, value) in &self.headers {
            if name != "host" && name != "content-length" {
                request = request.header(name.as_str(), value.as_bytes());
            }
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("the emulator's body");
        (status, body.to_vec())
    }
}

/// What a test does with each call: answer it, forward it, or forward an
/// edited body and amend the answer. Returns the status and JSON body.
pub trait Intercept: Send + Sync + 'static {
    fn call(&self, call: Call) -> impl Future<Output = (u16, Vec<u8>)> + Send;
}

struct Upstream {
    url: String,
    http: reqwest::Client,
}

struct Proxy<I> {
    upstream: Arc<Upstream>,
    intercept: Arc<I>,
}

/// Starts a proxy on a free loopback port in front of `upstream` (an
/// emulator's endpoint); returns the proxy's endpoint. It serves until the
/// runtime ends.
///
/// # Panics
/// If no loopback port can be bound.
pub async fn start<I: Intercept>(upstream: &str, intercept: Arc<I>) -> String {
    let state = Arc::new(Proxy {
        upstream: Arc::new(Upstream {
            url: upstream.to_owned(),
            http: reqwest::Client::new(),
        }),
        intercept,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
    let app = axum::Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    endpoint
}

async fn handle<I: Intercept>(
    State(proxy): State<Arc<Proxy<I>>>,
    request: Request<Body>,
) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default()
        .to_vec();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    // AWS answers in the JSON protocol version it was asked in (SQS 1.0,
    // Kinesis 1.1).
    let content_type = parts
        .headers
        .get("content-type")
        .cloned()
        .unwrap_or_else(|| "application/x-amz-json-1.1".parse().expect("valid"));
    let call = Call {
        operation,
        body,
        headers: parts.headers,
        upstream: proxy.upstream.clone(),
    };
    let (status, out) = proxy.intercept.call(call).await;
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::from(out))
        .expect("a valid response")
}
