//! Search by each metric on FAISS's w10 shapes (1 M codes of d = 128, 100 queries,
//! k = 10, single thread): PQ m = 16 (ksub = 256, trained on 100,000 vectors) and SQ 8 bit,
//! by L2, inner product and cosine, in one run so the three compare.
//!
//! `cargo bench --bench metric`. The time per element is ns per query-code pair.

mod common;
use common::normal;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::{Metric, PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

const N: usize = 1_000_000;
const D: usize = 128;
const NQ: usize = 100;
const K: usize = 10;

fn search(c: &mut Criterion) {
    let train = normal(100_000 * D, 3);
    let base = HugeBuf::from_slice(&normal(N * D, 4));
    let queries = normal(NQ * D, 5);
    let mut p = PqParams::new(16, 256);
    p.kmeans.threads = 1;
    let pq = ProductQuantizer::train(D, &train, &p).unwrap();
    let sq = ScalarQuantizer::train(SqBits::B8, D, &train).unwrap();
    let (mut dist, mut lab) = (vec![0.0f32; NQ * K], vec![0i64; NQ * K]);
    for name in ["pq_m16", "sq8"] {
        let mut g = c.benchmark_group(format!("metric/{name}_search_1M_d128_k10"));
        g.throughput(Throughput::Elements((N * NQ) as u64));
        for metric in Metric::ALL {
            // The same codebook or ranges under each metric (cosine codes hold unit vectors).
            let q: Box<dyn Quantizer> = match name {
                "pq_m16" => Box::new(pq.clone().with_metric(metric)),
                _ => Box::new(sq.clone().with_metric(metric)),
            };
            let mut codes = HugeBuf::<u8>::zeroed(N * q.code_size());
            q.encode(&base, &mut codes).unwrap();
            g.bench_function(BenchmarkId::from_parameter(metric), |b| {
                b.iter(|| q.search(black_box(&queries), black_box(&codes), K, &mut dist, &mut lab).unwrap())
            });
        }
        g.finish();
    }
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(10, 3, 10); targets = search }
}
criterion_main!(group::benches);
