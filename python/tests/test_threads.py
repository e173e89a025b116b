"""Several Python threads searching at once give the serial results (the GIL is released
inside every call; speed-up is measured in bench/, not asserted here)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

import vq


def test_threaded_calls_equal_serial(gauss: np.ndarray) -> None:
    pq = vq.ProductQuantizer.train(gauss, m=8, ksub=64, seed=5)
    sq = vq.ScalarQuantizer.train(gauss, bits=8)
    codes, scodes = pq.encode(gauss), sq.encode(gauss)
    batches = [gauss[i : i + 37] for i in range(0, len(gauss), 37)]
    serial = [pq.search(b, codes, 10) for b in batches] + [sq.search(b, scodes, 10) for b in batches]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(pq.search, b, codes, 10) for b in batches]
        futures += [pool.submit(sq.search, b, scodes, 10) for b in batches]
        threaded = [f.result() for f in futures]
    for (d1, l1), (d2, l2) in zip(serial, threaded):
        assert np.array_equal(l1, l2) and np.array_equal(d1, d2)
    with ThreadPoolExecutor(max_workers=3) as pool:
        encoded = list(pool.map(pq.encode, batches))
    assert np.array_equal(np.concatenate(encoded), codes)
    assert np.array_equal(pq.encode(gauss, threads=2), codes)
