//! `include/vq.h` is what cbindgen makes of `ffi/src` today. A stale header fails this test;
//! `VQ_BLESS=1 cargo test -p vq-ffi --test header` rewrites it.

use std::path::Path;

#[test]
fn committed_header_matches_the_code() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = crate_dir.join("../include/vq.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen failed on ffi/src")
        .write(&mut generated);
    let generated = String::from_utf8(generated).expect("cbindgen wrote UTF-8");
    if std::env::var_os("VQ_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&header, &generated).expect("write include/vq.h");
        return;
    }
    let committed = std::fs::read_to_string(&header).unwrap_or_default();
    if committed != generated {
        let line = committed.lines().zip(generated.lines()).position(|(a, b)| a != b).unwrap_or(0) + 1;
        panic!(
            "include/vq.h is stale: first difference at line {line}.\n  committed: {:?}\n  generated: {:?}\n\
             Review the change, then run `VQ_BLESS=1 cargo test -p vq-ffi --test header`.",
            committed.lines().nth(line - 1).unwrap_or("<end>"),
            generated.lines().nth(line - 1).unwrap_or("<end>")
        );
    }
}
