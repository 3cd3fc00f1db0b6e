"""mlpkit against PyTorch autograd and ``torch.optim`` as an independent oracle (float64).

The same network, with the same weights, is rebuilt from ``torch.nn.functional`` pieces; the
gradients ∂E/∂W and ∂E/∂b of every layer and the weights after several optimiser steps must
agree to about 1e-10. Skipped cleanly where PyTorch is not installed.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import AbsoluteError, BinaryCrossEntropy, CrossEntropy, Dense, Network, SquaredError
from pairings import HIDDEN_ACTIVATIONS, LOSSES, OUTPUT_ACTIVATIONS, VALID_PAIRS

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

RTOL, ATOL = 1e-10, 1e-13


def torch_activation(layer: Dense, z):
    name = layer.activation.name
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return F.relu(z)
    if name == "leaky_relu":
        return F.leaky_relu(z, layer.activation.negative_slope)
    if name == "softmax":
        return F.softmax(z, dim=1)
    if name == "identity":
        return z
    raise AssertionError(f"no torch counterpart for {name}")


def torch_loss(loss: mk.Loss, a, t):
    """E in torch's own functions, with mlpkit's reduction (mean over samples or sum)."""
    scale = 1.0 / a.shape[0] if loss.reduction == "mean" else 1.0
    if isinstance(loss, SquaredError):
        return F.mse_loss(a, t, reduction="sum") * (0.5 if loss.half else 1.0) * scale
    if isinstance(loss, AbsoluteError):
        return F.l1_loss(a, t, reduction="sum") * scale
    if isinstance(loss, BinaryCrossEntropy):
        return F.binary_cross_entropy(a, t, reduction="sum") * scale
    if isinstance(loss, CrossEntropy):
        return -(t * torch.log(a)).sum() * scale
    raise AssertionError(f"no torch counterpart for {loss!r}")


def torch_parameters(net: Network) -> list:
    """Leaf tensors holding copies of the network's parameters, in ``parameters()`` order."""
    return [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.get_weights()]


def torch_forward(net: Network, params: list, X: np.ndarray):
    a = torch.tensor(X, dtype=torch.float64)
    position = 0
    for layer in net.dense_layers:
        weights = params[position]
        z = a @ weights  # weights are (n_inputs, n_outputs) in both
        position += 1
        if layer.bias:
            z = z + params[position]
            position += 1
        a = torch_activation(layer, z)
    return a


def make_case(output_activation, loss, bias, n_layers, seed):
    """A tiny float64 network (hidden activations rotating through the list), X and T."""
    rng = np.random.default_rng(seed)
    sizes = [3] + [4] * (n_layers - 1) + [3]
    layers = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        activation = (
            output_activation
            if i == n_layers - 1
            else HIDDEN_ACTIVATIONS[(seed + i) % len(HIDDEN_ACTIVATIONS)]
        )
        layer = Dense(n_in, n_out, activation, bias=bias, init="normal", seed=rng, dtype=np.float64)
        if bias:
            layer.biases = rng.normal(0.0, 0.5, n_out)
        layers.append(layer)
    net = Network(layers)
    X = rng.normal(size=(6, 3))
    a = net.forward(X)
    if isinstance(loss, CrossEntropy):
        T = np.eye(3)[rng.integers(0, 3, 6)]
    elif isinstance(loss, BinaryCrossEntropy):
        T = rng.uniform(size=a.shape)
    else:
        T = a + rng.choice([-1.0, 1.0], a.shape) * rng.uniform(0.1, 1.0, a.shape)
    return net, X, T


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize(
    ("output_activation", "loss_name"), VALID_PAIRS, ids=[f"{a}-{loss}" for a, loss in VALID_PAIRS]
)
def test_gradients_match_autograd(output_activation, loss_name, bias, n_layers):
    loss = LOSSES[loss_name]()
    seed = 10 * n_layers + bias + OUTPUT_ACTIVATIONS.index(output_activation)
    net, X, T = make_case(output_activation, loss, bias, n_layers, seed)
    value = net.backprop(X, T, loss)

    params = torch_parameters(net)
    torch_value = torch_loss(loss, torch_forward(net, params, X), torch.tensor(T))
    torch_value.backward()

    assert value == pytest.approx(torch_value.item(), rel=RTOL)
    for (_, grad), param in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=RTOL, atol=ATOL)
    # every layer receives a gradient, so the comparison is not between two zero arrays
    assert all(np.any(grad != 0.0) for _, grad in net.parameters())


@pytest.mark.parametrize(
    ("output_activation", "loss_name"), VALID_PAIRS, ids=[f"{a}-{loss}" for a, loss in VALID_PAIRS]
)
def test_weighted_loss_and_gradients_match_autograd(output_activation, loss_name):
    """Sample weights: mlpkit's E = Σ w_k E_k / Σ w_k (sum: Σ w_k E_k) and its gradients
    against torch's per-sample losses (reduction="none") weighted by the same w."""
    loss = LOSSES[loss_name]()
    seed = 50 + OUTPUT_ACTIVATIONS.index(output_activation)
    net, X, T = make_case(output_activation, loss, True, 3, seed)
    w = np.array([0.25, 3.0, 0.0, 1.0, 1.5, 2.0])
    value = net.backprop(X, T, loss, sample_weight=w)

    params = torch_parameters(net)
    a, t, tw = torch_forward(net, params, X), torch.tensor(T), torch.tensor(w)
    per_sample = {
        SquaredError: lambda: F.mse_loss(a, t, reduction="none").sum(1)
        * (0.5 if loss.half else 1.0),
        AbsoluteError: lambda: F.l1_loss(a, t, reduction="none").sum(1),
        BinaryCrossEntropy: lambda: F.binary_cross_entropy(a, t, reduction="none").sum(1),
        CrossEntropy: lambda: -(t * torch.log(a)).sum(1),
    }[type(loss)]()
    torch_value = (tw * per_sample).sum()
    if loss.reduction == "mean":
        torch_value = torch_value / tw.sum()
    torch_value.backward()

    assert value == pytest.approx(torch_value.item(), rel=RTOL)
    for (_, grad), param in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=RTOL, atol=ATOL)
    assert all(np.any(grad != 0.0) for _, grad in net.parameters())


def test_integer_labels_match_autograd_nll(rng):
    net = mk.mlp(
        [4, 5, 3],
        activation="tanh",
        output_activation="softmax",
        init="normal",
        seed=2,
        dtype=np.float64,
    )
    X, labels = rng.normal(size=(7, 4)), rng.integers(0, 3, 7)
    value = net.backprop(X, labels, "cross_entropy")
    params = torch_parameters(net)
    a = torch_forward(net, params, X)
    torch_value = F.nll_loss(torch.log(a), torch.tensor(labels))  # mean over samples
    torch_value.backward()
    assert value == pytest.approx(torch_value.item(), rel=RTOL)
    for (_, grad), param in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=RTOL, atol=ATOL)


# -- optimisers over several steps -------------------------------------------------------------

OPTIMIZER_CASES = {
    "sgd": (dict(learning_rate=0.5), dict(lr=0.5)),
    "momentum": (dict(learning_rate=0.3, momentum=0.9), dict(lr=0.3, momentum=0.9)),
    "nesterov": (
        dict(learning_rate=0.3, momentum=0.8, nesterov=True),
        dict(lr=0.3, momentum=0.8, nesterov=True),
    ),
    "weight_decay": (
        dict(learning_rate=0.3, momentum=0.5, weight_decay=0.1),
        dict(lr=0.3, momentum=0.5, weight_decay=0.1),
    ),
    "weight_decay_biases": (
        dict(learning_rate=0.3, weight_decay=0.1, decay_biases=True),
        dict(lr=0.3, weight_decay=0.1),
    ),
}
ADAM_CASES = {
    "adam": (dict(learning_rate=0.05), dict(lr=0.05)),
    "adam_betas": (
        dict(learning_rate=0.02, beta1=0.5, beta2=0.9, epsilon=1e-6),
        dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6),
    ),
    "adam_weight_decay": (
        dict(learning_rate=0.05, weight_decay=0.2),
        dict(lr=0.05, weight_decay=0.2),
    ),
}


def torch_groups(net: Network, params: list, torch_kwargs: dict, decay_biases: bool) -> list:
    """Parameter groups: mlpkit decays weight matrices only unless ``decay_biases``."""
    weight_decay = torch_kwargs.get("weight_decay", 0.0)
    weights = [t for t, (p, _) in zip(params, net.parameters(), strict=True) if p.ndim > 1]
    biases = [t for t, (p, _) in zip(params, net.parameters(), strict=True) if p.ndim == 1]
    return [
        {"params": weights, "weight_decay": weight_decay},
        {"params": biases, "weight_decay": weight_decay if decay_biases else 0.0},
    ]


@pytest.mark.parametrize("case", list(OPTIMIZER_CASES) + list(ADAM_CASES))
def test_optimizer_steps_match_torch_optim(case, rng):
    if case in OPTIMIZER_CASES:
        ours, theirs = OPTIMIZER_CASES[case]
        optimizer, torch_class = mk.SGD(**ours), torch.optim.SGD
    else:
        ours, theirs = ADAM_CASES[case]
        optimizer, torch_class = mk.Adam(**ours), torch.optim.Adam
    net = mk.mlp(
        [3, 4, 2],
        activation="tanh",
        output_activation="sigmoid",
        init="normal",
        seed=4,
        dtype=np.float64,
    )
    for layer in net.dense_layers:
        layer.biases = rng.normal(0.0, 0.5, layer.n_outputs)
    X, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    loss = SquaredError()
    params = torch_parameters(net)
    torch_optimizer = torch_class(
        torch_groups(net, params, theirs, ours.get("decay_biases", False)), **theirs
    )
    for _ in range(6):
        net.backprop(X, T, loss)
        optimizer.step(net.parameters())
        torch_optimizer.zero_grad()
        torch_loss(loss, torch_forward(net, params, X), torch.tensor(T)).backward()
        torch_optimizer.step()
        for (p, _), param in zip(net.parameters(), params, strict=True):
            np.testing.assert_allclose(p, param.detach().numpy(), rtol=RTOL, atol=ATOL)
    # the run really moved every parameter
    start = mk.mlp([3, 4, 2], init="normal", seed=4, dtype=np.float64).get_weights()
    assert all(np.all(p != s) for (p, _), s in zip(net.parameters()[::2], start[::2], strict=True))


def test_training_loop_matches_torch_minibatches(rng):
    """``train`` with unshuffled mini-batches of 3 (the last one of 1) and momentum against
    the same loop written in torch."""
    net = mk.mlp(
        [2, 5, 1],
        activation="tanh",
        output_activation="identity",
        init="normal",
        seed=6,
        dtype=np.float64,
    )
    X, T = rng.normal(size=(7, 2)), rng.normal(size=(7, 1))
    params = torch_parameters(net)
    mk.train(net, X, T, optimizer=mk.SGD(0.1, momentum=0.9), epochs=4, batch_size=3, shuffle=False)
    torch_optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
    for _ in range(4):
        for start in range(0, 7, 3):
            xb, tb = X[start : start + 3], torch.tensor(T[start : start + 3])
            torch_optimizer.zero_grad()
            torch_loss(SquaredError(), torch_forward(net, params, xb), tb).backward()
            torch_optimizer.step()
    for (p, _), param in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(p, param.detach().numpy(), rtol=RTOL, atol=ATOL)


# -- exact cross-entropy values (issue 11) -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_confidently_wrong_cross_entropy_value_agrees_with_torch(dtype):
    """A random 5-6-6-5 softmax net made confidently wrong: mlpkit's loss is PyTorch's
    cross_entropy from the logits (it was 19% low when the value was clipped at epsilon)."""
    rng = np.random.default_rng(11)
    net = mk.mlp([5, 6, 6, 5], activation="tanh", output_activation="softmax", init="normal",
                 seed=3, dtype=dtype)
    net.output_layer.weights = net.output_layer.weights * 100.0  # confident outputs
    X = rng.normal(size=(8, 5)).astype(dtype)
    a = net.forward(X)
    labels = np.argmin(a, axis=1)  # the least likely class: confidently wrong
    value = net.backprop(X, labels, "cross_entropy")
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    params = [torch.tensor(p, dtype=tdtype) for p in net.get_weights()]
    h = torch.tensor(X, dtype=tdtype)
    for i in range(0, len(params) - 2, 2):
        h = torch.tanh(h @ params[i] + params[i + 1])
    logits = h @ params[-2] + params[-1]
    expected = float(F.cross_entropy(logits, torch.tensor(labels)))
    assert expected > 40.0  # beyond −ln(eps) of float32 (15.9) and float64 (36.0)
    assert value == pytest.approx(expected, rel=1e-5 if dtype == np.float32 else 1e-12)
    # the gradient is that of the same number
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.get_weights()]
    h = torch.tensor(X, dtype=torch.float64)
    for i in range(0, len(params) - 2, 2):
        h = torch.tanh(h @ params[i] + params[i + 1])
    F.cross_entropy(h @ params[-2] + params[-1], torch.tensor(labels)).backward()
    for (_, grad), param in zip(net.parameters(), params, strict=True):
        np.testing.assert_allclose(grad, param.grad.numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_value_from_z_agrees_with_torch(dtype):
    rng = np.random.default_rng(4)
    net = mk.mlp([4, 5, 3], activation="relu", output_activation="sigmoid", init="normal",
                 seed=1, dtype=dtype)
    net.output_layer.weights = net.output_layer.weights * 100.0
    X = rng.normal(size=(6, 4)).astype(dtype)
    T = (rng.random((6, 3)) < 0.5).astype(dtype)
    value = net.backprop(X, T, "binary_cross_entropy")
    z = torch.tensor(net.output_layer.z.astype(np.float64))
    expected = float(F.binary_cross_entropy_with_logits(z, torch.tensor(T, dtype=torch.float64),
                                                        reduction="sum")) / 6
    assert value == pytest.approx(expected, rel=1e-5 if dtype == np.float32 else 1e-12)
