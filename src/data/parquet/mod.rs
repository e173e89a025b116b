//! Apache Parquet files (the Hugging Face Hub's format): one column of float lists read as
//! vectors, and a text column read in row order for embedding.
//!
//! Hub datasets ship embeddings as `list<float32>` (or float64, float16, or
//! `fixed_size_list`) next to text columns, split into files such as
//! `data/train-00000-of-00026.parquet`, with row groups from a thousand rows to pyarrow's
//! default of 1 Mi rows (6 GB of 1536-dim float32s). So nothing here holds a row group:
//!
//! - Rows are decoded page by page with the official `parquet` crate, reading each page
//!   with a positioned read when it is needed: float32 and float64 lists by its column
//!   reader straight into reused buffers, their levels checked here (`direct.rs`); float16
//!   (and the rows of an error, to name it) by its Arrow reader projected to the column. Memory is the requested batch plus a few pages and a few read-ahead batches,
//!   whatever the row count or the row-group size.
//! - Sequential reads (a pass in batches) continue from a cursor: a worker thread decodes
//!   the next batches while the caller copies the current one (see `benches/parquet.rs`
//!   and the section "Reading Parquet (issue 12)" of `docs/PERFORMANCE.md`).
//!   Any other read decodes exactly its rows, starting at the row group that holds them
//!   and skipping the rows before (whole pages when the file has a page index).
//! - The footer (`PAR1` magic, metadata length) is checked at open, so a truncated
//!   download is named before any row is read; every column problem (missing, text, not
//!   floats, nulls, a row of another length) is an [`Error::Format`] naming the file, the
//!   column and the row.
//!
//! The dimension is the fixed size of a `fixed_size_list`, else the length of the first
//! row, read at open by decoding one row of the first non-empty row group.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, ArrayRef, OffsetSizeTrait};
use arrow_schema::DataType;
use half::slice::HalfFloatSliceExt;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::PageIndexPolicy;
use parquet::file::reader::{ChunkReader, Length};

use super::dtype::{Dtype, Encoding};
use super::source::{format_err, io_err, open_file, read_at, Layout, Part, VectorSource};
use super::MAX_DIM;
use crate::Error;

mod direct;
use direct::{Direct, Failure, Leaf, Values};

/// Decoded bytes per read-ahead batch: large enough that a batch's fixed costs are noise,
/// small enough that the queue of them stays a few MiB.
const AHEAD_BYTES: usize = 4 << 20;

/// Batches decoded ahead of the caller (besides the one being decoded and the one being
/// copied out).
const AHEAD_BATCHES: usize = 2;

/// Read-ahead threads of a pass, each decoding every other row group (the machines this
/// runs on have two cores or more; the caller's thread checks and copies).
const WORKERS: usize = 2;

/// Rows per batch when reading text.
const TEXT_BATCH: usize = 1024;

/// Element types accepted in a vector column, for messages.
const ACCEPTED: &str =
    "list, large_list or fixed_size_list of float32, float64 or float16, with no null row or element";

/// Opens Parquet files as one data set of vectors, their rows in the given order (the
/// shards of a Hub dataset, in shard order).
///
/// `column` names the vector column; `None` takes the only column holding lists of
/// floats, and is an error listing the candidates if there are none or several. Every
/// file's footer is checked and its column's type, row count and dimension read; no row
/// is read but the first of the first file (for the dimension of a variable-size list).
/// `name` is what the source calls itself in messages ([`VectorSource::path`]).
///
/// # Errors
///
/// [`Error::Format`] naming the file and column if a file is truncated or not Parquet, the
/// column is missing (the message lists the columns and their types), holds text or
/// anything but lists of floats, row 0 is null or empty, or files disagree on the
/// dimension; [`Error::Io`] if a file cannot be read.
pub fn open(files: &[PathBuf], column: Option<&str>, name: &Path) -> Result<VectorSource, Error> {
    let Some(first) = files.first() else {
        return Err(format_err(name, "no Parquet file was given".into()));
    };
    let mut parts: Vec<Part> = Vec::with_capacity(files.len());
    let mut dim: Option<(usize, &Path)> = None;
    for path in files {
        let (file, len) = open_file(path)?;
        let part = open_part(path, file, len, column, dim.map(|d| d.0))?;
        if let Some((d, from)) = dim {
            if part.dim != d {
                let msg = format!(
                    "column '{}' has dimension {}, but {} has dimension {d}; all files of a data set must have one dimension",
                    column_name(&part),
                    part.dim,
                    from.display()
                );
                return Err(format_err(path, msg));
            }
        } else if part.rows > 0 || part.dim > 0 {
            dim = Some((part.dim, path));
        }
        parts.push(part);
    }
    if dim.is_none() {
        return Err(format_err(first, "the files hold no rows, so the vector dimension is unknown".into()));
    }
    let sharded = files.len() > 1 || name != first.as_path();
    Ok(VectorSource::new(name, parts, sharded))
}

fn column_name(part: &Part) -> &str {
    match &part.layout {
        Layout::Parquet(c) => &c.file.column,
        _ => "",
    }
}

/// The columns of a Parquet file with their types (`list<float32>`, `string`, ...), in
/// schema order, for messages and choosing a column.
///
/// # Errors
///
/// As [`open`] for a truncated or unreadable file.
pub fn columns(file: &Path) -> Result<Vec<(String, String)>, Error> {
    let (f, len) = open_file(file)?;
    let meta = load(file, &f, len)?;
    Ok(meta.schema().fields().iter().map(|f| (f.name().clone(), describe(f.data_type()))).collect())
}

/// A text column of Parquet files read in row order, for embedding: opened by
/// [`text_column`], read by [`read_texts`](Self::read_texts).
///
/// Sequential reads continue from where the last one stopped; memory is one batch of
/// strings (1024 rows) plus the pages being decoded.
#[derive(Debug)]
pub struct TextColumn {
    files: Vec<Arc<ColumnFile>>,
    /// The first row of each file, then the total.
    starts: Vec<usize>,
    cursor: Mutex<Option<TextCursor>>,
}

struct TextCursor {
    file: usize,
    /// The next local row `reader` (then `pending`) yields.
    next: usize,
    reader: ParquetRecordBatchReader,
    pending: Option<(ArrayRef, usize)>,
}

impl std::fmt::Debug for TextCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextCursor").field("file", &self.file).field("next", &self.next).finish_non_exhaustive()
    }
}

/// Opens the string column `column` of Parquet files as one column, rows in the given
/// order.
///
/// # Errors
///
/// [`Error::Format`] naming the file if it is truncated or not Parquet, or the column is
/// missing (listing the columns) or not `string`/`large_string`/`string_view`.
pub fn text_column(files: &[PathBuf], column: &str) -> Result<TextColumn, Error> {
    let mut out = Vec::with_capacity(files.len());
    let mut starts = vec![0];
    let mut total = 0usize;
    for path in files {
        let (file, len) = open_file(path)?;
        let meta = load(path, &file, len)?;
        let (root, dt) = find(path, &meta, Some(column))?;
        if !is_text(&dt) {
            let msg = format!(
                "column '{column}' is {}, not text; a text column must be string, large_string or string_view",
                describe(&dt)
            );
            return Err(format_err(path, msg));
        }
        let f = ColumnFile::new(path, file, len, meta, root, column)?;
        total = total.saturating_add(f.rows);
        starts.push(total);
        out.push(Arc::new(f));
    }
    Ok(TextColumn { files: out, starts, cursor: Mutex::new(None) })
}

impl TextColumn {
    /// Rows in all files.
    pub fn rows(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// The `count` strings from row `start`, across file boundaries.
    ///
    /// # Errors
    ///
    /// [`Error::RowRange`] past the last row; [`Error::Format`] naming the file, column and
    /// row for a null string or a file that cannot be decoded.
    pub fn read_texts(&self, start: usize, count: usize) -> Result<Vec<String>, Error> {
        let rows = self.rows();
        if start.checked_add(count).is_none_or(|end| end > rows) {
            let path = self.files.first().map(|f| f.path.display().to_string()).unwrap_or_default();
            return Err(Error::RowRange { path, start, count, rows });
        }
        let mut out = Vec::with_capacity(count.min(1 << 20));
        let mut guard = lock(&self.cursor);
        let mut row = start;
        while out.len() < count {
            let i = self.starts[..self.files.len()].partition_point(|&s| s <= row) - 1;
            let file = &self.files[i];
            let local = row - self.starts[i];
            let want = (file.rows - local).min(count - out.len());
            let cur = match guard.take() {
                Some(c) if c.file == i && c.next == local => guard.insert(c),
                _ => {
                    let reader = file.reader(local, file.rows - local, TEXT_BATCH, Arc::default())?;
                    guard.insert(TextCursor { file: i, next: local, reader, pending: None })
                }
            };
            let result = unpanic(file, || take_texts(file, cur, want, &mut out));
            if result.is_err() {
                *guard = None;
            }
            result?;
            row += want;
        }
        Ok(out)
    }
}

/// Appends the cursor's next `want` strings to `out`.
fn take_texts(file: &ColumnFile, cur: &mut TextCursor, want: usize, out: &mut Vec<String>) -> Result<(), Error> {
    let mut left = want;
    while left > 0 {
        let (array, at) = match cur.pending.take() {
            Some(p) if p.1 < p.0.len() => p,
            _ => match cur.reader.next() {
                Some(Ok(batch)) => (batch.column(0).clone(), 0),
                Some(Err(e)) => return Err(file.err(format!("cannot decode column '{}': {e}", file.column))),
                None => return Err(file.err(format!("column '{}' ended before its row count", file.column))),
            },
        };
        let n = left.min(array.len() - at);
        let first_row = cur.next;
        let null = |k: usize| {
            file.err(format!(
                "column '{}': row {} is null; a text column must have no null row",
                file.column,
                first_row + k
            ))
        };
        if let Some(s) = array.as_string_opt::<i32>() {
            push_strings(n, at, |k| s.is_null(k), |k| s.value(k), out).map_err(null)?;
        } else if let Some(s) = array.as_string_opt::<i64>() {
            push_strings(n, at, |k| s.is_null(k), |k| s.value(k), out).map_err(null)?;
        } else if let Some(s) = array.as_string_view_opt() {
            push_strings(n, at, |k| s.is_null(k), |k| s.value(k), out).map_err(null)?;
        } else {
            return Err(file.err(format!("column '{}' decoded as {}, not text", file.column, array.data_type())));
        }
        cur.next += n;
        left -= n;
        cur.pending = Some((array, at + n));
    }
    Ok(())
}

/// Pushes strings `at..at + n`; a null one is `Err(its index from at)`.
fn push_strings<'a>(
    n: usize,
    at: usize,
    is_null: impl Fn(usize) -> bool,
    value: impl Fn(usize) -> &'a str,
    out: &mut Vec<String>,
) -> Result<(), usize> {
    for k in at..at + n {
        if is_null(k) {
            return Err(k - at);
        }
        out.push(value(k).to_owned());
    }
    Ok(())
}

/// One Parquet file and one of its top-level columns, its footer checked.
#[derive(Debug)]
struct ColumnFile {
    path: PathBuf,
    file: Arc<File>,
    len: u64,
    meta: ArrowReaderMetadata,
    /// The column's index among the top-level fields.
    root: usize,
    column: String,
    rows: usize,
    /// The first row of each row group, then `rows`.
    group_starts: Vec<usize>,
    /// Compressed bytes of the column's chunks in every row group.
    chunk_bytes: u64,
}

impl ColumnFile {
    fn new(
        path: &Path,
        file: File,
        len: u64,
        meta: ArrowReaderMetadata,
        root: usize,
        column: &str,
    ) -> Result<ColumnFile, Error> {
        let md = meta.metadata().clone();
        let schema = md.file_metadata().schema_descr();
        let leaves: Vec<usize> = (0..schema.num_columns()).filter(|&i| schema.get_column_root_idx(i) == root).collect();
        let mut group_starts = Vec::with_capacity(md.num_row_groups() + 1);
        let (mut rows, mut chunk_bytes) = (0usize, 0u64);
        for (g, rg) in md.row_groups().iter().enumerate() {
            group_starts.push(rows);
            let n = usize::try_from(rg.num_rows())
                .map_err(|_| format_err(path, format!("row group {g} declares {} rows", rg.num_rows())))?;
            rows = rows.saturating_add(n);
            for &leaf in &leaves {
                if let Some(c) = rg.columns().get(leaf) {
                    chunk_bytes += u64::try_from(c.compressed_size()).unwrap_or(0);
                }
            }
        }
        group_starts.push(rows);
        Ok(ColumnFile {
            path: path.to_path_buf(),
            file: Arc::new(file),
            len,
            meta,
            root,
            column: column.to_string(),
            rows,
            group_starts,
            chunk_bytes,
        })
    }

    fn err(&self, message: String) -> Error {
        format_err(&self.path, message)
    }

    /// The row group holding local row `row` (one that exists).
    fn group_of(&self, row: usize) -> usize {
        self.group_starts[..self.group_starts.len() - 1].partition_point(|&s| s <= row).saturating_sub(1)
    }

    /// A reader of local rows `start..start + count` (which exist, `count > 0`) in
    /// batches of `batch` rows, counting the bytes it reads into `counter`. It starts at
    /// the row group holding `start` and skips the rows before it there.
    fn reader(
        &self,
        start: usize,
        count: usize,
        batch: usize,
        counter: Arc<AtomicU64>,
    ) -> Result<ParquetRecordBatchReader, Error> {
        let group_of = |row: usize| self.group_of(row);
        let (first, last) = (group_of(start), group_of(start + count - 1));
        let skip = start - self.group_starts[first];
        let after = self.group_starts[last + 1] - start - count;
        let selection =
            RowSelection::from(vec![RowSelector::skip(skip), RowSelector::select(count), RowSelector::skip(after)]);
        let own = File::open(&self.path).map_err(|e| io_err(&self.path, format!("cannot open for reading: {e}")))?;
        let input = Counting { file: self.file.clone(), own: Mutex::new(own), len: self.len, counter };
        let mask = ProjectionMask::roots(self.meta.parquet_schema(), [self.root]);
        ParquetRecordBatchReaderBuilder::new_with_metadata(input, self.meta.clone())
            .with_projection(mask)
            .with_row_groups((first..=last).collect())
            .with_row_selection(selection)
            .with_batch_size(batch.max(1))
            .build()
            .map_err(|e| self.err(format!("cannot read column '{}': {e}", self.column)))
    }
}

/// A Parquet vector column: one file's part of a [`VectorSource`].
#[derive(Debug)]
pub(crate) struct Column {
    file: Arc<ColumnFile>,
    shape: Shape,
    /// The fast path's leaf, if it reads this column (not float16).
    leaf: Option<Leaf>,
    cursor: Mutex<Cursor>,
}

/// What a batch of the column must look like; shared with the read-ahead worker.
#[derive(Clone, Copy, Debug)]
struct Shape {
    dim: usize,
    dtype: Dtype,
}

impl Shape {
    /// Rows per decoded batch, so a batch is about [`AHEAD_BYTES`] of f32s.
    fn batch_rows(self) -> usize {
        (AHEAD_BYTES / (4 * self.dim.max(1))).max(1)
    }
}

#[derive(Debug, Default)]
struct Cursor {
    /// The local row where the last read ended: a read starting there is a pass.
    end: Option<usize>,
    ahead: Option<Ahead>,
}

/// A worker thread decoding the rows from `next` on, batches queued in `rx`.
#[derive(Debug)]
struct Ahead {
    next: usize,
    /// One queue per worker; `turn` is the worker whose row group comes next.
    rx: Vec<Receiver<Result<Batch, Error>>>,
    turn: usize,
    pending: Option<Batch>,
    /// Value buffers the caller has copied out, for the workers to decode into again.
    free: Arc<Mutex<Vec<Values>>>,
}

/// Decoded rows: an Arrow array, or values the fast path decoded and checked.
#[derive(Debug)]
enum Rows {
    Arrow(ArrayRef),
    Direct(Values),
}

impl Rows {
    fn len(&self, dim: usize) -> usize {
        match self {
            Rows::Arrow(a) => a.len(),
            Rows::Direct(v) => v.len() / dim,
        }
    }
}

/// Decoded rows, checked and converted by the caller's thread as it copies them out: so
/// the worker only decodes, and the two threads share the work.
#[derive(Debug)]
struct Batch {
    rows: Rows,
    /// The local row of `array[0]`.
    first: usize,
    /// Rows of `array` already copied out.
    at: usize,
    /// The last batch of its row group: the next comes from the next worker.
    last: bool,
    /// Compressed bytes read to decode it.
    bytes: u64,
}

impl Column {
    pub(crate) fn data_bytes(&self) -> u64 {
        self.file.chunk_bytes
    }

    /// The column's name.
    pub(crate) fn name(&self) -> &str {
        &self.file.column
    }

    /// Reads local rows `first..first + out.len() / dim` (which exist) into `out`.
    pub(crate) fn read(&self, first: usize, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
        let n = out.len() / self.shape.dim.max(1);
        if n == 0 {
            return Ok(());
        }
        let mut cur = lock(&self.cursor);
        // A read further on in the row group the read-ahead is in (the next run of a sorted
        // gather) skips forward from there: restarting would decode the group from its
        // start again, and without a page index a gather over one huge row group (pyarrow's
        // default) would decode it once per run instead of once.
        let skip_to = cur.ahead.as_ref().and_then(|a| {
            (a.next < first && self.file.group_of(a.next) == self.file.group_of(first)).then_some(a.next)
        });
        if skip_to.is_none() && cur.ahead.as_ref().is_some_and(|a| a.next != first) {
            cur.ahead = None;
        }
        // In a large row group a read starts the read-ahead too, so the gather's later runs
        // continue from it (in small groups an exact read costs at most its group).
        let g = self.file.group_of(first);
        let deep = self.file.group_starts[g + 1] - self.file.group_starts[g] > 4 * self.shape.batch_rows();
        let result = unpanic(&self.file, || {
            if let Some(from) = skip_to {
                self.skip_ahead(&mut cur, from, first, counter)?;
            }
            if cur.ahead.is_some() || cur.end == Some(first) || deep {
                self.read_ahead(&mut cur, first, out, counter)
            } else {
                self.read_exact(first, out, counter)
            }
        });
        cur.end = result.is_ok().then_some(first + n);
        if result.is_err() {
            cur.ahead = None;
        }
        result
    }

    /// Decodes exactly the rows asked for, on the caller's thread.
    fn read_exact(&self, first: usize, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
        let n = out.len() / self.shape.dim;
        let bytes = Arc::new(AtomicU64::new(0));
        if let Some(leaf) = &self.leaf {
            let dim = self.shape.dim;
            let mut reader = Direct::new(&self.file, leaf, dim, first, first + n, bytes.clone())?;
            let mut values = Values::new(leaf);
            for chunk in out.chunks_mut(self.shape.batch_rows() * dim) {
                reader.read(chunk.len() / dim, &mut values).map_err(|f| explain(&self.file, self.shape, f))?;
                values.convert(0, chunk);
            }
            counter.fetch_add(bytes.load(Ordering::Relaxed), Ordering::Relaxed);
            return Ok(());
        }
        let reader = self.file.reader(first, n, n.min(self.shape.batch_rows()), bytes.clone())?;
        let (mut row, mut out) = (first, out);
        for batch in reader {
            let batch =
                batch.map_err(|e| self.file.err(format!("cannot decode column '{}': {e}", self.file.column)))?;
            let rows = batch.num_rows().min(out.len() / self.shape.dim);
            let (head, tail) = std::mem::take(&mut out).split_at_mut(rows * self.shape.dim);
            convert(&self.file, self.shape, row, batch.column(0).as_ref(), head)?;
            (out, row) = (tail, row + rows);
        }
        counter.fetch_add(bytes.load(Ordering::Relaxed), Ordering::Relaxed);
        if !out.is_empty() {
            return Err(self
                .file
                .err(format!("column '{}' ended at row {row}, before its row count", self.file.column)));
        }
        Ok(())
    }

    /// Copies the rows from the read-ahead worker, starting one at `first` if needed.
    fn read_ahead(&self, cur: &mut Cursor, first: usize, out: &mut [f32], counter: &AtomicU64) -> Result<(), Error> {
        let end = first + out.len() / self.shape.dim;
        let ahead = match &mut cur.ahead {
            Some(a) => a,
            None => cur.ahead.insert(self.spawn(first)?),
        };
        let mut out = out;
        while !out.is_empty() {
            let dim = self.shape.dim;
            let batch = match &mut ahead.pending {
                Some(b) if b.at < b.rows.len(dim) => b,
                slot => {
                    if let Some(Batch { rows: Rows::Direct(v), .. }) = slot.take() {
                        lock(&ahead.free).push(v);
                    }
                    let rx = ahead.rx.get(ahead.turn).ok_or_else(|| self.file.err("no reader thread".into()))?;
                    let next = rx.recv().map_err(|_| {
                        self.file.err(format!("the reader of column '{}' stopped unexpectedly", self.file.column))
                    })??;
                    if next.last {
                        ahead.turn = (ahead.turn + 1) % ahead.rx.len();
                    }
                    counter.fetch_add(next.bytes, Ordering::Relaxed);
                    slot.insert(next)
                }
            };
            let take = (out.len() / dim).min(batch.rows.len(dim) - batch.at);
            let (head, tail) = std::mem::take(&mut out).split_at_mut(take * dim);
            match &batch.rows {
                Rows::Arrow(a) => {
                    convert(&self.file, self.shape, batch.first + batch.at, a.slice(batch.at, take).as_ref(), head)?
                }
                Rows::Direct(v) => v.convert(batch.at * dim, head),
            }
            batch.at += take;
            out = tail;
        }
        ahead.next = end;
        Ok(())
    }

    /// Consumes the read-ahead's rows `from..to`, decoded once and dropped.
    fn skip_ahead(&self, cur: &mut Cursor, from: usize, to: usize, counter: &AtomicU64) -> Result<(), Error> {
        let dim = self.shape.dim;
        let mut scratch = vec![0f32; (to - from).min(self.shape.batch_rows()) * dim];
        let mut at = from;
        while at < to {
            let n = (to - at).min(scratch.len() / dim);
            self.read_ahead(cur, at, &mut scratch[..n * dim], counter)?;
            at += n;
        }
        Ok(())
    }

    /// Starts the workers decoding local rows `first..` to the end of the file: worker
    /// `k` of [`WORKERS`] takes every `WORKERS`-th row group from the one holding `first`,
    /// so files of many row groups (the Hub's) are decoded on two cores. A file of one
    /// huge row group (pyarrow's default) is decoded by one worker.
    fn spawn(&self, first: usize) -> Result<Ahead, Error> {
        let starts = &self.file.group_starts;
        let g0 = starts[..starts.len() - 1].partition_point(|&s| s <= first) - 1;
        let groups: Vec<usize> = (g0..starts.len() - 1).filter(|&g| starts[g + 1] > starts[g]).collect();
        let batch_rows = self.shape.batch_rows();
        let free = Arc::new(Mutex::new(Vec::new()));
        let mut rx = Vec::with_capacity(WORKERS);
        for k in 0..WORKERS {
            let mine: Vec<(usize, usize)> =
                groups.iter().skip(k).step_by(WORKERS).map(|&g| (starts[g].max(first), starts[g + 1])).collect();
            let (tx, r) = sync_channel(AHEAD_BATCHES);
            let file = self.file.clone();
            let (shape, leaf, free) = (self.shape, self.leaf.clone(), free.clone());
            std::thread::Builder::new()
                .name("vq-parquet".into())
                .spawn(move || match leaf {
                    Some(leaf) => decode_direct(&file, shape, &leaf, &mine, &free, &tx),
                    None => decode_groups(&file, &mine, batch_rows, &tx),
                })
                .map_err(|e| io_err(&self.file.path, format!("cannot start a reader thread: {e}")))?;
            rx.push(r);
        }
        Ok(Ahead { next: first, rx, turn: 0, pending: None, free })
    }
}

/// A worker: decodes the row ranges (each within one row group) in order into `tx`, until
/// the end, an error, or the reader hanging up (it moved elsewhere or was dropped).
fn decode_groups(
    file: &ColumnFile,
    ranges: &[(usize, usize)],
    batch_rows: usize,
    tx: &SyncSender<Result<Batch, Error>>,
) {
    let bytes = Arc::new(AtomicU64::new(0));
    for &(start, end) in ranges {
        let reader = match file.reader(start, end - start, batch_rows, bytes.clone()) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut row = start;
        for batch in reader {
            let decoded =
                batch.map_err(|e| file.err(format!("cannot decode column '{}': {e}", file.column))).map(|b| {
                    let n = b.num_rows();
                    let bytes = bytes.swap(0, Ordering::Relaxed);
                    let batch = Batch {
                        rows: Rows::Arrow(b.column(0).clone()),
                        first: row,
                        at: 0,
                        bytes,
                        last: row + n >= end,
                    };
                    row += n;
                    batch
                });
            let failed = decoded.is_err();
            if tx.send(decoded).is_err() || failed {
                return;
            }
        }
    }
}

/// A worker of the fast path: [`decode_groups`] decoding with [`Direct`] into buffers
/// taken from `free` (the ones the caller has copied out), so a pass allocates none.
fn decode_direct(
    file: &ColumnFile,
    shape: Shape,
    leaf: &Leaf,
    ranges: &[(usize, usize)],
    free: &Mutex<Vec<Values>>,
    tx: &SyncSender<Result<Batch, Error>>,
) {
    let bytes = Arc::new(AtomicU64::new(0));
    for &(start, end) in ranges {
        let mut reader = match Direct::new(file, leaf, shape.dim, start, end, bytes.clone()) {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut row = start;
        while row < end {
            let n = shape.batch_rows().min(end - row);
            let mut values = lock(free).pop().unwrap_or_else(|| Values::new(leaf));
            let decoded = match reader.read(n, &mut values) {
                Ok(()) => {
                    let bytes = bytes.swap(0, Ordering::Relaxed);
                    Ok(Batch { rows: Rows::Direct(values), first: row, at: 0, bytes, last: row + n >= end })
                }
                Err(f) => Err(explain(file, shape, f)),
            };
            row += n;
            let failed = decoded.is_err();
            if tx.send(decoded).is_err() || failed {
                return;
            }
        }
    }
}

/// The error for a failed fast-path read: its own, or for rows whose levels are not
/// `dim` present elements each, the error the Arrow path gives for them (naming the row
/// and the problem).
fn explain(file: &ColumnFile, shape: Shape, failure: Failure) -> Error {
    let bad = match failure {
        Failure::Error(e) => return e,
        Failure::Invalid(bad) => bad,
    };
    let generic = || {
        file.err(format!(
            "column '{}': the levels of rows {}..{} are not {} present elements per row; accepted: {ACCEPTED}",
            file.column,
            bad.first,
            bad.first + bad.rows,
            shape.dim
        ))
    };
    let Ok(reader) = file.reader(bad.first, bad.rows, bad.rows.min(shape.batch_rows()), Arc::default()) else {
        return generic();
    };
    let mut row = bad.first;
    let mut scratch = Vec::new();
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return file.err(format!("cannot decode column '{}': {e}", file.column)),
        };
        scratch.resize(batch.num_rows() * shape.dim, 0.0);
        if let Err(e) = convert(file, shape, row, batch.column(0).as_ref(), &mut scratch) {
            return e;
        }
        row += batch.num_rows();
    }
    if row < bad.first + bad.rows {
        return file.err(format!("column '{}' ended at row {row}, before its row count", file.column));
    }
    generic()
}

/// Checks a decoded batch of rows from local row `first` and converts it into `out`
/// (`batch.len() · dim` values).
fn convert(file: &ColumnFile, shape: Shape, first: usize, array: &dyn Array, out: &mut [f32]) -> Result<(), Error> {
    let dim = shape.dim;
    let col = &file.column;
    let rows = array.len();
    if out.len() != rows * dim {
        return Err(file.err(format!("column '{col}': a batch of {rows} rows does not fit {} values", out.len())));
    }
    if let Some(k) = array.nulls().and_then(|n| (0..rows).find(|&k| n.is_null(k))) {
        return Err(file.err(format!("column '{col}': row {} is null; accepted: {ACCEPTED}", first + k)));
    }
    let (values, start) = if let Some(l) = array.as_list_opt::<i32>() {
        (l.values(), offsets_start(file, shape, first, l.value_offsets())?)
    } else if let Some(l) = array.as_list_opt::<i64>() {
        (l.values(), offsets_start(file, shape, first, l.value_offsets())?)
    } else if let Some(l) = array.as_fixed_size_list_opt() {
        if l.value_length() as usize != dim {
            let msg = format!("column '{col}' has vectors of length {}, expected {dim}", l.value_length());
            return Err(file.err(msg));
        }
        (l.values(), l.value_offset_at(0))
    } else {
        return Err(
            file.err(format!("column '{col}' decoded as {}; accepted: {ACCEPTED}", describe(array.data_type())))
        );
    };
    let end = start + rows * dim;
    if end > values.len() {
        return Err(file.err(format!("column '{col}': the values of rows {first}.. end early")));
    }
    if let Some(nulls) = values.nulls() {
        if let Some(i) = (start..end).find(|&i| nulls.is_null(i)) {
            let (r, j) = ((i - start) / dim, (i - start) % dim);
            let msg =
                format!("column '{col}': row {} has a null element at index {j}; accepted: {ACCEPTED}", first + r);
            return Err(file.err(msg));
        }
    }
    match shape.dtype {
        Dtype::F32 => match values.as_primitive_opt::<Float32Type>() {
            Some(v) => out.copy_from_slice(&v.values()[start..end]),
            None => return Err(decoded_as(file, values.data_type())),
        },
        Dtype::F64 => match values.as_primitive_opt::<Float64Type>() {
            Some(v) => out.iter_mut().zip(&v.values()[start..end]).for_each(|(o, &x)| *o = x as f32),
            None => return Err(decoded_as(file, values.data_type())),
        },
        Dtype::F16 => match values.as_primitive_opt::<Float16Type>() {
            Some(v) => v.values()[start..end].convert_to_f32_slice(out),
            None => return Err(decoded_as(file, values.data_type())),
        },
        other => return Err(file.err(format!("column '{col}' holds {}; accepted: {ACCEPTED}", other.name()))),
    }
    Ok(())
}

fn decoded_as(file: &ColumnFile, dt: &DataType) -> Error {
    file.err(format!("column '{}' has elements of type {}, which changed after open", file.column, describe(dt)))
}

/// Checks that every list of a batch has `dim` values; returns where the first starts.
fn offsets_start<O: OffsetSizeTrait>(
    file: &ColumnFile,
    shape: Shape,
    first: usize,
    offsets: &[O],
) -> Result<usize, Error> {
    let len = |w: &[O]| w[1].as_usize().wrapping_sub(w[0].as_usize());
    if let Some(k) = offsets.windows(2).position(|w| len(w) != shape.dim) {
        let msg = format!(
            "column '{}': row {} has length {}, but row 0 had {}; every vector must have one length",
            file.column,
            first + k,
            len(&offsets[k..k + 2]) as isize,
            shape.dim
        );
        return Err(file.err(msg));
    }
    Ok(offsets.first().map_or(0, |o| o.as_usize()))
}

/// Opens one Parquet file as a part of a [`VectorSource`]: its footer checked, its column
/// picked (`None`: the only float-list column), its dimension read (`dim` if the file has
/// no rows, from the files before it).
pub(crate) fn open_part(
    path: &Path,
    file: File,
    len: u64,
    column: Option<&str>,
    dim: Option<usize>,
) -> Result<Part, Error> {
    let meta = load(path, &file, len)?;
    let (root, dt) = find_vectors(path, &meta, column)?;
    let name = meta.schema().field(root).name().clone();
    let handle = file.try_clone().map_err(|e| io_err(path, format!("cannot reopen: {e}")))?;
    let cf = ColumnFile::new(path, file, len, meta, root, &name)?;
    let (fixed, elem) = match &dt {
        DataType::FixedSizeList(f, n) => (Some(*n), f.data_type()),
        DataType::List(f) | DataType::LargeList(f) => (None, f.data_type()),
        other => (None, other),
    };
    let dtype = match elem {
        DataType::Float32 => Dtype::F32,
        DataType::Float64 => Dtype::F64,
        DataType::Float16 => Dtype::F16,
        other => {
            return Err(format_err(path, format!("column '{name}' holds {}; accepted: {ACCEPTED}", describe(other))))
        }
    };
    let dim = match (fixed, dim) {
        (Some(n), _) => usize::try_from(n).unwrap_or(0),
        (None, Some(d)) if cf.rows == 0 => d,
        (None, _) => first_len(&cf)?,
    };
    if dim == 0 || dim > MAX_DIM {
        let msg = format!("column '{name}' has vectors of length {dim}, expected 1 to {MAX_DIM}");
        return Err(format_err(path, msg));
    }
    let rows = cf.rows;
    let leaf = Leaf::find(&cf, dtype);
    let column = Column { file: Arc::new(cf), shape: Shape { dim, dtype }, leaf, cursor: Mutex::default() };
    Ok(Part {
        path: path.to_path_buf(),
        file: handle,
        rows,
        dim,
        enc: Encoding::le(dtype),
        layout: Layout::Parquet(Arc::new(column)),
    })
}

/// The length of row 0 of a variable-size list column (0 if the file has no rows).
fn first_len(cf: &ColumnFile) -> Result<usize, Error> {
    if cf.rows == 0 {
        return Ok(0);
    }
    let mut reader = cf.reader(0, 1, 1, Arc::default())?;
    let batch = match unpanic(cf, || Ok(reader.next()))? {
        Some(Ok(b)) => b,
        Some(Err(e)) => return Err(cf.err(format!("cannot decode row 0 of column '{}': {e}", cf.column))),
        None => return Err(cf.err(format!("column '{}' has no row 0", cf.column))),
    };
    let array = batch.column(0);
    if array.is_null(0) {
        return Err(cf.err(format!("column '{}': row 0 is null; accepted: {ACCEPTED}", cf.column)));
    }
    let len = if let Some(l) = array.as_list_opt::<i32>() {
        l.value_length(0).max(0) as usize
    } else if let Some(l) = array.as_list_opt::<i64>() {
        l.value_length(0).max(0) as usize
    } else {
        0
    };
    Ok(len)
}

/// Checks the footer (so a truncated download is named as such) and reads the metadata,
/// with the offset index when the file has one (to skip whole pages).
fn load(path: &Path, file: &File, len: u64) -> Result<ArrowReaderMetadata, Error> {
    let bad = |why: String| format_err(path, format!("truncated or not a Parquet file: {why}; re-download it"));
    if len < 12 {
        return Err(bad(format!("it is {len} bytes long, shorter than the Parquet header and footer (12 bytes)")));
    }
    let mut head = [0u8; 4];
    read_at(path, file, &mut head, 0)?;
    let mut foot = [0u8; 8];
    read_at(path, file, &mut foot, len - 8)?;
    if &foot[4..] == b"PARE" {
        return Err(format_err(path, "is an encrypted Parquet file, which is not supported".into()));
    }
    if &head != b"PAR1" || &foot[4..] != b"PAR1" {
        return Err(bad("it does not start and end with the PAR1 magic".into()));
    }
    let meta_len = u64::from(u32::from_le_bytes([foot[0], foot[1], foot[2], foot[3]]));
    if meta_len + 12 > len {
        return Err(bad(format!(
            "its footer declares {meta_len} bytes of metadata, but the file has only {} bytes between header and footer",
            len - 12
        )));
    }
    let options = ArrowReaderOptions::new().with_offset_index_policy(PageIndexPolicy::Optional);
    ArrowReaderMetadata::load(file, options).map_err(|e| bad(format!("cannot read its metadata ({e})")))
}

/// The top-level column to read as vectors (or, for text, the named one): its index and
/// type. `None` picks the only float-list column.
fn find(path: &Path, meta: &ArrowReaderMetadata, column: Option<&str>) -> Result<(usize, DataType), Error> {
    let fields = meta.schema().fields();
    let listing = || {
        let cols: Vec<String> = fields.iter().map(|f| format!("{} ({})", f.name(), describe(f.data_type()))).collect();
        cols.join(", ")
    };
    let Some(name) = column else {
        let floats: Vec<usize> = (0..fields.len()).filter(|&i| is_float_list(fields[i].data_type())).collect();
        return match floats.as_slice() {
            [i] => Ok((*i, fields[*i].data_type().clone())),
            [] => Err(format_err(path, format!("has no column of vectors ({ACCEPTED}); its columns: {}", listing()))),
            _ => {
                let names: Vec<&str> = floats.iter().map(|&i| fields[i].name().as_str()).collect();
                let msg = format!("has several vector columns ({}): name the one to read", names.join(", "));
                Err(format_err(path, msg))
            }
        };
    };
    let Some(i) = fields.iter().position(|f| f.name() == name) else {
        return Err(format_err(path, format!("has no column '{name}'; its columns: {}", listing())));
    };
    Ok((i, fields[i].data_type().clone()))
}

/// [`find`] for a vector column: its type checked.
fn find_vectors(path: &Path, meta: &ArrowReaderMetadata, column: Option<&str>) -> Result<(usize, DataType), Error> {
    let (i, dt) = find(path, meta, column)?;
    if is_float_list(&dt) {
        return Ok((i, dt));
    }
    let name = meta.schema().field(i).name();
    let msg = if is_text(&dt) {
        format!(
            "column '{name}' is text ({}), not vectors; to embed it, name it with --hf-text-column; a vector column is a {ACCEPTED}",
            describe(&dt)
        )
    } else {
        format!("column '{name}' is {}, not vectors; accepted: {ACCEPTED}", describe(&dt))
    };
    Err(format_err(path, msg))
}

fn is_text(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_float_list(dt: &DataType) -> bool {
    match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            matches!(f.data_type(), DataType::Float16 | DataType::Float32 | DataType::Float64)
        }
        _ => false,
    }
}

/// A type as pyarrow spells it (`list<float32>`, `string`), for messages.
fn describe(dt: &DataType) -> String {
    match dt {
        DataType::Utf8 => "string".into(),
        DataType::LargeUtf8 => "large_string".into(),
        DataType::Utf8View => "string_view".into(),
        DataType::Boolean => "bool".into(),
        DataType::Binary => "binary".into(),
        DataType::LargeBinary => "large_binary".into(),
        DataType::List(f) => format!("list<{}>", describe(f.data_type())),
        DataType::LargeList(f) => format!("large_list<{}>", describe(f.data_type())),
        DataType::FixedSizeList(f, n) => format!("fixed_size_list<{}>[{n}]", describe(f.data_type())),
        DataType::Struct(fs) => {
            let inner: Vec<String> = fs.iter().map(|f| format!("{}: {}", f.name(), describe(f.data_type()))).collect();
            format!("struct<{}>", inner.join(", "))
        }
        other => other.to_string().to_lowercase(),
    }
}

/// Runs a decoding step, turning a panic of the `parquet` crate on a corrupt page (some
/// malformed headers reach an `unwrap` there) into an error naming the file and column.
/// Workers need none: a worker's panic ends its queue, which the caller reports.
fn unpanic<T>(file: &ColumnFile, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(file.err(format!("cannot decode column '{}': a page is corrupt (the decoder panicked)", file.column)))
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the cursor leaves it consistent enough: the next read
    // that does not continue it starts afresh.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The file as the Arrow reader's input: positioned reads (so any number of readers share
/// one descriptor), counting the bytes read.
struct Counting {
    file: Arc<File>,
    /// A handle of its own for page bodies: `read_to_end` into a fresh Vec skips zeroing
    /// it (a positioned read into a zeroed buffer was a tenth of a pass's time).
    own: Mutex<File>,
    len: u64,
    counter: Arc<AtomicU64>,
}

impl Length for Counting {
    fn len(&self) -> u64 {
        self.len
    }
}

/// A page header's reader: small positioned reads, since a header is a few hundred bytes.
struct At {
    file: Arc<File>,
    pos: u64,
    counter: Arc<AtomicU64>,
}

impl Read for At {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = read_some_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Header reads are buffered this much: most page headers fit, and it is what a page
/// header costs in the byte count.
const HEADER_BUF: usize = 1024;

impl ChunkReader for Counting {
    type T = std::io::BufReader<At>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        let at = At { file: self.file.clone(), pos: start, counter: self.counter.clone() };
        Ok(std::io::BufReader::with_capacity(HEADER_BUF, at))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        if start.checked_add(length as u64).is_none_or(|end| end > self.len) {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start} run past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut buf = Vec::with_capacity(length);
        let mut own = lock(&self.own);
        own.seek(SeekFrom::Start(start))?;
        (&mut *own).take(length as u64).read_to_end(&mut buf)?;
        if buf.len() != length {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "the file ended at byte {}, before the {length} bytes at offset {start} (truncated while read?)",
                start + buf.len() as u64
            )));
        }
        self.counter.fetch_add(length as u64, Ordering::Relaxed);
        Ok(buf.into())
    }
}

#[cfg(unix)]
fn read_some_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    loop {
        match std::os::unix::fs::FileExt::read_at(file, buf, offset) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r,
        }
    }
}

#[cfg(windows)]
fn read_some_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(not(any(unix, windows)))]
fn read_some_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<usize> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "positioned reads need Unix or Windows"))
}
