//! The consumer's settings, read once per container from the environment.

use std::time::Duration;

/// The range SQS allows for a queue's maximum message size.
const MIN_MESSAGE_BYTES: usize = 1024;
const MAX_MESSAGE_BYTES: usize = 1_048_576;

/// Why the configuration is unusable. Each variant names the variable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid ({value:?}): {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
}

/// Everything the consumer needs besides the AWS SDK's own settings (region,
/// credentials, `AWS_ENDPOINT_URL`), which the SDK reads itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `TABLE_NAME`: the DynamoDB table holding location documents.
    pub table_name: String,
    /// `CACHE_NAME`: the Momento cache.
    pub cache_name: String,
    /// `MOMENTO_API_KEY_PARAMETER`: the SSM SecureString holding the Momento key.
    pub api_key_parameter: String,
    /// `DLQ_URL`: the SQS queue poison records are sent to.
    pub dead_letter_queue_url: String,
    /// `DLQ_MAX_MESSAGE_BYTES`: the queue's `MaximumMessageSize` (1,024 to
    /// 1,048,576; SQS's default 262,144), which Terraform sets on the queue
    /// and passes here: every letter is fitted to it.
    pub dead_letter_max_bytes: usize,
    /// `MOMENTO_ENDPOINT`: optional override (`http://127.0.0.1:9090` for the
    /// local double); unset means the endpoint the key names.
    pub momento_endpoint: Option<String>,
    /// `CACHE_TTL_SECONDS`: TTL of the documents written back to Momento.
    pub cache_ttl: Duration,
    /// `MOMENTO_TIMEOUT_MS`: deadline of one Momento call. Momento answers in
    /// ~2 ms from Lambda; past this DynamoDB is the faster answer.
    pub momento_timeout: Duration,
    /// `L1_TTL_SECONDS`: how long a document stays in the container's memory.
    pub l1_ttl: Duration,
    /// `L1_CAPACITY`: how many documents the container keeps.
    pub l1_capacity: usize,
    /// `NEGATIVE_TTL_SECONDS`: how long "not in the table" is remembered, so a
    /// stream full of one bad key costs one DynamoDB read per container per TTL.
    pub negative_ttl: Duration,
    /// `BREAKER_FAILURES`: consecutive Momento failures that open the breaker.
    pub breaker_failures: u32,
    /// `BREAKER_COOLDOWN_MS`: how long the open breaker skips Momento.
    pub breaker_cooldown: Duration,
    /// `DYNAMODB_ATTEMPTS`: BatchGetItem calls per chunk while keys come back unprocessed.
    pub dynamodb_attempts: u32,
    /// `DYNAMODB_TIMEOUT_MS`: timeout of one DynamoDB call attempt.
    pub dynamodb_timeout: Duration,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of the EMF metrics.
    pub metrics_namespace: String,
    /// `MOMENTO_KEY_REFRESH_SECONDS`: when Momento refuses the key, the
    /// parameter is read again at most this often.
    pub momento_key_refresh: Duration,
}

impl Config {
    /// The required names with every tunable at its default.
    pub fn new(
        table_name: impl Into<String>,
        cache_name: impl Into<String>,
        api_key_parameter: impl Into<String>,
        dead_letter_queue_url: impl Into<String>,
    ) -> Self {
        Self {
            table_name: table_name.into(),
            cache_name: cache_name.into(),
            api_key_parameter: api_key_parameter.into(),
            dead_letter_queue_url: dead_letter_queue_url.into(),
            dead_letter_max_bytes: crate::dead_letter::DEFAULT_MAX_MESSAGE_BYTES,
            momento_endpoint: None,
            cache_ttl: Duration::from_secs(600),
            momento_timeout: Duration::from_millis(150),
            l1_ttl: Duration::from_secs(60),
            l1_capacity: 10_000,
            negative_ttl: Duration::from_secs(30),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(5),
            dynamodb_attempts: 4,
            dynamodb_timeout: Duration::from_secs(1),
            metrics_namespace: "KinesisConsumer".to_owned(),
            momento_key_refresh: Duration::from_secs(30),
        }
    }

    /// Reads the process environment.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or invalid variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `var` (the environment, or a map in tests).
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing or invalid variable.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let mut config = Self::new(
            required("TABLE_NAME")?,
            required("CACHE_NAME")?,
            required("MOMENTO_API_KEY_PARAMETER")?,
            required("DLQ_URL")?,
        );
        config.momento_endpoint = var("MOMENTO_ENDPOINT").filter(|v| !v.trim().is_empty());
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                None => Ok(default),
                Some(value) => match value.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(ConfigError::Invalid {
                        name,
                        value,
                        reason: "expected a positive whole number",
                    }),
                },
            }
        };
        if let Some(value) = var("DLQ_MAX_MESSAGE_BYTES") {
            config.dead_letter_max_bytes = match value.trim().parse::<usize>() {
                Ok(n) if (MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&n) => n,
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "DLQ_MAX_MESSAGE_BYTES",
                        value,
                        reason: "expected the queue's MaximumMessageSize, 1024-1048576",
                    })
                }
            };
        }
        let secs = |d: Duration| d.as_secs();
        let millis = |d: Duration| d.as_millis() as u64;
        config.cache_ttl =
            Duration::from_secs(number("CACHE_TTL_SECONDS", secs(config.cache_ttl))?);
        config.momento_timeout = Duration::from_millis(number(
            "MOMENTO_TIMEOUT_MS",
            millis(config.momento_timeout),
        )?);
        config.l1_ttl = Duration::from_secs(number("L1_TTL_SECONDS", secs(config.l1_ttl))?);
        config.l1_capacity = number("L1_CAPACITY", config.l1_capacity as u64)? as usize;
        config.negative_ttl =
            Duration::from_secs(number("NEGATIVE_TTL_SECONDS", secs(config.negative_ttl))?);
        config.breaker_failures =
            u32::try_from(number("BREAKER_FAILURES", config.breaker_failures.into())?)
                .unwrap_or(u32::MAX);
        config.breaker_cooldown = Duration::from_millis(number(
            "BREAKER_COOLDOWN_MS",
            millis(config.breaker_cooldown),
        )?);
        config.dynamodb_attempts = u32::try_from(number(
            "DYNAMODB_ATTEMPTS",
            config.dynamodb_attempts.into(),
        )?)
        .unwrap_or(u32::MAX);
        config.dynamodb_timeout = Duration::from_millis(number(
            "DYNAMODB_TIMEOUT_MS",
            millis(config.dynamodb_timeout),
        )?);
        config.momento_key_refresh = Duration::from_secs(number(
            "MOMENTO_KEY_REFRESH_SECONDS",
            secs(config.momento_key_refresh),
        )?);
        if let Some(namespace) = var("METRICS_NAMESPACE").filter(|v| !v.trim().is_empty()) {
            config.metrics_namespace = namespace;
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    const REQUIRED: &[(&str, &str)] = &[
        ("TABLE_NAME", "Locations"),
        ("CACHE_NAME", "sample-a"),
        ("MOMENTO_API_KEY_PARAMETER", "/app/key"),
        ("DLQ_URL", "http://127.0.0.1:5000/123/dlq"),
    ];

    #[test]
    fn required_settings_and_defaults() {
        let config = Config::from_lookup(lookup(REQUIRED)).unwrap();
        assert_eq!(
            config,
            Config::new("Locations", "sample-a", "/app/key", REQUIRED[3].1)
        );
        assert_eq!(config.momento_timeout, Duration::from_millis(150));
    }

    #[test]
    fn names_the_missing_setting() {
        for skip in 0..REQUIRED.len() {
            let mut pairs = REQUIRED.to_vec();
            let (name, _) = pairs.remove(skip);
            let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        let mut blank = REQUIRED.to_vec();
        blank[0].1 = " ";
        assert_eq!(
            Config::from_lookup(lookup(&blank)).unwrap_err(),
            ConfigError::Missing("TABLE_NAME")
        );
    }

    #[test]
    fn parses_and_rejects_tunables() {
        let mut pairs = REQUIRED.to_vec();
        pairs.extend([
            ("MOMENTO_ENDPOINT", "http://127.0.0.1:9090"),
            ("MOMENTO_TIMEOUT_MS", "40"),
            ("L1_CAPACITY", "7"),
            ("BREAKER_COOLDOWN_MS", "250"),
        ]);
        let config = Config::from_lookup(lookup(&pairs)).unwrap();
        assert_eq!(
            config.momento_endpoint.as_deref(),
            Some("http://127.0.0.1:9090")
        );
        assert_eq!(config.momento_timeout, Duration::from_millis(40));
        assert_eq!(config.l1_capacity, 7);
        assert_eq!(config.breaker_cooldown, Duration::from_millis(250));

        let mut pairs = REQUIRED.to_vec();
        pairs.push(("DLQ_MAX_MESSAGE_BYTES", "65536"));
        assert_eq!(
            Config::from_lookup(lookup(&pairs))
                .unwrap()
                .dead_letter_max_bytes,
            65_536
        );
        for bad in ["1023", "1048577", "big"] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push(("DLQ_MAX_MESSAGE_BYTES", bad));
            assert!(Config::from_lookup(lookup(&pairs))
                .unwrap_err()
                .to_string()
                .contains("DLQ_MAX_MESSAGE_BYTES"));
        }

        for bad in ["0", "-1", "1.5", "soon"] {
            let mut pairs = REQUIRED.to_vec();
            pairs.push(("L1_TTL_SECONDS", bad));
            let err = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        name: "L1_TTL_SECONDS",
                        ..
                    }
                ),
                "{err}"
            );
        }
    }
}
