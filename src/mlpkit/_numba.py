"""Optional compiled kernel for the Adam update (the ``fast`` extra: ``pip install numba``).

NumPy needs a dozen passes over every parameter array for one Adam step; this kernel does the
same arithmetic in one pass. It is used only when numba is installed and
``MLPKIT_NUMBA`` is not ``0``; the NumPy path in :mod:`mlpkit.optimizers` is always available
and the tests check that both give the same numbers.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["adam_update", "available"]

_kernel = None  # compiled on first use, so that ``import mlpkit`` never pays for numba


def _adam(param, grad, m, v, b1, b2, step, eps):  # pragma: no cover - compiled by numba
    for i in range(param.shape[0]):
        g = grad[i]
        m_i = m[i] + (1 - b1) * (g - m[i])
        v_i = v[i] + (1 - b2) * (g * g - v[i])
        m[i] = m_i
        v[i] = v_i
        param[i] -= step * (m_i / (np.sqrt(v_i) + eps))


def _load_kernel():
    global _kernel
    if _kernel is None:
        try:
            if os.environ.get("MLPKIT_NUMBA", "1") == "0":
                raise ImportError("disabled by MLPKIT_NUMBA=0")
            import numba
        except ImportError:
            _kernel = False
        else:
            # One thread: a parallel version measured 5x slower inside training, its worker
            # threads and OpenBLAS's spinning threads taking the two cores from each other.
            _kernel = numba.njit(nogil=True, error_model="numpy")(_adam)
    return _kernel


def available() -> bool:
    """Whether the compiled kernel can be used (imports numba on the first call)."""
    return bool(_load_kernel())


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
    kernel = _load_kernel()
    if not kernel:
        return False
    arrays = (param, grad, m, v)
    dtype = param.dtype
    if dtype not in (np.float32, np.float64) or any(
        a.dtype != dtype or not a.flags.c_contiguous for a in arrays
    ):
        return False
    flat = [a.reshape(-1) for a in arrays]
    cast = dtype.type
    kernel(*flat, cast(b1), cast(b2), cast(step), cast(eps))
    return True
