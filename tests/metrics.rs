//! The streamed quality metrics and SQ training against the whole-array ones: any batching
//! gives the same bits, which is what lets a sweep over data larger than memory report the
//! figures an in-memory run would.

mod common;

use common::floats;
use proptest::prelude::*;
use vq::metrics::{pairwise_distortion, reconstruction_mse, MseAccumulator, PairwiseSample};

/// Splits `0..n` at the given cut points (taken modulo n, sorted, deduplicated).
fn batches(n: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % n).chain([0, n]).collect();
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| (w[0], w[1])).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn batched_metrics_equal_the_whole_array(
        d in 1usize..=40,
        n in 2usize..=300,
        pairs in 1usize..=200,
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        seed in any::<u64>(),
    ) {
        let x = floats(n * d, seed, 3.0);
        let y: Vec<f32> = x.iter().zip(floats(n * d, seed ^ 1, 0.1)).map(|(a, e)| a + e).collect();
        let mut mse = MseAccumulator::new(d);
        let mut sample = PairwiseSample::new(d, n, pairs, seed).unwrap();
        for (lo, hi) in batches(n, &cuts) {
            mse.add(&x[lo * d..hi * d], &y[lo * d..hi * d]).unwrap();
            sample.add(lo, &x[lo * d..hi * d]).unwrap();
        }
        let rec: Vec<f32> = sample.rows().iter().flat_map(|&r| y[r * d..(r + 1) * d].to_vec()).collect();
        prop_assert_eq!(mse.mse().unwrap().to_bits(), reconstruction_mse(d, &x, &y).unwrap().to_bits());
        prop_assert_eq!(sample.finish(&rec).unwrap(), pairwise_distortion(d, &x, &y, pairs, seed).unwrap());
    }
}

#[test]
fn a_pair_row_never_added_is_an_error() {
    let (d, n) = (4, 50);
    let x = floats(n * d, 5, 1.0);
    let mut sample = PairwiseSample::new(d, n, 100, 7).unwrap();
    sample.add(0, &x[..40 * d]).unwrap();
    let same: Vec<f32> = sample.rows().iter().flat_map(|&r| x[r * d..(r + 1) * d].to_vec()).collect();
    let err = sample.finish(&same).unwrap_err().to_string();
    assert!(err.contains("never added"), "{err}");
    sample.add(40, &x[40 * d..]).unwrap();
    assert_eq!(sample.finish(&same).unwrap().max, 0.0);
    assert!(sample.finish(&same[d..]).is_err());
    assert!(MseAccumulator::new(3).mse().is_err());
    assert!(MseAccumulator::new(3).add(&[1.0; 4], &[1.0; 4]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn sq_trained_in_batches_equals_sq_trained_at_once(
        d in 1usize..=20,
        n in 1usize..=200,
        cuts in prop::collection::vec(any::<usize>(), 0..6),
        seed in any::<u64>(),
    ) {
        let x = floats(n * d, seed, 5.0);
        let mut ranges = vq::RangeAccumulator::new(d).unwrap();
        for (lo, hi) in batches(n, &cuts) {
            ranges.add(&x[lo * d..hi * d]).unwrap();
        }
        let bits = vq::SqBits::B8;
        prop_assert_eq!(ranges.finish(bits).unwrap(), vq::ScalarQuantizer::train(bits, d, &x).unwrap());
    }
}

#[test]
fn sq_ranges_name_a_bad_value_by_its_global_index() {
    let mut r = vq::RangeAccumulator::new(2).unwrap();
    r.add(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    let err = r.add(&[0.0, f32::NAN]).unwrap_err().to_string();
    assert!(err.contains("element 5"), "{err}");
    assert!(vq::RangeAccumulator::new(3).unwrap().finish(vq::SqBits::B4).is_err());
    assert!(vq::RangeAccumulator::new(0).is_err());
}
