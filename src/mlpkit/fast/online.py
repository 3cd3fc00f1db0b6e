"""A whole epoch of online (``batch_size=1``) or small-batch training in one compiled call.

The lectures train *online*: for each example, input it, propagate, determine the error, adjust
the weights. Run sample by sample through NumPy, every step pays Python's and BLAS's dispatch
overhead for a few thousand multiply-adds; here one numba call
(:mod:`mlpkit.fast.online_kernel`) runs the whole epoch over the order given from Python (so
results stay seeded and reproducible), reading every sample from the data by its index (no
shuffled copy):

* forward: z = a_prev · W + b, a = σ(z), layer by layer (inputs that are exactly 0 are skipped
  while the weights are finite and the optimiser is plain SGD: they add ±0 to z and their rows
  of W do not change);
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

During the call the parameters live in one flat array, each weight matrix in the layout that
suits it (W by rows for wide layers, Wᵀ for layers with fewer than 16 units: see
:mod:`mlpkit.fast.online_kernel`); they are copied there before and back after every call, so
weights set by hand, a new learning rate and a reset optimiser all take effect.

It is equal to the plain core to float rounding: the same formulas in the same order, except
that the sums of the matrix products run in the kernel's order (over the inputs, units or
samples in order, with fused multiply-adds; for narrow layers a vectorised dot product) and in
BLAS's there, and that plain SGD on a batch of more than one applies w − η g in one rounding.
The weight gradients and updates of a batch of one are the same operations as the core's. The
kernel is compiled ahead of time once per machine and loaded without numba
(:mod:`mlpkit.fast.ahead`; numba's on-disk cache where that fails).

Supported: only :class:`~mlpkit.layers.Dense` layers (biases on or off), one float dtype,
hidden activations identity/sigmoid/tanh/ReLU, and at the output either
:class:`~mlpkit.losses.SquaredError` (½ or not, mean or sum) after any of those four,
:class:`~mlpkit.losses.BinaryCrossEntropy` after a sigmoid or
:class:`~mlpkit.losses.CrossEntropy` after a softmax; optimiser :class:`~mlpkit.optimizers.SGD`.
:meth:`OnlineEpoch.for_training` returns None for anything else.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from . import online_kernel as k
from .ahead import DTYPES

__all__ = ["MAX_BATCH", "MAX_SPARSE_BATCH", "SPARSE", "EpochResult", "OnlineEpoch", "pays"]

#: batch sizes up to this use the compiled epoch in training; from MAX_BATCH + 1 to
#: MAX_SPARSE_BATCH only where at most SPARSE of the inputs are not 0 (the kernel skips the
#: others; BLAS products of the whole batch win on denser data). µs per sample, 784-100-10
#: sigmoid, CPU time, the per-batch path with one BLAS thread: MNIST (19 % not 0) batch 10 5.9
#: against 7.9, batch 16 4.3 against 7.5; Fashion-MNIST (50 %) batch 4 9.6 against 14.1,
#: batch 10 9.4 against 7.6
MAX_BATCH = 6
MAX_SPARSE_BATCH = 16
SPARSE = 0.35


def pays(batch_size: int, x: np.ndarray) -> bool:
    """Whether training with batches of ``batch_size`` should take the compiled epoch on data
    ``x`` (n, n_inputs): see MAX_BATCH."""
    if batch_size <= MAX_BATCH:
        return True
    return batch_size <= MAX_SPARSE_BATCH and x.size > 0 and _density(x) <= SPARSE


def _density(x: np.ndarray) -> float:
    """The fraction of x's entries that are not 0, in about 1,024 rows spread over it (NumPy
    counts about 0.5 G float entries a second: all of MNIST would take 0.1 s)."""
    rows = x[::max(1, x.shape[0] // 1024)]
    return np.count_nonzero(rows) / max(1, rows.size)

_compiled: SimpleNamespace | bool | None = None  # the kernel, loaded on first use
_loading = threading.Lock()  # training calls in threads (the playground) load it once


def _kernel() -> SimpleNamespace | None:
    """The compiled epoch (``.epoch``; ``.ahead``: whether ahead of time), or None without
    numba (or with ``MLPKIT_NUMBA=0``). On the first call: the module compiled ahead of time
    for this machine (:mod:`mlpkit.fast.ahead`: no numba import), else numba, which then
    builds that module once (``MLPKIT_NUMBA=jit``: only numba's JIT and its disk cache)."""
    global _compiled
    with _loading:
        if _compiled is None:
            _compiled = _load() or False
    return _compiled if isinstance(_compiled, SimpleNamespace) else None


def _load() -> SimpleNamespace | None:
    setting = os.environ.get("MLPKIT_NUMBA", "1")
    if setting == "0":
        return None
    from . import ahead

    module = ahead.load() if setting != "jit" else None
    if module is not None:
        return SimpleNamespace(epoch=_by_dtype(module), ahead=True)
    try:
        import numba
    except ImportError:
        return None
    from ._intrinsics import prefetch

    k._prefetch_c = prefetch  # type: ignore[assignment]
    for name in k.NAMES:  # helpers first: each is compiled against those before it
        if name != "prefetch":
            setattr(k, f"_{name}_c", numba.njit(**_options(name))(getattr(k, f"_{name}")))
    module = ahead.build(k._epoch) if setting != "jit" else None
    if module is not None:
        return SimpleNamespace(epoch=_by_dtype(module), ahead=True)
    return SimpleNamespace(epoch=k._epoch_c, ahead=False)


def _by_dtype(module):
    """The module's epoch for the dtype of the state (argument ``fl``)."""
    kernels = {np.dtype(dtype): getattr(module, f"epoch_{code}")
               for code, dtype in DTYPES.items()}

    def epoch(x, t, order, size, fl, it, lim, outputs):
        kernels[fl.dtype](x, t, order, size, fl, it, lim, outputs)

    return epoch


def _options(name: str) -> dict:
    """numba's options for kernel function ``name``: cached on disk; no reference counting
    (``_nrt=False``: the kernel allocates nothing, and counting the references of every view
    cost more than the arithmetic of the 960-3-4 net); fused multiply-adds in the sums of
    products and any order in the dot product (``online_kernel.FUSED``); the views inlined."""
    options: dict = {"cache": True, "error_model": "numpy", "_nrt": False}
    if name in k.FUSED:
        options["fastmath"] = {"contract", "reassoc"} if name == "dot" else {"contract"}
    if name in k.INLINE:
        options["inline"] = "always"
    else:
        options["nogil"] = True
    return options


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
    optimiser all take effect) and written back in place.
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
        self.kinds = kinds
        self.loss_kind = loss_kind
        largest = float(np.finfo(self.dtype).max)
        # GradientCheck's limit for the squared bound, and where a bound on |W| is re-measured
        half = 0.5 * largest
        self.limits = (min(half * half, sys.float_info.max), 0.25 * largest)
        self.table, self.n_params = _layer_table(self.layers, kinds)
        self._states: State | None = None

    def _state(self, size: int) -> State:
        """The kernel's state arrays for batches of ``size`` samples (made on the first call
        and when the batch size changes; see :mod:`mlpkit.fast.online_kernel`)."""
        if self._states is None or self._states.size != size:
            self._states = State.create(self.table, self.n_params, size, self.dtype)
        return self._states

    def _velocities(self) -> list[np.ndarray]:
        """The optimiser's velocities (created as SGD.step does), checked against the
        parameters."""
        opt = self.optimizer
        if opt.velocities is None:
            opt.velocities = [np.zeros_like(p) for p, _ in self.network.parameters()]
        parameters = [p for p, _ in self.network.parameters()]
        if len(opt.velocities) != len(parameters):
            raise ValueError(f"optimizer.velocities do not match the network's parameters: "
                             f"{len(opt.velocities)} arrays for {len(parameters)} parameters")
        for v, p in zip(opt.velocities, parameters, strict=True):
            if v.shape != p.shape or v.dtype != self.dtype:
                raise ValueError(f"optimizer.velocities do not match the network's parameters: "
                                 f"got shape {v.shape} {v.dtype} for a parameter {p.shape}")
        return opt.velocities

    def _pack(self, state: State) -> None:
        """The parameters, the velocities (with momentum), the scalars and flags into the
        state."""
        from ..losses import SquaredError

        opt, loss, fl = self.optimizer, self.loss, state.fl
        momentum = opt.momentum != 0.0
        _copy_in(fl, 0, self.table, [(layer.weights, layer.biases) for layer in self.layers])
        if momentum:
            _copy_in(fl, self.n_params, self.table, _by_layer(self._velocities(), self.layers))
        fl[state.scalars:state.scalars + k.N_SCALARS] = [
            opt.learning_rate, opt.momentum, opt.weight_decay, opt.l1, 0.5, 1.0, 0.0]
        # Inputs that are 0 are skipped (forward and update) with plain SGD and finite weights
        plain = not momentum and opt.weight_decay == 0.0 and opt.l1 == 0.0
        half = isinstance(loss, SquaredError) and loss.half
        state.it[state.flags:state.flags + k.N_FLAGS] = [
            opt.nesterov, opt.decay_biases, plain, self.loss_kind, half,
            loss.reduction == "mean", momentum]

    def _unpack(self, state: State) -> None:
        """Write the kernel's parameters (and velocities) back into the arrays they came from."""
        _copy_out(state.fl, 0, self.table,
                  [(layer.weights, layer.biases) for layer in self.layers])
        if state.it[state.flags + k.MOMENTUM]:
            _copy_out(state.fl, self.n_params, self.table,
                      _by_layer(self.optimizer.velocities, self.layers))

    def _limits(self, state: State, stats: np.ndarray) -> None:
        """The float64 limits (see LIMIT2, …, WMAX of the kernel) into ``state.lim``; skipping
        the inputs that are 0 only where at least a tenth of the data is 0 (else listing them
        costs more than it saves) and the weights are well within the float range."""
        fl, it = state.fl, state.it
        wmax = [float(np.max(np.abs(fl[at:at + n * m]))) for n, m, at in
                self.table[:, [k.N_IN, k.N_OUT, k.W_AT]]]
        sparse = stats[2] <= 0.9
        if not (sparse and all(m < self.limits[1] for m in wmax)):
            it[state.flags + k.SKIP_ZEROS] = 0
        state.lim[:k.WMAX + len(wmax)] = [*self.limits, stats[0], stats[1], *wmax]
        state.lim[state.result:] = 0.0

    @staticmethod
    def data_stats(x: np.ndarray, norm2: float | None = None) -> np.ndarray:
        """What :meth:`run` needs to know of the data ``x`` (n, n_inputs): [‖x‖² (``norm2``
        when given: an upper bound serves), max |x| (inf with a NaN), the fraction of inputs
        that are not 0 (in about 1,024 rows spread over x)], with no copy of x. Pass it to
        :meth:`run` when x does not change."""
        out = np.zeros(3)
        out[0] = float(np.vdot(x, x)) if norm2 is None else norm2
        step = max(1, (1 << 20) // max(1, x.shape[1]))
        for start in range(0, x.shape[0], step):  # max and min: no |x| temporary
            chunk = x[start:start + step]
            top = max(float(np.max(chunk)), -float(np.min(chunk)))
            out[1] = max(out[1], top) if top == top else math.inf
        out[2] = _density(x)
        return out

    def run(self, x: np.ndarray, t: np.ndarray, order: np.ndarray | None = None,
            outputs: np.ndarray | None = None, stats: np.ndarray | None = None) -> EpochResult:
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
        stats : ndarray (3,) or None
            :meth:`data_stats` of ``x`` (computed here when None).
        """
        x, t, order = _check_run(self.network, x, t, order)
        if outputs is None:
            outputs = np.empty((order.shape[0], self.network.n_outputs), self.dtype)
        kernel = _kernel()
        assert kernel is not None
        size = min(self.batch_size, order.shape[0])
        state = self._state(size)
        self._pack(state)
        self._limits(state, self.data_stats(x) if stats is None else stats)
        started = time.perf_counter()
        kernel.epoch(x, t, order, size, state.fl, state.it, state.lim, outputs)
        _compile_notice(kernel.epoch, time.perf_counter() - started)
        self._unpack(state)
        result = state.lim[state.result:]
        status, batches = int(result[k.STATUS]), int(result[k.BATCHES])
        last = None if batches == 0 and status == k.LOSS_DIVERGED else float(result[k.LAST_LOSS])
        diverged = {k.DONE: None, k.LOSS_DIVERGED: "loss", k.GRADIENT_DIVERGED: "gradient"}[status]
        return EpochResult(float(result[k.LOSS_SUM]), outputs, batches, diverged,
                           float(result[k.VALUE]) if diverged else math.nan, last)


@dataclass
class State:
    """The kernel's three flat arrays (see :mod:`mlpkit.fast.online_kernel`) for batches of
    ``size`` samples, and where the scalars, flags and result start in them."""

    size: int
    fl: np.ndarray
    it: np.ndarray
    lim: np.ndarray
    scalars: int
    flags: int
    result: int

    @classmethod
    def create(cls, table: np.ndarray, n_params: int, size: int, dtype) -> State:
        table = table.copy()
        n_layers = table.shape[0]
        n_ins, n_outs = table[:, k.N_IN], table[:, k.N_OUT]
        widest = int(max(n_ins.max(), n_outs.max(), size))
        # the work blocks: the data (size × n_in), then each layer's output (size × n_out)
        ends = np.cumsum(np.concatenate([[n_ins[0]], n_outs]) * size)
        table[:, k.IN_AT], table[:, k.OUT_AT] = ends[:-1] - n_ins * size, ends[:-1]
        work = int(ends[-1])
        # fl: parameters, velocities, acts, zs, deltas, a gradient row, a scratch row, scalars
        acts = 2 * n_params
        grad = acts + 3 * work
        fl = np.zeros(grad + 2 * widest + k.N_SCALARS, dtype)
        # it: header, table, flags, ordinals, then per layer the counts (batch, per sample),
        # the marks (per input), the lists (batch, per sample) and the sample table
        at = [k.HEADER + n_layers * k.COLUMNS]
        flags = at[0]
        ordinals = flags + k.N_FLAGS

        def blocks(sizes) -> np.ndarray:
            starts = at[0] + np.concatenate([[0], np.cumsum(sizes)[:-1]])
            at[0] += int(np.sum(sizes))
            return starts

        at[0] = ordinals + widest
        table[:, k.COUNT_AT] = blocks(np.full(n_layers, size + 1))
        table[:, k.MARK_AT] = blocks(n_ins)
        table[:, k.LIST_AT] = blocks(n_ins * (size + 1))
        table[:, k.SAMPLES_AT] = blocks(n_ins * size)
        it = np.zeros(at[0], np.int64)
        it[ordinals:ordinals + widest] = np.arange(widest)
        header = {k.H_TABLE: k.HEADER, k.H_FLAGS: flags, k.H_ORDINALS: ordinals,
                  k.H_LAYERS: n_layers, k.H_ACTS: acts, k.H_ZS: acts + work,
                  k.H_DELTAS: acts + 2 * work, k.H_VELOCITIES: n_params, k.H_GRAD: grad,
                  k.H_SCRATCH: grad + widest, k.H_SCALARS: grad + 2 * widest,
                  k.H_RESULT: k.WMAX + n_layers}
        for slot, value in header.items():
            it[slot] = value
        it[k.HEADER:k.HEADER + n_layers * k.COLUMNS] = table.reshape(-1)
        lim = np.zeros(k.WMAX + n_layers + k.N_RESULT)
        return cls(size, fl, it, lim, grad + 2 * widest, flags, k.WMAX + n_layers)


def _layer_table(layers, kinds: list[int]) -> tuple[np.ndarray, int]:
    """The kernel's layer table, without the offsets of the work arrays (see State), and
    the number of parameters."""
    table = np.zeros((len(layers), k.COLUMNS), np.int64)
    at = 0
    for i, (layer, kind) in enumerate(zip(layers, kinds, strict=True)):
        n_in, n_out = layer.n_inputs, layer.n_outputs
        transposed = n_out < k.WIDE
        may_be_zero = i == 0 or kinds[i - 1] in (k.RELU, k.IDENTITY)
        table[i, [k.N_IN, k.N_OUT, k.KIND, k.TRANSPOSED]] = n_in, n_out, kind, transposed
        table[i, k.LISTED] = may_be_zero and not transposed
        table[i, k.W_AT] = at
        at += n_in * n_out
        table[i, k.B_AT] = -1 if layer.biases is None else at
        at += 0 if layer.biases is None else n_out
    return table, at


def _by_layer(arrays: list[np.ndarray], layers) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(W, b or None) per layer from a list in Network.parameters() order."""
    found = iter(arrays)
    return [(next(found), None if layer.biases is None else next(found)) for layer in layers]


def _copy_in(flat: np.ndarray, base: int, table: np.ndarray, pairs) -> None:
    """Each layer's (W, b) into ``flat`` from ``base`` on, W as the table stores it."""
    for row, (w, b) in zip(table, pairs, strict=True):
        n_in, n_out, at = row[k.N_IN], row[k.N_OUT], base + row[k.W_AT]
        block = flat[at:at + n_in * n_out]
        if row[k.TRANSPOSED]:
            block.reshape(n_out, n_in)[...] = w.T
        else:
            block.reshape(n_in, n_out)[...] = w
        if b is not None:
            flat[base + row[k.B_AT]:base + row[k.B_AT] + n_out] = b


def _copy_out(flat: np.ndarray, base: int, table: np.ndarray, pairs) -> None:
    """The inverse of :func:`_copy_in`, into the arrays of ``pairs`` in place."""
    for row, (w, b) in zip(table, pairs, strict=True):
        n_in, n_out, at = row[k.N_IN], row[k.N_OUT], base + row[k.W_AT]
        block = flat[at:at + n_in * n_out]
        w[...] = block.reshape(n_out, n_in).T if row[k.TRANSPOSED] else block.reshape(n_in, n_out)
        if b is not None:
            b[...] = flat[base + row[k.B_AT]:base + row[k.B_AT] + n_out]


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
    codes = {Identity: k.IDENTITY, Sigmoid: k.SIGMOID, Tanh: k.TANH, ReLU: k.RELU}  # exact
    kinds = [codes.get(type(layer.activation)) for layer in layers[:-1]]
    output = type(layers[-1].activation)
    if type(loss) is SquaredError:
        loss_kind, kinds = k.SQUARED_ERROR, [*kinds, codes.get(output)]
    elif type(loss) is BinaryCrossEntropy and output is Sigmoid:
        loss_kind, kinds = k.BINARY_CROSS_ENTROPY, [*kinds, k.SIGMOID]
    elif type(loss) is CrossEntropy and output is Softmax:
        loss_kind, kinds = k.CROSS_ENTROPY, [*kinds, k.SOFTMAX]
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
