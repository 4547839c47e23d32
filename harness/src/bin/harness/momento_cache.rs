//! `harness momento-cache`: create the cache the consumer reads through.
//! Terraform cannot (Momento has no AWS provider resource), so a deploy runs
//! this once; an existing cache is success.

use clap::Args;
use momento::cache::CreateCacheResponse;

use crate::plumbing;

#[derive(Args)]
#[command(
    long_about = "Create the Momento cache the consumer reads through (idempotent).\n\n\
    Locally it creates it in the cache double `harness up` started. With --deployed it uses the \
    key in the MOMENTO_API_KEY environment variable (a key allowed to create caches; it is \
    never printed, and never needs to be the consumer's own key) and MOMENTO_ENDPOINT when the \
    key needs one."
)]
pub struct MomentoCacheArgs {
    /// The cache's name (the consumer's CACHE_NAME).
    #[arg(long, default_value_t = emulators::Names::default().cache)]
    cache: String,
    /// Create it in Momento itself (MOMENTO_API_KEY) instead of the local double.
    #[arg(long)]
    deployed: bool,
    /// Momento endpoint for --deployed (a v2 key needs one; see cache-client).
    #[arg(long, env = "MOMENTO_ENDPOINT")]
    endpoint: Option<String>,
}

impl MomentoCacheArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = if self.deployed {
            let key = std::env::var("MOMENTO_API_KEY").map_err(|_| {
                anyhow::anyhow!("set MOMENTO_API_KEY to a Momento API key that may create caches")
            })?;
            cache_client::ClientSettings::new(
                self.endpoint.as_deref(),
                cache_client::ApiKey::new(key.trim()),
            )
        } else {
            let environment = plumbing::require_environment()?;
            cache_client::ClientSettings::new(
                Some(&environment.momento_endpoint),
                cache_client::ApiKey::new(environment.api_key()),
            )
        };
        let client = cache_client::connect(&settings)?;
        match client.create_cache(&self.cache).await {
            Ok(CreateCacheResponse::Created) => {
                println!("created the Momento cache {}", self.cache)
            }
            Ok(CreateCacheResponse::AlreadyExists) => {
                println!("the Momento cache {} exists already", self.cache)
            }
            Err(error) => {
                anyhow::bail!("could not create the Momento cache {}: {error}", self.cache)
            }
        }
        Ok(())
    }
}
