//! Sub-linear assignment for codebooks with many centroids (16-bit PQ: 65,536 per
//! sub-space).
//!
//! Exact assignment costs `n·k·dim` per iteration. At k = 65,536, dim = 16 and 100,000 rows
//! that is 105 G multiply-adds per sub-space and iteration, about 5.5 s here, so a 16-bit
//! codebook with 8 sub-quantizers takes some 18 minutes to train. The coarse assignment
//! groups the centroids under `kc = ⌈√k⌉` coarse centres (a k-means of the centroids
//! themselves, warm-started from the previous iteration's centres) and compares each row
//! with the centroids of its `nprobe` nearest groups only: `n·(kc + nprobe·k/kc)·dim`, a
//! fifteenth of the exact cost at k = 65,536 and nprobe = 16.
//!
//! It is approximate: a row whose nearest centroid lies in a group it did not probe gets
//! the nearest centroid of the groups it did probe. Like the exact path it is deterministic
//! and independent of the thread count: the index is built on one thread, and each row's
//! result depends on that row and the index alone.

use super::{assign, update, Rows, ROW_BLOCK};
use crate::kernels::kmeans::{coarse_block, Groups};
use crate::kernels::nearest::KPAD;
use crate::simd::Isa;

/// The centroids grouped under coarse centres, each group stored transposed (the layout of
/// `nearest_transposed`) as its own contiguous block: one matrix of all groups would put
/// a group's rows a multiple of 4 KiB apart, and the scan of a group then thrashes one L1
/// set (measured 20 times slower).
pub(super) struct CoarseIndex {
    dim: usize,
    /// `kc × dim`.
    pub(super) centres: Vec<f32>,
    /// Group `g` is columns `start[g]..start[g + 1]` (a multiple of `KPAD` each, +∞
    /// padding), stored as a `dim × (start[g + 1] − start[g])` block at `ct[start[g]·dim..]`.
    ct: Vec<f32>,
    /// `kc + 1` column offsets.
    start: Vec<usize>,
    /// Original centroid index of every column (`u32::MAX` on padding), ascending in a group.
    ids: Vec<u32>,
}

impl CoarseIndex {
    /// Groups `centroids` (`k × dim`) under `⌈√k⌉` centres. `prev` (the last iteration's
    /// centres) warm-starts them with one Lloyd step; without it, every `(k/kc)`-th centroid
    /// starts them and four steps follow.
    pub(super) fn build(isa: Isa, dim: usize, centroids: &[f32], prev: Option<Vec<f32>>) -> CoarseIndex {
        let k = centroids.len() / dim;
        let kc = ((k as f64).sqrt().ceil() as usize).clamp(1, k);
        let (mut centres, steps) = match prev {
            Some(c) if c.len() == kc * dim => (c, 1),
            _ => ((0..kc).flat_map(|g| &centroids[g * k / kc * dim..(g * k / kc + 1) * dim]).copied().collect(), 4),
        };
        let (mut labels, mut best) = (vec![0u32; k], vec![0f32; k]);
        for _ in 0..steps {
            assign(isa, Rows::RowMajor(centroids), dim, &centres, false, &mut labels, &mut best);
            update(isa, centroids, dim, kc, &labels, &mut centres);
        }
        assign(isa, Rows::RowMajor(centroids), dim, &centres, false, &mut labels, &mut best);
        let mut counts = vec![0usize; kc];
        for &l in &labels {
            counts[l as usize] += 1;
        }
        let mut start = Vec::with_capacity(kc + 1);
        let mut width = 0;
        for &c in &counts {
            start.push(width);
            width += c.next_multiple_of(KPAD);
        }
        start.push(width);
        let mut ct = vec![f32::INFINITY; dim * width];
        let mut ids = vec![u32::MAX; width];
        let mut next = start[..kc].to_vec();
        // Centroids in index order, so each group's ids ascend: ties go to the lower index.
        for (c, (&l, row)) in labels.iter().zip(centroids.chunks_exact(dim)).enumerate() {
            let g = l as usize;
            let (col, gw) = (next[g], start[g + 1] - start[g]);
            next[g] += 1;
            ids[col] = c as u32;
            let block = &mut ct[start[g] * dim..start[g + 1] * dim];
            for (j, &v) in row.iter().enumerate() {
                block[j * gw + col - start[g]] = v;
            }
        }
        CoarseIndex { dim, centres, ct, start, ids }
    }
}

/// The nearest centroid among the `nprobe` nearest groups of every row of `x` (`n × dim`,
/// row-major): `labels[i]`, and `best[i] = ‖x_i − c‖² − ‖x_i‖²` as the exact path reports it.
#[allow(clippy::too_many_arguments)]
pub(super) fn assign_coarse(
    isa: Isa,
    index: &CoarseIndex,
    x: &[f32],
    nprobe: usize,
    x_norms: &[f32],
    parallel: bool,
    labels: &mut [u32],
    best: &mut [f32],
) {
    let dim = index.dim;
    let run = |r0: usize, lb: &mut [u32], bb: &mut [f32]| {
        let rows = &x[r0 * dim..(r0 + lb.len()) * dim];
        let norms = &x_norms[r0..r0 + lb.len()];
        let groups = Groups { dim, centres: &index.centres, ct: &index.ct, start: &index.start, ids: &index.ids };
        coarse_block(isa, &groups, rows, nprobe, norms, lb, bb);
    };
    let chunks = labels.chunks_mut(ROW_BLOCK).zip(best.chunks_mut(ROW_BLOCK)).enumerate().collect();
    crate::parallel::map(parallel, chunks, |(b, (lb, bb))| run(b * ROW_BLOCK, lb, bb));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available, with_level};

    /// With every group probed the coarse assignment is exact: on small-integer data every
    /// distance is exact in f32, so the labels equal a plain scan's, ties to the lower index,
    /// at every level and at row counts around each level's register width.
    #[test]
    fn probing_every_group_is_exact_at_every_level() {
        let ints = |len: usize, seed: usize| -> Vec<f32> {
            (0..len).map(|i| (((i + seed) * 2_654_435_761) % 9) as f32 - 4.0).collect()
        };
        for (k, dim) in [(5, 3), (17, 2), (70, 5)] {
            let centroids = ints(k * dim, k);
            let kc = ((k as f64).sqrt().ceil()) as usize;
            for n in [1, 7, 15, 17, 20, 31, 33] {
                let x = ints(n * dim, n + 1);
                let norms: Vec<f32> = x.chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect();
                let want: Vec<(u32, f32)> = x
                    .chunks_exact(dim)
                    .zip(&norms)
                    .map(|(r, &xn)| {
                        let mut best = (u32::MAX, f32::INFINITY);
                        for (c, cv) in centroids.chunks_exact(dim).enumerate() {
                            let d: f32 = r.iter().zip(cv).map(|(a, b)| (a - b) * (a - b)).sum();
                            if d < best.1 {
                                best = (c as u32, d);
                            }
                        }
                        (best.0, best.1 - xn)
                    })
                    .collect();
                for &level in available() {
                    let (mut labels, mut best) = (vec![0u32; n], vec![0f32; n]);
                    with_level(level, || {
                        let isa = Isa::current();
                        let index = CoarseIndex::build(isa, dim, &centroids, None);
                        assign_coarse(isa, &index, &x, kc, &norms, false, &mut labels, &mut best);
                    })
                    .unwrap();
                    let got: Vec<(u32, f32)> = labels.into_iter().zip(best).collect();
                    assert_eq!(got, want, "{level:?} k {k} dim {dim} n {n}");
                }
            }
        }
    }
}
