//! The C ABI's hot calls allocate nothing, as the header promises: a counting global
//! allocator, one warm-up call, then zero allocations per call. Success leaves the
//! thread's error message alone, so the guard costs no allocation either.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use vq_ffi::*;

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, layout) }
    }
    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(p, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(what: &str, mut f: impl FnMut() -> vq_status) -> usize {
    assert_eq!(f(), vq_status::Ok, "{what}");
    let before = ALLOCS.load(Ordering::Relaxed);
    MEASURING.with(|m| m.set(true));
    let s = f();
    MEASURING.with(|m| m.set(false));
    assert_eq!(s, vq_status::Ok, "{what}");
    ALLOCS.load(Ordering::Relaxed) - before
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
            let mut counts = vec![
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
            ];
            if m * ksub <= 8192 {
                counts.push((
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
                ));
                counts.push((
                    "distances",
                    allocations("distances", || {
                        vq_pq_distances(pq, q.as_ptr(), d, codes.as_ptr(), codes.len(), out.as_mut_ptr(), n)
                    }),
                ));
            }
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
