//! The calls every quantizer class has (`encode`, `decode`, `distances`, `search`, model
//! files), written once over [`vq::Quantizer`]; each runs the library with the GIL released.

use crate::arrays::{column, finite, matrix, rows, slice, vector, OrPy};
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use vq::Quantizer;

/// `train(dim, rows)` on the rows of `x` ((n, d) float32), with the GIL released.
pub fn train<T: Send>(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    train: impl FnOnce(usize, &[f32]) -> Result<T, vq::Error> + Send,
) -> PyResult<T> {
    let x = rows::<f32>(x, "x", None)?;
    let dim = x.shape()[1];
    let data = slice(&x)?;
    py.detach(|| train(dim, data)).py()
}

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

/// The one `#[pymethods]` block PyO3 allows per class: the methods every quantizer class
/// shares (`dim`, `code_size`, `metric`, `decode`, `distances`, `search`, the model-file
/// calls), written here once, and the class's own (`$own`). `$class` holds the library's
/// quantizer as `inner: $inner`; `$check(q, codes)` runs before any scan of codes (a product
/// quantizer's sub-code check, which turns hostile codes into an error).
macro_rules! quantizer_methods {
    ($class:ident, $inner:ty, $check:expr, { $($own:tt)* }) => {
        #[pyo3::pymethods]
        impl $class {
            $($own)*

            /// Dimension of the vectors.
            #[getter]
            fn dim(&self) -> usize {
                vq::Quantizer::dim(&self.inner)
            }

            /// Bytes per code.
            #[getter]
            fn code_size(&self) -> usize {
                vq::Quantizer::code_size(&self.inner)
            }

            /// `l2`, `ip` or `cosine`.
            #[getter]
            fn metric(&self) -> &'static str {
                vq::Quantizer::metric(&self.inner).name()
            }

            /// Reconstructions of `codes` ((n, code_size) uint8), (n, d) float32.
            fn decode<'py>(
                &self,
                py: pyo3::Python<'py>,
                codes: &pyo3::Bound<'py, pyo3::PyAny>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, numpy::PyArray2<f32>>> {
                $crate::common::decode(py, &self.inner, codes)
            }

            /// The score of every code for one query ((d,) float32), (n,) float32.
            fn distances<'py>(
                &self,
                py: pyo3::Python<'py>,
                query: &pyo3::Bound<'py, pyo3::PyAny>,
                codes: &pyo3::Bound<'py, pyo3::PyAny>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, numpy::PyArray1<f32>>> {
                let q = &self.inner;
                $crate::common::distances(py, q, query, codes, |c| ($check)(q, c))
            }

            /// Top-`k` codes of each query, as FAISS's `index.search`: (distances, labels),
            /// (nq, k) float32 and int64; labels -1 past the last code.
            fn search<'py>(
                &self,
                py: pyo3::Python<'py>,
                queries: &pyo3::Bound<'py, pyo3::PyAny>,
                codes: &pyo3::Bound<'py, pyo3::PyAny>,
                k: usize,
            ) -> pyo3::PyResult<$crate::common::Found<'py>> {
                let q = &self.inner;
                let inputs = $crate::common::SearchInputs::new(
                    queries,
                    codes,
                    vq::Quantizer::dim(q),
                    vq::Quantizer::code_size(q),
                )?;
                let (qv, c, nq) = inputs.slices()?;
                $crate::common::found(py, nq, k, |d, l| {
                    ($check)(q, c)?;
                    vq::Quantizer::search(q, qv, c, k, d, l)
                })
            }

            /// The model file's bytes (what `save` writes and the C ABI reads).
            fn to_bytes<'py>(&self, py: pyo3::Python<'py>) -> pyo3::Bound<'py, pyo3::types::PyBytes> {
                $crate::common::bytes(py, py.detach(|| self.inner.to_bytes()))
            }

            /// Reads a model file's bytes.
            #[staticmethod]
            fn from_bytes(py: pyo3::Python<'_>, data: &[u8]) -> pyo3::PyResult<Self> {
                use $crate::arrays::OrPy;
                Ok($class { inner: py.detach(|| <$inner>::from_bytes(data)).py()? })
            }

            /// Writes the model file to `path` (atomically: a temporary file renamed into
            /// place).
            fn save(&self, py: pyo3::Python<'_>, path: std::path::PathBuf) -> pyo3::PyResult<()> {
                use $crate::arrays::OrPy;
                py.detach(|| self.inner.save(&path)).py()
            }

            /// Reads a model file.
            #[staticmethod]
            fn load(py: pyo3::Python<'_>, path: std::path::PathBuf) -> pyo3::PyResult<Self> {
                use $crate::arrays::OrPy;
                Ok($class { inner: py.detach(|| <$inner>::load(&path)).py()? })
            }
        }
    };
}
pub(crate) use quantizer_methods;
