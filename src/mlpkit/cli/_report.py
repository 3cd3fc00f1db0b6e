"""What a model does on data, for the ``mlpkit`` command: class probabilities (binary models
with one sigmoid output or two softmax outputs alike) or regression values, the test report,
and machine-readable predictions."""

from __future__ import annotations

import csv
from typing import Any

import numpy as np

from ..data.preprocessing import one_hot
from ..io.atomic import atomic_write
from ..metrics import classification_report, confusion_matrix
from ..network import Network

__all__ = ["evaluate", "print_report", "training_targets", "write_predictions"]


def training_targets(y: np.ndarray, n_outputs: int, task: str, dtype: Any) -> np.ndarray:
    """Targets for the loss: one-hot rows, one 0/1 column for a single output unit, or the
    standardised regression values as one column."""
    if task == "regression" or n_outputs == 1:
        return np.asarray(y, dtype=dtype).reshape(-1, 1)
    return one_hot(y, n_outputs, dtype=dtype)


def outputs(network: Network, X: np.ndarray) -> np.ndarray:
    return np.concatenate([network.forward(X[i:i + 4096]) for i in range(0, len(X), 4096)]) \
        if len(X) else np.zeros((0, network.n_outputs), network.dtype)


def probabilities(network: Network, X: np.ndarray) -> np.ndarray:
    """(n_samples, n_classes) class probabilities (see :meth:`Network.predict_proba`)."""
    if not len(X):
        return np.zeros((0, max(2, network.n_outputs)))
    return np.concatenate([network.predict_proba(X[i:i + 4096])
                           for i in range(0, len(X), 4096)])  # fmt: skip


def evaluate(network: Network, loss_name: str, X: np.ndarray, y: np.ndarray, task: str,
             n_classes: int, target: dict | None = None) -> dict[str, Any]:  # fmt: skip
    """Loss and accuracy, per-class predictions and confusion matrix (classification) or
    MAE, RMSE and R² in the target's own units (regression)."""
    from ..losses import get_loss

    a = outputs(network, X)
    loss = get_loss(loss_name)
    value = float(loss.value(a, training_targets(y, network.n_outputs, task, a.dtype)))
    if task == "regression":
        target = target or {"mean": 0.0, "std": 1.0}
        pred = a[:, 0].astype(np.float64) * target["std"] + target["mean"]
        true = np.asarray(y, np.float64) * target["std"] + target["mean"]
        error = pred - true
        total = float(np.sum((true - true.mean()) ** 2))
        r2 = 1.0 - float(np.sum(error**2)) / total if total > 0 else float("nan")
        return {"task": task, "loss": value, "mae": float(np.mean(np.abs(error))),
                "rmse": float(np.sqrt(np.mean(error**2))), "r2": r2,
                "predicted": pred, "true": true}  # fmt: skip
    predicted = np.argmax(probabilities(network, X), axis=1)
    matrix = confusion_matrix(y, predicted, n_classes)
    return {"task": task, "accuracy": float(np.mean(predicted == y)), "loss": value,
            "predicted": predicted, "matrix": matrix}  # fmt: skip


def print_report(result: dict[str, Any], y: np.ndarray, names: list[str], quiet: bool,
                 suffix: str = "", what: str = "test") -> None:  # fmt: skip
    """The result line (``what`` accuracy / R², e.g. "test accuracy 97.20% ..."), then (unless
    quiet) the per-class table and confusion matrix."""
    if result["task"] == "regression":
        print(f"{what} R² {result['r2']:.4f}  MAE {result['mae']:.4g}  RMSE {result['rmse']:.4g}"
              f"  (loss {result['loss']:.4f}, {len(y)} samples){suffix}", flush=True)
        return
    print(f"{what} accuracy {100 * result['accuracy']:.2f}%  (loss {result['loss']:.4f}, "
          f"{len(y)} samples){suffix}", flush=True)  # fmt: skip
    if quiet:
        return
    print()
    print(classification_report(y, result["predicted"], names))
    print("\nconfusion matrix (rows: true class, columns: predicted class)")
    width = max(5, len(str(int(result["matrix"].max(initial=0)))) + 1,
                *(min(len(n), 12) + 1 for n in names))
    print(" " * 12 + "".join(f"{n[:12]:>{width}}" for n in names))
    for name, row in zip(names, result["matrix"], strict=True):
        print(f"{name[:12]:>12}" + "".join(f"{v:>{width}d}" for v in row))


def write_predictions(path: str, names: list[str], labels: list[str],
                      p: np.ndarray | None, classes: list[str]) -> None:  # fmt: skip
    """CSV of one row per input: its name, the predicted label (or value) and, for
    classification, one probability column per class (``p_<class>``)."""
    with atomic_write(path, "w") as fh:
        writer = csv.writer(fh)
        if p is None:
            writer.writerow(["input", "prediction"])
            writer.writerows(zip(names, labels, strict=True))
            return
        writer.writerow(["input", "label", *(f"p_{c}" for c in classes)])
        for name, label, row in zip(names, labels, p, strict=True):
            writer.writerow([name, label, *(f"{v:.6g}" for v in row)])
