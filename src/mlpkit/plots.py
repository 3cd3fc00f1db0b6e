"""Pictures of training: loss and accuracy curves, first-layer weights as images, decision regions
of a 2-D problem, the confusion matrix and a validation curve (choosing the number of hidden units).

These are the lectures' figures (e.g. the hidden-unit weight pictures of the face network). They
need matplotlib, the ``plot`` extra; figures are built with :class:`matplotlib.figure.Figure`
directly, so pyplot's global state and the user's backend are left alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

try:
    import matplotlib
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        'mlpkit.plots needs matplotlib, which is not installed: pip install "mlpkit[plot]"'
    ) from exc

from .io.atomic import atomic_write
from .layers import Dense
from .network import Network
from .validation import check_positive_int

__all__ = [
    "plot_confusion_matrix",
    "plot_decision_regions",
    "plot_history",
    "plot_predicted_vs_true",
    "plot_validation_curve",
    "plot_weights",
]

#: qualitative colours for classes (matplotlib's tab10)
_CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _finish(figure: Figure, path: str | os.PathLike[str] | None, dpi: int = 100) -> Figure:
    """Write ``figure`` as a PNG to ``path`` (atomically) when a path is given; return it."""
    if path is not None:
        with atomic_write(path, "wb") as fh:
            figure.savefig(fh, format="png", dpi=dpi)
    return figure


class _HistoryLike(Protocol):
    """A :class:`mlpkit.History` (not imported here: ``History.plot`` calls this module)."""

    def as_dict(self) -> dict: ...


def _history_dict(history: _HistoryLike | dict) -> dict:
    if isinstance(history, dict):
        return history
    if callable(getattr(history, "as_dict", None)):
        return history.as_dict()
    raise TypeError(f"history must be a History or its as_dict(), got {type(history).__name__}")


def _series(data: dict, key: str) -> np.ndarray:
    values = data.get(key) or []
    return np.array([math.nan if v is None else float(v) for v in values], dtype=float)


def plot_history(
    history: _HistoryLike | dict, path: str | os.PathLike[str] | None = None
) -> Figure:
    """Loss (left) and accuracy (right) per epoch, training and validation.

    Parameters
    ----------
    history : History or dict
        As returned by :func:`mlpkit.train`, or its ``as_dict()`` (as stored in a model file).
    path : path, optional
        Write the figure there as PNG.

    Returns
    -------
    matplotlib.figure.Figure
    """
    data = _history_dict(history)
    loss = _series(data, "loss")
    if loss.size == 0:
        raise ValueError("history: no epochs recorded, nothing to plot")
    epochs = np.arange(1, loss.size + 1)
    figure = Figure(figsize=(10, 4), layout="constrained")
    ax_loss, ax_acc = figure.subplots(1, 2)
    for ax, key, label in ((ax_loss, "loss", "loss"), (ax_acc, "accuracy", "accuracy")):
        train, val = _series(data, key), _series(data, f"val_{key}")
        scale = 100.0 if key == "accuracy" else 1.0
        if train.size and not np.all(np.isnan(train)):
            ax.plot(epochs, train * scale, marker="o", markersize=3, label="training")
        if val.size and not np.all(np.isnan(val)):
            ax.plot(epochs, val * scale, marker="o", markersize=3, label="validation")
        best = data.get("best_epoch")
        if best is not None:
            ax.axvline(best + 1, color="grey", linestyle=":", label=f"best epoch ({best + 1})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)" if key == "accuracy" else "loss")
        ax.set_title(f"{label.capitalize()} per epoch")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, f"no {label} recorded", ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
    if loss.size < 15:
        for ax in (ax_loss, ax_acc):
            ax.set_xticks(epochs)
    return _finish(figure, path)


def _first_weights(weights: Any) -> np.ndarray:
    if isinstance(weights, Network):
        weights = weights.dense_layers[0].weights
    elif isinstance(weights, Dense):
        weights = weights.weights
    array = np.asarray(weights, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"weights must be 2-D (n_inputs, n_units), got shape {array.shape}")
    return array


def plot_weights(
    weights: np.ndarray | Network | Dense,
    image_shape: tuple[int, int],
    path: str | os.PathLike[str] | None = None,
    *,
    max_tiles: int = 100,
    title: str | None = None,
) -> Figure:
    """The incoming weights of each first-layer unit drawn as an image, one tile per unit.

    Red is a positive weight (the unit is excited by ink there), blue a negative one; the
    colour map is centred at 0 and shared by all tiles, with one colour bar.

    Parameters
    ----------
    weights : ndarray (n_inputs, n_units), Network or Dense
        First-layer weights, as ``network.dense_layers[0].weights``; a network or layer is
        taken for its first layer's weights.
    image_shape : (height, width)
        Shape of one input image; ``height * width`` must equal ``n_inputs`` (28x28 for
        MNIST, 30x32 for the lecture's faces).
    path : path, optional
        Write the figure there as PNG.
    max_tiles : int, default 100
        Draw at most this many units (the first ones).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = _first_weights(weights)
    try:
        height, width = (int(s) for s in image_shape)
    except (TypeError, ValueError):
        raise TypeError(f"image_shape must be (height, width), got {image_shape!r}") from None
    if height * width != w.shape[0]:
        raise ValueError(
            f"image_shape {height}x{width} = {height * width} pixels does not match the "
            f"{w.shape[0]} inputs of the weights"
        )
    max_tiles = check_positive_int("max_tiles", max_tiles)
    n = min(w.shape[1], max_tiles)
    cols = max(1, min(n, math.ceil(math.sqrt(n * height / width))))
    rows = math.ceil(n / cols)
    limit = float(np.max(np.abs(w[:, :n]))) or 1.0
    # One mosaic image (tiles separated by a 1-pixel NaN gap, drawn white) instead of one
    # axes per unit: the same picture, drawn far faster.
    mosaic = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        top, left = r * (height + 1), c * (width + 1)
        mosaic[top:top + height, left:left + width] = w[:, i].reshape(height, width)
    colours = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
    scale = min(10.0 / max(mosaic.shape), 0.12)
    figure = Figure(figsize=(mosaic.shape[1] * scale + 1.8, mosaic.shape[0] * scale + 0.8),
                    layout="constrained")  # fmt: skip
    ax = figure.subplots()
    image = ax.imshow(mosaic, cmap=colours, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_axis_off()
    figure.colorbar(image, ax=ax, shrink=0.8, label="weight (red +, blue −)")
    shown = f"first {n} of {w.shape[1]}" if n < w.shape[1] else f"{n}"
    figure.suptitle(title or f"Weights into the {shown} first-layer units "
                             f"({height}x{width} images)")  # fmt: skip
    return _finish(figure, path)


def plot_decision_regions(
    network: Network,
    X: np.ndarray,
    y: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    resolution: int = 300,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The class the network predicts at every point of the plane, with the data on top.

    With two classes the background shows the network's confidence in class 1 (a diverging
    colour map, white at 0.5) and a black line at the decision boundary; with more classes
    it shows the predicted class in light colours.

    Parameters
    ----------
    network : Network
        A trained network with 2 inputs.
    X : ndarray (n_samples, 2)
        Points to draw (as the network sees them, i.e. after any scaling).
    y : ndarray (n_samples,)
        Their class labels 0 ... n_classes - 1.
    path : path, optional
        Write the figure there as PNG.
    resolution : int, default 300
        Grid points along each axis.
    class_names : sequence of str, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    if network.n_inputs != 2:
        raise ValueError(f"network must have 2 inputs to draw regions in a plane, "
                         f"got {network.n_inputs}")  # fmt: skip
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n_samples, 2), got {X.shape}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must have the same number of samples, got {X.shape[0]} "
                         f"and {y.shape[0]}")  # fmt: skip
    resolution = check_positive_int("resolution", resolution, minimum=2)
    low, high = X.min(axis=0), X.max(axis=0)
    margin = np.maximum((high - low) * 0.08, 1e-3)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    outputs = network.forward(np.column_stack([grid_x.ravel(), grid_y.ravel()]))
    outputs = np.asarray(outputs, dtype=float)
    n_classes = max(int(y.max(initial=0)) + 1, outputs.shape[1] if outputs.shape[1] > 1 else 2)
    names = [str(c) for c in class_names] if class_names is not None else [
        str(c) for c in range(n_classes)]  # fmt: skip
    figure = Figure(figsize=(6.4, 5.2), layout="constrained")
    ax = figure.subplots()
    if n_classes == 2:
        if outputs.shape[1] == 1:
            score = outputs[:, 0]
        else:  # confidence in class 1 among the two outputs
            total = outputs[:, 0] + outputs[:, 1]
            score = np.divide(outputs[:, 1], total, out=np.full_like(total, 0.5),
                              where=total > 0)  # fmt: skip
        score = score.reshape(grid_x.shape)
        mesh = ax.pcolormesh(grid_x, grid_y, score, cmap="RdBu_r", vmin=0.0, vmax=1.0,
                             shading="auto", alpha=0.8)  # fmt: skip
        ax.contour(grid_x, grid_y, score, levels=[0.5], colors="black", linewidths=1.2)
        figure.colorbar(mesh, ax=ax, label=f"network's confidence in class {names[1]}")
        point_colours = ListedColormap(["#08306b", "#67000d"])
    else:
        predicted = np.argmax(outputs, axis=1).reshape(grid_x.shape)
        colours = ListedColormap([_CLASS_COLOURS[i % 10] for i in range(n_classes)])
        norm = BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes)
        ax.pcolormesh(grid_x, grid_y, predicted, cmap=colours, norm=norm, shading="auto",
                      alpha=0.25)  # fmt: skip
        point_colours = colours
    for c in range(n_classes):
        mask = y == c
        if np.any(mask):
            ax.scatter(X[mask, 0], X[mask, 1], s=14, color=point_colours(c % point_colours.N),
                       edgecolors="white", linewidths=0.4, label=f"class {names[c]}")  # fmt: skip
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", framealpha=0.8)
    ax.set_title(title or "Decision regions ({} network)".format(
        "-".join(str(s) for s in network.sizes)))  # fmt: skip
    return _finish(figure, path)


def plot_confusion_matrix(
    matrix: np.ndarray,
    class_names: Sequence[str] | None = None,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """The confusion matrix as a heat map with the count in every cell.

    Parameters
    ----------
    matrix : ndarray (n_classes, n_classes)
        ``matrix[i, j]``: samples of true class i predicted as class j (as from
        :func:`mlpkit.confusion_matrix`).
    class_names : sequence of str, optional
    path : path, optional
        Write the figure there as PNG.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"matrix must be square (n_classes, n_classes), got shape {m.shape}")
    if not np.issubdtype(m.dtype, np.number) or np.any(m < 0):
        raise ValueError("matrix must hold counts >= 0")
    n = m.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"class_names must have {n} entries, got {len(names)}")
    size = max(4.5, min(14.0, 0.6 * n + 3.0))
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(m, cmap="Blues", interpolation="nearest")
    figure.colorbar(image, ax=ax, label="samples", shrink=0.85)
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 3 else 0, ha="right"
                  if max(map(len, names)) > 3 else "center")  # fmt: skip
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if n <= 30:
        threshold = m.max() / 2 if m.max() > 0 else 1
        fontsize = 9 if n <= 12 else 6
        for i in range(n):
            for j in range(n):
                value = m[i, j]
                text = f"{value:d}" if np.issubdtype(m.dtype, np.integer) else f"{value:.2g}"
                ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                        color="white" if value > threshold else "black")  # fmt: skip
    total = m.sum()
    accuracy = np.trace(m) / total if total else math.nan
    ax.set_title(title or f"Confusion matrix (accuracy {100 * accuracy:.2f}%)")
    return _finish(figure, path)


def plot_validation_curve(
    param_values: Sequence[float],
    train_scores: np.ndarray,
    val_scores: np.ndarray,
    param_name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    score_name: str = "accuracy",
) -> Figure:
    """Training and validation score against a hyper-parameter (e.g. the number of hidden units).

    Parameters
    ----------
    param_values : sequence of numbers, length n_values
    train_scores, val_scores : ndarray (n_values,) or (n_values, n_folds)
        With folds (cross-validation), the mean is drawn with a band of ± one standard
        deviation.
    param_name : str
        x-axis label, e.g. ``"hidden units"``.
    path : path, optional
        Write the figure there as PNG.
    score_name : str, default "accuracy"

    Returns
    -------
    matplotlib.figure.Figure
    """
    x = np.asarray(param_values, dtype=float).reshape(-1)
    if x.size == 0:
        raise ValueError("param_values must not be empty")
    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = figure.subplots()
    for scores, label, name in ((train_scores, "training", "train_scores"),
                                (val_scores, "validation", "val_scores")):  # fmt: skip
        s = np.asarray(scores, dtype=float)
        if s.ndim == 1:
            s = s[:, None]
        if s.ndim != 2 or s.shape[0] != x.size:
            raise ValueError(f"{name} must have shape ({x.size},) or ({x.size}, n_folds), "
                             f"got {np.shape(scores)}")  # fmt: skip
        mean = s.mean(axis=1)
        (line,) = ax.plot(x, mean, marker="o", label=label)
        if s.shape[1] > 1:
            std = s.std(axis=1)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    if np.all(x > 0) and x.max() / x.min() >= 100:
        ax.set_xscale("log")
    ax.set_xlabel(param_name)
    ax.set_ylabel(score_name)
    ax.set_title(f"Validation curve: {score_name} against {param_name}")
    ax.grid(alpha=0.3)
    ax.legend()
    return _finish(figure, path)


def plot_predicted_vs_true(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | os.PathLike[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """A regression's predictions against the true values, one dot per sample, with the
    diagonal (perfect predictions) and R² in the title.

    Parameters
    ----------
    y_true, y_pred : array (n_samples,)
        True and predicted values in the target's own units.
    path : str or PathLike, optional
        Write a PNG there (atomically).
    """
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty and of one length, got "
                         f"{y_true.shape} and {y_pred.shape}")  # fmt: skip
    figure = Figure(figsize=(5, 5))
    ax = figure.add_subplot()
    ax.scatter(y_true, y_pred, s=12, alpha=0.6, color=_CLASS_COLOURS[0])
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], color="0.4", linewidth=1, label="predicted = true")
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1 - float(np.sum((y_pred - y_true) ** 2)) / total if total > 0 else float("nan")
    ax.set_xlabel("true value")
    ax.set_ylabel("predicted value")
    ax.set_title(title or f"predicted vs true (R² = {r2:.3f}, {y_true.size} samples)")
    ax.legend(loc="upper left")
    return _finish(figure, path)
