//! The SIMD kernels: one family per file, each a public entry point that validates its
//! arguments and dispatches once, a `pulp::WithSimd` struct, and an `#[inline(always)]`
//! body generic over `pulp::Simd` that serves every instruction set.
//!
//! - [`l2`]: squared Euclidean distance and inner product, pairwise and one-vs-many;
//! - `sq`: scalar-quantizer encode, decode and asymmetric distance;
//! - `adc`: the product quantizer's codebook lookup (crate-internal; `vq::pq` is its API);
//! - `adc8`: one query's exact top-k over 8-bit codes, its table quantized and looked up in registers;
//! - `kmeans`: the argmin, seeding distances, cluster sums and coarse group scan of k-means;
//! - `hartigan`: the move sweep and objective of k-means' Hartigan refinement;
//! - `pq`: the product quantizer's tables, ADC scan, encoder and searches;
//! - [`rabitq`]: RaBitQ's AND-popcount 1-bit estimate, byte-table extended estimate, two-stage scan;
//! - `nearest`: brute-force nearest centroid over a transposed codebook (PQ encode, k-means);
//! - `gemm`: k-means assignment's matrix product (`matrixmultiply`'s SGEMM);
//! - `exact`: exact search's sweep: a matrix product with a bound fused in, exact rescoring.

pub(crate) mod adc;
pub(crate) mod adc8;
pub(crate) mod exact;
pub(crate) mod fastscan;
pub(crate) mod gemm;
pub(crate) mod hartigan;
pub(crate) mod kmeans;
pub mod l2;
pub(crate) mod matvec;
pub(crate) mod nearest;
pub(crate) mod pq;
pub mod rabitq;
pub(crate) mod sq;

pub(crate) mod lanes;

pub use l2::{dot, dot_batch, l2sq, l2sq_batch};
