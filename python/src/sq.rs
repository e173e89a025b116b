//! `vq.ScalarQuantizer`: [`vq::ScalarQuantizer`], 4, 8 or 16 bits per dimension.

use crate::arrays::{view, OrPy};
use crate::common::{self};
use crate::pq::metric;
use numpy::PyArray2;
use pyo3::prelude::*;
use vq::{Quantizer, SqBits};

/// A trained scalar quantizer. Immutable and safe to share between threads; every call
/// releases the GIL.
#[pyclass(module = "vq._vq", frozen)]
pub struct ScalarQuantizer {
    inner: vq::ScalarQuantizer,
}

common::quantizer_methods!(
    ScalarQuantizer,
    vq::ScalarQuantizer,
    |_: &vq::ScalarQuantizer, _: &[u8]| -> Result<(), vq::Error> { Ok(()) },
    {
        /// Trains the per-dimension ranges on the rows of `x` ((n, d) float32).
        #[staticmethod]
        #[pyo3(signature = (x, bits = 8, *, metric = "l2"))]
        fn train(py: Python<'_>, x: &Bound<'_, PyAny>, bits: u32, metric: &str) -> PyResult<Self> {
            let bits = SqBits::from_bits(bits).py()?;
            let metric = self::metric(metric)?;
            let inner = common::train(py, x, |dim, data| vq::ScalarQuantizer::train_for(metric, bits, dim, data))?;
            Ok(ScalarQuantizer { inner })
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

        fn __repr__(&self) -> String {
            format!("ScalarQuantizer(dim={}, bits={}, metric={:?})", self.inner.dim(), self.bits(), self.metric())
        }
    }
);
