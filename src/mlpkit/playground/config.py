"""The playground's settings: one flat, JSON-able record, checked field by field.

Every value arriving from the page goes through :meth:`PlaygroundConfig.from_dict`, which
rejects unknown fields, wrong types and values outside their bounds with a message that names
the field, what it expects and what it got.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from .datasets import CLASSIFICATION, FEATURES, REGRESSION, TARGETS

__all__ = ["LIMITS", "LIVE_FIELDS", "REAL_LIMITS", "PlaygroundConfig"]

#: bounds of the integer fields (inclusive)
LIMITS: dict[str, tuple[int, int]] = {
    "n_points": (10, 2000),
    "noise": (0, 50),
    "train_ratio": (10, 90),
    "batch_size": (1, 100),
    "seed": (0, 2**31 - 1),
    "hidden_layers": (0, 6),
    "units": (1, 8),
    "epochs_per_update": (1, 50),
}
#: bounds of the real-valued fields (inclusive)
REAL_LIMITS: dict[str, tuple[float, float]] = {
    "learning_rate": (1e-6, 10.0),
    "reg_rate": (0.0, 10.0),
    "momentum": (0.0, 0.99),
}
CHOICES = {
    "dataset": (*CLASSIFICATION, *REGRESSION),
    "batch_mode": ("online", "minibatch", "fullbatch"),
    "activation": ("tanh", "sigmoid", "relu", "linear", "step"),
    "regularization": ("none", "L1", "L2"),
    "loss": ("squared_error", "cross_entropy"),
    "targets": tuple(TARGETS),
    "optimizer": ("sgd", "adam"),
    "init": ("uniform", "normal", "glorot", "he"),
    "preset": ("", "backprop-2-2-2", "momentum-2-2-1", "xor-step"),
}
#: fields that change the optimiser, the batches or the epochs per update of a running
#: network (no reset)
LIVE_FIELDS = ("learning_rate", "regularization", "reg_rate", "momentum", "batch_mode",
               "batch_size", "epochs_per_update")  # fmt: skip


@dataclass(frozen=True)
class PlaygroundConfig:
    """Data, network and training settings of one playground session (defaults: the
    TensorFlow Playground's, plus mlpkit's extras)."""

    dataset: str = "circle"
    n_points: int = 500
    noise: int = 0  # percent, 0..50
    train_ratio: int = 50  # percent of the points used for training
    features: tuple[str, ...] = ("x1", "x2")
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    regularization: str = "none"
    reg_rate: float = 0.0
    batch_mode: str = "minibatch"
    batch_size: int = 10
    loss: str = "squared_error"
    targets: str = "pm1"
    optimizer: str = "sgd"
    momentum: float = 0.0
    init: str = "glorot"
    seed: int = 1
    preset: str = ""
    epochs_per_update: int = 1  # epochs of one update (play, step): one "train" message

    # -- derived facts ---------------------------------------------------------------------
    @property
    def problem(self) -> str:
        return "regression" if self.dataset in REGRESSION else "classification"

    @property
    def batch(self) -> int | None:
        """``batch_size`` argument of :func:`mlpkit.train`: 1, k or None (full batch)."""
        return {"online": 1, "fullbatch": None}.get(self.batch_mode, self.batch_size)

    @property
    def output_activation(self) -> str:
        if self.problem == "regression":
            return "identity"
        return TARGETS[self.targets][1]

    @property
    def mlpkit_loss(self) -> str:
        return "binary_cross_entropy" if self.loss == "cross_entropy" else "squared_error"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["features"], data["hidden"] = list(self.features), list(self.hidden)
        return data

    def changed(self, other: PlaygroundConfig) -> set[str]:
        """Names of the fields whose values differ from ``other``'s."""
        return {f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)}

    # -- checking --------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data, base: PlaygroundConfig | None = None) -> PlaygroundConfig:
        """A config from ``base`` (default: the defaults) with the fields of ``data`` changed.

        Raises
        ------
        TypeError, ValueError
            Naming the field, what it expects and what it got.
        """
        if not isinstance(data, dict):
            raise TypeError(f"config must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"config has unknown field(s) {unknown[:5]}; known: {sorted(known)}")
        values = {name: _check_field(name, value) for name, value in data.items()}
        config = replace(base or cls(), **values)
        if config.loss == "cross_entropy" and config.problem == "classification" and (
                config.targets == "pm1"):
            raise ValueError("loss 'cross_entropy' needs targets '01' or '0109' (outputs in "
                             "(0, 1) from a sigmoid unit), got targets 'pm1'")
        if config.loss == "cross_entropy" and config.problem == "regression":
            raise ValueError("loss 'cross_entropy' is for classification; regression data set "
                             f"{config.dataset!r} needs loss 'squared_error'")
        return config


def _integer(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r:.40}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value}")
    return value


def _number(name: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r:.40}")
    if not (math.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


def _check_field(name: str, value):
    if name in CHOICES:
        if not isinstance(value, str) or value not in CHOICES[name]:
            raise ValueError(f"{name} must be one of {list(CHOICES[name])}, got {value!r:.60}")
        return value
    if name == "features":
        if not isinstance(value, list) or not 1 <= len(value) <= len(FEATURES):
            raise ValueError(f"features must be a list of 1 to {len(FEATURES)} names of "
                             f"{list(FEATURES)}, got {value!r:.80}")
        if any(not isinstance(v, str) or v not in FEATURES for v in value) or (
                len(set(value)) != len(value)):
            raise ValueError(f"features must name each of {list(FEATURES)} at most once, got "
                             f"{value!r:.80}")
        return tuple(v for v in FEATURES if v in value)  # in the page's order
    if name == "hidden":
        low, high = LIMITS["hidden_layers"]
        if not isinstance(value, list) or not low <= len(value) <= high:
            raise ValueError(f"hidden must be a list of {low} to {high} layer sizes, got "
                             f"{value!r:.80}")
        return tuple(_integer("hidden layer size", v, *LIMITS["units"]) for v in value)
    if name in REAL_LIMITS:
        return _number(name, value, *REAL_LIMITS[name])
    return _integer(name, value, *LIMITS[name])
