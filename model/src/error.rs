//! Why a payload is not a record. The consumer turns these into dead-letter reasons.

use thiserror::Error;

/// A payload that cannot become a [`crate::ModelOne`] or [`crate::LocationRecord`].
///
/// Variants are stable kinds (see [`RecordError::kind`]) so that dead-letter
/// messages and metrics can group them; the message says what was wrong.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// The payload is larger than a record may be.
    #[error("record is {len} bytes, more than the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
    /// The payload is not syntactically valid JSON (or not UTF-8).
    #[error("record is not valid JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not the expected shape: a field is missing or has the wrong type.
    #[error("record does not match the schema: {0}")]
    Schema(String),
    /// The shape is right but a value is not acceptable.
    #[error("field `{field}` is invalid: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
}

impl RecordError {
    /// A short, stable name for the kind of error, for metrics and DLQ messages.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordError::TooLarge { .. } => "too_large",
            RecordError::NotJson(_) => "not_json",
            RecordError::Schema(_) => "schema",
            RecordError::InvalidField { .. } => "invalid_field",
        }
    }

    pub(crate) fn from_json(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Data => RecordError::Schema(err.to_string()),
            Category::Syntax | Category::Eof | Category::Io => {
                RecordError::NotJson(err.to_string())
            }
        }
    }
}
