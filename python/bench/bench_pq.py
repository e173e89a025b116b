"""PQ from Python against the Rust library and FAISS's Python API, in one run.

    python bench/bench_pq.py [--n 1000000] [--repeats 5] [--rounds 3] [--cpu 1]

Data: n × 128 float32 standard normal rows (seed 0), 100 queries; a PQ m = 16, ksub = 256
trained by vq on the first 65,536 rows. FAISS's ``IndexPQ`` is given vq's codebook and vq's
codes (the same layout for 8-bit codes), so all three search the same bytes; the script
checks that FAISS and vq return the same labels. Timed, medians over ``--repeats`` calls:

- search, 100 queries × n codes, k = 10: vq from Python (``pq.search``), the Rust library
  (``vq._vq._bench_rust_pq_search``: the same ``ProductQuantizer::search`` call timed in
  Rust), FAISS ``IndexPQ.search`` with ``faiss.omp_set_num_threads(1)``;
- encode n × 128: vq from Python and the Rust library, and the peak RSS of a fresh process
  that makes the input then encodes it (input + codes, or a hidden copy shows);
- threads: the 100-query search from 1 Python thread, and from 2 at once (the GIL is released).

Each contender runs in processes of its own (``--rounds`` each, vq-from-Python and Rust
alternated, each pinned to ``--cpu``): within one process, whichever path ran first was
measured 15-20% faster than the other, either way round. Needs faiss (``faiss-cpu``) in the
same Python. Prints a Markdown table and every timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import vq
from vq import _vq

D, M, KSUB, NQ, K = 128, 16, 256, 100, 10


def median_time(f: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def status_mib(field: str) -> float:
    """A /proc/self/status memory field (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def rss_probe(n: int) -> dict[str, float]:
    """In this (fresh) process: the resident memory with the input and the quantizer made,
    then the peak while encoding (the peak is reset in between: `5` into clear_refs)."""
    x = np.random.default_rng(0).standard_normal((n, D), dtype=np.float32)
    pq = vq.ProductQuantizer.train(x[:65536], m=M, ksub=KSUB, seed=1234, threads=1)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = status_mib("VmRSS")
    codes = pq.encode(x)
    peak = status_mib("VmHWM")
    return {"before_mib": before, "after_mib": peak, "codes_mib": codes.nbytes / 2**20, "input_mib": x.nbytes / 2**20}


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, D), dtype=np.float32), rng.standard_normal((NQ, D), dtype=np.float32)


def timings(mode: str, n: int, repeats: int, model: str) -> dict[str, object]:
    """One process, one contender: which code path runs first in a process was measured to
    shift the other's times by up to 20% (either way), so each contender gets processes of
    its own, alternated by ``main``."""
    x, queries = data(n)
    pq = vq.ProductQuantizer.load(model)
    codes = pq.encode(x)
    if mode == "py":
        return {
            "search": [median_time(lambda: pq.search(queries, codes, K), 1) for _ in range(repeats)],
            "encode": [median_time(lambda: pq.encode(x), 1) for _ in range(repeats)],
        }
    if mode == "rust":
        return {
            "search": _vq._bench_rust_pq_search(pq, queries, codes, K, repeats),
            "encode": _vq._bench_rust_pq_encode(pq, x, repeats),
        }
    if mode == "threads":
        # Throughput: the same 100-query search from 1 thread, then from 2 threads at once.
        with ThreadPoolExecutor(max_workers=2) as pool:
            two = [median_time(lambda: list(pool.map(lambda _: pq.search(queries, codes, K), range(2))), 1) for _ in range(repeats)]
        one = [median_time(lambda: pq.search(queries, codes, K), 1) for _ in range(repeats)]
        return {"one": one, "two": two}
    import faiss  # type: ignore[import-not-found]

    faiss.omp_set_num_threads(1)
    index = faiss.IndexPQ(D, M, 8)
    faiss.copy_array_to_vector(np.ascontiguousarray(pq.centroids).ravel(), index.pq.centroids)
    index.is_trained = True
    faiss.copy_array_to_vector(codes.ravel(), index.codes)
    index.ntotal = n
    _, fi = index.search(queries, K)
    _, vi = pq.search(queries, codes, K)
    return {
        "search": [median_time(lambda: index.search(queries, K), 1) for _ in range(repeats)],
        "same_labels": float(np.mean(fi == vi)),
        "faiss": faiss.__version__,
    }


def child(mode: str, n: int, repeats: int, model: str, cpus: str | None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--mode", mode, "--n", str(n), "--repeats", str(repeats), "--model", model]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5, help="timed calls per process")
    ap.add_argument("--rounds", type=int, default=3, help="processes per contender, alternated")
    ap.add_argument("--cpu", default="1", help="taskset core list of the single-thread runs")
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--rss-probe", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.rss_probe:
        print(json.dumps(rss_probe(a.n)))
        return
    if a.mode:
        print(json.dumps(timings(a.mode, a.n, a.repeats, a.model)))
        return

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model = f"{tmp}/pq.vqm"
        x, _ = data(a.n)
        vq.ProductQuantizer.train(x[:65536], m=M, ksub=KSUB, seed=1234, threads=1).save(model)
        del x
        runs: dict[str, list[float]] = {"py_search": [], "py_encode": [], "rust_search": [], "rust_encode": []}
        for _ in range(a.rounds):
            for mode in ("py", "rust"):
                t = child(mode, a.n, a.repeats, model, a.cpu)
                runs[f"{mode}_search"] += t["search"]  # type: ignore[arg-type]
                runs[f"{mode}_encode"] += t["encode"]  # type: ignore[arg-type]
        f = child("faiss", a.n, a.repeats, model, a.cpu)
        threads = child("threads", a.n, a.repeats, model, None)
    rss = child_rss(a.n, a.cpu)

    med = {k: statistics.median(v) for k, v in runs.items()}
    faiss_search = statistics.median(f["search"])  # type: ignore[arg-type]
    py_search, rust_search = med["py_search"], med["rust_search"]
    py_encode, rust_encode = med["py_encode"], med["rust_encode"]
    rust_ratio = faiss_search / rust_search
    py_ratio = faiss_search / py_search
    one = statistics.median(threads["one"])  # type: ignore[arg-type]
    two = statistics.median(threads["two"])  # type: ignore[arg-type]
    print(f"n = {a.n}, d = {D}, m = {M}, ksub = {KSUB}, {NQ} queries, k = {K}; medians of {a.rounds} processes "
          f"x {a.repeats} calls (FAISS: 1 x {a.repeats}); vq {vq.__version__} at {vq.simd_level()}, "
          f"faiss {f['faiss']}, numpy {np.__version__}")
    print(f"labels equal to FAISS's: {f['same_labels']:.4f}")
    print()
    print("| call | vq from Python | Rust library | Python / Rust | FAISS Python | FAISS / vq |")
    print("|---|---|---|---|---|---|")
    print(f"| PQ search | {py_search * 1e3:.1f} ms | {rust_search * 1e3:.1f} ms | {py_search / rust_search:.3f} | "
          f"{faiss_search * 1e3:.1f} ms | from Python {py_ratio:.2f}×, Rust {rust_ratio:.2f}×: "
          f"{py_ratio / rust_ratio:.3f} of the Rust-level ratio |")
    print(f"| PQ encode | {py_encode:.3f} s | {rust_encode:.3f} s | {py_encode / rust_encode:.3f} | | |")
    print()
    for k, v in runs.items():
        print(f"{k}: " + " ".join(f"{t:.4f}" for t in v))
    print(f"faiss_search: " + " ".join(f"{t:.4f}" for t in f["search"]))  # type: ignore[attr-defined]
    print()
    print(f"search throughput, 2 Python threads at once (100 queries each, no taskset, 2 cores) vs 1: "
          f"{two * 1e3:.1f} ms for both vs {one * 1e3:.1f} ms for one, speed-up {2 * one / two:.2f}x")
    print(f"encode: RSS {rss['before_mib']:.1f} MiB with the input ({rss['input_mib']:.1f} MiB) and the "
          f"quantizer made, peak {rss['after_mib']:.1f} MiB during encode: +{rss['after_mib'] - rss['before_mib']:.1f} "
          f"MiB for {rss['codes_mib']:.1f} MiB of codes")


def child_rss(n: int, cpus: str | None) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--rss-probe", "--n", str(n)]
    if cpus:
        cmd = ["taskset", "-c", cpus, *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


if __name__ == "__main__":
    main()
