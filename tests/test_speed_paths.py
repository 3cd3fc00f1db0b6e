"""The fast training paths (buffers, out= arguments, fused loss value and δ, in-place optimiser
updates) against the plain formulas written out with NumPy. No timings here."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import SGD, Adam, mlp, train
from mlpkit.activations import ACTIVATIONS, Activation, LeakyReLU, ReLU, Softmax
from mlpkit.layers import Dense
from mlpkit.losses import BinaryCrossEntropy, CrossEntropy, SquaredError

RNG = np.random.default_rng(1234)
Z = RNG.normal(0.0, 3.0, size=(7, 5)).astype(np.float32)
G = RNG.normal(size=(7, 5)).astype(np.float32)


def plain_value(name: str, z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    return z  # identity


def plain_delta(name: str, z: np.ndarray, g: np.ndarray) -> np.ndarray:
    a, g = plain_value(name, z), g.astype(np.float64)
    if name == "sigmoid":
        return g * a * (1.0 - a)
    if name == "relu":
        return g * (z > 0)
    if name == "tanh":
        return g * (1.0 - a * a)
    if name == "softmax":
        return a * (g - (g * a).sum(axis=1, keepdims=True))
    return g


FAST = ["sigmoid", "relu", "tanh", "softmax", "identity"]


@pytest.mark.parametrize("name", FAST)
def test_value_into_a_buffer_equals_the_formula(name):
    activation = ACTIVATIONS[name]()
    assert activation.supports_out
    out = np.full_like(Z, np.nan)
    result = activation.value(Z, out=out)
    assert result is out or name == "identity"
    np.testing.assert_allclose(result, plain_value(name, Z), rtol=2e-6, atol=1e-7)
    np.testing.assert_array_equal(result, activation.value(Z))  # same numbers as without out


@pytest.mark.parametrize("name", FAST)
def test_backward_into_a_buffer_equals_the_formula(name):
    activation = ACTIVATIONS[name]()
    a = activation.value(Z)
    out = np.full_like(Z, np.nan)
    delta = activation.backward(Z, a, G, out=out)
    assert delta.dtype == np.float32
    np.testing.assert_allclose(delta, plain_delta(name, Z, G), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(delta, activation.backward(Z, a, G))


def test_relu_backward_is_zero_at_and_below_zero():
    z = np.array([[-1.0, 0.0, 2.0]], dtype=np.float32)
    delta = ReLU().backward(z, ReLU().value(z), np.ones_like(z), out=np.empty_like(z))
    np.testing.assert_array_equal(delta, [[0.0, 0.0, 1.0]])


def test_activations_without_out_support_still_train():
    # LeakyReLU has no buffered path: Dense falls back to new arrays, same gradients
    assert not LeakyReLU.supports_out
    layer = Dense(4, 3, activation=LeakyReLU(0.1), seed=0)
    x = RNG.normal(size=(5, 4)).astype(np.float32)
    a = layer.forward(x, training=True)
    np.testing.assert_allclose(a, layer.forward(x), rtol=1e-6)


class _Custom(Activation):  # a user activation written against the old signatures
    name = "custom_square"

    def value(self, z):
        return z * z

    def derivative(self, z, a):
        return 2.0 * z


def test_a_user_activation_without_out_arguments_trains():
    net = mlp([3, 4, 1], activation="sigmoid", output_activation="identity", seed=0)
    net.layers[0].activation = _Custom()
    x = RNG.normal(size=(8, 3)).astype(np.float32)
    t = RNG.normal(size=(8, 1)).astype(np.float32)
    history = train(
        net, x, t, loss="squared_error", optimizer=SGD(0.01), epochs=2, batch_size=4, seed=0
    )
    assert np.isfinite(history.loss).all()


# -- Dense: buffered training pass == plain formulas ------------------------------------------


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
def test_dense_training_pass_matches_the_backprop_equations(activation):
    layer = Dense(6, 4, activation=activation, init="normal", seed=3)
    layer.biases = RNG.normal(size=4)
    x = RNG.normal(size=(5, 6)).astype(np.float32)
    grad_a = RNG.normal(size=(5, 4)).astype(np.float32)
    w, b = layer.weights.astype(np.float64), layer.biases.astype(np.float64)
    z = x.astype(np.float64) @ w + b
    a = layer.forward(x, training=True)
    np.testing.assert_allclose(layer.z, z, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a, plain_value(activation, z), rtol=1e-5, atol=1e-6)
    delta = layer.delta(grad_a)
    expected_delta = plain_delta(activation, z, grad_a)
    np.testing.assert_allclose(delta, expected_delta, rtol=1e-4, atol=1e-6)
    grad_in = layer.backward(delta)
    np.testing.assert_allclose(layer.grad_weights, x.T @ expected_delta, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.grad_biases, expected_delta.sum(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(grad_in, expected_delta @ w.T, rtol=1e-4, atol=1e-5)


def test_training_buffers_follow_the_batch_size():
    layer = Dense(3, 2, activation="relu", seed=0)
    big = RNG.normal(size=(6, 3)).astype(np.float32)
    small = big[:2].copy()
    a_big = layer.forward(big, training=True).copy()
    a_small = layer.forward(small, training=True)
    assert a_small.shape == (2, 2)
    np.testing.assert_array_equal(a_small, a_big[:2])
    bigger = np.concatenate([big, big])
    np.testing.assert_array_equal(layer.forward(bigger, training=True)[6:], a_big)


def test_prediction_results_are_never_training_buffers():
    net = mlp([3, 5, 2], activation="relu", output_activation="softmax", seed=0)
    x = RNG.normal(size=(4, 3)).astype(np.float32)
    first = net.forward(x)
    second = net.forward(x + 1.0)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, net.forward(x))


# -- losses: fused value and δ == value() and output_delta() ---------------------------------


@pytest.mark.parametrize(
    ("loss", "output"),
    [
        (SquaredError(), "sigmoid"),
        (SquaredError(half=False), "identity"),
        (SquaredError(reduction="sum"), "tanh"),
        (CrossEntropy(), "softmax"),
        (CrossEntropy(reduction="sum"), "softmax"),
        (CrossEntropy(), "sigmoid"),
        (BinaryCrossEntropy(), "sigmoid"),
    ],
)
def test_value_and_delta_equals_value_and_output_delta(loss, output):
    activation = ACTIVATIONS[output]()
    z = RNG.normal(size=(6, 3)).astype(np.float32)
    a = activation.value(z)
    t = np.eye(3, dtype=np.float32)[RNG.integers(0, 3, size=6)]
    value, delta = loss.value_and_delta(activation, z, a, t)
    assert isinstance(value, float)
    np.testing.assert_allclose(value, loss.value(a, t), rtol=1e-6)
    np.testing.assert_allclose(delta, loss.output_delta(activation, z, a, t), rtol=1e-6, atol=1e-7)


def test_cross_entropy_fused_delta_keeps_soft_targets_exact():
    z = RNG.normal(size=(4, 3))
    a = Softmax().value(z)
    t = np.array([[0.2, 0.3, 0.5]] * 4)
    _, delta = CrossEntropy().value_and_delta(Softmax(), z, a, t)
    np.testing.assert_allclose(delta, (a - t) / 4, rtol=1e-12)


# -- optimisers: in-place updates == the update rules -----------------------------------------


def _pairs():
    rng = np.random.default_rng(5)
    params = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)]
    grads = [[rng.normal(size=p.shape).astype(np.float32) for p in params] for _ in range(4)]
    return params, grads


@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_in_place_matches_the_lecture_rule(momentum, nesterov):
    params, grads = _pairs()
    expected = [p.astype(np.float64) for p in params]
    velocity = [np.zeros_like(e) for e in expected]
    opt = SGD(0.1, momentum=momentum, nesterov=nesterov)
    for step_grads in grads:
        opt.step(list(zip(params, step_grads, strict=True)))
        for i, g in enumerate(step_grads):
            velocity[i] = momentum * velocity[i] - 0.1 * g
            expected[i] += momentum * velocity[i] - 0.1 * g if nesterov else velocity[i]
    for p, e in zip(params, expected, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, e, rtol=1e-5, atol=1e-6)


def test_adam_in_place_matches_the_paper():
    params, grads = _pairs()
    expected = [p.astype(np.float64) for p in params]
    m = [np.zeros_like(e) for e in expected]
    v = [np.zeros_like(e) for e in expected]
    opt = Adam(0.01)
    for t, step_grads in enumerate(grads, start=1):
        opt.step(list(zip(params, step_grads, strict=True)))
        for i, g in enumerate(step_grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g * g
            m_hat, v_hat = m[i] / (1 - 0.9**t), v[i] / (1 - 0.999**t)
            expected[i] -= 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    for p, e in zip(params, expected, strict=True):
        np.testing.assert_allclose(p, e, rtol=1e-5, atol=1e-6)


def test_the_gradient_arrays_are_left_untouched_by_the_update():
    params, grads = _pairs()
    before = [g.copy() for g in grads[0]]
    for opt in (SGD(0.1), SGD(0.1, momentum=0.5), Adam()):
        opt.step(list(zip(params, grads[0], strict=True)))
        for g, b in zip(grads[0], before, strict=True):
            np.testing.assert_array_equal(g, b)


# -- a whole training run == a plain NumPy implementation --------------------------------------


def test_train_matches_a_plain_numpy_implementation_of_sgd():
    """784-style net in miniature: sigmoid, ½ squared error, SGD, shuffled mini-batches."""
    rng = np.random.default_rng(0)
    x = rng.random((30, 6), dtype=np.float32)
    t = np.eye(3, dtype=np.float32)[rng.integers(0, 3, size=30)]
    net = mlp([6, 5, 3], activation="sigmoid", init="normal", seed=1)
    w = [layer.weights.astype(np.float64) for layer in net.dense_layers]
    b = [layer.biases.astype(np.float64) for layer in net.dense_layers]
    history = train(
        net, x, t, loss="squared_error", optimizer=SGD(3.0), epochs=3, batch_size=7, seed=42
    )

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    order_rng, losses = np.random.default_rng(42), []
    for _ in range(3):
        order, total = order_rng.permutation(30), 0.0
        for start in range(0, 30, 7):
            xb, tb = x[order[start : start + 7]], t[order[start : start + 7]]
            n = len(xb)
            a1 = sigmoid(xb @ w[0] + b[0])
            a2 = sigmoid(a1 @ w[1] + b[1])
            total += 0.5 * ((a2 - tb) ** 2).sum()
            d2 = (a2 - tb) / n * a2 * (1 - a2)  # BP1
            d1 = (d2 @ w[1].T) * a1 * (1 - a1)  # BP2
            w[1] -= 3.0 * a1.T @ d2  # BP4
            b[1] -= 3.0 * d2.sum(axis=0)  # BP3
            w[0] -= 3.0 * xb.T @ d1
            b[0] -= 3.0 * d1.sum(axis=0)
        losses.append(total / 30)
    np.testing.assert_allclose(history.loss, losses, rtol=1e-4)
    for layer, wi, bi in zip(net.dense_layers, w, b, strict=True):
        np.testing.assert_allclose(layer.weights, wi, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.biases, bi, rtol=1e-4, atol=1e-5)


def test_train_records_accuracy_like_accuracy_from_outputs():
    rng = np.random.default_rng(2)
    x = rng.random((40, 4), dtype=np.float32)
    y = rng.integers(0, 3, size=40)
    net = mlp([4, 6, 3], activation="relu", output_activation="softmax", init="he", seed=0)
    history = train(
        net,
        x,
        y,
        loss="cross_entropy",
        optimizer=SGD(0.0001),
        epochs=1,
        batch_size=40,
        shuffle=False,
    )
    # one full batch with a tiny step: the epoch's accuracy is that of the initial network
    # up to the tiny change; recompute with the weights before training
    net0 = mlp([4, 6, 3], activation="relu", output_activation="softmax", init="he", seed=0)
    assert history.accuracy[0] == pytest.approx(np.mean(net0.predict(x) == y))


# -- the optional compiled Adam kernel == the NumPy path -------------------------------------


def random_parameters_and_gradients(rng, dtype):
    """A weight matrix, a bias vector and a small matrix, and 3 steps' gradients for them."""
    shapes = [(300, 250), (250,), (7, 3)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(3)]
    return start, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_matches_the_numpy_path(monkeypatch, dtype):
    from mlpkit.fast import kernels as _numba

    if not _numba.available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    start, grads = random_parameters_and_gradients(np.random.default_rng(9), dtype)
    results = []
    for use_kernel in (True, False):
        if not use_kernel:
            monkeypatch.setattr(_numba, "adam_update", lambda *args: False)
        params = [p.copy() for p in start]
        opt = Adam(0.01, weight_decay=0.1)
        for step_grads in grads:
            opt.step(list(zip(params, step_grads, strict=True)))
        results.append((params, opt.first_moments, opt.second_moments))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for fast, plain in zip(*results, strict=True):
        for a, b in zip(fast, plain, strict=True):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_compiled_adam_declines_arrays_it_cannot_handle():
    from mlpkit.fast import kernels as _numba

    p = np.zeros((4, 3), dtype=np.float32)
    g = np.ones((3, 4), dtype=np.float32).T  # not C-contiguous
    assert not _numba.adam_update(p, g, p.copy(), p.copy(), 0.9, 0.999, 1e-3, 1e-8)
    np.testing.assert_array_equal(p, 0.0)


# -- the optional compiled SGD kernels == the NumPy path -------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_compiled_sgd_matches_the_numpy_path(monkeypatch, dtype, momentum, nesterov):
    from mlpkit.fast import kernels as _numba

    if not _numba.available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    start, grads = random_parameters_and_gradients(np.random.default_rng(11), dtype)
    results = []
    for use_kernel in (True, False):
        if not use_kernel:
            monkeypatch.setattr(_numba, "flat", lambda *arrays: None)
        params = [p.copy() for p in start]
        pairs = [(p, np.empty_like(p)) for p in params]
        opt = SGD(0.3, momentum=momentum, nesterov=nesterov)
        for step_grads in grads:
            for i, g in enumerate(step_grads):  # the training loop's list, gradients refilled
                pairs[i][1][...] = g
            opt.step(pairs)
        results.append((params, opt.velocities or []))
    for fast, plain in zip(*results, strict=True):
        for a, b in zip(fast, plain, strict=True):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)  # same operations in the same order


def test_compiled_sgd_is_not_used_for_arrays_it_cannot_handle():
    p = np.zeros((4, 3), dtype=np.float32)
    g = np.ones((3, 4), dtype=np.float32).T  # not C-contiguous
    SGD(0.5).step([(p, g)])
    np.testing.assert_array_equal(p, -0.5)


# -- the per-batch gradient check == summing every gradient ----------------------------------


def _check_for(a_prev_scale, delta_fill):
    from mlpkit.training.divergence import GradientCheck as _GradientCheck

    rng = np.random.default_rng(5)
    net = mlp([6, 5, 3], activation="relu", output_activation="identity", seed=0)
    a = rng.random((4, 6), dtype=np.float32)
    net.forward(a, training=True)
    delta = rng.normal(size=(4, 3)).astype(np.float32)
    if delta_fill is not None:
        delta[1, 2] = delta_fill
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in net.dense_layers:
            layer.a_prev = layer.a_prev * np.float32(a_prev_scale)
        net.backward(delta)
        check = _GradientCheck(net)
        return check.bounded(), bool(np.isfinite(check.total()))


@pytest.mark.parametrize(
    ("scale", "fill", "bounded", "finite"),
    [
        (1.0, None, True, True),  # ordinary values: the bound shows it
        (1e20, None, False, True),  # ‖a_prev‖² overflows, gradients do not: the sum decides
        (1.0, 1e30, False, True),
        (1.0, np.nan, False, False),  # NaN or inf in δ or a_prev: the gradient is not finite
        (1.0, np.inf, False, False),
        (np.inf, None, False, False),
    ],
)
def test_gradient_check_bound_agrees_with_the_exact_sum(scale, fill, bounded, finite):
    assert _check_for(scale, fill) == (bounded, finite)


def test_training_data_with_huge_finite_values_is_accepted():
    # Σ x² overflows float32 here, so the chunked isfinite test decides (and accepts)
    from mlpkit.losses import SquaredError
    from mlpkit.training.loop import _check_data

    net = mlp([3, 2], output_activation="identity", seed=0)
    x = np.full((5, 3), 1e30, dtype=np.float32)
    _, _, norm2 = _check_data(net, SquaredError(), x, np.zeros((5, 2)), "training data")
    assert norm2 == np.inf
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        _check_data(net, SquaredError(), x, np.zeros((5, 2)), "training data")


# -- the optional fused training step (compiled element-wise work) == the NumPy path ---------


def _without_fused_step(monkeypatch):
    from mlpkit.fast import kernels as _numba

    monkeypatch.setattr(
        _numba.FusedStep, "for_training", classmethod(lambda cls, network, loss: None)
    )


def _fused_available() -> bool:
    from mlpkit.fast import kernels as _numba

    return _numba.available()


def _train_both_ways(monkeypatch, make_net, make_optimizer, x, t, loss, **kwargs):
    """Train twice from the same start (new network, new optimiser), with and without the fused
    step; per run: the weights, the history's loss and accuracy, every layer's training
    arrays."""
    from mlpkit.fast import kernels as _numba

    results = []
    for fused in (True, False):
        if not fused:
            _without_fused_step(monkeypatch)
        net = make_net()
        assert (_numba.FusedStep.for_training(net, loss) is not None) == fused
        history = train(net, x, t, loss=loss, optimizer=make_optimizer(), **kwargs)
        state = [
            (la.a_prev, la.z, la.a, la.last_delta, la.grad_weights, la.grad_biases)
            for la in net.layers
        ]
        results.append((net.get_weights(), history.loss, history.accuracy, state))
    return results


def _assert_same_training(results, dtype) -> None:
    """The weights, accuracies and every training array bit for bit (the same operations in the
    same order: NumPy's products, tanh, exp and softmax row sums in both); the loss values to
    rounding (summed sequentially in the fused step, by a BLAS dot in the NumPy path)."""
    (w_fast, loss_fast, acc_fast, state_fast), (w_plain, loss_plain, acc_plain, state_plain) = (
        results
    )
    for a, b in zip(w_fast, w_plain, strict=True):
        np.testing.assert_array_equal(a, b)
    for fast, plain in zip(state_fast, state_plain, strict=True):
        for a, b in zip(fast, plain, strict=True):
            assert a.dtype == dtype
            np.testing.assert_array_equal(a, b)
    assert acc_fast == acc_plain
    np.testing.assert_allclose(loss_fast, loss_plain, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("hidden", "output", "loss"),
    [
        ("sigmoid", "sigmoid", SquaredError()),
        ("tanh", "identity", SquaredError(half=False, reduction="sum")),
        ("relu", "sigmoid", SquaredError(reduction="sum")),
        ("identity", "tanh", SquaredError(half=False)),
        ("relu", "relu", SquaredError()),
    ],
)
def test_fused_step_trains_like_the_numpy_path(monkeypatch, dtype, hidden, output, loss):
    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    rng = np.random.default_rng(21)
    x = rng.normal(size=(53, 6)).astype(dtype)
    t = rng.random((53, 3)).astype(dtype)
    results = _train_both_ways(
        monkeypatch,
        lambda: mlp([6, 8, 5, 3], activation=hidden, output_activation=output, seed=4,
                    dtype=dtype),
        lambda: SGD(0.05, momentum=0.5), x, t, loss, epochs=3, batch_size=10, seed=7,
    )
    _assert_same_training(results, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh", "identity"])
def test_fused_softmax_cross_entropy_trains_like_the_numpy_path(monkeypatch, dtype, hidden):
    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(61, 7)).astype(dtype)
    labels = rng.integers(0, 4, size=61)
    results = _train_both_ways(
        monkeypatch,
        lambda: mlp([7, 9, 6, 4], activation=hidden, output_activation="softmax", seed=2,
                    dtype=dtype),
        lambda: Adam(0.01), x, labels, CrossEntropy(), epochs=3, batch_size=16, seed=3,
    )
    _assert_same_training(results, dtype)  # one-hot targets: bit for bit


def test_fused_cross_entropy_with_soft_targets_agrees_to_rounding(monkeypatch):
    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 5))
    t = rng.random((40, 3))  # rows summing to 0.1-3: δ^L = a Σ_j t_j − t, not a − t
    (w_fast, loss_fast, _, _), (w_plain, loss_plain, _, _) = _train_both_ways(
        monkeypatch,
        lambda: mlp([5, 6, 3], activation="relu", output_activation="softmax", seed=1,
                    dtype=np.float64),
        lambda: SGD(0.05, momentum=0.9), x, t, CrossEntropy(reduction="sum"), epochs=4,
        batch_size=8, seed=0,
    )
    for a, b in zip(w_fast, w_plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(loss_fast, loss_plain, rtol=1e-10)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 2, 3])  # where the row maximum starts, in between, last
def test_fused_softmax_of_rows_with_nan_or_inf_equals_numpy(bad, where):
    from mlpkit.fast import kernels as _numba

    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    net = mlp([3, 4], activation="softmax", seed=0)
    step = _numba.FusedStep.for_training(net, CrossEntropy())
    layer = net.layers[0]
    layer._biases[...] = 0.5
    layer._biases[where] = bad
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = Softmax().value(x @ layer._weights + layer._biases)
        step.forward_loss(x, np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]])
    np.testing.assert_array_equal(layer.a, expected)


def test_fused_cross_entropy_diverges_like_the_numpy_path(monkeypatch):
    from mlpkit import TrainingDivergedError

    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    x = np.array([[1.0, 2.0], [3.0, np.float32(3e38)]], dtype=np.float32)
    outcomes = []
    for fused in (True, False):
        if not fused:
            _without_fused_step(monkeypatch)
        net = mlp([2, 3, 2], activation="relu", output_activation="softmax", seed=1)
        with pytest.raises(TrainingDivergedError) as info:
            train(net, x, np.array([0, 1]), loss="cross_entropy", optimizer=SGD(1e30),
                  epochs=3, batch_size=None)
        outcomes.append((str(info.value), net.get_weights()))
    (msg_fast, w_fast), (msg_plain, w_plain) = outcomes
    assert msg_fast == msg_plain
    for a, b in zip(w_fast, w_plain, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (mlp([4, 3, 2], dropout=0.5, seed=0), SquaredError()),
        lambda: (mlp([4, 3, 2], output_activation="softmax", seed=0), SquaredError()),
        lambda: (mlp([4, 3, 2], output_activation="sigmoid", seed=0), CrossEntropy()),
        lambda: (mlp([4, 3, 2], activation="softmax", output_activation="softmax"),
                 CrossEntropy()),
        lambda: (mlp([4, 3, 2], activation="leaky_relu", seed=0), SquaredError()),
        lambda: (mlp([4, 3, 2], bias=False, seed=0), SquaredError()),
        lambda: (mlp([4, 3, 2], seed=0), BinaryCrossEntropy()),
        lambda: (mlp([4, 3, 2], seed=0, dtype=np.float16), SquaredError()),
    ],
)
def test_fused_step_is_only_used_for_the_common_case(make):
    from mlpkit.fast import kernels as _numba

    network, loss = make()
    assert _numba.FusedStep.for_training(network, loss) is None


def test_fused_step_declines_a_subclassed_activation():
    from mlpkit.activations import Sigmoid
    from mlpkit.fast import kernels as _numba

    class Scaled(Sigmoid):
        def value(self, z, out=None):
            return super().value(2.0 * z, out=out)

    net = mlp([4, 3, 2], seed=0)
    net.layers[0].activation = Scaled()
    assert _numba.FusedStep.for_training(net, SquaredError()) is None


def test_fused_step_diverges_like_the_numpy_path(monkeypatch):
    from mlpkit import TrainingDivergedError

    if not _fused_available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    x = np.array([[1.0, 2.0], [3.0, 1e30]], dtype=np.float32)
    t = np.zeros((2, 1), dtype=np.float32)
    outcomes = []
    for fused in (True, False):
        if not fused:
            _without_fused_step(monkeypatch)
        net = mlp([2, 3, 1], activation="identity", seed=1)
        for layer in net.layers:
            layer.grad_biases[...] = 7.0
        with pytest.raises(TrainingDivergedError, match="the loss became") as info:
            train(net, x, t, optimizer=SGD(0.1), epochs=2, batch_size=None)
        outcomes.append(
            (str(info.value), net.get_weights(), [layer.grad_biases.copy() for layer in net.layers])
        )
    (msg_fast, w_fast, gb_fast), (msg_plain, w_plain, gb_plain) = outcomes
    assert msg_fast == msg_plain
    for a, b in zip(w_fast + gb_fast, w_plain + gb_plain, strict=True):
        np.testing.assert_array_equal(a, b)
