//! A sweep over a file streams its base: the figures equal those of the same sweep with
//! the base in memory and with any batch size, the run log counts the passes and bytes it
//! read (one pass for all configurations, plus one when SQ trains on the whole base), and
//! `gen` writes the same clustered data for any thread count.
#![cfg(feature = "cli")]

#[path = "common/runs.rs"]
mod runs;

use runs::{quality, runs};
use rusqlite::Connection;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).current_dir(dir).env_remove("DB_PATH").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const GRID: &[&str] = &[
    "sweep",
    "--dataset",
    "base.fbin",
    "--queries",
    "base_queries.fbin",
    "--method",
    "pq,sq",
    "--pq-chunks",
    "4,8",
    "--pq-clusters",
    "16",
    "--sq-bits",
    "4,8",
    "--quiet",
    "--threads",
    "2",
];

#[test]
fn streamed_in_memory_and_any_batching_give_the_same_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (n, d) = (3000, 24);
    let out = ok(
        dir,
        &[
            "gen",
            "-o",
            "base.fbin",
            "--num-samples",
            "3000",
            "--num-queries",
            "50",
            "--dim",
            "24",
            "--clusters",
            "20",
            "--seed",
            "3",
            "--quiet",
        ],
    );
    assert!(out.contains("Wrote 3000 base rows"), "{out}");
    let with = |extra: &[&str], db: &str| {
        let mut a: Vec<&str> = GRID.to_vec();
        a.extend_from_slice(extra);
        a.extend_from_slice(&["--db", db]);
        ok(dir, &a)
    };
    let printed = with(&[], "stream.db");
    assert!(printed.contains("Data: 2 pass(es) over the base for 4 configuration(s)"), "{printed}");
    with(&["--in-memory"], "memory.db");
    with(&["--batch-size", "7"], "small.db");
    with(&["--batch-size", "1"], "one.db");
    // A training sample smaller than the base: SQ too trains on it, so one pass.
    let sampled = with(&["--train-size", "1000"], "sampled.db");
    assert!(sampled.contains("Data: 1 pass(es)"), "{sampled}");
    for (key, _, m) in runs(&dir.join("sampled.db")) {
        assert_eq!(m["dataset_bytes_read"].as_u64().unwrap() as usize, (257 + 1000 + n) * d * 4, "{key}");
    }
    let stream = runs(&dir.join("stream.db"));
    assert_eq!(stream.len(), 4);
    for other in ["memory.db", "small.db", "one.db"] {
        let o = runs(&dir.join(other));
        for ((ka, _, a), (kb, _, b)) in stream.iter().zip(&o) {
            assert_eq!(ka, kb);
            assert_eq!(quality(a), quality(b), "{other}: {ka}");
        }
    }
    // What was read: the quick fingerprint's 257 rows, one training sample for both PQs
    // (every row: the base is smaller than 16 × 256), a pass for the SQ ranges and one
    // pass for everything else.
    for (key, _, m) in &stream {
        assert_eq!(m["dataset_passes"], 2, "{key}");
        assert_eq!(m["dataset_bytes_read"].as_u64().unwrap() as usize, (257 + n + 2 * n) * d * 4, "{key}");
        assert!(m["recall@100"].as_f64().unwrap() > 0.5, "clustered data has neighbours: {key} {m:?}");
    }
    for (_, _, m) in runs(&dir.join("memory.db")) {
        assert_eq!(m["dataset_bytes_read"].as_u64().unwrap() as usize, (257 + n) * d * 4, "one read into memory");
    }
}

#[test]
fn a_pq_only_sweep_reads_the_base_once() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (n, d) = (2000, 16);
    ok(dir, &["gen", "-o", "b.npy", "--num-samples", "2000", "--num-queries", "20", "--dim", "16", "--quiet"]);
    let out = ok(
        dir,
        &[
            "sweep",
            "--dataset",
            "b.npy",
            "--queries",
            "b_queries.npy",
            "--pq-chunks",
            "2,4,8",
            "--pq-clusters",
            "16,32",
            "--train-size",
            "500",
            "--quiet",
            "--db",
            "x.db",
        ],
    );
    assert!(out.contains("Data: 1 pass(es) over the base for 6 configuration(s)"), "{out}");
    for (_, _, m) in runs(&dir.join("x.db")) {
        assert_eq!(m["dataset_bytes_read"].as_u64().unwrap() as usize, (257 + 500 + n) * d * 4);
    }
}

#[test]
fn gen_is_the_same_for_any_thread_count_and_checks_its_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let args = ["--num-samples", "20000", "--num-queries", "10", "--dim", "8", "--seed", "9", "--quiet"];
    let mut one = vec!["gen", "-o", "one.fbin", "--threads", "1"];
    one.extend_from_slice(&args);
    let mut two = vec!["gen", "-o", "two.fbin", "--threads", "2"];
    two.extend_from_slice(&args);
    ok(dir, &one);
    ok(dir, &two);
    let read = |p: &str| std::fs::read(dir.join(p)).unwrap();
    assert_eq!(read("one.fbin"), read("two.fbin"));
    assert_eq!(read("one_queries.fbin"), read("two_queries.fbin"));
    assert_eq!(read("one.fbin").len(), 8 + 20000 * 8 * 4);
    for (bad, want) in [
        (vec!["gen", "-o", "x.txt"], "cannot write this file type"),
        (vec!["gen", "-o", "x.fbin", "--spread", "0"], "'0' is not a number > 0"),
        (vec!["gen", "-o", "x.fbin", "--dim", "0"], "0 is not allowed"),
    ] {
        let out = Command::new(BIN).args(&bad).current_dir(dir).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{bad:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(!dir.join("x.fbin").exists() && !dir.join("x.txt").exists());
    }
}

#[test]
fn train_size_is_checked_against_the_base_and_the_centroids() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = [
        "sweep",
        "--num-samples",
        "600",
        "--dim",
        "16",
        "--num-queries",
        "10",
        "--pq-chunks",
        "4",
        "--pq-clusters",
        "32",
        "--quiet",
    ];
    for (extra, want) in [
        (["--train-size", "601"], "--train-size 601 is more than the 600 base vectors; expected 1..=600"),
        (["--train-size", "31"], "--train-size 31 is fewer than the 32 centroids of PQ 4x32; expected 32..=600"),
    ] {
        let mut a = base.to_vec();
        a.extend_from_slice(&extra);
        let out = Command::new(BIN).args(&a).current_dir(dir).env_remove("DB_PATH").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{extra:?}: {err}");
        assert!(!dir.join("logs").exists(), "nothing written");
    }
    let mut a = base.to_vec();
    a.extend_from_slice(&["--train-size", "100"]);
    ok(dir, &a);
    let m = runs(&dir.join("logs/benchmark_runs.db"));
    assert_eq!(m.len(), 1);
    let conn = Connection::open(dir.join("logs/benchmark_runs.db")).unwrap();
    let (size, rows): (i64, i64) = conn
        .query_row(
            "SELECT json_extract(config_json, '$.train_size'), json_extract(config_json, '$.kmeans.training_rows') FROM runs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((size, rows), (100, 100));
}
