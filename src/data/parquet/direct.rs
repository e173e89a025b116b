//! The fast path for `list<float32>` and `list<float64>` columns (and their large and
//! fixed-size variants): values decoded by the `parquet` crate's column reader straight
//! into a reused `Vec`, levels into two reused `i16` buffers, without the Arrow list
//! builder (which was 84% of a pass: offsets, null buffers and two value copies per batch).
//!
//! The levels are checked here: every level must be a present element (definition level
//! at its maximum) and every record exactly `dim` levels (repetition level 0 first, 1
//! after). Anything else (a null row or element, an empty or short row) is handed back
//! as [`Invalid`]; the caller then decodes the same rows through the Arrow path, whose
//! error names the row and the problem, so both paths report alike.

use std::fs::File;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use parquet::basic::Type as Physical;
use parquet::column::reader::ColumnReaderImpl;
use parquet::data_type::{DoubleType, FloatType};
use parquet::file::serialized_reader::SerializedPageReader;
use parquet::schema::types::ColumnDescPtr;

use super::{ColumnFile, Counting};
use crate::data::dtype::Dtype;
use crate::data::source::io_err;
use crate::Error;

/// The vector column's one leaf, when the fast path can read it: one repetition level
/// and float or double values matching the column's element type.
#[derive(Clone, Debug)]
pub(super) struct Leaf {
    index: usize,
    descr: ColumnDescPtr,
}

impl Leaf {
    pub(super) fn find(file: &ColumnFile, dtype: Dtype) -> Option<Leaf> {
        let schema = file.meta.metadata().file_metadata().schema_descr();
        let leaves: Vec<usize> =
            (0..schema.num_columns()).filter(|&i| schema.get_column_root_idx(i) == file.root).collect();
        let [index] = leaves[..] else { return None };
        let descr = schema.column(index);
        let physical =
            matches!((descr.physical_type(), dtype), (Physical::FLOAT, Dtype::F32) | (Physical::DOUBLE, Dtype::F64));
        (physical && descr.max_rep_level() == 1 && descr.max_def_level() >= 1).then_some(Leaf { index, descr })
    }
}

/// Decoded values of whole rows, in the file's element type.
#[derive(Debug)]
pub(super) enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Values {
    pub(super) fn new(leaf: &Leaf) -> Values {
        match leaf.descr.physical_type() {
            Physical::DOUBLE => Values::F64(Vec::new()),
            _ => Values::F32(Vec::new()),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    fn clear(&mut self) {
        match self {
            Values::F32(v) => v.clear(),
            Values::F64(v) => v.clear(),
        }
    }

    /// Converts values `at..at + out.len()` into `out` (which they fill).
    pub(super) fn convert(&self, at: usize, out: &mut [f32]) {
        let end = at + out.len();
        match self {
            Values::F32(v) => out.copy_from_slice(&v[at..end]),
            Values::F64(v) => out.iter_mut().zip(&v[at..end]).for_each(|(o, &x)| *o = x as f32),
        }
    }
}

enum Typed {
    F32(ColumnReaderImpl<FloatType>),
    F64(ColumnReaderImpl<DoubleType>),
}

/// Rows `first..first + rows` do not all hold `dim` present elements (or the column
/// chunk ended before them): the caller names the problem by decoding them with Arrow.
#[derive(Debug)]
pub(super) struct Invalid {
    pub(super) first: usize,
    pub(super) rows: usize,
}

/// Why a read stopped: a decoding error (its message complete) or rows to explain.
#[derive(Debug)]
pub(super) enum Failure {
    Error(Error),
    Invalid(Invalid),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

/// A sequential reader of local rows `next..end` of the leaf, one row group at a time.
pub(super) struct Direct<'a> {
    file: &'a ColumnFile,
    leaf: &'a Leaf,
    dim: usize,
    input: Arc<Counting>,
    next: usize,
    end: usize,
    /// The reader of the row group holding `next`, ending at local row `group_end`.
    reader: Option<Typed>,
    group_end: usize,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl<'a> Direct<'a> {
    /// Reads local rows `start..end` (which exist), counting the bytes read into `counter`.
    pub(super) fn new(
        file: &'a ColumnFile,
        leaf: &'a Leaf,
        dim: usize,
        start: usize,
        end: usize,
        counter: Arc<AtomicU64>,
    ) -> Result<Direct<'a>, Error> {
        let own = File::open(&file.path).map_err(|e| io_err(&file.path, format!("cannot open for reading: {e}")))?;
        let input = Arc::new(Counting { file: file.file.clone(), own: Mutex::new(own), len: file.len, counter });
        let (def, rep) = (Vec::new(), Vec::new());
        Ok(Direct { file, leaf, dim, input, next: start, end, reader: None, group_end: start, def, rep })
    }

    fn decode_err(&self, e: impl std::fmt::Display) -> Error {
        self.file.err(format!("cannot decode column '{}': {e}", self.file.column))
    }

    /// Opens the row group holding `next` and skips to `next`.
    fn open_group(&mut self) -> Result<Typed, Failure> {
        let starts = &self.file.group_starts;
        let g = starts[..starts.len() - 1].partition_point(|&s| s <= self.next) - 1;
        let md = self.file.meta.metadata();
        let group_rows = starts[g + 1] - starts[g];
        let chunk = md.row_group(g).column(self.leaf.index);
        let locations = md.page_index_for_row_group(g).page_locations(self.leaf.index).cloned();
        let pages = SerializedPageReader::new(self.input.clone(), chunk, group_rows, locations)
            .map_err(|e| self.decode_err(e))?;
        let descr = self.leaf.descr.clone();
        let mut reader = match descr.physical_type() {
            Physical::DOUBLE => Typed::F64(ColumnReaderImpl::new(descr, Box::new(pages))),
            _ => Typed::F32(ColumnReaderImpl::new(descr, Box::new(pages))),
        };
        let skip = self.next - starts[g];
        if skip > 0 {
            let skipped = match &mut reader {
                Typed::F32(r) => r.skip_records(skip),
                Typed::F64(r) => r.skip_records(skip),
            }
            .map_err(|e| self.decode_err(e))?;
            if skipped != skip {
                return Err(Failure::Invalid(Invalid { first: self.next, rows: self.end - self.next }));
            }
        }
        self.group_end = starts[g + 1];
        Ok(reader)
    }

    /// Decodes the next `rows` rows (which exist) into `out`, replacing its values.
    pub(super) fn read(&mut self, rows: usize, out: &mut Values) -> Result<(), Failure> {
        out.clear();
        let (first, want) = (self.next, rows.min(self.end - self.next));
        let invalid = Failure::Invalid(Invalid { first, rows: want });
        let mut got = 0;
        while got < want {
            let mut reader = match self.reader.take() {
                Some(r) => r,
                None => self.open_group()?,
            };
            let take = (want - got).min(self.group_end - self.next);
            let (def, rep) = (&mut self.def, &mut self.rep);
            def.clear();
            rep.clear();
            let before = out.len();
            let read = match (&mut reader, &mut *out) {
                (Typed::F32(r), Values::F32(v)) => r.read_records(take, Some(def), Some(rep), v),
                (Typed::F64(r), Values::F64(v)) => r.read_records(take, Some(def), Some(rep), v),
                _ => return Err(Failure::Error(self.file.err("internal: value buffer of another type".into()))),
            };
            let file = self.file;
            let (records, values, levels) =
                read.map_err(|e| file.err(format!("cannot decode column '{}': {e}", file.column)))?;
            let max_def = self.leaf.descr.max_def_level();
            let whole = records == take
                && levels == take * self.dim
                && values == levels
                && out.len() == before + values
                && def.len() == levels
                && rep.len() == levels
                && def.iter().all(|&d| d == max_def)
                && rep.chunks_exact(self.dim).all(|r| r[0] == 0 && r[1..].iter().all(|&x| x == 1));
            if !whole {
                return Err(invalid);
            }
            got += take;
            self.next += take;
            if self.next < self.group_end {
                self.reader = Some(reader);
            }
        }
        Ok(())
    }
}
