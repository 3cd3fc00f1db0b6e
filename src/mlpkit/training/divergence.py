"""Numerical faults: a loss or gradient that became NaN or infinite stops training.

:class:`TrainingDivergedError` names where it happened; :class:`GradientCheck` decides cheaply,
once per batch, whether every gradient is finite, so that a bad step is never taken.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from ..network import Network

__all__ = ["GradientCheck", "TrainingDivergedError", "all_finite", "finite"]


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


class GradientCheck:
    """Whether every ∂E/∂W and ∂E/∂b of the last backward pass is finite, cheaply.

    Summing every gradient (the plain test) reads all parameters once per batch: for the
    784-100-10 lecture net that cost as much as the update itself. The gradients of a Dense
    layer come from its input a_prev and its δ: ∂E/∂W = a_prevᵀ δ and ∂E/∂b = Σ_samples δ, so
    by Cauchy–Schwarz every entry is at most √(max(‖a_prev‖², n)) · ‖δ‖ (Frobenius norms, n
    samples). When that bound is below half the dtype's largest number, every gradient is
    finite; it takes two BLAS dot products over a_prev and δ, which for small batches are much
    smaller than W (and for the first layer ‖a_prev‖² ≤ ‖X‖², found once per call of
    ``train``). Only when the bound fails (NaN or inf in a_prev or δ, or merely huge values)
    are the gradients themselves summed, and that exact test decides, so the outcome is always
    the plain test's. A layer whose batch of a_prev and δ is larger than twice its W (wide
    batches, narrow layers) is summed directly, whichever is cheaper.
    """

    def __init__(self, network: Network, input_norm2: float = math.inf) -> None:
        self.parameters = network.parameters()
        limit = 0.5 * float(np.finfo(network.dtype).max)
        self.limit2 = min(limit * limit, sys.float_info.max)  # bound² must stay below this
        self.ones: dict[int, np.ndarray] = {}
        # (layer, batch rows from which summing W is cheaper, gradients, fixed ‖a_prev‖²)
        self.plan = []
        for i, layer in enumerate(network.layers):
            if layer.trainable:
                n_in, n_out = layer.n_inputs, layer.n_outputs
                known = input_norm2 if i == 0 and math.isfinite(input_norm2) else None
                self.plan.append((layer, 2 * n_in * n_out / (n_in + n_out),
                                  [grad for _, grad in layer.parameters()], known))

    def _sum(self, grad: np.ndarray) -> float:
        """Σ of a gradient as a BLAS dot with ones (much faster than ``ndarray.sum``)."""
        ones = self.ones.get(grad.size)
        if ones is None or ones.dtype != grad.dtype:
            ones = self.ones[grad.size] = np.ones(grad.size, dtype=grad.dtype)
        return float(np.dot(grad.reshape(-1), ones))

    def bounded(self) -> bool:
        """True if the norm bound shows every gradient finite (False: not shown, test exactly)."""
        vdot, isfinite, limit2 = np.vdot, math.isfinite, self.limit2
        for layer, rows_direct, grads, a_norm2 in self.plan:
            delta = getattr(layer, "last_delta", None)
            if delta is None:
                return False
            rows = delta.shape[0]
            if rows >= rows_direct:
                for grad in grads:
                    if not isfinite(self._sum(grad)):
                        return False
                continue
            if a_norm2 is None:
                a_norm2 = float(vdot(layer.a_prev, layer.a_prev))
            if not max(a_norm2, rows) * float(vdot(delta, delta)) < limit2:  # NaN: False
                return False
        return True

    def total(self) -> float:
        """Σ over every gradient entry (NaN or ±inf exactly when some gradient is not finite)."""
        return sum(self._sum(grad) for _, grad in self.parameters)
