//! The demo sweep as a 4-task Slurm job array on a real Slurm, merged by the chained job,
//! against the same sweep run locally. Needs a running cluster: `.ci/run` starts a private
//! single-node one with `scripts/slurm/check.sh` (or shows the leg as skipped) and runs
//! this test with `--ignored`.
#![cfg(feature = "cli")]

#[path = "common/runs.rs"]
mod runs;

use runs::results;
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");

/// The original tool's demo sweep (PQ 4/8/16 × 128/256 on 10,000 × 1024), one thread per
/// task so the local run's `config_json` is the same.
const DEMO: &[&str] = &["sweep", "--threads", "1", "--quiet"];

#[test]
#[ignore = "needs a running Slurm: .ci/run starts one with scripts/slurm/check.sh"]
fn a_four_shard_job_array_merges_to_the_local_sweep() {
    assert!(std::env::var_os("SLURM_CONF").is_some(), "SLURM_CONF is not set: start Slurm with scripts/slurm/start.sh");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let run = |args: &[&str]| {
        let out = Command::new(BIN).args(args).current_dir(dir).env_remove("DB_PATH").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let mut args = DEMO.to_vec();
    args.extend(["--slurm-script", "job.sh", "--slurm-shards", "4", "--db", "merged.db", "--sweep-id", "slurm_demo"]);
    let wrote = run(&args);
    let script = std::fs::read_to_string(dir.join("job.sh")).unwrap();
    assert!(script.contains("#SBATCH --array=0-3"), "{wrote}\n{script}");
    let out = Command::new("sbatch").args(["--parsable", "job.sh"]).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "sbatch: {}", String::from_utf8_lossy(&out.stderr));
    let job = String::from_utf8_lossy(&out.stdout).trim().split(';').next().unwrap().to_string();

    let mut local = DEMO.to_vec();
    local.extend(["--db", "local.db"]);
    run(&local);

    // The merge job writes the CSV last: its appearance means every shard is merged.
    let csv = dir.join("slurm_demo.csv");
    let start = Instant::now();
    while !csv.exists() {
        let queue = Command::new("squeue").args(["--noheader", "--states=all", "--user=root"]).output().unwrap();
        let queue = String::from_utf8_lossy(&queue.stdout);
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "job {job} not merged after 600 s; queue:\n{queue}\nshard output: {:?}",
            std::fs::read_dir(dir.join("slurm_demo_shards")).map(|d| d.count())
        );
        assert!(!queue.contains("FAILED") && !queue.contains("CANCELLED"), "job {job} failed:\n{queue}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let shards = std::fs::read_dir(dir.join("slurm_demo_shards")).unwrap();
    let dbs = shards.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "db")).count();
    assert_eq!(dbs, 4, "one log per array task");
    let (local, merged) = (results(&dir.join("local.db")), results(&dir.join("merged.db")));
    assert_eq!((local.len(), merged.len()), (6, 6));
    for (l, m) in local.iter().zip(&merged) {
        assert_eq!(l.0, m.0);
        assert_eq!(l.1, m.1, "config_json of {}", l.0);
        assert_eq!(l.2, m.2, "quality metrics of {}", l.0);
    }
}
