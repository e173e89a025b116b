//! `--metric l2|ip|cosine` end to end: on data whose norms vary, the three metrics give
//! different ground truth (`gt --metric`), and every run's recall, MSE and pairwise
//! distortion are the library's own under that metric, computed here from
//! `vq::search::knn_with_metric` and the quantizers; `config_json.metric` and the CSV's
//! `metric` column record it, mixed-metric plots are split by it, a bad name exits with
//! one line and writes nothing, and the default is L2, unchanged.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/runs.rs"]
mod runs;

use cli::{files_under, ok, run};
use std::path::{Path, PathBuf};
use vq::{Metric, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

/// Base rows, queries, dimension: small enough for a sweep well under a second.
const N: usize = 500;
const NQ: usize = 20;
const D: usize = 16;

/// The built-in synthetic rows, each scaled by a seeded factor in 0.5..2, so inner product
/// (which favours long rows), cosine (which ignores length) and L2 rank differently.
fn scaled_rows(rows: &[f32], seed: u64) -> Vec<f32> {
    let factors = common::floats(rows.len() / D, seed, 0.75);
    rows.chunks_exact(D).zip(factors).flat_map(|(r, f)| r.iter().map(move |v| v * (1.25 + f))).collect()
}

/// `base.npy` and `q.fvecs` in `dir`; returns (base, queries).
fn write_data(dir: &Path) -> (Vec<f32>, Vec<f32>) {
    let (base, queries) = vq::synthetic::gaussian_demo(N, D, NQ, 7);
    let (base, queries) = (scaled_rows(&base, 1), scaled_rows(&queries, 2));
    cli::write_base_and_queries(dir, &base, &queries, D);
    (base, queries)
}

/// The exact top-`k` ids under `metric`, from the library.
fn truth(metric: Metric, base: &[f32], queries: &[f32], k: usize) -> Vec<i64> {
    let (mut dist, mut ids) = (vec![0f32; NQ * k], vec![0i64; NQ * k]);
    vq::search::knn_with_metric(metric, D, queries, base, k, &mut dist, &mut ids).unwrap();
    ids
}

/// What the sweep below trains, with its settings (seed 42, the k-means defaults).
fn quantizers(metric: Metric, base: &[f32]) -> Vec<(&'static str, Box<dyn Quantizer>)> {
    let mut p = PqParams::new(4, 16);
    p.metric = metric;
    p.kmeans.seed = 42;
    p.kmeans.tol = 3e-3;
    p.kmeans.hartigan_passes = 4;
    let pq = ProductQuantizer::train(D, base, &p).unwrap();
    let sq = ScalarQuantizer::train_for(metric, SqBits::from_bits(8).unwrap(), D, base).unwrap();
    assert_eq!((pq.metric(), sq.metric()), (metric, metric));
    vec![("pq", Box::new(pq)), ("sq", Box::new(sq))]
}

const SWEEP: &[&str] = &[
    "sweep",
    "--dataset",
    "base.npy",
    "--queries",
    "q.fvecs",
    "--method",
    "pq,sq",
    "--pq-chunks",
    "4",
    "--pq-clusters",
    "16",
    "--sq-bits",
    "8",
    "--threads",
    "2",
    "--quiet",
];

fn sweep(dir: &Path, db: &str, extra: &[&str]) {
    ok(dir, &[SWEEP, &["--db", db][..], extra].concat());
}

#[test]
fn each_metric_has_its_own_truth_and_the_librarys_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);

    // gt --metric: the library's exact neighbours under each metric, and all three differ.
    let mut truths = Vec::new();
    for (flag, metric) in [("l2", Metric::L2), ("inner_product", Metric::InnerProduct), ("COS", Metric::Cosine)] {
        let out = format!("gt_{}.ivecs", metric.name());
        let said =
            ok(dir, &["gt", "--dataset", "base.npy", "--queries", "q.fvecs", "-k", "10", "-o", &out, "--metric", flag]);
        assert!(said.contains("exact top-10 by"), "{said}");
        let (ids, k) = vq::data::texmex::read_ivecs(&dir.join(&out)).unwrap();
        assert_eq!(k, 10);
        let ids: Vec<i64> = ids.iter().map(|&i| i64::from(i)).collect();
        assert_eq!(ids, truth(metric, &base, &queries, 10), "gt --metric {flag}");
        truths.push(ids);
    }
    assert!(truths[0] != truths[1] && truths[1] != truths[2] && truths[0] != truths[2], "the metrics agree");
    // precompute-gt --metric: the same engine, the file's first rows as queries.
    ok(dir, &["precompute-gt", "--vectors-path", "base.npy", "--output-path", "p.npy", "--num-queries", "5", "-q"]);
    ok(
        dir,
        &[
            "precompute-gt",
            "--vectors-path",
            "base.npy",
            "--output-path",
            "p_ip.npy",
            "--num-queries",
            "5",
            "--k",
            "100",
            "--metric",
            "METRIC_INNER_PRODUCT",
            "-q",
        ],
    );
    let (ids, k) = vq::data::read_ids(&dir.join("p_ip.npy")).unwrap();
    let (mut dist, mut want) = (vec![0f32; 5 * k], vec![0i64; 5 * k]);
    vq::search::knn_with_metric(Metric::InnerProduct, D, &base[..5 * D], &base, k, &mut dist, &mut want).unwrap();
    assert_eq!(ids, want);
    assert_ne!(vq::data::read_ids(&dir.join("p.npy")).unwrap().0, ids, "precompute-gt's default is L2");

    // A sweep per metric, one run log: recall, rank distortion, MSE and pairwise distortion
    // are the library's under that metric.
    for (flag, metric) in [("l2", Metric::L2), ("ip", Metric::InnerProduct), ("cosine", Metric::Cosine)] {
        sweep(dir, "m.db", &["--metric", flag]);
        let exact = truth(metric, &base, &queries, 100);
        // What the quantizers encode: the rows, or the unit rows for cosine.
        let mut encoded = base.clone();
        if metric == Metric::Cosine {
            vq::metric::normalize_rows(D, &mut encoded);
        }
        let logged: Vec<_> = runs::runs(&dir.join("m.db"))
            .into_iter()
            .filter(|(_, c, _)| c["metric"] == metric.name())
            .map(|(_, c, m)| (c, m))
            .collect();
        assert_eq!(logged.len(), 2, "{flag}: a PQ and an SQ run recorded as metric {}", metric.name());
        for ((method, q), (config, m)) in quantizers(metric, &base).into_iter().zip(&logged) {
            assert!(config.contains_key(if method == "pq" { "num_chunks" } else { "num_bits" }));
            let mut codes = vec![0u8; N * q.code_size()];
            q.encode(&base, &mut codes).unwrap();
            let (mut dist, mut found) = (vec![0f32; NQ * 100], vec![0i64; NQ * 100]);
            q.search(&queries, &codes, 100, &mut dist, &mut found).unwrap();
            // Within an ulp or so: serde_json's default float parsing is not exact, and
            // recalls differ by at least 1/(100·NQ) when the hits do.
            let near = |key: &str, want: f64| {
                let got = m[key].as_f64().unwrap();
                assert!((got - want).abs() <= 1e-12, "{flag} {method} {key}: {got} vs {want}");
            };
            for at in [10, 100] {
                near(&format!("recall@{at}"), vq::metrics::recall_at_k(&exact, 100, &found, 100, at).unwrap());
            }
            near("rank_distortion@10", vq::metrics::rank_distortion_at_k(&exact, 100, &found, 100, 10).unwrap());
            let mut rec = vec![0f32; base.len()];
            q.decode(&codes, &mut rec).unwrap();
            let mse = vq::metrics::reconstruction_mse(D, &encoded, &rec).unwrap();
            let got = m["reconstruction_distortion"].as_f64().unwrap();
            assert!((got - mse).abs() <= 1e-9 * mse, "{flag} {method} MSE {got} vs {mse}");
            let pw = vq::metrics::pairwise_distortion(D, &encoded, &rec, 1000, 42).unwrap();
            let got = m["pairwise_distortion_mean"].as_f64().unwrap();
            assert!((got - pw.mean).abs() <= 1e-12, "{flag} {method} pairwise {got} vs {}", pw.mean);
        }
    }

    // A --ground-truth file is taken as under the run's metric: the ip truth read back
    // gives the ip sweep's recall.
    let gt = ["gt", "--dataset", "base.npy", "--queries", "q.fvecs", "-o", "gt_ip100.ivecs", "--metric", "ip", "-q"];
    ok(dir, &gt);
    sweep(dir, "given.db", &["--metric", "ip", "--ground-truth", "gt_ip100.ivecs"]);
    let computed: Vec<_> =
        runs::results(&dir.join("m.db")).into_iter().filter(|(_, c, _)| c["metric"] == "ip").map(|r| r.2).collect();
    let given: Vec<_> = runs::results(&dir.join("given.db")).into_iter().map(|r| r.2).collect();
    assert_eq!(given, computed);

    // The CSV's metric column, appended after the columns it found (later ones follow
    // it); a plot of the mixed log is split by it.
    let csv = cli::csv_cells(&ok(dir, &["export", "--db", "m.db"]));
    let at = csv[0].iter().position(|h| h == "metric").expect("a metric column");
    assert_eq!(csv[0][at - 1], "decompression_latency_ms", "the columns before it keep their places");
    let metrics: Vec<&str> = csv[1..].iter().map(|row| row[at].as_str()).collect();
    assert_eq!(metrics, ["l2", "l2", "ip", "ip", "cosine", "cosine"]);
    ok(dir, &["plot", "--db", "m.db", "--output", "plots"]);
    let set: PathBuf = std::fs::read_dir(dir.join("plots")).unwrap().next().unwrap().unwrap().path();
    for m in ["l2", "ip", "cosine"] {
        let table = std::fs::read_to_string(set.join(m).join("comparison_table.md")).unwrap();
        assert_eq!(table.lines().filter(|l| l.starts_with("| PQ 4x16") || l.starts_with("| SQ8")).count(), 2, "{m}");
        assert!(std::fs::read_to_string(set.join(m).join("compression_vs_recall.svg"))
            .unwrap()
            .contains(&m.to_uppercase()));
    }
}

#[test]
fn the_default_is_l2_and_a_bad_metric_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    sweep(dir, "default.db", &[]);
    sweep(dir, "l2.db", &["--metric", "EUCLIDEAN"]);
    let (a, b) = (runs::results(&dir.join("default.db")), runs::results(&dir.join("l2.db")));
    assert_eq!(a, b, "the same configurations and figures");
    for (_, c, _) in &a {
        assert_eq!(c["metric"], "l2");
    }
    // An L2 sweep derives the id it derived before --metric existed (so --resume finds its
    // runs; this is the older binary's id for this grid and data); another metric's differs.
    let id = |extra: &[&str]| {
        let grid = ["sweep", "--method", "pq,sq", "--pq-chunks", "4", "--pq-clusters", "16", "--num-samples", "2000"];
        let args = [&grid[..], &["--dim", "32", "--shard", "0/1", "--db", "ids.db", "-q"], extra].concat();
        let out = ok(dir, &args);
        out.split_whitespace().find(|w| w.starts_with("sweep_")).unwrap().trim_end_matches(':').to_string()
    };
    assert_eq!(id(&[]), "sweep_d6ccfdeb655d1bd7");
    assert_eq!(id(&["--metric", "l2"]), "sweep_d6ccfdeb655d1bd7");
    assert_ne!(id(&["--metric", "ip"]), "sweep_d6ccfdeb655d1bd7");

    let before = files_under(dir);
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--metric", "manhattan", "--db", "default.db"],
        [SWEEP, &["--db", "default.db", "--metric", "manhattan"][..]].concat(),
        vec!["gt", "--dataset", "base.npy", "--queries", "q.fvecs", "-o", "x.ivecs", "--metric", "manhattan"],
        vec!["precompute-gt", "--vectors-path", "base.npy", "--output-path", "x.npy", "--metric", "manhattan"],
    ];
    for args in &cases {
        let out = run(dir, args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line:\n{err}");
        assert!(
            err.contains("'manhattan'") && err.contains("l2") && err.contains("ip") && err.contains("cosine"),
            "{err}"
        );
        assert!(files_under(dir) == before, "{args:?} wrote or changed files");
    }
}

/// `gt` and `precompute-gt` record what their truth was computed from beside the ids, and a
/// run given `--ground-truth` refuses truth of another metric or another base with one line,
/// writing nothing; truth without a sidecar (from elsewhere) is taken as the run's metric.
#[test]
fn ground_truth_of_another_metric_or_base_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    ok(dir, &["gt", "--dataset", "base.npy", "--queries", "q.fvecs", "-o", "ip.ivecs", "--metric", "ip", "-q"]);
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ip.ivecs.meta.json")).unwrap()).unwrap();
    assert_eq!(
        (&meta["metric"], &meta["k"], &meta["base_rows"], &meta["dim"], &meta["queries"]),
        (&"ip".into(), &100.into(), &N.into(), &D.into(), &NQ.into())
    );
    ok(dir, &["precompute-gt", "--vectors-path", "base.npy", "--output-path", "p.npy", "--metric", "cosine", "-q"]);
    let meta = std::fs::read_to_string(dir.join("p.npy.meta.json")).unwrap();
    assert!(meta.contains("\"metric\": \"cosine\"") && meta.contains(&format!("\"base_rows\": {N}")), "{meta}");

    // Truth over another base (here a hand-edited sidecar): only the sidecar can tell.
    let side = dir.join("p.npy.meta.json");
    std::fs::write(&side, meta.replace(&format!("\"base_rows\": {N}"), "\"base_rows\": 999")).unwrap();
    let before = files_under(dir);
    let refused = |args: &[&str], wants: &[&str]| {
        let out = run(dir, &[SWEEP, &["--db", "x.db"][..], args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line:\n{err}");
        assert!(wants.iter().all(|w| err.contains(w)), "{args:?}: {err}");
        assert!(files_under(dir) == before, "{args:?} wrote or changed files");
    };
    refused(&["--ground-truth", "ip.ivecs"], &["ip.ivecs", "computed by ip", "--metric is l2", "--metric ip"]);
    refused(&["--ground-truth", "ip.ivecs", "--metric", "cosine"], &["computed by ip", "--metric is cosine"]);
    let other_base = ["--ground-truth", "p.npy", "--metric", "cosine"];
    refused(&other_base, &["over 999 vectors of dimension 16", &format!("has {N} of dimension {D}")]);
    std::fs::write(dir.join("ip.ivecs.meta.json"), "{\"vq_ground_truth\": 7}").unwrap();
    let before = files_under(dir);
    let out = run(dir, &[SWEEP, &["--db", "x.db", "--ground-truth", "ip.ivecs", "--metric", "ip"][..]].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("format version 7"), "{err}");
    assert!(files_under(dir) == before);

    // Without the sidecar the ids are taken as under --metric, as before.
    std::fs::remove_file(dir.join("ip.ivecs.meta.json")).unwrap();
    sweep(dir, "l2.db", &["--ground-truth", "ip.ivecs"]);
    // A gt that fails leaves neither the ids nor a sidecar.
    let out = run(dir, &["gt", "--dataset", "base.npy", "--queries", "q.fvecs", "-o", "bad.ivecs", "-k", "100000"]);
    assert!(!out.status.success());
    assert!(!dir.join("bad.ivecs").exists() && !dir.join("bad.ivecs.meta.json").exists());
}
