//! Nearest centroid by brute force over a transposed codebook: the PQ encoder's kernel, and
//! the k-means coarse assignment's scan of one centroid list.
//!
//! Centroids are stored transposed (`dim` rows, one column per centroid, columns padded to
//! a multiple of [`KPAD`] with +∞), so lanes are centroids: per dimension and vector one
//! broadcast, then a subtraction and an FMA per register, and no horizontal sums, which
//! matters at the small dimensions of PQ sub-spaces (a row-by-row distance spends more on
//! its final reduction than on the arithmetic at `dsub` = 8 or 16).

use crate::kernels::lanes::lane_indices;
use pulp::Simd;

/// Columns of a transposed codebook are padded to a multiple of this: four registers of the
/// widest level (4 × 16 lanes), so every level's passes divide it.
pub(crate) const KPAD: usize = 64;

/// Writes the `rows.len() / dim` rows of `rows` as columns of `out`: dimension `j` of row
/// `c` goes to `out[j·stride + c]` (`stride` ≥ the row count; columns past it are left as
/// they were). The layout of this kernel's codebooks, and of the k-means product's operands.
pub(crate) fn transpose_into(rows: &[f32], dim: usize, out: &mut [f32], stride: usize) {
    for (c, row) in rows.chunks_exact(dim).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j * stride + c] = v;
        }
    }
}

/// The nearest of `cols` centroid columns (a multiple of [`KPAD`]) to each of `V` vectors,
/// and its squared distance, ties to the lower column. Column `c` of dimension `j` is at
/// `ct[j·stride + c]`. Four registers of centroids per pass; each centroid's sum runs over
/// the dimensions in order, the same on every level up to FMA rounding.
#[inline(always)]
pub(crate) fn nearest_transposed<S: Simd, const V: usize>(
    simd: S,
    x: [&[f32]; V],
    ct: &[f32],
    stride: usize,
    cols: usize,
) -> ([usize; V], [f32; V]) {
    let lanes = S::F32_LANES;
    let pass = 4 * lanes;
    let ds = x[0].len();
    let zero = simd.splat_f32s(0.0);
    // Lane i of `iota` is i; register r of a pass covers columns c0 + r·lanes + i.
    let iota = lane_indices(simd);
    // Per vector and lane, the smallest distance and its first column (a strict `<` keeps
    // the earliest): one compare and two selects per register instead of a scalar scan.
    let mut mv = [simd.splat_f32s(f32::INFINITY); V];
    let mut mi = [simd.splat_u32s(0); V];
    for c0 in (0..cols).step_by(pass) {
        let mut acc = [[zero; 4]; V];
        for j in 0..ds {
            let r = S::as_simd_f32s(&ct[j * stride + c0..j * stride + c0 + pass]).0;
            for (av, xv) in acc.iter_mut().zip(x) {
                let xj = simd.splat_f32s(xv[j]);
                for (a, &rv) in av.iter_mut().zip(r) {
                    let t = simd.sub_f32s(xj, rv);
                    *a = simd.mul_add_e_f32s(t, t, *a);
                }
            }
        }
        for ((av, bv), bi) in acc.iter().zip(mv.iter_mut()).zip(mi.iter_mut()) {
            for (r, &a) in av.iter().enumerate() {
                let idx = simd.add_u32s(iota, simd.splat_u32s((c0 + r * lanes) as u32));
                let lt = simd.less_than_f32s(a, *bv);
                *bv = simd.select_f32s(lt, a, *bv);
                *bi = simd.select_u32s(lt, idx, *bi);
            }
        }
    }
    // Then the smallest over lanes, lowest column on ties: the first minimum overall.
    let mut arg = [0usize; V];
    let mut best = [f32::INFINITY; V];
    for v in 0..V {
        let vals: &[f32] = bytemuck::cast_slice(core::slice::from_ref(&mv[v]));
        let ids: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&mi[v]));
        for (&d, &i) in vals.iter().zip(ids) {
            if d < best[v] || (d == best[v] && (i as usize) < arg[v]) {
                (best[v], arg[v]) = (d, i as usize);
            }
        }
    }
    (arg, best)
}
