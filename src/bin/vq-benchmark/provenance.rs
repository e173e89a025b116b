//! Where and when a run happened: timestamps, sweep ids, the git checkout, the CPU and the
//! command line, so a logged figure can be traced back and compared like for like.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// UTC civil time `(year, month, day, hour, minute, second)` of a Unix time
/// (Howard Hinnant's days-from-civil inverse; no time-zone database needed).
pub fn civil(unix: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (unix / 86_400) as i64;
    let secs = (unix % 86_400) as u32;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs / 3600, secs / 60 % 60, secs % 60)
}

fn now_unix() -> (u64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// ISO 8601 UTC with microseconds: the `timestamp` column.
pub fn timestamp() -> String {
    let (s, us) = now_unix();
    let (y, mo, d, h, mi, se) = civil(s);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{se:02}.{us:06}Z")
}

/// `YYYYMMDD_HHMMSS` (UTC), for sweep ids and plot directories.
pub fn compact_time() -> String {
    let (y, mo, d, h, mi, se) = civil(now_unix().0);
    format!("{y:04}{mo:02}{d:02}_{h:02}{mi:02}{se:02}")
}

/// `sweep_YYYYMMDD_HHMMSS_<8 hex>`; the hex comes from the OS-seeded hasher of std, so two
/// sweeps started in the same second still differ.
pub fn sweep_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos());
    h.write_u32(std::process::id());
    format!("sweep_{}_{:08x}", compact_time(), h.finish() as u32)
}

/// A 128-bit FNV-1a hash as 32 hex digits: stable across runs, machines and Rust releases
/// (std's hashers promise none of that), for ids derived from contents.
pub fn stable_hash_hex(bytes: &[u8]) -> String {
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013B;
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in bytes {
        h = (h ^ u128::from(b)).wrapping_mul(PRIME);
    }
    format!("{h:032x}")
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The git branch and commit of the working directory (as the original tool logged them),
/// `None` outside a repository or without git. A dirty tree gets `-dirty` on the commit.
pub fn git_info() -> (Option<String>, Option<String>) {
    let branch = git(&["rev-parse", "--abbrev-ref", "HEAD"]);
    let commit = git(&["rev-parse", "HEAD"]).map(|c| {
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
        if dirty {
            format!("{c}-dirty")
        } else {
            c
        }
    });
    (branch, commit)
}

/// The CPU's model name (Linux `/proc/cpuinfo`), else the architecture.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The command line as typed (arguments with spaces quoted): the `cli_command` column.
pub fn command_line() -> String {
    crate::invocation::args()
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .map(
            |a| {
                if a.is_empty() || a.contains([' ', '"', '\'']) {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a
                }
            },
        )
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        // 2000-02-29T12:34:56Z (a leap day of a century leap year).
        assert_eq!(civil(951_827_696), (2000, 2, 29, 12, 34, 56));
        // 2026-11-24T23:59:59Z
        assert_eq!(civil(1_795_564_799), (2026, 11, 24, 23, 59, 59));
    }

    #[test]
    fn sweep_ids_have_the_original_shape() {
        let id = sweep_id();
        assert_eq!(id.len(), "sweep_YYYYMMDD_HHMMSS_".len() + 8, "{id}");
        assert!(id.starts_with("sweep_"));
        assert!(id[22..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(sweep_id(), sweep_id());
    }
}
