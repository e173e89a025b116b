//! # vq-ffi: the C ABI of vq (`libvq.so`, `libvq.a`, `include/vq.h`)
//!
//! Every `extern "C"` function, raw pointer and panic guard of the project lives in this
//! crate; the `vq` library underneath stays safe Rust. The header is generated from these
//! files by a pinned cbindgen (`tests/header.rs` fails when `include/vq.h` differs;
//! `VQ_BLESS=1` rewrites it), so the doc comments here are the C documentation.
//!
//! ## Rules every export follows (rustls-ffi's)
//!
//! - Fallible calls return a [`vq_status`]; out-parameters and output buffers are written
//!   only on `VQ_STATUS_OK`. The message of the calling thread's last failure is
//!   [`vq_last_error`].
//! - Every pointer is checked for NULL (a buffer may be NULL only with length 0) and
//!   alignment; every length is checked against what the call needs, with checked
//!   arithmetic; an output buffer may not overlap an input.
//! - Every body that can panic runs inside `catch_unwind`: a bug surfaces as
//!   `VQ_STATUS_PANIC`, never as an unwind into, or an abort of, the host. (Running out of
//!   memory still aborts, as in any Rust or C++ program that does not check every
//!   allocation.)
//! - Argument order: the object, then inputs, then outputs; every buffer is followed by its
//!   length in elements (floats, bytes, labels), never in rows. A metric argument
//!   (`VQ_METRIC_*`) comes first, as in the library's `train_for` and `knn_with_metric`.
//!
//! ## Metrics
//!
//! A quantizer searches by the metric it was made with (`vq_*_train_metric`,
//! `vq_*_from_*_metric`; the calls without one mean L2, as before metrics existed), which
//! its model file keeps. Inner product and cosine rank largest first and report the
//! similarity itself, not negated, as FAISS does; see [`VQ_METRIC_L2`] and its siblings.
//!
//! ## Thread safety and allocation
//!
//! A quantizer handle is immutable once trained or loaded: any number of threads may call
//! any function on the same handle at once, except `vq_*_free`, which must run after every
//! other use, and RaBitQ's two query-time setters (`vq_rabitq_set_query_bits`,
//! `vq_rabitq_set_epsilon`), the only calls that change a handle, which must not overlap
//! any other call on it (set them up first, then share the handle). The hot calls (encode, decode, distance table, ADC scan, distances, search,
//! the kernels) take no lock and, on success, allocate nothing (a failure allocates its
//! message), with two exceptions, both spelled out in `include/vq.h`:
//!
//! - `vq_pq_search` and `vq_pq_distances` take their distance tables from the library's
//!   scratch memory (`src/scratch.rs`): the stack up to 8192 floats, a per-thread buffer
//!   made on the thread's first call that needs it up to 262144 floats (1 MiB), and an
//!   allocation per call only above that (`m·ksub > 262144`). `vq_pq_search_with_table`
//!   takes the caller's buffer and never allocates.
//! - `vq_pq_search_packed` and `vq_pq_search_packed_refine` (4-bit fast scan) take their
//!   tables and candidate lists (`vq_pq_search_packed_scratch_len` floats) from the same
//!   scratch memory; their `_with_scratch` forms take the caller's and never allocate, and
//!   the packed codes are always read in place.
//! - A loaded `vq_pq` builds its encoder's copy of the codebook on its first
//!   `vq_pq_encode` (a `OnceLock`: concurrent first encodes wait for it).
//! - A cosine quantizer's encode (and `vq_knn` by cosine) normalizes rows through the same
//!   scratch memory: on the stack up to 8192 floats, so only for `dim > 8192` in the
//!   thread's buffer (or, above 262144 floats, per call).
//! - A `vq_opq` rotates what it encodes, decodes and searches in blocks through the same
//!   scratch memory (on the stack while `d_out <= 8192`), then runs its inner PQ's calls,
//!   with their allocations; `vq_opq_distance_table` rotates its query on the stack up to
//!   `d_out = 8192`, per call above. `vq_opq_search_with_table` takes the rotated queries'
//!   room and the tables from the caller and never allocates.
//! - A `vq_rabitq` works in the same scratch memory: `vq_rabitq_encode` 52·dim floats (16
//!   rows at a time, so on the stack up to dim 157), `vq_rabitq_decode` 16·dim; its
//!   estimates and searches take per query about 2·dim floats plus, with extended bits or a
//!   float query, a lookup table of 32·dim, for up to 16 queries at a time (as many as fit
//!   1 MiB). So it allocates per call only when 16 rows, or one query, need more than
//!   1 MiB: dim above 5041 for encode, 16384 for decode, about 7700 for an estimate or a
//!   search with a table.
//! - `vq_knn` with 16 or more queries runs the blocked product, which allocates per call.

#![allow(non_camel_case_types)] // C names: vq_pq, vq_status, ...

mod exact;
mod fastscan;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod kernels;
mod metric;
mod model_file;
mod opq;
mod pq;
mod rabitq;
mod sq;
mod status;

pub use exact::*;
pub use fastscan::*;
pub use kernels::*;
pub use metric::{VQ_METRIC_COSINE, VQ_METRIC_INNER_PRODUCT, VQ_METRIC_L2};
pub use opq::*;
pub use pq::*;
pub use rabitq::*;
pub use sq::*;
pub use status::{vq_status, VQ_STATUS_LAST};

use status::guard_value;
use std::ffi::{c_char, CStr};
use vq::kmeans::{Assignment, Init};
use vq::KMeansParams;

/// Major version of the library (`vq_version()` gives the whole string).
pub const VQ_VERSION_MAJOR: u32 = 0;
/// Minor version of the library.
pub const VQ_VERSION_MINOR: u32 = 5;
/// Patch version of the library.
pub const VQ_VERSION_PATCH: u32 = 0;
/// The model file format version this library writes and reads (a literal for cbindgen; a
/// test holds it equal to the library's).
pub const VQ_FORMAT_VERSION: u32 = 1;

/// The library version, for example `"0.5.0"`: a static string, never freed.
#[no_mangle]
pub extern "C" fn vq_version() -> *const c_char {
    const V: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };
    V.as_ptr()
}

/// The SIMD level the kernels run at in this process: `"avx512"`, `"avx2"`, `"neon"` or
/// `"scalar"` (static string). The `VQ_SIMD` environment variable, read once, lowers it.
#[no_mangle]
pub extern "C" fn vq_simd_level() -> *const c_char {
    guard_value(c"scalar".as_ptr(), || match vq::simd_level() {
        vq::Level::Avx512 => c"avx512".as_ptr(),
        vq::Level::Avx2 => c"avx2".as_ptr(),
        vq::Level::Neon => c"neon".as_ptr(),
        vq::Level::Scalar => c"scalar".as_ptr(),
    })
}

/// A static description of a status value (any integer: unknown values are described as
/// such).
#[no_mangle]
pub extern "C" fn vq_status_str(status: u32) -> *const c_char {
    vq_status::describe(status).as_ptr()
}

/// The message of the calling thread's most recent failed call: what was wrong, with the
/// value given and the range accepted. Empty before the first failure; a successful call
/// leaves it unchanged. The pointer is valid until the next failing vq call on this thread;
/// copy the string to keep it.
#[no_mangle]
pub extern "C" fn vq_last_error() -> *const c_char {
    status::last_error_ptr()
}

/// `vq_train_params.init`: k-means++ seeding.
pub const VQ_INIT_KMEANS_PLUS_PLUS: u32 = 0;
/// `vq_train_params.init`: `ksub` distinct random training rows (FAISS's default and ours
/// for PQ).
pub const VQ_INIT_RANDOM: u32 = 1;
/// `vq_train_params.init`: greedy k-means++ (scikit-learn's default: `2 + ln k` candidates
/// per centroid, the best kept); slower seeding, a lower final error.
pub const VQ_INIT_GREEDY_KMEANS_PLUS_PLUS: u32 = 2;

/// `vq_train_params.nprobe`: the library's choice, as `vq::PqParams::new`: exact assignment
/// up to 4096 centroids, coarse assignment searching 16 groups above.
pub const VQ_NPROBE_AUTO: u32 = u32::MAX;

/// How `vq_pq_train` runs k-means in each sub-space. Start from
/// `vq_train_params_default()` and change fields, so code keeps compiling when fields are
/// added.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct vq_train_params {
    /// Seed of every random choice; sub-space `i` uses `seed + i`. Default 1234.
    pub seed: u64,
    /// Lloyd iterations (default 25; 0 keeps the initial centroids).
    pub iterations: u32,
    /// Training subsample cap: at most this many rows per centroid are used
    /// (`max_points_per_centroid`, default 256 as FAISS); at least 1.
    pub max_points_per_centroid: u32,
    /// Threads for training (0: all cores). The result is bit-identical for any value.
    pub threads: u32,
    /// `VQ_INIT_RANDOM` (default), `VQ_INIT_KMEANS_PLUS_PLUS` or
    /// `VQ_INIT_GREEDY_KMEANS_PLUS_PLUS`.
    pub init: u32,
    /// k-means assignment: 0 exact (every row against every centroid); `n >= 1` coarse
    /// (centroids grouped under `ceil(sqrt(ksub))` centres, each row searching its `n`
    /// nearest groups: approximate, for 16-bit codebooks); `VQ_NPROBE_AUTO` (default) the
    /// library's choice.
    pub nprobe: u32,
    /// Hartigan passes after the Lloyd iterations (default 0). Each pass moves single rows
    /// between clusters when that lowers the error, at about the cost of one iteration with
    /// exact assignment; worth 1-2% lower error when there are few training rows per
    /// centroid. Passes stop early once one gains nothing.
    pub hartigan_passes: u32,
}

/// The default training parameters (as `vq::PqParams::new`).
#[no_mangle]
pub extern "C" fn vq_train_params_default() -> vq_train_params {
    let k = vq::PqParams::new(1, 2).kmeans;
    vq_train_params {
        seed: k.seed,
        iterations: k.max_iter as u32,
        max_points_per_centroid: k.max_points_per_centroid as u32,
        threads: 0,
        init: VQ_INIT_RANDOM,
        nprobe: VQ_NPROBE_AUTO,
        hartigan_passes: k.hartigan_passes as u32,
    }
}

impl vq_train_params {
    pub(crate) fn to_kmeans(self, ksub: usize) -> status::Res<KMeansParams> {
        let init = match self.init {
            VQ_INIT_KMEANS_PLUS_PLUS => Init::PlusPlus,
            VQ_INIT_RANDOM => Init::Random,
            VQ_INIT_GREEDY_KMEANS_PLUS_PLUS => Init::GreedyPlusPlus,
            other => {
                return Err(status::Failure::new(
                    vq_status::InvalidArgument,
                    format!(
                        "init = {other} is out of range, accepted: VQ_INIT_KMEANS_PLUS_PLUS (0), VQ_INIT_RANDOM (1) \
                         or VQ_INIT_GREEDY_KMEANS_PLUS_PLUS (2)"
                    ),
                ))
            }
        };
        // The library's defaults for this ksub (the assignment among them), then the fields.
        let mut k = vq::PqParams::new(1, ksub).kmeans;
        k.assignment = match self.nprobe {
            VQ_NPROBE_AUTO => k.assignment,
            0 => Assignment::Exact,
            n => Assignment::Coarse { nprobe: n as usize },
        };
        k.seed = self.seed;
        k.max_iter = self.iterations as usize;
        k.max_points_per_centroid = self.max_points_per_centroid as usize;
        k.threads = self.threads as usize;
        k.init = init;
        k.hartigan_passes = self.hartigan_passes as usize;
        Ok(k)
    }

    pub(crate) fn from_kmeans(k: &KMeansParams) -> Self {
        vq_train_params {
            seed: k.seed,
            iterations: u32::try_from(k.max_iter).unwrap_or(u32::MAX),
            max_points_per_centroid: u32::try_from(k.max_points_per_centroid).unwrap_or(u32::MAX),
            threads: 0,
            init: match k.init {
                Init::Random => VQ_INIT_RANDOM,
                Init::PlusPlus => VQ_INIT_KMEANS_PLUS_PLUS,
                Init::GreedyPlusPlus => VQ_INIT_GREEDY_KMEANS_PLUS_PLUS,
            },
            nprobe: match k.assignment {
                Assignment::Exact => 0,
                Assignment::Coarse { nprobe } => u32::try_from(nprobe).unwrap_or(u32::MAX - 1),
            },
            hartigan_passes: u32::try_from(k.hartigan_passes).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package() {
        // SAFETY: a static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(vq_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(v, format!("{VQ_VERSION_MAJOR}.{VQ_VERSION_MINOR}.{VQ_VERSION_PATCH}"));
        assert_eq!(
            v,
            vq::format::read_bytes(&vq::ScalarQuantizer::train(vq::SqBits::B8, 1, &[0.0]).unwrap().to_bytes())
                .unwrap()
                .library_version
        );
    }

    #[test]
    fn format_version_matches_the_library() {
        assert_eq!(VQ_FORMAT_VERSION, vq::format::FORMAT_VERSION);
    }

    #[test]
    fn every_status_is_described() {
        for s in 0..=VQ_STATUS_LAST {
            // SAFETY: static strings.
            let d = unsafe { CStr::from_ptr(vq_status_str(s)) }.to_str().unwrap();
            assert!(d.starts_with("VQ_STATUS_"), "{s}: {d}");
        }
        // SAFETY: as above.
        assert!(unsafe { CStr::from_ptr(vq_status_str(VQ_STATUS_LAST + 1)) }.to_str().unwrap().contains("unknown"));
    }

    #[test]
    fn default_params_match_the_library() {
        let p = vq_train_params_default();
        assert_eq!(p.to_kmeans(256).unwrap(), vq::PqParams::new(4, 256).kmeans);
        assert_eq!(p.to_kmeans(65536).unwrap(), vq::PqParams::new(4, 65536).kmeans);
        let q = vq_train_params { init: VQ_INIT_GREEDY_KMEANS_PLUS_PLUS, nprobe: 0, ..p };
        let k = q.to_kmeans(65536).unwrap();
        assert_eq!((k.init, k.assignment), (Init::GreedyPlusPlus, Assignment::Exact));
        assert_eq!(vq_train_params::from_kmeans(&k), vq_train_params { threads: 0, ..q });
        let q = vq_train_params { nprobe: 8, hartigan_passes: 3, ..p };
        let k = q.to_kmeans(256).unwrap();
        assert_eq!((k.assignment, k.hartigan_passes), (Assignment::Coarse { nprobe: 8 }, 3));
        assert_eq!(vq_train_params::from_kmeans(&k), vq_train_params { threads: 0, ..q });
    }
}
