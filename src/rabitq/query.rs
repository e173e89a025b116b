//! Queries: rotated, quantized to bit planes (or kept in float) and tabled for the scan,
//! a group at a time in scratch memory, then handed to the kernels of
//! [`crate::kernels::rabitq`].
//!
//! **Quantization** follows FAISS's `compute_query_factors` (non-centred): with `q' = R(q − c)`,
//! `v_min`/`v_max` its extremes and `Δ = (v_max − v_min)/(2^qb − 1)`, each coordinate becomes
//! `qq_i = 0` if `(q'_i − v_min)/Δ ≤ 0`, `2^qb − 1` if at or above it, else
//! `⌊(q'_i − v_min)/Δ + ½⌋` (f32 operations in that order), and
//! `⟨q', ō⟩ ≈ c1·Σ qq_i b_i + c2·Σ b_i − c34` with `c1 = 2Δ/√d`, `c2 = 2v_min/√d`,
//! `c34 = (Δ·Σ qq_i + d·v_min)/√d`. A constant query (`Δ = 0`) quantizes to zeros.
//!
//! **Scratch.** A query takes `2d` floats (its residual and rotation), its planes
//! (`⌈d/64⌉·qb` words) and, when the search needs the extended estimate or the query is in
//! float, its table: `2048·⌈d/64⌉` floats (8 KiB per 64 dimensions). Groups are sized to
//! fit the per-thread buffer of [`crate::scratch`] (1 MiB): up to 16 queries, fewer for a
//! large `d`; a single query whose state exceeds 1 MiB (`d` above about 8,000 with tables)
//! gets a buffer allocated for the call.

use super::RabitqQuantizer;
use crate::kernels::rabitq::{self as kernel, EstimateOp, GroupScan, Layout, QueryConsts, QueryRef, Refine, GROUP_MAX};
use crate::metric::Metric;
use crate::scratch::{with_f32, RETAIN_FLOATS};
use crate::simd::Isa;

/// What a search or estimate needs prepared per query.
#[derive(Clone, Copy)]
struct Needs {
    /// Quantized query bits, `None` for float.
    qb: Option<u8>,
    /// The byte lookup table (extended estimates or a float query).
    table: bool,
}

impl Needs {
    fn of(quant: &RabitqQuantizer, full: bool) -> Self {
        let qb = quant.qb.bits();
        Needs { qb, table: qb.is_none() || (full && quant.lay.ex_bits > 0) }
    }
    fn plane_words(self, lay: Layout) -> usize {
        lay.words * self.qb.map_or(0, usize::from)
    }
    fn table_rows(self, lay: Layout) -> usize {
        if self.table {
            8 * lay.words
        } else {
            0
        }
    }
    /// Floats one query takes: residual, rotated residual, table, planes (two floats a word).
    fn floats(self, lay: Layout) -> usize {
        2 * lay.dim + 256 * self.table_rows(lay) + 2 * self.plane_words(lay)
    }
}

/// A group's scratch, carved: residuals and rotations (`g·d` each), tables, plane words.
struct Carved<'a> {
    diff: &'a mut [f32],
    rot: &'a mut [f32],
    tables: &'a mut [[f32; 256]],
    planes: &'a mut [u64],
}

fn carve(buf: &mut [f32], g: usize, lay: Layout, needs: Needs) -> Carved<'_> {
    let (diff, rest) = buf.split_at_mut(g * lay.dim);
    let (rot, rest) = rest.split_at_mut(g * lay.dim);
    let (tables, rest) = rest.split_at_mut(g * 256 * needs.table_rows(lay));
    let (tables, _) = tables.as_chunks_mut::<256>();
    // Two spare floats cover the alignment of the words.
    let (_, planes, _) = bytemuck::pod_align_to_mut::<f32, u64>(rest);
    let planes = &mut planes[..g * needs.plane_words(lay)];
    Carved { diff, rot, tables, planes }
}

/// `rot = R(x − c)` for every `d`-wide row of `x` (through `diff`), at `isa`.
pub(super) fn rotate_residuals(quant: &RabitqQuantizer, isa: Isa, x: &[f32], diff: &mut [f32], rot: &mut [f32]) {
    for (d, row) in diff.chunks_exact_mut(quant.dim).zip(x.chunks_exact(quant.dim)) {
        for ((d, &v), &c) in d.iter_mut().zip(row).zip(&quant.centroid) {
            *d = v - c;
        }
    }
    crate::kernels::matvec::apply(isa, &quant.rotation, quant.dim, diff, rot);
}

/// The constants, planes and table of one query from its residual `diff = q − c`, its
/// rotation `rq` and the raw query `q`.
fn prepare_one(
    quant: &RabitqQuantizer,
    needs: Needs,
    q: &[f32],
    diff: &[f32],
    rq: &[f32],
    planes: &mut [u64],
    table: &mut [[f32; 256]],
) -> QueryConsts {
    let lay = quant.lay;
    let d = lay.dim;
    let inv_sqrt_d = 1.0 / (d as f32).sqrt();
    let qr_c2 = diff.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() as f32;
    let ip = quant.metric != Metric::L2;
    let q_norm2 = if ip { q.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() as f32 } else { 0.0 };
    let sum_q = rq.iter().map(|&v| f64::from(v)).sum::<f64>() as f32;
    let m = if ip { 1.0 } else { 2.0 };
    let mut k = QueryConsts {
        qr_c2,
        q_norm2,
        cb_sum: lay.cb() * sum_q,
        bound: quant.epsilon * m * qr_c2.sqrt(),
        ..QueryConsts::default()
    };
    match needs.qb {
        Some(qb) => {
            let (delta, v_min, sum_qq) = quantize(rq, qb, lay.words, planes);
            k.c1 = 2.0 * delta * inv_sqrt_d;
            k.c2 = 2.0 * v_min * inv_sqrt_d;
            k.c34 = inv_sqrt_d * (delta * sum_qq as f32 + d as f32 * v_min);
        }
        None => {
            k.c1 = 2.0 * inv_sqrt_d;
            k.c34 = sum_q * inv_sqrt_d;
        }
    }
    if needs.table {
        fill_table(rq, table);
    }
    k
}

/// Quantizes `rq` to `qb` bits (module docs) into `words × qb` planes, word-major; returns
/// `(Δ, v_min, Σ qq_i)`.
fn quantize(rq: &[f32], qb: u8, words: usize, planes: &mut [u64]) -> (f32, f32, u64) {
    let max_code = (1u32 << qb) - 1;
    let (v_min, v_max) = rq.iter().fold((rq[0], rq[0]), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let delta = (v_max - v_min) / max_code as f32;
    planes.fill(0);
    // A constant query (or a NaN range) quantizes to zeros.
    if delta.is_nan() || delta <= 0.0 {
        return (delta, v_min, 0);
    }
    let inv = 1.0 / delta;
    let qb = usize::from(qb);
    let mut sum = 0u64;
    for (i, &v) in rq.iter().enumerate() {
        let x = (v - v_min) * inv;
        let c = if x <= 0.0 {
            0
        } else if x >= max_code as f32 {
            max_code
        } else {
            (x + 0.5) as u32
        };
        sum += u64::from(c);
        let w = &mut planes[(i / 64) * qb..(i / 64 + 1) * qb];
        for (j, p) in w.iter_mut().enumerate() {
            *p |= u64::from((c >> j) & 1) << (i % 64);
        }
    }
    debug_assert_eq!(planes.len(), words * qb);
    (delta, v_min, sum)
}

/// `table[k][v] = Σ_{t: bit t of v} rq[8k + t]` (0 past the dimensions): row `k` doubles
/// its filled prefix once per bit, a contiguous add the compiler vectorizes.
fn fill_table(rq: &[f32], table: &mut [[f32; 256]]) {
    for (k, row) in table.iter_mut().enumerate() {
        row[0] = 0.0;
        for t in 0..8 {
            let v = rq.get(8 * k + t).copied().unwrap_or(0.0);
            let (lo, hi) = row.split_at_mut(1 << t);
            for (h, &l) in hi.iter_mut().zip(lo.iter()) {
                *h = l + v;
            }
        }
    }
}

/// Prepares the group `queries` (`g ≤ GROUP_MAX` rows) in `buf` and runs `f` on them.
fn with_group<R>(
    quant: &RabitqQuantizer,
    isa: Isa,
    needs: Needs,
    queries: &[f32],
    buf: &mut [f32],
    f: impl FnOnce(&[QueryRef<'_>]) -> R,
) -> R {
    let lay = quant.lay;
    let g = queries.len() / lay.dim;
    let c = carve(buf, g, lay, needs);
    rotate_residuals(quant, isa, queries, c.diff, c.rot);
    let (pw, tr) = (needs.plane_words(lay), needs.table_rows(lay));
    let mut consts = [QueryConsts::default(); GROUP_MAX];
    for (i, k) in consts.iter_mut().take(g).enumerate() {
        let row = i * lay.dim..(i + 1) * lay.dim;
        *k = prepare_one(
            quant,
            needs,
            &queries[row.clone()],
            &c.diff[row.clone()],
            &c.rot[row],
            &mut c.planes[i * pw..(i + 1) * pw],
            &mut c.tables[i * tr..(i + 1) * tr],
        );
    }
    let (planes, tables) = (&*c.planes, &*c.tables);
    let mut refs = [QueryRef::EMPTY; GROUP_MAX];
    for (i, r) in refs.iter_mut().take(g).enumerate() {
        *r = QueryRef { planes: &planes[i * pw..(i + 1) * pw], table: &tables[i * tr..(i + 1) * tr], k: consts[i] };
    }
    f(&refs[..g])
}

/// How many queries go in a group, and the floats of scratch the group takes.
fn group_shape(lay: Layout, needs: Needs, nq: usize) -> (usize, usize) {
    let per = needs.floats(lay);
    let g = (RETAIN_FLOATS / per.max(1)).clamp(1, GROUP_MAX).min(nq.max(1));
    (g, g * per + 2)
}

/// The top-k of every query into `dist`/`labels` (`k` per query, already holding heaps of
/// sentinels), internal scores (smaller is better). With `vectors`, the exact scores of
/// the codes the bounds cannot rule out; returns how many those were.
pub(super) fn search(
    quant: &RabitqQuantizer,
    queries: &[f32],
    codes: &[u8],
    k: usize,
    dist: &mut [f32],
    labels: &mut [i64],
    vectors: Option<&[f32]>,
) -> usize {
    let isa = Isa::current();
    let lay = quant.lay;
    let needs = Needs::of(quant, true);
    let nq = queries.len() / lay.dim;
    let (g, floats) = group_shape(lay, needs, nq);
    let ip = quant.metric != Metric::L2;
    let mut reranked = 0;
    with_f32(floats, |buf| {
        let groups = queries.chunks(g * lay.dim).zip(dist.chunks_mut(g * k).zip(labels.chunks_mut(g * k)));
        for (group, (dist, labels)) in groups {
            let refine = vectors.map(|v| Refine { queries: group, vectors: v, cosine: quant.metric == Metric::Cosine });
            reranked += with_group(quant, isa, needs, group, buf, |refs| {
                let op = GroupScan { lay, qb: needs.qb, ip, queries: refs, codes, k, dist, labels, refine };
                kernel::scan(isa, op)
            });
        }
    });
    reranked
}

/// One query's internal scores of every code and, if asked, their half-widths: full
/// estimates, or the 1-bit stage's when `full` is false.
pub(super) fn estimate(
    quant: &RabitqQuantizer,
    query: &[f32],
    codes: &[u8],
    full: bool,
    est: &mut [f32],
    half: Option<&mut [f32]>,
) {
    let isa = Isa::current();
    let lay = quant.lay;
    let needs = Needs::of(quant, full);
    let (_, floats) = group_shape(lay, needs, 1);
    with_f32(floats, |buf| {
        with_group(quant, isa, needs, query, buf, |refs| {
            let (ip, qb) = (quant.metric != Metric::L2, needs.qb);
            kernel::estimate(isa, EstimateOp { lay, qb, ip, full, query: refs[0], codes, est, half });
        })
    });
}
