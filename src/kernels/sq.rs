//! Scalar-quantizer kernels: encode (f32 → codes), decode (codes → f32) and the asymmetric
//! distance of an f32 query to encoded rows, for 4, 8 and 16 bits per dimension.
//!
//! The quantizer (see [`crate::sq`]) splits each dimension's trained range `[vmin, vmax]`
//! into `L = 2^bits` cells of width `step = (vmax − vmin)/L` and stores the index of the
//! nearest cell centre. The kernels only see per-dimension parameters:
//!
//! - encode: `code = round_ties_even(clamp((x − vmin)·inv − ½, 0, L − 1))`, `inv = L/range`
//!   (0 for a constant dimension), computed with the same non-fused f32 operations on
//!   every level, so codes are bit-identical across instruction sets;
//! - decode: `x̂ = code·step + base`, `base = vmin + step/2`, also non-fused and identical;
//! - distance: `Σ (q − (code·step + base))²` with fused multiply-adds, so it matches the
//!   decoded distance up to float rounding; the inner product `Σ q·(code·step + base)`
//!   runs through the same loops with one FMA less per register ([`Score`]). Rows go four at a time so each query, step and
//!   base register feeds four code rows.
//!
//! Codes are laid out as [`crate::codes`] describes: 4 bits per dimension in the nibble
//! layout, 8 in bytes, 16 in little-endian u16s; each kernel is compiled once per layout.

use super::l2::{Accumulate, NegProduct, Product, SqDiff};
use super::lanes::{f32_lanes, rounded_u32_lanes};
use crate::codes::{with_layout, CodeLayout, Layout};
use crate::search::{scan_blocks, Heaps, ScoreRows, BLOCK_ROWS};
use crate::simd::Isa;
use pulp::Simd;
use pulp::WithSimd;
use std::marker::PhantomData;

/// Per-dimension parameters of a trained scalar quantizer, as the kernels read them.
#[derive(Clone, Copy)]
pub(crate) struct Params<'a> {
    pub vmin: &'a [f32],
    pub inv: &'a [f32],
    pub step: &'a [f32],
    pub base: &'a [f32],
    /// `L − 1` as a float: the largest code.
    pub max_code: f32,
}

/// Codes of one register of values, as integer lanes (the rounding rule of the module docs).
#[inline(always)]
fn code_lanes<S: Simd>(simd: S, x: S::f32s, vmin: S::f32s, inv: S::f32s, max: S::f32s) -> S::u32s {
    let y = simd.sub_f32s(simd.mul_f32s(simd.sub_f32s(x, vmin), inv), simd.splat_f32s(0.5));
    let y = simd.min_f32s(simd.max_f32s(y, simd.splat_f32s(0.0)), max);
    rounded_u32_lanes(simd, y)
}

/// Codes of dimensions `start..start + count` (count ≤ lanes; zero lanes beyond count).
#[inline(always)]
fn codes_at<S: Simd>(simd: S, p: &Params, x: &[f32], start: usize, count: usize) -> S::u32s {
    let max = simd.splat_f32s(p.max_code);
    let end = start + count;
    if count == S::F32_LANES {
        let ld = |s: &[f32]| {
            let (h, _) = S::as_simd_f32s(&s[start..end]);
            h[0]
        };
        code_lanes(simd, ld(x), ld(p.vmin), ld(p.inv), max)
    } else {
        let ld = |s: &[f32]| simd.partial_load_f32s(&s[start..end]);
        code_lanes(simd, ld(x), ld(p.vmin), ld(p.inv), max)
    }
}

/// Dimensions encoded per tile: the codes of a tile go through a small u32 buffer, stored
/// as whole registers and narrowed by one plain loop, which every level compiles to its own
/// packing instructions. Narrowing lane by lane out of a register spilled to the stack cost
/// a store-forwarding stall per lane at AVX2 (slower than the scalar level). A multiple of
/// every lane count, and even, so 4-bit tiles start on a byte.
const ENCODE_TILE: usize = 64;

/// Encodes one row into `out` (exactly the row's code size).
#[inline(always)]
pub(crate) fn encode_row<S: Simd, C: Layout>(simd: S, p: &Params, x: &[f32], out: &mut [u8]) {
    let lanes = S::F32_LANES;
    let mut tmp = [0u32; ENCODE_TILE];
    for (t, xt) in x.chunks(ENCODE_TILE).enumerate() {
        let first = t * ENCODE_TILE;
        let n = xt.len();
        let (th, tt) = S::as_mut_simd_u32s(&mut tmp[..n]);
        for (i, v) in th.iter_mut().enumerate() {
            *v = codes_at(simd, p, x, first + i * lanes, lanes);
        }
        if !tt.is_empty() {
            let c = codes_at(simd, p, x, first + th.len() * lanes, tt.len());
            simd.partial_store_u32s(tt, c);
        }
        C::pack(&tmp[..n], out, first);
    }
}

/// Decodes one row of codes into `out` (the row's dimension).
#[inline(always)]
pub(crate) fn decode_row<S: Simd, C: Layout>(simd: S, p: &Params, row: &[u8], out: &mut [f32]) {
    let lanes = S::F32_LANES;
    let d = out.len();
    let mut start = 0;
    while start + lanes <= d {
        let (s, b) = (&p.step[start..start + lanes], &p.base[start..start + lanes]);
        let c = C::load(simd, row, start);
        let x = simd.add_f32s(simd.mul_f32s(c, S::as_simd_f32s(s).0[0]), S::as_simd_f32s(b).0[0]);
        out[start..start + lanes].copy_from_slice(f32_lanes::<S>(&x));
        start += lanes;
    }
    if start < d {
        let count = d - start;
        let c = C::load_partial(simd, row, start, count);
        let s = simd.partial_load_f32s(&p.step[start..]);
        let b = simd.partial_load_f32s(&p.base[start..]);
        let x = simd.add_f32s(simd.mul_f32s(c, s), b);
        simd.partial_store_f32s(&mut out[start..], x);
    }
}

/// Where a distance kernel gets register `i` of a row's reconstruction `x̂ = c·step + base`.
pub(crate) trait ReconRow: Copy {
    /// Register `i` (lanes `i·L..(i+1)·L`), given that register of step and base.
    fn chunk<S: Simd>(self, simd: S, i: usize, step: S::f32s, base: S::f32s) -> S::f32s;
    /// Lanes `start..start + count`, zero beyond (step and base are zero there too).
    fn tail<S: Simd>(self, simd: S, start: usize, count: usize, step: S::f32s, base: S::f32s) -> S::f32s;
}

/// A row of codes, reconstructed on the fly with one fused multiply-add per register.
#[derive(Clone, Copy)]
pub(crate) struct CodeRow<'a, C>(pub &'a [u8], pub C);

impl<C: Layout> ReconRow for CodeRow<'_, C> {
    #[inline(always)]
    fn chunk<S: Simd>(self, simd: S, i: usize, step: S::f32s, base: S::f32s) -> S::f32s {
        simd.mul_add_e_f32s(C::load(simd, self.0, i * S::F32_LANES), step, base)
    }
    #[inline(always)]
    fn tail<S: Simd>(self, simd: S, start: usize, count: usize, step: S::f32s, base: S::f32s) -> S::f32s {
        simd.mul_add_e_f32s(C::load_partial(simd, self.0, start, count), step, base)
    }
}

/// Most registers of code rows per transposed block. Two keep a d = 128 block at 16 KiB
/// with AVX-512, inside a 32 KiB L1 with room for the queries; four (32 KiB) measured 2×
/// slower, bound by L2 bandwidth. Wider vectors use one register (`R` below).
pub(crate) const MAX_BLOCK_REGS: usize = 2;

/// Dimensions per step of the transposed scan: four accumulators per register make eight
/// independent FMA chains, enough to cover the FMA latency at two FMAs per cycle.
const SPLIT: usize = 2;

/// Reconstructs up to `R·L` code rows into `out` transposed, dimension-major:
/// `out[j·B + i] = x̂_ij` with `B = R·L`; rows past the block's end are zero.
/// Done once per block and read by every query of a batch search, so it may be scalar.
#[inline(always)]
pub(crate) fn recon_block_t<S: Simd, C: Layout, const R: usize>(
    p: &Params,
    codes: &[u8],
    code_size: usize,
    out: &mut [f32],
) {
    let b = R * S::F32_LANES;
    let d = p.step.len();
    let out = &mut out[..d * b];
    out.fill(0.0);
    for (i, row) in codes.chunks_exact(code_size).take(b).enumerate() {
        for (j, (&s, &base)) in p.step.iter().zip(p.base).enumerate() {
            out[j * b + i] = (C::get(row, j) as f32).mul_add(s, base);
        }
    }
}

/// `out[i] = Σ_j (q_j − x̂_ij)²` (or the accumulation `A` of every `(q_j, x̂_ij)`) for the
/// `R·L` rows of a block made by [`recon_block_t`]: each lane is one row, so there is no horizontal reduction, and every
/// register of reconstructions is read once per query from L1.
#[inline(always)]
pub(crate) fn distances_block_t<S: Simd, A: Accumulate, const R: usize, const Q: usize>(
    simd: S,
    queries: [&[f32]; Q],
    block: &[f32],
    out: &mut [[f32; BLOCK_ROWS_MAX]; Q],
) {
    let b = R * S::F32_LANES;
    let d = queries[0].len();
    let zero = simd.splat_f32s(0.0);
    // [query][register][split]: Q·R·SPLIT independent FMA chains.
    let mut acc = [[[zero; SPLIT]; R]; Q];
    let steps = d / SPLIT;
    let (bsteps, brest) = block[..d * b].split_at(steps * SPLIT * b);
    for (st, xs) in bsteps.chunks_exact(SPLIT * b).enumerate() {
        let x = S::as_simd_f32s(xs).0;
        for s in 0..SPLIT {
            for (aq, q) in acc.iter_mut().zip(queries) {
                let qv = simd.splat_f32s(q[st * SPLIT + s]);
                for (r, a) in aq.iter_mut().enumerate() {
                    a[s] = A::step(simd, qv, x[s * R + r], a[s]);
                }
            }
        }
    }
    for (j, xs) in (steps * SPLIT..d).zip(brest.chunks_exact(b)) {
        let x = S::as_simd_f32s(xs).0;
        for (aq, q) in acc.iter_mut().zip(queries) {
            let qv = simd.splat_f32s(q[j]);
            for (r, a) in aq.iter_mut().enumerate() {
                a[0] = A::step(simd, qv, x[r], a[0]);
            }
        }
    }
    for (o, aq) in out.iter_mut().zip(&acc) {
        let (oh, _) = S::as_mut_simd_f32s(&mut o[..b]);
        for (o, a) in oh.iter_mut().zip(aq) {
            let mut sum = a[0];
            for &v in &a[1..] {
                sum = simd.add_f32s(sum, v);
            }
            *o = sum;
        }
    }
}

/// Room for the largest transposed block (`MAX_BLOCK_REGS` registers of 16 lanes).
pub(crate) const BLOCK_ROWS_MAX: usize = MAX_BLOCK_REGS * 16;

/// Asymmetric squared distances of `q` to `out.len()` rows: `out[i] = Σ_j (q_j − x̂_ij)²`
/// (`A = SqDiff`; `Product` gives `Σ_j q_j x̂_ij`, `NegProduct` its negation, exactly),
/// where `row(i)` gives row i. Rows go four at a time so each query, step and base register
/// feeds four rows; each row keeps one accumulator, so the order of the sums (and hence
/// the result, to the bit) does not depend on how rows are grouped or where x̂ comes from.
#[inline(always)]
pub(crate) fn distances<S: Simd, T: ReconRow, A: Accumulate>(
    simd: S,
    p: &Params,
    q: &[f32],
    out: &mut [f32],
    row: impl Fn(usize) -> T,
) {
    let (out4, out1) = out.as_chunks_mut::<4>();
    let n4 = 4 * out4.len();
    for (j, o) in out4.iter_mut().enumerate() {
        *o = distance_rows::<S, T, A, 4>(simd, p, q, [row(4 * j), row(4 * j + 1), row(4 * j + 2), row(4 * j + 3)]);
    }
    for (j, o) in out1.iter_mut().enumerate() {
        *o = distance_rows::<S, T, A, 1>(simd, p, q, [row(n4 + j)])[0];
    }
}

#[inline(always)]
fn distance_rows<S: Simd, T: ReconRow, A: Accumulate, const R: usize>(
    simd: S,
    p: &Params,
    q: &[f32],
    rows: [T; R],
) -> [f32; R] {
    let lanes = S::F32_LANES;
    let d = q.len();
    let zero = simd.splat_f32s(0.0);
    // Two accumulators per row (even and odd registers) halve the FMA dependency chain.
    let mut acc = [[zero; 2]; R];
    let (qh, qt) = S::as_simd_f32s(q);
    let (sh, st) = S::as_simd_f32s(&p.step[..d]);
    let (bh, bt) = S::as_simd_f32s(&p.base[..d]);
    let pairs = qh.len() / 2;
    for i in 0..pairs {
        let (q0, s0, b0) = (qh[2 * i], sh[2 * i], bh[2 * i]);
        let (q1, s1, b1) = (qh[2 * i + 1], sh[2 * i + 1], bh[2 * i + 1]);
        for (a, row) in acc.iter_mut().zip(rows) {
            a[0] = A::step(simd, q0, row.chunk(simd, 2 * i, s0, b0), a[0]);
            a[1] = A::step(simd, q1, row.chunk(simd, 2 * i + 1, s1, b1), a[1]);
        }
    }
    if qh.len() % 2 == 1 {
        let i = qh.len() - 1;
        for (a, row) in acc.iter_mut().zip(rows) {
            a[0] = A::step(simd, qh[i], row.chunk(simd, i, sh[i], bh[i]), a[0]);
        }
    }
    if !qt.is_empty() {
        let start = qh.len() * lanes;
        let (qv, sv, bv) = (simd.partial_load_f32s(qt), simd.partial_load_f32s(st), simd.partial_load_f32s(bt));
        for (a, row) in acc.iter_mut().zip(rows) {
            a[0] = A::step(simd, qv, row.tail(simd, start, qt.len(), sv, bv), a[0]);
        }
    }
    // A plain loop, not `acc.map(..)`: `array::map` is not inlined into the target-feature
    // context, and the reductions inside it would become out-of-line intrinsic calls.
    let mut out = [0.0; R];
    for (o, a) in out.iter_mut().zip(acc) {
        *o = simd.reduce_sum_f32s(simd.add_f32s(a[0], a[1]));
    }
    out
}

/// Runs one SQ operation at the call's level, compiled for the quantizer's code layout:
/// every SQ call dispatches once.
pub(crate) fn run_op(isa: Isa, layout: CodeLayout, p: Params<'_>, d: usize, op: Op<'_, '_>) {
    isa.dispatch(Dispatch { layout, p, d, op });
}

/// Floats of the transposed block the batch search keeps on the stack (32 KiB, so a host
/// thread with a small stack is safe): two registers of rows up to d = 256 at AVX-512, one
/// up to d = 512 (1,024 at AVX2); larger dimensions reconstruct on the fly.
const TRANSPOSED_FLOATS: usize = 8192;

/// Queries scored together against one transposed block.
const QB: usize = 4;

/// What a distance kernel accumulates: the one place a metric reaches the SQ kernels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Score {
    /// `Σ (q − x̂)²`.
    L2,
    /// `Σ q·x̂`.
    Dot,
    /// `−Σ q·x̂`, exactly: the similarities' smaller-is-better score for the heaps.
    NegDot,
}

pub(crate) struct SearchJob<'a, 'h> {
    pub(crate) score: Score,
    pub(crate) queries: &'a [f32],
    pub(crate) codes: &'a [u8],
    pub(crate) heaps: &'a mut Heaps<'h>,
}

/// What an SQ dispatch does; one struct so every operation dispatches once per call.
pub(crate) enum Op<'a, 'h> {
    Encode(&'a [f32], &'a mut [u8]),
    Decode(&'a [u8], &'a mut [f32]),
    Distances(Score, &'a [f32], &'a [u8], &'a mut [f32]),
    Search(SearchJob<'a, 'h>),
}

struct Dispatch<'a, 'h> {
    layout: CodeLayout,
    p: Params<'a>,
    d: usize,
    op: Op<'a, 'h>,
}

impl WithSimd for Dispatch<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        with_layout!(self.layout, C => run::<S, C>(simd, &self.p, self.d, self.op))
    }
}

#[inline(always)]
fn run<S: Simd, C: Layout>(simd: S, p: &Params, d: usize, op: Op<'_, '_>) {
    let cs = C::code_size(d);
    match op {
        Op::Encode(x, codes) => {
            for (row, out) in x.chunks_exact(d).zip(codes.chunks_exact_mut(cs)) {
                encode_row::<S, C>(simd, p, row, out);
            }
        }
        Op::Decode(codes, x) => {
            for (row, out) in codes.chunks_exact(cs).zip(x.chunks_exact_mut(d)) {
                decode_row::<S, C>(simd, p, row, out);
            }
        }
        Op::Distances(score, q, codes, out) => {
            let row = |i: usize| CodeRow(&codes[i * cs..(i + 1) * cs], C::default());
            match score {
                Score::L2 => distances::<S, _, SqDiff>(simd, p, q, out, row),
                Score::Dot => distances::<S, _, Product>(simd, p, q, out, row),
                Score::NegDot => distances::<S, _, NegProduct>(simd, p, q, out, row),
            }
        }
        Op::Search(job) => match job.score {
            Score::L2 => search_blocks::<S, C, SqDiff>(simd, p, d, job),
            Score::Dot => search_blocks::<S, C, Product>(simd, p, d, job),
            Score::NegDot => search_blocks::<S, C, NegProduct>(simd, p, d, job),
        },
    }
}

/// Top-k of every query over every code, block by block. With several queries, each
/// block of `R·L` codes is first reconstructed, transposed, into an L1-resident buffer
/// (cost shared by all queries), and queries score it four at a time with lanes as rows:
/// two instructions per dimension per register of rows, no horizontal sums. With one to
/// three queries, or dimensions too large for the buffer, codes are reconstructed on the
/// fly instead.
#[inline(always)] // below with_simd: must inline into the target-feature context
fn search_blocks<S: Simd, C: Layout, A: Accumulate>(simd: S, p: &Params, d: usize, job: SearchJob<'_, '_>) {
    let lanes = S::F32_LANES;
    let nq = job.queries.len() / d;
    if nq >= QB && d * MAX_BLOCK_REGS * lanes <= TRANSPOSED_FLOATS {
        return search_transposed::<S, C, A, MAX_BLOCK_REGS>(simd, p, d, job);
    }
    if nq >= QB && d * lanes <= TRANSPOSED_FLOATS {
        return search_transposed::<S, C, A, 1>(simd, p, d, job);
    }
    let SearchJob { queries, codes, heaps, .. } = job;
    let cs = C::code_size(d);
    // About 32 KiB of codes per block: they stay in L1/L2 while every query scores them.
    let block = (32_768 / cs).clamp(1, BLOCK_ROWS);
    let mut scorer = CodeRows::<S, C, A> { simd, p, d, queries, codes, layout: C::default(), _acc: PhantomData };
    scan_blocks(heaps, queries.len() / d, codes.len() / cs, 0, block, &mut scorer);
}

/// Queries against code rows reconstructed on the fly.
struct CodeRows<'a, S, C, A> {
    simd: S,
    p: &'a Params<'a>,
    d: usize,
    queries: &'a [f32],
    codes: &'a [u8],
    layout: C,
    _acc: PhantomData<A>,
}

impl<S: Simd, C: Layout, A: Accumulate> ScoreRows for CodeRows<'_, S, C, A> {
    #[inline(always)]
    fn score(&mut self, q: usize, rows: std::ops::Range<usize>, out: &mut [f32]) {
        let (d, cs) = (self.d, C::code_size(self.d));
        let block = &self.codes[rows.start * cs..rows.end * cs];
        let layout = self.layout;
        distances::<S, _, A>(self.simd, self.p, &self.queries[q * d..(q + 1) * d], out, |i| {
            CodeRow(&block[i * cs..(i + 1) * cs], layout)
        });
    }
}

/// The transposed-block path of [`search_blocks`], `R` registers of rows per block.
#[inline(always)]
fn search_transposed<S: Simd, C: Layout, A: Accumulate, const R: usize>(
    simd: S,
    p: &Params,
    d: usize,
    job: SearchJob<'_, '_>,
) {
    let SearchJob { queries, codes, heaps, .. } = job;
    let cs = C::code_size(d);
    let nq = queries.len() / d;
    let tb = R * S::F32_LANES;
    let mut dec = [0f32; TRANSPOSED_FLOATS];
    let mut out = [[0f32; BLOCK_ROWS_MAX]; QB];
    for (b, cblock) in codes.chunks(tb * cs).enumerate() {
        let nb = cblock.len() / cs;
        let first = (b * tb) as i64;
        recon_block_t::<S, C, R>(p, cblock, cs, &mut dec);
        // QB queries per pass: each register of reconstructions loaded feeds all of them.
        let mut qi = 0;
        while qi + QB <= nq {
            let qs: [&[f32]; QB] = std::array::from_fn(|j| &queries[(qi + j) * d..(qi + j + 1) * d]);
            distances_block_t::<S, A, R, QB>(simd, qs, &dec, &mut out);
            for (j, o) in out.iter().enumerate() {
                heaps.push_block(qi + j, &o[..nb], first);
            }
            qi += QB;
        }
        for qi in qi..nq {
            let one = &mut out[..1];
            let one: &mut [[f32; BLOCK_ROWS_MAX]; 1] = one.try_into().expect("one row");
            distances_block_t::<S, A, R, 1>(simd, [&queries[qi * d..(qi + 1) * d]], &dec, one);
            heaps.push_block(qi, &one[0][..nb], first);
        }
    }
}
