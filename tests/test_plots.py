"""Tests for mlpkit.plots: every figure renders headless, is written as a sensible PNG, and
rejects bad input with a message that names the argument."""

from __future__ import annotations

import struct
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import mlpkit
from mlpkit import plots
from mlpkit.datasets import xor
from mlpkit.training.history import History


def png_size(path) -> tuple[int, int]:
    """(width, height) of a PNG file, after checking its signature and first chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"
    return width, height


@pytest.fixture
def history() -> History:
    h = History()
    for epoch in range(6):
        h.append(loss=1.0 / (epoch + 1), accuracy=0.5 + 0.08 * epoch,
                 val_loss=1.1 / (epoch + 1) + 0.01 * epoch, val_accuracy=0.45 + 0.07 * epoch,
                 learning_rate=0.1, seconds=0.5)
    h.best_epoch = 4
    return h


def test_history_plot_has_loss_and_accuracy_panels(tmp_path, history):
    path = tmp_path / "history.png"
    figure = plots.plot_history(history, path)
    width, height = png_size(path)
    assert 600 <= width <= 2000 and 250 <= height <= 1200
    loss_ax, acc_ax = figure.axes
    assert loss_ax.get_xlabel() == "epoch" and loss_ax.get_ylabel() == "loss"
    assert acc_ax.get_ylabel() == "accuracy (%)"
    labels = [line.get_label() for line in loss_ax.lines]
    assert labels[:2] == ["training", "validation"]
    np.testing.assert_allclose(acc_ax.lines[0].get_ydata(), 100 * np.array(history.accuracy))


def test_history_plot_accepts_the_dict_stored_in_model_files(history):
    figure = plots.plot_history(history.as_dict())
    assert len(figure.axes) == 2


def test_history_plot_without_validation_draws_only_training():
    h = History()
    h.append(loss=0.5, accuracy=float("nan"), val_loss=float("nan"),
             val_accuracy=float("nan"), learning_rate=0.1, seconds=0.1)
    loss_ax, acc_ax = plots.plot_history(h).axes
    assert [line.get_label() for line in loss_ax.lines] == ["training"]
    assert not acc_ax.lines


def test_history_plot_rejects_empty_or_wrong_input():
    with pytest.raises(ValueError, match="history: no epochs recorded"):
        plots.plot_history(History())
    with pytest.raises(TypeError, match="history must be a History"):
        plots.plot_history([0.1, 0.2])


def _tiles(figure, shape):
    """The tiles of plot_weights' mosaic, in unit order (the NaN gaps are dropped)."""
    (image,) = [im for ax in figure.axes for im in ax.images]
    mosaic = np.ma.filled(image.get_array(), np.nan)
    height, width = shape
    tiles = []
    for top in range(0, mosaic.shape[0], height + 1):
        for left in range(0, mosaic.shape[1], width + 1):
            tile = mosaic[top:top + height, left:left + width]
            if not np.all(np.isnan(tile)):
                tiles.append(tile)
    return image, tiles


def test_weights_plot_draws_one_tile_per_unit_centred_at_zero(tmp_path, rng):
    weights = rng.normal(size=(28 * 28, 100))
    weights[0, 0] = 5.0  # the largest magnitude sets the symmetric colour range
    path = tmp_path / "weights.png"
    figure = plots.plot_weights(weights, (28, 28), path)
    image, tiles = _tiles(figure, (28, 28))
    assert len(tiles) == 100
    np.testing.assert_allclose(tiles[0], weights[:, 0].reshape(28, 28))
    np.testing.assert_allclose(tiles[57], weights[:, 57].reshape(28, 28))
    assert image.get_clim() == (-5.0, 5.0)
    assert image.get_cmap().name.startswith("RdBu_r")
    assert any(ax.get_label() == "<colorbar>" for ax in figure.axes)
    assert "100 first-layer units" in figure.get_suptitle()
    width, height = png_size(path)
    assert 500 <= width <= 2500 and 500 <= height <= 2500


def test_weights_plot_takes_a_network_and_non_square_images():
    network = mlpkit.mlp([30 * 32, 4, 2], seed=0)
    figure = plots.plot_weights(network, (30, 32))
    _, tiles = _tiles(figure, (30, 32))
    assert len(tiles) == 4
    np.testing.assert_allclose(tiles[3], network.dense_layers[0].weights[:, 3].reshape(30, 32),
                               rtol=1e-6)


def test_weights_plot_limits_the_tiles_and_validates():
    weights = np.arange(40.0).reshape(4, 10) + 1
    figure = plots.plot_weights(weights, (2, 2), max_tiles=3)
    assert len(_tiles(figure, (2, 2))[1]) == 3
    assert "first 3 of 10" in figure.get_suptitle()
    with pytest.raises(ValueError, match=r"image_shape 3x3 = 9 pixels does not match the 4"):
        plots.plot_weights(weights, (3, 3))
    with pytest.raises(ValueError, match="weights must be 2-D"):
        plots.plot_weights(np.ones(4), (2, 2))
    with pytest.raises(ValueError, match="max_tiles must be a positive int, got 0"):
        plots.plot_weights(weights, (2, 2), max_tiles=0)
    with pytest.raises(TypeError, match=r"max_tiles must be a positive int, got float 3\.0"):
        plots.plot_weights(weights, (2, 2), max_tiles=3.0)


def test_decision_regions_for_two_classes_show_confidence_and_points(tmp_path):
    X, y = xor(n_samples=40, noise=0.1, seed=0)
    network = mlpkit.mlp([2, 4, 1], seed=0)
    path = tmp_path / "regions.png"
    figure = plots.plot_decision_regions(network, X, y, path, resolution=50)
    ax = figure.axes[0]
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    scatter = {c.get_label(): len(c.get_offsets()) for c in ax.collections
               if c.get_label().startswith("class")}
    assert scatter == {"class 0": int(np.sum(y == 0)), "class 1": int(np.sum(y == 1))}
    assert any(ax.get_label() == "<colorbar>" for ax in figure.axes)
    png_size(path)


def test_decision_regions_for_several_classes(rng):
    X = rng.normal(size=(30, 2))
    y = np.arange(30) % 3
    network = mlpkit.mlp([2, 5, 3], output_activation="softmax", seed=0)
    figure = plots.plot_decision_regions(network, X, y, resolution=20,
                                         class_names=["a", "b", "c"])
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["class a", "class b", "class c"]


def test_decision_regions_validate_their_input():
    with pytest.raises(ValueError, match="network must have 2 inputs"):
        plots.plot_decision_regions(mlpkit.mlp([3, 2]), np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\)"):
        plots.plot_decision_regions(mlpkit.mlp([2, 2]), np.zeros((2, 3)), [0, 1])
    with pytest.raises(ValueError, match="same number of samples"):
        plots.plot_decision_regions(mlpkit.mlp([2, 2]), np.zeros((2, 2)), [0, 1, 1])
    with pytest.raises(TypeError, match=r"network must be a mlpkit\.Network"):
        plots.plot_decision_regions("net", np.zeros((2, 2)), [0, 1])
    with pytest.raises(ValueError, match="resolution must be an int >= 2, got 1"):
        plots.plot_decision_regions(mlpkit.mlp([2, 2]), np.zeros((2, 2)), [0, 1], resolution=1)
    with pytest.raises(TypeError, match=r"resolution must be an int >= 2, got float 50\.0"):
        plots.plot_decision_regions(mlpkit.mlp([2, 2]), np.zeros((2, 2)), [0, 1],
                                    resolution=50.0)


def test_confusion_matrix_plot_writes_counts_in_cells(tmp_path):
    matrix = np.array([[50, 2, 0], [3, 40, 7], [0, 1, 60]])
    path = tmp_path / "confusion.png"
    figure = plots.plot_confusion_matrix(matrix, ["cat", "dog", "bird"], path)
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["50", "2", "0"] and len(texts) == 9
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "accuracy 92.02%" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "bird"]
    png_size(path)


def test_confusion_matrix_plot_validates():
    with pytest.raises(ValueError, match="matrix must be square"):
        plots.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="class_names must have 2 entries, got 3"):
        plots.plot_confusion_matrix(np.ones((2, 2), int), ["a", "b", "c"])
    with pytest.raises(ValueError, match="matrix must hold counts >= 0"):
        plots.plot_confusion_matrix(-np.ones((2, 2), int))


def test_validation_curve_with_folds_draws_mean_and_band(tmp_path):
    units = [1, 2, 5, 10, 50, 200]
    train = np.linspace(0.6, 1.0, 6)[:, None] + np.zeros((6, 3))
    val = np.linspace(0.55, 0.9, 6)[:, None] + np.array([-0.01, 0.0, 0.01])
    path = tmp_path / "curve.png"
    figure = plots.plot_validation_curve(units, train, val, "hidden units", path)
    ax = figure.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "hidden units"
    np.testing.assert_allclose(ax.lines[1].get_ydata(), val.mean(axis=1))
    png_size(path)
    with pytest.raises(ValueError, match=r"val_scores must have shape \(6,\)"):
        plots.plot_validation_curve(units, train, val[:3], "hidden units")


def test_without_matplotlib_the_import_error_names_the_extra():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "try:\n    import mlpkit.plots\nexcept ImportError as e:\n    print(e)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert 'pip install "mlpkit[plot]"' in result.stdout


def test_plots_do_not_touch_pyplot(tmp_path):
    code = ("import sys, mlpkit.plots as p\n"
            f"p.plot_confusion_matrix([[1, 0], [0, 1]], path={str(tmp_path / 'c.png')!r})\n"
            "print('matplotlib.pyplot' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.split() == ["False"]
    png_size(tmp_path / "c.png")
