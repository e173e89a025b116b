#!/usr/bin/env python3
"""Prints criterion's medians as a table: benchmark, median time, throughput per second.

    python3 benches/summarize.py [FILTER]      # after cargo bench; FILTER is a substring

Reads target/criterion/**/new/{benchmark,estimates}.json (stdlib only).
"""
import json
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent / "target" / "criterion"
flt = sys.argv[1] if len(sys.argv) > 1 else ""
rows = []
for bench in sorted(root.glob("**/new/benchmark.json")):
    b = json.loads(bench.read_text())
    name = b["full_id"]
    if flt not in name:
        continue
    est = json.loads((bench.parent / "estimates.json").read_text())
    med = est["median"]["point_estimate"] / 1e9  # seconds
    tp = b.get("throughput") or {}
    if "Elements" in tp:
        per = f"{tp['Elements'] / med / 1e6:10.2f} M/s   {med / tp['Elements'] * 1e9:8.3f} ns/elem"
    elif "Bytes" in tp:
        per = f"{tp['Bytes'] / med / 1e9:10.2f} GB/s"
    else:
        per = ""
    rows.append(f"{name:45s} {med * 1e3:12.4f} ms  {per}")
print("\n".join(rows))
