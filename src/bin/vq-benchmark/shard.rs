//! Splitting a sweep across processes and machines: which configurations a shard runs,
//! and the sweep id every shard of one sweep agrees on without talking to the others.
//!
//! Shares are balanced by an estimate of each configuration's cost (the multiply-adds of
//! training, encoding and search), not by count: a PQ 16×256 costs hundreds of SQ runs, and
//! a count split would leave one task running long after the others finished. The split is
//! greedy longest-first onto the least-loaded shard, a deterministic function of the grid
//! and the data's shape, so every task computes the same split on its own.

use crate::cli::Shard;
use crate::measure::{Config, Settings};

/// Multiply-adds of one run, roughly: k-means (iterations × training rows × ksub × d, plus
/// the Hartigan passes), encoding, and the ADC search of every query.
pub fn estimated_cost(cfg: Config, n: usize, d: usize, nq: usize, s: &Settings) -> f64 {
    let (n, d, nq) = (n as f64, d as f64, nq as f64);
    match cfg {
        Config::Pq { m, ksub } => {
            let k = ksub as f64;
            let train_rows = n.min(k * s.max_points_per_centroid as f64);
            let passes = (s.kmeans_iters + s.kmeans_hartigan) as f64;
            passes * train_rows * k * d + n * k * d + nq * (k * d + n * m as f64)
        }
        Config::Sq { .. } => 3.0 * n * d + nq * n * d,
        Config::Opq { m, ksub } => {
            // The final PQ, rotating every row and query, and the alternation: per outer
            // iteration two products of the sample with the rotation, the inner PQ's
            // k-means and its encode and decode of the sample.
            let o = s.opq_params(m, ksub);
            let pq = estimated_cost(Config::Pq { m, ksub }, n as usize, d as usize, nq as usize, s);
            let r = n.min(o.max_train_points as f64);
            let k = ksub as f64;
            let inner = 2.0 * r * d * d + (o.niter_pq as f64 + 2.0) * r * k * d;
            pq + (n + nq) * d * d + s.opq_iterations as f64 * inner
        }
        Config::Rabitq { bits } => {
            // Drawing the rotation (a d × d QR) and the sample's mean; rotating every row
            // and query; encoding, whose search for the extended code's scale tries about
            // 2^ex_bits steps per dimension; the 1-bit scan (a word per 64 dimensions and
            // query bit) with the extended estimates it lets through, and as much again
            // for the re-ranking of an in-memory base. A float query weighs as 32 bits.
            let rows = s.train_rows(cfg, n as usize) as f64;
            let ex = (1u64 << (bits - 1)) as f64;
            let qb = match s.rabitq_qb.number() {
                0 => 32.0,
                b => f64::from(b),
            };
            d * d * d + rows * d + (n + nq) * d * d + n * d * ex + 2.0 * nq * n * d * qb / 64.0
        }
    }
}

/// The indices (into `costs`) shard `shard` runs, in grid order.
pub fn share(costs: &[f64], shard: Shard) -> Vec<usize> {
    let mut order: Vec<usize> = (0..costs.len()).collect();
    // Longest first; ties keep grid order.
    order.sort_by(|&a, &b| costs[b].total_cmp(&costs[a]).then(a.cmp(&b)));
    let mut load = vec![0f64; shard.count];
    let mut owner = vec![0usize; costs.len()];
    for i in order {
        let s = (0..shard.count).min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b))).expect("count >= 1");
        load[s] += costs[i];
        owner[i] = s;
    }
    (0..costs.len()).filter(|&i| owner[i] == shard.index).collect()
}

/// `sweep_<16 hex>` from everything that decides a sweep's results: the whole grid (not
/// one shard's share), the settings and the dataset's fingerprint. Thread counts are left
/// out: results do not depend on them.
pub fn derived_sweep_id(grid: &[Config], settings: &serde_json::Value, fingerprint: &str) -> String {
    let labels: Vec<String> = grid.iter().map(|c| c.label()).collect();
    let key = serde_json::json!({ "grid": labels, "settings": settings, "data": fingerprint });
    let h = crate::provenance::stable_hash_hex(key.to_string().as_bytes());
    format!("sweep_{}", &h[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_the_grid_once_and_balance_cost() {
        let costs = [100.0, 1.0, 1.0, 50.0, 50.0, 1.0, 30.0];
        for count in 1..=9 {
            let mut seen = vec![0; costs.len()];
            let mut loads = Vec::new();
            for index in 0..count {
                let s = share(&costs, Shard { index, count });
                assert!(s.windows(2).all(|w| w[0] < w[1]), "grid order");
                s.iter().for_each(|&i| seen[i] += 1);
                loads.push(s.iter().map(|&i| costs[i]).sum::<f64>());
            }
            assert!(seen.iter().all(|&c| c == 1), "{count} shards: {seen:?}");
            if count == 2 {
                // 100 + 30 against 50 + 50 + 3 × 1 is the best split there is.
                loads.sort_by(f64::total_cmp);
                assert_eq!(loads, vec![103.0, 130.0]);
            }
        }
    }

    #[test]
    fn derived_ids_depend_on_grid_settings_and_data_only() {
        let g = [Config::Pq { m: 8, ksub: 256 }, Config::Sq { bits: 8 }];
        let s = serde_json::json!({ "seed": 42 });
        let id = derived_sweep_id(&g, &s, "vqfp1:a");
        assert_eq!(id, derived_sweep_id(&g, &s, "vqfp1:a"));
        assert!(id.starts_with("sweep_") && id.len() == 22);
        assert_ne!(id, derived_sweep_id(&g[..1], &s, "vqfp1:a"));
        assert_ne!(id, derived_sweep_id(&g, &serde_json::json!({ "seed": 1 }), "vqfp1:a"));
        assert_ne!(id, derived_sweep_id(&g, &s, "vqfp1:b"));
    }
}
