//! Packing user records into KPL aggregates, as KPL does: the records of each
//! shard together, so that each one lands on the shard its own partition key
//! hashes to. No I/O: the shard map comes in, the Kinesis records go out.

use kpl_aggregation::{hash_key, AggregateError, Aggregator};
use model::ModelOne;

use crate::shards::ShardMap;

/// One Kinesis record to put: an aggregate (or, for a user record too large
/// for one, the record as it is), and the user records it carries.
#[derive(Debug, Clone)]
pub struct Packed {
    /// The shard the map says it goes to.
    pub shard_id: String,
    pub partition_key: String,
    /// Inside the shard's hash key range: the first user record's hash key.
    pub explicit_hash_key: String,
    pub data: Vec<u8>,
    pub records: Vec<ModelOne>,
}

/// Packs `records` into aggregates of at most `max_bytes`, one run of
/// aggregates per shard, each user record with the others of its shard, in
/// the order given. The open shards of a stream cover every hash key; were
/// one not covered, its records would go to the shard after the gap's
/// start (the map's nearest), as a map that is off can only misplace.
///
/// # Errors
/// `map` holds no shard, or `max_bytes` is not a size an aggregate can have.
pub fn pack(
    records: Vec<ModelOne>,
    map: &ShardMap,
    max_bytes: usize,
) -> Result<Vec<Packed>, (String, Vec<ModelOne>)> {
    if map.is_empty() {
        return Err(("the stream has no open shard".to_owned(), records));
    }
    if let Err(e) = Aggregator::new(max_bytes) {
        return Err((e.to_string(), records));
    }
    // Each shard's records, shards in order of first appearance.
    let mut groups: Vec<(String, Vec<ModelOne>)> = Vec::new();
    for record in records {
        let shard = map.nearest(hash_key(&record.id));
        match groups.iter_mut().find(|(id, _)| *id == shard.id) {
            Some((_, group)) => group.push(record),
            None => groups.push((shard.id.clone(), vec![record])),
        }
    }
    let mut packed = Vec::new();
    for (shard_id, group) in groups {
        let mut aggregator = Aggregator::new(max_bytes).expect("checked above");
        let mut carried: Vec<ModelOne> = Vec::new();
        let flush = |data: Vec<u8>, records: Vec<ModelOne>, packed: &mut Vec<Packed>| {
            let first = &records[0].id;
            packed.push(Packed {
                shard_id: shard_id.clone(),
                partition_key: first.clone(),
                explicit_hash_key: hash_key(first).to_string(),
                data,
                records,
            });
        };
        for record in group {
            let json = record.to_json();
            match aggregator.add(&record.id, None, &json) {
                Ok(None) => carried.push(record),
                Ok(Some(full)) => {
                    flush(full.data, std::mem::take(&mut carried), &mut packed);
                    carried.push(record);
                }
                // Too large for any aggregate: on its own, as a plain record.
                Err(AggregateError::TooLarge { .. }) => flush(json, vec![record], &mut packed),
                Err(e) => unreachable!("only TooLarge comes from add: {e}"),
            }
        }
        if let Some(last) = aggregator.finish() {
            flush(last.data, carried, &mut packed);
        }
    }
    Ok(packed)
}

/// The user records of an aggregate Kinesis put on shard `landed` that
/// belong elsewhere by `map` (read after the reshard): a split between the
/// map the aggregate was packed with and its PutRecords puts it on the child
/// its explicit hash key falls in, with the keys of both children. `None`
/// when `landed` is not an open shard of `map` (it cannot be told; AWS never
/// writes to a closed shard, moto does).
pub fn misplaced(records: Vec<ModelOne>, landed: &str, map: &ShardMap) -> Option<Vec<ModelOne>> {
    if !map.contains(landed) {
        return None;
    }
    Some(
        records
            .into_iter()
            .filter(|record| map.nearest(hash_key(&record.id)).id != landed)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use kpl_aggregation::{deaggregate, Deaggregated};

    use super::*;
    use crate::shards::Shard;

    /// After a split: the parent is closed (not in the map), two children.
    fn split_map() -> ShardMap {
        let half = u128::MAX / 2;
        ShardMap::new(vec![
            Shard {
                id: "shardId-000000000001".into(),
                start: 0,
                end: half,
            },
            Shard {
                id: "shardId-000000000002".into(),
                start: half + 1,
                end: u128::MAX,
            },
        ])
    }

    fn records(n: usize) -> Vec<ModelOne> {
        (0..n)
            .map(|i| ModelOne::new(["Car", "House", "Diner"][i % 3]))
            .collect()
    }

    #[test]
    fn every_user_record_is_packed_for_the_shard_its_key_hashes_to() {
        let map = split_map();
        let input = records(2_000);
        let packed = pack(input.clone(), &map, 4_096).unwrap();
        assert!(packed.len() > 2, "several aggregates per shard");
        let mut seen = Vec::new();
        for p in &packed {
            let shard = map.shard_of(p.explicit_hash_key.parse().unwrap()).unwrap();
            assert_eq!(shard.id, p.shard_id, "the aggregate goes to its shard");
            assert!(p.data.len() <= 4_096);
            let Deaggregated::Aggregated(users) = deaggregate(&p.data) else {
                panic!()
            };
            assert_eq!(users.len(), p.records.len());
            for (user, record) in users.iter().zip(&p.records) {
                assert_eq!(user.partition_key, record.id);
                assert_eq!(
                    map.shard_of(hash_key(&user.partition_key)).unwrap().id,
                    p.shard_id,
                    "each user record is on the shard its own key hashes to"
                );
            }
            seen.extend(p.records.iter().map(|r| r.id.clone()));
        }
        let mut expected: Vec<String> = input.into_iter().map(|r| r.id).collect();
        expected.sort();
        seen.sort();
        assert_eq!(seen, expected, "each user record exactly once");
    }

    #[test]
    fn a_shards_records_keep_their_order() {
        let map = split_map();
        let input = records(300);
        let packed = pack(input.clone(), &map, 2_048).unwrap();
        for shard in ["shardId-000000000001", "shardId-000000000002"] {
            let expected: Vec<&String> = input
                .iter()
                .filter(|r| map.shard_of(hash_key(&r.id)).unwrap().id == shard)
                .map(|r| &r.id)
                .collect();
            let got: Vec<&String> = packed
                .iter()
                .filter(|p| p.shard_id == shard)
                .flat_map(|p| p.records.iter().map(|r| &r.id))
                .collect();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_record_too_large_for_an_aggregate_goes_as_it_is() {
        let map = split_map();
        let packed = pack(records(3), &map, 100).unwrap();
        assert_eq!(packed.len(), 3);
        for p in &packed {
            assert_eq!(deaggregate(&p.data), Deaggregated::Plain);
            assert_eq!(p.data, p.records[0].to_json());
        }
    }

    #[test]
    fn after_a_split_the_records_on_the_wrong_child_are_found() {
        // Packed for the parent, then the parent split: Kinesis puts the
        // aggregate on the child its explicit hash key falls in.
        let parent = ShardMap::new(vec![Shard {
            id: "shardId-000000000000".into(),
            start: 0,
            end: u128::MAX,
        }]);
        let input = records(200);
        let packed = pack(input, &parent, 1_048_576).unwrap();
        assert_eq!(packed.len(), 1);
        let children = split_map();
        let landed = &children
            .shard_of(packed[0].explicit_hash_key.parse().unwrap())
            .unwrap()
            .id;
        let wrong = misplaced(packed[0].records.clone(), landed, &children).unwrap();
        assert!(!wrong.is_empty() && wrong.len() < 200, "{}", wrong.len());
        for record in &wrong {
            assert_ne!(&children.shard_of(hash_key(&record.id)).unwrap().id, landed);
        }
        let right = packed[0].records.len() - wrong.len();
        let expected_right = packed[0]
            .records
            .iter()
            .filter(|r| &children.shard_of(hash_key(&r.id)).unwrap().id == landed)
            .count();
        assert_eq!(right, expected_right);
        assert_eq!(
            misplaced(packed[0].records.clone(), "shardId-000000000000", &children),
            None,
            "a closed shard (moto writes there) cannot be told"
        );
    }

    #[test]
    fn no_open_shard_is_an_error() {
        let (_, back) = pack(records(2), &ShardMap::default(), 4_096).unwrap_err();
        assert_eq!(back.len(), 2, "the records come back to be reported");
    }
}
