//! Every kernel, at every SIMD level this machine has, against the scalar oracles of
//! `vq::reference`: fixed lengths that hit every head/tail split, slices at every offset
//! 0..16 of a larger buffer (misalignment), and random lengths up to 2049 with proptest.

mod common;
use common::floats;
use proptest::prelude::*;
use vq::kernels::{dot, dot_batch, l2sq, l2sq_batch};
use vq::reference;
use vq::simd::{available, with_level};

const LENGTHS: &[usize] = &[0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 1000];

fn check_pair(a: &[f32], b: &[f32]) -> Result<(), TestCaseError> {
    let want_l2 = reference::l2sq(a, b);
    let want_dot = reference::dot(a, b);
    let tol_l2 = reference::tolerance(a.len(), want_l2);
    let tol_dot = reference::tolerance(a.len(), reference::dot_abs(a, b));
    for &level in available() {
        let got = with_level(level, || l2sq(a, b)).unwrap().unwrap() as f64;
        prop_assert!((got - want_l2).abs() <= tol_l2, "l2sq {level} n={}: {got} vs {want_l2}", a.len());
        let got = with_level(level, || dot(a, b)).unwrap().unwrap() as f64;
        prop_assert!((got - want_dot).abs() <= tol_dot, "dot {level} n={}: {got} vs {want_dot}", a.len());
    }
    Ok(())
}

fn check_batch(q: &[f32], rows: &[f32], n: usize) -> Result<(), TestCaseError> {
    let d = q.len();
    for &level in available() {
        let mut out = vec![f32::NAN; n];
        with_level(level, || l2sq_batch(q, rows, &mut out)).unwrap().unwrap();
        let mut out_dot = vec![f32::NAN; n];
        with_level(level, || dot_batch(q, rows, &mut out_dot)).unwrap().unwrap();
        for i in 0..n {
            let r = &rows[i * d..(i + 1) * d];
            let want = reference::l2sq(q, r);
            prop_assert!(
                (out[i] as f64 - want).abs() <= reference::tolerance(d, want),
                "l2sq_batch {level} d={d} row {i}: {} vs {want}",
                out[i]
            );
            let want = reference::dot(q, r);
            prop_assert!(
                (out_dot[i] as f64 - want).abs() <= reference::tolerance(d, reference::dot_abs(q, r)),
                "dot_batch {level} d={d} row {i}: {} vs {want}",
                out_dot[i]
            );
        }
    }
    Ok(())
}

#[test]
fn pair_kernels_every_length_and_offset() {
    for &n in LENGTHS {
        let a = floats(n + 16, n as u64, 10.0);
        let b = floats(n + 16, n as u64 + 1000, 10.0);
        for off in 0..16 {
            check_pair(&a[off..off + n], &b[15 - off..15 - off + n]).unwrap();
        }
    }
}

#[test]
fn batch_kernels_every_length_and_offset() {
    for &d in LENGTHS.iter().filter(|&&d| d > 0 && d <= 129) {
        for n in [0, 1, 3, 4, 5, 9] {
            let q = floats(d + 16, d as u64, 5.0);
            let rows = floats(n * d + 16, 7 + d as u64, 5.0);
            for off in [0, 1, 3, 7, 15] {
                check_batch(&q[off..off + d], &rows[16 - off - 1..16 - off - 1 + n * d], n).unwrap();
            }
        }
    }
}

#[test]
fn mismatched_lengths_are_errors() {
    let e = l2sq(&[1.0, 2.0], &[1.0]).unwrap_err().to_string();
    assert!(e.contains('1') && e.contains('2'), "{e}");
    let mut out = [0.0; 3];
    assert!(l2sq_batch(&[1.0, 2.0], &[0.0; 5], &mut out).is_err());
    assert!(l2sq_batch(&[1.0, 2.0], &[0.0; 4], &mut out).is_err());
    assert!(dot_batch(&[1.0, 2.0], &[0.0; 6], &mut out).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn pair_kernels_random(n in 0usize..=2049, off in 0usize..16, seed in any::<u64>(), scale in 1e-3f32..1e3) {
        let a = floats(n + 16, seed, scale);
        let b = floats(n + 16, seed ^ 0xABCD, scale);
        check_pair(&a[off..off + n], &b[16 - off..16 - off + n])?;
    }

    #[test]
    fn batch_kernels_random(d in 1usize..=300, n in 0usize..=13, off in 0usize..16, seed in any::<u64>()) {
        let q = floats(d + 16, seed, 3.0);
        let rows = floats(n * d + 16, seed ^ 0x5555, 3.0);
        check_batch(&q[off..off + d], &rows[off..off + n * d], n)?;
    }
}

/// A test leg run with `VQ_SIMD=<level>` runs at that level: the library only reports an
/// unknown or unavailable name on stderr and goes on at the detected level, so this test is
/// what fails a leg that would otherwise prove nothing.
#[test]
fn vq_simd_names_the_level_the_tests_run_at() {
    let Some(name) = std::env::var("VQ_SIMD").ok().filter(|n| !n.is_empty()) else { return };
    let want = vq::simd::Level::parse(&name).expect("VQ_SIMD names a level");
    assert!(available().contains(&want), "VQ_SIMD={name}, but this machine runs only {:?}", available());
    assert_eq!(vq::simd::level(), want);
}
