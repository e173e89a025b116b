//! The module's functions: exact search, the quality metrics with the original tool's
//! definitions, the SIMD level, and the `vq-benchmark` command.

use crate::arrays::{rows, slice, OrPy};
use crate::common::{self, Found};
use crate::pq::metric;
use numpy::PyUntypedArrayMethods;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

/// Exact k nearest neighbours of each query among `rows` under `metric`: (distances,
/// labels), (nq, k), as FAISS's `IndexFlat.search`.
#[pyfunction]
#[pyo3(signature = (queries, rows, k, *, metric = "l2"))]
pub fn knn<'py>(
    py: Python<'py>,
    queries: &Bound<'py, PyAny>,
    rows: &Bound<'py, PyAny>,
    k: usize,
    metric: &str,
) -> PyResult<Found<'py>> {
    let metric = self::metric(metric)?;
    let r = self::rows::<f32>(rows, "rows", None)?;
    let dim = r.shape()[1];
    let q = self::rows::<f32>(queries, "queries", Some(dim))?;
    let (qv, rv, nq) = (slice(&q)?, slice(&r)?, q.shape()[0]);
    common::found(py, nq, k, |d, l| vq::exact::knn_with_metric(metric, dim, qv, rv, k, d, l))
}

/// recall@k: the share of each query's true top-k found in its returned top-k, averaged
/// over queries. `truth` (nq, ≥k) and `found` (nq, ≥k) int64 ids.
#[pyfunction]
pub fn recall_at_k(py: Python<'_>, truth: &Bound<'_, PyAny>, found: &Bound<'_, PyAny>, k: usize) -> PyResult<f64> {
    let t = rows::<i64>(truth, "truth", None)?;
    let f = rows::<i64>(found, "found", None)?;
    if t.shape()[0] != f.shape()[0] {
        return Err(PyValueError::new_err(format!(
            "truth has {} queries and found {}: expected the same number of rows",
            t.shape()[0],
            f.shape()[0]
        )));
    }
    let (tk, fk) = (t.shape()[1], f.shape()[1]);
    let (tv, fv) = (slice(&t)?, slice(&f)?);
    py.detach(|| vq::metrics::recall_at_k(tv, tk, fv, fk, k)).py()
}

/// Reconstruction MSE as the original tool defines it: the mean over rows of each row's
/// sum of squared errors.
#[pyfunction]
pub fn reconstruction_mse(
    py: Python<'_>,
    original: &Bound<'_, PyAny>,
    reconstructed: &Bound<'_, PyAny>,
) -> PyResult<f64> {
    let o = rows::<f32>(original, "original", None)?;
    let dim = o.shape()[1];
    let r = rows::<f32>(reconstructed, "reconstructed", Some(dim))?;
    let (ov, rv) = (slice(&o)?, slice(&r)?);
    py.detach(|| vq::metrics::reconstruction_mse(dim, ov, rv)).py()
}

/// `|d̂/d − 1|` over `num_pairs` seeded random pairs (`d` between two original rows, `d̂`
/// between their reconstructions): a dict of mean, median, max, std and pairs.
#[pyfunction]
#[pyo3(signature = (original, reconstructed, num_pairs = 1000, seed = 42))]
pub fn pairwise_distortion<'py>(
    py: Python<'py>,
    original: &Bound<'py, PyAny>,
    reconstructed: &Bound<'py, PyAny>,
    num_pairs: usize,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let o = rows::<f32>(original, "original", None)?;
    let dim = o.shape()[1];
    let r = rows::<f32>(reconstructed, "reconstructed", Some(dim))?;
    let (ov, rv) = (slice(&o)?, slice(&r)?);
    let p = py.detach(|| vq::metrics::pairwise_distortion(dim, ov, rv, num_pairs, seed)).py()?;
    let d = PyDict::new(py);
    d.set_item("mean", p.mean)?;
    d.set_item("median", p.median)?;
    d.set_item("max", p.max)?;
    d.set_item("std", p.std)?;
    d.set_item("pairs", p.pairs)?;
    Ok(d)
}

/// The SIMD level the kernels run at: `avx512`, `avx2`, `neon` or `scalar`.
#[pyfunction]
pub fn simd_level() -> &'static str {
    vq::simd::level().name()
}

/// The levels this CPU can run, best first.
#[pyfunction]
pub fn simd_available() -> Vec<&'static str> {
    vq::simd::available().iter().map(|l| l.name()).collect()
}

/// Runs the `vq-benchmark` command on `argv` (program name first) in this process, with the
/// GIL released, and returns its exit status. The `vq-benchmark` console script calls it.
#[pyfunction]
pub fn run_cli(py: Python<'_>, argv: Vec<OsString>) -> i32 {
    let code = py.detach(|| {
        // `run` gives SIGPIPE its default action, as a Unix filter wants (`vq-benchmark
        // export | head`); Python ignores SIGPIPE, and a notebook that calls this must
        // keep doing so afterwards, so the disposition is put back.
        #[cfg(target_os = "linux")]
        // SAFETY: reads the disposition (by setting one and restoring it at once); no
        // handler runs Rust code.
        let sigpipe = unsafe {
            let old = libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGPIPE, old);
            old
        };
        // The console script's own path runs the command again (a Slurm job script calls
        // it); this process's executable is the Python interpreter.
        let program = argv.first().map(std::path::Path::new).and_then(|p| std::path::absolute(p).ok());
        let code = crate::run(argv, program);
        #[cfg(target_os = "linux")]
        // SAFETY: restores the disposition read above.
        unsafe {
            libc::signal(libc::SIGPIPE, sigpipe);
        }
        // The Rust runtime flushes stdout when a Rust `main` returns; here Python's exit
        // follows, which knows nothing of Rust's buffer.
        let _ = std::io::stdout().flush();
        code
    });
    (0..=255u8).find(|&c| ExitCode::from(c) == code).map_or(1, i32::from)
}

/// The Rust library's own time for `ProductQuantizer::search` on these arrays: seconds of
/// each of `repeats` calls, timed in Rust around the library call alone (no Python, no
/// argument checks, no output arrays). The reference of `bench/bench_pq.py`, which times
/// the same call from Python on the same data; not part of the API.
#[pyfunction]
pub fn _bench_rust_pq_search(
    py: Python<'_>,
    pq: &crate::pq::ProductQuantizer,
    queries: &Bound<'_, PyAny>,
    codes: &Bound<'_, PyAny>,
    k: usize,
    repeats: usize,
) -> PyResult<Vec<f64>> {
    use vq::Quantizer;
    let q = &pq.inner;
    let qa = rows::<f32>(queries, "queries", Some(q.dim()))?;
    let ca = rows::<u8>(codes, "codes", Some(q.code_size()))?;
    let (qv, cv, nq) = (slice(&qa)?, slice(&ca)?, qa.shape()[0]);
    py.detach(|| {
        let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        (0..repeats)
            .map(|_| {
                let t = std::time::Instant::now();
                q.search(qv, cv, k, &mut d, &mut l)?;
                Ok(t.elapsed().as_secs_f64())
            })
            .collect::<Result<Vec<_>, vq::Error>>()
    })
    .py()
}

/// As [`_bench_rust_pq_search`] for `encode` of `x` into one reused code buffer.
#[pyfunction]
pub fn _bench_rust_pq_encode(
    py: Python<'_>,
    pq: &crate::pq::ProductQuantizer,
    x: &Bound<'_, PyAny>,
    repeats: usize,
) -> PyResult<Vec<f64>> {
    use vq::Quantizer;
    let q = &pq.inner;
    let xa = rows::<f32>(x, "x", Some(q.dim()))?;
    let (xv, n) = (slice(&xa)?, xa.shape()[0]);
    py.detach(|| {
        let mut c = vec![0u8; n * q.code_size()];
        (0..repeats)
            .map(|_| {
                let t = std::time::Instant::now();
                q.encode(xv, &mut c)?;
                Ok(t.elapsed().as_secs_f64())
            })
            .collect::<Result<Vec<_>, vq::Error>>()
    })
    .py()
}
