//! Distance kernels at every SIMD level: one query against n contiguous rows, in cache
//! (n = 2,000) and memory-resident (n = 100,000), d ∈ {128, 384, 1024}; and single pairs.
//!
//! `cargo bench --bench kernels`; filter with e.g. `-- l2sq_batch/d128_n2000`.
//! Throughput is reported as rows/s (elements) and bytes of rows read per second.

mod common;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::kernels::{dot, dot_batch, l2sq, l2sq_batch};
use vq::simd::{available, with_level};

fn gaussianish(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn batch(c: &mut Criterion) {
    for (name, f) in [("l2sq_batch", l2sq_batch as fn(&[f32], &[f32], &mut [f32]) -> _), ("dot_batch", dot_batch)] {
        for n in [2_000usize, 100_000] {
            for d in [128usize, 384, 1024] {
                let rows = HugeBuf::from_slice(&gaussianish(n * d, 1));
                let q = gaussianish(d, 2);
                let mut out = vec![0.0f32; n];
                let mut g = c.benchmark_group(format!("{name}/d{d}_n{n}"));
                g.throughput(Throughput::Elements(n as u64));
                for &level in available() {
                    g.bench_function(BenchmarkId::from_parameter(level), |b| {
                        with_level(level, || b.iter(|| f(black_box(&q), black_box(&rows), &mut out).unwrap())).unwrap()
                    });
                }
                g.finish();
            }
        }
    }
}

fn pair(c: &mut Criterion) {
    for d in [128usize, 384, 1024] {
        let a = gaussianish(d, 3);
        let b2 = gaussianish(d, 4);
        let mut g = c.benchmark_group(format!("pair/d{d}"));
        g.throughput(Throughput::Bytes((8 * d) as u64));
        for &level in available() {
            g.bench_function(BenchmarkId::new("l2sq", level), |b| {
                with_level(level, || b.iter(|| l2sq(black_box(&a), black_box(&b2)).unwrap())).unwrap()
            });
            g.bench_function(BenchmarkId::new("dot", level), |b| {
                with_level(level, || b.iter(|| dot(black_box(&a), black_box(&b2)).unwrap())).unwrap()
            });
        }
        g.finish();
    }
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(500, 2, 30); targets = batch, pair }
}
criterion_main!(group::benches);
