"""The fast engine: one training step of the lecture's network with everything that exists only
for speed (reused buffers, ``out=`` arguments, fused element-wise passes, compiled optimiser
updates over flat views, the cheap divergence bound).

:class:`FastEngine` has the interface the training loop calls per batch (``forward_loss``,
``backward``, ``gradient_sum``, ``step``; see :class:`mlpkit.training.engines.PlainEngine` for the
plain core's version). It supports the common case only (see :meth:`FastEngine.unsupported`) and
computes what the plain core computes: ``a_prev``, ``z``, ``a``, ``last_delta``, ``grad_weights``
and ``grad_biases`` of every layer bit for bit, and the weights of SGD and momentum updates bit for
bit (a velocity below the smallest normal float is stored as 0, see :mod:`mlpkit.fast.kernels`:
adding it would not change a weight above ~1e-31); the loss value (summed in another order, the
cross-entropy through ln Σ e^z per row) and Adam (bias corrections folded; moments that decay below
the smallest normal float stored as 0, see :mod:`mlpkit.fast.kernels`) to float rounding.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

from ..activations import Identity, ReLU, Sigmoid, Softmax, Tanh
from ..layers import Dense
from ..losses import CrossEntropy, Loss, SquaredError
from ..network import Network
from ..optimizers import SGD, Adam, Optimizer
from . import kernels

__all__ = ["FastEngine", "GradientCheck"]

#: activation codes of the fused kernels (exact types: a subclass may change the formula)
CODES: dict[type, int] = {Identity: 0, Sigmoid: 1, Tanh: 2, ReLU: 3}
SOFTMAX = 4  # code of a softmax output layer (with cross-entropy)


class _Buffers:
    """Per layer, reusable (rows, units) arrays whose first rows serve each batch size."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.arrays: dict[tuple[int, str], np.ndarray] = {}
        self.views: dict[tuple[int, str, int], np.ndarray] = {}

    def get(self, layer: int, name: str, n_samples: int, n_units: int) -> np.ndarray:
        view = self.views.get((layer, name, n_samples))
        if view is None:
            array = self.arrays.get((layer, name))
            if array is None or array.shape[0] < n_samples:
                array = self.arrays[layer, name] = np.empty((n_samples, n_units), self.dtype)
                self.views = {k: v for k, v in self.views.items() if k[:2] != (layer, name)}
            view = self.views[layer, name, n_samples] = array[:n_samples]
        return view


class GradientCheck:
    """Whether every ∂E/∂W and ∂E/∂b of the last backward pass is finite, cheaply.

    Summing every gradient (the plain test) reads all parameters once per batch: for the
    784-100-10 lecture net that cost as much as the update itself. The gradients of a Dense
    layer come from its input a_prev and its δ: ∂E/∂W = a_prevᵀ δ and ∂E/∂b = Σ_samples δ, so
    by Cauchy–Schwarz every entry is at most √(max(‖a_prev‖², n)) · ‖δ‖ (Frobenius norms, n
    samples). When that bound is below half the dtype's largest number, every gradient is
    finite; it takes two BLAS dot products over a_prev and δ (for the first layer
    ‖a_prev‖² ≤ ‖X‖², found once per call of ``train``; the fast engine's kernels sum the
    hidden layers' ‖a‖² and ‖δ‖² while writing them, which saves those passes: 0.08 of 0.16
    ms per C3 step, 0.3 of 0.43 ms per C4 step). Only when the bound fails are the
    gradients themselves summed, and that exact test decides, so the outcome is always the
    plain test's. A layer whose batch of a_prev and δ is larger than twice its W is summed
    directly, whichever is cheaper.
    """

    def __init__(self, network: Network, input_norm2: float = math.inf) -> None:
        self.network = network
        limit = 0.5 * float(np.finfo(network.dtype).max)
        self.limit2 = min(limit * limit, sys.float_info.max)  # bound² must stay below this
        self.ones: dict[int, np.ndarray] = {}
        # (layer, batch rows from which summing W is cheaper, fixed ‖a_prev‖² or None)
        self.plan: list[tuple[Dense, float, float | None]] = []
        for i, layer in enumerate(network.dense_layers):
            n_in, n_out = layer.n_inputs, layer.n_outputs
            known = input_norm2 if i == 0 and math.isfinite(input_norm2) else None
            self.plan.append((layer, 2 * n_in * n_out / (n_in + n_out), known))

    def _sum(self, grad: np.ndarray) -> float:
        """Σ of a gradient as a BLAS dot with ones (much faster than ``ndarray.sum``)."""
        ones = self.ones.get(grad.size)
        if ones is None or ones.dtype != grad.dtype:
            ones = self.ones[grad.size] = np.ones(grad.size, dtype=grad.dtype)
        return float(np.dot(grad.reshape(-1), ones))

    def bounded(self, known: list[tuple[float | None, float | None]] | None = None) -> bool:
        """True if the norm bound shows every gradient finite (False: not shown, test exactly).

        ``known``: per layer, ‖a_prev‖² and ‖δ‖² of the last pass where the caller has them
        (the fast engine's kernels sum them while writing a and δ), None where not: those are
        found here with a BLAS dot.
        """
        vdot, isfinite, limit2 = np.vdot, math.isfinite, self.limit2
        for i, (layer, rows_direct, a_norm2) in enumerate(self.plan):
            delta = layer.last_delta
            if delta is None:
                return False
            rows = delta.shape[0]
            if rows >= rows_direct:
                if not all(isfinite(self._sum(grad)) for _, grad in layer.parameters()):
                    return False
                continue
            a_known, delta_norm2 = (None, None) if known is None else known[i]
            if a_norm2 is None:
                a_norm2 = a_known
            if a_norm2 is None:
                if layer.a_prev is None:
                    return False
                a_norm2 = float(vdot(layer.a_prev, layer.a_prev))
            if delta_norm2 is None:
                delta_norm2 = float(vdot(delta, delta))
            if not max(a_norm2, rows) * delta_norm2 < limit2:  # NaN: False
                return False
        return True

    def total(self) -> float:
        """Σ over every gradient entry (NaN or ±inf exactly when some gradient is not finite)."""
        return sum(self._sum(grad) for _, grad in self.network.parameters())


class FastEngine:
    """Forward pass, loss, backward pass and optimiser step of a batch, fused and compiled.

    Build it with :meth:`create`, which returns None where the engine does not apply (the
    training loop then runs the plain core). Per batch: ``forward_loss(x, t)`` returns E and
    leaves the output in ``output``; ``backward()`` sets every gradient; ``gradient_sum()`` is
    finite exactly when every gradient is; ``step()`` updates the parameters.
    """

    name = "fast"

    @staticmethod
    def unsupported(network: Network, loss: Loss, optimizer: Optimizer) -> str | None:
        """Why the engine cannot train this combination, or None when it can: it needs numba,
        only Dense layers with biases of one float dtype, identity/sigmoid/tanh/ReLU
        activations, and squared error (any of those outputs) or cross-entropy on a softmax
        output. Optimisers other than plain SGD/momentum/Adam without weight decay or L1 run
        their own ``step`` inside the engine."""
        layers = network.dense_layers
        if len(layers) != len(network.layers) or not all(
                type(layer) is Dense and layer.biases is not None for layer in layers):
            return "a layer that is not Dense with biases"
        if network.dtype not in (np.float32, np.float64):
            return f"dtype {network.dtype}: it needs float32 or float64"
        output_codes: dict[type, int] = {Softmax: SOFTMAX} if type(loss) is CrossEntropy else CODES
        if type(loss) not in (SquaredError, CrossEntropy):
            return f"loss {loss!r}: it needs SquaredError or CrossEntropy"
        if not all(param.flags.c_contiguous for param, _ in network.parameters()):
            return "a parameter that is not a C-contiguous array"
        hidden = [type(layer.activation) in CODES for layer in layers[:-1]]
        if not all(hidden) or type(layers[-1].activation) not in output_codes:
            return ("an activation without a kernel: it needs identity, sigmoid, tanh or relu "
                    "(softmax as the output with cross-entropy)")
        if not kernels._load_fused():
            return "numba is not installed (or MLPKIT_NUMBA=0)"
        return None

    @classmethod
    def create(cls, network: Network, loss: Loss, optimizer: Optimizer,
               input_norm2: float = math.inf) -> FastEngine | None:
        """The engine for this network, loss and optimiser, or None where it does not apply."""
        if cls.unsupported(network, loss, optimizer) is not None:
            return None
        return cls(network, loss, optimizer, input_norm2)

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer,
                 input_norm2: float = math.inf) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.layers: list[Dense] = network.dense_layers  # only Dense layers (unsupported())
        output_codes: dict[type, int] = {Softmax: SOFTMAX} if type(loss) is CrossEntropy else CODES
        self.kinds = [CODES[type(layer.activation)] for layer in self.layers[:-1]]
        self.kinds.append(output_codes[type(self.layers[-1].activation)])
        self.dtype = network.dtype
        cast: Any = self.dtype.type
        self.cast = cast
        self.half, self.one = cast(0.5), cast(1.0)
        self.tiny = cast(np.finfo(self.dtype).tiny)  # optimiser states below it: stored as 0
        # what the bias kernel multiplies z by before NumPy's tanh: z/2 (sigmoid), z (tanh)
        self.scales = [self.half if kind == 1 else self.one for kind in self.kinds]
        self.buffers = _Buffers(self.dtype)
        self.k = kernels._load_fused()
        self._sums: np.ndarray | None = None
        self.output: np.ndarray | None = None
        self.check = GradientCheck(network, input_norm2)
        for layer in self.layers:  # gradients as arrays the kernels can write into
            if not _writable_like(layer.grad_weights, layer.weights):
                layer.grad_weights = np.zeros_like(layer.weights)
            if layer.biases is not None and not _writable_like(layer.grad_biases, layer.biases):
                layer.grad_biases = np.zeros_like(layer.biases)
        self.parameters = network.parameters()
        self._views: tuple | None = None
        self.inputs: list[np.ndarray] = []  # a_prev of every layer in the last forward pass
        # Σ a² and Σ δ² of every layer's last pass where a kernel summed them (else None), and
        # the kernels' per-column scratch for those sums
        self.a_norm2: list[float | None] = [None] * len(self.layers)
        self.delta_norm2: list[float | None] = [None] * len(self.layers)
        self.squares = [np.empty(layer.n_outputs, self.dtype) for layer in self.layers]

    # -- forward pass and loss ------------------------------------------------------------------
    def forward_loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Forward pass of batch ``x`` (n, n_inputs) and the loss against ``t`` (n, n_outputs);
        leaves δ^L (and, if the loss is finite, the output layer's ∂E/∂b) for :meth:`backward`."""
        n = x.shape[0]
        a = x
        last = len(self.layers) - 1
        self.inputs = []
        for i, (layer, kind) in enumerate(zip(self.layers, self.kinds, strict=True)):
            layer.a_prev = a
            self.inputs.append(a)
            z = np.matmul(a, layer.weights, out=self.buffers.get(i, "z", n, layer.n_outputs))
            a = self.buffers.get(i, "a", n, layer.n_outputs)
            norm2 = -1.0  # Σ a², where a kernel sums it (-1: not known)
            if kind == SOFTMAX:
                self.k["bias_softmax_shift"](z, layer.biases, a)
                np.exp(a, out=a)
            else:
                norm2 = self.k["bias_activation"](z, layer.biases, kind, self.scales[i], a,
                                                  self.squares[i])
                if kind == 1 or kind == 2:
                    np.tanh(a, out=a)
                    if kind == 1 and i < last:  # the output layer's is done by the loss kernel
                        norm2 = self.k["sigmoid_finish"](a, self.half, self.one,
                                                         self.squares[i])
            self.a_norm2[i] = None if norm2 < 0 else norm2
            layer.z, layer.a = z, a
        self.output = a
        self.delta = self.buffers.get(last, "delta", n, a.shape[1])
        if self.kinds[-1] == SOFTMAX:
            return self._cross_entropy(a, t)
        return self._squared_error(a, t)

    def _cross_entropy(self, a: np.ndarray, t: np.ndarray) -> float:
        n, output = a.shape[0], self.layers[-1]
        scale = self.loss._scale(n)
        if self._sums is None or self._sums.shape[0] < n:
            self._sums = np.empty(n, dtype=a.dtype)
        sums = np.add.reduce(a, axis=1, out=self._sums[:n])
        total = self.k["cross_entropy_output"](
            a, sums, output.z, t, self.cast(scale), self.delta, output.grad_biases)
        return -float(total) * scale

    def _squared_error(self, a: np.ndarray, t: np.ndarray) -> float:
        output, loss = self.layers[-1], self.loss
        half = not isinstance(loss, SquaredError) or loss.half  # (always a SquaredError here)
        scale = loss._scale(a.shape[0])
        total = self.k["squared_error_output"](
            a, t, output.z, self.kinds[-1], self.cast(scale if half else 2.0 * scale),
            self.half, self.one, self.delta, output.grad_biases)
        return float(total) * scale * (0.5 if half else 1.0)

    # -- backward pass ----------------------------------------------------------------------------
    def backward(self) -> None:
        """Backpropagate δ^L: every layer's ``grad_weights``, ``grad_biases``, ``last_delta``."""
        delta, layers = self.delta, self.layers
        self.delta_norm2[-1] = None  # the output layer's δ: GradientCheck finds it if needed
        for i in range(len(layers) - 1, -1, -1):
            layer = layers[i]
            layer.last_delta = delta
            # BP4: ∂E/∂W = a_prevᵀ · δ (BP3 ∂E/∂b came with δ from the compiled call)
            np.matmul(self.inputs[i].T, delta, out=layer.grad_weights)
            if i == 0:
                return
            below, n = layers[i - 1], delta.shape[0]
            # BP2: δ_prev = (δ Wᵀ) ⊙ σ'(z_prev)
            grad_a = np.matmul(delta, layer.weights.T,
                               out=self.buffers.get(i, "grad_input", n, layer.n_inputs))
            delta = self.buffers.get(i - 1, "delta", n, below.n_outputs)
            self.delta_norm2[i - 1] = self.k["hidden_delta"](
                grad_a, below.z, below.a, self.kinds[i - 1], self.one, delta, below.grad_biases,
                self.squares[i - 1])

    def gradient_sum(self) -> float:
        """A finite number when every gradient is finite (0.0 when the cheap bound shows it),
        else the non-finite Σ of every gradient entry."""
        known = [(None if i == 0 else self.a_norm2[i - 1], self.delta_norm2[i])
                 for i in range(len(self.layers))]
        return 0.0 if self.check.bounded(known) else self.check.total()

    # -- optimiser step ---------------------------------------------------------------------------
    def step(self) -> None:
        """The optimiser's update, compiled for SGD, momentum and Adam without regularisation;
        any other optimiser's own ``step``."""
        optimizer = self.optimizer
        compiled = type(optimizer) in (SGD, Adam) and not optimizer.weight_decay \
            and not optimizer.l1
        if not compiled:
            optimizer.step(self.parameters)
        elif isinstance(optimizer, SGD):
            self._sgd(optimizer)
        elif isinstance(optimizer, Adam):
            self._adam(optimizer)

    def _flat(self, *states: list[np.ndarray]) -> list[list[np.ndarray]]:
        """Per parameter, 1-D views of (param, grad, *state arrays); cached while the state
        lists are the same objects (a loaded optimiser state brings new ones)."""
        if self._views is None or any(a is not b for a, b in zip(self._views[0], states,
                                                                  strict=True)):
            views = [[a.reshape(-1) for a in (param, grad, *(s[i] for s in states))]
                     for i, (param, grad) in enumerate(self.parameters)]
            self._views = (states, views)
        return self._views[1]

    def _sgd(self, optimizer: SGD) -> None:
        cast = self.cast
        if not optimizer.momentum:
            for param, grad in self._flat():
                self.k["sgd"](param, grad, cast(optimizer.learning_rate))
            return
        if optimizer.velocities is None:
            optimizer.velocities = [np.zeros_like(p) for p, _ in self.parameters]
        for param, grad, velocity in self._flat(optimizer.velocities):
            self.k["momentum"](param, grad, velocity, cast(optimizer.learning_rate),
                               cast(optimizer.momentum), optimizer.nesterov, self.tiny)

    def _adam(self, optimizer: Adam) -> None:
        if optimizer.first_moments is None or optimizer.second_moments is None:
            optimizer.first_moments = [np.zeros_like(p) for p, _ in self.parameters]
            optimizer.second_moments = [np.zeros_like(p) for p, _ in self.parameters]
        optimizer.step_count += 1
        b1, b2, t = optimizer.beta1, optimizer.beta2, optimizer.step_count
        # η m̂ / (√v̂ + ε) = (η √(1−β₂ᵗ) / (1−β₁ᵗ)) · m / (√v + ε √(1−β₂ᵗ))
        sqrt_correction2 = math.sqrt(1.0 - b2**t)
        step = optimizer.learning_rate / (1.0 - b1**t) * sqrt_correction2
        eps = optimizer.epsilon * sqrt_correction2
        cast = self.cast
        args = (cast(1.0 - b1), cast(1.0 - b2), cast(step), cast(eps), self.tiny)
        for param, grad, m, v in self._flat(optimizer.first_moments, optimizer.second_moments):
            self.k["adam"](param, grad, m, v, *args)


def _writable_like(array: np.ndarray | None, like: np.ndarray) -> bool:
    """Whether ``array`` can take ``like``'s gradient in place (shape, dtype, C order)."""
    return (array is not None and array.shape == like.shape and array.dtype == like.dtype
            and array.flags.c_contiguous and array.flags.writeable)
