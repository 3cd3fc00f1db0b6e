"""Optional compiled kernels for the optimiser updates (the ``fast`` extra: ``pip install numba``).

NumPy needs two passes over every weight matrix for an SGD step (η·g into a scratch array, then
w − that), four with momentum and a dozen for Adam; these kernels do the same arithmetic, in
the same order, in one pass. They are used only when numba is installed and ``MLPKIT_NUMBA``
is not ``0``; the NumPy paths in :mod:`mlpkit.optimizers` are always available and the tests
check that both give the same numbers.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["adam_update", "available", "flat", "kernel", "momentum_update", "sgd_update"]

_kernels: dict | None = None  # compiled on first use, so that ``import mlpkit`` never pays


def _sgd(param, grad, lr):  # pragma: no cover - compiled by numba
    for i in range(param.shape[0]):
        param[i] -= lr * grad[i]


def _momentum(param, grad, velocity, lr, alpha, nesterov):  # pragma: no cover - numba
    for i in range(param.shape[0]):
        step = lr * grad[i]
        v = alpha * velocity[i] - step
        velocity[i] = v
        if nesterov:
            param[i] = (param[i] - step) + alpha * v
        else:
            param[i] += v


def _adam(param, grad, m, v, c1, c2, step, eps):  # pragma: no cover - compiled by numba
    # c1 = 1 − β₁ and c2 = 1 − β₂ come in the arrays' dtype: written here as ``1 - b1``, numba
    # would compute in float64 for float32 arrays (4-wide sqrt and division, half the speed).
    for i in range(param.shape[0]):
        g = grad[i]
        m_i = m[i] + c1 * (g - m[i])
        v_i = v[i] + c2 * (g * g - v[i])
        m[i] = m_i
        v[i] = v_i
        param[i] -= step * (m_i / (np.sqrt(v_i) + eps))


def _load() -> dict:
    global _kernels
    if _kernels is None:
        try:
            if os.environ.get("MLPKIT_NUMBA", "1") == "0":
                raise ImportError("disabled by MLPKIT_NUMBA=0")
            import numba
        except ImportError:
            _kernels = {}
        else:
            # One thread: a parallel Adam measured 5x slower inside training, its worker
            # threads and OpenBLAS's spinning threads taking the two cores from each other.
            # No fastmath: the kernels round exactly as the NumPy passes do.
            jit = numba.njit(nogil=True, error_model="numpy")
            _kernels = {"sgd": jit(_sgd), "momentum": jit(_momentum), "adam": jit(_adam)}
    return _kernels


def available() -> bool:
    """Whether the compiled kernels can be used (imports numba on the first call)."""
    return bool(_load())


def kernel(name: str):
    """The compiled kernel ``"sgd"``, ``"momentum"`` or ``"adam"`` (after :func:`flat` or
    :func:`available` said the kernels can be used); its arguments are 1-D arrays of one dtype
    and scalars of that dtype, as in :func:`sgd_update` and friends (Adam takes 1 − β₁ and
    1 − β₂ instead of β₁ and β₂)."""
    return _load()[name]


def flat(*arrays: np.ndarray) -> list[np.ndarray] | None:
    """1-D views of ``arrays`` for the kernels, or None when the kernels cannot take them
    (numba missing or switched off, a dtype other than float32/float64, mixed dtypes, an array
    that is not C-contiguous)."""
    if not _load():
        return None
    dtype = arrays[0].dtype
    if dtype not in (np.float32, np.float64) or any(
        a.dtype != dtype or not a.flags.c_contiguous for a in arrays
    ):
        return None
    return [a.reshape(-1) for a in arrays]


def sgd_update(param: np.ndarray, grad: np.ndarray, lr: float) -> bool:
    """w ← w − η g in place, in one pass; False (doing nothing) when the kernel cannot be used."""
    arrays = flat(param, grad)
    if arrays is None:
        return False
    _kernels["sgd"](*arrays, param.dtype.type(lr))
    return True


def momentum_update(
    param: np.ndarray,
    grad: np.ndarray,
    velocity: np.ndarray,
    lr: float,
    alpha: float,
    nesterov: bool,
) -> bool:
    """Δw ← α Δw − η g; w ← w + Δw (Nesterov: w ← w − η g + α Δw) in place, in one pass;
    False (doing nothing) when the kernel cannot be used."""
    arrays = flat(param, grad, velocity)
    if arrays is None:
        return False
    cast = param.dtype.type
    _kernels["momentum"](*arrays, cast(lr), cast(alpha), bool(nesterov))
    return True


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    m: np.ndarray,
    v: np.ndarray,
    b1: float,
    b2: float,
    step: float,
    eps: float,
) -> bool:
    """m ← m + (1 − β₁)(g − m); v ← v + (1 − β₂)(g² − v); w ← w − step · m / (√v + eps), in
    place and in one pass. Returns False (doing nothing) when the kernel cannot be used for
    these arrays (no numba, mixed dtypes, not C-contiguous)."""
    arrays = flat(param, grad, m, v)
    if arrays is None:
        return False
    cast = param.dtype.type
    _kernels["adam"](*arrays, cast(1.0 - b1), cast(1.0 - b2), cast(step), cast(eps))
    return True
