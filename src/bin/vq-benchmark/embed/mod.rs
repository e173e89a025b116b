//! `embed` (feature `embed`): sentence embeddings from a local sentence-transformers model
//! folder of the BERT family (all-MiniLM-L6-v2 and its kin) in pure Rust: the model's own
//! tokenizer.json through Hugging Face's `tokenizers` crate, our BERT forward pass
//! (`bert.rs`), then the folder's pooling and normalisation, as sentence-transformers
//! computes them.
//!
//! Texts are tokenised, sorted by token count (as sentence-transformers does) and cut into
//! batches of about [`BATCH_TOKENS`] tokens; each worker thread takes the next batch, so a
//! text's embedding depends neither on the thread count nor on the other texts, and rows
//! come back in input order.

mod bert;
mod gemm;

use crate::cli::EmbedArgs;
use bert::{Bert, Config, Scratch};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tokenizers::Tokenizer;

/// Tokens per batch. The products' cost per token is flat beyond a few hundred rows, and the
/// largest buffer (tokens × intermediate floats, 6 MiB for MiniLM) stays within L3; measured
/// on the 25,000 debian-minilm sentences, see docs/PERFORMANCE.md.
const BATCH_TOKENS: usize = 1024;

/// Texts embedded per pass of the `embed` command: bounds its memory whatever the file size.
const CHUNK: usize = 32_768;

/// How token embeddings become one sentence embedding (sentence-transformers' `Pooling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pooling {
    Mean,
    Cls,
    Max,
    MeanSqrtLen,
}

impl Pooling {
    fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
            Pooling::MeanSqrtLen => "mean_sqrt_len",
        }
    }
}

/// A loaded sentence model, ready to embed texts on a fixed number of threads.
pub struct Embedder {
    dir: PathBuf,
    bert: Bert,
    tokenizer: Tokenizer,
    pooling: Pooling,
    normalize: bool,
    lowercase: bool,
    max_seq_length: usize,
    threads: usize,
    weights_bytes: u64,
    weights_hash: String,
}

fn read_json(path: &Path, what: &str) -> Result<serde_json::Value, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read ({e}); expected {what}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not valid JSON ({e}); expected {what}", path.display()))
}

fn read_optional_json(path: &Path, what: &str) -> Result<Option<serde_json::Value>, String> {
    if path.exists() {
        read_json(path, what).map(Some)
    } else {
        Ok(None)
    }
}

/// A stable fingerprint of a weights file without reading all of it: its size and an
/// FNV-1a hash of its first and last MiB (`vqwh1:` names this scheme's version).
fn weights_hash(bytes: &[u8]) -> String {
    const MIB: usize = 1 << 20;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let head = &bytes[..MIB.min(bytes.len())];
    let tail = &bytes[bytes.len().saturating_sub(MIB)..];
    for &b in (bytes.len() as u64).to_le_bytes().iter().chain(head).chain(tail) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("vqwh1:{h:016x}")
}

impl Embedder {
    /// Loads a sentence model from a folder: config.json (a BERT encoder), model.safetensors,
    /// tokenizer.json, and when present sentence-transformers' modules.json (its Pooling and
    /// Normalize modules), the pooling module's config.json (default `1_Pooling/`; mean
    /// pooling without one) and sentence_bert_config.json (max_seq_length, default and
    /// limit the model's max_position_embeddings; do_lower_case). `threads` 0 means every
    /// core. Every error is one line naming the file and what was expected.
    pub fn load(dir: &Path, threads: usize) -> Result<Embedder, String> {
        if !dir.is_dir() {
            return Err(format!(
                "{}: not a directory; expected a sentence model folder (config.json, model.safetensors, tokenizer.json)",
                dir.display()
            ));
        }
        let cfg_path = dir.join("config.json");
        let cfg_text = std::fs::read_to_string(&cfg_path)
            .map_err(|e| format!("{}: cannot read ({e}); expected a BERT config.json", cfg_path.display()))?;
        let cfg = Config::from_json(&cfg_path, &cfg_text)?;

        let (pooling, normalize, pool_dir) = Self::modules(dir)?;
        let pooling = match Self::pooling(&pool_dir.join("config.json"), cfg.hidden)? {
            Some(p) => p,
            None => pooling,
        };

        let mut max_seq_length = cfg.max_positions;
        let mut lowercase = false;
        let sb_path = dir.join("sentence_bert_config.json");
        if let Some(sb) = read_optional_json(&sb_path, "sentence-transformers' sentence_bert_config.json")? {
            if let Some(m) = sb.get("max_seq_length").filter(|m| !m.is_null()) {
                match m.as_u64() {
                    Some(n) if n >= 2 => max_seq_length = (n as usize).min(cfg.max_positions),
                    _ => {
                        return Err(format!(
                            "{}: max_seq_length is {m}, expected an integer of at least 2",
                            sb_path.display()
                        ))
                    }
                }
            }
            lowercase = sb.get("do_lower_case").and_then(|v| v.as_bool()).unwrap_or(false);
        }

        let tok_path = dir.join("tokenizer.json");
        if !tok_path.is_file() {
            return Err(format!("{}: missing; expected the model's Hugging Face tokenizer.json", tok_path.display()));
        }
        let mut tokenizer = Tokenizer::from_file(&tok_path)
            .map_err(|e| format!("{}: not a usable tokenizer.json ({e})", tok_path.display()))?;
        // The file's own truncation (128 for all-MiniLM-L6-v2) and fixed padding are what
        // sentence-transformers replaces with max_seq_length and no padding.
        tokenizer
            .with_truncation(Some(tokenizers::TruncationParams { max_length: max_seq_length, ..Default::default() }))
            .map_err(|e| format!("{}: cannot truncate to {max_seq_length} tokens ({e})", tok_path.display()))?;
        tokenizer.with_padding(None);
        let tok_vocab = tokenizer.get_vocab_size(true);
        if tok_vocab > cfg.vocab {
            return Err(format!(
                "{}: {tok_vocab} tokens, more than config.json's vocab_size {}; expected the model's own tokenizer",
                tok_path.display(),
                cfg.vocab
            ));
        }

        let w_path = dir.join("model.safetensors");
        if !w_path.is_file() {
            let hint = if dir.join("pytorch_model.bin").exists() {
                " (the folder has pytorch_model.bin, which is not read: save the model as safetensors)"
            } else {
                ""
            };
            return Err(format!("{}: missing; expected the model's weights as safetensors{hint}", w_path.display()));
        }
        let bytes = std::fs::read(&w_path).map_err(|e| format!("{}: cannot read ({e})", w_path.display()))?;
        let bert = Bert::load(cfg, &w_path, &bytes)?;
        Ok(Embedder {
            dir: dir.to_path_buf(),
            bert,
            tokenizer,
            pooling,
            normalize,
            lowercase,
            max_seq_length,
            threads: crate::dataset::effective_threads(threads),
            weights_bytes: bytes.len() as u64,
            weights_hash: weights_hash(&bytes),
        })
    }

    /// modules.json: the default pooling, whether a Normalize module follows, and the
    /// pooling module's folder. Without the file: mean pooling, no normalisation.
    fn modules(dir: &Path) -> Result<(Pooling, bool, PathBuf), String> {
        let path = dir.join("modules.json");
        let Some(v) = read_optional_json(&path, "sentence-transformers' modules.json")? else {
            return Ok((Pooling::Mean, false, dir.join("1_Pooling")));
        };
        let list = v.as_array().ok_or_else(|| format!("{}: expected a JSON list of modules", path.display()))?;
        let mut normalize = false;
        let mut pool_dir = dir.join("1_Pooling");
        for m in list {
            let ty = m.get("type").and_then(|t| t.as_str()).unwrap_or("");
            let short = ty.rsplit('.').next().unwrap_or(ty);
            match short {
                "Transformer" => {}
                "Pooling" => {
                    if let Some(p) = m.get("path").and_then(|p| p.as_str()) {
                        pool_dir = dir.join(p);
                    }
                }
                "Normalize" => normalize = true,
                _ => {
                    return Err(format!(
                        "{}: module type '{ty}' is not supported; expected Transformer, Pooling and Normalize only",
                        path.display()
                    ))
                }
            }
        }
        Ok((Pooling::Mean, normalize, pool_dir))
    }

    /// The pooling module's config.json, if there is one.
    fn pooling(path: &Path, hidden: usize) -> Result<Option<Pooling>, String> {
        let Some(v) = read_optional_json(path, "sentence-transformers' pooling config.json")? else {
            return Ok(None);
        };
        if let Some(d) = v.get("word_embedding_dimension").and_then(|d| d.as_u64()) {
            if d as usize != hidden {
                return Err(format!(
                    "{}: word_embedding_dimension {d} differs from config.json's hidden_size {hidden}",
                    path.display()
                ));
            }
        }
        let modes = [
            ("pooling_mode_mean_tokens", Pooling::Mean),
            ("pooling_mode_cls_token", Pooling::Cls),
            ("pooling_mode_max_tokens", Pooling::Max),
            ("pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen),
        ];
        let on: Vec<Pooling> =
            modes.iter().filter(|(k, _)| v.get(*k).and_then(|b| b.as_bool()) == Some(true)).map(|m| m.1).collect();
        for (key, val) in v.as_object().into_iter().flatten() {
            if key.starts_with("pooling_mode_") && !modes.iter().any(|m| m.0 == key) && val.as_bool() == Some(true) {
                return Err(format!(
                    "{}: {key} is not supported; expected mean, cls, max or mean_sqrt_len",
                    path.display()
                ));
            }
        }
        match on.as_slice() {
            [p] => Ok(Some(*p)),
            [] => Err(format!("{}: no pooling mode is true; expected exactly one of mean, cls, max", path.display())),
            _ => Err(format!(
                "{}: more than one pooling mode is true (concatenated poolings are not supported); expected exactly one",
                path.display()
            )),
        }
    }

    /// The embedding's dimension.
    pub fn dim(&self) -> usize {
        self.bert.cfg.hidden
    }

    /// What a run log needs to tell embeddings apart: the model's folder and name, the
    /// output's shape and the settings that change it, and a fingerprint of the weights.
    pub fn describe(&self) -> serde_json::Value {
        let c = &self.bert.cfg;
        serde_json::json!({
            "model": self.dir.display().to_string(),
            "name": self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            "architecture": "bert",
            "dim": c.hidden,
            "layers": c.layers,
            "pooling": self.pooling.name(),
            "normalize": self.normalize,
            "max_seq_length": self.max_seq_length,
            "weights": {"file": "model.safetensors", "bytes": self.weights_bytes, "hash": self.weights_hash},
        })
    }

    /// Embeds `texts` in order into `out` (`texts.len() × dim`, row-major), calling
    /// `progress(rows_done)` from the calling thread as batches finish.
    pub fn embed(&self, texts: &[String], out: &mut [f32], progress: &dyn Fn(usize)) -> Result<(), String> {
        let d = self.dim();
        if out.len() != texts.len() * d {
            return Err(format!("embed: output holds {} floats, expected {} texts × {d}", out.len(), texts.len()));
        }
        let ids = self.tokenize(texts)?;
        // Longest first, as sentence-transformers does: the largest buffers are allocated once,
        // at the start, and batches hold texts of similar length.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let mut batches = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let mut end = start;
            let mut tokens = 0;
            while end < order.len() && (end == start || tokens + ids[order[end]].len() <= BATCH_TOKENS) {
                tokens += ids[order[end]].len();
                end += 1;
            }
            batches.push(start..end);
            start = end;
        }
        let next = AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Vec<f32>)>();
        std::thread::scope(|s| {
            for _ in 0..self.threads.min(batches.len()) {
                let tx = tx.clone();
                let (next, batches, order, ids) = (&next, &batches, &order, &ids);
                s.spawn(move || {
                    let mut scratch = Scratch::default();
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        let Some(range) = batches.get(b) else { break };
                        let sents: Vec<&[u32]> = order[range.clone()].iter().map(|&i| ids[i].as_slice()).collect();
                        let hidden = self.bert.forward(&sents, &mut scratch);
                        let rows = self.pool(&sents, hidden);
                        if tx.send((b, rows)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            let mut done = 0;
            for (b, rows) in rx {
                for (&i, row) in order[batches[b].clone()].iter().zip(rows.chunks_exact(d)) {
                    out[i * d..(i + 1) * d].copy_from_slice(row);
                }
                done += batches[b].len();
                progress(done);
            }
        });
        Ok(())
    }

    /// Token ids of every text, with the special tokens, truncated to max_seq_length;
    /// tokenised on every thread.
    fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, String> {
        let per = texts.len().div_ceil(self.threads).max(1);
        let vocab = self.bert.cfg.vocab;
        let parts: Vec<Result<Vec<Vec<u32>>, String>> = std::thread::scope(|s| {
            let handles: Vec<_> = texts
                .chunks(per)
                .enumerate()
                .map(|(c, chunk)| {
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(chunk.len());
                        for (k, t) in chunk.iter().enumerate() {
                            let lower;
                            let text = if self.lowercase {
                                lower = t.to_lowercase();
                                lower.as_str()
                            } else {
                                t.as_str()
                            };
                            let enc = self
                                .tokenizer
                                .encode_fast(text, true)
                                .map_err(|e| format!("text {}: cannot tokenise ({e})", c * per + k + 1))?;
                            let ids = enc.get_ids();
                            if let Some(bad) = ids.iter().find(|&&id| id as usize >= vocab) {
                                return Err(format!(
                                    "text {}: token id {bad} is outside the model's vocabulary of {vocab}",
                                    c * per + k + 1
                                ));
                            }
                            out.push(ids.to_vec());
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("tokeniser thread panicked".into()))).collect()
        });
        let mut all = Vec::with_capacity(texts.len());
        for p in parts {
            all.extend(p?);
        }
        Ok(all)
    }

    /// One embedding per sentence from its tokens' hidden states.
    fn pool(&self, sents: &[&[u32]], hidden: &[f32]) -> Vec<f32> {
        let d = self.dim();
        let mut out = vec![0f32; sents.len() * d];
        let mut row = 0;
        for (s, o) in sents.iter().zip(out.chunks_exact_mut(d)) {
            let n = s.len();
            let tok = &hidden[row * d..(row + n) * d];
            match self.pooling {
                Pooling::Cls => o.copy_from_slice(&tok[..d]),
                Pooling::Max => {
                    o.fill(f32::NEG_INFINITY);
                    for t in tok.chunks_exact(d) {
                        o.iter_mut().zip(t).for_each(|(o, t)| *o = o.max(*t));
                    }
                }
                Pooling::Mean | Pooling::MeanSqrtLen => {
                    for t in tok.chunks_exact(d) {
                        o.iter_mut().zip(t).for_each(|(o, t)| *o += t);
                    }
                    let div = if self.pooling == Pooling::Mean { n as f32 } else { (n as f32).sqrt() };
                    o.iter_mut().for_each(|x| *x /= div);
                }
            }
            if self.normalize {
                // torch.nn.functional.normalize: divide by max(‖x‖, 1e-12).
                let norm = o.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                o.iter_mut().for_each(|x| *x /= norm);
            }
            row += n;
        }
        out
    }
}

/// `vq-benchmark embed`: one text per line of --texts to a float32 vector file.
pub fn run(a: &EmbedArgs) -> Result<(), String> {
    crate::atomic::check_output("--output", &a.output)?;
    let t0 = std::time::Instant::now();
    let model = Embedder::load(&a.model, a.threads)?;
    let texts = read_texts(&a.texts, a.limit)?;
    let load_s = t0.elapsed().as_secs_f64();
    let d = model.dim();
    let progress = crate::progress::Progress::new(a.quiet);
    let bar = progress.bar("embed", texts.len() as u64);
    let t1 = std::time::Instant::now();
    let res = crate::atomic::write_with(&a.output, |tmp| {
        let mut w = vq::data::VectorWriter::create(tmp, d).map_err(|e| format!("{}: {e}", a.output.display()))?;
        let mut buf = Vec::new();
        for (c, chunk) in texts.chunks(CHUNK).enumerate() {
            buf.resize(chunk.len() * d, 0.0);
            model.embed(chunk, &mut buf, &|done| bar.set_position((c * CHUNK + done) as u64))?;
            w.write_rows(&buf).map_err(|e| format!("{}: {e}", a.output.display()))?;
        }
        w.finish().map(|_| ()).map_err(|e| format!("{}: {e}", a.output.display()))
    });
    bar.finish_and_clear();
    res?;
    let secs = t1.elapsed().as_secs_f64();
    println!(
        "Embedded {} texts (dim {d}) in {secs:.2} s ({:.1} sentences/s, {} threads; model loaded in {load_s:.2} s) to {}",
        texts.len(),
        texts.len() as f64 / secs.max(1e-9),
        model.threads,
        a.output.display()
    );
    println!("model: {}", model.describe());
    Ok(())
}

/// The lines of `path` (a trailing `\r` dropped), at most `limit` of them.
fn read_texts(path: &Path, limit: Option<usize>) -> Result<Vec<String>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("--texts {}: cannot open ({e})", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let mut line =
            line.map_err(|e| format!("--texts {}: line {}: {e}; expected UTF-8 text", path.display(), i + 1))?;
        if line.ends_with('\r') {
            line.pop();
        }
        out.push(line);
    }
    if out.is_empty() {
        return Err(format!("--texts {}: no lines; expected one text per line", path.display()));
    }
    Ok(out)
}
