//! Running the `vq-benchmark` binary in the end-to-end tests (included with `#[path]` by
//! the CLI test crates, which are built with the binary).
// Each including crate uses some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");

/// Runs the binary in `dir`. Tests never reach the network: Hub datasets come from the
/// cache only.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("DB_PATH")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .expect("binary runs")
}

/// Runs the binary in `dir`, expecting success; its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the binary in `dir`, expecting it to fail with one line of stderr naming `want`
/// and to leave every file under `dir` as it was.
pub fn fails_cleanly(dir: &Path, args: &[&str], want: &str) {
    let before = files_under(dir);
    let out = run(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: not one line:\n{err}");
    assert!(err.contains(want), "{args:?}: {err:?} does not name {want:?}");
    assert!(files_under(dir) == before, "{args:?} wrote or changed files");
}

/// `base` as `base.npy` and `queries` as `q.fvecs` in `dir`, rows of `dim`: the files the
/// CLI tests' sweeps read.
pub fn write_base_and_queries(dir: &Path, base: &[f32], queries: &[f32], dim: usize) {
    let mut w = vq::data::VectorWriter::create(&dir.join("base.npy"), dim).unwrap();
    w.write_rows(base).unwrap();
    w.finish().unwrap();
    vq::data::texmex::write_fvecs(&dir.join("q.fvecs"), queries, dim).unwrap();
}

/// `base.npy` (`n` rows) and `q.fvecs` (`nq` rows) of dimension `dim` in `dir`: seeded
/// clusters (each row one of 8 centres plus noise), so the nearest neighbours stand apart
/// and recall means something. Returns (base, queries).
pub fn write_clusters(dir: &Path, n: usize, nq: usize, dim: usize) -> (Vec<f32>, Vec<f32>) {
    let centres = super::common::floats(8 * dim, 7, 2.0);
    let rows = |n: usize, seed: u64| -> Vec<f32> {
        let noise = super::common::floats(n * dim, seed, 0.6);
        (0..n * dim).map(|i| centres[(i / dim % 8) * dim + i % dim] + noise[i]).collect()
    };
    let (base, queries) = (rows(n, 1), rows(nq, 2));
    write_base_and_queries(dir, &base, &queries, dim);
    (base, queries)
}

/// Every file under `dir`, with its bytes, sorted by path: two snapshots are equal when
/// nothing was written, changed or removed.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// The cells of every line of CSV `text` (header first), quoted fields unquoted, so a comma
/// in a CPU's name or a dataset's path does not shift the columns after it.
pub fn csv_cells(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
            let mut chars = line.chars().peekable();
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cell.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(std::mem::take(&mut cell)),
                    _ => cell.push(c),
                }
            }
            cells.push(cell);
            cells
        })
        .collect()
}
