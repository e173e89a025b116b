//! RaBitQ on FAISS's w8 scan workload: 1 M codes of d = 128 (trained on 100,000 vectors,
//! NumPy-seeded Gaussians as the peer script draws them), 100 queries, k = 10, 1 and 4 bits
//! per dimension, the query quantized to 4 bits (FAISS's `IndexRaBitQ` default). Throughput
//! elements are query-code pairs, so criterion's time per element is ns per code.
//!
//! `rabitq/sign_kernel` measures the two ways of computing the 1-bit part the issue names,
//! on 100,000 codes of d = 128 (in L2/L3) against one query: AND-popcount of the query's 4
//! bit planes (the library's kernel) and a 4-bit lookup table (16 entries per 4 dimensions
//! of the quantized query, looked up code by code: FAISS's fast-scan idea without its
//! interleaved layout), written here over the same bytes.
//!
//! `cargo bench --bench rabitq`. Single thread.

mod common;
use common::{normal, HugeBuf};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::kernels::rabitq::and_popcount_batch;
use vq::{Quantizer, RabitqParams, RabitqQuantizer};

fn search(c: &mut Criterion) {
    let d = 128;
    let (n, nq, k) = (1_000_000, 100, 10);
    let train = normal(100_000 * d, 3);
    let base = HugeBuf::from_slice(&normal(n * d, 4));
    let queries = normal(nq * d, 5);
    let mut g = c.benchmark_group("rabitq/search_1M_d128_k10");
    g.throughput(Throughput::Elements((n * nq) as u64));
    g.sample_size(10);
    for bits in [1u32, 4] {
        let quant = RabitqQuantizer::train(d, &train, &RabitqParams::new(bits)).unwrap();
        let mut codes = HugeBuf::<u8>::zeroed(n * quant.code_size());
        quant.encode(&base, &mut codes).unwrap();
        let (mut dist, mut lab) = (vec![0.0; nq * k], vec![0i64; nq * k]);
        g.bench_function(BenchmarkId::new("bits", bits), |b| {
            b.iter(|| quant.search(black_box(&queries), black_box(&codes), k, &mut dist, &mut lab).unwrap())
        });
    }
    g.finish();
}

/// The 4-bit lookup alternative: `lut[g][nibble] = Σ_{t: bit t of nibble} qq[4g + t]`, one
/// lookup per 4 dimensions of each code (low nibble first, as the bits are stored).
fn lut_batch(lut: &[[u16; 16]], codes: &[u8], code_size: usize, plane: usize, dots: &mut [u32]) {
    for (code, dot) in codes.chunks_exact(code_size).zip(dots.iter_mut()) {
        let mut acc = [0u32; 4];
        for (i, (&b, l)) in code[..plane].iter().zip(lut.chunks_exact(2)).enumerate() {
            acc[i % 2] += u32::from(l[0][usize::from(b & 15)]);
            acc[2 + i % 2] += u32::from(l[1][usize::from(b >> 4)]);
        }
        *dot = acc.iter().sum();
    }
}

fn sign_kernel(c: &mut Criterion) {
    let (d, n, qb) = (128usize, 100_000usize, 4usize);
    let quant = RabitqQuantizer::train(d, &normal(1000 * d, 6), &RabitqParams::new(1)).unwrap();
    let mut codes = vec![0u8; n * quant.code_size()];
    quant.encode(&normal(n * d, 7), &mut codes).unwrap();
    let qq: Vec<u32> = normal(d, 8).iter().map(|v| ((v + 3.0) * 2.5).clamp(0.0, 15.0) as u32).collect();
    let mut planes = vec![0u64; 2 * qb];
    for (i, &q) in qq.iter().enumerate() {
        for j in 0..qb {
            planes[(i / 64) * qb + j] |= u64::from((q >> j) & 1) << (i % 64);
        }
    }
    let lut: Vec<[u16; 16]> = qq
        .chunks_exact(4)
        .map(|q| std::array::from_fn(|v| (0..4).filter(|t| (v >> t) & 1 == 1).map(|t| q[t] as u16).sum()))
        .collect();
    let (mut dots, mut pops, mut lut_dots) = (vec![0u32; n], vec![0u32; n], vec![0u32; n]);
    lut_batch(&lut, &codes, quant.code_size(), d / 8, &mut lut_dots);
    and_popcount_batch(d, qb, &planes, &codes, quant.code_size(), &mut dots, &mut pops).unwrap();
    assert_eq!(dots, lut_dots, "the two kernels disagree");
    let mut g = c.benchmark_group("rabitq/sign_kernel_d128_qb4");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("and_popcount", |b| {
        b.iter(|| {
            and_popcount_batch(d, qb, black_box(&planes), black_box(&codes), quant.code_size(), &mut dots, &mut pops)
                .unwrap()
        })
    });
    g.bench_function("lut4", |b| {
        b.iter(|| lut_batch(black_box(&lut), black_box(&codes), quant.code_size(), d / 8, &mut lut_dots))
    });
    g.finish();
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(500, 3, 10); targets = sign_kernel, search }
}
criterion_main!(group::benches);
