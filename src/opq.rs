//! Optimized product quantization (OPQ): an orthogonal rotation learned so that product
//! quantization of the rotated vectors loses less.
//!
//! Plain PQ cuts a vector into contiguous sub-spaces; when the variance is unevenly spread
//! over the dimensions, or the dimensions of one sub-space are correlated, some codebooks
//! are wasted on little variance while others cannot cover theirs. A rotation `R` moves
//! the variance between sub-spaces without changing any distance (`‖R x − R y‖ = ‖x − y‖`,
//! `R x · R y = x · y`), so PQ of `R x` keeps every metric PQ supports.
//!
//! **Training** is the non-parametric alternation of Ge et al. ("Optimized Product
//! Quantization", TPAMI 2014) as FAISS's `OPQMatrix::train` runs it, so its figures can
//! be compared one for one:
//!
//! 1. at most `max_train_points` rows (a seeded sample), centred on their mean;
//! 2. `R` starts as the `Q` of the QR factorisation of a seeded Gaussian matrix;
//! 3. `niter` times: project the rows (`Y = X Rᵀ`), train a PQ on `Y` (`niter_pq_0`
//!    k-means iterations the first time, then `niter_pq` iterations hot-started from the
//!    previous codebooks, all training rows used: FAISS sets 1,000 points per centroid),
//!    encode and decode `Y` into `Ŷ`, and solve the orthogonal Procrustes problem
//!    `min ‖X Rᵀ − Ŷ‖` over orthogonal `R`: with `Ŷᵀ X = U Σ Vᵀ`, `R = U Vᵀ`;
//! 4. the final PQ is trained anew on every (uncentred) training row rotated by `R`, with
//!    the PQ defaults, as FAISS's `OPQ{m},PQ{m}` index does after the rotation.
//!
//! **Output dimension.** With `d_out > d` the rows are padded with zeros to `d_out` (FAISS's
//! `OPQMatrix(d, M, d2)`), the learned rotation is `d_out × d_out`, and its first `d`
//! columns are kept: `R` is `d_out × d` with orthonormal columns (`Rᵀ R = I_d`), so `R x`
//! keeps norms and inner products and `Rᵀ` undoes it. Its rows cannot be orthonormal
//! (`d_out` rows in `d` dimensions) unless `d_out = d`.
//!
//! **Determinism.** Every random choice comes from `seed` and the k-means seeds; the
//! products and factorisations run on one thread, and the PQ training and encoding give
//! the same bits for any thread count, so the result does not depend on `threads`.
//!
//! **Linear algebra.** The QR and the SVD (`d_out × d_out`) are faer's; the two large
//! products of each outer iteration (`X Rᵀ`, `n × d × d_out`, and `Ŷᵀ X`, the same size)
//! run through `matrixmultiply`, as k-means does: at 25,000 × 384 on one thread (Zen 3,
//! `benches/opq.rs`) it took 94 and 90 ms where faer's product took 84 and 111 ms, a
//! wash, and its sums follow a fixed blocking, so splitting rows changes no bit.
//!
//! **Hot path.** [`OpqQuantizer`]'s `encode`, `decode`, `distances` and `search` rotate 16
//! rows at a time on the dot-product kernel ([`crate::kernels::l2`]), each rotation row
//! loaded once per block and reused by its 16 rows, into a stack buffer, then call the
//! inner PQ: they allocate nothing beyond what the PQ's own calls do, as long as
//! `d_out ≤ 8192` (larger rotations need a per-thread buffer, see `scratch.rs`).

use crate::error::{exact_len, exact_rows_len, rows_of};
use crate::kernels::gemm::{gemm, Mat};
use crate::kernels::matvec::{apply, BLOCK};
use crate::kmeans::{gather, sorted_sample, KMeansParams};
use crate::metric::{normalize_rows, Metric};
use crate::pq::{PqParams, ProductQuantizer};
use crate::quantizer::Quantizer;
use crate::scratch::STACK_FLOATS;
use crate::search::check_search;
use crate::simd::Isa;
use crate::{parallel, Error};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Training parameters of an [`OpqQuantizer`].
#[derive(Debug, Clone, PartialEq)]
pub struct OpqParams {
    /// Sub-quantizers, `1..=d_out`.
    pub m: usize,
    /// Centroids per sub-quantizer, `2..=65536`.
    pub ksub: usize,
    /// Output dimension of the rotation, at least the input dimension (`None`: the input
    /// dimension). The PQ quantizes `d_out` dimensions.
    pub d_out: Option<usize>,
    /// Outer iterations (rotation updates); FAISS: 50. 0 keeps the random rotation.
    pub niter: usize,
    /// k-means iterations of the PQ in every outer iteration after the first, each
    /// started from the previous codebooks; FAISS: 4.
    pub niter_pq: usize,
    /// k-means iterations of the PQ in the first outer iteration (random start); FAISS: 40.
    pub niter_pq_0: usize,
    /// Training rows used for the rotation at most (a seeded sample beyond); FAISS: 65,536.
    /// The final PQ trains on every row (subject to its own k-means cap).
    pub max_train_points: usize,
    /// k-means rows per centroid for the PQ inside the alternation; FAISS: 1,000.
    pub inner_points_per_centroid: usize,
    /// Seed of the training-row sample and of the random starting rotation.
    pub seed: u64,
    /// Threads (feature `parallel`): 0 all cores, 1 one thread. The result does not depend
    /// on it.
    pub threads: usize,
    /// k-means settings of every PQ: the final one uses them as [`PqParams`] does; the
    /// alternation's replaces `max_iter` (by `niter_pq_0` / `niter_pq`) and
    /// `max_points_per_centroid` (by `inner_points_per_centroid`). Its `threads` is ignored
    /// in favour of [`Self::threads`].
    pub kmeans: KMeansParams,
    /// How the quantizer searches (default L2), held by its inner PQ. For cosine the
    /// rotation and the PQ are trained on the normalized rows.
    pub metric: Metric,
}

impl OpqParams {
    /// `m` sub-quantizers of `ksub` centroids with FAISS's `OPQMatrix` defaults (50 outer
    /// iterations, 40 then 4 PQ iterations, 65,536 training rows, 1,000 points per centroid
    /// inside the loop, seed 1234), the final PQ as [`PqParams::new`], one thread.
    pub fn new(m: usize, ksub: usize) -> Self {
        OpqParams {
            m,
            ksub,
            d_out: None,
            niter: 50,
            niter_pq: 4,
            niter_pq_0: 40,
            max_train_points: 256 * 256,
            inner_points_per_centroid: 1000,
            seed: 1234,
            threads: 1,
            kmeans: PqParams::new(m, ksub).kmeans,
            metric: Metric::L2,
        }
    }
}

/// A rotation followed by a product quantizer. Immutable: share it freely across threads.
///
/// Codes are the inner PQ's codes of `R x`; decoding applies `Rᵀ` to the PQ's
/// reconstruction. Distances are the PQ's, computed against the rotated query: the
/// rotation preserves norms and inner products, so the metric is the inner PQ's.
#[derive(Debug, Clone, PartialEq)]
pub struct OpqQuantizer {
    dim: usize,
    d_out: usize,
    /// `R`, `d_out × dim` row-major.
    rotation: Vec<f32>,
    /// `Rᵀ`, `dim × d_out` row-major: decode's rows, one dot product per output dimension.
    rotation_t: Vec<f32>,
    pq: ProductQuantizer,
}

/// Largest entry of `|Rᵀ R − I|` [`OpqQuantizer::from_parts`] accepts. Entries of `Rᵀ R`
/// are cosines of column pairs (and squared column norms on the diagonal), so this bound is
/// relative to unit columns; a trained rotation, stored in f32, is within about 1e-5.
pub const ORTHOGONALITY_TOLERANCE: f64 = 1e-3;

impl OpqQuantizer {
    /// Learns a rotation and trains a PQ on `n` rows of `dim` floats (see the module docs
    /// for the algorithm).
    ///
    /// # Errors
    /// `dim = 0`, ragged or non-finite data, `d_out < dim`, `m` outside `1..=d_out`, `ksub`
    /// outside `2..=65536`, fewer training rows (or `max_train_points`) than `ksub`,
    /// `inner_points_per_centroid = 0`, and the k-means parameter errors.
    pub fn train(dim: usize, data: &[f32], params: &OpqParams) -> Result<Self, Error> {
        let n = rows_of("training data", data.len(), dim)?;
        let d_out = params.d_out.unwrap_or(dim);
        check_params(dim, d_out, params)?;
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "training data", index: i });
        }
        if n < params.ksub {
            return Err(Error::OutOfRange {
                what: "training rows",
                got: format!("{n} rows for ksub = {} centroids", params.ksub),
                accepted: "at least as many training rows as centroids per sub-quantizer",
            });
        }
        // A cosine quantizer's rotation and codebooks fit the unit vectors it will encode.
        let unit;
        let data = if params.metric == Metric::Cosine {
            let mut u = data.to_vec();
            normalize_rows(dim, &mut u);
            unit = u;
            &unit[..]
        } else {
            data
        };
        let mut rng = StdRng::seed_from_u64(params.seed);
        let sample;
        let x = if n > params.max_train_points {
            sample = gather(data, dim, &sorted_sample(&mut rng, n, params.max_train_points));
            &sample
        } else {
            data
        };
        let xc = centred_padded(x, dim, d_out);
        let mut r = random_rotation(d_out, &mut rng);
        let rows = xc.len() / d_out;
        let (mut y, mut recons) = (vec![0f32; rows * d_out], vec![0f32; rows * d_out]);
        let mut codes = Vec::new();
        let mut pq: Option<ProductQuantizer> = None;
        let mut m_xy = vec![0f32; d_out * d_out];
        for iter in 0..params.niter {
            // Y = X Rᵀ: row i of Y holds the dot products of row i of X with R's rows.
            gemm(rows, d_out, d_out, Mat::rows(&xc, d_out), Mat::cols(&r, d_out), &mut y);
            let (niter_pq, start) = if iter == 0 { (params.niter_pq_0, None) } else { (params.niter_pq, pq.as_ref()) };
            let inner = train_pq(d_out, &y, params, niter_pq, start)?;
            codes.resize(rows * inner.code_size(), 0);
            encode(&inner, &y, &mut codes, params.threads)?;
            inner.decode(&codes, &mut recons)?;
            // Ŷᵀ X (d_out × d_out): its SVD U Σ Vᵀ gives the rotation U Vᵀ that brings the
            // rows of X closest to their reconstructions.
            gemm(d_out, rows, d_out, Mat::cols(&recons, d_out), Mat::rows(&xc, d_out), &mut m_xy);
            if let Some(next) = procrustes(d_out, &m_xy) {
                r = next;
            }
            pq = Some(inner);
        }
        // The first `dim` columns: the padded input dimensions are zero.
        let rotation: Vec<f32> = r.chunks_exact(d_out).flat_map(|row| &row[..dim]).copied().collect();
        let mut rotated = vec![0f32; n * d_out];
        gemm(n, dim, d_out, Mat::rows(data, dim), Mat::cols(&rotation, dim), &mut rotated);
        let mut pq_params = PqParams::new(params.m, params.ksub);
        pq_params.kmeans = params.kmeans.clone();
        pq_params.kmeans.threads = params.threads;
        pq_params.metric = params.metric;
        let pq = ProductQuantizer::train(d_out, &rotated, &pq_params)?;
        Ok(Self::assemble(dim, rotation, pq))
    }

    /// Builds a quantizer from a rotation (`d_out × dim` row-major) and a PQ over `d_out`
    /// dimensions, such as a trained one's [`Self::rotation`] and [`Self::pq`].
    ///
    /// # Errors
    /// `dim = 0`, a rotation whose length is not a multiple of `dim` or has fewer than
    /// `dim` rows (`d_out < dim`), `pq.dim() != d_out`, a non-finite entry, or columns that
    /// are not orthonormal: an entry of `Rᵀ R − I` beyond [`ORTHOGONALITY_TOLERANCE`] in
    /// absolute value.
    pub fn from_parts(dim: usize, rotation: Vec<f32>, pq: ProductQuantizer) -> Result<Self, Error> {
        let d_out = rows_of("rotation", rotation.len(), dim)?;
        if d_out < dim {
            return Err(Error::OutOfRange {
                what: "rotation rows (d_out)",
                got: format!("{d_out} for dimension {dim}"),
                accepted: ">= the dimension",
            });
        }
        if pq.dim() != d_out {
            return Err(Error::DimensionMismatch { what: "product quantizer", got: pq.dim(), expected: d_out });
        }
        if let Some(i) = rotation.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "rotation", index: i });
        }
        if let Some((i, j, dev)) = orthogonality_defect(&rotation, d_out, dim) {
            return Err(Error::OutOfRange {
                what: "rotation",
                got: format!("(RᵀR − I)[{i}][{j}] = {dev:e}"),
                accepted: "orthonormal columns: every entry of RᵀR − I within 1e-3",
            });
        }
        Ok(Self::assemble(dim, rotation, pq))
    }

    fn assemble(dim: usize, rotation: Vec<f32>, pq: ProductQuantizer) -> Self {
        let d_out = rotation.len() / dim;
        let mut rotation_t = vec![0f32; rotation.len()];
        crate::kernels::nearest::transpose_into(&rotation, dim, &mut rotation_t, d_out);
        OpqQuantizer { dim, d_out, rotation, rotation_t, pq }
    }

    /// The rotation `R`, `d_out × dim` row-major: a vector `x` is encoded as the PQ code of
    /// `R x`.
    pub fn rotation(&self) -> &[f32] {
        &self.rotation
    }

    /// The product quantizer of the rotated vectors (dimension `d_out`).
    pub fn pq(&self) -> &ProductQuantizer {
        &self.pq
    }

    /// Output dimension of the rotation, the PQ's dimension.
    pub fn d_out(&self) -> usize {
        self.d_out
    }

    /// `R x` for every row of `vectors` (`dim` wide) into `out` (`d_out` wide), as the
    /// hot calls compute it.
    ///
    /// # Errors
    /// Ragged `vectors`, or `out` not `d_out` floats per row.
    pub fn rotate(&self, vectors: &[f32], out: &mut [f32]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_rows_len("out", out.len(), n, self.d_out)?;
        apply(Isa::current(), &self.rotation, self.dim, vectors, out);
        Ok(())
    }

    /// Checks that every row of `queries` (finite, whole rows) rotates to finite values, so
    /// that a search refuses a query before it writes any result rather than in the block
    /// that holds it. Only a norm near `f32::MAX` can overflow: a rotated value is a dot
    /// product of `q` with a row `r` of `R`, at most `‖q‖·‖r‖` (Cauchy–Schwarz), and so are
    /// its partial sums; `‖r‖² ≤ 1 + dim·tol`, the largest eigenvalue of `RᵀR` (Gershgorin:
    /// its entries are within `tol` of the identity's); f32 rounding adds less than a factor
    /// 2. So only a query beyond that bound is rotated for the check.
    ///
    /// # Errors
    /// [`Error::NonFinite`] naming the first non-finite element of the rotated queries
    /// (`query · d_out + j`).
    pub fn check_rotations(&self, queries: &[f32]) -> Result<(), Error> {
        let row = (1.0 + self.dim as f64 * ORTHOGONALITY_TOLERANCE).sqrt();
        for (i, q) in queries.chunks_exact(self.dim).enumerate() {
            let norm = q.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>().sqrt();
            if norm * row * 2.0 < f64::from(f32::MAX) {
                continue;
            }
            let bad = crate::scratch::with_f32(self.d_out, |r| {
                apply(Isa::current(), &self.rotation, self.dim, q, r);
                r.iter().position(|v| !v.is_finite())
            });
            if let Some(j) = bad {
                return Err(Error::NonFinite {
                    what: "rotated queries (R·q overflows f32 for a query of norm near f32::MAX)",
                    index: i * self.d_out + j,
                });
            }
        }
        Ok(())
    }

    /// Runs `f` on consecutive blocks of at most `rows` rows of rotated `vectors`, with the
    /// block's first row index; `rows` as many as fit the stack buffer.
    fn rotated_blocks(
        &self,
        vectors: &[f32],
        mut f: impl FnMut(usize, &[f32]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let isa = Isa::current();
        let per = (STACK_FLOATS / self.d_out).max(1);
        // Multiples of 16 where they fit: the PQ's batch search takes 16 queries a pass.
        let per = if per >= BLOCK { per - per % BLOCK } else { per };
        crate::scratch::with_f32(per * self.d_out, |buf| {
            for (b, chunk) in vectors.chunks(per * self.dim).enumerate() {
                let rows = chunk.len() / self.dim;
                let out = &mut buf[..rows * self.d_out];
                apply(isa, &self.rotation, self.dim, chunk, out);
                f(b * per, out)?;
            }
            Ok(())
        })
    }
}

impl Quantizer for OpqQuantizer {
    fn dim(&self) -> usize {
        self.dim
    }

    fn code_size(&self) -> usize {
        self.pq.code_size()
    }

    /// The inner PQ's: the rotation keeps norms and inner products, so `distances` and
    /// `search` hand the rotated query to the PQ, and a cosine PQ normalizes `R x`, which
    /// is `R` of the normalized `x`.
    fn metric(&self) -> Metric {
        self.pq.metric()
    }

    fn encode(&self, vectors: &[f32], codes: &mut [u8]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        let cs = self.code_size();
        exact_rows_len("codes", codes.len(), n, cs)?;
        self.rotated_blocks(vectors, |first, rotated| {
            let rows = rotated.len() / self.d_out;
            self.pq.encode(rotated, &mut codes[first * cs..(first + rows) * cs])
        })
    }

    fn decode(&self, codes: &[u8], vectors: &mut [f32]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        let cs = self.code_size();
        exact_rows_len("codes", codes.len(), n, cs)?;
        self.pq.check_codes(codes)?;
        let isa = Isa::current();
        let per = (STACK_FLOATS / self.d_out).max(1);
        crate::scratch::with_f32(per * self.d_out, |buf| {
            for (code, out) in codes.chunks(per * cs).zip(vectors.chunks_mut(per * self.dim)) {
                let rows = code.len() / cs;
                let y = &mut buf[..rows * self.d_out];
                self.pq.decode(code, y)?;
                // x = Rᵀ y: the rows of Rᵀ are R's columns.
                apply(isa, &self.rotation_t, self.d_out, y, out);
            }
            Ok(())
        })
    }

    fn distances(&self, query: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        self.rotated_blocks(query, |_, q| self.pq.distances(q, codes, out))
    }

    fn search(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        check_search(self.dim, queries, k, distances, labels)?;
        rows_of("codes", codes.len(), self.code_size())?;
        self.check_rotations(queries)?;
        self.rotated_blocks(queries, |first, q| {
            let nq = q.len() / self.d_out;
            let at = first * k..(first + nq) * k;
            self.pq.search(q, codes, k, &mut distances[at.clone()], &mut labels[at])
        })
    }
}

/// The parameter checks of [`OpqQuantizer::train`] that need no data.
fn check_params(dim: usize, d_out: usize, params: &OpqParams) -> Result<(), Error> {
    if d_out < dim {
        return Err(Error::OutOfRange {
            what: "d_out",
            got: format!("{d_out} for dimension {dim}"),
            accepted: ">= the input dimension",
        });
    }
    if d_out.checked_mul(d_out).is_none() {
        return Err(Error::OutOfRange {
            what: "d_out",
            got: d_out.to_string(),
            accepted: "d_out² within the address space",
        });
    }
    if params.m == 0 || params.m > d_out {
        return Err(Error::OutOfRange {
            what: "m (sub-quantizers)",
            got: format!("{} for output dimension {d_out}", params.m),
            accepted: "1 ..= d_out",
        });
    }
    if !(2..=65536).contains(&params.ksub) {
        return Err(Error::OutOfRange {
            what: "ksub (centroids)",
            got: params.ksub.to_string(),
            accepted: "2..=65536",
        });
    }
    if params.max_train_points < params.ksub {
        return Err(Error::OutOfRange {
            what: "max_train_points",
            got: format!("{} for ksub = {}", params.max_train_points, params.ksub),
            accepted: "at least ksub",
        });
    }
    if params.inner_points_per_centroid == 0 {
        return Err(Error::OutOfRange { what: "inner_points_per_centroid", got: "0".into(), accepted: ">= 1" });
    }
    Ok(())
}

/// The PQ of one outer iteration: FAISS's inner `ProductQuantizer::train` with `niter`
/// k-means iterations, hot-started from `start`'s codebooks when given. By L2 whatever the
/// metric: it only encodes and decodes the rotated rows, which a cosine OPQ has already
/// normalized.
fn train_pq(
    d_out: usize,
    y: &[f32],
    params: &OpqParams,
    niter: usize,
    start: Option<&ProductQuantizer>,
) -> Result<ProductQuantizer, Error> {
    let mut p = PqParams::new(params.m, params.ksub);
    p.kmeans = params.kmeans.clone();
    (p.kmeans.max_iter, p.kmeans.max_points_per_centroid) = (niter, params.inner_points_per_centroid);
    p.kmeans.threads = params.threads;
    match start {
        Some(start) => ProductQuantizer::train_from(d_out, y, &p, start),
        None => ProductQuantizer::train(d_out, y, &p),
    }
}

/// The PQ codes of `y`, on `threads` threads where the feature allows (the same codes).
fn encode(pq: &ProductQuantizer, y: &[f32], codes: &mut [u8], threads: usize) -> Result<(), Error> {
    #[cfg(feature = "parallel")]
    if parallel::thread_count(threads) > 1 {
        return pq.encode_parallel(y, codes, threads);
    }
    let _ = threads;
    pq.encode(y, codes)
}

/// The rows minus their mean (summed in f64), each padded with zeros to `d_out`.
fn centred_padded(x: &[f32], dim: usize, d_out: usize) -> Vec<f32> {
    let n = x.len() / dim;
    let mut mean = vec![0f64; dim];
    for row in x.chunks_exact(dim) {
        for (s, &v) in mean.iter_mut().zip(row) {
            *s += v as f64;
        }
    }
    let mean: Vec<f32> = mean.iter().map(|s| (s / n as f64) as f32).collect();
    let mut out = vec![0f32; n * d_out];
    for (o, row) in out.chunks_exact_mut(d_out).zip(x.chunks_exact(dim)) {
        for ((o, &v), &mu) in o.iter_mut().zip(row).zip(&mean) {
            *o = v - mu;
        }
    }
    out
}

/// A random `d × d` orthogonal matrix (row-major): the `Q` of a Gaussian matrix's QR, as
/// FAISS starts. Gaussians by Box–Muller, so the draw is the same with any `rand` features.
pub(crate) fn random_rotation(d: usize, rng: &mut StdRng) -> Vec<f32> {
    let mut g = faer::Mat::<f64>::zeros(d, d);
    for j in 0..d {
        for i in 0..d {
            let (u, v): (f64, f64) = (rng.random(), rng.random());
            g[(i, j)] = (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos();
        }
    }
    let q = g.qr().compute_Q();
    (0..d * d).map(|k| q[(k / d, k % d)] as f32).collect()
}

/// The orthogonal `R = U Vᵀ` from the SVD `U Σ Vᵀ` of `m` (`d × d`, row-major), or `None`
/// if the SVD does not converge in f32 nor in f64 (the caller keeps its rotation).
fn procrustes(d: usize, m: &[f32]) -> Option<Vec<f32>> {
    let a = faer::MatRef::from_row_major_slice(m, d, d);
    if let Ok(svd) = a.svd() {
        let r = svd.U() * svd.V().transpose();
        return Some((0..d * d).map(|k| r[(k / d, k % d)]).collect());
    }
    let a = faer::Mat::<f64>::from_fn(d, d, |i, j| m[i * d + j] as f64);
    let svd = a.svd().ok()?;
    let r = svd.U() * svd.V().transpose();
    Some((0..d * d).map(|k| r[(k / d, k % d)] as f32).collect())
}

/// The largest deviation of `Rᵀ R` (`r` is `rows × cols`) from the identity, if it exceeds
/// [`ORTHOGONALITY_TOLERANCE`]: `(i, j, entry − δij)`. In f64, so a rotation at the f32
/// rounding floor is not rejected for the check's own rounding.
pub(crate) fn orthogonality_defect(r: &[f32], rows: usize, cols: usize) -> Option<(usize, usize, f64)> {
    let a = faer::Mat::<f64>::from_fn(rows, cols, |i, j| r[i * cols + j] as f64);
    let g = a.transpose() * &a;
    let mut worst = (0, 0, 0f64);
    for j in 0..cols {
        for i in 0..cols {
            let dev = g[(i, j)] - f64::from(u8::from(i == j));
            if dev.abs() > worst.2.abs() {
                worst = (i, j, dev);
            }
        }
    }
    (worst.2.abs() > ORTHOGONALITY_TOLERANCE).then_some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_rotation_is_orthogonal_and_seeded() {
        let r = random_rotation(33, &mut StdRng::seed_from_u64(7));
        assert_eq!(orthogonality_defect(&r, 33, 33), None);
        assert_eq!(r, random_rotation(33, &mut StdRng::seed_from_u64(7)));
        assert_ne!(r, random_rotation(33, &mut StdRng::seed_from_u64(8)));
    }

    #[test]
    fn procrustes_recovers_a_rotation() {
        // Ŷᵀ X = Rᵀ... for Ŷ = X Rᵀ exactly, the product is R XᵀX, whose polar factor is R.
        let d = 9;
        let r = random_rotation(d, &mut StdRng::seed_from_u64(3));
        let mut rng = StdRng::seed_from_u64(4);
        let n = 200;
        let x: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>() - 0.5).collect();
        let mut y = vec![0f32; n * d];
        gemm(n, d, d, Mat::rows(&x, d), Mat::cols(&r, d), &mut y);
        let mut m = vec![0f32; d * d];
        gemm(d, n, d, Mat::cols(&y, d), Mat::rows(&x, d), &mut m);
        let got = procrustes(d, &m).unwrap();
        for (a, b) in got.iter().zip(&r) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
