//! The passes of a sweep over the base: every configuration of the sweep is trained,
//! encoded and measured from the fewest reads of the data, in memory that does not grow
//! with the data's size.
//!
//! 1. **Training samples**, one read for all: the rows each configuration trains on are a
//!    prefix of one seeded random order (so a smaller sample is part of a larger one), read
//!    once, in file order. A configuration that trains on every row (the base is smaller
//!    than its sample) takes them in order, as an in-memory run would.
//! 2. **Pass 1**, only when an SQ configuration trains on the whole base: its per-dimension
//!    ranges, the exact ground truth and the fingerprint, batch by batch.
//! 3. **Pass 2**: each batch is encoded by every trained quantizer while it is in cache,
//!    decoded, and fed to the error accumulators; ground truth and fingerprint ride along
//!    if pass 1 did not run.
//! 4. Each configuration's ADC search of the queries over its codes (RaBitQ's also
//!    re-ranked against the base, when the base is in memory; with `--pq-fast-scan`, a
//!    4-bit PQ's or OPQ's codes also packed and fast-scanned, `fast_scan`), then its
//!    metrics; a run is handed to the caller (who logs it) as soon as it is measured.
//!
//! Every step follows `Settings::metric`: the quantizers are trained for it, the ground
//! truth is exact under it, and for cosine the errors are measured against the normalized
//! rows (see `measure`).
//!
//! Memory: the training sample, the codes of every configuration, a few batches, and the
//! pair rows of the pairwise distortion. The figures are those of the whole arrays, bit for
//! bit: the accumulators (`vq::metrics`, `vq::RangeAccumulator`) fold in row order.

use crate::dataset::{effective_threads, Truth};
use crate::fast_scan::{self, Scanned};
use crate::fingerprint::Fingerprinter;
use crate::measure::{self, queries_per_second, Config, Figures, Outcome, Refined, Settings};
use crate::memory::AnonPeak;
use crate::progress::Progress;
use serde_json::json;
use std::time::Instant;
use vq::{OpqQuantizer, ProductQuantizer, Quantizer, RabitqQuantizer, RangeAccumulator, ScalarQuantizer, SqBits};

/// The base rows of a dataset, wherever they are.
pub trait BaseRows: Sync {
    fn rows(&self) -> usize;
    fn dim(&self) -> usize;
    /// Fills `out` (whole rows) with rows `first, first + 1, …`.
    fn read(&self, first: usize, out: &mut [f32]) -> Result<(), String>;
    /// Fills `out` with the given rows (ascending), in that order.
    fn gather(&self, rows: &[usize], out: &mut [f32]) -> Result<(), String>;
    /// Bytes read from storage so far (0 for data in memory).
    fn bytes_read(&self) -> u64;
    /// Every row, when they are in memory already.
    fn in_memory(&self) -> Option<&[f32]>;
}

/// The exact neighbours, streamed with the base: the caller's engine.
pub trait TruthBuilder {
    /// The next rows of the base, ids from `first`.
    fn add(&mut self, first: usize, rows: &[f32]) -> Result<(), String>;
    fn finish(self: Box<Self>) -> Result<Truth, String>;
}

/// What the evaluation reads and how.
pub struct Inputs<'a> {
    pub base: &'a dyn BaseRows,
    pub queries: &'a [f32],
    /// Exact neighbours read from a file, or an engine to compute them during a pass.
    pub truth: TruthInput<'a>,
    pub settings: &'a Settings,
    pub progress: &'a Progress,
    pub memory: Option<&'a AnonPeak>,
}

pub enum TruthInput<'a> {
    None,
    Given(&'a Truth),
    Compute(Box<dyn TruthBuilder + 'a>),
}

/// What the passes cost, shared by every run of the sweep.
pub struct Shared {
    pub passes: usize,
    pub bytes_read: u64,
    pub read_seconds: f64,
}

/// A trained quantizer as the passes hold it: the library's trait, and RaBitQ's own
/// calls (its re-ranking search) where it is RaBitQ, the PQ under it (for the fast scan)
/// where it is PQ or OPQ.
trait Trained: Quantizer + Sync {
    fn as_rabitq(&self) -> Option<&RabitqQuantizer> {
        None
    }
    fn as_pq(&self) -> Option<Scanned<'_>> {
        None
    }
}

impl Trained for ProductQuantizer {
    fn as_pq(&self) -> Option<Scanned<'_>> {
        Some(Scanned { pq: self, rotation: None })
    }
}
impl Trained for OpqQuantizer {
    fn as_pq(&self) -> Option<Scanned<'_>> {
        Some(Scanned { pq: self.pq(), rotation: Some(self) })
    }
}
impl Trained for ScalarQuantizer {}
impl Trained for RabitqQuantizer {
    fn as_rabitq(&self) -> Option<&RabitqQuantizer> {
        Some(self)
    }
}

/// One configuration on its way through the passes.
struct Job {
    cfg: Config,
    train_rows: usize,
    quantizer: Option<Box<dyn Trained>>,
    model: Vec<u8>,
    codes: Vec<u8>,
    mse: vq::metrics::MseAccumulator,
    train_seconds: f64,
    encode_seconds: f64,
    decode_seconds: f64,
}

/// Trains, encodes and measures every configuration; `on_run` receives each finished run.
pub fn evaluate(
    configs: &[Config],
    inp: Inputs<'_>,
    on_run: &mut dyn FnMut(Outcome) -> Result<(), String>,
) -> Result<Shared, String> {
    let (n, d, s) = (inp.base.rows(), inp.base.dim(), inp.settings);
    let threads = effective_threads(s.threads);
    let batch = s.batch_rows(d).min(n.max(1));
    let mut read_seconds = 0.0;
    let mut jobs: Vec<Job> = configs
        .iter()
        .map(|&cfg| Job {
            cfg,
            train_rows: s.train_rows(cfg, n),
            quantizer: None,
            model: Vec::new(),
            codes: Vec::new(),
            mse: vq::metrics::MseAccumulator::new(d),
            train_seconds: 0.0,
            encode_seconds: 0.0,
            decode_seconds: 0.0,
        })
        .collect();

    // The pairs' original rows, kept as pass 2 goes by (each quantizer decodes its own
    // codes of them at the end).
    let mut pairs = match s.pairwise {
        true => Some(vq::metrics::PairwiseSample::new(d, n, s.num_pairs, s.seed).map_err(|e| e.to_string())?),
        false => None,
    };

    // 1. Training samples. Data already in memory is trained on in place when a
    //    configuration takes every row.
    let whole_base_sq = |j: &Job| s.trains_in_a_pass(j.cfg, n);
    let in_place = |j: &Job| j.train_rows >= n && inp.base.in_memory().is_some();
    let sample_len = jobs.iter().filter(|j| !whole_base_sq(j) && !in_place(j)).map(|j| j.train_rows).max().unwrap_or(0);
    let order: Vec<usize> = if sample_len >= n {
        (0..n).collect()
    } else {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(s.seed ^ 0x5452_4149_4E49_4E47);
        rand::seq::index::sample(&mut rng, n, sample_len).into_vec()
    };
    let mut sample_rows: Vec<usize> = order[..sample_len].to_vec();
    sample_rows.sort_unstable();
    let mut sample = vec![0f32; sample_len * d];
    if sample_len > 0 {
        let bar = inp.progress.spinner("sampling", format!("{sample_len} training rows"));
        let t = Instant::now();
        inp.base.gather(&sample_rows, &mut sample)?;
        read_seconds += t.elapsed().as_secs_f64();
        bar.finish_and_clear();
    }
    for job in jobs.iter_mut().filter(|j| !whole_base_sq(j)) {
        let rows = job.train_rows;
        if let (true, Some(all)) = (rows >= n, inp.base.in_memory()) {
            train_job(job, d, all, s, inp.progress)?;
        } else if rows == sample_len {
            train_job(job, d, &sample, s, inp.progress)?;
        } else {
            let mut mine: Vec<usize> = order[..rows].to_vec();
            mine.sort_unstable();
            let mut train = Vec::with_capacity(rows * d);
            for r in &mine {
                let at = sample_rows.binary_search(r).expect("a prefix of the sample");
                train.extend_from_slice(&sample[at * d..(at + 1) * d]);
            }
            train_job(job, d, &train, s, inp.progress)?;
        }
    }
    drop(sample);

    // 2. Pass 1: SQ ranges over the whole base. The first pass, whichever it is, also
    //    takes the fingerprint and the ground truth.
    let mut fp = Fingerprinter::new(d, n, inp.queries.len() / d);
    let (given, mut builder) = match inp.truth {
        TruthInput::None => (None, None),
        TruthInput::Given(t) => (Some(t), None),
        TruthInput::Compute(b) => (None, Some(b)),
    };
    let mut buf = vec![0f32; batch * d];
    let ranges_pass = jobs.iter().any(whole_base_sq);
    let passes = 1 + usize::from(ranges_pass);
    if ranges_pass {
        let mut ranges = RangeAccumulator::for_metric(d, s.metric).map_err(|e| e.to_string())?;
        let bar = inp.progress.bar("pass 1: ranges", n as u64);
        let mut range_seconds = 0.0;
        read_seconds += pass(inp.base, &mut buf, &bar, |first, x| {
            let t = Instant::now();
            ranges.add(x).map_err(|e| format!("SQ training: {e}"))?;
            range_seconds += t.elapsed().as_secs_f64();
            if let Some(b) = builder.as_mut() {
                b.add(first, x)?;
            }
            fp.feed(x);
            Ok(())
        })?;
        for job in jobs.iter_mut().filter(|j| whole_base_sq(j)) {
            let Config::Sq { bits } = job.cfg else { unreachable!("whole-base training is SQ's") };
            let t = Instant::now();
            let b = SqBits::from_bits(bits).map_err(|e| e.to_string())?;
            let sq = ranges.clone().finish(b).map_err(|e| format!("{}: training failed: {e}", job.cfg.label()))?;
            job.train_seconds = range_seconds + t.elapsed().as_secs_f64();
            job.model = sq.to_bytes();
            job.quantizer = Some(Box::new(sq));
        }
    }

    // 3. Pass 2: encode, decode and measure every configuration, batch by batch.
    for job in &mut jobs {
        let q = job.quantizer.as_ref().expect("trained above");
        job.codes = vec![0u8; n * q.code_size()];
    }
    let mut rec = vec![0f32; batch * d];
    // What the quantizers encode, which the MSE and the pairwise distortion measure against:
    // the rows, or for cosine the rows normalized as the quantizers normalize them (they
    // are still given the rows as read, so their codes are the library's for that input).
    let cosine = s.metric == vq::Metric::Cosine;
    let mut unit = vec![0f32; if cosine { batch * d } else { 0 }];
    let mut sum_sq_norm = 0f64;
    let bar = inp.progress.bar(if ranges_pass { "pass 2: encode" } else { "encoding" }, n as u64);
    bar.set_message(format!("{} configuration(s)", jobs.len()));
    read_seconds += pass(inp.base, &mut buf, &bar, |first, x| {
        let rows = x.len() / d;
        let encoded: &[f32] = if cosine {
            let u = &mut unit[..x.len()];
            u.copy_from_slice(x);
            vq::metric::normalize_rows(d, u);
            u
        } else {
            x
        };
        sum_sq_norm = encoded.iter().fold(sum_sq_norm, |acc, &v| acc + f64::from(v) * f64::from(v));
        for job in &mut jobs {
            let q = job.quantizer.as_deref().expect("trained above");
            let cs = q.code_size();
            let codes = &mut job.codes[first * cs..(first + rows) * cs];
            let t = Instant::now();
            encode_parallel(q, x, codes, threads).map_err(|e| format!("{}: encoding failed: {e}", job.cfg.label()))?;
            job.encode_seconds += t.elapsed().as_secs_f64();
            let r = &mut rec[..rows * d];
            let t = Instant::now();
            q.decode(codes, r).map_err(|e| e.to_string())?;
            job.decode_seconds += t.elapsed().as_secs_f64();
            job.mse.add(encoded, r).map_err(|e| e.to_string())?;
        }
        if let Some(p) = pairs.as_mut() {
            p.add(first, encoded).map_err(|e| e.to_string())?;
        }
        if !ranges_pass {
            if let Some(b) = builder.as_mut() {
                b.add(first, x)?;
            }
            fp.feed(x);
        }
        Ok(())
    })?;
    drop((buf, rec, unit));
    fp.end_base();
    fp.feed(inp.queries);
    let fingerprint = fp.finish();
    let computed = match builder {
        Some(b) => Some(b.finish()?),
        None => None,
    };
    let truth: Option<&Truth> = computed.as_ref().or(given);

    // 4. Search and metrics, one configuration at a time; each run is handed over at once.
    let mean_sq_norm = sum_sq_norm / n as f64;
    let nq = inp.queries.len() / d;
    for job in jobs {
        let t_run = Instant::now();
        let q = job.quantizer.as_deref().expect("trained above");
        let figures = Figures {
            code_size: q.code_size(),
            compression_ratio: q.compression_ratio(),
            mse: job.mse.mse().map_err(|e| e.to_string())?,
            mean_sq_norm,
            pairwise: match &pairs {
                Some(p) => Some(pairwise(p, q, &job.codes, d)?),
                None => None,
            },
        };
        let mut metrics = measure::quality_metrics(job.cfg, d, &figures);
        let mut search_seconds = None;
        let mut fast_scan_refine = "not run: no search (neither recall nor rank distortion asked for)";
        if let (Some(k), Some(truth)) = (s.search_k(n), truth) {
            let mut dist = vec![0f32; nq * k];
            let mut ids = vec![0i64; nq * k];
            let t = Instant::now();
            q.search(inp.queries, &job.codes, k, &mut dist, &mut ids).map_err(|e| e.to_string())?;
            let secs = t.elapsed().as_secs_f64();
            search_seconds = Some(secs);
            measure::search_metrics(s, truth, &ids, k, &mut metrics)?;
            metrics.insert("search_qps".into(), json!(queries_per_second(nq, secs)));
            if let (Some(rq), Some(base)) = (q.as_rabitq(), inp.base.in_memory()) {
                let t = Instant::now();
                let reranked = rq
                    .search_refine(inp.queries, &job.codes, k, base, &mut dist, &mut ids)
                    .map_err(|e| e.to_string())?;
                let r = Refined { ids: &ids, k, reranked, seconds: t.elapsed().as_secs_f64() };
                measure::refine_metrics(s, truth, &r, (nq, n), &mut metrics)?;
            }
            if let (Some(params), Some(pq), true) = (s.fast_scan, q.as_pq(), measure::fast_scanned(job.cfg, s)) {
                let search = fast_scan::Search {
                    queries: inp.queries,
                    base: inp.base.in_memory(),
                    k,
                    truth,
                    settings: s,
                    params,
                };
                fast_scan_refine = fast_scan::measure(&pq, &job.codes, n, &search, &mut metrics)
                    .map_err(|e| format!("{}: {e}", job.cfg.label()))?;
            }
        }
        metrics.insert("train_seconds".into(), json!(job.train_seconds));
        metrics.insert("encode_seconds".into(), json!(job.encode_seconds));
        metrics.insert("encode_vectors_per_second".into(), json!(n as f64 / job.encode_seconds.max(1e-9)));
        metrics.insert("decode_seconds".into(), json!(job.decode_seconds));
        if let Some(secs) = search_seconds {
            metrics.insert("search_seconds".into(), json!(secs));
        }
        measure::latency_metrics(
            &mut metrics,
            job.train_seconds,
            job.encode_seconds,
            job.decode_seconds,
            search_seconds.map(|secs| queries_per_second(nq, secs)),
        );
        if let Some(t) = truth {
            metrics.insert("ground_truth_seconds".into(), json!(t.seconds));
        }
        metrics.insert("dataset_load_seconds".into(), json!(read_seconds));
        let wall = job.train_seconds + job.encode_seconds + job.decode_seconds + t_run.elapsed().as_secs_f64();
        metrics.insert("wall_seconds".into(), json!(wall));
        metrics.insert("num_base".into(), json!(n));
        metrics.insert("num_queries".into(), json!(nq));
        metrics.insert("dim".into(), json!(d));
        metrics.insert("dataset_passes".into(), json!(passes));
        metrics.insert("dataset_bytes_read".into(), json!(inp.base.bytes_read()));
        if let Some(mib) = crate::memory::peak_rss_mib() {
            metrics.insert("peak_rss_mib".into(), json!(mib));
        }
        if let Some(m) = inp.memory {
            metrics.insert("peak_anon_mib".into(), json!(m.peak_mib()));
        }
        let mut config = measure::describe(job.cfg, s, n, d);
        if let Some(serde_json::Value::Object(r)) = config.get_mut("rabitq") {
            let how = match (search_seconds, inp.base.in_memory()) {
                (None, _) => "not run: no search (neither recall nor rank distortion asked for)",
                (Some(_), Some(_)) => "against the base in memory",
                (Some(_), None) => {
                    "skipped: the base was streamed and is not in memory at search time (--in-memory keeps it)"
                }
            };
            r.insert("refine".into(), json!(how));
        }
        if measure::fast_scanned(job.cfg, s) {
            config.insert("fast_scan_refine".into(), json!(fast_scan_refine));
        }
        config.insert("batch_size".into(), json!(batch));
        on_run(Outcome {
            config_label: job.cfg.label(),
            method: job.cfg.method(),
            fingerprint: fingerprint.clone(),
            metrics,
            config,
            wall_seconds: wall,
            model: job.model,
        })?;
    }
    Ok(Shared { passes, bytes_read: inp.base.bytes_read(), read_seconds })
}

/// Reads the whole base once, batch after batch into `buf` (its length sets the batch),
/// and hands each batch to `f` with its first row; returns the seconds spent reading.
pub fn pass(
    base: &dyn BaseRows,
    buf: &mut [f32],
    bar: &indicatif::ProgressBar,
    mut f: impl FnMut(usize, &[f32]) -> Result<(), String>,
) -> Result<f64, String> {
    let (n, d) = (base.rows(), base.dim());
    let batch = buf.len() / d;
    let mut read_seconds = 0.0;
    for first in (0..n).step_by(batch.max(1)) {
        let x = &mut buf[..batch.min(n - first) * d];
        let t = Instant::now();
        base.read(first, x)?;
        read_seconds += t.elapsed().as_secs_f64();
        f(first, x)?;
        bar.set_position((first + x.len() / d) as u64);
    }
    bar.finish_and_clear();
    Ok(read_seconds)
}

/// The pairwise distortion of `q`: its codes of the sample's rows, decoded.
fn pairwise(
    p: &vq::metrics::PairwiseSample,
    q: &dyn Trained,
    codes: &[u8],
    d: usize,
) -> Result<vq::metrics::PairwiseDistortion, String> {
    let cs = q.code_size();
    let mut rows = Vec::with_capacity(p.rows().len() * cs);
    for &r in p.rows() {
        rows.extend_from_slice(&codes[r * cs..(r + 1) * cs]);
    }
    let mut rec = vec![0f32; p.rows().len() * d];
    q.decode(&rows, &mut rec).map_err(|e| e.to_string())?;
    p.finish(&rec).map_err(|e| e.to_string())
}

/// Trains `job` on `train` (its sample rows, in file order).
fn train_job(job: &mut Job, d: usize, train: &[f32], s: &Settings, progress: &Progress) -> Result<(), String> {
    let label = job.cfg.label();
    let t = Instant::now();
    match job.cfg {
        Config::Pq { m, ksub } => {
            let bar = progress.bar("training", m as u64);
            bar.set_message(label.clone());
            let pq = ProductQuantizer::train_with_progress(d, train, &s.pq_params(m, ksub), &|_| bar.inc(1))
                .map_err(|e| format!("{label}: training failed: {e}"))?;
            bar.finish_and_clear();
            job.model = pq.to_bytes();
            job.quantizer = Some(Box::new(pq));
        }
        Config::Opq { m, ksub } => {
            // The library reports no progress from inside OPQ's alternation: a spinner.
            let bar = progress.spinner("training", label.clone());
            let opq = OpqQuantizer::train(d, train, &s.opq_params(m, ksub))
                .map_err(|e| format!("{label}: training failed: {e}"))?;
            bar.finish_and_clear();
            job.model = opq.to_bytes();
            job.quantizer = Some(Box::new(opq));
        }
        Config::Sq { bits } => {
            let b = SqBits::from_bits(bits).map_err(|e| e.to_string())?;
            let sq = ScalarQuantizer::train_for(s.metric, b, d, train)
                .map_err(|e| format!("{label}: training failed: {e}"))?;
            job.model = sq.to_bytes();
            job.quantizer = Some(Box::new(sq));
        }
        Config::Rabitq { bits } => {
            let rq = RabitqQuantizer::train(d, train, &s.rabitq_params(bits))
                .map_err(|e| format!("{label}: training failed: {e}"))?;
            job.model = rq.to_bytes();
            job.quantizer = Some(Box::new(rq));
        }
    }
    job.train_seconds = t.elapsed().as_secs_f64();
    Ok(())
}

/// Encodes `base` in blocks of 1,024 rows over `threads` threads (codes identical to one
/// thread).
fn encode_parallel(q: &dyn Trained, base: &[f32], codes: &mut [u8], threads: usize) -> Result<(), String> {
    const BLOCK: usize = 1024;
    let (d, cs) = (q.dim(), q.code_size());
    let blocks = base.len().div_ceil(BLOCK * d);
    if threads <= 1 || blocks <= 1 {
        return q.encode(base, codes).map_err(|e| e.to_string());
    }
    let work = std::sync::Mutex::new(base.chunks(BLOCK * d).zip(codes.chunks_mut(BLOCK * cs)).collect::<Vec<_>>());
    let err = std::sync::Mutex::new(None::<String>);
    std::thread::scope(|sc| {
        for _ in 0..threads.min(blocks) {
            sc.spawn(|| loop {
                let item = work.lock().expect("work queue").pop();
                let Some((x, c)) = item else { break };
                if let Err(e) = q.encode(x, c) {
                    *err.lock().expect("error slot") = Some(e.to_string());
                }
            });
        }
    });
    match err.into_inner().expect("error slot") {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
