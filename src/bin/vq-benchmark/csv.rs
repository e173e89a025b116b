//! The CSV every sweep writes and `export` reproduces: one row per run, a fixed header (new
//! metrics are added at the end, never reordered), values straight from the run log.

use crate::runlog::Run;
use serde_json::{Map, Value};

/// The header, in order.
pub const HEADER: &[&str] = &[
    "id",
    "timestamp",
    "sweep_id",
    "method",
    "dataset",
    "num_chunks",
    "num_clusters",
    "num_bits",
    "compression_ratio",
    "bytes_per_vector",
    "reconstruction_distortion",
    "mse_per_dimension",
    "relative_distortion",
    "pairwise_distortion_mean",
    "pairwise_distortion_median",
    "pairwise_distortion_max",
    "pairwise_distortion_std",
    "rank_k",
    "rank_distortion",
    "recall@10",
    "recall@100",
    "train_seconds",
    "encode_seconds",
    "decode_seconds",
    "search_qps",
    "wall_seconds",
    "peak_rss_mib",
    "threads",
    "seed",
    "simd_level",
    "cpu_model",
    "git_commit",
    "package_version",
    "dataset_fingerprint",
    "run_uid",
    // The newer Python tool's names for vq's timings (`measure`'s docs).
    "qps",
    "avg_query_latency_ms",
    "fit_latency_ms",
    "compression_latency_ms",
    "decompression_latency_ms",
    // `--metric` (l2, ip or cosine): the figures of runs under different metrics do not
    // compare, so filter or group by it.
    "metric",
    // RaBitQ's search re-ranked against the base (`measure`'s docs); empty for other
    // methods and for RaBitQ runs over a streamed base.
    "recall_refined@10",
    "recall_refined@100",
    "refine_fraction",
    // `--pq-fast-scan` (`measure`'s docs): the 4-bit fast scan of PQ and OPQ runs of at most
    // 16 centroids, its rerank factor (from `config_json`), recall re-ranked with the float
    // tables and against the full vectors, and its speed; empty for other runs.
    "rerank_factor",
    "recall_fastscan@10",
    "recall_fastscan@100",
    "recall_fastscan_refined@10",
    "recall_fastscan_refined@100",
    "fastscan_search_qps",
];

/// Parses a JSON object column; anything else (NULL, not JSON) is an empty object.
pub fn object(src: &Option<String>) -> Map<String, Value> {
    src.as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// The metric a logged run was measured under, from its `config_json`: `metric`, or `l2`
/// for a run logged before the flag existed (every earlier run, the original tools' too,
/// was measured by L2).
pub fn metric(config: &Map<String, Value>) -> String {
    config.get("metric").and_then(Value::as_str).unwrap_or(vq::Metric::L2.name()).to_string()
}

/// `rank_distortion@k` of a metrics object: `(k, value)`.
pub fn rank_distortion(metrics: &Map<String, Value>) -> Option<(u64, f64)> {
    metrics.iter().find_map(|(k, v)| {
        let kk = k.strip_prefix("rank_distortion@")?.parse::<u64>().ok()?;
        Some((kk, v.as_f64()?))
    })
}

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// How a logged run is labelled in tables and plots, from its method and `config_json`:
/// `PQ 8x256`, `OPQ 8x256` (OPQ runs; every other run with `num_chunks` and `num_clusters`
/// is PQ, the original tool's logs whose method may be spelt otherwise included),
/// `RaBitQ 4-bit` (RaBitQ runs; every other run with `num_bits` is SQ: `SQ8`, or with
/// `sq_spaced` `SQ 8-bit`); `None` for a run with none of those keys.
pub fn label(method: Option<&str>, config: &Map<String, Value>, sq_spaced: bool) -> Option<String> {
    let is = |name: &str| method.is_some_and(|m| m.eq_ignore_ascii_case(name));
    match (config.get("num_chunks"), config.get("num_clusters"), config.get("num_bits")) {
        (Some(m), Some(k), _) => Some(format!("{} {m}x{k}", if is("opq") { "OPQ" } else { "PQ" })),
        (_, _, Some(b)) if is("rabitq") => Some(format!("RaBitQ {b}-bit")),
        (_, _, Some(b)) if sq_spaced => Some(format!("SQ {b}-bit")),
        (_, _, Some(b)) => Some(format!("SQ{b}")),
        _ => None,
    }
}

/// The CSV text of `runs`, header included.
pub fn render(runs: &[Run]) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for r in runs {
        let m = object(&r.metrics_json);
        let c = object(&r.config_json);
        let rank = rank_distortion(&m);
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells: Vec<String> = HEADER
            .iter()
            .map(|&h| match h {
                "id" => r.id.to_string(),
                "timestamp" => opt(&r.timestamp),
                "sweep_id" => opt(&r.sweep_id),
                "method" => opt(&r.method),
                "dataset" => opt(&r.dataset),
                "num_chunks" | "num_clusters" | "num_bits" | "rerank_factor" => value(c.get(h)),
                "rank_k" => rank.map(|(k, _)| k.to_string()).unwrap_or_default(),
                "rank_distortion" => rank.map(|(_, v)| v.to_string()).unwrap_or_default(),
                "threads" => r.threads.map(|v| v.to_string()).unwrap_or_default(),
                "seed" => r.seed.map(|v| v.to_string()).unwrap_or_default(),
                "simd_level" => opt(&r.simd_level),
                "cpu_model" => opt(&r.cpu_model),
                "git_commit" => opt(&r.git_commit),
                "package_version" => opt(&r.package_version),
                "dataset_fingerprint" => opt(&r.dataset_fingerprint),
                "run_uid" => opt(&r.run_uid),
                "metric" => metric(&c),
                "wall_seconds" => r.wall_seconds.map(|v| v.to_string()).unwrap_or_else(|| value(m.get(h))),
                key => value(m.get(key)),
            })
            .map(|s| field(&s))
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_columns() {
        let run = Run {
            id: 3,
            method: Some("pq".into()),
            dataset: Some("a,b.fvecs".into()),
            config_json: Some(r#"{"num_chunks": 8, "num_clusters": 256}"#.into()),
            metrics_json: Some(r#"{"recall@10": 0.5, "rank_distortion@10": 0.5, "compression_ratio": 512.0}"#.into()),
            cpu_model: Some("say \"hi\"".into()),
            ..Run::default()
        };
        let text = render(&[run]);
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), HEADER.join(","));
        let row = lines.next().unwrap();
        assert!(row.starts_with("3,,,pq,\"a,b.fvecs\",8,256,,512.0,"), "{row}");
        assert!(row.contains(",10,0.5,0.5,"), "{row}");
        assert!(row.contains("\"say \"\"hi\"\"\""), "{row}");
        assert!(row.ends_with(",l2,,,,,,,,,"), "a run logged without a metric was L2: {row}");
        let ip = Run { config_json: Some(r#"{"metric": "ip"}"#.into()), ..Run::default() };
        assert!(render(&[ip]).lines().nth(1).unwrap().ends_with(",ip,,,,,,,,,"));
        let rabitq = Run {
            method: Some("rabitq".into()),
            config_json: Some(r#"{"num_bits": 4}"#.into()),
            metrics_json: Some(
                r#"{"recall_refined@10": 1.0, "recall_refined@100": 0.5, "refine_fraction": 0.25}"#.into(),
            ),
            ..Run::default()
        };
        assert!(render(&[rabitq]).lines().nth(1).unwrap().ends_with(",l2,1.0,0.5,0.25,,,,,,"));
        let fast = Run {
            method: Some("pq".into()),
            config_json: Some(r#"{"num_chunks": 4, "num_clusters": 16, "fast_scan": true, "rerank_factor": 3}"#.into()),
            metrics_json: Some(
                r#"{"recall_fastscan@10": 0.75, "recall_fastscan@100": 0.5, "recall_fastscan_refined@10": 1.0,
                    "recall_fastscan_refined@100": 0.875, "fastscan_search_qps": 1000.0}"#
                    .into(),
            ),
            ..Run::default()
        };
        assert!(render(&[fast]).lines().nth(1).unwrap().ends_with(",l2,,,,3,0.75,0.5,1.0,0.875,1000.0"));
    }

    #[test]
    fn labels_name_the_method() {
        let c = |j: &str| serde_json::from_str::<Map<String, Value>>(j).unwrap();
        let pq = c(r#"{"num_chunks": 8, "num_clusters": 256}"#);
        assert_eq!(label(Some("pq"), &pq, false).unwrap(), "PQ 8x256");
        assert_eq!(label(Some("OPQ"), &pq, false).unwrap(), "OPQ 8x256");
        assert_eq!(label(None, &pq, false).unwrap(), "PQ 8x256");
        let bits = c(r#"{"num_bits": 4}"#);
        assert_eq!(label(Some("sq"), &bits, false).unwrap(), "SQ4");
        assert_eq!(label(Some("sq"), &bits, true).unwrap(), "SQ 4-bit");
        assert_eq!(label(Some("rabitq"), &bits, false).unwrap(), "RaBitQ 4-bit");
        assert_eq!(label(Some("pq"), &Map::new(), false), None);
    }
}
