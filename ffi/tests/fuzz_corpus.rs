//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/*`) through the same harness
//! bodies the cargo-fuzz targets run, on stable: every input that ever found a bug, and the
//! seeds, stay a regression test of the README's test command. The harnesses are behind
//! vq-ffi's `fuzzing` feature, which this test requires (`--all-features` or
//! `--features fuzzing`).

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: no corpus committed", dir.display());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        if let Err(e) = std::panic::catch_unwind(|| harness(&data)) {
            std::panic::resume_unwind(Box::new(format!("{target}: input {} failed: {e:?}", f.display())));
        }
    }
    eprintln!("{target}: {} inputs replayed", files.len());
}

#[test]
fn load_model_corpus() {
    replay("load_model", vq_ffi::fuzzing::load_model);
}

#[test]
fn sq_search_corpus() {
    replay("sq_search", vq_ffi::fuzzing::sq_search);
}

#[test]
fn pq_adc_corpus() {
    replay("pq_adc", vq_ffi::fuzzing::pq_adc);
}

#[test]
fn c_lifecycle_corpus() {
    replay("c_lifecycle", vq_ffi::fuzzing::c_lifecycle);
}

#[test]
fn rabitq_estimate_corpus() {
    replay("rabitq_estimate", vq_ffi::fuzzing::rabitq_estimate);
}

#[test]
fn fastscan_packed_corpus() {
    replay("fastscan_packed", vq_ffi::fuzzing::fastscan_packed);
}

/// Not a test: writes the hand-made seeds (`fuzz/corpus/<target>/seed-*`: valid
/// model files of every kind and code layout, and structured inputs for the other targets),
/// from which the fuzzer grows the corpus. The seeds are committed and replayed by the tests
/// above; rerun this when their layout changes (a new model-file format version, a harness
/// that reads its input differently), then review and commit the rewritten files:
///
/// `cargo test -p vq-ffi --features fuzzing --test fuzz_corpus -- --ignored`
#[test]
#[ignore = "writes fuzz/corpus/*/seed-*; run by hand with --ignored"]
fn seeds() {
    use vq::{
        Metric, OpqParams, OpqQuantizer, PqParams, ProductQuantizer, Quantizer, QueryBits, RabitqParams,
        RabitqQuantizer, ScalarQuantizer, SqBits,
    };
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let d = corpus.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{name}")), bytes).unwrap();
    };
    let data: Vec<f32> = (0..40 * 10).map(|i| ((i * 7919) % 1009) as f32 / 1009.0 - 0.5).collect();
    let mut p = PqParams::new(3, 16);
    p.kmeans.max_iter = 2;
    let pq = ProductQuantizer::train(10, &data, &p).unwrap();
    write("load_model", "pq-nibble", &pq.to_bytes());
    let cents: Vec<f32> = (0..300 * 4).map(|i| i as f32).collect();
    write("load_model", "pq-u16", &ProductQuantizer::from_centroids(4, 2, 300, cents).unwrap().to_bytes());
    for bits in [SqBits::B4, SqBits::B8, SqBits::B16] {
        let sq = ScalarQuantizer::train(bits, 7, &data[..70]).unwrap();
        write("load_model", &format!("sq{}", bits.bits()), &sq.to_bytes());
    }
    // Inner-product and cosine models: their METR section.
    p.metric = Metric::InnerProduct;
    write("load_model", "pq-nibble-ip", &ProductQuantizer::train(10, &data, &p).unwrap().to_bytes());
    p.metric = Metric::Cosine;
    write("load_model", "pq-nibble-cosine", &ProductQuantizer::train(10, &data, &p).unwrap().to_bytes());
    let sq = ScalarQuantizer::train_for(Metric::InnerProduct, SqBits::B8, 7, &data[..70]).unwrap();
    write("load_model", "sq8-ip", &sq.to_bytes());
    let sq = ScalarQuantizer::train_for(Metric::Cosine, SqBits::B4, 7, &data[..70]).unwrap();
    write("load_model", "sq4-cosine", &sq.to_bytes());
    // OPQ models (kind 3): a rotation padded to d_out = 12 > dim (L2), and a square one
    // with the METR section (inner product).
    let mut o = OpqParams::new(3, 16);
    (o.d_out, o.niter, o.niter_pq, o.niter_pq_0, o.kmeans.max_iter) = (Some(12), 2, 1, 2, 2);
    write("load_model", "opq", &OpqQuantizer::train(10, &data, &o).unwrap().to_bytes());
    (o.d_out, o.metric) = (None, Metric::InnerProduct);
    write("load_model", "opq-ip", &OpqQuantizer::train(10, &data, &o).unwrap().to_bytes());
    // RaBitQ models (kind 4): trained at 1 bit (L2), at 4 bits with a float query and the
    // METR section (inner product), and from parts at 9 bits without a seed (cosine).
    let mut r = RabitqParams::new(1);
    r.seed = 9;
    write("load_model", "rabitq-1bit", &RabitqQuantizer::train(10, &data, &r).unwrap().to_bytes());
    (r.bits, r.qb, r.metric, r.epsilon) = (4, QueryBits::Float, Metric::InnerProduct, 2.6);
    let ip = RabitqQuantizer::train(10, &data, &r).unwrap();
    write("load_model", "rabitq-4bit-ip-float", &ip.to_bytes());
    let parts =
        RabitqQuantizer::from_parts(10, 9, Metric::Cosine, ip.rotation().to_vec(), ip.centroid().to_vec()).unwrap();
    write("load_model", "rabitq-9bit-cosine-parts", &parts.to_bytes());
    // Structured inputs: a header of small counts, then bytes that read as moderate floats
    // (0x3F = exponent of 0.5..2).
    let floats = |n: usize| -> Vec<u8> { (0..n).flat_map(|i| [i as u8, (i * 7) as u8, 0x40, 0x3F]).collect() };
    for (name, head) in [("b4", [0u8, 9, 20, 2, 5]), ("b8", [1, 16, 33, 4, 10]), ("b16", [2, 3, 7, 1, 3])] {
        let mut v = head.to_vec();
        v.extend(floats(400));
        write("sq_search", name, &v);
    }
    for (name, head) in
        [("nibble", vec![2u8, 0, 3, 10]), ("byte", vec![3, 1, 1, 12]), ("u16", vec![1, 5, 0x10, 0, 2, 8])]
    {
        let mut v = head;
        v.extend(floats(300));
        write("pq_adc", name, &v);
    }
    // c_lifecycle: flags (bit 0: SQ; bits 1..=3: the metric call, see `metric_choice`),
    // dim, n, exact length, floats, then PQ / SQ parameters.
    for (name, flags) in [("pq16", 0u8), ("pq16-ip", 6 << 1), ("pq16-cosine", 7 << 1), ("pq16-bad-metric", 4 << 1)] {
        let mut v = vec![flags, 8, 40, 2];
        v.extend(floats(64));
        v.extend([2, 4, 9, 2, 4, 1, 2, 3, 1, 2, 1]);
        write("c_lifecycle", name, &v);
    }
    for (name, flags) in [("sq8", 1u8), ("sq8-ip", 1 | 2 << 1), ("sq8-cosine", 1 | 3 << 1)] {
        let mut v = vec![flags, 6, 30, 2];
        v.extend(floats(64));
        v.extend([3, 2, 4, 2, 2, 0]);
        write("c_lifecycle", name, &v);
    }
    // OPQ (flags bit 4): m, ksub index, seed, d_out index (dim, dim + 1, dim + 3, dim - 1),
    // niter, niter_pq, niter_pq_0, max_train_points index, inner points per centroid, the
    // k-means settings, the lifecycle bytes, then k and the table-length index (long,
    // short, one short) of search_with_table.
    for (name, flags, d_out, table) in [
        ("opq", 0x10u8, 2u8, 0u8),
        ("opq-ip", 0x10 | 6 << 1, 0, 1),
        ("opq-cosine", 0x10 | 7 << 1, 3, 2),
        ("opq-bad-d-out", 0x10, 4, 0),
    ] {
        let mut v = vec![flags, 8, 40, 2];
        v.extend(floats(64));
        v.extend([2, 4, 9, d_out, 2, 1, 2, 3, 2]);
        v.extend([3, 2, 4, 1, 0, 0]);
        v.extend([2, 4, 2, 2, 1, 3, table]);
        write("c_lifecycle", name, &v);
    }
    // RaBitQ (flags bit 5): bits index (1, 2, 4, 9; 0 and 10 out of range), centroid index
    // (none, given, one too long), seed, qb index (0, 1, 4, 8, 9), epsilon index (1.9, 0,
    // 20, -1, NaN), the lifecycle bytes, then k, the vectors' length (exact, one short, one
    // over) and the setters' qb and epsilon indices.
    for (name, flags, params) in [
        ("rabitq", 0x20u8, [1u8, 0, 9, 2, 0]),
        ("rabitq-ip-4bit-float", 0x20 | 6 << 1, [3, 2, 9, 0, 2]),
        ("rabitq-cosine-9bit", 0x20 | 7 << 1, [4, 0, 9, 3, 0]),
        ("rabitq-bad-centroid", 0x20, [2, 3, 9, 2, 0]),
    ] {
        let mut v = vec![flags, 8, 40, 2];
        v.extend(floats(64));
        v.extend(params);
        v.extend([2, 4, 2, 2, 1]);
        v.extend([3, 2, 1, 1]);
        write("c_lifecycle", name, &v);
    }
    // rabitq_estimate: dim - 1, bits - 1, metric, qb, epsilon index (0, 1.9, 3, 20, 1e30),
    // n, nq - 1, k - 1, seed; two training rows; then valid codes of n rows (so the fuzzer
    // starts from real factors and bits), nq queries and the n rows as the full vectors.
    // The last seed overwrites three codes' factors with NaN and infinity.
    let varied = |n: usize, seed: u32| -> Vec<u8> {
        let mut s = seed;
        (0..n)
            .flat_map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((s >> 8) as f32 / 8_388_608.0 - 1.0).to_le_bytes()
            })
            .collect()
    };
    let as_f32 =
        |b: &[u8]| -> Vec<f32> { b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect() };
    for (name, head) in [
        ("l2-1bit", [39u8, 0, 0, 4, 1, 20, 1, 4, 7]),
        ("ip-4bit-float", [69, 3, 1, 0, 3, 30, 2, 9, 8]),
        ("cosine-9bit", [16, 8, 2, 8, 0, 12, 3, 3, 9]),
        ("l2-2bit-hostile", [63, 1, 0, 2, 2, 16, 0, 5, 10]),
    ] {
        let (dim, bits, n, nq) = (head[0] as usize + 1, u32::from(head[1]) + 1, head[5] as usize, head[6] as usize + 1);
        let mut v = head.to_vec();
        let train = varied(2 * dim, 1);
        let mut p = RabitqParams::new(bits);
        (p.metric, p.qb, p.seed) = (
            [Metric::L2, Metric::InnerProduct, Metric::Cosine][head[2] as usize],
            QueryBits::from_number(u32::from(head[3])).unwrap(),
            u64::from(head[8]),
        );
        p.epsilon = [0.0, 1.9, 3.0, 20.0, 1e30][head[4] as usize];
        let q = RabitqQuantizer::train(dim, &as_f32(&train), &p).unwrap();
        let rows = varied(n * dim, 2);
        let mut codes = vec![0u8; n * q.code_size()];
        q.encode(&as_f32(&rows), &mut codes).unwrap();
        if name.ends_with("hostile") {
            let (cs, plane) = (q.code_size(), 8 * dim.div_ceil(64));
            codes[plane..plane + 12].fill(0xFF); // code 0: NaN sign factors
            codes[cs + plane..cs + plane + 4].copy_from_slice(&f32::INFINITY.to_le_bytes()); // code 1: add = inf
            codes[3 * cs - 8..3 * cs].fill(0xFF); // code 2: NaN extended factors
        }
        v.extend(train);
        v.extend(codes);
        v.extend(varied(nq * dim, 3));
        v.extend(rows);
        write("rabitq_estimate", name, &v);
    }
    // fastscan_packed: m - 1, ksub - 2, dim - m, metric, n, nq - 1, k - 1, the
    // rerank_factor choice (0, 1, 4, n, usize::MAX, else 5..=7 plus the next byte), the
    // claimed n choice (n + 32, n - 32, n + 1, else n), the scratch length choice (exact,
    // one short, else three over); then the centroids, packed bytes, queries and vectors as
    // moderate floats and bytes.
    for (name, head) in [
        ("l2-m5-ksub16-every-code", vec![4u8, 14, 1, 0, 70, 3, 9, 3, 3, 0]),
        ("ip-m4-ksub9-default", vec![3, 7, 0, 1, 45, 4, 4, 2, 3, 2]),
        ("cosine-m3-ksub5-refine", vec![2, 3, 2, 2, 33, 1, 6, 5, 4, 2, 3]),
        ("l2-short-scratch", vec![5, 14, 0, 0, 40, 2, 5, 1, 3, 1]),
        ("l2-claims-more-codes", vec![1, 14, 1, 0, 20, 0, 3, 1, 0, 0]),
    ] {
        let mut v = head;
        v.extend(floats(600));
        write("fastscan_packed", name, &v);
    }
}
