//! Quality metrics with the original Python tool's definitions, so figures compare one to
//! one with its run logs. These allocate and are not on the hot path.

use crate::error::{exact_len, rows_of};
use crate::Error;
use rand::{Rng, SeedableRng};

/// recall@k: `|true top-k ∩ returned top-k| / k`, averaged over queries.
///
/// `truth` holds `truth_k ≥ k` ids per query, `found` holds `found_k ≥ k`; only the first
/// `k` of each count.
///
/// # Errors
/// `k = 0`, `k` larger than either list, or differing query counts.
pub fn recall_at_k(truth: &[i64], truth_k: usize, found: &[i64], found_k: usize, k: usize) -> Result<f64, Error> {
    if k == 0 || k > truth_k || k > found_k {
        return Err(Error::OutOfRange {
            what: "k",
            got: k.to_string(),
            accepted: "1 ..= the number of ids per query in both lists",
        });
    }
    let nq = rows_of("truth", truth.len(), truth_k)?;
    exact_len("found", found.len(), nq * found_k)?;
    if nq == 0 {
        return Err(Error::Empty { what: "truth" });
    }
    let mut total = 0.0;
    for (t, f) in truth.chunks_exact(truth_k).zip(found.chunks_exact(found_k)) {
        let (t, f) = (&t[..k], &f[..k]);
        let hits = f.iter().enumerate().filter(|&(i, id)| *id >= 0 && t.contains(id) && !f[..i].contains(id)).count();
        total += hits as f64 / k as f64;
    }
    Ok(total / nq as f64)
}

/// rank distortion@k = 1 − recall@k (the original tool's definition).
///
/// # Errors
/// As [`recall_at_k`].
pub fn rank_distortion_at_k(
    truth: &[i64],
    truth_k: usize,
    found: &[i64],
    found_k: usize,
    k: usize,
) -> Result<f64, Error> {
    recall_at_k(truth, truth_k, found, found_k, k).map(|r| 1.0 - r)
}

/// Reconstruction MSE as the original tool defines it: the mean over vectors of each
/// vector's **sum** of squared errors (so it grows with the dimension), in f64.
///
/// # Errors
/// Differing lengths, ragged rows, or no rows.
pub fn reconstruction_mse(dim: usize, original: &[f32], reconstructed: &[f32]) -> Result<f64, Error> {
    let n = rows_of("original", original.len(), dim)?;
    exact_len("reconstructed", reconstructed.len(), original.len())?;
    if n == 0 {
        return Err(Error::Empty { what: "original" });
    }
    let sum: f64 = original.iter().zip(reconstructed).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
    Ok(sum / n as f64)
}

/// Mean squared error of each dimension over all vectors, into `out` (`dim` entries).
/// Their sum is [`reconstruction_mse`]; their mean is the per-component MSE.
///
/// # Errors
/// As [`reconstruction_mse`], and `out.len() != dim`.
pub fn per_dimension_mse(dim: usize, original: &[f32], reconstructed: &[f32], out: &mut [f64]) -> Result<(), Error> {
    let n = rows_of("original", original.len(), dim)?;
    exact_len("reconstructed", reconstructed.len(), original.len())?;
    exact_len("out", out.len(), dim)?;
    if n == 0 {
        return Err(Error::Empty { what: "original" });
    }
    out.fill(0.0);
    for (a, b) in original.chunks_exact(dim).zip(reconstructed.chunks_exact(dim)) {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o += (x as f64 - y as f64).powi(2);
        }
    }
    out.iter_mut().for_each(|o| *o /= n as f64);
    Ok(())
}

/// Summary of `|d̂/d − 1|` over sampled pairs, where `d` is the Euclidean distance between
/// two original vectors and `d̂` between their reconstructions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairwiseDistortion {
    /// Mean of `|d̂/d − 1|`.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// Maximum.
    pub max: f64,
    /// Population standard deviation.
    pub std: f64,
    /// Pairs that counted (pairs of identical originals, `d = 0`, are skipped).
    pub pairs: usize,
}

/// Pairwise distance distortion over `num_pairs` seeded random pairs of distinct indices.
///
/// # Errors
/// Fewer than two vectors, `num_pairs = 0`, mismatched lengths, or every sampled pair at
/// distance 0.
pub fn pairwise_distortion(
    dim: usize,
    original: &[f32],
    reconstructed: &[f32],
    num_pairs: usize,
    seed: u64,
) -> Result<PairwiseDistortion, Error> {
    let n = rows_of("original", original.len(), dim)?;
    exact_len("reconstructed", reconstructed.len(), original.len())?;
    if n < 2 {
        return Err(Error::OutOfRange { what: "vector count", got: n.to_string(), accepted: ">= 2 for pairs" });
    }
    if num_pairs == 0 {
        return Err(Error::OutOfRange { what: "num_pairs", got: "0".into(), accepted: ">= 1" });
    }
    let dist = |x: &[f32], i: usize, j: usize| -> f64 {
        let (a, b) = (&x[i * dim..(i + 1) * dim], &x[j * dim..(j + 1) * dim]);
        a.iter().zip(b).map(|(&p, &q)| (p as f64 - q as f64).powi(2)).sum::<f64>().sqrt()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut ratios = Vec::with_capacity(num_pairs);
    for _ in 0..num_pairs {
        let i = rng.random_range(0..n);
        let j = (i + rng.random_range(1..n)) % n; // uniform over the other n − 1 indices
        let d = dist(original, i, j);
        if d > 0.0 {
            ratios.push((dist(reconstructed, i, j) / d - 1.0).abs());
        }
    }
    if ratios.is_empty() {
        return Err(Error::Empty { what: "pairs at non-zero distance" });
    }
    ratios.sort_by(f64::total_cmp);
    let m = ratios.len();
    let mean = ratios.iter().sum::<f64>() / m as f64;
    let median = if m % 2 == 1 { ratios[m / 2] } else { 0.5 * (ratios[m / 2 - 1] + ratios[m / 2]) };
    let std = (ratios.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / m as f64).sqrt();
    Ok(PairwiseDistortion { mean, median, max: ratios[m - 1], std, pairs: m })
}
