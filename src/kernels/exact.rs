//! Exact search's sweep: what one worker thread does with the blocks of rows it takes.
//!
//! Two ways, chosen per search by [`crate::exact`]:
//!
//! - **Products.** Each block's norms, then, tile of queries by tile, the block times the
//!   queries through the SGEMM of [`crate::kernels::gemm`], then a scan that compares a
//!   lower bound of every pair's score, `products[i·w + j] + row_low[i]`, with the query's
//!   limit (its heap's threshold minus its own term, kept in `limit[j]`). Almost every pair
//!   is rejected by one add and one compare per lane; a pair whose bound is below the limit,
//!   or NaN (a row or query too large for the bound, see [`crate::exact`]), is scored
//!   exactly and offered to the query's heap. The bound's terms come from the caller, so
//!   this file holds no arithmetic of the guarantee, only its mechanics.
//! - **Direct.** The rows scored pair by pair ([`crate::kernels::l2`]'s scan), for searches
//!   with too few queries for a matrix product to pay.
//!
//! Either way the heaps receive exact scores, row ids rising, so their contents are those
//! of the direct scan, bit for bit.

use crate::kernels::gemm::{products, Rows};
use crate::kernels::l2::{pair_body, scan_rows, Accumulate, Product};
use crate::kernels::lanes::any;
use crate::search::{Heaps, TopK};
use crate::simd::Isa;
use pulp::{Simd, WithSimd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Norms at or above this (`2^100`) take no part in the bound: with both norms below it,
/// every product, norm and bound is finite (`|x·q| ≤ 2^100`), so no overflow can make a
/// bound wrong. A row or query over it is scored exactly against everything.
pub(crate) const NORM_LIMIT: f32 = 1.2676506e30;

/// The terms of the lower bound, one per vector: `factor·‖v‖² − offset`, or NaN (always
/// scored exactly) when `‖v‖²` is not below [`NORM_LIMIT`] (also when it is NaN).
#[inline(always)]
fn bound_terms<S: Simd>(simd: S, vectors: &[f32], dim: usize, factor: f32, offset: f32, out: &mut [f32]) {
    for (o, v) in out.iter_mut().zip(vectors.chunks_exact(dim)) {
        let norm = pair_body::<S, Product>(simd, v, v);
        *o = if norm < NORM_LIMIT { factor * norm - offset } else { f32::NAN };
    }
}

/// [`bound_terms`] at a given level (the queries' terms, once per search).
pub(crate) fn query_terms(isa: Isa, queries: &[f32], dim: usize, factor: f32, offset: f32, out: &mut [f32]) {
    struct Terms<'a> {
        queries: &'a [f32],
        dim: usize,
        factor: f32,
        offset: f32,
        out: &'a mut [f32],
    }
    impl WithSimd for Terms<'_> {
        type Output = ();
        #[inline(always)]
        fn with_simd<S: Simd>(self, simd: S) {
            bound_terms(simd, self.queries, self.dim, self.factor, self.offset, self.out)
        }
    }
    isa.dispatch(Terms { queries, dim, factor, offset, out });
}

/// What every worker of one `add` call reads.
pub(crate) struct Shared<'a, A> {
    pub(crate) dim: usize,
    pub(crate) k: usize,
    /// `nq × dim`, as scored (negated for inner product).
    pub(crate) queries: &'a [f32],
    /// `dim × nq`: the product's right operand; empty for the direct way.
    pub(crate) qt: &'a [f32],
    /// Per query, the term subtracted from its scaled threshold to make its limit.
    pub(crate) query_low: &'a [f32],
    /// A row's term is `row_factor·‖x‖²`.
    pub(crate) row_factor: f32,
    /// Products are `scale` times a score's estimate (limit = `scale·threshold − query_low`).
    pub(crate) scale: f32,
    /// The rows of this call and the id of the first.
    pub(crate) rows: &'a [f32],
    pub(crate) first_id: i64,
    /// Rows per block (the unit the workers take) and queries per product.
    pub(crate) block_rows: usize,
    pub(crate) tile: usize,
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
    limit: Vec<f32>,
    products: Vec<f32>,
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
        if !s.qt.is_empty() {
            // An empty heap's threshold is +∞: every finite bound is below it; NaN for a
            // query outside the bound, whose every pair is scored.
            self.limit = s.query_low.iter().map(|&a| s.scale * f32::INFINITY - a).collect();
            self.products = vec![0.0; s.block_rows * s.tile.min(nq)];
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
            if s.qt.is_empty() {
                let mut heaps = Heaps::resume(&mut worker.dist, &mut worker.ids, k);
                scan_rows(simd, s.acc, d, s.queries, rows, first_id, &mut heaps);
            } else {
                products_block(simd, s, worker, rows, first_id);
            }
        }
    }
}

/// One block the products' way: norms, then per tile of queries a product and a scan.
#[inline(always)]
fn products_block<S: Simd, A: Accumulate>(simd: S, s: &Shared<'_, A>, w: &mut Worker, rows: &[f32], first_id: i64) {
    let d = s.dim;
    let nq = s.queries.len() / d;
    let nr = rows.len() / d;
    let row_low = &mut w.row_low[..nr];
    bound_terms(simd, rows, d, s.row_factor, 0.0, row_low);
    for q0 in (0..nq).step_by(s.tile) {
        let q1 = (q0 + s.tile).min(nq);
        let prod = &mut w.products[..nr * (q1 - q0)];
        products(Rows::RowMajor(rows), nr, d, 0, s.qt, nq, q0..q1, prod);
        let tile = Tile {
            dim: d,
            k: s.k,
            scale: s.scale,
            queries: &s.queries[q0 * d..q1 * d],
            query_low: &s.query_low[q0..q1],
            rows,
            first_id,
            row_low,
            products: prod,
            limit: &mut w.limit[q0..q1],
            dist: &mut w.dist[q0 * s.k..q1 * s.k],
            ids: &mut w.ids[q0 * s.k..q1 * s.k],
        };
        scan_tile(simd, s.acc, tile);
    }
}

/// A block of rows against a tile of `w` queries.
struct Tile<'a> {
    dim: usize,
    k: usize,
    scale: f32,
    /// `w × dim`, as scored, and their terms.
    queries: &'a [f32],
    query_low: &'a [f32],
    /// `nr × dim`, the first with id `first_id`, and their terms.
    rows: &'a [f32],
    first_id: i64,
    row_low: &'a [f32],
    /// `nr × w`, row-major.
    products: &'a [f32],
    /// The tile's limits and heaps (`w·k`).
    limit: &'a mut [f32],
    dist: &'a mut [f32],
    ids: &'a mut [i64],
}

/// Every pair of the tile whose bound is not at or above its query's limit is scored
/// exactly and offered to the query's heap; rows outer, so each query's heap sees ids rise.
#[inline(always)]
fn scan_tile<S: Simd, A: Accumulate>(simd: S, _acc: A, mut t: Tile<'_>) {
    let lanes = S::F32_LANES;
    let w = t.limit.len();
    let zero = simd.splat_f32s(0.0);
    let all = simd.greater_than_or_equal_f32s(zero, zero);
    for (i, (prow, &low)) in t.products.chunks_exact(w).zip(t.row_low).enumerate() {
        let (ph, _) = S::as_simd_f32s(prow);
        let lowv = simd.splat_f32s(low);
        for (v, &p) in ph.iter().enumerate() {
            let lim = S::as_simd_f32s(&t.limit[v * lanes..(v + 1) * lanes]).0[0];
            // The only branch most pairs take: a lane passes unless its bound is at or
            // above the limit, which NaN never is (so `less_than` would miss it).
            let reject = simd.greater_than_or_equal_f32s(simd.add_f32s(p, lowv), lim);
            if any(simd.xor_m32s(reject, all)) {
                for (j, &p) in prow.iter().enumerate().skip(v * lanes).take(lanes) {
                    offer::<S, A>(simd, &mut t, i, j, p + low);
                }
            }
        }
        for (j, &p) in prow.iter().enumerate().skip(ph.len() * lanes) {
            offer::<S, A>(simd, &mut t, i, j, p + low);
        }
    }
}

/// Scores row `i` against query `j` exactly if the pair's `bound` is not at or above the
/// query's limit (true below it and whenever either is NaN: a vector outside the bound),
/// and offers the score to the query's heap. A function, not a closure: a closure would not
/// inherit the caller's target features, and the pair kernel would not inline.
#[inline(always)]
fn offer<S: Simd, A: Accumulate>(simd: S, t: &mut Tile<'_>, i: usize, j: usize, bound: f32) {
    if matches!(bound.partial_cmp(&t.limit[j]), Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)) {
        return;
    }
    let d = t.dim;
    let score = pair_body::<S, A>(simd, &t.queries[j * d..(j + 1) * d], &t.rows[i * d..(i + 1) * d]);
    let r = j * t.k..(j + 1) * t.k;
    let mut top = TopK::resume(&mut t.dist[r.clone()], &mut t.ids[r]);
    top.push_block(&[score], t.first_id + i as i64);
    t.limit[j] = t.scale * top.threshold() - t.query_low[j];
}
