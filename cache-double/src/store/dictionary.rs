//! Dictionaries: field → value maps. DictionaryIncrement stores its result
//! as a base-10 string, and refuses a field that holds anything else.

use std::collections::HashMap;

use bytes::Bytes;

use super::value::ELEMENT_OVERHEAD;
use super::StoreError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionary {
    fields: HashMap<Bytes, Bytes>,
    bytes: usize,
}

fn cost(field: &[u8], value: &[u8]) -> usize {
    field.len() + value.len() + ELEMENT_OVERHEAD
}

impl Dictionary {
    pub fn get(&self, field: &[u8]) -> Option<&Bytes> {
        self.fields.get(field)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.fields.iter()
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn size(&self) -> usize {
        self.bytes
    }

    /// The size after setting `items` (for the limit check before writing).
    pub fn size_after(&self, items: &[(Bytes, Bytes)]) -> usize {
        let mut size = self.bytes;
        let mut seen = std::collections::HashSet::new();
        for (field, value) in items.iter().rev() {
            if !seen.insert(field) {
                continue; // an earlier duplicate is overwritten by a later one
            }
            if let Some(old) = self.fields.get(field) {
                size -= cost(field, old);
            }
            size += cost(field, value);
        }
        size
    }

    pub fn insert(&mut self, field: Bytes, value: Bytes) {
        self.bytes += cost(&field, &value);
        if let Some(old) = self.fields.insert(field.clone(), value) {
            self.bytes -= cost(&field, &old);
        }
    }

    pub fn remove(&mut self, field: &[u8]) {
        if let Some((field, old)) = self.fields.remove_entry(field) {
            self.bytes -= cost(&field, &old);
        }
    }

    /// Adds `amount` to the integer in `field` (0 when absent).
    ///
    /// # Errors
    /// [`StoreError::NotAnInteger`] or [`StoreError::Overflow`].
    pub fn increment(&mut self, field: Bytes, amount: i64) -> Result<i64, StoreError> {
        let old = match self.fields.get(&field) {
            Some(v) => super::parse_integer(v)?,
            None => 0,
        };
        let new = old.checked_add(amount).ok_or(StoreError::Overflow)?;
        self.insert(field, Bytes::from(new.to_string()));
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_follows_inserts_overwrites_and_removes() {
        let mut d = Dictionary::default();
        d.insert("a".into(), "12".into());
        assert_eq!(d.size(), 1 + 2 + ELEMENT_OVERHEAD);
        assert_eq!(
            d.size_after(&[("a".into(), "1".into()), ("b".into(), "x".into())]),
            (1 + 1 + ELEMENT_OVERHEAD) * 2
        );
        d.insert("a".into(), "1".into());
        assert_eq!(d.size(), 1 + 1 + ELEMENT_OVERHEAD);
        assert_eq!(d.increment("a".into(), 41), Ok(42));
        assert_eq!(d.increment("n".into(), -1), Ok(-1));
        d.insert("s".into(), "text".into());
        assert_eq!(d.increment("s".into(), 1), Err(StoreError::NotAnInteger));
        d.remove(b"a");
        d.remove(b"n");
        d.remove(b"s");
        assert_eq!((d.len(), d.size()), (0, 0));
    }
}
