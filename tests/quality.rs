//! Quality on real data: the MiniLM fixture in tests/data (2,000 real 384-d sentence
//! embeddings, 100 queries, exact top-100; provenance in tests/data/README.md).
//!
//! Floors were measured with this code on this fixture (2026-11-24) and set a little below,
//! so a regression fails but float noise does not. Measured, vq vs FAISS 1.15.1
//! (IndexScalarQuantizer, same fixture, same truth):
//!
//! | quantizer | vq recall@10 / @100 / MSE  | FAISS recall@10 / @100 / MSE |
//! |-----------|----------------------------|------------------------------|
//! | SQ4       | 0.937 / 0.946 / 1.358e-2   | 0.938 / 0.944 / 1.545e-2     |
//! | SQ8       | 1.000 / 0.997 / 5.31e-5    | 0.998 / 0.9965 / 5.35e-5     |
//! | SQ16/fp16 | 1.000 / 1.000 / 8.1e-10    | 1.000 / 0.9998 / 4.3e-8      |
// The fixture is read through vq::data (the default `data` feature).
#![cfg(feature = "data")]

use std::path::Path;
use vq::data::texmex;
use vq::metrics::{recall_at_k, reconstruction_mse};
use vq::{search, Quantizer, ScalarQuantizer, SqBits};

fn fixture() -> (Vec<f32>, Vec<f32>, Vec<i64>, usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let (base, d) = texmex::read_fvecs(&dir.join("minilm_base_2k.fvecs")).unwrap();
    let (queries, dq) = texmex::read_fvecs(&dir.join("minilm_query_100.fvecs")).unwrap();
    let (gt, k) = texmex::read_ivecs(&dir.join("minilm_gt_100.ivecs")).unwrap();
    assert_eq!((d, dq, k, base.len() / d, queries.len() / d), (384, 384, 100, 2000, 100));
    (base, queries, gt.into_iter().map(i64::from).collect(), d)
}

fn sq_quality(bits: SqBits) -> (f64, f64, f64) {
    let (base, queries, gt, d) = fixture();
    let sq = ScalarQuantizer::train(bits, d, &base).unwrap();
    let mut codes = vec![0u8; 2000 * sq.code_size()];
    sq.encode(&base, &mut codes).unwrap();
    let mut rec = vec![0.0; base.len()];
    sq.decode(&codes, &mut rec).unwrap();
    let k = 100;
    let (mut dist, mut lab) = (vec![0.0; 100 * k], vec![0i64; 100 * k]);
    sq.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
    let r10 = recall_at_k(&gt, 100, &lab, k, 10).unwrap();
    let r100 = recall_at_k(&gt, 100, &lab, k, 100).unwrap();
    let mse = reconstruction_mse(d, &base, &rec).unwrap();
    eprintln!("{bits:?}: recall@10 {r10:.4}, recall@100 {r100:.4}, MSE {mse:.3e}");
    (r10, r100, mse)
}

#[test]
fn exact_search_reproduces_the_fixture_truth() {
    let (base, queries, gt, d) = fixture();
    let k = 100;
    let (mut dist, mut lab) = (vec![0.0; 100 * k], vec![0i64; 100 * k]);
    search::knn(d, &queries, &base, k, &mut dist, &mut lab).unwrap();
    // f32 kernels against f64 truth: the fixture README reports no near-ties at rank 10.
    assert!(recall_at_k(&gt, 100, &lab, k, 10).unwrap() >= 0.999);
    assert!(recall_at_k(&gt, 100, &lab, k, 100).unwrap() >= 0.995);
}

#[test]
fn sq8_recall_floor() {
    let (r10, r100, mse) = sq_quality(SqBits::B8);
    assert!(r10 >= 0.99, "SQ8 recall@10 {r10} (the issue's floor is 0.95; measured 1.000)");
    assert!(r100 >= 0.99, "SQ8 recall@100 {r100}");
    assert!(mse < 5.5e-5, "SQ8 MSE {mse} (FAISS QT_8bit: 5.35e-5)");
}

#[test]
fn sq4_and_sq16_floors() {
    let (r10, _, mse4) = sq_quality(SqBits::B4);
    assert!(r10 >= 0.92, "SQ4 recall@10 {r10}");
    assert!(mse4 < 1.45e-2, "SQ4 MSE {mse4} (FAISS QT_4bit: 1.545e-2)");
    let (r10, _, mse16) = sq_quality(SqBits::B16);
    assert!(r10 >= 0.995, "SQ16 recall@10 {r10}");
    // 12 more bits: the error shrinks by about 2^24 in MSE.
    assert!(mse16 < mse4 * 1e-5, "SQ16 MSE {mse16} vs SQ4 {mse4}");
}

/// The original tool's demo data (Gaussian 10,000 × 1024, seed 42, 100 held-out queries),
/// generated bit for bit as NumPy does, so FAISS's figures on it compare one to one.
/// FAISS 1.15.1 on the same data (peer script w1, 2026-11-24), and vq as measured here:
///
/// | quantizer | FAISS MSE / recall@10 / @100 | vq MSE / recall@10 / @100 |
/// |-----------|------------------------------|---------------------------|
/// | SQ4       | 22.594 / 0.747 / 0.813       | 19.884 / 0.761 / 0.825    |
/// | SQ8       | 0.0782 / 0.984 / 0.9882      | 0.0777 / 0.980 / 0.9886   |
///
/// SQ8's recall@10 is 4 neighbours in 1,000 below FAISS's, while its MSE and recall@100
/// are better: at 1024 dimensions the ranks 10 and 11 are often within the distance
/// estimate's noise, so which side of them a quantizer lands is close to a coin toss.
/// The floors below hold vq to its own figures.
#[test]
fn sq_on_the_demo_data_against_faiss() {
    let (n, d, nq, k) = (10_000, 1024, 100, 100);
    let (base, queries) = vq::synthetic::gaussian_demo(n, d, nq, 42);
    let (mut td, mut tl) = (vec![0.0; nq * k], vec![0i64; nq * k]);
    search::knn(d, &queries, &base, k, &mut td, &mut tl).unwrap();
    for (bits, max_mse, min_r10, min_r100) in [(SqBits::B4, 22.594, 0.755, 0.82), (SqBits::B8, 0.0782, 0.975, 0.988)] {
        let sq = ScalarQuantizer::train(bits, d, &base).unwrap();
        let mut codes = vec![0u8; n * sq.code_size()];
        sq.encode(&base, &mut codes).unwrap();
        let mut rec = vec![0.0; base.len()];
        sq.decode(&codes, &mut rec).unwrap();
        let mse = reconstruction_mse(d, &base, &rec).unwrap();
        let (mut dist, mut lab) = (vec![0.0; nq * k], vec![0i64; nq * k]);
        sq.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let r10 = recall_at_k(&tl, k, &lab, k, 10).unwrap();
        let r100 = recall_at_k(&tl, k, &lab, k, 100).unwrap();
        eprintln!("{bits:?} demo: MSE {mse:.5}, recall@10 {r10:.4}, recall@100 {r100:.4}");
        assert!(mse <= max_mse, "{bits:?} MSE {mse} above FAISS's {max_mse}");
        assert!(r10 >= min_r10, "{bits:?} recall@10 {r10} below {min_r10}");
        assert!(r100 >= min_r100, "{bits:?} recall@100 {r100} below {min_r100}");
    }
}

/// PQ on the MiniLM fixture (2,000 base vectors: the codebooks train on the data they
/// encode, as the original tool does). Measured 2026-11-24, vq (`PqParams::new`: 25
/// iterations, random initialisation) against FAISS 1.15.1 `ProductQuantizer` + `IndexPQ` on the same
/// fixture and truth:
///
/// | m × ksub | FAISS recall@10 / @100 / MSE | vq recall@10 / @100 / MSE |
/// |----------|------------------------------|---------------------------|
/// | 8 × 256  | 0.482 / 0.533 / 0.4931       | 0.486 / 0.561 / 0.4921    |
/// | 16 × 256 | 0.595 / 0.621 / 0.4155       | 0.616 / 0.651 / 0.4152    |
/// | 32 × 16  | 0.522 / 0.578 / 0.5738       | 0.542 / 0.580 / 0.5735    |
///
/// vq is at or above FAISS in every cell. Floors: MSE ≤ FAISS's + 0.5% (the bar),
/// recall about 0.02 under vq's own figures.
#[test]
fn pq_floors() {
    use vq::{PqParams, ProductQuantizer};
    let (base, queries, gt, d) = fixture();
    for (m, ksub, faiss_mse, min_r10, min_r100) in
        [(8, 256, 0.4931, 0.46, 0.54), (16, 256, 0.4155, 0.59, 0.63), (32, 16, 0.5738, 0.52, 0.56)]
    {
        let pq = ProductQuantizer::train(d, &base, &PqParams::new(m, ksub)).unwrap();
        let mut codes = vec![0u8; 2000 * pq.code_size()];
        pq.encode(&base, &mut codes).unwrap();
        let mut rec = vec![0.0; base.len()];
        pq.decode(&codes, &mut rec).unwrap();
        let mse = reconstruction_mse(d, &base, &rec).unwrap();
        let k = 100;
        let (mut dist, mut lab) = (vec![0.0; 100 * k], vec![0i64; 100 * k]);
        pq.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let r10 = recall_at_k(&gt, 100, &lab, k, 10).unwrap();
        let r100 = recall_at_k(&gt, 100, &lab, k, 100).unwrap();
        eprintln!("PQ {m}x{ksub}: recall@10 {r10:.3}, recall@100 {r100:.3}, MSE {mse:.4} (FAISS MSE {faiss_mse})");
        assert!(mse <= faiss_mse * 1.005, "PQ {m}x{ksub} MSE {mse} above FAISS's {faiss_mse} + 0.5%");
        assert!(r10 >= min_r10 && r100 >= min_r100, "PQ {m}x{ksub} recall {r10} / {r100}");
    }
}
