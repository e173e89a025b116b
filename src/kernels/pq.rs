//! The product quantizer's kernels: distance tables, the ADC scan of one table, encoding
//! (nearest centroid per sub-space), and the two top-k searches (one query at a time, and
//! batches of one query per register lane). Entry points take a [`ProductQuantizer`] whose
//! shapes its constructors checked, and buffers the public API checked against them.

use crate::codes::{with_layout, Layout};
use crate::kernels::adc::{scan_interleaved, scan_one, MAX_LANES};
use crate::kernels::adc8;
use crate::kernels::l2::{batch_body, pair_body, NegProduct, Product, SqDiff};
use crate::kernels::nearest::{nearest_transposed, KPAD};
use crate::pq::{subspace, ProductQuantizer};
use crate::quantizer::Quantizer;
use crate::search::{Heaps, TopK, BLOCK_ROWS};
use crate::simd::Isa;
use pulp::{Simd, WithSimd};

/// What a table entry holds: the one place a metric reaches the PQ kernels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `‖query_i − centroid_ic‖²`.
    L2,
    /// `query_i · centroid_ic`.
    Dot,
    /// `−(query_i · centroid_ic)`, exactly: the similarities' smaller-is-better score, so
    /// the scans keep the smallest sums for every metric.
    NegDot,
}

/// One query's table: `table[i·ksub + c]` = entry `(i, c)` as `entry` defines it.
pub(crate) fn table(isa: Isa, pq: &ProductQuantizer, entry: Entry, query: &[f32], table: &mut [f32]) {
    isa.dispatch(Table { pq, entry, query, table });
}

/// `out[r]` = the sum of the table entries code `r` selects.
pub(crate) fn scan(isa: Isa, pq: &ProductQuantizer, table: &[f32], codes: &[u8], out: &mut [f32]) {
    isa.dispatch(Scan { pq, table, codes, out });
}

/// The code of each vector: per sub-space, its nearest centroid.
pub(crate) fn encode(isa: Isa, pq: &ProductQuantizer, vectors: &[f32], codes: &mut [u8]) {
    isa.dispatch(Encode { pq, vectors, codes });
}

/// Top-k of every query into its heap, one query at a time, with the first `m·ksub` floats
/// of `table` as its table of `entry`s, and the rest, where it is long enough, for the
/// register lookup of 8-bit codes (`adc8`).
pub(crate) fn search_one_by_one(
    isa: Isa,
    pq: &ProductQuantizer,
    entry: Entry,
    table: &mut [f32],
    queries: &[f32],
    codes: &[u8],
    heaps: &mut Heaps<'_>,
) {
    isa.dispatch(SearchOneByOne { isa, pq, entry, table, queries, codes, heaps });
}

/// Top-k of every query into its heap, in batches of one query per register lane, their
/// tables interleaved in `scratch` (`search_table_len()` floats).
pub(crate) fn search_batched(
    isa: Isa,
    pq: &ProductQuantizer,
    entry: Entry,
    scratch: &mut [f32],
    queries: &[f32],
    codes: &[u8],
    heaps: &mut Heaps<'_>,
) {
    isa.dispatch(BatchSearch { pq, entry, scratch, queries, codes, heaps });
}

/// The batch search: queries in groups of one per register lane, each group's distance
/// tables interleaved into `scratch` (`m·ksub·lanes` floats), then one pass over the codes
/// that keeps every query's top-k ([`scan_interleaved`]). Each table entry is computed as
/// [`Table`] computes it, so the result equals the one-query path bit for bit.
struct BatchSearch<'a, 'h> {
    pq: &'a ProductQuantizer,
    entry: Entry,
    scratch: &'a mut [f32],
    queries: &'a [f32],
    codes: &'a [u8],
    heaps: &'a mut Heaps<'h>,
}

impl WithSimd for BatchSearch<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        with_layout!(self.pq.layout, W => self.run::<S, W>(simd))
    }
}

impl BatchSearch<'_, '_> {
    #[inline(always)]
    fn run<S: Simd, W: Layout>(self, simd: S) {
        let BatchSearch { pq, entry, scratch, queries, codes, heaps } = self;
        let (distances, labels, k) = heaps.buffers();
        let (d, lanes) = (pq.dim, S::F32_LANES);
        // Every lookup loads one whole register: on a buffer 16 bytes past a cache line
        // (where malloc puts large blocks) each would straddle two lines, which measured
        // 1.8x slower in a C host. The buffer has a register of slack for this.
        let skip = scratch.as_ptr().align_offset(64).min(MAX_LANES);
        let itable = &mut scratch[skip..skip + pq.m * pq.ksub * lanes];
        for ((qs, ds), ls) in
            queries.chunks(lanes * d).zip(distances.chunks_mut(lanes * k)).zip(labels.chunks_mut(lanes * k))
        {
            let nq = qs.len() / d;
            for (i, rows) in itable.chunks_exact_mut(pq.ksub * lanes).enumerate() {
                let (off, dsub) = subspace(d, pq.m, i);
                let cents = &pq.centroids[off * pq.ksub..(off + dsub) * pq.ksub];
                for (row, cent) in rows.chunks_exact_mut(lanes).zip(cents.chunks_exact(dsub)) {
                    for (q, slot) in row.iter_mut().enumerate() {
                        *slot = if q < nq {
                            let qsub = &qs[q * d + off..q * d + off + dsub];
                            match entry {
                                Entry::L2 => pair_body::<S, SqDiff>(simd, qsub, cent),
                                Entry::Dot => pair_body::<S, Product>(simd, qsub, cent),
                                Entry::NegDot => pair_body::<S, NegProduct>(simd, qsub, cent),
                            }
                        } else {
                            0.0
                        };
                    }
                }
            }
            let (it, _) = S::as_simd_f32s(itable);
            scan_interleaved::<S, W>(simd, pq.ksub, pq.code_size(), it, codes, 0, k, ds, ls);
        }
    }
}

struct Table<'a> {
    pq: &'a ProductQuantizer,
    entry: Entry,
    query: &'a [f32],
    table: &'a mut [f32],
}

impl WithSimd for Table<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        table_body(simd, self.pq, self.entry, self.query, self.table);
    }
}

/// `table[i·ksub + c]` = entry `(i, c)`, computed as the batch search computes it.
#[inline(always)]
fn table_body<S: Simd>(simd: S, pq: &ProductQuantizer, entry: Entry, query: &[f32], table: &mut [f32]) {
    for (i, t) in table.chunks_exact_mut(pq.ksub).enumerate() {
        let (off, ds) = subspace(pq.dim, pq.m, i);
        let cents = &pq.centroids[off * pq.ksub..(off + ds) * pq.ksub];
        let q = &query[off..off + ds];
        match entry {
            Entry::L2 => batch_body::<S, SqDiff>(simd, q, cents, t),
            Entry::Dot => batch_body::<S, Product>(simd, q, cents, t),
            Entry::NegDot => batch_body::<S, NegProduct>(simd, q, cents, t),
        }
    }
}

/// The ADC scan of one table over `codes`, one monomorphized loop per layout so the layout
/// test stays out of the inner loop. Plain code (`pulp::Simd` has no gather), dispatched so
/// that it is compiled for the call's level like every other kernel.
struct Scan<'a> {
    pq: &'a ProductQuantizer,
    table: &'a [f32],
    codes: &'a [u8],
    out: &'a mut [f32],
}

impl WithSimd for Scan<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        scan_body(self.pq, self.table, self.codes, self.out);
    }
}

#[inline(always)]
fn scan_body(pq: &ProductQuantizer, table: &[f32], codes: &[u8], out: &mut [f32]) {
    let (ksub, cs) = (pq.ksub, pq.code_size());
    with_layout!(pq.layout, W => scan_one::<W>(ksub, cs, table, codes, out))
}

/// Top-k of every query, one at a time: its table, then the codes in blocks whose distances
/// stay in L1, into its heap (started by the caller); or, for 8-bit codes of 256 centroids
/// with room for the byte tables after the table, the register lookup (`adc8`).
struct SearchOneByOne<'a, 'h> {
    isa: Isa,
    pq: &'a ProductQuantizer,
    entry: Entry,
    table: &'a mut [f32],
    queries: &'a [f32],
    codes: &'a [u8],
    heaps: &'a mut Heaps<'h>,
}

impl WithSimd for SearchOneByOne<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let SearchOneByOne { isa, pq, entry, table, queries, codes, heaps } = self;
        let cs = pq.code_size();
        let (table, spare) = table.split_at_mut(pq.m * pq.ksub);
        let mut lookup = quantized_tables(isa, pq, codes.len() / cs, spare);
        let mut buf = [0f32; BLOCK_ROWS];
        for (qi, q) in queries.chunks_exact(pq.dim).enumerate() {
            table_body(simd, pq, entry, q, table);
            if let Some(lookup) = lookup.as_mut() {
                let (dist, ids, k) = heaps.buffers();
                let mut top = TopK::resume(&mut dist[qi * k..(qi + 1) * k], &mut ids[qi * k..(qi + 1) * k]);
                if lookup.search(isa, table, codes, &mut top) {
                    continue;
                }
            }
            for (b, cb) in codes.chunks(BLOCK_ROWS * cs).enumerate() {
                let nb = cb.len() / cs;
                scan_body(pq, table, cb, &mut buf[..nb]);
                heaps.push_block(qi, &buf[..nb], (b * BLOCK_ROWS) as i64);
            }
        }
    }
}

/// A one-query search of 8-bit codes through its table quantized and looked up in
/// registers (`adc8`): the kernel, and its buffer.
struct Quantized<'s>(adc8::Lookup, &'s mut [[u8; 32]]);

impl Quantized<'_> {
    /// Quantizes `table` and searches `codes` with it into `top`; `false`, having offered
    /// nothing, where the table cannot be quantized and the plain scan must run.
    #[inline(always)]
    fn search(&mut self, isa: Isa, table: &[f32], codes: &[u8], top: &mut TopK) -> bool {
        let Quantized(form, tables) = self;
        let rows = table.as_chunks::<256>().0;
        adc8::quantize(rows, *form, tables)
            .is_some_and(|bound| adc8::search(isa, *form, rows, tables, bound, codes, top))
    }
}

/// Fewer codes than this are scanned plainly: quantizing the table costs about as much as
/// scanning a thousand codes.
const QUANTIZED_MIN_CODES: usize = 1024;

/// The quantized search and its buffer (32-byte aligned in `spare`) where it applies: 8-bit
/// codes of 256 centroids, a level with a kernel, enough codes, and room.
fn quantized_tables<'s>(isa: Isa, pq: &ProductQuantizer, n: usize, spare: &'s mut [f32]) -> Option<Quantized<'s>> {
    if !pq.quantized_lookup() || n < QUANTIZED_MIN_CODES {
        return None;
    }
    let form = adc8::Lookup::at(isa)?;
    let bytes: &mut [u8] = bytemuck::cast_slice_mut(spare);
    let skip = bytes.as_ptr().align_offset(32);
    let tables = bytes.get_mut(skip..skip + adc8::tables_len(pq.m))?;
    Some(Quantized(form, tables.as_chunks_mut::<32>().0))
}

struct Encode<'a> {
    pq: &'a ProductQuantizer,
    vectors: &'a [f32],
    codes: &'a mut [u8],
}

impl WithSimd for Encode<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        with_layout!(self.pq.layout, W => encode_body::<S, W>(simd, self))
    }
}

/// The encoder, compiled per code layout so the store of each code is one instruction.
#[inline(always)]
fn encode_body<S: Simd, W: Layout>(simd: S, e: Encode<'_>) {
    let pq = e.pq;
    let (d, cs) = (pq.dim, pq.code_size());
    let kpad = pq.ksub.next_multiple_of(KPAD);
    let transposed = pq.transposed();
    e.codes.fill(0);
    // Four vectors per pass over each codebook: every centroid register loaded feeds four
    // vectors, which keeps a codebook larger than L1 from bounding the encoder.
    let (x4, x1) = e.vectors.split_at(e.vectors.len() / (4 * d) * 4 * d);
    let (c4, c1) = e.codes.split_at_mut(x4.len() / d * cs);
    for (x, code) in x4.chunks_exact(4 * d).zip(c4.chunks_exact_mut(4 * cs)) {
        for i in 0..pq.m {
            let (off, ds) = subspace(d, pq.m, i);
            let ct = &transposed[off * kpad..(off + ds) * kpad];
            let subs: [&[f32]; 4] = std::array::from_fn(|v| &x[v * d + off..v * d + off + ds]);
            let best = nearest_transposed::<S, 4>(simd, subs, ct, kpad, kpad).0;
            for (v, &c) in best.iter().enumerate() {
                W::set_zeroed(&mut code[v * cs..(v + 1) * cs], i, c as u32);
            }
        }
    }
    for (x, code) in x1.chunks_exact(d).zip(c1.chunks_exact_mut(cs)) {
        for i in 0..pq.m {
            let (off, ds) = subspace(d, pq.m, i);
            let ct = &transposed[off * kpad..(off + ds) * kpad];
            let best = nearest_transposed::<S, 1>(simd, [&x[off..off + ds]], ct, kpad, kpad).0[0];
            W::set_zeroed(code, i, best as u32);
        }
    }
}
