"""The compiled epoch of :mod:`mlpkit.fast.online`, written as plain Python over flat arrays.

numba compiles these functions (:func:`mlpkit.fast.online._kernel`); read them as the algorithm.
The whole state of a run lives in three flat arrays, so that a call passes few arguments and
the inner loops run over contiguous row views of them (``_row``: they vectorise; no per-row
calls, no reference counting):

* ``fl`` (the run's dtype: float32 runs compute in float32): every layer's weights and biases
  from 0 on, the optimiser's Δw(t−1) at the same offsets from ``it[H_VELOCITIES]``, the work
  blocks ``acts``, ``zs`` and ``deltas`` (a (batch, width) block per layer, row by sample;
  ``acts`` starts with the batch's inputs), one row of a gradient (``grad``) and the scalars
  (LR, …). A layer with at least :data:`WIDE` outputs keeps W as the network does,
  (n_in, n_out), one row per input: the forward pass adds the rows of the inputs that are not
  0 and the update writes the same rows. A narrower layer keeps Wᵀ, (n_out, n_in): one
  contiguous row per unit, so that z_j is one dot product and the update of row j one vector
  operation (960-3-4: three rows of 960 instead of 960 rows of 3).
* ``it`` (int64): the header (where each part starts), one row per layer (the columns below),
  the flags, and per layer the inputs that are not 0 (a list, and per input the samples).
* ``lim`` (float64): the limits of the divergence checks, then the result.

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
# the header of ``it``: where the layer table, the flags and the ordinals 0, 1, 2, … start in
# it, the number of layers; where the work blocks, the velocities, the gradient row, a scratch
# row and the scalars start in fl; where the result starts in lim
(H_TABLE, H_FLAGS, H_ORDINALS, H_LAYERS, H_ACTS, H_ZS, H_DELTAS, H_VELOCITIES, H_GRAD,
 H_SCRATCH, H_SCALARS, H_RESULT) = range(12)
HEADER = 12
# columns of the layer table: sizes, where W (and b: −1 for none) start in fl, the
# activation, whether W is stored transposed, where the layer's input and output blocks start
# within the work blocks; where in it its lists of inputs that are not 0 start (for the batch,
# then per sample), its sample table (per input the samples where it is not 0), the lengths of
# those (MARK_AT: per input, COUNT_AT: the batch's, then per sample), and LISTED: 1 where the
# inputs may be 0 and W is stored by rows, so that skipping them pays (the data, the outputs of
# ReLU or identity units)
(N_IN, N_OUT, W_AT, B_AT, KIND, TRANSPOSED, IN_AT, OUT_AT, LIST_AT, SAMPLES_AT, MARK_AT,
 COUNT_AT, LISTED) = range(13)
COLUMNS = 13
# rows of W (or Wᵀ), and samples, taken four at a time in the sums of products: one load and
# store of the sum per four products, in the same order as one at a time
BLOCK = 4
# layers with fewer outputs than this keep Wᵀ
WIDE = 16
# the float scalars
LR, ALPHA, WD, L1, HALF, ONE, SCRATCH = range(7)
N_SCALARS = 7
# the int flags
NESTEROV, DECAY_BIASES, SKIP_ZEROS, LOSS_KIND, HALF_LOSS, MEAN, MOMENTUM = range(7)
N_FLAGS = 7
# the float64 limits: GradientCheck's for the squared bound, where a bound on |W| is measured
# again, ‖X‖² and max |X| of the data, then a bound on max |W| per layer
LIMIT2, REMEASURE, X_NORM2, X_MAX, WMAX = range(5)
# status codes
DONE, LOSS_DIVERGED, GRADIENT_DIVERGED = 0, 1, 2
# result slots: Σ batch losses, last finite loss, diverging value, status, batches done
LOSS_SUM, LAST_LOSS, VALUE, STATUS, BATCHES = range(5)
N_RESULT = 5


# ---------------------------------------------------------------------------------------------
# Small pieces (inlined)


def _row(flat, at, i, n):  # pragma: no cover - inlined by numba
    # row i of the (·, n) block that starts at flat[at]
    start = at + i * n
    return flat[start:start + n]


def _layer_row(it, layer):  # pragma: no cover - inlined by numba
    # the table row of layer ``layer``
    start = it[H_TABLE] + layer * COLUMNS
    return it[start:start + COLUMNS]


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


def _dot(a, b):  # pragma: no cover - compiled by numba, any order of the sum (see FUSED)
    # Σ a_i b_i: the one sum whose order the compiler may choose (vector lanes), as BLAS does
    total = a[0] * b[0]
    for i in range(1, a.shape[0]):
        total += a[i] * b[i]
    return total


def _top(z):  # pragma: no cover - inlined by numba
    # max z_j, NaN if any z_j is NaN (as np.max): the shift of softmax and log-sum-exp
    top = z[0]
    for j in range(1, z.shape[0]):
        if z[j] > top or z[j] != z[j]:
            top = z[j]
    return top


def _activate(kind, z, a, one):  # pragma: no cover - compiled by numba
    # a = σ(z) for one sample, in the operation order of mlpkit.activations
    zero = one - one
    n = z.shape[0]
    if kind == SOFTMAX:
        top = _top_c(z)
        total = zero
        for j in range(n):
            a[j] = np.exp(z[j] - top)
            total += a[j]
        for j in range(n):
            a[j] = a[j] / total
    elif kind == SIGMOID:  # the core's ½ (1 + tanh(z/2)), not 1 / (1 + e^(−z)): that one is
        half = one / (one + one)  # faster, but gives subnormal values (float32: z from −103 to
        for j in range(n):  # −87) where this gives 0, and saturated nets then ran 10× slower
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


def _inputs_listed(it, row, s, nb):  # pragma: no cover - inlined by numba
    # (list, count) of the inputs that are not 0: of sample s, or of the batch for s = −1 (for a
    # batch of one the same list)
    n_in = row[N_IN]
    start = row[LIST_AT] + (n_in * (s + 1) if nb > 1 else 0)
    return it[start:start + n_in], it[row[COUNT_AT] + (s + 1 if nb > 1 else 0)]


def _list_inputs(fl, it, layer, nb):  # pragma: no cover - compiled by numba
    # The inputs of layer ``layer`` that are not 0: per sample, for the batch, and for each such
    # input i the samples where it is not 0, in order (marks[i] of them, row i of the layer's
    # sample table); for a batch of one only the sample's list. Branch-free: each sample's list,
    # then the table from those.
    row = _layer_row_c(it, layer)
    n_in, a_at = row[N_IN], it[H_ACTS] + row[IN_AT]
    if nb == 1:
        index, _ = _inputs_listed_c(it, row, 0, 1)
        it[row[COUNT_AT]] = _list_nonzero_c(_row_c(fl, a_at, 0, n_in), index)
        return
    tally = it[row[MARK_AT]:row[MARK_AT] + n_in]
    samples = it[row[SAMPLES_AT]:row[SAMPLES_AT] + n_in * nb]
    for i in range(n_in):
        tally[i] = 0
    for s in range(nb):
        listed, _ = _inputs_listed_c(it, row, s, nb)
        count = _list_nonzero_c(_row_c(fl, a_at, s, n_in), listed)
        it[row[COUNT_AT] + 1 + s] = count
        for k in range(count):
            i = listed[k]
            samples[i * nb + tally[i]] = s
            tally[i] += 1
    index, _ = _inputs_listed_c(it, row, -1, nb)
    it[row[COUNT_AT]] = _list_nonzero_c(tally, index)


def _gather(x, rows, nb, fl, it, skip):  # pragma: no cover - compiled by numba
    # the batch's inputs into the first block of acts (samples in order), with their lists
    row = _layer_row_c(it, 0)
    n_in, a_at = row[N_IN], it[H_ACTS] + row[IN_AT]
    for s in range(nb):
        source, target = x[rows[s]], _row_c(fl, a_at, s, n_in)
        for i in range(n_in):
            target[i] = source[i]
    if skip:
        _list_inputs_c(fl, it, 0, nb)


def _add_rows(z, w, rows, x, count):  # pragma: no cover - compiled by numba
    # z += Σ_k x[k] w[rows[k]] for k < count in order (rows of W), four rows per pass over z
    n = z.shape[0]
    k = 0
    while k + BLOCK <= count:
        x0, x1, x2, x3 = x[k], x[k + 1], x[k + 2], x[k + 3]
        w0, w1 = _row_c(w, 0, rows[k], n), _row_c(w, 0, rows[k + 1], n)
        w2, w3 = _row_c(w, 0, rows[k + 2], n), _row_c(w, 0, rows[k + 3], n)
        for j in range(n):
            z[j] = z[j] + x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j]
        k += BLOCK
    while k < count:
        x0, w0 = x[k], _row_c(w, 0, rows[k], n)
        for j in range(n):
            z[j] += x0 * w0[j]
        k += 1


def _add_dense(z_block, a_block, w, nb, n_in, n_out):  # pragma: no cover - numba
    # z_s += Σ_i a_s[i] w[i] for each sample s, the inputs in order, four rows of W at a time
    # (each read once per batch)
    i = 0
    while i + BLOCK <= n_in:
        w0, w1 = _row_c(w, 0, i, n_out), _row_c(w, 0, i + 1, n_out)
        w2, w3 = _row_c(w, 0, i + 2, n_out), _row_c(w, 0, i + 3, n_out)
        for s in range(nb):
            z, a = _row_c(z_block, 0, s, n_out), _row_c(a_block, 0, s, n_in)
            x0, x1, x2, x3 = a[i], a[i + 1], a[i + 2], a[i + 3]
            for j in range(n_out):
                z[j] = z[j] + x0 * w0[j] + x1 * w1[j] + x2 * w2[j] + x3 * w3[j]
        i += BLOCK
    while i < n_in:
        w0 = _row_c(w, 0, i, n_out)
        for s in range(nb):
            z, x0 = _row_c(z_block, 0, s, n_out), a_block[s * n_in + i]
            for j in range(n_out):
                z[j] += x0 * w0[j]
        i += 1


def _forward(fl, it, layer, nb, listed, x):  # pragma: no cover - compiled by numba
    # z = a_prev · W for every sample of the batch (without b), each sum over the inputs in
    # order: the rows of W times the inputs (per sample only the inputs that are not 0 when
    # listed; ``x`` is scratch for them), or per row of Wᵀ one dot product per sample
    row = _layer_row_c(it, layer)
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    a_at, z_at = it[H_ACTS] + row[IN_AT], it[H_ZS] + row[OUT_AT]
    w = fl[w_at:w_at + n_in * n_out]
    if row[TRANSPOSED]:
        for j in range(n_out):
            w_j = _row_c(w, 0, j, n_in)
            for s in range(nb):
                fl[z_at + s * n_out + j] = _dot_c(_row_c(fl, a_at, s, n_in), w_j)
        return
    z_block = fl[z_at:z_at + nb * n_out]
    for q in range(nb * n_out):
        z_block[q] = fl[0] - fl[0]
    if not listed:
        _add_dense_c(z_block, fl[a_at:a_at + nb * n_in], w, nb, n_in, n_out)
        return
    for s in range(nb):
        a = _row_c(fl, a_at, s, n_in)
        index, count = _inputs_listed_c(it, row, s, nb)
        for k in range(count):
            x[k] = a[index[k]]
        _add_rows_c(_row_c(z_block, 0, s, n_out), w, index, x, count)


def _layer(fl, it, layer, nb, skip, one):  # pragma: no cover - compiled by numba
    # z = a_prev · W + b, a = σ(z) for layer ``layer``; the next layer's lists when skipping
    row = _layer_row_c(it, layer)
    n_out, b_at, kind = row[N_OUT], row[B_AT], row[KIND]
    g_at = it[H_GRAD]
    _forward_c(fl, it, layer, nb, skip and row[LISTED] != 0, fl[g_at:g_at + row[N_IN]])
    z_at, a_at = it[H_ZS] + row[OUT_AT], it[H_ACTS] + row[OUT_AT]
    for s in range(nb):
        z = _row_c(fl, z_at, s, n_out)
        if b_at >= 0:
            b = fl[b_at:b_at + n_out]
            for j in range(n_out):
                z[j] = z[j] + b[j]
        _activate_c(kind, z, _row_c(fl, a_at, s, n_out), one)
    if skip and layer + 1 < it[H_LAYERS] and _layer_row_c(it, layer + 1)[LISTED] != 0:
        _list_inputs_c(fl, it, layer + 1, nb)


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
        top = _top_c(z)
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


def _output_delta(fl, it, targets, rows, nb):  # pragma: no cover - compiled by numba
    # The batch loss E (Loss.output_value: the cross-entropies exactly, from z) and δ^L
    # (Loss.output_delta: the canonical shortcut for the cross-entropies)
    row = _layer_row_c(it, it[H_LAYERS] - 1)
    flags, scalars = it[it[H_FLAGS]:it[H_FLAGS] + N_FLAGS], fl[it[H_SCALARS]:]
    one = scalars[ONE]
    scale = 1.0 / nb if flags[MEAN] else 1.0
    loss_kind, kind, n = flags[LOSS_KIND], row[KIND], row[N_OUT]
    factor = scale if (loss_kind != SQUARED_ERROR or flags[HALF_LOSS]) else 2.0 * scale
    scalars[SCRATCH] = factor  # the factor in the arrays' dtype, as NumPy casts it
    c = scalars[SCRATCH]
    total = 0.0
    for s in range(nb):
        t, a = targets[rows[s]], _row_c(fl, it[H_ACTS] + row[OUT_AT], s, n)
        z = _row_c(fl, it[H_ZS] + row[OUT_AT], s, n)
        delta = _row_c(fl, it[H_DELTAS] + row[OUT_AT], s, n)
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


def _propagate(fl, it, layer, nb):  # pragma: no cover - compiled by numba
    # δ W^lᵀ into the δ block of the layer below, with the weights before this batch's update;
    # each sum over the units j in order (per sample the rows of Wᵀ times δ, or per row of W a
    # dot product)
    row = _layer_row_c(it, layer)
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    in_at, out_at = it[H_DELTAS] + row[IN_AT], it[H_DELTAS] + row[OUT_AT]
    w = fl[w_at:w_at + n_in * n_out]
    if row[TRANSPOSED]:
        units = it[it[H_ORDINALS]:it[H_ORDINALS] + n_out]
        for s in range(nb):
            _add_scaled_c(_row_c(fl, in_at, s, n_in), units, w, _row_c(fl, out_at, s, n_out),
                          n_out, True)
        return
    for i in range(n_in):
        w_i = _row_c(w, 0, i, n_out)
        for s in range(nb):
            fl[in_at + s * n_in + i] = _dot_c(_row_c(fl, out_at, s, n_out), w_i)


def _backward(fl, it, nb, one):  # pragma: no cover - compiled by numba
    # BP2 for every layer below the output, from the top: δ^(l−1) = (δ^l W^lᵀ) ⊙ σ'(z^(l−1))
    for layer in range(it[H_LAYERS] - 1, 0, -1):
        row, kind = _layer_row_c(it, layer), _layer_row_c(it, layer - 1)[KIND]
        _propagate_c(fl, it, layer, nb)
        at, n = row[IN_AT], nb * row[N_IN]
        acts, zs = fl[it[H_ACTS] + at:it[H_ACTS] + at + n], fl[it[H_ZS] + at:it[H_ZS] + at + n]
        deltas = fl[it[H_DELTAS] + at:it[H_DELTAS] + at + n]
        for q in range(n):
            deltas[q] = _derivative_c(kind, zs[q], acts[q], deltas[q], one)


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


def _gradient_sum(fl, it, layer, nb, one):  # pragma: no cover - compiled by numba
    # Σ of every entry of ∂E/∂W = a_prevᵀ δ and ∂E/∂b = Σ δ, each summed in the arrays' dtype
    # as GradientCheck.total does (NaN or ±inf exactly when some gradient is not finite)
    row = _layer_row_c(it, layer)
    zero = one - one
    n_in, n_out = row[N_IN], row[N_OUT]
    a_at, d_at = it[H_ACTS] + row[IN_AT], it[H_DELTAS] + row[OUT_AT]
    total_w, total_b = zero, zero
    for i in range(n_in):
        for j in range(n_out):
            g = zero
            for s in range(nb):
                g += fl[a_at + s * n_in + i] * fl[d_at + s * n_out + j]
            total_w += g
    if row[B_AT] >= 0:
        for j in range(n_out):
            g = zero
            for s in range(nb):
                g += fl[d_at + s * n_out + j]
            total_b += g
    return np.float64(total_w) + np.float64(total_b)


def _gradients_finite(fl, it, nb, lim, one):  # pragma: no cover - compiled by numba
    # GradientCheck: every entry ≤ √(max(‖a_prev‖², n)) ‖δ‖ (for the first layer ‖X‖² of the
    # whole data, as there); only when that bound fails is the exact sum taken. Returns NaN
    # when all are shown finite, else the sum over every gradient.
    shown = True
    for layer in range(it[H_LAYERS]):
        row = _layer_row_c(it, layer)
        a_norm2 = lim[X_NORM2] if layer == 0 else _norm2_c(fl, it[H_ACTS] + row[IN_AT],
                                                             nb * row[N_IN])
        bound = max(a_norm2, nb) * _norm2_c(fl, it[H_DELTAS] + row[OUT_AT], nb * row[N_OUT])
        if not bound < lim[LIMIT2]:
            shown = False
    if shown:
        return np.nan
    total = 0.0
    for layer in range(it[H_LAYERS]):
        total += _gradient_sum_c(fl, it, layer, nb, one)
    return np.nan if np.isfinite(total) else total


def _weights_stay_finite(fl, it, nb, lim):  # pragma: no cover - compiled by numba
    # Skipping the inputs that are 0 is exact while the weights are finite. With plain SGD a
    # batch moves each weight by at most nb · max|a_prev| · max|δ| · η (max |X| of the whole
    # data for the first layer), so lim[WMAX + l] (a bound on max |W_l|, 1 % generous for
    # rounding) grows by that; only when it nears the largest float are the weights measured
    # again. False when a weight is not finite.
    big, lr = lim[REMEASURE], abs(np.float64(fl[it[H_SCALARS] + LR]))
    for layer in range(it[H_LAYERS]):
        row = _layer_row_c(it, layer)
        n_in, n_out = row[N_IN], row[N_OUT]
        a_max = lim[X_MAX] if layer == 0 else _abs_max_c(fl, it[H_ACTS] + row[IN_AT], nb * n_in)
        d_max = _abs_max_c(fl, it[H_DELTAS] + row[OUT_AT], nb * n_out)
        lim[WMAX + layer] += 1.01 * nb * a_max * d_max * lr
        if not lim[WMAX + layer] < big:
            lim[WMAX + layer] = _abs_max_c(fl, row[W_AT], n_in * n_out)
            if not lim[WMAX + layer] < big:
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


def _add_scaled(g, rows, block, scale, count, first):  # pragma: no cover - compiled by numba
    # g (= or +=) Σ_k scale[k] · row rows[k] of ``block`` for k < count in order, four at a time
    n = g.shape[0]
    k = 0
    while k < count:
        if k + BLOCK <= count:
            c0, c1, c2, c3 = scale[k], scale[k + 1], scale[k + 2], scale[k + 3]
            r0, r1 = _row_c(block, 0, rows[k], n), _row_c(block, 0, rows[k + 1], n)
            r2, r3 = _row_c(block, 0, rows[k + 2], n), _row_c(block, 0, rows[k + 3], n)
            if first and k == 0:
                for j in range(n):
                    g[j] = c0 * r0[j] + c1 * r1[j] + c2 * r2[j] + c3 * r3[j]
            else:
                for j in range(n):
                    g[j] = g[j] + c0 * r0[j] + c1 * r1[j] + c2 * r2[j] + c3 * r3[j]
            k += BLOCK
            continue
        c0, r0 = scale[k], _row_c(block, 0, rows[k], n)
        if first and k == 0:
            for j in range(n):
                g[j] = c0 * r0[j]
        else:
            for j in range(n):
                g[j] += c0 * r0[j]
        k += 1


def _row_gradient(fl, it, row, i, nb, listed, g, scale):  # pragma: no cover - numba
    # g = Σ_s a_prev[s, i] δ[s] (row i of a_prevᵀ δ), over the samples in order (when listed
    # only those where input i is not 0: the others add ±0); ``scale`` is scratch
    n_in, n_out = row[N_IN], row[N_OUT]
    a_at, d_at = it[H_ACTS] + row[IN_AT], it[H_DELTAS] + row[OUT_AT]
    if listed:
        samples = it[row[SAMPLES_AT] + i * nb:row[SAMPLES_AT] + (i + 1) * nb]
        count = it[row[MARK_AT] + i]
    else:
        samples, count = it[it[H_ORDINALS]:it[H_ORDINALS] + nb], nb
    for q in range(count):
        scale[q] = fl[a_at + samples[q] * n_in + i]
    _add_scaled_c(g, samples, fl[d_at:d_at + nb * n_out], scale, count, True)


def _column_gradient(fl, it, row, j, nb, g, scale):  # pragma: no cover - compiled by numba
    # g = Σ_s a_prev[s] δ[s, j] (column j of a_prevᵀ δ, as a row of its transpose)
    n_in, n_out = row[N_IN], row[N_OUT]
    for s in range(nb):
        scale[s] = fl[it[H_DELTAS] + row[OUT_AT] + s * n_out + j]
    a_at = it[H_ACTS] + row[IN_AT]
    _add_scaled_c(g, it[it[H_ORDINALS]:it[H_ORDINALS] + nb], fl[a_at:a_at + nb * n_in],
                  scale, nb, True)


def _sgd_rows(fl, it, row, nb, listed, lr):  # pragma: no cover - compiled by numba
    # Plain SGD on the rows of W for a batch of more than one: per row i (only those of inputs
    # that are not 0 in some sample when listed) g = Σ_s a_prev[s, i] δ[s] over the samples in
    # order, then w_i ← w_i − η g in one rounding (compiled with contraction, as the sums)
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    a_at, d_at = it[H_ACTS] + row[IN_AT], it[H_DELTAS] + row[OUT_AT]
    g, scale = fl[it[H_GRAD]:it[H_GRAD] + n_out], fl[it[H_SCRATCH]:it[H_SCRATCH] + nb]
    deltas, ordinals = fl[d_at:d_at + nb * n_out], it[it[H_ORDINALS]:it[H_ORDINALS] + nb]
    index, count = _inputs_listed_c(it, row, -1, nb)
    for k in range(count if listed else n_in):
        i = index[k] if listed else k
        if listed:
            samples = it[row[SAMPLES_AT] + i * nb:row[SAMPLES_AT] + (i + 1) * nb]
            used = it[row[MARK_AT] + i]
        else:
            samples, used = ordinals, nb
        for q in range(used):
            scale[q] = fl[a_at + samples[q] * n_in + i]
        _add_scaled_c(g, samples, deltas, scale, used, True)
        w = _row_c(fl, w_at, i, n_out)
        for j in range(n_out):
            w[j] = w[j] - lr * g[j]


def _update_weights(fl, it, layer, nb, listed):  # pragma: no cover - compiled by numba
    # W ← W − η (a_prevᵀ δ + regularisation), one row (of W or Wᵀ) at a time: for a batch of
    # one without regularisation the rank-one update straight from x and δ; when listed only
    # the rows of inputs that are not 0 in some sample (plain SGD: the others do not change)
    row, scalars = _layer_row_c(it, layer), fl[it[H_SCALARS]:]
    flags = it[it[H_FLAGS]:it[H_FLAGS] + N_FLAGS]
    n_in, n_out, w_at = row[N_IN], row[N_OUT], row[W_AT]
    lr, alpha, wd, l1, one = scalars[LR], scalars[ALPHA], scalars[WD], scalars[L1], scalars[ONE]
    momentum, nesterov = flags[MOMENTUM] != 0, flags[NESTEROV] != 0
    direct = nb == 1 and wd == lr - lr and l1 == lr - lr
    v_at = w_at + (it[H_VELOCITIES] if momentum else 0)
    a_at, d_at = it[H_ACTS] + row[IN_AT], it[H_DELTAS] + row[OUT_AT]
    width = n_in if row[TRANSPOSED] else n_out
    g, scale = fl[it[H_GRAD]:it[H_GRAD] + width], fl[it[H_SCRATCH]:it[H_SCRATCH] + nb]
    if row[TRANSPOSED]:
        for j in range(n_out):
            w, v = _row_c(fl, w_at, j, n_in), _row_c(fl, v_at, j, n_in)
            if direct:
                _apply_c(w, v, fl[a_at:a_at + n_in], fl[d_at + j], lr, alpha, momentum,
                         nesterov)
                continue
            _column_gradient_c(fl, it, row, j, nb, g, scale)
            _regularise_c(g, w, wd, l1)
            _apply_c(w, v, g, one, lr, alpha, momentum, nesterov)
        return
    if nb > 1 and not momentum and wd == lr - lr and l1 == lr - lr:
        _sgd_rows_c(fl, it, row, nb, listed, lr)
        return
    index, count = _inputs_listed_c(it, row, -1, nb)
    for k in range(count if listed else n_in):
        i = index[k] if listed else k
        w, v = _row_c(fl, w_at, i, n_out), _row_c(fl, v_at, i, n_out)
        if direct:
            _apply_c(w, v, fl[d_at:d_at + n_out], fl[a_at + i], lr, alpha, momentum, nesterov)
            continue
        _row_gradient_c(fl, it, row, i, nb, listed and nb > 1, g, scale)
        _regularise_c(g, w, wd, l1)
        _apply_c(w, v, g, one, lr, alpha, momentum, nesterov)


def _update_biases(fl, it, layer, nb):  # pragma: no cover - compiled by numba
    # b ← b − η Σ_samples δ (rows added in order; regularised only with decay_biases)
    row, scalars = _layer_row_c(it, layer), fl[it[H_SCALARS]:]
    flags = it[it[H_FLAGS]:it[H_FLAGS] + N_FLAGS]
    n, at, d_at, g_at = row[N_OUT], row[B_AT], it[H_DELTAS] + row[OUT_AT], it[H_GRAD]
    b, g = fl[at:at + n], fl[g_at:g_at + n]
    d = _row_c(fl, d_at, 0, n)
    for j in range(n):
        g[j] = d[j]
    for s in range(1, nb):
        d = _row_c(fl, d_at, s, n)
        for j in range(n):
            g[j] += d[j]
    if flags[DECAY_BIASES]:
        _regularise_c(g, b, scalars[WD], scalars[L1])
    momentum = flags[MOMENTUM] != 0
    v_at = at + (it[H_VELOCITIES] if momentum else 0)
    _apply_c(b, fl[v_at:v_at + n], g, scalars[ONE], scalars[LR], scalars[ALPHA], momentum,
             flags[NESTEROV] != 0)


# ---------------------------------------------------------------------------------------------
# One batch, one epoch


def _step(x, t, rows, nb, fl, it, lim):  # pragma: no cover - compiled by numba
    # One batch: forward, loss and δ^L, backward, check, update. Returns (status, loss, value).
    flags = it[it[H_FLAGS]:it[H_FLAGS] + N_FLAGS]
    skip = flags[SKIP_ZEROS] != 0
    one = fl[it[H_SCALARS] + ONE]
    _gather_c(x, rows, nb, fl, it, skip and _layer_row_c(it, 0)[LISTED] != 0)
    n_layers = it[H_LAYERS]
    for layer in range(n_layers):
        _layer_c(fl, it, layer, nb, skip, one)
    loss = _output_delta_c(fl, it, t, rows, nb)
    if not np.isfinite(loss):
        return LOSS_DIVERGED, loss, loss
    _backward_c(fl, it, nb, one)
    gradient_sum = _gradients_finite_c(fl, it, nb, lim, one)
    if not np.isnan(gradient_sum):
        return GRADIENT_DIVERGED, loss, gradient_sum
    for layer in range(n_layers):
        row = _layer_row_c(it, layer)
        _update_weights_c(fl, it, layer, nb, skip and row[LISTED] != 0)
        if row[B_AT] >= 0:
            _update_biases_c(fl, it, layer, nb)
    if skip and not _weights_stay_finite_c(fl, it, nb, lim):
        flags[SKIP_ZEROS] = 0  # non-finite weights: 0 · w must be computed from now on
    return DONE, loss, loss


def _prefetch_rows(x, t, rows):  # pragma: no cover - compiled by numba
    # the samples a little ahead, line by line, while this batch is computed (random rows of a
    # large data set come from memory, not from the caches)
    step = max(1, 128 // x.itemsize)  # every other line: the pairs come together
    for s in range(rows.shape[0]):
        source = x[rows[s]]
        for i in range(0, source.shape[0], step):
            _prefetch_c(source, i)
        _prefetch_c(t[rows[s]], 0)


def _epoch(x, t, order, size, fl, it, lim, outputs):  # pragma: no cover - compiled by numba
    # Every batch of ``order``; in lim from it[H_RESULT]: LOSS_SUM the Σ batch losses (× batch
    # size for mean), LAST_LOSS the last finite one, VALUE the diverging value, STATUS and
    # BATCHES the status and the batches done.
    result = lim[it[H_RESULT]:it[H_RESULT] + N_RESULT]
    n = order.shape[0]
    n_batches = (n + size - 1) // size
    last = _layer_row_c(it, it[H_LAYERS] - 1)
    n_out, a_at = last[N_OUT], it[H_ACTS] + last[OUT_AT]
    mean = it[it[H_FLAGS] + MEAN] != 0
    total = 0.0
    for batch in range(n_batches):
        start = batch * size
        nb = min(size, n - start)
        ahead = start + max(size, 2)  # a batch ahead, two samples for batches of one
        _prefetch_rows_c(x, t, order[min(ahead, n):min(ahead + size, n)])
        status, loss, value = _step_c(x, t, order[start:start + nb], nb, fl, it, lim)
        if status != DONE:
            result[LOSS_SUM], result[VALUE] = total, value
            if status == GRADIENT_DIVERGED:
                result[LAST_LOSS] = loss
            result[STATUS], result[BATCHES] = status, batch
            return
        result[LAST_LOSS] = loss
        total += loss * nb if mean else loss
        for s in range(nb):
            out, a = outputs[start + s], _row_c(fl, a_at, s, n_out)
            for j in range(n_out):
                out[j] = a[j]
    result[LOSS_SUM], result[STATUS], result[BATCHES] = total, DONE, n_batches


# the compiled functions, set by mlpkit.fast.online._kernel (helpers before their callers)
NAMES = ("row", "layer_row", "inputs_listed", "prefetch", "derivative", "dot", "top", "activate",
         "list_nonzero", "list_inputs", "gather", "add_rows", "add_dense", "add_scaled",
         "forward", "layer", "exact_value", "output_delta", "propagate", "backward", "norm2",
         "abs_max", "gradient_sum", "gradients_finite", "weights_stay_finite", "regularise",
         "apply", "row_gradient", "column_gradient", "sgd_rows", "update_weights",
         "update_biases", "step", "prefetch_rows", "epoch")
# compiled into their callers (a view is returned: compiled functions return no new arrays)
INLINE = ("row", "layer_row", "inputs_listed", "derivative", "top", "add_scaled")
# the sums of products (the matrix products' parts): a · b + c may be one fused multiply-add
# there, rounded once, as BLAS does; the dot product may also sum in any order (vector lanes);
# and plain SGD's w − η g for batches of more than one. Nowhere else: the element-wise
# formulas round as NumPy's separate operations do (a batch of one: bit for bit).
FUSED = ("dot", "add_rows", "add_dense", "propagate", "row_gradient", "column_gradient",
         "sgd_rows")

_sgd_rows_c = _inputs_listed_c = _add_rows_c = _add_dense_c = _add_scaled_c = None
_row_c = _layer_row_c = _derivative_c = _dot_c = _activate_c = _list_nonzero_c = None
_list_inputs_c = _gather_c = _forward_c = _layer_c = _exact_value_c = _output_delta_c = None
_propagate_c = _backward_c = _norm2_c = _abs_max_c = _gradient_sum_c = None
_gradients_finite_c = _weights_stay_finite_c = _regularise_c = _apply_c = None
_row_gradient_c = _column_gradient_c = _update_weights_c = _update_biases_c = None
_step_c = _epoch_c = _prefetch_c = _prefetch_rows_c = _top_c = None
