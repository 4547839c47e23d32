//! Sorted sets: distinct values with a score each, ordered by score, equal
//! scores by value (lexicographically); descending order is the reverse.
//! Ranks count in the requested order; score ranges have inclusive or
//! exclusive bounds; union-store combines weighted sources.

use std::collections::{BTreeSet, HashMap};
use std::ops::Bound;

use bytes::Bytes;

use super::rules::{check_key, ttl, CollectionTtl};
use super::size::ELEMENT_OVERHEAD;
use super::{Cache, Effect, StoreError, Value};

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

/// Which elements SortedSetFetch returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Ranked `[start, end)` (negative from the end, `None` unbounded).
    ByRank {
        start: Option<i64>,
        end: Option<i64>,
    },
    /// Scored within the bounds, after `offset`, at most `count`.
    ByScore {
        min: Bound<f64>,
        max: Bound<f64>,
        offset: usize,
        count: Option<usize>,
    },
}

/// The operations on a cache's sorted sets, with Momento's rules: writes
/// follow the collection TTL and the size limits; a sorted set emptied is
/// removed.
impl Cache {
    /// Puts `elements` (value, score), creating the sorted set if needed.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, an element or the set over its limit, or
    /// another type under `key`.
    pub fn sorted_set_put(
        &self,
        key: Vec<u8>,
        elements: Vec<(Vec<u8>, f64)>,
        ttl: CollectionTtl,
    ) -> Result<(), StoreError> {
        self.limits()
            .check_elements(elements.iter().map(|(v, _)| v.as_slice()))?;
        let elements: Vec<(Bytes, f64)> =
            elements.into_iter().map(|(v, s)| (v.into(), s)).collect();
        self.write_collection(key.into(), ttl, |set: &mut SortedSet, limits, key| {
            let values: Vec<&Bytes> = elements.iter().map(|(v, _)| v).collect();
            limits.check_size(key, set.size_after_put(&values))?;
            for (value, score) in elements {
                set.put(value, score);
            }
            Ok(())
        })
    }

    /// The elements in `range`, in the given order, if there is a sorted set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_fetch(
        &self,
        key: &[u8],
        range: Range,
        descending: bool,
    ) -> Result<Option<Vec<(Bytes, f64)>>, StoreError> {
        self.read_collection(key, |set: &SortedSet| match range {
            Range::ByRank { start, end } => set.by_rank(start, end, descending),
            Range::ByScore {
                min,
                max,
                offset,
                count,
            } => set.by_score(min, max, offset, count, descending),
        })
    }

    /// Each value's score (`None` for a value it lacks), if there is a sorted set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_scores(
        &self,
        key: &[u8],
        values: &[Vec<u8>],
    ) -> Result<Option<Vec<Option<f64>>>, StoreError> {
        self.read_collection(key, |set: &SortedSet| {
            values.iter().map(|v| set.score(v)).collect()
        })
    }

    /// Removes `values` (`None`: the whole sorted set); whether there was one.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_remove(
        &self,
        key: Vec<u8>,
        values: Option<Vec<Vec<u8>>>,
    ) -> Result<bool, StoreError> {
        match values {
            None => self.remove_collection::<SortedSet>(key.into()),
            Some(values) => Ok(self
                .change_collection(key.into(), None, |set: &mut SortedSet| {
                    for value in &values {
                        set.remove(value);
                    }
                    Ok(())
                })?
                .is_some()),
        }
    }

    /// Adds `amount` to `value`'s score (0 when absent), creating it and the
    /// sorted set if needed; the new score.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, the value or the set over its limit, or
    /// another type under `key`.
    pub fn sorted_set_increment(
        &self,
        key: Vec<u8>,
        value: Vec<u8>,
        amount: f64,
        ttl: CollectionTtl,
    ) -> Result<f64, StoreError> {
        self.limits().check_elements([value.as_slice()])?;
        let value = Bytes::from(value);
        self.write_collection(key.into(), ttl, |set: &mut SortedSet, limits, key| {
            limits.check_size(key, set.size_after_put(&[&value]))?;
            Ok(set.increment(value, amount))
        })
    }

    /// `value`'s rank in the given order: the outer `None` when there is no
    /// sorted set, the inner when it lacks the value.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_rank(
        &self,
        key: &[u8],
        value: &[u8],
        descending: bool,
    ) -> Result<Option<Option<u64>>, StoreError> {
        self.read_collection(key, |set: &SortedSet| set.rank(value, descending))
    }

    /// How many elements, if there is a sorted set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_length(&self, key: &[u8]) -> Result<Option<u32>, StoreError> {
        self.read_collection(key, |set: &SortedSet| set.len() as u32)
    }

    /// How many scores lie within the bounds, if there is a sorted set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn sorted_set_length_by_score(
        &self,
        key: &[u8],
        min: Bound<f64>,
        max: Bound<f64>,
    ) -> Result<Option<u32>, StoreError> {
        self.read_collection(key, |set: &SortedSet| set.count_by_score(min, max) as u32)
    }

    /// Stores the union of the weighted `sources` (missing ones count as
    /// empty) under `key`, overwriting it (it is a source only if listed),
    /// with the TTL; removed when the union is empty. Its length.
    ///
    /// # Errors
    /// An empty key, no source, a TTL of 0, the union over the item limit,
    /// or another type under `key` or a source.
    pub fn sorted_set_union_store(
        &self,
        key: Vec<u8>,
        sources: &[(Vec<u8>, f64)],
        aggregate: Aggregate,
        ttl_ms: u64,
    ) -> Result<u32, StoreError> {
        check_key(&key)?;
        if sources.is_empty() {
            return Err(StoreError::Invalid("sources must not be empty"));
        }
        let ttl = ttl(ttl_ms)?;
        // Copies of the sources (each under its own lock), then one write.
        let mut copies: Vec<(Option<SortedSet>, f64)> = Vec::with_capacity(sources.len());
        for (source, weight) in sources {
            copies.push((self.read_collection(source, SortedSet::clone)?, *weight));
        }
        let sources: Vec<(Option<&SortedSet>, f64)> =
            copies.iter().map(|(s, w)| (s.as_ref(), *w)).collect();
        let union = SortedSet::union(&sources, aggregate);
        let length = union.len() as u32;
        let limits = self.limits();
        let key = Bytes::from(key);
        self.modify(key.clone(), |current| {
            if let Some((other, _)) = current.filter(|(v, _)| !matches!(v, Value::SortedSet(_))) {
                return Err(StoreError::WrongType {
                    found: other.item_type().name(),
                });
            }
            if union.is_empty() {
                return Ok((Effect::Removed, ()));
            }
            limits.check_size(&key, union.size())?;
            Ok((Effect::Put(Value::SortedSet(union), Some(ttl)), ()))
        })?;
        Ok(length)
    }
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
