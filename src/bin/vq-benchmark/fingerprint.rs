//! The dataset fingerprint (`dataset_fingerprint`): a stable 64-bit hash of the shapes and
//! the exact bits of every base and query value, so two runs can be told to have used the
//! same data (`vqfp1:` names this hash's version). Fed batch by batch as a pass reads the
//! base, it equals the hash of the whole arrays.

/// The running hash.
pub struct Fingerprinter {
    dim: usize,
    base_rows: usize,
    query_rows: usize,
    h: u64,
    /// A value waiting for its partner: values are mixed in pairs across batch boundaries.
    carry: Option<u32>,
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Fingerprinter {
    /// Starts the hash of `base_rows` base and `query_rows` query rows of dimension `dim`;
    /// feed the base values, then the query values, in order.
    pub fn new(dim: usize, base_rows: usize, query_rows: usize) -> Self {
        let mut f = Fingerprinter { dim, base_rows, query_rows, h: 0xcbf2_9ce4_8422_2325, carry: None };
        f.mix(dim as u64);
        f.mix((base_rows * dim) as u64);
        f.mix((query_rows * dim) as u64);
        f
    }

    fn mix(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(K).rotate_left(31);
    }

    /// The next values. The base and the queries are hashed as two separate sequences, so
    /// call [`Fingerprinter::end_base`] between them.
    pub fn feed(&mut self, values: &[f32]) {
        let mut rest = values;
        if let Some(c) = self.carry.take() {
            let Some((first, tail)) = rest.split_first() else {
                self.carry = Some(c);
                return;
            };
            self.mix(u64::from(c) | (u64::from(first.to_bits()) << 32));
            rest = tail;
        }
        let mut pairs = rest.chunks_exact(2);
        for p in &mut pairs {
            self.mix(u64::from(p[0].to_bits()) | (u64::from(p[1].to_bits()) << 32));
        }
        if let [v] = pairs.remainder() {
            self.carry = Some(v.to_bits());
        }
    }

    /// Ends the base's sequence (an odd value left over is mixed alone).
    pub fn end_base(&mut self) {
        if let Some(c) = self.carry.take() {
            self.mix(u64::from(c));
        }
    }

    /// The fingerprint, after the queries.
    pub fn finish(mut self) -> String {
        self.end_base();
        let h = (self.h ^ (self.h >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        format!("vqfp1:{}x{}+{}:{:016x}", self.base_rows, self.dim, self.query_rows, h ^ (h >> 32))
    }
}

/// The fingerprint of whole arrays.
pub fn of(dim: usize, base: &[f32], queries: &[f32]) -> String {
    let mut f = Fingerprinter::new(dim, base.len() / dim, queries.len() / dim);
    f.feed(base);
    f.end_base();
    f.feed(queries);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_sees_every_bit_and_the_split() {
        let a = [1.0f32, 2.0, 3.0, 4.0];
        let f = of(2, &a, &[]);
        assert_eq!(f, of(2, &a, &[]));
        let mut b = a;
        b[3] = f32::from_bits(b[3].to_bits() ^ 1);
        assert_ne!(f, of(2, &b, &[]));
        assert_ne!(f, of(2, &a[..2], &a[2..]));
        assert!(f.starts_with("vqfp1:2x2+0:"));
    }

    #[test]
    fn batches_of_odd_rows_hash_as_the_whole() {
        let (d, n) = (3, 11);
        let base: Vec<f32> = (0..n * d).map(|i| i as f32 * 0.5).collect();
        let q: Vec<f32> = (0..2 * d).map(|i| -(i as f32)).collect();
        for step in [1, 2, 5, 11] {
            let mut f = Fingerprinter::new(d, n, 2);
            for b in base.chunks(step * d) {
                f.feed(b);
            }
            f.end_base();
            f.feed(&q[..d]);
            f.feed(&q[d..]);
            assert_eq!(f.finish(), of(d, &base, &q), "batches of {step} rows");
        }
    }
}
