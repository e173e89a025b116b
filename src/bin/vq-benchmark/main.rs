//! `vq-benchmark`: the compression-vs-quality sweep tool, compatible with the original
//! Python tool's commands, flags, run-log table and plots (see the README's CLI section).
//!
//! One concept per file: `cli` (arguments), `dataset` (loading, through `vq::data`), `hub`
//! (Hugging Face Hub datasets and the cache), `embed` (sentence embeddings of text
//! columns), `measure` (one run and its metrics), `evaluate` (the passes over the data
//! that measure every configuration), `fast_scan` (the 4-bit PQ fast scan of a run),
//! `fingerprint`, `memory`, `sweep` (planning and logging runs), `shard` (a sweep split
//! across processes), `slurm` (job-array scripts), `runlog` (SQLite), `csv`, `plot`,
//! `render` (plots as SVG, PNG or PDF), `progress`,
//! `provenance` (git, CPU, time), `invocation` (the command line), `atomic` (output files that appear whole or not at all),
//! `gt` (ground-truth files), `gen` (synthetic datasets).

pub(crate) mod atomic;
pub(crate) mod cli;
pub(crate) mod csv;
pub(crate) mod dataset;
#[cfg(feature = "embed")]
pub(crate) mod embed;
pub(crate) mod evaluate;
pub(crate) mod fast_scan;
pub(crate) mod fingerprint;
pub(crate) mod gen;
pub(crate) mod gt;
pub(crate) mod hub;
pub(crate) mod invocation;
pub(crate) mod measure;
pub(crate) mod memory;
pub(crate) mod plot;
pub(crate) mod progress;
pub(crate) mod provenance;
pub(crate) mod render;
pub(crate) mod runlog;
pub(crate) mod shard;
pub(crate) mod slurm;
pub(crate) mod sweep;
pub(crate) mod truth_meta;

use clap::Parser;
use cli::{Cli, Command, ExportArgs, InfoArgs, MergeArgs, PlotArgs};
use std::process::ExitCode;

fn main() -> ExitCode {
    run(std::env::args_os(), None)
}

/// The whole tool on `args` (the program name first, as `std::env::args_os` gives it): the
/// binary's `main`, and the Python package's `vq-benchmark` entry point, which compiles this
/// module tree into its extension (hence the `pub(crate)` modules: its crate root re-exports
/// them so the modules' `crate::` paths resolve there too).
///
/// `program` is the path that runs the command again, for a Slurm job script, where it is
/// not this process's executable (the Python package's console script).
pub(crate) fn run(args: impl IntoIterator<Item = std::ffi::OsString>, program: Option<std::path::PathBuf>) -> ExitCode {
    let args: Vec<std::ffi::OsString> = args.into_iter().collect();
    invocation::record(args.clone(), program);
    // Like every Unix filter, end quietly when the reader of our output goes away
    // (`vq-benchmark export | head`): Rust ignores SIGPIPE, and `println!` then panics.
    #[cfg(target_os = "linux")]
    // SAFETY: restoring a signal's default disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
                return ExitCode::from(2);
            }
            eprintln!("{}", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let result = match &cli.command {
        Command::Run(a) => sweep::run_one(a),
        Command::Sweep(a) => sweep::run_sweep(a),
        Command::Plot(a) => plot_cmd(a),
        Command::Export(a) => export_cmd(a),
        Command::Gt(a) => gt::run(a),
        Command::PrecomputeGt(a) => gt::precompute(a),
        Command::Merge(a) => merge_cmd(a),
        Command::Gen(a) => gen::run(a),
        Command::Info(a) => {
            info_cmd(a);
            Ok(())
        }
        Command::Embed(a) => embed_cmd(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a bug report or a CI script needs to know about the build and the machine.
fn info_cmd(a: &InfoArgs) {
    let names = || vq::simd::available().iter().map(|l| l.name());
    if a.simd_levels {
        names().for_each(|n| println!("{n}"));
        return;
    }
    println!("vq {}", env!("CARGO_PKG_VERSION"));
    println!("simd level: {} (detected {})", vq::simd::level(), vq::simd::detected());
    println!("simd levels available: {}", names().collect::<Vec<_>>().join(", "));
}

/// clap's multi-line messages (error, possible values, usage, tip) as one line.
pub(crate) fn one_line(msg: &str) -> String {
    msg.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("For more information") && !l.starts_with("Usage:"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn selection(log: &runlog::RunLog, ids: &[String]) -> Result<Vec<runlog::Run>, String> {
    let runs = log.runs(ids)?;
    for id in ids {
        if !runs.iter().any(|r| r.sweep_id.as_deref() == Some(id.as_str())) {
            return Err(format!("--sweep-id {id}: no runs with this sweep id in the run log"));
        }
    }
    if runs.is_empty() {
        return Err("the run log holds no runs".into());
    }
    Ok(runs)
}

fn plot_cmd(a: &PlotArgs) -> Result<(), String> {
    render::check(a.format)?;
    atomic::check_output("--output", &a.output.join("x"))?;
    let log = runlog::RunLog::open_read(&a.db)?;
    let runs = selection(&log, &a.sweep_id)?;
    let (dir, files) = plot::write_all(&a.output, &runs, a.separate_methods, a.format, a.dpi)?;
    println!("Wrote {} file(s) for {} run(s) to {}", files.len(), runs.len(), dir.display());
    for f in files {
        println!("  {}", f.display());
    }
    Ok(())
}

fn export_cmd(a: &ExportArgs) -> Result<(), String> {
    if let Some(p) = &a.output {
        atomic::check_output("--output", p)?;
    }
    let log = runlog::RunLog::open_read(&a.db)?;
    let runs = selection(&log, &a.sweep_id)?;
    let text = csv::render(&runs);
    match &a.output {
        Some(p) => {
            atomic::write(p, text.as_bytes())?;
            eprintln!("Wrote {} run(s) to {}", runs.len(), p.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

/// Reads every source before writing anything, then adds all their new runs to --db in one
/// transaction: a bad source or a failure leaves --db as it was.
fn merge_cmd(a: &MergeArgs) -> Result<(), String> {
    runlog::check_writable(&a.db)?;
    let dest = std::fs::canonicalize(&a.db).ok();
    let mut runs = Vec::new();
    for src in &a.sources {
        if dest.is_some() && std::fs::canonicalize(src).ok() == dest {
            return Err(format!("merge {}: is the --db being merged into; name it once, as --db", src.display()));
        }
        runs.extend(runlog::RunLog::open_read(src)?.runs(&[])?);
    }
    let log = runlog::RunLog::open(&a.db)?;
    let added = log.merge(&runs)?;
    println!(
        "Merged {} log(s) into {}: {added} run(s) added, {} already there",
        a.sources.len(),
        a.db.display(),
        runs.len() - added
    );
    Ok(())
}

#[cfg(feature = "embed")]
fn embed_cmd(a: &cli::EmbedArgs) -> Result<(), String> {
    embed::run(a)
}

/// The command stays in the help of every build, so a user learns how to get it.
#[cfg(not(feature = "embed"))]
fn embed_cmd(_: &cli::EmbedArgs) -> Result<(), String> {
    Err("embed: this vq-benchmark was built without the `embed` feature; \
         install it with `cargo install --path . --features embed`"
        .into())
}
