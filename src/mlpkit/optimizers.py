"""Gradient descent updates: SGD with momentum (the lecture form) and Adam.

An optimiser is handed the network's ``(parameter, gradient)`` pairs after every backward pass
and changes the parameters in place. Its state is named after the mathematics
(``velocities`` Δw(t−1); ``first_moments`` m, ``second_moments`` v, ``step_count`` t).

Weight decay, exactly: ``weight_decay`` λ adds λ·w to ∂E/∂w of every *weight matrix* (biases
are not decayed unless ``decay_biases=True``), i.e. it is the gradient of the penalty
½ λ ‖W‖² added to E. It is therefore multiplied by the learning rate η like the rest of the
gradient: Δw = −η (∂E/∂w + λ w). The CS 445 lecture writes the decay term unscaled,
Δw = η δ x + α Δw(t−1) − λ' w; that is ``weight_decay = λ' / η`` here. ``l1`` likewise adds
l1 · sign(w) (the gradient of l1 ‖W‖₁).

Each update is written once, as its formula, with NumPy; the fast engine
(:mod:`mlpkit.fast`) runs the same updates as compiled one-pass kernels and is tested
against these lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .validation import check_number

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Optimizer", "get_optimizer"]

Pairs = Sequence[tuple[np.ndarray, np.ndarray]]


class Optimizer:
    """Base class: holds ``learning_rate`` η and the regularisation terms."""

    name = "optimizer"

    def __init__(self, learning_rate: float, weight_decay: float = 0.0, l1: float = 0.0,
                 decay_biases: bool = False) -> None:
        self.learning_rate = check_number("learning_rate", learning_rate, low=0.0, low_open=True)
        self.weight_decay = check_number("weight_decay", weight_decay, low=0.0)
        self.l1 = check_number("l1", l1, low=0.0)
        self.decay_biases = bool(decay_biases)

    def _regularised(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """g = ∂E/∂w + λ w + l1 sign(w) for weight matrices (and biases with
        ``decay_biases``); ∂E/∂w itself otherwise."""
        if param.ndim > 1 or self.decay_biases:
            if self.weight_decay:
                grad = grad + self.weight_decay * param
            if self.l1:
                grad = grad + self.l1 * np.sign(param)
        return grad

    def step(self, parameters: Pairs) -> None:
        """Update every parameter in place from its gradient."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the state (velocities, moments)."""

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and state as plain numbers and arrays (for checkpoints)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, in the lecture's form.

    Δw(t) = −η ∂E/∂w + α Δw(t−1), then w ← w + Δw(t); with ``momentum`` α = 0 this is plain
    w ← w − η ∂E/∂w. ``nesterov=True`` evaluates the momentum step ahead:
    w ← w + α Δw(t) − η ∂E/∂w (the form scikit-learn and PyTorch use).

    Parameters
    ----------
    learning_rate : float > 0
        η.
    momentum : float in [0, 1)
        α.
    nesterov : bool
    weight_decay, l1 : float >= 0
        See the module docstring for how they scale.
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.1, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0, l1: float = 0.0, decay_biases: bool = False) -> None:
        super().__init__(learning_rate, weight_decay, l1, decay_biases)
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0, high_open=True)
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        self.nesterov = bool(nesterov)
        self.velocities: list[np.ndarray] | None = None

    def step(self, parameters: Pairs) -> None:
        if not self.momentum:
            for param, grad in parameters:
                # w ← w − η ∂E/∂w
                param -= self.learning_rate * self._regularised(param, grad)
            return
        if self.velocities is None:
            self.velocities = [np.zeros_like(param) for param, _ in parameters]
        for (param, grad), velocity in zip(parameters, self.velocities, strict=True):
            grad = self._regularised(param, grad)
            # Δw(t) = α Δw(t−1) − η ∂E/∂w
            velocity *= self.momentum
            velocity -= self.learning_rate * grad
            if self.nesterov:
                # w ← w + α Δw(t) − η ∂E/∂w
                param += self.momentum * velocity - self.learning_rate * grad
            else:
                # w ← w + Δw(t)
                param += velocity

    def reset(self) -> None:
        self.velocities = None

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
            "decay_biases": self.decay_biases,
        }

    def state_dict(self) -> dict[str, Any]:
        return {"config": self.get_config(), "velocities": self.velocities}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learning_rate = float(state["config"]["learning_rate"])
        velocities = state.get("velocities")
        self.velocities = None if velocities is None else [np.array(v) for v in velocities]


class Adam(Optimizer):
    """Adam (Kingma & Ba): moment estimates of the gradient and of its square.

    m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;  t ← t + 1;
    w ← w − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε),
    with g = ∂E/∂w + weight-decay and L1 terms (L2 added to the gradient, as PyTorch's
    ``Adam(weight_decay=…)`` and scikit-learn's ``alpha`` do).
    """

    name = "adam"

    def __init__(self, learning_rate: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 epsilon: float = 1e-8, weight_decay: float = 0.0, l1: float = 0.0,
                 decay_biases: bool = False) -> None:
        super().__init__(learning_rate, weight_decay, l1, decay_biases)
        self.beta1 = check_number("beta1", beta1, low=0.0, high=1.0, high_open=True)
        self.beta2 = check_number("beta2", beta2, low=0.0, high=1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, low=0.0, low_open=True)
        self.first_moments: list[np.ndarray] | None = None
        self.second_moments: list[np.ndarray] | None = None
        self.step_count = 0

    def step(self, parameters: Pairs) -> None:
        if self.first_moments is None or self.second_moments is None:
            self.first_moments = [np.zeros_like(param) for param, _ in parameters]
            self.second_moments = [np.zeros_like(param) for param, _ in parameters]
        self.step_count += 1
        b1, b2, t = self.beta1, self.beta2, self.step_count
        for (param, grad), m, v in zip(parameters, self.first_moments, self.second_moments,
                                       strict=True):
            g = self._regularised(param, grad)
            # m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²
            m[...] = b1 * m + (1.0 - b1) * g
            v[...] = b2 * v + (1.0 - b2) * g * g
            # bias corrections: m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)
            m_hat = m / (1.0 - b1**t)
            v_hat = v / (1.0 - b2**t)
            # w ← w − η m̂ / (√v̂ + ε)
            param -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def reset(self) -> None:
        self.first_moments = self.second_moments = None
        self.step_count = 0

    def get_config(self) -> dict:
        return {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
            "l1": self.l1,
            "decay_biases": self.decay_biases,
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": self.get_config(),
            "first_moments": self.first_moments,
            "second_moments": self.second_moments,
            "step_count": self.step_count,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learning_rate = float(state["config"]["learning_rate"])
        m, v = state.get("first_moments"), state.get("second_moments")
        self.first_moments = None if m is None else [np.array(x) for x in m]
        self.second_moments = None if v is None else [np.array(x) for x in v]
        self.step_count = int(state.get("step_count", 0))


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}


def get_optimizer(optimizer: str | Optimizer | None, **kwargs) -> Optimizer:
    """An :class:`Optimizer` from a name (with keyword arguments) or an instance; None is SGD."""
    if optimizer is None:
        return SGD(**kwargs)
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()](**kwargs)
    raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or an Optimizer, "
                     f"got {optimizer!r}")
