//! Cold start: read the Momento key from SSM and build every client once.

use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_ssm::error::DisplayErrorContext;
use aws_sdk_ssm::types::ParameterType;
use cache_client::{connect, ApiKey, ClientSettings, ConnectError};

use crate::dead_letter::DeadLetters;
use crate::lookup::{KeySource, Table, TieredLookup};
use crate::{Config, Consumer, Output};

/// How the value Terraform writes into an out-of-band parameter begins
/// (`terraform/modules/api-key`; a test keeps the two equal).
pub const PLACEHOLDER_PREFIX: &str = "placeholder:";

/// Why the consumer could not start. Never contains the key.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("could not read SSM parameter {parameter} (MOMENTO_API_KEY_PARAMETER): {message}")]
    Parameter { parameter: String, message: String },
    #[error("SSM parameter {parameter} (MOMENTO_API_KEY_PARAMETER) is a {kind} parameter; store the Momento API key as a SecureString")]
    NotSecure { parameter: String, kind: String },
    #[error("SSM parameter {parameter} (MOMENTO_API_KEY_PARAMETER) has no value")]
    Empty { parameter: String },
    #[error("SSM parameter {parameter} (MOMENTO_API_KEY_PARAMETER) still holds Terraform's placeholder: put the Momento API key there (aws ssm put-parameter --overwrite --type SecureString --name {parameter} --value ...)")]
    Placeholder { parameter: String },
    #[error("could not build the Momento client: {0}")]
    Momento(#[from] ConnectError),
}

/// Reads the Momento API key from the SecureString `parameter`, decrypted.
///
/// # Errors
/// [`InitError`] if the parameter cannot be read, is not a SecureString, is
/// empty or still holds Terraform's placeholder.
pub async fn read_api_key(ssm: &aws_sdk_ssm::Client, parameter: &str) -> Result<ApiKey, InitError> {
    let output = ssm
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| InitError::Parameter {
            parameter: parameter.to_owned(),
            message: DisplayErrorContext(e).to_string(),
        })?;
    let found = output.parameter.ok_or_else(|| InitError::Empty {
        parameter: parameter.to_owned(),
    })?;
    match found.r#type {
        Some(ParameterType::SecureString) => {}
        other => {
            return Err(InitError::NotSecure {
                parameter: parameter.to_owned(),
                kind: other.map_or_else(|| "untyped".to_owned(), |t| t.as_str().to_owned()),
            })
        }
    }
    match found.value {
        Some(value) if value.trim().starts_with(PLACEHOLDER_PREFIX) => {
            Err(InitError::Placeholder {
                parameter: parameter.to_owned(),
            })
        }
        Some(value) if !value.trim().is_empty() => Ok(ApiKey::new(value.trim())),
        _ => Err(InitError::Empty {
            parameter: parameter.to_owned(),
        }),
    }
}

/// Builds the consumer: the key from SSM, then the Momento, DynamoDB and SQS
/// clients, and checks that the Momento cache exists (a missing cache is
/// logged at ERROR and counted in every batch's `MomentoCacheMissing`; the
/// consumer then runs on DynamoDB alone rather than failing).
///
/// # Errors
/// [`InitError`] if the key cannot be read or the Momento client cannot be built.
pub async fn init(config: &Config, sdk: &SdkConfig, output: Output) -> Result<Consumer, InitError> {
    let started = Instant::now();
    let api_key = read_api_key(&aws_sdk_ssm::Client::new(sdk), &config.api_key_parameter).await?;
    let ssm = started.elapsed();
    let mut settings = ClientSettings::new(config.momento_endpoint.as_deref(), api_key);
    settings.default_ttl = config.cache_ttl;
    settings.deadline = config.momento_timeout;
    let momento = connect(&settings)?;
    let key_source = KeySource::new(
        aws_sdk_ssm::Client::new(sdk),
        &config.api_key_parameter,
        settings,
        config.momento_key_refresh,
    );

    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(config.dynamodb_timeout)
        .build();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(sdk)
            .timeout_config(timeouts)
            .build(),
    );
    let table = Table::new(dynamodb, &config.table_name, config.dynamodb_attempts);
    let dead_letters =
        DeadLetters::new(aws_sdk_sqs::Client::new(sdk), &config.dead_letter_queue_url)
            .max_message_bytes(config.dead_letter_max_bytes);
    let lookup = TieredLookup::new(config, momento, table).with_key_source(key_source);
    let checking = Instant::now();
    lookup.check_cache().await;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    // Where a cold start's time goes (the benchmark reads this line too).
    tracing::info!(
        ssm_ms = ms(ssm),
        cache_check_ms = ms(checking.elapsed()),
        total_ms = ms(started.elapsed()),
        "consumer initialised"
    );
    Ok(Consumer::new(lookup, dead_letters, output))
}
