//! AWS SDK configuration for an emulator endpoint.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kinesis::config::Credentials;

/// SDK configuration pointing every client at `endpoint` (e.g. moto server),
/// with fixed fake credentials so nothing reads the developer's real ones.
pub async fn sdk_config(endpoint: &str, region: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "emulators"))
        .load()
        .await
}
