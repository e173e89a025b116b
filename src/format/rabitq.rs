//! RaBitQ model files (kind 4): `PARM`, `ROTN` (the rotation, `d_out = dim`; see
//! `rotation.rs`), `CNTR` (the centroid, `dim` f32) and `METR` when the metric is not L2.
//! Written from and read into a [`RabitqQuantizer`].
//!
//! `PARM`, 32 bytes: `dim` u64, `bits` u32 (`1..=9`), `qb` u32 (the query's bits in the
//! 1-bit estimate, `1..=8`, or 0 for a float query), `ε₀` f32, flags u32 (bit 0: a training
//! record follows, that is the rotation was drawn from `seed`; other bits zero), `seed` u64
//! (zero without a training record). `qb` and `ε₀` are query-time settings, kept so a
//! loaded quantizer searches as the saved one did.

use super::reader::{find, read_f32s, u32_at, u64_at, Entry, Source};
use super::rotation::ROTN;
use super::writer::{f32_bytes, write_file};
use super::{fmt_err, Model};
use crate::quantizer::Quantizer;
use crate::{Error, QueryBits, RabitqQuantizer};

/// The header's kind number of a RaBitQ quantizer.
pub(super) const KIND: u32 = 4;
pub(super) const PARM_LEN: usize = 32;
const CNTR: [u8; 4] = *b"CNTR";
pub(super) const REQUIRED: &[[u8; 4]] = &[*b"PARM", ROTN, CNTR];
pub(super) const OPTIONAL: &[[u8; 4]] = &[super::metric::METR];
/// `PARM`'s flag: the rotation was drawn from the recorded seed.
const TRAINED: u32 = 1;

impl RabitqQuantizer {
    /// The model file of this quantizer, in memory, with its seed ([`Self::seed`]) and
    /// query-time settings. See [`crate::format`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut parm = Vec::with_capacity(PARM_LEN);
        parm.extend_from_slice(&(self.dim() as u64).to_le_bytes());
        parm.extend_from_slice(&self.bits().to_le_bytes());
        parm.extend_from_slice(&self.qb().number().to_le_bytes());
        parm.extend_from_slice(&self.epsilon().to_le_bytes());
        parm.extend_from_slice(&(if self.seed().is_some() { TRAINED } else { 0 }).to_le_bytes());
        parm.extend_from_slice(&self.seed().unwrap_or(0).to_le_bytes());
        let rotn = super::rotation::section(self.dim(), self.rotation());
        let cntr = f32_bytes(self.centroid());
        let metr = super::metric::section(self.metric());
        let mut sections: Vec<([u8; 4], &[u8])> = vec![(*b"PARM", &parm), (ROTN, &rotn), (CNTR, &cntr)];
        if let Some(metr) = &metr {
            sections.push((super::metric::METR, metr));
        }
        write_file(KIND, &sections)
    }
}

super::model_file_calls!(RabitqQuantizer, Rabitq, "a RaBitQ quantizer", "a RaBitQ quantizer (kind 4)");

/// Reads the rest of a RaBitQ quantizer from sections the reader has checked; `parm` is the
/// `PARM` section, `dim` its first field.
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    parm: &[u8],
    dim: usize,
    name: &str,
) -> Result<Model, Error> {
    let in_parm = |e: Error| fmt_err(name, format!("in PARM: {e}"));
    let bits = u32_at(parm, 8);
    let qb = QueryBits::from_number(u32_at(parm, 12)).map_err(in_parm)?;
    let epsilon = f32::from_le_bytes([parm[16], parm[17], parm[18], parm[19]]);
    let flags = u32_at(parm, 20);
    let seed = u64_at(parm, 24);
    if flags & !TRAINED != 0 {
        return Err(fmt_err(name, format!("flags = {flags:#x} in PARM, expected only bit 0 (a training record)")));
    }
    if flags & TRAINED == 0 && seed != 0 {
        return Err(fmt_err(name, format!("seed = {seed} in PARM without a training record, expected 0")));
    }
    let metric = super::metric::read(src, entries, name)?;
    let (_, rotation) = super::rotation::read(src, entries, dim, name)?;
    if rotation.len() != dim * dim {
        return Err(fmt_err(name, format!("ROTN has {} rows, expected dim = {dim} for RaBitQ", rotation.len() / dim)));
    }
    let e = find(entries, &CNTR, name)?;
    if dim.checked_mul(4).is_none_or(|w| w as u64 != e.len) {
        return Err(fmt_err(name, format!("section CNTR has {} bytes, expected dim·4 = {dim}·4", e.len)));
    }
    let centroid = read_f32s(src, &e, name, "invalid centroid")?;
    let mut q = RabitqQuantizer::from_parts(dim, bits, metric, rotation, centroid).map_err(in_parm)?;
    q.set_qb(qb).map_err(in_parm)?;
    q.set_epsilon(epsilon).map_err(in_parm)?;
    Ok(Model::Rabitq(q.with_seed((flags & TRAINED != 0).then_some(seed))))
}
