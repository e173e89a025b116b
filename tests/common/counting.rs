//! A counting global allocator for the no-allocation tests. A test binary installs it
//! with `#[global_allocator] static GLOBAL: counting::Counting = counting::Counting;` and
//! measures a call with [`allocations`].
//!
//! Only the measuring thread counts, so other tests of the same binary running beside
//! it, or a thread pool winding down after training, are not charged to the call.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    if MEASURING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
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

/// `f`'s result and the allocations this thread made during it.
pub fn counted<T>(f: impl FnOnce() -> T) -> (T, usize) {
    ALLOCS.with(|a| a.set(0));
    MEASURING.with(|m| m.set(true));
    let out = f();
    MEASURING.with(|m| m.set(false));
    (out, ALLOCS.with(Cell::get))
}

/// Allocations made by the second of two calls of `f`: the first warms up what a thread
/// allocates once (thread-locals, the per-thread scratch buffer, lazy statics).
pub fn allocations(mut f: impl FnMut()) -> usize {
    f();
    counted(f).1
}
