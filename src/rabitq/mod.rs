//! RaBitQ: 1 to 9 bits per dimension with an unbiased distance estimate and a per-code
//! error bound (Gao & Long, SIGMOD 2024; the extended codes of Gao et al., SIGMOD 2025),
//! in the formulation FAISS 1.15 implements (`RaBitQuantizer`, `IndexRaBitQ`), so its
//! recall can be compared one for one.
//!
//! **Training** draws a seeded random orthogonal rotation `R` (`d × d`: the `Q` of a
//! Gaussian matrix's QR, as FAISS's `RandomRotationMatrix` and OPQ's starting point) and
//! takes the centroid `c`: the mean of the training rows, or the caller's.
//!
//! **Encoding** a vector `x` (normalized first under cosine) works on its rotated residual
//! `r = R(x − c)`:
//!
//! - the sign bits `b_i = [r_i > 0]`: the codeword `ō = (2b − 1)/√d`;
//! - with `ex_bits = bits − 1 > 0`, extended codes: `|r|/‖r‖` is scaled by the `t` that
//!   maximizes the cosine between it and `⌊t·|r̂|⌋ + ½` (FAISS's search, operation for
//!   operation), truncated to `ex_bits` bits `e_i`, and flipped (`2^ex − 1 − e_i`) where
//!   `b_i = 0`; the full code `u_i = (b_i << ex_bits) + e_i` stands for `ȳ_i = u_i + cb`,
//!   `cb = −(2^ex − ½)`, a point of sign `r_i`'s on a grid of `2^bits` levels;
//! - factors: `add = ‖r‖²` (L2) or `‖r‖² − ‖x‖²` (inner product, cosine); `dpm = ‖r‖/⟨ō, r̂⟩`;
//!   `err = ‖r‖·√((1/⟨ō, r̂⟩² − 1)/(d − 1))`; with extended codes `rescale = ‖r‖/⟨ȳ, r̂⟩` and
//!   `err_ex` as `err` for the codeword `ȳ` (`r̂ = r/‖r‖`).
//!
//! **Estimation** (FAISS's estimator; `q' = R(q − c)`): the 1-bit estimate of `q·(x − c)`'s
//! part is `dpm·⟨q', ō⟩`, the full one `rescale·⟨q', ȳ⟩`, and with `pre = add + ‖q − c‖² −
//! 2·dpm·⟨q', ō⟩` (or `rescale·⟨q', ȳ⟩`) the squared distance is estimated as
//! `max(pre, 0)` and the inner product as `½(‖q‖² − pre)` (cosine: that times `1/‖q‖`, on
//! unit codes). `⟨q', ō⟩` uses the query quantized to `qb` bits ([`QueryBits`], default 4,
//! FAISS's default) or in float; `⟨q', ȳ⟩` always uses the float query, as FAISS does.
//! The papers' bound: the true value lies within `ε₀·m·‖q − c‖·err` of the estimate
//! (`err_ex` for the full one), `m = 2` for the squared distance and 1 for the inner
//! product; `ε₀` = [`RabitqParams::epsilon`], 1.9 by default as in the papers and FAISS.
//! The 1-bit bound ignores the query's own quantization, as FAISS does.
//!
//! **What the bound promises.** The theorem's error, in units of the bound at `ε₀ = 1`, is
//! close to a standard normal times `‖q⊥‖ ≤ 1` (the part of the query's direction
//! orthogonal to the code's), so the interval at `ε₀` holds for about `P(|Z| ≤ ε₀)` of the
//! codes: 94.3% at the papers' 1.9, 99.1% at 2.6, 99.7% at 3. Measured (tests/rabitq.rs,
//! and debian-minilm at 1 to 8 bits): 5.4–6.1% of codes outside at 1.9, 0.9–1.0% at 2.6,
//! 0.2–0.3% at 3. At 1.9 it is a pruning threshold, not a 99% interval: a true neighbour is
//! lost only when its own estimate errs past the bound in the unlucky direction, and
//! re-ranking at 1 bit with it reaches recall@10 0.999 on debian-minilm.
//!
//! **Search** is FAISS's two-stage scan: every code gets its 1-bit estimate; the extended
//! estimate is computed only where the 1-bit lower bound (estimate minus bound) beats the
//! current k-th score. [`RabitqQuantizer::search_refine`] takes the full-precision vectors
//! and keeps exact scores in the heaps: a code is re-ranked (its exact score computed) only
//! when its lower bounds beat the current k-th exact score, so where the bounds hold the
//! result is the exact top-k.
//!
//! ## Code layout
//!
//! With `W = ⌈d/64⌉` words and `P = 8W` bytes per bit plane (bit `i` of a plane is bit
//! `i mod 8` of byte `i/8`, FAISS's order; bits past `d` are written 0 and ignored), every
//! code is, little-endian:
//!
//! | bytes | what |
//! |---|---|
//! | `P` | sign bits |
//! | 12 | `add`, `dpm`, `err` (f32 each) |
//! | `ex_bits·P` | extended planes: plane `b` holds bit `b` of every `e_i` |
//! | 8 | `rescale`, `err_ex` (f32 each), present when `ex_bits > 0` |
//!
//! so `code_size = P + 12` at 1 bit and `bits·P + 20` above: at d = 128, 28, 52, 84 and 148
//! bytes for 1, 2, 4 and 8 bits; at d = 384, 60, 116, 212 and 404. The 1-bit scan reads
//! the first `P + 12` bytes of a code, contiguously. Against FAISS's `IndexRaBitQ` at the same
//! bits: the 1-bit code has `err` (4 bytes) more, which re-ranking at 1 bit needs; the
//! multi-bit code has FAISS's size, its `<c, r>` factor folded into `add` (FAISS stores it
//! twice); and planes are padded to whole 64-bit words, which costs nothing when 64 divides
//! `d` and at most 7 bytes a plane otherwise, with no effect on the estimates (the padding
//! is outside the rotation and the algebra).
//!
//! The reconstruction ([`Quantizer::decode`]) is the projection of `r` on the codeword,
//! `c + Rᵀ(‖r‖·⟨ȳ̂, r̂⟩·ȳ̂)` (least squared error on that line; FAISS's `sa_decode` uses the
//! estimator's `‖r‖/⟨ȳ̂, r̂⟩`, which is longer). `‖r‖` is recovered as
//! `√(dpm² − err²·(d − 1))`.
//!
//! **Hostile codes** cannot make anything panic or read out of bounds (table lookups are
//! indexed by bytes, factors are read as they are): NaN or infinite factors give NaN or
//! infinite estimates and reconstructions, and a code estimated NaN never enters a
//! search's results.
//!
//! **Hot path.** `estimate`, `distances` and `search` allocate nothing: a group of up to 16
//! queries is prepared in the per-thread buffer of `crate::scratch` (see
//! `rabitq/query.rs` for the sizes), `encode` and `decode` likewise; only states over 1 MiB
//! (`d` above about 8,000) are allocated per call. `train` allocates.

mod code;
mod query;

use crate::error::{exact_len, exact_rows_len, rows_of};
use crate::kernels::rabitq::Layout;
use crate::metric::{inv_norm, normalized_chunks, report, report_queries, Metric};
use crate::quantizer::Quantizer;
use crate::scratch::with_f32;
use crate::search::{check_search, Heaps};
use crate::simd::Isa;
use crate::Error;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// How the query enters the 1-bit estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryBits {
    /// Quantized to this many bits per dimension, `1..=8` (FAISS's `qb`; 4 by default).
    Quantized(u8),
    /// Kept in float (FAISS's `qb = 0`).
    Float,
}

impl Default for QueryBits {
    fn default() -> Self {
        QueryBits::Quantized(4)
    }
}

impl QueryBits {
    /// From FAISS's number: 0 is float, `1..=8` quantized.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] above 8.
    pub fn from_number(qb: u32) -> Result<Self, Error> {
        match qb {
            0 => Ok(QueryBits::Float),
            1..=8 => Ok(QueryBits::Quantized(qb as u8)),
            _ => Err(Error::OutOfRange {
                what: "qb (query bits)",
                got: qb.to_string(),
                accepted: "1..=8 quantized, or 0 for a float query",
            }),
        }
    }

    /// FAISS's number: 0 for float.
    pub fn number(self) -> u32 {
        match self {
            QueryBits::Quantized(b) => u32::from(b),
            QueryBits::Float => 0,
        }
    }

    fn bits(self) -> Option<u8> {
        match self {
            QueryBits::Quantized(b) => Some(b),
            QueryBits::Float => None,
        }
    }

    fn check(self) -> Result<Self, Error> {
        match self {
            QueryBits::Quantized(b) if !(1..=8).contains(&b) => Err(Error::OutOfRange {
                what: "qb (query bits)",
                got: b.to_string(),
                accepted: "1..=8 quantized, or a float query",
            }),
            _ => Ok(self),
        }
    }
}

/// Training parameters of a [`RabitqQuantizer`].
#[derive(Debug, Clone, PartialEq)]
pub struct RabitqParams {
    /// Bits per dimension, `1..=9`: the sign bit and `bits − 1` extended bits.
    pub bits: u32,
    /// The query's bits in the 1-bit estimate (default 4).
    pub qb: QueryBits,
    /// How codes are compared with queries (default L2). Cosine normalizes every vector
    /// trained on and encoded.
    pub metric: Metric,
    /// Seed of the rotation.
    pub seed: u64,
    /// The centroid codes are centred on (`dim` floats; in the normalized space under
    /// cosine); `None` takes the training rows' mean.
    pub centroid: Option<Vec<f32>>,
    /// The bounds' confidence parameter `ε₀` (default 1.9, the papers'); finite, `>= 0`.
    pub epsilon: f32,
}

impl RabitqParams {
    /// `bits` per dimension, a 4-bit query, L2, seed 1234 (the FAISS peer script's),
    /// the data mean as centroid, `ε₀ = 1.9`.
    pub fn new(bits: u32) -> Self {
        RabitqParams { bits, qb: QueryBits::default(), metric: Metric::L2, seed: 1234, centroid: None, epsilon: 1.9 }
    }
}

/// A trained RaBitQ quantizer (see the module docs). Immutable once trained, except for
/// the query-time settings [`Self::set_qb`] and [`Self::set_epsilon`].
#[derive(Debug, Clone, PartialEq)]
pub struct RabitqQuantizer {
    dim: usize,
    bits: u32,
    qb: QueryBits,
    metric: Metric,
    epsilon: f32,
    /// `R`, `d × d` row-major.
    rotation: Vec<f32>,
    /// `Rᵀ`, for decoding.
    rotation_t: Vec<f32>,
    centroid: Vec<f32>,
    /// The seed `train` drew the rotation from; `None` for a quantizer from parts.
    seed: Option<u64>,
    lay: Layout,
}

/// Rows encoded or decoded per rotation block (each rotation row feeds them all).
const ROWS: usize = 16;

fn check_bits(bits: u32) -> Result<(), Error> {
    if (1..=9).contains(&bits) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            what: "RaBitQ bits",
            got: bits.to_string(),
            accepted: "1..=9 bits per dimension (the sign bit and 0..=8 extended bits)",
        })
    }
}

fn check_epsilon(epsilon: f32) -> Result<(), Error> {
    if epsilon.is_finite() && epsilon >= 0.0 {
        Ok(())
    } else {
        Err(Error::OutOfRange { what: "epsilon (ε₀)", got: epsilon.to_string(), accepted: "finite and >= 0" })
    }
}

fn check_dim(dim: usize) -> Result<(), Error> {
    if dim == 0 {
        return Err(Error::OutOfRange { what: "dim", got: "0".into(), accepted: ">= 1" });
    }
    if dim.checked_mul(dim).is_none_or(|n| n > isize::MAX as usize / 8) {
        return Err(Error::OutOfRange {
            what: "dim",
            got: dim.to_string(),
            accepted: "a d × d rotation within the address space",
        });
    }
    Ok(())
}

fn check_finite(what: &'static str, x: &[f32]) -> Result<(), Error> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

impl RabitqQuantizer {
    /// Draws the rotation and takes the centroid (module docs) for `dim`-dimensional rows.
    /// `data` may be empty when the centroid is given.
    ///
    /// # Errors
    /// `dim = 0` or too large for a `d × d` rotation, `bits` outside `1..=9`, `qb` outside
    /// `1..=8`, `epsilon` negative or not finite, a centroid of another dimension or with a
    /// non-finite value, ragged or non-finite data, no data and no centroid.
    pub fn train(dim: usize, data: &[f32], params: &RabitqParams) -> Result<Self, Error> {
        check_dim(dim)?;
        check_bits(params.bits)?;
        params.qb.check()?;
        check_epsilon(params.epsilon)?;
        let n = rows_of("training data", data.len(), dim)?;
        check_finite("training data", data)?;
        let centroid = match &params.centroid {
            Some(c) => c.clone(),
            None if n == 0 => return Err(Error::Empty { what: "training data (and no centroid given)" }),
            None => mean(dim, data, params.metric),
        };
        let rotation = crate::opq::random_rotation(dim, &mut StdRng::seed_from_u64(params.seed));
        let mut q = Self::from_parts(dim, params.bits, params.metric, rotation, centroid)?;
        q.qb = params.qb;
        q.epsilon = params.epsilon;
        q.seed = Some(params.seed);
        Ok(q)
    }

    /// A quantizer from its parameters (such as a trained one's, for a model file): `R`
    /// (`dim × dim` row-major, orthogonal) and the centroid; `qb` and `ε₀` take their
    /// defaults (see [`Self::set_qb`], [`Self::set_epsilon`]).
    ///
    /// # Errors
    /// `dim` or `bits` out of range, a rotation that is not `dim²` finite floats with
    /// orthonormal columns (within [`crate::opq::ORTHOGONALITY_TOLERANCE`]), a centroid of
    /// another dimension or with a non-finite value.
    pub fn from_parts(
        dim: usize,
        bits: u32,
        metric: Metric,
        rotation: Vec<f32>,
        centroid: Vec<f32>,
    ) -> Result<Self, Error> {
        check_dim(dim)?;
        check_bits(bits)?;
        exact_len("rotation", rotation.len(), dim * dim)?;
        check_finite("rotation", &rotation)?;
        if centroid.len() != dim {
            return Err(Error::DimensionMismatch { what: "centroid", got: centroid.len(), expected: dim });
        }
        check_finite("centroid", &centroid)?;
        if let Some((i, j, dev)) = crate::opq::orthogonality_defect(&rotation, dim, dim) {
            return Err(Error::OutOfRange {
                what: "rotation",
                got: format!("(RᵀR − I)[{i}][{j}] = {dev:e}"),
                accepted: "an orthogonal matrix: every entry of RᵀR − I within 1e-3",
            });
        }
        let mut rotation_t = vec![0f32; dim * dim];
        crate::kernels::nearest::transpose_into(&rotation, dim, &mut rotation_t, dim);
        let (qb, epsilon) = (QueryBits::default(), 1.9);
        Ok(RabitqQuantizer {
            dim,
            bits,
            qb,
            metric,
            epsilon,
            rotation,
            rotation_t,
            centroid,
            seed: None,
            lay: Layout::new(dim, bits),
        })
    }

    /// Bits per dimension (`1..=9`).
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// Extended bits per dimension, `bits − 1`.
    pub fn ex_bits(&self) -> u32 {
        self.bits - 1
    }

    /// The query's bits in the 1-bit estimate.
    pub fn qb(&self) -> QueryBits {
        self.qb
    }

    /// The bounds' `ε₀`.
    pub fn epsilon(&self) -> f32 {
        self.epsilon
    }

    /// `R`, `dim × dim` row-major.
    pub fn rotation(&self) -> &[f32] {
        &self.rotation
    }

    /// The centroid `c`.
    pub fn centroid(&self) -> &[f32] {
        &self.centroid
    }

    /// This quantizer with `seed` as its training record (a model file's).
    pub(crate) fn with_seed(mut self, seed: Option<u64>) -> Self {
        self.seed = seed;
        self
    }

    /// The seed [`Self::train`] drew the rotation from (the model file keeps it); `None`
    /// for a quantizer built by [`Self::from_parts`].
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Sets the query's bits for later estimates and searches (codes are unaffected).
    ///
    /// # Errors
    /// A quantized width outside `1..=8`.
    pub fn set_qb(&mut self, qb: QueryBits) -> Result<(), Error> {
        self.qb = qb.check()?;
        Ok(())
    }

    /// Sets `ε₀` for later bounds and re-ranking searches.
    ///
    /// # Errors
    /// Negative or not finite.
    pub fn set_epsilon(&mut self, epsilon: f32) -> Result<(), Error> {
        check_epsilon(epsilon)?;
        self.epsilon = epsilon;
        Ok(())
    }

    /// `R(x − c)` for every row of `x` into `out`: the coordinates codes and queries are
    /// quantized in (no normalization, even under cosine), computed as the estimators
    /// compute them at the current SIMD level.
    ///
    /// # Errors
    /// Ragged `x` or `out` of another length.
    pub fn rotated_residual(&self, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
        let n = rows_of("x", x.len(), self.dim)?;
        exact_rows_len("out", out.len(), n, self.dim)?;
        let isa = Isa::current();
        with_f32(ROWS.min(n.max(1)) * self.dim, |diff| {
            for (x, out) in x.chunks(ROWS * self.dim).zip(out.chunks_mut(ROWS * self.dim)) {
                query::rotate_residuals(self, isa, x, &mut diff[..x.len()], out);
            }
        });
        Ok(())
    }

    /// The full estimate of every code for `query` (`est[i]`, reported as
    /// [`Quantizer::distances`] reports: squared distance, inner product, or cosine) and
    /// the half-width of its interval (`half[i]`): with the papers' probability the true
    /// value lies in `est[i] ± half[i]`. At 1 bit this is [`Self::estimate_sign`].
    ///
    /// # Errors
    /// A query of another dimension or non-finite, codes not whole codes, `est` or `half`
    /// not one per code.
    pub fn estimate(&self, query: &[f32], codes: &[u8], est: &mut [f32], half: &mut [f32]) -> Result<(), Error> {
        self.estimates(query, codes, true, est, Some(half))
    }

    /// As [`Self::estimate`] from the sign bits alone (the first stage of a search), with the
    /// query quantized to `qb` bits (or in float).
    ///
    /// # Errors
    /// As [`Self::estimate`].
    pub fn estimate_sign(&self, query: &[f32], codes: &[u8], est: &mut [f32], half: &mut [f32]) -> Result<(), Error> {
        self.estimates(query, codes, false, est, Some(half))
    }

    fn estimates(
        &self,
        query: &[f32],
        codes: &[u8],
        full: bool,
        est: &mut [f32],
        mut half: Option<&mut [f32]>,
    ) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        check_finite("query", query)?;
        let n = rows_of("codes", codes.len(), self.code_size())?;
        exact_len("estimates", est.len(), n)?;
        if let Some(h) = half.as_deref() {
            exact_len("half-widths", h.len(), n)?;
        }
        query::estimate(self, query, codes, full, est, half.as_deref_mut());
        let s = inv_norm(query);
        report(self.metric, s, est);
        if let (Metric::Cosine, Some(h)) = (self.metric, half) {
            h.iter_mut().for_each(|v| *v *= s);
        }
        Ok(())
    }

    /// [`Quantizer::search`] re-ranked against `vectors` (the encoded rows in full
    /// precision, `n·dim` floats for `n` codes): the heaps hold exact scores, and a code's
    /// exact score is computed only when its estimate's lower bound (1-bit, then extended)
    /// beats the current k-th exact score. Where the bounds hold, the result is the exact
    /// top-k. Returns how many exact scores were computed (over all queries). A row of
    /// `vectors` holding NaN never enters the results.
    ///
    /// # Errors
    /// As [`Quantizer::search`], and `vectors` not one row per code.
    pub fn search_refine(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        vectors: &[f32],
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<usize, Error> {
        self.run_search(queries, codes, k, Some(vectors), distances, labels)
    }

    fn run_search(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        vectors: Option<&[f32]>,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<usize, Error> {
        let n = rows_of("codes", codes.len(), self.code_size())?;
        check_search(self.dim, queries, k, distances, labels)?;
        if let Some(v) = vectors {
            exact_rows_len("vectors", v.len(), n, self.dim)?;
        }
        Heaps::start(distances, labels, k);
        let reranked = query::search(self, queries, codes, k, distances, labels, vectors);
        Heaps::resume(distances, labels, k).finish();
        report_queries(self.metric, self.dim, queries, k, distances);
        Ok(reranked)
    }

    fn check_pairs(&self, vectors: usize, codes: usize) -> Result<usize, Error> {
        let n = rows_of("vectors", vectors, self.dim)?;
        exact_rows_len("codes", codes, n, self.code_size())?;
        Ok(n)
    }
}

/// The mean of the rows (of the normalized rows under cosine), summed in f64.
fn mean(dim: usize, data: &[f32], metric: Metric) -> Vec<f32> {
    let mut sum = vec![0f64; dim];
    let mut add = |rows: &[f32]| {
        for row in rows.chunks_exact(dim) {
            for (s, &v) in sum.iter_mut().zip(row) {
                *s += f64::from(v);
            }
        }
    };
    match metric {
        Metric::Cosine => normalized_chunks(dim, data, |unit, _| add(unit)),
        _ => add(data),
    }
    let n = (data.len() / dim) as f64;
    sum.iter().map(|s| (s / n) as f32).collect()
}

impl Quantizer for RabitqQuantizer {
    fn dim(&self) -> usize {
        self.dim
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    fn code_size(&self) -> usize {
        self.lay.code_size()
    }

    /// # Errors
    /// Also [`Error::NonFinite`] for a NaN or infinite value in `vectors`.
    fn encode(&self, vectors: &[f32], codes: &mut [u8]) -> Result<(), Error> {
        self.check_pairs(vectors.len(), codes.len())?;
        check_finite("vectors", vectors)?;
        let (d, cs) = (self.dim, self.code_size());
        let isa = Isa::current();
        let ip = self.metric != Metric::L2;
        let cosine = self.metric == Metric::Cosine;
        // Rows, their residuals and rotations, then the encoder's o_abs, codes and heap.
        with_f32(3 * ROWS * d + 2 * d + 2 * d + 2, |buf| {
            let (rows, rest) = buf.split_at_mut(ROWS * d);
            let (diff, rest) = rest.split_at_mut(ROWS * d);
            let (rot, rest) = rest.split_at_mut(ROWS * d);
            let (o_abs, rest) = rest.split_at_mut(d);
            let (cur, rest) = rest.split_at_mut(d);
            let cur: &mut [u32] = bytemuck::cast_slice_mut(cur);
            let (_, heap, _) = bytemuck::pod_align_to_mut::<f32, u64>(rest);
            for (x, codes) in vectors.chunks(ROWS * d).zip(codes.chunks_mut(ROWS * cs)) {
                let m = x.len();
                let x = if cosine {
                    rows[..m].copy_from_slice(x);
                    crate::metric::normalize_rows(d, &mut rows[..m]);
                    &rows[..m]
                } else {
                    x
                };
                query::rotate_residuals(self, isa, x, &mut diff[..m], &mut rot[..m]);
                for ((r, code), x) in rot[..m].chunks_exact(d).zip(codes.chunks_exact_mut(cs)).zip(x.chunks_exact(d)) {
                    let x_norm2 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                    let s = code::Scratch { o_abs, cur, heap };
                    code::encode(self.lay, ip, r, x_norm2, code, s);
                }
            }
        });
        Ok(())
    }

    /// The projection of the rotated residual on its codeword, rotated back (module docs);
    /// under cosine, of the unit vector.
    fn decode(&self, codes: &[u8], vectors: &mut [f32]) -> Result<(), Error> {
        self.check_pairs(vectors.len(), codes.len())?;
        let (d, cs) = (self.dim, self.code_size());
        let isa = Isa::current();
        with_f32(ROWS * d, |rot| {
            for (codes, out) in codes.chunks(ROWS * cs).zip(vectors.chunks_mut(ROWS * d)) {
                let rot = &mut rot[..out.len()];
                for (code, r) in codes.chunks_exact(cs).zip(rot.chunks_exact_mut(d)) {
                    code::decode(self.lay, code, r);
                }
                crate::kernels::matvec::apply(isa, &self.rotation_t, d, rot, out);
                for row in out.chunks_exact_mut(d) {
                    row.iter_mut().zip(&self.centroid).for_each(|(v, &c)| *v += c);
                }
            }
        });
        Ok(())
    }

    /// RaBitQ's full estimate of every code ([`Self::estimate`] without the half-widths):
    /// not the distance to `decode`'s reconstruction, whose length differs from `‖x − c‖`.
    fn distances(&self, query: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        self.estimates(query, codes, true, out, None)
    }

    /// FAISS's two-stage search (module docs): the full estimates of the codes whose 1-bit
    /// lower bound beats the current k-th, ranked as [`Quantizer::search`] ranks.
    fn search(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        self.run_search(queries, codes, k, None, distances, labels).map(|_| ())
    }
}
