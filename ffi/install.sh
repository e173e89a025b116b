#!/usr/bin/env bash
# Installs the C library: include/vq.h, libvq.a, libvq.so and a pkg-config file vq.pc.
#
#   ffi/install.sh [PREFIX]          # default /usr/local; builds with cargo first
#
# Environment: LIBDIR (default PREFIX/lib), VQ_LIB_DIR (where cargo wrote libvq_ffi.a/.so;
# default target/release), VQ_NO_BUILD=1 (skip `cargo build --release -p vq-ffi`).
#
# Cargo names the libraries after the Rust crate, vq_ffi (the name vq belongs to the Rust
# library); C programs link -lvq, so they are installed as libvq.a and libvq.so.
# Then: cc app.c $(pkg-config --cflags --libs vq)            # shared
#       cc app.c $(pkg-config --static --cflags --libs vq)   # static, with libvq.a only
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
prefix="${1:-/usr/local}"
libdir="${LIBDIR:-$prefix/lib}"
src="${VQ_LIB_DIR:-$root/target/release}"
if [ "${VQ_NO_BUILD:-0}" != 1 ]; then
    (cd "$root" && cargo build --release -p vq-ffi)
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/ffi/Cargo.toml" | head -n1)"
install -d "$prefix/include" "$libdir/pkgconfig"
install -m 644 "$root/include/vq.h" "$prefix/include/vq.h"
install -m 644 "$src/libvq_ffi.a" "$libdir/libvq.a"
install -m 755 "$src/libvq_ffi.so" "$libdir/libvq.so"
sed -e "s|@PREFIX@|$prefix|" -e "s|@LIBDIR@|$libdir|" -e "s|@VERSION@|$version|" \
    "$root/ffi/vq.pc.in" > "$libdir/pkgconfig/vq.pc"
echo "installed vq $version: $prefix/include/vq.h, $libdir/libvq.{a,so}, $libdir/pkgconfig/vq.pc"
