//! Scalar quantizer throughput at every SIMD level, on the peer workload (FAISS w4):
//! 1,000,000 vectors of d = 128; encode and decode the whole set, and search 100 queries
//! (k = 10) over the 1,000,000 codes.
//!
//! `cargo bench --bench sq`; filter with e.g. `-- sq8/search`.

mod common;
use common::normal;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::simd::{available, with_level};
use vq::{Quantizer, ScalarQuantizer, SqBits};

const N: usize = 1_000_000;
const D: usize = 128;
const NQ: usize = 100;
const K: usize = 10;

fn sq(c: &mut Criterion) {
    let base = HugeBuf::from_slice(&normal(N * D, 6));
    let queries = normal(NQ * D, 7);
    let mut rec = HugeBuf::<f32>::zeroed(N * D);
    for bits in [SqBits::B8, SqBits::B4, SqBits::B16] {
        let sq = ScalarQuantizer::train(bits, D, &base).unwrap();
        let mut codes = HugeBuf::<u8>::zeroed(N * sq.code_size());
        sq.encode(&base, &mut codes).unwrap();
        let name = format!("sq{}", bits.bits());

        let mut g = c.benchmark_group(format!("{name}/encode"));
        g.throughput(Throughput::Elements(N as u64));
        for &level in available() {
            g.bench_function(BenchmarkId::from_parameter(level), |b| {
                with_level(level, || b.iter(|| sq.encode(black_box(&base), &mut codes).unwrap())).unwrap()
            });
        }
        g.finish();

        let mut g = c.benchmark_group(format!("{name}/decode"));
        g.throughput(Throughput::Elements(N as u64));
        for &level in available() {
            g.bench_function(BenchmarkId::from_parameter(level), |b| {
                with_level(level, || b.iter(|| sq.decode(black_box(&codes), &mut rec).unwrap())).unwrap()
            });
        }
        g.finish();

        // The same kernel on 2,000 vectors (1 MiB of output, in cache): its compute rate,
        // where the 1 M run above is bound by memory write bandwidth.
        let mut g = c.benchmark_group(format!("{name}/decode_2k"));
        g.throughput(Throughput::Elements(2_000));
        let (c2k, r2k) = (&codes[..2_000 * sq.code_size()], &mut rec[..2_000 * D]);
        for &level in available() {
            g.bench_function(BenchmarkId::from_parameter(level), |b| {
                with_level(level, || b.iter(|| sq.decode(black_box(c2k), r2k).unwrap())).unwrap()
            });
        }
        g.finish();

        // Elements = query-code pairs, so the reported time per element is ns per code.
        let mut g = c.benchmark_group(format!("{name}/search"));
        g.throughput(Throughput::Elements((N * NQ) as u64));
        let (mut dist, mut lab) = (vec![0.0f32; NQ * K], vec![0i64; NQ * K]);
        for &level in available() {
            g.bench_function(BenchmarkId::from_parameter(level), |b| {
                with_level(level, || {
                    b.iter(|| sq.search(black_box(&queries), black_box(&codes), K, &mut dist, &mut lab).unwrap())
                })
                .unwrap()
            });
        }
        g.finish();
    }
}

/// The single-query asymmetric distance kernel (`Quantizer::distances`, reconstructing on
/// the fly) at the dimensions of the kernel benches, over 100,000 codes.
fn distances(c: &mut Criterion) {
    let n = 100_000;
    for d in [128usize, 384, 1024] {
        let base = HugeBuf::from_slice(&normal(n * d, 8));
        let q = normal(d, 9);
        let mut out = vec![0.0f32; n];
        for bits in [SqBits::B8, SqBits::B4] {
            let sq = ScalarQuantizer::train(bits, d, &base).unwrap();
            let mut codes = HugeBuf::<u8>::zeroed(n * sq.code_size());
            sq.encode(&base, &mut codes).unwrap();
            let mut g = c.benchmark_group(format!("sq{}/distances/d{d}_n{n}", bits.bits()));
            g.throughput(Throughput::Elements(n as u64));
            for &level in available() {
                g.bench_function(BenchmarkId::from_parameter(level), |b| {
                    with_level(level, || b.iter(|| sq.distances(black_box(&q), black_box(&codes), &mut out).unwrap()))
                        .unwrap()
                });
            }
            g.finish();
        }
    }
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(300, 3, 10); targets = sq, distances }
}
criterion_main!(group::benches);
