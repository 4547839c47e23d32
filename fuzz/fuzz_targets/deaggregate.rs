//! Any bytes a Kinesis record can carry: the KPL deaggregator classifies them
//! without panicking, and what it unpacks packs again into an aggregate that
//! unpacks to the same user records.
#![no_main]

use kpl_aggregation::{deaggregate, Aggregator, Deaggregated, MAX_RECORD_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Deaggregated::Aggregated(users) = deaggregate(data) else {
        return;
    };
    for (i, user) in users.iter().enumerate() {
        assert_eq!(user.subsequence_number, i as u64);
    }
    let mut aggregator = Aggregator::new(MAX_RECORD_BYTES).unwrap();
    for user in &users {
        let added = aggregator.add_tagged(
            &user.partition_key,
            user.explicit_hash_key.as_deref(),
            &user.data,
            &user.tags,
        );
        // One aggregate held them all, so each fits one again.
        assert!(matches!(added, Ok(None)), "{added:?}");
    }
    if let Some(again) = aggregator.finish() {
        assert_eq!(deaggregate(&again.data), Deaggregated::Aggregated(users));
    }
});
