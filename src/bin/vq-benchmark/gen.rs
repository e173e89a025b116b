//! `gen`: a seeded Gaussian-mixture dataset of any size (`vq::synthetic::GaussianMixture`)
//! written to `.fbin` or `.npy` as it is generated, base and held-out queries, so scale
//! tests and benchmarks need no download. Memory stays at a few batches whatever the size;
//! rows are generated on every thread, and the files are the same for any thread count.
//! Each file appears whole or not at all (written beside it, then renamed).

use crate::cli::GenArgs;
use crate::progress::Progress;
use std::path::{Path, PathBuf};
use vq::synthetic::GaussianMixture;

/// Rows generated per batch.
const BATCH: usize = 16_384;

pub fn run(a: &GenArgs) -> Result<(), String> {
    let queries_path = a.queries_output.clone().unwrap_or_else(|| default_queries_path(&a.output));
    crate::atomic::check_output("--output", &a.output)?;
    crate::atomic::check_output("--queries-output", &queries_path)?;
    if queries_path == a.output {
        return Err(format!("--queries-output {}: is also --output; name two files", queries_path.display()));
    }
    let bytes = (a.num_samples as u128 + a.num_queries as u128) * a.dim as u128 * 4;
    if a.output.extension().is_some_and(|e| e == "fbin") && a.num_samples as u64 > u64::from(u32::MAX) {
        return Err(format!(
            "--num-samples {} is more than a .fbin file holds (4294967295 rows); write .npy",
            a.num_samples
        ));
    }
    let mix = GaussianMixture::new(a.dim, a.clusters, a.spread, a.seed)
        .map_err(|e| format!("--clusters {} --spread {} --dim {}: {e}", a.clusters, a.spread, a.dim))?;
    let threads = crate::dataset::effective_threads(a.threads);
    let progress = Progress::new(a.quiet);
    let t0 = std::time::Instant::now();
    write(&mix, &a.output, 0, a.num_samples, threads, &progress, "base")?;
    write(&mix, &queries_path, a.num_samples as u64, a.num_queries, threads, &progress, "queries")?;
    println!(
        "Wrote {} base rows to {} and {} queries to {} (dim {}, {} clusters, spread {}, seed {}; {:.1} GiB) in {:.1} s",
        a.num_samples,
        a.output.display(),
        a.num_queries,
        queries_path.display(),
        a.dim,
        a.clusters,
        a.spread,
        a.seed,
        bytes as f64 / (1u64 << 30) as f64,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `base.fbin` → `base_queries.fbin`.
fn default_queries_path(output: &Path) -> PathBuf {
    let stem = output.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = output.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_else(|| "fbin".into());
    output.with_file_name(format!("{stem}_queries.{ext}"))
}

/// Rows `first..first + rows` of the mixture to `path`.
fn write(
    mix: &GaussianMixture,
    path: &Path,
    first: u64,
    rows: usize,
    threads: usize,
    progress: &Progress,
    what: &str,
) -> Result<(), String> {
    let d = mix.dim();
    let bar = progress.bar(what, rows as u64);
    let res = crate::atomic::write_with(path, |tmp| {
        let mut w = vq::data::VectorWriter::create(tmp, d).map_err(|e| e.to_string())?;
        let mut buf = vec![0f32; BATCH * d];
        let mut done = 0;
        while done < rows {
            let n = BATCH.min(rows - done);
            let out = &mut buf[..n * d];
            // Each thread fills its own run of rows; a row depends on its index alone.
            let per = n.div_ceil(threads.max(1));
            std::thread::scope(|s| {
                for (i, part) in out.chunks_mut(per * d).enumerate() {
                    let start = first + (done + i * per) as u64;
                    s.spawn(move || mix.fill(start, part).expect("whole rows"));
                }
            });
            w.write_rows(out).map_err(|e| e.to_string())?;
            done += n;
            bar.set_position(done as u64);
        }
        w.finish().map(|_| ()).map_err(|e| e.to_string())
    });
    bar.finish_and_clear();
    res
}
