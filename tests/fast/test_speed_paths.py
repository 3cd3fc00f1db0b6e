"""The fast engine (mlpkit.fast) against the plain core it must reproduce: one table of
activation x loss x optimiser x dtype, trained both ways from the same start; the kernels'
edge cases; which networks the engine takes. No timings here."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import SGD, Adam, Callback, TrainingDivergedError, mlp, train
from mlpkit.activations import Sigmoid, Softmax
from mlpkit.fast import kernels
from mlpkit.fast.engine import FastEngine, GradientCheck
from mlpkit.losses import BinaryCrossEntropy, CrossEntropy, SquaredError
from mlpkit.training.data import check_data
from mlpkit.training.engines import PlainEngine, make_engine

needs_numba = pytest.mark.skipif(not kernels.available(),
                                 reason="numba is not installed (optional 'fast' extra)")

HIDDEN = ["identity", "sigmoid", "tanh", "relu"]
#: (output activation, loss) pairs the fast engine supports
OUTPUTS = [
    ("identity", SquaredError()),
    ("sigmoid", SquaredError()),
    ("tanh", SquaredError(half=False, reduction="sum")),
    ("relu", SquaredError(half=False)),
    ("softmax", CrossEntropy()),
    ("softmax", CrossEntropy(reduction="sum")),
]
#: name -> (make optimiser, whether the fast engine's update is bit for bit the plain one)
OPTIMIZERS = {
    "sgd": (lambda: SGD(0.05), True),
    "momentum": (lambda: SGD(0.05, momentum=0.5), True),
    "nesterov": (lambda: SGD(0.05, momentum=0.9, nesterov=True), True),
    "weight_decay": (lambda: SGD(0.05, momentum=0.5, weight_decay=0.01, l1=0.001), True),
    "adam": (lambda: Adam(0.01), False),  # bias corrections folded: to float rounding
}


class _EveryBatch(Callback):
    """Overrides on_batch_end: train() steps every batch from Python (the per-batch engines
    these tests compare), not a compiled epoch (mlpkit.training.compiled)."""

    def on_batch_end(self, epoch, batch, loss):
        pass


def _train(engine, make_net, make_optimizer, x, t, loss, **kwargs):
    """Train a new network with ``engine`` batch by batch; its weights, history and every
    training array."""
    net = make_net()
    history = train(net, x, t, loss=loss, optimizer=make_optimizer(), engine=engine,
                    callbacks=[_EveryBatch()], **kwargs)
    state = [(la.a_prev, la.z, la.a, la.last_delta, la.grad_weights, la.grad_biases)
             for la in net.layers]
    return net.get_weights(), history, state


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize(("output", "loss"), OUTPUTS, ids=lambda v: repr(v))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_fast_engine_trains_like_the_plain_core(hidden, output, loss, optimizer, dtype):
    """Bit for bit: every layer's a_prev, z, a, δ, ∂E/∂W, ∂E/∂b after training, the epoch
    accuracies, and the weights for SGD/momentum/Nesterov (the same operations in the same
    order). To float rounding: the loss values (summed in another order; cross-entropy through
    ln Σ e^z per row) and Adam's weights (its bias corrections folded into one step size)."""
    make_optimizer, exact = OPTIMIZERS[optimizer]
    rng = np.random.default_rng(21)
    x = rng.normal(size=(37, 5)).astype(dtype)
    t = rng.integers(0, 3, size=37) if output == "softmax" else rng.random((37, 3)).astype(dtype)

    def make_net():
        return mlp([5, 6, 4, 3], activation=hidden, output_activation=output, seed=4,
                   dtype=dtype)

    assert FastEngine.unsupported(make_net(), loss, make_optimizer()) is None
    runs = [_train(engine, make_net, make_optimizer, x, t, loss, epochs=2, batch_size=10,
                   seed=7) for engine in ("fast", "plain")]
    (w_fast, h_fast, s_fast), (w_plain, h_plain, s_plain) = runs
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(h_fast.loss, h_plain.loss, rtol=rtol)
    for a, b in zip(w_fast, w_plain, strict=True):
        assert a.dtype == dtype
        if exact:
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=100 * rtol, atol=100 * rtol)
    if exact:
        assert h_fast.accuracy == h_plain.accuracy
        for fast, plain in zip(s_fast, s_plain, strict=True):
            for a, b in zip(fast, plain, strict=True):
                assert a.dtype == dtype
                np.testing.assert_array_equal(a, b)


@needs_numba
def test_auto_takes_the_fast_engine_where_it_applies_and_plain_elsewhere():
    fast_net = mlp([4, 3, 2], activation="relu", output_activation="softmax", seed=0)
    assert isinstance(make_engine("auto", fast_net, CrossEntropy(), SGD()), FastEngine)
    assert isinstance(make_engine("plain", fast_net, CrossEntropy(), SGD()), PlainEngine)
    other = mlp([4, 3, 2], activation="leaky_relu", seed=0)
    assert isinstance(make_engine("auto", other, SquaredError(), SGD()), PlainEngine)
    with pytest.raises(ValueError, match=r"engine='fast' cannot train this run \(an activation"):
        make_engine("fast", other, SquaredError(), SGD())


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
def test_fast_engine_is_only_used_for_the_common_case(make):
    network, loss = make()
    assert FastEngine.unsupported(network, loss, SGD()) is not None
    assert isinstance(make_engine("auto", network, loss, SGD()), PlainEngine)


def test_fast_engine_declines_a_subclassed_activation():
    class Scaled(Sigmoid):
        def value(self, z):
            return super().value(2.0 * z)

    net = mlp([4, 3, 2], seed=0)
    net.layers[0].activation = Scaled()
    assert FastEngine.unsupported(net, SquaredError(), SGD()) is not None


@needs_numba
def test_fast_cross_entropy_with_soft_targets_agrees_to_rounding():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(40, 5))
    t = rng.random((40, 3))  # rows summing to 0.1-3: δ^L = a Σ_j t_j − t, not a − t

    def make_net():
        return mlp([5, 6, 3], activation="relu", output_activation="softmax", seed=1,
                   dtype=np.float64)

    (w_fast, h_fast, _), (w_plain, h_plain, _) = [
        _train(engine, make_net, lambda: SGD(0.05, momentum=0.9), x, t,
               CrossEntropy(reduction="sum"), epochs=4, batch_size=8, seed=0)
        for engine in ("fast", "plain")]
    for a, b in zip(w_fast, w_plain, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h_fast.loss, h_plain.loss, rtol=1e-10)


@needs_numba
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 2, 3])  # where the row maximum starts, in between, last
def test_fast_softmax_of_rows_with_nan_or_inf_equals_the_core(bad, where):
    net = mlp([3, 4], activation="softmax", seed=0)
    engine = FastEngine(net, CrossEntropy(), SGD())
    layer = net.layers[0]
    layer.biases[...] = 0.5
    layer.biases[where] = bad
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = Softmax().value(x @ layer.weights + layer.biases)
        engine.forward_loss(x, np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]])
    np.testing.assert_array_equal(layer.a, expected)


@needs_numba
@pytest.mark.parametrize(
    ("x", "make_net", "targets", "loss"),
    [
        (np.array([[1.0, 2.0], [3.0, 3e38]], dtype=np.float32),
         lambda: mlp([2, 3, 2], activation="relu", output_activation="softmax", seed=1),
         np.array([0, 1]), "cross_entropy"),
        (np.array([[1.0, 2.0], [3.0, 1e30]], dtype=np.float32),
         lambda: mlp([2, 3, 1], activation="identity", seed=1),
         np.zeros((2, 1), dtype=np.float32), "squared_error"),
    ],
    ids=["cross_entropy", "squared_error"],
)
def test_fast_engine_diverges_like_the_plain_core(x, make_net, targets, loss):
    outcomes = []
    for engine in ("fast", "plain"):
        net = make_net()
        with pytest.raises(TrainingDivergedError) as info:
            train(net, x, targets, loss=loss, optimizer=SGD(1e30 if loss == "cross_entropy"
                                                             else 0.1),
                  epochs=3, batch_size=None, engine=engine)
        outcomes.append((str(info.value).split(" in epoch")[0], info.value.epoch,
                         info.value.batch, net.get_weights()))
    (msg_fast, *where_fast, w_fast), (msg_plain, *where_plain, w_plain) = outcomes
    assert msg_fast.split(" became")[0] == msg_plain.split(" became")[0]
    assert where_fast == where_plain
    for a, b in zip(w_fast, w_plain, strict=True):
        np.testing.assert_array_equal(a, b)


# -- the compiled optimiser kernels == the plain updates -----------------------------------------


def _flat_params(rng, dtype):
    shapes = [(300, 250), (250,), (7, 3)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(3)]
    return start, grads


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.9, False), (0.9, True)])
def test_compiled_sgd_kernels_equal_the_plain_update_bit_for_bit(dtype, momentum, nesterov):
    start, grads = _flat_params(np.random.default_rng(11), dtype)
    plain_params = [p.copy() for p in start]
    plain = SGD(0.3, momentum=momentum, nesterov=nesterov)
    fast_params = [p.copy() for p in start]
    velocities = [np.zeros_like(p) for p in start]
    cast = np.dtype(dtype).type
    for step_grads in grads:
        plain.step(list(zip(plain_params, step_grads, strict=True)))
        for p, g, v in zip(fast_params, step_grads, velocities, strict=True):
            if momentum:
                kernels.kernel("momentum")(p.reshape(-1), g.reshape(-1), v.reshape(-1),
                                           cast(0.3), cast(momentum), nesterov,
                                           cast(np.finfo(dtype).tiny))
            else:
                kernels.kernel("sgd")(p.reshape(-1), g.reshape(-1), cast(0.3))
    for a, b in zip(fast_params, plain_params, strict=True):
        assert a.dtype == dtype
        np.testing.assert_array_equal(a, b)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_kernel_equals_the_plain_update_to_rounding(dtype):
    start, grads = _flat_params(np.random.default_rng(9), dtype)
    plain_params = [p.copy() for p in start]
    plain = Adam(0.01)
    fast_params = [p.copy() for p in start]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in start]
    for step, step_grads in enumerate(grads, start=1):
        plain.step(list(zip(plain_params, step_grads, strict=True)))
        for p, g, (m, v) in zip(fast_params, step_grads, moments, strict=True):
            assert kernels.adam_update(p, g, m, v, 0.9, 0.999,
                                       0.01 / (1 - 0.9**step) * np.sqrt(1 - 0.999**step),
                                       1e-8 * np.sqrt(1 - 0.999**step))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(fast_params, plain_params, strict=True):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _fading_features(dtype, n=4000, seed=3):
    """Inputs whose first 6 features are non-zero only in the first 40 samples: with data
    order kept, their weights get gradients in the first steps and exactly 0 ever after, so
    the optimiser state for them shrinks geometrically into the subnormal range."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)).astype(dtype)
    x[40:, :6] = 0.0
    return x, rng.integers(0, 3, n)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("optimizer", ["momentum", "nesterov", "adam"])
def test_subnormal_optimiser_states_are_zero_and_the_weights_unchanged(optimizer, dtype):
    """After ~800 steps without a gradient (float32; ~6700 in float64; β₁ = 0.9 or α = 0.9 per
    step) the plain core's
    velocities / first moments are subnormal (each operation on them a slow microcode assist);
    the fast engine stores them as 0. The weights stay the plain core's: bit for bit for
    momentum and Nesterov, to rounding for Adam (as without the flush)."""
    make_optimizer = {"momentum": lambda: SGD(0.05, momentum=0.9),
                      "nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True),
                      "adam": lambda: Adam(0.01)}[optimizer]
    x, t = _fading_features(dtype, n=4000 if dtype == np.float32 else 30000)
    results = []
    for engine in ("fast", "plain"):
        net = mlp([10, 4, 3], activation="relu", output_activation="softmax", seed=1,
                  dtype=dtype)
        opt = make_optimizer()
        train(net, x, t, loss="cross_entropy", optimizer=opt, epochs=1, batch_size=4,
              shuffle=False, engine=engine, callbacks=[_EveryBatch()])
        state = opt.first_moments if optimizer == "adam" else opt.velocities
        first = state[0][:6]  # the first layer's weights from the fading features
        tiny = np.finfo(dtype).tiny
        results.append((net.get_weights(), np.count_nonzero((first != 0) & (abs(first) < tiny)),
                        np.count_nonzero(first)))
    (w_fast, subnormal_fast, nonzero_fast), (w_plain, subnormal_plain, _) = results
    assert subnormal_plain > 0  # the case this test is about happened
    assert subnormal_fast == 0 and nonzero_fast < subnormal_plain
    for a, b in zip(w_fast, w_plain, strict=True):
        if optimizer == "adam":
            tol = 1e-4 if dtype == np.float32 else 1e-10  # the folded bias corrections
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
        else:
            np.testing.assert_array_equal(a, b)


def test_kernels_decline_arrays_they_cannot_handle():
    p = np.zeros((4, 3), dtype=np.float32)
    g = np.ones((3, 4), dtype=np.float32).T  # not C-contiguous
    assert not kernels.adam_update(p, g, p.copy(), p.copy(), 0.9, 0.999, 1e-3, 1e-8)
    assert not kernels.sgd_update(p, g, 0.5)
    np.testing.assert_array_equal(p, 0.0)


# -- the per-batch gradient check == summing every gradient ----------------------------------


def _check_for(a_prev_scale, delta_fill):
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
        check = GradientCheck(net)
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


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hidden", HIDDEN)
def test_kernel_norms_for_the_gradient_bound_are_the_exact_sums(hidden, dtype):
    """The fused kernels sum ‖a‖² (identity, ReLU, sigmoid) and ‖δ‖² of the hidden layers
    while writing them; GradientCheck uses those instead of BLAS dots: they must be the
    dots' values (to rounding), and unknown (None) where no kernel sums them (tanh's a)."""
    rng = np.random.default_rng(3)
    net = mlp([6, 7, 5, 3], activation=hidden, output_activation="softmax", seed=2,
              dtype=dtype)
    engine = FastEngine(net, CrossEntropy(), Adam())
    x = rng.normal(size=(2, 6)).astype(dtype)  # 2 rows: every layer takes the bound
    engine.forward_loss(x, np.eye(3, dtype=dtype)[rng.integers(0, 3, 2)])
    engine.backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for i, layer in enumerate(net.dense_layers[:-1]):
        if hidden == "tanh":
            assert engine.a_norm2[i] is None
        else:
            assert engine.a_norm2[i] == pytest.approx(float(np.vdot(layer.a, layer.a)), rel=rtol)
        delta = layer.last_delta
        assert engine.delta_norm2[i] == pytest.approx(float(np.vdot(delta, delta)), rel=rtol)
    assert engine.delta_norm2[-1] is None
    assert engine.gradient_sum() == 0.0  # shown finite by the bound
    engine.delta_norm2[1] = np.inf  # a sum that overflowed: the exact test decides
    assert engine.gradient_sum() == GradientCheck(net).total() != 0.0


def test_training_data_with_huge_finite_values_is_accepted():
    # Σ x² overflows float32 here, so the chunked isfinite test decides (and accepts)
    net = mlp([3, 2], output_activation="identity", seed=0)
    x = np.full((5, 3), 1e30, dtype=np.float32)
    _, _, norm2 = check_data(net, SquaredError(), x, np.zeros((5, 2)), "training data")
    assert norm2 == np.inf
    x[2, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN or infinite values"):
        check_data(net, SquaredError(), x, np.zeros((5, 2)), "training data")


def test_prediction_results_are_never_training_buffers():
    net = mlp([3, 5, 2], activation="relu", output_activation="softmax", seed=0)
    x = np.random.default_rng(1).normal(size=(4, 3)).astype(np.float32)
    train(net, x, np.array([0, 1, 0, 1]), loss="cross_entropy", epochs=1, batch_size=2)
    first = net.forward(x)
    second = net.forward(x + 1.0)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, net.forward(x))
