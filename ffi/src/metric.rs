//! The metric numbers of the C ABI (`VQ_METRIC_*`) and their check: how a quantizer or an
//! exact search compares a query with a vector. The rules are the library's
//! (`src/metric.rs`), those of FAISS's `METRIC_L2` and `METRIC_INNER_PRODUCT`.

use crate::status::{Failure, Res};
use crate::vq_status;
use vq::Metric;

/// Squared Euclidean distance `‖q − x‖²`, smallest first; past the last row
/// `(+INFINITY, -1)`. What every call without a metric argument uses.
pub const VQ_METRIC_L2: u32 = 0;

/// Inner product `q·x`, reported as is (not negated), largest first; past the last row
/// `(-INFINITY, -1)`. Ties go to the lower id, as under every metric.
pub const VQ_METRIC_INNER_PRODUCT: u32 = 1;

/// Cosine similarity `q·x / (‖q‖‖x‖)`, largest first, sentinels as inner product. A cosine
/// quantizer normalizes every vector it trains on and encodes (a zero vector stays zero),
/// so its codes hold unit vectors and decode to approximations `x̂` of them; a query is not
/// normalized but its scores are scaled: each is `(q·x̂)/‖q‖`.
pub const VQ_METRIC_COSINE: u32 = 2;

/// The value `vq_pq_metric` / `vq_sq_metric` return for a NULL handle: no metric.
pub(crate) const NO_METRIC: u32 = u32::MAX;

/// The library's metric of a C metric number; anything but 0, 1 or 2 is
/// `VQ_STATUS_INVALID_ARGUMENT`, named with the accepted constants.
pub(crate) fn metric_arg(n: u32) -> Res<Metric> {
    Metric::from_number(n).map_err(|_| {
        Failure::new(
            vq_status::InvalidArgument,
            format!(
                "metric = {n} is out of range, accepted: VQ_METRIC_L2 (0), VQ_METRIC_INNER_PRODUCT (1) or \
                 VQ_METRIC_COSINE (2)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_the_library_s() {
        for (n, m) in [
            (VQ_METRIC_L2, Metric::L2),
            (VQ_METRIC_INNER_PRODUCT, Metric::InnerProduct),
            (VQ_METRIC_COSINE, Metric::Cosine),
        ] {
            assert_eq!(metric_arg(n).unwrap(), m);
            assert_eq!(m.number(), n);
        }
        for n in [3, 7, NO_METRIC] {
            let f = metric_arg(n).unwrap_err();
            assert_eq!(f.status, vq_status::InvalidArgument);
            assert!(
                f.message.contains(&format!("metric = {n}")) && f.message.contains("VQ_METRIC_COSINE (2)"),
                "{}",
                f.message
            );
        }
    }
}
