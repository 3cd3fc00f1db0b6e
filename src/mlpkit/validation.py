"""Input checks shared by the public entry points (training data, model sizes).

Checking at the boundary turns a mistake into one clear ``ValueError``/``TypeError`` that names
the argument, what was expected and what was given, instead of a traceback from deep inside
the forward pass or an out-of-memory crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

__all__ = ["DEFAULT_MAX_MODEL_BYTES", "InvalidInputError", "check_model_size", "format_bytes"]

#: Largest parameter memory (weights, gradients and optimiser state) a model may ask for.
DEFAULT_MAX_MODEL_BYTES = 4 * 2**30

# weights + gradients + up to two optimiser buffers (Adam's moments)
_COPIES = 4


class InvalidInputError(ValueError):
    """Data or a hyper-parameter given to mlpkit is unusable (the message says why)."""


def format_bytes(n: float) -> str:
    """``7.3 TB``-style size (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} EB"  # pragma: no cover


def check_model_size(
    sizes: Sequence[int],
    dtype: np.typing.DTypeLike = np.float32,
    max_bytes: int = DEFAULT_MAX_MODEL_BYTES,
) -> int:
    """Refuse layer sizes whose parameters would not fit in ``max_bytes``; return the count.

    Computed with Python integers before anything is allocated, counting weights, biases,
    their gradients and two optimiser buffers.

    Parameters
    ----------
    sizes : sequence of int
        Inputs, then units per layer (as for :func:`mlpkit.mlp`).
    dtype : float dtype
    max_bytes : int
        The cap (default 4 GiB).

    Raises
    ------
    InvalidInputError
        "model would need 7.3 TB; limit is 4.0 GB (max_bytes)".
    """
    sizes = [int(s) for s in sizes]
    n_parameters = sum((n_in + 1) * n_out for n_in, n_out in pairwise(sizes))
    needed = n_parameters * np.dtype(dtype).itemsize * _COPIES
    if needed > max_bytes:
        raise InvalidInputError(
            f"model would need {format_bytes(needed)} for {n_parameters:,} parameters "
            f"(layer sizes {sizes}); limit is {format_bytes(max_bytes)} (max_bytes). Use "
            "smaller layers"
        )
    return n_parameters
