//! `gt`: exact top-k ground truth of a query file against a dataset, written as `.ivecs`
//! (one row of k neighbour ids per query, nearest first, ties to the lower id), to pass
//! to later runs with `--ground-truth` instead of recomputing it each time.

use crate::cli::GtArgs;
use crate::dataset::{self, Spec};
use crate::progress::Progress;

pub fn run(a: &GtArgs) -> Result<(), String> {
    crate::atomic::check_output("--output", &a.output)?;
    let ds = dataset::load(&Spec {
        dataset: &a.dataset,
        num_samples: a.num_samples,
        dim: a.dim,
        num_queries: 1,
        queries: Some(&a.queries),
        data_seed: a.data_seed,
        seed: 0,
    })?;
    if a.k > ds.n_base() {
        return Err(format!("--k {} is more than the {} base vectors; expected 1..={}", a.k, ds.n_base(), ds.n_base()));
    }
    let progress = Progress::new(a.quiet);
    let truth = dataset::exact_truth(&ds, a.k, a.threads, &progress)?;
    let ids: Vec<i32> = truth.ids.iter().map(|&i| i as i32).collect();
    crate::atomic::write_with(&a.output, |tmp| {
        vq::data::texmex::write_ivecs(tmp, &ids, truth.k).map_err(|e| e.to_string())
    })?;
    println!(
        "Wrote the exact top-{} of {} queries among {} vectors (dim {}) to {} in {:.2} s",
        truth.k,
        ds.n_queries(),
        ds.n_base(),
        ds.dim,
        a.output.display(),
        truth.seconds
    );
    Ok(())
}
