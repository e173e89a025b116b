//! Codebook lookup (ADC): the asymmetric distance of a PQ code is the sum of the `m`
//! distance-table entries its sub-codes select.
//!
//! Two loops, both monomorphized per code layout ([`crate::codes`]) so the layout test stays
//! out of the inner loop:
//! - [`scan_one`]: one query's table (`[m][ksub]` floats), four codes per pass (FAISS's
//!   `distance_four_codes`): four independent sums overlap the table loads;
//! - [`scan_interleaved`]: one query per register lane, their tables interleaved as
//!   `[m][ksub][lanes]`, so one register load serves every query. Per sub-code that is one
//!   load and one vector add for all of them instead of one scalar load and add each: the
//!   scan is bound by loads, so this is where the batch search's speed comes from. It keeps
//!   the queries' top-k itself, with one vector compare per code.
//!
//! The generic `pulp::Simd` trait has no gather, so the single-query scan is plain Rust
//! with scalar loads.
//!
//! A sub-code at or above `ksub` (only possible in corrupt input) panics on a bounds check
//! rather than reading past its table row; `ProductQuantizer::check_codes` rejects such codes
//! up front where a caller wants an error instead.

use crate::codes::Layout;
use crate::kernels::lanes::any;
use crate::search::TopK;
use pulp::Simd;

/// The widest register in f32 lanes (AVX-512): bounds the queries of one interleaved pass.
pub(crate) const MAX_LANES: usize = 16;

/// `out[r]` = the ADC distance of code `r` (`cs` bytes each) under one query's table
/// (`m` rows of `ksub` floats).
#[inline(always)]
pub(crate) fn scan_one<W: Layout>(ksub: usize, cs: usize, table: &[f32], codes: &[u8], out: &mut [f32]) {
    if W::LAYOUT == crate::codes::CodeLayout::Byte && ksub == 256 {
        let (rows, _) = table.as_chunks::<256>();
        return scan_full_bytes(rows, cs, codes, out);
    }
    let (out4, out1) = out.as_chunks_mut::<4>();
    let (codes4, codes1) = codes.split_at(out4.len() * 4 * cs);
    for (o, c) in out4.iter_mut().zip(codes4.chunks_exact(4 * cs)) {
        let (c0, rest) = c.split_at(cs);
        let (c1, rest) = rest.split_at(cs);
        let (c2, c3) = rest.split_at(cs);
        let mut s = [0f32; 4];
        for (i, t) in table.chunks_exact(ksub).enumerate() {
            s[0] += t[W::get(c0, i) as usize];
            s[1] += t[W::get(c1, i) as usize];
            s[2] += t[W::get(c2, i) as usize];
            s[3] += t[W::get(c3, i) as usize];
        }
        *o = s;
    }
    for (o, c) in out1.iter_mut().zip(codes1.chunks_exact(cs)) {
        // From +0.0 like the sums above (`sum()` starts from −0.0): the same bits for a code
        // wherever it falls.
        *o = table.chunks_exact(ksub).enumerate().fold(0.0, |s, (i, t)| s + t[W::get(c, i) as usize]);
    }
}

/// [`scan_one`] for byte codes of a full table (`ksub = 256`): a byte indexes a row of 256
/// without a bounds check, and the sub-codes come from zipped slices without any.
#[inline(always)]
fn scan_full_bytes(rows: &[[f32; 256]], cs: usize, codes: &[u8], out: &mut [f32]) {
    let (out4, out1) = out.as_chunks_mut::<4>();
    let (codes4, codes1) = codes.split_at(out4.len() * 4 * cs);
    for (o, c) in out4.iter_mut().zip(codes4.chunks_exact(4 * cs)) {
        let (c0, rest) = c.split_at(cs);
        let (c1, rest) = rest.split_at(cs);
        let (c2, c3) = rest.split_at(cs);
        let mut s = [0f32; 4];
        for ((((t, &a), &b), &e), &f) in rows.iter().zip(c0).zip(c1).zip(c2).zip(c3) {
            s[0] += t[a as usize];
            s[1] += t[b as usize];
            s[2] += t[e as usize];
            s[3] += t[f as usize];
        }
        *o = s;
    }
    for (o, c) in out1.iter_mut().zip(codes1.chunks_exact(cs)) {
        *o = rows.iter().zip(c).fold(0.0, |s, (t, &a)| s + t[a as usize]);
    }
}

/// Top-k over `codes` of up to `L = S::F32_LANES` queries at once, their tables interleaved
/// one register per entry (`itable[i·ksub + c]` holds entry `(i, c)` of every query, lane
/// `q` for query `q`). Four codes per pass: four independent chains of register adds keep
/// the adder busy while the loads are in flight. The heap check is one compare per code
/// against a register of the queries' current thresholds (lanes past `nq` hold −∞, so they
/// never pass); only a code that beats some threshold, rare after the first few blocks,
/// leaves the vector path. Each query's sum runs over the sub-quantizers in order, exactly
/// as [`scan_one`] does, so both paths give the same bits and the same neighbours.
///
/// `dist` and `ids` hold `nq·k` entries, heaps already started (`search::Heaps::start`).
#[inline(always)]
#[allow(clippy::too_many_arguments)] // the scan's whole state; a struct would only rename it
pub(crate) fn scan_interleaved<S: Simd, W: Layout>(
    simd: S,
    ksub: usize,
    cs: usize,
    itable: &[S::f32s],
    codes: &[u8],
    first_id: i64,
    k: usize,
    dist: &mut [f32],
    ids: &mut [i64],
) {
    let lanes = S::F32_LANES;
    let nq = dist.len() / k;
    debug_assert!(nq <= lanes && nq <= MAX_LANES);
    let mut thr_arr = [f32::NEG_INFINITY; MAX_LANES];
    for (t, d) in thr_arr.iter_mut().zip(dist.chunks_exact(k)) {
        *t = d[0];
    }
    let mut thr = simd.partial_load_f32s(&thr_arr[..lanes]);
    // A code that beats some query's threshold: offer it to each such query's heap.
    let mut offer = |acc: S::f32s, id: i64, thr: &mut S::f32s| {
        let mut a = [0f32; MAX_LANES];
        simd.partial_store_f32s(&mut a[..lanes], acc);
        for (q, (d, l)) in dist.chunks_exact_mut(k).zip(ids.chunks_exact_mut(k)).enumerate() {
            if a[q] < thr_arr[q] {
                let mut top = TopK::resume(d, l);
                top.push(a[q], id);
                thr_arr[q] = top.threshold();
            }
        }
        *thr = simd.partial_load_f32s(&thr_arr[..lanes]);
    };
    let n = codes.len() / cs;
    let n4 = n / 4 * 4;
    let zero = simd.splat_f32s(0.0);
    for r in (0..n4).step_by(4) {
        let c: [&[u8]; 4] = std::array::from_fn(|v| &codes[(r + v) * cs..(r + v + 1) * cs]);
        let mut s = [zero; 4];
        for (i, t) in itable.chunks_exact(ksub).enumerate() {
            for (sv, cv) in s.iter_mut().zip(c) {
                *sv = simd.add_f32s(*sv, t[W::get(cv, i) as usize]);
            }
        }
        let m01 = simd.or_m32s(simd.less_than_f32s(s[0], thr), simd.less_than_f32s(s[1], thr));
        let m23 = simd.or_m32s(simd.less_than_f32s(s[2], thr), simd.less_than_f32s(s[3], thr));
        if any(simd.or_m32s(m01, m23)) {
            for (v, &sv) in s.iter().enumerate() {
                if any(simd.less_than_f32s(sv, thr)) {
                    offer(sv, first_id + (r + v) as i64, &mut thr);
                }
            }
        }
    }
    for r in n4..n {
        let c = &codes[r * cs..(r + 1) * cs];
        let mut s = zero;
        for (i, t) in itable.chunks_exact(ksub).enumerate() {
            s = simd.add_f32s(s, t[W::get(c, i) as usize]);
        }
        if any(simd.less_than_f32s(s, thr)) {
            offer(s, first_id + r as i64, &mut thr);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Byte;

    /// Both byte loops (the full table's and the generic one) sum each code's entries in
    /// sub-quantizer order from +0.0, as a plain loop does: the same bits, for code counts
    /// that leave every tail length and tables with −0.0 entries (whose sum with +0.0
    /// shows the order and the start of the adds).
    #[test]
    fn byte_codes_sum_in_order_from_zero() {
        for ksub in [256usize, 255] {
            for m in [1usize, 2, 3, 8, 9] {
                let table: Vec<f32> = (0..m * ksub)
                    .map(|i| if i % 7 == 0 { -0.0 } else { ((i * 31) % 101) as f32 * 0.37 - 18.0 })
                    .collect();
                for n in 0..12 {
                    let codes: Vec<u8> = (0..n * m).map(|i| ((i * 89 + 13) % ksub) as u8).collect();
                    let mut got = vec![f32::NAN; n];
                    scan_one::<Byte>(ksub, m, &table, &codes, &mut got);
                    for (r, c) in codes.chunks_exact(m).enumerate() {
                        let want = c.iter().enumerate().fold(0f32, |s, (i, &b)| s + table[i * ksub + b as usize]);
                        assert_eq!(got[r].to_bits(), want.to_bits(), "ksub {ksub} m {m} n {n} code {r}");
                    }
                }
            }
        }
    }
}
