"""The arithmetic of :mod:`mlpkit.sklearn`: forward pass, backpropagation with sample weights,
scikit-learn's two stochastic optimisers, and the packing used by L-BFGS.

Everything here follows scikit-learn's ``_multilayer_perceptron`` and
``_stochastic_optimizers`` operation for operation (same formulas, same order), so that the
same random state gives the same model. The activations and the output error δ^L come from
mlpkit's core (:mod:`mlpkit.activations`, :mod:`mlpkit.losses`).

Shapes: X (n_samples, n_features); ``coefs[i]`` (n_units_i, n_units_{i+1});
``intercepts[i]`` (n_units_{i+1},); targets Y (n_samples, n_outputs).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy
from sklearn.utils.extmath import safe_sparse_dot

from ..activations import Activation, get_activation
from ..losses import Loss, get_loss

__all__ = [
    "AdamOptimizer",
    "SGDOptimizer",
    "backprop",
    "forward",
    "loss_value",
    "pack",
]

# loss name of the estimator and output activation -> name of mlpkit's core loss
_CORE_LOSS = {
    ("log_loss", "softmax"): "cross_entropy",
    ("log_loss", "logistic"): "binary_cross_entropy",
}


def activation(name: str) -> Activation:
    """mlpkit's activation for scikit-learn's name ("logistic" is mlpkit's sigmoid)."""
    return get_activation(name)


def core_loss(loss: str, out_activation: str) -> Loss:
    """mlpkit's loss object for the estimator's ``loss`` and output activation, summed over
    the samples (the estimator divides by the sum of the sample weights itself)."""
    instance = get_loss(_CORE_LOSS.get((loss, out_activation), loss))
    instance.reduction = "sum"
    return instance


def forward(est, X, *, keep: bool = False, dropout_rng=None):
    """Output activations (n_samples, n_outputs) of the estimator's network for X.

    ``keep=True`` returns ``(inputs, zs, outputs, masks)``: the input of every layer (X first),
    every layer's weighted input z and activation a, and the dropout masks (None without
    dropout).
    """
    hidden = activation(est.activation)
    output = activation(est.out_activation_)
    rate = float(getattr(est, "dropout", 0.0) or 0.0) if dropout_rng is not None else 0.0
    last = est.n_layers_ - 2
    a = X
    inputs, zs, outs, masks = [X], [], [], []
    for i in range(est.n_layers_ - 1):
        z = safe_sparse_dot(a, est.coefs_[i])
        z += est.intercepts_[i]
        a = (output if i == last else hidden).value(z)
        mask = None
        if i != last and rate > 0.0:  # inverted dropout on the hidden units while training
            keep_unit = dropout_rng.random(a.shape) >= rate
            mask = keep_unit.astype(a.dtype) / np.asarray(1.0 - rate, dtype=a.dtype)
        if keep:
            zs.append(z)
            outs.append(a)
            masks.append(mask)
            if i != last:
                inputs.append(a if mask is None else a * mask)
        if mask is not None:
            a = a * mask
    if keep:
        return inputs, zs, outs, masks
    return a


def loss_value(loss: str, out_activation: str, Y, P, sample_weight=None) -> float:
    """The data term of scikit-learn's loss for targets Y and outputs P, each
    (n_samples, n_outputs): a weighted average over the samples.

    "squared_error": ½ · mean over the outputs of the average (P − Y)² (scikit-learn averages
    over outputs here although its gradient does not); "log_loss": cross-entropy, binary for a
    logistic output; "poisson": half Poisson deviance; "absolute_error": Σ_outputs |P − Y|.
    """
    if loss == "squared_error":
        return 0.5 * np.average((Y - P) ** 2, weights=sample_weight, axis=0).mean()
    if loss == "poisson":
        return np.average(xlogy(Y, Y / P) - Y + P, weights=sample_weight, axis=0).sum()
    if loss == "absolute_error":
        return np.average(np.abs(Y - P), weights=sample_weight, axis=0).sum()
    eps = np.finfo(P.dtype).eps
    P = np.clip(P, eps, 1 - eps)
    if out_activation == "logistic":
        per_output = xlogy(Y, P) + xlogy(1 - Y, 1 - P)
    else:
        if P.shape[1] == 1:
            P = np.append(1 - P, P, axis=1)
        if Y.shape[1] == 1:
            Y = np.append(1 - Y, Y, axis=1)
        per_output = xlogy(Y, P)
    return -np.average(per_output, weights=sample_weight, axis=0).sum()


def backprop(est, X, Y, sample_weight=None, dropout_rng=None):
    """Loss (with the L2 term) and its gradients for one batch, as scikit-learn's ``_backprop``.

    Returns ``(loss, coef_grads, intercept_grads)``. The gradient of the coefficients is
    (aᵀ δ + alpha · W) / Σw and of the intercepts Σ δ / Σw, with δ^L = (a − y) · w for the
    canonical output/loss pairs (mlpkit's core loss gives δ^L for the others); Σw is the
    number of samples without sample weights. ``est.l1`` adds l1 · sign(W) to the gradient.

    The weights enter as in :func:`mlpkit.train`: :meth:`mlpkit.Loss.output_delta` with
    ``sample_weight`` (here of a ``reduction="sum"`` loss: row k of δ^L times w_k); the
    division by Σw comes after the products, in scikit-learn's order, where ``train`` puts
    w_k / Σw into δ^L (the same gradient; other rounding).
    """
    inputs, zs, outs, masks = forward(est, X, keep=True, dropout_rng=dropout_rng)
    output = outs[-1]
    loss = loss_value(est.loss, est.out_activation_, Y, output, sample_weight)
    values = 0
    for s in est.coefs_:
        s = s.ravel()
        values += np.dot(s, s)
    sw_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
    loss += (0.5 * est.alpha) * values / sw_sum

    out_act = activation(est.out_activation_)
    core = core_loss(est.loss, est.out_activation_)
    if sample_weight is None and out_act.name == core.canonical_activation:
        delta = output - Y  # scikit-learn's δ^L = a − y
    else:  # the core's δ^L, summed: row k times w_k (mlpkit.train's weighting, reduction sum)
        delta = core.output_delta(out_act, zs[-1], output, Y, sample_weight)

    hidden = activation(est.activation)
    l1 = float(getattr(est, "l1", 0.0) or 0.0)
    n = est.n_layers_ - 1
    coef_grads, intercept_grads = [None] * n, [None] * n
    for i in range(n - 1, -1, -1):
        grad = safe_sparse_dot(inputs[i].T, delta)
        grad += est.alpha * est.coefs_[i]
        grad /= sw_sum
        if l1:
            grad += l1 * np.sign(est.coefs_[i])
        coef_grads[i] = grad
        intercept_grads[i] = np.sum(delta, axis=0) / sw_sum
        if i > 0:
            grad_a = safe_sparse_dot(delta, est.coefs_[i].T)
            if masks[i - 1] is not None:
                grad_a *= masks[i - 1]
            delta = hidden.backward(zs[i - 1], outs[i - 1], grad_a)
    return loss, coef_grads, intercept_grads


def pack(coefs, intercepts) -> np.ndarray:
    """One flat vector: every coefficient matrix, then every intercept vector."""
    return np.hstack([part.ravel() for part in (*coefs, *intercepts)])


def unpack(est, packed: np.ndarray) -> None:
    """Put a vector made by :func:`pack` back into ``est.coefs_`` and ``est.intercepts_``."""
    start = 0
    for i, coef in enumerate(est.coefs_):
        end = start + coef.size
        est.coefs_[i] = np.reshape(packed[start:end], coef.shape)
        start = end
    for i, intercept in enumerate(est.intercepts_):
        end = start + intercept.size
        est.intercepts_[i] = packed[start:end]
        start = end


def _weak(value, dtype: np.dtype):
    """``value`` as NumPy's promotion uses it with arrays of ``dtype`` (NEP 50): a Python
    number takes the arrays' dtype, a NumPy scalar keeps its own."""
    if isinstance(value, bool | int | float) and not isinstance(value, np.generic):
        return dtype.type(value)
    return value


def _kernel(name: str, *arrays: list[np.ndarray]):
    """The compiled update ``name`` of :mod:`mlpkit.fast.sklearn_kernels`, or None (no
    numba, or arrays that are not all C-contiguous of one dtype: the NumPy passes then)."""
    from ..fast import sklearn_kernels

    kernel = sklearn_kernels.load().get(name)
    if kernel is None:
        return None
    dtypes = {a.dtype for group in arrays for a in group}
    if len(dtypes) != 1 or not all(a.flags.c_contiguous and a.flags.writeable
                                   for group in arrays for a in group):
        return None
    return kernel


class _Optimizer:
    """scikit-learn's optimiser protocol: ``update_params``, ``iteration_ends``,
    ``trigger_stopping`` and the current ``learning_rate``."""

    def __init__(self, learning_rate_init: float = 0.1) -> None:
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)

    def update_params(self, params, grads) -> None:
        for param, update in zip(params, self._get_updates(grads), strict=True):
            param += update

    def iteration_ends(self, time_step: int) -> None:
        pass

    def trigger_stopping(self, msg: str, verbose) -> bool:
        if verbose:
            print(msg + " Stopping.")
        return True

    def _get_updates(self, grads):
        raise NotImplementedError


class SGDOptimizer(_Optimizer):
    """Mini-batch gradient descent with (Nesterov) momentum and scikit-learn's learning-rate
    schedules: v ← μ v − η g, then the update v (or μ v − η g with Nesterov's momentum)."""

    def __init__(self, params, learning_rate_init=0.1, lr_schedule="constant", momentum=0.9,
                 nesterov=True, power_t=0.5) -> None:
        super().__init__(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.velocities = [np.zeros_like(param) for param in params]

    def iteration_ends(self, time_step: int) -> None:
        """"invscaling": η = η₀ / (t + 1)^power_t, t the samples seen so far."""
        if self.lr_schedule == "invscaling":
            self.learning_rate = float(self.learning_rate_init) / (time_step + 1) ** self.power_t

    def trigger_stopping(self, msg: str, verbose) -> bool:
        """"adaptive": divide η by 5 instead of stopping, until η <= 1e-6."""
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(msg, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def update_params(self, params, grads) -> None:
        # scikit-learn's updates computed in place: the same operations in the same order,
        # so the same bits, with fewer temporary arrays (one compiled pass with numba)
        kernel = _kernel("sgd", params, grads, self.velocities)
        if kernel is not None:
            for param, velocity, grad in zip(params, self.velocities, grads, strict=True):
                dtype = param.dtype
                kernel(param.reshape(-1), grad.reshape(-1), velocity.reshape(-1),
                       _weak(self.learning_rate, dtype), _weak(self.momentum, dtype),
                       bool(self.nesterov))
            return
        for param, velocity, grad in zip(params, self.velocities, grads, strict=True):
            velocity *= self.momentum
            velocity -= self.learning_rate * grad
            if self.nesterov:
                update = self.momentum * velocity
                update -= self.learning_rate * grad
                param += update
            else:
                param += velocity

    def _get_updates(self, grads):
        updates = [
            self.momentum * velocity - self.learning_rate * grad
            for velocity, grad in zip(self.velocities, grads, strict=True)
        ]
        self.velocities = updates
        if self.nesterov:
            updates = [
                self.momentum * velocity - self.learning_rate * grad
                for velocity, grad in zip(self.velocities, grads, strict=True)
            ]
        return updates


class AdamOptimizer(_Optimizer):
    """Adam (Kingma & Ba) as scikit-learn writes it: m ← β₁m + (1 − β₁)g,
    v ← β₂v + (1 − β₂)g², η_t = η₀ √(1 − β₂ᵗ) / (1 − β₁ᵗ), update −η_t m / (√v + ε)."""

    def __init__(self, params, learning_rate_init=0.001, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8) -> None:
        super().__init__(learning_rate_init)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        self.ms = [np.zeros_like(param) for param in params]
        self.vs = [np.zeros_like(param) for param in params]

    def update_params(self, params, grads) -> None:
        # in place, operation for operation as _get_updates (the same bits)
        self.t += 1
        b1, b2 = self.beta_1, self.beta_2
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        )
        kernel = _kernel("adam", params, grads, self.ms, self.vs)
        if kernel is not None:
            for param, m, v, grad in zip(params, self.ms, self.vs, grads, strict=True):
                dtype = param.dtype
                kernel(param.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
                       _weak(b1, dtype), _weak(1 - b1, dtype), _weak(b2, dtype),
                       _weak(1 - b2, dtype), self.learning_rate, _weak(self.epsilon, dtype))
            return
        for param, m, v, grad in zip(params, self.ms, self.vs, grads, strict=True):
            m *= b1
            m += (1 - b1) * grad
            v *= b2
            v += (1 - b2) * (grad**2)
            denominator = np.sqrt(v)
            denominator += self.epsilon
            update = -self.learning_rate * m
            update /= denominator
            param += update

    def _get_updates(self, grads):
        self.t += 1
        self.ms = [
            self.beta_1 * m + (1 - self.beta_1) * grad
            for m, grad in zip(self.ms, grads, strict=True)
        ]
        self.vs = [
            self.beta_2 * v + (1 - self.beta_2) * (grad**2)
            for v, grad in zip(self.vs, grads, strict=True)
        ]
        self.learning_rate = (
            self.learning_rate_init * np.sqrt(1 - self.beta_2**self.t) / (1 - self.beta_1**self.t)
        )
        return [
            -self.learning_rate * m / (np.sqrt(v) + self.epsilon)
            for m, v in zip(self.ms, self.vs, strict=True)
        ]
