//! Fuzz target: see `vq::fuzzing::load_model` (ffi/src/fuzzing.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vq::fuzzing::load_model(data));
