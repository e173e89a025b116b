//! TEXMEX vector files (`.fvecs`, `.ivecs`, `.bvecs`): random access to rows for
//! [`VectorSource`](super::VectorSource), and whole-file reading and writing of typed
//! values (ground-truth ids, bytes) for tests, tools and the ground-truth writer.
//!
//! The public ANN benchmark sets (SIFT1M, GIST1M, Deep1B, BIGANN, and the real-data set
//! bundled in `tests/data/`) ship their base, query and ground-truth vectors in the
//! TEXMEX format, so the benchmark tool, the tests and anyone evaluating vq on their own
//! data need one careful reader for it. The format has no header and no checksum: each
//! vector is a little-endian `i32` dimension followed by that many values — `f32` for
//! `.fvecs`, `i32` for `.ivecs` (ground-truth ids), `u8` for `.bvecs`. Because nothing
//! in the file vouches for its integrity, every reader here checks what it reads:
//!
//! * the first dimension must lie in `1..=`[`MAX_DIM`],
//! * every row must declare the same dimension as row 0,
//! * the last row must be complete,
//! * the file must not be empty.
//!
//! A violation is an [`Error::Format`] whose message names the offending value, the row
//! and its byte offset, and what was expected; an operating-system failure is an
//! [`Error::Io`]. No input makes these functions panic, and memory is only allocated for
//! bytes that were actually read (never sized from a dimension or count taken on trust
//! from the file), so a corrupt or hostile file cannot trigger a huge allocation.
//!
//! Opened as a [`VectorSource`](super::VectorSource), a file's length must be a whole
//! number of rows of row 0's dimension (checked when opened); each row's own dimension is
//! checked when the row is read. The `read_*` functions below stream a file in chunks of
//! about 1 MiB instead, so reading the first rows of a huge file ([`read_fvecs_rows`] and
//! friends) touches only those rows, and the `parse_*` functions run exactly the same code
//! over bytes in memory (for fuzzing and tests). Values are not inspected: a NaN in an
//! `.fvecs` file is returned as is (training rejects non-finite data itself).

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use std::sync::atomic::AtomicU64;

use super::dtype::{decode, Dtype, Encoding};
use super::source::{format_err as path_format_err, read_at, Layout, Part, BLOCK_BYTES};
pub use super::MAX_DIM;
use crate::Error;

/// How many bytes of rows a reader pulls from its source at a time (at least one row).
const CHUNK_BYTES: usize = 1 << 20;

/// One element type of a TEXMEX file.
trait Elem: Copy {
    /// Bytes per value.
    const SIZE: usize;
    /// The file extension, for messages.
    const EXT: &'static str;
    /// Decodes one value from exactly `SIZE` little-endian bytes.
    fn from_le(bytes: &[u8]) -> Self;
    /// Appends the value's `SIZE` little-endian bytes.
    fn push_le(self, out: &mut Vec<u8>);
}

impl Elem for f32 {
    const SIZE: usize = 4;
    const EXT: &'static str = ".fvecs";
    fn from_le(b: &[u8]) -> Self {
        f32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    fn push_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Elem for i32 {
    const SIZE: usize = 4;
    const EXT: &'static str = ".ivecs";
    fn from_le(b: &[u8]) -> Self {
        i32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    fn push_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Elem for u8 {
    const SIZE: usize = 1;
    const EXT: &'static str = ".bvecs";
    fn from_le(b: &[u8]) -> Self {
        b[0]
    }
    fn push_le(self, out: &mut Vec<u8>) {
        out.push(self);
    }
}

fn format_err(name: &str, message: String) -> Error {
    Error::Format { path: name.to_string(), message }
}

fn io_err(name: &str, what: &str, e: std::io::Error) -> Error {
    Error::Io { path: name.to_string(), message: format!("{what}: {e}") }
}

/// Row `row` declares dimension `d` where row 0 declared `dim`.
fn dim_mismatch(row: usize, offset: u64, d: i32, dim: usize, ext: &str) -> String {
    format!(
        "row {row} at byte offset {offset} declares dimension {d}, expected {dim} (the dimension of row 0); all rows of a {ext} file must have the same dimension"
    )
}

/// The last row, at `offset`, has only `tail` of its `row_bytes` bytes.
fn truncated(row: usize, offset: u64, tail: u64, row_bytes: u64, dim: usize, size: usize) -> String {
    format!(
        "the last vector (row {row} at byte offset {offset}) is truncated: {tail} byte(s), expected {row_bytes} (a 4-byte dimension and {dim} values of {size} byte(s))"
    )
}

/// Why a file of `len` bytes cannot hold row 0's dimension field, if it cannot.
fn too_short(len: u64, size: usize) -> Option<String> {
    match len {
        0 => Some(format!(
            "the file is empty, expected at least one vector (an i32 dimension followed by its {size}-byte values)"
        )),
        1..=3 => {
            Some(format!("the file is {len} byte(s) long, expected at least 4 for the first vector's i32 dimension"))
        }
        _ => None,
    }
}

/// The first dimension field, outside `1..=MAX_DIM`.
fn bad_first_dim(first: i32) -> String {
    format!("row 0 at byte offset 0 declares dimension {first}, expected 1..={MAX_DIM}")
}

/// The byte offset of row `row` in a file of `row_bytes`-byte rows (u64: files may
/// exceed `usize` on 32-bit hosts).
fn offset_of(row: usize, row_bytes: usize) -> u64 {
    (row as u64).saturating_mul(row_bytes as u64)
}

/// Reads up to `max_rows` rows (all when `None`) of a TEXMEX stream.
///
/// `size_hint` is the source's total length when known; it only sizes the output's
/// initial capacity, and only up to what that many bytes can hold.
fn read_stream<T: Elem, R: Read>(
    mut source: R,
    name: &str,
    max_rows: Option<usize>,
    size_hint: Option<u64>,
) -> Result<(Vec<T>, usize), Error> {
    let read_err = |e| io_err(name, "read failed", e);
    let mut chunk: Vec<u8> = Vec::new();
    (&mut source).take(4).read_to_end(&mut chunk).map_err(read_err)?;
    if let Some(msg) = too_short(chunk.len() as u64, T::SIZE) {
        return Err(format_err(name, msg));
    }
    let first = i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    if first <= 0 || first as usize > MAX_DIM {
        return Err(format_err(name, bad_first_dim(first)));
    }
    let dim = first as usize;
    let row_bytes = 4 + dim * T::SIZE;
    let limit = max_rows.unwrap_or(usize::MAX);

    // Reserve only what the source's known length can fill; otherwise grow as rows arrive.
    let mut out: Vec<T> = Vec::new();
    if let Some(len) = size_hint {
        let whole_rows = usize::try_from(len / row_bytes as u64).unwrap_or(usize::MAX);
        let _ = out.try_reserve_exact(whole_rows.min(limit).saturating_mul(dim));
    }

    let rows_per_chunk = (CHUNK_BYTES / row_bytes).max(1);
    let mut rows_done = 0usize;
    loop {
        let want_rows = rows_per_chunk.min(limit - rows_done);
        if want_rows == 0 {
            break;
        }
        let want_bytes = want_rows * row_bytes;
        // `chunk` may already hold row 0's dimension; read_to_end grows it only as bytes
        // actually arrive, so a lying dimension cannot force a large allocation.
        let missing = (want_bytes - chunk.len()) as u64;
        (&mut source).take(missing).read_to_end(&mut chunk).map_err(read_err)?;

        let got_rows = chunk.len() / row_bytes;
        for (i, row) in chunk.chunks_exact(row_bytes).enumerate() {
            let r = rows_done + i;
            let d = i32::from_le_bytes([row[0], row[1], row[2], row[3]]);
            if d != first {
                return Err(format_err(name, dim_mismatch(r, offset_of(r, row_bytes), d, dim, T::EXT)));
            }
            out.extend(row[4..].chunks_exact(T::SIZE).map(T::from_le));
        }
        rows_done += got_rows;

        if chunk.len() < want_bytes {
            // End of input. Anything after the last whole row is a broken row.
            let tail = &chunk[got_rows * row_bytes..];
            if !tail.is_empty() {
                let at = offset_of(rows_done, row_bytes);
                if tail.len() >= 4 {
                    let d = i32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
                    if d != first {
                        return Err(format_err(name, dim_mismatch(rows_done, at, d, dim, T::EXT)));
                    }
                }
                let msg = truncated(rows_done, at, tail.len() as u64, row_bytes as u64, dim, T::SIZE);
                return Err(format_err(name, msg));
            }
            break;
        }
        chunk.clear();
    }
    Ok((out, dim))
}

fn read_path<T: Elem>(path: &Path, max_rows: Option<usize>) -> Result<(Vec<T>, usize), Error> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| io_err(&name, "cannot open for reading", e))?;
    // The length of a regular file sizes the output; pipes and devices report none.
    let size_hint = file.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    read_stream(file, &name, max_rows, size_hint)
}

fn parse_bytes<T: Elem>(bytes: &[u8], name: &str, max_rows: Option<usize>) -> Result<(Vec<T>, usize), Error> {
    read_stream(bytes, name, max_rows, Some(bytes.len() as u64))
}

/// Checks `data` and `dim` for writing and returns the row count.
fn check_write<T>(data: &[T], dim: usize) -> Result<usize, Error> {
    if dim == 0 || dim > MAX_DIM {
        return Err(Error::OutOfRange { what: "dim", got: dim.to_string(), accepted: "1..=1048576 (data::MAX_DIM)" });
    }
    if data.is_empty() {
        // An empty file could not be read back: it carries no dimension.
        return Err(Error::Empty { what: "data" });
    }
    crate::error::rows_of("data", data.len(), dim)
}

/// Writes `data` (already checked) as TEXMEX rows to `w`.
fn write_rows<T: Elem, W: Write>(w: &mut W, data: &[T], dim: usize) -> std::io::Result<()> {
    let header = (dim as i32).to_le_bytes();
    let mut row_buf = Vec::with_capacity(4 + dim * T::SIZE);
    for row in data.chunks_exact(dim) {
        row_buf.clear();
        row_buf.extend_from_slice(&header);
        for &v in row {
            v.push_le(&mut row_buf);
        }
        w.write_all(&row_buf)?;
    }
    Ok(())
}

fn write_path<T: Elem>(path: &Path, data: &[T], dim: usize) -> Result<(), Error> {
    check_write(data, dim)?;
    let name = path.display().to_string();
    let file = File::create(path).map_err(|e| io_err(&name, "cannot create for writing", e))?;
    let mut w = BufWriter::new(file);
    write_rows(&mut w, data, dim).map_err(|e| io_err(&name, "write failed", e))?;
    // into_inner flushes and reports a failed final write.
    w.into_inner().map_err(|e| io_err(&name, "write failed", e.into_error()))?;
    Ok(())
}

/// The file extension of a TEXMEX file of `dtype` values, for messages.
fn ext_of(dtype: Dtype) -> &'static str {
    match dtype {
        Dtype::I32 => i32::EXT,
        Dtype::U8 => u8::EXT,
        _ => f32::EXT,
    }
}

/// Opens a TEXMEX file for random access: row 0's dimension, and a length that is a whole
/// number of rows of it.
pub(crate) fn open_part(path: &Path, file: File, len: u64, dtype: Dtype) -> Result<Part, Error> {
    let size = dtype.size();
    if let Some(msg) = too_short(len, size) {
        return Err(path_format_err(path, msg));
    }
    let mut head = [0u8; 4];
    read_at(path, &file, &mut head, 0)?;
    let first = i32::from_le_bytes(head);
    if first <= 0 || first as usize > MAX_DIM {
        return Err(path_format_err(path, bad_first_dim(first)));
    }
    let dim = first as usize;
    let row_bytes = 4 + (dim * size) as u64;
    let rows = len / row_bytes;
    let tail = len % row_bytes;
    if tail != 0 {
        return Err(path_format_err(path, truncated(rows as usize, rows * row_bytes, tail, row_bytes, dim, size)));
    }
    let rows = usize::try_from(rows)
        .map_err(|_| path_format_err(path, format!("{rows} rows do not fit this host's usize")))?;
    Ok(Part { path: path.to_path_buf(), file, rows, dim, enc: Encoding::le(dtype), layout: Layout::Texmex })
}

/// Reads rows `first..first + out.len() / dim` of a TEXMEX part, checking each row's own
/// dimension field: whole rows per 64 KiB block, or one row in pieces when a row is larger.
pub(crate) fn read_rows(part: &Part, first: usize, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
    let dim = part.dim;
    let row_bytes = part.row_bytes() as usize;
    let check = |row: usize, head: [u8; 4]| {
        let d = i32::from_le_bytes(head);
        if d as i64 != dim as i64 {
            let msg = dim_mismatch(row, offset_of(row, row_bytes), d, dim, ext_of(part.enc.dtype));
            return Err(path_format_err(&part.path, msg));
        }
        Ok(())
    };
    if row_bytes <= BLOCK_BYTES {
        let per_block = BLOCK_BYTES / row_bytes;
        let mut block = [0u8; BLOCK_BYTES];
        for (b, out) in out.chunks_mut(per_block * dim).enumerate() {
            let row0 = first + b * per_block;
            let bytes = &mut block[..out.len() / dim * row_bytes];
            part.read_at(bytes, offset_of(row0, row_bytes), counter)?;
            for (i, (row, out)) in bytes.chunks_exact(row_bytes).zip(out.chunks_exact_mut(dim)).enumerate() {
                check(row0 + i, [row[0], row[1], row[2], row[3]])?;
                decode(part.enc, &row[4..], out);
            }
        }
    } else {
        for (i, out) in out.chunks_exact_mut(dim).enumerate() {
            let at = offset_of(first + i, row_bytes);
            let mut head = [0u8; 4];
            part.read_at(&mut head, at, counter)?;
            check(first + i, head)?;
            part.read_values(at + 4, out, counter)?;
        }
    }
    Ok(())
}

/// Reads a whole `.fvecs` file: returns the vectors as one row-major buffer
/// (`rows * dim` values) and their dimension.
///
/// # Errors
///
/// [`Error::Io`] when the file cannot be opened or read; [`Error::Format`] when it is
/// empty, a dimension is outside `1..=`[`MAX_DIM`], a row's dimension differs from row
/// 0's, or the last vector is truncated.
pub fn read_fvecs(path: &Path) -> Result<(Vec<f32>, usize), Error> {
    read_path(path, None)
}

/// Reads at most the first `max_rows` vectors of an `.fvecs` file (all of them when
/// `None`), as a row-major buffer and the dimension.
///
/// Only the rows returned are read and checked: a truncated or inconsistent row after
/// them is not reported. `Some(0)` returns no values but still reads and checks the first
/// dimension, which it returns.
///
/// # Errors
///
/// As [`read_fvecs`], for the part of the file that is read.
pub fn read_fvecs_rows(path: &Path, max_rows: Option<usize>) -> Result<(Vec<f32>, usize), Error> {
    read_path(path, max_rows)
}

/// Reads a whole `.ivecs` file (typically ground-truth neighbour ids): returns the
/// row-major values and the dimension.
///
/// # Errors
///
/// As [`read_fvecs`].
pub fn read_ivecs(path: &Path) -> Result<(Vec<i32>, usize), Error> {
    read_path(path, None)
}

/// Reads at most the first `max_rows` vectors of an `.ivecs` file (all when `None`).
///
/// # Errors
///
/// As [`read_fvecs_rows`].
pub fn read_ivecs_rows(path: &Path, max_rows: Option<usize>) -> Result<(Vec<i32>, usize), Error> {
    read_path(path, max_rows)
}

/// Reads a whole `.bvecs` file (byte vectors, as in SIFT1B/BIGANN): returns the
/// row-major values and the dimension.
///
/// # Errors
///
/// As [`read_fvecs`].
pub fn read_bvecs(path: &Path) -> Result<(Vec<u8>, usize), Error> {
    read_path(path, None)
}

/// Reads at most the first `max_rows` vectors of a `.bvecs` file (all when `None`);
/// the way to take a slice of a billion-vector file without reading all of it.
///
/// # Errors
///
/// As [`read_fvecs_rows`].
pub fn read_bvecs_rows(path: &Path, max_rows: Option<usize>) -> Result<(Vec<u8>, usize), Error> {
    read_path(path, max_rows)
}

/// Parses `.fvecs` content held in memory, with exactly the checks of [`read_fvecs`];
/// `name` stands for the path in error messages.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs`] (never [`Error::Io`]).
pub fn parse_fvecs(bytes: &[u8], name: &str) -> Result<(Vec<f32>, usize), Error> {
    parse_bytes(bytes, name, None)
}

/// Parses at most the first `max_rows` vectors of in-memory `.fvecs` content, as
/// [`read_fvecs_rows`] does for a file.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs_rows`].
pub fn parse_fvecs_rows(bytes: &[u8], name: &str, max_rows: Option<usize>) -> Result<(Vec<f32>, usize), Error> {
    parse_bytes(bytes, name, max_rows)
}

/// Parses `.ivecs` content held in memory, as [`read_ivecs`] does for a file.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs`].
pub fn parse_ivecs(bytes: &[u8], name: &str) -> Result<(Vec<i32>, usize), Error> {
    parse_bytes(bytes, name, None)
}

/// Parses at most the first `max_rows` vectors of in-memory `.ivecs` content.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs_rows`].
pub fn parse_ivecs_rows(bytes: &[u8], name: &str, max_rows: Option<usize>) -> Result<(Vec<i32>, usize), Error> {
    parse_bytes(bytes, name, max_rows)
}

/// Parses `.bvecs` content held in memory, as [`read_bvecs`] does for a file.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs`].
pub fn parse_bvecs(bytes: &[u8], name: &str) -> Result<(Vec<u8>, usize), Error> {
    parse_bytes(bytes, name, None)
}

/// Parses at most the first `max_rows` vectors of in-memory `.bvecs` content.
///
/// # Errors
///
/// [`Error::Format`] as for [`read_fvecs_rows`].
pub fn parse_bvecs_rows(bytes: &[u8], name: &str, max_rows: Option<usize>) -> Result<(Vec<u8>, usize), Error> {
    parse_bytes(bytes, name, max_rows)
}

/// Writes `data` (row-major, `data.len() / dim` rows) as an `.fvecs` file, replacing
/// any existing file. Values are written bit for bit, NaNs included.
///
/// The arguments are checked before the file is created, so a rejected call leaves the
/// file system untouched.
///
/// # Errors
///
/// [`Error::OutOfRange`] if `dim` is 0 or above [`MAX_DIM`]; [`Error::Empty`] if `data`
/// is empty (an empty file could not be read back); [`Error::NotWholeRows`] if
/// `data.len()` is not a multiple of `dim`; [`Error::Io`] if creating or writing the file
/// fails.
pub fn write_fvecs(path: &Path, data: &[f32], dim: usize) -> Result<(), Error> {
    write_path(path, data, dim)
}

/// Writes `data` (row-major) as an `.ivecs` file, for example ground-truth ids.
///
/// # Errors
///
/// As [`write_fvecs`].
pub fn write_ivecs(path: &Path, data: &[i32], dim: usize) -> Result<(), Error> {
    write_path(path, data, dim)
}

/// Writes `data` (row-major) as a `.bvecs` file.
///
/// # Errors
///
/// As [`write_fvecs`].
pub fn write_bvecs(path: &Path, data: &[u8], dim: usize) -> Result<(), Error> {
    write_path(path, data, dim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh path in the temp directory, removed when dropped.
    struct TempPath(PathBuf);
    impl TempPath {
        fn new(ext: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let name = format!("vq-texmex-test-{}-{n}{ext}", std::process::id());
            TempPath(std::env::temp_dir().join(name))
        }
    }
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Hand-built bytes: each row is (declared dim, raw value bytes).
    fn raw(rows: &[(i32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (d, body) in rows {
            out.extend_from_slice(&d.to_le_bytes());
            out.extend_from_slice(body);
        }
        out
    }

    fn f32_bytes(vals: &[f32]) -> Vec<u8> {
        vals.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn encode<T: Elem>(data: &[T], dim: usize) -> Vec<u8> {
        check_write(data, dim).unwrap();
        let mut out = Vec::new();
        write_rows(&mut out, data, dim).unwrap();
        out
    }

    fn format_message(e: Error) -> String {
        match e {
            Error::Format { path, message } => {
                assert_eq!(path, "t.fvecs");
                message
            }
            other => panic!("expected Error::Format, got {other:?}"),
        }
    }

    #[test]
    fn layout_is_little_endian_dim_then_values() {
        let bytes = encode(&[1.0f32, -2.5, 3.0, 4.0], 2);
        let mut expected = Vec::new();
        expected.extend_from_slice(&[2, 0, 0, 0]);
        expected.extend_from_slice(&f32_bytes(&[1.0, -2.5]));
        expected.extend_from_slice(&[2, 0, 0, 0]);
        expected.extend_from_slice(&f32_bytes(&[3.0, 4.0]));
        assert_eq!(bytes, expected);
        assert_eq!(encode(&[7u8, 8, 9], 3), vec![3, 0, 0, 0, 7, 8, 9]);
        assert_eq!(encode(&[-1i32], 1), vec![1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    }

    #[test]
    fn round_trip_files_all_three_formats() {
        let f: Vec<f32> = (0..5 * 3).map(|i| i as f32 * 0.5 - 3.0).collect();
        let p = TempPath::new(".fvecs");
        write_fvecs(&p.0, &f, 3).unwrap();
        assert_eq!(std::fs::metadata(&p.0).unwrap().len(), 5 * (4 + 3 * 4));
        assert_eq!(read_fvecs(&p.0).unwrap(), (f.clone(), 3));

        let iv: Vec<i32> = (0..4 * 10).map(|i| i * 7 - 100).collect();
        let p = TempPath::new(".ivecs");
        write_ivecs(&p.0, &iv, 10).unwrap();
        assert_eq!(read_ivecs(&p.0).unwrap(), (iv, 10));

        let b: Vec<u8> = (0..6 * 128).map(|i| (i % 256) as u8).collect();
        let p = TempPath::new(".bvecs");
        write_bvecs(&p.0, &b, 128).unwrap();
        assert_eq!(read_bvecs(&p.0).unwrap(), (b, 128));
    }

    #[test]
    fn round_trip_preserves_float_bits() {
        let vals = [f32::NAN, -0.0, f32::INFINITY, f32::NEG_INFINITY, f32::MIN_POSITIVE, 1e-45];
        let (back, dim) = parse_fvecs(&encode(&vals, 2), "t.fvecs").unwrap();
        assert_eq!(dim, 2);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&vals));
    }

    #[test]
    fn round_trip_across_chunk_boundaries() {
        // 300,000 one-dimensional rows = 2.4 MB: several 1 MiB chunks, rows split nowhere.
        let vals: Vec<f32> = (0..300_000).map(|i| i as f32).collect();
        let bytes = encode(&vals, 1);
        assert_eq!(parse_fvecs(&bytes, "t.fvecs").unwrap(), (vals.clone(), 1));
        let (head, _) = parse_fvecs_rows(&bytes, "t.fvecs", Some(200_001)).unwrap();
        assert_eq!(head, vals[..200_001]);
        // Rows wider than a chunk (600,000 f32 = 2.4 MB per row), at the largest dimension.
        let wide: Vec<f32> = (0..2 * 600_000).map(|i| (i % 251) as f32).collect();
        assert_eq!(parse_fvecs(&encode(&wide, 600_000), "t.fvecs").unwrap(), (wide, 600_000));
        let widest: Vec<u8> = (0..2 * MAX_DIM).map(|i| (i % 251) as u8).collect();
        assert_eq!(parse_bvecs(&encode(&widest, MAX_DIM), "t.bvecs").unwrap(), (widest, MAX_DIM));
    }

    /// A reader that hands out at most 3 bytes per call, like a slow pipe.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn short_reads_and_no_size_hint() {
        let vals: Vec<f32> = (0..7 * 5).map(|i| i as f32).collect();
        let bytes = encode(&vals, 5);
        let got: (Vec<f32>, usize) = read_stream(Trickle(&bytes), "pipe", None, None).unwrap();
        assert_eq!(got, (vals.clone(), 5));
        let got: (Vec<f32>, usize) = read_stream(Trickle(&bytes), "pipe", Some(3), None).unwrap();
        assert_eq!(got, (vals[..15].to_vec(), 5));
        let cut = &bytes[..bytes.len() - 1];
        assert!(read_stream::<f32, _>(Trickle(cut), "pipe", None, None).is_err());
    }

    #[test]
    fn truncated_last_vector() {
        let bytes = encode(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], 3);
        let cut = &bytes[..bytes.len() - 1];
        let msg = format_message(parse_fvecs(cut, "t.fvecs").unwrap_err());
        assert!(msg.contains("row 1"), "{msg}");
        assert!(msg.contains("byte offset 16"), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        assert!(msg.contains("15 byte(s), expected 16"), "{msg}");

        // Only the dimension of a second row.
        let msg = format_message(parse_fvecs(&bytes[..20], "t.fvecs").unwrap_err());
        assert!(msg.contains("row 1") && msg.contains("4 byte(s), expected 16"), "{msg}");
        // Half a dimension field after a whole row.
        let msg = format_message(parse_fvecs(&bytes[..18], "t.fvecs").unwrap_err());
        assert!(msg.contains("row 1") && msg.contains("2 byte(s)"), "{msg}");
        // A lone first dimension with no values.
        let msg = format_message(parse_fvecs(&bytes[..4], "t.fvecs").unwrap_err());
        assert!(msg.contains("row 0") && msg.contains("truncated"), "{msg}");
        // Fewer than 4 bytes in all.
        let msg = format_message(parse_fvecs(&bytes[..3], "t.fvecs").unwrap_err());
        assert!(msg.contains("3 byte(s)") && msg.contains("at least 4"), "{msg}");
        // Truncated files on disk too.
        let p = TempPath::new(".fvecs");
        std::fs::write(&p.0, cut).unwrap();
        assert!(matches!(read_fvecs(&p.0), Err(Error::Format { .. })));
    }

    #[test]
    fn inconsistent_dimensions() {
        // Row 1 declares 2 where row 0 declared 3 (and the file length even happens to fit).
        let body3 = f32_bytes(&[1.0, 2.0, 3.0]);
        let body2 = f32_bytes(&[1.0, 2.0]);
        let bytes = raw(&[(3, &body3), (2, &body2), (3, &body3)]);
        let msg = format_message(parse_fvecs(&bytes, "t.fvecs").unwrap_err());
        assert!(msg.contains("row 1 at byte offset 16 declares dimension 2, expected 3"), "{msg}");

        // A larger dimension in the last row, which is then also "short".
        let bytes = raw(&[(2, &body2), (2, &body2), (3, &body3)]);
        let msg = format_message(parse_fvecs(&bytes, "t.fvecs").unwrap_err());
        assert!(msg.contains("row 2 at byte offset 24 declares dimension 3, expected 2"), "{msg}");

        // ivecs too, with the extension in the message.
        let one = 5i32.to_le_bytes();
        let bytes = raw(&[(1, &one), (1, &one), (7, &one)]);
        let err = parse_ivecs(&bytes, "gt.ivecs").unwrap_err();
        assert!(err.to_string().contains(".ivecs file"), "{err}");
    }

    #[test]
    fn zero_negative_and_huge_dimensions() {
        for d in [0i32, -1, i32::MIN, (MAX_DIM + 1) as i32, i32::MAX] {
            let bytes = raw(&[(d, &[0u8; 8])]);
            let msg = format_message(parse_fvecs(&bytes, "t.fvecs").unwrap_err());
            assert!(msg.contains(&format!("declares dimension {d}, expected 1..={MAX_DIM}")), "{msg}");
            assert!(matches!(parse_bvecs(&bytes, "t.fvecs"), Err(Error::Format { .. })));
        }
        // The largest accepted dimension with almost no data: a truncation error, found
        // without allocating for the declared row.
        let bytes = raw(&[(MAX_DIM as i32, &[0u8; 8])]);
        let msg = format_message(parse_fvecs(&bytes, "t.fvecs").unwrap_err());
        assert!(msg.contains("truncated"), "{msg}");
    }

    #[test]
    fn empty_input_is_an_error() {
        let msg = format_message(parse_fvecs(&[], "t.fvecs").unwrap_err());
        assert!(msg.contains("empty"), "{msg}");
        assert!(matches!(parse_fvecs_rows(&[], "x", Some(0)), Err(Error::Format { .. })));
        let p = TempPath::new(".ivecs");
        std::fs::write(&p.0, []).unwrap();
        assert!(matches!(read_ivecs(&p.0), Err(Error::Format { .. })));
    }

    #[test]
    fn max_rows() {
        let vals: Vec<f32> = (0..5 * 4).map(|i| i as f32).collect();
        let bytes = encode(&vals, 4);
        assert_eq!(parse_fvecs_rows(&bytes, "t", Some(0)).unwrap(), (vec![], 4));
        assert_eq!(parse_fvecs_rows(&bytes, "t", Some(2)).unwrap(), (vals[..8].to_vec(), 4));
        assert_eq!(parse_fvecs_rows(&bytes, "t", Some(5)).unwrap(), (vals.clone(), 4));
        assert_eq!(parse_fvecs_rows(&bytes, "t", Some(99)).unwrap(), (vals.clone(), 4));
        assert_eq!(parse_fvecs_rows(&bytes, "t", None).unwrap(), (vals.clone(), 4));

        // Rows after the ones asked for are neither read nor checked...
        let mut broken = bytes.clone();
        broken.extend_from_slice(&[9, 0, 0]);
        assert_eq!(parse_fvecs_rows(&broken, "t", Some(5)).unwrap(), (vals.clone(), 4));
        assert!(parse_fvecs_rows(&broken, "t", Some(6)).is_err());
        // ...but the rows read are.
        let bad_dim = raw(&[(1, &[0; 4]), (2, &[0; 8])]);
        assert!(parse_fvecs_rows(&bad_dim, "t", Some(1)).is_ok());
        assert!(parse_fvecs_rows(&bad_dim, "t", Some(2)).is_err());
        // The first dimension is always checked.
        assert!(parse_fvecs_rows(&raw(&[(0, &[])]), "t", Some(0)).is_err());

        let p = TempPath::new(".fvecs");
        write_fvecs(&p.0, &vals, 4).unwrap();
        assert_eq!(read_fvecs_rows(&p.0, Some(3)).unwrap(), (vals[..12].to_vec(), 4));
        let ids: Vec<i32> = (0..30).collect();
        let p = TempPath::new(".ivecs");
        write_ivecs(&p.0, &ids, 10).unwrap();
        assert_eq!(read_ivecs_rows(&p.0, Some(1)).unwrap(), (ids[..10].to_vec(), 10));
        let p = TempPath::new(".bvecs");
        write_bvecs(&p.0, &[1, 2, 3, 4], 2).unwrap();
        assert_eq!(read_bvecs_rows(&p.0, Some(1)).unwrap(), (vec![1, 2], 2));
    }

    #[test]
    fn write_rejects_bad_arguments_without_creating_the_file() {
        let p = TempPath::new(".fvecs");
        assert!(matches!(write_fvecs(&p.0, &[1.0], 0), Err(Error::OutOfRange { what: "dim", .. })));
        assert!(matches!(write_fvecs(&p.0, &[1.0], MAX_DIM + 1), Err(Error::OutOfRange { what: "dim", .. })));
        assert!(matches!(write_ivecs(&p.0, &[], 3), Err(Error::Empty { what: "data" })));
        assert!(matches!(write_bvecs(&p.0, &[1, 2, 3], 2), Err(Error::NotWholeRows { len: 3, dim: 2, .. })));
        assert!(!p.0.exists());
    }

    #[test]
    fn io_errors_name_the_path() {
        let missing = std::env::temp_dir().join("vq-texmex-test-no-such-dir/none.fvecs");
        match read_fvecs(&missing) {
            Err(Error::Io { path, message }) => {
                assert!(path.ends_with("none.fvecs"));
                assert!(message.starts_with("cannot open for reading"), "{message}");
            }
            other => panic!("expected Error::Io, got {other:?}"),
        }
        assert!(matches!(write_fvecs(&missing, &[1.0], 1), Err(Error::Io { .. })));
        // A directory opens on Unix but cannot be read.
        assert!(matches!(read_fvecs(&std::env::temp_dir()), Err(Error::Io { .. })));
    }

    /// Deterministic mutation fuzzing: no input panics, and every accepted input yields
    /// whole rows that re-encode to a prefix of the input.
    #[test]
    fn mutated_inputs_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seed_f = encode(&[0.5f32; 12], 3);
        let seed_b = encode(&[7u8; 12], 4);
        for i in 0..20_000 {
            let mut bytes = if i % 2 == 0 { seed_f.clone() } else { seed_b.clone() };
            for _ in 0..(next() % 4) {
                let pos = (next() as usize) % bytes.len().max(1);
                match next() % 4 {
                    0 if !bytes.is_empty() => bytes[pos] = next() as u8,
                    1 => bytes.truncate(pos),
                    2 => bytes.insert(pos.min(bytes.len()), next() as u8),
                    _ => bytes.extend_from_slice(&(next() as i32 % 9).to_le_bytes()),
                }
            }
            let max_rows = if next() % 3 == 0 { Some((next() % 6) as usize) } else { None };
            if let Ok((v, dim)) = parse_fvecs_rows(&bytes, "fuzz", max_rows) {
                assert_eq!(v.len() % dim, 0);
                let n = v.len() / dim;
                if n > 0 {
                    assert_eq!(encode(&v, dim)[..], bytes[..n * (4 + 4 * dim)]);
                }
            }
            if let Ok((v, dim)) = parse_bvecs_rows(&bytes, "fuzz", max_rows) {
                assert_eq!(v.len() % dim, 0);
                let n = v.len() / dim;
                if n > 0 {
                    assert_eq!(encode(&v, dim)[..], bytes[..n * (4 + dim)]);
                }
            }
            let _ = parse_ivecs(&bytes, "fuzz");
        }
    }

    /// The real-data fixture in tests/data (see its README.md) has the documented shape.
    #[test]
    fn minilm_fixture_shapes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let (base, dim) = read_fvecs(&dir.join("minilm_base_2k.fvecs")).unwrap();
        assert_eq!((base.len(), dim), (2000 * 384, 384));
        let (query, dim) = read_fvecs(&dir.join("minilm_query_100.fvecs")).unwrap();
        assert_eq!((query.len(), dim), (100 * 384, 384));
        for row in base.chunks_exact(384).chain(query.chunks_exact(384)) {
            let norm2: f32 = row.iter().map(|x| x * x).sum();
            assert!((norm2 - 1.0).abs() < 1e-4, "{norm2}");
        }
        let (gt, k) = read_ivecs(&dir.join("minilm_gt_100.ivecs")).unwrap();
        assert_eq!((gt.len(), k), (100 * 100, 100));
        assert!(gt.iter().all(|&id| (0..2000).contains(&id)));
        // Spot check: query 0's nearest neighbour is no farther than its 100th.
        let d2 = |a: &[f32], b: &[f32]| -> f64 { a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum() };
        let q0 = &query[..384];
        let row = |id: i32| &base[id as usize * 384..(id as usize + 1) * 384];
        assert!(d2(q0, row(gt[0])) <= d2(q0, row(gt[99])));
    }
}
