//! One code: writing it from a rotated residual `r = R(x − c)` and reading a reconstruction
//! back. The byte layout is documented in [`crate::rabitq`]; offsets live in
//! `kernels::rabitq::Layout`, shared with the scan.

use crate::kernels::rabitq::{f32_at, Layout};

/// FAISS's `kTightStart`: where the search for the extended codes' scale starts, as a
/// fraction of its end, by `ex_bits` (RaBitQ-Library's values).
const TIGHT_START: [f32; 9] = [0.0, 0.15, 0.20, 0.52, 0.59, 0.71, 0.75, 0.77, 0.81];
/// Levels past the largest code the scale search looks (FAISS's `kNEnum`).
const N_ENUM: u32 = 10;
/// Added before truncating `t·|r̂_i|` to a code (FAISS's `kEps`).
const K_EPS: f64 = 1e-5;

/// Scratch of one encoder: `d` floats and `d` codes for the scale search, and its heap.
pub(crate) struct Scratch<'a> {
    pub o_abs: &'a mut [f32],
    pub cur: &'a mut [u32],
    pub heap: &'a mut [u64],
}

/// Writes the code of rotated residual `r` (`dim` floats) into `code` (`code_size` bytes).
/// `x_norm2` is `‖x‖²` of the encoded vector (used by the similarities' factor); `ip`
/// selects that factor.
pub(crate) fn encode(lay: Layout, ip: bool, r: &[f32], x_norm2: f64, code: &mut [u8], s: Scratch<'_>) {
    code.fill(0);
    let d = lay.dim;
    let (mut norm2, mut abs_sum) = (0f64, 0f64);
    for (i, &v) in r.iter().enumerate() {
        norm2 += f64::from(v) * f64::from(v);
        abs_sum += f64::from(v).abs();
        if v > 0.0 {
            code[i / 8] |= 1 << (i % 8);
        }
    }
    let norm = norm2.sqrt();
    // A residual of zero (x at the centroid) or one that overflowed has no direction: its
    // factors are 0, so it is estimated at the centroid's distance, with no error.
    let live = norm2 > 0.0 && norm2.is_finite();
    let (dpm, err) = if live {
        // ⟨ō, r/‖r‖⟩ with ō = sign(r)/√d.
        let cos = abs_sum / (norm * (d as f64).sqrt());
        (norm / cos, error_factor(norm, cos, d))
    } else {
        (0.0, 0.0)
    };
    let add = if ip { norm2 - x_norm2 } else { norm2 };
    let at = lay.sign_factors();
    put(code, at, add as f32);
    put(code, at + 4, dpm as f32);
    put(code, at + 8, err as f32);
    if lay.ex_bits > 0 {
        let (rescale, err_ex) = if live { extended(lay, r, norm, code, s) } else { (0.0, 0.0) };
        let at = lay.ex_factors();
        put(code, at, rescale);
        put(code, at + 4, err_ex);
    }
}

/// `‖r‖·√((1/cos² − 1)/(d − 1))`: the papers' error factor of an estimate whose codeword
/// makes angle `acos(cos)` with `r` (0 when the codeword is `r`'s direction, and for
/// `d = 1`, where it always is).
fn error_factor(norm: f64, cos: f64, d: usize) -> f64 {
    let ratio = 1.0 / (cos * cos);
    if d > 1 && ratio > 1.0 {
        norm * ((ratio - 1.0) / (d - 1) as f64).sqrt()
    } else {
        0.0
    }
}

fn put(code: &mut [u8], at: usize, v: f32) {
    code[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// The extended planes of `r` (FAISS's `quantize_ex_bits`): `|r|/‖r‖` scaled by the `t`
/// that maximizes the cosine with the codeword, truncated to `ex_bits` bits, and flipped
/// (`e ↦ 2^ex − 1 − e`) where the sign bit is 0, so `u + cb = ±(e + ½)` has `r`'s sign.
/// Returns `(rescale, err_ex)`: `‖r‖/⟨ȳ, r̂⟩` and the error factor of the full codeword.
fn extended(lay: Layout, r: &[f32], norm: f64, code: &mut [u8], s: Scratch<'_>) -> (f32, f32) {
    let ex = lay.ex_bits;
    let max_code = (1u32 << ex) - 1;
    let nf = norm as f32;
    for (o, &v) in s.o_abs.iter_mut().zip(r) {
        *o = (v / nf).abs();
    }
    let t = optimal_scale(s.o_abs, ex, s.cur, s.heap);
    let (mut ipnorm, mut ybar2) = (0f64, 0f64);
    for (i, (&o, &v)) in s.o_abs.iter().zip(r).enumerate() {
        let c = ((f64::from(t * o) + K_EPS) as u32).min(max_code);
        ipnorm += (f64::from(c) + 0.5) * f64::from(o);
        ybar2 += (f64::from(c) + 0.5).powi(2);
        // The sign bit is `v > 0`; the other side (zeros included) stores the flip, so a
        // zero component reconstructs as −½ like its sign bit says, not as −(2^ex − ½).
        let e = if v > 0.0 { c } else { max_code - c };
        for b in 0..ex {
            if (e >> b) & 1 == 1 {
                code[lay.ex_plane(b) + i / 8] |= 1 << (i % 8);
            }
        }
    }
    let inv = (1.0 / ipnorm) as f32;
    let rescale = if inv.is_normal() { inv * nf } else { nf };
    let cos = ipnorm / ybar2.sqrt();
    (rescale, error_factor(norm, cos, lay.dim) as f32)
}

/// FAISS's `compute_optimal_scaling_factor`, operation for operation in f32 so the codes
/// match: the critical values `t` where some `⌊t·o_i⌋` steps up are visited in increasing
/// order (a min-heap keyed by `t`, ties to the lower dimension), tracking the cosine
/// between `o` and the codeword `⌊t·o⌋ + ½` incrementally; the best `t` is returned.
fn optimal_scale(o_abs: &[f32], ex_bits: usize, cur: &mut [u32], heap: &mut [u64]) -> f32 {
    let d = o_abs.len();
    let max_code = (1u32 << ex_bits) - 1;
    let max_o = o_abs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let t_end = (max_code + N_ENUM) as f32 / max_o;
    let t_start = t_end * TIGHT_START[ex_bits];
    let mut sqr_den = d as f32 * 0.25;
    let mut numerator = 0f32;
    for (c, &o) in cur.iter_mut().zip(o_abs) {
        *c = (f64::from(t_start * o) + K_EPS) as u32;
        sqr_den += (*c * *c + *c) as f32;
        numerator += (*c as f32 + 0.5) * o;
    }
    let mut inv_sqrt_den = 1.0 / sqr_den.sqrt();
    let mut h = MinHeap { keys: heap, len: 0 };
    for (i, (&c, &o)) in cur.iter().zip(o_abs).enumerate() {
        let t_next = (c + 1) as f32 * (1.0 / o);
        if t_next < t_end {
            h.push(t_next, i);
        }
    }
    let (mut max_ip, mut t) = (0f32, 0f32);
    while let Some((cur_t, i)) = h.pop() {
        cur[i] += 1;
        let u = cur[i];
        let delta = 2.0 * u as f32;
        sqr_den += delta;
        numerator += o_abs[i];
        let old_den = sqr_den - delta;
        inv_sqrt_den *= 1.0 - 0.5 * delta / (old_den + delta * 0.5);
        let ip = numerator * inv_sqrt_den;
        if ip > max_ip {
            (max_ip, t) = (ip, cur_t);
        }
        if u < max_code {
            let t_next = (u + 1) as f32 * (1.0 / o_abs[i]);
            if t_next < t_end {
                h.push(t_next, i);
            }
        }
    }
    t
}

/// A binary min-heap of `(t, i)` in a caller's buffer, keyed by `t`'s bits (positive finite
/// floats order as their bit patterns) then `i`: the order of FAISS's
/// `priority_queue<pair<float, size_t>, …, greater<>>`. Holds at most one entry per
/// dimension, so `d` keys suffice.
struct MinHeap<'a> {
    keys: &'a mut [u64],
    len: usize,
}

impl MinHeap<'_> {
    fn push(&mut self, t: f32, i: usize) {
        let mut at = self.len;
        self.keys[at] = (u64::from(t.to_bits()) << 32) | i as u64;
        self.len += 1;
        while at > 0 && self.keys[(at - 1) / 2] > self.keys[at] {
            self.keys.swap(at, (at - 1) / 2);
            at = (at - 1) / 2;
        }
    }

    fn pop(&mut self) -> Option<(f32, usize)> {
        if self.len == 0 {
            return None;
        }
        let top = self.keys[0];
        self.len -= 1;
        self.keys[0] = self.keys[self.len];
        let mut at = 0;
        loop {
            let (l, r) = (2 * at + 1, 2 * at + 2);
            let mut m = at;
            if l < self.len && self.keys[l] < self.keys[m] {
                m = l;
            }
            if r < self.len && self.keys[r] < self.keys[m] {
                m = r;
            }
            if m == at {
                break;
            }
            self.keys.swap(at, m);
            at = m;
        }
        Some((f32::from_bits((top >> 32) as u32), (top & 0xFFFF_FFFF) as usize))
    }
}

/// The reconstruction of a code in the rotated space (`dim` floats): the projection of `r`
/// on the codeword's direction, `‖r‖·cos·ȳ/‖ȳ‖`, which has the least squared error of any
/// point on it. `‖r‖² = dpm² − err²·(d − 1)` (both factors hold `‖r‖/cos`), so no factor
/// is stored for decoding alone. Hostile factors give NaN or infinite values, no panic.
pub(crate) fn decode(lay: Layout, code: &[u8], out: &mut [f32]) {
    let d = lay.dim;
    let at = lay.sign_factors();
    let (dpm, err) = (f64::from(f32_at(code, at + 4)), f64::from(f32_at(code, at + 8)));
    let norm2 = (dpm * dpm - err * err * (d as f64 - 1.0)).max(0.0);
    let bit = |plane: usize, i: usize| u32::from((code[plane + i / 8] >> (i % 8)) & 1);
    if lay.ex_bits == 0 {
        let v = if dpm != 0.0 { norm2 / dpm / (d as f64).sqrt() } else { 0.0 };
        for (i, o) in out.iter_mut().enumerate() {
            *o = if bit(0, i) == 1 { v as f32 } else { -v as f32 };
        }
        return;
    }
    let cb = f64::from(lay.cb());
    let ybar = |i: usize| {
        let mut u = bit(0, i) << lay.ex_bits;
        for b in 0..lay.ex_bits {
            u |= bit(lay.ex_plane(b), i) << b;
        }
        f64::from(u) + cb
    };
    let ybar2: f64 = (0..d).map(|i| ybar(i).powi(2)).sum();
    let rescale = f64::from(f32_at(code, lay.ex_factors()));
    let scale = if rescale != 0.0 { norm2 / (rescale * ybar2) } else { 0.0 };
    for (i, o) in out.iter_mut().enumerate() {
        *o = (ybar(i) * scale) as f32;
    }
}
