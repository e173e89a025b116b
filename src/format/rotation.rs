//! The `ROTN` section OPQ and RaBitQ files share: a rotation applied before quantizing.
//!
//! A 64-byte header, `d_out` u64 (the rotation's rows: OPQ's inner dimension, RaBitQ's
//! `dim`), the section's own version u32 (`1`), 52 reserved bytes zero; then `d_out × dim`
//! f32, row-major, starting 64 bytes into the section so a reader that maps the file can
//! use it in place. The kind checks what the matrix must be (finite, orthonormal columns)
//! when it builds the quantizer.

use super::fmt_err;
use super::reader::{find, read_f32s, to_usize, u32_at, u64_at, Entry, Source};
use super::writer::f32_bytes;
use crate::Error;

/// The section's tag.
pub(super) const ROTN: [u8; 4] = *b"ROTN";
/// The version of the section's layout this library writes and reads.
const VERSION: u32 = 1;
const HEADER: usize = 64;

/// The section's bytes for a `d_out × dim` row-major `rotation`.
pub(super) fn section(d_out: usize, rotation: &[f32]) -> Vec<u8> {
    let mut rotn = vec![0u8; HEADER];
    rotn[..8].copy_from_slice(&(d_out as u64).to_le_bytes());
    rotn[8..12].copy_from_slice(&VERSION.to_le_bytes());
    rotn.extend_from_slice(&f32_bytes(rotation));
    rotn
}

/// `d_out` and the `d_out × dim` rotation of a file's `ROTN` section, with `d_out >= dim`.
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    dim: usize,
    name: &str,
) -> Result<(usize, Vec<f32>), Error> {
    let e = find(entries, &ROTN, name)?;
    if e.len < HEADER as u64 || e.len % 4 != 0 {
        return Err(fmt_err(name, format!("section ROTN has {} bytes, expected 64 + a whole number of f32", e.len)));
    }
    // The whole section, checksummed as it is read; the reader has checked it lies inside
    // the input, so this allocates no more than the input holds.
    let mut all = read_f32s(src, &e, name, "invalid ROTN section")?;
    let head: Vec<u8> = all[..HEADER / 4].iter().flat_map(|v| v.to_bits().to_le_bytes()).collect();
    let version = u32_at(&head, 8);
    if version != VERSION {
        return Err(fmt_err(name, format!("ROTN version = {version}, this library reads version {VERSION}")));
    }
    if head[12..].iter().any(|&b| b != 0) {
        return Err(fmt_err(name, "reserved ROTN header bytes are not zero"));
    }
    let d_out = to_usize(name, "d_out", u64_at(&head, 0))?;
    let want = d_out.checked_mul(dim).and_then(|n| n.checked_mul(4)).and_then(|n| n.checked_add(HEADER));
    if d_out < dim || want.is_none_or(|w| w as u64 != e.len) {
        return Err(fmt_err(
            name,
            format!(
                "d_out = {d_out} in ROTN with {} bytes, expected d_out >= {dim} (the dimension) and 64 + d_out·dim·4 bytes",
                e.len
            ),
        ));
    }
    all.drain(..HEADER / 4);
    Ok((d_out, all))
}
