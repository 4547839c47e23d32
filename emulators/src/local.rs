//! The AWS emulator (moto server, or one already running) and an in-process
//! cache double, provisioned: what tests and benchmarks start before they
//! build a consumer.

use aws_config::SdkConfig;
use cache_client::{connect, local_api_key, ApiKey, ClientSettings};
use cache_double::{CacheDouble, DoubleConfig, FaultConfig};

use crate::{provision, sdk_config, EmulatorError, MotoServer, Names, Provisioned};

/// What serves the AWS APIs.
pub enum Aws {
    /// moto server on a free loopback port, stopped with this value.
    Moto(MotoServer),
    /// An emulator that runs on its own, e.g. LocalStack from the project's
    /// `docker-compose.yml`.
    Running { endpoint: String },
}

impl Aws {
    pub fn endpoint(&self) -> &str {
        match self {
            Aws::Moto(moto) => moto.endpoint(),
            Aws::Running { endpoint } => endpoint,
        }
    }
}

/// Everything runs on loopback ports; what was started here stops when this
/// is dropped.
pub struct Emulators {
    pub aws: Aws,
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
        Self::start_with(secret, Aws::Moto(moto), Names::default()).await
    }

    /// Starts a double that requires `secret` and provisions `names` on `aws`.
    ///
    /// # Errors
    /// If the double cannot start or provisioning fails.
    pub async fn start_with(secret: &str, aws: Aws, names: Names) -> Result<Self, EmulatorError> {
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
        let sdk = sdk_config(aws.endpoint(), &names.region).await;
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
            aws,
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
