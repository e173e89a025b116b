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
