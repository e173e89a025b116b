//! Hartigan's refinement: after Lloyd, single rows move between clusters whenever the move
//! lowers the objective.
//!
//! Lloyd's algorithm stops where every row is nearest its own centroid, which is not a
//! minimum over single moves. Taking row `x` out of cluster `a` (`n_a` rows) lowers the
//! objective by `n_a/(n_a−1)·‖x − c_a‖²`, because the mean steps away from `x`; putting it
//! into `b` raises it by only `n_b/(n_b+1)·‖x − c_b‖²`, because that mean steps towards `x`.
//! The move pays whenever the second is smaller, even though `c_a` is the nearest centroid.
//! This is the rule of Hartigan & Wong (1979), R's default `kmeans`; Telgarsky & Vattani
//! (2010) show its fixed points are a subset of Lloyd's. With few rows per centroid the two
//! factors are far from 1 and the gain is large: on the original tool's demo data (about 40
//! rows per centroid) one pass lowers a converged Lloyd objective by about 0.8%, four by 2%
//! (2026-11, `docs/PERFORMANCE.md`).
//!
//! A pass visits the rows in order, in blocks of a fixed number of rows. One matrix product
//! per block gives its rows' distances to the centroids as they stood when the block began.
//! From those, with the current cluster sizes, each row picks its best target `b`. Both of
//! its distances are then recomputed in f64 against the exact means (sums kept in f64), and
//! the move is made only if these figures lower the objective. So every move lowers the
//! objective, and the result does not depend on the thread count: the block size is fixed,
//! and the product, the only parallel step, computes every score alike however it is split.

use super::{products, Rows, ROW_BLOCK};
use crate::kernels::hartigan::{add_factor, partition_objective, set_mean, Sweep};
use crate::kernels::kmeans::sum_rows;
use crate::parallel;
use crate::simd::Isa;

/// The score matrix of one block holds at most this many floats (16 MiB), so the block
/// shrinks for large codebooks; at most `4·ROW_BLOCK` rows, so staleness stays small.
const BLOCK_FLOATS: usize = 1 << 22;

/// Codebooks over this many centroids have their block products split by columns, so
/// that blocks of a piece of rows or less still spread over the threads.
const COL_SPLIT: usize = 4096;

/// Runs up to `passes` passes over the partition `labels` (the nearest-centroid labels of
/// the last Lloyd step, `centroids` their means), stopping early when a pass moves no row
/// or improves the objective by at most `tol` relative (by nothing, if `tol = 0`). Leaves `centroids`
/// the means of the refined partition and pushes each pass's objective onto `objectives`.
#[allow(clippy::too_many_arguments)]
pub(super) fn refine(
    isa: Isa,
    x: &[f32],
    rows: Rows<'_>,
    x_norms: &[f32],
    dim: usize,
    centroids: &mut [f32],
    labels: &mut [u32],
    passes: usize,
    tol: f64,
    parallel: bool,
    objectives: &mut Vec<f64>,
) {
    let k = centroids.len() / dim;
    let n = labels.len();
    let mut sums = vec![0f64; k * dim];
    let mut counts = vec![0usize; k];
    sum_rows(isa, x, dim, labels, &mut sums, &mut counts);
    for (j, c) in centroids.chunks_exact_mut(dim).enumerate() {
        set_mean(c, &sums[j * dim..(j + 1) * dim], counts[j]);
    }
    let mut factors: Vec<f32> = counts.iter().map(|&c| add_factor(c)).collect();
    let mut ct = vec![0f32; dim * k];
    crate::kernels::nearest::transpose_into(centroids, dim, &mut ct, k);
    let mut c_norms: Vec<f32> = centroids.chunks_exact(dim).map(|c| c.iter().map(|v| v * v).sum()).collect();
    let mut dirty = vec![false; k];
    let mut dirty_list = Vec::new();
    let block_rows = (BLOCK_FLOATS / k).clamp(1, 4 * ROW_BLOCK);
    let mut scores = vec![0f32; block_rows.min(n) * k];
    let mut prev = partition_objective(isa, x, dim, centroids, labels);
    for _ in 0..passes {
        let mut moves = 0usize;
        for r0 in (0..n).step_by(block_rows) {
            let r1 = (r0 + block_rows).min(n);
            // The centroids moved since the last product, in its operand and norms.
            for &j in &dirty_list {
                let c = &centroids[j * dim..(j + 1) * dim];
                for (t, &v) in c.iter().enumerate() {
                    ct[t * k + j] = v;
                }
                c_norms[j] = c.iter().map(|v| v * v).sum();
                dirty[j] = false;
            }
            dirty_list.clear();
            let scores = &mut scores[..(r1 - r0) * k];
            block_products(rows, n, dim, r0, &ct, k, scores, parallel);
            moves += isa.dispatch(Sweep {
                x: &x[r0 * dim..r1 * dim],
                x_norms: &x_norms[r0..r1],
                dim,
                scores,
                c_norms: &c_norms,
                labels: &mut labels[r0..r1],
                sums: &mut sums,
                counts: &mut counts,
                factors: &mut factors,
                centroids,
                dirty: &mut dirty,
                dirty_list: &mut dirty_list,
            });
        }
        let obj = partition_objective(isa, x, dim, centroids, labels);
        objectives.push(obj);
        // With tol = 0, a pass that gains nothing ends the refinement too.
        if moves == 0 || prev - obj <= tol * prev {
            break;
        }
        prev = obj;
    }
}

/// `scores[i·k + c] = −2·x_{r0+i}·c` for the block's rows, over the current rayon pool when
/// `parallel`: in [`ROW_BLOCK`] pieces of rows, or, for codebooks over [`COL_SPLIT`]
/// centroids (whose blocks are a piece or less), in ranges of `COL_SPLIT` columns, each into
/// its own buffer. The split depends on `k` only, and splitting changes no bit.
#[allow(clippy::too_many_arguments)]
fn block_products(
    rows: Rows<'_>,
    n: usize,
    dim: usize,
    r0: usize,
    ct: &[f32],
    k: usize,
    scores: &mut [f32],
    parallel: bool,
) {
    let nrows = scores.len() / k;
    if k <= COL_SPLIT {
        let pieces = scores.chunks_mut(ROW_BLOCK * k).enumerate().collect();
        parallel::map(parallel, pieces, |(p, s)| products(rows, n, dim, r0 + p * ROW_BLOCK, ct, k, 0..k, s));
        return;
    }
    let parts = parallel::map(parallel, (0..k).step_by(COL_SPLIT).collect(), |c0| {
        let cols = c0..(c0 + COL_SPLIT).min(k);
        let mut buf = vec![0f32; nrows * cols.len()];
        products(rows, n, dim, r0, ct, k, cols.clone(), &mut buf);
        (cols, buf)
    });
    for (cols, buf) in parts {
        for (row, part) in scores.chunks_exact_mut(k).zip(buf.chunks_exact(cols.len())) {
            row[cols.clone()].copy_from_slice(part);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::Level;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n * dim).map(|_| rng.random::<f32>() * 2.0 - 1.0).collect()
    }

    fn means(x: &[f32], dim: usize, k: usize, labels: &[u32]) -> (Vec<f64>, Vec<usize>) {
        let (mut c, mut cnt) = (vec![0f64; k * dim], vec![0usize; k]);
        for (r, &l) in x.chunks_exact(dim).zip(labels) {
            cnt[l as usize] += 1;
            for (s, &v) in c[l as usize * dim..][..dim].iter_mut().zip(r) {
                *s += v as f64;
            }
        }
        for (j, &n) in cnt.iter().enumerate() {
            for s in &mut c[j * dim..(j + 1) * dim] {
                *s /= n.max(1) as f64;
            }
        }
        (c, cnt)
    }

    fn d2(a: &[f32], b: &[f64]) -> f64 {
        a.iter().zip(b).map(|(&x, &y)| (x as f64 - y) * (x as f64 - y)).sum()
    }

    /// Runs `refine` at the current SIMD level from `labels`, returning the objectives.
    fn run(x: &[f32], dim: usize, k: usize, labels: &mut [u32], passes: usize, parallel: bool) -> (Vec<f32>, Vec<f64>) {
        let (c, _) = means(x, dim, k, labels);
        let mut centroids: Vec<f32> = c.iter().map(|&v| v as f32).collect();
        let x_norms: Vec<f32> = x.chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect();
        let mut objectives = Vec::new();
        refine(
            Isa::current(),
            x,
            Rows::RowMajor(x),
            &x_norms,
            dim,
            &mut centroids,
            labels,
            passes,
            0.0,
            parallel,
            &mut objectives,
        );
        (centroids, objectives)
    }

    #[test]
    fn converges_to_a_partition_no_single_move_improves_on_every_level() {
        // Odd dimension and cluster count; two blocks of rows (2048 and 453), so the second
        // block's product sees the centroids the first one moved.
        let (n, dim, k) = (2501, 7, 13);
        let x = data(n, dim, 3);
        let start: Vec<u32> = (0..n as u32).map(|i| i % k as u32).collect();
        let (c0, _) = means(&x, dim, k, &start);
        let obj0: f64 = x.chunks_exact(dim).zip(&start).map(|(r, &l)| d2(r, &c0[l as usize * dim..][..dim])).sum();
        for &level in crate::simd::available() {
            let mut labels = start.clone();
            let (centroids, objectives) =
                crate::simd::with_level(level, || run(&x, dim, k, &mut labels, 200, false)).unwrap();
            assert!(objectives.len() < 200, "{level:?}: no convergence in 200 passes");
            // Every pass lowered the objective, and it is the refined partition's.
            let mut prev = obj0;
            for &o in &objectives[..objectives.len() - 1] {
                assert!(o < prev, "{level:?}: {objectives:?} from {obj0}");
                prev = o;
            }
            let (c, cnt) = means(&x, dim, k, &labels);
            let obj: f64 = x.chunks_exact(dim).zip(&labels).map(|(r, &l)| d2(r, &c[l as usize * dim..][..dim])).sum();
            assert!((obj - objectives[objectives.len() - 1]).abs() <= 1e-4 * obj, "{level:?}");
            assert!(obj < 0.9 * obj0, "{level:?}: {obj} from {obj0}");
            // The centroids are the partition's means.
            for (a, b) in centroids.iter().zip(&c) {
                assert!((*a as f64 - b).abs() <= 1e-5, "{level:?}: {a} vs {b}");
            }
            // No single move lowers the objective (up to the rounding margin).
            for (r, &a) in x.chunks_exact(dim).zip(&labels) {
                let a = a as usize;
                if cnt[a] <= 1 {
                    continue;
                }
                let remove = cnt[a] as f64 / (cnt[a] - 1) as f64 * d2(r, &c[a * dim..][..dim]);
                for b in (0..k).filter(|&b| b != a) {
                    let add = cnt[b] as f64 / (cnt[b] + 1) as f64 * d2(r, &c[b * dim..][..dim]);
                    assert!(add >= remove * (1.0 - 1e-4), "{level:?}: a move {a} -> {b} still pays");
                }
            }
        }
    }

    /// The sweep's choices are element-wise f32 operations and f64 checks, so every level
    /// makes the same moves: the scalar level is the oracle, at row counts around each
    /// level's register width and cluster counts that leave a register's tail.
    #[test]
    fn every_level_makes_the_moves_of_the_scalar_level() {
        for n in [7, 15, 17, 20, 31, 33, 100] {
            for (dim, k) in [(1, 2), (3, 5), (4, 17), (5, 33)] {
                let k = k.min(n);
                let x = data(n, dim, (n * 31 + k) as u64);
                let start: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 3) % k as u32).collect();
                let mut want = start.clone();
                crate::simd::with_level(Level::Scalar, || run(&x, dim, k, &mut want, 5, false)).unwrap();
                for &level in crate::simd::available() {
                    let mut labels = start.clone();
                    crate::simd::with_level(level, || run(&x, dim, k, &mut labels, 5, false)).unwrap();
                    assert_eq!(labels, want, "{level:?} n {n} dim {dim} k {k}");
                }
            }
        }
    }

    #[test]
    fn fills_empty_clusters_and_leaves_singletons() {
        let (n, dim, k) = (40, 3, 5);
        let x = data(n, dim, 8);
        // Cluster 4 empty, cluster 3 a single row.
        let mut labels: Vec<u32> = (0..n as u32).map(|i| if i == 0 { 3 } else { i % 3 }).collect();
        let (_, objectives) = run(&x, dim, k, &mut labels, 1, false);
        assert_eq!(objectives.len(), 1);
        assert!(labels.contains(&4), "the empty cluster took a row");
        assert!(labels.contains(&3), "the singleton kept its row");
        // One cluster: nothing to move.
        let mut one = vec![0u32; n];
        let (_, objectives) = run(&x, dim, 1, &mut one, 3, false);
        assert_eq!(objectives.len(), 1);
        assert!(one.iter().all(|&l| l == 0));
    }

    /// Tight clusters far from the origin: with the moves judged on f32 centroids, a move
    /// and its reverse both looked profitable and the passes never ended (found in review).
    #[test]
    fn tight_clusters_far_from_the_origin_converge() {
        let mut rng = StdRng::seed_from_u64(3);
        for (offset, spread) in [(1.0f32, 1e-4f32), (1000.0, 1e-3), (1e4, 1e-2)] {
            let (n, dim, k) = (600, 2, 30);
            let x: Vec<f32> = (0..n * dim).map(|_| offset + spread * (2.0 * rng.random::<f32>() - 1.0)).collect();
            let mut labels: Vec<u32> = (0..n as u32).map(|i| i % k as u32).collect();
            let (c0, _) = means(&x, dim, k, &labels);
            let obj0: f64 = x.chunks_exact(dim).zip(&labels).map(|(r, &l)| d2(r, &c0[l as usize * dim..][..dim])).sum();
            let (_, objectives) = run(&x, dim, k, &mut labels, 100_000, false);
            assert!(objectives.len() < 200, "offset {offset}: {} passes", objectives.len());
            // The true (f64) objective of the final partition is below the start's.
            let (c, _) = means(&x, dim, k, &labels);
            let obj: f64 = x.chunks_exact(dim).zip(&labels).map(|(r, &l)| d2(r, &c[l as usize * dim..][..dim])).sum();
            assert!(obj < obj0, "offset {offset}: {obj} from {obj0}");
        }
    }

    /// Codebooks over `COL_SPLIT` centroids have their products split by columns, on one
    /// thread or several: the same bits as one product over all of them.
    #[test]
    fn column_split_products_match_one_product() {
        let (n, dim, k) = (300, 5, COL_SPLIT + 905);
        let x = data(n, dim, 12);
        let c = data(k, dim, 13);
        let mut ct = vec![0f32; dim * k];
        crate::kernels::nearest::transpose_into(&c, dim, &mut ct, k);
        let mut want = vec![0f32; 200 * k];
        products(Rows::RowMajor(&x), n, dim, 50, &ct, k, 0..k, &mut want);
        for parallel in [false, true] {
            let mut got = vec![0f32; 200 * k];
            block_products(Rows::RowMajor(&x), n, dim, 50, &ct, k, &mut got, parallel);
            assert!(got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()), "parallel = {parallel}");
        }
    }
}
