//! Synthetic data that matches NumPy's legacy random stream bit for bit.
//!
//! The researchers' original Python tool generated its demo ("dummy") dataset with
//!
//! ```python
//! np.random.seed(42)
//! base = np.random.randn(n, d).astype(np.float32)
//! queries = np.random.randn(nq, d).astype(np.float32)  # same stream, continued
//! ```
//!
//! vq keeps exactly the same data, so that the MSE and recall numbers it reports can be
//! compared one to one with the numbers that tool published. [`gaussian_demo`] produces
//! that dataset; [`NumpyLegacyRng`] is the generator behind it, a re-implementation of
//! NumPy's `RandomState` (which NumPy has frozen since 1.16, so its output does not change
//! between NumPy versions):
//!
//! * the bit generator is MT19937, seeded for an integer seed by Matsumoto and Nishimura's
//!   `init_genrand` (NumPy's `MT19937._legacy_seeding` calls `mt19937_seed`, which is that
//!   routine);
//! * a uniform double (`legacy_double`) takes 53 bits from two 32-bit outputs, 27 from the
//!   first and 26 from the second;
//! * a standard normal (`legacy_gauss`) comes from the polar Box–Muller method, which makes
//!   normals in pairs and caches the second one for the next call;
//! * `astype(np.float32)` rounds each double to the nearest `f32`, which is what `as f32`
//!   does.
//!
//! The polar method calls `log` and `sqrt`. `sqrt` is correctly rounded everywhere; NumPy
//! calls the C library's `log`, and Rust's [`f64::ln`] calls the same platform `log`
//! (glibc's on Linux, which is correctly rounded in practice), so the bits agree. The
//! tests in this module check this against values printed by NumPy itself.
//!
//! This module uses only `std` and is not on the hot path: it allocates, and it is meant
//! for benchmarks, examples and tests.
//!
//! [`GaussianMixture`] makes clustered data of any size, row by row, for scale tests.

mod mixture;
pub use mixture::GaussianMixture;

/// Number of 32-bit words in the MT19937 state.
const N: usize = 624;
/// The MT19937 middle-word offset.
const M: usize = 397;
/// The MT19937 twist matrix constant.
const MATRIX_A: u32 = 0x9908_b0df;
/// Mask for the most significant bit of a state word.
const UPPER_MASK: u32 = 0x8000_0000;
/// Mask for the 31 least significant bits of a state word.
const LOWER_MASK: u32 = 0x7fff_ffff;

/// NumPy's legacy random generator (`np.random.RandomState`): MT19937 plus the cached
/// second normal of the polar Box–Muller method.
///
/// Seeded with the same integer, it produces the same 32-bit outputs, the same uniform
/// doubles and the same standard normals as `np.random.RandomState(seed)` (or as the global
/// `np.random` functions after `np.random.seed(seed)`), in the same order. Mixing calls
/// behaves as in NumPy too: a pending cached normal survives calls to
/// [`next_u32`](Self::next_u32) and [`next_f64`](Self::next_f64), exactly like NumPy's
/// `has_gauss` flag survives calls to `random_sample`.
///
/// ```
/// use vq::synthetic::NumpyLegacyRng;
///
/// // np.random.RandomState(42).randn(2)
/// let mut rng = NumpyLegacyRng::new(42);
/// assert_eq!(rng.standard_normal(), 0.4967141530112327);
/// assert_eq!(rng.standard_normal(), -0.13826430117118466);
/// ```
#[derive(Clone)]
pub struct NumpyLegacyRng {
    /// The MT19937 state words.
    key: [u32; N],
    /// Index of the next state word to temper; `N` means the state must be regenerated.
    pos: usize,
    /// Whether `gauss` holds a cached normal (NumPy's `has_gauss`).
    has_gauss: bool,
    /// The second normal of the last polar pair, valid when `has_gauss` is set.
    gauss: f64,
}

impl std::fmt::Debug for NumpyLegacyRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The 624-word state is noise in a debug print; show where the stream stands.
        f.debug_struct("NumpyLegacyRng")
            .field("pos", &self.pos)
            .field("has_gauss", &self.has_gauss)
            .field("gauss", &self.gauss)
            .finish_non_exhaustive()
    }
}

impl NumpyLegacyRng {
    /// Seeds the generator as `np.random.RandomState(seed)` does for an integer seed.
    ///
    /// NumPy accepts integer seeds in `0..=2**32 - 1` and seeds MT19937 with
    /// `init_genrand` (`mt19937_seed` in NumPy's sources); every `u32` is such a seed.
    /// No normal is cached after seeding.
    #[must_use]
    pub fn new(seed: u32) -> Self {
        let mut key = [0u32; N];
        key[0] = seed;
        for i in 1..N {
            let prev = key[i - 1];
            key[i] = 1_812_433_253u32.wrapping_mul(prev ^ (prev >> 30)).wrapping_add(i as u32);
        }
        Self { key, pos: N, has_gauss: false, gauss: 0.0 }
    }

    /// Regenerates all 624 state words (the MT19937 "twist").
    fn twist(&mut self) {
        let key = &mut self.key;
        for i in 0..N {
            let y = (key[i] & UPPER_MASK) | (key[(i + 1) % N] & LOWER_MASK);
            let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
            key[i] = key[(i + M) % N] ^ (y >> 1) ^ mag;
        }
        self.pos = 0;
    }

    /// Returns the next raw 32-bit MT19937 output.
    ///
    /// This is NumPy's `mt19937_next32`, the value
    /// `RandomState(seed)._bit_generator.random_raw()` returns.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.twist();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Returns a uniform double in `[0, 1)` with 53 random bits, as NumPy's
    /// `legacy_double` (and `RandomState.random_sample`) does.
    ///
    /// It takes the top 27 bits of one 32-bit output and the top 26 bits of the next, and
    /// computes `(a * 2^26 + b) / 2^53`, which is exact.
    pub fn next_f64(&mut self) -> f64 {
        let a = self.next_u32() >> 5;
        let b = self.next_u32() >> 6;
        (f64::from(a) * 67_108_864.0 + f64::from(b)) / 9_007_199_254_740_992.0
    }

    /// Returns a standard normal, as NumPy's `legacy_gauss` (and `RandomState.randn`,
    /// `RandomState.standard_normal`) does.
    ///
    /// The polar Box–Muller method draws a point `(x1, x2)` uniformly in the unit disc
    /// (rejecting the origin and points outside), sets `f = sqrt(-2 ln r² / r²)`, returns
    /// `f * x2` and caches `f * x1` for the next call.
    pub fn standard_normal(&mut self) -> f64 {
        if self.has_gauss {
            self.has_gauss = false;
            let cached = self.gauss;
            self.gauss = 0.0;
            return cached;
        }
        loop {
            let x1 = 2.0 * self.next_f64() - 1.0;
            let x2 = 2.0 * self.next_f64() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                // Same operation order as NumPy: (-2.0 * log(r2)) / r2, then sqrt.
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.gauss = f * x1;
                self.has_gauss = true;
                return f * x2;
            }
        }
    }

    /// Fills `out` with standard normals rounded to `f32`, in order: the equivalent of
    /// `out[:] = rng.randn(len(out)).astype(np.float32)`.
    ///
    /// A C-ordered `randn(rows, cols)` is the same stream as `randn(rows * cols)`, so
    /// filling a row-major `rows × cols` buffer reproduces the NumPy matrix. If `out` has
    /// odd length, the cached second normal stays pending for the next call, as in NumPy.
    pub fn fill_standard_normal_f32(&mut self, out: &mut [f32]) {
        for x in out {
            // `as f32` rounds to nearest, ties to even, like NumPy's astype(float32).
            *x = self.standard_normal() as f32;
        }
    }
}

/// The original tool's dummy dataset and its held-out queries: `(base, queries)`, where
/// `base` is `n × d` and `queries` is `nq × d`, both row-major. The original tool uses seed
/// 42.
///
/// This is, bit for bit,
///
/// ```python
/// np.random.seed(seed)
/// base = np.random.randn(n, d).astype(np.float32)
/// queries = np.random.randn(nq, d).astype(np.float32)
/// ```
///
/// The queries continue the stream the base used (including a cached normal when `n * d`
/// is odd), so they are independent of the base vectors but fixed by the seed.
///
/// # Panics
///
/// Panics if `n * d` or `nq * d` overflows `usize`, or if the allocation fails.
///
/// ```
/// // np.random.seed(42); np.random.randn(2, 3).astype(np.float32)[0, 0] == 0.49671414
/// let (base, queries) = vq::synthetic::gaussian_demo(2, 3, 1, 42);
/// assert_eq!((base.len(), queries.len()), (6, 3));
/// assert_eq!(base[0], 0.496_714_14_f32);
/// ```
#[must_use]
pub fn gaussian_demo(n: usize, d: usize, nq: usize, seed: u32) -> (Vec<f32>, Vec<f32>) {
    let base_len = n.checked_mul(d).expect("gaussian_demo: n * d overflows usize");
    let query_len = nq.checked_mul(d).expect("gaussian_demo: nq * d overflows usize");
    let mut rng = NumpyLegacyRng::new(seed);
    let mut base = vec![0.0f32; base_len];
    rng.fill_standard_normal_f32(&mut base);
    let mut queries = vec![0.0f32; query_len];
    rng.fill_standard_normal_f32(&mut queries);
    (base, queries)
}

#[cfg(test)]
mod tests {
    //! Reference values printed by NumPy 2.4.6 (`RandomState` is frozen, so any NumPy
    //! since 1.16 prints the same), e.g.
    //!
    //! ```python
    //! rs = np.random.RandomState(42); rs._bit_generator.random_raw(8)
    //! np.random.seed(42)
    //! base = np.random.randn(10000, 1024).astype(np.float32)
    //! queries = np.random.randn(100, 1024).astype(np.float32)
    //! base.ravel().view(np.uint32)[:10]; base.ravel().astype(np.float64).sum()
    //! ```

    use super::*;

    /// `RandomState(42)._bit_generator.random_raw(8)`.
    const RAW_SEED_42: [u32; 8] = [
        1_608_637_542,
        3_421_126_067,
        4_083_286_876,
        787_846_414,
        3_143_890_026,
        3_348_747_335,
        2_571_218_620,
        2_563_451_924,
    ];
    /// `random_raw(2000)[[623, 624, 1999]]` for seed 42: across the first and later twists.
    const RAW_SEED_42_AT_623_624_1999: [u32; 3] = [1_077_437_785, 108_880_612, 2_238_969_328];
    /// `RandomState(42).random_sample(3).view(np.uint64)`.
    const DOUBLES_SEED_42: [u64; 3] = [0x3fd7_f877_1e5f_51ec, 0x3fee_6c40_68bb_d654, 0x3fe7_6c7e_8f1e_6751];
    /// `RandomState(42).standard_normal(4).view(np.uint64)`.
    const GAUSS_SEED_42: [u64; 4] =
        [0x3fdf_ca2a_28a9_307c, 0xbfc1_b2a5_05de_052a, 0x3fe4_b9dd_5024_5e68, 0x3ff8_5e54_8e01_aa2b];

    /// Base vectors in the original tool's demo dataset.
    const N: usize = 10_000;
    /// Dimension of the demo dataset.
    const D: usize = 1024;
    /// Queries in the demo dataset.
    const NQ: usize = 100;
    /// `base.ravel().view(np.uint32)[:10]`.
    const BASE_FIRST_10: [u32; 10] = [
        0x3efe5151, 0xbe0d9528, 0x3f25ceeb, 0x3fc2f2a4, 0xbe6fc5e7, 0xbe6fc199, 0x3fca23a5, 0x3f44769a, 0xbef05ef2,
        0x3f0ae537,
    ];
    /// `base.ravel().view(np.uint32)[1_000_000]` (0.16917185).
    const BASE_AT_1_000_000: u32 = 0x3e2d3b63;
    /// `base.ravel().view(np.uint32)[10_239_999]`, the last base value (-0.87044376).
    const BASE_LAST: u32 = 0xbf5ed567;
    /// `base.astype(np.float64).sum()` over all 10,240,000 values.
    const BASE_SUM: f64 = -1575.857695705587;
    /// `queries.ravel().view(np.uint32)[:3]` (-0.022110993, -0.9543518, 0.6554961).
    const QUERIES_FIRST_3: [u32; 3] = [0xbcb5221d, 0xbf745067, 0x3f27ce98];
    /// `queries.ravel().view(np.uint32)[-1]`.
    const QUERIES_LAST: u32 = 0x3b66d441;

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    fn sum_f64(v: &[f32]) -> f64 {
        // NumPy's float64 sum is pairwise; a plain sum differs only in the last bits.
        v.iter().map(|&x| f64::from(x)).sum()
    }

    fn assert_close(got: f64, want: f64) {
        assert!(
            (got - want).abs() <= 1e-6 * want.abs(),
            "sum {got} differs from NumPy's {want} by more than 1e-6 relative"
        );
    }

    #[test]
    fn raw_outputs_match_numpy_legacy_seeding() {
        let mut rng = NumpyLegacyRng::new(42);
        let first: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
        assert_eq!(first, RAW_SEED_42);

        let mut rng = NumpyLegacyRng::new(42);
        let raw: Vec<u32> = (0..2000).map(|_| rng.next_u32()).collect();
        assert_eq!([raw[623], raw[624], raw[1999]], RAW_SEED_42_AT_623_624_1999);

        // Seed edge cases: RandomState(s)._bit_generator.random_raw(3).
        for (seed, want) in [
            (0u32, [2_357_136_044u32, 2_546_248_239, 3_071_714_933]),
            (1, [1_791_095_845, 4_282_876_139, 3_093_770_124]),
            (u32::MAX, [419_326_371, 479_346_978, 3_918_654_476]),
        ] {
            let mut rng = NumpyLegacyRng::new(seed);
            let got = [rng.next_u32(), rng.next_u32(), rng.next_u32()];
            assert_eq!(got, want, "seed {seed}");
        }
    }

    #[test]
    fn doubles_and_normals_match_numpy_bits() {
        let mut rng = NumpyLegacyRng::new(42);
        let doubles: Vec<u64> = (0..3).map(|_| rng.next_f64().to_bits()).collect();
        assert_eq!(doubles, DOUBLES_SEED_42);

        let mut rng = NumpyLegacyRng::new(42);
        let normals: Vec<u64> = (0..4).map(|_| rng.standard_normal().to_bits()).collect();
        assert_eq!(normals, GAUSS_SEED_42);
    }

    #[test]
    fn cached_normal_carries_across_odd_fills() {
        // np.random.seed(7); a = randn(3, 3); b = randn(2, 3)  (both astype(float32))
        let mut rng = NumpyLegacyRng::new(7);
        let mut a = [0.0f32; 9];
        let mut b = [0.0f32; 6];
        rng.fill_standard_normal_f32(&mut a);
        rng.fill_standard_normal_f32(&mut b);
        assert_eq!(
            bits(&a),
            [
                0x3fd86325, 0xbeee8f58, 0x3d066e70, 0x3ed0a5f9, 0xbf49f6dc, 0x3b075e90, 0xba6968c9, 0xbfe09ace,
                0x3f82429e
            ]
        );
        assert_eq!(bits(&b), [0x3f19ba45, 0xbf201c1d, 0xbe2faa59, 0x3f015b4d, 0xbe85d082, 0xbe789337]);
    }

    #[test]
    fn small_demo_shapes_and_continuation() {
        // Queries continue the base's stream: base 2×3 then queries 1×3 is randn(9).
        let (base, queries) = gaussian_demo(2, 3, 1, 42);
        let (all, none) = gaussian_demo(3, 3, 0, 42);
        assert!(none.is_empty());
        assert_eq!(bits(&base), bits(&all[..6]));
        assert_eq!(bits(&queries), bits(&all[6..]));
        assert_eq!(bits(&base), BASE_FIRST_10[..6]);
        let (empty_base, empty_queries) = gaussian_demo(0, 0, 0, 42);
        assert!(empty_base.is_empty() && empty_queries.is_empty());
    }

    /// The full demo dataset: 10,240,000 base normals plus 102,400 query normals. About
    /// 1 s in a debug build and 0.2 s in release, so it runs with the normal tests.
    #[test]
    fn demo_full_matches_numpy() {
        let (base, queries) = gaussian_demo(N, D, NQ, 42);
        assert_eq!((base.len(), queries.len()), (N * D, NQ * D));
        assert_eq!(bits(&base[..10]), BASE_FIRST_10);
        assert_eq!(base[1_000_000].to_bits(), BASE_AT_1_000_000);
        assert_eq!(base[10_239_999].to_bits(), BASE_LAST);
        assert_close(sum_f64(&base), BASE_SUM);
        assert_eq!(bits(&queries[..3]), QUERIES_FIRST_3);
        assert_eq!(queries[NQ * D - 1].to_bits(), QUERIES_LAST);
    }
}
