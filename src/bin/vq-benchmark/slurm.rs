//! `sweep --slurm-script FILE`: a Slurm job-array script that runs the sweep as N shards,
//! one array task each (`sweep --shard $SLURM_ARRAY_TASK_ID/N`, each into its own SQLite
//! file), then merges them into `--db` in a job chained with `--dependency=afterok`.
//!
//! The script is complete for `sbatch FILE`: array task 0 submits the merge job as it
//! starts, depending on the whole array, so there is no second command to forget, and the
//! merge runs only if every shard succeeded. A requeued task 0 submits it again, which is
//! harmless: merging is idempotent. Each task passes `--resume`, so a requeued task skips
//! the configurations it already logged.
//!
//! Requests are estimated from the grid and the data's shape, then clamped to what the
//! partition's nodes have (`sinfo`), so a job is never rejected for asking more than a node
//! holds.

use crate::cli::SweepArgs;
use crate::dataset;
use crate::measure::{Config, Settings};
use std::ffi::OsString;
use std::path::Path;

/// Default tasks of the array at most (one per configuration below that).
const MAX_DEFAULT_SHARDS: usize = 64;
/// Default CPUs per task when `--threads` is 0 (all cores).
const DEFAULT_CPUS: usize = 4;
/// Memory beyond the data: the binary, SQLite, allocator slack.
const BASE_MIB: u64 = 256;

/// Flags of `sweep` the script sets itself, with whether each takes a value.
const SET_BY_SCRIPT: &[(&str, bool)] = &[
    ("--slurm-script", true),
    ("--slurm-shards", true),
    ("--slurm-partition", true),
    ("--slurm-time", true),
    ("--db", true),
    ("--csv", true),
    ("--shard", true),
    ("--sweep-id", true),
    ("--threads", true),
    ("--resume", false),
    ("--quiet", false),
    ("-q", false),
];

pub fn write_script(a: &SweepArgs, grid: &[Config], file: &Path) -> Result<(), String> {
    let c = &a.common;
    crate::atomic::check_output("--slurm-script", file)?;
    crate::runlog::check_writable(&c.db)?;
    let shards = match a.slurm_shards {
        Some(n) if n > grid.len() => {
            return Err(format!(
                "--slurm-shards {n} is more than the {} configuration(s) of the grid; expected 1..={}",
                grid.len(),
                grid.len()
            ))
        }
        Some(n) => n,
        None => grid.len().min(MAX_DEFAULT_SHARDS),
    };
    // The data's shape sizes the memory request, and checks the grid against the data
    // before anything is submitted.
    let ds = dataset::load(&crate::sweep::spec(c))?;
    let s = crate::sweep::settings(c);
    for &cfg in grid {
        crate::measure::validate(cfg, ds.n_base(), ds.dim, &s)?;
    }
    let node = partition_nodes(a.slurm_partition.as_deref());
    let want_cpus = if c.threads > 0 { c.threads } else { DEFAULT_CPUS };
    // The heaviest task: every share's configurations' codes, and the largest sample.
    let costs: Vec<f64> =
        grid.iter().map(|&g| crate::shard::estimated_cost(g, ds.n_base(), ds.dim, ds.n_queries(), &s)).collect();
    let want_mib = (0..shards)
        .map(|index| {
            let share: Vec<Config> = crate::shard::share(&costs, crate::cli::Shard { index, count: shards })
                .into_iter()
                .map(|i| grid[i])
                .collect();
            memory_mib(ds.n_base(), ds.dim, ds.n_queries(), &share, &s)
        })
        .max()
        .unwrap_or(BASE_MIB);
    let (cpus, mem_mib, clamp_note) = match &node {
        Ok((node_cpus, node_mib)) => {
            let (cpus, mem) = (want_cpus.min(*node_cpus).max(1), want_mib.min(*node_mib));
            let note = if (cpus, mem) != (want_cpus, want_mib) {
                format!(
                    "# Asked {want_cpus} CPU(s) and {want_mib} MiB; clamped to the partition's nodes ({node_cpus} CPUs, {node_mib} MiB).\n"
                )
            } else {
                String::new()
            };
            (cpus, mem, note)
        }
        Err(why) => (want_cpus, want_mib, format!("# Requests not checked against the partition: {why}.\n")),
    };

    let cwd = std::env::current_dir().map_err(|e| format!("--slurm-script: no current directory: {e}"))?;
    let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let db = abs(&c.db);
    let sweep_id = a.sweep_id.clone().unwrap_or_else(crate::provenance::sweep_id);
    let out_dir = db.parent().map_or_else(|| cwd.clone(), Path::to_path_buf).join(format!("{sweep_id}_shards"));
    let exe = crate::invocation::program().map_err(|e| format!("--slurm-script: {e}"))?;
    let args = forwarded_args(crate::invocation::args().into_iter().skip(1).collect());

    let q = |p: &Path| sh_quote(&p.display().to_string());
    let partition = a.slurm_partition.as_deref().map(|p| format!(" --partition={}", sh_quote(p))).unwrap_or_default();
    let merge_cmd = format!(
        "{vq} merge {out}/shard_*.db --db {db} && {vq} export --sweep-id {id} --db {db} --output {csv}",
        vq = q(&exe),
        out = q(&out_dir),
        db = q(&db),
        id = sweep_id,
        csv = q(&db.with_file_name(format!("{sweep_id}.csv"))),
    );
    let mut text = String::new();
    text.push_str("#!/bin/bash\n");
    text.push_str(&format!(
        "# vq-benchmark {} sweep {sweep_id}: {} configuration(s) in {shards} shard(s), merged into {}.\n",
        env!("CARGO_PKG_VERSION"),
        grid.len(),
        db.display()
    ));
    text.push_str(&format!("# Submit with: sbatch {}\n", file.display()));
    text.push_str(&clamp_note);
    text.push_str(&format!("#SBATCH --job-name=vq-{sweep_id}\n"));
    text.push_str(&format!("#SBATCH --array=0-{}\n", shards - 1));
    text.push_str(&format!("#SBATCH --cpus-per-task={cpus}\n"));
    text.push_str(&format!("#SBATCH --mem={mem_mib}M\n"));
    text.push_str(&format!("#SBATCH --chdir={}\n", cwd.display()));
    text.push_str(&format!("#SBATCH --output={}/slurm-%A_%a.out\n", out_dir.display()));
    if let Some(p) = &a.slurm_partition {
        text.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &a.slurm_time {
        text.push_str(&format!("#SBATCH --time={t}\n"));
    }
    text.push_str("set -eu\n");
    text.push_str("if [ \"$SLURM_ARRAY_TASK_ID\" = 0 ]; then\n");
    text.push_str(&format!(
        "  sbatch --parsable --job-name=vq-{sweep_id}-merge --dependency=afterok:\"$SLURM_ARRAY_JOB_ID\" \
         --kill-on-invalid-dep=yes --chdir={cwd} --output={out}/slurm-%j-merge.out --cpus-per-task=1 --mem=1G{partition} \
         --wrap {wrap}\n",
        cwd = q(&cwd),
        out = q(&out_dir),
        wrap = sh_quote(&merge_cmd),
    ));
    text.push_str("fi\n");
    let forwarded: Vec<String> = args.iter().map(|a| sh_quote(&a.to_string_lossy())).collect();
    text.push_str(&format!(
        "exec {vq} {args} --sweep-id {sweep_id} --shard \"$SLURM_ARRAY_TASK_ID/{shards}\" \
         --db {out}/shard_\"$SLURM_ARRAY_TASK_ID\".db --threads \"${{SLURM_CPUS_PER_TASK:-{cpus}}}\" --resume --quiet\n",
        vq = q(&exe),
        args = forwarded.join(" "),
        out = q(&out_dir),
    ));

    let created = !out_dir.exists();
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("--slurm-script: cannot create {}: {e}", out_dir.display()))?;
    if let Err(e) = crate::atomic::write(file, text.as_bytes()) {
        if created {
            let _ = std::fs::remove_dir(&out_dir);
        }
        return Err(e);
    }
    println!(
        "Wrote {} for sweep {sweep_id}: {} configuration(s) in {shards} array task(s) of {cpus} CPU(s) and {mem_mib} MiB, then a merge into {}",
        file.display(),
        grid.len(),
        db.display()
    );
    println!("Submit with: sbatch {}", file.display());
    println!("Shard logs and job output go to {}", out_dir.display());
    Ok(())
}

/// The command line after the program name with the flags the script sets removed
/// (`--flag value` and `--flag=value` alike).
fn forwarded_args(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        let flag = s.split_once('=').map_or(s.as_str(), |(f, _)| f);
        match SET_BY_SCRIPT.iter().find(|(f, _)| *f == flag) {
            Some((_, true)) if !s.contains('=') => {
                it.next();
            }
            Some(_) => {}
            None => out.push(a),
        }
    }
    out
}

/// Memory one task needs for `configs` (see `evaluate`): the training sample, the codes of
/// every configuration, a few batches, the queries and their neighbour lists, and slack.
/// It does not grow with the base beyond the codes.
fn memory_mib(n: usize, d: usize, nq: usize, configs: &[Config], s: &Settings) -> u64 {
    let code_bytes: u64 = configs
        .iter()
        .map(|&cfg| {
            let per_row = match cfg {
                Config::Pq { m, ksub } | Config::Opq { m, ksub } => m * if ksub <= 256 { 1 } else { 2 },
                Config::Sq { bits } => (d * bits as usize).div_ceil(8),
                Config::Rabitq { bits } => rabitq_code_size(d, bits),
            };
            // RaBitQ also holds its d × d rotation and its transpose.
            let rotation = if let Config::Rabitq { .. } = cfg { 2 * d * d * 4 } else { 0 };
            (n * per_row + rotation) as u64
        })
        .sum();
    let sample_rows =
        configs.iter().filter(|&&c| !s.trains_in_a_pass(c, n)).map(|&c| s.train_rows(c, n)).max().unwrap_or(0);
    // The sample, and one configuration's training copy of it; for cosine also the
    // normalized copy PQ trains on, and the normalized batch the errors are measured on.
    let cosine = u64::from(s.metric == vq::Metric::Cosine);
    let sample = (2 + cosine) * (sample_rows * d * 4) as u64;
    let batches = (3 + cosine) * (s.batch_rows(d).min(n) * d * 4) as u64;
    let queries = (nq * d * 4 + nq * 100 * 12 * 4) as u64;
    // `--pq-fast-scan`: one configuration at a time packs its codes into blocks beside
    // them, for its search only.
    let packed = configs
        .iter()
        .filter(|&&cfg| crate::measure::fast_scanned(cfg, s))
        .filter_map(|&cfg| match cfg {
            Config::Pq { m, .. } | Config::Opq { m, .. } => vq::PackedCodes::packed_len(m, n),
            _ => None,
        })
        .max()
        .unwrap_or(0) as u64;
    (code_bytes + sample + batches + queries + packed).div_ceil(1 << 20) + BASE_MIB
}

/// Bytes of a RaBitQ code at `bits` per dimension (the layout table of `vq::rabitq`'s
/// docs): a sign plane and `bits − 1` extended planes of ⌈d/64⌉ words each, and 12 bytes
/// of factors (20 with extended planes). The binary cannot build a quantizer just to ask
/// it, so the test below holds this to the library's `code_size`.
fn rabitq_code_size(d: usize, bits: u32) -> usize {
    bits as usize * 8 * d.div_ceil(64) + if bits == 1 { 12 } else { 20 }
}

/// `(CPUs, MiB)` of the smallest node of the partition (or the default one), from `sinfo`.
fn partition_nodes(partition: Option<&str>) -> Result<(usize, u64), String> {
    let mut cmd = std::process::Command::new("sinfo");
    cmd.args(["--noheader", "--format=%c %m"]);
    if let Some(p) = partition {
        cmd.arg(format!("--partition={p}"));
    }
    let out = cmd.output().map_err(|e| format!("sinfo did not run ({e})"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("sinfo failed: {}", err.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("")));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut best: Option<(usize, u64)> = None;
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let cpus = f.next().and_then(|v| v.trim_end_matches('+').parse::<usize>().ok());
        let mib = f.next().and_then(|v| v.trim_end_matches('+').parse::<u64>().ok());
        if let (Some(c), Some(m)) = (cpus, mib) {
            best = Some(best.map_or((c, m), |(bc, bm)| (bc.min(c), bm.min(m))));
        }
    }
    best.ok_or_else(|| {
        format!("sinfo listed no nodes{}", partition.map(|p| format!(" in partition {p}")).unwrap_or_default())
    })
}

/// One word for a POSIX shell, whatever it contains.
fn sh_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_sets_its_own_flags_and_keeps_the_rest() {
        let args: Vec<OsString> = [
            "sweep",
            "--pq-chunks",
            "4,8",
            "--db",
            "x.db",
            "--slurm-script=run.sh",
            "--threads",
            "3",
            "--quiet",
            "--dataset",
            "my data.npy",
            "--resume",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let kept: Vec<String> = forwarded_args(args).iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(kept, ["sweep", "--pq-chunks", "4,8", "--dataset", "my data.npy"]);
    }

    #[test]
    fn shell_quoting_survives_any_text() {
        assert_eq!(sh_quote("a/b.db"), "a/b.db");
        assert_eq!(sh_quote("my data"), "'my data'");
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(sh_quote(""), "''");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", sh_quote("a 'b' $HOME \"c\" `d`")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "a 'b' $HOME \"c\" `d`");
    }

    #[test]
    fn memory_grows_with_the_codes_not_the_base() {
        let s = crate::measure::Settings {
            threads: 1,
            seed: 0,
            kmeans_iters: 25,
            kmeans_init: crate::cli::InitArg::Random,
            kmeans_tol: 0.0,
            kmeans_hartigan: 0,
            max_points_per_centroid: 256,
            recall: true,
            pairwise: true,
            rank: true,
            num_pairs: 1000,
            rank_k: 10,
            train_size: None,
            batch_size: Some(1000),
            metric: vq::Metric::L2,
            opq_iterations: 50,
            rabitq_qb: vq::QueryBits::default(),
            rabitq_epsilon: 1.9,
            fast_scan: None,
        };
        let pq = [Config::Pq { m: 16, ksub: 256 }];
        let small = memory_mib(10_000, 128, 100, &pq, &s);
        assert!((BASE_MIB..BASE_MIB + 20).contains(&small), "{small}");
        // 10^8 rows: 1.5 GiB of codes and the 65,536-row sample, not the 48 GiB base.
        let big = memory_mib(100_000_000, 128, 100, &pq, &s);
        assert!((1500..1900).contains(&(big - BASE_MIB)), "{big}");
        let sq = |bits| memory_mib(1_000_000, 128, 100, &[Config::Sq { bits }], &s);
        assert!(sq(16) >= sq(4) + 180, "{} {}", sq(16), sq(4));
        // OPQ: PQ's codes, and the rotation's 65,536-row sample, as PQ 16x256's.
        assert_eq!(memory_mib(100_000_000, 128, 100, &[Config::Opq { m: 16, ksub: 256 }], &s), big);
        // Its cost: PQ's and the outer iterations on top, so a shard split weighs it so.
        let cost = |cfg| crate::shard::estimated_cost(cfg, 1_000_000, 128, 100, &s);
        assert!(cost(Config::Opq { m: 16, ksub: 256 }) > 2.0 * cost(pq[0]));
        // RaBitQ: its codes, and the rotation twice; 1 bit costs less to run than 8.
        let rq = |bits| memory_mib(1_000_000, 1024, 100, &[Config::Rabitq { bits }], &s);
        assert!(rq(8) >= rq(1) + 7 * 1_000_000 * 128 / (1 << 20), "{} {}", rq(8), rq(1));
        assert!(cost(Config::Rabitq { bits: 1 }) < cost(Config::Rabitq { bits: 8 }));
        // The fast scan: the largest 4-bit configuration's packed codes (10^8 rows, m = 32:
        // 1.5 GiB), and nothing for a configuration it does not scan.
        let fast = Settings { fast_scan: Some(vq::FastScanParams::default()), ..s.clone() };
        let pq4 = [Config::Pq { m: 16, ksub: 16 }, Config::Opq { m: 32, ksub: 16 }];
        let extra = memory_mib(100_000_000, 128, 100, &pq4, &fast) - memory_mib(100_000_000, 128, 100, &pq4, &s);
        assert!((1525..=1527).contains(&extra), "{extra}");
        assert_eq!(memory_mib(100_000_000, 128, 100, &pq, &fast), big);
    }

    #[test]
    fn rabitq_code_sizes_are_the_librarys() {
        for d in [1, 63, 64, 65, 128, 384] {
            let rotation: Vec<f32> = (0..d * d).map(|i| f32::from(u8::from(i % (d + 1) == 0))).collect();
            for bits in 1..=9 {
                let q =
                    vq::RabitqQuantizer::from_parts(d, bits, vq::Metric::L2, rotation.clone(), vec![0.0; d]).unwrap();
                assert_eq!(rabitq_code_size(d, bits), vq::Quantizer::code_size(&q), "d = {d}, {bits} bits");
            }
        }
    }
}
