//! The k-means kernels: the argmin of the assignment step, the distances of greedy
//! k-means++ seeding, the per-cluster sums of the update step, and the group scan of the
//! coarse assignment.
//!
//! Each has an entry point that takes the call's [`Isa`] (so a lowered level holds on the
//! training pool's workers) and dispatches once per block of rows. Their shapes are checked
//! by the k-means code that calls them; the bodies index with bounds checks, so a shape
//! error panics rather than reading out of bounds.

use crate::kernels::l2::l2sq_rows;
use crate::kernels::lanes::lane_indices;
use crate::kernels::nearest::nearest_transposed;
use crate::simd::Isa;
use pulp::{Simd, WithSimd};

/// Per row of `k = c_norms.len()` products `−2·x·c` in `scores`: the lowest
/// `‖c‖² − 2·x·c` into `best` and its first index into `labels` (ties to the lower index;
/// `(∞, 0)` if no value is below ∞).
pub(crate) fn argmin_rows(isa: Isa, scores: &[f32], c_norms: &[f32], labels: &mut [u32], best: &mut [f32]) {
    isa.dispatch(ArgminRows { scores, c_norms, labels, best });
}

/// Rows of a seeding pool per tile of [`tile_pool`]: a register of the widest level.
pub(crate) const TILE: usize = 16;

/// The `m = pool.len() / dim` pool rows in transposed tiles of [`TILE`] rows
/// (`[⌈m/16⌉][dim][16]`, zero-padded), the operand of [`dist_rows_many`].
pub(crate) fn tile_pool(pool: &[f32], dim: usize) -> Vec<f32> {
    let m = pool.len() / dim;
    let mut pool_t = vec![0f32; dim * m.next_multiple_of(TILE)];
    for (i, row) in pool.chunks_exact(dim).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            pool_t[i / TILE * TILE * dim + j * TILE + i % TILE] = v;
        }
    }
    pool_t
}

/// `out[t·m + i] = ‖pool_i − pool_{cands[t]}‖²` for every candidate `t` and each of the
/// `m = pool.len() / dim` pool rows `i`; `pool_t` is [`tile_pool`]`(pool, dim)` and `out`
/// holds `cands.len()·m` floats.
pub(crate) fn dist_rows_many(isa: Isa, dim: usize, cands: &[usize], pool: &[f32], pool_t: &[f32], out: &mut [f32]) {
    isa.dispatch(DistRowsMany { dim, cands, pool, pool_t, out });
}

/// Adds each row of `x` (`dim` wide) to `sums[labels[i]]` (f64, in row order) and counts it
/// in `counts[labels[i]]`.
pub(crate) fn sum_rows(isa: Isa, x: &[f32], dim: usize, labels: &[u32], sums: &mut [f64], counts: &mut [usize]) {
    isa.dispatch(SumRows { x, dim, labels, sums, counts });
}

struct ArgminRows<'a> {
    scores: &'a [f32],
    c_norms: &'a [f32],
    labels: &'a mut [u32],
    best: &'a mut [f32],
}

impl WithSimd for ArgminRows<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let iota = lane_indices(simd);
        let k = self.c_norms.len();
        let (norm_head, norm_tail) = S::as_simd_f32s(self.c_norms);
        for ((row, l), b) in self.scores.chunks_exact(k).zip(self.labels.iter_mut()).zip(self.best.iter_mut()) {
            let (head, tail) = S::as_simd_f32s(row);
            // Equal lengths, so the closure's indexing needs no bounds checks.
            let norms = &norm_head[..head.len()];
            let (mut best, mut arg) = argmin_registers(simd, iota, head.len(), |i| simd.add_f32s(head[i], norms[i]));
            let base = head.len() * S::F32_LANES;
            for (j, (&v, &cn)) in tail.iter().zip(norm_tail).enumerate() {
                let v = v + cn;
                if v < best {
                    (best, arg) = (v, base + j);
                }
            }
            *b = best;
            *l = arg as u32;
        }
    }
}

/// The lowest of the values in registers `value(0..count)` and its first index (counting
/// lanes from 0; `(∞, 0)` if none is below ∞). Per lane a strict `<` keeps the earliest
/// index; then the lowest over lanes, lowest index on ties. `iota` is [`lane_indices`].
#[inline(always)]
pub(crate) fn argmin_registers<S: Simd>(
    simd: S,
    iota: S::u32s,
    count: usize,
    mut value: impl FnMut(usize) -> S::f32s,
) -> (f32, usize) {
    let step = simd.splat_u32s(S::F32_LANES as u32);
    let mut mv = simd.splat_f32s(f32::INFINITY);
    let mut mi = simd.splat_u32s(0);
    let mut idx = iota;
    for i in 0..count {
        let v = value(i);
        let lt = simd.less_than_f32s(v, mv);
        mv = simd.select_f32s(lt, v, mv);
        mi = simd.select_u32s(lt, idx, mi);
        idx = simd.add_u32s(idx, step);
    }
    let vals: &[f32] = bytemuck::cast_slice(core::slice::from_ref(&mv));
    let ids: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&mi));
    // u32 as the lanes hold it: with usize this reduction compiled to branches, 3% of a
    // k-means iteration at k = 256.
    let (mut best, mut arg) = (f32::INFINITY, 0u32);
    for (&v, &i) in vals.iter().zip(ids) {
        if v < best || (v == best && i < arg) {
            (best, arg) = (v, i);
        }
    }
    (best, arg as usize)
}

/// Lanes are pool rows, so per dimension one load serves four candidates (a broadcast, a
/// subtraction and an FMA each) and no horizontal sums are needed. One candidate at a
/// time, row by row with a reduction per distance, the greedy seeding took 60% longer.
struct DistRowsMany<'a> {
    dim: usize,
    cands: &'a [usize],
    pool: &'a [f32],
    pool_t: &'a [f32],
    out: &'a mut [f32],
}

impl WithSimd for DistRowsMany<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (dim, pool, pool_t) = (self.dim, self.pool, self.pool_t);
        let (m, lanes) = (pool.len() / dim, S::F32_LANES);
        let zero = simd.splat_f32s(0.0);
        let mut block = [0f32; TILE];
        for (g, group) in self.cands.chunks(4).enumerate() {
            let c: [&[f32]; 4] = std::array::from_fn(|v| {
                let id = group[v.min(group.len() - 1)];
                &pool[id * dim..(id + 1) * dim]
            });
            // Registers that hold at least one pool row: a tile's padding rows past `m` are
            // computed only inside a register that starts before `m`.
            for i0 in (0..m).step_by(lanes) {
                let mut acc = [zero; 4];
                // A tile's dimensions are contiguous: a plain transpose put them `mpad`
                // floats apart, a multiple of 4 KiB that thrashed one L1 set.
                let tile = &pool_t[i0 / TILE * TILE * dim..(i0 / TILE + 1) * TILE * dim];
                let lane0 = i0 % TILE;
                for j in 0..dim {
                    let r = S::as_simd_f32s(&tile[j * TILE + lane0..j * TILE + lane0 + lanes]).0[0];
                    for (a, cv) in acc.iter_mut().zip(c) {
                        let d = simd.sub_f32s(simd.splat_f32s(cv[j]), r);
                        *a = simd.mul_add_e_f32s(d, d, *a);
                    }
                }
                let n = lanes.min(m - i0);
                for (v, a) in acc.iter().enumerate().take(group.len()) {
                    simd.partial_store_f32s(&mut block[..lanes], *a);
                    let t = 4 * g + v;
                    self.out[t * m + i0..t * m + i0 + n].copy_from_slice(&block[..n]);
                }
            }
        }
    }
}

/// Plain code, dispatched so that the widening adds vectorize at the level's width rather
/// than SSE2's (3% of the demo's PQ training time); each element's sum runs over the rows
/// in order, so every level gives the same bits.
struct SumRows<'a> {
    x: &'a [f32],
    dim: usize,
    labels: &'a [u32],
    sums: &'a mut [f64],
    counts: &'a mut [usize],
}

impl WithSimd for SumRows<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let dim = self.dim;
        for (row, &l) in self.x.chunks_exact(dim).zip(self.labels) {
            let l = l as usize;
            self.counts[l] += 1;
            for (s, &v) in self.sums[l * dim..(l + 1) * dim].iter_mut().zip(row) {
                *s += v as f64;
            }
        }
    }
}

/// A coarse index's centroid groups as the group scan reads them (see
/// `kmeans::coarse::CoarseIndex`): `centres` (`kc × dim`), and group `g`'s centroids as
/// columns `start[g]..start[g + 1]` of a transposed block at `ct[start[g]·dim..]`, `ids`
/// their centroid indices (`u32::MAX` on padding).
pub(crate) struct Groups<'a> {
    pub(crate) dim: usize,
    pub(crate) centres: &'a [f32],
    pub(crate) ct: &'a [f32],
    pub(crate) start: &'a [usize],
    pub(crate) ids: &'a [u32],
}

/// The nearest centroid among the `nprobe` nearest groups of each row of `rows`: `labels`,
/// and `best = ‖x − c‖² − ‖x‖²` (`norms` holds `‖x‖²`), as the exact assignment reports it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn coarse_block(
    isa: Isa,
    groups: &Groups<'_>,
    rows: &[f32],
    nprobe: usize,
    norms: &[f32],
    labels: &mut [u32],
    best: &mut [f32],
) {
    isa.dispatch(CoarseBlock { index: groups, rows, nprobe, norms, labels, best });
}

struct CoarseBlock<'a> {
    index: &'a Groups<'a>,
    rows: &'a [f32],
    nprobe: usize,
    norms: &'a [f32],
    labels: &'a mut [u32],
    best: &'a mut [f32],
}

impl WithSimd for CoarseBlock<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let ix = self.index;
        let (dim, kc) = (ix.dim, ix.start.len() - 1);
        let nprobe = self.nprobe.min(kc);
        let mut centre_d = vec![0f32; kc];
        // The probed groups, nearest first (ties to the lower group).
        let mut probe: Vec<(f32, usize)> = Vec::with_capacity(nprobe + 1);
        for ((row, l), (b, &xn)) in
            self.rows.chunks_exact(dim).zip(self.labels.iter_mut()).zip(self.best.iter_mut().zip(self.norms))
        {
            l2sq_rows(simd, row, ix.centres, &mut centre_d);
            probe.clear();
            for (g, &d) in centre_d.iter().enumerate() {
                if probe.len() == nprobe && d >= probe[nprobe - 1].0 {
                    continue;
                }
                let at = probe.partition_point(|&(pd, _)| pd <= d);
                probe.insert(at, (d, g));
                probe.truncate(nprobe);
            }
            let mut found = (f32::INFINITY, u32::MAX);
            for &(_, g) in &probe {
                scan_group(simd, ix, g, row, &mut found);
            }
            if found.1 == u32::MAX {
                // Every probed group was empty: fall back to all of them.
                (0..kc).for_each(|g| scan_group(simd, ix, g, row, &mut found));
            }
            *l = found.1;
            *b = found.0 - xn;
        }
    }
}

/// Offers group `g`'s nearest centroid to `found` (distance, then lower index). A function,
/// not a closure: a closure is not inlined into the target-feature context, and its
/// intrinsics then compile to calls (measured 30 times slower).
#[inline(always)]
fn scan_group<S: Simd>(simd: S, ix: &Groups<'_>, g: usize, row: &[f32], found: &mut (f32, u32)) {
    let (a, e) = (ix.start[g], ix.start[g + 1]);
    if a == e {
        return;
    }
    let block = &ix.ct[a * ix.dim..e * ix.dim];
    let (arg, d) = nearest_transposed::<S, 1>(simd, [row], block, e - a, e - a);
    let id = ix.ids[a + arg[0]];
    if d[0] < found.0 || (d[0] == found.0 && id < found.1) {
        *found = (d[0], id);
    }
}

#[cfg(test)]
mod tests {
    //! Every kernel at every level the machine has, against a plain oracle. Inputs are small
    //! integers, so every sum and product is exact in f32 and results compare bit for bit,
    //! ties included.

    use super::*;
    use crate::simd::{available, with_level};
    use proptest::prelude::*;

    /// The row counts that straddle every level's register width (1, 4, 8, 16 lanes).
    const ODD_ROWS: [usize; 8] = [1, 3, 7, 15, 17, 20, 31, 33];

    fn ints(len: usize, seed: u64, range: i32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                ((s % (2 * range as u64 + 1)) as i32 - range) as f32
            })
            .collect()
    }

    fn each_level(mut f: impl FnMut(Isa)) {
        for &level in available() {
            with_level(level, || f(Isa::current())).unwrap();
        }
    }

    fn argmin_oracle(scores: &[f32], c_norms: &[f32]) -> (Vec<u32>, Vec<f32>) {
        let k = c_norms.len();
        scores
            .chunks_exact(k)
            .map(|row| {
                let (mut best, mut arg) = (f32::INFINITY, 0u32);
                for (j, (&s, &n)) in row.iter().zip(c_norms).enumerate() {
                    if s + n < best {
                        (best, arg) = (s + n, j as u32);
                    }
                }
                (arg, best)
            })
            .unzip()
    }

    fn check_argmin(rows: usize, k: usize, seed: u64) {
        // Few distinct values: ties everywhere.
        let scores = ints(rows * k, seed, 3);
        let c_norms = ints(k, seed ^ 1, 2);
        let want = argmin_oracle(&scores, &c_norms);
        each_level(|isa| {
            let (mut labels, mut best) = (vec![9u32; rows], vec![9f32; rows]);
            argmin_rows(isa, &scores, &c_norms, &mut labels, &mut best);
            assert_eq!((&labels, &best), (&want.0, &want.1), "{:?} rows {rows} k {k}", isa.level());
        });
    }

    #[test]
    fn argmin_rows_matches_the_oracle_at_odd_sizes() {
        for &rows in &ODD_ROWS {
            for k in [1, 2, 7, 8, 15, 16, 17, 31, 33, 64, 100] {
                check_argmin(rows, k, (rows * 131 + k) as u64);
            }
        }
    }

    #[test]
    fn argmin_rows_of_infinities_is_zero() {
        let k = 19;
        let scores = vec![f32::INFINITY; 3 * k];
        each_level(|isa| {
            let (mut labels, mut best) = (vec![7u32; 3], vec![0f32; 3]);
            argmin_rows(isa, &scores, &vec![0.0; k], &mut labels, &mut best);
            assert_eq!(labels, [0, 0, 0], "{:?}", isa.level());
            assert!(best.iter().all(|b| b.is_infinite()));
        });
    }

    fn check_dist_rows_many(m: usize, dim: usize, cands: &[usize], seed: u64) {
        let pool = ints(m * dim, seed, 4);
        let pool_t = tile_pool(&pool, dim);
        let mut want = Vec::with_capacity(cands.len() * m);
        for &c in cands {
            let cv = &pool[c * dim..(c + 1) * dim];
            want.extend(pool.chunks_exact(dim).map(|r| r.iter().zip(cv).map(|(a, b)| (a - b) * (a - b)).sum::<f32>()));
        }
        each_level(|isa| {
            let mut out = vec![-1f32; cands.len() * m];
            dist_rows_many(isa, dim, cands, &pool, &pool_t, &mut out);
            assert_eq!(out, want, "{:?} m {m} dim {dim} cands {cands:?}", isa.level());
        });
    }

    /// The pool smaller than a register of rows, or ending inside one: the seeding of a
    /// 20-row pool indexed past its output at 8 lanes and at 1.
    #[test]
    fn dist_rows_many_covers_pools_of_odd_sizes() {
        for &m in &ODD_ROWS {
            for dim in [1, 2, 3, 5, 16] {
                for ncand in [1, 2, 4, 5, 9] {
                    let cands: Vec<usize> = (0..ncand).map(|t| (t * 7 + 3) % m).collect();
                    check_dist_rows_many(m, dim, &cands, (m * 17 + dim * 5 + ncand) as u64);
                }
            }
        }
    }

    #[test]
    fn sum_rows_matches_a_plain_loop_bit_for_bit() {
        for &n in &ODD_ROWS {
            for (dim, k) in [(1, 1), (3, 2), (7, 5), (17, 4)] {
                // Fractions, so the f64 sums round and their order matters.
                let x: Vec<f32> = ints(n * dim, n as u64, 1000).iter().map(|v| v / 7.0).collect();
                let labels: Vec<u32> = (0..n).map(|i| ((i * 5 + 1) % k) as u32).collect();
                let (mut ws, mut wc) = (vec![0f64; k * dim], vec![0usize; k]);
                for (row, &l) in x.chunks_exact(dim).zip(&labels) {
                    wc[l as usize] += 1;
                    for (j, &v) in row.iter().enumerate() {
                        ws[l as usize * dim + j] += v as f64;
                    }
                }
                each_level(|isa| {
                    let (mut s, mut c) = (vec![0f64; k * dim], vec![0usize; k]);
                    sum_rows(isa, &x, dim, &labels, &mut s, &mut c);
                    assert_eq!(c, wc);
                    assert!(s.iter().zip(&ws).all(|(a, b)| a.to_bits() == b.to_bits()), "{:?}", isa.level());
                });
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn argmin_rows_random(rows in 1usize..40, k in 1usize..80, seed in any::<u64>()) {
            check_argmin(rows, k, seed);
        }

        #[test]
        fn dist_rows_many_random(m in 1usize..70, dim in 1usize..40, ncand in 1usize..10, seed in any::<u64>()) {
            let cands: Vec<usize> = (0..ncand).map(|t| (seed as usize).wrapping_add(t * 13) % m).collect();
            check_dist_rows_many(m, dim, &cands, seed);
        }
    }
}
