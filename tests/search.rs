//! Exact top-k search against a full sort, at every level, and the quality metrics against
//! hand-computed values.

mod common;
use common::floats;
use proptest::prelude::*;
use vq::metrics::{pairwise_distortion, per_dimension_mse, rank_distortion_at_k, recall_at_k, reconstruction_mse};
use vq::search::{knn, TopK};
use vq::simd::{available, with_level};
use vq::{kernels, reference};

fn check_knn(d: usize, n: usize, nq: usize, k: usize, seed: u64, dup: bool) -> Result<(), TestCaseError> {
    let mut rows = floats(n * d, seed, 1.0);
    if dup && n > 20 {
        // Equal rows give equal distances: the lower id must win.
        rows.copy_within(0..5 * d, (n - 5) * d);
    }
    let queries = floats(nq * d, seed ^ 1, 1.0);
    for &level in available() {
        let mut dist = vec![0.0; nq * k];
        let mut lab = vec![0i64; nq * k];
        with_level(level, || knn(d, &queries, &rows, k, &mut dist, &mut lab)).unwrap().unwrap();
        for qi in 0..nq {
            let q = &queries[qi * d..(qi + 1) * d];
            let mut all = vec![0.0; n];
            with_level(level, || kernels::l2sq_batch(q, &rows, &mut all)).unwrap().unwrap();
            let want = reference::top_k(&all, k);
            for r in 0..k {
                let got = (dist[qi * k + r], lab[qi * k + r]);
                let want = want.get(r).map_or((f32::INFINITY, -1), |&(wd, wi)| (wd, wi as i64));
                prop_assert_eq!(got, want, "{} d={} n={} k={} q={} rank {}", level, d, n, k, qi, r);
            }
        }
    }
    Ok(())
}

#[test]
fn knn_matches_sort_with_ties_and_short_lists() {
    check_knn(17, 1000, 5, 10, 1, true).unwrap();
    check_knn(128, 600, 3, 100, 2, true).unwrap();
    check_knn(3, 7, 2, 10, 3, false).unwrap(); // fewer rows than k
    check_knn(65, 513, 4, 1, 4, true).unwrap();
    // Enough queries for the matrix-product path (vq::exact): the same results, bit for bit.
    check_knn(17, 1000, 17, 10, 5, true).unwrap();
    check_knn(384, 700, 20, 100, 6, true).unwrap();
    check_knn(3, 7, 16, 10, 7, false).unwrap();
}

#[test]
fn topk_push_and_finish() {
    let (mut d, mut l) = ([0.0f32; 3], [0i64; 3]);
    let mut t = TopK::new(&mut d, &mut l).unwrap();
    for (i, v) in [5.0, 1.0, 3.0, 1.0, 0.5, 7.0].into_iter().enumerate() {
        t.push(v, i as i64);
    }
    t.finish();
    assert_eq!(l, [4, 1, 3]);
    assert_eq!(d, [0.5, 1.0, 1.0]);
    let (mut d2, mut l2) = ([0.0f32; 2], [0i64; 3]);
    assert!(TopK::new(&mut d2, &mut l2).is_err());
}

#[test]
fn knn_bad_input() {
    let (mut d, mut l) = ([0.0f32; 2], [0i64; 2]);
    assert!(knn(0, &[], &[], 2, &mut d, &mut l).is_err());
    assert!(knn(2, &[0.0; 2], &[0.0; 3], 2, &mut d, &mut l).is_err());
    assert!(knn(2, &[0.0; 2], &[0.0; 4], 0, &mut d, &mut l).is_err());
    assert!(knn(2, &[0.0; 2], &[0.0; 4], 3, &mut d, &mut l).is_err());
    assert!(knn(2, &[f32::INFINITY, 0.0], &[0.0; 4], 2, &mut d, &mut l).is_err());
}

#[test]
fn recall_and_rank_distortion() {
    let truth = [0i64, 1, 2, 3, 10, 11, 12, 13];
    let found = [1i64, 0, 9, 9, 10, -1, 11, 12];
    // Query 0: {1,0} ∩ {0,1} = 2 of 2; query 1: {10,-1} ∩ {10,11} = 1 of 2.
    assert_eq!(recall_at_k(&truth, 4, &found, 4, 2).unwrap(), 0.75);
    assert_eq!(rank_distortion_at_k(&truth, 4, &found, 4, 2).unwrap(), 0.25);
    // k = 4: query 0 finds 0 and 1 (9 twice counts nothing); query 1 finds 10, 11, 12.
    assert_eq!(recall_at_k(&truth, 4, &found, 4, 4).unwrap(), (2.0 / 4.0 + 3.0 / 4.0) / 2.0);
    assert!(recall_at_k(&truth, 4, &found, 4, 5).is_err());
    assert!(recall_at_k(&truth, 4, &found, 4, 0).is_err());
    // A duplicated id in a result list counts once.
    assert_eq!(recall_at_k(&[0, 1], 2, &[0, 0], 2, 2).unwrap(), 0.5);
}

#[test]
fn mse_is_mean_of_per_vector_sums() {
    let a = [0.0f32, 0.0, 1.0, 1.0];
    let b = [1.0f32, 0.0, 1.0, 3.0];
    // Vector sums of squared error: 1 and 4; mean 2.5.
    assert_eq!(reconstruction_mse(2, &a, &b).unwrap(), 2.5);
    let mut per = [0.0; 2];
    per_dimension_mse(2, &a, &b, &mut per).unwrap();
    assert_eq!(per, [0.5, 2.0]);
    assert!(reconstruction_mse(2, &a, &b[..2]).is_err());
    assert!(reconstruction_mse(2, &[], &[]).is_err());
}

#[test]
fn pairwise_distortion_of_a_scaling() {
    // Reconstruction = 1.1 × original: every ratio is exactly 1.1, distortion 0.1.
    let x = floats(64 * 8, 9, 1.0);
    let y: Vec<f32> = x.iter().map(|v| v * 1.1).collect();
    let p = pairwise_distortion(8, &x, &y, 500, 42).unwrap();
    assert_eq!(p.pairs, 500);
    for v in [p.mean, p.median, p.max] {
        assert!((v - 0.1).abs() < 1e-6, "{p:?}");
    }
    assert!(p.std < 1e-6);
    assert_eq!(p, pairwise_distortion(8, &x, &y, 500, 42).unwrap(), "seeded: same pairs");
    let same = pairwise_distortion(8, &x, &x, 100, 1).unwrap();
    assert_eq!(same.max, 0.0);
    assert!(pairwise_distortion(8, &x[..8], &y[..8], 10, 1).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn knn_random(d in 1usize..=70, n in 1usize..=700, nq in 1usize..=24, k in 1usize..=40, seed in any::<u64>()) {
        check_knn(d, n, nq, k, seed, seed % 2 == 0)?;
    }
}

#[test]
fn search_k_whose_product_with_nq_overflows_is_rejected() {
    // nq·k wraps to 0 in release arithmetic; empty output buffers must not then pass.
    let data: Vec<f32> = (0..4 * 3).map(|i| i as f32).collect();
    let sq = vq::ScalarQuantizer::train(vq::SqBits::B8, 4, &data).unwrap();
    let mut codes = vec![0u8; 3 * 4];
    vq::Quantizer::encode(&sq, &data, &mut codes).unwrap();
    let k = usize::MAX / 2 + 1;
    let e = vq::Quantizer::search(&sq, &data[..8], &codes, k, &mut [], &mut []).unwrap_err().to_string();
    assert!(e.contains("overflows") && e.contains(&k.to_string()), "{e}");
}
