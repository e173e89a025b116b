//! Product quantization on the peer workloads:
//! - FAISS w3: ADC search, 1 M codes of d = 128, 100 queries, k = 10, ksub = 256,
//!   m = 8 / 16 / 32 (codebooks trained on 100,000 vectors);
//! - FAISS w1: training on the original tool's demo data (10,000 × 1024 Gaussian, seed 42)
//!   for (m, ksub) = (4,128), (8,128), (8,256), (16,256), (32,256), and encoding it.
//!
//! - FAISS w12: the same search one query at a time; and the one-query scan alone
//!   (`adc_scan`) for byte and 16-bit codes;
//! - one query's search through the quantized table against the plain scan, same run;
//! - random table loads from L1- to L3-sized tables: the floor under 16-bit codes' scan.
//!
//! `cargo bench --bench pq`. Single thread. Each demo configuration's MSE is printed once.

mod common;
use common::normal;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::{PqParams, ProductQuantizer, Quantizer};

fn params(m: usize, ksub: usize) -> PqParams {
    let mut p = PqParams::new(m, ksub);
    p.kmeans.threads = 1;
    p
}

fn adc_search(c: &mut Criterion) {
    let d = 128;
    let train = normal(100_000 * d, 3);
    let base = HugeBuf::from_slice(&normal(1_000_000 * d, 4));
    let queries = normal(100 * d, 5);
    let mut trained = Vec::new();
    for m in [8usize, 16, 32] {
        let pq = ProductQuantizer::train(d, &train, &params(m, 256)).unwrap();
        let mut codes = HugeBuf::<u8>::zeroed(1_000_000 * pq.code_size());
        pq.encode(&base, &mut codes).unwrap();
        trained.push((m, pq, codes));
    }
    let mut g = c.benchmark_group("pq/search_1M_d128_k10");
    // Elements = query-code pairs: the reported time per element is ns per code.
    g.throughput(Throughput::Elements(100_000_000));
    for (m, pq, codes) in &trained {
        let (mut dist, mut lab) = (vec![0.0; 1000], vec![0i64; 1000]);
        g.bench_function(BenchmarkId::new("m", m), |b| {
            b.iter(|| pq.search(black_box(&queries), black_box(codes), 10, &mut dist, &mut lab).unwrap())
        });
    }
    g.finish();
    // FAISS w12: the first 20 queries, each searched alone (an engine serving one request
    // per thread), which takes the one-query scan instead of the batch's.
    let mut g = c.benchmark_group("pq/search_one_1M_d128_k10");
    g.throughput(Throughput::Elements(20_000_000));
    for (m, pq, codes) in &trained {
        let (mut dist, mut lab) = (vec![0.0; 10], vec![0i64; 10]);
        g.bench_function(BenchmarkId::new("m", m), |b| {
            b.iter(|| {
                for q in queries.chunks_exact(d).take(20) {
                    pq.search(black_box(q), black_box(codes), 10, &mut dist, &mut lab).unwrap();
                }
            })
        });
    }
    g.finish();
}

/// The one-query ADC scan alone (`adc_scan` over a given table), 1 M codes, for the byte
/// and 16-bit layouts: the loop a faster single-query kernel must beat. Random codebooks
/// and codes: the scan's speed depends on the layout and `m` only.
fn adc_scan(c: &mut Criterion) {
    let (d, n) = (128, 1_000_000u64);
    let mut g = c.benchmark_group("pq/adc_scan_1M_d128");
    g.throughput(Throughput::Elements(n));
    for (m, ksub) in [(8usize, 256usize), (16, 256), (32, 256), (8, 65536), (16, 65536)] {
        let pq = ProductQuantizer::from_centroids(d, m, ksub, normal(ksub * d, 6)).unwrap();
        let mut table = vec![0f32; m * ksub];
        pq.distance_table(&normal(d, 7), &mut table).unwrap();
        // Uniform sub-codes (a multiplicative hash): table rows are hit as real codes hit them.
        let codes: Vec<u8> =
            (0..n * pq.code_size() as u64).map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8).collect();
        let mut out = vec![0f32; n as usize];
        g.bench_function(BenchmarkId::from_parameter(format!("m{m}_k{ksub}")), |b| {
            b.iter(|| pq.adc_scan(black_box(&table), black_box(&codes), &mut out).unwrap())
        });
    }
    g.finish();
}

/// One query's search, k = 10, 1 M codes of 256 centroids, through the quantized table
/// looked up in registers (`search`) and through the plain scan of the float table
/// (`search_with_table` with `m·ksub` floats), in the same run. Random codebooks and codes,
/// as above.
fn search_one_paths(c: &mut Criterion) {
    let (d, n) = (128, 1_000_000u64);
    let mut g = c.benchmark_group("pq/search_one_paths_1M_d128_k10");
    g.throughput(Throughput::Elements(n));
    for (m, ksub) in [(8usize, 256usize), (16, 256), (32, 256)] {
        let pq = ProductQuantizer::from_centroids(d, m, ksub, normal(ksub * d, 6)).unwrap();
        let query = normal(d, 7);
        let codes: Vec<u8> =
            (0..n * pq.code_size() as u64).map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8).collect();
        let (mut dist, mut lab) = (vec![0f32; 10], vec![0i64; 10]);
        let mut plain = vec![0f32; m * ksub];
        g.bench_function(BenchmarkId::new("plain", format!("m{m}_k{ksub}")), |b| {
            b.iter(|| pq.search_with_table(&mut plain, black_box(&query), black_box(&codes), 10, &mut dist, &mut lab))
        });
        g.bench_function(BenchmarkId::new("quantized", format!("m{m}_k{ksub}")), |b| {
            b.iter(|| pq.search(black_box(&query), black_box(&codes), 10, &mut dist, &mut lab).unwrap())
        });
    }
    g.finish();
}

/// The floor under any one-query scan of 16-bit codes: random scalar loads (four
/// independent sums, as `adc_scan`) from tables of 16 KiB to 4 MiB, indices from L1. A
/// 16-bit code's row is 256 KiB of floats (64 KiB as bytes, 32 KiB as nibbles), so no
/// layout keeps it in L1.
fn random_lookup(c: &mut Criterion) {
    let n = 16_384usize;
    let mut g = c.benchmark_group("pq/random_lookup");
    g.throughput(Throughput::Elements(n as u64));
    for kib in [16usize, 64, 256, 1024, 4096] {
        let len = kib * 256;
        let table = normal(len, 9);
        let idx: Vec<u32> =
            (0..n as u64).map(|i| ((i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % len) as u32).collect();
        g.bench_function(BenchmarkId::from_parameter(format!("{kib}KiB")), |b| {
            b.iter(|| {
                let (t, mut s) = (black_box(&table[..]), [0f32; 4]);
                for q in black_box(&idx[..]).chunks_exact(4) {
                    for (s, &i) in s.iter_mut().zip(q) {
                        *s += t[i as usize];
                    }
                }
                s
            })
        });
    }
    g.finish();
}

fn demo(c: &mut Criterion) {
    let (x, _) = vq::synthetic::gaussian_demo(10_000, 1024, 0, 42);
    let mut g = c.benchmark_group("pq/demo_train");
    for (m, ksub) in [(4usize, 128usize), (8, 128), (8, 256), (16, 256), (32, 256)] {
        let p = params(m, ksub);
        g.bench_function(BenchmarkId::from_parameter(format!("m{m}_k{ksub}")), |b| {
            b.iter(|| ProductQuantizer::train(1024, black_box(&x), &p).unwrap())
        });
    }
    g.finish();
    let mut g = c.benchmark_group("pq/demo_encode");
    g.throughput(Throughput::Elements(10_000));
    for (m, ksub) in [(4usize, 128usize), (8, 128), (8, 256), (16, 256), (32, 256)] {
        let pq = ProductQuantizer::train(1024, &x, &params(m, ksub)).unwrap();
        let mut codes = vec![0u8; 10_000 * pq.code_size()];
        pq.encode(&x, &mut codes).unwrap();
        let mut rec = vec![0.0; x.len()];
        pq.decode(&codes, &mut rec).unwrap();
        let mse = vq::metrics::reconstruction_mse(1024, &x, &rec).unwrap();
        eprintln!("pq demo m={m} ksub={ksub}: MSE {mse:.2}");
        g.bench_function(BenchmarkId::from_parameter(format!("m{m}_k{ksub}")), |b| {
            b.iter(|| pq.encode(black_box(&x), &mut codes).unwrap())
        });
    }
    g.finish();
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(100, 5, 10); targets = adc_search, adc_scan, search_one_paths, random_lookup, demo }
}
criterion_main!(group::benches);
