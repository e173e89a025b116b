//! A sweep split into shards (`--shard I/N`), merged back (`merge`), resumed (`--resume`),
//! and turned into a Slurm job-array script (`--slurm-script`): the merged log must equal a
//! local run of the same sweep in every configuration and every quality metric.
#![cfg(feature = "cli")]

#[path = "common/runs.rs"]
mod runs;

use runs::results;
use rusqlite::Connection;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");

/// Six configurations of very different cost on small data.
const GRID: &[&str] = &[
    "sweep",
    "--method",
    "pq,sq",
    "--pq-chunks",
    "4,8",
    "--pq-clusters",
    "16,32",
    "--sq-bits",
    "4,8",
    "--num-samples",
    "1500",
    "--dim",
    "32",
    "--num-queries",
    "30",
    "--threads",
    "2",
    "--quiet",
];

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).current_dir(dir).env_remove("DB_PATH").output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn with(extra: &[&str]) -> Vec<String> {
    GRID.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn ok_with(dir: &Path, extra: &[&str]) -> String {
    let a = with(extra);
    ok(dir, &a.iter().map(String::as_str).collect::<Vec<_>>())
}

fn scalar(db: &Path, sql: &str) -> i64 {
    Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn shards_merged_equal_the_local_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    ok_with(dir, &["--db", "local.db"]);
    let mut ids = Vec::new();
    for i in 0..4 {
        let out = ok_with(dir, &["--shard", &format!("{i}/4"), "--db", &format!("shard{i}.db")]);
        let at = out.find("sweep_").unwrap();
        ids.push(out[at..at + 22].to_string());
    }
    // Every shard derived the same id on its own.
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    let shards: Vec<String> = (0..4).map(|i| format!("shard{i}.db")).collect();
    let mut merge = vec!["merge"];
    merge.extend(shards.iter().map(String::as_str));
    merge.extend(["--db", "merged.db"]);
    assert!(ok(dir, &merge).contains("6 run(s) added, 0 already there"));
    assert!(ok(dir, &merge).contains("0 run(s) added, 6 already there"));

    let (local, merged) = (results(&dir.join("local.db")), results(&dir.join("merged.db")));
    assert_eq!(local.len(), 6);
    for (l, m) in local.iter().zip(&merged) {
        assert_eq!(l.0, m.0);
        assert_eq!(l.1, m.1, "config_json of {}", l.0);
        assert_eq!(l.2, m.2, "quality metrics of {}", l.0);
        assert!(l.2.contains_key("recall@10") && l.2.contains_key("reconstruction_distortion"));
    }
    let merged_db = dir.join("merged.db");
    assert_eq!(scalar(&merged_db, "SELECT count(DISTINCT run_uid) FROM runs"), 6);
    assert_eq!(scalar(&merged_db, "SELECT min(id) * 100 + max(id) FROM runs"), 106, "ids renumbered 1..=6");
    assert_eq!(scalar(&merged_db, "SELECT count(DISTINCT sweep_id) FROM runs"), 1);
}

#[test]
fn resume_skips_what_the_sweep_already_logged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A shard's share, then the whole sweep with --resume into the same log: only the rest runs.
    let first = ok_with(dir, &["--shard", "1/3", "--db", "log.db"]);
    let done = scalar(&dir.join("log.db"), "SELECT count(*) FROM runs");
    assert!((1..6).contains(&done), "{first}");
    let out = ok_with(dir, &["--resume", "--db", "log.db"]);
    assert!(out.contains(&format!("{} configuration(s) to run", 6 - done)), "{out}");
    assert!(out.contains(&format!("{done} already logged")), "{out}");
    assert_eq!(scalar(&dir.join("log.db"), "SELECT count(*) FROM runs"), 6);
    assert_eq!(scalar(&dir.join("log.db"), "SELECT count(DISTINCT config_json) FROM runs"), 6);
    let out = ok_with(dir, &["--resume", "--db", "log.db"]);
    assert!(out.contains("0 configuration(s) to run"), "{out}");
    assert_eq!(scalar(&dir.join("log.db"), "SELECT count(*) FROM runs"), 6);
}

#[test]
fn the_slurm_script_runs_every_shard_and_merges() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let out =
        ok_with(dir, &["--slurm-script", "job.sh", "--slurm-shards", "3", "--db", "logs/all.db", "--sweep-id", "S"]);
    assert!(out.contains("Submit with: sbatch job.sh"), "{out}");
    let script = std::fs::read_to_string(dir.join("job.sh")).unwrap();
    for want in [
        "#SBATCH --array=0-2",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=",
        "--dependency=afterok:",
        "--shard \"$SLURM_ARRAY_TASK_ID/3\"",
    ] {
        assert!(script.contains(want), "no {want:?} in\n{script}");
    }
    assert!(dir.join("logs/S_shards").is_dir());
    assert!(!script.contains("--slurm-shards") && !script.contains("job.sh\n#SBATCH"), "{script}");
    // Run it as Slurm would, with a stand-in `sbatch` that runs the merge job's command at
    // once: every task, then the merge.
    let bin = dir.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = "#!/bin/sh\nfor a; do case \"$a\" in --wrap) w=1;; *) if [ -n \"${w:-}\" ]; then echo \"$a\" >> \"$MERGE\"; w=; fi;; esac; done\necho 1\n";
    std::fs::write(bin.join("sbatch"), fake).unwrap();
    std::fs::set_permissions(bin.join("sbatch"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    for task in 0..3 {
        let st = Command::new("bash")
            .arg("job.sh")
            .current_dir(dir)
            .env("PATH", &path)
            .env("MERGE", dir.join("merge.sh"))
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_JOB_ID", "1")
            .env("SLURM_CPUS_PER_TASK", "2")
            .status()
            .unwrap();
        assert!(st.success());
    }
    let st = Command::new("sh").arg("merge.sh").current_dir(dir).status().unwrap();
    assert!(st.success());
    assert!(dir.join("logs/S.csv").is_file());
    ok_with(dir, &["--db", "local.db"]);
    let (local, merged) = (results(&dir.join("local.db")), results(&dir.join("logs/all.db")));
    assert_eq!(merged.len(), 6);
    for (l, m) in local.iter().zip(&merged) {
        assert_eq!((&l.1, &l.2), (&m.1, &m.2), "{}", l.0);
    }
}
