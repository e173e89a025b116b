//! `vq::data::parquet`: every accepted column type read back exactly, any row range across
//! row groups and files equal to the written rows, partial reads decoding only what they
//! need, text columns, and every bad input reported with the file, the column and the row.
//! Each test writes its own files with the Arrow writer in a temporary directory.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::types::{Float16Type, Float32Type, Float64Type, Int64Type};
use arrow_array::{ArrayRef, FixedSizeListArray, Int64Array, LargeListArray, ListArray, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use proptest::prelude::*;
use vq::data::{self, parquet as pq, Dtype, VectorSource};
use vq::Error;

/// Values exact in float16 (multiples of 1/4 below 64), distinct enough to catch a shift.
fn values(rows: usize, dim: usize, seed: usize) -> Vec<f32> {
    (0..rows * dim).map(|i| (((i + seed) * 37 + 11) % 251) as f32 / 4.0 - 31.0).collect()
}

fn rows_of(vals: &[f32], dim: usize) -> impl Iterator<Item = Option<Vec<Option<f32>>>> + '_ {
    vals.chunks(dim).map(|r| Some(r.iter().map(|&v| Some(v)).collect()))
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    ListF32,
    ListF64,
    ListF16,
    LargeListF32,
    FixedF32,
}

fn emb(kind: Kind, vals: &[f32], dim: usize) -> ArrayRef {
    match kind {
        Kind::ListF32 => Arc::new(ListArray::from_iter_primitive::<Float32Type, _, _>(rows_of(vals, dim))),
        Kind::ListF64 => Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
            rows_of(vals, dim).map(|r| r.map(|r| r.into_iter().map(|v| v.map(f64::from)).collect::<Vec<_>>())),
        )),
        Kind::ListF16 => Arc::new(ListArray::from_iter_primitive::<Float16Type, _, _>(
            rows_of(vals, dim)
                .map(|r| r.map(|r| r.into_iter().map(|v| v.map(half::f16::from_f32)).collect::<Vec<_>>())),
        )),
        Kind::LargeListF32 => Arc::new(LargeListArray::from_iter_primitive::<Float32Type, _, _>(rows_of(vals, dim))),
        Kind::FixedF32 => {
            Arc::new(FixedSizeListArray::from_iter_primitive::<Float32Type, _, _>(rows_of(vals, dim), dim as i32))
        }
    }
}

/// A table of `id` (int64), `text` (string) and `emb`.
fn table(kind: Kind, vals: &[f32], dim: usize, first_id: usize) -> RecordBatch {
    let n = vals.len() / dim;
    let ids = Int64Array::from_iter_values((first_id..first_id + n).map(|i| i as i64));
    let texts = StringArray::from_iter_values((first_id..first_id + n).map(|i| format!("text {i}")));
    RecordBatch::try_from_iter([
        ("id", Arc::new(ids) as ArrayRef),
        ("text", Arc::new(texts) as ArrayRef),
        ("emb", emb(kind, vals, dim)),
    ])
    .unwrap()
}

/// Many small row groups and pages, so every read crosses their boundaries.
fn props(group_rows: usize, page_index: bool) -> WriterProperties {
    WriterProperties::builder()
        .set_max_row_group_row_count(Some(group_rows))
        .set_data_page_row_count_limit(7)
        .set_write_batch_size(7)
        .set_compression(Compression::SNAPPY)
        .set_offset_index_disabled(!page_index)
        .build()
}

fn write(path: &Path, batch: &RecordBatch, props: WriterProperties) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    if batch.num_rows() > 0 {
        w.write(batch).unwrap();
    }
    w.close().unwrap();
}

fn read(src: &VectorSource, start: usize, n: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; n * src.dim()];
    src.read_rows(start, &mut out).unwrap();
    out
}

fn format_message(e: Error) -> (String, String) {
    match e {
        Error::Format { path, message } => (path, message),
        other => panic!("expected Error::Format, got {other:?}"),
    }
}

fn expect_format(r: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    format_message(r.expect_err("expected an error"))
}

#[test]
fn every_column_type_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, dim) = (300, 12);
    let vals = values(rows, dim, 0);
    for (kind, dtype) in [
        (Kind::ListF32, Dtype::F32),
        (Kind::ListF64, Dtype::F64),
        (Kind::ListF16, Dtype::F16),
        (Kind::LargeListF32, Dtype::F32),
        (Kind::FixedF32, Dtype::F32),
    ] {
        let path = dir.path().join(format!("{kind:?}.parquet"));
        write(&path, &table(kind, &vals, dim, 0), props(64, true));
        // `data::open` takes the only float-list column.
        let src = data::open(&path).unwrap();
        assert_eq!((src.rows(), src.dim(), src.dtype()), (rows, dim, dtype), "{kind:?}");
        assert_eq!(read(&src, 0, rows), vals, "{kind:?}");
        assert_eq!(read(&src, 123, 5), vals[123 * dim..128 * dim], "{kind:?}");
    }
}

/// Three files (one empty) of row groups of 64 rows and pages of 7, one of them without a
/// page index: the reference rows and the source, for the range tests.
fn shards(dir: &Path) -> (VectorSource, Vec<f32>, usize) {
    let dim = 5;
    let sizes = [250, 0, 333, 417];
    let mut all = Vec::new();
    let mut files = Vec::new();
    for (i, &n) in sizes.iter().enumerate() {
        let vals = values(n, dim, i * 1000);
        let path = dir.join(format!("train-{i:05}-of-00004.parquet"));
        write(&path, &table(Kind::ListF32, &vals, dim, all.len() / dim), props(64, i != 2));
        all.extend_from_slice(&vals);
        files.push(path);
    }
    let src = pq::open(&files, Some("emb"), Path::new("hub/dataset")).unwrap();
    assert_eq!((src.rows(), src.dim()), (1000, dim));
    assert_eq!(src.files().map(|(_, n)| n).collect::<Vec<_>>(), sizes);
    (src, all, dim)
}

#[test]
fn any_range_across_groups_and_files_backwards_and_in_passes() {
    let dir = tempfile::tempdir().unwrap();
    let (src, all, dim) = shards(dir.path());
    let want = |s: usize, n: usize| &all[s * dim..(s + n) * dim];
    assert_eq!(read(&src, 0, 1000), all);
    // Backwards, across row groups (64), files (250, 583) and pages (7).
    for (s, n) in [(990, 10), (583, 1), (582, 2), (249, 2), (600, 150), (63, 2), (0, 1), (100, 800), (999, 1)] {
        assert_eq!(read(&src, s, n), want(s, n), "rows {s}..{}", s + n);
    }
    // Passes in batches of several sizes: the read-ahead path, across file boundaries.
    for batch in [1, 7, 64, 100, 333] {
        for s in (0..1000).step_by(batch) {
            let n = batch.min(1000 - s);
            assert_eq!(read(&src, s, n), want(s, n), "batch {batch}, rows {s}..{}", s + n);
        }
    }
    // A pass abandoned half way, then another one from elsewhere.
    for s in (0..500).step_by(50) {
        assert_eq!(read(&src, s, 50), want(s, 50));
    }
    for s in (300..1000).step_by(70) {
        assert_eq!(read(&src, s, 70), want(s, 70));
    }
    assert_eq!(src.locate(583).unwrap().1, 0);
    assert!(src.locate(583).unwrap().0.ends_with("train-00003-of-00004.parquet"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Sorted random gathers, runs of consecutive rows read as one, as the benchmark's
    /// training samples are.
    #[test]
    fn sorted_gathers_equal_the_rows(mut picks in proptest::collection::vec(0usize..1000, 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let (src, all, dim) = shards(dir.path());
        picks.sort_unstable();
        picks.dedup();
        let mut i = 0;
        while i < picks.len() {
            let mut j = i + 1;
            while j < picks.len() && picks[j] == picks[j - 1] + 1 {
                j += 1;
            }
            let (s, n) = (picks[i], j - i);
            prop_assert_eq!(read(&src, s, n), &all[s * dim..(s + n) * dim]);
            i = j;
        }
    }
}

#[test]
fn a_few_rows_read_only_their_pages_and_a_pass_reads_the_column_once() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, dim) = (20_000, 16);
    let vals = values(rows, dim, 3);
    let path = dir.path().join("big.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(1000))
        .set_data_page_row_count_limit(100)
        .set_write_batch_size(100)
        .build();
    write(&path, &table(Kind::ListF32, &vals, dim, 0), props);
    let src = data::open(&path).unwrap();
    assert_eq!(src.bytes_read(), 0);
    assert_eq!(read(&src, 0, 10), vals[..10 * dim]);
    assert!(src.bytes_read() > 0);
    assert!(
        src.bytes_read() * 100 < src.data_bytes(),
        "the first 10 rows read {} of {} bytes",
        src.bytes_read(),
        src.data_bytes()
    );
    // A pass in batches counts the column about once (the first batch's row group twice).
    let before = src.bytes_read();
    let mut out = vec![0f32; 1024 * dim];
    for s in (0..rows).step_by(1024) {
        let n = 1024.min(rows - s);
        src.read_rows(s, &mut out[..n * dim]).unwrap();
        assert_eq!(out[..n * dim], vals[s * dim..(s + n) * dim]);
    }
    let pass = (src.bytes_read() - before) as f64 / src.data_bytes() as f64;
    assert!((0.98..1.1).contains(&pass), "one pass read {pass} times the column");
    // The column's bytes, not the file's: the id and text columns are not read.
    let file_len = std::fs::metadata(&path).unwrap().len();
    assert!(src.data_bytes() < file_len);
}

/// A sorted gather over one large row group without a page index (pyarrow's defaults)
/// decodes the group about once, not once per run: each run continues from the last.
#[test]
fn a_sorted_gather_in_one_large_row_group_decodes_it_about_once() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, dim) = (24_000, 512);
    let vals = values(rows, dim, 5);
    let path = dir.path().join("one_group.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .set_offset_index_disabled(true)
        .set_compression(Compression::SNAPPY)
        .build();
    write(&path, &table(Kind::ListF32, &vals, dim, 0), props);
    let src = data::open(&path).unwrap();
    let mut picks: Vec<usize> = (0..300).map(|i| (i * 7919 + 13) % rows).collect();
    picks.sort_unstable();
    picks.dedup();
    for &r in &picks {
        assert_eq!(read(&src, r, 1), vals[r * dim..(r + 1) * dim], "row {r}");
    }
    let ratio = src.bytes_read() as f64 / src.data_bytes() as f64;
    assert!(ratio < 1.5, "a gather of {} rows read {ratio:.1} times the column", picks.len());
}

#[test]
fn the_column_is_picked_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let vals = values(20, 4, 0);
    let path = dir.path().join("two.parquet");
    let b = table(Kind::ListF32, &vals, 4, 0);
    let two = RecordBatch::try_from_iter([
        ("id", b.column(0).clone()),
        ("a", emb(Kind::ListF64, &vals, 4)),
        ("b", emb(Kind::FixedF32, &vals, 4)),
    ])
    .unwrap();
    write(&path, &two, props(64, true));
    let (file, msg) = expect_format(data::open(&path));
    assert!(file.ends_with("two.parquet"), "{file}");
    assert!(msg.contains("several vector columns (a, b)"), "{msg}");
    let src = pq::open(std::slice::from_ref(&path), Some("b"), &path).unwrap();
    assert_eq!((src.dtype(), read(&src, 0, 20)), (Dtype::F32, vals.clone()));
    let src = pq::open(std::slice::from_ref(&path), Some("a"), &path).unwrap();
    assert_eq!((src.dtype(), read(&src, 0, 20)), (Dtype::F64, vals.clone()));

    let cols = pq::columns(&path).unwrap();
    let cols: Vec<(&str, &str)> = cols.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_eq!(cols, [("id", "int64"), ("a", "list<float64>"), ("b", "fixed_size_list<float32>[4]")]);

    let none = dir.path().join("none.parquet");
    let b = RecordBatch::try_from_iter([("id", b.column(0).clone()), ("text", b.column(1).clone())]).unwrap();
    write(&none, &b, props(64, true));
    let (_, msg) = expect_format(data::open(&none));
    assert!(msg.contains("no column of vectors") && msg.contains("text (string)"), "{msg}");
}

#[test]
fn column_errors_name_the_file_column_and_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let vals = values(30, 4, 0);
    let path = dir.path().join("t.parquet");
    let b = table(Kind::ListF32, &vals, 4, 0);
    let ints = ListArray::from_iter_primitive::<Int64Type, _, _>((0..30).map(|i| Some(vec![Some(i); 4])));
    let b = RecordBatch::try_from_iter(
        b.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .zip(b.columns().iter().cloned())
            .chain([("ints".to_string(), Arc::new(ints) as ArrayRef)]),
    )
    .unwrap();
    write(&path, &b, props(64, true));
    let files = [path.clone()];

    let (file, msg) = expect_format(pq::open(&files, Some("embedding"), &path));
    assert!(file.ends_with("t.parquet"));
    assert!(msg.contains("no column 'embedding'"), "{msg}");
    assert!(msg.contains("id (int64), text (string), emb (list<float32>), ints (list<int64>)"), "{msg}");

    let (_, msg) = expect_format(pq::open(&files, Some("text"), &path));
    assert!(msg.contains("'text' is text") && msg.contains("--hf-text-column"), "{msg}");

    let (_, msg) = expect_format(pq::open(&files, Some("ints"), &path));
    assert!(msg.contains("'ints' is list<int64>, not vectors") && msg.contains("float32"), "{msg}");

    let (_, msg) = expect_format(pq::open(&files, Some("id"), &path));
    assert!(msg.contains("'id' is int64"), "{msg}");
}

/// A list<float32> column whose rows are given one by one (None: a null row).
fn write_rows(path: &Path, rows: Vec<Option<Vec<Option<f32>>>>) {
    let a = ListArray::from_iter_primitive::<Float32Type, _, _>(rows);
    let b = RecordBatch::try_from_iter([("emb", Arc::new(a) as ArrayRef)]).unwrap();
    write(path, &b, props(4, true));
}

#[test]
fn nulls_and_wrong_lengths_name_the_row() {
    let dir = tempfile::tempdir().unwrap();
    let good = || Some(vec![Some(1.0f32); 8]);
    type RowOf<'a> = Box<dyn Fn(usize) -> Option<Vec<Option<f32>>> + 'a>;
    let cases: [(&str, RowOf<'_>, &str); 4] = [
        ("null_row.parquet", Box::new(|r| if r == 13 { None } else { good() }), "row 13 is null"),
        (
            "null_elem.parquet",
            Box::new(|r| {
                let mut v = good();
                if r == 9 {
                    v.as_mut().unwrap()[2] = None;
                }
                v
            }),
            "row 9 has a null element at index 2",
        ),
        (
            "short.parquet",
            Box::new(|r| if r == 11 { Some(vec![Some(0.5); 5]) } else { good() }),
            "row 11 has length 5, but row 0 had 8",
        ),
        ("null_first.parquet", Box::new(|r| if r == 0 { None } else { good() }), "row 0 is null"),
    ];
    for (name, row, want) in cases {
        let path = dir.path().join(name);
        write_rows(&path, (0..20).map(&row).collect());
        let err = data::open(&path).and_then(|src| {
            // Both ways in: exact reads, and a pass (the read-ahead worker).
            let mut out = vec![0f32; 8];
            let exact = (0..20).try_for_each(|r| src.read_rows(r, &mut out));
            let (_, m1) = format_message(exact.expect_err(name));
            assert!(m1.contains(want), "{name}: {m1}");
            let mut out = vec![0f32; 3 * 8];
            (0..18).step_by(3).try_for_each(|r| src.read_rows(r, &mut out))?;
            src.read_rows(18, &mut out[..16])
        });
        let (file, msg) = expect_format(err);
        assert!(file.ends_with(name), "{file}");
        assert!(msg.contains(want) && msg.contains("column 'emb'"), "{name}: {msg}");
    }
}

#[test]
fn files_disagreeing_on_dimension_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    write(&a, &table(Kind::ListF32, &values(10, 4, 0), 4, 0), props(64, true));
    write(&b, &table(Kind::ListF32, &values(10, 6, 0), 6, 10), props(64, true));
    let (file, msg) = expect_format(pq::open(&[a, b], None, dir.path()));
    assert!(file.ends_with("b.parquet"), "{file}");
    assert!(msg.contains("dimension 6") && msg.contains("a.parquet has dimension 4"), "{msg}");
}

#[test]
fn truncated_or_foreign_files_are_named_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train-00000-of-00002.parquet");
    write(&path, &table(Kind::ListF32, &values(100, 4, 0), 4, 0), props(64, true));
    let bytes = std::fs::read(&path).unwrap();
    for cut in [bytes.len() - 1, bytes.len() / 2, 11, 4, 0] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let (file, msg) = expect_format(data::open(&path));
        assert!(file.ends_with("train-00000-of-00002.parquet"), "{file}");
        assert!(msg.contains("truncated or not a Parquet file") && msg.contains("re-download"), "cut {cut}: {msg}");
    }
    // The magic intact but the metadata length past the start of the file.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(&path, &bad).unwrap();
    let (_, msg) = expect_format(data::open(&path));
    assert!(msg.contains("declares 4294967295 bytes of metadata"), "{msg}");
    // Corrupt metadata.
    let mut bad = bytes.clone();
    let meta_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    bad[n - 8 - meta_len..n - 8].fill(0xEE);
    std::fs::write(&path, &bad).unwrap();
    let (_, msg) = expect_format(data::open(&path));
    assert!(msg.contains("cannot read its metadata"), "{msg}");
}

#[test]
fn a_folder_of_parquet_files_is_read_as_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (values(40, 3, 0), values(25, 3, 7));
    write(&dir.path().join("part-0.parquet"), &table(Kind::ListF32, &a, 3, 0), props(16, true));
    write(&dir.path().join("part-1.parquet"), &table(Kind::FixedF32, &b, 3, 40), props(16, false));
    let src = data::open(dir.path()).unwrap();
    assert!(src.is_sharded());
    assert_eq!(read(&src, 0, 65), [a, b].concat());
}

#[test]
fn text_columns_read_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("t{i}.parquet"))).collect();
    let sizes = [30, 0, 45];
    let mut first = 0;
    for (f, &n) in files.iter().zip(&sizes) {
        write(f, &table(Kind::ListF32, &values(n, 2, 0), 2, first), props(8, true));
        first += n;
    }
    let text = pq::text_column(&files, "text").unwrap();
    assert_eq!(text.rows(), 75);
    let want = |s: usize, n: usize| (s..s + n).map(|i| format!("text {i}")).collect::<Vec<_>>();
    assert_eq!(text.read_texts(0, 75).unwrap(), want(0, 75));
    for (s, n) in [(70, 5), (29, 2), (0, 1), (10, 30), (40, 0), (31, 44)] {
        assert_eq!(text.read_texts(s, n).unwrap(), want(s, n), "{s}+{n}");
    }
    for s in (0..75).step_by(4) {
        let n = 4.min(75 - s);
        assert_eq!(text.read_texts(s, n).unwrap(), want(s, n), "{s}+{n}");
    }
    assert!(matches!(text.read_texts(70, 6), Err(Error::RowRange { .. })));

    let (file, msg) = expect_format(pq::text_column(&files, "emb"));
    assert!(file.ends_with("t0.parquet") && msg.contains("'emb' is list<float32>, not text"), "{msg}");
    let (_, msg) = expect_format(pq::text_column(&files, "body"));
    assert!(msg.contains("no column 'body'"), "{msg}");

    let nulls = dir.path().join("nulls.parquet");
    let s = StringArray::from(vec![Some("a"), Some("b"), None, Some("d")]);
    write(&nulls, &RecordBatch::try_from_iter([("text", Arc::new(s) as ArrayRef)]).unwrap(), props(2, true));
    let text = pq::text_column(&[nulls], "text").unwrap();
    assert_eq!(text.read_texts(0, 2).unwrap(), ["a", "b"]);
    let (file, msg) = expect_format(text.read_texts(1, 3));
    assert!(file.ends_with("nulls.parquet") && msg.contains("row 2 is null"), "{msg}");
}

#[test]
fn readers_are_send_and_sync_and_share_one_source() {
    fn check<T: Send + Sync>() {}
    check::<VectorSource>();
    check::<pq::TextColumn>();
    let dir = tempfile::tempdir().unwrap();
    let (src, all, dim) = shards(dir.path());
    std::thread::scope(|s| {
        for t in 0..2 {
            let (src, all) = (&src, &all);
            s.spawn(move || {
                for k in 0..50 {
                    let start = (k * 97 + t * 13) % 990;
                    assert_eq!(read(src, start, 10), all[start * dim..(start + 10) * dim]);
                }
            });
        }
    });
}

/// The fast list<float32/float64> decoder under every writer setting it meets on the Hub:
/// dictionary pages (falling back to plain), data pages v1 and v2, snappy, zstd and none,
/// with and without a page index; whole passes, exact reads and reads from mid-page.
#[test]
fn encodings_codecs_and_page_versions_read_back_exactly() {
    use parquet::basic::ZstdLevel;
    use parquet::file::properties::WriterVersion;
    let dir = tempfile::tempdir().unwrap();
    let (rows, dim) = (500, 16);
    let vals = values(rows, dim, 3);
    let codecs = [Compression::UNCOMPRESSED, Compression::SNAPPY, Compression::ZSTD(ZstdLevel::default())];
    for kind in [Kind::ListF32, Kind::ListF64, Kind::LargeListF32, Kind::FixedF32] {
        for version in [WriterVersion::PARQUET_1_0, WriterVersion::PARQUET_2_0] {
            for (c, codec) in codecs.into_iter().enumerate() {
                for (dict, index) in [(true, true), (false, false), (true, false)] {
                    let path = dir.path().join(format!("{kind:?}-{version:?}-{c}-{dict}-{index}.parquet"));
                    let props = WriterProperties::builder()
                        .set_writer_version(version)
                        .set_max_row_group_row_count(Some(150))
                        .set_data_page_row_count_limit(9)
                        .set_write_batch_size(9)
                        .set_dictionary_enabled(dict)
                        .set_dictionary_page_size_limit(256)
                        .set_compression(codec)
                        .set_offset_index_disabled(!index)
                        .build();
                    write(&path, &table(kind, &vals, dim, 0), props);
                    let src = data::open(&path).unwrap();
                    let what = path.display().to_string();
                    assert_eq!(read(&src, 0, rows), vals, "{what}");
                    assert_eq!(read(&src, 141, 20), vals[141 * dim..161 * dim], "{what}");
                    assert_eq!(read(&src, 499, 1), vals[499 * dim..], "{what}");
                    let mut pass = Vec::new();
                    for s in (0..rows).step_by(37) {
                        pass.extend(read(&src, s, 37.min(rows - s)));
                    }
                    assert_eq!(pass, vals, "{what}");
                }
            }
        }
    }
}

/// Corrupted page bytes (any byte of the column's chunks overwritten, or the chunks cut
/// short in place) are errors or, where the damage lands in values, other numbers: never
/// a panic or a hang.
#[test]
fn corrupted_pages_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let (rows, dim) = (60, 8);
    let vals = values(rows, dim, 1);
    let path = dir.path().join("good.parquet");
    write(&path, &table(Kind::ListF32, &vals, dim, 0), props(25, false));
    let good = std::fs::read(&path).unwrap();
    // The column chunks lie between the header and the footer's metadata.
    let meta_len = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap()) as usize;
    let data_end = good.len() - 8 - meta_len;
    let bad = dir.path().join("bad.parquet");
    for (k, at) in (4..data_end).step_by(7).enumerate() {
        let mut bytes = good.clone();
        if k % 3 == 2 {
            bytes[at..data_end].fill(0);
        } else {
            bytes[at] ^= 0x5a + (k as u8 % 0x20);
        }
        std::fs::write(&bad, &bytes).unwrap();
        let Ok(src) = data::open(&bad) else { continue };
        let mut out = vec![0f32; rows * src.dim()];
        let _ = src.read_rows(0, &mut out);
        let mut out = vec![0f32; 7 * src.dim()];
        let _ = (0..rows - 7).step_by(7).try_for_each(|s| src.read_rows(s, &mut out));
    }
}
