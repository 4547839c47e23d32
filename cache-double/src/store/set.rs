//! Sets: distinct elements, no order. Sample and pop take random elements
//! (an `IndexSet` makes a random pick one index away).

use bytes::Bytes;
use indexmap::IndexSet;
use rand::seq::index::sample;

use super::value::ELEMENT_OVERHEAD;

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
