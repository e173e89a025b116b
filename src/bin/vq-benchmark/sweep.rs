//! `run` and `sweep`: plan the configurations, check every input, load the data and the
//! ground truth, and only then run each configuration, logging it the moment it finishes.
//!
//! Order matters for the "nothing half-written" promise: every flag, list, file and
//! configuration is checked, and the dataset and ground truth are loaded, before the run
//! log is created or touched and before any output file is written. A bad input therefore
//! exits with one line and leaves the database and the output files as they were.

use crate::cli::{
    Common, Method, RunArgs, Shard, SweepArgs, DEFAULT_PQ_CHUNKS, DEFAULT_PQ_CLUSTERS, DEFAULT_RABITQ_BITS,
    DEFAULT_SQ_BITS,
};
use crate::dataset::{self, Dataset, Spec, Truth};
use crate::evaluate::{self, Inputs, TruthInput};
use crate::measure::{self, Config, Outcome, Settings};
use crate::memory::AnonPeak;
use crate::progress::Progress;
use crate::runlog::{self, Run, RunLog};
use crate::{atomic, csv, provenance, shard};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The grid of a `sweep`: each method's configurations in the order `--method` names them;
/// PQ and OPQ as chunks × clusters, SQ and RaBitQ as bits. OPQ takes PQ's lists unless its own are
/// given, so `--method pq,opq --pq-chunks 8,16` compares the two at the same sizes.
pub fn grid(a: &SweepArgs) -> Result<Vec<Config>, String> {
    let methods = &a.method.0;
    let has = |m| methods.contains(&m);
    if !has(Method::Pq)
        && !has(Method::Opq)
        && (a.pq_chunks.is_some() || a.pq_clusters.is_some() || a.pq_bits.is_some())
    {
        return Err(
            "--pq-chunks/--pq-clusters/--pq-bits apply to --method pq (and opq); add pq to --method or drop them"
                .into(),
        );
    }
    if !has(Method::Opq) && (a.opq_quantizers.is_some() || a.opq_clusters.is_some() || a.opq_bits.is_some()) {
        return Err(
            "--opq-quantizers/--opq-clusters/--opq-bits apply to --method opq; add opq to --method or drop them".into(),
        );
    }
    if !has(Method::Sq) && a.sq_bits.is_some() {
        return Err("--sq-bits applies to --method sq; add sq to --method or drop it".into());
    }
    if !has(Method::Rabitq) && a.rabitq_bits.is_some() {
        return Err("--rabitq-bits applies to --method rabitq; add rabitq to --method or drop it".into());
    }
    let list = |s: &str| crate::cli::positive_list(s).expect("default list parses").0;
    let pq_chunks = a.pq_chunks.as_ref().map_or_else(|| list(DEFAULT_PQ_CHUNKS), |l| l.0.clone());
    let pq_clusters = match (&a.pq_clusters, &a.pq_bits) {
        (Some(c), _) => c.0.clone(),
        (None, Some(b)) => b.0.iter().map(|&b| 1usize << b).collect(),
        (None, None) => list(DEFAULT_PQ_CLUSTERS),
    };
    let mut out = Vec::new();
    for &m in methods {
        match m {
            Method::Pq => {
                for &m in &pq_chunks {
                    for &ksub in &pq_clusters {
                        out.push(Config::Pq { m, ksub });
                    }
                }
            }
            Method::Opq => {
                let chunks = a.opq_quantizers.as_ref().map_or_else(|| pq_chunks.clone(), |l| l.0.clone());
                let clusters = match (&a.opq_clusters, &a.opq_bits) {
                    (Some(c), _) => c.0.clone(),
                    (None, Some(b)) => b.0.iter().map(|&b| 1usize << b).collect(),
                    (None, None) => pq_clusters.clone(),
                };
                for &m in &chunks {
                    for &ksub in &clusters {
                        out.push(Config::Opq { m, ksub });
                    }
                }
            }
            Method::Sq => {
                let bits = a.sq_bits.as_ref().map_or_else(|| list(DEFAULT_SQ_BITS), |l| l.0.clone());
                out.extend(bits.into_iter().map(|b| Config::Sq { bits: b as u32 }));
            }
            Method::Rabitq => {
                let bits = a.rabitq_bits.as_ref().map_or_else(|| list(DEFAULT_RABITQ_BITS), |l| l.0.clone());
                out.extend(bits.into_iter().map(|b| Config::Rabitq { bits: b as u32 }));
            }
        }
    }
    measure::check_fast_scan(&out, &settings(&a.common), "--pq-clusters 16 or --pq-bits 4 (OPQ: --opq-bits 4)")?;
    Ok(out)
}

pub fn run_one(a: &RunArgs) -> Result<(), String> {
    let cfg = match a.method {
        Method::Pq => Config::Pq { m: a.num_chunks, ksub: a.num_clusters },
        Method::Sq => Config::Sq { bits: a.sq_bits },
        Method::Opq => Config::Opq { m: a.num_chunks, ksub: a.num_clusters },
        Method::Rabitq => Config::Rabitq { bits: a.rabitq_bits },
    };
    measure::check_fast_scan(&[cfg], &settings(&a.common), "--num-clusters 16")?;
    execute(&a.common, vec![cfg], None)
}

pub fn run_sweep(a: &SweepArgs) -> Result<(), String> {
    let configs = grid(a)?;
    if let Some(script) = &a.slurm_script {
        return crate::slurm::write_script(a, &configs, script);
    }
    let plan = SweepPlan { id: a.sweep_id.clone(), shard: a.shard, resume: a.resume };
    execute(&a.common, configs, Some(plan))
}

/// How a `sweep` names and splits its runs (`run` has none).
struct SweepPlan {
    id: Option<String>,
    shard: Option<Shard>,
    resume: bool,
}

/// The dataset the flags name.
pub fn spec(c: &Common) -> Spec<'_> {
    Spec {
        dataset: &c.dataset,
        num_samples: c.num_samples,
        dim: c.dim,
        num_queries: c.num_queries,
        queries: c.queries.as_deref(),
        data_seed: c.data_seed,
        seed: c.seed,
        hub: crate::hub::Options {
            config: c.hf_config.clone(),
            split: Some(c.hf_split.clone()),
            column: c.hf_column.clone(),
            text_column: c.hf_text_column.clone(),
            revision: c.hf_revision.clone(),
            cache_dir: c.cache_dir.clone(),
            embed_model: Some(c.embed_model.clone()),
        },
        threads: c.threads,
        quiet: c.quiet,
    }
}

pub fn settings(c: &Common) -> Settings {
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
        train_size: c.train_size,
        batch_size: c.batch_size,
        metric: c.metric,
        opq_iterations: c.opq_iterations,
        rabitq_qb: c.rabitq_qb,
        rabitq_epsilon: c.rabitq_epsilon,
        fast_scan: c.pq_fast_scan.then_some(vq::FastScanParams { rerank_factor: c.pq_rerank_factor }),
    }
}

fn execute(c: &Common, grid: Vec<Config>, plan: Option<SweepPlan>) -> Result<(), String> {
    let memory = AnonPeak::start();
    let quiet = c.quiet;
    let progress = Progress::new(quiet);
    let s = settings(c);
    // 1. Paths: checked, not created.
    runlog::check_writable(&c.db)?;
    if let Some(dir) = &c.save_models {
        atomic::check_dir("--save-models", dir)?;
    }
    // 2. Data (its shape and queries; the base is read by the passes), then every
    //    configuration against it, and ground truth given as a file.
    let mut ds = dataset::load(&spec(c))?;
    for &cfg in &grid {
        measure::validate(cfg, ds.n_base(), ds.dim, &s)?;
    }
    let search_k = s.search_k(ds.n_base());
    let given_truth: Option<Truth> = match (search_k, &c.ground_truth) {
        (Some(_), Some(p)) => Some(dataset::read_truth(p, &ds, c.metric)?),
        _ => None,
    };
    let truth_desc = match (search_k, &given_truth) {
        (None, _) => None,
        (Some(_), Some(t)) => Some((t.source.clone(), t.k)),
        (Some(k), None) => Some(("computed".to_string(), k)),
    };
    // 3. The sweep's id and this process's share of it.
    let mut shared = serde_json::Map::new();
    extend_config(&mut shared, c, &s, &ds, truth_desc.as_ref());
    if grid.iter().any(|g| matches!(g, Config::Opq { .. })) {
        // OPQ's own setting decides its results; only sweeps with OPQ hash it, so the ids
        // other sweeps derived before OPQ existed stay the same.
        shared.insert("opq_iterations".into(), json!(s.opq_iterations));
    }
    if grid.iter().any(|g| matches!(g, Config::Rabitq { .. })) {
        // As OPQ's: RaBitQ's query-time settings decide its recall, and only its sweeps
        // hash them.
        shared.insert("rabitq_qb".into(), json!(s.rabitq_qb.number()));
        shared.insert("rabitq_epsilon".into(), json!(measure::decimal(s.rabitq_epsilon)));
    }
    if let Some(p) = s.fast_scan {
        // The fast scan's figures are part of a run's results: only sweeps that measure it
        // hash its settings, so every other sweep keeps the id it derived before.
        shared.insert("pq_fast_scan".into(), json!(true));
        shared.insert("pq_rerank_factor".into(), json!(p.rerank_factor));
    }
    let sweep_id = plan.as_ref().map(|p| match (&p.id, p.shard.is_some() || p.resume) {
        (Some(id), _) => id.clone(),
        (None, true) => shard::derived_sweep_id(&grid, &results_settings(&shared), &ds.quick_fingerprint),
        (None, false) => provenance::sweep_id(),
    });
    let mut configs = grid.clone();
    if let Some(sh) = plan.as_ref().and_then(|p| p.shard) {
        let nq = ds.n_queries();
        let costs: Vec<f64> = grid.iter().map(|&g| shard::estimated_cost(g, ds.n_base(), ds.dim, nq, &s)).collect();
        configs = shard::share(&costs, sh).into_iter().map(|i| grid[i]).collect();
    }
    // Runs this sweep already logged in --db: kept in the CSV, and with --resume not re-run.
    let mut done: Vec<Run> = Vec::new();
    if let (Some(id), Some(p)) = (&sweep_id, &plan) {
        if p.resume && c.db.is_file() && std::fs::metadata(&c.db).is_ok_and(|m| m.len() > 0) {
            done = RunLog::open_read(&c.db)?.runs(std::slice::from_ref(id))?;
            configs.retain(|&cfg| !done.iter().any(|r| is_run_of(r, cfg, &s)));
        }
    }
    let csv_path: Option<PathBuf> = match (&c.csv, &sweep_id, plan.as_ref().and_then(|p| p.shard)) {
        (Some(p), _, _) => Some(p.clone()),
        (None, Some(id), sh) => {
            let name = match sh {
                Some(sh) => format!("{id}_shard{}of{}.csv", sh.index, sh.count),
                None => format!("{id}.csv"),
            };
            Some(c.db.parent().unwrap_or(std::path::Path::new("")).join(name))
        }
        (None, None, _) => None,
    };
    if let Some(p) = &csv_path {
        atomic::check_output("--csv", p)?;
    }
    if let (Some(id), Some(p)) = (&sweep_id, &plan) {
        let share = match p.shard {
            Some(sh) => format!(", shard {}/{} of {} in the grid", sh.index, sh.count, grid.len()),
            None => String::new(),
        };
        let resumed = if done.is_empty() { String::new() } else { format!(", {} already logged", done.len()) };
        println!(
            "Sweep {id}: {} configuration(s) to run{share}{resumed} on {} ({} base vectors, {} queries, dim {}); plot with: vq-benchmark plot --sweep-id {id}",
            configs.len(),
            ds.name,
            ds.n_base(),
            ds.n_queries(),
            ds.dim
        );
    }
    if c.in_memory {
        ds = ds.into_memory()?;
    }
    // 4. The passes; each run is logged the moment it is measured.
    let (git_branch, git_commit) = provenance::git_info();
    let cpu = provenance::cpu_model();
    let cli_command = provenance::command_line();
    let mut log: Option<RunLog> = None;
    let ran_before = done.len();
    if !configs.is_empty() {
        let truth = match (search_k, &given_truth) {
            (None, _) => TruthInput::None,
            (Some(_), Some(t)) => TruthInput::Given(t),
            (Some(k), None) => TruthInput::Compute(dataset::truth_pass(&ds, k, s.metric, s.threads, &progress)?),
        };
        let inputs = Inputs {
            base: &ds,
            queries: &ds.queries,
            truth,
            settings: &s,
            progress: &progress,
            memory: memory.as_ref(),
        };
        let mut on_run = |out: Outcome| -> Result<(), String> {
            let cfg_label = out.config_label.clone();
            let mut config = out.config;
            extend_config(&mut config, c, &s, &ds, truth_desc.as_ref());
            // The model file before the run's row: a logged run never names a missing file.
            if let Some(dir) = &c.save_models {
                let stem = sweep_id.clone().unwrap_or_else(|| format!("run_{}", provenance::compact_time()));
                let name = format!("{stem}_{}.vqm", cfg_label.to_lowercase().replace(' ', "_"));
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
                method: Some(out.method.name().to_string()),
                dataset: Some(ds.name.clone()),
                cli_command: Some(cli_command.clone()),
                metrics_json: Some(Value::Object(out.metrics).to_string()),
                config_json: Some(Value::Object(config).to_string()),
                sweep_id: sweep_id.clone(),
                simd_level: Some(vq::simd_level().name().to_string()),
                cpu_model: Some(cpu.clone()),
                threads: Some(dataset::effective_threads(s.threads) as i64),
                seed: i64::try_from(s.seed).ok(),
                dataset_fingerprint: Some(format!("{}{}", out.fingerprint, ds.at_commit())),
                wall_seconds: Some(out.wall_seconds),
                tool: Some(format!("vq-benchmark {} (Rust)", env!("CARGO_PKG_VERSION"))),
                run_uid: None,
            };
            if log.is_none() {
                log = Some(RunLog::open(&c.db)?);
            }
            let (id, uid) = log.as_ref().expect("opened above").insert(&run)?;
            (run.id, run.run_uid) = (id, Some(uid));
            done.push(run);
            if let Some(p) = &csv_path {
                atomic::write(p, csv::render(&done).as_bytes())?;
            }
            progress.println(&format!("  done: {cfg_label} in {:.2} s", out.wall_seconds));
            Ok(())
        };
        let passes = evaluate::evaluate(&configs, inputs, &mut on_run)?;
        println!(
            "Data: {} pass(es) over the base for {} configuration(s), {:.1} MiB read in {:.2} s",
            passes.passes,
            configs.len(),
            passes.bytes_read as f64 / (1 << 20) as f64,
            passes.read_seconds
        );
    }
    if !quiet {
        print!("{}", summary(&done));
    }
    if let Some(p) = &csv_path {
        println!("CSV: {}", p.display());
    }
    println!("Run log: {} ({} run(s) added)", c.db.display(), done.len() - ran_before);
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
    truth: Option<&(String, usize)>,
) {
    config.insert("dataset".into(), json!(ds.name));
    if ds.name == "dummy" {
        config.insert("data_seed".into(), json!(c.data_seed));
    }
    config.insert("num_samples".into(), json!(ds.n_base()));
    config.insert("dim".into(), json!(ds.dim));
    config.insert("metric".into(), json!(s.metric.name()));
    config.insert("num_queries".into(), json!(ds.n_queries()));
    config.insert("queries".into(), json!(ds.query_source.name()));
    if let Some(hub) = &ds.hub {
        config.insert("hub".into(), hub.clone());
    }
    config.insert("ground_truth".into(), json!(truth.map(|t| t.0.clone())));
    config.insert("ground_truth_k".into(), json!(truth.map(|t| t.1)));
    config.insert("with_recall".into(), json!(s.recall));
    config.insert("with_pairwise".into(), json!(s.pairwise));
    config.insert("with_rank".into(), json!(s.rank));
    config.insert("num_pairs".into(), json!(s.num_pairs));
    config.insert("rank_k".into(), json!(s.rank_k));
    config.insert("seed".into(), json!(s.seed));
    config.insert("threads".into(), json!(dataset::effective_threads(s.threads)));
    config.insert("search_threads".into(), json!(1));
}

/// The shared settings that decide a sweep's results (the thread counts do not). The
/// default metric is left out, so an L2 sweep keeps the id it derived before `--metric`
/// existed and `--resume` still finds its runs.
fn results_settings(shared: &serde_json::Map<String, Value>) -> Value {
    let mut m = shared.clone();
    m.remove("threads");
    m.remove("search_threads");
    if m.get("metric").and_then(Value::as_str) == Some(vq::Metric::L2.name()) {
        // shift_remove: `remove` would move the last key into its place, and the id hashes
        // the keys in order.
        m.shift_remove("metric");
    }
    Value::Object(m)
}

/// Whether a logged run is configuration `cfg` under `s` (its method, the method's own
/// keys, the metric, and for PQ and OPQ the fast scan's rerank factor or its absence).
fn is_run_of(run: &Run, cfg: Config, s: &Settings) -> bool {
    let c = csv::object(&run.config_json);
    let key = |k: &str| c.get(k).and_then(Value::as_u64);
    let fast_scan_as_logged = match cfg {
        Config::Pq { .. } | Config::Opq { .. } => key("rerank_factor") == s.fast_scan.map(|p| p.rerank_factor as u64),
        _ => true,
    };
    run.method.as_deref() == Some(cfg.method().name())
        && csv::metric(&c) == s.metric.name()
        && fast_scan_as_logged
        && match cfg {
            Config::Pq { m, ksub } | Config::Opq { m, ksub } => {
                key("num_chunks") == Some(m as u64) && key("num_clusters") == Some(ksub as u64)
            }
            Config::Sq { bits } | Config::Rabitq { bits } => key("num_bits") == Some(u64::from(bits)),
        }
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
        let label = csv::label(r.method.as_deref(), &c, true).unwrap_or_else(|| r.method.clone().unwrap_or_default());
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
