//! Top-k selection into caller buffers, shared by every search of the crate; and
//! [`knn`], exact k-nearest-neighbour search (whose engine lives in [`crate::exact`]).
//!
//! [`TopK`] keeps the k best `(distance, id)` pairs as a max-heap laid directly in the
//! caller's two output slices: it starts full of sentinels `(+∞, −1)` and never grows, so it
//! needs no length field, no allocation, and can be resumed block after block. Pairs order by
//! distance, then id, with the sentinel id −1 ranking after every real id: ties go to the
//! lower id, the rule every ground-truth file in this field uses. Because scans visit ids in
//! increasing order, a candidate only needs a strict `<` against the current worst.

use crate::error::{exact_len, rows_of};
use crate::Error;

/// Rows scored per block: small enough that the distances stay in L1, large enough to
/// amortize the heap's threshold check.
pub(crate) const BLOCK_ROWS: usize = 256;

/// A bounded max-heap of the k best `(distance, id)` pairs, living in caller buffers.
pub struct TopK<'a> {
    dist: &'a mut [f32],
    ids: &'a mut [i64],
}

#[inline(always)]
fn key(id: i64) -> u64 {
    // −1 (no result) maps to u64::MAX and so ranks after every real id.
    id as u64
}

#[inline(always)]
fn less(d0: f32, i0: i64, d1: f32, i1: i64) -> bool {
    match d0.total_cmp(&d1) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => key(i0) < key(i1),
    }
}

impl<'a> TopK<'a> {
    /// Starts a selection of `dist.len()` entries, filling both buffers with sentinels.
    ///
    /// # Errors
    /// [`Error::BufferLength`] if the two buffers differ in length.
    pub fn new(dist: &'a mut [f32], ids: &'a mut [i64]) -> Result<Self, Error> {
        exact_len("labels", ids.len(), dist.len())?;
        dist.fill(f32::INFINITY);
        ids.fill(-1);
        Ok(TopK { dist, ids })
    }

    /// Resumes a selection whose buffers hold a heap left by an earlier `TopK` (crate use).
    pub(crate) fn resume(dist: &'a mut [f32], ids: &'a mut [i64]) -> Self {
        TopK { dist, ids }
    }

    /// The current k-th best distance: a candidate must beat it to enter.
    #[inline(always)]
    pub fn threshold(&self) -> f32 {
        self.dist.first().copied().unwrap_or(f32::NEG_INFINITY)
    }

    /// Offers one candidate.
    #[inline]
    pub fn push(&mut self, d: f32, id: i64) {
        if self.dist.is_empty() || !less(d, id, self.dist[0], self.ids[0]) {
            return;
        }
        self.replace_top(d, id);
    }

    /// Offers `dist[i]` with id `first_id + i` for every i; the scan loop of every search.
    #[inline(always)]
    pub fn push_block(&mut self, dist: &[f32], first_id: i64) {
        let mut thr = self.threshold();
        for (i, &d) in dist.iter().enumerate() {
            // Ids rise through the block, so an equal distance never displaces anything.
            if d < thr {
                self.replace_top(d, first_id + i as i64);
                thr = self.threshold();
            }
        }
    }

    fn replace_top(&mut self, d: f32, id: i64) {
        self.dist[0] = d;
        self.ids[0] = id;
        self.sift_down(0, self.dist.len());
    }

    fn sift_down(&mut self, mut i: usize, end: usize) {
        loop {
            let l = 2 * i + 1;
            if l >= end {
                return;
            }
            let r = l + 1;
            let c = if r < end && less(self.dist[l], self.ids[l], self.dist[r], self.ids[r]) { r } else { l };
            if !less(self.dist[i], self.ids[i], self.dist[c], self.ids[c]) {
                return;
            }
            self.dist.swap(i, c);
            self.ids.swap(i, c);
            i = c;
        }
    }

    /// Sorts the buffers ascending (in place, heap sort): best first, sentinels last.
    pub fn finish(mut self) {
        for end in (1..self.dist.len()).rev() {
            self.dist.swap(0, end);
            self.ids.swap(0, end);
            self.sift_down(0, end);
        }
    }
}

/// The top-k heaps of a batch search, one [`TopK`] per query laid in the caller's
/// `distances` and `labels` (`k` entries per query): the one place every search of the
/// crate (exact, SQ, PQ) starts its heaps with sentinels, offers them blocks of scored rows
/// and sorts them at the end.
pub(crate) struct Heaps<'a> {
    distances: &'a mut [f32],
    labels: &'a mut [i64],
    k: usize,
}

impl<'a> Heaps<'a> {
    /// One heap of sentinels per query; the shapes are [`check_search`]'s (`k ≥ 1`, both
    /// buffers `nq·k` long).
    pub(crate) fn start(distances: &'a mut [f32], labels: &'a mut [i64], k: usize) -> Self {
        distances.fill(f32::INFINITY);
        labels.fill(-1);
        Heaps { distances, labels, k }
    }

    /// Heaps left in `distances` and `labels` by an earlier `Heaps` (or filled with
    /// sentinels by [`Heaps::start`]), to offer more rows to.
    pub(crate) fn resume(distances: &'a mut [f32], labels: &'a mut [i64], k: usize) -> Self {
        Heaps { distances, labels, k }
    }

    /// Offers query `q` the distance `dist[i]` of row `first_id + i`, for every `i`.
    #[inline(always)]
    pub(crate) fn push_block(&mut self, q: usize, dist: &[f32], first_id: i64) {
        let r = q * self.k..(q + 1) * self.k;
        TopK::resume(&mut self.distances[r.clone()], &mut self.labels[r]).push_block(dist, first_id);
    }

    /// The heaps' buffers, for a kernel that keeps them itself (the PQ scan of one query per
    /// register lane), and `k`.
    pub(crate) fn buffers(&mut self) -> (&mut [f32], &mut [i64], usize) {
        (self.distances, self.labels, self.k)
    }

    /// Sorts every query's results, best first, sentinels last.
    pub(crate) fn finish(self) {
        for (d, l) in self.distances.chunks_exact_mut(self.k).zip(self.labels.chunks_exact_mut(self.k)) {
            TopK::resume(d, l).finish();
        }
    }
}

/// What [`scan_blocks`] scores: query `q` against `rows`, one distance each into `out`.
/// A trait rather than a closure so the scoring inlines into the caller's SIMD context.
pub(crate) trait ScoreRows {
    /// Writes the distances of query `q` to rows `rows` into `out` (`rows.len()` floats).
    fn score(&mut self, q: usize, rows: std::ops::Range<usize>, out: &mut [f32]);
}

/// Every query's top-k over `n` rows, ids from `first_id`, scored in blocks of `block` rows
/// (at most [`BLOCK_ROWS`]): blocks outer and queries inner, so a block stays in cache
/// while every query scores it, and the distances of one block and query stay in L1.
#[inline(always)]
pub(crate) fn scan_blocks(
    heaps: &mut Heaps<'_>,
    nq: usize,
    n: usize,
    first_id: i64,
    block: usize,
    scorer: &mut impl ScoreRows,
) {
    let mut buf = [0f32; BLOCK_ROWS];
    for start in (0..n).step_by(block) {
        let out = &mut buf[..block.min(n - start)];
        for q in 0..nq {
            scorer.score(q, start..start + out.len(), out);
            heaps.push_block(q, out, first_id + start as i64);
        }
    }
}

/// Checks the shapes of a batch search (and that the queries are finite); returns `nq`.
pub(crate) fn check_search(
    dim: usize,
    queries: &[f32],
    k: usize,
    distances: &[f32],
    labels: &[i64],
) -> Result<usize, Error> {
    let nq = check_queries(dim, queries, k)?;
    exact_len("distances", distances.len(), nq * k)?;
    exact_len("labels", labels.len(), nq * k)?;
    Ok(nq)
}

/// Checks the queries of a search and its `k`: `k ≥ 1`, whole rows, `nq·k` representable,
/// every value finite; returns `nq`.
pub(crate) fn check_queries(dim: usize, queries: &[f32], k: usize) -> Result<usize, Error> {
    if k == 0 {
        return Err(Error::OutOfRange { what: "k", got: "0".into(), accepted: ">= 1" });
    }
    let nq = rows_of("queries", queries.len(), dim)?;
    // k comes from the caller (a C host may pass anything): nq·k must not wrap, or a wrapped
    // product could match a short buffer.
    nq.checked_mul(k).ok_or_else(|| Error::OutOfRange {
        what: "k",
        got: format!("{k} for {nq} queries (nq·k overflows)"),
        accepted: "nq·k within the address space",
    })?;
    if let Some(i) = queries.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { what: "queries", index: i });
    }
    Ok(nq)
}

pub use crate::exact::{knn, knn_with_metric};
