"""Compiled kernels for :mod:`mlpkit.sklearn`'s stochastic solvers (the ``fast`` extra: numba).

scikit-learn's step makes a NumPy pass, often with a temporary array, for every operation: the
intercept added to z, the ReLU, the ``+ αW`` and ``/ Σw`` of the gradients, the ReLU's
derivative as a boolean mask, and a dozen for an Adam update. Each kernel here does one of those
groups in a single pass **with scikit-learn's operations in scikit-learn's order and dtypes**
(no fastmath, so no fused multiply-add or reassociation), so the estimator's model stays the
same bits as scikit-learn's. Scalars arrive typed as NumPy would use them: a Python number
takes the arrays' dtype, a NumPy float64 scalar (Adam's step size) stays float64, as in
NumPy's promotion rules (NEP 50). The matrix products stay with the BLAS, as in scikit-learn.

Compiled on first use and cached on disk (numba's ``cache=True``); ``MLPKIT_NUMBA=0`` switches
them off, and :func:`load` then returns an empty dict (the estimator takes its NumPy path).
"""

from __future__ import annotations

import numpy as np

from .kernels import numba_jit

__all__ = ["load"]

_kernels: dict | None = None


def _bias_relu(z, b):  # pragma: no cover - compiled by numba
    # activations += intercept; np.maximum(activations, 0, out=activations)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = z[i, j] + b[j]
            z[i, j] = 0.0 if v < 0.0 else v  # NaN and -0.0 pass, as np.maximum(v, 0)


def _bias(z, b):  # pragma: no cover - compiled by numba
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b[j]


def _relu_derivative(a, delta):  # pragma: no cover - compiled by numba
    # delta[Z == 0] = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if a[i, j] == 0.0:
                delta[i, j] = 0.0


def _tanh_derivative(a, delta, one):  # pragma: no cover - compiled by numba
    # delta *= 1 - Z ** 2
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            z = a[i, j]
            delta[i, j] *= one - z * z


def _coef_grad(grad, coef, alpha, sw_sum):  # pragma: no cover - compiled by numba
    # coef_grads += alpha * coefs_; coef_grads /= sw_sum
    for i in range(grad.shape[0]):
        grad[i] = (grad[i] + alpha * coef[i]) / sw_sum


def _sgd(param, grad, velocity, lr, momentum, nesterov):  # pragma: no cover - numba
    # velocity = momentum * velocity - lr * grad; update = velocity (Nesterov: momentum *
    # velocity - lr * grad); param += update
    for i in range(param.shape[0]):
        g = grad[i]
        v = momentum * velocity[i] - lr * g
        velocity[i] = v
        if nesterov:
            param[i] += momentum * v - lr * g
        else:
            param[i] += v


def _adam(param, grad, m, v, b1, c1, b2, c2, lr, eps):  # pragma: no cover - numba
    # m = b1 m + (1 − b1) g; v = b2 v + (1 − b2) g²; param += −lr m / (√v + ε)
    # (lr is NumPy's float64 scalar: with float32 arrays that quotient is float64 too)
    for i in range(param.shape[0]):
        g = grad[i]
        m_i = b1 * m[i] + c1 * g
        v_i = b2 * v[i] + c2 * (g * g)
        m[i] = m_i
        v[i] = v_i
        param[i] = param[i] + (-lr * m_i) / (np.sqrt(v_i) + eps)


def load() -> dict:
    """The compiled kernels by name, or {} without numba (or with ``MLPKIT_NUMBA=0``)."""
    global _kernels
    if _kernels is None:
        jit = numba_jit()
        _kernels = {} if jit is None else {name: jit(function) for name, function in (
            ("bias_relu", _bias_relu), ("bias", _bias),
            ("relu_derivative", _relu_derivative), ("tanh_derivative", _tanh_derivative),
            ("coef_grad", _coef_grad), ("sgd", _sgd), ("adam", _adam))}
    return _kernels
