//! Datasets from the Hugging Face Hub: `--dataset hf:OWNER/NAME` (with `--hf-config`,
//! `--hf-split`, `--hf-column` or `--hf-text-column`), the original tool's
//! `--dataset huggingface`, and the newer tool's presets (`dbpedia-100k`, `dbpedia-1m`,
//! `dbpedia-3072-1m`, `cohere-msmarco`).
//!
//! Files come through `hf-hub` (resumable downloads, a progress bar) into the standard
//! Hugging Face cache (`cache.rs`), pinned to the commit the revision resolved to, which is
//! recorded in `config_json` and the fingerprint. Only the Parquet files holding the rows
//! asked for are fetched (`--num-samples`: the first files, in shard order, until they hold
//! enough), each checked against its sha256 before it is read. The rows then stream
//! through `vq::data`'s Parquet reader like any local file, batch by batch.
//!
//! A text column is embedded on the way in (`crate::embed`, feature `embed`) and the
//! embeddings are cached as `.npy` beside the dataset in the cache
//! (`datasets--OWNER--NAME/vq-embeddings/<commit>/…`), keyed by the model's weights, so a
//! second run reads them instead of embedding again.

#[cfg(feature = "hub")]
pub mod cache;
#[cfg(feature = "hub")]
mod fetch;
#[cfg(feature = "hub")]
mod select;

#[cfg(feature = "hub")]
pub use fetch::{open, Opened};
use std::path::PathBuf;

/// The feature flags a Hub dataset needs, for the message when they are off.
#[cfg_attr(feature = "hub", allow(dead_code))]
pub const INSTALL: &str = "cargo install --path . --features hub";

/// A named dataset: the original tool's and its later versions'.
// Without the `hub` feature only the names are used (to say the feature is needed).
#[cfg_attr(not(feature = "hub"), allow(dead_code))]
pub struct Preset {
    pub name: &'static str,
    pub repo: &'static str,
    pub config: Option<&'static str>,
    pub split: &'static str,
    pub column: Column<'static>,
    /// Rows read unless `--num-samples` says otherwise (the newer tool read the first 100K
    /// rows of the 1M sets).
    pub default_rows: Option<usize>,
}

/// What a column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column<'a> {
    /// Vectors: a list or fixed-size list of floats (`None`: the only such column).
    Embedding(Option<&'a str>),
    /// Text, embedded with the sentence model.
    Text(&'a str),
}

/// The sentence model of the original tool's `huggingface` set.
#[cfg_attr(not(feature = "hub"), allow(dead_code))]
pub const DEFAULT_EMBED_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

pub const PRESETS: [Preset; 5] = [
    Preset {
        name: "huggingface",
        repo: "PhilipMay/stsb_multi_mt",
        config: Some("en"),
        split: "train",
        column: Column::Text("sentence1"),
        default_rows: None,
    },
    Preset {
        name: "dbpedia-100k",
        repo: "Qdrant/dbpedia-entities-openai3-text-embedding-3-large-1536-100K",
        config: None,
        split: "train",
        column: Column::Embedding(Some("text-embedding-3-large-1536-embedding")),
        default_rows: None,
    },
    Preset {
        name: "dbpedia-1m",
        repo: "Qdrant/dbpedia-entities-openai3-text-embedding-3-large-1536-1M",
        config: None,
        split: "train",
        column: Column::Embedding(Some("text-embedding-3-large-1536-embedding")),
        default_rows: Some(100_000),
    },
    Preset {
        name: "dbpedia-3072-1m",
        repo: "Qdrant/dbpedia-entities-openai3-text-embedding-3-large-3072-1M",
        config: None,
        split: "train",
        column: Column::Embedding(Some("text-embedding-3-large-3072-embedding")),
        default_rows: Some(100_000),
    },
    Preset {
        name: "cohere-msmarco",
        repo: "Cohere/msmarco-v2.1-embed-english-v3",
        config: Some("passages"),
        split: "train",
        column: Column::Embedding(Some("emb")),
        // 53 M rows (217 GB of floats): the whole set only when asked for.
        default_rows: Some(100_000),
    },
];

/// The preset named `name` (any case).
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Whether `--dataset` names a Hub dataset rather than `dummy` or a path.
pub fn is_hub(dataset: &str) -> bool {
    dataset.starts_with("hf:") || preset(dataset).is_some()
}

/// The `--hf-*` flags, as given.
#[derive(Clone, Debug, Default)]
#[cfg_attr(not(feature = "hub"), allow(dead_code))]
pub struct Options {
    pub config: Option<String>,
    pub split: Option<String>,
    pub column: Option<String>,
    pub text_column: Option<String>,
    pub revision: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub embed_model: Option<String>,
}

/// Without the `hub` feature: the error naming it.
#[cfg(not(feature = "hub"))]
pub fn unavailable(dataset: &str) -> String {
    format!("--dataset {dataset}: Hugging Face Hub datasets need the `hub` feature; install with `{INSTALL}` (add `embed` for text sets: `--features hub,embed`)")
}
