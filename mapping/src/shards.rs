//! The shard graph after resharding: which shards may be read now. A split
//! gives two children the same `ParentShardId`; a merge gives one child a
//! `ParentShardId` and an `AdjacentParentShardId`. A child is read only after
//! every parent it names has been read to its end, so the records of one
//! partition key reach the function in order across a reshard. A parent the
//! stream no longer lists (expired) counts as read.

use std::collections::HashSet;

/// One shard as ListShards describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub parent: Option<String>,
    /// The second parent of a merge.
    pub adjacent_parent: Option<String>,
}

impl Shard {
    pub fn new(id: &str, parent: Option<&str>, adjacent_parent: Option<&str>) -> Self {
        Self {
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            adjacent_parent: adjacent_parent.map(str::to_owned),
        }
    }

    /// Its parents, one (split) or two (merge).
    pub fn parents(&self) -> impl Iterator<Item = &str> {
        self.parent
            .iter()
            .chain(&self.adjacent_parent)
            .map(String::as_str)
    }
}

/// The shards that may start now, in `shards`' order: not started or
/// finished yet, and every listed parent finished.
pub fn ready<'a>(
    shards: &'a [Shard],
    started: &HashSet<String>,
    finished: &HashSet<String>,
) -> Vec<&'a Shard> {
    let listed: HashSet<&str> = shards.iter().map(|s| s.id.as_str()).collect();
    shards
        .iter()
        .filter(|shard| !started.contains(&shard.id) && !finished.contains(&shard.id))
        .filter(|shard| {
            shard
                .parents()
                .all(|parent| !listed.contains(parent) || finished.contains(parent))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(shards: Vec<&Shard>) -> Vec<&str> {
        shards.into_iter().map(|s| s.id.as_str()).collect()
    }

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split_children_wait_for_their_parent() {
        let graph = [
            Shard::new("p", None, None),
            Shard::new("a", Some("p"), None),
            Shard::new("b", Some("p"), None),
        ];
        assert_eq!(ids(ready(&graph, &set(&[]), &set(&[]))), ["p"]);
        assert!(
            ready(&graph, &set(&["p"]), &set(&[])).is_empty(),
            "p still read"
        );
        assert_eq!(ids(ready(&graph, &set(&["p"]), &set(&["p"]))), ["a", "b"]);
    }

    #[test]
    fn a_merge_child_waits_for_both_parents() {
        let graph = [
            Shard::new("x", None, None),
            Shard::new("y", None, None),
            Shard::new("m", Some("x"), Some("y")),
        ];
        assert_eq!(ids(ready(&graph, &set(&[]), &set(&[]))), ["x", "y"]);
        let started = set(&["x", "y"]);
        assert!(
            ready(&graph, &started, &set(&["x"])).is_empty(),
            "the adjacent parent is not finished"
        );
        assert!(
            ready(&graph, &started, &set(&["y"])).is_empty(),
            "the parent is not finished"
        );
        assert_eq!(ids(ready(&graph, &started, &set(&["x", "y"]))), ["m"]);
    }

    #[test]
    fn chains_of_splits_and_merges_unfold_generation_by_generation() {
        // r splits into a and b; b splits into c and d; a and c merge into e.
        let graph = [
            Shard::new("r", None, None),
            Shard::new("a", Some("r"), None),
            Shard::new("b", Some("r"), None),
            Shard::new("c", Some("b"), None),
            Shard::new("d", Some("b"), None),
            Shard::new("e", Some("a"), Some("c")),
        ];
        let mut started = HashSet::new();
        let mut finished = HashSet::new();
        let mut generations = Vec::new();
        loop {
            let now: Vec<String> = ready(&graph, &started, &finished)
                .into_iter()
                .map(|s| s.id.clone())
                .collect();
            if now.is_empty() {
                break;
            }
            generations.push(now.clone());
            started.extend(now.iter().cloned());
            finished.extend(now);
        }
        assert_eq!(
            generations,
            [vec!["r"], vec!["a", "b"], vec!["c", "d"], vec!["e"]]
        );
    }

    #[test]
    fn expired_parents_do_not_block_their_children() {
        let graph = [
            Shard::new("a", Some("gone"), None),
            Shard::new("m", Some("a"), Some("also-gone")),
        ];
        assert_eq!(ids(ready(&graph, &set(&[]), &set(&[]))), ["a"]);
        assert_eq!(ids(ready(&graph, &set(&["a"]), &set(&["a"]))), ["m"]);
    }

    #[test]
    fn finished_shards_are_not_read_again() {
        let graph = [
            Shard::new("p", None, None),
            Shard::new("a", Some("p"), None),
        ];
        assert_eq!(ids(ready(&graph, &set(&[]), &set(&["p"]))), ["a"]);
    }
}
