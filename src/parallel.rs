//! The one place that builds thread pools and runs loops over them (feature `parallel`).
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

/// `f` over `items`, on the current rayon pool when `parallel` (and the feature is on), else
/// in order on this thread; the results in item order either way. Every parallel loop of
/// the crate computes each item's result alone, so the thread count changes no bit.
pub(crate) fn map<T: Send, R: Send>(parallel: bool, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        return items.into_par_iter().map(f).collect();
    }
    let _ = parallel;
    items.into_iter().map(f).collect()
}
