//! Fuzz target: see `vq::fuzzing::pq_adc` (ffi/src/fuzzing.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vq::fuzzing::pq_adc(data));
