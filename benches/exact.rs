//! Exact search (the ground-truth engine) on the peer workload, FAISS w11: 1,000 Gaussian
//! queries over 1 M × 384 Gaussian rows, top-100, on 2 threads (`IndexFlatL2` with
//! `--threads 2`); and smaller shapes: the same queries over 100,000 rows on 1 and 2
//! threads, and 4 queries (below `PRODUCT_MIN_QUERIES`: scored pair by pair).
//!
//! `cargo bench --bench exact` (about five minutes; `-- w11` for the peer workload alone).
//! Each iteration is a whole search: `new`, one `add` of every row, `results`.

mod common;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::exact::{ExactSearch, Metric};

fn gaussian(n: usize, seed: u32) -> HugeBuf<f32> {
    let mut v = HugeBuf::zeroed(n);
    vq::synthetic::NumpyLegacyRng::new(seed).fill_standard_normal_f32(&mut v);
    v
}

fn search(d: usize, queries: &[f32], rows: &[f32], k: usize, threads: usize, out: (&mut [f32], &mut [i64])) {
    let mut s = ExactSearch::new(d, queries, k, Metric::L2, threads).unwrap();
    s.add(rows, 0).unwrap();
    s.results(out.0, out.1).unwrap();
}

fn exact(c: &mut Criterion) {
    let (d, k) = (384, 100);
    let queries = gaussian(1_000 * d, 12);
    let base = gaussian(1_000_000 * d, 11);
    let (mut dist, mut lab) = (vec![0f32; 1_000 * k], vec![0i64; 1_000 * k]);
    {
        let mut g = c.benchmark_group("exact/w11_1000q_1M_d384_k100");
        // Elements = query-row pairs: the reported time per element is ns per pair.
        g.throughput(Throughput::Elements(1_000 * 1_000_000));
        g.bench_function(BenchmarkId::new("threads", 2), |b| {
            b.iter(|| search(d, black_box(&queries), black_box(&base), k, 2, (&mut dist, &mut lab)))
        });
        g.finish();
    }
    let small = &base[..100_000 * d];
    let mut g = c.benchmark_group("exact/1000q_100k_d384_k100");
    g.throughput(Throughput::Elements(1_000 * 100_000));
    for threads in [1, 2] {
        g.bench_function(BenchmarkId::new("threads", threads), |b| {
            b.iter(|| search(d, black_box(&queries), black_box(small), k, threads, (&mut dist, &mut lab)))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("exact/4q_100k_d384_k100");
    g.throughput(Throughput::Elements(4 * 100_000));
    let few = &queries[..4 * d];
    let (d4, l4) = (&mut dist[..4 * k], &mut lab[..4 * k]);
    g.bench_function(BenchmarkId::new("threads", 1), |b| {
        b.iter(|| search(d, black_box(few), black_box(small), k, 1, (&mut *d4, &mut *l4)))
    });
    g.finish();
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(100, 20, 10); targets = exact }
}
criterion_main!(group::benches);
