"""The Dense layer (z = a_prev · W + b, a = σ(z) and its backward pass) and Dropout."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import INITIALIZERS, Dense, Dropout, Sigmoid, get_initializer


def test_shapes_dtype_and_defaults():
    layer = Dense(4, 3)
    assert layer.weights.shape == (4, 3) and layer.biases.shape == (3,)
    assert layer.weights.dtype == np.float32 and layer.biases.dtype == np.float32  # default
    assert layer.grad_weights.shape == (4, 3) and layer.grad_biases.shape == (3,)
    np.testing.assert_array_equal(layer.biases, 0.0)  # biases start at 0
    assert np.all(np.abs(layer.weights) <= 0.05)  # "small random numbers": U(−0.05, 0.05)
    assert isinstance(layer.activation, Sigmoid)
    assert layer.n_parameters == 15 and layer.bias


def test_without_bias():
    layer = Dense(4, 3, bias=False, dtype=np.float64)
    assert layer.biases is None and layer.grad_biases is None and not layer.bias
    assert layer.n_parameters == 12
    assert len(layer.parameters()) == 1
    assert layer.weights.dtype == np.float64


def test_forward_keeps_a_prev_z_and_a(rng):
    layer = Dense(3, 2, "tanh", dtype=np.float64)
    layer.weights = rng.normal(size=(3, 2))
    layer.biases = rng.normal(size=2)
    x = rng.normal(size=(5, 3))
    a = layer.forward(x)
    z = x @ layer.weights + layer.biases
    np.testing.assert_allclose(layer.z, z, rtol=1e-15)
    np.testing.assert_allclose(a, np.tanh(z), rtol=1e-15)
    assert layer.a is a and layer.a_prev is x


def test_backward_is_the_four_equations(rng):
    layer = Dense(3, 2, "tanh", dtype=np.float64)
    layer.weights = rng.normal(size=(3, 2))
    x, delta = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    layer.forward(x)
    grad_input = layer.backward(delta)
    np.testing.assert_allclose(layer.grad_weights, x.T @ delta, rtol=1e-14)  # ∂E/∂W = a_prevᵀ δ
    np.testing.assert_allclose(layer.grad_biases, delta.sum(axis=0), rtol=1e-14)  # ∂E/∂b = Σ δ
    np.testing.assert_allclose(grad_input, delta @ layer.weights.T, rtol=1e-14)  # δ Wᵀ
    # the previous layer's δ multiplies by σ'(z): here δ = grad ⊙ (1 − tanh² z)
    grad_a = rng.normal(size=(5, 2))
    np.testing.assert_allclose(
        layer.delta(grad_a), grad_a * (1 - np.tanh(layer.z) ** 2), rtol=1e-14
    )
    assert layer.backward(delta, need_grad_input=False) is None


def test_gradients_are_overwritten_not_accumulated(rng):
    layer = Dense(3, 2, dtype=np.float64)
    x, delta = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    layer.backward(delta)
    first = (layer.grad_weights.copy(), layer.grad_biases.copy())
    layer.backward(delta)
    np.testing.assert_array_equal(layer.grad_weights, first[0])
    np.testing.assert_array_equal(layer.grad_biases, first[1])


def test_parameters_are_the_live_arrays():
    layer = Dense(2, 2)
    (w, gw), (b, gb) = layer.parameters()
    assert w is layer.weights and gw is layer.grad_weights
    assert b is layer.biases and gb is layer.grad_biases


def test_setting_weights_keeps_shape_and_dtype():
    layer = Dense(2, 3)
    layer.weights = [[1, 2, 3], [4, 5, 6]]  # a list of ints becomes float32
    assert layer.weights.dtype == np.float32
    np.testing.assert_array_equal(layer.weights, [[1, 2, 3], [4, 5, 6]])
    with pytest.raises(ValueError, match=r"weights must have shape \(2, 3\), got \(3, 2\)"):
        layer.weights = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"biases must have shape \(3,\), got \(2,\)"):
        layer.biases = [0.0, 0.0]
    layer.biases = None
    assert not layer.bias and layer.n_parameters == 6
    layer.biases = [1.0, 2.0, 3.0]
    assert layer.bias and layer.grad_biases.shape == (3,)


def test_astype():
    layer = Dense(2, 3, seed=0)
    before = layer.weights.copy()
    assert layer.astype(np.float64) is layer
    assert layer.weights.dtype == layer.biases.dtype == layer.grad_weights.dtype == np.float64
    np.testing.assert_array_equal(layer.weights, before)


def test_seed_reproduces_the_weights():
    np.testing.assert_array_equal(Dense(5, 4, seed=3).weights, Dense(5, 4, seed=3).weights)
    assert not np.array_equal(Dense(5, 4, seed=3).weights, Dense(5, 4, seed=4).weights)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(Dense(5, 4, seed=rng).weights, Dense(5, 4, seed=3).weights)


@pytest.mark.parametrize(
    ("init", "n_inputs", "n_outputs", "std"),
    [
        ("uniform", 200, 100, 0.1 / np.sqrt(12)),  # U(−0.05, 0.05)
        ("normal", 200, 100, 1 / np.sqrt(200)),  # N(0, 1/n_inputs)
        ("glorot", 200, 100, np.sqrt(6 / 300) / np.sqrt(3)),  # U(−l, l), l = √(6/(n_in+n_out))
        ("he", 200, 100, np.sqrt(2 / 200)),  # N(0, 2/n_inputs)
    ],
)
def test_initializer_scales(init, n_inputs, n_outputs, std):
    weights = Dense(n_inputs, n_outputs, init=init, seed=0, dtype=np.float64).weights
    assert abs(weights.mean()) < 0.05 * std
    assert weights.std() == pytest.approx(std, rel=0.02)  # 20,000 draws


def test_custom_initializer():
    def ones(n_inputs, n_outputs, rng):
        return np.ones((n_inputs, n_outputs))

    layer = Dense(2, 3, init=ones)
    np.testing.assert_array_equal(layer.weights, 1.0)
    assert layer.init == "ones"
    assert get_initializer("xavier") is INITIALIZERS["glorot"]
    with pytest.raises(ValueError, match=r"init must be one of .* or a callable, got 'zeros'"):
        Dense(2, 3, init="zeros")


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((0, 3), {}, ValueError, r"n_inputs must be a positive int, got 0"),
        ((3, -1), {}, ValueError, r"n_outputs must be a positive int, got -1"),
        ((2.5, 3), {}, TypeError, r"n_inputs must be a positive int, got float 2.5"),
        ((True, 3), {}, TypeError, r"n_inputs must be a positive int, got bool"),
        ((2, 3), {"dtype": np.int32}, TypeError, r"dtype must be a floating type .*got int32"),
        ((2, 3), {"activation": "swish"}, ValueError, r"activation must be one of"),
    ],
)
def test_dense_validation(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        Dense(*args, **kwargs)


def test_repr_and_config():
    layer = Dense(3, 2, "relu", bias=False)
    assert repr(layer) == "Dense(3, 2, activation='relu', bias=False)"
    assert layer.get_config() == {
        "type": "Dense",
        "n_inputs": 3,
        "n_outputs": 2,
        "activation": "relu",
        "activation_config": {},
        "bias": False,
        "init": "uniform",
    }


# -- Dropout -----------------------------------------------------------------------------------


def test_dropout_is_the_identity_when_not_training(rng):
    x = rng.normal(size=(4, 5))
    dropout = Dropout(0.5, seed=0)
    assert dropout.forward(x) is x and dropout.mask is None
    assert dropout.backward(x) is x
    assert dropout.n_parameters == 0 and dropout.parameters() == []


def test_dropout_mask_while_training(rng):
    x = rng.normal(size=(200, 50))
    dropout = Dropout(0.2, seed=0)
    out = dropout.forward(x, training=True)
    mask = dropout.mask
    # inverted dropout: zero with probability 0.2, else scaled by 1/0.8 (expectation kept)
    np.testing.assert_allclose(np.unique(mask), [0.0, 1.25])
    assert np.mean(mask == 0.0) == pytest.approx(0.2, abs=0.01)
    np.testing.assert_allclose(out, x * mask)
    # backward multiplies by the same fixed mask
    delta = rng.normal(size=x.shape)
    np.testing.assert_allclose(dropout.backward(delta), delta * mask)
    assert dropout.delta(delta) is delta
    assert dropout.backward(delta, need_grad_input=False) is None


def test_dropout_keeps_dtype_and_is_seeded():
    x = np.ones((3, 4), dtype=np.float32)
    first = Dropout(0.5, seed=1).forward(x, training=True)
    assert first.dtype == np.float32
    np.testing.assert_array_equal(first, Dropout(0.5, seed=1).forward(x, training=True))


def test_dropout_rate_zero_is_the_identity():
    x = np.ones((3, 4))
    assert Dropout(0.0).forward(x, training=True) is x


@pytest.mark.parametrize("rate", [1.0, -0.1, 1, float("nan")])
def test_dropout_rate_validation(rate):
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\), got"):
        Dropout(rate)


@pytest.mark.parametrize("rate", [np.float32(0.25), np.float64(0.25), np.linspace(0, 0.5, 3)[1]])
def test_dropout_accepts_numpy_scalars(rate):
    assert Dropout(rate).rate == 0.25


def test_dropout_rate_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="rate must be a float"):
        Dropout("0.5")
