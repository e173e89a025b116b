//! The standard Hugging Face cache, read as `huggingface_hub` writes it, so files fetched
//! by Python (`datasets`, `huggingface-cli download`) serve vq too, and the other way round:
//!
//! ```text
//! <hub cache>/datasets--OWNER--NAME/refs/<revision>        the commit a branch or tag was at
//!                                  /snapshots/<commit>/<path>  links into blobs/
//!                                  /blobs/<etag>             the bytes; an LFS file's etag is its sha256
//! ```
//!
//! The hub cache is `--cache-dir`, else `HF_HUB_CACHE`, else `HF_HOME/hub`, else
//! `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`, as in
//! `huggingface_hub`. `HF_HUB_OFFLINE=1` reads the cache only.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Model or dataset repository (their cache folders and API paths differ).
// Models are fetched for `--embed-model` (feature `embed`).
#[cfg_attr(not(feature = "embed"), allow(dead_code))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Model,
    Dataset,
}

/// The hub cache folder.
pub fn hub_dir(cache_dir: Option<&Path>) -> PathBuf {
    if let Some(d) = cache_dir {
        return d.to_path_buf();
    }
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(d) = var("HF_HUB_CACHE") {
        return d;
    }
    hf_home().join("hub")
}

/// `HF_HOME`, where `huggingface-cli login` keeps the token.
pub fn hf_home() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("HF_HOME").unwrap_or_else(|| {
        var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"))
            .join("huggingface")
    })
}

/// Whether `HF_HUB_OFFLINE` asks for the cache only (`1`, `true`, `yes`, `on`).
pub fn offline() -> bool {
    std::env::var("HF_HUB_OFFLINE")
        .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
        .unwrap_or(false)
}

/// `HF_TOKEN`, else the token `huggingface-cli login` saved.
pub fn token() -> Option<String> {
    let t = std::env::var("HF_TOKEN").ok().or_else(|| std::fs::read_to_string(hf_home().join("token")).ok())?;
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// `datasets--OWNER--NAME` (or `models--…`) under the hub cache.
pub fn repo_dir(hub: &Path, kind: Kind, repo: &str) -> PathBuf {
    let prefix = match kind {
        Kind::Model => "models",
        Kind::Dataset => "datasets",
    };
    hub.join(format!("{prefix}--{}", repo.replace('/', "--")))
}

/// Whether `rev` is a full commit hash.
pub fn is_commit(rev: &str) -> bool {
    rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit `revision` resolves to in the cache, if it was fetched before.
pub fn cached_commit(repo_dir: &Path, revision: &str) -> Option<String> {
    if is_commit(revision) {
        return repo_dir.join("snapshots").join(revision).is_dir().then(|| revision.to_string());
    }
    let commit = std::fs::read_to_string(repo_dir.join("refs").join(revision)).ok()?;
    let commit = commit.trim().to_string();
    repo_dir.join("snapshots").join(&commit).is_dir().then_some(commit)
}

/// Records that `revision` is at `commit` (as `huggingface_hub` does), so a later offline
/// run finds it.
pub fn write_ref(repo_dir: &Path, revision: &str, commit: &str) -> Result<(), String> {
    if revision == commit {
        return Ok(());
    }
    let path = repo_dir.join("refs").join(revision);
    crate::atomic::write(&path, commit.as_bytes())
}

/// Every file of a cached snapshot, as repository paths (`/`-separated), sorted.
pub fn snapshot_files(snapshot: &Path) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut stack = vec![snapshot.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: cannot list: {e}", dir.display()))?;
            let path = entry.path();
            // Links to blobs are files; follow them for the type.
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(snapshot) {
                let parts: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks a cached file against its blob's name when that name is a sha256 (as every
/// LFS file's is): a truncated or damaged download is named, with what to do, instead of
/// being read as data.
pub fn verify(path: &Path, what: &str) -> Result<(), String> {
    let blob = std::fs::canonicalize(path).map_err(|e| format!("{what}: {} cannot be read: {e}", path.display()))?;
    let Some(want) = blob.file_name().and_then(|n| n.to_str()).filter(|n| n.len() == 64) else { return Ok(()) };
    if !want.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(());
    }
    let mut f = std::fs::File::open(&blob).map_err(|e| format!("{what}: {} cannot be read: {e}", blob.display()))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut f, &mut hasher).map_err(|e| format!("{what}: {} cannot be read: {e}", blob.display()))?;
    let got: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if got != want.to_ascii_lowercase() {
        return Err(format!(
            "{what}: the cached file {} fails its checksum (sha256 {got}, expected {want}): it is truncated or damaged; delete {} and run again to download it anew",
            path.display(),
            blob.display()
        ));
    }
    Ok(())
}

/// The first 16 hex digits of `bytes`' sha256: a cache key.
#[cfg_attr(not(feature = "embed"), allow(dead_code))]
pub fn short_sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_named_by_its_sha256_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = b"hello parquet";
        let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        let blobs = tmp.path().join("blobs");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join(&sha), bytes).unwrap();
        let snap = tmp.path().join("snapshots/abc");
        std::fs::create_dir_all(&snap).unwrap();
        std::os::unix::fs::symlink(blobs.join(&sha), snap.join("f.parquet")).unwrap();
        verify(&snap.join("f.parquet"), "d").unwrap();
        std::fs::write(blobs.join(&sha), &bytes[..5]).unwrap();
        let e = verify(&snap.join("f.parquet"), "d").unwrap_err();
        assert!(e.contains("fails its checksum") && e.contains(&sha), "{e}");
        // Small files' etags are git hashes (40 hex): not checked.
        std::fs::write(blobs.join("0123456789012345678901234567890123456789"), b"x").unwrap();
        verify(&blobs.join("0123456789012345678901234567890123456789"), "d").unwrap();
    }

    #[test]
    fn refs_resolve_to_cached_snapshots_only() {
        let tmp = tempfile::tempdir().unwrap();
        let commit = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(cached_commit(tmp.path(), "main"), None);
        write_ref(tmp.path(), "main", commit).unwrap();
        assert_eq!(cached_commit(tmp.path(), "main"), None, "no snapshot yet");
        std::fs::create_dir_all(tmp.path().join("snapshots").join(commit).join("data")).unwrap();
        std::fs::write(tmp.path().join("snapshots").join(commit).join("data/b.parquet"), b"").unwrap();
        std::fs::write(tmp.path().join("snapshots").join(commit).join("README.md"), b"").unwrap();
        assert_eq!(cached_commit(tmp.path(), "main").as_deref(), Some(commit));
        assert_eq!(cached_commit(tmp.path(), commit).as_deref(), Some(commit));
        assert_eq!(
            snapshot_files(&tmp.path().join("snapshots").join(commit)).unwrap(),
            ["README.md", "data/b.parquet"]
        );
        write_ref(tmp.path(), "refs/convert/parquet", commit).unwrap();
        assert_eq!(cached_commit(tmp.path(), "refs/convert/parquet").as_deref(), Some(commit));
    }
}
