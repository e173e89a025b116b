//! 4-bit PQ fast scan: a product quantizer with at most 16 centroids per sub-quantizer
//! searched over codes packed 32 to a block, with 8-bit distance tables looked up by byte
//! shuffles (André et al., VLDB 2015; FAISS's `IndexPQFastScan`), then re-ranked.
//!
//! [`PackedCodes`] converts a [`ProductQuantizer`]'s plain nibble codes to the block layout
//! (`crate::kernels::fastscan` documents it) and back. [`ProductQuantizer::search_packed`]
//! scores every code with each query's table quantized to 8 bits, keeps the
//! `k × rerank_factor` best by those sums, and re-ranks them with the float table: their
//! scores are then exactly [`Quantizer::search`]'s (the same sums in the same order), so
//! with a candidate list as long as the codes the results are the float scan's, bit for
//! bit. [`ProductQuantizer::search_packed_refine`] re-ranks against the caller's full
//! vectors instead (FAISS's `IndexRefineFlat`). A `rerank_factor` of 0 reports the
//! quantized sums themselves, mapped back to float, as FAISS's fast scan does.
//!
//! **The 8-bit tables.** Each row of the float table (smaller is better for every metric:
//! squared distances, or negated similarities) is shifted by its minimum and scaled by
//! one factor `a` for all rows: `a = min(255 / max span, (65535 − m) / Σ spans)`, every
//! entry `round(a·(t − min))`. The first bound keeps entries in a byte; the second keeps
//! every code's sum within 16 bits (each entry rounds up by at most ½), so the kernels'
//! 16-bit sums never overflow. A sum `s` stands for `s/a + Σ mins`.
//!
//! **Passes.** Queries are scanned four at a time: each block's nibbles are extracted once
//! for the four, and the codes are read once per four queries (at m = 32 a single query's
//! scan is bound by memory bandwidth).
//!
//! **Hot path.** Searches allocate nothing up to the scratch memory's bounds (per query of
//! a pass: the float table, the 8-bit tables and the candidate list, about
//! `m·ksub + 36·m + 4·k·rerank_factor` floats, in `crate::scratch`). The `*_with_scratch`
//! searches take that memory from the caller
//! ([`ProductQuantizer::search_packed_scratch_len`] floats) and never allocate; with
//! [`PackedCodes::pack_into`] and a borrowed [`PackedCodes`] (codes in memory the caller
//! owns) nothing on the way allocates, as a C caller needs.

use crate::codes::CodeLayout;
use crate::error::{exact_len, exact_rows_len, rows_of};
use crate::kernels::fastscan::{self as kernel, Sink, Tables, BLOCK, QUERIES};
use crate::kernels::pq::Entry;
use crate::metric::{report_queries, Metric};
use crate::quantizer::Quantizer;
use crate::scratch::with_f32;
use crate::search::{check_search, Heaps, TopK};
use crate::simd::Isa;
use crate::{Error, ProductQuantizer};

/// Codes of a 4-bit product quantizer in the fast-scan block layout, in storage `B`: owned
/// (`Vec<u8>`, the default, from [`PackedCodes::pack`]) or borrowed (`&[u8]`, from
/// [`PackedCodes::pack_into`], [`PackedCodes::view`] or [`PackedCodes::from_bytes`] of a
/// slice), so memory a caller owns (a C caller's, a memory-mapped file) is searched in
/// place, never copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedCodes<B = Vec<u8>> {
    m: usize,
    n: usize,
    bytes: B,
}

impl PackedCodes {
    /// Bytes of `n` codes of `m` sub-quantizers packed: `⌈n/32⌉` blocks of `16·m` bytes
    /// (`m` rounded up to even); `None` when that overflows.
    pub fn packed_len(m: usize, n: usize) -> Option<usize> {
        // `kernel::block_bytes` would wrap for an `m` near `usize::MAX` (a C caller's).
        n.div_ceil(BLOCK).checked_mul(kernel::groups(m).checked_mul(BLOCK)?)
    }

    /// Packs `codes` (whole codes of `pq`, which must have at most 16 centroids per
    /// sub-quantizer: nibble codes).
    ///
    /// # Errors
    /// A quantizer with more than 16 centroids per sub-quantizer, codes not whole codes.
    pub fn pack(pq: &ProductQuantizer, codes: &[u8]) -> Result<Self, Error> {
        let (n, len) = packed_shape(pq, codes)?;
        let mut bytes = vec![0u8; len];
        kernel::pack(pq.m(), codes, &mut bytes);
        Ok(PackedCodes { m: pq.m(), n, bytes })
    }
}

impl<'a> PackedCodes<&'a [u8]> {
    /// [`PackedCodes::pack`] into the caller's `out` (exactly
    /// [`PackedCodes::packed_len`] bytes), without allocating; returns the view of `out`.
    ///
    /// # Errors
    /// As [`PackedCodes::pack`], and `out` of another length.
    pub fn pack_into(pq: &ProductQuantizer, codes: &[u8], out: &'a mut [u8]) -> Result<Self, Error> {
        let (n, len) = packed_shape(pq, codes)?;
        exact_len("packed codes", out.len(), len)?;
        kernel::pack(pq.m(), codes, out);
        Ok(PackedCodes { m: pq.m(), n, bytes: out })
    }
}

/// The number of codes in `codes` and their packed length, for a nibble quantizer.
fn packed_shape(pq: &ProductQuantizer, codes: &[u8]) -> Result<(usize, usize), Error> {
    check_nibbles(pq)?;
    let n = rows_of("codes", codes.len(), pq.code_size())?;
    let len = PackedCodes::packed_len(pq.m(), n).ok_or_else(|| Error::OutOfRange {
        what: "codes",
        got: n.to_string(),
        accepted: "a packed size within the address space",
    })?;
    Ok((n, len))
}

impl<B: AsRef<[u8]>> PackedCodes<B> {
    /// Codes already in the block layout ([`Self::as_bytes`] of an earlier packing), `n`
    /// codes of `m` sub-quantizers, owned (`Vec<u8>`) or borrowed (`&[u8]`: not copied).
    /// Any bytes are accepted: a sub-code at or above a quantizer's `ksub` never becomes
    /// a search result.
    ///
    /// # Errors
    /// `m = 0`, or `bytes` not [`PackedCodes::packed_len`] long.
    pub fn from_bytes(m: usize, n: usize, bytes: B) -> Result<Self, Error> {
        if m == 0 {
            return Err(Error::OutOfRange { what: "m (sub-quantizers)", got: "0".into(), accepted: ">= 1" });
        }
        let want = PackedCodes::packed_len(m, n).ok_or_else(|| Error::OutOfRange {
            what: "n (codes)",
            got: n.to_string(),
            accepted: "a packed size within the address space",
        })?;
        exact_len("packed codes", bytes.as_ref().len(), want)?;
        Ok(PackedCodes { m, n, bytes })
    }

    /// [`Self::from_bytes`] for codes of `pq`: its `m`, and it must have at most 16
    /// centroids per sub-quantizer.
    ///
    /// # Errors
    /// As [`Self::from_bytes`], and a quantizer with more than 16 centroids per
    /// sub-quantizer.
    pub fn from_bytes_for(pq: &ProductQuantizer, n: usize, bytes: B) -> Result<Self, Error> {
        check_nibbles(pq)?;
        Self::from_bytes(pq.m(), n, bytes)
    }

    /// A borrowed view of the same codes.
    pub fn view(&self) -> PackedCodes<&[u8]> {
        PackedCodes { m: self.m, n: self.n, bytes: self.bytes.as_ref() }
    }

    /// The plain nibble codes back (`n · ⌈m/2⌉` bytes in `out`).
    ///
    /// # Errors
    /// `out` of another length.
    pub fn unpack(&self, out: &mut [u8]) -> Result<(), Error> {
        exact_rows_len("codes", out.len(), self.n, kernel::groups(self.m))?;
        kernel::unpack(self.m, self.bytes.as_ref(), out);
        Ok(())
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether it holds no code.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Sub-quantizers per code.
    pub fn m(&self) -> usize {
        self.m
    }

    /// The packed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }
}

/// How [`ProductQuantizer::search_packed`] re-ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastScanParams {
    /// Candidates kept per query by the 8-bit sums, as a multiple of `k`, re-ranked with
    /// the float table (or the full vectors); 0 reports the 8-bit sums without re-ranking.
    pub rerank_factor: usize,
}

/// 4, from measurement (debian-minilm, m = 32 and 64): re-ranked with the float table,
/// 2 already gives the float scan's recall@10 exactly (1 loses up to 0.0007), and against
/// full vectors 4 matches FAISS's `IndexRefineFlat` at its `k_factor = 4` (2 falls to
/// 0.67 from 0.79 at m = 32). Over 1 M codes it costs about 13% over no re-ranking
/// (docs/PERFORMANCE.md).
impl Default for FastScanParams {
    fn default() -> Self {
        FastScanParams { rerank_factor: 4 }
    }
}

fn check_nibbles(pq: &ProductQuantizer) -> Result<(), Error> {
    if pq.layout() == CodeLayout::Nibble {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            what: "ksub (centroids) for fast scan",
            got: pq.ksub().to_string(),
            accepted: "2..=16 (4-bit codes)",
        })
    }
}

/// Bits of a candidate's key that hold its id: `sum << ID_BITS | id`.
const ID_BITS: u32 = 48;

/// The best `kept` candidates of one query by their 8-bit sums, gathered as FAISS's
/// reservoir gathers them: a code below the threshold is appended, and when the buffer is
/// full the best `kept` are selected in place (linear time) and the threshold drops to the
/// worst of them. That is O(1) per candidate where a heap of `kept` costs O(log kept), and
/// with many candidates the heap was most of the search (k = 100 × factor 4 over 25,000
/// codes: 11.5 ns per code, 3.6 with no re-ranking; docs/PERFORMANCE.md).
///
/// Keys order candidates as a heap would (by sum, then id), so the set kept is the same:
/// a code turned away by the threshold is never better than the `kept`-th, since ids rise
/// through the scan.
struct Candidates<'a> {
    /// `sum << ID_BITS | id`, the first `len` in use; its length is the buffer's capacity,
    /// more than `kept` unless the codes are no more.
    keys: &'a mut [u64],
    len: usize,
    kept: usize,
    limit: u32,
    n: usize,
}

impl<'a> Candidates<'a> {
    fn new(keys: &'a mut [u64], kept: usize, n: usize) -> Self {
        // Until `kept` are in, every code is a candidate.
        Candidates { keys, len: 0, kept, limit: u32::MAX, n }
    }

    /// Keeps the best `kept`, and once there are that many, lets in only codes below the
    /// worst of them.
    fn select(&mut self) {
        if self.len > self.kept {
            self.keys[..self.len].select_nth_unstable(self.kept - 1);
            self.len = self.kept;
        }
        if self.len == self.kept {
            let worst = self.keys[..self.len].iter().max().copied().unwrap_or(u64::MAX);
            self.limit = (worst >> ID_BITS) as u32;
        }
    }

    /// The best `kept` candidates (fewer when the codes are fewer), in no order.
    fn best(mut self) -> usize {
        self.select();
        self.len
    }
}

impl Sink for Candidates<'_> {
    #[inline(always)]
    fn threshold(&self) -> u32 {
        self.limit
    }

    #[inline]
    fn block(&mut self, b: usize, sums: &[u16; BLOCK], mut below: u32) {
        while below != 0 {
            let j = below.trailing_zeros() as usize;
            below &= below - 1;
            let id = b * BLOCK + j;
            // The limit may have dropped within this block.
            if id < self.n && u32::from(sums[j]) < self.limit {
                self.keys[self.len] = u64::from(sums[j]) << ID_BITS | id as u64;
                self.len += 1;
                if self.len == self.keys.len() {
                    self.select();
                }
            }
        }
    }
}

/// The 8-bit rows of `table` (`m` rows of `ksub` floats) and the scale and offset that map
/// a sum of them back: `sum / a + bias` (module docs). `lows` (`m` floats) is scratch for
/// each row's minimum, found once and used by both passes.
fn quantize(table: &[f32], ksub: usize, lows: &mut [f32], rows: &mut [[u8; 16]]) -> (f32, f32) {
    let m = rows.len();
    let (mut max_span, mut sum_span, mut bias) = (0f64, 0f64, 0f64);
    for (t, low) in table.chunks_exact(ksub).zip(lows.iter_mut()) {
        let (lo, hi) = t.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        let span = f64::from(hi) - f64::from(lo);
        max_span = max_span.max(span);
        sum_span += span;
        bias += f64::from(lo);
        *low = lo;
    }
    // An overflowed table (a query near f32::MAX) has no usable scale: all sums are 0 and
    // the float re-ranking decides.
    let a = if max_span > 0.0 && sum_span.is_finite() {
        (255.0 / max_span).min((65535.0 - m as f64) / sum_span)
    } else {
        0.0
    };
    for ((row, t), &lo) in rows.iter_mut().zip(table.chunks_exact(ksub)).zip(lows.iter()) {
        row.fill(255);
        for (e, &v) in row.iter_mut().zip(t) {
            *e = ((f64::from(v) - f64::from(lo)) * a).round().clamp(0.0, 255.0) as u8;
        }
    }
    (a as f32, bias as f32)
}

/// Floats of a pass's scratch ([`Job::pass`] splits it in this order): per query the float
/// table, the 8-bit rows and the laid-out tables, then one query's row minimums at a time,
/// then per query a buffer of `reservoir` candidate keys (a key is two floats, 8-byte
/// aligned by one float of slack).
fn scratch_floats(m: usize, ksub: usize, reservoir: usize) -> Option<usize> {
    let tables = m.checked_mul(ksub)?.checked_add(m.checked_mul(4)?)?.checked_add(kernel::tables_len(m) / 4)?;
    let per_query = tables.checked_add(reservoir.checked_mul(2)?)?;
    per_query.checked_mul(QUERIES)?.checked_add(m)?.checked_add(1)
}

/// The candidate buffer of one query for `kept` candidates of `n` codes: twice `kept`, so
/// the selection runs at most once per `kept` candidates, and no more than the codes.
fn reservoir(kept: usize, n: usize) -> usize {
    kept.saturating_mul(2).min(n.max(kept))
}

impl ProductQuantizer {
    /// Candidates kept per query for `n` codes: `k · rerank_factor` (at least `k`), at most
    /// `n` (at least 1).
    fn kept(n: usize, k: usize, params: &FastScanParams) -> Result<usize, Error> {
        let kept = k.checked_mul(params.rerank_factor.max(1)).ok_or_else(|| Error::OutOfRange {
            what: "rerank_factor",
            got: format!("{} for k = {k}", params.rerank_factor),
            accepted: "k·rerank_factor within the address space",
        })?;
        Ok(kept.min(n.max(1)))
    }

    /// Floats of scratch memory that [`Self::search_packed_with_scratch`] (and the refine
    /// variant) needs to search `n` codes for the top `k` with `params`: for a pass of up
    /// to four queries, each query's float table, 8-bit tables and candidate list, about
    /// `4·(m·ksub + 36·m + 2·min(2·k·rerank_factor, n)) + m` floats. A buffer sized for more
    /// codes (or a larger `k`) also serves fewer.
    ///
    /// # Errors
    /// A quantizer with more than 16 centroids per sub-quantizer; a size that overflows.
    pub fn search_packed_scratch_len(&self, n: usize, k: usize, params: &FastScanParams) -> Result<usize, Error> {
        check_nibbles(self)?;
        let kept = Self::kept(n, k, params)?;
        scratch_floats(self.m(), self.ksub(), reservoir(kept, n)).ok_or_else(|| Error::OutOfRange {
            what: "scratch length",
            got: format!("m = {}, ksub = {}, {kept} candidates per query", self.m(), self.ksub()),
            accepted: "a scratch size within the address space",
        })
    }

    /// Top-`k` search of every query over packed codes (module docs): the `k ×
    /// rerank_factor` best codes by 8-bit sums, re-ranked with the float table, ranked and
    /// reported as [`Quantizer::search`] ranks and reports. Its scratch memory comes from
    /// the library's (`crate::scratch`); [`Self::search_packed_with_scratch`] takes the
    /// caller's instead.
    ///
    /// # Errors
    /// A quantizer with more than 16 centroids per sub-quantizer, codes of another `m`, and
    /// as [`Quantizer::search`].
    pub fn search_packed<B: AsRef<[u8]>>(
        &self,
        queries: &[f32],
        codes: &PackedCodes<B>,
        k: usize,
        params: &FastScanParams,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        let codes = codes.view();
        let len = self.search_packed_scratch_len(codes.len(), k, params)?;
        with_f32(len, |scratch| self.fast_scan(scratch, queries, codes, k, params, None, distances, labels))
    }

    /// [`Self::search_packed`] in the caller's `scratch`, at least
    /// [`Self::search_packed_scratch_len`] floats (its contents on entry do not matter and
    /// on return are unspecified): allocates nothing. The results are `search_packed`'s,
    /// bit for bit.
    ///
    /// # Errors
    /// As [`Self::search_packed`], and `scratch` shorter than it needs.
    #[allow(clippy::too_many_arguments)]
    pub fn search_packed_with_scratch<B: AsRef<[u8]>>(
        &self,
        scratch: &mut [f32],
        queries: &[f32],
        codes: &PackedCodes<B>,
        k: usize,
        params: &FastScanParams,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        self.fast_scan(scratch, queries, codes.view(), k, params, None, distances, labels)
    }

    /// [`Self::search_packed`] re-ranked against `vectors` (the encoded rows in full
    /// precision, one per code): the results are the candidates' exact scores (in f32).
    /// Needs `rerank_factor >= 1`.
    ///
    /// # Errors
    /// As [`Self::search_packed`], `vectors` not one row per code, `rerank_factor = 0`.
    #[allow(clippy::too_many_arguments)]
    pub fn search_packed_refine<B: AsRef<[u8]>>(
        &self,
        queries: &[f32],
        codes: &PackedCodes<B>,
        k: usize,
        params: &FastScanParams,
        vectors: &[f32],
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        let codes = codes.view();
        let vectors = check_refine(self, codes.len(), params, vectors)?;
        let len = self.search_packed_scratch_len(codes.len(), k, params)?;
        with_f32(len, |scratch| self.fast_scan(scratch, queries, codes, k, params, vectors, distances, labels))
    }

    /// [`Self::search_packed_refine`] in the caller's `scratch`, as
    /// [`Self::search_packed_with_scratch`]: allocates nothing.
    ///
    /// # Errors
    /// As [`Self::search_packed_refine`], and `scratch` shorter than it needs.
    #[allow(clippy::too_many_arguments)]
    pub fn search_packed_refine_with_scratch<B: AsRef<[u8]>>(
        &self,
        scratch: &mut [f32],
        queries: &[f32],
        codes: &PackedCodes<B>,
        k: usize,
        params: &FastScanParams,
        vectors: &[f32],
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        let vectors = check_refine(self, codes.len(), params, vectors)?;
        self.fast_scan(scratch, queries, codes.view(), k, params, vectors, distances, labels)
    }

    /// The one search path: every public search checks its own extras, then runs this.
    #[allow(clippy::too_many_arguments)]
    fn fast_scan(
        &self,
        scratch: &mut [f32],
        queries: &[f32],
        codes: PackedCodes<&[u8]>,
        k: usize,
        params: &FastScanParams,
        vectors: Option<&[f32]>,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        check_nibbles(self)?;
        if codes.m != self.m() {
            return Err(Error::DimensionMismatch { what: "packed codes' m", got: codes.m, expected: self.m() });
        }
        check_search(self.dim(), queries, k, distances, labels)?;
        let need = self.search_packed_scratch_len(codes.n, k, params)?;
        if scratch.len() < need {
            return Err(Error::OutOfRange {
                what: "scratch length",
                got: format!("{} (search_packed_scratch_len = {need})", scratch.len()),
                accepted: ">= search_packed_scratch_len(n, k, params)",
            });
        }
        let kept = Self::kept(codes.n, k, params)?;
        if codes.n as u64 > 1 << ID_BITS {
            // Unreachable in practice (2^48 codes are 128 TiB packed), but a key must hold an id.
            return Err(Error::OutOfRange {
                what: "packed codes",
                got: codes.n.to_string(),
                accepted: "at most 2^48 codes per search",
            });
        }
        let entry = if self.metric() == Metric::L2 { Entry::L2 } else { Entry::NegDot };
        let dim = self.dim();
        let mut heaps = Heaps::start(distances, labels, k);
        let job = Job { pq: self, codes, entry, kept, factor: params.rerank_factor, vectors, isa: Isa::current() };
        let (out_d, out_l, _) = heaps.buffers();
        let passes =
            queries.chunks(QUERIES * dim).zip(out_d.chunks_mut(QUERIES * k)).zip(out_l.chunks_mut(QUERIES * k));
        for ((qs, od), ol) in passes {
            match qs.len() / dim {
                4 => job.pass::<4>(qs, scratch, od, ol),
                3 => job.pass::<3>(qs, scratch, od, ol),
                2 => job.pass::<2>(qs, scratch, od, ol),
                _ => job.pass::<1>(qs, scratch, od, ol),
            }
        }
        heaps.finish();
        report_queries(self.metric(), dim, queries, k, distances);
        Ok(())
    }
}

/// The checks only a refined search makes: `rerank_factor >= 1` and one row per code.
fn check_refine<'v>(
    pq: &ProductQuantizer,
    n: usize,
    params: &FastScanParams,
    vectors: &'v [f32],
) -> Result<Option<&'v [f32]>, Error> {
    if params.rerank_factor == 0 {
        return Err(Error::OutOfRange {
            what: "rerank_factor",
            got: "0".into(),
            accepted: ">= 1 to re-rank against full vectors",
        });
    }
    exact_rows_len("vectors", vectors.len(), n, pq.dim())?;
    Ok(Some(vectors))
}

/// One search's settings, run a pass of up to [`QUERIES`] queries at a time.
struct Job<'a> {
    pq: &'a ProductQuantizer,
    codes: PackedCodes<&'a [u8]>,
    entry: Entry,
    kept: usize,
    factor: usize,
    vectors: Option<&'a [f32]>,
    isa: Isa,
}

impl Job<'_> {
    /// The `NQ` queries `qs` scanned together over the codes, each re-ranked into its
    /// results `od`/`ol` (heaps of `k`), with `buf` as scratch.
    fn pass<const NQ: usize>(&self, qs: &[f32], buf: &mut [f32], od: &mut [f32], ol: &mut [i64]) {
        let (pq, codes, kept) = (self.pq, self.codes, self.kept);
        let (m, ksub, dim, n) = (pq.m(), pq.ksub(), pq.dim(), codes.n);
        let k = od.len() / NQ;
        let cap = reservoir(kept, n);
        let (tables, rest) = buf.split_at_mut(NQ * m * ksub);
        let (rows, rest) = rest.split_at_mut(NQ * 4 * m);
        let (laid, rest) = rest.split_at_mut(NQ * kernel::tables_len(m) / 4);
        let (lows, rest) = rest.split_at_mut(m);
        let (_, keys, _) = bytemuck::pod_align_to_mut::<f32, u64>(rest);
        let keys = &mut keys[..NQ * cap];
        let rows: &mut [[u8; 16]] = bytemuck::cast_slice_mut(rows);
        let laid: &mut [u8] = bytemuck::cast_slice_mut(laid);
        let mut scale = [(0f32, 0f32); NQ];
        let found;
        for (((q, t), r), s) in
            qs.chunks_exact(dim).zip(tables.chunks_exact_mut(m * ksub)).zip(rows.chunks_exact_mut(m)).zip(&mut scale)
        {
            crate::kernels::pq::table(self.isa, pq, self.entry, q, t);
            *s = quantize(t, ksub, lows, r);
        }
        {
            let mut laid_out = rows.chunks_exact(m).zip(laid.chunks_exact_mut(kernel::tables_len(m)));
            let views: [Tables; NQ] = std::array::from_fn(|_| {
                let (r, l) = laid_out.next().expect("one per query");
                Tables::lay_out(m, r, l)
            });
            let mut lists = keys.chunks_exact_mut(cap);
            let mut sinks: [Candidates; NQ] =
                std::array::from_fn(|_| Candidates::new(lists.next().expect("one per query"), kept, n));
            kernel::scan(self.isa, views, codes.bytes, &mut sinks);
            found = sinks.map(Candidates::best);
        }
        let bb = kernel::block_bytes(m);
        let per_query = qs.chunks_exact(dim).zip(tables.chunks_exact(m * ksub)).zip(scale);
        let lists = keys.chunks_exact(cap).zip(found);
        let outs = od.chunks_exact_mut(k).zip(ol.chunks_exact_mut(k));
        for ((((q, table), (a, bias)), (list, len)), (od, ol)) in per_query.zip(lists).zip(outs) {
            let mut out = TopK::resume(od, ol);
            for &key in &list[..len] {
                let (i, s) = ((key & ((1 << ID_BITS) - 1)) as usize, f32::from((key >> ID_BITS) as u16));
                let id = i as i64;
                let score = if self.factor == 0 {
                    s / a + bias
                } else if let Some(v) = self.vectors {
                    exact_score(pq.metric(), q, &v[i * dim..(i + 1) * dim])
                } else {
                    let block = &codes.bytes[(i / BLOCK) * bb..][..bb];
                    // The float scan's sum: the same entries in the same order. A sub-code at
                    // or above ksub (hostile packed bytes) scores NaN.
                    (0..m).fold(0.0, |acc, sq| {
                        let c = usize::from(kernel::sub_code(block, sq, i % BLOCK));
                        acc + if c < ksub { table[sq * ksub + c] } else { f32::NAN }
                    })
                };
                // As the float scan has it: a NaN (a hostile code's score) or +∞ (a sum of
                // finite entries that overflowed) is no result. `push` breaks the ties of the
                // rest by id, since the list is in no id order.
                if score < f32::INFINITY {
                    out.push(score, id);
                }
            }
        }
    }
}

/// The smaller-is-better score of row `x` for query `q`, as RaBitQ's re-ranking scores it:
/// squared distance, negated inner product, or negated inner product with the unit row
/// (cosine, before `1/‖q‖`), on the library's SIMD kernels.
fn exact_score(metric: Metric, q: &[f32], x: &[f32]) -> f32 {
    // The lengths are equal (checked), so the kernels cannot fail.
    match metric {
        Metric::L2 => crate::kernels::l2::l2sq(q, x).unwrap_or(f32::NAN),
        Metric::InnerProduct => 0.0 - crate::kernels::l2::dot(q, x).unwrap_or(f32::NAN),
        Metric::Cosine => 0.0 - crate::kernels::l2::dot(q, x).unwrap_or(f32::NAN) * crate::metric::inv_norm(x),
    }
}
