//! The figures a sweep logs for a quantizer, recomputed with the library (included with
//! `#[path]` by the CLI tests that hold a method's logged run to the library's own calls).
// Each including crate uses some of these.
#![allow(dead_code)]

use serde_json::{Map, Value};
use vq::{Metric, OpqParams, PqParams, Quantizer};

/// A sweep's PQ settings as the library's parameters: seed 42, the `--kmeans-*` defaults.
pub fn sweep_pq_params(m: usize, ksub: usize, metric: Metric) -> PqParams {
    let mut p = PqParams::new(m, ksub);
    p.kmeans.seed = 42;
    p.kmeans.tol = 3e-3;
    p.kmeans.hartigan_passes = 4;
    p.metric = metric;
    p
}

/// A sweep's OPQ settings with `--opq-iterations niter`, as the library's parameters.
pub fn sweep_opq_params(m: usize, ksub: usize, metric: Metric, niter: usize) -> OpqParams {
    let mut p = OpqParams::new(m, ksub);
    p.niter = niter;
    p.seed = 42;
    p.kmeans = sweep_pq_params(m, ksub, metric).kmeans;
    p.metric = metric;
    p
}

/// Asserts the logged metrics `m` are `q`'s on `base` and `queries` (rows of `dim`) under
/// `metric`, as a sweep with seed 42 and 1,000 pairs measures them; returns `q`'s codes of
/// `base`.
pub fn assert_library_figures(
    what: &str,
    q: &dyn Quantizer,
    m: &Map<String, Value>,
    metric: Metric,
    (base, queries, dim): (&[f32], &[f32], usize),
) -> Vec<u8> {
    let (n, nq) = (base.len() / dim, queries.len() / dim);
    let mut codes = vec![0u8; n * q.code_size()];
    q.encode(base, &mut codes).unwrap();
    let mut rec = vec![0f32; base.len()];
    q.decode(&codes, &mut rec).unwrap();
    let mut encoded = base.to_vec();
    if metric == Metric::Cosine {
        vq::metric::normalize_rows(dim, &mut encoded);
    }
    let mse = vq::metrics::reconstruction_mse(dim, &encoded, &rec).unwrap();
    near(what, m, "reconstruction_distortion", mse, 1e-9 * mse);
    let pw = vq::metrics::pairwise_distortion(dim, &encoded, &rec, 1000, 42).unwrap();
    near(what, m, "pairwise_distortion_mean", pw.mean, 1e-12);
    let exact = exact_top100(metric, (base, queries, dim));
    let (mut dist, mut found) = (vec![0f32; nq * 100], vec![0i64; nq * 100]);
    q.search(queries, &codes, 100, &mut dist, &mut found).unwrap();
    for at in [10, 100] {
        let want = vq::metrics::recall_at_k(&exact, 100, &found, 100, at).unwrap();
        near(what, m, &format!("recall@{at}"), want, 1e-12);
    }
    let rank = vq::metrics::rank_distortion_at_k(&exact, 100, &found, 100, 10).unwrap();
    near(what, m, "rank_distortion@10", rank, 1e-12);
    near(what, m, "compression_ratio", q.compression_ratio(), 0.0);
    near(what, m, "bytes_per_vector", q.code_size() as f64, 0.0);
    for key in ["train_seconds", "encode_seconds", "decode_seconds", "search_qps"] {
        assert!(m[key].as_f64().is_some_and(|v| v >= 0.0), "{what}: {key}");
    }
    codes
}

/// The exact 100 nearest base rows of every query under `metric`.
pub fn exact_top100(metric: Metric, (base, queries, dim): (&[f32], &[f32], usize)) -> Vec<i64> {
    let nq = queries.len() / dim;
    let (mut dist, mut exact) = (vec![0f32; nq * 100], vec![0i64; nq * 100]);
    vq::search::knn_with_metric(metric, dim, queries, base, 100, &mut dist, &mut exact).unwrap();
    exact
}

/// Asserts the logged `key` of `m` is within `tol` of the library's `want`.
pub fn near(what: &str, m: &Map<String, Value>, key: &str, want: f64, tol: f64) {
    let got = m.get(key).and_then(Value::as_f64).unwrap_or_else(|| panic!("{what}: no {key}"));
    assert!((got - want).abs() <= tol, "{what} {key}: logged {got}, library {want}");
}

/// Whether `svg` has a text element reading exactly `text` (plotters writes it on its own
/// line).
pub fn legend(svg: &str, text: &str) -> bool {
    svg.contains(&format!(">\n{text}\n</text>"))
}
