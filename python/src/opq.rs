//! `vq.OpqQuantizer`: [`vq::OpqQuantizer`], a learned rotation followed by a product
//! quantizer.

use crate::arrays::view;
use crate::common::{self};
use crate::pq::{kmeans, metric, KMeansArgs, ProductQuantizer};
use numpy::PyArray2;
use pyo3::prelude::*;
use vq::{OpqParams, Quantizer};

/// A trained OPQ quantizer. Immutable and safe to share between threads; every call
/// releases the GIL.
#[pyclass(module = "vq._vq", frozen)]
pub struct OpqQuantizer {
    inner: vq::OpqQuantizer,
}

common::quantizer_methods!(OpqQuantizer, vq::OpqQuantizer, |q: &vq::OpqQuantizer, c: &[u8]| q.pq().check_codes(c), {
    /// Trains the rotation and the product quantizer on the rows of `x` ((n, d) float32),
    /// with FAISS's `OPQMatrix` defaults.
    #[staticmethod]
    #[pyo3(signature = (x, m, ksub = 256, *, d_out = None, niter = 50, niter_pq = 4, niter_pq_0 = 40, max_train_points = 65536, inner_points_per_centroid = 1000, seed = 1234, iterations = 25, tol = 0.0, init = "random", hartigan_passes = 0, max_points_per_centroid = 256, threads = 1, metric = "l2"))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        m: usize,
        ksub: usize,
        d_out: Option<usize>,
        niter: usize,
        niter_pq: usize,
        niter_pq_0: usize,
        max_train_points: usize,
        inner_points_per_centroid: usize,
        seed: u64,
        iterations: usize,
        tol: f64,
        init: &str,
        hartigan_passes: usize,
        max_points_per_centroid: usize,
        threads: usize,
        metric: &str,
    ) -> PyResult<Self> {
        let mut p = OpqParams::new(m, ksub);
        p.d_out = d_out;
        p.niter = niter;
        p.niter_pq = niter_pq;
        p.niter_pq_0 = niter_pq_0;
        p.max_train_points = max_train_points;
        p.inner_points_per_centroid = inner_points_per_centroid;
        p.seed = seed;
        p.threads = threads;
        kmeans(
            &mut p.kmeans,
            &KMeansArgs { seed, iterations, tol, init, hartigan_passes, max_points_per_centroid, threads },
        )?;
        p.metric = self::metric(metric)?;
        let inner = common::train(py, x, |dim, data| vq::OpqQuantizer::train(dim, data, &p))?;
        Ok(OpqQuantizer { inner })
    }

    /// The rotation's output dimension (the product quantizer's).
    #[getter]
    fn d_out(&self) -> usize {
        self.inner.d_out()
    }

    /// Sub-quantizers.
    #[getter]
    fn m(&self) -> usize {
        self.inner.pq().m()
    }

    /// Centroids per sub-quantizer.
    #[getter]
    fn ksub(&self) -> usize {
        self.inner.pq().ksub()
    }

    /// The rotation `R`, a read-only (d_out, d) view.
    #[getter]
    fn rotation<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let q = &slf.get().inner;
        view(slf.as_any(), q.rotation(), &[q.d_out(), q.dim()])
    }

    /// The inner product quantizer (a copy), over rotated vectors.
    #[getter]
    fn pq(&self) -> ProductQuantizer {
        ProductQuantizer { inner: self.inner.pq().clone() }
    }

    /// Codes of the rows of `x`, (n, code_size) uint8.
    fn encode<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<u8>>> {
        common::encode(py, &self.inner, x, |q, v, c| q.encode(v, c))
    }

    fn __repr__(&self) -> String {
        let q = &self.inner;
        format!(
            "OpqQuantizer(dim={}, d_out={}, m={}, ksub={}, metric={:?})",
            q.dim(),
            q.d_out(),
            self.m(),
            self.ksub(),
            self.metric()
        )
    }
});
