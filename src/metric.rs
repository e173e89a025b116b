//! How a query is compared with a vector: squared L2, inner product or cosine similarity.
//!
//! Every search of the crate (exact [`crate::search::knn_with_metric`], the scalar and
//! product quantizers) follows the same rules, those of FAISS's `METRIC_L2` and
//! `METRIC_INNER_PRODUCT`:
//!
//! - **L2**: squared Euclidean distance, smallest first; past the last row `(+∞, −1)`.
//! - **Inner product**: `q·x`, reported as is (not negated), largest first; past the last
//!   row `(−∞, −1)`. Ties go to the lower id under every metric.
//! - **Cosine**: `q·x / (‖q‖‖x‖)`, largest first, as inner product. A quantizer of this
//!   metric normalizes every vector it trains on and encodes, so a code holds the unit
//!   vector `x/‖x‖` and its reconstruction `x̂` is close to it; its mean squared error is
//!   measured against those unit vectors. The query is not copied: the score is computed
//!   as `(q·x̂)·(1/‖q‖)`, which ranks as `q·x̂` does, so a search needs no buffer for a
//!   normalized query.
//!
//! **Normalization** is [`inv_norm`]: `1/‖x‖` from a sum of squares in f64 in a fixed order,
//! so it is the same on every SIMD level and machine and codes stay bit-identical across
//! them; a vector is scaled by it in f32. A zero vector stays zero (its inverse norm is
//! taken as 0), as FAISS's `normalize_L2` leaves it.

use crate::Error;

/// How a query and a vector are compared. See the module docs for the ordering and the
/// value each search reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Metric {
    /// Squared Euclidean distance, smallest first.
    #[default]
    L2,
    /// Inner product, largest first.
    InnerProduct,
    /// Cosine similarity, largest first: the inner product of unit vectors.
    Cosine,
}

impl Metric {
    /// Every metric, in the order of their numbers ([`Metric::number`]).
    pub const ALL: [Metric; 3] = [Metric::L2, Metric::InnerProduct, Metric::Cosine];

    /// The metric a name spells, case-insensitively: `l2` (also `euclidean`, `METRIC_L2`),
    /// `ip` (also `inner_product`, `dot`, `METRIC_INNER_PRODUCT`: the original tool's and
    /// FAISS's spellings) or `cosine` (also `cos`).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the string.
    pub fn parse(name: &str) -> Result<Metric, Error> {
        let n = name.trim().to_ascii_lowercase();
        let n = n.strip_prefix("metric_").unwrap_or(&n);
        match n {
            "l2" | "euclidean" | "l2sq" => Ok(Metric::L2),
            "ip" | "inner_product" | "innerproduct" | "inner-product" | "dot" => Ok(Metric::InnerProduct),
            "cosine" | "cos" => Ok(Metric::Cosine),
            _ => Err(Error::OutOfRange {
                what: "metric",
                got: format!("{name:?}"),
                accepted: "l2, ip (inner_product) or cosine",
            }),
        }
    }

    /// The short name `parse` reads back: `l2`, `ip` or `cosine` (as `config_json` records it).
    pub const fn name(self) -> &'static str {
        match self {
            Metric::L2 => "l2",
            Metric::InnerProduct => "ip",
            Metric::Cosine => "cosine",
        }
    }

    /// The metric's number in model files and the C ABI: 0 L2, 1 inner product, 2 cosine.
    pub const fn number(self) -> u32 {
        match self {
            Metric::L2 => 0,
            Metric::InnerProduct => 1,
            Metric::Cosine => 2,
        }
    }

    /// The metric of a number ([`Metric::number`]).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for anything but 0, 1 or 2.
    pub fn from_number(n: u32) -> Result<Metric, Error> {
        Metric::ALL.get(n as usize).copied().ok_or_else(|| Error::OutOfRange {
            what: "metric",
            got: n.to_string(),
            accepted: "0 (L2), 1 (inner product) or 2 (cosine)",
        })
    }

    /// Whether larger scores rank first (inner product, cosine).
    pub const fn larger_is_better(self) -> bool {
        !matches!(self, Metric::L2)
    }

    /// The score past the last row: `+∞` for L2, `−∞` for the similarities.
    pub const fn worst(self) -> f32 {
        match self {
            Metric::L2 => f32::INFINITY,
            _ => f32::NEG_INFINITY,
        }
    }
}

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Metric::parse(s)
    }
}

/// `1/‖x‖`, or 0 for a zero vector (and where `1/‖x‖` is not a finite f32: a norm below
/// about 2.9e-39, whose inverse overflows, treats `x` as zero rather than scaling by +∞,
/// which would turn zeros into NaN): the sum of squares in f64, four accumulators in a
/// fixed order, so every machine gets the same bits.
pub fn inv_norm(x: &[f32]) -> f32 {
    let mut acc = [0f64; 4];
    let (x4, x1) = x.as_chunks::<4>();
    for c in x4 {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f64::from(v) * f64::from(v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(x1) {
        *a += f64::from(v) * f64::from(v);
    }
    let s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    // Checked after the conversion: 1/‖x‖ may be finite in f64 and overflow f32.
    let inv = (1.0 / s.sqrt()) as f32;
    if s > 0.0 && inv.is_finite() {
        inv
    } else {
        0.0
    }
}

/// Scales every `dim`-wide row of `rows` to unit norm in place (zero rows stay zero).
pub fn normalize_rows(dim: usize, rows: &mut [f32]) {
    if dim == 0 {
        return;
    }
    for row in rows.chunks_exact_mut(dim) {
        let s = inv_norm(row);
        for v in row {
            *v *= s;
        }
    }
}

/// Calls `f(chunk, first_row)` on the rows of `rows` normalized, a chunk at a time, in a
/// buffer of at most 32 KiB (or one row, if larger) from [`crate::scratch`]: the encoders
/// of cosine quantizers normalize without allocating per call.
pub(crate) fn normalized_chunks(dim: usize, rows: &[f32], mut f: impl FnMut(&[f32], usize)) {
    if dim == 0 || rows.is_empty() {
        return;
    }
    let n = rows.len() / dim;
    let per = (crate::scratch::STACK_FLOATS / dim).clamp(1, n);
    crate::scratch::with_f32(per * dim, |buf| {
        for (c, chunk) in rows.chunks(per * dim).enumerate() {
            let b = &mut buf[..chunk.len()];
            b.copy_from_slice(chunk);
            normalize_rows(dim, b);
            f(b, c * per);
        }
    });
}

/// Turns a search's internal scores (smaller is better: the distance for L2, `−q·x` for
/// the similarities) into what it reports: negated back for the similarities and, for
/// cosine, scaled by `inv_norm(query)`. Sentinels become `−∞`.
pub(crate) fn report(metric: Metric, query_inv_norm: f32, scores: &mut [f32]) {
    match metric {
        Metric::L2 => {}
        Metric::InnerProduct => scores.iter_mut().for_each(|d| *d = 0.0 - *d),
        Metric::Cosine => scores.iter_mut().for_each(|d| {
            // Only the sentinel is +∞ here (a real row's score of +∞ never enters a heap);
            // an overflowed best score, −∞ here, stays the +∞ it is, except for a zero
            // query: its cosine with every row is 0 (`inv_norm` is 0), and ∞·0 would put
            // a NaN among a search's results.
            *d = if *d == f32::INFINITY {
                f32::NEG_INFINITY
            } else if *d == f32::NEG_INFINITY && query_inv_norm == 0.0 {
                0.0
            } else {
                (0.0 - *d) * query_inv_norm
            };
        }),
    }
}

/// [`report`] for every query of a search: `distances` holds `k` internal scores per
/// `dim`-wide row of `queries`. Nothing to do for L2.
pub(crate) fn report_queries(metric: Metric, dim: usize, queries: &[f32], k: usize, distances: &mut [f32]) {
    if metric.larger_is_better() {
        for (q, d) in queries.chunks_exact(dim).zip(distances.chunks_exact_mut(k)) {
            report(metric, inv_norm(q), d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_are_named() {
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.name()).unwrap(), m);
            assert_eq!(Metric::from_number(m.number()).unwrap(), m);
        }
        assert_eq!(Metric::parse("INNER_PRODUCT").unwrap(), Metric::InnerProduct);
        assert_eq!(Metric::parse("METRIC_INNER_PRODUCT").unwrap(), Metric::InnerProduct);
        assert_eq!(Metric::parse("L2").unwrap(), Metric::L2);
        let e = Metric::parse("manhattan").unwrap_err().to_string();
        assert!(e.contains("manhattan") && e.contains("cosine"), "{e}");
        assert!(Metric::from_number(3).unwrap_err().to_string().contains('3'));
    }

    #[test]
    fn cosine_reports_no_nan_for_an_overflowed_score_of_a_zero_query() {
        let mut d = [f32::NEG_INFINITY, f32::INFINITY, 3.0, f32::NAN];
        report(Metric::Cosine, 0.0, &mut d);
        assert_eq!(d[..3], [0.0, f32::NEG_INFINITY, 0.0]);
        assert!(d[3].is_nan(), "a NaN score stays NaN (it never enters a search's results)");
        let mut d = [f32::NEG_INFINITY, 2.0];
        report(Metric::Cosine, 0.5, &mut d);
        assert_eq!(d, [f32::INFINITY, -1.0]);
    }

    #[test]
    fn inv_norm_is_exact_enough_and_zero_safe() {
        let x = [3.0f32, 4.0];
        assert_eq!(inv_norm(&x), 0.2);
        assert_eq!(inv_norm(&[0.0; 7]), 0.0);
        assert_eq!(inv_norm(&[]), 0.0);
        // A norm of 2e-40: 1/‖x‖ = 5e39 is finite in f64 but not in f32.
        assert_eq!(inv_norm(&[1e-40; 4]), 0.0);
        assert!(inv_norm(&[f32::MAX; 4]) > 0.0);
        let mut rows = vec![1.0f32, 2.0, 2.0, 0.0, 0.0, 0.0, 1e-30, 0.0, 0.0, 1e-40, 0.0, 1e-40];
        normalize_rows(3, &mut rows);
        assert_eq!(&rows[..3], &[1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]);
        assert_eq!(&rows[3..6], &[0.0; 3]);
        assert!((rows[6] - 1.0).abs() < 1e-6);
        assert_eq!(&rows[9..], &[0.0; 3], "a norm whose inverse overflows f32 normalizes as zero");
    }

    #[test]
    fn normalized_chunks_cover_every_row_once() {
        for dim in [1, 3, 100, 9000] {
            let n = 37;
            let rows: Vec<f32> = (0..n * dim).map(|i| (i % 11) as f32 - 5.0).collect();
            let mut want = rows.clone();
            normalize_rows(dim, &mut want);
            let mut got = vec![f32::NAN; n * dim];
            normalized_chunks(dim, &rows, |c, first| got[first * dim..first * dim + c.len()].copy_from_slice(c));
            assert_eq!(got, want, "dim {dim}");
        }
    }
}
