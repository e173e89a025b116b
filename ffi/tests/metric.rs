//! The metric calls of the C ABI give exactly the Rust library's results: the `*_metric`
//! constructors make the quantizer the library makes for that metric, searches and exact
//! search agree bit for bit, model buffers keep the metric, the calls without a metric are
//! L2, and a metric number outside 0..=2 is refused with the value named and nothing
//! written. (`tests/c/metrics.c` checks the results against a brute-force oracle in C.)

use common::{last_error, same};
use std::ptr;
use vq::{Metric, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};
use vq_ffi::*;

mod common;

const D: usize = 12;
const N: usize = 300;

/// Rows whose norms vary (scaled by 0.5..2), so the metrics rank differently.
fn data(n: usize, seed: u32) -> Vec<f32> {
    common::rows(n, D, seed, |_, scale, u| scale * (u - 0.5))
}

/// Search results of the library's quantizer.
fn rust_search(q: &dyn Quantizer, queries: &[f32], codes: &[u8], k: usize) -> (Vec<f32>, Vec<i64>) {
    let nq = queries.len() / D;
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    q.search(queries, codes, k, &mut d, &mut l).unwrap();
    (d, l)
}

#[test]
fn pq_by_each_metric_is_the_library_s() {
    let (x, queries, k) = (data(N, 1), data(5, 2), 7);
    let mut p = vq_train_params_default();
    p.iterations = 5;
    p.threads = 1;
    for metric in Metric::ALL {
        let mut params = PqParams::new(3, 32);
        params.kmeans.max_iter = 5; // as `p`: the C defaults are the library's
        params.metric = metric;
        let want = ProductQuantizer::train(D, &x, &params).unwrap();
        let mut codes = vec![0u8; N * want.code_size()];
        want.encode(&x, &mut codes).unwrap();
        let (wd, wl) = rust_search(&want, &queries, &codes, k);
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut pq = ptr::null_mut();
            assert_eq!(vq_pq_train_metric(metric.number(), D, 3, 32, x.as_ptr(), x.len(), &p, &mut pq), vq_status::Ok);
            assert_eq!(vq_pq_metric(pq), metric.number());
            let (mut c, mut cl) = (ptr::null(), 0);
            assert_eq!(vq_pq_centroids(pq, &mut c, &mut cl), vq_status::Ok);
            assert!(same(std::slice::from_raw_parts(c, cl), want.centroids()), "{metric}");
            let mut got = vec![0u8; codes.len()];
            assert_eq!(vq_pq_encode(pq, x.as_ptr(), x.len(), got.as_mut_ptr(), got.len()), vq_status::Ok);
            assert_eq!(got, codes, "{metric}");
            let search = |h| common::search(vq_pq_search, h, &queries, D, &codes, k);
            let (d, l) = search(pq);
            assert!(same(&d, &wd) && l == wl, "{metric}");
            // The memory round trip keeps the metric and the results.
            let mut size = 0;
            assert_eq!(vq_pq_serialized_size(pq, &mut size), vq_status::Ok);
            let mut buf = vec![0u8; size];
            assert_eq!(vq_pq_save_buffer(pq, buf.as_mut_ptr(), size, &mut size), vq_status::Ok);
            match vq::format::read_bytes(&buf).unwrap().model {
                vq::format::Model::Pq(read) => assert_eq!(read.metric(), metric),
                _ => panic!("not a PQ file"),
            }
            let mut back = ptr::null_mut();
            assert_eq!(vq_pq_load_buffer(buf.as_ptr(), size, &mut back), vq_status::Ok);
            assert_eq!(vq_pq_metric(back), metric.number());
            let (d, l) = search(back);
            assert!(same(&d, &wd) && l == wl, "{metric} after load");
            // Built from the same centroids with the metric: the same quantizer.
            let mut built = ptr::null_mut();
            assert_eq!(vq_pq_from_centroids_metric(metric.number(), D, 3, 32, c, cl, &mut built), vq_status::Ok);
            assert_eq!(vq_pq_metric(built), metric.number());
            let (d, l) = search(built);
            assert!(same(&d, &wd) && l == wl, "{metric} from centroids");
            vq_pq_free(built);
            vq_pq_free(back);
            vq_pq_free(pq);
        }
    }
}

#[test]
fn sq_by_each_metric_is_the_library_s() {
    let (x, queries, k) = (data(N, 3), data(5, 4), 7);
    for metric in Metric::ALL {
        let want = ScalarQuantizer::train_for(metric, SqBits::B8, D, &x).unwrap();
        let mut codes = vec![0u8; N * want.code_size()];
        want.encode(&x, &mut codes).unwrap();
        let (wd, wl) = rust_search(&want, &queries, &codes, k);
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut sq = ptr::null_mut();
            assert_eq!(vq_sq_train_metric(metric.number(), 8, D, x.as_ptr(), x.len(), &mut sq), vq_status::Ok);
            assert_eq!(vq_sq_metric(sq), metric.number());
            let mut got = vec![0u8; codes.len()];
            assert_eq!(vq_sq_encode(sq, x.as_ptr(), x.len(), got.as_mut_ptr(), got.len()), vq_status::Ok);
            assert_eq!(got, codes, "{metric}");
            let search = |h| common::search(vq_sq_search, h, &queries, D, &codes, k);
            let (d, l) = search(sq);
            assert!(same(&d, &wd) && l == wl, "{metric}");
            let mut size = 0;
            assert_eq!(vq_sq_serialized_size(sq, &mut size), vq_status::Ok);
            let mut buf = vec![0u8; size];
            assert_eq!(vq_sq_save_buffer(sq, buf.as_mut_ptr(), size, &mut size), vq_status::Ok);
            let mut back = ptr::null_mut();
            assert_eq!(vq_sq_load_buffer(buf.as_ptr(), size, &mut back), vq_status::Ok);
            assert_eq!(vq_sq_metric(back), metric.number());
            let (d, l) = search(back);
            assert!(same(&d, &wd) && l == wl, "{metric} after load");
            let mut built = ptr::null_mut();
            let (lo, hi) = (want.vmin(), want.vmax());
            let s = vq_sq_from_ranges_metric(metric.number(), 8, lo.as_ptr(), D, hi.as_ptr(), D, &mut built);
            assert_eq!(s, vq_status::Ok);
            let (d, l) = search(built);
            assert!(same(&d, &wd) && l == wl, "{metric} from ranges");
            vq_sq_free(built);
            vq_sq_free(back);
            vq_sq_free(sq);
        }
    }
}

#[test]
fn exact_search_is_the_library_s_on_both_paths() {
    let x = data(N, 5);
    let k = 9;
    // 3 queries: the pairwise scan; 20: the blocked product.
    for nq in [3, 20] {
        let queries = data(nq, 6);
        for metric in Metric::ALL {
            let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            vq::search::knn_with_metric(metric, D, &queries, &x, k, &mut wd, &mut wl).unwrap();
            let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            // SAFETY: every buffer holds the length passed with it.
            let s = unsafe {
                vq_knn(
                    metric.number(),
                    D,
                    queries.as_ptr(),
                    queries.len(),
                    x.as_ptr(),
                    x.len(),
                    k,
                    d.as_mut_ptr(),
                    d.len(),
                    l.as_mut_ptr(),
                    l.len(),
                )
            };
            assert_eq!(s, vq_status::Ok);
            assert!(same(&d, &wd) && l == wl, "{metric}, {nq} queries");
            for q in d.chunks_exact(k) {
                let sorted = q.windows(2).all(|w| if metric.larger_is_better() { w[0] >= w[1] } else { w[0] <= w[1] });
                assert!(sorted, "{metric}: {q:?}");
            }
        }
    }
}

#[test]
fn the_calls_without_a_metric_are_l2() {
    let x = data(N, 7);
    // SAFETY: every buffer holds the length passed with it; handles are freed once.
    unsafe {
        let (mut pq, mut sq) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(vq_pq_train(D, 3, 16, x.as_ptr(), x.len(), ptr::null(), &mut pq), vq_status::Ok);
        assert_eq!(vq_sq_train(8, D, x.as_ptr(), x.len(), &mut sq), vq_status::Ok);
        assert_eq!((vq_pq_metric(pq), vq_sq_metric(sq)), (VQ_METRIC_L2, VQ_METRIC_L2));
        vq_pq_free(pq);
        vq_sq_free(sq);
        assert_eq!((vq_pq_metric(ptr::null()), vq_sq_metric(ptr::null())), (u32::MAX, u32::MAX));
    }
}

#[test]
fn a_bad_metric_is_named_and_nothing_is_written() {
    let x = data(N, 8);
    let cents = vec![0f32; 16 * D];
    let (lo, hi) = ([0f32; D], [1f32; D]);
    for bad in [3, 42, u32::MAX] {
        let named = || {
            let m = last_error();
            assert!(
                m.contains(&format!("metric = {bad} is out of range")) && m.contains("VQ_METRIC_COSINE (2)"),
                "{m}"
            );
        };
        // SAFETY: every buffer holds the length passed with it; nothing is made.
        unsafe {
            let sentinel_pq = ptr::dangling_mut::<vq_pq>();
            let mut pq = sentinel_pq;
            let s = vq_pq_train_metric(bad, D, 3, 16, x.as_ptr(), x.len(), ptr::null(), &mut pq);
            assert_eq!(s, vq_status::InvalidArgument);
            named();
            let s = vq_pq_from_centroids_metric(bad, D, 3, 16, cents.as_ptr(), cents.len(), &mut pq);
            assert_eq!(s, vq_status::InvalidArgument);
            named();
            assert_eq!(pq, sentinel_pq);
            let sentinel_sq = ptr::dangling_mut::<vq_sq>();
            let mut sq = sentinel_sq;
            assert_eq!(vq_sq_train_metric(bad, 8, D, x.as_ptr(), x.len(), &mut sq), vq_status::InvalidArgument);
            named();
            let s = vq_sq_from_ranges_metric(bad, 8, lo.as_ptr(), D, hi.as_ptr(), D, &mut sq);
            assert_eq!(s, vq_status::InvalidArgument);
            named();
            assert_eq!(sq, sentinel_sq);
            let (mut d, mut l) = ([7f32; 2], [7i64; 2]);
            let s = vq_knn(bad, D, x.as_ptr(), D, x.as_ptr(), x.len(), 2, d.as_mut_ptr(), 2, l.as_mut_ptr(), 2);
            assert_eq!(s, vq_status::InvalidArgument);
            named();
            assert_eq!((d, l), ([7f32; 2], [7i64; 2]));
        }
    }
}
