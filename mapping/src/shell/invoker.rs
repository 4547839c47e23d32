//! What the mapping (and `redrive`) invokes: a function behind the Lambda
//! Invoke API (`cargo lambda watch`), a function through the AWS SDK's
//! Lambda client (a deployment), or any async function (the consumer
//! in-process, the purpose-built ones of the tests), within the function's
//! timeout. The response is returned as it came: the engine reads it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::Value;

pub use crate::engine::InvokeError;

/// Why a [`Function::handler`] failed: its message, as the function's error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Failed(pub String);

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for Failed {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

/// An async function from event (and the invocation's deadline, when the
/// mapping has a function timeout) to response.
pub type Handler = Arc<
    dyn Fn(Value, Option<Instant>) -> BoxFuture<'static, Result<Value, InvokeError>> + Send + Sync,
>;

#[derive(Clone)]
pub enum Function {
    /// `POST {url}` with the event, as the Lambda Invoke API takes it, e.g.
    /// `http://127.0.0.1:9000/2015-03-31/functions/bootstrap/invocations`.
    Invoke {
        url: String,
        client: reqwest::Client,
    },
    /// `lambda:Invoke` (RequestResponse) through the AWS SDK, of `qualifier`
    /// (an alias or a version; `None`: `$LATEST`).
    Lambda {
        client: aws_sdk_lambda::Client,
        name: String,
        qualifier: Option<String>,
    },
    Handler(Handler),
}

impl Function {
    pub fn invoke_api(url: impl Into<String>) -> Self {
        Function::Invoke {
            url: url.into(),
            client: reqwest::Client::new(),
        }
    }

    /// A function whose `Err` is a function error.
    pub fn handler<F, Fut>(f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, Failed>> + Send + 'static,
    {
        let f = Arc::new(f);
        Function::Handler(Arc::new(move |event, _deadline| {
            let f = f.clone();
            Box::pin(async move {
                f(event)
                    .await
                    .map_err(|Failed(message)| InvokeError::Function(message))
            })
        }))
    }

    /// A function that can also fail before it runs (a throttle, say).
    pub fn service<F, Fut>(f: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, InvokeError>> + Send + 'static,
    {
        Function::Handler(Arc::new(move |event, _deadline| Box::pin(f(event))))
    }

    /// A function that learns its invocation's deadline, as a Lambda
    /// handler does from its context: `None` when the mapping sets no
    /// function timeout.
    pub fn service_until<F, Fut>(f: F) -> Self
    where
        F: Fn(Value, Option<Instant>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Value, InvokeError>> + Send + 'static,
    {
        Function::Handler(Arc::new(move |event, deadline| {
            Box::pin(f(event, deadline))
        }))
    }

    /// Invokes the function once, failing it (as a function error) if it
    /// takes longer than `timeout`.
    pub async fn invoke_within(
        &self,
        event: Value,
        timeout: Option<Duration>,
    ) -> Result<Value, InvokeError> {
        match timeout {
            None => self.invoke(event).await,
            Some(timeout) => tokio::time::timeout(
                timeout,
                self.invoke_until(event, Some(Instant::now() + timeout)),
            )
            .await
            .unwrap_or_else(|_| {
                Err(InvokeError::Function(format!(
                    "Task timed out after {:.2} seconds",
                    timeout.as_secs_f64()
                )))
            }),
        }
    }

    /// Invokes the function once. `Err` means the invocation failed as a
    /// whole: [`InvokeError::Function`] if it ran, [`InvokeError::Service`]
    /// if it never got the batch.
    pub async fn invoke(&self, event: Value) -> Result<Value, InvokeError> {
        self.invoke_until(event, None).await
    }

    async fn invoke_until(
        &self,
        event: Value,
        deadline: Option<Instant>,
    ) -> Result<Value, InvokeError> {
        use InvokeError::{Function as Failed, Service};
        match self {
            Function::Invoke { url, client } => {
                let response = client
                    .post(url)
                    .json(&event)
                    .send()
                    .await
                    .map_err(|e| Service(format!("invoke {url}: {e}")))?;
                let status = response.status();
                if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                    return Err(Service(format!("invoke {url}: throttled ({status})")));
                }
                let failed =
                    response.headers().contains_key("x-amz-function-error") || !status.is_success();
                let body = response.text().await.map_err(|e| Failed(e.to_string()))?;
                if failed {
                    return Err(Failed(format!("function error ({status}): {body}")));
                }
                if body.trim().is_empty() || body.trim() == "null" {
                    return Ok(Value::Null);
                }
                serde_json::from_str(&body)
                    .map_err(|e| Failed(format!("response is not JSON: {e}")))
            }
            Function::Lambda {
                client,
                name,
                qualifier,
            } => {
                let output = client
                    .invoke()
                    .function_name(name)
                    .set_qualifier(qualifier.clone())
                    .payload(aws_sdk_lambda::primitives::Blob::new(event.to_string()))
                    .send()
                    .await
                    .map_err(|e| {
                        Service(format!(
                            "lambda:Invoke {name}: {}",
                            aws_sdk_lambda::error::DisplayErrorContext(e)
                        ))
                    })?;
                let body = output
                    .payload()
                    .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                    .unwrap_or_default();
                if let Some(error) = output.function_error() {
                    return Err(Failed(format!("function error ({error}): {body}")));
                }
                if body.trim().is_empty() || body.trim() == "null" {
                    return Ok(Value::Null);
                }
                serde_json::from_str(&body)
                    .map_err(|e| Failed(format!("response is not JSON: {e}")))
            }
            Function::Handler(handler) => handler(event, deadline).await,
        }
    }
}
