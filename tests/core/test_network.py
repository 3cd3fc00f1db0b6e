"""The Network (layers chained, forward and backward passes, prediction, weights as data) and
the ``mlp`` builder."""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import Dense, Dropout, Network, mlp


def test_lecture_mnist_network_has_79400_weights():
    # 784·100 + 100·10 = 78,400 + 1,000 = 79,400 weights and no biases
    net = mlp([784, 100, 10], bias=False)
    assert net.n_parameters == 79_400
    assert net.sizes == [784, 100, 10]
    # with biases: + 100 + 10
    assert mlp([784, 100, 10]).n_parameters == 79_510


def test_float32_by_default_float64_on_request():
    net = mlp([3, 4, 2])
    assert net.dtype == np.float32
    assert all(p.dtype == np.float32 and g.dtype == np.float32 for p, g in net.parameters())
    assert net.forward(np.ones((2, 3))).dtype == np.float32  # float64 input is converted
    net64 = mlp([3, 4, 2], dtype=np.float64)
    assert net64.forward(np.ones((2, 3), dtype=np.float32)).dtype == np.float64
    assert net.astype(np.float64) is net
    assert net.dtype == np.float64 and net.parameters()[0][0].dtype == np.float64


def test_mlp_builds_the_layers():
    net = mlp([4, 6, 5, 3], activation="tanh", output_activation="softmax", dropout=0.3, seed=0)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert [layer.activation.name for layer in net.dense_layers] == ["tanh", "tanh", "softmax"]
    assert net.n_inputs == 4 and net.n_outputs == 3 and net.output_layer is net.layers[-1]
    assert [layer.activation.name for layer in mlp([2, 2, 2], "relu").dense_layers] == [
        "relu",
        "relu",
    ]  # the output activation defaults to the hidden one


def test_mlp_seed_fixes_every_layer():
    first, second = mlp([3, 4, 2], seed=7), mlp([3, 4, 2], seed=7)
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # one generator draws the layers in order, so the two weight matrices differ
    W1, _, W2, _ = mlp([3, 3, 3], seed=7).get_weights()
    assert not np.array_equal(W1, W2)


def test_forward_is_the_composition_of_the_layers(rng):
    net = mlp(
        [3, 4, 2],
        activation="tanh",
        output_activation="identity",
        init="normal",
        seed=0,
        dtype=np.float64,
    )
    W1, b1, W2, b2 = net.get_weights()
    X = rng.normal(size=(5, 3))
    np.testing.assert_allclose(net.forward(X), np.tanh(X @ W1 + b1) @ W2 + b2, rtol=1e-14)


def test_single_sample_as_a_vector():
    net = mlp([3, 2], seed=0)
    np.testing.assert_array_equal(net.forward([1.0, 2.0, 3.0]), net.forward([[1.0, 2.0, 3.0]]))


def test_backprop_returns_the_loss_and_sets_gradients(rng):
    net = mlp([3, 4, 2], init="normal", seed=0, dtype=np.float64)
    X, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    value = net.backprop(X, T, "squared_error")
    assert value == pytest.approx(0.5 * np.sum((net.forward(X) - T) ** 2) / 5, rel=1e-14)
    first = [g.copy() for _, g in net.parameters()]
    net.backprop(X, T, "squared_error")  # overwritten, not accumulated
    for a, (_, b) in zip(first, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_dropout_inside_the_network_only_while_training(rng):
    net = mlp([3, 50, 2], dropout=0.5, seed=0)
    X = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(net.forward(X), net.forward(X))  # prediction: no dropout
    assert not np.array_equal(net.forward(X, training=True), net.forward(X))


def test_predict():
    net = Network([Dense(2, 3, "softmax", dtype=np.float64)])
    net.dense_layers[0].weights = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    np.testing.assert_array_equal(net.predict([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]), [0, 2, 1])
    # one sigmoid output: class 1 where the output is >= 0.5
    sigmoid = Network([Dense(1, 1, "sigmoid", dtype=np.float64)])
    sigmoid.dense_layers[0].weights = [[1.0]]
    np.testing.assert_array_equal(sigmoid.predict([[-2.0], [0.0], [3.0]]), [0, 1, 1])
    # one tanh output: threshold 0
    tanh = Network([Dense(1, 1, "tanh", dtype=np.float64)])
    tanh.dense_layers[0].weights = [[1.0]]
    np.testing.assert_array_equal(tanh.predict([[-0.1], [0.2]]), [0, 1])


def test_weights_as_plain_data():
    net = mlp([3, 4, 2], seed=0)
    weights = net.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 2), (2,)]
    weights[0][...] = 0.0  # copies: the network is unchanged
    assert np.any(net.get_weights()[0] != 0.0)
    other = mlp([3, 4, 2], seed=1)
    parameters_before = [p for p, _ in other.parameters()]
    other.set_weights(net.get_weights())
    for a, b in zip(other.get_weights(), net.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # in place: the optimiser's references stay valid
    assert all(p is q for p, (q, _) in zip(parameters_before, other.parameters(), strict=True))
    with pytest.raises(ValueError, match=r"expected 4 arrays, got 3"):
        other.set_weights(weights[:3])
    with pytest.raises(ValueError, match=r"weight array has shape \(4, 3\), expected \(3, 4\)"):
        other.set_weights([np.zeros((4, 3)), *weights[1:]])


# -- validation --------------------------------------------------------------------------------


def test_layer_sizes_must_chain():
    with pytest.raises(
        ValueError,
        match=r"layer sizes do not chain: .* has 4 outputs but the next "
        r"Dense layer .* expects 5 inputs",
    ):
        Network([Dense(3, 4), Dense(5, 2)])
    # a Dropout between them does not change the sizes
    with pytest.raises(ValueError, match=r"layer sizes do not chain"):
        Network([Dense(3, 4), Dropout(0.5), Dense(5, 2)])


def test_network_validation():
    with pytest.raises(ValueError, match=r"at least one Dense layer, got none"):
        Network([])
    with pytest.raises(TypeError, match=r"layers must be Dense or Dropout, got str"):
        Network([Dense(2, 2), "relu"])
    with pytest.raises(
        ValueError,
        match=r"all layers must share one dtype, got \['float32', "
        r"'float64'\]",
    ):
        Network([Dense(2, 2), Dense(2, 2, dtype=np.float64)])
    # A trailing Dropout would apply the output σ' to the masked output: rejected.
    with pytest.raises(ValueError, match=r"the last layer must be the Dense output layer"):
        Network([Dense(2, 2), Dropout(0.5)])
    with pytest.raises(ValueError, match=r"sizes must list at least inputs and outputs, got \[3\]"):
        mlp([3])
    with pytest.raises(ValueError, match=r"n_outputs must be a positive int, got 0"):
        mlp([3, 0, 2])


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.ones((2, 4)), ValueError, r"X must have shape \(n_samples, 3\) .*got shape \(2, 4\)"),
        (np.ones(4), ValueError, r"got shape \(4,\)"),
        (np.ones((2, 3, 1)), ValueError, r"got shape \(2, 3, 1\)"),
        (np.array([["a", "b", "c"]]), TypeError, r"X must be numeric, got dtype <U1"),
    ],
)
def test_input_validation(X, error, match):
    net = mlp([3, 2])
    with pytest.raises(error, match=match):
        net.forward(X)


def test_backprop_validation():
    net = mlp([3, 2])
    with pytest.raises(ValueError, match=r"same number of samples, got 2 and 3"):
        net.backprop(np.ones((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"targets T must have shape \(n_samples, 2\).*\(2, 3\)"):
        net.backprop(np.ones((2, 3)), np.ones((2, 3)))


def test_repr_and_config():
    net = mlp([2, 3, 1], seed=0)
    assert repr(net).startswith("Network([\n    Dense(2, 3, activation='sigmoid', bias=True)")
    config = net.get_config()
    assert config["dtype"] == "float32" and len(config["layers"]) == 2
    assert isinstance(mk.Network(net.layers), Network)
