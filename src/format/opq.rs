//! OPQ model files (kind 3): the inner product quantizer's sections (`PARM`, whose first
//! field is the input dimension, `CENT`, and `hart` and `METR` when it has them) plus
//! `ROTN`, the rotation. Written from and read into an [`OpqQuantizer`].
//!
//! `ROTN`: a 64-byte header, `d_out` u64 (the rotation's rows, the inner PQ's dimension,
//! at least the input dimension), the section's own version u32 (`1`), 52 reserved bytes
//! zero; then `d_out × dim` f32, row-major, starting 64 bytes into the section so a reader
//! that maps the file can use it in place.

use super::pq::Sections;
use super::reader::{find, read_f32s, to_usize, u32_at, u64_at, Entry, Source};
use super::writer::{f32_bytes, write_atomically, write_file};
use super::{fmt_err, Model, ModelKind};
use crate::quantizer::Quantizer;
use crate::{Error, OpqQuantizer};
use std::path::Path;

/// The header's kind number of an OPQ quantizer.
pub(super) const KIND: u32 = 3;
pub(super) const ROTN: [u8; 4] = *b"ROTN";
/// The version of the `ROTN` section's layout this library writes and reads.
const ROTN_VERSION: u32 = 1;
const ROTN_HEADER: usize = 64;
pub(super) const REQUIRED: &[[u8; 4]] = &[*b"PARM", *b"CENT", ROTN];
pub(super) const OPTIONAL: &[[u8; 4]] = super::pq::OPTIONAL;

impl OpqQuantizer {
    /// The model file of this quantizer, in memory. See [`crate::format`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let pq = Sections::of(self.pq(), self.dim());
        let mut rotn = vec![0u8; ROTN_HEADER];
        rotn[..8].copy_from_slice(&(self.d_out() as u64).to_le_bytes());
        rotn[8..12].copy_from_slice(&ROTN_VERSION.to_le_bytes());
        rotn.extend_from_slice(&f32_bytes(self.rotation()));
        let mut list = pq.list();
        list.push((ROTN, &rotn));
        write_file(KIND, &list)
    }

    /// Writes [`Self::to_bytes`] to `path` atomically (temporary file, then rename).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        write_atomically(path, &self.to_bytes())
    }

    /// Reads an OPQ quantizer from a model file in memory.
    ///
    /// # Errors
    /// As [`ProductQuantizer::from_bytes`](crate::ProductQuantizer::from_bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_model_bytes(bytes)
    }

    /// Reads an OPQ quantizer from a model file.
    ///
    /// # Errors
    /// As [`Self::from_bytes`], and [`Error::Io`].
    pub fn load(path: &Path) -> Result<Self, Error> {
        Self::from_model_file(path)
    }
}

impl ModelKind for OpqQuantizer {
    const NAME: &'static str = "an OPQ quantizer (kind 3)";

    fn take(model: Model) -> Option<Self> {
        match model {
            Model::Opq(q) => Some(q),
            _ => None,
        }
    }
}

/// Reads the rest of an OPQ quantizer from sections the reader has checked; `parm` is the
/// `PARM` section, `dim` its first field (the input dimension).
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    parm: &[u8],
    dim: usize,
    name: &str,
) -> Result<Model, Error> {
    let e = find(entries, &ROTN, name)?;
    if e.len < ROTN_HEADER as u64 || e.len % 4 != 0 {
        return Err(fmt_err(name, format!("section ROTN has {} bytes, expected 64 + a whole number of f32", e.len)));
    }
    // The whole section, checksummed as it is read; the reader has checked it lies inside
    // the input, so this allocates no more than the input holds.
    let mut all = read_f32s(src, &e, name, "invalid ROTN section")?;
    let head: Vec<u8> = all[..ROTN_HEADER / 4].iter().flat_map(|v| v.to_bits().to_le_bytes()).collect();
    let version = u32_at(&head, 8);
    if version != ROTN_VERSION {
        return Err(fmt_err(name, format!("ROTN version = {version}, this library reads version {ROTN_VERSION}")));
    }
    if head[12..].iter().any(|&b| b != 0) {
        return Err(fmt_err(name, "reserved ROTN header bytes are not zero"));
    }
    let d_out = to_usize(name, "d_out", u64_at(&head, 0))?;
    let want = d_out.checked_mul(dim).and_then(|n| n.checked_mul(4)).and_then(|n| n.checked_add(ROTN_HEADER));
    if d_out < dim || want.is_none_or(|w| w as u64 != e.len) {
        return Err(fmt_err(
            name,
            format!(
                "d_out = {d_out} in ROTN with {} bytes, expected d_out >= {dim} (the dimension) and 64 + d_out·dim·4 bytes",
                e.len
            ),
        ));
    }
    let Model::Pq(pq) = super::pq::read(src, entries, parm, d_out, name)? else {
        return Err(fmt_err(name, "the inner product quantizer did not read as one"));
    };
    all.drain(..ROTN_HEADER / 4);
    OpqQuantizer::from_parts(dim, all, pq)
        .map(Model::Opq)
        .map_err(|err| fmt_err(name, format!("invalid rotation: {err}")))
}
