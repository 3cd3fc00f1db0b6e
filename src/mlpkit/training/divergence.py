"""Numerical faults: a loss or gradient that became NaN or infinite stops training.

:class:`TrainingDivergedError` names where it happened; the engines tell, once per batch,
whether every gradient is finite (the fast engine's cheap bound is
:class:`mlpkit.fast.engine.GradientCheck`), so that a bad step is never taken.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TrainingDivergedError", "all_finite", "finite"]


class TrainingDivergedError(FloatingPointError):
    """The loss or a gradient became NaN or infinite; the network keeps its last finite weights."""

    def __init__(self, epoch: int, batch: int, last_finite_loss: float | None,
                 learning_rate: float, quantity: str = "loss", value: float = math.nan) -> None:
        self.epoch, self.batch, self.last_finite_loss = epoch, batch, last_finite_loss
        self.quantity = quantity
        last = "none" if last_finite_loss is None else f"{last_finite_loss:.6g}"
        super().__init__(
            f"training diverged: the {quantity} became {value} in epoch {epoch + 1}, batch "
            f"{batch + 1} (last finite loss: {last}); the network keeps its last finite "
            f"weights. Try a learning rate smaller than {learning_rate:g}, scaled inputs, or "
            "gradient-friendlier settings (e.g. softmax + cross-entropy)"
        )


def finite(array: np.ndarray, chunk_bytes: int = 1 << 20) -> bool:
    """``np.all(np.isfinite(array))`` without a boolean copy of the whole array: a data set of
    60,000 × 784 would need a 45 MB temporary; this checks about 1 MB of rows at a time."""
    if array.dtype.kind != "f":
        return True
    flat = array.reshape(array.shape[0], -1)
    rows = max(1, chunk_bytes // max(1, flat.shape[1] * flat.itemsize))
    return all(np.isfinite(flat[i:i + rows]).all() for i in range(0, flat.shape[0], rows))


def all_finite(parameters) -> bool:
    """True when every parameter is finite (one sum per array: inf − inf and NaN stay NaN)."""
    return math.isfinite(sum(float(p.sum(dtype=np.float64)) for p, _ in parameters))
