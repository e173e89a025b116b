//! The product quantizer handle, `vq_pq`.

use crate::metric::{metric_arg, NO_METRIC, VQ_METRIC_L2};
use crate::model_file;
use crate::status::{bytes_of, guard, guard_value, input, nonnull, output, results, write_out, Failure, Res};
use crate::{vq_status, vq_train_params};
use std::ffi::c_char;
use vq::{PqParams, ProductQuantizer, Quantizer};

/// A trained product quantizer: `m` sub-quantizers of `ksub` centroids over `dim`
/// dimensions. Immutable; share it across threads freely. Free with `vq_pq_free`.
pub struct vq_pq {
    _private: [u8; 0],
}

fn into_raw(pq: ProductQuantizer) -> *mut vq_pq {
    Box::into_raw(Box::new(pq)).cast()
}

/// # Safety
/// `p` is NULL (rejected) or a live handle from this library.
pub(crate) unsafe fn handle<'a>(p: *const vq_pq) -> Res<&'a ProductQuantizer> {
    nonnull("pq", p)?;
    // SAFETY: a live handle made by `into_raw` (caller's contract).
    Ok(unsafe { &*p.cast::<ProductQuantizer>() })
}

model_file::kind!(ProductQuantizer, vq_pq, Pq, "a product quantizer");

/// Codes from a C caller may hold sub-codes at or above `ksub` (when `ksub` is not 16, 256
/// or 65536, the values a code layout holds exactly); the scan would stop on them with a
/// bounds-check panic, so they are rejected first. A no-op for the full layouts.
pub(crate) fn check_codes(pq: &ProductQuantizer, codes: &[u8]) -> Res {
    pq.check_codes(codes).map_err(Failure::from)
}

/// Trains a product quantizer on `data_len / dim` rows of `dim` floats, searching by
/// squared L2 (`vq_pq_train_metric` with `VQ_METRIC_L2`).
///
/// `m` is 1..=`dim` (sub-spaces may be uneven: the first `dim % m` get one more dimension);
/// `ksub` is 2..=65536 (codes take 4 bits per sub-quantizer up to 16, 8 bits up to 256, 16
/// bits above). `params` may be NULL for `vq_train_params_default()`. At least `ksub` rows.
///
/// # Safety
/// `data` points to `data_len` floats; `params` is NULL or valid; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_train(
    dim: usize,
    m: usize,
    ksub: usize,
    data: *const f32,
    data_len: usize,
    params: *const vq_train_params,
    out: *mut *mut vq_pq,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { vq_pq_train_metric(VQ_METRIC_L2, dim, m, ksub, data, data_len, params, out) }
}

/// `vq_pq_train` for a quantizer that searches by `metric` (`VQ_METRIC_L2`,
/// `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
/// `VQ_STATUS_INVALID_ARGUMENT`). A cosine quantizer trains on the rows normalized to unit
/// length (a zero row stays zero) and normalizes every vector it encodes. The metric is
/// kept in model files: loading one gives it back.
///
/// # Safety
/// As `vq_pq_train`.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_train_metric(
    metric: u32,
    dim: usize,
    m: usize,
    ksub: usize,
    data: *const f32,
    data_len: usize,
    params: *const vq_train_params,
    out: *mut *mut vq_pq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let data = unsafe { input("data", data, data_len) }?;
        // SAFETY: NULL or valid (caller's contract).
        let p = if params.is_null() { crate::vq_train_params_default() } else { unsafe { *params } };
        let kmeans = p.to_kmeans(ksub)?;
        let pq = ProductQuantizer::train(dim, data, &PqParams { m, ksub, kmeans, metric })?;
        // SAFETY: checked non-NULL above; valid by contract.
        unsafe { write_out("out", out, into_raw(pq)) }
    })
}

/// Builds a product quantizer from known centroids laid out `[m][ksub][dsub_i]`
/// (`ksub·dim` floats; FAISS's `ProductQuantizer::centroids` when `m` divides `dim`),
/// searching by squared L2 (`vq_pq_from_centroids_metric` with `VQ_METRIC_L2`).
///
/// # Safety
/// `centroids` points to `centroids_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_from_centroids(
    dim: usize,
    m: usize,
    ksub: usize,
    centroids: *const f32,
    centroids_len: usize,
    out: *mut *mut vq_pq,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { vq_pq_from_centroids_metric(VQ_METRIC_L2, dim, m, ksub, centroids, centroids_len, out) }
}

/// `vq_pq_from_centroids` for a quantizer that searches by `metric` (statuses as
/// `vq_pq_train_metric`). A cosine quantizer normalizes what it encodes, so its centroids
/// should be those of unit vectors (as `vq_pq_train_metric` makes them).
///
/// # Safety
/// As `vq_pq_from_centroids`.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_from_centroids_metric(
    metric: u32,
    dim: usize,
    m: usize,
    ksub: usize,
    centroids: *const f32,
    centroids_len: usize,
    out: *mut *mut vq_pq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let c = unsafe { input("centroids", centroids, centroids_len) }?;
        let pq = ProductQuantizer::from_centroids(dim, m, ksub, c.to_vec())?.with_metric(metric);
        // SAFETY: as in vq_pq_train_metric.
        unsafe { write_out("out", out, into_raw(pq)) }
    })
}

/// Frees a quantizer. NULL is a no-op. No other call may use it afterwards, or during.
///
/// # Safety
/// `pq` is NULL or a handle the caller owns (from `vq_pq_train*`, `vq_pq_from_centroids*`
/// or `vq_pq_load*`), not yet freed. A borrowed view such as `vq_opq_pq`'s is not one:
/// freeing it is undefined behaviour, as for any pointer the caller does not own.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_free(pq: *mut vq_pq) {
    guard_value((), || {
        if !pq.is_null() {
            // SAFETY: made by `into_raw`, freed once (caller's contract).
            drop(unsafe { Box::from_raw(pq.cast::<ProductQuantizer>()) });
        }
    })
}

/// Dimension of the vectors (0 for NULL).
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_dim(pq: *const vq_pq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(pq) }.map_or(0, |h| h.dim()))
}

/// Number of sub-quantizers (0 for NULL).
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_m(pq: *const vq_pq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(pq) }.map_or(0, |h| h.m()))
}

/// Centroids per sub-quantizer (0 for NULL).
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_ksub(pq: *const vq_pq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(pq) }.map_or(0, |h| h.ksub()))
}

/// The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
/// `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_metric(pq: *const vq_pq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(NO_METRIC, || unsafe { handle(pq) }.map_or(NO_METRIC, |h| h.metric().number()))
}

/// Bytes per code: `ceil(m/2)` for `ksub <= 16`, `m` for `ksub <= 256`, else `2m`
/// (0 for NULL).
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_code_size(pq: *const vq_pq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(pq) }.map_or(0, |h| h.code_size()))
}

/// Read-only view of the centroids, `[m][ksub][dsub_i]`, `ksub·dim` floats. `*out` stays
/// valid until `vq_pq_free(pq)`; do not write through it.
///
/// # Safety
/// `pq` is a live handle; `out` and `out_len` are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_centroids(pq: *const vq_pq, out: *mut *const f32, out_len: *mut usize) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle(pq) }?;
        nonnull("out", out.cast_const())?;
        nonnull("out_len", out_len.cast_const())?;
        let c = h.centroids();
        // SAFETY: both checked non-NULL; valid by contract.
        unsafe {
            write_out("out", out, c.as_ptr())?;
            write_out("out_len", out_len, c.len())
        }
    })
}

/// The k-means setting the quantizer was trained with (`threads` reads 0: it does not change
/// the result), also after a save and load. `VQ_STATUS_INVALID_ARGUMENT` for a quantizer
/// built by `vq_pq_from_centroids`, which has none.
///
/// # Safety
/// `pq` is a live handle; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_train_params(pq: *const vq_pq, out: *mut vq_train_params) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let h = unsafe { handle(pq) }?;
        let t = h.training().ok_or_else(|| {
            Failure::new(vq_status::InvalidArgument, "this quantizer has no training record (built from centroids)")
        })?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, vq_train_params::from_kmeans(t)) }
    })
}

/// Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes). A cosine
/// quantizer encodes each vector normalized to unit length (a zero vector stays zero),
/// through a buffer of at most 8192 floats on the stack, or one row when `dim > 8192` (see
/// "Allocation" at the top of `vq.h`).
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_encode(
    pq: *const vq_pq,
    vectors: *const f32,
    vectors_len: usize,
    codes: *mut u8,
    codes_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, v) = unsafe { (handle(pq)?, input("vectors", vectors, vectors_len)?) };
        // SAFETY: caller's contract.
        let c = unsafe { output("codes", codes, codes_len, &[("vectors", bytes_of(v))]) }?;
        Ok(h.encode(v, c)?)
    })
}

/// Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats). A sub-code at or
/// above `ksub` is `VQ_STATUS_INVALID_ARGUMENT`.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_decode(
    pq: *const vq_pq,
    codes: *const u8,
    codes_len: usize,
    vectors: *mut f32,
    vectors_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, c) = unsafe { (handle(pq)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let v = unsafe { output("vectors", vectors, vectors_len, &[("codes", c)]) }?;
        Ok(h.decode(c, v)?)
    })
}

/// Writes the distance table of `query` (`dim` floats), `m·ksub` floats: `table[i·ksub + c]`
/// is, by the quantizer's metric, the squared L2 distance from the query's sub-vector `i`
/// to centroid `c`, their inner product, or for cosine that inner product times `1/‖q‖`.
/// Summed over a code's sub-codes (`vq_pq_adc_scan`) it gives the code's score.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_distance_table(
    pq: *const vq_pq,
    query: *const f32,
    query_len: usize,
    table: *mut f32,
    table_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q) = unsafe { (handle(pq)?, input("query", query, query_len)?) };
        // SAFETY: caller's contract.
        let t = unsafe { output("table", table, table_len, &[("query", bytes_of(q))]) }?;
        Ok(h.distance_table(q, t)?)
    })
}

/// ADC scan: `out[i]` = the sum of the `m` table entries code `i` selects; with a table
/// from `vq_pq_distance_table`, the score `vq_pq_distances` gives code `i` (under cosine to
/// the sum's rounding: the table's entries carry the `1/‖q‖` that `vq_pq_distances` applies
/// to each sum). `codes_len` must be
/// `out_len·code_size`. Codes are checked for sub-codes at or above `ksub` only when `ksub`
/// is not 16, 256 or 65536 (then every byte pattern is a valid code, and the scan runs
/// unchecked at the library's speed).
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_adc_scan(
    pq: *const vq_pq,
    table: *const f32,
    table_len: usize,
    codes: *const u8,
    codes_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, t, c) = unsafe { (handle(pq)?, input("table", table, table_len)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("table", bytes_of(t)), ("codes", c)]) }?;
        exact(codes_len, out_len, h.code_size())?;
        check_codes(h, c)?;
        Ok(h.adc_scan(t, c, o)?)
    })
}

/// `out[i]` = the score of code `i` for `query` (table, then scan) by the quantizer's metric,
/// against the code's reconstruction `x̂`: `‖q − x̂‖²` (L2), `q·x̂` (inner product) or
/// `q·x̂/‖q‖` (cosine; `x̂` reconstructs a unit vector). The
/// table (`m·ksub` floats) is on the stack or in a per-thread buffer, allocated per call
/// only when `m·ksub > 262144` (see "Allocation" at the top of `vq.h`).
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_distances(
    pq: *const vq_pq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, q, c) = unsafe { (handle(pq)?, input("query", query, query_len)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("codes", c)]) }?;
        exact(codes_len, out_len, h.code_size())?;
        check_codes(h, c)?;
        Ok(h.distances(q, c, o)?)
    })
}

/// `codes_len` must be `n` codes of `code_size` bytes (the product checked).
pub(crate) fn exact(codes_len: usize, n: usize, code_size: usize) -> Res {
    match n.checked_mul(code_size) {
        Some(want) if want == codes_len => Ok(()),
        _ => {
            Err(vq::Error::BufferLength { what: "codes", got: codes_len, expected: n.saturating_mul(code_size) }.into())
        }
    }
}

/// Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
/// quantizer's metric, scored as `vq_pq_distances`: per query, `k` scores best first and
/// their code ids (0-based), ties to the lower id. L2: squared distances ascending,
/// `(+INFINITY, -1)` where there are fewer than `k` codes. Inner product and cosine: inner
/// products or cosine similarities (not negated) descending, `(-INFINITY, -1)` past the
/// codes.
/// `distances_len` and `labels_len` are `nq·k`. The tables are on the stack or in a
/// per-thread buffer, allocated per call only when `m·ksub > 262144` (see "Allocation" at
/// the top of `vq.h`); `vq_pq_search_with_table` takes them from the caller instead.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search(
    pq: *const vq_pq,
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
            unsafe { (handle(pq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        check_codes(h, c)?;
        Ok(h.search(q, c, k, d, l)?)
    })
}

/// Floats of the scratch table with which `vq_pq_search_with_table` scans queries in
/// batches (up to 16 per pass over the codes, the fast path for two or more queries) and
/// scans one query of 8-bit codes of 256 centroids with its table quantized and looked up
/// in registers (the fast path for one query); 0 for NULL. When the codebook is too large
/// for batches (`m·ksub > 16383`): `m·ksub`, plus `m·128 + 8` for 8-bit codes of 256
/// centroids.
///
/// # Safety
/// `pq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_table_len(pq: *const vq_pq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(pq) }.map_or(0, |h| h.search_table_len()))
}

/// `vq_pq_search` with a caller-provided scratch table: never allocates, whatever the
/// codebook size. The table holds `vq_pq_search_table_len(pq)` floats (the fast paths) or
/// `m·ksub` floats (one query at a time with plain loads, slower); both give the same
/// results. The table's contents on return are unspecified.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_with_table(
    pq: *const vq_pq,
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
            unsafe { (handle(pq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let t = unsafe { output("table", table, table_len, &ins) }?;
        let ins = [ins[0], ins[1], ("table", bytes_of(t))];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        check_codes(h, c)?;
        Ok(h.search_with_table(t, q, c, k, d, l)?)
    })
}

/// Saves the quantizer (its training record and metric too) as a model file at `path` (a
/// NUL-terminated path), written to a temporary file and renamed into place.
///
/// # Safety
/// `pq` is a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_save(pq: *const vq_pq, path: *const c_char) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save::<ProductQuantizer>(pq, path) }
}

/// Loads a product quantizer from the model file at `path`, with the metric it was saved
/// with (`vq_pq_metric`; a file without one is L2). Truncated or corrupt input is
/// `VQ_STATUS_FORMAT`, another format version `VQ_STATUS_UNSUPPORTED_VERSION`, a scalar,
/// OPQ or RaBitQ quantizer's file `VQ_STATUS_WRONG_KIND` (the message names the call that
/// loads it).
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_load(path: *const c_char, out: *mut *mut vq_pq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load::<ProductQuantizer>(path, out) }
}

/// Bytes `vq_pq_save_buffer` writes.
///
/// # Safety
/// `pq` is a live handle; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_serialized_size(pq: *const vq_pq, out: *mut usize) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::serialized_size::<ProductQuantizer>(pq, out) }
}

/// Writes the model file into `buf` (`buf_len` bytes, at least `vq_pq_serialized_size`;
/// else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written) and its size into `*written`.
///
/// # Safety
/// `pq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_save_buffer(
    pq: *const vq_pq,
    buf: *mut u8,
    buf_len: usize,
    written: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save_buffer::<ProductQuantizer>(pq, buf, buf_len, written) }
}

/// Loads a product quantizer, with its metric, from a model file in memory (`buf_len`
/// bytes; the buffer is not kept).
///
/// # Safety
/// `buf` holds `buf_len` readable bytes; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_load_buffer(buf: *const u8, buf_len: usize, out: *mut *mut vq_pq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load_buffer::<ProductQuantizer>(buf, buf_len, out) }
}
