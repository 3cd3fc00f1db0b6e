"""The training loop: batch modes, shuffling, reproducibility, stopping rules, History,
callbacks, divergence and input validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import SGD, Callback, EarlyStopping, History, TrainingDivergedError, train


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_step(params, X, T, learning_rate):
    """One gradient-descent step on a sigmoid 1-hidden-layer network, E = mean ½|o − t|²,
    written from the backprop equations independently of mlpkit."""
    W1, b1, W2, b2 = params
    h = sigmoid(X @ W1 + b1)
    o = sigmoid(h @ W2 + b2)
    delta2 = (o - T) * o * (1 - o) / X.shape[0]  # output error δ² = ∂E/∂z²
    delta1 = (delta2 @ W2.T) * h * (1 - h)  # error propagation δ¹ = (δ² W²ᵀ) ⊙ σ'(z¹)
    grads = (X.T @ delta1, delta1.sum(axis=0), h.T @ delta2, delta2.sum(axis=0))
    return [p - learning_rate * g for p, g in zip(params, grads, strict=True)]


@pytest.fixture
def problem(rng):
    """A 3-4-2 float64 sigmoid network with non-zero biases and 5 samples."""
    net = mk.mlp([3, 4, 2], init="normal", seed=1, dtype=np.float64)
    for layer in net.dense_layers:
        layer.biases = rng.normal(0.0, 0.5, layer.n_outputs)
    X, T = rng.normal(size=(5, 3)), rng.uniform(size=(5, 2))
    return net, X, T


def assert_weights_equal(actual, expected, rtol=1e-12):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=1e-15)


# -- batch modes -------------------------------------------------------------------------------


def test_full_batch_is_one_step_with_the_mean_gradient(problem):
    net, X, T = problem
    expected = hand_step(net.get_weights(), X, T, 0.5)
    history = train(net, X, T, optimizer=SGD(0.5), epochs=1, batch_size=None)
    assert_weights_equal(net.get_weights(), expected)
    assert history.epochs == 1


def test_online_without_shuffling_is_a_sequence_of_per_sample_steps(problem):
    net, X, T = problem
    expected = net.get_weights()
    for _ in range(2):  # two epochs
        for i in range(X.shape[0]):
            expected = hand_step(expected, X[i : i + 1], T[i : i + 1], 0.5)
    train(net, X, T, optimizer=SGD(0.5), epochs=2, batch_size=1, shuffle=False)
    assert_weights_equal(net.get_weights(), expected)


def test_mini_batches_without_shuffling_last_batch_smaller(problem):
    net, X, T = problem
    expected = net.get_weights()
    for start, stop in [(0, 2), (2, 4), (4, 5)]:  # 5 samples in batches of 2, 2, 1
        expected = hand_step(expected, X[start:stop], T[start:stop], 0.5)
    train(net, X, T, optimizer=SGD(0.5), epochs=1, batch_size=2, shuffle=False)
    assert_weights_equal(net.get_weights(), expected)


def test_batch_size_larger_than_the_data_is_full_batch(problem):
    net, X, T = problem
    expected = hand_step(net.get_weights(), X, T, 0.5)
    train(net, X, T, optimizer=SGD(0.5), epochs=1, batch_size=100)
    assert_weights_equal(net.get_weights(), expected)


def test_shuffled_online_epoch_visits_every_sample_once(problem):
    net, X, T = problem
    X, T = X[:3], T[:3]
    start = net.get_weights()
    outcomes = []
    for order in itertools.permutations(range(3)):
        weights = start
        for i in order:
            weights = hand_step(weights, X[i : i + 1], T[i : i + 1], 0.5)
        outcomes.append(weights)
    train(net, X, T, optimizer=SGD(0.5), epochs=1, batch_size=1, shuffle=True, seed=3)
    result = net.get_weights()
    matches = [
        all(np.allclose(a, e, rtol=1e-12, atol=0) for a, e in zip(result, w, strict=True))
        for w in outcomes
    ]
    assert sum(matches) == 1


def test_same_seed_gives_bit_identical_weights(rng):
    X, T = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)

    def run(seed):
        net = mk.mlp([4, 6, 3], output_activation="softmax", dropout=0.2, seed=0)
        history = train(
            net,
            X,
            T,
            loss="cross_entropy",
            optimizer=mk.Adam(0.01),
            epochs=3,
            batch_size=8,
            seed=seed,
            validation_split=0.25,
        )
        return net.get_weights(), history

    (first, h1), (second, h2), (other, _) = run(5), run(5), run(6)
    assert first[0].dtype == np.float32
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert h1.loss == h2.loss and h1.val_loss == h2.val_loss
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_optimizer_state_carries_over_between_calls(problem):
    net, X, T = problem
    twin = mk.mlp([3, 4, 2], seed=0, dtype=np.float64)
    twin.set_weights(net.get_weights())
    optimizer = SGD(0.3, momentum=0.9)
    train(net, X, T, optimizer=optimizer, epochs=1, batch_size=2, shuffle=False)
    history = train(net, X, T, optimizer=optimizer, epochs=1, batch_size=2, shuffle=False)
    train(twin, X, T, optimizer=SGD(0.3, momentum=0.9), epochs=2, batch_size=2, shuffle=False)
    assert_weights_equal(net.get_weights(), twin.get_weights())
    assert history.epochs == 1


def test_continuing_a_history_appends_epochs(problem):
    net, X, T = problem
    history = train(net, X, T, epochs=2)
    same = train(net, X, T, epochs=3, history=history)
    assert same is history
    assert history.epochs == 5 and len(history.learning_rate) == 5


# -- History -----------------------------------------------------------------------------------


def test_history_fields(problem, rng):
    net, X, T = problem
    X_val, T_val = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    history = train(net, X, T, optimizer=SGD(0.2), epochs=3, validation_data=(X_val, T_val))
    assert isinstance(history, History)
    assert history.epochs == 3
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds"):
        values = getattr(history, key)
        assert len(values) == 3 and all(isinstance(v, float) for v in values), key
    assert history.learning_rate == [0.2, 0.2, 0.2]
    assert all(s >= 0.0 for s in history.seconds)
    assert all(0.0 <= a <= 1.0 for a in history.accuracy + history.val_accuracy)
    assert history.stop_reason == "epochs" and history.best_epoch is None
    # the recorded validation loss is the loss of the final network on the validation data
    final = mk.SquaredError().value(net.forward(X_val), T_val)
    assert history.val_loss[-1] == pytest.approx(final, rel=1e-12)
    assert history.last("loss") == history.loss[-1]
    assert History.from_dict(history.as_dict()) == history


def test_history_without_validation_or_classes_holds_nan(rng):
    net = mk.mlp([2, 3, 1], output_activation="identity", seed=0)
    history = train(net, rng.normal(size=(6, 2)), rng.normal(size=6), epochs=2)
    assert np.all(np.isnan(history.val_loss)) and np.all(np.isnan(history.val_accuracy))
    assert np.all(np.isnan(history.accuracy))  # regression: accuracy does not apply
    assert history.as_dict()["val_loss"] == [None, None]


def test_epoch_loss_is_the_mean_of_the_batch_losses(problem):
    net, X, T = problem
    losses = []
    callback = mk.LambdaCallback(on_batch_end=lambda epoch, batch, loss: losses.append(loss))
    history = train(net, X, T, epochs=1, batch_size=2, shuffle=False, callbacks=[callback])
    # batches of 2, 2 and 1 samples: weight each batch mean by its size
    assert history.loss[0] == pytest.approx((2 * losses[0] + 2 * losses[1] + losses[2]) / 5)


# -- stopping ----------------------------------------------------------------------------------


class Recorder(Callback):
    """Records every event, and the weights at the end of every epoch."""

    def __init__(self):
        self.events = []
        self.weights = []

    def on_train_begin(self, network, history, n_batches):
        self.network = network
        self.events.append(("train_begin", n_batches))

    def on_epoch_begin(self, epoch):
        self.events.append(("epoch_begin", epoch))

    def on_batch_end(self, epoch, batch, loss):
        self.events.append(("batch_end", epoch, batch))

    def on_epoch_end(self, epoch, history):
        self.events.append(("epoch_end", epoch, history.epochs))
        self.weights.append(self.network.get_weights())

    def on_train_end(self, history):
        self.events.append(("train_end", history.stop_reason))


def rising_validation_problem():
    """Training (full batch, η = 1) pulls the output from 0.5 towards 0.9; the validation
    target is 0.7, so the validation loss falls for 5 epochs and then rises."""
    X = np.ones((4, 1))
    net = mk.mlp([1, 1], seed=0, dtype=np.float64)
    net.dense_layers[0].weights = [[0.0]]
    return net, X, np.full(4, 0.9), (X[:2], np.full(2, 0.7))


@pytest.mark.parametrize("patience", [1, 3])
def test_early_stopping_stops_after_patience_and_restores_best_weights(patience):
    net, X, T, validation = rising_validation_problem()
    recorder = Recorder()
    history = train(
        net,
        X,
        T,
        optimizer=SGD(1.0),
        epochs=200,
        batch_size=None,
        validation_data=validation,
        early_stopping=EarlyStopping(patience=patience),
        callbacks=[recorder],
    )
    best = int(np.argmin(history.val_loss))
    assert best >= 2  # the validation loss did fall first ...
    assert np.all(np.diff(history.val_loss[best:]) > 0)  # ... and then rose
    assert history.stop_reason == "early_stopping"
    assert history.best_epoch == best
    assert history.epochs == best + 1 + patience
    assert_weights_equal(net.get_weights(), recorder.weights[best], rtol=0)
    final = mk.SquaredError().value(net.forward(validation[0]), validation[1].reshape(-1, 1))
    assert final == pytest.approx(history.val_loss[best], rel=1e-12)


def test_early_stopping_without_restoring_keeps_the_last_weights():
    net, X, T, validation = rising_validation_problem()
    recorder = Recorder()
    stopper = EarlyStopping(patience=2, restore_best_weights=False)
    history = train(
        net,
        X,
        T,
        optimizer=SGD(1.0),
        epochs=200,
        batch_size=None,
        validation_data=validation,
        early_stopping=stopper,
        callbacks=[recorder],
    )
    assert history.stop_reason == "early_stopping"
    assert_weights_equal(net.get_weights(), recorder.weights[-1], rtol=0)


def test_early_stopping_on_training_loss_and_int_patience():
    net, X, T, _ = rising_validation_problem()
    # Without validation data "auto" watches the training loss, which keeps falling here.
    history = train(net, X, T, optimizer=SGD(1.0), epochs=15, batch_size=None, early_stopping=3)
    assert history.stop_reason == "epochs" and history.best_epoch == 14


def test_loss_goal_stops_training():
    net, X, T, _ = rising_validation_problem()
    history = train(net, X, T, optimizer=SGD(1.0), epochs=500, batch_size=None, loss_goal=0.01)
    assert history.stop_reason == "loss_goal"
    assert history.loss[-1] <= 0.01 < min(history.loss[:-1])
    assert history.epochs < 500


def test_callbacks_receive_events_in_order(problem):
    net, X, T = problem
    recorder = Recorder()
    train(net, X, T, epochs=2, batch_size=2, callbacks=[recorder], seed=0)
    expected = [("train_begin", 3)]
    for epoch in range(2):
        expected.append(("epoch_begin", epoch))
        expected += [("batch_end", epoch, batch) for batch in range(3)]
        expected.append(("epoch_end", epoch, epoch + 1))  # the history already has its row
    expected.append(("train_end", "epochs"))
    assert recorder.events == expected


def test_stop_training_stops_after_the_current_batch(problem):
    net, X, T = problem

    class StopAt(Recorder):
        def on_batch_end(self, epoch, batch, loss):
            super().on_batch_end(epoch, batch, loss)
            if (epoch, batch) == (1, 0):
                self.stop_training = True

    callback = StopAt()
    history = train(
        net, X, T, optimizer=SGD(0.5), epochs=5, batch_size=2, shuffle=False, callbacks=[callback]
    )
    assert history.stop_reason == "interrupted"
    assert history.epochs == 1  # the interrupted epoch has no row
    assert callback.events[-2:] == [("batch_end", 1, 0), ("train_end", "interrupted")]
    # the first batch of epoch 1 was applied, and nothing after it
    expected = hand_step(callback.weights[0], X[:2], T[:2], 0.5)
    assert_weights_equal(net.get_weights(), expected)
    # a new call starts afresh
    assert train(net, X, T, epochs=1, callbacks=[callback]).stop_reason == "epochs"


# -- divergence --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("learning_rate", [1e3, 1e10, 1e30])
@pytest.mark.parametrize("hidden", [4, 8])
def test_huge_learning_rate_raises_training_diverged(hidden, learning_rate, dtype):
    # Overflow on the way to inf/NaN must surface as TrainingDivergedError, not as a NumPy
    # RuntimeWarning (which the test configuration turns into an error).
    rng = np.random.default_rng(0)
    net = mk.mlp([3, hidden, 1], output_activation="identity", seed=0, dtype=dtype)
    X, T = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
    history = History()
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+, batch \d+") as info:
        train(
            net,
            X,
            T,
            optimizer=SGD(learning_rate),
            epochs=50,
            batch_size=5,
            seed=0,
            history=history,
        )
    assert isinstance(info.value, FloatingPointError)
    assert info.value.epoch >= 0 and 0 <= info.value.batch < 4
    assert f"epoch {info.value.epoch + 1}, batch {info.value.batch + 1}" in str(info.value)
    assert "learning rate" in str(info.value)
    assert history.stop_reason == "diverged"
    assert all(np.all(np.isfinite(w)) for w in net.get_weights())


def test_loss_overflowing_in_the_batch_sum_raises_training_diverged():
    # Each sample's ½(a − t)² = ½·1e308 is finite; their sum over the batch of 4 is not.
    net = mk.Network([mk.Dense(1, 1, "identity", dtype=np.float64)])
    net.dense_layers[0].weights = [[1e154]]
    with pytest.raises(TrainingDivergedError, match=r"epoch 1, batch 1 \(last finite loss: none"):
        train(net, np.ones((4, 1)), np.zeros(4), optimizer=SGD(1e-3), epochs=1, batch_size=4)
    assert net.dense_layers[0].weights[0, 0] == 1e154


# -- the core never prints ---------------------------------------------------------------------


def test_core_never_prints(capsys, problem):
    net, X, T = problem
    train(
        net, X, T, epochs=3, validation_split=0.4, early_stopping=EarlyStopping(patience=1), seed=0
    )
    net.predict(X)
    mk.check_gradients(net, X, T)
    with pytest.raises(TrainingDivergedError):
        big = mk.mlp([3, 8, 2], output_activation="identity", init="normal", seed=0)
        train(big, X * 100, T, optimizer=SGD(1e6), epochs=20, batch_size=1, seed=0)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# -- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(epochs=-1), ValueError, r"epochs must be an int >= 0, got -1"),
        (dict(epochs=2.5), TypeError, r"epochs must be an int >= 0, got float 2.5"),
        (dict(batch_size=0), ValueError, r"batch_size must be a positive int or None.*got 0"),
        (dict(batch_size=True), TypeError, r"batch_size must be .*got bool True"),
        (dict(engine="numba"), ValueError, r"engine must be one of \('auto', 'fast', 'plain'\), "
         r"got 'numba'"),
        (
            dict(validation_split=1.0),
            ValueError,
            r"validation_split .*\[0.0, 1.0\), got 1.0",
        ),
        (dict(validation_split=0.01), ValueError, r"validation_split=0.01 leaves 0 validation"),
        (dict(loss_goal=float("nan")), ValueError, r"loss_goal must be a finite number"),
        (dict(early_stopping="yes"), TypeError, r"early_stopping must be .*got str"),
        (
            dict(early_stopping=EarlyStopping(monitor="val_loss")),
            ValueError,
            r"'val_loss' needs validation_data",
        ),
        (dict(validation_data=(np.ones((2, 3)),)), TypeError, r"validation_data must be a pair"),
        (dict(loss="hinge"), ValueError, r"loss must be one of .*got 'hinge'"),
        (dict(optimizer="rmsprop"), ValueError, r"optimizer must be one of .*got 'rmsprop'"),
        (dict(schedule="cosine"), ValueError, r"schedule must be one of .*got 'cosine'"),
    ],
)
def test_bad_arguments_are_rejected(problem, kwargs, error, match):
    net, X, T = problem
    with pytest.raises(error, match=match):
        train(net, X, T, **kwargs)


@pytest.mark.parametrize(
    ("X", "T", "match"),
    [
        (
            np.ones((5, 4)),
            np.ones((5, 2)),
            r"X must have shape \(n_samples, 3\).*\(5, 4\)",
        ),
        (np.ones((5, 3)), np.ones((4, 2)), r"same number of samples, got 5 and 4"),
        (np.ones((5, 3)), np.ones((5, 3)), r"T must have shape \(n_samples, 2\).*\(5, 3\)"),
        (np.full((5, 3), np.nan), np.ones((5, 2)), r"X contains NaN or infinite values"),
        (np.ones((5, 3)), np.full((5, 2), np.inf), r"T contains NaN or infinite values"),
        (np.ones((0, 3)), np.ones((0, 2)), r"X is empty"),
    ],
)
def test_bad_data_is_rejected(problem, X, T, match):
    net = problem[0]
    with pytest.raises(ValueError, match=match):
        train(net, X, T)


def test_network_must_be_a_network(problem):
    _, X, T = problem
    with pytest.raises(TypeError, match=r"network must be a mlpkit.Network, got list"):
        train([], X, T)


def test_step_units_cannot_be_trained_by_backpropagation():
    net = mk.mlp([2, 2, 1], activation="step", output_activation="sigmoid", seed=0)
    with pytest.raises(TypeError, match=r"perceptron rule"):
        train(net, np.eye(2), np.array([0.0, 1.0]))


# -- schedules inside the loop -----------------------------------------------------------------


def test_schedule_sets_the_learning_rate_of_each_epoch(problem):
    net, X, T = problem
    history = train(
        net, X, T, optimizer=SGD(0.8), epochs=5, schedule=mk.StepDecay(drop=0.5, every=2)
    )
    assert history.learning_rate == [0.8, 0.8, 0.4, 0.4, 0.2]


def test_reduce_on_plateau_watches_the_validation_loss():
    net, X, T, validation = rising_validation_problem()
    schedule = mk.ReduceOnPlateau(factor=0.5, patience=2, min_delta=0.0)
    history = train(
        net,
        X,
        T,
        optimizer=SGD(1.0),
        epochs=30,
        batch_size=None,
        validation_data=validation,
        schedule=schedule,
    )
    best = int(np.argmin(history.val_loss))
    rates = history.learning_rate
    assert rates[: best + 3] == [1.0] * (best + 3)  # constant while the validation loss falls
    assert rates[best + 3] == 0.5  # halved after two epochs without improvement


# -- the plain engine runs the lecture core (issue 11) ----------------------------------------


@pytest.mark.parametrize("zero_derivative", [False, True])
def test_plain_engine_uses_the_core_sigmoid_derivative(monkeypatch, zero_derivative):
    """With engine="plain", a Sigmoid.derivative that returns zeros leaves the first layer of a
    2-3-1 sigmoid network unchanged after training; with the original it changes."""
    if zero_derivative:
        monkeypatch.setattr(mk.Sigmoid, "derivative", lambda self, z, a: np.zeros_like(z))
    net = mk.mlp([2, 3, 1], activation="sigmoid", seed=0)
    before = net.dense_layers[0].weights.copy()
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    train(net, X, np.array([[0.0], [1.0], [1.0], [0.0]]), optimizer=SGD(0.5), epochs=5,
          batch_size=2, seed=0, engine="plain")
    unchanged = np.array_equal(net.dense_layers[0].weights, before)
    assert unchanged == zero_derivative


@pytest.mark.parametrize("engine", ["auto", "fast", "plain"])
def test_every_engine_trains_the_lecture_network(problem, engine):
    from mlpkit.fast import kernels

    if engine == "fast" and not kernels.available():
        pytest.skip("numba is not installed (optional 'fast' extra)")
    net, X, T = problem
    history = train(net, X, T, optimizer=SGD(0.5), epochs=3, batch_size=4, seed=0, engine=engine)
    assert history.epochs == 3 and np.all(np.isfinite(history.loss))
