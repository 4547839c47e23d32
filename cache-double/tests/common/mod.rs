//! What the conformance suites share: a double on ephemeral ports with one
//! cache, the real SDK client for it, and the generated client for requests
//! the SDK cannot make.
#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{CacheDouble, DoubleConfig};
use momento::cache::GetResponse;
use momento::{CacheClient, MomentoErrorCode};
use momento_protos::cache_client as pb;
use momento_protos::cache_client::scs_client::ScsClient;
use tonic::metadata::MetadataValue;

pub const CACHE: &str = "conformance";
pub const SECRET: &str = "conformance-secret";

pub async fn start(config: DoubleConfig) -> CacheDouble {
    let config = DoubleConfig {
        caches: vec![CACHE.into()],
        ..config
    };
    CacheDouble::start(config).await.expect("double starts")
}

pub fn client_with_key(double: &CacheDouble, secret: &str) -> CacheClient {
    let mut settings =
        ClientSettings::new(Some(&double.endpoint()), ApiKey::new(local_api_key(secret)));
    settings.deadline = Duration::from_secs(5);
    connect(&settings).expect("client builds")
}

pub async fn setup() -> (CacheDouble, CacheClient) {
    let double = start(DoubleConfig::default()).await;
    let client = client_with_key(&double, SECRET);
    (double, client)
}

pub fn code<T: std::fmt::Debug>(result: momento::MomentoResult<T>) -> MomentoErrorCode {
    result.expect_err("expected an error").error_code
}

pub async fn get_string(client: &CacheClient, key: &str) -> Option<String> {
    match client.get(CACHE, key).await.expect("get succeeds") {
        GetResponse::Hit { value } => Some(value.try_into().expect("utf-8")),
        GetResponse::Miss => None,
    }
}

/// The generated gRPC client, for requests the SDK cannot make.
pub async fn raw(double: &CacheDouble) -> ScsClient<tonic::transport::Channel> {
    ScsClient::connect(double.endpoint())
        .await
        .expect("raw client connects")
}

pub fn raw_request<T>(message: T, headers: &[(&'static str, &str)]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("cache", MetadataValue::from_static(CACHE));
    for (name, value) in headers {
        request
            .metadata_mut()
            .insert(*name, value.parse().expect("ascii header"));
    }
    request
}

pub fn raw_get(key: &str, headers: &[(&'static str, &str)]) -> tonic::Request<pb::GetRequest> {
    raw_request(
        pb::GetRequest {
            cache_key: key.as_bytes().to_vec(),
        },
        headers,
    )
}

/// The SDK's topic client for the double.
pub fn topic_client(double: &CacheDouble) -> momento::TopicClient {
    let settings =
        ClientSettings::new(Some(&double.endpoint()), ApiKey::new(local_api_key(SECRET)));
    momento::TopicClient::builder()
        .configuration(momento::topics::configurations::Laptop::latest())
        .credential_provider(settings.credential_provider().expect("credentials"))
        .build()
        .expect("topic client builds")
}
