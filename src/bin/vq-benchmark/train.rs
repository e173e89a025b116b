//! PQ training with the sub-quantizers spread over threads, each trained on one thread.
//!
//! `ProductQuantizer::train` parallelizes inside each k-means (the assignment step), which
//! synchronizes the threads twice per iteration and leaves the centroid update serial. The
//! `m` sub-quantizers are independent, so giving each thread whole sub-quantizers scales
//! better, and it lets the progress bar count finished sub-quantizers. The result is the
//! library's, bit for bit: the same sub-space split (the one `vq::pq` documents), the same
//! per-sub-quantizer seed (`seed + i`), and k-means results do not depend on threads.

use indicatif::ProgressBar;
use std::sync::Mutex;
use vq::{KMeans, PqParams, ProductQuantizer};

/// `(first dimension, dimensions)` of sub-space `i` of `m` over `dim` (see `vq::pq`).
fn subspace(dim: usize, m: usize, i: usize) -> (usize, usize) {
    let (q, r) = (dim / m, dim % m);
    (i * q + i.min(r), q + usize::from(i < r))
}

/// Trains like `ProductQuantizer::train(dim, data, params)`, sub-quantizers over `threads`.
pub fn train_pq(
    dim: usize,
    data: &[f32],
    params: &PqParams,
    threads: usize,
    bar: &ProgressBar,
) -> Result<ProductQuantizer, vq::Error> {
    let m = params.m;
    if threads <= 1 || m < 2 || params.m > dim {
        // One thread, or a shape the library rejects with its own message.
        let pq = ProductQuantizer::train(dim, data, params)?;
        bar.set_position(m as u64);
        return Ok(pq);
    }
    let n = data.len() / dim;
    let next = Mutex::new(0usize);
    // Slot i: the centroids of sub-quantizer i, once trained.
    type Slot = Option<Result<Vec<f32>, vq::Error>>;
    let results: Mutex<Vec<Slot>> = Mutex::new(vec![None; m]);
    std::thread::scope(|s| {
        for _ in 0..threads.min(m) {
            s.spawn(|| loop {
                let i = {
                    let mut g = next.lock().expect("queue");
                    let i = *g;
                    *g += 1;
                    i
                };
                if i >= m {
                    break;
                }
                let (off, ds) = subspace(dim, m, i);
                let mut sub = Vec::with_capacity(n * ds);
                for row in data.chunks_exact(dim) {
                    sub.extend_from_slice(&row[off..off + ds]);
                }
                let mut kp = params.kmeans.clone();
                kp.k = params.ksub;
                kp.seed = params.kmeans.seed.wrapping_add(i as u64);
                kp.threads = 1;
                let r = KMeans::train(ds, &sub, &kp).map(|km| km.centroids().to_vec());
                results.lock().expect("results")[i] = Some(r);
                bar.inc(1);
            });
        }
    });
    let mut centroids = Vec::with_capacity(params.ksub * dim);
    for r in results.into_inner().expect("results") {
        centroids.extend_from_slice(&r.expect("every sub-quantizer ran")?);
    }
    ProductQuantizer::from_centroids(dim, m, params.ksub, centroids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_quantizer_as_the_library_on_uneven_sub_spaces() {
        let (base, _) = vq::synthetic::gaussian_demo(700, 37, 0, 5);
        let mut p = PqParams::new(5, 32);
        p.kmeans.max_iter = 6;
        let want = ProductQuantizer::train(37, &base, &p).unwrap();
        for threads in [2, 3, 8] {
            let got = train_pq(37, &base, &p, threads, &ProgressBar::hidden()).unwrap();
            assert_eq!(got, want, "threads = {threads}");
        }
        // Too few rows: the library's own error.
        let err = train_pq(37, &base[..37 * 10], &p, 2, &ProgressBar::hidden()).unwrap_err();
        assert!(err.to_string().contains("training rows"), "{err}");
    }
}
