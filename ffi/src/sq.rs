//! The scalar quantizer handle, `vq_sq`.

use crate::metric::{metric_arg, NO_METRIC, VQ_METRIC_L2};
use crate::model_file;
use crate::status::{bytes_of, guard, guard_value, input, nonnull, output, results, write_out, Res};
use crate::vq_status;
use std::ffi::c_char;
use vq::{Quantizer, ScalarQuantizer, SqBits};

/// A trained scalar quantizer: per-dimension ranges, 4, 8 or 16 bits per dimension.
/// Immutable; share it across threads freely. Free with `vq_sq_free`.
pub struct vq_sq {
    _private: [u8; 0],
}

fn into_raw(sq: ScalarQuantizer) -> *mut vq_sq {
    Box::into_raw(Box::new(sq)).cast()
}

/// # Safety
/// `p` is NULL (rejected) or a live handle from this library.
unsafe fn handle<'a>(p: *const vq_sq) -> Res<&'a ScalarQuantizer> {
    nonnull("sq", p)?;
    // SAFETY: a live handle made by `into_raw` (caller's contract).
    Ok(unsafe { &*p.cast::<ScalarQuantizer>() })
}

model_file::kind!(ScalarQuantizer, vq_sq, Sq, "a scalar quantizer");

/// Trains a scalar quantizer of `bits` (4, 8 or 16) bits per dimension on `data_len / dim`
/// rows of `dim` floats: each dimension's range is its minimum and maximum. It searches by
/// squared L2 (`vq_sq_train_metric` with `VQ_METRIC_L2`).
///
/// # Safety
/// `data` points to `data_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_train(
    bits: u32,
    dim: usize,
    data: *const f32,
    data_len: usize,
    out: *mut *mut vq_sq,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { vq_sq_train_metric(VQ_METRIC_L2, bits, dim, data, data_len, out) }
}

/// `vq_sq_train` for a quantizer that searches by `metric` (`VQ_METRIC_L2`,
/// `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
/// `VQ_STATUS_INVALID_ARGUMENT`). A cosine quantizer takes its ranges from the rows
/// normalized to unit length (a zero row stays zero) and normalizes every vector it
/// encodes. The metric is kept in model files: loading one gives it back.
///
/// # Safety
/// As `vq_sq_train`.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_train_metric(
    metric: u32,
    bits: u32,
    dim: usize,
    data: *const f32,
    data_len: usize,
    out: *mut *mut vq_sq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        let bits = SqBits::from_bits(bits)?;
        // SAFETY: caller's contract.
        let data = unsafe { input("data", data, data_len) }?;
        let sq = ScalarQuantizer::train_for(metric, bits, dim, data)?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, into_raw(sq)) }
    })
}

/// Builds a scalar quantizer from known per-dimension ranges (`dim` floats each,
/// `vmin[i] <= vmax[i]`, finite), searching by squared L2 (`vq_sq_from_ranges_metric` with
/// `VQ_METRIC_L2`).
///
/// # Safety
/// `vmin`/`vmax` hold `vmin_len`/`vmax_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_from_ranges(
    bits: u32,
    vmin: *const f32,
    vmin_len: usize,
    vmax: *const f32,
    vmax_len: usize,
    out: *mut *mut vq_sq,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { vq_sq_from_ranges_metric(VQ_METRIC_L2, bits, vmin, vmin_len, vmax, vmax_len, out) }
}

/// `vq_sq_from_ranges` for a quantizer that searches by `metric` (statuses as
/// `vq_sq_train_metric`). A cosine quantizer normalizes what it encodes, so its ranges
/// should be those of unit vectors (within -1..=1, as `vq_sq_train_metric` makes them).
///
/// # Safety
/// As `vq_sq_from_ranges`.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_from_ranges_metric(
    metric: u32,
    bits: u32,
    vmin: *const f32,
    vmin_len: usize,
    vmax: *const f32,
    vmax_len: usize,
    out: *mut *mut vq_sq,
) -> vq_status {
    guard(|| {
        nonnull("out", out.cast_const())?;
        let metric = metric_arg(metric)?;
        let bits = SqBits::from_bits(bits)?;
        // SAFETY: caller's contract.
        let (lo, hi) = unsafe { (input("vmin", vmin, vmin_len)?, input("vmax", vmax, vmax_len)?) };
        let sq = ScalarQuantizer::from_ranges(bits, lo.to_vec(), hi.to_vec())?.with_metric(metric);
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, into_raw(sq)) }
    })
}

/// Frees a quantizer. NULL is a no-op.
///
/// # Safety
/// `sq` is NULL or a handle from this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_free(sq: *mut vq_sq) {
    guard_value((), || {
        if !sq.is_null() {
            // SAFETY: made by `into_raw`, freed once (caller's contract).
            drop(unsafe { Box::from_raw(sq.cast::<ScalarQuantizer>()) });
        }
    })
}

/// Dimension (0 for NULL).
///
/// # Safety
/// `sq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_dim(sq: *const vq_sq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(sq) }.map_or(0, |s| s.dim()))
}

/// Bits per dimension: 4, 8 or 16 (0 for NULL).
///
/// # Safety
/// `sq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_bits(sq: *const vq_sq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(sq) }.map_or(0, |s| s.bits().bits()))
}

/// The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
/// `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
///
/// # Safety
/// `sq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_metric(sq: *const vq_sq) -> u32 {
    // SAFETY: caller's contract.
    guard_value(NO_METRIC, || unsafe { handle(sq) }.map_or(NO_METRIC, |s| s.metric().number()))
}

/// Bytes per code: `ceil(dim/2)`, `dim` or `2·dim` for 4, 8, 16 bits (0 for NULL).
///
/// # Safety
/// `sq` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_code_size(sq: *const vq_sq) -> usize {
    // SAFETY: caller's contract.
    guard_value(0, || unsafe { handle(sq) }.map_or(0, |s| s.code_size()))
}

/// Read-only views of the trained ranges, `dim` floats each, valid until `vq_sq_free(sq)`.
///
/// # Safety
/// `sq` is a live handle; the out-parameters are valid for writes.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_ranges(
    sq: *const vq_sq,
    vmin: *mut *const f32,
    vmax: *mut *const f32,
    dim: *mut usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let s = unsafe { handle(sq) }?;
        nonnull("vmin", vmin.cast_const())?;
        nonnull("vmax", vmax.cast_const())?;
        nonnull("dim", dim.cast_const())?;
        // SAFETY: all three checked non-NULL; valid by contract.
        unsafe {
            write_out("vmin", vmin, s.vmin().as_ptr())?;
            write_out("vmax", vmax, s.vmax().as_ptr())?;
            write_out("dim", dim, s.dim())
        }
    })
}

/// Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes). Values outside
/// the trained range are clamped. A cosine quantizer encodes each vector normalized, as
/// `vq_pq_encode`.
///
/// # Safety
/// `sq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_encode(
    sq: *const vq_sq,
    vectors: *const f32,
    vectors_len: usize,
    codes: *mut u8,
    codes_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, v) = unsafe { (handle(sq)?, input("vectors", vectors, vectors_len)?) };
        // SAFETY: caller's contract.
        let c = unsafe { output("codes", codes, codes_len, &[("vectors", bytes_of(v))]) }?;
        Ok(s.encode(v, c)?)
    })
}

/// Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats). Every byte
/// pattern is a valid code.
///
/// # Safety
/// `sq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_decode(
    sq: *const vq_sq,
    codes: *const u8,
    codes_len: usize,
    vectors: *mut f32,
    vectors_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, c) = unsafe { (handle(sq)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let v = unsafe { output("vectors", vectors, vectors_len, &[("codes", c)]) }?;
        Ok(s.decode(c, v)?)
    })
}

/// `out[i]` = the score of code `i` for `query` (`dim` floats) by the quantizer's metric,
/// against the code's reconstruction `x̂`: `‖q − x̂‖²` (L2), `q·x̂` (inner product) or
/// `q·x̂/‖q‖` (cosine; `x̂` reconstructs a unit vector); `codes_len = out_len·code_size`.
///
/// # Safety
/// `sq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_distances(
    sq: *const vq_sq,
    query: *const f32,
    query_len: usize,
    codes: *const u8,
    codes_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, q, c) = unsafe { (handle(sq)?, input("query", query, query_len)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("codes", c)]) }?;
        Ok(s.distances(q, c, o)?)
    })
}

/// Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes, scored
/// as `vq_sq_distances`, ordered and padded as `vq_pq_search`: squared L2 ascending with
/// `(+INFINITY, -1)` past the codes; inner product or cosine descending with
/// `(-INFINITY, -1)`.
///
/// # Safety
/// `sq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_search(
    sq: *const vq_sq,
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
        let (s, q, c) =
            unsafe { (handle(sq)?, input("queries", queries, queries_len)?, input("codes", codes, codes_len)?) };
        let ins = [("queries", bytes_of(q)), ("codes", c)];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        Ok(s.search(q, c, k, d, l)?)
    })
}

/// Saves the quantizer (with its metric) as a model file at `path` (temporary file, then rename).
///
/// # Safety
/// `sq` is a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_save(sq: *const vq_sq, path: *const c_char) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save::<ScalarQuantizer>(sq, path) }
}

/// Loads a scalar quantizer, with its metric (`vq_sq_metric`), from the model file at
/// `path` (statuses as `vq_pq_load`).
///
/// # Safety
/// `path` is a NUL-terminated string; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_load(path: *const c_char, out: *mut *mut vq_sq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load::<ScalarQuantizer>(path, out) }
}

/// Bytes `vq_sq_save_buffer` writes.
///
/// # Safety
/// `sq` is a live handle; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_serialized_size(sq: *const vq_sq, out: *mut usize) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::serialized_size::<ScalarQuantizer>(sq, out) }
}

/// Writes the model file into `buf` (at least `vq_sq_serialized_size` bytes, else
/// `VQ_STATUS_BUFFER_TOO_SMALL`) and its size into `*written`.
///
/// # Safety
/// `sq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_save_buffer(
    sq: *const vq_sq,
    buf: *mut u8,
    buf_len: usize,
    written: *mut usize,
) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::save_buffer::<ScalarQuantizer>(sq, buf, buf_len, written) }
}

/// Loads a scalar quantizer, with its metric, from a model file in memory.
///
/// # Safety
/// `buf` holds `buf_len` readable bytes; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_sq_load_buffer(buf: *const u8, buf_len: usize, out: *mut *mut vq_sq) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { model_file::load_buffer::<ScalarQuantizer>(buf, buf_len, out) }
}
