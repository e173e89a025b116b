//! The BERT encoder's forward pass in f32 over `matrixmultiply`, written for CPU sentence
//! embedding rather than taken from a tensor library: a batch is the sentences' tokens
//! packed one after another (no padding at all, so no masked work and a sentence's result
//! does not depend on its batch mates), the dense layers are one matrix product over every
//! token of the batch, and attention runs per sentence on strided views of the fused
//! query/key/value product. Each worker thread owns a batch and its scratch buffers, so the
//! products run single-threaded and no thread waits on another inside a layer.

use super::gemm::{gemm_acc, Weight};
use safetensors::{Dtype, SafeTensors};
use std::path::Path;

/// The encoder's shape, from config.json.
#[derive(Clone, Debug)]
pub struct Config {
    pub vocab: usize,
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

impl Config {
    /// Reads a BERT config.json; anything this forward pass would compute differently
    /// (another architecture, activation or position embedding) is refused by name.
    pub fn from_json(path: &Path, text: &str) -> Result<Config, String> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("{}: not valid JSON ({e}); expected a BERT config.json", path.display()))?;
        let p = path.display();
        let model_type = v.get("model_type").and_then(|m| m.as_str()).unwrap_or("");
        if model_type != "bert" {
            return Err(format!(
                "{p}: model_type is '{model_type}', expected \"bert\" (vq-benchmark embed runs BERT-family encoders only)"
            ));
        }
        let act = v.get("hidden_act").and_then(|a| a.as_str()).unwrap_or("gelu");
        if act != "gelu" {
            return Err(format!("{p}: hidden_act is '{act}', expected \"gelu\" (exact erf GELU, as BERT uses)"));
        }
        if let Some(pe) = v.get("position_embedding_type").and_then(|a| a.as_str()) {
            if pe != "absolute" {
                return Err(format!("{p}: position_embedding_type is '{pe}', expected \"absolute\""));
            }
        }
        let num = |key: &str, default: Option<usize>| -> Result<usize, String> {
            match v.get(key) {
                Some(x) => match x.as_u64() {
                    Some(n) if n > 0 && n <= (1 << 24) => Ok(n as usize),
                    _ => Err(format!("{p}: {key} is {x}, expected a positive integer")),
                },
                None => default.ok_or_else(|| format!("{p}: {key} is missing, expected a positive integer")),
            }
        };
        let cfg = Config {
            vocab: num("vocab_size", None)?,
            hidden: num("hidden_size", None)?,
            layers: num("num_hidden_layers", None)?,
            heads: num("num_attention_heads", None)?,
            intermediate: num("intermediate_size", None)?,
            max_positions: num("max_position_embeddings", Some(512))?,
            type_vocab: num("type_vocab_size", Some(2))?,
            eps: match v.get("layer_norm_eps") {
                None => 1e-12,
                Some(x) => match x.as_f64() {
                    Some(e) if e > 0.0 && e < 1.0 => e as f32,
                    _ => return Err(format!("{p}: layer_norm_eps is {x}, expected a small positive number")),
                },
            },
        };
        if !cfg.hidden.is_multiple_of(cfg.heads) {
            return Err(format!(
                "{p}: hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden, cfg.heads
            ));
        }
        Ok(cfg)
    }
}

/// One encoder layer's weights, the matrices stored input-major (`in × out`, the transpose
/// of PyTorch's `Linear.weight`) so every product reads them row by row.
struct Layer {
    /// Query, key and value side by side: `hidden × 3·hidden`, one product for all three.
    qkv_w: Weight,
    qkv_b: Vec<f32>,
    out_w: Weight,
    out_b: Vec<f32>,
    ln1_g: Vec<f32>,
    ln1_b: Vec<f32>,
    up_w: Weight,
    up_b: Vec<f32>,
    down_w: Weight,
    down_b: Vec<f32>,
    ln2_g: Vec<f32>,
    ln2_b: Vec<f32>,
}

/// The encoder's weights.
pub struct Bert {
    pub cfg: Config,
    word: Vec<f32>,
    /// Position embeddings with token type 0's embedding already added: single sentences
    /// always have type 0, so one addition per token is saved.
    pos_type: Vec<f32>,
    emb_g: Vec<f32>,
    emb_b: Vec<f32>,
    layers: Vec<Layer>,
    /// Whether to run the element-wise work compiled for AVX2 and FMA.
    avx2: bool,
}

/// Reads tensors by name from one safetensors file, with the file named in every error.
struct Tensors<'a> {
    st: SafeTensors<'a>,
    path: &'a Path,
    /// "" or "bert.": checkpoints saved from `BertModel` have bare names, those saved from a
    /// task model (`BertForMaskedLM`, ...) prefix the encoder's.
    prefix: &'static str,
}

impl Tensors<'_> {
    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let full = format!("{}{name}", self.prefix);
        let p = self.path.display();
        let t =
            self.st.tensor(&full).map_err(|_| format!("{p}: tensor {full} is missing, expected shape {shape:?}"))?;
        if t.shape() != shape {
            return Err(format!("{p}: tensor {full} has shape {:?}, expected {shape:?}", t.shape()));
        }
        let b = t.data();
        let out: Vec<f32> = match t.dtype() {
            Dtype::F32 => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
            Dtype::F16 => b.chunks_exact(2).map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            Dtype::BF16 => b.chunks_exact(2).map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32()).collect(),
            d => return Err(format!("{p}: tensor {full} is {d:?}, expected F32, F16 or BF16")),
        };
        if let Some(bad) = out.iter().position(|x| !x.is_finite()) {
            return Err(format!("{p}: tensor {full} holds a non-finite value at index {bad}"));
        }
        Ok(out)
    }

    /// A layer norm's scale and shift, under either name older checkpoints use.
    fn norm(&self, base: &str, n: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
        let has = |s: &str| self.st.tensor(&format!("{}{base}.{s}", self.prefix)).is_ok();
        if !has("weight") && has("gamma") {
            return Ok((self.get(&format!("{base}.gamma"), &[n])?, self.get(&format!("{base}.beta"), &[n])?));
        }
        Ok((self.get(&format!("{base}.weight"), &[n])?, self.get(&format!("{base}.bias"), &[n])?))
    }

    /// A PyTorch `Linear` (`out × in` weight) as an `in × out` matrix and its bias.
    fn linear(&self, base: &str, inp: usize, out: usize) -> Result<(Vec<f32>, Vec<f32>), String> {
        let w = self.get(&format!("{base}.weight"), &[out, inp])?;
        Ok((transpose(&w, out, inp), self.get(&format!("{base}.bias"), &[out])?))
    }
}

fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0f32; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

impl Bert {
    /// Loads the encoder's weights from a safetensors file's bytes.
    pub fn load(cfg: Config, path: &Path, bytes: &[u8]) -> Result<Bert, String> {
        let st =
            SafeTensors::deserialize(bytes).map_err(|e| format!("{}: not a safetensors file ({e})", path.display()))?;
        let prefix = if st.tensor("embeddings.word_embeddings.weight").is_err()
            && st.tensor("bert.embeddings.word_embeddings.weight").is_ok()
        {
            "bert."
        } else {
            ""
        };
        let t = Tensors { st, path, prefix };
        // Read once, on the loading thread: VQ_SIMD=scalar then covers every worker.
        let avx2 = cfg!(target_arch = "x86_64")
            && matches!(vq::simd::level(), vq::simd::Level::Avx2 | vq::simd::Level::Avx512);
        let h = cfg.hidden;
        let word = t.get("embeddings.word_embeddings.weight", &[cfg.vocab, h])?;
        let mut pos_type = t.get("embeddings.position_embeddings.weight", &[cfg.max_positions, h])?;
        let types = t.get("embeddings.token_type_embeddings.weight", &[cfg.type_vocab, h])?;
        for row in pos_type.chunks_exact_mut(h) {
            row.iter_mut().zip(&types[..h]).for_each(|(p, t)| *p += t);
        }
        let (emb_g, emb_b) = t.norm("embeddings.LayerNorm", h)?;
        let mut layers = Vec::with_capacity(cfg.layers);
        for i in 0..cfg.layers {
            let l = format!("encoder.layer.{i}");
            let (q_w, q_b) = t.linear(&format!("{l}.attention.self.query"), h, h)?;
            let (k_w, k_b) = t.linear(&format!("{l}.attention.self.key"), h, h)?;
            let (v_w, v_b) = t.linear(&format!("{l}.attention.self.value"), h, h)?;
            let mut qkv_w = Vec::with_capacity(3 * h * h);
            for r in 0..h {
                for m in [&q_w, &k_w, &v_w] {
                    qkv_w.extend_from_slice(&m[r * h..(r + 1) * h]);
                }
            }
            let qkv_b = [q_b, k_b, v_b].concat();
            let (out_w, out_b) = t.linear(&format!("{l}.attention.output.dense"), h, h)?;
            let (ln1_g, ln1_b) = t.norm(&format!("{l}.attention.output.LayerNorm"), h)?;
            let (up_w, up_b) = t.linear(&format!("{l}.intermediate.dense"), h, cfg.intermediate)?;
            let (down_w, down_b) = t.linear(&format!("{l}.output.dense"), cfg.intermediate, h)?;
            let (ln2_g, ln2_b) = t.norm(&format!("{l}.output.LayerNorm"), h)?;
            layers.push(Layer {
                qkv_w: Weight::new(qkv_w, h, 3 * h, avx2),
                qkv_b,
                out_w: Weight::new(out_w, h, h, avx2),
                out_b,
                ln1_g,
                ln1_b,
                up_w: Weight::new(up_w, h, cfg.intermediate, avx2),
                up_b,
                down_w: Weight::new(down_w, cfg.intermediate, h, avx2),
                down_b,
                ln2_g,
                ln2_b,
            });
        }
        Ok(Bert { cfg, word, pos_type, emb_g, emb_b, layers, avx2 })
    }
}

/// One worker's buffers, grown to the largest batch it has seen and reused.
#[derive(Default)]
pub struct Scratch {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    tmp: Vec<f32>,
    up: Vec<f32>,
    scores: Vec<f32>,
    apack: Vec<f32>,
}

fn grow(v: &mut Vec<f32>, n: usize) -> &mut [f32] {
    if v.len() < n {
        v.resize(n, 0.0);
    }
    &mut v[..n]
}

/// `c (m × n) = bias + a (m × k) · w`, all row-major and contiguous.
fn linear(m: usize, a: &[f32], w: &Weight, bias: &[f32], c: &mut [f32], apack: &mut Vec<f32>) {
    for row in c[..m * w.n].chunks_exact_mut(w.n) {
        row.copy_from_slice(bias);
    }
    gemm_acc(m, a, w, c, apack);
}

/// `x = LayerNorm(x + r)` row by row, in place.
#[inline(always)]
fn add_norm(x: &mut [f32], r: &[f32], g: &[f32], b: &[f32], eps: f32) {
    let n = g.len();
    for (row, res) in x.chunks_exact_mut(n).zip(r.chunks_exact(n)) {
        row.iter_mut().zip(res).for_each(|(x, r)| *x += r);
        norm_row(row, g, b, eps);
    }
}

#[inline(always)]
fn norm_row(row: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((x, g), b) in row.iter_mut().zip(g).zip(b) {
        *x = (*x - mean) * inv * g + b;
    }
}

/// erf for f32 as a rational function of x (Eigen's and XLA's fast erf: odd degree-13
/// numerator over even degree-8 denominator, input clamped to ±4 where erf is ±1 in f32),
/// within 5e-7 of erf (a few f32 ulp; the unit test checks it) and free of branches, so
/// GELU over a batch vectorises; `std` has no erf, and a libm call per element would cost
/// more than the products around it.
/// `FMA` is whether the caller is compiled with the FMA instructions: `mul_add` is one
/// instruction there, and a slow software call everywhere else.
#[inline(always)]
pub fn erf<const FMA: bool>(x: f32) -> f32 {
    let fma = |a: f32, b: f32, c: f32| if FMA { a.mul_add(b, c) } else { a * b + c };
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = fma(x2, -2.726_142_3e-10, 2.770_681_4e-8);
    p = fma(x2, p, -2.101_024e-6);
    p = fma(x2, p, -5.692_506_4e-5);
    p = fma(x2, p, -7.349_906_3e-4);
    p = fma(x2, p, -2.9546e-3);
    p = fma(x2, p, -1.609_603_3e-2);
    p *= x;
    let mut q = fma(x2, -1.456_607_2e-5, -2.133_740_6e-4);
    q = fma(x2, q, -1.682_827e-3);
    q = fma(x2, q, -7.373_329e-3);
    q = fma(x2, q, -1.426_474e-2);
    p / q
}

#[inline(always)]
fn gelu<const FMA: bool>(v: &mut [f32]) {
    for x in v {
        *x = 0.5 * *x * (1.0 + erf::<FMA>(*x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

impl Bert {
    /// Encodes the sentences `ids` (each already holding its special tokens, at most
    /// `max_positions` long) packed into one batch; returns the last hidden states, one row of
    /// `hidden` per token, sentence after sentence.
    pub fn forward<'s>(&self, ids: &[&[u32]], s: &'s mut Scratch) -> &'s [f32] {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` is set only when vq's SIMD level (detected, or lowered by
            // VQ_SIMD) is AVX2 or above, which implies AVX2 and FMA.
            return unsafe { self.forward_avx2(ids, s) };
        }
        self.forward_with::<false>(ids, s)
    }

    /// The element-wise work (GELU, layer norms, attention) compiled for AVX2 and FMA, where
    /// it vectorises 8 wide and `mul_add` is one instruction: measured 1.6× faster
    /// end to end on MiniLM than the baseline x86-64 build. The products dispatch by
    /// themselves.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn forward_avx2<'s>(&self, ids: &[&[u32]], s: &'s mut Scratch) -> &'s [f32] {
        self.forward_with::<true>(ids, s)
    }

    #[inline(always)]
    fn forward_with<'s, const FMA: bool>(&self, ids: &[&[u32]], s: &'s mut Scratch) -> &'s [f32] {
        let c = &self.cfg;
        let h = c.hidden;
        let tokens: usize = ids.iter().map(|t| t.len()).sum();
        let x = grow(&mut s.x, tokens * h);
        let mut row = 0;
        for sent in ids {
            for (p, &id) in sent.iter().enumerate() {
                let out = &mut x[row * h..(row + 1) * h];
                let w = &self.word[id as usize * h..(id as usize + 1) * h];
                let pt = &self.pos_type[p * h..(p + 1) * h];
                out.iter_mut().zip(w.iter().zip(pt)).for_each(|(o, (w, p))| *o = w + p);
                norm_row(out, &self.emb_g, &self.emb_b, c.eps);
                row += 1;
            }
        }
        let longest = ids.iter().map(|t| t.len()).max().unwrap_or(0);
        let qkv = grow(&mut s.qkv, tokens * 3 * h);
        let ctx = grow(&mut s.ctx, tokens * h);
        let tmp = grow(&mut s.tmp, tokens * h);
        let up = grow(&mut s.up, tokens * c.intermediate);
        let scores = grow(&mut s.scores, longest * longest);
        let dh = h / c.heads;
        let scale = 1.0 / (dh as f32).sqrt();
        for l in &self.layers {
            linear(tokens, x, &l.qkv_w, &l.qkv_b, qkv, &mut s.apack);
            let mut start = 0;
            for sent in ids {
                let n = sent.len();
                for head in 0..c.heads {
                    attend(&qkv[start * 3 * h..], &mut ctx[start * h..], n, h, head * dh, dh, scale, scores);
                }
                start += n;
            }
            linear(tokens, ctx, &l.out_w, &l.out_b, tmp, &mut s.apack);
            add_norm(x, tmp, &l.ln1_g, &l.ln1_b, c.eps);
            linear(tokens, x, &l.up_w, &l.up_b, up, &mut s.apack);
            gelu::<FMA>(up);
            linear(tokens, up, &l.down_w, &l.down_b, tmp, &mut s.apack);
            add_norm(x, tmp, &l.ln2_g, &l.ln2_b, c.eps);
        }
        &s.x[..tokens * h]
    }
}

/// One head's attention for one sentence of `n` tokens: `qkv` holds the sentence's rows
/// (query, key, value side by side, `3·h` wide), `ctx` receives the head's `dh` columns at
/// `off`. Every key is a real token: there is no padding to mask.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn attend(qkv: &[f32], ctx: &mut [f32], n: usize, h: usize, off: usize, dh: usize, scale: f32, scores: &mut [f32]) {
    let rs = 3 * h;
    let s = &mut scores[..n * n];
    for i in 0..n {
        let q = &qkv[i * rs + off..i * rs + off + dh];
        for j in 0..n {
            let k = &qkv[j * rs + h + off..j * rs + h + off + dh];
            s[i * n + j] = dot(q, k) * scale;
        }
    }
    for row in s.chunks_exact_mut(n) {
        let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let mut sum = 0.0;
        for v in row.iter_mut() {
            *v = (*v - m).exp();
            sum += *v;
        }
        let inv = 1.0 / sum;
        row.iter_mut().for_each(|v| *v *= inv);
    }
    for i in 0..n {
        let out = &mut ctx[i * h + off..i * h + off + dh];
        out.fill(0.0);
        for j in 0..n {
            let p = s[i * n + j];
            let v = &qkv[j * rs + 2 * h + off..j * rs + 2 * h + off + dh];
            out.iter_mut().zip(v).for_each(|(o, v)| *o += p * v);
        }
    }
}

/// A dot product in eight independent lanes, so the compiler vectorises it without having
/// to reorder a float sum.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, ra) = a.as_chunks::<8>();
    let (cb, rb) = b.as_chunks::<8>();
    for (x, y) in ca.iter().zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = acc.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Taylor series in f64, good to ~1e-13 for |x| ≤ 3.
    fn erf64(x: f64) -> f64 {
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_accurate_to_float_precision() {
        for i in -3000..=3000 {
            let x = i as f64 / 1000.0;
            let got = erf::<false>(x as f32) as f64;
            assert!((got - erf64(x)).abs() < 5e-7, "erf({x}) = {got}, expected {}", erf64(x));
        }
        assert!((erf::<false>(10.0) - 1.0).abs() < 5e-7 && (erf::<false>(-10.0) + 1.0).abs() < 5e-7);
    }
}
