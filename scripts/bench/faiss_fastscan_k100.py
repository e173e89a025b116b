#!/usr/bin/env python3
"""FAISS's peer for benches/fastscan.rs's k = 100 group: IndexPQFastScan (m = 16, 32,
4-bit, bbs 32) over 1 M Gaussian codes, d = 128, 100 queries, k = 100, one thread. The
workload is the peer script's w3 (../shared/bench/faiss_anchor.py) with k = 100 instead of
10; FAISS's output is the 8-bit sums mapped back to float, as ours with rerank_factor 0.

    python scripts/bench/faiss_fastscan_k100.py [--reps 5]

Prints one line per m: median, min and max seconds and ns per code. Needs faiss-cpu and
numpy (the venv of ../shared/bench/setup.sh).
"""

import argparse
import statistics
import time

import faiss
import numpy as np


def gaussian(n, d, seed):
    return np.random.default_rng(seed).standard_normal((n, d), dtype=np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()
    faiss.omp_set_num_threads(1)
    d, n, nq, k = 128, 1_000_000, 100, 100
    train, base, queries = gaussian(100_000, d, 3), gaussian(n, d, 4), gaussian(nq, d, 5)
    for m in [16, 32]:
        index = faiss.IndexPQFastScan(d, m, 4, faiss.METRIC_L2, 32)
        index.train(train)
        index.add(base)
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            index.search(queries, k)
            times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        print(
            f"IndexPQFastScan m={m} k={k}: median {med:.4f} s (min {min(times):.4f}, max {max(times):.4f}),"
            f" {med / (nq * n) * 1e9:.3f} ns/code"
        )


if __name__ == "__main__":
    main()
