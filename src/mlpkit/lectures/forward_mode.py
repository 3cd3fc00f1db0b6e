"""Derivatives "the natural way" (Schweizer's lecture after Nielsen): propagate ∂a/∂θ for every
parameter θ forward through the network, next to a itself, instead of propagating δ backward.

Both give the same ∂E/∂θ; the cost differs. Backpropagation carries one number per unit back
(work proportional to the number of weights); forward mode carries one number per unit *and
parameter* (work proportional to weights × weights). :func:`operation_counts` measures both by
counting the multiply-adds that the two functions here actually perform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import Dense
from ..losses import Loss, get_loss
from ..network import Network
from ..validation import as_generator, check_positive_int

__all__ = ["OperationCounter", "backprop_gradients", "forward_mode_gradients", "operation_counts"]

#: forward mode works on chunks of samples holding at most this many tangent numbers
_CHUNK_ELEMENTS = 4_000_000

Gradients = list[tuple[np.ndarray, np.ndarray | None]]


@dataclass
class OperationCounter:
    """Multiply-adds performed, by phase: one per term of a matrix product, one per
    element-wise product or sum term."""

    forward_pass: int = 0
    derivatives: int = 0

    def matmul(self, a: np.ndarray, b: np.ndarray, phase: str = "derivatives") -> np.ndarray:
        """``a @ b`` for 2-D arrays, counting a.shape[0] · a.shape[1] · b.shape[1]."""
        self._add(phase, a.shape[0] * a.shape[1] * b.shape[1])
        return a @ b

    def _add(self, phase: str, n: int) -> None:
        setattr(self, phase, getattr(self, phase) + int(n))


def _prepare(network: Network, X, T, loss: str | Loss) -> tuple[np.ndarray, np.ndarray, Loss]:
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    loss = get_loss(loss)
    return (*network.check_batch(X, T, loss), loss)


def _jvp(layer: Dense, z: np.ndarray, a: np.ndarray, tangent: np.ndarray) -> np.ndarray:
    """∂a/∂θ from ∂z/∂θ, tangent (n, units, P). The activations' Jacobians are symmetric
    (diagonal, or softmax's diag(a) − a aᵀ), so each activation's own ``backward`` applies it."""
    n, units, p = tangent.shape
    rows = tangent.transpose(0, 2, 1).reshape(n * p, units)
    out = layer.activation.backward(np.repeat(z, p, axis=0), np.repeat(a, p, axis=0), rows)
    return out.reshape(n, p, units).transpose(0, 2, 1)


def forward_mode_gradients(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    counter: OperationCounter | None = None,
) -> Gradients:
    """∂E/∂W and ∂E/∂b of every Dense layer by forward propagation of derivatives.

    For each layer q, with z = a_prev W + b and a = σ(z):
    ∂z_j/∂θ = Σ_i W_ij ∂a_prev_i/∂θ for the parameters θ of earlier layers,
    ∂z_j/∂W_ij = a_prev_i and ∂z_j/∂b_j = 1 for the layer's own, and ∂a/∂θ = σ'(z) ⊙ ∂z/∂θ.
    At the output ∂E/∂θ = Σ_k ∂E/∂a_k ∂a_k/∂θ, summed over the samples. Dropout layers act
    as at prediction time (the identity).

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs), or (n_samples,) labels for cross-entropy
    loss : str or Loss
    counter : OperationCounter or None
        Adds the multiply-adds performed.

    Returns
    -------
    list of (grad_weights, grad_biases)
        One pair per Dense layer, shapes (n_inputs, n_outputs) and (n_outputs,) (``None``
        without biases): the same numbers as backpropagation.
    """
    x, t, loss = _prepare(network, X, T, loss)
    counter = OperationCounter() if counter is None else counter
    dense = network.dense_layers
    sizes = [layer.n_parameters for layer in dense]
    total = np.zeros(sum(sizes), dtype=np.float64)
    widest = max(layer.n_outputs for layer in dense)
    chunk = max(1, _CHUNK_ELEMENTS // max(1, widest * sum(sizes)))
    n_all = x.shape[0]
    for start in range(0, n_all, chunk):
        a = x[start : start + chunk]
        n = a.shape[0]
        tangent = np.zeros((n, a.shape[1], 0), dtype=x.dtype)  # ∂a/∂θ for θ seen so far
        for layer in dense:
            n_in, n_out = layer.n_inputs, layer.n_outputs
            z = counter.matmul(a, layer.weights, phase="forward_pass")
            if layer.bias:
                z = z + layer.biases
            # parameters of earlier layers: ∂z_j/∂θ = Σ_i W_ij ∂a_prev_i/∂θ
            p_old = tangent.shape[2]
            old = np.einsum("nip,ij->njp", tangent, layer.weights)
            counter._add("derivatives", n * n_in * n_out * p_old)
            # this layer's own parameters (placed, not computed): ∂z_j/∂W_ij = a_prev_i
            own_w = np.zeros((n, n_out, n_in, n_out), dtype=x.dtype)
            units = np.arange(n_out)
            own_w[:, units, :, units] = a
            blocks = [old, own_w.reshape(n, n_out, n_in * n_out)]
            if layer.bias:
                own_b = np.zeros((n, n_out, n_out), dtype=x.dtype)
                own_b[:, units, units] = 1.0  # ∂z_j/∂b_j = 1
                blocks.append(own_b)
            tangent_z = np.concatenate(blocks, axis=2)
            a = layer.activation.value(z)
            # ∂a/∂θ = σ'(z) ⊙ ∂z/∂θ (softmax: its Jacobian, two terms per element)
            tangent = _jvp(layer, z, a, tangent_z)
            per_element = 2 if layer.activation.name == "softmax" else 1
            counter._add("derivatives", per_element * tangent.size)
        grad_a = loss.gradient(a, t[start : start + chunk])
        if loss.reduction == "mean":
            grad_a = grad_a * (n / n_all)  # the chunk's 1/n becomes the whole batch's 1/N
        total += np.einsum("nk,nkp->p", grad_a, tangent)
        counter._add("derivatives", tangent.size)
    result, offset = [], 0
    for layer in dense:
        w_size = layer.n_inputs * layer.n_outputs
        grad_w = total[offset : offset + w_size].reshape(layer.n_inputs, layer.n_outputs)
        grad_b = total[offset + w_size : offset + layer.n_parameters] if layer.bias else None
        result.append(
            (grad_w.astype(layer.dtype), None if grad_b is None else grad_b.astype(layer.dtype))
        )
        offset += layer.n_parameters
    return result


def backprop_gradients(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    counter: OperationCounter | None = None,
) -> Gradients:
    """∂E/∂W and ∂E/∂b of every Dense layer by backpropagation, counting its multiply-adds.

    The same four equations as :meth:`Network.backward` (BP1-BP4), written with a counter;
    the network's ``grad_weights``/``grad_biases`` are left untouched. Returns one
    ``(grad_weights, grad_biases)`` pair per Dense layer.
    """
    x, t, loss = _prepare(network, X, T, loss)
    counter = OperationCounter() if counter is None else counter
    dense = network.dense_layers
    inputs, zs, activations = [], [], []
    a = x
    for layer in dense:
        inputs.append(a)
        z = counter.matmul(a, layer.weights, phase="forward_pass")
        if layer.bias:
            z = z + layer.biases
        a = layer.activation.value(z)
        zs.append(z)
        activations.append(a)
    out = dense[-1]
    # Output error (BP1): δ^L = ∂E/∂a ⊙ σ'(z^L)
    delta = loss.output_delta(out.activation, zs[-1], a, t)
    counter._add("derivatives", delta.size)
    grads: Gradients = []
    for q in range(len(dense) - 1, -1, -1):
        layer = dense[q]
        # Weight gradient (BP4): ∂E/∂W = a_prevᵀ δ; bias gradient (BP3): Σ_samples δ
        grad_w = counter.matmul(inputs[q].T, delta)
        grad_b = delta.sum(axis=0) if layer.bias else None
        counter._add("derivatives", delta.size if layer.bias else 0)
        grads.append((grad_w, grad_b))
        if q > 0:
            # Error propagation (BP2): δ^(q−1) = (δ^q Wᵀ) ⊙ σ'(z^(q−1))
            grad_prev = counter.matmul(delta, layer.weights.T)
            below = dense[q - 1]
            delta = below.activation.backward(zs[q - 1], activations[q - 1], grad_prev)
            counter._add(
                "derivatives", (2 if below.activation.name == "softmax" else 1) * delta.size
            )
    return grads[::-1]


def operation_counts(
    sizes, n_samples: int = 1, activation: str = "sigmoid", seed: int = 0
) -> dict[str, int]:
    """Measure the multiply-adds of forward mode and of backpropagation for ``mlp(sizes)``.

    Parameters
    ----------
    sizes : sequence of int
        Layer sizes, e.g. [2, 8, 8, 1].
    n_samples : int
        Samples in the batch (both counts grow in proportion).

    Returns
    -------
    dict
        ``n_weights``, ``n_parameters``, ``forward_pass`` (computing a, the same for both),
        ``backprop`` and ``forward_mode`` (the derivative work only).
    """
    from ..network import mlp

    n_samples = check_positive_int("n_samples", n_samples)
    network = mlp(sizes, activation=activation, seed=seed, dtype=np.float64)
    rng = as_generator(seed)
    X = rng.random((n_samples, network.n_inputs))
    T = rng.random((n_samples, network.n_outputs))
    backward, forward = OperationCounter(), OperationCounter()
    backprop_gradients(network, X, T, "squared_error", counter=backward)
    forward_mode_gradients(network, X, T, "squared_error", counter=forward)
    return {
        "n_weights": sum(layer.weights.size for layer in network.dense_layers),
        "n_parameters": network.n_parameters,
        "forward_pass": backward.forward_pass,
        "backprop": backward.derivatives,
        "forward_mode": forward.derivatives,
    }
