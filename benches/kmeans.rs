//! k-means on the peer workload (FAISS w5): k = 256, n = 65,536, 25 iterations, d = 128 and
//! 32, single thread, no early stop.
//!
//! `cargo bench --bench kmeans`. With `VQ_BENCH_W5_DIR` set to a folder holding
//! `w5_d128.fvecs` and `w5_d32.fvecs`, the exact arrays FAISS's script clusters are used
//! (write them with the snippet in docs/PERFORMANCE.md); otherwise Gaussian data of the
//! same shape. The final objective of each run is printed once, to compare with FAISS's.

mod common;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use vq::kmeans::{Init, KMeans, KMeansParams};

fn data(d: usize) -> Vec<f32> {
    if let Ok(dir) = std::env::var("VQ_BENCH_W5_DIR") {
        let (x, dd) = vq::data::texmex::read_fvecs(&std::path::Path::new(&dir).join(format!("w5_d{d}.fvecs"))).unwrap();
        assert_eq!(dd, d);
        return x;
    }
    common::normal(65_536 * d, 8)
}

fn kmeans(c: &mut Criterion) {
    for d in [128usize, 32] {
        let x = data(d);
        let mut g = c.benchmark_group(format!("kmeans/d{d}_k256_n65536_it25"));
        for init in [Init::PlusPlus, Init::Random] {
            let mut p = KMeansParams::new(256);
            p.init = init;
            p.threads = 1;
            let km = KMeans::train(d, &x, &p).unwrap();
            eprintln!(
                "kmeans d={d} {init:?}: objective {:.6e} after {} iterations",
                km.objective(),
                km.objectives().len()
            );
            g.bench_function(BenchmarkId::from_parameter(format!("{init:?}")), |b| {
                b.iter(|| KMeans::train(d, &x, &p).unwrap())
            });
        }
        g.finish();
    }
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(100, 10, 10); targets = kmeans }
}
criterion_main!(group::benches);
