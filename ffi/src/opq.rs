//! The OPQ handle, `vq_opq`: a learned rotation `R` (`d_out × dim`) followed by a product
//! quantizer of the rotated vectors (`vq::OpqQuantizer`).
//!
//! The calls mirror `vq_pq_*` one for one. Three things are OPQ's own:
//!
//! - **The inner PQ is a view.** `vq_opq_pq` lends the `vq_pq` inside the handle, so every
//!   read-only `vq_pq_*` call works on the rotated space without a copy; no `vq_opq_adc_scan`
//!   is needed: `vq_pq_adc_scan` on the view, with a table from `vq_opq_distance_table`,
//!   scores codes as `vq_opq_distances` does (bit for bit but under cosine, whose table
//!   carries the `1/‖q‖` that `distances` applies to each sum).
//! - **Queries are rotated before the PQ sees them.** The library rotates in blocks on the
//!   stack (`d_out ≤ 8192`); `vq_opq_distance_table` does the same here, and
//!   `vq_opq_search_with_table` rotates into the caller's table, so it never allocates.
//! - **No partial results.** The library searches block by block, and a later block can
//!   fail after an earlier one wrote its results: a finite query so long (‖q‖ near
//!   `FLT_MAX`) that `R q` overflows. The searches here check every query first, rotating
//!   again only a query whose norm could overflow, so a failure writes nothing.

use crate::metric::{metric_arg, NO_METRIC};
use crate::model_file;
use crate::pq::{check_codes, exact, vq_pq};
use crate::status::{bytes_of, guard, guard_value, input, nonnull, output, results, write_out, write_view, Res};
use crate::{vq_status, vq_train_params};
use std::ffi::c_char;
use vq::{Error, OpqParams, OpqQuantizer, ProductQuantizer, Quantizer};

/// A trained OPQ quantizer: a rotation to `d_out` dimensions, then `m` sub-quantizers of
/// `ksub` centroids over them. Immutable; share it across threads freely. Free with
/// `vq_opq_free`.
pub struct vq_opq {
    _private: [u8; 0],
}

fn into_raw(q: OpqQuantizer) -> *mut vq_opq {
    Box::into_raw(Box::new(q)).cast()
}

/// # Safety
/// `p` is NULL (rejected) or a live handle from this library.
unsafe fn handle<'a>(p: *const vq_opq) -> Res<&'a OpqQuantizer> {
    nonnull("opq", p)?;
    // SAFETY: a live handle made by `into_raw` (caller's contract).
    Ok(unsafe { &*p.cast::<OpqQuantizer>() })
}

model_file::kind!(OpqQuantizer, vq_opq, Opq, "an OPQ quantizer");

/// Floats of rotated vectors kept on the stack: the library's own bound for its hot calls
/// (32 KiB, safe on any host thread's stack).
const STACK_FLOATS: usize = 8192;

/// Queries `vq_opq_search_with_table` rotates per pass with a `vq_opq_search_table_len`
/// table: the PQ's batch search scans 16 queries per pass over the codes.
const BATCH: usize = 16;

/// How `vq_opq_train` learns the rotation and trains its product quantizers: FAISS's
/// `OPQMatrix` settings, and the k-means of every PQ as `vq_pq_train` takes it. Start from
/// `vq_opq_params_default()` and change fields, so code keeps compiling when fields are
/// added.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct vq_opq_params {
    /// Seed of the training-row sample and of the random starting rotation. Default 1234.
    pub seed: u64,
    /// Output dimension of the rotation, the inner PQ's dimension: 0 (default) for `dim`,
    /// else at least `dim` (the rows are padded with zeros, as FAISS's
    /// `OPQMatrix(d, M, d2)`).
    pub d_out: usize,
    /// Outer iterations, each one rotation update; default 50 (FAISS). 0 keeps the random
    /// starting rotation.
    pub niter: u32,
    /// k-means iterations of the PQ in every outer iteration after the first, started from
    /// the previous codebooks; default 4.
    pub niter_pq: u32,
    /// k-means iterations of the PQ in the first outer iteration; default 40.
    pub niter_pq_0: u32,
    /// Training rows the rotation is learned on, at most (a seeded sample beyond); default
    /// 65536, at least `ksub`. The final PQ trains on every row (subject to
    /// `kmeans.max_points_per_centroid`).
    pub max_train_points: u32,
    /// k-means rows per centroid for the PQ inside the alternation; default 1000 (FAISS),
    /// at least 1.
    pub inner_points_per_centroid: u32,
    /// The k-means of every PQ (default `vq_train_params_default()`): the final PQ's as
    /// given; the alternation's with `iterations` replaced by `niter_pq_0` / `niter_pq` and
    /// `max_points_per_centroid` by `inner_points_per_centroid`. Its `threads` runs the
    /// whole training (0: all cores); the result is bit-identical for any value.
    pub kmeans: vq_train_params,
}

/// The default OPQ training parameters: FAISS's `OPQMatrix` defaults, as
/// `vq::OpqParams::new`, with the k-means of `vq_train_params_default()` (on all cores:
/// the result does not depend on it).
#[no_mangle]
pub extern "C" fn vq_opq_params_default() -> vq_opq_params {
    let p = OpqParams::new(1, 2);
    let count = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    vq_opq_params {
        seed: p.seed,
        d_out: 0,
        niter: count(p.niter),
        niter_pq: count(p.niter_pq),
        niter_pq_0: count(p.niter_pq_0),
        max_train_points: count(p.max_train_points),
        inner_points_per_centroid: count(p.inner_points_per_centroid),
        kmeans: crate::vq_train_params_default(),
    }
}

impl vq_opq_params {
    /// The library's parameters for `m` sub-quantizers of `ksub` centroids by `metric`.
    pub(crate) fn to_params(self, metric: vq::Metric, m: usize, ksub: usize) -> Res<OpqParams> {
        Ok(OpqParams {
            m,
            ksub,
            d_out: (self.d_out != 0).then_some(self.d_out),
            niter: self.niter as usize,
            niter_pq: self.niter_pq as usize,
            niter_pq_0: self.niter_pq_0 as usize,
            max_train_points: self.max_train_points as usize,
            inner_points_per_centroid: self.inner_points_per_centroid as usize,
            seed: self.seed,
            threads: self.kmeans.threads as usize,
            kmeans: self.kmeans.to_kmeans(ksub)?,
            metric,
        })
    }
}

/// Learns a rotation and trains a product quantizer of the rotated vectors on
/// `data_len / dim` rows of `dim` floats, searching by `metric` (`VQ_METRIC_L2`,
/// `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
/// `VQ_STATUS_INVALID_ARGUMENT`): Ge et al.'s alternation as FAISS's `OPQMatrix` runs it,
/// then a PQ trained anew on every row rotated. The rotation keeps distances, norms and
/// inner products, so the metric is the inner PQ's. A cosine quantizer trains on the rows
/// normalized to unit length and normalizes every vector it encodes.
///
/// `m` is 1..=`d_out`; `ksub` 2..=65536 (code sizes as `vq_pq_train`). `params` may be
/// NULL for `vq_opq_params_default()`. At least `ksub` rows, and `max_train_points >=
/// ksub`. Training costs about `niter` PQ trainings; the result does not depend on
/// `params->kmeans.threads`.
///
/// # Safety
/// `data` points to `data_len` floats; `params` is NULL or valid; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_train(
    metric: u32,
    dim: usize,
    m: usize,
    ksub: usize,
    data: *const f32,
    data_len: usize,
    params: *const vq_opq_params,
    out: *mut *mut vq_opq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let data = unsafe { input("data", data, data_len) }?;
        // SAFETY: NULL or valid (caller's contract).
        let p = if params.is_null() { vq_opq_params_default() } else { unsafe { *params } };
        let opq = OpqQuantizer::train(dim, data, &p.to_params(metric, m, ksub)?)?;
        // SAFETY: checked non-NULL above; valid by contract.
        unsafe { write_out("out", out, into_raw(opq)) }
    })
}

/// Builds an OPQ quantizer from a rotation `R` (`d_out × dim` floats, row-major, as
/// `vq_opq_rotation` gives it) and a product quantizer over `d_out` dimensions; both are
/// copied, so `pq` may be freed afterwards. The metric is the PQ's (`vq_pq_metric`).
///
/// `rotation_len` must be a multiple of `dim` with `d_out = rotation_len / dim >= dim`,
/// else `VQ_STATUS_BAD_LENGTH` or `VQ_STATUS_INVALID_ARGUMENT`; a PQ of another dimension
/// is `VQ_STATUS_BAD_LENGTH`; a NaN or infinity `VQ_STATUS_NON_FINITE`; columns that are
/// not orthonormal (an entry of `RᵀR − I` beyond 1e-3) `VQ_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `rotation` points to `rotation_len` floats; `pq` is a live `vq_pq` (owned or a view);
/// `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_from_parts(
    dim: usize,
    rotation: *const f32,
    rotation_len: usize,
    pq: *const vq_pq,
    out: *mut *mut vq_opq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        // SAFETY: caller's contract.
        let (r, p) = unsafe { (input("rotation", rotation, rotation_len)?, crate::pq::handle(pq)?) };
        let opq = OpqQuantizer::from_parts(dim, r.to_vec(), p.clone())?;
        // SAFETY: checked non-NULL above; valid by contract.
        unsafe { write_out("out", out, into_raw(opq)) }
    })
}

/// Frees a quantizer, and with it the view `vq_opq_pq` lent. NULL is a no-op. No other
/// call may use it afterwards, or during.
///
/// # Safety
/// `opq` is NULL or a handle from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_free(opq: *mut vq_opq) {
    guard_value((), || {
        if !opq.is_null() {
            // SAFETY: made by `into_raw`, freed once (caller's contract).
            drop(unsafe { Box::from_raw(opq.cast::<OpqQuantizer>()) });
        }
    })
}

/// Dimension of the vectors it encodes, before the rotation (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_dim(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, |h| h.dim()))
}

/// Output dimension of the rotation, the inner PQ's dimension, at least `vq_opq_dim`
/// (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_d_out(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, |h| h.d_out()))
}

/// Number of sub-quantizers (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_m(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, |h| h.pq().m()))
}

/// Centroids per sub-quantizer (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_ksub(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, |h| h.pq().ksub()))
}

/// The metric the quantizer searches by, its inner PQ's: `VQ_METRIC_L2`,
/// `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`, also after a save and load
/// (`UINT32_MAX` for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_metric(opq: *const vq_opq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(NO_METRIC, || unsafe { handle(opq) }.map_or(NO_METRIC, |h| h.metric().number()))
}

/// Bytes per code, the inner PQ's: `ceil(m/2)` for `ksub <= 16`, `m` for `ksub <= 256`,
/// else `2m` (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_code_size(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, |h| h.code_size()))
}

/// Read-only view of the rotation `R`, `d_out × dim` floats row-major (`R x` is what the
/// PQ encodes). `*out` stays valid until `vq_opq_free(opq)`; do not write through it.
///
/// # Safety
/// `opq` is a live handle; `out` and `out_len` are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_rotation(opq: *const vq_opq, out: *mut *const f32, out_len: *mut usize) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle(opq) }?;
        // SAFETY: caller's contract.
        unsafe { write_view(h.rotation(), out, out_len) }
    })
}

/// Read-only view of the inner PQ's centroids, in the rotated space: `[m][ksub][dsub_i]`
/// over `d_out` dimensions, `ksub·d_out` floats (as `vq_pq_centroids` of `vq_opq_pq`).
/// `*out` stays valid until `vq_opq_free(opq)`; do not write through it.
///
/// # Safety
/// `opq` is a live handle; `out` and `out_len` are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_centroids(opq: *const vq_opq, out: *mut *const f32, out_len: *mut usize) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle(opq) }?;
        // SAFETY: caller's contract.
        unsafe { write_view(h.pq().centroids(), out, out_len) }
    })
}

/// A borrowed view of the inner product quantizer (dimension `d_out`: the rotated space),
/// for every `vq_pq_*` call that takes a `const vq_pq *`: `vq_pq_adc_scan` with a table
/// from `vq_opq_distance_table` scores codes as `vq_opq_distances` does (see there);
/// `vq_pq_train_params` gives the final PQ's k-means setting; `vq_pq_encode`,
/// `vq_pq_search` and the rest take rotated vectors (`R x`), not `x`. Valid until
/// `vq_opq_free(opq)`. It is not owned: passing it to `vq_pq_free` is undefined behaviour,
/// as for any pointer the caller does not own. NULL for NULL.
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_pq(opq: *const vq_opq) -> *const vq_pq {
    // SAFETY: caller's contract.
    guard_value(std::ptr::null(), || unsafe { handle(opq) }.map_or(std::ptr::null(), pq_view))
}

fn pq_view(h: &OpqQuantizer) -> *const vq_pq {
    std::ptr::from_ref::<ProductQuantizer>(h.pq()).cast()
}

/// Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes): the PQ codes of
/// `R x`. A cosine quantizer encodes each rotated vector normalized (a zero vector stays
/// zero). The rotation runs in blocks on the stack when `d_out <= 8192` (see "Allocation"
/// at the top of `vq.h`).
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_encode(
    opq: *const vq_opq,
    vectors: *const f32,
    vectors_len: usize,
    codes: *mut u8,
    codes_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, v) = unsafe { (handle(opq)?, input("vectors", vectors, vectors_len)?) };
        // SAFETY: caller's contract.
        let c = unsafe { output("codes", codes, codes_len, &[("vectors", bytes_of(v))]) }?;
        Ok(h.encode(v, c)?)
    })
}

/// Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats) in the original
/// space: `Rᵀ` applied to the PQ's reconstruction (with `d_out > dim`, its projection back
/// onto the input dimensions). A sub-code at or above `ksub` is
/// `VQ_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_decode(
    opq: *const vq_opq,
    codes: *const u8,
    codes_len: usize,
    vectors: *mut f32,
    vectors_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, c) = unsafe { (handle(opq)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let v = unsafe { output("vectors", vectors, vectors_len, &[("codes", c)]) }?;
        Ok(h.decode(c, v)?)
    })
}

/// Runs `f` on `rows` rotated (`R` applied to each `dim`-wide row): on the stack when they
/// fit in [`STACK_FLOATS`], else in a buffer made for the call.
fn with_rotated<T>(h: &OpqQuantizer, rows: &[f32], f: impl FnOnce(&[f32]) -> T) -> Res<T> {
    let len = rows.len() / h.dim() * h.d_out();
    let mut heap;
    let mut stack;
    let buf: &mut [f32] = if len <= STACK_FLOATS {
        stack = [0f32; STACK_FLOATS];
        &mut stack[..len]
    } else {
        heap = vec![0f32; len];
        &mut heap
    };
    h.rotate(rows, buf)?;
    Ok(f(buf))
}

/// Writes the distance table of `query` (`dim` floats), `m·ksub` floats: the inner PQ's
/// table (`vq_pq_distance_table`) of the rotated query `R q`. Summed over a code's sub-codes
/// by `vq_pq_adc_scan` on `vq_opq_pq(opq)`, it gives the score `vq_opq_distances` gives,
/// bit for bit under L2 and inner product; under cosine the entries carry the factor
/// `1/‖q‖` that `vq_opq_distances` applies to each sum, so the two agree to the sum's
/// rounding. That pair is OPQ's ADC scan. The rotated query is on the stack when
/// `d_out <= 8192`, else allocated for the call.
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_distance_table(
    opq: *const vq_opq,
    query: *const f32,
    query_len: usize,
    table: *mut f32,
    table_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q) = unsafe { (handle(opq)?, input("query", query, query_len)?) };
        // SAFETY: caller's contract.
        let t = unsafe { output("table", table, table_len, &[("query", bytes_of(q))]) }?;
        if q.len() != h.dim() {
            return Err(Error::BufferLength { what: "query", got: q.len(), expected: h.dim() }.into());
        }
        Ok(with_rotated(h, q, |r| h.pq().distance_table(r, t))??)
    })
}

/// `out[i]` = the score of code `i` for `query` by the quantizer's metric: the inner PQ's
/// score (`vq_pq_distances`) of the rotated query `R q` against the code's reconstruction
/// `ŷ` in the rotated space. As `R` keeps inner products, that is `q·x̂` (inner product) or
/// `q·x̂/‖q‖` (cosine) for the decoded `x̂ = Rᵀŷ` (`vq_opq_decode`), up to rounding; for L2
/// it is `‖R q − ŷ‖²`, which is `‖q − x̂‖²` when `d_out = dim` and exceeds it by the part of
/// `ŷ` outside the range of `R` when `d_out > dim`. `codes_len = out_len·code_size`. Tables
/// as `vq_pq_distances`.
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_distances(
    opq: *const vq_opq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) = unsafe { (handle(opq)?, input("query", query, query_len)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("codes", c)]) }?;
        exact(codes_len, out_len, h.code_size())?;
        check_codes(h.pq(), c)?;
        Ok(h.distances(q, c, o)?)
    })
}

/// The checks of a search, in the library's order (`k`, whole query rows, `nq·k`, finite
/// queries, the result lengths, every query's rotation finite:
/// [`OpqQuantizer::check_rotations`]), made before `vq_opq_search_with_table` writes its
/// first block. Returns `nq`.
fn check_search(h: &OpqQuantizer, queries: &[f32], k: usize, results_len: (usize, usize)) -> Res<usize> {
    let dim = h.dim();
    if k == 0 {
        return Err(Error::OutOfRange { what: "k", got: "0".into(), accepted: ">= 1" }.into());
    }
    if !queries.len().is_multiple_of(dim) {
        return Err(Error::NotWholeRows { what: "queries", len: queries.len(), dim }.into());
    }
    let nq = queries.len() / dim;
    let want = nq.checked_mul(k).ok_or_else(|| Error::OutOfRange {
        what: "k",
        got: format!("{k} for {nq} queries (nq·k overflows)"),
        accepted: "nq·k within the address space",
    })?;
    if let Some(index) = queries.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: "queries", index }.into());
    }
    for (what, got) in [("distances", results_len.0), ("labels", results_len.1)] {
        if got != want {
            return Err(Error::BufferLength { what, got, expected: want }.into());
        }
    }
    h.check_rotations(queries)?;
    Ok(nq)
}

/// Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
/// quantizer's metric, scored as `vq_opq_distances`, ordered and padded as `vq_pq_search`:
/// squared L2 ascending with `(+INFINITY, -1)` past the codes; inner product or cosine
/// descending with `(-INFINITY, -1)`. `distances_len` and `labels_len` are `nq·k`. A
/// query holding a NaN or an infinity, or a finite one whose rotation overflows f32 (a norm
/// near `FLT_MAX`), is `VQ_STATUS_NON_FINITE`, and nothing is written. The queries are rotated in blocks on the stack when
/// `d_out <= 8192`; the tables are as `vq_pq_search`'s (see "Allocation" at the top of
/// `vq.h`); `vq_opq_search_with_table` takes both from the caller instead.
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_search(
    opq: *const vq_opq,
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
            unsafe { (handle(opq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        check_search(h, q, k, (d.len(), l.len()))?;
        check_codes(h.pq(), c)?;
        Ok(h.search(q, c, k, d, l)?)
    })
}

/// Floats of the scratch table with which `vq_opq_search_with_table` rotates 16 queries at
/// a time and scans them in batches: `16·d_out + vq_pq_search_table_len(vq_opq_pq(opq))`
/// (0 for NULL).
///
/// # Safety
/// `opq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_search_table_len(opq: *const vq_opq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(opq) }.map_or(0, search_table_len))
}

fn search_table_len(h: &OpqQuantizer) -> usize {
    BATCH.saturating_mul(h.d_out()).saturating_add(h.pq().search_table_len())
}

/// `vq_opq_search` with a caller-provided scratch table, which holds the rotated queries
/// and the PQ's tables: never allocates. The table holds `vq_opq_search_table_len(opq)`
/// floats (16 queries rotated and scanned per pass) or `d_out + m·ksub` floats (one query
/// at a time, slower for many queries); any other length is `VQ_STATUS_INVALID_ARGUMENT`.
/// Both give `vq_opq_search`'s results bit for bit. The table's contents on return are
/// unspecified.
///
/// # Safety
/// `opq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_search_with_table(
    opq: *const vq_opq,
    queries: *const f32,
    queries_len: usize,
    codes: *const u8,
    codes_len: usize,
    k: usize,
    table: *mut f32,
    table_len: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) =
            unsafe { (handle(opq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let t = unsafe { output("table", table, table_len, &ins) }?;
        let ins = [ins[0], ins[1], ("table", bytes_of(t))];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        let pq = h.pq();
        let one = h.d_out().saturating_add(pq.m() * pq.ksub());
        let (per, rotated_len) = if t.len() == search_table_len(h) {
            (BATCH, BATCH * h.d_out())
        } else if t.len() == one {
            (1, h.d_out())
        } else {
            return Err(Error::OutOfRange {
                what: "table_len",
                got: format!("{} (d_out + m·ksub = {one}, vq_opq_search_table_len = {})", t.len(), search_table_len(h)),
                accepted: "d_out + m·ksub or vq_opq_search_table_len(opq)",
            }
            .into());
        };
        if !codes_len.is_multiple_of(h.code_size()) {
            return Err(Error::NotWholeRows { what: "codes", len: codes_len, dim: h.code_size() }.into());
        }
        let (rotated, pq_table) = t.split_at_mut(rotated_len);
        check_search(h, q, k, (d.len(), l.len()))?;
        check_codes(pq, c)?;
        // Every check is done: the passes below cannot fail, so nothing is written unless
        // the whole search succeeds.
        // Saturating: `nq·k` fits (checked), `per·k` may not when nq < per; one chunk then.
        let (rows, results) = (per.saturating_mul(h.dim()), per.saturating_mul(k));
        let chunks = q.chunks(rows).zip(d.chunks_mut(results)).zip(l.chunks_mut(results));
        for ((qs, ds), ls) in chunks {
            let r = &mut rotated[..qs.len() / h.dim() * h.d_out()];
            h.rotate(qs, r)?;
            pq.search_with_table(pq_table, r, c, k, ds, ls)?;
        }
        Ok(())
    })
}

/// Saves the quantizer (rotation, inner PQ with its training record, metric) as a model
/// file of kind OPQ at `path` (a NUL-terminated path), written to a temporary file and
/// renamed into place.
///
/// # Safety
/// `opq` is a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_save(opq: *const vq_opq, path: *const c_char) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save::<OpqQuantizer>(opq, path) }
}

/// Loads an OPQ quantizer from the model file at `path`, with the metric it was saved with
/// (`vq_opq_metric`). The rotation is checked as `vq_opq_from_parts` checks it. Truncated
/// or corrupt input is `VQ_STATUS_FORMAT`, another format version
/// `VQ_STATUS_UNSUPPORTED_VERSION`, a product, scalar or RaBitQ quantizer's file
/// `VQ_STATUS_WRONG_KIND` (the message names the call that loads it).
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_load(path: *const c_char, out: *mut *mut vq_opq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load::<OpqQuantizer>(path, out) }
}

/// Bytes `vq_opq_save_buffer` writes.
///
/// # Safety
/// `opq` is a live handle; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_serialized_size(opq: *const vq_opq, out: *mut usize) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::serialized_size::<OpqQuantizer>(opq, out) }
}

/// Writes the model file into `buf` (`buf_len` bytes, at least `vq_opq_serialized_size`;
/// else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written) and its size into `*written`.
///
/// # Safety
/// `opq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_save_buffer(
    opq: *const vq_opq,
    buf: *mut u8,
    buf_len: usize,
    written: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save_buffer::<OpqQuantizer>(opq, buf, buf_len, written) }
}

/// Loads an OPQ quantizer, with its metric, from a model file in memory (`buf_len` bytes;
/// the buffer is not kept). Statuses as `vq_opq_load`.
///
/// # Safety
/// `buf` holds `buf_len` readable bytes; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_opq_load_buffer(buf: *const u8, buf_len: usize, out: *mut *mut vq_opq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load_buffer::<OpqQuantizer>(buf, buf_len, out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_params_are_the_library_s() {
        let p = vq_opq_params_default();
        let mut want = OpqParams::new(4, 256);
        want.threads = 0; // vq_train_params_default: all cores (the result is the same)
        assert_eq!(p.to_params(vq::Metric::L2, 4, 256).unwrap(), want);
        let q = vq_opq_params { d_out: 12, kmeans: vq_train_params { init: 9, ..p.kmeans }, ..p };
        let e = q.to_params(vq::Metric::L2, 4, 256).unwrap_err();
        assert!(e.message.contains("init = 9"), "{}", e.message);
        let q = vq_opq_params { d_out: 12, kmeans: vq_train_params { threads: 3, ..p.kmeans }, ..p };
        let o = q.to_params(vq::Metric::Cosine, 4, 16).unwrap();
        assert_eq!((o.d_out, o.threads, o.kmeans.threads, o.metric), (Some(12), 3, 3, vq::Metric::Cosine));
    }
}
