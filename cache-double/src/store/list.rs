//! Lists: ordered, duplicates allowed. Fetch and retain slice as Python
//! does (start inclusive, end exclusive, negative indexes from the end,
//! bounds clamped); pushes and concatenations can truncate the other end to
//! a size (0 = no truncation). An emptied list is removed.

use std::collections::VecDeque;

use bytes::Bytes;

use super::rules::{ttl, CollectionTtl};
use super::size::ELEMENT_OVERHEAD;
use super::{Cache, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<Bytes>,
    bytes: usize,
}

/// What one element costs.
pub fn cost(value: &[u8]) -> usize {
    value.len() + ELEMENT_OVERHEAD
}

/// The half-open range `[start, end)` selects in a list of `len`.
pub fn slice(len: usize, start: Option<i64>, end: Option<i64>) -> std::ops::Range<usize> {
    let at = |i: i64| -> usize {
        if i < 0 {
            len.saturating_sub(i.unsigned_abs() as usize)
        } else {
            (i as usize).min(len)
        }
    };
    let start = start.map_or(0, at);
    let end = end.map_or(len, at);
    if start >= end {
        start..start
    } else {
        start..end
    }
}

impl List {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn size(&self) -> usize {
        self.bytes
    }

    /// `values` in front, in their order; then drop from the back down to
    /// `truncate_back_to` elements (0: keep all).
    pub fn push_front(&mut self, values: Vec<Bytes>, truncate_back_to: usize) {
        for value in values.into_iter().rev() {
            self.bytes += cost(&value);
            self.items.push_front(value);
        }
        if truncate_back_to > 0 {
            while self.items.len() > truncate_back_to {
                let dropped = self.items.pop_back().expect("longer than the bound");
                self.bytes -= cost(&dropped);
            }
        }
    }

    /// `values` at the back; then drop from the front down to
    /// `truncate_front_to` elements (0: keep all).
    pub fn push_back(&mut self, values: Vec<Bytes>, truncate_front_to: usize) {
        for value in values {
            self.bytes += cost(&value);
            self.items.push_back(value);
        }
        if truncate_front_to > 0 {
            while self.items.len() > truncate_front_to {
                let dropped = self.items.pop_front().expect("longer than the bound");
                self.bytes -= cost(&dropped);
            }
        }
    }

    pub fn pop_front(&mut self) -> Option<Bytes> {
        let value = self.items.pop_front()?;
        self.bytes -= cost(&value);
        Some(value)
    }

    pub fn pop_back(&mut self) -> Option<Bytes> {
        let value = self.items.pop_back()?;
        self.bytes -= cost(&value);
        Some(value)
    }

    pub fn fetch(&self, start: Option<i64>, end: Option<i64>) -> Vec<Bytes> {
        self.items
            .range(slice(self.len(), start, end))
            .cloned()
            .collect()
    }

    /// Keeps only the slice.
    pub fn retain(&mut self, start: Option<i64>, end: Option<i64>) {
        let keep = slice(self.len(), start, end);
        self.items = self.items.drain(keep).collect();
        self.bytes = self.items.iter().map(|v| cost(v)).sum();
    }

    /// Removes every element equal to `value`.
    pub fn remove_value(&mut self, value: &[u8]) {
        self.items.retain(|v| v.as_ref() != value);
        self.bytes = self.items.iter().map(|v| cost(v)).sum();
    }

    /// Removes the elements in each `(begin, count)` range of indexes.
    pub fn erase(&mut self, ranges: &[(usize, usize)]) {
        let mut index = 0;
        self.items.retain(|_| {
            let keep = !ranges
                .iter()
                .any(|&(begin, count)| index >= begin && index < begin.saturating_add(count));
            index += 1;
            keep
        });
        self.bytes = self.items.iter().map(|v| cost(v)).sum();
    }
}

/// Which end of a list a push, a concatenation or a pop is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Front,
    Back,
}

/// How ListErase picks what to erase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Erase {
    All,
    /// `(begin, count)` ranges of indexes.
    Ranges(Vec<(usize, usize)>),
}

/// The operations on a cache's lists, with Momento's rules: writes follow
/// the collection TTL and the size limits; a list emptied is removed.
impl Cache {
    /// Adds `values` at `end`, in their order, then truncates the other end
    /// to `truncate` elements (0: no truncation), creating the list if
    /// needed; its length after.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, a value over the element limit, the list
    /// over the item limit even after truncation, or another type.
    pub fn list_push(
        &self,
        key: Vec<u8>,
        values: Vec<Vec<u8>>,
        end: End,
        truncate: u32,
        ttl: CollectionTtl,
    ) -> Result<u32, StoreError> {
        self.limits()
            .check_elements(values.iter().map(Vec::as_slice))?;
        let values: Vec<Bytes> = values.into_iter().map(Bytes::from).collect();
        let added: usize = values.iter().map(|v| cost(v)).sum();
        let truncate = truncate as usize;
        self.write_collection(key.into(), ttl, |list: &mut List, limits, key| {
            // Applied once: to the list, or to a trial copy of it.
            let apply = move |list: &mut List| match end {
                End::Front => list.push_front(values, truncate),
                End::Back => list.push_back(values, truncate),
            };
            match limits.check_size(key, list.size() + added) {
                Ok(()) => apply(list),
                Err(too_large) if truncate == 0 => return Err(too_large),
                Err(_) => {
                    // Truncation may bring it back under the limit: try on a copy.
                    let mut trial = list.clone();
                    apply(&mut trial);
                    limits.check_size(key, trial.size())?;
                    *list = trial;
                }
            }
            Ok(list.len() as u32)
        })
    }

    /// Takes the element at `end`, with the length after, if there is a list.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn list_pop(&self, key: Vec<u8>, end: End) -> Result<Option<(Bytes, u32)>, StoreError> {
        let popped = self.change_collection(key.into(), None, |list: &mut List| {
            let value = match end {
                End::Front => list.pop_front(),
                End::Back => list.pop_back(),
            };
            Ok(value.map(|value| (value, list.len() as u32)))
        })?;
        Ok(popped.flatten())
    }

    /// Erases ranges of indexes, or everything; the length after, if there
    /// is a list.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn list_erase(&self, key: Vec<u8>, erase: Erase) -> Result<Option<u32>, StoreError> {
        self.change_collection(key.into(), None, |list: &mut List| {
            match &erase {
                Erase::All => list.retain(Some(0), Some(0)),
                Erase::Ranges(ranges) => list.erase(ranges),
            }
            Ok(list.len() as u32)
        })
    }

    /// Removes every element equal to `value`; the length after, if there is
    /// a list.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn list_remove(&self, key: Vec<u8>, value: &[u8]) -> Result<Option<u32>, StoreError> {
        self.change_collection(key.into(), None, |list: &mut List| {
            list.remove_value(value);
            Ok(list.len() as u32)
        })
    }

    /// The slice `[start, end)` (Python's rules), if there is a list.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn list_fetch(
        &self,
        key: &[u8],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Option<Vec<Bytes>>, StoreError> {
        self.read_collection(key, |list: &List| list.fetch(start, end))
    }

    /// How many elements, if there is a list.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn list_length(&self, key: &[u8]) -> Result<Option<u32>, StoreError> {
        self.read_collection(key, |list: &List| list.len() as u32)
    }

    /// Keeps only the slice `[start, end)`; with `refresh`, the list gets a
    /// new TTL. The length after, if there is a list.
    ///
    /// # Errors
    /// An empty key, a TTL of 0 with `refresh`, or another type.
    pub fn list_retain(
        &self,
        key: Vec<u8>,
        start: Option<i64>,
        end: Option<i64>,
        refresh: Option<u64>,
    ) -> Result<Option<u32>, StoreError> {
        let ttl = refresh.map(ttl).transpose()?;
        self.change_collection(key.into(), ttl, |list: &mut List| {
            list.retain(start, end);
            Ok(list.len() as u32)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(values: &[&str]) -> List {
        let mut l = List::default();
        l.push_back(
            values.iter().map(|v| Bytes::from(v.to_string())).collect(),
            0,
        );
        l
    }

    fn strings(values: Vec<Bytes>) -> Vec<String> {
        values
            .into_iter()
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn slices_as_the_proto_documents() {
        let digits: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        let l = list(&digits.iter().map(String::as_str).collect::<Vec<_>>());
        let fetch = |s, e| strings(l.fetch(s, e));
        let d = |r: std::ops::Range<usize>| digits[r].to_vec();
        assert_eq!(fetch(Some(5), Some(0)), d(0..0));
        assert_eq!(fetch(Some(-5), None), d(5..10));
        assert_eq!(fetch(Some(-5), Some(0)), d(0..0));
        assert_eq!(fetch(Some(2), Some(-6)), d(2..4));
        assert_eq!(fetch(Some(-7), Some(-2)), d(3..8));
        assert_eq!(fetch(Some(-2), Some(-6)), d(0..0));
        assert_eq!(fetch(Some(0), Some(0)), d(0..0));
        assert_eq!(fetch(Some(0), Some(5)), d(0..5));
        assert_eq!(fetch(None, Some(100)), d(0..10));
        let one = list(&["a"]);
        assert_eq!(strings(one.fetch(Some(-1), Some(1))), ["a"]);
        assert!(one.fetch(Some(1), Some(-1)).is_empty());
        assert!(one.fetch(Some(0), Some(-1)).is_empty());
    }

    #[test]
    fn pushes_keep_order_and_truncate_the_other_end() {
        let mut l = list(&["1", "2", "3"]);
        l.push_front(vec!["4".into(), "5".into(), "6".into()], 0);
        assert_eq!(strings(l.fetch(None, None)), ["4", "5", "6", "1", "2", "3"]);
        let mut l = list(&["1", "2", "3"]);
        l.push_back(vec!["4".into(), "5".into(), "6".into()], 5);
        assert_eq!(strings(l.fetch(None, None)), ["2", "3", "4", "5", "6"]);
        l.push_front(vec!["0".into()], 2);
        assert_eq!(strings(l.fetch(None, None)), ["0", "2"]);
        assert_eq!(l.size(), 2 * (1 + ELEMENT_OVERHEAD));
    }

    #[test]
    fn retain_remove_erase_and_pop() {
        let mut l = list(&["a", "b", "c", "a", "d", "e"]);
        l.remove_value(b"a");
        assert_eq!(strings(l.fetch(None, None)), ["b", "c", "d", "e"]);
        l.erase(&[(0, 1), (2, 1)]);
        assert_eq!(strings(l.fetch(None, None)), ["c", "e"]);
        l.retain(Some(-1), None);
        assert_eq!(strings(l.fetch(None, None)), ["e"]);
        assert_eq!(l.pop_back(), Some("e".into()));
        assert_eq!((l.pop_front(), l.len(), l.size()), (None, 0, 0));
    }
}
