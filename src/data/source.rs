//! [`VectorSource`]: any supported vector file, or a folder of them, as one array of f32
//! rows that can be read in any range without reading the rest.
//!
//! Rows are read with positioned reads (`pread`) of 64 KiB into a stack block, converted
//! from there into the caller's buffer. So a read allocates nothing, the process's memory does not grow with
//! the file (the kernel's page cache holds what was read, outside the process's RSS), any
//! number of threads can read one source at once (`&self`), and a file that shrinks while
//! it is read is an error naming it rather than a crash (a memory map would fault with
//! SIGBUS).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::dtype::{decode, Dtype, Encoding};
use super::{bin, npy, shards, texmex, FORMATS};
use crate::Error;

/// Bytes read from a file per positioned read when rows need converting (a stack block:
/// small enough for any thread's stack, large enough that the system call is noise).
pub(crate) const BLOCK_BYTES: usize = 1 << 16;

/// The file formats, by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Fvecs,
    Ivecs,
    Bvecs,
    Fbin,
    U8bin,
    I8bin,
    Ibin,
    Npy,
    /// Known even without the `parquet` feature, so the error can say how to turn it on.
    Parquet,
}

impl Format {
    /// The format of a file, from its extension (any case).
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "fvecs" => Format::Fvecs,
            "ivecs" => Format::Ivecs,
            "bvecs" => Format::Bvecs,
            "fbin" => Format::Fbin,
            "u8bin" => Format::U8bin,
            "i8bin" => Format::I8bin,
            "ibin" => Format::Ibin,
            "npy" => Format::Npy,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }
}

/// Where a file's rows are.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    /// One block of rows after a header (big-ann, NumPy): row `r` is at
    /// `offset + r · dim · size`.
    Dense { offset: u64 },
    /// TEXMEX: each row is its own i32 dimension followed by its values, from byte 0.
    Texmex,
    /// A column of a Parquet file, decoded page by page (it has its own cursor).
    #[cfg(feature = "parquet")]
    Parquet(std::sync::Arc<super::parquet::Column>),
}

/// One file of rows, its header checked against its length when opened.
#[derive(Debug)]
pub(crate) struct Part {
    pub path: PathBuf,
    pub file: File,
    pub rows: usize,
    pub dim: usize,
    pub enc: Encoding,
    pub layout: Layout,
}

impl Part {
    /// Opens a file of any supported format and checks its header against its length.
    pub fn open(path: &Path) -> Result<Part, Error> {
        let Some(format) = Format::of(path) else {
            let ext = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(format_err(path, format!("unknown file type '.{ext}', accepted: {FORMATS}")));
        };
        let (file, len) = open_file(path)?;
        match format {
            Format::Fvecs => texmex::open_part(path, file, len, Dtype::F32),
            Format::Ivecs => texmex::open_part(path, file, len, Dtype::I32),
            Format::Bvecs => texmex::open_part(path, file, len, Dtype::U8),
            Format::Fbin => bin::open_part(path, file, len, Dtype::F32),
            Format::U8bin => bin::open_part(path, file, len, Dtype::U8),
            Format::I8bin => bin::open_part(path, file, len, Dtype::I8),
            Format::Ibin => bin::open_part(path, file, len, Dtype::I32),
            Format::Npy => npy::open_part(path, file, len),
            #[cfg(feature = "parquet")]
            Format::Parquet => super::parquet::open_part(path, file, len, None, None),
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => Err(format_err(path, super::PARQUET_OFF.to_string())),
        }
    }

    /// Bytes of one stored row (with its dimension field for TEXMEX).
    pub fn row_bytes(&self) -> u64 {
        let values = self.dim as u64 * self.enc.dtype.size() as u64;
        match self.layout {
            Layout::Dense { .. } => values,
            Layout::Texmex => 4 + values,
            #[cfg(feature = "parquet")]
            Layout::Parquet(_) => values,
        }
    }

    /// Bytes one full pass over the part reads: for Parquet, the compressed column chunks.
    pub fn data_bytes(&self) -> u64 {
        match &self.layout {
            #[cfg(feature = "parquet")]
            Layout::Parquet(c) => c.data_bytes(),
            _ => self.rows as u64 * self.row_bytes(),
        }
    }

    /// Reads `out.len() / dim` rows from local row `first` (already checked to exist).
    fn read(&self, first: usize, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
        match &self.layout {
            Layout::Dense { offset } => self.read_values(offset + first as u64 * self.row_bytes(), out, counter),
            Layout::Texmex => texmex::read_rows(self, first, out, counter),
            #[cfg(feature = "parquet")]
            Layout::Parquet(c) => c.read(first, out, counter),
        }
    }

    /// Reads `out.len()` contiguous values starting at byte `offset`, converted to f32.
    ///
    /// Always through the stack block, even for the host's own f32s: on our 2-core AMD EPYC
    /// test machine, reading 16 MiB batches straight into the caller's buffer ran at
    /// about half the speed of 64 KiB reads into a cache-resident block copied out.
    pub fn read_values(&self, offset: u64, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
        let size = self.enc.dtype.size();
        let mut block = [0u8; BLOCK_BYTES];
        let mut at = offset;
        for out in out.chunks_mut(BLOCK_BYTES / size) {
            let bytes = &mut block[..out.len() * size];
            self.read_at(bytes, at, counter)?;
            decode(self.enc, bytes, out);
            at += bytes.len() as u64;
        }
        Ok(())
    }

    /// Fills `buf` from byte `offset`, counting the bytes.
    pub fn read_at(&self, buf: &mut [u8], offset: u64, counter: &AtomicU64) -> Result<(), Error> {
        read_at(&self.path, &self.file, buf, offset)?;
        counter.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Opens `path` for reading, with its length.
pub(crate) fn open_file(path: &Path) -> Result<(File, u64), Error> {
    let file = File::open(path).map_err(|e| io_err(path, format!("cannot open for reading: {e}")))?;
    let len = file.metadata().map_err(|e| io_err(path, format!("cannot read its metadata: {e}")))?.len();
    Ok((file, len))
}

/// Fills `buf` from byte `offset` of `file`; a file too short is an error naming it.
pub(crate) fn read_at(path: &Path, file: &File, buf: &mut [u8], offset: u64) -> Result<(), Error> {
    read_exact_at(file, buf, offset).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            format_err(
                path,
                format!(
                    "the file ended inside the {} bytes at byte offset {offset}: it is shorter than when it was opened (truncated while being read?)",
                    buf.len()
                ),
            )
        } else {
            io_err(path, format!("read of {} bytes at byte offset {offset} failed: {e}", buf.len()))
        }
    })
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "positioned reads need Unix or Windows"))
}

pub(crate) fn format_err(path: &Path, message: String) -> Error {
    Error::Format { path: path.display().to_string(), message }
}

pub(crate) fn io_err(path: &Path, message: String) -> Error {
    Error::Io { path: path.display().to_string(), message }
}

/// A vector file, or a folder of vector files of one dimension (shards), read as one array
/// of `rows() × dim()` f32 values.
///
/// Opened by [`open`](super::open), which checks every header against its file's length;
/// rows are then read in any range by [`read_rows`](Self::read_rows), which checks what it
/// reads (a TEXMEX row's own dimension field) and counts the bytes.
#[derive(Debug)]
pub struct VectorSource {
    path: PathBuf,
    parts: Vec<Part>,
    /// The first row of each part, then the total.
    starts: Vec<usize>,
    dim: usize,
    dtype: Dtype,
    sharded: bool,
    bytes_read: AtomicU64,
}

impl VectorSource {
    /// Joins opened parts, all of one dimension and element type (checked by the caller).
    pub(crate) fn new(path: &Path, parts: Vec<Part>, sharded: bool) -> VectorSource {
        let (dim, dtype) = parts.first().map_or((0, Dtype::F32), |p| (p.dim, p.enc.dtype));
        let mut starts = Vec::with_capacity(parts.len() + 1);
        let mut total = 0usize;
        for p in &parts {
            starts.push(total);
            total = total.saturating_add(p.rows);
        }
        starts.push(total);
        VectorSource { path: path.to_path_buf(), parts, starts, dim, dtype, sharded, bytes_read: AtomicU64::new(0) }
    }

    /// Rows in all (across every shard).
    pub fn rows(&self) -> usize {
        *self.starts.last().expect("starts ends with the total")
    }

    /// The dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The type the file stores (rows are read as f32 whatever it is).
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// The path it was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path as text, for messages and logs.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The Parquet column the vectors are read from (the one asked for, or the one
    /// picked); `None` for other formats.
    pub fn column(&self) -> Option<&str> {
        match &self.parts.first()?.layout {
            #[cfg(feature = "parquet")]
            Layout::Parquet(c) => Some(c.name()),
            _ => None,
        }
    }

    /// Whether it is a folder of shards.
    pub fn is_sharded(&self) -> bool {
        self.sharded
    }

    /// Each file read, in row order, with its row count (one entry unless sharded).
    pub fn files(&self) -> impl Iterator<Item = (&Path, usize)> + '_ {
        self.parts.iter().map(|p| (p.path.as_path(), p.rows))
    }

    /// The file holding global row `row`, and the row's index inside it.
    pub fn locate(&self, row: usize) -> Option<(&Path, usize)> {
        if row >= self.rows() {
            return None;
        }
        let i = self.starts[..self.parts.len()].partition_point(|&s| s <= row) - 1;
        Some((&self.parts[i].path, row - self.starts[i]))
    }

    /// Bytes one full pass over every row reads (TEXMEX dimension fields included,
    /// file headers not; for Parquet, the compressed pages of the vector column).
    pub fn data_bytes(&self) -> u64 {
        self.parts.iter().map(Part::data_bytes).sum()
    }

    /// Bytes of rows read so far by every [`read_rows`](Self::read_rows) call, from every
    /// thread (TEXMEX dimension fields included; the headers read by `open` are not).
    /// `bytes_read() / data_bytes()` is the number of passes over the data.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// Fills `out` with the `out.len() / dim()` rows starting at row `start`, converted to
    /// f32, across shard boundaries. Allocates nothing; reads only those rows.
    ///
    /// # Errors
    ///
    /// [`Error::NotWholeRows`] if `out.len()` is not a multiple of `dim()`;
    /// [`Error::RowRange`] if the rows run past `rows()`; [`Error::Format`] naming the
    /// file, row and byte offset if a TEXMEX row declares another dimension than row 0, or
    /// if a file is shorter than when it was opened; [`Error::Io`] if a read fails. On
    /// error, `out` holds partial rows.
    pub fn read_rows(&self, start: usize, out: &mut [f32]) -> Result<(), Error> {
        let n = crate::error::rows_of("out", out.len(), self.dim.max(1))?;
        let rows = self.rows();
        if start.checked_add(n).is_none_or(|end| end > rows) {
            return Err(Error::RowRange { path: self.name(), start, count: n, rows });
        }
        let (mut row, mut out) = (start, out);
        let mut i = self.starts[..self.parts.len()].partition_point(|&s| s <= row).saturating_sub(1);
        while !out.is_empty() {
            let part = &self.parts[i];
            let local = row - self.starts[i];
            let take = (part.rows - local).min(out.len() / self.dim);
            let (head, tail) = std::mem::take(&mut out).split_at_mut(take * self.dim);
            if take > 0 {
                part.read(local, head, &self.bytes_read)?;
            }
            (out, row, i) = (tail, row + take, i + 1);
        }
        Ok(())
    }

    /// Checks a batch just read from row `first_row` for NaN and infinity, for callers that
    /// only accept finite data (training does): one pass over the batch, never the file.
    ///
    /// # Errors
    ///
    /// [`Error::Format`] naming the file (the shard, in a folder), the row, the dimension
    /// and the value.
    pub fn check_finite(&self, first_row: usize, batch: &[f32]) -> Result<(), Error> {
        // Blocks without an early exit inside, so the check vectorizes; then find the value.
        const B: usize = 1024;
        let Some(block) = batch.chunks(B).position(|c| c.iter().fold(false, |bad, v| bad | !v.is_finite())) else {
            return Ok(());
        };
        let i = block * B + batch[block * B..].iter().position(|v| !v.is_finite()).expect("the block has one");
        let dim = self.dim.max(1);
        let (row, j) = (first_row + i / dim, i % dim);
        let message = |local: usize| {
            format!(
                "row {local} holds a non-finite value ({} at dimension {j}); only finite values are accepted",
                batch[i]
            )
        };
        Err(match self.locate(row) {
            Some((file, local)) if self.sharded => {
                format_err(file, format!("{} (row {row} of the folder {})", message(local), self.path.display()))
            }
            _ => format_err(&self.path, message(row)),
        })
    }
}

/// Opens a vector file by its extension, or a folder of them as shards (see the module
/// docs of [`vq::data`](super) for the formats and the folder rules).
///
/// Every header is checked against its file's length here, so a truncated file is
/// reported before any row is read. No row is read.
///
/// # Errors
///
/// [`Error::Io`] if a file cannot be opened or read; [`Error::Format`] naming the file and
/// the value if its type is not supported, its header is malformed or disagrees with its
/// length, or (in a folder) files disagree on the dimension or the element type.
pub fn open(path: &Path) -> Result<VectorSource, Error> {
    if path.is_dir() {
        let parts = shards::open_dir(path)?;
        return Ok(VectorSource::new(path, parts, true));
    }
    Ok(VectorSource::new(path, vec![Part::open(path)?], false))
}

#[cfg(all(test, not(feature = "parquet")))]
mod tests {
    #[test]
    fn parquet_without_the_feature_says_how_to_turn_it_on() {
        let dir = std::env::temp_dir().join(format!("vq-no-parquet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("train-00000-of-00001.parquet");
        std::fs::write(&path, b"PAR1").unwrap();
        let msg = super::open(&path).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(msg.contains("train-00000-of-00001.parquet") && msg.contains("--features parquet"), "{msg}");
    }
}
