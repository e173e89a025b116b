//! One query's exact top-k over 8-bit PQ codes (`ksub = 256`), with the distance table
//! looked up in registers.
//!
//! The plain scan ([`crate::kernels::adc`]) costs two loads per sub-code (the code byte
//! and its table entry) and is bound by the load ports. Here each table row is quantized to
//! bytes and looked up for 32 codes at once with byte shuffles; the quantized sums only
//! decide which codes could still enter the top-k, and those are then scored with the float
//! table, exactly as the plain scan scores them. The result is the plain scan's, bit for
//! bit: same distances, same ids, same ties.
//!
//! ## The bound
//!
//! Row `j` is quantized as `q_j[c] = round((T_j[c] − min_j)/Δ)`, one step `Δ` for every row
//! (the widest row's range over 255), so `T_j[c] = min_j + Δ·q_j[c] + e` with `|e| ≤ E_j`,
//! half a step plus the float rounding of the division (`quantize_rows`). A code's float
//! distance `D̂` (the sum of its `m` entries in sub-quantizer order, as the plain scan
//! computes it) is then at least `Σ min_j + Δ·Q − Σ E_j − ρ`, `Q` its quantized sum and `ρ`
//! a bound on the float sum's rounding. A code can enter the heap only when `D̂` is below
//! the current k-th distance, so only codes whose `Q` is below `(kth − Σ min_j + Σ E_j + ρ)/Δ`
//! are scored, and every other code is provably out. The rows' errors are about `Δ/2` each,
//! so the slack is about `m/2` steps: a few codes per query beyond those that enter.
//!
//! ## A 256-entry lookup from 16-byte shuffles
//!
//! A shuffle looks up 16 bytes and writes 0 where an index byte has its top bit set. Split
//! a row into 16 slices of 16 (`S_0..S_15`, slice `h` for the bytes with high nibble `h`).
//! For slice `i < 8`, a saturating add of `0x70 − 16i` keeps the top bit clear exactly for
//! the bytes whose high nibble is at most `i` (bytes from 0x80 stay at or above it), so
//! shuffle `i` contributes to the bytes of slices `h ≤ i`. Storing `S'_i = S_i ⊕ S_{i+1}`
//! (`S'_7 = S_7`) makes the XOR of the contributions a byte gets, `S'_h ⊕ … ⊕ S'_7`, telescope
//! to `S_h`. The upper slices do the same on the bytes with their top bit flipped. So 16
//! adds, 16 shuffles and 16 XORs look up 32 bytes: about half the plain scan's work per
//! sub-code, and none of it on the load ports.
//!
//! ## Codes to registers
//!
//! Codes are stored row after row (`m` bytes each), and a lookup needs one sub-quantizer's
//! bytes of 32 codes in one register. A block of 32 codes is transposed on the way in, 16
//! sub-quantizers at a time: 16 registers of `[code r, bytes 16g..16g+16 | code r + 16, the
//! same]`, then four rounds of unpacks (8, 16, 32, 64 bits), split in two halves of 8
//! sub-quantizers so that an `m` of 8 pays for only the half it uses. A last group narrower
//! than 16 reads past its code into the next one and ignores those bytes; the blocks near
//! the end of the codes, where that read would leave them, go through the plain loop. The
//! permutes' 64 codes are two such blocks side by side.
//!
//! ## Levels
//!
//! With AVX-512 VBMI (Ice Lake, Zen 4 and later) a whole row of 256 bytes is four
//! registers, and two two-table byte permutes and a blend on the top bit look up 64 codes
//! (`vpermi2b`): a few instructions where the shuffles take fifty. VBMI is outside
//! `x86-64-v4` and `pulp` has no token for it, so that kernel is a `#[target_feature]`
//! function entered after a CPU check, at the AVX-512 level only, so that lowering the
//! level turns it off. The AVX2 shuffles run at the AVX2 level and at AVX-512 without VBMI
//! (Skylake-X to Cascade Lake, where 512-bit shuffles would halve their count: not written).
//! Every other level (NEON's `vqtbl4q` could look up 64 entries, but no aarch64 build runs
//! on the machines that test this crate), and every case the bound cannot serve (a constant
//! or non-finite table, `m > 256`, which could overflow the 16-bit sums), scans with the
//! plain loop.

use crate::search::TopK;

/// Codes per block: one byte lane per code in a 256-bit register.
const BLOCK: usize = 32;

/// The largest `m` whose quantized sums fit 16 bits (`256 · 255 < 2^16`).
const MAX_M: usize = 256;

/// Bytes of one query's lookup tables for `m` sub-quantizers, in either form: per row, 16
/// shuffle tables of 32 bytes (the 16 entries repeated in both 128-bit halves), or the 256
/// entries as they are.
pub(crate) const fn tables_len(m: usize) -> usize {
    m * 16 * 32
}

/// How a kernel looks a row up, and so the form of its tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// AVX2 byte shuffles: 16 tables of 16 entries per row, XOR-chained (module docs).
    Shuffle,
    /// AVX-512 VBMI two-table permutes: the row's 256 entries as they are.
    Permute,
}

impl Lookup {
    /// The kernel that runs at `isa`'s level on this CPU, if any.
    pub(crate) fn at(isa: crate::simd::Isa) -> Option<Lookup> {
        #[cfg(target_arch = "x86_64")]
        {
            let (v4, v3) = isa.x86();
            if v4.is_some() && vbmi() {
                return Some(Lookup::Permute);
            }
            if v3.is_some() {
                return Some(Lookup::Shuffle);
            }
        }
        let _ = isa;
        None
    }
}

/// Whether the CPU has AVX-512 VBMI (the AVX-512 level has the rest of what its kernel
/// needs).
#[cfg(target_arch = "x86_64")]
fn vbmi() -> bool {
    std::arch::is_x86_feature_detected!("avx512vbmi")
}

/// Whether a codebook of `m` rows of 256 can be searched here at all (the level and the
/// table decide the rest).
pub(crate) const fn applies(m: usize) -> bool {
    m >= 1 && m <= MAX_M
}

/// What turns the float k-th distance into a limit on the quantized sums (module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bound {
    /// `Σ min_j`.
    base: f64,
    /// The step `Δ`.
    step: f64,
    /// `Σ E_j + ρ`.
    slack: f64,
}

impl Bound {
    /// The largest quantized sum a code may have and still enter a heap whose k-th distance
    /// is `kth` (`None`: no code can).
    #[inline]
    pub(crate) fn limit(&self, kth: f32) -> Option<u32> {
        if kth == f32::INFINITY {
            return Some(u32::MAX);
        }
        let l = (f64::from(kth) - self.base + self.slack) / self.step;
        // One step of margin for the rounding of this division.
        (l >= 0.0).then(|| (l.floor() + 1.0).min(f64::from(u32::MAX)) as u32)
    }
}

/// Quantizes `rows` (one query's table, `m ≤ 256` rows of 256) into `out` ([`tables_len`]
/// bytes) in the form `lookup` reads; `None` when the bound cannot serve this table (a
/// non-finite entry, or every row constant), and the caller scans with the plain loop.
pub(crate) fn quantize(rows: &[[f32; 256]], lookup: Lookup, out: &mut [[u8; 32]]) -> Option<Bound> {
    let m = rows.len();
    if !applies(m) || out.len() != 16 * m {
        return None;
    }
    // Each row's bytes first fill the first half of its 512 (the permutes' form).
    let bound = quantize_rows(rows.as_flattened(), 256, out.as_flattened_mut(), 512)?;
    if lookup == Lookup::Shuffle {
        for slices in out.chunks_exact_mut(16) {
            let q: [u8; 256] = *slices[..8].as_flattened().first_chunk().expect("256 bytes");
            let (s, _) = q.as_chunks::<16>();
            for (i, slice) in slices.iter_mut().enumerate() {
                let mut t = s[i];
                if i % 8 != 7 {
                    t.iter_mut().zip(&s[i + 1]).for_each(|(t, &n)| *t ^= n);
                }
                slice[..16].copy_from_slice(&t);
                slice[16..].copy_from_slice(&t);
            }
        }
    }
    Some(bound)
}

/// Quantizes `table` (rows of `ksub` floats) to one byte per entry, row `j` at
/// `out[j·stride..]`, and returns the bound (module docs); `None` for a non-finite entry or
/// a table whose rows are all constant.
fn quantize_rows(table: &[f32], ksub: usize, out: &mut [u8], stride: usize) -> Option<Bound> {
    let min_max =
        |row: &[f32]| row.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let mut range = 0f32;
    for row in table.chunks_exact(ksub) {
        let (lo, hi) = min_max(row);
        if !(lo.is_finite() && hi.is_finite()) {
            return None;
        }
        range = range.max(hi - lo);
    }
    let step = range / 255.0;
    if !(step > 0.0 && step.is_finite()) {
        return None;
    }
    let (mut base, mut mag) = (0f64, 0f64);
    let inv = 1.0 / step;
    for (row, out) in table.chunks_exact(ksub).zip(out.chunks_mut(stride)) {
        let (min, max) = min_max(row);
        for (q, &v) in out[..ksub].iter_mut().zip(row) {
            *q = ((v - min) * inv).round().clamp(0.0, 255.0) as u8;
        }
        base += f64::from(min);
        mag += f64::from(min.abs().max(max.abs()));
    }
    // The quantization error of an entry: `(v − min)·inv` is within three roundings
    // (relative 2^-24 each) of `(v − min)/step`, which is at most `255·(1 + 2^-23)` (the
    // range and the step are rounded too), so rounding it and clamping to 255 leaves
    // `|v − (min + step·q)| ≤ step·(0.5 + 255·5·2^-24)`, under 0.5001 steps; 0.501 per row.
    let m = table.len() / ksub;
    let err = m as f64 * f64::from(step) * 0.501;
    // ρ: a sum of m f32 terms in any order is within (m − 1)·2^-24·Σ|terms| of the real sum
    // (to first order); twice that, plus a relative margin for `base` and the f64
    // arithmetic here.
    let rho = 2.0 * m as f64 * f64::from(f32::EPSILON) * 0.5 * mag + 1e-9 * (base.abs() + mag);
    Some(Bound { base, step: f64::from(step), slack: err + rho })
}

/// A code's float distance: its entries summed in sub-quantizer order from +0.0, exactly
/// as the plain scan sums them.
#[inline(always)]
fn score(rows: &[[f32; 256]], code: &[u8]) -> f32 {
    rows.iter().zip(code).fold(0.0, |s, (t, &c)| s + t[usize::from(c)])
}

/// Offers `codes` (row after row, ids from `first_id`) to `top`, scored with the float
/// table: the plain loop, for what the kernel leaves.
fn offer_plain(rows: &[[f32; 256]], codes: &[u8], first_id: usize, top: &mut TopK) {
    for (r, code) in codes.chunks_exact(rows.len()).enumerate() {
        let d = score(rows, code);
        if d < top.threshold() {
            top.push(d, (first_id + r) as i64);
        }
    }
}

/// The quantized sums of 32 codes as the kernels leave them: `sums[j]` for code `j`. The
/// scalar form of the lookup, and the tests' oracle of the kernels' sums.
#[cfg(test)]
fn block_sums(lookup: Lookup, tables: &[[u8; 32]], codes: &[u8]) -> [u16; BLOCK] {
    let m = tables.len() / 16;
    let mut sums = [0u16; BLOCK];
    for (s, code) in sums.iter_mut().zip(codes.chunks_exact(m)) {
        for (slices, &c) in tables.chunks_exact(16).zip(code) {
            let v = match lookup {
                Lookup::Permute => slices[..8].as_flattened()[usize::from(c)],
                Lookup::Shuffle => {
                    // Undo the XOR chain: S_h = S'_h ⊕ … ⊕ S'_(last of its half).
                    let (h, l) = (usize::from(c >> 4), usize::from(c & 15));
                    (h..(h / 8) * 8 + 8).fold(0u8, |v, i| v ^ slices[i][l])
                }
            };
            *s += u16::from(v);
        }
    }
    sums
}

/// Top-k of one query over `codes` (`m = rows.len()` bytes each, ids from 0) into `top`
/// (a heap already started), with `tables` and `bound`
/// from [`quantize`] for `lookup`, which [`Lookup::at`] gave for `isa`. Returns `false`,
/// having done nothing, where no kernel runs (never, for a `lookup` from `Lookup::at`).
pub(crate) fn search(
    isa: crate::simd::Isa,
    lookup: Lookup,
    rows: &[[f32; 256]],
    tables: &[[u8; 32]],
    bound: Bound,
    codes: &[u8],
    top: &mut TopK,
) -> bool {
    #[cfg(target_arch = "x86_64")]
    if let (v4, Some(simd)) = isa.x86() {
        let s = x86::Search { simd, rows, tables, bound, codes, top };
        match (lookup, v4) {
            (Lookup::Shuffle, _) => simd.vectorize(s),
            // SAFETY: the AVX-512 level is validated as available (AVX-512 F, BW, VL and
            // AVX2), and `Lookup::at` gives `Permute` only on a CPU with VBMI.
            (Lookup::Permute, Some(v4)) if vbmi() => unsafe { x86::search_vbmi(v4, s) },
            (Lookup::Permute, _) => return false,
        }
        return true;
    }
    let _ = (isa, lookup, rows, tables, bound, codes, top);
    false
}

/// Offers the codes of block `first` (`B` codes from id `first`, their quantized sums in
/// `sums`) whose sums are at most `limit` to `top`, scored with the float table, and
/// tightens `limit` as the heap improves; `false` once no code can enter any more.
#[inline(always)]
fn offer_block(
    rows: &[[f32; 256]],
    block: &[u8],
    sums: &[u16],
    first: usize,
    bound: &Bound,
    limit: &mut u32,
    top: &mut TopK,
) -> bool {
    let m = rows.len();
    for (j, &sum) in sums.iter().enumerate() {
        if u32::from(sum) > *limit {
            continue;
        }
        let d = score(rows, &block[j * m..(j + 1) * m]);
        if d < top.threshold() {
            top.push(d, (first + j) as i64);
            match bound.limit(top.threshold()) {
                Some(l) => *limit = l,
                None => return false,
            }
        }
    }
    true
}

/// Blocks of `block` codes the kernels take from `codes_len` bytes of codes of `m` bytes:
/// the last group of 16 sub-quantizers reads up to 15 bytes past a code, which must stay in
/// the codes.
#[inline(always)]
fn kernel_blocks(codes_len: usize, m: usize, block: usize) -> usize {
    let over = m.next_multiple_of(16) - m;
    codes_len.saturating_sub(over) / (block * m)
}

/// The 16-bit sums of codes `2w` (`even[w]`) and `2w + 1` (`odd[w]`) in code order.
#[inline(always)]
fn interleave<const H: usize, const B: usize>(even: [u16; H], odd: [u16; H]) -> [u16; B] {
    std::array::from_fn(|j| if j % 2 == 0 { even[j / 2] } else { odd[j / 2] })
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{interleave, kernel_blocks, offer_block, offer_plain, Bound, BLOCK};
    use crate::search::TopK;
    use core::arch::x86_64::{__m256i, __m512i, _mm512_permutex2var_epi8, _mm_prefetch, _MM_HINT_T0};
    use pulp::x86::{V3, V4};

    /// The search at AVX2, run by `vectorize` inside its target features; a struct rather
    /// than a closure so that LLVM inlines it there (see `kernels::fastscan`).
    pub(super) struct Search<'a, 'b, 'h> {
        pub(super) simd: V3,
        pub(super) rows: &'a [[f32; 256]],
        pub(super) tables: &'a [[u8; 32]],
        pub(super) bound: Bound,
        pub(super) codes: &'a [u8],
        pub(super) top: &'b mut TopK<'h>,
    }

    impl pulp::NullaryFnOnce for Search<'_, '_, '_> {
        type Output = ();
        #[inline(always)]
        fn call(self) {
            search_v3(self);
        }
    }

    #[inline(always)]
    fn load(b: &[u8; 32]) -> __m256i {
        pulp::cast(*b)
    }

    /// `[lo | hi]` from two 16-byte arrays.
    #[inline(always)]
    fn load2(simd: V3, lo: [u8; 16], hi: [u8; 16]) -> __m256i {
        simd.avx2._mm256_inserti128_si256::<1>(simd.avx._mm256_castsi128_si256(pulp::cast(lo)), pulp::cast(hi))
    }

    /// The transposition's 16 input registers: row `r` holds 16 bytes of code `r` (from
    /// `at[r·m]`) in its low half, of code `r + 16` in its high half. Spelled out rather
    /// than a loop, which LLVM compiled to pairs of 16-byte stores reloaded as one register
    /// (a store-forwarding stall per row).
    #[inline(always)]
    fn rows_of(simd: V3, at: &[u8], m: usize) -> [__m256i; 16] {
        // One bounds check for the 32 reads rather than one each (those cost 7–15% of the
        // search): the furthest, row 15's high half, ends at 31·m + 16.
        let at = &at[..31 * m + 16];
        let l = |r: usize| {
            // SAFETY: `r ≤ 15`, so both reads end at or before `(r + 16)·m + 16 ≤ at.len()`.
            let (lo, hi) = unsafe {
                let p = at.as_ptr();
                (
                    p.add(r * m).cast::<[u8; 16]>().read_unaligned(),
                    p.add((r + 16) * m).cast::<[u8; 16]>().read_unaligned(),
                )
            };
            load2(simd, lo, hi)
        };
        [l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7), l(8), l(9), l(10), l(11), l(12), l(13), l(14), l(15)]
    }

    /// The 32 bytes of `c` looked up in one row's shuffle tables (module docs).
    #[inline(always)]
    pub(super) fn lookup(simd: V3, slices: &[[u8; 32]; 16], c: __m256i) -> __m256i {
        let (a, x) = (simd.avx2, simd.avx);
        let upper = a._mm256_xor_si256(c, x._mm256_set1_epi8(i8::MIN));
        a._mm256_xor_si256(lookup_half(simd, &slices[..8], c), lookup_half(simd, &slices[8..], upper))
    }

    /// One half's eight shuffles (a function rather than a closure, to inline in the
    /// target-feature context).
    #[inline(always)]
    fn lookup_half(simd: V3, s: &[[u8; 32]], c: __m256i) -> __m256i {
        let (a, x) = (simd.avx2, simd.avx);
        // Slice 7 of the half needs no add (0x70 − 16·7 = 0).
        let mut r = a._mm256_shuffle_epi8(load(&s[7]), c);
        for (i, t) in s[..7].iter().enumerate() {
            let idx = a._mm256_adds_epu8(c, x._mm256_set1_epi8((0x70 - 16 * i) as i8));
            r = a._mm256_xor_si256(r, a._mm256_shuffle_epi8(load(t), idx));
        }
        r
    }

    /// Columns `8·half .. 8·half + 8` of the 16 registers `x` (row `r`: 16 bytes of code
    /// `r` in the low half, of code `r + 16` in the high half), one register per column
    /// with its bytes in code order.
    #[inline(always)]
    pub(super) fn transpose_half(simd: V3, x: &[__m256i; 16], half: usize) -> [__m256i; 8] {
        let a = simd.avx2;
        let b: [__m256i; 8] = std::array::from_fn(|p| {
            if half == 0 {
                a._mm256_unpacklo_epi8(x[2 * p], x[2 * p + 1])
            } else {
                a._mm256_unpackhi_epi8(x[2 * p], x[2 * p + 1])
            }
        });
        // b[p]: rows 2p, 2p+1, a 16-bit unit per column.
        let c: [__m256i; 8] = std::array::from_fn(|i| {
            let q = i % 4;
            if i < 4 {
                a._mm256_unpacklo_epi16(b[2 * q], b[2 * q + 1])
            } else {
                a._mm256_unpackhi_epi16(b[2 * q], b[2 * q + 1])
            }
        });
        // c[q] (c[4 + q]): rows 4q..4q+4, a 32-bit unit per column 0..4 (4..8).
        let d: [__m256i; 8] = std::array::from_fn(|i| {
            let (base, s) = (i / 4 * 4, i % 2);
            if i % 4 < 2 {
                a._mm256_unpacklo_epi32(c[base + 2 * s], c[base + 2 * s + 1])
            } else {
                a._mm256_unpackhi_epi32(c[base + 2 * s], c[base + 2 * s + 1])
            }
        });
        // d[base + s] (d[base + 2 + s]): rows 8s..8s+8, a 64-bit unit per column base,
        // base + 1 (base + 2, base + 3).
        std::array::from_fn(|j| {
            let (base, pair) = (j / 4 * 4, j % 4 / 2 * 2);
            let (lo, hi) = (d[base + pair], d[base + pair + 1]);
            if j % 2 == 0 {
                a._mm256_unpacklo_epi64(lo, hi)
            } else {
                a._mm256_unpackhi_epi64(lo, hi)
            }
        })
    }

    /// The quantized sums of the 32 codes of `block` (`32·m` bytes, plus what the last
    /// group reads past it): the even codes' and the odd codes' 16-bit lanes (lane `w` of
    /// half `h` is code `16h + 2w` or `16h + 2w + 1`).
    #[inline(always)]
    pub(super) fn block_v3(simd: V3, tables: &[[u8; 32]], m: usize, block: &[u8]) -> (__m256i, __m256i) {
        let a = simd.avx2;
        let zero = simd.avx._mm256_setzero_si256();
        let (mut even, mut odd) = (zero, zero);
        let (rows, _) = tables.as_chunks::<16>();
        for (g, rows) in rows.chunks(16).enumerate() {
            let x = rows_of(simd, &block[16 * g..], m);
            for (half, rows) in rows.chunks(8).enumerate() {
                let cols = transpose_half(simd, &x, half);
                for (slices, &c) in rows.iter().zip(&cols) {
                    let r = lookup(simd, slices, c);
                    even = a._mm256_add_epi16(even, r);
                    odd = a._mm256_add_epi16(odd, a._mm256_srli_epi16::<8>(r));
                }
            }
        }
        // `even` carries 256 × the odd bytes' sums (module docs of `kernels::fastscan`).
        (a._mm256_sub_epi16(even, a._mm256_slli_epi16::<8>(odd)), odd)
    }

    /// The quantized sums of the 64 codes of `block` (two blocks of [`block_v3`]), with
    /// VBMI's permutes: the even codes' and the odd codes' 16-bit lanes, in code order.
    #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vl,avx512vbmi")]
    pub(super) fn block_vbmi(v4: V4, tables: &[[u8; 32]], m: usize, block: &[u8]) -> (__m512i, __m512i) {
        let simd = *v4;
        let (f, w) = (v4.avx512f, v4.avx512bw);
        let zero = f._mm512_setzero_si512();
        let (mut even, mut odd) = (zero, zero);
        let (rows, _) = tables.as_chunks::<16>();
        // Each half's columns go through memory as whole registers: built as a pair of
        // halves there, a register would be reloaded whole from two stores, which stalls.
        let mut cols = [[simd.avx._mm256_setzero_si256(); 16]; 2];
        for (g, rows) in rows.chunks(16).enumerate() {
            for (h, cols) in cols.iter_mut().enumerate() {
                let x = rows_of(simd, &block[32 * h * m + 16 * g..], m);
                for (half, cols) in cols.chunks_exact_mut(8).enumerate().take(rows.len().div_ceil(8)) {
                    cols.copy_from_slice(&transpose_half(simd, &x, half));
                }
            }
            for ((row, &lo), &hi) in rows.iter().zip(&cols[0]).zip(&cols[1]) {
                let c = f._mm512_inserti64x4::<1>(f._mm512_castsi256_si512(lo), hi);
                // The row's 256 entries fill the first half of its 512 bytes.
                let t: [__m512i; 4] = pulp::cast(*row.first_chunk::<8>().expect("16 chunks"));
                // Bits 0–6 pick one of 128 entries in a pair of registers, bit 7 the pair.
                let a = _mm512_permutex2var_epi8(t[0], c, t[1]);
                let b = _mm512_permutex2var_epi8(t[2], c, t[3]);
                let r = w._mm512_mask_blend_epi8(w._mm512_movepi8_mask(c), a, b);
                even = w._mm512_add_epi16(even, r);
                odd = w._mm512_add_epi16(odd, w._mm512_srli_epi16::<8>(r));
            }
        }
        (w._mm512_sub_epi16(even, w._mm512_slli_epi16::<8>(odd)), odd)
    }

    /// Prefetches `len` bytes of `codes` from `start` (the block after next), a line at a
    /// time: the hardware prefetcher alone leaves the kernels' loads waiting on memory
    /// (13% at m = 32 with the shuffles). Past the end it prefetches nothing useful, harmlessly.
    #[inline(always)]
    fn prefetch(codes: &[u8], start: usize, len: usize) {
        for line in (0..len).step_by(64) {
            // SAFETY: SSE is part of the x86-64 baseline, and a prefetch never faults.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(codes.as_ptr().wrapping_add(start + line).cast()) };
        }
    }

    #[inline(always)]
    fn search_v3(s: Search) {
        let Search { simd, rows, tables, bound, codes, top } = s;
        let a = simd.avx2;
        let m = rows.len();
        let blocks = kernel_blocks(codes.len(), m, BLOCK);
        let Some(mut limit) = bound.limit(top.threshold()) else { return };
        for b in 0..blocks {
            let block = &codes[b * BLOCK * m..];
            prefetch(codes, (b + 2) * BLOCK * m, BLOCK * m);
            let (even, odd) = block_v3(simd, tables, m, block);
            // Every sum is at most 256·255: a limit above 65535 passes them all, as 65535 does.
            let l = simd.avx._mm256_set1_epi16(limit.min(65535) as u16 as i16);
            let below = a._mm256_or_si256(
                a._mm256_cmpeq_epi16(even, a._mm256_min_epu16(even, l)),
                a._mm256_cmpeq_epi16(odd, a._mm256_min_epu16(odd, l)),
            );
            if a._mm256_movemask_epi8(below) == 0 {
                continue;
            }
            let sums: [u16; BLOCK] = interleave::<16, BLOCK>(pulp::cast(even), pulp::cast(odd));
            if !offer_block(rows, block, &sums, b * BLOCK, &bound, &mut limit, top) {
                return;
            }
        }
        offer_plain(rows, &codes[blocks * BLOCK * m..], blocks * BLOCK, top);
    }

    /// As [`search_v3`], 64 codes per block looked up with VBMI's permutes.
    ///
    /// # Safety
    /// The CPU has AVX-512 VBMI (`v4` vouches for the rest).
    #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vl,avx512vbmi")]
    pub(super) unsafe fn search_vbmi(v4: V4, s: Search) {
        const B: usize = 2 * BLOCK;
        let Search { rows, tables, bound, codes, top, .. } = s;
        let w = v4.avx512bw;
        let m = rows.len();
        let blocks = kernel_blocks(codes.len(), m, B);
        let Some(mut limit) = bound.limit(top.threshold()) else { return };
        for b in 0..blocks {
            let block = &codes[b * B * m..];
            prefetch(codes, (b + 2) * B * m, B * m);
            let (even, odd) = block_vbmi(v4, tables, m, block);
            let l = v4.avx512f._mm512_set1_epi16(limit.min(65535) as u16 as i16);
            if w._mm512_cmple_epu16_mask(even, l) | w._mm512_cmple_epu16_mask(odd, l) == 0 {
                continue;
            }
            let sums: [u16; B] = interleave::<32, B>(pulp::cast(even), pulp::cast(odd));
            if !offer_block(rows, block, &sums, b * B, &bound, &mut limit, top) {
                return;
            }
        }
        offer_plain(rows, &codes[blocks * B * m..], blocks * B, top);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available, with_level, Isa, Level};

    fn xorshift(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    /// A table whose rows have different ranges and offsets, some entries tied, some −0.0.
    fn table(m: usize, seed: u64) -> Vec<[f32; 256]> {
        let mut r = xorshift(seed);
        (0..m)
            .map(|j| {
                let scale = 0.1 + (j % 5) as f32;
                std::array::from_fn(|_| match r() % 17 {
                    0 => -0.0,
                    1 => 3.0,
                    v => (v as f32 + (r() % 1000) as f32 * 1e-3) * scale - 2.0 * j as f32,
                })
            })
            .collect()
    }

    /// The plain search: every code scored with the float table into a heap.
    fn plain(rows: &[[f32; 256]], codes: &[u8], k: usize) -> (Vec<f32>, Vec<i64>) {
        let (mut d, mut l) = (vec![0f32; k], vec![0i64; k]);
        let mut top = TopK::new(&mut d, &mut l).unwrap();
        offer_plain(rows, codes, 0, &mut top);
        top.finish();
        (d, l)
    }

    /// The quantized tables looked up in scalar (the oracle of the kernels' sums) are the
    /// rounded table entries, in both forms: the XOR chain telescopes for every byte value.
    #[test]
    fn the_tables_hold_the_rounded_entries() {
        for lookup in [Lookup::Shuffle, Lookup::Permute] {
            for m in [1usize, 3, 8] {
                let rows = table(m, m as u64);
                let mut tables = vec![[0u8; 32]; 16 * m];
                let bound = quantize(&rows, lookup, &mut tables).unwrap();
                for c in 0..=255u8 {
                    let code = vec![c; m * BLOCK];
                    let got = block_sums(lookup, &tables, &code)[0];
                    let want: u16 = rows
                        .iter()
                        .map(|row| {
                            let min = row.iter().copied().fold(f32::INFINITY, f32::min);
                            ((row[usize::from(c)] - min) / bound.step as f32).round() as u16
                        })
                        .sum();
                    assert_eq!(got, want, "{lookup:?} m {m} byte {c}");
                }
            }
        }
    }

    /// Blocks of random codes, and of every byte value in every position, `32·n` codes of
    /// `m` bytes and 16 bytes past them (the over-read).
    fn blocks(m: usize, n: usize) -> Vec<Vec<u8>> {
        let mut r = xorshift(m as u64);
        (0..8)
            .map(|round| {
                (0..n * BLOCK * m + 16).map(|i| if round < 2 { (i * 37 + round) as u8 } else { r() as u8 }).collect()
            })
            .collect()
    }

    const WIDTHS: [usize; 11] = [1, 5, 8, 15, 16, 17, 24, 32, 40, 64, 256];

    /// The AVX2 kernel's lookup, transposition and sums equal the scalar oracle for every
    /// byte value in every position, for widths that leave every kind of last group.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_shuffle_block_sums_equal_the_scalar_lookup() {
        let Some(simd) = pulp::x86::V3::try_new() else { return };
        struct Run<'a>(pulp::x86::V3, &'a [[u8; 32]], usize, &'a [u8]);
        impl pulp::NullaryFnOnce for Run<'_> {
            type Output = [u16; BLOCK];
            #[inline(always)]
            fn call(self) -> Self::Output {
                let (e, o) = x86::block_v3(self.0, self.1, self.2, self.3);
                interleave::<16, BLOCK>(pulp::cast(e), pulp::cast(o))
            }
        }
        for m in WIDTHS {
            let rows = table(m, 7 + m as u64);
            let mut tables = vec![[0u8; 32]; 16 * m];
            quantize(&rows, Lookup::Shuffle, &mut tables).unwrap();
            for (round, block) in blocks(m, 1).iter().enumerate() {
                let got = simd.vectorize(Run(simd, &tables, m, block));
                assert_eq!(got, block_sums(Lookup::Shuffle, &tables, &block[..BLOCK * m]), "m {m} round {round}");
            }
        }
    }

    /// As above, the VBMI kernel's 64 codes per block, where the CPU has VBMI.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_permute_block_sums_equal_the_scalar_lookup() {
        let Some(v4) = pulp::x86::V4::try_new().filter(|_| vbmi()) else { return };
        for m in WIDTHS {
            let rows = table(m, 7 + m as u64);
            let mut tables = vec![[0u8; 32]; 16 * m];
            quantize(&rows, Lookup::Permute, &mut tables).unwrap();
            for (round, block) in blocks(m, 2).iter().enumerate() {
                // SAFETY: the CPU has AVX-512 (the token) and VBMI (checked above).
                let (e, o) = unsafe { x86::block_vbmi(v4, &tables, m, block) };
                let got = interleave::<32, 64>(pulp::cast(e), pulp::cast(o));
                let want: Vec<u16> = block[..2 * BLOCK * m]
                    .chunks_exact(BLOCK * m)
                    .flat_map(|b| block_sums(Lookup::Permute, &tables, b))
                    .collect();
                assert_eq!(got.to_vec(), want, "m {m} round {round}");
            }
        }
    }

    /// The search returns the plain search's distances and ids bit for bit with the kernel
    /// of every level (none at the scalar level, whose callers scan plainly), for code
    /// counts around the block and over-read boundaries, `k` from 1 to more than the codes,
    /// and duplicated codes (ties broken by id).
    #[test]
    fn the_search_is_the_plain_search() {
        for &level in available() {
            let isa = with_level(level, Isa::current).unwrap();
            let Some(lookup) = Lookup::at(isa) else {
                assert_eq!(level, Level::Scalar);
                continue;
            };
            for m in [1usize, 7, 8, 16, 20, 33] {
                let rows = table(m, 100 + m as u64);
                let mut tables = vec![[0u8; 32]; 16 * m];
                let bound = quantize(&rows, lookup, &mut tables).unwrap();
                let mut r = xorshift(m as u64 + 5);
                for n in [0usize, 1, 31, 32, 33, 64, 95, 127, 128, 129, 500, 2051] {
                    // Few distinct codes: many ties.
                    let distinct: Vec<u8> = (0..37 * m).map(|_| r() as u8).collect();
                    let codes: Vec<u8> = (0..n)
                        .flat_map(|_| distinct.chunks_exact(m).nth(r() as usize % 37).unwrap().to_vec())
                        .collect();
                    for k in [1usize, 10, 100, n + 3] {
                        let (mut d, mut l) = (vec![0f32; k], vec![0i64; k]);
                        let mut top = TopK::new(&mut d, &mut l).unwrap();
                        assert!(search(isa, lookup, &rows, &tables, bound, &codes, &mut top), "{level}");
                        top.finish();
                        let want = plain(&rows, &codes, k);
                        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        assert_eq!((bits(&d), &l), (bits(&want.0), &want.1), "{level} {lookup:?} m {m} n {n} k {k}");
                    }
                }
            }
        }
    }
    /// Tables the bound cannot serve are declined: a constant table (no step), a
    /// non-finite entry, and more rows than 16-bit sums hold.
    #[test]
    fn tables_the_bound_cannot_serve_are_declined() {
        let mut tables = vec![[0u8; 32]; 16 * 300];
        assert!(quantize(&vec![[1.5f32; 256]; 4], Lookup::Shuffle, &mut tables[..64]).is_none());
        let mut rows = table(4, 1);
        rows[2][9] = f32::INFINITY;
        assert!(quantize(&rows, Lookup::Shuffle, &mut tables[..64]).is_none());
        assert!(quantize(&table(257, 1), Lookup::Shuffle, &mut tables[..16 * 257]).is_none());
        assert!(quantize(&table(256, 1), Lookup::Permute, &mut tables[..16 * 256]).is_some());
    }

    /// The bound never drops a code that could enter: for every code of a random set, the
    /// float distance is above the lower bound its quantized sum gives (the limit's premise),
    /// with tables of large and tiny magnitudes and negative entries.
    #[test]
    fn the_bound_holds_for_every_code() {
        for (m, scale) in [(8usize, 1e-6f32), (16, 1.0), (32, 1e6), (64, -3.0)] {
            let rows: Vec<[f32; 256]> = table(m, 9 + m as u64).into_iter().map(|row| row.map(|v| v * scale)).collect();
            let mut tables = vec![[0u8; 32]; 16 * m];
            let bound = quantize(&rows, Lookup::Shuffle, &mut tables).unwrap();
            let mut r = xorshift(3);
            let codes: Vec<u8> = (0..BLOCK * m * 64).map(|_| r() as u8).collect();
            for block in codes.chunks_exact(BLOCK * m) {
                let sums = block_sums(Lookup::Shuffle, &tables, block);
                for (code, &q) in block.chunks_exact(m).zip(&sums) {
                    let d = score(&rows, code);
                    // A heap whose k-th is exactly this code's distance must admit it.
                    let limit = bound.limit(d).expect("a limit");
                    assert!(
                        u32::from(q) <= limit,
                        "m {m} scale {scale}: sum {q} over the limit {limit} at its own distance"
                    );
                }
            }
        }
    }
}
