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

Updates run in place with one scratch array per parameter (no new arrays per step), in as few
passes over the parameters as the formulas allow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .fast import kernels as _numba

__all__ = ["OPTIMIZERS", "SGD", "Adam", "Optimizer", "get_optimizer"]

Pairs = Sequence[tuple[np.ndarray, np.ndarray]]


def _check_number(name: str, value, *, low: float = 0.0, high: float = math.inf,
                  low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    ok = math.isfinite(value) and (value > low if low_open else value >= low) and (
        value < high if high_open else value <= high
    )
    if not ok:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ValueError(f"{name} must be a finite number in {lo}{low}, {high}{hi}, got {value!r}")
    return value


class Optimizer:
    """Base class: holds ``learning_rate`` η and the regularisation terms."""

    name = "optimizer"

    def __init__(self, learning_rate: float, weight_decay: float = 0.0, l1: float = 0.0,
                 decay_biases: bool = False) -> None:
        self.learning_rate = _check_number("learning_rate", learning_rate, low_open=True)
        self.weight_decay = _check_number("weight_decay", weight_decay)
        self.l1 = _check_number("l1", l1)
        self.decay_biases = bool(decay_biases)

    def _regularised(self, param: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """∂E/∂w plus the weight-decay and L1 terms (a new array only when they apply)."""
        if (self.weight_decay or self.l1) and (param.ndim > 1 or self.decay_biases):
            grad = grad.copy()
            if self.weight_decay:
                grad += self.weight_decay * param
            if self.l1:
                grad += self.l1 * np.sign(param)
        return grad

    def step(self, parameters: Pairs) -> None:
        """Update every parameter in place from its gradient."""
        raise NotImplementedError

    def _scratch(self, parameters: Pairs) -> list[np.ndarray]:
        """One reusable array per parameter, for intermediate results of the update."""
        scratch = getattr(self, "_scratch_arrays", None)
        if parameters is getattr(self, "_scratch_for", None):  # the training loop's list
            return scratch
        self._scratch_for = parameters
        if scratch is None or len(scratch) != len(parameters) or any(
            s.shape != p.shape or s.dtype != p.dtype
            for s, (p, _) in zip(scratch, parameters, strict=True)
        ):
            scratch = self._scratch_arrays = [np.empty_like(p) for p, _ in parameters]
        return scratch

    def _kernel_views(self, parameters: Pairs, *states: list[np.ndarray]):
        """Per parameter, 1-D views of (param, grad, *state arrays) for the compiled kernels of
        :mod:`mlpkit._numba`, or None when they cannot be used; cached while the same
        ``parameters`` list (the training loop's) and state lists come back."""
        cached = getattr(self, "_views", None)
        if cached is not None and cached[0] is parameters and (
            not states or all(a is b for a, b in zip(cached[1], states, strict=True))
        ):
            return cached[2]
        views: list | None = []
        for i, (param, grad) in enumerate(parameters):
            arrays = _numba.flat(param, grad, *(state[i] for state in states))
            if arrays is None:
                views = None
                break
            views.append(arrays)
        self._views = (parameters, states, views)
        return views

    def reset(self) -> None:
        """Forget the state (velocities, moments)."""

    def state_dict(self) -> dict[str, object]:
        """Hyper-parameters and state as plain numbers and arrays (for checkpoints)."""
        raise NotImplementedError

    def load_state_dict(self, state: dict[str, object]) -> None:
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
        self.momentum = _check_number("momentum", momentum, high=1.0, high_open=True)
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0.0")
        self.nesterov = bool(nesterov)
        self.velocities: list[np.ndarray] | None = None

    def step(self, parameters: Pairs) -> None:
        lr, alpha = self.learning_rate, self.momentum
        regularise = self.weight_decay or self.l1
        if not regularise and self._compiled_step(parameters):
            return
        scratch = self._scratch(parameters)
        if alpha == 0.0:
            for (param, grad), step in zip(parameters, scratch, strict=True):
                if regularise:
                    grad = self._regularised(param, grad)
                # w ← w − η ∂E/∂w
                param -= np.multiply(grad, lr, out=step)
            return
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p, _ in parameters]
        for (param, grad), velocity, step in zip(parameters, self.velocities, scratch,
                                                 strict=True):
            if regularise:
                grad = self._regularised(param, grad)
            # Δw(t) = α Δw(t−1) − η ∂E/∂w
            np.multiply(grad, lr, out=step)
            velocity *= alpha
            velocity -= step
            if self.nesterov:
                # w ← w + α Δw(t) − η ∂E/∂w
                param -= step
                param += np.multiply(velocity, alpha, out=step)
            else:
                param += velocity

    def _compiled_step(self, parameters: Pairs) -> bool:
        """The same updates in one compiled pass per parameter (optional extra); False when
        the kernels cannot be used."""
        if self.momentum == 0.0:
            views = self._kernel_views(parameters)
            if views is None:
                return False
            kernel, lr = _numba.kernel("sgd"), self.learning_rate
            for param, grad in views:
                kernel(param, grad, param.dtype.type(lr))
            return True
        if self.velocities is None:
            self.velocities = [np.zeros_like(p) for p, _ in parameters]
        views = self._kernel_views(parameters, self.velocities)
        if views is None:
            return False
        kernel = _numba.kernel("momentum")
        for param, grad, velocity in views:
            cast = param.dtype.type
            kernel(param, grad, velocity, cast(self.learning_rate), cast(self.momentum),
                   self.nesterov)
        return True

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

    def state_dict(self) -> dict[str, object]:
        return {"config": self.get_config(), "velocities": self.velocities}

    def load_state_dict(self, state: dict[str, object]) -> None:
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
        self.beta1 = _check_number("beta1", beta1, high=1.0, high_open=True)
        self.beta2 = _check_number("beta2", beta2, high=1.0, high_open=True)
        self.epsilon = _check_number("epsilon", epsilon, low_open=True)
        self.first_moments: list[np.ndarray] | None = None
        self.second_moments: list[np.ndarray] | None = None
        self.step_count = 0

    def step(self, parameters: Pairs) -> None:
        if self.first_moments is None:
            self.first_moments = [np.zeros_like(p) for p, _ in parameters]
            self.second_moments = [np.zeros_like(p) for p, _ in parameters]
        self.step_count += 1
        b1, b2, t = self.beta1, self.beta2, self.step_count
        # Bias corrections folded into one step size and one ε (same arithmetic, fewer passes)
        correction1 = 1.0 - b1**t
        sqrt_correction2 = math.sqrt(1.0 - b2**t)
        step_size = self.learning_rate / correction1
        eps = self.epsilon * sqrt_correction2
        regularise = self.weight_decay or self.l1
        views = None if regularise else self._kernel_views(
            parameters, self.first_moments, self.second_moments)
        if views is not None:  # the same three updates in one compiled pass (optional extra)
            kernel = _numba.kernel("adam")
            for param, grad, m, v in views:
                cast = param.dtype.type
                kernel(param, grad, m, v, cast(1.0 - b1), cast(1.0 - b2),
                       cast(step_size * sqrt_correction2), cast(eps))
            return
        scratch = self._scratch(parameters)
        for (param, grad), m, v, tmp in zip(parameters, self.first_moments, self.second_moments,
                                            scratch, strict=True):
            if regularise:
                grad = self._regularised(param, grad)
            if _numba.adam_update(param, grad, m, v, b1, b2, step_size * sqrt_correction2, eps):
                continue  # the same three updates in one compiled pass (optional extra)
            # m ← β₁ m + (1 − β₁) g, written as m += (1 − β₁)(g − m)
            m += np.multiply(np.subtract(grad, m, out=tmp), 1.0 - b1, out=tmp)
            # v ← β₂ v + (1 − β₂) g², written as v += (1 − β₂)(g² − v)
            np.multiply(grad, grad, out=tmp)
            tmp -= v
            tmp *= 1.0 - b2
            v += tmp
            # w ← w − η m̂ / (√v̂ + ε), with m̂ = m/(1−β₁ᵗ), √v̂ = √v/√(1−β₂ᵗ)
            denom = np.sqrt(v, out=tmp)
            denom += eps
            update = np.divide(m, denom, out=tmp)
            update *= step_size * sqrt_correction2
            param -= update

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

    def state_dict(self) -> dict[str, object]:
        return {
            "config": self.get_config(),
            "first_moments": self.first_moments,
            "second_moments": self.second_moments,
            "step_count": self.step_count,
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
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
