//! `vq.PackedCodes`: a 4-bit product quantizer's codes in the fast-scan block layout
//! ([`vq::PackedCodes`]), made by `ProductQuantizer.pack` and searched by
//! `ProductQuantizer.search_packed`.

use crate::arrays::{matrix, OrPy};
use crate::pq::ProductQuantizer;
use numpy::PyArray2;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use vq::Quantizer;

/// Codes packed 32 to a block for fast scan. Immutable.
#[pyclass(module = "vq._vq", frozen)]
pub struct PackedCodes {
    pub(crate) inner: vq::PackedCodes,
}

#[pymethods]
impl PackedCodes {
    /// Packed bytes of `n` codes of `m` sub-quantizers, as `to_bytes` gives them, checked
    /// against `pq`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, pq: &ProductQuantizer, n: usize, data: &[u8]) -> PyResult<Self> {
        let inner = py.detach(|| vq::PackedCodes::from_bytes_for(&pq.inner, n, data.to_vec())).py()?;
        Ok(PackedCodes { inner })
    }

    /// The packed bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.as_bytes())
    }

    /// The plain codes back, (n, code_size) uint8 for `pq`.
    fn unpack<'py>(&self, py: Python<'py>, pq: &ProductQuantizer) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let cs = pq.inner.code_size();
        let n = self.inner.len();
        let out = py
            .detach(|| {
                let mut out = vec![0u8; n * cs];
                self.inner.unpack(&mut out).map(|()| out)
            })
            .py()?;
        matrix(py, out, n, cs)
    }

    /// Sub-quantizers.
    #[getter]
    fn m(&self) -> usize {
        self.inner.m()
    }

    /// Codes held.
    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("PackedCodes(m={}, n={})", self.inner.m(), self.inner.len())
    }
}
