"""scikit-learn's mini-batch step for the stochastic solvers, without the overhead around its
matrix products.

:class:`StochasticStep` computes what :func:`._engine.backprop` computes for one batch (the
loss with its L2 term and every gradient), operation for operation in scikit-learn's order,
so the model keeps scikit-learn's bits (tests/sklearn/test_sklearn_dropin.py). What changes is
everything around the products: the batch rows are gathered into one reused buffer
(``np.take`` instead of a new array per batch), every z, a, δ and gradient lives in a buffer
allocated once per epoch and the products write into them (``out=``), and the element-wise
work is done by the compiled kernels of :mod:`mlpkit.fast.sklearn_kernels`: intercept and ReLU in
one pass, ``+ αW`` and ``/ Σw`` in one pass, the ReLU's derivative without a boolean mask.
The optimisers' updates (:class:`._engine.SGDOptimizer`, :class:`._engine.AdamOptimizer`) take
the same kernels.

It applies to dense input, hidden activations ``relu``, ``tanh`` or ``identity``, no dropout,
and needs numba; elsewhere :meth:`StochasticStep.create` returns None and the estimator runs
:func:`._engine.backprop`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..fast import sklearn_kernels
from . import _engine

__all__ = ["StochasticStep"]

matmul = np.matmul  # every matrix product of the step (benchmarks/sklearn_profile.py times it)

#: hidden activations (scikit-learn's names and mlpkit's aliases) the step has kernels for
HIDDEN = {"relu": "relu", "tanh": "tanh", "identity": "identity", "linear": "identity"}


class StochasticStep:
    """One epoch's mini-batch steps: ``backprop(batch_idx)`` returns the batch loss and leaves
    the gradients in ``grads`` (coefficients, then intercepts, as scikit-learn's list)."""

    @classmethod
    def create(cls, est, X, Y, sample_weight, batch_size: int) -> StochasticStep | None:
        """The step for this fit, or None where it does not apply (see the module)."""
        if sp.issparse(X) or float(getattr(est, "dropout", 0.0) or 0.0) > 0.0:
            return None
        if est.activation not in HIDDEN or X.dtype not in (np.float32, np.float64):
            return None
        arrays = (*est.coefs_, *est.intercepts_, *(() if sample_weight is None
                                                     else (sample_weight,)))
        if any(a.dtype != X.dtype for a in arrays):
            # float64 weights with float32 data, or a warm start on data of another dtype:
            # NumPy's promotions make some gradients float64 there (as in scikit-learn)
            return None
        kernels = sklearn_kernels.load()
        if not kernels:
            return None
        return cls(est, X, Y, sample_weight, batch_size, kernels)

    def __init__(self, est, X, Y, sample_weight, batch_size: int, kernels: dict) -> None:
        self.est, self.X, self.Y, self.sample_weight = est, X, Y, sample_weight
        self.k = kernels
        self.dtype = X.dtype
        self.hidden = HIDDEN[est.activation]
        self.output = _engine.activation(est.out_activation_)
        self.core = _engine.core_loss(est.loss, est.out_activation_)
        self.canonical = self.output.name == self.core.canonical_activation
        units = [c.shape[1] for c in est.coefs_]
        empty = np.empty
        self.xb = empty((batch_size, X.shape[1]), X.dtype)
        self.yb = empty((batch_size, Y.shape[1]), Y.dtype)
        self.wb = None if sample_weight is None else empty(batch_size, sample_weight.dtype)
        self.acts = [empty((batch_size, u), X.dtype) for u in units]
        self.deltas = [empty((batch_size, u), X.dtype) for u in units]
        self.coef_grads = [empty(c.shape, X.dtype) for c in est.coefs_]
        self.intercept_grads = [empty(i.shape, X.dtype) for i in est.intercepts_]
        self.grads = self.coef_grads + self.intercept_grads

    def _gather(self, batch_idx):
        """(X, Y, sample weights) of the batch: views for a slice, else gathered rows."""
        if isinstance(batch_idx, slice):
            sw = None if self.sample_weight is None else self.sample_weight[batch_idx]
            return self.X[batch_idx], self.Y[batch_idx], sw
        # mode="clip": the indices are a permutation's; the default "raise" copies through a
        # temporary buffer when given out= (twice the time of the gather: 1.2 against 0.5 ms
        # per 200 float64 rows of Fashion-MNIST)
        m = batch_idx.shape[0]
        xb = np.take(self.X, batch_idx, axis=0, out=self.xb[:m], mode="clip")
        yb = np.take(self.Y, batch_idx, axis=0, out=self.yb[:m], mode="clip")
        sw = None
        if self.sample_weight is not None and self.wb is not None:
            sw = np.take(self.sample_weight, batch_idx, out=self.wb[:m], mode="clip")
        return xb, yb, sw

    def _forward(self, xb) -> list[np.ndarray]:
        """Every layer's input (X first) and, last, the output activations (m, n_outputs)."""
        est, k, m = self.est, self.k, xb.shape[0]
        last = len(est.coefs_) - 1
        inputs = [xb]
        a = xb
        for i, coef in enumerate(est.coefs_):
            z = matmul(a, coef, out=self.acts[i][:m])
            intercept = est.intercepts_[i]
            if i == last:
                z += intercept
                inputs.append(self.output.value(z))
                break
            if self.hidden == "relu":
                k["bias_relu"](z, intercept)
            else:
                k["bias"](z, intercept)
                if self.hidden == "tanh":
                    np.tanh(z, out=z)
            inputs.append(z)
            a = z
        return inputs

    def backprop(self, batch_idx) -> float:
        """Loss (with the L2 term) of the batch ``batch_idx`` (an index array or a slice);
        the gradients go to ``grads``. The same numbers as :func:`._engine.backprop`."""
        est, k = self.est, self.k
        xb, yb, sw = self._gather(batch_idx)
        m = xb.shape[0]
        inputs = self._forward(xb)
        output = inputs.pop()
        loss = _engine.loss_value(est.loss, est.out_activation_, yb, output, sw)
        values = 0
        for s in est.coefs_:
            s = s.ravel()
            values += np.dot(s, s)
        sw_sum = m if sw is None else sw.sum()
        loss += (0.5 * est.alpha) * values / sw_sum
        last = len(est.coefs_) - 1
        if sw is None and self.canonical:
            delta = np.subtract(output, yb, out=self.deltas[last][:m])
        else:  # the core's weighted δ^L (reduction "sum"), as _engine.backprop
            z = self.acts[last][:m]
            delta = self.core.output_delta(self.output, z, output, yb, sw)
        alpha, divisor = _engine._weak(est.alpha, self.dtype), _engine._weak(sw_sum, self.dtype)
        l1 = float(getattr(est, "l1", 0.0) or 0.0)
        for i in range(last, -1, -1):
            coef, grad = est.coefs_[i], self.coef_grads[i]
            matmul(inputs[i].T, delta, out=grad)
            k["coef_grad"](grad.reshape(-1), coef.reshape(-1), alpha, divisor)
            if l1:
                grad += l1 * np.sign(coef)
            intercept_grad = np.sum(delta, axis=0, out=self.intercept_grads[i])
            intercept_grad /= sw_sum
            if i > 0:
                below = matmul(delta, coef.T, out=self.deltas[i - 1][:m])
                if self.hidden == "relu":
                    k["relu_derivative"](inputs[i], below)
                elif self.hidden == "tanh":
                    k["tanh_derivative"](inputs[i], below, self.dtype.type(1))
                delta = below
        return loss
