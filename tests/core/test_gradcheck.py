"""check_gradients / gradient_check at kinks: a correct ReLU network never looks broken, a
wrong derivative is still caught, and the parameters that straddle a kink are named."""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import Dense, Network, check_gradients
from mlpkit.gradcheck import GradientCheckReport, gradient_check


def relu_case(seed: int) -> tuple[Network, np.ndarray, np.ndarray]:
    """A correct 4-8-8-3 ReLU/softmax network at the default small initialisation, whose
    hidden pre-activations sit within a finite-difference step of 0."""
    net = mk.mlp([4, 8, 8, 3], activation="relu", output_activation="softmax", seed=seed,
                 dtype=np.float64)
    rng = np.random.default_rng(seed)
    return net, rng.normal(size=(20, 4)), rng.integers(0, 3, 20)


class WrongReLU(mk.ReLU):
    """A ReLU whose derivative is 0.9 instead of 1 for z > 0 (a seeded bug)."""

    def derivative(self, z, a):
        return 0.9 * (z > 0).astype(z.dtype)

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, self.derivative(z, a), out=out)


@pytest.mark.parametrize("seed", range(10))
def test_a_correct_relu_network_passes_at_the_default_initialisation(seed):
    # Before kinks were handled, check_gradients gave 0.83 to 1.7 on these ten networks.
    net, X, y = relu_case(seed)
    result = gradient_check(net, X, y, "cross_entropy")
    assert result.worst < 1e-5
    assert check_gradients(net, X, y, "cross_entropy") == result.worst


@pytest.mark.parametrize("seed", [0, 6, 9])
def test_parameters_straddling_a_kink_are_reported(seed):
    net, X, y = relu_case(seed)
    result = gradient_check(net, X, y, "cross_entropy")
    # the kinks are real: there, finite differences disagree with backprop whatever the step
    assert result.straddling and result.worst_straddling > 1e-2
    assert len(result.straddling) == sum(int(mask.sum()) for mask in result.straddles)
    assert "straddle a kink" in str(result)


def test_a_wrong_relu_derivative_is_still_reported():
    net, X, y = relu_case(0)
    for layer in net.dense_layers[:-1]:
        layer.activation = WrongReLU()
    result = gradient_check(net, X, y, "cross_entropy")
    assert result.worst > 1e-2
    # the bug shows in parameters clear of any kink, not only at the kinks
    clear = [err[~mask] for err, mask in zip(result.errors, result.straddles, strict=True)]
    assert sum(int(np.sum(err > 1e-2)) for err in clear) > 10


def test_a_unit_exactly_at_its_kink_is_named():
    # one sample; unit 1's z = 1·1 + (−1)·1 + 0 = 0 exactly, unit 2's z = 1.5 (clear)
    layer = Dense(2, 2, "relu", dtype=np.float64)
    layer.weights = [[1.0, 1.0], [-1.0, 0.5]]
    output = Dense(2, 1, "identity", dtype=np.float64)
    output.weights = [[2.0], [1.0]]
    net = Network([layer, output])
    result = gradient_check(net, [[1.0, 1.0]], [[0.3]], "squared_error")
    assert isinstance(result, GradientCheckReport)
    assert result.names == ["layer 1 weights", "layer 1 biases", "layer 2 weights",
                            "layer 2 biases"]
    assert result.straddling == [
        ("layer 1 weights", (0, 0)),
        ("layer 1 weights", (1, 0)),
        ("layer 1 biases", (0,)),
    ]
    assert result.worst < 1e-8
    # at the kink the finite difference of b_1 averages the slopes 0 (left) and
    # (1.5 − 0.3)·2 = 2.4 (right): 1.2, which is neither one-sided derivative
    np.testing.assert_allclose(result.numeric[1][0], 1.2, rtol=1e-4)
    assert result.analytic[1][0] == 0.0  # backprop's sub-gradient choice: σ'(0) = 0


def test_the_kink_of_the_absolute_error_is_detected():
    net = Network([Dense(2, 2, "identity", dtype=np.float64)])
    net.dense_layers[0].weights = [[1.0, 0.0], [0.0, 1.0]]
    X = np.array([[0.5, 2.0]])
    T = np.array([[0.5 + 1e-7, 1.0]])  # output 1 sits 1e-7 from its target: a kink
    result = gradient_check(net, X, T, "absolute_error")
    names = {name for name, _ in result.straddling}
    assert names == {"layer 1 weights", "layer 1 biases"}
    assert all(index[-1] == 0 for _, index in result.straddling)  # only output unit 1
    assert result.worst < 1e-8


def test_smooth_networks_have_no_straddlers_and_a_bug_shows(monkeypatch):
    net = mk.mlp([3, 5, 2], activation="tanh", seed=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(6, 3)), rng.uniform(size=(6, 2))
    result = gradient_check(net, X, T)
    assert result.straddling == [] and result.worst < 1e-6
    assert str(result).startswith("worst relative error")
    monkeypatch.setattr(mk.Tanh, "derivative", lambda self, z, a: 1.0 - a)
    assert check_gradients(net, X, T) > 1e-2


@pytest.mark.parametrize(("kwargs", "error"), [
    ({"step": 0.0}, ValueError), ({"step": float("nan")}, ValueError),
    ({"atol": -1.0}, ValueError), ({"step": "1e-3"}, TypeError), ({"atol": True}, TypeError),
])
def test_step_and_atol_are_checked(kwargs, error):
    net = mk.mlp([2, 1], seed=0)
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        gradient_check(net, [[0.0, 1.0]], [[1.0]], **kwargs)
