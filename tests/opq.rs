//! Optimized product quantization: the learned rotation is orthogonal, it beats plain PQ on
//! data whose variance is unevenly spread, training is seeded and thread-count independent,
//! encode/decode/search agree with an oracle that rotates explicitly, and bad input errs.

mod common;
use common::floats;
use vq::{OpqParams, OpqQuantizer, PqParams, ProductQuantizer, Quantizer};

/// A `d × d` orthogonal matrix (row-major): Gram–Schmidt in f64 of pseudo-random rows.
fn orthogonal(d: usize, seed: u64) -> Vec<f32> {
    let raw = floats(d * d, seed, 1.0);
    let mut q: Vec<Vec<f64>> = Vec::new();
    for row in raw.chunks_exact(d) {
        let mut v: Vec<f64> = row.iter().map(|&x| x as f64).collect();
        for b in &q {
            let p: f64 = v.iter().zip(b).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(b).for_each(|(a, b)| *a -= p * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        q.push(v.iter().map(|a| a / norm).collect());
    }
    q.concat().iter().map(|&v| v as f32).collect()
}

/// `n` rows of dimension `d` whose per-dimension scale decays geometrically, then rotated:
/// every dimension mixes strong and weak directions, the case OPQ is for.
fn unbalanced(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let z = floats(n * d, seed, 1.0);
    let r = orthogonal(d, seed + 1);
    let mut x = vec![0f32; n * d];
    for (zr, xr) in z.chunks_exact(d).zip(x.chunks_exact_mut(d)) {
        for (o, rr) in xr.iter_mut().zip(r.chunks_exact(d)) {
            *o = zr.iter().zip(rr).enumerate().map(|(j, (&a, &b))| a * 0.8f32.powi(j as i32) * b).sum();
        }
    }
    x
}

fn quick(m: usize, ksub: usize) -> OpqParams {
    let mut p = OpqParams::new(m, ksub);
    (p.niter, p.niter_pq_0, p.niter_pq) = (8, 10, 3);
    p.kmeans.max_iter = 10;
    p
}

fn mse(q: &dyn Quantizer, x: &[f32]) -> f64 {
    let n = x.len() / q.dim();
    let mut codes = vec![0u8; n * q.code_size()];
    q.encode(x, &mut codes).unwrap();
    let mut y = vec![0f32; x.len()];
    q.decode(&codes, &mut y).unwrap();
    vq::metrics::reconstruction_mse(q.dim(), x, &y).unwrap()
}

/// Largest entry of `|RᵀR − I|`, `r` being `rows × cols`.
fn defect(r: &[f32], rows: usize, cols: usize) -> f64 {
    let mut worst = 0f64;
    for i in 0..cols {
        for j in 0..cols {
            let g: f64 = (0..rows).map(|o| r[o * cols + i] as f64 * r[o * cols + j] as f64).sum();
            worst = worst.max((g - if i == j { 1.0 } else { 0.0 }).abs());
        }
    }
    worst
}

#[test]
fn rotation_is_orthogonal_after_training() {
    let (n, d) = (700, 24);
    let x = unbalanced(n, d, 1);
    for d_out in [None, Some(27)] {
        let mut p = quick(4, 16);
        p.d_out = d_out;
        let opq = OpqQuantizer::train(d, &x, &p).unwrap();
        let rows = d_out.unwrap_or(d);
        assert_eq!((opq.d_out(), opq.rotation().len(), opq.pq().dim()), (rows, rows * d, rows));
        let e = defect(opq.rotation(), rows, d);
        assert!(e < 1e-4, "RᵀR − I up to {e} (d_out {rows})");
    }
}

#[test]
fn opq_beats_pq_on_unbalanced_data() {
    let (n, d, m, ksub) = (2000, 32, 4, 16);
    let x = unbalanced(n, d, 2);
    let mut pp = PqParams::new(m, ksub);
    pp.kmeans.max_iter = 10;
    let pq = ProductQuantizer::train(d, &x, &pp).unwrap();
    let opq = OpqQuantizer::train(d, &x, &quick(m, ksub)).unwrap();
    let (e_pq, e_opq) = (mse(&pq, &x), mse(&opq, &x));
    assert!(e_opq < 0.8 * e_pq, "OPQ MSE {e_opq} vs PQ {e_pq}");
}

#[test]
fn same_seed_same_result_and_thread_count_changes_no_bit() {
    let (n, d) = (600, 20);
    let x = unbalanced(n, d, 3);
    let p = quick(5, 16);
    let a = OpqQuantizer::train(d, &x, &p).unwrap();
    assert_eq!(a, OpqQuantizer::train(d, &x, &p).unwrap());
    for threads in [2, 0] {
        let mut pt = p.clone();
        pt.threads = threads;
        let b = OpqQuantizer::train(d, &x, &pt).unwrap();
        assert_eq!(a.rotation(), b.rotation(), "threads = {threads}");
        assert_eq!(a, b, "threads = {threads}");
    }
    let mut other = p.clone();
    other.seed = 99;
    assert_ne!(a.rotation(), OpqQuantizer::train(d, &x, &other).unwrap().rotation());
}

#[test]
fn subsample_and_hot_start_options_train() {
    let (n, d) = (500, 12);
    let x = unbalanced(n, d, 4);
    let mut p = quick(3, 8);
    p.max_train_points = 100;
    p.inner_points_per_centroid = 5;
    let opq = OpqQuantizer::train(d, &x, &p).unwrap();
    assert!(defect(opq.rotation(), d, d) < 1e-4);
    p.niter = 0; // the random rotation alone
    let opq0 = OpqQuantizer::train(d, &x, &p).unwrap();
    assert!(defect(opq0.rotation(), d, d) < 1e-4);
}

#[test]
fn encode_decode_round_trip_and_agree_with_the_oracle() {
    let (n, d) = (513, 21);
    let x = unbalanced(n, d, 5);
    for d_out in [None, Some(25)] {
        let mut p = quick(4, 32);
        p.d_out = d_out;
        let opq = OpqQuantizer::train(d, &x, &p).unwrap();
        let dout = opq.d_out();
        // Oracle: rotate in f64, encode with the PQ.
        let r = opq.rotation();
        let mut rotated = vec![0f32; n * dout];
        opq.rotate(&x, &mut rotated).unwrap();
        for (xr, yr) in x.chunks_exact(d).zip(rotated.chunks_exact(dout)) {
            for (o, &y) in yr.iter().enumerate() {
                let want: f64 = (0..d).map(|j| r[o * d + j] as f64 * xr[j] as f64).sum();
                assert!((y as f64 - want).abs() < 1e-5 * (1.0 + want.abs()), "{y} vs {want}");
            }
        }
        let cs = opq.code_size();
        let (mut codes, mut want_codes) = (vec![0u8; n * cs], vec![0u8; n * cs]);
        opq.encode(&x, &mut codes).unwrap();
        opq.pq().encode(&rotated, &mut want_codes).unwrap();
        assert_eq!(codes, want_codes);
        // Row by row gives the same codes as the batch.
        for (i, xr) in x.chunks_exact(d).enumerate().step_by(37) {
            let mut one = vec![0u8; cs];
            opq.encode(xr, &mut one).unwrap();
            assert_eq!(one, &codes[i * cs..(i + 1) * cs]);
        }
        // decode = Rᵀ (PQ decode).
        let mut y = vec![0f32; n * dout];
        opq.pq().decode(&codes, &mut y).unwrap();
        let mut back = vec![0f32; n * d];
        opq.decode(&codes, &mut back).unwrap();
        for (yr, br) in y.chunks_exact(dout).zip(back.chunks_exact(d)) {
            for (j, &b) in br.iter().enumerate() {
                let want: f64 = (0..dout).map(|o| r[o * d + j] as f64 * yr[o] as f64).sum();
                assert!((b as f64 - want).abs() < 1e-5 * (1.0 + want.abs()), "{b} vs {want}");
            }
        }
        if d_out.is_none() {
            // A square rotation loses nothing: decoded vectors encode to their own codes.
            let mut again = vec![0u8; n * cs];
            opq.encode(&back, &mut again).unwrap();
            let same = again.chunks_exact(cs).zip(codes.chunks_exact(cs)).filter(|(a, b)| a == b).count();
            assert!(same * 100 >= 99 * n, "{same} of {n} codes survive a round trip");
        }
    }
}

#[test]
fn search_and_distances_equal_the_rotated_pq() {
    let (n, d, nq, k) = (800, 19, 37, 7);
    let x = unbalanced(n, d, 6);
    let queries = unbalanced(nq, d, 7);
    let opq = OpqQuantizer::train(d, &x, &quick(4, 16)).unwrap();
    let cs = opq.code_size();
    let mut codes = vec![0u8; n * cs];
    opq.encode(&x, &mut codes).unwrap();
    let dout = opq.d_out();
    let mut rq = vec![0f32; nq * dout];
    opq.rotate(&queries, &mut rq).unwrap();
    let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    opq.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
    opq.pq().search(&rq, &codes, k, &mut wd, &mut wl).unwrap();
    assert_eq!((dist, lab), (wd, wl));
    // One query at a time, and the distances of every code.
    let q0 = &queries[..d];
    let (mut d1, mut l1) = (vec![0f32; k], vec![0i64; k]);
    opq.search(q0, &codes, k, &mut d1, &mut l1).unwrap();
    let (mut wd1, mut wl1) = (vec![0f32; k], vec![0i64; k]);
    opq.pq().search(&rq[..dout], &codes, k, &mut wd1, &mut wl1).unwrap();
    assert_eq!((d1, l1), (wd1, wl1));
    let (mut all, mut want) = (vec![0f32; n], vec![0f32; n]);
    opq.distances(q0, &codes, &mut all).unwrap();
    opq.pq().distances(&rq[..dout], &codes, &mut want).unwrap();
    assert_eq!(all, want);
}

#[test]
fn from_parts_round_trips_and_rejects_bad_rotations() {
    let (n, d) = (400, 10);
    let x = unbalanced(n, d, 8);
    let mut p = quick(2, 8);
    p.d_out = Some(12);
    let opq = OpqQuantizer::train(d, &x, &p).unwrap();
    let again = OpqQuantizer::from_parts(d, opq.rotation().to_vec(), opq.pq().clone()).unwrap();
    assert_eq!(again, opq);

    let err = |r: Vec<f32>, pq: ProductQuantizer| OpqQuantizer::from_parts(d, r, pq).unwrap_err().to_string();
    let pq = opq.pq().clone();
    let mut skewed = opq.rotation().to_vec();
    skewed[3] += 0.01;
    assert!(err(skewed, pq.clone()).contains("(RᵀR − I)"), "{}", err(opq.rotation().to_vec(), pq.clone()));
    let mut nan = opq.rotation().to_vec();
    nan[5] = f32::NAN;
    assert!(err(nan, pq.clone()).contains("element 5"));
    assert!(err(opq.rotation()[..d * 12 - 1].to_vec(), pq.clone()).contains("119 elements"));
    // Fewer rows than the dimension (d_out = 9 < 10).
    assert!(err(opq.rotation()[..d * 9].to_vec(), pq.clone()).contains("9 for dimension 10"));
    // A PQ of another dimension.
    let pq10 = ProductQuantizer::train(10, &x, &PqParams::new(2, 8)).unwrap();
    let square: Vec<f32> = orthogonal(10, 3);
    let e = err(square.clone(), opq.pq().clone());
    assert!(e.contains("product quantizer has dimension 12, expected 10"), "{e}");
    assert!(OpqQuantizer::from_parts(10, square, pq10).is_ok());
    assert!(OpqQuantizer::from_parts(0, vec![], pq).unwrap_err().to_string().contains("dim"));
}

#[test]
fn train_rejects_bad_input_naming_the_value() {
    let (n, d) = (300, 8);
    let x = unbalanced(n, d, 9);
    let msg = |dim: usize, data: &[f32], p: &OpqParams| OpqQuantizer::train(dim, data, p).unwrap_err().to_string();
    let p = quick(2, 16);
    let mut bad = p.clone();
    bad.m = 0;
    assert!(msg(d, &x, &bad).contains("m (sub-quantizers) = 0"));
    bad.m = 9;
    assert!(msg(d, &x, &bad).contains("9 for output dimension 8"));
    bad.d_out = Some(9);
    assert!(OpqQuantizer::train(d, &x, &bad).is_ok(), "m = 9 fits d_out = 9");
    bad.d_out = Some(7);
    assert!(msg(d, &x, &bad).contains("d_out = 7 for dimension 8"));
    let mut bad = p.clone();
    bad.ksub = 1;
    assert!(msg(d, &x, &bad).contains("ksub (centroids) = 1"));
    bad.ksub = 65537;
    assert!(msg(d, &x, &bad).contains("65537"));
    let mut bad = p.clone();
    bad.ksub = 301;
    assert!(msg(d, &x, &bad).contains("300 rows for ksub = 301"));
    let mut bad = p.clone();
    bad.max_train_points = 15;
    assert!(msg(d, &x, &bad).contains("max_train_points = 15 for ksub = 16"));
    let mut bad = p.clone();
    bad.inner_points_per_centroid = 0;
    assert!(msg(d, &x, &bad).contains("inner_points_per_centroid = 0"));
    let mut nan = x.clone();
    nan[17] = f32::INFINITY;
    assert!(msg(d, &nan, &p).contains("element 17"));
    assert!(msg(d, &x[..x.len() - 1], &p).contains("not a whole number of rows"));
    assert!(msg(0, &x, &p).contains("dim = 0"));
}

#[test]
fn hot_calls_reject_bad_buffers() {
    let (n, d) = (300, 8);
    let x = unbalanced(n, d, 10);
    let opq = OpqQuantizer::train(d, &x, &quick(2, 16)).unwrap();
    let cs = opq.code_size();
    let mut codes = vec![0u8; n * cs];
    assert!(opq.encode(&x, &mut codes[1..]).unwrap_err().to_string().contains("codes has length"));
    opq.encode(&x, &mut codes).unwrap();
    let mut out = vec![0f32; n * d - 1];
    assert!(opq.decode(&codes, &mut out).is_err());
    let mut nanq = x[..d].to_vec();
    nanq[2] = f32::NAN;
    let (mut dd, mut ll) = (vec![0f32; 3], vec![0i64; 3]);
    assert!(opq.search(&nanq, &codes, 3, &mut dd, &mut ll).unwrap_err().to_string().contains("element 2"));
    assert!(opq.search(&x[..d], &codes, 0, &mut dd, &mut ll).is_err());
    let mut dist = vec![0f32; n];
    assert!(opq.distances(&x[..d - 1], &codes, &mut dist).unwrap_err().to_string().contains("query"));
    assert!(opq.rotate(&x, &mut [0f32; 5]).is_err());
}

/// A finite query whose rotation overflows f32 (norm near `f32::MAX`) is refused before any
/// result is written, even when earlier queries (other blocks) rotate fine; a query of the
/// same norm that rotates finite is searched.
#[test]
fn a_query_whose_rotation_overflows_is_refused_before_anything_is_written() {
    // 45° in the plane: (3e38, 3e38) rotates to (0, 4.2e38 = inf); (3e38, 0) to (2.1e38, 2.1e38).
    let c = std::f32::consts::FRAC_1_SQRT_2;
    let pq = ProductQuantizer::from_centroids(2, 1, 2, vec![0.0, 0.0, 1.0, 1.0]).unwrap();
    let opq = OpqQuantizer::from_parts(2, vec![c, -c, c, c], pq).unwrap();
    let codes = [0u8, 1, 0];
    // 40 queries: the overflowing one last, past the first rotated block.
    let mut queries: Vec<f32> = (0..39 * 2).map(|i| i as f32).collect();
    queries.extend([3e38, 3e38]);
    let (mut d, mut l) = (vec![7f32; 40 * 2], vec![7i64; 40 * 2]);
    let err = opq.search(&queries, &codes, 2, &mut d, &mut l).unwrap_err().to_string();
    assert!(err.contains("rotated queries") && err.contains(&format!("element {}", 39 * 2 + 1)), "{err}");
    assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "results written");
    opq.check_rotations(&[3e38, 0.0]).unwrap();
    let n = queries.len();
    queries[n - 1] = 0.0;
    opq.search(&queries, &codes, 2, &mut d, &mut l).unwrap();
}
