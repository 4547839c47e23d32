//! Sets: distinct elements, no order. Sample and pop take random elements
//! (an `IndexSet` makes a random pick one index away).

use bytes::Bytes;
use indexmap::IndexSet;
use rand::seq::index::sample;

use super::rules::CollectionTtl;
use super::size::ELEMENT_OVERHEAD;
use super::{Cache, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    elements: IndexSet<Bytes>,
    bytes: usize,
}

fn cost(element: &[u8]) -> usize {
    element.len() + ELEMENT_OVERHEAD
}

impl Set {
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    pub fn size(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl Iterator<Item = &Bytes> {
        self.elements.iter()
    }

    pub fn contains(&self, element: &[u8]) -> bool {
        self.elements.contains(element)
    }

    /// The size after adding `elements` (duplicates and present ones cost nothing).
    pub fn size_after_union(&self, elements: &[Bytes]) -> usize {
        let mut new = std::collections::HashSet::new();
        let added: usize = elements
            .iter()
            .filter(|e| !self.elements.contains(*e) && new.insert(*e))
            .map(|e| cost(e))
            .sum();
        self.bytes + added
    }

    pub fn union(&mut self, elements: Vec<Bytes>) {
        for element in elements {
            let added = cost(&element);
            if self.elements.insert(element) {
                self.bytes += added;
            }
        }
    }

    pub fn remove(&mut self, elements: &[Bytes]) {
        for element in elements {
            if self.elements.swap_remove(element) {
                self.bytes -= cost(element);
            }
        }
    }

    /// Up to `limit` distinct random elements.
    pub fn sample(&self, limit: usize) -> Vec<Bytes> {
        let len = self.elements.len();
        sample(&mut rand::rng(), len, limit.min(len))
            .into_iter()
            .map(|i| self.elements[i].clone())
            .collect()
    }

    /// Removes and returns up to `count` random elements.
    pub fn pop(&mut self, count: usize) -> Vec<Bytes> {
        let popped = self.sample(count);
        self.remove(&popped);
        popped
    }
}

/// SetDifference's two directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// The set minus these elements (`None`: minus itself, deleting it).
    Subtrahend(Option<Vec<Vec<u8>>>),
    /// These elements minus the set: the set keeps the given ones it lacks.
    Minuend(Vec<Vec<u8>>),
}

/// The operations on a cache's sets, with Momento's rules: writes follow the
/// collection TTL and the size limits; a set emptied is removed.
impl Cache {
    /// Adds `elements`, creating the set if needed.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, an element or the set over its limit, or
    /// another type under `key`.
    pub fn set_union(
        &self,
        key: Vec<u8>,
        elements: Vec<Vec<u8>>,
        ttl: CollectionTtl,
    ) -> Result<(), StoreError> {
        self.limits()
            .check_elements(elements.iter().map(Vec::as_slice))?;
        let elements: Vec<Bytes> = elements.into_iter().map(Bytes::from).collect();
        self.write_collection(key.into(), ttl, |set: &mut Set, limits, key| {
            limits.check_size(key, set.size_after_union(&elements))?;
            set.union(elements);
            Ok(())
        })
    }

    /// Takes a difference; whether there was a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_difference(&self, key: Vec<u8>, difference: Difference) -> Result<bool, StoreError> {
        let changed = match difference {
            Difference::Subtrahend(None) => return self.remove_collection::<Set>(key.into()),
            Difference::Subtrahend(Some(given)) => {
                let given: Vec<Bytes> = given.into_iter().map(Bytes::from).collect();
                self.change_collection(key.into(), None, |set: &mut Set| {
                    set.remove(&given);
                    Ok(())
                })?
            }
            Difference::Minuend(given) => {
                self.change_collection(key.into(), None, |set: &mut Set| {
                    let keep: Vec<Bytes> = given
                        .into_iter()
                        .filter(|e| !set.contains(e))
                        .map(Bytes::from)
                        .collect();
                    let all: Vec<Bytes> = set.iter().cloned().collect();
                    set.remove(&all);
                    set.union(keep);
                    Ok(())
                })?
            }
        };
        Ok(changed.is_some())
    }

    /// Every element, if there is a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_fetch(&self, key: &[u8]) -> Result<Option<Vec<Bytes>>, StoreError> {
        self.read_collection(key, |set: &Set| set.iter().cloned().collect())
    }

    /// Up to `limit` distinct random elements, if there is a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_sample(&self, key: &[u8], limit: usize) -> Result<Option<Vec<Bytes>>, StoreError> {
        self.read_collection(key, |set: &Set| set.sample(limit))
    }

    /// Whether the set holds each element, if there is a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_contains(
        &self,
        key: &[u8],
        elements: &[Vec<u8>],
    ) -> Result<Option<Vec<bool>>, StoreError> {
        self.read_collection(key, |set: &Set| {
            elements.iter().map(|e| set.contains(e)).collect()
        })
    }

    /// How many elements, if there is a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_length(&self, key: &[u8]) -> Result<Option<u32>, StoreError> {
        self.read_collection(key, |set: &Set| set.len() as u32)
    }

    /// Removes and returns up to `count` random elements, if there is a set.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn set_pop(&self, key: Vec<u8>, count: usize) -> Result<Option<Vec<Bytes>>, StoreError> {
        self.change_collection(key.into(), None, |set: &mut Set| Ok(set.pop(count)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_remove_sample_and_pop() {
        let mut s = Set::default();
        let e = |v: &str| Bytes::from(v.to_owned());
        assert_eq!(
            s.size_after_union(&[e("a"), e("a"), e("b")]),
            2 * (1 + ELEMENT_OVERHEAD)
        );
        s.union(vec![e("a"), e("a"), e("b"), e("c"), e("d"), e("e")]);
        assert_eq!(s.len(), 5);
        assert_eq!(s.sample(0).len(), 0);
        assert_eq!(s.sample(3).len(), 3);
        assert_eq!(s.sample(10).len(), 5);
        let sampled: std::collections::HashSet<Bytes> = s.sample(5).into_iter().collect();
        assert_eq!(sampled.len(), 5, "distinct");
        s.remove(&[e("a"), e("zzz")]);
        assert!(!s.contains(b"a"));
        let popped = s.pop(3);
        assert_eq!((popped.len(), s.len()), (3, 1));
        assert!(popped.iter().all(|p| !s.contains(p)));
        s.pop(5);
        assert_eq!((s.len(), s.size()), (0, 0));
    }
}
