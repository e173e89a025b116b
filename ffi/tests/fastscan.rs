//! The 4-bit fast-scan calls of the C ABI give exactly the Rust library's results under
//! every metric: packed lengths, packing and unpacking, the scratch length, and the four
//! searches (plain and refined, in the library's scratch or the caller's), also over
//! hostile packed bytes; with a candidate list covering every code, `vq_pq_search`'s
//! results. Every bad input is refused with its status, a message naming the value, and
//! nothing written. (`tests/c/fastscan.c` checks the searches against a brute-force ADC
//! oracle in C.)

use common::{fails, last_error, same};
use std::ptr;
use vq::{FastScanParams, Metric, PackedCodes, PqParams, ProductQuantizer, Quantizer};
use vq_ffi::*;

mod common;

const D: usize = 18;
const N: usize = 173;
const NQ: usize = 5;
const K: usize = 6;

fn data(n: usize, seed: u32) -> Vec<f32> {
    common::rows(n, D, seed, |j, scale, u| scale * (u - 0.5) + (j % 3) as f32 * 0.1)
}

/// A quantizer trained by the library, the same one as a C handle (from its centroids),
/// and the codes of `x`.
struct Setup {
    rust: ProductQuantizer,
    h: *mut vq_pq,
    codes: Vec<u8>,
    packed: Vec<u8>,
}

impl Setup {
    fn new(metric: Metric, m: usize, ksub: usize, x: &[f32]) -> Setup {
        let mut p = PqParams::new(m, ksub);
        p.kmeans.max_iter = 5;
        p.metric = metric;
        let rust = ProductQuantizer::train(D, x, &p).unwrap();
        let c = rust.centroids();
        let mut h = ptr::null_mut();
        // SAFETY: valid buffers and out-pointer.
        let s = unsafe { vq_pq_from_centroids_metric(metric.number(), D, m, ksub, c.as_ptr(), c.len(), &mut h) };
        assert_eq!(s, vq_status::Ok, "{}", last_error());
        let mut codes = vec![0u8; x.len() / D * rust.code_size()];
        rust.encode(x, &mut codes).unwrap();
        let packed = if ksub <= 16 { PackedCodes::pack(&rust, &codes).unwrap().as_bytes().to_vec() } else { vec![] };
        Setup { rust, h, codes, packed }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        // SAFETY: made in `new`, freed once.
        unsafe { vq_pq_free(self.h) };
    }
}

/// Which of the four C searches.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Call {
    Plain,
    Scratch,
    Refine,
    RefineScratch,
}

const CALLS: [Call; 4] = [Call::Plain, Call::Scratch, Call::Refine, Call::RefineScratch];

/// One C fast-scan search of `queries` over `n` codes in `packed` into `d`/`l` (a scratch
/// of `scratch` floats for the scratch calls, `vectors` for the refined ones).
#[allow(clippy::too_many_arguments)]
fn c_search(
    call: Call,
    h: *const vq_pq,
    queries: &[f32],
    packed: &[u8],
    n: usize,
    k: usize,
    params: Option<&vq_fast_scan_params>,
    vectors: &[f32],
    scratch: &mut [f32],
    d: &mut [f32],
    l: &mut [i64],
) -> vq_status {
    let p = params.map_or(ptr::null(), |p| p as *const _);
    let (q, ql, c, cl) = (queries.as_ptr(), queries.len(), packed.as_ptr(), packed.len());
    let (v, vl, s, sl) = (vectors.as_ptr(), vectors.len(), scratch.as_mut_ptr(), scratch.len());
    let (dp, dl, lp, ll) = (d.as_mut_ptr(), d.len(), l.as_mut_ptr(), l.len());
    // SAFETY: every buffer holds the length passed with it; `h` is live or NULL.
    unsafe {
        match call {
            Call::Plain => vq_pq_search_packed(h, q, ql, c, cl, n, k, p, dp, dl, lp, ll),
            Call::Scratch => vq_pq_search_packed_with_scratch(h, q, ql, c, cl, n, k, p, s, sl, dp, dl, lp, ll),
            Call::Refine => vq_pq_search_packed_refine(h, q, ql, c, cl, n, k, p, v, vl, dp, dl, lp, ll),
            Call::RefineScratch => {
                vq_pq_search_packed_refine_with_scratch(h, q, ql, c, cl, n, k, p, v, vl, s, sl, dp, dl, lp, ll)
            }
        }
    }
}

/// The library's search for `call` (plain or refined; the scratch forms give the same).
fn rust_search(
    call: Call,
    pq: &ProductQuantizer,
    queries: &[f32],
    packed: &PackedCodes<&[u8]>,
    k: usize,
    p: &FastScanParams,
    vectors: &[f32],
) -> (Vec<f32>, Vec<i64>) {
    let nq = queries.len() / pq.dim();
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    match call {
        Call::Plain | Call::Scratch => pq.search_packed(queries, packed, k, p, &mut d, &mut l).unwrap(),
        Call::Refine | Call::RefineScratch => {
            pq.search_packed_refine(queries, packed, k, p, vectors, &mut d, &mut l).unwrap()
        }
    }
    (d, l)
}

fn scratch_len(h: *const vq_pq, n: usize, k: usize, p: Option<&vq_fast_scan_params>) -> usize {
    let mut len = 0;
    // SAFETY: a live handle, a valid out-pointer.
    let s = unsafe { vq_pq_search_packed_scratch_len(h, n, k, p.map_or(ptr::null(), |p| p as *const _), &mut len) };
    assert_eq!(s, vq_status::Ok, "{}", last_error());
    len
}

#[test]
fn the_default_params_are_the_librarys() {
    assert_eq!(vq_fast_scan_params_default().rerank_factor, FastScanParams::default().rerank_factor);
}

#[test]
fn every_call_is_the_librarys_bit_for_bit_under_every_metric() {
    let x = data(N, 1);
    let q = data(NQ, 2);
    for metric in [Metric::L2, Metric::InnerProduct, Metric::Cosine] {
        for (m, ksub) in [(5usize, 16usize), (6, 9), (1, 2)] {
            let s = Setup::new(metric, m, ksub, &x);
            let mut len = 0;
            // SAFETY: a valid out-pointer.
            assert_eq!(unsafe { vq_pq_packed_len(m, N, &mut len) }, vq_status::Ok);
            assert_eq!(len, PackedCodes::packed_len(m, N).unwrap());
            // Packing and unpacking: the library's bytes, and the codes back.
            let mut packed = vec![0x5Au8; len];
            let mut back = vec![0u8; s.codes.len()];
            // SAFETY: a live handle; buffers of the lengths passed.
            unsafe {
                let st = vq_pq_pack_codes(s.h, s.codes.as_ptr(), s.codes.len(), packed.as_mut_ptr(), len);
                assert_eq!(st, vq_status::Ok, "{}", last_error());
                let st = vq_pq_unpack_codes(s.h, packed.as_ptr(), len, back.as_mut_ptr(), back.len());
                assert_eq!(st, vq_status::Ok, "{}", last_error());
            }
            assert_eq!(packed, s.packed);
            assert_eq!(back, s.codes);
            let view = PackedCodes::from_bytes(m, N, &packed[..]).unwrap();
            let (mut cd, mut cl) = (vec![0f32; NQ * K], vec![0i64; NQ * K]);
            for factor in [0usize, 1, 3, N] {
                let p = vq_fast_scan_params { rerank_factor: factor };
                let rp = FastScanParams { rerank_factor: factor };
                let need = scratch_len(s.h, N, K, Some(&p));
                assert_eq!(need, s.rust.search_packed_scratch_len(N, K, &rp).unwrap());
                let mut scratch = vec![f32::NAN; need];
                for call in CALLS {
                    if factor == 0 && matches!(call, Call::Refine | Call::RefineScratch) {
                        continue;
                    }
                    let want = rust_search(call, &s.rust, &q, &view, K, &rp, &x);
                    let st = c_search(call, s.h, &q, &packed, N, K, Some(&p), &x, &mut scratch, &mut cd, &mut cl);
                    assert_eq!(st, vq_status::Ok, "{call:?}: {}", last_error());
                    assert!(same(&cd, &want.0) && cl == want.1, "{metric:?} m {m} ksub {ksub} ×{factor} {call:?}");
                }
            }
            // NULL params are the defaults.
            let want = rust_search(Call::Plain, &s.rust, &q, &view, K, &FastScanParams::default(), &x);
            let mut scratch = vec![0f32; scratch_len(s.h, N, K, None)];
            let st = c_search(Call::Scratch, s.h, &q, &packed, N, K, None, &x, &mut scratch, &mut cd, &mut cl);
            assert_eq!(st, vq_status::Ok, "{}", last_error());
            assert!(same(&cd, &want.0) && cl == want.1, "NULL params, {metric:?}");
            // A candidate list covering every code: vq_pq_search's results, bit for bit.
            let all = vq_fast_scan_params { rerank_factor: N };
            let st = c_search(Call::Plain, s.h, &q, &packed, N, K, Some(&all), &x, &mut scratch, &mut cd, &mut cl);
            assert_eq!(st, vq_status::Ok, "{}", last_error());
            // SAFETY: a live handle.
            let (wd, wl) = unsafe { common::search(vq_pq_search, s.h, &q, D, &s.codes, K) };
            assert!(same(&cd, &wd) && cl == wl, "full candidate list vs vq_pq_search, {metric:?} m {m}");
        }
    }
}

#[test]
fn hostile_packed_bytes_never_crash_and_agree_with_the_library() {
    let x = data(N, 3);
    let q = data(NQ, 4);
    for (m, ksub) in [(5usize, 16usize), (5, 5), (4, 2)] {
        let s = Setup::new(Metric::L2, m, ksub, &x);
        for seed in 0..4u32 {
            let len = PackedCodes::packed_len(m, N).unwrap();
            let mut st = seed.wrapping_mul(2_654_435_761) | 1;
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    st ^= st << 13;
                    st ^= st >> 17;
                    st ^= st << 5;
                    st as u8
                })
                .collect();
            let view = PackedCodes::from_bytes(m, N, &junk[..]).unwrap();
            let mut back = vec![0u8; s.codes.len()];
            let mut want_back = back.clone();
            view.unpack(&mut want_back).unwrap();
            // SAFETY: a live handle; buffers of the lengths passed.
            let st = unsafe { vq_pq_unpack_codes(s.h, junk.as_ptr(), len, back.as_mut_ptr(), back.len()) };
            assert_eq!(st, vq_status::Ok);
            assert_eq!(back, want_back);
            for factor in [0usize, 1, 4, N] {
                let p = vq_fast_scan_params { rerank_factor: factor };
                let rp = FastScanParams { rerank_factor: factor };
                let mut scratch = vec![0f32; scratch_len(s.h, N, K, Some(&p))];
                let (mut cd, mut cl) = (vec![0f32; NQ * K], vec![0i64; NQ * K]);
                for call in CALLS {
                    if factor == 0 && matches!(call, Call::Refine | Call::RefineScratch) {
                        continue;
                    }
                    let want = rust_search(call, &s.rust, &q, &view, K, &rp, &x);
                    let st = c_search(call, s.h, &q, &junk, N, K, Some(&p), &x, &mut scratch, &mut cd, &mut cl);
                    assert_eq!(st, vq_status::Ok, "{}", last_error());
                    assert!(same(&cd, &want.0) && cl == want.1, "ksub {ksub} ×{factor} {call:?}");
                    for (&l, &d) in cl.iter().zip(&cd) {
                        let ok = ((0..N as i64).contains(&l) && d.is_finite()) || (l == -1 && d == f32::INFINITY);
                        assert!(ok, "ksub {ksub} {call:?}: label {l} score {d}");
                    }
                    if ksub == 16 {
                        assert!(cl.iter().all(|&l| l >= 0), "every 4-bit sub-code is valid");
                    }
                }
            }
        }
    }
}

#[test]
fn bad_lengths_pointers_and_parameters_are_refused_with_nothing_written() {
    let x = data(N, 5);
    let q = data(2, 6);
    let (m, ksub, n, k) = (5usize, 16usize, N, 3usize);
    let s = Setup::new(Metric::L2, m, ksub, &x);
    let h = s.h.cast_const();
    let len = s.packed.len();
    // SAFETY: every pointer is NULL or holds at least the length passed with it (or a
    // check refuses the call before anything is read), and `h` is live.
    unsafe {
        // vq_pq_packed_len: m = 0, an overflowing size, a NULL out.
        let mut out = 77usize;
        fails(vq_pq_packed_len(0, 10, &mut out), vq_status::InvalidArgument, &["m (sub-quantizers) = 0", ">= 1"]);
        fails(vq_pq_packed_len(1 << 40, usize::MAX, &mut out), vq_status::BadLength, &["n = ", "size_t"]);
        fails(vq_pq_packed_len(usize::MAX, 1, &mut out), vq_status::BadLength, &["size_t"]);
        fails(vq_pq_packed_len(2, 2, ptr::null_mut()), vq_status::NullPointer, &["out is NULL"]);
        assert_eq!(out, 77, "written on failure");

        // vq_pq_pack_codes.
        let mut packed = vec![0xEEu8; len + 1];
        let (c, cl, pp) = (s.codes.as_ptr(), s.codes.len(), packed.as_mut_ptr());
        fails(vq_pq_pack_codes(ptr::null(), c, cl, pp, len), vq_status::NullPointer, &["pq is NULL"]);
        fails(vq_pq_pack_codes(h, ptr::null(), cl, pp, len), vq_status::NullPointer, &["codes is NULL"]);
        fails(vq_pq_pack_codes(h, c, cl, ptr::null_mut(), len), vq_status::NullPointer, &["out is NULL"]);
        let want = format!("packed codes has length {}, expected exactly {len}", len + 1);
        fails(vq_pq_pack_codes(h, c, cl, pp, len + 1), vq_status::BadLength, &[&want]);
        fails(vq_pq_pack_codes(h, c, cl - 1, pp, len), vq_status::BadLength, &["codes has", "whole number"]);
        assert!(packed.iter().all(|&b| b == 0xEE), "written on failure");
        let mut overlap = s.codes.clone();
        overlap.resize(len.max(cl), 0);
        let op = overlap.as_mut_ptr();
        fails(vq_pq_pack_codes(h, op, cl, op, len), vq_status::InvalidArgument, &["out overlaps codes"]);

        // vq_pq_unpack_codes.
        let mut codes = vec![0xEEu8; cl];
        let (p, cp) = (s.packed.as_ptr(), codes.as_mut_ptr());
        fails(vq_pq_unpack_codes(h, ptr::null(), len, cp, cl), vq_status::NullPointer, &["packed is NULL"]);
        fails(vq_pq_unpack_codes(h, p, len - 1, cp, cl), vq_status::BadLength, &["packed codes has length"]);
        fails(vq_pq_unpack_codes(h, p, len, cp, cl - 1), vq_status::BadLength, &["codes has", "whole number"]);
        assert!(codes.iter().all(|&b| b == 0xEE), "written on failure");

        // vq_pq_search_packed_scratch_len.
        let huge = vq_fast_scan_params { rerank_factor: usize::MAX };
        fails(
            vq_pq_search_packed_scratch_len(h, n, 2, &huge, &mut out),
            vq_status::InvalidArgument,
            &["rerank_factor"],
        );
        fails(vq_pq_search_packed_scratch_len(h, n, k, ptr::null(), ptr::null_mut()), vq_status::NullPointer, &["out"]);
        fails(
            vq_pq_search_packed_scratch_len(ptr::null(), n, k, ptr::null(), &mut out),
            vq_status::NullPointer,
            &["pq"],
        );
        assert_eq!(out, 77, "written on failure");
    }

    // The searches: each refusal, for all four calls, leaves the results untouched.
    let need = scratch_len(h, n, k, None);
    let p = vq_fast_scan_params_default();
    let mut scratch = vec![0f32; need];
    let (mut d, mut l) = (vec![7f32; 2 * k], vec![7i64; 2 * k]);
    let mut check = |call: Call, args: Args, want: vq_status, needles: &[&str]| {
        let st = c_search(
            call,
            args.h,
            args.q,
            args.packed,
            args.n,
            args.k,
            args.p,
            args.v,
            args.scratch(&mut scratch),
            &mut d,
            &mut l,
        );
        fails(st, want, needles);
        assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "{call:?}: results written on failure");
    };
    let ok = Args { h, q: &q, packed: &s.packed, n, k, p: Some(&p), v: &x, scratch_len: need };
    let mut bad_q = q.clone();
    bad_q[D + 1] = f32::NAN;
    let zero = vq_fast_scan_params { rerank_factor: 0 };
    let long_packed = [s.packed.clone(), vec![0]].concat();
    for call in CALLS {
        check(call, Args { h: ptr::null(), ..ok }, vq_status::NullPointer, &["pq is NULL"]);
        check(call, Args { k: 0, ..ok }, vq_status::InvalidArgument, &["k = 0"]);
        check(call, Args { q: &q[1..], ..ok }, vq_status::BadLength, &["queries has", "whole number"]);
        check(call, Args { q: &bad_q, ..ok }, vq_status::NonFinite, &["queries", &format!("element {}", D + 1)]);
        check(call, Args { packed: &s.packed[1..], ..ok }, vq_status::BadLength, &["packed codes has length"]);
        check(call, Args { packed: &long_packed, ..ok }, vq_status::BadLength, &["packed codes has length"]);
        // n past the last packed block.
        check(call, Args { n: n + 32, ..ok }, vq_status::BadLength, &["packed codes has length"]);
        check(call, Args { k: k + 1, ..ok }, vq_status::BadLength, &["distances has length"]);
    }
    for call in [Call::Scratch, Call::RefineScratch] {
        let msg = format!("scratch length = {} (search_packed_scratch_len = {need})", need - 1);
        check(call, Args { scratch_len: need - 1, ..ok }, vq_status::InvalidArgument, &[&msg]);
        check(call, Args { scratch_len: 0, ..ok }, vq_status::InvalidArgument, &["scratch length = 0"]);
    }
    for call in [Call::Refine, Call::RefineScratch] {
        check(call, Args { p: Some(&zero), ..ok }, vq_status::InvalidArgument, &["rerank_factor = 0"]);
        check(call, Args { v: &x[1..], ..ok }, vq_status::BadLength, &["vectors has length"]);
        check(call, Args { v: &[], ..ok }, vq_status::BadLength, &["vectors has length 0"]);
    }

    // NULL buffers with a length, and overlapping buffers.
    let (qp, pp, vp) = (q.as_ptr(), s.packed.as_ptr(), x.as_ptr());
    let (dp, lp) = (d.as_mut_ptr(), l.as_mut_ptr());
    let pr: *const vq_fast_scan_params = &p;
    // SAFETY: NULL pointers come with lengths the checks refuse before reading; the others
    // hold the lengths passed.
    unsafe {
        let st = vq_pq_search_packed(h, ptr::null(), 2 * D, pp, len, n, k, pr, dp, 2 * k, lp, 2 * k);
        fails(st, vq_status::NullPointer, &["queries is NULL"]);
        let st = vq_pq_search_packed(h, qp, 2 * D, ptr::null(), len, n, k, pr, dp, 2 * k, lp, 2 * k);
        fails(st, vq_status::NullPointer, &["packed is NULL"]);
        let st = vq_pq_search_packed(h, qp, 2 * D, pp, len, n, k, pr, ptr::null_mut(), 2 * k, lp, 2 * k);
        fails(st, vq_status::NullPointer, &["distances is NULL"]);
        let st =
            vq_pq_search_packed_refine(h, qp, 2 * D, pp, len, n, k, pr, ptr::null(), x.len(), dp, 2 * k, lp, 2 * k);
        fails(st, vq_status::NullPointer, &["vectors is NULL"]);
        let st = vq_pq_search_packed_with_scratch(
            h,
            qp,
            2 * D,
            pp,
            len,
            n,
            k,
            pr,
            ptr::null_mut(),
            need,
            dp,
            2 * k,
            lp,
            2 * k,
        );
        fails(st, vq_status::NullPointer, &["scratch is NULL"]);
        // The scratch over the results, the results over the scratch.
        let st = vq_pq_search_packed_with_scratch(h, qp, 2 * D, pp, len, n, k, pr, dp, 2 * k, dp, 2 * k, lp, 2 * k);
        fails(st, vq_status::InvalidArgument, &["distances overlaps scratch"]);
        let qm = q.as_ptr().cast_mut();
        let st = vq_pq_search_packed_with_scratch(h, qp, 2 * D, pp, len, n, k, pr, qm, need, dp, 2 * k, lp, 2 * k);
        fails(st, vq_status::InvalidArgument, &["scratch overlaps queries"]);
        let st = vq_pq_search_packed_refine_with_scratch(
            h,
            qp,
            2 * D,
            pp,
            len,
            n,
            k,
            pr,
            vp,
            x.len(),
            vp.cast_mut(),
            need,
            dp,
            2 * k,
            lp,
            2 * k,
        );
        fails(st, vq_status::InvalidArgument, &["scratch overlaps vectors"]);
    }
    assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "results written on failure");

    // More than 16 centroids per sub-quantizer: every call names the range.
    let big = Setup::new(Metric::L2, 4, 64, &x);
    let hb = big.h.cast_const();
    let mut out = 0usize;
    let mut buf = vec![0u8; PackedCodes::packed_len(4, n).unwrap()];
    let mut codes = vec![0u8; big.codes.len()];
    // SAFETY: a live handle; buffers of the lengths passed.
    unsafe {
        let range = ["ksub (centroids) for fast scan = 64", "2..=16"];
        fails(vq_pq_search_packed_scratch_len(hb, n, k, ptr::null(), &mut out), vq_status::InvalidArgument, &range);
        let (bc, bl) = (big.codes.as_ptr(), big.codes.len());
        fails(vq_pq_pack_codes(hb, bc, bl, buf.as_mut_ptr(), buf.len()), vq_status::InvalidArgument, &range);
        let st = vq_pq_unpack_codes(hb, buf.as_ptr(), buf.len(), codes.as_mut_ptr(), codes.len());
        fails(st, vq_status::InvalidArgument, &range);
        for call in CALLS {
            let args = Args { h: hb, packed: &buf, ..ok };
            let st = c_search(call, args.h, args.q, args.packed, n, k, args.p, &x, &mut scratch, &mut d, &mut l);
            fails(st, vq_status::InvalidArgument, &range);
        }
    }
}

/// One search's arguments, varied one at a time from a valid set.
#[derive(Clone, Copy)]
struct Args<'a> {
    h: *const vq_pq,
    q: &'a [f32],
    packed: &'a [u8],
    n: usize,
    k: usize,
    p: Option<&'a vq_fast_scan_params>,
    v: &'a [f32],
    scratch_len: usize,
}

impl Args<'_> {
    fn scratch<'s>(&self, s: &'s mut [f32]) -> &'s mut [f32] {
        &mut s[..self.scratch_len]
    }
}
