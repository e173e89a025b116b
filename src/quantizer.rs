//! The interface every quantizer shares, so the sweep tool, the metrics and the C ABI can
//! treat SQ and PQ alike: fixed-size codes, batch encode and decode into caller buffers,
//! and asymmetric (f32 query against codes) distances and top-k search.

use crate::{Error, Metric};

/// A trained vector quantizer with fixed-size codes.
///
/// Every method writes into caller buffers and allocates nothing. Row-major layouts: `n`
/// vectors are `n·dim()` floats, `n` codes are `n·code_size()` bytes.
pub trait Quantizer {
    /// Dimension of the vectors it encodes.
    fn dim(&self) -> usize;

    /// How [`Quantizer::distances`] and [`Quantizer::search`] compare a query with a code
    /// (see [`crate::metric`]); a cosine quantizer also normalizes what it encodes.
    fn metric(&self) -> Metric;

    /// Bytes per encoded vector.
    fn code_size(&self) -> usize;

    /// `4·dim / code_size`: how many times smaller a code is than the f32 vector.
    fn compression_ratio(&self) -> f64 {
        (4 * self.dim()) as f64 / self.code_size() as f64
    }

    /// Encodes `vectors` (`n·dim` floats) into `codes` (`n·code_size` bytes).
    ///
    /// # Errors
    /// [`Error::NotWholeRows`] or [`Error::BufferLength`] on mismatched lengths.
    fn encode(&self, vectors: &[f32], codes: &mut [u8]) -> Result<(), Error>;

    /// Decodes `codes` into `vectors`.
    ///
    /// # Errors
    /// As [`Quantizer::encode`].
    fn decode(&self, codes: &[u8], vectors: &mut [f32]) -> Result<(), Error>;

    /// `out[i]` = the score of code `i` for `query` under [`Quantizer::metric`]: the squared
    /// L2 distance from `query` to the code's reconstruction `x̂`, the inner product `q·x̂`,
    /// or for cosine `q·x̂/‖q‖` (`x̂` reconstructs a unit vector).
    ///
    /// # Errors
    /// Mismatched lengths.
    fn distances(&self, query: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error>;

    /// The `k` best codes of each query under [`Quantizer::metric`], scored as
    /// [`Quantizer::distances`] scores them: squared L2 ascending, inner product or cosine
    /// descending, ties to the lower id; `labels` is `-1` and the distance `+∞` (L2) or `−∞`
    /// (the similarities) where there are fewer than `k` codes. `queries` holds `nq` vectors; `distances` and `labels` hold
    /// `nq·k` entries each.
    ///
    /// # Errors
    /// Mismatched lengths, `k = 0`, or a non-finite query value.
    fn search(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error>;
}
