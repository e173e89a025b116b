//! Output files appear whole or not at all: each is written to a temporary file in its
//! destination directory and renamed over the target, so an interrupted or failed command
//! never leaves a half-written CSV, plot or ground-truth file behind.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically (creating the parent directories).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    write_with(path, |tmp| write_file(tmp, bytes))
}

/// Writes `bytes` to the (temporary) file `tmp` and syncs it.
pub fn write_file(tmp: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f = std::fs::File::create(tmp).map_err(|e| format!("{}: cannot create: {e}", tmp.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| format!("{}: write failed: {e}", tmp.display()))
}

/// Calls `fill(tmp)` to write a temporary file, then renames it to `path`; removes the
/// temporary file if `fill` fails. The temporary file keeps `path`'s extension, so writers
/// that choose a format by extension write the right one.
pub fn write_with(path: &Path, fill: impl FnOnce(&Path) -> Result<(), String>) -> Result<(), String> {
    write_all(vec![(path, Box::new(fill))])
}

/// What [`write_all`] writes: a target path and the writer of its temporary file.
pub type Fill<'a> = (&'a Path, Box<dyn FnOnce(&Path) -> Result<(), String> + 'a>);

/// [`write_with`] for files that belong together (ids and their sidecar): every temporary
/// file is written before any is renamed, so a failed writer leaves every target as it was.
pub fn write_all(files: Vec<Fill<'_>>) -> Result<(), String> {
    let mut written: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    let discard = |written: &[(PathBuf, &Path)]| written.iter().for_each(|(tmp, _)| drop(std::fs::remove_file(tmp)));
    for (path, fill) in files {
        let tmp = match temporary(path) {
            Ok(tmp) => tmp,
            Err(e) => {
                discard(&written);
                return Err(e);
            }
        };
        written.push((tmp, path));
        if let Err(e) = fill(&written.last().expect("just pushed").0) {
            discard(&written);
            return Err(e);
        }
    }
    for (i, (tmp, path)) in written.iter().enumerate() {
        if let Err(e) = std::fs::rename(tmp, path) {
            discard(&written[i..]);
            return Err(format!("{}: cannot write: {e}", path.display()));
        }
    }
    Ok(())
}

/// The temporary path `path` is first written to, in its directory (created).
fn temporary(path: &Path) -> Result<PathBuf, String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create directory: {e}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    Ok(dir.join(format!(".tmp{}.{name}", std::process::id())))
}

/// Checks that `path` could be written later (before any work is done): it is not a
/// directory, and its nearest existing ancestor is a directory.
pub fn check_output(flag: &str, path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("{flag} {}: is a directory, expected a file path", path.display()));
    }
    creatable_under(flag, path)
}

/// Checks that the nearest existing ancestor of `path` is a directory, so `path` (and the
/// directories between) can be created there.
fn creatable_under(flag: &str, path: &Path) -> Result<(), String> {
    let mut d = path.parent().unwrap_or(Path::new(""));
    while !d.as_os_str().is_empty() && !d.exists() {
        d = d.parent().unwrap_or(Path::new(""));
    }
    if !d.as_os_str().is_empty() && !d.is_dir() {
        return Err(format!("{flag} {}: {} is not a directory", path.display(), d.display()));
    }
    Ok(())
}

/// Checks that `dir` could hold output files later: a directory, or creatable under an
/// existing directory (created only when the first file is written).
pub fn check_dir(flag: &str, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        return if dir.is_dir() {
            Ok(())
        } else {
            Err(format!("{flag} {}: exists and is not a directory", dir.display()))
        };
    }
    creatable_under(flag, dir)
}
