"""Tests of mlpkit.data.toydata: shapes, seeding, class balance and geometry of the 2-D toy
problems, the logic gates and the TOY_DATASETS registry.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit.data.toydata import (
    TOY_DATASETS,
    circle,
    gaussians,
    logic_gate,
    make_toy_dataset,
    parabola_vs_random,
    spiral,
    xor,
    xor_quadrants,
)

GENERATORS = [circle, xor_quadrants, gaussians, spiral, parabola_vs_random]


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_shape_seed_balance(make):
    X, y = make(n_samples=101, seed=7)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert sorted(np.bincount(y).tolist()) == [50, 51]
    X2, y2 = make(n_samples=101, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=101, seed=8)
    assert not np.array_equal(X, X3)
    Xn, yn = make(n_samples=200, noise=0.3, seed=np.random.default_rng(1))
    assert Xn.shape == (200, 2) and set(yn.tolist()) <= {0, 1}


def test_generators_geometry():
    X, y = circle(400, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert (r[y == 1] < 0.5).all() and ((r[y == 0] >= 0.7) & (r[y == 0] <= 1.0)).all()
    X, y = xor_quadrants(400, seed=0)
    assert ((X[:, 0] * X[:, 1] > 0) == (y == 1)).all() and (np.abs(X) >= 0.06).all()
    X, y = gaussians(400, seed=0)
    assert X[y == 1].mean() > 0.3 and X[y == 0].mean() < -0.3
    X, y = spiral(400, seed=0)
    assert np.abs(X).max() <= 1.0


def test_parabola_vs_random_order():
    X, y = parabola_vs_random(seed=0)
    assert X.shape == (10000, 2) and y[:5000].sum() == 0 and y[5000:].sum() == 5000
    np.testing.assert_allclose(X[y == 1, 1], X[y == 1, 0] ** 2)
    rand = X[y == 0]
    assert (np.abs(rand[:, 0]) <= 1).all() and ((rand[:, 1] >= 0) & (rand[:, 1] <= 1)).all()
    _, yp = parabola_vs_random(100, order="parabola_first", seed=0)
    assert yp[:50].tolist() == [1] * 50 and yp[50:].tolist() == [0] * 50
    _, ys = parabola_vs_random(100, order="shuffled", seed=0)
    assert ys.sum() == 50 and ys[:50].sum() not in (0, 50)
    with pytest.raises(ValueError, match="order must be"):
        parabola_vs_random(10, order="sorted")


def test_parabola_vs_random_lecture_layout():
    X, y = parabola_vs_random(1000, seed=0, x_range=(0, 100), y_range=(0, 10_000))
    np.testing.assert_allclose(X[y == 1, 1], X[y == 1, 0] ** 2)
    assert X[:, 0].min() >= 0 and X[:, 0].max() <= 100 and X[:, 0].max() > 90
    rand = X[y == 0]
    assert rand[:, 1].min() >= 0 and rand[:, 1].max() <= 10_000 and rand[:, 1].max() > 9_000
    with pytest.raises(ValueError, match="x_range must be finite with low < high"):
        parabola_vs_random(10, x_range=(1, 0))
    with pytest.raises(TypeError, match="y_range must be a pair of numbers"):
        parabola_vs_random(10, y_range=5)


def test_logic_gates():
    X, y = xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    tables = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0],
              "nor": [1, 0, 0, 0], "xor": [0, 1, 1, 0], "xnor": [1, 0, 0, 1]}  # fmt: skip
    for name, table in tables.items():
        assert logic_gate(name)[1].tolist() == table
    X, y = logic_gate("and", 10, noise=0.1, seed=0)
    assert X.shape == (10, 2) and y.shape == (10,)
    corners = np.round(X).astype(int)
    assert (y == (corners[:, 0] & corners[:, 1])).all()
    with pytest.raises(ValueError, match="name must be one of"):
        logic_gate("implies")


def test_registry_and_make_toy_dataset():
    for name, make in TOY_DATASETS.items():
        X, y = make(n_samples=40, noise=0.1, seed=0)
        assert X.shape == (40, 2) and y.shape == (40,), name
    assert {"xor", "circle", "xor_quadrants", "gaussians", "spiral",
            "parabola_vs_random"} <= set(TOY_DATASETS)  # fmt: skip
    assert make_toy_dataset("xor")[0].shape == (4, 2)
    assert make_toy_dataset("spiral", 30, seed=1)[0].shape == (30, 2)
    with pytest.raises(ValueError, match="name must be one of"):
        make_toy_dataset("moons")


def test_generator_argument_errors():
    # the shared checks of mlpkit.validation: name, what was expected, what was given
    with pytest.raises(ValueError, match=r"n_samples must be an int >= 2, got 1"):
        circle(1)
    with pytest.raises(TypeError, match=r"n_samples must be an int >= 2, got float 10\.0"):
        spiral(10.0)
    with pytest.raises(ValueError, match=r"noise must be a finite number in \[0\.0, inf\], got -1"):
        gaussians(10, noise=-1)
    with pytest.raises(ValueError, match="noise must be a finite number"):
        circle(10, noise=float("inf"))
    with pytest.raises(TypeError, match="noise must be a number, got str"):
        circle(10, noise="0.1")
    with pytest.raises(TypeError, match=r"seed must be an int, a numpy\.random\.Generator or None"):
        xor_quadrants(10, seed="abc")
    with pytest.raises(ValueError, match="n_samples must be a positive int, got 0"):
        logic_gate("and", 0)
    generator = np.random.default_rng(3)  # a Generator is used as it is
    assert circle(10, seed=generator)[0].shape == (10, 2)
