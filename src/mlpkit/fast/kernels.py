"""Compiled kernels of the fast engine (the ``fast`` extra: ``pip install numba``).

NumPy needs two passes over every weight matrix for an SGD step (η·g, then w − that), four with
momentum and a dozen for Adam; the optimiser kernels do the same arithmetic in one pass (SGD
and momentum in the same order as :mod:`mlpkit.optimizers`, so bit for bit; Adam with its bias
corrections folded into one step size and one ε, so to float rounding). Unlike the plain
update, they store a velocity or Adam moment that decays below the dtype's smallest normal
number as 0: subnormal numbers cost a microcode assist per operation (C2 trained 0.44 instead
of 0.32 s per epoch with 7% of its velocities subnormal), and the weights they would move are
unchanged by them (see :func:`_adam`). The fused kernels do
backpropagation's element-wise parts (bias and activation, the loss and δ^L, δ of the hidden
layers and ∂E/∂b) in one pass per layer, in the operation order of :mod:`mlpkit.activations`
and :mod:`mlpkit.losses`, leaving the matrix products to NumPy. They are compiled on first use
and cached on disk (numba's ``cache=True``); ``MLPKIT_NUMBA=0`` switches them off.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "adam_update",
    "available",
    "flat",
    "kernel",
    "momentum_update",
    "sgd_update",
]

_kernels: dict | None = None  # compiled on first use, so that ``import mlpkit`` never pays


def _sgd(param, grad, lr):  # pragma: no cover - compiled by numba
    for i in range(param.shape[0]):
        param[i] -= lr * grad[i]


def _momentum(param, grad, velocity, lr, alpha, nesterov, tiny):  # pragma: no cover
    # A velocity below ``tiny`` (the dtype's smallest normal number) is stored and applied as
    # 0, as Adam's moments are (see _adam): with a gradient that stays 0 it shrinks by α per
    # step into the subnormal range (7% of C2's velocities in its first epoch), where every
    # operation on it takes a microcode assist. Adding it would change a weight only if the
    # weight itself were below ~1e-31, so the weights stay those of the plain update.
    for i in range(param.shape[0]):
        step = lr * grad[i]
        v = alpha * velocity[i] - step
        if abs(v) < tiny:
            v = tiny - tiny
        velocity[i] = v
        if nesterov:
            param[i] += alpha * v - step
        else:
            param[i] += v


def _adam(param, grad, m, v, c1, c2, step, eps, tiny):  # pragma: no cover - numba
    # c1 = 1 − β₁ and c2 = 1 − β₂ come in the arrays' dtype: written here as ``1 - b1``, numba
    # would compute in float64 for float32 arrays (4-wide sqrt and division, half the speed).
    # A moment that decays below ``tiny`` (the dtype's smallest normal number) is stored as 0:
    # a weight whose gradient stays 0 (a dead ReLU unit, an always-black pixel) has m shrink by
    # β₁ per step, into the subnormal range after ~800 steps, where every operation on it
    # takes a microcode assist (~100 cycles): 4% of C3's moments were subnormal after four
    # epochs of Fashion-MNIST and the epoch took 1.9 s instead of 1.2 s. The update such an m
    # makes, below 1e-38 · η / (√v + ε), is far below the weight's last bit.
    for i in range(param.shape[0]):
        g = grad[i]
        m_i = m[i] + c1 * (g - m[i])
        v_i = v[i] + c2 * (g * g - v[i])
        if abs(m_i) < tiny:
            m_i = tiny - tiny
        if v_i < tiny:
            v_i = tiny - tiny
        m[i] = m_i
        v[i] = v_i
        param[i] -= step * (m_i / (np.sqrt(v_i) + eps))


def numba_jit():
    """numba's ``njit`` decorator as the fast engine compiles with it (one thread, the GIL
    released, NumPy's error model, cached on disk, no fastmath), or None without numba or
    with ``MLPKIT_NUMBA=0``."""
    if os.environ.get("MLPKIT_NUMBA", "1") == "0":
        return None
    try:
        import numba
    except ImportError:
        return None
    return numba.njit(nogil=True, error_model="numpy", cache=True)


def _load() -> dict:
    global _kernels
    if _kernels is None:
        # One thread: a parallel Adam measured 5x slower inside training, its worker
        # threads and OpenBLAS's spinning threads taking the two cores from each other.
        # No fastmath: the kernels round exactly as the NumPy passes do.
        jit = numba_jit()
        _kernels = {} if jit is None else {"sgd": jit(_sgd), "momentum": jit(_momentum),
                                           "adam": jit(_adam)}
    return _kernels


def available() -> bool:
    """Whether the compiled kernels can be used (imports numba on the first call)."""
    return bool(_load())


def kernel(name: str):
    """The compiled kernel ``"sgd"``, ``"momentum"`` or ``"adam"`` (after :func:`flat` or
    :func:`available` said the kernels can be used); its arguments are 1-D arrays of one dtype
    and scalars of that dtype, as in :func:`sgd_update` and friends (Adam takes 1 − β₁ and
    1 − β₂ instead of β₁ and β₂, and the dtype's smallest normal number last)."""
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
    _load()["sgd"](*arrays, param.dtype.type(lr))
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
    _load()["momentum"](*arrays, cast(lr), cast(alpha), bool(nesterov),
                        cast(np.finfo(param.dtype).tiny))
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
    place and in one pass (moments below the dtype's smallest normal number stored as 0).
    Returns False (doing nothing) when the kernel cannot be used for these arrays (no numba,
    mixed dtypes, not C-contiguous)."""
    arrays = flat(param, grad, m, v)
    if arrays is None:
        return False
    cast = param.dtype.type
    _load()["adam"](*arrays, cast(1.0 - b1), cast(1.0 - b2), cast(step), cast(eps),
                    cast(np.finfo(param.dtype).tiny))
    return True


# ---------------------------------------------------------------------------------------------
# Fused element-wise work of a training step (the matrix products stay NumPy's BLAS calls).
# Activation codes 0 identity, 1 sigmoid, 2 tanh, 3 ReLU: the formulas of mlpkit.activations,
# written per element in the same operation order.


def _bias_activation(z, b, kind, scale, a, squares):  # pragma: no cover - compiled by numba
    # z += b and, in the same pass, a = σ(z) for identity and ReLU (np.maximum(z, 0): NaN
    # stays NaN) or the argument of the tanh for sigmoid (z/2) and tanh (z): the tanh itself
    # is NumPy's vectorised one (numba's scalar tanh costs 13 times as much), applied after.
    # Returns Σ a² for identity and ReLU (the next layer's ‖a_prev‖² for the gradient bound,
    # summed per column in ``squares``, so the pass stays vectorised), else -1 (not known).
    n, m = z.shape
    for j in range(m):
        squares[j] = scale - scale
    for i in range(n):
        for j in range(m):
            v = z[i, j] + b[j]
            z[i, j] = v
            if kind == 3:
                r = v if (v > 0 or v != v) else scale - scale
                a[i, j] = r
                squares[j] += r * r
            elif kind == 0:
                a[i, j] = v
                squares[j] += v * v
            else:
                a[i, j] = v * scale
    if kind == 0 or kind == 3:
        return _total_c(squares)
    return -1.0


def _total(squares):  # pragma: no cover - inlined by numba
    total = 0.0
    for j in range(squares.shape[0]):
        total += squares[j]
    return total


def _sigmoid_finish(a, half, one, squares):  # pragma: no cover - compiled by numba
    # a = ½(1 + tanh(z/2)), the last two passes of Sigmoid.value in one; returns Σ a² (as
    # _bias_activation does for identity and ReLU)
    n, m = a.shape
    for j in range(m):
        squares[j] = half - half
    for i in range(n):
        for j in range(m):
            r = (a[i, j] + one) * half
            a[i, j] = r
            squares[j] += r * r
    return _total_c(squares)


def _delta(kind, z, a, g, one):  # pragma: no cover - inlined by numba
    # δ = ∂E/∂a ⊙ σ'(z), in the operation order of the Activation.backward methods
    if kind == 1:
        return ((one - a) * a) * g
    if kind == 2:
        return g * (one - a * a)
    if kind == 3:
        return g * (one if z > 0 else one * 0)
    return g


def _column_sums(delta, grad_b):  # pragma: no cover - inlined by numba
    # ∂E/∂b = Σ_samples δ, rows added in order as np.add.reduce(δ, axis=0) does
    n, m = delta.shape
    for j in range(m):
        grad_b[j] = delta[0, j]
    for i in range(1, n):
        for j in range(m):
            grad_b[j] += delta[i, j]


def _squared_error_output(a, t, z, kind, scale, half, one, delta, grad_b):  # pragma: no cover
    # A sigmoid output's a = ½(1 + tanh), Σ (a − t)² (in the arrays' dtype, so that it
    # overflows where the BLAS dot would) and δ^L = ((a − t) · scale) ⊙ σ'(z) in one pass;
    # ∂E/∂b only when the sum is finite (a diverged batch leaves the gradients as they were,
    # as the NumPy path does).
    n, m = a.shape
    total = scale - scale
    for i in range(n):
        for j in range(m):
            if kind == 1:
                a[i, j] = (a[i, j] + one) * half
            d = a[i, j] - t[i, j]
            total += d * d
            delta[i, j] = _delta_c(kind, z[i, j], a[i, j], d * scale, one)
    if np.isfinite(total):
        _column_sums_c(delta, grad_b)
    return total


def _bias_softmax_shift(z, b, a):  # pragma: no cover - compiled by numba
    # z += b and a = z − max_k z_k row by row (the first pass of Softmax.value); NumPy's exp
    # and row sums follow. A NaN that this maximum skips (np.maximum.reduce would return it)
    # still makes the row's sum NaN, so the softmax row is all NaN either way.
    n, m = z.shape
    for i in range(n):
        top = z[i, 0] + b[0]
        z[i, 0] = top
        for j in range(1, m):
            v = z[i, j] + b[j]
            z[i, j] = v
            if v > top:
                top = v
        for j in range(m):
            a[i, j] = z[i, j] - top


def _cross_entropy_output(a, sums, z, t, scale, delta, grad_b):  # pragma: no cover
    # A softmax output's a = e^(z − max) / Σ e^(z − max) (the row sums ``sums`` come from
    # NumPy, as in Softmax.value), the exact Σ t ln a = Σ t ((z − max) − ln Σ e^(z − max)) (in
    # float64; a t of 0 adds nothing) and δ^L = (a Σ_j t_j − t) · scale
    # (CrossEntropy._canonical_delta) in one pass; ∂E/∂b only when the sum is finite.
    n, m = a.shape
    total = 0.0
    for i in range(n):
        t_sum = t[i, 0]
        top = z[i, 0]
        for j in range(1, m):
            t_sum += t[i, j]
            if z[i, j] > top:
                top = z[i, j]
        s = sums[i]
        log_s = np.log(s)
        for j in range(m):
            p = a[i, j] / s
            a[i, j] = p
            t_j = t[i, j]
            if t_j != 0:
                total += t_j * ((z[i, j] - top) - log_s)
            delta[i, j] = (p * t_sum - t_j) * scale
    if np.isfinite(total):
        _column_sums_c(delta, grad_b)
    return total


def _hidden_delta(grad_a, z, a, kind, one, delta, grad_b, squares):  # pragma: no cover
    # δ = (δ_next Wᵀ) ⊙ σ'(z) and ∂E/∂b = Σ δ, one call; returns ‖δ‖² (summed per column in
    # ``squares``) for the gradient bound
    n, m = a.shape
    for j in range(m):
        squares[j] = one - one
    for i in range(n):
        for j in range(m):
            d = _delta_c(kind, z[i, j], a[i, j], grad_a[i, j], one)
            delta[i, j] = d
            squares[j] += d * d
    _column_sums_c(delta, grad_b)
    return _total_c(squares)


_delta_c = _column_sums_c = _total_c = None  # the compiled helpers, set by _load_fused


def _load_fused() -> dict:
    global _delta_c, _column_sums_c, _total_c
    kernels = _load()
    if kernels and "bias_activation" not in kernels:
        import numba

        inline = numba.njit(inline="always", error_model="numpy", cache=True)
        _delta_c, _column_sums_c = inline(_delta), inline(_column_sums)
        _total_c = inline(_total)
        jit = numba_jit()
        kernels["bias_activation"] = jit(_bias_activation)
        kernels["sigmoid_finish"] = jit(_sigmoid_finish)
        kernels["squared_error_output"] = jit(_squared_error_output)
        kernels["hidden_delta"] = jit(_hidden_delta)
        kernels["bias_softmax_shift"] = jit(_bias_softmax_shift)
        kernels["cross_entropy_output"] = jit(_cross_entropy_output)
    return kernels
