//! The one place that builds thread pools (feature `parallel`).
//!
//! A pool is built once per public call that asked for threads and everything parallel
//! below it runs inside; building one per inner step (each k-means iteration, each
//! sub-quantizer) would spawn and join the threads again every time.

/// Runs `f` inside a rayon pool of `threads` threads (0: rayon's default, all cores). If the
/// pool cannot be built (the OS refuses threads), `f` runs in the caller's context, which
/// gives the same results: parallel work in this crate never depends on the thread count.
#[cfg(feature = "parallel")]
pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}
