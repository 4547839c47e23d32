//! Momento's rules that every family of operations shares: keys and TTLs,
//! the collection TTL (a new collection gets the request's TTL, an existing
//! one only with `refresh_ttl`), the item and element size limits, the wrong
//! type, and the removal of a collection whose last element went.

use std::time::Duration;

use bytes::Bytes;

use super::dictionary::Dictionary;
use super::list::List;
use super::set::Set;
use super::sorted_set::SortedSet;
use super::{Cache, Effect, Limits, Lookup, StoreError, Value};

/// A key must not be empty.
///
/// # Errors
/// [`StoreError::Invalid`].
pub fn check_key(key: &[u8]) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::Invalid("key must not be empty"));
    }
    Ok(())
}

/// A write's TTL, from the request's milliseconds, which must be positive.
///
/// # Errors
/// [`StoreError::Invalid`] for 0.
pub fn ttl(ms: u64) -> Result<Duration, StoreError> {
    if ms == 0 {
        return Err(StoreError::Invalid("ttl_milliseconds must be positive"));
    }
    Ok(Duration::from_millis(ms))
}

/// Momento's CollectionTtl: what a write to a collection does to its TTL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionTtl {
    pub ttl: Duration,
    /// Whether an existing collection gets `ttl` too (a new one always does).
    pub refresh: bool,
}

impl CollectionTtl {
    /// From a request's `ttl_milliseconds` and `refresh_ttl`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a TTL of 0.
    pub fn new(ttl_ms: u64, refresh: bool) -> Result<Self, StoreError> {
        Ok(Self {
            ttl: ttl(ttl_ms)?,
            refresh,
        })
    }

    /// The deadline an existing collection's write sets: `None` keeps its own.
    pub fn for_existing(self) -> Option<Duration> {
        self.refresh.then_some(self.ttl)
    }
}

impl Limits {
    /// Refuses an element over the element size limit.
    ///
    /// # Errors
    /// [`StoreError::ElementTooLarge`].
    pub fn check_elements<'a>(
        &self,
        elements: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<(), StoreError> {
        for element in elements {
            if element.len() > self.max_element_bytes {
                return Err(StoreError::ElementTooLarge {
                    size: element.len(),
                    max: self.max_element_bytes,
                });
            }
        }
        Ok(())
    }

    /// Refuses an item (`key` and `size` bytes of value) over the item size limit.
    ///
    /// # Errors
    /// [`StoreError::TooLarge`].
    pub fn check_size(&self, key: &[u8], size: usize) -> Result<(), StoreError> {
        let size = key.len() + size;
        if size > self.max_item_bytes {
            return Err(StoreError::TooLarge {
                size,
                max: self.max_item_bytes,
            });
        }
        Ok(())
    }
}

/// A collection type, as the shared rules see it.
pub trait Collection: Default + Sized {
    fn wrap(self) -> Value;
    fn of(value: &Value) -> Option<&Self>;
    fn of_mut(value: &mut Value) -> Option<&mut Self>;
    fn size(&self) -> usize;
    fn is_empty(&self) -> bool;
}

macro_rules! collection {
    ($type:ty, $variant:ident) => {
        impl Collection for $type {
            fn wrap(self) -> Value {
                Value::$variant(self)
            }
            fn of(value: &Value) -> Option<&Self> {
                match value {
                    Value::$variant(c) => Some(c),
                    _ => None,
                }
            }
            fn of_mut(value: &mut Value) -> Option<&mut Self> {
                match value {
                    Value::$variant(c) => Some(c),
                    _ => None,
                }
            }
            fn size(&self) -> usize {
                <$type>::size(self)
            }
            fn is_empty(&self) -> bool {
                <$type>::is_empty(self)
            }
        }
    };
}

collection!(Dictionary, Dictionary);
collection!(List, List);
collection!(Set, Set);
collection!(SortedSet, SortedSet);

fn wrong_type(value: &Value) -> StoreError {
    StoreError::WrongType {
        found: value.item_type().name(),
    }
}

impl Cache {
    /// Reads the collection under `key` through `f`: `None` when there is
    /// none.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub(crate) fn read_collection<C: Collection, T>(
        &self,
        key: &[u8],
        f: impl FnOnce(&C) -> T,
    ) -> Result<Option<T>, StoreError> {
        check_key(key)?;
        match self.read(key, |value| {
            C::of(value).map(f).ok_or_else(|| wrong_type(value))
        }) {
            Lookup::Hit(answer) => answer.map(Some),
            Lookup::Miss => Ok(None),
        }
    }

    /// A write that creates the collection under `key` when there is none:
    /// `f` runs on the existing one (changed in place; it checks the size
    /// limit before it grows it, given the limits and the key) or on a new
    /// one (created with the TTL, checked after). The caller checks its
    /// elements against the element limit first.
    ///
    /// # Errors
    /// An empty key, the collection over the item limit, another type under
    /// `key`, or `f`'s own.
    pub(crate) fn write_collection<C: Collection, T>(
        &self,
        key: Bytes,
        ttl: CollectionTtl,
        f: impl FnOnce(&mut C, &Limits, &[u8]) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        check_key(&key)?;
        let limits = self.limits();
        self.modify(key.clone(), |current| match current {
            None => {
                let mut collection = C::default();
                let answer = f(&mut collection, &limits, &key)?;
                limits.check_size(&key, collection.size())?;
                Ok((Effect::Put(collection.wrap(), Some(ttl.ttl)), answer))
            }
            Some((value, _)) => {
                let found = value.item_type().name();
                let collection = C::of_mut(value).ok_or(StoreError::WrongType { found })?;
                let answer = f(collection, &limits, &key)?;
                Ok((Effect::Changed(ttl.for_existing()), answer))
            }
        })
    }

    /// A change to the collection under `key` if there is one: `None` when
    /// there is none. A collection left empty is removed, as Momento does;
    /// `ttl` is the deadline a change sets (`None` keeps it).
    ///
    /// # Errors
    /// An empty key, another type under `key`, or `f`'s own.
    pub(crate) fn change_collection<C: Collection, T>(
        &self,
        key: Bytes,
        ttl: Option<Duration>,
        f: impl FnOnce(&mut C) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        check_key(&key)?;
        self.modify(key, |current| {
            let Some((value, _)) = current else {
                return Ok((Effect::Unchanged, None));
            };
            let found = value.item_type().name();
            let collection = C::of_mut(value).ok_or(StoreError::WrongType { found })?;
            let answer = f(collection)?;
            let effect = if collection.is_empty() {
                Effect::Removed
            } else {
                Effect::Changed(ttl)
            };
            Ok((effect, Some(answer)))
        })
    }

    /// Removes the collection under `key` if there is one; whether there was.
    ///
    /// # Errors
    /// An empty key, or another type under `key`.
    pub(crate) fn remove_collection<C: Collection>(&self, key: Bytes) -> Result<bool, StoreError> {
        check_key(&key)?;
        self.modify(key, |current| match current {
            None => Ok((Effect::Unchanged, false)),
            Some((value, _)) if C::of(value).is_some() => Ok((Effect::Removed, true)),
            Some((value, _)) => Err(wrong_type(value)),
        })
    }
}

/// Momento's rules, decided here and checked here without gRPC: what the
/// conformance suites also check through the SDK.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::store::list::End;
    use crate::store::set::Difference;
    use crate::store::sorted_set::Aggregate;
    use crate::store::ItemType;

    fn cache() -> Cache {
        Cache::new(Limits {
            max_item_bytes: 1_000,
            max_element_bytes: 100,
            ..Limits::default()
        })
    }

    fn ttl(secs: u64, refresh: bool) -> CollectionTtl {
        CollectionTtl {
            ttl: Duration::from_secs(secs),
            refresh,
        }
    }

    fn key(name: &str) -> Vec<u8> {
        name.as_bytes().to_vec()
    }

    #[test]
    fn a_new_collection_gets_the_ttl_an_existing_one_only_with_refresh() {
        let cache = cache();
        cache
            .set_union(key("s"), vec![b"a".to_vec()], ttl(100, false))
            .unwrap();
        let first = cache.item_ttl(b"s").unwrap().unwrap();
        assert!(first > Duration::from_secs(99));
        cache
            .set_union(key("s"), vec![b"b".to_vec()], ttl(500, false))
            .unwrap();
        assert!(
            cache.item_ttl(b"s").unwrap().unwrap() <= first,
            "kept without refresh"
        );
        cache
            .set_union(key("s"), vec![b"c".to_vec()], ttl(500, true))
            .unwrap();
        assert!(cache.item_ttl(b"s").unwrap().unwrap() > Duration::from_secs(499));
    }

    #[test]
    fn a_collection_emptied_is_removed() {
        let cache = cache();
        cache
            .list_push(key("l"), vec![b"x".to_vec()], End::Back, 0, ttl(60, false))
            .unwrap();
        assert_eq!(
            cache
                .list_pop(key("l"), End::Front)
                .unwrap()
                .map(|(_, n)| n),
            Some(0)
        );
        assert_eq!(cache.item_type(b"l").unwrap(), None);

        cache
            .set_union(key("s"), vec![b"a".to_vec()], ttl(60, false))
            .unwrap();
        assert!(cache
            .set_difference(key("s"), Difference::Subtrahend(Some(vec![b"a".to_vec()])))
            .unwrap());
        assert_eq!(cache.set_length(b"s").unwrap(), None);

        cache
            .dictionary_set(
                key("d"),
                vec![(b"f".to_vec(), b"v".to_vec())],
                ttl(60, false),
            )
            .unwrap();
        assert!(cache
            .dictionary_delete(key("d"), Some(vec![b"f".to_vec()]))
            .unwrap());
        assert_eq!(cache.dictionary_length(b"d").unwrap(), None);

        let sources = [(key("nothing"), 1.0)];
        cache
            .sorted_set_put(key("z"), vec![(b"m".to_vec(), 1.0)], ttl(60, false))
            .unwrap();
        assert_eq!(
            cache.sorted_set_union_store(key("z"), &sources, Aggregate::Sum, 60_000),
            Ok(0)
        );
        assert_eq!(
            cache.sorted_set_length(b"z").unwrap(),
            None,
            "an empty union removes it"
        );
    }

    #[test]
    fn another_type_under_the_key_is_refused_and_left_alone() {
        let cache = cache();
        cache.set(key("k"), b"scalar".to_vec(), 60_000).unwrap();
        let wrong = Err(StoreError::WrongType { found: "scalar" });
        assert_eq!(cache.list_length(b"k"), wrong.clone());
        assert_eq!(
            cache.set_union(key("k"), vec![b"a".to_vec()], ttl(60, true)),
            wrong.clone().map(|_: Option<u32>| ())
        );
        assert_eq!(
            cache.dictionary_delete(key("k"), None),
            wrong.clone().map(|_: Option<u32>| false)
        );
        assert_eq!(cache.get(b"k").unwrap().as_deref(), Some(&b"scalar"[..]));
        cache
            .list_push(key("l"), vec![b"x".to_vec()], End::Back, 0, ttl(60, false))
            .unwrap();
        assert_eq!(
            cache.get(b"l"),
            Err(StoreError::WrongType { found: "list" })
        );
        assert_eq!(
            cache.increment(key("k"), 1, 60_000),
            Err(StoreError::NotAnInteger)
        );
    }

    #[test]
    fn elements_and_items_over_their_limits_are_refused() {
        let cache = cache();
        let big = vec![0; 101];
        assert_eq!(
            cache.list_push(key("l"), vec![big], End::Back, 0, ttl(60, false)),
            Err(StoreError::ElementTooLarge {
                size: 101,
                max: 100
            })
        );
        let mut pushed = 0;
        let refused = loop {
            match cache.list_push(key("l"), vec![vec![1; 90]], End::Back, 0, ttl(60, false)) {
                Ok(_) => pushed += 1,
                Err(e) => break e,
            }
        };
        assert!(
            matches!(refused, StoreError::TooLarge { max: 1_000, .. }),
            "{refused:?}"
        );
        assert_eq!(
            cache.list_length(b"l").unwrap(),
            Some(pushed),
            "the refused push changed nothing"
        );
        // Truncating the other end makes room: the same push is accepted.
        assert_eq!(
            cache.list_push(key("l"), vec![vec![1; 90]], End::Back, 3, ttl(60, false)),
            Ok(3)
        );
    }

    #[test]
    fn empty_keys_and_a_ttl_of_zero_are_invalid() {
        let cache = cache();
        assert_eq!(
            cache.get(b""),
            Err(StoreError::Invalid("key must not be empty"))
        );
        assert_eq!(
            cache.set(key("k"), b"v".to_vec(), 0),
            Err(StoreError::Invalid("ttl_milliseconds must be positive"))
        );
        assert!(CollectionTtl::new(0, true).is_err());
        assert_eq!(
            cache.dictionary_get(b"d", &[]),
            Err(StoreError::Invalid("fields must be non-empty"))
        );
        assert_eq!(
            cache.sorted_set_union_store(key("z"), &[], Aggregate::Sum, 1),
            Err(StoreError::Invalid("sources must not be empty"))
        );
    }

    #[test]
    fn update_ttl_applies_only_when_its_condition_holds() {
        use crate::store::scalar::TtlUpdate;
        let cache = cache();
        assert_eq!(
            cache.update_ttl(key("k"), TtlUpdate::OverwriteTo(1)),
            Ok(None),
            "missing"
        );
        cache.set(key("k"), b"v".to_vec(), 10_000).unwrap();
        assert_eq!(
            cache.update_ttl(key("k"), TtlUpdate::IncreaseTo(5_000)),
            Ok(Some(false))
        );
        assert_eq!(
            cache.update_ttl(key("k"), TtlUpdate::DecreaseTo(5_000)),
            Ok(Some(true))
        );
        assert!(cache.item_ttl(b"k").unwrap().unwrap() <= Duration::from_secs(5));
        assert_eq!(
            cache.update_ttl(key("k"), TtlUpdate::OverwriteTo(0)),
            Err(StoreError::ZeroTtl)
        );
        assert_eq!(cache.item_type(b"k"), Ok(Some(ItemType::Scalar)));
    }
}
