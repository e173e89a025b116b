//! A C caller against the Rust library, on the same data in the same run:
//!
//! - ADC scan of 1 M codes (d = 128, m = 16, ksub = 256, one precomputed table),
//! - top-10 search of 20 queries over the same codes,
//! - loading a 100 MB model file (d = 384, m = 96, ksub = 65,536: 100.7 MB of centroids),
//!   beside `std::fs::read` of the same file (warm page cache), and `from_centroids` on the
//!   same codebook, which also builds the encoder's transposed copy (a loaded quantizer
//!   defers that to its first `encode`).
//!
//! The C side is `c_abi_bench.c`, compiled with `cc -O2` against this build's static library and
//! run as its own process; it times the calls exactly as the Rust side does (median of
//! `VQ_BENCH_REPS`, default 11). Rounds (`VQ_BENCH_ROUNDS`, default 5) alternate Rust and C
//! so drift on a shared machine hits both; the table reports each side's median over rounds.
//!
//! `cargo bench -p vq-ffi --bench c_abi`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use vq::{PqParams, ProductQuantizer, Quantizer};

fn rng(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    }
}

/// Roughly normal floats (sum of four uniforms), deterministic.
fn floats(n: usize, seed: u64) -> Vec<f32> {
    let mut r = rng(seed);
    (0..n).map(|_| (0..4).map(|_| (r() >> 40) as f32 / (1u64 << 24) as f32 - 0.5).sum::<f32>()).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_nanos() as f64
            })
            .collect(),
    )
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// This build's static library: cargo's `libvq_ffi.a`, which `ffi/install.sh` installs as
/// `libvq.a`.
fn libvq_a() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps, deps.parent().unwrap()]
        .iter()
        .map(|d| d.join("libvq_ffi.a"))
        .find(|p| p.exists())
        .expect("libvq_ffi.a next to the bench executable")
}

struct Rust {
    adc: f64,
    search: f64,
    /// The extern "C" functions called from this process: the ABI layer's own cost, with
    /// the same code placement as the library call.
    abi_adc: f64,
    abi_search: f64,
    read: f64,
    load: f64,
    transpose: f64,
}

fn rust_side(dir: &Path, reps: usize, big_centroids: &[f32]) -> Rust {
    let pq = ProductQuantizer::load(&dir.join("pq.vqm")).unwrap();
    let codes = std::fs::read(dir.join("codes.bin")).unwrap();
    let q: Vec<f32> = bytemuck_f32(&std::fs::read(dir.join("queries.bin")).unwrap());
    let (d, cs) = (pq.dim(), pq.code_size());
    let (n, nq, k) = (codes.len() / cs, q.len() / d, 10);
    let mut table = vec![0f32; pq.m() * pq.ksub()];
    pq.distance_table(&q[..d], &mut table).unwrap();
    let mut out = vec![0f32; n];
    let adc = time(reps, || pq.adc_scan(black_box(&table), black_box(&codes), &mut out).unwrap());
    let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
    let search = time(reps, || pq.search(black_box(&q), black_box(&codes), k, &mut dist, &mut lab).unwrap());
    black_box((&out, &lab));
    let path = std::ffi::CString::new(dir.join("pq.vqm").to_str().unwrap()).unwrap();
    let mut h = std::ptr::null_mut();
    // SAFETY: valid path, buffers of the stated lengths, a live handle freed once.
    let (abi_adc, abi_search) = unsafe {
        assert_eq!(vq_ffi::vq_pq_load(path.as_ptr(), &mut h), vq_ffi::vq_status::Ok);
        let adc = time(reps, || {
            let s = vq_ffi::vq_pq_adc_scan(
                h,
                table.as_ptr(),
                table.len(),
                codes.as_ptr(),
                codes.len(),
                out.as_mut_ptr(),
                n,
            );
            assert_eq!(s, vq_ffi::vq_status::Ok);
        });
        let search = time(reps, || {
            let s = vq_ffi::vq_pq_search(
                h,
                q.as_ptr(),
                q.len(),
                codes.as_ptr(),
                codes.len(),
                k,
                dist.as_mut_ptr(),
                dist.len(),
                lab.as_mut_ptr(),
                lab.len(),
            );
            assert_eq!(s, vq_ffi::vq_status::Ok);
        });
        vq_ffi::vq_pq_free(h);
        (adc, search)
    };
    let big = dir.join("big.vqm");
    let read = time(reps, || drop(black_box(std::fs::read(&big).unwrap())));
    let load = time(reps, || drop(black_box(ProductQuantizer::load(&big).unwrap())));
    // from_centroids alone, on a copy made outside the timed region.
    let transpose = median(
        (0..reps)
            .map(|_| {
                let c = big_centroids.to_vec();
                let t = Instant::now();
                drop(black_box(ProductQuantizer::from_centroids(384, 96, 65536, c).unwrap()));
                t.elapsed().as_nanos() as f64
            })
            .collect(),
    );
    Rust { adc, search, abi_adc, abi_search, read, load, transpose }
}

fn bytemuck_f32(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn main() {
    let rounds = env_usize("VQ_BENCH_ROUNDS", 5);
    let reps = env_usize("VQ_BENCH_REPS", 11);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c_abi_bench");
    std::fs::create_dir_all(&dir).unwrap();

    // The scan workload: a trained 16 x 256 codebook, 1 M random codes (every byte is a valid
    // sub-code at ksub = 256), 20 queries.
    let d = 128;
    let mut p = PqParams::new(16, 256);
    p.kmeans.max_iter = 10;
    p.kmeans.threads = 1;
    let pq = ProductQuantizer::train(d, &floats(20_000 * d, 1), &p).unwrap();
    pq.save(&dir.join("pq.vqm")).unwrap();
    let mut r = rng(2);
    let codes: Vec<u8> = (0..1_000_000 * pq.code_size()).map(|_| (r() >> 56) as u8).collect();
    std::fs::write(dir.join("codes.bin"), &codes).unwrap();
    let q = floats(20 * d, 3);
    std::fs::write(dir.join("queries.bin"), q.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>()).unwrap();

    // The 100 MB model: 65,536 centroids per sub-quantizer over 384 dimensions.
    let big_centroids = floats(65536 * 384, 4);
    let big = ProductQuantizer::from_centroids(384, 96, 65536, big_centroids.clone()).unwrap();
    big.save(&dir.join("big.vqm")).unwrap();
    let big_bytes = std::fs::metadata(dir.join("big.vqm")).unwrap().len();
    drop(big);

    let exe = dir.join("c_abi_bench");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(&cc)
        .args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(root.join("ffi/benches/c_abi_bench.c"))
        .arg(libvq_a())
        .args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc", "-o"])
        .arg(&exe)
        .status()
        .unwrap();
    assert!(st.success(), "{cc} failed");

    println!("vq {} SIMD {}, {rounds} rounds x {reps} reps", env!("CARGO_PKG_VERSION"), vq::simd_level());
    println!(
        "round  rust_adc_ms  abi_adc_ms  c_adc_ms  rust_search_ms  abi_search_ms  c_search_ms  read_ms  rust_load_ms  c_load_ms  transpose_ms"
    );
    let (mut ra, mut ca, mut rs, mut cs, mut rd, mut rl, mut cl, mut tr) = Default::default();
    let (mut aa, mut as_): (Vec<f64>, Vec<f64>) = Default::default();
    let push = |v: &mut Vec<f64>, x: f64| v.push(x);
    for round in 0..rounds {
        let rust = rust_side(&dir, reps, &big_centroids);
        let out = Command::new(&exe).arg(&dir).arg(reps.to_string()).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let c = |key: &str| -> f64 {
            text.lines().find_map(|l| l.strip_prefix(&format!("{key} "))).unwrap().trim().parse().unwrap()
        };
        println!(
            "{round:>5}  {:>11.3}  {:>10.3}  {:>8.3}  {:>14.2}  {:>13.2}  {:>11.2}  {:>7.2}  {:>12.2}  {:>9.2}  {:>12.2}",
            rust.adc / 1e6,
            rust.abi_adc / 1e6,
            c("adc_scan") / 1e6,
            rust.search / 1e6,
            rust.abi_search / 1e6,
            c("search") / 1e6,
            rust.read / 1e6,
            rust.load / 1e6,
            c("load_100mb") / 1e6,
            rust.transpose / 1e6
        );
        push(&mut ra, rust.adc);
        push(&mut aa, rust.abi_adc);
        push(&mut as_, rust.abi_search);
        push(&mut ca, c("adc_scan"));
        push(&mut rs, rust.search);
        push(&mut cs, c("search"));
        push(&mut rd, rust.read);
        push(&mut rl, rust.load);
        push(&mut cl, c("load_100mb"));
        push(&mut tr, rust.transpose);
    }
    let (ra, ca, rs, cs, rd, rl, cl, tr) =
        (median(ra), median(ca), median(rs), median(cs), median(rd), median(rl), median(cl), median(tr));
    let (aa, as_) = (median(aa), median(as_));
    let n = 1e6;
    println!();
    println!("medians over rounds:");
    println!(
        "  ADC scan, 1 M codes:      Rust {:.3} ns/code, ABI from Rust {:.3}, C {:.3}; ABI/Rust {:.3}, C/Rust {:.3}",
        ra / n,
        aa / n,
        ca / n,
        aa / ra,
        ca / ra
    );
    println!(
        "  search, 20 q x 1 M codes: Rust {:.3} ns/code, ABI from Rust {:.3}, C {:.3}; ABI/Rust {:.3}, C/Rust {:.3}",
        rs / (20.0 * n),
        as_ / (20.0 * n),
        cs / (20.0 * n),
        as_ / rs,
        cs / rs
    );
    println!(
        "  100 MB model ({big_bytes} bytes): fs::read {:.1} ms ({:.2} GB/s), Rust load {:.1} ms, C load {:.1} ms; load/read {:.2}",
        rd / 1e6,
        big_bytes as f64 / rd,
        rl / 1e6,
        cl / 1e6,
        rl / rd,
    );
    println!(
        "    from_centroids on the same codebook (with the encoder's transposed copy, which a loaded model builds on its first encode): {:.1} ms",
        tr / 1e6,
    );
}
