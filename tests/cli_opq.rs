//! OPQ as its own method of `vq-benchmark`, end to end: on data whose dimensions are
//! correlated across PQ's sub-spaces, a `pq,opq` sweep logs OPQ below PQ in MSE at the same
//! `m`; every OPQ figure is the library's own (`OpqQuantizer::train` with the sweep's
//! settings, its encode, decode and search), `config_json` records the OPQ settings, the
//! CSV and the plots show OPQ as its own method, the saved model file loads back to the
//! library's quantizer, and bad OPQ input exits with one line and writes nothing.
//!
//! `--opq-iterations 4` keeps the tests fast: FAISS's 50 outer iterations are slow in a
//! debug build.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/figures.rs"]
mod figures;
#[path = "common/runs.rs"]
mod runs;

use cli::{fails_cleanly, ok};
use figures::{assert_library_figures, legend, sweep_opq_params, sweep_pq_params};
use std::path::{Path, PathBuf};
use vq::{Metric, OpqQuantizer, ProductQuantizer, Quantizer};

/// Base rows, queries, dimension: a sweep in well under a second in release.
const N: usize = 600;
const NQ: usize = 20;
const D: usize = 16;
/// Latent dimensions: every row is a seeded mix of 4 latent Gaussians (scales 4, 3, 2, 1)
/// spread over all 16 dimensions, plus a little noise. PQ's 4 contiguous sub-spaces each
/// see all four latent directions; a rotation can give each sub-space one.
const LATENT: usize = 4;

fn correlated(rows: usize, seed: u64) -> Vec<f32> {
    let mix = common::floats(LATENT * D, 99, 1.0);
    let z = common::floats(rows * LATENT, seed, 1.0);
    let noise = common::floats(rows * D, seed + 1, 0.05);
    let mut out = vec![0f32; rows * D];
    for r in 0..rows {
        for j in 0..D {
            let mut v = noise[r * D + j];
            for l in 0..LATENT {
                v += (LATENT - l) as f32 * z[r * LATENT + l] * mix[l * D + j];
            }
            out[r * D + j] = v;
        }
    }
    out
}

/// `base.npy` and `q.fvecs` in `dir`; returns (base, queries).
fn write_data(dir: &Path) -> (Vec<f32>, Vec<f32>) {
    let (base, queries) = (correlated(N, 1), correlated(NQ, 2));
    cli::write_base_and_queries(dir, &base, &queries, D);
    (base, queries)
}

const DATA: &[&str] = &["--dataset", "base.npy", "--queries", "q.fvecs", "--threads", "2", "--quiet"];
const ITERS: usize = 4;

#[test]
fn opq_beats_pq_on_correlated_data_with_the_librarys_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let iters = ITERS.to_string();
    let args = [
        &["sweep", "--methods", "pq,opq", "--pq-chunks", "4", "--pq-clusters", "16"][..],
        &["--opq-quantizers", "4", "--opq-bits", "4", "--opq-iterations", &iters],
        &["--sweep-id", "opq_test", "--db", "r.db", "--csv", "r.csv", "--save-models", "models"],
        DATA,
    ]
    .concat();
    ok(dir, &args);

    let logged = runs::runs(&dir.join("r.db"));
    assert_eq!(logged.len(), 2, "one PQ and one OPQ run");
    let (pq_c, pq_m) = (&logged[0].1, &logged[0].2);
    let (opq_c, opq_m) = (&logged[1].1, &logged[1].2);
    assert!(logged[0].0.starts_with("pq ") && logged[1].0.starts_with("opq "), "{:?}", (&logged[0].0, &logged[1].0));

    // config_json: the method, m and ksub under PQ's keys, the OPQ settings, the metric.
    assert_eq!(opq_c["method"], "opq");
    assert_eq!((opq_c["num_chunks"].as_u64(), opq_c["num_clusters"].as_u64()), (Some(4), Some(16)));
    assert_eq!(opq_c["bits_per_chunk"], 4);
    assert_eq!(opq_c["metric"], "l2");
    let o = &opq_c["opq"];
    let want = sweep_opq_params(4, 16, Metric::L2, ITERS);
    assert_eq!(o["niter"].as_u64(), Some(ITERS as u64));
    assert_eq!(o["niter_pq"].as_u64(), Some(want.niter_pq as u64));
    assert_eq!(o["niter_pq_0"].as_u64(), Some(want.niter_pq_0 as u64));
    assert_eq!(o["max_train_points"].as_u64(), Some(want.max_train_points as u64));
    assert_eq!((o["seed"].as_u64(), o["d_out"].as_u64()), (Some(42), Some(D as u64)));
    assert!(pq_c.get("opq").is_none() && pq_c.get("method").is_none(), "PQ's config is as before");

    // The figures are the library's: OPQ and PQ trained with the sweep's settings.
    let opq = OpqQuantizer::train(D, &base, &want).unwrap();
    let pq = ProductQuantizer::train(D, &base, &sweep_pq_params(4, 16, Metric::L2)).unwrap();
    assert_library_figures("opq", &opq, opq_m, Metric::L2, (&base, &queries, D));
    assert_library_figures("pq", &pq, pq_m, Metric::L2, (&base, &queries, D));
    // Same m, same code size: the rotation is what lowers the error.
    assert_eq!(opq_m["bytes_per_vector"], pq_m["bytes_per_vector"]);
    let (e_opq, e_pq) =
        (opq_m["reconstruction_distortion"].as_f64().unwrap(), pq_m["reconstruction_distortion"].as_f64().unwrap());
    assert!(e_opq < 0.9 * e_pq, "OPQ's MSE {e_opq} is not clearly below PQ's {e_pq}");

    // The model file loads back to the library's quantizer.
    let file = PathBuf::from(opq_c["model_file"].as_str().unwrap());
    assert!(file.ends_with("opq_test_opq_4x16.vqm"), "{}", file.display());
    assert_eq!(OpqQuantizer::load(&dir.join(&file)).unwrap(), opq);

    // The CSV has an opq row with m and ksub.
    let csv = std::fs::read_to_string(dir.join("r.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let cells: Vec<(&str, &str, &str)> =
        rows.iter().map(|r| (r[col("method")], r[col("num_chunks")], r[col("num_clusters")])).collect();
    assert_eq!(cells, [("pq", "4", "16"), ("opq", "4", "16")]);

    // Plots: OPQ is its own series in the combined set, and its own directory with
    // --separate-methods; the table labels it.
    ok(dir, &["plot", "--db", "r.db", "--output", "plots"]);
    ok(dir, &["plot", "--db", "r.db", "--output", "split", "--separate-methods"]);
    let set = |p: &str| -> PathBuf { std::fs::read_dir(dir.join(p)).unwrap().next().unwrap().unwrap().path() };
    let combined = set("plots");
    for chart in ["compression_vs_distortion", "compression_vs_recall", "pareto_frontier"] {
        let svg = std::fs::read_to_string(combined.join(format!("{chart}.svg"))).unwrap();
        assert!(legend(&svg, "OPQ") && legend(&svg, "PQ"), "{chart}: a legend entry per method");
        // OPQ's own colour (green; PQ keeps blue).
        assert!(svg.contains("fill=\"#2CA02C\"") && svg.contains("fill=\"#1F77B4\""), "{chart}: a colour per method");
    }
    let table = std::fs::read_to_string(combined.join("comparison_table.md")).unwrap();
    assert!(table.lines().any(|l| l.starts_with("| OPQ 4x16")), "{table}");
    let split = set("split");
    for method in ["pq", "opq"] {
        let svg = std::fs::read_to_string(split.join(method).join("pareto_frontier.svg")).unwrap();
        assert!(svg.contains(&format!("({})", method.to_uppercase())), "{method}: its own titled set");
    }
    let opq_only = std::fs::read_to_string(split.join("opq").join("compression_vs_distortion.svg")).unwrap();
    assert!(legend(&opq_only, "OPQ") && !legend(&opq_only, "PQ"), "the OPQ set holds OPQ runs only");
}

/// `run --method opq` takes PQ's `--num-chunks`/`--num-clusters`, and follows `--metric`.
#[test]
fn run_method_opq_under_another_metric_is_the_librarys() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let iters = ITERS.to_string();
    let args = [
        &["run", "--method", "opq", "--num-chunks", "2", "--num-clusters", "8", "--metric", "ip"][..],
        &["--opq-iterations", &iters, "--db", "r.db"],
        DATA,
    ]
    .concat();
    ok(dir, &args);
    let logged = runs::runs(&dir.join("r.db"));
    assert_eq!(logged.len(), 1);
    let (c, m) = (&logged[0].1, &logged[0].2);
    assert_eq!((c["method"].as_str(), c["metric"].as_str()), (Some("opq"), Some("ip")));
    let opq = OpqQuantizer::train(D, &base, &sweep_opq_params(2, 8, Metric::InnerProduct, ITERS)).unwrap();
    assert_eq!(opq.metric(), Metric::InnerProduct);
    assert_library_figures("opq ip", &opq, m, Metric::InnerProduct, (&base, &queries, D));
}

#[test]
fn bad_opq_input_is_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    // A run log that exists, so "unchanged" is checked against real content.
    ok(
        dir,
        &[
            &["run", "--method", "opq", "--num-chunks", "2", "--num-clusters", "8", "--opq-iterations", "1"][..],
            &["--db", "r.db"],
            DATA,
        ]
        .concat(),
    );
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", "--method", "opq", "--num-clusters", "1024"], "1024 is more than the 600 training vectors"),
        (vec!["run", "--method", "opq", "--num-chunks", "32"], "32 is more than the dimension 16"),
        (vec!["sweep", "--method", "opq", "--opq-quantizers", "17"], "17 is more than the dimension 16"),
        (
            vec!["sweep", "--method", "opq", "--opq-bits", "17"],
            "17 bits per OPQ sub-code is out of range, expected 1..=16",
        ),
        (vec!["sweep", "--method", "opq", "--opq-bits", "0"], "0 is not allowed"),
        (vec!["sweep", "--method", "opq", "--opq-bits", "10"], "1024 is more than the 600 training vectors"),
        (vec!["sweep", "--method", "opq", "--opq-bits", "4", "--opq-clusters", "16"], "cannot be used with"),
        (vec!["sweep", "--method", "pq", "--opq-quantizers", "4"], "apply to --method opq"),
        (
            vec!["sweep", "--method", "opq", "--opq-bits", "4", "--train-size", "10"],
            "fewer than the 16 centroids of OPQ",
        ),
        (vec!["sweep", "--method", "pq,lopq"], "unknown method 'lopq'"),
        (vec!["run", "--method", "opq", "--opq-iterations", "-1"], "-1"),
    ];
    for (args, want) in &cases {
        fails_cleanly(dir, &[&args[..], &["--db", "r.db", "--save-models", "models"], DATA].concat(), want);
    }
}
