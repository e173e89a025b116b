//! Code layouts: how the integer codes of one vector are packed into its bytes (one code per
//! dimension for scalar quantization, one per sub-quantizer for product quantization).
//!
//! | layout | code values | bytes for `n` codes | packing |
//! |---|---|---|---|
//! | [`CodeLayout::Nibble`] | `0..16` | `⌈n/2⌉` | code `2j` in the high nibble of byte `j`, code `2j+1` in its low nibble; an odd `n` leaves a zero low nibble |
//! | [`CodeLayout::Byte`] | `0..256` | `n` | one byte per code |
//! | [`CodeLayout::U16`] | `0..65536` | `2n` | one little-endian u16 per code |
//!
//! These are the layouts of the model file and the C ABI too: a code written by one is read
//! by the others. [`CodeLayout`] is the value a quantizer stores; inside the crate each
//! layout is also a type implementing `Layout`, so every kernel that reads or writes codes
//! is compiled once per layout and the layout test stays out of its inner loop.
//!
//! Layouts to come pack codes across vectors rather than within one: 4-bit fast-scan
//! blocks (the nibbles of 32 vectors interleaved per sub-quantizer, so a register shuffle
//! looks up 32 table entries at once, as FAISS's `IndexPQFastScan`) and RaBitQ's 1-bit codes
//! with per-vector correction factors. They are block layouts (a block of vectors in, a
//! block of bytes out) and belong here beside these, each with its own type and its own
//! section kind in the model file.

use crate::kernels::lanes::{from_fn, nibbles_to_f32s, u16s_to_f32s, u8s_to_f32s};
use crate::Error;
use pulp::Simd;

/// How one vector's codes are packed into bytes (see the module docs for the bit layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeLayout {
    /// Two 4-bit codes per byte, the even code in the high nibble.
    Nibble,
    /// One 8-bit code per byte.
    Byte,
    /// One 16-bit code per two bytes, little-endian.
    U16,
}

impl CodeLayout {
    /// The narrowest layout that holds `values` distinct codes (`0..values`).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for `values` outside `1..=65536`.
    pub fn for_values(values: usize) -> Result<CodeLayout, Error> {
        match values {
            1..=16 => Ok(CodeLayout::Nibble),
            17..=256 => Ok(CodeLayout::Byte),
            257..=65536 => Ok(CodeLayout::U16),
            _ => Err(Error::OutOfRange { what: "code values", got: values.to_string(), accepted: "1..=65536" }),
        }
    }

    /// Bits of one code: 4, 8 or 16.
    pub const fn bits(self) -> u32 {
        match self {
            CodeLayout::Nibble => 4,
            CodeLayout::Byte => 8,
            CodeLayout::U16 => 16,
        }
    }

    /// Bytes that hold `n` codes.
    pub const fn code_size(self, n: usize) -> usize {
        match self {
            CodeLayout::Nibble => n.div_ceil(2),
            CodeLayout::Byte => n,
            CodeLayout::U16 => 2 * n,
        }
    }

    /// Code `i` of a row.
    ///
    /// # Panics
    /// If the row is shorter than [`Self::code_size`]`(i + 1)`.
    #[inline(always)]
    pub fn get(self, row: &[u8], i: usize) -> u32 {
        match self {
            CodeLayout::Nibble => Nibble::get(row, i),
            CodeLayout::Byte => Byte::get(row, i),
            CodeLayout::U16 => U16::get(row, i),
        }
    }

    /// Sets code `i` of a row to the low [`Self::bits`] of `code`, leaving the others as they
    /// were.
    ///
    /// # Panics
    /// If the row is shorter than [`Self::code_size`]`(i + 1)`.
    #[inline(always)]
    pub fn set(self, row: &mut [u8], i: usize, code: u32) {
        match self {
            CodeLayout::Nibble => {
                let shift = 4 - 4 * (i & 1);
                row[i / 2] = (row[i / 2] & !(0xF << shift)) | (((code & 0xF) as u8) << shift);
            }
            CodeLayout::Byte => row[i] = code as u8,
            CodeLayout::U16 => row[2 * i..2 * i + 2].copy_from_slice(&(code as u16).to_le_bytes()),
        }
    }
}

/// A [`CodeLayout`] as a type, for kernels compiled once per layout.
pub(crate) trait Layout: Copy + Default {
    /// The layout this type stands for.
    const LAYOUT: CodeLayout;
    /// Bytes that hold `n` codes.
    #[inline(always)]
    fn code_size(n: usize) -> usize {
        Self::LAYOUT.code_size(n)
    }
    /// Code `i` of a row.
    fn get(row: &[u8], i: usize) -> u32;
    /// Sets code `i` of a row whose codes start zeroed (a nibble is or-ed in).
    fn set_zeroed(row: &mut [u8], i: usize, code: u32);
    /// Writes the codes of positions `first..first + codes.len()` into a row (`first` is
    /// even; only the low bits of each value count, see [`crate::kernels::lanes::ROUND_MAGIC`]).
    fn pack(codes: &[u32], row: &mut [u8], first: usize);
    /// Codes `start..start + L` of a row as floats, `L` the level's lane count (all inside
    /// the row).
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s;
    /// Codes `start..start + count` as floats, zero in the lanes beyond.
    #[inline(always)]
    fn load_partial<S: Simd>(simd: S, row: &[u8], start: usize, count: usize) -> S::f32s {
        from_fn(simd, count, |i| Self::get(row, start + i) as f32)
    }
}

/// [`CodeLayout::Nibble`] as a type.
#[derive(Clone, Copy, Default)]
pub(crate) struct Nibble;
/// [`CodeLayout::Byte`] as a type.
#[derive(Clone, Copy, Default)]
pub(crate) struct Byte;
/// [`CodeLayout::U16`] as a type.
#[derive(Clone, Copy, Default)]
pub(crate) struct U16;

impl Layout for Nibble {
    const LAYOUT: CodeLayout = CodeLayout::Nibble;
    #[inline(always)]
    fn set_zeroed(row: &mut [u8], i: usize, code: u32) {
        row[i / 2] |= ((code & 0xF) as u8) << (4 - 4 * (i & 1));
    }
    #[inline(always)]
    fn get(row: &[u8], i: usize) -> u32 {
        ((row[i / 2] >> (4 - 4 * (i & 1))) & 0xF) as u32
    }
    #[inline(always)]
    fn pack(codes: &[u32], row: &mut [u8], first: usize) {
        let (pairs, last) = codes.as_chunks::<2>();
        let row = &mut row[first / 2..first / 2 + codes.len().div_ceil(2)];
        for (o, pair) in row.iter_mut().zip(pairs) {
            *o = ((pair[0] << 4) | (pair[1] & 0xF)) as u8;
        }
        if let Some(&c) = last.first() {
            // An odd count: the padding nibble is zero.
            row[pairs.len()] = (c << 4) as u8;
        }
    }
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        // With an even lane count `start` is even and `first` folds to 0 at compile time.
        let first = start & 1;
        let need = (first + S::F32_LANES).div_ceil(2);
        nibbles_to_f32s(simd, &row[start / 2..start / 2 + need], first)
    }
}

impl Layout for Byte {
    const LAYOUT: CodeLayout = CodeLayout::Byte;
    #[inline(always)]
    fn set_zeroed(row: &mut [u8], i: usize, code: u32) {
        row[i] = code as u8;
    }
    #[inline(always)]
    fn get(row: &[u8], i: usize) -> u32 {
        row[i] as u32
    }
    #[inline(always)]
    fn pack(codes: &[u32], row: &mut [u8], first: usize) {
        for (o, &c) in row[first..first + codes.len()].iter_mut().zip(codes) {
            *o = c as u8;
        }
    }
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        u8s_to_f32s(simd, &row[start..])
    }
}

impl Layout for U16 {
    const LAYOUT: CodeLayout = CodeLayout::U16;
    #[inline(always)]
    fn set_zeroed(row: &mut [u8], i: usize, code: u32) {
        row[2 * i..2 * i + 2].copy_from_slice(&(code as u16).to_le_bytes());
    }
    #[inline(always)]
    fn get(row: &[u8], i: usize) -> u32 {
        u16::from_le_bytes([row[2 * i], row[2 * i + 1]]) as u32
    }
    #[inline(always)]
    fn pack(codes: &[u32], row: &mut [u8], first: usize) {
        let row = &mut row[2 * first..2 * (first + codes.len())];
        for (o, &c) in row.chunks_exact_mut(2).zip(codes) {
            o.copy_from_slice(&(c as u16).to_le_bytes());
        }
    }
    #[inline(always)]
    fn load<S: Simd>(simd: S, row: &[u8], start: usize) -> S::f32s {
        u16s_to_f32s(simd, &row[2 * start..])
    }
}

/// Runs `$body` with `$t` bound to the layout type of `$layout` (a [`CodeLayout`]): the one
/// place a run-time layout becomes a monomorphized kernel.
macro_rules! with_layout {
    ($layout:expr, $t:ident => $body:expr) => {
        match $layout {
            $crate::codes::CodeLayout::Nibble => {
                type $t = $crate::codes::Nibble;
                $body
            }
            $crate::codes::CodeLayout::Byte => {
                type $t = $crate::codes::Byte;
                $body
            }
            $crate::codes::CodeLayout::U16 => {
                type $t = $crate::codes::U16;
                $body
            }
        }
    };
}
pub(crate) use with_layout;

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [CodeLayout; 3] = [CodeLayout::Nibble, CodeLayout::Byte, CodeLayout::U16];

    /// The bytes of the module docs' table, written out by hand.
    #[test]
    fn bytes_are_the_documented_ones() {
        let codes = [1u32, 2, 3];
        let want: [&[u8]; 3] = [&[0x12, 0x30], &[1, 2, 3], &[1, 0, 2, 0, 3, 0]];
        for (layout, want) in ALL.into_iter().zip(want) {
            let mut row = vec![0xAAu8; layout.code_size(3)];
            // `set` over garbage, `pack` into zeros: the same bytes.
            for (i, &c) in codes.iter().enumerate() {
                layout.set(&mut row, i, c);
            }
            if layout == CodeLayout::Nibble {
                row[1] &= 0xF0; // `set` leaves the padding nibble alone
            }
            assert_eq!(row, want, "{layout:?}");
            let mut packed = vec![0u8; layout.code_size(3)];
            with_layout!(layout, L => L::pack(&codes, &mut packed, 0));
            assert_eq!(packed, want, "{layout:?}");
            for (i, &c) in codes.iter().enumerate() {
                assert_eq!(layout.get(&row, i), c);
                assert_eq!(with_layout!(layout, L => L::get(&row, i)), c);
            }
        }
    }

    #[test]
    fn set_and_get_round_trip_every_value_at_odd_positions() {
        for layout in ALL {
            let max = 1u32 << layout.bits();
            let n = 7;
            let mut row = vec![0u8; layout.code_size(n)];
            for v in (0..max).step_by((max as usize / 97).max(1)).chain([max - 1]) {
                for i in 0..n {
                    let before: Vec<u32> = (0..n).map(|j| layout.get(&row, j)).collect();
                    layout.set(&mut row, i, v);
                    for (j, &b) in before.iter().enumerate() {
                        let want = if j == i { v } else { b };
                        assert_eq!(layout.get(&row, j), want, "{layout:?} v {v} i {i} j {j}");
                    }
                }
            }
        }
    }

    #[test]
    fn narrowest_layout_for_a_value_count() {
        assert_eq!(CodeLayout::for_values(16).unwrap(), CodeLayout::Nibble);
        assert_eq!(CodeLayout::for_values(17).unwrap(), CodeLayout::Byte);
        assert_eq!(CodeLayout::for_values(256).unwrap(), CodeLayout::Byte);
        assert_eq!(CodeLayout::for_values(65536).unwrap(), CodeLayout::U16);
        let e = CodeLayout::for_values(65537).unwrap_err().to_string();
        assert!(e.contains("65537") && e.contains("1..=65536"), "{e}");
        assert!(CodeLayout::for_values(0).is_err());
    }
}
