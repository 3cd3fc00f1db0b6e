"""Activation functions: values and derivatives against their formulas, numerical stability,
the step function's refusal to backpropagate, and the name registry."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import (
    ACTIVATIONS,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Step,
    Tanh,
    get_activation,
)

ELEMENTWISE = [Identity(), Sigmoid(), Tanh(), ReLU(), LeakyReLU(0.1)]


def formula(name: str, z: np.ndarray) -> np.ndarray:
    """The textbook definition of each activation."""
    return {
        "identity": z,
        "sigmoid": 1.0 / (1.0 + np.exp(-z)),
        "tanh": (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z)),
        "relu": np.where(z > 0, z, 0.0),
        "leaky_relu": np.where(z > 0, z, 0.1 * z),
        "step": np.where(z >= 0, 1.0, 0.0),
    }[name]


@pytest.fixture
def z(rng):
    """Pre-activations (4, 5), none within 0.05 of the ReLU kink at 0."""
    values = rng.uniform(0.05, 3.0, (4, 5))
    return values * rng.choice([-1.0, 1.0], values.shape)


@pytest.mark.parametrize("activation", [*ELEMENTWISE, Step()], ids=lambda a: a.name)
def test_values_match_formulas(activation, z):
    np.testing.assert_allclose(activation.value(z), formula(activation.name, z), rtol=1e-14)


@pytest.mark.parametrize("activation", ELEMENTWISE, ids=lambda a: a.name)
def test_derivatives_match_central_differences(activation, z):
    h = 1e-6
    numeric = (activation.value(z + h) - activation.value(z - h)) / (2 * h)
    a = activation.value(z)
    np.testing.assert_allclose(activation.derivative(z, a), numeric, rtol=1e-8, atol=1e-10)
    # backward is ∂E/∂a ⊙ σ'(z)
    grad_a = np.linspace(-1.0, 1.0, z.size).reshape(z.shape)
    np.testing.assert_allclose(
        activation.backward(z, a, grad_a), grad_a * numeric, rtol=1e-8, atol=1e-10
    )


def test_sigmoid_derivative_is_a_times_one_minus_a():
    z = np.array([[-2.0, 0.0, 3.0]])
    a = Sigmoid().value(z)
    np.testing.assert_allclose(Sigmoid().derivative(z, a), a * (1 - a), rtol=1e-15)
    assert Sigmoid().derivative(np.zeros(1), Sigmoid().value(np.zeros(1)))[0] == 0.25


def test_softmax_rows_are_probabilities(z):
    a = Softmax().value(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(a, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True), rtol=1e-14)
    # adding a constant to a row leaves it unchanged
    np.testing.assert_allclose(Softmax().value(z + 100.0), a, rtol=1e-13)


def test_softmax_backward_applies_the_jacobian(z, rng):
    a = Softmax().value(z)
    grad_a = rng.normal(size=z.shape)
    delta = Softmax().backward(z, a, grad_a)
    for row in range(z.shape[0]):
        # ∂a_k/∂z_j = a_k (1[k = j] − a_j)
        jacobian = np.diag(a[row]) - np.outer(a[row], a[row])
        np.testing.assert_allclose(delta[row], jacobian.T @ grad_a[row], rtol=1e-12, atol=1e-15)


def test_softmax_has_no_elementwise_derivative():
    with pytest.raises(TypeError, match=r"softmax has no element-wise derivative.*Jacobian"):
        Softmax().derivative(np.zeros((1, 2)), np.full((1, 2), 0.5))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_tanh_saturate_without_warnings(dtype):
    # Warnings are errors in this test suite, so an overflow in exp() would fail here.
    z = np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]], dtype=dtype)
    a = Sigmoid().value(z)
    assert a.dtype == dtype
    np.testing.assert_array_equal(a[0, [0, 4]], [0.0, 1.0])
    assert a[0, 2] == 0.5
    delta = Sigmoid().backward(z, a, np.ones_like(z))
    assert np.all(np.isfinite(delta)) and delta[0, 0] == 0.0 and delta[0, 4] == 0.0
    np.testing.assert_array_equal(Tanh().value(z)[0, [0, 4]], [-1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_huge_logits(dtype):
    z = np.array(
        [[1000.0, -1000.0, 0.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=dtype
    )
    a = Softmax().value(z)
    assert a.dtype == dtype and np.all(np.isfinite(a))
    np.testing.assert_allclose(a[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(a[1], [0.5, 0.5, 0.0])
    e = np.exp(1.0)
    np.testing.assert_allclose(a[2], [1 / (2 + e), 1 / (2 + e), e / (2 + e)], rtol=1e-6)
    delta = Softmax().backward(z, a, np.ones_like(z))
    assert np.all(np.isfinite(delta))


@pytest.mark.parametrize("activation", [*ELEMENTWISE, Softmax(), Step()], ids=lambda a: a.name)
def test_float32_stays_float32(activation, z):
    z32 = z.astype(np.float32)
    a = activation.value(z32)
    assert a.dtype == np.float32
    if activation.name != "step":
        assert activation.backward(z32, a, np.ones_like(z32)).dtype == np.float32


def test_step_cannot_backpropagate():
    z = np.array([[-1.0, 0.0, 1.0]])
    step = Step()
    np.testing.assert_array_equal(step.value(z), [[0.0, 1.0, 1.0]])  # 1 where z >= 0
    with pytest.raises(TypeError, match=r"perceptron rule"):
        step.backward(z, step.value(z), np.ones_like(z))
    with pytest.raises(TypeError, match=r"derivative 0 almost everywhere"):
        step.derivative(z, step.value(z))


def test_relu_derivative_is_zero_at_zero():
    z = np.array([[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(ReLU().derivative(z, ReLU().value(z)), [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(
        ReLU().backward(z, ReLU().value(z), np.full_like(z, 2.0)), [[0.0, 0.0, 2.0]]
    )


def test_leaky_relu_slope():
    z = np.array([[-2.0, 3.0]])
    assert LeakyReLU().negative_slope == 0.01
    np.testing.assert_allclose(LeakyReLU(0.2).value(z), [[-0.4, 3.0]])
    np.testing.assert_allclose(LeakyReLU(0.2).derivative(z, None), [[0.2, 1.0]])


@pytest.mark.parametrize("slope", [-0.1, float("nan"), float("inf")])
def test_leaky_relu_rejects_bad_slopes(slope):
    with pytest.raises(ValueError, match=r"negative_slope must be a finite number >= 0"):
        LeakyReLU(slope)


def test_registry_and_aliases():
    assert set(ACTIVATIONS) >= {
        "identity",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "softmax",
        "step",
        "linear",
        "logistic",
        "heaviside",
    }
    assert isinstance(get_activation("logistic"), Sigmoid)
    assert isinstance(get_activation("linear"), Identity)
    assert isinstance(get_activation("Heaviside"), Step)
    assert isinstance(get_activation(" Leaky-ReLU "), LeakyReLU)
    assert isinstance(get_activation(Tanh), Tanh)
    leaky = LeakyReLU(0.3)
    assert get_activation(leaky) is leaky


def test_registry_rejects_unknown_names_and_types():
    with pytest.raises(
        ValueError, match=r"activation must be one of \[.*'sigmoid'.*\], got 'gelu'"
    ):
        get_activation("gelu")
    with pytest.raises(TypeError, match=r"activation must be a name .* got int"):
        get_activation(3)


def test_equality_repr_and_config():
    assert LeakyReLU(0.2) == LeakyReLU(0.2) != LeakyReLU(0.3)
    assert Sigmoid() == Sigmoid() and Sigmoid() != Tanh()
    assert hash(LeakyReLU(0.2)) == hash(LeakyReLU(0.2))
    assert repr(LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(Sigmoid()) == "Sigmoid()"
    assert type(get_activation("leaky_relu"))(**LeakyReLU(0.5).get_config()) == LeakyReLU(0.5)
