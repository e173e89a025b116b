//! Plain scalar oracles, shared by the tests, benchmarks and fuzz targets.
//!
//! They are written for obviousness, not speed: float kernels accumulate in f64, integer
//! kernels (SQ codes) repeat the exact f32 operation sequence of the SIMD kernels so codes
//! can be compared for equality. Nothing here is on a hot path.

/// `Σ (a_i − b_i)²` accumulated in f64 (each difference taken in f32, as the kernels do).
pub fn l2sq(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| ((x - y) as f64).powi(2)).sum()
}

/// `Σ a_i·b_i` in f64.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// `Σ |a_i·b_i|` in f64: the scale a dot product's rounding error is proportional to.
pub fn dot_abs(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| (x as f64 * y as f64).abs()).sum()
}

/// The accepted gap between an f32 kernel's sum of `n` non-negative terms and the exact
/// `want`: `(n + 2)·ε·want + n·f32::MIN_POSITIVE` (the last term covers underflow of tiny
/// products). For a sum with cancellation pass the sum of absolute terms as `want`.
pub fn tolerance(n: usize, want: f64) -> f64 {
    (n as f64 + 2.0) * f32::EPSILON as f64 * want + n as f64 * f32::MIN_POSITIVE as f64
}

/// The scalar quantizer's code for one value: the same f32 operations, in the same order,
/// as the SIMD encoder (`y = (x − vmin)·inv − ½`, clamped to `[0, levels − 1]`, rounded to
/// nearest, ties to even).
pub fn sq_code(x: f32, vmin: f32, inv_step: f32, levels: u32) -> u32 {
    let y = ((x - vmin) * inv_step) - 0.5;
    let y = y.max(0.0).min((levels - 1) as f32);
    y.round_ties_even() as u32
}

/// The scalar quantizer's reconstruction of one code: `code·step + base` with the product
/// rounded before the sum (no FMA), exactly as the decoder does on every level.
pub fn sq_decode(code: u32, step: f32, base: f32) -> f32 {
    (code as f32 * step) + base
}

/// Exact top-k by full sort: `(distance, id)` ascending, ties to the lower id.
pub fn top_k(distances: &[f32], k: usize) -> Vec<(f32, usize)> {
    let mut all: Vec<(f32, usize)> = distances.iter().copied().zip(0..).collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    all.truncate(k);
    all
}
