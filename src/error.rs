//! The one error type of the library.
//!
//! Every fallible public function returns [`Error`]. Each message names the offending
//! value and the range that would have been accepted, so a caller (or a C host that only
//! sees the rendered message) can fix the call without reading the source.

use std::fmt;

/// What went wrong, with the value that was rejected and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// Two things that must have the same dimension do not.
    DimensionMismatch {
        /// What the argument is (`"query"`, `"rows"`, ...).
        what: &'static str,
        /// Its length or dimension.
        got: usize,
        /// The dimension it had to match (or be a multiple of).
        expected: usize,
    },
    /// A caller-provided buffer has the wrong length.
    BufferLength {
        /// Which buffer.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length the call needs.
        expected: usize,
    },
    /// An input that must hold at least one element is empty.
    Empty {
        /// Which input.
        what: &'static str,
    },
    /// A parameter lies outside its accepted range.
    OutOfRange {
        /// The parameter's name.
        what: &'static str,
        /// The value given (rendered).
        got: String,
        /// The accepted range (rendered, for example `"4, 8 or 16"`).
        accepted: &'static str,
    },
    /// Training data holds a NaN or an infinity.
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Index of the first non-finite value (row-major).
        index: usize,
    },
    /// A flat buffer is not a whole number of rows.
    NotWholeRows {
        /// Which buffer.
        what: &'static str,
        /// Its length in elements.
        len: usize,
        /// The row length it must be a multiple of.
        dim: usize,
    },
    /// A file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A file's bytes do not follow its format.
    Format {
        /// The file.
        path: String,
        /// What is wrong, with the offending value.
        message: String,
    },
    /// Rows asked of a data file run past its end.
    RowRange {
        /// The file (or folder of shards).
        path: String,
        /// The first row asked for.
        start: usize,
        /// How many rows were asked for.
        count: usize,
        /// The rows the file has.
        rows: usize,
    },
    /// A model file has a format version this library does not read.
    FormatVersion {
        /// The file.
        path: String,
        /// The version the file declares.
        found: u32,
        /// The version this library reads and writes.
        supported: u32,
    },
    /// The requested SIMD level does not exist on this CPU or build.
    SimdUnavailable {
        /// The level asked for.
        requested: &'static str,
        /// The levels this process can run, best first.
        available: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DimensionMismatch { what, got, expected } => {
                write!(f, "{what} has dimension {got}, expected {expected} (the quantizer's or the query's dimension)")
            }
            Error::BufferLength { what, got, expected } => {
                write!(f, "{what} has length {got}, expected exactly {expected}")
            }
            Error::Empty { what } => write!(f, "{what} is empty, expected at least one element"),
            Error::OutOfRange { what, got, accepted } => {
                write!(f, "{what} = {got} is out of range, accepted: {accepted}")
            }
            Error::NonFinite { what, index } => write!(
                f,
                "{what} holds a non-finite value (NaN or infinity) at element {index}; only finite values are accepted"
            ),
            Error::NotWholeRows { what, len, dim } => {
                write!(f, "{what} has {len} elements, which is not a whole number of rows of dimension {dim}")
            }
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::Format { path, message } => write!(f, "{path}: {message}"),
            Error::RowRange { path, start, count, rows } => write!(
                f,
                "{path}: {count} row(s) from row {start} asked for, but it has {rows} rows; accepted: start + count <= {rows}"
            ),
            Error::FormatVersion { path, found, supported } => write!(
                f,
                "{path}: model format version {found} is not supported; this library reads version {supported}"
            ),
            Error::SimdUnavailable { requested, available } => {
                write!(f, "SIMD level {requested} is not available on this CPU/build; available: {available}")
            }
        }
    }
}

impl std::error::Error for Error {}

/// `rows.len()` must be a whole number of `dim`-sized rows; returns the row count.
pub(crate) fn rows_of(what: &'static str, len: usize, dim: usize) -> Result<usize, Error> {
    if dim == 0 {
        return Err(Error::OutOfRange { what: "dim", got: "0".into(), accepted: ">= 1" });
    }
    if !len.is_multiple_of(dim) {
        return Err(Error::NotWholeRows { what, len, dim });
    }
    Ok(len / dim)
}

/// A buffer that must have exactly `expected` elements.
pub(crate) fn exact_len(what: &'static str, got: usize, expected: usize) -> Result<(), Error> {
    if got != expected {
        return Err(Error::BufferLength { what, got, expected });
    }
    Ok(())
}

/// A buffer that must have exactly `rows · per_row` elements. The product is checked: the
/// lengths may come from a C caller, and a wrapped product could match a short buffer.
pub(crate) fn exact_rows_len(what: &'static str, got: usize, rows: usize, per_row: usize) -> Result<(), Error> {
    exact_len(what, got, rows.checked_mul(per_row).ok_or(Error::BufferLength { what, got, expected: usize::MAX })?)
}
