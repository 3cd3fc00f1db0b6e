"""Fixtures shared by the whole test suite: a seeded generator and the dataset folder."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so every test draws the same numbers every run."""
    return np.random.default_rng(20240611)


@pytest.fixture
def data_dir() -> Path:
    """The folder named by ``MLPKIT_DATA`` (holding ``mnist/``, ``fashion-mnist/``).

    Tests that use it are skipped when the variable is unset or names no directory, so the
    suite never needs the network.
    """
    value = os.environ.get("MLPKIT_DATA", "")
    if not value:
        pytest.skip("MLPKIT_DATA is not set (folder with mnist/ and fashion-mnist/)")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"MLPKIT_DATA={value!r} is not a directory")
    return path


@pytest.fixture
def blobs(rng) -> tuple[np.ndarray, np.ndarray]:
    """40 samples of 4 normal features (n_samples, n_features) and labels: 1 where x0 > 0."""
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    return X, y
