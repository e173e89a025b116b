//! Helpers for tests and fuzzers that build or edit model files on purpose.
//!
//! Not part of the documented API (the module is `#[doc(hidden)]`): they exist so the
//! loader's deeper checks can be reached, and change whenever those checks do. The loader
//! never calls them.

use super::reader::{u32_at, u64_at};
use super::{header_crc, DIR_ENTRY, HEADER, MAX_SECTIONS};
use crate::crc32c::crc32c;

/// Recomputes, in place, every checksum of a model file whose header and directory can be
/// located: each in-bounds section's CRC, then the header's. For tools that edit files on
/// purpose (tests of the loader's deeper checks, fuzzers, which would otherwise never get
/// past a checksum); a loader never calls it. Input it cannot make sense of is left as is.
pub fn reseal(bytes: &mut [u8]) {
    if bytes.len() < HEADER {
        return;
    }
    let nsec = (u32_at(bytes, 20) as usize).min(MAX_SECTIONS);
    let dir_end = HEADER + nsec * DIR_ENTRY;
    if bytes.len() < dir_end {
        return;
    }
    for i in 0..nsec {
        let e = HEADER + i * DIR_ENTRY;
        let (off, len) = (u64_at(bytes, e + 8), u64_at(bytes, e + 16));
        let range =
            usize::try_from(off).ok().zip(usize::try_from(len).ok()).and_then(|(o, l)| Some(o..o.checked_add(l)?));
        if let Some(data) = range.and_then(|r| bytes.get(r)) {
            let crc = crc32c(data);
            bytes[e + 4..e + 8].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = header_crc(&bytes[..HEADER], &bytes[HEADER..dir_end]);
    bytes[48..52].copy_from_slice(&crc.to_le_bytes());
}
