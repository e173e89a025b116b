//! `--pq-fast-scan`: the 4-bit fast scan of a PQ or OPQ run, measured beside its ADC search
//! (issue 15). The run's codes are packed into the library's block layout
//! (`vq::PackedCodes`), searched with `ProductQuantizer::search_packed` (8-bit tables, the
//! best `k × rerank_factor` re-ranked with the float tables) and, when the base is in
//! memory, with `search_packed_refine` (re-ranked against the full vectors). The keys it
//! logs are listed in `measure`'s docs.
//!
//! OPQ runs are fast-scanned through their inner PQ: the queries are rotated first (in the
//! timed search, as `OpqQuantizer::search` rotates them), and the refined search re-ranks
//! against the rotated base, which costs a second copy of the base (`n × d_out` floats)
//! while it runs. The rotation keeps distances and inner products, so those are the
//! original rows' scores up to f32 rounding.
//!
//! Bounds: only PQs with at most 16 centroids per sub-quantizer pack (`measure::
//! fast_scanned` decides, before anything runs); the packed codes take `⌈n/32⌉ · 16 ·
//! ⌈m/2⌉·2` bytes beside the run's own codes.

use crate::dataset::Truth;
use crate::measure::{queries_per_second, recall_metrics, Settings};
use serde_json::{json, Map, Value};
use std::time::Instant;
use vq::{FastScanParams, OpqQuantizer, PackedCodes, ProductQuantizer, Quantizer};

/// A run's quantizer as the fast scan sees it: the PQ whose codes the run holds, and the
/// rotation its queries and rows go through first (OPQ's).
pub struct Scanned<'a> {
    pub pq: &'a ProductQuantizer,
    pub rotation: Option<&'a OpqQuantizer>,
}

impl Scanned<'_> {
    /// The run's dimension: the rows it encodes, before any rotation.
    fn dim_in(&self) -> usize {
        self.rotation.map_or(self.pq.dim(), |opq| opq.dim())
    }

    /// `x` (rows of the run's dimension) as the PQ sees it: rotated for OPQ, else as is.
    fn view<'x>(&self, x: &'x [f32]) -> Result<std::borrow::Cow<'x, [f32]>, String> {
        match self.rotation {
            None => Ok(x.into()),
            Some(opq) => {
                let mut out = vec![0f32; x.len() / opq.dim() * opq.d_out()];
                opq.rotate(x, &mut out).map_err(|e| e.to_string())?;
                Ok(out.into())
            }
        }
    }
}

/// What [`measure`] is given of the run and the sweep.
pub struct Search<'a> {
    pub queries: &'a [f32],
    /// The base rows, when they are in memory at search time.
    pub base: Option<&'a [f32]>,
    pub k: usize,
    pub truth: &'a Truth,
    pub settings: &'a Settings,
    pub params: FastScanParams,
}

/// Packs `codes` (the run's, `n` rows) and measures the fast scan of `q` over them, adding
/// its keys to `metrics`; returns how the refined search went, for `config_json`'s
/// `fast_scan_refine`.
pub fn measure(
    q: &Scanned<'_>,
    codes: &[u8],
    n: usize,
    search: &Search<'_>,
    metrics: &mut Map<String, Value>,
) -> Result<&'static str, String> {
    let (k, params, s) = (search.k, &search.params, search.settings);
    let nq = search.queries.len() / q.dim_in();
    let t = Instant::now();
    let packed = PackedCodes::pack(q.pq, codes).map_err(|e| format!("fast scan: {e}"))?;
    metrics.insert("fastscan_pack_seconds".into(), json!(t.elapsed().as_secs_f64()));

    let (mut dist, mut ids) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let t = Instant::now();
    let queries = q.view(search.queries)?;
    q.pq.search_packed(&queries, &packed, k, params, &mut dist, &mut ids).map_err(|e| format!("fast scan: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    if s.recall {
        recall_metrics("recall_fastscan", search.truth, &ids, k, metrics)?;
    }
    metrics.insert("fastscan_search_seconds".into(), json!(secs));
    metrics.insert("fastscan_search_qps".into(), json!(queries_per_second(nq, secs)));
    metrics.insert("fastscan_ns_per_code".into(), json!(secs * 1e9 / (nq as f64 * n as f64).max(1.0)));

    let Some(base) = search.base else {
        return Ok("skipped: the base was streamed and is not in memory at search time (--in-memory keeps it)");
    };
    if params.rerank_factor == 0 {
        return Ok("not run: --pq-rerank-factor 0 keeps no candidates to re-rank");
    }
    let vectors = q.view(base)?;
    let t = Instant::now();
    q.pq.search_packed_refine(&queries, &packed, k, params, &vectors, &mut dist, &mut ids)
        .map_err(|e| format!("fast scan: {e}"))?;
    let secs = t.elapsed().as_secs_f64();
    if s.recall {
        recall_metrics("recall_fastscan_refined", search.truth, &ids, k, metrics)?;
    }
    metrics.insert("fastscan_refined_search_seconds".into(), json!(secs));
    metrics.insert("fastscan_refined_search_qps".into(), json!(queries_per_second(nq, secs)));
    Ok("against the base in memory")
}
