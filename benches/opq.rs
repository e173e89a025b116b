//! OPQ on a real data set against FAISS's w7 workload (`OPQ{m},PQ{m}`, FAISS's defaults):
//! training time, reconstruction MSE and recall@10 of ADC search, m = 16 and 32, ksub = 256,
//! one thread; then the projection product of one outer iteration (25,000 × 384 by
//! 384 × 384) through `matrixmultiply` and through faer, which chose the former.
//!
//! `VQ_OPQ_DATA=/path/to/folder cargo bench --bench opq` (base.fvecs, query.fvecs,
//! groundtruth.ivecs); `VQ_OPQ_M=16` runs one m only. Without VQ_OPQ_DATA it only times the
//! products.

use std::path::Path;
use std::time::Instant;
use vq::data::texmex::{read_fvecs, read_ivecs};
use vq::metrics::{recall_at_k, reconstruction_mse};
use vq::{OpqParams, OpqQuantizer, Quantizer};

fn main() {
    if let Ok(dir) = std::env::var("VQ_OPQ_DATA") {
        let ms: Vec<usize> = match std::env::var("VQ_OPQ_M") {
            Ok(m) => vec![m.parse().expect("VQ_OPQ_M: a number")],
            Err(_) => vec![16, 32],
        };
        for m in ms {
            quality(Path::new(&dir), m);
        }
    }
    products();
}

fn quality(dir: &Path, m: usize) {
    let (base, d) = read_fvecs(&dir.join("base.fvecs")).expect("base.fvecs");
    let (queries, dq) = read_fvecs(&dir.join("query.fvecs")).expect("query.fvecs");
    let (gt, gk) = read_ivecs(&dir.join("groundtruth.ivecs")).expect("groundtruth.ivecs");
    assert_eq!(d, dq, "query dimension");
    let (n, nq) = (base.len() / d, queries.len() / d);
    let t0 = Instant::now();
    let opq = OpqQuantizer::train(d, &base, &OpqParams::new(m, 256)).expect("train");
    let train_s = t0.elapsed().as_secs_f64();
    let mut codes = vec![0u8; n * opq.code_size()];
    let t1 = Instant::now();
    opq.encode(&base, &mut codes).expect("encode");
    let encode_s = t1.elapsed().as_secs_f64();
    let mut recons = vec![0f32; base.len()];
    opq.decode(&codes, &mut recons).expect("decode");
    let mse = reconstruction_mse(d, &base, &recons).expect("mse");
    let k = 10;
    let (mut dist, mut labels) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let t2 = Instant::now();
    opq.search(&queries, &codes, k, &mut dist, &mut labels).expect("search");
    let search_s = t2.elapsed().as_secs_f64();
    let truth: Vec<i64> = gt.iter().map(|&v| v as i64).collect();
    let recall = recall_at_k(&truth, gk, &labels, k, k).expect("recall");
    println!(
        "opq m={m} ksub=256 n={n} d={d}: train {train_s:.1} s, encode {encode_s:.3} s, search {search_s:.3} s, \
         mse {mse:.4}, recall@10 {recall:.4}"
    );
}

fn products() {
    let (n, d) = (25_000usize, 384usize);
    let x: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5).collect();
    let r: Vec<f32> = (0..d * d).map(|i| ((i * 104729) % 997) as f32 * 1e-3 - 0.5).collect();
    let mut y = vec![0f32; n * d];
    let best = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    // X Rᵀ, R row-major: the training's projection.
    let mm = best(&mut || unsafe {
        // SAFETY: x is n × d, r is d × d (read transposed), y is n × d, all row-major.
        matrixmultiply::sgemm(
            n,
            d,
            d,
            1.0,
            x.as_ptr(),
            d as isize,
            1,
            r.as_ptr(),
            1,
            d as isize,
            0.0,
            y.as_mut_ptr(),
            d as isize,
            1,
        );
    });
    let fa = best(&mut || {
        let xa = faer::MatRef::from_row_major_slice(&x, n, d);
        let ra = faer::MatRef::from_row_major_slice(&r, d, d);
        let ya = faer::MatMut::from_row_major_slice_mut(&mut y, n, d);
        faer::linalg::matmul::matmul(ya, faer::Accum::Replace, xa, ra.transpose(), 1.0f32, faer::Par::Seq);
    });
    // Ŷᵀ X: the Procrustes product.
    let mut m = vec![0f32; d * d];
    let mm2 = best(&mut || unsafe {
        // SAFETY: y read as its d × n transpose, x as n × d, m is d × d; all row-major.
        matrixmultiply::sgemm(
            d,
            n,
            d,
            1.0,
            y.as_ptr(),
            1,
            d as isize,
            x.as_ptr(),
            d as isize,
            1,
            0.0,
            m.as_mut_ptr(),
            d as isize,
            1,
        );
    });
    let fa2 = best(&mut || {
        let xa = faer::MatRef::from_row_major_slice(&x, n, d);
        let ya = faer::MatRef::from_row_major_slice(&y, n, d);
        let ma = faer::MatMut::from_row_major_slice_mut(&mut m, d, d);
        faer::linalg::matmul::matmul(ma, faer::Accum::Replace, ya.transpose(), xa, 1.0f32, faer::Par::Seq);
    });
    let svd = best(&mut || {
        let a = faer::MatRef::from_row_major_slice(&r, d, d);
        std::hint::black_box(a.svd().expect("svd"));
    });
    println!("X·Rᵀ ({n}×{d}·{d}×{d}): matrixmultiply {:.1} ms, faer {:.1} ms", mm * 1e3, fa * 1e3);
    println!("Ŷᵀ·X ({d}×{n}·{n}×{d}): matrixmultiply {:.1} ms, faer {:.1} ms", mm2 * 1e3, fa2 * 1e3);
    println!("SVD {d}×{d} f32 (faer): {:.1} ms", svd * 1e3);
}
