//! Exact k-nearest-neighbour search: the one engine behind [`crate::search::knn`], the
//! benchmark tool's ground truth and any caller that streams its rows in blocks.
//!
//! [`ExactSearch`] takes the queries once, then any number of blocks of rows ([`add`],
//! ids rising from call to call), then writes every query's top-k ([`results`]). Rows are
//! split into blocks that worker threads take in turn, each worker keeping its own heaps,
//! merged at the end.
//!
//! **How.** `‖q − x‖² = ‖q‖² + ‖x‖² − 2 q·x`: a block of rows times all the queries is a
//! matrix product, which runs at several times the speed of one dot product per pair (a
//! register tile of products per loaded value; the kernel is in `src/kernels/exact.rs`).
//! That expanded form loses digits to cancellation (two near vectors far from the
//! origin), so it only *filters*: each pair's product gives a lower bound of its exact
//! score, and only a pair whose bound is below its query's current k-th best exact score
//! is scored exactly (`l2sq`, pair by pair) and offered to the query's heap. Nearly every
//! pair scored exactly enters the heap: on random data about `k·(1 + ln(n/k))` per query
//! and worker, 0.2% of the pairs for 1 M rows and k = 100 on 2 threads. With fewer than
//! [`PRODUCT_MIN_QUERIES`] queries the product does not pay and every pair is scored
//! directly.
//!
//! **Guarantee.** The results are exactly those of scoring every pair with the kernels of
//! [`crate::kernels`] at the search's SIMD level (`l2sq`, or `dot` for inner product) and
//! keeping the k best by (score, id), ties to the lower id: bit for bit, whatever the thread
//! count or the blocks the rows came in. The filter is conservative: with `u = 2^−24`,
//! `n = dim` and every norm below `2^100`, the product path's `q·x` is within `γ_n·Σ|q_i x_i|
//! ≤ γ_n (‖q‖² + ‖x‖²)/2` of the exact value in any summation order (`γ_n = nu/(1 − nu)`,
//! Higham, *Accuracy and Stability of Numerical Algorithms*, §3.1), each computed squared
//! norm within `γ_n` of its own value, and the kernel's score within `γ_{n+2}` of the exact
//! score, which is at most `2(‖q‖² + ‖x‖²)`. Summed, the expanded form and the kernel's
//! score differ by less than `4γ_{n+2}(‖q‖² + ‖x‖²)`; the filter subtracts twice that,
//! `(8n + 32)u·(‖q‖² + ‖x‖²)`, plus `4(n + 4)` times the smallest normal float for
//! underflow, which also covers the few roundings of the bound's own arithmetic. A
//! vector with a norm of `2^100` or more (or a NaN) takes no part in the bound: its pairs
//! are all scored exactly.
//!
//! **Cost.** The product is `2·nq·n·dim` flops; the memory is `threads·nq·k·12` bytes of
//! heaps, two copies of the queries, and per worker a packed block of rows (256 KiB). At
//! worst (every row at the same distance from a query) every pair passes the filter and
//! the search costs what the direct scan costs, plus the product.
//!
//! [`add`]: ExactSearch::add
//! [`results`]: ExactSearch::results

use crate::error::{exact_len, rows_of};
use crate::kernels::exact::{block_rows, pack_queries, sweep, QueryPack, Shared, Worker};
use crate::kernels::l2::{knn_scan, Accumulate, NegProduct, Product, SqDiff};
use crate::parallel;
use crate::search::{check_queries, check_search, Heaps, TopK};
use crate::simd::Isa;
use crate::Error;
use std::sync::atomic::AtomicUsize;

pub use crate::metric::Metric;

/// Fewer queries than this are scored pair by pair: a register tile holds 16 queries at
/// AVX2, and with fewer the product's packing, padding and per-block work cost more than
/// its speed saves (break-even measured at 8 to 12 queries on Zen 3, at every level).
pub const PRODUCT_MIN_QUERIES: usize = 16;

/// An exact top-k search fed with blocks of rows.
///
/// ```
/// use vq::exact::{ExactSearch, Metric};
/// let queries = [0.0f32, 0.0, 1.0, 1.0];
/// let mut search = ExactSearch::new(2, &queries, 1, Metric::L2, 1).unwrap();
/// search.add(&[5.0, 5.0, 1.0, 0.0], 0).unwrap(); // rows 0 and 1
/// search.add(&[0.9, 1.1], 10).unwrap(); // row 10
/// let (mut dist, mut ids) = ([0.0f32; 2], [0i64; 2]);
/// search.results(&mut dist, &mut ids).unwrap();
/// assert_eq!(ids, [1, 10]);
/// ```
pub struct ExactSearch {
    dim: usize,
    k: usize,
    metric: Metric,
    /// The level every call of this search runs at: read once by [`ExactSearch::new`], so
    /// every block is scored by the same kernels.
    isa: Isa,
    /// `nq × dim`, as scored: as given for L2, negated for the similarities, so that every
    /// score is smaller-is-better (`(−q)·x` is `−(q·x)` to the bit: rounding is symmetric).
    queries: Vec<f32>,
    /// Cosine: each query's `1/‖q‖`, which scales its results (rows are normalized as they
    /// come); empty for the other metrics.
    query_inv_norms: Vec<f32>,
    /// The queries as the product reads them, and their terms of the bound; `None` when
    /// pairs are scored directly.
    pack: Option<QueryPack>,
    workers: Vec<Worker>,
    /// The lowest id the next block may start at.
    next_id: i64,
}

impl ExactSearch {
    /// A search of every `dim`-wide row of `queries` for its `k` best rows by `metric`, on
    /// `threads` threads (0: every core; 1 without the `parallel` feature). The SIMD level is
    /// read here and holds for every later call.
    ///
    /// # Errors
    /// `k = 0` or `nq·k` overflowing ([`Error::OutOfRange`]), `dim = 0`, `queries` not whole
    /// rows ([`Error::NotWholeRows`]), a non-finite query value ([`Error::NonFinite`]).
    pub fn new(dim: usize, queries: &[f32], k: usize, metric: Metric, threads: usize) -> Result<Self, Error> {
        let nq = check_queries(dim, queries, k)?;
        let isa = Isa::current();
        // The queries as given: the product is −2·x·q, which is the L2 form's cross term and
        // twice the inner product's score.
        let b = Bound::of(metric, dim);
        let pack = (nq >= PRODUCT_MIN_QUERIES).then(|| pack_queries(isa, queries, dim, b.row_factor, b.query_offset));
        let query_inv_norms = match metric {
            Metric::Cosine => queries.chunks_exact(dim).map(crate::metric::inv_norm).collect(),
            _ => Vec::new(),
        };
        let queries: Vec<f32> = match metric {
            Metric::L2 => queries.to_vec(),
            _ => queries.iter().map(|v| -v).collect(),
        };
        let threads = parallel::thread_count(threads).max(1);
        Ok(ExactSearch {
            dim,
            k,
            metric,
            isa,
            queries,
            query_inv_norms,
            pack,
            workers: (0..threads).map(|_| Worker::default()).collect(),
            next_id: 0,
        })
    }

    /// Adds the rows of `rows` (`dim` wide) with ids `first_id`, `first_id + 1`, …: the
    /// next block of the base. Values are not checked: a row whose score is NaN, or the
    /// worst there is (a distance of +∞, an inner product of −∞), never enters the results,
    /// as with [`crate::search::knn`].
    ///
    /// # Errors
    /// [`Error::NotWholeRows`]; `first_id` below the end of the previous block (or below 0),
    /// or the block's last id above `i64::MAX` ([`Error::OutOfRange`]). Nothing is added.
    pub fn add(&mut self, rows: &[f32], first_id: i64) -> Result<(), Error> {
        let n = rows_of("rows", rows.len(), self.dim)?;
        if first_id < self.next_id {
            return Err(Error::OutOfRange {
                what: "first_id",
                got: match self.next_id {
                    0 => format!("{first_id}"),
                    end => format!("{first_id}, below {end} where the previous block ended"),
                },
                accepted: "ids rising from block to block: at least the end of the previous block (0 for the first)",
            });
        }
        let end = i64::try_from(n).ok().and_then(|n| first_id.checked_add(n)).ok_or_else(|| Error::OutOfRange {
            what: "first_id",
            got: format!("{first_id} with {n} rows"),
            accepted: "first_id + rows at most i64::MAX",
        })?;
        match self.metric {
            Metric::L2 => self.sweep(SqDiff, rows, first_id),
            Metric::InnerProduct => self.sweep(Product, rows, first_id),
            _ => {
                // Cosine: the rows normalized, a bounded chunk at a time (32 MiB).
                let per = ((8 << 20) / self.dim).max(1);
                let mut unit = Vec::new();
                for (c, chunk) in rows.chunks(per * self.dim).enumerate() {
                    unit.clear();
                    unit.extend_from_slice(chunk);
                    crate::metric::normalize_rows(self.dim, &mut unit);
                    self.sweep(Product, &unit, first_id + (c * per) as i64);
                }
            }
        }
        self.next_id = end;
        Ok(())
    }

    fn sweep<A: Accumulate + Sync>(&mut self, acc: A, rows: &[f32], first_id: i64) {
        let (dim, nq) = (self.dim, self.queries.len() / self.dim);
        let n = rows.len() / dim;
        if n == 0 || nq == 0 {
            return;
        }
        let bound = Bound::of(self.metric, dim);
        // The direct way scores one query at a time against a cached block of its own, so
        // its blocks only need to be long enough to share out.
        let block_rows = if self.pack.is_some() { block_rows(dim) } else { 4096 };
        let next = AtomicUsize::new(0);
        let shared = Shared {
            dim,
            k: self.k,
            queries: &self.queries,
            pack: self.pack.as_ref(),
            row_factor: bound.row_factor,
            scale: bound.scale,
            rows,
            first_id,
            block_rows,
            next: &next,
            acc,
        };
        let isa = self.isa;
        let workers = self.workers.len().min(n.div_ceil(block_rows));
        parallel::on_threads(&mut self.workers[..workers], |w| sweep(isa, &shared, w));
    }

    /// Writes every query's `k` best rows so far, best first, into `distances` and
    /// `labels` (`nq·k` each, query after query): squared distances ascending (L2), inner
    /// products or cosine similarities descending, ties to the lower id, `(+∞, −1)` (L2) or
    /// `(−∞, −1)` (the similarities) past the rows added. The search can go on after.
    ///
    /// # Errors
    /// [`Error::BufferLength`] unless both buffers hold `nq·k` values.
    pub fn results(&self, distances: &mut [f32], labels: &mut [i64]) -> Result<(), Error> {
        let k = self.k;
        exact_len("distances", distances.len(), self.queries.len() / self.dim * k)?;
        exact_len("labels", labels.len(), distances.len())?;
        let started: Vec<&Worker> = self.workers.iter().filter(|w| w.started()).collect();
        for (q, (dist, ids)) in distances.chunks_exact_mut(k).zip(labels.chunks_exact_mut(k)).enumerate() {
            let mut top = TopK::new(dist, ids)?;
            for w in &started {
                for (&d, &id) in w.dist[q * k..(q + 1) * k].iter().zip(&w.ids[q * k..(q + 1) * k]) {
                    // `+ 0.0` makes −0 (an inner product of zero) +0, so the merge's total
                    // order ranks it as each worker's `<` did: equal, then by id.
                    if id >= 0 {
                        top.push(d + 0.0, id);
                    }
                }
            }
            top.finish();
            crate::metric::report(self.metric, self.query_inv_norms.get(q).copied().unwrap_or(1.0), dist);
        }
        Ok(())
    }

    /// The number of queries.
    pub fn queries(&self) -> usize {
        self.queries.len() / self.dim
    }

    /// Results per query.
    pub fn k(&self) -> usize {
        self.k
    }
}

/// The filter's terms for a metric (see the module docs): a pair is scored exactly unless
/// `product + row_factor·‖x‖² ≥ scale·threshold − (row_factor·‖q‖² − query_offset)`.
struct Bound {
    row_factor: f32,
    query_offset: f32,
    scale: f32,
}

impl Bound {
    fn of(metric: Metric, dim: usize) -> Bound {
        let n = dim as f32;
        // (8n + 32)u with u = ε/2; the product is −2·q·x for both metrics.
        let c = (4.0 * n + 16.0) * f32::EPSILON;
        let tiny = 4.0 * (n + 4.0) * f32::MIN_POSITIVE;
        match metric {
            // ‖q‖² + ‖x‖² − 2q·x − c(‖q‖² + ‖x‖²) − tiny
            Metric::L2 => Bound { row_factor: 1.0 - c, query_offset: tiny, scale: 1.0 },
            // Scores are −q·x and the product is twice that: 2·(score − c(‖q‖² + ‖x‖²) − tiny).
            // Cosine is this over normalized rows.
            _ => Bound { row_factor: -2.0 * c, query_offset: 2.0 * tiny, scale: 2.0 },
        }
    }
}

/// Exact k-nearest neighbours by squared L2 of each query among `rows` (both `dim` wide):
/// [`knn_with_metric`] with [`Metric::L2`].
///
/// # Errors
/// As [`knn_with_metric`].
pub fn knn(
    dim: usize,
    queries: &[f32],
    rows: &[f32],
    k: usize,
    distances: &mut [f32],
    labels: &mut [i64],
) -> Result<(), Error> {
    knn_with_metric(Metric::L2, dim, queries, rows, k, distances, labels)
}

/// Exact k-nearest neighbours of each query among `rows` (both `dim` wide) under `metric`:
/// `k = distances.len() / nq` results per query, best first (see [`crate::metric`]: squared
/// distances ascending, inner products or cosine similarities descending), ties to the
/// lower id, `(+∞, −1)` (L2) or `(−∞, −1)` where there are fewer than k rows. Scores are
/// those of [`crate::kernels::l2sq`] or [`crate::kernels::dot`] at the current SIMD level,
/// bit for bit (for cosine, the inner product with the normalized row times `1/‖q‖`).
///
/// With fewer than [`PRODUCT_MIN_QUERIES`] queries, rows are scored pair by pair in blocks
/// that stay in cache while every query visits them, and the call allocates nothing (for
/// cosine, rows are normalized through the thread's scratch buffer, made by its first such
/// call); with more, it runs [`ExactSearch`] on the calling thread, which allocates its
/// heaps, a copy of the queries and the product's buffers for the call.
///
/// # Errors
/// [`Error::NotWholeRows`], [`Error::BufferLength`], `k = 0`
/// ([`Error::OutOfRange`]), a non-finite query ([`Error::NonFinite`]).
pub fn knn_with_metric(
    metric: Metric,
    dim: usize,
    queries: &[f32],
    rows: &[f32],
    k: usize,
    distances: &mut [f32],
    labels: &mut [i64],
) -> Result<(), Error> {
    rows_of("rows", rows.len(), dim)?;
    let nq = check_search(dim, queries, k, distances, labels)?;
    if nq >= PRODUCT_MIN_QUERIES {
        let mut search = ExactSearch::new(dim, queries, k, metric, 1)?;
        search.add(rows, 0)?;
        return search.results(distances, labels);
    }
    let isa = Isa::current();
    let mut heaps = Heaps::start(distances, labels, k);
    match metric {
        Metric::L2 => knn_scan(isa, SqDiff, dim, queries, rows, 0, &mut heaps),
        Metric::InnerProduct => knn_scan(isa, NegProduct, dim, queries, rows, 0, &mut heaps),
        _ => crate::metric::normalized_chunks(dim, rows, |unit, first| {
            knn_scan(isa, NegProduct, dim, queries, unit, first as i64, &mut heaps)
        }),
    }
    heaps.finish();
    crate::metric::report_queries(metric, dim, queries, k, distances);
    Ok(())
}
