"""Tests of mlpkit.data.preprocessing: one_hot, train_test_split, Standardizer and standardize."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpkit.data.preprocessing import Standardizer, one_hot, standardize, train_test_split

# --------------------------------------------------------------------------- one_hot


def test_one_hot_basics():
    T = one_hot([2, 0, 1, 2])
    assert T.dtype == np.float32 and T.shape == (4, 3)
    assert T.tolist() == [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_one_hot_lecture_targets_and_options():
    T = one_hot(np.array([1, 0]), n_classes=4, low=0.1, high=0.9, dtype=np.float64)
    assert T.dtype == np.float64
    np.testing.assert_allclose(T, [[0.1, 0.9, 0.1, 0.1], [0.9, 0.1, 0.1, 0.1]])
    assert one_hot(np.array([1.0, 3.0])).argmax(axis=1).tolist() == [1, 3]
    assert one_hot(np.array([True, False])).tolist() == [[0, 1], [1, 0]]
    assert one_hot([], n_classes=3).shape == (0, 3)


@pytest.mark.parametrize(
    ("y", "kwargs", "error", "message"),
    [
        ([0, np.nan], {}, ValueError, "NaN"),
        ([0, -1], {}, ValueError, r"labels >= 0, got -1 at index 1"),
        ([0, 3], {"n_classes": 3}, ValueError, r"< n_classes=3, got 3 at index 1"),
        ([0.5, 1], {}, ValueError, "integer class labels, got 0.5"),
        ([[0, 1]], {}, ValueError, "1-D"),
        (["a", "b"], {}, TypeError, "integer class labels"),
        ([], {}, ValueError, "n_classes must be given"),
        ([0], {"n_classes": 0}, ValueError, "n_classes must be a positive int, got 0"),
        ([0], {"n_classes": 2.0}, TypeError, "n_classes must be a positive int, got float 2.0"),
        ([0], {"n_classes": True}, TypeError, "n_classes must be a positive int, got bool"),
        ([0], {"low": float("nan")}, ValueError, "low must be a finite number"),
        ([0], {"high": float("inf")}, ValueError, "high must be a finite number"),
        ([0], {"high": "1"}, TypeError, "high must be a number, got str '1'"),
    ],
)
def test_one_hot_errors(y, kwargs, error, message):
    with pytest.raises(error, match=message):
        one_hot(y, **kwargs)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=50))
def test_one_hot_property(labels):
    T = one_hot(labels, n_classes=10)
    assert T.sum(axis=1).tolist() == [1.0] * len(labels)
    assert T.argmax(axis=1).tolist() == labels


# --------------------------------------------------------------------------- train_test_split


def test_split_sizes_and_partition():
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, 0.25, seed=0)
    assert X_tr.shape == (75, 2) and X_te.shape == (25, 2) and len(y_tr) == 75
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(100))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay paired
    again = train_test_split(X, y, 0.25, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    assert not np.array_equal(train_test_split(X, y, 0.25, seed=1)[3], y_te)
    assert len(train_test_split(X, y, 10)[1]) == 10


def test_split_stratified_keeps_class_shares():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    X = np.zeros((100, 3))
    _, _, y_tr, y_te = train_test_split(X, y, 0.2, seed=3, stratify=True)
    assert np.bincount(y_te).tolist() == [12, 6, 2]
    assert np.bincount(y_tr).tolist() == [48, 24, 8]
    _, _, _, y_te = train_test_split(X, y, 7, seed=3, stratify=True)
    assert len(y_te) == 7 and set(y_te.tolist()) <= {0, 1, 2}
    # the sets are shuffled, not grouped by class
    orders = [train_test_split(X, y, 0.2, seed=k, stratify=True)[2] for k in range(3)]
    assert not all((np.diff(o) >= 0).all() for o in orders)


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "error", "message"),
    [
        (np.zeros((5, 2)), np.zeros(4), {}, ValueError, "same number of rows, got 5 and 4"),
        (np.zeros((1, 2)), np.zeros(1), {}, ValueError, "at least 2 samples"),
        (np.zeros((5, 2)), np.zeros((5, 1)), {}, ValueError, "y must be 1-D"),
        (np.zeros((5, 2)), np.zeros(5), {"test_size": 1.5}, ValueError, r"in \(0, 1\)"),
        (np.zeros((5, 2)), np.zeros(5), {"test_size": 5}, ValueError, r"in \[1, 4\]"),
        (np.zeros((5, 2)), np.zeros(5), {"test_size": "a"}, TypeError, "test_size must be"),
        (np.zeros((2, 2)), [0, np.nan], {"stratify": True}, ValueError, "NaN"),
    ],
)
def test_split_errors(X, y, kwargs, error, message):
    with pytest.raises(error, match=message):
        train_test_split(X, y, **kwargs)


# --------------------------------------------------------------------------- Standardizer


def test_standardizer_round_trip_and_constant_column():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(5, 3, 200), np.full(200, 7.0), rng.uniform(-1, 1, 200)])
    s = Standardizer()
    Z = s.fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), [1, 0, 1], atol=1e-12)
    assert s.mean_.shape == s.scale_.shape == (3,) and s.scale_[1] == 1.0
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(s.inverse_transform(Z), X)
    np.testing.assert_allclose(s.transform(X[:5]), Z[:5])


def test_standardizer_dtypes_and_persistence():
    X32 = np.arange(12, dtype=np.float32).reshape(4, 3)
    s = Standardizer().fit(X32)
    assert s.transform(X32).dtype == np.float32
    assert s.transform(np.arange(12).reshape(4, 3)).dtype == np.float64
    s2 = Standardizer.from_dict(s.to_dict())
    np.testing.assert_array_equal(s2.transform(X32), s.transform(X32))
    with pytest.raises(ValueError, match="scale > 0"):
        Standardizer.from_dict({"mean": [0.0], "scale": [0.0]})
    with pytest.raises(ValueError, match="'mean' and 'scale'"):
        Standardizer.from_dict({"mean": [0.0]})


def test_standardizer_errors():
    with pytest.raises(ValueError, match="not fitted"):
        Standardizer().transform(np.zeros((2, 2)))
    s = Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"2 features .* got 3"):
        s.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="2-D"):
        s.transform(np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit(np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="at least one sample"):
        Standardizer().fit(np.zeros((0, 2)))
    with pytest.raises(TypeError, match="numeric"):
        Standardizer().fit(np.array([["a"]]))


def test_standardize_helper_uses_training_statistics_only():
    X_train = np.array([[0.0], [2.0]])
    X_test = np.array([[4.0]])
    assert standardize(X_train).tolist() == [[-1.0], [1.0]]
    Z_train, Z_test = standardize(X_train, X_test)
    assert Z_train.tolist() == [[-1.0], [1.0]] and Z_test.tolist() == [[3.0]]


def test_split_seed_follows_the_shared_rule():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10) % 2
    with pytest.raises(TypeError, match=r"seed must be an int, a numpy\.random\.Generator or None"):
        train_test_split(X, y, 0.3, seed=1.5)
    # a Generator is used as it is: two splits drawn in turn from one generator differ, and
    # equal those drawn from a fresh generator with the same seed in the same order
    generator = np.random.default_rng(5)
    first, second = (train_test_split(X, y, 0.3, seed=generator)[3] for _ in range(2))
    fresh = np.random.default_rng(5)
    assert np.array_equal(first, train_test_split(X, y, 0.3, seed=fresh)[3])
    assert np.array_equal(second, train_test_split(X, y, 0.3, seed=fresh)[3])
