//! Product quantization: encode is the brute-force nearest centroid (ties to the lower
//! index) at every SIMD level, ADC equals the distance to the decoded vector, uneven
//! sub-spaces, the three code layouts, search against a sort, and bad input.

mod common;
use common::floats;
use vq::codes::CodeLayout;
use vq::simd::{available, with_level};
use vq::{reference, PqParams, ProductQuantizer, Quantizer};

fn small_params(m: usize, ksub: usize) -> PqParams {
    let mut p = PqParams::new(m, ksub);
    p.kmeans.max_iter = 8;
    p
}

/// For each sub-vector, the exact (f64) distance to every centroid of its sub-space.
fn exact_distances(pq: &ProductQuantizer, x: &[f32]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for row in x.chunks_exact(pq.dim()) {
        for i in 0..pq.m() {
            let (off, ds) = pq.subspace(i);
            out.push(pq.sub_centroids(i).chunks_exact(ds).map(|c| reference::l2sq(&row[off..off + ds], c)).collect());
        }
    }
    out
}

fn sub_code(pq: &ProductQuantizer, code: &[u8], i: usize) -> usize {
    match pq.layout() {
        CodeLayout::Nibble => ((code[i / 2] >> if i.is_multiple_of(2) { 4 } else { 0 }) & 0xF) as usize,
        CodeLayout::Byte => code[i] as usize,
        CodeLayout::U16 => u16::from_le_bytes([code[2 * i], code[2 * i + 1]]) as usize,
    }
}

#[test]
fn encode_is_the_nearest_centroid_at_every_level() {
    for (d, m, ksub) in [(65, 8, 16), (64, 8, 256), (33, 5, 300), (17, 17, 4), (128, 3, 7)] {
        let n = 600.max(ksub);
        let x = floats(n * d, d as u64, 1.0);
        let pq = ProductQuantizer::train(d, &x, &small_params(m, ksub)).unwrap();
        let probe = floats(50 * d, 99, 1.2);
        let exact = exact_distances(&pq, &probe);
        for &level in available() {
            let mut codes = vec![0xFFu8; 50 * pq.code_size()];
            with_level(level, || pq.encode(&probe, &mut codes)).unwrap().unwrap();
            for (v, code) in codes.chunks_exact(pq.code_size()).enumerate() {
                for i in 0..m {
                    // The chosen centroid is the nearest up to float rounding of a sum of ds terms.
                    let dist = &exact[v * m + i];
                    let best = dist.iter().cloned().fold(f64::INFINITY, f64::min);
                    let got = dist[sub_code(&pq, code, i)];
                    let ds = pq.subspace(i).1;
                    let tol = reference::tolerance(ds, 4.0 * (best + 1.0));
                    assert!(got <= best + tol, "{level} d={d} m={m} ksub={ksub} v={v} i={i}: {got} vs {best}");
                }
            }
        }
    }
}

#[test]
fn ties_go_to_the_lower_centroid() {
    // Centroids 0 and 2 are equal: the point at them must get 0; centroid 1 is elsewhere.
    let cents = vec![1.0, 1.0, 5.0, 5.0, 1.0, 1.0];
    let pq = ProductQuantizer::from_centroids(2, 1, 3, cents).unwrap();
    for &level in available() {
        let mut code = [0u8; 1];
        with_level(level, || pq.encode(&[1.0, 1.0], &mut code)).unwrap().unwrap();
        assert_eq!(code[0] >> 4, 0, "{level:?}");
    }
    // Codebooks that end inside a register of every level, with many equal centroids and
    // small-integer coordinates (every distance exact): each sub-code is the lowest index
    // among the nearest, for 1 to 9 vectors (the encoder's four-vector and one-vector paths).
    for ksub in [3, 17, 33, 65, 100, 300] {
        let (d, m) = (6, 2);
        let cents: Vec<f32> = (0..ksub * d).map(|i| ((i * 7 / 3) % 5) as f32 - 2.0).collect();
        let pq = ProductQuantizer::from_centroids(d, m, ksub, cents).unwrap();
        let x: Vec<f32> = (0..9 * d).map(|i| ((i * 11) % 7) as f32 - 3.0).collect();
        for n in [1, 4, 5, 9] {
            let x = &x[..n * d];
            let want: Vec<Vec<usize>> = x
                .chunks_exact(d)
                .map(|v| {
                    (0..m)
                        .map(|i| {
                            let sub = pq.sub_centroids(i);
                            let ds = sub.len() / ksub;
                            let dist = |c: usize| -> f32 {
                                sub[c * ds..(c + 1) * ds].iter().zip(&v[i * ds..]).map(|(a, b)| (a - b) * (a - b)).sum()
                            };
                            (0..ksub).fold(0, |b, c| if dist(c) < dist(b) { c } else { b })
                        })
                        .collect()
                })
                .collect();
            for &level in available() {
                let mut codes = vec![0u8; n * pq.code_size()];
                with_level(level, || pq.encode(x, &mut codes)).unwrap().unwrap();
                let got: Vec<Vec<usize>> =
                    codes.chunks_exact(pq.code_size()).map(|c| (0..m).map(|i| sub_code(&pq, c, i)).collect()).collect();
                assert_eq!(got, want, "{level:?} ksub {ksub} n {n}");
            }
        }
    }
}

#[test]
fn adc_equals_distance_to_the_decoded_vector_and_search_is_its_sort() {
    for (d, m, ksub) in [(65, 8, 16), (48, 6, 256), (30, 4, 1000)] {
        let n = 1200;
        let x = floats(n * d, 7 + d as u64, 1.0);
        let pq = ProductQuantizer::train(d, &x, &small_params(m, ksub)).unwrap();
        let mut codes = vec![0u8; n * pq.code_size()];
        pq.encode(&x, &mut codes).unwrap();
        let cs = pq.code_size();
        codes.copy_within(0..5 * cs, (n - 5) * cs); // equal codes: ties
        let mut rec = vec![0.0; n * d];
        pq.decode(&codes, &mut rec).unwrap();
        let queries = floats(3 * d, 8, 1.0);
        for &level in available() {
            for q in queries.chunks_exact(d) {
                let mut table = vec![0.0; m * ksub];
                with_level(level, || pq.distance_table(q, &mut table)).unwrap().unwrap();
                let mut adc = vec![0.0; n];
                pq.adc_scan(&table, &codes, &mut adc).unwrap();
                for (i, r) in rec.chunks_exact(d).enumerate() {
                    let want = reference::l2sq(q, r);
                    let scale: f64 = q.iter().zip(r).map(|(&a, &b)| (a.abs() as f64 + b.abs() as f64).powi(2)).sum();
                    assert!((adc[i] as f64 - want).abs() <= reference::tolerance(d + m, scale), "{level} row {i}");
                }
                let mut all = vec![0.0; n];
                with_level(level, || pq.distances(q, &codes, &mut all)).unwrap().unwrap();
                assert_eq!(all, adc);
                let k = 20;
                let (mut dist, mut lab) = (vec![0.0; k], vec![0i64; k]);
                with_level(level, || pq.search(q, &codes, k, &mut dist, &mut lab)).unwrap().unwrap();
                let want = reference::top_k(&adc, k);
                for (r, &(wd, wi)) in want.iter().enumerate() {
                    assert_eq!((dist[r], lab[r]), (wd, wi as i64), "{level} rank {r}");
                }
            }
        }
    }
}

#[test]
fn uneven_subspaces_and_layouts() {
    let x = floats(300 * 65, 3, 1.0);
    let pq = ProductQuantizer::train(65, &x, &small_params(8, 16)).unwrap();
    // 65 = 8·8 + 1: the first sub-space has 9 dimensions, the others 8.
    let spaces: Vec<_> = (0..8).map(|i| pq.subspace(i)).collect();
    assert_eq!(spaces[0], (0, 9));
    assert_eq!(spaces[1], (9, 8));
    assert_eq!(spaces[7], (57, 8));
    assert_eq!(pq.centroids().len(), 16 * 65);
    // Decoding then encoding a code gives it back (each sub-vector is exactly a centroid).
    let mut codes = vec![0u8; 300 * pq.code_size()];
    pq.encode(&x, &mut codes).unwrap();
    let mut rec = vec![0.0; x.len()];
    pq.decode(&codes, &mut rec).unwrap();
    let mut again = vec![0u8; codes.len()];
    pq.encode(&rec, &mut again).unwrap();
    assert_eq!(codes, again);
    // Code sizes and compression ratios: d = 128 with m = 8: 64× at 256 centroids, 32× at 512.
    let x = floats(600 * 128, 4, 1.0);
    for (m, ksub, size, width) in
        [(8, 256, 8, CodeLayout::Byte), (8, 512, 16, CodeLayout::U16), (5, 16, 3, CodeLayout::Nibble)]
    {
        let pq = ProductQuantizer::train(128, &x, &small_params(m, ksub)).unwrap();
        assert_eq!((pq.code_size(), pq.layout()), (size, width));
        assert_eq!(pq.compression_ratio(), 512.0 / size as f64);
    }
    // An odd m with nibbles leaves the last low nibble zero.
    let pq = ProductQuantizer::train(128, &x, &small_params(5, 16)).unwrap();
    let mut c = vec![0u8; 600 * 3];
    pq.encode(&x, &mut c).unwrap();
    assert!(c.chunks_exact(3).all(|code| code[2] & 0xF == 0));
}

/// The batch search (queries in groups of one per register lane, interleaved tables, the
/// heap check in the scan) returns exactly what one query at a time returns, and both are
/// the sorted ADC distances: every level, every layout, group sizes around the lane counts
/// (1, 4, 8, 16), ties between equal codes, fewer codes than k, and a caller buffer.
#[test]
fn batch_search_equals_one_query_at_a_time() {
    for (d, m, ksub) in [(65, 8, 16), (48, 6, 256), (30, 4, 1000), (33, 33, 20)] {
        let n = 1203;
        let x = floats(n * d, 11 + d as u64, 1.0);
        let pq = ProductQuantizer::train(d, &x, &small_params(m, ksub)).unwrap();
        let mut codes = vec![0u8; n * pq.code_size()];
        pq.encode(&x, &mut codes).unwrap();
        let cs = pq.code_size();
        codes.copy_within(0..40 * cs, (n - 40) * cs); // equal codes: ties to the lower id
        let queries = floats(37 * d, 12, 1.0);
        for &level in available() {
            for (nq, k, rows) in [(2, 10, n), (5, 7, n), (17, 10, n), (37, 32, n), (9, 20, 13)] {
                let (qs, cd) = (&queries[..nq * d], &codes[..rows * cs]);
                let (mut dist, mut lab) = (vec![0.0; nq * k], vec![0i64; nq * k]);
                with_level(level, || pq.search(qs, cd, k, &mut dist, &mut lab)).unwrap().unwrap();
                let mut table = vec![0.0; pq.search_table_len()];
                let (mut dist2, mut lab2) = (vec![0.0; nq * k], vec![0i64; nq * k]);
                with_level(level, || pq.search_with_table(&mut table, qs, cd, k, &mut dist2, &mut lab2))
                    .unwrap()
                    .unwrap();
                assert_eq!((&dist, &lab), (&dist2, &lab2), "{level} {m}x{ksub} nq {nq}: caller buffer");
                let mut one_table = vec![0.0; m * ksub];
                for (qi, q) in qs.chunks_exact(d).enumerate() {
                    let (mut d1, mut l1) = (vec![0.0; k], vec![0i64; k]);
                    with_level(level, || pq.search_with_table(&mut one_table, q, cd, k, &mut d1, &mut l1))
                        .unwrap()
                        .unwrap();
                    let at = qi * k..(qi + 1) * k;
                    assert_eq!((&dist[at.clone()], &lab[at]), (&d1[..], &l1[..]), "{level} {m}x{ksub} query {qi}");
                    let mut adc = vec![0.0; rows];
                    with_level(level, || pq.distances(q, cd, &mut adc)).unwrap().unwrap();
                    let want = reference::top_k(&adc, k);
                    for (r, &(wd, wi)) in want.iter().enumerate() {
                        assert_eq!((d1[r], l1[r]), (wd, wi as i64), "{level} {m}x{ksub} query {qi} rank {r}");
                    }
                    for r in want.len()..k {
                        assert_eq!((d1[r], l1[r]), (f32::INFINITY, -1), "sentinel past {rows} codes");
                    }
                }
            }
        }
    }
}

/// One query searched through its quantized table (8-bit codes of 256 centroids looked up
/// in registers) returns exactly what the plain scan of the float table returns (a caller
/// buffer of `m·ksub` floats takes it), and both are the sorted ADC distances: every level,
/// every metric, widths around the kernels' groups, code counts around the blocks and the
/// threshold below which the plain scan runs, ties between equal codes, and k past the
/// codes; 16-bit codes, which always scan plainly, alike.
#[test]
fn one_query_through_the_quantized_table_is_the_plain_scan() {
    use vq::Metric;
    let cases = [(64, 8, 256), (48, 48, 256), (70, 35, 256), (32, 4, 300), (16, 2, 65536)];
    for (d, m, ksub) in cases {
        let centroids = floats(ksub * d, 40 + m as u64, 1.0);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            let pq = ProductQuantizer::from_centroids(d, m, ksub, centroids.clone()).unwrap().with_metric(metric);
            let n = 3001;
            let x = floats(n * d, 41 + d as u64, 1.0);
            let mut codes = vec![0u8; n * pq.code_size()];
            pq.encode(&x, &mut codes).unwrap();
            let cs = pq.code_size();
            codes.copy_within(0..64 * cs, (n - 64) * cs); // equal codes: ties to the lower id
            let queries = floats(4 * d, 42, 1.0);
            for &level in available() {
                for (rows, k) in [(n, 10), (n, 1), (1023, 10), (1024, 10), (1089, 100), (1100, 1200)] {
                    let cd = &codes[..rows * cs];
                    for (qi, q) in queries.chunks_exact(d).enumerate() {
                        let (mut d1, mut l1) = (vec![0.0; k], vec![0i64; k]);
                        with_level(level, || pq.search(q, cd, k, &mut d1, &mut l1)).unwrap().unwrap();
                        let mut plain = vec![0.0; m * ksub];
                        let (mut d2, mut l2) = (vec![0.0; k], vec![0i64; k]);
                        with_level(level, || pq.search_with_table(&mut plain, q, cd, k, &mut d2, &mut l2))
                            .unwrap()
                            .unwrap();
                        let bits = |d: &[f32]| d.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        let at = format!("{level} {m}x{ksub} {metric:?} rows {rows} k {k} query {qi}");
                        assert_eq!((bits(&d1), &l1), (bits(&d2), &l2), "{at}");
                        let mut own = vec![0.0; pq.search_table_len()];
                        let (mut d3, mut l3) = (vec![0.0; k], vec![0i64; k]);
                        with_level(level, || pq.search_with_table(&mut own, q, cd, k, &mut d3, &mut l3))
                            .unwrap()
                            .unwrap();
                        assert_eq!((bits(&d1), &l1), (bits(&d3), &l3), "{at}: search_table_len");
                        let mut adc = vec![0.0; rows];
                        with_level(level, || pq.distances(q, cd, &mut adc)).unwrap().unwrap();
                        if metric == Metric::L2 {
                            let want = reference::top_k(&adc, k);
                            let got: Vec<(f32, i64)> =
                                d1.iter().copied().zip(l1.iter().copied()).take(want.len()).collect();
                            let want: Vec<(f32, i64)> = want.iter().map(|&(wd, wi)| (wd, wi as i64)).collect();
                            assert_eq!(got, want, "{at}: the ADC top-k");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn bad_input_names_the_value() {
    let x = floats(100 * 8, 5, 1.0);
    let e = ProductQuantizer::train(8, &x, &small_params(0, 16)).unwrap_err().to_string();
    assert!(e.contains("m (sub-quantizers)"), "{e}");
    let e = ProductQuantizer::train(8, &x, &small_params(9, 16)).unwrap_err().to_string();
    assert!(e.contains("9 for dimension 8"), "{e}");
    let e = ProductQuantizer::train(8, &x, &small_params(2, 1)).unwrap_err().to_string();
    assert!(e.contains("2..=65536"), "{e}");
    assert!(ProductQuantizer::train(8, &x, &small_params(2, 65537)).is_err());
    let e = ProductQuantizer::train(8, &x, &small_params(2, 101)).unwrap_err().to_string();
    assert!(e.contains("100 rows") && e.contains("ksub = 101"), "{e}");
    assert!(PqParams::with_nbits(2, 17).is_err());
    assert_eq!(PqParams::with_nbits(2, 12).unwrap().ksub, 4096);
    let pq = ProductQuantizer::train(8, &x, &small_params(2, 16)).unwrap();
    let mut codes = vec![0u8; 3];
    assert!(pq.encode(&x[..16], &mut codes).is_err());
    assert!(pq.distance_table(&x[..8], &mut [0.0; 31]).is_err());
    assert!(pq.adc_scan(&[0.0; 32], &[0u8; 3], &mut [0.0; 2]).is_err());
    let (mut d, mut l) = ([0.0f32; 4], [0i64; 4]);
    assert!(pq.search(&x[..8], &[0u8; 4], 0, &mut d, &mut l).is_err());
    let e = pq.search_with_table(&mut [0.0; 33], &x[..8], &[0u8; 4], 2, &mut d[..2], &mut l[..2]).unwrap_err();
    assert!(e.to_string().contains("33 (m·ksub = 32"), "{e}");
    // A u16 code at or above ksub (300) is rejected by decode, leaving the output untouched.
    let pq = ProductQuantizer::train(8, &floats(400 * 8, 7, 1.0), &small_params(2, 300)).unwrap();
    let mut out = [7.0f32; 8];
    let e = pq.decode(&[0, 0, 0x2C, 0x01], &mut out).unwrap_err().to_string();
    assert!(e.contains("300 in code 0, sub-quantizer 1"), "{e}");
    assert_eq!(out, [7.0; 8]);
    assert!(pq.decode(&[0, 0, 0x2B, 0x01], &mut out).is_ok());
}

#[cfg(feature = "parallel")]
#[test]
fn training_is_identical_for_any_thread_count() {
    let x = floats(3000 * 24, 6, 1.0);
    let mut p = small_params(4, 64);
    p.kmeans.threads = 1;
    let one = ProductQuantizer::train(24, &x, &p).unwrap();
    p.kmeans.threads = 2;
    assert_eq!(one, ProductQuantizer::train(24, &x, &p).unwrap());
}

/// Thread counts below, at and above `m` take both splits (sub-quantizers over threads,
/// threads inside each k-means); uneven sub-spaces (37 = 5·7 + 2) give the sub-quantizers
/// unequal work. The hook runs once per sub-quantizer whatever the split.
#[test]
fn training_is_identical_over_sub_quantizers_on_uneven_sub_spaces() {
    use std::sync::Mutex;
    let (base, _) = vq::synthetic::gaussian_demo(700, 37, 0, 5);
    let mut p = PqParams::new(5, 32);
    p.kmeans.max_iter = 6;
    p.kmeans.hartigan_passes = 2;
    p.kmeans.threads = 1;
    let one = ProductQuantizer::train(37, &base, &p).unwrap();
    for threads in [1, 2, 3, 8] {
        p.kmeans.threads = threads;
        let done = Mutex::new(Vec::new());
        let got = ProductQuantizer::train_with_progress(37, &base, &p, &|i| done.lock().unwrap().push(i)).unwrap();
        assert_eq!(got, one, "threads = {threads}");
        let mut done = done.into_inner().unwrap();
        done.sort_unstable();
        assert_eq!(done, [0, 1, 2, 3, 4], "threads = {threads}");
    }
    // Too few rows: the library's own error, before any sub-quantizer trains.
    p.kmeans.threads = 2;
    let calls = Mutex::new(0);
    let err =
        ProductQuantizer::train_with_progress(37, &base[..37 * 10], &p, &|_| *calls.lock().unwrap() += 1).unwrap_err();
    assert!(err.to_string().contains("training rows"), "{err}");
    assert_eq!(*calls.lock().unwrap(), 0);
}

#[cfg(feature = "parallel")]
#[test]
fn parallel_encode_equals_serial_encode() {
    let (d, n) = (40, 5000);
    let x = floats(n * d, 9, 1.0);
    for (m, ksub) in [(8, 256), (5, 16), (4, 300)] {
        let pq = ProductQuantizer::train(d, &x, &small_params(m, ksub)).unwrap();
        let mut serial = vec![0u8; n * pq.code_size()];
        pq.encode(&x, &mut serial).unwrap();
        for threads in [1, 2, 0] {
            let mut par = vec![0xAAu8; n * pq.code_size()];
            pq.encode_parallel(&x, &mut par, threads).unwrap();
            assert_eq!(serial, par, "{m}x{ksub}, {threads} threads");
        }
        assert!(pq.encode_parallel(&x[..d + 1], &mut serial, 2).is_err());
    }
}

/// A hot start continues a training: 4 iterations from a 4-iteration codebook are the 8
/// iterations of one training (the same sample, seeded alike; no early stop), on any thread
/// count; a start of another shape is refused.
#[test]
fn training_from_a_codebook_continues_it() {
    let x = floats(2000 * 20, 8, 1.0);
    let mut p = PqParams::new(5, 32);
    p.kmeans.max_points_per_centroid = 40;
    p.kmeans.max_iter = 8;
    let whole = ProductQuantizer::train(20, &x, &p).unwrap();
    p.kmeans.max_iter = 4;
    let half = ProductQuantizer::train(20, &x, &p).unwrap();
    assert_ne!(half, whole, "four more iterations move the centroids");
    for threads in [1, 2, 3] {
        p.kmeans.threads = threads;
        assert_eq!(ProductQuantizer::train_from(20, &x, &p, &half).unwrap(), whole, "{threads} threads");
    }
    let other = ProductQuantizer::train(20, &x, &PqParams::new(4, 32)).unwrap();
    let err = ProductQuantizer::train_from(20, &x, &p, &other).unwrap_err().to_string();
    assert!(err.contains("start quantizer") && err.contains("m 4") && err.contains("same dim, m and ksub"), "{err}");
}
