//! Product-quantizer model files (kind 1): `PARM`, `CENT` and the optional `hart` section
//! (layout in the module docs), written from and read into a [`ProductQuantizer`].

use super::reader::{find, read_checked, read_f32s, to_usize, u32_at, u64_at, Entry, Source};
use super::writer::{f32_bytes, write_file};
use super::{fmt_err, Model};
use crate::kmeans::{Assignment, Init, KMeansParams};
use crate::quantizer::Quantizer;
use crate::{Error, ProductQuantizer};

/// The header's kind number of a product quantizer.
pub(super) const KIND: u32 = 1;
pub(super) const PARM_LEN: usize = 64;
/// Optional section of a product quantizer trained with Hartigan passes: their number, u64.
pub(super) const HART: [u8; 4] = *b"hart";
pub(super) const REQUIRED: &[[u8; 4]] = &[*b"PARM", *b"CENT"];
pub(super) const OPTIONAL: &[[u8; 4]] = &[HART, super::metric::METR];

/// A product quantizer's sections: what its own file holds, and what an OPQ file holds
/// for its inner PQ.
pub(super) struct Sections {
    parm: Vec<u8>,
    cent: Vec<u8>,
    hart: Option<[u8; 8]>,
    metr: Option<[u8; 8]>,
}

impl ProductQuantizer {
    /// The model file of this quantizer, in memory, with its training record
    /// ([`Self::training`]). See [`crate::format`] for the layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let s = Sections::of(self, self.dim());
        write_file(KIND, &s.list())
    }
}

impl Sections {
    /// The sections of `pq`, whose `PARM` starts with `dim`: the PQ's own dimension in a PQ
    /// file, the input dimension in an OPQ file (whose rotation maps it to the PQ's).
    pub(super) fn of(pq: &ProductQuantizer, dim: usize) -> Sections {
        let training = pq.training();
        let mut parm = Vec::with_capacity(PARM_LEN);
        for v in [dim, pq.m(), pq.ksub()] {
            parm.extend_from_slice(&(v as u64).to_le_bytes());
        }
        let t = training.cloned().unwrap_or(KMeansParams {
            k: 0,
            max_iter: 0,
            tol: 0.0,
            seed: 0,
            init: Init::PlusPlus,
            max_points_per_centroid: 0,
            threads: 0,
            assignment: Assignment::Exact,
            hartigan_passes: 0,
        });
        let nprobe = match t.assignment {
            Assignment::Exact => 0,
            // More groups than ⌈√65536⌉ = 256 search them all: cap to what 24 bits hold.
            Assignment::Coarse { nprobe } => nprobe.min(0xFF_FFFF) as u32,
        };
        parm.extend_from_slice(&(u32::from(training.is_some()) | nprobe << 8).to_le_bytes());
        let init: u32 = match t.init {
            Init::PlusPlus => 0,
            Init::Random => 1,
            Init::GreedyPlusPlus => 2,
        };
        parm.extend_from_slice(&init.to_le_bytes());
        for v in [t.seed, t.max_iter as u64, t.max_points_per_centroid as u64] {
            parm.extend_from_slice(&v.to_le_bytes());
        }
        parm.extend_from_slice(&t.tol.to_le_bytes());
        let hart = (training.is_some() && t.hartigan_passes > 0).then(|| (t.hartigan_passes as u64).to_le_bytes());
        Sections { parm, cent: f32_bytes(pq.centroids()), hart, metr: super::metric::section(pq.metric()) }
    }

    /// The sections in file order.
    pub(super) fn list(&self) -> Vec<([u8; 4], &[u8])> {
        let mut list: Vec<([u8; 4], &[u8])> = vec![(*b"PARM", &self.parm), (*b"CENT", &self.cent)];
        if let Some(hart) = &self.hart {
            // Optional (lower-case): readers from before Hartigan passes skip it.
            list.push((HART, hart));
        }
        if let Some(metr) = &self.metr {
            list.push((super::metric::METR, metr));
        }
        list
    }
}

super::model_file_calls!(ProductQuantizer, Pq, "a product quantizer", "a product quantizer (kind 1)");

/// Reads the rest of a product quantizer from sections the reader has checked; `parm` is the
/// `PARM` section, `dim` its first field.
pub(super) fn read(
    src: &mut impl Source,
    entries: &[Entry],
    parm: &[u8],
    dim: usize,
    name: &str,
) -> Result<Model, Error> {
    let m = to_usize(name, "m", u64_at(parm, 8))?;
    let ksub = to_usize(name, "ksub", u64_at(parm, 16))?;
    if m == 0 || m > dim {
        return Err(fmt_err(name, format!("m = {m} in PARM, expected 1..={dim} (the dimension)")));
    }
    if !(2..=65536).contains(&ksub) {
        return Err(fmt_err(name, format!("ksub = {ksub} in PARM, expected 2..=65536")));
    }
    let mut training = training_record(parm, ksub, name)?;
    let metric = super::metric::read(src, entries, name)?;
    if let Some(e) = entries.iter().find(|e| e.tag == HART) {
        let Some(t) = training.as_mut() else {
            return Err(fmt_err(name, "section hart (Hartigan passes) in a file without a training record"));
        };
        if e.len != 8 {
            return Err(fmt_err(name, format!("section hart has {} bytes, expected 8", e.len)));
        }
        let mut b = [0u8; 8];
        read_checked(src, e, &mut b, name)?;
        t.hartigan_passes = to_usize(name, "Hartigan passes", u64::from_le_bytes(b))?;
    }
    let cent = find(entries, b"CENT", name)?;
    let want = ksub.checked_mul(dim).and_then(|n| n.checked_mul(4));
    if want.is_none_or(|w| w as u64 != cent.len) {
        return Err(fmt_err(
            name,
            format!("section CENT has {} bytes, expected ksub·dim·4 = {ksub}·{dim}·4", cent.len),
        ));
    }
    let centroids = read_f32s(src, &cent, name, "invalid centroids")?;
    let mut pq = ProductQuantizer::from_centroids_lazy(dim, m, ksub, centroids, false)
        .map_err(|e| fmt_err(name, format!("invalid centroids: {e}")))?;
    pq.training = training;
    Ok(Model::Pq(pq.with_metric(metric)))
}

/// The training record of a product quantizer's `PARM`, `None` if it has none.
fn training_record(parm: &[u8], ksub: usize, name: &str) -> Result<Option<KMeansParams>, Error> {
    let flags = u32_at(parm, 24);
    let init = u32_at(parm, 28);
    let (seed, max_iter, max_points) = (u64_at(parm, 32), u64_at(parm, 40), u64_at(parm, 48));
    let tol = f64::from_le_bytes(parm[56..64].try_into().unwrap_or_default());
    let nprobe = (flags >> 8) as usize;
    match flags & 0xFF {
        0 if nprobe == 0 => {
            if init != 0 || seed != 0 || max_iter != 0 || max_points != 0 || tol.to_bits() != 0 {
                return Err(fmt_err(name, "PARM has no training record (flags 0) but non-zero training fields"));
            }
            Ok(None)
        }
        1 => {
            let init = match init {
                0 => Init::PlusPlus,
                1 => Init::Random,
                2 => Init::GreedyPlusPlus,
                _ => {
                    return Err(fmt_err(
                        name,
                        format!("init = {init} in PARM, expected 0 (k-means++), 1 (random) or 2 (greedy k-means++)"),
                    ))
                }
            };
            let assignment = if nprobe == 0 { Assignment::Exact } else { Assignment::Coarse { nprobe } };
            if !(tol.is_finite() && tol >= 0.0) {
                return Err(fmt_err(name, format!("tol = {tol} in PARM, expected a finite value >= 0")));
            }
            let max_iter = usize::try_from(max_iter)
                .map_err(|_| fmt_err(name, format!("max_iter = {max_iter} does not fit this machine")))?;
            let max_points_per_centroid = usize::try_from(max_points).ok().filter(|&p| p >= 1).ok_or_else(|| {
                fmt_err(name, format!("max_points_per_centroid = {max_points} in PARM, expected >= 1"))
            })?;
            Ok(Some(KMeansParams {
                k: ksub,
                max_iter,
                tol,
                seed,
                init,
                max_points_per_centroid,
                threads: 0,
                assignment,
                hartigan_passes: 0,
            }))
        }
        _ => Err(fmt_err(
            name,
            format!("PARM flags = {flags:#x}, expected 0, or 1 (a training record) plus nprobe << 8"),
        )),
    }
}
