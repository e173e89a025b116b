//! The distance kernels: squared L2 and inner product, pairwise and one query against many
//! contiguous rows, at the process's SIMD level.

use crate::status::{bytes_of, guard, input, output, write_out};
use crate::vq_status;
use vq::{kernels, Error};

/// A pairwise export: checks the two inputs, runs `kernel`, writes `*out`.
///
/// # Safety
/// As the exports' contracts.
unsafe fn pair(
    a: *const f32,
    a_len: usize,
    b: *const f32,
    b_len: usize,
    out: *mut f32,
    kernel: fn(&[f32], &[f32]) -> Result<f32, Error>,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (a, b) = unsafe { (input("a", a, a_len)?, input("b", b, b_len)?) };
        let d = kernel(a, b)?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, d) }
    })
}

/// `kernels::l2sq_batch` or `kernels::dot_batch`.
type BatchKernel = fn(&[f32], &[f32], &mut [f32]) -> Result<(), Error>;

/// A one-query-against-rows export: checks the buffers (the output overlapping neither
/// input), runs `kernel`.
///
/// # Safety
/// As the exports' contracts.
unsafe fn batch(
    query: *const f32,
    query_len: usize,
    rows: *const f32,
    rows_len: usize,
    out: *mut f32,
    out_len: usize,
    kernel: BatchKernel,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (q, r) = unsafe { (input("query", query, query_len)?, input("rows", rows, rows_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("query", bytes_of(q)), ("rows", bytes_of(r))]) }?;
        Ok(kernel(q, r, o)?)
    })
}

/// `*out = ‖a − b‖²` over `a_len` dimensions (`b_len` must equal `a_len`).
///
/// # Safety
/// `a` and `b` hold `a_len` and `b_len` floats; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_l2sq(a: *const f32, a_len: usize, b: *const f32, b_len: usize, out: *mut f32) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { pair(a, a_len, b, b_len, out, kernels::l2sq) }
}

/// `*out = a · b` over `a_len` dimensions (`b_len` must equal `a_len`).
///
/// # Safety
/// As `vq_l2sq`.
#[no_mangle]
pub unsafe extern "C" fn vq_dot(a: *const f32, a_len: usize, b: *const f32, b_len: usize, out: *mut f32) -> vq_status {
    // SAFETY: caller's contract.
    unsafe { pair(a, a_len, b, b_len, out, kernels::dot) }
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
    // SAFETY: caller's contract.
    unsafe { batch(query, query_len, rows, rows_len, out, out_len, kernels::l2sq_batch) }
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
    // SAFETY: caller's contract.
    unsafe { batch(query, query_len, rows, rows_len, out, out_len, kernels::dot_batch) }
}
