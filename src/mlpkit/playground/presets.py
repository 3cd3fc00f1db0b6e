"""The lectures' worked examples as playground presets: the network with the lecture's own
weights and the lecture's data, so the lecture panel shows the numbers the lecture prints.

``backprop-2-2-2``: Mazur's 2-2-2 sigmoid network (Merceron lecture), input (0.05, 0.10),
targets (0.01, 0.99), η = 0.5 (see :func:`mlpkit.worked_example` ``"backprop-2-2-2"``).
``momentum-2-2-1``: CS 445's 2-2-1 sigmoid network, every weight 0.1, input (1, 0), target
0.9, η = 0.2, α = 0.9 (``"momentum-2-2-1"``): the second single-sample step shows the
momentum term.
``xor-step``: XOR from hand-set step (Heaviside) neurons,
:func:`mlpkit.logic_gate_network` ``("xor")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import Dense
from ..lectures.perceptron import logic_gate_network
from ..network import Network

__all__ = ["PRESETS", "Preset", "preset"]


@dataclass
class Preset:
    """A preset: its settings, network, data (train = test) and heatmap square."""

    settings: dict
    network: Network
    X: np.ndarray  # (n_points, 2) coordinates = the network's inputs x1, x2
    T: np.ndarray  # (n_points, n_outputs) targets
    labels: np.ndarray  # (n_points,) what the page colours the points by
    domain: tuple[float, float]


def _dense(weights, biases, activation: str) -> Dense:
    weights = np.asarray(weights, dtype=np.float64)
    layer = Dense(weights.shape[0], weights.shape[1], activation=activation, dtype=np.float64)
    layer.weights = weights
    layer.biases = biases
    return layer


def backprop_2_2_2() -> Preset:
    # W[i, j] is input i → unit j: w1..w4 input → hidden, w5..w8 hidden → output (Mazur)
    network = Network([_dense([[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35], "sigmoid"),
                       _dense([[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60], "sigmoid")])
    settings = {"features": ["x1", "x2"], "hidden": [2], "activation": "sigmoid",
                "learning_rate": 0.5, "loss": "squared_error", "targets": "01",
                "optimizer": "sgd", "momentum": 0.0, "regularization": "none",
                "batch_mode": "online"}  # fmt: skip
    X = np.array([[0.05, 0.10]])
    return Preset(settings, network, X, np.array([[0.01, 0.99]]), np.array([0.99]),
                  (-0.5, 0.5))


def momentum_2_2_1() -> Preset:
    network = Network([_dense(np.full((2, 2), 0.1), [0.1, 0.1], "sigmoid"),
                       _dense(np.full((2, 1), 0.1), [0.1], "sigmoid")])
    settings = {"features": ["x1", "x2"], "hidden": [2], "activation": "sigmoid",
                "learning_rate": 0.2, "momentum": 0.9, "loss": "squared_error",
                "targets": "0109", "optimizer": "sgd", "regularization": "none",
                "batch_mode": "online"}  # fmt: skip
    X = np.array([[1.0, 0.0]])
    return Preset(settings, network, X, np.array([[0.9]]), np.array([0.9]), (-0.5, 1.5))


def xor_step() -> Preset:
    settings = {"features": ["x1", "x2"], "hidden": [3], "activation": "step",
                "targets": "01", "loss": "squared_error", "optimizer": "sgd",
                "batch_mode": "online", "regularization": "none"}  # fmt: skip
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    return Preset(settings, logic_gate_network("xor"), X, y.reshape(-1, 1), y, (-0.5, 1.5))


PRESETS = {"backprop-2-2-2": backprop_2_2_2, "momentum-2-2-1": momentum_2_2_1,
           "xor-step": xor_step}


def preset(name: str) -> Preset:
    """The preset ``name`` (a key of :data:`PRESETS`), freshly built."""
    if name not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
    return PRESETS[name]()
