//! The element types a vector file may store, and their conversion to f32.
//!
//! Every reader hands rows to the caller as f32, whatever the file stores. Conversion runs
//! over a block of raw bytes at a time (never a whole-file copy), from bytes at any
//! alignment and in either byte order, so one function serves every format: the big-ann
//! and NumPy bodies, and the values of a TEXMEX row after its dimension field.

use half::slice::HalfFloatSliceExt;

/// The type of one stored value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Dtype {
    /// IEEE 754 binary32 (`.fvecs`, `.fbin`, NumPy `f4`).
    F32,
    /// IEEE 754 binary64 (NumPy `f8`), rounded to the nearest f32.
    F64,
    /// IEEE 754 binary16 (NumPy `f2`), exact in f32.
    F16,
    /// Unsigned bytes (`.bvecs`, `.u8bin`, NumPy `u1`).
    U8,
    /// Signed bytes (`.i8bin`, NumPy `i1`).
    I8,
    /// 32-bit signed integers (`.ivecs`, `.ibin`), exact in f32 up to 2^24 in magnitude.
    I32,
}

impl Dtype {
    /// Bytes per value.
    pub fn size(self) -> usize {
        match self {
            Dtype::F64 => 8,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F16 => 2,
            Dtype::U8 | Dtype::I8 => 1,
        }
    }

    /// The usual name (`"float32"`, ...), as NumPy spells it.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::F16 => "float16",
            Dtype::U8 => "uint8",
            Dtype::I8 => "int8",
            Dtype::I32 => "int32",
        }
    }
}

/// How the values of one file are stored: their type and byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Encoding {
    pub dtype: Dtype,
    /// Little-endian (every format but a big-endian `.npy`). Meaningless for bytes.
    pub little: bool,
}

impl Encoding {
    pub const fn le(dtype: Dtype) -> Self {
        Encoding { dtype, little: true }
    }
}

/// Values per block of the f16 conversion: half's slice conversion (F16C where the CPU has
/// it) needs its input as `[f16]`, gathered from unaligned bytes into this stack block.
const F16_BLOCK: usize = 256;

/// Converts `out.len()` values from `bytes` (exactly `out.len() · dtype.size()` of them,
/// any alignment) to f32.
///
/// # Panics
///
/// If `bytes.len()` is not `out.len() · size`: callers size both from one row count.
pub(crate) fn decode(enc: Encoding, bytes: &[u8], out: &mut [f32]) {
    assert_eq!(bytes.len(), out.len() * enc.dtype.size(), "decode: bytes and out disagree");
    // Each arm is one simple loop over fixed-size chunks, which the compiler vectorizes.
    match (enc.dtype, enc.little) {
        (Dtype::F32, true) => convert(bytes, out, |b: [u8; 4]| f32::from_le_bytes(b)),
        (Dtype::F32, false) => convert(bytes, out, |b: [u8; 4]| f32::from_be_bytes(b)),
        (Dtype::F64, true) => convert(bytes, out, |b: [u8; 8]| f64::from_le_bytes(b) as f32),
        (Dtype::F64, false) => convert(bytes, out, |b: [u8; 8]| f64::from_be_bytes(b) as f32),
        (Dtype::I32, true) => convert(bytes, out, |b: [u8; 4]| i32::from_le_bytes(b) as f32),
        (Dtype::I32, false) => convert(bytes, out, |b: [u8; 4]| i32::from_be_bytes(b) as f32),
        (Dtype::U8, _) => convert(bytes, out, |b: [u8; 1]| f32::from(b[0])),
        (Dtype::I8, _) => convert(bytes, out, |b: [u8; 1]| f32::from(b[0] as i8)),
        (Dtype::F16, little) => {
            let mut block = [half::f16::ZERO; F16_BLOCK];
            for (src, dst) in bytes.chunks(2 * F16_BLOCK).zip(out.chunks_mut(F16_BLOCK)) {
                let block = &mut block[..dst.len()];
                for (h, b) in block.iter_mut().zip(src.chunks_exact(2)) {
                    let b = [b[0], b[1]];
                    *h = half::f16::from_bits(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) });
                }
                block.convert_to_f32_slice(dst);
            }
        }
    }
}

#[inline(always)]
fn convert<const N: usize>(bytes: &[u8], out: &mut [f32], f: impl Fn([u8; N]) -> f32) {
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(N)) {
        *o = f(b.try_into().expect("chunks_exact yields N bytes"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// binary16 by its definition, in f64: (-1)^s · 2^(e-15) · (1 + m/1024), subnormals
    /// 2^-14 · m/1024, e = 31 infinity or NaN. Independent of `half`.
    fn f16_oracle(h: u16) -> f64 {
        let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
        let e = i32::from((h >> 10) & 0x1f);
        let m = f64::from(h & 0x3ff);
        match e {
            0 => sign * m / 1024.0 * 2f64.powi(-14),
            31 if m == 0.0 => sign * f64::INFINITY,
            31 => f64::NAN,
            _ => sign * (1.0 + m / 1024.0) * 2f64.powi(e - 15),
        }
    }

    #[test]
    fn f16_every_bit_pattern_both_byte_orders() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        let le: Vec<u8> = all.iter().flat_map(|h| h.to_le_bytes()).collect();
        let be: Vec<u8> = all.iter().flat_map(|h| h.to_be_bytes()).collect();
        for (bytes, little) in [(&le, true), (&be, false)] {
            let mut out = vec![0f32; all.len()];
            decode(Encoding { dtype: Dtype::F16, little }, bytes, &mut out);
            for (&h, &got) in all.iter().zip(&out) {
                let want = f16_oracle(h);
                if want.is_nan() {
                    assert!(got.is_nan(), "{h:#06x} -> {got}");
                    // A quiet NaN (signalling ones are quieted, as F16C does), the rest of
                    // the payload kept in the top of the f32 mantissa.
                    assert_eq!(got.to_bits() & 0x7fc0_0000, 0x7fc0_0000, "{h:#06x}");
                    assert_eq!(got.to_bits() & 0x003f_e000, u32::from(h & 0x1ff) << 13, "{h:#06x}");
                    assert_eq!(got.is_sign_negative(), h & 0x8000 != 0, "{h:#06x}");
                } else {
                    // Every binary16 value is exact in f32, signed zeros included.
                    assert_eq!(got as f64, want, "{h:#06x}");
                    assert_eq!(got.is_sign_negative(), h & 0x8000 != 0, "{h:#06x}");
                }
            }
        }
    }

    #[test]
    fn every_type_both_orders_any_alignment() {
        let vals = [0.0f64, -1.5, 2.25, 127.0, -128.0, 1e-3, 3.0e38];
        let ints = [0i64, -1, 2, 127, -128, 1 << 24, i64::from(i32::MIN)];
        for offset in 0..8 {
            for little in [true, false] {
                let check = |dtype: Dtype, bytes: Vec<u8>, want: Vec<f32>| {
                    let mut buf = vec![0xAAu8; offset];
                    buf.extend_from_slice(&bytes);
                    let mut out = vec![f32::NAN; want.len()];
                    decode(Encoding { dtype, little }, &buf[offset..], &mut out);
                    assert_eq!(out, want, "{dtype:?} little={little} offset={offset}");
                };
                let order = |b: &[u8]| -> Vec<u8> {
                    if little {
                        b.to_vec()
                    } else {
                        b.iter().rev().copied().collect()
                    }
                };
                let f32s: Vec<f32> = vals.iter().map(|&v| v as f32).collect();
                check(Dtype::F32, f32s.iter().flat_map(|v| order(&v.to_le_bytes())).collect(), f32s.clone());
                check(Dtype::F64, vals.iter().flat_map(|v| order(&v.to_le_bytes())).collect(), f32s.clone());
                let i32s: Vec<i32> = ints.iter().map(|&v| v as i32).collect();
                let want: Vec<f32> = i32s.iter().map(|&v| v as f32).collect();
                check(Dtype::I32, i32s.iter().flat_map(|v| order(&v.to_le_bytes())).collect(), want);
                let bytes: Vec<u8> = (0..=255).collect();
                check(Dtype::U8, bytes.clone(), bytes.iter().map(|&b| f32::from(b)).collect());
                check(Dtype::I8, bytes.clone(), bytes.iter().map(|&b| f32::from(b as i8)).collect());
                // f16 across several conversion blocks, with a partial last block.
                let h: Vec<u16> = (0..(3 * F16_BLOCK as u16 + 5)).map(|i| i.wrapping_mul(97) & 0x7bff).collect();
                let want: Vec<f32> = h.iter().map(|&h| f16_oracle(h) as f32).collect();
                check(Dtype::F16, h.iter().flat_map(|v| order(&v.to_le_bytes())).collect(), want);
            }
        }
    }

    #[test]
    fn f64_rounds_to_nearest_f32() {
        let v = 1.0f64 + f64::EPSILON * 3.0;
        let mut out = [0f32];
        decode(Encoding::le(Dtype::F64), &v.to_le_bytes(), &mut out);
        assert_eq!(out[0], v as f32);
    }
}
