"""mlpkit.sklearn: behaviour, scikit-learn model selection, and a side-by-side with scikit-learn."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlpkit import Callback
from mlpkit.sklearn import MLPClassifier, MLPRegressor

# Most fits here are short on purpose; the tests about the warning use pytest.warns.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(
        n_samples=200, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=150, n_features=5, noise=1.0, random_state=0)
    return StandardScaler().fit_transform(X), y / np.std(y)


def small(estimator_class, **params):
    """A small, fast, seeded estimator; ``params`` override the defaults below."""
    defaults = dict(hidden_layer_sizes=(16,), max_iter=50, random_state=0, learning_rate_init=0.01)
    return estimator_class(**{**defaults, **params})


# -- fitted attributes and predictions ----------------------------------------------------------
def test_fitted_attributes_match_scikit_learn_names(blobs):
    X, y = blobs
    clf = small(MLPClassifier, n_iter_no_change=100).fit(X, y)
    assert list(clf.classes_) == [0, 1, 2]
    assert [c.shape for c in clf.coefs_] == [(6, 16), (16, 3)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (3,)]
    assert (clf.n_layers_, clf.n_outputs_, clf.out_activation_) == (3, 3, "softmax")
    assert clf.n_iter_ == len(clf.loss_curve_) == 50
    assert clf.t_ == 50 * X.shape[0]
    assert clf.loss_ == clf.loss_curve_[-1] and clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.validation_loss_curve_ is None
    assert clf.n_features_in_ == 6
    # network_ is the fitted model as an mlpkit Network, with the same weights and outputs
    np.testing.assert_array_equal(clf.network_.dense_layers[0].weights, clf.coefs_[0])
    np.testing.assert_allclose(clf.network_.forward(X), clf.predict_proba(X), rtol=1e-12)


def test_binary_uses_one_logistic_unit_and_two_probability_columns(blobs):
    X, y = blobs
    clf = small(MLPClassifier).fit(X, np.where(y == 0, "a", "b"))
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    proba = clf.predict_proba(X)
    assert proba.shape == (200, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= {"a", "b"}
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[np.argmax(proba, axis=1)])


def test_multilabel_predicts_indicator_matrix(blobs):
    X, y = blobs
    Y = np.column_stack([y == 0, y == 1, y >= 1]).astype(int)
    clf = small(MLPClassifier, max_iter=200).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.predict(X).shape == (200, 3)
    assert clf.score(X, Y) > 0.8  # exact match of all three labels


def test_same_random_state_gives_same_weights(blobs):
    X, y = blobs
    first, second = small(MLPClassifier).fit(X, y), small(MLPClassifier).fit(X, y)
    for a, b in zip(first.coefs_, second.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_max_iter_reached_warns_like_scikit_learn(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(max_iter=3, random_state=0).fit(X, y)


def test_training_loss_plateau_stops_without_warning(blobs):
    X, y = blobs
    clf = small(MLPClassifier, max_iter=500, tol=1e-2, n_iter_no_change=2).fit(X, y)
    assert clf.n_iter_ < 500


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_gradient_with_alpha_l1_and_sample_weight_matches_finite_differences(
    blobs, activation, weighted
):
    X, y = blobs[0][:30], blobs[1][:30]
    clf = small(MLPClassifier, hidden_layer_sizes=(5,), activation=activation, alpha=0.3,
                l1=0.01, max_iter=2, solver="sgd").fit(X, y)
    w = np.random.default_rng(0).uniform(0.2, 3.0, 30) if weighted else None
    Y = clf._label_binarizer.transform(y).astype(float)
    theta = np.hstack([p.ravel() for p in clf.coefs_ + clf.intercepts_])
    _, grad = clf._loss_grad_lbfgs(theta, X, Y, w)
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = 1e-6
        numeric[i] = (clf._loss_grad_lbfgs(theta + step, X, Y, w)[0]
                      - clf._loss_grad_lbfgs(theta - step, X, Y, w)[0]) / 2e-6
    n_coefs = sum(c.size for c in clf.coefs_)
    l1_part = np.zeros_like(theta)
    l1_part[:n_coefs] = 0.01 * np.sign(theta[:n_coefs])  # the L1 term's (sub)gradient
    np.testing.assert_allclose(grad - l1_part, numeric, atol=1e-7)


# -- validation, early stopping, partial_fit, warm start -----------------------------------------
def test_early_stopping_holds_out_validation_fraction_and_keeps_best(blobs):
    X, y = blobs
    clf = small(MLPClassifier, early_stopping=True, max_iter=300, n_iter_no_change=5).fit(X, y)
    assert clf.n_iter_ < 300
    assert len(clf.validation_scores_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    assert clf.t_ == clf.n_iter_ * 180  # 10 % of 200 samples held out


def test_validation_data_gives_validation_curves(blobs):
    X, y = blobs
    clf = small(MLPClassifier).fit(X[:150], y[:150], validation_data=(X[150:], y[150:]))
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X[150:], y[150:]))
    assert clf.validation_loss_curve_[-1] < clf.validation_loss_curve_[0]


def test_validation_data_must_be_a_pair(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match="validation_data must be a pair"):
        small(MLPClassifier).fit(X, y, validation_data=X)


def test_partial_fit_runs_one_epoch_per_call(blobs):
    X, y = blobs
    clf = small(MLPClassifier)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    # as in scikit-learn: n_iter_ counts the epochs of the last call, loss_curve_ all of them
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 2 and clf.t_ == np.sum(y < 2) + 200
    with pytest.raises(ValueError, match="has classes not in"):
        clf.partial_fit(X, y + 1)


def test_regressor_partial_fit_lowers_the_loss(regression):
    X, y = regression
    reg = small(MLPRegressor)
    for _ in range(20):
        reg.partial_fit(X, y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 20
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_warm_start_continues_training(blobs):
    X, y = blobs
    clf = small(MLPClassifier, warm_start=True, max_iter=5)
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    first_weights = clf.coefs_[0].copy()
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 10 and clf.t_ == 10 * 200
    assert not np.array_equal(first_weights, clf.coefs_[0])


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_sgd_learning_rate_schedules_lower_the_rate(blobs, learning_rate):
    X, y = blobs
    clf = small(
        MLPClassifier,
        solver="sgd",
        learning_rate=learning_rate,
        max_iter=40,
        # scikit-learn's adaptive rate divides by 5 after n_iter_no_change epochs without
        # a gain of tol (its code; its docstring says two)
        n_iter_no_change=2 if learning_rate == "adaptive" else 1000,
        tol=0.05,
    )
    clf.fit(X, y)
    rates = clf.history_.learning_rate
    assert rates[0] == pytest.approx(0.01) and rates[-1] < rates[0]


# -- the lecture's own options -------------------------------------------------------------------
def test_class_weight_shifts_predictions_towards_the_heavy_class(blobs):
    X, y = blobs
    plain = small(MLPClassifier).fit(X, y)
    weighted = small(MLPClassifier, class_weight={0: 50.0, 1: 1.0, 2: 1.0}).fit(X, y)
    assert np.sum(weighted.predict(X) == 0) > np.sum(plain.predict(X) == 0)
    balanced = small(MLPClassifier, class_weight="balanced").fit(X, y)
    assert balanced.score(X, y) > 0.75


def test_class_weight_is_refused_for_multilabel(blobs):
    X, y = blobs
    Y = np.column_stack([y == 0, y == 1]).astype(int)
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        small(MLPClassifier, class_weight="balanced").fit(X, Y)


@pytest.mark.parametrize(
    ("params", "out_activation"),
    [
        (
            {
                "loss": "squared_error",
                "output_activation": "sigmoid",
                "activation": "logistic",
                "init": "uniform",
                "learning_rate_init": 0.05,
            },
            "logistic",
        ),
        ({"dropout": 0.2, "l1": 1e-4, "init": "he"}, "softmax"),
        (
            {"dtype": "float32", "solver": "sgd", "momentum": 0.5, "learning_rate_init": 0.1},
            "softmax",
        ),
    ],
)
def test_lecture_options_train_a_working_classifier(blobs, params, out_activation):
    X, y = blobs
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        max_iter=150,
        random_state=0,
        n_iter_no_change=1000,
        **{"learning_rate_init": 0.01, **params},
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    assert clf.out_activation_ == out_activation
    assert clf.score(X, y) > 0.8
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-5)


def test_float32_network_stays_float32(blobs):
    X, y = blobs
    clf = small(MLPClassifier, dtype="float32").fit(X, y)
    assert clf.coefs_[0].dtype == np.float32 and clf.predict_proba(X).dtype == np.float32


def test_absolute_error_regressor(regression):
    X, y = regression
    reg = small(MLPRegressor, loss="absolute_error", max_iter=200, n_iter_no_change=1000)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    assert reg.out_activation_ == "identity" and reg.score(X, y) > 0.8


def test_regressor_multi_target_and_r2_validation_scores(regression):
    X, y = regression
    Y = np.column_stack([y, -2 * y])
    reg = small(MLPRegressor, max_iter=100).fit(
        X[:120], Y[:120], validation_data=(X[120:], Y[120:])
    )
    assert reg.predict(X).shape == (150, 2) and reg.n_outputs_ == 2
    assert reg.validation_scores_[-1] == pytest.approx(reg.score(X[120:], Y[120:]))


class Recorder(Callback):
    def __init__(self, stop_after=None):
        self.epochs, self.stop_after = [], stop_after

    def on_epoch_end(self, epoch, history):
        self.epochs.append(epoch)
        if self.stop_after is not None and len(self.epochs) >= self.stop_after:
            self.stop_training = True


def test_callbacks_receive_events_and_can_stop_training(blobs):
    X, y = blobs
    recorder = Recorder(stop_after=4)
    clf = small(MLPClassifier, callbacks=[recorder]).fit(X, y)
    assert recorder.epochs == [0, 1, 2, 3] and clf.n_iter_ == 4


def test_verbose_prints_every_epoch_as_scikit_learn(blobs, capsys):
    X, y = blobs
    clf = small(MLPClassifier, verbose=True, max_iter=2).fit(X, y)
    out = capsys.readouterr().out
    assert f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}" in out
    assert f"Iteration 2, loss = {clf.loss_curve_[1]:.8f}" in out


# -- hyper-parameters are validated in fit with scikit-learn's messages --------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"alpha": -1.0},
            r"The 'alpha' parameter of MLPClassifier must be a float in the "
            r"range \[0.0, inf\)\. Got -1.0 instead",
        ),
        ({"solver": "newton"}, r"The 'solver' parameter of MLPClassifier must be a str among"),
        ({"loss": "hinge"}, r"The 'loss' parameter of MLPClassifier must be a str among"),
        (
            {"dropout": 1.0},
            r"The 'dropout' parameter of MLPClassifier must be a float in the "
            r"range \[0.0, 1.0\)",
        ),
        ({"batch_size": 0}, r"The 'batch_size' parameter of MLPClassifier must be"),
        ({"hidden_layer_sizes": (10, 0)}, r"hidden_layer_sizes must be > 0, got \[10, 0\]"),
    ],
)
def test_invalid_hyper_parameters_fail_in_fit(blobs, params, message):
    X, y = blobs
    clf = MLPClassifier(**params)  # the constructor stores, fit validates
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_regressor_refuses_log_loss(regression):
    X, y = regression
    with pytest.raises(ValueError, match="The 'loss' parameter of MLPRegressor"):
        MLPRegressor(loss="log_loss").fit(X, y)


def test_too_small_validation_set_is_reported(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="The validation set is too small"):
        MLPRegressor(early_stopping=True, validation_fraction=0.01).fit(X[:50], y[:50])


def test_large_batch_size_is_clipped_with_a_warning(blobs):
    X, y = blobs
    with pytest.warns(UserWarning, match="It is going to be clipped"):
        small(MLPClassifier, batch_size=1000, max_iter=1, n_iter_no_change=1).fit(X, y)


# -- scikit-learn model selection ----------------------------------------------------------------
def test_pipeline_and_cross_val_score(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), small(MLPClassifier))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.75


def test_grid_search_over_hidden_units(blobs):
    X, y = blobs
    search = GridSearchCV(small(MLPClassifier), {"hidden_layer_sizes": [(2,), (16,)]}, cv=3)
    search.fit(X, y)
    assert search.best_params_ == {"hidden_layer_sizes": (16,)}
    assert search.best_estimator_.coefs_[0].shape == (6, 16)


def test_randomized_search_on_regressor(regression):
    X, y = regression
    search = RandomizedSearchCV(
        small(MLPRegressor),
        {"alpha": [1e-4, 1e-2, 1.0], "learning_rate_init": [0.01, 0.02]},
        n_iter=3,
        cv=3,
        random_state=0,
    )
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 3 and search.best_score_ > 0.8


# -- side by side with scikit-learn ---------------------------------------------------------------
def test_digits_accuracy_within_one_and_a_half_points_of_scikit_learn():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.5, random_state=0, stratify=y
    )
    ours, theirs = [], []
    for seed in range(3):  # the mean over seeds, so one lucky initialisation decides nothing
        settings = dict(hidden_layer_sizes=(64,), solver="adam", max_iter=30, random_state=seed)
        with pytest.warns(ConvergenceWarning):
            ours.append(MLPClassifier(**settings).fit(X_train, y_train).score(X_test, y_test))
        with pytest.warns(ConvergenceWarning):
            theirs.append(
                SklearnMLPClassifier(**settings).fit(X_train, y_train).score(X_test, y_test)
            )
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.015
    assert np.mean(ours) > 0.85
