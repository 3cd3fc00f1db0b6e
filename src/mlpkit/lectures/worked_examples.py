"""The lectures' worked examples as data, recomputed by mlpkit and printed with every number.

Each example builds its network with the lecture's weights, runs mlpkit's own forward pass,
backpropagation and optimiser (through :func:`mlpkit.trace.trace_step`), and compares the
results with the digits the lecture publishes. ``mlpkit lecture NAME`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..layers import Dense
from ..network import Network
from ..optimizers import SGD
from .perceptron import logic_gate_network
from .trace import DELTA_SIGN_NOTE, trace_step

__all__ = ["LECTURES", "Check", "WorkedExample", "lecture", "worked_example"]


@dataclass
class Check:
    """One published number: ``computed`` by mlpkit, ``published`` as printed in the lecture.

    It passes when ``computed`` is within ``tolerance`` of the published value; by default
    half a unit in the last published digit (what rounding allows).
    """

    label: str
    computed: float
    published: str
    tolerance: float | None = None

    @property
    def decimals(self) -> int:
        return len(self.published.split(".")[1]) if "." in self.published else 0

    @property
    def allowed(self) -> float:
        if self.tolerance is not None:
            return self.tolerance
        return 0.5 * 10.0 ** (-self.decimals) * (1 + 1e-9)

    @property
    def ok(self) -> bool:
        return abs(self.computed - float(self.published)) <= self.allowed

    @property
    def shown(self) -> str:
        """``computed`` rounded to as many decimals as the lecture prints."""
        text = f"{self.computed:.{self.decimals}f}"
        return "0" + text[1:] if text.startswith("-0") and float(text) == 0 else text


@dataclass
class WorkedExample:
    """A worked example: where it is from, the full printout and the published numbers."""

    name: str
    title: str
    source: str
    body: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def text(self) -> str:
        """The printout: title, source, all numbers, then the comparison with the lecture."""
        lines = [self.title, "=" * len(self.title), f"Source: {self.source}", "", self.body, ""]
        if self.checks:
            lines.append("Checked against the digits published in the lecture:")
            width = max(len(c.label) for c in self.checks)
            for c in self.checks:
                mark = "ok" if c.ok else "MISMATCH"
                lines.append(
                    f"  {c.label.ljust(width)} = {c.shown}   (lecture: {c.published}, "
                    f"mlpkit: {c.computed:.9g})  {mark}"
                )
        return "\n".join(lines)


def _dense(weights, biases, activation: str = "sigmoid") -> Dense:
    weights = np.asarray(weights, dtype=np.float64)
    layer = Dense(
        weights.shape[0],
        weights.shape[1],
        activation=activation,
        bias=biases is not None,
        dtype=np.float64,
    )
    layer.weights = weights
    if biases is not None:
        layer.biases = biases
    return layer


def backprop_2_2_2() -> WorkedExample:
    """Mazur's step-by-step example (Merceron lecture): 2-2-2 sigmoid net, inputs 0.05/0.10."""
    # W[i, j] is input i → unit j: h1 = w1 i1 + w2 i2 + b1, h2 = w3 i1 + w4 i2 + b1, and so on
    hidden = _dense([[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35])
    output = _dense([[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60])
    network = Network([hidden, output])
    trace = trace_step(
        network, [[0.05, 0.10]], [[0.01, 0.99]], "squared_error", SGD(learning_rate=0.5)
    )
    h, o = trace.layers
    w_hidden, w_out = h.parameters[0].after, o.parameters[0].after
    body = "\n".join(
        [
            "Inputs i1 = 0.05, i2 = 0.10; targets 0.01, 0.99; E = ½ Σ (t − o)²; SGD with η = 0.5.",
            "Weights w1..w4 (input → hidden) are W1[1,1], W1[2,1], W1[1,2], W1[2,2]; w5..w8",
            "(hidden → output) are W2[1,1], W2[2,1], W2[1,2], W2[2,2]. Mazur keeps the biases",
            "fixed; mlpkit updates them too, which does not change the weights after this step.",
            "",
            trace.to_text(),
        ]
    )
    checks = [
        Check("out_h1", h.a[0, 0], "0.593269992"),
        Check("out_o1", o.a[0, 0], "0.75136507"),
        Check("out_o2", o.a[0, 1], "0.772928465"),
        Check("E_total", trace.loss_value, "0.298371109"),
        Check("w5 after", w_out[0, 0], "0.35891648"),
        Check("w6 after", w_out[1, 0], "0.408666186"),
        Check("w7 after", w_out[0, 1], "0.511301270"),
        Check("w8 after", w_out[1, 1], "0.561370121"),
        Check("w1 after", w_hidden[0, 0], "0.149780716"),
        Check("w2 after", w_hidden[1, 0], "0.19956143"),
        Check("w3 after", w_hidden[0, 1], "0.24975114"),
        Check("w4 after", w_hidden[1, 1], "0.29950229"),
    ]
    return WorkedExample(
        "backprop-2-2-2",
        "Backpropagation step by step: the 2-2-2 sigmoid network",
        "Merceron, Beuth Berlin (004), after M. Mazur, 'A step by step backpropagation example'",
        body,
        checks,
    )


def momentum_2_2_1() -> WorkedExample:
    """CS 445's backprop example: 2-2-1 sigmoid net, all weights 0.1, η = 0.2, α = 0.9."""
    network = Network(
        [_dense(np.full((2, 2), 0.1), [0.1, 0.1]), _dense(np.full((2, 1), 0.1), [0.1])]
    )
    optimizer = SGD(learning_rate=0.2, momentum=0.9)
    x, t = [[1.0, 0.0]], [[0.9]]
    first = trace_step(network, x, t, "squared_error", optimizer, apply=True)
    second = trace_step(network, x, t, "squared_error", optimizer)
    h, o = first.layers
    body = "\n".join(
        [
            "Input x = (1, 0), target t = 0.9, every weight and bias 0.1; E = ½ (t − o)²;",
            "online SGD with η = 0.2 and momentum α = 0.9: Δw(t) = −η ∂E/∂w + α Δw(t−1).",
            "The lecture's bias weights w_k0, w_j0 (input 1) are mlpkit's biases b.",
            DELTA_SIGN_NOTE,
            "",
            "Time step 1 (Δw(0) = 0, so the momentum term is 0):",
            first.to_text(digits=6),
            "",
            "Time step 2, same sample: now the momentum term α Δw(1) is non-zero:",
            second.to_text(digits=6),
        ]
    )
    checks = [
        Check("h (hidden outputs)", h.a[0, 0], "0.55"),
        Check("o", o.a[0, 0], "0.552"),
        Check("δ_out (lecture sign, −∂E/∂z)", -o.delta[0, 0], "0.086"),
        Check("δ_hidden (lecture sign)", -h.delta[0, 0], "0.002"),
        Check("output bias after", o.parameters[1].after[0], "0.1172"),
        Check("output weights after", o.parameters[0].after[0, 0], "0.1095"),
        Check("hidden bias after", h.parameters[1].after[0], "0.1004"),
        Check("first-input weights after", h.parameters[0].after[0, 0], "0.1004"),
        Check("second-input weights after", h.parameters[0].after[1, 0], "0.1"),
    ]
    return WorkedExample(
        "momentum-2-2-1",
        "Backpropagation with momentum: the 2-2-1 example",
        "CS 445/545 'Neural Networks (MLPs)' (001), 'Backprop Example'",
        body,
        checks,
    )


def xor_step() -> WorkedExample:
    """XOR from two Heaviside neurons (Merceron lecture), run through mlpkit's Step layers."""
    network = logic_gate_network("xor")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    outputs = network.forward(X)[:, 0]
    first = network.dense_layers[0]  # layers[0]
    assert first.a is not None  # set by forward (narrows the type)
    hidden = first.a[:, 2]
    lines = [
        "A unit outputs 1 when its weighted sum reaches its threshold (Heaviside), else 0.",
        "Hidden unit h (AND): x0 + x1 ≥ 1.2.  Output: x0 + x1 − 2h ≥ 0.6.",
        "(mlpkit passes x0, x1 to the output through two units H(x − 0.5), which equal x.)",
        "",
        "x0  x1  hidden sum  h  output sum       XOR",
    ]
    checks = []
    for (x0, x1), h, out in zip(X.astype(int), hidden, outputs, strict=True):
        s1, s2 = x0 + x1, x0 + x1 - 2 * int(h)
        lines.append(
            f"{x0}   {x1}   {s1} {'≥' if s1 >= 1.2 else '<'} 1.2     {int(h)}  "
            f"{s2:2d} {'≥' if s2 >= 0.6 else '<'} 0.6        {int(out)}"
        )
        checks.append(Check(f"XOR({x0}, {x1})", float(out), str(x0 ^ x1)))
    return WorkedExample(
        "xor-step",
        "XOR with step neurons",
        "Merceron, Beuth Berlin (004), 'Neural networks and Boolean operators'",
        "\n".join(lines),
        checks,
    )


def forward_3_input() -> WorkedExample:
    """CS 445's forward-propagation example: inputs (1 bias, 0.4, 0.1), 2 hidden, 2 outputs."""
    hidden = _dense([[0.2, 0.3], [0.1, -0.4]], [0.1, -0.2])
    output = _dense([[-0.2, 0.1], [-0.1, -0.5]], None)
    network = Network([hidden, output])
    out = network.forward([[0.4, 0.1]])
    lines = ["Inputs x = (0.4, 0.1) and the bias input 1; the output units have no bias.", ""]
    for name, layer in (("hidden", hidden), ("output", output)):
        assert layer.a_prev is not None and layer.z is not None and layer.a is not None
        for j in range(layer.n_outputs):
            terms = [
                f"({w:g})({v:.4g})"
                for w, v in zip(layer.weights[:, j], layer.a_prev[0], strict=True)
            ]
            if layer.bias and layer.biases is not None:
                terms.insert(0, f"({layer.biases[j]:g})(1)")
            lines.append(
                f"{name} {j + 1}: σ({' + '.join(terms)}) = σ({layer.z[0, j]:.6g}) "
                f"= {layer.a[0, j]:.6g}"
            )
    assert hidden.z is not None and hidden.a is not None and output.z is not None
    checks = [
        Check("z_h1", hidden.z[0, 0], "0.19"),
        Check("h1", hidden.a[0, 0], "0.547"),
        Check("z_h2", hidden.z[0, 1], "-0.12"),
        Check("h2", hidden.a[0, 1], "0.470"),
        # the lecture multiplies the rounded h1 = .547, h2 = .470
        Check("z_o1", output.z[0, 0], "-0.1564", tolerance=1e-4),
        Check("o1", out[0, 0], "0.461"),
        Check("z_o2", output.z[0, 1], "-0.180"),
        Check("o2", out[0, 1], "0.455"),
    ]
    return WorkedExample(
        "forward-3-input",
        "Forward propagation through a 2-2-2 network",
        "CS 445/545 'Neural Networks (MLPs)' (001), 'Simple Example'",
        "\n".join(lines),
        checks,
    )


def chain_rule() -> WorkedExample:
    """Betke/Winston: P = 3 o1 − 7 o2 with o1 = w1 − 2 w2 + 5 w3, o2 = 2 w1 − w2 − 6."""
    # o(w) is a linear layer with input w; P(o) a linear layer on top. Backpropagating
    # ∂P/∂P = 1 down to the input gives ∂P/∂w = Σ_j ∂P/∂o_j ∂o_j/∂w (the general chain rule).
    inner = _dense([[1, 2], [-2, -1], [5, 0]], [0, -6], activation="identity")
    outer = _dense([[3], [-7]], [0], activation="identity")
    network = Network([inner, outer])
    w = np.array([[1.0, 1.0, 1.0]])
    network.forward(w)
    grad_o = outer.backward(np.ones((1, 1)))  # ∂P/∂o = (3, −7)
    assert grad_o is not None
    grad_w = inner.backward(inner.delta(grad_o))  # ∂P/∂w = ∂P/∂o · ∂o/∂w
    assert grad_w is not None
    lines = [
        "∂P/∂w_i = Σ_j ∂P/∂o_j · ∂o_j/∂w_i, with ∂P/∂o = (3, −7) and",
        "∂o/∂w = [[1, −2, 5], [2, −1, 0]] (rows o1, o2):",
        *[
            f"  ∂P/∂w{i + 1} = 3·({inner.weights[i, 0]:g}) − 7·({inner.weights[i, 1]:g}) "
            f"= {grad_w[0, i]:g}"
            for i in range(3)
        ],
        f"Gradient ∇P(w) = ({', '.join(f'{g:g}' for g in grad_w[0])}); with r = 1 the update "
        "w ← w + r ∇P climbs the performance P.",
        "(Computed by backpropagating ∂P/∂P = 1 through two identity layers; the linear P",
        "has the same gradient at every w.)",
    ]
    checks = [Check(f"∂P/∂w{i + 1}", grad_w[0, i], p) for i, p in enumerate(["-11", "1", "15"])]
    return WorkedExample(
        "chain-rule",
        "The chain rule: gradient (−11, 1, 15)",
        "Betke, 'Backpropagation' after Winston (002)",
        "\n".join(lines),
        checks,
    )


LECTURES: dict[str, Callable[[], WorkedExample]] = {
    "backprop-2-2-2": backprop_2_2_2,
    "momentum-2-2-1": momentum_2_2_1,
    "xor-step": xor_step,
    "forward-3-input": forward_3_input,
    "chain-rule": chain_rule,
}


def worked_example(name: str) -> WorkedExample:
    """The worked example ``name`` (a key of :data:`LECTURES`), recomputed."""
    if name not in LECTURES:
        raise ValueError(f"name must be one of {sorted(LECTURES)}, got {name!r}")
    return LECTURES[name]()


def lecture(name: str) -> str:
    """The printout of worked example ``name``: every number, then the published digits."""
    return worked_example(name).text()
