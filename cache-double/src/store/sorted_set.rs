//! Sorted sets: distinct values with a score each, ordered by score, equal
//! scores by value (lexicographically); descending order is the reverse.
//! Ranks count in the requested order; score ranges have inclusive or
//! exclusive bounds; union-store combines weighted sources.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use bytes::Bytes;

use super::value::ELEMENT_OVERHEAD;

/// A score that orders totally (so it can key a `BTreeSet`).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Score(f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SortedSet {
    scores: HashMap<Bytes, f64>,
    ordered: BTreeSet<(Score, Bytes)>,
    bytes: usize,
}

/// How UnionStore combines an element found in several sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Min,
    Max,
}

fn cost(value: &[u8]) -> usize {
    value.len() + 8 + ELEMENT_OVERHEAD
}

impl SortedSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn size(&self) -> usize {
        self.bytes
    }

    pub fn score(&self, value: &[u8]) -> Option<f64> {
        self.scores.get(value).copied()
    }

    /// The size after putting `values` (present ones cost nothing more).
    pub fn size_after_put(&self, values: &[&Bytes]) -> usize {
        let mut new = std::collections::HashSet::new();
        self.bytes
            + values
                .iter()
                .filter(|v| !self.scores.contains_key(**v) && new.insert(**v))
                .map(|v| cost(v))
                .sum::<usize>()
    }

    /// Sets `value`'s score (adding it if new).
    pub fn put(&mut self, value: Bytes, score: f64) {
        match self.scores.insert(value.clone(), score) {
            Some(old) => {
                self.ordered.remove(&(Score(old), value.clone()));
            }
            None => self.bytes += cost(&value),
        }
        self.ordered.insert((Score(score), value));
    }

    /// Adds `amount` to `value`'s score (0 when new); the new score.
    pub fn increment(&mut self, value: Bytes, amount: f64) -> f64 {
        let score = self.score(&value).unwrap_or(0.0) + amount;
        self.put(value, score);
        score
    }

    pub fn remove(&mut self, value: &[u8]) {
        if let Some((value, score)) = self.scores.remove_entry(value) {
            self.ordered.remove(&(Score(score), value.clone()));
            self.bytes -= cost(&value);
        }
    }

    /// In ascending order, or descending.
    fn in_order(&self, descending: bool) -> Box<dyn Iterator<Item = (&Bytes, f64)> + '_> {
        let ascending = self.ordered.iter().map(|(s, v)| (v, s.0));
        if descending {
            Box::new(self.ordered.iter().rev().map(|(s, v)| (v, s.0)))
        } else {
            Box::new(ascending)
        }
    }

    /// `value`'s 0-based rank in the given order.
    pub fn rank(&self, value: &[u8], descending: bool) -> Option<u64> {
        let score = self.score(value)?;
        let below = self
            .ordered
            .range(..(Score(score), Bytes::copy_from_slice(value)))
            .count();
        Some(if descending {
            (self.len() - 1 - below) as u64
        } else {
            below as u64
        })
    }

    /// Elements ranked `[start, end)` in the given order (negative ranks count
    /// from the end, bounds clamp).
    pub fn by_rank(
        &self,
        start: Option<i64>,
        end: Option<i64>,
        descending: bool,
    ) -> Vec<(Bytes, f64)> {
        let range = super::list::slice(self.len(), start, end);
        self.in_order(descending)
            .skip(range.start)
            .take(range.len())
            .map(|(v, s)| (v.clone(), s))
            .collect()
    }

    /// Elements with a score within the bounds, in the given order, after
    /// skipping `offset`, at most `count` (`None`: all).
    pub fn by_score(
        &self,
        min: Bound<f64>,
        max: Bound<f64>,
        offset: usize,
        count: Option<usize>,
        descending: bool,
    ) -> Vec<(Bytes, f64)> {
        self.in_order(descending)
            .filter(|(_, score)| within(*score, min, max))
            .skip(offset)
            .take(count.unwrap_or(usize::MAX))
            .map(|(v, s)| (v.clone(), s))
            .collect()
    }

    /// How many scores lie within the bounds.
    pub fn count_by_score(&self, min: Bound<f64>, max: Bound<f64>) -> usize {
        self.scores
            .values()
            .filter(|score| within(**score, min, max))
            .count()
    }

    /// The union of weighted sources (missing ones count as empty).
    pub fn union(sources: &[(Option<&SortedSet>, f64)], aggregate: Aggregate) -> SortedSet {
        let mut combined: HashMap<Bytes, f64> = HashMap::new();
        for (source, weight) in sources {
            let Some(source) = source else { continue };
            for (value, score) in &source.scores {
                let weighted = score * weight;
                combined
                    .entry(value.clone())
                    .and_modify(|current| {
                        *current = match aggregate {
                            Aggregate::Sum => *current + weighted,
                            Aggregate::Min => current.min(weighted),
                            Aggregate::Max => current.max(weighted),
                        }
                    })
                    .or_insert(weighted);
            }
        }
        let mut union = SortedSet::default();
        for (value, score) in combined {
            union.put(value, score);
        }
        union
    }
}

fn within(score: f64, min: Bound<f64>, max: Bound<f64>) -> bool {
    let above = match min {
        Bound::Included(m) => score >= m,
        Bound::Excluded(m) => score > m,
        Bound::Unbounded => true,
    };
    let below = match max {
        Bound::Included(m) => score <= m,
        Bound::Excluded(m) => score < m,
        Bound::Unbounded => true,
    };
    above && below
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(elements: &[(&str, f64)]) -> SortedSet {
        let mut s = SortedSet::default();
        for (v, score) in elements {
            s.put(Bytes::from(v.to_string()), *score);
        }
        s
    }

    fn names(elements: Vec<(Bytes, f64)>) -> Vec<String> {
        elements
            .into_iter()
            .map(|(v, _)| String::from_utf8(v.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn orders_by_score_then_value_and_ranks_in_either_order() {
        let s = set(&[("b", 1.0), ("a", 1.0), ("c", 0.5), ("d", 2.0)]);
        assert_eq!(names(s.by_rank(None, None, false)), ["c", "a", "b", "d"]);
        assert_eq!(names(s.by_rank(None, None, true)), ["d", "b", "a", "c"]);
        assert_eq!(s.rank(b"c", false), Some(0));
        assert_eq!(s.rank(b"c", true), Some(3));
        assert_eq!(s.rank(b"zzz", false), None);
        assert_eq!(names(s.by_rank(Some(-2), None, false)), ["b", "d"]);
        assert_eq!(names(s.by_rank(Some(1), Some(-1), true)), ["b", "a"]);
        assert!(s.by_rank(Some(10), None, false).is_empty());
    }

    #[test]
    fn score_ranges_with_bounds_offset_and_count() {
        // Descending within 20..=100000 is ghost, bam, poblano, habanero,
        // serrano; offset 2 and count 2 leave the middle two.
        let s = set(&[
            ("bam", 1000.0),
            ("habanero", 68.0),
            ("jalapeno", 1.0),
            ("poblano", 100.0),
            ("serrano", 25.0),
            ("ghost", 100000.0),
        ]);
        let picked = s.by_score(
            Bound::Included(20.0),
            Bound::Included(100000.0),
            2,
            Some(2),
            true,
        );
        assert_eq!(
            picked,
            vec![("poblano".into(), 100.0), ("habanero".into(), 68.0)]
        );
        let one_two = set(&[("a", 1.0), ("b", 2.0)]);
        assert_eq!(
            one_two.count_by_score(Bound::Included(0.0), Bound::Included(2.0)),
            2
        );
        assert_eq!(
            one_two.count_by_score(Bound::Excluded(0.0), Bound::Excluded(2.0)),
            1
        );
        assert_eq!(
            names(one_two.by_score(Bound::Unbounded, Bound::Excluded(1.0), 0, None, false)),
            Vec::<String>::new()
        );
        assert_eq!(
            names(one_two.by_score(Bound::Unbounded, Bound::Included(1.0), 0, None, false)),
            ["a"]
        );
    }

    #[test]
    fn increment_remove_and_union_store() {
        let mut s = set(&[("a", 1.0)]);
        assert_eq!(s.increment("a".into(), 0.5), 1.5);
        assert_eq!(s.increment("new".into(), 100.0), 100.0);
        s.remove(b"new");
        s.remove(b"absent");
        assert_eq!((s.len(), s.size()), (1, cost(b"a")));
        // The JS suite's example.
        let set3 = set(&[("foo", 1.0), ("bar", 3.0)]);
        let set4 = set(&[("abc", 2.0), ("bar", 2.0)]);
        let sources = [(Some(&set3), 1.0), (Some(&set4), 2.5), (None, 7.0)];
        let sum = SortedSet::union(&sources, Aggregate::Sum);
        assert_eq!(
            (sum.score(b"foo"), sum.score(b"bar"), sum.score(b"abc")),
            (Some(1.0), Some(8.0), Some(5.0))
        );
        assert_eq!(
            SortedSet::union(&sources, Aggregate::Min).score(b"bar"),
            Some(3.0)
        );
        assert_eq!(
            SortedSet::union(&sources, Aggregate::Max).score(b"bar"),
            Some(5.0)
        );
        let twice = SortedSet::union(&[(Some(&set3), 1.0), (Some(&set3), 2.0)], Aggregate::Sum);
        assert_eq!(twice.score(b"bar"), Some(9.0));
    }
}
