//! The model file: a trained quantizer saved to disk or memory, to be shipped between
//! machines and library versions.
//!
//! A search engine trains a quantizer once and loads it on every serving machine, often
//! with a different build of the library; FAISS's index files carry no version field, so
//! a reader cannot tell an old layout from a corrupt one. This format says what it is
//! (magic, format version, endianness marker, quantizer kind, every parameter, how it was
//! trained, which library wrote it), checksums every section, and aligns every section to
//! 64 bytes so a C or C++ reader can `mmap` the file and use the centroid array in place.
//!
//! # Layout (format version 1)
//!
//! Every integer and float is little-endian. Offsets are from the start of the file.
//!
//! **Header**, 64 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `89 56 51 4D 0D 0A 1A 0A` (`\x89VQM\r\n\x1a\n`: a text-mode transfer or a 7-bit channel breaks it visibly) |
//! | 8 | 4 | format version, `1` |
//! | 12 | 4 | endianness marker: the u32 `0x01020304`, so bytes `04 03 02 01`; a reader that sees `01 02 03 04` has a big-endian file |
//! | 16 | 4 | quantizer kind: `1` product, `2` scalar, `3` OPQ, `4` RaBitQ |
//! | 20 | 4 | number of sections, `1..=8` |
//! | 24 | 8 | file length in bytes (a truncated copy is named as such) |
//! | 32 | 16 | version of the library that wrote the file, ASCII, NUL-padded (`0.1.0`) |
//! | 48 | 4 | CRC-32C of the header (this field read as zero) followed by the section directory |
//! | 52 | 12 | reserved, zero |
//!
//! **Section directory**, at offset 64, one 32-byte entry per section:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | tag, four ASCII bytes; an upper-case first letter marks a section a reader must understand, a lower-case one a section it may skip (PNG's rule), so later minor additions stay readable |
//! | 4 | 4 | CRC-32C of the section's bytes |
//! | 8 | 8 | offset, a multiple of 64, past the directory |
//! | 16 | 8 | length in bytes |
//! | 24 | 8 | reserved, zero |
//!
//! Sections follow in any order, each starting on a 64-byte boundary, gaps zero-filled,
//! never overlapping; the file ends with the last section.
//!
//! **Product quantizer** (kind 1): `PARM`, 64 bytes: `dim` u64, `m` u64, `ksub` u64,
//! flags u32 (bit 0: a training record follows; bits 8–31: the k-means coarse assignment's
//! `nprobe`, 0 for exact assignment), `init` u32 (0 k-means++, 1 random, 2 greedy k-means++),
//! `seed` u64, `max_iter` u64, `max_points_per_centroid` u64, `tol` f64. The training
//! record is the k-means setting the codebooks were trained with (sub-space `i` used
//! `seed + i`); without it (a quantizer built from given centroids) those fields are zero.
//! `CENT`, `ksub·dim` f32: the centroids `[m][ksub][dsub_i]` as [`ProductQuantizer::centroids`].
//! `hart` (optional, only with a training record and at least one pass), 8 bytes: the
//! k-means Hartigan passes, u64; absent means 0. Being optional, it leaves the files
//! readable by versions that predate it (they skip it).
//!
//! **Metric** (every kind): `METR`, 8 bytes, only for a quantizer that searches by inner
//! product or cosine: the metric u32 (1 inner product, 2 cosine), reserved u32 zero;
//! absent means L2. Upper-case: a reader that predates metrics refuses such a file rather
//! than search it by L2, and L2 files stay byte for byte what it wrote.
//!
//! **Scalar quantizer** (kind 2): `PARM`, 16 bytes: `dim` u64, `bits` u32 (4, 8 or 16),
//! reserved u32 zero. `VMIN` and `VMAX`, `dim` f32 each: the trained per-dimension range.
//! SQ training has no seed or iterations: the range is the data's minimum and maximum.
//!
//! **OPQ** (kind 3): the inner product quantizer's sections as above (`PARM`, whose
//! first field is the input dimension `dim`, the rest the inner PQ's; `CENT` over `d_out`
//! dimensions; `hart`, `METR`), and `ROTN`: a 64-byte header (`d_out` u64, the section's
//! version u32 `1`, 52 reserved bytes zero) then the rotation, `d_out × dim` f32
//! row-major, 64-byte aligned. Loading checks the rotation as `OpqQuantizer::from_parts`
//! does (finite, orthonormal columns).
//!
//! **RaBitQ** (kind 4): `PARM`, 32 bytes: `dim` u64, `bits` u32 (`1..=9`), `qb` u32 (the
//! query's bits, `1..=8`, 0 for a float query), `ε₀` f32, flags u32 (bit 0: a training
//! record follows), `seed` u64 (the rotation's, zero without a training record). `ROTN` as
//! OPQ's with `d_out = dim`, `CNTR`: the centroid, `dim` f32; `METR`. Loading checks the
//! rotation and centroid as `RabitqQuantizer::from_parts` does. Codes are not part of the
//! model: their layout follows from `dim` and `bits` (see [`crate::rabitq`]).
//!
//! # Loading hostile input
//!
//! The loader never panics and returns [`Error::Format`] (or [`Error::FormatVersion`]) with
//! a message that names the bad field, its value and what was expected. It never trusts a
//! size: the header's file length must equal the input's, every section must lie inside
//! the input, and a data section's length must equal what the parameters imply (computed
//! with checked arithmetic) before anything is allocated, so nothing larger than the input
//! is allocated for its contents. Files are read section by section straight into the
//! quantizer's own arrays, each chunk checksummed while it is still in cache, so loading
//! costs one pass over the file; on Linux a large array asks for transparent huge pages
//! first, which saves most of the page faults a plain read pays. A loaded product
//! quantizer builds its encoder's transposed codebook (columns padded to 64 centroids, at
//! most `64/ksub + 1` times the centroid section) on its first `encode`, not at load: a
//! searching process never pays for it, and loading a 100 MB model takes less time than
//! `std::fs::read` of the file (figures in `docs/PERFORMANCE.md`).
//!
//! # Where the code lives
//!
//! `writer.rs` lays out the header, the section directory and the sections of any kind;
//! `reader.rs` checks the header, directory, padding, checksums and the `dim` that starts
//! every kind's `PARM` section, then hands the sections to the kind. Each quantizer kind
//! has a file of its own (`pq.rs`, `sq.rs`, `opq.rs`, `rabitq.rs`) with its kind number,
//! its sections and how it writes and reads them: a new quantizer is a new file, a variant
//! of [`Model`] and one of `Kind` in this file. Sections several kinds share have files of
//! their own too: `metric.rs` (`METR`), `rotation.rs` (`ROTN`, OPQ's and RaBitQ's).
//! `memory.rs` holds the OS memory advice for large arrays, the hidden `testing` module the
//! helpers for tests and fuzzers.

/// The model-file calls every quantizer kind has: `save`, `from_bytes` and `load` around the
/// kind's own `to_bytes`, and its [`ModelKind`] (`$name` names it in errors, `$variant` is
/// its [`Model`] variant).
macro_rules! model_file_calls {
    ($ty:ty, $variant:ident, $what:literal, $name:literal) => {
        impl $ty {
            /// Writes [`Self::to_bytes`] to `path`, through a temporary file in the same
            /// directory renamed into place, so a reader never sees a half-written model.
            ///
            /// # Errors
            /// [`Error::Io`] naming the path.
            pub fn save(&self, path: &std::path::Path) -> Result<(), Error> {
                super::writer::write_atomically(path, &self.to_bytes())
            }

            #[doc = concat!("Reads ", $what, " from a model file in memory.")]
            ///
            /// # Errors
            #[doc = concat!("[`Error::Format`] for anything but a well-formed file of ", $name, " (named `<memory>` in the message; a file of another kind is named as such), [`Error::FormatVersion`] for another format version.")]
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
                <Self as super::ModelKind>::from_model_bytes(bytes)
            }

            #[doc = concat!("Reads ", $what, " from a model file.")]
            ///
            /// # Errors
            /// As [`Self::from_bytes`], and [`Error::Io`].
            pub fn load(path: &std::path::Path) -> Result<Self, Error> {
                <Self as super::ModelKind>::from_model_file(path)
            }
        }

        impl super::ModelKind for $ty {
            const NAME: &'static str = $name;

            fn take(model: super::Model) -> Option<Self> {
                match model {
                    super::Model::$variant(q) => Some(q),
                    _ => None,
                }
            }
        }
    };
}
use model_file_calls;

use crate::crc32c::Crc32c;
use crate::{Error, OpqQuantizer, ProductQuantizer, RabitqQuantizer, ScalarQuantizer};
use reader::{Entry, Source};
use std::path::Path;

mod memory;
mod metric;
mod opq;
mod pq;
mod rabitq;
mod reader;
mod rotation;
mod sq;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;
mod writer;

pub use reader::{read_bytes, read_file};

/// The first eight bytes of every model file.
pub const MAGIC: [u8; 8] = *b"\x89VQM\r\n\x1a\n";

/// The format version this library writes, and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Every section starts at a multiple of this many bytes.
pub const ALIGN: usize = 64;

const HEADER: usize = 64;
const DIR_ENTRY: usize = 32;
const MAX_SECTIONS: usize = 8;
const ENDIAN_MARK: u32 = 0x0102_0304;
/// The longest `PARM` section of any kind: the reader reads `PARM` into a buffer this long.
const PARM_MAX: usize = 64;
const _: () = assert!(pq::PARM_LEN <= PARM_MAX && sq::PARM_LEN <= PARM_MAX && rabitq::PARM_LEN <= PARM_MAX);

/// A quantizer read from a model file.
#[derive(Debug, Clone, PartialEq)]
pub enum Model {
    /// A product quantizer.
    Pq(ProductQuantizer),
    /// A scalar quantizer.
    Sq(ScalarQuantizer),
    /// A rotation followed by a product quantizer.
    Opq(OpqQuantizer),
    /// A RaBitQ quantizer.
    Rabitq(RabitqQuantizer),
}

impl Model {
    /// How an error names the kind: "a product quantizer (kind 1)", ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Model::Pq(_) => ProductQuantizer::NAME,
            Model::Sq(_) => ScalarQuantizer::NAME,
            Model::Opq(_) => OpqQuantizer::NAME,
            Model::Rabitq(_) => RabitqQuantizer::NAME,
        }
    }
}

/// A quantizer type a model file holds: what each type's `load` and `from_bytes` pick out
/// of a [`Model`], refusing the other kinds by name.
pub(crate) trait ModelKind: Sized {
    /// How an error names the kind: "a product quantizer (kind 1)", ...
    const NAME: &'static str;

    /// The quantizer, if `model` is of this kind.
    fn take(model: Model) -> Option<Self>;

    /// Reads one from a model file in memory (named `<memory>` in errors).
    fn from_model_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::expect(read_bytes(bytes)?.model, "<memory>")
    }

    /// Reads one from the model file at `path`.
    fn from_model_file(path: &Path) -> Result<Self, Error> {
        Self::expect(read_file(path)?.model, &path.display().to_string())
    }

    /// `model` if of this kind, else an error naming the kind it holds.
    fn expect(model: Model, name: &str) -> Result<Self, Error> {
        let held = model.kind_name();
        Self::take(model).ok_or_else(|| fmt_err(name, format!("holds {held}, expected {}", Self::NAME)))
    }
}

/// Everything a model file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The quantizer.
    pub model: Model,
    /// Version of the library that wrote the file.
    pub library_version: String,
    /// The file's format version.
    pub format_version: u32,
}

/// The quantizer kinds a model file can hold, each with a file of its own that knows its
/// sections; the reader checks the container against this list before it calls the kind.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Pq,
    Sq,
    Opq,
    Rabitq,
}

impl Kind {
    /// How the error for an unknown kind number names the accepted ones.
    const ACCEPTED: &'static str = "1 (product), 2 (scalar), 3 (OPQ) or 4 (RaBitQ)";

    /// The kind of a header's kind number (offset 16).
    fn from_number(kind: u32) -> Option<Self> {
        match kind {
            pq::KIND => Some(Self::Pq),
            sq::KIND => Some(Self::Sq),
            opq::KIND => Some(Self::Opq),
            rabitq::KIND => Some(Self::Rabitq),
            _ => None,
        }
    }

    /// The sections a file of this kind must hold.
    fn required(self) -> &'static [[u8; 4]] {
        match self {
            Self::Pq => pq::REQUIRED,
            Self::Sq => sq::REQUIRED,
            Self::Opq => opq::REQUIRED,
            Self::Rabitq => rabitq::REQUIRED,
        }
    }

    /// The optional sections this kind reads; the reader checks and skips any other.
    fn optional(self) -> &'static [[u8; 4]] {
        match self {
            Self::Pq => pq::OPTIONAL,
            Self::Sq => sq::OPTIONAL,
            Self::Opq => opq::OPTIONAL,
            Self::Rabitq => rabitq::OPTIONAL,
        }
    }

    /// The length of this kind's `PARM` section, at most [`PARM_MAX`].
    fn parm_len(self) -> usize {
        match self {
            Self::Pq | Self::Opq => pq::PARM_LEN,
            Self::Sq => sq::PARM_LEN,
            Self::Rabitq => rabitq::PARM_LEN,
        }
    }

    /// The quantizer (with its training record), from sections whose container, checksums and
    /// `PARM` (already read, with its `dim`) have passed the reader's checks.
    fn read(
        self,
        src: &mut impl Source,
        entries: &[Entry],
        parm: &[u8],
        dim: usize,
        name: &str,
    ) -> Result<Model, Error> {
        match self {
            Self::Pq => pq::read(src, entries, parm, dim, name),
            Self::Sq => sq::read(src, entries, parm, dim, name),
            Self::Opq => opq::read(src, entries, parm, dim, name),
            Self::Rabitq => rabitq::read(src, entries, parm, dim, name),
        }
    }
}

fn fmt_err(name: &str, message: impl Into<String>) -> Error {
    Error::Format { path: name.to_string(), message: message.into() }
}

fn io_err(name: &str, what: &str, e: std::io::Error) -> Error {
    Error::Io { path: name.to_string(), message: format!("{what}: {e}") }
}

/// The header's checksum: the header with its checksum field read as zero, then the
/// directory.
fn header_crc(header: &[u8], dir: &[u8]) -> u32 {
    let mut c = Crc32c::new();
    c.update(&header[..48]);
    c.update(&[0u8; 4]);
    c.update(&header[52..HEADER]);
    c.update(dir);
    c.finish()
}
