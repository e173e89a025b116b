//! Fuzz harness bodies, one per target in `fuzz/fuzz_targets/`. They live here so the
//! cargo-fuzz targets (nightly, libFuzzer) and `tests/fuzz_corpus.rs` (stable, part of the
//! README's test command) run the same code: the committed corpus is replayed as a
//! regression test on every test run. Compiled only with the `fuzzing` feature, which both
//! enable: they are test code and stay out of the shipped library.
//!
//! Each harness turns arbitrary bytes into a call sequence and asserts what must hold for
//! any input: no panic, no status `VQ_STATUS_PANIC`, results equal to a plain oracle, the C
//! ABI agreeing with the Rust library, out-parameters untouched on failure. A failed
//! assertion is a crash for the fuzzer.

#![allow(clippy::missing_panics_doc)]

use crate::status::Failure;
use crate::*;
use std::ptr;
use vq::format::{self, Model};
use vq::{
    reference, Error, FastScanParams, Metric, PackedCodes, PqParams, ProductQuantizer, Quantizer, QueryBits,
    RabitqParams, RabitqQuantizer, ScalarQuantizer, SqBits,
};

/// Reads little-endian values off the front of the fuzz input; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f32()).collect()
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.u8()).collect()
    }
}

fn status_of(e: Error) -> vq_status {
    Failure::from(e).status
}

fn same_f32(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Model loading from arbitrary bytes: as given, and again with every checksum recomputed
/// (so mutations reach the checks behind the checksums).
pub fn load_model(data: &[u8]) {
    check_load(data);
    if data.len() >= 64 {
        let mut sealed = data.to_vec();
        format::testing::reseal(&mut sealed);
        check_load(&sealed);
    }
}

fn check_load(bytes: &[u8]) {
    let rust = format::read_bytes(bytes);
    let (mut pq, mut sq, mut opq, mut rabitq) = (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
    // SAFETY: a valid buffer and out-pointers.
    let (s_pq, s_sq, s_opq, s_rabitq) = unsafe {
        (
            vq_pq_load_buffer(bytes.as_ptr(), bytes.len(), &mut pq),
            vq_sq_load_buffer(bytes.as_ptr(), bytes.len(), &mut sq),
            vq_opq_load_buffer(bytes.as_ptr(), bytes.len(), &mut opq),
            vq_rabitq_load_buffer(bytes.as_ptr(), bytes.len(), &mut rabitq),
        )
    };
    let statuses = (s_pq, s_sq, s_opq, s_rabitq);
    let (ok, wrong) = (vq_status::Ok, vq_status::WrongKind);
    match rust {
        Ok(file) => {
            // A loaded model writes a file that loads to the same model.
            let again = match &file.model {
                Model::Pq(p) => {
                    assert_eq!(statuses, (ok, wrong, wrong, wrong));
                    // SAFETY: a live handle.
                    assert_eq!(unsafe { vq_pq_dim(pq) }, p.dim());
                    exercise(p);
                    p.to_bytes()
                }
                Model::Sq(s) => {
                    assert_eq!(statuses, (wrong, ok, wrong, wrong));
                    exercise(s);
                    s.to_bytes()
                }
                Model::Opq(o) => {
                    assert_eq!(statuses, (wrong, wrong, ok, wrong));
                    // SAFETY: a live handle.
                    assert_eq!(unsafe { (vq_opq_dim(opq), vq_opq_d_out(opq)) }, (o.dim(), o.d_out()));
                    exercise(o);
                    if o.d_out() <= 4096 {
                        same_search(vq_opq_search, opq, o);
                    }
                    o.to_bytes()
                }
                Model::Rabitq(r) => {
                    assert_eq!(statuses, (wrong, wrong, wrong, ok));
                    // SAFETY: a live handle.
                    unsafe {
                        assert_eq!((vq_rabitq_dim(rabitq), vq_rabitq_bits(rabitq)), (r.dim(), r.bits()));
                        assert_eq!(vq_rabitq_query_bits(rabitq), r.qb().number());
                        assert_eq!(vq_rabitq_epsilon(rabitq).to_bits(), r.epsilon().to_bits());
                    }
                    exercise(r);
                    same_search(vq_rabitq_search, rabitq, r);
                    r.to_bytes()
                }
            };
            let reread = format::read_bytes(&again).expect("a written model reads back");
            assert_eq!(reread.model, file.model);
            if let (Model::Pq(a), Model::Pq(b)) = (&reread.model, &file.model) {
                assert_eq!(a.training(), b.training());
            }
        }
        Err(e) => {
            let want = status_of(e);
            assert!(matches!(want, vq_status::Format | vq_status::UnsupportedVersion), "{want:?}");
            assert_eq!(statuses, (want, want, want, want));
            let written = !pq.is_null() || !sq.is_null() || !opq.is_null() || !rabitq.is_null();
            assert!(!written, "out-parameter written on failure");
        }
    }
    // SAFETY: NULL or live handles, freed once.
    unsafe {
        vq_pq_free(pq);
        vq_sq_free(sq);
        vq_opq_free(opq);
        vq_rabitq_free(rabitq);
    }
}

/// The C search (`search`, of the handle `h`) of a loaded model equals the library's, or
/// both refuse the queries (an OPQ whose rotation of them overflows), with nothing written
/// on failure; on a few vectors large enough to overflow a careless sum.
fn same_search<H>(search: SearchFn<H>, h: *const H, q: &dyn Quantizer) {
    let d = q.dim();
    if d > 4096 {
        return;
    }
    let x: Vec<f32> = (0..3 * d).map(|i| ((i % 7) as f32 - 3.0) * 1e6).collect();
    let mut codes = vec![0u8; 3 * q.code_size()];
    q.encode(&x, &mut codes).unwrap();
    let (mut wd, mut wl) = ([0f32; 4], [0i64; 4]);
    let want = q.search(&x[..2 * d], &codes, 2, &mut wd, &mut wl).map_err(status_of);
    let (mut cd, mut cl) = ([7f32; 4], [7i64; 4]);
    // SAFETY: a live handle of the kind `search` takes; the buffers hold the lengths passed.
    let s =
        unsafe { search(h, x.as_ptr(), 2 * d, codes.as_ptr(), codes.len(), 2, cd.as_mut_ptr(), 4, cl.as_mut_ptr(), 4) };
    match want {
        Ok(()) => {
            assert_eq!(s, vq_status::Ok);
            assert!(cl == wl && cd.iter().zip(&wd).all(|(a, b)| same_f32(*a, *b)), "the C search is the library's");
        }
        Err(w) => {
            assert_eq!(s, w);
            assert_eq!((cd, cl), ([7f32; 4], [7i64; 4]), "written on failure");
        }
    }
}

/// Encodes, decodes and searches a few vectors with a loaded (possibly hostile but valid)
/// quantizer: nothing may fail.
fn exercise(q: &dyn Quantizer) {
    let d = q.dim();
    if d > 4096 {
        return; // bounded work per input; the load itself was the test
    }
    let x: Vec<f32> = (0..2 * d).map(|i| (i % 7) as f32 - 3.0).collect();
    let mut codes = vec![0u8; 2 * q.code_size()];
    q.encode(&x, &mut codes).unwrap();
    let mut y = vec![0f32; 2 * d];
    q.decode(&codes, &mut y).unwrap();
    let (mut dist, mut lab) = ([0f32; 2], [0i64; 2]);
    q.search(&x[..d], &codes, 2, &mut dist, &mut lab).unwrap();
    // -1 only where a score overflowed past the sentinel (extreme but valid ranges or
    // centroids), which is then the metric's: +inf for L2, -inf for the similarities.
    for (&l, &dv) in lab.iter().zip(&dist) {
        assert!((0..=1).contains(&l) || (l == -1 && dv == q.metric().worst()), "label {l}, score {dv}");
    }
    assert!(lab[0] != lab[1] || lab[0] == -1);
}

/// SQ decode, distances and search over arbitrary ranges, codes and queries, against the
/// scalar oracle; and the C ABI's search against the library's.
pub fn sq_search(data: &[u8]) {
    let mut inp = Input(data);
    let bits = [SqBits::B4, SqBits::B8, SqBits::B16][inp.u8() as usize % 3];
    let dim = 1 + inp.u8() as usize % 40;
    let n = inp.u8() as usize % 50;
    let nq = 1 + inp.u8() as usize % 5;
    let k = 1 + inp.u8() as usize % 12;
    let raw_lo = inp.f32s(dim);
    let raw_hi = inp.f32s(dim);
    let valid = raw_lo.iter().zip(&raw_hi).all(|(l, h)| l.is_finite() && h.is_finite() && l <= h);
    assert_eq!(ScalarQuantizer::from_ranges(bits, raw_lo.clone(), raw_hi.clone()).is_ok(), valid);
    let fix = |v: f32| if v.is_finite() { v } else { 0.0 };
    let (lo, hi): (Vec<f32>, Vec<f32>) =
        raw_lo.iter().zip(&raw_hi).map(|(&l, &h)| (fix(l).min(fix(h)), fix(l).max(fix(h)))).unzip();
    let sq = ScalarQuantizer::from_ranges(bits, lo.clone(), hi.clone()).unwrap();
    let cs = sq.code_size();
    let codes = inp.bytes(n * cs);
    let raw_q = inp.f32s(nq * dim);
    let queries: Vec<f32> = raw_q.iter().map(|&v| fix(v)).collect();

    // Decode equals the oracle, code by code.
    let mut dec = vec![0f32; n * dim];
    sq.decode(&codes, &mut dec).unwrap();
    for (code, row) in codes.chunks_exact(cs.max(1)).zip(dec.chunks_exact(dim)) {
        for (j, &got) in row.iter().enumerate() {
            let c = match bits {
                SqBits::B4 => ((code[j / 2] >> (4 - 4 * (j & 1))) & 0xF) as u32,
                SqBits::B8 => code[j] as u32,
                SqBits::B16 => u16::from_le_bytes([code[2 * j], code[2 * j + 1]]) as u32,
            };
            let step = sq.step()[j];
            let base = (lo[j] as f64 + 0.5 * step as f64) as f32;
            assert!(same_f32(got, reference::sq_decode(c, step, base)), "dim {j} code {c}");
        }
    }
    // Distances equal the distance to the decoded vector.
    let mut dist = vec![0f32; n];
    for q in queries.chunks_exact(dim) {
        sq.distances(q, &codes, &mut dist).unwrap();
        for (row, &got) in dec.chunks_exact(dim).zip(&dist) {
            let want = reference::l2sq(q, row);
            // The kernel fuses the reconstruction's multiply-add `c·step + base`, so a value
            // may differ from decode's by an ulp of `c·step` or `base` (up to |vmin| + |vmax|,
            // far more than the result's when they cancel), on top of the sum's rounding.
            let scale: f64 = (0..dim)
                .map(|j| {
                    let m = q[j].abs() as f64 + row[j].abs() as f64 + 2.0 * (lo[j].abs() as f64 + hi[j].abs() as f64);
                    m * m
                })
                .sum();
            if scale < f32::MAX as f64 / 4.0 {
                let tol = 4.0 * (dim as f64 + 2.0) * f32::EPSILON as f64 * scale + 1e-30;
                assert!((got as f64 - want).abs() <= tol, "{got} vs {want} (tol {tol})");
            }
        }
    }
    // Search: non-finite queries are rejected; otherwise sorted, valid ids, C == Rust.
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let raw_ok = sq.search(&raw_q, &codes, k, &mut d, &mut l).is_ok();
    assert_eq!(raw_ok, raw_q.iter().all(|v| v.is_finite()));
    sq.search(&queries, &codes, k, &mut d, &mut l).unwrap();
    for (qd, ql) in d.chunks_exact(k).zip(l.chunks_exact(k)) {
        assert!(qd.windows(2).all(|w| w[0] <= w[1] || w[1].is_nan()));
        for (i, (&id, &dist)) in ql.iter().zip(qd).enumerate() {
            // A distance that overflowed to +inf never enters the top k (the sentinel is +inf).
            let found = i < n && dist < f32::INFINITY;
            assert_eq!(id != -1, found, "id {id} (distance {dist}) at rank {i} of {n} codes");
            assert!(id < n as i64);
        }
    }
    let (mut cd, mut cl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let mut h = ptr::null_mut();
    // SAFETY: valid buffers of the stated lengths and a live handle.
    unsafe {
        assert_eq!(vq_sq_from_ranges(bits.bits(), lo.as_ptr(), dim, hi.as_ptr(), dim, &mut h), vq_status::Ok);
        let s = vq_sq_search(
            h,
            queries.as_ptr(),
            queries.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            cd.as_mut_ptr(),
            cd.len(),
            cl.as_mut_ptr(),
            cl.len(),
        );
        assert_eq!(s, vq_status::Ok);
        vq_sq_free(h);
    }
    assert_eq!(cl, l);
    assert!(cd.iter().zip(&d).all(|(a, b)| same_f32(*a, *b)));
}

/// PQ ADC scan over arbitrary tables and codes, for every code layout: valid codes give
/// exactly the oracle's sums (same f32 additions, same order); codes with a sub-code at or
/// above `ksub` are rejected by the C ABI with the output untouched.
pub fn pq_adc(data: &[u8]) {
    let mut inp = Input(data);
    let m = 1 + inp.u8() as usize % 12;
    let ksub = match inp.u8() % 8 {
        0 => 16,
        1 => 256,
        2 => 65536,
        3 => 2 + inp.u8() as usize % 15,      // nibble layout, not full
        4 => 17 + inp.u8() as usize % 240,    // byte layout, not full
        5 => 257 + inp.u16() as usize % 2000, // u16 layout
        _ => 2 + inp.u16() as usize % 300,
    };
    let m = if ksub > 4096 { m.min(2) } else { m };
    let dim = m + inp.u8() as usize % 5;
    let n = inp.u8() as usize % 40;
    let centroids: Vec<f32> = (0..ksub * dim).map(|i| (i % 13) as f32 * 0.25).collect();
    let pq = ProductQuantizer::from_centroids(dim, m, ksub, centroids).unwrap();
    let cs = pq.code_size();
    let mut table = inp.f32s(m.min(8) * ksub.min(64));
    table.resize(m * ksub, 0.0);
    let codes = inp.bytes(n * cs);

    let sub = |code: &[u8], i: usize| -> usize {
        if ksub <= 16 {
            ((code[i / 2] >> (4 - 4 * (i & 1))) & 0xF) as usize
        } else if ksub <= 256 {
            code[i] as usize
        } else {
            u16::from_le_bytes([code[2 * i], code[2 * i + 1]]) as usize
        }
    };
    let valid = codes.chunks_exact(cs).all(|c| (0..m).all(|i| sub(c, i) < ksub));
    assert_eq!(pq.check_codes(&codes).is_ok(), valid);

    let mut out = vec![7f32; n];
    let mut h = ptr::null_mut();
    // SAFETY: valid buffers of the stated lengths; the handle is freed once.
    let s = unsafe {
        let c = pq.centroids();
        assert_eq!(vq_pq_from_centroids(dim, m, ksub, c.as_ptr(), c.len(), &mut h), vq_status::Ok);
        let s = vq_pq_adc_scan(h, table.as_ptr(), table.len(), codes.as_ptr(), codes.len(), out.as_mut_ptr(), n);
        vq_pq_free(h);
        s
    };
    if !valid {
        assert_eq!(s, vq_status::InvalidArgument);
        assert!(out.iter().all(|&v| v == 7.0), "output written on failure");
        return;
    }
    assert_eq!(s, vq_status::Ok);
    let mut rust = vec![0f32; n];
    pq.adc_scan(&table, &codes, &mut rust).unwrap();
    for (j, code) in codes.chunks_exact(cs).enumerate() {
        let mut want = 0f32;
        for i in 0..m {
            want += table[i * ksub + sub(code, i)];
        }
        // Float equality: the scan's tail (codes past the last group of four) starts its sum
        // at -0.0 (f32's Sum), the oracle and the four-code loop at +0.0, so a sum of zeros
        // may differ in sign only.
        let same = |a: f32| a == want || (a.is_nan() && want.is_nan());
        assert!(same(rust[j]) && same(out[j]), "code {j}: {} / {} vs {want}", rust[j], out[j]);
    }
    // Decoding valid codes copies centroid rows.
    let mut dec = vec![0f32; n * dim];
    pq.decode(&codes, &mut dec).unwrap();
    for (code, row) in codes.chunks_exact(cs).zip(dec.chunks_exact(dim)) {
        for i in 0..m {
            let (off, ds) = pq.subspace(i);
            let c = sub(code, i);
            assert_eq!(&row[off..off + ds], &pq.sub_centroids(i)[c * ds..(c + 1) * ds]);
        }
    }
}

/// RaBitQ's estimates and searches over hostile codes. A small quantizer trained from
/// fuzz-chosen settings (dim 1..=70, bits 1..=9, metric, `qb`, `ε₀`) on two rows from the
/// input, then arbitrary code bytes (NaN or infinite factors, any sign and extended bits),
/// finite queries and full vectors of any bits (NaN rows too), through the library and the
/// C ABI: nothing panics; the C ABI's estimates, distances, decode, search and refined
/// search are the library's bit for bit; the full estimate is the distances; a search's
/// results hold no NaN, every label is a distinct code or -1 (with the metric's worst
/// score), scores are ordered, a plain search's score of a code is its
/// estimate and a refined search never returns a row holding NaN; a query holding a NaN
/// or an infinity is refused with nothing written.
pub fn rabitq_estimate(data: &[u8]) {
    let mut inp = Input(data);
    let dim = 1 + inp.u8() as usize % 70;
    let bits = 1 + u32::from(inp.u8()) % 9;
    let metric = [Metric::L2, Metric::InnerProduct, Metric::Cosine][inp.u8() as usize % 3];
    let qb = u32::from(inp.u8()) % 9;
    let epsilon = [0.0, 1.9, 3.0, 20.0, 1e30][inp.u8() as usize % 5];
    let n = inp.u8() as usize % 40;
    let nq = 1 + inp.u8() as usize % 4;
    let k = 1 + inp.u8() as usize % 12;
    let seed = u64::from(inp.u8());
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let train: Vec<f32> = inp.f32s(2 * dim).into_iter().map(finite).collect();
    let qbits = QueryBits::from_number(qb).unwrap();
    let params = RabitqParams { bits, qb: qbits, metric, seed, centroid: None, epsilon };
    let quant = RabitqQuantizer::train(dim, &train, &params).unwrap();
    let cs = quant.code_size();
    let codes = inp.bytes(n * cs);
    let raw_q = inp.f32s(nq * dim);
    let queries: Vec<f32> = raw_q.iter().map(|&v| finite(v)).collect();
    let vectors = inp.f32s(n * dim);
    let same_all = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f32(*x, *y));
    let bitwise = |a: &[f32], b: &[f32]| a.iter().map(|v| v.to_bits()).eq(b.iter().map(|v| v.to_bits()));

    let cp = vq_rabitq_params { seed, qb, epsilon, ..vq_rabitq_params_default() };
    let mut h = ptr::null_mut();
    // SAFETY: valid buffers of the stated lengths and a valid out-pointer.
    let s = unsafe { vq_rabitq_train(metric.number(), dim, bits, train.as_ptr(), train.len(), &cp, &mut h) };
    assert_eq!(s, vq_status::Ok);
    let h = h.cast_const();

    // Every query's estimates: the library's and the C ABI's, full and 1-bit.
    let mut ests = Vec::with_capacity(nq * n);
    for q in queries.chunks_exact(dim) {
        let (mut est, mut half, mut dist) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        quant.estimate(q, &codes, &mut est, &mut half).unwrap();
        quant.distances(q, &codes, &mut dist).unwrap();
        assert!(bitwise(&est, &dist), "the full estimate is the distances");
        let (mut ce, mut ch, mut cd) = (vec![0f32; n], vec![0f32; n], vec![0f32; n]);
        let (qp, cp, ep, hp) = (q.as_ptr(), codes.as_ptr(), ce.as_mut_ptr(), ch.as_mut_ptr());
        // SAFETY: a live handle; the buffers hold the lengths passed.
        unsafe {
            assert_eq!(vq_rabitq_estimate(h, qp, dim, cp, codes.len(), ep, n, hp, n), vq_status::Ok);
            assert_eq!(vq_rabitq_distances(h, qp, dim, cp, codes.len(), cd.as_mut_ptr(), n), vq_status::Ok);
        }
        assert!(bitwise(&ce, &est) && bitwise(&ch, &half) && bitwise(&cd, &dist), "C estimates are the library's");
        ests.extend_from_slice(&est);
        quant.estimate_sign(q, &codes, &mut est, &mut half).unwrap();
        // SAFETY: as above.
        let s = unsafe { vq_rabitq_estimate_sign(h, qp, dim, cp, codes.len(), ep, n, hp, n) };
        assert_eq!(s, vq_status::Ok);
        assert!(bitwise(&ce, &est) && bitwise(&ch, &half), "C 1-bit estimates are the library's");
    }
    // Decode: anything decodes, as the library does.
    let (mut dec, mut cdec) = (vec![0f32; n * dim], vec![0f32; n * dim]);
    quant.decode(&codes, &mut dec).unwrap();
    // SAFETY: a live handle; the buffers hold the lengths passed.
    let s = unsafe { vq_rabitq_decode(h, codes.as_ptr(), codes.len(), cdec.as_mut_ptr(), cdec.len()) };
    assert_eq!(s, vq_status::Ok);
    assert!(bitwise(&dec, &cdec), "decode");

    // Search and refined search: the library's, and results that make sense.
    let worst = metric.worst();
    let check = |d: &[f32], l: &[i64], what: &str| {
        for (qi, (qd, ql)) in d.chunks_exact(k).zip(l.chunks_exact(k)).enumerate() {
            for (i, (&score, &label)) in qd.iter().zip(ql).enumerate() {
                assert!(!score.is_nan(), "{what}: NaN in the results: {qd:?}");
                assert!((-1..n as i64).contains(&label), "{what}: label {label} of {n} codes");
                // Not the converse: under cosine a huge estimate scaled by a large 1/‖q‖
                // overflows to the worst score and still ranks (as it does in `estimate`).
                assert!(label != -1 || score == worst, "{what}: label -1 with score {score}");
                assert!(label == -1 || !ql[..i].contains(&label), "{what}: label {label} twice: {ql:?}");
                if i > 0 {
                    let ordered = if metric == Metric::L2 { qd[i - 1] <= score } else { qd[i - 1] >= score };
                    assert!(ordered, "{what}: not ordered: {qd:?}");
                }
                if label >= 0 && what == "search" {
                    let e = ests[qi * n + label as usize];
                    assert_eq!(score.to_bits(), e.to_bits(), "search: score of code {label} vs its estimate");
                }
                if label >= 0 && what == "refine" {
                    let row = &vectors[label as usize * dim..][..dim];
                    assert!(!row.iter().any(|v| v.is_nan()), "refine: a row holding NaN in the results");
                }
            }
        }
    };
    let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    quant.search(&queries, &codes, k, &mut wd, &mut wl).unwrap();
    check(&wd, &wl, "search");
    // SAFETY: a live handle; the buffers hold the lengths passed.
    let (cd, cl) = unsafe { c_results(vq_rabitq_search, h, (&queries, nq), &codes, k) };
    assert!(same_all(&cd, &wd) && cl == wl, "the C search is the library's");
    // SAFETY: a live handle of `quant`'s settings.
    let (wd, wl) = unsafe { same_refine(h, &quant, (&queries, nq), &codes, k, &vectors) }.unwrap();
    check(&wd, &wl, "refine");
    // Queries as the input gave them: refused, with nothing written, when not finite.
    if raw_q.iter().any(|v| !v.is_finite()) {
        let (mut d, mut l) = (vec![7f32; nq * k], vec![7i64; nq * k]);
        // SAFETY: a live handle; the buffers hold the lengths passed.
        let s = unsafe {
            let (dp, lp) = (d.as_mut_ptr(), l.as_mut_ptr());
            vq_rabitq_search(h, raw_q.as_ptr(), raw_q.len(), codes.as_ptr(), codes.len(), k, dp, d.len(), lp, l.len())
        };
        assert_eq!(s, vq_status::NonFinite);
        assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "written on failure");
    }
    // SAFETY: made above, freed once.
    unsafe { vq_rabitq_free(h.cast_mut()) };
}

/// 4-bit PQ fast scan over hostile packed bytes and parameters. A quantizer from
/// fuzz-chosen centroids (m 1..=9, ksub 2..=16, any metric), then arbitrary packed bytes
/// for `n` codes (claimed as `n`, or a count whose packed length differs), finite queries,
/// full vectors of any bits, any `k` and `rerank_factor` (0, small, `n`, `usize::MAX`) and a
/// caller scratch of the right length or not, through the library and all four C
/// searches, unpacking and packing: nothing panics; every C status is the library's error's
/// and nothing is written on failure; C results are the library's bit for bit; results
/// hold no NaN, labels are distinct codes or -1 (with the metric's worst score), scores are
/// ordered, a refined search never returns a row holding NaN; and where every code is a
/// candidate, every sub-code is below `ksub` and the float tables are finite, the plain
/// search is the float scan's (`Quantizer::search` on the unpacked codes) bit for bit.
pub fn fastscan_packed(data: &[u8]) {
    let mut inp = Input(data);
    let m = 1 + inp.u8() as usize % 9;
    let ksub = 2 + inp.u8() as usize % 15;
    let dim = m + inp.u8() as usize % 4;
    let metric = Metric::ALL[inp.u8() as usize % 3];
    let n = inp.u8() as usize % 80;
    let nq = 1 + inp.u8() as usize % 5;
    let k = 1 + inp.u8() as usize % 12;
    let factor = match inp.u8() % 8 {
        0 => 0,
        1 => 1,
        2 => 4,
        3 => n,
        4 => usize::MAX,
        b => usize::from(b) + usize::from(inp.u8()),
    };
    let claimed = match inp.u8() % 8 {
        0 => n + 32,
        1 => n.saturating_sub(32),
        2 => n + 1,
        _ => n,
    };
    let scratch_delta = inp.u8() % 4;
    let finite = |v: f32| if v.is_finite() { v } else { 0.0 };
    let centroids: Vec<f32> = inp.f32s(ksub * dim).into_iter().map(finite).collect();
    let pq = ProductQuantizer::from_centroids(dim, m, ksub, centroids.clone()).unwrap().with_metric(metric);
    let plen = PackedCodes::packed_len(m, n).unwrap();
    let packed = inp.bytes(plen);
    let queries: Vec<f32> = inp.f32s(nq * dim).into_iter().map(finite).collect();
    let vectors = inp.f32s(claimed * dim);
    let params = FastScanParams { rerank_factor: factor };
    let cp = vq_fast_scan_params { rerank_factor: factor };

    let mut h = ptr::null_mut();
    // SAFETY: valid buffers of the stated lengths and a valid out-pointer.
    let s = unsafe {
        vq_pq_from_centroids_metric(metric.number(), dim, m, ksub, centroids.as_ptr(), centroids.len(), &mut h)
    };
    assert_eq!(s, vq_status::Ok);
    let h = h.cast_const();

    // Unpacking (the C ABI's is the library's), and packing what came out packs it back.
    let cs = pq.code_size();
    let (mut codes, mut c_codes) = (vec![0u8; n * cs], vec![7u8; n * cs]);
    PackedCodes::from_bytes(m, n, &packed[..]).unwrap().unpack(&mut codes).unwrap();
    // SAFETY: a live handle; buffers of the stated lengths.
    let s = unsafe { vq_pq_unpack_codes(h, packed.as_ptr(), plen, c_codes.as_mut_ptr(), c_codes.len()) };
    assert_eq!(s, vq_status::Ok);
    assert_eq!(codes, c_codes, "unpack");
    let repacked = PackedCodes::pack(&pq, &codes).unwrap();
    let mut again = vec![0u8; n * cs];
    repacked.unpack(&mut again).unwrap();
    assert_eq!(again, codes, "pack then unpack");
    let mut c_packed = vec![7u8; plen];
    // SAFETY: as above.
    let s = unsafe { vq_pq_pack_codes(h, codes.as_ptr(), codes.len(), c_packed.as_mut_ptr(), plen) };
    assert_eq!(s, vq_status::Ok);
    assert_eq!(c_packed, repacked.as_bytes(), "C pack");

    // The scratch length: the library's, then one a little short or long.
    let need = pq.search_packed_scratch_len(claimed, k, &params);
    let mut c_need = 77usize;
    // SAFETY: a live handle, valid pointers.
    let s = unsafe { vq_pq_search_packed_scratch_len(h, claimed, k, &cp, &mut c_need) };
    let slen = match need {
        Ok(len) => {
            assert_eq!((s, c_need), (vq_status::Ok, len));
            // Bounded: a hostile rerank_factor with many codes must not make the harness
            // allocate gigabytes (the searches refuse a short scratch before using it).
            match scratch_delta {
                0 => len.min(1 << 22),
                1 => len.saturating_sub(1).min(1 << 22),
                _ => len.saturating_add(3).min(1 << 22),
            }
        }
        Err(e) => {
            assert_eq!((s, c_need), (status_of(e), 77));
            16
        }
    };
    let mut scratch = vec![f32::NAN; slen];

    let worst = metric.worst();
    let float_scan = factor != 0
        && k.saturating_mul(factor) >= n
        && pq.check_codes(&codes).is_ok()
        && queries.chunks_exact(dim).all(|q| {
            let mut t = vec![0f32; m * ksub];
            pq.distance_table(q, &mut t).unwrap();
            t.iter().all(|v| v.is_finite())
        });
    for call in 0..4 {
        let (refine, with_scratch) = (call >= 2, call % 2 == 1);
        let view = PackedCodes::from_bytes(m, claimed, &packed[..]);
        let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let want = view.and_then(|v| match (refine, with_scratch) {
            (false, false) => pq.search_packed(&queries, &v, k, &params, &mut wd, &mut wl),
            (false, true) => pq.search_packed_with_scratch(&mut scratch, &queries, &v, k, &params, &mut wd, &mut wl),
            (true, false) => pq.search_packed_refine(&queries, &v, k, &params, &vectors, &mut wd, &mut wl),
            (true, true) => {
                pq.search_packed_refine_with_scratch(&mut scratch, &queries, &v, k, &params, &vectors, &mut wd, &mut wl)
            }
        });
        let (mut cd, mut cl) = (vec![7f32; nq * k], vec![7i64; nq * k]);
        let (q, ql, pp, vp, vl) = (queries.as_ptr(), queries.len(), packed.as_ptr(), vectors.as_ptr(), vectors.len());
        let (sp, dp, lp, len) = (scratch.as_mut_ptr(), cd.as_mut_ptr(), cl.as_mut_ptr(), nq * k);
        // SAFETY: a live handle; every buffer holds the length passed with it.
        let s = unsafe {
            match (refine, with_scratch) {
                (false, false) => vq_pq_search_packed(h, q, ql, pp, plen, claimed, k, &cp, dp, len, lp, len),
                (false, true) => {
                    vq_pq_search_packed_with_scratch(h, q, ql, pp, plen, claimed, k, &cp, sp, slen, dp, len, lp, len)
                }
                (true, false) => {
                    vq_pq_search_packed_refine(h, q, ql, pp, plen, claimed, k, &cp, vp, vl, dp, len, lp, len)
                }
                (true, true) => vq_pq_search_packed_refine_with_scratch(
                    h, q, ql, pp, plen, claimed, k, &cp, vp, vl, sp, slen, dp, len, lp, len,
                ),
            }
        };
        match want {
            Err(e) => {
                assert_eq!(s, status_of(e), "call {call}");
                assert!(cd.iter().all(|&v| v == 7.0) && cl.iter().all(|&v| v == 7), "call {call}: written on failure");
                continue;
            }
            Ok(()) => {
                assert_eq!(s, vq_status::Ok, "call {call}");
                assert!(cd.iter().zip(&wd).all(|(a, b)| same_f32(*a, *b)) && cl == wl, "call {call}: C vs library");
            }
        }
        for (qd, ql) in wd.chunks_exact(k).zip(wl.chunks_exact(k)) {
            for (i, (&score, &label)) in qd.iter().zip(ql).enumerate() {
                assert!(!score.is_nan(), "call {call}: NaN in the results: {qd:?}");
                assert!((-1..claimed as i64).contains(&label), "call {call}: label {label} of {claimed} codes");
                assert!(label != -1 || score == worst, "call {call}: label -1 with score {score}");
                assert!(label == -1 || !ql[..i].contains(&label), "call {call}: label {label} twice: {ql:?}");
                if i > 0 {
                    let ordered = if metric == Metric::L2 { qd[i - 1] <= score } else { qd[i - 1] >= score };
                    assert!(ordered, "call {call}: not ordered: {qd:?}");
                }
                if refine && label >= 0 {
                    let row = &vectors[label as usize * dim..][..dim];
                    assert!(!row.iter().any(|v| v.is_nan()), "refine: a row holding NaN in the results");
                }
            }
        }
        if call == 0 && float_scan && claimed == n {
            let (mut fd, mut fl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            pq.search(&queries, &codes, k, &mut fd, &mut fl).unwrap();
            assert!(wd.iter().zip(&fd).all(|(a, b)| same_f32(*a, *b)) && wl == fl, "the float scan's results");
        }
    }
    // SAFETY: made above, freed once.
    unsafe { vq_pq_free(h.cast_mut()) };
}

/// `search` (a kind's `vq_*_search`) of `nq` queries into fresh buffers; it must succeed.
///
/// # Safety
/// `h` is a live handle of the kind `search` takes.
unsafe fn c_results<H>(
    search: SearchFn<H>,
    h: *const H,
    (queries, nq): (&[f32], usize),
    codes: &[u8],
    k: usize,
) -> (Vec<f32>, Vec<i64>) {
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let (dp, lp) = (d.as_mut_ptr(), l.as_mut_ptr());
    // SAFETY: the buffers hold the lengths passed; `h` by the caller's contract.
    let s =
        unsafe { search(h, queries.as_ptr(), queries.len(), codes.as_ptr(), codes.len(), k, dp, nq * k, lp, nq * k) };
    assert_eq!(s, vq_status::Ok);
    (d, l)
}

/// `vq_rabitq_search_refine` of `h` equals the library's `search_refine` of `rust` (the
/// same quantizer and settings), both succeeding with the same results and count, or
/// failing with the same status and nothing written; returns the library's results.
///
/// # Safety
/// `h` is a live handle.
unsafe fn same_refine(
    h: *const vq_rabitq,
    rust: &RabitqQuantizer,
    (queries, nq): (&[f32], usize),
    codes: &[u8],
    k: usize,
    vectors: &[f32],
) -> Result<(Vec<f32>, Vec<i64>), vq_status> {
    let (mut d, mut l, mut count) = (vec![7f32; nq * k], vec![7i64; nq * k], 77usize);
    // SAFETY: the buffers hold the lengths passed; `h` by the caller's contract.
    let s = unsafe {
        vq_rabitq_search_refine(
            h,
            queries.as_ptr(),
            queries.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            vectors.as_ptr(),
            vectors.len(),
            d.as_mut_ptr(),
            d.len(),
            l.as_mut_ptr(),
            l.len(),
            &mut count,
        )
    };
    let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    match rust.search_refine(queries, codes, k, vectors, &mut wd, &mut wl).map_err(status_of) {
        Ok(n) => {
            assert_eq!(s, vq_status::Ok);
            let same = d.iter().zip(&wd).all(|(a, b)| same_f32(*a, *b));
            assert!(same && l == wl && count == n, "the C refined search is the library's");
            Ok((wd, wl))
        }
        Err(w) => {
            assert_eq!(s, w);
            let untouched = d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7) && count == 77;
            assert!(untouched, "written on failure");
            Err(w)
        }
    }
}

/// The metric call of `c_lifecycle`, from bits 1..=3 of its flags: `None` for the call
/// without a metric (L2), else the number given to the `*_metric` call, out of range
/// (3, `u32::MAX`) for two of the eight values.
fn metric_choice(flags: u8) -> Option<u32> {
    match (flags >> 1) & 7 {
        0 => None,
        s @ 1..=3 => Some(u32::from(s) - 1),
        4 => Some(3),
        5 => Some(u32::MAX),
        s => Some(u32::from(s) - 5), // 6: inner product, 7: cosine
    }
}

/// A kind's `vq_*_search`.
type SearchFn<H> = unsafe extern "C" fn(
    *const H,
    *const f32,
    usize,
    *const u8,
    usize,
    usize,
    *mut f32,
    usize,
    *mut i64,
    usize,
) -> vq_status;

/// One quantizer kind's C calls that `c_lifecycle` drives after training: the exports
/// themselves, as typed function pointers.
struct Calls<H> {
    dim: unsafe extern "C" fn(*const H) -> usize,
    code_size: unsafe extern "C" fn(*const H) -> usize,
    metric: unsafe extern "C" fn(*const H) -> u32,
    encode: unsafe extern "C" fn(*const H, *const f32, usize, *mut u8, usize) -> vq_status,
    search: SearchFn<H>,
    serialized_size: unsafe extern "C" fn(*const H, *mut usize) -> vq_status,
    save_buffer: unsafe extern "C" fn(*const H, *mut u8, usize, *mut usize) -> vq_status,
    load_buffer: unsafe extern "C" fn(*const u8, usize, *mut *mut H) -> vq_status,
    free: unsafe extern "C" fn(*mut H),
}

const PQ_CALLS: Calls<vq_pq> = Calls {
    dim: vq_pq_dim,
    code_size: vq_pq_code_size,
    metric: vq_pq_metric,
    encode: vq_pq_encode,
    search: vq_pq_search,
    serialized_size: vq_pq_serialized_size,
    save_buffer: vq_pq_save_buffer,
    load_buffer: vq_pq_load_buffer,
    free: vq_pq_free,
};

const SQ_CALLS: Calls<vq_sq> = Calls {
    dim: vq_sq_dim,
    code_size: vq_sq_code_size,
    metric: vq_sq_metric,
    encode: vq_sq_encode,
    search: vq_sq_search,
    serialized_size: vq_sq_serialized_size,
    save_buffer: vq_sq_save_buffer,
    load_buffer: vq_sq_load_buffer,
    free: vq_sq_free,
};

const OPQ_CALLS: Calls<vq_opq> = Calls {
    dim: vq_opq_dim,
    code_size: vq_opq_code_size,
    metric: vq_opq_metric,
    encode: vq_opq_encode,
    search: vq_opq_search,
    serialized_size: vq_opq_serialized_size,
    save_buffer: vq_opq_save_buffer,
    load_buffer: vq_opq_load_buffer,
    free: vq_opq_free,
};

const RABITQ_CALLS: Calls<vq_rabitq> = Calls {
    dim: vq_rabitq_dim,
    code_size: vq_rabitq_code_size,
    metric: vq_rabitq_metric,
    encode: vq_rabitq_encode,
    search: vq_rabitq_search,
    serialized_size: vq_rabitq_serialized_size,
    save_buffer: vq_rabitq_save_buffer,
    load_buffer: vq_rabitq_load_buffer,
    free: vq_rabitq_free,
};

/// `x`, `x - 1` or `x + 1`, by `b`: the lengths `c_lifecycle` passes, sometimes off by one.
fn off_by_one(b: u8, x: usize) -> usize {
    match b % 5 {
        0 => x.saturating_sub(1),
        1 => x + 1,
        _ => x,
    }
}

/// The k-means settings `c_lifecycle` trains PQ and OPQ with (`init` 3 is out of range).
fn train_params(inp: &mut Input<'_>) -> vq_train_params {
    vq_train_params {
        seed: inp.u8() as u64,
        iterations: inp.u8() as u32 % 4,
        max_points_per_centroid: inp.u8() as u32 % 5,
        threads: 1,
        init: inp.u8() as u32 % 4,
        nprobe: [0, 1, 3, u32::MAX][inp.u8() as usize % 4],
        hartigan_passes: inp.u8() as u32 % 3,
    }
}

/// The C lifecycle with arbitrary sizes and metrics: train (PQ, SQ, OPQ or RaBitQ, by the
/// call without a metric or a `*_metric` call, whose metric may be out of range), encode,
/// search, save to a buffer, load, free; lengths may be off by one. Every status must be
/// the one the Rust library's error maps to; out-parameters are written only on success;
/// the C search equals the library's, and the metric survives the round trip. An OPQ also
/// has its views, decode, table and scan through the borrowed PQ, search with a caller
/// table (of a right or a wrong length) and composition from parts checked against the
/// library; a RaBitQ (any bits, `qb`, `ε₀` and centroid, in range or not) its views,
/// decode, estimates, refined search, setters and composition from parts.
pub fn c_lifecycle(data: &[u8]) {
    let mut inp = Input(data);
    // Bit 0: SQ; else bit 4: OPQ; else bit 5: RaBitQ; else PQ. Bits 1..=3: the metric call.
    // Bit 7: keep NaNs.
    let flags = inp.u8();
    let choice = metric_choice(flags);
    let metric = crate::metric::metric_arg(choice.unwrap_or(VQ_METRIC_L2)).map_err(|f| f.status);
    let dim = inp.u8() as usize % 20;
    let n = inp.u8() as usize % 70;
    let data_len = off_by_one(inp.u8(), n * dim);
    let mut x = inp.f32s(data_len.min(64));
    x.resize(data_len, 0.0);
    if flags & 0x80 == 0 {
        for v in &mut x {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
    }
    let run = Run { dim, n, x: &x };
    if flags & 1 == 1 {
        let bits = [0, 4, 5, 8, 16][inp.u8() as usize % 5];
        let want = metric.and_then(|metric| {
            let sq = SqBits::from_bits(bits).and_then(|b| ScalarQuantizer::train_for(metric, b, dim, &x));
            sq.map_err(status_of)
        });
        run.trained(
            &mut inp,
            &SQ_CALLS,
            want,
            |o| {
                // SAFETY: `x` holds `data_len` floats; `o` is a valid out-pointer.
                unsafe {
                    match choice {
                        None => vq_sq_train(bits, dim, x.as_ptr(), x.len(), o),
                        Some(c) => vq_sq_train_metric(c, bits, dim, x.as_ptr(), x.len(), o),
                    }
                }
            },
            |_, _, _, _| (),
        );
    } else if flags & 0x30 == 0 {
        let m = inp.u8() as usize % 8;
        let ksub = [0, 1, 2, 3, 16, 17, 64, 256, 300][inp.u8() as usize % 9];
        let p = train_params(&mut inp);
        let want = metric.and_then(|metric| {
            let kmeans = p.to_kmeans(ksub).map_err(|f| f.status)?;
            ProductQuantizer::train(dim, &x, &PqParams { m, ksub, kmeans, metric }).map_err(status_of)
        });
        run.trained(
            &mut inp,
            &PQ_CALLS,
            want,
            |o| {
                // SAFETY: `x` holds `data_len` floats; `o` is a valid out-pointer.
                unsafe {
                    match choice {
                        None => vq_pq_train(dim, m, ksub, x.as_ptr(), x.len(), &p, o),
                        Some(c) => vq_pq_train_metric(c, dim, m, ksub, x.as_ptr(), x.len(), &p, o),
                    }
                }
            },
            |_, _, _, _| (),
        );
    } else if flags & 0x10 == 0 {
        rabitq_lifecycle(&run, &mut inp, choice);
    } else {
        let m = inp.u8() as usize % 8;
        let ksub = [0, 1, 2, 3, 16, 17, 64, 256, 300][inp.u8() as usize % 9];
        let p = vq_opq_params {
            seed: inp.u8() as u64,
            d_out: [0, dim, dim + 1, dim + 3, dim.saturating_sub(1)][inp.u8() as usize % 5],
            niter: inp.u8() as u32 % 3,
            niter_pq: inp.u8() as u32 % 3,
            niter_pq_0: inp.u8() as u32 % 4,
            max_train_points: [0, 1, 16, 65536][inp.u8() as usize % 4],
            inner_points_per_centroid: inp.u8() as u32 % 4,
            kmeans: train_params(&mut inp),
        };
        // The call has no twin without a metric: `None` trains by L2.
        let number = choice.unwrap_or(VQ_METRIC_L2);
        let want = metric.and_then(|metric| {
            let params = p.to_params(metric, m, ksub).map_err(|f| f.status)?;
            vq::OpqQuantizer::train(dim, &x, &params).map_err(status_of)
        });
        let rust = want.clone();
        let train = |o| {
            // SAFETY: `x` holds `data_len` floats; `o` is a valid out-pointer.
            unsafe { vq_opq_train(number, dim, m, ksub, x.as_ptr(), x.len(), &p, o) }
        };
        run.trained(&mut inp, &OPQ_CALLS, want, train, |inp, h, codes, q| {
            opq_views(inp, h, rust.as_ref().expect("trained"), codes, q);
        });
    }
}

/// `c_lifecycle`'s RaBitQ: training settings from the input (bits 0 and 10, `qb` 9, a
/// negative or NaN `ε₀` and a centroid of the wrong length are out of range), then the
/// lifecycle and [`rabitq_calls`].
fn rabitq_lifecycle(run: &Run<'_>, inp: &mut Input<'_>, choice: Option<u32>) {
    let (dim, x) = (run.dim, run.x);
    let bits = [0, 1, 2, 4, 9, 10][inp.u8() as usize % 6];
    let centroid: Vec<f32> = (0..=dim).map(|i| (i % 5) as f32 * 0.25 - 0.5).collect();
    let centroid_len = [0, 0, dim, dim + 1][inp.u8() as usize % 4];
    let p = vq_rabitq_params {
        seed: inp.u8() as u64,
        qb: [0, 1, 4, 8, 9][inp.u8() as usize % 5],
        epsilon: [1.9, 0.0, 20.0, -1.0, f32::NAN][inp.u8() as usize % 5],
        centroid: if centroid_len == 0 { ptr::null() } else { centroid.as_ptr() },
        centroid_len,
    };
    // The call has no twin without a metric: `None` trains by L2.
    let number = choice.unwrap_or(VQ_METRIC_L2);
    let want = crate::metric::metric_arg(number).map_err(|f| f.status).and_then(|metric| {
        // SAFETY: `centroid` holds `centroid_len` floats, or the pointer is NULL with 0.
        let params = unsafe { p.to_params(metric, bits) }.map_err(|f| f.status)?;
        vq::RabitqQuantizer::train(dim, x, &params).map_err(status_of)
    });
    let rust = want.clone();
    let train = |o| {
        // SAFETY: `x` holds `x.len()` floats; `p`'s centroid as above; `o` is valid.
        unsafe { vq_rabitq_train(number, dim, bits, x.as_ptr(), x.len(), &p, o) }
    };
    run.trained(inp, &RABITQ_CALLS, want, train, |inp, h, codes, q| {
        rabitq_calls(inp, h, rust.as_ref().expect("trained"), codes, q, x);
    });
}

/// A RaBitQ's own calls against the library: the views, decode, both estimates and the
/// distances of the first query, a refined search over the encoded rows (whose `vectors`
/// length may be off by one), the setters with values in range or not and a search after
/// them, and the quantizer composed from its parts.
fn rabitq_calls(
    inp: &mut Input<'_>,
    h: *mut vq_rabitq,
    rust: &vq::RabitqQuantizer,
    codes: &[u8],
    q: &[f32],
    x: &[f32],
) {
    let (dim, cs) = (rust.dim(), rust.code_size());
    let rows = codes.len() / cs;
    let same_all = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f32(*x, *y));
    let mut rust = rust.clone();
    // SAFETY: `h` is a live handle used by this thread alone; every buffer holds the length
    // passed with it; the views are read while `h` lives; the handle made here is freed once.
    unsafe {
        let (mut r, mut rl, mut c, mut cl) = (ptr::null(), 0, ptr::null(), 0);
        assert_eq!(vq_rabitq_rotation(h, &mut r, &mut rl), vq_status::Ok);
        assert_eq!(vq_rabitq_centroid(h, &mut c, &mut cl), vq_status::Ok);
        assert!(same_all(std::slice::from_raw_parts(r, rl), rust.rotation()));
        assert!(same_all(std::slice::from_raw_parts(c, cl), rust.centroid()));
        let (mut dec, mut want) = (vec![0f32; rows * dim], vec![0f32; rows * dim]);
        assert_eq!(vq_rabitq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
        rust.decode(codes, &mut want).unwrap();
        assert!(same_all(&dec, &want), "decode");
        // The first query's estimates: the library's, and the full one is the distances.
        let q0 = &q[..dim];
        let (mut dist, mut est, mut half) = (vec![0f32; rows], vec![0f32; rows], vec![0f32; rows]);
        let (mut want_est, mut want_half) = (vec![0f32; rows], vec![0f32; rows]);
        let (e, hw) = (est.as_mut_ptr(), half.as_mut_ptr());
        assert_eq!(
            vq_rabitq_distances(h, q0.as_ptr(), dim, codes.as_ptr(), codes.len(), dist.as_mut_ptr(), rows),
            vq_status::Ok
        );
        assert_eq!(
            vq_rabitq_estimate(h, q0.as_ptr(), dim, codes.as_ptr(), codes.len(), e, rows, hw, rows),
            vq_status::Ok
        );
        rust.estimate(q0, codes, &mut want_est, &mut want_half).unwrap();
        assert!(same_all(&est, &want_est) && same_all(&half, &want_half) && same_all(&est, &dist), "estimate");
        let s = vq_rabitq_estimate_sign(h, q0.as_ptr(), dim, codes.as_ptr(), codes.len(), e, rows, hw, rows);
        assert_eq!(s, vq_status::Ok);
        rust.estimate_sign(q0, codes, &mut want_est, &mut want_half).unwrap();
        assert!(same_all(&est, &want_est) && same_all(&half, &want_half), "estimate_sign");
        // Refined over the encoded rows, maybe with a row too many or too few.
        let k = 1 + inp.u8() as usize % 5;
        let nq = q.len() / dim;
        let vectors_len = off_by_one(inp.u8(), rows * dim);
        let mut vectors = x[..(rows * dim).min(x.len())].to_vec();
        vectors.resize(vectors_len, 0.5);
        let refined = same_refine(h, &rust, (q, nq), codes, k, &vectors);
        assert_eq!(refined.is_err(), vectors_len != rows * dim, "{refined:?}");
        let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        // The setters, in range or not, as the library's; then a search by the new settings.
        let qb = [0, 3, 8, 9][inp.u8() as usize % 4];
        let eps = [0.5, 3.0, -2.0, f32::INFINITY][inp.u8() as usize % 4];
        let want_qb = vq::QueryBits::from_number(qb).and_then(|b| rust.set_qb(b)).map_err(status_of).err();
        let want_eps = rust.set_epsilon(eps).map_err(status_of).err();
        assert_eq!(vq_rabitq_set_query_bits(h, qb), want_qb.unwrap_or(vq_status::Ok));
        assert_eq!(vq_rabitq_set_epsilon(h, eps), want_eps.unwrap_or(vq_status::Ok));
        assert_eq!(
            (vq_rabitq_query_bits(h), vq_rabitq_epsilon(h).to_bits()),
            (rust.qb().number(), rust.epsilon().to_bits())
        );
        let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let s = vq_rabitq_search(
            h,
            q.as_ptr(),
            q.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            d.as_mut_ptr(),
            d.len(),
            l.as_mut_ptr(),
            l.len(),
        );
        assert_eq!(s, vq_status::Ok);
        rust.search(q, codes, k, &mut wd, &mut wl).unwrap();
        assert!(same_all(&d, &wd) && l == wl, "search after the setters");
        // Composed from the views: the same codes.
        let mut again = ptr::null_mut();
        let (bits, metric) = (rust.bits(), rust.metric().number());
        assert_eq!(vq_rabitq_from_parts(metric, dim, bits, r, rl, c, cl, &mut again), vq_status::Ok);
        let mut codes2 = vec![0u8; codes.len()];
        assert_eq!(vq_rabitq_encode(again, x.as_ptr(), rows * dim, codes2.as_mut_ptr(), codes2.len()), vq_status::Ok);
        assert_eq!(codes2, codes, "from parts encodes as the original");
        vq_rabitq_free(again);
    }
}

/// The training data of one `c_lifecycle` input.
struct Run<'a> {
    dim: usize,
    n: usize,
    x: &'a [f32],
}

impl Run<'_> {
    /// Checks a training call (`train`, which writes the handle through its argument)
    /// against the library's result `want`, then encodes, searches, saves and loads through
    /// `calls`, and hands the live handle, its codes and the queries to `then` (the kind's
    /// own checks) before freeing it.
    fn trained<H, Q: Quantizer>(
        &self,
        inp: &mut Input<'_>,
        calls: &Calls<H>,
        want: Result<Q, vq_status>,
        train: impl FnOnce(*mut *mut H) -> vq_status,
        then: impl FnOnce(&mut Input<'_>, *mut H, &[u8], &[f32]),
    ) {
        let (dim, x) = (self.dim, self.x);
        let sentinel = ptr::dangling_mut::<H>();
        let mut out = sentinel;
        let status = train(&mut out);
        assert_eq!(status, want.as_ref().err().copied().unwrap_or(vq_status::Ok));
        let Ok(rust) = want else {
            assert_eq!(out, sentinel, "out-parameter written on failure");
            return;
        };
        // SAFETY: `out` is the live handle just made; every buffer below holds the length
        // passed with it; the handles are freed once (`out` by the caller for an OPQ).
        unsafe {
            assert_eq!((calls.metric)(out), rust.metric().number());
            let cs = (calls.code_size)(out);
            assert_eq!((calls.dim)(out), dim);
            let rows = self.n.min(x.len() / dim);
            let codes_len = off_by_one(inp.u8(), rows * cs);
            let mut codes = vec![0xEEu8; codes_len];
            let enc = |h: *mut H, codes: &mut [u8]| {
                (calls.encode)(h, x.as_ptr(), rows * dim, codes.as_mut_ptr(), codes.len())
            };
            let s = enc(out, &mut codes);
            if codes_len != rows * cs {
                assert_eq!(s, vq_status::BadLength);
                assert!(codes.iter().all(|&b| b == 0xEE), "codes written on failure");
                codes = vec![0; rows * cs];
                assert_eq!(enc(out, &mut codes), vq_status::Ok);
            } else {
                assert_eq!(s, vq_status::Ok);
            }
            let k = inp.u8() as usize % 6;
            let nq = 1 + inp.u8() as usize % 3;
            let q: Vec<f32> = (0..nq * dim).map(|i| (i % 5) as f32).collect();
            let res_len = off_by_one(inp.u8(), nq * k);
            let (mut dist, mut lab) = (vec![-1f32; res_len], vec![-7i64; res_len]);
            let s = (calls.search)(
                out,
                q.as_ptr(),
                q.len(),
                codes.as_ptr(),
                codes.len(),
                k,
                dist.as_mut_ptr(),
                res_len,
                lab.as_mut_ptr(),
                res_len,
            );
            let want = if k == 0 {
                vq_status::InvalidArgument
            } else if res_len != nq * k {
                vq_status::BadLength
            } else {
                vq_status::Ok
            };
            assert_eq!(s, want);
            if s == vq_status::Ok {
                assert!(lab.iter().all(|&l| l >= -1 && l < rows as i64));
                let (mut rd, mut rl) = (vec![0f32; res_len], vec![0i64; res_len]);
                rust.search(&q, &codes, k, &mut rd, &mut rl).unwrap();
                assert_eq!(rl, lab, "the C search is the library's");
                assert!(rd.iter().zip(&dist).all(|(a, b)| same_f32(*a, *b)));
                let worst = rust.metric().worst();
                assert!(lab.iter().zip(&dist).all(|(&l, &d)| l != -1 || d == worst), "sentinel of {}", rust.metric());
            } else {
                assert!(lab.iter().all(|&l| l == -7), "labels written on failure");
            }
            // Save to a buffer (maybe one byte short), load back, same codes.
            let mut size = 0usize;
            assert_eq!((calls.serialized_size)(out, &mut size), vq_status::Ok);
            let short = inp.u8().is_multiple_of(4);
            let mut buf = vec![0u8; if short { size - 1 } else { size }];
            let mut written = 12345usize;
            let s = (calls.save_buffer)(out, buf.as_mut_ptr(), buf.len(), &mut written);
            if short {
                assert_eq!((s, written), (vq_status::BufferTooSmall, 12345));
                buf.resize(size, 0);
                assert_eq!((calls.save_buffer)(out, buf.as_mut_ptr(), buf.len(), &mut written), vq_status::Ok);
            } else {
                assert_eq!(s, vq_status::Ok);
            }
            assert_eq!(written, size);
            let mut back = ptr::null_mut();
            assert_eq!((calls.load_buffer)(buf.as_ptr(), buf.len(), &mut back), vq_status::Ok);
            assert_eq!((calls.metric)(back), rust.metric().number(), "the model file keeps the metric");
            let mut codes2 = vec![0u8; codes.len()];
            assert_eq!(enc(back, &mut codes2), vq_status::Ok);
            assert_eq!(codes, codes2);
            (calls.free)(back);
            then(inp, out, &codes, &q);
            (calls.free)(out);
        }
    }
}

/// An OPQ's own calls against the library: the views, decode, the distance table scanned
/// through the borrowed PQ, search with a caller table of a right or a wrong length, and
/// the quantizer composed from its parts.
fn opq_views(inp: &mut Input<'_>, h: *mut vq_opq, rust: &vq::OpqQuantizer, codes: &[u8], q: &[f32]) {
    let (dim, d_out, cs) = (rust.dim(), rust.d_out(), rust.code_size());
    let rows = codes.len() / cs;
    let same_all = |a: &[f32], b: &[f32]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_f32(*x, *y));
    // SAFETY: `h` is a live handle; every buffer holds the length passed with it; the
    // views are read while `h` lives; the handle made here is freed once.
    unsafe {
        assert_eq!(vq_opq_d_out(h), d_out);
        let (mut r, mut rl, mut c, mut cl) = (ptr::null(), 0, ptr::null(), 0);
        assert_eq!(vq_opq_rotation(h, &mut r, &mut rl), vq_status::Ok);
        assert_eq!(vq_opq_centroids(h, &mut c, &mut cl), vq_status::Ok);
        let rotation = std::slice::from_raw_parts(r, rl);
        assert!(same_all(rotation, rust.rotation()));
        assert!(same_all(std::slice::from_raw_parts(c, cl), rust.pq().centroids()));
        let pq = vq_opq_pq(h);
        assert_eq!((vq_pq_dim(pq), vq_pq_metric(pq)), (d_out, rust.metric().number()));
        let (mut dec, mut want) = (vec![0f32; rows * dim], vec![0f32; rows * dim]);
        assert_eq!(vq_opq_decode(h, codes.as_ptr(), codes.len(), dec.as_mut_ptr(), dec.len()), vq_status::Ok);
        rust.decode(codes, &mut want).unwrap();
        assert!(same_all(&dec, &want), "decode");
        // The table of the first query, scanned by the view, is vq_opq_distances: bit for
        // bit under L2 and inner product; under cosine the table's entries carry the 1/‖q‖
        // that distances applies to each sum, so they agree to the sum's rounding.
        let mut table = vec![0f32; vq_pq_m(pq) * vq_pq_ksub(pq)];
        assert_eq!(vq_opq_distance_table(h, q.as_ptr(), dim, table.as_mut_ptr(), table.len()), vq_status::Ok);
        let (mut scan, mut dist) = (vec![0f32; rows], vec![0f32; rows]);
        let s = vq_pq_adc_scan(pq, table.as_ptr(), table.len(), codes.as_ptr(), codes.len(), scan.as_mut_ptr(), rows);
        assert_eq!(s, vq_status::Ok);
        let s = vq_opq_distances(h, q.as_ptr(), dim, codes.as_ptr(), codes.len(), dist.as_mut_ptr(), rows);
        assert_eq!(s, vq_status::Ok);
        if rust.metric() == vq::Metric::Cosine {
            let m = vq_pq_m(pq);
            let ksub = table.len() / m;
            let bound: f64 =
                table.chunks_exact(ksub).map(|t| t.iter().fold(0f64, |a, &v| a.max(f64::from(v.abs())))).sum();
            let tol = 2.0 * (m as f64 + 2.0) * f64::from(f32::EPSILON) * bound + 1e-30;
            let close = |(a, b): (&f32, &f32)| (f64::from(*a) - f64::from(*b)).abs() <= tol || same_f32(*a, *b);
            assert!(scan.iter().zip(&dist).all(close), "the view's scan is vq_opq_distances (tol {tol})");
        } else {
            assert!(same_all(&scan, &dist), "the view's scan is vq_opq_distances");
        }
        rust.distances(&q[..dim], codes, &mut want[..rows]).unwrap();
        assert!(same_all(&dist, &want[..rows]));
        // Search with a table of either accepted length, or one float short.
        let k = 1 + inp.u8() as usize % 5;
        let nq = q.len() / dim;
        let (long, short) = (vq_opq_search_table_len(h), d_out + vq_pq_m(pq) * vq_pq_ksub(pq));
        let len = [long, short, short - 1][inp.u8() as usize % 3];
        let mut t = vec![0f32; len];
        let (mut d, mut l) = (vec![7f32; nq * k], vec![7i64; nq * k]);
        let s = vq_opq_search_with_table(
            h,
            q.as_ptr(),
            q.len(),
            codes.as_ptr(),
            codes.len(),
            k,
            t.as_mut_ptr(),
            len,
            d.as_mut_ptr(),
            d.len(),
            l.as_mut_ptr(),
            l.len(),
        );
        if len == short - 1 {
            assert_eq!(s, vq_status::InvalidArgument);
            assert!(d.iter().all(|&v| v == 7.0) && l.iter().all(|&v| v == 7), "written on failure");
        } else {
            assert_eq!(s, vq_status::Ok);
            let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
            rust.search(q, codes, k, &mut wd, &mut wl).unwrap();
            assert!(same_all(&d, &wd) && l == wl, "search_with_table is search");
        }
        // Composed from the rotation and the view: the same quantizer.
        let mut again = ptr::null_mut();
        assert_eq!(vq_opq_from_parts(dim, r, rl, pq, &mut again), vq_status::Ok);
        let mut codes2 = vec![0u8; codes.len()];
        let s = vq_opq_encode(again, dec.as_ptr(), dec.len(), codes2.as_mut_ptr(), codes2.len());
        assert_eq!(s, vq_status::Ok);
        let mut want_codes = vec![0u8; codes.len()];
        rust.encode(&dec, &mut want_codes).unwrap();
        assert_eq!(codes2, want_codes, "from parts encodes as the original");
        vq_opq_free(again);
    }
}
