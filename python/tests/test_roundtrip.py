"""Round trips: encode/decode, model files, views, packed codes."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import vq


def quantizers(x: np.ndarray) -> list[object]:
    return [
        vq.ProductQuantizer.train(x, m=8, ksub=64, seed=3, iterations=10),
        vq.ScalarQuantizer.train(x, bits=8),
        vq.OpqQuantizer.train(x, m=8, ksub=16, niter=3, niter_pq_0=5, niter_pq=2, seed=3),
        vq.RabitqQuantizer.train(x, bits=4, seed=3),
    ]


def test_encode_decode_shapes_and_error(gauss: np.ndarray) -> None:
    for q in quantizers(gauss):
        codes = q.encode(gauss)  # type: ignore[attr-defined]
        assert codes.dtype == np.uint8 and codes.shape == (len(gauss), q.code_size)  # type: ignore[attr-defined]
        rec = q.decode(codes)  # type: ignore[attr-defined]
        assert rec.dtype == np.float32 and rec.shape == gauss.shape
        mse = vq.reconstruction_mse(gauss, rec)
        # Far below the data's own energy (sum of squares per row = 40 on average).
        assert 0 < mse < 40 * 0.5, (q, mse)
        # Decoding the codes of the reconstruction gives the same codes back for SQ and PQ.
        if isinstance(q, (vq.ProductQuantizer, vq.ScalarQuantizer)):
            assert np.array_equal(q.encode(rec), codes)


def test_mse_is_the_original_tools_definition(gauss: np.ndarray) -> None:
    rec = gauss + np.float32(0.5)
    # Each row's sum of squared errors is 40 · 0.25 = 10.
    assert vq.reconstruction_mse(gauss, rec) == pytest.approx(10.0, rel=1e-6)


def test_model_files_round_trip(gauss: np.ndarray, tmp_path: pathlib.Path) -> None:
    for i, q in enumerate(quantizers(gauss)):
        cls = type(q)
        path = tmp_path / f"m{i}.vqm"
        q.save(path)  # type: ignore[attr-defined]
        data = path.read_bytes()
        assert data[:8] == b"\x89VQM\r\n\x1a\n"
        assert data == q.to_bytes()  # type: ignore[attr-defined]
        back = cls.load(str(path))  # type: ignore[attr-defined]
        assert back.to_bytes() == data
        assert cls.from_bytes(data).to_bytes() == data  # type: ignore[attr-defined]
        codes = q.encode(gauss[:50])  # type: ignore[attr-defined]
        assert np.array_equal(back.encode(gauss[:50]), codes)
        d1, l1 = q.search(gauss[:5], codes, 7)  # type: ignore[attr-defined]
        d2, l2 = back.search(gauss[:5], codes, 7)
        assert np.array_equal(l1, l2) and np.array_equal(d1, d2)


def test_views_are_read_only_and_alive(gauss: np.ndarray) -> None:
    pq = vq.ProductQuantizer.train(gauss, m=8, ksub=16, seed=1)
    c = pq.centroids
    assert c.shape == (8, 16, 5) and c.dtype == np.float32 and not c.flags.writeable
    with pytest.raises(ValueError):
        c[0, 0, 0] = 1.0
    del pq  # the view keeps the quantizer alive
    assert np.isfinite(c).all()
    uneven = vq.ProductQuantizer.train(gauss, m=3, ksub=16, seed=1)
    assert uneven.centroids.shape == (16 * 40,)
    sq = vq.ScalarQuantizer.train(gauss, bits=4)
    assert np.array_equal(sq.vmin, gauss.min(axis=0)) and np.array_equal(sq.vmax, gauss.max(axis=0))
    opq = vq.OpqQuantizer.train(gauss, m=4, ksub=16, niter=2, niter_pq_0=3, niter_pq=1)
    r = opq.rotation
    assert r.shape == (40, 40)
    assert np.allclose(r @ r.T, np.eye(40), atol=1e-4)


def test_adc_matches_decoded_distance(gauss: np.ndarray) -> None:
    pq = vq.ProductQuantizer.train(gauss, m=8, ksub=32, seed=2)
    codes = pq.encode(gauss)
    q = gauss[11]
    table = pq.distance_table(q)
    assert table.shape == (8, 32)
    adc = pq.adc_scan(table, codes)
    want = ((pq.decode(codes) - q) ** 2).sum(axis=1)
    assert np.allclose(adc, want, rtol=1e-4, atol=1e-4)
    assert np.array_equal(pq.distances(q, codes), adc)
    d, i = pq.search(q[None, :], codes, 5)
    assert np.array_equal(i[0], np.argsort(adc, kind="stable")[:5])


def test_search_pads_as_faiss_when_k_exceeds_codes(gauss: np.ndarray) -> None:
    pq = vq.ProductQuantizer.train(gauss, m=8, ksub=16, seed=2)
    codes = pq.encode(gauss[:3])
    d, i = pq.search(gauss[:2], codes, 5)
    assert d.shape == (2, 5) and i.dtype == np.int64
    assert (i[:, 3:] == -1).all() and np.isinf(d[:, 3:]).all()
    assert sorted(i[0, :3]) == [0, 1, 2]


def test_fast_scan_pack_round_trip_and_exact_rerank(gauss: np.ndarray) -> None:
    pq = vq.ProductQuantizer.train(gauss, m=10, ksub=16, seed=4)
    codes = pq.encode(gauss)
    packed = pq.pack(codes)
    assert len(packed) == len(gauss) and packed.m == 10
    assert np.array_equal(packed.unpack(pq), codes)
    again = vq.PackedCodes.from_bytes(pq, len(gauss), packed.to_bytes())
    assert np.array_equal(again.unpack(pq), codes)
    # A candidate list as long as the codes: the float scan's results, bit for bit.
    want = pq.search(gauss[:9], codes, 10)
    got = pq.search_packed(gauss[:9], packed, 10, rerank_factor=len(gauss))
    assert np.array_equal(got[1], want[1]) and np.array_equal(got[0], want[0])
    refined = pq.search_packed_refine(gauss[:9], packed, 10, gauss, rerank_factor=len(gauss))
    exact = vq.knn(gauss[:9], gauss, 10)
    assert np.array_equal(refined[1], exact[1])


def test_rabitq_estimate_and_refine(gauss: np.ndarray) -> None:
    rq = vq.RabitqQuantizer.train(gauss, bits=2, qb=4, seed=9)
    codes = rq.encode(gauss)
    est, half = rq.estimate(gauss[0], codes)
    true = ((gauss - gauss[0]) ** 2).sum(axis=1)
    assert est.shape == half.shape == (len(gauss),) and (half >= 0).all()
    # The bounds hold for most codes (measured: 94.8% here).
    assert np.mean(np.abs(est - true) <= half + 1e-3) > 0.9
    d, i = rq.search_refine(gauss[:5], codes, 10, gauss)
    exact = vq.knn(gauss[:5], gauss, 10)
    assert np.mean(i == exact[1]) > 0.95


def test_pairwise_distortion_and_simd() -> None:
    x = np.random.default_rng(1).standard_normal((200, 16), dtype=np.float32)
    p = vq.pairwise_distortion(x, x * np.float32(1.1), num_pairs=100, seed=5)
    assert p["pairs"] == 100
    assert p["mean"] == pytest.approx(0.1, rel=1e-5) and p["max"] == pytest.approx(0.1, rel=1e-5)
    assert vq.simd_level() in vq.simd_available()
