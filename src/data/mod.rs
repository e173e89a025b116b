//! Dataset files: one home for every vector format vq reads, and for the writers.
//!
//! Benchmarks run on data sets of 1–100 million rows and tens of GB, larger than memory,
//! in the formats the field ships them in. This module opens any of them as one
//! [`VectorSource`]: a `rows() × dim()` array of f32 whose rows can be read in any range,
//! converted in place into the caller's buffer, without reading the rest of the file and
//! without allocating, so a reader's memory does not grow with the data set.
//!
//! | extension | format | stored as |
//! |---|---|---|
//! | `.fvecs`, `.ivecs`, `.bvecs` | TEXMEX ([`texmex`]): per row an i32 dimension, then the values | f32, i32, u8 |
//! | `.fbin`, `.ibin`, `.u8bin`, `.i8bin` | big-ann-benchmarks: u32 rows, u32 dimension, the rows | f32, i32, u8, i8 |
//! | `.npy` | NumPy 1.0–3.0, 2-D, C order, either byte order | f32, f64, f16, u8, i8 |
//! | `.parquet` | Apache Parquet ([`parquet`], `parquet` feature): the one column of float lists, decoded page by page | `list`, `large_list`, `fixed_size_list` of f32, f64, f16 |
//! | a folder | shards: its vector files in name order, one dimension and type (see below) | any of the above |
//!
//! - [`open`] dispatches on the extension (any case), or reads a folder as shards; every
//!   header is checked against its file's length there, so a truncated file is reported
//!   (named, with the expected and actual sizes) before any row is read.
//! - [`VectorSource::read_rows`] reads any row range, across shard boundaries; a TEXMEX
//!   row's own dimension field is checked as it is read. Conversion from f16, f64, u8, i8
//!   and i32 runs per 64 KiB block, never as a whole copy. [`VectorSource::bytes_read`]
//!   counts what was read (a memory map's page faults show in no system counter, so the
//!   count is the reader's own).
//! - [`VectorSource::check_finite`] checks a batch for NaN and infinity, naming the file
//!   and row.
//! - [`parquet::open`] reads the given Parquet files (a Hub dataset's shards) as one source,
//!   with a named column; [`parquet::text_column`] reads a text column for embedding.
//!   Without the `parquet` feature a `.parquet` file is an error saying how to turn it on.
//! - [`read_ids`] reads ground-truth ids (`.ivecs`, `.ibin`, `.npy` int32/int64), whole.
//! - [`VectorWriter`] writes f32 rows to `.fbin` or `.npy` in batches; [`texmex`] writes
//!   `.fvecs`, `.ivecs` and `.bvecs`.
//!
//! A folder of shards (the layout of MS MARCO embeddings): its files in byte-wise name
//! order (zero-pad numbers), hidden files skipped, any other entry an error naming it,
//! every file of one dimension and element type; see `shards.rs` for why.
//!
//! Nothing read from a file is trusted for an allocation, and no input panics: every
//! malformed, truncated or unsupported file is an [`Error::Format`](crate::Error::Format)
//! naming the file, the value found and what is accepted, and an operating-system failure
//! is an [`Error::Io`](crate::Error::Io) naming the file. Values are not inspected on
//! reading (a NaN is returned as is); callers that need finite data check each batch.
//!
//! Behind the `data` feature (on by default; the C library builds without it).

mod bin;
mod dtype;
mod ids;
mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
mod shards;
mod source;
pub mod texmex;
mod writer;

pub use dtype::Dtype;
pub use ids::read_ids;
pub use npy::{header_bytes as npy_header, ID_DTYPES as NPY_ID_DTYPES, VECTOR_DTYPES as NPY_VECTOR_DTYPES};
pub use source::{open, VectorSource};
pub use writer::VectorWriter;

/// The largest dimension a vector file may declare (2^20 = 1,048,576).
///
/// Real data sets stay far below it (GIST has 960); the bound exists so that a corrupt
/// dimension field is reported as such instead of being taken for a giant vector.
pub const MAX_DIM: usize = 1 << 20;

/// Everything [`open`] accepts, for messages and help texts.
pub const FORMATS: &str = ".fvecs, .ivecs, .bvecs (TEXMEX), .fbin, .u8bin, .i8bin, .ibin (big-ann), .npy (float32, float64, float16, uint8, int8; 2-D, C order), .parquet (one column of float lists; with the `parquet` feature), or a folder of such files (shards)";

/// Why a `.parquet` file cannot be read by a build without the `parquet` feature.
#[cfg(not(feature = "parquet"))]
pub(crate) const PARQUET_OFF: &str = "Parquet files need the `parquet` feature, which this build of vq was compiled without; install with `cargo install --path . --features hub` (or build with `--features parquet`)";
