"""Seeded 2-D toy problems: logic-gate truth tables, the TensorFlow Playground's data sets
and the lecture's parabola against random points.

Every generator returns float64 inputs ``X`` of shape (n, 2) and int64 labels ``y``; the same
seed gives the same data. :data:`TOY_DATASETS` holds them by name for
:func:`make_toy_dataset`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..validation import as_generator, check_number, check_positive_int

__all__ = [
    "TOY_DATASETS",
    "circle",
    "gaussians",
    "logic_gate",
    "make_toy_dataset",
    "parabola_vs_random",
    "spiral",
    "xor",
    "xor_quadrants",
]

Seed = int | np.random.Generator | None


def _check(n_samples: int, noise: float, minimum: int = 2) -> None:
    check_positive_int("n_samples", n_samples, minimum=minimum)
    check_number("noise", noise, low=0.0)


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


_GATES = {
    "and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0), "xor": (0, 1, 1, 0), "xnor": (1, 0, 0, 1),
}  # fmt: skip
_TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def logic_gate(
    name: str, n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a 2-input logic gate: and, or, nand, nor, xor or xnor.

    With ``n_samples=None`` the 4 rows (0,0), (0,1), (1,0), (1,1) in this order; otherwise
    ``n_samples`` rows cycling through the table, shuffled. ``noise`` adds Gaussian noise of
    that standard deviation to the inputs (labels unchanged).

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2).
    y : numpy.ndarray
        int64 of shape (n,), 0 or 1.
    """
    if name not in _GATES:
        raise ValueError(f"name must be one of {sorted(_GATES)}, got {name!r}")
    _check(4 if n_samples is None else n_samples, noise, minimum=1)
    rng = as_generator(seed)
    idx = np.arange(4) if n_samples is None else rng.permutation(np.arange(n_samples) % 4)
    X = _TRUTH_INPUTS[idx]
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return X, np.array(_GATES[name], dtype=np.int64)[idx]


def xor(
    n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """XOR's truth table: X of shape (4, 2), y = [0, 1, 1, 0]. See :func:`logic_gate`."""
    return logic_gate("xor", n_samples, noise=noise, seed=seed)


# The TensorFlow Playground's 2-D data sets (playground.tensorflow.org), with coordinates
# divided by 5 so that they lie about in [-1, 1]^2, and labels 1/-1 mapped to 1/0.


def circle(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """A disc (label 1, radius < 0.5) inside a ring (label 0, radius 0.7 to 1).

    ``noise`` shifts each point by up to ``noise`` in x and y (uniform); the label is that of
    the shifted point, so noise blurs the boundary. Returns shuffled float64 ``X`` (n, 2) and
    int64 ``y`` (n,), half of each class without noise.
    """
    _check(n_samples, noise)
    rng = as_generator(seed)
    n_in = n_samples // 2
    radius = np.concatenate([rng.uniform(0, 0.5, n_in), rng.uniform(0.7, 1.0, n_samples - n_in)])
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    if not noise:
        return _shuffled(rng, X, np.arange(n_samples) < n_in)
    X += rng.uniform(-1, 1, X.shape) * noise
    return _shuffled(rng, X, np.hypot(X[:, 0], X[:, 1]) < 0.5)


def xor_quadrants(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points in the four quadrants, label 1 where x*y >= 0 (1st and 3rd), else 0.

    Points keep 0.06 away from the axes; ``noise`` shifts them by up to ``noise`` (uniform)
    and the label follows the shifted point. Balanced classes without noise.
    """
    _check(n_samples, noise)
    rng = as_generator(seed)
    n_pos = n_samples // 2
    X = rng.uniform(0.06, 1.06, (n_samples, 2)) * rng.choice([-1.0, 1.0], (n_samples, 1))
    X[n_pos:, 1] *= -1  # first half same signs (x*y > 0), second half opposite signs
    X += rng.uniform(-1, 1, X.shape) * noise
    return _shuffled(rng, X, X[:, 0] * X[:, 1] >= 0)


def gaussians(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: label 1 around (0.4, 0.4), label 0 around (-0.4, -0.4).

    The standard deviation grows with ``noise`` from 0.14 (noise 0) to 0.4 (noise 1), as in
    the Playground (variance 0.5 to 4 before scaling). Half of the samples in each class.
    """
    _check(n_samples, noise)
    rng = as_generator(seed)
    n_pos = n_samples // 2
    std = math.sqrt(0.5 + 3.5 * noise) / 5
    centre = np.where(np.arange(n_samples) < n_pos, 0.4, -0.4)[:, None]
    X = centre + rng.normal(0, std, (n_samples, 2))
    return _shuffled(rng, X, np.arange(n_samples) < n_pos)


def spiral(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.75 turns (label 1, and label 0 turned by 180 degrees).

    ``noise`` shifts each point by up to ``noise / 5`` (uniform). Half of the samples per class.

    The classes are point reflections of each other (x → −x). With mlpkit's zero initial
    biases and tanh hidden units this symmetry can hold a network on a plateau: 2-32-32-1
    with Glorot weights and Adam (0.01, batch 32) stays at a loss of 0.665 and about 59%
    accuracy for 1,000 epochs, and PyTorch started from the same weights stays there too.
    ReLU units, ``init="he"`` or ``"normal"``, or biases set to small random numbers reach
    99.5% or more on 400 points.
    """
    _check(n_samples, noise)
    rng = as_generator(seed)
    parts = []
    for n, delta in ((n_samples // 2, 0.0), (n_samples - n_samples // 2, np.pi)):
        frac = np.arange(n) / n
        t = 1.75 * frac * 2 * np.pi + delta
        parts.append(np.column_stack([frac * np.sin(t), frac * np.cos(t)]))
    X = np.concatenate(parts) + rng.uniform(-1, 1, (n_samples, 2)) * noise / 5
    return _shuffled(rng, X, np.arange(n_samples) < n_samples // 2)


def _range(name: str, value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair of numbers (low, high), got {value!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be finite with low < high, got {value!r}")
    return low, high


def parabola_vs_random(
    n_samples: int = 10000,
    *,
    noise: float = 0.0,
    order: str = "random_first",
    seed: Seed = None,
    x_range: tuple[float, float] = (-1.0, 1.0),
    y_range: tuple[float, float] = (0.0, 1.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Points on the parabola y = x^2 (label 1) against uniform random points (label 0).

    ``n_samples // 2`` points (x, x^2) with x uniform in ``x_range`` (``noise``: Gaussian
    noise of that standard deviation added to y), and the rest uniform in the rectangle
    ``x_range`` x ``y_range``. The lecture (Merceron 004, slide 21) uses such a set, in its
    default order, to show that online training without shuffling fails: the network mostly
    learns the class it saw last. Its sample rows, (37.66, 1418.25) on the parabola and
    (84.65, 222.071) random, fit ``x_range=(0, 100)``, ``y_range=(0, 10000)``.

    Parameters
    ----------
    n_samples : int, default 10000
    noise : float, default 0.0
    order : {"random_first", "parabola_first", "shuffled"}, default "random_first"
        All random points, then all parabola points; the reverse; or shuffled.
    seed : int, numpy Generator or None
    x_range : (float, float), default (-1, 1)
        Interval of x for both classes.
    y_range : (float, float), default (0, 1)
        Interval of y for the random points.

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n_samples, 2), columns x and y (not standardised).
    y : numpy.ndarray
        int64 of shape (n_samples,).
    """
    _check(n_samples, noise)
    if order not in ("random_first", "parabola_first", "shuffled"):
        raise ValueError(
            f"order must be 'random_first', 'parabola_first' or 'shuffled', got {order!r}"
        )
    x_low, x_high = _range("x_range", x_range)
    y_low, y_high = _range("y_range", y_range)
    rng = as_generator(seed)
    n_par = n_samples // 2
    n_rand = n_samples - n_par
    random = np.column_stack(
        [rng.uniform(x_low, x_high, n_rand), rng.uniform(y_low, y_high, n_rand)]
    )
    x = rng.uniform(x_low, x_high, n_par)
    parabola = np.column_stack([x, x**2 + (rng.normal(0, noise, n_par) if noise else 0.0)])
    y_random, y_parabola = np.zeros(n_rand, np.int64), np.ones(n_par, np.int64)
    if order == "parabola_first":
        return np.concatenate([parabola, random]), np.concatenate([y_parabola, y_random])
    X, y = np.concatenate([random, parabola]), np.concatenate([y_random, y_parabola])
    return _shuffled(rng, X, y) if order == "shuffled" else (X, y)


#: Toy problems by name, each called as ``f(n_samples, noise=..., seed=...)``.
TOY_DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "xor": xor,
    **{g: functools.partial(logic_gate, g) for g in _GATES if g != "xor"},
    "circle": circle,
    "xor_quadrants": xor_quadrants,
    "gaussians": gaussians,
    "spiral": spiral,
    "parabola_vs_random": parabola_vs_random,
}


def make_toy_dataset(
    name: str, n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the toy problem ``name`` from :data:`TOY_DATASETS` (its default size if None)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"name must be one of {sorted(TOY_DATASETS)}, got {name!r}")
    kwargs: dict[str, Any] = {"noise": noise, "seed": seed}
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    return TOY_DATASETS[name](**kwargs)
