//! Fuzz target: see `vq_ffi::fuzzing::fastscan_packed` (ffi/src/fuzzing.rs) for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| vq_ffi::fuzzing::fastscan_packed(data));
