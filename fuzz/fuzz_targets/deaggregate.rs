//! Any bytes a Kinesis record can carry: the KPL deaggregator classifies them
//! without panicking, and what it unpacks packs again into an aggregate that
//! unpacks to the same user records.
//!
//! Raw bytes almost never carry a matching MD5, so the checksum would stop
//! nearly every input before the protobuf. An input whose first byte is even
//! is framed by the target instead: magic bytes, the rest of the input as the
//! protobuf, its MD5. The count of inputs that decoded as aggregates is
//! printed when the run ends (`.ci/fuzz.sh` shows it). (A whole aggregate
//! starts with 0xF3, odd: the seeds go in as they are.)
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use kpl_aggregation::{deaggregate, frame, Aggregator, Deaggregated, MAX_RECORD_BYTES};
use libfuzzer_sys::fuzz_target;

static INPUTS: AtomicU64 = AtomicU64::new(0);
static FRAMED: AtomicU64 = AtomicU64::new(0);
static AGGREGATES: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn report() {
    eprintln!(
        "deaggregate: {} inputs, {} framed by the target, {} decoded as aggregates",
        INPUTS.load(Ordering::Relaxed),
        FRAMED.load(Ordering::Relaxed),
        AGGREGATES.load(Ordering::Relaxed)
    );
}

fuzz_target!(|input: &[u8]| {
    // SAFETY: `report` is a plain function that only reads atomics.
    REGISTER.call_once(|| unsafe {
        atexit(report);
    });
    INPUTS.fetch_add(1, Ordering::Relaxed);
    let framed;
    let data = match input.split_first() {
        Some((first, message)) if first & 1 == 0 => {
            FRAMED.fetch_add(1, Ordering::Relaxed);
            framed = frame(message);
            &framed[..]
        }
        _ => input,
    };
    let Deaggregated::Aggregated(users) = deaggregate(data) else {
        return;
    };
    AGGREGATES.fetch_add(1, Ordering::Relaxed);
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
