"""Activation functions a = σ(z), each with its derivative next to it.

Every activation is a small class with ``value(z)`` (the forward formula), ``derivative(z, a)``
(σ'(z)) and ``backward(z, a, grad_a)``, which turns ∂E/∂a into the error term δ = ∂E/∂z. For
the element-wise functions that is ``grad_a * σ'(z)``; softmax couples its outputs and uses its
Jacobian instead. The registry :data:`ACTIVATIONS` maps the names the CLI and the estimator
accept to the classes.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "Exp",
    "Identity",
    "LeakyReLU",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "Step",
    "Tanh",
    "get_activation",
]


class Activation:
    """Base class: an activation σ with its derivative σ'."""

    name: ClassVar[str] = "activation"

    def value(self, z: np.ndarray) -> np.ndarray:
        """σ(z), same shape as ``z`` (n_samples, n_units)."""
        raise NotImplementedError

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """σ'(z) element-wise; ``a = σ(z)`` is passed so it need not be recomputed."""
        raise NotImplementedError

    def backward(self, z: np.ndarray, a: np.ndarray, grad_a: np.ndarray) -> np.ndarray:
        """δ = ∂E/∂z = ∂E/∂a ⊙ σ'(z), shape (n_samples, n_units)."""
        return grad_a * self.derivative(z, a)

    def get_config(self) -> dict:
        """Constructor arguments, for model files."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and isinstance(other, Activation)
                and self.get_config() == other.get_config())

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.get_config().items()))))


class Identity(Activation):
    """σ(z) = z, σ'(z) = 1 (regression outputs)."""

    name = "identity"

    def value(self, z):
        return z

    def derivative(self, z, a):
        return np.ones_like(z)


class Sigmoid(Activation):
    """Logistic function σ(z) = 1 / (1 + e^(−z)), σ'(z) = σ(z)(1 − σ(z))."""

    name = "sigmoid"

    def value(self, z):
        # ½ (1 + tanh(z/2)) is the same function; it never overflows (σ(±1000) is exact).
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    def derivative(self, z, a):
        return a * (1.0 - a)


class Tanh(Activation):
    """σ(z) = tanh z, σ'(z) = 1 − tanh² z."""

    name = "tanh"

    def value(self, z):
        return np.tanh(z)

    def derivative(self, z, a):
        return 1.0 - a * a


class ReLU(Activation):
    """σ(z) = max(0, z), σ'(z) = 1 for z > 0, else 0."""

    name = "relu"

    def value(self, z):
        return np.maximum(z, 0.0)

    def derivative(self, z, a):
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    """σ(z) = z for z > 0, else ``negative_slope`` · z."""

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        if not np.isfinite(negative_slope) or negative_slope < 0:
            raise ValueError(
                f"negative_slope must be a finite number >= 0, got {negative_slope!r}"
            )
        self.negative_slope = float(negative_slope)

    def value(self, z):
        return np.where(z > 0, z, z * self.negative_slope).astype(z.dtype, copy=False)

    def derivative(self, z, a):
        return np.where(z > 0, 1.0, self.negative_slope).astype(z.dtype, copy=False)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class Softmax(Activation):
    """a_k = e^(z_k) / Σ_j e^(z_j) over the units of a sample (rows sum to 1)."""

    name = "softmax"

    def value(self, z):
        # Subtracting the row maximum leaves the result unchanged and keeps exp() <= 1.
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)

    def derivative(self, z, a):
        raise TypeError(
            "softmax has no element-wise derivative (each output depends on every z); "
            "use Softmax.backward, which applies the Jacobian"
        )

    def backward(self, z, a, grad_a):
        # Jacobian-vector product: δ_k = a_k (g_k − Σ_j g_j a_j)
        return a * (grad_a - np.sum(grad_a * a, axis=1, keepdims=True))


class Step(Activation):
    """Heaviside step: 1 where z >= 0 (the weighted sum reaches the threshold), else 0."""

    name = "step"

    def value(self, z):
        return (z >= 0).astype(z.dtype)

    def derivative(self, z, a):
        raise TypeError(
            "the step (Heaviside) activation has derivative 0 almost everywhere, so "
            "backpropagation cannot train it; train step units with the perceptron rule "
            "(mlpkit.Perceptron) or use a differentiable activation such as 'sigmoid'"
        )


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, Sigmoid, Tanh, ReLU, LeakyReLU, Softmax, Step)
}
ACTIVATIONS["linear"] = Identity
ACTIVATIONS["logistic"] = Sigmoid
ACTIVATIONS["heaviside"] = Step


def get_activation(activation: str | Activation) -> Activation:
    """Return an :class:`Activation` for a registered name or pass an instance through."""
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, type) and issubclass(activation, Activation):
        return activation()
    if isinstance(activation, str):
        key = activation.strip().lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
        )
    raise TypeError(
        "activation must be a name (str) or an Activation instance, "
        f"got {type(activation).__name__}"
    )


class Exp(Activation):
    """σ(z) = e^z, σ'(z) = e^z = a: positive outputs, such as the rates of Poisson regression."""

    name = "exp"

    def value(self, z):
        return np.exp(z)

    def derivative(self, z, a):
        return a


ACTIVATIONS["exp"] = Exp
