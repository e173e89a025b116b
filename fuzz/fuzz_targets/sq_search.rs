//! Fuzz target: see `vq::fuzzing::sq_search` (ffi/src/fuzzing.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vq::fuzzing::sq_search(data));
