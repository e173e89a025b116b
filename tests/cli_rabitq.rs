//! RaBitQ as its own method of `vq-benchmark`, end to end: every figure a sweep logs for
//! it is the library's own (`RabitqQuantizer::train` with the sweep's settings, its encode,
//! decode, search and `search_refine`), `config_json` records its parameters, the CSV and
//! the plots show it as its own method, the saved model file loads back to the library's
//! quantizer, `--rabitq-metric-type INNER_PRODUCT` is `--metric ip`, re-ranking is skipped
//! (and said so) over a streamed base, and bad RaBitQ input exits with one line and writes
//! nothing.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/figures.rs"]
mod figures;
#[path = "common/runs.rs"]
mod runs;

use cli::{fails_cleanly, ok};
use figures::{assert_library_figures, exact_top100, legend, near};
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use vq::{Metric, QueryBits, RabitqParams, RabitqQuantizer};

/// Base rows, queries, dimension: a sweep in well under a second in release. 40 is not a
/// multiple of 64, so the codes' padded bit planes are part of what is checked.
const N: usize = 500;
const NQ: usize = 20;
const D: usize = 40;

/// The test's data in `dir`: [`cli::write_clusters`]. Returns (base, queries).
fn write_data(dir: &Path) -> (Vec<f32>, Vec<f32>) {
    cli::write_clusters(dir, N, NQ, D)
}

const DATA: &[&str] = &["--dataset", "base.npy", "--queries", "q.fvecs", "--threads", "2", "--quiet"];

/// The sweep's settings as the library's parameters: seed 42, the sweep's qb and ε₀.
fn params(bits: u32, qb: QueryBits, epsilon: f32, metric: Metric) -> RabitqParams {
    let mut p = RabitqParams::new(bits);
    p.qb = qb;
    p.epsilon = epsilon;
    p.seed = 42;
    p.metric = metric;
    p
}

/// Asserts every figure of a logged RaBitQ run (`m`) is `q`'s, the re-ranked ones included.
fn assert_rabitq_figures(
    what: &str,
    q: &RabitqQuantizer,
    m: &Map<String, Value>,
    metric: Metric,
    data: (&[f32], &[f32]),
) {
    let (base, queries) = data;
    let codes = assert_library_figures(what, q, m, metric, (base, queries, D));
    let exact = exact_top100(metric, (base, queries, D));
    let (mut dist, mut found) = (vec![0f32; NQ * 100], vec![0i64; NQ * 100]);
    let reranked = q.search_refine(queries, &codes, 100, base, &mut dist, &mut found).unwrap();
    for at in [10, 100] {
        let want = vq::metrics::recall_at_k(&exact, 100, &found, 100, at).unwrap();
        near(what, m, &format!("recall_refined@{at}"), want, 1e-12);
    }
    near(what, m, "refine_fraction", reranked as f64 / (NQ * N) as f64, 1e-12);
    assert!(m["refine_search_qps"].as_f64().is_some_and(|v| v > 0.0), "{what}: refine_search_qps");
    let bits = q.bits() as f64;
    near(what, m, "bits_per_vector", D as f64 * bits + if q.bits() == 1 { 96.0 } else { 160.0 }, 0.0);
}

#[test]
fn a_rabitq_sweep_logs_the_librarys_figures_csv_plots_and_models() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let args = [
        &["sweep", "--methods", "pq,rabitq", "--pq-chunks", "4", "--pq-clusters", "16", "--rabitq-bits", "1,4"][..],
        &["--rabitq-qb", "6", "--rabitq-epsilon", "2.5", "--in-memory"],
        &["--sweep-id", "rq_test", "--db", "r.db", "--csv", "r.csv", "--save-models", "models"],
        DATA,
    ]
    .concat();
    ok(dir, &args);

    let logged = runs::runs(&dir.join("r.db"));
    let keys: Vec<&str> = logged.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        keys,
        [
            "pq Some(Number(4)) Some(Number(16)) None",
            "rabitq None None Some(Number(1))",
            "rabitq None None Some(Number(4))"
        ]
    );
    assert!(logged[0].2.get("refine_fraction").is_none(), "PQ has no re-ranked search");

    for (bits, (_, c, m)) in [1u32, 4].into_iter().zip(&logged[1..]) {
        let what = format!("rabitq {bits}-bit");
        // config_json: the method, num_bits, and RabitqParams.
        assert_eq!(
            (c["method"].as_str(), c["num_bits"].as_u64(), c["metric"].as_str()),
            (Some("rabitq"), Some(u64::from(bits)), Some("l2"))
        );
        let r = &c["rabitq"];
        assert_eq!(
            (r["bits"].as_u64(), r["ex_bits"].as_u64()),
            (Some(u64::from(bits)), Some(u64::from(bits) - 1)),
            "{what}"
        );
        assert_eq!((r["qb"].as_u64(), r["query"].as_str()), (Some(6), Some("6-bit")), "{what}");
        assert_eq!(
            (r["epsilon"].as_f64(), r["seed"].as_u64(), r["metric"].as_str()),
            (Some(2.5), Some(42), Some("l2"))
        );
        assert_eq!(r["refine"], "against the base in memory");
        assert_eq!(c["train_size"].as_u64(), Some(N as u64), "{what}: the whole base, in order");

        // The figures are the library's: RaBitQ trained with the sweep's settings.
        let q = RabitqQuantizer::train(D, &base, &params(bits, QueryBits::Quantized(6), 2.5, Metric::L2)).unwrap();
        assert_rabitq_figures(&what, &q, m, Metric::L2, (&base, &queries));
        // Re-ranking within the bound recovers what the estimates lose.
        let f = |k: &str| m[k].as_f64().unwrap();
        assert!(f("recall_refined@10") >= f("recall@10") && f("recall_refined@10") >= 0.9, "{what}: {m:?}");
        assert!(f("refine_fraction") > 0.0 && f("refine_fraction") < 1.0, "{what}: {m:?}");

        // The model file loads back to the library's quantizer, query settings included.
        let file = PathBuf::from(c["model_file"].as_str().unwrap());
        assert!(file.ends_with(format!("rq_test_rabitq_{bits}-bit.vqm")), "{}", file.display());
        assert_eq!(RabitqQuantizer::load(&dir.join(&file)).unwrap(), q);
    }
    let (one, four) = (&logged[1].2, &logged[2].2);
    let mse = |m: &Map<String, Value>| m["reconstruction_distortion"].as_f64().unwrap();
    assert!(mse(four) < 0.2 * mse(one), "4 bits per dimension reconstruct far better than 1");

    // The CSV: RaBitQ rows with their bits and the re-ranked figures.
    let csv = cli::csv_cells(&std::fs::read_to_string(dir.join("r.csv")).unwrap());
    let col = |name: &str| csv[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column"));
    let rows = &csv[1..];
    let cells: Vec<(&str, &str)> =
        rows.iter().map(|r| (r[col("method")].as_str(), r[col("num_bits")].as_str())).collect();
    assert_eq!(cells, [("pq", ""), ("rabitq", "1"), ("rabitq", "4")]);
    for (row, (_, _, m)) in rows.iter().zip(&logged) {
        for key in ["recall_refined@10", "recall_refined@100", "refine_fraction"] {
            let want = m.get(key).map_or(String::new(), Value::to_string);
            assert_eq!(row[col(key)], want, "{key}");
        }
    }

    // Plots: RaBitQ is its own series and colour in the combined set, its own directory
    // with --separate-methods, and labelled in the table.
    ok(dir, &["plot", "--db", "r.db", "--output", "plots"]);
    ok(dir, &["plot", "--db", "r.db", "--output", "split", "--separate-methods"]);
    let set = |p: &str| -> PathBuf { std::fs::read_dir(dir.join(p)).unwrap().next().unwrap().unwrap().path() };
    let combined = set("plots");
    for chart in [
        "compression_vs_distortion",
        "compression_vs_recall",
        "pairwise_distortion",
        "rank_distortion",
        "pareto_frontier",
    ] {
        let svg = std::fs::read_to_string(combined.join(format!("{chart}.svg"))).unwrap();
        assert!(legend(&svg, "RaBitQ") && legend(&svg, "PQ"), "{chart}: a legend entry per method");
        // RaBitQ's own colour (cyan; PQ keeps blue).
        assert!(svg.contains("fill=\"#17BECF\"") && svg.contains("fill=\"#1F77B4\""), "{chart}: a colour per method");
    }
    let table = std::fs::read_to_string(combined.join("comparison_table.md")).unwrap();
    assert!(table.lines().any(|l| l.starts_with("| RaBitQ 1-bit")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("| RaBitQ 4-bit")), "{table}");
    let split = set("split");
    let svg = std::fs::read_to_string(split.join("rabitq").join("compression_vs_distortion.svg")).unwrap();
    assert!(svg.contains("(RaBitQ)"), "its own titled set");
    assert!(legend(&svg, "RaBitQ") && !legend(&svg, "PQ"), "the RaBitQ set holds RaBitQ runs only");
}

/// `--rabitq-metric-type` is `--metric` (FAISS's `INNER_PRODUCT` as the newer tool writes
/// it); `run --method rabitq` takes `--rabitq-bits`, the defaults of qb and ε₀, and over a
/// streamed base logs no re-ranked figures and says why.
#[test]
fn rabitq_metric_type_is_metric_and_a_streamed_base_is_not_reranked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let rabitq = ["run", "--method", "rabitq", "--rabitq-bits", "2"];
    ok(dir, &[&rabitq[..], &["--rabitq-metric-type", "INNER_PRODUCT", "--db", "alias.db"], DATA].concat());
    ok(dir, &[&rabitq[..], &["--metric", "ip", "--db", "ip.db"], DATA].concat());
    let (alias, ip) = (runs::results(&dir.join("alias.db")), runs::results(&dir.join("ip.db")));
    assert_eq!(alias, ip, "the same runs, whichever flag names the metric");
    assert_eq!(alias.len(), 1);
    let (c, m) = (&ip[0].1, &runs::runs(&dir.join("ip.db"))[0].2);
    assert_eq!(
        (c["method"].as_str(), c["metric"].as_str(), c["rabitq"]["metric"].as_str()),
        (Some("rabitq"), Some("ip"), Some("ip"))
    );
    assert_eq!((c["rabitq"]["qb"].as_u64(), c["rabitq"]["epsilon"].as_f64()), (Some(4), Some(1.9)), "FAISS's defaults");
    assert!(c["rabitq"]["refine"].as_str().unwrap().starts_with("skipped: the base was streamed"), "{c:?}");
    for key in ["recall_refined@10", "recall_refined@100", "refine_fraction", "refine_search_qps"] {
        assert!(m.get(key).is_none(), "{key} over a streamed base");
    }
    let q = RabitqQuantizer::train(D, &base, &params(2, QueryBits::default(), 1.9, Metric::InnerProduct)).unwrap();
    assert_library_figures("rabitq ip", &q, m, Metric::InnerProduct, (&base, &queries, D));

    // The same run over the base in memory, with a float query, is re-ranked.
    let more = ["--rabitq-metric-type", "L2", "--rabitq-qb", "0", "--in-memory", "--db", "mem.db"];
    ok(dir, &[&rabitq[..], &more[..], DATA].concat());
    let (c, m) = (&runs::runs(&dir.join("mem.db"))[0].1, &runs::runs(&dir.join("mem.db"))[0].2);
    assert_eq!((c["metric"].as_str(), c["rabitq"]["query"].as_str()), (Some("l2"), Some("float")));
    let q = RabitqQuantizer::train(D, &base, &params(2, QueryBits::Float, 1.9, Metric::L2)).unwrap();
    assert_rabitq_figures("rabitq float query", &q, m, Metric::L2, (&base, &queries));
}

#[test]
fn bad_rabitq_input_is_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    // A run log that exists, so "unchanged" is checked against real content.
    ok(dir, &[&["run", "--method", "rabitq", "--rabitq-bits", "1", "--db", "r.db"][..], DATA].concat());
    let bits_range = "RaBitQ bits per dimension is out of range, expected 1..=9";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["run", "--method", "rabitq", "--rabitq-bits", "0"], format!("0 {bits_range}")),
        (vec!["run", "--method", "rabitq", "--rabitq-bits", "10"], format!("10 {bits_range}")),
        (vec!["sweep", "--method", "rabitq", "--rabitq-bits", "1,10"], format!("entry 2 of \"1,10\": 10 {bits_range}")),
        (vec!["sweep", "--method", "rabitq", "--rabitq-bits", "0"], format!("0 {bits_range}")),
        (vec!["sweep", "--method", "rabitq", "--rabitq-bits", "4,4"], "repeats 4".into()),
        (
            vec!["run", "--method", "rabitq", "--rabitq-qb", "9"],
            "9 RaBitQ query bits is out of range, expected 1..=8, or 0 for a float query".into(),
        ),
        (
            vec!["run", "--method", "rabitq", "--rabitq-epsilon", "-1"],
            "'-1' is not a valid RaBitQ epsilon, expected a finite number >= 0".into(),
        ),
        (vec!["sweep", "--method", "rabitq", "--rabitq-epsilon", "NaN"], "'NaN' is not a valid RaBitQ epsilon".into()),
        (
            vec!["run", "--method", "rabitq", "--rabitq-metric-type", "HAMMING"],
            "unknown metric 'HAMMING', expected l2 (also L2), ip".into(),
        ),
        (vec!["sweep", "--method", "rabitq", "--metric", "manhattan"], "unknown metric 'manhattan'".into()),
        (vec!["sweep", "--method", "pq", "--rabitq-bits", "4"], "--rabitq-bits applies to --method rabitq".into()),
        (vec!["sweep", "--method", "pq,rabbitq"], "unknown method 'rabbitq', expected pq, opq, sq, rabitq".into()),
    ];
    for (args, want) in &cases {
        fails_cleanly(dir, &[&args[..], &["--db", "r.db", "--save-models", "models"], DATA].concat(), want);
    }
}
