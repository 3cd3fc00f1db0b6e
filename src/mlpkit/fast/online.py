"""A whole epoch of online (``batch_size=1``) or small-batch training in one compiled call.

The lectures train *online*: for each example, input it, propagate, determine the error, adjust
the weights. Run sample by sample through NumPy, every step pays Python's and BLAS's dispatch
overhead for a few thousand multiply-adds; here one numba call runs the whole epoch over the
order given from Python (so results stay seeded and reproducible):

* forward: z = a_prev · W + b, a = σ(z), layer by layer (input rows that are exactly 0 are
  skipped while the weights are finite: they add ±0 to z);
* output error δ^L and the batch loss, as :mod:`mlpkit.losses` computes them (the
  cross-entropies exactly from z, with log-sum-exp / the stable sigmoid form, no clip);
* error propagation δ^(l−1) = (δ^l W^lᵀ) ⊙ σ'(z^(l−1)) for every layer, with the old weights;
* the finiteness test of :class:`~mlpkit.training.divergence.GradientCheck` (a norm bound,
  the exact sum of the gradients only when the bound fails), so a non-finite step is never
  taken;
* the SGD update of every parameter fused with its gradient: ∂E/∂W = a_prevᵀ δ is formed one
  row at a time and applied at once (for a batch of one it is the rank-one update
  W ← W − η a_prev ⊗ δ; no gradient matrix is materialised). Momentum, Nesterov, weight decay
  and L1 follow the formulas and the operation order of :class:`mlpkit.optimizers.SGD`, and the
  optimiser's ``velocities`` are updated in place, so the plain path continues exactly.

It is equal to the plain core to float rounding: the same formulas in the same order, except
that the dot products are summed sequentially here and by BLAS there (for a batch of one the
weight gradients and updates themselves are the same operations). The kernel is compiled once
per machine (numba's on-disk cache).

Supported: only :class:`~mlpkit.layers.Dense` layers (biases on or off), one float dtype,
hidden activations identity/sigmoid/tanh/ReLU, and at the output either
:class:`~mlpkit.losses.SquaredError` (½ or not, mean or sum) after any of those four,
:class:`~mlpkit.losses.BinaryCrossEntropy` after a sigmoid or
:class:`~mlpkit.losses.CrossEntropy` after a softmax; optimiser :class:`~mlpkit.optimizers.SGD`.
:meth:`OnlineEpoch.for_training` returns None for anything else.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["MAX_BATCH", "EpochResult", "OnlineEpoch"]

#: batch sizes up to this use the compiled epoch in training (above it BLAS products win:
#: 784-100-10 on Fashion-MNIST, µs per sample compiled / per batch: batch 2 43 / 93, batch 4
#: 32 / 47, batch 6 31 / 33, batch 10 32 / 24-27; the kernel itself takes any batch size)
MAX_BATCH = 6

# activation codes (as in mlpkit.fast.kernels) and loss codes
IDENTITY, SIGMOID, TANH, RELU, SOFTMAX = 0, 1, 2, 3, 4
SQUARED_ERROR, BINARY_CROSS_ENTROPY, CROSS_ENTROPY = 0, 1, 2
# the float scalars handed to the kernel, in one array of the network's dtype
LR, ALPHA, WD, L1, HALF, ONE, SCRATCH = range(7)
# the int flags
NESTEROV, DECAY_BIASES, SKIP_ZEROS, LOSS_KIND, HALF_LOSS, MEAN = range(6)
# the float64 limits: GradientCheck's for the squared bound, where a bound on |W| is measured
# again, ‖X‖² and max |X| of the data, then a bound on max |W| per layer
LIMIT2, REMEASURE, X_NORM2, X_MAX, WMAX = range(5)
# status codes of the kernel
DONE, LOSS_DIVERGED, GRADIENT_DIVERGED = 0, 1, 2


# ---------------------------------------------------------------------------------------------
# The kernel, written as plain Python over arrays (numba compiles it; read it as the algorithm).


def _activate(kind, z, a, nb, half, one):  # pragma: no cover - compiled by numba
    # a = σ(z), in the operation order of mlpkit.activations
    zero = one - one
    n = z.shape[1]
    for s in range(nb):
        if kind == SOFTMAX:
            top = z[s, 0]
            for j in range(1, n):
                if z[s, j] > top or z[s, j] != z[s, j]:
                    top = z[s, j]
            total = zero
            for j in range(n):
                a[s, j] = np.exp(z[s, j] - top)
                total += a[s, j]
            for j in range(n):
                a[s, j] = a[s, j] / total
            continue
        for j in range(n):
            v = z[s, j]
            if kind == SIGMOID:
                a[s, j] = (np.tanh(v * half) + one) * half
            elif kind == TANH:
                a[s, j] = np.tanh(v)
            elif kind == RELU:
                a[s, j] = v if (v > zero or v != v) else zero
            else:
                a[s, j] = v


def _layer_forward(a_prev, w, b, kind, z, a, nb, skip, half, one, acc):  # pragma: no cover
    # z = a_prev · W + b (sums over the inputs in order), then a = σ(z); ``acc`` is scratch
    zero = one - one
    n_in, n_out = w.shape
    if nb == 1:  # one sample: the sums in a local row (fewer stores through z)
        for j in range(n_out):
            acc[j] = zero
        for i in range(n_in):
            v = a_prev[0, i]
            if skip and v == zero:
                continue  # adds ±0 to z for finite weights
            for j in range(n_out):
                acc[j] += v * w[i, j]
        for j in range(n_out):
            z[0, j] = acc[j]
    else:
        _batch_products_c(a_prev, w, z, nb, skip, zero)
    if b.shape[0] > 0:
        for s in range(nb):
            for j in range(n_out):
                z[s, j] = z[s, j] + b[j]
    _activate_c(kind, z, a, nb, half, one)


def _batch_products(a_prev, w, z, nb, skip, zero):  # pragma: no cover - compiled by numba
    # z = a_prev · W for several samples, each row of W read once for all of them
    n_in, n_out = w.shape
    for s in range(nb):
        for j in range(n_out):
            z[s, j] = zero
    for i in range(n_in):
        for s in range(nb):
            v = a_prev[s, i]
            if skip and v == zero:
                continue  # adds ±0 to z for finite weights
            for j in range(n_out):
                z[s, j] += v * w[i, j]


def _derivative(kind, z, a, g, one):  # pragma: no cover - inlined by numba
    # δ = ∂E/∂a ⊙ σ'(z), in the operation order of the Activation.backward methods
    if kind == SIGMOID:
        return ((one - a) * a) * g
    if kind == TANH:
        return g * (one - a * a)
    if kind == RELU:
        return g * (one if z > 0 else one - one)
    return g


def _exact_value(loss_kind, z, s, t, r, one):  # pragma: no cover - inlined by numba
    # The cross-entropy of sample s from z, exactly as Loss.output_value computes it (no clip):
    # softmax + CE: −Σ t_j ((z_j − max z) − ln Σ e^(z_k − max z)) (log-sum-exp);
    # sigmoid + BCE: Σ [(max(z_j, 0) − z_j t_j) + ln(1 + e^(−|z_j|))]; in the arrays' dtype
    zero = one - one
    n = z.shape[1]
    total = zero
    if loss_kind == CROSS_ENTROPY:
        top = z[s, 0]
        for j in range(1, n):
            if z[s, j] > top or z[s, j] != z[s, j]:
                top = z[s, j]
        exps = zero
        for j in range(n):
            exps += np.exp(z[s, j] - top)
        log_sum = np.log(exps)
        for j in range(n):
            total += t[r, j] * ((z[s, j] - top) - log_sum)
        return -np.float64(total)
    for j in range(n):
        v = z[s, j]
        positive = v if (v > zero or v != v) else zero
        total += (positive - v * t[r, j]) + np.log1p(np.exp(-np.abs(v)))
    return np.float64(total)


def _output_delta(a, z, t, rows, nb, kind, flags, scalars, delta):  # pragma: no cover - numba
    # The batch loss E (Loss.output_value: the cross-entropies exactly, from z) and δ^L
    # (Loss.output_delta: the canonical shortcut for the cross-entropies)
    one = scalars[ONE]
    scale = 1.0 / nb if flags[MEAN] else 1.0
    loss_kind = flags[LOSS_KIND]
    factor = scale if (loss_kind != SQUARED_ERROR or flags[HALF_LOSS]) else 2.0 * scale
    scalars[SCRATCH] = factor  # the factor in the arrays' dtype, as NumPy casts it
    c = scalars[SCRATCH]
    total = 0.0
    n = a.shape[1]
    for s in range(nb):
        r = rows[s]
        if loss_kind != SQUARED_ERROR:
            total += _exact_value_c(loss_kind, z, s, t, r, one)
        t_sum = t[r, 0]
        for j in range(1, n):
            t_sum += t[r, j]
        squares = one - one  # Σ (a − t)² of the sample in the arrays' dtype, as the core
        for j in range(n):
            p, t_j = a[s, j], t[r, j]
            if loss_kind == SQUARED_ERROR:
                d = p - t_j
                squares += d * d
                delta[s, j] = _derivative_c(kind, z[s, j], p, d * c, one)
            elif loss_kind == CROSS_ENTROPY:
                delta[s, j] = (p * t_sum - t_j) * c
            else:
                delta[s, j] = (p - t_j) * c
        if loss_kind == SQUARED_ERROR:
            total += np.float64(squares * scalars[HALF] if flags[HALF_LOSS] else squares)
    return total * scale


def _propagate(delta, w, kind, z, a, nb, one, delta_prev):  # pragma: no cover - numba
    # BP2: δ_prev = (δ · Wᵀ) ⊙ σ'(z_prev), with the weights before this batch's update
    n_in, n_out = w.shape
    for s in range(nb):
        for i in range(n_in):
            g = delta[s, 0] * w[i, 0]
            for j in range(1, n_out):
                g += delta[s, j] * w[i, j]
            delta_prev[s, i] = _derivative_c(kind, z[s, i], a[s, i], g, one)


def _norm2(x, nb):  # pragma: no cover - inlined by numba
    total = 0.0
    for s in range(nb):
        for j in range(x.shape[1]):
            total += np.float64(x[s, j]) * np.float64(x[s, j])
    return total


def _gradient_sum(a_prev, delta, nb, has_bias, one):  # pragma: no cover - numba
    # Σ of every entry of ∂E/∂W = a_prevᵀ δ and ∂E/∂b = Σ δ, each summed in the arrays' dtype
    # as GradientCheck.total does (NaN or ±inf exactly when some gradient is not finite)
    zero = one - one
    total_w, total_b = zero, zero
    for i in range(a_prev.shape[1]):
        for j in range(delta.shape[1]):
            g = zero
            for s in range(nb):
                g += a_prev[s, i] * delta[s, j]
            total_w += g
    if has_bias:
        for j in range(delta.shape[1]):
            g = zero
            for s in range(nb):
                g += delta[s, j]
            total_b += g
    return np.float64(total_w) + np.float64(total_b)


def _gradients_finite(acts, deltas, bs, nb, limits, one):  # pragma: no cover - numba
    # GradientCheck: every entry ≤ √(max(‖a_prev‖², n)) ‖δ‖ (for the first layer ‖X‖² of the
    # whole data, as there); only when that bound fails is the exact sum taken. Returns NaN
    # when all are shown finite, else the sum over every gradient.
    shown = True
    for l in range(len(deltas)):
        a_norm2 = limits[X_NORM2] if l == 0 else _norm2_c(acts[l], nb)
        bound = max(a_norm2, nb) * _norm2_c(deltas[l], nb)
        if not bound < limits[LIMIT2]:
            shown = False
    if shown:
        return np.nan
    total = 0.0
    for l in range(len(deltas)):
        total += _gradient_sum_c(acts[l], deltas[l], nb, bs[l].shape[0] > 0, one)
    return np.nan if np.isfinite(total) else total


def _sgd_row(w, v, i, g, lr, alpha, wd, l1, momentum, nesterov):  # pragma: no cover - numba
    # mlpkit.optimizers.SGD on row i of w (velocities: row i of v) from its gradient g:
    # g += λ w, g += l1 sign(w) (Optimizer._regularised); then w ← w − η g, or
    # Δw(t) = α Δw(t−1) − η g and w ← w + Δw(t) (Nesterov: w ← (w − η g) + α Δw(t)); the same
    # operations in the same order. Each case is its own loop so that it vectorises.
    zero = lr - lr
    n = w.shape[1]
    if wd != zero:
        for j in range(n):
            g[j] = g[j] + wd * w[i, j]
    if l1 != zero:
        for j in range(n):
            g[j] = g[j] + l1 * np.sign(w[i, j])
    if not momentum:
        for j in range(n):
            w[i, j] = w[i, j] - g[j] * lr
    elif nesterov:
        for j in range(n):
            step = g[j] * lr
            velocity = alpha * v[i, j] - step
            v[i, j] = velocity
            w[i, j] = (w[i, j] - step) + alpha * velocity
    else:
        for j in range(n):
            velocity = alpha * v[i, j] - g[j] * lr
            v[i, j] = velocity
            w[i, j] = w[i, j] + velocity


def _narrow_row(w, v, i, x0, delta, lr, alpha, wd, l1, momentum, nesterov):  # pragma: no cover
    # _sgd_row for g = x0 δ (one sample), all in one loop; the same operations in the same order
    zero = lr - lr
    for j in range(w.shape[1]):
        g = x0 * delta[0, j]
        p = w[i, j]
        if wd != zero:
            g = g + wd * p
        if l1 != zero:
            g = g + l1 * np.sign(p)
        step = g * lr
        if not momentum:
            w[i, j] = p - step
            continue
        velocity = alpha * v[i, j] - step
        v[i, j] = velocity
        w[i, j] = (p - step) + alpha * velocity if nesterov else p + velocity


def _update_weights(w, vw, a_prev, delta, nb, flags, scalars, g):  # pragma: no cover - numba
    # W ← W − η (a_prevᵀ δ + regularisation), one row of the gradient at a time (in ``g``; for
    # a batch of one the row is a_prev[i] δ: a rank-one update). With plain SGD the rows of
    # inputs that are all 0 are skipped: their gradient is 0 and w − η·0 is w.
    lr, alpha, wd, l1 = scalars[LR], scalars[ALPHA], scalars[WD], scalars[L1]
    zero = lr - lr
    momentum, nesterov = vw.shape[0] > 0, flags[NESTEROV] != 0
    plain = not momentum and wd == zero and l1 == zero
    skip = flags[SKIP_ZEROS] != 0 and plain
    n_in, n_out = w.shape
    for i in range(n_in):
        if skip:
            nonzero = False
            for s in range(nb):
                nonzero |= a_prev[s, i] != zero
            if not nonzero:
                continue  # a zero gradient row: w − η·0 is w
        x0 = a_prev[0, i]
        if plain and nb == 1:  # online SGD: w ← w − η (x δ), the rank-one update in one loop
            for j in range(n_out):
                w[i, j] = w[i, j] - (x0 * delta[0, j]) * lr
            continue
        if nb == 1 and n_out < 8:  # narrow rows: every case in one loop (less loop overhead)
            _narrow_row_c(w, vw, i, x0, delta, lr, alpha, wd, l1, momentum, nesterov)
            continue
        for j in range(n_out):
            g[j] = x0 * delta[0, j]
        for s in range(1, nb):
            x = a_prev[s, i]
            if x == zero:
                continue  # adds ±0 (δ is finite: the gradient check passed)
            for j in range(n_out):
                g[j] += x * delta[s, j]
        _sgd_row_c(w, vw, i, g, lr, alpha, wd, l1, momentum, nesterov)


def _update_biases(b, vb, delta, nb, flags, scalars, g):  # pragma: no cover - numba
    # b ← b − η Σ_samples δ (rows added in order, as np.add.reduce(δ, axis=0); regularised only
    # with decay_biases)
    n = b.shape[0]
    for j in range(n):
        g[j] = delta[0, j]
    for s in range(1, nb):
        for j in range(n):
            g[j] += delta[s, j]
    zero = scalars[LR] - scalars[LR]
    wd, l1 = (scalars[WD], scalars[L1]) if flags[DECAY_BIASES] else (zero, zero)
    momentum = vb.shape[0] > 0
    v = vb.reshape(1, n) if momentum else np.empty((0, 0), b.dtype)
    _sgd_row_c(b.reshape(1, n), v, 0, g, scalars[LR], scalars[ALPHA], wd, l1, momentum,
               flags[NESTEROV] != 0)


def _abs_max(x, rows):  # pragma: no cover - inlined by numba
    # max |x| over the first ``rows`` rows, in float64; inf if there is a NaN
    top = 0.0
    for s in range(rows):
        for j in range(x.shape[1]):
            v = abs(np.float64(x[s, j]))
            if v != v:
                return np.inf
            top = max(top, v)
    return top


def _weights_stay_finite(ws, acts, deltas, nb, lr, limits):  # pragma: no cover - numba
    # Skipping the inputs that are 0 is exact while the weights are finite. With plain SGD a
    # batch moves each weight by at most nb · max|a_prev| · max|δ| · η (max |X| of the whole
    # data for the first layer), so limits[WMAX + l] (a bound on max |W_l|, 1 % generous for
    # rounding) grows by that; only when it nears the largest float are the weights measured
    # again. False when a weight is not finite.
    big = limits[REMEASURE]
    for l in range(len(ws)):
        a_max = limits[X_MAX] if l == 0 else _abs_max_c(acts[l], nb)
        limits[WMAX + l] += 1.01 * nb * a_max * _abs_max_c(deltas[l], nb) * abs(lr)
        if not limits[WMAX + l] < big:
            limits[WMAX + l] = _abs_max_c(ws[l], ws[l].shape[0])
            if not limits[WMAX + l] < big:
                return False
    return True


def _step(x, t, rows, nb, ws, bs, vws, vbs, kinds, flags, scalars, acts, zs, deltas, g,
          limits):  # pragma: no cover - compiled by numba
    # One batch: forward, loss and δ^L, backward, check, update. Returns (status, loss, value).
    a0 = acts[0]
    for s in range(nb):
        for i in range(x.shape[1]):
            a0[s, i] = x[rows[s], i]
    half, one = scalars[HALF], scalars[ONE]
    n_layers = len(ws)
    for l in range(n_layers):
        _layer_forward_c(acts[l], ws[l], bs[l], kinds[l], zs[l], acts[l + 1], nb,
                         flags[SKIP_ZEROS] != 0, half, one, g)
    last = n_layers - 1
    loss = _output_delta_c(acts[last + 1], zs[last], t, rows, nb, kinds[last], flags, scalars,
                           deltas[last])
    if not np.isfinite(loss):
        return LOSS_DIVERGED, loss, loss
    for l in range(last, 0, -1):
        _propagate_c(deltas[l], ws[l], kinds[l - 1], zs[l - 1], acts[l], nb, one, deltas[l - 1])
    gradient_sum = _gradients_finite_c(acts, deltas, bs, nb, limits, one)
    if not np.isnan(gradient_sum):
        return GRADIENT_DIVERGED, loss, gradient_sum
    for l in range(n_layers):
        _update_weights_c(ws[l], vws[l], acts[l], deltas[l], nb, flags, scalars, g)
        if bs[l].shape[0] > 0:
            _update_biases_c(bs[l], vbs[l], deltas[l], nb, flags, scalars, g)
    if flags[SKIP_ZEROS] and not _weights_stay_finite_c(ws, acts, deltas, nb, scalars[LR],
                                                        limits):
        flags[SKIP_ZEROS] = 0  # non-finite weights: 0 · w must be computed from now on
    return DONE, loss, loss


def _epoch(x, t, order, size, ws, bs, vws, vbs, kinds, flags, scalars, acts, zs, deltas, g,
           outputs, limits, result):  # pragma: no cover - compiled by numba
    # Every batch of ``order``; result = [Σ batch losses (× batch size for mean), last finite
    # loss, diverging value]. Returns (status, batches done).
    n = order.shape[0]
    n_batches = (n + size - 1) // size
    out = acts[len(ws)]
    total = 0.0
    for batch in range(n_batches):
        start = batch * size
        nb = min(size, n - start)
        rows = order[start:start + nb]
        status, loss, value = _step_c(x, t, rows, nb, ws, bs, vws, vbs, kinds, flags, scalars,
                                      acts, zs, deltas, g, limits)
        if status != DONE:
            result[0], result[2] = total, value
            if status == GRADIENT_DIVERGED:
                result[1] = loss
            return status, batch
        result[1] = loss
        total += loss * nb if flags[MEAN] else loss
        for s in range(nb):
            for j in range(out.shape[1]):
                outputs[start + s, j] = out[s, j]
    result[0] = total
    return DONE, n_batches


_activate_c = _batch_products_c = _derivative_c = _output_delta_c = _layer_forward_c = None
_exact_value_c = None
_propagate_c = None
_norm2_c = _gradient_sum_c = _gradients_finite_c = _sgd_row_c = _narrow_row_c = None
_update_weights_c = _update_biases_c = _abs_max_c = _weights_stay_finite_c = _step_c = None
_compiled = None  # the epoch kernel, compiled (or loaded from numba's cache) on first use


def _kernel():
    """The compiled epoch, or None without numba (or with ``MLPKIT_NUMBA=0``)."""
    global _compiled
    if _compiled is None:
        from . import kernels

        if not kernels.available():
            _compiled = False
            return None
        import numba

        names = ["activate", "batch_products", "derivative", "exact_value", "output_delta",
                 "layer_forward", "propagate", "norm2", "gradient_sum", "gradients_finite",
                 "sgd_row", "narrow_row", "update_weights", "update_biases", "abs_max",
                 "weights_stay_finite", "step"]
        inline = {"derivative", "exact_value", "norm2", "abs_max", "sgd_row", "narrow_row"}
        module = globals()
        for name in names:  # helpers first: each is compiled against those before it
            options = {"inline": "always"} if name in inline else {"nogil": True}
            module[f"_{name}_c"] = numba.njit(cache=True, error_model="numpy",
                                              **options)(module[f"_{name}"])
        _compiled = numba.njit(cache=True, nogil=True, error_model="numpy")(_epoch)
    return _compiled or None


# ---------------------------------------------------------------------------------------------
# The adapter for the training loop.


@dataclass
class EpochResult:
    """What one compiled epoch did.

    Attributes
    ----------
    loss_sum : float
        Σ over the batches done of the batch loss, times the batch's size for
        ``reduction="mean"`` (the training loop's ``total_loss``): the epoch loss is
        ``loss_sum / n`` (mean) or ``loss_sum`` (sum).
    outputs : ndarray (n_samples, n_outputs)
        Row p: the output a^L for sample ``order[p]`` during its training step (before its
        update), for the training accuracy; rows of batches not done are left as they were.
    batches : int
        Batches done (all of them unless training diverged).
    diverged : str or None
        ``"loss"`` or ``"gradient"`` when batch ``batches`` diverged (the weights then are those
        before it: the step was not taken), else None.
    value : float
        The non-finite loss or gradient sum that stopped it (NaN otherwise).
    last_finite_loss : float or None
        The loss of the last finite batch (the diverging one itself for ``"gradient"``).
    """

    loss_sum: float
    outputs: np.ndarray
    batches: int
    diverged: str | None = None
    value: float = math.nan
    last_finite_loss: float | None = None


class OnlineEpoch:
    """One epoch of online or small-batch SGD in one compiled call (see the module docstring).

    Build it with :meth:`for_training`; then ``run(x, t, order)`` trains one epoch in the
    given sample order. Parameters and the optimiser's velocities are read from the network and
    optimiser at every call (a new learning rate from a schedule, weights set by hand, a reset
    optimiser all take effect) and changed in place.
    """

    @classmethod
    def for_training(cls, network, loss, optimizer, batch_size: int | None) -> OnlineEpoch | None:
        """An :class:`OnlineEpoch` for this setting, or None when it is not supported (see the
        module docstring; also None without numba or for ``batch_size`` None)."""
        plan = _plan(network, loss, optimizer, batch_size)
        if plan is None or batch_size is None or _kernel() is None:
            return None
        return cls(network, loss, optimizer, int(batch_size), *plan)

    def __init__(self, network, loss, optimizer, batch_size: int, kinds: list[int],
                 loss_kind: int) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.batch_size = batch_size
        self.layers = list(network.layers)
        self.dtype = np.dtype(network.dtype)
        self.kinds = np.array(kinds, dtype=np.int64)
        self.loss_kind = loss_kind
        largest = float(np.finfo(self.dtype).max)
        # GradientCheck's limit for the squared bound, and where a bound on |W| is re-measured
        half = 0.5 * largest
        self.limits = (min(half * half, sys.float_info.max), 0.25 * largest)
        self._buffers: tuple | None = None

    def _scratch(self, size: int) -> tuple:
        """Activations (input first), z and δ per layer, for batches of ``size`` rows."""
        if self._buffers is None or self._buffers[0] != size:
            sizes = self.network.sizes
            acts = tuple(np.zeros((size, m), self.dtype) for m in sizes)
            zs = tuple(np.zeros((size, m), self.dtype) for m in sizes[1:])
            deltas = tuple(np.zeros((size, m), self.dtype) for m in sizes[1:])
            g = np.zeros(max(sizes[1:]), self.dtype)
            self._buffers = (size, acts, zs, deltas, g)
        return self._buffers[1:]

    def _state(self):
        """Parameters and velocities as the kernel takes them (empty arrays for none)."""
        opt, dtype = self.optimizer, self.dtype
        ws = tuple(layer.weights for layer in self.layers)
        bs = tuple(np.zeros(0, dtype) if layer.biases is None else layer.biases
                   for layer in self.layers)
        if opt.momentum == 0.0:
            vws = tuple(np.zeros((0, 0), dtype) for _ in ws)
            vbs = tuple(np.zeros(0, dtype) for _ in ws)
            return ws, bs, vws, vbs
        if opt.velocities is None:
            opt.velocities = [np.zeros_like(p) for p, _ in self.network.parameters()]
        velocities = iter(opt.velocities)
        vws, vbs = [], []
        for layer in self.layers:
            vws.append(next(velocities))
            vbs.append(np.zeros(0, dtype) if layer.biases is None else next(velocities))
        for v, p in zip(vws + vbs, ws + bs, strict=True):
            if v.shape != p.shape or v.dtype != dtype or not v.flags.c_contiguous:
                raise ValueError(f"optimizer.velocities do not match the network's parameters: "
                                 f"got shape {v.shape} {v.dtype} for a parameter {p.shape}")
        return ws, bs, tuple(vws), tuple(vbs)

    def _scalars(self) -> tuple[np.ndarray, np.ndarray]:
        from ..losses import SquaredError

        opt, loss = self.optimizer, self.loss
        scalars = np.array([opt.learning_rate, opt.momentum, opt.weight_decay, opt.l1, 0.5, 1.0,
                            0.0], dtype=self.dtype)
        half = isinstance(loss, SquaredError) and loss.half
        # Inputs that are 0 are skipped (forward and update) with plain SGD and finite weights
        skip = opt.momentum == 0.0 and opt.weight_decay == 0.0 and opt.l1 == 0.0
        flags = np.array([opt.nesterov, opt.decay_biases, skip, self.loss_kind, half,
                          loss.reduction == "mean"], dtype=np.int64)
        return scalars, flags

    def _limits(self, x: np.ndarray, flags: np.ndarray) -> np.ndarray:
        """The float64 limits (see LIMIT2, …, WMAX): one pass over x and the weights."""
        x_norm2 = float(np.vdot(x, x))
        x_max = float(np.max(np.abs(x))) if flags[SKIP_ZEROS] else math.nan
        wmax = [float(np.max(np.abs(layer.weights))) for layer in self.layers]
        if flags[SKIP_ZEROS] and not all(m < self.limits[1] for m in wmax):
            flags[SKIP_ZEROS] = 0
        return np.array([*self.limits, x_norm2, x_max, *wmax])

    def run(self, x: np.ndarray, t: np.ndarray, order: np.ndarray | None = None,
            outputs: np.ndarray | None = None) -> EpochResult:
        """Train one epoch: batches of ``batch_size`` samples of ``x`` in ``order``.

        Parameters
        ----------
        x : ndarray (n_samples, n_inputs), the network's dtype, C-contiguous
        t : ndarray (n_samples, n_outputs), the network's dtype (as ``Network.check_targets``
            gives them)
        order : int array (n_order,) or None
            Sample indices in visiting order (``rng.permutation(n)``); None is 0, 1, …, n−1.
        outputs : ndarray (n_order, n_outputs) or None
            Where to write the outputs (a new array when None).
        """
        x, t, order = _check_run(self.network, x, t, order)
        if outputs is None:
            outputs = np.empty((order.shape[0], self.network.n_outputs), self.dtype)
        kernel = _kernel()
        acts, zs, deltas, g = self._scratch(min(self.batch_size, order.shape[0]))
        ws, bs, vws, vbs = self._state()
        scalars, flags = self._scalars()
        limits = self._limits(x, flags)
        result = np.zeros(3)
        started = time.perf_counter()
        status, batches = kernel(x, t, order, min(self.batch_size, order.shape[0]), ws, bs, vws,
                                 vbs, self.kinds, flags, scalars, acts, zs, deltas, g, outputs,
                                 limits, result)
        _compile_notice(kernel, time.perf_counter() - started)
        last = None if batches == 0 and status == LOSS_DIVERGED else float(result[1])
        diverged = {DONE: None, LOSS_DIVERGED: "loss", GRADIENT_DIVERGED: "gradient"}[status]
        return EpochResult(float(result[0]), outputs, int(batches), diverged,
                           float(result[2]) if diverged else math.nan, last)


def _plan(network, loss, optimizer, batch_size) -> tuple[list[int], int] | None:
    """(activation codes per layer, loss code) when the compiled epoch can train this, else
    None."""
    from ..activations import Identity, ReLU, Sigmoid, Softmax, Tanh
    from ..layers import Dense
    from ..losses import BinaryCrossEntropy, CrossEntropy, SquaredError
    from ..optimizers import SGD

    if batch_size is None or type(optimizer) is not SGD:
        return None
    layers = network.layers
    if not layers or not all(type(layer) is Dense for layer in layers):
        return None
    dtype = layers[0].dtype
    if dtype not in (np.float32, np.float64) or any(layer.dtype != dtype for layer in layers):
        return None
    codes = {Identity: IDENTITY, Sigmoid: SIGMOID, Tanh: TANH, ReLU: RELU}  # exact types
    kinds = [codes.get(type(layer.activation)) for layer in layers[:-1]]
    output = type(layers[-1].activation)
    if type(loss) is SquaredError:
        loss_kind, kinds = SQUARED_ERROR, [*kinds, codes.get(output)]
    elif type(loss) is BinaryCrossEntropy and output is Sigmoid:
        loss_kind, kinds = BINARY_CROSS_ENTROPY, [*kinds, SIGMOID]
    elif type(loss) is CrossEntropy and output is Softmax:
        loss_kind, kinds = CROSS_ENTROPY, [*kinds, SOFTMAX]
    else:
        return None
    known = [kind for kind in kinds if kind is not None]
    if len(known) != len(kinds):
        return None
    return known, loss_kind


def _check_run(network, x, t, order) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dtype = np.dtype(network.dtype)
    if not isinstance(x, np.ndarray) or x.dtype != dtype or x.ndim != 2 \
            or x.shape[1] != network.n_inputs or not x.flags.c_contiguous:
        raise ValueError(f"x must be a C-contiguous {dtype} array (n_samples, "
                         f"{network.n_inputs}), got {getattr(x, 'dtype', type(x).__name__)} "
                         f"{getattr(x, 'shape', '')}")
    if not isinstance(t, np.ndarray) or t.dtype != dtype or t.shape != (
            x.shape[0], network.n_outputs) or not t.flags.c_contiguous:
        raise ValueError(f"t must be a C-contiguous {dtype} array of shape "
                         f"({x.shape[0]}, {network.n_outputs}), got "
                         f"{getattr(t, 'dtype', type(t).__name__)} {getattr(t, 'shape', '')}")
    if order is None:
        order = np.arange(x.shape[0], dtype=np.int64)
    order = np.ascontiguousarray(order, dtype=np.int64)
    if order.ndim != 1 or order.size == 0 or order.min() < 0 or order.max() >= x.shape[0]:
        raise ValueError(f"order must be a non-empty 1-D array of sample indices in [0, "
                         f"{x.shape[0] - 1}], got shape {order.shape}")
    return x, t, order


_noticed = False


def _compile_notice(kernel, seconds: float) -> None:
    """One line on stderr when this call compiled the kernel (no cache yet) and took > 1 s."""
    global _noticed
    if _noticed or seconds <= 1.0:
        return
    misses = getattr(getattr(kernel, "stats", None), "cache_misses", None)
    if misses:
        _noticed = True
        print(f"mlpkit: compiled the online training kernel in {seconds:.1f} s (once per "
              "machine: numba caches it on disk)", file=sys.stderr)
