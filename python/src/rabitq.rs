//! `vq.RabitqQuantizer`: [`vq::RabitqQuantizer`], a random rotation and 1 to 9 bits per
//! dimension with error bounds.

use crate::arrays::{column, finite, rows, slice, vector, view, OrPy};
use crate::common::{self, Found, SearchInputs};
use crate::pq::metric;
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use vq::{Quantizer, QueryBits, RabitqParams};

/// `estimate`'s (estimates, half-widths), (n,) float32 each.
type Estimates<'py> = (Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<f32>>);

/// A trained RaBitQ quantizer. Immutable and safe to share between threads (its query-time
/// settings are chosen at training); every call releases the GIL.
#[pyclass(module = "vq._vq", frozen)]
pub struct RabitqQuantizer {
    inner: vq::RabitqQuantizer,
}

common::quantizer_methods!(
    RabitqQuantizer,
    vq::RabitqQuantizer,
    |_: &vq::RabitqQuantizer, _: &[u8]| -> Result<(), vq::Error> { Ok(()) },
    {
        /// Draws the rotation and takes the centroid (by default the mean of `x`'s rows).
        /// `qb` is the query's bits in the 1-bit estimate (0: a float query).
        #[staticmethod]
        #[pyo3(signature = (x, bits = 1, *, qb = 4, metric = "l2", seed = 1234, centroid = None, epsilon = 1.9))]
        #[allow(clippy::too_many_arguments)]
        fn train(
            py: Python<'_>,
            x: &Bound<'_, PyAny>,
            bits: u32,
            qb: u32,
            metric: &str,
            seed: u64,
            centroid: Option<&Bound<'_, PyAny>>,
            epsilon: f32,
        ) -> PyResult<Self> {
            let mut p = RabitqParams::new(bits);
            p.qb = QueryBits::from_number(qb).py()?;
            p.metric = self::metric(metric)?;
            p.seed = seed;
            p.epsilon = epsilon;
            let x = rows::<f32>(x, "x", None)?;
            let dim = x.shape()[1];
            if let Some(c) = centroid {
                p.centroid = Some(slice(&vector::<f32>(c, "centroid", Some(dim))?)?.to_vec());
            }
            let data = slice(&x)?;
            let inner = py.detach(|| vq::RabitqQuantizer::train(dim, data, &p)).py()?;
            Ok(RabitqQuantizer { inner })
        }

        /// Bits per dimension.
        #[getter]
        fn bits(&self) -> u32 {
            self.inner.bits()
        }

        /// The query's bits in the 1-bit estimate (0: float).
        #[getter]
        fn qb(&self) -> u32 {
            self.inner.qb().number()
        }

        /// The bounds' confidence parameter ε₀.
        #[getter]
        fn epsilon(&self) -> f32 {
            self.inner.epsilon()
        }

        /// The rotation, a read-only (d, d) view.
        #[getter]
        fn rotation<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
            let d = slf.get().inner.dim();
            view(slf.as_any(), slf.get().inner.rotation(), &[d, d])
        }

        /// The centroid codes are centred on, a read-only (d,) view.
        #[getter]
        fn centroid<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
            let d = slf.get().inner.dim();
            view(slf.as_any(), slf.get().inner.centroid(), &[d])
        }

        /// Codes of the rows of `x`, (n, code_size) uint8.
        fn encode<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<u8>>> {
            common::encode(py, &self.inner, x, |q, v, c| q.encode(v, c))
        }

        /// The full estimate of every code and the half-width of its interval: (est, half),
        /// (n,) float32 each.
        fn estimate<'py>(
            &self,
            py: Python<'py>,
            query: &Bound<'py, PyAny>,
            codes: &Bound<'py, PyAny>,
        ) -> PyResult<Estimates<'py>> {
            let q = &self.inner;
            let query = vector::<f32>(query, "query", Some(q.dim()))?;
            let qv = slice(&query)?;
            let c = rows::<u8>(codes, "codes", Some(q.code_size()))?;
            let (c, n) = common::codes(&c)?;
            let (e, h) = py
                .detach(|| {
                    finite("query", qv)?;
                    let (mut e, mut h) = (vec![0f32; n], vec![0f32; n]);
                    q.estimate(qv, c, &mut e, &mut h).map(|()| (e, h))
                })
                .py()?;
            Ok((column(py, e), column(py, h)))
        }

        /// [`search`] re-ranked against `vectors` (the encoded rows in full precision): exact
        /// scores wherever the bounds hold.
        fn search_refine<'py>(
            &self,
            py: Python<'py>,
            queries: &Bound<'py, PyAny>,
            codes: &Bound<'py, PyAny>,
            k: usize,
            vectors: &Bound<'py, PyAny>,
        ) -> PyResult<Found<'py>> {
            let q = &self.inner;
            let inputs = SearchInputs::new(queries, codes, q.dim(), q.code_size())?;
            let (qv, c, nq) = inputs.slices()?;
            let vectors = rows::<f32>(vectors, "vectors", Some(q.dim()))?;
            let vv = slice(&vectors)?;
            common::found(py, nq, k, |d, l| q.search_refine(qv, c, k, vv, d, l).map(|_| ()))
        }

        fn __repr__(&self) -> String {
            let q = &self.inner;
            format!("RabitqQuantizer(dim={}, bits={}, qb={}, metric={:?})", q.dim(), q.bits(), self.qb(), self.metric())
        }
    }
);
