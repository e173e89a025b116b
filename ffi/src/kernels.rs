//! The distance kernels: squared L2 and inner product, pairwise and one query against many
//! contiguous rows, at the process's SIMD level.

use crate::status::{bytes_of, guard, input, output, write_out};
use crate::vq_status;
use vq_core::kernels;

/// `*out = ‖a − b‖²` over `a_len` dimensions (`b_len` must equal `a_len`).
///
/// # Safety
/// `a` and `b` hold `a_len` and `b_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_l2sq(a: *const f32, a_len: usize, b: *const f32, b_len: usize, out: *mut f32) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (a, b) = unsafe { (input("a", a, a_len)?, input("b", b, b_len)?) };
        let d = kernels::l2sq(a, b)?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, d) }
    })
}

/// `*out = a · b` over `a_len` dimensions (`b_len` must equal `a_len`).
///
/// # Safety
/// As `vq_l2sq`.
#[no_mangle]
pub unsafe extern "C" fn vq_dot(a: *const f32, a_len: usize, b: *const f32, b_len: usize, out: *mut f32) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (a, b) = unsafe { (input("a", a, a_len)?, input("b", b, b_len)?) };
        let d = kernels::dot(a, b)?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, d) }
    })
}

/// `out[i] = ‖query − row_i‖²` for the `out_len` rows of `query_len` floats in `rows`
/// (`rows_len = out_len·query_len`).
///
/// # Safety
/// The buffers hold the given number of floats.
#[no_mangle]
pub unsafe extern "C" fn vq_l2sq_batch(
    query: *const f32,
    query_len: usize,
    rows: *const f32,
    rows_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (q, r) = unsafe { (input("query", query, query_len)?, input("rows", rows, rows_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("rows", bytes_of(r))]) }?;
        Ok(kernels::l2sq_batch(q, r, o)?)
    })
}

/// `out[i] = query · row_i`, as `vq_l2sq_batch`.
///
/// # Safety
/// The buffers hold the given number of floats.
#[no_mangle]
pub unsafe extern "C" fn vq_dot_batch(
    query: *const f32,
    query_len: usize,
    rows: *const f32,
    rows_len: usize,
    out: *mut f32,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (q, r) = unsafe { (input("query", query, query_len)?, input("rows", rows, rows_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("rows", bytes_of(r))]) }?;
        Ok(kernels::dot_batch(q, r, o)?)
    })
}
