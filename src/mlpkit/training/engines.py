"""What the training loop calls per batch: an engine with ``forward_loss``, ``backward``,
``gradient_sum`` and ``step``.

:class:`PlainEngine` is the lecture core, exactly: ``Dense.forward``, the loss's value and
output error δ^L, ``Network.backward`` (``Dense.backward`` and ``Activation.derivative``) and
``Optimizer.step``; change one of those lines and training with ``engine="plain"`` changes.
:class:`mlpkit.fast.engine.FastEngine` computes the same numbers with buffers and compiled
kernels for the common networks. ``engine="auto"`` takes the fast engine where it applies.
"""

from __future__ import annotations

import math

import numpy as np

from ..losses import Loss
from ..network import Network
from ..optimizers import Optimizer

__all__ = ["ENGINES", "PlainEngine", "make_engine"]

#: the accepted values of ``train(..., engine=...)``
ENGINES = ("auto", "fast", "plain")


class PlainEngine:
    """One training step written with the plain core (the reference semantics)."""

    name = "plain"

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.output: np.ndarray | None = None
        self.delta: np.ndarray | None = None

    def forward_loss(self, x: np.ndarray, t: np.ndarray, w: np.ndarray | None = None) -> float:
        """Forward pass of batch ``x`` (n, n_inputs); returns E against ``t`` (n, n_outputs)
        and keeps the output error δ^L for :meth:`backward`. Sample weights ``w`` (n,) weight
        each sample's loss: E = Σ w_k E_k / Σ w_k, δ^L_k scaled by w_k / Σ w (not 1/n)."""
        a = x
        for layer in self.network.layers:
            a = layer.forward(a, training=True)  # z = a_prev · W + b, a = σ(z)
        output = self.network.output_layer
        assert output.z is not None  # set by forward
        value, self.delta = self.loss.value_and_delta(output.activation, output.z, a, t, w)
        self.output = a
        return value

    def backward(self) -> None:
        """Backpropagate δ^L: every layer's ``grad_weights`` and ``grad_biases``."""
        if self.delta is None:
            raise RuntimeError("PlainEngine.backward needs forward_loss first")
        self.network.backward(self.delta)

    def gradient_sum(self) -> float:
        """Σ of every gradient entry: finite exactly when every gradient is."""
        return sum(float(np.sum(grad, dtype=np.float64)) for _, grad in self.network.parameters())

    def step(self) -> None:
        """The optimiser's update of every parameter."""
        self.optimizer.step(self.network.parameters())


def make_engine(engine: str, network: Network, loss: Loss, optimizer: Optimizer,
                input_norm2: float = math.inf, weighted: bool = False):
    """The engine named ``engine`` ("auto", "fast" or "plain") for this training run.

    "auto" is the fast engine where it supports the network, loss and optimiser, else the
    plain one; "fast" raises ValueError (saying why) where it does not apply. The fast
    engine has no sample weights: ``weighted`` runs take the plain one.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "plain":
        return PlainEngine(network, loss, optimizer)
    from ..fast.engine import FastEngine

    reason = "sample_weight (the fast engine has no weighted kernels)" if weighted else \
        FastEngine.unsupported(network, loss, optimizer)
    if reason is None:
        return FastEngine(network, loss, optimizer, input_norm2)
    if engine == "fast":
        raise ValueError(
            f"engine='fast' cannot train this run ({reason}); use "
            "engine='auto' (falls back to the plain core) or engine='plain'"
        )
    return PlainEngine(network, loss, optimizer)
