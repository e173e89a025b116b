//! Ground-truth neighbour ids: one row of `k` ids per query, from `.ivecs` (TEXMEX),
//! `.ibin` (big-ann) or a 2-D `.npy` of int32 or int64 (what `np.argsort` and FAISS's
//! `search` return).
//!
//! Ground-truth files are small (queries × k), so they are read whole; ids are widened to
//! i64 and kept exact (never through f32). Every length is checked against the header
//! before the file is read, so the buffer is never sized by an unchecked field.

use std::fs::File;
use std::path::Path;

use super::dtype::Dtype;
use super::npy::{self, ID_DTYPES};
use super::source::{format_err, open_file, read_at, Format};
use super::{bin, texmex};
use crate::Error;

/// Reads a ground-truth file: the ids, row-major, and `k`, the ids per row.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be read; [`Error::Format`] naming the file and the
/// value if its type is not one of `.ivecs`, `.ibin`, `.npy` (int32, int64), or if it is
/// malformed (see [`texmex`], [`open`](super::open) for the checks).
pub fn read_ids(path: &Path) -> Result<(Vec<i64>, usize), Error> {
    match Format::of(path) {
        Some(Format::Ivecs) => {
            let (ids, k) = texmex::read_ivecs(path)?;
            Ok((ids.into_iter().map(i64::from).collect(), k))
        }
        Some(Format::Ibin) => {
            let (file, len) = open_file(path)?;
            let (rows, k) = bin::read_header(path, &file, len, Dtype::I32)?;
            Ok((read_ints(path, &file, bin::HEADER_BYTES, rows * k, 4, true)?, k))
        }
        Some(Format::Npy) => {
            let (file, len) = open_file(path)?;
            let h = npy::read_header(path, &file, len)?;
            let (size, little) = match h.descr.as_str() {
                "<i4" => (4, true),
                ">i4" => (4, false),
                "<i8" => (8, true),
                ">i8" => (8, false),
                other => {
                    let msg = format!("the .npy dtype '{other}' is not supported for ids, accepted: {ID_DTYPES}");
                    return Err(format_err(path, msg));
                }
            };
            let (n, k) = npy::shape_2d(path, &h)?;
            let rows = npy::check_len(path, &h, n, k, size, len)?;
            Ok((read_ints(path, &file, h.data_offset, rows * k, size, little)?, k))
        }
        _ => {
            let ext = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
            let msg = format!("unknown ground-truth file type '.{ext}', accepted: .ivecs, .ibin or .npy ({ID_DTYPES})");
            Err(format_err(path, msg))
        }
    }
}

/// Reads `count` integers of `size` bytes (4 or 8) from byte `offset`, widened to i64. The
/// caller has checked that the file holds them.
fn read_ints(
    path: &Path,
    file: &File,
    offset: u64,
    count: usize,
    size: usize,
    little: bool,
) -> Result<Vec<i64>, Error> {
    let mut bytes = vec![0u8; count * size];
    read_at(path, file, &mut bytes, offset)?;
    let ids = bytes.chunks_exact(size).map(|b| match (size, little) {
        (4, true) => i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        (4, false) => i64::from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        (_, true) => i64::from_le_bytes(b.try_into().expect("8 bytes")),
        (_, false) => i64::from_be_bytes(b.try_into().expect("8 bytes")),
    });
    Ok(ids.collect())
}
