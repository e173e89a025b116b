//! The OPQ calls of the C ABI give exactly the Rust library's results: `vq_opq_train` makes
//! the quantizer `vq::OpqQuantizer::train` makes under every metric (rotation, codebooks,
//! codes, decode, tables, distances, search), `vq_opq_from_parts` the one `from_parts`
//! makes with the PQ's metric, the views are the library's slices, model files are the
//! library's bytes; the borrowed `vq_opq_pq` view scans a `vq_opq_distance_table` table
//! into `vq_opq_distances`' scores; every bad input is refused with its status, a message
//! naming the value, and nothing written. (`tests/c/opq.c` checks the search against a
//! brute-force oracle in C.)

use common::{fails, last_error, same, view};
use std::ffi::CString;
use std::ptr;
use vq::format::{self, Model};
use vq::{Metric, OpqParams, OpqQuantizer, ProductQuantizer, Quantizer};
use vq_ffi::*;

mod common;

const D: usize = 12;
const N: usize = 300;

/// Rows whose variance falls off across the dimensions (dimension `j` scaled by
/// `1/(1 + j/3)`) and whose norms vary, so the rotation and the metrics matter.
fn data(n: usize, seed: u32) -> Vec<f32> {
    common::rows(n, D, seed, |j, scale, u| scale * (u - 0.5) / (1.0 + j as f32 / 3.0))
}

/// Small training settings, the same through the ABI (`c`) and the library (`rust`).
fn params(metric: Metric, d_out: usize) -> (vq_opq_params, OpqParams) {
    let mut c = vq_opq_params_default();
    (c.niter, c.niter_pq, c.niter_pq_0, c.d_out) = (4, 2, 6, d_out);
    c.kmeans.iterations = 5;
    c.kmeans.threads = 2; // the library's below runs on one: the result must not differ
    let mut rust = OpqParams::new(3, 16);
    (rust.niter, rust.niter_pq, rust.niter_pq_0) = (4, 2, 6);
    rust.d_out = (d_out != 0).then_some(d_out);
    rust.kmeans.max_iter = 5;
    rust.metric = metric;
    (c, rust)
}

/// The library's search results.
fn rust_search(q: &dyn Quantizer, queries: &[f32], codes: &[u8], k: usize) -> (Vec<f32>, Vec<i64>) {
    let nq = queries.len() / q.dim();
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    q.search(queries, codes, k, &mut d, &mut l).unwrap();
    (d, l)
}

/// `vq_opq_search` into fresh buffers.
///
/// # Safety
/// `h` is a live handle.
unsafe fn c_search(h: *const vq_opq, queries: &[f32], codes: &[u8], k: usize) -> (Vec<f32>, Vec<i64>) {
    // SAFETY: caller's contract.
    unsafe { common::search(vq_opq_search, h, queries, D, codes, k) }
}

/// The model file of a handle, through `vq_opq_serialized_size` and `vq_opq_save_buffer`.
///
/// # Safety
/// `h` is a live handle.
unsafe fn c_bytes(h: *const vq_opq) -> Vec<u8> {
    // SAFETY: caller's contract.
    unsafe { common::model_bytes(vq_opq_serialized_size, vq_opq_save_buffer, h) }
}

fn tmp(name: &str) -> CString {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("opq-tests");
    std::fs::create_dir_all(&dir).unwrap();
    CString::new(dir.join(name).to_str().unwrap()).unwrap()
}

#[test]
fn train_through_the_abi_is_the_library_s_under_every_metric() {
    let (x, queries) = (data(N, 1), data(20, 2));
    let k = 7;
    for (metric, d_out) in [(Metric::L2, D + 2), (Metric::InnerProduct, 0), (Metric::Cosine, D)] {
        let (cp, rp) = params(metric, d_out);
        let want = OpqQuantizer::train(D, &x, &rp).unwrap();
        let d_out = want.d_out();
        let cs = want.code_size();
        let mut codes = vec![0u8; N * cs];
        want.encode(&x, &mut codes).unwrap();
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut h = ptr::null_mut();
            assert_eq!(vq_opq_train(metric.number(), D, 3, 16, x.as_ptr(), x.len(), &cp, &mut h), vq_status::Ok);
            assert_eq!(
                (vq_opq_dim(h), vq_opq_d_out(h), vq_opq_m(h), vq_opq_ksub(h), vq_opq_code_size(h)),
                (D, d_out, 3, 16, cs)
            );
            assert_eq!(vq_opq_metric(h), metric.number());
            // The views are the library's arrays, bit for bit.
            let (mut r, mut rl, mut c, mut cl) = (ptr::null(), 0, ptr::null(), 0);
            assert_eq!(vq_opq_rotation(h, &mut r, &mut rl), vq_status::Ok);
            assert_eq!(vq_opq_centroids(h, &mut c, &mut cl), vq_status::Ok);
            assert_eq!((rl, cl), (d_out * D, 16 * d_out));
            assert!(same(view(r, rl), want.rotation()), "{metric}: rotation");
            assert!(same(view(c, cl), want.pq().centroids()), "{metric}: centroids");
            // Codes, decode, search, distances.
            let mut got = vec![0u8; codes.len()];
            assert_eq!(vq_opq_encode(h, x.as_ptr(), x.len(), got.as_mut_ptr(), got.len()), vq_status::Ok);
            assert_eq!(got, codes, "{metric}: codes");
            let mut dec = vec![0f32; N * D];
            let mut want_dec = vec![0f32; N * D];
            want.decode(&codes, &mut want_dec).unwrap();
            assert_eq!(vq_opq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
            assert!(same(&dec, &want_dec), "{metric}: decode");
            for nq in [1, 5, 20] {
                let q = &queries[..nq * D];
                let (wd, wl) = rust_search(&want, q, &codes, k);
                let (d, l) = c_search(h, q, &codes, k);
                assert!(same(&d, &wd) && l == wl, "{metric}: search of {nq} queries");
            }
            let q0 = &queries[..D];
            let (mut dist, mut want_dist) = (vec![0f32; N], vec![0f32; N]);
            want.distances(q0, &codes, &mut want_dist).unwrap();
            let s = vq_opq_distances(h, q0.as_ptr(), D, codes.as_ptr(), codes.len(), dist.as_mut_ptr(), N);
            assert_eq!(s, vq_status::Ok);
            assert!(same(&dist, &want_dist), "{metric}: distances");
            // The table is the inner PQ's of the library's rotated query.
            let mut rotated = vec![0f32; d_out];
            want.rotate(q0, &mut rotated).unwrap();
            let (mut table, mut want_table) = (vec![0f32; 3 * 16], vec![0f32; 3 * 16]);
            want.pq().distance_table(&rotated, &mut want_table).unwrap();
            assert_eq!(vq_opq_distance_table(h, q0.as_ptr(), D, table.as_mut_ptr(), table.len()), vq_status::Ok);
            assert!(same(&table, &want_table), "{metric}: distance table");
            // The same file, byte for byte, in memory and on disk.
            let bytes = want.to_bytes();
            assert_eq!(c_bytes(h), bytes, "{metric}: save_buffer");
            let path = tmp(&format!("train-{metric}.vqm"));
            assert_eq!(vq_opq_save(h, path.as_ptr()), vq_status::Ok);
            assert_eq!(std::fs::read(path.to_str().unwrap()).unwrap(), bytes, "{metric}: save");
            // The view's training record is the final PQ's k-means.
            let mut rec = vq_train_params_default();
            assert_eq!(vq_pq_train_params(vq_opq_pq(h), &mut rec), vq_status::Ok);
            assert_eq!((rec.iterations, rec.seed), (5, 1234));
            vq_opq_free(h);
        }
    }
}

#[test]
fn null_params_are_the_library_s_defaults() {
    let x = data(N, 3);
    let want = OpqQuantizer::train(D, &x, &OpqParams::new(4, 16)).unwrap();
    // SAFETY: every buffer holds the length passed with it; the handle is freed once.
    unsafe {
        let mut h = ptr::null_mut();
        let s = vq_opq_train(VQ_METRIC_L2, D, 4, 16, x.as_ptr(), x.len(), ptr::null(), &mut h);
        assert_eq!(s, vq_status::Ok);
        assert_eq!(c_bytes(h), want.to_bytes());
        vq_opq_free(h);
    }
}

#[test]
fn loads_give_the_same_quantizer_and_the_view_scans_as_distances() {
    let (x, queries) = (data(N, 4), data(17, 5));
    let (_, rp) = params(Metric::InnerProduct, D + 3);
    let want = OpqQuantizer::train(D, &x, &rp).unwrap();
    let bytes = want.to_bytes();
    let mut codes = vec![0u8; N * want.code_size()];
    want.encode(&x, &mut codes).unwrap();
    let k = 9;
    let (wd, wl) = rust_search(&want, &queries, &codes, k);
    let path = tmp("loads.vqm");
    want.save(std::path::Path::new(path.to_str().unwrap())).unwrap();
    // SAFETY: every buffer holds the length passed with it; handles are freed once.
    unsafe {
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(vq_opq_load_buffer(bytes.as_ptr(), bytes.len(), &mut a), vq_status::Ok);
        assert_eq!(vq_opq_load(path.as_ptr(), &mut b), vq_status::Ok);
        for h in [a, b] {
            assert_eq!(vq_opq_metric(h), VQ_METRIC_INNER_PRODUCT);
            assert_eq!(c_bytes(h), bytes, "a loaded quantizer writes the file it was read from");
            let (d, l) = c_search(h, &queries, &codes, k);
            assert!(same(&d, &wd) && l == wl);
        }
        // The borrowed PQ: the rotated space's quantizer, usable with the vq_pq calls.
        let pq = vq_opq_pq(a);
        assert!(!pq.is_null());
        assert_eq!((vq_pq_dim(pq), vq_pq_m(pq), vq_pq_ksub(pq)), (D + 3, 3, 16));
        assert_eq!((vq_pq_metric(pq), vq_pq_code_size(pq)), (VQ_METRIC_INNER_PRODUCT, want.code_size()));
        let (mut c, mut cl) = (ptr::null(), 0);
        assert_eq!(vq_pq_centroids(pq, &mut c, &mut cl), vq_status::Ok);
        assert!(same(view(c, cl), want.pq().centroids()));
        for (qi, q) in queries.chunks_exact(D).enumerate() {
            // vq_opq_distance_table + vq_pq_adc_scan on the view = vq_opq_distances, and the
            // search's scores are those of its labels.
            let mut table = vec![0f32; 3 * 16];
            assert_eq!(vq_opq_distance_table(a, q.as_ptr(), D, table.as_mut_ptr(), table.len()), vq_status::Ok);
            let (mut scan, mut dist) = (vec![0f32; N], vec![0f32; N]);
            let s = vq_pq_adc_scan(pq, table.as_ptr(), table.len(), codes.as_ptr(), codes.len(), scan.as_mut_ptr(), N);
            assert_eq!(s, vq_status::Ok);
            let s = vq_opq_distances(a, q.as_ptr(), D, codes.as_ptr(), codes.len(), dist.as_mut_ptr(), N);
            assert_eq!(s, vq_status::Ok);
            assert!(same(&scan, &dist), "query {qi}: scan vs distances");
            for (&label, &score) in wl[qi * k..(qi + 1) * k].iter().zip(&wd[qi * k..(qi + 1) * k]) {
                assert_eq!(scan[label as usize].to_bits(), score.to_bits(), "query {qi}, label {label}");
            }
            // vq_pq_search on the view takes rotated queries and finds the same neighbours.
            let mut rotated = vec![0f32; D + 3];
            want.rotate(q, &mut rotated).unwrap();
            let (mut d, mut l) = (vec![0f32; k], vec![0i64; k]);
            let s = vq_pq_search(
                pq,
                rotated.as_ptr(),
                D + 3,
                codes.as_ptr(),
                codes.len(),
                k,
                d.as_mut_ptr(),
                k,
                l.as_mut_ptr(),
                k,
            );
            assert_eq!(s, vq_status::Ok);
            assert!(same(&d, &wd[qi * k..(qi + 1) * k]) && l == wl[qi * k..(qi + 1) * k]);
        }
        // An OPQ made from the view's copy and the rotation is the same quantizer.
        let (mut r, mut rl) = (ptr::null(), 0);
        assert_eq!(vq_opq_rotation(a, &mut r, &mut rl), vq_status::Ok);
        let mut again = ptr::null_mut();
        assert_eq!(vq_opq_from_parts(D, r, rl, pq, &mut again), vq_status::Ok);
        vq_opq_free(a);
        vq_opq_free(b);
        assert_eq!(vq_opq_metric(again), VQ_METRIC_INNER_PRODUCT);
        assert_eq!(
            c_bytes(again),
            OpqQuantizer::from_parts(D, want.rotation().to_vec(), want.pq().clone()).unwrap().to_bytes()
        );
        let (d, l) = c_search(again, &queries, &codes, k);
        assert!(same(&d, &wd) && l == wl, "the copy outlives the handle it was made from");
        vq_opq_free(again);
    }
}

#[test]
fn search_with_table_of_either_length_is_search_bit_for_bit() {
    let (x, queries) = (data(N, 6), data(37, 7));
    let k = 5;
    let mut rp = OpqParams::new(4, 16);
    (rp.niter, rp.niter_pq, rp.niter_pq_0, rp.kmeans.max_iter) = (2, 1, 2, 2);
    let trained = OpqQuantizer::train(D, &x, &rp).unwrap();
    // m·ksub = 64: the PQ scans 16 queries per pass; m·ksub = 16400 (> 16383): one at a
    // time, whatever the table (its codebook, from parts, is arbitrary but valid).
    let cents: Vec<f32> = (0..8200 * D).map(|i| ((i * 7919) % 1013) as f32 / 1013.0 - 0.5).collect();
    let wide = ProductQuantizer::from_centroids(D, 2, 8200, cents).unwrap();
    let wide = OpqQuantizer::from_parts(D, trained.rotation().to_vec(), wide).unwrap();
    for (want, batched) in [(trained, true), (wide, false)] {
        let (m, ksub) = (want.pq().m(), want.pq().ksub());
        let mut codes = vec![0u8; N * want.code_size()];
        want.encode(&x, &mut codes).unwrap();
        let bytes = want.to_bytes();
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut h = ptr::null_mut();
            assert_eq!(vq_opq_load_buffer(bytes.as_ptr(), bytes.len(), &mut h), vq_status::Ok);
            let long = vq_opq_search_table_len(h);
            let pq_len = if batched { (m * ksub + 1) * 16 } else { m * ksub };
            assert_eq!((long, vq_pq_search_table_len(vq_opq_pq(h))), (16 * D + pq_len, pq_len));
            for nq in [1, 2, 16, 17, 37] {
                let q = &queries[..nq * D];
                let (wd, wl) = c_search(h, q, &codes, k);
                assert_eq!((wd.clone(), wl.clone()), rust_search(&want, q, &codes, k));
                for len in [long, D + m * ksub] {
                    let mut table = vec![0f32; len];
                    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                    let s = vq_opq_search_with_table(
                        h,
                        q.as_ptr(),
                        q.len(),
                        codes.as_ptr(),
                        codes.len(),
                        k,
                        table.as_mut_ptr(),
                        len,
                        d.as_mut_ptr(),
                        d.len(),
                        l.as_mut_ptr(),
                        l.len(),
                    );
                    assert_eq!(s, vq_status::Ok, "{}", last_error());
                    assert!(same(&d, &wd) && l == wl, "m {m} ksub {ksub}: {nq} queries, table of {len}");
                }
            }
            vq_opq_free(h);
        }
    }
}

/// A PQ of the given metric built through the ABI from the library's centroids.
///
/// # Safety
/// None beyond the ABI's: the returned handle must be freed once.
unsafe fn c_pq(metric: Metric, pq: &ProductQuantizer) -> *mut vq_pq {
    let c = pq.centroids();
    let mut h = ptr::null_mut();
    // SAFETY: a buffer of the stated length and a valid out-pointer.
    let s = unsafe {
        vq_pq_from_centroids_metric(metric.number(), pq.dim(), pq.m(), pq.ksub(), c.as_ptr(), c.len(), &mut h)
    };
    assert_eq!(s, vq_status::Ok);
    h
}

#[test]
fn from_parts_takes_the_metric_of_the_pq() {
    let (x, queries) = (data(N, 9), data(6, 10));
    let k = 8;
    let l2 = OpqQuantizer::train(D, &x, &params(Metric::L2, 0).1).unwrap();
    for metric in [Metric::InnerProduct, Metric::L2, Metric::Cosine] {
        let want = OpqQuantizer::from_parts(D, l2.rotation().to_vec(), l2.pq().clone().with_metric(metric)).unwrap();
        assert_eq!(want.metric(), metric);
        let mut codes = vec![0u8; N * want.code_size()];
        want.encode(&x, &mut codes).unwrap();
        let (wd, wl) = rust_search(&want, &queries, &codes, k);
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let pq = c_pq(metric, l2.pq());
            let mut h = ptr::null_mut();
            let r = l2.rotation();
            assert_eq!(vq_opq_from_parts(D, r.as_ptr(), r.len(), pq, &mut h), vq_status::Ok);
            vq_pq_free(pq); // copied: the OPQ does not need it
            assert_eq!(vq_opq_metric(h), metric.number());
            let mut got = vec![0u8; codes.len()];
            assert_eq!(vq_opq_encode(h, x.as_ptr(), x.len(), got.as_mut_ptr(), got.len()), vq_status::Ok);
            assert_eq!(got, codes);
            let (d, l) = c_search(h, &queries, &codes, k);
            assert!(same(&d, &wd) && l == wl, "{metric}");
            if metric == Metric::InnerProduct {
                // Inner product ranks largest first by q·x̂ (x̂ decoded in the input space),
                // which the rotation keeps up to rounding.
                let mut dec = vec![0f32; N * D];
                assert_eq!(vq_opq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
                for (qi, q) in queries.chunks_exact(D).enumerate() {
                    let ip = |i: i64| -> f64 {
                        let row = &dec[i as usize * D..(i as usize + 1) * D];
                        q.iter().zip(row).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum()
                    };
                    let (ds, ls) = (&d[qi * k..(qi + 1) * k], &l[qi * k..(qi + 1) * k]);
                    assert!(ds.windows(2).all(|w| w[0] >= w[1]), "descending: {ds:?}");
                    for (&label, &score) in ls.iter().zip(ds) {
                        assert!((f64::from(score) - ip(label)).abs() < 1e-5, "{score} vs {}", ip(label));
                    }
                    let kth = f64::from(ds[k - 1]);
                    assert!((0..N as i64).filter(|i| !ls.contains(i)).all(|i| ip(i) <= kth + 1e-5));
                }
                // Fewer codes than k: (-INFINITY, -1) after them.
                let (mut d5, mut l5) = ([0f32; 5], [0i64; 5]);
                let cs = want.code_size();
                let s = vq_opq_search(
                    h,
                    queries.as_ptr(),
                    D,
                    codes.as_ptr(),
                    3 * cs,
                    5,
                    d5.as_mut_ptr(),
                    5,
                    l5.as_mut_ptr(),
                    5,
                );
                assert_eq!(s, vq_status::Ok);
                assert_eq!((l5[3], l5[4], d5[3], d5[4]), (-1, -1, f32::NEG_INFINITY, f32::NEG_INFINITY));
            }
            vq_opq_free(h);
        }
    }
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let x = data(N, 11);
    let trained = OpqQuantizer::train(D, &x, &params(Metric::L2, 0).1).unwrap();
    let (rot, cs) = (trained.rotation().to_vec(), trained.code_size());
    let sentinel = ptr::dangling_mut::<vq_opq>();
    // SAFETY: every buffer holds the length passed with it, or the call fails before reading
    // it (the cases named); handles are freed once.
    unsafe {
        let mut out = sentinel;
        // NULL pointers.
        let p = ptr::null();
        fails(
            vq_opq_train(0, D, 3, 16, x.as_ptr(), x.len(), p, ptr::null_mut()),
            vq_status::NullPointer,
            &["out is NULL"],
        );
        fails(vq_opq_train(0, D, 3, 16, ptr::null(), x.len(), p, &mut out), vq_status::NullPointer, &["data is NULL"]);
        let pq = c_pq(Metric::L2, trained.pq());
        fails(
            vq_opq_from_parts(D, rot.as_ptr(), rot.len(), ptr::null(), &mut out),
            vq_status::NullPointer,
            &["pq is NULL"],
        );
        fails(
            vq_opq_from_parts(D, ptr::null(), rot.len(), pq, &mut out),
            vq_status::NullPointer,
            &["rotation is NULL"],
        );
        fails(vq_opq_encode(ptr::null(), x.as_ptr(), D, ptr::null_mut(), 0), vq_status::NullPointer, &["opq is NULL"]);
        fails(vq_opq_load(ptr::null(), &mut out), vq_status::NullPointer, &["path is NULL"]);
        let (mut v, mut vl) = (ptr::null(), 7usize);
        fails(vq_opq_rotation(ptr::null(), &mut v, &mut vl), vq_status::NullPointer, &["opq is NULL"]);
        assert_eq!(
            (vq_opq_dim(ptr::null()), vq_opq_d_out(ptr::null()), vq_opq_m(ptr::null()), vq_opq_ksub(ptr::null())),
            (0, 0, 0, 0)
        );
        assert_eq!((vq_opq_code_size(ptr::null()), vq_opq_search_table_len(ptr::null())), (0, 0));
        assert_eq!(vq_opq_metric(ptr::null()), u32::MAX);
        assert!(vq_opq_pq(ptr::null()).is_null());
        vq_opq_free(ptr::null_mut());

        // Training parameters out of range.
        let train = |metric, m, ksub, n: usize, p: &vq_opq_params, out: &mut *mut vq_opq| {
            vq_opq_train(metric, D, m, ksub, x.as_ptr(), n * D, p, out)
        };
        let mut p = vq_opq_params_default();
        p.niter = 1;
        fails(train(3, 3, 16, N, &p, &mut out), vq_status::InvalidArgument, &["metric = 3", "VQ_METRIC_COSINE (2)"]);
        p.d_out = D - 1;
        fails(
            train(0, 3, 16, N, &p, &mut out),
            vq_status::InvalidArgument,
            &["d_out = 11 for dimension 12", ">= the input dimension"],
        );
        p.d_out = 0;
        fails(
            train(0, 13, 16, N, &p, &mut out),
            vq_status::InvalidArgument,
            &["m (sub-quantizers) = 13 for output dimension 12"],
        );
        fails(
            train(0, 3, 70000, N, &p, &mut out),
            vq_status::InvalidArgument,
            &["ksub (centroids) = 70000", "2..=65536"],
        );
        fails(train(0, 3, 16, 15, &p, &mut out), vq_status::InvalidArgument, &["15 rows for ksub = 16"]);
        p.max_train_points = 8;
        fails(train(0, 3, 16, N, &p, &mut out), vq_status::InvalidArgument, &["max_train_points = 8 for ksub = 16"]);
        p.max_train_points = 1000;
        p.inner_points_per_centroid = 0;
        fails(train(0, 3, 16, N, &p, &mut out), vq_status::InvalidArgument, &["inner_points_per_centroid = 0"]);
        p.inner_points_per_centroid = 10;
        p.kmeans.init = 7;
        fails(train(0, 3, 16, N, &p, &mut out), vq_status::InvalidArgument, &["init = 7"]);
        p.kmeans.init = VQ_INIT_RANDOM;
        let s = vq_opq_train(0, D, 3, 16, x.as_ptr(), N * D - 1, &p, &mut out);
        fails(s, vq_status::BadLength, &["3599 elements", "dimension 12"]);
        let mut nan = x.clone();
        nan[41] = f32::NAN;
        fails(vq_opq_train(0, D, 3, 16, nan.as_ptr(), nan.len(), &p, &mut out), vq_status::NonFinite, &["element 41"]);

        // Parts that do not make an OPQ.
        let parts = |r: &[f32], out: &mut *mut vq_opq| vq_opq_from_parts(D, r.as_ptr(), r.len(), pq, out);
        fails(
            parts(&rot[..rot.len() - 1], &mut out),
            vq_status::BadLength,
            &["rotation has 143 elements", "dimension 12"],
        );
        fails(
            parts(&rot[..(D - 1) * D], &mut out),
            vq_status::InvalidArgument,
            &["rotation rows (d_out) = 11 for dimension 12"],
        );
        let mut skew = rot.clone();
        skew[5] += 0.1;
        fails(parts(&skew, &mut out), vq_status::InvalidArgument, &["(RᵀR − I)[", "orthonormal columns"]);
        skew[5] = f32::INFINITY;
        fails(parts(&skew, &mut out), vq_status::NonFinite, &["rotation", "element 5"]);
        let mut wide = vec![0f32; (D + 1) * D];
        for j in 0..D {
            wide[j * D + j] = 1.0; // orthonormal columns, d_out = 13, but the PQ is 12 wide
        }
        fails(parts(&wide, &mut out), vq_status::BadLength, &["product quantizer has dimension 12, expected 13"]);
        let s = vq_opq_from_parts(0, rot.as_ptr(), rot.len(), pq, &mut out);
        fails(s, vq_status::InvalidArgument, &["dim = 0"]);
        vq_pq_free(pq);
        assert_eq!(out, sentinel, "out-parameter written on failure");

        // Calls on a working quantizer with wrong lengths: outputs untouched.
        let bytes = trained.to_bytes();
        let mut h = ptr::null_mut();
        assert_eq!(vq_opq_load_buffer(bytes.as_ptr(), bytes.len(), &mut h), vq_status::Ok);
        let mut codes = vec![0xEEu8; 4 * cs];
        let msg = format!("codes has length {}, expected exactly {}", 4 * cs - 1, 4 * cs);
        fails(vq_opq_encode(h, x.as_ptr(), 4 * D, codes.as_mut_ptr(), 4 * cs - 1), vq_status::BadLength, &[&msg]);
        assert!(codes.iter().all(|&b| b == 0xEE));
        fails(
            vq_opq_encode(h, x.as_ptr(), 4 * D + 1, codes.as_mut_ptr(), 4 * cs),
            vq_status::BadLength,
            &["49 elements"],
        );
        assert_eq!(vq_opq_encode(h, x.as_ptr(), 4 * D, codes.as_mut_ptr(), 4 * cs), vq_status::Ok);
        let mut dec = vec![7f32; 4 * D];
        let msg = format!("codes has length {}, expected exactly {}", 4 * cs, 3 * cs);
        fails(vq_opq_decode(h, codes.as_ptr(), 4 * cs, dec.as_mut_ptr(), 3 * D), vq_status::BadLength, &[&msg]);
        assert!(dec.iter().all(|&v| v == 7.0));
        let mut table = vec![7f32; 3 * 16];
        fails(
            vq_opq_distance_table(h, x.as_ptr(), D - 1, table.as_mut_ptr(), table.len()),
            vq_status::BadLength,
            &["query has length 11, expected exactly 12"],
        );
        fails(
            vq_opq_distance_table(h, x.as_ptr(), D, table.as_mut_ptr(), table.len() - 1),
            vq_status::BadLength,
            &["table has length 47, expected exactly 48"],
        );
        assert!(table.iter().all(|&v| v == 7.0));
        let mut out4 = [7f32; 4];
        fails(
            vq_opq_distances(h, x.as_ptr(), D, codes.as_ptr(), 4 * cs, out4.as_mut_ptr(), 3),
            vq_status::BadLength,
            &[&msg],
        );
        assert!(out4.iter().all(|&v| v == 7.0));
        common::search_refuses_bad_input(vq_opq_search, h, &x, D, &codes, cs);
        let (mut d, mut l) = (vec![7f32; 8], vec![7i64; 8]);
        let mut t = vec![0f32; 10];
        let s = vq_opq_search_with_table(
            h,
            x.as_ptr(),
            D,
            codes.as_ptr(),
            codes.len(),
            2,
            t.as_mut_ptr(),
            10,
            d.as_mut_ptr(),
            2,
            l.as_mut_ptr(),
            2,
        );
        fails(s, vq_status::InvalidArgument, &["table_len = 10", &format!("d_out + m·ksub = {}", D + 48)]);
        assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "results written on failure");

        // Model files of another kind name their kind and the call that loads them.
        let pq_file = trained.pq().to_bytes();
        fails(
            vq_opq_load_buffer(pq_file.as_ptr(), pq_file.len(), &mut out),
            vq_status::WrongKind,
            &["holds a product quantizer (kind 1), expected an OPQ quantizer (use vq_pq_load)"],
        );
        let sq_file = vq::ScalarQuantizer::train(vq::SqBits::B8, D, &x).unwrap().to_bytes();
        fails(
            vq_opq_load_buffer(sq_file.as_ptr(), sq_file.len(), &mut out),
            vq_status::WrongKind,
            &["holds a scalar quantizer (kind 2)", "(use vq_sq_load)"],
        );
        let (mut p_out, mut s_out) = (ptr::null_mut(), ptr::null_mut());
        fails(
            vq_pq_load_buffer(bytes.as_ptr(), bytes.len(), &mut p_out),
            vq_status::WrongKind,
            &["holds an OPQ quantizer (kind 3), expected a product quantizer (use vq_opq_load)"],
        );
        fails(
            vq_sq_load_buffer(bytes.as_ptr(), bytes.len(), &mut s_out),
            vq_status::WrongKind,
            &["holds an OPQ quantizer (kind 3)", "(use vq_opq_load)"],
        );
        let (opq_path, pq_path) = (tmp("errors-opq.vqm"), tmp("errors-pq.vqm"));
        assert_eq!(vq_opq_save(h, opq_path.as_ptr()), vq_status::Ok);
        trained.pq().save(std::path::Path::new(pq_path.to_str().unwrap())).unwrap();
        fails(
            vq_opq_load(pq_path.as_ptr(), &mut out),
            vq_status::WrongKind,
            &["errors-pq.vqm: holds a product quantizer", "(use vq_pq_load)"],
        );
        fails(
            vq_pq_load(opq_path.as_ptr(), &mut p_out),
            vq_status::WrongKind,
            &["errors-opq.vqm: holds an OPQ quantizer", "(use vq_opq_load)"],
        );
        assert!(p_out.is_null() && s_out.is_null());
        let missing = tmp("no-such-dir/none.vqm");
        fails(vq_opq_load(missing.as_ptr(), &mut out), vq_status::Io, &["none.vqm"]);
        fails(vq_opq_save(h, missing.as_ptr()), vq_status::Io, &["none.vqm"]);
        common::model_buffers_refuse_bad_input(vq_opq_save_buffer, vq_opq_load_buffer, h, &bytes);
        assert_eq!(out, sentinel, "out-parameter written on failure");
        vq_opq_free(h);
    }
}

#[test]
fn a_query_whose_rotation_overflows_is_refused_before_anything_is_written() {
    // A 45° rotation of the plane: (3e38, 3e38) is finite but rotates to (0, 4.2e38 = inf);
    // (3e38, 0) has a norm as large but rotates to (2.1e38, 2.1e38), finite.
    let c = std::f32::consts::FRAC_1_SQRT_2;
    let rotation = vec![c, -c, c, c];
    let pq = ProductQuantizer::from_centroids(2, 1, 2, vec![0.0, 0.0, 1.0, 1.0]).unwrap();
    for metric in [Metric::L2, Metric::InnerProduct] {
        let want = OpqQuantizer::from_parts(2, rotation.clone(), pq.clone().with_metric(metric)).unwrap();
        let codes = [0x00u8, 0x10, 0x00]; // sub-codes 0, 1, 0 (the high nibble)
        let (ok, overflow) = ([1.0f32, 2.0, 3e38, 0.0], [1.0f32, 2.0, 3e38, 3e38]);
        let (wd, wl) = rust_search(&want, &ok, &codes, 2);
        let (mut d, mut l) = ([0f32; 4], [0i64; 4]);
        assert!(want.search(&overflow, &codes, 2, &mut d, &mut l).is_err(), "the library refuses it too");
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let cpq = c_pq(metric, &pq);
            let mut h = ptr::null_mut();
            assert_eq!(vq_opq_from_parts(2, rotation.as_ptr(), 4, cpq, &mut h), vq_status::Ok);
            vq_pq_free(cpq);
            let mut table = vec![0f32; vq_opq_search_table_len(h)];
            for (len, with_table) in [(0, false), (table.len(), true), (2 + 2, true)] {
                let call = |q: &[f32], d: &mut [f32; 4], l: &mut [i64; 4], table: &mut [f32]| {
                    if with_table {
                        vq_opq_search_with_table(
                            h,
                            q.as_ptr(),
                            4,
                            codes.as_ptr(),
                            3,
                            2,
                            table.as_mut_ptr(),
                            len,
                            d.as_mut_ptr(),
                            4,
                            l.as_mut_ptr(),
                            4,
                        )
                    } else {
                        vq_opq_search(h, q.as_ptr(), 4, codes.as_ptr(), 3, 2, d.as_mut_ptr(), 4, l.as_mut_ptr(), 4)
                    }
                };
                let (mut d, mut l) = ([7f32; 4], [7i64; 4]);
                fails(
                    call(&overflow, &mut d, &mut l, &mut table),
                    vq_status::NonFinite,
                    &["rotated queries (R·q overflows f32", "element 3"],
                );
                assert_eq!((d, l), ([7f32; 4], [7i64; 4]), "written on failure (table length {len})");
                assert_eq!(call(&ok, &mut d, &mut l, &mut table), vq_status::Ok, "{}", last_error());
                assert!(same(&d, &wd) && l[..] == wl[..], "{metric}, table length {len}");
            }
            vq_opq_free(h);
        }
    }
}

#[test]
fn opq_model_files_read_as_the_library_reads_them() {
    // The format module's view of what the ABI saves: an OPQ model with the metric.
    let x = data(N, 12);
    // SAFETY: every buffer holds the length passed with it; the handle is freed once.
    unsafe {
        let mut p = vq_opq_params_default();
        (p.niter, p.kmeans.iterations, p.kmeans.threads) = (2, 3, 1);
        let mut h = ptr::null_mut();
        assert_eq!(vq_opq_train(VQ_METRIC_COSINE, D, 4, 16, x.as_ptr(), x.len(), &p, &mut h), vq_status::Ok);
        match format::read_bytes(&c_bytes(h)).unwrap().model {
            Model::Opq(q) => assert_eq!((q.metric(), q.d_out(), q.pq().m()), (Metric::Cosine, D, 4)),
            other => panic!("read as {}", other.kind_name()),
        }
        vq_opq_free(h);
    }
}
