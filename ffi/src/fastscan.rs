//! 4-bit PQ fast scan from C (`vq::fastscan`): the codes of a `vq_pq` with `ksub <= 16`
//! packed 32 to a block, searched with 8-bit tables and re-ranked. The packed bytes stay
//! the caller's: every call borrows them (`vq::PackedCodes` over a slice), so nothing is
//! copied, and the `_with_scratch` searches take their working memory from the caller too.

use crate::pq::{handle, vq_pq};
use crate::status::{bytes_of, guard, input, output, results, write_out, Failure, Res};
use crate::vq_status;
use vq::{FastScanParams, PackedCodes, ProductQuantizer, Quantizer};

/// How the fast-scan searches re-rank. Start from `vq_fast_scan_params_default()` and
/// change fields, so code keeps compiling when fields are added.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct vq_fast_scan_params {
    /// Candidates kept per query by the 8-bit sums, as a multiple of `k`, then re-ranked
    /// with the float distance table (`vq_pq_search_packed`) or the full vectors
    /// (`vq_pq_search_packed_refine`); 0 reports the 8-bit sums mapped back to float,
    /// without re-ranking (not accepted by the refine calls). With `k·rerank_factor` at
    /// least the number of codes, `vq_pq_search_packed` gives `vq_pq_search`'s results bit
    /// for bit. The default is the library's (`vq::FastScanParams::default()`).
    pub rerank_factor: usize,
}

/// The library's default fast-scan parameters.
#[no_mangle]
pub extern "C" fn vq_fast_scan_params_default() -> vq_fast_scan_params {
    vq_fast_scan_params { rerank_factor: FastScanParams::default().rerank_factor }
}

/// NULL for the defaults, else the caller's.
///
/// # Safety
/// `params` is NULL or valid for a read.
unsafe fn params_arg(params: *const vq_fast_scan_params) -> FastScanParams {
    // SAFETY: NULL or valid (caller's contract).
    let p = if params.is_null() { vq_fast_scan_params_default() } else { unsafe { *params } };
    FastScanParams { rerank_factor: p.rerank_factor }
}

/// `*out` = the bytes of `n` packed codes of `m` sub-quantizers: `ceil(n/32)` blocks of
/// `32·ceil(m/2)` bytes. `m = 0` is `VQ_STATUS_INVALID_ARGUMENT`, a size that overflows
/// `VQ_STATUS_BAD_LENGTH`.
///
/// # Safety
/// `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_packed_len(m: usize, n: usize, out: *mut usize) -> vq_status {
    guard(|| {
        if m == 0 {
            return Err(vq::Error::OutOfRange { what: "m (sub-quantizers)", got: "0".into(), accepted: ">= 1" }.into());
        }
        let len = PackedCodes::packed_len(m, n).ok_or_else(|| {
            Failure::new(
                vq_status::BadLength,
                format!("n = {n} codes of m = {m} pack into more bytes than fit a size_t"),
            )
        })?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, len) }
    })
}

/// Packs `codes_len / code_size` codes of `pq` (from `vq_pq_encode`; `pq` must have
/// `ksub <= 16`, else `VQ_STATUS_INVALID_ARGUMENT`) into `out`, exactly `vq_pq_packed_len`
/// bytes. Allocates nothing.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_pack_codes(
    pq: *const vq_pq,
    codes: *const u8,
    codes_len: usize,
    out: *mut u8,
    out_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, c) = unsafe { (handle(pq)?, input("codes", codes, codes_len)?) };
        // SAFETY: caller's contract.
        let o = unsafe { output("out", out, out_len, &[("codes", c)]) }?;
        PackedCodes::pack_into(h, c, o)?;
        Ok(())
    })
}

/// The plain codes back from `packed` (`packed_len` bytes: `vq_pq_packed_len(m, n)` for the
/// `n = codes_len / code_size` codes written to `codes`; `pq` must have `ksub <= 16`). Any
/// packed bytes unpack: a code then holds whatever nibbles they held, which may be at or
/// above a `ksub` below 16 (`vq_pq_decode` refuses such codes). Allocates nothing.
///
/// # Safety
/// `pq` is a live handle; the buffers hold the given number of elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_unpack_codes(
    pq: *const vq_pq,
    packed: *const u8,
    packed_len: usize,
    codes: *mut u8,
    codes_len: usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, p) = unsafe { (handle(pq)?, input("packed", packed, packed_len)?) };
        // SAFETY: caller's contract.
        let c = unsafe { output("codes", codes, codes_len, &[("packed", p)]) }?;
        let n = whole_codes(h, codes_len)?;
        Ok(PackedCodes::from_bytes_for(h, n, p)?.unpack(c)?)
    })
}

/// The number of codes in `len` bytes of `pq`'s codes.
fn whole_codes(pq: &ProductQuantizer, len: usize) -> Res<usize> {
    let cs = pq.code_size();
    if len.is_multiple_of(cs) {
        Ok(len / cs)
    } else {
        Err(vq::Error::NotWholeRows { what: "codes", len, dim: cs }.into())
    }
}

/// `*out` = the floats of scratch that `vq_pq_search_packed_with_scratch` and
/// `vq_pq_search_packed_refine_with_scratch` need to search `n` codes for the top `k` with
/// `params` (NULL for the defaults): for each of up to four queries scanned together, the
/// float and 8-bit distance tables and the candidate list, about
/// `4·(m·ksub + 36·m + 2·min(2·k·rerank_factor, n))` floats. A buffer sized for more codes
/// or a larger `k` also serves fewer. `ksub > 16` is `VQ_STATUS_INVALID_ARGUMENT`, as is a
/// size that overflows.
///
/// # Safety
/// `pq` is a live handle; `params` is NULL or valid; `out` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_packed_scratch_len(
    pq: *const vq_pq,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
    out: *mut usize,
) -> vq_status {
    guard(|| {
        // SAFETY: caller's contract.
        let (h, p) = unsafe { (handle(pq)?, params_arg(params)) };
        let len = h.search_packed_scratch_len(n, k, &p)?;
        // SAFETY: caller's contract.
        unsafe { write_out("out", out, len) }
    })
}

/// Top-`k` fast-scan search of `queries_len / dim` queries over `n` packed codes
/// (`packed_len = vq_pq_packed_len(m, n)` bytes from `vq_pq_pack_codes`, read in place):
/// per query, the `k·rerank_factor` best codes by 8-bit table sums, re-ranked with the
/// float table (`params` NULL for the defaults). Scores, order, ties and padding as
/// `vq_pq_search`. Any packed bytes are accepted: a code holding a sub-code at or above a
/// `ksub` below 16 is never a result. `pq` must have `ksub <= 16`
/// (`VQ_STATUS_INVALID_ARGUMENT`). The scratch memory is the library's, as
/// `vq_pq_search`'s (see "Allocation" at the top of `vq.h`);
/// `vq_pq_search_packed_with_scratch` takes the caller's instead.
///
/// # Safety
/// `pq` is a live handle; `params` is NULL or valid; the buffers hold the given number of
/// elements.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_packed(
    pq: *const vq_pq,
    queries: *const f32,
    queries_len: usize,
    packed: *const u8,
    packed_len: usize,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    let call = Search { pq, queries, queries_len, packed, packed_len, n, k, params };
    // SAFETY: caller's contract.
    guard(|| unsafe { call.run(None, None, (distances, distances_len, labels, labels_len)) })
}

/// `vq_pq_search_packed` in the caller's `scratch` (`scratch_len` floats, at least
/// `vq_pq_search_packed_scratch_len`; its contents on return are unspecified): never
/// allocates. The results are `vq_pq_search_packed`'s, bit for bit.
///
/// # Safety
/// As `vq_pq_search_packed`; `scratch` holds `scratch_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_packed_with_scratch(
    pq: *const vq_pq,
    queries: *const f32,
    queries_len: usize,
    packed: *const u8,
    packed_len: usize,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
    scratch: *mut f32,
    scratch_len: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    let call = Search { pq, queries, queries_len, packed, packed_len, n, k, params };
    let outs = (distances, distances_len, labels, labels_len);
    // SAFETY: caller's contract.
    guard(|| unsafe { call.run(None, Some((scratch, scratch_len)), outs) })
}

/// `vq_pq_search_packed` re-ranked against `vectors`, the encoded vectors in full precision
/// (`vectors_len = n·dim`, row `i` the vector of code `i`; FAISS's `IndexRefineFlat`):
/// results hold the candidates' exact scores (`‖q − x‖²`, `q·x`, `q·x/(‖q‖‖x‖)`). Needs
/// `rerank_factor >= 1` (`VQ_STATUS_INVALID_ARGUMENT`). With `k·rerank_factor` at least
/// `n` the results are the exact top-k.
///
/// # Safety
/// As `vq_pq_search_packed`; `vectors` holds `vectors_len` floats.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_packed_refine(
    pq: *const vq_pq,
    queries: *const f32,
    queries_len: usize,
    packed: *const u8,
    packed_len: usize,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
    vectors: *const f32,
    vectors_len: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    let call = Search { pq, queries, queries_len, packed, packed_len, n, k, params };
    let outs = (distances, distances_len, labels, labels_len);
    // SAFETY: caller's contract.
    guard(|| unsafe { call.run(Some((vectors, vectors_len)), None, outs) })
}

/// `vq_pq_search_packed_refine` in the caller's `scratch`, as
/// `vq_pq_search_packed_with_scratch`: never allocates.
///
/// # Safety
/// As `vq_pq_search_packed_refine`; `scratch` holds `scratch_len` writable floats.
#[no_mangle]
pub unsafe extern "C" fn vq_pq_search_packed_refine_with_scratch(
    pq: *const vq_pq,
    queries: *const f32,
    queries_len: usize,
    packed: *const u8,
    packed_len: usize,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
    vectors: *const f32,
    vectors_len: usize,
    scratch: *mut f32,
    scratch_len: usize,
    distances: *mut f32,
    distances_len: usize,
    labels: *mut i64,
    labels_len: usize,
) -> vq_status {
    let call = Search { pq, queries, queries_len, packed, packed_len, n, k, params };
    let outs = (distances, distances_len, labels, labels_len);
    // SAFETY: caller's contract.
    guard(|| unsafe { call.run(Some((vectors, vectors_len)), Some((scratch, scratch_len)), outs) })
}

/// The arguments every fast-scan search shares; [`Search::run`] is their one body.
struct Search {
    pq: *const vq_pq,
    queries: *const f32,
    queries_len: usize,
    packed: *const u8,
    packed_len: usize,
    n: usize,
    k: usize,
    params: *const vq_fast_scan_params,
}

impl Search {
    /// Checks every pointer and length (inputs, then the scratch apart from them, then the
    /// results apart from both), then runs the library's search: refined when `vectors` is
    /// given, in the caller's memory when `scratch` is.
    ///
    /// # Safety
    /// The export's contract, for every pointer given.
    unsafe fn run(
        self,
        vectors: Option<(*const f32, usize)>,
        scratch: Option<(*mut f32, usize)>,
        (distances, distances_len, labels, labels_len): (*mut f32, usize, *mut i64, usize),
    ) -> Res {
        // SAFETY: caller's contract.
        let (h, q, p, params) = unsafe {
            (
                handle(self.pq)?,
                input("queries", self.queries, self.queries_len)?,
                input("packed", self.packed, self.packed_len)?,
                params_arg(self.params),
            )
        };
        // SAFETY: caller's contract.
        let v = vectors.map(|(ptr, len)| unsafe { input("vectors", ptr, len) }).transpose()?;
        // An empty view stands for an absent buffer: the overlap checks skip it.
        let ins = [("queries", bytes_of(q)), ("packed", p), ("vectors", v.map_or(&[][..], bytes_of))];
        // SAFETY: caller's contract.
        let s = scratch.map(|(ptr, len)| unsafe { output("scratch", ptr, len, &ins) }).transpose()?;
        let ins = [ins[0], ins[1], ins[2], ("scratch", s.as_deref().map_or(&[][..], bytes_of))];
        // SAFETY: caller's contract.
        let (d, l) = unsafe { results(distances, distances_len, labels, labels_len, &ins) }?;
        let codes = PackedCodes::from_bytes_for(h, self.n, p)?;
        let k = self.k;
        match (v, s) {
            (None, None) => h.search_packed(q, &codes, k, &params, d, l),
            (None, Some(s)) => h.search_packed_with_scratch(s, q, &codes, k, &params, d, l),
            (Some(v), None) => h.search_packed_refine(q, &codes, k, &params, v, d, l),
            (Some(v), Some(s)) => h.search_packed_refine_with_scratch(s, q, &codes, k, &params, v, d, l),
        }?;
        Ok(())
    }
}
