//! The debian-minilm files (25,000 real 384-d sentence embeddings, 1,000 queries, exact
//! top-100) that the ignored figure tests read: `/work/shared/data/debian-minilm`, or
//! `VQ_MINILM_DIR` (included with `#[path]`).

use std::path::PathBuf;
use vq::data::texmex;

/// The set, its truth as `i64` ids.
pub struct Minilm {
    pub base: Vec<f32>,
    pub queries: Vec<f32>,
    pub dim: usize,
    /// `truth_k` ids per query, nearest first.
    pub truth: Vec<i64>,
    pub truth_k: usize,
}

/// Reads the set (panics where it is missing: only ignored tests call this).
pub fn load() -> Minilm {
    let dir = std::env::var("VQ_MINILM_DIR").map(PathBuf::from).unwrap_or("/work/shared/data/debian-minilm".into());
    let (base, dim) = texmex::read_fvecs(&dir.join("base.fvecs")).unwrap();
    let (queries, _) = texmex::read_fvecs(&dir.join("query.fvecs")).unwrap();
    let (gt, truth_k) = texmex::read_ivecs(&dir.join("groundtruth.ivecs")).unwrap();
    let truth = gt.iter().map(|&v| i64::from(v)).collect();
    Minilm { base, queries, dim, truth, truth_k }
}
