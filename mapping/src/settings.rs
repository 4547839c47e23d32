//! The event-source mapping's settings, with the same defaults as the
//! Terraform module (a test compares them).

use std::time::Duration;

use crate::destination::Destination;
use crate::filter::FilterCriteria;

/// AWS's limit on `TumblingWindowInSeconds`.
pub const MAX_TUMBLING_WINDOW: Duration = Duration::from_secs(900);

/// Why settings cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(String);

impl SettingsError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Where a new mapping starts reading. It is resolved once, when the
/// mapping is created (see [`crate::state::MappingState::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartingPosition {
    /// Only records written after the mapping is created.
    Latest,
    /// The oldest record the stream retains.
    TrimHorizon,
    /// Records that arrived at or after this time (seconds since the epoch).
    AtTimestamp(f64),
}

impl StartingPosition {
    /// Parses `LATEST`, `TRIM_HORIZON` or `AT_TIMESTAMP=<RFC 3339>`.
    ///
    /// # Errors
    /// [`SettingsError`] naming what was expected.
    pub fn parse(text: &str) -> Result<Self, SettingsError> {
        match text {
            "LATEST" => Ok(Self::Latest),
            "TRIM_HORIZON" => Ok(Self::TrimHorizon),
            _ => {
                let at = text.strip_prefix("AT_TIMESTAMP=").ok_or_else(|| {
                    SettingsError::new(format!(
                        "{text:?}: expected LATEST, TRIM_HORIZON or AT_TIMESTAMP=<RFC 3339 time>"
                    ))
                })?;
                let time = chrono::DateTime::parse_from_rfc3339(at).map_err(|e| {
                    SettingsError::new(format!("{at:?} is not an RFC 3339 time: {e}"))
                })?;
                Ok(Self::AtTimestamp(time.timestamp_micros() as f64 / 1e6))
            }
        }
    }
}

/// The form [`StartingPosition::parse`] reads, so a flag can default to it.
impl std::fmt::Display for StartingPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Latest => f.write_str("LATEST"),
            Self::TrimHorizon => f.write_str("TRIM_HORIZON"),
            Self::AtTimestamp(seconds) => {
                let time = chrono::DateTime::from_timestamp_micros((seconds * 1e6).round() as i64)
                    .unwrap_or_default();
                write!(f, "AT_TIMESTAMP={}", time.to_rfc3339())
            }
        }
    }
}

/// How records are batched, retried and given up on, as
/// `aws_lambda_event_source_mapping` configures it.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingSettings {
    /// Records per invocation (`batch_size`).
    pub batch_size: usize,
    /// How long to wait to fill a batch (`maximum_batching_window_in_seconds`).
    pub batching_window: Duration,
    pub starting_position: StartingPosition,
    /// `function_response_types = ["ReportBatchItemFailures"]`.
    pub report_batch_item_failures: bool,
    /// `bisect_batch_on_function_error`.
    pub bisect_on_error: bool,
    /// `maximum_retry_attempts`; `None` is -1 (retry until the record expires).
    pub maximum_retry_attempts: Option<u32>,
    /// `maximum_record_age_in_seconds`; `None` is -1 (never too old).
    pub maximum_record_age: Option<Duration>,
    /// `parallelization_factor`: concurrent batches per shard, 1–10.
    pub parallelization_factor: u32,
    /// The on-failure destination: an SQS queue (URL or ARN), an SNS topic
    /// ARN or an S3 bucket ARN.
    pub on_failure: Option<String>,
    /// `filter_criteria`: records matching none of these patterns are
    /// dropped before invocation (and counted).
    pub filter: FilterCriteria,
    /// `tumbling_window_in_seconds`; `None` is 0 (no windows).
    pub tumbling_window: Option<Duration>,
    /// `enabled`: a disabled mapping polls nothing until enabled.
    pub enabled: bool,
}

impl Default for MappingSettings {
    fn default() -> Self {
        Self {
            batch_size: 10,
            batching_window: Duration::ZERO,
            starting_position: StartingPosition::TrimHorizon,
            report_batch_item_failures: true,
            bisect_on_error: true,
            maximum_retry_attempts: None,
            maximum_record_age: Some(Duration::from_secs(21_600)),
            parallelization_factor: 1,
            on_failure: None,
            filter: FilterCriteria::default(),
            tumbling_window: None,
            enabled: true,
        }
    }
}

impl MappingSettings {
    /// Checks the ranges AWS enforces (record age is not bounded below, so
    /// tests can use seconds).
    ///
    /// # Errors
    /// [`SettingsError`] naming the setting and its range.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let fail = |message: String| Err(SettingsError::new(message));
        if !(1..=10_000).contains(&self.batch_size) {
            return fail(format!("batch size {} is outside 1-10000", self.batch_size));
        }
        if self.batching_window > Duration::from_secs(300) {
            return fail("the batching window is at most 300 s".to_owned());
        }
        if !(1..=10).contains(&self.parallelization_factor) {
            return fail(format!(
                "parallelization factor {} is outside 1-10",
                self.parallelization_factor
            ));
        }
        if let Some(window) = self.tumbling_window {
            if window.is_zero() || window > MAX_TUMBLING_WINDOW {
                return fail("the tumbling window is 1-900 s (0 turns it off)".to_owned());
            }
            if self.parallelization_factor > 1 {
                return fail(
                    "tumbling windows with a parallelization factor above 1 are not emulated (AWS does not document how they combine)"
                        .to_owned(),
                );
            }
        }
        if let Some(destination) = &self.on_failure {
            Destination::parse(destination)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_starting_positions() {
        assert_eq!(
            StartingPosition::parse("LATEST"),
            Ok(StartingPosition::Latest)
        );
        assert_eq!(
            StartingPosition::parse("AT_TIMESTAMP=2026-11-26T10:00:00.5Z"),
            Ok(StartingPosition::AtTimestamp(1_795_687_200.5))
        );
        assert!(StartingPosition::parse("AT_TIMESTAMP=yesterday").is_err());
        assert!(StartingPosition::parse("EARLIEST")
            .unwrap_err()
            .to_string()
            .contains("TRIM_HORIZON"));
    }

    #[test]
    fn validates_ranges() {
        assert!(MappingSettings::default().validate().is_ok());
        let bad = MappingSettings {
            parallelization_factor: 11,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        for window in [0, 901] {
            let bad = MappingSettings {
                tumbling_window: Some(Duration::from_secs(window)),
                ..Default::default()
            };
            assert!(bad.validate().is_err(), "{window} s");
        }
        let bad = MappingSettings {
            on_failure: Some("a-queue-name".into()),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let batch = MappingSettings {
            batch_size: 10_000,
            ..Default::default()
        };
        assert!(batch.validate().is_ok());
    }

    #[test]
    fn a_starting_position_reads_back_what_it_prints() {
        for position in [
            StartingPosition::Latest,
            StartingPosition::TrimHorizon,
            StartingPosition::AtTimestamp(1_800_000_000.25),
        ] {
            assert_eq!(StartingPosition::parse(&position.to_string()), Ok(position));
        }
    }
}
