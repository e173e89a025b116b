use super::pq::{HART, KIND as KIND_PQ, PARM_LEN as PQ_PARM};
use super::reader::{nonfinite, u32_at, u64_at, CHUNK};
use super::sq::{KIND as KIND_SQ, PARM_LEN as SQ_PARM};
use super::testing::reseal;
use super::writer::{f32_bytes, write_file};
use super::*;
use crate::kmeans::{Assignment, Init, KMeansParams};
use crate::quantizer::Quantizer;
use crate::{PqParams, SqBits};

/// The quantizer with another training record (`None`: as if built from centroids).
fn with_record(pq: &ProductQuantizer, training: Option<KMeansParams>) -> ProductQuantizer {
    let mut q = pq.clone();
    q.training = training;
    q
}

fn bare(pq: &ProductQuantizer) -> ProductQuantizer {
    with_record(pq, None)
}

/// The training record of a file's product quantizer.
fn record(f: ModelFile) -> Option<KMeansParams> {
    match f.model {
        Model::Pq(pq) => pq.training().cloned(),
        Model::Opq(opq) => opq.pq().training().cloned(),
        Model::Sq(_) | Model::Rabitq(_) => panic!("no k-means training record"),
    }
}

fn small_pq() -> (ProductQuantizer, PqParams) {
    let (d, n) = (10, 300);
    let data: Vec<f32> = (0..n * d).map(|i| ((i * 7919) % 1009) as f32 / 1009.0 - 0.5).collect();
    let mut p = PqParams::new(3, 16);
    p.kmeans.max_iter = 5;
    p.kmeans.seed = 77;
    (ProductQuantizer::train(d, &data, &p).unwrap(), p)
}

#[test]
fn pq_round_trip_keeps_everything() {
    let (pq, p) = small_pq();
    let bytes = pq.to_bytes();
    assert_eq!(&bytes[..8], &MAGIC);
    let f = read_bytes(&bytes).unwrap();
    assert_eq!(f.model, Model::Pq(pq.clone()));
    let mut want = p.kmeans.clone();
    want.k = 16;
    assert_eq!(record(f.clone()), Some(want.clone()));
    assert_eq!(f.library_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(f.format_version, 1);
    assert_eq!(ProductQuantizer::from_bytes(&bare(&pq).to_bytes()).unwrap(), pq);
    assert_eq!(record(read_bytes(&bare(&pq).to_bytes()).unwrap()), None);
    // A loaded quantizer builds its encoder's codebook on first use and encodes alike.
    let Model::Pq(loaded) = f.model else { unreachable!("checked above") };
    let x: Vec<f32> = (0..50 * 10).map(|i| ((i * 31) % 97) as f32 / 97.0 - 0.5).collect();
    let (mut a, mut b) = (vec![0u8; 50 * pq.code_size()], vec![0u8; 50 * pq.code_size()]);
    pq.encode(&x, &mut a).unwrap();
    loaded.encode(&x, &mut b).unwrap();
    assert_eq!(a, b);
    // Every seeding, both assignments and the Hartigan passes survive the round trip.
    for (init, assignment, passes) in [
        (Init::GreedyPlusPlus, Assignment::Coarse { nprobe: 16 }, 0),
        (Init::Random, Assignment::Coarse { nprobe: 1 }, 3),
        (Init::PlusPlus, Assignment::Exact, u32::MAX as usize),
    ] {
        let mut t = want.clone();
        (t.init, t.assignment, t.hartigan_passes) = (init, assignment, passes);
        let bytes = with_record(&pq, Some(t.clone())).to_bytes();
        assert_eq!(record(read_bytes(&bytes).unwrap()), Some(t));
        // The pass count lives in an optional section, there only when non-zero.
        assert_eq!(bytes.windows(4).any(|w| w == HART), passes > 0);
    }
}

#[test]
fn hartigan_section_is_optional_and_checked() {
    let (pq, p) = small_pq();
    let parm_of = |b: &[u8]| {
        let off = u64_at(b, HEADER + 8) as usize;
        b[off..off + PQ_PARM].to_vec()
    };
    let parm = &parm_of(&pq.to_bytes());
    let cent = f32_bytes(pq.centroids());
    let file = |parm: &[u8], hart: &[u8]| write_file(KIND_PQ, &[(*b"PARM", parm), (*b"CENT", &cent), (HART, hart)]);
    let t = record(read_bytes(&file(parm, &7u64.to_le_bytes())).unwrap()).unwrap();
    assert_eq!(t, KMeansParams { hartigan_passes: 7, ..p.kmeans.clone() });
    let e = read_bytes(&file(parm, &[7, 0, 0, 0])).unwrap_err().to_string();
    assert!(e.contains("section hart has 4 bytes, expected 8"), "{e}");
    let untrained = &parm_of(&bare(&pq).to_bytes());
    let e = read_bytes(&file(untrained, &7u64.to_le_bytes())).unwrap_err().to_string();
    assert!(e.contains("without a training record"), "{e}");
    // Its checksum is checked like any other's.
    let mut b = file(parm, &7u64.to_le_bytes());
    let last = b.len() - 1;
    b[last] ^= 1;
    assert!(read_bytes(&b).unwrap_err().to_string().contains("checksum"));
}

#[test]
fn sections_are_aligned_and_file_ends_with_the_last() {
    let (pq, _) = small_pq();
    let bytes = bare(&pq).to_bytes();
    let n = u32_at(&bytes, 20) as usize;
    let mut end = 0;
    for i in 0..n {
        let off = u64_at(&bytes, HEADER + i * DIR_ENTRY + 8);
        let len = u64_at(&bytes, HEADER + i * DIR_ENTRY + 16);
        assert_eq!(off % 64, 0);
        end = end.max(off + len);
    }
    assert_eq!(end, bytes.len() as u64);
    // The centroids are readable in place at their offset.
    let off = u64_at(&bytes, HEADER + DIR_ENTRY + 8) as usize;
    assert_eq!(f32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()), pq.centroids()[0]);
}

#[test]
fn sq_round_trip_and_kind_mismatch() {
    let data: Vec<f32> = (0..7 * 5).map(|i| (i as f32).sin()).collect();
    for bits in [SqBits::B4, SqBits::B8, SqBits::B16] {
        let sq = ScalarQuantizer::train(bits, 7, &data).unwrap();
        let bytes = sq.to_bytes();
        assert_eq!(ScalarQuantizer::from_bytes(&bytes).unwrap(), sq);
        let e = ProductQuantizer::from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("holds a scalar quantizer"), "{e}");
    }
    let (pq, _) = small_pq();
    let e = ScalarQuantizer::from_bytes(&bare(&pq).to_bytes()).unwrap_err().to_string();
    assert!(e.contains("holds a product quantizer"), "{e}");
}

#[test]
fn every_truncation_is_an_error() {
    let (pq, _) = small_pq();
    let bytes = pq.to_bytes();
    for len in 0..bytes.len() {
        let e = read_bytes(&bytes[..len]).unwrap_err();
        assert!(matches!(e, Error::Format { .. }), "len {len}: {e}");
    }
    let e = read_bytes(&bytes[..100]).unwrap_err().to_string();
    assert!(e.contains("truncated") && e.contains(&bytes.len().to_string()), "{e}");
}

#[test]
fn every_single_bit_flip_is_detected() {
    let data: Vec<f32> = (0..4 * 3).map(|i| i as f32).collect();
    let sq = ScalarQuantizer::train(SqBits::B8, 4, &data).unwrap();
    let bytes = sq.to_bytes();
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 1 << (i % 8);
        assert!(read_bytes(&b).is_err(), "flip of bit {} of byte {} went unnoticed", i % 8, i / 8);
    }
}

#[test]
fn wrong_version_endianness_and_magic_are_named() {
    let (pq, _) = small_pq();
    let good = bare(&pq).to_bytes();
    let mut b = good.clone();
    b[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert_eq!(read_bytes(&b).unwrap_err(), Error::FormatVersion { path: "<memory>".into(), found: 2, supported: 1 });
    let mut b = good.clone();
    b[12..16].copy_from_slice(&[1, 2, 3, 4]);
    assert!(read_bytes(&b).unwrap_err().to_string().contains("big-endian"));
    let mut b = good.clone();
    b[0] = b'P';
    assert!(read_bytes(&b).unwrap_err().to_string().contains("not a vq model file"));
    assert!(read_bytes(b"").unwrap_err().to_string().contains("0 bytes"));
}

#[test]
fn hostile_sizes_are_rejected_before_allocating() {
    let (pq, _) = small_pq();
    let good = bare(&pq).to_bytes();
    // CENT claims 2^62 bytes.
    let mut b = good.clone();
    b[HEADER + DIR_ENTRY + 16..HEADER + DIR_ENTRY + 24].copy_from_slice(&(1u64 << 62).to_le_bytes());
    reseal(&mut b);
    let e = read_bytes(&b).unwrap_err().to_string();
    assert!(e.contains("runs past the end"), "{e}");
    // reseal makes an edited file pass its checksums again.
    let mut b = good.clone();
    let cent_off = u64_at(&b, HEADER + DIR_ENTRY + 8) as usize;
    b[cent_off..cent_off + 4].copy_from_slice(&0.5f32.to_le_bytes());
    assert!(read_bytes(&b).unwrap_err().to_string().contains("section CENT checksum mismatch"));
    reseal(&mut b);
    let Model::Pq(edited) = read_bytes(&b).unwrap().model else { panic!("kind") };
    assert_eq!(edited.centroids()[0], 0.5);
    // A non-finite centroid under a valid checksum is named, with its index.
    for (at, bad) in [(0usize, f32::NAN), (7, f32::INFINITY), (29, f32::NEG_INFINITY)] {
        let mut b = good.clone();
        b[cent_off + 4 * at..cent_off + 4 * at + 4].copy_from_slice(&bad.to_le_bytes());
        reseal(&mut b);
        let e = read_bytes(&b).unwrap_err().to_string();
        assert!(e.contains(&format!("non-finite value (NaN or infinity) at element {at}")), "{e}");
    }
    // PARM's ksub disagrees with CENT's size (a resealed section checksum too).
    let mut b = good.clone();
    let parm_off = u64_at(&b, HEADER + 8) as usize;
    b[parm_off + 16..parm_off + 24].copy_from_slice(&65536u64.to_le_bytes());
    reseal(&mut b);
    let e = read_bytes(&b).unwrap_err().to_string();
    assert!(e.contains("section CENT has") && e.contains("65536"), "{e}");
    // A dimension whose product overflows.
    let mut b = good.clone();
    b[parm_off..parm_off + 8].copy_from_slice(&u64::MAX.to_le_bytes());
    b[parm_off + 8..parm_off + 16].copy_from_slice(&3u64.to_le_bytes());
    reseal(&mut b);
    assert!(read_bytes(&b).is_err());
    // Section count past the directory's room.
    let mut b = good.clone();
    b[20..24].copy_from_slice(&200u32.to_le_bytes());
    assert!(read_bytes(&b).unwrap_err().to_string().contains("section count 200"));
}

#[test]
fn nonfinite_is_not_is_finite() {
    let specials = [0.0, -0.0, 1.0, -1.5, f32::MIN_POSITIVE, f32::MIN_POSITIVE / 2.0, f32::MAX, f32::MIN];
    let bits = [0x7F80_0000, 0xFF80_0000, 0x7F80_0001, 0x7FC0_0000, 0xFFFF_FFFF, 0x7F7F_FFFF, 0x0000_0001];
    for x in specials.into_iter().chain(bits.map(f32::from_bits)) {
        assert_eq!(nonfinite(x.to_le_bytes()), !x.is_finite(), "{:#010x}", x.to_bits());
    }
}

#[test]
fn large_sections_load_and_name_the_bad_element_in_any_chunk() {
    // 8 MiB of centroids: 32 read chunks, and whole 2 MiB pages for the huge-page advice.
    // 8,320,000 bytes: 31 whole chunks and a partial one.
    let (dim, m, ksub) = (32, 4, 65000);
    let centroids: Vec<f32> = (0..ksub * dim).map(|i| ((i * 7919) % 10007) as f32 - 5000.0).collect();
    let pq = ProductQuantizer::from_centroids(dim, m, ksub, centroids).unwrap();
    let good = bare(&pq).to_bytes();
    assert_eq!(ProductQuantizer::from_bytes(&good).unwrap(), pq);
    let path = std::env::temp_dir().join(format!("vq-format-large-{}.vqm", std::process::id()));
    bare(&pq).save(&path).unwrap();
    let loaded = ProductQuantizer::load(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.unwrap(), pq);
    // First and last value of a chunk, the middle of one, inside the partial last chunk
    // and the last of the section; then two bad values in different chunks, where the
    // first is reported.
    let cent_off = u64_at(&good, HEADER + DIR_ENTRY + 8) as usize;
    let per_chunk = CHUNK / 4;
    let last = ksub * dim - 1;
    let cases: [&[(usize, f32)]; 6] = [
        &[(per_chunk - 1, f32::NAN)],
        &[(per_chunk, f32::INFINITY)],
        &[(5 * per_chunk + 12_345, f32::NEG_INFINITY)],
        &[(31 * per_chunk + 77, f32::NAN)],
        &[(last, f32::INFINITY)],
        &[(3 * per_chunk, f32::INFINITY), (per_chunk + 7, f32::NAN), (last, f32::NAN)],
    ];
    for bad in cases {
        let mut b = good.clone();
        for &(at, v) in bad {
            b[cent_off + 4 * at..cent_off + 4 * at + 4].copy_from_slice(&v.to_le_bytes());
        }
        reseal(&mut b);
        let first = bad.iter().map(|&(at, _)| at).min().unwrap();
        let e = read_bytes(&b).unwrap_err().to_string();
        assert!(e.contains(&format!("non-finite value (NaN or infinity) at element {first}")), "{e}");
    }
}

#[test]
fn optional_sections_are_skipped_required_ones_rejected() {
    let data: Vec<f32> = (0..4 * 3).map(|i| i as f32).collect();
    let sq = ScalarQuantizer::train(SqBits::B8, 4, &data).unwrap();
    let parm = &sq.to_bytes()[192..192 + SQ_PARM];
    let (lo, hi) = (f32_bytes(sq.vmin()), f32_bytes(sq.vmax()));
    let with = |tag: [u8; 4]| {
        write_file(KIND_SQ, &[(*b"PARM", parm), (*b"VMIN", &lo), (tag, b"future data"), (*b"VMAX", &hi)])
    };
    assert_eq!(ScalarQuantizer::from_bytes(&with(*b"note")).unwrap(), sq);
    let e = read_bytes(&with(*b"NOTE")).unwrap_err().to_string();
    assert!(e.contains("unknown required section NOTE"), "{e}");
}

#[test]
fn file_round_trip_and_missing_file() {
    let (pq, _) = small_pq();
    let dir = std::env::temp_dir().join(format!("vq-format-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pq.vqm");
    pq.save(&path).unwrap();
    assert_eq!(ProductQuantizer::load(&path).unwrap(), pq);
    assert_eq!(std::fs::read(&path).unwrap(), pq.to_bytes());
    let e = ProductQuantizer::load(&dir.join("none.vqm")).unwrap_err();
    assert!(matches!(e, Error::Io { .. }), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A small trained OPQ quantizer (d = 10 rotated into d_out = 12, inner PQ m = 3, ksub = 8).
fn small_opq(metric: crate::Metric) -> crate::OpqQuantizer {
    let data: Vec<f32> = (0..300 * 10).map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0) * (1 + i % 10) as f32).collect();
    let mut p = crate::OpqParams::new(3, 8);
    (p.d_out, p.niter, p.niter_pq_0, p.metric) = (Some(12), 2, 3, metric);
    crate::OpqQuantizer::train(10, &data, &p).unwrap()
}

/// The offset of section `tag`'s bytes in a model file.
fn section_offset(bytes: &[u8], tag: &[u8; 4]) -> usize {
    let n = u32::from_le_bytes(bytes[20..24].try_into().unwrap()) as usize;
    (0..n)
        .map(|i| &bytes[64 + 32 * i..64 + 32 * (i + 1)])
        .find(|e| &e[..4] == tag)
        .map(|e| u64::from_le_bytes(e[8..16].try_into().unwrap()) as usize)
        .unwrap()
}

#[test]
fn opq_round_trip_keeps_rotation_codebook_and_metric() {
    for metric in crate::Metric::ALL {
        let opq = small_opq(metric);
        let bytes = opq.to_bytes();
        let back = crate::OpqQuantizer::from_bytes(&bytes).unwrap();
        assert_eq!(back, opq);
        assert_eq!((back.d_out(), back.metric()), (12, metric));
        assert_eq!(back.pq().training(), opq.pq().training());
        // The rotation starts 64 bytes into its 64-byte-aligned section: usable in place.
        let at = section_offset(&bytes, b"ROTN");
        assert_eq!(at % ALIGN, 0);
        let first = f32::from_le_bytes(bytes[at + 64..at + 68].try_into().unwrap());
        assert_eq!(first, opq.rotation()[0]);
        let e = ProductQuantizer::from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("holds an OPQ quantizer (kind 3)"), "{e}");
        let e = ScalarQuantizer::from_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("holds an OPQ quantizer (kind 3)"), "{e}");
    }
    let (pq, _) = small_pq();
    let e = crate::OpqQuantizer::from_bytes(&pq.to_bytes()).unwrap_err().to_string();
    assert!(e.contains("holds a product quantizer (kind 1), expected an OPQ quantizer"), "{e}");
}

#[test]
fn opq_rotation_section_is_checked() {
    let good = small_opq(crate::Metric::L2).to_bytes();
    for len in (0..good.len()).step_by(7) {
        assert!(read_bytes(&good[..len]).is_err(), "truncated to {len}");
    }
    let at = section_offset(&good, b"ROTN");
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        super::testing::reseal(&mut b);
        read_bytes(&b).unwrap_err().to_string()
    };
    let e = edit(&|b| b[at + 8] = 2);
    assert!(e.contains("ROTN version = 2"), "{e}");
    let e = edit(&|b| b[at + 40] = 1);
    assert!(e.contains("reserved ROTN"), "{e}");
    let e = edit(&|b| b[at] = 11);
    assert!(e.contains("d_out = 11"), "{e}");
    let e = edit(&|b| b[at] = 9);
    assert!(e.contains("d_out = 9") && e.contains(">= 10"), "{e}");
    // A rotation scaled by 2 is not orthogonal.
    let e = edit(&|b| {
        for v in b[at + 64..].chunks_exact_mut(4) {
            let x = f32::from_le_bytes(v.try_into().unwrap()) * 2.0;
            v.copy_from_slice(&x.to_le_bytes());
        }
    });
    assert!(e.contains("invalid rotation"), "{e}");
    let e = edit(&|b| b[at + 64..at + 68].copy_from_slice(&f32::NAN.to_le_bytes()));
    assert!(e.contains("non-finite"), "{e}");
    // Without a checksum fix, a flipped bit of the matrix is caught.
    let mut b = good.clone();
    b[at + 100] ^= 4;
    assert!(read_bytes(&b).unwrap_err().to_string().contains("checksum"));
}

#[test]
fn metric_section_is_checked() {
    let pq = small_pq().0.with_metric(crate::Metric::InnerProduct);
    let good = pq.to_bytes();
    let at = section_offset(&good, b"METR");
    let edit = |i: usize, v: u8| {
        let mut b = good.clone();
        b[at + i] = v;
        super::testing::reseal(&mut b);
        read_bytes(&b).unwrap_err().to_string()
    };
    assert!(edit(0, 0).contains("metric = 0 in METR"));
    assert!(edit(0, 9).contains("metric = 9 in METR"));
    assert!(edit(5, 1).contains("reserved METR"));
}

/// A small RaBitQ quantizer (d = 10) with non-default query settings.
fn small_rabitq(metric: crate::Metric, bits: u32) -> crate::RabitqQuantizer {
    let data: Vec<f32> = (0..50 * 10).map(|i| ((i * 37 % 101) as f32 / 50.0 - 1.0) * (1 + i % 10) as f32).collect();
    let mut p = crate::RabitqParams::new(bits);
    (p.metric, p.seed, p.qb, p.epsilon) = (metric, 99, crate::QueryBits::Float, 2.5);
    crate::RabitqQuantizer::train(10, &data, &p).unwrap()
}

#[test]
fn rabitq_round_trip_keeps_rotation_centroid_settings_and_seed() {
    for (metric, bits) in [(crate::Metric::L2, 1), (crate::Metric::InnerProduct, 4), (crate::Metric::Cosine, 9)] {
        let q = small_rabitq(metric, bits);
        let bytes = q.to_bytes();
        let back = crate::RabitqQuantizer::from_bytes(&bytes).unwrap();
        assert_eq!(back, q);
        assert_eq!((back.bits(), back.metric(), back.seed()), (bits, metric, Some(99)));
        assert_eq!((back.qb(), back.epsilon()), (crate::QueryBits::Float, 2.5));
        // Same codes and estimates from the loaded quantizer.
        let x: Vec<f32> = (0..7 * 10).map(|i| ((i * 31) % 97) as f32 / 97.0 - 0.5).collect();
        let (mut a, mut b) = (vec![0u8; 7 * q.code_size()], vec![0u8; 7 * q.code_size()]);
        q.encode(&x, &mut a).unwrap();
        back.encode(&x, &mut b).unwrap();
        assert_eq!(a, b);
        let at = section_offset(&bytes, b"ROTN");
        assert_eq!(f32::from_le_bytes(bytes[at + 64..at + 68].try_into().unwrap()), q.rotation()[0]);
        for e in [
            ProductQuantizer::from_bytes(&bytes).unwrap_err().to_string(),
            crate::OpqQuantizer::from_bytes(&bytes).unwrap_err().to_string(),
        ] {
            assert!(e.contains("holds a RaBitQ quantizer (kind 4)"), "{e}");
        }
    }
    // Built from parts: no seed recorded, and the file says so.
    let q = small_rabitq(crate::Metric::L2, 2);
    let parts =
        crate::RabitqQuantizer::from_parts(10, 2, crate::Metric::L2, q.rotation().to_vec(), q.centroid().to_vec())
            .unwrap();
    let back = crate::RabitqQuantizer::from_bytes(&parts.to_bytes()).unwrap();
    assert_eq!((back.seed(), &back), (None, &parts));
    let e = crate::RabitqQuantizer::from_bytes(&small_pq().0.to_bytes()).unwrap_err().to_string();
    assert!(e.contains("holds a product quantizer (kind 1), expected a RaBitQ quantizer (kind 4)"), "{e}");
}

#[test]
fn rabitq_sections_are_checked() {
    let good = small_rabitq(crate::Metric::L2, 4).to_bytes();
    for len in (0..good.len()).step_by(7) {
        assert!(read_bytes(&good[..len]).is_err(), "truncated to {len}");
    }
    let parm = section_offset(&good, b"PARM");
    let rotn = section_offset(&good, b"ROTN");
    let cntr = section_offset(&good, b"CNTR");
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        super::testing::reseal(&mut b);
        read_bytes(&b).unwrap_err().to_string()
    };
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    for (at, value, want) in [
        (8, 0u32.to_le_bytes(), "RaBitQ bits"),
        (8, 10u32.to_le_bytes(), "bits = 10"),
        (12, 9u32.to_le_bytes(), "qb (query bits)"),
        (16, (-1f32).to_le_bytes(), "epsilon"),
        (16, f32::NAN.to_le_bytes(), "epsilon"),
        (20, 2u32.to_le_bytes(), "flags = 0x2"),
        (20, 0u32.to_le_bytes(), "seed = 99 in PARM without a training record"),
    ] {
        let e = edit(&|b| put(b, parm + at, &value));
        assert!(e.contains("in PARM") && e.contains(want), "{want}: {e}");
    }
    let e = edit(&|b| b[rotn] = 11);
    assert!(e.contains("d_out = 11"), "{e}");
    // A well-formed rotation section of d_out = 11 rows (OPQ's padding) for dim 10.
    let mut rows = vec![0f32; 110];
    (0..10).for_each(|i| rows[i * 10 + i] = 1.0);
    let rotn11 = super::rotation::section(11, &rows);
    let padded = write_file(
        super::rabitq::KIND,
        &[(*b"PARM", &good[parm..parm + 32]), (*b"ROTN", &rotn11), (*b"CNTR", &good[cntr..cntr + 40])],
    );
    let e = read_bytes(&padded).unwrap_err().to_string();
    assert!(e.contains("ROTN has 11 rows, expected dim = 10"), "{e}");
    let e = edit(&|b| {
        for v in b[rotn + 64..rotn + 64 + 400].chunks_exact_mut(4) {
            let x = f32::from_le_bytes(v.try_into().unwrap()) * 2.0;
            v.copy_from_slice(&x.to_le_bytes());
        }
    });
    assert!(e.contains("rotation") && e.contains("orthogonal"), "{e}");
    let e = edit(&|b| put(b, cntr + 4, &f32::INFINITY.to_le_bytes()));
    assert!(e.contains("invalid centroid: non-finite value") && e.contains("element 1"), "{e}");
    // A CNTR of another length.
    let short = write_file(
        super::rabitq::KIND,
        &[(*b"PARM", &good[parm..parm + 32]), (*b"ROTN", &good[rotn..rotn + 464]), (*b"CNTR", &good[cntr..cntr + 36])],
    );
    let e = read_bytes(&short).unwrap_err().to_string();
    assert!(e.contains("section CNTR has 36 bytes, expected dim·4 = 10·4"), "{e}");
}
