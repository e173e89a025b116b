//! One benchmark run: train a quantizer, encode the base, and measure what a researcher
//! compares quantizers by, with the original tool's metric names where it had them.
//!
//! Quality: `compression_ratio`, `reconstruction_distortion` (the original's MSE: the mean
//! over vectors of each vector's sum of squared errors), `pairwise_distortion_*` (|d̂/d − 1|
//! over random pairs), `rank_distortion@k` (1 − recall@k), `recall@10`, `recall@100` (the
//! quantizer's own ADC search against exact neighbours). Cost: `bytes_per_vector`, wall
//! times of every step, encode throughput and single-thread `search_qps`.

use crate::cli::{InitArg, Method};
use crate::dataset::{effective_threads, Dataset, Truth};
use crate::progress::Progress;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use vq::kmeans::Init;
use vq::{PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

/// One configuration of a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    Pq { m: usize, ksub: usize },
    Sq { bits: u32 },
}

impl Config {
    pub fn method(self) -> Method {
        match self {
            Config::Pq { .. } => Method::Pq,
            Config::Sq { .. } => Method::Sq,
        }
    }

    /// A short label for tables and plots: `PQ 8x256`, `SQ 8-bit`.
    pub fn label(self) -> String {
        match self {
            Config::Pq { m, ksub } => format!("PQ {m}x{ksub}"),
            Config::Sq { bits } => format!("SQ {bits}-bit"),
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
}

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

    fn pq_params(&self, m: usize, ksub: usize) -> PqParams {
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
        p
    }
}

/// Checks a configuration against the dataset before anything runs, naming the flag.
pub fn validate(cfg: Config, ds: &Dataset, s: &Settings) -> Result<(), String> {
    let n = ds.n_base();
    match cfg {
        Config::Pq { m, ksub } => {
            if m > ds.dim {
                return Err(format!(
                    "--pq-chunks/--num-chunks {m} is more than the dimension {}; expected 1..={}",
                    ds.dim, ds.dim
                ));
            }
            if ksub > n {
                return Err(format!(
                    "--pq-clusters/--num-clusters {ksub} is more than the {n} training vectors; expected 2..={n} (or more vectors)"
                ));
            }
        }
        Config::Sq { .. } => {}
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
    pub metrics: Map<String, Value>,
    pub config: Map<String, Value>,
    pub wall_seconds: f64,
    /// The trained quantizer as a model file (`vq::format`), training settings included.
    pub model: Vec<u8>,
}

/// Runs one configuration.
pub fn execute(
    cfg: Config,
    ds: &Dataset,
    truth: Option<&Truth>,
    s: &Settings,
    progress: &Progress,
) -> Result<Outcome, String> {
    let t_run = Instant::now();
    let (d, n) = (ds.dim, ds.n_base());
    let threads = effective_threads(s.threads);
    let mut config = Map::new();
    let mut metrics = Map::new();

    // Train.
    let bar = match cfg {
        Config::Pq { m, .. } => progress.bar("training", m as u64),
        Config::Sq { .. } => progress.spinner("training", String::new()),
    };
    bar.set_message(cfg.label());
    let t = Instant::now();
    let model: Vec<u8>;
    let quantizer: Box<dyn Quantizer + Sync> = match cfg {
        Config::Pq { m, ksub } => {
            let p = s.pq_params(m, ksub);
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
                    "training_rows": n.min(ksub.saturating_mul(p.kmeans.max_points_per_centroid)),
                }),
            );
            let pq = ProductQuantizer::train_with_progress(d, &ds.base, &p, &|_| bar.inc(1))
                .map_err(|e| format!("{}: training failed: {e}", cfg.label()))?;
            model = pq.to_bytes();
            Box::new(pq)
        }
        Config::Sq { bits } => {
            config.insert("num_bits".into(), json!(bits));
            let b = SqBits::from_bits(bits).map_err(|e| e.to_string())?;
            let sq =
                ScalarQuantizer::train(b, d, &ds.base).map_err(|e| format!("{}: training failed: {e}", cfg.label()))?;
            model = sq.to_bytes();
            Box::new(sq)
        }
    };
    let train_seconds = t.elapsed().as_secs_f64();
    bar.finish_and_clear();

    // Encode, in blocks spread over the threads (codes identical to one thread).
    let cs = quantizer.code_size();
    let mut codes = vec![0u8; n * cs];
    let t = Instant::now();
    encode_parallel(quantizer.as_ref(), &ds.base, &mut codes, threads, progress, &cfg.label())?;
    let encode_seconds = t.elapsed().as_secs_f64();

    // Decode and reconstruction error.
    let t = Instant::now();
    let mut rec = vec![0f32; ds.base.len()];
    quantizer.decode(&codes, &mut rec).map_err(|e| e.to_string())?;
    let decode_seconds = t.elapsed().as_secs_f64();
    let mse = vq::metrics::reconstruction_mse(d, &ds.base, &rec).map_err(|e| e.to_string())?;
    let mean_sq_norm = ds.base.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / n as f64;

    metrics.insert("compression_ratio".into(), json!(quantizer.compression_ratio()));
    metrics.insert("bytes_per_vector".into(), json!(cs));
    // The information a code carries: what a bit-packed layout would store (a 7-bit PQ
    // sub-code takes a whole byte in vq's layout, so compression_ratio counts it as 8).
    let bits = match cfg {
        Config::Pq { m, ksub } => m * bits_for(ksub) as usize,
        Config::Sq { bits } => d * bits as usize,
    };
    metrics.insert("bits_per_vector".into(), json!(bits));
    metrics.insert("compression_ratio_packed".into(), json!((32 * d) as f64 / bits as f64));
    metrics.insert("reconstruction_distortion".into(), json!(mse));
    metrics.insert("mse_per_dimension".into(), json!(mse / d as f64));
    metrics.insert("relative_distortion".into(), json!(if mean_sq_norm > 0.0 { mse / mean_sq_norm } else { 0.0 }));

    if s.pairwise {
        let p = vq::metrics::pairwise_distortion(d, &ds.base, &rec, s.num_pairs, s.seed).map_err(|e| e.to_string())?;
        metrics.insert("pairwise_distortion_mean".into(), json!(p.mean));
        metrics.insert("pairwise_distortion_median".into(), json!(p.median));
        metrics.insert("pairwise_distortion_max".into(), json!(p.max));
        metrics.insert("pairwise_distortion_std".into(), json!(p.std));
        metrics.insert("pairwise_pairs".into(), json!(p.pairs));
    }
    drop(rec);

    let mut search_seconds = None;
    if let (Some(k), Some(truth)) = (s.search_k(n), truth) {
        let nq = ds.n_queries();
        let mut dist = vec![0f32; nq * k];
        let mut ids = vec![0i64; nq * k];
        let t = Instant::now();
        quantizer.search(&ds.queries, &codes, k, &mut dist, &mut ids).map_err(|e| e.to_string())?;
        let secs = t.elapsed().as_secs_f64();
        search_seconds = Some(secs);
        let at = |want: usize| want.min(k).min(truth.k);
        if s.rank {
            let r = at(s.rank_k);
            let v = vq::metrics::rank_distortion_at_k(&truth.ids, truth.k, &ids, k, r).map_err(|e| e.to_string())?;
            metrics.insert(format!("rank_distortion@{}", s.rank_k), json!(v));
            if r != s.rank_k {
                metrics.insert(format!("rank_distortion@{}_computed_at", s.rank_k), json!(r));
            }
        }
        if s.recall {
            for want in [10, 100] {
                let r = at(want);
                let v = vq::metrics::recall_at_k(&truth.ids, truth.k, &ids, k, r).map_err(|e| e.to_string())?;
                metrics.insert(format!("recall@{want}"), json!(v));
                if r != want {
                    metrics.insert(format!("recall@{want}_computed_at"), json!(r));
                }
            }
        }
        metrics.insert("search_qps".into(), json!(nq as f64 / secs.max(1e-9)));
    }

    metrics.insert("train_seconds".into(), json!(train_seconds));
    metrics.insert("encode_seconds".into(), json!(encode_seconds));
    metrics.insert("encode_vectors_per_second".into(), json!(n as f64 / encode_seconds.max(1e-9)));
    metrics.insert("decode_seconds".into(), json!(decode_seconds));
    if let Some(secs) = search_seconds {
        metrics.insert("search_seconds".into(), json!(secs));
    }
    if let Some(t) = truth {
        metrics.insert("ground_truth_seconds".into(), json!(t.seconds));
    }
    metrics.insert("dataset_load_seconds".into(), json!(ds.load_seconds));
    metrics.insert("dataset_bytes_read".into(), json!(ds.bytes_read));
    let wall = t_run.elapsed().as_secs_f64();
    metrics.insert("wall_seconds".into(), json!(wall));
    metrics.insert("num_base".into(), json!(n));
    metrics.insert("num_queries".into(), json!(ds.n_queries()));
    metrics.insert("dim".into(), json!(d));
    if let Some(mib) = peak_rss_mib() {
        metrics.insert("peak_rss_mib".into(), json!(mib));
    }
    Ok(Outcome { metrics, config, wall_seconds: wall, model })
}

/// `⌈log2 ksub⌉`: the bits a sub-code carries.
fn bits_for(ksub: usize) -> u32 {
    usize::BITS - (ksub - 1).leading_zeros()
}

/// Encodes `base` in blocks of 1,024 rows over `threads` threads, with a progress bar.
fn encode_parallel(
    q: &(dyn Quantizer + Sync),
    base: &[f32],
    codes: &mut [u8],
    threads: usize,
    progress: &Progress,
    label: &str,
) -> Result<(), String> {
    const BLOCK: usize = 1024;
    let (d, cs) = (q.dim(), q.code_size());
    let n = base.len() / d;
    let bar = progress.bar("encoding", n as u64);
    bar.set_message(label.to_string());
    let work = std::sync::Mutex::new(base.chunks(BLOCK * d).zip(codes.chunks_mut(BLOCK * cs)).collect::<Vec<_>>());
    let done = AtomicUsize::new(0);
    let err = std::sync::Mutex::new(None::<String>);
    std::thread::scope(|sc| {
        for _ in 0..threads.max(1) {
            sc.spawn(|| loop {
                let item = work.lock().expect("work queue").pop();
                let Some((x, c)) = item else { break };
                if let Err(e) = q.encode(x, c) {
                    *err.lock().expect("error slot") = Some(e.to_string());
                }
                let rows = x.len() / d;
                bar.set_position((done.fetch_add(rows, Ordering::Relaxed) + rows) as u64);
            });
        }
    });
    bar.finish_and_clear();
    match err.into_inner().expect("error slot") {
        Some(e) => Err(format!("{label}: encoding failed: {e}")),
        None => Ok(()),
    }
}

/// The process's peak resident memory so far (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_per_sub_code() {
        assert_eq!((bits_for(2), bits_for(16), bits_for(17), bits_for(256), bits_for(65536)), (1, 4, 5, 8, 16));
    }
}
