//! `vq-benchmark --pq-fast-scan`, end to end: every fast-scan figure a sweep logs is the
//! library's own (`PackedCodes::pack` of the run's codes, `search_packed` and
//! `search_packed_refine` with the sweep's re-rank factor; OPQ through its inner PQ on
//! rotated rows), runs it cannot scan say why, a factor covering every code reproduces the
//! plain search's recall, `--resume` tells runs of another factor apart, the CSV carries
//! the figures, and bad input exits with one line and writes nothing.
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;
#[path = "common/figures.rs"]
mod figures;
#[path = "common/runs.rs"]
mod runs;

use cli::{fails_cleanly, ok};
use figures::{exact_top100, near, sweep_opq_params, sweep_pq_params};
use serde_json::{Map, Value};
use std::path::Path;
use vq::{FastScanParams, Metric, OpqQuantizer, PackedCodes, ProductQuantizer, Quantizer};

/// Base rows, queries, dimension: a sweep in well under a second in release. 500 is not a
/// multiple of the 32-code block, so the last block's padding is part of what is checked.
const N: usize = 500;
const NQ: usize = 20;
const D: usize = 40;
/// The search depth of a sweep that measures recall@100.
const K: usize = 100;
const OPQ_ITERS: usize = 4;

/// The test's data in `dir`: [`cli::write_clusters`]. Returns (base, queries).
fn write_data(dir: &Path) -> (Vec<f32>, Vec<f32>) {
    cli::write_clusters(dir, N, NQ, D)
}

const DATA: &[&str] = &["--dataset", "base.npy", "--queries", "q.fvecs", "--threads", "2", "--quiet"];

/// Recall@10 and @100 of `found` (K per query) against the exact top 100.
fn recalls(exact: &[i64], found: &[i64]) -> [f64; 2] {
    [10, 100].map(|at| vq::metrics::recall_at_k(exact, 100, found, K, at).unwrap())
}

/// The library's fast-scan recalls of `pq` over the packed codes of `rows` (the rows as
/// `pq` sees them, rotated for OPQ), searched with `queries` (likewise): re-ranked with
/// the float tables, then against `rows` when `refine`.
fn library_fast_scan(
    pq: &ProductQuantizer,
    rows: &[f32],
    queries: &[f32],
    factor: usize,
    exact: &[i64],
    refine: bool,
) -> ([f64; 2], Option<[f64; 2]>) {
    let mut codes = vec![0u8; N * pq.code_size()];
    pq.encode(rows, &mut codes).unwrap();
    let packed = PackedCodes::pack(pq, &codes).unwrap();
    let params = FastScanParams { rerank_factor: factor };
    let (mut dist, mut found) = (vec![0f32; NQ * K], vec![0i64; NQ * K]);
    pq.search_packed(queries, &packed, K, &params, &mut dist, &mut found).unwrap();
    let fast = recalls(exact, &found);
    let refined = refine.then(|| {
        pq.search_packed_refine(queries, &packed, K, &params, rows, &mut dist, &mut found).unwrap();
        recalls(exact, &found)
    });
    (fast, refined)
}

/// Asserts `m`'s fast-scan recalls are `want` (and the refined ones, or their absence).
fn assert_fast_scan(what: &str, m: &Map<String, Value>, want: ([f64; 2], Option<[f64; 2]>)) {
    for (i, at) in [10, 100].into_iter().enumerate() {
        near(what, m, &format!("recall_fastscan@{at}"), want.0[i], 1e-12);
        match want.1 {
            Some(r) => near(what, m, &format!("recall_fastscan_refined@{at}"), r[i], 1e-12),
            None => assert!(m.get(&format!("recall_fastscan_refined@{at}")).is_none(), "{what}: refined @{at}"),
        }
    }
    for key in ["fastscan_search_seconds", "fastscan_search_qps", "fastscan_ns_per_code", "fastscan_pack_seconds"] {
        assert!(m[key].as_f64().is_some_and(|v| v > 0.0), "{what}: {key} = {:?}", m.get(key));
    }
    let refined_qps = m.get("fastscan_refined_search_qps").and_then(Value::as_f64);
    assert_eq!(refined_qps.is_some_and(|v| v > 0.0), want.1.is_some(), "{what}: fastscan_refined_search_qps");
}

#[test]
fn a_fast_scanned_sweep_logs_the_librarys_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let iters = OPQ_ITERS.to_string();
    let args = [
        &["sweep", "--methods", "pq,opq,sq", "--pq-chunks", "4,5", "--pq-clusters", "16,256"][..],
        &["--opq-quantizers", "4", "--opq-bits", "4", "--opq-iterations", &iters, "--sq-bits", "8"],
        &["--pq-fast-scan", "--pq-rerank-factor", "3", "--in-memory"],
        &["--sweep-id", "fs_test", "--db", "r.db", "--csv", "r.csv"],
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
            "pq Some(Number(4)) Some(Number(256)) None",
            "pq Some(Number(5)) Some(Number(16)) None",
            "pq Some(Number(5)) Some(Number(256)) None",
            "opq Some(Number(4)) Some(Number(16)) None",
            "sq None None Some(Number(8))",
        ]
    );
    let exact = exact_top100(Metric::L2, (&base, &queries, D));

    // 4-bit PQ: packed, fast-scanned with factor 3, re-ranked with the float tables and
    // against the base. m = 5 is odd: the packed groups pad a sub-quantizer.
    for (i, m_sub) in [(0, 4), (2, 5)] {
        let (c, m) = (&logged[i].1, &logged[i].2);
        let what = format!("pq {m_sub}x16");
        assert_eq!((c["fast_scan"].as_bool(), c["rerank_factor"].as_u64()), (Some(true), Some(3)), "{what}");
        assert_eq!(c["fast_scan_refine"], "against the base in memory", "{what}");
        let pq = ProductQuantizer::train(D, &base, &sweep_pq_params(m_sub, 16, Metric::L2)).unwrap();
        assert_fast_scan(&what, m, library_fast_scan(&pq, &base, &queries, 3, &exact, true));
        // The re-ranked fast scan is as good as the float-table search here, and the
        // full vectors make it better.
        let f = |k: &str| m[k].as_f64().unwrap();
        assert!(f("recall_fastscan_refined@10") > f("recall_fastscan@10"), "{what}: {m:?}");
        assert!(f("recall_fastscan@10") >= f("recall@10") - 0.05, "{what}: {m:?}");
    }
    // 256 centroids: logged without the fast scan, and why.
    for i in [1, 3] {
        let (c, m) = (&logged[i].1, &logged[i].2);
        assert_eq!(c["fast_scan"].as_bool(), Some(false));
        assert!(c["fast_scan_skipped"].as_str().unwrap().starts_with("256 centroids per sub-quantizer"), "{c:?}");
        assert!(c.get("fast_scan_refine").is_none() && m.get("recall_fastscan@10").is_none(), "{c:?} {m:?}");
    }
    // OPQ: its inner PQ over the rotated rows, the queries rotated too.
    let opq = OpqQuantizer::train(D, &base, &sweep_opq_params(4, 16, Metric::L2, OPQ_ITERS)).unwrap();
    let rotate = |x: &[f32]| {
        let mut out = vec![0f32; x.len() / D * opq.d_out()];
        opq.rotate(x, &mut out).unwrap();
        out
    };
    let (c, m) = (&logged[4].1, &logged[4].2);
    assert_eq!((c["fast_scan"].as_bool(), c["rerank_factor"].as_u64()), (Some(true), Some(3)));
    let want = library_fast_scan(opq.pq(), &rotate(&base), &rotate(&queries), 3, &exact, true);
    assert_fast_scan("opq 4x16", m, want);
    // SQ is not a PQ: no fast-scan keys at all.
    let (c, m) = (&logged[5].1, &logged[5].2);
    assert!(c.keys().all(|k| !k.contains("fast_scan") && k != "rerank_factor"), "{c:?}");
    assert!(m.keys().all(|k| !k.contains("fastscan")), "{m:?}");

    // The CSV: the factor and the four recalls for the scanned runs, empty cells elsewhere.
    let csv = cli::csv_cells(&std::fs::read_to_string(dir.join("r.csv")).unwrap());
    let col = |name: &str| csv[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} column"));
    for (row, (_, c, m)) in csv[1..].iter().zip(&logged) {
        let scanned = c.get("fast_scan").and_then(Value::as_bool) == Some(true);
        let factor = if c.contains_key("rerank_factor") { "3" } else { "" };
        assert_eq!(row[col("rerank_factor")], factor, "{c:?}");
        for key in [
            "recall_fastscan@10",
            "recall_fastscan@100",
            "recall_fastscan_refined@10",
            "recall_fastscan_refined@100",
            "fastscan_search_qps",
        ] {
            let want = m.get(key).map_or(String::new(), Value::to_string);
            assert_eq!(row[col(key)], want, "{key}");
            assert_eq!(want.is_empty(), !scanned, "{key} of {c:?}");
        }
    }
}

/// A factor covering every code (k × factor ≥ rows) re-ranks the whole base with the float
/// tables: the plain ADC search. Factor 0 logs the 8-bit sums alone and no refined search;
/// a streamed base logs no refined search and says why.
#[test]
fn factors_and_streamed_bases() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (base, queries) = write_data(dir);
    let run = ["run", "--method", "pq", "--num-chunks", "4", "--num-clusters", "16", "--pq-fast-scan"];
    let every = N.div_ceil(K).to_string();
    ok(dir, &[&run[..], &["--pq-rerank-factor", &every, "--in-memory", "--db", "all.db"], DATA].concat());
    let (c, m) = (&runs::runs(&dir.join("all.db"))[0].1, &runs::runs(&dir.join("all.db"))[0].2);
    assert_eq!(c["rerank_factor"].as_u64(), Some(N.div_ceil(K) as u64));
    for at in [10, 100] {
        let (fast, plain) = (m[&format!("recall_fastscan@{at}")].as_f64(), m[&format!("recall@{at}")].as_f64());
        assert!(fast.is_some() && fast == plain, "@{at}: fast scan {fast:?}, plain search {plain:?}");
    }

    let exact = exact_top100(Metric::L2, (&base, &queries, D));
    let pq = ProductQuantizer::train(D, &base, &sweep_pq_params(4, 16, Metric::L2)).unwrap();
    ok(dir, &[&run[..], &["--pq-rerank-factor", "0", "--in-memory", "--db", "zero.db"], DATA].concat());
    let (c, m) = (&runs::runs(&dir.join("zero.db"))[0].1, &runs::runs(&dir.join("zero.db"))[0].2);
    assert_eq!(c["rerank_factor"].as_u64(), Some(0));
    assert!(c["fast_scan_refine"].as_str().unwrap().starts_with("not run: --pq-rerank-factor 0"), "{c:?}");
    assert_fast_scan("factor 0", m, (library_fast_scan(&pq, &base, &queries, 0, &exact, false).0, None));

    // Streamed (no --in-memory), the library's default factor.
    ok(dir, &[&run[..], &["--db", "streamed.db"], DATA].concat());
    let (c, m) = (&runs::runs(&dir.join("streamed.db"))[0].1, &runs::runs(&dir.join("streamed.db"))[0].2);
    let default = FastScanParams::default().rerank_factor;
    assert_eq!(c["rerank_factor"].as_u64(), Some(default as u64));
    assert!(c["fast_scan_refine"].as_str().unwrap().starts_with("skipped: the base was streamed"), "{c:?}");
    assert_fast_scan("streamed", m, (library_fast_scan(&pq, &base, &queries, default, &exact, false).0, None));

    // Inner product: the fast scan follows --metric.
    ok(dir, &[&run[..], &["--metric", "ip", "--in-memory", "--db", "ip.db"], DATA].concat());
    let m = &runs::runs(&dir.join("ip.db"))[0].2;
    let exact = exact_top100(Metric::InnerProduct, (&base, &queries, D));
    let pq = ProductQuantizer::train(D, &base, &sweep_pq_params(4, 16, Metric::InnerProduct)).unwrap();
    assert_fast_scan("ip", m, library_fast_scan(&pq, &base, &queries, default, &exact, true));
}

/// `--resume` counts a run as done only under the same fast-scan settings: a PQ run logged
/// with another factor (or without the fast scan) is run again; SQ runs are not.
#[test]
fn resume_tells_factors_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    let sweep = [
        &["sweep", "--methods", "pq,sq", "--pq-chunks", "4", "--pq-clusters", "16", "--sq-bits", "8"][..],
        &["--sweep-id", "resumed", "--db", "r.db", "--resume"],
        DATA,
    ]
    .concat();
    let count = || runs::runs(&dir.join("r.db")).len();
    ok(dir, &[&sweep[..], &["--pq-fast-scan", "--pq-rerank-factor", "3"]].concat());
    assert_eq!(count(), 2);
    ok(dir, &[&sweep[..], &["--pq-fast-scan", "--pq-rerank-factor", "3"]].concat());
    assert_eq!(count(), 2, "the same settings: nothing left to run");
    ok(dir, &[&sweep[..], &["--pq-fast-scan", "--pq-rerank-factor", "5"]].concat());
    assert_eq!(count(), 3, "another factor: the PQ run again, not the SQ run");
    ok(dir, &sweep);
    assert_eq!(count(), 4, "without the fast scan: the PQ run again");
    let factors: Vec<Option<u64>> =
        runs::runs(&dir.join("r.db")).iter().map(|r| r.1.get("rerank_factor").and_then(Value::as_u64)).collect();
    assert_eq!(factors, [Some(3), None, Some(5), None]);
}

#[test]
fn bad_fast_scan_input_is_one_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_data(dir);
    // A run log that exists, so "unchanged" is checked against real content.
    ok(dir, &[&["run", "--method", "pq", "--num-clusters", "16", "--pq-fast-scan", "--db", "r.db"][..], DATA].concat());
    let range = "PQ fast-scan re-rank factor is out of range, expected 0..=1000000 (0: no re-ranking)";
    let pq16 = ["--method", "pq", "--pq-clusters", "16"];
    let cases: Vec<(Vec<&str>, String)> = vec![
        ([&["sweep"][..], &pq16, &["--pq-fast-scan", "--pq-rerank-factor", "-1"]].concat(), format!("-1 {range}")),
        ([&["sweep"][..], &pq16, &["--pq-fast-scan", "--pq-rerank-factor", "1000001"]].concat(), format!("1000001 {range}")),
        (
            [&["sweep"][..], &pq16, &["--pq-fast-scan", "--pq-rerank-factor", "four"]].concat(),
            "'four' is not an integer, expected 0..=1000000".into(),
        ),
        ([&["sweep"][..], &pq16, &["--pq-rerank-factor", "2"]].concat(), "--pq-fast-scan".into()),
        (
            vec!["sweep", "--method", "sq", "--pq-fast-scan"],
            "--pq-fast-scan applies to --method pq (and opq); add pq to --method or drop it".into(),
        ),
        (
            vec!["sweep", "--method", "pq", "--pq-clusters", "64,256", "--pq-fast-scan"],
            "--pq-fast-scan needs a PQ or OPQ run with 2..=16 centroids per sub-quantizer (4-bit codes), this one has 64, 256; \
             set --pq-clusters 16 or --pq-bits 4 (OPQ: --opq-bits 4)"
                .into(),
        ),
        (
            vec!["run", "--method", "opq", "--num-clusters", "256", "--pq-fast-scan"],
            "this one has 256; set --num-clusters 16".into(),
        ),
    ];
    for (args, want) in &cases {
        fails_cleanly(dir, &[&args[..], &["--db", "r.db", "--csv", "r.csv"], DATA].concat(), want);
    }
}
