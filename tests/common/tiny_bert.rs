//! A tiny BERT sentence model written by the tests themselves (random weights as
//! safetensors, a small WordPiece tokenizer.json, sentence-transformers' pooling files), for
//! the embedding tests and the Hub tests of text columns. Included with `#[path]`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

pub const HIDDEN: usize = 32;
pub const LAYERS: usize = 2;
pub const HEADS: usize = 2;
pub const INTER: usize = 64;
pub const MAX_POS: usize = 40;
/// sentence_bert_config.json's max_seq_length: below MAX_POS, so truncation is exercised.
pub const MAX_SEQ: usize = 12;

pub const VOCAB: &[&str] = &[
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "dog",
    "ran",
    "##s",
    "##ing",
    ".",
    ",",
    "!",
    "hello",
    "world",
    "run",
    "vector",
    "quant",
    "##ization",
    "is",
    "fun",
];

/// A deterministic generator (splitmix64): the same model every run.
pub struct Rng(u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
    pub fn vec(&mut self, n: usize, scale: f64, centre: f64) -> Vec<f32> {
        (0..n).map(|_| (centre + scale * self.next()) as f32).collect()
    }
}

/// The tiny model's weights by tensor name (PyTorch layouts: `Linear.weight` is out × in).
pub fn weights(seed: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let mut r = Rng(seed);
    let mut w = Vec::new();
    let mut add = |name: &str, shape: Vec<usize>, scale: f64, centre: f64, r: &mut Rng| {
        let n = shape.iter().product();
        w.push((name.to_string(), shape, r.vec(n, scale, centre)));
    };
    add("embeddings.word_embeddings.weight", vec![VOCAB.len(), HIDDEN], 1.0, 0.0, &mut r);
    add("embeddings.position_embeddings.weight", vec![MAX_POS, HIDDEN], 0.5, 0.0, &mut r);
    add("embeddings.token_type_embeddings.weight", vec![2, HIDDEN], 0.5, 0.0, &mut r);
    add("embeddings.LayerNorm.weight", vec![HIDDEN], 0.2, 1.0, &mut r);
    add("embeddings.LayerNorm.bias", vec![HIDDEN], 0.1, 0.0, &mut r);
    let lin = 1.0 / (HIDDEN as f64).sqrt() * 1.7;
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}");
        for m in ["query", "key", "value"] {
            add(&format!("{p}.attention.self.{m}.weight"), vec![HIDDEN, HIDDEN], lin, 0.0, &mut r);
            add(&format!("{p}.attention.self.{m}.bias"), vec![HIDDEN], 0.1, 0.0, &mut r);
        }
        add(&format!("{p}.attention.output.dense.weight"), vec![HIDDEN, HIDDEN], lin, 0.0, &mut r);
        add(&format!("{p}.attention.output.dense.bias"), vec![HIDDEN], 0.1, 0.0, &mut r);
        add(&format!("{p}.attention.output.LayerNorm.weight"), vec![HIDDEN], 0.2, 1.0, &mut r);
        add(&format!("{p}.attention.output.LayerNorm.bias"), vec![HIDDEN], 0.1, 0.0, &mut r);
        add(&format!("{p}.intermediate.dense.weight"), vec![INTER, HIDDEN], lin, 0.0, &mut r);
        add(&format!("{p}.intermediate.dense.bias"), vec![INTER], 0.1, 0.0, &mut r);
        add(&format!("{p}.output.dense.weight"), vec![HIDDEN, INTER], lin / 1.4, 0.0, &mut r);
        add(&format!("{p}.output.dense.bias"), vec![HIDDEN], 0.1, 0.0, &mut r);
        add(&format!("{p}.output.LayerNorm.weight"), vec![HIDDEN], 0.2, 1.0, &mut r);
        add(&format!("{p}.output.LayerNorm.bias"), vec![HIDDEN], 0.1, 0.0, &mut r);
    }
    w
}

pub fn write_safetensors(path: &Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let bytes: Vec<Vec<u8>> = tensors.iter().map(|t| t.2.iter().flat_map(|x| x.to_le_bytes()).collect()).collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            (t.0.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, t.1.clone(), b).unwrap())
        })
        .collect();
    safetensors::serialize_to_file(views, None, path).unwrap();
}

pub fn tokenizer_json() -> serde_json::Value {
    let vocab: serde_json::Map<String, serde_json::Value> =
        VOCAB.iter().enumerate().map(|(i, t)| (t.to_string(), serde_json::json!(i))).collect();
    let special = |id: usize| {
        serde_json::json!({"id": id, "content": VOCAB[id], "single_word": false, "lstrip": false,
                           "rstrip": false, "normalized": false, "special": true})
    };
    serde_json::json!({
        "version": "1.0",
        // Like all-MiniLM-L6-v2's: a truncation and a fixed padding that the embedder must
        // replace with max_seq_length and no padding.
        "truncation": {"max_length": 128, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 128}, "direction": "Right", "pad_to_multiple_of": null,
                    "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": [special(0), special(1), special(2), special(3), special(4)],
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                       "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab}
    })
}

/// Pooling settings of a test model.
#[derive(Clone, Copy, PartialEq)]
pub enum Pool {
    Mean,
    Cls,
}

/// Writes a complete tiny sentence-transformers folder and returns its path.
pub fn make_model(root: &Path, name: &str, pool: Pool, normalize: bool) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("1_Pooling")).unwrap();
    let config = serde_json::json!({
        "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
        "hidden_size": HIDDEN, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
        "intermediate_size": INTER, "max_position_embeddings": MAX_POS, "type_vocab_size": 2,
        "vocab_size": VOCAB.len(), "layer_norm_eps": 1e-12, "position_embedding_type": "absolute"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    write_safetensors(&dir.join("model.safetensors"), &weights(7));
    std::fs::write(dir.join("tokenizer.json"), tokenizer_json().to_string()).unwrap();
    let mut modules = vec![
        serde_json::json!({"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}),
        serde_json::json!({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}),
    ];
    if normalize {
        modules.push(
            serde_json::json!({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}),
        );
    }
    std::fs::write(dir.join("modules.json"), serde_json::Value::from(modules).to_string()).unwrap();
    let pooling = serde_json::json!({
        "word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": pool == Pool::Cls,
        "pooling_mode_mean_tokens": pool == Pool::Mean, "pooling_mode_max_tokens": false,
        "pooling_mode_mean_sqrt_len_tokens": false
    });
    std::fs::write(dir.join("1_Pooling/config.json"), pooling.to_string()).unwrap();
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        serde_json::json!({"max_seq_length": MAX_SEQ, "do_lower_case": false}).to_string(),
    )
    .unwrap();
    dir
}
