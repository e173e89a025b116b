//! What a ground-truth file was computed from, in a JSON file beside it
//! (`gt.ivecs` → `gt.ivecs.meta.json`). The id formats (`.ivecs`, `.ibin`, `.npy`) have no
//! room for it, yet neighbours by inner product read as neighbours by L2 would give a wrong
//! recall without a word: `gt` and `precompute-gt` write the sidecar, and a run given
//! `--ground-truth` refuses a file whose sidecar names another metric or another base.
//! Truth from elsewhere (the TEXMEX sets, FAISS scripts) has no sidecar and is taken to be
//! under the run's `--metric`.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The sidecar's format version.
const VERSION: u64 = 1;

/// The facts a run checks, and where the truth came from (for people reading the file).
pub struct TruthMeta {
    pub metric: vq::Metric,
    pub k: usize,
    pub base_rows: usize,
    pub dim: usize,
    pub queries: usize,
    /// The base and query sources as the command was given them.
    pub dataset: String,
    pub queries_source: String,
}

/// The sidecar of the ids file `ids`.
pub fn path_for(ids: &Path) -> PathBuf {
    let mut name = ids.as_os_str().to_owned();
    name.push(".meta.json");
    PathBuf::from(name)
}

impl TruthMeta {
    pub fn to_json(&self) -> String {
        let v = json!({
            "vq_ground_truth": VERSION,
            "metric": self.metric.name(),
            "k": self.k,
            "base_rows": self.base_rows,
            "dim": self.dim,
            "queries": self.queries,
            "dataset": self.dataset,
            "queries_source": self.queries_source,
        });
        serde_json::to_string_pretty(&v).expect("a JSON object always serializes") + "\n"
    }

    /// The sidecar of the ids file `ids`, or `None` when there is none.
    pub fn read(ids: &Path) -> Result<Option<TruthMeta>, String> {
        let path = path_for(ids);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let bad = |what: &str| {
            format!(
                "{}: {what}; expected the JSON `gt` writes beside its ids (delete it to take the ids as under --metric)",
                path.display()
            )
        };
        let v: Value = serde_json::from_str(&text).map_err(|e| bad(&format!("not JSON ({e})")))?;
        match v.get("vq_ground_truth").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(other) => return Err(bad(&format!("format version {other}, this build reads {VERSION}"))),
            None => return Err(bad("no `vq_ground_truth` version")),
        }
        let count = |key: &str| {
            v.get(key)
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .ok_or_else(|| bad(&format!("`{key}` is missing or not a count")))
        };
        let text_of = |key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        let metric = v
            .get("metric")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`metric` is missing"))
            .and_then(|s| vq::Metric::parse(s).map_err(|e| bad(&e.to_string())))?;
        Ok(Some(TruthMeta {
            metric,
            k: count("k")?,
            base_rows: count("base_rows")?,
            dim: count("dim")?,
            queries: count("queries")?,
            dataset: text_of("dataset"),
            queries_source: text_of("queries_source"),
        }))
    }

    /// Whether truth computed as this says can score a run by `metric` over `base_rows`
    /// vectors of `dim`.
    pub fn check(&self, ids: &Path, metric: vq::Metric, base_rows: usize, dim: usize) -> Result<(), String> {
        let side = path_for(ids);
        if self.metric != metric {
            return Err(format!(
                "--ground-truth {}: computed by {} (says {}), but this run's --metric is {}; \
                 pass --metric {} or compute the truth again with `gt --metric {}`",
                ids.display(),
                self.metric.name(),
                side.display(),
                metric.name(),
                self.metric.name(),
                metric.name()
            ));
        }
        if self.base_rows != base_rows || self.dim != dim {
            return Err(format!(
                "--ground-truth {}: computed over {} vectors of dimension {} ({}, says {}), but this run's base \
                 has {base_rows} of dimension {dim}; expected truth over this base",
                ids.display(),
                self.base_rows,
                self.dim,
                self.dataset,
                side.display()
            ));
        }
        Ok(())
    }
}
