//! Hugging Face Hub datasets, end to end and offline: each test writes a Hub cache in the
//! layout `huggingface_hub` leaves (refs, snapshots linking into blobs named by their
//! sha256) holding Parquet files it writes itself, and runs `vq-benchmark` on it with
//! `HF_HUB_OFFLINE=1`, through the same code path a download ends in. No network.
#![cfg(feature = "hub")]

#[path = "common/runs.rs"]
mod runs;

use arrow_array::types::Float32Type;
use arrow_array::{ArrayRef, Int64Array, ListArray, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");
const COMMIT: &str = "4f1c0ffee0000000000000000000000000000042";
const DIM: usize = 8;

/// A deterministic, clustered-enough row `i`.
fn row(i: usize) -> Vec<f32> {
    (0..DIM).map(|j| (((i * 31 + j * 7) % 97) as f32 / 13.0).sin() * (1.0 + (i % 5) as f32)).collect()
}

/// Sentence `i`: words the tiny test model knows, varied with `i`.
fn text(i: usize) -> String {
    const WORDS: [&str; 12] = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "hello", "world", "vector", "fun"];
    (0..3 + i % 4).map(|j| WORDS[(i * 7 + j * 5 + i / 12) % WORDS.len()]).collect::<Vec<_>>().join(" ")
}

/// A Parquet file of rows `range`: `id`, `text` and the embedding column `column`, in row
/// groups of 64 rows.
fn parquet_bytes(range: std::ops::Range<usize>, column: &str) -> Vec<u8> {
    let ids = Int64Array::from(range.clone().map(|i| i as i64).collect::<Vec<_>>());
    let texts = StringArray::from(range.clone().map(text).collect::<Vec<_>>());
    let emb = ListArray::from_iter_primitive::<Float32Type, _, _>(
        range.clone().map(|i| Some(row(i).into_iter().map(Some).collect::<Vec<_>>())),
    );
    let batch = RecordBatch::try_from_iter(vec![
        ("id", Arc::new(ids) as ArrayRef),
        ("text", Arc::new(texts) as ArrayRef),
        (column, Arc::new(emb) as ArrayRef),
    ])
    .unwrap();
    let mut out = Vec::new();
    let props = WriterProperties::builder().set_max_row_group_row_count(Some(64)).build();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

/// Puts `files` (repository path, bytes) into the cache as repository `repo` at `COMMIT`,
/// with `refs/<revision>` pointing there. Returns each file's blob.
fn cache_repo(hub: &Path, repo: &str, revision: &str, files: &[(&str, Vec<u8>)]) -> Vec<PathBuf> {
    cache_repo_at(hub, repo, revision, COMMIT, files)
}

fn cache_repo_at(hub: &Path, repo: &str, revision: &str, commit: &str, files: &[(&str, Vec<u8>)]) -> Vec<PathBuf> {
    let dir = hub.join(format!("datasets--{}", repo.replace('/', "--")));
    let snap = dir.join("snapshots").join(commit);
    std::fs::create_dir_all(dir.join("blobs")).unwrap();
    let mut blobs = Vec::new();
    for (path, bytes) in files {
        let sha: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        let blob = dir.join("blobs").join(sha);
        std::fs::write(&blob, bytes).unwrap();
        let link = snap.join(path);
        std::fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&blob, &link).unwrap();
        blobs.push(blob);
    }
    let r = dir.join("refs").join(revision);
    std::fs::create_dir_all(r.parent().unwrap()).unwrap();
    std::fs::write(r, commit).unwrap();
    blobs
}

fn run(dir: &Path, hub: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(["--cache-dir", hub.to_str().unwrap()])
        .current_dir(dir)
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("DB_PATH")
        .env_remove("HF_TOKEN")
        .output()
        .expect("binary runs")
}

fn ok(dir: &Path, hub: &Path, args: &[&str]) -> String {
    let out = run(dir, hub, args);
    assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Fails with one line naming `want`, and writes no run log.
fn fails(dir: &Path, hub: &Path, args: &[&str], want: &str) {
    let out = run(dir, hub, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert_eq!(err.trim().lines().count(), 1, "{args:?}: not one line: {err}");
    assert!(err.contains(want), "{args:?}: {err:?} does not contain {want:?}");
    assert!(!dir.join("logs/benchmark_runs.db").exists(), "{args:?} left a run log");
}

const SWEEP: &[&str] =
    &["sweep", "--method", "pq", "--pq-chunks", "2", "--pq-clusters", "16", "--num-queries", "20", "--quiet"];

fn with(extra: &[&str]) -> Vec<String> {
    SWEEP.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_cached_hub_dataset_streams_like_the_same_rows_from_a_local_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, hub) = (tmp.path().join("work"), tmp.path().join("hub"));
    std::fs::create_dir_all(&dir).unwrap();
    cache_repo(
        &hub,
        "acme/vectors",
        "main",
        &[
            ("README.md", b"---\nlicense: mit\n---\n# vectors\n".to_vec()),
            ("data/train-00000-of-00002.parquet", parquet_bytes(0..300, "emb")),
            ("data/train-00001-of-00002.parquet", parquet_bytes(300..500, "emb")),
            ("data/test-00000-of-00001.parquet", parquet_bytes(1000..1100, "emb")),
        ],
    );
    ok(&dir, &hub, &strs(&with(&["--dataset", "hf:acme/vectors", "--hf-column", "emb"])));
    let logged = runs::runs(&dir.join("logs/benchmark_runs.db"));
    assert_eq!(logged.len(), 1);
    let config = &logged[0].1;
    assert_eq!(config["num_samples"], 480);
    assert_eq!(config["dim"], DIM);
    assert_eq!(config["hub"]["repo"], "acme/vectors");
    assert_eq!(config["hub"]["commit"], COMMIT);
    assert_eq!(config["hub"]["split"], "train");
    assert_eq!(config["hub"]["column"], "emb");
    assert_eq!(
        config["hub"]["files"],
        serde_json::json!(["data/train-00000-of-00002.parquet", "data/train-00001-of-00002.parquet"])
    );
    // The same rows from a local file give the same figures: nothing lost or reordered.
    let local = dir.join("same.fbin");
    let mut w = vq::data::VectorWriter::create(&local, DIM).unwrap();
    w.write_rows(&(0..500).flat_map(row).collect::<Vec<_>>()).unwrap();
    w.finish().unwrap();
    let db2 = dir.join("local.db");
    ok(&dir, &hub, &strs(&with(&["--dataset", local.to_str().unwrap(), "--db", db2.to_str().unwrap()])));
    let (hub_run, local_run) = (&runs::results(&dir.join("logs/benchmark_runs.db"))[0], &runs::results(&db2)[0]);
    assert_eq!(hub_run.2, local_run.2, "quality differs between the Hub copy and the local file");
    let fp = |db: &Path| -> String {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row("SELECT dataset_fingerprint FROM runs", [], |r| r.get(0)).unwrap()
    };
    let (hub_fp, local_fp) = (fp(&dir.join("logs/benchmark_runs.db")), fp(&db2));
    assert_eq!(hub_fp, format!("{local_fp}@{COMMIT}"));

    // --dataset-limit reads only the shards it needs; --hf-split picks the other files.
    let db3 = dir.join("limit.db");
    ok(
        &dir,
        &hub,
        &strs(&with(&["--dataset", "hf:acme/vectors", "--dataset-limit", "200", "--db", db3.to_str().unwrap()])),
    );
    let config = &runs::runs(&db3)[0].1;
    assert_eq!(config["hub"]["files"], serde_json::json!(["data/train-00000-of-00002.parquet"]));
    assert_eq!(config["num_samples"], 180);
    let db4 = dir.join("test.db");
    ok(
        &dir,
        &hub,
        &strs(&with(&["--dataset", "hf:acme/vectors", "--hf-split", "test", "--db", db4.to_str().unwrap()])),
    );
    let config = &runs::runs(&db4)[0].1;
    assert_eq!(config["hub"]["files"], serde_json::json!(["data/test-00000-of-00001.parquet"]));
    assert_eq!(config["num_samples"], 80);
}

#[test]
fn presets_configs_and_the_parquet_conversion_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, hub) = (tmp.path().join("work"), tmp.path().join("hub"));
    std::fs::create_dir_all(&dir).unwrap();
    // A preset knows its repository and column.
    cache_repo(
        &hub,
        "Qdrant/dbpedia-entities-openai3-text-embedding-3-large-1536-100K",
        "main",
        &[("data/train-00000-of-00001.parquet", parquet_bytes(0..150, "text-embedding-3-large-1536-embedding"))],
    );
    let db = dir.join("a.db");
    ok(&dir, &hub, &strs(&with(&["--dataset", "dbpedia-100k", "--db", db.to_str().unwrap()])));
    let config = &runs::runs(&db)[0].1;
    assert_eq!(config["dataset"], "dbpedia-100k");
    assert_eq!(config["hub"]["column"], "text-embedding-3-large-1536-embedding");
    assert_eq!(config["num_samples"], 130);
    // The README's configs map a config to its files.
    let readme = "---\nconfigs:\n- config_name: passages\n  data_files:\n  - split: train\n    path: passages_parquet/*\n- config_name: queries\n  data_files:\n  - split: test\n    path: queries_parquet/*\n---\n";
    cache_repo(
        &hub,
        "acme/msmarco",
        "main",
        &[
            ("README.md", readme.as_bytes().to_vec()),
            ("passages_parquet/part_00.parquet", parquet_bytes(0..100, "emb")),
            ("passages_parquet/part_01.parquet", parquet_bytes(100..200, "emb")),
            ("queries_parquet/q.parquet", parquet_bytes(500..600, "emb")),
        ],
    );
    let db = dir.join("b.db");
    ok(
        &dir,
        &hub,
        &strs(&with(&["--dataset", "hf:acme/msmarco", "--hf-config", "passages", "--db", db.to_str().unwrap()])),
    );
    let config = &runs::runs(&db)[0].1;
    assert_eq!(config["num_samples"], 180);
    assert_eq!(config["hub"]["config"], "passages");
    // A dataset stored as CSV is read from the Hub's Parquet conversion.
    cache_repo(&hub, "acme/csvonly", "main", &[("train.csv", b"a,b\n1,2\n".to_vec())]);
    let converted = "c0ffee0000000000000000000000000000000043";
    let files = [("en/train/0000.parquet", parquet_bytes(0..90, "emb"))];
    cache_repo_at(&hub, "acme/csvonly", "refs/convert/parquet", converted, &files);
    let db = dir.join("c.db");
    ok(&dir, &hub, &strs(&with(&["--dataset", "hf:acme/csvonly", "--hf-config", "en", "--db", db.to_str().unwrap()])));
    let config = &runs::runs(&db)[0].1;
    assert_eq!(config["num_samples"], 70);
    assert_eq!(config["hub"]["parquet_conversion"], "refs/convert/parquet");
    assert_eq!(config["hub"]["commit"], converted);
}

#[test]
fn bad_hub_input_is_one_line_and_logs_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, hub) = (tmp.path().join("work"), tmp.path().join("hub"));
    std::fs::create_dir_all(&dir).unwrap();
    let blobs = cache_repo(
        &hub,
        "acme/vectors",
        "main",
        &[
            ("data/train-00000-of-00002.parquet", parquet_bytes(0..100, "emb")),
            ("data/train-00001-of-00002.parquet", parquet_bytes(100..200, "emb")),
        ],
    );
    let case = |extra: &[&str], want: &str| fails(&dir, &hub, &strs(&with(extra)), want);
    case(&["--dataset", "hf:acme/absent"], "not in the cache");
    case(&["--dataset", "hf:acme/vectors", "--hf-revision", "v2"], "at v2 is not in the cache");
    case(&["--dataset", "dbpedia-2m"], "a preset: huggingface, dbpedia-100k");
    case(&["--dataset", "hf:just-a-name"], "expected hf:OWNER/NAME");
    case(&["--dataset", "hf:acme/vectors", "--hf-column", "nope"], "nope");
    case(&["--dataset", "hf:acme/vectors", "--hf-column", "text"], "text");
    case(
        &["--dataset", "hf:acme/vectors", "--hf-split", "validation"],
        "no Parquet files for config (default) split validation",
    );
    // A cached file cut short fails its checksum before it is read.
    let bytes = std::fs::read(&blobs[1]).unwrap();
    std::fs::write(&blobs[1], &bytes[..bytes.len() / 2]).unwrap();
    case(&["--dataset", "hf:acme/vectors"], "fails its checksum");
}

/// A minimal Hub on localhost: the two endpoints `hf-hub` calls (a revision's file
/// listing, and ranged downloads of a file at a revision), so the online path (download
/// into the cache, refs, resume headers) runs with no network. Counts the bytes served.
struct MockHub {
    url: String,
    served: Arc<std::sync::atomic::AtomicUsize>,
}

impl MockHub {
    fn start(repo: &'static str, files: Vec<(&'static str, Vec<u8>)>) -> MockHub {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = served.clone();
        let files = Arc::new(files);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut range = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                        let (a, b) = v.trim().split_once('-').unwrap();
                        range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().ok()));
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                let listing = format!("/api/datasets/{repo}/revision/main");
                let resolve = format!("/datasets/{repo}/resolve/");
                let (status, headers, body): (&str, String, Vec<u8>) = if path == listing {
                    let siblings: Vec<_> = files.iter().map(|(f, _)| serde_json::json!({ "rfilename": f })).collect();
                    let body = serde_json::json!({ "sha": COMMIT, "siblings": siblings }).to_string().into_bytes();
                    ("200 OK", "Content-Type: application/json\r\n".into(), body)
                } else if let Some(file) = path.strip_prefix(&resolve).and_then(|r| r.split_once('/')).map(|(_, f)| f) {
                    match files.iter().find(|(f, _)| *f == file) {
                        Some((_, bytes)) => {
                            let (a, b) = range.unwrap_or((0, None));
                            let b = b.unwrap_or(bytes.len() - 1).min(bytes.len() - 1);
                            let sha: String = Sha256::digest(bytes).iter().map(|x| format!("{x:02x}")).collect();
                            let headers = format!(
                                "X-Repo-Commit: {COMMIT}\r\nX-Linked-Etag: \"{sha}\"\r\nContent-Range: bytes {a}-{b}/{}\r\n",
                                bytes.len()
                            );
                            if b - a > 0 {
                                counter.fetch_add(b + 1 - a, std::sync::atomic::Ordering::Relaxed);
                            }
                            ("206 Partial Content", headers, bytes[a..=b].to_vec())
                        }
                        None => ("404 Not Found", String::new(), b"not found".to_vec()),
                    }
                } else {
                    ("404 Not Found", String::new(), b"not found".to_vec())
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(&body));
            }
        });
        MockHub { url, served }
    }
}

fn run_online(dir: &Path, hub: &Path, endpoint: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).args(["--cache-dir", hub.to_str().unwrap()]).current_dir(dir).env("HF_ENDPOINT", endpoint);
    for v in [
        "HF_HUB_OFFLINE",
        "DB_PATH",
        "HF_TOKEN",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env_remove(v);
    }
    cmd.output().expect("binary runs")
}

#[test]
fn online_downloads_only_the_shards_needed_into_the_cache_then_work_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, hub) = (tmp.path().join("work"), tmp.path().join("hub"));
    std::fs::create_dir_all(&dir).unwrap();
    let shard0 = parquet_bytes(0..200, "emb");
    let shard1 = parquet_bytes(200..400, "emb");
    let (len0, len1) = (shard0.len(), shard1.len());
    let server = MockHub::start(
        "acme/online",
        vec![
            ("README.md", b"---\nlicense: mit\n---\n".to_vec()),
            ("data/train-00000-of-00002.parquet", shard0),
            ("data/train-00001-of-00002.parquet", shard1),
        ],
    );
    let limited = with(&["--dataset", "hf:acme/online", "--dataset-limit", "150"]);
    let out = run_online(&dir, &hub, &server.url, &strs(&limited));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let served = server.served.load(std::sync::atomic::Ordering::Relaxed);
    assert!(served >= len0 && served < len0 + len1, "served {served} bytes, shards are {len0} and {len1}");
    let repo = hub.join("datasets--acme--online");
    assert_eq!(std::fs::read_to_string(repo.join("refs/main")).unwrap().trim(), COMMIT);
    assert!(repo.join("snapshots").join(COMMIT).join("data/train-00000-of-00002.parquet").is_file());
    assert!(!repo.join("snapshots").join(COMMIT).join("data/train-00001-of-00002.parquet").exists());
    // All rows: the second shard is fetched, the first is not fetched again.
    let out = run_online(&dir, &hub, &server.url, &strs(&with(&["--dataset", "hf:acme/online"])));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let served2 = server.served.load(std::sync::atomic::Ordering::Relaxed) - served;
    assert!(served2 >= len1 && served2 < len1 + len0 / 2, "second run served {served2} bytes");
    // Offline, from the cache alone: the same rows.
    let db = dir.join("offline.db");
    ok(&dir, &hub, &strs(&with(&["--dataset", "hf:acme/online", "--db", db.to_str().unwrap()])));
    let online = runs::runs(&dir.join("logs/benchmark_runs.db"));
    let offline = runs::runs(&db);
    assert_eq!(online[1].1["num_samples"], 380);
    assert_eq!(offline[0].1["hub"]["commit"], COMMIT);
    assert_eq!(runs::results(&db)[0].2, runs::quality(&online[1].2));
    // A repository the Hub does not have: one line, nothing logged.
    let fresh = tmp.path().join("fresh");
    std::fs::create_dir_all(&fresh).unwrap();
    let out = run_online(&fresh, &hub, &server.url, &strs(&with(&["--dataset", "hf:acme/none"])));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("acme/none has no"), "{err}");
    assert!(!fresh.join("logs").exists());
}

#[cfg(feature = "embed")]
#[path = "common/tiny_bert.rs"]
mod tiny_bert;

/// A text column is embedded once, cached as .npy beside the dataset, and read from there
/// the next time; the vectors are those `vq-benchmark embed` gives for the same sentences.
#[cfg(feature = "embed")]
#[test]
fn a_text_column_is_embedded_once_and_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, hub) = (tmp.path().join("work"), tmp.path().join("hub"));
    std::fs::create_dir_all(&dir).unwrap();
    let model = tiny_bert::make_model(tmp.path(), "model", tiny_bert::Pool::Mean, true);
    cache_repo(&hub, "acme/texts", "main", &[("data/train-00000-of-00001.parquet", parquet_bytes(0..120, "emb"))]);
    let args =
        with(&["--dataset", "hf:acme/texts", "--hf-text-column", "text", "--embed-model", model.to_str().unwrap()]);
    ok(&dir, &hub, &strs(&args));
    let config = &runs::runs(&dir.join("logs/benchmark_runs.db"))[0].1;
    assert_eq!(config["hub"]["text_column"], "text");
    assert_eq!(config["dim"], tiny_bert::HIDDEN);
    let cached = PathBuf::from(config["hub"]["embed_model"]["cached_embeddings"].as_str().unwrap());
    assert!(cached.starts_with(hub.join("datasets--acme--texts/vq-embeddings").join(COMMIT)), "{}", cached.display());
    // The same sentences through `vq-benchmark embed`: the same vectors.
    std::fs::write(dir.join("texts.txt"), (0..120).map(|i| text(i) + "\n").collect::<String>()).unwrap();
    let out = Command::new(BIN)
        .args(["embed", "--model", model.to_str().unwrap(), "--texts", "texts.txt", "--output", "e.npy", "-q"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let read = |p: &Path| {
        let src = vq::data::open(p).unwrap();
        let mut v = vec![0f32; src.rows() * src.dim()];
        src.read_rows(0, &mut v).unwrap();
        v
    };
    assert_eq!(read(&cached), read(&dir.join("e.npy")));
    // The second run reads the cache instead of embedding again.
    let stamp = std::fs::metadata(&cached).unwrap().modified().unwrap();
    let db = dir.join("again.db");
    let mut again = args.clone();
    again.extend(["--db".to_string(), db.to_str().unwrap().to_string()]);
    ok(&dir, &hub, &strs(&again));
    assert_eq!(std::fs::metadata(&cached).unwrap().modified().unwrap(), stamp);
    assert_eq!(runs::results(&db), runs::results(&dir.join("logs/benchmark_runs.db")));
    // The weights are part of the cache key, so a changed model is loaded (and fails here)
    // rather than served stale vectors.
    std::fs::write(model.join("model.safetensors"), b"broken").unwrap();
    let out = run(&dir, &hub, &strs(&again));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("model.safetensors"));
}
