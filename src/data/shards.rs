//! A folder of shards: many vector files of one dimension and one element type, read as
//! one dataset with their rows in file-name order (the layout MS MARCO embeddings and most
//! large embedding dumps ship in).
//!
//! The rules, chosen so that a folder is never read differently from what it holds:
//!
//! - Files are taken in byte-wise order of their names, as `sorted()` in Python and `ls`
//!   in the C locale order them, so row ids agree with tools that concatenate the same
//!   folder. `part_2.npy` sorts after `part_10.npy`: zero-pad the numbers.
//! - Hidden entries (names starting with `.`) are skipped.
//! - Any other entry that is not a vector file (a subfolder, a `README`, a `.npy.gz`) is an
//!   error naming it: skipping it silently could drop a shard and change the dataset.
//! - Formats may be mixed (`.npy` and `.fbin`), but every file must have the dimension and
//!   the element type of the first; an error names both files and both values.
//! - Every shard's header is checked against its length when the folder is opened, so a
//!   truncated shard is reported by name before any row is read. Empty shards (0 rows)
//!   are allowed; a folder with no vector file is not.
//!
//! Each shard stays open (one file descriptor each) while the source lives.

use std::path::{Path, PathBuf};

use super::source::{format_err, io_err, Format, Part};
use super::FORMATS;
use crate::Error;

/// Opens every vector file of `dir` in name order and checks they agree.
pub(crate) fn open_dir(dir: &Path) -> Result<Vec<Part>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(dir, format!("cannot list the folder: {e}")))?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_err(dir, format!("cannot list the folder: {e}")))?;
        if entry.file_name().as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        if path.is_dir() || Format::of(&path).is_none() {
            let msg = format!(
                "is not a vector file, but a folder of shards may hold only vector files ({FORMATS}) and hidden files; move it out of {}",
                dir.display()
            );
            return Err(format_err(&path, msg));
        }
        files.push(path);
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let mut parts: Vec<Part> = Vec::with_capacity(files.len());
    for path in files {
        let part = Part::open(&path)?;
        if let Some(first) = parts.first() {
            if part.dim != first.dim {
                let msg = format!(
                    "dimension {} differs from {}'s {}; all shards of a folder must have one dimension",
                    part.dim,
                    first.path.display(),
                    first.dim
                );
                return Err(format_err(&path, msg));
            }
            if part.enc.dtype != first.enc.dtype {
                let msg = format!(
                    "stores {}, but {} stores {}; all shards of a folder must store one element type",
                    part.enc.dtype.name(),
                    first.path.display(),
                    first.enc.dtype.name()
                );
                return Err(format_err(&path, msg));
            }
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Err(format_err(dir, format!("the folder holds no vector file, expected one or more of {FORMATS}")));
    }
    Ok(parts)
}
