//! NumPy `.npy` files: versions 1.0, 2.0 and 3.0; 2-D arrays in C order of float32,
//! float64, float16, uint8 or int8 (either byte order) as vectors, int32 or int64 as
//! ground-truth ids.
//!
//! The format (numpy.lib.format): the magic `\x93NUMPY`, a major and minor version byte,
//! the header's length (u16 little-endian for version 1, u32 for 2 and 3), then the header,
//! a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (1000,
//! 768), }` padded with spaces and a newline, then the array's bytes. The header is parsed
//! as that literal (not searched for substrings), its length is bounded before it is read,
//! and the shape must account for every byte after it, so a truncated file is reported
//! when opened, naming the expected and actual sizes.

use super::dtype::{Dtype, Encoding};
use super::source::{format_err, read_at, Layout, Part};
use super::MAX_DIM;
use crate::Error;
use std::fs::File;
use std::path::Path;

/// The magic bytes every `.npy` file starts with.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest header this reader accepts. numpy itself refuses headers over 10,000 bytes
/// unless told otherwise; the bound keeps a corrupt length field from sizing a buffer.
const MAX_HEADER: u64 = 1 << 20;

/// The dtypes accepted as vectors, for messages.
pub const VECTOR_DTYPES: &str = "<f4 >f4 (float32), <f8 >f8 (float64), <f2 >f2 (float16), |u1 (uint8), |i1 (int8)";

/// The dtypes accepted as ids, for messages.
pub const ID_DTYPES: &str = "<i4 >i4 (int32), <i8 >i8 (int64)";

/// A parsed header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub descr: String,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Where the array's bytes start.
    pub data_offset: u64,
}

/// The element type and byte order of a vector dtype (`descr`), if it is one.
pub(crate) fn vector_encoding(descr: &str) -> Option<Encoding> {
    let (order, kind) = descr.split_at(descr.len().min(1));
    let little = match order {
        "<" => true,
        ">" => false,
        // Byte order does not apply to single bytes: numpy writes '|', and accepts all four.
        "|" | "=" if matches!(kind, "u1" | "i1") => true,
        _ => return None,
    };
    let dtype = match kind {
        "f4" => Dtype::F32,
        "f8" => Dtype::F64,
        "f2" => Dtype::F16,
        "u1" => Dtype::U8,
        "i1" => Dtype::I8,
        _ => return None,
    };
    Some(Encoding { dtype, little })
}

/// Reads and parses the header of an open `.npy` file of `len` bytes.
pub(crate) fn read_header(path: &Path, file: &File, len: u64) -> Result<Header, Error> {
    let mut pre = [0u8; 12];
    let pre_len = len.min(12) as usize;
    read_at(path, file, &mut pre[..pre_len], 0)?;
    let (hlen, start) = parse_preamble(&pre[..pre_len]).map_err(|m| format_err(path, m))?;
    if start + hlen > len {
        let msg = format!(
            "the .npy header says it is {hlen} bytes long, but the file has only {} bytes after the {start}-byte preamble (truncated?)",
            len - start
        );
        return Err(format_err(path, msg));
    }
    if hlen > MAX_HEADER {
        return Err(format_err(path, format!("the .npy header is {hlen} bytes long, expected at most {MAX_HEADER}")));
    }
    let mut text = vec![0u8; hlen as usize];
    read_at(path, file, &mut text, start)?;
    let mut h = parse_header(&text).map_err(|m| format_err(path, m))?;
    h.data_offset = start + hlen;
    Ok(h)
}

/// The header's length and where it starts, from the magic and version bytes.
fn parse_preamble(pre: &[u8]) -> Result<(u64, u64), String> {
    if pre.len() < 10 || &pre[..6] != MAGIC {
        return Err("not a NumPy .npy file (it does not start with the \\x93NUMPY magic)".into());
    }
    match (pre[6], pre[7]) {
        (1, 0) => Ok((u64::from(u16::from_le_bytes([pre[8], pre[9]])), 10)),
        (2 | 3, 0) if pre.len() == 12 => Ok((u64::from(u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]])), 12)),
        (2 | 3, 0) => {
            Err(format!("the file is {} bytes long, shorter than a version 2 .npy preamble (12 bytes)", pre.len()))
        }
        (major, minor) => {
            Err(format!(".npy format version {major}.{minor} is not supported, expected 1.0, 2.0 or 3.0"))
        }
    }
}

/// Parses the header dict: `descr` (a string), `fortran_order` (a bool), `shape` (a tuple
/// of integers), in any order, each exactly once; other keys are an error as in numpy.
fn parse_header(bytes: &[u8]) -> Result<Header, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the .npy header is not text (UTF-8)".to_string())?;
    let mut p = Parser { s: text, at: 0 };
    let bad =
        |p: &Parser, what: &str| format!("malformed .npy header at character {}: expected {what} in {text:?}", p.at);
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    p.skip_ws();
    if !p.eat('{') {
        return Err(bad(&p, "'{'"));
    }
    loop {
        p.skip_ws();
        if p.eat('}') {
            break;
        }
        let key = p.string().ok_or_else(|| bad(&p, "a quoted key"))?;
        p.skip_ws();
        if !p.eat(':') {
            return Err(bad(&p, "':'"));
        }
        p.skip_ws();
        let dup = match key {
            "descr" => descr.replace(p.string().ok_or_else(|| bad(&p, "a quoted dtype"))?.to_string()).is_some(),
            "fortran_order" => fortran.replace(p.boolean().ok_or_else(|| bad(&p, "True or False"))?).is_some(),
            "shape" => shape.replace(p.tuple().ok_or_else(|| bad(&p, "a tuple of integers"))?).is_some(),
            other => {
                return Err(format!(
                    "the .npy header has an unknown key '{other}', expected descr, fortran_order and shape"
                ))
            }
        };
        if dup {
            return Err(format!("the .npy header repeats the key '{key}'"));
        }
        p.skip_ws();
        if !p.eat(',') {
            p.skip_ws();
            if p.eat('}') {
                break;
            }
            return Err(bad(&p, "',' or '}'"));
        }
    }
    if !p.rest().trim().is_empty() {
        return Err(bad(&p, "only padding after the '}'"));
    }
    let missing = |k| format!("the .npy header has no '{k}'");
    Ok(Header {
        descr: descr.ok_or_else(|| missing("descr"))?,
        fortran_order: fortran.ok_or_else(|| missing("fortran_order"))?,
        shape: shape.ok_or_else(|| missing("shape"))?,
        data_offset: 0,
    })
}

/// A cursor over the header text.
struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.at..]
    }
    fn skip_ws(&mut self) {
        let r = self.rest();
        self.at += r.len() - r.trim_start().len();
    }
    fn eat(&mut self, c: char) -> bool {
        let hit = self.rest().starts_with(c);
        if hit {
            self.at += c.len_utf8();
        }
        hit
    }
    /// A string in single or double quotes (no escapes: none of the values needs one).
    fn string(&mut self) -> Option<&'a str> {
        let r = self.rest();
        let q = r.chars().next().filter(|&c| c == '\'' || c == '"')?;
        let end = r[1..].find(q)?;
        self.at += end + 2;
        Some(&r[1..1 + end])
    }
    fn boolean(&mut self) -> Option<bool> {
        for (word, v) in [("True", true), ("False", false)] {
            if self.rest().starts_with(word) {
                self.at += word.len();
                return Some(v);
            }
        }
        None
    }
    /// `()`, `(n,)`, `(n, d)`, ...; Python 2's long suffix (`3L`) is accepted.
    fn tuple(&mut self) -> Option<Vec<u64>> {
        if !self.eat('(') {
            return None;
        }
        let mut out = Vec::new();
        loop {
            self.skip_ws();
            if self.eat(')') {
                return Some(out);
            }
            let r = self.rest();
            let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            out.push(r[..digits].parse().ok()?);
            self.at += digits;
            self.eat('L');
            self.skip_ws();
            if !self.eat(',') {
                self.skip_ws();
                return self.eat(')').then_some(out);
            }
        }
    }
}

/// `(rows, dim)` of a 2-D header, checked: C order, dimension in range.
pub(crate) fn shape_2d(path: &Path, h: &Header) -> Result<(u64, usize), Error> {
    if h.fortran_order {
        let msg = format!(
            "the array is in Fortran order (dtype '{}', shape {:?}), accepted: C order only; save it with np.save(path, np.ascontiguousarray(a))",
            h.descr, h.shape
        );
        return Err(format_err(path, msg));
    }
    let [n, d] = h.shape[..] else {
        let msg = format!("the array has shape {:?} ({}-D), expected 2-D (rows, dimension)", h.shape, h.shape.len());
        return Err(format_err(path, msg));
    };
    if d == 0 || d > MAX_DIM as u64 {
        return Err(format_err(
            path,
            format!("the array's dimension {d} (shape {:?}) is out of range, expected 1..={MAX_DIM}", h.shape),
        ));
    }
    Ok((n, d as usize))
}

/// The data must fill the file exactly: `rows · dim · size` bytes after the header.
pub(crate) fn check_len(path: &Path, h: &Header, rows: u64, dim: usize, size: usize, len: u64) -> Result<usize, Error> {
    let want = u128::from(rows) * dim as u128 * size as u128;
    let have = len - h.data_offset;
    if want != u128::from(have) {
        let msg = format!(
            "the header's shape ({rows}, {dim}) of '{}' needs {want} data bytes after the {}-byte header, but the file has {have} (truncated?)",
            h.descr, h.data_offset
        );
        return Err(format_err(path, msg));
    }
    usize::try_from(rows).map_err(|_| format_err(path, format!("{rows} rows do not fit this host's usize")))
}

/// Opens a `.npy` file of vectors.
pub(crate) fn open_part(path: &Path, file: File, len: u64) -> Result<Part, Error> {
    let h = read_header(path, &file, len)?;
    let Some(enc) = vector_encoding(&h.descr) else {
        return Err(format_err(
            path,
            format!("the .npy dtype '{}' is not supported as vectors, accepted: {VECTOR_DTYPES}", h.descr),
        ));
    };
    let (n, dim) = shape_2d(path, &h)?;
    let rows = check_len(path, &h, n, dim, enc.dtype.size(), len)?;
    Ok(Part { path: path.to_path_buf(), file, rows, dim, enc, layout: Layout::Dense { offset: h.data_offset } })
}

/// A version 1.0 `.npy` header for a C-order 2-D array of `descr` (for example `"<f2"`),
/// `rows × dim`: the file is this header followed by the array's bytes.
///
/// Padded with spaces so that the data starts at a multiple of 64 bytes, and so that any
/// row count up to `u64::MAX` gives the same length (a writer patches the count in place
/// when it finishes). `descr` is written as given, unchecked.
pub fn header_bytes(descr: &str, rows: u64, dim: usize) -> Vec<u8> {
    let dict = |rows: String| format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({rows}, {dim}), }}");
    let widest = dict(u64::MAX.to_string()).len();
    // magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple of 64.
    let total = (10 + widest + 1).div_ceil(64) * 64;
    let mut text = dict(rows.to_string());
    text.extend(std::iter::repeat_n(' ', total - 10 - 1 - text.len()));
    text.push('\n');
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&[1, 0]);
    out.extend_from_slice(&(text.len() as u16).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_literals_numpy_writes_and_variants() {
        let h = parse_header(b"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }          \n").unwrap();
        assert_eq!((h.descr.as_str(), h.fortran_order, h.shape), ("<f4", false, vec![3, 2]));
        let h = parse_header(b"{\"shape\":(7L,),\"descr\":\"|u1\",\"fortran_order\":True}").unwrap();
        assert_eq!((h.descr.as_str(), h.fortran_order, h.shape), ("|u1", true, vec![7]));
        assert_eq!(parse_header(b"{'descr': '<f2', 'fortran_order': False, 'shape': ()}").unwrap().shape, vec![]);
        for bad in [
            &b"'descr': '<f4'"[..],
            b"{'descr': '<f4', 'fortran_order': False}",
            b"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1, 2)}",
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2)}",
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), 'extra': 1}",
            b"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 2)}",
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2)} trailing",
            b"{'descr': '<f4' 'fortran_order': False, 'shape': (1, 2)}",
            b"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}",
            b"{'descr: '<f4', 'fortran_order': False, 'shape': (1, 2)}",
            b"\xff",
            b"",
        ] {
            assert!(parse_header(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn vector_dtypes() {
        for (d, want) in [
            ("<f4", Some((Dtype::F32, true))),
            (">f4", Some((Dtype::F32, false))),
            ("<f8", Some((Dtype::F64, true))),
            (">f2", Some((Dtype::F16, false))),
            ("|u1", Some((Dtype::U8, true))),
            ("<u1", Some((Dtype::U8, true))),
            (">i1", Some((Dtype::I8, true))),
            ("=i1", Some((Dtype::I8, true))),
            ("=f4", None),
            ("|f4", None),
            ("<i4", None),
            ("<c8", None),
            ("f4", None),
            ("", None),
        ] {
            let got = vector_encoding(d).map(|e| (e.dtype, if e.dtype.size() == 1 { true } else { e.little }));
            assert_eq!(got, want, "{d}");
        }
    }

    #[test]
    fn written_header_is_aligned_and_parses_back() {
        for rows in [0, 1, 12345, u64::MAX] {
            let b = header_bytes("<f4", rows, 768);
            assert_eq!(b.len() % 64, 0);
            assert_eq!(b.len(), header_bytes("<f4", 0, 768).len(), "the length does not depend on the count");
            let (hlen, start) = parse_preamble(&b[..10]).unwrap();
            assert_eq!(start + hlen, b.len() as u64);
            let h = parse_header(&b[10..]).unwrap();
            assert_eq!((h.descr.as_str(), h.fortran_order, h.shape), ("<f4", false, vec![rows, 768]));
        }
    }
}
