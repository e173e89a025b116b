#!/usr/bin/env python3
"""Puts vq's criterion medians beside the peers' figures from the same run, as the
markdown rows of docs/PERFORMANCE.md.

    PY=$(../shared/bench/setup.sh)
    $PY ../shared/bench/faiss_anchor.py --workloads w2,w4 --reps 5 --out /tmp/peers.json
    cargo bench --bench kernels && cargo bench --bench sq
    python3 benches/compare.py /tmp/peers.json

Reads target/criterion/**/new/{benchmark,estimates}.json; stdlib only.
"""
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "target" / "criterion"
peers = json.loads(Path(sys.argv[1]).read_text())["results"]


def ours(full_id):
    """(median seconds, elements per iteration) of one benchmark."""
    for bench in root.glob("**/new/benchmark.json"):
        b = json.loads(bench.read_text())
        if b["full_id"] == full_id:
            med = json.loads((bench.parent / "estimates.json").read_text())["median"]["point_estimate"] / 1e9
            return med, (b.get("throughput") or {}).get("Elements")
    raise SystemExit(f"no criterion result for {full_id}: run the benches first")


def best(prefix, levels=("avx512", "avx2", "neon", "scalar")):
    """The fastest level's (level, median, elements) for a benchmark group."""
    found = []
    for lv in levels:
        try:
            found.append((lv,) + ours(f"{prefix}/{lv}"))
        except SystemExit:
            pass
    return min(found, key=lambda r: r[1])


print("| operation | vq (level) | peer | ratio |")
print("|---|---|---|---|")
w2 = {(r["impl"], r.get("n"), r.get("d")): r for r in peers.get("w2", [])}
for n, d in [(100_000, 128), (100_000, 384), (100_000, 1024), (2_000, 128)]:
    lv, med, el = best(f"l2sq_batch/d{d}_n{n}")
    rows = el / med
    nk = w2[("numkong cdist", n, d)]
    fa = w2[("faiss fvec_L2sqr_ny", n, d)]
    print(f"| squared L2, 1 query vs {n:,} rows, d = {d} | {rows / 1e6:.1f} M rows/s, {rows * d * 4 / 1e9:.1f} GB/s ({lv}) "
          f"| NumKong {nk['rows_per_s'] / 1e6:.1f} M rows/s ({nk['gb_per_s']:.1f} GB/s); FAISS {fa['rows_per_s'] / 1e6:.1f} M "
          f"| {rows / nk['rows_per_s']:.2f}× NumKong, {rows / fa['rows_per_s']:.2f}× FAISS |")
w4 = {r["type"]: r for r in peers.get("w4", [])}
for bits, qt in [(8, "QT_8bit"), (4, "QT_4bit")]:
    f = w4[qt]
    for op, key in [("encode", "encode_vps"), ("decode", "decode_vps")]:
        lv, med, el = best(f"sq{bits}/{op}")
        vps = el / med
        print(f"| SQ{bits} {op}, d = 128, 1 M vectors | {vps / 1e6:.1f} M vectors/s ({lv}) | FAISS {f[key] / 1e6:.2f} M/s "
              f"| {vps / f[key]:.2f}× |")
    lv, med, el = best(f"sq{bits}/search")
    ns = med / el * 1e9
    print(f"| SQ{bits} search, 1 M codes, 100 queries, k = 10 | {ns:.2f} ns/code ({lv}) | FAISS {f['ns_per_code']:.2f} ns/code "
          f"| {f['ns_per_code'] / ns:.2f}× |")
