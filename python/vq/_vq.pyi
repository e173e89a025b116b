"""Type stubs of ``vq._vq``, the compiled part of the ``vq`` package.

Arrays: vectors are float32 of shape (n, dim), codes uint8 of shape (n, code_size), ids
int64, all C-contiguous; such arrays are read in place (no copy). Anything else raises
TypeError (wrong dtype, not an ndarray) or ValueError (wrong rank, width or memory order)
naming what was expected. Every call that does work releases the GIL. Errors the library
reports raise :class:`VqError`, whose message is the library's.
"""

import os
from typing import Literal, TypedDict, Union, final

import numpy as np
import numpy.typing as npt

__version__: str

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]
I64 = npt.NDArray[np.int64]
Metric = Literal["l2", "ip", "cosine"]
Init = Literal["random", "kmeans++", "greedy-kmeans++"]
PathLike = Union[str, "os.PathLike[str]"]

class VqError(ValueError):
    """An input the library rejected; the message names the bad value and the accepted range."""

class PairwiseDistortion(TypedDict):
    """Summary of ``|d̂/d − 1|`` over sampled pairs."""

    mean: float
    median: float
    max: float
    std: float
    pairs: int

@final
class ProductQuantizer:
    """A trained product quantizer: ``m`` sub-quantizers of ``ksub`` centroids. Immutable."""

    @staticmethod
    def train(
        x: F32,
        m: int,
        ksub: int = 256,
        *,
        seed: int = 1234,
        iterations: int = 25,
        tol: float = 0.0,
        init: Init = "random",
        hartigan_passes: int = 0,
        max_points_per_centroid: int = 256,
        threads: int = 0,
        metric: Metric = "l2",
    ) -> "ProductQuantizer":
        """Train on the rows of ``x`` (n, d): k-means per sub-space (sub-space i uses seed + i).

        ``threads`` 0 uses every core; the result does not depend on it.
        """
    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
    @property
    def m(self) -> int:
        """Sub-quantizers."""
    @property
    def ksub(self) -> int:
        """Centroids per sub-quantizer."""
    @property
    def code_size(self) -> int:
        """Bytes per code."""
    @property
    def metric(self) -> Metric:
        """``l2``, ``ip`` or ``cosine``."""
    @property
    def centroids(self) -> F32:
        """Read-only view of the codebooks: (m, ksub, d/m) when m divides d, else flat."""
    def encode(self, x: F32, *, threads: int = 1) -> U8:
        """Codes of the rows of ``x``, (n, code_size); ``threads`` != 1 encodes in parallel (same codes)."""
    def decode(self, codes: U8) -> F32:
        """Reconstructions of ``codes``, (n, d)."""
    def distance_table(self, query: F32) -> F32:
        """The distance table of one query (d,): (m, ksub)."""
    def adc_scan(self, table: F32, codes: U8) -> F32:
        """Each code's sum of the (m, ksub) ``table`` entries it selects: (n,)."""
    def distances(self, query: F32, codes: U8) -> F32:
        """The score of every code for one query (d,): (n,)."""
    def search(self, queries: F32, codes: U8, k: int) -> tuple[F32, I64]:
        """Top-``k`` codes per query as FAISS's ``search``: (distances, labels), (nq, k); -1 past the codes."""
    def pack(self, codes: U8) -> "PackedCodes":
        """Codes packed for fast scan (``ksub <= 16``)."""
    def search_packed(
        self, queries: F32, packed: "PackedCodes", k: int, *, rerank_factor: int = 4
    ) -> tuple[F32, I64]:
        """Fast-scan search: ``k · rerank_factor`` candidates by 8-bit sums, re-ranked (0: none)."""
    def search_packed_refine(
        self, queries: F32, packed: "PackedCodes", k: int, vectors: F32, *, rerank_factor: int = 4
    ) -> tuple[F32, I64]:
        """Fast-scan search re-ranked against ``vectors``, the encoded rows in full precision."""
    def to_bytes(self) -> bytes:
        """The model file's bytes (what ``save`` writes and the C ABI reads)."""
    @staticmethod
    def from_bytes(data: bytes) -> "ProductQuantizer":
        """Read a model file's bytes; VqError for anything but a product quantizer's."""
    def save(self, path: PathLike) -> None:
        """Write the model file (atomically)."""
    @staticmethod
    def load(path: PathLike) -> "ProductQuantizer":
        """Read a model file; OSError if unreadable, VqError if malformed."""

@final
class PackedCodes:
    """A 4-bit product quantizer's codes in the fast-scan block layout. Immutable."""

    @staticmethod
    def from_bytes(pq: ProductQuantizer, n: int, data: bytes) -> "PackedCodes":
        """Packed bytes of ``n`` codes (as ``to_bytes`` gives them), checked against ``pq``."""
    def to_bytes(self) -> bytes:
        """The packed bytes."""
    def unpack(self, pq: ProductQuantizer) -> U8:
        """The plain codes back, (n, code_size)."""
    @property
    def m(self) -> int:
        """Sub-quantizers."""
    def __len__(self) -> int:
        """Codes held."""

@final
class ScalarQuantizer:
    """A trained scalar quantizer, 4, 8 or 16 bits per dimension. Immutable."""

    @staticmethod
    def train(x: F32, bits: int = 8, *, metric: Metric = "l2") -> "ScalarQuantizer":
        """Train the per-dimension ranges on the rows of ``x`` (n, d)."""
    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
    @property
    def bits(self) -> int:
        """Bits per dimension."""
    @property
    def code_size(self) -> int:
        """Bytes per code."""
    @property
    def metric(self) -> Metric:
        """``l2``, ``ip`` or ``cosine``."""
    @property
    def vmin(self) -> F32:
        """Read-only view of the per-dimension minimum, (d,)."""
    @property
    def vmax(self) -> F32:
        """Read-only view of the per-dimension maximum, (d,)."""
    def encode(self, x: F32) -> U8:
        """Codes of the rows of ``x``, (n, code_size)."""
    def decode(self, codes: U8) -> F32:
        """Reconstructions of ``codes``, (n, d)."""
    def distances(self, query: F32, codes: U8) -> F32:
        """The score of every code for one query (d,): (n,)."""
    def search(self, queries: F32, codes: U8, k: int) -> tuple[F32, I64]:
        """Top-``k`` codes per query: (distances, labels), (nq, k)."""
    def to_bytes(self) -> bytes:
        """The model file's bytes."""
    @staticmethod
    def from_bytes(data: bytes) -> "ScalarQuantizer":
        """Read a model file's bytes."""
    def save(self, path: PathLike) -> None:
        """Write the model file (atomically)."""
    @staticmethod
    def load(path: PathLike) -> "ScalarQuantizer":
        """Read a model file."""

@final
class OpqQuantizer:
    """A learned rotation followed by a product quantizer. Immutable."""

    @staticmethod
    def train(
        x: F32,
        m: int,
        ksub: int = 256,
        *,
        d_out: int | None = None,
        niter: int = 50,
        niter_pq: int = 4,
        niter_pq_0: int = 40,
        max_train_points: int = 65536,
        inner_points_per_centroid: int = 1000,
        seed: int = 1234,
        iterations: int = 25,
        tol: float = 0.0,
        init: Init = "random",
        hartigan_passes: int = 0,
        max_points_per_centroid: int = 256,
        threads: int = 1,
        metric: Metric = "l2",
    ) -> "OpqQuantizer":
        """Train the rotation and the PQ on the rows of ``x`` (FAISS's ``OPQMatrix`` defaults)."""
    @property
    def dim(self) -> int:
        """Input dimension."""
    @property
    def d_out(self) -> int:
        """The rotation's output dimension."""
    @property
    def m(self) -> int:
        """Sub-quantizers."""
    @property
    def ksub(self) -> int:
        """Centroids per sub-quantizer."""
    @property
    def code_size(self) -> int:
        """Bytes per code."""
    @property
    def metric(self) -> Metric:
        """``l2``, ``ip`` or ``cosine``."""
    @property
    def rotation(self) -> F32:
        """Read-only view of the rotation, (d_out, d)."""
    @property
    def pq(self) -> ProductQuantizer:
        """A copy of the inner product quantizer (over rotated vectors)."""
    def encode(self, x: F32) -> U8:
        """Codes of the rows of ``x``, (n, code_size)."""
    def decode(self, codes: U8) -> F32:
        """Reconstructions of ``codes``, (n, d)."""
    def distances(self, query: F32, codes: U8) -> F32:
        """The score of every code for one query (d,): (n,)."""
    def search(self, queries: F32, codes: U8, k: int) -> tuple[F32, I64]:
        """Top-``k`` codes per query: (distances, labels), (nq, k)."""
    def to_bytes(self) -> bytes:
        """The model file's bytes."""
    @staticmethod
    def from_bytes(data: bytes) -> "OpqQuantizer":
        """Read a model file's bytes."""
    def save(self, path: PathLike) -> None:
        """Write the model file (atomically)."""
    @staticmethod
    def load(path: PathLike) -> "OpqQuantizer":
        """Read a model file."""

@final
class RabitqQuantizer:
    """A RaBitQ quantizer: a random rotation, 1 to 9 bits per dimension, error bounds. Immutable."""

    @staticmethod
    def train(
        x: F32,
        bits: int = 1,
        *,
        qb: int = 4,
        metric: Metric = "l2",
        seed: int = 1234,
        centroid: F32 | None = None,
        epsilon: float = 1.9,
    ) -> "RabitqQuantizer":
        """Draw the rotation and take the centroid (default: the mean of ``x``'s rows)."""
    @property
    def dim(self) -> int:
        """Dimension of the vectors."""
    @property
    def bits(self) -> int:
        """Bits per dimension."""
    @property
    def qb(self) -> int:
        """The query's bits in the 1-bit estimate (0: float)."""
    @property
    def epsilon(self) -> float:
        """The bounds' confidence parameter."""
    @property
    def code_size(self) -> int:
        """Bytes per code."""
    @property
    def metric(self) -> Metric:
        """``l2``, ``ip`` or ``cosine``."""
    @property
    def rotation(self) -> F32:
        """Read-only view of the rotation, (d, d)."""
    @property
    def centroid(self) -> F32:
        """Read-only view of the centroid, (d,)."""
    def encode(self, x: F32) -> U8:
        """Codes of the rows of ``x``, (n, code_size)."""
    def decode(self, codes: U8) -> F32:
        """Reconstructions of ``codes``, (n, d)."""
    def distances(self, query: F32, codes: U8) -> F32:
        """The estimated score of every code for one query (d,): (n,)."""
    def estimate(self, query: F32, codes: U8) -> tuple[F32, F32]:
        """Full estimates and their intervals' half-widths, (n,) each."""
    def search(self, queries: F32, codes: U8, k: int) -> tuple[F32, I64]:
        """Top-``k`` codes per query by the estimates: (distances, labels), (nq, k)."""
    def search_refine(self, queries: F32, codes: U8, k: int, vectors: F32) -> tuple[F32, I64]:
        """``search`` re-ranked against ``vectors`` (the encoded rows in full precision)."""
    def to_bytes(self) -> bytes:
        """The model file's bytes."""
    @staticmethod
    def from_bytes(data: bytes) -> "RabitqQuantizer":
        """Read a model file's bytes."""
    def save(self, path: PathLike) -> None:
        """Write the model file (atomically)."""
    @staticmethod
    def load(path: PathLike) -> "RabitqQuantizer":
        """Read a model file."""

def knn(queries: F32, rows: F32, k: int, *, metric: Metric = "l2") -> tuple[F32, I64]:
    """Exact k nearest neighbours of each query among ``rows``: (distances, labels), (nq, k)."""

def recall_at_k(truth: I64, found: I64, k: int) -> float:
    """Share of each query's true top-k found in its returned top-k, averaged over queries."""

def reconstruction_mse(original: F32, reconstructed: F32) -> float:
    """The original tool's MSE: mean over rows of each row's sum of squared errors."""

def pairwise_distortion(
    original: F32, reconstructed: F32, num_pairs: int = 1000, seed: int = 42
) -> PairwiseDistortion:
    """``|d̂/d − 1|`` over ``num_pairs`` seeded random pairs of rows."""

def simd_level() -> Literal["avx512", "avx2", "neon", "scalar"]:
    """The SIMD level the kernels run at."""

def simd_available() -> list[str]:
    """The SIMD levels this CPU can run, best first."""

def run_cli(argv: list[str]) -> int:
    """Run ``vq-benchmark`` on ``argv`` (program name first) in this process; its exit status."""

def _bench_rust_pq_search(
    pq: ProductQuantizer, queries: F32, codes: U8, k: int, repeats: int
) -> list[float]:
    """Benchmark reference (bench/bench_pq.py): seconds per library ``search`` call, timed in Rust."""

def _bench_rust_pq_encode(pq: ProductQuantizer, x: F32, repeats: int) -> list[float]:
    """Benchmark reference: seconds per library ``encode`` call, timed in Rust."""
