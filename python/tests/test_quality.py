"""Recall floors on the repository's real MiniLM fixture (tests/data), the Rust tests' own
floors (tests/quality.rs): the same library through Python must reach them."""

from __future__ import annotations

import numpy as np

import vq


def test_exact_search_reproduces_the_fixture_truth(minilm: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    base, queries, truth = minilm
    _, labels = vq.knn(queries, base, 100)
    assert vq.recall_at_k(truth, labels, 10) >= 0.999
    assert vq.recall_at_k(truth, labels, 100) >= 0.995


def test_sq8_recall_floor(minilm: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    base, queries, truth = minilm
    sq = vq.ScalarQuantizer.train(base, bits=8)
    codes = sq.encode(base)
    _, labels = sq.search(queries, codes, 100)
    assert vq.recall_at_k(truth, labels, 10) >= 0.99


def test_pq_floors(minilm: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    base, queries, truth = minilm
    # (m, ksub, FAISS's MSE, recall@10 floor, recall@100 floor), as tests/quality.rs.
    for m, ksub, faiss_mse, r10_min, r100_min in [(16, 256, 0.4155, 0.59, 0.63), (32, 16, 0.5738, 0.52, 0.56)]:
        pq = vq.ProductQuantizer.train(base, m=m, ksub=ksub)
        codes = pq.encode(base)
        mse = vq.reconstruction_mse(base, pq.decode(codes))
        _, labels = pq.search(queries, codes, 100)
        r10, r100 = vq.recall_at_k(truth, labels, 10), vq.recall_at_k(truth, labels, 100)
        assert mse <= faiss_mse * 1.005, (m, ksub, mse)
        assert r10 >= r10_min and r100 >= r100_min, (m, ksub, r10, r100)
