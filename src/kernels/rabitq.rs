//! RaBitQ's scan kernels: the 1-bit estimate from AND-popcounts of the query's bit planes,
//! the extended codes' inner product from per-query byte lookup tables, and the two-stage
//! top-k scan (with optional exact re-ranking) built on them. The quantizer, the code
//! layout and the estimator's algebra are documented in [`crate::rabitq`].
//!
//! **1-bit part.** A code's sign plane holds bit `i` of dimension `i`; a query quantized to
//! `qb` bits is split into `qb` planes of the same shape, so `Σ_i qq_i·b_i` is
//! `Σ_j 2^j·popcount(plane_j & bits)`: per 64 dimensions one load, `qb` ANDs and `qb + 1`
//! popcounts. On x86 the AVX2 and AVX-512 levels compile `count_ones` to `popcnt` (Zen 3
//! retires four a cycle); the scalar level gets the compiler's bit-twiddling count. For the
//! default 4-bit query the word count `⌈d/64⌉` is a type for the common widths (1, 2, 3,
//! 4, 6, 8, 12 and 16 words), so a code is one straight run of loads, ANDs and popcounts:
//! with the count left to the loop, LLVM vectorized it into byte-shuffle popcounts whose
//! set-up and horizontal sums doubled the time per code at d = 128 (9.5 → 4.6 ns). The
//! alternative the issue names, a 16-entry table per 4 dimensions (FAISS's fast-scan idea
//! applied one code at a time), needs `d/4` byte extractions and loads per code:
//! `benches/rabitq.rs` measures both on the same bytes (`rabitq/sign_kernel_d128_qb4`:
//! 4.6 ns against 27 ns per code on this Zen 3), so popcount it is, as in FAISS's
//! `IndexRaBitQ`. The generic `pulp::Simd` has no vector popcount or byte shuffle; the
//! bodies are scalar integer code inside each level's `with_simd`, as the PQ lookups are.
//!
//! **Extended part.** The full code of dimension `i` is `u_i = (sign_i << ex_bits) + e_i`,
//! stored as `ex_bits + 1` bit planes, and the estimator needs `Σ_i q'_i·u_i` with the
//! query in float (as FAISS computes it). Per query a table `T[k][v] = Σ_{t: bit t of v}
//! q'_{8k+t}` (256 floats per 8 dimensions) turns each byte of a plane into one lookup:
//! `Σ_i q'_i·u_i = Σ_b 2^b Σ_k T[k][plane_b[k]]`, `(ex_bits + 1)·d/8` loads per code,
//! four independent sums per plane. The same table serves the 1-bit part of a float query.
//! Every index is a byte, so a hostile code can never read outside the table.
//!
//! **Two stages.** Like FAISS's `IndexRaBitQ`, a search estimates every code from its sign
//! bits first and computes the extended estimate only when the 1-bit lower bound (the
//! estimate minus its error bound) beats the current k-th score; with exact re-ranking it
//! also requires the extended lower bound to beat the k-th exact score before computing
//! the exact distance. Codes go in blocks of at most 16 KiB (and 512 codes), and
//! every query of a group scans a block while it is in L1, so codes are read from memory
//! once per group of up to 16 queries rather than once per query.
//!
//! Scores inside the scan are smaller-is-better (the crate's heap convention): the
//! squared distance for L2, the negated inner product for the similarities.

use super::l2::{pair_body, Product, SqDiff};
use crate::error::exact_len;
use crate::search::TopK;
use crate::simd::Isa;
use crate::Error;
use pulp::{Simd, WithSimd};

/// Bytes of the sign-bit factors (`add`, `dpm`, `err`: three little-endian f32s).
pub(crate) const SIGN_FACTOR_BYTES: usize = 12;
/// Bytes of the extended factors (`rescale`, `err_ex`: two little-endian f32s).
pub(crate) const EX_FACTOR_BYTES: usize = 8;
/// Most codes scored per block; the per-block scores (two floats a code) stay in L1.
pub(crate) const BLOCK: usize = 512;
/// Bytes of codes per block at most: a block stays in L1 (32 KiB or more) while every query
/// of a group scans it. 512 codes of d = 128 at 1 bit (14 KiB); 195 at 4 bits.
const BLOCK_BYTES: usize = 16 << 10;

/// Codes per block for codes of `code_size` bytes.
fn block_codes(code_size: usize) -> usize {
    (BLOCK_BYTES / code_size).clamp(16, BLOCK)
}
/// Most queries scanned together (their tables live in scratch memory, see `crate::rabitq`).
pub(crate) const GROUP_MAX: usize = 16;

/// Where the parts of one code lie (see `crate::rabitq` for the layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Dimensions.
    pub dim: usize,
    /// 64-bit words per bit plane (`⌈dim/64⌉`).
    pub words: usize,
    /// Extra bits per dimension beyond the sign.
    pub ex_bits: usize,
}

impl Layout {
    pub(crate) const fn new(dim: usize, bits: u32) -> Self {
        Layout { dim, words: dim.div_ceil(64), ex_bits: bits as usize - 1 }
    }
    /// Bytes of one bit plane.
    pub(crate) const fn plane_bytes(self) -> usize {
        8 * self.words
    }
    /// Offset of the sign factors.
    pub(crate) const fn sign_factors(self) -> usize {
        self.plane_bytes()
    }
    /// Offset of extended plane `b`.
    pub(crate) const fn ex_plane(self, b: usize) -> usize {
        self.plane_bytes() + SIGN_FACTOR_BYTES + b * self.plane_bytes()
    }
    /// Offset of the extended factors.
    pub(crate) const fn ex_factors(self) -> usize {
        self.ex_plane(self.ex_bits)
    }
    /// Bytes of one code.
    pub(crate) const fn code_size(self) -> usize {
        if self.ex_bits == 0 {
            self.ex_plane(0)
        } else {
            self.ex_factors() + EX_FACTOR_BYTES
        }
    }
    /// The bits of the last word that hold dimensions (padding bits are ignored).
    pub(crate) const fn last_mask(self) -> u64 {
        match self.dim % 64 {
            0 => u64::MAX,
            r => (1u64 << r) - 1,
        }
    }
    /// `cb = −(2^ex_bits − ½)`: the full code `u` stands for `u + cb`.
    pub(crate) fn cb(self) -> f32 {
        -((1u32 << self.ex_bits) as f32 - 0.5)
    }
}

/// The little-endian f32 at byte `at` of a code.
#[inline(always)]
pub(crate) fn f32_at(code: &[u8], at: usize) -> f32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&code[at..at + 4]);
    f32::from_le_bytes(b)
}

/// The per-query numbers of the estimator (see `crate::rabitq` for the algebra).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct QueryConsts {
    /// 1-bit stage: `⟨q', ō⟩ ≈ c1·x + c2·popcount(bits) − c34`, `x` the plane dot product
    /// (quantized query) or the float sum over set bits (float query).
    pub c1: f32,
    pub c2: f32,
    pub c34: f32,
    /// `‖q − c‖²`.
    pub qr_c2: f32,
    /// `‖q‖²` for the similarities, 0 for L2.
    pub q_norm2: f32,
    /// `cb·Σ_i q'_i`: the constant term of `⟨q', u + cb⟩`.
    pub cb_sum: f32,
    /// `ε₀·m·‖q − c‖` (`m` = 2 for L2, 1 for the similarities): times a code's error
    /// factor, the half-width of its estimate's interval.
    pub bound: f32,
}

/// One prepared query: its bit planes (`words × qb`, word-major), its lookup table (8
/// dimensions a row; empty when unused) and its constants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueryRef<'a> {
    pub planes: &'a [u64],
    pub table: &'a [[f32; 256]],
    pub k: QueryConsts,
}

impl QueryRef<'_> {
    pub(crate) const EMPTY: QueryRef<'static> = QueryRef { planes: &[], table: &[], k: QueryConsts::ZERO };
}

impl QueryConsts {
    const ZERO: QueryConsts =
        QueryConsts { c1: 0.0, c2: 0.0, c34: 0.0, qr_c2: 0.0, q_norm2: 0.0, cb_sum: 0.0, bound: 0.0 };
}

/// `(Σ_j 2^j·popcount(plane_j & c), popcount(c))` over the words of `bits` (`8·words`
/// bytes), the last word masked to the dimensions (the query planes are zero past them,
/// so only the popcount needs the mask). `W > 0` fixes the word count, so the loops unroll
/// into straight popcounts; `W = 0` takes it from `planes`, a loop LLVM vectorizes into
/// byte-shuffle popcounts that pay off only for long codes.
#[inline(always)]
fn and_popcount<const QB: usize, const W: usize>(planes: &[[u64; QB]], bits: &[u8], last_mask: u64) -> (u32, u32) {
    let (words, _) = bits.as_chunks::<8>();
    let n = if W > 0 { W } else { planes.len() };
    let (words, planes) = (&words[..n], &planes[..n]);
    let mut acc = [0u32; QB];
    let mut pop = 0u32;
    for (w, (c, p)) in words.iter().zip(planes).enumerate() {
        let c = u64::from_le_bytes(*c);
        let c = if W > 0 && w + 1 == W { c & last_mask } else { c };
        pop += c.count_ones();
        for j in 0..QB {
            acc[j] += (c & p[j]).count_ones();
        }
    }
    if W == 0 {
        if let Some(last) = words.last() {
            pop -= (u64::from_le_bytes(*last) & !last_mask).count_ones();
        }
    }
    let mut dot = 0;
    for (j, a) in acc.iter().enumerate() {
        dot += a << j;
    }
    (dot, pop)
}

/// `Σ_k table[k][plane[k]]`, four independent sums (plane and table rows are whole words).
#[inline(always)]
fn plane_sum(table: &[[f32; 256]], plane: &[u8]) -> f32 {
    let (t4, _) = table.as_chunks::<4>();
    let (p4, _) = plane.as_chunks::<4>();
    let mut a = [0f32; 4];
    for (t, p) in t4.iter().zip(p4) {
        for i in 0..4 {
            a[i] += t[i][p[i] as usize];
        }
    }
    (a[0] + a[1]) + (a[2] + a[3])
}

/// Where the 1-bit stage gets `x` (and the popcount) of a code's sign plane.
trait SignSource {
    fn x_pop(q: &QueryRef<'_>, bits: &[u8], last_mask: u64) -> (f32, f32);
}

/// A query quantized to `QB` bits: AND-popcounts of its planes, `W` words (0: any).
struct Popcount<const QB: usize, const W: usize>;
impl<const QB: usize, const W: usize> SignSource for Popcount<QB, W> {
    #[inline(always)]
    fn x_pop(q: &QueryRef<'_>, bits: &[u8], last_mask: u64) -> (f32, f32) {
        let (planes, _) = q.planes.as_chunks::<QB>();
        let (dot, pop) = and_popcount::<QB, W>(planes, bits, last_mask);
        (dot as f32, pop as f32)
    }
}

/// A float query: the table sum over set bits (its `c2` is 0, no popcount needed).
struct FloatSum;
impl SignSource for FloatSum {
    #[inline(always)]
    fn x_pop(q: &QueryRef<'_>, bits: &[u8], _: u64) -> (f32, f32) {
        (plane_sum(q.table, bits), 0.0)
    }
}

/// The internal score of a code from `pre`, its estimate of `‖q − o‖²` in the L2 form:
/// clamped at 0 for L2 (NaN stays NaN), `½(pre − ‖q‖²) = −q·o` for the similarities.
#[inline(always)]
fn score<const IP: bool>(k: &QueryConsts, pre: f32) -> f32 {
    if IP {
        0.5 * (pre - k.q_norm2)
    } else if pre < 0.0 {
        0.0
    } else {
        pre
    }
}

/// The 1-bit estimates of a block of codes: `s[i]` the score, `h[i]` the half-width.
#[inline(always)]
fn sign_loop<D: SignSource, const IP: bool>(q: &QueryRef<'_>, lay: Layout, block: &[u8], s: &mut [f32], h: &mut [f32]) {
    let (at, mask, k) = (lay.sign_factors(), lay.last_mask(), &q.k);
    for ((code, s), h) in block.chunks_exact(lay.code_size()).zip(s).zip(h) {
        let (x, pop) = D::x_pop(q, &code[..at], mask);
        let (add, dpm, err) = (f32_at(code, at), f32_at(code, at + 4), f32_at(code, at + 8));
        let fd = k.c1 * x + k.c2 * pop - k.c34;
        let pre = add + k.qr_c2 - 2.0 * dpm * fd;
        (*s, *h) = (score::<IP>(k, pre), k.bound * err);
    }
}

/// [`sign_loop`] with the query's source as a type: the one place the query bits (and, for
/// the default 4-bit query, the code's word count) become types. Matched once per block.
#[inline(always)]
fn sign_block<const IP: bool>(
    qb: Option<u8>,
    q: &QueryRef<'_>,
    lay: Layout,
    block: &[u8],
    s: &mut [f32],
    h: &mut [f32],
) {
    macro_rules! run {
        ($d:ty) => {
            sign_loop::<$d, IP>(q, lay, block, s, h)
        };
    }
    match (qb, lay.words) {
        (Some(4), 1) => run!(Popcount<4, 1>),
        (Some(4), 2) => run!(Popcount<4, 2>),
        (Some(4), 3) => run!(Popcount<4, 3>),
        (Some(4), 4) => run!(Popcount<4, 4>),
        (Some(4), 6) => run!(Popcount<4, 6>),
        (Some(4), 8) => run!(Popcount<4, 8>),
        (Some(4), 12) => run!(Popcount<4, 12>),
        (Some(4), 16) => run!(Popcount<4, 16>),
        (Some(1), _) => run!(Popcount<1, 0>),
        (Some(2), _) => run!(Popcount<2, 0>),
        (Some(3), _) => run!(Popcount<3, 0>),
        (Some(4), _) => run!(Popcount<4, 0>),
        (Some(5), _) => run!(Popcount<5, 0>),
        (Some(6), _) => run!(Popcount<6, 0>),
        (Some(7), _) => run!(Popcount<7, 0>),
        (Some(_), _) => run!(Popcount<8, 0>),
        (None, _) => run!(FloatSum),
    }
}

/// `(score, half-width)` of a code's full (sign and extended bits) estimate.
#[inline(always)]
fn full_estimate<const IP: bool>(q: &QueryRef<'_>, lay: Layout, code: &[u8]) -> (f32, f32) {
    let p = lay.plane_bytes();
    let mut m = plane_sum(q.table, &code[..p]) * (1u32 << lay.ex_bits) as f32;
    for b in 0..lay.ex_bits {
        let at = lay.ex_plane(b);
        m += plane_sum(q.table, &code[at..at + p]) * (1u32 << b) as f32;
    }
    let ip = m + q.k.cb_sum;
    let add = f32_at(code, lay.sign_factors());
    let at = lay.ex_factors();
    let (rescale, err) = (f32_at(code, at), f32_at(code, at + 4));
    let pre = add + q.k.qr_c2 - 2.0 * rescale * ip;
    (score::<IP>(&q.k, pre), q.k.bound * err)
}

/// The exact vectors of a re-ranking search and the group's raw queries.
#[derive(Clone, Copy)]
pub(crate) struct Refine<'a> {
    /// The group's queries, `dim` floats each.
    pub queries: &'a [f32],
    /// Every code's full-precision vector, `dim` floats each.
    pub vectors: &'a [f32],
    /// Cosine: the exact score is `−q·x/‖x‖` (codes hold unit vectors).
    pub cosine: bool,
}

/// The exact internal score of row `row` for query `qi` of the group.
#[inline(always)]
fn exact<S: Simd, const IP: bool>(simd: S, rf: &Refine<'_>, dim: usize, qi: usize, row: usize) -> f32 {
    let q = &rf.queries[qi * dim..(qi + 1) * dim];
    let x = &rf.vectors[row * dim..(row + 1) * dim];
    if !IP {
        return pair_body::<S, SqDiff>(simd, q, x);
    }
    let dot = pair_body::<S, Product>(simd, q, x);
    let scale = if rf.cosine { crate::metric::inv_norm(x) } else { 1.0 };
    0.0 - dot * scale
}

/// One group's scan of every code into its heaps (`k` entries per query, laid in `dist`
/// and `labels`, already holding heaps): the search of `crate::rabitq`. Returns how many
/// exact distances it computed.
pub(crate) struct GroupScan<'a> {
    pub lay: Layout,
    /// `Some(qb)` for a quantized query, `None` for float.
    pub qb: Option<u8>,
    pub ip: bool,
    pub queries: &'a [QueryRef<'a>],
    pub codes: &'a [u8],
    pub k: usize,
    pub dist: &'a mut [f32],
    pub labels: &'a mut [i64],
    pub refine: Option<Refine<'a>>,
}

/// One query's estimates of every code: `est[i]` the internal score, `half[i]` the
/// half-width of its interval; full estimates or the 1-bit stage's.
pub(crate) struct EstimateOp<'a> {
    pub lay: Layout,
    pub qb: Option<u8>,
    pub ip: bool,
    pub full: bool,
    pub query: QueryRef<'a>,
    pub codes: &'a [u8],
    pub est: &'a mut [f32],
    pub half: Option<&'a mut [f32]>,
}

impl WithSimd for GroupScan<'_> {
    type Output = usize;
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> usize {
        if self.ip {
            scan_group::<S, true>(simd, self)
        } else {
            scan_group::<S, false>(simd, self)
        }
    }
}

impl WithSimd for EstimateOp<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        if self.ip {
            estimate_all::<true>(self)
        } else {
            estimate_all::<false>(self)
        }
    }
}

#[inline(always)]
fn estimate_all<const IP: bool>(op: EstimateOp<'_>) {
    let EstimateOp { lay, qb, full, query, codes, est, mut half, .. } = op;
    let cs = lay.code_size();
    let mut h = [0f32; BLOCK];
    for (b, (block, est)) in codes.chunks(BLOCK * cs).zip(est.chunks_mut(BLOCK)).enumerate() {
        let h = &mut h[..est.len()];
        if full && lay.ex_bits > 0 {
            for ((code, e), h) in block.chunks_exact(cs).zip(est.iter_mut()).zip(h.iter_mut()) {
                (*e, *h) = full_estimate::<IP>(&query, lay, code);
            }
        } else {
            sign_block::<IP>(qb, &query, lay, block, est, h);
        }
        if let Some(half) = half.as_deref_mut() {
            half[b * BLOCK..b * BLOCK + h.len()].copy_from_slice(h);
        }
    }
}

#[inline(always)]
fn scan_group<S: Simd, const IP: bool>(simd: S, op: GroupScan<'_>) -> usize {
    let GroupScan { lay, qb, queries, codes, k, dist, labels, refine, .. } = op;
    let cs = lay.code_size();
    let (mut s1, mut h1) = ([0f32; BLOCK], [0f32; BLOCK]);
    let one_stage = lay.ex_bits == 0 && refine.is_none();
    let mut reranked = 0;
    let per = block_codes(cs);
    for (b, block) in codes.chunks(per * cs).enumerate() {
        let first = b * per;
        let nb = block.len() / cs;
        for (qi, q) in queries.iter().enumerate() {
            sign_block::<IP>(qb, q, lay, block, &mut s1[..nb], &mut h1[..nb]);
            let r = qi * k..(qi + 1) * k;
            let mut top = TopK::resume(&mut dist[r.clone()], &mut labels[r]);
            if one_stage {
                top.push_block(&s1[..nb], first as i64);
                continue;
            }
            let mut thr = top.threshold();
            for (i, (&s, &h)) in s1[..nb].iter().zip(&h1[..nb]).enumerate() {
                // The lower bound must beat the k-th; a NaN bound never does, so hostile
                // factors drop the code.
                if s - h < thr {
                    let code = &block[i * cs..(i + 1) * cs];
                    let (s, h) = if lay.ex_bits > 0 { full_estimate::<IP>(q, lay, code) } else { (s, h) };
                    let id = first + i;
                    let score = match &refine {
                        None => s,
                        Some(rf) if s - h < thr => {
                            reranked += 1;
                            exact::<S, IP>(simd, rf, lay.dim, qi, id)
                        }
                        Some(_) => continue,
                    };
                    // As `push_block` compares: a NaN (of either sign) never enters.
                    if score < thr {
                        top.push(score, id as i64);
                        thr = top.threshold();
                    }
                }
            }
        }
    }
    reranked
}

/// Runs one group scan at `isa` (one dispatch for the group's whole scan).
pub(crate) fn scan(isa: Isa, op: GroupScan<'_>) -> usize {
    isa.dispatch(op)
}

/// Runs one query's estimates at `isa`.
pub(crate) fn estimate(isa: Isa, op: EstimateOp<'_>) {
    isa.dispatch(op)
}

/// The 1-bit kernel on its own, for tests and benchmarks: for every code (`code_size`
/// bytes, the sign plane first: `8·⌈dim/64⌉` bytes, bit `i` of dimension `i`),
/// `dots[i] = Σ_j 2^j·popcount(plane_j & bits)` and `pops[i] = popcount(bits)` over the
/// `dim` dimensions (padding bits ignored). `planes` holds the query's `qb` bit planes
/// word-major: word `w` of plane `j` at `planes[w·qb + j]`, zero past `dim`. It runs the
/// search's loop, specialized as the search specializes it.
///
/// # Errors
/// `qb` outside `1..=8`, `dim = 0`, `planes` not `⌈dim/64⌉·qb` words, `code_size` smaller
/// than the sign plane, `codes` not whole codes, or `dots` / `pops` not one per code.
pub fn and_popcount_batch(
    dim: usize,
    qb: usize,
    planes: &[u64],
    codes: &[u8],
    code_size: usize,
    dots: &mut [u32],
    pops: &mut [u32],
) -> Result<(), Error> {
    if !(1..=8).contains(&qb) {
        return Err(Error::OutOfRange { what: "qb (query bits)", got: qb.to_string(), accepted: "1..=8" });
    }
    if dim == 0 {
        return Err(Error::OutOfRange { what: "dim", got: "0".into(), accepted: ">= 1" });
    }
    let lay = Layout::new(dim, 1);
    exact_len("planes", planes.len(), lay.words * qb)?;
    if code_size < lay.plane_bytes() {
        return Err(Error::OutOfRange {
            what: "code_size",
            got: code_size.to_string(),
            accepted: "at least the sign plane, 8·⌈dim/64⌉ bytes",
        });
    }
    let n = crate::error::rows_of("codes", codes.len(), code_size)?;
    exact_len("dots", dots.len(), n)?;
    exact_len("pops", pops.len(), n)?;
    Isa::current().dispatch(PopcountBatch { lay, qb, planes, codes, code_size, dots, pops });
    Ok(())
}

struct PopcountBatch<'a> {
    lay: Layout,
    qb: usize,
    planes: &'a [u64],
    codes: &'a [u8],
    code_size: usize,
    dots: &'a mut [u32],
    pops: &'a mut [u32],
}

impl WithSimd for PopcountBatch<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _: S) {
        let PopcountBatch { lay, qb, planes, codes, code_size, dots, pops } = self;
        let (p, mask) = (lay.plane_bytes(), lay.last_mask());
        // The search's specializations: a fixed word count for the 4-bit query.
        macro_rules! run {
            ($qb:literal, $w:literal) => {{
                let (planes, _) = planes.as_chunks::<$qb>();
                for (code, (d, pc)) in codes.chunks_exact(code_size).zip(dots.iter_mut().zip(pops.iter_mut())) {
                    (*d, *pc) = and_popcount::<$qb, $w>(planes, &code[..p], mask);
                }
            }};
        }
        match (qb, lay.words) {
            (4, 2) => run!(4, 2),
            (4, 6) => run!(4, 6),
            (1, _) => run!(1, 0),
            (2, _) => run!(2, 0),
            (3, _) => run!(3, 0),
            (4, _) => run!(4, 0),
            (5, _) => run!(5, 0),
            (6, _) => run!(6, 0),
            (7, _) => run!(7, 0),
            _ => run!(8, 0),
        }
    }
}
