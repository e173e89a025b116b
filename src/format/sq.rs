//! Scalar-quantizer model files (kind 2): `PARM`, `VMIN` and `VMAX` (layout in the module
//! docs), written from and read into a [`ScalarQuantizer`].

use super::reader::{find, read_f32s, tag_str, u32_at, Entry, Source};
use super::writer::{f32_bytes, write_file};
use super::{fmt_err, Model};
use crate::quantizer::Quantizer;
use crate::{Error, ScalarQuantizer, SqBits};

/// The header's kind number of a scalar quantizer.
pub(super) const KIND: u32 = 2;
pub(super) const PARM_LEN: usize = 16;
pub(super) const REQUIRED: &[[u8; 4]] = &[*b"PARM", *b"VMIN", *b"VMAX"];
pub(super) const OPTIONAL: &[[u8; 4]] = &[super::metric::METR];

impl ScalarQuantizer {
    /// The model file of this quantizer, in memory. See [`crate::format`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut parm = Vec::with_capacity(PARM_LEN);
        parm.extend_from_slice(&(self.dim() as u64).to_le_bytes());
        parm.extend_from_slice(&self.bits().bits().to_le_bytes());
        parm.extend_from_slice(&0u32.to_le_bytes());
        let (vmin, vmax) = (f32_bytes(self.vmin()), f32_bytes(self.vmax()));
        let metr = super::metric::section(self.metric());
        let mut sections: Vec<([u8; 4], &[u8])> = vec![(*b"PARM", &parm), (*b"VMIN", &vmin), (*b"VMAX", &vmax)];
        if let Some(metr) = &metr {
            sections.push((super::metric::METR, metr));
        }
        write_file(KIND, &sections)
    }
}

super::model_file_calls!(ScalarQuantizer, Sq, "a scalar quantizer", "a scalar quantizer (kind 2)");

/// Reads the rest of a scalar quantizer from sections the reader has checked; `parm` is the
/// `PARM` section, `dim` its first field.
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    parm: &[u8],
    dim: usize,
    name: &str,
) -> Result<Model, Error> {
    let bits = SqBits::from_bits(u32_at(parm, 8)).map_err(|e| fmt_err(name, format!("in PARM: {e}")))?;
    if u32_at(parm, 12) != 0 {
        return Err(fmt_err(name, "reserved PARM field is not zero"));
    }
    let metric = super::metric::read(src, entries, name)?;
    let mut ranges = Vec::with_capacity(2);
    for tag in [b"VMIN", b"VMAX"] {
        let e = find(entries, tag, name)?;
        if dim.checked_mul(4).is_none_or(|w| w as u64 != e.len) {
            return Err(fmt_err(
                name,
                format!("section {} has {} bytes, expected dim·4 = {dim}·4", tag_str(*tag), e.len),
            ));
        }
        ranges.push(read_f32s(src, &e, name, "invalid ranges")?);
    }
    let vmax = ranges.pop().unwrap_or_default();
    let vmin = ranges.pop().unwrap_or_default();
    let sq =
        ScalarQuantizer::from_ranges(bits, vmin, vmax).map_err(|e| fmt_err(name, format!("invalid ranges: {e}")))?;
    Ok(Model::Sq(sq.with_metric(metric)))
}
