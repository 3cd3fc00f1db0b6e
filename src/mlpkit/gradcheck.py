"""Gradient checking: backpropagation against central finite differences, in float64.

Learners use :func:`check_gradients` to convince themselves that backprop computes ∂E/∂w;
the test suite uses it for every activation × loss pairing. :func:`gradient_check` returns the
whole comparison, including the parameters whose finite differences straddle a kink (ReLU,
leaky ReLU and step units at z = 0, the absolute error at a = t), where no finite difference
measures the derivative backprop computes.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .losses import Loss, get_loss
from .network import Network

__all__ = [
    "GradientCheckReport",
    "central_differences",
    "check_gradients",
    "gradient_check",
    "numerical_gradients",
]

#: activations (by name) with a kink, and where: the derivative jumps at z = 0
KINKED_ACTIVATIONS: dict[str, float] = {"relu": 0.0, "leaky_relu": 0.0, "step": 0.0}
#: losses (by name) with a kink at a = t
KINKED_LOSSES = ("absolute_error",)
#: the step is shrunk by these factors where a stencil crosses a kink
SHRINK = (1.0, 0.1, 0.01)


def numerical_gradients(network: Network, X, T, loss: str | Loss = "squared_error",
                        step: float = 1e-3) -> list[np.ndarray]:
    """∂E/∂p for every parameter p, by finite differences on a float64 copy of ``network``.

    Uses the five-point central stencil
    (−E(p+2h) + 8E(p+h) − 8E(p−h) + E(p−2h)) / 12h, whose error is O(h⁴), so with h = 1e-3
    rounding (≈1e-13) rather than truncation sets the accuracy. Arrays are returned in
    :meth:`Network.parameters` order.
    """
    loss = get_loss(loss)
    net = copy.deepcopy(network).astype(np.float64)
    t = loss.targets(T, net.n_outputs, np.float64)

    def error() -> float:
        return loss.value(net.forward(X), t)

    return central_differences([param for param, _ in net.parameters()], error, step)


def central_differences(params: Sequence[np.ndarray], error: Callable[[], float],
                        step: float = 1e-3) -> list[np.ndarray]:
    """∂error/∂p for every array p in ``params`` (changed in place and put back), by the
    five-point stencil; ``error()`` recomputes the scalar from the current values."""
    grads = []
    for param in params:
        grad = np.zeros_like(param)
        flat, out = param.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            values = []
            for offset in (2 * step, step, -step, -2 * step):
                flat[i] = original + offset
                values.append(error())
            flat[i] = original
            out[i] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * step)
        grads.append(grad)
    return grads


@dataclass
class GradientCheckReport:
    """Backprop against finite differences, parameter array by parameter array.

    Every list holds one array per parameter, in :meth:`Network.parameters` order and of
    that parameter's shape: (n_inputs, n_outputs) for weights, (n_outputs,) for biases.

    Attributes
    ----------
    names : list of str
        "layer 1 weights", "layer 1 biases", … (Dense layers counted from the input).
    analytic, numeric : list of arrays
        ∂E/∂p by backprop and by the five-point central difference.
    errors : list of arrays
        |g_bp − g_fd| / max(|g_bp|, |g_fd|, atol) per parameter.
    straddles : list of bool arrays
        True where even the smallest step's stencil moved some pre-activation z of a kinked
        unit (or some a − t of the absolute error) across its kink: that entry's finite
        difference averages two slopes and its error says nothing about backprop.
    """

    names: list[str]
    analytic: list[np.ndarray]
    numeric: list[np.ndarray]
    errors: list[np.ndarray]
    straddles: list[np.ndarray]

    @property
    def worst(self) -> float:
        """Worst error over the parameters clear of kinks (0.0 if there are none)."""
        clear = [err[~mask] for err, mask in zip(self.errors, self.straddles, strict=True)]
        return max((float(np.max(err)) for err in clear if err.size), default=0.0)

    @property
    def worst_straddling(self) -> float:
        """Worst error over the parameters that straddle a kink (0.0 if there are none)."""
        kinked = [err[mask] for err, mask in zip(self.errors, self.straddles, strict=True)]
        return max((float(np.max(err)) for err in kinked if err.size), default=0.0)

    @property
    def n_parameters(self) -> int:
        return sum(err.size for err in self.errors)

    @property
    def straddling(self) -> list[tuple[str, tuple[int, ...]]]:
        """(name, index) of every parameter left out of :attr:`worst`, e.g.
        ``("layer 1 weights", (0, 2))``."""
        return [
            (name, tuple(int(i) for i in index))
            for name, mask in zip(self.names, self.straddles, strict=True)
            for index in zip(*np.nonzero(mask), strict=True)
        ]

    def __str__(self) -> str:
        n_kinked = len(self.straddling)
        text = (
            f"worst relative error {self.worst:.3g} over {self.n_parameters - n_kinked} of "
            f"{self.n_parameters} parameters"
        )
        if n_kinked:
            text += (
                f"; {n_kinked} straddle a kink (finite differences undefined there, worst "
                f"{self.worst_straddling:.3g}, not counted)"
            )
        return text


def _parameter_names(network: Network) -> list[str]:
    names = []
    for number, layer in enumerate(network.dense_layers, start=1):
        names += [f"layer {number} {kind}" for kind in ("weights", "biases")][
            : len(layer.parameters())
        ]
    return names


def _kink_sides(net: Network, loss: Loss, a: np.ndarray, t: np.ndarray) -> list[np.ndarray]:
    """Which side of its kink every kinked quantity of the last forward pass lies on
    (−1, 0 or +1): z − kink of ReLU-type units, a − t of the absolute error."""
    sides = []
    for layer in net.dense_layers:
        kink = KINKED_ACTIVATIONS.get(layer.activation.name)
        if kink is not None and layer.z is not None:
            sides.append(np.sign(layer.z - kink))
    if loss.name in KINKED_LOSSES:
        sides.append(np.sign(a - t))
    return sides


def _probe(net: Network, loss: Loss, X: np.ndarray, t: np.ndarray
           ) -> tuple[float, list[np.ndarray]]:
    """The loss and the kink sides at the network's current parameters."""
    a = net.forward(X)
    return loss.value(a, t), _kink_sides(net, loss, a, t)


def _difference(net: Network, loss: Loss, X: np.ndarray, t: np.ndarray, flat: np.ndarray,
                i: int, step: float, sides: list[np.ndarray]) -> tuple[float, bool]:
    """Five-point central difference of E in ``flat[i]``, and whether a stencil point lies
    on another side of a kink than the unperturbed parameters (``sides``)."""
    original = flat[i]
    values, crossed = [], False
    for offset in (2 * step, step, -step, -2 * step):
        flat[i] = original + offset
        value, moved = _probe(net, loss, X, t)
        values.append(value)
        crossed = crossed or any(
            not np.array_equal(before, after) for before, after in zip(sides, moved, strict=True)
        )
    flat[i] = original
    return (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * step), crossed


def gradient_check(network: Network, X, T, loss: str | Loss = "squared_error",
                   step: float = 1e-3, atol: float = 1e-5) -> GradientCheckReport:
    """Backprop against finite differences for every weight and bias, kinks reported.

    Like :func:`check_gradients` (same ``step`` and ``atol``; float64 on a copy), but returns
    the :class:`GradientCheckReport` with both gradients, the error of every parameter and which
    parameters straddle a kink. A parameter whose five-point stencil (±step, ±2·step) moves
    a pre-activation z of a ReLU / leaky ReLU / step unit, or an a − t of the absolute error,
    across 0 is retried with step/10 and step/100; only if every step crosses is it marked.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs) or class labels
    loss : str or Loss
    step : float
        The finite-difference step h (> 0).
    atol : float
        Gradients smaller than this are compared absolutely (> 0).
    """
    for name, value in (("step", step), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number, got {type(value).__name__}")
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    loss = get_loss(loss)
    net = copy.deepcopy(network).astype(np.float64)
    X = np.asarray(X, dtype=np.float64)
    net.backprop(X, T, loss)
    analytic = [grad.copy() for _, grad in net.parameters()]
    t = loss.targets(T, net.n_outputs, np.float64)
    _, sides = _probe(net, loss, X, t)
    numeric, straddles, errors = [], [], []
    for (param, _), g_bp in zip(net.parameters(), analytic, strict=True):
        g_fd, kinked = np.zeros_like(param), np.zeros(param.shape, dtype=bool)
        flat = param.reshape(-1)
        for i in range(flat.size):
            for factor in SHRINK:
                g, crossed = _difference(net, loss, X, t, flat, i, step * factor, sides)
                if not crossed:
                    break
            g_fd.reshape(-1)[i], kinked.reshape(-1)[i] = g, crossed
        denom = np.maximum(np.maximum(np.abs(g_bp), np.abs(g_fd)), atol)
        numeric.append(g_fd)
        straddles.append(kinked)
        errors.append(np.abs(g_bp - g_fd) / denom)
    return GradientCheckReport(_parameter_names(net), analytic, numeric, errors, straddles)
def check_gradients(network: Network, X, T, loss: str | Loss = "squared_error",
                    step: float = 1e-3, atol: float = 1e-5) -> float:
    """Worst relative error between backprop and finite-difference gradients, over every
    weight and bias whose finite differences stay clear of a kink.

    The error of one parameter is |g_bp − g_fd| / max(|g_bp|, |g_fd|, ``atol``): relative for
    ordinary gradients, absolute (scaled by 1/atol) for gradients that are zero or nearly so.
    Both are computed in float64 on a copy; ``network`` itself is not changed.

    ReLU, leaky ReLU and step units, and the absolute error, have a kink (at z = 0, at
    a = t). Where a finite-difference stencil would cross one, the step is shrunk (÷10, ÷100);
    parameters whose stencil still crosses a kink are left out of the worst error, because
    no finite difference measures a one-sided derivative there. :func:`gradient_check` gives
    the full picture, including which parameters those are.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs) or class labels
    loss : str or Loss

    Returns
    -------
    float
        Below about 1e-6 the two agree (about 1e-5 where the step had to be shrunk: rounding
        grows as the step shrinks); a bug in a derivative typically gives 1e-2 or more.
    """
    return gradient_check(network, X, T, loss, step=step, atol=atol).worst
