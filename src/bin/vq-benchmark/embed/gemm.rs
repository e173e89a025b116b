//! `C += A · W` for the encoder's dense layers, where W is a weight matrix fixed at load
//! time. matrixmultiply (the fallback) packs W again on every call and its AVX2 kernel
//! keeps 8 accumulators; with W packed once at load into 16-column panels and a 6×16
//! kernel holding 12 accumulators (the register blocking of BLIS's and OpenBLAS's Haswell
//! kernels), the products run well above matrixmultiply's speed on Zen 3 (figures in
//! docs/PERFORMANCE.md).

/// A weight matrix `k × n` (input-major), laid out for the kernel in use.
pub struct Weight {
    pub k: usize,
    pub n: usize,
    /// Row-major `k × n`, or when `packed`, panels of 16 columns: element (r, c) at
    /// `((c / 16) · k + r) · 16 + c % 16`.
    data: Vec<f32>,
    packed: bool,
}

/// Columns per panel of W, rows per panel of A: one kernel call's tile.
const NR: usize = 16;
const MR: usize = 6;
/// Depth per pass: a panel of A (MR × KC floats, 9 KiB) stays in L1 while it meets every
/// panel of a column block.
const KC: usize = 384;
/// Panels of W per column block: KC × 8·16 floats is 192 KiB, resident in a Zen 3 core's
/// 512 KiB L2 while every panel of A passes it.
const NB: usize = 8;

impl Weight {
    /// `w` is row-major `k × n`; `fast` packs it for the AVX2 kernel (when `n` allows).
    pub fn new(w: Vec<f32>, k: usize, n: usize, fast: bool) -> Weight {
        if !fast || !n.is_multiple_of(NR) {
            return Weight { k, n, data: w, packed: false };
        }
        let mut p = vec![0f32; k * n];
        for c in 0..n {
            for r in 0..k {
                p[((c / NR) * k + r) * NR + c % NR] = w[r * n + c];
            }
        }
        Weight { k, n, data: p, packed: true }
    }
}

/// `c (m × n) += a (m × k) · w`, row-major and contiguous; `apack` is scratch.
pub fn gemm_acc(m: usize, a: &[f32], w: &Weight, c: &mut [f32], apack: &mut Vec<f32>) {
    let (k, n) = (w.k, w.n);
    assert!(a.len() >= m * k && c.len() >= m * n);
    if !w.packed {
        // SAFETY: the assert covers every index the strides reach: a is m×k with row stride
        // k, w is k×n with row stride n (its length is k·n by construction), c is m×n.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr(),
                k as isize,
                1,
                w.data.as_ptr(),
                n as isize,
                1,
                1.0,
                c.as_mut_ptr(),
                n as isize,
                1,
            );
        }
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: a packed weight is made only when the caller found AVX2 and FMA (`fast`).
        unsafe { packed_avx2(m, a, w, c, apack) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!("weights are packed on x86-64 only")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn packed_avx2(m: usize, a: &[f32], w: &Weight, c: &mut [f32], apack: &mut Vec<f32>) {
    let (k, n) = (w.k, w.n);
    let panels_a = m.div_ceil(MR);
    if apack.len() < panels_a * MR * KC {
        apack.resize(panels_a * MR * KC, 0.0);
    }
    let panels_w = n / NR;
    let mut k0 = 0;
    while k0 < k {
        let kc = KC.min(k - k0);
        // A's rows k0..k0+kc as panels of MR rows, k-major; the last panel's missing rows
        // are zeros and their results are not stored.
        for p in 0..panels_a {
            let dst = &mut apack[p * MR * kc..(p + 1) * MR * kc];
            for r in 0..MR {
                let row = p * MR + r;
                if row < m {
                    let src = &a[row * k + k0..row * k + k0 + kc];
                    for (kk, v) in src.iter().enumerate() {
                        dst[kk * MR + r] = *v;
                    }
                } else {
                    for kk in 0..kc {
                        dst[kk * MR + r] = 0.0;
                    }
                }
            }
        }
        for jb in (0..panels_w).step_by(NB) {
            for p in 0..panels_a {
                let ap = apack[p * MR * kc..].as_ptr();
                let rows = MR.min(m - p * MR);
                for jp in jb..(jb + NB).min(panels_w) {
                    let wp = w.data[(jp * k + k0) * NR..].as_ptr();
                    let cp = c[p * MR * n + jp * NR..].as_mut_ptr();
                    // SAFETY: ap holds MR·kc packed floats, wp kc·NR (panel jp from row k0),
                    // and cp's `rows` rows of NR floats at stride n lie inside c (m × n).
                    unsafe { kernel(kc, ap, wp, cp, n, rows) };
                }
            }
        }
        k0 += kc;
    }
}

/// `C[0..rows, 0..16] += Apanel (kc × 6) · Wpanel (kc × 16)`, 12 ymm accumulators.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn kernel(kc: usize, a: *const f32, w: *const f32, c: *mut f32, ldc: usize, rows: usize) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    for kk in 0..kc {
        // SAFETY: the caller guarantees kc·NR floats at w and kc·MR at a.
        unsafe {
            let w0 = _mm256_loadu_ps(w.add(kk * NR));
            let w1 = _mm256_loadu_ps(w.add(kk * NR + 8));
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_ss(&*a.add(kk * MR + r));
                acc[0] = _mm256_fmadd_ps(av, w0, acc[0]);
                acc[1] = _mm256_fmadd_ps(av, w1, acc[1]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate().take(rows) {
        // SAFETY: rows ≤ the tile's valid rows, each NR floats at stride ldc inside C.
        unsafe {
            let p = c.add(r * ldc);
            _mm256_storeu_ps(p, _mm256_add_ps(_mm256_loadu_ps(p), acc[0]));
            _mm256_storeu_ps(p.add(8), _mm256_add_ps(_mm256_loadu_ps(p.add(8)), acc[1]));
        }
    }
}
