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
//!   decoded distance up to float rounding. Rows go four at a time so each query, step and
//!   base register feeds four code rows.
//!
//! Code layouts: 8 bits, one byte per dimension; 16 bits, one little-endian u16 per
//! dimension; 4 bits, two dimensions per byte, the even dimension in the high nibble, and
//! an odd dimension count padded with a zero low nibble.

use super::lanes::{f32_lanes, from_fn, nibbles_to_f32s, rounded_u32_lanes, u16s_to_f32s, u8s_to_f32s};
use pulp::Simd;

/// How codes of one width sit in a row of bytes.
pub(crate) trait Codes: Copy {
    /// Lanes `start..start + L` of a code row as floats (all lanes are inside the row).
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s;
    /// Lanes `start..start + count`, zero beyond.
    fn load_partial<S: Simd>(simd: S, row: &[u8], start: usize, count: usize) -> S::f32s;
}

/// One byte per dimension.
#[derive(Clone, Copy)]
pub(crate) struct B8;
/// One little-endian u16 per dimension.
#[derive(Clone, Copy)]
pub(crate) struct B16;
/// Two dimensions per byte, even dimension high.
#[derive(Clone, Copy)]
pub(crate) struct B4;

impl Codes for B8 {
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        u8s_to_f32s(simd, &row[start..])
    }
    #[inline(always)]
    fn load_partial<S: Simd>(simd: S, row: &[u8], start: usize, count: usize) -> S::f32s {
        let row = &row[start..start + count];
        from_fn(simd, count, |i| row[i] as f32)
    }
}

impl Codes for B16 {
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        u16s_to_f32s(simd, &row[2 * start..])
    }
    #[inline(always)]
    fn load_partial<S: Simd>(simd: S, row: &[u8], start: usize, count: usize) -> S::f32s {
        let row = &row[2 * start..2 * (start + count)];
        from_fn(simd, count, |i| u16::from_le_bytes([row[2 * i], row[2 * i + 1]]) as f32)
    }
}

impl Codes for B4 {
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        // With an even lane count `start` is even and `first` folds to 0 at compile time.
        let first = start & 1;
        let need = (first + S::F32_LANES).div_ceil(2);
        nibbles_to_f32s(simd, &row[start / 2..start / 2 + need], first)
    }
    #[inline(always)]
    fn load_partial<S: Simd>(simd: S, row: &[u8], start: usize, count: usize) -> S::f32s {
        from_fn(simd, count, |i| {
            let n = start + i;
            ((row[n / 2] >> (4 - 4 * (n & 1))) & 0xF) as f32
        })
    }
}

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
    if count == 0 {
        // The second half of a 4-bit block past the row's end.
        return simd.splat_u32s(0);
    }
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

/// Encodes one row into `out` (exactly the code size of the row's width).
#[inline(always)]
pub(crate) fn encode_row_8<S: Simd>(simd: S, p: &Params, x: &[f32], out: &mut [u8]) {
    let lanes = S::F32_LANES;
    let d = x.len();
    let mut start = 0;
    while start < d {
        let count = lanes.min(d - start);
        let c = codes_at(simd, p, x, start, count);
        let c: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&c));
        for (o, &v) in out[start..start + count].iter_mut().zip(&c[..count]) {
            *o = v as u8;
        }
        start += count;
    }
}

/// As [`encode_row_8`] for 16-bit codes.
#[inline(always)]
pub(crate) fn encode_row_16<S: Simd>(simd: S, p: &Params, x: &[f32], out: &mut [u8]) {
    let lanes = S::F32_LANES;
    let d = x.len();
    let mut start = 0;
    while start < d {
        let count = lanes.min(d - start);
        let c = codes_at(simd, p, x, start, count);
        let c: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&c));
        for (o, &v) in out[2 * start..2 * (start + count)].chunks_exact_mut(2).zip(&c[..count]) {
            o.copy_from_slice(&(v as u16).to_le_bytes());
        }
        start += count;
    }
}

/// As [`encode_row_8`] for 4-bit codes: two registers (2L dimensions) make L bytes.
#[inline(always)]
pub(crate) fn encode_row_4<S: Simd>(simd: S, p: &Params, x: &[f32], out: &mut [u8]) {
    let lanes = S::F32_LANES;
    let d = x.len();
    let mut start = 0;
    while start < d {
        let count = (2 * lanes).min(d - start);
        let ca = codes_at(simd, p, x, start, count.min(lanes));
        let cb = codes_at(simd, p, x, start + lanes, count.saturating_sub(lanes));
        let ca: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&ca));
        let cb: &[u32] = bytemuck::cast_slice(core::slice::from_ref(&cb));
        // Nibble n of this block: lanes of `ca` first, then `cb`; past `count`, padding 0.
        let nib = |n: usize| -> u8 {
            if n >= count {
                0
            } else if n < lanes {
                ca[n] as u8
            } else {
                cb[n - lanes] as u8
            }
        };
        let bytes = count.div_ceil(2);
        for (j, o) in out[start / 2..start / 2 + bytes].iter_mut().enumerate() {
            *o = (nib(2 * j) << 4) | (nib(2 * j + 1) & 0xF);
        }
        start += count;
    }
}

/// Decodes one row of codes into `out` (the row's dimension).
#[inline(always)]
pub(crate) fn decode_row<S: Simd, C: Codes>(simd: S, p: &Params, row: &[u8], out: &mut [f32]) {
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

/// Asymmetric squared distances of `q` to `out.len()` consecutive code rows of `code_size`
/// bytes: `out[i] = Σ_j (q_j − (c_ij·step_j + base_j))²`.
#[inline(always)]
pub(crate) fn distances<S: Simd, C: Codes>(
    simd: S,
    p: &Params,
    q: &[f32],
    codes: &[u8],
    code_size: usize,
    out: &mut [f32],
) {
    let (out4, out1) = out.as_chunks_mut::<4>();
    let (codes4, codes1) = codes.split_at(out4.len() * 4 * code_size);
    for (o, rows) in out4.iter_mut().zip(codes4.chunks_exact(4 * code_size)) {
        let (r0, rest) = rows.split_at(code_size);
        let (r1, rest) = rest.split_at(code_size);
        let (r2, r3) = rest.split_at(code_size);
        *o = distance_rows::<S, C, 4>(simd, p, q, [r0, r1, r2, r3]);
    }
    for (o, row) in out1.iter_mut().zip(codes1.chunks_exact(code_size)) {
        *o = distance_rows::<S, C, 1>(simd, p, q, [row])[0];
    }
}

#[inline(always)]
fn distance_rows<S: Simd, C: Codes, const R: usize>(simd: S, p: &Params, q: &[f32], rows: [&[u8]; R]) -> [f32; R] {
    let lanes = S::F32_LANES;
    let d = q.len();
    let zero = simd.splat_f32s(0.0);
    let mut acc = [zero; R];
    let (qh, qt) = S::as_simd_f32s(q);
    let (sh, st) = S::as_simd_f32s(&p.step[..d]);
    let (bh, bt) = S::as_simd_f32s(&p.base[..d]);
    for (i, ((&qv, &sv), &bv)) in qh.iter().zip(sh).zip(bh).enumerate() {
        for (a, row) in acc.iter_mut().zip(rows) {
            let c = C::load(simd, row, i * lanes);
            let t = simd.sub_f32s(qv, simd.mul_add_e_f32s(c, sv, bv));
            *a = simd.mul_add_e_f32s(t, t, *a);
        }
    }
    if !qt.is_empty() {
        let start = qh.len() * lanes;
        let (qv, sv, bv) = (simd.partial_load_f32s(qt), simd.partial_load_f32s(st), simd.partial_load_f32s(bt));
        for (a, row) in acc.iter_mut().zip(rows) {
            let c = C::load_partial(simd, row, start, qt.len());
            let t = simd.sub_f32s(qv, simd.mul_add_e_f32s(c, sv, bv));
            *a = simd.mul_add_e_f32s(t, t, *a);
        }
    }
    acc.map(|a| simd.reduce_sum_f32s(a))
}
