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
//! Hot calls (`encode`, `decode`, `distance_table`, `adc_scan`, `search`) allocate nothing,
//! except `search` when the table (`m·ksub` floats) exceeds its 32 KiB stack buffer: then
//! one table per call is allocated (large codebooks; `search_with_table` avoids it).

use crate::error::{exact_len, rows_of};
use crate::kernels::l2::l2sq_rows;
use crate::kmeans::{KMeans, KMeansParams};
use crate::quantizer::Quantizer;
use crate::search::{check_search, TopK, BLOCK_ROWS};
use crate::{simd, Error};
use pulp::{Simd, WithSimd};

/// Training parameters of a [`ProductQuantizer`].
#[derive(Debug, Clone, PartialEq)]
pub struct PqParams {
    /// Sub-quantizers (the original tool's `--pq-chunks`), `1..=d`.
    pub m: usize,
    /// Centroids per sub-quantizer (`--pq-clusters`), `2..=65536`.
    pub ksub: usize,
    /// k-means settings shared by every sub-space (its `k` is replaced by `ksub`; sub-space
    /// `i` uses seed `seed + i`).
    pub kmeans: KMeansParams,
}

impl PqParams {
    /// `m` sub-quantizers of `ksub` centroids, k-means defaults (25 iterations, seed 1234,
    /// k-means++, 256 points per centroid).
    pub fn new(m: usize, ksub: usize) -> Self {
        PqParams { m, ksub, kmeans: KMeansParams::new(ksub) }
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

/// How sub-codes are packed into bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeWidth {
    /// Two sub-codes per byte (`ksub ≤ 16`).
    Nibble,
    /// One byte per sub-code (`ksub ≤ 256`).
    Byte,
    /// One little-endian u16 per sub-code (`ksub ≤ 65536`).
    U16,
}

impl CodeWidth {
    fn for_ksub(ksub: usize) -> CodeWidth {
        match ksub {
            0..=16 => CodeWidth::Nibble,
            17..=256 => CodeWidth::Byte,
            _ => CodeWidth::U16,
        }
    }

    /// Sub-code `i` of a code.
    #[inline(always)]
    fn get(self, code: &[u8], i: usize) -> usize {
        match self {
            CodeWidth::Nibble => ((code[i / 2] >> (4 - 4 * (i & 1))) & 0xF) as usize,
            CodeWidth::Byte => code[i] as usize,
            CodeWidth::U16 => u16::from_le_bytes([code[2 * i], code[2 * i + 1]]) as usize,
        }
    }

    /// Sets sub-code `i` (a nibble is or-ed in: the code must start zeroed).
    #[inline(always)]
    fn set(self, code: &mut [u8], i: usize, c: usize) {
        match self {
            CodeWidth::Nibble => code[i / 2] |= (c as u8) << (4 - 4 * (i & 1)),
            CodeWidth::Byte => code[i] = c as u8,
            CodeWidth::U16 => code[2 * i..2 * i + 2].copy_from_slice(&(c as u16).to_le_bytes()),
        }
    }
}

/// A trained product quantizer. Immutable: share it freely across threads.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductQuantizer {
    dim: usize,
    m: usize,
    ksub: usize,
    width: CodeWidth,
    centroids: Vec<f32>,
}

/// Floats of the distance table `search` keeps on the stack.
const STACK_TABLE: usize = 8192;

impl ProductQuantizer {
    /// Trains `m` codebooks of `ksub` centroids on `n` rows of `dim` floats.
    ///
    /// # Errors
    /// `m = 0` or `m > dim`, `ksub` outside `2..=65536`, fewer rows than `ksub`, ragged or
    /// non-finite data, and the k-means parameter errors.
    pub fn train(dim: usize, data: &[f32], params: &PqParams) -> Result<Self, Error> {
        let n = rows_of("training data", data.len(), dim)?;
        let (m, ksub) = (params.m, params.ksub);
        check_shape(dim, m, ksub)?;
        if n < ksub {
            return Err(Error::OutOfRange {
                what: "training rows",
                got: format!("{n} rows for ksub = {ksub} centroids"),
                accepted: "at least as many training rows as centroids per sub-quantizer",
            });
        }
        let mut centroids = Vec::with_capacity(ksub * dim);
        let mut sub = Vec::new();
        for i in 0..m {
            let (off, ds) = subspace(dim, m, i);
            sub.clear();
            for row in data.chunks_exact(dim) {
                sub.extend_from_slice(&row[off..off + ds]);
            }
            let mut kp = params.kmeans.clone();
            kp.k = ksub;
            kp.seed = params.kmeans.seed.wrapping_add(i as u64);
            let km = KMeans::train(ds, &sub, &kp)?;
            centroids.extend_from_slice(km.centroids());
        }
        Ok(ProductQuantizer { dim, m, ksub, width: CodeWidth::for_ksub(ksub), centroids })
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
        Ok(ProductQuantizer { dim, m, ksub, width: CodeWidth::for_ksub(ksub), centroids })
    }

    /// Sub-quantizers.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Centroids per sub-quantizer.
    pub fn ksub(&self) -> usize {
        self.ksub
    }

    /// How sub-codes are packed.
    pub fn code_width(&self) -> CodeWidth {
        self.width
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

    /// `table[i·ksub + c] = ‖query_i − centroid_ic‖²` for every sub-space `i` and centroid `c`.
    ///
    /// # Errors
    /// `query.len() != dim` or `table.len() != m·ksub`.
    pub fn distance_table(&self, query: &[f32], table: &mut [f32]) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        exact_len("table", table.len(), self.m * self.ksub)?;
        simd::arch().dispatch(Table { pq: self, query, table });
        Ok(())
    }

    /// `out[i]` = the sum of the `m` table entries code `i` selects: its asymmetric squared
    /// distance to the table's query. Four codes per pass, so four independent sums hide
    /// the latency of the table loads.
    ///
    /// # Errors
    /// A table or code buffer of the wrong length.
    pub fn adc_scan(&self, table: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        exact_len("table", table.len(), self.m * self.ksub)?;
        exact_len("codes", codes.len(), out.len() * self.code_size())?;
        self.adc(table, codes, out);
        Ok(())
    }

    fn adc(&self, table: &[f32], codes: &[u8], out: &mut [f32]) {
        let (m, ksub, cs, w) = (self.m, self.ksub, self.code_size(), self.width);
        let (out4, out1) = out.as_chunks_mut::<4>();
        let (codes4, codes1) = codes.split_at(out4.len() * 4 * cs);
        for (o, c) in out4.iter_mut().zip(codes4.chunks_exact(4 * cs)) {
            let (c0, c1, c2, c3) = (&c[..cs], &c[cs..2 * cs], &c[2 * cs..3 * cs], &c[3 * cs..]);
            let mut s = [0f32; 4];
            for (i, t) in table.chunks_exact(ksub).enumerate().take(m) {
                s[0] += t[w.get(c0, i)];
                s[1] += t[w.get(c1, i)];
                s[2] += t[w.get(c2, i)];
                s[3] += t[w.get(c3, i)];
            }
            *o = s;
        }
        for (o, c) in out1.iter_mut().zip(codes1.chunks_exact(cs)) {
            *o = table.chunks_exact(ksub).enumerate().map(|(i, t)| t[w.get(c, i)]).sum();
        }
    }

    /// Top-k search of every query with a caller-provided table buffer (`m·ksub` floats):
    /// never allocates, whatever the codebook size. See [`Quantizer::search`].
    ///
    /// # Errors
    /// As [`Quantizer::search`], and a table buffer of the wrong length.
    pub fn search_with_table(
        &self,
        table: &mut [f32],
        queries: &[f32],
        codes: &[u8],
        k: usize,
        distances: &mut [f32],
        labels: &mut [i64],
    ) -> Result<(), Error> {
        exact_len("table", table.len(), self.m * self.ksub)?;
        rows_of("codes", codes.len(), self.code_size())?;
        check_search(self.dim, queries, k, distances, labels)?;
        let cs = self.code_size();
        let mut buf = [0f32; BLOCK_ROWS];
        for ((q, d), l) in
            queries.chunks_exact(self.dim).zip(distances.chunks_exact_mut(k)).zip(labels.chunks_exact_mut(k))
        {
            simd::arch().dispatch(Table { pq: self, query: q, table });
            let mut top = TopK::new(d, l)?;
            for (b, cb) in codes.chunks(BLOCK_ROWS * cs).enumerate() {
                let nb = cb.len() / cs;
                self.adc(table, cb, &mut buf[..nb]);
                top.push_block(&buf[..nb], (b * BLOCK_ROWS) as i64);
            }
            top.finish();
        }
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
fn subspace(dim: usize, m: usize, i: usize) -> (usize, usize) {
    let (q, r) = (dim / m, dim % m);
    (i * q + i.min(r), q + usize::from(i < r))
}

struct Table<'a> {
    pq: &'a ProductQuantizer,
    query: &'a [f32],
    table: &'a mut [f32],
}

impl WithSimd for Table<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let pq = self.pq;
        for (i, t) in self.table.chunks_exact_mut(pq.ksub).enumerate() {
            let (off, ds) = subspace(pq.dim, pq.m, i);
            let cents = &pq.centroids[off * pq.ksub..(off + ds) * pq.ksub];
            l2sq_rows(simd, &self.query[off..off + ds], cents, t);
        }
    }
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
        let pq = self.pq;
        let mut buf = [0f32; BLOCK_ROWS];
        for (x, code) in self.vectors.chunks_exact(pq.dim).zip(self.codes.chunks_exact_mut(pq.code_size())) {
            code.fill(0);
            for i in 0..pq.m {
                let (off, ds) = subspace(pq.dim, pq.m, i);
                let cents = &pq.centroids[off * pq.ksub..(off + ds) * pq.ksub];
                // Nearest centroid, ties to the lower index, BLOCK_ROWS centroids at a time.
                let (mut arg, mut best) = (0usize, f32::INFINITY);
                for (b, cb) in cents.chunks(BLOCK_ROWS * ds).enumerate() {
                    let nb = cb.len() / ds;
                    l2sq_rows(simd, &x[off..off + ds], cb, &mut buf[..nb]);
                    for (j, &v) in buf[..nb].iter().enumerate() {
                        if v < best {
                            (arg, best) = (b * BLOCK_ROWS + j, v);
                        }
                    }
                }
                pq.width.set(code, i, arg);
            }
        }
    }
}

impl Quantizer for ProductQuantizer {
    fn dim(&self) -> usize {
        self.dim
    }

    fn code_size(&self) -> usize {
        match self.width {
            CodeWidth::Nibble => self.m.div_ceil(2),
            CodeWidth::Byte => self.m,
            CodeWidth::U16 => 2 * self.m,
        }
    }

    fn encode(&self, vectors: &[f32], codes: &mut [u8]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_len("codes", codes.len(), n * self.code_size())?;
        simd::arch().dispatch(Encode { pq: self, vectors, codes });
        Ok(())
    }

    fn decode(&self, codes: &[u8], vectors: &mut [f32]) -> Result<(), Error> {
        let n = rows_of("vectors", vectors.len(), self.dim)?;
        exact_len("codes", codes.len(), n * self.code_size())?;
        for (code, x) in codes.chunks_exact(self.code_size()).zip(vectors.chunks_exact_mut(self.dim)) {
            for i in 0..self.m {
                let (off, ds) = subspace(self.dim, self.m, i);
                let c = self.width.get(code, i);
                x[off..off + ds]
                    .copy_from_slice(&self.centroids[off * self.ksub + c * ds..off * self.ksub + (c + 1) * ds]);
            }
        }
        Ok(())
    }

    fn distances(&self, query: &[f32], codes: &[u8], out: &mut [f32]) -> Result<(), Error> {
        exact_len("query", query.len(), self.dim)?;
        exact_len("codes", codes.len(), out.len() * self.code_size())?;
        let n = self.m * self.ksub;
        if n <= STACK_TABLE {
            let mut t = [0f32; STACK_TABLE];
            self.distance_table(query, &mut t[..n])?;
            self.adc(&t[..n], codes, out);
        } else {
            let mut t = vec![0f32; n];
            self.distance_table(query, &mut t)?;
            self.adc(&t, codes, out);
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
        let n = self.m * self.ksub;
        if n <= STACK_TABLE {
            let mut t = [0f32; STACK_TABLE];
            self.search_with_table(&mut t[..n], queries, codes, k, distances, labels)
        } else {
            self.search_with_table(&mut vec![0f32; n], queries, codes, k, distances, labels)
        }
    }
}
