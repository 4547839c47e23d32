//! One way to build a Momento [`CacheClient`], shared by the consumer, the
//! harness and the tests, so that "talk to the real service" and "talk to the
//! cache double on 127.0.0.1" differ only in the endpoint string.
//!
//! - no endpoint: the key is a legacy v1 key that carries its own endpoint;
//! - `http://host:port`: plaintext gRPC to that address (the cache double);
//! - `https://host:port`: TLS to that address;
//! - a bare host such as `cell-4-us-east-1-1.prod.a.momentohq.com`: the
//!   service's base endpoint (required for v2 keys).
//!
//! The API key is never put into an error message or a `Debug` string.

use std::fmt;
use std::time::Duration;

use base64::Engine;
use momento::cache::Configuration;
use momento::{CacheClient, CredentialProvider};

/// Why a client could not be built. Messages never contain the key.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("the Momento API key is empty")]
    EmptyKey,
    #[error("a v2 Momento API key needs an endpoint (set MOMENTO_ENDPOINT)")]
    EndpointRequired,
    #[error("the Momento API key is not valid: {0}")]
    InvalidKey(String),
    #[error("could not build the Momento client: {0}")]
    Build(String),
}

/// An API key that cannot leak through `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// v2 keys are JWTs (three dot-separated segments); v1 keys are one base64 blob.
    fn is_v2(&self) -> bool {
        self.0.split('.').count() == 3
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// How to reach Momento: the settings a [`CacheClient`] is built from.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// See the crate docs for the accepted forms; `None` uses the key's own endpoint.
    pub endpoint: Option<String>,
    pub api_key: ApiKey,
    /// TTL for sets that do not name one.
    pub default_ttl: Duration,
    /// Per-request deadline. The SDK's laptop preset uses 15 s, far too long
    /// for a Lambda that must fall back to DynamoDB quickly.
    pub deadline: Duration,
    /// gRPC channels (HTTP/2 connections). One suits a Lambda; a load test on
    /// many cores wants more, since one connection serialises its frames.
    pub connections: usize,
}

impl ClientSettings {
    /// Settings for `endpoint` and `api_key` with a 1.1 s deadline (the SDK's
    /// Lambda preset), one connection and a 10 minute default TTL.
    pub fn new(endpoint: Option<&str>, api_key: ApiKey) -> Self {
        Self {
            endpoint: endpoint.map(str::to_owned),
            api_key,
            default_ttl: Duration::from_secs(600),
            deadline: Duration::from_millis(1100),
            connections: 1,
        }
    }

    /// The credential provider these settings describe.
    ///
    /// # Errors
    /// [`ConnectError`] if the key is empty, malformed, or a v2 key has no endpoint.
    pub fn credential_provider(&self) -> Result<CredentialProvider, ConnectError> {
        let key = &self.api_key;
        if key.0.is_empty() {
            return Err(ConnectError::EmptyKey);
        }
        let endpoint = self.endpoint.as_deref();
        let base = match endpoint {
            Some(e) if !e.contains("://") && key.is_v2() => {
                CredentialProvider::from_api_key_v2(key.expose(), e)
            }
            _ if key.is_v2() => match endpoint {
                Some(_) => CredentialProvider::from_api_key_v2(key.expose(), "localhost"),
                None => return Err(ConnectError::EndpointRequired),
            },
            #[allow(deprecated)] // v1 keys are still what local setups and older accounts use
            _ => CredentialProvider::from_string(key.expose()),
        }
        .map_err(|e| ConnectError::InvalidKey(e.message))?;
        Ok(match endpoint {
            Some(e) if e.starts_with("http://") => base.insecure_endpoint_override(e),
            Some(e) if e.starts_with("https://") => base.secure_endpoint_override(e),
            Some(e) if !key.is_v2() => base.base_endpoint(e),
            _ => base,
        })
    }

    /// The SDK configuration for these settings. Like the SDK's Lambda preset
    /// it sends no keep-alive pings: a frozen Lambda cannot answer them, and a
    /// thawed one would then find its connection closed.
    pub fn configuration(&self) -> Configuration {
        use momento::config::grpc_configuration::GrpcConfiguration;
        use momento::config::transport_strategy::TransportStrategy;
        Configuration::builder()
            .transport_strategy(
                TransportStrategy::builder()
                    .grpc_configuration(GrpcConfiguration::builder().deadline(self.deadline)),
            )
            .build()
    }
}

/// Builds a [`CacheClient`] from `settings`. Connections are made lazily, on
/// the first request, so this does no network I/O.
///
/// # Errors
/// [`ConnectError`] if the key is unusable or the SDK rejects the settings.
///
/// # Example
/// ```no_run
/// use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
/// let key = ApiKey::new(local_api_key("local-secret"));
/// let client = connect(&ClientSettings::new(Some("http://127.0.0.1:9090"), key))?;
/// # Ok::<(), cache_client::ConnectError>(())
/// ```
pub fn connect(settings: &ClientSettings) -> Result<CacheClient, ConnectError> {
    CacheClient::builder()
        .default_ttl(settings.default_ttl)
        .configuration(settings.configuration())
        .credential_provider(settings.credential_provider()?)
        .with_num_connections(settings.connections.max(1))
        .build()
        .map_err(|e| ConnectError::Build(e.message))
}

/// A legacy (v1) Momento key wrapping `secret`: URL-safe base64 of
/// `{"api_key": secret, "endpoint": "localhost"}`. The SDK sends `secret` as
/// the `authorization` header, which is what the cache double checks.
pub fn local_api_key(secret: &str) -> String {
    let json = serde_json::json!({ "api_key": secret, "endpoint": "localhost" });
    base64::engine::general_purpose::URL_SAFE.encode(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_key_decodes_to_the_secret() {
        let provider = ClientSettings::new(
            Some("http://127.0.0.1:1"),
            ApiKey::new(local_api_key("s3cret")),
        )
        .credential_provider()
        .unwrap();
        assert_eq!(provider.auth_token(), "s3cret");
    }

    #[test]
    fn errors_and_debug_never_show_the_key() {
        let key = ApiKey::new("not-base64-!!-secret-value");
        let settings = ClientSettings::new(None, key);
        let err = settings.credential_provider().unwrap_err();
        for text in [err.to_string(), format!("{err:?}"), format!("{settings:?}")] {
            assert!(!text.contains("secret-value"), "leaked in {text}");
        }
    }

    #[test]
    fn v2_key_without_endpoint_is_refused() {
        let jwt = ApiKey::new("aaa.eyJ0IjoiZyJ9.ccc");
        let err = ClientSettings::new(None, jwt)
            .credential_provider()
            .unwrap_err();
        assert!(matches!(err, ConnectError::EndpointRequired));
    }

    #[test]
    fn empty_key_is_refused() {
        let err = ClientSettings::new(None, ApiKey::new(""))
            .credential_provider()
            .unwrap_err();
        assert!(matches!(err, ConnectError::EmptyKey));
    }
}
