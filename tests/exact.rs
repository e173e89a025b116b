//! The exact-search engine against brute force, at every SIMD level: bit for bit against the
//! level's own pair kernels sorted by (score, id), and within float error against an f64
//! oracle; on random data, on data full of exact ties and duplicate rows, far from the
//! origin (where the expanded form `‖q‖² + ‖x‖² − 2q·x` cancels), with norms too large for
//! the bound, and with non-finite rows; for any thread count and any split into blocks.

mod common;
use common::floats;
use proptest::prelude::*;
use vq::exact::{ExactSearch, Metric, PRODUCT_MIN_QUERIES};
use vq::simd::{available, with_level};
use vq::{kernels, reference};

/// Every query's top-k by brute force with the level's pair kernels: `(score, id)` sorted,
/// ties to the lower id, padded with sentinels; scores are distances (L2) or inner
/// products (IP, largest first).
fn brute_force(metric: Metric, d: usize, queries: &[f32], rows: &[f32], ids: &[i64], k: usize) -> Vec<(f32, i64)> {
    let mut out = Vec::new();
    for q in queries.chunks_exact(d) {
        let mut all: Vec<(f32, i64)> = rows
            .chunks_exact(d)
            .zip(ids)
            .map(|(r, &id)| match metric {
                Metric::L2 => (kernels::l2sq(q, r).unwrap(), id),
                // +0.0: an inner product of zero is reported as +0.
                _ => (kernels::dot(q, r).unwrap() + 0.0, id),
            })
            // A NaN never enters, nor the worst score there is (+∞ for L2, −∞ for IP): the
            // heaps start full of it and take only what is strictly better.
            .filter(|&(s, _)| !s.is_nan() && s != if metric == Metric::L2 { f32::INFINITY } else { f32::NEG_INFINITY })
            .collect();
        match metric {
            Metric::L2 => all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))),
            _ => all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))),
        }
        let pad = if metric == Metric::L2 { f32::INFINITY } else { f32::NEG_INFINITY };
        all.resize(all.len().max(k), (pad, -1));
        out.extend_from_slice(&all[..k]);
    }
    out
}

/// The engine's results for `rows` added in `blocks` (lengths in rows, consecutive), the
/// ids of block `b` starting `gap·b` after the previous block's end.
#[allow(clippy::too_many_arguments)]
fn engine(
    metric: Metric,
    d: usize,
    queries: &[f32],
    rows: &[f32],
    blocks: &[usize],
    gap: i64,
    k: usize,
    threads: usize,
) -> (Vec<(f32, i64)>, Vec<i64>) {
    let mut s = ExactSearch::new(d, queries, k, metric, threads).unwrap();
    let (mut at, mut next, mut ids) = (0usize, 0i64, Vec::new());
    for (b, &len) in blocks.iter().enumerate() {
        let first = next + gap * b as i64;
        s.add(&rows[at * d..(at + len) * d], first).unwrap();
        ids.extend((0..len as i64).map(|i| first + i));
        at += len;
        next = first + len as i64;
    }
    assert_eq!(at * d, rows.len(), "blocks cover the rows");
    let nq = queries.len() / d;
    let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    s.results(&mut dist, &mut lab).unwrap();
    (dist.into_iter().zip(lab).collect(), ids)
}

/// Blocks of rows: one, or a split into uneven pieces (some empty).
fn split(n: usize, seed: u64) -> Vec<usize> {
    if seed.is_multiple_of(3) {
        return vec![n];
    }
    let mut out = Vec::new();
    let mut left = n;
    let mut s = seed | 1;
    while left > 0 {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = ((s >> 33) as usize % (n / 3 + 2)).min(left);
        out.push(len);
        left -= len;
    }
    out
}

/// The engine equals brute force bit for bit at every level, for 1, 2 and 3 threads, in
/// one block and split; and its L2 distances are within float error of the f64 oracle.
#[allow(clippy::too_many_arguments)]
fn check(metric: Metric, d: usize, queries: &[f32], rows: &[f32], k: usize, seed: u64) -> Result<(), TestCaseError> {
    let n = rows.len() / d;
    for &level in available() {
        let run = |blocks: &[usize], gap: i64, threads: usize| {
            with_level(level, || engine(metric, d, queries, rows, blocks, gap, k, threads)).unwrap()
        };
        let (one, ids) = run(&[n], 0, 1);
        let want = with_level(level, || brute_force(metric, d, queries, rows, &ids, k)).unwrap();
        for (r, (g, w)) in one.iter().zip(&want).enumerate() {
            prop_assert!(
                g.1 == w.1 && g.0.to_bits() == w.0.to_bits(),
                "{level} {metric:?} d={d} n={n} k={k}: query {} rank {}: got {g:?}, want {w:?}",
                r / k,
                r % k
            );
        }
        if metric == Metric::L2 {
            oracle_l2(d, queries, rows, k, &one)?;
        }
        let blocks = split(n, seed);
        let gap = (seed % 4) as i64;
        for threads in [2, 3] {
            let (got, ids2) = run(&blocks, gap, threads);
            let want = with_level(level, || brute_force(metric, d, queries, rows, &ids2, k)).unwrap();
            prop_assert!(bit_eq(&got, &want), "{level} {metric:?} {threads} threads, blocks {blocks:?}");
        }
    }
    Ok(())
}

fn bit_eq(a: &[(f32, i64)], b: &[(f32, i64)]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.1 == y.1 && x.0.to_bits() == y.0.to_bits())
}

/// Against the plain f64 oracle: every returned distance is within the kernel tolerance of
/// its exact value, and no row left out is nearer than the k-th by more than the tolerance
/// (ties within float error may go either way).
fn oracle_l2(d: usize, queries: &[f32], rows: &[f32], k: usize, got: &[(f32, i64)]) -> Result<(), TestCaseError> {
    for (qi, q) in queries.chunks_exact(d).enumerate() {
        let res = &got[qi * k..(qi + 1) * k];
        let exact: Vec<f64> = rows.chunks_exact(d).map(|r| reference::l2sq(q, r)).collect();
        for &(g, id) in res.iter().filter(|e| e.1 >= 0) {
            let want = exact[id as usize];
            prop_assert!((g as f64 - want).abs() <= reference::tolerance(d, want), "q {qi} id {id}: {g} vs {want}");
        }
        let found = res.iter().filter(|e| e.1 >= 0).count();
        prop_assert_eq!(found, k.min(exact.iter().filter(|v| v.is_finite()).count()));
        if found == k {
            let kth = res[k - 1].0 as f64;
            for (id, &e) in exact.iter().enumerate() {
                if e.is_finite() && !res.iter().any(|r| r.1 == id as i64) {
                    prop_assert!(
                        e + 2.0 * reference::tolerance(d, e.max(kth)) >= kth,
                        "q {qi}: row {id} at {e} left out, k-th {kth}"
                    );
                }
            }
        }
    }
    Ok(())
}

#[test]
fn random_data_odd_sizes() {
    for (d, n, nq, k) in [(1, 300, 17, 5), (3, 1000, 13, 10), (17, 777, 16, 40), (384, 600, 21, 100), (5, 7, 19, 20)] {
        let rows = floats(n * d, d as u64, 1.0);
        let queries = floats(nq * d, d as u64 + 100, 1.0);
        check(Metric::L2, d, &queries, &rows, k, d as u64).unwrap();
        check(Metric::InnerProduct, d, &queries, &rows, k, d as u64 + 1).unwrap();
    }
}

#[test]
fn several_tiles_of_queries_and_fewer_than_the_product_needs() {
    let (d, n) = (16, 300);
    let rows = floats(n * d, 7, 1.0);
    for nq in [1, PRODUCT_MIN_QUERIES - 1, PRODUCT_MIN_QUERIES, 37, 70] {
        let queries = floats(nq * d, 8 + nq as u64, 1.0);
        check(Metric::L2, d, &queries, &rows, 7, nq as u64).unwrap();
    }
}

/// Small integers give exact ties everywhere; copied rows give equal distances under
/// different ids; queries equal to rows give distance 0.
#[test]
fn ties_and_duplicates() {
    let (d, n, nq) = (6, 900, 20);
    let rows: Vec<f32> = floats(n * d, 3, 2.0).iter().map(|v| v.round()).collect();
    let mut queries: Vec<f32> = floats(nq * d, 4, 2.0).iter().map(|v| v.round()).collect();
    queries[..d].copy_from_slice(&rows[5 * d..6 * d]);
    for k in [1, 10, 100] {
        check(Metric::L2, d, &queries, &rows, k, k as u64).unwrap();
        check(Metric::InnerProduct, d, &queries, &rows, k, k as u64).unwrap();
    }
    // Five distinct rows repeated: every distance ties 180 ways.
    let few: Vec<f32> = (0..n).flat_map(|i| rows[(i % 5) * d..(i % 5 + 1) * d].to_vec()).collect();
    check(Metric::L2, d, &queries, &few, 50, 1).unwrap();
    // Every row the same.
    let same: Vec<f32> = (0..n).flat_map(|_| rows[..d].to_vec()).collect();
    check(Metric::L2, d, &queries, &same, 30, 2).unwrap();
}

/// Rows and queries near (1000, 1000, …): the expanded form's terms are ~10⁸ where the
/// distances are ~10⁻², below its rounding error; only the exact rescoring ranks them.
#[test]
fn far_from_the_origin() {
    let (d, n, nq) = (32, 700, 18);
    let rows: Vec<f32> = floats(n * d, 11, 0.01).iter().map(|v| v + 1000.0).collect();
    let queries: Vec<f32> = floats(nq * d, 12, 0.01).iter().map(|v| v + 1000.0).collect();
    check(Metric::L2, d, &queries, &rows, 25, 5).unwrap();
    check(Metric::InnerProduct, d, &queries, &rows, 25, 6).unwrap();
}

/// Norms over the bound's limit (2¹⁰⁰) and rows with infinities or NaN.
#[test]
fn huge_and_non_finite_values() {
    let (d, n, nq) = (8, 400, 20);
    let mut rows = floats(n * d, 21, 1.0);
    let mut queries = floats(nq * d, 22, 1.0);
    for i in (0..n).step_by(7) {
        rows[i * d] = 3e16; // ‖x‖² ≈ 9·10³², past the bound
    }
    for i in (3..n).step_by(11) {
        rows[i * d + 1] = if i % 2 == 0 { f32::INFINITY } else { f32::NAN };
    }
    queries[2 * d + 3] = 2e18; // a query past the bound: all its pairs are scored exactly
    queries[4 * d] = 3e16;
    check(Metric::L2, d, &queries, &rows, 30, 3).unwrap();
    check(Metric::InnerProduct, d, &queries, &rows, 30, 4).unwrap();
}

#[test]
fn results_can_be_read_between_blocks_and_k_above_the_rows_pads() {
    let d = 4;
    let nq = 20;
    let queries = floats(nq * d, 1, 1.0);
    let rows = floats(30 * d, 2, 1.0);
    let mut s = ExactSearch::new(d, &queries, 40, Metric::L2, 2).unwrap();
    let (mut dist, mut lab) = (vec![0f32; nq * 40], vec![0i64; nq * 40]);
    s.results(&mut dist, &mut lab).unwrap();
    assert!(dist.iter().all(|&v| v == f32::INFINITY) && lab.iter().all(|&l| l == -1));
    s.add(&rows[..10 * d], 0).unwrap();
    s.results(&mut dist, &mut lab).unwrap();
    assert_eq!(lab[..11].iter().filter(|&&l| l >= 0).count(), 10);
    assert_eq!((dist[10], lab[10]), (f32::INFINITY, -1));
    s.add(&rows[10 * d..], 10).unwrap();
    s.results(&mut dist, &mut lab).unwrap();
    assert_eq!(lab[..40].iter().filter(|&&l| l >= 0).count(), 30);
    assert!(dist[30..40].iter().all(|&v| v == f32::INFINITY));
    let mut ip = ExactSearch::new(d, &queries, 40, Metric::InnerProduct, 1).unwrap();
    ip.add(&rows, 0).unwrap();
    ip.results(&mut dist, &mut lab).unwrap();
    assert!(dist[..30].windows(2).all(|w| w[0] >= w[1]), "inner products descend");
    assert_eq!((dist[30], lab[30]), (f32::NEG_INFINITY, -1));
}

#[test]
fn bad_input_is_an_error_naming_the_value() {
    let q = [0.0f32; 4];
    let msg = |e: vq::Error| e.to_string();
    assert!(msg(ExactSearch::new(2, &q, 0, Metric::L2, 1).err().unwrap()).contains("k = 0"));
    assert!(msg(ExactSearch::new(0, &q, 1, Metric::L2, 1).err().unwrap()).contains("dim = 0"));
    assert!(msg(ExactSearch::new(3, &q, 1, Metric::L2, 1).err().unwrap()).contains("dimension 3"));
    let e = msg(ExactSearch::new(2, &[0.0, f32::NAN], 1, Metric::L2, 1).err().unwrap());
    assert!(e.contains("element 1"), "{e}");
    let e = msg(ExactSearch::new(2, &q, usize::MAX, Metric::L2, 1).err().unwrap());
    assert!(e.contains("overflows"), "{e}");
    let mut s = ExactSearch::new(2, &q, 3, Metric::L2, 1).unwrap();
    assert!(msg(s.add(&[0.0; 3], 0).unwrap_err()).contains("3 elements"));
    assert!(msg(s.add(&[0.0; 2], -1).unwrap_err()).contains("first_id = -1"));
    s.add(&[0.0; 4], 5).unwrap(); // ids 5 and 6
    let e = msg(s.add(&[0.0; 2], 6).unwrap_err());
    assert!(e.contains("first_id = 6, below 7"), "{e}");
    let e = msg(s.add(&[0.0; 4], i64::MAX - 1).unwrap_err());
    assert!(e.contains("i64::MAX"), "{e}");
    s.add(&[0.0; 2], i64::MAX - 1).unwrap(); // the last id there is
    let (mut d, mut l) = (vec![0f32; 6], vec![0i64; 5]);
    assert!(msg(s.results(&mut d, &mut l).unwrap_err()).contains("labels has length 5, expected exactly 6"));
    let (mut d, mut l) = (vec![0f32; 5], vec![0i64; 6]);
    assert!(msg(s.results(&mut d, &mut l).unwrap_err()).contains("distances has length 5"));
}

/// The level read by `new` holds for later calls made at another level, and reaches the
/// worker threads: results equal those of a search made wholly at that level.
#[test]
fn the_level_of_new_holds_for_every_block() {
    let lowest = *available().last().unwrap();
    let (d, n, nq, k) = (33, 500, 17, 10);
    let rows = floats(n * d, 31, 1.0);
    let queries = floats(nq * d, 32, 1.0);
    let mut s = with_level(lowest, || ExactSearch::new(d, &queries, k, Metric::L2, 2).unwrap()).unwrap();
    s.add(&rows[..200 * d], 0).unwrap();
    s.add(&rows[200 * d..], 200).unwrap();
    let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    s.results(&mut dist, &mut lab).unwrap();
    let ids: Vec<i64> = (0..n as i64).collect();
    let want = with_level(lowest, || brute_force(Metric::L2, d, &queries, &rows, &ids, k)).unwrap();
    let got: Vec<(f32, i64)> = dist.into_iter().zip(lab).collect();
    assert!(bit_eq(&got, &want), "{lowest}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn engine_equals_brute_force(
        d in 1usize..=40,
        n in 0usize..=600,
        nq in 1usize..=40,
        k in 1usize..=50,
        seed in any::<u64>(),
        ip in any::<bool>(),
        ties in any::<bool>(),
    ) {
        let mut rows = floats(n * d, seed, 1.0);
        let mut queries = floats(nq * d, seed ^ 7, 1.0);
        if ties {
            for v in rows.iter_mut().chain(queries.iter_mut()) {
                *v = (*v * 2.0).round();
            }
        }
        let metric = if ip { Metric::InnerProduct } else { Metric::L2 };
        check(metric, d, &queries, &rows, k, seed)?;
    }
}
