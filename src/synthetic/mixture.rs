//! A seeded Gaussian mixture of any size, for scale tests and benchmarks that need no
//! download.
//!
//! The N(0, 1) demo set has no neighbourhood structure: in high dimension every point is
//! about as far from every other, so its recall curve says little about real embeddings.
//! A mixture does: rows lie around `clusters` centres (each coordinate N(0, 1)) with
//! per-coordinate noise N(0, spread²), so a query's neighbours are mostly the rows of its
//! own cluster, as in real collections.
//!
//! Row `i` depends on the seed and `i` alone (its own generator, seeded from both), so any
//! row range can be generated on its own, by any number of threads, in any order, and a
//! 100-million-row file written in pieces equals one written at once. Only the centres are
//! held in memory (`clusters × dim` floats).

use crate::error::Error;

/// The mixture's parameters and its centres.
#[derive(Clone, Debug)]
pub struct GaussianMixture {
    dim: usize,
    clusters: usize,
    spread: f32,
    seed: u64,
    centres: Vec<f32>,
}

/// Centres held at most: 2^28 floats (1 GiB).
const MAX_CENTRE_FLOATS: usize = 1 << 28;

impl GaussianMixture {
    /// # Errors
    /// [`Error::OutOfRange`] for `dim` or `clusters` of 0, more than 2^28 centre floats, or
    /// a `spread` that is not finite and positive.
    pub fn new(dim: usize, clusters: usize, spread: f32, seed: u64) -> Result<Self, Error> {
        if dim == 0 {
            return Err(Error::OutOfRange { what: "dim", got: "0".into(), accepted: ">= 1" });
        }
        if clusters == 0 || clusters.checked_mul(dim).is_none_or(|f| f > MAX_CENTRE_FLOATS) {
            return Err(Error::OutOfRange {
                what: "clusters",
                got: format!("{clusters} (dim {dim})"),
                accepted: "1..; clusters × dim <= 2^28",
            });
        }
        if !(spread.is_finite() && spread > 0.0) {
            return Err(Error::OutOfRange { what: "spread", got: spread.to_string(), accepted: "a finite value > 0" });
        }
        let mut centres = vec![0f32; clusters * dim];
        let mut rng = Rng::new(seed, u64::MAX);
        rng.fill_normal(&mut centres, 1.0, None);
        Ok(GaussianMixture { dim, clusters, spread, seed, centres })
    }

    /// The dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of centres.
    pub fn clusters(&self) -> usize {
        self.clusters
    }

    /// Fills `out` (whole rows) with rows `first_row, first_row + 1, …`.
    ///
    /// # Errors
    /// [`Error::NotWholeRows`] when `out.len()` is not a multiple of the dimension.
    pub fn fill(&self, first_row: u64, out: &mut [f32]) -> Result<(), Error> {
        crate::error::rows_of("out", out.len(), self.dim)?;
        for (i, row) in out.chunks_exact_mut(self.dim).enumerate() {
            let mut rng = Rng::new(self.seed, first_row + i as u64);
            let c = rng.below(self.clusters);
            rng.fill_normal(row, self.spread, Some(&self.centres[c * self.dim..(c + 1) * self.dim]));
        }
        Ok(())
    }

    /// The centre row `i` belongs to.
    pub fn cluster_of(&self, row: u64) -> usize {
        Rng::new(self.seed, row).below(self.clusters)
    }
}

/// xoshiro256++ seeded by SplitMix64 from `(seed, stream)`: small, fast, and independent
/// streams for independent rows.
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut x = seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `0..n` (Lemire's multiply-high; the bias is below 2^-32 for any n here).
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next()) * n as u128) >> 64) as usize
    }

    /// Uniform in (0, 1]: never 0, so its logarithm is finite.
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `mean + scale · N(0, 1)` per element (Box–Muller, both values of each pair used).
    fn fill_normal(&mut self, out: &mut [f32], scale: f32, mean: Option<&[f32]>) {
        let mut i = 0;
        while i < out.len() {
            let r = (-2.0 * self.unit().ln()).sqrt();
            let (s, c) = (std::f64::consts::TAU * self.unit()).sin_cos();
            for z in [r * c, r * s] {
                if i < out.len() {
                    let m = mean.map_or(0.0, |m| m[i]);
                    out[i] = m + scale * z as f32;
                    i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_depend_on_their_index_only() {
        let g = GaussianMixture::new(7, 5, 0.3, 9).unwrap();
        let mut all = vec![0f32; 100 * 7];
        g.fill(0, &mut all).unwrap();
        let mut part = vec![0f32; 13 * 7];
        g.fill(41, &mut part).unwrap();
        assert_eq!(part, all[41 * 7..54 * 7]);
        let other = GaussianMixture::new(7, 5, 0.3, 10).unwrap();
        let mut o = vec![0f32; 7];
        other.fill(0, &mut o).unwrap();
        assert_ne!(o, all[..7]);
        assert!(g.fill(0, &mut [0f32; 8]).is_err());
    }

    #[test]
    fn rows_sit_around_their_centre_with_the_given_spread() {
        let (d, k, spread) = (64, 10, 0.25f32);
        let g = GaussianMixture::new(d, k, spread, 1).unwrap();
        let n = 20_000;
        let mut rows = vec![0f32; n * d];
        g.fill(0, &mut rows).unwrap();
        let mut counts = vec![0usize; k];
        let (mut sum, mut sq) = (0f64, 0f64);
        for (i, row) in rows.chunks_exact(d).enumerate() {
            let c = g.cluster_of(i as u64);
            counts[c] += 1;
            for (x, m) in row.iter().zip(&g.centres[c * d..(c + 1) * d]) {
                let e = f64::from(x - m);
                sum += e;
                sq += e * e;
            }
        }
        let m = (n * d) as f64;
        let (mean, var) = (sum / m, sq / m - (sum / m).powi(2));
        assert!(mean.abs() < 0.01, "noise mean {mean}");
        assert!((var.sqrt() / f64::from(spread) - 1.0).abs() < 0.01, "noise sd {}", var.sqrt());
        // Uniform cluster choice: each within 10% of n / k.
        assert!(counts.iter().all(|&c| (c as f64 / (n / k) as f64 - 1.0).abs() < 0.1), "{counts:?}");
        // The centres are N(0, 1): their coordinates' variance is near 1.
        let cv = g.centres.iter().map(|&v| f64::from(v * v)).sum::<f64>() / (k * d) as f64;
        assert!((cv - 1.0).abs() < 0.15, "{cv}");
    }

    #[test]
    fn bad_parameters_are_named() {
        assert!(GaussianMixture::new(0, 1, 1.0, 0).unwrap_err().to_string().contains("dim"));
        assert!(GaussianMixture::new(4, 0, 1.0, 0).unwrap_err().to_string().contains("clusters"));
        assert!(GaussianMixture::new(1 << 20, 1 << 9, 1.0, 0).unwrap_err().to_string().contains("2^28"));
        for s in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(GaussianMixture::new(4, 2, s, 0).unwrap_err().to_string().contains("spread"));
        }
    }
}
