//! The hot path allocates nothing: a counting global allocator, one warm-up call, then
//! zero allocations per call of every kernel, encode, decode, distances and search.

#[path = "common/counting.rs"]
mod counting;

use counting::allocations;
use vq::simd::{available, with_level};
use vq::{kernels, search, Metric, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

#[test]
fn hot_path_allocates_nothing() {
    // Allocations are counted on this thread only (tests/common/counting.rs).
    let (d, n, nq, k) = (129, 1000, 3, 10);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 / 1000.0).collect();
    let queries = &x[..nq * d];
    let mut out = vec![0.0f32; n];
    let mut dist = vec![0.0f32; nq * k];
    let mut lab = vec![0i64; nq * k];
    let mut rec = vec![0.0f32; n * d];
    // Every quantizer under every metric: cosine encodes through a normalized copy, which
    // must come from the stack or the thread's scratch buffer, never the allocator.
    let sqs: Vec<ScalarQuantizer> = [SqBits::B4, SqBits::B8, SqBits::B16]
        .iter()
        .flat_map(|&b| Metric::ALL.map(|metric| ScalarQuantizer::train_for(metric, b, d, &x).unwrap()))
        .collect();
    let mut codes: Vec<Vec<u8>> = sqs.iter().map(|sq| vec![0u8; n * sq.code_size()]).collect();
    let pqs: Vec<ProductQuantizer> = [(8, 16), (8, 256), (3, 300)]
        .iter()
        .map(|&(m, ksub)| {
            let mut p = PqParams::new(m, ksub);
            p.kmeans.max_iter = 2;
            p.kmeans.threads = 1;
            ProductQuantizer::train(d, &x, &p).unwrap()
        })
        .flat_map(|pq| Metric::ALL.map(|metric| pq.clone().with_metric(metric)))
        .collect();
    let mut pq_codes: Vec<Vec<u8>> = pqs.iter().map(|pq| vec![0u8; n * pq.code_size()]).collect();
    let mut table = vec![0.0f32; 8 * 300];
    for &level in available() {
        with_level(level, || {
            for (pq, codes) in pqs.iter().zip(pq_codes.iter_mut()) {
                let (m, ksub) = (pq.m(), pq.ksub());
                let m_ = pq.metric();
                let t = &mut table[..m * ksub];
                assert_eq!(allocations(|| pq.encode(&x, codes).unwrap()), 0, "pq encode {m}x{ksub} {m_} {level}");
                assert_eq!(allocations(|| pq.decode(codes, &mut rec).unwrap()), 0, "pq decode {m}x{ksub} {m_} {level}");
                assert_eq!(
                    allocations(|| pq.distance_table(&x[..d], t).unwrap()),
                    0,
                    "pq table {m}x{ksub} {m_} {level}"
                );
                assert_eq!(
                    allocations(|| pq.adc_scan(t, codes, &mut out).unwrap()),
                    0,
                    "pq adc {m}x{ksub} {m_} {level}"
                );
                // The batch search's tables live in a per-thread buffer made on the thread's
                // first search; after that, none.
                pq.search(queries, codes, k, &mut dist, &mut lab).unwrap();
                assert_eq!(
                    allocations(|| pq.search(queries, codes, k, &mut dist, &mut lab).unwrap()),
                    0,
                    "pq search {m}x{ksub} {m_} {level}"
                );
                let mut own = vec![0.0f32; pq.search_table_len()];
                assert_eq!(
                    allocations(|| pq.search_with_table(&mut own, queries, codes, k, &mut dist, &mut lab).unwrap()),
                    0,
                    "pq search_with_table {m}x{ksub} {m_} {level}"
                );
            }
            let q = &x[..d];
            assert_eq!(
                allocations(|| {
                    std::hint::black_box(kernels::l2sq(q, &x[d..2 * d]).unwrap());
                }),
                0,
                "l2sq {level}"
            );
            assert_eq!(
                allocations(|| {
                    std::hint::black_box(kernels::dot(q, &x[d..2 * d]).unwrap());
                }),
                0,
                "dot {level}"
            );
            assert_eq!(allocations(|| kernels::l2sq_batch(q, &x, &mut out).unwrap()), 0, "l2sq_batch {level}");
            assert_eq!(allocations(|| kernels::dot_batch(q, &x, &mut out).unwrap()), 0, "dot_batch {level}");
            assert_eq!(allocations(|| search::knn(d, queries, &x, k, &mut dist, &mut lab).unwrap()), 0, "knn {level}");
            for metric in Metric::ALL {
                assert_eq!(
                    allocations(|| search::knn_with_metric(metric, d, queries, &x, k, &mut dist, &mut lab).unwrap()),
                    0,
                    "knn {metric} {level}"
                );
            }
            for (sq, codes) in sqs.iter().zip(codes.iter_mut()) {
                let b = (sq.bits(), sq.metric());
                assert_eq!(allocations(|| sq.encode(&x, codes).unwrap()), 0, "encode {b:?} {level}");
                assert_eq!(allocations(|| sq.decode(codes, &mut rec).unwrap()), 0, "decode {b:?} {level}");
                assert_eq!(allocations(|| sq.distances(q, codes, &mut out).unwrap()), 0, "distances {b:?} {level}");
                assert_eq!(
                    allocations(|| sq.search(queries, codes, k, &mut dist, &mut lab).unwrap()),
                    0,
                    "search {b:?} {level}"
                );
            }
        })
        .unwrap();
    }
    // The counter does see allocations (the test is not vacuous).
    assert!(allocations(|| drop(std::hint::black_box(vec![1u8; 10]))) >= 1);
}

#[test]
fn the_counter_sees_an_allocation() {
    // The zero counts above mean something only if an allocation is counted.
    assert_eq!(allocations(|| drop(std::hint::black_box(vec![1u8; 10]))), 1);
    assert_eq!(allocations(|| ()), 0);
}
