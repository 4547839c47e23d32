//! Which shard a partition key goes to: the stream's open shards and their
//! hash key ranges (ListShards), for packing each shard's user records into
//! aggregates of their own.

use aws_sdk_kinesis::Client;

/// An open shard and the hash keys it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub id: String,
    pub start: u128,
    pub end: u128,
}

/// The open shards of a stream, by hash key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShardMap {
    /// Sorted by `start`; together they cover the hash key space.
    shards: Vec<Shard>,
}

impl ShardMap {
    /// A map of `shards` (closed ones already left out).
    pub fn new(mut shards: Vec<Shard>) -> Self {
        shards.sort_by_key(|s| s.start);
        Self { shards }
    }

    /// The stream's open shards, now: a closed shard (a reshard's parent,
    /// with an ending sequence number) takes no more records.
    ///
    /// # Errors
    /// The ListShards call failed, or answered a hash key that is not a number.
    pub async fn load(client: &Client, stream: &str) -> Result<Self, String> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = client.list_shards();
            let request = match &token {
                Some(token) => request.next_token(token),
                None if stream.starts_with("arn:") => request.stream_arn(stream),
                None => request.stream_name(stream),
            };
            let page = request.send().await.map_err(|e| {
                format!(
                    "ListShards on `{stream}`: {}",
                    aws_sdk_kinesis::error::DisplayErrorContext(&e)
                )
            })?;
            for shard in page.shards() {
                let closed = shard
                    .sequence_number_range()
                    .and_then(|r| r.ending_sequence_number())
                    .is_some();
                if closed {
                    continue;
                }
                let range = shard.hash_key_range();
                let number = |text: Option<&str>| -> Result<u128, String> {
                    text.unwrap_or_default().parse().map_err(|_| {
                        format!(
                            "shard {} has a hash key that is not a number",
                            shard.shard_id()
                        )
                    })
                };
                shards.push(Shard {
                    id: shard.shard_id().to_owned(),
                    start: number(range.map(|r| r.starting_hash_key()))?,
                    end: number(range.map(|r| r.ending_hash_key()))?,
                });
            }
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(Self::new(shards));
            }
        }
    }

    /// The open shard whose range holds `hash`.
    pub fn shard_of(&self, hash: u128) -> Option<&Shard> {
        let after = self.shards.partition_point(|s| s.start <= hash);
        after
            .checked_sub(1)
            .map(|i| &self.shards[i])
            .filter(|s| hash <= s.end)
    }

    /// [`ShardMap::shard_of`], or in a gap the shard before it (the first
    /// shard below all).
    ///
    /// # Panics
    /// On an empty map.
    pub fn nearest(&self, hash: u128) -> &Shard {
        let after = self.shards.partition_point(|s| s.start <= hash);
        &self.shards[after.saturating_sub(1)]
    }

    /// Whether `shard_id` is one of the open shards.
    pub fn contains(&self, shard_id: &str) -> bool {
        self.shards.iter().any(|s| s.id == shard_id)
    }

    pub fn len(&self) -> usize {
        self.shards.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shards.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hash_falls_in_exactly_its_shard() {
        let half = u128::MAX / 2;
        let map = ShardMap::new(vec![
            Shard {
                id: "b".into(),
                start: half + 1,
                end: u128::MAX,
            },
            Shard {
                id: "a".into(),
                start: 0,
                end: half,
            },
        ]);
        assert_eq!(map.shard_of(0).unwrap().id, "a");
        assert_eq!(map.shard_of(half).unwrap().id, "a");
        assert_eq!(map.shard_of(half + 1).unwrap().id, "b");
        assert_eq!(map.shard_of(u128::MAX).unwrap().id, "b");
        let gap = ShardMap::new(vec![Shard {
            id: "a".into(),
            start: 10,
            end: 20,
        }]);
        assert!(gap.shard_of(5).is_none() && gap.shard_of(21).is_none());
    }
}
