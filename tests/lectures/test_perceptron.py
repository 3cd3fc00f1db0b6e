"""Rosenblatt's perceptron rule and the hand-built step-neuron gates."""

import numpy as np
import pytest

from mlpkit.lectures.perceptron import NotLinearlySeparableWarning, Perceptron, logic_gate_network

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
GATES = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "nor": [1, 0, 0, 0]}


@pytest.mark.parametrize("name", sorted(GATES))
def test_converges_on_linearly_separable_gates(name):
    y = np.array(GATES[name])
    model = Perceptron(learning_rate=1.0, max_epochs=50).fit(X, y)
    assert model.converged_ and model.linearly_separable_ is True
    assert model.n_epochs_ < 50 and model.errors_[-1] == 0
    np.testing.assert_array_equal(model.predict(X), y)


def test_and_follows_the_rule_by_hand():
    # from w = 0, b = 0, samples in order, η = 1: (0,0) fires (0 ≥ 0) but t = 0 → b = −1;
    # (1,1) gives −1 < 0, t = 1 → w = (1, 1), b = 0; and so on until an epoch without change.
    model = Perceptron().fit(X, [0, 0, 0, 1])
    assert model.errors_[:2] == [2, 3]
    np.testing.assert_allclose(model.weights_, [2.0, 1.0])
    assert model.bias_ == -3.0
    assert model.n_updates_ == sum(model.errors_)


def test_xor_stops_at_epoch_limit_and_says_not_separable():
    with pytest.warns(NotLinearlySeparableWarning, match="not linearly separable"):
        model = Perceptron(max_epochs=30).fit(X, [0, 1, 1, 0])
    assert not model.converged_
    assert model.n_epochs_ == 30
    assert model.linearly_separable_ is False
    assert "repeat" in model.message_
    assert (model.predict(X) != [0, 1, 1, 0]).any()


def test_too_few_epochs_is_unknown_not_proof():
    y = np.array([0, 0, 0, 1])
    with pytest.warns(NotLinearlySeparableWarning, match="may not be linearly separable"):
        model = Perceptron(max_epochs=1).fit(X, y)
    assert model.linearly_separable_ is None


def test_warn_false_keeps_quiet_but_records():
    model = Perceptron(max_epochs=5, warn=False).fit(X, [0, 1, 1, 0])
    assert not model.converged_ and "not linearly separable" in model.message_


def test_separable_random_data_converges():
    rng = np.random.default_rng(0)
    points = rng.uniform(-1, 1, (200, 3))
    labels = (points @ [1.0, -2.0, 0.5] + 0.3 > 0).astype(int)
    keep = np.abs(points @ [1.0, -2.0, 0.5] + 0.3) > 0.05  # a margin, so few epochs
    model = Perceptron(learning_rate=0.1, max_epochs=1000).fit(points[keep], labels[keep])
    assert model.converged_
    np.testing.assert_array_equal(model.predict(points[keep]), labels[keep])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"learning_rate": 0}, ValueError,
         r"learning_rate must be a finite number in \(0\.0, inf\], got 0\.0"),
        ({"learning_rate": float("inf")}, ValueError, "learning_rate must be a finite number"),
        ({"learning_rate": "1"}, TypeError, "learning_rate must be a number, got str '1'"),
        ({"max_epochs": 0}, ValueError, "max_epochs must be a positive int, got 0"),
        ({"max_epochs": 2.5}, TypeError, r"max_epochs must be a positive int, got float 2\.5"),
    ],
)
def test_constructor_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        Perceptron(**kwargs)


def test_fit_and_predict_validation():
    with pytest.raises(ValueError, match="y must hold labels 0 and 1"):
        Perceptron().fit(X, [0, 2, 1, 0])
    with pytest.raises(ValueError, match=r"y must have shape \(4,\)"):
        Perceptron().fit(X, [0, 1])
    with pytest.raises(ValueError, match="X must have shape"):
        Perceptron().fit([1, 2, 3], [0, 1, 0])
    with pytest.raises(RuntimeError, match="not fitted"):
        Perceptron().predict(X)
    model = Perceptron().fit(X, [0, 0, 0, 1])
    with pytest.raises(ValueError, match="X must have 2 features"):
        model.predict(np.ones((2, 3)))


@pytest.mark.parametrize("name", [*sorted(GATES), "xor"])
def test_hand_built_gate_networks(name):
    expected = [0, 1, 1, 0] if name == "xor" else GATES[name]
    network = logic_gate_network(name)
    np.testing.assert_array_equal(network.forward(X)[:, 0], expected)
    assert all(layer.activation.name == "step" for layer in network.dense_layers)


def test_gate_network_unknown_name():
    with pytest.raises(ValueError, match="name must be one of"):
        logic_gate_network("implies")
