//! End-to-end tests of the `vq-benchmark` binary, each in its own temporary directory:
//! the run log and the original tool's SQL queries, the CSV, export, plots, ground truth,
//! dataset formats, the in-place upgrade of an old log, and every bad input (one line, a
//! non-zero exit, and the database and output files untouched).
#![cfg(feature = "cli")]

#[path = "common/cli.rs"]
mod cli;
mod common;

use cli::{fails_cleanly, files_under, ok, run, BIN};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use vq::{PqParams, ProductQuantizer, Quantizer};

/// Small dummy data so a sweep takes well under a second.
const SMALL: &[&str] = &["--num-samples", "600", "--dim", "32", "--num-queries", "20", "--threads", "2", "--quiet"];

fn sweep_id(stdout: &str) -> String {
    let at = stdout.find("sweep_").expect("a sweep id is printed");
    stdout[at..at + "sweep_YYYYMMDD_HHMMSS_".len() + 8].to_string()
}

fn write_fvecs(path: &Path, data: &[f32], dim: usize) {
    vq::data::texmex::write_fvecs(path, data, dim).unwrap();
}

#[test]
fn info_names_the_levels_the_library_runs() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<&str> = vq::simd::available().iter().map(|l| l.name()).collect();
    assert_eq!(ok(dir.path(), &["info", "--simd-levels"]).lines().collect::<Vec<_>>(), names);
    let out = Command::new(BIN).args(["info"]).env("VQ_SIMD", "scalar").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("simd level: scalar (detected "), "{text}");
    assert!(text.contains(&format!("available: {}", names.join(", "))), "{text}");
}

#[test]
fn sweep_logs_one_row_per_configuration_and_the_original_queries_work() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["sweep", "--pq-chunks", "2,4", "--pq-clusters", "16,32"];
    args.extend_from_slice(SMALL);
    let out = ok(dir, &args);
    let id = sweep_id(&out);
    let hint = format!("plot --sweep-id {id}");
    let (first, last) = (out.lines().next().unwrap(), out.lines().last().unwrap());
    assert!(first.contains(&hint) && last.contains(&hint), "the id and the plot hint at start and end:\n{out}");

    let db = Connection::open(dir.join("logs/benchmark_runs.db")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT config_json, json_extract(metrics_json, '$.compression_ratio'), \
             json_extract(metrics_json, '$.recall@10'), json_extract(metrics_json, '$.reconstruction_distortion') \
             FROM runs WHERE sweep_id = ?1 ORDER BY id",
        )
        .unwrap();
    let rows: Vec<(String, f64, f64, f64)> = stmt
        .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 4, "exactly the grid size");
    let (base, _) = vq::synthetic::gaussian_demo(600, 32, 20, 42);
    for ((config, ratio, recall, mse), (m, ksub)) in rows.iter().zip([(2u64, 16u64), (2, 32), (4, 16), (4, 32)]) {
        let c: serde_json::Value = serde_json::from_str(config).unwrap();
        assert_eq!((c["num_chunks"].as_u64(), c["num_clusters"].as_u64()), (Some(m), Some(ksub)));
        // Bytes as stored: two 16-centroid sub-codes share a byte, a 32-centroid one takes one.
        let code_bytes = if ksub <= 16 { m.div_ceil(2) } else { m };
        assert_eq!(*ratio, (4 * 32) as f64 / code_bytes as f64);
        assert!((0.0..=1.0).contains(recall));
        // The logged MSE is the library's on the same data and settings (training is
        // seeded and thread-count independent, so this is exact).
        let mut p = PqParams::new(m as usize, ksub as usize);
        p.kmeans.seed = 42;
        // The sweep's defaults: random seeding, stopping at 0.3% improvement, then four
        // Hartigan passes.
        p.kmeans.tol = 3e-3;
        p.kmeans.hartigan_passes = 4;
        let pq = ProductQuantizer::train(32, &base, &p).unwrap();
        let mut codes = vec![0u8; 600 * pq.code_size()];
        pq.encode(&base, &mut codes).unwrap();
        let mut rec = vec![0f32; base.len()];
        pq.decode(&codes, &mut rec).unwrap();
        let want = vq::metrics::reconstruction_mse(32, &base, &rec).unwrap();
        assert!((mse - want).abs() <= 1e-9 * want, "{mse} vs {want}");
    }
    assert!(rows[3].3 < rows[0].3, "4x32 reconstructs better than 2x16");

    // vq's extra columns and metrics are filled in.
    let (simd, threads, seed, fp, wall, metrics): (String, i64, i64, String, f64, String) = db
        .query_row(
            "SELECT simd_level, threads, seed, dataset_fingerprint, wall_seconds, metrics_json FROM runs LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap();
    assert_eq!(simd, vq::simd_level().name());
    assert_eq!((threads, seed), (2, 42));
    assert!(fp.starts_with("vqfp1:600x32+20:"), "{fp}");
    assert!(wall > 0.0);
    let m: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    for key in [
        "pairwise_distortion_mean",
        "pairwise_distortion_median",
        "pairwise_distortion_max",
        "pairwise_distortion_std",
        "rank_distortion@10",
        "recall@100",
        "bytes_per_vector",
        "train_seconds",
        "encode_seconds",
        "search_qps",
    ] {
        assert!(m[key].as_f64().is_some(), "metrics_json lacks {key}: {metrics}");
    }
    let r10 = m["recall@10"].as_f64().unwrap();
    assert!((m["rank_distortion@10"].as_f64().unwrap() - (1.0 - r10)).abs() < 1e-12);

    // The sweep's CSV: the stable header and one row per run; export writes the same text.
    let csv_path = dir.join(format!("logs/{id}.csv"));
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("id,timestamp,sweep_id,method,dataset,num_chunks,num_clusters,num_bits,compression_ratio,")
    );
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), 4);
    let col = |name: &str| header.split(',').position(|h| h == name).unwrap();
    let first: Vec<&str> = body[0].split(',').collect();
    assert_eq!((first[col("method")], first[col("num_chunks")], first[col("num_clusters")]), ("pq", "2", "16"));
    assert_eq!(first[col("compression_ratio")].parse::<f64>().unwrap(), 128.0);
    ok(dir, &["export", "--sweep-id", &id, "-o", "export.csv"]);
    assert_eq!(std::fs::read_to_string(dir.join("export.csv")).unwrap(), csv);
    let all = ok(dir, &["export"]);
    assert_eq!(all, csv, "export without --sweep-id: every run, here the same four");

    // plot: four SVGs and the table, in a new time-stamped directory per call.
    let p1 = ok(dir, &["plot", "--sweep-id", &id]);
    let p2 = ok(dir, &["plot", "--sweep-id", &id, "--separate-methods"]);
    let dirs: Vec<PathBuf> = std::fs::read_dir(dir.join("plots")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(dirs.len(), 2, "{p1}{p2}");
    let combined = dirs.iter().find(|d| d.join("compression_vs_distortion.svg").exists()).expect("combined set");
    for f in
        ["compression_vs_distortion.svg", "compression_vs_recall.svg", "pairwise_distortion.svg", "rank_distortion.svg"]
    {
        let svg = std::fs::read_to_string(combined.join(f)).unwrap();
        assert!(svg.contains("<svg") && svg.contains("Pareto-optimal"), "{f}");
        assert!(svg.contains("PQ 4x32"), "{f}: the best configuration is labelled");
    }
    let table = std::fs::read_to_string(combined.join("comparison_table.md")).unwrap();
    assert_eq!(table.lines().filter(|l| l.starts_with("| PQ ")).count(), 4, "{table}");
    let separate = dirs.iter().find(|d| d.join("pq").is_dir()).expect("per-method set");
    assert!(separate.join("pq/compression_vs_recall.svg").exists());
}

/// The original tool's table, as an old log has it (no vq columns).
const ORIGINAL_SCHEMA: &str = "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, timestamp TEXT, \
    git_branch TEXT, git_commit TEXT, package_version TEXT, method TEXT, dataset TEXT, cli_command TEXT, \
    metrics_json TEXT, config_json TEXT, sweep_id TEXT)";

#[test]
fn an_original_tool_database_is_upgraded_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let db_path = dir.join("old.db");
    {
        let db = Connection::open(&db_path).unwrap();
        db.execute_batch(ORIGINAL_SCHEMA).unwrap();
        db.execute(
            "INSERT INTO runs (timestamp, method, dataset, metrics_json, config_json, sweep_id) VALUES \
             ('2025-01-01T00:00:00', 'pq', 'dummy', '{\"compression_ratio\": 128.0, \"recall@10\": 0.25}', \
              '{\"num_chunks\": 8, \"num_clusters\": 256}', 'sweep_20250101_000000_deadbeef')",
            [],
        )
        .unwrap();
    }
    let mut args = vec!["run", "--method", "sq", "--sq-bits", "4", "--db", "old.db"];
    args.extend_from_slice(SMALL);
    ok(dir, &args);
    let db = Connection::open(&db_path).unwrap();
    let n: i64 = db.query_row("SELECT count(*) FROM runs", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
    let old: (String, Option<String>) = db
        .query_row("SELECT json_extract(metrics_json, '$.recall@10'), simd_level FROM runs WHERE id = 1", [], |r| {
            Ok((r.get::<_, f64>(0)?.to_string(), r.get(1)?))
        })
        .unwrap();
    assert_eq!(old, ("0.25".to_string(), None), "the old run is kept as it was");
    let new: (String, Option<String>, f64) = db
        .query_row(
            "SELECT method, sweep_id, json_extract(metrics_json, '$.compression_ratio') FROM runs WHERE id = 2",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(new, ("sq".to_string(), None, 8.0), "`run` has no sweep id; 4-bit SQ is 8x");
    // Plot and export read the old run too.
    let csv = ok(dir, &["export", "--db", "old.db"]);
    assert_eq!(csv.lines().count(), 3);
    ok(dir, &["plot", "--db", "old.db", "--sweep-id", "sweep_20250101_000000_deadbeef"]);
}

#[test]
fn files_ground_truth_and_formats_agree() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (d, n, nq) = (24, 400, 15);
    let base = common::floats(n * d, 7, 1.0);
    let queries = common::floats(nq * d, 8, 1.0);
    write_fvecs(&dir.join("base.fvecs"), &base, d);
    write_fvecs(&dir.join("q.fvecs"), &queries, d);
    // .npy (f64) with the same values: the same dataset fingerprint.
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let mut h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({n}, {d}), }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    npy.extend_from_slice(&(h.len() as u16).to_le_bytes());
    npy.extend_from_slice(h.as_bytes());
    for v in &base {
        npy.extend_from_slice(&(*v as f64).to_le_bytes());
    }
    std::fs::write(dir.join("base.npy"), npy).unwrap();

    // gt writes the exact neighbours: check them against the library's brute force.
    ok(
        dir,
        &[
            "gt",
            "--dataset",
            "base.fvecs",
            "--queries",
            "q.fvecs",
            "-k",
            "100",
            "-o",
            "gt.ivecs",
            "--threads",
            "2",
            "-q",
        ],
    );
    let (ids, k) = vq::data::texmex::read_ivecs(&dir.join("gt.ivecs")).unwrap();
    assert_eq!((k, ids.len()), (100, nq * 100));
    let (mut dist, mut want) = (vec![0f32; nq * 100], vec![0i64; nq * 100]);
    vq::search::knn(d, &queries, &base, 100, &mut dist, &mut want).unwrap();
    assert_eq!(ids.iter().map(|&i| i as i64).collect::<Vec<_>>(), want);

    let common_args = ["--pq-chunks", "4", "--pq-clusters", "16", "--queries", "q.fvecs", "--quiet", "--threads", "2"];
    let mut a = vec!["sweep", "--dataset", "base.fvecs", "--db", "a.db"];
    a.extend_from_slice(&common_args);
    ok(dir, &a);
    let mut b = vec!["sweep", "--dataset", "base.npy", "--db", "b.db", "--ground-truth", "gt.ivecs"];
    b.extend_from_slice(&common_args);
    ok(dir, &b);
    let row = |db: &str| -> (String, f64, f64, f64) {
        Connection::open(dir.join(db))
            .unwrap()
            .query_row(
                "SELECT dataset_fingerprint, json_extract(metrics_json, '$.recall@10'), \
                 json_extract(metrics_json, '$.recall@100'), json_extract(metrics_json, '$.reconstruction_distortion') FROM runs",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap()
    };
    let (ra, rb) = (row("a.db"), row("b.db"));
    assert_eq!(ra, rb, "same data from .fvecs and .npy, truth computed or read: same run");
    assert!(ra.0.starts_with(&format!("vqfp1:{n}x{d}+{nq}:")));

    // The same rows as a folder of float16 .npy shards (the values are f16-exact multiples
    // of 1/256): the same dataset, read across the shard boundary.
    let rounded: Vec<f32> = base.iter().map(|v| (v * 256.0).round() / 256.0).collect();
    write_fvecs(&dir.join("rounded.fvecs"), &rounded, d);
    std::fs::create_dir(dir.join("shards")).unwrap();
    for (i, rows) in [&rounded[..150 * d], &rounded[150 * d..]].into_iter().enumerate() {
        let mut npy = vq::data::npy_header("<f2", (rows.len() / d) as u64, d);
        npy.extend(rows.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()));
        std::fs::write(dir.join(format!("shards/part-{i}.npy")), npy).unwrap();
    }
    for (data, db) in [("rounded.fvecs", "r1.db"), ("shards", "r2.db")] {
        let mut a = vec!["sweep", "--dataset", data, "--db", db];
        a.extend_from_slice(&common_args);
        ok(dir, &a);
    }
    assert_eq!(row("r1.db"), row("r2.db"), "a folder of shards reads as the file of its rows");
    let (bytes, passes): (i64, i64) = Connection::open(dir.join("r2.db"))
        .unwrap()
        .query_row(
            "SELECT json_extract(metrics_json, '$.dataset_bytes_read'), json_extract(metrics_json, '$.dataset_passes') FROM runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    // PQ 4x16 trains on every row (the base is smaller than its 16 × 256 sample): the
    // rows of the quick fingerprint (at most 257), the training sample, and one pass.
    assert_eq!(passes, 1);
    assert_eq!(bytes as usize, (n.min(257) + n + n) * d * 2, "the shards: fingerprint rows, sample, one pass");

    // Without --queries, rows are held out of the base.
    ok(
        dir,
        &[
            "run",
            "--dataset",
            "base.fvecs",
            "--num-queries",
            "25",
            "--db",
            "c.db",
            "--num-chunks",
            "4",
            "--num-clusters",
            "16",
            "-q",
        ],
    );
    let (nb, nqq): (i64, i64) = Connection::open(dir.join("c.db"))
        .unwrap()
        .query_row(
            "SELECT json_extract(metrics_json, '$.num_base'), json_extract(metrics_json, '$.num_queries') FROM runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((nb, nqq), (n as i64 - 25, 25));
}

/// Every bad input: one line on stderr that names the problem, a non-zero exit, and the
/// existing run log, CSV and output directory byte for byte as they were.
#[test]
fn bad_input_is_one_line_and_touches_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["sweep", "--pq-chunks", "2", "--pq-clusters", "16", "--csv", "out.csv"];
    args.extend_from_slice(SMALL);
    ok(dir, &args);
    let (d, n) = (32, 300);
    write_fvecs(&dir.join("good.fvecs"), &common::floats(n * d, 1, 1.0), d);
    write_fvecs(&dir.join("q16.fvecs"), &common::floats(10 * 16, 2, 1.0), 16);
    let good = std::fs::read(dir.join("good.fvecs")).unwrap();
    std::fs::write(dir.join("truncated.fvecs"), &good[..good.len() - 7]).unwrap();
    std::fs::write(dir.join("garbage.fbin"), b"\x05\x00\x00\x00\x04\x00\x00\x00abc").unwrap();
    std::fs::write(dir.join("not_a_db.db"), b"plain text, not SQLite").unwrap();
    std::fs::create_dir(dir.join("mixed")).unwrap();
    write_fvecs(&dir.join("mixed/a.fvecs"), &common::floats(10 * d, 3, 1.0), d);
    write_fvecs(&dir.join("mixed/b.fvecs"), &common::floats(10 * 16, 4, 1.0), 16);
    let mut npy = vq::data::npy_header("<i8", 2, 2);
    npy.extend_from_slice(&[0; 32]);
    std::fs::write(dir.join("ints.npy"), npy).unwrap();
    let mut nan = common::floats(n * d, 5, 1.0);
    nan[250 * d + 3] = f32::NAN;
    write_fvecs(&dir.join("nan.fvecs"), &nan, d);

    let snapshot = files_under;
    let before = snapshot(dir);
    let cases: &[(&[&str], &str)] = &[
        (&["sweep", "--method", "lopq"], "unknown method 'lopq'"),
        (&["run", "--method", "lsh"], "'lsh'"),
        (&["sweep", "--pq-chunks", "4,,8"], "entry 2 of \"4,,8\" is empty"),
        (&["sweep", "--pq-chunks", "abc"], "'abc' is not an integer"),
        (&["sweep", "--pq-clusters", "0"], "0 is not allowed"),
        (&["sweep", "--pq-chunks", "-4"], "-4 is not allowed"),
        (&["sweep", "--num-samples", "0"], "0 is not allowed"),
        (&["sweep", "--num-queries", "-1"], "-1 is not allowed"),
        (&["run", "--num-clusters", "1"], "2..=65536"),
        (&["sweep", "--method", "sq", "--sq-bits", "4,7"], "7 bits is not supported"),
        (&["sweep", "--method", "sq", "--pq-chunks", "4"], "apply to --method pq"),
        (&["sweep", "--pq-clusters", "16", "--pq-bits", "4"], "cannot be used with"),
        (
            &["sweep", "--num-samples", "50", "--dim", "8", "--pq-chunks", "2", "--pq-clusters", "64"],
            "more than the 50 training vectors",
        ),
        (
            &["sweep", "--num-samples", "50", "--dim", "8", "--pq-chunks", "16", "--pq-clusters", "4"],
            "more than the dimension 8",
        ),
        (&["sweep", "--dataset", "missing.fvecs"], "missing.fvecs: no such file"),
        (&["sweep", "--dataset", "truncated.fvecs"], "truncated"),
        (&["sweep", "--dataset", "garbage.fbin"], "header says 5 rows of dimension 4"),
        (&["sweep", "--dataset", "good.fvecs", "--dim", "16"], "the file has dimension 32, but --dim 16"),
        (&["sweep", "--dataset", "good.fvecs", "--queries", "q16.fvecs"], "dimension 16 differs from the dataset's 32"),
        (&["sweep", "--dataset", "good.fvecs", "--num-queries", "300"], "leaves no base vectors"),
        (
            &["sweep", "--dataset", "huggingface", "--cache-dir", "no-hf-cache"],
            if cfg!(feature = "hub") { "is not in the cache" } else { "need the `hub` feature" },
        ),
        (&["sweep", "--dataset", "dbpedia-2m"], "a preset: huggingface, dbpedia-100k, dbpedia-1m"),
        (&["sweep", "--dataset", "good.txt"], "no such file"),
        (&["sweep", "--dataset", "mixed"], "dimension 16 differs from"),
        (&["sweep", "--dataset", "ints.npy"], "dtype '<i8' is not supported as vectors, accepted: <f4 >f4"),
        (&["sweep", "--dataset", "nan.fvecs"], "row 250 holds a non-finite value (NaN at dimension 3)"),
        (&["sweep", "--db", "not_a_db.db"], "not a SQLite database"),
        (&["sweep", "--csv", "logs"], "is a directory"),
        (&["sweep", "--save-models", "out.csv"], "exists and is not a directory"),
        (&["plot", "--sweep-id", "sweep_19700101_000000_00000000"], "no runs with this sweep id"),
        (&["plot", "--db", "nowhere.db"], "no such run log"),
        (&["export", "--sweep-id", "nope"], "no runs with this sweep id"),
        (&["gt", "--dataset", "good.fvecs", "--queries", "q16.fvecs", "-o", "gt.ivecs"], "dimension 16 differs"),
        (&["sweep", "--shard", "4/4"], "shard index 4 is out of range, expected 0..=3"),
        (&["sweep", "--shard", "a/3"], "'a' is not an integer"),
        (&["sweep", "--sweep-id", "a b"], "not a sweep id"),
        (&["sweep", "--slurm-script", "job.sh", "--shard", "0/2"], "cannot be used with"),
        (&["sweep", "--slurm-script", "job.sh", "--slurm-shards", "9"], "more than the 6 configuration(s)"),
        (&["merge", "not_a_db.db", "--db", "merged.db"], "not a SQLite database"),
        (&["merge", "missing.db", "--db", "merged.db"], "no such run log"),
        (&["merge", "logs/benchmark_runs.db", "--db", "logs/benchmark_runs.db"], "is the --db being merged into"),
    ];
    for (case, want) in cases {
        let mut a: Vec<&str> = case.to_vec();
        let is_run = matches!(case[0], "run" | "sweep");
        if is_run && !case.contains(&"--num-samples") && !case.contains(&"--dataset") {
            a.extend_from_slice(&["--num-samples", "600", "--dim", "32"]);
        }
        if is_run {
            a.extend_from_slice(&["--quiet", "--num-queries", "20"]);
            if !case.contains(&"--csv") {
                a.extend_from_slice(&["--csv", "out.csv"]);
            }
        }
        // A later duplicate --num-queries would override the case's own: keep the case's.
        if case.contains(&"--num-queries") {
            let at = a.iter().rposition(|&x| x == "--num-queries").unwrap();
            a.drain(at..at + 2);
        }
        let out = run(dir, &a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{case:?} succeeded");
        assert_eq!(err.trim_end().lines().count(), 1, "{case:?}: not one line:\n{err}");
        assert!(err.contains(want), "{case:?}: {err:?} does not name {want:?}");
        let after = snapshot(dir);
        let changed: Vec<_> = after.iter().filter(|f| !before.contains(f)).map(|f| &f.0).collect();
        let removed: Vec<_> = before.iter().filter(|f| !after.contains(f)).map(|f| &f.0).collect();
        assert!(changed.is_empty() && removed.is_empty(), "{case:?} changed {changed:?}, removed {removed:?}");
    }
}

#[test]
fn concurrent_sweeps_share_one_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spawn = |seed: &str| {
        Command::new(BIN)
            .args(["sweep", "--method", "sq", "--sq-bits", "4,8,16", "--seed", seed, "--db", "shared.db"])
            .args(SMALL)
            .current_dir(dir)
            .env_remove("DB_PATH")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // Four at once on a log none of them has created: each must wait its turn, including
    // for the journal-mode switch, which SQLite's busy handler does not cover.
    let children: Vec<_> = ["1", "2", "3", "4"].map(spawn).into_iter().collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let db = Connection::open(dir.join("shared.db")).unwrap();
    let (runs, sweeps): (i64, i64) = db
        .query_row("SELECT count(*), count(DISTINCT sweep_id) FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((runs, sweeps), (12, 4));
    let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn without_a_terminal_stderr_stays_clean_and_stdout_has_the_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(
        tmp.path(),
        &["sweep", "--method", "sq", "--sq-bits", "8", "--num-samples", "300", "--dim", "16", "--num-queries", "10"],
    );
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "no progress bars off a terminal: {:?}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let row = stdout.lines().find(|l| l.starts_with("SQ 8-bit")).expect("a summary row per run");
    assert!(row.split_whitespace().nth(2) == Some("4.0"), "{row}");
}

/// `--save-models DIR` keeps every run's quantizer as a model file that loads back to the
/// quantizer the library trains with the same settings, and the run's config names it.
#[test]
fn saved_models_load_back_to_the_trained_quantizers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["sweep", "--method", "pq,sq", "--pq-chunks", "4", "--pq-clusters", "16,32", "--sq-bits", "8"];
    args.extend_from_slice(SMALL);
    args.extend_from_slice(&["--save-models", "models/demo"]);
    let id = sweep_id(&ok(dir, &args));
    let db = Connection::open(dir.join("logs/benchmark_runs.db")).unwrap();
    let files: Vec<String> = db
        .prepare("SELECT json_extract(config_json, '$.model_file') FROM runs WHERE sweep_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([&id], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(std::fs::read_dir(dir.join("models/demo")).unwrap().count(), 3, "one file per run");
    let (base, _) = vq::synthetic::gaussian_demo(600, 32, 20, 42);
    for (file, ksub) in files.iter().take(2).zip([16usize, 32]) {
        assert!(file.ends_with(&format!("{id}_pq_4x{ksub}.vqm")), "{file}");
        let loaded = vq::format::read_file(&dir.join(file)).unwrap();
        let mut p = PqParams::new(4, ksub);
        p.kmeans.seed = 42;
        p.kmeans.tol = 3e-3;
        p.kmeans.hartigan_passes = 4;
        let want = ProductQuantizer::train(32, &base, &p).unwrap();
        let vq::format::Model::Pq(loaded) = loaded.model else { panic!("{file}: not a product quantizer") };
        assert_eq!(loaded, want);
        assert_eq!(loaded.training(), want.training());
        let t = loaded.training().expect("a training record");
        assert_eq!((t.seed, t.max_iter, t.init, t.tol), (42, 25, vq::kmeans::Init::Random, 3e-3));
        assert_eq!(t.hartigan_passes, 4);
    }
    let sq = vq::format::read_file(&dir.join(&files[2])).unwrap();
    assert!(matches!(sq.model, vq::format::Model::Sq(ref q) if q.dim() == 32), "{:?}", files[2]);
}

#[test]
fn the_newer_tools_flag_names_and_plotting_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // --pq-subquantizers = --pq-chunks, --dataset-limit = --num-samples, --db-path = --db.
    let newer = ["sweep", "--pq-subquantizers", "2,4", "--pq-clusters", "16", "--dataset-limit", "400", "--dim", "16"];
    let mut a = newer.to_vec();
    a.extend_from_slice(&["--num-queries", "10", "--quiet", "--db-path", "n.db"]);
    ok(dir, &a);
    let older = ["sweep", "--pq-chunks", "2,4", "--pq-clusters", "16", "--num-samples", "400", "--dim", "16"];
    let mut b = older.to_vec();
    b.extend_from_slice(&["--num-queries", "10", "--quiet", "--db", "n.db"]);
    ok(dir, &b);
    let db = Connection::open(dir.join("n.db")).unwrap();
    let mut stmt = db.prepare("SELECT sweep_id, config_json, metrics_json FROM runs ORDER BY id").unwrap();
    let rows: Vec<(String, String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 4);
    assert_ne!(rows[0].0, rows[2].0, "two sweeps");
    assert_eq!(rows[0].1, rows[2].1, "the same configuration either way");
    let mse = |m: &str| serde_json::from_str::<serde_json::Value>(m).unwrap()["reconstruction_distortion"].clone();
    assert_eq!(mse(&rows[1].2), mse(&rows[3].2));
    // `plot` with no --sweep-id plots every run, both sweeps combined, as the Guide says.
    let out = ok(dir, &["plot", "--db-path", "n.db", "--output", "plots"]);
    assert!(out.contains("for 4 run(s)"), "{out}");
    let out = ok(dir, &["export", "--db-path", "n.db"]);
    assert_eq!(out.lines().count(), 5);
    // --ground-truth-path = --ground-truth.
    let (d, n) = (16, 300);
    write_fvecs(&dir.join("b.fvecs"), &common::floats(n * d, 3, 1.0), d);
    write_fvecs(&dir.join("q.fvecs"), &common::floats(5 * d, 4, 1.0), d);
    ok(dir, &["gt", "--dataset", "b.fvecs", "--queries", "q.fvecs", "-k", "100", "-o", "gt.ivecs", "--quiet"]);
    let out = ok(
        dir,
        &[
            "sweep",
            "--dataset",
            "b.fvecs",
            "--queries",
            "q.fvecs",
            "--ground-truth-path",
            "gt.ivecs",
            "--pq-chunks",
            "2",
            "--pq-clusters",
            "16",
            "--quiet",
            "--db",
            "g.db",
        ],
    );
    assert!(out.contains("1 run(s) added"), "{out}");
    let source: String = Connection::open(dir.join("g.db"))
        .unwrap()
        .query_row("SELECT json_extract(config_json, '$.ground_truth') FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(source, "gt.ivecs");
}

/// `precompute-gt`: the first N rows as queries, searched among every row (themselves
/// included), as an int64 .npy that `vq::data::read_ids` reads; checked against a brute
/// force computed here.
#[test]
fn precompute_gt_is_the_brute_force_top_k_with_the_queries_in_the_base() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (n, d, nq, k) = (300, 8, 7, 10);
    let data = common::floats(n * d, 11, 1.0);
    let mut w = vq::data::VectorWriter::create(&dir.join("v.npy"), d).unwrap();
    w.write_rows(&data).unwrap();
    w.finish().unwrap();
    let args = ["precompute-gt", "--vectors-path", "v.npy", "--output-path", "out/gt.npy", "--num-queries", "7"];
    let out = ok(dir, &[&args[..], &["--k", "10", "--threads", "2", "--quiet"]].concat());
    assert!(out.contains("queries included"), "{out}");
    let bytes = std::fs::read(dir.join("out/gt.npy")).unwrap();
    assert!(String::from_utf8_lossy(&bytes[..128]).contains("'descr': '<i8'"), "int64 ids");
    let (ids, got_k) = vq::data::read_ids(&dir.join("out/gt.npy")).unwrap();
    assert_eq!((ids.len(), got_k), (nq * k, k));
    let dist = |a: usize, b: usize| -> f64 {
        (0..d).map(|j| f64::from(data[a * d + j] - data[b * d + j]).powi(2)).sum::<f64>()
    };
    for q in 0..nq {
        let mut all: Vec<(f64, i64)> = (0..n).map(|r| (dist(q, r), r as i64)).collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let want: Vec<i64> = all[..k].iter().map(|&(_, r)| r).collect();
        assert_eq!(&ids[q * k..(q + 1) * k], &want[..], "query {q}");
        assert_eq!(ids[q * k], q as i64, "a query is its own nearest neighbour");
    }
    // The defaults: 100 queries, k = 100.
    ok(dir, &["precompute-gt", "--vectors-path", "v.npy", "--output-path", "d.npy", "-q"]);
    let (ids, got_k) = vq::data::read_ids(&dir.join("d.npy")).unwrap();
    assert_eq!((ids.len(), got_k), (100 * 100, 100));

    let base = ["precompute-gt", "--vectors-path", "v.npy", "--output-path", "bad.npy"];
    let case = |extra: &[&'static str]| [&base[..], extra].concat();
    fails_cleanly(dir, &case(&["--num-queries", "301"]), "--num-queries 301 is more than the 300 rows");
    fails_cleanly(dir, &case(&["--k", "301"]), "--k 301 is more than the 300 rows");
    fails_cleanly(dir, &case(&["--k", "0"]), "0 is not allowed");
    fails_cleanly(dir, &case(&["--num-queries", "0"]), "0 is not allowed");
    fails_cleanly(
        dir,
        &["precompute-gt", "--vectors-path", "v.npy", "--output-path", "gt.ivecs"],
        "expected a .npy file",
    );
    fails_cleanly(dir, &["precompute-gt", "--vectors-path", "none.npy", "--output-path", "x.npy"], "no such file");
}

/// The newer tool's timing keys sit beside vq's in `metrics_json` and in the CSV, from the
/// same measurements.
#[test]
fn the_newer_tools_metric_keys_are_logged_and_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["sweep", "--method", "pq,sq", "--pq-chunks", "4", "--pq-clusters", "16", "--sq-bits", "8"];
    args.extend_from_slice(SMALL);
    ok(dir, &args);
    let db = Connection::open(dir.join("logs/benchmark_runs.db")).unwrap();
    let mut stmt = db.prepare("SELECT metrics_json FROM runs ORDER BY id").unwrap();
    let runs: Vec<String> = stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(runs.len(), 2);
    for r in &runs {
        let m: serde_json::Map<String, serde_json::Value> = serde_json::from_str(r).unwrap();
        let f = |k: &str| m.get(k).and_then(|v| v.as_f64()).unwrap_or_else(|| panic!("no {k} in {m:?}"));
        assert_eq!(f("qps"), f("search_qps"));
        assert!((f("avg_query_latency_ms") * f("qps") - 1000.0).abs() < 1e-6, "{m:?}");
        assert!((f("fit_latency_ms") - 1000.0 * f("train_seconds")).abs() < 1e-9);
        assert!((f("compression_latency_ms") - 1000.0 * f("encode_seconds")).abs() < 1e-9);
        assert!((f("decompression_latency_ms") - 1000.0 * f("decode_seconds")).abs() < 1e-9);
        assert!(f("decompression_latency_ms") > 0.0);
    }
    let csv = ok(dir, &["export"]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |k: &str| header.iter().position(|h| *h == k).unwrap_or_else(|| panic!("no {k} column"));
    let cell = |k: &str| row[at(k)].parse::<f64>().unwrap_or_else(|_| panic!("{k}: {:?}", row[at(k)]));
    assert_eq!(cell("qps"), cell("search_qps"));
    assert!((cell("avg_query_latency_ms") * cell("qps") - 1000.0).abs() < 1e-6);
    assert!(cell("fit_latency_ms") > 0.0 && cell("compression_latency_ms") > 0.0);
}

/// The plot set in every format: `pareto_frontier` beside the original plots; PNG of the
/// size --dpi asks, with text drawn from the embedded font; PDF; and bad values rejected
/// before anything is written.
#[test]
fn plot_formats_and_the_pareto_frontier() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["sweep", "--method", "pq,sq", "--pq-chunks", "2,4", "--pq-clusters", "16", "--sq-bits", "4,8"];
    args.extend_from_slice(SMALL);
    ok(dir, &args);
    let out = ok(dir, &["plot", "--output", "svg"]);
    assert!(out.contains("pareto_frontier.svg"), "{out}");
    let plots = |out: &str, ext: &str| -> Vec<PathBuf> {
        out.lines().map(str::trim).filter(|l| l.ends_with(ext)).map(|l| dir.join(l)).collect()
    };
    let svg = plots(&out, "pareto_frontier.svg");
    let text = std::fs::read_to_string(&svg[0]).unwrap();
    assert!(text.contains("Pareto frontier") && text.contains("recall@10"), "ranked by recall@10");
    assert_eq!(plots(&out, ".svg").len(), 5);

    fails_cleanly(dir, &["plot", "--format", "gif"], "invalid value 'gif'");
    fails_cleanly(dir, &["plot", "--dpi", "0"], "0 is not allowed");
    fails_cleanly(dir, &["plot", "--dpi", "1201"], "1..=1200");

    if !cfg!(feature = "raster") {
        fails_cleanly(dir, &["plot", "--format", "png"], "cargo install --path . --features raster");
        fails_cleanly(dir, &["plot", "--format", "pdf"], "`raster` feature");
        return;
    }
    let out = ok(dir, &["plot", "--output", "png", "--format", "png", "--dpi", "50", "--separate-methods"]);
    let pngs = plots(&out, ".png");
    assert_eq!(pngs.len(), 10, "{out}");
    assert!(pngs.iter().any(|p| p.ends_with("pq/pareto_frontier.png")), "{out}");
    let png = std::fs::read(&pngs[0]).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&png[12..16], b"IHDR");
    let size = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!((size(&png[16..20]), size(&png[20..24])), (480, 310), "9.6 × 6.2 in at 50 dpi");
    #[cfg(feature = "raster")]
    {
        // The title is text only: without a font it would be blank. Count its dark pixels.
        let at100 = ok(dir, &["plot", "--output", "png100", "--format", "png"]);
        let file = plots(&at100, "pareto_frontier.png");
        let img = resvg::tiny_skia::Pixmap::decode_png(&std::fs::read(&file[0]).unwrap()).unwrap();
        assert_eq!((img.width(), img.height()), (960, 620));
        let dark = (0..40)
            .flat_map(|y| (280..680).map(move |x| (x, y)))
            .filter(|&(x, y)| img.pixel(x, y).is_some_and(|p| p.red() < 128 && p.green() < 128 && p.blue() < 128))
            .count();
        assert!(dark > 200, "{dark} dark pixels where the title is");
    }
    let out = ok(dir, &["plot", "--output", "pdf", "--format", "pdf"]);
    let pdfs = plots(&out, ".pdf");
    assert_eq!(pdfs.len(), 5);
    let pdf = std::fs::read(&pdfs[0]).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(pdf.windows(6).any(|w| w == b"DejaVu"), "the embedded font is in the PDF");
}

/// Built without the `embed` feature, `embed` is still listed, and says how to get it.
#[cfg(not(feature = "embed"))]
#[test]
fn embed_without_the_feature_names_the_install_command() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("embed"));
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["embed", "--model", "m", "--texts", "t.txt", "--output"])
        .arg(dir.path().join("o.npy"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("`embed` feature") && err.contains("cargo install --path . --features embed"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
