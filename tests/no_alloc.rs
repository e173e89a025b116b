//! The hot path allocates nothing: a counting global allocator, one warm-up call, then
//! zero allocations per call of every kernel, encode, decode, distances and search.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use vq::simd::{available, with_level};
use vq::{kernels, search, Metric, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // Only the measuring thread counts: a thread pool winding down elsewhere in the process
    // (training with the `parallel` feature) must not be charged to the call under test.
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f`, after one warm-up call (thread-locals, lazy statics).
fn allocations(mut f: impl FnMut()) -> usize {
    f();
    let before = ALLOCS.load(Ordering::Relaxed);
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn hot_path_allocates_nothing() {
    // One test function: the counter is process-wide, so no other test may run beside it.
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
