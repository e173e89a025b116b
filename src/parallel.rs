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

/// Without the `parallel` feature there are no pools: `f` runs on the caller's thread.
#[cfg(not(feature = "parallel"))]
pub(crate) fn in_pool<R>(_threads: usize, f: impl FnOnce() -> R) -> R {
    f()
}

/// The thread count a caller's `threads` setting means: 0 is every core; 1 without the
/// `parallel` feature.
pub(crate) fn thread_count(threads: usize) -> usize {
    match threads {
        _ if !cfg!(feature = "parallel") => 1,
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
}

/// `f(0..n)` on `threads` threads of their own, each taking the next index as it finishes
/// one; the results in index order. For a few long independent jobs (whole
/// sub-quantizers), which need no work stealing: the threads end with the call, leaving no
/// idle pool behind. A thread the OS refuses leaves its share to the others, or to the
/// caller if it refuses them all.
pub(crate) fn map_on_threads<R: Send>(threads: usize, n: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<R>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let r = f(i);
        *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
    };
    std::thread::scope(|s| {
        let spawned = (0..threads.min(n)).filter(|_| std::thread::Builder::new().spawn_scoped(s, work).is_ok()).count();
        if spawned == 0 {
            work();
        }
    });
    slots.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner())).collect()
}

/// `f(worker)` for every worker, each on a thread of its own (the first on the caller's),
/// for workers that share their work through a counter and keep their own state (exact
/// search's heaps). A thread the OS refuses leaves its worker idle and its share of the
/// work to the others; the caller's thread always works.
pub(crate) fn on_threads<W: Send>(workers: &mut [W], f: impl Fn(&mut W) + Sync) {
    let Some((first, rest)) = workers.split_first_mut() else { return };
    let f = &f;
    std::thread::scope(|s| {
        for w in rest {
            let _ = std::thread::Builder::new().spawn_scoped(s, move || f(w));
        }
        f(first);
    });
}

/// `f` over `items`, on the current rayon pool when `parallel` (and the feature is on), else
/// in order on this thread; the results in item order either way. Every parallel loop of
/// the crate computes each item's result alone, so the thread count changes no bit.
///
/// Each item is its own task, so a thread that runs out of work can take any item not yet
/// started. Rayon's default splitting stops once every thread has work and runs the rest
/// in runs of several items; with items of unequal length (sub-quantizers whose k-means
/// stop at different iterations) a thread could then idle while another works through its
/// run. Items here are whole blocks of rows or whole sub-quantizers, far longer than the
/// microsecond or so a task costs.
pub(crate) fn map<T: Send, R: Send>(parallel: bool, items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        return items.into_par_iter().with_max_len(1).map(f).collect();
    }
    let _ = parallel;
    items.into_iter().map(f).collect()
}
