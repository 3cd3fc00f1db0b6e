"""Network.summary (a Keras-style table) and Network.predict_proba (binary with one sigmoid
output or two softmax outputs, the same classes as predict)."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import Dense, Dropout, Network, mlp


def test_summary_lists_layers_shapes_activations_and_counts():
    network = Network([Dense(784, 100, "relu", seed=0), Dropout(0.2),
                       Dense(100, 10, "softmax", bias=False, seed=1)])
    text = network.summary()
    lines = text.splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "shape", "Activation", "Param", "#"]
    assert "input (Input)" in lines[2] and "(None, 784)" in lines[2]
    assert "dense_1 (Dense)" in lines[3] and "(None, 100)" in lines[3] and "78,500" in lines[3]
    assert "dropout_1 (Dropout)" in lines[4] and "rate 0.2" in lines[4]
    assert "softmax, no bias" in lines[5] and "1,000" in lines[5]
    assert lines[-1].startswith("Total params: 79,500 (79,400 weights, 100 biases)")


@pytest.mark.parametrize(("output", "n_out"), [("sigmoid", 1), ("softmax", 2), ("tanh", 1),
                                               ("sigmoid", 3), ("identity", 3)])
def test_predict_proba_rows_sum_to_one_and_agree_with_predict(rng, output, n_out):
    network = mlp([3, 5, n_out], activation="tanh", output_activation=output, seed=4,
                  init="glorot")
    X = rng.normal(size=(50, 3))
    p = network.predict_proba(X)
    assert p.shape == (50, max(2, n_out)) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert np.all(p >= 0)
    assert np.array_equal(np.argmax(p, axis=1)[p.max(axis=1) > 0.5 + 1e-9],
                          network.predict(X)[p.max(axis=1) > 0.5 + 1e-9])


def test_one_sigmoid_output_is_p_of_class_1():
    network = mlp([2, 1], activation="sigmoid", seed=0)
    a = network.forward(np.array([[0.3, -1.0]]))[0, 0]
    np.testing.assert_allclose(network.predict_proba([[0.3, -1.0]]), [[1 - a, a]], rtol=1e-6)


def test_predict_proba_refuses_a_single_regression_output():
    network = mlp([2, 1], activation="identity", seed=0)
    with pytest.raises(ValueError, match="regression output"):
        network.predict_proba([[0.0, 1.0]])
