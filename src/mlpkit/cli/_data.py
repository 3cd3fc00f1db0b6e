"""Data for the ``mlpkit`` command: pick a data set by name or path, split it, scale the inputs.

The input scaling a model was trained with (pixel scaling or standardisation) is stored in its
metadata under ``"input"`` and applied again by ``evaluate`` and ``predict``.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.preprocessing import Standardizer, train_test_split
from ..network import Network

__all__ = ["CLIError", "Data", "apply_input", "load_data", "load_inputs"]

IMAGE_SUFFIXES = (".png", ".pgm")


class CLIError(Exception):
    """A usage or input error: reported as one line on stderr, exit status 2."""


@dataclass
class Data:
    """Scaled inputs (rows), labels 0 ... n_classes - 1, and facts about them for the CLI."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    image_shape: tuple[int, int] | None
    input_info: dict[str, Any]
    description: str


def _known_datasets() -> str:
    from ..data.datasets import TOY_DATASETS

    return "mnist, fashion-mnist, digits, " + ", ".join(sorted(TOY_DATASETS))


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


def _split(args: argparse.Namespace, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    if not 0.0 < args.test_size < 1.0:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    try:
        return train_test_split(X, y, args.test_size, seed=args.seed, stratify=True)
    except ValueError:  # a class too small to stratify
        return train_test_split(X, y, args.test_size, seed=args.seed)


def _first_image_shape(folder: Path) -> tuple[int, int]:
    from ..data.datasets import read_image

    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
            return read_image(path).shape
    raise CLIError(f"no .png or .pgm image in {str(folder)!r}")


def load_data(args: argparse.Namespace, training: bool = True,
              model: Network | None = None) -> Data:  # fmt: skip
    """Load ``args.dataset``; for ``training=False`` (evaluate) the test part is what counts.

    Named sets with a test split (mnist, fashion-mnist) use it; digits and toy sets are split
    with ``args.test_size`` and ``args.seed``; a CSV file or image folder is split when
    training and used whole when evaluating.
    """
    from ..data import datasets

    name = str(args.dataset)
    meta = model.metadata if model is not None else {}
    known_names = meta.get("class_names")
    image_shape: tuple[int, int] | None = None
    scale = meta.get("input", {}).get("scale", getattr(args, "scale", "unit"))
    if model is None:
        scale = args.scale
    table = False
    if name in ("mnist", "fashion-mnist"):
        load = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
        (X_train, y_train), (X_test, y_test) = load(args.data_dir, scale="unit",
                                                    progress=not args.quiet)  # fmt: skip
        class_names = (list(datasets.FASHION_MNIST_CLASSES) if name == "fashion-mnist"
                       else [str(d) for d in range(10)])  # fmt: skip
        image_shape, description = (28, 28), name
    elif name == "digits":
        X, y = datasets.load_digits()
        X_train, X_test, y_train, y_test = _split(args, X, y)
        class_names = [str(d) for d in range(10)]
        image_shape, description = (8, 8), "digits (8x8)"
    elif name in datasets.TOY_DATASETS:
        X, y = datasets.make_toy_dataset(name, args.n_samples, noise=args.noise, seed=args.seed)
        X_train, X_test, y_train, y_test = _split(args, X, y)
        y_train, class_names = _class_index(y_train, known_names)
        y_test, _ = _class_index(y_test, class_names)
        table, description = True, f"toy set {name}"
    else:
        path = Path(name)
        if path.is_dir():
            X, y, folder_classes = datasets.load_image_folder(path)
            y = np.asarray(folder_classes)[y]
            image_shape, description = _first_image_shape(path), f"image folder {name}"
        elif path.is_file():
            target: int | str = int(args.target) if args.target.lstrip("-").isdigit() \
                else args.target
            X, y, features = datasets.load_csv(path, target)
            if y.dtype.kind != "i":
                raise CLIError(f"{name!r}: the target column must hold class labels (integers); "
                               "regression is not supported by the command line")  # fmt: skip
            table, description = True, f"CSV file {name} ({len(features)} features)"
        else:
            raise CLIError(f"unknown dataset {name!r}: expected one of {_known_datasets()}, or "
                           "the path of a CSV file or of an image folder")  # fmt: skip
        if training:
            y, class_names = _class_index(y, known_names)
            X_train, X_test, y_train, y_test = _split(args, X, y)
        else:
            y, class_names = _class_index(y, known_names)
            X_train, y_train, X_test, y_test = X[:0], y[:0], X, y
    if known_names is not None:
        class_names = list(known_names)
    if getattr(args, "train_size", None):
        X_train, y_train = X_train[: args.train_size], y_train[: args.train_size]
    if len(class_names) < 2:
        raise CLIError(f"{name!r}: the data has only {len(class_names)} class; need at least 2")
    if table:
        info: dict[str, Any] = dict(meta.get("input", {}))
        if model is None:
            info = {"kind": "table", "standardizer": Standardizer().fit(X_train).to_dict()}
    else:
        info = {"kind": "image", "image_shape": list(image_shape or ()), "scale": scale}
    X_train, X_test = apply_input(X_train, info=info), apply_input(X_test, info=info)
    if model is not None and X_test.shape[1] != model.n_inputs:
        raise CLIError(f"dataset {name!r} has {X_test.shape[1]} inputs per sample but the model "
                       f"expects {model.n_inputs}; use the data set it was trained on")  # fmt: skip
    return Data(X_train, y_train, X_test, y_test, class_names, image_shape, info, description)


def _read_csv_rows(path: Path, n_inputs: int) -> np.ndarray:
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for line_number, row in enumerate(csv.reader(fh), start=1):
            if not any(cell.strip() for cell in row):
                continue
            try:
                values = [float(cell) for cell in row]
            except ValueError:
                if not rows and line_number == 1:
                    continue  # a header
                raise CLIError(f"{str(path)!r}, line {line_number}: not all numbers") from None
            if len(values) == n_inputs + 1:
                values = values[:-1]  # a class column at the end, as in training files
            if len(values) != n_inputs:
                raise CLIError(f"{str(path)!r}, line {line_number}: {len(row)} columns, the "
                               f"model expects {n_inputs} features")  # fmt: skip
            rows.append(values)
    if not rows:
        raise CLIError(f"{str(path)!r} has no data rows")
    return np.array(rows, dtype=np.float64)


def load_inputs(path_text: str, network: Network) -> tuple[list[str], np.ndarray]:
    """Raw inputs to predict: an image file, every image under a folder, or a CSV's rows."""
    from ..data.datasets import read_image

    path = Path(path_text)
    info = network.metadata.get("input", {})
    if path.is_file() and path.suffix.lower() not in IMAGE_SUFFIXES:
        X = _read_csv_rows(path, network.n_inputs)
        return [f"row {i + 1}" for i in range(len(X))], X
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
                       and not p.name.startswith("."))  # fmt: skip
        if not files:
            raise CLIError(f"no .png or .pgm image in folder {path_text!r}")
        names = [str(p.relative_to(path)) for p in files]
    elif path.is_file():
        files, names = [path], [path.name]
    else:
        raise CLIError(f"input {path_text!r} does not exist (expected an image, a folder of "
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
