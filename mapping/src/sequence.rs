//! Kinesis sequence numbers: decimal strings, up to 56 digits on AWS (more
//! than a `u128` holds), "1", "2", ... on the emulators. They are compared as
//! the numbers they are, of any length, never as integers of a fixed width
//! and never as plain strings ("9" < "10").

use std::cmp::Ordering;

/// Orders two sequence numbers: numerically when both are decimal digits
/// (leading zeros ignored), else as strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let a = a.trim_start_matches('0');
        let b = b.trim_start_matches('0');
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// A sequence number that sorts as a number, for ordered collections.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SequenceNumber(pub String);

impl Ord for SequenceNumber {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for SequenceNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_compare_as_numbers_of_any_length() {
        assert_eq!(compare("9", "10"), Ordering::Less);
        assert_eq!(
            compare(
                "49590338271490256608559692538361571095921575989136588898",
                "49590338271490256608559692540925702759324208523137515618"
            ),
            Ordering::Less
        );
        assert_eq!(
            compare(
                "49590338271490256608559692538361571095921575989136588898",
                "9"
            ),
            Ordering::Greater,
            "56 digits are more than one"
        );
        assert_eq!(compare("007", "7"), Ordering::Equal);
        assert_eq!(compare("b", "a"), Ordering::Greater);
        let mut sorted = [
            SequenceNumber("10".into()),
            SequenceNumber("9".into()),
            SequenceNumber("100".into()),
        ];
        sorted.sort();
        assert_eq!(sorted[0].0, "9");
        assert_eq!(sorted[2].0, "100");
    }
}
