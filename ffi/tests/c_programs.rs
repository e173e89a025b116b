//! Builds the C11 and C++17 programs in `ffi/tests/c/` with `-Wall -Wextra -Wpedantic
//! -Werror`, links each against both `libvq.a` and `libvq.so`, and runs them; then builds
//! them once more with AddressSanitizer + UndefinedBehaviorSanitizer (leak detection on,
//! static link, so the whole program incl. the Rust code's heap is checked) and runs them.
//!
//! Only a C and a C++ compiler and bash are needed (`CC`/`CXX`, default `cc`/`c++`). The
//! libraries are the ones cargo built for this very test run (`cargo test` builds every crate
//! type of the package under test into the same `deps/` directory as this test's
//! executable), installed by `ffi/install.sh` into a scratch prefix: the programs link
//! `libvq` as a C user gets it, by `-lvq`, not cargo's `libvq_ffi` file names.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use vq::data::texmex;
use vq::metrics::recall_at_k;
use vq::{PqParams, ProductQuantizer, Quantizer, ScalarQuantizer, SqBits};

/// What the Rust standard library needs when linked statically into a C program
/// (`rustc --print native-static-libs` on Linux/glibc).
const NATIVE_STATIC_LIBS: &[&str] = &["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"];

const WARNINGS: &[&str] = &["-Wall", "-Wextra", "-Wpedantic", "-Werror"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The directory holding cargo's `libvq_ffi.a` and `libvq_ffi.so` from this build.
fn cargo_lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        if dir.join("libvq_ffi.a").exists() && dir.join("libvq_ffi.so").exists() {
            return dir.to_path_buf();
        }
    }
    panic!(
        "libvq_ffi.a / libvq_ffi.so not found next to {} (cargo builds them for `cargo test -p vq-ffi`)",
        exe.display()
    );
}

/// The prefix `ffi/install.sh` installed this build into (header, `lib/libvq.{a,so}`,
/// `lib/pkgconfig/vq.pc`), once per test process.
fn prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let prefix = tmp_dir("c-install");
        let out = Command::new("bash")
            .arg(root().join("ffi/install.sh"))
            .arg(&prefix)
            .env("VQ_NO_BUILD", "1")
            .env("VQ_LIB_DIR", cargo_lib_dir())
            .output()
            .unwrap_or_else(|e| panic!("cannot run bash: {e}"));
        assert!(out.status.success(), "ffi/install.sh failed:\n{}", String::from_utf8_lossy(&out.stderr));
        prefix
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Link {
    Static,
    Shared,
    Sanitized,
}

fn build(src: &str, link: Link) -> PathBuf {
    build_path(&root().join("ffi/tests/c").join(src), link)
}

fn build_path(path: &Path, link: Link) -> PathBuf {
    let src = path.file_name().unwrap().to_str().unwrap();
    let lib = prefix().join("lib");
    let cpp = src.ends_with(".cpp");
    let compiler = if cpp {
        std::env::var("CXX").unwrap_or_else(|_| "c++".into())
    } else {
        std::env::var("CC").unwrap_or_else(|_| "cc".into())
    };
    let tag = match link {
        Link::Static => "static",
        Link::Shared => "shared",
        Link::Sanitized => "asan",
    };
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("c-tests");
    std::fs::create_dir_all(&out_dir).unwrap();
    let exe = out_dir.join(format!("{}-{tag}", src.replace('.', "_")));
    let mut cmd = Command::new(&compiler);
    cmd.arg(if cpp { "-std=c++17" } else { "-std=c11" })
        .args(WARNINGS)
        .args(["-O1", "-g"])
        .arg("-I")
        .arg(prefix().join("include"))
        .arg("-I")
        .arg(root().join("ffi/tests/c"))
        .arg(path)
        .arg("-o")
        .arg(&exe);
    if link == Link::Sanitized {
        cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]);
    }
    match link {
        Link::Static | Link::Sanitized => {
            cmd.arg(lib.join("libvq.a")).args(NATIVE_STATIC_LIBS);
        }
        Link::Shared => {
            cmd.arg("-L").arg(&lib).arg("-lvq").arg(format!("-Wl,-rpath,{}", lib.display()));
        }
    }
    if cpp {
        cmd.arg("-pthread");
    } else {
        cmd.arg("-lm");
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} failed on {src} ({tag}):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// A command for a built program, as a C user runs it: without the `LD_LIBRARY_PATH` cargo
/// sets for tests, whose `target/*/deps` outranks the program's RUNPATH and may hold a stale
/// `libvq.so` from an older build (the shared-link programs then ran against it).
fn program(exe: &Path) -> Command {
    let mut cmd = Command::new(exe);
    cmd.env_remove("LD_LIBRARY_PATH");
    cmd
}

fn run(exe: &Path, args: &[&Path]) -> String {
    let out = program(exe)
        .args(args)
        .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0:exitcode=99")
        .env("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} failed ({}):\n{stdout}\n{stderr}", exe.display(), out.status);
    assert!(!stderr.contains("Sanitizer"), "{}: sanitizer report:\n{stderr}", exe.display());
    stdout.into_owned()
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture() -> PathBuf {
    root().join("tests/data")
}

/// The recall lines the lifecycle program prints.
fn value(stdout: &str, key: &str) -> f64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in output:\n{stdout}"))
        .parse()
        .unwrap()
}

/// The Rust library's recall@10 on the same data with the same settings as lifecycle.c.
fn rust_recalls() -> (f64, f64) {
    let dir = fixture();
    let (base, d) = texmex::read_fvecs(&dir.join("minilm_base_2k.fvecs")).unwrap();
    let (queries, _) = texmex::read_fvecs(&dir.join("minilm_query_100.fvecs")).unwrap();
    let (gt, _) = texmex::read_ivecs(&dir.join("minilm_gt_100.ivecs")).unwrap();
    let gt: Vec<i64> = gt.into_iter().map(i64::from).collect();
    let (nb, nq, k) = (base.len() / d, queries.len() / d, 10);
    let mut p = PqParams::new(48, 256);
    p.kmeans.seed = 42;
    p.kmeans.max_iter = 20;
    let pq = ProductQuantizer::train(d, &base, &p).unwrap();
    let sq = ScalarQuantizer::train(SqBits::B8, d, &base).unwrap();
    let recall = |q: &dyn Quantizer| {
        let mut codes = vec![0u8; nb * q.code_size()];
        q.encode(&base, &mut codes).unwrap();
        let (mut dist, mut lab) = (vec![0f32; nq * k], vec![0i64; nq * k]);
        q.search(&queries, &codes, k, &mut dist, &mut lab).unwrap();
        recall_at_k(&gt, 100, &lab, k, k).unwrap()
    };
    (recall(&pq), recall(&sq))
}

#[test]
fn c_and_cpp_programs_static_and_shared() {
    let (pq_want, sq_want) = rust_recalls();
    let tmp = tmp_dir("c-lifecycle");
    for link in [Link::Static, Link::Shared] {
        let out = run(&build("lifecycle.c", link), &[&fixture(), &tmp]);
        assert!(out.contains("lifecycle: ok"), "{out}");
        // The C caller gets exactly the Rust library's results.
        assert!((value(&out, "pq_recall10") - pq_want).abs() < 1e-6, "{out}\nRust: {pq_want}");
        assert!((value(&out, "sq8_recall10") - sq_want).abs() < 1e-6, "{out}\nRust: {sq_want}");
        assert!(run(&build("errors.c", link), &[&tmp]).contains("errors: ok"));
        assert!(run(&build("threads.cpp", link), &[&fixture()]).contains("threads: ok"));
        assert!(run(&build("metrics.c", link), &[&tmp]).contains("metrics: ok"));
        assert!(run(&build("opq.c", link), &[&tmp]).contains("opq: ok"));
        assert!(run(&build("rabitq.c", link), &[&tmp]).contains("rabitq: ok"));
        assert!(run(&build("fastscan.c", link), &[&tmp]).contains("fastscan: ok"));
    }
}

#[test]
fn c_and_cpp_programs_under_address_and_ub_sanitizers() {
    let tmp = tmp_dir("c-asan");
    assert!(run(&build("lifecycle.c", Link::Sanitized), &[&fixture(), &tmp]).contains("lifecycle: ok"));
    assert!(run(&build("errors.c", Link::Sanitized), &[&tmp]).contains("errors: ok"));
    assert!(run(&build("threads.cpp", Link::Sanitized), &[&fixture()]).contains("threads: ok"));
    assert!(run(&build("metrics.c", Link::Sanitized), &[&tmp]).contains("metrics: ok"));
    assert!(run(&build("opq.c", Link::Sanitized), &[&tmp]).contains("opq: ok"));
    assert!(run(&build("rabitq.c", Link::Sanitized), &[&tmp]).contains("rabitq: ok"));
    assert!(run(&build("fastscan.c", Link::Sanitized), &[&tmp]).contains("fastscan: ok"));
}

#[test]
fn the_example_builds_and_finds_neighbours() {
    let tmp = tmp_dir("c-example");
    let exe = build_path(&root().join("ffi/examples/pq_search.c"), Link::Static);
    let (base, query, gt) = (
        fixture().join("minilm_base_2k.fvecs"),
        fixture().join("minilm_query_100.fvecs"),
        fixture().join("minilm_gt_100.ivecs"),
    );
    let model = tmp.join("example.vqm");
    let out = program(&exe).args([&base, &query, &gt]).args(["48", "256"]).arg(&model).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let recall10: f64 = stdout
        .split("recall@10 ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no recall@10 in:\n{stdout}"));
    assert!(recall10 >= 0.5, "{stdout}");
    assert!(ProductQuantizer::load(&model).is_ok());
    // Without a ground-truth file it computes exact neighbours itself: same recall.
    let out = program(&exe).args([&base, &query]).arg("-").args(["48", "256"]).arg(&model).output().unwrap();
    let stdout2 = String::from_utf8_lossy(&out.stdout);
    assert!(stdout2.contains(&format!("recall@10 {recall10:.3}")), "{stdout2}\nvs\n{stdout}");
}

#[test]
fn install_script_and_pkg_config() {
    let prefix = prefix();
    for f in ["include/vq.h", "lib/libvq.a", "lib/libvq.so", "lib/pkgconfig/vq.pc"] {
        assert!(prefix.join(f).exists(), "{f} not installed");
    }
    // The installed libraries are this build's, renamed.
    let same = |installed: &str, built: &str| {
        std::fs::read(prefix.join("lib").join(installed)).unwrap()
            == std::fs::read(cargo_lib_dir().join(built)).unwrap()
    };
    assert!(same("libvq.a", "libvq_ffi.a") && same("libvq.so", "libvq_ffi.so"));
    let pc = std::fs::read_to_string(prefix.join("lib/pkgconfig/vq.pc")).unwrap();
    assert!(pc.contains(&format!("Version: {}", env!("CARGO_PKG_VERSION"))), "{pc}");
    assert!(pc.contains(&format!("prefix={}", prefix.display())) && !pc.contains('@'), "{pc}");
    // With pkg-config on the machine, its flags build and run a program against the install.
    let Ok(flags) = Command::new("pkg-config")
        .args(["--cflags", "--libs", "vq"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .output()
    else {
        eprintln!("pkg-config not installed: checked vq.pc's contents only");
        return;
    };
    assert!(flags.status.success(), "{}", String::from_utf8_lossy(&flags.stderr));
    let flags = String::from_utf8(flags.stdout).unwrap();
    let exe = prefix.join("version");
    let src = prefix.join("version.c");
    std::fs::write(&src, "#include <stdio.h>\n#include <vq.h>\nint main(void) { puts(vq_version()); return 0; }\n")
        .unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .arg(&src)
        .args(flags.split_whitespace())
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(status.success());
    let out = program(&exe).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), env!("CARGO_PKG_VERSION"));
}
