//! The SIMD level: detection, lowering, and the one place that names `pulp::Arch`.
//!
//! The best level is detected once per process. It can be lowered process-wide (by
//! [`set_level`] or the `VQ_SIMD` environment variable, read once) or for one scope of one
//! thread ([`with_level`]), so tests and benchmarks can run every kernel at every level the
//! machine has and compare them. Each public call reads the level once ([`Isa::current`]: a
//! relaxed atomic load and a thread-local read, paid per call, never per vector) and passes it
//! down to its kernels and worker threads.

use crate::Error;
use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// An instruction-set level a kernel can run at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Portable code, no explicit SIMD (what the compiler makes of plain Rust).
    Scalar = 0,
    /// x86-64-v3: AVX2 with FMA, 256-bit vectors.
    Avx2 = 1,
    /// x86-64-v4: AVX-512 (F, BW, CD, DQ, VL), 512-bit vectors.
    Avx512 = 2,
    /// aarch64 NEON (Advanced SIMD), 128-bit vectors.
    Neon = 3,
}

impl Level {
    /// The lower-case name used by `VQ_SIMD` and in reports: `scalar`, `avx2`, `avx512`, `neon`.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Scalar => "scalar",
            Level::Avx2 => "avx2",
            Level::Avx512 => "avx512",
            Level::Neon => "neon",
        }
    }

    /// Parses a name as accepted by `VQ_SIMD` (case-insensitive).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for any other name.
    pub fn parse(name: &str) -> Result<Level, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(Level::Scalar),
            "avx2" => Ok(Level::Avx2),
            "avx512" => Ok(Level::Avx512),
            "neon" => Ok(Level::Neon),
            _ => Err(Error::OutOfRange {
                what: "SIMD level",
                got: format!("{name:?}"),
                accepted: "scalar, avx2, avx512 or neon",
            }),
        }
    }

    const fn from_u8(v: u8) -> Level {
        match v {
            1 => Level::Avx2,
            2 => Level::Avx512,
            3 => Level::Neon,
            _ => Level::Scalar,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every level this CPU and build can run, best first (the last is always `Scalar`).
pub fn available() -> &'static [Level] {
    static AVAILABLE: OnceLock<Vec<Level>> = OnceLock::new();
    AVAILABLE.get_or_init(|| {
        let mut v = Vec::new();
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        {
            if pulp::x86::V4::try_new().is_some() {
                v.push(Level::Avx512);
            }
            if pulp::x86::V3::try_new().is_some() {
                v.push(Level::Avx2);
            }
        }
        #[cfg(target_arch = "aarch64")]
        {
            if pulp::aarch64::Neon::try_new().is_some() {
                v.push(Level::Neon);
            }
        }
        v.push(Level::Scalar);
        v
    })
}

/// The best level the CPU has.
pub fn detected() -> Level {
    available()[0]
}

const UNSET: u8 = u8::MAX;
static GLOBAL: AtomicU8 = AtomicU8::new(UNSET);

thread_local! {
    static SCOPED: Cell<Option<Level>> = const { Cell::new(None) };
}

fn check_available(level: Level) -> Result<(), Error> {
    if available().contains(&level) {
        Ok(())
    } else {
        Err(Error::SimdUnavailable {
            requested: level.name(),
            available: available().iter().map(|l| l.name()).collect::<Vec<_>>().join(", "),
        })
    }
}

fn global() -> Level {
    let v = GLOBAL.load(Ordering::Relaxed);
    if v != UNSET {
        return Level::from_u8(v);
    }
    // First call: honour VQ_SIMD once, falling back to detection. An unknown or
    // unavailable name is reported on stderr rather than silently ignored, because a
    // benchmark run at the wrong level would be mislabelled.
    let level = match std::env::var("VQ_SIMD") {
        Ok(name) if !name.is_empty() => match Level::parse(&name).and_then(|l| check_available(l).map(|_| l)) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("vq: ignoring VQ_SIMD: {e}");
                detected()
            }
        },
        _ => detected(),
    };
    // Another thread may have raced us; whichever wrote first wins, both are valid.
    let _ = GLOBAL.compare_exchange(UNSET, level as u8, Ordering::Relaxed, Ordering::Relaxed);
    Level::from_u8(GLOBAL.load(Ordering::Relaxed))
}

/// The level kernels run at on this thread now.
pub fn level() -> Level {
    SCOPED.with(Cell::get).unwrap_or_else(global)
}

/// Sets the process-wide level (lower than detected, or back to it).
///
/// # Errors
/// [`Error::SimdUnavailable`] if the CPU or build lacks `level`.
pub fn set_level(level: Level) -> Result<(), Error> {
    check_available(level)?;
    GLOBAL.store(level as u8, Ordering::Relaxed);
    Ok(())
}

/// Runs `f` with kernels on this thread forced to `level`, then restores the previous level
/// (also if `f` panics). The level holds for the whole of every call made in `f`, including
/// the work such a call hands to its worker threads.
///
/// # Errors
/// [`Error::SimdUnavailable`] if the CPU or build lacks `level`; `f` is not run.
pub fn with_level<R>(level: Level, f: impl FnOnce() -> R) -> Result<R, Error> {
    check_available(level)?;
    struct Restore(Option<Level>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SCOPED.with(|s| s.set(self.0));
        }
    }
    let _restore = Restore(SCOPED.with(|s| s.replace(Some(level))));
    Ok(f())
}

/// The instruction set of one public call: read once on the calling thread
/// ([`Isa::current`]) and passed down to every kernel and worker thread the call runs, so a
/// level lowered with [`with_level`] holds in the call's thread pool too (worker threads do
/// not see the caller's thread-local scope). Only a validated level makes one, which is
/// what lets [`Isa::dispatch`] build its token without testing CPU features again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa {
    level: Level,
    /// The [`trace`] a test started on the calling thread, 0 for none.
    #[cfg(test)]
    tag: u64,
}

impl Isa {
    /// The level kernels run at on this thread now.
    #[inline]
    pub(crate) fn current() -> Isa {
        Isa {
            level: level(),
            #[cfg(test)]
            tag: trace::current_tag(),
        }
    }

    /// The level this token dispatches to.
    #[cfg(test)]
    pub(crate) fn level(self) -> Level {
        self.level
    }

    /// The x86 tokens of this level (AVX-512's, AVX2's; `None` where the level lacks it),
    /// for the few kernels `pulp::Simd` cannot express, such as byte shuffles. Made as
    /// [`Self::dispatch`] makes them.
    #[cfg(target_arch = "x86_64")]
    #[inline]
    pub(crate) fn x86(self) -> (Option<pulp::x86::V4>, Option<pulp::x86::V3>) {
        match self.level {
            // SAFETY: AVX-512 level validated as available (see `dispatch`); it implies AVX2.
            Level::Avx512 => unsafe { (Some(pulp::x86::V4::new_unchecked()), Some(pulp::x86::V3::new_unchecked())) },
            // SAFETY: AVX2+FMA level validated as available (see `dispatch`).
            Level::Avx2 => (None, Some(unsafe { pulp::x86::V3::new_unchecked() })),
            _ => (None, None),
        }
    }

    /// Runs `op` at this level: the one place (with [`Self::x86`]) a `pulp::Arch` is made.
    #[inline]
    pub(crate) fn dispatch<Op: pulp::WithSimd>(self, op: Op) -> Op::Output {
        #[cfg(test)]
        trace::record(self);
        // `self.level` is `Scalar` or a level that passed `check_available` (detection,
        // `set_level` and `with_level` all go through it), so the CPU has every feature the
        // token stands for. Building it unchecked keeps dispatch to a byte compare instead
        // of a dozen feature tests.
        let arch = match self.level {
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            // SAFETY: AVX-512 level validated as available (see above).
            Level::Avx512 => pulp::Arch::V4(unsafe { pulp::x86::V4::new_unchecked() }),
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            // SAFETY: AVX2+FMA level validated as available (see above).
            Level::Avx2 => pulp::Arch::V3(unsafe { pulp::x86::V3::new_unchecked() }),
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON level validated as available (see above).
            Level::Neon => pulp::Arch::Neon(unsafe { pulp::aarch64::Neon::new_unchecked() }),
            _ => pulp::Arch::Scalar,
        };
        arch.dispatch(op)
    }
}

/// Which level every kernel dispatch of a call ran at, and on which thread: how the tests
/// prove that a lowered level reaches a call's worker threads. A trace tags the [`Isa`]s
/// made on its thread, and the tag travels with them, so concurrent tests do not mix.
#[cfg(test)]
pub(crate) mod trace {
    // Only the thread-pool test reads traces, and pools need the `parallel` feature.
    #![cfg_attr(not(feature = "parallel"), allow(dead_code))]

    use super::{Isa, Level};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;
    use std::thread::ThreadId;

    thread_local! {
        static TAG: Cell<u64> = const { Cell::new(0) };
    }
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static SEEN: Mutex<Vec<(u64, Level, ThreadId)>> = Mutex::new(Vec::new());

    pub(super) fn current_tag() -> u64 {
        TAG.with(Cell::get)
    }

    pub(super) fn record(isa: Isa) {
        if isa.tag != 0 {
            SEEN.lock().unwrap_or_else(|e| e.into_inner()).push((isa.tag, isa.level, std::thread::current().id()));
        }
    }

    /// Runs `f`, returning its result and the `(level, ran on another thread)` of every
    /// dispatch made under it.
    pub(crate) fn traced<R>(f: impl FnOnce() -> R) -> (R, Vec<(Level, bool)>) {
        let tag = NEXT.fetch_add(1, Ordering::Relaxed);
        let before = TAG.with(|t| t.replace(tag));
        let r = f();
        TAG.with(|t| t.set(before));
        let me = std::thread::current().id();
        let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
        let mine = seen.iter().filter(|e| e.0 == tag).map(|e| (e.1, e.2 != me)).collect();
        seen.retain(|e| e.0 != tag);
        (r, mine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_always_available_and_last() {
        assert_eq!(*available().last().unwrap(), Level::Scalar);
        assert!(available().contains(&detected()));
    }

    #[test]
    fn with_level_scopes_and_restores() {
        let before = level();
        let inside = with_level(Level::Scalar, level).unwrap();
        assert_eq!(inside, Level::Scalar);
        assert_eq!(level(), before);
    }

    #[test]
    fn parse_names() {
        for l in [Level::Scalar, Level::Avx2, Level::Avx512, Level::Neon] {
            assert_eq!(Level::parse(l.name()).unwrap(), l);
        }
        let e = Level::parse("sse9").unwrap_err().to_string();
        assert!(e.contains("sse9") && e.contains("avx512"), "{e}");
    }

    /// Every call that runs work on a thread pool: the lowest level set on the calling thread
    /// is the one every dispatch ran at, on the workers too.
    #[cfg(feature = "parallel")]
    #[test]
    fn a_lowered_level_reaches_the_workers_of_a_call() {
        use crate::kmeans::{Assignment, KMeans, KMeansParams};
        use crate::{PqParams, ProductQuantizer, Quantizer};
        let (dim, n) = (8, 3000);
        let x: Vec<f32> = (0..n * dim).map(|i| ((i * 7919) % 1013) as f32 / 1013.0).collect();
        let lowest = *available().last().unwrap();
        type Run = Box<dyn Fn()>;
        let mut runs: Vec<(&str, Run)> = Vec::new();
        for (name, assignment) in [("exact", Assignment::Exact), ("coarse", Assignment::Coarse { nprobe: 2 })] {
            let x = x.clone();
            runs.push((
                name,
                Box::new(move || {
                    let mut p = KMeansParams::new(40);
                    (p.threads, p.max_iter, p.hartigan_passes, p.assignment) = (2, 3, 1, assignment);
                    KMeans::train(dim, &x, &p).unwrap();
                }),
            ));
        }
        for m in [1, 4] {
            // One sub-quantizer: its k-means on the pool; four: one per worker.
            let x = x.clone();
            runs.push((
                if m == 1 { "pq train, k-means on the pool" } else { "pq train, sub-quantizers on the pool" },
                Box::new(move || {
                    let mut p = PqParams::new(m, 16);
                    (p.kmeans.threads, p.kmeans.max_iter) = (2, 2);
                    ProductQuantizer::train(dim, &x, &p).unwrap();
                }),
            ));
        }
        let xe = x.clone();
        runs.push((
            "exact search",
            Box::new(move || {
                use crate::exact::{ExactSearch, Metric};
                let mut s = ExactSearch::new(dim, &xe[..16 * dim], 5, Metric::L2, 2).unwrap();
                s.add(&xe, 0).unwrap();
            }),
        ));
        let pq = ProductQuantizer::train(dim, &x, &PqParams::new(2, 16)).unwrap();
        let codes = vec![0u8; n * pq.code_size()];
        runs.push(("encode_parallel", Box::new(move || pq.encode_parallel(&x, &mut codes.clone(), 2).unwrap())));
        for (name, run) in runs {
            let (_, seen) = trace::traced(|| with_level(lowest, &run).unwrap());
            assert!(seen.iter().any(|&(_, worker)| worker), "{name}: no kernel ran on a worker thread");
            assert!(seen.iter().all(|&(l, _)| l == lowest), "{name}: {seen:?}, wanted {lowest:?}");
        }
    }

    #[test]
    fn unavailable_level_is_an_error() {
        #[cfg(target_arch = "x86_64")]
        assert!(matches!(with_level(Level::Neon, || ()), Err(Error::SimdUnavailable { .. })));
    }
}
