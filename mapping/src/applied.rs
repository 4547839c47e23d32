//! An event-source mapping as the Lambda API returns it (what Terraform
//! applied, read back with ListEventSourceMappings), turned into the
//! [`MappingSettings`] this crate runs. One converter, validated by the same
//! rules as the CLI's flags; a field the engine cannot honour is refused by
//! name, never ignored in silence.

use std::time::Duration;

use aws_sdk_lambda::types::{EventSourceMappingConfiguration, FunctionResponseType};

use crate::filter::FilterCriteria;
use crate::settings::{MappingSettings, StartingPosition};

/// A mapping the engine can run.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// Its identity: a mapping deleted and created again has a new one.
    pub uuid: String,
    pub stream_arn: String,
    /// The function as the mapping names it (moto names the version the
    /// alias pointed to when the mapping was created: resolve the alias
    /// again, see `harness::function`).
    pub function_arn: String,
    pub settings: MappingSettings,
    /// `MetricsConfig` holds `EventCount`: AWS publishes the EventCount
    /// metrics (the local mapping always counts them).
    pub event_count_metrics: bool,
    /// Fields shown but not emulated, with why (logging, a filter key).
    pub notes: Vec<String>,
}

/// Why a mapping cannot be run here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("mapping {uuid}: its source {arn} is not a Kinesis data stream; only Kinesis mappings are emulated")]
    NotKinesis { uuid: String, arn: String },
    #[error("mapping {uuid}: {field} cannot be emulated ({why})")]
    Field {
        uuid: String,
        field: &'static str,
        why: &'static str,
    },
    #[error("mapping {uuid}: {message}")]
    Settings { uuid: String, message: String },
}

/// AWS's defaults for a Kinesis mapping, where the API leaves a field out.
const DEFAULT_BATCH_SIZE: i32 = 100;

/// Converts one mapping. `starting_timestamp` is used for `AT_TIMESTAMP`
/// when the API does not return `StartingPositionTimestamp` (moto stores
/// it but never returns it).
///
/// # Errors
/// [`Refused`] naming the field, for a mapping the engine cannot run as AWS
/// would.
pub fn from_lambda_api(
    mapping: &EventSourceMappingConfiguration,
    starting_timestamp: Option<f64>,
) -> Result<Applied, Refused> {
    let uuid = mapping.uuid().unwrap_or_default().to_owned();
    let refuse = |field: &'static str, why: &'static str| Refused::Field {
        uuid: uuid.clone(),
        field,
        why,
    };
    let stream_arn = mapping.event_source_arn().unwrap_or_default().to_owned();
    let kinesis = stream_arn.starts_with("arn:")
        && stream_arn.split(':').nth(2) == Some("kinesis")
        && (stream_arn.contains(":stream/"));
    if !kinesis || mapping.self_managed_event_source().is_some() {
        return Err(Refused::NotKinesis {
            uuid,
            arn: stream_arn,
        });
    }
    if mapping.provisioned_poller_config().is_some() {
        return Err(refuse(
            "ProvisionedPollerConfig",
            "provisioned pollers are for Kafka and SQS sources",
        ));
    }
    if mapping.amazon_managed_kafka_event_source_config().is_some()
        || mapping.self_managed_kafka_event_source_config().is_some()
        || !mapping.topics().is_empty()
    {
        return Err(refuse("a Kafka setting", "Kafka sources are not emulated"));
    }
    if !mapping.queues().is_empty() {
        return Err(refuse("Queues", "Amazon MQ sources are not emulated"));
    }
    if mapping.document_db_event_source_config().is_some() {
        return Err(refuse(
            "DocumentDBEventSourceConfig",
            "DocumentDB sources are not emulated",
        ));
    }
    if !mapping.source_access_configurations().is_empty() {
        return Err(refuse(
            "SourceAccessConfigurations",
            "they configure Kafka and MQ sources",
        ));
    }
    if mapping.scaling_config().is_some() {
        return Err(refuse("ScalingConfig", "it applies to SQS sources"));
    }

    let starting_position = match mapping.starting_position().map(|p| p.as_str()) {
        Some("LATEST") => StartingPosition::Latest,
        Some("TRIM_HORIZON") | None => StartingPosition::TrimHorizon,
        Some("AT_TIMESTAMP") => {
            let returned = mapping
                .starting_position_timestamp()
                .map(|t| t.as_secs_f64());
            match returned.or(starting_timestamp) {
                Some(at) => StartingPosition::AtTimestamp(at),
                None => {
                    return Err(refuse(
                        "StartingPositionTimestamp",
                        "AT_TIMESTAMP without the time: moto stores it but never returns it; pass it with --starting-position-timestamp",
                    ))
                }
            }
        }
        Some(_) => return Err(refuse("StartingPosition", "an unknown position")),
    };
    let patterns: Vec<String> = mapping
        .filter_criteria()
        .map(|criteria| {
            criteria
                .filters()
                .iter()
                .filter_map(|f| f.pattern().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let filter = FilterCriteria::parse(&patterns).map_err(|e| Refused::Settings {
        uuid: uuid.clone(),
        message: e.to_string(),
    })?;
    let seconds = |n: i32| Duration::from_secs(u64::try_from(n).unwrap_or(0));
    let settings = MappingSettings {
        batch_size: usize::try_from(mapping.batch_size().unwrap_or(DEFAULT_BATCH_SIZE))
            .unwrap_or(0),
        batching_window: seconds(mapping.maximum_batching_window_in_seconds().unwrap_or(0)),
        starting_position,
        report_batch_item_failures: mapping
            .function_response_types()
            .contains(&FunctionResponseType::ReportBatchItemFailures),
        bisect_on_error: mapping.bisect_batch_on_function_error().unwrap_or(false),
        maximum_retry_attempts: match mapping.maximum_retry_attempts() {
            None | Some(-1) => None,
            Some(n) => Some(u32::try_from(n).unwrap_or(0)),
        },
        maximum_record_age: match mapping.maximum_record_age_in_seconds() {
            None | Some(-1) => None,
            Some(n) => Some(seconds(n)),
        },
        parallelization_factor: u32::try_from(mapping.parallelization_factor().unwrap_or(1))
            .unwrap_or(0),
        on_failure: mapping
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination())
            .map(str::to_owned),
        filter,
        tumbling_window: match mapping.tumbling_window_in_seconds() {
            None | Some(0) => None,
            Some(n) => Some(seconds(n)),
        },
        // Creating, Enabling and Updating become Enabled by themselves.
        enabled: !matches!(mapping.state(), Some("Disabled" | "Disabling")),
    };
    settings.validate().map_err(|e| Refused::Settings {
        uuid: uuid.clone(),
        message: e.to_string(),
    })?;
    let mut notes = Vec::new();
    if mapping.logging_config().is_some() {
        notes.push("LoggingConfig: not emulated (the harness logs what it does)".to_owned());
    }
    if mapping.kms_key_arn().is_some() {
        notes.push("KMSKeyArn: the filter criteria are read as the API returns them".to_owned());
    }
    Ok(Applied {
        uuid,
        stream_arn,
        function_arn: mapping.function_arn().unwrap_or_default().to_owned(),
        event_count_metrics: mapping.metrics_config().is_some_and(|m| {
            m.metrics()
                .iter()
                .any(|metric| metric.as_str() == "EventCount")
        }),
        settings,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use aws_sdk_lambda::types::builders::EventSourceMappingConfigurationBuilder;
    use aws_sdk_lambda::types::{
        AmazonManagedKafkaEventSourceConfig, DestinationConfig, DocumentDbEventSourceConfig,
        EventSourceMappingMetric, EventSourceMappingMetricsConfig, EventSourcePosition, Filter,
        FilterCriteria as ApiFilterCriteria, OnFailure, ProvisionedPollerConfig, ScalingConfig,
        SelfManagedEventSource, SelfManagedKafkaEventSourceConfig, SourceAccessConfiguration,
    };

    use super::*;

    const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/model-one-stream";

    /// A Kinesis mapping as ListEventSourceMappings returns one (AWS's
    /// documented example response, trimmed), every field at AWS's default.
    fn recorded() -> EventSourceMappingConfigurationBuilder {
        EventSourceMappingConfiguration::builder()
            .uuid("a1b2c3d4-5678-90ab-cdef-11111EXAMPLE")
            .event_source_arn(STREAM)
            .function_arn("arn:aws:lambda:us-east-1:123456789012:function:f:1")
            .starting_position(EventSourcePosition::TrimHorizon)
            .state("Enabled")
    }

    fn applied(builder: EventSourceMappingConfigurationBuilder) -> Applied {
        from_lambda_api(&builder.build(), None).unwrap()
    }

    #[test]
    fn absent_fields_are_aws_defaults() {
        let a = applied(recorded());
        assert_eq!(a.settings.batch_size, 100);
        assert_eq!(a.settings.starting_position, StartingPosition::TrimHorizon);
        assert!(!a.settings.report_batch_item_failures && !a.settings.bisect_on_error);
        assert_eq!(a.settings.maximum_retry_attempts, None);
        assert_eq!(a.settings.maximum_record_age, None);
        assert_eq!(a.settings.parallelization_factor, 1);
        assert!(a.settings.enabled && a.settings.on_failure.is_none());
        assert!(!a.event_count_metrics);
    }

    /// Every field the engine runs: a value other than the default reaches
    /// the settings.
    #[test]
    fn every_supported_field_reaches_the_settings() {
        type Check = fn(&Applied) -> bool;
        let cases: Vec<(&str, EventSourceMappingConfigurationBuilder, Check)> = vec![
            ("BatchSize", recorded().batch_size(7), |a| {
                a.settings.batch_size == 7
            }),
            (
                "MaximumBatchingWindowInSeconds",
                recorded().maximum_batching_window_in_seconds(3),
                |a| a.settings.batching_window == Duration::from_secs(3),
            ),
            (
                "StartingPosition LATEST",
                recorded().starting_position(EventSourcePosition::Latest),
                |a| a.settings.starting_position == StartingPosition::Latest,
            ),
            (
                "StartingPosition AT_TIMESTAMP",
                recorded()
                    .starting_position(EventSourcePosition::AtTimestamp)
                    .starting_position_timestamp(aws_sdk_lambda::primitives::DateTime::from_secs(
                        1_800_000_000,
                    )),
                |a| a.settings.starting_position == StartingPosition::AtTimestamp(1_800_000_000.0),
            ),
            (
                "FunctionResponseTypes",
                recorded().function_response_types(FunctionResponseType::ReportBatchItemFailures),
                |a| a.settings.report_batch_item_failures,
            ),
            (
                "BisectBatchOnFunctionError",
                recorded().bisect_batch_on_function_error(true),
                |a| a.settings.bisect_on_error,
            ),
            (
                "MaximumRetryAttempts",
                recorded().maximum_retry_attempts(3),
                |a| a.settings.maximum_retry_attempts == Some(3),
            ),
            (
                "MaximumRecordAgeInSeconds",
                recorded().maximum_record_age_in_seconds(600),
                |a| a.settings.maximum_record_age == Some(Duration::from_secs(600)),
            ),
            (
                "ParallelizationFactor",
                recorded().parallelization_factor(4),
                |a| a.settings.parallelization_factor == 4,
            ),
            (
                "DestinationConfig.OnFailure",
                recorded().destination_config(
                    DestinationConfig::builder()
                        .on_failure(
                            OnFailure::builder()
                                .destination("arn:aws:sqs:us-east-1:123456789012:on-failure")
                                .build(),
                        )
                        .build(),
                ),
                |a| {
                    a.settings.on_failure.as_deref()
                        == Some("arn:aws:sqs:us-east-1:123456789012:on-failure")
                },
            ),
            (
                "FilterCriteria",
                recorded().filter_criteria(
                    ApiFilterCriteria::builder()
                        .filters(
                            Filter::builder()
                                .pattern(r#"{"data": {"read_location": ["Car"]}}"#)
                                .build(),
                        )
                        .build(),
                ),
                |a| !a.settings.filter.is_empty(),
            ),
            (
                "TumblingWindowInSeconds",
                recorded().tumbling_window_in_seconds(60),
                |a| a.settings.tumbling_window == Some(Duration::from_secs(60)),
            ),
            (
                "MetricsConfig",
                recorded().metrics_config(
                    EventSourceMappingMetricsConfig::builder()
                        .metrics(EventSourceMappingMetric::EventCount)
                        .build(),
                ),
                |a| a.event_count_metrics,
            ),
            ("State Disabled", recorded().state("Disabled"), |a| {
                !a.settings.enabled
            }),
        ];
        for (field, builder, check) in cases {
            let a = applied(builder);
            assert!(
                check(&a),
                "{field} did not reach the settings: {:?}",
                a.settings
            );
            assert_ne!(
                (a.settings.clone(), a.event_count_metrics),
                (applied(recorded()).settings, false),
                "{field} changed nothing"
            );
        }
    }

    /// Every field the engine cannot honour is refused by its name, from
    /// responses moto cannot make (AWS's documented examples for Kafka, MQ,
    /// DocumentDB and SQS mappings, trimmed to the field).
    #[test]
    fn every_unsupported_field_is_refused_by_name() {
        let cases: Vec<(&str, EventSourceMappingConfigurationBuilder)> = vec![
            (
                "ProvisionedPollerConfig",
                recorded().provisioned_poller_config(
                    ProvisionedPollerConfig::builder().minimum_pollers(1).build(),
                ),
            ),
            (
                "Kafka",
                recorded().amazon_managed_kafka_event_source_config(
                    AmazonManagedKafkaEventSourceConfig::builder()
                        .consumer_group_id("g")
                        .build(),
                ),
            ),
            (
                "Kafka",
                recorded().self_managed_kafka_event_source_config(
                    SelfManagedKafkaEventSourceConfig::builder()
                        .consumer_group_id("g")
                        .build(),
                ),
            ),
            ("Kafka", recorded().topics("orders")),
            ("Queues", recorded().queues("arn:aws:mq:us-east-1:123456789012:broker:b")),
            (
                "DocumentDBEventSourceConfig",
                recorded().document_db_event_source_config(
                    DocumentDbEventSourceConfig::builder().database_name("d").build(),
                ),
            ),
            (
                "SourceAccessConfigurations",
                recorded().source_access_configurations(SourceAccessConfiguration::builder().build()),
            ),
            (
                "ScalingConfig",
                recorded().scaling_config(ScalingConfig::builder().maximum_concurrency(2).build()),
            ),
            (
                "StartingPositionTimestamp",
                recorded().starting_position(EventSourcePosition::AtTimestamp),
            ),
            (
                "is not a Kinesis data stream",
                recorded().event_source_arn("arn:aws:sqs:us-east-1:123456789012:q"),
            ),
            (
                "is not a Kinesis data stream",
                recorded().event_source_arn(
                    "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000",
                ),
            ),
            (
                "is not a Kinesis data stream",
                recorded().self_managed_event_source(SelfManagedEventSource::builder().build()),
            ),
            ("batch size 0 is outside 1-10000", recorded().batch_size(0)),
        ];
        for (field, builder) in cases {
            let error = from_lambda_api(&builder.build(), None)
                .unwrap_err()
                .to_string();
            assert!(error.contains(field), "{field}: {error}");
            assert!(error.contains("a1b2c3d4"), "names the mapping: {error}");
        }
        // moto never returns the timestamp: a flag gives it.
        let at = recorded()
            .starting_position(EventSourcePosition::AtTimestamp)
            .build();
        assert_eq!(
            from_lambda_api(&at, Some(1_800_000_000.5))
                .unwrap()
                .settings
                .starting_position,
            StartingPosition::AtTimestamp(1_800_000_000.5)
        );
    }
}
