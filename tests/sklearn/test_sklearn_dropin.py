"""mlpkit.sklearn as a drop-in: the same model as scikit-learn from the same random_state,
sample weights, L-BFGS, the Poisson loss, and estimators saved in mlpkit's model file."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn.neural_network as skl
from sklearn.base import clone
from sklearn.datasets import load_digits, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

import mlpkit
import mlpkit.sklearn as mk
from mlpkit.activations import get_activation
from mlpkit.losses import PoissonLoss, get_loss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _fit_both(kind, X, y, **params):
    ours = getattr(mk, kind)(**params).fit(X, y)
    theirs = getattr(skl, kind)(**params).fit(X, y)
    return ours, theirs


# -- same random_state, same model ----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize(
    "solver", [{"solver": "sgd"}, {"solver": "sgd", "nesterovs_momentum": False},
               {"solver": "adam"}],
    ids=["sgd-nesterov", "sgd", "adam"],
)
def test_same_random_state_gives_scikit_learns_model(digits, kind, solver):
    X, y = digits
    target = y if kind == "MLPClassifier" else (y - y.mean()) / y.std()
    ours, theirs = _fit_both(kind, X, target, hidden_layer_sizes=(32, 16), max_iter=5,
                             random_state=0, **solver)
    assert ours.n_iter_ == theirs.n_iter_ == 5
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    if kind == "MLPClassifier":
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize(
    "params",
    [{"solver": "sgd"}, {"solver": "sgd", "nesterovs_momentum": False, "activation": "tanh"},
     {"solver": "adam"}, {"solver": "adam", "activation": "tanh", "batch_size": 64}],
    ids=["sgd-nesterov-relu", "sgd-tanh", "adam-relu", "adam-tanh-batch-64"],
)
def test_same_random_state_gives_scikit_learns_model_bit_for_bit(digits, kind, weighted,
                                                                  params):
    """float64, relu/tanh: the same operations in the same order give the same bits (the
    logistic activation is mlpkit's, not SciPy's expit: equal to rounding only)."""
    X, y = digits
    target = y if kind == "MLPClassifier" else (y - y.mean()) / y.std()
    w = np.random.default_rng(1).uniform(0.0, 2.0, y.shape[0]) if weighted else None
    settings = {"hidden_layer_sizes": (32, 16), "max_iter": 4, "random_state": 2, **params}
    ours = getattr(mk, kind)(**settings).fit(X, target, sample_weight=w)
    theirs = getattr(skl, kind)(**settings).fit(X, target, sample_weight=w)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.loss_curve_ == theirs.loss_curve_


@pytest.mark.parametrize(
    "params",
    [
        {"solver": "sgd", "early_stopping": True, "learning_rate": "adaptive", "max_iter": 30,
         "n_iter_no_change": 2, "activation": "logistic"},
        {"solver": "sgd", "learning_rate": "invscaling", "learning_rate_init": 0.05,
         "activation": "tanh", "batch_size": 64},
        {"solver": "adam", "early_stopping": True, "max_iter": 40, "n_iter_no_change": 3},
        {"solver": "lbfgs", "max_iter": 30},
    ],
    ids=["adaptive-early-stopping", "invscaling", "adam-early-stopping", "lbfgs"],
)
def test_same_model_with_schedules_early_stopping_lbfgs_and_sample_weight(digits, params):
    X, y = digits
    w = np.random.default_rng(0).uniform(0.5, 2.0, y.shape[0])
    settings = {"hidden_layer_sizes": (16,), "random_state": 3, "max_iter": 10, **params}
    ours = mk.MLPClassifier(**settings).fit(X, y, sample_weight=w)
    theirs = skl.MLPClassifier(**settings).fit(X, y, sample_weight=w)
    assert ours.n_iter_ == theirs.n_iter_
    for a, b in zip(ours.coefs_, theirs.coefs_, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-10)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    if params.get("early_stopping"):
        assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_)
        assert ours.best_validation_score_ == max(ours.validation_scores_)


def test_float32_and_poisson_match_scikit_learn():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(300, 3))
    y = rng.poisson(np.exp(X.sum(axis=1)))
    for solver in ("adam", "lbfgs"):
        ours, theirs = _fit_both("MLPRegressor", X, y, loss="poisson", solver=solver,
                                 hidden_layer_sizes=(8,), max_iter=5, random_state=0)
        assert ours.out_activation_ == "exp"
        assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)
    X32 = X.astype(np.float32)
    ours, theirs = _fit_both("MLPClassifier", X32, y > 3, hidden_layer_sizes=(8,),
                             max_iter=5, random_state=0)
    assert ours.coefs_[0].dtype == np.float32 and ours.predict_proba(X32).dtype == np.float32
    np.testing.assert_allclose(ours.predict_proba(X32), theirs.predict_proba(X32), rtol=1e-5)


@pytest.mark.parametrize("kind", ["sgd", "nesterov", "adam"])
def test_in_place_optimiser_updates_are_scikit_learns_formulas_bit_for_bit(kind):
    from mlpkit.sklearn._engine import AdamOptimizer, SGDOptimizer

    rng = np.random.default_rng(0)
    params = [rng.normal(size=(4, 3)), rng.normal(size=3)]
    copies = [p.copy() for p in params]

    def make(ps):
        if kind == "adam":
            return AdamOptimizer(ps, 0.01)
        return SGDOptimizer(ps, 0.1, momentum=0.9, nesterov=kind == "nesterov")

    in_place, reference = make(params), make(copies)
    for _ in range(3):
        grads = [rng.normal(size=p.shape) for p in params]
        in_place.update_params(params, grads)
        for p, update in zip(copies, reference._get_updates(grads), strict=True):
            p += update
    for a, b in zip(params, copies, strict=True):
        np.testing.assert_array_equal(a, b)


# -- behaviour -----------------------------------------------------------------------------------
def test_integer_sample_weights_equal_repeated_samples_with_lbfgs(digits):
    X, y = digits[0][:200], digits[1][:200]
    w = np.where(np.arange(200) % 3 == 0, 2.0, 1.0)
    repeat = np.repeat(np.arange(200), w.astype(int))
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=15, random_state=0)
    weighted = mk.MLPClassifier(**params).fit(X, y, sample_weight=w)
    repeated = mk.MLPClassifier(**params).fit(X[repeat], y[repeat])
    # the same objective (weighted mean loss + alpha/(2 Σw) ‖W‖²) from the same start
    np.testing.assert_allclose(weighted.loss_, repeated.loss_, rtol=1e-6)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-4)


def test_zero_sample_weight_ignores_the_sample(digits):
    X, y = digits[0][:100], digits[1][:100]
    w = np.ones(100)
    w[:10] = 0.0
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=10, random_state=0)
    a = mk.MLPClassifier(**params).fit(X, y, sample_weight=w)
    noisy = y.copy()
    noisy[:10] = (noisy[:10] + 1) % 10  # wrong labels on the weight-0 samples change nothing
    b = mk.MLPClassifier(**params).fit(X, noisy, sample_weight=w)
    np.testing.assert_allclose(a.coefs_[0], b.coefs_[0], rtol=1e-12)


def test_partial_fit_rejects_labels_outside_classes_and_coefs_assignment_changes_output():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    clf = mk.MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    with pytest.raises(ValueError, match="has classes not in"):
        clf.partial_fit(X, [0, 1, 5], classes=[0, 1, 2])
    clf = mk.MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    clf.partial_fit(X, [0, 1, 2], classes=[0, 1, 2])
    before = clf.predict_proba(X)
    clf.coefs_ = [np.zeros_like(c) for c in clf.coefs_]
    clf.intercepts_ = [np.zeros_like(b) for b in clf.intercepts_]
    np.testing.assert_allclose(clf.predict_proba(X), 1 / 3)
    assert not np.allclose(before, 1 / 3)


def test_divergence_raises_scikit_learns_error():
    X = np.array([[1e300, 1.0], [2e300, -1.0], [3e300, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
            mk.MLPRegressor(max_iter=3).fit(X, [1.0, 2.0, 3.0])


def test_lbfgs_has_no_partial_fit_and_stops_at_max_fun(digits):
    X, y = digits
    assert not hasattr(mk.MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf = mk.MLPClassifier(solver="lbfgs", max_fun=5, random_state=0).fit(X[:300], y[:300])
    assert clf.n_iter_ <= 5


# -- files ---------------------------------------------------------------------------------------
def _round_trip(estimator, X, tmp_path):
    path = tmp_path / "model.mlpk"
    mk.save(estimator, path)
    assert b"pickle" not in path.read_bytes()[:8]
    loaded = mk.load(path)
    assert type(loaded) is type(estimator)
    assert loaded.get_params() == estimator.get_params()
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))
    if hasattr(estimator, "predict_proba"):
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))
    assert loaded.loss_curve_ == estimator.loss_curve_
    return loaded


@pytest.mark.parametrize("labels", ["int", "str", "binary", "multilabel"])
def test_save_load_classifier_predicts_exactly_the_same(digits, tmp_path, labels):
    X, y = digits[0][:200], digits[1][:200]
    if labels == "str":
        y = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])[y]
    elif labels == "binary":
        y = y > 4
    elif labels == "multilabel":
        X, y = make_multilabel_classification(n_samples=80, random_state=0)
    clf = mk.MLPClassifier(hidden_layer_sizes=(8,), max_iter=5, random_state=0,
                           early_stopping=labels == "int").fit(X, y)
    loaded = _round_trip(clf, X, tmp_path)
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    if labels == "int":
        assert loaded.validation_scores_ == clf.validation_scores_
        loaded.set_params(warm_start=True).fit(X, y)  # trains on from the saved weights
        assert len(loaded.validation_scores_) == len(clf.validation_scores_) + loaded.n_iter_


def test_save_load_regressor_float32_poisson_and_pickle(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(100, 3)).astype(np.float32)
    y = rng.poisson(np.exp(X.sum(axis=1)))
    reg = mk.MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=5,
                          random_state=0).fit(X, y)
    loaded = _round_trip(reg, X, tmp_path)
    assert loaded.coefs_[0].dtype == np.float32 and loaded.out_activation_ == "exp"
    loaded.partial_fit(X, y)  # a loaded estimator keeps training
    again = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(again.predict(X), reg.predict(X))
    assert clone(reg).get_params() == reg.get_params()


def test_load_refuses_a_plain_network_file(tmp_path):
    path = tmp_path / "net.mlpk"
    mlpkit.save(mlpkit.mlp([2, 3, 1], seed=0), path)
    with pytest.raises(mlpkit.ModelFileError, match=r"not a saved mlpkit\.sklearn estimator"):
        mk.load(path)


# -- the core: Poisson loss, exp activation ------------------------------------------------------
def test_poisson_loss_is_half_the_poisson_deviance_with_exp_delta():
    a = np.array([[0.5, 2.0], [1.0, 3.0]])
    t = np.array([[0.0, 1.0], [2.0, 3.0]])
    loss = get_loss("poisson")
    assert isinstance(loss, PoissonLoss)
    expected = ((0 - 0 + 0.5) + (np.log(1 / 2) - 1 + 2) + (2 * np.log(2) - 2 + 1) + 0) / 2
    assert loss.value(a, t) == pytest.approx(expected)
    exp = get_activation("exp")
    np.testing.assert_allclose(loss.output_delta(exp, np.log(a), a, t), (a - t) / 2)
    # the general path (∂E/∂a ⊙ σ') agrees with the canonical shortcut
    np.testing.assert_allclose(loss.gradient(a, t) * exp.derivative(np.log(a), a), (a - t) / 2)


@pytest.mark.parametrize("out_activation", ["softmax", "logistic"])
def test_saturated_class_weighted_log_loss_is_finite_as_scikit_learns(out_activation):
    # outputs saturated at exactly 0 and 1, confidently wrong on some rows, with class
    # weights as sample weights: the loss is finite (clipped at eps as scikit-learn's), never +inf
    from sklearn.neural_network._base import binary_log_loss, log_loss

    from mlpkit.sklearn import _engine

    n = 12
    labels = np.arange(n) % 3
    Y = np.eye(3)[labels]
    P = np.eye(3)[(labels + (np.arange(n) < 4)) % 3]  # first 4 rows: all mass on a wrong class
    weights = np.array([0.5, 2.0, 7.0])[labels]
    ours = _engine.loss_value("log_loss", out_activation, Y, P, weights)
    reference = (log_loss if out_activation == "softmax" else binary_log_loss)(Y, P, weights)
    assert np.isfinite(ours) and ours > 1.0
    np.testing.assert_allclose(ours, reference, rtol=1e-12)


# -- the compiled step (mlpkit.sklearn._step) -----------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("MLPClassifier", {"solver": "adam"}),
        ("MLPClassifier", {"solver": "sgd", "activation": "tanh", "alpha": 0.01, "l1": 1e-4}),
        ("MLPClassifier", {"solver": "sgd", "activation": "identity", "shuffle": False,
                           "nesterovs_momentum": False}),
        ("MLPClassifier", {"solver": "adam", "loss": "squared_error", "batch_size": 37}),
        ("MLPClassifier", {"solver": "sgd", "learning_rate": "invscaling", "dtype": "float32"}),
        ("MLPRegressor", {"solver": "adam", "activation": "tanh", "dtype": "float32"}),
        ("MLPRegressor", {"solver": "sgd", "learning_rate": "adaptive", "max_iter": 12}),
    ],
    ids=["adam-relu", "sgd-tanh-alpha-l1", "sgd-identity-unshuffled", "adam-squared-error-37",
         "sgd-invscaling-float32", "regressor-adam-tanh-float32", "regressor-adaptive"],
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
def test_compiled_step_is_the_numpy_step_bit_for_bit(digits, monkeypatch, kind, params,
                                                      weighted):
    """The buffered step with numba's kernels against _engine.backprop and the NumPy
    optimiser passes: the same model, bit for bit, in float64 and float32."""
    from mlpkit.fast import sklearn_kernels
    from mlpkit.sklearn import _base, _step

    if not sklearn_kernels.load():
        pytest.skip("numba is not installed (or MLPKIT_NUMBA=0)")

    X, y = digits
    target = y if kind == "MLPClassifier" else (y - y.mean()) / y.std()
    w = np.random.default_rng(5).uniform(0.0, 2.0, y.shape[0]) if weighted else None
    if w is not None and params.get("dtype") == "float32":
        w = w.astype(np.float32)  # float64 weights: the NumPy step (see the next test)
    settings = {"hidden_layer_sizes": (24, 12), "max_iter": 4, "random_state": 1, **params}
    created = []
    real_create = _step.StochasticStep.create

    def spy(*args):
        created.append(real_create(*args))
        return created[-1]

    monkeypatch.setattr(_base.StochasticStep, "create", spy)
    fast = getattr(mk, kind)(**settings).fit(X, target, sample_weight=w)
    assert created and all(step is not None for step in created)
    monkeypatch.setattr(_base.StochasticStep, "create", lambda *args: None)
    monkeypatch.setattr(sklearn_kernels, "_kernels", {})  # the optimisers' NumPy passes too
    plain = getattr(mk, kind)(**settings).fit(X, target, sample_weight=w)
    for a, b in zip(fast.coefs_ + fast.intercepts_, plain.coefs_ + plain.intercepts_,
                    strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert fast.loss_curve_ == plain.loss_curve_


def test_compiled_step_steps_aside_where_it_does_not_apply(digits):
    from mlpkit.sklearn._step import StochasticStep

    X, y = digits
    Y = np.eye(10)[y]
    fitted = mk.MLPClassifier((8,), max_iter=1).fit(X, y)
    assert (StochasticStep.create(fitted, X, Y, None, 200) is None) == (
        not mlpkit.fast.sklearn_kernels.load())
    for changes in ({"activation": "logistic"}, {"dropout": 0.2}):
        assert StochasticStep.create(clone(fitted).set_params(**changes).fit(X, y), X, Y,
                                     None, 200) is None
    assert StochasticStep.create(fitted, X.astype(np.float32), Y, None, 200) is None
    fitted32 = mk.MLPClassifier((8,), max_iter=1, dtype="float32").fit(X, y)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    assert StochasticStep.create(fitted32, X32, Y32, np.ones(len(y)), 200) is None
    import scipy.sparse as sp

    assert StochasticStep.create(fitted, sp.csr_matrix(X), Y, None, 200) is None
