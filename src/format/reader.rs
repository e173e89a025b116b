//! The generic reader and validator: checks a model file's header, section directory,
//! padding and checksums, whatever the quantizer kind, before the kind reads its sections.
//! It never trusts a size in the file (see the module docs); reading streams each section
//! in chunks straight into its final array.

use super::{
    fmt_err, header_crc, io_err, memory, Kind, ModelFile, ALIGN, DIR_ENTRY, FORMAT_VERSION, HEADER, MAGIC,
    MAX_SECTIONS, PARM_MAX,
};
use crate::crc32c::Crc32c;
use crate::Error;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read and checksummed at a time: large enough to stream, small enough for L2.
pub(super) const CHUNK: usize = 256 << 10;

/// Reads a model file of either kind from memory.
///
/// # Errors
/// [`Error::Format`] naming the first problem found, [`Error::FormatVersion`].
pub fn read_bytes(bytes: &[u8]) -> Result<ModelFile, Error> {
    parse(&mut Bytes(bytes), "<memory>")
}

/// Reads a model file of either kind.
///
/// # Errors
/// As [`read_bytes`], and [`Error::Io`].
pub fn read_file(path: &Path) -> Result<ModelFile, Error> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|e| io_err(&name, "cannot open for reading", e))?;
    let len = file.metadata().map_err(|e| io_err(&name, "cannot read metadata", e))?.len();
    parse(&mut FileSource { file, len, name: &name }, &name)
}

/// Where the loader reads from: memory or a file, with the same checks.
pub(super) trait Source {
    fn len(&self) -> u64;
    /// Fills `buf` from `offset`; the caller has checked `offset + buf.len() <= len()`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;
}

struct Bytes<'a>(&'a [u8]);

impl Source for Bytes<'_> {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        let start = usize::try_from(offset).ok();
        let src = start.and_then(|s| self.0.get(s..s.checked_add(buf.len())?));
        match src {
            Some(src) => {
                buf.copy_from_slice(src);
                Ok(())
            }
            None => Err(fmt_err("<memory>", format!("read of {} bytes at offset {offset} past the end", buf.len()))),
        }
    }
}

struct FileSource<'a> {
    file: File,
    len: u64,
    name: &'a str,
}

impl Source for FileSource<'_> {
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.file.seek(SeekFrom::Start(offset)).map_err(|e| io_err(self.name, "seek failed", e))?;
        self.file.read_exact(buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                fmt_err(self.name, format!("file shrank while being read (offset {offset})"))
            } else {
                io_err(self.name, "read failed", e)
            }
        })
    }
}

/// One directory entry, checked against the input's bounds.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub(super) tag: [u8; 4],
    crc: u32,
    offset: u64,
    pub(super) len: u64,
}

pub(super) fn tag_str(tag: [u8; 4]) -> String {
    tag.iter().map(|&b| if b.is_ascii_graphic() { (b as char).to_string() } else { format!("\\x{b:02x}") }).collect()
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Converts a size or count from the file, naming it if this machine cannot address it.
pub(super) fn to_usize(name: &str, what: &str, v: u64) -> Result<usize, Error> {
    usize::try_from(v).map_err(|_| fmt_err(name, format!("{what} = {v} does not fit this machine's address space")))
}

/// The directory entry of a section the file must hold.
pub(super) fn find(entries: &[Entry], tag: &[u8; 4], name: &str) -> Result<Entry, Error> {
    entries
        .iter()
        .find(|e| &e.tag == tag)
        .copied()
        .ok_or_else(|| fmt_err(name, format!("missing section {}", tag_str(*tag))))
}

fn parse(src: &mut impl Source, name: &str) -> Result<ModelFile, Error> {
    let total = src.len();
    if total < HEADER as u64 {
        return Err(fmt_err(
            name,
            format!("{total} bytes, shorter than the {HEADER}-byte header: truncated, or not a vq model file"),
        ));
    }
    let mut h = [0u8; HEADER];
    src.read_at(0, &mut h)?;
    if h[..8] != MAGIC {
        return Err(fmt_err(
            name,
            format!("not a vq model file: magic bytes {:02x?}, expected {:02x?}", &h[..8], MAGIC),
        ));
    }
    let version = u32_at(&h, 8);
    if version != FORMAT_VERSION {
        return Err(Error::FormatVersion { path: name.to_string(), found: version, supported: FORMAT_VERSION });
    }
    match h[12..16] {
        [4, 3, 2, 1] => {}
        [1, 2, 3, 4] => {
            return Err(fmt_err(name, "written big-endian (marker 01 02 03 04); vq model files are little-endian"))
        }
        ref m => return Err(fmt_err(name, format!("bad endianness marker {m:02x?}, expected [04, 03, 02, 01]"))),
    }
    let number = u32_at(&h, 16);
    let Some(kind) = Kind::from_number(number) else {
        return Err(fmt_err(name, format!("unknown quantizer kind {number}, accepted {}", Kind::ACCEPTED)));
    };
    let nsec = u32_at(&h, 20) as usize;
    if !(1..=MAX_SECTIONS).contains(&nsec) {
        return Err(fmt_err(name, format!("section count {nsec} out of range, accepted 1..={MAX_SECTIONS}")));
    }
    let declared = u64_at(&h, 24);
    if declared != total {
        let what = if declared > total { "truncated" } else { "has trailing bytes" };
        return Err(fmt_err(name, format!("{what}: the header says {declared} bytes, the input has {total}")));
    }
    let version_field = &h[32..48];
    let vlen = version_field.iter().position(|&b| b == 0).unwrap_or(16);
    if vlen == 0
        || !version_field[..vlen].iter().all(u8::is_ascii_graphic)
        || version_field[vlen..].iter().any(|&b| b != 0)
    {
        return Err(fmt_err(
            name,
            format!("bad library version field {version_field:02x?}: expected NUL-padded ASCII"),
        ));
    }
    let library_version = String::from_utf8_lossy(&version_field[..vlen]).into_owned();
    if h[52..].iter().any(|&b| b != 0) {
        return Err(fmt_err(name, "reserved header bytes 52..64 are not zero"));
    }
    let dir_len = nsec * DIR_ENTRY;
    let dir_end = (HEADER + dir_len).next_multiple_of(ALIGN) as u64;
    if dir_end > total {
        return Err(fmt_err(
            name,
            format!("truncated: {nsec} sections need a directory ending at {dir_end}, the input has {total} bytes"),
        ));
    }
    let mut dir = [0u8; MAX_SECTIONS * DIR_ENTRY];
    let dir = &mut dir[..dir_len];
    src.read_at(HEADER as u64, dir)?;
    let (want, got) = (u32_at(&h, 48), header_crc(&h, dir));
    if want != got {
        return Err(fmt_err(
            name,
            format!(
                "header checksum mismatch: stored {want:#010x}, computed {got:#010x} (corrupt header or directory)"
            ),
        ));
    }

    let mut entries: Vec<Entry> = Vec::with_capacity(nsec);
    for e in dir.chunks_exact(DIR_ENTRY) {
        let entry =
            Entry { tag: [e[0], e[1], e[2], e[3]], crc: u32_at(e, 4), offset: u64_at(e, 8), len: u64_at(e, 16) };
        let t = tag_str(entry.tag);
        if !entry.tag.iter().all(u8::is_ascii_alphanumeric) {
            return Err(fmt_err(name, format!("section tag {t:?} is not four ASCII letters or digits")));
        }
        if u64_at(e, 24) != 0 {
            return Err(fmt_err(name, format!("section {t}: reserved directory field is not zero")));
        }
        if entries.iter().any(|p| p.tag == entry.tag) {
            return Err(fmt_err(name, format!("section {t} appears twice")));
        }
        if !entry.offset.is_multiple_of(ALIGN as u64) || entry.offset < dir_end {
            return Err(fmt_err(
                name,
                format!("section {t} at offset {}: expected a multiple of {ALIGN} at or after {dir_end}", entry.offset),
            ));
        }
        if entry.offset.checked_add(entry.len).is_none_or(|end| end > total) {
            return Err(fmt_err(
                name,
                format!(
                    "section {t} (offset {}, {} bytes) runs past the end of the {total}-byte input: truncated",
                    entry.offset, entry.len
                ),
            ));
        }
        entries.push(entry);
    }
    // Sections are packed in offset order: each starts at the first aligned offset after
    // the previous one (the directory, for the first), the file ends with the last, and
    // the padding between them is zero. So every byte of a file is covered by a checksum
    // or must be zero, and a single flipped bit anywhere is caught.
    let mut by_offset = entries.clone();
    by_offset.sort_by_key(|e| e.offset);
    let mut expected = dir_end;
    let mut gap_from = (HEADER + dir_len) as u64;
    for e in &by_offset {
        if e.offset != expected {
            return Err(fmt_err(
                name,
                format!(
                    "section {} at offset {}, expected {expected} (sections are packed, each 64-byte aligned)",
                    tag_str(e.tag),
                    e.offset
                ),
            ));
        }
        let mut pad = [0u8; ALIGN];
        let pad = &mut pad[..(e.offset - gap_from) as usize];
        src.read_at(gap_from, pad)?;
        if pad.iter().any(|&b| b != 0) {
            return Err(fmt_err(
                name,
                format!("padding bytes {gap_from}..{} before section {} are not zero", e.offset, tag_str(e.tag)),
            ));
        }
        gap_from = e.offset + e.len;
        expected = gap_from.next_multiple_of(ALIGN as u64);
    }
    if gap_from != total {
        return Err(fmt_err(name, format!("{} bytes after the last section, expected none", total - gap_from)));
    }

    let (required, optional) = (kind.required(), kind.optional());
    for e in &entries {
        if required.contains(&e.tag) || optional.contains(&e.tag) {
            continue;
        }
        if e.tag[0].is_ascii_uppercase() {
            return Err(fmt_err(name, format!("unknown required section {} for this kind; this library reads format version {FORMAT_VERSION} sections {}", tag_str(e.tag), required.iter().map(|t| tag_str(*t)).collect::<Vec<_>>().join(", "))));
        }
        // An optional section: not understood, but still checked.
        skip_checked(src, e, name)?;
    }
    let parm_entry = find(&entries, b"PARM", name)?;
    let parm_len = kind.parm_len();
    if parm_entry.len != parm_len as u64 {
        return Err(fmt_err(name, format!("section PARM has {} bytes, expected {parm_len}", parm_entry.len)));
    }
    let mut parm = [0u8; PARM_MAX];
    let parm = &mut parm[..parm_len];
    read_checked(src, &parm_entry, parm, name)?;
    let dim = to_usize(name, "dim", u64_at(parm, 0))?;
    if dim == 0 {
        return Err(fmt_err(name, "dim = 0 in PARM, expected at least 1"));
    }
    let model = kind.read(src, &entries, parm, dim, name)?;
    Ok(ModelFile { model, library_version, format_version: version })
}

/// Reads a section into `out` chunk by chunk, checksumming each chunk while it is in cache.
pub(super) fn read_checked(src: &mut impl Source, e: &Entry, out: &mut [u8], name: &str) -> Result<(), Error> {
    read_inspected(src, e, out, name, |_| {})
}

/// [`read_checked`], calling `inspect` on each chunk while it is still in cache.
fn read_inspected(
    src: &mut impl Source,
    e: &Entry,
    out: &mut [u8],
    name: &str,
    mut inspect: impl FnMut(&[u8]),
) -> Result<(), Error> {
    let mut crc = Crc32c::new();
    let mut off = e.offset;
    for chunk in out.chunks_mut(CHUNK) {
        src.read_at(off, chunk)?;
        crc.update(chunk);
        inspect(chunk);
        off += chunk.len() as u64;
    }
    let got = crc.finish();
    if got != e.crc {
        return Err(fmt_err(
            name,
            format!(
                "section {} checksum mismatch: stored {:#010x}, computed {got:#010x} (corrupt data)",
                tag_str(e.tag),
                e.crc
            ),
        ));
    }
    Ok(())
}

/// Checks an optional section's checksum without keeping it (one chunk-sized buffer).
fn skip_checked(src: &mut impl Source, e: &Entry, name: &str) -> Result<(), Error> {
    // Sizes in u64 until they are below CHUNK: on a 32-bit target a section of 4 GiB or
    // more would otherwise truncate to a short (or zero) read and never finish.
    let mut buf = vec![0u8; e.len.min(CHUNK as u64) as usize];
    let mut crc = Crc32c::new();
    let mut off = e.offset;
    let end = e.offset + e.len;
    while off < end {
        let n = (end - off).min(CHUNK as u64) as usize;
        src.read_at(off, &mut buf[..n])?;
        crc.update(&buf[..n]);
        off += n as u64;
    }
    if crc.finish() != e.crc {
        return Err(fmt_err(name, format!("section {} checksum mismatch (corrupt data)", tag_str(e.tag))));
    }
    Ok(())
}

/// Reads an f32 section (length already checked against the parameters and the input)
/// straight into its final array.
/// A section of little-endian f32, every value finite: the check runs on each chunk as it
/// is read (a second pass over a 100 MB codebook cost a fifth of the load time).
pub(super) fn read_f32s(src: &mut impl Source, e: &Entry, name: &str, what: &str) -> Result<Vec<f32>, Error> {
    let mut v = vec![0f32; e.len as usize / 4];
    memory::advise_huge_pages(bytemuck::cast_slice_mut(&mut v));
    let mut seen = 0usize;
    let mut bad: Option<usize> = None;
    // CHUNK is a multiple of 4: chunks hold whole values.
    read_inspected(src, e, bytemuck::cast_slice_mut(&mut v), name, |chunk| {
        let words = chunk.as_chunks::<4>().0;
        // A fold over the whole chunk vectorizes (about 50 GB/s here, 2 ms of a 100 MB
        // load); a search that stops at the first hit does not (11 GB/s). Only a chunk that
        // holds a non-finite value is searched for it.
        if bad.is_none() && words.iter().fold(false, |any, w| any | nonfinite(*w)) {
            bad = words.iter().position(|w| nonfinite(*w)).map(|i| seen + i);
        }
        seen += words.len();
    })?;
    if let Some(i) = bad {
        return Err(fmt_err(name, format!("{what}: non-finite value (NaN or infinity) at element {i}")));
    }
    if cfg!(target_endian = "big") {
        for x in &mut v {
            *x = f32::from_bits(u32::from_le(x.to_bits()));
        }
    }
    Ok(v)
}

/// Whether the little-endian f32 in `bytes` is NaN or infinite: all exponent bits set.
pub(super) fn nonfinite(bytes: [u8; 4]) -> bool {
    u32::from_le_bytes(bytes) & 0x7F80_0000 == 0x7F80_0000
}
