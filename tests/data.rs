//! `vq::data`: every format and element type read back exactly, any row range equal to the
//! whole read, folders of shards, the byte counter, and every bad input reported with the
//! file, the value and what is accepted (never a panic). Each test writes its own files in
//! a temporary directory.
#![cfg(feature = "data")]

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use vq::data::{self, texmex, Dtype, VectorSource, VectorWriter};
use vq::Error;

/// Row-major values exactly representable in every element type (small integers, and
/// halves for the float types), so one array can be stored in each format.
fn values(rows: usize, dim: usize, signed: bool) -> Vec<f32> {
    (0..rows * dim)
        .map(|i| {
            let v = ((i * 37 + 11) % 251) as f32;
            if signed {
                v - 125.0
            } else {
                v
            }
        })
        .collect()
}

/// big-ann bytes: u32 rows, u32 dim, then `body`.
fn bin_bytes(rows: u32, dim: u32, body: &[u8]) -> Vec<u8> {
    let mut out = rows.to_le_bytes().to_vec();
    out.extend_from_slice(&dim.to_le_bytes());
    out.extend_from_slice(body);
    out
}

fn npy_bytes(descr: &str, rows: usize, dim: usize, body: &[u8]) -> Vec<u8> {
    let mut out = data::npy_header(descr, rows as u64, dim);
    out.extend_from_slice(body);
    out
}

/// The values in `dtype`, little- or big-endian.
fn encode(vals: &[f32], dtype: Dtype, little: bool) -> Vec<u8> {
    let order = |b: Vec<u8>| if little { b } else { b.into_iter().rev().collect() };
    vals.iter()
        .flat_map(|&v| match dtype {
            Dtype::F32 => order(v.to_le_bytes().to_vec()),
            Dtype::F64 => order(f64::from(v).to_le_bytes().to_vec()),
            Dtype::F16 => order(half::f16::from_f32(v).to_le_bytes().to_vec()),
            Dtype::I32 => order((v as i32).to_le_bytes().to_vec()),
            Dtype::U8 => vec![v as u8],
            Dtype::I8 => vec![v as i8 as u8],
            other => panic!("no encoding for {other:?}"),
        })
        .collect()
}

fn read_all(src: &VectorSource) -> Vec<f32> {
    let mut out = vec![f32::NAN; src.rows() * src.dim()];
    src.read_rows(0, &mut out).unwrap();
    out
}

/// `bytes` with the first `from` replaced by `to` (of the same length).
fn replace(mut bytes: Vec<u8>, from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = bytes.windows(from.len()).position(|w| w == from).expect("present");
    bytes[at..at + to.len()].copy_from_slice(to);
    bytes
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// The message of an error that must be `Error::Format` about `file`.
fn format_msg(e: Error, file: &Path) -> String {
    match e {
        Error::Format { path, message } => {
            assert_eq!(path, file.display().to_string(), "{message}");
            message
        }
        other => panic!("expected Error::Format about {}, got {other:?}", file.display()),
    }
}

fn open_err(path: &Path) -> String {
    format_msg(data::open(path).unwrap_err(), path)
}

/// Every format and element type, from the library's writers or hand-built bytes, in both
/// byte orders where a format has two: (file name, bytes, dtype, values it must read as).
fn every_format(rows: usize, dim: usize) -> Vec<(String, Vec<u8>, Dtype, Vec<f32>)> {
    let s = values(rows, dim, true);
    let u = values(rows, dim, false);
    let mut out = Vec::new();
    let tag = |order: char| match order {
        '<' => "le",
        '>' => "be",
        _ => "na",
    };
    for little in [true, false] {
        let o = if little { '<' } else { '>' };
        for (descr, dtype) in [("f4", Dtype::F32), ("f8", Dtype::F64), ("f2", Dtype::F16)] {
            let body = encode(&s, dtype, little);
            out.push((
                format!("{descr}_{}.npy", tag(o)),
                npy_bytes(&format!("{o}{descr}"), rows, dim, &body),
                dtype,
                s.clone(),
            ));
        }
    }
    for prefix in ['|', '<', '>'] {
        out.push((
            format!("u1_{}.npy", tag(prefix)),
            npy_bytes(&format!("{prefix}u1"), rows, dim, &encode(&u, Dtype::U8, true)),
            Dtype::U8,
            u.clone(),
        ));
        out.push((
            format!("i1_{}.npy", tag(prefix)),
            npy_bytes(&format!("{prefix}i1"), rows, dim, &encode(&s, Dtype::I8, true)),
            Dtype::I8,
            s.clone(),
        ));
    }
    let (r, d) = (rows as u32, dim as u32);
    out.push(("a.fbin".into(), bin_bytes(r, d, &encode(&s, Dtype::F32, true)), Dtype::F32, s.clone()));
    out.push(("a.u8bin".into(), bin_bytes(r, d, &encode(&u, Dtype::U8, true)), Dtype::U8, u.clone()));
    out.push(("a.i8bin".into(), bin_bytes(r, d, &encode(&s, Dtype::I8, true)), Dtype::I8, s.clone()));
    out.push(("a.ibin".into(), bin_bytes(r, d, &encode(&s, Dtype::I32, true)), Dtype::I32, s.clone()));
    let texmex = |size: usize, body: Vec<u8>| -> Vec<u8> {
        body.chunks(dim * size)
            .flat_map(|row| (dim as i32).to_le_bytes().into_iter().chain(row.iter().copied()))
            .collect()
    };
    out.push(("a.fvecs".into(), texmex(4, encode(&s, Dtype::F32, true)), Dtype::F32, s.clone()));
    out.push(("a.ivecs".into(), texmex(4, encode(&s, Dtype::I32, true)), Dtype::I32, s.clone()));
    out.push(("a.bvecs".into(), texmex(1, encode(&u, Dtype::U8, true)), Dtype::U8, u.clone()));
    out
}

#[test]
fn every_format_and_dtype_reads_back_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    // dim 5 and 70,000 (a row over the 64 KiB read block for every type but the bytes).
    for (rows, dim) in [(7, 5), (3, 70_000)] {
        for (name, bytes, dtype, want) in every_format(rows, dim) {
            let p = write(&tmp.path().join(&name), &bytes);
            let src = data::open(&p).unwrap();
            assert_eq!((src.rows(), src.dim(), src.dtype()), (rows, dim, dtype), "{name}");
            assert_eq!(read_all(&src), want, "{name}");
            assert!(!src.is_sharded());
            assert_eq!(src.files().collect::<Vec<_>>(), vec![(p.as_path(), rows)]);
        }
    }
}

#[test]
fn texmex_writers_read_back_through_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let f = values(9, 13, true);
    let p = tmp.path().join("w.fvecs");
    texmex::write_fvecs(&p, &f, 13).unwrap();
    assert_eq!(read_all(&data::open(&p).unwrap()), f);
    let b: Vec<u8> = values(9, 13, false).iter().map(|&v| v as u8).collect();
    let p = tmp.path().join("W.BVECS");
    texmex::write_bvecs(&p, &b, 13).unwrap();
    assert_eq!(read_all(&data::open(&p).unwrap()), values(9, 13, false), "extensions in any case");
}

#[test]
fn writers_round_trip_and_patch_the_row_count() {
    let tmp = tempfile::tempdir().unwrap();
    let vals: Vec<f32> =
        [f32::NAN, -0.0, f32::INFINITY, f32::MIN_POSITIVE, 1e-45, -3.5].into_iter().cycle().take(30 * 4).collect();
    for name in ["w.fbin", "w.npy"] {
        let p = tmp.path().join(name);
        let mut w = VectorWriter::create(&p, 4).unwrap();
        w.write_rows(&vals[..40]).unwrap();
        w.write_rows(&[]).unwrap();
        w.write_rows(&vals[40..]).unwrap();
        assert_eq!(w.rows(), 30);
        assert!(matches!(w.write_rows(&vals[..3]), Err(Error::NotWholeRows { len: 3, dim: 4, .. })));
        assert_eq!(w.finish().unwrap(), 30);
        let src = data::open(&p).unwrap();
        assert_eq!((src.rows(), src.dim(), src.dtype()), (30, 4, Dtype::F32));
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&read_all(&src)), bits(&vals), "{name}: bit for bit");
        let header = if name.ends_with("npy") { data::npy_header("<f4", 0, 4).len() } else { 8 };
        assert_eq!(std::fs::metadata(&p).unwrap().len(), (header + 30 * 4 * 4) as u64);

        // Dropped without finish: the header still says 0 rows, and readers reject it.
        let mut w = VectorWriter::create(&p, 4).unwrap();
        w.write_rows(&vals).unwrap();
        drop(w);
        assert!(open_err(&p).contains("truncated"), "{name}");
    }
    // An empty data set is a valid file of 0 rows.
    let p = tmp.path().join("empty.npy");
    VectorWriter::create(&p, 3).unwrap().finish().unwrap();
    assert_eq!(data::open(&p).unwrap().rows(), 0);
}

#[test]
fn writer_rejects_bad_arguments_without_creating_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("x.fbin");
    assert!(matches!(VectorWriter::create(&p, 0), Err(Error::OutOfRange { what: "dim", .. })));
    assert!(matches!(VectorWriter::create(&p, data::MAX_DIM + 1), Err(Error::OutOfRange { what: "dim", .. })));
    let q = tmp.path().join("x.fvecs");
    let msg = format_msg(VectorWriter::create(&q, 4).unwrap_err(), &q);
    assert!(msg.contains(".fbin or .npy"), "{msg}");
    assert!(!p.exists() && !q.exists());
    let missing = tmp.path().join("no/such/dir.fbin");
    assert!(matches!(VectorWriter::create(&missing, 4), Err(Error::Io { .. })));
}

/// Files of every format (in the directory kept alive with them), each with its rows.
type Corpus = (tempfile::TempDir, Vec<(PathBuf, Vec<f32>)>);

/// The corpus, made once for the property tests.
fn corpus() -> &'static Corpus {
    static CORPUS: std::sync::OnceLock<Corpus> = std::sync::OnceLock::new();
    CORPUS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        // 3,000 rows of dim 24: several 64 KiB blocks for every type.
        for (name, bytes, _, want) in every_format(3000, 24) {
            files.push((write(&tmp.path().join(name), &bytes), want));
        }
        // A folder of uneven shards, one of them empty, mixed formats.
        let dir = tmp.path().join("shards");
        std::fs::create_dir(&dir).unwrap();
        let all = values(1000, 24, true);
        let mut at = 0;
        for (i, rows) in [300usize, 0, 1, 450, 249].into_iter().enumerate() {
            let part = &all[at * 24..(at + rows) * 24];
            let p = dir.join(format!("part-{i:02}.{}", if i % 2 == 0 { "npy" } else { "fbin" }));
            let mut w = VectorWriter::create(&p, 24).unwrap();
            w.write_rows(part).unwrap();
            w.finish().unwrap();
            at += rows;
        }
        files.push((dir, all));
        (tmp, files)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any row range reads what the whole read holds there, and counts exactly its bytes.
    #[test]
    fn any_row_range_equals_the_whole_read(which in 0usize..64, a in 0usize..=3000, b in 0usize..=3000) {
        let (_, files) = corpus();
        let (path, want) = &files[which % files.len()];
        let src = data::open(path).unwrap();
        let rows = src.rows();
        let (start, end) = (a.min(b) % (rows + 1), a.max(b) % (rows + 1));
        let (start, end) = (start.min(end), start.max(end));
        let d = src.dim();
        let mut out = vec![f32::NAN; (end - start) * d];
        src.read_rows(start, &mut out).unwrap();
        prop_assert_eq!(&out[..], &want[start * d..end * d]);
        // The bytes of exactly those rows: whole rows times the stored row size.
        let row_bytes = src.data_bytes() / rows as u64;
        prop_assert_eq!(src.bytes_read(), (end - start) as u64 * row_bytes);
    }
}

#[test]
fn bytes_read_counts_every_thread_and_the_row_size_of_each_format() {
    let (_, files) = corpus();
    for (path, _) in files {
        let src = data::open(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let per_value: u64 = match src.dtype() {
            Dtype::F64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 => 2,
            _ => 1,
        };
        let texmex = name.ends_with("vecs");
        let row_bytes = 24 * per_value + if texmex { 4 } else { 0 };
        assert_eq!(src.data_bytes(), src.rows() as u64 * row_bytes, "{name}");
        std::thread::scope(|s| {
            for t in 0..2 {
                let src = &src;
                s.spawn(move || {
                    let mut out = vec![0f32; 100 * 24];
                    for r in (t * 100..src.rows() - 100).step_by(200) {
                        src.read_rows(r, &mut out).unwrap();
                    }
                });
            }
        });
        let reads = (0..2).map(|t| (t * 100..src.rows() - 100).step_by(200).count() as u64).sum::<u64>();
        assert_eq!(src.bytes_read(), reads * 100 * row_bytes, "{name}");
    }
}

#[test]
fn shards_read_as_one_array_in_name_order() {
    let (_, files) = corpus();
    let (dir, all) = files.last().unwrap();
    let src = data::open(dir).unwrap();
    assert!(src.is_sharded());
    assert_eq!((src.rows(), src.dim()), (1000, 24));
    let names: Vec<(String, usize)> =
        src.files().map(|(p, n)| (p.file_name().unwrap().to_string_lossy().into_owned(), n)).collect();
    let want: Vec<(String, usize)> =
        [("part-00.npy", 300), ("part-01.fbin", 0), ("part-02.npy", 1), ("part-03.fbin", 450), ("part-04.npy", 249)]
            .into_iter()
            .map(|(n, r)| (n.to_string(), r))
            .collect();
    assert_eq!(names, want);
    assert_eq!(read_all(&src), *all);
    // Every boundary, and ranges spanning several shards (including the empty one).
    for (start, end) in [(299, 302), (300, 301), (0, 1000), (250, 760), (301, 751), (999, 1000), (1000, 1000)] {
        let mut out = vec![0f32; (end - start) * 24];
        src.read_rows(start, &mut out).unwrap();
        assert_eq!(out, all[start * 24..end * 24], "{start}..{end}");
    }
    let (file, local) = src.locate(301).unwrap();
    assert_eq!((file.file_name().unwrap().to_str().unwrap(), local), ("part-03.fbin", 0));
    assert_eq!(src.locate(300).unwrap().0.file_name().unwrap(), "part-02.npy");
    assert!(src.locate(1000).is_none());
}

#[test]
fn shard_folder_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    let shard = |name: &str, rows: usize, dim: usize| {
        let mut w = VectorWriter::create(&dir.join(name), dim).unwrap();
        w.write_rows(&values(rows, dim, true)).unwrap();
        w.finish().unwrap();
    };
    // An empty folder.
    let msg = open_err(&dir);
    assert!(msg.contains("holds no vector file") && msg.contains(".npy"), "{msg}");

    // Byte-wise name order (b10 before b2), hidden files skipped.
    shard("b2.npy", 2, 3);
    shard("b10.fbin", 1, 3);
    std::fs::write(dir.join(".DS_Store"), b"junk").unwrap();
    let src = data::open(&dir).unwrap();
    let order: Vec<_> = src.files().map(|(p, _)| p.file_name().unwrap().to_owned()).collect();
    assert_eq!(order, ["b10.fbin", "b2.npy"]);

    // Anything else is an error naming it and the accepted formats.
    let readme = write(&dir.join("README.md"), b"about");
    let msg = format_msg(data::open(&dir).unwrap_err(), &readme);
    assert!(msg.contains("is not a vector file") && msg.contains(".fbin"), "{msg}");
    std::fs::remove_file(&readme).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let msg = format_msg(data::open(&dir).unwrap_err(), &dir.join("sub"));
    assert!(msg.contains("is not a vector file"), "{msg}");
    std::fs::remove_dir(dir.join("sub")).unwrap();

    // Another dimension: both files and both dimensions named.
    shard("c.npy", 2, 4);
    let msg = format_msg(data::open(&dir).unwrap_err(), &dir.join("c.npy"));
    assert!(msg.contains("dimension 4 differs from") && msg.contains("b10.fbin's 3"), "{msg}");
    std::fs::remove_file(dir.join("c.npy")).unwrap();

    // Another element type.
    let u8s = write(&dir.join("c.u8bin"), &bin_bytes(1, 3, &[1, 2, 3]));
    let msg = format_msg(data::open(&dir).unwrap_err(), &u8s);
    assert!(msg.contains("stores uint8") && msg.contains("b10.fbin stores float32"), "{msg}");
    std::fs::remove_file(&u8s).unwrap();

    // A truncated shard, by name, when the folder is opened.
    shard("d.fbin", 5, 3);
    let bytes = std::fs::read(dir.join("d.fbin")).unwrap();
    std::fs::write(dir.join("d.fbin"), &bytes[..bytes.len() - 4]).unwrap();
    let msg = format_msg(data::open(&dir).unwrap_err(), &dir.join("d.fbin"));
    assert!(msg.contains("header says 5 rows of dimension 3") && msg.contains("truncated"), "{msg}");
}

#[test]
fn npy_bad_inputs_name_the_value_and_what_is_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let body = encode(&values(3, 2, true), Dtype::F32, true);
    let p = tmp.path().join("a.npy");

    for descr in ["<i8", "<c8", "=f4", "|b1", "<U3", "<f16"] {
        write(&p, &npy_bytes(descr, 3, 2, &body));
        let msg = open_err(&p);
        assert!(msg.contains(&format!("'{descr}'")) && msg.contains(data::NPY_VECTOR_DTYPES), "{msg}");
    }
    write(&p, &replace(npy_bytes("<f4", 3, 2, &body), b"False", b"True "));
    let msg = open_err(&p);
    assert!(msg.contains("Fortran order") && msg.contains("C order only") && msg.contains("'<f4'"), "{msg}");

    write(&p, &replace(npy_bytes("<f4", 3, 2, &body), b"(3, 2)", b"(6,)  "));
    assert!(open_err(&p).contains("expected 2-D"));

    write(&p, &npy_bytes("<f4", 3, 2, &body[..body.len() - 1]));
    let msg = open_err(&p);
    assert!(msg.contains("needs 24 data bytes") && msg.contains("has 23") && msg.contains("truncated"), "{msg}");
    write(&p, &npy_bytes("<f4", 3, 0, &[]));
    assert!(open_err(&p).contains("dimension 0"));

    let mut v4 = npy_bytes("<f4", 3, 2, &body);
    v4[6] = 4;
    write(&p, &v4);
    assert!(open_err(&p).contains("version 4.0 is not supported, expected 1.0, 2.0 or 3.0"));
    write(&p, b"PK\x03\x04 not numpy at all");
    assert!(open_err(&p).contains("\\x93NUMPY"));

    // A version 2.0 header (u32 length) reads like 1.0.
    let v1 = npy_bytes("<f4", 3, 2, &body);
    let hlen = u16::from_le_bytes([v1[8], v1[9]]) as u32;
    let mut v2 = b"\x93NUMPY\x02\x00".to_vec();
    v2.extend_from_slice(&(hlen + 2).to_le_bytes());
    v2.extend_from_slice(&v1[10..10 + hlen as usize - 1]);
    v2.extend_from_slice(b"  \n");
    v2.extend_from_slice(&body);
    write(&p, &v2);
    assert_eq!(read_all(&data::open(&p).unwrap()), values(3, 2, true));
}

#[test]
fn truncated_at_every_byte_is_an_error_never_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes, _, _) in every_format(3, 4) {
        let p = tmp.path().join(&name);
        let texmex = name.ends_with("vecs");
        let row = if texmex { bytes.len() / 3 } else { 0 };
        for len in 0..bytes.len() {
            write(&p, &bytes[..len]);
            match data::open(&p) {
                // A TEXMEX file cut at a row boundary is a shorter, valid file.
                Ok(src) => {
                    assert!(texmex && len > 0 && len % row == 0, "{name} cut at {len} opened");
                    assert_eq!(src.rows(), len / row);
                }
                Err(e) => {
                    let msg = format_msg(e, &p);
                    assert!(!msg.is_empty());
                }
            }
        }
    }
}

#[test]
fn fbin_and_texmex_bad_headers() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write(&tmp.path().join("g.fbin"), b"\x05\x00\x00\x00\x04\x00\x00\x00abc");
    let msg = open_err(&p);
    assert!(
        msg.contains("header says 5 rows of dimension 4 (88 bytes") && msg.contains("the file has 11 bytes"),
        "{msg}"
    );
    let p = write(&tmp.path().join("g.u8bin"), &bin_bytes(1, 0, &[]));
    assert!(open_err(&p).contains("header dimension 0 is out of range, expected 1..=1048576"));
    let p = write(&tmp.path().join("g.i8bin"), b"\x01\x00");
    assert!(open_err(&p).contains("shorter than the 8-byte header"));

    let p = write(&tmp.path().join("g.fvecs"), &(-3i32).to_le_bytes());
    assert!(open_err(&p).contains("declares dimension -3, expected 1..=1048576"));
    let mut bytes = Vec::new();
    for d in [2i32, 2, 3] {
        bytes.extend_from_slice(&d.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
    }
    let p = write(&tmp.path().join("g.fvecs"), &bytes);
    let src = data::open(&p).unwrap();
    let mut out = vec![0f32; 2 * 2];
    src.read_rows(0, &mut out).unwrap();
    // Row 2 declares 3: found when the row is read, named with its byte offset.
    let mut out = vec![0f32; 2];
    let msg = format_msg(src.read_rows(2, &mut out).unwrap_err(), &p);
    assert!(msg.contains("row 2 at byte offset 24 declares dimension 3, expected 2"), "{msg}");
    // The same check for rows wider than the read block.
    let d = 20_000;
    let mut wide = Vec::new();
    for (r, head) in [d, d, d + 1].into_iter().enumerate() {
        wide.extend_from_slice(&(head as i32).to_le_bytes());
        wide.extend(std::iter::repeat_n(r as u8, 4 * d));
    }
    let p = write(&tmp.path().join("wide.fvecs"), &wide);
    let src = data::open(&p).unwrap();
    let mut out = vec![0f32; 3 * d];
    let msg = format_msg(src.read_rows(0, &mut out).unwrap_err(), &p);
    assert!(msg.contains(&format!("row 2 at byte offset {} declares dimension {}", 2 * (4 + 4 * d), d + 1)), "{msg}");

    let p = write(&tmp.path().join("x.txt"), b"1 2 3");
    let msg = open_err(&p);
    assert!(msg.contains("unknown file type '.txt'") && msg.contains(".npy (float32, float64, float16"), "{msg}");
    assert!(matches!(data::open(&tmp.path().join("none.fbin")), Err(Error::Io { .. })));
}

#[test]
fn read_rows_checks_its_arguments() {
    let (_, files) = corpus();
    let src = data::open(&files[0].0).unwrap();
    let mut out = vec![0f32; 25];
    assert!(matches!(src.read_rows(0, &mut out), Err(Error::NotWholeRows { len: 25, dim: 24, .. })));
    let mut out = vec![0f32; 2 * 24];
    let e = src.read_rows(2999, &mut out).unwrap_err();
    assert!(matches!(e, Error::RowRange { start: 2999, count: 2, rows: 3000, .. }));
    assert!(e.to_string().contains("2 row(s) from row 2999 asked for, but it has 3000 rows"), "{e}");
    assert!(src.read_rows(usize::MAX, &mut out).is_err());
    assert!(src.read_rows(3000, &mut []).is_ok());
    assert!(src.read_rows(3001, &mut []).is_err());
    assert_eq!(src.bytes_read(), 0, "nothing read on a rejected call");
}

#[test]
fn a_file_that_shrinks_after_open_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("s.fbin");
    let mut w = VectorWriter::create(&p, 8).unwrap();
    w.write_rows(&values(100, 8, true)).unwrap();
    w.finish().unwrap();
    let src = data::open(&p).unwrap();
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(8 + 50 * 32).unwrap();
    let mut out = vec![0f32; 100 * 8];
    let msg = format_msg(src.read_rows(0, &mut out).unwrap_err(), &p);
    assert!(msg.contains("shorter than when it was opened"), "{msg}");
}

#[test]
fn check_finite_names_the_file_row_and_value() {
    let tmp = tempfile::tempdir().unwrap();
    let mut vals = values(3000, 3, true);
    vals[2500 * 3 + 1] = f32::NAN;
    let p = tmp.path().join("nan.npy");
    let mut w = VectorWriter::create(&p, 3).unwrap();
    w.write_rows(&vals).unwrap();
    w.finish().unwrap();
    let src = data::open(&p).unwrap();
    let mut out = vec![0f32; 1000 * 3];
    src.read_rows(2000, &mut out).unwrap();
    let msg = format_msg(src.check_finite(2000, &out).unwrap_err(), &p);
    assert!(msg.contains("row 2500 holds a non-finite value (NaN at dimension 1)"), "{msg}");
    src.read_rows(0, &mut out).unwrap();
    assert!(src.check_finite(0, &out).is_ok());

    // In a folder: the shard and the row inside it, and the row of the whole.
    let dir = tmp.path().join("s");
    std::fs::create_dir(&dir).unwrap();
    for (i, part) in vals.chunks(1000 * 3).enumerate() {
        let mut w = VectorWriter::create(&dir.join(format!("{i}.fbin")), 3).unwrap();
        w.write_rows(part).unwrap();
        w.finish().unwrap();
    }
    let src = data::open(&dir).unwrap();
    src.read_rows(2000, &mut out).unwrap();
    let msg = format_msg(src.check_finite(2000, &out).unwrap_err(), &dir.join("2.fbin"));
    assert!(msg.contains("row 500 holds") && msg.contains("(row 2500 of the folder"), "{msg}");
}

#[test]
fn ground_truth_ids_from_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let ids: Vec<i64> = vec![0, 7, 1 << 30, 3, 2, 1, 99, 5, 1 << 20];
    let i32s: Vec<i32> = ids.iter().map(|&v| v as i32).collect();
    let p = tmp.path().join("gt.ivecs");
    texmex::write_ivecs(&p, &i32s, 3).unwrap();
    assert_eq!(data::read_ids(&p).unwrap(), (ids.clone(), 3));
    let body: Vec<u8> = i32s.iter().flat_map(|v| v.to_le_bytes()).collect();
    let p = write(&tmp.path().join("gt.ibin"), &bin_bytes(3, 3, &body));
    assert_eq!(data::read_ids(&p).unwrap(), (ids.clone(), 3));
    write(&p, &bin_bytes(4, 3, &body));
    assert!(format_msg(data::read_ids(&p).unwrap_err(), &p).contains("header says 4 rows"));

    let big: Vec<i64> = ids.iter().map(|&v| v + (1 << 40)).collect();
    for little in [true, false] {
        let o = if little { '<' } else { '>' };
        let b4: Vec<u8> = i32s.iter().flat_map(|v| if little { v.to_le_bytes() } else { v.to_be_bytes() }).collect();
        let p = write(&tmp.path().join("gt.npy"), &npy_bytes(&format!("{o}i4"), 3, 3, &b4));
        assert_eq!(data::read_ids(&p).unwrap(), (ids.clone(), 3));
        let b8: Vec<u8> = big.iter().flat_map(|v| if little { v.to_le_bytes() } else { v.to_be_bytes() }).collect();
        write(&p, &npy_bytes(&format!("{o}i8"), 3, 3, &b8));
        assert_eq!(data::read_ids(&p).unwrap(), (big.clone(), 3), "int64 ids stay exact");
        write(&p, &npy_bytes(&format!("{o}i8"), 3, 3, &b8[..70]));
        assert!(format_msg(data::read_ids(&p).unwrap_err(), &p).contains("truncated"));
    }
    let p = write(&tmp.path().join("gt.npy"), &npy_bytes("<f4", 3, 3, &body));
    let msg = format_msg(data::read_ids(&p).unwrap_err(), &p);
    assert!(msg.contains("'<f4' is not supported for ids") && msg.contains(data::NPY_ID_DTYPES), "{msg}");
    let p = tmp.path().join("gt.fvecs");
    let msg = format_msg(data::read_ids(&p).unwrap_err(), &p);
    assert!(msg.contains("unknown ground-truth file type '.fvecs'") && msg.contains(".ivecs, .ibin or .npy"), "{msg}");
}

/// Deterministic mutation fuzzing of small files of every format: opening and reading
/// every row either works or returns an error; nothing panics or allocates from a field.
#[test]
fn mutated_files_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let seeds = every_format(3, 4);
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x2545_f491_4f6c_dd1d);
    let mut next = move || rng.random::<u64>();
    for i in 0..6000 {
        let (name, seed, _, _) = &seeds[i % seeds.len()];
        let mut bytes = seed.clone();
        for _ in 0..1 + next() % 3 {
            let pos = (next() as usize) % bytes.len().max(1);
            match next() % 4 {
                0 if !bytes.is_empty() => bytes[pos] = next() as u8,
                1 => bytes.truncate(pos),
                2 => bytes.insert(pos.min(bytes.len()), next() as u8),
                _ if bytes.len() >= 4 => {
                    let v = (next() % 9) as u32;
                    let at = pos.min(bytes.len() - 4);
                    bytes[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                _ => {}
            }
        }
        let p = write(&tmp.path().join(name), &bytes);
        if let Ok(src) = data::open(&p) {
            assert!(src.data_bytes() <= bytes.len() as u64, "{name}: rows beyond the file");
            let mut out = vec![0f32; src.rows() * src.dim()];
            let _ = src.read_rows(0, &mut out);
        }
        let _ = data::read_ids(&p);
    }
}
