//! Squared Euclidean distance and inner product of f32 vectors.
//!
//! The one-vs-many form (`out[i] = ‖q − row_i‖²`) is the hot loop of exact search and of
//! k-means assignment. It walks four rows at a time so each query register loaded from L1
//! feeds four independent accumulator chains (eight with the even/odd split), which hides
//! the FMA latency and leaves the loop bound by loads: memory bandwidth for rows that do
//! not fit in cache, L1/L2 bandwidth for rows that do.
//!
//! Results differ from an exact sum only by float rounding; FMA and non-FMA levels can
//! differ in the last bits, so tests compare with a tolerance (see [`crate::reference`]).

use crate::error::{exact_len, rows_of};
use crate::{simd, Error};
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

/// Four rows against one query; two accumulators per row (even and odd register).
#[inline(always)]
fn four_rows_body<S: Simd, A: Accumulate>(simd: S, q: &[f32], rows: &[f32], out: &mut [f32; 4]) {
    let d = q.len();
    let (qh, qt) = S::as_simd_f32s(q);
    let (r0h, r0t) = S::as_simd_f32s(&rows[..d]);
    let (r1h, r1t) = S::as_simd_f32s(&rows[d..2 * d]);
    let (r2h, r2t) = S::as_simd_f32s(&rows[2 * d..3 * d]);
    let (r3h, r3t) = S::as_simd_f32s(&rows[3 * d..4 * d]);
    let zero = simd.splat_f32s(0.0);
    let mut acc = [[zero; 2]; 4];
    let (q2, q1) = pulp::as_arrays::<2, _>(qh);
    let n2 = q2.len();
    for (i, qq) in q2.iter().enumerate() {
        for (j, rh) in [r0h, r1h, r2h, r3h].iter().enumerate() {
            acc[j][0] = A::step(simd, qq[0], rh[2 * i], acc[j][0]);
            acc[j][1] = A::step(simd, qq[1], rh[2 * i + 1], acc[j][1]);
        }
    }
    if let Some(&qv) = q1.first() {
        for (j, rh) in [r0h, r1h, r2h, r3h].iter().enumerate() {
            acc[j][0] = A::step(simd, qv, rh[2 * n2], acc[j][0]);
        }
    }
    if !qt.is_empty() {
        let qv = simd.partial_load_f32s(qt);
        for (j, rt) in [r0t, r1t, r2t, r3t].iter().enumerate() {
            acc[j][1] = A::step(simd, qv, simd.partial_load_f32s(rt), acc[j][1]);
        }
    }
    for (o, a) in out.iter_mut().zip(acc) {
        *o = simd.reduce_sum_f32s(simd.add_f32s(a[0], a[1]));
    }
}

/// `out[i] = acc(query, row_i)` for every row; the generic body behind the batch calls.
#[inline(always)]
pub(crate) fn batch_body<S: Simd, A: Accumulate>(simd: S, q: &[f32], rows: &[f32], out: &mut [f32]) {
    let d = q.len();
    if d == 0 {
        out.fill(0.0);
        return;
    }
    let (out4, out1) = out.as_chunks_mut::<4>();
    let (rows4, rows1) = rows.split_at(out4.len() * 4 * d);
    for (o, r) in out4.iter_mut().zip(rows4.chunks_exact(4 * d)) {
        four_rows_body::<S, A>(simd, q, r, o);
    }
    for (o, r) in out1.iter_mut().zip(rows1.chunks_exact(d)) {
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
    Ok(simd::arch().dispatch(Pair { a, b, _acc: SqDiff }))
}

/// `a · b`.
///
/// # Errors
/// [`Error::DimensionMismatch`] if the lengths differ.
pub fn dot(a: &[f32], b: &[f32]) -> Result<f32, Error> {
    check_pair(a, b)?;
    Ok(simd::arch().dispatch(Pair { a, b, _acc: Product }))
}

/// `out[i] = ‖query − rows[i]‖²` for `n = out.len()` contiguous rows of `query.len()` floats.
///
/// # Errors
/// [`Error::NotWholeRows`] if `rows` is not a whole number of rows, [`Error::BufferLength`]
/// if `out` does not have one slot per row.
pub fn l2sq_batch(query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<(), Error> {
    check_batch(query, rows, out)?;
    simd::arch().dispatch(Batch { q: query, rows, out, _acc: SqDiff });
    Ok(())
}

/// `out[i] = query · rows[i]`, the inner-product twin of [`l2sq_batch`].
///
/// # Errors
/// As [`l2sq_batch`].
pub fn dot_batch(query: &[f32], rows: &[f32], out: &mut [f32]) -> Result<(), Error> {
    check_batch(query, rows, out)?;
    simd::arch().dispatch(Batch { q: query, rows, out, _acc: Product });
    Ok(())
}

/// Crate-internal unchecked entry for callers that validated shapes already and dispatch
/// themselves (search, k-means): `out[i] = ‖q − row_i‖²`.
#[inline(always)]
pub(crate) fn l2sq_rows<S: Simd>(simd: S, q: &[f32], rows: &[f32], out: &mut [f32]) {
    batch_body::<S, SqDiff>(simd, q, rows, out)
}
