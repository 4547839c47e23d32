//! Dictionaries: field → value maps. DictionaryIncrement stores its result
//! as a base-10 string, and refuses a field that holds anything else.

use std::collections::HashMap;

use bytes::Bytes;

use super::rules::CollectionTtl;
use super::size::ELEMENT_OVERHEAD;
use super::{Cache, StoreError};

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

/// The operations on a cache's dictionaries, with Momento's rules: writes
/// follow the collection TTL and the size limits; deleting the last field
/// removes the dictionary.
impl Cache {
    /// The values of `fields` (`None` for a field it lacks), if there is a
    /// dictionary.
    ///
    /// # Errors
    /// An empty key or field, no field, or another type under `key`.
    pub fn dictionary_get(
        &self,
        key: &[u8],
        fields: &[Vec<u8>],
    ) -> Result<Option<Vec<Option<Bytes>>>, StoreError> {
        if fields.is_empty() || fields.iter().any(Vec::is_empty) {
            return Err(StoreError::Invalid("fields must be non-empty"));
        }
        self.read_collection(key, |dictionary: &Dictionary| {
            fields.iter().map(|f| dictionary.get(f).cloned()).collect()
        })
    }

    /// Every field and value, if there is a dictionary.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn dictionary_fetch(&self, key: &[u8]) -> Result<Option<Vec<(Bytes, Bytes)>>, StoreError> {
        self.read_collection(key, |dictionary: &Dictionary| {
            dictionary
                .iter()
                .map(|(f, v)| (f.clone(), v.clone()))
                .collect()
        })
    }

    /// Sets `items` (field, value), creating the dictionary if needed.
    ///
    /// # Errors
    /// An empty key or field, no item, a TTL of 0, a value or the
    /// dictionary over its limit, or another type under `key`.
    pub fn dictionary_set(
        &self,
        key: Vec<u8>,
        items: Vec<(Vec<u8>, Vec<u8>)>,
        ttl: CollectionTtl,
    ) -> Result<(), StoreError> {
        if items.is_empty() || items.iter().any(|(field, _)| field.is_empty()) {
            return Err(StoreError::Invalid(
                "items must be non-empty, with non-empty fields",
            ));
        }
        self.limits()
            .check_elements(items.iter().map(|(_, v)| v.as_slice()))?;
        let items: Vec<(Bytes, Bytes)> = items
            .into_iter()
            .map(|(f, v)| (f.into(), v.into()))
            .collect();
        self.write_collection(
            key.into(),
            ttl,
            |dictionary: &mut Dictionary, limits, key| {
                limits.check_size(key, dictionary.size_after(&items))?;
                for (field, value) in items {
                    dictionary.insert(field, value);
                }
                Ok(())
            },
        )
    }

    /// Adds `amount` to the integer in `field`, creating it (and the
    /// dictionary) at 0; the new value.
    ///
    /// # Errors
    /// An empty key or field, a TTL of 0, a field that is not an integer,
    /// overflow, or another type under `key`.
    pub fn dictionary_increment(
        &self,
        key: Vec<u8>,
        field: Vec<u8>,
        amount: i64,
        ttl: CollectionTtl,
    ) -> Result<i64, StoreError> {
        if field.is_empty() {
            return Err(StoreError::Invalid("field must be non-empty"));
        }
        self.write_collection(key.into(), ttl, |dictionary: &mut Dictionary, _, _| {
            dictionary.increment(field.into(), amount)
        })
    }

    /// Removes `fields` (`None`: the whole dictionary); whether there was one.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn dictionary_delete(
        &self,
        key: Vec<u8>,
        fields: Option<Vec<Vec<u8>>>,
    ) -> Result<bool, StoreError> {
        match fields {
            None => self.remove_collection::<Dictionary>(key.into()),
            Some(fields) => Ok(self
                .change_collection(key.into(), None, |dictionary: &mut Dictionary| {
                    for field in &fields {
                        dictionary.remove(field);
                    }
                    Ok(())
                })?
                .is_some()),
        }
    }

    /// How many fields, if there is a dictionary.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub fn dictionary_length(&self, key: &[u8]) -> Result<Option<u32>, StoreError> {
        self.read_collection(key, |dictionary: &Dictionary| dictionary.len() as u32)
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
