"""Preparing data for an MLP: one-hot targets, train/test splits and standardised features.

All functions take samples as rows (``X`` of shape (n_samples, n_features)) and class labels
as integer vectors of shape (n_samples,), and validate them at the boundary.
"""

from __future__ import annotations

import numbers
from typing import Any, overload

import numpy as np

from ..validation import as_generator, check_number, check_positive_int

__all__ = ["Standardizer", "one_hot", "standardize", "train_test_split"]


def _labels(y: Any, name: str = "y") -> np.ndarray:
    """Check that ``y`` is a 1-D vector of non-negative integer labels; return it as int64."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D of shape (n_samples,), got shape {y.shape}")
    if y.dtype == bool:
        return y.astype(np.int64)
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        if np.isnan(y).any():
            raise ValueError(f"{name} must not contain NaN, found at index {np.isnan(y).argmax()}")
        bad = y != np.round(y)
        if bad.any() or np.isinf(y).any():
            i = int(np.argmax(bad | np.isinf(y)))
            raise ValueError(f"{name} must hold integer class labels, got {y[i]} at index {i}")
    if len(y) and y.min() < 0:
        i = int(np.argmin(y))
        raise ValueError(f"{name} must hold labels >= 0, got {y[i]} at index {i}")
    return y.astype(np.int64)


def one_hot(
    y: Any,
    n_classes: int | None = None,
    low: float = 0.0,
    high: float = 1.0,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Encode class labels as one-hot target rows.

    Parameters
    ----------
    y : array_like of shape (n_samples,)
        Integer class labels 0 ... n_classes - 1.
    n_classes : int, optional
        Number of classes; by default ``max(y) + 1``.
    low, high : float, default 0.0 and 1.0
        Values for the other classes and the true class. The lecture uses ``low=0.1,
        high=0.9`` with sigmoid outputs, which never reach 0 or 1 exactly.
    dtype : numpy dtype, default float32

    Returns
    -------
    numpy.ndarray
        Shape (n_samples, n_classes): row i is ``low`` everywhere but ``high`` at ``y[i]``.
    """
    labels = _labels(y)
    if n_classes is None:
        if not len(labels):
            raise ValueError("n_classes must be given when y is empty")
        n_classes = int(labels.max()) + 1
    else:
        n_classes = check_positive_int("n_classes", n_classes)
    if len(labels) and labels.max() >= n_classes:
        i = int(np.argmax(labels))
        raise ValueError(
            f"y must hold labels < n_classes={n_classes}, got {labels[i]} at index {i}"
        )
    check_number("low", low)
    check_number("high", high)
    out = np.full((len(labels), int(n_classes)), low, dtype=dtype)
    out[np.arange(len(labels)), labels] = high
    return out


def train_test_split(
    X: Any,
    y: Any,
    test_size: float | int = 0.2,
    *,
    seed: int | np.random.Generator | None = None,
    stratify: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split samples at random into a training and a test set.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
        Samples as rows.
    y : array_like of shape (n_samples,)
        Targets (class labels when ``stratify``).
    test_size : float or int, default 0.2
        Fraction of the samples in (0, 1), or their number in [1, n_samples - 1].
    seed : int or numpy.random.Generator, optional
        Seed of the shuffle, for a reproducible split.
    stratify : bool, default False
        Keep each class's share of the samples the same in both sets (as nearly as the
        counts allow).

    Returns
    -------
    X_train, X_test, y_train, y_test : numpy.ndarray
        Rows of ``X`` and ``y`` in shuffled order.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim != 1:
        raise ValueError(f"X must have rows and y must be 1-D, got shapes {X.shape} and {y.shape}")
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same number of rows, got {n} and {len(y)}")
    if n < 2:
        raise ValueError(f"X must have at least 2 samples to split, got {n}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a float or an int, got {type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        if not 1 <= test_size <= n - 1:
            raise ValueError(f"test_size must be in [1, {n - 1}] as a count, got {test_size}")
        n_test = int(test_size)
    else:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be in (0, 1) as a fraction, got {test_size}")
        n_test = min(max(round(test_size * n), 1), n - 1)
    rng = as_generator(seed)
    if not stratify:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        classes, inverse, counts = np.unique(_labels(y), return_inverse=True, return_counts=True)
        # Largest-remainder apportionment so that the class shares add up to n_test exactly.
        quota = counts * n_test / n
        per_class = np.floor(quota).astype(int)
        extra = np.argsort(-(quota - per_class), kind="stable")[: n_test - per_class.sum()]
        per_class[extra] += 1
        test_parts, train_parts = [], []
        for k in range(len(classes)):
            members = rng.permutation(np.flatnonzero(inverse == k))
            test_parts.append(members[: per_class[k]])
            train_parts.append(members[per_class[k] :])
        test = rng.permutation(np.concatenate(test_parts))
        train = rng.permutation(np.concatenate(train_parts))
    return X[train], X[test], y[train], y[test]


class Standardizer:
    """Shift and scale each feature (column) to mean 0 and standard deviation 1.

    ``fit`` learns ``mean_`` and ``scale_`` (each of shape (n_features,)) from training data;
    ``transform`` applies ``(X - mean_) / scale_`` to any data with the same columns. A
    constant column gets ``scale_ = 1``, so it becomes 0 instead of dividing by zero.
    Float32 input stays float32; other input becomes float64.

    Examples
    --------
    >>> s = Standardizer().fit(X_train)  # doctest: +SKIP
    >>> X_train_s, X_test_s = s.transform(X_train), s.transform(X_test)  # doctest: +SKIP
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    @staticmethod
    def _check(X: Any, n_features: int | None = None) -> np.ndarray:
        X = np.asarray(X)
        if X.dtype != np.float32:
            if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
                raise TypeError(f"X must be numeric, got dtype {X.dtype}")
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D of shape (n_samples, n_features), got {X.shape}")
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(
                f"X must have {n_features} features (columns) as when fitted, got {X.shape[1]}"
            )
        if not np.isfinite(X).all():
            raise ValueError("X must not contain NaN or infinite values")
        return X

    def fit(self, X: Any) -> Standardizer:
        """Learn each column's mean and standard deviation from ``X`` (n_samples, n_features)."""
        X = self._check(X)
        if len(X) == 0:
            raise ValueError("X must have at least one sample to fit, got 0 rows")
        mean = X.mean(axis=0, dtype=np.float64)
        std = X.std(axis=0, dtype=np.float64)
        self.mean_ = mean
        self.scale_ = np.where(std > 1e-12 * np.maximum(np.abs(mean), 1.0), std, 1.0)
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.scale_ is None:
            raise ValueError("this Standardizer is not fitted yet; call fit(X) first")
        return self.mean_, self.scale_

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(X - mean_) / scale_``, of the same shape as ``X``."""
        mean, scale = self._fitted()
        X = self._check(X, len(mean))
        return ((X - mean) / scale).astype(X.dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)``, then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: return ``X * scale_ + mean_``."""
        mean, scale = self._fitted()
        X = self._check(X, len(mean))
        return (X * scale + mean).astype(X.dtype, copy=False)

    def to_dict(self) -> dict[str, list[float]]:
        """The fitted parameters as plain lists (for saving next to a model)."""
        mean, scale = self._fitted()
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> Standardizer:
        """Rebuild a fitted Standardizer from :meth:`to_dict`'s output."""
        try:
            mean = np.asarray(params["mean"], dtype=np.float64)
            scale = np.asarray(params["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"params must have numeric 'mean' and 'scale' lists: {exc}") from exc
        if mean.ndim != 1 or mean.shape != scale.shape or not (scale > 0).all():
            raise ValueError(
                "params must have 'mean' and 'scale' of equal length with scale > 0, got "
                f"shapes {mean.shape} and {scale.shape}"
            )
        new = cls()
        new.mean_, new.scale_ = mean, scale
        return new


@overload
def standardize(X_train: Any, X_test: None = None) -> np.ndarray: ...
@overload
def standardize(X_train: Any, X_test: Any) -> tuple[np.ndarray, np.ndarray]: ...
def standardize(X_train: Any, X_test: Any = None) -> Any:
    """Standardise ``X_train`` with its own column statistics (and ``X_test`` with the same).

    Returns the standardised ``X_train``, or the pair ``(X_train_s, X_test_s)`` when
    ``X_test`` is given. The test set never influences the statistics.
    """
    s = Standardizer().fit(X_train)
    if X_test is None:
        return s.transform(X_train)
    return s.transform(X_train), s.transform(X_test)
