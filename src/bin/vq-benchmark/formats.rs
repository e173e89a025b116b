//! Vector file readers beyond TEXMEX (which `vq::vecs` reads): the big-ann-benchmarks
//! binary files (`.fbin`, `.u8bin`, `.i8bin`, `.ibin`: a little-endian u32 row count, a u32
//! dimension, then the rows) and NumPy `.npy` arrays (2-D, C order, f32 or f64, either
//! byte order).
//!
//! As in `vq::vecs`, nothing read from a file is trusted for an allocation: the header's
//! shape must match the file's length exactly before any row is read, so a truncated or
//! corrupt file is reported (naming the expected and actual sizes) instead of misread.

use std::fs;
use std::io::Read;
use std::path::Path;

/// Rows read from a file, as f32, with their dimension.
pub struct Matrix {
    pub data: Vec<f32>,
    pub dim: usize,
}

impl Matrix {
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim
    }
}

/// Integer rows (ground-truth ids).
pub struct IdMatrix {
    pub data: Vec<i64>,
    pub k: usize,
}

fn read_all(path: &Path) -> Result<Vec<u8>, String> {
    let mut f = fs::File::open(path).map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    Ok(bytes)
}

fn ext(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}

/// The formats `read_vectors` accepts, for messages.
pub const VECTOR_FORMATS: &str = ".fvecs, .ivecs, .bvecs, .fbin, .u8bin, .i8bin, .ibin or .npy (f32/f64)";

/// Reads vectors (at most `max_rows` of them) from any supported file, converted to f32.
pub fn read_vectors(path: &Path, max_rows: Option<usize>) -> Result<Matrix, String> {
    let vq_err = |e: vq::Error| e.to_string();
    let m = match ext(path).as_str() {
        "fvecs" => {
            let (data, dim) = vq::data::texmex::read_fvecs_rows(path, max_rows).map_err(vq_err)?;
            Matrix { data, dim }
        }
        "ivecs" => {
            let (data, dim) = vq::data::texmex::read_ivecs_rows(path, max_rows).map_err(vq_err)?;
            Matrix { data: data.into_iter().map(|v| v as f32).collect(), dim }
        }
        "bvecs" => {
            let (data, dim) = vq::data::texmex::read_bvecs_rows(path, max_rows).map_err(vq_err)?;
            Matrix { data: data.into_iter().map(f32::from).collect(), dim }
        }
        "fbin" => read_bin(path, 4, max_rows, |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))?,
        "u8bin" => read_bin(path, 1, max_rows, |b| f32::from(b[0]))?,
        "i8bin" => read_bin(path, 1, max_rows, |b| f32::from(b[0] as i8))?,
        "ibin" => read_bin(path, 4, max_rows, |b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)?,
        "npy" => read_npy(path, max_rows)?,
        other => {
            return Err(format!(
                "{}: unknown file type '.{other}', expected {VECTOR_FORMATS} (or `dummy`)",
                path.display()
            ))
        }
    };
    if m.data.is_empty() {
        return Err(format!("{}: holds no vectors, expected at least one", path.display()));
    }
    if let Some(i) = m.data.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "{}: row {} holds a non-finite value (NaN or infinity); only finite values are accepted",
            path.display(),
            i / m.dim
        ));
    }
    Ok(m)
}

/// Reads ground-truth ids: `.ivecs` or `.ibin`.
pub fn read_ids(path: &Path) -> Result<IdMatrix, String> {
    match ext(path).as_str() {
        "ivecs" => {
            let (data, k) = vq::data::texmex::read_ivecs(path).map_err(|e| e.to_string())?;
            Ok(IdMatrix { data: data.into_iter().map(i64::from).collect(), k })
        }
        "ibin" => {
            let (rows, dim, body) = bin_header(path, 4, None)?;
            let data =
                body.chunks_exact(4).take(rows * dim).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64);
            Ok(IdMatrix { data: data.collect(), k: dim })
        }
        other => Err(format!("{}: unknown ground-truth type '.{other}', expected .ivecs or .ibin", path.display())),
    }
}

/// `(rows to read, dim, body bytes)` of a big-ann-benchmarks file, checked against its length.
fn bin_header(path: &Path, elem: usize, max_rows: Option<usize>) -> Result<(usize, usize, Vec<u8>), String> {
    let bytes = read_all(path)?;
    if bytes.len() < 8 {
        return Err(format!(
            "{}: {} bytes is shorter than the 8-byte header (u32 rows, u32 dimension)",
            path.display(),
            bytes.len()
        ));
    }
    let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let d = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    if d == 0 || d > vq::data::texmex::MAX_DIM {
        return Err(format!(
            "{}: header dimension {d} is out of range, expected 1..={}",
            path.display(),
            vq::data::texmex::MAX_DIM
        ));
    }
    let want = (n as u128) * (d as u128) * (elem as u128) + 8;
    if want != bytes.len() as u128 {
        return Err(format!(
            "{}: header says {n} rows of dimension {d} ({want} bytes), but the file has {} bytes (truncated or not this format)",
            path.display(),
            bytes.len()
        ));
    }
    let rows = max_rows.map_or(n, |m| m.min(n));
    Ok((rows, d, bytes[8..].to_vec()))
}

fn read_bin(path: &Path, elem: usize, max_rows: Option<usize>, conv: impl Fn(&[u8]) -> f32) -> Result<Matrix, String> {
    let (rows, dim, body) = bin_header(path, elem, max_rows)?;
    let data = body.chunks_exact(elem).take(rows * dim).map(conv).collect();
    Ok(Matrix { data, dim })
}

/// A `.npy` file: version 1–3 header, a 2-D C-order array of `<f4`, `>f4`, `<f8` or `>f8`.
fn read_npy(path: &Path, max_rows: Option<usize>) -> Result<Matrix, String> {
    let p = path.display();
    let bytes = read_all(path)?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(format!("{p}: not a NumPy .npy file (missing the \\x93NUMPY magic)"));
    }
    let (hlen, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
        v => return Err(format!("{p}: .npy format version {v} is not supported, expected 1, 2 or 3")),
    };
    let header = bytes
        .get(start..start + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| format!("{p}: truncated or unreadable .npy header"))?;
    let field = |key: &str| -> Option<&str> {
        let i = header.find(&format!("'{key}'"))?;
        let rest = header[i + key.len() + 2..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest)
    };
    let descr = field("descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| format!("{p}: .npy header has no 'descr'"))?;
    if field("fortran_order").is_some_and(|r| r.starts_with("True")) {
        return Err(format!("{p}: Fortran-order arrays are not supported, save with np.ascontiguousarray"));
    }
    let shape_src = field("shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| format!("{p}: .npy header has no 'shape'"))?;
    let shape: Vec<usize> = shape_src
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| format!("{p}: bad .npy shape '({shape_src})'")))
        .collect::<Result<_, _>>()?;
    let [n, d] = shape[..] else {
        return Err(format!("{p}: .npy array has shape ({shape_src}), expected 2-D (rows, dimension)"));
    };
    if d == 0 || d > vq::data::texmex::MAX_DIM {
        return Err(format!("{p}: dimension {d} is out of range, expected 1..={}", vq::data::texmex::MAX_DIM));
    }
    let (elem, little, is_f64) = match descr {
        "<f4" => (4, true, false),
        ">f4" => (4, false, false),
        "<f8" => (8, true, true),
        ">f8" => (8, false, true),
        other => return Err(format!("{p}: .npy dtype '{other}' is not supported, expected float32 or float64")),
    };
    let body = &bytes[start + hlen..];
    let want = (n as u128) * (d as u128) * (elem as u128);
    if want != body.len() as u128 {
        return Err(format!(
            "{p}: .npy shape ({n}, {d}) needs {want} data bytes, but the file has {} (truncated?)",
            body.len()
        ));
    }
    let rows = max_rows.map_or(n, |m| m.min(n));
    let vals = body.chunks_exact(elem).take(rows * d);
    let data = if is_f64 {
        vals.map(|b| {
            let a: [u8; 8] = b.try_into().expect("8 bytes");
            (if little { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) }) as f32
        })
        .collect()
    } else {
        vals.map(|b| {
            let a: [u8; 4] = b.try_into().expect("4 bytes");
            if little {
                f32::from_le_bytes(a)
            } else {
                f32::from_be_bytes(a)
            }
        })
        .collect()
    };
    Ok(Matrix { data, dim: d })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy_bytes(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn npy_f32_f64_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let vals = [1.5f32, -2.0, 3.25, 4.0, 5.0, 6.0];
        let body: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let p = dir.path().join("a.npy");
        fs::write(&p, npy_bytes("<f4", "(3, 2)", &body)).unwrap();
        let m = read_vectors(&p, None).unwrap();
        assert_eq!((m.dim, m.data.clone()), (2, vals.to_vec()));
        assert_eq!(read_vectors(&p, Some(1)).unwrap().data, vec![1.5, -2.0]);
        let body64: Vec<u8> = vals.iter().flat_map(|&v| (v as f64).to_be_bytes()).collect();
        fs::write(&p, npy_bytes(">f8", "(2, 3)", &body64)).unwrap();
        let m = read_vectors(&p, None).unwrap();
        assert_eq!((m.dim, m.data), (3, vals.to_vec()));
        fs::write(&p, npy_bytes("<f4", "(3, 2)", &body[..20])).unwrap();
        assert!(read_vectors(&p, None).err().unwrap().contains("truncated"));
        fs::write(&p, npy_bytes("<i8", "(3, 2)", &body)).unwrap();
        assert!(read_vectors(&p, None).err().unwrap().contains("'<i8'"));
        fs::write(&p, npy_bytes("<f4", "(6,)", &body)).unwrap();
        assert!(read_vectors(&p, None).err().unwrap().contains("expected 2-D"));
    }

    #[test]
    fn bin_formats_check_their_length() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.u8bin");
        let mut b = vec![2, 0, 0, 0, 3, 0, 0, 0];
        b.extend_from_slice(&[1, 2, 3, 4, 5, 255]);
        fs::write(&p, &b).unwrap();
        let m = read_vectors(&p, None).unwrap();
        assert_eq!((m.dim, m.rows(), m.data[5]), (3, 2, 255.0));
        fs::write(&p, &b[..13]).unwrap();
        assert!(read_vectors(&p, None).err().unwrap().contains("but the file has 13 bytes"));
        let q = dir.path().join("g.ibin");
        let mut g = vec![1, 0, 0, 0, 2, 0, 0, 0];
        g.extend_from_slice(&7i32.to_le_bytes());
        g.extend_from_slice(&9i32.to_le_bytes());
        fs::write(&q, &g).unwrap();
        let ids = read_ids(&q).unwrap();
        assert_eq!((ids.k, ids.data), (2, vec![7, 9]));
        assert!(read_vectors(&dir.path().join("x.txt"), None).err().unwrap().contains("unknown file type"));
    }
}
