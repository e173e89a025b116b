//! The RaBitQ calls of the C ABI give exactly the Rust library's results: `vq_rabitq_train`
//! makes the quantizer `vq::RabitqQuantizer::train` makes under every metric at 1, 4 and 9
//! bits (views, codes, decode, distances, both estimates with their half-widths, search,
//! refined search and its count, model bytes), also after the query-time setters;
//! `vq_rabitq_from_parts` the one `from_parts` makes; loads give back the metric, `qb` and
//! `ε₀`; every bad input is refused with its status, a message naming the value, and
//! nothing written; files of another kind name the call that loads them. (`tests/c/rabitq.c`
//! checks estimates, bounds and refined searches against brute-force oracles in C.)

use common::{fails, last_error, same, view};
use std::ffi::CString;
use std::ptr;
use vq::format::{self, Model};
use vq::{Metric, Quantizer, QueryBits, RabitqParams, RabitqQuantizer};
use vq_ffi::*;

mod common;

/// Not a multiple of 64: the bit planes carry padding.
const D: usize = 70;
const N: usize = 300;

/// Rows of varying norm around an offset, so the centroid, the metrics and the extended
/// bits all matter.
fn data(n: usize, seed: u32) -> Vec<f32> {
    common::rows(n, D, seed, |j, scale, u| 0.3 + scale * (u - 0.5) / (1.0 + j as f32 / 16.0))
}

fn tmp(name: &str) -> CString {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rabitq-tests");
    std::fs::create_dir_all(&dir).unwrap();
    CString::new(dir.join(name).to_str().unwrap()).unwrap()
}

/// The library's search, and its refined search with the number of codes re-ranked.
fn rust_search(q: &RabitqQuantizer, queries: &[f32], codes: &[u8], k: usize, vectors: Option<&[f32]>) -> Found {
    let nq = queries.len() / q.dim();
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let reranked = match vectors {
        None => q.search(queries, codes, k, &mut d, &mut l).map(|()| 0).unwrap(),
        Some(v) => q.search_refine(queries, codes, k, v, &mut d, &mut l).unwrap(),
    };
    Found { d, l, reranked }
}

#[derive(Debug)]
struct Found {
    d: Vec<f32>,
    l: Vec<i64>,
    reranked: usize,
}

impl PartialEq for Found {
    fn eq(&self, o: &Found) -> bool {
        same(&self.d, &o.d) && self.l == o.l && self.reranked == o.reranked
    }
}

/// `vq_rabitq_search`, or `vq_rabitq_search_refine` with `vectors`, into fresh buffers.
///
/// # Safety
/// `h` is a live handle.
unsafe fn c_search(h: *const vq_rabitq, queries: &[f32], codes: &[u8], k: usize, vectors: Option<&[f32]>) -> Found {
    let Some(v) = vectors else {
        // SAFETY: caller's contract.
        let (d, l) = unsafe { common::search(vq_rabitq_search, h, queries, D, codes, k) };
        return Found { d, l, reranked: 0 };
    };
    let nq = queries.len() / D;
    let (mut d, mut l, mut reranked) = (vec![0f32; nq * k], vec![0i64; nq * k], 0);
    // SAFETY: the buffers hold the lengths passed; `h` by the caller's contract.
    let s = unsafe {
        vq_rabitq_search_refine(
            h,
            queries.as_ptr(),
            queries.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            v.as_ptr(),
            v.len(),
            d.as_mut_ptr(),
            d.len(),
            l.as_mut_ptr(),
            l.len(),
            &mut reranked,
        )
    };
    assert_eq!(s, vq_status::Ok, "{}", last_error());
    Found { d, l, reranked }
}

/// The model file of a handle, through `vq_rabitq_serialized_size` and
/// `vq_rabitq_save_buffer`.
///
/// # Safety
/// `h` is a live handle.
unsafe fn c_bytes(h: *const vq_rabitq) -> Vec<u8> {
    // SAFETY: caller's contract.
    unsafe { common::model_bytes(vq_rabitq_serialized_size, vq_rabitq_save_buffer, h) }
}

/// Every read-only call of `h` gives `want`'s results bit for bit: getters, views, codes,
/// decode, distances, both estimates, search and refined search, the model bytes.
///
/// # Safety
/// `h` is a live handle.
unsafe fn same_as_library(h: *const vq_rabitq, want: &RabitqQuantizer, x: &[f32], queries: &[f32], what: &str) {
    let k = 7;
    let cs = want.code_size();
    let mut codes = vec![0u8; N * cs];
    want.encode(x, &mut codes).unwrap();
    // SAFETY: every buffer holds the length passed with it; the views are read while `h`
    // lives (caller's contract).
    unsafe {
        assert_eq!(
            (vq_rabitq_dim(h), vq_rabitq_bits(h), vq_rabitq_code_size(h), vq_rabitq_metric(h)),
            (D, want.bits(), cs, want.metric().number()),
            "{what}"
        );
        assert_eq!(vq_rabitq_query_bits(h), want.qb().number(), "{what}");
        assert_eq!(vq_rabitq_epsilon(h).to_bits(), want.epsilon().to_bits(), "{what}");
        let (mut r, mut rl, mut c, mut cl) = (ptr::null(), 0, ptr::null(), 0);
        assert_eq!(vq_rabitq_rotation(h, &mut r, &mut rl), vq_status::Ok);
        assert_eq!(vq_rabitq_centroid(h, &mut c, &mut cl), vq_status::Ok);
        assert!(same(view(r, rl), want.rotation()), "{what}: rotation");
        assert!(same(view(c, cl), want.centroid()), "{what}: centroid");
        let mut got = vec![0u8; codes.len()];
        assert_eq!(vq_rabitq_encode(h, x.as_ptr(), x.len(), got.as_mut_ptr(), got.len()), vq_status::Ok);
        assert_eq!(got, codes, "{what}: codes");
        let (mut dec, mut want_dec) = (vec![0f32; N * D], vec![0f32; N * D]);
        want.decode(&codes, &mut want_dec).unwrap();
        assert_eq!(vq_rabitq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
        assert!(same(&dec, &want_dec), "{what}: decode");
        for q in queries.chunks_exact(D).take(3) {
            let (mut dist, mut want_dist) = (vec![0f32; N], vec![0f32; N]);
            want.distances(q, &codes, &mut want_dist).unwrap();
            let s = vq_rabitq_distances(h, q.as_ptr(), D, codes.as_ptr(), codes.len(), dist.as_mut_ptr(), N);
            assert_eq!(s, vq_status::Ok);
            assert!(same(&dist, &want_dist), "{what}: distances");
            type Call = unsafe extern "C" fn(
                *const vq_rabitq,
                *const f32,
                usize,
                *const u8,
                usize,
                *mut f32,
                usize,
                *mut f32,
                usize,
            ) -> vq_status;
            let calls: [(Call, bool); 2] = [(vq_rabitq_estimate, true), (vq_rabitq_estimate_sign, false)];
            for (call, full) in calls {
                let (mut est, mut half) = (vec![0f32; N], vec![0f32; N]);
                let (mut want_est, mut want_half) = (vec![0f32; N], vec![0f32; N]);
                if full {
                    want.estimate(q, &codes, &mut want_est, &mut want_half).unwrap();
                    assert!(same(&want_est, &dist), "{what}: the estimate is the distance");
                } else {
                    want.estimate_sign(q, &codes, &mut want_est, &mut want_half).unwrap();
                }
                let s = call(h, q.as_ptr(), D, codes.as_ptr(), codes.len(), est.as_mut_ptr(), N, half.as_mut_ptr(), N);
                assert_eq!(s, vq_status::Ok);
                assert!(same(&est, &want_est) && same(&half, &want_half), "{what}: estimate (full: {full})");
            }
        }
        for nq in [1, 5, 20] {
            let q = &queries[..nq * D];
            assert_eq!(c_search(h, q, &codes, k, None), rust_search(want, q, &codes, k, None), "{what}: {nq}");
            let (got, wanted) = (c_search(h, q, &codes, k, Some(x)), rust_search(want, q, &codes, k, Some(x)));
            assert_eq!(got, wanted, "{what}: refine {nq}");
            assert!(got.reranked > 0, "{what}: nothing re-ranked");
        }
        assert_eq!(c_bytes(h), want.to_bytes(), "{what}: model bytes");
    }
}

fn params(bits: u32, metric: Metric, qb: QueryBits) -> RabitqParams {
    RabitqParams { qb, metric, seed: 77, ..RabitqParams::new(bits) }
}

#[test]
fn train_through_the_abi_is_the_library_s_at_1_4_and_9_bits_under_every_metric() {
    let (x, queries) = (data(N, 1), data(20, 2));
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        for (bits, qb) in [(1, 4), (4, 0), (9, 8)] {
            let want =
                RabitqQuantizer::train(D, &x, &params(bits, metric, QueryBits::from_number(qb).unwrap())).unwrap();
            let what = format!("{metric} {bits} bits qb {qb}");
            // SAFETY: every buffer holds the length passed with it; the handle is freed once.
            unsafe {
                let p = vq_rabitq_params { seed: 77, qb, ..vq_rabitq_params_default() };
                let mut h = ptr::null_mut();
                let s = vq_rabitq_train(metric.number(), D, bits, x.as_ptr(), x.len(), &p, &mut h);
                assert_eq!(s, vq_status::Ok, "{}", last_error());
                same_as_library(h, &want, &x, &queries, &what);
                // The same file on disk.
                let path = tmp(&format!("train-{metric}-{bits}.vqm"));
                assert_eq!(vq_rabitq_save(h, path.as_ptr()), vq_status::Ok);
                assert_eq!(std::fs::read(path.to_str().unwrap()).unwrap(), want.to_bytes(), "{what}: save");
                vq_rabitq_free(h);
            }
        }
    }
}

#[test]
fn null_params_are_the_library_s_defaults_and_a_given_centroid_is_kept() {
    let (x, queries) = (data(N, 3), data(20, 4));
    let want = RabitqQuantizer::train(D, &x, &RabitqParams::new(3)).unwrap();
    let centroid: Vec<f32> = (0..D).map(|j| j as f32 / 100.0).collect();
    let mut given = RabitqParams::new(2);
    given.centroid = Some(centroid.clone());
    let want_given = RabitqQuantizer::train(D, &[], &given).unwrap();
    // SAFETY: every buffer holds the length passed with it; handles are freed once.
    unsafe {
        let mut h = ptr::null_mut();
        assert_eq!(vq_rabitq_train(VQ_METRIC_L2, D, 3, x.as_ptr(), x.len(), ptr::null(), &mut h), vq_status::Ok);
        same_as_library(h, &want, &x, &queries, "NULL params");
        vq_rabitq_free(h);
        // No data at all: the centroid is the caller's.
        let p = vq_rabitq_params { centroid: centroid.as_ptr(), centroid_len: D, ..vq_rabitq_params_default() };
        assert_eq!(vq_rabitq_train(VQ_METRIC_L2, D, 2, ptr::null(), 0, &p, &mut h), vq_status::Ok);
        same_as_library(h, &want_given, &x, &queries, "given centroid");
        vq_rabitq_free(h);
    }
}

#[test]
fn setters_are_the_library_s_and_survive_a_save() {
    let (x, queries) = (data(N, 5), data(20, 6));
    for metric in [Metric::L2, Metric::Cosine] {
        let mut want = RabitqQuantizer::train(D, &x, &params(4, metric, QueryBits::default())).unwrap();
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut h = ptr::null_mut();
            let p = vq_rabitq_params { seed: 77, ..vq_rabitq_params_default() };
            assert_eq!(vq_rabitq_train(metric.number(), D, 4, x.as_ptr(), x.len(), &p, &mut h), vq_status::Ok);
            for (qb, eps) in [(0u32, 0.0f32), (2, 2.6), (8, 20.0)] {
                want.set_qb(QueryBits::from_number(qb).unwrap()).unwrap();
                want.set_epsilon(eps).unwrap();
                assert_eq!(vq_rabitq_set_query_bits(h, qb), vq_status::Ok);
                assert_eq!(vq_rabitq_set_epsilon(h, eps), vq_status::Ok);
                let what = format!("{metric} qb {qb} eps {eps}");
                same_as_library(h, &want, &x, &queries, &what);
                // A loaded copy searches as the saved one did.
                let bytes = c_bytes(h);
                let mut back = ptr::null_mut();
                assert_eq!(vq_rabitq_load_buffer(bytes.as_ptr(), bytes.len(), &mut back), vq_status::Ok);
                assert_eq!((vq_rabitq_query_bits(back), vq_rabitq_epsilon(back)), (qb, eps), "{what}");
                same_as_library(back, &want, &x, &queries, &format!("{what}, loaded"));
                vq_rabitq_free(back);
            }
            // Refused values leave the settings as they were.
            fails(vq_rabitq_set_query_bits(h, 9), vq_status::InvalidArgument, &["qb (query bits) = 9", "1..=8"]);
            for eps in [-0.5f32, f32::NAN, f32::INFINITY] {
                fails(vq_rabitq_set_epsilon(h, eps), vq_status::InvalidArgument, &["epsilon (ε₀) =", ">= 0"]);
            }
            assert_eq!((vq_rabitq_query_bits(h), vq_rabitq_epsilon(h)), (8, 20.0));
            fails(vq_rabitq_set_query_bits(ptr::null_mut(), 4), vq_status::NullPointer, &["rabitq is NULL"]);
            fails(vq_rabitq_set_epsilon(ptr::null_mut(), 1.0), vq_status::NullPointer, &["rabitq is NULL"]);
            vq_rabitq_free(h);
        }
    }
}

#[test]
fn from_parts_and_loads_give_the_same_quantizer() {
    let (x, queries) = (data(N, 7), data(20, 8));
    let trained = RabitqQuantizer::train(D, &x, &params(4, Metric::InnerProduct, QueryBits::default())).unwrap();
    let bytes = trained.to_bytes();
    let path = tmp("loads.vqm");
    trained.save(std::path::Path::new(path.to_str().unwrap())).unwrap();
    // SAFETY: every buffer holds the length passed with it; handles are freed once.
    unsafe {
        let (mut a, mut b) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(vq_rabitq_load_buffer(bytes.as_ptr(), bytes.len(), &mut a), vq_status::Ok);
        assert_eq!(vq_rabitq_load(path.as_ptr(), &mut b), vq_status::Ok);
        same_as_library(a, &trained, &x, &queries, "load_buffer");
        same_as_library(b, &trained, &x, &queries, "load");
        // From the loaded handle's views, under each metric: the library's from_parts.
        let (mut r, mut rl, mut c, mut cl) = (ptr::null(), 0, ptr::null(), 0);
        assert_eq!(vq_rabitq_rotation(a, &mut r, &mut rl), vq_status::Ok);
        assert_eq!(vq_rabitq_centroid(a, &mut c, &mut cl), vq_status::Ok);
        for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
            for bits in [1, 9] {
                let mut parts = ptr::null_mut();
                let s = vq_rabitq_from_parts(metric.number(), D, bits, r, rl, c, cl, &mut parts);
                assert_eq!(s, vq_status::Ok, "{}", last_error());
                let want = RabitqQuantizer::from_parts(
                    D,
                    bits,
                    metric,
                    trained.rotation().to_vec(),
                    trained.centroid().to_vec(),
                )
                .unwrap();
                assert_eq!(want.seed(), None);
                same_as_library(parts, &want, &x, &queries, &format!("from parts, {metric} {bits} bits"));
                vq_rabitq_free(parts);
            }
        }
        vq_rabitq_free(a);
        vq_rabitq_free(b);
    }
}

#[test]
fn rabitq_model_files_read_as_the_library_reads_them() {
    let x = data(N, 9);
    // SAFETY: every buffer holds the length passed with it; the handle is freed once.
    unsafe {
        let mut h = ptr::null_mut();
        let p = vq_rabitq_params { seed: 5, qb: 0, epsilon: 2.5, ..vq_rabitq_params_default() };
        assert_eq!(vq_rabitq_train(VQ_METRIC_COSINE, D, 6, x.as_ptr(), x.len(), &p, &mut h), vq_status::Ok);
        match format::read_bytes(&c_bytes(h)).unwrap().model {
            Model::Rabitq(q) => {
                assert_eq!((q.metric(), q.bits(), q.qb(), q.epsilon()), (Metric::Cosine, 6, QueryBits::Float, 2.5));
                assert_eq!((q.dim(), q.seed()), (D, Some(5)));
            }
            other => panic!("read as {}", other.kind_name()),
        }
        vq_rabitq_free(h);
    }
}

#[test]
fn fewer_codes_than_k_pad_with_the_metric_s_sentinel() {
    let x = data(N, 10);
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut h = ptr::null_mut();
            assert_eq!(vq_rabitq_train(metric.number(), D, 2, x.as_ptr(), x.len(), ptr::null(), &mut h), vq_status::Ok);
            let cs = vq_rabitq_code_size(h);
            let mut codes = vec![0u8; 3 * cs];
            assert_eq!(vq_rabitq_encode(h, x.as_ptr(), 3 * D, codes.as_mut_ptr(), codes.len()), vq_status::Ok);
            for vectors in [None, Some(&x[..3 * D])] {
                let f = c_search(h, &x[..D], &codes, 5, vectors);
                assert!(f.l[..3].iter().all(|&l| (0..3).contains(&l)), "{metric}: {:?}", f.l);
                assert_eq!((f.l[3], f.l[4]), (-1, -1));
                assert_eq!((f.d[3], f.d[4]), (metric.worst(), metric.worst()));
            }
            vq_rabitq_free(h);
        }
    }
}

#[test]
fn bad_input_is_named_and_nothing_is_written() {
    let x = data(N, 11);
    let trained = RabitqQuantizer::train(D, &x, &RabitqParams::new(3)).unwrap();
    let (rot, cen, cs) = (trained.rotation().to_vec(), trained.centroid().to_vec(), trained.code_size());
    let sentinel = ptr::dangling_mut::<vq_rabitq>();
    // SAFETY: every buffer holds the length passed with it, or the call fails before reading
    // it (the cases named); handles are freed once.
    unsafe {
        let mut out = sentinel;
        let p = vq_rabitq_params_default();
        let train = |metric, dim, bits, data: &[f32], p: &vq_rabitq_params, out: &mut *mut vq_rabitq| {
            vq_rabitq_train(metric, dim, bits, data.as_ptr(), data.len(), p, out)
        };
        // NULL pointers.
        fails(vq_rabitq_train(0, D, 1, x.as_ptr(), x.len(), &p, ptr::null_mut()), vq_status::NullPointer, &["out"]);
        fails(vq_rabitq_train(0, D, 1, ptr::null(), x.len(), &p, &mut out), vq_status::NullPointer, &["data is NULL"]);
        let np = vq_rabitq_params { centroid_len: D, ..p };
        fails(train(0, D, 1, &x, &np, &mut out), vq_status::NullPointer, &["centroid is NULL but centroid_len is 70"]);
        fails(
            vq_rabitq_from_parts(0, D, 1, ptr::null(), rot.len(), cen.as_ptr(), D, &mut out),
            vq_status::NullPointer,
            &["rotation is NULL"],
        );
        fails(
            vq_rabitq_from_parts(0, D, 1, rot.as_ptr(), rot.len(), ptr::null(), D, &mut out),
            vq_status::NullPointer,
            &["centroid is NULL"],
        );
        fails(
            vq_rabitq_encode(ptr::null(), x.as_ptr(), D, ptr::null_mut(), 0),
            vq_status::NullPointer,
            &["rabitq is NULL"],
        );
        fails(vq_rabitq_load(ptr::null(), &mut out), vq_status::NullPointer, &["path is NULL"]);
        let (mut v, mut vl) = (ptr::null(), 7usize);
        fails(vq_rabitq_rotation(ptr::null(), &mut v, &mut vl), vq_status::NullPointer, &["rabitq is NULL"]);
        fails(vq_rabitq_centroid(ptr::null(), &mut v, &mut vl), vq_status::NullPointer, &["rabitq is NULL"]);
        assert_eq!(
            (vq_rabitq_dim(ptr::null()), vq_rabitq_code_size(ptr::null()), vq_rabitq_bits(ptr::null())),
            (0, 0, 0)
        );
        assert_eq!((vq_rabitq_metric(ptr::null()), vq_rabitq_query_bits(ptr::null())), (u32::MAX, u32::MAX));
        assert!(vq_rabitq_epsilon(ptr::null()).is_nan());
        vq_rabitq_free(ptr::null_mut());

        // Training parameters out of range.
        fails(train(3, D, 1, &x, &p, &mut out), vq_status::InvalidArgument, &["metric = 3", "VQ_METRIC_COSINE (2)"]);
        for bits in [0, 10] {
            fails(
                train(0, D, bits, &x, &p, &mut out),
                vq_status::InvalidArgument,
                &[&format!("RaBitQ bits = {bits}"), "1..=9"],
            );
        }
        fails(train(0, 0, 1, &x, &p, &mut out), vq_status::InvalidArgument, &["dim = 0"]);
        fails(
            train(0, D, 1, &x, &vq_rabitq_params { qb: 9, ..p }, &mut out),
            vq_status::InvalidArgument,
            &["qb (query bits) = 9", "1..=8 quantized, or 0 for a float query"],
        );
        for eps in [-1.0f32, f32::NAN, f32::INFINITY] {
            fails(
                train(0, D, 1, &x, &vq_rabitq_params { epsilon: eps, ..p }, &mut out),
                vq_status::InvalidArgument,
                &["epsilon (ε₀) =", "finite and >= 0"],
            );
        }
        let short = &cen[..D - 1];
        let sp = vq_rabitq_params { centroid: short.as_ptr(), centroid_len: D - 1, ..p };
        fails(train(0, D, 1, &x, &sp, &mut out), vq_status::BadLength, &["centroid", "69", "70"]);
        let mut nan_c = cen.clone();
        nan_c[4] = f32::NAN;
        let np = vq_rabitq_params { centroid: nan_c.as_ptr(), centroid_len: D, ..p };
        fails(train(0, D, 1, &x, &np, &mut out), vq_status::NonFinite, &["centroid", "element 4"]);
        fails(train(0, D, 1, &x[..x.len() - 1], &p, &mut out), vq_status::BadLength, &["20999 elements", "70"]);
        fails(
            train(0, D, 1, &[], &p, &mut out),
            vq_status::InvalidArgument,
            &["training data (and no centroid given)"],
        );
        let mut nan = x.clone();
        nan[41] = f32::NAN;
        fails(train(0, D, 1, &nan, &p, &mut out), vq_status::NonFinite, &["training data", "element 41"]);

        // Parts that do not make a quantizer.
        let parts = |metric, bits, r: &[f32], c: &[f32], out: &mut *mut vq_rabitq| {
            vq_rabitq_from_parts(metric, D, bits, r.as_ptr(), r.len(), c.as_ptr(), c.len(), out)
        };
        fails(parts(0, 1, &rot[..rot.len() - 1], &cen, &mut out), vq_status::BadLength, &["rotation", "4899"]);
        fails(parts(0, 1, &rot, short, &mut out), vq_status::BadLength, &["centroid", "69", "70"]);
        fails(parts(7, 1, &rot, &cen, &mut out), vq_status::InvalidArgument, &["metric = 7"]);
        fails(parts(0, 10, &rot, &cen, &mut out), vq_status::InvalidArgument, &["RaBitQ bits = 10"]);
        let mut skew = rot.clone();
        skew[5] += 0.1;
        fails(parts(0, 1, &skew, &cen, &mut out), vq_status::InvalidArgument, &["(RᵀR − I)[", "orthogonal"]);
        skew[5] = f32::INFINITY;
        fails(parts(0, 1, &skew, &cen, &mut out), vq_status::NonFinite, &["rotation", "element 5"]);
        fails(parts(0, 1, &rot, &nan_c, &mut out), vq_status::NonFinite, &["centroid", "element 4"]);
        assert_eq!(out, sentinel, "out-parameter written on failure");

        // Calls on a working quantizer with wrong lengths or values: outputs untouched.
        let bytes = trained.to_bytes();
        let mut h = ptr::null_mut();
        assert_eq!(vq_rabitq_load_buffer(bytes.as_ptr(), bytes.len(), &mut h), vq_status::Ok);
        let mut codes = vec![0xEEu8; 4 * cs];
        let msg = format!("codes has length {}, expected exactly {}", 4 * cs - 1, 4 * cs);
        fails(vq_rabitq_encode(h, x.as_ptr(), 4 * D, codes.as_mut_ptr(), 4 * cs - 1), vq_status::BadLength, &[&msg]);
        fails(
            vq_rabitq_encode(h, x.as_ptr(), 4 * D + 1, codes.as_mut_ptr(), 4 * cs),
            vq_status::BadLength,
            &["281 elements"],
        );
        fails(
            vq_rabitq_encode(h, nan.as_ptr().add(40), 4 * D, codes.as_mut_ptr(), 4 * cs),
            vq_status::NonFinite,
            &["vectors", "element 1"],
        );
        assert!(codes.iter().all(|&b| b == 0xEE), "codes written on failure");
        assert_eq!(vq_rabitq_encode(h, x.as_ptr(), 4 * D, codes.as_mut_ptr(), 4 * cs), vq_status::Ok);
        fails(
            vq_rabitq_encode(h, x.as_ptr(), 4 * D, ptr::null_mut(), 0),
            vq_status::BadLength,
            &["codes has length 0"],
        );
        let mut dec = vec![7f32; 4 * D];
        let msg = format!("codes has length {}, expected exactly {}", 4 * cs, 3 * cs);
        fails(vq_rabitq_decode(h, codes.as_ptr(), 4 * cs, dec.as_mut_ptr(), 3 * D), vq_status::BadLength, &[&msg]);
        assert!(dec.iter().all(|&v| v == 7.0));
        let (mut est, mut half) = ([7f32; 4], [7f32; 4]);
        let estimate = |q: &[f32], ql, cl, el, hl, est: &mut [f32; 4], half: &mut [f32; 4]| {
            vq_rabitq_estimate(h, q.as_ptr(), ql, codes.as_ptr(), cl, est.as_mut_ptr(), el, half.as_mut_ptr(), hl)
        };
        let msg = format!("codes has length {}, expected exactly {}", 4 * cs, 3 * cs);
        fails(estimate(&x, D, 4 * cs, 3, 3, &mut est, &mut half), vq_status::BadLength, &[&msg]);
        fails(estimate(&x, D, 4 * cs, 4, 3, &mut est, &mut half), vq_status::BadLength, &["half has length 3"]);
        fails(estimate(&x, D - 1, 4 * cs, 4, 4, &mut est, &mut half), vq_status::BadLength, &["query has length 69"]);
        fails(
            estimate(&nan[40..], D, 4 * cs, 4, 4, &mut est, &mut half),
            vq_status::NonFinite,
            &["query", "element 1"],
        );
        let overlap =
            vq_rabitq_estimate(h, x.as_ptr(), D, codes.as_ptr(), 4 * cs, est.as_mut_ptr(), 4, est.as_mut_ptr(), 4);
        fails(overlap, vq_status::InvalidArgument, &["half overlaps est"]);
        let s =
            vq_rabitq_estimate_sign(h, x.as_ptr(), D, codes.as_ptr(), 4 * cs, est.as_mut_ptr(), 4, ptr::null_mut(), 4);
        fails(s, vq_status::NullPointer, &["half is NULL"]);
        assert_eq!((est, half), ([7f32; 4], [7f32; 4]), "estimates written on failure");
        let mut out4 = [7f32; 4];
        let s = vq_rabitq_distances(h, x.as_ptr(), D, codes.as_ptr(), 4 * cs, out4.as_mut_ptr(), 3);
        fails(s, vq_status::BadLength, &[&msg]);
        let s = vq_rabitq_distances(h, nan.as_ptr(), D, codes.as_ptr(), 4 * cs, out4.as_mut_ptr(), 4);
        fails(s, vq_status::NonFinite, &["query"]);
        assert!(out4.iter().all(|&v| v == 7.0));

        common::search_refuses_bad_input(vq_rabitq_search, h, &x, D, &codes, cs);
        let (mut d, mut l, mut reranked) = (vec![7f32; 8], vec![7i64; 8], 77usize);
        let refine = |vectors: &[f32], k, dl, d: &mut [f32], l: &mut [i64], r: *mut usize| {
            vq_rabitq_search_refine(
                h,
                x.as_ptr(),
                2 * D,
                codes.as_ptr(),
                codes.len(),
                k,
                vectors.as_ptr(),
                vectors.len(),
                d.as_mut_ptr(),
                dl,
                l.as_mut_ptr(),
                dl,
                r,
            )
        };
        fails(
            refine(&x[..3 * D], 2, 4, &mut d, &mut l, &mut reranked),
            vq_status::BadLength,
            &["vectors", "210", "280"],
        );
        fails(refine(&x[..4 * D], 0, 0, &mut d, &mut l, &mut reranked), vq_status::InvalidArgument, &["k = 0"]);
        fails(
            refine(&x[..4 * D], 2, 3, &mut d, &mut l, &mut reranked),
            vq_status::BadLength,
            &["distances has length 3"],
        );
        let (dp, lp) = (d.as_mut_ptr(), l.as_mut_ptr());
        let s = refine(&x[..4 * D], 2, 4, &mut d, &mut l, dp.cast());
        fails(s, vq_status::InvalidArgument, &["reranked overlaps distances"]);
        let s = refine(&x[..4 * D], 2, 4, &mut d, &mut l, lp.add(1).cast());
        fails(s, vq_status::InvalidArgument, &["reranked overlaps labels"]);
        let mut spare = [0usize; 2];
        let misaligned = spare.as_mut_ptr().cast::<u8>().add(1).cast::<usize>();
        let s = refine(&x[..4 * D], 2, 4, &mut d, &mut l, misaligned);
        fails(s, vq_status::InvalidArgument, &["reranked", "is not aligned"]);
        assert_eq!(spare, [0, 0]);
        assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "results written on failure");
        assert_eq!(reranked, 77, "reranked written on failure");
        // Without the count, a refined search still runs.
        assert_eq!(refine(&x[..4 * D], 2, 4, &mut d, &mut l, ptr::null_mut()), vq_status::Ok);

        // Model files of another kind name their kind and the call that loads them.
        let pq_file = vq::ProductQuantizer::train(D, &x, &vq::PqParams::new(5, 16)).unwrap().to_bytes();
        fails(
            vq_rabitq_load_buffer(pq_file.as_ptr(), pq_file.len(), &mut out),
            vq_status::WrongKind,
            &["holds a product quantizer (kind 1), expected a RaBitQ quantizer (use vq_pq_load)"],
        );
        let sq_file = vq::ScalarQuantizer::train(vq::SqBits::B8, D, &x).unwrap().to_bytes();
        fails(
            vq_rabitq_load_buffer(sq_file.as_ptr(), sq_file.len(), &mut out),
            vq_status::WrongKind,
            &["holds a scalar quantizer (kind 2)", "(use vq_sq_load)"],
        );
        let mut op = vq::OpqParams::new(5, 16);
        (op.niter, op.kmeans.max_iter) = (1, 2);
        let opq_file = vq::OpqQuantizer::train(D, &x, &op).unwrap().to_bytes();
        fails(
            vq_rabitq_load_buffer(opq_file.as_ptr(), opq_file.len(), &mut out),
            vq_status::WrongKind,
            &["holds an OPQ quantizer (kind 3)", "(use vq_opq_load)"],
        );
        let (mut p_out, mut s_out, mut o_out) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        let want = "holds a RaBitQ quantizer (kind 4), expected";
        fails(
            vq_pq_load_buffer(bytes.as_ptr(), bytes.len(), &mut p_out),
            vq_status::WrongKind,
            &[want, "a product quantizer (use vq_rabitq_load)"],
        );
        fails(
            vq_sq_load_buffer(bytes.as_ptr(), bytes.len(), &mut s_out),
            vq_status::WrongKind,
            &[want, "(use vq_rabitq_load)"],
        );
        fails(
            vq_opq_load_buffer(bytes.as_ptr(), bytes.len(), &mut o_out),
            vq_status::WrongKind,
            &[want, "an OPQ quantizer (use vq_rabitq_load)"],
        );
        let (rabitq_path, pq_path) = (tmp("errors-rabitq.vqm"), tmp("errors-pq.vqm"));
        assert_eq!(vq_rabitq_save(h, rabitq_path.as_ptr()), vq_status::Ok);
        std::fs::write(pq_path.to_str().unwrap(), &pq_file).unwrap();
        fails(
            vq_rabitq_load(pq_path.as_ptr(), &mut out),
            vq_status::WrongKind,
            &["errors-pq.vqm: holds a product quantizer", "(use vq_pq_load)"],
        );
        for (status, name) in [
            (vq_pq_load(rabitq_path.as_ptr(), &mut p_out), "vq_pq_load"),
            (vq_sq_load(rabitq_path.as_ptr(), &mut s_out), "vq_sq_load"),
            (vq_opq_load(rabitq_path.as_ptr(), &mut o_out), "vq_opq_load"),
        ] {
            assert_eq!(status, vq_status::WrongKind, "{name}");
            let m = last_error();
            assert!(
                m.contains("errors-rabitq.vqm: holds a RaBitQ quantizer") && m.contains("(use vq_rabitq_load)"),
                "{name}: {m}"
            );
        }
        assert!(p_out.is_null() && s_out.is_null() && o_out.is_null());
        let missing = tmp("no-such-dir/none.vqm");
        fails(vq_rabitq_load(missing.as_ptr(), &mut out), vq_status::Io, &["none.vqm"]);
        fails(vq_rabitq_save(h, missing.as_ptr()), vq_status::Io, &["none.vqm"]);
        common::model_buffers_refuse_bad_input(vq_rabitq_save_buffer, vq_rabitq_load_buffer, h, &bytes);
        fails(vq_rabitq_serialized_size(h, ptr::null_mut()), vq_status::NullPointer, &["out is NULL"]);
        fails(vq_rabitq_rotation(h, ptr::null_mut(), &mut vl), vq_status::NullPointer, &["out is NULL"]);
        fails(vq_rabitq_centroid(h, &mut v, ptr::null_mut()), vq_status::NullPointer, &["out_len is NULL"]);
        assert_eq!((v, vl), (ptr::null(), 7), "view written on failure");
        assert_eq!(out, sentinel, "out-parameter written on failure");
        vq_rabitq_free(h);
    }
}

#[test]
fn hostile_codes_give_nan_never_a_failure_or_a_result() {
    let x = data(N, 12);
    for bits in [1, 5] {
        let want = RabitqQuantizer::train(D, &x, &RabitqParams::new(bits)).unwrap();
        let cs = want.code_size();
        let mut codes = vec![0u8; 8 * cs];
        want.encode(&x[..8 * D], &mut codes).unwrap();
        codes[..cs].fill(0xFF); // code 0: NaN factors
                                // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut h = ptr::null_mut();
            assert_eq!(vq_rabitq_train(VQ_METRIC_L2, D, bits, x.as_ptr(), x.len(), ptr::null(), &mut h), vq_status::Ok);
            let (mut est, mut half) = ([0f32; 8], [0f32; 8]);
            let s = vq_rabitq_estimate(
                h,
                x.as_ptr(),
                D,
                codes.as_ptr(),
                codes.len(),
                est.as_mut_ptr(),
                8,
                half.as_mut_ptr(),
                8,
            );
            assert_eq!(s, vq_status::Ok);
            assert!(est[0].is_nan() && est[1..].iter().all(|v| v.is_finite()), "{est:?}");
            let mut dec = vec![0f32; 8 * D];
            assert_eq!(vq_rabitq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
            for vectors in [None, Some(&x[..8 * D])] {
                let f = c_search(h, &x[..2 * D], &codes, 8, vectors);
                assert!(f.l.iter().all(|&l| l != 0) && !f.d.iter().any(|v| v.is_nan()), "{bits} bits: {f:?}");
                assert_eq!(f, rust_search(&want, &x[..2 * D], &codes, 8, vectors));
            }
            vq_rabitq_free(h);
        }
    }
}
