"""The compiled epoch of :mod:`mlpkit.fast.online`, written as plain Python over flat arrays.

numba compiles these functions (:func:`mlpkit.fast.online._kernel`); read them as the algorithm.
The whole state of a run lives in a few flat 1-D arrays, and the inner loops run over row views
of them (``_row``: contiguous, so the loops vectorise; no per-row calls, no reference counting):

* ``params``: every layer's weights and biases; ``velocities``: the optimiser's Δw(t−1) at the
  same offsets (empty without momentum). A layer with at least :data:`WIDE` outputs keeps W as
  the network does, (n_in, n_out), one row per input: the forward pass adds the rows of the
  inputs that are not 0 and the update writes the same rows. A narrower layer keeps Wᵀ,
  (n_out, n_in): one contiguous row per unit, so that z_j is one dot product and the update of
  row j one vector operation (960-3-4: three rows of 960 instead of 960 rows of 3).
* ``acts``, ``zs``, ``deltas``: a (batch, width) block per layer, row by sample (``acts``
  starts with the batch's inputs); ``grad``: one row of a gradient; ``lists``, ``counts`` and
  ``marks``: the inputs that are not 0, per sample and for the batch.
* ``table``: one row of int64 per layer (the columns below), ``flags``, ``scalars`` (in the
  run's dtype: float32 runs compute in float32) and ``limits`` (float64).

The sums are the lecture's: z = a_prev · W + b summed over the inputs in order (for Wᵀ rows a
dot product in :func:`_dot`'s order), δ^(l−1) = (δ^l W^lᵀ) ⊙ σ'(z^(l−1)) summed over the units
in order, ∂E/∂W = a_prevᵀ δ summed over the batch in order (for a batch of one the rank-one
x ⊗ δ, never stored: each element is formed where it is applied), and the optimiser's
element-wise formulas in :class:`mlpkit.optimizers.SGD`'s operation order.
"""

from __future__ import annotations

import numpy as np

# activation codes (as in mlpkit.fast.kernels) and loss codes
IDENTITY, SIGMOID, TANH, RELU, SOFTMAX = 0, 1, 2, 3, 4
SQUARED_ERROR, BINARY_CROSS_ENTROPY, CROSS_ENTROPY = 0, 1, 2
# columns of the layer table: sizes, where W (and b: −1 for none) start in params, the
# activation, whether W is stored transposed, where the layer's input and output blocks start
# in acts/zs/deltas, where its index lists start in lists and its marks in marks, and LISTED:
# 1 where the inputs may be 0 and W is stored by rows, so that skipping them pays (the data,
# the outputs of ReLU or identity units)
N_IN, N_OUT, W_AT, B_AT, KIND, TRANSPOSED, IN_AT, OUT_AT, LIST_AT, MARK_AT, LISTED = range(11)
COLUMNS = 11
# layers with fewer outputs than this keep Wᵀ
WIDE = 16
# the float scalars, in the run's dtype
LR, ALPHA, WD, L1, HALF, ONE, SCRATCH = range(7)
# the int flags
NESTEROV, DECAY_BIASES, SKIP_ZEROS, LOSS_KIND, HALF_LOSS, MEAN, MOMENTUM = range(7)
# the float64 limits: GradientCheck's for the squared bound, where a bound on |W| is measured
# again, ‖X‖² and max |X| of the data, then a bound on max |W| per layer
LIMIT2, REMEASURE, X_NORM2, X_MAX, WMAX = range(5)
# status codes
DONE, LOSS_DIVERGED, GRADIENT_DIVERGED = 0, 1, 2
# result slots: Σ batch losses, last finite loss, diverging value, status, batches done
LOSS_SUM, LAST_LOSS, VALUE, STATUS, BATCHES = range(5)


# ---------------------------------------------------------------------------------------------
# Small pieces (inlined)


def _row(flat, at, i, n):  # pragma: no cover - inlined by numba
    # row i of the (·, n) block that starts at flat[at]
    start = at + i * n
    return flat[start:start + n]


def _prefetch(a, i):  # pragma: no cover - numba compiles llvm.prefetch instead
    # a hint that a[i] will be read soon (fetch its cache line now): no effect on any result
    pass


def _derivative(kind, z, a, g, one):  # pragma: no cover - inlined by numba
    # δ = ∂E/∂a ⊙ σ'(z), in the operation order of the Activation.backward methods
    if kind == SIGMOID:
        return ((one - a) * a) * g
    if kind == TANH:
        return g * (one - a * a)
    if kind == RELU:
        return g * (one if z > 0 else one - one)
    return g


def _dot(a, b):  # pragma: no cover - compiled by numba with fastmath={"reassoc"}
    # Σ a_i b_i: the one sum whose order the compiler may choose (vector lanes), as BLAS does
    total = a[0] * b[0]
    for i in range(1, a.shape[0]):
        total += a[i] * b[i]
    return total


def _activate(kind, z, a, half, one):  # pragma: no cover - compiled by numba
    # a = σ(z) for one sample, in the operation order of mlpkit.activations
    zero = one - one
    n = z.shape[0]
    if kind == SOFTMAX:
        top = z[0]
        for j in range(1, n):
            if z[j] > top or z[j] != z[j]:
                top = z[j]
        total = zero
        for j in range(n):
            a[j] = np.exp(z[j] - top)
            total += a[j]
        for j in range(n):
            a[j] = a[j] / total
    elif kind == SIGMOID:
        for j in range(n):
            a[j] = (np.tanh(z[j] * half) + one) * half
    elif kind == TANH:
        for j in range(n):
            a[j] = np.tanh(z[j])
    elif kind == RELU:
        for j in range(n):
            v = z[j]
            a[j] = v if (v > zero or v != v) else zero
    else:
        for j in range(n):
            a[j] = z[j]


def _list_nonzero(a, out):  # pragma: no cover - compiled by numba
    # the indices i with a[i] ≠ 0 into out (branch-free), returns how many
    count = 0
    for i in range(a.shape[0]):
        out[count] = i
        count += a[i] != 0
    return count


# ---------------------------------------------------------------------------------------------
# Forward pass


def _list_batch(acts, row, layer, nb, lists, counts):  # pragma: no cover - compiled by numba
    # per sample the inputs of layer ``layer`` that are not 0 (lists, counts)
    n_in = row[N_IN]
    for s in range(nb):
        counts[layer, s] = _list_nonzero_c(_row_c(acts, row[IN_AT], s, n_in),
                                           _row_c(lists, row[LIST_AT], s, n_in))


def _gather(x, rows, nb, table, acts, lists, counts, skip):  # pragma: no cover - numba
    # the batch's inputs into the first block of acts (samples in order), with their lists
    row = table[0]
    n_in = row[N_IN]
    for s in range(nb):
        source, target = x[rows[s]], _row_c(acts, row[IN_AT], s, n_in)
        for i in range(n_in):
            target[i] = source[i]
    if skip:
        _list_batch_c(acts, row, 0, nb, lists, counts)


def _forward(params, row, layer, acts, zs, lists, counts, nb, skip, zero):  # pragma: no cover
    # z = a_prev · W for every sample of the batch (without b): rows of W added in order (the
    # inputs that are not 0 when skipping), or one dot product per row of Wᵀ
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    for s in range(nb):
        a, z = _row_c(acts, row[IN_AT], s, n_in), _row_c(zs, row[OUT_AT], s, n_out)
        if row[TRANSPOSED]:
            for j in range(n_out):
                z[j] = _dot_c(a, _row_c(params, w_at, j, n_in))
            continue
        for j in range(n_out):
            z[j] = zero
        listed = _row_c(lists, row[LIST_AT], s, n_in)
        for k in range(counts[layer, s] if skip else n_in):
            i = listed[k] if skip else k
            v, w = a[i], _row_c(params, w_at, i, n_out)
            for j in range(n_out):
                z[j] += v * w[j]


def _layer(params, table, layer, acts, zs, lists, counts, nb, skip, half, one):  # pragma: no cover
    # z = a_prev · W + b, a = σ(z) for layer ``layer``; the next layer's lists when skipping
    row = table[layer]
    n_out, b_at = row[N_OUT], row[B_AT]
    _forward_c(params, row, layer, acts, zs, lists, counts, nb, skip and row[LISTED] != 0,
               one - one)
    for s in range(nb):
        z = _row_c(zs, row[OUT_AT], s, n_out)
        if b_at >= 0:
            b = params[b_at:b_at + n_out]
            for j in range(n_out):
                z[j] = z[j] + b[j]
        _activate_c(row[KIND], z, _row_c(acts, row[OUT_AT], s, n_out), half, one)
    if skip and layer + 1 < table.shape[0] and table[layer + 1, LISTED] != 0:
        _list_batch_c(acts, table[layer + 1], layer + 1, nb, lists, counts)


# ---------------------------------------------------------------------------------------------
# Loss and backward pass


def _exact_value(loss_kind, z, t, one):  # pragma: no cover - compiled by numba
    # The cross-entropy of one sample from z, exactly as Loss.output_value computes it (no
    # clip): softmax + CE: −Σ t_j ((z_j − max z) − ln Σ e^(z_k − max z)) (log-sum-exp);
    # sigmoid + BCE: Σ [(max(z_j, 0) − z_j t_j) + ln(1 + e^(−|z_j|))]; in the arrays' dtype
    zero = one - one
    n = z.shape[0]
    total = zero
    if loss_kind == CROSS_ENTROPY:
        top = z[0]
        for j in range(1, n):
            if z[j] > top or z[j] != z[j]:
                top = z[j]
        exps = zero
        for j in range(n):
            exps += np.exp(z[j] - top)
        log_sum = np.log(exps)
        for j in range(n):
            total += t[j] * ((z[j] - top) - log_sum)
        return -np.float64(total)
    for j in range(n):
        v = z[j]
        positive = v if (v > zero or v != v) else zero
        total += (positive - v * t[j]) + np.log1p(np.exp(-np.abs(v)))
    return np.float64(total)


def _output_delta(row, acts, zs, deltas, targets, rows, nb, flags, scalars):  # pragma: no cover
    # The batch loss E (Loss.output_value: the cross-entropies exactly, from z) and δ^L
    # (Loss.output_delta: the canonical shortcut for the cross-entropies)
    one = scalars[ONE]
    scale = 1.0 / nb if flags[MEAN] else 1.0
    loss_kind, kind, n, at = flags[LOSS_KIND], row[KIND], row[N_OUT], row[OUT_AT]
    factor = scale if (loss_kind != SQUARED_ERROR or flags[HALF_LOSS]) else 2.0 * scale
    scalars[SCRATCH] = factor  # the factor in the arrays' dtype, as NumPy casts it
    c = scalars[SCRATCH]
    total = 0.0
    for s in range(nb):
        t, a = targets[rows[s]], _row_c(acts, at, s, n)
        z, delta = _row_c(zs, at, s, n), _row_c(deltas, at, s, n)
        if loss_kind != SQUARED_ERROR:
            total += _exact_value_c(loss_kind, z, t, one)
        t_sum = t[0]
        for j in range(1, n):
            t_sum += t[j]
        squares = one - one  # Σ (a − t)² of the sample in the arrays' dtype, as the core
        for j in range(n):
            p, t_j = a[j], t[j]
            if loss_kind == SQUARED_ERROR:
                d = p - t_j
                squares += d * d
                delta[j] = _derivative_c(kind, z[j], p, d * c, one)
            elif loss_kind == CROSS_ENTROPY:
                delta[j] = (p * t_sum - t_j) * c
            else:
                delta[j] = (p - t_j) * c
        if loss_kind == SQUARED_ERROR:
            total += np.float64(squares * scalars[HALF] if flags[HALF_LOSS] else squares)
    return total * scale


def _propagate(params, row, prev, acts, zs, deltas, nb, one):  # pragma: no cover - numba
    # BP2: δ_prev = (δ · Wᵀ) ⊙ σ'(z_prev), with the weights before this batch's update; the
    # sum over the units j in order
    n_in, n_out, w_at, kind = row[N_IN], row[N_OUT], row[W_AT], prev[KIND]
    for s in range(nb):
        d = _row_c(deltas, row[OUT_AT], s, n_out)
        out = _row_c(deltas, row[IN_AT], s, n_in)
        if row[TRANSPOSED]:  # Σ_j δ_j Wᵀ[j, i], as rows of Wᵀ
            w = _row_c(params, w_at, 0, n_in)
            for i in range(n_in):
                out[i] = d[0] * w[i]
            for j in range(1, n_out):
                dj, w = d[j], _row_c(params, w_at, j, n_in)
                for i in range(n_in):
                    out[i] += dj * w[i]
        else:
            for i in range(n_in):
                out[i] = _dot_c(d, _row_c(params, w_at, i, n_out))
        z, a = _row_c(zs, row[IN_AT], s, n_in), _row_c(acts, row[IN_AT], s, n_in)
        for i in range(n_in):
            out[i] = _derivative_c(kind, z[i], a[i], out[i], one)


def _backward(params, table, acts, zs, deltas, nb, one):  # pragma: no cover - compiled by numba
    # δ of every layer below the output, from the top
    for layer in range(table.shape[0] - 1, 0, -1):
        _propagate_c(params, table[layer], table[layer - 1], acts, zs, deltas, nb, one)


# ---------------------------------------------------------------------------------------------
# The divergence checks


def _norm2(flat, at, n):  # pragma: no cover - compiled by numba
    # Σ x² over flat[at:at + n], in float64
    total = 0.0
    for i in range(at, at + n):
        total += np.float64(flat[i]) * np.float64(flat[i])
    return total


def _abs_max(flat, at, n):  # pragma: no cover - compiled by numba
    # max |x| over flat[at:at + n] in float64; inf if there is a NaN
    top = 0.0
    for i in range(at, at + n):
        v = abs(np.float64(flat[i]))
        if v != v:
            return np.inf
        top = max(top, v)
    return top


def _gradient_sum(row, acts, deltas, nb, one):  # pragma: no cover - compiled by numba
    # Σ of every entry of ∂E/∂W = a_prevᵀ δ and ∂E/∂b = Σ δ, each summed in the arrays' dtype
    # as GradientCheck.total does (NaN or ±inf exactly when some gradient is not finite)
    zero = one - one
    n_in, n_out = row[N_IN], row[N_OUT]
    total_w, total_b = zero, zero
    for i in range(n_in):
        for j in range(n_out):
            g = zero
            for s in range(nb):
                g += acts[row[IN_AT] + s * n_in + i] * deltas[row[OUT_AT] + s * n_out + j]
            total_w += g
    if row[B_AT] >= 0:
        for j in range(n_out):
            g = zero
            for s in range(nb):
                g += deltas[row[OUT_AT] + s * n_out + j]
            total_b += g
    return np.float64(total_w) + np.float64(total_b)


def _gradients_finite(table, acts, deltas, nb, limits, one):  # pragma: no cover - numba
    # GradientCheck: every entry ≤ √(max(‖a_prev‖², n)) ‖δ‖ (for the first layer ‖X‖² of the
    # whole data, as there); only when that bound fails is the exact sum taken. Returns NaN
    # when all are shown finite, else the sum over every gradient.
    shown = True
    for layer in range(table.shape[0]):
        row = table[layer]
        a_norm2 = limits[X_NORM2] if layer == 0 else _norm2_c(acts, row[IN_AT], nb * row[N_IN])
        bound = max(a_norm2, nb) * _norm2_c(deltas, row[OUT_AT], nb * row[N_OUT])
        if not bound < limits[LIMIT2]:
            shown = False
    if shown:
        return np.nan
    total = 0.0
    for layer in range(table.shape[0]):
        total += _gradient_sum_c(table[layer], acts, deltas, nb, one)
    return np.nan if np.isfinite(total) else total


def _weights_stay_finite(params, table, acts, deltas, nb, lr, limits):  # pragma: no cover
    # Skipping the inputs that are 0 is exact while the weights are finite. With plain SGD a
    # batch moves each weight by at most nb · max|a_prev| · max|δ| · η (max |X| of the whole
    # data for the first layer), so limits[WMAX + l] (a bound on max |W_l|, 1 % generous for
    # rounding) grows by that; only when it nears the largest float are the weights measured
    # again. False when a weight is not finite.
    big = limits[REMEASURE]
    for layer in range(table.shape[0]):
        row = table[layer]
        n_in, n_out = row[N_IN], row[N_OUT]
        a_max = limits[X_MAX] if layer == 0 else _abs_max_c(acts, row[IN_AT], nb * n_in)
        d_max = _abs_max_c(deltas, row[OUT_AT], nb * n_out)
        limits[WMAX + layer] += 1.01 * nb * a_max * d_max * abs(lr)
        if not limits[WMAX + layer] < big:
            limits[WMAX + layer] = _abs_max_c(params, row[W_AT], n_in * n_out)
            if not limits[WMAX + layer] < big:
                return False
    return True


# ---------------------------------------------------------------------------------------------
# The update


def _regularise(g, w, wd, l1):  # pragma: no cover - compiled by numba
    # g += λ w, then g += l1 sign(w) (Optimizer._regularised), in place
    zero = wd - wd
    if wd != zero:
        for j in range(g.shape[0]):
            g[j] = g[j] + wd * w[j]
    if l1 != zero:
        for j in range(g.shape[0]):
            g[j] = g[j] + l1 * np.sign(w[j])


def _apply(w, v, a, scale, lr, alpha, momentum, nesterov):  # pragma: no cover - numba
    # mlpkit.optimizers.SGD on one row w (velocities v) from its gradient g_j = a_j · scale (a
    # row of the rank-one x ⊗ δ, or a gradient row times 1, which is exact), in place:
    # w ← w − η g, or Δw(t) = α Δw(t−1) − η g and w ← w + Δw(t) (Nesterov:
    # w ← w + (α Δw(t) − η g)): the same operations in the same order, each case its own loop
    # so that it vectorises
    n = w.shape[0]
    if not momentum:
        for j in range(n):
            w[j] = w[j] - lr * (a[j] * scale)
    elif nesterov:
        for j in range(n):
            step = lr * (a[j] * scale)
            velocity = alpha * v[j] - step
            v[j] = velocity
            w[j] = w[j] + (alpha * velocity - step)
    else:
        for j in range(n):
            velocity = alpha * v[j] - lr * (a[j] * scale)
            v[j] = velocity
            w[j] = w[j] + velocity


def _row_gradient(acts, deltas, row, i, nb, skip, g):  # pragma: no cover - compiled by numba
    # g = Σ_s a_prev[s, i] δ[s] (row i of a_prevᵀ δ), samples in order, summed from 0 as BLAS
    # does; an input that is 0 adds ±0 and is skipped when skipping
    n_in, n_out = row[N_IN], row[N_OUT]
    zero = g[0] - g[0]
    for j in range(n_out):
        g[j] = zero
    for s in range(nb):
        x = acts[row[IN_AT] + s * n_in + i]
        if skip and x == zero:
            continue
        d = _row_c(deltas, row[OUT_AT], s, n_out)
        for j in range(n_out):
            g[j] += x * d[j]


def _column_gradient(acts, deltas, row, j, nb, g):  # pragma: no cover - compiled by numba
    # g = Σ_s a_prev[s] δ[s, j] (column j of a_prevᵀ δ, as a row of its transpose)
    n_in, n_out = row[N_IN], row[N_OUT]
    zero = g[0] - g[0]
    for i in range(n_in):
        g[i] = zero
    for s in range(nb):
        dj, a = deltas[row[OUT_AT] + s * n_out + j], _row_c(acts, row[IN_AT], s, n_in)
        for i in range(n_in):
            g[i] += a[i] * dj


def _union(lists, counts, row, layer, nb, marks):  # pragma: no cover - compiled by numba
    # the inputs that are not 0 in some sample of the batch, in order, as list nb of the layer
    n_in = row[N_IN]
    for s in range(nb):
        listed = _row_c(lists, row[LIST_AT], s, n_in)
        for k in range(counts[layer, s]):
            marks[listed[k]] = 1
    counts[layer, nb] = _list_nonzero_c(marks, _row_c(lists, row[LIST_AT], nb, n_in))
    for i in range(n_in):
        marks[i] = 0


def _update_weights(params, velocities, row, layer, acts, deltas, lists, counts, marks, nb,
                    flags, scalars, grad, skip):  # pragma: no cover - compiled by numba
    # W ← W − η (a_prevᵀ δ + regularisation), one row (of W or Wᵀ) at a time: for a batch of
    # one without regularisation the rank-one update straight from x and δ
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    lr, alpha, wd, l1, one = scalars[LR], scalars[ALPHA], scalars[WD], scalars[L1], scalars[ONE]
    momentum, nesterov = flags[MOMENTUM] != 0, flags[NESTEROV] != 0
    direct = nb == 1 and wd == lr - lr and l1 == lr - lr
    v_flat = velocities if momentum else params
    if row[TRANSPOSED]:
        a = _row_c(acts, row[IN_AT], 0, n_in)
        g = grad[:n_in]
        for j in range(n_out):
            w, v = _row_c(params, w_at, j, n_in), _row_c(v_flat, w_at, j, n_in)
            if direct:
                _apply_c(w, v, a, deltas[row[OUT_AT] + j], lr, alpha, momentum, nesterov)
                continue
            _column_gradient_c(acts, deltas, row, j, nb, g)
            _regularise_c(g, w, wd, l1)
            _apply_c(w, v, g, one, lr, alpha, momentum, nesterov)
        return
    if skip and nb > 1:
        _union_c(lists, counts, row, layer, nb, marks[row[MARK_AT]:row[MARK_AT] + n_in])
    which = nb if nb > 1 else 0
    listed = _row_c(lists, row[LIST_AT], which, n_in)
    d = _row_c(deltas, row[OUT_AT], 0, n_out)
    g = grad[:n_out]
    for k in range(counts[layer, which] if skip else n_in):
        i = listed[k] if skip else k
        w, v = _row_c(params, w_at, i, n_out), _row_c(v_flat, w_at, i, n_out)
        if direct:
            _apply_c(w, v, d, acts[row[IN_AT] + i], lr, alpha, momentum, nesterov)
            continue
        _row_gradient_c(acts, deltas, row, i, nb, skip, g)
        _regularise_c(g, w, wd, l1)
        _apply_c(w, v, g, one, lr, alpha, momentum, nesterov)


def _update_biases(params, velocities, row, deltas, nb, flags, scalars, grad):  # pragma: no cover
    # b ← b − η Σ_samples δ (rows added in order; regularised only with decay_biases)
    n, at = row[N_OUT], row[B_AT]
    b, g = params[at:at + n], grad[:n]
    d = _row_c(deltas, row[OUT_AT], 0, n)
    for j in range(n):
        g[j] = d[j]
    for s in range(1, nb):
        d = _row_c(deltas, row[OUT_AT], s, n)
        for j in range(n):
            g[j] += d[j]
    if flags[DECAY_BIASES]:
        _regularise_c(g, b, scalars[WD], scalars[L1])
    momentum = flags[MOMENTUM] != 0
    v = velocities[at:at + n] if momentum else b
    _apply_c(b, v, g, scalars[ONE], scalars[LR], scalars[ALPHA], momentum, flags[NESTEROV] != 0)


# ---------------------------------------------------------------------------------------------
# One batch, one epoch


def _step(x, t, rows, nb, params, velocities, table, flags, scalars, limits, acts, zs, deltas,
          grad, lists, counts, marks):  # pragma: no cover - compiled by numba
    # One batch: forward, loss and δ^L, backward, check, update. Returns (status, loss, value).
    skip = flags[SKIP_ZEROS] != 0
    half, one = scalars[HALF], scalars[ONE]
    _gather_c(x, rows, nb, table, acts, lists, counts, skip and table[0, LISTED] != 0)
    n_layers = table.shape[0]
    for layer in range(n_layers):
        _layer_c(params, table, layer, acts, zs, lists, counts, nb, skip, half, one)
    loss = _output_delta_c(table[n_layers - 1], acts, zs, deltas, t, rows, nb, flags, scalars)
    if not np.isfinite(loss):
        return LOSS_DIVERGED, loss, loss
    _backward_c(params, table, acts, zs, deltas, nb, one)
    gradient_sum = _gradients_finite_c(table, acts, deltas, nb, limits, one)
    if not np.isnan(gradient_sum):
        return GRADIENT_DIVERGED, loss, gradient_sum
    for layer in range(n_layers):
        row = table[layer]
        _update_weights_c(params, velocities, row, layer, acts, deltas, lists, counts, marks,
                          nb, flags, scalars, grad, skip and row[LISTED] != 0)
        if row[B_AT] >= 0:
            _update_biases_c(params, velocities, row, deltas, nb, flags, scalars, grad)
    if skip and not _weights_stay_finite_c(params, table, acts, deltas, nb, scalars[LR],
                                           limits):
        flags[SKIP_ZEROS] = 0  # non-finite weights: 0 · w must be computed from now on
    return DONE, loss, loss


def _prefetch_rows(x, t, rows):  # pragma: no cover - compiled by numba
    # the next batch's samples, line by line, while this batch is computed (random rows of a
    # large data set come from memory, not from the caches)
    step = max(1, 128 // x.itemsize)  # every other line: the pairs come together
    for s in range(rows.shape[0]):
        source = x[rows[s]]
        for i in range(0, source.shape[0], step):
            _prefetch_c(source, i)
        _prefetch_c(t[rows[s]], 0)


def _epoch(x, t, order, size, params, velocities, table, flags, scalars, limits, acts, zs,
           deltas, grad, lists, counts, marks, outputs, result):  # pragma: no cover - numba
    # Every batch of ``order``; result[LOSS_SUM] = Σ batch losses (× batch size for mean),
    # result[LAST_LOSS] the last finite one, result[VALUE] the diverging value,
    # result[STATUS] and result[BATCHES] the status and the batches done.
    n = order.shape[0]
    n_batches = (n + size - 1) // size
    last = table[table.shape[0] - 1]
    n_out = last[N_OUT]
    total = 0.0
    for batch in range(n_batches):
        start = batch * size
        nb = min(size, n - start)
        ahead = start + max(size, 2)  # a batch ahead, two samples for batches of one
        _prefetch_rows_c(x, t, order[min(ahead, n):min(ahead + size, n)])
        status, loss, value = _step_c(x, t, order[start:start + nb], nb, params, velocities,
                                      table, flags, scalars, limits, acts, zs, deltas, grad,
                                      lists, counts, marks)
        if status != DONE:
            result[LOSS_SUM], result[VALUE] = total, value
            if status == GRADIENT_DIVERGED:
                result[LAST_LOSS] = loss
            result[STATUS], result[BATCHES] = status, batch
            return
        result[LAST_LOSS] = loss
        total += loss * nb if flags[MEAN] else loss
        for s in range(nb):
            out, a = outputs[start + s], _row_c(acts, last[OUT_AT], s, n_out)
            for j in range(n_out):
                out[j] = a[j]
    result[LOSS_SUM], result[STATUS], result[BATCHES] = total, DONE, n_batches


# the compiled functions, set by mlpkit.fast.online._kernel (helpers before their callers)
NAMES = ("row", "prefetch", "derivative", "dot", "activate", "list_nonzero", "list_batch", "gather",
         "forward", "layer", "exact_value", "output_delta", "propagate", "backward", "norm2",
         "abs_max", "gradient_sum", "gradients_finite", "weights_stay_finite", "regularise",
         "apply", "row_gradient", "column_gradient", "union", "update_weights",
         "update_biases", "step", "prefetch_rows", "epoch")
# compiled into their callers (a view is returned: compiled functions return no new arrays)
INLINE = ("row", "derivative")

_row_c = _derivative_c = _dot_c = _activate_c = _list_nonzero_c = _list_batch_c = None
_gather_c = _forward_c = _layer_c = _exact_value_c = _output_delta_c = _propagate_c = None
_backward_c = _norm2_c = _abs_max_c = _gradient_sum_c = _gradients_finite_c = None
_weights_stay_finite_c = _regularise_c = _apply_c = _row_gradient_c = None
_column_gradient_c = _union_c = _update_weights_c = _update_biases_c = _step_c = None
_epoch_c = _prefetch_c = _prefetch_rows_c = None
