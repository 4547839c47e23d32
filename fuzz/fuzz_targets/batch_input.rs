//! Any invocation payload: the handler's event type either refuses it as a
//! whole or reads it, and then every record gets a shard and is unpacked into
//! its user records (a KPL aggregate's too), each decoded or given a poison
//! reason, or the whole record is: never a panic.
#![no_main]

use consumer::KinesisInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<KinesisInput>(data) else {
        return;
    };
    for record in &input.records {
        let shard = record.shard_id();
        assert!(!shard.contains(':'));
        match record.unpack() {
            Ok(unpacked) => {
                assert!(unpacked.aggregate || unpacked.users.len() == 1);
                for user in unpacked.users {
                    match user.decode() {
                        Ok(decoded) => decoded.validate().expect("a decoded record is valid"),
                        Err(poison) => assert!(matches!(
                            poison.reason,
                            "too_large" | "not_json" | "schema" | "invalid_field"
                        )),
                    }
                }
            }
            Err(poison) => assert!(matches!(poison.reason, "bad_base64" | "bad_aggregate")),
        }
    }
});
