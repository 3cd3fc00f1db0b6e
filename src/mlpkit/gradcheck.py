"""Gradient checking: backpropagation against central finite differences, in float64.

Learners use :func:`check_gradients` to convince themselves that backprop computes ∂E/∂w;
the test suite uses it for every activation × loss pairing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from .losses import Loss, get_loss
from .network import Network

__all__ = ["central_differences", "check_gradients", "numerical_gradients"]


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


def check_gradients(network: Network, X, T, loss: str | Loss = "squared_error",
                    step: float = 1e-3, atol: float = 1e-5) -> float:
    """Worst relative error between backprop and finite-difference gradients, over every
    weight and bias.

    The error of one parameter is |g_bp − g_fd| / max(|g_bp|, |g_fd|, ``atol``): relative for
    ordinary gradients, absolute (scaled by 1/atol) for gradients that are zero or nearly so.
    Both are computed in float64 on a copy; ``network`` itself is not changed.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs) or class labels
    loss : str or Loss

    Returns
    -------
    float
        Below about 1e-6 the two agree; a bug in a derivative typically gives 1e-2 or more.
    """
    loss = get_loss(loss)
    net = copy.deepcopy(network).astype(np.float64)
    X = np.asarray(X, dtype=np.float64)
    net.backprop(X, T, loss)
    analytic = [grad.copy() for _, grad in net.parameters()]
    numeric = numerical_gradients(net, X, T, loss, step=step)
    worst = 0.0
    for g_bp, g_fd in zip(analytic, numeric, strict=True):
        denom = np.maximum(np.maximum(np.abs(g_bp), np.abs(g_fd)), atol)
        worst = max(worst, float(np.max(np.abs(g_bp - g_fd) / denom)))
    return worst
