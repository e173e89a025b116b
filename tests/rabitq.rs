//! RaBitQ at every SIMD level: the AND-popcount kernel against a bit-by-bit oracle, the
//! 1-bit and full estimates (quantized and float queries) against an f64 oracle that reads
//! the documented code layout, searches against the estimates; then the papers' claims on
//! seeded data (the bound holds for ≥ 99% of codes at ε₀ = 1.9, recall grows with bits,
//! re-ranking inside the bound is exact), the three metrics, and every bad input.
//!
//! `cargo test --release --test rabitq -- --ignored --nocapture minilm` prints the
//! debian-minilm figures of issue 14 (recall at 1, 2, 4, 8 bits, the bound's failures,
//! re-ranking at 1 bit).

mod common;
#[path = "common/counting.rs"]
mod counting;
use common::floats;
use counting::allocations;
use vq::kernels::rabitq::and_popcount_batch;
use vq::metric::inv_norm;
use vq::search::knn_with_metric;
use vq::simd::{available, with_level};
use vq::synthetic::{GaussianMixture, NumpyLegacyRng};
use vq::{Error, Metric, Quantizer, QueryBits, RabitqParams, RabitqQuantizer};

fn gaussian(n: usize, d: usize, seed: u32) -> Vec<f32> {
    let mut v = vec![0f32; n * d];
    NumpyLegacyRng::new(seed).fill_standard_normal_f32(&mut v);
    v
}

fn clustered(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let g = GaussianMixture::new(d, 20, 0.5, seed).unwrap();
    let mut v = vec![0f32; n * d];
    g.fill(0, &mut v).unwrap();
    v
}

/// `n` rows of `d` floats, each scaled by its own factor in 0.5..2 (the metrics rank apart).
fn varied(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut x = floats(n * d, seed, 1.0);
    let f = floats(n, seed + 1, 0.75);
    for (row, f) in x.chunks_exact_mut(d).zip(f) {
        row.iter_mut().for_each(|v| *v *= 1.25 + f);
    }
    x
}

fn params(bits: u32, metric: Metric, qb: QueryBits) -> RabitqParams {
    let mut p = RabitqParams::new(bits);
    (p.metric, p.qb) = (metric, qb);
    p
}

fn encode(q: &RabitqQuantizer, x: &[f32]) -> Vec<u8> {
    let mut codes = vec![0u8; x.len() / q.dim() * q.code_size()];
    q.encode(x, &mut codes).unwrap();
    codes
}

// ---------------------------------------------------------------------------------------
// The oracle: the documented layout and estimator, in f64.

struct Parsed {
    sign: Vec<u32>,
    /// Full code `u_i = (sign << ex) + e_i`.
    u: Vec<u32>,
    add: f64,
    dpm: f64,
    err: f64,
    rescale: f64,
    err_ex: f64,
}

fn f32_at(code: &[u8], at: usize) -> f64 {
    f32::from_le_bytes(code[at..at + 4].try_into().unwrap()) as f64
}

fn parse(code: &[u8], d: usize, bits: u32) -> Parsed {
    let p = 8 * d.div_ceil(64);
    let ex = bits as usize - 1;
    let bit = |off: usize, i: usize| ((code[off + i / 8] >> (i % 8)) & 1) as u32;
    let sign: Vec<u32> = (0..d).map(|i| bit(0, i)).collect();
    let u = (0..d).map(|i| (sign[i] << ex) + (0..ex).map(|b| bit(p + 12 + b * p, i) << b).sum::<u32>()).collect();
    let f = p + 12 + ex * p;
    let (rescale, err_ex) = if ex > 0 { (f32_at(code, f), f32_at(code, f + 4)) } else { (0.0, 0.0) };
    Parsed { sign, u, add: f32_at(code, p), dpm: f32_at(code, p + 4), err: f32_at(code, p + 8), rescale, err_ex }
}

/// The documented query quantization, the same f32 operations: `(qq, Δ, v_min)`.
fn quantize(rq: &[f32], qb: u8) -> (Vec<u32>, f32, f32) {
    let max = (1u32 << qb) - 1;
    let (lo, hi) = rq.iter().fold((rq[0], rq[0]), |(a, b), &v| (a.min(v), b.max(v)));
    let delta = (hi - lo) / max as f32;
    if delta.is_nan() || delta <= 0.0 {
        return (vec![0; rq.len()], delta, lo);
    }
    let inv = 1.0 / delta;
    let qq = rq
        .iter()
        .map(|&v| {
            let x = (v - lo) * inv;
            if x <= 0.0 {
                0
            } else if x >= max as f32 {
                max
            } else {
                (x + 0.5) as u32
            }
        })
        .collect();
    (qq, delta, lo)
}

/// The oracle's reported estimate and half-width of one code (`full`: sign and extended
/// bits), with a tolerance for the kernel's f32 arithmetic.
fn oracle(quant: &RabitqQuantizer, q: &[f32], rq: &[f32], code: &[u8], full: bool) -> (f64, f64, f64) {
    let (d, bits, metric) = (quant.dim(), quant.bits(), quant.metric());
    let c = parse(code, d, bits);
    let qr_c2: f64 = q.iter().zip(quant.centroid()).map(|(&a, &b)| ((a - b) as f64).powi(2)).sum();
    let q_norm2: f64 = q.iter().map(|&v| (v as f64).powi(2)).sum();
    let rq64: Vec<f64> = rq.iter().map(|&v| v as f64).collect();
    let sum_q: f64 = rq64.iter().sum();
    let abs_q: f64 = rq64.iter().map(|v| v.abs()).sum();
    let sqrt_d = (d as f64).sqrt();
    let (ip_part, scale_ip, err) = if full && bits > 1 {
        let cb = -((1u32 << (bits - 1)) as f64 - 0.5);
        let dot: f64 = rq64.iter().zip(&c.u).map(|(&a, &u)| a * (u as f64 + cb)).sum();
        let mag = abs_q * (1u32 << (bits - 1)) as f64;
        (c.rescale * dot, (c.rescale * mag).abs(), c.err_ex)
    } else {
        let (fd, mag) = match quant.qb() {
            QueryBits::Float => {
                let m: f64 = rq64.iter().zip(&c.sign).map(|(&a, &s)| a * s as f64).sum();
                ((2.0 * m - sum_q) / sqrt_d, 2.0 * abs_q / sqrt_d)
            }
            QueryBits::Quantized(qb) => {
                let (qq, delta, lo) = quantize(rq, qb);
                let (delta, lo) = (delta as f64, lo as f64);
                let dot: u64 = qq.iter().zip(&c.sign).map(|(&a, &s)| (a * s) as u64).sum();
                let pop: u64 = c.sign.iter().map(|&s| s as u64).sum();
                let sum_qq: u64 = qq.iter().map(|&v| v as u64).sum();
                let fd = (2.0 * delta * dot as f64 + 2.0 * lo * pop as f64 - (delta * sum_qq as f64 + d as f64 * lo))
                    / sqrt_d;
                let mag = (2.0 * delta * dot as f64 + 2.0 * (lo * pop as f64).abs()) + delta * sum_qq as f64;
                (fd, (mag + d as f64 * lo.abs()) / sqrt_d)
            }
        };
        (c.dpm * fd, (c.dpm * mag).abs(), c.err)
    };
    let pre = c.add + qr_c2 - 2.0 * ip_part;
    let scale = c.add.abs() + qr_c2 + 2.0 * scale_ip + q_norm2;
    let m = if metric == Metric::L2 { 2.0 } else { 1.0 };
    let half = quant.epsilon() as f64 * m * qr_c2.sqrt() * err;
    let tol = 4e-6 * scale + 1e-30;
    match metric {
        Metric::L2 => (pre.max(0.0), half, tol),
        Metric::InnerProduct => (0.5 * (q_norm2 - pre), half, tol),
        _ => {
            let s = inv_norm(q) as f64;
            (0.5 * (q_norm2 - pre) * s, half * s, tol * s)
        }
    }
}

/// Every level's `estimate_sign` and `estimate` against the oracle, from unaligned codes.
fn check_estimates(quant: &RabitqQuantizer, x: &[f32], queries: &[f32], what: &str) {
    let (d, cs) = (quant.dim(), quant.code_size());
    let n = x.len() / d;
    let codes = encode(quant, x);
    let mut shifted = vec![0u8; codes.len() + 3];
    shifted[3..].copy_from_slice(&codes);
    let codes = &shifted[3..];
    for &level in available() {
        with_level(level, || {
            for q in queries.chunks_exact(d) {
                let mut rq = vec![0f32; d];
                quant.rotated_residual(q, &mut rq).unwrap();
                for full in [false, true] {
                    let (mut est, mut half) = (vec![f32::NAN; n], vec![f32::NAN; n]);
                    if full {
                        quant.estimate(q, codes, &mut est, &mut half).unwrap();
                    } else {
                        quant.estimate_sign(q, codes, &mut est, &mut half).unwrap();
                    }
                    for (i, code) in codes.chunks_exact(cs).enumerate() {
                        let (want, want_half, tol) = oracle(quant, q, &rq, code, full);
                        let got = est[i] as f64;
                        assert!(
                            (got - want).abs() <= tol,
                            "{what} at {level} (full {full}) code {i}: {got} vs {want} (tol {tol})"
                        );
                        let ht = 1e-5 * want_half + 1e-30;
                        assert!(
                            (half[i] as f64 - want_half).abs() <= ht,
                            "{what} at {level}: half-width {} vs {want_half}",
                            half[i]
                        );
                    }
                }
            }
        })
        .unwrap();
    }
}

#[test]
fn estimates_match_the_oracle_at_every_level() {
    let metrics = [Metric::L2, Metric::InnerProduct, Metric::Cosine];
    for (case, d) in [1usize, 3, 17, 64, 65, 129, 200, 384].into_iter().enumerate() {
        for bits in [1u32, 2, 4, 9] {
            for qb in [QueryBits::Quantized(1), QueryBits::Quantized(4), QueryBits::Quantized(8), QueryBits::Float] {
                let metric = metrics[(case + bits as usize) % 3];
                let x = varied(37, d, d as u64 + 7);
                let quant = RabitqQuantizer::train(d, &x, &params(bits, metric, qb)).unwrap();
                let queries = varied(2, d, 1000 + d as u64);
                check_estimates(&quant, &x, &queries, &format!("d {d} bits {bits} {metric} {qb:?}"));
            }
        }
    }
}

#[test]
fn and_popcount_matches_the_bit_oracle_at_every_level() {
    for d in [1usize, 3, 7, 63, 64, 65, 127, 128, 129, 200, 384, 1000] {
        let words = d.div_ceil(64);
        for qb in 1..=8usize {
            // Planes zero past d, as a prepared query has them.
            let mut planes: Vec<u64> =
                floats(words * qb, (d * qb) as u64, 1.0).iter().map(|v| (v.to_bits() as u64) * 0x9E37_79B9).collect();
            for (w, chunk) in planes.chunks_exact_mut(qb).enumerate() {
                let valid = d - 64 * w;
                if valid < 64 {
                    chunk.iter_mut().for_each(|p| *p &= (1u64 << valid) - 1);
                }
            }
            let cs = 8 * words + 5;
            let n = 9;
            // Padding bits set: they must be ignored.
            let buf: Vec<u8> = floats(n * cs + 16, d as u64 + 3, 1.0).iter().map(|v| v.to_bits() as u8).collect();
            for off in [0usize, 1, 3, 7, 13] {
                let codes = &buf[off..off + n * cs];
                let mut want = Vec::new();
                for code in codes.chunks_exact(cs) {
                    let bit = |i: usize| ((code[i / 8] >> (i % 8)) & 1) as u32;
                    let plane = |j: usize, i: usize| ((planes[(i / 64) * qb + j] >> (i % 64)) & 1) as u32;
                    let dot: u32 = (0..d).map(|i| (0..qb).map(|j| (plane(j, i) & bit(i)) << j).sum::<u32>()).sum();
                    let pop: u32 = (0..d).map(bit).sum();
                    want.push((dot, pop));
                }
                for &level in available() {
                    let (mut dots, mut pops) = (vec![u32::MAX; n], vec![u32::MAX; n]);
                    with_level(level, || and_popcount_batch(d, qb, &planes, codes, cs, &mut dots, &mut pops))
                        .unwrap()
                        .unwrap();
                    let got: Vec<(u32, u32)> = dots.into_iter().zip(pops).collect();
                    assert_eq!(got, want, "d {d} qb {qb} offset {off} at {level}");
                }
            }
        }
    }
}

#[test]
fn and_popcount_rejects_bad_shapes() {
    let planes = vec![0u64; 2 * 4];
    let (mut dots, mut pops) = (vec![0; 2], vec![0; 2]);
    let codes = vec![0u8; 2 * 20];
    let e = and_popcount_batch(100, 9, &planes, &codes, 20, &mut dots, &mut pops).unwrap_err().to_string();
    assert!(e.contains('9') && e.contains("1..=8"), "{e}");
    assert!(and_popcount_batch(100, 4, &planes[1..], &codes, 20, &mut dots, &mut pops).is_err());
    assert!(and_popcount_batch(100, 4, &planes, &codes, 15, &mut dots, &mut pops).is_err());
    assert!(and_popcount_batch(100, 4, &planes, &codes[1..], 20, &mut dots, &mut pops).is_err());
    assert!(and_popcount_batch(0, 4, &planes, &codes, 20, &mut dots, &mut pops).is_err());
    and_popcount_batch(100, 4, &planes, &codes, 20, &mut dots, &mut pops).unwrap();
}

// ---------------------------------------------------------------------------------------
// Searches against the estimates.

/// Top-k of reported scores (best first, ties to the lower id).
fn top_k(metric: Metric, scores: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| {
        let o = scores[a].total_cmp(&scores[b]);
        (if metric.larger_is_better() { o.reverse() } else { o }).then(a.cmp(&b))
    });
    idx.truncate(k);
    idx
}

#[test]
fn search_ranks_the_estimates_at_every_level() {
    let d = 65;
    for (bits, metric) in [(1u32, Metric::L2), (1, Metric::Cosine), (3, Metric::InnerProduct), (5, Metric::L2)] {
        let x = varied(1500, d, 5);
        let queries = varied(21, d, 6);
        let mut quant = RabitqQuantizer::train(d, &x, &params(bits, metric, QueryBits::default())).unwrap();
        // A bound too wide to rule anything out: the two-stage search must then rank every
        // code's full estimate, exactly.
        quant.set_epsilon(1e6).unwrap();
        let codes = encode(&quant, &x);
        let k = 7;
        for &level in available() {
            let (mut dist, mut lab) = (vec![0f32; 21 * k], vec![0i64; 21 * k]);
            with_level(level, || quant.search(&queries, &codes, k, &mut dist, &mut lab)).unwrap().unwrap();
            for (qi, q) in queries.chunks_exact(d).enumerate() {
                let mut est = vec![0f32; 1500];
                with_level(level, || quant.distances(q, &codes, &mut est)).unwrap().unwrap();
                let want = top_k(metric, &est, k);
                let got: Vec<usize> = lab[qi * k..(qi + 1) * k].iter().map(|&l| l as usize).collect();
                assert_eq!(got, want, "bits {bits} {metric} at {level}, query {qi}");
                for (j, &l) in got.iter().enumerate() {
                    assert_eq!(dist[qi * k + j], est[l], "reported score of {l}");
                }
            }
        }
        // At ε₀ = 1.9 the filter only drops codes whose bound says they cannot make it.
        quant.set_epsilon(1.9).unwrap();
        let (mut dist, mut lab) = (vec![0f32; 21 * k], vec![0i64; 21 * k]);
        quant.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        for (qi, q) in queries.chunks_exact(d).enumerate() {
            let mut est = vec![0f32; 1500];
            quant.distances(q, &codes, &mut est).unwrap();
            for (j, &l) in lab[qi * k..(qi + 1) * k].iter().enumerate() {
                assert_eq!(dist[qi * k + j], est[l as usize]);
            }
        }
    }
}

#[test]
fn fewer_codes_than_k_pad_with_sentinels() {
    let d = 9;
    let x = gaussian(3, d, 1);
    let quant = RabitqQuantizer::train(d, &x, &RabitqParams::new(2)).unwrap();
    let codes = encode(&quant, &x);
    let (mut dist, mut lab) = (vec![0f32; 5], vec![0i64; 5]);
    quant.search(&x[..d], &codes, 5, &mut dist, &mut lab).unwrap();
    assert_eq!(&lab[3..], &[-1, -1]);
    assert_eq!(&dist[3..], &[f32::INFINITY; 2]);
    let n = quant.search_refine(&x[..d], &codes, 5, &x, &mut dist, &mut lab).unwrap();
    assert_eq!((lab[0], &lab[3..]), (0, &[-1i64, -1][..]));
    assert!(n <= 3);
}

// ---------------------------------------------------------------------------------------
// The papers' claims on seeded data.

/// Fraction of (query, code) pairs whose true score lies outside `est ± half`.
fn outside_fraction(quant: &RabitqQuantizer, x: &[f32], queries: &[f32], full: bool) -> f64 {
    let d = quant.dim();
    let n = x.len() / d;
    let codes = encode(quant, x);
    let mut outside = 0usize;
    for q in queries.chunks_exact(d) {
        let (mut est, mut half) = (vec![0f32; n], vec![0f32; n]);
        if full {
            quant.estimate(q, &codes, &mut est, &mut half).unwrap();
        } else {
            quant.estimate_sign(q, &codes, &mut est, &mut half).unwrap();
        }
        for (i, row) in x.chunks_exact(d).enumerate() {
            let truth = exact_score(quant.metric(), q, row);
            // A float slack for the estimate's f32 sums.
            let slack = 1e-6 * (1.0 + truth.abs());
            if (truth - est[i] as f64).abs() > half[i] as f64 + slack {
                outside += 1;
            }
        }
    }
    outside as f64 / (n * queries.len() / d) as f64
}

fn exact_score(metric: Metric, q: &[f32], x: &[f32]) -> f64 {
    let dot: f64 = q.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum();
    match metric {
        Metric::L2 => q.iter().zip(x).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum(),
        Metric::InnerProduct => dot,
        _ => dot * inv_norm(q) as f64 * inv_norm(x) as f64,
    }
}

/// `P(|Z| > ε)` for a standard normal `Z`, from Abramowitz–Stegun 7.1.26 (error < 1.5e-7).
fn normal_tail(eps: f64) -> f64 {
    let x = eps / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.3275911 * x);
    let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
    poly * (-x * x).exp()
}

/// The papers' bound is a Gaussian tail: the estimate's error, in units of
/// `√((1 − cos²)/cos²)/√(d − 1)·‖r‖·‖q − c‖`, is about `N(0, 1)·‖q⊥‖` with `‖q⊥‖ ≤ 1`, so
/// the fraction of codes outside `est ± ε₀·…` is at most `P(|Z| > ε₀)`, and close to it on
/// data where most codes are far from the query: 5.74% at the papers' ε₀ = 1.9 (a 94%
/// interval, not 99%), 0.93% at 2.6, 0.27% at 3. The test holds the estimator to that
/// curve from both sides (too many failures: a wrong estimate or a bound too tight; too
/// few: a bound too loose to prune), and to at most 1% of codes outside at ε₀ = 3.
#[test]
fn the_bound_follows_the_papers_tail() {
    let d = 128;
    for (name, x, queries) in [
        ("gaussian", gaussian(2000, d, 11), gaussian(20, d, 12)),
        ("clustered", clustered(2000, d, 13), clustered(20, d, 14)),
    ] {
        for bits in [1u32, 2, 4, 8] {
            for metric in [Metric::L2, Metric::InnerProduct] {
                let mut quant = RabitqQuantizer::train(d, &x, &params(bits, metric, QueryBits::default())).unwrap();
                for eps in [1.9f32, 3.0] {
                    quant.set_epsilon(eps).unwrap();
                    let tail = normal_tail(eps as f64);
                    for full in [false, true] {
                        if bits == 1 && full {
                            continue;
                        }
                        let f = outside_fraction(&quant, &x, &queries, full);
                        let what = format!("{name} {metric} bits {bits} full {full} ε₀ {eps}");
                        eprintln!("{what}: {:.3}% outside (normal tail {:.3}%)", 100.0 * f, 100.0 * tail);
                        assert!(f <= 1.15 * tail + 0.001, "{what}: {f} of codes outside, tail {tail}");
                        assert!(f >= 0.5 * tail, "{what}: {f} of codes outside, tail {tail}: the bound is loose");
                        if eps >= 3.0 {
                            assert!(f <= 0.01, "{what}: {f}");
                        }
                    }
                }
            }
        }
    }
}

/// recall@k of `got` (nq·k labels) against `truth` (nq·k).
fn recall(truth: &[i64], got: &[i64], k: usize) -> f64 {
    let hits: usize =
        truth.chunks_exact(k).zip(got.chunks_exact(k)).map(|(t, g)| g.iter().filter(|l| t.contains(l)).count()).sum();
    hits as f64 / truth.len() as f64
}

fn truth(metric: Metric, d: usize, x: &[f32], queries: &[f32], k: usize) -> Vec<i64> {
    let nq = queries.len() / d;
    let (mut td, mut tl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    knn_with_metric(metric, d, queries, x, k, &mut td, &mut tl).unwrap();
    tl
}

#[test]
fn recall_grows_with_bits_and_mse_falls() {
    let (d, n, nq, k) = (96, 3000, 40, 10);
    let x = clustered(n, d, 21);
    let queries = clustered(nq, d, 22);
    let gt = truth(Metric::L2, d, &x, &queries, k);
    let mut last = (0.0, f64::INFINITY);
    for bits in [1u32, 2, 3, 4, 6, 8] {
        let quant = RabitqQuantizer::train(d, &x, &RabitqParams::new(bits)).unwrap();
        let codes = encode(&quant, &x);
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        quant.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let r = recall(&gt, &lab, k);
        let mut rec = vec![0f32; x.len()];
        quant.decode(&codes, &mut rec).unwrap();
        let mse = vq::metrics::reconstruction_mse(d, &x, &rec).unwrap();
        eprintln!("bits {bits}: recall@{k} {r:.3}, MSE {mse:.5}");
        assert!(r >= last.0 - 0.01 && (bits > 4 || r > last.0), "bits {bits}: recall {r} after {}", last.0);
        assert!(mse < last.1, "bits {bits}: MSE {mse} after {}", last.1);
        last = (r, mse);
    }
    assert!(last.0 >= 0.97, "8-bit recall {}", last.0);
}

#[test]
fn refine_inside_the_bound_is_exact() {
    let (d, n, nq, k) = (64, 2500, 25, 10);
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        let x = varied(n, d, 31);
        let queries = varied(nq, d, 32);
        let gt = truth(metric, d, &x, &queries, k);
        for bits in [1u32, 3] {
            let mut quant = RabitqQuantizer::train(d, &x, &params(bits, metric, QueryBits::default())).unwrap();
            let codes = encode(&quant, &x);
            let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            // A bound that always holds: the exact top-k.
            quant.set_epsilon(20.0).unwrap();
            for &level in available() {
                with_level(level, || quant.search_refine(&queries, &codes, k, &x, &mut dist, &mut lab))
                    .unwrap()
                    .unwrap();
                assert_eq!(lab, gt, "{metric} bits {bits} at {level}");
                for (qi, q) in queries.chunks_exact(d).enumerate() {
                    for j in 0..k {
                        let want = exact_score(metric, q, &x[lab[qi * k + j] as usize * d..][..d]);
                        assert!((dist[qi * k + j] as f64 - want).abs() <= 1e-4 * (1.0 + want.abs()));
                    }
                }
            }
            // The papers' ε₀: nearly exact, re-ranking a small part.
            quant.set_epsilon(1.9).unwrap();
            let reranked = quant.search_refine(&queries, &codes, k, &x, &mut dist, &mut lab).unwrap();
            let r = recall(&gt, &lab, k);
            let frac = reranked as f64 / (n * nq) as f64;
            eprintln!("{metric} bits {bits}: refined recall {r:.4}, re-ranked {:.2}%", 100.0 * frac);
            // d = 64 uniform rows: the 1-bit bound fails for a few true neighbours (issue 14's
            // ≥ 0.99 is measured on debian-minilm by `minilm_figures`).
            assert!(r >= 0.97, "{metric} bits {bits}: recall {r}");
            assert!(frac < 0.5, "{metric} bits {bits}: re-ranked {frac}");
        }
    }
}

#[test]
fn the_three_metrics_rank_differently() {
    let (d, n, nq, k) = (48, 2000, 20, 10);
    let x = varied(n, d, 41);
    let queries = varied(nq, d, 42);
    let truths: Vec<Vec<i64>> = Metric::ALL.iter().map(|&m| truth(m, d, &x, &queries, k)).collect();
    for (a, ta) in truths.iter().enumerate() {
        for tb in &truths[a + 1..] {
            assert!(recall(ta, tb, k) < 0.9, "two metrics' exact rankings nearly agree");
        }
    }
    for (mi, &metric) in Metric::ALL.iter().enumerate() {
        let quant = RabitqQuantizer::train(d, &x, &params(4, metric, QueryBits::default())).unwrap();
        let codes = encode(&quant, &x);
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        quant.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let own = recall(&truths[mi], &lab, k);
        for (oi, other) in truths.iter().enumerate() {
            let r = recall(other, &lab, k);
            eprintln!("{metric} codes vs {} truth: {r:.3}", Metric::ALL[oi]);
            if oi != mi {
                assert!(own > r + 0.05, "{metric}: own recall {own}, {} recall {r}", Metric::ALL[oi]);
            }
        }
        assert!(own >= 0.8, "{metric}: recall {own}");
        // Similarities descend, distances ascend.
        for row in dist.chunks_exact(k) {
            for w in row.windows(2) {
                assert!(if metric.larger_is_better() { w[0] >= w[1] } else { w[0] <= w[1] }, "{metric}: {row:?}");
            }
        }
    }
}

#[test]
fn encode_and_decode_agree_across_levels() {
    let d = 33;
    let x = gaussian(50, d, 51);
    for bits in [1u32, 3, 9] {
        let quant = RabitqQuantizer::train(d, &x, &RabitqParams::new(bits)).unwrap();
        let mut first: Option<(Vec<u8>, Vec<f32>)> = None;
        for &level in available() {
            let codes = with_level(level, || encode(&quant, &x)).unwrap();
            let mut rec = vec![0f32; x.len()];
            with_level(level, || quant.decode(&codes, &mut rec)).unwrap().unwrap();
            match &first {
                None => first = Some((codes, rec)),
                Some((c0, r0)) => {
                    // The rotation's rounding may differ in the last bits between levels,
                    // which can flip a sign bit of a coordinate at zero: nearly all agree.
                    let same = c0.iter().zip(&codes).filter(|(a, b)| a == b).count();
                    assert!(same as f64 >= 0.9 * c0.len() as f64, "bits {bits} at {level}");
                    let diff: f64 = r0.iter().zip(&rec).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
                    let norm: f64 = r0.iter().map(|&a| (a as f64).powi(2)).sum();
                    assert!(diff <= 1e-2 * norm, "bits {bits} at {level}: {diff} vs {norm}");
                }
            }
        }
    }
}

#[test]
fn the_centroid_is_the_mean_or_the_callers() {
    let d = 5;
    let x: Vec<f32> = (0..4 * d).map(|i| i as f32).collect();
    let q = RabitqQuantizer::train(d, &x, &RabitqParams::new(1)).unwrap();
    assert_eq!(q.centroid(), &[7.5, 8.5, 9.5, 10.5, 11.5]);
    let mut p = RabitqParams::new(1);
    p.centroid = Some(vec![1.0; d]);
    let q = RabitqQuantizer::train(d, &[], &p).unwrap();
    assert_eq!(q.centroid(), &[1.0; 5]);
    // A vector at the centroid encodes to zero factors and is estimated at ‖q − c‖².
    let codes = encode(&q, &[1.0; 5]);
    let mut est = [0f32];
    q.distances(&[2.0; 5], &codes, &mut est).unwrap();
    assert!((est[0] - 5.0).abs() < 1e-5, "{}", est[0]);
    let mut rec = [0f32; 5];
    q.decode(&codes, &mut rec).unwrap();
    assert_eq!(rec, [1.0; 5]);
    // The rotation is seeded and orthogonal; from_parts takes it back.
    let again = RabitqQuantizer::from_parts(d, 1, Metric::L2, q.rotation().to_vec(), q.centroid().to_vec()).unwrap();
    assert_eq!((again.rotation(), again.centroid(), again.bits()), (q.rotation(), q.centroid(), q.bits()));
    assert_eq!((q.seed(), again.seed()), (Some(RabitqParams::new(1).seed), None));
}

// ---------------------------------------------------------------------------------------
// Bad input and hostile codes.

fn err_text(r: Result<impl std::fmt::Debug, Error>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn bad_parameters_are_named() {
    let d = 8;
    let x = gaussian(10, d, 61);
    for bits in [0u32, 10] {
        let e = err_text(RabitqQuantizer::train(d, &x, &RabitqParams::new(bits)));
        assert!(e.contains(&bits.to_string()) && e.contains("1..=9"), "{e}");
    }
    for qb in [QueryBits::Quantized(0), QueryBits::Quantized(9)] {
        let mut p = RabitqParams::new(2);
        p.qb = qb;
        let e = err_text(RabitqQuantizer::train(d, &x, &p));
        assert!(e.contains("qb") && e.contains("1..=8"), "{e}");
    }
    assert!(err_text(QueryBits::from_number(9)).contains('9'));
    assert_eq!(QueryBits::from_number(0).unwrap(), QueryBits::Float);
    assert_eq!(QueryBits::from_number(4).unwrap().number(), 4);
    for eps in [-1.0f32, f32::NAN, f32::INFINITY] {
        let mut p = RabitqParams::new(2);
        p.epsilon = eps;
        assert!(err_text(RabitqQuantizer::train(d, &x, &p)).contains("epsilon"));
    }
    let mut p = RabitqParams::new(2);
    p.centroid = Some(vec![0.0; d + 1]);
    let e = err_text(RabitqQuantizer::train(d, &x, &p));
    assert!(e.contains("centroid") && e.contains(&(d + 1).to_string()) && e.contains(&d.to_string()), "{e}");
    p.centroid = Some(vec![f32::NAN; d]);
    assert!(err_text(RabitqQuantizer::train(d, &x, &p)).contains("centroid"));
    assert!(err_text(RabitqQuantizer::train(0, &x, &RabitqParams::new(1))).contains("dim"));
    assert!(err_text(RabitqQuantizer::train(d, &x[1..], &RabitqParams::new(1))).contains("training data"));
    assert!(err_text(RabitqQuantizer::train(d, &[], &RabitqParams::new(1))).contains("empty"));
    let mut bad = x.clone();
    bad[13] = f32::INFINITY;
    let e = err_text(RabitqQuantizer::train(d, &bad, &RabitqParams::new(1)));
    assert!(e.contains("13") && e.contains("non-finite"), "{e}");
    let q = RabitqQuantizer::train(d, &x, &RabitqParams::new(1)).unwrap();
    let e = err_text(RabitqQuantizer::from_parts(d, 1, Metric::L2, vec![1.0; d * d], q.centroid().to_vec()));
    assert!(e.contains("rotation"), "{e}");
    assert!(RabitqQuantizer::from_parts(d, 1, Metric::L2, vec![0.0; 3], q.centroid().to_vec()).is_err());
    let mut q = q;
    assert!(q.set_qb(QueryBits::Quantized(12)).is_err());
    assert!(q.set_epsilon(-0.5).is_err());
    assert_eq!(q.qb(), QueryBits::Quantized(4));
}

#[test]
fn bad_buffers_and_values_are_errors() {
    let d = 10;
    let x = gaussian(20, d, 71);
    let q = RabitqQuantizer::train(d, &x, &RabitqParams::new(3)).unwrap();
    let cs = q.code_size();
    assert_eq!(cs, 8 * 3 + 20);
    let codes = encode(&q, &x);
    let mut c = vec![0u8; 20 * cs];
    assert!(err_text(q.encode(&x, &mut c[1..])).contains("codes"));
    assert!(q.encode(&x[1..], &mut c).is_err());
    let mut nan = x.clone();
    nan[5] = f32::NAN;
    let e = err_text(q.encode(&nan, &mut c));
    assert!(e.contains("vectors") && e.contains('5'), "{e}");
    let mut rec = vec![0f32; x.len()];
    assert!(q.decode(&codes[..codes.len() - 1], &mut rec).is_err());
    let (mut est, mut half) = (vec![0f32; 20], vec![0f32; 20]);
    assert!(q.estimate(&x[..d - 1], &codes, &mut est, &mut half).is_err());
    assert!(q.estimate(&x[..d], &codes[1..], &mut est, &mut half).is_err());
    assert!(q.estimate(&x[..d], &codes, &mut est[1..], &mut half).is_err());
    assert!(q.estimate(&x[..d], &codes, &mut est, &mut half[1..]).is_err());
    assert!(err_text(q.estimate(&nan[..d], &codes, &mut est, &mut half)).contains("query"));
    let (mut dist, mut lab) = (vec![0f32; 2 * 3], vec![0i64; 2 * 3]);
    assert!(q.search(&x[..2 * d], &codes, 0, &mut dist, &mut lab).is_err());
    assert!(q.search(&x[..2 * d], &codes[..cs + 1], 3, &mut dist, &mut lab).is_err());
    assert!(q.search(&x[..2 * d], &codes, 3, &mut dist[1..], &mut lab).is_err());
    assert!(q.search(&nan[..2 * d], &codes, 3, &mut dist, &mut lab).is_err());
    let e = err_text(q.search_refine(&x[..2 * d], &codes, 3, &x[d..], &mut dist, &mut lab));
    assert!(e.contains("vectors"), "{e}");
    let mut out = vec![0f32; d + 1];
    assert!(q.rotated_residual(&x[..d], &mut out).is_err());
}

#[test]
fn hostile_codes_never_panic() {
    let d = 70;
    let x = gaussian(30, d, 81);
    for bits in [1u32, 2, 9] {
        for qb in [QueryBits::Quantized(4), QueryBits::Float] {
            for metric in Metric::ALL {
                let q = RabitqQuantizer::train(d, &x, &params(bits, metric, qb)).unwrap();
                let cs = q.code_size();
                let n = 64;
                let mut codes: Vec<u8> = floats(n * cs, bits as u64, 1.0).iter().map(|v| v.to_bits() as u8).collect();
                // Some codes with every byte 0xFF: NaN factors.
                codes[..2 * cs].fill(0xFF);
                let (mut est, mut half) = (vec![0f32; n], vec![0f32; n]);
                q.estimate(&x[..d], &codes, &mut est, &mut half).unwrap();
                assert!(est[0].is_nan() && est[1].is_nan(), "{est:?}");
                q.estimate_sign(&x[..d], &codes, &mut est, &mut half).unwrap();
                let mut rec = vec![0f32; n * d];
                q.decode(&codes, &mut rec).unwrap();
                let k = 5;
                let (mut dist, mut lab) = (vec![0f32; 2 * k], vec![0i64; 2 * k]);
                q.search(&x[..2 * d], &codes, k, &mut dist, &mut lab).unwrap();
                assert!(lab.iter().all(|&l| l != 0 && l != 1), "NaN codes entered the results: {lab:?}");
                let mut vectors = gaussian(n, d, 82);
                q.search_refine(&x[..2 * d], &codes, k, &vectors, &mut dist, &mut lab).unwrap();
                // Finite sign factors but NaN extended factors (−NaN: all bits set), and a
                // refine row of −NaN: neither may enter the results.
                let mut good = encode(&q, &x[..4 * d]);
                if bits > 1 {
                    good[2 * cs - 8..2 * cs].fill(0xFF);
                }
                vectors[..4 * d].copy_from_slice(&x[..4 * d]);
                vectors[3 * d] = f32::from_bits(u32::MAX);
                q.search(&x[d..2 * d], &good, 4, &mut dist[..4], &mut lab[..4]).unwrap();
                assert!(bits == 1 || !lab[..4].contains(&1), "{bits} bits: {lab:?}");
                q.search_refine(&x[d..2 * d], &good, 4, &vectors[..4 * d], &mut dist[..4], &mut lab[..4]).unwrap();
                assert!(!lab[..4].contains(&3) && !dist[..4].iter().any(|v| v.is_nan()), "{lab:?} {dist:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The debian-minilm figures of issue 14 (not a unit test: it prints).

#[cfg(feature = "data")]
#[path = "common/minilm.rs"]
mod minilm;

#[cfg(feature = "data")]
#[test]
#[ignore = "reads /work/shared/data/debian-minilm (or VQ_MINILM_DIR) and prints the issue's figures"]
fn minilm_figures() {
    let minilm::Minilm { base, queries, dim: d, truth: gt, truth_k: gk } = minilm::load();
    let (n, nq, k) = (base.len() / d, queries.len() / d, 10);
    let gt10: Vec<i64> = gt.chunks_exact(gk).flat_map(|r| r[..k].to_vec()).collect();
    eprintln!("debian-minilm: {n} × {d}, {nq} queries");
    for bits in [1u32, 2, 4, 8] {
        let t = std::time::Instant::now();
        let quant = RabitqQuantizer::train(d, &base, &RabitqParams::new(bits)).unwrap();
        let codes = encode(&quant, &base);
        let t_enc = t.elapsed();
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let t = std::time::Instant::now();
        quant.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let t_s = t.elapsed();
        let r = recall(&gt10, &lab, k);
        // The bound, on the first 100 queries × every code.
        let qs = &queries[..100 * d];
        eprintln!(
            "bits {bits}: code {} B, recall@10 {r:.4} (train+encode {:.1} s, search {:.3} s)",
            quant.code_size(),
            t_enc.as_secs_f64(),
            t_s.as_secs_f64()
        );
        let mut quant = quant;
        for eps in [1.9f32, 2.6, 3.0] {
            quant.set_epsilon(eps).unwrap();
            let f_sign = outside_fraction(&quant, &base, qs, false);
            let f_full = if bits > 1 { outside_fraction(&quant, &base, qs, true) } else { f_sign };
            eprintln!(
                "  ε₀ {eps}: outside the interval: 1-bit {:.3}%, full {:.3}% (normal tail {:.3}%)",
                100.0 * f_sign,
                100.0 * f_full,
                100.0 * normal_tail(eps as f64)
            );
        }
        quant.set_epsilon(1.9).unwrap();
        if bits == 1 {
            eprintln!("re-ranking at 1 bit: ε₀, recall@10, fraction of codes re-ranked");
            for eps in [0.5f32, 1.0, 1.5, 1.9, 2.3, 2.6, 3.0] {
                quant.set_epsilon(eps).unwrap();
                let rr = quant.search_refine(&queries, &codes, k, &base, &mut dist, &mut lab).unwrap();
                eprintln!("  {eps:.1}  {:.4}  {:.3}%", recall(&gt10, &lab, k), 100.0 * rr as f64 / (n * nq) as f64);
            }
        }
    }
}

/// The bound on `vq-benchmark gen`'s default set (1 M × 384, 1024 clusters, spread 0.5,
/// seed 42; queries are its rows from 1 M on): the fraction of codes whose true distance
/// falls outside the interval, over 20 queries × every code, at 1 and 4 bits.
#[test]
#[ignore = "1 M × 384 rows (1.5 GiB) and 20 M exact distances per width: run by hand"]
fn gen_1m_bound() {
    let (n, d, nq) = (1_000_000usize, 384usize, 20usize);
    let mix = GaussianMixture::new(d, 1024, 0.5, 42).unwrap();
    let mut base = vec![0f32; n * d];
    mix.fill(0, &mut base).unwrap();
    let mut queries = vec![0f32; nq * d];
    mix.fill(n as u64, &mut queries).unwrap();
    eprintln!("gen 1M × {d}, {nq} queries");
    for bits in [1u32, 4] {
        let mut quant = RabitqQuantizer::train(d, &base, &RabitqParams::new(bits)).unwrap();
        for eps in [1.9f32, 2.6, 3.0] {
            quant.set_epsilon(eps).unwrap();
            let f_sign = outside_fraction(&quant, &base, &queries, false);
            let f_full = if bits > 1 { outside_fraction(&quant, &base, &queries, true) } else { f_sign };
            eprintln!(
                "bits {bits} ε₀ {eps}: outside the interval: 1-bit {:.3}%, full {:.3}% (normal tail {:.3}%)",
                100.0 * f_sign,
                100.0 * f_full,
                100.0 * normal_tail(eps as f64)
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The hot path allocates nothing (after one warm-up call: the per-thread scratch buffer).

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

#[test]
fn the_hot_path_allocates_nothing() {
    let (d, n, nq, k) = (384, 700, 20, 10);
    let x = varied(n, d, 91);
    let queries = varied(nq, d, 92);
    for (bits, metric, qb) in [
        (1u32, Metric::L2, QueryBits::Quantized(4)),
        (4, Metric::Cosine, QueryBits::Quantized(2)),
        (2, Metric::InnerProduct, QueryBits::Float),
    ] {
        let quant = RabitqQuantizer::train(d, &x, &params(bits, metric, qb)).unwrap();
        let mut codes = encode(&quant, &x);
        let (mut est, mut half, mut rec) = (vec![0f32; n], vec![0f32; n], vec![0f32; n * d]);
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let mut rq = vec![0f32; nq * d];
        for &level in available() {
            with_level(level, || {
                let what = format!("{bits} bits {metric} {qb:?} at {level}");
                let q = &queries[..d];
                assert_eq!(allocations(|| quant.encode(&x, &mut codes).unwrap()), 0, "encode, {what}");
                assert_eq!(allocations(|| quant.decode(&codes, &mut rec).unwrap()), 0, "decode, {what}");
                assert_eq!(allocations(|| quant.estimate(q, &codes, &mut est, &mut half).unwrap()), 0, "{what}");
                assert_eq!(allocations(|| quant.estimate_sign(q, &codes, &mut est, &mut half).unwrap()), 0, "{what}");
                assert_eq!(allocations(|| quant.distances(q, &codes, &mut est).unwrap()), 0, "distances, {what}");
                assert_eq!(allocations(|| quant.rotated_residual(&queries, &mut rq).unwrap()), 0, "{what}");
                let search = || quant.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
                assert_eq!(allocations(search), 0, "search, {what}");
                let refine = || {
                    quant.search_refine(&queries, &codes, k, &x, &mut dist, &mut lab).unwrap();
                };
                assert_eq!(allocations(refine), 0, "search_refine, {what}");
            })
            .unwrap();
        }
    }
}
