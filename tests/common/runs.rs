//! The run log as the end-to-end tests of sweeps compare it (included with `#[path]` by
//! the tests that read run logs, so the other test crates build without rusqlite).
// Each including crate uses some of these.
#![allow(dead_code)]

use rusqlite::Connection;
use serde_json::{Map, Value};
use std::path::Path;

/// A run's configuration key (`method num_chunks num_clusters num_bits`), its
/// `config_json`, and metrics.
pub type Logged = (String, Map<String, Value>, Map<String, Value>);

/// Every run in logging order, with all its metrics.
pub fn runs(db: &Path) -> Vec<Logged> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn.prepare("SELECT method, config_json, metrics_json FROM runs ORDER BY id").unwrap();
    let rows =
        stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))).unwrap();
    rows.map(|r| {
        let (method, c, m) = r.unwrap();
        let config: Map<String, Value> = serde_json::from_str(&c).unwrap();
        let key = format!(
            "{method} {:?} {:?} {:?}",
            config.get("num_chunks"),
            config.get("num_clusters"),
            config.get("num_bits")
        );
        (key, config, serde_json::from_str(&m).unwrap())
    })
    .collect()
}

/// Every run sorted by configuration, with its quality metrics only.
pub fn results(db: &Path) -> Vec<Logged> {
    let mut rows: Vec<Logged> = runs(db).into_iter().map(|(k, c, m)| (k, c, quality(&m))).collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// The metrics that describe the quantizer's quality: every one but timings, rates,
/// memory and what was read (those differ between runs of one configuration).
pub fn quality(m: &Map<String, Value>) -> Map<String, Value> {
    let skip = ["seconds", "qps", "latency_ms", "per_second", "rss", "anon_mib", "dataset_passes", "bytes_read"];
    m.iter().filter(|(k, _)| !skip.iter().any(|t| k.contains(t))).map(|(k, v)| (k.clone(), v.clone())).collect()
}
