//! What an item holds: one of Momento's five item types, each in a module of
//! its own with its semantics. Every collection keeps its own byte size, so
//! accounting is O(1) per operation.

use bytes::Bytes;

use super::dictionary::Dictionary;
use super::list::List;
use super::set::Set;
use super::sorted_set::SortedSet;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Bytes),
    Dictionary(Dictionary),
    List(List),
    Set(Set),
    SortedSet(SortedSet),
}

/// The item types Momento's ItemGetType reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemType {
    Scalar,
    Dictionary,
    List,
    Set,
    SortedSet,
}

impl ItemType {
    pub const ALL: [ItemType; 5] = [
        ItemType::Scalar,
        ItemType::Dictionary,
        ItemType::List,
        ItemType::Set,
        ItemType::SortedSet,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ItemType::Scalar => "scalar",
            ItemType::Dictionary => "dictionary",
            ItemType::List => "list",
            ItemType::Set => "set",
            ItemType::SortedSet => "sorted_set",
        }
    }
}

impl Value {
    /// Bytes the value occupies (elements and their overhead).
    pub fn size(&self) -> usize {
        match self {
            Value::Scalar(v) => v.len(),
            Value::Dictionary(d) => d.size(),
            Value::List(l) => l.size(),
            Value::Set(s) => s.size(),
            Value::SortedSet(s) => s.size(),
        }
    }

    pub fn item_type(&self) -> ItemType {
        match self {
            Value::Scalar(_) => ItemType::Scalar,
            Value::Dictionary(_) => ItemType::Dictionary,
            Value::List(_) => ItemType::List,
            Value::Set(_) => ItemType::Set,
            Value::SortedSet(_) => ItemType::SortedSet,
        }
    }
}
