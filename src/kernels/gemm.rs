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

/// An operand of [`gemm`]: a row-major buffer read as itself or transposed.
#[derive(Clone, Copy)]
pub(crate) struct Mat<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Mat<'a> {
    /// `data` as rows of `width` floats.
    pub(crate) fn rows(data: &'a [f32], width: usize) -> Self {
        Mat { data, row_stride: width, col_stride: 1 }
    }

    /// The transpose of `data` read as rows of `width` floats: its rows are the columns.
    pub(crate) fn cols(data: &'a [f32], width: usize) -> Self {
        Mat { data, row_stride: 1, col_stride: width }
    }

    /// Whether element `(rows − 1, cols − 1)`, the farthest, lies inside the buffer.
    fn holds(&self, rows: usize, cols: usize) -> bool {
        rows == 0 || cols == 0 || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// `c = a · b` (`a` is `m × k`, `b` is `k × n`, `c` row-major `m × n`) through
/// `matrixmultiply`'s SGEMM, whose sums run in an order fixed by its blocking, so the same
/// inputs give the same bits on any thread.
pub(crate) fn gemm(m: usize, k: usize, n: usize, a: Mat<'_>, b: Mat<'_>, c: &mut [f32]) {
    assert!(a.holds(m, k) && b.holds(k, n) && c.len() == m * n, "gemm: shapes disagree");
    // SAFETY: every element `(i, j)` of `a` (`i < m`, `j < k`) is at `i·rs + j·cs`, at most
    // the farthest one's offset, which `holds` checked is inside `a.data`; likewise `b`;
    // `c` is `m × n` row-major and exclusively borrowed; all three outlive the call.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemm_matches_the_naive_product_in_every_layout() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i % 11) as f32 - 5.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i % 7) as f32 * 0.5).collect();
        let mut c = vec![0f32; m * n];
        gemm(m, k, n, Mat::rows(&a, k), Mat::rows(&b, n), &mut c);
        for i in 0..m {
            for j in 0..n {
                let want: f32 = (0..k).map(|t| a[i * k + t] * b[t * n + j]).sum();
                assert_eq!(c[i * n + j], want);
            }
        }
        // Transposed views: (aᵀ)ᵀ read through `cols` of a k × m buffer.
        let mut at = vec![0f32; m * k];
        crate::kernels::nearest::transpose_into(&a, k, &mut at, m);
        let mut c2 = vec![0f32; m * n];
        gemm(m, k, n, Mat::cols(&at, m), Mat::rows(&b, n), &mut c2);
        assert_eq!(c, c2);
    }
}
