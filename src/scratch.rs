//! Scratch memory for query paths whose working set can outgrow the stack.
//!
//! A product quantizer's distance tables take `m·ksub` floats per query, and the batch
//! search interleaves up to 16 queries' tables (`m·ksub·16` floats, 512 KiB at m = 32,
//! ksub = 256). Small buffers live on the stack. Larger ones come from a per-thread buffer
//! that is allocated on a thread's first such call and then reused, so a search engine's
//! query threads allocate nothing in steady state; it is kept only up to [`RETAIN_FLOATS`]
//! (1 MiB per thread), and anything larger is allocated for the call and freed after it.
//! Callers who want no allocation at all pass their own buffer (`search_with_table`).

use std::cell::Cell;

/// Floats served from the stack (32 KiB: safe on any host thread's stack).
pub(crate) const STACK_FLOATS: usize = 8192;

/// Largest per-thread buffer kept between calls, in floats (1 MiB).
pub(crate) const RETAIN_FLOATS: usize = 1 << 18;

thread_local! {
    static BUFFER: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on a buffer of `len` floats (contents unspecified).
pub(crate) fn with_f32<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    if len <= STACK_FLOATS {
        return f(&mut [0f32; STACK_FLOATS][..len]);
    }
    if len > RETAIN_FLOATS {
        return f(&mut vec![0f32; len]);
    }
    // Taking the buffer out of the cell (rather than borrowing it) keeps a nested call, or a
    // call during thread teardown, correct: it just finds no buffer and makes its own.
    let mut buf = BUFFER.try_with(Cell::take).unwrap_or_default();
    if buf.len() < len {
        buf = vec![0f32; len];
    }
    let r = f(&mut buf[..len]);
    let _ = BUFFER.try_with(|c| c.set(buf));
    r
}
