"""The scikit-learn estimators' side of the reliability cases of docs/reliability.md
(``MLPClassifier`` / ``MLPRegressor``); skipped cleanly without scikit-learn. The core's
side of the same cases is in ``test_reliability.py``, under the same test names."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from mlpkit.training.loop import TrainingDivergedError
from mlpkit.validation import InvalidInputError

sklearn = pytest.importorskip("sklearn")
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError  # noqa: E402

from mlpkit.sklearn import MLPClassifier, MLPRegressor  # noqa: E402


def clf(**params) -> MLPClassifier:
    return MLPClassifier(hidden_layer_sizes=(5,), max_iter=20, random_state=0, **params)


def quiet_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_c01_nan_inf_in_x(blobs, bad):
    X, y = blobs
    Xbad = X.copy()
    Xbad[3, 1] = bad
    with pytest.raises(ValueError, match=r"NaN|inf"):
        clf().fit(Xbad, y)
    fitted = quiet_fit(clf(), X, y)
    for method in (fitted.predict, fitted.predict_proba):
        with pytest.raises(ValueError, match=r"NaN|inf"):
            method(Xbad)


def test_c02_nan_in_y_and_continuous_y(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"NaN|inf"):
        MLPRegressor(max_iter=5).fit(X, np.where(y == 1, np.nan, 0.0))
    with pytest.raises(ValueError, match=r"Unknown label type|continuous"):
        clf().fit(X, X[:, 0])


def test_c03_wrong_shapes(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"Expected 2D array"):
        clf().fit(X[:, 0], y)
    with pytest.raises(ValueError, match=r"Reshape your data"):
        quiet_fit(clf(), X, y).predict(X[0])
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples|samples"):
        clf().fit(X, y[:-1])
    with pytest.warns(DataConversionWarning):
        quiet_fit(clf(), X, y.reshape(-1, 1))


def test_c04_empty_data():
    with pytest.raises(ValueError, match=r"0 sample\(s\)"):
        clf().fit(np.empty((0, 4)), np.empty(0))
    with pytest.raises(ValueError, match=r"0 feature\(s\)"):
        clf().fit(np.empty((5, 0)), np.zeros(5))


def test_c05_one_sample_one_feature_one_class(rng):
    X = rng.normal(size=(1, 3))
    try:
        quiet_fit(clf(), X, [1])
    except ValueError as error:
        assert "1 sample" in str(error) or "class" in str(error)
    one_class = quiet_fit(clf(), rng.normal(size=(6, 1)), np.full(6, 7))
    assert set(one_class.predict(rng.normal(size=(3, 1)))) == {7}


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([-1, 1]),
        np.array([3, 42]),
        np.array(["a", "b"], dtype=object),
    ],
)
def test_c06_label_types_round_trip(blobs, labels):
    X, y = blobs
    fitted = quiet_fit(clf(), X, labels[y])
    assert list(fitted.classes_) == sorted(labels.tolist())
    predicted = fitted.predict(X)
    assert set(predicted.tolist()) <= set(labels.tolist())
    if labels.dtype != object:
        assert predicted.dtype == labels.dtype
    partial = MLPClassifier(hidden_layer_sizes=(3,)).partial_fit(X, labels[y], classes=labels)
    unseen = labels[y].copy()
    unseen[0] = labels[0] * 3 if labels.dtype.kind in "iu" else "zebra"
    with pytest.raises(ValueError, match=r"previously unseen labels|classes not in"):
        partial.partial_fit(X, unseen)


def test_c07_dtype_variety(blobs, tmp_path):
    pandas = pytest.importorskip("pandas")
    X, y = blobs
    images = (np.abs(X) * 60).astype(np.uint8)
    memmap_path = tmp_path / "X.npy"
    np.save(memmap_path, X)
    readonly = np.load(memmap_path, mmap_mode="r")
    for data in (
        X.astype(np.float32),
        X.astype(np.int32),
        X > 0,
        images,
        X.astype(object),
        pandas.DataFrame(X),
        np.asfortranarray(X),
        readonly,
    ):
        fitted = quiet_fit(
            clf(), data, pandas.Series(y) if isinstance(data, pandas.DataFrame) else y
        )
        assert fitted.predict(data).shape == (40,)
    with pytest.raises(ValueError, match="Complex data not supported"):
        clf().fit(X + 1j, y)
    cells = X.astype(object)
    cells[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match=r"argument must be a string.* or a( real)? number"):
        clf().fit(cells, y)


def test_c08_feature_count_mismatch(blobs):
    X, y = blobs
    fitted = quiet_fit(clf(), X, y)
    assert fitted.n_features_in_ == 4 and not hasattr(clf(), "n_features_in_")
    with pytest.raises(ValueError, match=r"X has 3 features, but MLPClassifier is expecting 4"):
        fitted.predict(X[:, :3])
    partial = MLPClassifier(hidden_layer_sizes=(3,)).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match=r"X has 3 features"):
        partial.partial_fit(X[:, :3], y)


def test_c09_predict_before_fit(blobs):
    with pytest.raises(NotFittedError, match=r"MLPClassifier.*fit"):
        clf().predict(blobs[0])


def test_c10_huge_but_finite_inputs(rng):
    X = np.finfo(np.float64).max * rng.uniform(size=(20, 4))
    y = (X[:, 0] > X[:, 1]).astype(int)
    try:  # either a clear error or a usable model, never a silent NaN model
        assert np.all(np.isfinite(quiet_fit(clf(), X, y).predict_proba(X[:5])))
    except (ValueError, TrainingDivergedError) as error:
        assert re.search(r"non-finite|NaN|nan|inf|large", str(error))


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate_init": -1},
        {"learning_rate_init": np.nan},
        {"batch_size": 0},
        {"max_iter": 0},
        {"alpha": -1.0},
        {"momentum": 2.0},
        {"validation_fraction": 1.5},
        {"hidden_layer_sizes": (0,)},
        {"activation": "os.system"},
        {"solver": "helloworld"},
    ],
)
def test_c11_invalid_values_checked_in_fit_not_init(blobs, params):
    estimator = MLPClassifier(**params)  # no error here
    estimator.set_params(**params)
    with pytest.raises(ValueError, match=r"must be|got"):
        estimator.fit(*blobs)


def test_c12_wrong_types_and_numpy_integers(blobs):
    X, y = blobs
    for params in ({"hidden_layer_sizes": "100"}, {"batch_size": 3.5}, {"random_state": "abc"}):
        with pytest.raises((TypeError, ValueError)):
            MLPClassifier(max_iter=5, **params).fit(X, y)
    quiet_fit(
        MLPClassifier(
            hidden_layer_sizes=(np.int64(3),),
            batch_size=np.int64(8),
            max_iter=np.int64(3),
            random_state=np.int64(0),
        ),
        X,
        y,
    )


def test_c13_resource_exhausting_values(blobs):
    X, y = blobs
    with pytest.raises(InvalidInputError, match="model would need"):
        MLPClassifier(hidden_layer_sizes=(10**9,)).fit(X, y)
    with pytest.warns(UserWarning, match="clipped"):
        quiet_fit(MLPClassifier(hidden_layer_sizes=(3,), batch_size=1000, max_iter=2), X, y)


def test_c14_partial_fit_with_early_stopping(blobs):
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(*blobs, classes=[0, 1])


def test_c15_fit_does_not_mutate_hyper_parameters(blobs):
    sizes = [5, 3]
    estimator = MLPClassifier(hidden_layer_sizes=sizes, max_iter=3)
    before = dict(estimator.get_params())
    quiet_fit(estimator, *blobs)
    assert estimator.get_params() == before and estimator.hidden_layer_sizes is sizes


def test_c20_non_convergence_warns(blobs):
    with pytest.warns(ConvergenceWarning):
        estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=1).fit(*blobs)
    assert estimator.n_iter_ >= 1 and len(estimator.loss_curve_) >= 1


def test_c21_reproducible_refit_and_batch_equals_rows(blobs):
    X, y = blobs
    a = quiet_fit(clf(), X, y).predict_proba(X)
    b = quiet_fit(clf(), X, y).predict_proba(X)
    assert np.array_equal(a, b)
    fitted = quiet_fit(clf(), X, y)
    rows = np.vstack([fitted.predict_proba(X[i : i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(rows, fitted.predict_proba(X), rtol=1e-7, atol=1e-9)
