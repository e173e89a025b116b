"""Shared fixtures: the repository's real MiniLM fixture (tests/data) and seeded synthetic data."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def read_vecs(path: pathlib.Path, dtype: type) -> np.ndarray:
    """A TEXMEX .fvecs/.ivecs file: each row an int32 dimension, then its values."""
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    rows = raw.reshape(-1, d + 1)
    assert (rows[:, 0] == d).all()
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


@pytest.fixture(scope="session")
def minilm() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(base 2000×384 float32, queries 100×384 float32, truth 100×100 int64)."""
    base = read_vecs(DATA / "minilm_base_2k.fvecs", np.float32)
    queries = read_vecs(DATA / "minilm_query_100.fvecs", np.float32)
    truth = read_vecs(DATA / "minilm_gt_100.ivecs", np.int32).astype(np.int64)
    assert base.shape == (2000, 384) and queries.shape == (100, 384) and truth.shape == (100, 100)
    return base, queries, truth


@pytest.fixture(scope="session")
def gauss() -> np.ndarray:
    """1,027 × 40 seeded Gaussian rows (odd sizes on purpose)."""
    return np.random.default_rng(7).standard_normal((1027, 40), dtype=np.float32)
