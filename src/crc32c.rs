//! CRC-32C (Castagnoli), the checksum of every section of a model file ([`crate::format`]).
//!
//! Why CRC-32C: it is the block checksum of iSCSI, ext4, Btrfs, LevelDB and RocksDB, so a
//! C++ reader of our files finds it in any toolbox (`_mm_crc32_u64`, `__crc32cd`, zlib-ng,
//! Abseil's `absl::ComputeCrc32c`); it detects every burst error up to 32 bits; and x86-64
//! CPUs since 2008 compute it in hardware (SSE4.2). Elsewhere a portable slicing-by-8 table
//! version runs. It is written here (some 150 lines) rather than taken from a crate because
//! the format must not change with a dependency's choices and the code is tested against
//! the published check values below.
//!
//! The hardware instruction has a latency of 3 cycles and a throughput of one per cycle,
//! so one chain of `crc32` over 8-byte words runs at a third of the instruction's speed
//! (about 10 GB/s on the Zen 4 of `docs/PERFORMANCE.md`, 10 ms of a 100 MB model load).
//! Where the CPU also has PCLMULQDQ (nearly every CPU with SSE4.2; Intel's Nehalem is the
//! exception, and runs the single chain) three chains run side by side over three adjacent blocks, the way Linux's
//! `crc32c-intel` and Abseil do it, and are joined by shifting each partial CRC past the
//! blocks that follow it: a carry-less multiply by `x^(8·len - 33) mod P` and one `crc32`
//! to reduce the product (see [`shift`]). That runs at about 28 GB/s on the same machine;
//! four or more chains were no faster there.
//!
//! Parameters: polynomial 0x1EDC6F41 (reflected 0x82F63B78), initial value and final XOR
//! 0xFFFFFFFF; `crc32c(b"123456789") == 0xE3069283`.

/// A running CRC-32C: [`Crc32c::update`] any number of times, then [`Crc32c::finish`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Crc32c(u32);

impl Crc32c {
    pub(crate) fn new() -> Self {
        Crc32c(!0)
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("sse4.2") {
                self.0 = if std::arch::is_x86_feature_detected!("pclmulqdq") {
                    // SAFETY: the CPU has SSE4.2 and PCLMULQDQ, checked just above.
                    unsafe { update_sse42_3way(self.0, data) }
                } else {
                    // SAFETY: the CPU has SSE4.2, checked just above.
                    unsafe { update_sse42(self.0, data) }
                };
                return;
            }
        }
        self.0 = update_table(self.0, data);
    }

    pub(crate) fn finish(self) -> u32 {
        !self.0
    }
}

/// CRC-32C of `data` in one call.
pub(crate) fn crc32c(data: &[u8]) -> u32 {
    let mut c = Crc32c::new();
    c.update(data);
    c.finish()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2")]
fn update_sse42(crc: u32, data: &[u8]) -> u32 {
    use std::arch::x86_64::{_mm_crc32_u64, _mm_crc32_u8};
    let (words, tail) = data.as_chunks::<8>();
    let mut c = crc as u64;
    for w in words {
        c = _mm_crc32_u64(c, u64::from_le_bytes(*w));
    }
    let mut c = c as u32;
    for &b in tail {
        c = _mm_crc32_u8(c, b);
    }
    c
}

/// Three `crc32` chains over three adjacent blocks, first of `LONG` bytes each while
/// `3·LONG` bytes remain, then of `SHORT`, then one chain over the rest (under 768 bytes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2,pclmulqdq")]
fn update_sse42_3way(crc: u32, data: &[u8]) -> u32 {
    // LONG: the two joins per 12 KiB cost under 1% of the chains' 1,536 cycles.
    const LONG: usize = 4096;
    const SHORT: usize = 256;
    let (crc, rest) = three_way::<LONG>(crc, data);
    let (crc, rest) = three_way::<SHORT>(crc, rest);
    update_sse42(crc, rest)
}

/// Runs three chains over blocks `a`, `b`, `c` of `BLOCK` bytes (a multiple of 8) while
/// `3·BLOCK` bytes remain: `a` continues `crc`, `b` and `c` start from zero, and
/// `crc(a‖b‖c) = shift(crc_a, 2·BLOCK) ⊕ shift(crc_b, BLOCK) ⊕ crc_c` (CRC is linear, and
/// the running value carries no pre- or post-inversion here). Returns the CRC and what is
/// left, under `3·BLOCK` bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2,pclmulqdq")]
fn three_way<const BLOCK: usize>(mut crc: u32, data: &[u8]) -> (u32, &[u8]) {
    use std::arch::x86_64::_mm_crc32_u64;
    let (k1, k2) = const {
        assert!(BLOCK >= 8 && BLOCK.is_multiple_of(8), "blocks hold whole 8-byte words");
        (shift_constant(BLOCK), shift_constant(2 * BLOCK))
    };
    let (head, rest) = data.split_at(data.len() / (3 * BLOCK) * (3 * BLOCK));
    for triple in head.as_chunks::<8>().0.chunks_exact(3 * BLOCK / 8) {
        let (a, bc) = triple.split_at(BLOCK / 8);
        let (b, c) = bc.split_at(BLOCK / 8);
        let (mut ca, mut cb, mut cc) = (u64::from(crc), 0u64, 0u64);
        for ((wa, wb), wc) in a.iter().zip(b).zip(c) {
            ca = _mm_crc32_u64(ca, u64::from_le_bytes(*wa));
            cb = _mm_crc32_u64(cb, u64::from_le_bytes(*wb));
            cc = _mm_crc32_u64(cc, u64::from_le_bytes(*wc));
        }
        crc = shift(ca as u32, k2) ^ shift(cb as u32, k1) ^ cc as u32;
    }
    (crc, rest)
}

/// `crc · x^(8·len) mod P` (the running CRC after `len` more zero bytes) given
/// `k = shift_constant(len)`.
///
/// In the reflected representation bit `i` of a 32-bit value is the coefficient of
/// `x^(31-i)`, so the 64-bit carry-less product of two such values `a`, `b`, read as a
/// reflected 64-bit value, is `a·b·x`; `crc32(0, v)` of a 64-bit `v` is `v·x^32 mod P`.
/// Together: `crc32(0, clmul(crc, k)) = crc·k·x^33 mod P`, and `k = x^(8·len - 33) mod P`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse4.2,pclmulqdq")]
fn shift(crc: u32, k: u32) -> u32 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_crc32_u64, _mm_cvtsi128_si64, _mm_cvtsi32_si128};
    let product = _mm_clmulepi64_si128(_mm_cvtsi32_si128(crc as i32), _mm_cvtsi32_si128(k as i32), 0);
    _mm_crc32_u64(0, _mm_cvtsi128_si64(product) as u64) as u32
}

/// `x^(8·len - 33) mod P`, reflected: the multiplier with which [`shift`] moves a CRC past
/// `len` bytes (`len >= 5`).
#[cfg(target_arch = "x86_64")]
const fn shift_constant(len: usize) -> u32 {
    x_pow_mod(8 * len as u64 - 33)
}

/// `x^n mod P`, reflected, by square and multiply.
#[cfg(any(target_arch = "x86_64", test))]
const fn x_pow_mod(mut n: u64) -> u32 {
    let mut result = 1 << 31; // x^0
    let mut square = 1 << 30; // x^1, then x^2, x^4, ...
    while n != 0 {
        if n & 1 != 0 {
            result = mul_mod(result, square);
        }
        square = mul_mod(square, square);
        n >>= 1;
    }
    result
}

/// `a·b mod P`, reflected, one bit of `a` at a time (zlib's `multmodp`).
#[cfg(any(target_arch = "x86_64", test))]
const fn mul_mod(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = 0;
    while bit < 32 {
        // Bit 31 - bit of a is the coefficient of x^bit; b holds the current b·x^bit mod P.
        if a & (1 << (31 - bit)) != 0 {
            product ^= b;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
        bit += 1;
    }
    product
}

const POLY: u32 = 0x82F6_3B78;

/// Slicing-by-8 tables: `TABLES[0]` is the byte-at-a-time table, `TABLES[k][b]` the CRC of
/// byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 8] = make_tables();

const fn make_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut j = 0;
        while j < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            j += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

fn update_table(mut c: u32, data: &[u8]) -> u32 {
    let (words, tail) = data.as_chunks::<8>();
    for w in words {
        let lo = c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
        c = TABLES[7][(lo & 0xFF) as usize]
            ^ TABLES[6][((lo >> 8) & 0xFF) as usize]
            ^ TABLES[5][((lo >> 16) & 0xFF) as usize]
            ^ TABLES[4][(lo >> 24) as usize]
            ^ TABLES[3][w[4] as usize]
            ^ TABLES[2][w[5] as usize]
            ^ TABLES[1][w[6] as usize]
            ^ TABLES[0][w[7] as usize];
    }
    for &b in tail {
        c = (c >> 8) ^ TABLES[0][((c ^ b as u32) & 0xFF) as usize];
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    type Update = Box<dyn Fn(u32, &[u8]) -> u32>;

    /// Every update path this CPU runs, the table version (the oracle) first.
    // `mut` is unused where the hardware paths are compiled out (not x86-64).
    #[allow(unused_mut)]
    fn paths() -> Vec<(&'static str, Update)> {
        let mut paths: Vec<(&'static str, Update)> = vec![("table", Box::new(update_table))];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("sse4.2") {
                // SAFETY: the CPU has SSE4.2, checked just above.
                paths.push(("sse4.2", Box::new(|c, d| unsafe { update_sse42(c, d) })));
                if std::arch::is_x86_feature_detected!("pclmulqdq") {
                    // SAFETY: the CPU has SSE4.2 and PCLMULQDQ, checked just above.
                    paths.push(("sse4.2 3-way", Box::new(|c, d| unsafe { update_sse42_3way(c, d) })));
                }
            }
        }
        paths
    }

    /// The definition, one bit at a time: the oracle of the table version.
    fn update_bitwise(mut c: u32, data: &[u8]) -> u32 {
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            }
        }
        c
    }

    fn bytes(n: usize) -> Vec<u8> {
        (0..n as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
    }

    #[test]
    fn published_check_values() {
        // The CRC catalogue's check value, and RFC 3720 (iSCSI) appendix B.4's vectors.
        let inc: Vec<u8> = (0..32).collect();
        let dec: Vec<u8> = (0..32).rev().collect();
        let vectors: [(&[u8], u32); 6] = [
            (b"123456789", 0xE306_9283),
            (&[0u8; 32], 0x8A91_36AA),
            (&[0xFFu8; 32], 0x62A8_AB43),
            (&inc, 0x46DD_794E),
            (&dec, 0x113F_DB5C),
            (b"", 0),
        ];
        for (data, want) in vectors {
            assert_eq!(crc32c(data), want, "{data:02x?}");
            assert_eq!(!update_bitwise(!0, data), want, "bitwise, {data:02x?}");
            for (name, update) in paths() {
                assert_eq!(!update(!0, data), want, "{name}, {data:02x?}");
            }
        }
        // The same check value, written at an odd offset in 3-way-sized input: 12 KiB of
        // "123456789" repeated, checked against the bitwise definition.
        let long: Vec<u8> = b"123456789".iter().copied().cycle().take(3 * 4096 + 9).collect();
        for (name, update) in paths() {
            assert_eq!(update(!0, &long[1..]), update_bitwise(!0, &long[1..]), "{name}");
        }
    }

    #[test]
    fn every_path_agrees_with_the_table_on_every_length_and_offset() {
        let lengths = [
            0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 256, 257, 767, 768, 769, 1000, 1535, 1536,
            1537, 2311, 12_287, 12_288, 12_289, 13_063, 24_576, 36_871, 100_003,
        ];
        let data = bytes(100_003 + 16);
        // The table against the definition, on the short lengths (the definition is slow).
        for len in lengths.iter().copied().filter(|&n| n <= 2311) {
            for off in 0..16 {
                let d = &data[off..off + len];
                assert_eq!(update_table(!0, d), update_bitwise(!0, d), "len {len} offset {off}");
            }
        }
        for (name, update) in paths() {
            for len in lengths {
                for off in 0..16 {
                    let d = &data[off..off + len];
                    // A fresh CRC and one continued from earlier data.
                    for init in [!0, 0x1234_5678] {
                        assert_eq!(update(init, d), update_table(init, d), "{name}: len {len} offset {off}");
                    }
                }
            }
        }
    }

    #[test]
    fn splits_do_not_change_the_crc() {
        let data = bytes(30_000);
        for len in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000, 12_289, 30_000] {
            let want = !update_table(!0, &data[..len]);
            assert_eq!(crc32c(&data[..len]), want, "len {len}");
            for split in [0, 1, 5, 767, 12_288, len / 2, len] {
                let split = split.min(len);
                let mut c = Crc32c::new();
                c.update(&data[..split]);
                c.update(&data[split..len]);
                assert_eq!(c.finish(), want, "len {len} split {split}");
            }
        }
    }

    #[test]
    fn constants_shift_past_zero_bytes() {
        // x^(8·len - 33)·x^33 = x^(8·len): the CRC after len zero bytes, by definition.
        for len in [5, 8, 9, 256, 512, 4096, 8192, 12_345] {
            for crc in [1, 0x8000_0000, 0xDEAD_BEEF, !0] {
                let want = update_table(crc, &vec![0; len]);
                assert_eq!(mul_mod(crc, x_pow_mod(8 * len as u64)), want, "len {len} crc {crc:#x}");
                #[cfg(target_arch = "x86_64")]
                if std::arch::is_x86_feature_detected!("sse4.2") && std::arch::is_x86_feature_detected!("pclmulqdq") {
                    // SAFETY: the CPU has SSE4.2 and PCLMULQDQ, checked just above.
                    let got = unsafe { shift(crc, shift_constant(len)) };
                    assert_eq!(got, want, "clmul shift, len {len} crc {crc:#x}");
                }
            }
        }
    }
}
