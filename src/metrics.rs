//! Quality metrics with the original Python tool's definitions, so figures compare one to
//! one with its run logs. These allocate and are not on the hot path.
//!
//! The reconstruction error and the pairwise distortion also come as accumulators fed
//! batch after batch ([`MseAccumulator`], [`PairwiseSample`]), for data that does not fit
//! in memory. The whole-array functions are those accumulators fed once, so a streamed
//! evaluation gives the same bits as an in-memory one.

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
    let mut acc = MseAccumulator::new(dim);
    acc.add(original, reconstructed)?;
    acc.mse()
}

/// [`reconstruction_mse`] over batches: one running f64 sum in row order, so any batching
/// gives the bits of one call over the whole array.
#[derive(Debug, Clone)]
pub struct MseAccumulator {
    dim: usize,
    sum: f64,
    rows: usize,
}

impl MseAccumulator {
    /// An empty accumulator for rows of `dim` values.
    pub fn new(dim: usize) -> Self {
        MseAccumulator { dim, sum: 0.0, rows: 0 }
    }

    /// Adds the next rows and their reconstructions.
    ///
    /// # Errors
    /// Differing lengths or ragged rows.
    pub fn add(&mut self, original: &[f32], reconstructed: &[f32]) -> Result<(), Error> {
        let n = rows_of("original", original.len(), self.dim)?;
        exact_len("reconstructed", reconstructed.len(), original.len())?;
        self.sum = original.iter().zip(reconstructed).fold(self.sum, |s, (&a, &b)| s + (a as f64 - b as f64).powi(2));
        self.rows += n;
        Ok(())
    }

    /// The mean over the rows added of each row's sum of squared errors.
    ///
    /// # Errors
    /// No rows were added.
    pub fn mse(&self) -> Result<f64, Error> {
        if self.rows == 0 {
            return Err(Error::Empty { what: "original" });
        }
        Ok(self.sum / self.rows as f64)
    }
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
    let mut sample = PairwiseSample::new(dim, n, num_pairs, seed)?;
    sample.add(0, original)?;
    let mut rec = Vec::with_capacity(sample.rows().len() * dim);
    for &r in sample.rows() {
        rec.extend_from_slice(&reconstructed[r * dim..(r + 1) * dim]);
    }
    sample.finish(&rec)
}

/// [`pairwise_distortion`] over batches: the pairs are drawn up front (the same draws as
/// the whole-array function), and only the original rows they name are kept as the batches
/// pass, so memory is at most `2 · num_pairs` rows whatever the data's size. One sample
/// serves any number of quantizers: each gives the reconstructions of [`PairwiseSample::rows`]
/// to [`PairwiseSample::finish`] (decoded from its codes of those rows).
#[derive(Debug, Clone)]
pub struct PairwiseSample {
    dim: usize,
    /// The drawn pairs, in draw order.
    pairs: Vec<(usize, usize)>,
    /// The distinct rows the pairs name, ascending.
    rows: Vec<usize>,
    /// Each of `rows` once seen (`dim` values each).
    original: Vec<f32>,
    seen: Vec<bool>,
}

impl PairwiseSample {
    /// Draws `num_pairs` seeded pairs of distinct indices among `n` rows of `dim` values.
    ///
    /// # Errors
    /// `n < 2` or `num_pairs = 0`.
    pub fn new(dim: usize, n: usize, num_pairs: usize, seed: u64) -> Result<Self, Error> {
        if n < 2 {
            return Err(Error::OutOfRange { what: "vector count", got: n.to_string(), accepted: ">= 2 for pairs" });
        }
        if num_pairs == 0 {
            return Err(Error::OutOfRange { what: "num_pairs", got: "0".into(), accepted: ">= 1" });
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let pairs: Vec<(usize, usize)> = (0..num_pairs)
            .map(|_| {
                let i = rng.random_range(0..n);
                (i, (i + rng.random_range(1..n)) % n) // uniform over the other n − 1 indices
            })
            .collect();
        let mut rows: Vec<usize> = pairs.iter().flat_map(|&(i, j)| [i, j]).collect();
        rows.sort_unstable();
        rows.dedup();
        let len = rows.len() * dim;
        Ok(PairwiseSample { dim, seen: vec![false; rows.len()], rows, pairs, original: vec![0.0; len] })
    }

    /// The distinct rows the pairs name, ascending.
    pub fn rows(&self) -> &[usize] {
        &self.rows
    }

    /// Keeps the pair rows among rows `first_row, first_row + 1, …` given here.
    ///
    /// # Errors
    /// Ragged rows.
    pub fn add(&mut self, first_row: usize, original: &[f32]) -> Result<(), Error> {
        let n = rows_of("original", original.len(), self.dim)?;
        let d = self.dim;
        let from = self.rows.partition_point(|&r| r < first_row);
        for (k, &r) in self.rows.iter().enumerate().skip(from).take_while(|&(_, &r)| r < first_row + n) {
            let at = (r - first_row) * d;
            self.original[k * d..(k + 1) * d].copy_from_slice(&original[at..at + d]);
            self.seen[k] = true;
        }
        Ok(())
    }

    /// The distortion over the pairs at non-zero distance, given the reconstructions of
    /// [`PairwiseSample::rows`], in that order.
    ///
    /// # Errors
    /// `reconstructed` not one row per sample row, a pair row never added, or every pair
    /// at distance 0.
    pub fn finish(&self, reconstructed: &[f32]) -> Result<PairwiseDistortion, Error> {
        exact_len("reconstructed", reconstructed.len(), self.original.len())?;
        if let Some(k) = self.seen.iter().position(|&s| !s) {
            return Err(Error::OutOfRange {
                what: "pairwise sample",
                got: format!("row {} never added", self.rows[k]),
                accepted: "every row the pairs name",
            });
        }
        let d = self.dim;
        let slot = |r: usize| self.rows.binary_search(&r).expect("every pair row is kept");
        let dist = |x: &[f32], i: usize, j: usize| -> f64 {
            let (a, b) = (&x[slot(i) * d..(slot(i) + 1) * d], &x[slot(j) * d..(slot(j) + 1) * d]);
            a.iter().zip(b).map(|(&p, &q)| (p as f64 - q as f64).powi(2)).sum::<f64>().sqrt()
        };
        let mut ratios = Vec::with_capacity(self.pairs.len());
        for &(i, j) in &self.pairs {
            let dd = dist(&self.original, i, j);
            if dd > 0.0 {
                ratios.push((dist(reconstructed, i, j) / dd - 1.0).abs());
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
}
