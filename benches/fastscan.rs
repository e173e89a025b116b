//! 4-bit PQ fast scan on the FAISS peer workloads (d = 128, codebooks of 16 centroids
//! trained on 100,000 Gaussian vectors, 1 M codes, k = 10, single thread):
//! - w3's `IndexPQFastScan` (m = 16, 32): 100 queries, without re-ranking (FAISS's own
//!   output: the 8-bit sums mapped back to float), and re-ranked from 4k candidates with
//!   the float tables (its cost beside);
//! - the same at k = 100 (FAISS: `scripts/bench/faiss_fastscan_k100.py`);
//! - w12's: 20 queries, each searched alone.
//!
//! `cargo bench --bench fastscan`.

mod common;
use common::normal;
use common::HugeBuf;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vq::{FastScanParams, PackedCodes, PqParams, ProductQuantizer, Quantizer};

fn fast_scan(c: &mut Criterion) {
    let (d, n) = (128, 1_000_000);
    let train = normal(100_000 * d, 3);
    let base = HugeBuf::from_slice(&normal(n * d, 4));
    let queries = normal(100 * d, 5);
    let mut trained = Vec::new();
    for m in [16usize, 32] {
        let mut p = PqParams::new(m, 16);
        p.kmeans.threads = 1;
        let pq = ProductQuantizer::train(d, &train, &p).unwrap();
        let mut codes = HugeBuf::<u8>::zeroed(n * pq.code_size());
        pq.encode(&base, &mut codes).unwrap();
        let packed = PackedCodes::pack(&pq, &codes).unwrap();
        trained.push((m, pq, packed));
    }
    // k = 100 as vq-benchmark searches for recall@100: up to 400 candidates per query,
    // where gathering them weighs as much as the scan.
    for k in [10, 100] {
        let mut g = c.benchmark_group(format!("fastscan/search_1M_d128_k{k}"));
        // Elements = query-code pairs: the reported time per element is ns per code.
        g.throughput(Throughput::Elements(100 * n as u64));
        for (m, pq, packed) in &trained {
            let (mut dist, mut lab) = (vec![0.0; 100 * k], vec![0i64; 100 * k]);
            for factor in [0usize, 4] {
                let p = FastScanParams { rerank_factor: factor };
                g.bench_function(BenchmarkId::from_parameter(format!("m{m}_rerank{factor}")), |b| {
                    b.iter(|| {
                        pq.search_packed(black_box(&queries), black_box(packed), k, &p, &mut dist, &mut lab).unwrap()
                    })
                });
            }
        }
        g.finish();
    }
    let mut g = c.benchmark_group("fastscan/search_one_1M_d128_k10");
    g.throughput(Throughput::Elements(20 * n as u64));
    for (m, pq, packed) in &trained {
        let (mut dist, mut lab) = (vec![0.0; 10], vec![0i64; 10]);
        let p = FastScanParams { rerank_factor: 0 };
        g.bench_function(BenchmarkId::new("m", m), |b| {
            b.iter(|| {
                for q in queries.chunks_exact(d).take(20) {
                    pq.search_packed(black_box(q), black_box(packed), 10, &p, &mut dist, &mut lab).unwrap();
                }
            })
        });
    }
    g.finish();
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(10, 3, 10); targets = fast_scan }
}
criterion_main!(group::benches);
