//! What the tests that apply the stack share (each test file uses a part).
#![allow(dead_code)]

pub mod terraform;
