//! Product quantization: `m` sub-quantizers of `ksub` centroids each.
//!
//! A vector of dimension `d` is cut into `m` contiguous sub-vectors; each is replaced by the
//! index of its nearest centroid in that sub-space's codebook, trained by [`crate::kmeans`].
//!
//! **Uneven sub-spaces.** `d` need not be a multiple of `m`: with `q = d / m` and
//! `r = d mod m`, the first `r` sub-spaces have `q + 1` dimensions and the others `q`, so
//! sizes differ by at most one and sub-space `i` starts at `i·q + min(i, r)`.
//!
//! **Centroids** are stored sub-space after sub-space, each as `ksub` rows of its own
//! dimension: `[m][ksub][dsub_i]` (FAISS's `[m][ksub][dsub]` when `m` divides `d`).
//!
//! **Codes** (`code_size` bytes per vector):
//! - `ksub ≤ 16`: two sub-codes per byte, sub-quantizer `2j` in the high nibble of byte `j`
//!   (`⌈m/2⌉` bytes; an odd `m` leaves a zero low nibble), the layout of 4-bit SQ;
//! - `ksub ≤ 256`: one byte per sub-code (`m` bytes);
//! - `ksub ≤ 65536`: one little-endian u16 per sub-code (`2m` bytes).
//!
//! **Distances.** [`ProductQuantizer::distance_table`] writes `table[i·ksub + c] =
//! ‖q_i − centroid_ic‖²`; the asymmetric distance of a code is the sum of its `m` entries
//! ([`ProductQuantizer::adc_scan`]), which equals `‖q − decode(code)‖²` up to float rounding.
//!
//! **Metrics** ([`crate::metric`]). For inner product the table holds `q_i·centroid_ic`
//! and a code's sum is `q·x̂`; search keeps the largest. A cosine quantizer trains on the
//! normalized rows and normalizes every vector it encodes; its scores are `q·x̂/‖q‖`.
//! Internally the searches sum negated inner products (`−q_i·centroid_ic`, exactly), so
//! one scan keeps the smallest sums for every metric; the results are negated back.
//!
//! **Search.** With two or more queries, [`Quantizer::search`] scans up to 16 queries per
//! pass over the codes (one per register lane), their tables interleaved so that one
//! register load serves them all. One query at a time, 8-bit codes of 256 centroids are
//! scanned with the table quantized to bytes and looked up in registers (AVX2 shuffles,
//! AVX-512 VBMI permutes), and only the codes its bound cannot rule out are scored with the
//! float table; other codes, and other levels, take a scalar gather. All give the same
//! bits. Codebooks whose interleaved tables would exceed 1 MiB (`m·ksub > 16383`) are
//! scanned one query at a time.
//!
//! Hot calls (`encode`, `decode`, `distance_table`, `adc_scan`, `search`) allocate nothing.
//! `search` keeps tables over 32 KiB in a per-thread buffer made on the thread's first
//! search (see `scratch.rs`), and allocates per call only for tables over 1 MiB (one query's
//! table at `m·ksub > 262144`); [`ProductQuantizer::search_with_table`] takes the caller's
//! buffer and never allocates.

use crate::codes::CodeLayout;
use crate::error::{exact_len, exact_rows_len, rows_of};
use crate::kernels;
use crate::kernels::adc::MAX_LANES;
use crate::kernels::nearest::{transpose_into, KPAD};
use crate::kernels::pq::Entry;
use crate::kmeans::{Assignment, Init, KMeans, KMeansParams};
use crate::metric::{inv_norm, normalize_rows, normalized_chunks, report_queries, Metric};
use crate::quantizer::Quantizer;
use crate::search::{check_search, Heaps};
use crate::simd::Isa;
use crate::{parallel, Error};
use std::sync::OnceLock;

/// Training parameters of a [`ProductQuantizer`].
#[derive(Debug, Clone, PartialEq)]
pub struct PqParams {
    /// Sub-quantizers (the original tool's `--pq-chunks`), `1..=d`.
    pub m: usize,
    /// Centroids per sub-quantizer (`--pq-clusters`), `2..=65536`.
    pub ksub: usize,
    /// k-means settings shared by every sub-space (its `k` is replaced by `ksub`; sub-space
    /// `i` uses seed `seed + i`; its `threads` are the whole training's, see
    /// [`ProductQuantizer::train`]).
    pub kmeans: KMeansParams,
    /// How the quantizer searches (default L2); for cosine it trains on the normalized rows.
    pub metric: Metric,
}

impl PqParams {
    /// `m` sub-quantizers of `ksub` centroids: 25 k-means iterations, seed 1234, 256 points
    /// per centroid, and random initialisation as FAISS's `ProductQuantizer` does: on the
    /// original tool's demo data it trained 10–20% faster than k-means++ at equal or lower
    /// MSE (k-means++ seeding costs about one iteration done with slower kernels).
    ///
    /// Above 4096 centroids (13 to 16 bits) the k-means assigns through coarse groups
    /// ([`Assignment::Coarse`], 16 groups per row): exact assignment of a 16-bit codebook
    /// costs minutes per iteration, the coarse one a fifth of that (see
    /// `docs/PERFORMANCE.md`). Set `kmeans.assignment` to [`Assignment::Exact`] to opt out.
    pub fn new(m: usize, ksub: usize) -> Self {
        let mut kmeans = KMeansParams::new(ksub);
        kmeans.init = Init::Random;
        if ksub > 4096 {
            kmeans.assignment = Assignment::Coarse { nprobe: 16 };
        }
        PqParams { m, ksub, kmeans, metric: Metric::L2 }
    }

    /// `m` sub-quantizers of `2^nbits` centroids.
    ///
    /// # Errors
    /// `nbits` outside `1..=16`.
    pub fn with_nbits(m: usize, nbits: u32) -> Result<Self, Error> {
        if !(1..=16).contains(&nbits) {
            return Err(Error::OutOfRange { what: "nbits", got: nbits.to_string(), accepted: "1..=16" });
        }
        Ok(Self::new(m, 1 << nbits))
    }
}

/// A trained product quantizer. Immutable: share it freely across threads.
#[derive(Debug, Clone)]
pub struct ProductQuantizer {
    pub(crate) dim: usize,
    pub(crate) m: usize,
    pub(crate) ksub: usize,
    pub(crate) layout: CodeLayout,
    pub(crate) metric: Metric,
    pub(crate) centroids: Vec<f32>,
    /// The k-means setting the codebooks were trained with, kept in model files; `None` for
    /// a quantizer built from given centroids.
    pub(crate) training: Option<KMeansParams>,
    /// Per sub-space, the centroids transposed (`dsub_i` rows of `kpad` floats, columns past
    /// `ksub` at +∞) for the encoder, which scores `4·L` centroids per register pass. Built
    /// with the quantizer, except when loaded from a model file: a loaded quantizer builds
    /// it on its first `encode`, so a process that only searches never pays for a second
    /// copy of the codebook (it doubled the load time of a 100 MB model).
    transposed: OnceLock<Vec<f32>>,
}

/// Equal codebooks make equal quantizers, whether or not the encoder's copy is built yet and
/// whatever training record they carry: they encode and search alike.
impl PartialEq for ProductQuantizer {
    fn eq(&self, other: &Self) -> bool {
        (self.dim, self.m, self.ksub, self.layout, self.metric)
            == (other.dim, other.m, other.ksub, other.layout, other.metric)
            && self.centroids == other.centroids
    }
}

impl ProductQuantizer {
    /// Trains `m` codebooks of `ksub` centroids on `n` rows of `dim` floats.
    ///
    /// **Threads** (feature `parallel`, `params.kmeans.threads`: 0 all cores, 1 one thread).
    /// With at least as many sub-quantizers as threads, each thread trains whole
    /// sub-quantizers, one k-means at a time on one thread: the sub-quantizers are
    /// independent, whereas a k-means spread over threads joins them twice per iteration and
    /// updates its centroids on one. With fewer sub-quantizers than threads, that split
    /// would leave threads idle, so the sub-quantizers run in turn, each k-means on every
    /// thread. Either way the result is bit-identical to one thread: sub-quantizer `i`
    /// trains on the same sub-space with seed `seed + i`, and k-means results do not depend
    /// on the thread count.
    ///
    /// # Errors
    /// `m = 0` or `m > dim`, `ksub` outside `2..=65536`, fewer rows than `ksub`, ragged or
    /// non-finite data, and the k-means parameter errors.
    pub fn train(dim: usize, data: &[f32], params: &PqParams) -> Result<Self, Error> {
        Self::train_with_progress(dim, data, params, &|_| {})
    }

    /// [`Self::train`], calling `progress(i)` once sub-quantizer `i` is trained: `m` calls
    /// in all on success, from the thread that trained it, in no fixed order when threads
    /// train several at once. For a progress bar; it cannot change the result.
    ///
    /// # Errors
    /// As [`Self::train`].
    pub fn train_with_progress(
        dim: usize,
        data: &[f32],
        params: &PqParams,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Self, Error> {
        Self::train_impl(dim, data, params, None, progress)
    }

    /// [`Self::train`], each sub-quantizer's k-means started from `start`'s codebook
    /// instead of `params.kmeans.init` (FAISS's hot start): how OPQ refines its codebooks
    /// over its outer iterations, and a way to continue a training on new data.
    ///
    /// # Errors
    /// As [`Self::train`], and a `start` whose dimension, `m` or `ksub` differ from
    /// `dim`, `params.m` and `params.ksub`.
    pub fn train_from(dim: usize, data: &[f32], params: &PqParams, start: &ProductQuantizer) -> Result<Self, Error> {
        if (start.dim, start.m, start.ksub) != (dim, params.m, params.ksub) {
            return Err(Error::OutOfRange {
                what: "start quantizer",
                got: format!("dim {} m {} ksub {}", start.dim, start.m, start.ksub),
                accepted: "the shape being trained (the same dim, m and ksub)",
            });
        }
        Self::train_impl(dim, data, params, Some(start), &|_| {})
    }

    fn train_impl(
        dim: usize,
        data: &[f32],
        params: &PqParams,
        start: Option<&ProductQuantizer>,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Self, Error> {
        let n = rows_of("training data", data.len(), dim)?;
        let (m, ksub) = (params.m, params.ksub);
        check_shape(dim, m, ksub)?;
        // Checked here, not only by k-means, so the index names the element of `data`
        // rather than of one sub-space's copy.
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "training data", index: i });
        }
        if n < ksub {
            return Err(Error::OutOfRange {
                what: "training rows",
                got: format!("{n} rows for ksub = {ksub} centroids"),
                accepted: "at least as many training rows as centroids per sub-quantizer",
            });
        }
        // A cosine quantizer's codebooks fit the unit vectors it will encode.
        let unit;
        let data = if params.metric == Metric::Cosine {
            unit = {
                let mut u = data.to_vec();
                normalize_rows(dim, &mut u);
                u
            };
            &unit[..]
        } else {
            data
        };
        // The caller's level, for every k-means on whichever thread trains it.
        let isa = Isa::current();
        // Sub-quantizer `i`, its k-means on `threads` threads of the current pool, its
        // sub-space copied into `sub` (reused when sub-quantizers run in turn).
        let sub_quantizer = |i: usize, threads: usize, sub: &mut Vec<f32>| -> Result<Vec<f32>, Error> {
            let (off, ds) = subspace(dim, m, i);
            sub.clear();
            sub.reserve_exact(n * ds);
            for row in data.chunks_exact(dim) {
                sub.extend_from_slice(&row[off..off + ds]);
            }
            let mut kp = params.kmeans.clone();
            kp.k = ksub;
            kp.seed = params.kmeans.seed.wrapping_add(i as u64);
            kp.threads = threads;
            let km = KMeans::train_from(isa, ds, sub, &kp, false, start.map(|pq| pq.sub_centroids(i)))?;
            progress(i);
            Ok(km.centroids().to_vec())
        };
        let in_turn = |threads: usize| -> Result<Vec<_>, Error> {
            let mut sub = Vec::new();
            (0..m).map(|i| sub_quantizer(i, threads, &mut sub)).collect()
        };
        let threads = params.kmeans.threads;
        let threads = parallel::thread_count(threads);
        let subs = if threads == 1 {
            in_turn(1)
        } else if m >= threads {
            parallel::map_on_threads(threads, m, |i| sub_quantizer(i, 1, &mut Vec::new())).into_iter().collect()
        } else {
            parallel::in_pool(threads, || in_turn(threads))
        };
        let mut pq = Self::from_centroids(dim, m, ksub, subs?.concat())?.with_metric(params.metric);
        let mut record = params.kmeans.clone();
        (record.k, record.threads) = (ksub, 0);
        pq.training = Some(record);
        Ok(pq)
    }

    /// Builds a quantizer from known centroids laid out `[m][ksub][dsub_i]`.
    ///
    /// # Errors
    /// The same parameter checks as [`Self::train`], a centroid buffer of the wrong length,
    /// or a non-finite centroid.
    pub fn from_centroids(dim: usize, m: usize, ksub: usize, centroids: Vec<f32>) -> Result<Self, Error> {
        check_shape(dim, m, ksub)?;
        exact_len("centroids", centroids.len(), ksub * dim)?;
        if let Some(i) = centroids.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "centroids", index: i });
        }
        let pq = Self::from_centroids_lazy(dim, m, ksub, centroids, true)?;
        pq.transposed();
        Ok(pq)
    }

    /// [`Self::from_centroids`] without building the encoder's transposed codebook, which
    /// the first `encode` builds (the model loader's constructor; it checks finiteness as it
    /// reads, so it passes `check_finite = false`).
    pub(crate) fn from_centroids_lazy(
        dim: usize,
        m: usize,
        ksub: usize,
        centroids: Vec<f32>,
        check_finite: bool,
    ) -> Result<Self, Error> {
        check_shape(dim, m, ksub)?;
        exact_len("centroids", centroids.len(), ksub * dim)?;
        if check_finite {
            if let Some(i) = centroids.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite { what: "centroids", index: i });
            }
        }
        let layout = CodeLayout::for_values(ksub)?;
        Ok(ProductQuantizer {
            dim,
            m,
            ksub,
            layout,
            metric: Metric::L2,
            centroids,
            training: None,
            transposed: OnceLock::new(),
        })
    }

    /// The same quantizer searching by `metric` (built from given centroids, a quantizer
    /// searches by L2). The codes of a cosine quantizer hold normalized vectors: codes
    /// made under another metric must be encoded again.
    pub fn with_metric(mut self, metric: Metric) -> Self {
        self.metric = metric;
        self
    }

    /// The encoder's transposed codebooks, built on first use.
    #[inline]
    pub(crate) fn transposed(&self) -> &[f32] {
        self.transposed.get_or_init(|| {
            let (dim, m, ksub) = (self.dim, self.m, self.ksub);
            let kpad = ksub.next_multiple_of(KPAD);
            let mut transposed = vec![f32::INFINITY; dim * kpad];
            for i in 0..m {
                let (off, ds) = subspace(dim, m, i);
                let src = &self.centroids[off * ksub..(off + ds) * ksub];
                transpose_into(src, ds, &mut transposed[off * kpad..(off + ds) * kpad], kpad);
            }
            transposed
        })
    }

    /// The k-means setting the codebooks were trained with (`k` = `ksub`, `threads` = 0:
    /// neither changes the result), also after a save and load; `None` for a quantizer built
    /// from given centroids.
    pub fn training(&self) -> Option<&KMeansParams> {
        self.training.as_ref()
    }

    /// Sub-quantizers.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Centroids per sub-quantizer.
    pub fn ksub(&self) -> usize {
        self.ksub
    }

    /// How a vector's sub-codes are packed: nibbles for `ksub ≤ 16`, bytes for `ksub ≤ 256`,
    /// else little-endian u16s.
    pub fn layout(&self) -> CodeLayout {
        self.layout
    }

    /// `(first dimension, dimensions)` of sub-space `i` (see the module docs).
    ///
    /// # Panics
    /// If `i >= m`.
    pub fn subspace(&self, i: usize) -> (usize, usize) {
        assert!(i < self.m, "sub-space {i} of {}", self.m);
        subspace(self.dim, self.m, i)
    }

    /// All centroids, `[m][ksub][dsub_i]`.
    pub fn centroids(&self) -> &[f32] {
        &self.centroids
    }

    /// The `ksub × dsub_i` centroids of sub-space `i`.
    ///
    /// # Panics
    /// If `i >= m`.
    pub fn sub_centroids(&self, i: usize) -> &[f32] {
        let (off, ds) = self.subspace(i);
        &self.centroids[off * self.ksub..(off + ds) * self.ksub]
    }

    /// `table[i·ksub + c]` for every sub-space `i` and centroid `c`, by the quantizer's
    /// metric: `‖query_i − centroid_ic‖²` (L2), `query_i·centroid_ic` (inner product), or
    /// that times `1/‖query‖` (cosine). [`Self::adc_scan`] sums it into each code's score.
    ///
    /// # Errors
    /// `query.len() != dim` or `table.len() != m·ksub`.
    pub fn distance_table(&self, query: &[f32], table: &mut [f32]) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        exact_len("table", table.len(), self.m * self.ksub)?;
        let entry = if self.metric == Metric::L2 { Entry::L2 } else { Entry::Dot };
        kernels::pq::table(Isa::current(), self, entry, query, table);
        if self.metric == Metric::Cosine {
            let s = inv_norm(query);
            table.iter_mut().for_each(|v| *v *= s);
        }
        Ok(())
    }

    /// Every sub-code below `ksub`: only codes not made by [`Quantizer::encode`] can fail,
    /// and only when `ksub` does not fill its layout (16, 256 or 65536 values).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming the first bad code, sub-quantizer and value.
    pub fn check_codes(&self, codes: &[u8]) -> Result<(), Error> {
        if matches!(self.ksub, 16 | 256 | 65536) {
            return Ok(());
        }
        for (v, code) in codes.chunks_exact(self.code_size()).enumerate() {
            for i in 0..self.m {
                let c = self.layout.get(code, i) as usize;
                if c >= self.ksub {
                    return Err(Error::OutOfRange {
                        what: "sub-code",
                        got: format!("{c} in code {v}, sub-quantizer {i}"),
                        accepted: "below ksub",
                    });
                }
            }
        }
        Ok(())
    }

    /// `out[i]` = the sum of the `m` table entries code `i` selects: its score under the
    /// table's query ([`Self::distance_table`]). Four codes per pass, so four independent sums hide
    /// the latency of the table loads.
    ///
    /// # Errors
    /// A table or code buffer of the wrong length.
    ///
    /// # Panics
    /// On a sub-code at or above `ksub` (codes not made by `encode`; see
    /// [`Self::check_codes`]), as do `distances` and `search`: the scan does not pay for a
    /// check per entry, and a bounds check stops it before it reads past the table.
    pub fn adc_scan(&self, table: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        exact_len("table", table.len(), self.m * self.ksub)?;
        exact_rows_len("codes", codes.len(), out.len(), self.code_size())?;
        kernels::pq::scan(Isa::current(), self, table, codes, out);
        Ok(())
    }

    /// [`Quantizer::encode`] spread over `threads` threads (0: all cores), in blocks of 1,024
    /// vectors; the codes are identical to the single-threaded call. Unlike `encode` it may
    /// allocate (the thread pool's bookkeeping): use it for bulk encoding, not per query.
    ///
    /// # Errors
    /// As [`Quantizer::encode`].
    #[cfg(feature = "parallel")]
    pub fn encode_parallel(&self, vectors: &[f32], codes: &mut [u8], threads: usize) -> Result<(), Error> {
        use rayon::prelude::*;
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_rows_len("codes", codes.len(), n, self.code_size())?;
        const BLOCK: usize = 1024;
        let isa = Isa::current();
        crate::parallel::in_pool(threads, || {
            vectors.par_chunks(BLOCK * self.dim).zip(codes.par_chunks_mut(BLOCK * self.code_size())).for_each(
                |(v, c)| {
                    self.encode_at(isa, v, c);
                },
            )
        });
        Ok(())
    }

    /// Encodes at `isa` (shapes checked), normalizing first for cosine.
    fn encode_at(&self, isa: Isa, vectors: &[f32], codes: &mut [u8]) {
        if self.metric == Metric::Cosine {
            let cs = self.code_size();
            normalized_chunks(self.dim, vectors, |unit, first| {
                let n = unit.len() / self.dim;
                kernels::pq::encode(isa, self, unit, &mut codes[first * cs..(first + n) * cs]);
            });
        } else {
            kernels::pq::encode(isa, self, vectors, codes);
        }
    }

    /// Whether the batch search applies: its interleaved tables (`m·ksub·16` floats) fit in
    /// 1 MiB, so they stay in L2 while the codes stream past. Larger codebooks scan one
    /// query at a time, whose tables are 16 times smaller.
    fn batchable(&self) -> bool {
        (self.m * self.ksub + 1) * MAX_LANES <= crate::scratch::RETAIN_FLOATS
    }

    /// Length of the table buffer [`Self::search_with_table`] scans batches with:
    /// `(m·ksub + 1)·16` floats when the batch search applies (up to 16 queries per pass over the
    /// codes, one per register lane), else `m·ksub`, plus `m·128 + 8` for 8-bit codes of 256
    /// centroids (one query's table quantized for the register lookup).
    pub fn search_table_len(&self) -> usize {
        if self.batchable() {
            // Plus one register of slack: the interleaved tables start on a 64-byte
            // boundary inside the buffer, whatever its address. Longer than
            // `one_query_len`, so one query finds its register tables there too.
            self.m * self.ksub * MAX_LANES + MAX_LANES
        } else {
            self.one_query_len()
        }
    }

    /// Floats of one query's search buffer: its table, and for 8-bit codes of 256
    /// centroids the table quantized to bytes and laid out for the register lookup
    /// (`kernels::adc8`), with 32 bytes of slack to align it.
    fn one_query_len(&self) -> usize {
        let one = self.m * self.ksub;
        if self.quantized_lookup() {
            one + kernels::adc8::tables_len(self.m) / 4 + 8
        } else {
            one
        }
    }

    /// Whether one query's search may go through its table quantized and looked up in
    /// registers (the level and the table decide the rest).
    pub(crate) fn quantized_lookup(&self) -> bool {
        self.layout == CodeLayout::Byte && self.ksub == 256 && kernels::adc8::applies(self.m)
    }

    /// Top-k search of every query with a caller-provided table buffer: never allocates,
    /// whatever the codebook size. The buffer holds [`Self::search_table_len`] floats, which
    /// scans queries in batches that share each pass over the codes and, for 8-bit codes
    /// of 256 centroids, looks one query's table up in registers; or `m·ksub` floats, which
    /// scans one query at a time with plain loads. Both give the same results. See
    /// [`Quantizer::search`].
    ///
    /// # Errors
    /// As [`Quantizer::search`], and a table buffer of another length.
    pub fn search_with_table(
        &self,
        table: &mut [f32],
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        let one = self.m * self.ksub;
        if table.len() != one && table.len() != self.search_table_len() {
            return Err(Error::OutOfRange {
                what: "table length",
                got: format!("{} (m·ksub = {one}, search_table_len() = {})", table.len(), self.search_table_len()),
                accepted: "m·ksub or search_table_len()",
            });
        }
        self.search_in(table, queries, codes, k, distances, labels)
    }

    /// [`Self::search_with_table`] with a table of `m·ksub`, `one_query_len()` or
    /// `search_table_len()` floats: batches with the last where they apply, else one query
    /// at a time.
    fn search_in(
        &self,
        table: &mut [f32],
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        rows_of("codes", codes.len(), self.code_size())?;
        check_search(self.dim, queries, k, distances, labels)?;
        let nq = queries.len() / self.dim;
        let entry = if self.metric == Metric::L2 { Entry::L2 } else { Entry::NegDot };
        let mut heaps = Heaps::start(distances, labels, k);
        if nq >= 2 && self.batchable() && table.len() == self.search_table_len() {
            kernels::pq::search_batched(Isa::current(), self, entry, table, queries, codes, &mut heaps);
        } else {
            kernels::pq::search_one_by_one(Isa::current(), self, entry, table, queries, codes, &mut heaps);
        }
        heaps.finish();
        report_queries(self.metric, self.dim, queries, k, distances);
        Ok(())
    }
}

/// `1 ≤ m ≤ dim` and `2 ≤ ksub ≤ 65536`.
fn check_shape(dim: usize, m: usize, ksub: usize) -> Result<(), Error> {
    if m == 0 || m > dim {
        return Err(Error::OutOfRange {
            what: "m (sub-quantizers)",
            got: format!("{m} for dimension {dim}"),
            accepted: "1 ..= the dimension",
        });
    }
    if !(2..=65536).contains(&ksub) {
        return Err(Error::OutOfRange { what: "ksub (centroids)", got: ksub.to_string(), accepted: "2..=65536" });
    }
    Ok(())
}

/// `(first dimension, dimensions)` of sub-space `i` of `m` over `dim` dimensions.
#[inline]
pub(crate) fn subspace(dim: usize, m: usize, i: usize) -> (usize, usize) {
    let (q, r) = (dim / m, dim % m);
    (i * q + i.min(r), q + usize::from(i < r))
}

impl Quantizer for ProductQuantizer {
    fn dim(&self) -> usize {
        self.dim
    }

    fn metric(&self) -> Metric {
        self.metric
    }

    fn code_size(&self) -> usize {
        self.layout.code_size(self.m)
    }

    fn encode(&self, vectors: &[f32], codes: &mut [u8]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_rows_len("codes", codes.len(), n, self.code_size())?;
        self.encode_at(Isa::current(), vectors, codes);
        Ok(())
    }

    fn decode(&self, codes: &[u8], vectors: &mut [f32]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_rows_len("codes", codes.len(), n, self.code_size())?;
        self.check_codes(codes)?;
        for (code, x) in codes.chunks_exact(self.code_size()).zip(vectors.chunks_exact_mut(self.dim)) {
            for i in 0..self.m {
                let (off, ds) = subspace(self.dim, self.m, i);
                let c = self.layout.get(code, i) as usize;
                x[off..off + ds]
                    .copy_from_slice(&self.centroids[off * self.ksub + c * ds..off * self.ksub + (c + 1) * ds]);
            }
        }
        Ok(())
    }

    fn distances(&self, query: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        exact_rows_len("codes", codes.len(), out.len(), self.code_size())?;
        let isa = Isa::current();
        let entry = if self.metric == Metric::L2 { Entry::L2 } else { Entry::Dot };
        crate::scratch::with_f32(self.m * self.ksub, |t| {
            kernels::pq::table(isa, self, entry, query, t);
            kernels::pq::scan(isa, self, t, codes, out);
        });
        if self.metric == Metric::Cosine {
            let s = inv_norm(query);
            out.iter_mut().for_each(|v| *v *= s);
        }
        Ok(())
    }

    fn search(
        &self,
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        let nq = check_search(self.dim, queries, k, distances, labels)?;
        let len = if nq >= 2 { self.search_table_len() } else { self.one_query_len() };
        crate::scratch::with_f32(len, |t| self.search_in(t, queries, codes, k, distances, labels))
    }
}
