"""Fitted estimators in mlpkit's model file: weights as raw arrays, everything else as JSON.

Nothing in the file is executed on loading (unlike a pickle): the network is rebuilt from fixed
tables by :func:`mlpkit.io.read_model_file`, and the estimator from its class name (one of two),
its JSON-able parameters and its fitted attributes.
"""

from __future__ import annotations

import math
import os
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ..io import read_model_file
from ..io import save as save_network
from ..io.model_file import ModelFileError
from ..training.history import History

__all__ = ["load", "save"]

_KIND = "mlpkit.sklearn"
# fitted attributes kept as JSON (lists of floats, numbers, strings)
_FITTED = (
    "n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_", "n_features_in_",
    "loss_", "best_loss_", "loss_curve_", "validation_scores_", "best_validation_score_",
    "validation_loss_curve_",
)


def _labels_to_json(labels: np.ndarray) -> dict:
    return {"values": labels.tolist(), "dtype": labels.dtype.str if labels.dtype != object
            else "object"}


def _labels_from_json(data: dict) -> np.ndarray:
    dtype = object if data["dtype"] == "object" else np.dtype(data["dtype"])
    return np.asarray(data["values"], dtype=dtype)


def save(estimator, path: str | os.PathLike[str]) -> Path:
    """Write a fitted :class:`~mlpkit.sklearn.MLPClassifier` or
    :class:`~mlpkit.sklearn.MLPRegressor` to ``path`` (atomically; no pickle).

    Its parameters must be JSON values (a callable ``init`` or ``callbacks`` are not kept:
    they are saved as their defaults, "glorot" and None). Optimiser state is not kept: a
    loaded estimator predicts exactly as the saved one, and ``partial_fit`` or a warm start
    continues from its weights with a fresh optimiser.
    """
    from . import MLPClassifier, MLPRegressor

    if not isinstance(estimator, MLPClassifier | MLPRegressor):
        raise TypeError(
            "estimator must be an mlpkit.sklearn MLPClassifier or MLPRegressor, got "
            f"{type(estimator).__name__}"
        )
    check_is_fitted(estimator, "coefs_")
    params = estimator.get_params()
    params["callbacks"] = None
    if callable(params["init"]):
        params["init"] = "glorot"
    if params["dtype"] is not None and not isinstance(params["dtype"], str):
        params["dtype"] = np.dtype(params["dtype"]).name
    if not isinstance(params["random_state"], int | None):
        params["random_state"] = None
    sizes = params["hidden_layer_sizes"]
    sizes_kind = "int" if isinstance(sizes, Integral) else type(sizes).__name__
    params["hidden_layer_sizes"] = np.atleast_1d(sizes).tolist()
    fitted = {name: getattr(estimator, name, None) for name in _FITTED}
    if hasattr(estimator, "feature_names_in_"):
        fitted["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    if hasattr(estimator, "classes_"):
        fitted["classes_"] = _labels_to_json(estimator.classes_)
        fitted["y_type_"] = estimator._label_binarizer.y_type_
    metadata = {
        "kind": _KIND,
        "estimator": type(estimator).__name__,
        "params": params,
        "hidden_layer_sizes_kind": sizes_kind,
        "fitted": fitted,
    }
    history = getattr(estimator, "history_", None)
    return save_network(estimator.network_, path, metadata, history=history)


def load(path: str | os.PathLike[str]):
    """Read an estimator written by :func:`save`; it predicts exactly as the saved one."""
    from . import MLPClassifier, MLPRegressor

    model = read_model_file(path)
    meta = model.metadata
    classes = {"MLPClassifier": MLPClassifier, "MLPRegressor": MLPRegressor}
    if meta.get("kind") != _KIND or meta.get("estimator") not in classes:
        raise ModelFileError(
            f"{os.fspath(path)}: not a saved mlpkit.sklearn estimator (metadata.kind is "
            f"{meta.get('kind')!r}, expected {_KIND!r})"
        )
    params = dict(meta["params"])
    kind = meta.get("hidden_layer_sizes_kind")
    if kind == "int":
        params["hidden_layer_sizes"] = params["hidden_layer_sizes"][0]
    elif kind == "tuple":
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    estimator = classes[meta["estimator"]](**params)
    network = model.network
    layers = network.dense_layers
    estimator.coefs_ = [np.array(layer.weights) for layer in layers]
    estimator.intercepts_ = [np.array(layer.biases) for layer in layers]
    fitted = dict(meta["fitted"])
    for name in _FITTED:
        value = fitted.get(name)
        if isinstance(value, list):
            value = [math.nan if v is None else v for v in value]
        setattr(estimator, name, value)
    if estimator.best_validation_score_ is None and estimator.validation_scores_ is not None:
        estimator.best_validation_score_ = -np.inf
    if "feature_names_in_" in fitted:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    if "classes_" in fitted:
        binarizer = LabelBinarizer()
        binarizer.classes_ = _labels_from_json(fitted["classes_"])
        binarizer.y_type_ = fitted["y_type_"]
        binarizer.sparse_input_ = False
        estimator._label_binarizer = binarizer
        estimator.classes_ = binarizer.classes_
    estimator._no_improvement_count = 0
    estimator._best_coefs = [c.copy() for c in estimator.coefs_]
    estimator._best_intercepts = [i.copy() for i in estimator.intercepts_]
    estimator._random_state = np.random.RandomState(estimator.random_state)
    estimator.history_ = model.history if model.history is not None else History()
    return estimator
