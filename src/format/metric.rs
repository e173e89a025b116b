//! The `METR` section every quantizer kind shares: the metric a quantizer searches by.
//!
//! 8 bytes: the metric's number u32 (1 inner product, 2 cosine; see
//! [`Metric::number`]), reserved u32 zero. Written only for a metric other than L2, so an
//! L2 model file is byte for byte what versions before metrics wrote, and they read it;
//! absent means L2. The tag is upper-case (a section a reader must understand): a
//! version that predates it refuses an inner-product or cosine model, naming the section,
//! rather than searching it by L2.

use super::fmt_err;
use super::reader::{read_checked, u32_at, Entry, Source};
use crate::{Error, Metric};

/// The section's tag.
pub(super) const METR: [u8; 4] = *b"METR";

/// The section's bytes, `None` for L2 (which writes no section).
pub(super) fn section(metric: Metric) -> Option<[u8; 8]> {
    (metric != Metric::L2).then(|| {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&metric.number().to_le_bytes());
        b
    })
}

/// The metric of a file's sections: `METR`'s, or L2 without one.
pub(super) fn read(src: &mut impl Source, entries: &[Entry], name: &str) -> Result<Metric, Error> {
    let Some(e) = entries.iter().find(|e| e.tag == METR) else {
        return Ok(Metric::L2);
    };
    if e.len != 8 {
        return Err(fmt_err(name, format!("section METR has {} bytes, expected 8", e.len)));
    }
    let mut b = [0u8; 8];
    read_checked(src, e, &mut b, name)?;
    if u32_at(&b, 4) != 0 {
        return Err(fmt_err(name, "reserved METR field is not zero"));
    }
    match Metric::from_number(u32_at(&b, 0)) {
        // L2 is written as no section: a METR naming it is not a file this library wrote.
        Ok(Metric::L2) | Err(_) => {
            Err(fmt_err(name, format!("metric = {} in METR, expected 1 (inner product) or 2 (cosine)", u32_at(&b, 0))))
        }
        Ok(m) => Ok(m),
    }
}
