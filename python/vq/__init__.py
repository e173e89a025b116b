"""vq: vector quantization (SQ, PQ, OPQ, RaBitQ, 4-bit PQ fast scan) over NumPy arrays.

Inputs are borrowed without a copy when they are NumPy arrays of the expected dtype
(float32 vectors, uint8 codes, int64 ids), C-contiguous, of the expected shape; anything
else raises TypeError (dtype) or ValueError (shape, order) naming what was expected.
Outputs are new arrays. Every call that does work releases the GIL. Errors the library
reports are ``vq.VqError`` (a ValueError) carrying its message.
"""

from vq._vq import (
    OpqQuantizer,
    PackedCodes,
    ProductQuantizer,
    RabitqQuantizer,
    ScalarQuantizer,
    VqError,
    __version__,
    knn,
    pairwise_distortion,
    recall_at_k,
    reconstruction_mse,
    simd_available,
    simd_level,
)

__all__ = [
    "OpqQuantizer",
    "PackedCodes",
    "ProductQuantizer",
    "RabitqQuantizer",
    "ScalarQuantizer",
    "VqError",
    "__version__",
    "knn",
    "pairwise_distortion",
    "recall_at_k",
    "reconstruction_mse",
    "simd_available",
    "simd_level",
]
