//! big-ann-benchmarks binary files: `.fbin` (f32), `.u8bin`, `.i8bin`, `.ibin` (i32).
//!
//! The layout of the NeurIPS'21 big-ann-benchmarks sets (BIGANN, Deep1B, Text2Image, ...)
//! and of their ground truth: a little-endian u32 row count, a u32 dimension, then the rows,
//! row-major, little-endian. The header must match the file's length exactly (8 + rows ·
//! dim · size bytes), so a truncated or foreign file is reported when opened, naming the
//! expected and actual sizes, before any row is read.

use std::fs::File;
use std::path::Path;

use super::dtype::{Dtype, Encoding};
use super::source::{format_err, read_at, Layout, Part};
use super::MAX_DIM;
use crate::Error;

/// Bytes of the header: u32 rows, u32 dimension.
pub(crate) const HEADER_BYTES: u64 = 8;

/// Opens a big-ann file of `dtype` values, its header checked against its length.
pub(crate) fn open_part(path: &Path, file: File, len: u64, dtype: Dtype) -> Result<Part, Error> {
    let (rows, dim) = read_header(path, &file, len, dtype)?;
    Ok(Part {
        path: path.to_path_buf(),
        file,
        rows,
        dim,
        enc: Encoding::le(dtype),
        layout: Layout::Dense { offset: HEADER_BYTES },
    })
}

/// `(rows, dim)` from the header of a big-ann file of `len` bytes and `dtype` values,
/// checked against the length; the rows start at [`HEADER_BYTES`].
pub(crate) fn read_header(path: &Path, file: &File, len: u64, dtype: Dtype) -> Result<(usize, usize), Error> {
    if len < HEADER_BYTES {
        let msg = format!("{len} bytes is shorter than the 8-byte header (u32 rows, u32 dimension)");
        return Err(format_err(path, msg));
    }
    let mut head = [0u8; 8];
    read_at(path, file, &mut head, 0)?;
    let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
    let d = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if d == 0 || d as usize > MAX_DIM {
        return Err(format_err(path, format!("header dimension {d} is out of range, expected 1..={MAX_DIM}")));
    }
    // d <= 2^20 bounds the product far below u64::MAX.
    let want = HEADER_BYTES + u64::from(n) * u64::from(d) * dtype.size() as u64;
    if want != len {
        return Err(format_err(
            path,
            format!(
                "header says {n} rows of dimension {d} ({want} bytes with the 8-byte header, {} each), but the file has {len} bytes (truncated or not this format)",
                dtype.name()
            ),
        ));
    }
    Ok((n as usize, d as usize))
}
