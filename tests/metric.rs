//! Inner product and cosine in every search of the crate, at every SIMD level, against f64
//! oracles over the decoded codes: exact `knn_with_metric`, the scalar and product
//! quantizers' `distances` and `search`, cosine's normalization, and the metric's trip
//! through a model file. The data's norms vary (rows scaled by factors in 0.5..2), so the
//! three metrics rank differently and a metric mixed up anywhere shows.

mod common;
use common::floats;
use vq::metric::{inv_norm, normalize_rows};
use vq::search::knn_with_metric;
use vq::simd::{available, with_level};
use vq::{Metric, OpqParams, OpqQuantizer, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

/// `n` rows of `d` floats, each scaled by its own factor in 0.5..2.
fn varied(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let mut x = floats(n * d, seed, 1.0);
    let f = floats(n, seed + 1, 0.75);
    for (row, f) in x.chunks_exact_mut(d).zip(f) {
        row.iter_mut().for_each(|v| *v *= 1.25 + f);
    }
    x
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// The oracle's score of `x` for `q` and a bound on the f32 kernel's error.
fn oracle(metric: Metric, q: &[f32], x: &[f32]) -> (f64, f64) {
    let d = q.len() as f64;
    let abs: f64 = q.iter().zip(x).map(|(&a, &b)| (a as f64 * b as f64).abs()).sum();
    match metric {
        Metric::L2 => {
            let s: f64 = q.iter().zip(x).map(|(&a, &b)| (a as f64 - b as f64).powi(2)).sum();
            let scale: f64 = q.iter().zip(x).map(|(&a, &b)| (a.abs() as f64 + b.abs() as f64).powi(2)).sum();
            (s, (d + 8.0) * f32::EPSILON as f64 * scale + 1e-30)
        }
        Metric::InnerProduct => (dot(q, x), (d + 8.0) * f32::EPSILON as f64 * abs + 1e-30),
        _ => {
            let s = inv_norm(q) as f64;
            (dot(q, x) * s, (d + 8.0) * f32::EPSILON as f64 * abs * s + 1e-30)
        }
    }
}

/// Checks `got` (a search's `k` results for one query) against `all` (the kernel's scores of
/// every row, already checked against the oracle): best first, each score the row's own,
/// and no row left out that beats the last one kept.
fn check_top_k(metric: Metric, all: &[f32], got_d: &[f32], got_l: &[i64], tol: f32, what: &str) {
    let better = |a: f32, b: f32| if metric.larger_is_better() { a > b } else { a < b };
    for w in got_d.windows(2) {
        assert!(!better(w[1], w[0]), "{what}: not sorted best first: {got_d:?}");
    }
    for (&d, &l) in got_d.iter().zip(got_l) {
        assert!(l >= 0, "{what}: a sentinel among {} rows", all.len());
        let own = all[l as usize];
        assert!((d - own).abs() <= tol * (1.0 + own.abs()), "{what}: row {l} reported {d}, scored {own}");
    }
    let last = *got_d.last().unwrap();
    for (i, &s) in all.iter().enumerate() {
        if !got_l.contains(&(i as i64)) {
            assert!(
                !better(s, last + if metric.larger_is_better() { tol } else { -tol }),
                "{what}: row {i} ({s}) beats the last kept ({last})"
            );
        }
    }
}

/// `distances` against the oracle over the decoded codes, and `search` against
/// `distances`, at every level, from unaligned copies of the queries and codes.
fn check_quantizer(quant: &dyn Quantizer, x: &[f32], queries: &[f32], k: usize, what: &str) {
    let (d, cs, metric) = (quant.dim(), quant.code_size(), quant.metric());
    let n = x.len() / d;
    let nq = queries.len() / d;
    let mut codes = vec![0u8; n * cs];
    quant.encode(x, &mut codes).unwrap();
    let mut rec = vec![0f32; n * d];
    quant.decode(&codes, &mut rec).unwrap();
    // One element off: neither slice starts where an allocation does.
    let mut cbuf = vec![0u8; codes.len() + 1];
    cbuf[1..].copy_from_slice(&codes);
    let mut qbuf = vec![0f32; queries.len() + 1];
    qbuf[1..].copy_from_slice(queries);
    let (codes_u, queries_u) = (&cbuf[1..], &qbuf[1..]);
    let big = rec.iter().fold(0f64, |a, &v| a.max(v.abs() as f64));
    for &level in available() {
        let mut all = vec![vec![0f32; n]; nq];
        for (q, out) in queries_u.chunks_exact(d).zip(&mut all) {
            with_level(level, || quant.distances(q, codes_u, out)).unwrap().unwrap();
            // SQ kernels reconstruct `code·step + base` fused, decode does not: a term may
            // move by an ulp of `|code·step| + |base|`, up to twice the largest value.
            let qabs: f64 = q.iter().map(|v| v.abs() as f64).sum();
            let recon = 8.0 * f32::EPSILON as f64 * qabs * big * inv_norm(q) as f64;
            for (i, &g) in out.iter().enumerate() {
                let (want, tol) = oracle(metric, q, &rec[i * d..(i + 1) * d]);
                let tol = tol + if metric == Metric::Cosine { recon } else { recon / inv_norm(q) as f64 };
                assert!((g as f64 - want).abs() <= tol, "{what} at {level}: row {i} scored {g}, oracle {want} ± {tol}");
            }
        }
        let (mut dist, mut labels) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        with_level(level, || quant.search(queries_u, codes_u, k, &mut dist, &mut labels)).unwrap().unwrap();
        for (qi, (dq, lq)) in dist.chunks_exact(k).zip(labels.chunks_exact(k)).enumerate() {
            check_top_k(metric, &all[qi], dq, lq, 1e-5, &format!("{what} at {level}, query {qi}"));
        }
        // One query alone takes the other search path.
        let (mut d1, mut l1) = (vec![0f32; k], vec![0i64; k]);
        with_level(level, || quant.search(&queries_u[..d], codes_u, k, &mut d1, &mut l1)).unwrap().unwrap();
        check_top_k(metric, &all[0], &d1, &l1, 1e-5, &format!("{what} at {level}, one query"));
    }
}

#[test]
fn scalar_quantizers_search_by_inner_product_and_cosine_at_every_level() {
    for d in [1, 7, 33, 64] {
        let (x, q) = (varied(300, d, d as u64), varied(9, d, 100 + d as u64));
        for bits in [SqBits::B4, SqBits::B8, SqBits::B16] {
            for metric in [Metric::InnerProduct, Metric::Cosine] {
                let sq = ScalarQuantizer::train_for(metric, bits, d, &x).unwrap();
                assert_eq!(sq.metric(), metric);
                check_quantizer(&sq, &x, &q, 10, &format!("SQ{} {metric} d={d}", bits.bits()));
            }
        }
    }
}

#[test]
fn product_quantizers_search_by_inner_product_and_cosine_at_every_level() {
    for (d, m, ksub) in [(16, 4, 16), (37, 5, 32), (24, 3, 256), (10, 2, 300)] {
        let (x, q) = (varied(1200, d, d as u64 + 7), varied(18, d, 200 + d as u64));
        for metric in [Metric::InnerProduct, Metric::Cosine] {
            let mut p = PqParams::new(m, ksub);
            p.kmeans.max_iter = 4;
            p.metric = metric;
            let pq = ProductQuantizer::train(d, &x, &p).unwrap();
            assert_eq!(pq.metric(), metric);
            check_quantizer(&pq, &x, &q, 10, &format!("PQ m={m} ksub={ksub} {metric} d={d}"));
            // The batch path (interleaved tables) and one query at a time give the same bits.
            let mut codes = vec![0u8; 1200 * pq.code_size()];
            pq.encode(&x, &mut codes).unwrap();
            let (mut db, mut lb) = (vec![0f32; 18 * 10], vec![0i64; 18 * 10]);
            let (mut d1, mut l1) = (db.clone(), lb.clone());
            let mut big = vec![0f32; pq.search_table_len()];
            let mut one = vec![0f32; m * ksub];
            pq.search_with_table(&mut big, &q, &codes, 10, &mut db, &mut lb).unwrap();
            pq.search_with_table(&mut one, &q, &codes, 10, &mut d1, &mut l1).unwrap();
            assert_eq!(lb, l1, "{metric} m={m}");
            assert_eq!(
                db.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                d1.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            // The public table sums to what `distances` reports.
            let mut table = vec![0f32; m * ksub];
            pq.distance_table(&q[..d], &mut table).unwrap();
            let (mut via_table, mut direct) = (vec![0f32; 1200], vec![0f32; 1200]);
            pq.adc_scan(&table, &codes, &mut via_table).unwrap();
            pq.distances(&q[..d], &codes, &mut direct).unwrap();
            for (a, b) in via_table.iter().zip(&direct) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{metric}: table sum {a}, distances {b}");
            }
        }
    }
}

#[test]
fn opq_searches_by_its_inner_pq_metric() {
    let (d, n) = (24, 1500);
    let (x, q) = (varied(n, d, 41), varied(6, d, 42));
    for metric in [Metric::InnerProduct, Metric::Cosine] {
        let mut p = OpqParams::new(4, 16);
        (p.niter, p.niter_pq_0, p.metric) = (3, 5, metric);
        let opq = OpqQuantizer::train(d, &x, &p).unwrap();
        assert_eq!((opq.metric(), opq.pq().metric()), (metric, metric));
        check_quantizer(&opq, &x, &q, 8, &format!("OPQ {metric}"));
        let back = OpqQuantizer::from_parts(d, opq.rotation().to_vec(), opq.pq().clone()).unwrap();
        assert_eq!(back.metric(), metric);
    }
}

#[test]
fn cosine_encodes_the_unit_vectors() {
    let (d, n) = (29, 500);
    let mut x = varied(n, d, 5);
    x[3 * d..4 * d].fill(0.0); // a zero row stays zero
    let mut unit = x.clone();
    normalize_rows(d, &mut unit);
    let sq = ScalarQuantizer::train_for(Metric::Cosine, SqBits::B8, d, &x).unwrap();
    // Trained on the unit vectors: the same ranges as an L2 quantizer of them.
    let sq_unit = ScalarQuantizer::train(SqBits::B8, d, &unit).unwrap();
    assert_eq!((sq.vmin(), sq.vmax()), (sq_unit.vmin(), sq_unit.vmax()));
    let mut p = PqParams::new(4, 16);
    p.metric = Metric::Cosine;
    let pq = ProductQuantizer::train(d, &x, &p).unwrap();
    p.metric = Metric::L2;
    let pq_unit = ProductQuantizer::train(d, &unit, &p).unwrap();
    assert_eq!(pq.centroids(), pq_unit.centroids());
    for (cos, l2) in [(&sq as &dyn Quantizer, &sq_unit as &dyn Quantizer), (&pq, &pq_unit)] {
        for &level in available() {
            let mut a = vec![0u8; n * cos.code_size()];
            let mut b = a.clone();
            with_level(level, || cos.encode(&x, &mut a)).unwrap().unwrap();
            with_level(level, || l2.encode(&unit, &mut b)).unwrap().unwrap();
            assert_eq!(a, b, "{:?} at {level}", cos.metric());
        }
    }
    #[cfg(feature = "parallel")]
    {
        let mut a = vec![0u8; n * pq.code_size()];
        let mut b = a.clone();
        pq.encode_parallel(&x, &mut a, 2).unwrap();
        pq_unit.encode(&unit, &mut b).unwrap();
        assert_eq!(a, b);
    }
}

#[test]
fn exact_search_ranks_by_each_metric_and_both_paths_agree() {
    let (d, n) = (19, 700);
    let rows = varied(n, d, 11);
    let queries = varied(20, d, 12);
    let k = 12;
    let mut truths = Vec::new();
    for metric in Metric::ALL {
        let (mut dist, mut labels) = (vec![0f32; 20 * k], vec![0i64; 20 * k]);
        knn_with_metric(metric, d, &queries, &rows, k, &mut dist, &mut labels).unwrap();
        // Fewer than 16 queries score pair by pair; 16 or more run the matrix-product
        // filter. Both give the kernels' scores, bit for bit.
        let (mut ds, mut ls) = (vec![0f32; 5 * k], vec![0i64; 5 * k]);
        knn_with_metric(metric, d, &queries[..5 * d], &rows, k, &mut ds, &mut ls).unwrap();
        assert_eq!(&labels[..5 * k], &ls[..], "{metric}");
        assert_eq!(
            dist[..5 * k].iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            ds.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        let mut unit = rows.clone();
        if metric == Metric::Cosine {
            normalize_rows(d, &mut unit);
        }
        for (qi, q) in queries.chunks_exact(d).enumerate() {
            let all: Vec<f32> = unit.chunks_exact(d).map(|x| oracle(metric, q, x).0 as f32).collect();
            check_top_k(
                metric,
                &all,
                &dist[qi * k..(qi + 1) * k],
                &labels[qi * k..(qi + 1) * k],
                1e-5,
                &format!("knn {metric}"),
            );
        }
        truths.push(labels);
    }
    assert_ne!(truths[0], truths[1], "L2 and inner product rank alike: the norms do not vary");
    assert_ne!(truths[1], truths[2], "inner product and cosine rank alike");
    // Fewer rows than k: the similarities pad with −∞.
    let (mut dist, mut labels) = (vec![0f32; 2 * k], vec![0i64; 2 * k]);
    knn_with_metric(Metric::InnerProduct, d, &queries[..2 * d], &rows[..3 * d], k, &mut dist, &mut labels).unwrap();
    assert_eq!(&labels[3..k], &[-1; 9]);
    assert!(dist[3..k].iter().all(|&v| v == f32::NEG_INFINITY));
}

#[test]
fn model_files_keep_the_metric_and_l2_files_are_unchanged() {
    let (d, n) = (12, 400);
    let x = varied(n, d, 3);
    for metric in Metric::ALL {
        let sq = ScalarQuantizer::train_for(metric, SqBits::B8, d, &x).unwrap();
        let mut p = PqParams::new(3, 16);
        p.metric = metric;
        let pq = ProductQuantizer::train(d, &x, &p).unwrap();
        for bytes in [sq.to_bytes(), pq.to_bytes()] {
            let has = bytes.windows(4).any(|w| w == b"METR");
            assert_eq!(has, metric != Metric::L2, "{metric}: a METR section only for the similarities");
        }
        assert_eq!(ScalarQuantizer::from_bytes(&sq.to_bytes()).unwrap(), sq);
        let back = ProductQuantizer::from_bytes(&pq.to_bytes()).unwrap();
        assert_eq!(back.metric(), metric);
        assert_eq!(back, pq);
    }
    // An L2 model built as before metrics existed is byte for byte the same file.
    let pq = ProductQuantizer::from_centroids(d, 3, 16, floats(16 * d, 9, 1.0)).unwrap();
    assert_eq!(pq.to_bytes(), pq.clone().with_metric(Metric::L2).to_bytes());
    assert_ne!(pq, pq.clone().with_metric(Metric::Cosine), "the metric is part of a quantizer's identity");
}

#[test]
fn bad_metric_names_and_numbers_are_named() {
    let e = Metric::parse("hamming").unwrap_err().to_string();
    assert!(e.contains("hamming") && e.contains("l2") && e.contains("cosine"), "{e}");
    let e = Metric::from_number(7).unwrap_err().to_string();
    assert!(e.contains('7') && e.contains("cosine"), "{e}");
    for (s, m) in [("INNER_PRODUCT", Metric::InnerProduct), ("L2", Metric::L2), ("Cosine", Metric::Cosine)] {
        assert_eq!(s.parse::<Metric>().unwrap(), m);
    }
}
