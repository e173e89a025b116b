//! The calls every quantizer class has (`encode`, `decode`, `distances`, `search`, model
//! files), written once over [`vq::Quantizer`]; each runs the library with the GIL released.

use crate::arrays::{column, finite, matrix, rows, slice, vector, OrPy};
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use vq::Quantizer;

/// Codes of `q` for the rows of `x` (`(n, dim)` float32), `(n, code_size)` uint8.
pub fn encode<'py, Q: Quantizer + Sync>(
    py: Python<'py>,
    q: &Q,
    x: &Bound<'py, PyAny>,
    run: impl FnOnce(&Q, &[f32], &mut [u8]) -> Result<(), vq::Error> + Send,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let x = rows::<f32>(x, "x", Some(q.dim()))?;
    let v = slice(&x)?;
    let n = v.len() / q.dim();
    let cs = q.code_size();
    let codes = py
        .detach(|| {
            finite("vectors", v)?;
            let mut codes = vec![0u8; n * cs];
            run(q, v, &mut codes).map(|()| codes)
        })
        .py()?;
    matrix(py, codes, n, cs)
}

/// `(n, code_size)` uint8 codes as a slice, and `n`.
pub fn codes<'a>(c: &'a numpy::PyReadonlyArray2<'_, u8>) -> PyResult<(&'a [u8], usize)> {
    let n = c.shape()[0];
    Ok((slice(c)?, n))
}

/// The reconstructions of `codes`, `(n, dim)` float32.
pub fn decode<'py, Q: Quantizer + Sync>(
    py: Python<'py>,
    q: &Q,
    codes_obj: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let c = rows::<u8>(codes_obj, "codes", Some(q.code_size()))?;
    let (c, n) = codes(&c)?;
    let dim = q.dim();
    let out = py
        .detach(|| {
            let mut out = vec![0f32; n * dim];
            q.decode(c, &mut out).map(|()| out)
        })
        .py()?;
    matrix(py, out, n, dim)
}

/// The score of every code for one query (`(dim,)` float32), `(n,)` float32; `check` runs
/// first on the codes (a product quantizer's sub-code check).
pub fn distances<'py, Q: Quantizer + Sync>(
    py: Python<'py>,
    q: &Q,
    query: &Bound<'py, PyAny>,
    codes_obj: &Bound<'py, PyAny>,
    check: impl FnOnce(&[u8]) -> Result<(), vq::Error> + Send,
) -> PyResult<Bound<'py, PyArray1<f32>>> {
    let query = vector::<f32>(query, "query", Some(q.dim()))?;
    let qv = slice(&query)?;
    let c = rows::<u8>(codes_obj, "codes", Some(q.code_size()))?;
    let (c, n) = codes(&c)?;
    let out = py
        .detach(|| {
            finite("query", qv)?;
            check(c)?;
            let mut out = vec![0f32; n];
            q.distances(qv, c, &mut out).map(|()| out)
        })
        .py()?;
    Ok(column(py, out))
}

/// FAISS's `(distances, labels)`: `(nq, k)` float32 and int64.
pub type Found<'py> = (Bound<'py, PyArray2<f32>>, Bound<'py, PyArray2<i64>>);

/// The checked inputs of a search: the queries' floats and `nq`, the codes' bytes.
pub struct SearchInputs<'py> {
    queries: numpy::PyReadonlyArray2<'py, f32>,
    codes: numpy::PyReadonlyArray2<'py, u8>,
}

impl<'py> SearchInputs<'py> {
    /// `queries` `(nq, dim)` float32 and `codes` `(n, code_size)` uint8.
    pub fn new(queries: &Bound<'py, PyAny>, codes: &Bound<'py, PyAny>, dim: usize, code_size: usize) -> PyResult<Self> {
        Ok(SearchInputs {
            queries: rows::<f32>(queries, "queries", Some(dim))?,
            codes: rows::<u8>(codes, "codes", Some(code_size))?,
        })
    }

    /// The slices and `nq`.
    pub fn slices(&self) -> PyResult<(&[f32], &[u8], usize)> {
        Ok((slice(&self.queries)?, slice(&self.codes)?, self.queries.shape()[0]))
    }
}

/// Runs `search` (which fills `nq·k` distances and labels) with the GIL released, and
/// shapes the results as FAISS does. The result arrays are allocated fallibly: a `k` too
/// large for memory is a `MemoryError`, not an abort.
pub fn found<'py>(
    py: Python<'py>,
    nq: usize,
    k: usize,
    search: impl FnOnce(&mut [f32], &mut [i64]) -> Result<(), vq::Error> + Send,
) -> PyResult<Found<'py>> {
    let len =
        nq.checked_mul(k).ok_or_else(|| PyValueError::new_err(format!("k = {k} for {nq} queries: nq·k overflows")))?;
    let (mut d, mut l) = (zeroed::<f32>(len, k)?, zeroed::<i64>(len, k)?);
    py.detach(|| search(&mut d, &mut l)).py()?;
    Ok((matrix(py, d, nq, k)?, matrix(py, l, nq, k)?))
}

/// `len` zeros, or a `MemoryError` naming `k` when they do not fit.
fn zeroed<T: Clone + Default>(len: usize, k: usize) -> PyResult<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|e| {
        PyMemoryError::new_err(format!("k = {k}: the results ({len} entries) do not fit in memory: {e}"))
    })?;
    v.resize(len, T::default());
    Ok(v)
}

/// The model file's bytes as Python `bytes`.
pub fn bytes<'py>(py: Python<'py>, b: Vec<u8>) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &b)
}
