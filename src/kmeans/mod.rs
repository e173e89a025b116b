//! k-means clustering: the codebook trainer of product quantization, usable on its own.
//!
//! Lloyd's algorithm with the choices FAISS made for quantizer training, plus what its
//! users ask for:
//!
//! - **Seeded and deterministic.** The same seed gives bit-identical centroids whatever the
//!   number of threads: rows are assigned in fixed blocks (each row's nearest centroid
//!   depends on that row alone) and centroids are summed in f64 in row order on one thread.
//! - **Training subsample.** At most `max_points_per_centroid · k` rows (default 256 per
//!   centroid, as FAISS) are drawn at random, so large training sets cost what the
//!   codebook needs, not what the data holds.
//! - **Initialisation.** k-means++ (default; D² sampling over a random subset of at most
//!   `32·k` of the training rows, which keeps seeding at a fraction of one Lloyd iteration),
//!   or `k` distinct random rows (FAISS's default).
//! - **Assignment as a matrix product.** `argmin_c ‖x − c‖² = argmin_c (‖c‖² − 2 x·c)`: a
//!   block of rows times the centroid matrix through `matrixmultiply`'s SGEMM, then an
//!   argmin per row, ties to the lower centroid index.
//! - **Empty clusters** are re-seeded by splitting the largest cluster (its centroid is
//!   nudged by ±1/1024 in alternating dimensions and its points are shared), as FAISS does.
//! - **Stopping.** After `max_iter` iterations, or earlier once an iteration improves the
//!   objective by less than `tol` relative (0 disables the early stop).
//! - **Hartigan refinement** (optional, `hartigan_passes`): after Lloyd, single rows move
//!   to another cluster whenever that lowers the objective (see [`hartigan`]'s notes). Each
//!   pass costs about one Lloyd iteration and can only lower the objective; with few rows
//!   per centroid it lowers it by percents where more Lloyd iterations gain hundredths.
//!
//! The objective is the sum over training rows of the squared distance to the nearest
//! centroid, as FAISS reports it: `objective()` is the value at the last assignment.

mod coarse;
mod hartigan;

use crate::error::rows_of;
use crate::kernels::gemm::{products, Rows};
use crate::kernels::kmeans::{argmin_rows, dist_rows_many, sum_rows, tile_pool};
use crate::kernels::l2::l2sq_batch_at;
use crate::kernels::nearest::transpose_into;
use crate::simd::Isa;
use crate::Error;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How the first centroids are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// k-means++ (D² sampling) over a random subset of at most `32·k` training rows.
    PlusPlus,
    /// Greedy k-means++ (scikit-learn's default): `2 + ⌊ln k⌋` D² candidates per centroid,
    /// keeping the one that lowers the potential most. On the original tool's demo data it
    /// lands within 0.05% of scikit-learn's MSE, where `PlusPlus` and `Random` stay 0.2–0.5%
    /// above however long Lloyd runs; the seeding costs about eight Lloyd iterations over
    /// the pool.
    GreedyPlusPlus,
    /// `k` distinct training rows drawn uniformly (FAISS's default).
    Random,
}

/// How each row finds its centroid in the assignment step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignment {
    /// Every row against every centroid, as a matrix product: exact, `n·k·dim` per
    /// iteration.
    Exact,
    /// Centroids grouped under `⌈√k⌉` coarse centres, each row compared with the centroids
    /// of its `nprobe` nearest groups: approximate, about `n·(1 + nprobe)·√k·dim` per
    /// iteration. For codebooks with tens of thousands of centroids (16-bit PQ), where exact
    /// assignment takes minutes per iteration.
    Coarse {
        /// Groups searched per row, at least 1 (`⌈√k⌉` or more is exact).
        nprobe: usize,
    },
}

/// Parameters of [`KMeans::train`].
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    /// Number of clusters, at least 1.
    pub k: usize,
    /// Most Lloyd iterations (FAISS: 25). 0 returns the initial centroids.
    pub max_iter: usize,
    /// Stop once an iteration improves the objective by less than this fraction; 0 never stops early.
    pub tol: f64,
    /// Seed of every random choice (subsample, initialisation).
    pub seed: u64,
    /// Initialisation.
    pub init: Init,
    /// Training rows used at most, per centroid (FAISS: 256).
    pub max_points_per_centroid: usize,
    /// Threads for the assignment step with the `parallel` feature (0: all cores); ignored
    /// without it. Results do not depend on it.
    pub threads: usize,
    /// Exact (default) or coarse assignment.
    pub assignment: Assignment,
    /// Hartigan passes after Lloyd's iterations (default 0: none, as FAISS). Each pass
    /// visits every row once, moving it to another cluster when that lowers the objective,
    /// and costs about one Lloyd iteration with exact assignment, whatever `assignment` says
    /// (so many coarse iterations); passes stop early when one moves nothing or gains less
    /// than `tol` relative (nothing, with `tol = 0`).
    pub hartigan_passes: usize,
}

impl KMeansParams {
    /// `k` clusters with the defaults: 25 iterations, no early stop, seed 1234, k-means++,
    /// 256 points per centroid, all cores.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            max_iter: 25,
            tol: 0.0,
            seed: 1234,
            init: Init::PlusPlus,
            max_points_per_centroid: 256,
            threads: 0,
            assignment: Assignment::Exact,
            hartigan_passes: 0,
        }
    }
}

/// A trained k-means model.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeans {
    dim: usize,
    centroids: Vec<f32>,
    objectives: Vec<f64>,
    training_rows: usize,
}

/// k-means++ seeds from a random pool of at most this many rows per centroid: the
/// greedy seeding costs `(2 + ln k)·k·pool·dim`, about eight Lloyd iterations over the pool.
const POOL_PER_CENTROID: usize = 32;

/// Rows per assignment block: the block's scores (`ROW_BLOCK × k` floats, 512 KiB at
/// k = 256) stay in L2. Fixed, so results do not depend on the thread count.
const ROW_BLOCK: usize = 512;

/// Nudge applied when a cluster is split to fill an empty one (FAISS's value).
const SPLIT_EPS: f32 = 1.0 / 1024.0;

impl KMeans {
    /// Clusters `data` (`n` rows of `dim` floats).
    ///
    /// # Errors
    /// `dim = 0` or `k = 0` or `max_points_per_centroid = 0` ([`Error::OutOfRange`]),
    /// ragged data ([`Error::NotWholeRows`]), fewer rows than clusters
    /// ([`Error::OutOfRange`], naming both), a NaN or infinity ([`Error::NonFinite`]).
    pub fn train(dim: usize, data: &[f32], params: &KMeansParams) -> Result<KMeans, Error> {
        Self::train_in(Isa::current(), dim, data, params, true)
    }

    /// [`Self::train`]; with `own_pool = false`, a parallel run (`threads != 1`) uses the
    /// pool it is called in instead of building its own, so a caller that trains many
    /// k-means inside one [`crate::parallel::in_pool`] (product quantization) builds one pool.
    pub(crate) fn train_in(
        isa: Isa,
        dim: usize,
        data: &[f32],
        params: &KMeansParams,
        own_pool: bool,
    ) -> Result<KMeans, Error> {
        Self::train_from(isa, dim, data, params, own_pool, None)
    }

    /// [`Self::train_in`], its Lloyd iterations started from `start` (`k` rows of `dim`)
    /// instead of `params.init` when given: FAISS's hot start, with which OPQ refines each
    /// sub-quantizer across its outer iterations instead of training it anew.
    ///
    /// # Errors
    /// As [`Self::train`], and a `start` of another length than `k·dim` or holding a
    /// non-finite value.
    pub(crate) fn train_from(
        isa: Isa,
        dim: usize,
        data: &[f32],
        params: &KMeansParams,
        own_pool: bool,
        start: Option<&[f32]>,
    ) -> Result<KMeans, Error> {
        let n = rows_of("training data", data.len(), dim)?;
        let k = params.k;
        if k == 0 {
            return Err(Error::OutOfRange { what: "k (clusters)", got: "0".into(), accepted: ">= 1" });
        }
        if params.assignment == (Assignment::Coarse { nprobe: 0 }) {
            return Err(Error::OutOfRange { what: "nprobe", got: "0".into(), accepted: ">= 1" });
        }
        if params.max_points_per_centroid == 0 {
            return Err(Error::OutOfRange { what: "max_points_per_centroid", got: "0".into(), accepted: ">= 1" });
        }
        if n < k {
            return Err(Error::OutOfRange {
                what: "training rows",
                got: format!("{n} rows for k = {k} clusters"),
                accepted: "at least as many training rows as clusters",
            });
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "training data", index: i });
        }
        if let Some(start) = start {
            crate::error::exact_len("starting centroids", start.len(), k * dim)?;
            if let Some(i) = start.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what: "starting centroids", index: i });
            }
        }
        let mut rng = StdRng::seed_from_u64(params.seed);
        let cap = k.saturating_mul(params.max_points_per_centroid);
        let sample;
        let x: &[f32] = if n > cap {
            sample = gather(data, dim, &sorted_sample(&mut rng, n, cap));
            &sample
        } else {
            data
        };
        let n = x.len() / dim;
        let mut centroids = match (start, params.init) {
            (Some(start), _) => start.to_vec(),
            (None, Init::Random) => gather(x, dim, &sorted_sample(&mut rng, n, k)),
            (None, Init::PlusPlus) => plus_plus(isa, x, dim, k, 1, &mut rng),
            (None, Init::GreedyPlusPlus) => plus_plus(isa, x, dim, k, 2 + (k as f64).ln() as usize, &mut rng),
        };
        let mut objectives: Vec<f64> = Vec::with_capacity(params.max_iter);
        let x_norms: Vec<f32> = x.chunks_exact(dim).map(|r| r.iter().map(|v| v * v).sum()).collect();
        let parallel = params.threads != 1;
        // The data once column-major: the product's packing of a column-major operand reads
        // whole vectors, where a row-major one costs a strided gather per element, and the
        // data is packed again every iteration.
        let mut xt = Vec::new();
        if params.assignment == Assignment::Exact {
            xt = vec![0f32; x.len()];
            transpose_into(x, dim, &mut xt, n);
        }
        let (xt, x_norms) = (&xt, &x_norms);
        let lloyd = move || {
            let mut labels = vec![0u32; n];
            let mut best = vec![0f32; n];
            let mut centres = None;
            let rows = if params.assignment == Assignment::Exact { Rows::ColMajor(xt) } else { Rows::RowMajor(x) };
            for _ in 0..params.max_iter {
                match params.assignment {
                    Assignment::Exact => {
                        assign(isa, Rows::ColMajor(xt), dim, &centroids, parallel, &mut labels, &mut best);
                    }
                    Assignment::Coarse { nprobe } => {
                        let index = coarse::CoarseIndex::build(isa, dim, &centroids, centres.take());
                        coarse::assign_coarse(isa, &index, x, nprobe, x_norms, parallel, &mut labels, &mut best);
                        centres = Some(index.centres);
                    }
                }
                let obj: f64 = best.iter().zip(x_norms).map(|(&b, &xn)| (b as f64 + xn as f64).max(0.0)).sum();
                let stop = objectives.last().is_some_and(|&prev: &f64| prev - obj <= params.tol * prev);
                objectives.push(obj);
                update(isa, x, dim, k, &labels, &mut centroids);
                if stop && params.tol > 0.0 {
                    break;
                }
            }
            if params.hartigan_passes > 0 {
                if objectives.is_empty() {
                    // No Lloyd step ran: the partition to refine is the initial centroids'.
                    assign(isa, rows, dim, &centroids, parallel, &mut labels, &mut best);
                }
                let (passes, tol) = (params.hartigan_passes, params.tol);
                hartigan::refine(
                    isa,
                    x,
                    rows,
                    x_norms,
                    dim,
                    &mut centroids,
                    &mut labels,
                    passes,
                    tol,
                    parallel,
                    &mut objectives,
                );
            }
            (centroids, objectives)
        };
        #[cfg(feature = "parallel")]
        let (centroids, objectives) =
            if parallel && own_pool { crate::parallel::in_pool(params.threads, lloyd) } else { lloyd() };
        #[cfg(not(feature = "parallel"))]
        let (centroids, objectives) = {
            let _ = own_pool;
            lloyd()
        };
        Ok(KMeans { dim, centroids, objectives, training_rows: n })
    }

    /// Dimension of the centroids.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.centroids.len() / self.dim
    }

    /// Centroids, `k` rows of `dim` floats.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The objective at each Lloyd iteration's assignment step, then after each Hartigan
    /// pass (the objective of the refined partition, which the nearest-centroid assignment
    /// of the final centroids can only lower).
    pub fn objectives(&self) -> &[f64] {
        &self.objectives
    }

    /// The objective of the last assignment (NaN if no iteration ran).
    pub fn objective(&self) -> f64 {
        self.objectives.last().copied().unwrap_or(f64::NAN)
    }

    /// Rows actually used for training (after the subsample cap).
    pub fn training_rows(&self) -> usize {
        self.training_rows
    }

    /// Index of the nearest centroid of each row of `data` (ties to the lower index).
    ///
    /// # Errors
    /// Ragged data or `labels.len()` not the number of rows.
    pub fn assign(&self, data: &[f32], labels: &mut [u32]) -> Result<(), Error> {
        let n = rows_of("data", data.len(), self.dim)?;
        crate::error::exact_len("labels", labels.len(), n)?;
        let mut best = vec![0f32; n];
        assign(Isa::current(), Rows::RowMajor(data), self.dim, &self.centroids, false, labels, &mut best);
        Ok(())
    }
}

/// `m` distinct indices of `0..n`, ascending (partial Fisher–Yates, then sorted so the
/// gathered rows keep the data's order and the result does not depend on draw order).
pub(crate) fn sorted_sample(rng: &mut StdRng, n: usize, m: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(m);
    idx.sort_unstable();
    idx
}

/// The rows of `x` at `rows`, in that order.
pub(crate) fn gather(x: &[f32], dim: usize, rows: &[usize]) -> Vec<f32> {
    rows.iter().flat_map(|&i| &x[i * dim..(i + 1) * dim]).copied().collect()
}

/// k-means++ seeding over a random subset of at most `32·k` rows.
fn plus_plus(isa: Isa, x: &[f32], dim: usize, k: usize, trials: usize, rng: &mut StdRng) -> Vec<f32> {
    let n = x.len() / dim;
    let pool_rows = sorted_sample(rng, n, n.min(POOL_PER_CENTROID * k));
    let pool = gather(x, dim, &pool_rows);
    let m = pool_rows.len();
    let mut centroids = Vec::with_capacity(k * dim);
    let first = rng.random_range(0..m);
    centroids.extend_from_slice(&pool[first * dim..(first + 1) * dim]);
    let mut mind = vec![0f32; m];
    l2sq_batch_at(isa, &pool[first * dim..(first + 1) * dim], &pool, &mut mind);
    let mut chosen = vec![false; m];
    chosen[first] = true;
    let pool_t = tile_pool(&pool, dim);
    // `trials` candidates per centroid, each drawn by D² sampling, keeping the one that
    // lowers the potential most (one: plain k-means++).
    let mut cand_d = vec![0f32; trials * m];
    let mut cum = vec![0f64; m];
    let mut cands = Vec::with_capacity(trials);
    while centroids.len() < k * dim {
        let mut total = 0f64;
        for (c, &v) in cum.iter_mut().zip(&mind) {
            total += v as f64;
            *c = total;
        }
        cands.clear();
        if total > 0.0 {
            for _ in 0..trials {
                let r = rng.random::<f64>() * total;
                // The first row whose cumulative weight passes r. Rows already chosen weigh 0;
                // only rounding can land on one: then the nearest row with weight.
                let mut pick = cum.partition_point(|&c| c <= r).min(m - 1);
                if mind[pick] <= 0.0 {
                    pick = (pick..m).chain((0..pick).rev()).find(|&i| mind[i] > 0.0).expect("total > 0");
                }
                cands.push(pick);
            }
        } else {
            // Every row coincides with a centroid: any unchosen row will do.
            cands.push((0..m).find(|&i| !chosen[i]).expect("m >= k rows"));
        }
        let mut best = (f64::INFINITY, 0usize);
        let out = &mut cand_d[..cands.len() * m];
        dist_rows_many(isa, dim, &cands, &pool, &pool_t, out);
        for t in 0..cands.len() {
            let out = &mut cand_d[t * m..(t + 1) * m];
            // Eight partial sums: one f64 chain was a seventh of the seeding's time.
            let mut part = [0f64; 8];
            for (o8, m8) in out.chunks_mut(8).zip(mind.chunks(8)) {
                for ((o, &md), p) in o8.iter_mut().zip(m8).zip(part.iter_mut()) {
                    *o = o.min(md);
                    *p += *o as f64;
                }
            }
            let pot: f64 = part.iter().sum();
            if pot < best.0 {
                best = (pot, t);
            }
        }
        let pick = cands[best.1];
        chosen[pick] = true;
        centroids.extend_from_slice(&pool[pick * dim..(pick + 1) * dim]);
        mind.copy_from_slice(&cand_d[best.1 * m..(best.1 + 1) * m]);
    }
    centroids
}

/// Nearest centroid of every row: `labels[i]`, and `best[i] = ‖c‖² − 2 x·c` for it (add
/// `‖x‖²` for the squared distance). With `parallel` (and the feature), blocks go to the
/// current rayon pool: the caller's, built once per training call.
fn assign(isa: Isa, x: Rows<'_>, dim: usize, centroids: &[f32], parallel: bool, labels: &mut [u32], best: &mut [f32]) {
    let k = centroids.len() / dim;
    let n = labels.len();
    let c_norms: Vec<f32> = centroids.chunks_exact(dim).map(|c| c.iter().map(|v| v * v).sum()).collect();
    // The product reads the centroids as a `dim × k` row-major matrix: packing a strided
    // (column-major) operand measured a fifth of the training time.
    let mut ct = vec![0f32; dim * k];
    transpose_into(centroids, dim, &mut ct, k);
    let block = |r0: usize, lb: &mut [u32], bb: &mut [f32], scores: &mut Vec<f32>| {
        scores.resize(lb.len() * k, 0.0);
        products(x, n, dim, r0, &ct, k, 0..k, scores);
        argmin_rows(isa, scores, &c_norms, lb, bb);
    };
    let chunks = labels.chunks_mut(ROW_BLOCK).zip(best.chunks_mut(ROW_BLOCK)).enumerate();
    #[cfg(feature = "parallel")]
    if parallel {
        use rayon::prelude::*;
        let work: Vec<_> = chunks.collect();
        work.into_par_iter().for_each_init(Vec::new, |scores, (b, (lb, bb))| block(b * ROW_BLOCK, lb, bb, scores));
        return;
    }
    let _ = parallel;
    let mut scores = Vec::new();
    for (b, (lb, bb)) in chunks {
        block(b * ROW_BLOCK, lb, bb, &mut scores);
    }
}

/// New centroids: the mean of each cluster (summed in f64, in row order), empty clusters
/// re-seeded by splitting the largest one.
fn update(isa: Isa, x: &[f32], dim: usize, k: usize, labels: &[u32], centroids: &mut [f32]) {
    let mut sums = vec![0f64; k * dim];
    let mut counts = vec![0usize; k];
    sum_rows(isa, x, dim, labels, &mut sums, &mut counts);
    for (c, (s, &cnt)) in centroids.chunks_exact_mut(dim).zip(sums.chunks_exact(dim).zip(&counts)) {
        if cnt > 0 {
            for (cv, &sv) in c.iter_mut().zip(s) {
                *cv = (sv / cnt as f64) as f32;
            }
        }
    }
    // The largest cluster, lowest index on ties (deterministic), from a heap: with many
    // more centroids than points (16-bit codebooks) most clusters can be empty, and a scan
    // for the largest per empty cluster cost k² per iteration.
    use std::cmp::Reverse;
    let mut largest: std::collections::BinaryHeap<(usize, Reverse<usize>)> =
        counts.iter().enumerate().filter(|&(_, &c)| c > 0).map(|(j, &c)| (c, Reverse(j))).collect();
    for empty in 0..k {
        if counts[empty] > 0 {
            continue;
        }
        let Some((_, Reverse(big))) = largest.pop() else { break };
        for j in 0..dim {
            let v = centroids[big * dim + j];
            let (up, down) = (v * (1.0 + SPLIT_EPS), v * (1.0 - SPLIT_EPS));
            let (e, b) = if j % 2 == 0 { (up, down) } else { (down, up) };
            centroids[empty * dim + j] = e;
            centroids[big * dim + j] = b;
        }
        counts[empty] = counts[big] / 2;
        counts[big] -= counts[empty];
        largest.push((counts[big], Reverse(big)));
        largest.push((counts[empty], Reverse(empty)));
    }
}
