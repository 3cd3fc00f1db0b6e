"""How well a network does: accuracy, the confusion matrix and a per-class table."""

from __future__ import annotations

import numpy as np

__all__ = [
    "CLASS_THRESHOLDS",
    "accuracy",
    "accuracy_from_outputs",
    "class_threshold",
    "classification_report",
    "confusion_matrix",
    "predicted_classes",
]

#: The one rule for a single output unit: class 1 where the output is >= the middle of the
#: activation's range (0.5 for outputs in [0, 1], 0 for tanh's (−1, 1)). Activations not
#: listed (identity, ReLU, leaky ReLU: unbounded) give regression outputs, which have no
#: classes. Several outputs always mean the arg-max.
CLASS_THRESHOLDS: dict[str, float] = {"sigmoid": 0.5, "step": 0.5, "softmax": 0.5, "tanh": 0.0}


def _labels(y, name: str) -> np.ndarray:
    """Class labels from labels (n,), score rows (n, k) or a single score column (n, 1)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return np.argmax(y, axis=1)
    if y.ndim == 2 and y.dtype.kind == "f" and np.any(y != np.round(y)):
        return (y[:, 0] >= 0.5).astype(np.int64)  # one sigmoid output: threshold at 0.5
    if y.ndim > 2:
        raise ValueError(f"{name} must be labels (n_samples,) or scores (n_samples, n_classes), "
                         f"got shape {y.shape}")
    return y.reshape(-1)


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Either argument may be labels (n_samples,) or one-hot / score rows (n_samples, n_classes).
    """
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.shape[0]} "
                         f"and {y_pred.shape[0]}")
    if y_true.size == 0:
        raise ValueError("accuracy of 0 samples is undefined")
    return float(np.mean(y_true == y_pred))


def class_threshold(output_activation: str) -> float | None:
    """Where a single output unit with this activation switches from class 0 to class 1
    (:data:`CLASS_THRESHOLDS`), or None for a regression output."""
    return CLASS_THRESHOLDS.get(output_activation)


def predicted_classes(a: np.ndarray, output_activation: str) -> np.ndarray:
    """Class labels (n_samples,) from network outputs ``a`` (n_samples, n_outputs).

    Several outputs: the index of the largest. One output: 1 where it is >= the activation's
    :func:`class_threshold`, else 0; a regression output (identity, ReLU, …) raises
    ValueError, since it has no classes (:func:`accuracy_from_outputs` gives NaN for it).
    """
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"a must be network outputs (n_samples, n_outputs), got shape {a.shape}")
    if a.shape[1] > 1:
        return np.argmax(a, axis=1)
    threshold = class_threshold(output_activation)
    if threshold is None:
        raise ValueError(
            f"a single {output_activation!r} output unit is a regression output and has no "
            f"classes; use forward(X) for its values, or a {' / '.join(CLASS_THRESHOLDS)} "
            "output layer for two classes"
        )
    return (a[:, 0] >= threshold).astype(np.int64)


def accuracy_from_outputs(a: np.ndarray, t: np.ndarray, output_activation: str) -> float:
    """Accuracy of network outputs ``a`` against targets ``t`` (both (n_samples, n_outputs)).

    Several outputs: arg-max against arg-max. One output: both thresholded by the rule of
    :func:`predicted_classes` (0.5 for sigmoid / step / softmax outputs with 0/1 targets, 0
    for tanh with ±1 targets); NaN for regression outputs, which have no classes.
    """
    if a.shape[1] > 1:
        return float(np.mean(np.argmax(a, axis=1) == np.argmax(t, axis=1)))
    threshold = class_threshold(output_activation)
    if threshold is None:
        return float("nan")
    return float(np.mean((a[:, 0] >= threshold) == (t[:, 0] >= threshold)))


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts C[i, j] of samples of true class i predicted as class j.

    Returns an int64 array of shape (n_classes, n_classes).
    """
    y_true = _labels(y_true, "y_true").astype(np.int64)
    y_pred = _labels(y_pred, "y_pred").astype(np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have the same length, got {y_true.shape[0]} "
                         f"and {y_pred.shape[0]}")
    if n_classes is None:
        n_classes = int(max(y_true.max(initial=-1), y_pred.max(initial=-1)) + 1)
    if y_true.size and (min(y_true.min(), y_pred.min()) < 0 or
                        max(y_true.max(), y_pred.max()) >= n_classes):
        raise ValueError(f"class labels must lie in [0, {n_classes - 1}]")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def classification_report(y_true, y_pred, class_names=None) -> str:
    """A plain-text table of precision, recall, F1 and support per class, and the accuracy."""
    matrix = confusion_matrix(y_true, y_pred,
                              None if class_names is None else len(class_names))
    n_classes = matrix.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n_classes))]
    width = max(8, *(len(n) for n in names))
    lines = [f"{'class':>{width}}  precision  recall     f1  support"]
    for i, name in enumerate(names):
        tp = matrix[i, i]
        predicted, actual = matrix[:, i].sum(), matrix[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(f"{name:>{width}}  {precision:9.3f}  {recall:6.3f}  {f1:5.3f}  {actual:7d}")
    total = matrix.sum()
    acc = np.trace(matrix) / total if total else float("nan")
    lines.append(f"{'accuracy':>{width}}  {acc:9.4f}  {'':6}  {'':5}  {total:7d}")
    return "\n".join(lines)
