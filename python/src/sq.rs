//! `vq.ScalarQuantizer`: [`vq::ScalarQuantizer`], 4, 8 or 16 bits per dimension.

use crate::arrays::{rows, slice, view, OrPy};
use crate::common::{self, Found, SearchInputs};
use crate::pq::metric;
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use vq::{Quantizer, SqBits};

/// A trained scalar quantizer. Immutable and safe to share between threads; every call
/// releases the GIL.
#[pyclass(module = "vq._vq", frozen)]
pub struct ScalarQuantizer {
    inner: vq::ScalarQuantizer,
}

#[pymethods]
impl ScalarQuantizer {
    /// Trains the per-dimension ranges on the rows of `x` ((n, d) float32).
    #[staticmethod]
    #[pyo3(signature = (x, bits = 8, *, metric = "l2"))]
    fn train(py: Python<'_>, x: &Bound<'_, PyAny>, bits: u32, metric: &str) -> PyResult<Self> {
        let bits = SqBits::from_bits(bits).py()?;
        let metric = self::metric(metric)?;
        let x = rows::<f32>(x, "x", None)?;
        let dim = x.shape()[1];
        let data = slice(&x)?;
        let inner = py.detach(|| vq::ScalarQuantizer::train_for(metric, bits, dim, data)).py()?;
        Ok(ScalarQuantizer { inner })
    }

    /// Dimension of the vectors.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    /// Bits per dimension: 4, 8 or 16.
    #[getter]
    fn bits(&self) -> u32 {
        match self.inner.bits() {
            SqBits::B4 => 4,
            SqBits::B8 => 8,
            _ => 16,
        }
    }

    /// Bytes per code.
    #[getter]
    fn code_size(&self) -> usize {
        self.inner.code_size()
    }

    /// `l2`, `ip` or `cosine`.
    #[getter]
    fn metric(&self) -> &'static str {
        self.inner.metric().name()
    }

    /// Per-dimension minimum, a read-only (d,) view.
    #[getter]
    fn vmin<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let v = slf.get().inner.vmin();
        view(slf.as_any(), v, &[v.len()])
    }

    /// Per-dimension maximum, a read-only (d,) view.
    #[getter]
    fn vmax<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let v = slf.get().inner.vmax();
        view(slf.as_any(), v, &[v.len()])
    }

    /// Codes of the rows of `x`, (n, code_size) uint8.
    fn encode<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        common::encode(py, &self.inner, x, |q, v, c| q.encode(v, c))
    }

    /// Reconstructions of `codes`, (n, d) float32.
    fn decode<'py>(&self, py: Python<'py>, codes: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        common::decode(py, &self.inner, codes)
    }

    /// The score of every code for one query, (n,) float32.
    fn distances<'py>(
        &self,
        py: Python<'py>,
        query: &Bound<'py, PyAny>,
        codes: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        common::distances(py, &self.inner, query, codes, |_| Ok(()))
    }

    /// Top-`k` codes of each query: (distances, labels), (nq, k).
    fn search<'py>(
        &self,
        py: Python<'py>,
        queries: &Bound<'py, PyAny>,
        codes: &Bound<'py, PyAny>,
        k: usize,
    ) -> PyResult<Found<'py>> {
        let q = &self.inner;
        let inputs = SearchInputs::new(queries, codes, q.dim(), q.code_size())?;
        let (qv, c, nq) = inputs.slices()?;
        common::found(py, nq, k, |d, l| q.search(qv, c, k, d, l))
    }

    /// The model file's bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        common::bytes(py, py.detach(|| self.inner.to_bytes()))
    }

    /// Reads a model file's bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<Self> {
        Ok(ScalarQuantizer { inner: py.detach(|| vq::ScalarQuantizer::from_bytes(data)).py()? })
    }

    /// Writes the model file to `path`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| self.inner.save(&path)).py()
    }

    /// Reads a model file.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        Ok(ScalarQuantizer { inner: py.detach(|| vq::ScalarQuantizer::load(&path)).py()? })
    }

    fn __repr__(&self) -> String {
        format!("ScalarQuantizer(dim={}, bits={}, metric={:?})", self.inner.dim(), self.bits(), self.metric())
    }
}
