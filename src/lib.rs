//! # vq: vector quantization with runtime-dispatched SIMD kernels
//!
//! vq compresses f32 vectors with scalar quantization (SQ, 4/8/16 bits per dimension)
//! and product quantization (PQ), and searches the compressed codes. It is built for two
//! kinds of users: search-engine engineers who link it (from Rust, or from C through the
//! `vq-ffi` crate) and need a fast hot path with no surprises, and researchers who map the
//! compression-vs-quality trade-off with the bundled `vq-benchmark` tool.
//!
//! ## Metrics
//!
//! Every search ranks by a [`Metric`]: squared L2 (the default), inner product or cosine,
//! with FAISS's conventions (similarities reported as they are, largest first). A
//! quantizer carries its metric (`PqParams::metric`, [`ScalarQuantizer::train_for`],
//! `with_metric`) into its model file; a cosine quantizer normalizes what it trains on and
//! encodes. Exact search takes the metric per call ([`search::knn_with_metric`]). See
//! [`metric`].
//!
//! ## SIMD levels
//!
//! Every kernel is written once, generically over [`pulp::Simd`], and dispatched at run
//! time to the best level the CPU has: AVX-512 (x86-64-v4), AVX2+FMA (x86-64-v3), NEON
//! (aarch64) or a portable scalar fallback. The level is detected once per process;
//! [`simd::level`] reports it, [`simd::set_level`] or the `VQ_SIMD` environment variable
//! (`scalar`, `avx2`, `avx512`, `neon`) lowers it, and [`simd::with_level`] lowers it for
//! one scope of one thread, which is how tests and benchmarks compare every level on one
//! machine. Dispatch happens once per call, never once per vector.
//!
//! ## The no-allocation promise
//!
//! Distance kernels, encode, decode, asymmetric distances and top-k search write into
//! buffers the caller provides, so they can run on a search engine's own threads without
//! contending on the allocator. Exactly four things allocate on those paths:
//!
//! - a product quantizer's `search` and `distances` keep distance tables over 32 KiB in a
//!   per-thread buffer made by the thread's first such call and reused after it, and
//!   allocate per call only for tables over 1 MiB (`m·ksub > 262144`);
//!   [`ProductQuantizer::search_with_table`] takes the caller's buffer and never allocates;
//! - a product quantizer loaded from a model file builds its encoder's copy of the
//!   codebook on its first `encode`;
//! - a cosine quantizer's `encode` and cosine [`search::knn_with_metric`] normalize through
//!   a buffer on the stack up to 32 KiB of rows (one row at least), beyond that the same
//!   per-thread buffer;
//! - exact [`search::knn`] with [`exact::PRODUCT_MIN_QUERIES`] queries or more runs as
//!   matrix products ([`exact::ExactSearch`]), whose heaps, query copy and packing buffers
//!   are allocated for the call; with fewer queries it allocates nothing.
//!
//! Training, the quality metrics and `encode_parallel` (a thread pool) allocate; they are
//! not on the hot path. A test with a counting global allocator holds the hot path to this.
//!
//! ## Errors
//!
//! Every public function that can be misused returns [`Error`], whose message names the
//! offending value and the accepted range. Nothing in the public API panics on bad input,
//! with one exception, named where it applies: a product quantizer's `adc_scan`,
//! `distances` and `search` stop on a bounds-check panic (never reading past a table) when
//! given codes with a sub-code at or above `ksub`, which only codes not made by `encode`
//! can hold, and only when `ksub` is not 16, 256 or 65536;
//! [`ProductQuantizer::check_codes`] rejects such codes with an error first (the C ABI
//! always does).
//!
//! ## Where things live
//!
//! Code layouts in [`codes`]; SIMD levels in [`simd`]; every SIMD kernel under
//! `src/kernels/`, one file per family; top-k selection in [`search`]; exact search (the
//! engine of `knn` and of ground truth) in [`exact`]; the model file's byte layout in
//! [`format`]; data set files (TEXMEX, big-ann, NumPy, folders of shards) in `data` (the
//! default `data` feature).

pub mod codes;
mod crc32c;
#[cfg(feature = "data")]
pub mod data;
pub mod error;
pub mod exact;
pub mod fastscan;
pub mod format;
pub mod kernels;
pub mod kmeans;
pub mod metric;
pub mod metrics;
pub mod opq;
mod parallel;
pub mod pq;
pub mod quantizer;
pub mod rabitq;
#[doc(hidden)] // the tests', benchmarks' and fuzz targets' oracles, not an API
pub mod reference;
mod scratch;
pub mod search;
pub mod simd;
pub mod sq;
pub mod synthetic;

pub use error::Error;
pub use fastscan::{FastScanParams, PackedCodes};
pub use kmeans::{KMeans, KMeansParams};
pub use metric::Metric;
pub use opq::{OpqParams, OpqQuantizer};
pub use pq::{PqParams, ProductQuantizer};
pub use quantizer::Quantizer;
pub use rabitq::{QueryBits, RabitqParams, RabitqQuantizer};
pub use simd::{level as simd_level, Level};
pub use sq::{RangeAccumulator, ScalarQuantizer, SqBits};
