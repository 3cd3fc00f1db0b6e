"""Loss values, gradients and output errors δ^L against their formulas; the canonical
shortcut against the general path; targets; outputs exactly 0 and 1."""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import (
    AbsoluteError,
    BinaryCrossEntropy,
    CrossEntropy,
    Identity,
    Sigmoid,
    Softmax,
    SquaredError,
    Tanh,
    get_loss,
)


@pytest.fixture
def outputs(rng):
    """Probabilities a (4, 3) in (0.05, 0.95), soft targets t, and one-hot targets."""
    a = rng.uniform(0.05, 0.95, (4, 3))
    return a, rng.uniform(0.0, 1.0, (4, 3)), np.eye(3)[[0, 2, 1, 2]]


# -- values and gradients ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("half", "reduction"), [(True, "mean"), (False, "mean"), (True, "sum"), (False, "sum")]
)
def test_squared_error(outputs, half, reduction):
    a, t, _ = outputs
    loss = SquaredError(half=half, reduction=reduction)
    factor = 0.5 if half else 1.0
    n = 4 if reduction == "mean" else 1
    # E = (½) Σ_samples Σ_outputs (a − t)², divided by n for the mean
    assert loss.value(a, t) == pytest.approx(factor * np.sum((a - t) ** 2) / n, rel=1e-14)
    np.testing.assert_allclose(loss.gradient(a, t), 2 * factor * (a - t) / n, rtol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_absolute_error(outputs, reduction):
    a, t, _ = outputs
    n = 4 if reduction == "mean" else 1
    loss = AbsoluteError(reduction=reduction)
    assert loss.value(a, t) == pytest.approx(np.sum(np.abs(a - t)) / n, rel=1e-14)
    np.testing.assert_allclose(loss.gradient(a, t), np.sign(a - t) / n)
    assert AbsoluteError().gradient(np.array([[0.5]]), np.array([[0.5]]))[0, 0] == 0.0


def test_binary_cross_entropy(outputs):
    a, t, _ = outputs
    loss = BinaryCrossEntropy()
    expected = -np.sum(t * np.log(a) + (1 - t) * np.log(1 - a)) / 4
    assert loss.value(a, t) == pytest.approx(expected, rel=1e-14)
    np.testing.assert_allclose(loss.gradient(a, t), (a - t) / (a * (1 - a)) / 4, rtol=1e-13)


def test_cross_entropy(outputs):
    a, _, one_hot = outputs
    loss = CrossEntropy(reduction="sum")
    assert loss.value(a, one_hot) == pytest.approx(-np.sum(one_hot * np.log(a)), rel=1e-14)
    np.testing.assert_allclose(loss.gradient(a, one_hot), -one_hot / a, rtol=1e-14)


# -- output error δ^L: the canonical shortcut and the general path -----------------------------


@pytest.mark.parametrize(
    ("loss", "activation", "targets"),
    [
        (SquaredError(), Identity(), "soft"),
        (SquaredError(half=False, reduction="sum"), Identity(), "soft"),
        (BinaryCrossEntropy(), Sigmoid(), "soft"),
        (BinaryCrossEntropy(reduction="sum"), Sigmoid(), "soft"),
        (CrossEntropy(), Softmax(), "one_hot"),
        (CrossEntropy(), Softmax(), "soft"),  # rows not summing to 1: δ = a Σt − t
    ],
    ids=lambda x: x if isinstance(x, str) else repr(x),
)
def test_canonical_shortcut_equals_the_general_path(rng, loss, activation, targets):
    z = rng.normal(size=(4, 3))
    a = activation.value(z)
    t = rng.uniform(size=(4, 3)) if targets == "soft" else np.eye(3)[[0, 1, 2, 1]]
    assert activation.name == loss.canonical_activation
    shortcut = loss.output_delta(activation, z, a, t)
    general = activation.backward(z, a, loss.gradient(a, t))  # ∂E/∂a ⊙ σ'(z) or Jacobian
    np.testing.assert_allclose(shortcut, general, rtol=1e-10, atol=1e-15)
    if targets == "one_hot" or not isinstance(loss, CrossEntropy):
        scale = 1.0 / 4 if loss.reduction == "mean" else 1.0
        factor = 2.0 if isinstance(loss, SquaredError) and not loss.half else 1.0
        np.testing.assert_allclose(shortcut, factor * (a - t) * scale, rtol=1e-14)  # a − t


@pytest.mark.parametrize(
    ("loss", "activation"),
    [
        (SquaredError(), Sigmoid()),
        (SquaredError(), Softmax()),
        (AbsoluteError(), Tanh()),
        (BinaryCrossEntropy(), Softmax()),
        (CrossEntropy(), Sigmoid()),
    ],
    ids=repr,
)
def test_non_canonical_pairs_multiply_by_the_derivative(rng, loss, activation):
    z = rng.normal(size=(4, 3))
    a = activation.value(z)
    t = np.eye(3)[[0, 1, 2, 1]] * 0.8 + 0.1
    delta = loss.output_delta(activation, z, a, t)
    np.testing.assert_allclose(delta, activation.backward(z, a, loss.gradient(a, t)), rtol=1e-15)
    if activation.name == "sigmoid" and isinstance(loss, SquaredError):
        # the lecture's output δ (up to sign): (a − t) a (1 − a), over 4 samples
        np.testing.assert_allclose(delta, (a - t) * a * (1 - a) / 4, rtol=1e-14)


@pytest.mark.parametrize("loss", [BinaryCrossEntropy(), CrossEntropy()], ids=repr)
@pytest.mark.parametrize("activation", ["identity", "tanh", "relu", "leaky_relu"])
def test_cross_entropies_reject_outputs_outside_0_1(loss, activation):
    act = mk.get_activation(activation)
    z = np.zeros((1, 2))
    with pytest.raises(
        ValueError,
        match=rf"loss '{loss.name}' needs outputs in \(0, 1\) .*"
        rf"got output activation '{activation}'",
    ):
        loss.output_delta(act, z, act.value(z), np.array([[1.0, 0.0]]))


# -- outputs exactly 0 and 1 -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "loss", [SquaredError(), AbsoluteError(), BinaryCrossEntropy(), CrossEntropy()], ids=repr
)
def test_outputs_exactly_0_and_1(loss, dtype):
    # warnings are errors in this suite: log(0) or 0/0 would fail here
    a = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    t = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=dtype)
    value = loss.value(a, t)
    gradient = loss.gradient(a, t)
    assert gradient.dtype == dtype
    if loss.name.endswith("cross_entropy"):
        # exact, no clip: a probability of exactly 0 for a target of 1 costs −ln 0 = +inf
        assert value == np.inf
        agree = t == a  # where output and target agree the gradient is finite (no 0/0)
        assert np.all(np.isfinite(gradient[agree]))
    else:
        assert np.isfinite(value) and np.all(np.isfinite(gradient))
    for activation in (Sigmoid(), Softmax()):
        z = np.array([[-1000.0, 1000.0, 1000.0, -1000.0]], dtype=dtype)
        delta = loss.output_delta(activation, z, activation.value(z), t)
        assert np.all(np.isfinite(delta)) and delta.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_canonical_value_is_exact_from_z(dtype):
    # a confidently wrong prediction: the value comes from z (log-sum-exp), not a clipped a
    z = np.array([[200.0, -200.0], [-30.0, 30.0]], dtype=dtype)
    t = np.array([[0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    # row 1: −ln a_2 = 400 exactly (to rounding); row 2: ln(1 + e^(−60))
    expected = (400.0 + np.log1p(np.exp(-60.0))) / 2
    assert CrossEntropy().output_value(Softmax(), z, Softmax().value(z), t) == pytest.approx(
        expected, rel=1e-6)
    # sigmoid + BCE: −ln σ(−200) − ln(1 − σ(200)) per output
    zb, tb = np.array([[-200.0], [200.0]], dtype=dtype), np.array([[1.0], [0.0]], dtype=dtype)
    assert BinaryCrossEntropy().output_value(Sigmoid(), zb, Sigmoid().value(zb), tb) == (
        pytest.approx(200.0, rel=1e-6))
    # and it agrees with the value from a where a is representable
    z = np.array([[1.0, -2.0, 0.5]], dtype=dtype)
    t = np.array([[0.2, 0.3, 0.5]], dtype=dtype)
    for loss, act in ((CrossEntropy(), Softmax()), (BinaryCrossEntropy(), Sigmoid())):
        assert loss.output_value(act, z, act.value(z), t) == pytest.approx(
            loss.value(act.value(z), t), rel=1e-5 if dtype == np.float32 else 1e-12)


def test_saturated_network_trains_without_nan():
    net = mk.mlp([2, 3], output_activation="softmax", dtype=np.float64)
    net.dense_layers[0].weights = [[1000.0, -1000.0, 0.0], [0.0, 0.0, 0.0]]
    X = np.array([[1.0, 0.0], [-1.0, 0.0]])
    value = net.backprop(X, [1, 0], "cross_entropy")  # both samples confidently wrong
    # exact: −ln a = max z − z_target = 2000 for each sample (no clip at the dtype's epsilon)
    assert value == pytest.approx(2000.0, rel=1e-12)
    assert all(np.all(np.isfinite(g)) for _, g in net.parameters())
    assert np.any(net.output_layer.grad_weights != 0.0)  # softmax + CE: no learning slowdown


# -- targets -----------------------------------------------------------------------------------


def test_cross_entropy_integer_labels_become_one_hot():
    loss = CrossEntropy()
    np.testing.assert_array_equal(
        loss.targets([2, 0, 1], 3, np.float32), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    )
    assert loss.targets([2, 0], 3, np.float32).dtype == np.float32
    # integral floats are labels too
    np.testing.assert_array_equal(
        loss.targets(np.array([1.0, 0.0]), 2, np.float64), [[0, 1], [1, 0]]
    )
    assert loss.targets(np.array([], dtype=np.int64), 3, np.float64).shape == (0, 3)


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (
            [0, 3],
            r"class labels in T must lie in \[0, 2\] for a network with 3 outputs, got "
            r"values from 0 to 3",
        ),
        ([-1, 1], r"got values from -1 to 1"),
        ([0.5, 1.0], r"integer class labels expected .*got dtype float64"),
        (["a", "b"], r"integer class labels expected"),
    ],
)
def test_cross_entropy_label_validation(labels, match):
    with pytest.raises(ValueError, match=match):
        CrossEntropy().targets(labels, 3, np.float64)


def test_target_shapes():
    loss = SquaredError()
    assert loss.targets([0.1, 0.2], 1, np.float64).shape == (2, 1)  # one output: a vector is fine
    with pytest.raises(
        ValueError,
        match=r"targets T must have shape \(n_samples, 3\) to match "
        r"the network's outputs, got shape \(2,\)",
    ):
        loss.targets([1, 2], 3, np.float64)
    with pytest.raises(ValueError, match=r"got shape \(2, 2\)"):
        BinaryCrossEntropy().targets(np.ones((2, 2)), 3, np.float64)


# -- registry ----------------------------------------------------------------------------------


def test_get_loss():
    assert isinstance(get_loss("mse"), SquaredError)
    assert isinstance(get_loss("log_loss"), CrossEntropy)
    assert isinstance(get_loss("Binary-Cross-Entropy"), BinaryCrossEntropy)
    loss = AbsoluteError()
    assert get_loss(loss) is loss
    with pytest.raises(ValueError, match=r"loss must be one of \[.*\], got 'hinge'"):
        get_loss("hinge")
    with pytest.raises(
        TypeError,
        match=r"loss must be a name \(str\) or a Loss instance, got "
        r"function",
    ):
        get_loss(lambda a, t: 0.0)


def test_reduction_validation_and_config():
    with pytest.raises(
        ValueError,
        match=r"reduction must be one of \('mean', 'sum'\), got "
        r"'none'",
    ):
        SquaredError(reduction="none")
    assert repr(SquaredError(half=False)) == "SquaredError(half=False, reduction='mean')"
    assert CrossEntropy(reduction="sum").get_config() == {"reduction": "sum"}


def test_loss_of_no_samples_is_a_clear_error():
    empty = np.empty((0, 2))
    with pytest.raises(ValueError, match="0 samples"):
        SquaredError().value(empty, empty)


# -- sample weights ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(
    ("loss_class", "activation"),
    [(SquaredError, "identity"), (SquaredError, "tanh"), (CrossEntropy, "softmax"),
     (BinaryCrossEntropy, "sigmoid"), (AbsoluteError, "identity")],
)
def test_sample_weights_all_ones_are_no_weights_bit_for_bit(loss_class, activation, reduction,
                                                             dtype):
    rng = np.random.default_rng(1)
    act = mk.get_activation(activation)
    z = rng.normal(size=(7, 3)).astype(dtype)
    a = act.value(z)
    t = np.eye(3, dtype=dtype)[rng.integers(0, 3, 7)]
    loss = loss_class(reduction=reduction)
    value, delta = loss.value_and_delta(act, z, a, t)
    value_w, delta_w = loss.value_and_delta(act, z, a, t, np.ones(7))
    assert value_w == value
    assert delta_w.dtype == delta.dtype == dtype
    np.testing.assert_array_equal(delta_w, delta)


def test_sample_weights_of_zero_drop_the_sample_even_with_an_infinite_loss():
    loss = CrossEntropy()
    a = np.array([[0.0, 1.0], [0.7, 0.3], [0.2, 0.8]])  # sample 0: ln 0, E_0 = inf
    t = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert loss.value(a, t) == np.inf
    w = np.array([0.0, 1.0, 3.0])
    assert loss.value(a, t, w) == pytest.approx((-np.log(0.7) - 3 * np.log(0.8)) / 4)
    assert loss.value(a[1:], t[1:], w[1:]) == pytest.approx(loss.value(a, t, w), rel=1e-15)
    # a batch whose weights are all 0: E = 0 and δ^L = 0
    zeros = np.zeros(3)
    assert loss.value(a, t, zeros) == 0.0
    np.testing.assert_array_equal(loss.output_delta(mk.get_activation("softmax"), a, a, t, zeros),
                                  0.0)
    assert loss.sample_scale(3, w).tolist() == [[0.0], [0.25], [0.75]]
    assert CrossEntropy(reduction="sum").sample_scale(3, w).tolist() == [[0.0], [1.0], [3.0]]
