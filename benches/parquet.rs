//! Parquet read throughput the way vq-benchmark reads a data set: one pass of sequential
//! `read_rows` calls in batches of 16 MiB of f32 from one thread, into one reused buffer.
//! Prints decoded f32 GB/s and the bytes read per pass; run it under `/usr/bin/time -v`
//! for the peak RSS (it must not grow with the row count or the row-group size).
//!
//! `cargo bench --features parquet --bench parquet -- FILE.parquet...` (several files: one
//! line each). With no file it writes a 20,000 × 1536 list<float32> file with the Arrow
//! writer's defaults to the temporary directory and reads that. Issue 12's files (1 M ×
//! 1536, pyarrow defaults and 1000-row row groups) are written with pyarrow, e.g.
//! `pq.write_table(pa.table({'id': ids, 'emb': list_of_float32}), path, row_group_size=1000)`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::types::Float32Type;
use arrow_array::{ArrayRef, ListArray, RecordBatch};
use vq::data;

const BATCH_BYTES: usize = 16 << 20;

fn write_default(path: &std::path::Path, rows: usize, dim: usize) {
    let file = std::fs::File::create(path).unwrap();
    let mut w: Option<parquet::arrow::ArrowWriter<std::fs::File>> = None;
    let mut file = Some(file);
    for s in (0..rows).step_by(4096) {
        let n = 4096.min(rows - s);
        let list = ListArray::from_iter_primitive::<Float32Type, _, _>(
            (s..s + n).map(|r| Some((0..dim).map(move |j| Some(((r * dim + j) % 4093) as f32 / 512.0)))),
        );
        let batch = RecordBatch::try_from_iter([("emb", Arc::new(list) as ArrayRef)]).unwrap();
        let w = w.get_or_insert_with(|| {
            parquet::arrow::ArrowWriter::try_new(file.take().unwrap(), batch.schema(), None).unwrap()
        });
        w.write(&batch).unwrap();
    }
    w.unwrap().close().unwrap();
}

fn main() {
    let mut files: Vec<PathBuf> =
        std::env::args().skip(1).filter(|a| !a.starts_with("--")).map(PathBuf::from).collect();
    let tmp = tempfile::tempdir().unwrap();
    if files.is_empty() {
        let path = tmp.path().join("emb.parquet");
        write_default(&path, 20_000, 1536);
        files.push(path);
    }
    for path in files {
        let src = data::open(&path).unwrap();
        let batch_rows = (BATCH_BYTES / (4 * src.dim())).max(1);
        let mut out = vec![0f32; batch_rows * src.dim()];
        let t = Instant::now();
        let mut sum = 0f64;
        for s in (0..src.rows()).step_by(batch_rows) {
            let n = batch_rows.min(src.rows() - s);
            let out = &mut out[..n * src.dim()];
            src.read_rows(s, out).unwrap();
            sum += f64::from(out[0]);
        }
        let secs = t.elapsed().as_secs_f64();
        let gb = (src.rows() * src.dim() * 4) as f64 / 1e9;
        println!(
            "{}: {} x {} {}, {:.2} GB decoded in {:.2} s = {:.2} GB/s; read {:.3} x the column's {} compressed bytes (checksum {sum})",
            path.display(),
            src.rows(),
            src.dim(),
            src.dtype().name(),
            gb,
            secs,
            gb / secs,
            src.bytes_read() as f64 / src.data_bytes().max(1) as f64,
            src.data_bytes()
        );
    }
}
