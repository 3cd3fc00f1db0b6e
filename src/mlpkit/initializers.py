"""Initial weights: the "small random numbers" of the lectures and the modern scalings.

Each initialiser takes the layer's ``(n_inputs, n_outputs)`` and a ``numpy.random.Generator``
so that a seed reproduces the same network bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["INITIALIZERS", "get_initializer", "glorot", "he", "normal", "uniform"]

Initializer = Callable[[int, int, np.random.Generator], np.ndarray]


def uniform(n_inputs: int, n_outputs: int, rng: np.random.Generator) -> np.ndarray:
    """U(−0.05, 0.05): the textbook "small random numbers"."""
    return rng.uniform(-0.05, 0.05, size=(n_inputs, n_outputs))


def normal(n_inputs: int, n_outputs: int, rng: np.random.Generator) -> np.ndarray:
    """N(0, 1/n_inputs): Nielsen's improved initialisation (standard deviation 1/√n_inputs)."""
    return rng.normal(0.0, 1.0 / np.sqrt(n_inputs), size=(n_inputs, n_outputs))


def glorot(n_inputs: int, n_outputs: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform: U(−l, l) with l = √(6 / (n_inputs + n_outputs))."""
    limit = np.sqrt(6.0 / (n_inputs + n_outputs))
    return rng.uniform(-limit, limit, size=(n_inputs, n_outputs))


def he(n_inputs: int, n_outputs: int, rng: np.random.Generator) -> np.ndarray:
    """He normal: N(0, 2/n_inputs), for ReLU layers."""
    return rng.normal(0.0, np.sqrt(2.0 / n_inputs), size=(n_inputs, n_outputs))


INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "normal": normal,
    "glorot": glorot,
    "xavier": glorot,
    "he": he,
}


def get_initializer(init: str | Initializer) -> Initializer:
    """Return the initialiser for a registered name, or a callable unchanged."""
    if callable(init):
        return init
    if isinstance(init, str) and init.lower() in INITIALIZERS:
        return INITIALIZERS[init.lower()]
    raise ValueError(f"init must be one of {sorted(INITIALIZERS)} or a callable, got {init!r}")
