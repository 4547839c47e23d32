//! Creates the system's resources on an emulator, idempotently.

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_kinesis::types::{StreamMode, StreamModeDetails};
use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_ssm::types::ParameterType;
use momento::CacheClient;

use crate::{EmulatorError, Names};

/// The dead-letter queue's `MaximumMessageSize`, as Terraform's stack sets
/// it by default (`queues.dlq_max_message_size`); the consumer is told it
/// (`DLQ_MAX_MESSAGE_BYTES`) and fits every letter to it.
pub const DEAD_LETTER_MAX_MESSAGE_BYTES: usize = 262_144;

/// What [`provision`] created (or found).
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub stream_arn: String,
    pub dead_letter_queue_url: String,
    pub dead_letter_queue_arn: String,
    pub on_failure_queue_url: String,
    pub on_failure_queue_arn: String,
}

/// Creates the ON_DEMAND stream, the `Locations` table with the article's
/// Car/Diner/House items, the SecureString parameter holding `momento_api_key`,
/// the dead-letter queue (SSE on) and the cache. Running it again changes
/// nothing but the parameter value and the seed items, which it rewrites.
///
/// # Errors
/// [`EmulatorError::Aws`] / [`EmulatorError::Momento`] naming the failed call.
pub async fn provision(
    sdk: &SdkConfig,
    cache: &CacheClient,
    names: &Names,
    momento_api_key: &str,
) -> Result<Provisioned, EmulatorError> {
    let stream_arn = create_stream(&aws_sdk_kinesis::Client::new(sdk), &names.stream).await?;
    create_table(&aws_sdk_dynamodb::Client::new(sdk), &names.table).await?;
    aws_sdk_ssm::Client::new(sdk)
        .put_parameter()
        .name(&names.parameter)
        .description("Momento API key for the Kinesis consumer (local emulator)")
        .r#type(ParameterType::SecureString)
        .value(momento_api_key)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| EmulatorError::aws("ssm:PutParameter", e))?;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let (dead_letter_queue_url, dead_letter_queue_arn) = create_queue(
        &sqs,
        &names.dead_letter_queue,
        Some(DEAD_LETTER_MAX_MESSAGE_BYTES),
    )
    .await?;
    let (on_failure_queue_url, on_failure_queue_arn) =
        create_queue(&sqs, &names.on_failure_queue, None).await?;
    cache
        .create_cache(&names.cache)
        .await
        .map_err(|e| EmulatorError::Momento {
            operation: "CreateCache",
            message: e.to_string(),
        })?;
    Ok(Provisioned {
        stream_arn,
        dead_letter_queue_url,
        dead_letter_queue_arn,
        on_failure_queue_url,
        on_failure_queue_arn,
    })
}

async fn create_stream(
    kinesis: &aws_sdk_kinesis::Client,
    name: &str,
) -> Result<String, EmulatorError> {
    let created = kinesis
        .create_stream()
        .stream_name(name)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("stream mode is set"),
        )
        .send()
        .await;
    if let Err(e) = created {
        if !e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception())
        {
            return Err(EmulatorError::aws("kinesis:CreateStream", e));
        }
    }
    crate::stream_arn(kinesis, name).await
}

async fn create_table(
    dynamodb: &aws_sdk_dynamodb::Client,
    name: &str,
) -> Result<(), EmulatorError> {
    let created = dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("location")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute is complete"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("location")
                .key_type(KeyType::Hash)
                .build()
                .expect("key is complete"),
        )
        .send()
        .await;
    if let Err(e) = created {
        if !e
            .as_service_error()
            .is_some_and(|s| s.is_resource_in_use_exception())
        {
            return Err(EmulatorError::aws("dynamodb:CreateTable", e));
        }
    }
    for item in model::sample_locations() {
        dynamodb
            .put_item()
            .table_name(name)
            .item("location", AttributeValue::S(item.location))
            .item("description", AttributeValue::S(item.description))
            .item("notes", AttributeValue::S(item.notes))
            .send()
            .await
            .map_err(|e| EmulatorError::aws("dynamodb:PutItem", e))?;
    }
    Ok(())
}

async fn create_queue(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
    max_message_bytes: Option<usize>,
) -> Result<(String, String), EmulatorError> {
    let mut create = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600");
    if let Some(bytes) = max_message_bytes {
        create = create.attributes(QueueAttributeName::MaximumMessageSize, bytes.to_string());
    }
    let url = create
        .send()
        .await
        .map_err(|e| EmulatorError::aws("sqs:CreateQueue", e))?
        .queue_url()
        .unwrap_or_default()
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| EmulatorError::aws("sqs:GetQueueAttributes", e))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .unwrap_or_default();
    Ok((url, arn))
}
