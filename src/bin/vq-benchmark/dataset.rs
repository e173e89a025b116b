//! The vectors a benchmark runs on: the base set, the queries, and their exact neighbours.
//!
//! - `dummy` is the original tool's Gaussian set, bit for bit (`np.random.seed(42);
//!   randn(num_samples, dim)`, through `vq::synthetic`). Its queries are the next
//!   `num_queries` rows of the same random stream, that is the last rows of a
//!   `(num_samples + num_queries)`-row draw, held out: the base stays exactly the original
//!   tool's array (so MSE compares one to one with its logs) and no query is in it.
//! - A file: with `--queries`, the whole file is the base; without, `--num-queries` rows
//!   drawn at random (seeded) are taken out of it. Unlike the original tool, a query is
//!   never also a base vector (that would make every query its own nearest neighbour).
//!
//! A file's base is not loaded: the passes of `evaluate` read it batch by batch through
//! `vq::data` (only the rows used, `--num-samples`; each batch checked for NaN and
//! infinity as it arrives), so a sweep's memory does not grow with the file. The queries
//! are read here, and the shape and every configuration are checked before the run log or
//! any output is opened. `--in-memory` reads the base into memory first instead.

use crate::evaluate::{BaseRows, TruthBuilder};
use crate::progress::Progress;
use std::path::{Path, PathBuf};
use vq::data::{self, VectorSource};

/// Where the queries came from (recorded in `config_json`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuerySource {
    /// The continuation of the dummy set's random stream.
    Stream,
    /// Rows held out of the dataset file.
    HeldOut,
    /// A separate `--queries` file.
    File,
}

impl QuerySource {
    pub fn name(self) -> &'static str {
        match self {
            QuerySource::Stream => "held_out_stream",
            QuerySource::HeldOut => "held_out_rows",
            QuerySource::File => "file",
        }
    }
}

/// How to load a dataset.
#[cfg_attr(not(feature = "hub"), allow(dead_code))]
pub struct Spec<'a> {
    pub dataset: &'a str,
    pub num_samples: Option<usize>,
    pub dim: Option<usize>,
    pub num_queries: usize,
    pub queries: Option<&'a Path>,
    pub data_seed: u32,
    pub seed: u64,
    /// The --hf-* flags (a Hub dataset, or a local Parquet file's column).
    pub hub: crate::hub::Options,
    /// For embedding a text column.
    pub threads: usize,
    pub quiet: bool,
}

/// Default rows and dimension of the dummy set (the original tool's).
pub const DUMMY_ROWS: usize = 10_000;
pub const DUMMY_DIM: usize = 1024;

pub struct Dataset {
    /// `dummy` or the path as given: the `dataset` column.
    pub name: String,
    pub dim: usize,
    base: Base,
    pub queries: Vec<f32>,
    pub query_source: QuerySource,
    /// A hash of the shape, the queries and a sample of base rows: cheap to take before any
    /// pass, for ids derived from the data (the full `dataset_fingerprint` is taken by the
    /// first pass).
    pub quick_fingerprint: String,
    pub load_seconds: f64,
    /// Where a Hub dataset came from (repository, config, split, column, commit, files),
    /// for `config_json`.
    pub hub: Option<serde_json::Value>,
    /// The Hub commit the data was read at: part of both fingerprints.
    pub commit: Option<String>,
}

/// Where the base rows are.
enum Base {
    /// The rows, and the bytes read from a file to get them (0 for `dummy`).
    Memory(Vec<f32>, u64),
    /// Rows `0..rows` of the file, less the held-out ones (ascending).
    File { src: VectorSource, rows: usize, held: Vec<usize> },
}

impl Dataset {
    pub fn n_base(&self) -> usize {
        match &self.base {
            Base::Memory(v, _) => v.len() / self.dim,
            Base::File { rows, held, .. } => rows - held.len(),
        }
    }
    pub fn n_queries(&self) -> usize {
        self.queries.len() / self.dim
    }

    /// Reads the whole base into memory (`--in-memory`).
    pub fn into_memory(self) -> Result<Dataset, String> {
        let Base::File { src, .. } = &self.base else { return Ok(self) };
        let mut all = alloc_rows(src, self.n_base())?;
        BaseRows::read(&self, 0, &mut all)?;
        let read = src.bytes_read();
        Ok(Dataset { base: Base::Memory(all, read), ..self })
    }

    /// The file row of base row `i`: `i` plus the held-out rows at or before it.
    fn file_row(held: &[usize], i: usize) -> usize {
        // Held rows before file row f: partition_point(h < f). Base row i is the file row f
        // with f − held_before(f) = i and f not held: the smallest such f.
        let mut f = i;
        loop {
            let next = i + held.partition_point(|&h| h <= f);
            if next == f {
                return f;
            }
            f = next;
        }
    }
}

impl BaseRows for Dataset {
    fn rows(&self) -> usize {
        self.n_base()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn read(&self, first: usize, out: &mut [f32]) -> Result<(), String> {
        let d = self.dim;
        match &self.base {
            Base::Memory(v, _) => {
                let src = v.get(first * d..first * d + out.len()).ok_or("base rows out of range")?;
                out.copy_from_slice(src);
                Ok(())
            }
            Base::File { src, held, .. } => {
                // Runs of consecutive file rows between held-out rows.
                let mut f = Self::file_row(held, first);
                let mut h = held.partition_point(|&x| x < f);
                let mut done = 0;
                while done < out.len() {
                    let run_end = held.get(h).copied().unwrap_or(usize::MAX);
                    let rows = (run_end - f).min((out.len() - done) / d);
                    let part = &mut out[done..done + rows * d];
                    src.read_rows(f, part).map_err(|e| e.to_string())?;
                    src.check_finite(f, part).map_err(|e| e.to_string())?;
                    done += rows * d;
                    f += rows;
                    while held.get(h) == Some(&f) {
                        f += 1;
                        h += 1;
                    }
                }
                Ok(())
            }
        }
    }

    fn gather(&self, rows: &[usize], out: &mut [f32]) -> Result<(), String> {
        let d = self.dim;
        let mut at = 0;
        while at < rows.len() {
            // A run of consecutive base rows is one read.
            let mut end = at + 1;
            while end < rows.len() && rows[end] == rows[end - 1] + 1 {
                end += 1;
            }
            BaseRows::read(self, rows[at], &mut out[at * d..end * d])?;
            at = end;
        }
        Ok(())
    }

    fn bytes_read(&self) -> u64 {
        match &self.base {
            Base::Memory(_, read) => *read,
            Base::File { src, .. } => src.bytes_read(),
        }
    }

    fn in_memory(&self) -> Option<&[f32]> {
        match &self.base {
            Base::Memory(v, _) => Some(v),
            Base::File { .. } => None,
        }
    }
}

pub fn load(spec: &Spec<'_>) -> Result<Dataset, String> {
    let t0 = std::time::Instant::now();
    let mut hub_info = None;
    let mut commit = None;
    let (name, dim, base, queries, source) = if spec.dataset == "dummy" {
        let n = spec.num_samples.unwrap_or(DUMMY_ROWS);
        let d = spec.dim.unwrap_or(DUMMY_DIM);
        let nq = if spec.queries.is_some() { 0 } else { spec.num_queries };
        let bytes = (n as u128 + nq as u128) * d as u128 * 4;
        if bytes > 64 << 30 {
            return Err(format!(
                "--num-samples {n} × --dim {d} is {} GiB of floats, above the 64 GiB this tool will generate",
                bytes >> 30
            ));
        }
        let (base, queries) = vq::synthetic::gaussian_demo(n, d, nq, spec.data_seed);
        ("dummy".to_string(), d, Base::Memory(base, 0), queries, QuerySource::Stream)
    } else {
        let (src, num_samples) = if crate::hub::is_hub(spec.dataset) {
            let opened = open_hub(spec)?;
            hub_info = Some(opened.info);
            commit = Some(opened.commit);
            (opened.source, spec.num_samples.or(opened.default_rows))
        } else {
            (open_file(spec)?, spec.num_samples)
        };
        check_dim(&src, spec.dim)?;
        let n = num_samples.map_or(src.rows(), |m| m.min(src.rows()));
        if n == 0 {
            return Err(format!("{}: holds no vectors, expected at least one", src.name()));
        }
        let d = src.dim();
        if spec.queries.is_some() {
            (spec.dataset.to_string(), d, Base::File { src, rows: n, held: Vec::new() }, Vec::new(), QuerySource::File)
        } else {
            let nq = spec.num_queries;
            if nq >= n {
                return Err(format!(
                    "--num-queries {nq} leaves no base vectors: {} has {n} rows; expected 1..={}",
                    src.name(),
                    n.saturating_sub(1)
                ));
            }
            let held = draw_queries(n, nq, spec.seed);
            let mut queries = alloc_rows(&src, nq)?;
            for (&r, q) in held.iter().zip(queries.chunks_exact_mut(d)) {
                src.read_rows(r, q).map_err(|e| e.to_string())?;
                src.check_finite(r, q).map_err(|e| e.to_string())?;
            }
            (spec.dataset.to_string(), d, Base::File { src, rows: n, held }, queries, QuerySource::HeldOut)
        }
    };
    let (queries, source) = match spec.queries {
        Some(qp) => {
            let q = data::open(qp).map_err(|e| e.to_string())?;
            if q.dim() != dim {
                return Err(format!(
                    "--queries {}: dimension {} differs from the dataset's {dim}; queries must have the dataset's dimension",
                    qp.display(),
                    q.dim()
                ));
            }
            if q.rows() == 0 {
                return Err(format!("{}: holds no vectors, expected at least one", q.name()));
            }
            let rows = read_range(&q, 0, q.rows())?;
            (rows, QuerySource::File)
        }
        None => (queries, source),
    };
    let mut ds = Dataset {
        name,
        dim,
        base,
        queries,
        query_source: source,
        quick_fingerprint: String::new(),
        load_seconds: 0.0,
        hub: hub_info,
        commit,
    };
    ds.quick_fingerprint = quick_fingerprint(&ds)?;
    ds.load_seconds = t0.elapsed().as_secs_f64();
    Ok(ds)
}

/// Base rows the quick fingerprint reads: evenly spaced, first and last included.
const QUICK_ROWS: usize = 257;

/// `vqq1:` + a hash of the shape, every query value and [`QUICK_ROWS`] base rows.
fn quick_fingerprint(ds: &Dataset) -> Result<String, String> {
    let n = ds.n_base();
    let picks: Vec<usize> = if n <= QUICK_ROWS {
        (0..n).collect()
    } else {
        (0..QUICK_ROWS).map(|i| i * (n - 1) / (QUICK_ROWS - 1)).collect()
    };
    let mut rows = vec![0f32; picks.len() * ds.dim];
    ds.gather(&picks, &mut rows)?;
    let full = crate::fingerprint::of(ds.dim, &rows, &ds.queries);
    let hash = full.rsplit(':').next().unwrap_or_default();
    Ok(format!("vqq1:{}x{}+{}:{hash}{}", n, ds.dim, ds.n_queries(), ds.at_commit()))
}

impl Dataset {
    /// `@<commit>` for a Hub dataset, appended to its fingerprints: the same rows at
    /// another revision are another dataset for provenance.
    pub fn at_commit(&self) -> String {
        self.commit.as_ref().map(|c| format!("@{c}")).unwrap_or_default()
    }
}

/// A local file or folder: any `vq::data` format, or Parquet with --hf-column.
fn open_file(spec: &Spec<'_>) -> Result<VectorSource, String> {
    let path = PathBuf::from(spec.dataset);
    if !path.exists() {
        return Err(format!(
            "--dataset {}: no such file; expected `dummy`, a Hub dataset (hf:OWNER/NAME or a preset: {}), or a path to {}",
            spec.dataset,
            crate::hub::PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
            data::FORMATS
        ));
    }
    #[cfg(feature = "parquet")]
    if let Some(column) = &spec.hub.column {
        let parquet: Vec<PathBuf> = if path.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&path)
                .map_err(|e| format!("{}: cannot list: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("parquet")))
                .collect();
            v.sort();
            v
        } else {
            vec![path.clone()]
        };
        return data::parquet::open(&parquet, Some(column), &path).map_err(|e| e.to_string());
    }
    data::open(&path).map_err(|e| e.to_string())
}

#[cfg(feature = "hub")]
fn open_hub(spec: &Spec<'_>) -> Result<crate::hub::Opened, String> {
    let progress = Progress::new(spec.quiet);
    crate::hub::open(spec.dataset, &spec.hub, spec.num_samples, spec.threads, &progress, spec.quiet)
}

#[cfg(not(feature = "hub"))]
fn open_hub(spec: &Spec<'_>) -> Result<NeverOpened, String> {
    Err(crate::hub::unavailable(spec.dataset))
}

/// What `open_hub` returns without the `hub` feature: nothing, ever.
#[cfg(not(feature = "hub"))]
struct NeverOpened {
    source: VectorSource,
    info: serde_json::Value,
    commit: String,
    default_rows: Option<usize>,
}

fn check_dim(src: &VectorSource, want: Option<usize>) -> Result<(), String> {
    match want {
        Some(d) if d != src.dim() => Err(format!(
            "--dataset {}: the file has dimension {}, but --dim {d} was given (omit --dim to take the file's)",
            src.name(),
            src.dim()
        )),
        _ => Ok(()),
    }
}

/// A zeroed buffer for `rows` rows, or a message saying they do not fit in memory.
fn alloc_rows(src: &VectorSource, rows: usize) -> Result<Vec<f32>, String> {
    let too_big = || {
        format!(
            "{}: {rows} rows of dimension {} ({} GiB as f32) do not fit in memory; read fewer with --num-samples",
            src.name(),
            src.dim(),
            (rows as u128 * src.dim() as u128 * 4) >> 30
        )
    };
    let len = rows.checked_mul(src.dim()).ok_or_else(too_big)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_big())?;
    v.resize(len, 0.0);
    Ok(v)
}

/// Rows read per call: big enough that a call's overhead is noise, small enough that a bad
/// value is reported soon.
const BATCH_ROWS: usize = 4096;

/// Reads rows `start..start + out.len() / dim` into `out` in batches, each checked finite.
fn read_into(src: &VectorSource, start: usize, out: &mut [f32]) -> Result<(), String> {
    for (b, batch) in out.chunks_mut(BATCH_ROWS * src.dim()).enumerate() {
        let row = start + b * BATCH_ROWS;
        src.read_rows(row, batch).map_err(|e| e.to_string())?;
        src.check_finite(row, batch).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Rows `start..start + rows` of `src`, checked finite.
fn read_range(src: &VectorSource, start: usize, rows: usize) -> Result<Vec<f32>, String> {
    let mut out = alloc_rows(src, rows)?;
    read_into(src, start, &mut out)?;
    Ok(out)
}

/// The `nq` rows of `0..n` drawn (seeded) as queries, ascending: a Fisher–Yates shuffle's
/// first `nq` picks, kept sparse so the draw costs O(nq) memory whatever `n` is (the same
/// picks as shuffling an array of all `n` indices).
fn draw_queries(n: usize, nq: usize, seed: u64) -> Vec<usize> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5155_4552_5945_5321);
    let mut moved = std::collections::HashMap::<usize, usize>::new();
    let mut picked = Vec::with_capacity(nq);
    for i in 0..nq {
        let j = rng.random_range(i..n);
        let at_i = moved.get(&i).copied().unwrap_or(i);
        let at_j = moved.get(&j).copied().unwrap_or(j);
        moved.insert(j, at_i);
        picked.push(at_j);
    }
    picked.sort_unstable();
    picked
}

/// Exact neighbours of every query (`k` per query, best first under the run's metric,
/// ties to the lower id).
pub struct Truth {
    pub ids: Vec<i64>,
    pub k: usize,
    pub seconds: f64,
    /// `computed` or the file it was read from.
    pub source: String,
}

/// The exact top-`k` of every query, computed as a pass streams the base through the
/// library's exact search (`vq::exact`: a distance matrix product with an exact re-check,
/// on every thread, identical to one thread).
pub struct TruthPass {
    search: vq::exact::ExactSearch,
    dim: usize,
    bar: indicatif::ProgressBar,
    seconds: f64,
}

/// A [`TruthPass`] over `ds`'s queries, exact under `metric`.
pub fn truth_pass(
    ds: &Dataset,
    k: usize,
    metric: vq::Metric,
    threads: usize,
    progress: &Progress,
) -> Result<Box<TruthPass>, String> {
    let k = k.min(ds.n_base());
    let t = std::time::Instant::now();
    let search = vq::exact::ExactSearch::new(ds.dim, &ds.queries, k, metric, effective_threads(threads))
        .map_err(|e| format!("ground truth: {e}"))?;
    let bar = progress.bar("ground truth", ds.n_base() as u64);
    Ok(Box::new(TruthPass { search, dim: ds.dim, bar, seconds: t.elapsed().as_secs_f64() }))
}

impl TruthBuilder for TruthPass {
    fn add(&mut self, first: usize, rows: &[f32]) -> Result<(), String> {
        let t = std::time::Instant::now();
        self.search.add(rows, first as i64).map_err(|e| format!("ground truth: {e}"))?;
        self.seconds += t.elapsed().as_secs_f64();
        self.bar.inc((rows.len() / self.dim) as u64);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<Truth, String> {
        let t = std::time::Instant::now();
        let (nq, k) = (self.search.queries(), self.search.k());
        let mut dist = vec![0f32; nq * k];
        let mut ids = vec![0i64; nq * k];
        self.search.results(&mut dist, &mut ids).map_err(|e| format!("ground truth: {e}"))?;
        self.bar.finish_and_clear();
        Ok(Truth { ids, k, seconds: self.seconds + t.elapsed().as_secs_f64(), source: "computed".into() })
    }
}

/// The exact top-`k` of every query under `metric` in one pass of its own over the base
/// (`gt`).
pub fn exact_truth(
    ds: &Dataset,
    k: usize,
    metric: vq::Metric,
    threads: usize,
    progress: &Progress,
) -> Result<Truth, String> {
    let mut truth = truth_pass(ds, k, metric, threads, progress)?;
    let mut buf = vec![0f32; crate::measure::default_batch_rows(ds.dim).min(ds.n_base()) * ds.dim];
    crate::evaluate::pass(ds, &mut buf, &indicatif::ProgressBar::hidden(), |first, x| truth.add(first, x))?;
    truth.finish()
}

/// Reads `--ground-truth` and checks it against the dataset: one row per query, ids inside
/// the base, and, where `gt` left its sidecar, computed under `metric` over this base.
pub fn read_truth(path: &Path, ds: &Dataset, metric: vq::Metric) -> Result<Truth, String> {
    let t0 = std::time::Instant::now();
    if let Some(meta) = crate::truth_meta::TruthMeta::read(path)? {
        meta.check(path, metric, ds.n_base(), ds.dim)?;
    }
    let (ids, k) = data::read_ids(path).map_err(|e| e.to_string())?;
    let rows = ids.len() / k;
    if rows != ds.n_queries() {
        return Err(format!(
            "--ground-truth {}: {rows} rows, but there are {} queries; expected one row per query",
            path.display(),
            ds.n_queries()
        ));
    }
    if let Some(pos) = ids.iter().position(|&id| id < 0 || id as usize >= ds.n_base()) {
        return Err(format!(
            "--ground-truth {}: id {} (row {}) is outside the base, expected 0..{}",
            path.display(),
            ids[pos],
            pos / k,
            ds.n_base()
        ));
    }
    Ok(Truth { ids, k, seconds: t0.elapsed().as_secs_f64(), source: path.display().to_string() })
}

/// `0` means every core.
pub fn effective_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The original array-shuffle draw, which the sparse one must reproduce exactly (runs
    /// logged before it used these rows as queries).
    fn dense_draw(n: usize, nq: usize, seed: u64) -> Vec<usize> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5155_4552_5945_5321);
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..nq {
            let j = rng.random_range(i..n);
            idx.swap(i, j);
        }
        let mut picked = idx[..nq].to_vec();
        picked.sort_unstable();
        picked
    }

    #[test]
    fn sparse_draw_equals_the_array_shuffle() {
        for (n, nq, seed) in [(50, 7, 1), (10, 9, 3), (1000, 100, 42), (5, 0, 2), (100_000, 1000, 7)] {
            assert_eq!(draw_queries(n, nq, seed), dense_draw(n, nq, seed), "n={n} nq={nq}");
        }
    }

    fn write(path: &Path, data: &[f32], dim: usize) {
        let mut w = vq::data::VectorWriter::create(path, dim).unwrap();
        w.write_rows(data).unwrap();
        w.finish().unwrap();
    }

    fn spec(path: &Path, num_samples: Option<usize>, nq: usize) -> Spec<'_> {
        Spec {
            dataset: path.to_str().unwrap(),
            num_samples,
            dim: None,
            num_queries: nq,
            queries: None,
            data_seed: 0,
            seed: 1,
            hub: Default::default(),
            threads: 1,
            quiet: true,
        }
    }

    #[test]
    fn held_out_queries_are_not_in_the_streamed_base() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.fbin");
        let n = 50;
        let data: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
        write(&path, &data, 2);
        let ds = load(&spec(&path, None, 7)).unwrap();
        let picked = draw_queries(n, 7, 1);
        let want_q: Vec<f32> = picked.iter().flat_map(|&r| data[r * 2..r * 2 + 2].to_vec()).collect();
        assert_eq!(ds.queries, want_q);
        let want_base: Vec<f32> = data
            .chunks_exact(2)
            .enumerate()
            .filter(|(r, _)| !picked.contains(r))
            .flat_map(|(_, row)| row.to_vec())
            .collect();
        assert_eq!(ds.n_base(), n - 7);
        // At load: the queries, and the base rows of the quick fingerprint (all 43 here).
        assert_eq!(ds.bytes_read(), ((7 + 43) * 2 * 4) as u64);
        // Every range, and every gather, reads exactly those rows.
        for first in 0..ds.n_base() {
            for len in 1..=ds.n_base() - first {
                let mut out = vec![0f32; len * 2];
                ds.read(first, &mut out).unwrap();
                assert_eq!(out, want_base[first * 2..(first + len) * 2], "rows {first}..+{len}");
            }
        }
        let rows = [0, 1, 2, 9, 10, 30, 42];
        let mut out = vec![0f32; rows.len() * 2];
        ds.gather(&rows, &mut out).unwrap();
        let want: Vec<f32> = rows.iter().flat_map(|&r| want_base[r * 2..r * 2 + 2].to_vec()).collect();
        assert_eq!(out, want);
        let mem = load(&spec(&path, None, 7)).unwrap().into_memory().unwrap();
        let mut all = vec![0f32; mem.n_base() * 2];
        mem.read(0, &mut all).unwrap();
        assert_eq!(all, want_base);
        assert_eq!(mem.quick_fingerprint, ds.quick_fingerprint);
        // --num-samples 20: only the first 20 rows are part of the data.
        let ds = load(&spec(&path, Some(20), 3)).unwrap();
        assert_eq!(ds.n_base(), 17);
        let mut all = vec![0f32; 17 * 2];
        ds.read(0, &mut all).unwrap();
        assert!(all.iter().all(|&v| v < 40.0));
        assert!(load(&spec(&path, Some(3), 3)).is_err());
    }

    #[test]
    fn a_non_finite_value_is_named_when_its_batch_is_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.fbin");
        let mut data: Vec<f32> = (0..40).map(|v| v as f32).collect();
        data[31] = f32::NAN;
        write(&path, &data, 2);
        // Found by the quick fingerprint at load, or by the pass that reads its batch.
        let err = match load(&spec(&path, None, 1)) {
            Err(e) => e,
            Ok(ds) => ds.read(0, &mut vec![0f32; ds.n_base() * 2]).unwrap_err(),
        };
        assert!(err.contains("row 15 holds a non-finite value"), "{err}");
    }
}
