"""Forward-mode derivatives equal backpropagation; the measured costs grow as the lecture says."""

import numpy as np
import pytest

from mlpkit import Dense, Dropout, Network, mlp
from mlpkit.lectures.forward_mode import (
    OperationCounter,
    backprop_gradients,
    forward_mode_gradients,
    operation_counts,
)

CASES = [
    ("sigmoid", "sigmoid", "squared_error"),
    ("tanh", "softmax", "cross_entropy"),
    ("relu", "identity", "squared_error"),
    ("sigmoid", "sigmoid", "binary_cross_entropy"),
]


@pytest.mark.parametrize(("hidden", "output", "loss"), CASES)
def test_forward_mode_equals_backprop(hidden, output, loss):
    rng = np.random.default_rng(3)
    network = mlp(
        [4, 6, 5, 3], activation=hidden, output_activation=output, seed=4, dtype=np.float64
    )
    X = rng.normal(size=(7, 4))
    T = rng.integers(0, 3, 7) if loss == "cross_entropy" else rng.random((7, 3))
    forward = forward_mode_gradients(network, X, T, loss)
    backward = backprop_gradients(network, X, T, loss)
    network.backprop(X, T, loss)
    assert len(forward) == len(network.dense_layers)
    for (fw, fb), (bw, bb), layer in zip(forward, backward, network.dense_layers, strict=True):
        assert fw.shape == layer.weights.shape and fb.shape == layer.biases.shape
        np.testing.assert_allclose(fw, layer.grad_weights, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(fb, layer.grad_biases, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(bw, layer.grad_weights, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(bb, layer.grad_biases, rtol=1e-12, atol=1e-15)


def test_no_bias_dropout_and_chunks(monkeypatch):
    import mlpkit.lectures.forward_mode as fm

    monkeypatch.setattr(fm, "_CHUNK_ELEMENTS", 50)  # many small chunks
    layers = [
        Dense(3, 4, seed=0, dtype=np.float64),
        Dropout(0.5),
        Dense(4, 2, bias=False, seed=1, dtype=np.float64),
    ]
    network = Network(layers)
    rng = np.random.default_rng(5)
    X, T = rng.random((9, 3)), rng.random((9, 2))
    forward = forward_mode_gradients(network, X, T)
    network.backprop(X, T)
    assert forward[1][1] is None
    for (fw, _), layer in zip(forward, network.dense_layers, strict=True):
        np.testing.assert_allclose(fw, layer.grad_weights, rtol=1e-10, atol=1e-13)


def test_counts_grow_linearly_for_backprop_and_quadratically_for_forward_mode():
    # log-log slope of the measured counts against the number of weights, n-n-n-1 networks
    small, large = operation_counts([8, 8, 8, 1]), operation_counts([32, 32, 32, 1])

    def slope(key):
        return np.log(large[key] / small[key]) / np.log(large["n_weights"] / small["n_weights"])

    assert 0.8 < slope("backprop") < 1.2
    assert 1.7 < slope("forward_mode") < 2.5
    assert large["forward_mode"] > 100 * large["backprop"]


def test_counts_by_hand_for_one_layer():
    # 2 → 1 sigmoid, one sample. Backprop: δ (1) + ∂E/∂W (2) + ∂E/∂b (1) = 4.
    # Forward mode: σ' times 3 tangents (3) + ∂E/∂a times 3 tangents (3) = 6.
    counts = operation_counts([2, 1])
    assert counts["backprop"] == 4 and counts["forward_mode"] == 6
    assert counts["forward_pass"] == 2 and counts["n_parameters"] == 3


def test_counter_and_validation():
    counter = OperationCounter()
    counter.matmul(np.ones((2, 3)), np.ones((3, 4)))
    assert counter.derivatives == 24 and counter.forward_pass == 0
    with pytest.raises(TypeError, match=r"network must be a mlpkit\.Network"):
        forward_mode_gradients(None, [[0.0]], [[0.0]])
    network = mlp([2, 1], seed=0)
    with pytest.raises(ValueError, match="same number of samples"):
        forward_mode_gradients(network, np.ones((2, 2)), np.ones((3, 1)))
    with pytest.raises(ValueError, match="n_samples must be a positive int, got 0"):
        operation_counts([2, 1], n_samples=0)
    with pytest.raises(TypeError, match=r"n_samples must be a positive int, got float 2\.0"):
        operation_counts([2, 1], n_samples=2.0)
