"""Full-batch L-BFGS for mlpkit networks: mlpkit.training.lbfgs and train(optimizer="lbfgs")."""

import numpy as np
import pytest

pytest.importorskip("scipy")

import mlpkit
from mlpkit.training.lbfgs import train_lbfgs


def _net(seed=0):
    return mlpkit.mlp([2, 8, 2], activation="tanh", output_activation="softmax",
                      init="glorot", seed=seed, dtype=np.float64)


@pytest.fixture
def xor_like():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def test_train_lbfgs_fits_a_network(xor_like):
    X, y = xor_like
    net = _net()
    history = mlpkit.History()
    result = train_lbfgs(net, X, y, "cross_entropy", max_iter=200, weight_decay=1e-4,
                         history=history)
    assert result.n_iter > 10 and (net.predict(X) == y).mean() > 0.95
    assert history.epochs == result.n_iter and history.loss[-1] < history.loss[0]
    assert history.loss[-1] == pytest.approx(result.loss)


def test_weighted_loss_equals_repeated_samples(xor_like):
    X, y = xor_like
    X, y = X[:60], y[:60]
    w = np.where(np.arange(60) % 4 == 0, 3.0, 1.0)
    repeat = np.repeat(np.arange(60), w.astype(int))
    weighted, repeated = _net(), _net()
    a = train_lbfgs(weighted, X, y, "cross_entropy", sample_weight=w, max_iter=30)
    b = train_lbfgs(repeated, X[repeat], y[repeat], "cross_entropy", max_iter=30)
    assert a.loss == pytest.approx(b.loss, rel=1e-6)
    np.testing.assert_allclose(weighted.forward(X), repeated.forward(X), atol=1e-5)
    plain = _net()
    train_lbfgs(plain, X, y, "cross_entropy", max_iter=30)
    assert not np.allclose(plain.forward(X), weighted.forward(X), atol=1e-3)


def test_train_with_optimizer_lbfgs_and_sample_weight(xor_like):
    X, y = xor_like
    net = _net()
    history = mlpkit.train(net, X, y, loss="cross_entropy", optimizer="lbfgs", epochs=50,
                           sample_weight=np.ones(200))
    assert 1 <= history.epochs <= 50 and history.stop_reason in ("converged", "epochs")
    assert (net.predict(X) == y).mean() > 0.9


def test_lbfgs_refuses_what_it_cannot_do(xor_like):
    X, y = xor_like
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(200,\)"):
        train_lbfgs(_net(), X, y, "cross_entropy", sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="sample_weight must be finite, >= 0"):
        train_lbfgs(_net(), X, y, "cross_entropy", sample_weight=-np.ones(200))
    with pytest.raises(ValueError, match="without batch_size, validation_split"):
        mlpkit.train(_net(), X, y, loss="cross_entropy", optimizer="lbfgs", batch_size=8,
                     validation_split=0.2)
