//! k-means: determinism (seed, threads), quality on separable data, monotone objective,
//! the subsample cap, empty clusters, assignment against brute force, and bad input.

mod common;
use common::floats;
use vq::kmeans::{Assignment, Init, KMeans, KMeansParams};
use vq::reference;

fn blobs(centers: &[[f32; 4]], per: usize, spread: f32, seed: u64) -> Vec<f32> {
    let noise = floats(centers.len() * per * 4, seed, spread);
    let mut x = Vec::new();
    for (i, c) in centers.iter().enumerate() {
        for p in 0..per {
            for j in 0..4 {
                x.push(c[j] + noise[(i * per + p) * 4 + j]);
            }
        }
    }
    x
}

#[test]
fn same_seed_same_centroids_other_seed_other_centroids() {
    let x = floats(3000 * 7, 1, 1.0);
    for init in [Init::PlusPlus, Init::GreedyPlusPlus, Init::Random] {
        let mut p = KMeansParams::new(20);
        p.init = init;
        let a = KMeans::train(7, &x, &p).unwrap();
        let b = KMeans::train(7, &x, &p).unwrap();
        assert_eq!(a, b);
        p.seed += 1;
        let c = KMeans::train(7, &x, &p).unwrap();
        assert_ne!(a.centroids(), c.centroids());
    }
}

#[cfg(feature = "parallel")]
#[test]
fn thread_count_does_not_change_a_bit() {
    let x = floats(5000 * 33, 2, 1.0);
    let mut p = KMeansParams::new(64);
    p.threads = 1;
    p.hartigan_passes = 2;
    let one = KMeans::train(33, &x, &p).unwrap();
    for threads in [2, 3, 0] {
        p.threads = threads;
        let many = KMeans::train(33, &x, &p).unwrap();
        let bits = |k: &KMeans| k.centroids().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&one), bits(&many), "threads = {threads}");
        assert_eq!(one.objectives(), many.objectives());
    }
}

#[test]
fn finds_separated_clusters_and_objective_never_rises() {
    let centers = [[10.0, 0.0, 0.0, 0.0], [0.0, 10.0, 0.0, 0.0], [0.0, 0.0, 10.0, 0.0], [0.0, 0.0, 0.0, -10.0]];
    let x = blobs(&centers, 250, 0.5, 3);
    for init in [Init::PlusPlus, Init::GreedyPlusPlus, Init::Random] {
        let mut p = KMeansParams::new(4);
        p.init = init;
        let km = KMeans::train(4, &x, &p).unwrap();
        for c in &centers {
            let near = km.centroids().chunks_exact(4).map(|k| reference::l2sq(k, c)).fold(f64::INFINITY, f64::min);
            assert!(near < 0.05, "{init:?}: no centroid near {c:?} ({near})");
        }
        // Within-blob variance: 4 dims × (0.5²/3) per point, 1,000 points.
        let expected = 1000.0 * 4.0 * 0.25 / 3.0;
        assert!((km.objective() - expected).abs() < 0.1 * expected, "objective {}", km.objective());
        for w in km.objectives().windows(2) {
            assert!(w[1] <= w[0] * (1.0 + 1e-6), "objective rose: {:?}", km.objectives());
        }
        let mut labels = vec![0u32; 1000];
        km.assign(&x, &mut labels).unwrap();
        for blob in labels.chunks_exact(250) {
            assert!(blob.iter().all(|&l| l == blob[0]), "a blob split across clusters");
        }
    }
}

#[test]
fn assignment_is_the_nearest_centroid() {
    let (d, n, k) = (19, 2000, 37);
    let x = floats(n * d, 4, 1.0);
    let km = KMeans::train(d, &x, &KMeansParams::new(k)).unwrap();
    let mut labels = vec![0u32; n];
    km.assign(&x, &mut labels).unwrap();
    for (i, row) in x.chunks_exact(d).enumerate() {
        let dists: Vec<f64> = km.centroids().chunks_exact(d).map(|c| reference::l2sq(row, c)).collect();
        let best = dists.iter().cloned().fold(f64::INFINITY, f64::min);
        let got = dists[labels[i] as usize];
        // The product form rounds differently from a direct sum: equal up to that.
        let scale: f64 = row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() + 1.0;
        assert!(got - best <= 1e-5 * scale, "row {i}: label {} at {got}, best {best}", labels[i]);
    }
}

#[test]
fn subsample_cap_and_early_stop() {
    let x = floats(1000 * 3, 5, 1.0);
    let mut p = KMeansParams::new(2);
    p.max_points_per_centroid = 10;
    let km = KMeans::train(3, &x, &p).unwrap();
    assert_eq!(km.training_rows(), 20);
    let mut p = KMeansParams::new(5);
    p.max_iter = 100;
    p.tol = 1e-3;
    let km = KMeans::train(3, &x, &p).unwrap();
    assert!(km.objectives().len() < 100, "no early stop in {} iterations", km.objectives().len());
    p.max_iter = 0;
    let km = KMeans::train(3, &x, &p).unwrap();
    assert_eq!(km.k(), 5);
    assert!(km.objective().is_nan());
}

#[test]
fn empty_clusters_are_refilled_by_splitting() {
    // Nine identical points and one other: k = 3 leaves clusters empty after the first
    // assignment; every centroid must stay finite and distinct ones must cover both points.
    let mut x = [1.0f32, 2.0].repeat(9);
    x.extend_from_slice(&[5.0, 5.0]);
    for init in [Init::PlusPlus, Init::GreedyPlusPlus, Init::Random] {
        let mut p = KMeansParams::new(3);
        p.init = init;
        let km = KMeans::train(2, &x, &p).unwrap();
        assert!(km.centroids().iter().all(|v| v.is_finite()), "{:?}", km.centroids());
        let mut labels = vec![0u32; 10];
        km.assign(&x, &mut labels).unwrap();
        assert_ne!(labels[0], labels[9]);
        assert!(km.objective() < 1e-3, "objective {}", km.objective());
    }
}

#[test]
fn bad_input_names_the_value() {
    let x = floats(10 * 2, 6, 1.0);
    let e = KMeans::train(2, &x, &KMeansParams::new(11)).unwrap_err().to_string();
    assert!(e.contains("10 rows") && e.contains("k = 11"), "{e}");
    assert!(KMeans::train(2, &x, &KMeansParams::new(0)).is_err());
    assert!(KMeans::train(0, &x, &KMeansParams::new(2)).is_err());
    assert!(KMeans::train(3, &x, &KMeansParams::new(2)).is_err());
    let mut p = KMeansParams::new(2);
    p.max_points_per_centroid = 0;
    assert!(KMeans::train(2, &x, &p).is_err());
    let mut bad = x.clone();
    bad[7] = f32::NAN;
    let e = KMeans::train(2, &bad, &KMeansParams::new(2)).unwrap_err().to_string();
    assert!(e.contains("element 7"), "{e}");
}

/// The coarse assignment (centroids grouped under √k centres, `nprobe` groups searched per
/// row) is deterministic and thread-independent, searching every group gives the exact
/// objective, and a few groups lose little: on 8-d Gaussian data with k = 1024 the
/// objective stays within 1% of exact assignment's.
#[test]
fn coarse_assignment_tracks_exact_assignment() {
    let (d, n, k) = (8, 20_000, 1024);
    let x = floats(n * d, 21, 1.0);
    let mut p = KMeansParams::new(k);
    p.init = Init::Random;
    p.max_iter = 8;
    let exact = KMeans::train(d, &x, &p).unwrap();
    p.assignment = Assignment::Coarse { nprobe: 32 }; // ⌈√1024⌉ = 32 groups: all of them
    let all = KMeans::train(d, &x, &p).unwrap();
    let rel = |o: f64| (o - exact.objective()) / exact.objective();
    assert!(rel(all.objective()).abs() < 1e-4, "all groups: {}", rel(all.objective()));
    p.assignment = Assignment::Coarse { nprobe: 4 };
    let few = KMeans::train(d, &x, &p).unwrap();
    assert!(rel(few.objective()) < 0.01, "4 of 32 groups: {}", rel(few.objective()));
    assert_eq!(few, KMeans::train(d, &x, &p).unwrap());
    #[cfg(feature = "parallel")]
    {
        p.threads = 1;
        let one = KMeans::train(d, &x, &p).unwrap();
        p.threads = 2;
        assert_eq!(one, KMeans::train(d, &x, &p).unwrap(), "coarse: thread count changed a bit");
    }
    p.assignment = Assignment::Coarse { nprobe: 0 };
    let e = KMeans::train(d, &x, &p).unwrap_err().to_string();
    assert!(e.contains("nprobe = 0"), "{e}");
}

/// Greedy k-means++ seeds lower the potential than plain k-means++ (its point): after one
/// assignment, the objective summed over five seeds is lower on Gaussian data.
#[test]
fn greedy_seeding_beats_plain_seeding() {
    let (d, n, k) = (8, 4000, 64);
    let x = floats(n * d, 31, 1.0);
    let total = |init: Init| -> f64 {
        (0..5)
            .map(|seed| {
                let mut p = KMeansParams::new(k);
                p.init = init;
                p.max_iter = 1;
                p.seed = seed;
                KMeans::train(d, &x, &p).unwrap().objective()
            })
            .sum()
    };
    let (plain, greedy) = (total(Init::PlusPlus), total(Init::GreedyPlusPlus));
    assert!(greedy < 0.98 * plain, "greedy {greedy} vs plain {plain}");
}

/// Hartigan passes lower a converged Lloyd objective, each pass lowers it further, and the
/// final centroids' nearest-centroid objective is at most the last recorded one. Also from
/// the initial centroids alone (`max_iter = 0`).
#[test]
fn hartigan_passes_lower_the_objective() {
    // 20 rows per centroid: the move factors 20/19 and 20/21 are far from 1.
    let (d, n, k) = (16, 1200, 60);
    let x = floats(n * d, 41, 1.0);
    let nearest = |km: &KMeans| -> f64 {
        x.chunks_exact(d)
            .map(|r| km.centroids().chunks_exact(d).map(|c| reference::l2sq(r, c)).fold(f64::INFINITY, f64::min))
            .sum()
    };
    let mut p = KMeansParams::new(k);
    p.max_iter = 100;
    p.tol = 1e-6;
    let lloyd = KMeans::train(d, &x, &p).unwrap();
    p.hartigan_passes = 3;
    let refined = KMeans::train(d, &x, &p).unwrap();
    let iters = lloyd.objectives().len();
    assert_eq!(&refined.objectives()[..iters], lloyd.objectives(), "the same Lloyd run first");
    let extra = &refined.objectives()[iters..];
    assert!(!extra.is_empty() && extra.len() <= 3, "{extra:?}");
    assert!(extra[0] < 0.995 * lloyd.objective(), "{extra:?} after {}", lloyd.objective());
    assert!(extra[extra.len() - 1] < 0.98 * lloyd.objective(), "{extra:?} after {}", lloyd.objective());
    // Each pass lowers it, but the last, which may move nothing.
    assert!(
        extra.windows(2).all(|w| w[1] <= w[0]) && extra[..extra.len() - 1].windows(2).all(|w| w[1] < w[0]),
        "{extra:?}"
    );
    assert!(nearest(&refined) <= refined.objective() * (1.0 + 1e-6));
    assert!(nearest(&refined) < nearest(&lloyd));
    p.max_iter = 0;
    let from_seeds = KMeans::train(d, &x, &p).unwrap();
    let seeds = KMeans::train(d, &x, &KMeansParams { hartigan_passes: 0, ..p.clone() }).unwrap();
    assert_eq!(from_seeds.objectives().len(), 3);
    assert!(nearest(&from_seeds) < 0.9 * nearest(&seeds));
}

/// Training sets smaller than one register of rows, at every level: greedy k-means++ indexed
/// past its distances with a 20-row pool at 8 lanes and at 1 (issue 10).
#[test]
fn small_training_sets_train_at_every_level() {
    for &level in vq::simd::available() {
        for n in [1, 7, 15, 17, 20, 31, 33] {
            for k in [1, 3.min(n), n] {
                for init in [Init::PlusPlus, Init::GreedyPlusPlus, Init::Random] {
                    let x = floats(n * 5, n as u64 * 7 + k as u64, 1.0);
                    let mut p = KMeansParams::new(k);
                    (p.init, p.hartigan_passes) = (init, 2);
                    let km = vq::simd::with_level(level, || KMeans::train(5, &x, &p)).unwrap().unwrap();
                    let ctx = format!("{level:?} n {n} k {k} {init:?}");
                    assert_eq!(km.k(), k, "{ctx}");
                    assert!(km.centroids().iter().all(|v| v.is_finite()), "{ctx}");
                    let obj = km.objectives();
                    assert!(obj.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-6) + 1e-9), "{ctx}: {obj:?}");
                    if k == n {
                        // As many clusters as rows: every row is its own centroid.
                        assert!(km.objective() < 1e-6, "{ctx}: {obj:?}");
                    }
                }
            }
        }
    }
}
