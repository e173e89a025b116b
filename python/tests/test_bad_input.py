"""Every bad input is a Python exception naming what was expected, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

import vq


@pytest.fixture(scope="module")
def pq() -> vq.ProductQuantizer:
    x = np.random.default_rng(0).standard_normal((600, 24), dtype=np.float32)
    return vq.ProductQuantizer.train(x, m=6, ksub=20, seed=1)  # ksub 20: not a full byte


@pytest.fixture(scope="module")
def x() -> np.ndarray:
    return np.random.default_rng(1).standard_normal((50, 24), dtype=np.float32)


def test_wrong_dtype_is_a_type_error_naming_both(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    with pytest.raises(TypeError, match=r"expected dtype float32 and shape \(n, 24\), got dtype float64"):
        pq.encode(x.astype(np.float64))
    with pytest.raises(TypeError, match="numpy.ndarray"):
        pq.encode(x.tolist())  # type: ignore[arg-type]
    codes = pq.encode(x)
    with pytest.raises(TypeError, match="expected dtype uint8"):
        pq.decode(codes.astype(np.int32))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="int64"):
        vq.recall_at_k(np.zeros((2, 3), np.int32), np.zeros((2, 3), np.int64), 1)  # type: ignore[arg-type]


def test_wrong_shape_and_order_are_value_errors(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"expected shape \(n, 24\).*got shape \[24\]"):
        pq.encode(x[0])
    with pytest.raises(ValueError, match=r"got shape \[50, 23\]"):
        pq.encode(np.ascontiguousarray(x[:, :23]))
    with pytest.raises(ValueError, match="C-contiguous"):
        pq.encode(np.asfortranarray(x))
    with pytest.raises(ValueError, match="C-contiguous"):
        pq.encode(x[::2])
    codes = pq.encode(x)
    with pytest.raises(ValueError, match=r"codes: expected shape \(n, 6\)"):
        pq.search(x[:2], codes[:, :5].copy(), 3)
    with pytest.raises(ValueError, match=r"query: expected shape \(24,\)"):
        pq.distance_table(x[:1])
    with pytest.raises(ValueError, match=r"table: expected shape \(6, 20\)"):
        pq.adc_scan(np.zeros((5, 20), np.float32), codes)
    with pytest.raises(ValueError):
        vq.ProductQuantizer.train(np.zeros((10, 4, 2), np.float32), m=2)


def test_nan_is_an_exception_everywhere(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    bad = x.copy()
    bad[3, 5] = np.nan
    with pytest.raises(vq.VqError, match="non-finite value.*element 77"):
        pq.encode(bad)
    with pytest.raises(vq.VqError, match="non-finite"):
        vq.ProductQuantizer.train(bad, m=6, ksub=4)
    with pytest.raises(vq.VqError, match="non-finite"):
        vq.ScalarQuantizer.train(bad)
    with pytest.raises(vq.VqError, match="non-finite"):
        pq.search(bad, pq.encode(x), 3)
    with pytest.raises(vq.VqError, match="non-finite"):
        pq.distance_table(bad[3])
    with pytest.raises(vq.VqError, match="non-finite"):
        vq.knn(bad, x, 2)
    sq = vq.ScalarQuantizer.train(x, bits=4)
    with pytest.raises(vq.VqError, match="non-finite"):
        sq.encode(bad)


def test_hostile_codes_are_the_librarys_error(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    codes = pq.encode(x)
    codes[7, 2] = 200  # ksub is 20
    msg = "sub-code = 200 in code 7, sub-quantizer 2 is out of range, accepted: below ksub"
    with pytest.raises(vq.VqError, match=msg):
        pq.search(x[:3], codes, 5)
    with pytest.raises(vq.VqError, match=msg):
        pq.decode(codes)
    with pytest.raises(vq.VqError, match=msg):
        pq.distances(x[0], codes)
    with pytest.raises(vq.VqError, match=msg):
        pq.adc_scan(pq.distance_table(x[0]), codes)
    opq = vq.OpqQuantizer.train(x, m=6, ksub=12, niter=1, niter_pq_0=2, niter_pq=1)
    oc = opq.encode(x)
    oc[0, 0] = 255
    with pytest.raises(vq.VqError, match="below ksub"):
        opq.search(x[:2], oc, 3)
    with pytest.raises(vq.VqError, match="below ksub"):
        opq.distances(x[0], oc)
    # Any bytes in the other quantizers' codes are valid codes: results, not crashes.
    rng = np.random.default_rng(3)
    for q in [vq.ScalarQuantizer.train(x, bits=4), vq.RabitqQuantizer.train(x, bits=3)]:
        junk = rng.integers(0, 256, size=(40, q.code_size), dtype=np.uint8)
        d, i = q.search(x[:2], junk, 5)
        assert ((i >= 0) & (i < 40)).all()
    p4 = vq.ProductQuantizer.train(x, m=6, ksub=10, seed=1)
    junk = rng.integers(0, 256, size=(40, p4.code_size), dtype=np.uint8)
    packed = vq.PackedCodes.from_bytes(p4, 40, p4.pack(p4.encode(x[:40])).to_bytes())
    assert len(packed) == 40
    with pytest.raises(vq.VqError, match="below ksub"):
        p4.search(x[:2], junk, 3)
    # Packed bytes from anywhere, nibbles at or above ksub = 10 among them: no crash, and (as
    # the library documents) a code holding one is never a result.
    good = bytearray(p4.pack(p4.encode(x[:40])).to_bytes())
    packed_len = len(good)
    for pos in rng.choice(packed_len, size=packed_len // 8, replace=False):
        good[int(pos)] = 0xFF
    hostile = vq.PackedCodes.from_bytes(p4, 40, bytes(good))
    plain = hostile.unpack(p4)
    valid = {int(j) for j in np.flatnonzero((((plain >> 4) < 10) & ((plain & 15) < 10)).all(axis=1))}
    assert 5 <= len(valid) < 40
    d, i = p4.search_packed(x[:3], hostile, 5)
    assert {int(j) for j in i.ravel()} <= valid
    with pytest.raises(vq.VqError):
        vq.PackedCodes.from_bytes(p4, 40, b"\0" * (packed_len - 1))


def test_k_zero_and_k_overflow(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    codes = pq.encode(x)
    with pytest.raises(vq.VqError, match="k = 0 is out of range"):
        pq.search(x[:2], codes, 0)
    with pytest.raises(vq.VqError, match="k = 0"):
        vq.knn(x[:2], x, 0)
    with pytest.raises(vq.VqError, match="k = 0"):
        vq.recall_at_k(np.zeros((2, 3), np.int64), np.zeros((2, 3), np.int64), 0)
    with pytest.raises(vq.VqError, match="k = 4"):
        vq.recall_at_k(np.zeros((2, 3), np.int64), np.zeros((2, 3), np.int64), 4)
    with pytest.raises((ValueError, OverflowError, MemoryError)):
        pq.search(x[:2], codes, 2**62)
    with pytest.raises(OverflowError):
        pq.search(x[:2], codes, -1)


def test_bad_parameters_are_the_librarys_errors(x: np.ndarray) -> None:
    with pytest.raises(vq.VqError, match=r"m \(sub-quantizers\) = 25 for dimension 24"):
        vq.ProductQuantizer.train(x, m=25)
    with pytest.raises(vq.VqError, match="ksub"):
        vq.ProductQuantizer.train(x, m=4, ksub=1)
    with pytest.raises(vq.VqError, match="bits"):
        vq.ScalarQuantizer.train(x, bits=5)
    with pytest.raises(vq.VqError, match="metric"):
        vq.ScalarQuantizer.train(x, metric="manhattan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="init"):
        vq.ProductQuantizer.train(x, m=4, ksub=4, init="best")  # type: ignore[arg-type]
    with pytest.raises(vq.VqError, match="RaBitQ bits"):
        vq.RabitqQuantizer.train(x, bits=10)
    with pytest.raises(vq.VqError):
        vq.ProductQuantizer.train(x[:3], m=4, ksub=16)  # fewer rows than centroids
    with pytest.raises(vq.VqError, match="fast scan"):
        vq.ProductQuantizer.train(x, m=4, ksub=32).pack(np.zeros((1, 4), np.uint8))


def test_corrupted_model_bytes(pq: vq.ProductQuantizer, tmp_path: object) -> None:
    good = pq.to_bytes()
    with pytest.raises(vq.VqError, match="<memory>"):
        vq.ProductQuantizer.from_bytes(good[:-1])
    flipped = bytearray(good)
    flipped[len(good) - 10] ^= 0xFF
    with pytest.raises(vq.VqError, match="<memory>"):
        vq.ProductQuantizer.from_bytes(bytes(flipped))
    with pytest.raises(vq.VqError):
        vq.ProductQuantizer.from_bytes(b"")
    with pytest.raises(vq.VqError, match="holds a product quantizer"):
        vq.ScalarQuantizer.from_bytes(good)
    rng = np.random.default_rng(5)
    for _ in range(200):
        junk = bytearray(good)
        for pos in rng.integers(0, len(good), size=3):
            junk[int(pos)] = int(rng.integers(0, 256))
        try:
            vq.ProductQuantizer.from_bytes(bytes(junk))
        except vq.VqError:
            pass
    with pytest.raises(OSError, match="no-such-dir"):
        vq.ProductQuantizer.load("/no-such-dir/model.vqm")


def test_read_only_input_is_borrowed(pq: vq.ProductQuantizer, x: np.ndarray) -> None:
    # Inputs are only read: a read-only array is borrowed like any other.
    ro = x.copy()
    ro.setflags(write=False)
    assert pq.encode(ro).shape == (50, 6)
