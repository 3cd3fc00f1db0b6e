"""Loss functions E(a, t) and the output error term δ^L (the first backprop equation).

Every loss is summed over the outputs of a sample and averaged over the samples of the batch
(the lectures' C = 1/K Σ_k …) unless ``reduction="sum"``. ``gradient`` returns ∂E/∂a of that
same number, so the 1/n of the mean is already inside every δ. ``value_and_delta`` gives the
training loop both numbers of a batch from shared intermediate arrays.
"""

from __future__ import annotations

import functools
from typing import ClassVar

import numpy as np

from .activations import Activation

__all__ = [
    "LOSSES",
    "AbsoluteError",
    "BinaryCrossEntropy",
    "CrossEntropy",
    "Loss",
    "PoissonLoss",
    "SquaredError",
    "get_loss",
]

_REDUCTIONS = ("mean", "sum")


class Loss:
    """Base class. Subclasses define ``_per_sample`` and ``_gradient`` (both before reduction).

    Parameters
    ----------
    reduction : {"mean", "sum"}, default "mean"
        Average over the samples of the batch, or sum them.
    """

    name: ClassVar[str] = "loss"
    #: activation name for which δ^L = (a − t) · scale holds exactly (the canonical pair)
    canonical_activation: ClassVar[str | None] = None

    def __init__(self, reduction: str = "mean") -> None:
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    # -- what subclasses implement -------------------------------------------------------
    def _per_sample(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Loss of each sample, summed over its outputs: shape (n_samples,)."""
        raise NotImplementedError

    def _gradient(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """∂(per-sample loss)/∂a, shape of ``a``."""
        raise NotImplementedError

    # -- public interface ------------------------------------------------------------------
    def targets(self, t, n_outputs: int, dtype: np.typing.DTypeLike) -> np.ndarray:
        """Targets as an array of the output's shape (n_samples, n_outputs) and dtype."""
        t = np.asarray(t)
        if t.ndim == 1 and n_outputs == 1:
            t = t.reshape(-1, 1)
        if t.ndim != 2 or t.shape[1] != n_outputs:
            raise ValueError(
                f"targets T must have shape (n_samples, {n_outputs}) to match the network's "
                f"outputs, got shape {t.shape}"
            )
        return np.asarray(t, dtype=dtype)

    def _scale(self, n_samples: int) -> float:
        return 1.0 / n_samples if self.reduction == "mean" else 1.0

    def value(self, a: np.ndarray, t: np.ndarray) -> float:
        """E for outputs ``a`` and targets ``t``, both (n_samples, n_outputs)."""
        if a.shape[0] == 0:
            raise ValueError("the loss of 0 samples is undefined: a and t are empty")
        per_sample = self._per_sample(a, t)
        return float(np.sum(per_sample, dtype=np.float64) * self._scale(a.shape[0]))

    def gradient(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        """∂E/∂a, shape (n_samples, n_outputs), including the 1/n of ``reduction="mean"``."""
        grad = self._gradient(a, t)
        grad *= np.asarray(self._scale(a.shape[0]), dtype=grad.dtype)
        return grad

    def output_delta(
        self, activation: Activation, z: np.ndarray, a: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        """Output error (BP1): δ^L = ∂E/∂a ⊙ σ'(z^L), shape (n_samples, n_outputs).

        For the canonical pairs (sigmoid + binary cross-entropy, softmax + cross-entropy,
        identity + squared error) σ' cancels against ∂E/∂a and δ^L = (a − t) · scale exactly;
        that shortcut is taken here. Every other pair multiplies by the activation's
        derivative (softmax: its Jacobian).
        """
        self._check_activation(activation)
        if activation.name == self.canonical_activation:
            return self._canonical_delta(a, t)
        return self._output_error(activation, z, a, self.gradient(a, t))

    @staticmethod
    def _output_error(activation: Activation, z: np.ndarray, a: np.ndarray,
                      grad_a: np.ndarray) -> np.ndarray:
        # Output error (BP1): δ^L = ∂E/∂a ⊙ σ'(z^L) (softmax: its Jacobian applied to ∂E/∂a)
        return activation.backward(z, a, grad_a)

    def value_and_delta(
        self, activation: Activation, z: np.ndarray, a: np.ndarray, t: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """``(value(a, t), output_delta(activation, z, a, t))`` in one go (for the training
        loop; subclasses share the work between the two where they can)."""
        return self.value(a, t), self.output_delta(activation, z, a, t)

    #: output activations whose range the loss is defined on (None: any)
    valid_activations: ClassVar[tuple[str, ...] | None] = None

    def _check_activation(self, activation: Activation) -> None:
        if self.valid_activations is not None and activation.name not in self.valid_activations:
            raise ValueError(
                f"loss {self.name!r} needs outputs in (0, 1) from a "
                f"{' or '.join(self.valid_activations)} output layer, got output activation "
                f"{activation.name!r}"
            )

    def _canonical_delta(self, a: np.ndarray, t: np.ndarray) -> np.ndarray:
        delta = a - t
        delta *= np.asarray(self._scale(a.shape[0]), dtype=delta.dtype)
        return delta

    def get_config(self) -> dict:
        return {"reduction": self.reduction}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SquaredError(Loss):
    """E = ½ Σ_outputs (a − t)², averaged over the batch.

    ``half=False`` drops the ½ (the lectures' L = Σ (O − T)²); ``reduction="sum"`` sums over
    the batch instead of averaging. Nielsen's C = 1/(2K) Σ |f − r|² is the default.
    """

    name = "squared_error"
    canonical_activation = "identity"

    def __init__(self, half: bool = True, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.half = bool(half)

    def _per_sample(self, a, t):
        diff = a - t
        return np.einsum("ij,ij->i", diff, diff) * (0.5 if self.half else 1.0)

    def _gradient(self, a, t):
        grad = a - t
        if not self.half:
            grad *= 2.0
        return grad

    def _canonical_delta(self, a, t):
        return self.gradient(a, t)  # identity: δ = ∂E/∂a

    def value_and_delta(self, activation, z, a, t):
        self._check_activation(activation)
        # a − t gives both: E = ½ Σ (a − t)² · scale and ∂E/∂a = (a − t) · scale
        diff = np.subtract(a, t)
        scale = self._scale(a.shape[0])
        value = float(np.vdot(diff, diff)) * scale * (0.5 if self.half else 1.0)
        diff *= scale if self.half else 2.0 * scale
        if activation.name == self.canonical_activation:
            return value, diff
        return value, self._output_error(activation, z, a, diff)

    def get_config(self):
        return {"half": self.half, "reduction": self.reduction}


class AbsoluteError(Loss):
    """E = Σ_outputs |a − t|, averaged over the batch (gradient sign(a − t), 0 at a = t)."""

    name = "absolute_error"

    def _per_sample(self, a, t):
        return np.abs(a - t).sum(axis=1)

    def _gradient(self, a, t):
        return np.sign(a - t)


@functools.cache
def _clip_bounds(dtype: np.dtype) -> tuple[float, float]:
    eps = float(np.finfo(dtype).eps)
    return eps, 1.0 - eps


def _clip(a: np.ndarray) -> np.ndarray:
    # log(0) guard: probabilities clipped to [eps, 1 − eps] with the dtype's machine epsilon,
    # as scikit-learn's log_loss does.
    return np.clip(a, *_clip_bounds(a.dtype))


class BinaryCrossEntropy(Loss):
    """E = −Σ_outputs [t ln a + (1 − t) ln(1 − a)] for sigmoid outputs in (0, 1).

    Canonical with the sigmoid: δ^L = a − t (no learning slowdown).
    """

    name = "binary_cross_entropy"
    canonical_activation = "sigmoid"
    valid_activations = ("sigmoid", "softmax")

    def _per_sample(self, a, t):
        a = _clip(a)
        return -(t * np.log(a) + (1.0 - t) * np.log1p(-a)).sum(axis=1)

    def _gradient(self, a, t):
        a = _clip(a)
        return (a - t) / (a * (1.0 - a))


class CrossEntropy(Loss):
    """E = −Σ_outputs t ln a for softmax outputs; targets one-hot or integer class labels.

    Canonical with the softmax: δ^L = a − t for one-hot targets.
    """

    name = "cross_entropy"
    canonical_activation = "softmax"
    valid_activations = ("softmax", "sigmoid")

    def targets(self, t, n_outputs, dtype):
        t = np.asarray(t)
        if t.ndim == 1 and n_outputs > 1:
            if t.dtype.kind not in "iub":
                if t.dtype.kind == "f" and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
                    t = t.astype(np.int64)
                else:
                    raise ValueError(
                        "integer class labels expected for 1-D targets T with cross_entropy, "
                        f"got dtype {t.dtype}"
                    )
            if t.size and (t.min() < 0 or t.max() >= n_outputs):
                raise ValueError(
                    f"class labels in T must lie in [0, {n_outputs - 1}] for a network with "
                    f"{n_outputs} outputs, got values from {t.min()} to {t.max()}"
                )
            one_hot = np.zeros((t.shape[0], n_outputs), dtype=dtype)
            one_hot[np.arange(t.shape[0]), t] = 1.0
            return one_hot
        return super().targets(t, n_outputs, dtype)

    def _per_sample(self, a, t):
        return -(t * np.log(_clip(a))).sum(axis=1)

    def _canonical_delta(self, a, t):
        # ∂E/∂z_k = a_k Σ_j t_j − t_k, which is the familiar a − t when each target row sums
        # to 1 (one-hot labels); the general form keeps soft targets exact too.
        delta = np.multiply(a, np.add.reduce(t, axis=1, keepdims=True))
        delta -= t
        delta *= np.asarray(self._scale(a.shape[0]), dtype=delta.dtype)
        return delta

    def _gradient(self, a, t):
        return -t / _clip(a)

    def value_and_delta(self, activation, z, a, t):
        if activation.name != self.canonical_activation:
            return super().value_and_delta(activation, z, a, t)
        scale = self._scale(a.shape[0])
        # E = −Σ t ln a · scale (clipped as in ``value``); δ^L = (a Σ_j t_j − t) · scale
        log_a = np.clip(a, *_clip_bounds(a.dtype))
        np.log(log_a, out=log_a)
        value = -float(np.vdot(t, log_a)) * scale
        return value, self._canonical_delta(a, t)


LOSSES: dict[str, type[Loss]] = {
    "squared_error": SquaredError,
    "mse": SquaredError,
    "absolute_error": AbsoluteError,
    "binary_cross_entropy": BinaryCrossEntropy,
    "cross_entropy": CrossEntropy,
    "log_loss": CrossEntropy,
}


def get_loss(loss: str | Loss) -> Loss:
    """Return a :class:`Loss` for a registered name, or pass an instance through."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        key = loss.strip().lower().replace("-", "_")
        if key in LOSSES:
            return LOSSES[key]()
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    raise TypeError(f"loss must be a name (str) or a Loss instance, got {type(loss).__name__}")


class PoissonLoss(Loss):
    """Half Poisson deviance E = Σ_outputs [t ln(t/a) − t + a] (t ln t = 0 at t = 0) for counts
    t >= 0 and positive rates a, averaged over the batch.

    Canonical with the exponential output a = e^z: δ^L = a − t.
    """

    name = "poisson"
    canonical_activation = "exp"

    def _per_sample(self, a, t):
        log_ratio = np.log(np.where(t > 0, t, 1.0) / a)
        return (np.where(t > 0, t * log_ratio, 0.0) - t + a).sum(axis=1)

    def _gradient(self, a, t):
        return 1.0 - t / a


LOSSES["poisson"] = PoissonLoss
