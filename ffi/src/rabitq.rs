//! The RaBitQ handle, `vq_rabitq`: a seeded random rotation, a centroid, codes of 1 to 9
//! bits per dimension, and distance estimates that come with an error bound
//! (`vq::RabitqQuantizer`, whose module docs give the estimator, the bound and the code
//! layout).
//!
//! The calls mirror `vq_opq_*` (train, from parts, getters, views, encode, decode,
//! distances, search, model files). Three things are RaBitQ's own:
//!
//! - **Estimates come with bounds.** `vq_rabitq_estimate` writes every code's estimate and
//!   the half-width of its interval, `vq_rabitq_estimate_sign` the same from the sign bits
//!   alone (the first stage of a search); `vq_rabitq_search_refine` re-ranks against the
//!   caller's full vectors wherever a bound cannot rule a code out.
//! - **Two query-time settings live on the handle**, `qb` and `ε₀`, saved with the model
//!   so a loaded quantizer searches as the saved one did. Their setters are the only calls
//!   in the ABI that change a handle, so they take a `vq_rabitq *` and must not run while
//!   any other call uses it; everything else takes `const vq_rabitq *`.
//! - **No partial results needs no work here.** The library checks every argument of an
//!   estimate or a search before it writes (a search checks codes, queries, `k` and the
//!   result lengths, then starts its heaps), and nothing after those checks can fail: a
//!   hostile code gives a NaN or infinite estimate, never an error, and a NaN never enters
//!   a search's results. Unlike OPQ's, RaBitQ's search refuses no finite query.

use crate::metric::{metric_arg, NO_METRIC};
use crate::model_file;
use crate::pq::exact;
use crate::status::{
    bytes_of, guard, guard_value, input, nonnull, output, output_apart, results, write_out, write_view, Res,
};
use crate::vq_status;
use std::ffi::c_char;
use vq::{Error, Metric, Quantizer, QueryBits, RabitqParams, RabitqQuantizer};

/// A RaBitQ quantizer: a rotation and a centroid over `dim` dimensions, `bits` bits per
/// dimension. Read-only for every call but `vq_rabitq_set_query_bits` and
/// `vq_rabitq_set_epsilon`; free with `vq_rabitq_free`.
pub struct vq_rabitq {
    _private: [u8; 0],
}

fn into_raw(q: RabitqQuantizer) -> *mut vq_rabitq {
    Box::into_raw(Box::new(q)).cast()
}

/// # Safety
/// `p` is NULL (rejected) or a live handle from this library.
unsafe fn handle<'a>(p: *const vq_rabitq) -> Res<&'a RabitqQuantizer> {
    nonnull("rabitq", p)?;
    // SAFETY: a live handle made by `into_raw` (caller's contract).
    Ok(unsafe { &*p.cast::<RabitqQuantizer>() })
}

model_file::kind!(RabitqQuantizer, vq_rabitq, Rabitq, "a RaBitQ quantizer");

/// # Safety
/// `p` is NULL (rejected) or a live handle from this library that no other call uses
/// during this one.
unsafe fn handle_mut<'a>(p: *mut vq_rabitq) -> Res<&'a mut RabitqQuantizer> {
    nonnull("rabitq", p.cast_const())?;
    // SAFETY: a live handle made by `into_raw`, used by no other call meanwhile (caller's
    // contract).
    Ok(unsafe { &mut *p.cast::<RabitqQuantizer>() })
}

/// How `vq_rabitq_train` draws its rotation, takes its centroid and sets the query-time
/// settings. Start from `vq_rabitq_params_default()` and change fields, so code keeps
/// compiling when fields are added.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct vq_rabitq_params {
    /// Seed of the random rotation. Default 1234.
    pub seed: u64,
    /// The query's bits in the 1-bit estimate (FAISS's `qb`): `1..=8` quantized, 0 a float
    /// query. Default 4. Changeable later with `vq_rabitq_set_query_bits`.
    pub qb: u32,
    /// The bounds' confidence parameter `ε₀`, finite and `>= 0`. Default 1.9 (the papers',
    /// FAISS's): the interval holds for about 94% of codes, 99% at 2.6. Changeable later
    /// with `vq_rabitq_set_epsilon`.
    pub epsilon: f32,
    /// The centroid codes are centred on, `centroid_len = dim` floats (under cosine, in the
    /// space of unit vectors); copied. NULL with `centroid_len` 0 (default): the mean of
    /// the training rows (of the normalized rows under cosine).
    pub centroid: *const f32,
    /// Floats at `centroid`: 0 or `dim`.
    pub centroid_len: usize,
}

/// The default RaBitQ training parameters, as `vq::RabitqParams::new`: seed 1234, a 4-bit
/// query, `ε₀ = 1.9`, the data mean as centroid.
#[no_mangle]
pub extern "C" fn vq_rabitq_params_default() -> vq_rabitq_params {
    let p = RabitqParams::new(1);
    vq_rabitq_params {
        seed: p.seed,
        qb: p.qb.number(),
        epsilon: p.epsilon,
        centroid: std::ptr::null(),
        centroid_len: 0,
    }
}

impl vq_rabitq_params {
    /// The library's parameters for `bits` per dimension by `metric`.
    ///
    /// # Safety
    /// `centroid` is NULL (rejected unless `centroid_len` is 0) or points to
    /// `centroid_len` floats.
    pub(crate) unsafe fn to_params(self, metric: Metric, bits: u32) -> Res<RabitqParams> {
        // SAFETY: caller's contract.
        let centroid = unsafe { input("centroid", self.centroid, self.centroid_len) }?;
        Ok(RabitqParams {
            bits,
            qb: QueryBits::from_number(self.qb)?,
            metric,
            seed: self.seed,
            centroid: (!centroid.is_empty()).then(|| centroid.to_vec()),
            epsilon: self.epsilon,
        })
    }
}

/// Trains a RaBitQ quantizer for `dim`-dimensional rows searching by `metric`
/// (`VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
/// `VQ_STATUS_INVALID_ARGUMENT`): a random orthogonal rotation drawn from `params->seed`
/// and the centroid (the mean of the `data_len / dim` rows of `data`, or
/// `params->centroid`). A cosine quantizer normalizes every vector it trains on and
/// encodes. `data` may be empty (`data_len` 0) when the centroid is given.
///
/// `bits` per dimension is `1..=9` (the sign bit and `bits − 1` extended bits); codes take
/// `vq_rabitq_code_size` bytes. `params` may be NULL for `vq_rabitq_params_default()`.
/// Out of range (`bits`, `qb`, `epsilon`, `dim = 0`): `VQ_STATUS_INVALID_ARGUMENT`; a
/// centroid of another length or `data` not whole rows: `VQ_STATUS_BAD_LENGTH`; a NaN or
/// infinity in either: `VQ_STATUS_NON_FINITE`. Training costs a `dim × dim` QR
/// factorization and one pass over the data.
///
/// # Safety
/// `data` points to `data_len` floats; `params` is NULL or valid, its `centroid` pointing
/// to `centroid_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_train(
    metric: u32,
    dim: usize,
    bits: u32,
    data: *const f32,
    data_len: usize,
    params: *const vq_rabitq_params,
    out: *mut *mut vq_rabitq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let data = unsafe { input("data", data, data_len) }?;
        // SAFETY: NULL or valid (caller's contract).
        let p = if params.is_null() { vq_rabitq_params_default() } else { unsafe { *params } };
        // SAFETY: the centroid pointer and length are the caller's (contract above).
        let q = RabitqQuantizer::train(dim, data, &unsafe { p.to_params(metric, bits) }?)?;
        // SAFETY: checked non-NULL above; valid by contract.
        unsafe { write_out("out", out, into_raw(q)) }
    })
}

/// Builds a RaBitQ quantizer from its parts, as `vq_rabitq_rotation` and
/// `vq_rabitq_centroid` give them (both copied): a rotation `R` (`dim × dim` floats,
/// row-major, orthogonal) and a centroid (`dim` floats), searching by `metric` with `bits`
/// per dimension. The query-time settings take their defaults (`qb` 4, `ε₀` 1.9; see the
/// setters). A length that does not fit `dim` is `VQ_STATUS_BAD_LENGTH`; a NaN or infinity
/// `VQ_STATUS_NON_FINITE`; a rotation that is not orthogonal (an entry of `RᵀR − I` beyond
/// 1e-3), `bits` outside `1..=9` or `dim = 0` `VQ_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `rotation` and `centroid` point to the given numbers of floats; `out` is valid for a
/// write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_from_parts(
    metric: u32,
    dim: usize,
    bits: u32,
    rotation: *const f32,
    rotation_len: usize,
    centroid: *const f32,
    centroid_len: usize,
    out: *mut *mut vq_rabitq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let (r, c) =
            unsafe { (input("rotation", rotation, rotation_len)?, input("centroid", centroid, centroid_len)?) };
        let q = RabitqQuantizer::from_parts(dim, bits, metric, r.to_vec(), c.to_vec())?;
        // SAFETY: checked non-NULL above; valid by contract.
        unsafe { write_out("out", out, into_raw(q)) }
    })
}

/// Frees a quantizer (and the views `vq_rabitq_rotation` and `vq_rabitq_centroid` lent).
/// NULL is a no-op. No other call may use it afterwards, or during.
///
/// # Safety
/// `rabitq` is NULL or a handle from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_free(rabitq: *mut vq_rabitq) {
    guard_value((), || {
        if !rabitq.is_null() {
            // SAFETY: made by `into_raw`, freed once (caller's contract).
            drop(unsafe { Box::from_raw(rabitq.cast::<RabitqQuantizer>()) });
        }
    })
}

/// Dimension of the vectors (0 for NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_dim(rabitq: *const vq_rabitq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(rabitq) }.map_or(0, |h| h.dim()))
}

/// Bits per dimension, `1..=9` (0 for NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_bits(rabitq: *const vq_rabitq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(rabitq) }.map_or(0, |h| h.bits()))
}

/// The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
/// `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_metric(rabitq: *const vq_rabitq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(NO_METRIC, || unsafe { handle(rabitq) }.map_or(NO_METRIC, |h| h.metric().number()))
}

/// Bytes per code: with `P = 8·ceil(dim/64)` bytes per bit plane, `P + 12` at 1 bit and
/// `bits·P + 20` above (sign bits and three f32 factors, then the extended planes and two
/// more factors); at `dim = 128`: 28, 52, 84 and 148 bytes for 1, 2, 4 and 8 bits (0 for
/// NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_code_size(rabitq: *const vq_rabitq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(rabitq) }.map_or(0, |h| h.code_size()))
}

/// The query's bits in the 1-bit estimate: `1..=8`, or 0 for a float query (`UINT32_MAX`
/// for NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_query_bits(rabitq: *const vq_rabitq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(u32::MAX, || unsafe { handle(rabitq) }.map_or(u32::MAX, |h| h.qb().number()))
}

/// The bounds' `ε₀` (NaN for NULL).
///
/// # Safety
/// `rabitq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_epsilon(rabitq: *const vq_rabitq) -> f32 {
    // SAFETY: caller's contract.
    guard_value(f32::NAN, || unsafe { handle(rabitq) }.map_or(f32::NAN, |h| h.epsilon()))
}

/// Read-only view of the rotation `R`, `dim × dim` floats row-major (codes quantize
/// `R(x − c)`). `*out` stays valid until `vq_rabitq_free(rabitq)`; do not write through it.
///
/// # Safety
/// `rabitq` is a live handle; `out` and `out_len` are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_rotation(
    rabitq: *const vq_rabitq,
    out: *mut *const f32,
    out_len: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { lend(rabitq, out, out_len, RabitqQuantizer::rotation) }
}

/// Read-only view of the centroid `c`, `dim` floats. `*out` stays valid until
/// `vq_rabitq_free(rabitq)`; do not write through it.
///
/// # Safety
/// `rabitq` is a live handle; `out` and `out_len` are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_centroid(
    rabitq: *const vq_rabitq,
    out: *mut *const f32,
    out_len: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { lend(rabitq, out, out_len, RabitqQuantizer::centroid) }
}

/// The body of the views: `part` of the quantizer, borrowed into the out-parameters.
///
/// # Safety
/// As `vq_rabitq_rotation`.
unsafe fn lend(
    rabitq: *const vq_rabitq,
    out: *mut *const f32,
    out_len: *mut usize,
    part: fn(&RabitqQuantizer) -> &[f32],
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle(rabitq) }?;
        // SAFETY: caller's contract.
        unsafe { write_view(part(h), out, out_len) }
    })
}

/// Sets the query's bits in the 1-bit estimate for later estimates and searches: `1..=8`
/// quantized, or 0 for a float query (FAISS's `qb`; more bits, a tighter 1-bit stage at a
/// slower scan). Codes are unaffected. Another value is `VQ_STATUS_INVALID_ARGUMENT` and
/// the setting stays. Kept in model files saved afterwards.
///
/// This call changes the handle: it must not run while any other call, on any thread, uses
/// `rabitq` (set it up first, then share the handle).
///
/// # Safety
/// `rabitq` is a live handle that no other call uses during this one.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_set_query_bits(rabitq: *mut vq_rabitq, qb: u32) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle_mut(rabitq) }?;
        Ok(h.set_qb(QueryBits::from_number(qb)?)?)
    })
}

/// Sets `ε₀`, the bounds' confidence parameter, for later estimates (`half`) and
/// re-ranking searches: finite and `>= 0` (1.9 holds for about 94% of codes, 2.6 for 99%,
/// larger re-ranks more). Negative, NaN or infinite is `VQ_STATUS_INVALID_ARGUMENT` and
/// the setting stays. Kept in model files saved afterwards.
///
/// This call changes the handle: it must not run while any other call, on any thread, uses
/// `rabitq` (set it up first, then share the handle).
///
/// # Safety
/// `rabitq` is a live handle that no other call uses during this one.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_set_epsilon(rabitq: *mut vq_rabitq, epsilon: f32) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle_mut(rabitq) }?;
        Ok(h.set_epsilon(epsilon)?)
    })
}

/// Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes): the sign bits
/// and extended codes of `R(x − c)` with their factors. A cosine quantizer encodes each
/// vector normalized (a zero vector stays zero). A NaN or infinity is
/// `VQ_STATUS_NON_FINITE`. Working memory as "Allocation" at the top of `vq.h` says.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_encode(
    rabitq: *const vq_rabitq,
    vectors: *const f32,
    vectors_len: usize,
    codes: *mut u8,
    codes_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, v) = unsafe { (handle(rabitq)?, input("vectors", vectors, vectors_len)?) };
        // SAFETY: caller's contract.
        let c = unsafe { output("codes", codes, codes_len, &[("vectors", bytes_of(v))]) }?;
        Ok(h.encode(v, c)?)
    })
}

/// Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats): `c + Rᵀ` of the
/// residual's projection on its codeword (under cosine, of the unit vector). Any bytes
/// decode: factors that are NaN or infinite give NaN or infinite values.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_decode(
    rabitq: *const vq_rabitq,
    codes: *const u8,
    codes_len: usize,
    vectors: *mut f32,
    vectors_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, c) = unsafe { (handle(rabitq)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let v = unsafe { output("vectors", vectors, vectors_len, &[("codes", c)]) }?;
        Ok(h.decode(c, v)?)
    })
}

/// `out[i]` = RaBitQ's full estimate of code `i`'s score for `query` by the quantizer's
/// metric: the squared distance `‖q − x‖²`, the inner product `q·x` or the cosine
/// `q·x/‖q‖` (`x` the encoded vector, unit under cosine). It is an estimate of the true
/// score, not the score of `vq_rabitq_decode`'s reconstruction. Equal bit for bit to
/// `est` of `vq_rabitq_estimate`. `codes_len = out_len·code_size`. A NaN or infinity in
/// the query is `VQ_STATUS_NON_FINITE`; a code with NaN factors scores NaN.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_distances(
    rabitq: *const vq_rabitq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) =
            unsafe { (handle(rabitq)?, input("query", query, query_len)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("codes", c)]) }?;
        exact(codes_len, out_len, h.code_size())?;
        Ok(h.distances(q, c, o)?)
    })
}

/// The library's estimate calls: [`RabitqQuantizer::estimate`] or
/// [`RabitqQuantizer::estimate_sign`].
type Estimator = fn(&RabitqQuantizer, &[f32], &[u8], &mut [f32], &mut [f32]) -> Result<(), Error>;

/// The body of `vq_rabitq_estimate` and `vq_rabitq_estimate_sign`.
///
/// # Safety
/// As `vq_rabitq_estimate`.
#[allow(clippy::too_many_arguments)]
unsafe fn estimates(
    rabitq: *const vq_rabitq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    est: *mut f32,
    est_len: usize,
    half: *mut f32,
    half_len: usize,
    estimator: Estimator,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) =
            unsafe { (handle(rabitq)?, input("query", query, query_len)?, input("codes", codes, codes_len)?) };
        let ins = [("query", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let e = unsafe { output("est", est, est_len, &ins) }?;
        // SAFETY: caller's contract; checked apart from `e` before it is formed.
        let hw = unsafe { output_apart("half", half, half_len, &ins, &[("est", bytes_of(e))]) }?;
        exact(codes_len, est_len, h.code_size())?;
        if half_len != est_len {
            return Err(Error::BufferLength { what: "half", got: half_len, expected: est_len }.into());
        }
        Ok(estimator(h, q, c, e, hw)?)
    })
}

/// For every code (`codes_len = est_len·code_size`): `est[i]`, the full estimate of its
/// score for `query` (as `vq_rabitq_distances`, bit for bit), and `half[i]`, the
/// half-width of its interval: with the probability `ε₀` sets (about 94% at 1.9), the true
/// score lies in `est[i] ± half[i]` (`half_len = est_len`). The half-width is
/// `ε₀·m·‖q − c‖·err` with the code's error factor `err` (`m` = 2 for L2, 1 for inner
/// product and cosine; under cosine times `1/‖q‖`). At 1 bit this is
/// `vq_rabitq_estimate_sign`. `est` and `half` may not overlap each other or the inputs.
/// A NaN or infinity in the query is `VQ_STATUS_NON_FINITE`; codes with NaN or infinite
/// factors give NaN or infinite values.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_estimate(
    rabitq: *const vq_rabitq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    est: *mut f32,
    est_len: usize,
    half: *mut f32,
    half_len: usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe {
        estimates(rabitq, query, query_len, codes, codes_len, est, est_len, half, half_len, RabitqQuantizer::estimate)
    }
}

/// `vq_rabitq_estimate` from the sign bits alone: the 1-bit estimate a search's first
/// stage ranks by, with the query quantized to `vq_rabitq_query_bits` bits (or in float),
/// and its half-width (the bound ignores the query's own quantization, as FAISS's does).
/// Cheaper and looser than the full estimate when `bits > 1`.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_estimate_sign(
    rabitq: *const vq_rabitq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    est: *mut f32,
    est_len: usize,
    half: *mut f32,
    half_len: usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe {
        estimates(
            rabitq,
            query,
            query_len,
            codes,
            codes_len,
            est,
            est_len,
            half,
            half_len,
            RabitqQuantizer::estimate_sign,
        )
    }
}

/// Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
/// quantizer's metric, FAISS's two-stage scan: every code's 1-bit estimate, and its full
/// estimate only where the 1-bit lower bound beats the current k-th score. Scores are the
/// full estimates (`vq_rabitq_distances`), ordered and padded as `vq_pq_search`: squared
/// L2 ascending with `(+INFINITY, -1)` past the codes; inner product or cosine descending
/// with `(-INFINITY, -1)`; ties to the lower id. A code estimated NaN never enters the
/// results. `distances_len` and `labels_len` are `nq·k`. A NaN or infinity in the queries
/// is `VQ_STATUS_NON_FINITE`, and nothing is written.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_search(
    rabitq: *const vq_rabitq,
    queries: *const f32,
    queries_len: usize,
    codes: *const u8,
    codes_len: usize,
    k: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) =
            unsafe { (handle(rabitq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        Ok(h.search(q, c, k, d, l)?)
    })
}

/// `vq_rabitq_search` re-ranked against `vectors`, the encoded vectors in full precision
/// (`vectors_len = n·dim` for the `n` codes, row `i` the vector of code `i`): results hold
/// exact scores (`‖q − x‖²`, `q·x`, `q·x/(‖q‖‖x‖)`), and a code's exact score is computed
/// only when its lower bounds (1-bit, then full) beat the current k-th exact score. Where
/// the bounds hold, the result is the exact top-k. A larger `ε₀` (`vq_rabitq_set_epsilon`)
/// re-ranks more and misses less: at the default 1.9 about 6% of codes fall outside their
/// bound, yet a true neighbour is lost only when its own estimate errs past it the wrong
/// way (the library measures recall@10 0.999 at 1 bit on debian-minilm); at 3, 0.3% do. A
/// row holding NaN never enters the results. If `reranked` is not NULL, `*reranked` is how many exact scores were computed,
/// over all queries. Ordering, padding and statuses as `vq_rabitq_search`; nothing is
/// written on failure.
///
/// # Safety
/// `rabitq` is a live handle; the buffers hold the given number of elements; `reranked` is
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_search_refine(
    rabitq: *const vq_rabitq,
    queries: *const f32,
    queries_len: usize,
    codes: *const u8,
    codes_len: usize,
    k: usize,
    vectors: *const f32,
    vectors_len: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
    reranked: *mut usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c, v) = unsafe {
            (
                handle(rabitq)?,
                input("queries", queries, queries_len)?,
                input("codes", codes, codes_len)?,
                input("vectors", vectors, vectors_len)?,
            )
        };
        let ins = [("queries", bytes_of(q)), ("codes", c), ("vectors", bytes_of(v))];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        let count = if reranked.is_null() {
            None
        } else {
            let outs = [("distances", bytes_of(d)), ("labels", bytes_of(l))];
            // SAFETY: caller's contract; checked apart from the results before it is formed.
            Some(unsafe { output_apart("reranked", reranked, 1, &ins, &outs) }?)
        };
        let n = h.search_refine(q, c, k, v, d, l)?;
        if let Some(count) = count {
            count[0] = n;
        }
        Ok(())
    })
}

/// Saves the quantizer (rotation, centroid, metric, `qb`, `ε₀`, and the seed when it was
/// trained) as a model file of kind RaBitQ at `path` (a NUL-terminated path), written to a
/// temporary file and renamed into place.
///
/// # Safety
/// `rabitq` is a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_save(rabitq: *const vq_rabitq, path: *const c_char) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save::<RabitqQuantizer>(rabitq, path) }
}

/// Loads a RaBitQ quantizer from the model file at `path`, with the metric, `qb` and `ε₀`
/// it was saved with. The rotation and centroid are checked as `vq_rabitq_from_parts`
/// checks them. Truncated or corrupt input is `VQ_STATUS_FORMAT`, another format version
/// `VQ_STATUS_UNSUPPORTED_VERSION`, a product, scalar or OPQ quantizer's file
/// `VQ_STATUS_WRONG_KIND` (the message names the call that loads it).
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_load(path: *const c_char, out: *mut *mut vq_rabitq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load::<RabitqQuantizer>(path, out) }
}

/// Bytes `vq_rabitq_save_buffer` writes.
///
/// # Safety
/// `rabitq` is a live handle; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_serialized_size(rabitq: *const vq_rabitq, out: *mut usize) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::serialized_size::<RabitqQuantizer>(rabitq, out) }
}

/// Writes the model file into `buf` (`buf_len` bytes, at least
/// `vq_rabitq_serialized_size`; else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written)
/// and its size into `*written`.
///
/// # Safety
/// `rabitq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_save_buffer(
    rabitq: *const vq_rabitq,
    buf: *mut u8,
    buf_len: usize,
    written: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save_buffer::<RabitqQuantizer>(rabitq, buf, buf_len, written) }
}

/// Loads a RaBitQ quantizer, with its metric, `qb` and `ε₀`, from a model file in memory
/// (`buf_len` bytes; the buffer is not kept). Statuses as `vq_rabitq_load`.
///
/// # Safety
/// `buf` holds `buf_len` readable bytes; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_rabitq_load_buffer(buf: *const u8, buf_len: usize, out: *mut *mut vq_rabitq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load_buffer::<RabitqQuantizer>(buf, buf_len, out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_the_library_s() {
        let p = vq_rabitq_params_default();
        // SAFETY: no centroid.
        let got = unsafe { p.to_params(Metric::Cosine, 5) }.unwrap();
        assert_eq!(got, RabitqParams { metric: Metric::Cosine, ..RabitqParams::new(5) });
        let c = [1f32, 2.0];
        let q = vq_rabitq_params { qb: 0, centroid: c.as_ptr(), centroid_len: 2, ..p };
        // SAFETY: `centroid` points to two floats.
        let got = unsafe { q.to_params(Metric::L2, 1) }.unwrap();
        assert_eq!((got.qb, got.centroid), (QueryBits::Float, Some(c.to_vec())));
        let q = vq_rabitq_params { qb: 9, ..p };
        // SAFETY: no centroid.
        let e = unsafe { q.to_params(Metric::L2, 1) }.unwrap_err();
        assert!(e.message.contains("qb (query bits) = 9"), "{}", e.message);
        let q = vq_rabitq_params { centroid_len: 3, ..p };
        // SAFETY: a NULL centroid with a length is refused before it is read.
        let e = unsafe { q.to_params(Metric::L2, 1) }.unwrap_err();
        assert_eq!(e.status, vq_status::NullPointer);
    }
}
