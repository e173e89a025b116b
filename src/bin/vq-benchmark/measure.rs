//! One benchmark run's configuration and what it is measured by, with the original tool's
//! metric names where it had them (the passes that produce the figures are in `evaluate`).
//!
//! Quality: `compression_ratio`, `reconstruction_distortion` (the original's MSE: the mean
//! over vectors of each vector's sum of squared errors), `pairwise_distortion_*` (|d̂/d − 1|
//! over random pairs), `rank_distortion@k` (1 − recall@k), `recall@10`, `recall@100` (the
//! quantizer's own ADC search against exact neighbours). Cost: `bytes_per_vector`, wall
//! times of every step, encode throughput and single-thread `search_qps`.
//!
//! **Under `--metric`** (`Settings::metric`): the exact neighbours and the ADC search rank
//! by that metric (largest first for inner product and cosine), so recall@k, and rank
//! distortion with it, compare two lists ranked the same way: as sets of ids they need no
//! change when larger is better. MSE, `relative_distortion` and the pairwise distortion
//! are measured on the vectors the quantizer encodes: the given ones for L2 and inner
//! product, the normalized ones for cosine (a cosine quantizer encodes `x/‖x‖`, so that
//! is the error of its codes; against `x` it would mostly measure the lost norms). The
//! pairwise distortion stays the relative error of Euclidean distances between those
//! vectors rather than of their similarities: a ratio of inner products is undefined
//! where they are near 0, which is where most pairs of embeddings lie, and between unit
//! vectors the distance is `√(2 − 2·cos)`, the cosine's own distance.
//!
//! The newer Python tool's timing keys are logged beside vq's, from the same measurements,
//! so its queries and plots work on vq's logs:
//!
//! | key | vq's definition |
//! |---|---|
//! | `qps` | `search_qps`: queries per second of the ADC search of every query over the base's codes, one thread |
//! | `avg_query_latency_ms` | `1000 / qps` |
//! | `fit_latency_ms` | `train_seconds` × 1000: training wall time (k-means of every sub-quantizer, or SQ's ranges) |
//! | `compression_latency_ms` | `encode_seconds` × 1000: encoding the whole base, on `--threads` threads |
//! | `decompression_latency_ms` | `decode_seconds` × 1000: decoding the whole base's codes, one thread |
//!
//! `qps` and `avg_query_latency_ms` are absent when the run searched nothing (no recall and
//! no rank distortion asked for).
//!
//! **RaBitQ** runs are measured as every run (their recall is that of the library's
//! `search`, its two-stage estimate), and also re-ranked against the full base vectors
//! within the error bound (`RabitqQuantizer::search_refine`, the same `k` as the search):
//!
//! | key | what |
//! |---|---|
//! | `recall_refined@10`, `recall_refined@100` | recall of the re-ranked search (with `--with-recall`) |
//! | `refine_fraction` | exact distances the re-ranking computed over queries × base rows: the share of the base it had to read in full |
//! | `refine_search_seconds`, `refine_search_qps` | its time, one thread |
//!
//! They need the base in memory at search time (the dummy set, or `--in-memory`); a streamed
//! base has gone by then, so its RaBitQ runs have no such keys, and `config_json`'s
//! `rabitq.refine` says which it was.
//!
//! **PQ fast scan** (`--pq-fast-scan`): a PQ or OPQ run with 2..=16 centroids per
//! sub-quantizer also packs its codes (`vq::PackedCodes`) and searches them with the 4-bit
//! fast scan, the same `k` as the ADC search, keeping `k × rerank_factor` candidates by the
//! 8-bit sums (`vq::FastScanParams`, `--pq-rerank-factor`); OPQ's queries (and, for the
//! refined search, its base rows) are rotated first, as its own search does:
//!
//! | key | what |
//! |---|---|
//! | `recall_fastscan@10`, `recall_fastscan@100` | recall of `search_packed`: the candidates re-ranked with the float tables (with rerank_factor 0, the 8-bit sums alone) |
//! | `fastscan_search_seconds`, `fastscan_search_qps` | its time, one thread (OPQ's query rotation included) |
//! | `fastscan_ns_per_code` | that time per query and base row, in nanoseconds |
//! | `fastscan_pack_seconds` | packing the codes into blocks, once per run |
//! | `recall_fastscan_refined@10`, `recall_fastscan_refined@100` | recall of `search_packed_refine`: the candidates re-ranked against the full base vectors (FAISS's IndexRefineFlat) |
//! | `fastscan_refined_search_seconds`, `fastscan_refined_search_qps` | its time, one thread (OPQ: rotating the base is not counted) |
//!
//! The refined keys need the base in memory at search time, as RaBitQ's re-ranking does,
//! and a rerank factor of at least 1; `config_json` has `fast_scan` (true, or false for a
//! run with more than 16 centroids, with `fast_scan_skipped` saying why), `rerank_factor`,
//! and `fast_scan_refine` saying whether the refined search ran. Runs of a sweep without
//! `--pq-fast-scan` have none of these keys.

use crate::cli::{InitArg, Method};
use crate::dataset::effective_threads;
use serde_json::{json, Map, Value};
use vq::kmeans::Init;
use vq::{OpqParams, PqParams, RabitqParams};

/// One configuration of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    Pq {
        m: usize,
        ksub: usize,
    },
    Sq {
        bits: u32,
    },
    /// OPQ: `m` sub-quantizers of `ksub` centroids after a learned rotation; its other
    /// settings are the sweep's (`Settings::opq_params`).
    Opq {
        m: usize,
        ksub: usize,
    },
    /// RaBitQ at `bits` per dimension; its query bits, ε₀ and seed are the sweep's
    /// (`Settings::rabitq_params`).
    Rabitq {
        bits: u32,
    },
}

impl Config {
    pub fn method(self) -> Method {
        match self {
            Config::Pq { .. } => Method::Pq,
            Config::Sq { .. } => Method::Sq,
            Config::Opq { .. } => Method::Opq,
            Config::Rabitq { .. } => Method::Rabitq,
        }
    }

    /// A short label for tables and plots: `PQ 8x256`, `SQ 8-bit`, `OPQ 8x256`,
    /// `RaBitQ 4-bit`.
    pub fn label(self) -> String {
        match self {
            Config::Pq { m, ksub } => format!("PQ {m}x{ksub}"),
            Config::Sq { bits } => format!("SQ {bits}-bit"),
            Config::Opq { m, ksub } => format!("OPQ {m}x{ksub}"),
            Config::Rabitq { bits } => format!("RaBitQ {bits}-bit"),
        }
    }
}

/// Settings shared by every run of a sweep.
#[derive(Clone, Debug)]
pub struct Settings {
    pub threads: usize,
    pub seed: u64,
    pub kmeans_iters: usize,
    pub kmeans_init: InitArg,
    pub kmeans_tol: f64,
    pub kmeans_hartigan: usize,
    pub max_points_per_centroid: usize,
    pub recall: bool,
    pub pairwise: bool,
    pub rank: bool,
    pub num_pairs: usize,
    pub rank_k: usize,
    /// `--train-size`: rows every configuration trains on at most.
    pub train_size: Option<usize>,
    /// `--batch-size`: base rows per batch of a pass (`None`: [`Settings::batch_rows`] picks).
    pub batch_size: Option<usize>,
    /// `--metric`: of the ground truth, every quantizer and its search.
    pub metric: vq::Metric,
    /// `--opq-iterations`: OPQ's outer iterations.
    pub opq_iterations: usize,
    /// `--rabitq-qb`: the query's bits in RaBitQ's 1-bit estimate.
    pub rabitq_qb: vq::QueryBits,
    /// `--rabitq-epsilon`: ε₀ of RaBitQ's bounds.
    pub rabitq_epsilon: f32,
    /// `--pq-fast-scan` with `--pq-rerank-factor`: measure the 4-bit fast scan of PQ and OPQ
    /// runs of at most [`FAST_SCAN_MAX_KSUB`] centroids.
    pub fast_scan: Option<vq::FastScanParams>,
}

/// The most centroids per sub-quantizer a fast-scanned PQ may have: its sub-codes are
/// nibbles.
pub const FAST_SCAN_MAX_KSUB: usize = 16;

/// Whether `cfg` is fast-scanned under `s`: a PQ or OPQ of at most 16 centroids per
/// sub-quantizer, with `--pq-fast-scan`.
pub fn fast_scanned(cfg: Config, s: &Settings) -> bool {
    s.fast_scan.is_some()
        && matches!(cfg, Config::Pq { ksub, .. } | Config::Opq { ksub, .. } if ksub <= FAST_SCAN_MAX_KSUB)
}

/// With `--pq-fast-scan`, checks that `grid` has a run to fast-scan: a PQ or OPQ of
/// 2..=16 centroids; `clusters_flag` names the flag that sets them, for the message.
pub fn check_fast_scan(grid: &[Config], s: &Settings, clusters_flag: &str) -> Result<(), String> {
    if s.fast_scan.is_none() || grid.iter().any(|&g| fast_scanned(g, s)) {
        return Ok(());
    }
    let mut ksubs: Vec<usize> = grid
        .iter()
        .filter_map(|&g| match g {
            Config::Pq { ksub, .. } | Config::Opq { ksub, .. } => Some(ksub),
            _ => None,
        })
        .collect();
    ksubs.sort_unstable();
    ksubs.dedup();
    if ksubs.is_empty() {
        return Err("--pq-fast-scan applies to --method pq (and opq); add pq to --method or drop it".into());
    }
    Err(format!(
        "--pq-fast-scan needs a PQ or OPQ run with 2..={FAST_SCAN_MAX_KSUB} centroids per sub-quantizer (4-bit codes), \
         this one has {}; set {clusters_flag}",
        ksubs.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
    ))
}

/// Rows RaBitQ trains on without `--train-size`: training only takes their mean (the
/// centroid; the rotation is drawn from the seed), and any centroid gives unbiased
/// estimates, so a sample as large as OPQ's rotation sample is ample and keeps training
/// out of the passes over the base.
pub const RABITQ_TRAIN_ROWS: usize = 65_536;

impl Settings {
    /// Neighbours the search and the ground truth need: 100 for recall@100, at least
    /// `rank_k`, at most the base size.
    pub fn search_k(&self, n_base: usize) -> Option<usize> {
        let mut k = 0;
        if self.recall {
            k = 100;
        }
        if self.rank {
            k = k.max(self.rank_k);
        }
        (k > 0).then(|| k.min(n_base))
    }

    /// Rows `cfg` trains on among `n`: `--train-size`, else what the quantizer needs (PQ:
    /// `ksub × max_points_per_centroid`, FAISS's cap; OPQ: that or the rotation's
    /// `max_train_points`, whichever is more; SQ: every row; RaBitQ: `RABITQ_TRAIN_ROWS`),
    /// never more than `n`.
    pub fn train_rows(&self, cfg: Config, n: usize) -> usize {
        let want = match (self.train_size, cfg) {
            (Some(t), _) => t,
            (None, Config::Pq { ksub, .. }) => ksub.saturating_mul(self.max_points_per_centroid),
            (None, Config::Opq { m, ksub }) => {
                ksub.saturating_mul(self.max_points_per_centroid).max(self.opq_params(m, ksub).max_train_points)
            }
            (None, Config::Sq { .. }) => n,
            (None, Config::Rabitq { .. }) => RABITQ_TRAIN_ROWS,
        };
        want.min(n)
    }

    /// Whether `cfg` trains in a pass over the whole base (SQ's ranges) rather than on a
    /// sample held in memory.
    pub fn trains_in_a_pass(&self, cfg: Config, n: usize) -> bool {
        matches!(cfg, Config::Sq { .. }) && self.train_rows(cfg, n) >= n
    }

    /// Base rows per batch: `--batch-size`, else about 16 MiB of f32 rows (a batch and its
    /// reconstruction stay in the last-level cache of most servers while every quantizer
    /// encodes it), 256 to 65,536 rows.
    pub fn batch_rows(&self, dim: usize) -> usize {
        self.batch_size.unwrap_or_else(|| default_batch_rows(dim))
    }

    pub fn pq_params(&self, m: usize, ksub: usize) -> PqParams {
        let mut p = PqParams::new(m, ksub);
        p.kmeans.max_iter = self.kmeans_iters;
        p.kmeans.tol = self.kmeans_tol;
        p.kmeans.hartigan_passes = self.kmeans_hartigan;
        p.kmeans.seed = self.seed;
        p.kmeans.max_points_per_centroid = self.max_points_per_centroid;
        p.kmeans.init = match self.kmeans_init {
            InitArg::Random => Init::Random,
            InitArg::PlusPlus => Init::PlusPlus,
            InitArg::GreedyPlusPlus => Init::GreedyPlusPlus,
        };
        p.kmeans.threads = effective_threads(self.threads);
        p.metric = self.metric;
        p
    }

    /// FAISS's `OPQMatrix` defaults (`OpqParams::new`) but for the sweep's: outer
    /// iterations, seed, threads, metric, and the final PQ's k-means (as `pq_params`).
    pub fn opq_params(&self, m: usize, ksub: usize) -> OpqParams {
        let mut p = OpqParams::new(m, ksub);
        p.niter = self.opq_iterations;
        p.seed = self.seed;
        p.threads = effective_threads(self.threads);
        p.kmeans = self.pq_params(m, ksub).kmeans;
        p.metric = self.metric;
        p
    }

    /// RaBitQ at `bits` with the sweep's query bits, ε₀, seed and metric; the centroid is
    /// the training rows' mean.
    pub fn rabitq_params(&self, bits: u32) -> RabitqParams {
        let mut p = RabitqParams::new(bits);
        p.qb = self.rabitq_qb;
        p.epsilon = self.rabitq_epsilon;
        p.seed = self.seed;
        p.metric = self.metric;
        p
    }
}

/// Checks a configuration against the data's shape (`n` base rows of dimension `d`) before
/// anything runs, naming the flag.
pub fn validate(cfg: Config, n: usize, d: usize, s: &Settings) -> Result<(), String> {
    if let Some(t) = s.train_size {
        if t > n {
            return Err(format!("--train-size {t} is more than the {n} base vectors; expected 1..={n}"));
        }
    }
    match cfg {
        Config::Pq { m, ksub } | Config::Opq { m, ksub } => {
            let (chunks, clusters) = match cfg.method() {
                Method::Opq => ("--opq-quantizers/--num-chunks", "--opq-clusters/--opq-bits/--num-clusters"),
                _ => ("--pq-chunks/--num-chunks", "--pq-clusters/--num-clusters"),
            };
            if m > d {
                return Err(format!("{chunks} {m} is more than the dimension {d}; expected 1..={d}"));
            }
            if ksub > n {
                return Err(format!(
                    "{clusters} {ksub} is more than the {n} training vectors of {}; expected 2..={n} (or more vectors)",
                    cfg.label()
                ));
            }
            if let Some(t) = s.train_size.filter(|&t| t < ksub) {
                return Err(format!(
                    "--train-size {t} is fewer than the {ksub} centroids of {}; expected {ksub}..={n}",
                    cfg.label()
                ));
            }
        }
        Config::Sq { .. } | Config::Rabitq { .. } => {}
    }
    if s.pairwise && n < 2 {
        return Err(format!("--with-pairwise needs at least 2 base vectors, the dataset has {n}"));
    }
    if s.rank && s.rank_k > n {
        return Err(format!("--rank-k {} is more than the {n} base vectors; expected 1..={n}", s.rank_k));
    }
    Ok(())
}

/// A finished run: its metrics and configuration, as JSON objects in a fixed key order.
pub struct Outcome {
    pub config_label: String,
    pub method: Method,
    /// The full `dataset_fingerprint`, taken by the first pass.
    pub fingerprint: String,
    pub metrics: Map<String, Value>,
    pub config: Map<String, Value>,
    pub wall_seconds: f64,
    /// The trained quantizer as a model file (`vq::format`), training settings included.
    pub model: Vec<u8>,
}

/// A configuration's own `config_json` keys: the method's (`num_chunks`, `num_clusters` or
/// `num_bits`) first, then how it was trained. OPQ logs PQ's keys for its `m` and `ksub`
/// (so the CSV's columns and `--resume` read them alike), its `method` (the run's `method`
/// column says it too, but a `config_json` read alone must tell OPQ from PQ) and an `opq`
/// object with the rotation's settings. RaBitQ likewise logs SQ's `num_bits` (bits per
/// dimension for both), its `method`, and a `rabitq` object: its `RabitqParams`, so the
/// quantizer can be trained again from `config_json` alone.
pub fn describe(cfg: Config, s: &Settings, n: usize, d: usize) -> Map<String, Value> {
    let mut config = Map::new();
    let train_rows = s.train_rows(cfg, n);
    match cfg {
        Config::Pq { m, ksub } | Config::Opq { m, ksub } => {
            let p = s.pq_params(m, ksub);
            if let Config::Opq { .. } = cfg {
                config.insert("method".into(), json!(Method::Opq.name()));
            }
            config.insert("num_chunks".into(), json!(m));
            config.insert("num_clusters".into(), json!(ksub));
            config.insert("bits_per_chunk".into(), json!(bits_for(ksub)));
            config.insert(
                "kmeans".into(),
                json!({
                    "iterations": p.kmeans.max_iter,
                    "init": match p.kmeans.init {
                        Init::Random => "random",
                        Init::PlusPlus => "kmeans++",
                        Init::GreedyPlusPlus => "greedy-kmeans++",
                    },
                    "tol": p.kmeans.tol,
                    "hartigan_passes": p.kmeans.hartigan_passes,
                    "seed": p.kmeans.seed,
                    "sub_quantizer_seeds": "seed + i for sub-quantizer i",
                    "parallel": "sub-quantizers over threads when m >= threads, else each k-means over threads",
                    "max_points_per_centroid": p.kmeans.max_points_per_centroid,
                    "training_rows": train_rows.min(ksub.saturating_mul(p.kmeans.max_points_per_centroid)),
                }),
            );
            if let Config::Opq { .. } = cfg {
                let o = s.opq_params(m, ksub);
                config.insert(
                    "opq".into(),
                    json!({
                        "niter": o.niter,
                        "niter_pq": o.niter_pq,
                        "niter_pq_0": o.niter_pq_0,
                        "max_train_points": o.max_train_points,
                        "rotation_training_rows": train_rows.min(o.max_train_points),
                        "inner_points_per_centroid": o.inner_points_per_centroid,
                        "seed": o.seed,
                        "d_out": o.d_out.unwrap_or(d),
                    }),
                );
            }
        }
        Config::Sq { bits } => {
            config.insert("num_bits".into(), json!(bits));
        }
        Config::Rabitq { bits } => {
            let p = s.rabitq_params(bits);
            config.insert("method".into(), json!(Method::Rabitq.name()));
            config.insert("num_bits".into(), json!(bits));
            config.insert(
                "rabitq".into(),
                json!({
                    "bits": p.bits,
                    "ex_bits": p.bits - 1,
                    "qb": p.qb.number(),
                    "query": match p.qb {
                        vq::QueryBits::Float => "float".to_string(),
                        vq::QueryBits::Quantized(b) => format!("{b}-bit"),
                    },
                    "epsilon": decimal(p.epsilon),
                    "seed": p.seed,
                    "metric": p.metric.name(),
                    "centroid": format!("mean of the {train_rows} training rows"),
                }),
            );
        }
    }
    if let (Some(p), Config::Pq { ksub, .. } | Config::Opq { ksub, .. }) = (s.fast_scan, cfg) {
        config.insert("fast_scan".into(), json!(fast_scanned(cfg, s)));
        config.insert("rerank_factor".into(), json!(p.rerank_factor));
        if !fast_scanned(cfg, s) {
            config.insert(
                "fast_scan_skipped".into(),
                json!(format!(
                    "{ksub} centroids per sub-quantizer: the fast scan packs 4-bit codes (2..={FAST_SCAN_MAX_KSUB})"
                )),
            );
        }
    }
    config.insert("train_size".into(), json!(train_rows));
    config.insert(
        "train_sample".into(),
        json!(if train_rows >= n {
            "every base row, in order".to_string()
        } else {
            format!("{train_rows} base rows drawn with --seed {}", s.seed)
        }),
    );
    config
}

/// The quality and cost figures of a run, in the order the CSV and the docs list them.
pub struct Figures {
    pub code_size: usize,
    pub compression_ratio: f64,
    pub mse: f64,
    pub mean_sq_norm: f64,
    pub pairwise: Option<vq::metrics::PairwiseDistortion>,
}

/// The metrics every run has, before the search's and the timings.
pub fn quality_metrics(cfg: Config, d: usize, f: &Figures) -> Map<String, Value> {
    let mut metrics = Map::new();
    metrics.insert("compression_ratio".into(), json!(f.compression_ratio));
    metrics.insert("bytes_per_vector".into(), json!(f.code_size));
    // The information a code carries: what a bit-packed layout would store (a 7-bit PQ
    // sub-code takes a whole byte in vq's layout, so compression_ratio counts it as 8).
    let bits = match cfg {
        Config::Pq { m, ksub } | Config::Opq { m, ksub } => m * bits_for(ksub) as usize,
        Config::Sq { bits } => d * bits as usize,
        // A RaBitQ code's factors (3 floats at 1 bit, 5 above) are part of what it carries.
        Config::Rabitq { bits } => d * bits as usize + 32 * if bits == 1 { 3 } else { 5 },
    };
    metrics.insert("bits_per_vector".into(), json!(bits));
    metrics.insert("compression_ratio_packed".into(), json!((32 * d) as f64 / bits as f64));
    metrics.insert("reconstruction_distortion".into(), json!(f.mse));
    metrics.insert("mse_per_dimension".into(), json!(f.mse / d as f64));
    metrics
        .insert("relative_distortion".into(), json!(if f.mean_sq_norm > 0.0 { f.mse / f.mean_sq_norm } else { 0.0 }));
    if let Some(p) = f.pairwise {
        metrics.insert("pairwise_distortion_mean".into(), json!(p.mean));
        metrics.insert("pairwise_distortion_median".into(), json!(p.median));
        metrics.insert("pairwise_distortion_max".into(), json!(p.max));
        metrics.insert("pairwise_distortion_std".into(), json!(p.std));
        metrics.insert("pairwise_pairs".into(), json!(p.pairs));
    }
    metrics
}

/// recall@10, recall@100 and rank distortion of a search's `ids` (`k` per query) against
/// the exact neighbours.
pub fn search_metrics(
    s: &Settings,
    truth: &crate::dataset::Truth,
    ids: &[i64],
    k: usize,
    metrics: &mut Map<String, Value>,
) -> Result<(), String> {
    let at = |want: usize| want.min(k).min(truth.k);
    if s.rank {
        let r = at(s.rank_k);
        let v = vq::metrics::rank_distortion_at_k(&truth.ids, truth.k, ids, k, r).map_err(|e| e.to_string())?;
        metrics.insert(format!("rank_distortion@{}", s.rank_k), json!(v));
        if r != s.rank_k {
            metrics.insert(format!("rank_distortion@{}_computed_at", s.rank_k), json!(r));
        }
    }
    if s.recall {
        recall_metrics("recall", truth, ids, k, metrics)?;
    }
    Ok(())
}

/// `{name}@10` and `{name}@100` of `ids` (`k` per query), each computed at most at `k` and
/// the truth's depth (`{name}@{want}_computed_at` says where it was less).
pub fn recall_metrics(
    name: &str,
    truth: &crate::dataset::Truth,
    ids: &[i64],
    k: usize,
    metrics: &mut Map<String, Value>,
) -> Result<(), String> {
    for want in [10, 100] {
        let r = want.min(k).min(truth.k);
        let v = vq::metrics::recall_at_k(&truth.ids, truth.k, ids, k, r).map_err(|e| e.to_string())?;
        metrics.insert(format!("{name}@{want}"), json!(v));
        if r != want {
            metrics.insert(format!("{name}@{want}_computed_at"), json!(r));
        }
    }
    Ok(())
}

/// What RaBitQ's re-ranking search found (see the module docs): its `ids` (`k` per query),
/// the exact distances it computed, and its time.
pub struct Refined<'a> {
    pub ids: &'a [i64],
    pub k: usize,
    pub reranked: usize,
    pub seconds: f64,
}

/// The re-ranked search's keys (module docs) for `nq` queries over `n` base rows.
pub fn refine_metrics(
    s: &Settings,
    truth: &crate::dataset::Truth,
    r: &Refined<'_>,
    (nq, n): (usize, usize),
    metrics: &mut Map<String, Value>,
) -> Result<(), String> {
    if s.recall {
        recall_metrics("recall_refined", truth, r.ids, r.k, metrics)?;
    }
    metrics.insert("refine_fraction".into(), json!(r.reranked as f64 / (nq as f64 * n as f64).max(1.0)));
    metrics.insert("refine_search_seconds".into(), json!(r.seconds));
    metrics.insert("refine_search_qps".into(), json!(queries_per_second(nq, r.seconds)));
    Ok(())
}

/// `v` as JSON writes it for a reader: through the f32's shortest decimal, so a flag's 1.9
/// is logged as 1.9, not as the f64 1.899999976158142 of the same bits.
pub fn decimal(v: f32) -> f64 {
    v.to_string().parse().expect("an f32's decimal parses as an f64")
}

/// Queries per second of one search of `nq` queries that took `secs`.
pub fn queries_per_second(nq: usize, secs: f64) -> f64 {
    nq as f64 / secs.max(1e-9)
}

/// The newer tool's timing keys (see the module docs), from vq's own timings of the run.
pub fn latency_metrics(
    metrics: &mut Map<String, Value>,
    train_seconds: f64,
    encode_seconds: f64,
    decode_seconds: f64,
    qps: Option<f64>,
) {
    if let Some(qps) = qps {
        metrics.insert("qps".into(), json!(qps));
        metrics.insert("avg_query_latency_ms".into(), json!(1000.0 / qps));
    }
    metrics.insert("fit_latency_ms".into(), json!(train_seconds * 1000.0));
    metrics.insert("compression_latency_ms".into(), json!(encode_seconds * 1000.0));
    metrics.insert("decompression_latency_ms".into(), json!(decode_seconds * 1000.0));
}

/// About 16 MiB of f32 rows of dimension `dim`, 256 to 65,536 rows.
pub fn default_batch_rows(dim: usize) -> usize {
    ((16 << 20) / (4 * dim.max(1))).clamp(256, 65_536)
}

/// `⌈log2 ksub⌉`: the bits a sub-code carries.
fn bits_for(ksub: usize) -> u32 {
    usize::BITS - (ksub - 1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_sub_code() {
        assert_eq!((bits_for(2), bits_for(16), bits_for(17), bits_for(256), bits_for(65536)), (1, 4, 5, 8, 16));
    }
}
