"""Checked by `mypy --strict` (scripts/python/check.sh) against the stubs; also run by pytest."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import vq


def nearest(x: npt.NDArray[np.float32], q: npt.NDArray[np.float32]) -> tuple[float, int]:
    pq: vq.ProductQuantizer = vq.ProductQuantizer.train(x, m=4, ksub=16, seed=1, threads=1, metric="l2")
    codes: npt.NDArray[np.uint8] = pq.encode(x)
    d, i = pq.search(q, codes, 3)
    truth = vq.knn(q, x, 3)[1]
    r: float = vq.recall_at_k(truth, i, 3)
    sq = vq.ScalarQuantizer.train(x, bits=8)
    mse: float = vq.reconstruction_mse(x, sq.decode(sq.encode(x)))
    p: vq.PackedCodes = pq.pack(codes)
    d2, _ = pq.search_packed(q, p, 3, rerank_factor=2)
    level: str = vq.simd_level()
    assert level and mse >= 0 and d2.shape == d.shape
    return r + float(d[0, 0]), int(i[0, 0]) + pq.code_size + len(p)


def test_typed_usage() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 8), dtype=np.float32)
    r, i = nearest(x, x[:5])
    assert r >= 1.0 and i >= 4
