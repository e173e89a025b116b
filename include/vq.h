/*
 * vq.h: the C interface of vq, vector quantization (product, scalar, OPQ, RaBitQ) with SIMD
 * kernels.
 *
 * Link with -lvq (libvq.a or libvq.so; pkg-config --cflags --libs vq). With the static
 * library also link what Rust's standard library needs: -lpthread -ldl -lm (the
 * Libs.private of vq.pc).
 *
 * Status and errors. Every fallible call returns a vq_status; out-parameters and output
 * buffers are written only on VQ_STATUS_OK (after VQ_STATUS_PANIC, a bug, output buffers
 * are unspecified). vq_last_error() gives the calling thread's message for the last
 * failure, naming the bad value and the accepted range. Every pointer is checked for NULL
 * (a buffer may be NULL only with length 0); every length is checked with overflow-safe
 * arithmetic; output buffers may not overlap inputs. No call unwinds into or aborts the
 * host on bad input: a panic (a bug) is caught and returned as VQ_STATUS_PANIC. Running
 * out of memory does abort, as in any Rust or C++ program that does not check every
 * allocation.
 *
 * Buffers. Every buffer is followed by its length in elements (floats, bytes, labels),
 * never in rows: n vectors are n*dim floats, n codes n*code_size bytes, top-k results of
 * nq queries nq*k entries. Arguments: the object, then inputs, then outputs (a metric
 * argument first).
 *
 * Metrics. A quantizer searches by squared L2 (VQ_METRIC_L2), inner product
 * (VQ_METRIC_INNER_PRODUCT) or cosine similarity (VQ_METRIC_COSINE), fixed when it is made
 * (vq_pq_train_metric, vq_sq_train_metric, *_metric twins of the constructors; the calls
 * without a metric mean L2) and kept in its model file, so loading gives it back
 * (vq_pq_metric, vq_sq_metric). L2 ranks smallest first and pads with (+INFINITY, -1);
 * inner product and cosine rank largest first, report the similarity itself (not
 * negated, as FAISS does) and pad with (-INFINITY, -1); ties go to the lower id. A cosine
 * quantizer normalizes every vector it trains on and encodes (a zero vector stays zero)
 * and scores a query q against a code's reconstruction x as (q.x)/|q|. vq_knn is the exact
 * search under any of them.
 *
 * OPQ (vq_opq). A learned rotation R (d_out x dim) followed by a product quantizer of the
 * rotated vectors R x: codes are the PQ's codes of R x, decoding maps back by R^T, and the
 * scores are the PQ's against R q, which equal the original space's since R keeps
 * distances and inner products. vq_opq_pq lends the inner vq_pq (the rotated space) to
 * every read-only vq_pq_* call; it lives as long as the vq_opq and is never freed.
 *
 * RaBitQ (vq_rabitq). A random rotation R and a centroid c; a code holds the signs of
 * R(x - c) and, at 2 to 9 bits per dimension, extended bits, with a few f32 factors. Its
 * scores are estimates, each with an error bound (vq_rabitq_estimate): the search ranks
 * by the estimates, and vq_rabitq_search_refine re-ranks against the caller's full
 * vectors wherever a bound cannot rule a code out. The query's bits (qb) and the bounds'
 * epsilon are settings of the handle, kept in its model file.
 *
 * Threads. A quantizer (vq_pq, vq_sq, vq_opq, vq_rabitq) is immutable once trained or
 * loaded: any number of threads may use one handle at the same time; only vq_*_free must
 * come after every other use, and vq_rabitq_set_query_bits and vq_rabitq_set_epsilon, the
 * only calls that change a handle, must not overlap any other call on it.
 *
 * Allocation. After the process's first call that runs a kernel or vq_simd_level(), which
 * detects the SIMD level once, the hot calls (encode, decode, distance table, ADC scan,
 * distances, search, the kernels) take no lock and, when they succeed, allocate nothing
 * (a failure allocates its vq_last_error message), except:
 * - vq_pq_search and vq_pq_distances need a distance-table buffer of m*ksub floats, or
 *   vq_pq_search_table_len(pq) floats when vq_pq_search has two or more queries. Up to
 *   8192 floats (32 KiB) it is on the stack; up to 262144 floats (1 MiB) it is a buffer of
 *   the calling thread, allocated (or enlarged) by the first call on that thread that needs
 *   more than it holds, reused by later calls and freed when the thread exits; above
 *   that, which happens only when m*ksub > 262144, it is allocated and freed by every
 *   call. vq_pq_search_with_table takes the buffer from the caller and never allocates.
 * - A vq_pq from vq_pq_load or vq_pq_load_buffer builds its encoder's copy of the
 *   codebook (ksub*dim floats, ksub rounded up to a multiple of 64) on its first
 *   vq_pq_encode; encodes on other threads wait until it is built. vq_pq_train and
 *   vq_pq_from_centroids build it up front.
 * - A cosine quantizer's encode, and vq_knn by cosine, normalize rows through a buffer of
 *   at most 8192 floats on the stack, or of one row when dim > 8192: then the calling
 *   thread's buffer as above (allocated per call when dim > 262144).
 * - vq_knn with 16 or more queries allocates its working memory for the call.
 * - A vq_opq rotates in blocks through the same memory as the first item (on the stack
 *   while d_out <= 8192), then runs its inner PQ's calls with their allocations (a loaded
 *   vq_opq's first encode builds the codebook copy as a loaded vq_pq's does).
 *   vq_opq_distance_table rotates its query on the stack up to d_out = 8192 and in a buffer
 *   allocated per call above. vq_opq_search_with_table takes the room for the rotated
 *   queries and the tables from the caller and never allocates.
 * - A vq_rabitq works through the same memory as the first item: vq_rabitq_encode
 *   52*dim floats (16 rows at a time; on the stack up to dim 157), vq_rabitq_decode
 *   16*dim, its estimates and searches about 2*dim floats per query plus, with extended
 *   bits or a float query, a 32*dim-float lookup table, up to 16 queries at a time. It
 *   allocates per call only when 16 rows or one query need more than 1 MiB: dim above
 *   5041 for encode, 16384 for decode, about 7700 for an estimate or search with a table.
 *
 * Model files (vq_*_save, vq_*_load, *_buffer): little-endian, versioned
 * (VQ_FORMAT_VERSION), 64-byte aligned sections each with a CRC-32C; the layout is
 * documented in the vq crate's `format` module (src/format/mod.rs). Loading never trusts a
 * size in the file and rejects truncated, corrupt, hostile or other-version input with a
 * status.
 */

#ifndef VQ_H
#define VQ_H

/* Generated by cbindgen 0.29.4 from ffi/src. Do not edit: run `VQ_BLESS=1 cargo test -p vq-ffi --test header`. */

#include <stddef.h>
#include <stdint.h>

/**
 * Major version of the library (`vq_version()` gives the whole string).
 */
#define VQ_VERSION_MAJOR 0

/**
 * Minor version of the library.
 */
#define VQ_VERSION_MINOR 5

/**
 * Patch version of the library.
 */
#define VQ_VERSION_PATCH 0

/**
 * The model file format version this library writes and reads (a literal for cbindgen; a
 * test holds it equal to the library's).
 */
#define VQ_FORMAT_VERSION 1

/**
 * `vq_train_params.init`: k-means++ seeding.
 */
#define VQ_INIT_KMEANS_PLUS_PLUS 0

/**
 * `vq_train_params.init`: `ksub` distinct random training rows (FAISS's default and ours
 * for PQ).
 */
#define VQ_INIT_RANDOM 1

/**
 * `vq_train_params.init`: greedy k-means++ (scikit-learn's default: `2 + ln k` candidates
 * per centroid, the best kept); slower seeding, a lower final error.
 */
#define VQ_INIT_GREEDY_KMEANS_PLUS_PLUS 2

/**
 * `vq_train_params.nprobe`: the library's choice, as `vq::PqParams::new`: exact assignment
 * up to 4096 centroids, coarse assignment searching 16 groups above.
 */
#define VQ_NPROBE_AUTO UINT32_MAX

/**
 * Squared Euclidean distance `‖q − x‖²`, smallest first; past the last row
 * `(+INFINITY, -1)`. What every call without a metric argument uses.
 */
#define VQ_METRIC_L2 0

/**
 * Inner product `q·x`, reported as is (not negated), largest first; past the last row
 * `(-INFINITY, -1)`. Ties go to the lower id, as under every metric.
 */
#define VQ_METRIC_INNER_PRODUCT 1

/**
 * Cosine similarity `q·x / (‖q‖‖x‖)`, largest first, sentinels as inner product. A cosine
 * quantizer normalizes every vector it trains on and encodes (a zero vector stays zero),
 * so its codes hold unit vectors and decode to approximations `x̂` of them; a query is not
 * normalized but its scores are scaled: each is `(q·x̂)/‖q‖`.
 */
#define VQ_METRIC_COSINE 2

/**
 * The highest status value, for tables indexed by status (a literal: cbindgen writes it
 * as is; a test holds it equal to the last variant).
 */
#define VQ_STATUS_LAST 10

/**
 * What a fallible call returns. `VQ_STATUS_OK` is zero; every other value is an error whose
 * details `vq_last_error()` gives on the same thread. New codes may be added at the end:
 * treat an unknown non-zero value as an error.
 */
enum vq_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
  /**
   * Success; out-parameters and output buffers have been written.
   */
  VQ_STATUS_OK = 0,
  /**
   * A required pointer is NULL (a buffer pointer may be NULL only with a length of 0).
   */
  VQ_STATUS_NULL_POINTER = 1,
  /**
   * A parameter is out of its range (`m`, `ksub`, `bits`, `k = 0`, a sub-code at or above
   * `ksub`, a misaligned or overlapping buffer, ...).
   */
  VQ_STATUS_INVALID_ARGUMENT = 2,
  /**
   * A buffer length does not fit the call: not a whole number of rows, not the length the
   * quantizer needs, or so large that its size in bytes would overflow.
   */
  VQ_STATUS_BAD_LENGTH = 3,
  /**
   * Training data or a query holds a NaN or an infinity.
   */
  VQ_STATUS_NON_FINITE = 4,
  /**
   * The caller's buffer is too small for the serialized model (see `*_serialized_size`).
   */
  VQ_STATUS_BUFFER_TOO_SMALL = 5,
  /**
   * The operating system failed to open, read or write a file.
   */
  VQ_STATUS_IO = 6,
  /**
   * The bytes are not a well-formed model file: truncated, corrupt (checksum), hostile.
   */
  VQ_STATUS_FORMAT = 7,
  /**
   * The model file has a format version this library does not read.
   */
  VQ_STATUS_UNSUPPORTED_VERSION = 8,
  /**
   * The model file holds another kind of quantizer (an SQ file given to `vq_pq_load`); the message names the kind and the call that loads it.
   */
  VQ_STATUS_WRONG_KIND = 9,
  /**
   * A bug in vq: a Rust panic was caught at the boundary (Rust's panic hook has also
   * printed its message to stderr). Output buffers are unspecified; the handle is still
   * usable. Please report it with the message.
   */
  VQ_STATUS_PANIC = 10,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum vq_status vq_status;
#else
typedef uint32_t vq_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * A trained OPQ quantizer: a rotation to `d_out` dimensions, then `m` sub-quantizers of
 * `ksub` centroids over them. Immutable; share it across threads freely. Free with
 * `vq_opq_free`.
 */
typedef struct vq_opq vq_opq;

/**
 * A trained product quantizer: `m` sub-quantizers of `ksub` centroids over `dim`
 * dimensions. Immutable; share it across threads freely. Free with `vq_pq_free`.
 */
typedef struct vq_pq vq_pq;

/**
 * A RaBitQ quantizer: a rotation and a centroid over `dim` dimensions, `bits` bits per
 * dimension. Read-only for every call but `vq_rabitq_set_query_bits` and
 * `vq_rabitq_set_epsilon`; free with `vq_rabitq_free`.
 */
typedef struct vq_rabitq vq_rabitq;

/**
 * A trained scalar quantizer: per-dimension ranges, 4, 8 or 16 bits per dimension.
 * Immutable; share it across threads freely. Free with `vq_sq_free`.
 */
typedef struct vq_sq vq_sq;

/**
 * How `vq_pq_train` runs k-means in each sub-space. Start from
 * `vq_train_params_default()` and change fields, so code keeps compiling when fields are
 * added.
 */
typedef struct vq_train_params {
  /**
   * Seed of every random choice; sub-space `i` uses `seed + i`. Default 1234.
   */
  uint64_t seed;
  /**
   * Lloyd iterations (default 25; 0 keeps the initial centroids).
   */
  uint32_t iterations;
  /**
   * Training subsample cap: at most this many rows per centroid are used
   * (`max_points_per_centroid`, default 256 as FAISS); at least 1.
   */
  uint32_t max_points_per_centroid;
  /**
   * Threads for training (0: all cores). The result is bit-identical for any value.
   */
  uint32_t threads;
  /**
   * `VQ_INIT_RANDOM` (default), `VQ_INIT_KMEANS_PLUS_PLUS` or
   * `VQ_INIT_GREEDY_KMEANS_PLUS_PLUS`.
   */
  uint32_t init;
  /**
   * k-means assignment: 0 exact (every row against every centroid); `n >= 1` coarse
   * (centroids grouped under `ceil(sqrt(ksub))` centres, each row searching its `n`
   * nearest groups: approximate, for 16-bit codebooks); `VQ_NPROBE_AUTO` (default) the
   * library's choice.
   */
  uint32_t nprobe;
  /**
   * Hartigan passes after the Lloyd iterations (default 0). Each pass moves single rows
   * between clusters when that lowers the error, at about the cost of one iteration with
   * exact assignment; worth 1-2% lower error when there are few training rows per
   * centroid. Passes stop early once one gains nothing.
   */
  uint32_t hartigan_passes;
} vq_train_params;

/**
 * How the fast-scan searches re-rank. Start from `vq_fast_scan_params_default()` and
 * change fields, so code keeps compiling when fields are added.
 */
typedef struct vq_fast_scan_params {
  /**
   * Candidates kept per query by the 8-bit sums, as a multiple of `k`, then re-ranked
   * with the float distance table (`vq_pq_search_packed`) or the full vectors
   * (`vq_pq_search_packed_refine`); 0 reports the 8-bit sums mapped back to float,
   * without re-ranking (not accepted by the refine calls). With `k·rerank_factor` at
   * least the number of codes, `vq_pq_search_packed` gives `vq_pq_search`'s results bit
   * for bit. The default is the library's (`vq::FastScanParams::default()`).
   */
  size_t rerank_factor;
} vq_fast_scan_params;

/**
 * How `vq_opq_train` learns the rotation and trains its product quantizers: FAISS's
 * `OPQMatrix` settings, and the k-means of every PQ as `vq_pq_train` takes it. Start from
 * `vq_opq_params_default()` and change fields, so code keeps compiling when fields are
 * added.
 */
typedef struct vq_opq_params {
  /**
   * Seed of the training-row sample and of the random starting rotation. Default 1234.
   */
  uint64_t seed;
  /**
   * Output dimension of the rotation, the inner PQ's dimension: 0 (default) for `dim`,
   * else at least `dim` (the rows are padded with zeros, as FAISS's
   * `OPQMatrix(d, M, d2)`).
   */
  size_t d_out;
  /**
   * Outer iterations, each one rotation update; default 50 (FAISS). 0 keeps the random
   * starting rotation.
   */
  uint32_t niter;
  /**
   * k-means iterations of the PQ in every outer iteration after the first, started from
   * the previous codebooks; default 4.
   */
  uint32_t niter_pq;
  /**
   * k-means iterations of the PQ in the first outer iteration; default 40.
   */
  uint32_t niter_pq_0;
  /**
   * Training rows the rotation is learned on, at most (a seeded sample beyond); default
   * 65536, at least `ksub`. The final PQ trains on every row (subject to
   * `kmeans.max_points_per_centroid`).
   */
  uint32_t max_train_points;
  /**
   * k-means rows per centroid for the PQ inside the alternation; default 1000 (FAISS),
   * at least 1.
   */
  uint32_t inner_points_per_centroid;
  /**
   * The k-means of every PQ (default `vq_train_params_default()`): the final PQ's as
   * given; the alternation's with `iterations` replaced by `niter_pq_0` / `niter_pq` and
   * `max_points_per_centroid` by `inner_points_per_centroid`. Its `threads` runs the
   * whole training (0: all cores); the result is bit-identical for any value.
   */
  struct vq_train_params kmeans;
} vq_opq_params;

/**
 * How `vq_rabitq_train` draws its rotation, takes its centroid and sets the query-time
 * settings. Start from `vq_rabitq_params_default()` and change fields, so code keeps
 * compiling when fields are added.
 */
typedef struct vq_rabitq_params {
  /**
   * Seed of the random rotation. Default 1234.
   */
  uint64_t seed;
  /**
   * The query's bits in the 1-bit estimate (FAISS's `qb`): `1..=8` quantized, 0 a float
   * query. Default 4. Changeable later with `vq_rabitq_set_query_bits`.
   */
  uint32_t qb;
  /**
   * The bounds' confidence parameter `ε₀`, finite and `>= 0`. Default 1.9 (the papers',
   * FAISS's): the interval holds for about 94% of codes, 99% at 2.6. Changeable later
   * with `vq_rabitq_set_epsilon`.
   */
  float epsilon;
  /**
   * The centroid codes are centred on, `centroid_len = dim` floats (under cosine, in the
   * space of unit vectors); copied. NULL with `centroid_len` 0 (default): the mean of
   * the training rows (of the normalized rows under cosine).
   */
  const float *centroid;
  /**
   * Floats at `centroid`: 0 or `dim`.
   */
  size_t centroid_len;
} vq_rabitq_params;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library version, for example `"0.5.0"`: a static string, never freed.
 */
const char *vq_version(void);

/**
 * The SIMD level the kernels run at in this process: `"avx512"`, `"avx2"`, `"neon"` or
 * `"scalar"` (static string). The `VQ_SIMD` environment variable, read once, lowers it.
 */
const char *vq_simd_level(void);

/**
 * A static description of a status value (any integer: unknown values are described as
 * such).
 */
const char *vq_status_str(uint32_t status);

/**
 * The message of the calling thread's most recent failed call: what was wrong, with the
 * value given and the range accepted. Empty before the first failure; a successful call
 * leaves it unchanged. The pointer is valid until the next failing vq call on this thread;
 * copy the string to keep it.
 */
const char *vq_last_error(void);

/**
 * The default training parameters (as `vq::PqParams::new`).
 */
struct vq_train_params vq_train_params_default(void);

/**
 * Exact top-`k` search of `queries_len / dim` queries among `rows_len / dim` rows (both
 * `dim` floats wide) by `metric` (`VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
 * `VQ_METRIC_COSINE`; another value is `VQ_STATUS_INVALID_ARGUMENT`). Per query, `k`
 * scores best first and their row ids (0-based), ties to the lower id; `distances_len`
 * and `labels_len` are `nq·k`.
 *
 * - L2: squared distances ascending, `(+INFINITY, -1)` where there are fewer than `k` rows.
 * - Inner product: `q·x` (not negated) descending, `(-INFINITY, -1)` past the rows.
 * - Cosine: `q·x / (‖q‖‖x‖)` descending, as inner product; a zero row or query scores 0.
 *
 * Scores are those of `vq_l2sq` / `vq_dot` at the process's SIMD level (for cosine, the
 * inner product with the normalized row, times `1/‖q‖`). With fewer than 16 queries rows
 * are scored pair by pair and the call allocates nothing (cosine normalizes the rows
 * through a buffer as `vq_pq_encode` does); with 16 or more it runs a blocked matrix
 * product, which allocates its working memory for the call (for cosine, the rows
 * normalized, at most 32 MiB at a time).
 *
 * # Safety
 * The buffers hold the given number of elements.
 */
vq_status vq_knn(uint32_t metric,
                 size_t dim,
                 const float *queries,
                 size_t queries_len,
                 const float *rows,
                 size_t rows_len,
                 size_t k,
                 float *distances,
                 size_t distances_len,
                 int64_t *labels,
                 size_t labels_len);

/**
 * The library's default fast-scan parameters.
 */
struct vq_fast_scan_params vq_fast_scan_params_default(void);

/**
 * `*out` = the bytes of `n` packed codes of `m` sub-quantizers: `ceil(n/32)` blocks of
 * `32·ceil(m/2)` bytes. `m = 0` is `VQ_STATUS_INVALID_ARGUMENT`, a size that overflows
 * `VQ_STATUS_BAD_LENGTH`.
 *
 * # Safety
 * `out` is valid for a write.
 */
vq_status vq_pq_packed_len(size_t m, size_t n, size_t *out);

/**
 * Packs `codes_len / code_size` codes of `pq` (from `vq_pq_encode`; `pq` must have
 * `ksub <= 16`, else `VQ_STATUS_INVALID_ARGUMENT`) into `out`, exactly `vq_pq_packed_len`
 * bytes. Allocates nothing.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_pack_codes(const struct vq_pq *pq,
                           const uint8_t *codes,
                           size_t codes_len,
                           uint8_t *out,
                           size_t out_len);

/**
 * The plain codes back from `packed` (`packed_len` bytes: `vq_pq_packed_len(m, n)` for the
 * `n = codes_len / code_size` codes written to `codes`; `pq` must have `ksub <= 16`). Any
 * packed bytes unpack: a code then holds whatever nibbles they held, which may be at or
 * above a `ksub` below 16 (`vq_pq_decode` refuses such codes). Allocates nothing.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_unpack_codes(const struct vq_pq *pq,
                             const uint8_t *packed,
                             size_t packed_len,
                             uint8_t *codes,
                             size_t codes_len);

/**
 * `*out` = the floats of scratch that `vq_pq_search_packed_with_scratch` and
 * `vq_pq_search_packed_refine_with_scratch` need to search `n` codes for the top `k` with
 * `params` (NULL for the defaults): for each of up to four queries scanned together, the
 * float and 8-bit distance tables and the candidate list, about
 * `4·(m·ksub + 36·m + 2·min(2·k·rerank_factor, n))` floats. A buffer sized for more codes
 * or a larger `k` also serves fewer. `ksub > 16` is `VQ_STATUS_INVALID_ARGUMENT`, as is a
 * size that overflows.
 *
 * # Safety
 * `pq` is a live handle; `params` is NULL or valid; `out` is valid for a write.
 */
vq_status vq_pq_search_packed_scratch_len(const struct vq_pq *pq,
                                          size_t n,
                                          size_t k,
                                          const struct vq_fast_scan_params *params,
                                          size_t *out);

/**
 * Top-`k` fast-scan search of `queries_len / dim` queries over `n` packed codes
 * (`packed_len = vq_pq_packed_len(m, n)` bytes from `vq_pq_pack_codes`, read in place):
 * per query, the `k·rerank_factor` best codes by 8-bit table sums, re-ranked with the
 * float table (`params` NULL for the defaults). Scores, order, ties and padding as
 * `vq_pq_search`. Any packed bytes are accepted: a code holding a sub-code at or above a
 * `ksub` below 16 is never a result. `pq` must have `ksub <= 16`
 * (`VQ_STATUS_INVALID_ARGUMENT`). The scratch memory is the library's, as
 * `vq_pq_search`'s (see "Allocation" at the top of `vq.h`);
 * `vq_pq_search_packed_with_scratch` takes the caller's instead.
 *
 * # Safety
 * `pq` is a live handle; `params` is NULL or valid; the buffers hold the given number of
 * elements.
 */
vq_status vq_pq_search_packed(const struct vq_pq *pq,
                              const float *queries,
                              size_t queries_len,
                              const uint8_t *packed,
                              size_t packed_len,
                              size_t n,
                              size_t k,
                              const struct vq_fast_scan_params *params,
                              float *distances,
                              size_t distances_len,
                              int64_t *labels,
                              size_t labels_len);

/**
 * `vq_pq_search_packed` in the caller's `scratch` (`scratch_len` floats, at least
 * `vq_pq_search_packed_scratch_len`; its contents on return are unspecified): never
 * allocates. The results are `vq_pq_search_packed`'s, bit for bit.
 *
 * # Safety
 * As `vq_pq_search_packed`; `scratch` holds `scratch_len` writable floats.
 */
vq_status vq_pq_search_packed_with_scratch(const struct vq_pq *pq,
                                           const float *queries,
                                           size_t queries_len,
                                           const uint8_t *packed,
                                           size_t packed_len,
                                           size_t n,
                                           size_t k,
                                           const struct vq_fast_scan_params *params,
                                           float *scratch,
                                           size_t scratch_len,
                                           float *distances,
                                           size_t distances_len,
                                           int64_t *labels,
                                           size_t labels_len);

/**
 * `vq_pq_search_packed` re-ranked against `vectors`, the encoded vectors in full precision
 * (`vectors_len = n·dim`, row `i` the vector of code `i`; FAISS's `IndexRefineFlat`):
 * results hold the candidates' exact scores (`‖q − x‖²`, `q·x`, `q·x/(‖q‖‖x‖)`). Needs
 * `rerank_factor >= 1` (`VQ_STATUS_INVALID_ARGUMENT`). With `k·rerank_factor` at least
 * `n` the results are the exact top-k.
 *
 * # Safety
 * As `vq_pq_search_packed`; `vectors` holds `vectors_len` floats.
 */
vq_status vq_pq_search_packed_refine(const struct vq_pq *pq,
                                     const float *queries,
                                     size_t queries_len,
                                     const uint8_t *packed,
                                     size_t packed_len,
                                     size_t n,
                                     size_t k,
                                     const struct vq_fast_scan_params *params,
                                     const float *vectors,
                                     size_t vectors_len,
                                     float *distances,
                                     size_t distances_len,
                                     int64_t *labels,
                                     size_t labels_len);

/**
 * `vq_pq_search_packed_refine` in the caller's `scratch`, as
 * `vq_pq_search_packed_with_scratch`: never allocates.
 *
 * # Safety
 * As `vq_pq_search_packed_refine`; `scratch` holds `scratch_len` writable floats.
 */
vq_status vq_pq_search_packed_refine_with_scratch(const struct vq_pq *pq,
                                                  const float *queries,
                                                  size_t queries_len,
                                                  const uint8_t *packed,
                                                  size_t packed_len,
                                                  size_t n,
                                                  size_t k,
                                                  const struct vq_fast_scan_params *params,
                                                  const float *vectors,
                                                  size_t vectors_len,
                                                  float *scratch,
                                                  size_t scratch_len,
                                                  float *distances,
                                                  size_t distances_len,
                                                  int64_t *labels,
                                                  size_t labels_len);

/**
 * `*out = ‖a − b‖²` over `a_len` dimensions (`b_len` must equal `a_len`).
 *
 * # Safety
 * `a` and `b` hold `a_len` and `b_len` floats; `out` is valid for a write.
 */
vq_status vq_l2sq(const float *a, size_t a_len, const float *b, size_t b_len, float *out);

/**
 * `*out = a · b` over `a_len` dimensions (`b_len` must equal `a_len`).
 *
 * # Safety
 * As `vq_l2sq`.
 */
vq_status vq_dot(const float *a, size_t a_len, const float *b, size_t b_len, float *out);

/**
 * `out[i] = ‖query − row_i‖²` for the `out_len` rows of `query_len` floats in `rows`
 * (`rows_len = out_len·query_len`).
 *
 * # Safety
 * The buffers hold the given number of floats.
 */
vq_status vq_l2sq_batch(const float *query,
                        size_t query_len,
                        const float *rows,
                        size_t rows_len,
                        float *out,
                        size_t out_len);

/**
 * `out[i] = query · row_i`, as `vq_l2sq_batch`.
 *
 * # Safety
 * The buffers hold the given number of floats.
 */
vq_status vq_dot_batch(const float *query,
                       size_t query_len,
                       const float *rows,
                       size_t rows_len,
                       float *out,
                       size_t out_len);

/**
 * The default OPQ training parameters: FAISS's `OPQMatrix` defaults, as
 * `vq::OpqParams::new`, with the k-means of `vq_train_params_default()` (on all cores:
 * the result does not depend on it).
 */
struct vq_opq_params vq_opq_params_default(void);

/**
 * Learns a rotation and trains a product quantizer of the rotated vectors on
 * `data_len / dim` rows of `dim` floats, searching by `metric` (`VQ_METRIC_L2`,
 * `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
 * `VQ_STATUS_INVALID_ARGUMENT`): Ge et al.'s alternation as FAISS's `OPQMatrix` runs it,
 * then a PQ trained anew on every row rotated. The rotation keeps distances, norms and
 * inner products, so the metric is the inner PQ's. A cosine quantizer trains on the rows
 * normalized to unit length and normalizes every vector it encodes.
 *
 * `m` is 1..=`d_out`; `ksub` 2..=65536 (code sizes as `vq_pq_train`). `params` may be
 * NULL for `vq_opq_params_default()`. At least `ksub` rows, and `max_train_points >=
 * ksub`. Training costs about `niter` PQ trainings; the result does not depend on
 * `params->kmeans.threads`.
 *
 * # Safety
 * `data` points to `data_len` floats; `params` is NULL or valid; `out` is valid for a write.
 */
vq_status vq_opq_train(uint32_t metric,
                       size_t dim,
                       size_t m,
                       size_t ksub,
                       const float *data,
                       size_t data_len,
                       const struct vq_opq_params *params,
                       struct vq_opq **out);

/**
 * Builds an OPQ quantizer from a rotation `R` (`d_out × dim` floats, row-major, as
 * `vq_opq_rotation` gives it) and a product quantizer over `d_out` dimensions; both are
 * copied, so `pq` may be freed afterwards. The metric is the PQ's (`vq_pq_metric`).
 *
 * `rotation_len` must be a multiple of `dim` with `d_out = rotation_len / dim >= dim`,
 * else `VQ_STATUS_BAD_LENGTH` or `VQ_STATUS_INVALID_ARGUMENT`; a PQ of another dimension
 * is `VQ_STATUS_BAD_LENGTH`; a NaN or infinity `VQ_STATUS_NON_FINITE`; columns that are
 * not orthonormal (an entry of `RᵀR − I` beyond 1e-3) `VQ_STATUS_INVALID_ARGUMENT`.
 *
 * # Safety
 * `rotation` points to `rotation_len` floats; `pq` is a live `vq_pq` (owned or a view);
 * `out` is valid for a write.
 */
vq_status vq_opq_from_parts(size_t dim,
                            const float *rotation,
                            size_t rotation_len,
                            const struct vq_pq *pq,
                            struct vq_opq **out);

/**
 * Frees a quantizer, and with it the view `vq_opq_pq` lent. NULL is a no-op. No other
 * call may use it afterwards, or during.
 *
 * # Safety
 * `opq` is NULL or a handle from this library, not yet freed.
 */
void vq_opq_free(struct vq_opq *opq);

/**
 * Dimension of the vectors it encodes, before the rotation (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_dim(const struct vq_opq *opq);

/**
 * Output dimension of the rotation, the inner PQ's dimension, at least `vq_opq_dim`
 * (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_d_out(const struct vq_opq *opq);

/**
 * Number of sub-quantizers (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_m(const struct vq_opq *opq);

/**
 * Centroids per sub-quantizer (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_ksub(const struct vq_opq *opq);

/**
 * The metric the quantizer searches by, its inner PQ's: `VQ_METRIC_L2`,
 * `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`, also after a save and load
 * (`UINT32_MAX` for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
uint32_t vq_opq_metric(const struct vq_opq *opq);

/**
 * Bytes per code, the inner PQ's: `ceil(m/2)` for `ksub <= 16`, `m` for `ksub <= 256`,
 * else `2m` (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_code_size(const struct vq_opq *opq);

/**
 * Read-only view of the rotation `R`, `d_out × dim` floats row-major (`R x` is what the
 * PQ encodes). `*out` stays valid until `vq_opq_free(opq)`; do not write through it.
 *
 * # Safety
 * `opq` is a live handle; `out` and `out_len` are valid for writes.
 */
vq_status vq_opq_rotation(const struct vq_opq *opq, const float **out, size_t *out_len);

/**
 * Read-only view of the inner PQ's centroids, in the rotated space: `[m][ksub][dsub_i]`
 * over `d_out` dimensions, `ksub·d_out` floats (as `vq_pq_centroids` of `vq_opq_pq`).
 * `*out` stays valid until `vq_opq_free(opq)`; do not write through it.
 *
 * # Safety
 * `opq` is a live handle; `out` and `out_len` are valid for writes.
 */
vq_status vq_opq_centroids(const struct vq_opq *opq, const float **out, size_t *out_len);

/**
 * A borrowed view of the inner product quantizer (dimension `d_out`: the rotated space),
 * for every `vq_pq_*` call that takes a `const vq_pq *`: `vq_pq_adc_scan` with a table
 * from `vq_opq_distance_table` scores codes as `vq_opq_distances` does (see there);
 * `vq_pq_train_params` gives the final PQ's k-means setting; `vq_pq_encode`,
 * `vq_pq_search` and the rest take rotated vectors (`R x`), not `x`. Valid until
 * `vq_opq_free(opq)`. It is not owned: passing it to `vq_pq_free` is undefined behaviour,
 * as for any pointer the caller does not own. NULL for NULL.
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
const struct vq_pq *vq_opq_pq(const struct vq_opq *opq);

/**
 * Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes): the PQ codes of
 * `R x`. A cosine quantizer encodes each rotated vector normalized (a zero vector stays
 * zero). The rotation runs in blocks on the stack when `d_out <= 8192` (see "Allocation"
 * at the top of `vq.h`).
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_encode(const struct vq_opq *opq,
                        const float *vectors,
                        size_t vectors_len,
                        uint8_t *codes,
                        size_t codes_len);

/**
 * Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats) in the original
 * space: `Rᵀ` applied to the PQ's reconstruction (with `d_out > dim`, its projection back
 * onto the input dimensions). A sub-code at or above `ksub` is
 * `VQ_STATUS_INVALID_ARGUMENT`.
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_decode(const struct vq_opq *opq,
                        const uint8_t *codes,
                        size_t codes_len,
                        float *vectors,
                        size_t vectors_len);

/**
 * Writes the distance table of `query` (`dim` floats), `m·ksub` floats: the inner PQ's
 * table (`vq_pq_distance_table`) of the rotated query `R q`. Summed over a code's sub-codes
 * by `vq_pq_adc_scan` on `vq_opq_pq(opq)`, it gives the score `vq_opq_distances` gives,
 * bit for bit under L2 and inner product; under cosine the entries carry the factor
 * `1/‖q‖` that `vq_opq_distances` applies to each sum, so the two agree to the sum's
 * rounding. That pair is OPQ's ADC scan. The rotated query is on the stack when
 * `d_out <= 8192`, else allocated for the call.
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_distance_table(const struct vq_opq *opq,
                                const float *query,
                                size_t query_len,
                                float *table,
                                size_t table_len);

/**
 * `out[i]` = the score of code `i` for `query` by the quantizer's metric: the inner PQ's
 * score (`vq_pq_distances`) of the rotated query `R q` against the code's reconstruction
 * `ŷ` in the rotated space. As `R` keeps inner products, that is `q·x̂` (inner product) or
 * `q·x̂/‖q‖` (cosine) for the decoded `x̂ = Rᵀŷ` (`vq_opq_decode`), up to rounding; for L2
 * it is `‖R q − ŷ‖²`, which is `‖q − x̂‖²` when `d_out = dim` and exceeds it by the part of
 * `ŷ` outside the range of `R` when `d_out > dim`. `codes_len = out_len·code_size`. Tables
 * as `vq_pq_distances`.
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_distances(const struct vq_opq *opq,
                           const float *query,
                           size_t query_len,
                           const uint8_t *codes,
                           size_t codes_len,
                           float *out,
                           size_t out_len);

/**
 * Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
 * quantizer's metric, scored as `vq_opq_distances`, ordered and padded as `vq_pq_search`:
 * squared L2 ascending with `(+INFINITY, -1)` past the codes; inner product or cosine
 * descending with `(-INFINITY, -1)`. `distances_len` and `labels_len` are `nq·k`. A
 * query holding a NaN or an infinity, or a finite one whose rotation overflows f32 (a norm
 * near `FLT_MAX`), is `VQ_STATUS_NON_FINITE`, and nothing is written. The queries are rotated in blocks on the stack when
 * `d_out <= 8192`; the tables are as `vq_pq_search`'s (see "Allocation" at the top of
 * `vq.h`); `vq_opq_search_with_table` takes both from the caller instead.
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_search(const struct vq_opq *opq,
                        const float *queries,
                        size_t queries_len,
                        const uint8_t *codes,
                        size_t codes_len,
                        size_t k,
                        float *distances,
                        size_t distances_len,
                        int64_t *labels,
                        size_t labels_len);

/**
 * Floats of the scratch table with which `vq_opq_search_with_table` rotates 16 queries at
 * a time and scans them in batches: `16·d_out + vq_pq_search_table_len(vq_opq_pq(opq))`
 * (0 for NULL).
 *
 * # Safety
 * `opq` is NULL or a live handle.
 */
size_t vq_opq_search_table_len(const struct vq_opq *opq);

/**
 * `vq_opq_search` with a caller-provided scratch table, which holds the rotated queries
 * and the PQ's tables: never allocates. The table holds `vq_opq_search_table_len(opq)`
 * floats (16 queries rotated and scanned per pass) or `d_out + m·ksub` floats (one query
 * at a time, slower for many queries); any other length is `VQ_STATUS_INVALID_ARGUMENT`.
 * Both give `vq_opq_search`'s results bit for bit. The table's contents on return are
 * unspecified.
 *
 * # Safety
 * `opq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_opq_search_with_table(const struct vq_opq *opq,
                                   const float *queries,
                                   size_t queries_len,
                                   const uint8_t *codes,
                                   size_t codes_len,
                                   size_t k,
                                   float *table,
                                   size_t table_len,
                                   float *distances,
                                   size_t distances_len,
                                   int64_t *labels,
                                   size_t labels_len);

/**
 * Saves the quantizer (rotation, inner PQ with its training record, metric) as a model
 * file of kind OPQ at `path` (a NUL-terminated path), written to a temporary file and
 * renamed into place.
 *
 * # Safety
 * `opq` is a live handle; `path` is a NUL-terminated string.
 */
vq_status vq_opq_save(const struct vq_opq *opq, const char *path);

/**
 * Loads an OPQ quantizer from the model file at `path`, with the metric it was saved with
 * (`vq_opq_metric`). The rotation is checked as `vq_opq_from_parts` checks it. Truncated
 * or corrupt input is `VQ_STATUS_FORMAT`, another format version
 * `VQ_STATUS_UNSUPPORTED_VERSION`, a product, scalar or RaBitQ quantizer's file
 * `VQ_STATUS_WRONG_KIND` (the message names the call that loads it).
 *
 * # Safety
 * `path` is a NUL-terminated string; `out` is valid for a write.
 */
vq_status vq_opq_load(const char *path, struct vq_opq **out);

/**
 * Bytes `vq_opq_save_buffer` writes.
 *
 * # Safety
 * `opq` is a live handle; `out` is valid for a write.
 */
vq_status vq_opq_serialized_size(const struct vq_opq *opq, size_t *out);

/**
 * Writes the model file into `buf` (`buf_len` bytes, at least `vq_opq_serialized_size`;
 * else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written) and its size into `*written`.
 *
 * # Safety
 * `opq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
 */
vq_status vq_opq_save_buffer(const struct vq_opq *opq,
                             uint8_t *buf,
                             size_t buf_len,
                             size_t *written);

/**
 * Loads an OPQ quantizer, with its metric, from a model file in memory (`buf_len` bytes;
 * the buffer is not kept). Statuses as `vq_opq_load`.
 *
 * # Safety
 * `buf` holds `buf_len` readable bytes; `out` is valid for a write.
 */
vq_status vq_opq_load_buffer(const uint8_t *buf, size_t buf_len, struct vq_opq **out);

/**
 * Trains a product quantizer on `data_len / dim` rows of `dim` floats, searching by
 * squared L2 (`vq_pq_train_metric` with `VQ_METRIC_L2`).
 *
 * `m` is 1..=`dim` (sub-spaces may be uneven: the first `dim % m` get one more dimension);
 * `ksub` is 2..=65536 (codes take 4 bits per sub-quantizer up to 16, 8 bits up to 256, 16
 * bits above). `params` may be NULL for `vq_train_params_default()`. At least `ksub` rows.
 *
 * # Safety
 * `data` points to `data_len` floats; `params` is NULL or valid; `out` is valid for a write.
 */
vq_status vq_pq_train(size_t dim,
                      size_t m,
                      size_t ksub,
                      const float *data,
                      size_t data_len,
                      const struct vq_train_params *params,
                      struct vq_pq **out);

/**
 * `vq_pq_train` for a quantizer that searches by `metric` (`VQ_METRIC_L2`,
 * `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
 * `VQ_STATUS_INVALID_ARGUMENT`). A cosine quantizer trains on the rows normalized to unit
 * length (a zero row stays zero) and normalizes every vector it encodes. The metric is
 * kept in model files: loading one gives it back.
 *
 * # Safety
 * As `vq_pq_train`.
 */
vq_status vq_pq_train_metric(uint32_t metric,
                             size_t dim,
                             size_t m,
                             size_t ksub,
                             const float *data,
                             size_t data_len,
                             const struct vq_train_params *params,
                             struct vq_pq **out);

/**
 * Builds a product quantizer from known centroids laid out `[m][ksub][dsub_i]`
 * (`ksub·dim` floats; FAISS's `ProductQuantizer::centroids` when `m` divides `dim`),
 * searching by squared L2 (`vq_pq_from_centroids_metric` with `VQ_METRIC_L2`).
 *
 * # Safety
 * `centroids` points to `centroids_len` floats; `out` is valid for a write.
 */
vq_status vq_pq_from_centroids(size_t dim,
                               size_t m,
                               size_t ksub,
                               const float *centroids,
                               size_t centroids_len,
                               struct vq_pq **out);

/**
 * `vq_pq_from_centroids` for a quantizer that searches by `metric` (statuses as
 * `vq_pq_train_metric`). A cosine quantizer normalizes what it encodes, so its centroids
 * should be those of unit vectors (as `vq_pq_train_metric` makes them).
 *
 * # Safety
 * As `vq_pq_from_centroids`.
 */
vq_status vq_pq_from_centroids_metric(uint32_t metric,
                                      size_t dim,
                                      size_t m,
                                      size_t ksub,
                                      const float *centroids,
                                      size_t centroids_len,
                                      struct vq_pq **out);

/**
 * Frees a quantizer. NULL is a no-op. No other call may use it afterwards, or during.
 *
 * # Safety
 * `pq` is NULL or a handle the caller owns (from `vq_pq_train*`, `vq_pq_from_centroids*`
 * or `vq_pq_load*`), not yet freed. A borrowed view such as `vq_opq_pq`'s is not one:
 * freeing it is undefined behaviour, as for any pointer the caller does not own.
 */
void vq_pq_free(struct vq_pq *pq);

/**
 * Dimension of the vectors (0 for NULL).
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
size_t vq_pq_dim(const struct vq_pq *pq);

/**
 * Number of sub-quantizers (0 for NULL).
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
size_t vq_pq_m(const struct vq_pq *pq);

/**
 * Centroids per sub-quantizer (0 for NULL).
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
size_t vq_pq_ksub(const struct vq_pq *pq);

/**
 * The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
 * `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
uint32_t vq_pq_metric(const struct vq_pq *pq);

/**
 * Bytes per code: `ceil(m/2)` for `ksub <= 16`, `m` for `ksub <= 256`, else `2m`
 * (0 for NULL).
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
size_t vq_pq_code_size(const struct vq_pq *pq);

/**
 * Read-only view of the centroids, `[m][ksub][dsub_i]`, `ksub·dim` floats. `*out` stays
 * valid until `vq_pq_free(pq)`; do not write through it.
 *
 * # Safety
 * `pq` is a live handle; `out` and `out_len` are valid for writes.
 */
vq_status vq_pq_centroids(const struct vq_pq *pq, const float **out, size_t *out_len);

/**
 * The k-means setting the quantizer was trained with (`threads` reads 0: it does not change
 * the result), also after a save and load. `VQ_STATUS_INVALID_ARGUMENT` for a quantizer
 * built by `vq_pq_from_centroids`, which has none.
 *
 * # Safety
 * `pq` is a live handle; `out` is valid for a write.
 */
vq_status vq_pq_train_params(const struct vq_pq *pq, struct vq_train_params *out);

/**
 * Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes). A cosine
 * quantizer encodes each vector normalized to unit length (a zero vector stays zero),
 * through a buffer of at most 8192 floats on the stack, or one row when `dim > 8192` (see
 * "Allocation" at the top of `vq.h`).
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_encode(const struct vq_pq *pq,
                       const float *vectors,
                       size_t vectors_len,
                       uint8_t *codes,
                       size_t codes_len);

/**
 * Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats). A sub-code at or
 * above `ksub` is `VQ_STATUS_INVALID_ARGUMENT`.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_decode(const struct vq_pq *pq,
                       const uint8_t *codes,
                       size_t codes_len,
                       float *vectors,
                       size_t vectors_len);

/**
 * Writes the distance table of `query` (`dim` floats), `m·ksub` floats: `table[i·ksub + c]`
 * is, by the quantizer's metric, the squared L2 distance from the query's sub-vector `i`
 * to centroid `c`, their inner product, or for cosine that inner product times `1/‖q‖`.
 * Summed over a code's sub-codes (`vq_pq_adc_scan`) it gives the code's score.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_distance_table(const struct vq_pq *pq,
                               const float *query,
                               size_t query_len,
                               float *table,
                               size_t table_len);

/**
 * ADC scan: `out[i]` = the sum of the `m` table entries code `i` selects; with a table
 * from `vq_pq_distance_table`, the score `vq_pq_distances` gives code `i` (under cosine to
 * the sum's rounding: the table's entries carry the `1/‖q‖` that `vq_pq_distances` applies
 * to each sum). `codes_len` must be
 * `out_len·code_size`. Codes are checked for sub-codes at or above `ksub` only when `ksub`
 * is not 16, 256 or 65536 (then every byte pattern is a valid code, and the scan runs
 * unchecked at the library's speed).
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_adc_scan(const struct vq_pq *pq,
                         const float *table,
                         size_t table_len,
                         const uint8_t *codes,
                         size_t codes_len,
                         float *out,
                         size_t out_len);

/**
 * `out[i]` = the score of code `i` for `query` (table, then scan) by the quantizer's metric,
 * against the code's reconstruction `x̂`: `‖q − x̂‖²` (L2), `q·x̂` (inner product) or
 * `q·x̂/‖q‖` (cosine; `x̂` reconstructs a unit vector). The
 * table (`m·ksub` floats) is on the stack or in a per-thread buffer, allocated per call
 * only when `m·ksub > 262144` (see "Allocation" at the top of `vq.h`).
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_distances(const struct vq_pq *pq,
                          const float *query,
                          size_t query_len,
                          const uint8_t *codes,
                          size_t codes_len,
                          float *out,
                          size_t out_len);

/**
 * Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
 * quantizer's metric, scored as `vq_pq_distances`: per query, `k` scores best first and
 * their code ids (0-based), ties to the lower id. L2: squared distances ascending,
 * `(+INFINITY, -1)` where there are fewer than `k` codes. Inner product and cosine: inner
 * products or cosine similarities (not negated) descending, `(-INFINITY, -1)` past the
 * codes.
 * `distances_len` and `labels_len` are `nq·k`. The tables are on the stack or in a
 * per-thread buffer, allocated per call only when `m·ksub > 262144` (see "Allocation" at
 * the top of `vq.h`); `vq_pq_search_with_table` takes them from the caller instead.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_search(const struct vq_pq *pq,
                       const float *queries,
                       size_t queries_len,
                       const uint8_t *codes,
                       size_t codes_len,
                       size_t k,
                       float *distances,
                       size_t distances_len,
                       int64_t *labels,
                       size_t labels_len);

/**
 * Floats of the scratch table with which `vq_pq_search_with_table` scans queries in
 * batches (up to 16 per pass over the codes, the fast path for two or more queries) and
 * scans one query of 8-bit codes of 256 centroids with its table quantized and looked up
 * in registers (the fast path for one query); 0 for NULL. When the codebook is too large
 * for batches (`m·ksub > 16383`): `m·ksub`, plus `m·128 + 8` for 8-bit codes of 256
 * centroids.
 *
 * # Safety
 * `pq` is NULL or a live handle.
 */
size_t vq_pq_search_table_len(const struct vq_pq *pq);

/**
 * `vq_pq_search` with a caller-provided scratch table: never allocates, whatever the
 * codebook size. The table holds `vq_pq_search_table_len(pq)` floats (the fast paths) or
 * `m·ksub` floats (one query at a time with plain loads, slower); both give the same
 * results. The table's contents on return are unspecified.
 *
 * # Safety
 * `pq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_pq_search_with_table(const struct vq_pq *pq,
                                  const float *queries,
                                  size_t queries_len,
                                  const uint8_t *codes,
                                  size_t codes_len,
                                  size_t k,
                                  float *table,
                                  size_t table_len,
                                  float *distances,
                                  size_t distances_len,
                                  int64_t *labels,
                                  size_t labels_len);

/**
 * Saves the quantizer (its training record and metric too) as a model file at `path` (a
 * NUL-terminated path), written to a temporary file and renamed into place.
 *
 * # Safety
 * `pq` is a live handle; `path` is a NUL-terminated string.
 */
vq_status vq_pq_save(const struct vq_pq *pq, const char *path);

/**
 * Loads a product quantizer from the model file at `path`, with the metric it was saved
 * with (`vq_pq_metric`; a file without one is L2). Truncated or corrupt input is
 * `VQ_STATUS_FORMAT`, another format version `VQ_STATUS_UNSUPPORTED_VERSION`, a scalar,
 * OPQ or RaBitQ quantizer's file `VQ_STATUS_WRONG_KIND` (the message names the call that
 * loads it).
 *
 * # Safety
 * `path` is a NUL-terminated string; `out` is valid for a write.
 */
vq_status vq_pq_load(const char *path, struct vq_pq **out);

/**
 * Bytes `vq_pq_save_buffer` writes.
 *
 * # Safety
 * `pq` is a live handle; `out` is valid for a write.
 */
vq_status vq_pq_serialized_size(const struct vq_pq *pq, size_t *out);

/**
 * Writes the model file into `buf` (`buf_len` bytes, at least `vq_pq_serialized_size`;
 * else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written) and its size into `*written`.
 *
 * # Safety
 * `pq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
 */
vq_status vq_pq_save_buffer(const struct vq_pq *pq, uint8_t *buf, size_t buf_len, size_t *written);

/**
 * Loads a product quantizer, with its metric, from a model file in memory (`buf_len`
 * bytes; the buffer is not kept).
 *
 * # Safety
 * `buf` holds `buf_len` readable bytes; `out` is valid for a write.
 */
vq_status vq_pq_load_buffer(const uint8_t *buf, size_t buf_len, struct vq_pq **out);

/**
 * The default RaBitQ training parameters, as `vq::RabitqParams::new`: seed 1234, a 4-bit
 * query, `ε₀ = 1.9`, the data mean as centroid.
 */
struct vq_rabitq_params vq_rabitq_params_default(void);

/**
 * Trains a RaBitQ quantizer for `dim`-dimensional rows searching by `metric`
 * (`VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
 * `VQ_STATUS_INVALID_ARGUMENT`): a random orthogonal rotation drawn from `params->seed`
 * and the centroid (the mean of the `data_len / dim` rows of `data`, or
 * `params->centroid`). A cosine quantizer normalizes every vector it trains on and
 * encodes. `data` may be empty (`data_len` 0) when the centroid is given.
 *
 * `bits` per dimension is `1..=9` (the sign bit and `bits − 1` extended bits); codes take
 * `vq_rabitq_code_size` bytes. `params` may be NULL for `vq_rabitq_params_default()`.
 * Out of range (`bits`, `qb`, `epsilon`, `dim = 0`): `VQ_STATUS_INVALID_ARGUMENT`; a
 * centroid of another length or `data` not whole rows: `VQ_STATUS_BAD_LENGTH`; a NaN or
 * infinity in either: `VQ_STATUS_NON_FINITE`. Training costs a `dim × dim` QR
 * factorization and one pass over the data.
 *
 * # Safety
 * `data` points to `data_len` floats; `params` is NULL or valid, its `centroid` pointing
 * to `centroid_len` floats; `out` is valid for a write.
 */
vq_status vq_rabitq_train(uint32_t metric,
                          size_t dim,
                          uint32_t bits,
                          const float *data,
                          size_t data_len,
                          const struct vq_rabitq_params *params,
                          struct vq_rabitq **out);

/**
 * Builds a RaBitQ quantizer from its parts, as `vq_rabitq_rotation` and
 * `vq_rabitq_centroid` give them (both copied): a rotation `R` (`dim × dim` floats,
 * row-major, orthogonal) and a centroid (`dim` floats), searching by `metric` with `bits`
 * per dimension. The query-time settings take their defaults (`qb` 4, `ε₀` 1.9; see the
 * setters). A length that does not fit `dim` is `VQ_STATUS_BAD_LENGTH`; a NaN or infinity
 * `VQ_STATUS_NON_FINITE`; a rotation that is not orthogonal (an entry of `RᵀR − I` beyond
 * 1e-3), `bits` outside `1..=9` or `dim = 0` `VQ_STATUS_INVALID_ARGUMENT`.
 *
 * # Safety
 * `rotation` and `centroid` point to the given numbers of floats; `out` is valid for a
 * write.
 */
vq_status vq_rabitq_from_parts(uint32_t metric,
                               size_t dim,
                               uint32_t bits,
                               const float *rotation,
                               size_t rotation_len,
                               const float *centroid,
                               size_t centroid_len,
                               struct vq_rabitq **out);

/**
 * Frees a quantizer (and the views `vq_rabitq_rotation` and `vq_rabitq_centroid` lent).
 * NULL is a no-op. No other call may use it afterwards, or during.
 *
 * # Safety
 * `rabitq` is NULL or a handle from this library, not yet freed.
 */
void vq_rabitq_free(struct vq_rabitq *rabitq);

/**
 * Dimension of the vectors (0 for NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
size_t vq_rabitq_dim(const struct vq_rabitq *rabitq);

/**
 * Bits per dimension, `1..=9` (0 for NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
uint32_t vq_rabitq_bits(const struct vq_rabitq *rabitq);

/**
 * The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
 * `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
uint32_t vq_rabitq_metric(const struct vq_rabitq *rabitq);

/**
 * Bytes per code: with `P = 8·ceil(dim/64)` bytes per bit plane, `P + 12` at 1 bit and
 * `bits·P + 20` above (sign bits and three f32 factors, then the extended planes and two
 * more factors); at `dim = 128`: 28, 52, 84 and 148 bytes for 1, 2, 4 and 8 bits (0 for
 * NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
size_t vq_rabitq_code_size(const struct vq_rabitq *rabitq);

/**
 * The query's bits in the 1-bit estimate: `1..=8`, or 0 for a float query (`UINT32_MAX`
 * for NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
uint32_t vq_rabitq_query_bits(const struct vq_rabitq *rabitq);

/**
 * The bounds' `ε₀` (NaN for NULL).
 *
 * # Safety
 * `rabitq` is NULL or a live handle.
 */
float vq_rabitq_epsilon(const struct vq_rabitq *rabitq);

/**
 * Read-only view of the rotation `R`, `dim × dim` floats row-major (codes quantize
 * `R(x − c)`). `*out` stays valid until `vq_rabitq_free(rabitq)`; do not write through it.
 *
 * # Safety
 * `rabitq` is a live handle; `out` and `out_len` are valid for writes.
 */
vq_status vq_rabitq_rotation(const struct vq_rabitq *rabitq, const float **out, size_t *out_len);

/**
 * Read-only view of the centroid `c`, `dim` floats. `*out` stays valid until
 * `vq_rabitq_free(rabitq)`; do not write through it.
 *
 * # Safety
 * `rabitq` is a live handle; `out` and `out_len` are valid for writes.
 */
vq_status vq_rabitq_centroid(const struct vq_rabitq *rabitq, const float **out, size_t *out_len);

/**
 * Sets the query's bits in the 1-bit estimate for later estimates and searches: `1..=8`
 * quantized, or 0 for a float query (FAISS's `qb`; more bits, a tighter 1-bit stage at a
 * slower scan). Codes are unaffected. Another value is `VQ_STATUS_INVALID_ARGUMENT` and
 * the setting stays. Kept in model files saved afterwards.
 *
 * This call changes the handle: it must not run while any other call, on any thread, uses
 * `rabitq` (set it up first, then share the handle).
 *
 * # Safety
 * `rabitq` is a live handle that no other call uses during this one.
 */
vq_status vq_rabitq_set_query_bits(struct vq_rabitq *rabitq, uint32_t qb);

/**
 * Sets `ε₀`, the bounds' confidence parameter, for later estimates (`half`) and
 * re-ranking searches: finite and `>= 0` (1.9 holds for about 94% of codes, 2.6 for 99%,
 * larger re-ranks more). Negative, NaN or infinite is `VQ_STATUS_INVALID_ARGUMENT` and
 * the setting stays. Kept in model files saved afterwards.
 *
 * This call changes the handle: it must not run while any other call, on any thread, uses
 * `rabitq` (set it up first, then share the handle).
 *
 * # Safety
 * `rabitq` is a live handle that no other call uses during this one.
 */
vq_status vq_rabitq_set_epsilon(struct vq_rabitq *rabitq, float epsilon);

/**
 * Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes): the sign bits
 * and extended codes of `R(x − c)` with their factors. A cosine quantizer encodes each
 * vector normalized (a zero vector stays zero). A NaN or infinity is
 * `VQ_STATUS_NON_FINITE`. Working memory as "Allocation" at the top of `vq.h` says.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_encode(const struct vq_rabitq *rabitq,
                           const float *vectors,
                           size_t vectors_len,
                           uint8_t *codes,
                           size_t codes_len);

/**
 * Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats): `c + Rᵀ` of the
 * residual's projection on its codeword (under cosine, of the unit vector). Any bytes
 * decode: factors that are NaN or infinite give NaN or infinite values.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_decode(const struct vq_rabitq *rabitq,
                           const uint8_t *codes,
                           size_t codes_len,
                           float *vectors,
                           size_t vectors_len);

/**
 * `out[i]` = RaBitQ's full estimate of code `i`'s score for `query` by the quantizer's
 * metric: the squared distance `‖q − x‖²`, the inner product `q·x` or the cosine
 * `q·x/‖q‖` (`x` the encoded vector, unit under cosine). It is an estimate of the true
 * score, not the score of `vq_rabitq_decode`'s reconstruction. Equal bit for bit to
 * `est` of `vq_rabitq_estimate`. `codes_len = out_len·code_size`. A NaN or infinity in
 * the query is `VQ_STATUS_NON_FINITE`; a code with NaN factors scores NaN.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_distances(const struct vq_rabitq *rabitq,
                              const float *query,
                              size_t query_len,
                              const uint8_t *codes,
                              size_t codes_len,
                              float *out,
                              size_t out_len);

/**
 * For every code (`codes_len = est_len·code_size`): `est[i]`, the full estimate of its
 * score for `query` (as `vq_rabitq_distances`, bit for bit), and `half[i]`, the
 * half-width of its interval: with the probability `ε₀` sets (about 94% at 1.9), the true
 * score lies in `est[i] ± half[i]` (`half_len = est_len`). The half-width is
 * `ε₀·m·‖q − c‖·err` with the code's error factor `err` (`m` = 2 for L2, 1 for inner
 * product and cosine; under cosine times `1/‖q‖`). At 1 bit this is
 * `vq_rabitq_estimate_sign`. `est` and `half` may not overlap each other or the inputs.
 * A NaN or infinity in the query is `VQ_STATUS_NON_FINITE`; codes with NaN or infinite
 * factors give NaN or infinite values.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_estimate(const struct vq_rabitq *rabitq,
                             const float *query,
                             size_t query_len,
                             const uint8_t *codes,
                             size_t codes_len,
                             float *est,
                             size_t est_len,
                             float *half,
                             size_t half_len);

/**
 * `vq_rabitq_estimate` from the sign bits alone: the 1-bit estimate a search's first
 * stage ranks by, with the query quantized to `vq_rabitq_query_bits` bits (or in float),
 * and its half-width (the bound ignores the query's own quantization, as FAISS's does).
 * Cheaper and looser than the full estimate when `bits > 1`.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_estimate_sign(const struct vq_rabitq *rabitq,
                                  const float *query,
                                  size_t query_len,
                                  const uint8_t *codes,
                                  size_t codes_len,
                                  float *est,
                                  size_t est_len,
                                  float *half,
                                  size_t half_len);

/**
 * Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes by the
 * quantizer's metric, FAISS's two-stage scan: every code's 1-bit estimate, and its full
 * estimate only where the 1-bit lower bound beats the current k-th score. Scores are the
 * full estimates (`vq_rabitq_distances`), ordered and padded as `vq_pq_search`: squared
 * L2 ascending with `(+INFINITY, -1)` past the codes; inner product or cosine descending
 * with `(-INFINITY, -1)`; ties to the lower id. A code estimated NaN never enters the
 * results. `distances_len` and `labels_len` are `nq·k`. A NaN or infinity in the queries
 * is `VQ_STATUS_NON_FINITE`, and nothing is written.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_rabitq_search(const struct vq_rabitq *rabitq,
                           const float *queries,
                           size_t queries_len,
                           const uint8_t *codes,
                           size_t codes_len,
                           size_t k,
                           float *distances,
                           size_t distances_len,
                           int64_t *labels,
                           size_t labels_len);

/**
 * `vq_rabitq_search` re-ranked against `vectors`, the encoded vectors in full precision
 * (`vectors_len = n·dim` for the `n` codes, row `i` the vector of code `i`): results hold
 * exact scores (`‖q − x‖²`, `q·x`, `q·x/(‖q‖‖x‖)`), and a code's exact score is computed
 * only when its lower bounds (1-bit, then full) beat the current k-th exact score. Where
 * the bounds hold, the result is the exact top-k. A larger `ε₀` (`vq_rabitq_set_epsilon`)
 * re-ranks more and misses less: at the default 1.9 about 6% of codes fall outside their
 * bound, yet a true neighbour is lost only when its own estimate errs past it the wrong
 * way (the library measures recall@10 0.999 at 1 bit on debian-minilm); at 3, 0.3% do. A
 * row holding NaN never enters the results. If `reranked` is not NULL, `*reranked` is how many exact scores were computed,
 * over all queries. Ordering, padding and statuses as `vq_rabitq_search`; nothing is
 * written on failure.
 *
 * # Safety
 * `rabitq` is a live handle; the buffers hold the given number of elements; `reranked` is
 * NULL or valid for a write.
 */
vq_status vq_rabitq_search_refine(const struct vq_rabitq *rabitq,
                                  const float *queries,
                                  size_t queries_len,
                                  const uint8_t *codes,
                                  size_t codes_len,
                                  size_t k,
                                  const float *vectors,
                                  size_t vectors_len,
                                  float *distances,
                                  size_t distances_len,
                                  int64_t *labels,
                                  size_t labels_len,
                                  size_t *reranked);

/**
 * Saves the quantizer (rotation, centroid, metric, `qb`, `ε₀`, and the seed when it was
 * trained) as a model file of kind RaBitQ at `path` (a NUL-terminated path), written to a
 * temporary file and renamed into place.
 *
 * # Safety
 * `rabitq` is a live handle; `path` is a NUL-terminated string.
 */
vq_status vq_rabitq_save(const struct vq_rabitq *rabitq, const char *path);

/**
 * Loads a RaBitQ quantizer from the model file at `path`, with the metric, `qb` and `ε₀`
 * it was saved with. The rotation and centroid are checked as `vq_rabitq_from_parts`
 * checks them. Truncated or corrupt input is `VQ_STATUS_FORMAT`, another format version
 * `VQ_STATUS_UNSUPPORTED_VERSION`, a product, scalar or OPQ quantizer's file
 * `VQ_STATUS_WRONG_KIND` (the message names the call that loads it).
 *
 * # Safety
 * `path` is a NUL-terminated string; `out` is valid for a write.
 */
vq_status vq_rabitq_load(const char *path, struct vq_rabitq **out);

/**
 * Bytes `vq_rabitq_save_buffer` writes.
 *
 * # Safety
 * `rabitq` is a live handle; `out` is valid for a write.
 */
vq_status vq_rabitq_serialized_size(const struct vq_rabitq *rabitq, size_t *out);

/**
 * Writes the model file into `buf` (`buf_len` bytes, at least
 * `vq_rabitq_serialized_size`; else `VQ_STATUS_BUFFER_TOO_SMALL` and nothing is written)
 * and its size into `*written`.
 *
 * # Safety
 * `rabitq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
 */
vq_status vq_rabitq_save_buffer(const struct vq_rabitq *rabitq,
                                uint8_t *buf,
                                size_t buf_len,
                                size_t *written);

/**
 * Loads a RaBitQ quantizer, with its metric, `qb` and `ε₀`, from a model file in memory
 * (`buf_len` bytes; the buffer is not kept). Statuses as `vq_rabitq_load`.
 *
 * # Safety
 * `buf` holds `buf_len` readable bytes; `out` is valid for a write.
 */
vq_status vq_rabitq_load_buffer(const uint8_t *buf, size_t buf_len, struct vq_rabitq **out);

/**
 * Trains a scalar quantizer of `bits` (4, 8 or 16) bits per dimension on `data_len / dim`
 * rows of `dim` floats: each dimension's range is its minimum and maximum. It searches by
 * squared L2 (`vq_sq_train_metric` with `VQ_METRIC_L2`).
 *
 * # Safety
 * `data` points to `data_len` floats; `out` is valid for a write.
 */
vq_status vq_sq_train(uint32_t bits,
                      size_t dim,
                      const float *data,
                      size_t data_len,
                      struct vq_sq **out);

/**
 * `vq_sq_train` for a quantizer that searches by `metric` (`VQ_METRIC_L2`,
 * `VQ_METRIC_INNER_PRODUCT` or `VQ_METRIC_COSINE`; another value is
 * `VQ_STATUS_INVALID_ARGUMENT`). A cosine quantizer takes its ranges from the rows
 * normalized to unit length (a zero row stays zero) and normalizes every vector it
 * encodes. The metric is kept in model files: loading one gives it back.
 *
 * # Safety
 * As `vq_sq_train`.
 */
vq_status vq_sq_train_metric(uint32_t metric,
                             uint32_t bits,
                             size_t dim,
                             const float *data,
                             size_t data_len,
                             struct vq_sq **out);

/**
 * Builds a scalar quantizer from known per-dimension ranges (`dim` floats each,
 * `vmin[i] <= vmax[i]`, finite), searching by squared L2 (`vq_sq_from_ranges_metric` with
 * `VQ_METRIC_L2`).
 *
 * # Safety
 * `vmin`/`vmax` hold `vmin_len`/`vmax_len` floats; `out` is valid for a write.
 */
vq_status vq_sq_from_ranges(uint32_t bits,
                            const float *vmin,
                            size_t vmin_len,
                            const float *vmax,
                            size_t vmax_len,
                            struct vq_sq **out);

/**
 * `vq_sq_from_ranges` for a quantizer that searches by `metric` (statuses as
 * `vq_sq_train_metric`). A cosine quantizer normalizes what it encodes, so its ranges
 * should be those of unit vectors (within -1..=1, as `vq_sq_train_metric` makes them).
 *
 * # Safety
 * As `vq_sq_from_ranges`.
 */
vq_status vq_sq_from_ranges_metric(uint32_t metric,
                                   uint32_t bits,
                                   const float *vmin,
                                   size_t vmin_len,
                                   const float *vmax,
                                   size_t vmax_len,
                                   struct vq_sq **out);

/**
 * Frees a quantizer. NULL is a no-op.
 *
 * # Safety
 * `sq` is NULL or a handle from this library, not yet freed.
 */
void vq_sq_free(struct vq_sq *sq);

/**
 * Dimension (0 for NULL).
 *
 * # Safety
 * `sq` is NULL or a live handle.
 */
size_t vq_sq_dim(const struct vq_sq *sq);

/**
 * Bits per dimension: 4, 8 or 16 (0 for NULL).
 *
 * # Safety
 * `sq` is NULL or a live handle.
 */
uint32_t vq_sq_bits(const struct vq_sq *sq);

/**
 * The metric the quantizer searches by: `VQ_METRIC_L2`, `VQ_METRIC_INNER_PRODUCT` or
 * `VQ_METRIC_COSINE`, also after a save and load (`UINT32_MAX` for NULL).
 *
 * # Safety
 * `sq` is NULL or a live handle.
 */
uint32_t vq_sq_metric(const struct vq_sq *sq);

/**
 * Bytes per code: `ceil(dim/2)`, `dim` or `2·dim` for 4, 8, 16 bits (0 for NULL).
 *
 * # Safety
 * `sq` is NULL or a live handle.
 */
size_t vq_sq_code_size(const struct vq_sq *sq);

/**
 * Read-only views of the trained ranges, `dim` floats each, valid until `vq_sq_free(sq)`.
 *
 * # Safety
 * `sq` is a live handle; the out-parameters are valid for writes.
 */
vq_status vq_sq_ranges(const struct vq_sq *sq, const float **vmin, const float **vmax, size_t *dim);

/**
 * Encodes `vectors_len / dim` vectors into `codes` (`n·code_size` bytes). Values outside
 * the trained range are clamped. A cosine quantizer encodes each vector normalized, as
 * `vq_pq_encode`.
 *
 * # Safety
 * `sq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_sq_encode(const struct vq_sq *sq,
                       const float *vectors,
                       size_t vectors_len,
                       uint8_t *codes,
                       size_t codes_len);

/**
 * Decodes `codes_len / code_size` codes into `vectors` (`n·dim` floats). Every byte
 * pattern is a valid code.
 *
 * # Safety
 * `sq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_sq_decode(const struct vq_sq *sq,
                       const uint8_t *codes,
                       size_t codes_len,
                       float *vectors,
                       size_t vectors_len);

/**
 * `out[i]` = the score of code `i` for `query` (`dim` floats) by the quantizer's metric,
 * against the code's reconstruction `x̂`: `‖q − x̂‖²` (L2), `q·x̂` (inner product) or
 * `q·x̂/‖q‖` (cosine; `x̂` reconstructs a unit vector); `codes_len = out_len·code_size`.
 *
 * # Safety
 * `sq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_sq_distances(const struct vq_sq *sq,
                          const float *query,
                          size_t query_len,
                          const uint8_t *codes,
                          size_t codes_len,
                          float *out,
                          size_t out_len);

/**
 * Top-`k` search of `queries_len / dim` queries over `codes_len / code_size` codes, scored
 * as `vq_sq_distances`, ordered and padded as `vq_pq_search`: squared L2 ascending with
 * `(+INFINITY, -1)` past the codes; inner product or cosine descending with
 * `(-INFINITY, -1)`.
 *
 * # Safety
 * `sq` is a live handle; the buffers hold the given number of elements.
 */
vq_status vq_sq_search(const struct vq_sq *sq,
                       const float *queries,
                       size_t queries_len,
                       const uint8_t *codes,
                       size_t codes_len,
                       size_t k,
                       float *distances,
                       size_t distances_len,
                       int64_t *labels,
                       size_t labels_len);

/**
 * Saves the quantizer (with its metric) as a model file at `path` (temporary file, then rename).
 *
 * # Safety
 * `sq` is a live handle; `path` is a NUL-terminated string.
 */
vq_status vq_sq_save(const struct vq_sq *sq, const char *path);

/**
 * Loads a scalar quantizer, with its metric (`vq_sq_metric`), from the model file at
 * `path` (statuses as `vq_pq_load`).
 *
 * # Safety
 * `path` is a NUL-terminated string; `out` is valid for a write.
 */
vq_status vq_sq_load(const char *path, struct vq_sq **out);

/**
 * Bytes `vq_sq_save_buffer` writes.
 *
 * # Safety
 * `sq` is a live handle; `out` is valid for a write.
 */
vq_status vq_sq_serialized_size(const struct vq_sq *sq, size_t *out);

/**
 * Writes the model file into `buf` (at least `vq_sq_serialized_size` bytes, else
 * `VQ_STATUS_BUFFER_TOO_SMALL`) and its size into `*written`.
 *
 * # Safety
 * `sq` is a live handle; `buf` holds `buf_len` writable bytes; `written` is valid.
 */
vq_status vq_sq_save_buffer(const struct vq_sq *sq, uint8_t *buf, size_t buf_len, size_t *written);

/**
 * Loads a scalar quantizer, with its metric, from a model file in memory.
 *
 * # Safety
 * `buf` holds `buf_len` readable bytes; `out` is valid for a write.
 */
vq_status vq_sq_load_buffer(const uint8_t *buf, size_t buf_len, struct vq_sq **out);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* VQ_H */
