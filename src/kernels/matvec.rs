//! One matrix times many vectors (`out_i = M x_i`): a rotation applied to queries and
//! codes' reconstructions on the hot path (OPQ), where the rows come a few at a time and a
//! GEMM's packing would cost more than the product. Each entry is one dispatched dot
//! product, so a row's result has the same bits whatever block it was computed in.

use crate::kernels::l2::{pair_body, Product};
use crate::simd::Isa;
use pulp::{Simd, WithSimd};

/// Rows multiplied per block: each matrix row is loaded once per block and reused by its
/// rows, the block itself stays in L1 (16 × 384 floats are 24 KiB), and a block of products
/// fits the callers' stack buffers for heights up to 512.
pub(crate) const BLOCK: usize = 16;

/// `out_i = M x_i` for every row `x_i` (`width` floats) of `x`, `M` being `matrix` read as
/// rows of `width` (`out` holds `matrix.len() / width` floats per row). Dispatched once.
pub(crate) fn apply(isa: Isa, matrix: &[f32], width: usize, x: &[f32], out: &mut [f32]) {
    isa.dispatch(Apply { matrix, width, x, out });
}

struct Apply<'a> {
    matrix: &'a [f32],
    width: usize,
    x: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for Apply<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Apply { matrix, width, x, out } = self;
        let height = matrix.len() / width;
        // Blocks of rows against each matrix row in turn: the matrix streams once per
        // block instead of once per row.
        for (xb, ob) in x.chunks(BLOCK * width).zip(out.chunks_mut(BLOCK * height)) {
            for (o, mrow) in matrix.chunks_exact(width).enumerate() {
                for (xr, or) in xb.chunks_exact(width).zip(ob.chunks_exact_mut(height)) {
                    or[o] = pair_body::<S, Product>(simd, mrow, xr);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available, with_level};

    /// At every level the CPU has, on odd shapes and unaligned slices, against an f64
    /// oracle; a row's result is the same bits alone as inside any block.
    #[test]
    fn apply_is_a_matrix_vector_product_at_every_level_and_block() {
        for &(h, w) in &[(6, 5), (1, 1), (17, 33), (40, 7)] {
            let mat: Vec<f32> = (0..h * w + 1).map(|i| ((i * 37) % 19) as f32 * 0.25 - 2.0).collect();
            let x: Vec<f32> = (0..37 * w + 3).map(|i| ((i * 11) % 13) as f32 * 0.5 - 3.0).collect();
            // Offsets of one float: neither slice starts on a vector boundary.
            let (mat, x) = (&mat[1..], &x[3..]);
            for &level in available() {
                with_level(level, || {
                    let isa = Isa::current();
                    let mut out = vec![0f32; 37 * h];
                    apply(isa, mat, w, x, &mut out);
                    for (r, xr) in x.chunks_exact(w).enumerate() {
                        let mut one = vec![0f32; h];
                        apply(isa, mat, w, xr, &mut one);
                        assert_eq!(&out[r * h..(r + 1) * h], &one[..], "{level:?} row {r}");
                        for (o, got) in one.iter().enumerate() {
                            let row = &mat[o * w..(o + 1) * w];
                            let want: f64 = row.iter().zip(xr).map(|(&a, &b)| a as f64 * b as f64).sum();
                            let scale: f64 = row.iter().zip(xr).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
                            assert!((*got as f64 - want).abs() <= 1e-6 * scale.max(1.0), "{level:?} {got} vs {want}");
                        }
                    }
                })
                .unwrap();
            }
        }
    }
}
