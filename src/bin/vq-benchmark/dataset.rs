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
//! Files are read through `vq::data`: only the rows used (`--num-samples`), once, straight
//! into the base and query buffers, each batch checked for NaN and infinity as it arrives.

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
    /// Bytes read from the dataset and query files (0 for `dummy`).
    pub bytes_read: u64,
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
    let mut bytes_read = 0;
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
                data::FORMATS
            ));
        }
        let src = data::open(&path).map_err(|e| e.to_string())?;
        check_dim(&src, spec.dim)?;
        let n = spec.num_samples.map_or(src.rows(), |m| m.min(src.rows()));
        if n == 0 {
            return Err(format!("{}: holds no vectors, expected at least one", src.name()));
        }
        let (base, queries) = if spec.queries.is_some() {
            (read_range(&src, 0, n)?, Vec::new())
        } else {
            hold_out(&src, n, spec.num_queries, spec.seed)?
        };
        bytes_read += src.bytes_read();
        (spec.dataset.to_string(), src.dim(), base, queries, QuerySource::HeldOut)
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
            bytes_read += q.bytes_read();
            (rows, QuerySource::File)
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
        bytes_read,
    })
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

/// Takes `nq` seeded-random rows of the first `n` as queries; the rest, in file order, is
/// the base. Each row is read once, into its final buffer.
fn hold_out(src: &VectorSource, n: usize, nq: usize, seed: u64) -> Result<(Vec<f32>, Vec<f32>), String> {
    if nq >= n {
        return Err(format!(
            "--num-queries {nq} leaves no base vectors: {} has {n} rows; expected 1..={}",
            src.name(),
            n.saturating_sub(1)
        ));
    }
    let d = src.dim();
    let picked = draw_queries(n, nq, seed);
    let mut base = alloc_rows(src, n - nq)?;
    let mut queries = alloc_rows(src, nq)?;
    let mut filled = 0;
    let mut next = 0;
    for (&q, query) in picked.iter().zip(queries.chunks_exact_mut(d)) {
        read_into(src, next, &mut base[filled..filled + (q - next) * d])?;
        filled += (q - next) * d;
        read_into(src, q, query)?;
        next = q + 1;
    }
    read_into(src, next, &mut base[filled..])?;
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

    #[test]
    fn held_out_queries_are_not_in_the_base() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.fbin");
        let n = 50;
        let data: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
        let mut w = vq::data::VectorWriter::create(&path, 2).unwrap();
        w.write_rows(&data).unwrap();
        w.finish().unwrap();
        let src = vq::data::open(&path).unwrap();
        let (base, q) = hold_out(&src, n, 7, 1).unwrap();
        assert_eq!((base.len(), q.len()), ((n - 7) * 2, 14));
        let picked = draw_queries(n, 7, 1);
        let want_q: Vec<f32> = picked.iter().flat_map(|&r| data[r * 2..r * 2 + 2].to_vec()).collect();
        assert_eq!(q, want_q);
        let want_base: Vec<f32> = data
            .chunks_exact(2)
            .enumerate()
            .filter(|(r, _)| !picked.contains(r))
            .flat_map(|(_, row)| row.to_vec())
            .collect();
        assert_eq!(base, want_base);
        assert_eq!(src.bytes_read(), (n * 2 * 4) as u64, "each row read once");
        // Only the first 20 rows are read when 20 are used.
        let src = vq::data::open(&path).unwrap();
        let (base, _) = hold_out(&src, 20, 3, 1).unwrap();
        assert_eq!(base.len(), 17 * 2);
        assert_eq!(src.bytes_read(), 20 * 2 * 4);
        assert!(hold_out(&src, 3, 3, 1).is_err());
    }
}
