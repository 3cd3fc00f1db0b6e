"""One training step written out number by number: the forward pass (z, a), the backward pass
(δ, ∂E/∂W, ∂E/∂b: the four backpropagation equations) and the update split into its gradient,
momentum and weight-decay terms, as a text or Markdown table.

The update is taken by running the optimiser's own ``step`` on copies; the split into terms is
read from its hyper-parameters and state (η, α, λ, the velocities Δw(t−1)) and checked to add
up to that step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import SupportsFloat

import numpy as np

from .. import _display
from ..layers import Dense
from ..losses import Loss, get_loss
from ..network import Network
from ..optimizers import SGD, Adam, Optimizer, get_optimizer

__all__ = ["LayerTrace", "ParameterTrace", "StepTrace", "trace_step"]

DELTA_SIGN_NOTE = (
    "δ = ∂E/∂z (mlpkit's sign). The CS 445 lecture's δ = o(1 − o)(t − o) is −∂E/∂z for "
    "E = ½ Σ (t − o)², so its δ has the opposite sign and its update reads Δw = +η δ x."
)


@dataclass
class ParameterTrace:
    """One parameter array of a layer (``weights`` or ``biases``) through one step.

    Every array has the parameter's shape: (n_inputs, n_outputs) for weights, (n_outputs,)
    for biases. ``terms`` maps the name of each part of the update Δw to its array; they add
    up to ``update`` = ``after`` − ``before``.
    """

    name: str
    before: np.ndarray
    gradient: np.ndarray
    terms: dict[str, np.ndarray]
    update: np.ndarray
    after: np.ndarray
    gradient_equation: str
    term_equations: dict[str, str]


@dataclass
class LayerTrace:
    """Forward and backward quantities of one Dense layer, each (n_samples, n_outputs)."""

    index: int
    description: str
    a_prev: np.ndarray
    z: np.ndarray
    a: np.ndarray
    delta: np.ndarray
    delta_equation: str
    parameters: list[ParameterTrace] = field(default_factory=list)
    activation_equation: str = "a = σ(z)"


@dataclass
class StepTrace:
    """The whole step: loss E, the layers (input side first) and the optimiser used."""

    loss_name: str
    loss_value: float
    optimizer: str
    targets: np.ndarray
    layers: list[LayerTrace]
    applied: bool
    #: extra explanations printed after the equations (e.g. what a softmax layer's δ is)
    notes: list[str] = field(default_factory=list)

    # -- rendering -----------------------------------------------------------------------------
    def _blocks(self, digits: int) -> list[tuple[str, list[str], list[list[str]]]]:
        def fmt(value: SupportsFloat) -> str:
            return f"{float(value) + 0.0:.{digits}g}"  # + 0.0 turns −0 into 0

        blocks = []
        for layer in self.layers:
            n = layer.z.shape[0]
            rows = []
            for s in range(n):
                for j in range(layer.z.shape[1]):
                    unit = f"{j + 1}" if n == 1 else f"sample {s + 1}, unit {j + 1}"
                    rows.append(
                        [unit, fmt(layer.z[s, j]), fmt(layer.a[s, j]), fmt(layer.delta[s, j])]
                    )
            header = [
                "unit",
                "z = Σ_i a_prev_i W_ij + b_j",
                layer.activation_equation,
                f"δ = {layer.delta_equation}",
            ]
            blocks.append(
                (f"Layer {layer.index} ({layer.description}): forward and backward", header, rows)
            )
            for p in layer.parameters:
                term_names = list(p.terms)
                header = [
                    p.name,
                    "before",
                    p.gradient_equation,
                    *[f"{k}: {p.term_equations[k]}" for k in term_names],
                    "Δ = sum",
                    "after",
                ]
                rows = []
                for index in np.ndindex(p.before.shape):
                    label = (
                        f"W[{index[0] + 1},{index[1] + 1}]"
                        if len(index) == 2
                        else f"b[{index[0] + 1}]"
                    )
                    rows.append(
                        [
                            label,
                            fmt(p.before[index]),
                            fmt(p.gradient[index]),
                            *[fmt(p.terms[k][index]) for k in term_names],
                            fmt(p.update[index]),
                            fmt(p.after[index]),
                        ]
                    )
                blocks.append((f"Layer {layer.index} {p.name}", header, rows))
        return blocks

    def _preamble(self, digits: int) -> list[str]:
        return [
            f"One training step: loss {self.loss_name}, E = {self.loss_value:.{digits}g}; "
            f"optimizer {self.optimizer}"
            + ("" if self.applied else " (step computed on copies; network unchanged)"),
            "Forward: z = a_prev · W + b, a = σ(z). Backward: δ^L = ∂E/∂a ⊙ σ'(z) (BP1), "
            "δ^l = (δ^(l+1) W^(l+1)ᵀ) ⊙ σ'(z^l) (BP2), ∂E/∂b = Σ_samples δ (BP3), "
            "∂E/∂W = a_prevᵀ δ (BP4).",
            DELTA_SIGN_NOTE,
            "W[i,j] is the weight from input i to unit j (mlpkit stores W as "
            "(n_inputs, n_outputs); Nielsen writes the transpose).",
            *self.notes,
        ]

    def to_text(self, digits: int = 9) -> str:
        """Plain-text tables (fixed-width columns), numbers to ``digits`` significant digits."""
        lines = self._preamble(digits)
        for title, header, rows in self._blocks(digits):
            widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
            lines += [
                "",
                title,
                "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
                "  ".join("-" * w for w in widths),
            ]
            lines += [
                "  ".join(
                    v.rjust(w) if i else v.ljust(w)
                    for i, (v, w) in enumerate(zip(r, widths, strict=True))
                ).rstrip()
                for r in rows
            ]
        return "\n".join(lines)

    def to_markdown(self, digits: int = 9) -> str:
        """GitHub-flavoured Markdown tables, numbers to ``digits`` significant digits."""
        lines = [f"{line}\n" for line in self._preamble(digits)]
        for title, header, rows in self._blocks(digits):
            lines += [
                "",
                f"### {title}",
                "",
                "| " + " | ".join(header) + " |",
                "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|",
            ]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines).replace("\n\n\n", "\n\n")

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return _display.step_trace_repr(self)

    def _repr_html_(self) -> str:  # Jupyter: the tables of to_text()
        return _display.step_trace_html(self)


def _split_update(
    optimizer: Optimizer, index: int, param: np.ndarray, grad: np.ndarray
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The terms of Δw from the optimiser's hyper-parameters and state (not its ``step``)."""
    decays = (optimizer.weight_decay or optimizer.l1) and (param.ndim > 1 or optimizer.decay_biases)
    decay = np.zeros_like(param, dtype=np.float64)
    decay_eq = "(no decay)"
    if decays:
        decay = optimizer.weight_decay * param + optimizer.l1 * np.sign(param)
        decay_eq = "λ w" if not optimizer.l1 else "λ w + l1 sign(w)"
    eta = optimizer.learning_rate
    if isinstance(optimizer, SGD):
        alpha = optimizer.momentum
        velocity = (
            np.zeros_like(param, dtype=np.float64)
            if optimizer.velocities is None
            else np.asarray(optimizer.velocities[index], dtype=np.float64)
        )
        if optimizer.nesterov:
            scale = 1.0 + alpha
            terms = {
                "gradient": -scale * eta * grad,
                "momentum": alpha * alpha * velocity,
                "weight decay": -scale * eta * decay,
            }
            eqs = {
                "gradient": "−(1+α) η ∂E/∂w",
                "momentum": "α² Δw(t−1)",
                "weight decay": f"−(1+α) η {decay_eq}",
            }
        else:
            terms = {
                "gradient": -eta * grad,
                "momentum": alpha * velocity,
                "weight decay": -eta * decay,
            }
            eqs = {
                "gradient": "−η ∂E/∂w",
                "momentum": "α Δw(t−1)",
                "weight decay": f"−η {decay_eq}",
            }
        return terms, eqs
    if isinstance(optimizer, Adam):
        # Adam's step is not a sum of a gradient and a momentum part; show it whole, with the
        # weight-decay share found by the same formula with λ = 0.
        b1, b2, eps = optimizer.beta1, optimizer.beta2, optimizer.epsilon
        t = optimizer.step_count + 1
        m_old = 0.0 if optimizer.first_moments is None else optimizer.first_moments[index]
        v_old = 0.0 if optimizer.second_moments is None else optimizer.second_moments[index]

        def adam(g: np.ndarray) -> np.ndarray:
            m = b1 * m_old + (1 - b1) * g
            v = b2 * v_old + (1 - b2) * g * g
            return -eta * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)

        plain = adam(grad.astype(np.float64))
        full = adam(grad.astype(np.float64) + decay)
        return (
            {"adaptive gradient": plain, "weight decay": full - plain},
            {
                "adaptive gradient": "−η m̂ / (√v̂ + ε)",
                "weight decay": f"Adam step with g + {decay_eq}, minus the step without",
            },
        )
    return {}, {}


SOFTMAX_NOTE = (
    "Softmax is not element-wise: a_k = e^(z_k) / Σ_j e^(z_j) depends on every z_j of its "
    "sample, with Jacobian ∂a_k/∂z_j = a_k (1[k = j] − a_j). A softmax layer's δ is therefore "
    "the Jacobian product δ_k = a_k (g_k − Σ_j g_j a_j) of g = ∂E/∂a, not g ⊙ σ'(z); with the "
    "cross-entropy at the output the Jacobian and ∂E/∂a cancel to δ^L = a − t (÷ n for the "
    "batch mean)."
)


def _delta_equation(layer: Dense, is_output: bool, loss: Loss) -> str:
    """The formula of a layer's δ, as the trace prints it."""
    if layer.activation.name != "softmax":
        return "∂E/∂a ⊙ σ'(z) (BP1)" if is_output else "(δ_next W_nextᵀ) ⊙ σ'(z) (BP2)"
    if is_output and loss.canonical_activation == "softmax":
        mean = " / n" if loss.reduction == "mean" else ""
        return f"(a − t){mean} (BP1: softmax + cross-entropy, the Jacobian cancels)"
    g = "∂E/∂a" if is_output else "δ_next W_nextᵀ"
    return f"a ⊙ (g − Σ_j g_j a_j), g = {g} (softmax Jacobian; {'BP1' if is_output else 'BP2'})"


def _backward_deltas(
    network: Network, x: np.ndarray, t: np.ndarray, loss: Loss
) -> tuple[float, dict[int, np.ndarray]]:
    """Forward pass, loss value and backward pass (gradients set on the layers), keeping
    every layer's δ (n_samples, n_outputs) by its index in ``network.layers``."""
    a = network.forward(x)
    value = loss.value(a, t)
    out = network.output_layer
    assert out.z is not None  # set by forward
    # Network.backward, written out so that every layer's δ is kept
    delta = loss.output_delta(out.activation, out.z, a, t)
    deltas: dict[int, np.ndarray] = {}
    for i in range(len(network.layers) - 1, -1, -1):
        deltas[i] = delta
        grad_a_prev = network.layers[i].backward(delta, need_grad_input=i > 0)
        if i > 0:
            assert grad_a_prev is not None  # asked for with need_grad_input
            delta = network.layers[i - 1].delta(grad_a_prev)
    return value, deltas


def _parameter_trace(
    name: str, optimizer: Optimizer, k: int, pair: tuple[np.ndarray, np.ndarray],
    before: np.ndarray, after: np.ndarray,
) -> ParameterTrace:
    """Parameter ``k`` (``network.parameters()[k]``) through the step: its terms are read
    from the optimiser and kept only if they add up to the real step ``after − before``."""
    param, grad = pair
    update = after - before
    terms, eqs = _split_update(optimizer, k, param, grad)
    total = sum(terms.values()) if terms else None
    tol = 1e-5 if param.dtype == np.float32 else 1e-10
    if total is None or not np.allclose(total, update, rtol=tol, atol=tol):
        terms, eqs = {"step": update}, {"step": f"{type(optimizer).__name__}.step"}
    equation = "∂E/∂W = a_prevᵀ δ (BP4)" if name == "weights" else "∂E/∂b = Σ δ (BP3)"
    return ParameterTrace(
        name=name,
        before=before,
        gradient=grad.copy(),
        terms=terms,
        update=update,
        after=after,
        gradient_equation=equation,
        term_equations=eqs,
    )


def _layer_traces(
    network: Network, loss: Loss, optimizer: Optimizer, deltas: dict[int, np.ndarray]
) -> list[LayerTrace]:
    """One :class:`LayerTrace` per Dense layer (input side first); the optimiser's step is
    taken on copies of the parameters."""
    pairs = network.parameters()
    before = [p.copy() for p, _ in pairs]
    copies = [(p.copy(), g.copy()) for p, g in pairs]
    copy.deepcopy(optimizer).step(copies)
    layers, k = [], 0
    for number, (i, layer) in enumerate(
        ((i, layer) for i, layer in enumerate(network.layers) if isinstance(layer, Dense)),
        start=1,
    ):
        assert layer.a_prev is not None and layer.z is not None and layer.a is not None
        entry = LayerTrace(
            index=number,
            description=f"{layer.n_inputs} → {layer.n_outputs}, {layer.activation.name}",
            a_prev=layer.a_prev.copy(),
            z=layer.z.copy(),
            a=layer.a.copy(),
            delta=deltas[i].copy(),
            delta_equation=_delta_equation(layer, layer is network.output_layer, loss),
            activation_equation=(
                "a = e^(z_j) / Σ_k e^(z_k)" if layer.activation.name == "softmax" else "a = σ(z)"
            ),
        )
        for name in ("weights", "biases")[: len(layer.parameters())]:
            entry.parameters.append(
                _parameter_trace(name, optimizer, k, pairs[k], before[k], copies[k][0])
            )
            k += 1
        layers.append(entry)
    return layers


def trace_step(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    optimizer: str | Optimizer | None = None,
    apply: bool = False,
) -> StepTrace:
    """Trace one gradient-descent step on the batch (X, T).

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs), or (n_samples,) class labels for cross-entropy
    loss : str or Loss
    optimizer : str, Optimizer or None
        ``None`` is ``SGD(learning_rate=0.1)``. Its state (velocities, moments) is read, and
        changed only with ``apply=True``.
    apply : bool, default False
        Also take the step on ``network`` and ``optimizer`` (to trace step after step).

    Returns
    -------
    StepTrace
        ``str(trace)`` or ``trace.to_markdown()`` gives the tables. A softmax layer's δ is
        shown as what it is (the softmax Jacobian product, or a − t with cross-entropy).
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    loss = get_loss(loss)
    optimizer = get_optimizer(optimizer)
    x, t = network.check_batch(X, T, loss)
    value, deltas = _backward_deltas(network, x, t, loss)
    layers = _layer_traces(network, loss, optimizer, deltas)
    if apply:
        optimizer.step(network.parameters())
    has_softmax = any(layer.activation.name == "softmax" for layer in network.dense_layers)
    return StepTrace(
        loss_name=loss.name,
        loss_value=value,
        optimizer=repr(optimizer),
        targets=t,
        layers=layers,
        applied=bool(apply),
        notes=[SOFTMAX_NOTE] if has_softmax else [],
    )
