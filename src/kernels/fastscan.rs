//! 4-bit PQ fast scan (André, Kermarrec & Le Scouarnec, VLDB 2015; FAISS's
//! `IndexPQFastScan`): with 16 centroids per sub-quantizer a distance table row is 16
//! bytes once quantized to 8 bits, so it fits in one SIMD register and a byte shuffle
//! looks it up for 16 (SSE), 32 (AVX2) or 64 (AVX-512) codes at once.
//!
//! ## Block layout
//!
//! Codes are packed 32 to a block. A block holds `g = ⌈m/2⌉` groups of 32 bytes; byte `j` of
//! group `i` holds code `j`'s sub-code `2i` in its low nibble and sub-code `2i + 1` in its
//! high nibble (0 past `m`). That is a code's own nibble-layout byte `i` (`crate::codes`:
//! sub-code `2i` high, `2i + 1` low) with its nibbles swapped, so packing is a transposition,
//! and a group is one 32-byte load whose low nibbles index one table and high nibbles the
//! next. A last partial block is padded with zero codes.
//!
//! ## Tables
//!
//! [`Tables`] holds the quantized rows (`u8`, 16 per sub-quantizer) in the order the
//! kernels load them: per pair of groups `p`, 128 bytes: the low-nibble tables of groups
//! `2p` and `2p + 1` (each row repeated in both 16-byte halves of 32 bytes, since a shuffle
//! looks up within each 128-bit lane), then their high-nibble tables. AVX2 loads 32 bytes
//! of it per group, AVX-512 64 per pair of groups.
//!
//! ## Sums in 16 bits
//!
//! A shuffle yields 32 bytes; read as 16 u16 lanes, lane `l` is `t[2l] + 256·t[2l + 1]`.
//! Adding those lanes into one accumulator and the lanes shifted right by 8 into another
//! gives, modulo 2^16, `Σ t[2l] + 256·Σ t[2l+1]` and exactly `Σ t[2l+1]`; the even sums
//! are then the first minus 256 times the second, exact modulo 2^16 (FAISS's trick: no
//! widening). The caller quantizes the tables so that no code's sum exceeds 65535
//! (`crate::fastscan`), so every sum is exact.
//!
//! ## Levels
//!
//! `pulp::Simd` has no byte shuffle, so AVX2 and AVX-512 have kernels of their own, written
//! with pulp's safe intrinsics; every other level (NEON included: no aarch64 build runs
//! here, so a NEON `vqtbl1q` kernel would be untested) runs the scalar kernel, which is
//! also the tests' oracle.

use crate::simd::Isa;

/// Codes per block.
pub(crate) const BLOCK: usize = 32;

/// Groups of 32 bytes per block: one per pair of sub-quantizers.
pub(crate) const fn groups(m: usize) -> usize {
    m.div_ceil(2)
}

/// Bytes of one block.
pub(crate) const fn block_bytes(m: usize) -> usize {
    groups(m) * BLOCK
}

/// Bytes of the quantized tables of one query for `m` sub-quantizers.
pub(crate) const fn tables_len(m: usize) -> usize {
    groups(m).div_ceil(2) * 128
}

/// Packs `n` nibble-layout codes (`⌈m/2⌉` bytes each) into blocks (`⌈n/32⌉ · block_bytes`
/// bytes in `out`).
pub(crate) fn pack(m: usize, codes: &[u8], out: &mut [u8]) {
    let (cs, bb) = (groups(m), block_bytes(m));
    out.fill(0);
    for (codes, block) in codes.chunks(BLOCK * cs).zip(out.chunks_exact_mut(bb)) {
        for (j, code) in codes.chunks_exact(cs).enumerate() {
            for (i, &byte) in code.iter().enumerate() {
                block[i * BLOCK + j] = byte.rotate_left(4);
            }
        }
    }
}

/// The inverse of [`pack`]: `out` holds `n` codes of `⌈m/2⌉` bytes.
pub(crate) fn unpack(m: usize, packed: &[u8], out: &mut [u8]) {
    let (cs, bb) = (groups(m), block_bytes(m));
    for (codes, block) in out.chunks_mut(BLOCK * cs).zip(packed.chunks_exact(bb)) {
        for (j, code) in codes.chunks_exact_mut(cs).enumerate() {
            for (i, byte) in code.iter_mut().enumerate() {
                *byte = block[i * BLOCK + j].rotate_left(4);
            }
        }
    }
}

/// Sub-code `q` of code `j` of a block.
#[inline]
pub(crate) fn sub_code(block: &[u8], q: usize, j: usize) -> u8 {
    let b = block[(q / 2) * BLOCK + j];
    if q.is_multiple_of(2) {
        b & 15
    } else {
        b >> 4
    }
}

/// One query's quantized tables in the kernels' order (module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tables<'a> {
    bytes: &'a [u8],
    groups: usize,
}

impl<'a> Tables<'a> {
    /// Lays out `rows` (`m` rows of 16 quantized entries) into `out` ([`tables_len`] bytes)
    /// and returns the view the kernels read.
    pub(crate) fn lay_out(m: usize, rows: &[[u8; 16]], out: &'a mut [u8]) -> Tables<'a> {
        out.fill(0);
        for (q, row) in rows.iter().enumerate().take(m) {
            let (g, hi) = (q / 2, q % 2);
            let at = (g / 2) * 128 + hi * 64 + (g % 2) * 32;
            out[at..at + 16].copy_from_slice(row);
            out[at + 16..at + 32].copy_from_slice(row);
        }
        Tables { bytes: out, groups: groups(m) }
    }

    /// The 32 bytes of group `g`'s low-nibble (`hi = 0`) or high-nibble table.
    #[inline(always)]
    fn row(&self, g: usize, hi: usize) -> &[u8; 32] {
        let at = (g / 2) * 128 + hi * 64 + (g % 2) * 32;
        self.bytes[at..at + 32].try_into().expect("32 bytes")
    }
}

/// What a scan hands its blocks to: the codes below the threshold go on.
pub(crate) trait Sink {
    /// Codes whose sum is below this are passed to [`Sink::block`] (0: none; above 65535:
    /// every code). It may change only in [`Sink::block`]: the kernels read it once, then
    /// after each block they hand on.
    fn threshold(&self) -> u32;
    /// The sums of block `b`'s 32 codes, and a bit per code (bit `j` for code `j`) whose
    /// sum is below the threshold; called only when some bit is set.
    fn block(&mut self, b: usize, sums: &[u16; BLOCK], below: u32);
}

/// Queries a scan serves per pass over the codes: their accumulators fill the AVX2
/// registers (two per query, beside the nibbles and a table row).
pub(crate) const QUERIES: usize = 4;

/// Scans `blocks` (whole blocks of the tables' `m`) for `NQ` queries at the level of `isa`
/// (each block's nibbles extracted once for all of them), handing each block with a code
/// below a sink's threshold to that sink.
pub(crate) fn scan<const NQ: usize>(isa: Isa, tables: [Tables; NQ], blocks: &[u8], sinks: &mut [impl Sink; NQ]) {
    #[cfg(target_arch = "x86_64")]
    {
        let (v4, v3) = isa.x86();
        if let Some(simd) = v4 {
            return simd.vectorize(x86::Scan { simd, tables, blocks, sinks });
        }
        if let Some(simd) = v3 {
            return simd.vectorize(x86::Scan { simd, tables, blocks, sinks });
        }
    }
    let _ = isa;
    for (t, sink) in tables.into_iter().zip(sinks.iter_mut()) {
        scan_scalar(t, blocks, sink);
    }
}

/// The scalar kernel: every level without a shuffle, and the oracle of the others.
pub(crate) fn scan_scalar(tables: Tables, blocks: &[u8], sink: &mut impl Sink) {
    let mut sums = [0u16; BLOCK];
    for (b, block) in blocks.chunks_exact(tables.groups * BLOCK).enumerate() {
        sums.fill(0);
        for (g, codes) in block.as_chunks::<BLOCK>().0.iter().enumerate() {
            let (lo, hi) = (tables.row(g, 0), tables.row(g, 1));
            for (s, &c) in sums.iter_mut().zip(codes) {
                // Wrapping, as the SIMD kernels' lanes: the tables keep every sum below 2^16.
                *s =
                    s.wrapping_add(u16::from(lo[usize::from(c & 15)])).wrapping_add(u16::from(hi[usize::from(c >> 4)]));
            }
        }
        let t = sink.threshold();
        let below = sums.iter().enumerate().fold(0u32, |acc, (j, &s)| acc | u32::from(u32::from(s) < t) << j);
        if below != 0 {
            sink.block(b, &sums, below);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Sink, Tables, BLOCK};
    use core::arch::x86_64::{__m256i, __m512i};
    use pulp::x86::{V3, V4};

    #[inline(always)]
    fn load256(b: &[u8; 32]) -> __m256i {
        pulp::cast(*b)
    }

    #[inline(always)]
    fn load512(b: &[u8; 64]) -> __m512i {
        pulp::cast(*b)
    }

    /// The looked-up bytes `r` of one group added into the two accumulators (module docs).
    #[inline(always)]
    fn add_v3(simd: V3, r: __m256i, even: &mut __m256i, odd: &mut __m256i) {
        let a = simd.avx2;
        *even = a._mm256_add_epi16(*even, r);
        *odd = a._mm256_add_epi16(*odd, a._mm256_srli_epi16::<8>(r));
    }

    /// A group's low and high nibbles.
    #[inline(always)]
    fn nibbles_v3(simd: V3, codes: &[u8; 32]) -> (__m256i, __m256i) {
        let a = simd.avx2;
        let nib = simd.avx._mm256_set1_epi8(15);
        let c = load256(codes);
        (a._mm256_and_si256(c, nib), a._mm256_and_si256(a._mm256_srli_epi16::<4>(c), nib))
    }

    /// One group's two lookups in one query's tables.
    #[inline(always)]
    fn group_v3(simd: V3, tables: &Tables, g: usize, (lo, hi): (__m256i, __m256i), acc: &mut (__m256i, __m256i)) {
        let a = simd.avx2;
        add_v3(simd, a._mm256_shuffle_epi8(load256(tables.row(g, 0)), lo), &mut acc.0, &mut acc.1);
        add_v3(simd, a._mm256_shuffle_epi8(load256(tables.row(g, 1)), hi), &mut acc.0, &mut acc.1);
    }

    /// A scan at one level, run by `vectorize` inside the level's target features. A
    /// struct rather than a closure: a closure's call goes through a shim that LLVM is free
    /// not to inline, and then the whole kernel runs without the features (measured 25×
    /// slower).
    pub(super) struct Scan<'a, 't, S, K: Sink, const NQ: usize> {
        pub(super) simd: S,
        pub(super) tables: [Tables<'t>; NQ],
        pub(super) blocks: &'a [u8],
        pub(super) sinks: &'a mut [K; NQ],
    }

    impl<K: Sink, const NQ: usize> pulp::NullaryFnOnce for Scan<'_, '_, V3, K, NQ> {
        type Output = ();
        #[inline(always)]
        fn call(self) {
            scan_v3(self.simd, self.tables, self.blocks, self.sinks);
        }
    }

    impl<K: Sink, const NQ: usize> pulp::NullaryFnOnce for Scan<'_, '_, V4, K, NQ> {
        type Output = ();
        #[inline(always)]
        fn call(self) {
            scan_v4(self.simd, self.tables, self.blocks, self.sinks);
        }
    }

    /// A sink's threshold as the kernels compare with it: `None` passes no code, else a
    /// sum `s` passes when `s == min(s, limit)` in u16 (`limit = t − 1`, at most 65535, so a
    /// threshold above 65535 passes every code).
    #[inline(always)]
    fn limit_v3(simd: V3, t: u32) -> Option<__m256i> {
        (t > 0).then(|| simd.avx._mm256_set1_epi16((t - 1).min(65535) as u16 as i16))
    }

    /// Whether some sum of a block is at or below `limit`, from its accumulators, with no
    /// reordering: most blocks after the first few have none, and stop here.
    #[inline(always)]
    fn any_below_v3(simd: V3, even: __m256i, odd: __m256i, limit: __m256i) -> bool {
        let a = simd.avx2;
        let even = a._mm256_sub_epi16(even, a._mm256_slli_epi16::<8>(odd));
        let be = a._mm256_cmpeq_epi16(even, a._mm256_min_epu16(even, limit));
        let bo = a._mm256_cmpeq_epi16(odd, a._mm256_min_epu16(odd, limit));
        a._mm256_movemask_epi8(a._mm256_or_si256(be, bo)) != 0
    }

    /// The 32 sums of a block in code order from its accumulators, and the bits of those
    /// at or below `limit`.
    #[inline(always)]
    fn finish_v3(simd: V3, even: __m256i, odd: __m256i, limit: __m256i, sums: &mut [u16; BLOCK]) -> u32 {
        let a = simd.avx2;
        // Lane l of `odd` is code 2l+1's sum (lanes 0–7 codes 1..15, 8–15 codes 17..31);
        // `even` loses the 256× odd part it carries.
        let even = a._mm256_sub_epi16(even, a._mm256_slli_epi16::<8>(odd));
        // Interleaved per 128-bit half: lo = codes 0–7 | 16–23, hi = 8–15 | 24–31.
        let lo = a._mm256_unpacklo_epi16(even, odd);
        let hi = a._mm256_unpackhi_epi16(even, odd);
        let first = a._mm256_permute2x128_si256::<0x20>(lo, hi);
        let second = a._mm256_permute2x128_si256::<0x31>(lo, hi);
        *sums = pulp::cast([first, second]);
        let b0 = a._mm256_cmpeq_epi16(first, a._mm256_min_epu16(first, limit));
        let b1 = a._mm256_cmpeq_epi16(second, a._mm256_min_epu16(second, limit));
        // Packed to bytes per 128-bit half (codes 0–7, 16–23 | 8–15, 24–31), then in order.
        let bytes = a._mm256_permute4x64_epi64::<0b11_01_10_00>(a._mm256_packs_epi16(b0, b1));
        a._mm256_movemask_epi8(bytes) as u32
    }

    /// Hands block `b`'s sums of each query with a code below its threshold to its sink,
    /// and takes the sink's new threshold (a sink's threshold changes only when it takes a
    /// block, so the limits live in registers in between).
    #[inline(always)]
    fn finish_all<const NQ: usize>(
        simd: V3,
        acc: [(__m256i, __m256i); NQ],
        b: usize,
        sinks: &mut [impl Sink; NQ],
        limits: &mut [Option<__m256i>; NQ],
        sums: &mut [u16; BLOCK],
    ) {
        for (((even, odd), sink), limit) in acc.into_iter().zip(sinks.iter_mut()).zip(limits.iter_mut()) {
            let Some(l) = *limit else { continue };
            if any_below_v3(simd, even, odd, l) {
                let below = finish_v3(simd, even, odd, l, sums);
                sink.block(b, sums, below);
                *limit = limit_v3(simd, sink.threshold());
            }
        }
    }

    /// `NQ` queries per pass over the codes: each group's nibbles serve every query. Groups
    /// go in pairs, whose tables are one 128-byte chunk per query (module docs).
    #[inline(always)]
    fn scan_v3<const NQ: usize>(simd: V3, tables: [Tables; NQ], blocks: &[u8], sinks: &mut [impl Sink; NQ]) {
        let mut sums = [0u16; BLOCK];
        let zero = simd.avx._mm256_setzero_si256();
        let groups = tables[0].groups;
        let pairs_of: [&[[u8; 128]]; NQ] = tables.map(|t| t.bytes.as_chunks::<128>().0);
        let mut limits: [Option<__m256i>; NQ] = std::array::from_fn(|q| limit_v3(simd, sinks[q].threshold()));
        // A function rather than a closure, so it inlines into the target-feature context.
        #[inline(always)]
        fn lookup(simd: V3, t: &[u8; 128], at: usize, nibbles: __m256i, acc: &mut (__m256i, __m256i)) {
            let row: &[u8; 32] = t[at..at + 32].try_into().expect("32 bytes");
            add_v3(simd, simd.avx2._mm256_shuffle_epi8(load256(row), nibbles), &mut acc.0, &mut acc.1);
        }
        for (b, block) in blocks.chunks_exact(groups * BLOCK).enumerate() {
            let mut acc = [(zero, zero); NQ];
            let (pairs, last) = block.as_chunks::<64>();
            for (p, codes) in pairs.iter().enumerate() {
                let (c0, c1) = codes.split_at(32);
                let (lo0, hi0) = nibbles_v3(simd, c0.try_into().expect("32 bytes"));
                let (lo1, hi1) = nibbles_v3(simd, c1.try_into().expect("32 bytes"));
                for (t, acc) in pairs_of.iter().zip(acc.iter_mut()) {
                    let t = &t[p];
                    lookup(simd, t, 0, lo0, acc);
                    lookup(simd, t, 32, lo1, acc);
                    lookup(simd, t, 64, hi0, acc);
                    lookup(simd, t, 96, hi1, acc);
                }
            }
            if let Ok(codes) = <&[u8; 32]>::try_from(last) {
                let (lo, hi) = nibbles_v3(simd, codes);
                for (t, acc) in pairs_of.iter().zip(acc.iter_mut()) {
                    let t = &t[pairs.len()];
                    lookup(simd, t, 0, lo, acc);
                    lookup(simd, t, 64, hi, acc);
                }
            }
            finish_all(simd, acc, b, sinks, &mut limits, &mut sums);
        }
    }

    /// The sum of a 512-bit register's two 256-bit halves, in 16-bit lanes.
    #[inline(always)]
    fn fold_v4(simd: V4, x: __m512i) -> __m256i {
        let f = simd.avx512f;
        simd.avx2._mm256_add_epi16(f._mm512_castsi512_si256(x), f._mm512_extracti64x4_epi64::<1>(x))
    }

    /// As [`scan_v3`], two groups per 512-bit register.
    #[inline(always)]
    fn scan_v4<const NQ: usize>(simd: V4, tables: [Tables; NQ], blocks: &[u8], sinks: &mut [impl Sink; NQ]) {
        let v3 = *simd;
        let w = simd.avx512bw;
        let f = simd.avx512f;
        let nib = f._mm512_set1_epi8(15);
        let mut sums = [0u16; BLOCK];
        let zero = f._mm512_setzero_si512();
        let groups = tables[0].groups;
        let mut limits: [Option<__m256i>; NQ] = std::array::from_fn(|q| limit_v3(v3, sinks[q].threshold()));
        for (b, block) in blocks.chunks_exact(groups * BLOCK).enumerate() {
            let mut wide = [(zero, zero); NQ];
            let (pairs, last) = block.as_chunks::<64>();
            for (p, codes) in pairs.iter().enumerate() {
                let c = load512(codes);
                let lo = f._mm512_and_si512(c, nib);
                let hi = f._mm512_and_si512(w._mm512_srli_epi16::<4>(c), nib);
                let at = p * 128;
                for (t, (even, odd)) in tables.iter().zip(wide.iter_mut()) {
                    let t_lo: &[u8; 64] = t.bytes[at..at + 64].try_into().expect("64 bytes");
                    let t_hi: &[u8; 64] = t.bytes[at + 64..at + 128].try_into().expect("64 bytes");
                    for r in [w._mm512_shuffle_epi8(load512(t_lo), lo), w._mm512_shuffle_epi8(load512(t_hi), hi)] {
                        *even = w._mm512_add_epi16(*even, r);
                        *odd = w._mm512_add_epi16(*odd, w._mm512_srli_epi16::<8>(r));
                    }
                }
            }
            // The two 256-bit halves hold the same codes (groups 2p and 2p + 1): folded.
            // A loop rather than `array::map` with a closure: LLVM left that map's body out of
            // the target-feature context, every intrinsic in it a call (5x slower).
            let mut acc = [(simd.avx._mm256_setzero_si256(), simd.avx._mm256_setzero_si256()); NQ];
            for (acc, (e, o)) in acc.iter_mut().zip(wide) {
                *acc = (fold_v4(simd, e), fold_v4(simd, o));
            }
            if let Ok(codes) = <&[u8; 32]>::try_from(last) {
                let nibbles = nibbles_v3(v3, codes);
                for (t, acc) in tables.iter().zip(acc.iter_mut()) {
                    group_v3(v3, t, groups - 1, nibbles, acc);
                }
            }
            finish_all(v3, acc, b, sinks, &mut limits, &mut sums);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simd::{available, with_level};

    /// xorshift bytes.
    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 32) as u8
            })
            .collect()
    }

    /// Every block handed on, as the sink saw it.
    struct Record {
        t: u32,
        seen: Vec<(usize, [u16; BLOCK], u32)>,
    }

    impl Sink for Record {
        fn threshold(&self) -> u32 {
            self.t
        }
        fn block(&mut self, b: usize, sums: &[u16; BLOCK], below: u32) {
            self.seen.push((b, *sums, below));
        }
    }

    #[test]
    fn pack_and_unpack_are_inverse_and_sub_codes_read_back() {
        for m in [1usize, 2, 3, 8, 15, 16, 33] {
            let cs = groups(m);
            for n in [1usize, 31, 32, 33, 100] {
                let mut codes = bytes(n * cs, (m * 1000 + n) as u64);
                if m % 2 == 1 {
                    // The nibble layout's padding: a zero low nibble in the last byte.
                    codes.chunks_exact_mut(cs).for_each(|c| c[cs - 1] &= 0xF0);
                }
                let mut packed = vec![0xAAu8; n.div_ceil(BLOCK) * block_bytes(m)];
                pack(m, &codes, &mut packed);
                let mut back = vec![0u8; n * cs];
                unpack(m, &packed, &mut back);
                assert_eq!(back, codes, "m {m} n {n}");
                for i in 0..n {
                    let block = &packed[(i / BLOCK) * block_bytes(m)..][..block_bytes(m)];
                    for q in 0..m {
                        let want = crate::codes::CodeLayout::Nibble.get(&codes[i * cs..(i + 1) * cs], q);
                        assert_eq!(u32::from(sub_code(block, q, i % BLOCK)), want, "m {m} code {i} q {q}");
                    }
                }
            }
        }
    }

    #[test]
    fn every_level_sums_as_the_oracle() {
        for m in [1usize, 2, 3, 4, 5, 8, 15, 16, 32, 33, 64] {
            let n_blocks = 7;
            let blocks = bytes(n_blocks * block_bytes(m), m as u64);
            // Entries up to 255, so the sums of m = 64 reach 16320 (and wrap nowhere).
            let rows: Vec<[u8; 16]> =
                bytes(16 * m, m as u64 + 99).chunks_exact(16).map(|c| c.try_into().unwrap()).collect();
            let mut laid = vec![0u8; tables_len(m)];
            let tables = Tables::lay_out(m, &rows, &mut laid);
            // Direct sums from the rows.
            let want: Vec<[u16; BLOCK]> = blocks
                .chunks_exact(block_bytes(m))
                .map(|block| {
                    std::array::from_fn(|j| (0..m).map(|q| u16::from(rows[q][sub_code(block, q, j) as usize])).sum())
                })
                .collect();
            let median = {
                let mut all: Vec<u16> = want.iter().flatten().copied().collect();
                all.sort_unstable();
                all[all.len() / 2]
            };
            for t in [0u32, 1, u32::from(median), 65535, 65536, u32::MAX] {
                let mut oracle = Record { t, seen: Vec::new() };
                scan_scalar(tables, &blocks, &mut oracle);
                for (b, sums, below) in &oracle.seen {
                    assert_eq!(sums, &want[*b], "m {m}");
                    let bits = sums.iter().enumerate().fold(0u32, |a, (j, &s)| a | u32::from(u32::from(s) < t) << j);
                    assert_eq!(*below, bits);
                }
                let handed = want.iter().filter(|s| s.iter().any(|&v| u32::from(v) < t)).count();
                assert_eq!(oracle.seen.len(), handed, "m {m} t {t}");
                for &level in available() {
                    for off in [0usize, 1, 5] {
                        let mut shifted = vec![0u8; off + blocks.len()];
                        shifted[off..].copy_from_slice(&blocks);
                        let mut got = Record { t, seen: Vec::new() };
                        with_level(level, || {
                            scan(Isa::current(), [tables], &shifted[off..], std::array::from_mut(&mut got))
                        })
                        .unwrap();
                        assert_eq!(got.seen, oracle.seen, "m {m} t {t} offset {off} at {level}");
                    }
                }
            }
        }
    }

    #[test]
    fn several_queries_per_pass_sum_as_one_at_a_time() {
        for m in [3usize, 16, 33] {
            let blocks = bytes(5 * block_bytes(m), 70 + m as u64);
            let rows: Vec<Vec<[u8; 16]>> = (0..4)
                .map(|q| bytes(16 * m, 200 + q).chunks_exact(16).map(|c| c.try_into().unwrap()).collect())
                .collect();
            let mut laid = vec![vec![0u8; tables_len(m)]; 4];
            let mut views = laid.iter_mut().zip(&rows).map(|(l, r)| Tables::lay_out(m, r, l));
            let tables: [Tables; 4] = std::array::from_fn(|_| views.next().unwrap());
            let ts = [65536u32, 3000, 100, 0];
            let want: Vec<Vec<(usize, [u16; BLOCK], u32)>> = (0..4)
                .map(|q| {
                    let mut r = Record { t: ts[q], seen: Vec::new() };
                    scan_scalar(tables[q], &blocks, &mut r);
                    r.seen
                })
                .collect();
            for &level in available() {
                let mut sinks: [Record; 4] = std::array::from_fn(|q| Record { t: ts[q], seen: Vec::new() });
                with_level(level, || scan(Isa::current(), tables, &blocks, &mut sinks)).unwrap();
                for q in 0..4 {
                    assert_eq!(sinks[q].seen, want[q], "m {m} query {q} at {level}");
                }
                let mut two: [Record; 2] = std::array::from_fn(|q| Record { t: ts[q + 1], seen: Vec::new() });
                with_level(level, || scan(Isa::current(), [tables[1], tables[2]], &blocks, &mut two)).unwrap();
                assert_eq!((&two[0].seen, &two[1].seen), (&want[1], &want[2]), "m {m} at {level}");
            }
        }
    }

    #[test]
    fn sums_wrap_alike_at_every_level() {
        // Hostile tables (all 255 with m = 300) overflow 16 bits: every level wraps alike.
        let m = 300;
        let rows = vec![[255u8; 16]; m];
        let mut laid = vec![0u8; tables_len(m)];
        let tables = Tables::lay_out(m, &rows, &mut laid);
        let blocks = bytes(2 * block_bytes(m), 5);
        let mut oracle = Record { t: 65536, seen: Vec::new() };
        scan_scalar(tables, &blocks, &mut oracle);
        assert_eq!(oracle.seen[0].1[0], (300u32 * 255 % 65536) as u16);
        for &level in available() {
            let mut got = Record { t: 65536, seen: Vec::new() };
            with_level(level, || scan(Isa::current(), [tables], &blocks, std::array::from_mut(&mut got))).unwrap();
            assert_eq!(got.seen, oracle.seen, "at {level}");
        }
    }
}
