"""A feedforward network: layers chained so that each one's activation a is the next one's input.

``forward`` runs the layers in order; ``backward`` runs them in reverse, starting from the
output error δ^L and handing each layer the error of the one above (backpropagation).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from .initializers import Initializer
from .layers import Dense, Dropout
from .losses import Loss, get_loss
from .validation import as_generator, check_sample_weight

__all__ = ["Network", "mlp"]


class Network:
    """An ordered list of layers (``Dense``, optionally ``Dropout`` between them).

    Parameters
    ----------
    layers : sequence of Dense / Dropout
        ``layers[i].n_outputs`` must equal ``layers[i + 1].n_inputs``.
    """

    def __init__(self, layers: Sequence[Dense | Dropout]) -> None:
        layers = list(layers)
        dense = [layer for layer in layers if isinstance(layer, Dense)]
        if not dense:
            raise ValueError("layers must contain at least one Dense layer, got none")
        for layer in layers:
            if not isinstance(layer, Dense | Dropout):
                raise TypeError(f"layers must be Dense or Dropout, got {type(layer).__name__}")
        # Bug fix: a trailing Dropout made backprop apply the output σ' to the masked output,
        # giving wrong gradients; the output layer must be the last layer.
        if not isinstance(layers[-1], Dense):
            raise ValueError(f"the last layer must be the Dense output layer, got {layers[-1]!r}")
        for before, after in pairwise(dense):
            if before.n_outputs != after.n_inputs:
                raise ValueError(
                    f"layer sizes do not chain: {before!r} has {before.n_outputs} outputs but "
                    f"the next Dense layer {after!r} expects {after.n_inputs} inputs"
                )
        dtypes = {layer.dtype for layer in dense}
        if len(dtypes) > 1:
            raise ValueError(f"all layers must share one dtype, got {sorted(map(str, dtypes))}")
        self.layers = layers
        self.dtype = dense[0].dtype
        #: free-form JSON-able facts (class names, training record, input scaling), kept in
        #: model files by :func:`mlpkit.save`
        self.metadata: dict = {}

    # -- shape facts -------------------------------------------------------------------------
    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    @property
    def n_inputs(self) -> int:
        return self.dense_layers[0].n_inputs

    @property
    def n_outputs(self) -> int:
        return self.dense_layers[-1].n_outputs

    @property
    def sizes(self) -> list[int]:
        """Units per layer, inputs first: e.g. [784, 100, 10]."""
        return [self.n_inputs] + [layer.n_outputs for layer in self.dense_layers]

    @property
    def output_layer(self) -> Dense:
        return self.dense_layers[-1]

    @property
    def n_parameters(self) -> int:
        return sum(layer.n_parameters for layer in self.layers)

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every (parameter, gradient) pair, layer by layer, weights before biases."""
        return [pair for layer in self.layers for pair in layer.parameters()]

    # -- the passes ------------------------------------------------------------------------------
    def check_input(self, X) -> np.ndarray:
        """``X`` as a C-contiguous (n_samples, n_inputs) array of the network's dtype."""
        X = np.asarray(X)
        if X.ndim == 1 and self.n_inputs > 1 and X.shape[0] == self.n_inputs:
            X = X.reshape(1, -1)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_inputs}) for this network, "
                f"got shape {X.shape}"
            )
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must be numeric, got dtype {X.dtype}")
        return np.ascontiguousarray(X, dtype=self.dtype)

    def forward(self, X, training: bool = False) -> np.ndarray:
        """Output activations a^L, shape (n_samples, n_outputs), for inputs X (n_samples, n_inputs).

        Every layer keeps its ``a_prev``, ``z`` and ``a`` for a following ``backward``.
        ``training=True`` switches dropout on.
        """
        a = self.check_input(X)
        for layer in self.layers:
            a = layer.forward(a, training=training)
        return a

    def backward(self, delta_output: np.ndarray) -> None:
        """Backpropagate the output error δ^L (n_samples, n_outputs) through every layer,
        setting each layer's ``grad_weights`` and ``grad_biases``."""
        delta = delta_output
        for i in range(len(self.layers) - 1, -1, -1):
            grad_a_prev = self.layers[i].backward(delta, need_grad_input=i > 0)
            if grad_a_prev is not None:  # every layer but the first
                # Error propagation (BP2): δ^l = (δ^(l+1) W^(l+1)ᵀ) ⊙ σ'(z^l)
                delta = self.layers[i - 1].delta(grad_a_prev)

    def check_batch(self, X, T, loss: Loss) -> tuple[np.ndarray, np.ndarray]:
        """Inputs (n_samples, n_inputs) and targets (n_samples, n_outputs) of one batch as
        arrays of the network's dtype, with matching sample counts."""
        x = self.check_input(X)
        return x, self.check_targets(T, loss, x.shape[0])

    def check_targets(self, T, loss: Loss, n_samples: int, context: str = "") -> np.ndarray:
        """Targets ``T`` as a (n_samples, n_outputs) array of the network's dtype (class labels
        one-hot encoded by ``loss``); ``context`` prefixes the error message."""
        t = loss.targets(T, self.n_outputs, self.dtype)
        if t.shape[0] != n_samples:
            raise ValueError(
                f"{context}X and T must have the same number of samples, got {n_samples} and "
                f"{t.shape[0]}"
            )
        return t

    def backprop(self, X, T, loss: str | Loss = "squared_error", training: bool = False,
                 sample_weight=None) -> float:
        """One forward pass, the loss value E, one backward pass; returns E.

        Parameters
        ----------
        X : array (n_samples, n_inputs)
        T : array (n_samples, n_outputs), or (n_samples,) of class labels for cross-entropy
        loss : str or Loss
        sample_weight : array (n_samples,) or None
            Weight of each sample's loss: E = Σ w_k E_k / Σ w_k (see :mod:`mlpkit.losses`).
        """
        loss = get_loss(loss)
        x, t = self.check_batch(X, T, loss)
        w = None if sample_weight is None else check_sample_weight(sample_weight, x.shape[0])
        a = self.forward(x, training=training)
        out = self.output_layer
        assert out.z is not None  # set by forward
        value, delta = loss.value_and_delta(out.activation, out.z, a, t, w)
        self.backward(delta)
        return value

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, X) -> np.ndarray:
        """Class labels (n_samples,): the index of the largest output, or, for a single
        output unit, 1 where the output is >= 0.5 (0 for tanh); the rule is
        :func:`mlpkit.metrics.predicted_classes`. A single identity / ReLU output is a
        regression output: ValueError; use :meth:`forward`."""
        from .metrics import predicted_classes

        return predicted_classes(self.forward(X), self.output_layer.activation.name)

    # -- weights as plain data --------------------------------------------------------------------
    def get_weights(self) -> list[np.ndarray]:
        """Copies of every parameter array, in :meth:`parameters` order."""
        return [p.copy() for p, _ in self.parameters()]

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Copy arrays (as from :meth:`get_weights`) into the parameters, in place."""
        params = self.parameters()
        if len(weights) != len(params):
            raise ValueError(f"expected {len(params)} arrays, got {len(weights)}")
        for (p, _), w in zip(params, weights, strict=True):
            w = np.asarray(w)
            if w.shape != p.shape:
                raise ValueError(f"weight array has shape {w.shape}, expected {p.shape}")
            p[...] = w

    def astype(self, dtype) -> Network:
        """Convert every layer to ``dtype`` in place; returns ``self``."""
        for layer in self.layers:
            layer.astype(dtype)
        self.dtype = np.dtype(dtype)
        return self

    def get_config(self) -> dict:
        return {"layers": [layer.get_config() for layer in self.layers], "dtype": str(self.dtype)}

    def __repr__(self) -> str:
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Network([\n    {inner},\n])"

    def _repr_html_(self) -> str:  # Jupyter: a table of the layers
        from ._display import network_html

        return network_html(self)

    # -- issue 13: class probabilities and a summary table (self-contained additions) ----------
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, float64 of shape (n_samples, n_classes), rows summing to 1.

        Softmax outputs are returned as they are. A single output unit is a binary classifier
        and gives two columns [1 - p, p]: p is the output for units whose class threshold is
        0.5 (sigmoid, step, ...) and (a + 1) / 2 for threshold 0 (tanh), clipped to [0, 1]; a
        single regression output (identity, ReLU) raises ValueError, as :meth:`predict` does.
        Several non-softmax outputs are clipped at 0 and divided by their row sum (so that they
        read as probabilities; they are not calibrated). ``predict_proba(X).argmax(1)`` equals
        :meth:`predict` (ties aside).
        """
        from .metrics import class_threshold, predicted_classes

        a = np.asarray(self.forward(X), dtype=np.float64)
        name = self.output_layer.activation.name
        if a.shape[1] == 1:
            predicted_classes(a[:1], name)  # raises for a regression output
            p = a[:, 0] if class_threshold(name) != 0.0 else (a[:, 0] + 1.0) / 2.0
            p = np.clip(p, 0.0, 1.0)
            return np.column_stack([1.0 - p, p])
        if name == "softmax":
            return a
        a = np.clip(a, 0.0, None)
        total = a.sum(axis=1, keepdims=True)
        uniform = np.full_like(a, 1.0 / a.shape[1])
        return np.divide(a, total, out=uniform, where=total > 0)

    def summary(self) -> str:
        """A table of the layers as Keras prints it: name (type), output shape, activation,
        parameter count; then the totals. Shapes are (None, units): None is the batch."""
        rows = [("Layer (type)", "Output shape", "Activation", "Param #")]
        rows.append(("input (Input)", f"(None, {self.n_inputs})", "", "0"))
        counts: dict[str, int] = {}
        units = self.n_inputs
        for layer in self.layers:
            kind = type(layer).__name__
            counts[kind] = counts.get(kind, 0) + 1
            if isinstance(layer, Dense):
                units = layer.n_outputs
                activation = layer.activation.name + ("" if layer.bias else ", no bias")
            else:
                activation = f"rate {layer.rate:g}"
            rows.append((f"{kind.lower()}_{counts[kind]} ({kind})", f"(None, {units})",
                         activation, f"{layer.n_parameters:,}"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        line = "  ".join("-" * w for w in widths)
        text = [f"{'  '.join(c.ljust(w) for c, w in zip(row, widths, strict=True))}".rstrip()
                for row in rows]
        weights = sum(layer.weights.size for layer in self.dense_layers)
        return "\n".join([text[0], line.replace("-", "="), *text[1:], line,
                          f"Total params: {self.n_parameters:,} ({weights:,} weights, "
                          f"{self.n_parameters - weights:,} biases), dtype {self.dtype}"])


def mlp(
    sizes: Sequence[int],
    activation: str = "sigmoid",
    output_activation: str | None = None,
    bias: bool = True,
    init: str | Initializer = "uniform",
    seed: int | np.random.Generator | None = None,
    dtype: np.typing.DTypeLike = np.float32,
    dropout: float = 0.0,
) -> Network:
    """Build a fully connected network from layer sizes, e.g. ``mlp([784, 100, 10])``.

    Parameters
    ----------
    sizes : sequence of int
        Inputs, then the units of each layer; at least two numbers.
    activation : str
        Activation of the hidden layers.
    output_activation : str or None
        Activation of the output layer; ``None`` uses ``activation``.
    bias, init, dtype
        Passed to every :class:`Dense`.
    seed : int, Generator or None
        One generator draws every layer's weights in order, so a seed fixes the whole network.
    dropout : float
        If > 0, a :class:`Dropout` layer after every hidden layer.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least inputs and outputs, got {sizes!r}")
    rng = as_generator(seed)
    output_activation = activation if output_activation is None else output_activation
    layers: list[Dense | Dropout] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        is_output = i == len(sizes) - 2
        layers.append(
            Dense(
                n_in,
                n_out,
                activation=output_activation if is_output else activation,
                bias=bias,
                init=init,
                seed=rng,
                dtype=dtype,
            )
        )
        if dropout and not is_output:
            layers.append(Dropout(dropout, seed=rng))
    return Network(layers)
