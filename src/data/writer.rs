//! [`VectorWriter`]: writes f32 rows to a `.fbin` or `.npy` file in batches, for data sets
//! larger than memory (a generator writing many GB) and for tests.
//!
//! The header is written first with a row count of 0 and patched in place by
//! [`finish`](VectorWriter::finish) (the `.npy` header is padded so any count fits in the
//! same length). A writer dropped without `finish` leaves a file whose header disagrees
//! with its length, which every reader rejects: a crashed generator never leaves a file
//! that reads as a shorter data set.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::source::{format_err, io_err, Format};
use super::{npy, MAX_DIM};
use crate::Error;

/// Writes f32 rows of one dimension to a `.fbin` or `.npy` (`<f4`, C order) file.
#[derive(Debug)]
pub struct VectorWriter {
    path: PathBuf,
    out: BufWriter<File>,
    npy: bool,
    dim: usize,
    rows: u64,
}

impl VectorWriter {
    /// Creates (or replaces) `path`, a `.fbin` or `.npy` file by its extension, for rows of
    /// `dim` values, and writes its header.
    ///
    /// # Errors
    ///
    /// [`Error::OutOfRange`] if `dim` is 0 or above [`MAX_DIM`]; [`Error::Format`] if the
    /// extension is neither (nothing is created); [`Error::Io`] if the file cannot be
    /// created or written.
    pub fn create(path: &Path, dim: usize) -> Result<VectorWriter, Error> {
        if dim == 0 || dim > MAX_DIM {
            return Err(Error::OutOfRange {
                what: "dim",
                got: dim.to_string(),
                accepted: "1..=1048576 (data::MAX_DIM)",
            });
        }
        let npy = match Format::of(path) {
            Some(Format::Fbin) => false,
            Some(Format::Npy) => true,
            _ => return Err(format_err(path, "cannot write this file type, accepted: .fbin or .npy (float32)".into())),
        };
        let file = File::create(path).map_err(|e| io_err(path, format!("cannot create for writing: {e}")))?;
        let mut w =
            VectorWriter { path: path.to_path_buf(), out: BufWriter::with_capacity(1 << 20, file), npy, dim, rows: 0 };
        let header = w.header();
        w.out.write_all(&header).map_err(|e| w.write_err(e))?;
        Ok(w)
    }

    /// The header for the rows written so far.
    fn header(&self) -> Vec<u8> {
        if self.npy {
            npy::header_bytes("<f4", self.rows, self.dim)
        } else {
            let mut h = (self.rows as u32).to_le_bytes().to_vec();
            h.extend_from_slice(&(self.dim as u32).to_le_bytes());
            h
        }
    }

    fn write_err(&self, e: std::io::Error) -> Error {
        io_err(&self.path, format!("write failed: {e}"))
    }

    /// Appends whole rows (`rows.len()` a multiple of the dimension), bit for bit.
    ///
    /// # Errors
    ///
    /// [`Error::NotWholeRows`] if `rows` is not whole rows; [`Error::OutOfRange`] if a
    /// `.fbin` file would pass 2^32 − 1 rows (its u32 count); [`Error::Io`] if the write
    /// fails. Nothing is written when an argument is rejected.
    pub fn write_rows(&mut self, rows: &[f32]) -> Result<(), Error> {
        let n = crate::error::rows_of("rows", rows.len(), self.dim)? as u64;
        let total = self.rows + n;
        if !self.npy && total > u64::from(u32::MAX) {
            return Err(Error::OutOfRange {
                what: "rows written",
                got: total.to_string(),
                accepted: "at most 4294967295 (a .fbin header's u32 row count)",
            });
        }
        let res = if cfg!(target_endian = "little") {
            self.out.write_all(bytemuck::cast_slice(rows))
        } else {
            rows.iter().try_for_each(|v| self.out.write_all(&v.to_le_bytes()))
        };
        res.map_err(|e| self.write_err(e))?;
        self.rows = total;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes the rows, writes the final row count into the header, and returns it.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if a write fails.
    pub fn finish(mut self) -> Result<u64, Error> {
        let header = self.header();
        self.out.flush().map_err(|e| self.write_err(e))?;
        let file = self.out.get_mut();
        let res = file.seek(SeekFrom::Start(0)).and_then(|_| file.write_all(&header)).and_then(|_| file.flush());
        res.map_err(|e| self.write_err(e))?;
        Ok(self.rows)
    }
}
