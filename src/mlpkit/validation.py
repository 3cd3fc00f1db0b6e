"""Input checks shared by the public entry points (training data, model sizes).

Checking at the boundary turns a mistake into one clear ``ValueError``/``TypeError`` that names
the argument, what was expected and what was given, instead of a traceback from deep inside
the forward pass or an out-of-memory crash.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

__all__ = [
    "DEFAULT_MAX_MODEL_BYTES",
    "InvalidInputError",
    "as_generator",
    "check_model_size",
    "check_number",
    "check_positive_int",
    "check_probability",
    "check_sample_weight",
    "format_bytes",
]

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


# -- argument checks and the seed rule, one place for the whole package ---------------------
# Used by layers, network, optimizers, training, data.toydata, data.preprocessing,
# lectures.forward_mode, lectures.perceptron and plots. Still written locally: sklearn/_base.py
# (scikit-learn's own check_random_state and parameter constraints, kept for drop-in
# behaviour) and cli/main.py (argparse's positive integers).


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The seed-to-generator rule: a Generator is used as it is (so one generator can draw for
    several consumers in turn), an int or None seeds a new one (None: from the OS)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool | float | str):
        raise TypeError(
            f"seed must be an int, a numpy.random.Generator or None, got "
            f"{type(seed).__name__} {seed!r}"
        )
    return np.random.default_rng(seed)


def check_positive_int(name: str, value: object, *, allow_none: bool = False,
                       minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (NumPy integers too, bools refused); None passes
    through when ``allow_none``. TypeError for a non-integer, ValueError for a small one."""
    expected = f"an int >= {minimum}" if minimum != 1 else "a positive int"
    if allow_none:
        expected += " or None"
        if value is None:
            return value  # type: ignore[return-value]
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def check_number(name: str, value: object, *, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite float in the interval [low, high] (ends open as asked)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    number = float(value)
    ok = math.isfinite(number) and (number > low if low_open else number >= low) and (
        number < high if high_open else number <= high
    )
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(
            f"{name} must be a finite number in {lo}{low}, {high}{hi}, got {number!r}"
        )
    return number


def check_probability(name: str, value: object, *, include_one: bool = False) -> float:
    """``value`` as a float in [0, 1) (or [0, 1] with ``include_one``)."""
    return check_number(name, value, low=0.0, high=1.0, high_open=not include_one)


def check_sample_weight(sample_weight, n_samples: int, name: str = "sample_weight") -> np.ndarray:
    """``sample_weight`` as a float64 array of shape (n_samples,): one weight per sample,
    finite, >= 0, not all 0, with a finite sum. TypeError for non-numbers, ValueError for the
    rest."""
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of numbers, got {type(sample_weight).__name__}"
        ) from error
    if w.shape != (n_samples,):
        raise ValueError(
            f"{name} must have shape ({n_samples},), one weight per sample, got shape {w.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(
            f"{name} must be finite, >= 0 and not all 0, got {float(w[bad[0]])!r} at index "
            f"{bad[0]}"
        )
    if not w.any():
        raise ValueError(f"{name} must be finite, >= 0 and not all 0, got all 0")
    if not math.isfinite(float(w.sum())):
        raise ValueError(f"{name} must have a finite sum, got weights up to {float(w.max())!r}")
    return w
