//! The matrix product behind k-means assignment, through `matrixmultiply`'s SGEMM (a small
//! pure-Rust crate with its own AVX-512/AVX2/NEON kernels, dispatched on its own CPU
//! detection, not on [`crate::simd`]'s level). Exact search has a product of its own with
//! the bound fused in (`kernels/exact.rs`), as it needs every product only once.
//!
//! `‖x − c‖² = ‖x‖² + ‖c‖² − 2 x·c` turns every-row-against-every-column distances into one
//! product, which runs at several times the speed of one dot product per pair: each
//! loaded value feeds a register tile of products instead of one. Each product is summed
//! in an order fixed by the crate's blocking (not by how the caller splits rows or
//! columns), so splitting a product changes no bit. `matrixmultiply` allocates its packing
//! buffers on every call.

/// The left operand of [`products`], in either layout (both give the same bits: packing
/// only moves data).
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// `n × dim`, row after row.
    RowMajor(&'a [f32]),
    /// `dim × n`: dimension `j` of row `i` at `j·n + i`.
    ColMajor(&'a [f32]),
}

/// `scores[i·w + j] = −2·x_{r0+i}·c_{cols.start+j}` (`w = cols.len()`) for the
/// `scores.len() / w` rows from `r0` of the `n` rows `x`, `ct` being the `k` centroids as a
/// `dim × k` row-major matrix. Each product is computed alike whatever the range, so
/// splitting the rows or columns changes no bit.
#[allow(clippy::too_many_arguments)]
pub(crate) fn products(
    x: Rows<'_>,
    n: usize,
    dim: usize,
    r0: usize,
    ct: &[f32],
    k: usize,
    cols: std::ops::Range<usize>,
    scores: &mut [f32],
) {
    let w = cols.len();
    let rows = scores.len() / w.max(1);
    let (data, row_stride, col_stride) = match x {
        Rows::RowMajor(d) => (d, dim, 1),
        Rows::ColMajor(d) => (d, 1, n),
    };
    assert!(
        data.len() == n * dim && r0 + rows <= n && ct.len() == dim * k && cols.end <= k && scores.len() == rows * w,
        "products: shapes disagree"
    );
    // SAFETY: row `r0 + i`, dimension `j` of `data` is at `(r0 + i)·row_stride +
    // j·col_stride`, inside `data` for every `i < rows ≤ n − r0` and `j < dim` (checked
    // above); column `cols.start + c` of row `j` of `ct` is at `j·k + cols.start + c`, inside
    // `ct` for `c < w`, `j < dim` as `cols.end ≤ k`; `scores` is `rows × w` row-major; all
    // three are live for the call and `scores` is unaliased.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            dim,
            w,
            -2.0,
            data.as_ptr().add(r0 * row_stride),
            row_stride as isize,
            col_stride as isize,
            ct.as_ptr().add(cols.start),
            k as isize,
            1,
            0.0,
            scores.as_mut_ptr(),
            w as isize,
            1,
        );
    }
}
