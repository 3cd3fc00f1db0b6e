"""Data for the ``mlpkit`` command: pick a data set by name or path, split it, scale the inputs.

What a model needs to read new inputs the way it was trained is stored in its metadata:

* ``"input"``: ``{"kind": "image", "image_shape": [h, w], "scale": "unit" | "lecture"}`` or
  ``{"kind": "table", "standardizer": {...}, "feature_names": [...], "header": bool}``;
* ``"task"``: ``"classification"`` (``"class_names"``: the user's labels, in output order) or
  ``"regression"`` (``"target"``: ``{"name", "mean", "std"}``, the network predicting
  ``(y - mean) / std``).

``evaluate`` and ``predict`` apply them again; models written before these keys existed are
read as image or table classifiers, as before.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.csvdata import infer_task, read_table, resolve_columns, table_xy
from ..data.preprocessing import Standardizer, train_test_split
from ..network import Network

__all__ = ["CLIError", "Data", "apply_input", "load_data", "load_inputs"]

IMAGE_SUFFIXES = (".png", ".pgm")
#: points drawn for a toy set when --n-samples is not given (the 4-row truth tables of the
#: logic gates are lecture examples, not data sets to split)
TOY_SAMPLES = 400


class CLIError(Exception):
    """A usage or input error: reported as one line on stderr, exit status 2."""


@dataclass
class Data:
    """Scaled inputs (rows) and targets: class indices 0 ... k-1, or standardised values for
    regression; and facts about them for the CLI."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    image_shape: tuple[int, int] | None
    input_info: dict[str, Any]
    description: str
    task: str = "classification"
    target_info: dict[str, Any] = field(default_factory=dict)
    #: "toy", "table", "image"
    kind: str = "image"
    #: what the test part is: "test" (held out), or "file" (every row of a file given to
    #: evaluate that the model was not trained on)
    test_label: str = "test"

    @property
    def n_outputs(self) -> int:
        return 1 if self.task == "regression" else len(self.class_names)


def _known_datasets() -> str:
    from ..data.datasets import TOY_DATASETS

    return "auto, mnist, fashion-mnist, digits, " + ", ".join(sorted(TOY_DATASETS))


def apply_input(X: np.ndarray, network: Network | None = None,
                info: dict[str, Any] | None = None) -> np.ndarray:  # fmt: skip
    """Scale raw inputs (pixels in [0, 1], or CSV features) as the model's training data was."""
    if info is None:
        info = network.metadata.get("input", {}) if network is not None else {}
    if info.get("kind") == "table" and info.get("standardizer"):
        return Standardizer.from_dict(info["standardizer"]).transform(X)
    X = np.asarray(X, dtype=np.float32)
    if info.get("scale") == "lecture":
        X = X * np.float32(0.99) + np.float32(0.01)
    return X


def _class_index(y: np.ndarray, class_names: list[str] | None) -> tuple[np.ndarray, list[str]]:
    """Labels as 0 ... k-1 and the class names (from the model when given)."""
    if class_names is None:
        values = np.unique(y)
        return np.searchsorted(values, y).astype(np.int64), [str(v) for v in values.tolist()]
    lookup = {name: i for i, name in enumerate(class_names)}
    index = np.empty(len(y), dtype=np.int64)
    for i, value in enumerate(y.tolist()):
        key = str(value)
        if key not in lookup:
            raise CLIError(f"class {key!r} in the data is not one the model knows "
                           f"({', '.join(class_names)})")  # fmt: skip
        index[i] = lookup[key]
    return index, list(class_names)


def _split(args: argparse.Namespace, X: np.ndarray, y: np.ndarray,
           stratify: bool = True) -> tuple[np.ndarray, ...]:  # fmt: skip
    if not 0.0 < args.test_size < 1.0:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    if len(X) < 2:
        raise CLIError(f"{args.dataset!r}: {len(X)} sample, too few to split off a test set")
    try:
        return train_test_split(X, y, args.test_size, seed=args.seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        return train_test_split(X, y, args.test_size, seed=args.seed)


def _first_image_shape(folder: Path) -> tuple[int, int]:
    from ..data.datasets import read_image

    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
            return read_image(path).shape
    raise CLIError(f"no .png or .pgm image in {str(folder)!r}")


def _header_option(args: argparse.Namespace) -> bool | None:
    return getattr(args, "header", None)


def _features_option(args: argparse.Namespace) -> list[str] | None:
    text = getattr(args, "features", None)
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _read_csv(args: argparse.Namespace, path: Path, meta: dict) -> tuple[Any, ...]:
    """(X, y, feature names, task, header) of a CSV file to train on or evaluate."""
    table = read_table(path, header=getattr(args, "header", None),
                       delimiter=getattr(args, "delimiter", None) or ",")  # fmt: skip
    target: int | str = args.target if args.target is not None else "-1"
    features = _features_option(args)
    known = meta.get("input", {}).get("feature_names")
    if features is None and known and table.header and set(known) <= set(table.names):
        features = list(known)  # the model's columns, by name, wherever they are
    X, y, names = table_xy(table, target, features)
    task, warning = infer_task(y)
    wanted = getattr(args, "task", None) or meta.get("task")
    if wanted == "regression" and y.dtype.kind in "US":
        raise CLIError(f"--task regression: the target column of {str(path)!r} holds text "
                       f"labels such as {str(y[0])!r}, not numbers")  # fmt: skip
    if wanted and wanted != task:
        task, warning = wanted, None
    if task == "regression":
        y = y.astype(np.float64)
    if warning:
        print(f"mlpkit: warning: {warning}", file=sys.stderr, flush=True)
    return X, y, names, task, table.header


def _check_model_features(meta: dict, features: list[str], header: bool, name: str) -> None:
    known = meta.get("input", {}).get("feature_names")
    if known is None or not header or features == list(known):
        return
    raise CLIError(f"{name!r}: the feature columns are {', '.join(features)} but the model was "
                   f"trained on {', '.join(known)}; choose them with --features")  # fmt: skip


def _load_table_file(args: argparse.Namespace, path: Path, training: bool,
                     meta: dict) -> dict[str, Any]:  # fmt: skip
    X, y, features, task, header = _read_csv(args, path, meta)
    _check_model_features(meta, features, header, str(path))
    part: dict[str, Any] = {"X": X, "y": y, "kind": "table", "task": task,
                            "features": features, "header": header,
                            "description": f"CSV file {path.name} ({len(features)} features, "
                                           f"{task})"}  # fmt: skip
    return part


def _named_dataset(args: argparse.Namespace, name: str) -> dict[str, Any]:
    """mnist / fashion-mnist / digits / a toy set / auto."""
    from ..data import datasets

    if name == "auto":
        from ._demo import load_auto

        return load_auto(args)
    if name in ("mnist", "fashion-mnist"):
        load = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (X_train, y_train), (X_test, y_test) = load(args.data_dir, scale="unit",
                                                    progress=not args.quiet)  # fmt: skip
        names = (list(datasets.FASHION_MNIST_CLASSES) if name == "fashion-mnist"
                 else [str(d) for d in range(10)])  # fmt: skip
        return {"split": (X_train, X_test, y_train, y_test), "class_names": names,
                "image_shape": (28, 28), "kind": "image", "description": name}  # fmt: skip
    if name == "digits":
        X, y = datasets.load_digits()
        return {"X": X, "y": y, "class_names": [str(d) for d in range(10)],
                "image_shape": (8, 8), "kind": "image", "description": "digits (8x8)"}
    n = args.n_samples or TOY_SAMPLES
    X, y = datasets.make_toy_dataset(name, n, noise=args.noise, seed=args.seed)
    return {"X": X, "y": y, "kind": "toy", "description": f"toy set {name} ({n} points)"}


def _source(args: argparse.Namespace, training: bool, meta: dict) -> dict[str, Any]:
    from ..data.datasets import TOY_DATASETS, load_image_folder

    name = str(args.dataset)
    if name in ("auto", "mnist", "fashion-mnist", "digits") or name in TOY_DATASETS:
        return _named_dataset(args, name)
    path = Path(name)
    if path.is_dir():
        X, y, folder_classes = load_image_folder(path)
        return {"X": X, "y": np.asarray(folder_classes)[y], "kind": "image",
                "image_shape": _first_image_shape(path), "whole_file": True,
                "description": f"image folder {name}"}  # fmt: skip
    if path.is_file():
        return {**_load_table_file(args, path, training, meta), "whole_file": True}
    raise CLIError(f"unknown dataset {name!r}: expected one of {_known_datasets()}, or "
                   "the path of a CSV file or of an image folder")  # fmt: skip


def _regression_target(y_train: np.ndarray, meta: dict, name: str) -> dict[str, Any]:
    known = meta.get("target")
    if known:
        return dict(known)
    std = float(np.std(y_train))
    return {"name": name, "mean": float(np.mean(y_train)), "std": std if std > 0 else 1.0}


def _targets(source: dict, args: argparse.Namespace, training: bool, meta: dict,
             same_file: bool) -> tuple[Any, ...]:  # fmt: skip
    """(X_train, X_test, y_train, y_test, class_names, target_info, test_label)."""
    task = source.get("task", "classification")
    known = meta.get("class_names") if task == "classification" else None
    label = "test"
    if "split" in source:
        X_train, X_test, y_train, y_test = source["split"]
        class_names = known or source["class_names"]
    else:
        X, y = source["X"], source["y"]
        if task == "classification":
            y, class_names = _class_index(y, known or source.get("class_names"))
        else:
            y, class_names = np.asarray(y, dtype=np.float64), []
        whole = source.get("whole_file") and not training and not same_file
        if whole:
            X_train, X_test, y_train, y_test = X[:0], X, y[:0], y
            label = "file"
        else:
            X_train, X_test, y_train, y_test = _split(args, X, y, task == "classification")
    target: dict[str, Any] = {}
    if task == "regression":
        target = _regression_target(y_train if len(y_train) else y_test, meta,
                                    str(getattr(args, "target", "") or ""))  # fmt: skip
        y_train = (y_train - target["mean"]) / target["std"]
        y_test = (y_test - target["mean"]) / target["std"]
    return X_train, X_test, y_train, y_test, list(class_names), target, label


def _input_info(source: dict, args: argparse.Namespace, meta: dict,
                X_train: np.ndarray) -> dict[str, Any]:  # fmt: skip
    if meta.get("input"):
        return dict(meta["input"])
    if meta.get("_from_model"):  # a model saved without its input scaling: inputs as they are
        return {"kind": "raw"}
    if source["kind"] in ("table", "toy"):
        info: dict[str, Any] = {"kind": "table",
                                "standardizer": Standardizer().fit(X_train).to_dict()}
        if "features" in source:
            info.update(feature_names=source["features"], header=source["header"])
        return info
    scale = getattr(args, "scale", None) or "unit"
    return {"kind": "image", "image_shape": list(source.get("image_shape") or ()),
            "scale": scale}  # fmt: skip


def load_data(args: argparse.Namespace, training: bool = True,
              model: Network | None = None) -> Data:  # fmt: skip
    """Load ``args.dataset``; for ``training=False`` (evaluate) the test part is what counts.

    Named sets with a test split (mnist, fashion-mnist) use it; digits, toy sets, CSV files
    and image folders are split with ``args.test_size`` and ``args.seed``. ``evaluate`` on the
    file a model was trained on uses the same held-out part; on another file, every row.
    With ``model`` (evaluate, ``train --init``) its class names and input scaling are used.
    """
    meta = {**model.metadata, "_from_model": True} if model is not None else {}
    same_file = str(args.dataset) == str(meta.get("dataset"))
    source = _source(args, training, meta)
    if meta.get("task") and source.get("task", "classification") != meta["task"]:
        raise CLIError(f"the model does {meta['task']} but {str(args.dataset)!r} is read as a "
                       f"{source.get('task', 'classification')} data set; pass --task "
                       f"{meta['task']}")  # fmt: skip
    X_train, X_test, y_train, y_test, class_names, target, label = _targets(
        source, args, training, meta, same_file)
    if getattr(args, "train_size", None):
        X_train, y_train = X_train[: args.train_size], y_train[: args.train_size]
    task = source.get("task", "classification")
    if task == "classification" and len(class_names) < 2:
        raise CLIError(f"{str(args.dataset)!r}: the data has only {len(class_names)} class; "
                       "need at least 2")  # fmt: skip
    info = _input_info(source, args, meta, X_train)
    X_train, X_test = apply_input(X_train, info=info), apply_input(X_test, info=info)
    if model is not None and X_test.shape[1] != model.n_inputs:
        raise CLIError(f"dataset {str(args.dataset)!r} has {X_test.shape[1]} inputs per sample "
                       f"but the model expects {model.n_inputs}; use the data set it was "
                       "trained on")  # fmt: skip
    return Data(X_train, y_train, X_test, y_test, class_names, source.get("image_shape"), info,
                source["description"], task, target, source["kind"], label)


# ------------------------------------------------------------------------------ predict inputs
def _table_columns(table: Any, info: dict, n_inputs: int, features: list[str] | None,
                   path: str) -> list[int]:  # fmt: skip
    """The columns of ``table`` to feed the model, checked by name (or by count)."""
    if features:
        columns = resolve_columns(table, features, "--features")
    else:
        known = info.get("feature_names")
        if known and table.header:
            missing = [name for name in known if name not in table.names]
            if missing:
                raise CLIError(f"{path!r} lacks the column(s) {', '.join(map(repr, missing))} "
                               f"the model was trained on (it expects "
                               f"{', '.join(known)})")  # fmt: skip
            return [table.names.index(name) for name in known]
        columns = list(range(len(table.names)))
    if len(columns) != n_inputs:
        what = (f"{', '.join(info['feature_names'])}" if info.get("feature_names")
                else f"{n_inputs} features")  # fmt: skip
        raise CLIError(f"{path!r} has {len(columns)} {'selected ' if features else ''}columns "
                       f"but the model expects {n_inputs} ({what}); choose the feature columns "
                       "with --features (names or indices, e.g. --features 1:)"
                       + ("" if table.header else ", or add a header row naming them"))
    return columns


def _read_csv_inputs(args: argparse.Namespace, network: Network) -> tuple[list[str], np.ndarray]:
    info = network.metadata.get("input", {})
    table = read_table(args.input, header=getattr(args, "header", None),
                       delimiter=getattr(args, "delimiter", None) or ",")  # fmt: skip
    columns = _table_columns(table, info, network.n_inputs, _features_option(args), args.input)
    try:
        X = table.numbers(columns)
    except ValueError as error:
        raise CLIError(str(error)) from None
    if info.get("kind", "image") == "image" and X.size and X.max() > 1.0:
        print("mlpkit: pixel values up to 255: divided by 255, as the training images were",
              file=sys.stderr, flush=True)
        X = X / 255.0
    return [f"row {i + 1}" for i in range(len(X))], X


def load_inputs(args: argparse.Namespace, network: Network) -> tuple[list[str], np.ndarray]:
    """Raw inputs to predict: an image file, every image under a folder, or a CSV's rows."""
    from ..data.datasets import read_image

    path = Path(args.input)
    info = network.metadata.get("input", {})
    if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES:
        return _read_csv_inputs(args, network)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                       and not p.name.startswith("."))  # fmt: skip
        if not files:
            raise CLIError(f"no .png or .pgm image in folder {args.input!r}")
        names = [str(p.relative_to(path)) for p in files]
    elif path.is_file():
        files, names = [path], [path.name]
    else:
        raise CLIError(f"input {args.input!r} does not exist (expected an image, a folder of "
                       "images or a CSV file)")  # fmt: skip
    if info.get("kind") != "image":
        raise CLIError("this model was not trained on images; give it a CSV file of features")
    shape = tuple(info.get("image_shape", ()))
    images = []
    for file in files:
        image = read_image(file)
        if image.shape != shape:
            raise CLIError(f"{str(file)!r} is {image.shape[0]}x{image.shape[1]} pixels; the "
                           f"model expects {shape[0]}x{shape[1]} images")  # fmt: skip
        images.append(image.reshape(-1))
    return names, np.stack(images)
