//! OPQ model files (kind 3): the inner product quantizer's sections (`PARM`, whose first
//! field is the input dimension, `CENT`, and `hart` and `METR` when it has them) plus
//! `ROTN`, the rotation. Written from and read into an [`OpqQuantizer`].
//!
//! `ROTN` (see `rotation.rs`): `d_out`, the inner PQ's dimension, at least the input
//! dimension, then the `d_out × dim` rotation.

use super::pq::Sections;
use super::reader::{Entry, Source};
use super::rotation::ROTN;
use super::writer::write_file;
use super::{fmt_err, Model};
use crate::quantizer::Quantizer;
use crate::{Error, OpqQuantizer};

/// The header's kind number of an OPQ quantizer.
pub(super) const KIND: u32 = 3;
pub(super) const REQUIRED: &[[u8; 4]] = &[*b"PARM", *b"CENT", ROTN];
pub(super) const OPTIONAL: &[[u8; 4]] = super::pq::OPTIONAL;

impl OpqQuantizer {
    /// The model file of this quantizer, in memory. See [`crate::format`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let pq = Sections::of(self.pq(), self.dim());
        let rotn = super::rotation::section(self.d_out(), self.rotation());
        let mut list = pq.list();
        list.push((ROTN, &rotn));
        write_file(KIND, &list)
    }
}

super::model_file_calls!(OpqQuantizer, Opq, "an OPQ quantizer", "an OPQ quantizer (kind 3)");

/// Reads the rest of an OPQ quantizer from sections the reader has checked; `parm` is the
/// `PARM` section, `dim` its first field (the input dimension).
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    parm: &[u8],
    dim: usize,
    name: &str,
) -> Result<Model, Error> {
    let (d_out, rotation) = super::rotation::read(src, entries, dim, name)?;
    let Model::Pq(pq) = super::pq::read(src, entries, parm, d_out, name)? else {
        return Err(fmt_err(name, "the inner product quantizer did not read as one"));
    };
    OpqQuantizer::from_parts(dim, rotation, pq)
        .map(Model::Opq)
        .map_err(|err| fmt_err(name, format!("invalid rotation: {err}")))
}
