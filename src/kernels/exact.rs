//! Exact search's sweep: what one worker thread does with the blocks of rows it takes.
//!
//! Two ways, chosen per search by [`crate::exact`]:
//!
//! - **Products.** A block's rows are packed in groups of [`MR`] (dimension by dimension,
//!   the group's values side by side) and their norms taken; the queries were packed once
//!   per search in tiles of two registers. A register tile of `MR` rows × two registers of
//!   queries accumulates their dot products over every dimension (12 accumulators at
//!   AVX2: one broadcast row value feeds two FMAs), then becomes a lower bound of each
//!   pair's score, `−2·x·q + row_low[i]`, compared with the query's limit (its heap's
//!   threshold minus its own term, kept in `limit[j]`). Almost every pair is rejected by
//!   one compare per lane, in registers, without the products ever reaching memory; a pair
//!   whose bound is below the limit, or NaN (a vector too large for the bound, see
//!   [`crate::exact`]), is scored exactly and offered to the query's heap. The bound's
//!   terms come from the caller: this file holds the guarantee's mechanics, not its
//!   arithmetic.
//! - **Direct.** The rows scored pair by pair ([`crate::kernels::l2`]'s scan), for searches
//!   with too few queries for the products to pay.
//!
//! Either way the heaps receive exact scores, row ids rising, so their contents are those
//! of the direct scan, bit for bit.
//!
//! The product kernel is ours rather than `matrixmultiply`'s (k-means' product): on Zen 3
//! it ran 94 GFLOP/s on one core against 80 for the crate's 8 × 8 kernel, and fusing the
//! bound into it saves writing and re-reading every product and packing the queries again
//! for every block (docs/PERFORMANCE.md).

use crate::kernels::l2::{pair_body, scan_rows, Accumulate, Product};
use crate::kernels::lanes::{any, f32_lanes};
use crate::search::{Heaps, TopK};
use crate::simd::Isa;
use pulp::{Simd, WithSimd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows per register tile: 6 rows × 2 registers of queries is 12 accumulators, the most
/// that leave AVX2's 16 registers room for the two query registers and a broadcast.
pub(crate) const MR: usize = 6;

/// Norms at or above this (`2^100`) take no part in the bound: with both norms below it,
/// every product, norm and bound is finite (`|x·q| ≤ 2^100`), so no overflow can make a
/// bound wrong. A row or query over it is scored exactly against everything.
pub(crate) const NORM_LIMIT: f32 = 1.2676506e30;

/// Bytes of packed rows per block: a block stays in L2 (512 KiB on Zen 3) while every tile
/// of queries streams past it.
const BLOCK_BYTES: usize = 256 << 10;

/// Rows per block for `dim`: the unit a worker takes, a multiple of [`MR`].
pub(crate) fn block_rows(dim: usize) -> usize {
    (BLOCK_BYTES / (4 * dim) / MR).clamp(1, 64) * MR
}

/// The terms of the lower bound, one per vector: `factor·‖v‖² − offset`, or NaN (always
/// scored exactly) when `‖v‖²` is not below [`NORM_LIMIT`] (also when it is NaN).
#[inline(always)]
fn bound_terms<S: Simd>(simd: S, vectors: &[f32], dim: usize, factor: f32, offset: f32, out: &mut [f32]) {
    for (o, v) in out.iter_mut().zip(vectors.chunks_exact(dim)) {
        let norm = pair_body::<S, Product>(simd, v, v);
        *o = if norm < NORM_LIMIT { factor * norm - offset } else { f32::NAN };
    }
}

/// The queries as the product reads them, made once per search at its level.
pub(crate) struct QueryPack {
    /// Tiles of `width` queries (zeros past the last), each `dim × width`: dimension `j` of
    /// the tile's query `c` at `j·width + c`.
    pub(crate) data: Vec<f32>,
    /// Queries per tile: two registers of the level.
    pub(crate) width: usize,
    /// Per query, its term of the bound (`factor·‖q‖² − offset`, or NaN).
    pub(crate) low: Vec<f32>,
}

/// Packs `queries` (as given: the product is `−2·x·q`) and takes their terms.
pub(crate) fn pack_queries(isa: Isa, queries: &[f32], dim: usize, factor: f32, offset: f32) -> QueryPack {
    struct Pack<'a> {
        queries: &'a [f32],
        dim: usize,
        factor: f32,
        offset: f32,
    }
    impl WithSimd for Pack<'_> {
        type Output = QueryPack;
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) -> QueryPack {
            pack_queries_at(simd, self.queries, self.dim, self.factor, self.offset)
        }
    }
    isa.dispatch(Pack { queries, dim, factor, offset })
}

#[inline(always)]
fn pack_queries_at<S: Simd>(simd: S, queries: &[f32], dim: usize, factor: f32, offset: f32) -> QueryPack {
    let nq = queries.len() / dim;
    let width = 2 * S::F32_LANES;
    let mut data = vec![0f32; nq.div_ceil(width) * width * dim];
    for (t, tile) in data.chunks_exact_mut(width * dim).enumerate() {
        for (c, q) in queries.chunks_exact(dim).skip(t * width).take(width).enumerate() {
            for (j, &v) in q.iter().enumerate() {
                tile[j * width + c] = v;
            }
        }
    }
    let mut low = vec![0f32; nq];
    bound_terms(simd, queries, dim, factor, offset, &mut low);
    QueryPack { data, width, low }
}

/// What every worker of one `add` call reads.
pub(crate) struct Shared<'a, A> {
    pub(crate) dim: usize,
    pub(crate) k: usize,
    /// `nq × dim`, as scored (negated for inner product).
    pub(crate) queries: &'a [f32],
    /// The product's queries; `None` for the direct way.
    pub(crate) pack: Option<&'a QueryPack>,
    /// A row's term is `row_factor·‖x‖²`.
    pub(crate) row_factor: f32,
    /// The product is `scale` times a score's estimate (limit = `scale·threshold − low`).
    pub(crate) scale: f32,
    /// The rows of this call and the id of the first.
    pub(crate) rows: &'a [f32],
    pub(crate) first_id: i64,
    /// Rows per block: the unit the workers take.
    pub(crate) block_rows: usize,
    /// The next block to take.
    pub(crate) next: &'a AtomicUsize,
    /// How a pair is scored exactly.
    pub(crate) acc: A,
}

/// One worker's heaps (every query's best among the rows it took) and scratch, kept from
/// call to call; allocated on the worker's first block.
#[derive(Default)]
pub(crate) struct Worker {
    pub(crate) dist: Vec<f32>,
    pub(crate) ids: Vec<i64>,
    /// Per packed query: `scale·threshold − low`, −∞ past the last query.
    limit: Vec<f32>,
    /// The block's rows, packed, and their terms.
    rows: Vec<f32>,
    row_low: Vec<f32>,
}

impl Worker {
    /// Whether the worker has taken a block yet (else its heaps hold nothing).
    pub(crate) fn started(&self) -> bool {
        !self.dist.is_empty()
    }

    fn start<A>(&mut self, s: &Shared<'_, A>) {
        let nq = s.queries.len() / s.dim;
        self.dist = vec![f32::INFINITY; nq * s.k];
        self.ids = vec![-1; nq * s.k];
        if let Some(p) = s.pack {
            // An empty heap's threshold is +∞: every finite bound is below it; NaN for a
            // query outside the bound, whose every pair is scored. The padding's −∞ is
            // below every bound but NaN, which `offer` skips.
            self.limit = vec![f32::NEG_INFINITY; nq.div_ceil(p.width) * p.width];
            for (l, &a) in self.limit.iter_mut().zip(&p.low) {
                *l = s.scale * f32::INFINITY - a;
            }
            self.rows = vec![0.0; s.block_rows * s.dim];
            self.row_low = vec![0.0; s.block_rows];
        }
    }
}

/// Takes blocks of `s.rows` until none is left, into `worker`'s heaps.
pub(crate) fn sweep<A: Accumulate>(isa: Isa, s: &Shared<'_, A>, worker: &mut Worker) {
    isa.dispatch(Sweep { s, worker });
}

struct Sweep<'a, 'b, A> {
    s: &'a Shared<'b, A>,
    worker: &'a mut Worker,
}

impl<A: Accumulate> WithSimd for Sweep<'_, '_, A> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Sweep { s, worker } = self;
        let (d, k) = (s.dim, s.k);
        let n = s.rows.len() / d;
        let blocks = n.div_ceil(s.block_rows);
        loop {
            // Blocks are taken in increasing order, so each worker's heaps see ids rising.
            let b = s.next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                return;
            }
            if !worker.started() {
                worker.start(s);
            }
            let r0 = b * s.block_rows;
            let rows = &s.rows[r0 * d..(r0 + s.block_rows).min(n) * d];
            let first_id = s.first_id + r0 as i64;
            match s.pack {
                Some(pack) => products_block(simd, s, pack, worker, rows, first_id),
                None => {
                    let mut heaps = Heaps::resume(&mut worker.dist, &mut worker.ids, k);
                    scan_rows(simd, s.acc, d, s.queries, rows, first_id, &mut heaps);
                }
            }
        }
    }
}

/// One block the products' way: pack the rows and take their terms, then every tile of
/// queries against every group of rows.
#[inline(always)]
fn products_block<S: Simd, A: Accumulate>(
    simd: S,
    s: &Shared<'_, A>,
    pack: &QueryPack,
    w: &mut Worker,
    rows: &[f32],
    first_id: i64,
) {
    let d = s.dim;
    let nr = rows.len() / d;
    let groups = nr.div_ceil(MR);
    // Rows past the last are zeros (their products are 0, and `offer` skips them).
    let packed = &mut w.rows[..groups * MR * d];
    for (g, group) in packed.chunks_exact_mut(MR * d).enumerate() {
        for r in 0..MR {
            match rows.chunks_exact(d).nth(g * MR + r) {
                Some(row) => row.iter().enumerate().for_each(|(j, &v)| group[j * MR + r] = v),
                None => (0..d).for_each(|j| group[j * MR + r] = 0.0),
            }
        }
    }
    bound_terms(simd, rows, d, s.row_factor, 0.0, &mut w.row_low[..nr]);
    let block = Block {
        dim: d,
        k: s.k,
        nq: s.queries.len() / d,
        nr,
        scale: s.scale,
        queries: s.queries,
        query_low: &pack.low,
        rows,
        first_id,
        row_low: &w.row_low[..nr],
        limit: &mut w.limit,
        dist: &mut w.dist,
        ids: &mut w.ids,
    };
    scan_products(simd, s.acc, &w.rows[..groups * MR * d], pack, block);
}

/// A block of rows and the state its pairs are offered to.
struct Block<'a> {
    dim: usize,
    k: usize,
    nq: usize,
    nr: usize,
    scale: f32,
    /// `nq × dim`, as scored, and their terms.
    queries: &'a [f32],
    query_low: &'a [f32],
    /// `nr × dim`, the first with id `first_id`, and their terms.
    rows: &'a [f32],
    first_id: i64,
    row_low: &'a [f32],
    /// Every query's limit (padded to whole tiles) and heap.
    limit: &'a mut [f32],
    dist: &'a mut [f32],
    ids: &'a mut [i64],
}

/// Tiles of queries outer (one tile stays in L1), groups of rows inner (the packed block
/// streams from L2), so each query's heap sees the block's ids rise.
#[inline(always)]
fn scan_products<S: Simd, A: Accumulate>(simd: S, _acc: A, packed: &[f32], pack: &QueryPack, mut b: Block<'_>) {
    let (d, lanes) = (b.dim, S::F32_LANES);
    let zero = simd.splat_f32s(0.0);
    let all = simd.greater_than_or_equal_f32s(zero, zero);
    let minus_two = simd.splat_f32s(-2.0);
    for (t, tile) in pack.data.chunks_exact(pack.width * d).enumerate() {
        let (tile, _) = S::as_simd_f32s(tile);
        for (g, group) in packed.chunks_exact(MR * d).enumerate() {
            let dots = register_tile(simd, group, tile);
            // Rows past the block's end get +∞: their bounds pass no limit but NaN, and
            // `offer` skips them.
            let low: [f32; MR] = std::array::from_fn(|r| b.row_low.get(g * MR + r).copied().unwrap_or(f32::INFINITY));
            // `min` may drop a NaN, so a group with a row outside the bound goes row by row.
            let any_nan = low.iter().any(|l| l.is_nan());
            for v in 0..2 {
                let j0 = t * pack.width + v * lanes;
                let limit = S::as_simd_f32s(&b.limit[j0..j0 + lanes]).0[0];
                // Loops, not closures, around SIMD calls: a closure does not inherit the
                // caller's target features, so what it calls might not inline.
                let mut bounds = [zero; MR];
                for ((bound, dots), &low) in bounds.iter_mut().zip(&dots).zip(&low) {
                    *bound = simd.mul_add_e_f32s(dots[v], minus_two, simd.splat_f32s(low));
                }
                let mut least = bounds[0];
                for &bound in &bounds[1..] {
                    least = simd.min_f32s(least, bound);
                }
                // The only test most tiles take: the group's least bound per query.
                if !any_nan && !passes(simd, least, limit, all) {
                    continue;
                }
                for (r, bound) in bounds.iter().enumerate() {
                    if passes(simd, *bound, limit, all) {
                        for (l, &bound) in f32_lanes::<S>(bound).iter().enumerate() {
                            offer::<S, A>(simd, &mut b, g * MR + r, j0 + l, bound);
                        }
                    }
                }
            }
        }
    }
}

/// Whether any lane's bound is not at or above its limit (`all`: a mask of every lane):
/// below it, or NaN, which `less_than` would miss.
#[inline(always)]
fn passes<S: Simd>(simd: S, bound: S::f32s, limit: S::f32s, all: S::m32s) -> bool {
    any(simd.xor_m32s(simd.greater_than_or_equal_f32s(bound, limit), all))
}

/// The dot products of a group of [`MR`] packed rows with a tile of two registers of
/// packed queries, summed over the dimensions in order.
#[inline(always)]
fn register_tile<S: Simd>(simd: S, group: &[f32], tile: &[S::f32s]) -> [[S::f32s; 2]; MR] {
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; 2]; MR];
    for (x, q) in group.chunks_exact(MR).zip(tile.chunks_exact(2)) {
        let (q0, q1) = (q[0], q[1]);
        for (a, &x) in acc.iter_mut().zip(x) {
            let x = simd.splat_f32s(x);
            a[0] = simd.mul_add_e_f32s(x, q0, a[0]);
            a[1] = simd.mul_add_e_f32s(x, q1, a[1]);
        }
    }
    acc
}

/// Scores row `i` against query `j` exactly if the pair's `bound` is not at or above the
/// query's limit (true below it and whenever either is NaN: a vector outside the bound),
/// and offers the score to the query's heap. A function, not a closure: a closure would not
/// inherit the caller's target features, and the pair kernel would not inline.
#[inline(always)]
fn offer<S: Simd, A: Accumulate>(simd: S, b: &mut Block<'_>, i: usize, j: usize, bound: f32) {
    let at_or_above =
        matches!(bound.partial_cmp(&b.limit[j]), Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal));
    if at_or_above || j >= b.nq || i >= b.nr {
        return;
    }
    #[cfg(test)]
    tests::SCORED.with(|c| c.set(c.get() + 1));
    let d = b.dim;
    let score = pair_body::<S, A>(simd, &b.queries[j * d..(j + 1) * d], &b.rows[i * d..(i + 1) * d]);
    let r = j * b.k..(j + 1) * b.k;
    let mut top = TopK::resume(&mut b.dist[r.clone()], &mut b.ids[r]);
    top.push_block(&[score], b.first_id + i as i64);
    b.limit[j] = b.scale * top.threshold() - b.query_low[j];
}

#[cfg(test)]
mod tests {
    //! The product kernel at every level against an f64 oracle, and the filter's work: the
    //! engine's results are checked bit for bit in `tests/exact.rs`, but a filter that let
    //! every pair through would pass those too, only slowly.

    use super::*;
    use crate::exact::{ExactSearch, Metric};
    use crate::reference;
    use crate::simd::{available, with_level};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::cell::Cell;

    thread_local! {
        /// Pairs scored exactly on this thread.
        pub(super) static SCORED: Cell<usize> = const { Cell::new(0) };
    }

    fn floats(n: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    #[test]
    fn register_tile_matches_the_oracle_on_every_level() {
        struct Tile<'a>(&'a [f32], &'a [f32], usize);
        impl WithSimd for Tile<'_> {
            type Output = Vec<f32>;
            #[inline(always)]
            fn with_simd<S: Simd>(self, simd: S) -> Vec<f32> {
                let Tile(rows, queries, d) = self;
                let pack = pack_queries_at(simd, queries, d, 1.0, 0.0);
                let mut group = vec![0f32; MR * d];
                for (r, row) in rows.chunks_exact(d).enumerate() {
                    for (j, &v) in row.iter().enumerate() {
                        group[j * MR + r] = v;
                    }
                }
                let (tile, _) = S::as_simd_f32s(&pack.data[..pack.width * d]);
                let dots = register_tile(simd, &group, tile);
                dots.iter().flat_map(|r| r.iter().flat_map(|v| f32_lanes::<S>(v).to_vec())).collect()
            }
        }
        for d in [1, 3, 17, 64, 385] {
            let rows = floats(MR * d, d as u64);
            for &level in available() {
                let width = with_level(level, || Isa::current().dispatch(Width)).unwrap();
                let queries = floats(width * d, d as u64 + 7);
                let got = with_level(level, || Isa::current().dispatch(Tile(&rows, &queries, d))).unwrap();
                for (r, row) in rows.chunks_exact(d).enumerate() {
                    for (c, q) in queries.chunks_exact(d).enumerate() {
                        let want = reference::dot(row, q);
                        let g = got[r * width + c] as f64;
                        let tol = reference::tolerance(d, reference::dot_abs(row, q));
                        assert!((g - want).abs() <= tol, "{level} d={d} row {r} query {c}: {g} vs {want}");
                    }
                }
            }
        }
    }

    struct Width;
    impl WithSimd for Width {
        type Output = usize;
        #[inline(always)]
        fn with_simd<S: Simd>(self, _: S) -> usize {
            2 * S::F32_LANES
        }
    }

    /// On random data nearly every pair scored exactly enters a heap: about
    /// `k·(1 + ln(n/k))` per query, far from the `n` per query of a filter that passes all.
    #[test]
    fn the_filter_scores_few_pairs_exactly() {
        let (d, n, nq, k) = (32, 20_000, 16, 10);
        let rows = floats(n * d, 1);
        let queries = floats(nq * d, 2);
        for &level in available() {
            for metric in [Metric::L2, Metric::InnerProduct] {
                let before = SCORED.with(Cell::get);
                with_level(level, || {
                    let mut s = ExactSearch::new(d, &queries, k, metric, 1).unwrap();
                    s.add(&rows, 0).unwrap();
                })
                .unwrap();
                let per_query = (SCORED.with(Cell::get) - before) / nq;
                let expected = k as f64 * (1.0 + (n as f64 / k as f64).ln());
                assert!(
                    per_query as f64 > 0.5 * expected && (per_query as f64) < 2.0 * expected,
                    "{level} {metric:?}: {per_query} pairs per query scored exactly, about {expected:.0} expected"
                );
            }
        }
    }
}
