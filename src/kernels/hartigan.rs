//! The kernels of Hartigan's refinement (see `kmeans::hartigan` for the method): the sweep
//! that picks, checks and makes single-row moves over one block of rows, the cost argmin
//! that picks each row's target, and the objective of a partition.

use crate::kernels::kmeans::argmin_registers;
use crate::kernels::l2::{pair_body, SqDiff};
use crate::kernels::lanes::lane_indices;
use crate::simd::Isa;
use pulp::{Simd, WithSimd};

/// A move must gain at least this fraction of the row's removal cost. The two costs are
/// computed in f64 against the f64 means: with f32 centroids, rounding moved distances of
/// tight clusters far from the origin by more than the gain, a move and its reverse both
/// looked profitable and passes cycled. What remains is f64 rounding, far below this.
pub(crate) const MIN_GAIN: f64 = 1e-7;

/// `‖x − sum/count‖²` in f64 (`count > 0`): the exact figures a move is decided on.
#[inline(always)]
pub(crate) fn to_mean(x: &[f32], sum: &[f64], count: usize) -> f64 {
    let inv = 1.0 / count as f64;
    x.iter().zip(sum).map(|(&v, &s)| (v as f64 - s * inv) * (v as f64 - s * inv)).sum()
}

/// `n/(n+1)`: what a row costs per unit of squared distance when it joins a cluster of `n`
/// rows (0 for an empty one: its first row becomes its centroid).
pub(crate) fn add_factor(n: usize) -> f32 {
    n as f32 / (n as f32 + 1.0)
}

/// Sets `c` to `sum/count` (left as it is for an empty cluster).
pub(crate) fn set_mean(c: &mut [f32], sum: &[f64], count: usize) {
    if count > 0 {
        for (cv, &s) in c.iter_mut().zip(sum) {
            *cv = (s / count as f64) as f32;
        }
    }
}

/// Sum over rows of the squared distance to their own cluster's centroid.
pub(crate) fn partition_objective(isa: Isa, x: &[f32], dim: usize, centroids: &[f32], labels: &[u32]) -> f64 {
    struct Objective<'a>(&'a [f32], usize, &'a [f32], &'a [u32]);
    impl WithSimd for Objective<'_> {
        type Output = f64;
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> f64 {
            let Objective(x, dim, centroids, labels) = self;
            x.chunks_exact(dim)
                .zip(labels)
                .map(|(r, &l)| {
                    let l = l as usize;
                    pair_body::<S, SqDiff>(simd, r, &centroids[l * dim..(l + 1) * dim]) as f64
                })
                .sum()
        }
    }
    isa.dispatch(Objective(x, dim, centroids, labels))
}

/// One block's rows in order: pick, check and make the moves. Returns the number of moves.
pub(crate) struct Sweep<'a> {
    pub(crate) x: &'a [f32],
    pub(crate) x_norms: &'a [f32],
    pub(crate) dim: usize,
    pub(crate) scores: &'a mut [f32],
    pub(crate) c_norms: &'a [f32],
    pub(crate) labels: &'a mut [u32],
    pub(crate) sums: &'a mut [f64],
    pub(crate) counts: &'a mut [usize],
    pub(crate) factors: &'a mut [f32],
    pub(crate) centroids: &'a mut [f32],
    pub(crate) dirty: &'a mut [bool],
    pub(crate) dirty_list: &'a mut Vec<usize>,
}

impl WithSimd for Sweep<'_> {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> usize {
        let dim = self.dim;
        let k = self.c_norms.len();
        let mut moves = 0;
        let rows = self.x.chunks_exact(dim).zip(self.x_norms);
        for (((x, &xn), row), label) in rows.zip(self.scores.chunks_exact_mut(k)).zip(self.labels.iter_mut()) {
            let a = *label as usize;
            let na = self.counts[a];
            if na <= 1 {
                continue;
            }
            // Leaving `a` is not a target: an infinite score makes its cost infinite
            // (its factor is positive, the cluster having rows).
            row[a] = f32::INFINITY;
            let Some(b) = best_target(simd, row, self.c_norms, self.factors, xn) else { continue };
            let nb = self.counts[b];
            let remove = na as f64 / (na - 1) as f64 * to_mean(x, &self.sums[a * dim..(a + 1) * dim], na);
            let add = if nb == 0 {
                0.0
            } else {
                nb as f64 / (nb + 1) as f64 * to_mean(x, &self.sums[b * dim..(b + 1) * dim], nb)
            };
            if add >= remove * (1.0 - MIN_GAIN) {
                continue;
            }
            for (t, &v) in x.iter().enumerate() {
                self.sums[a * dim + t] -= v as f64;
                self.sums[b * dim + t] += v as f64;
            }
            self.counts[a] -= 1;
            self.counts[b] += 1;
            for j in [a, b] {
                set_mean(
                    &mut self.centroids[j * dim..(j + 1) * dim],
                    &self.sums[j * dim..(j + 1) * dim],
                    self.counts[j],
                );
                self.factors[j] = add_factor(self.counts[j]);
                if !self.dirty[j] {
                    self.dirty[j] = true;
                    self.dirty_list.push(j);
                }
            }
            *label = b as u32;
            moves += 1;
        }
        moves
    }
}

/// The cluster `j` with the lowest `factors[j]·max(‖x‖² + ‖c_j‖² − 2·x·c_j, 0)` (lowest
/// index on ties), or `None` if every cost is infinite; `row` holds the products `−2·x·c_j`.
#[inline(always)]
fn best_target<S: Simd>(simd: S, row: &[f32], c_norms: &[f32], factors: &[f32], xn: f32) -> Option<usize> {
    let (xnv, zero) = (simd.splat_f32s(xn), simd.splat_f32s(0.0));
    let (sh, st) = S::as_simd_f32s(row);
    let (nh, nt) = S::as_simd_f32s(c_norms);
    let (fh, ft) = S::as_simd_f32s(factors);
    // Equal lengths, so the closure's indexing needs no bounds checks.
    let (nh, fh) = (&nh[..sh.len()], &fh[..sh.len()]);
    let (mut best, mut arg) = argmin_registers(simd, lane_indices(simd), sh.len(), |i| {
        let d = simd.max_f32s(simd.add_f32s(simd.add_f32s(sh[i], nh[i]), xnv), zero);
        simd.mul_f32s(fh[i], d)
    });
    let base = sh.len() * S::F32_LANES;
    for (j, ((&s, &cn), &f)) in st.iter().zip(nt).zip(ft).enumerate() {
        let v = f * (s + cn + xn).max(0.0);
        if v < best {
            (best, arg) = (v, base + j);
        }
    }
    (best < f32::INFINITY).then_some(arg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[test]
    fn best_target_matches_a_scalar_oracle_on_every_level() {
        struct Best<'a>(&'a [f32], &'a [f32], &'a [f32], f32);
        impl WithSimd for Best<'_> {
            type Output = Option<usize>;
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Option<usize> {
                best_target(simd, self.0, self.1, self.2, self.3)
            }
        }
        let mut rng = StdRng::seed_from_u64(11);
        for k in [1, 2, 15, 16, 17, 33, 64, 100] {
            for trial in 0..20 {
                // Few distinct values, so ties happen; some infinite scores.
                let mut row: Vec<f32> = (0..k).map(|_| -(rng.random_range(0..4) as f32)).collect();
                let norms: Vec<f32> = (0..k).map(|_| rng.random_range(0..3) as f32).collect();
                let factors: Vec<f32> = (0..k).map(|_| [0.0, 0.5, 0.75][rng.random_range(0..3)]).collect();
                if trial % 3 == 0 {
                    row[rng.random_range(0..k)] = f32::INFINITY;
                }
                let xn = 2.0;
                let cost = |j: usize| factors[j] * (row[j] + norms[j] + xn).max(0.0);
                let want = (0..k)
                    .filter(|&j| cost(j) < f32::INFINITY)
                    .min_by(|&a, &b| cost(a).total_cmp(&cost(b)).then(a.cmp(&b)));
                for &level in crate::simd::available() {
                    let got =
                        crate::simd::with_level(level, || Isa::current().dispatch(Best(&row, &norms, &factors, xn)))
                            .unwrap();
                    assert_eq!(got, want, "{level:?}, k = {k}, trial {trial}");
                }
            }
        }
    }
}
