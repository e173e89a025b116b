//! Fetching a Hub dataset's files into the cache and opening them as one vector source
//! (see the module docs of `hub`).

use super::cache::{self, Kind};
use super::{preset, select, Column, Options, DEFAULT_EMBED_MODEL, PRESETS};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A Hub dataset resolved to files in the cache.
pub struct Opened {
    /// The rows: the embedding column, or the cached embeddings of the text column.
    pub source: vq::data::VectorSource,
    /// The commit the files were read at.
    pub commit: String,
    /// What was read, for `config_json`.
    pub info: Value,
    /// `--num-samples` when not given (a preset's default).
    pub default_rows: Option<usize>,
}

/// Opens `--dataset` (a preset or `hf:OWNER/NAME[@REVISION]`) for at least `rows` rows
/// (`None`: all).
pub fn open(
    dataset: &str,
    o: &Options,
    rows: Option<usize>,
    threads: usize,
    progress: &crate::progress::Progress,
    quiet: bool,
) -> Result<Opened, String> {
    let (repo, revision, p) = match preset(dataset) {
        Some(p) => (p.repo.to_string(), None, Some(p)),
        None => {
            let id = dataset.strip_prefix("hf:").unwrap_or(dataset);
            let (id, rev) = match id.split_once('@') {
                Some((i, r)) => (i, Some(r.to_string())),
                None => (id, None),
            };
            check_repo_id(dataset, id)?;
            (id.to_string(), rev, None)
        }
    };
    let revision = o.revision.clone().or(revision).unwrap_or_else(|| "main".into());
    let config = o.config.clone().or(p.and_then(|p| p.config.map(str::to_string)));
    let split = o.split.clone().or(p.map(|p| p.split.to_string())).unwrap_or_else(|| "train".into());
    let column = match (&o.column, &o.text_column) {
        (Some(_), Some(_)) => return Err("--hf-column and --hf-text-column: give one, not both".into()),
        (Some(c), None) => Column::Embedding(Some(c.as_str())),
        (None, Some(t)) => Column::Text(t.as_str()),
        (None, None) => p.map_or(Column::Embedding(None), |p| p.column),
    };
    let rows = rows.or(p.and_then(|p| p.default_rows));
    let default_rows = if o.column.is_none() { p.and_then(|p| p.default_rows) } else { None };
    let hub = cache::hub_dir(o.cache_dir.as_deref());
    let client = Client::new(&hub, quiet)?;
    let what = format!("--dataset {dataset}");
    let files = client.dataset_files(&what, &repo, &revision, config.as_deref(), &split)?;
    let name = Path::new(dataset);
    let embedding_column = match column {
        Column::Embedding(c) => c,
        Column::Text(_) => None,
    };
    // Shards in order until they hold the rows asked for.
    let mut local = Vec::new();
    let mut have = 0usize;
    for f in &files.paths {
        if rows.is_some_and(|r| have >= r) {
            break;
        }
        let path = client.file(&what, Kind::Dataset, &repo, &files.commit, f)?;
        cache::verify(&path, &what)?;
        have += match column {
            Column::Embedding(c) => vq::data::parquet::open(std::slice::from_ref(&path), c, name)
                .map_err(|e| format!("{what}: {e}"))?
                .rows(),
            Column::Text(t) => vq::data::parquet::text_column(std::slice::from_ref(&path), t)
                .map_err(|e| format!("{what}: {e}"))?
                .rows(),
        };
        local.push(path);
    }
    let mut info = json!({
        "repo": repo,
        "revision": revision,
        "commit": files.commit,
        "config": config,
        "split": split,
        "files": files.paths[..local.len()],
        "files_in_split": files.paths.len(),
    });
    if files.converted {
        info["parquet_conversion"] = json!("refs/convert/parquet");
    }
    let source = match column {
        Column::Embedding(_) => {
            let src = vq::data::parquet::open(&local, embedding_column, name).map_err(|e| format!("{what}: {e}"))?;
            info["column"] = json!(src.column());
            src
        }
        Column::Text(text) => {
            info["text_column"] = json!(text);
            let model = o.embed_model.as_deref().unwrap_or(DEFAULT_EMBED_MODEL);
            let n = rows.map_or(have, |r| r.min(have));
            let (src, model_info) =
                embedded(&client, &what, &repo, &files.commit, &local, text, n, model, threads, progress)?;
            info["embed_model"] = model_info;
            src
        }
    };
    Ok(Opened { source, commit: files.commit, info, default_rows })
}

fn check_repo_id(dataset: &str, id: &str) -> Result<(), String> {
    let ok_part = |s: &str| {
        !s.is_empty()
            && !s.starts_with(['.', '-'])
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    match id.split_once('/') {
        Some((owner, name)) if ok_part(owner) && ok_part(name) => Ok(()),
        _ => Err(format!(
            "--dataset {dataset}: expected hf:OWNER/NAME (optionally @REVISION), e.g. hf:Qdrant/dbpedia-entities-openai3-text-embedding-3-large-1536-100K, or a preset: {}",
            PRESETS.iter().map(|p| p.name).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The text column's embeddings: from the cache, or embedded now and cached.
#[allow(clippy::too_many_arguments)]
fn embedded(
    client: &Client,
    what: &str,
    repo: &str,
    commit: &str,
    files: &[PathBuf],
    column: &str,
    rows: usize,
    model: &str,
    threads: usize,
    progress: &crate::progress::Progress,
) -> Result<(vq::data::VectorSource, Value), String> {
    #[cfg(feature = "embed")]
    {
        let dir = client.model_dir(model)?;
        let embedder = crate::embed::Embedder::load(&dir, threads)?;
        let model_info = embedder.describe();
        let key = cache::short_sha(model_info.to_string().as_bytes());
        let out = cache::repo_dir(&client.hub, Kind::Dataset, repo)
            .join("vq-embeddings")
            .join(commit)
            .join(format!("{}-{rows}-{key}.npy", sanitize(column)));
        if !out.exists() {
            let texts = vq::data::parquet::text_column(files, column)
                .and_then(|t| t.read_texts(0, rows))
                .map_err(|e| format!("{what}: {e}"))?;
            let bar = progress.bar("embedding", texts.len() as u64);
            let mut vectors = vec![0f32; texts.len() * embedder.dim()];
            embedder.embed(&texts, &mut vectors, &|done| bar.set_position(done as u64))?;
            bar.finish_and_clear();
            crate::atomic::write_with(&out, |tmp| {
                let mut w = vq::data::VectorWriter::create(tmp, embedder.dim()).map_err(|e| e.to_string())?;
                w.write_rows(&vectors).map_err(|e| e.to_string())?;
                w.finish().map(|_| ()).map_err(|e| e.to_string())
            })?;
        }
        let src = vq::data::open(&out).map_err(|e| format!("{what}: {e}"))?;
        let mut model_info = model_info;
        model_info["cached_embeddings"] = json!(out.display().to_string());
        Ok((src, model_info))
    }
    #[cfg(not(feature = "embed"))]
    {
        let _ = (client, repo, commit, files, rows, model, threads, progress);
        Err(format!(
            "{what}: column {column} is text, and embedding it needs the `embed` feature; install with `cargo install --path . --features hub,embed`"
        ))
    }
}

#[cfg(feature = "embed")]
fn sanitize(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// A split's Parquet files at one commit.
struct SplitFiles {
    commit: String,
    paths: Vec<String>,
    /// Read from the Hub's Parquet conversion branch.
    converted: bool,
}

/// The Hub, or only the cache when offline.
pub struct Client {
    hub: PathBuf,
    api: Option<hf_hub::api::sync::Api>,
}

impl Client {
    pub fn new(hub: &Path, quiet: bool) -> Result<Client, String> {
        let api = if cache::offline() {
            None
        } else {
            let show = !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr());
            let mut b = hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(hub.to_path_buf()))
                .with_progress(show)
                .with_token(cache::token())
                .with_retries(3);
            if let Ok(endpoint) = std::env::var("HF_ENDPOINT") {
                b = b.with_endpoint(endpoint);
            }
            Some(b.build().map_err(|e| format!("the Hugging Face Hub client could not start: {e}"))?)
        };
        Ok(Client { hub: hub.to_path_buf(), api })
    }

    fn repo(kind: Kind, repo: &str, revision: &str) -> hf_hub::Repo {
        let t = match kind {
            Kind::Model => hf_hub::RepoType::Model,
            Kind::Dataset => hf_hub::RepoType::Dataset,
        };
        hf_hub::Repo::with_revision(repo.to_string(), t, revision.to_string())
    }

    /// The commit `revision` is at and the repository's files.
    fn listing(&self, what: &str, kind: Kind, repo: &str, revision: &str) -> Result<(String, Vec<String>), String> {
        let dir = cache::repo_dir(&self.hub, kind, repo);
        let Some(api) = &self.api else {
            let Some(commit) = cache::cached_commit(&dir, revision) else {
                return Err(format!(
                    "{what}: offline (HF_HUB_OFFLINE is set) and {repo} at {revision} is not in the cache {}; run once online (unset HF_HUB_OFFLINE) or point --cache-dir at a cache that has it",
                    self.hub.display()
                ));
            };
            let files = cache::snapshot_files(&dir.join("snapshots").join(&commit))?;
            return Ok((commit, files));
        };
        let info =
            api.repo(Self::repo(kind, repo, revision)).info().map_err(|e| hub_error(what, repo, revision, &e))?;
        cache::write_ref(&dir, revision, &info.sha)?;
        Ok((info.sha, info.siblings.into_iter().map(|s| s.rfilename).collect()))
    }

    /// The local path of `file` at `commit`, downloaded into the cache if not there.
    fn file(&self, what: &str, kind: Kind, repo: &str, commit: &str, file: &str) -> Result<PathBuf, String> {
        let local = cache::repo_dir(&self.hub, kind, repo).join("snapshots").join(commit).join(file);
        if local.is_file() {
            return Ok(local);
        }
        let Some(api) = &self.api else {
            return Err(format!(
                "{what}: offline (HF_HUB_OFFLINE is set) and {file} of {repo} is not in the cache {}; run once online to fetch it",
                self.hub.display()
            ));
        };
        api.repo(Self::repo(kind, repo, commit)).download(file).map_err(|e| hub_error(what, repo, file, &e))
    }

    fn dataset_files(
        &self,
        what: &str,
        repo: &str,
        revision: &str,
        config: Option<&str>,
        split: &str,
    ) -> Result<SplitFiles, String> {
        let (commit, files) = self.listing(what, Kind::Dataset, repo, revision)?;
        let readme = if files.iter().any(|f| f == "README.md") {
            match self.file(what, Kind::Dataset, repo, &commit, "README.md") {
                Ok(p) => std::fs::read_to_string(p).ok(),
                Err(_) => None,
            }
        } else {
            None
        };
        let paths =
            select::parquet_files(&files, readme.as_deref(), config, split).map_err(|e| format!("{what}: {e}"))?;
        if !paths.is_empty() {
            return Ok(SplitFiles { commit, paths, converted: false });
        }
        // Datasets stored in other formats (or as loading scripts) have the Hub's Parquet
        // conversion on a branch of their own.
        let conversion = "refs/convert/parquet";
        if let Ok((commit, files)) = self.listing(what, Kind::Dataset, repo, conversion) {
            let paths = select::converted_files(&files, config, split);
            if !paths.is_empty() {
                return Ok(SplitFiles { commit, paths, converted: true });
            }
        }
        Err(format!(
            "{what}: {repo} at {revision} has no Parquet files for config {} split {split}; check --hf-config and --hf-split against the dataset's page",
            config.unwrap_or("(default)")
        ))
    }

    /// A sentence model: a local folder as is, or a Hub model id fetched into the cache.
    #[cfg(feature = "embed")]
    pub fn model_dir(&self, model: &str) -> Result<PathBuf, String> {
        let local = Path::new(model);
        if local.is_dir() {
            return Ok(local.to_path_buf());
        }
        let what = format!("--embed-model {model}");
        let (id, revision) = model.split_once('@').unwrap_or((model, "main"));
        if id.split('/').count() != 2 {
            return Err(format!("{what}: no such folder, and not a Hub model id (OWNER/NAME)"));
        }
        let (commit, files) = self.listing(&what, Kind::Model, id, revision)?;
        let mut dir = None;
        for f in ["config.json", "tokenizer.json", "model.safetensors"] {
            let p = self.file(&what, Kind::Model, id, &commit, f)?;
            cache::verify(&p, &what)?;
            dir = p.parent().map(Path::to_path_buf);
        }
        // sentence-transformers' pooling and normalisation settings, when the model has them.
        for f in ["modules.json", "sentence_bert_config.json", "1_Pooling/config.json"] {
            if files.iter().any(|x| x == f) {
                self.file(&what, Kind::Model, id, &commit, f)?;
            }
        }
        dir.ok_or_else(|| format!("{what}: no model files"))
    }
}

/// One line for a failed Hub call: not found, not allowed, or not reachable.
fn hub_error(what: &str, repo: &str, item: &str, e: &hf_hub::api::sync::ApiError) -> String {
    use hf_hub::api::sync::ApiError;
    let status = match e {
        ApiError::RequestError(r) => match r.as_ref() {
            ureq::Error::Status(code, _) => Some(*code),
            ureq::Error::Transport(_) => None,
        },
        _ => None,
    };
    match status {
        Some(404) => format!(
            "{what}: {repo} has no {item} on the Hub (no such repository, revision or file; check the name on huggingface.co)"
        ),
        Some(401 | 403) => format!(
            "{what}: the Hub refused access to {repo} (private or gated): accept its terms on huggingface.co and set HF_TOKEN"
        ),
        _ => format!(
            "{what}: cannot fetch {item} of {repo} from the Hub ({}); check the network, or set HF_HUB_OFFLINE=1 to use the cache only",
            crate::one_line(&e.to_string())
        ),
    }
}
