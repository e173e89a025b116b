//! The scalar quantizer at every SIMD level: codes and reconstructions bit-identical to the
//! scalar oracle, asymmetric distances equal to the distance to the reconstruction, the
//! half-step error bound, the layouts, top-k equal to a sort, and errors for bad input.

mod common;
use common::floats;
use proptest::prelude::*;
use vq::reference;
use vq::simd::{available, with_level};
use vq::{Quantizer, ScalarQuantizer, SqBits};

const ALL_BITS: [SqBits; 3] = [SqBits::B4, SqBits::B8, SqBits::B16];

/// The oracle's code for dimension j of a row, read back from the layout the module documents.
fn code_at(bits: SqBits, code: &[u8], j: usize) -> u32 {
    match bits {
        SqBits::B8 => code[j] as u32,
        SqBits::B16 => u16::from_le_bytes([code[2 * j], code[2 * j + 1]]) as u32,
        SqBits::B4 => ((code[j / 2] >> if j.is_multiple_of(2) { 4 } else { 0 }) & 0xF) as u32,
    }
}

fn oracle_inv(sq: &ScalarQuantizer, j: usize) -> f32 {
    let range = sq.vmax()[j] as f64 - sq.vmin()[j] as f64;
    let levels = sq.bits().levels() as f64;
    let i = if range > 0.0 { (levels / range) as f32 } else { 0.0 };
    if i.is_finite() {
        i
    } else {
        0.0
    }
}

fn oracle_base(sq: &ScalarQuantizer, j: usize) -> f32 {
    (sq.vmin()[j] as f64 + 0.5 * sq.step()[j] as f64) as f32
}

/// Encode, decode and distances at every level against the oracle, for `n` rows `x`.
fn check_all_levels(sq: &ScalarQuantizer, x: &[f32], q: &[f32]) -> Result<(), TestCaseError> {
    let d = sq.dim();
    let n = x.len() / d;
    let cs = sq.code_size();
    let levels = sq.bits().levels();
    // Oracle codes, laid out by hand.
    let mut want_codes = vec![0u8; n * cs];
    for (row, code) in x.chunks_exact(d).zip(want_codes.chunks_exact_mut(cs)) {
        for (j, &v) in row.iter().enumerate() {
            let c = reference::sq_code(v, sq.vmin()[j], oracle_inv(sq, j), levels);
            match sq.bits() {
                SqBits::B8 => code[j] = c as u8,
                SqBits::B16 => code[2 * j..2 * j + 2].copy_from_slice(&(c as u16).to_le_bytes()),
                SqBits::B4 => code[j / 2] |= (c as u8) << if j.is_multiple_of(2) { 4 } else { 0 },
            }
        }
    }
    let want_rec: Vec<f32> = want_codes
        .chunks_exact(cs)
        .flat_map(|code| (0..d).map(move |j| (code, j)))
        .map(|(code, j)| reference::sq_decode(code_at(sq.bits(), code, j), sq.step()[j], oracle_base(sq, j)))
        .collect();
    for &level in available() {
        let mut codes = vec![0xAAu8; n * cs];
        with_level(level, || sq.encode(x, &mut codes)).unwrap().unwrap();
        prop_assert_eq!(&codes, &want_codes, "codes at {} ({:?}, d={})", level, sq.bits(), d);
        let mut rec = vec![f32::NAN; n * d];
        with_level(level, || sq.decode(&codes, &mut rec)).unwrap().unwrap();
        for (i, (g, w)) in rec.iter().zip(&want_rec).enumerate() {
            prop_assert_eq!(g.to_bits(), w.to_bits(), "decode at {} elem {}: {} vs {}", level, i, g, w);
        }
        let mut dist = vec![f32::NAN; n];
        with_level(level, || sq.distances(q, &codes, &mut dist)).unwrap().unwrap();
        for (i, &g) in dist.iter().enumerate() {
            let r = &want_rec[i * d..(i + 1) * d];
            let want = reference::l2sq(q, r);
            // The kernel reconstructs with a fused multiply-add: each term may move by a few
            // ulps of |q| + |x̂|, which the second term of the tolerance covers.
            let scale: f64 = q.iter().zip(r).map(|(&a, &b)| (a.abs() as f64 + b.abs() as f64).powi(2)).sum();
            let tol = reference::tolerance(d, want) + 4.0 * f32::EPSILON as f64 * scale.sqrt() * want.sqrt() + 1e-30;
            prop_assert!(
                (g as f64 - want).abs() <= tol,
                "distance at {} row {}: {} vs {} (tol {})",
                level,
                i,
                g,
                want,
                tol
            );
        }
    }
    Ok(())
}

#[test]
fn every_level_matches_oracle_fixed_dims() {
    for bits in ALL_BITS {
        for d in [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 1000] {
            let train = floats(50 * d, d as u64, 4.0);
            let sq = ScalarQuantizer::train(bits, d, &train).unwrap();
            // Include values outside the trained range (scale 5 > 4) to exercise the clamp.
            let x = floats(9 * d, 99 + d as u64, 5.0);
            let q = floats(d, 7 + d as u64, 4.0);
            check_all_levels(&sq, &x, &q).unwrap();
        }
    }
}

#[test]
fn unaligned_slices_give_the_same_results() {
    let d = 37;
    let buf = floats(16 + 5 * d, 3, 2.0);
    let sq = ScalarQuantizer::train(SqBits::B4, d, &buf[..5 * d]).unwrap();
    let q = &buf[..d];
    for off in 0..16 {
        check_all_levels(&sq, &buf[off..off + 5 * d], q).unwrap();
    }
}

#[test]
fn error_within_half_a_step_inside_the_range() {
    for bits in ALL_BITS {
        let d = 65;
        let x = floats(513 * d, 11, 3.0);
        let sq = ScalarQuantizer::train(bits, d, &x).unwrap();
        let mut codes = vec![0u8; 513 * sq.code_size()];
        sq.encode(&x, &mut codes).unwrap();
        let mut rec = vec![0.0; x.len()];
        sq.decode(&codes, &mut rec).unwrap();
        for (i, (&a, &b)) in x.iter().zip(&rec).enumerate() {
            let j = i % d;
            let bound = 0.5 * sq.step()[j] as f64 + 4.0 * f32::EPSILON as f64 * 3.0;
            assert!((a as f64 - b as f64).abs() <= bound, "{bits:?} dim {j}: {a} -> {b}, bound {bound}");
        }
    }
}

#[test]
fn constant_dimension_decodes_exactly() {
    let d = 3;
    let x: Vec<f32> = (0..20).flat_map(|i| [1.5, i as f32, -2.0]).collect();
    for bits in ALL_BITS {
        let sq = ScalarQuantizer::train(bits, d, &x).unwrap();
        let mut codes = vec![0u8; 20 * sq.code_size()];
        sq.encode(&x, &mut codes).unwrap();
        let mut rec = vec![0.0; x.len()];
        sq.decode(&codes, &mut rec).unwrap();
        for row in rec.chunks_exact(3) {
            assert_eq!(row[0], 1.5);
            assert_eq!(row[2], -2.0);
        }
    }
}

#[test]
fn layouts_and_compression_ratios() {
    let x = [0.0f32, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    // d = 3 rows: [0,1,0], [1,0,1], [1,0,1], [0,1,0].
    let sq4 = ScalarQuantizer::train(SqBits::B4, 3, &x).unwrap();
    assert_eq!(sq4.code_size(), 2);
    let mut c = [0u8; 2];
    sq4.encode(&[0.0, 1.0, 1.0], &mut c).unwrap();
    // Even dimension high nibble, odd low; the odd count leaves a zero low nibble.
    assert_eq!(c, [0x0F, 0xF0]);
    let sq16 = ScalarQuantizer::train(SqBits::B16, 3, &x).unwrap();
    let mut c = [0u8; 6];
    sq16.encode(&[0.0, 1.0, 0.5], &mut c).unwrap();
    assert_eq!(&c[..4], &[0, 0, 0xFF, 0xFF]);
    for (bits, ratio) in [(SqBits::B4, 8.0), (SqBits::B8, 4.0), (SqBits::B16, 2.0)] {
        let sq = ScalarQuantizer::train(bits, 128, &floats(128 * 4, 1, 1.0)).unwrap();
        assert_eq!(sq.compression_ratio(), ratio);
    }
}

/// Search against the f64 oracle: ascending distances, each within float tolerance of the
/// exact distance to its reconstruction, nothing better left out (up to that tolerance),
/// equal codes resolved to the lower id. Covers both search paths (fewer than four queries:
/// on-the-fly reconstruction; four or more: transposed blocks).
fn check_search(bits: SqBits, d: usize, n: usize, nq: usize, k: usize, seed: u64) {
    let x = floats(n * d, seed, 1.0);
    let sq = ScalarQuantizer::train(bits, d, &x).unwrap();
    let cs = sq.code_size();
    let mut codes = vec![0u8; n * cs];
    sq.encode(&x, &mut codes).unwrap();
    // Duplicate some codes so equal distances occur and the tie rule is exercised.
    let dups = 10.min(n / 2);
    codes.copy_within(0..dups * cs, (n - dups) * cs);
    let mut rec = vec![0.0; n * d];
    sq.decode(&codes, &mut rec).unwrap();
    let queries = floats(nq * d, seed ^ 6, 1.0);
    for &level in available() {
        let mut dist = vec![0.0; nq * k];
        let mut lab = vec![0i64; nq * k];
        with_level(level, || sq.search(&queries, &codes, k, &mut dist, &mut lab)).unwrap().unwrap();
        for qi in 0..nq {
            let q = &queries[qi * d..(qi + 1) * d];
            let rows = (0..n).map(|i| &rec[i * d..(i + 1) * d]);
            let want: Vec<f64> = rows.clone().map(|r| reference::l2sq(q, r)).collect();
            // Rounding of a sum of d squares. The search reconstructs x̂ = vmin + (c + ½)·step
            // with an FMA, the decoder without, so the two x̂ differ by an ulp of the terms
            // |vmin| + |vmax|, not of |x̂| (which can be far smaller): each square's scale is
            // (|q| + |x̂| + |vmin| + |vmax|)². Seen failing with |x̂| alone at d = 1.
            let tol: Vec<f64> = rows
                .map(|r| {
                    let scale: f64 = q
                        .iter()
                        .zip(r)
                        .zip(sq.vmin().iter().zip(sq.vmax()))
                        .map(|((&a, &b), (&lo, &hi))| {
                            (a.abs() as f64 + b.abs() as f64 + lo.abs() as f64 + hi.abs() as f64).powi(2)
                        })
                        .sum();
                    reference::tolerance(d, scale)
                })
                .collect();
            let (dq, lq) = (&dist[qi * k..(qi + 1) * k], &lab[qi * k..(qi + 1) * k]);
            let found = lq.iter().filter(|&&l| l >= 0).count();
            assert_eq!(found, k.min(n), "{bits:?} {level} q={qi}: result count");
            let ctx = format!("{bits:?} {level} d={d} n={n} nq={nq} k={k} q={qi}");
            for r in 0..found {
                let id = lq[r] as usize;
                assert!(
                    (dq[r] as f64 - want[id]).abs() <= tol[id],
                    "{ctx} rank {r} id {id}: {} vs {}",
                    dq[r],
                    want[id]
                );
                if r > 0 {
                    assert!(dq[r - 1] <= dq[r], "{ctx}: not ascending at rank {r}");
                    assert!(!lq[..r].contains(&lq[r]), "{ctx}: id {id} twice");
                }
                // A later duplicate of an earlier code is never preferred to the original.
                if id >= n - dups {
                    let orig = (id - (n - dups)) as i64;
                    assert!(lq[..r].contains(&orig), "{ctx}: duplicate {id} returned before its original {orig}");
                }
            }
            for r in found..k {
                assert_eq!((lq[r], dq[r]), (-1, f32::INFINITY), "{ctx}: padding at rank {r}");
            }
            // Completeness: nothing left out was clearly better than the worst returned.
            if found == k && found < n {
                let worst = lq.iter().map(|&l| want[l as usize] + tol[l as usize]).fold(0.0, f64::max);
                for (id, (&w, &t)) in want.iter().zip(&tol).enumerate() {
                    if !lq.contains(&(id as i64)) {
                        assert!(w + t >= worst - 2.0 * t, "{ctx}: id {id} at {w} left out, worst kept {worst}");
                    }
                }
            }
        }
    }
}

/// The batch search's one-register transposed path serves dimensions too large for two
/// registers of rows in its 32 KiB block: 257–512 at AVX-512, 513–1,024 at AVX2, 4,097–8,192
/// at the scalar level. Each dimension here reaches it at one level and another path at the
/// others, and every level is checked at each.
#[test]
fn one_register_transposed_path_at_every_level() {
    for bits in ALL_BITS {
        for d in [300, 700, 5000] {
            check_search(bits, d, 37, 5, 7, d as u64);
        }
    }
}

#[test]
fn search_is_exact_top_k_of_the_reconstructions() {
    for bits in ALL_BITS {
        for (d, n, nq, k) in [(33, 777, 7, 10), (33, 777, 3, 10), (128, 300, 5, 100), (5, 40, 9, 100), (17, 1, 4, 3)] {
            check_search(bits, d, n, nq, k, d as u64 * 31 + n as u64);
        }
    }
}

#[test]
fn bad_input_is_an_error_naming_the_value() {
    let e = SqBits::from_bits(5).unwrap_err().to_string();
    assert!(e.contains('5') && e.contains("4, 8 or 16"), "{e}");
    assert!(ScalarQuantizer::train(SqBits::B8, 0, &[]).is_err());
    assert!(ScalarQuantizer::train(SqBits::B8, 4, &[]).is_err());
    assert!(ScalarQuantizer::train(SqBits::B8, 4, &[1.0; 6]).is_err());
    let e = ScalarQuantizer::train(SqBits::B8, 2, &[1.0, f32::NAN]).unwrap_err().to_string();
    assert!(e.contains("element 1"), "{e}");
    let sq = ScalarQuantizer::train(SqBits::B8, 2, &[0.0, 1.0, 1.0, 0.0]).unwrap();
    let mut codes = [0u8; 3];
    let e = sq.encode(&[0.0; 4], &mut codes).unwrap_err().to_string();
    assert!(e.contains('3') && e.contains('4'), "{e}");
    let mut out = [0.0f32; 2];
    assert!(sq.distances(&[0.0; 3], &[0u8; 4], &mut out).is_err());
    let (mut d, mut l) = ([0.0f32; 2], [0i64; 2]);
    assert!(sq.search(&[0.0; 2], &[0u8; 4], 0, &mut d, &mut l).is_err());
    assert!(sq.search(&[0.0, f32::NAN], &[0u8; 4], 2, &mut d, &mut l).is_err());
    assert!(sq.search(&[0.0; 2], &[0u8; 4], 2, &mut d, &mut l).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Inside the trained range every value comes back within half a cell (plus rounding of
    /// the reconstruction, a few ulps of the value's magnitude), at every level.
    #[test]
    fn round_trip_within_half_a_step(bits in 0usize..3, d in 1usize..=200, n in 2usize..=20, seed in any::<u64>(),
                                     scale in 1e-3f32..1e4, shift in -1e3f32..1e3) {
        let bits = ALL_BITS[bits];
        let x: Vec<f32> = floats(n * d, seed, scale).into_iter().map(|v| v + shift).collect();
        let sq = ScalarQuantizer::train(bits, d, &x).unwrap();
        let mut codes = vec![0u8; n * sq.code_size()];
        let mut rec = vec![0.0; x.len()];
        for &level in available() {
            with_level(level, || sq.encode(&x, &mut codes)).unwrap().unwrap();
            with_level(level, || sq.decode(&codes, &mut rec)).unwrap().unwrap();
            for (i, (&a, &b)) in x.iter().zip(&rec).enumerate() {
                let j = i % d;
                let mag = sq.vmin()[j].abs().max(sq.vmax()[j].abs()) as f64;
                let bound = 0.5 * sq.step()[j] as f64 + 4.0 * f32::EPSILON as f64 * mag;
                prop_assert!((a as f64 - b as f64).abs() <= bound, "{:?} {} dim {}: {} -> {}, bound {}", bits, level, j, a, b, bound);
            }
        }
    }

    #[test]
    fn search_random(bits in 0usize..3, d in 1usize..=300, n in 1usize..=300, nq in 1usize..=9, k in 1usize..=50,
                     seed in any::<u64>()) {
        check_search(ALL_BITS[bits], d, n, nq, k, seed);
    }

    #[test]
    fn random_dims_and_offsets(bits in 0usize..3, d in 1usize..=2049, n in 1usize..4, off in 0usize..16,
                               seed in any::<u64>(), scale in 1e-3f32..1e3) {
        let bits = ALL_BITS[bits];
        let buf = floats(16 + (n + 2) * d, seed, scale);
        let sq = ScalarQuantizer::train(bits, d, &buf[16..16 + 2 * d]).unwrap();
        let x = &buf[off..off + n * d];
        let q = &buf[16 + 2 * d..16 + 3 * d];
        check_all_levels(&sq, x, q)?;
    }
}
