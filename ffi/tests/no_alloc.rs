//! The C ABI's hot calls allocate nothing, as the header's "Allocation" note promises: a
//! counting global allocator, one warm-up call (which makes the thread's table buffer, or a
//! loaded model's encoder codebook), then zero allocations per call. Success leaves the
//! thread's error message alone, so the guard costs no allocation either. The note's one
//! per-call allocation, a PQ distance table over 1 MiB, is checked on both sides of its
//! bound.

#[path = "../../tests/common/counting.rs"]
mod counting;

use std::ptr;
use vq_ffi::*;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// Allocations made by one successful call of `f`.
fn counted(what: &str, f: impl FnOnce() -> vq_status) -> usize {
    let (s, n) = counting::counted(f);
    assert_eq!(s, vq_status::Ok, "{what}");
    n
}

/// Allocations made by a call of `f` after a warm-up call.
fn allocations(what: &str, mut f: impl FnMut() -> vq_status) -> usize {
    assert_eq!(f(), vq_status::Ok, "{what}");
    counted(what, f)
}

#[test]
fn hot_calls_allocate_nothing() {
    let (d, n, nq, k) = (40, 2100, 3, 10);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let q = &x[..nq * d];
    let mut p = vq_train_params_default();
    p.iterations = 3;
    p.threads = 1;
    // SAFETY: every buffer holds the length passed with it; handles are freed once.
    unsafe {
        for (m, ksub) in [(8, 256), (8, 2048)] {
            let mut pq = ptr::null_mut();
            assert_eq!(vq_pq_train(d, m, ksub, x.as_ptr(), x.len(), &p, &mut pq), vq_status::Ok);
            let cs = vq_pq_code_size(pq);
            let mut codes = vec![0u8; n * cs];
            let mut y = vec![0f32; n * d];
            let mut table = vec![0f32; m * ksub];
            let mut out = vec![0f32; n];
            let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            // m·ksub = 2048: one query's table on the stack, three queries' interleaved tables
            // (32784 floats) in the thread's buffer; m·ksub = 16384: every table in the
            // thread's buffer.
            let counts = [
                (
                    "encode",
                    allocations("encode", || vq_pq_encode(pq, x.as_ptr(), x.len(), codes.as_mut_ptr(), codes.len())),
                ),
                (
                    "decode",
                    allocations("decode", || vq_pq_decode(pq, codes.as_ptr(), codes.len(), y.as_mut_ptr(), y.len())),
                ),
                (
                    "table",
                    allocations("table", || vq_pq_distance_table(pq, q.as_ptr(), d, table.as_mut_ptr(), table.len())),
                ),
                (
                    "adc",
                    allocations("adc", || {
                        vq_pq_adc_scan(
                            pq,
                            table.as_ptr(),
                            table.len(),
                            codes.as_ptr(),
                            codes.len(),
                            out.as_mut_ptr(),
                            n,
                        )
                    }),
                ),
                (
                    "search_with_table",
                    allocations("swt", || {
                        vq_pq_search_with_table(
                            pq,
                            q.as_ptr(),
                            q.len(),
                            codes.as_ptr(),
                            codes.len(),
                            k,
                            table.as_mut_ptr(),
                            table.len(),
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
                (
                    "search",
                    allocations("search", || {
                        vq_pq_search(
                            pq,
                            q.as_ptr(),
                            q.len(),
                            codes.as_ptr(),
                            codes.len(),
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
                (
                    "distances",
                    allocations("distances", || {
                        vq_pq_distances(pq, q.as_ptr(), d, codes.as_ptr(), codes.len(), out.as_mut_ptr(), n)
                    }),
                ),
            ];
            for (what, c) in counts {
                assert_eq!(c, 0, "PQ m={m} ksub={ksub}: {what} allocated {c} times");
            }
            vq_pq_free(pq);
        }
        let mut sq = ptr::null_mut();
        assert_eq!(vq_sq_train(8, d, x.as_ptr(), x.len(), &mut sq), vq_status::Ok);
        let mut codes = vec![0u8; n * d];
        let mut y = vec![0f32; n * d];
        let mut out = vec![0f32; n];
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let mut one = 0f32;
        let counts = [
            ("sq encode", allocations("e", || vq_sq_encode(sq, x.as_ptr(), x.len(), codes.as_mut_ptr(), codes.len()))),
            ("sq decode", allocations("d", || vq_sq_decode(sq, codes.as_ptr(), codes.len(), y.as_mut_ptr(), y.len()))),
            (
                "sq distances",
                allocations("t", || {
                    vq_sq_distances(sq, q.as_ptr(), d, codes.as_ptr(), codes.len(), out.as_mut_ptr(), n)
                }),
            ),
            (
                "sq search",
                allocations("s", || {
                    vq_sq_search(
                        sq,
                        q.as_ptr(),
                        q.len(),
                        codes.as_ptr(),
                        codes.len(),
                        k,
                        dist.as_mut_ptr(),
                        dist.len(),
                        lab.as_mut_ptr(),
                        lab.len(),
                    )
                }),
            ),
            ("l2sq", allocations("l", || vq_l2sq(x.as_ptr(), d, q.as_ptr(), d, &mut one))),
            ("dot", allocations("i", || vq_dot(x.as_ptr(), d, q.as_ptr(), d, &mut one))),
            (
                "l2sq_batch",
                allocations("lb", || vq_l2sq_batch(q.as_ptr(), d, x.as_ptr(), x.len(), out.as_mut_ptr(), n)),
            ),
            ("dot_batch", allocations("ib", || vq_dot_batch(q.as_ptr(), d, x.as_ptr(), x.len(), out.as_mut_ptr(), n))),
        ];
        for (what, c) in counts {
            assert_eq!(c, 0, "{what} allocated {c} times");
        }
        vq_sq_free(sq);
    }
}

#[test]
fn pq_tables_over_1_mib_are_allocated_per_call_smaller_ones_kept_per_thread() {
    // dim 8, ksub 65536: m = 4 makes a table of 262144 floats (1 MiB, the largest the
    // thread keeps), m = 8 one of 524288.
    let (d, ksub, n, k) = (8, 65536, 100, 5);
    let centroids: Vec<f32> = (0..ksub * d).map(|i| (i % 977) as f32).collect();
    let x: Vec<f32> = (0..n * d).map(|i| (i % 13) as f32).collect();
    for (m, per_call) in [(4, false), (8, true)] {
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut pq = ptr::null_mut();
            assert_eq!(vq_pq_from_centroids(d, m, ksub, centroids.as_ptr(), centroids.len(), &mut pq), vq_status::Ok);
            let mut codes = vec![0u8; n * vq_pq_code_size(pq)];
            assert_eq!(vq_pq_encode(pq, x.as_ptr(), x.len(), codes.as_mut_ptr(), codes.len()), vq_status::Ok);
            let (mut dist, mut lab, mut out) = ([0f32; 5], [0i64; 5], vec![0f32; n]);
            let search = allocations("search", || {
                vq_pq_search(
                    pq,
                    x.as_ptr(),
                    d,
                    codes.as_ptr(),
                    codes.len(),
                    k,
                    dist.as_mut_ptr(),
                    k,
                    lab.as_mut_ptr(),
                    k,
                )
            });
            let distances = allocations("distances", || {
                vq_pq_distances(pq, x.as_ptr(), d, codes.as_ptr(), codes.len(), out.as_mut_ptr(), n)
            });
            if per_call {
                assert!(search > 0 && distances > 0, "m·ksub = {}: {search}, {distances}", m * ksub);
            } else {
                assert_eq!((search, distances), (0, 0), "m·ksub = {}", m * ksub);
            }
            vq_pq_free(pq);
        }
    }
}

#[test]
fn a_loaded_pq_allocates_only_on_its_first_encode() {
    let (d, m, ksub, n) = (8, 4, 16, 50);
    let centroids: Vec<f32> = (0..ksub * d).map(|i| (i % 31) as f32).collect();
    let x: Vec<f32> = (0..n * d).map(|i| (i % 13) as f32).collect();
    // SAFETY: every buffer holds the length passed with it; the handles are freed once.
    unsafe {
        let mut built = ptr::null_mut();
        assert_eq!(vq_pq_from_centroids(d, m, ksub, centroids.as_ptr(), centroids.len(), &mut built), vq_status::Ok);
        let mut size = 0;
        assert_eq!(vq_pq_serialized_size(built, &mut size), vq_status::Ok);
        let mut file = vec![0u8; size];
        assert_eq!(vq_pq_save_buffer(built, file.as_mut_ptr(), size, &mut size), vq_status::Ok);
        vq_pq_free(built);
        let mut pq = ptr::null_mut();
        assert_eq!(vq_pq_load_buffer(file.as_ptr(), size, &mut pq), vq_status::Ok);
        let mut codes = vec![0u8; n * vq_pq_code_size(pq)];
        let mut encode = || vq_pq_encode(pq, x.as_ptr(), x.len(), codes.as_mut_ptr(), codes.len());
        assert!(counted("first encode", &mut encode) > 0, "the encoder's codebook is built on the first encode");
        assert_eq!(counted("second encode", &mut encode), 0);
        vq_pq_free(pq);
    }
}

#[test]
fn inner_product_and_cosine_calls_allocate_nothing() {
    // dim 40: a cosine encode normalizes its rows in chunks of at most 8192 floats on the
    // stack, so even the first call allocates nothing; the warm-up is for the table buffer.
    let (d, n, nq, k) = (40, 2100, 3, 10);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.3).collect();
    let q = &x[..nq * d];
    let mut p = vq_train_params_default();
    p.iterations = 3;
    p.threads = 1;
    for metric in [VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE] {
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut pq = ptr::null_mut();
            assert_eq!(vq_pq_train_metric(metric, d, 8, 256, x.as_ptr(), x.len(), &p, &mut pq), vq_status::Ok);
            let mut sq = ptr::null_mut();
            assert_eq!(vq_sq_train_metric(metric, 8, d, x.as_ptr(), x.len(), &mut sq), vq_status::Ok);
            let mut pq_codes = vec![0u8; n * vq_pq_code_size(pq)];
            let mut sq_codes = vec![0u8; n * d];
            let mut table = vec![0f32; 8 * 256];
            let mut out = vec![0f32; n];
            let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            let (pql, sql) = (pq_codes.len(), sq_codes.len());
            let counts = [
                ("pq encode", counted("e", || vq_pq_encode(pq, x.as_ptr(), x.len(), pq_codes.as_mut_ptr(), pql))),
                ("sq encode", counted("e", || vq_sq_encode(sq, x.as_ptr(), x.len(), sq_codes.as_mut_ptr(), sql))),
                ("pq table", allocations("t", || vq_pq_distance_table(pq, q.as_ptr(), d, table.as_mut_ptr(), 2048))),
                (
                    "pq search",
                    allocations("s", || {
                        vq_pq_search(
                            pq,
                            q.as_ptr(),
                            q.len(),
                            pq_codes.as_ptr(),
                            pql,
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
                (
                    "pq distances",
                    allocations("d", || {
                        vq_pq_distances(pq, q.as_ptr(), d, pq_codes.as_ptr(), pql, out.as_mut_ptr(), n)
                    }),
                ),
                (
                    "sq search",
                    allocations("s", || {
                        vq_sq_search(
                            sq,
                            q.as_ptr(),
                            q.len(),
                            sq_codes.as_ptr(),
                            sql,
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
                (
                    "sq distances",
                    allocations("d", || {
                        vq_sq_distances(sq, q.as_ptr(), d, sq_codes.as_ptr(), sql, out.as_mut_ptr(), n)
                    }),
                ),
                (
                    "knn",
                    allocations("k", || {
                        vq_knn(
                            metric,
                            d,
                            q.as_ptr(),
                            q.len(),
                            x.as_ptr(),
                            x.len(),
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
            ];
            for (what, c) in counts {
                assert_eq!(c, 0, "metric {metric}: {what} allocated {c} times");
            }
            vq_pq_free(pq);
            vq_sq_free(sq);
        }
    }
}

#[test]
fn a_cosine_encode_wider_than_8192_floats_allocates_only_on_the_thread_s_first_call() {
    // One row of 9000 floats does not fit the stack chunk: it is normalized in the thread's
    // scratch buffer, made by the first such call on the thread (a fresh one here).
    std::thread::spawn(|| {
        let d = 9000;
        let x: Vec<f32> = (0..2 * d).map(|i| (i % 17) as f32 - 8.0).collect();
        let (lo, hi) = (vec![-1f32; d], vec![1f32; d]);
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut sq = ptr::null_mut();
            let s = vq_sq_from_ranges_metric(VQ_METRIC_COSINE, 8, lo.as_ptr(), d, hi.as_ptr(), d, &mut sq);
            assert_eq!(s, vq_status::Ok);
            let mut codes = vec![0u8; 2 * d];
            let mut encode = || vq_sq_encode(sq, x.as_ptr(), x.len(), codes.as_mut_ptr(), 2 * d);
            assert!(counted("first encode", &mut encode) > 0, "the thread's buffer is made on its first call");
            assert_eq!(counted("second encode", &mut encode), 0);
            let (mut dist, mut lab) = ([0f32; 2], [0i64; 2]);
            let knn = || {
                vq_knn(
                    VQ_METRIC_COSINE,
                    d,
                    x.as_ptr(),
                    d,
                    x.as_ptr(),
                    x.len(),
                    2,
                    dist.as_mut_ptr(),
                    2,
                    lab.as_mut_ptr(),
                    2,
                )
            };
            assert_eq!(counted("knn", knn), 0, "the buffer is the thread's, already made");
            vq_sq_free(sq);
        }
    })
    .join()
    .unwrap();
}

#[test]
fn opq_hot_calls_allocate_nothing() {
    // d_out 44 > dim 40: the rotation pads; 176 rows rotate per block on the stack.
    let (d, d_out, n, nq, k) = (40, 44, 2100, 3, 10);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.3).collect();
    let q = &x[..nq * d];
    let mut p = vq_opq_params_default();
    (p.niter, p.niter_pq, p.niter_pq_0, p.d_out) = (2, 1, 2, d_out);
    p.kmeans.iterations = 3;
    p.kmeans.threads = 1;
    for metric in [VQ_METRIC_L2, VQ_METRIC_INNER_PRODUCT, VQ_METRIC_COSINE] {
        // SAFETY: every buffer holds the length passed with it; handles are freed once.
        unsafe {
            let mut trained = ptr::null_mut();
            assert_eq!(vq_opq_train(metric, d, 8, 256, x.as_ptr(), x.len(), &p, &mut trained), vq_status::Ok);
            // Loaded, as a serving process gets it: its first encode builds the codebook copy.
            let mut size = 0;
            assert_eq!(vq_opq_serialized_size(trained, &mut size), vq_status::Ok);
            let mut file = vec![0u8; size];
            assert_eq!(vq_opq_save_buffer(trained, file.as_mut_ptr(), size, &mut size), vq_status::Ok);
            vq_opq_free(trained);
            let mut opq = ptr::null_mut();
            assert_eq!(vq_opq_load_buffer(file.as_ptr(), size, &mut opq), vq_status::Ok);
            let mut codes = vec![0u8; n * vq_opq_code_size(opq)];
            let cl = codes.len();
            let mut encode = || vq_opq_encode(opq, x.as_ptr(), x.len(), codes.as_mut_ptr(), cl);
            assert!(counted("first encode", &mut encode) > 0, "a loaded OPQ builds its codebook copy first");
            assert_eq!(counted("second encode", &mut encode), 0, "metric {metric}: encode allocated");
            // The caller's table holds the rotated queries and the PQ's tables: nothing is
            // allocated, on a thread that has made no buffer of its own yet.
            let opq_addr = opq as usize;
            let (codes_ref, q_ref) = (&codes, q);
            std::thread::scope(|s| {
                s.spawn(move || {
                    let opq = opq_addr as *const vq_opq;
                    for len in [vq_opq_search_table_len(opq), d_out + 8 * 256] {
                        let mut table = vec![0f32; len];
                        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                        let c = counted("search_with_table", || {
                            vq_opq_search_with_table(
                                opq,
                                q_ref.as_ptr(),
                                q_ref.len(),
                                codes_ref.as_ptr(),
                                codes_ref.len(),
                                k,
                                table.as_mut_ptr(),
                                len,
                                dist.as_mut_ptr(),
                                dist.len(),
                                lab.as_mut_ptr(),
                                lab.len(),
                            )
                        });
                        assert_eq!(c, 0, "metric {metric}: search_with_table (table of {len}) allocated {c} times");
                    }
                });
            });
            let mut y = vec![0f32; n * d];
            let mut table = vec![0f32; 8 * 256];
            let mut out = vec![0f32; n];
            let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            let counts = [
                ("decode", allocations("d", || vq_opq_decode(opq, codes.as_ptr(), cl, y.as_mut_ptr(), y.len()))),
                ("table", allocations("t", || vq_opq_distance_table(opq, q.as_ptr(), d, table.as_mut_ptr(), 2048))),
                (
                    "distances",
                    allocations("di", || vq_opq_distances(opq, q.as_ptr(), d, codes.as_ptr(), cl, out.as_mut_ptr(), n)),
                ),
                (
                    "search",
                    allocations("s", || {
                        vq_opq_search(
                            opq,
                            q.as_ptr(),
                            q.len(),
                            codes.as_ptr(),
                            cl,
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
            ];
            for (what, c) in counts {
                assert_eq!(c, 0, "OPQ metric {metric}: {what} allocated {c} times");
            }
            vq_opq_free(opq);
        }
    }
}

#[test]
fn rabitq_hot_calls_allocate_nothing() {
    // Working sets on each side of the stack's 8192 floats: d = 40 at 1 bit fits the stack
    // everywhere; d = 128 with a float query's table (34·d floats a query) puts three
    // queries in the thread's buffer; d = 200 puts encode's 16 rows (52·d) there too.
    let (n, nq, k) = (700, 3, 10);
    for (d, bits, qb, metric) in
        [(40, 1, 4, VQ_METRIC_L2), (128, 4, 0, VQ_METRIC_COSINE), (200, 9, 8, VQ_METRIC_INNER_PRODUCT)]
    {
        let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.3).collect();
        let q = &x[..nq * d];
        let p = vq_rabitq_params { qb, ..vq_rabitq_params_default() };
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut h = ptr::null_mut();
            assert_eq!(vq_rabitq_train(metric, d, bits, x.as_ptr(), x.len(), &p, &mut h), vq_status::Ok);
            let mut codes = vec![0u8; n * vq_rabitq_code_size(h)];
            let cl = codes.len();
            let mut y = vec![0f32; n * d];
            let (mut est, mut half) = (vec![0f32; n], vec![0f32; n]);
            let (mut dist, mut lab, mut reranked) = (vec![0f32; nq * k], vec![0i64; nq * k], 0usize);
            let counts = [
                ("encode", allocations("e", || vq_rabitq_encode(h, x.as_ptr(), x.len(), codes.as_mut_ptr(), cl))),
                ("decode", allocations("d", || vq_rabitq_decode(h, codes.as_ptr(), cl, y.as_mut_ptr(), y.len()))),
                (
                    "distances",
                    allocations("di", || {
                        vq_rabitq_distances(h, q.as_ptr(), d, codes.as_ptr(), cl, est.as_mut_ptr(), n)
                    }),
                ),
                (
                    "estimate",
                    allocations("es", || {
                        vq_rabitq_estimate(
                            h,
                            q.as_ptr(),
                            d,
                            codes.as_ptr(),
                            cl,
                            est.as_mut_ptr(),
                            n,
                            half.as_mut_ptr(),
                            n,
                        )
                    }),
                ),
                (
                    "estimate_sign",
                    allocations("s1", || {
                        let (e, hw) = (est.as_mut_ptr(), half.as_mut_ptr());
                        vq_rabitq_estimate_sign(h, q.as_ptr(), d, codes.as_ptr(), cl, e, n, hw, n)
                    }),
                ),
                (
                    "search",
                    allocations("s", || {
                        vq_rabitq_search(
                            h,
                            q.as_ptr(),
                            q.len(),
                            codes.as_ptr(),
                            cl,
                            k,
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                        )
                    }),
                ),
                (
                    "search_refine",
                    allocations("r", || {
                        vq_rabitq_search_refine(
                            h,
                            q.as_ptr(),
                            q.len(),
                            codes.as_ptr(),
                            cl,
                            k,
                            x.as_ptr(),
                            x.len(),
                            dist.as_mut_ptr(),
                            dist.len(),
                            lab.as_mut_ptr(),
                            lab.len(),
                            &mut reranked,
                        )
                    }),
                ),
            ];
            for (what, c) in counts {
                assert_eq!(c, 0, "RaBitQ d {d} bits {bits} qb {qb} metric {metric}: {what} allocated {c} times");
            }
            assert!(reranked > 0);
            vq_rabitq_free(h);
        }
    }
}

#[test]
fn fast_scan_with_the_callers_scratch_allocates_nothing_even_on_the_first_call() {
    // rerank_factor 1 keeps the scratch on the stack; n / k keeps every code a candidate,
    // 3·24000 floats a query, 288000 with four queries: past the 262144 floats the thread's
    // buffer keeps, so vq_pq_search_packed allocates per call there and only the caller's
    // scratch avoids it.
    let (d, m, n, nq, k) = (16, 8, 24000, 5, 10);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.3).collect();
    let q = &x[..nq * d];
    let mut tp = vq_train_params_default();
    (tp.iterations, tp.threads) = (2, 1);
    for (metric, factor) in [(VQ_METRIC_L2, 1), (VQ_METRIC_COSINE, n / k), (VQ_METRIC_INNER_PRODUCT, 4)] {
        // SAFETY: every buffer holds the length passed with it; the handle is freed once.
        unsafe {
            let mut pq = ptr::null_mut();
            assert_eq!(vq_pq_train_metric(metric, d, m, 16, x.as_ptr(), x.len(), &tp, &mut pq), vq_status::Ok);
            let cs = vq_pq_code_size(pq);
            let mut codes = vec![0u8; n * cs];
            assert_eq!(vq_pq_encode(pq, x.as_ptr(), x.len(), codes.as_mut_ptr(), codes.len()), vq_status::Ok);
            let mut plen = 0;
            assert_eq!(vq_pq_packed_len(m, n, &mut plen), vq_status::Ok);
            let mut packed = vec![0u8; plen];
            let p = vq_fast_scan_params { rerank_factor: factor };
            let mut slen = 0;
            assert_eq!(vq_pq_search_packed_scratch_len(pq, n, k, &p, &mut slen), vq_status::Ok);
            let mut scratch = vec![0f32; slen];
            let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            let (qp, ql, dp, lp) = (q.as_ptr(), q.len(), dist.as_mut_ptr(), lab.as_mut_ptr());
            let (pp, sp, xp) = (packed.as_mut_ptr(), scratch.as_mut_ptr(), x.as_ptr());
            let counts = [
                ("pack", counted("pack", || vq_pq_pack_codes(pq, codes.as_ptr(), codes.len(), pp, plen))),
                ("unpack", counted("unpack", || vq_pq_unpack_codes(pq, pp, plen, codes.as_mut_ptr(), n * cs))),
                (
                    "search_packed_with_scratch",
                    counted("s", || {
                        vq_pq_search_packed_with_scratch(
                            pq,
                            qp,
                            ql,
                            pp,
                            plen,
                            n,
                            k,
                            &p,
                            sp,
                            slen,
                            dp,
                            nq * k,
                            lp,
                            nq * k,
                        )
                    }),
                ),
                (
                    "search_packed_refine_with_scratch",
                    counted("r", || {
                        vq_pq_search_packed_refine_with_scratch(
                            pq,
                            qp,
                            ql,
                            pp,
                            plen,
                            n,
                            k,
                            &p,
                            xp,
                            x.len(),
                            sp,
                            slen,
                            dp,
                            nq * k,
                            lp,
                            nq * k,
                        )
                    }),
                ),
            ];
            for (what, c) in counts {
                assert_eq!(c, 0, "metric {metric} ×{factor}: {what} allocated {c} times");
            }
            // The library's scratch: nothing after the warm-up up to 1 MiB, per call above.
            let c = allocations("search_packed", || {
                vq_pq_search_packed(pq, qp, ql, pp, plen, n, k, &p, dp, nq * k, lp, nq * k)
            });
            if slen > 1 << 18 {
                assert!(c > 0, "metric {metric} ×{factor}: a {slen}-float scratch made per call");
            } else {
                assert_eq!(c, 0, "metric {metric} ×{factor}: search_packed allocated {c} times");
            }
            vq_pq_free(pq);
        }
    }
}
