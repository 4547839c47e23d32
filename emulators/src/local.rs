//! moto server and an in-process cache double, provisioned: what tests and
//! benchmarks start before they build a consumer.

use aws_config::SdkConfig;
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{CacheDouble, DoubleConfig, FaultConfig};

use crate::{provision, sdk_config, EmulatorError, MotoServer, Names, Provisioned};

/// Everything runs on free loopback ports and stops when this is dropped.
pub struct Emulators {
    pub moto: MotoServer,
    /// Requires `secret` as its API key.
    pub double: CacheDouble,
    pub sdk: SdkConfig,
    pub names: Names,
    pub provisioned: Provisioned,
    /// The Momento key (a v1 key wrapping `secret`), also in the SSM parameter.
    pub api_key: String,
}

impl Emulators {
    /// Starts moto and a double that requires `secret`, then provisions the
    /// default names with the key wrapping `secret` in SSM.
    ///
    /// # Errors
    /// If either cannot start or provisioning fails.
    pub async fn start(secret: &str) -> Result<Self, EmulatorError> {
        let moto = MotoServer::start().await?;
        let names = Names::default();
        let double = CacheDouble::start(DoubleConfig {
            faults: FaultConfig {
                api_key: Some(secret.to_owned()),
                ..Default::default()
            },
            caches: vec![names.cache.clone()],
            ..Default::default()
        })
        .await?;
        let api_key = local_api_key(secret);
        let sdk = sdk_config(moto.endpoint(), &names.region).await;
        let momento = connect(&ClientSettings::new(
            Some(&double.endpoint()),
            ApiKey::new(api_key.clone()),
        ))
        .map_err(|e| EmulatorError::Momento {
            operation: "connect",
            message: e.to_string(),
        })?;
        let provisioned = provision(&sdk, &momento, &names, &api_key).await?;
        Ok(Self {
            moto,
            double,
            sdk,
            names,
            provisioned,
            api_key,
        })
    }

    /// A Momento client of our own for the double.
    ///
    /// # Panics
    /// Never for the key this was started with.
    pub fn momento(&self) -> momento::CacheClient {
        connect(&ClientSettings::new(
            Some(&self.double.endpoint()),
            ApiKey::new(self.api_key.clone()),
        ))
        .expect("the local key is valid")
    }
}
