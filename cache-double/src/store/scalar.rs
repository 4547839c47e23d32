//! Scalars: get and set (conditionally too), delete, existence, increment,
//! and the TTL and type of any item. A scalar operation on a collection, or
//! an increment of a non-integer, is a [`StoreError`].

use std::time::Duration;

use bytes::Bytes;

use super::rules::{check_key, ttl};
use super::{parse_integer, Cache, Change, Effect, ItemType, Lookup, StoreError, Value};

/// A stable digest of a value for GetWithHash and SetIfHash (the SDKs only
/// compare these for equality): FNV-1a, 64 bits.
pub fn hash(value: &[u8]) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in value {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.to_be_bytes().to_vec()
}

/// What UpdateTtl asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtlUpdate {
    /// Only if longer than what is left.
    IncreaseTo(u64),
    /// Only if shorter than what is left.
    DecreaseTo(u64),
    OverwriteTo(u64),
}

fn scalar(value: &Value) -> Result<&Bytes, StoreError> {
    match value {
        Value::Scalar(body) => Ok(body),
        other => Err(StoreError::WrongType {
            found: other.item_type().name(),
        }),
    }
}

impl Cache {
    /// The scalar under `key`, if any.
    ///
    /// # Errors
    /// An empty key, or a collection under it.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>, StoreError> {
        check_key(key)?;
        match self.read(key, |value| scalar(value).cloned()) {
            Lookup::Hit(body) => body.map(Some),
            Lookup::Miss => Ok(None),
        }
    }

    /// Stores `body` under `key` for `ttl_ms`, replacing whatever was there.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, or an item over the size limit.
    pub fn set(&self, key: Vec<u8>, body: Vec<u8>, ttl_ms: u64) -> Result<(), StoreError> {
        check_key(&key)?;
        self.put(key.into(), Value::Scalar(body.into()), ttl(ttl_ms)?)
    }

    /// Stores `body` when `condition` holds for the current scalar (`None`
    /// when absent); whether it was stored.
    ///
    /// # Errors
    /// As [`Cache::set`], or a collection under `key`.
    pub fn set_if(
        &self,
        key: Vec<u8>,
        body: Vec<u8>,
        ttl_ms: u64,
        condition: impl FnOnce(Option<&[u8]>) -> bool,
    ) -> Result<bool, StoreError> {
        check_key(&key)?;
        let ttl = ttl(ttl_ms)?;
        self.update(key.into(), |current| {
            let current = current.map(|(value, _)| scalar(value)).transpose()?;
            Ok(if condition(current.map(Bytes::as_ref)) {
                (Change::Put(Value::Scalar(body.into()), Some(ttl)), true)
            } else {
                (Change::Keep, false)
            })
        })
    }

    /// Removes any item under `key`; whether one was there.
    ///
    /// # Errors
    /// An empty key.
    pub fn delete(&self, key: &[u8]) -> Result<bool, StoreError> {
        check_key(key)?;
        Ok(self.remove(key))
    }

    /// Whether each key holds an item, of any type.
    ///
    /// # Errors
    /// An empty key.
    pub fn exist(&self, keys: &[Vec<u8>]) -> Result<Vec<bool>, StoreError> {
        keys.iter().try_for_each(|key| check_key(key))?;
        Ok(keys
            .iter()
            .map(|key| matches!(self.read(key, |_| ()), Lookup::Hit(())))
            .collect())
    }

    /// Adds `amount` to the integer under `key` (0 when absent), stored as
    /// decimal text with a new TTL; the new value.
    ///
    /// # Errors
    /// An empty key, a TTL of 0, a value that is not an integer, overflow,
    /// or a collection under `key`.
    pub fn increment(&self, key: Vec<u8>, amount: i64, ttl_ms: u64) -> Result<i64, StoreError> {
        check_key(&key)?;
        let ttl = ttl(ttl_ms)?;
        self.update(key.into(), |current| {
            let old = match current {
                None => 0,
                Some((value, _)) => parse_integer(scalar(value)?)?,
            };
            let new = old.checked_add(amount).ok_or(StoreError::Overflow)?;
            Ok((
                Change::Put(Value::Scalar(Bytes::from(new.to_string())), Some(ttl)),
                new,
            ))
        })
    }

    /// Changes the TTL of any item: `None` when there is none, else whether
    /// the condition held and the TTL was set.
    ///
    /// # Errors
    /// An empty key, or a TTL of 0.
    pub fn update_ttl(&self, key: Vec<u8>, update: TtlUpdate) -> Result<Option<bool>, StoreError> {
        check_key(&key)?;
        self.modify(key.into(), |current| {
            let Some((_, remaining)) = current else {
                return Ok((Effect::Unchanged, None));
            };
            let (wanted, apply) = match update {
                TtlUpdate::IncreaseTo(ms) => (ms, Duration::from_millis(ms) > remaining),
                TtlUpdate::DecreaseTo(ms) => (ms, Duration::from_millis(ms) < remaining),
                TtlUpdate::OverwriteTo(ms) => (ms, true),
            };
            if wanted == 0 {
                return Err(StoreError::ZeroTtl);
            }
            Ok(if apply {
                (
                    Effect::Changed(Some(Duration::from_millis(wanted))),
                    Some(true),
                )
            } else {
                (Effect::Unchanged, Some(false))
            })
        })
    }

    /// What is left of any item's TTL.
    ///
    /// # Errors
    /// An empty key.
    pub fn item_ttl(&self, key: &[u8]) -> Result<Option<Duration>, StoreError> {
        check_key(key)?;
        Ok(self.ttl(key))
    }

    /// The type of the item under `key`.
    ///
    /// # Errors
    /// An empty key.
    pub fn item_type(&self, key: &[u8]) -> Result<Option<ItemType>, StoreError> {
        check_key(key)?;
        Ok(match self.read(key, Value::item_type) {
            Lookup::Hit(found) => Some(found),
            Lookup::Miss => None,
        })
    }
}
