//! Squared Euclidean distance and inner product of f32 vectors.
//!
//! The one-vs-many form (`out[i] = ‖q − row_i‖²`) is the hot loop of exact search and of
//! k-means assignment. It walks the rows one after another, each with four accumulator
//! chains to hide the FMA latency, so the loop is bound by loads: memory bandwidth for rows
//! that do not fit in cache, L1/L2 bandwidth for rows that do. Interleaving four rows (to
//! reuse each query register four times) measured the same in cache but 20-60% slower from
//! memory: four strided streams defeat the hardware prefetcher that one sequential stream
//! keeps busy (2026-11, Zen 5, huge pages; see docs/PERFORMANCE.md).
//!
//! Results differ from an exact sum only by float rounding; FMA and non-FMA levels can
//! differ in the last bits, so tests compare with a tolerance (see [`crate::reference`]).

use crate::error::{exact_len, rows_of};
use crate::search::{scan_blocks, Heaps, ScoreRows, BLOCK_ROWS};
use crate::simd::Isa;
use crate::Error;
use pulp::{Simd, WithSimd};

/// How one pair of lanes adds to an accumulator: the only difference between L2 and IP.
pub(crate) trait Accumulate: Copy {
    fn step<S: Simd>(simd: S, q: S::f32s, r: S::f32s, acc: S::f32s) -> S::f32s;
}

/// `acc + (q − r)²`
#[derive(Clone, Copy)]
pub(crate) struct SqDiff;
impl Accumulate for SqDiff {
    #[inline(always)]
    fn step<S: Simd>(simd: S, q: S::f32s, r: S::f32s, acc: S::f32s) -> S::f32s {
        let d = simd.sub_f32s(q, r);
        simd.mul_add_e_f32s(d, d, acc)
    }
}

/// `acc + q·r`
#[derive(Clone, Copy)]
pub(crate) struct Product;
impl Accumulate for Product {
    #[inline(always)]
    fn step<S: Simd>(simd: S, q: S::f32s, r: S::f32s, acc: S::f32s) -> S::f32s {
        simd.mul_add_e_f32s(q, r, acc)
    }
}

/// `acc − q·r`: the inner product negated, exactly (`fma(−q, r, −acc) = −fma(q, r, acc)`
/// to the bit, rounding being symmetric), a smaller-is-better score for the heaps.
#[derive(Clone, Copy)]
pub(crate) struct NegProduct;
impl Accumulate for NegProduct {
    #[inline(always)]
    fn step<S: Simd>(simd: S, q: S::f32s, r: S::f32s, acc: S::f32s) -> S::f32s {
        simd.negate_mul_add_e_f32s(q, r, acc)
    }
}

/// One pair, four accumulators.
#[inline(always)]
pub(crate) fn pair_body<S: Simd, A: Accumulate>(simd: S, a: &[f32], b: &[f32]) -> f32 {
    let (ah, at) = S::as_simd_f32s(a);
    let (bh, bt) = S::as_simd_f32s(b);
    let zero = simd.splat_f32s(0.0);
    let (mut c0, mut c1, mut c2, mut c3) = (zero, zero, zero, zero);
    let (a4, a1) = pulp::as_arrays::<4, _>(ah);
    let (b4, b1) = pulp::as_arrays::<4, _>(bh);
    for (a, b) in a4.iter().zip(b4) {
        c0 = A::step(simd, a[0], b[0], c0);
        c1 = A::step(simd, a[1], b[1], c1);
        c2 = A::step(simd, a[2], b[2], c2);
        c3 = A::step(simd, a[3], b[3], c3);
    }
    for (a, b) in a1.iter().zip(b1) {
        c0 = A::step(simd, *a, *b, c0);
    }
    if !at.is_empty() {
        c1 = A::step(simd, simd.partial_load_f32s(at), simd.partial_load_f32s(bt), c1);
    }
    simd.reduce_sum_f32s(simd.add_f32s(simd.add_f32s(c0, c1), simd.add_f32s(c2, c3)))
}

/// `out[i] = acc(query, row_i)` for every row; the generic body behind the batch calls.
#[inline(always)]
pub(crate) fn batch_body<S: Simd, A: Accumulate>(simd: S, q: &[f32], rows: &[f32], out: &mut [f32]) {
    let d = q.len();
    if d == 0 {
        out.fill(0.0);
        return;
    }
    for (o, r) in out.iter_mut().zip(rows.chunks_exact(d)) {
        *o = pair_body::<S, A>(simd, q, r);
    }
}

struct Pair<'a, A> {
    a: &'a [f32],
    b: &'a [f32],
    _acc: A,
}
impl<A: Accumulate> WithSimd for Pair<'_, A> {
    type Output = f32;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f32 {
        pair_body::<S, A>(simd, self.a, self.b)
    }
}

struct Batch<'a, A> {
    q: &'a [f32],
    rows: &'a [f32],
    out: &'a mut [f32],
    _acc: A,
}
impl<A: Accumulate> WithSimd for Batch<'_, A> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        batch_body::<S, A>(simd, self.q, self.rows, self.out)
    }
}

fn check_pair(a: &[f32], b: &[f32]) -> Result<(), Error> {
    if a.len() != b.len() {
        return Err(Error::DimensionMismatch { what: "b", got: b.len(), expected: a.len() });
    }
    Ok(())
}

fn check_batch(q: &[f32], rows: &[f32], out: &[f32]) -> Result<(), Error> {
    if q.is_empty() {
        return if rows.is_empty() {
            Ok(())
        } else {
            Err(Error::NotWholeRows { what: "rows", len: rows.len(), dim: 0 })
        };
    }
    let n = rows_of("rows", rows.len(), q.len())?;
    exact_len("out", out.len(), n)
}

/// `‖a − b‖²`.
///
/// # Errors
/// [`Error::DimensionMismatch`] if the lengths differ.
pub fn l2sq(a: &[f32], b: &[f32]) -> Result<f32, Error> {
    check_pair(a, b)?;
    Ok(Isa::current().dispatch(Pair { a, b, _acc: SqDiff }))
}

/// `a · b`.
///
/// # Errors
/// [`Error::DimensionMismatch`] if the lengths differ.
pub fn dot(a: &[f32], b: &[f32]) -> Result<f32, Error> {
    check_pair(a, b)?;
    Ok(Isa::current().dispatch(Pair { a, b, _acc: Product }))
}

/// `out[i] = ‖query − rows[i]‖²` for `n = out.len()` contiguous rows of `query.len()` floats.
///
/// # Errors
/// [`Error::NotWholeRows`] if `rows` is not a whole number of rows, [`Error::BufferLength`]
/// if `out` does not have one slot per row.
pub fn l2sq_batch(query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<(), Error> {
    check_batch(query, rows, out)?;
    l2sq_batch_at(Isa::current(), query, rows, out);
    Ok(())
}

/// [`l2sq_batch`] at a given level, for crate callers that checked the shapes.
pub(crate) fn l2sq_batch_at(isa: Isa, query: &[f32], rows: &[f32], out: &mut [f32]) {
    isa.dispatch(Batch { q: query, rows, out, _acc: SqDiff });
}

/// `out[i] = query · rows[i]`, the inner-product twin of [`l2sq_batch`].
///
/// # Errors
/// As [`l2sq_batch`].
pub fn dot_batch(query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<(), Error> {
    check_batch(query, rows, out)?;
    Isa::current().dispatch(Batch { q: query, rows, out, _acc: Product });
    Ok(())
}

/// Exact search's direct scan: the score of every query (`dim` wide) against every row
/// under `acc` (`SqDiff` for squared L2, `NegProduct` for the negated inner product), into
/// the queries' heaps, ids from `first_id`. [`crate::exact`] uses it where a matrix product
/// does not pay (few queries).
pub(crate) fn knn_scan<A: Accumulate>(
    isa: Isa,
    acc: A,
    dim: usize,
    queries: &[f32],
    rows: &[f32],
    first_id: i64,
    heaps: &mut Heaps<'_>,
) {
    isa.dispatch(Knn { acc, dim, queries, rows, first_id, heaps });
}

struct Knn<'a, 'h, A> {
    acc: A,
    dim: usize,
    queries: &'a [f32],
    rows: &'a [f32],
    first_id: i64,
    heaps: &'a mut Heaps<'h>,
}

impl<A: Accumulate> WithSimd for Knn<'_, '_, A> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        scan_rows(simd, self.acc, self.dim, self.queries, self.rows, self.first_id, self.heaps);
    }
}

/// The body of [`knn_scan`] for any accumulation (`SqDiff`: squared L2; `Product` with
/// negated queries: inner product as a smaller-is-better score), ids from `first_id`: rows
/// in blocks of about 64 KiB that stay in L2 while every query scores them.
#[inline(always)]
pub(crate) fn scan_rows<S: Simd, A: Accumulate>(
    simd: S,
    acc: A,
    dim: usize,
    queries: &[f32],
    rows: &[f32],
    first_id: i64,
    heaps: &mut Heaps<'_>,
) {
    let block = (65_536 / (4 * dim)).clamp(16, BLOCK_ROWS);
    let mut scorer = RowsOf { simd, dim, queries, rows, _acc: acc };
    scan_blocks(heaps, queries.len() / dim, rows.len() / dim, first_id, block, &mut scorer);
}

/// Queries against rows of raw vectors.
struct RowsOf<'a, S, A> {
    simd: S,
    dim: usize,
    queries: &'a [f32],
    rows: &'a [f32],
    _acc: A,
}

impl<S: Simd, A: Accumulate> ScoreRows for RowsOf<'_, S, A> {
    #[inline(always)]
    fn score(&mut self, q: usize, rows: std::ops::Range<usize>, out: &mut [f32]) {
        let d = self.dim;
        let rows = &self.rows[rows.start * d..rows.end * d];
        batch_body::<S, A>(self.simd, &self.queries[q * d..(q + 1) * d], rows, out);
    }
}

/// Crate-internal unchecked entry for callers that validated shapes already and dispatch
/// themselves (search, k-means): `out[i] = ‖q − row_i‖²`.
#[inline(always)]
pub(crate) fn l2sq_rows<S: Simd>(simd: S, q: &[f32], rows: &[f32], out: &mut [f32]) {
    batch_body::<S, SqDiff>(simd, q, rows, out)
}
