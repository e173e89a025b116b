//! `gt`: exact top-k ground truth of a query file against a dataset, written as `.ivecs`
//! (one row of k neighbour ids per query, best first under `--metric`, ties to the lower
//! id), to pass to later runs with `--ground-truth` instead of recomputing it each time; and
//! `precompute-gt`, the newer Python tool's variant, whose queries are the file's first rows
//! and stay in the base.
//!
//! The id files (`.ivecs`, `.npy`) have no place for the metric, so both commands also write
//! what the truth was computed from beside them (`crate::truth_meta`), which a run given
//! `--ground-truth` checks against its own `--metric` and base.

use crate::cli::{GtArgs, PrecomputeGtArgs};
use crate::dataset::{self, Spec};
use crate::evaluate::BaseRows;
use crate::progress::Progress;
use crate::truth_meta::{self, TruthMeta};
use std::path::Path;

pub fn run(a: &GtArgs) -> Result<(), String> {
    crate::atomic::check_output("--output", &a.output)?;
    let ds = dataset::load(&Spec {
        dataset: &a.dataset,
        num_samples: a.num_samples,
        dim: a.dim,
        num_queries: 1,
        queries: Some(&a.queries),
        data_seed: a.data_seed,
        seed: 0,
        hub: Default::default(),
        threads: a.threads,
        quiet: true,
    })?;
    if a.k > ds.n_base() {
        return Err(format!("--k {} is more than the {} base vectors; expected 1..={}", a.k, ds.n_base(), ds.n_base()));
    }
    let progress = Progress::new(a.quiet);
    let truth = dataset::exact_truth(&ds, a.k, a.metric, a.threads, &progress)?;
    let ids: Vec<i32> = truth.ids.iter().map(|&i| i as i32).collect();
    let meta = TruthMeta {
        metric: a.metric,
        k: truth.k,
        base_rows: ds.n_base(),
        dim: ds.dim,
        queries: ds.n_queries(),
        dataset: a.dataset.clone(),
        queries_source: a.queries.display().to_string(),
    };
    write_with_meta(&a.output, &meta, |tmp| {
        vq::data::texmex::write_ivecs(tmp, &ids, truth.k).map_err(|e| e.to_string())
    })?;
    println!(
        "Wrote the exact top-{} by {} of {} queries among {} vectors (dim {}) to {} in {:.2} s",
        truth.k,
        metric_words(a.metric),
        ds.n_queries(),
        ds.n_base(),
        ds.dim,
        a.output.display(),
        truth.seconds
    );
    Ok(())
}

/// `precompute-gt`: the newer tool's ground truth, the first `--num-queries` rows of the file
/// searched against every row of it (themselves included), as an int64 `.npy`: the dtype of
/// the ids FAISS's search returns, which the newer tool saved as they came.
pub fn precompute(a: &PrecomputeGtArgs) -> Result<(), String> {
    let out = &a.output_path;
    if !out.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) {
        return Err(format!("--output-path {}: expected a .npy file (`gt` writes .ivecs ground truth)", out.display()));
    }
    crate::atomic::check_output("--output-path", out)?;
    let path = &a.vectors_path;
    if !path.exists() {
        return Err(format!(
            "--vectors-path {}: no such file; expected a path to {}",
            path.display(),
            vq::data::FORMATS
        ));
    }
    let src = vq::data::open(path).map_err(|e| e.to_string())?;
    let (n, d, nq) = (src.rows(), src.dim(), a.num_queries);
    if nq > n {
        return Err(format!("--num-queries {nq} is more than the {n} rows of {}; expected 1..={n}", src.name()));
    }
    if a.k > n {
        return Err(format!("--k {} is more than the {n} rows of {}; expected 1..={n}", a.k, src.name()));
    }
    let mut queries = Vec::new();
    queries.try_reserve_exact(nq * d).map_err(|_| format!("--num-queries {nq}: the queries do not fit in memory"))?;
    queries.resize(nq * d, 0f32);
    src.read_rows(0, &mut queries).map_err(|e| e.to_string())?;
    src.check_finite(0, &queries).map_err(|e| e.to_string())?;
    let progress = Progress::new(a.quiet);
    let (ids, seconds) = exact_top_k(&WholeFile(&src), &queries, a.k, a.metric, a.threads, &progress)?;
    let meta = TruthMeta {
        metric: a.metric,
        k: a.k,
        base_rows: n,
        dim: d,
        queries: nq,
        dataset: path.display().to_string(),
        queries_source: format!("the first {nq} rows of {}", path.display()),
    };
    write_with_meta(out, &meta, |tmp| {
        let mut bytes = vq::data::npy_header("<i8", nq as u64, a.k);
        bytes.reserve(ids.len() * 8);
        ids.iter().for_each(|id| bytes.extend_from_slice(&id.to_le_bytes()));
        std::fs::write(tmp, bytes).map_err(|e| format!("{}: write failed: {e}", tmp.display()))
    })?;
    println!(
        "Wrote the exact top-{} by {} of the first {nq} rows among all {n} rows (dim {d}, queries included) to {} in {seconds:.2} s",
        a.k,
        metric_words(a.metric),
        out.display()
    );
    Ok(())
}

/// Writes the ids through `fill` and their sidecar, both or neither.
fn write_with_meta(out: &Path, meta: &TruthMeta, fill: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), String> {
    let side = truth_meta::path_for(out);
    let json = meta.to_json();
    crate::atomic::write_all(vec![
        (out, Box::new(fill)),
        (&side, Box::new(|tmp: &Path| crate::atomic::write_file(tmp, json.as_bytes()))),
    ])
}

/// How the messages name a metric.
fn metric_words(metric: vq::Metric) -> &'static str {
    match metric {
        vq::Metric::InnerProduct => "inner product",
        vq::Metric::Cosine => "cosine similarity",
        _ => "squared L2",
    }
}

/// The exact top-`k` of `queries` under `metric` in one streamed pass over `base`, through the same engine
/// and pass as every other ground truth (`vq::exact::ExactSearch`, `evaluate::pass`); the
/// ids and the seconds the search took. `dataset::truth_pass` wants a loaded `Dataset`,
/// whose queries are never base rows, hence this entry point for a bare file.
fn exact_top_k(
    base: &dyn BaseRows,
    queries: &[f32],
    k: usize,
    metric: vq::Metric,
    threads: usize,
    progress: &Progress,
) -> Result<(Vec<i64>, f64), String> {
    let (n, d) = (base.rows(), base.dim());
    let t = std::time::Instant::now();
    let threads = crate::dataset::effective_threads(threads);
    let gt_err = |e: vq::Error| format!("ground truth: {e}");
    let mut search = vq::exact::ExactSearch::new(d, queries, k, metric, threads).map_err(gt_err)?;
    let mut buf = vec![0f32; crate::measure::default_batch_rows(d).min(n) * d];
    let bar = progress.bar("ground truth", n as u64);
    crate::evaluate::pass(base, &mut buf, &bar, |first, x| search.add(x, first as i64).map_err(gt_err))?;
    let nq = search.queries();
    let (mut dist, mut ids) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    search.results(&mut dist, &mut ids).map_err(gt_err)?;
    Ok((ids, t.elapsed().as_secs_f64()))
}

/// Every row of a vector file, each batch checked finite as it is read.
struct WholeFile<'a>(&'a vq::data::VectorSource);

impl BaseRows for WholeFile<'_> {
    fn rows(&self) -> usize {
        self.0.rows()
    }

    fn dim(&self) -> usize {
        self.0.dim()
    }

    fn read(&self, first: usize, out: &mut [f32]) -> Result<(), String> {
        self.0.read_rows(first, out).map_err(|e| e.to_string())?;
        self.0.check_finite(first, out).map_err(|e| e.to_string())
    }

    fn gather(&self, rows: &[usize], out: &mut [f32]) -> Result<(), String> {
        let d = self.dim();
        rows.iter().zip(out.chunks_exact_mut(d)).try_for_each(|(&r, row)| self.read(r, row))
    }

    fn bytes_read(&self) -> u64 {
        self.0.bytes_read()
    }

    fn in_memory(&self) -> Option<&[f32]> {
        None
    }
}
