//! `run` and `sweep`: plan the configurations, check every input, load the data and the
//! ground truth, and only then run each configuration, logging it the moment it finishes.
//!
//! Order matters for the "nothing half-written" promise: every flag, list, file and
//! configuration is checked, and the dataset and ground truth are loaded, before the run
//! log is created or touched and before any output file is written. A bad input therefore
//! exits with one line and leaves the database and the output files as they were.

use crate::cli::{Common, Method, RunArgs, SweepArgs, DEFAULT_PQ_CHUNKS, DEFAULT_PQ_CLUSTERS, DEFAULT_SQ_BITS};
use crate::dataset::{self, Dataset, Spec, Truth};
use crate::measure::{self, Config, Settings};
use crate::progress::Progress;
use crate::runlog::{self, Run, RunLog};
use crate::{atomic, csv, provenance};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The grid of a `sweep`: PQ (chunks × clusters) then SQ bits, in the order given.
pub fn grid(a: &SweepArgs) -> Result<Vec<Config>, String> {
    let methods = &a.method.0;
    let has = |m| methods.contains(&m);
    if !has(Method::Pq) && (a.pq_chunks.is_some() || a.pq_clusters.is_some() || a.pq_bits.is_some()) {
        return Err("--pq-chunks/--pq-clusters/--pq-bits apply to --method pq; add pq to --method or drop them".into());
    }
    if !has(Method::Sq) && a.sq_bits.is_some() {
        return Err("--sq-bits applies to --method sq; add sq to --method or drop it".into());
    }
    let list = |s: &str| crate::cli::positive_list(s).expect("default list parses").0;
    let mut out = Vec::new();
    for &m in methods {
        match m {
            Method::Pq => {
                let chunks = a.pq_chunks.as_ref().map_or_else(|| list(DEFAULT_PQ_CHUNKS), |l| l.0.clone());
                let clusters = match (&a.pq_clusters, &a.pq_bits) {
                    (Some(c), _) => c.0.clone(),
                    (None, Some(b)) => b.0.iter().map(|&b| 1usize << b).collect(),
                    (None, None) => list(DEFAULT_PQ_CLUSTERS),
                };
                for &m in &chunks {
                    for &ksub in &clusters {
                        out.push(Config::Pq { m, ksub });
                    }
                }
            }
            Method::Sq => {
                let bits = a.sq_bits.as_ref().map_or_else(|| list(DEFAULT_SQ_BITS), |l| l.0.clone());
                out.extend(bits.into_iter().map(|b| Config::Sq { bits: b as u32 }));
            }
        }
    }
    Ok(out)
}

pub fn run_one(a: &RunArgs) -> Result<(), String> {
    let cfg = match a.method {
        Method::Pq => Config::Pq { m: a.num_chunks, ksub: a.num_clusters },
        Method::Sq => Config::Sq { bits: a.sq_bits },
    };
    execute(&a.common, vec![cfg], None)
}

pub fn run_sweep(a: &SweepArgs) -> Result<(), String> {
    let configs = grid(a)?;
    execute(&a.common, configs, Some(provenance::sweep_id()))
}

fn settings(c: &Common) -> Settings {
    Settings {
        threads: c.threads,
        seed: c.seed,
        kmeans_iters: c.kmeans_iters,
        kmeans_init: c.kmeans_init,
        kmeans_tol: c.kmeans_tol,
        kmeans_hartigan: c.kmeans_hartigan,
        max_points_per_centroid: c.max_points_per_centroid,
        recall: c.recall(),
        pairwise: c.pairwise(),
        rank: c.rank(),
        num_pairs: c.num_pairs,
        rank_k: c.rank_k,
    }
}

fn execute(c: &Common, configs: Vec<Config>, sweep_id: Option<String>) -> Result<(), String> {
    let quiet = c.quiet;
    let progress = Progress::new(quiet);
    let s = settings(c);
    // 1. Paths: checked, not created.
    runlog::check_writable(&c.db)?;
    let csv_path: Option<PathBuf> = match (&c.csv, &sweep_id) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(id)) => Some(c.db.parent().unwrap_or(std::path::Path::new("")).join(format!("{id}.csv"))),
        (None, None) => None,
    };
    if let Some(p) = &csv_path {
        atomic::check_output("--csv", p)?;
    }
    if let Some(dir) = &c.save_models {
        atomic::check_dir("--save-models", dir)?;
    }
    // 2. Data, then every configuration against it.
    let ds = dataset::load(&Spec {
        dataset: &c.dataset,
        num_samples: c.num_samples,
        dim: c.dim,
        num_queries: c.num_queries,
        queries: c.queries.as_deref(),
        data_seed: c.data_seed,
        seed: c.seed,
    })?;
    for &cfg in &configs {
        measure::validate(cfg, &ds, &s)?;
    }
    // 3. Ground truth, read or computed, before anything is logged.
    let truth: Option<Truth> = match (s.search_k(ds.n_base()), &c.ground_truth) {
        (None, _) => None,
        (Some(_), Some(p)) => Some(dataset::read_truth(p, &ds)?),
        (Some(k), None) => Some(dataset::exact_truth(&ds, k, s.threads, &progress)?),
    };
    if let Some(id) = &sweep_id {
        println!(
            "Sweep {id}: {} configuration(s) on {} ({} base vectors, {} queries, dim {}); plot with: vq-benchmark plot --sweep-id {id}",
            configs.len(),
            ds.name,
            ds.n_base(),
            ds.n_queries(),
            ds.dim
        );
    }
    // 4. Run and log each configuration as soon as it finishes.
    let (git_branch, git_commit) = provenance::git_info();
    let cpu = provenance::cpu_model();
    let cli_command = provenance::command_line();
    let mut log: Option<RunLog> = None;
    let mut done: Vec<Run> = Vec::new();
    let sweep_bar = progress.bar("sweep", configs.len() as u64);
    for &cfg in &configs {
        sweep_bar.set_message(cfg.label());
        let out = measure::execute(cfg, &ds, truth.as_ref(), &s, &progress)?;
        let mut config = out.config;
        extend_config(&mut config, c, &s, &ds, truth.as_ref());
        // The model file before the run's row: a logged run never names a missing file.
        if let Some(dir) = &c.save_models {
            let stem = sweep_id.clone().unwrap_or_else(|| format!("run_{}", provenance::compact_time()));
            let name = format!("{stem}_{}.vqm", cfg.label().to_lowercase().replace(' ', "_"));
            let path = dir.join(name);
            atomic::write(&path, &out.model)?;
            config.insert("model_file".into(), Value::String(path.display().to_string()));
        }
        let mut run = Run {
            id: 0,
            timestamp: Some(provenance::timestamp()),
            git_branch: git_branch.clone(),
            git_commit: git_commit.clone(),
            package_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            method: Some(cfg.method().name().to_string()),
            dataset: Some(ds.name.clone()),
            cli_command: Some(cli_command.clone()),
            metrics_json: Some(Value::Object(out.metrics).to_string()),
            config_json: Some(Value::Object(config).to_string()),
            sweep_id: sweep_id.clone(),
            simd_level: Some(vq::simd_level().name().to_string()),
            cpu_model: Some(cpu.clone()),
            threads: Some(dataset::effective_threads(s.threads) as i64),
            seed: i64::try_from(s.seed).ok(),
            dataset_fingerprint: Some(ds.fingerprint.clone()),
            wall_seconds: Some(out.wall_seconds),
            tool: Some(format!("vq-benchmark {} (Rust)", env!("CARGO_PKG_VERSION"))),
        };
        if log.is_none() {
            log = Some(RunLog::open(&c.db)?);
        }
        run.id = log.as_ref().expect("opened above").insert(&run)?;
        done.push(run);
        if let Some(p) = &csv_path {
            atomic::write(p, csv::render(&done).as_bytes())?;
        }
        sweep_bar.inc(1);
        progress.println(&format!("  done: {} in {:.2} s", cfg.label(), out.wall_seconds));
    }
    sweep_bar.finish_and_clear();
    if !quiet {
        print!("{}", summary(&done));
    }
    if let Some(p) = &csv_path {
        println!("CSV: {}", p.display());
    }
    println!("Run log: {} ({} run(s) added)", c.db.display(), done.len());
    if let Some(id) = &sweep_id {
        println!("Sweep {id} finished; plot with: vq-benchmark plot --sweep-id {id}");
    }
    Ok(())
}

/// Settings every run shares, after the method's own keys (`num_chunks`, `num_clusters`
/// or `num_bits` stay first).
fn extend_config(
    config: &mut serde_json::Map<String, Value>,
    c: &Common,
    s: &Settings,
    ds: &Dataset,
    truth: Option<&Truth>,
) {
    config.insert("dataset".into(), json!(ds.name));
    if ds.name == "dummy" {
        config.insert("data_seed".into(), json!(c.data_seed));
    }
    config.insert("num_samples".into(), json!(ds.n_base()));
    config.insert("dim".into(), json!(ds.dim));
    config.insert("num_queries".into(), json!(ds.n_queries()));
    config.insert("queries".into(), json!(ds.query_source.name()));
    config.insert("ground_truth".into(), json!(truth.map(|t| t.source.clone())));
    config.insert("ground_truth_k".into(), json!(truth.map(|t| t.k)));
    config.insert("with_recall".into(), json!(s.recall));
    config.insert("with_pairwise".into(), json!(s.pairwise));
    config.insert("with_rank".into(), json!(s.rank));
    config.insert("num_pairs".into(), json!(s.num_pairs));
    config.insert("rank_k".into(), json!(s.rank_k));
    config.insert("seed".into(), json!(s.seed));
    config.insert("threads".into(), json!(dataset::effective_threads(s.threads)));
    config.insert("search_threads".into(), json!(1));
}

/// The end-of-sweep table: one line per run.
pub fn summary(runs: &[Run]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\n{:<14} {:>8} {:>6} {:>12} {:>9} {:>9} {:>9} {:>8} {:>8} {:>10}\n",
        "config", "ratio", "B/vec", "MSE", "recall@10", "recall@100", "pairwise", "train s", "encode s", "search qps"
    ));
    for r in runs {
        let m = csv::object(&r.metrics_json);
        let c = csv::object(&r.config_json);
        let label = match (c.get("num_chunks"), c.get("num_clusters"), c.get("num_bits")) {
            (Some(a), Some(b), _) => format!("PQ {a}x{b}"),
            (_, _, Some(b)) => format!("SQ {b}-bit"),
            _ => r.method.clone().unwrap_or_default(),
        };
        let f = |k: &str, p: usize| m.get(k).and_then(Value::as_f64).map_or("-".to_string(), |v| format!("{v:.p$}"));
        out.push_str(&format!(
            "{:<14} {:>8} {:>6} {:>12} {:>9} {:>10} {:>9} {:>8} {:>8} {:>10}\n",
            label,
            f("compression_ratio", 1),
            f("bytes_per_vector", 0),
            f("reconstruction_distortion", 3),
            f("recall@10", 3),
            f("recall@100", 3),
            f("pairwise_distortion_mean", 4),
            f("train_seconds", 3),
            f("encode_seconds", 3),
            f("search_qps", 0),
        ));
    }
    out
}
