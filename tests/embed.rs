//! `vq-benchmark embed` (feature `embed`) on a tiny BERT sentence model the test writes
//! itself (random weights as safetensors, a small WordPiece tokenizer.json), checked against
//! an independent f64 forward pass written here from the BERT paper's definitions: the
//! tokenizer's output, the embeddings, masked attention, exact GELU, pooling and
//! normalisation. No network, no real model.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_vq-benchmark");

#[path = "common/tiny_bert.rs"]
mod tiny_bert;
use tiny_bert::*;

// ---- the independent reference ----

/// BERT's basic tokenizer and WordPiece for ASCII text: lowercase, split on whitespace and
/// punctuation, greedy longest-match subwords, [CLS] … [SEP], truncated to MAX_SEQ.
fn ref_tokens(text: &str) -> Vec<usize> {
    let id: HashMap<&str, usize> = VOCAB.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let lower = text.to_lowercase();
    let mut words = Vec::new();
    for w in lower.split_whitespace() {
        let mut cur = String::new();
        for c in w.chars() {
            if c.is_ascii_punctuation() {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
                words.push(c.to_string());
            } else {
                cur.push(c);
            }
        }
        if !cur.is_empty() {
            words.push(cur);
        }
    }
    let mut ids = vec![id["[CLS]"]];
    for w in words {
        let mut pieces = Vec::new();
        let mut start = 0;
        let chars: Vec<char> = w.chars().collect();
        let mut ok = true;
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while end > start {
                let s: String = chars[start..end].iter().collect();
                let s = if start > 0 { format!("##{s}") } else { s };
                if let Some(&i) = id.get(s.as_str()) {
                    found = Some(i);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(i) => {
                    pieces.push(i);
                    start = end;
                }
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            ids.extend(pieces);
        } else {
            ids.push(id["[UNK]"]);
        }
    }
    ids.truncate(MAX_SEQ - 1);
    ids.push(id["[SEP]"]);
    ids
}

/// erf in f64: its Taylor series below 3, the continued fraction of erfc above.
fn erf(x: f64) -> f64 {
    let a = x.abs();
    let v = if a < 3.0 {
        let (mut term, mut sum) = (a, a);
        for n in 1..120 {
            term *= -a * a / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    } else {
        let mut f = a;
        for k in (1..80).rev() {
            f = a + (k as f64 / 2.0) / f;
        }
        1.0 - (-a * a).exp() / std::f64::consts::PI.sqrt() / f
    };
    v.copysign(x)
}

fn layer_norm(x: &mut [f64], g: &[f32], b: &[f32]) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    for (i, v) in x.iter_mut().enumerate() {
        *v = (*v - mean) / (var + 1e-12).sqrt() * g[i] as f64 + b[i] as f64;
    }
}

/// y = W x + b for a PyTorch Linear (W out × in).
fn linear(w: &[f32], b: &[f32], x: &[f64]) -> Vec<f64> {
    let n_in = x.len();
    (0..b.len()).map(|o| b[o] as f64 + (0..n_in).map(|i| w[o * n_in + i] as f64 * x[i]).sum::<f64>()).collect()
}

/// The whole model in f64 on one sentence padded to `pad_to` tokens, the padding masked as
/// Hugging Face's BertModel masks it (a large negative score), so padding invariance is
/// checked against the textbook computation.
fn reference(text: &str, pool: Pool, normalize: bool, pad_to: usize) -> Vec<f64> {
    let w: HashMap<String, Vec<f32>> = weights(7).into_iter().map(|(n, _, v)| (n, v)).collect();
    let ids = ref_tokens(text);
    let real = ids.len();
    let len = pad_to.max(real);
    let mut x: Vec<Vec<f64>> = (0..len)
        .map(|p| {
            let id = if p < real { ids[p] } else { 0 };
            let mut v: Vec<f64> = (0..HIDDEN)
                .map(|j| {
                    (w["embeddings.word_embeddings.weight"][id * HIDDEN + j]
                        + w["embeddings.position_embeddings.weight"][p * HIDDEN + j]
                        + w["embeddings.token_type_embeddings.weight"][j]) as f64
                })
                .collect();
            layer_norm(&mut v, &w["embeddings.LayerNorm.weight"], &w["embeddings.LayerNorm.bias"]);
            v
        })
        .collect();
    let dh = HIDDEN / HEADS;
    for l in 0..LAYERS {
        let g = |s: &str| &w[&format!("encoder.layer.{l}.{s}")];
        let q: Vec<Vec<f64>> =
            x.iter().map(|t| linear(g("attention.self.query.weight"), g("attention.self.query.bias"), t)).collect();
        let k: Vec<Vec<f64>> =
            x.iter().map(|t| linear(g("attention.self.key.weight"), g("attention.self.key.bias"), t)).collect();
        let v: Vec<Vec<f64>> =
            x.iter().map(|t| linear(g("attention.self.value.weight"), g("attention.self.value.bias"), t)).collect();
        let mut ctx = vec![vec![0f64; HIDDEN]; len];
        for h in 0..HEADS {
            let r = h * dh..(h + 1) * dh;
            for i in 0..len {
                let scores: Vec<f64> = (0..len)
                    .map(|j| {
                        let s: f64 = r.clone().map(|c| q[i][c] * k[j][c]).sum::<f64>() / (dh as f64).sqrt();
                        if j < real {
                            s
                        } else {
                            s - 1e9
                        }
                    })
                    .collect();
                let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                let z: f64 = e.iter().sum();
                for c in r.clone() {
                    ctx[i][c] = (0..len).map(|j| e[j] / z * v[j][c]).sum();
                }
            }
        }
        for i in 0..len {
            let a = linear(g("attention.output.dense.weight"), g("attention.output.dense.bias"), &ctx[i]);
            let mut y: Vec<f64> = x[i].iter().zip(&a).map(|(x, a)| x + a).collect();
            layer_norm(&mut y, g("attention.output.LayerNorm.weight"), g("attention.output.LayerNorm.bias"));
            let up: Vec<f64> = linear(g("intermediate.dense.weight"), g("intermediate.dense.bias"), &y)
                .into_iter()
                .map(|u| 0.5 * u * (1.0 + erf(u / std::f64::consts::SQRT_2)))
                .collect();
            let down = linear(g("output.dense.weight"), g("output.dense.bias"), &up);
            let mut z: Vec<f64> = y.iter().zip(&down).map(|(y, d)| y + d).collect();
            layer_norm(&mut z, g("output.LayerNorm.weight"), g("output.LayerNorm.bias"));
            x[i] = z;
        }
    }
    let mut out = match pool {
        Pool::Cls => x[0].clone(),
        Pool::Mean => (0..HIDDEN).map(|c| (0..real).map(|i| x[i][c]).sum::<f64>() / real as f64).collect(),
    };
    if normalize {
        let n = out.iter().map(|v| v * v).sum::<f64>().sqrt();
        out.iter_mut().for_each(|v| *v /= n);
    }
    out
}

// ---- running the command ----

fn embed(model: &Path, texts: &[&str], threads: usize, extra: &[&str]) -> (Vec<f32>, usize) {
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("texts.txt");
    std::fs::write(&tf, texts.join("\n") + "\n").unwrap();
    let out = dir.path().join("emb.npy");
    let o = Command::new(BIN)
        .args(["embed", "--quiet", "--model"])
        .arg(model)
        .arg("--texts")
        .arg(&tf)
        .arg("--output")
        .arg(&out)
        .args(["--threads", &threads.to_string()])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "embed failed: {}", String::from_utf8_lossy(&o.stderr));
    let src = vq::data::open(&out).unwrap();
    let mut v = vec![0f32; src.rows() * src.dim()];
    src.read_rows(0, &mut v).unwrap();
    (v, src.dim())
}

fn fails(model: &Path, texts: Option<&Path>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("texts.txt");
    std::fs::write(&tf, "the cat sat\n").unwrap();
    let o = Command::new(BIN)
        .args(["embed", "--quiet", "--model"])
        .arg(model)
        .arg("--texts")
        .arg(texts.unwrap_or(&tf))
        .arg("--output")
        .arg(dir.path().join("emb.npy"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!o.status.success(), "expected a failure, got success");
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line: {err}");
    assert!(!dir.path().join("emb.npy").exists());
    err
}

const TEXTS: &[&str] = &[
    "The cat sat on the mat.",
    "hello world!",
    "",
    "Dogs running, cats sat.",
    "vector quantization is fun",
    "a zebra",
    // Longer than MAX_SEQ tokens: truncated, [SEP] kept.
    "the cat sat on the mat , the dog ran on the mat , hello world",
    "RUN",
];

fn max_diff(a: &[f32], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(a, b)| (*a as f64 - b).abs()).fold(0.0, f64::max)
}

#[test]
fn matches_the_f64_reference_for_mean_pooling_and_normalisation() {
    let root = tempfile::tempdir().unwrap();
    let model = make_model(root.path(), "tiny", Pool::Mean, true);
    let (got, d) = embed(&model, TEXTS, 2, &[]);
    assert_eq!(d, HIDDEN);
    for (i, t) in TEXTS.iter().enumerate() {
        let want = reference(t, Pool::Mean, true, 0);
        let diff = max_diff(&got[i * d..(i + 1) * d], &want);
        assert!(diff < 1e-5, "text {i} {t:?}: max difference {diff}");
        // Padding in the reference (masked) changes nothing either.
        let padded = reference(t, Pool::Mean, true, MAX_SEQ + 3);
        assert!(max_diff(&got[i * d..(i + 1) * d], &padded) < 1e-5, "text {i} padded");
    }
}

#[test]
fn cls_pooling_without_normalisation() {
    let root = tempfile::tempdir().unwrap();
    let model = make_model(root.path(), "cls", Pool::Cls, false);
    let (got, d) = embed(&model, TEXTS, 1, &[]);
    for (i, t) in TEXTS.iter().enumerate() {
        let diff = max_diff(&got[i * d..(i + 1) * d], &reference(t, Pool::Cls, false, 0));
        assert!(diff < 1e-5, "text {i}: max difference {diff}");
    }
    // No Normalize module: the rows are not unit vectors.
    let n: f32 = got[..d].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((n - 1.0).abs() > 1e-3);
}

/// Many texts of mixed lengths, so there are several batches of sorted texts.
fn many() -> Vec<String> {
    (0..400)
        .map(|i| {
            let words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "hello", "world"];
            (0..(i * 7) % 13 + 1).map(|k| words[(i + k * 3) % words.len()]).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

#[test]
fn order_padding_and_thread_count_do_not_change_a_row() {
    let root = tempfile::tempdir().unwrap();
    let model = make_model(root.path(), "tiny", Pool::Mean, true);
    let texts = many();
    let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
    let (one, d) = embed(&model, &refs, 1, &[]);
    for threads in [2, 3] {
        let (t, _) = embed(&model, &refs, threads, &[]);
        assert_eq!(t, one, "{threads} threads");
    }
    // Reversed input: the same rows, reversed (sorting by length must not reorder outputs).
    let rev: Vec<&str> = refs.iter().rev().cloned().collect();
    let (r, _) = embed(&model, &rev, 2, &[]);
    for i in 0..refs.len() {
        assert_eq!(&r[(refs.len() - 1 - i) * d..(refs.len() - i) * d], &one[i * d..(i + 1) * d], "row {i}");
    }
    // A short text alone equals the same text in a batch with longer ones.
    for i in [0, 5, 17] {
        let (alone, _) = embed(&model, &refs[i..i + 1], 1, &[]);
        let diff = alone.iter().zip(&one[i * d..(i + 1) * d]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff <= 1e-6, "text {i}: {diff}");
    }
    // And every row is right, not merely consistent.
    for i in [0, 1, 2, 100, 399] {
        assert!(max_diff(&one[i * d..(i + 1) * d], &reference(refs[i], Pool::Mean, true, 0)) < 1e-5, "row {i}");
    }
    // --limit embeds the first N lines.
    let (lim, _) = embed(&model, &refs, 2, &["--limit", "10"]);
    assert_eq!(lim, one[..10 * d]);
}

#[test]
fn bad_inputs_fail_with_one_line_naming_the_file() {
    let root = tempfile::tempdir().unwrap();
    let good = make_model(root.path(), "good", Pool::Mean, true);
    let variant = |name: &str, edit: &dyn Fn(&Path)| -> PathBuf {
        let dir = make_model(root.path(), name, Pool::Mean, true);
        edit(&dir);
        dir
    };

    let e = fails(&root.path().join("nope"), None);
    assert!(e.contains("nope") && e.contains("not a directory"), "{e}");

    let d = variant("noconfig", &|d| std::fs::remove_file(d.join("config.json")).unwrap());
    assert!(fails(&d, None).contains("config.json"));

    let d = variant("roberta", &|d| {
        let c = std::fs::read_to_string(d.join("config.json")).unwrap().replace("\"bert\"", "\"roberta\"");
        std::fs::write(d.join("config.json"), c).unwrap();
    });
    let e = fails(&d, None);
    assert!(e.contains("config.json") && e.contains("roberta") && e.contains("expected \"bert\""), "{e}");

    let d = variant("badact", &|d| {
        let c = std::fs::read_to_string(d.join("config.json")).unwrap().replace("\"gelu\"", "\"relu\"");
        std::fs::write(d.join("config.json"), c).unwrap();
    });
    assert!(fails(&d, None).contains("hidden_act"));

    let d = variant("noweights", &|d| {
        std::fs::remove_file(d.join("model.safetensors")).unwrap();
        std::fs::write(d.join("pytorch_model.bin"), b"pickle").unwrap();
    });
    let e = fails(&d, None);
    assert!(e.contains("model.safetensors") && e.contains("pytorch_model.bin"), "{e}");

    let d = variant("notsafetensors", &|d| std::fs::write(d.join("model.safetensors"), b"garbage").unwrap());
    let e = fails(&d, None);
    assert!(e.contains("model.safetensors") && e.contains("not a safetensors file"), "{e}");

    let d = variant("missingtensor", &|d| {
        let w: Vec<_> = weights(7).into_iter().filter(|t| t.0 != "encoder.layer.1.output.dense.bias").collect();
        write_safetensors(&d.join("model.safetensors"), &w);
    });
    let e = fails(&d, None);
    assert!(e.contains("model.safetensors") && e.contains("encoder.layer.1.output.dense.bias is missing"), "{e}");

    let d = variant("wrongshape", &|d| {
        let mut w = weights(7);
        let t = w.iter_mut().find(|t| t.0 == "encoder.layer.0.intermediate.dense.weight").unwrap();
        t.1 = vec![HIDDEN, INTER];
        write_safetensors(&d.join("model.safetensors"), &w);
    });
    let e = fails(&d, None);
    assert!(e.contains("intermediate.dense.weight has shape [32, 64], expected [64, 32]"), "{e}");

    let d = variant("badtok", &|d| std::fs::write(d.join("tokenizer.json"), "{\"model\": 3}").unwrap());
    let e = fails(&d, None);
    assert!(e.contains("tokenizer.json") && e.contains("not a usable tokenizer.json"), "{e}");

    let d = variant("notok", &|d| std::fs::remove_file(d.join("tokenizer.json")).unwrap());
    assert!(fails(&d, None).contains("tokenizer.json: missing"));

    let d = variant("dense", &|d| {
        let m = std::fs::read_to_string(d.join("modules.json")).unwrap().replace("models.Normalize", "models.Dense");
        std::fs::write(d.join("modules.json"), m).unwrap();
    });
    let e = fails(&d, None);
    assert!(e.contains("modules.json") && e.contains("Dense"), "{e}");

    let d = variant("twopool", &|d| {
        let p = std::fs::read_to_string(d.join("1_Pooling/config.json"))
            .unwrap()
            .replace("\"pooling_mode_max_tokens\":false", "\"pooling_mode_max_tokens\":true");
        std::fs::write(d.join("1_Pooling/config.json"), p).unwrap();
    });
    let e = fails(&d, None);
    assert!(e.contains("1_Pooling") && e.contains("more than one pooling mode"), "{e}");

    let e = fails(&good, Some(&root.path().join("missing.txt")));
    assert!(e.contains("--texts") && e.contains("missing.txt"), "{e}");
    let empty = root.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert!(fails(&good, Some(&empty)).contains("no lines"));
}
