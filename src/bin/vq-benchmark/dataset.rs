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
//! Everything is loaded and checked here, before the run log or any output is opened.

use crate::formats::{self, Matrix};
use crate::progress::Progress;
use std::path::{Path, PathBuf};

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
pub struct Spec<'a> {
    pub dataset: &'a str,
    pub num_samples: Option<usize>,
    pub dim: Option<usize>,
    pub num_queries: usize,
    pub queries: Option<&'a Path>,
    pub data_seed: u32,
    pub seed: u64,
}

/// Default rows and dimension of the dummy set (the original tool's).
pub const DUMMY_ROWS: usize = 10_000;
pub const DUMMY_DIM: usize = 1024;

pub struct Dataset {
    /// `dummy` or the path as given: the `dataset` column.
    pub name: String,
    pub dim: usize,
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    pub query_source: QuerySource,
    /// Hash of the base and query values and their shapes.
    pub fingerprint: String,
    pub load_seconds: f64,
}

impl Dataset {
    pub fn n_base(&self) -> usize {
        self.base.len() / self.dim
    }
    pub fn n_queries(&self) -> usize {
        self.queries.len() / self.dim
    }
}

pub fn load(spec: &Spec<'_>) -> Result<Dataset, String> {
    let t0 = std::time::Instant::now();
    if spec.dataset.eq_ignore_ascii_case("huggingface") || spec.dataset.starts_with("hf:") {
        return Err("--dataset huggingface: vq-benchmark reads local files only; export the embeddings first, e.g. \
                    `np.save('emb.npy', np.asarray(ds['embedding'], dtype=np.float32))`, then pass --dataset emb.npy"
            .into());
    }
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
        ("dummy".to_string(), d, base, queries, QuerySource::Stream)
    } else {
        let path = PathBuf::from(spec.dataset);
        if !path.exists() {
            return Err(format!(
                "--dataset {}: no such file; expected `dummy` or a path to {}",
                spec.dataset,
                formats::VECTOR_FORMATS
            ));
        }
        let m = formats::read_vectors(&path, spec.num_samples)?;
        check_dim(&path, &m, spec.dim)?;
        if spec.queries.is_some() {
            (spec.dataset.to_string(), m.dim, m.data, Vec::new(), QuerySource::File)
        } else {
            let d = m.dim;
            let (base, queries) = hold_out(&path, m, spec.num_queries, spec.seed)?;
            (spec.dataset.to_string(), d, base, queries, QuerySource::HeldOut)
        }
    };
    let (queries, source) = match spec.queries {
        Some(qp) => {
            let q = formats::read_vectors(qp, None)?;
            if q.dim != dim {
                return Err(format!(
                    "--queries {}: dimension {} differs from the dataset's {dim}; queries must have the dataset's dimension",
                    qp.display(),
                    q.dim
                ));
            }
            (q.data, QuerySource::File)
        }
        None => (queries, source),
    };
    let fingerprint = fingerprint(dim, &base, &queries);
    Ok(Dataset {
        name,
        dim,
        base,
        queries,
        query_source: source,
        fingerprint,
        load_seconds: t0.elapsed().as_secs_f64(),
    })
}

fn check_dim(path: &Path, m: &Matrix, want: Option<usize>) -> Result<(), String> {
    match want {
        Some(d) if d != m.dim => Err(format!(
            "--dataset {}: the file has dimension {}, but --dim {d} was given (omit --dim to take the file's)",
            path.display(),
            m.dim
        )),
        _ => Ok(()),
    }
}

/// Takes `nq` seeded-random rows out of `m` as queries; the rest, in file order, is the base.
fn hold_out(path: &Path, m: Matrix, nq: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>), String> {
    let n = m.rows();
    if nq >= n {
        return Err(format!(
            "--num-queries {nq} leaves no base vectors: {} has {n} rows; expected 1..={}",
            path.display(),
            n.saturating_sub(1)
        ));
    }
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5155_4552_5945_5321);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..nq {
        let j = rng.random_range(i..n);
        idx.swap(i, j);
    }
    let mut is_query = vec![false; n];
    let mut picked = idx[..nq].to_vec();
    picked.sort_unstable();
    for &i in &picked {
        is_query[i] = true;
    }
    let d = m.dim;
    let mut base = Vec::with_capacity((n - nq) * d);
    let mut queries = Vec::with_capacity(nq * d);
    for (row, &q) in m.data.chunks_exact(d).zip(&is_query) {
        if q {
            queries.extend_from_slice(row);
        } else {
            base.extend_from_slice(row);
        }
    }
    Ok((base, queries))
}

/// A stable 64-bit hash of the shapes and the exact bits of every value, so two runs can be
/// told to have used the same data (`vqfp1:` names this hash's version).
pub fn fingerprint(dim: usize, base: &[f32], queries: &[f32]) -> String {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |w: u64| {
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    };
    mix(dim as u64);
    mix(base.len() as u64);
    mix(queries.len() as u64);
    for part in [base, queries] {
        let mut pairs = part.chunks_exact(2);
        for p in &mut pairs {
            mix(u64::from(p[0].to_bits()) | (u64::from(p[1].to_bits()) << 32));
        }
        for v in pairs.remainder() {
            mix(u64::from(v.to_bits()));
        }
    }
    let h = (h ^ (h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!("vqfp1:{}x{}+{}:{:016x}", base.len() / dim, dim, queries.len() / dim, h ^ (h >> 32))
}

/// Exact neighbours of every query (`k` per query, ascending, ties to the lower id).
pub struct Truth {
    pub ids: Vec<i64>,
    pub k: usize,
    pub seconds: f64,
    /// `computed` or the file it was read from.
    pub source: String,
}

/// Exact top-`k` of each query (`vq::exact::ExactSearch`, the engine of `vq::search::knn`)
/// on `threads` threads; identical to one thread. The base goes in in chunks so the bar
/// moves (in base rows).
pub fn exact_truth(ds: &Dataset, k: usize, threads: usize, progress: &Progress) -> Result<Truth, String> {
    let t0 = std::time::Instant::now();
    let (d, nq) = (ds.dim, ds.n_queries());
    let k = k.min(ds.n_base());
    let fail = |e: vq::Error| format!("ground truth: {e}");
    let mut search = vq::exact::ExactSearch::new(d, &ds.queries, k, vq::exact::Metric::L2, effective_threads(threads))
        .map_err(fail)?;
    // About 100 MB of rows per chunk at d = 384: each is thousands of the engine's blocks,
    // so its threads stay busy to the end of a chunk.
    const CHUNK_ROWS: usize = 65_536;
    let bar = progress.bar("ground truth", ds.n_base() as u64);
    for (c, chunk) in ds.base.chunks(CHUNK_ROWS * d).enumerate() {
        search.add(chunk, (c * CHUNK_ROWS) as i64).map_err(fail)?;
        bar.set_position((c * CHUNK_ROWS + chunk.len() / d) as u64);
    }
    bar.finish_and_clear();
    let mut ids = vec![0i64; nq * k];
    let mut dist = vec![0f32; nq * k];
    search.results(&mut dist, &mut ids).map_err(fail)?;
    Ok(Truth { ids, k, seconds: t0.elapsed().as_secs_f64(), source: "computed".into() })
}

/// Reads `--ground-truth` and checks it against the dataset: one row per query, ids inside
/// the base.
pub fn read_truth(path: &Path, ds: &Dataset) -> Result<Truth, String> {
    let t0 = std::time::Instant::now();
    let m = formats::read_ids(path)?;
    let rows = m.data.len() / m.k;
    if rows != ds.n_queries() {
        return Err(format!(
            "--ground-truth {}: {rows} rows, but there are {} queries; expected one row per query",
            path.display(),
            ds.n_queries()
        ));
    }
    if let Some(pos) = m.data.iter().position(|&id| id < 0 || id as usize >= ds.n_base()) {
        return Err(format!(
            "--ground-truth {}: id {} (row {}) is outside the base, expected 0..{}",
            path.display(),
            m.data[pos],
            pos / m.k,
            ds.n_base()
        ));
    }
    Ok(Truth { ids: m.data, k: m.k, seconds: t0.elapsed().as_secs_f64(), source: path.display().to_string() })
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

    #[test]
    fn fingerprint_sees_every_bit_and_the_split() {
        let a = [1.0f32, 2.0, 3.0, 4.0];
        let f = fingerprint(2, &a, &[]);
        assert_eq!(f, fingerprint(2, &a, &[]));
        let mut b = a;
        b[3] = f32::from_bits(b[3].to_bits() ^ 1);
        assert_ne!(f, fingerprint(2, &b, &[]));
        assert_ne!(f, fingerprint(2, &a[..2], &a[2..]));
        assert!(f.starts_with("vqfp1:2x2+0:"));
    }

    #[test]
    fn held_out_queries_are_not_in_the_base() {
        let n = 50;
        let data: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
        let (base, q) = hold_out(Path::new("x"), Matrix { data, dim: 2 }, 7, 1).unwrap();
        assert_eq!((base.len(), q.len()), ((n - 7) * 2, 14));
        for row in q.chunks_exact(2) {
            assert!(!base.chunks_exact(2).any(|b| b == row));
        }
        assert!(hold_out(Path::new("x"), Matrix { data: vec![0.0; 6], dim: 2 }, 3, 1).is_err());
    }
}
