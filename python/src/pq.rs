//! `vq.ProductQuantizer`: [`vq::ProductQuantizer`], and its 4-bit fast scan over
//! `vq.PackedCodes`.

use crate::arrays::{column, finite, matrix, rows, slice, vector, view, OrPy};
use crate::common::{self, Found};
use crate::fastscan::PackedCodes;
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use vq::kmeans::Init;
use vq::{FastScanParams, Metric, PqParams, Quantizer};

/// A metric from its name (`l2`, `ip`, `cosine`, and the library's other spellings).
pub fn metric(name: &str) -> PyResult<Metric> {
    Metric::parse(name).py()
}

/// k-means initialisation from its name: `random` (FAISS's), `kmeans++`, `greedy-kmeans++`.
pub fn init(name: &str) -> PyResult<Init> {
    match name.to_ascii_lowercase().replace('_', "-").as_str() {
        "random" => Ok(Init::Random),
        "kmeans++" | "k-means++" | "plusplus" | "++" => Ok(Init::PlusPlus),
        "greedy-kmeans++" | "greedy-k-means++" | "greedy" => Ok(Init::GreedyPlusPlus),
        _ => Err(PyValueError::new_err(format!(
            "init = {name:?} is out of range, accepted: random, kmeans++ or greedy-kmeans++"
        ))),
    }
}

/// The k-means keyword arguments of every product quantizer's `train`.
pub struct KMeansArgs<'a> {
    pub seed: u64,
    pub iterations: usize,
    pub tol: f64,
    pub init: &'a str,
    pub hartigan_passes: usize,
    pub max_points_per_centroid: usize,
    pub threads: usize,
}

/// Applies the keyword arguments to the library's k-means settings.
pub fn kmeans(p: &mut vq::KMeansParams, a: &KMeansArgs<'_>) -> PyResult<()> {
    p.seed = a.seed;
    p.tol = a.tol;
    p.max_iter = a.iterations;
    p.init = init(a.init)?;
    p.hartigan_passes = a.hartigan_passes;
    p.max_points_per_centroid = a.max_points_per_centroid;
    p.threads = a.threads;
    Ok(())
}

/// A trained product quantizer: `m` sub-quantizers of `ksub` centroids. Immutable and safe
/// to share between threads; every call releases the GIL.
#[pyclass(module = "vq._vq", frozen)]
pub struct ProductQuantizer {
    pub(crate) inner: vq::ProductQuantizer,
}

common::quantizer_methods!(
    ProductQuantizer,
    vq::ProductQuantizer,
    |q: &vq::ProductQuantizer, c: &[u8]| q.check_codes(c),
    {
        /// Trains on the rows of `x` ((n, d) float32, C-contiguous).
        #[staticmethod]
        #[pyo3(signature = (x, m, ksub = 256, *, seed = 1234, iterations = 25, tol = 0.0, init = "random", hartigan_passes = 0, max_points_per_centroid = 256, threads = 0, metric = "l2"))]
        #[allow(clippy::too_many_arguments)]
        fn train(
            py: Python<'_>,
            x: &Bound<'_, PyAny>,
            m: usize,
            ksub: usize,
            seed: u64,
            iterations: usize,
            tol: f64,
            init: &str,
            hartigan_passes: usize,
            max_points_per_centroid: usize,
            threads: usize,
            metric: &str,
        ) -> PyResult<Self> {
            let mut params = PqParams::new(m, ksub);
            kmeans(
                &mut params.kmeans,
                &KMeansArgs { seed, iterations, tol, init, hartigan_passes, max_points_per_centroid, threads },
            )?;
            params.metric = self::metric(metric)?;
            let inner = common::train(py, x, |dim, data| vq::ProductQuantizer::train(dim, data, &params))?;
            Ok(ProductQuantizer { inner })
        }

        /// Sub-quantizers.
        #[getter]
        fn m(&self) -> usize {
            self.inner.m()
        }

        /// Centroids per sub-quantizer.
        #[getter]
        fn ksub(&self) -> usize {
            self.inner.ksub()
        }

        /// The codebooks, a read-only view: (m, ksub, d/m) when m divides d, else the flat
        /// `[m][ksub][dsub_i]` array.
        #[getter]
        fn centroids<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
            let q = &slf.get().inner;
            let c = q.centroids();
            if q.dim().is_multiple_of(q.m()) {
                view(slf.as_any(), c, &[q.m(), q.ksub(), q.dim() / q.m()])
            } else {
                view(slf.as_any(), c, &[c.len()])
            }
        }

        /// Codes of the rows of `x`, (n, code_size) uint8; `threads` > 1 (0: all cores) encodes
        /// in parallel, with the same codes.
        #[pyo3(signature = (x, *, threads = 1))]
        fn encode<'py>(
            &self,
            py: Python<'py>,
            x: &Bound<'py, PyAny>,
            threads: usize,
        ) -> PyResult<Bound<'py, PyArray2<u8>>> {
            common::encode(py, &self.inner, x, |q, v, c| {
                if threads == 1 {
                    q.encode(v, c)
                } else {
                    q.encode_parallel(v, c, threads)
                }
            })
        }

        /// The distance table of one query ((d,) float32): (m, ksub) float32.
        fn distance_table<'py>(
            &self,
            py: Python<'py>,
            query: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyArray2<f32>>> {
            let q = &self.inner;
            let query = vector::<f32>(query, "query", Some(q.dim()))?;
            let qv = slice(&query)?;
            let (m, ksub) = (q.m(), q.ksub());
            let t = py
                .detach(|| {
                    finite("query", qv)?;
                    let mut t = vec![0f32; m * ksub];
                    q.distance_table(qv, &mut t).map(|()| t)
                })
                .py()?;
            matrix(py, t, m, ksub)
        }

        /// Each code's sum of the `table` entries it selects ((m, ksub) float32 table, (n,
        /// code_size) codes): (n,) float32.
        fn adc_scan<'py>(
            &self,
            py: Python<'py>,
            table: &Bound<'py, PyAny>,
            codes: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyArray1<f32>>> {
            let q = &self.inner;
            let t = rows::<f32>(table, "table", Some(q.ksub()))?;
            if t.shape()[0] != q.m() {
                return Err(PyValueError::new_err(format!(
                    "table: expected shape ({}, {}), got {:?}",
                    q.m(),
                    q.ksub(),
                    t.shape()
                )));
            }
            let tv = slice(&t)?;
            let c = rows::<u8>(codes, "codes", Some(q.code_size()))?;
            let (c, n) = common::codes(&c)?;
            let out = py
                .detach(|| {
                    q.check_codes(c)?;
                    let mut out = vec![0f32; n];
                    q.adc_scan(tv, c, &mut out).map(|()| out)
                })
                .py()?;
            Ok(column(py, out))
        }

        /// Fast-scan search over `packed` codes (4-bit quantizers, `ksub <= 16`): the `k ·
        /// rerank_factor` best by 8-bit sums, re-ranked with the float table (0: the 8-bit sums).
        #[pyo3(signature = (queries, packed, k, *, rerank_factor = FastScanParams::default().rerank_factor))]
        fn search_packed<'py>(
            &self,
            py: Python<'py>,
            queries: &Bound<'py, PyAny>,
            packed: &PackedCodes,
            k: usize,
            rerank_factor: usize,
        ) -> PyResult<Found<'py>> {
            let q = &self.inner;
            let queries = rows::<f32>(queries, "queries", Some(q.dim()))?;
            let (qv, nq) = (slice(&queries)?, queries.shape()[0]);
            let params = FastScanParams { rerank_factor };
            common::found(py, nq, k, |d, l| q.search_packed(qv, &packed.inner, k, &params, d, l))
        }

        /// [`search_packed`] re-ranked against `vectors`, the encoded rows in full precision.
        #[pyo3(signature = (queries, packed, k, vectors, *, rerank_factor = FastScanParams::default().rerank_factor))]
        fn search_packed_refine<'py>(
            &self,
            py: Python<'py>,
            queries: &Bound<'py, PyAny>,
            packed: &PackedCodes,
            k: usize,
            vectors: &Bound<'py, PyAny>,
            rerank_factor: usize,
        ) -> PyResult<Found<'py>> {
            let q = &self.inner;
            let queries = rows::<f32>(queries, "queries", Some(q.dim()))?;
            let (qv, nq) = (slice(&queries)?, queries.shape()[0]);
            let vectors = rows::<f32>(vectors, "vectors", Some(q.dim()))?;
            let vv = slice(&vectors)?;
            let params = FastScanParams { rerank_factor };
            common::found(py, nq, k, |d, l| q.search_packed_refine(qv, &packed.inner, k, &params, vv, d, l))
        }

        /// Packs `codes` for fast scan (`ksub <= 16`).
        fn pack(&self, py: Python<'_>, codes: &Bound<'_, PyAny>) -> PyResult<PackedCodes> {
            let q = &self.inner;
            let c = rows::<u8>(codes, "codes", Some(q.code_size()))?;
            let c = slice(&c)?;
            let inner = py.detach(|| vq::PackedCodes::pack(q, c)).py()?;
            Ok(PackedCodes { inner })
        }

        fn __repr__(&self) -> String {
            let q = &self.inner;
            format!("ProductQuantizer(dim={}, m={}, ksub={}, metric={:?})", q.dim(), q.m(), q.ksub(), q.metric().name())
        }
    }
);
