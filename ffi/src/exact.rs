//! Exact k-nearest-neighbour search, `vq_knn`: the ground truth a quantizer's search is
//! measured against, under any metric.

use crate::metric::metric_arg;
use crate::status::{bytes_of, guard, input, results};
use crate::vq_status;

/// Exact top-`k` search of `queries_len / dim` queries among `rows_len / dim` rows (both
/// `dim` floats wide) by `metric` (`VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
/// `VQ_METRIC_COSINE`; another value is `VQ_STATUS_INVALID_ARGUMENT`). Per query, `k`
/// scores best first and their row ids (0-based), ties to the lower id; `distances_len`
/// and `labels_len` are `nq·k`.
///
/// - L2: squared distances ascending, `(+INFINITY, -1)` where there are fewer than `k` rows.
/// - Inner product: `q·x` (not negated) descending, `(-INFINITY, -1)` past the rows.
/// - Cosine: `q·x / (‖q‖‖x‖)` descending, as inner product; a zero row or query scores 0.
///
/// Scores are those of `vq_l2sq` / `vq_dot` at the process's SIMD level (for cosine, the
/// inner product with the normalized row, times `1/‖q‖`). With fewer than 16 queries rows
/// are scored pair by pair and the call allocates nothing (cosine normalizes the rows
/// through a buffer as `vq_pq_encode` does); with 16 or more it runs a blocked matrix
/// product, which allocates its working memory for the call (for cosine, the rows
/// normalized, at most 32 MiB at a time).
///
/// # Safety
/// The buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_knn(
    metric: u32,
    dim: usize,
    queries: *const f32,
    queries_len: usize,
    rows: *const f32,
    rows_len: usize,
    k: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    guard(|| {
        let metric = metric_arg(metric)?;
        // SAFETY: caller's contract.
        let (q, r) = unsafe { (input("queries", queries, queries_len)?, input("rows", rows, rows_len)?) };
        let ins = [("queries", bytes_of(q)), ("rows", bytes_of(r))];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        Ok(vq::search::knn_with_metric(metric, dim, q, r, k, d, l)?)
    })
}
