//! The location document: a DynamoDB item, cached in Momento as JSON.

use serde::{Deserialize, Serialize};

use crate::RecordError;

/// What a `read_location` resolves to. Stored in the `Locations` table with
/// `location` as the hash key, and cached in Momento as this struct's JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocationRecord {
    pub location: String,
    pub description: String,
    pub notes: String,
}

impl LocationRecord {
    /// The article's sample item for `location`: "`X` description", "`X` notes".
    pub fn sample(location: &str) -> Self {
        Self {
            location: location.to_owned(),
            description: format!("{location} description"),
            notes: format!("{location} notes"),
        }
    }

    /// Decodes a cached document. A cache can hold anything (another writer, an
    /// old format), so this returns an error instead of panicking like the article.
    ///
    /// # Errors
    /// [`RecordError::NotJson`] or [`RecordError::Schema`].
    pub fn from_cached(bytes: &[u8]) -> Result<Self, RecordError> {
        serde_json::from_slice(bytes).map_err(RecordError::from_json)
    }

    /// The JSON stored in the cache.
    pub fn to_cached(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("LocationRecord always serializes")
    }
}

/// The three items the article seeds the `Locations` table with.
pub fn sample_locations() -> Vec<LocationRecord> {
    ["Car", "Diner", "House"]
        .into_iter()
        .map(LocationRecord::sample)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_json_round_trips() {
        let record = LocationRecord::sample("Diner");
        assert_eq!(
            LocationRecord::from_cached(&record.to_cached()).unwrap(),
            record
        );
    }

    #[test]
    fn bad_cached_json_is_an_error_not_a_panic() {
        assert_eq!(
            LocationRecord::from_cached(b"{\"location\":")
                .unwrap_err()
                .kind(),
            "not_json"
        );
        assert_eq!(
            LocationRecord::from_cached(b"{}").unwrap_err().kind(),
            "schema"
        );
    }

    #[test]
    fn samples_match_the_article() {
        let names: Vec<_> = sample_locations().into_iter().map(|l| l.location).collect();
        assert_eq!(names, ["Car", "Diner", "House"]);
        assert_eq!(LocationRecord::sample("Car").notes, "Car notes");
    }
}
