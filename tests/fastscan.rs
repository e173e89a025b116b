//! 4-bit PQ fast scan (`vq::fastscan`): packing, the search against the float-table
//! search it approximates, re-ranking against full vectors, hostile packed bytes and bad
//! input, at every SIMD level.

mod common;
use common::floats;
use vq::exact::knn_with_metric;
use vq::simd::{available, with_level};
use vq::synthetic::GaussianMixture;
use vq::{Error, FastScanParams, Metric, PackedCodes, PqParams, ProductQuantizer, Quantizer};

fn clustered(n: usize, d: usize, seed: u64) -> Vec<f32> {
    let g = GaussianMixture::new(d, 16, 0.5, seed).unwrap();
    let mut v = vec![0f32; n * d];
    g.fill(0, &mut v).unwrap();
    v
}

fn trained(d: usize, m: usize, ksub: usize, metric: Metric, x: &[f32]) -> ProductQuantizer {
    let mut p = PqParams::new(m, ksub);
    p.kmeans.max_iter = 8;
    p.metric = metric;
    ProductQuantizer::train(d, x, &p).unwrap()
}

fn encode(pq: &ProductQuantizer, x: &[f32]) -> Vec<u8> {
    let mut codes = vec![0u8; x.len() / pq.dim() * pq.code_size()];
    pq.encode(x, &mut codes).unwrap();
    codes
}

/// Equal bit for bit (NaN included).
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

fn search_packed(
    pq: &ProductQuantizer,
    q: &[f32],
    codes: &PackedCodes<impl AsRef<[u8]>>,
    k: usize,
    factor: usize,
) -> (Vec<f32>, Vec<i64>) {
    let nq = q.len() / pq.dim();
    let (mut d, mut l) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    pq.search_packed(q, codes, k, &FastScanParams { rerank_factor: factor }, &mut d, &mut l).unwrap();
    (d, l)
}

#[test]
fn packing_round_trips_and_checks_its_input() {
    let (d, n) = (12, 70);
    let x = floats(n * d, 1, 1.0);
    for m in [3usize, 4, 12] {
        let pq = trained(d, m, 16, Metric::L2, &x);
        let codes = encode(&pq, &x);
        let packed = PackedCodes::pack(&pq, &codes).unwrap();
        assert_eq!((packed.len(), packed.m()), (n, m));
        assert_eq!(packed.as_bytes().len(), 3 * 16 * m.div_ceil(2) * 2);
        let mut back = vec![0u8; codes.len()];
        packed.unpack(&mut back).unwrap();
        assert_eq!(back, codes);
        let again = PackedCodes::from_bytes(m, n, packed.as_bytes().to_vec()).unwrap();
        assert_eq!(again, packed);
        let e = PackedCodes::from_bytes(m, n, packed.as_bytes()[1..].to_vec()).unwrap_err();
        assert!(matches!(e, Error::BufferLength { .. }), "{e}");
        assert!(packed.unpack(&mut back[1..]).is_err());
        assert!(PackedCodes::pack(&pq, &codes[1..]).is_err());
    }
    assert!(PackedCodes::from_bytes(0, 0, vec![]).unwrap_err().to_string().contains(">= 1"));
    let x = floats(300 * d, 2, 1.0);
    let pq = trained(d, 4, 256, Metric::L2, &x);
    let e = PackedCodes::pack(&pq, &encode(&pq, &x)).unwrap_err().to_string();
    assert!(e.contains("256") && e.contains("2..=16"), "{e}");
}

#[test]
fn a_full_candidate_list_gives_the_float_scan_bit_for_bit() {
    let (d, n, nq, k) = (24, 300, 5, 10);
    let x = clustered(n, d, 3);
    let q = clustered(nq, d, 4);
    for metric in Metric::ALL {
        for (m, ksub) in [(8usize, 16usize), (5, 16), (6, 9)] {
            let pq = trained(d, m, ksub, metric, &x);
            let codes = encode(&pq, &x);
            let packed = PackedCodes::pack(&pq, &codes).unwrap();
            for &level in available() {
                // The float tables are computed at the level, so the oracle runs there too.
                let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                with_level(level, || pq.search(&q, &codes, k, &mut wd, &mut wl)).unwrap().unwrap();
                let (gd, gl) = with_level(level, || search_packed(&pq, &q, &packed, k, n)).unwrap();
                assert_eq!(gl, wl, "{metric:?} m {m} ksub {ksub} at {level}");
                assert_eq!(gd, wd, "{metric:?} m {m} ksub {ksub} at {level}");
            }
        }
    }
}

/// A code whose entries are finite but whose sum overflows to +∞ is no result, in the
/// re-ranked fast scan as in the float scan: fewer finite codes than `k` leave `(+∞, −1)`.
#[test]
fn sums_that_overflow_are_no_result_as_in_the_float_scan() {
    let (m, ksub, n, k) = (4usize, 16usize, 40usize, 10usize);
    // One dimension per sub-space: centroid 0 at 0, the rest at 1.5e19, so an entry is 0
    // or 2.25e38 (finite) and two large entries sum to +∞.
    let big = 1.5e19f32;
    let centroids: Vec<f32> = (0..m * ksub).map(|i| if i % ksub == 0 { 0.0 } else { big }).collect();
    let pq = ProductQuantizer::from_centroids(m, m, ksub, centroids).unwrap();
    // Rows 0..3 at the origin, 3..7 with one large component, the rest with two or more.
    let x: Vec<f32> = (0..n)
        .flat_map(|r| {
            let large = if r < 3 {
                0
            } else if r < 7 {
                1
            } else {
                2 + r % 3
            };
            (0..m).map(move |j| if j < large { big } else { 0.0 })
        })
        .collect();
    let codes = encode(&pq, &x);
    let packed = PackedCodes::pack(&pq, &codes).unwrap();
    let q = vec![0f32; m];
    for &level in available() {
        let (mut wd, mut wl) = (vec![0f32; k], vec![0i64; k]);
        with_level(level, || pq.search(&q, &codes, k, &mut wd, &mut wl)).unwrap().unwrap();
        assert_eq!(wl, [0, 1, 2, 3, 4, 5, 6, -1, -1, -1], "the float scan at {level}");
        let (gd, gl) = with_level(level, || search_packed(&pq, &q, &packed, k, n)).unwrap();
        assert_eq!((gd, gl), (wd, wl), "at {level}");
    }
}

#[test]
fn the_8bit_scan_finds_the_float_scans_neighbours() {
    let (d, n, nq, k) = (32, 4000, 20, 10);
    let x = clustered(n, d, 5);
    let q = clustered(nq, d, 6);
    for metric in Metric::ALL {
        let pq = trained(d, 16, 16, metric, &x);
        let codes = encode(&pq, &x);
        let packed = PackedCodes::pack(&pq, &codes).unwrap();
        let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        pq.search(&q, &codes, k, &mut wd, &mut wl).unwrap();
        let overlap = |l: &[i64]| {
            let hits: usize = l
                .chunks_exact(k)
                .zip(wl.chunks_exact(k))
                .map(|(a, b)| a.iter().filter(|i| b.contains(i)).count())
                .sum();
            hits as f64 / (nq * k) as f64
        };
        let mut last = None;
        for &level in available() {
            let (raw_d, raw_l) = with_level(level, || search_packed(&pq, &q, &packed, k, 0)).unwrap();
            let (rr_d, rr_l) = with_level(level, || search_packed(&pq, &q, &packed, k, 4)).unwrap();
            // Without re-ranking the 8-bit sums reorder near-ties only; re-ranking 4k
            // candidates restores the float scan's top-k nearly everywhere.
            assert!(overlap(&raw_l) >= 0.8, "{metric:?} at {level}: {}", overlap(&raw_l));
            assert!(overlap(&rr_l) >= 0.97, "{metric:?} at {level}: {}", overlap(&rr_l));
            // Reported without re-ranking: close to the float scores of the same codes.
            let mut adc = vec![0f32; n];
            for (qi, (ds, ls)) in raw_d.chunks_exact(k).zip(raw_l.chunks_exact(k)).enumerate() {
                pq.distances(&q[qi * d..(qi + 1) * d], &codes, &mut adc).unwrap();
                let scale = wd[qi * k..(qi + 1) * k].iter().fold(0f32, |a, v| a.max(v.abs()));
                for (&dv, &l) in ds.iter().zip(ls) {
                    assert!(
                        (dv - adc[l as usize]).abs() <= 0.05 * scale + 1e-3,
                        "{metric:?}: {dv} vs {}",
                        adc[l as usize]
                    );
                }
            }
            // Every level agrees with the others.
            let now = (raw_d, raw_l, rr_d, rr_l);
            if let Some(prev) = &last {
                assert_eq!(prev, &now, "{metric:?} at {level}");
            }
            last = Some(now);
        }
    }
}

/// The candidates the 8-bit sums pick, against a plain oracle: the table quantized as the
/// module docs give it (`a = min(255 / max span, (65535 − m) / Σ spans)`, entries
/// `round(a·(t − min))`), every code's sum in u32, ordered by sum then id. With m = 2 and
/// ksub = 4 few sums are distinct, so the order among equal sums is checked too. Candidate
/// lists from k to every code: the buffer's selection runs many times, once, or never.
#[test]
fn the_candidates_are_the_best_8bit_sums_ties_by_id() {
    let (d, n, nq, k) = (8, 1000, 5, 7);
    let x = clustered(n, d, 8);
    let q = clustered(nq, d, 9);
    for (m, ksub) in [(2, 4), (8, 16)] {
        let pq = trained(d, m, ksub, Metric::L2, &x);
        let codes = encode(&pq, &x);
        let packed = PackedCodes::pack(&pq, &codes).unwrap();
        let layout = pq.layout();
        let mut float = vec![0f32; n];
        for factor in [0, 1, 3, 50, 143, 200] {
            let kept = (k * factor.max(1)).min(n);
            for &level in available() {
                let (got_d, got_l) = with_level(level, || search_packed(&pq, &q, &packed, k, factor)).unwrap();
                for (qi, query) in q.chunks_exact(d).enumerate() {
                    let mut table = vec![0f32; m * ksub];
                    pq.distance_table(query, &mut table).unwrap();
                    let rows: Vec<&[f32]> = table.chunks_exact(ksub).collect();
                    let low = |r: &[f32]| r.iter().fold(f32::INFINITY, |a, &v| a.min(v));
                    let span =
                        |r: &[f32]| f64::from(r.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v))) - f64::from(low(r));
                    let max_span = rows.iter().map(|r| span(r)).fold(0f64, f64::max);
                    let sum_span: f64 = rows.iter().map(|r| span(r)).sum();
                    let a = (255.0 / max_span).min((65535.0 - m as f64) / sum_span);
                    let entry =
                        |j: usize, c: usize| ((f64::from(rows[j][c]) - f64::from(low(rows[j]))) * a).round() as u32;
                    let mut by_sum: Vec<(u32, usize)> = codes
                        .chunks_exact(pq.code_size())
                        .enumerate()
                        .map(|(i, row)| ((0..m).map(|j| entry(j, layout.get(row, j) as usize)).sum(), i))
                        .collect();
                    by_sum.sort_unstable();
                    let candidates = &by_sum[..kept];
                    let want: Vec<i64> = if factor == 0 {
                        candidates.iter().map(|&(_, i)| i as i64).take(k).collect()
                    } else {
                        // Re-ranked with the float table: the candidates by float score, then id.
                        pq.distances(query, &codes, &mut float).unwrap();
                        let mut by_score: Vec<(f32, usize)> = candidates.iter().map(|&(_, i)| (float[i], i)).collect();
                        by_score.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        by_score.iter().map(|&(_, i)| i as i64).take(k).collect()
                    };
                    let what = format!("m = {m}, ksub = {ksub}, factor {factor}, query {qi} at {level}");
                    assert_eq!(&got_l[qi * k..(qi + 1) * k], &want[..], "{what}");
                    if factor > 0 {
                        // `distances` may sum in another order than the scan: equal up to rounding.
                        for (&g, &i) in got_d[qi * k..(qi + 1) * k].iter().zip(&want) {
                            let w = float[i as usize];
                            assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{what}: {g} vs {w}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn refining_against_full_vectors_with_every_candidate_is_exact_search() {
    let (d, n, nq, k) = (16, 500, 4, 7);
    let x = clustered(n, d, 7);
    let q = clustered(nq, d, 8);
    for metric in Metric::ALL {
        let pq = trained(d, 8, 16, metric, &x);
        let packed = PackedCodes::pack(&pq, &encode(&pq, &x)).unwrap();
        let (mut ed, mut el) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        knn_with_metric(metric, d, &q, &x, k, &mut ed, &mut el).unwrap();
        let (mut gd, mut gl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let p = FastScanParams { rerank_factor: n };
        pq.search_packed_refine(&q, &packed, k, &p, &x, &mut gd, &mut gl).unwrap();
        assert_eq!(gl, el, "{metric:?}");
        for (a, b) in gd.iter().zip(&ed) {
            assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{metric:?}: {a} vs {b}");
        }
        let e = pq.search_packed_refine(&q, &packed, k, &FastScanParams { rerank_factor: 0 }, &x, &mut gd, &mut gl);
        assert!(e.unwrap_err().to_string().contains("rerank_factor"));
        let e = pq.search_packed_refine(&q, &packed, k, &p, &x[d..], &mut gd, &mut gl);
        assert!(e.is_err());
    }
}

#[test]
fn hostile_packed_bytes_and_bad_input() {
    let (d, n, k) = (10, 77, 5);
    let x = floats(n * d, 9, 1.0);
    let q = floats(2 * d, 10, 1.0);
    for ksub in [16usize, 5] {
        let pq = trained(d, 5, ksub, Metric::L2, &x);
        let len = PackedCodes::packed_len(5, n).unwrap();
        let junk: Vec<u8> = floats(len, 11, 1.0).iter().map(|v| v.to_bits() as u8).collect();
        let packed = PackedCodes::from_bytes(5, n, junk).unwrap();
        for &level in available() {
            for factor in [0usize, 1, 4, n] {
                let (dist, lab) = with_level(level, || search_packed(&pq, &q, &packed, k, factor)).unwrap();
                // A code with a sub-code at or above ksub scores NaN and is never a result.
                for (&l, &dv) in lab.iter().zip(&dist) {
                    let ok = ((0..n as i64).contains(&l) && dv.is_finite()) || (l == -1 && dv == f32::INFINITY);
                    assert!(ok, "ksub {ksub}: {l} {dv}");
                }
                if ksub == 16 {
                    assert!(lab.iter().all(|&l| l >= 0), "every 4-bit sub-code is valid");
                }
            }
        }
        // Codes of another m, k = 0, short outputs, NaN queries.
        let other = PackedCodes::from_bytes(4, n, vec![0; PackedCodes::packed_len(4, n).unwrap()]).unwrap();
        let (mut dd, mut ll) = (vec![0f32; 2 * k], vec![0i64; 2 * k]);
        let p = FastScanParams::default();
        let e = pq.search_packed(&q, &other, k, &p, &mut dd, &mut ll).unwrap_err().to_string();
        assert!(e.contains("m") && e.contains('4') && e.contains('5'), "{e}");
        assert!(pq.search_packed(&q, &packed, 0, &p, &mut dd, &mut ll).is_err());
        assert!(pq.search_packed(&q, &packed, k, &p, &mut dd[1..], &mut ll).is_err());
        let mut bad = q.clone();
        bad[3] = f32::NAN;
        assert!(matches!(pq.search_packed(&bad, &packed, k, &p, &mut dd, &mut ll), Err(Error::NonFinite { .. })));
        let huge = FastScanParams { rerank_factor: usize::MAX };
        assert!(pq
            .search_packed(&q, &packed, k, &huge, &mut dd, &mut ll)
            .unwrap_err()
            .to_string()
            .contains("rerank_factor"));
    }
    let x = floats(100 * d, 13, 1.0);
    let pq = trained(d, 5, 64, Metric::L2, &x);
    let packed = PackedCodes::from_bytes(5, n, vec![0; PackedCodes::packed_len(5, n).unwrap()]).unwrap();
    let (mut dd, mut ll) = (vec![0f32; 2 * k], vec![0i64; 2 * k]);
    let e = pq.search_packed(&q, &packed, k, &FastScanParams::default(), &mut dd, &mut ll).unwrap_err();
    assert!(e.to_string().contains("2..=16"), "{e}");
}

#[test]
fn an_empty_or_short_code_set_pads_with_sentinels() {
    let (d, k) = (8, 5);
    let x = floats(3 * d, 12, 1.0);
    let pq = trained(d, 4, 2, Metric::InnerProduct, &x);
    for n in [0usize, 3] {
        let packed = PackedCodes::pack(&pq, &encode(&pq, &x[..n * d])).unwrap();
        let (dist, lab) = search_packed(&pq, &x[..d], &packed, k, 4);
        assert_eq!(lab[n..], vec![-1; k - n][..]);
        assert!(dist[n..].iter().all(|&v| v == f32::NEG_INFINITY));
        assert!(lab[..n].iter().all(|&l| (0..n as i64).contains(&l)));
    }
}

#[test]
fn caller_scratch_and_borrowed_codes_give_search_packed_bit_for_bit() {
    let (d, n, nq, k) = (20, 150, 6, 7);
    let x = clustered(n, d, 14);
    let q = clustered(nq, d, 15);
    for metric in Metric::ALL {
        for (m, ksub) in [(5usize, 16usize), (4, 11)] {
            let pq = trained(d, m, ksub, metric, &x);
            let codes = encode(&pq, &x);
            let owned = PackedCodes::pack(&pq, &codes).unwrap();
            // Packed into a caller buffer (its old contents do not matter) and borrowed.
            let mut buf = vec![0xA5u8; PackedCodes::packed_len(m, n).unwrap()];
            let view = PackedCodes::pack_into(&pq, &codes, &mut buf).unwrap();
            assert_eq!(view, owned.view());
            assert_eq!(view.as_bytes(), owned.as_bytes());
            let mut back = vec![0u8; codes.len()];
            view.unpack(&mut back).unwrap();
            assert_eq!(back, codes);
            let borrowed = PackedCodes::from_bytes(m, n, owned.as_bytes()).unwrap();
            for factor in [0usize, 1, FastScanParams::default().rerank_factor, n] {
                let p = FastScanParams { rerank_factor: factor };
                let want = search_packed(&pq, &q, &owned, k, factor);
                let len = pq.search_packed_scratch_len(n, k, &p).unwrap();
                // Exactly long enough, and longer (sized for more codes), either full of NaN.
                for extra in [0usize, 13] {
                    let mut scratch = vec![f32::NAN; len + extra];
                    let (mut gd, mut gl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                    pq.search_packed_with_scratch(&mut scratch, &q, &borrowed, k, &p, &mut gd, &mut gl).unwrap();
                    assert!(same_bits(&gd, &want.0) && gl == want.1, "{metric:?} m {m} factor {factor}");
                }
                let got = search_packed(&pq, &q, &view, k, factor);
                assert!(same_bits(&got.0, &want.0) && got.1 == want.1, "view vs owned, {metric:?}");
                // One byte short of the scratch it needs: refused, naming both lengths.
                let mut short = vec![0f32; len - 1];
                let (mut gd, mut gl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                let e = pq.search_packed_with_scratch(&mut short, &q, &owned, k, &p, &mut gd, &mut gl).unwrap_err();
                let e = e.to_string();
                assert!(
                    e.contains("scratch length") && e.contains(&(len - 1).to_string()) && e.contains(&len.to_string()),
                    "{e}"
                );
                if factor == 0 {
                    continue;
                }
                let (mut wd, mut wl) = (vec![0f32; nq * k], vec![0i64; nq * k]);
                pq.search_packed_refine(&q, &owned, k, &p, &x, &mut wd, &mut wl).unwrap();
                let mut scratch = vec![f32::NAN; len];
                pq.search_packed_refine_with_scratch(&mut scratch, &q, &view, k, &p, &x, &mut gd, &mut gl).unwrap();
                assert!(same_bits(&gd, &wd) && gl == wl, "refine, {metric:?} m {m} factor {factor}");
                let e = pq.search_packed_refine_with_scratch(&mut short, &q, &view, k, &p, &x, &mut gd, &mut gl);
                assert!(e.unwrap_err().to_string().contains("scratch length"));
            }
            // A buffer sized for more codes and a larger k serves fewer.
            let p = FastScanParams::default();
            assert!(
                pq.search_packed_scratch_len(10 * n, k, &p).unwrap() >= pq.search_packed_scratch_len(n, k, &p).unwrap()
            );
            assert!(
                pq.search_packed_scratch_len(n, k + 1, &p).unwrap() >= pq.search_packed_scratch_len(n, k, &p).unwrap()
            );
            // pack_into needs exactly packed_len bytes.
            let mut long = vec![0u8; buf.len() + 1];
            let e = PackedCodes::pack_into(&pq, &codes, &mut long).unwrap_err().to_string();
            assert!(e.contains("packed codes") && e.contains(&buf.len().to_string()), "{e}");
        }
    }
    // The scratch length refuses what a search refuses up front: more than 16 centroids per
    // sub-quantizer, a candidate count that overflows.
    let pq = trained(d, 4, 64, Metric::L2, &x);
    let e = pq.search_packed_scratch_len(n, k, &FastScanParams::default()).unwrap_err().to_string();
    assert!(e.contains("64") && e.contains("2..=16"), "{e}");
    let pq = trained(d, 4, 16, Metric::L2, &x);
    let e = pq.search_packed_scratch_len(usize::MAX, 2, &FastScanParams { rerank_factor: usize::MAX });
    assert!(e.unwrap_err().to_string().contains("rerank_factor"));
}

// ---------------------------------------------------------------------------------------
// The debian-minilm figures of issue 15 (not a unit test: it prints, and checks the targets).

#[cfg(feature = "data")]
#[path = "common/minilm.rs"]
mod minilm;

#[cfg(feature = "data")]
#[test]
#[ignore = "reads /work/shared/data/debian-minilm (or VQ_MINILM_DIR) and prints the issue's figures"]
fn minilm_figures() {
    use vq::metrics::recall_at_k;
    let minilm::Minilm { base, queries, dim: d, truth: gt, truth_k: gk } = minilm::load();
    let (n, nq, k) = (base.len() / d, queries.len() / d, 10);
    eprintln!("debian-minilm: {n} × {d}, {nq} queries, recall@10");
    // FAISS 1.15's w9 on these files: IndexRefineFlat (k_factor 4) per m.
    for (m, faiss_refine) in [(32usize, 0.7897), (64, 0.9422)] {
        let mut p = PqParams::new(m, 16);
        p.kmeans.threads = 2;
        let pq = ProductQuantizer::train(d, &base, &p).unwrap();
        let codes = encode(&pq, &base);
        let packed = PackedCodes::pack(&pq, &codes).unwrap();
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        let recall = |lab: &[i64]| recall_at_k(&gt, gk, lab, k, k).unwrap();
        pq.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        let float = recall(&lab);
        eprintln!("m {m}: float-table scan {float:.4}");
        for factor in [0usize, 1, 2, 3, 4, 8, 16] {
            let params = FastScanParams { rerank_factor: factor };
            pq.search_packed(&queries, &packed, k, &params, &mut dist, &mut lab).unwrap();
            let fast = recall(&lab);
            let refined = if factor > 0 {
                pq.search_packed_refine(&queries, &packed, k, &params, &base, &mut dist, &mut lab).unwrap();
                format!(", against full vectors {:.4}", recall(&lab))
            } else {
                String::new()
            };
            eprintln!("  rerank_factor {factor:2}: fast scan {fast:.4}{refined}");
            if factor == FastScanParams::default().rerank_factor {
                assert!(fast >= float - 0.005, "m {m}: {fast} against the float scan's {float}");
                let r = recall(&lab);
                assert!(r >= faiss_refine - 0.005, "m {m}: refined {r} against FAISS's {faiss_refine}");
            }
        }
    }
}
