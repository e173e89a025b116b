//! The generic writer: lays out the header, the section directory and the sections of any
//! quantizer kind (each 64-byte aligned, with its CRC-32C), and saves a file so that no
//! reader ever sees half of it. What goes into the sections is the kind's business.

use super::{header_crc, io_err, ALIGN, DIR_ENTRY, ENDIAN_MARK, FORMAT_VERSION, HEADER, MAGIC};
use crate::crc32c::crc32c;
use crate::Error;
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// `v` in the file's byte order, little-endian.
pub(super) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    if cfg!(target_endian = "little") {
        bytemuck::cast_slice(v).to_vec()
    } else {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
}

/// Lays out header, directory and sections.
pub(super) fn write_file(kind: u32, sections: &[([u8; 4], &[u8])]) -> Vec<u8> {
    let dir_end = (HEADER + sections.len() * DIR_ENTRY).next_multiple_of(ALIGN);
    let mut offsets = Vec::with_capacity(sections.len());
    let mut end = dir_end;
    for (_, data) in sections {
        offsets.push(end);
        end = (end + data.len()).next_multiple_of(ALIGN);
    }
    // The file ends with the last section, unpadded.
    let total = offsets.last().map_or(dir_end, |&o| o + sections[sections.len() - 1].1.len());
    let mut out = vec![0u8; total];
    out[..8].copy_from_slice(&MAGIC);
    out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    out[12..16].copy_from_slice(&ENDIAN_MARK.to_le_bytes());
    out[16..20].copy_from_slice(&kind.to_le_bytes());
    out[20..24].copy_from_slice(&(sections.len() as u32).to_le_bytes());
    out[24..32].copy_from_slice(&(total as u64).to_le_bytes());
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    out[32..32 + version.len().min(16)].copy_from_slice(&version[..version.len().min(16)]);
    for (i, ((tag, data), &off)) in sections.iter().zip(&offsets).enumerate() {
        let e = &mut out[HEADER + i * DIR_ENTRY..HEADER + (i + 1) * DIR_ENTRY];
        e[..4].copy_from_slice(tag);
        e[4..8].copy_from_slice(&crc32c(data).to_le_bytes());
        e[8..16].copy_from_slice(&(off as u64).to_le_bytes());
        e[16..24].copy_from_slice(&(data.len() as u64).to_le_bytes());
        out[off..off + data.len()].copy_from_slice(data);
    }
    let crc = header_crc(&out[..HEADER], &out[HEADER..HEADER + sections.len() * DIR_ENTRY]);
    out[48..52].copy_from_slice(&crc.to_le_bytes());
    out
}

pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let name = path.display().to_string();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = std::path::PathBuf::from(tmp);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(|e| io_err(&name, "cannot create", e))?;
        f.write_all(bytes).map_err(|e| io_err(&name, "write failed", e))?;
        f.sync_all().map_err(|e| io_err(&name, "sync failed", e))?;
        std::fs::rename(&tmp, path).map_err(|e| io_err(&name, "cannot rename the temporary file into place", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
