//! End-to-end tests live in `tests/` of this crate, behind the `integration`
//! feature: `cargo test --features integration` (what `.ci/run` runs).
