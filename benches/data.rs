//! Dataset reading throughput: a 1 GiB `.fbin` (262,144 × 1024 f32) and the same rows as a
//! float16 `.npy` (512 MiB), read through `vq::data` in batches of 4096 rows into one
//! reused buffer. Throughput is decoded f32 bytes per second, from the page cache (the
//! files are written just before, so this measures the reader, not the disk).
//!
//! `cargo bench --bench data`. The files go to `$VQ_BENCH_DATA_DIR`, or the system's
//! temporary directory, and are removed afterwards.

mod common;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::io::Write;
use std::path::Path;
use vq::data::{self, VectorWriter};

const ROWS: usize = 262_144;
const DIM: usize = 1024;
const BATCH: usize = 4096;

/// Rows `r..r + BATCH` of the synthetic data set: cheap, varied, finite.
fn fill(r: usize, out: &mut [f32]) {
    for (i, v) in out.iter_mut().enumerate() {
        *v = (((r * DIM + i) % 4093) as f32 - 2046.0) / 512.0;
    }
}

fn write_files(dir: &Path) {
    let mut batch = vec![0f32; BATCH * DIM];
    let mut fbin = VectorWriter::create(&dir.join("base.fbin"), DIM).unwrap();
    let mut npy = std::io::BufWriter::new(std::fs::File::create(dir.join("base_f16.npy")).unwrap());
    npy.write_all(&data::npy_header("<f2", ROWS as u64, DIM)).unwrap();
    for r in (0..ROWS).step_by(BATCH) {
        fill(r, &mut batch);
        fbin.write_rows(&batch).unwrap();
        let h: Vec<u8> = batch.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect();
        npy.write_all(&h).unwrap();
    }
    fbin.finish().unwrap();
    npy.into_inner().unwrap().sync_all().unwrap();
}

fn read(c: &mut Criterion) {
    let base = std::env::var_os("VQ_BENCH_DATA_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(base).unwrap();
    write_files(dir.path());
    let mut g = c.benchmark_group("data/read_4096_rows");
    g.throughput(Throughput::Bytes((ROWS * DIM * 4) as u64));
    for name in ["base.fbin", "base_f16.npy"] {
        let src = data::open(&dir.path().join(name)).unwrap();
        assert_eq!((src.rows(), src.dim()), (ROWS, DIM));
        let mut out = vec![0f32; BATCH * DIM];
        g.bench_function(name, |b| {
            b.iter(|| {
                for r in (0..ROWS).step_by(BATCH) {
                    src.read_rows(r, &mut out).unwrap();
                }
            })
        });
    }
    g.finish();
}

#[allow(missing_docs)] // criterion_group! makes an undocumented pub fn
mod group {
    use super::*;
    criterion_group! { name = benches; config = common::config(500, 10, 10); targets = read }
}
criterion_main!(group::benches);
