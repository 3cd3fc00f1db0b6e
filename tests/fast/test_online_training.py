"""train(...) with the compiled online / small-batch epoch (mlpkit.training.compiled) against
engine="plain": the same weights and History to float rounding, and the loop's features
(early stopping, divergence, callbacks, checkpoints) through the compiled path. No timings."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import SGD, EarlyStopping, LambdaCallback, mlp, train
from mlpkit.losses import BinaryCrossEntropy, CrossEntropy, SquaredError
from mlpkit.training import compiled
from mlpkit.training.callbacks import Callback
from mlpkit.training.divergence import TrainingDivergedError

pytest.importorskip("numba")
online = pytest.importorskip("mlpkit.fast.online")
if online._kernel() is None:  # MLPKIT_NUMBA=0
    pytest.skip("the compiled kernels are switched off", allow_module_level=True)

# (hidden, output activation, loss, optimiser arguments, biases, target low/high)
CASES = {
    "sigmoid-se-sgd": ("sigmoid", "sigmoid", SquaredError, dict(learning_rate=0.5), True,
                       (0.0, 1.0)),
    "tanh-se-sum-momentum": ("tanh", "identity",
                             lambda: SquaredError(half=False, reduction="sum"),
                             dict(learning_rate=0.01, momentum=0.9), True, (0.0, 1.0)),
    "relu-bce-nesterov": ("relu", "sigmoid", BinaryCrossEntropy,
                          dict(learning_rate=0.05, momentum=0.8, nesterov=True), True,
                          (0.0, 1.0)),
    "sigmoid-ce-decay-l1": ("sigmoid", "softmax", CrossEntropy,
                            dict(learning_rate=0.2, weight_decay=0.01, l1=0.001), True,
                            (0.0, 1.0)),
    "identity-se-tanh-decay-biases": ("identity", "tanh", SquaredError,
                                      dict(learning_rate=0.05, momentum=0.5, weight_decay=0.02,
                                           decay_biases=True), True, (0.0, 1.0)),
    "first-deck-no-biases-0.1-0.9": ("sigmoid", "sigmoid", SquaredError,
                                     dict(learning_rate=0.3), False, (0.1, 0.9)),
}


def data(n=60, n_in=20, n_out=3, low=0.0, high=1.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_in))
    x[x < 0.3] = 0.0  # exact zeros, as MNIST's background
    t = np.full((n, n_out), low)
    t[np.arange(n), rng.integers(0, n_out, n)] = high
    return x, t


@pytest.fixture
def compiled_calls(monkeypatch):
    """How many epochs ran through the compiled path."""
    calls = []
    original = compiled.CompiledEpochs.epoch

    def spy(self, *args, **kwargs):
        calls.append(args[1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(compiled.CompiledEpochs, "epoch", spy)
    return calls



@pytest.fixture(autouse=True)
def compiled_up_to_16(monkeypatch):
    """The kernel takes any batch size; training picks it up to MAX_BATCH (a speed choice).
    These tests hold the compiled path to the plain core at batch sizes up to 16."""
    monkeypatch.setattr(online, "MAX_BATCH", 16)


def run_both(case, batch_size, epochs=3, **kwargs):
    hidden, output, make_loss, opt_args, bias, (low, high) = CASES[case]
    x, t = data(low=low, high=high)
    results = []
    for engine in ("auto", "plain"):
        net = mlp([20, 8, 3], activation=hidden, output_activation=output, bias=bias, seed=3,
                  dtype=np.float64)
        history = train(net, x, t, loss=make_loss(), optimizer=SGD(**opt_args), epochs=epochs,
                        batch_size=batch_size, seed=5, engine=engine, **kwargs)
        results.append((net, history))
    return results


def assert_same(results, rtol=1e-9):
    (net_a, hist_a), (net_b, hist_b) = results
    for a, b in zip(net_a.get_weights(), net_b.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        np.testing.assert_allclose(getattr(hist_a, key), getattr(hist_b, key), rtol=rtol)
    assert hist_a.stop_reason == hist_b.stop_reason
    assert hist_a.best_epoch == hist_b.best_epoch


@pytest.mark.parametrize("batch_size", [1, 10])
@pytest.mark.parametrize("case", CASES)
def test_auto_equals_plain(case, batch_size, compiled_calls):
    results = run_both(case, batch_size, validation_split=0.2 if batch_size == 10 else 0.0)
    assert compiled_calls == [0, 1, 2]  # every epoch of "auto" ran compiled
    assert_same(results)


def test_plain_never_runs_compiled(compiled_calls):
    x, t = data()
    train(mlp([20, 8, 3], seed=0), x, t, epochs=1, batch_size=1, engine="plain")
    assert compiled_calls == []


def test_early_stopping_through_the_compiled_path(compiled_calls):
    results = run_both("sigmoid-ce-decay-l1", 1, epochs=30, validation_split=0.3,
                       early_stopping=EarlyStopping(patience=2))
    assert results[0][1].stop_reason == "early_stopping" and len(compiled_calls) < 30
    assert_same(results)


@pytest.mark.parametrize("setting", ["huge-inputs", "float32-huge-rate"])
def test_divergence_through_the_compiled_path(setting, compiled_calls):
    rng = np.random.default_rng(0)
    if setting == "huge-inputs":  # the first batch's loss overflows
        x, t = data()
        x *= 1e150
        sizes, dtype, rate, batch_size = [20, 8, 3], np.float64, 1.0, 1
    else:  # the weights grow for a few epochs until the float32 loss overflows mid-epoch
        x, t = rng.normal(size=(20, 3)), rng.normal(size=(20, 1))
        sizes, dtype, rate, batch_size = [3, 4, 1], np.float32, 1e3, 5
    errors, weights = [], []
    for engine in ("auto", "plain"):
        net = mlp(sizes, activation="relu", output_activation="identity", seed=0, dtype=dtype)
        with pytest.raises(TrainingDivergedError) as info:
            train(net, x, t, optimizer=SGD(rate), epochs=50, batch_size=batch_size, seed=1,
                  engine=engine)
        errors.append(info.value)
        weights.append(net.get_weights())
    assert compiled_calls
    auto, plain = errors
    assert (auto.epoch, auto.batch, auto.quantity) == (plain.epoch, plain.batch, plain.quantity)
    np.testing.assert_allclose(auto.last_finite_loss or 0.0, plain.last_finite_loss or 0.0,
                               rtol=1e-5)
    for a, b in zip(*weights, strict=True):
        assert np.all(np.isfinite(a))
        np.testing.assert_allclose(a, b, rtol=1e-4)


def test_a_callback_with_on_batch_end_is_called_every_batch(compiled_calls):
    x, t = data()
    seen = []
    callback = LambdaCallback(on_batch_end=lambda epoch, batch, loss: seen.append(batch))
    train(mlp([20, 8, 3], seed=0), x, t, epochs=2, batch_size=10, callbacks=[callback])
    assert compiled_calls == [] and seen == list(range(6)) * 2


class Both(Callback):
    def __init__(self):
        self.batches, self.bulk = [], []

    def on_batch_end(self, epoch, batch, loss):
        self.batches.append(batch)

    def on_batches_end(self, epoch, first_batch, n_batches, mean_loss):
        self.bulk.append((epoch, first_batch, n_batches))


def test_on_batches_end_keeps_the_compiled_epoch(compiled_calls):
    x, t = data()
    callback = Both()
    train(mlp([20, 8, 3], seed=0), x, t, epochs=2, batch_size=7, callbacks=[callback])
    assert compiled_calls == [0, 1]
    assert callback.batches == [] and callback.bulk == [(0, 0, 9), (1, 0, 9)]


def test_progress_bar_advances_per_epoch(compiled_calls):
    pytest.importorskip("tqdm")
    import io

    from mlpkit.training.progress import ProgressBar

    bar = ProgressBar(epochs=2, stream=io.StringIO(), disable=False)
    x, t = data()
    train(mlp([20, 8, 3], seed=0), x, t, epochs=2, batch_size=1, callbacks=[bar])
    assert compiled_calls == [0, 1] and bar._count == 60


def test_checkpoint_every_forces_batches_and_resume_mid_epoch_runs_compiled(tmp_path,
                                                                          compiled_calls):
    x, t = data()
    folder = tmp_path / "ckpt"

    def net():
        return mlp([20, 8, 3], activation="tanh", output_activation="softmax", seed=2,
                   dtype=np.float64)

    def fit(network, **kwargs):
        return train(network, x, t, loss="cross_entropy", optimizer=SGD(0.1, momentum=0.9),
                     epochs=3, batch_size=4, seed=9, **kwargs)

    reference = net()
    fit(reference, engine="plain")
    assert compiled_calls == []
    stopper = LambdaCallback(on_batch_end=lambda epoch, batch, loss: setattr(
        stopper, "stop_training", epoch == 1 and batch == 5))
    first = net()
    assert fit(first, checkpoint=folder, callbacks=[stopper]).stop_reason == "interrupted"
    assert compiled_calls == []  # the callback wants every batch
    resumed = net()
    history = fit(resumed, checkpoint=folder, resume=True)  # epoch 1 from batch 6, compiled
    assert compiled_calls == [1, 2] and history.stop_reason == "epochs"
    for a, b in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    other = net()
    fit(other, checkpoint=tmp_path / "every", checkpoint_every=5)
    assert compiled_calls == [1, 2]  # checkpoint_every: per batch


def test_stopped_at_an_epoch_end_and_resumed_equals_uninterrupted_bit_for_bit(tmp_path,
                                                                             compiled_calls):
    x, t = data()

    def fit(network, **kwargs):
        return train(network, x, t, loss="cross_entropy", optimizer=SGD(0.1, momentum=0.9),
                     epochs=4, batch_size=1, seed=9, **kwargs)

    def net():
        return mlp([20, 8, 3], activation="sigmoid", output_activation="softmax", seed=2)

    reference = net()
    expected = fit(reference)
    stop = LambdaCallback(on_epoch_end=lambda epoch, history: setattr(
        stop, "stop_training", epoch == 1))
    assert fit(net(), checkpoint=tmp_path, callbacks=[stop]).stop_reason == "interrupted"
    resumed = net()
    history = fit(resumed, checkpoint=tmp_path, resume=True)
    assert compiled_calls == [0, 1, 2, 3, 0, 1, 2, 3]
    assert history.loss == expected.loss and history.accuracy == expected.accuracy
    for a, b in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_data_order_sum_reduction_and_integer_labels(compiled_calls):
    x, _ = data()
    labels = np.random.default_rng(4).integers(0, 3, 60)
    nets = []
    for engine in ("auto", "plain"):
        net = mlp([20, 8, 3], activation="tanh", output_activation="softmax", seed=1,
                  dtype=np.float64)
        history = train(net, x, labels, loss=CrossEntropy(reduction="sum"),
                        optimizer=SGD(0.01), epochs=2, batch_size=16, shuffle=False,
                        engine=engine)
        nets.append((net, history))
    assert compiled_calls == [0, 1]  # 60 = 3·16 + 12: the last batch is smaller
    assert_same(nets)


def test_batches_over_six_run_compiled_on_data_that_is_mostly_zero(monkeypatch, compiled_calls):
    # online.pays: up to MAX_BATCH always, up to MAX_SPARSE_BATCH where at most SPARSE of the
    # inputs are not 0 (MNIST-like), else the per-batch path (BLAS products win there)
    monkeypatch.setattr(online, "MAX_BATCH", 6)
    rng = np.random.default_rng(0)
    dense = rng.random((200, 12)) + 0.1
    sparse = np.where(rng.random((200, 12)) < 0.8, 0.0, dense)
    assert online.pays(6, dense) and not online.pays(7, dense) and not online.pays(16, dense)
    assert online.pays(16, sparse) and not online.pays(17, sparse)
    t = np.eye(3)[rng.integers(0, 3, 200)]
    for x, runs_compiled in ((dense, False), (sparse, True)):
        compiled_calls.clear()
        net = mlp([12, 5, 3], seed=0)
        train(net, x, t, optimizer=SGD(0.1), epochs=2, batch_size=10, seed=0)
        assert compiled_calls == ([0, 1] if runs_compiled else [])
