"""Results equal to the Rust library's on the same data and seed: the vq-benchmark command
(the Rust CLI, which builds its own training settings and calls the library directly) trains
and saves model files and logs its metrics; the same training from Python must give the
same model bytes, codes and figures."""

from __future__ import annotations

import json
import pathlib
import sqlite3

import numpy as np
import pytest

import vq
from vq import _vq


def cli_run(tmp: pathlib.Path, x: np.ndarray, q: np.ndarray, *flags: str) -> tuple[bytes, dict[str, float]]:
    np.save(tmp / "x.npy", x)
    np.save(tmp / "q.npy", q)
    models = tmp / "models"
    argv = ["vq-benchmark", "run", "--dataset", str(tmp / "x.npy"), "--queries", str(tmp / "q.npy")]
    argv += ["--save-models", str(models), "--db", str(tmp / "runs.db"), "--seed", "42"]
    argv += ["--with-recall", "--kmeans-tol", "0", "--kmeans-hartigan", "0", *flags]
    assert _vq.run_cli(argv) == 0
    (model,) = models.glob("*.vqm")
    with sqlite3.connect(tmp / "runs.db") as db:
        ((metrics,),) = db.execute("SELECT metrics_json FROM runs").fetchall()
    return model.read_bytes(), json.loads(metrics)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return rng.standard_normal((900, 24), dtype=np.float32), rng.standard_normal((20, 24), dtype=np.float32)


def test_pq_model_bytes_and_recall_equal_the_cli(data: tuple[np.ndarray, np.ndarray], tmp_path: pathlib.Path) -> None:
    x, q = data
    model, row = cli_run(tmp_path, x, q, "--method", "pq", "--num-chunks", "6", "--num-clusters", "32")
    pq = vq.ProductQuantizer.train(x, m=6, ksub=32, seed=42, iterations=25, tol=0.0, init="random")
    assert pq.to_bytes() == model
    codes = pq.encode(x)
    assert np.array_equal(vq.ProductQuantizer.from_bytes(model).encode(x), codes)
    truth = vq.knn(q, x, 100)[1]
    found = pq.search(q, codes, 100)[1]
    assert vq.recall_at_k(truth, found, 10) == pytest.approx(row["recall@10"], abs=1e-12)
    assert vq.recall_at_k(truth, found, 100) == pytest.approx(row["recall@100"], abs=1e-12)
    mse = vq.reconstruction_mse(x, pq.decode(codes))
    assert mse == pytest.approx(row["reconstruction_distortion"], rel=1e-9)


def test_sq_model_bytes_equal_the_cli(data: tuple[np.ndarray, np.ndarray], tmp_path: pathlib.Path) -> None:
    x, q = data
    model, row = cli_run(tmp_path, x, q, "--method", "sq", "--sq-bits", "4")
    sq = vq.ScalarQuantizer.train(x, bits=4)
    assert sq.to_bytes() == model
    mse = vq.reconstruction_mse(x, sq.decode(sq.encode(x)))
    assert mse == pytest.approx(row["reconstruction_distortion"], rel=1e-9)


def test_rabitq_model_bytes_equal_the_cli(data: tuple[np.ndarray, np.ndarray], tmp_path: pathlib.Path) -> None:
    x, q = data
    model, _ = cli_run(tmp_path, x, q, "--method", "rabitq", "--rabitq-bits", "2")
    rq = vq.RabitqQuantizer.train(x, bits=2, seed=42)
    assert rq.to_bytes() == model
