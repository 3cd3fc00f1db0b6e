"""The playground's data: the TensorFlow Playground's four classification sets and two
regression sets, in its coordinates (points in about [-5, 5]², heatmaps over [-6, 6]²), the
seven input features, the train/test split and the targets.

The classification sets are :mod:`mlpkit.data.toydata`'s generators (which scale the
Playground's coordinates by 1/5) scaled back by 5; the two regression sets are written here.
Everything is NumPy only, so a downloaded script can import it without the web server.
"""

from __future__ import annotations

import math

import numpy as np

from ..data import toydata

__all__ = [
    "CLASSIFICATION",
    "DOMAIN",
    "FEATURES",
    "REGRESSION",
    "feature_matrix",
    "make_dataset",
    "split",
    "targets",
]

#: the heatmaps' square: x1 and x2 from -6 to 6, as in the Playground
DOMAIN = (-6.0, 6.0)
SCALE = 5.0  # toydata's coordinates are the Playground's divided by 5

CLASSIFICATION = {
    "circle": toydata.circle,
    "xor": toydata.xor_quadrants,
    "gauss": toydata.gaussians,
    "spiral": toydata.spiral,
}
REGRESSION = ("reg-plane", "reg-gauss")

#: input features by name: each maps the coordinates x1, x2 (arrays) to one input column
FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1sq": lambda x1, x2: x1 * x1,
    "x2sq": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sinx1": lambda x1, x2: np.sin(x1),
    "sinx2": lambda x1, x2: np.sin(x2),
}
FEATURE_LABELS = {
    "x1": "x₁", "x2": "x₂", "x1sq": "x₁²", "x2sq": "x₂²", "x1x2": "x₁x₂",
    "sinx1": "sin(x₁)", "sinx2": "sin(x₂)",
}  # fmt: skip

# centres and signs of the bumps of "reg-gauss"
_BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
          (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))  # fmt: skip


def _regression(name: str, n_points: int, noise: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-6, 6]² and a target in [-1, 1] read at the point shifted by noise."""
    X = rng.uniform(-6.0, 6.0, (n_points, 2))
    shifted = X + rng.uniform(-6.0, 6.0, X.shape) * noise
    x1, x2 = shifted[:, 0], shifted[:, 1]
    if name == "reg-plane":
        y = (x1 + x2) / 12.0
    else:
        y = np.zeros(n_points)
        for cx, cy, sign in _BUMPS:
            y += sign * np.exp(-((x1 - cx) ** 2 + (x2 - cy) ** 2) / (2 * 1.2**2))
    return X, np.clip(y, -1.0, 1.0)


def make_dataset(name: str, n_points: int, noise: float,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points and labels of data set ``name``, in random order.

    Parameters
    ----------
    name : str
        ``circle``, ``xor``, ``gauss``, ``spiral`` (labels 0/1) or ``reg-plane``, ``reg-gauss``
        (labels in [-1, 1]).
    n_points : int
    noise : float
        The Playground's noise as a fraction, 0 to 0.5.
    seed : int

    Returns
    -------
    X : array (n_points, 2)
        Coordinates x1, x2 in the Playground's units.
    y : array (n_points,)
        int64 class labels for classification, float64 values for regression.
    """
    if name in CLASSIFICATION:
        X, y = CLASSIFICATION[name](n_points, noise=noise, seed=seed)
        return X * SCALE, y
    if name in REGRESSION:
        return _regression(name, n_points, noise, np.random.default_rng(seed))
    raise ValueError(
        f"dataset must be one of {[*CLASSIFICATION, *REGRESSION]}, got {name!r}"
    )


def split(X: np.ndarray, y: np.ndarray, train_fraction: float):
    """The first ``round(n * train_fraction)`` points (at least one) for training, the rest for
    testing: ``X_train, y_train, X_test, y_test``."""
    n_train = min(max(1, round(len(y) * train_fraction)), len(y))
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def feature_matrix(X: np.ndarray, features) -> np.ndarray:
    """The network's inputs (n_points, len(features)) for coordinates X (n_points, 2)."""
    X = np.asarray(X, dtype=np.float64)
    columns = [FEATURES[name](X[:, 0], X[:, 1]) for name in features]
    return np.column_stack(columns) if columns else np.empty((len(X), 0))


#: how class labels 0/1 become targets, and the output activation that reaches them
TARGETS = {
    "pm1": ((-1.0, 1.0), "tanh"),
    "01": ((0.0, 1.0), "sigmoid"),
    "0109": ((0.1, 0.9), "sigmoid"),
}


def targets(y: np.ndarray, problem: str, encoding: str) -> np.ndarray:
    """Targets (n_points, 1): regression values as they are, class labels 0/1 as the two
    numbers of ``encoding`` (``pm1`` −1/+1, ``01`` 0/1, ``0109`` the lecture's 0.1/0.9)."""
    if problem == "regression":
        return np.asarray(y, dtype=np.float64).reshape(-1, 1)
    low, high = TARGETS[encoding][0]
    return np.where(np.asarray(y).reshape(-1, 1) == 1, high, low).astype(np.float64)


def feature_range(name: str) -> float:
    """The largest |value| of a feature over the heatmap square (to scale its heatmap)."""
    top = DOMAIN[1]
    return {"x1sq": top * top, "x2sq": top * top, "x1x2": top * top,
            "sinx1": 1.0, "sinx2": 1.0}.get(name, top) or math.inf  # fmt: skip
