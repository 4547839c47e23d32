//! Any bytes a producer can put on the stream: the decoder classifies them
//! without panicking, and what it accepts is valid and survives a round trip
//! (after the first encoding, which cuts `created_at` to milliseconds).
#![no_main]

use libfuzzer_sys::fuzz_target;
use model::ModelOne;

fuzz_target!(|data: &[u8]| {
    match ModelOne::decode(data) {
        Ok(record) => {
            record.validate().expect("a decoded record is valid");
            let once = ModelOne::decode(&record.to_json()).expect("re-encoded record decodes");
            let twice = ModelOne::decode(&once.to_json()).expect("re-encoded record decodes");
            assert_eq!(once, twice);
            assert_eq!(
                (&once.id, &once.read_location),
                (&record.id, &record.read_location)
            );
        }
        Err(error) => {
            // Every refusal carries one of the stable reasons the DLQ uses.
            assert!(matches!(
                error.kind(),
                "too_large" | "not_json" | "schema" | "invalid_field"
            ));
        }
    }
});
