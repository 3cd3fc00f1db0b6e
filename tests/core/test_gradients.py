"""Backpropagation against central finite differences, in float64, for every pairing.

Every output activation × loss (the cross-entropies only with sigmoid/softmax outputs), every
hidden activation, with and without biases, 1 to 4 layers; the dropout layer with a fixed
mask; integer class labels for cross-entropy. The same cases against PyTorch autograd are in
``test_reference_torch.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import (
    AbsoluteError,
    BinaryCrossEntropy,
    CrossEntropy,
    Dense,
    Dropout,
    Network,
    SquaredError,
    check_gradients,
)
from mlpkit.gradcheck import central_differences
from pairings import (
    HIDDEN_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    PROBABILITY_OUTPUTS,
    VALID_PAIRS,
)

KINKED = ("relu", "leaky_relu")
TOLERANCE = 1e-6  # worst relative error between backprop and finite differences
N_INPUTS, N_HIDDEN, N_OUTPUTS, N_SAMPLES = 3, 4, 3, 5
# Kink margin: a finite-difference step moves z by at most 2·1e-3·|a_prev| (below 1e-2 here),
# so pre-activations of ReLU units stay this far from 0.
MARGIN = 0.02


def make_targets(loss: mk.Loss, a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Targets suited to ``loss`` for outputs ``a`` (n_samples, n_outputs)."""
    if isinstance(loss, CrossEntropy):
        return np.eye(a.shape[1])[rng.integers(0, a.shape[1], a.shape[0])]
    if isinstance(loss, BinaryCrossEntropy):
        return rng.uniform(0.0, 1.0, a.shape)
    if isinstance(loss, AbsoluteError):
        # |a − t| between 0.1 and 1: no finite-difference step crosses the kink of |·|
        return a + rng.choice([-1.0, 1.0], a.shape) * rng.uniform(0.1, 1.0, a.shape)
    return rng.normal(0.0, 1.0, a.shape)


def clear_of_kinks(net: Network) -> bool:
    """True when every ReLU-type layer of the last forward pass has |z| >= MARGIN and at
    least one active unit (so the gradient through it is not trivially zero)."""
    for layer in net.dense_layers:
        if layer.activation.name in KINKED:
            if np.min(np.abs(layer.z)) < MARGIN or not np.any(layer.z > 0):
                return False
    return True


def make_case(
    output_activation: str,
    loss: mk.Loss,
    bias: bool,
    n_layers: int,
    hidden: tuple[str, ...] = HIDDEN_ACTIVATIONS,
    seed: int = 0,
) -> tuple[Network, np.ndarray, np.ndarray]:
    """A tiny float64 network, inputs and targets, the first draw (from ``seed`` on) whose
    kinked units keep clear of their kinks and whose every layer gets a non-zero gradient.

    Hidden layer i uses ``hidden[i % len(hidden)]``.
    """
    sizes = [N_INPUTS] + [N_HIDDEN] * (n_layers - 1) + [N_OUTPUTS]
    for attempt in range(1000):
        rng = np.random.default_rng([seed, attempt])
        layers = []
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
            is_output = i == n_layers - 1
            activation = output_activation if is_output else hidden[i % len(hidden)]
            layer = Dense(
                n_in, n_out, activation, bias=bias, init="normal", seed=rng, dtype=np.float64
            )
            if bias:
                layer.biases = rng.normal(0.0, 0.5, n_out)
            layers.append(layer)
        net = Network(layers)
        X = rng.normal(0.0, 1.0, (N_SAMPLES, N_INPUTS))
        T = make_targets(loss, net.forward(X), rng)
        if not clear_of_kinks(net):
            continue
        net.backprop(X, T, loss)
        if all(np.max(np.abs(grad)) > 1e-4 for _, grad in net.parameters()):
            return net, X, T
    raise RuntimeError("no kink-free draw found; change the seed")


def case_id(activation: str, loss: str) -> str:
    return f"{activation}-{loss}"


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize(
    ("output_activation", "loss_name"), VALID_PAIRS, ids=[case_id(*p) for p in VALID_PAIRS]
)
def test_output_activation_loss_pairs(output_activation, loss_name, bias, n_layers):
    loss = LOSSES[loss_name]()
    # Rotate the hidden activations so that every one meets every output pairing somewhere.
    shift = OUTPUT_ACTIVATIONS.index(output_activation) + n_layers
    hidden = HIDDEN_ACTIVATIONS[shift % 5 :] + HIDDEN_ACTIVATIONS[: shift % 5]
    net, X, T = make_case(output_activation, loss, bias, n_layers, hidden, seed=n_layers)
    assert check_gradients(net, X, T, loss) < TOLERANCE


@pytest.mark.parametrize("n_layers", [2, 3, 4])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize(
    ("output_activation", "loss_name"),
    [("identity", "half_squared_mean"), ("softmax", "cross_entropy_mean")],
)
def test_hidden_activations(hidden, output_activation, loss_name, bias, n_layers):
    loss = LOSSES[loss_name]()
    net, X, T = make_case(output_activation, loss, bias, n_layers, (hidden,), seed=7)
    assert check_gradients(net, X, T, loss) < TOLERANCE


@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu", "identity"])
@pytest.mark.parametrize("loss", [BinaryCrossEntropy, CrossEntropy])
def test_cross_entropies_need_probability_outputs(activation, loss):
    net = mk.mlp([2, 3], output_activation=activation, seed=0, dtype=np.float64)
    X, T = np.ones((2, 2)), np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match=rf"needs outputs in \(0, 1\).*'{activation}'"):
        net.backprop(X, T, loss())


@pytest.mark.parametrize("output_activation", PROBABILITY_OUTPUTS)
def test_cross_entropy_integer_labels(output_activation):
    loss = CrossEntropy()
    net, X, T = make_case(output_activation, loss, True, 2, seed=3)
    labels = np.argmax(T, axis=1)
    assert check_gradients(net, X, labels, loss) < TOLERANCE
    # Labels and the equivalent one-hot rows give the same loss and the same gradients.
    value_labels = net.backprop(X, labels, loss)
    grads_labels = [grad.copy() for _, grad in net.parameters()]
    value_one_hot = net.backprop(X, T, loss)
    assert value_labels == value_one_hot
    for g_labels, (_, g_one_hot) in zip(grads_labels, net.parameters(), strict=True):
        np.testing.assert_array_equal(g_labels, g_one_hot)


@pytest.mark.parametrize("n_layers", [1, 3])
@pytest.mark.parametrize(
    ("output_activation", "loss_name"), VALID_PAIRS, ids=[case_id(*p) for p in VALID_PAIRS]
)
def test_sample_weights_against_finite_differences(output_activation, loss_name, n_layers):
    """Backprop of E = Σ w_k E_k / Σ w_k (sum: Σ w_k E_k), one weight 0, against finite
    differences of ``Loss.value`` with the same weights; and the weights really matter."""
    loss = LOSSES[loss_name]()
    net, X, T = make_case(output_activation, loss, True, n_layers, seed=20 + n_layers)
    w = np.array([0.5, 2.0, 0.0, 1.0, 3.0])
    value = net.backprop(X, T, loss, sample_weight=w)
    analytic = [grad.copy() for _, grad in net.parameters()]

    def error() -> float:
        return loss.value(net.forward(X), T, sample_weight=w)

    assert value == pytest.approx(error(), rel=1e-13)  # E from z (cross-entropies) or a
    numeric = central_differences([p for p, _ in net.parameters()], error)
    for g_bp, g_fd in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(g_bp, g_fd, rtol=TOLERANCE, atol=1e-9)
    net.backprop(X, T, loss)
    assert any(not np.allclose(g, u) for g, (_, u) in zip(analytic, net.parameters(),
                                                        strict=True))


def test_dropout_with_fixed_mask(rng):
    first = Dense(3, 6, "tanh", init="normal", seed=rng, dtype=np.float64)
    first.biases = rng.normal(0.0, 0.5, 6)
    dropout = Dropout(0.5)
    second = Dense(6, 2, "sigmoid", init="normal", seed=rng, dtype=np.float64)
    second.biases = rng.normal(0.0, 0.5, 2)
    net = Network([first, dropout, second])
    X, T = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    loss = SquaredError()

    def fix_mask() -> None:
        dropout.rng = np.random.default_rng(5)  # the same mask on every forward pass

    def error() -> float:
        fix_mask()
        return loss.value(net.forward(X, training=True), T)

    fix_mask()
    net.backprop(X, T, loss, training=True)
    mask = dropout.mask.copy()
    # inverted dropout: kept units scaled by 1/(1 − 0.5) = 2, dropped ones 0; both occur
    assert set(np.unique(mask)) == {0.0, 2.0}
    analytic = [grad.copy() for _, grad in net.parameters()]
    numeric = central_differences([p for p, _ in net.parameters()], error)
    for g_bp, g_fd in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(g_bp, g_fd, rtol=TOLERANCE, atol=1e-10)
    # A unit dropped for every sample passes no gradient to the weights into it.
    dead = np.all(mask == 0.0, axis=0)
    np.testing.assert_array_equal(analytic[0][:, dead], 0.0)
    assert np.all(np.abs(analytic[0][:, ~dead]) > 0.0)


def test_gradient_check_detects_a_wrong_derivative(monkeypatch):
    loss = SquaredError()
    net, X, T = make_case("identity", loss, True, 2, ("tanh",), seed=11)
    assert check_gradients(net, X, T, loss) < TOLERANCE
    # σ'(z) = 1 − a instead of 1 − a²: the check must see it.
    monkeypatch.setattr(mk.Tanh, "derivative", lambda self, z, a: 1.0 - a)
    assert check_gradients(net, X, T, loss) > 1e-2


def test_check_gradients_leaves_the_network_unchanged(rng):
    net = mk.mlp([3, 4, 2], seed=1)
    before = net.get_weights()
    check_gradients(net, rng.normal(size=(3, 3)), rng.uniform(size=(3, 2)))
    assert net.dtype == np.float32
    for w_before, w_after in zip(before, net.get_weights(), strict=True):
        np.testing.assert_array_equal(w_before, w_after)
        assert w_after.dtype == np.float32
