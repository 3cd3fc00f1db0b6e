"""Loss functions E(a, t) and the output error term δ^L (the first backprop equation).

Every loss is summed over the outputs of a sample and averaged over the samples of the batch
(the lectures' C = 1/K Σ_k …) unless ``reduction="sum"``. ``gradient`` returns ∂E/∂a of that
same number, so the 1/n of the mean is already inside every δ.

Sample weights w_k (``sample_weight``, shape (n_samples,)) multiply each sample's loss E_k: the
batch's E is the weighted mean Σ_k w_k E_k / Σ_k w_k (``reduction="sum"``: Σ_k w_k E_k), and
each sample's row of ∂E/∂a and δ^L carries the factor w_k / Σ_k w_k (or w_k) in place of 1/n
(or 1). All ones is the unweighted loss, bit for bit; weights of 0 drop their samples (a batch
whose weights are all 0 has E = 0 and δ^L = 0). Where a softmax feeds the
cross-entropy (or a sigmoid the binary cross-entropy), ``output_value`` computes E from the
pre-activation z with log-sum-exp, exactly, as PyTorch's ``cross_entropy`` does: no clip, so a
confidently wrong prediction costs what it should, consistent with δ^L = a − t.
"""

from __future__ import annotations

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
    #: output activations whose range the loss is defined on (None: any)
    valid_activations: ClassVar[tuple[str, ...] | None] = None
    #: whether :meth:`output_value` takes E from z for the canonical pair
    exact_from_z: ClassVar[bool] = False

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

    def _per_sample_from_z(self, z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Per-sample loss from the pre-activation z of the canonical activation (only for
        losses with ``exact_from_z``)."""
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

    def sample_scale(self, n_samples: int, sample_weight: np.ndarray | None = None,
                     dtype: np.typing.DTypeLike = np.float64) -> float | np.ndarray:
        """What multiplies each sample's ∂E_k/∂a in ∂E/∂a: 1/n (``reduction="mean"``) or 1
        without weights; with weights w (n_samples,) the column (n_samples, 1) of
        w_k / Σ w (mean; 0 where Σ w = 0) or w_k (sum), in ``dtype``."""
        if sample_weight is None:
            return self._scale(n_samples)
        w = np.asarray(sample_weight, dtype=np.float64)
        if self.reduction == "mean":
            total = float(w.sum())
            w = w / total if total > 0.0 else np.zeros_like(w)
        return w.astype(dtype, copy=False).reshape(-1, 1)

    def _reduce(self, per_sample: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        n = per_sample.shape[0]
        if n == 0:
            raise ValueError("the loss of 0 samples is undefined: a and t are empty")
        if sample_weight is None:
            return float(np.sum(per_sample, dtype=np.float64) * self._scale(n))
        w = np.asarray(sample_weight, dtype=np.float64)
        # w_k E_k, and 0 where w_k = 0 even if E_k is infinite (a dropped sample)
        weighted = np.where(w > 0.0, per_sample * w.astype(per_sample.dtype), 0.0)
        total = float(w.sum()) if self.reduction == "mean" else 1.0
        scale = 1.0 / total if total > 0.0 else 0.0
        return float(np.sum(weighted, dtype=np.float64) * scale)

    def value(self, a: np.ndarray, t: np.ndarray, sample_weight: np.ndarray | None = None
              ) -> float:
        """E for outputs ``a`` and targets ``t``, both (n_samples, n_outputs); with
        ``sample_weight`` (n_samples,) the weighted mean Σ w_k E_k / Σ w_k (sum: Σ w_k E_k)."""
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 = −inf: E is +inf
            return self._reduce(self._per_sample(a, t), sample_weight)

    def gradient(self, a: np.ndarray, t: np.ndarray, sample_weight: np.ndarray | None = None
                 ) -> np.ndarray:
        """∂E/∂a, shape (n_samples, n_outputs), including the 1/n of ``reduction="mean"``
        (with ``sample_weight``: w_k / Σ w per sample, see :meth:`sample_scale`)."""
        scale = self.sample_scale(a.shape[0], sample_weight, a.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._gradient(a, t) * scale

    def output_value(
        self, activation: Activation, z: np.ndarray, a: np.ndarray, t: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> float:
        """E of the output layer: from its pre-activation ``z`` (exactly, with log-sum-exp)
        for the canonical pair of a cross-entropy, otherwise :meth:`value` of ``a``;
        weighted by ``sample_weight`` (n_samples,) as :meth:`value`."""
        if self.exact_from_z and activation.name == self.canonical_activation:
            return self._reduce(self._per_sample_from_z(z, t), sample_weight)
        return self.value(a, t, sample_weight)

    def output_delta(
        self, activation: Activation, z: np.ndarray, a: np.ndarray, t: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> np.ndarray:
        """Output error (BP1): δ^L = ∂E/∂a ⊙ σ'(z^L), shape (n_samples, n_outputs).

        For the canonical pairs (sigmoid + binary cross-entropy, softmax + cross-entropy,
        identity + squared error) σ' cancels against ∂E/∂a and δ^L = (a − t) · scale exactly;
        that shortcut is taken here. Every other pair multiplies by the activation's
        derivative (softmax: its Jacobian). ``sample_weight`` (n_samples,) makes the scale a
        per-sample factor (:meth:`sample_scale`): row k of δ^L is w_k / Σ w times the
        unweighted δ_k (``reduction="sum"``: w_k times).
        """
        self._check_activation(activation)
        scale = self.sample_scale(a.shape[0], sample_weight, a.dtype)
        if activation.name == self.canonical_activation:
            return self._canonical_delta(a, t, scale)
        with np.errstate(divide="ignore", invalid="ignore"):
            grad = self._gradient(a, t) * scale
        return activation.backward(z, a, grad)

    def value_and_delta(
        self, activation: Activation, z: np.ndarray, a: np.ndarray, t: np.ndarray,
        sample_weight: np.ndarray | None = None,
    ) -> tuple[float, np.ndarray]:
        """``(output_value(...), output_delta(...))`` of one batch (weighted by
        ``sample_weight`` (n_samples,) if given)."""
        return (self.output_value(activation, z, a, t, sample_weight),
                self.output_delta(activation, z, a, t, sample_weight))

    def _check_activation(self, activation: Activation) -> None:
        if self.valid_activations is not None and activation.name not in self.valid_activations:
            raise ValueError(
                f"loss {self.name!r} needs outputs in (0, 1) from a "
                f"{' or '.join(self.valid_activations)} output layer, got output activation "
                f"{activation.name!r}"
            )

    def _canonical_delta(self, a: np.ndarray, t: np.ndarray,
                         scale: float | np.ndarray) -> np.ndarray:
        return (a - t) * scale

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
        return (0.5 if self.half else 1.0) * np.sum((a - t) ** 2, axis=1)

    def _gradient(self, a, t):
        return (a - t) if self.half else 2.0 * (a - t)

    def _canonical_delta(self, a, t, scale):
        return self._gradient(a, t) * scale  # identity: δ = ∂E/∂a

    def get_config(self):
        return {"half": self.half, "reduction": self.reduction}


class AbsoluteError(Loss):
    """E = Σ_outputs |a − t|, averaged over the batch (gradient sign(a − t), 0 at a = t)."""

    name = "absolute_error"

    def _per_sample(self, a, t):
        return np.sum(np.abs(a - t), axis=1)

    def _gradient(self, a, t):
        return np.sign(a - t)


def _floor(x: np.ndarray) -> np.ndarray:
    """``x`` with 0 raised to the dtype's smallest normal number, so that 1/x stays finite
    where a probability underflowed to 0 (the ∂E/∂a of the non-canonical pairs, which σ' then
    multiplies by that same 0); far below the epsilon, and only in the gradient."""
    return np.maximum(x, np.finfo(x.dtype).tiny)


def _t_log(t: np.ndarray, log_values: np.ndarray) -> np.ndarray:
    """t · log_values, with 0 where t = 0 (a target of 0 adds nothing, even against log 0)."""
    return np.where(t == 0, 0.0, t * log_values)


class BinaryCrossEntropy(Loss):
    """E = −Σ_outputs [t ln a + (1 − t) ln(1 − a)] for sigmoid outputs in (0, 1).

    Canonical with the sigmoid: δ^L = a − t (no learning slowdown); the value is then taken
    from z as Σ [max(z, 0) − z t + ln(1 + e^(−|z|))], the same number without ln 0.
    """

    name = "binary_cross_entropy"
    canonical_activation = "sigmoid"
    valid_activations = ("sigmoid", "softmax")
    exact_from_z = True

    def _per_sample(self, a, t):
        return -np.sum(_t_log(t, np.log(a)) + _t_log(1.0 - t, np.log1p(-a)), axis=1)

    def _per_sample_from_z(self, z, t):
        return np.sum(np.maximum(z, 0.0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=1)

    def _gradient(self, a, t):
        return (np.where(t == 0, 0.0, -t / _floor(a))
                + np.where(t == 1, 0.0, (1.0 - t) / _floor(1.0 - a)))


class CrossEntropy(Loss):
    """E = −Σ_outputs t ln a for softmax outputs; targets one-hot or integer class labels.

    Canonical with the softmax: δ^L = a − t for one-hot targets; the value is then taken from
    z with ln a_k = z_k − ln Σ_j e^(z_j) (log-sum-exp), exactly, as PyTorch's cross_entropy.
    """

    name = "cross_entropy"
    canonical_activation = "softmax"
    valid_activations = ("softmax", "sigmoid")
    exact_from_z = True

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
        return -np.sum(_t_log(t, np.log(a)), axis=1)

    def _per_sample_from_z(self, z, t):
        # log softmax: ln a_k = (z_k − max) − ln Σ_j e^(z_j − max)
        shifted = z - np.max(z, axis=1, keepdims=True)
        log_a = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.sum(t * log_a, axis=1)

    def _gradient(self, a, t):
        return np.where(t == 0, 0.0, -t / _floor(a))

    def _canonical_delta(self, a, t, scale):
        # ∂E/∂z_k = a_k Σ_j t_j − t_k, which is the familiar a − t when each target row sums
        # to 1 (one-hot labels); the general form keeps soft targets exact too.
        return (a * np.sum(t, axis=1, keepdims=True) - t) * scale


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
