//! Conversions between SIMD registers and narrow integer lanes.
//!
//! `pulp::Simd` has no widening or narrowing conversion (u8/u16 to f32 and back). These
//! helpers go through the register's lanes with a loop whose trip count is the lane count,
//! a constant once the kernel is monomorphized; inside a `with_simd` body the compiler
//! turns each loop into the level's own instructions (`vpmovzxbd` + `vcvtdq2ps`,
//! `vpmovdb`, ...). The benchmarks in `benches/sq.rs` hold this to account.

use pulp::Simd;

/// `1.5 * 2^23`: adding it to a float in `[0, 2^22]` leaves `round_ties_even(x)` in the low
/// mantissa bits (the sum lies in `[2^23 + 2^22, 2^24)`, where one unit in the last place is
/// exactly 1), so the float-to-integer step is an add and a bit cast, identical on every level.
pub(crate) const ROUND_MAGIC: f32 = 12_582_912.0;

/// The lanes of `v` as a slice.
#[inline(always)]
pub(crate) fn f32_lanes<S: Simd>(v: &S::f32s) -> &[f32] {
    bytemuck::cast_slice(core::slice::from_ref(v))
}

/// Integer lanes of a rounded float vector: `round_ties_even(y)` for `y` in `[0, 2^22]`.
#[inline(always)]
pub(crate) fn rounded_u32_lanes<S: Simd>(simd: S, y: S::f32s) -> S::u32s {
    simd.transmute_u32s_f32s(simd.add_f32s(y, simd.splat_f32s(ROUND_MAGIC)))
}

/// A vector whose lane `i` is `f(i)` for `i < count` and 0 beyond.
#[inline(always)]
pub(crate) fn from_fn<S: Simd>(simd: S, count: usize, mut f: impl FnMut(usize) -> f32) -> S::f32s {
    let mut v = simd.splat_f32s(0.0);
    let lanes: &mut [f32] = bytemuck::cast_slice_mut(core::slice::from_mut(&mut v));
    for (i, lane) in lanes.iter_mut().enumerate().take(count) {
        *lane = f(i);
    }
    v
}

/// Bytes widened to floats; `bytes.len()` must be at least the lane count.
#[inline(always)]
pub(crate) fn u8s_to_f32s<S: Simd>(simd: S, bytes: &[u8]) -> S::f32s {
    let bytes = &bytes[..S::F32_LANES];
    from_fn(simd, S::F32_LANES, |i| bytes[i] as f32)
}

/// Little-endian u16 pairs of bytes widened to floats; `bytes.len()` must be at least
/// twice the lane count.
#[inline(always)]
pub(crate) fn u16s_to_f32s<S: Simd>(simd: S, bytes: &[u8]) -> S::f32s {
    let bytes = &bytes[..2 * S::F32_LANES];
    from_fn(simd, S::F32_LANES, |i| u16::from_le_bytes([bytes[2 * i], bytes[2 * i + 1]]) as f32)
}

/// Nibbles of `bytes` in dimension order (high nibble first) widened to floats: lane `i`
/// holds nibble `first + i`. `bytes` must hold the needed nibbles for all lanes.
#[inline(always)]
pub(crate) fn nibbles_to_f32s<S: Simd>(simd: S, bytes: &[u8], first: usize) -> S::f32s {
    from_fn(simd, S::F32_LANES, |i| {
        let n = first + i;
        ((bytes[n / 2] >> (4 - 4 * (n & 1))) & 0xF) as f32
    })
}

/// Lane `i` holds `i`.
#[inline(always)]
pub(crate) fn lane_indices<S: Simd>(simd: S) -> S::u32s {
    let mut iota = simd.splat_u32s(0);
    for (i, v) in bytemuck::cast_slice_mut::<S::u32s, u32>(core::slice::from_mut(&mut iota)).iter_mut().enumerate() {
        *v = i as u32;
    }
    iota
}

/// Whether any lane of a mask is set (masks are registers or bit masks depending on level).
#[inline(always)]
pub(crate) fn any<M: bytemuck::NoUninit>(mask: M) -> bool {
    bytemuck::bytes_of(&mask).iter().fold(0u8, |a, &b| a | b) != 0
}
