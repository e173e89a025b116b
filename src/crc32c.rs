//! CRC-32C (Castagnoli), the checksum of every section of a model file ([`crate::format`]).
//!
//! Why CRC-32C: it is the block checksum of iSCSI, ext4, Btrfs, LevelDB and RocksDB, so a
//! C++ reader of our files finds it in any toolbox (`_mm_crc32_u64`, `__crc32cd`, zlib-ng,
//! Abseil's `absl::ComputeCrc32c`); it detects every burst error up to 32 bits; and x86-64
//! CPUs since 2008 compute it in hardware (SSE4.2), at about 8 bytes per 3 cycles on one
//! stream, faster than the file can be read. Elsewhere a portable slicing-by-8 table
//! version runs. It is written here (some 60 lines) rather than taken from a crate because
//! the format must not change with a dependency's choices and the code is tested against
//! the published check values below.
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
                // SAFETY: the CPU has SSE4.2, checked just above.
                self.0 = unsafe { update_sse42(self.0, data) };
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

    #[test]
    fn published_check_values() {
        // The CRC catalogue's check value, and RFC 3720 (iSCSI) appendix B.4's vectors.
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let inc: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&inc), 0x46DD_794E);
        let dec: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc32c(&dec), 0x113F_DB5C);
        assert_eq!(crc32c(b""), 0);
    }

    #[test]
    fn table_and_hardware_agree_on_every_length_and_split() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 999, 1000] {
            let want = !update_table(!0, &data[..len]);
            assert_eq!(crc32c(&data[..len]), want, "len {len}");
            for split in [0, 1, 5, len / 2, len] {
                let split = split.min(len);
                let mut c = Crc32c::new();
                c.update(&data[..split]);
                c.update(&data[split..len]);
                assert_eq!(c.finish(), want, "len {len} split {split}");
            }
        }
    }
}
