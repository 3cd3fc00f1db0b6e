"""``sample_weight`` in :func:`mlpkit.train` for every optimiser: each sample's loss E_k times its
weight w_k, a batch's loss the weighted mean Σ w_k E_k / Σ w_k (scikit-learn's normalisation).

What is checked: all ones is no weights bit for bit; a weight of 2 is a duplicated sample and a
weight of 0 a dropped one (full batch, to float rounding); the weights follow their samples
through shuffling (against a hand-written loop of ``Network.backprop`` with weights) and
``validation_split``; a batch of zero weights takes a zero step; the boundary checks.
The gradients of the weighted loss against finite differences and PyTorch are in tests/core.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit
from mlpkit.training.loop import evaluate

OPTIMIZERS = {
    "sgd": lambda: mlpkit.SGD(0.3),
    "momentum": lambda: mlpkit.SGD(0.2, momentum=0.9, nesterov=True),
    "adam": lambda: mlpkit.Adam(0.02),
}


def data(n: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] - X[:, 2] > 0).astype(np.int64), rng.uniform(0.2, 3.0, n)


def make(dtype=np.float64) -> mlpkit.Network:
    return mlpkit.mlp([3, 5, 2], activation="tanh", output_activation="softmax", seed=2,
                      dtype=dtype)


def same_weights(a: mlpkit.Network, b: mlpkit.Network) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(a.get_weights(), b.get_weights(),
                                                    strict=True))


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("batch_size", [None, 1, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_ones_is_no_weights_bit_for_bit(optimizer, batch_size, dtype):
    X, y, _ = data()
    common = dict(loss="cross_entropy", epochs=3, batch_size=batch_size, seed=4,
                  validation_split=0.25, engine="plain")
    plain, weighted = make(dtype), make(dtype)
    expected = mlpkit.train(plain, X, y, optimizer=OPTIMIZERS[optimizer](), **common)
    got = mlpkit.train(weighted, X, y, optimizer=OPTIMIZERS[optimizer](),
                       sample_weight=np.ones(len(y)), **common)
    assert got.loss == expected.loss and got.val_loss == expected.val_loss
    assert same_weights(plain, weighted)


def test_weighted_runs_take_the_plain_engine():
    """engine="auto" with weights is the plain core's run (the fast engine and the compiled
    epoch have no weights); engine="fast" refuses them."""
    X, y, w = data()
    for batch_size in (2, 16):  # the compiled epoch's range and the per-batch fast engine's
        auto, plain = make(), make()
        for network, engine in ((auto, "auto"), (plain, "plain")):
            mlpkit.train(network, X, y, loss="cross_entropy", optimizer=mlpkit.Adam(0.01),
                         epochs=2, batch_size=batch_size, seed=1, sample_weight=w,
                         engine=engine)
        assert same_weights(auto, plain)
    with pytest.raises(ValueError, match=r"engine='fast' cannot train this run.*sample_weight"):
        mlpkit.train(make(), X, y, loss="cross_entropy", sample_weight=w, engine="fast")


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_weight_two_is_a_duplicated_sample_full_batch(optimizer):
    X, y, _ = data()
    w = np.ones(len(y))
    w[[3, 17, 30]] = 2.0
    repeat = np.repeat(np.arange(len(y)), w.astype(int))
    weighted, duplicated = make(), make()
    a = mlpkit.train(weighted, X, y, loss="cross_entropy", optimizer=OPTIMIZERS[optimizer](),
                     epochs=20, batch_size=None, sample_weight=w)
    b = mlpkit.train(duplicated, X[repeat], y[repeat], loss="cross_entropy",
                     optimizer=OPTIMIZERS[optimizer](), epochs=20, batch_size=None)
    # the same objective and gradients; the sums run over other rows (rounding only)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    for p, q in zip(weighted.get_weights(), duplicated.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
    assert not np.allclose(a.loss, mlpkit.train(
        make(), X, y, loss="cross_entropy", optimizer=OPTIMIZERS[optimizer](), epochs=20,
        batch_size=None).loss, rtol=1e-6)  # the weights did change the training


def test_weight_two_is_a_duplicated_sample_with_summed_sgd_batches():
    """reduction="sum": a batch's loss is Σ w_k E_k, so a weight of 2 counts the sample twice
    in its batch exactly as a second copy in that batch does."""
    X, y, _ = data(n=12)
    w = np.ones(12)
    w[[1, 4, 9]] = 2.0
    loss = mlpkit.CrossEntropy(reduction="sum")
    weighted = make()
    mlpkit.train(weighted, X, y, loss=loss, optimizer=mlpkit.SGD(0.05), epochs=5,
                 batch_size=4, shuffle=False, sample_weight=w)
    duplicated = make()
    optimizer = mlpkit.SGD(0.05)
    for _ in range(5):
        for start in range(0, 12, 4):
            rows = np.repeat(np.arange(start, start + 4), w[start:start + 4].astype(int))
            duplicated.backprop(X[rows], y[rows], loss)
            optimizer.step(duplicated.parameters())
    for p, q in zip(weighted.get_weights(), duplicated.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_zero_weight_drops_the_sample_full_batch(optimizer):
    X, y, _ = data()
    y_noisy = y.copy()
    y_noisy[:8] = 1 - y_noisy[:8]  # wrong labels, but on weight-0 samples
    w = np.ones(len(y))
    w[:8] = 0.0
    weighted, dropped = make(), make()
    a = mlpkit.train(weighted, X, y_noisy, loss="cross_entropy",
                     optimizer=OPTIMIZERS[optimizer](), epochs=15, batch_size=None,
                     sample_weight=w)
    b = mlpkit.train(dropped, X[8:], y[8:], loss="cross_entropy",
                     optimizer=OPTIMIZERS[optimizer](), epochs=15, batch_size=None)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12)
    for p, q in zip(weighted.get_weights(), dropped.get_weights(), strict=True):
        np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_weights_follow_their_samples_through_shuffling(optimizer):
    """train == a loop written with the core: the run's permutation per epoch, each batch's
    rows and their weights into Network.backprop, then Optimizer.step (bit for bit)."""
    X, y, w = data(n=23)
    trained = make()
    history = mlpkit.train(trained, X, y, loss="cross_entropy",
                           optimizer=OPTIMIZERS[optimizer](), epochs=3, batch_size=5, seed=9,
                           sample_weight=w)
    by_hand, opt, rng = make(), OPTIMIZERS[optimizer](), np.random.default_rng(9)
    losses = []
    for _ in range(3):
        order, total = rng.permutation(23), 0.0
        for start in range(0, 23, 5):
            rows = order[start:start + 5]
            total += by_hand.backprop(X[rows], y[rows], "cross_entropy",
                                      sample_weight=w[rows]) * float(w[rows].sum())
            opt.step(by_hand.parameters())
        losses.append(total / float(w.sum()))  # the epoch's weighted mean loss
    assert same_weights(trained, by_hand)
    assert history.loss == losses


def test_validation_split_holds_out_weights_with_their_samples():
    X, y, w = data(n=40)
    network = make()
    history = mlpkit.train(network, X, y, loss="cross_entropy", optimizer=mlpkit.Adam(0.01),
                           epochs=2, batch_size=8, seed=3, validation_split=0.25,
                           sample_weight=w)
    held = np.random.default_rng(3).permutation(40)[:10]  # the split's draw comes first
    loss = mlpkit.get_loss("cross_entropy")
    t = loss.targets(y[held], 2, np.float64)
    expected = loss.value(network.forward(X[held]), t, sample_weight=w[held])
    unweighted = loss.value(network.forward(X[held]), t)
    assert history.val_loss[-1] == pytest.approx(expected, rel=1e-12)
    assert history.val_loss[-1] != pytest.approx(unweighted, rel=1e-6)
    # validation_data may carry its own weights as a third element
    triple = mlpkit.train(make(), X, y, loss="cross_entropy", epochs=1, seed=3,
                          validation_data=(X[held], y[held], w[held]), sample_weight=w)
    pair = mlpkit.train(make(), X, y, loss="cross_entropy", epochs=1, seed=3,
                        validation_data=(X[held], y[held]), sample_weight=w)
    assert triple.val_loss[-1] != pytest.approx(pair.val_loss[-1], rel=1e-6)


def test_evaluate_in_chunks_is_the_weighted_mean():
    X, y, w = data(n=40)
    network, loss = make(), mlpkit.get_loss("cross_entropy")
    t = loss.targets(y, 2, np.float64)
    value, _ = evaluate(network, loss, X, t, batch_size=7, sample_weight=w)
    per_sample = [loss.value(network.forward(X[k:k + 1]), t[k:k + 1]) for k in range(40)]
    assert value == pytest.approx(np.dot(w, per_sample) / w.sum(), rel=1e-12)


def test_a_batch_of_zero_weights_takes_a_zero_step():
    X, y, _ = data(n=8)
    w = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 1.0, 0.5, 3.0])
    network, start = make(), make().get_weights()
    stepped = []

    class Record(mlpkit.Callback):
        def on_batch_end(self, epoch, batch, loss):
            stepped.append((loss, network.get_weights()))

    mlpkit.train(network, X, y, loss="cross_entropy", optimizer=mlpkit.SGD(0.5), epochs=1,
                 batch_size=2, shuffle=False, sample_weight=w, callbacks=[Record()])
    assert stepped[0][0] == 0.0
    assert all(np.array_equal(p, q) for p, q in zip(stepped[0][1], start, strict=True))
    assert not np.array_equal(stepped[1][1][0], start[0])


@pytest.mark.parametrize(
    ("sample_weight", "error", "match"),
    [
        (np.ones(3), ValueError, r"sample_weight must have shape \(40,\), one weight per sample"),
        (np.ones((40, 1)), ValueError, r"sample_weight must have shape \(40,\)"),
        (np.r_[np.ones(39), -1.0], ValueError, r"sample_weight must be finite, >= 0.*-1\.0 at "
                                               r"index 39"),
        (np.r_[np.nan, np.ones(39)], ValueError, r"sample_weight must be finite.*nan at index 0"),
        (np.r_[np.inf, np.ones(39)], ValueError, r"sample_weight must be finite.*inf"),
        (np.zeros(40), ValueError, r"sample_weight must be .*not all 0, got all 0"),
        (np.full(40, 1e308), ValueError, r"sample_weight must have a finite sum"),
        (["a"] * 40, TypeError, r"sample_weight must be an array of numbers"),
    ],
    ids=["short", "2-d", "negative", "nan", "inf", "all-zero", "overflowing-sum", "strings"],
)
def test_bad_sample_weight_is_refused_at_the_boundary(sample_weight, error, match):
    X, y, _ = data()
    for optimizer in ("sgd", "adam", "lbfgs"):
        with pytest.raises(error, match=match):
            mlpkit.train(make(), X, y, loss="cross_entropy", optimizer=optimizer,
                         sample_weight=sample_weight)


def test_a_split_that_leaves_only_zero_weights_is_refused():
    X, y, _ = data(n=40)
    held = np.random.default_rng(3).permutation(40)[:10]
    w = np.ones(40)
    w[held] = 0.0
    with pytest.raises(ValueError, match="every sample of the validation part"):
        mlpkit.train(make(), X, y, loss="cross_entropy", seed=3, validation_split=0.25,
                     sample_weight=w)
    with pytest.raises(ValueError, match="validation_data's sample_weight must be finite"):
        mlpkit.train(make(), X, y, loss="cross_entropy", sample_weight=np.ones(40),
                     validation_data=(X[:5], y[:5], np.zeros(5)))
