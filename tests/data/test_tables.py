"""Real tables through the ``mlpkit`` command, against scikit-learn's MLPs on the same split.

Two tables that scikit-learn ships (no download): the Wisconsin breast-cancer table written as
a CSV with a header, a patient-id column that is not a feature and the string labels
``malignant`` / ``benign``; and the diabetes table (integer-valued target, a regression). The
CLI's defaults must reach MLPClassifier's test accuracy within 3 points and MLPRegressor's
test R² within 0.03, on the same stratified split (mlpkit's train_test_split, same seed).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit import cli

sklearn_datasets = pytest.importorskip("sklearn.datasets")
neural_network = pytest.importorskip("sklearn.neural_network")
preprocessing = pytest.importorskip("sklearn.preprocessing")


def write_table(path: Path, header: list[str], ids: list[str], X: np.ndarray,
                labels: list[str]) -> Path:  # fmt: skip
    lines = [",".join(header)]
    lines += [",".join([i, *(repr(float(v)) for v in x), str(t)])
              for i, x, t in zip(ids, X, labels, strict=True)]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def cli_metrics(tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "metrics.json"
    code = cli.main([*map(str, args), "--quiet", "--metrics-json", str(out), "--force"])
    assert code == 0
    return json.loads(out.read_text())


def scikit_split(path: Path, target: str, columns: str, classify: bool, seed: int):
    X, y, _ = mlpkit.load_csv(path, target, features=[columns])
    if classify:
        y = np.searchsorted(np.unique(y), y)
    X_train, X_test, y_train, y_test = mlpkit.train_test_split(
        X, y.astype(np.int64 if classify else np.float64), 0.2, seed=seed, stratify=classify)
    scaler = preprocessing.StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.mark.slow
def test_breast_cancer_csv_with_string_labels_matches_mlpclassifier(tmp_path, capsys):
    data = sklearn_datasets.load_breast_cancer()
    header = ["patient_id", *(n.replace(" ", "_") for n in data.feature_names), "diagnosis"]
    path = write_table(tmp_path / "cancer.csv", header, [f"p{i:04d}" for i in range(569)],
                       data.data, [data.target_names[t] for t in data.target])
    ours = cli_metrics(tmp_path, "train", "--dataset", path, "--target", "diagnosis",
                       "--features", "1:31", "--save", tmp_path / "c.mlpk")
    X_train, X_test, y_train, y_test = scikit_split(path, "diagnosis", "1:31", True, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = neural_network.MLPClassifier(random_state=0, max_iter=1000)
        theirs = reference.fit(X_train, y_train).score(X_test, y_test)
    assert ours["test_samples"] == len(y_test) == 114
    assert ours["test_accuracy"] >= theirs - 0.03, (ours["test_accuracy"], theirs)
    assert mlpkit.load(tmp_path / "c.mlpk").metadata["class_names"] == ["benign", "malignant"]
    capsys.readouterr()
    assert cli.main(["evaluate", str(tmp_path / "c.mlpk")]) == 0
    assert "malignant" in capsys.readouterr().out


@pytest.mark.slow
def test_diabetes_csv_regression_matches_mlpregressor(tmp_path):
    data = sklearn_datasets.load_diabetes(scaled=False)
    header = ["id", *data.feature_names, "progression"]
    path = write_table(tmp_path / "diabetes.csv", header, [str(i) for i in range(442)],
                       data.data, [str(int(t)) for t in data.target])
    ours = cli_metrics(tmp_path, "train", "--dataset", path, "--target", "progression",
                       "--features", "1:11")
    X_train, X_test, y_train, y_test = scikit_split(path, "progression", "1:11", False, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = neural_network.MLPRegressor(random_state=0, max_iter=2000)
        theirs = reference.fit(X_train, y_train).score(X_test, y_test)
    assert ours["task"] == "regression" and ours["test_samples"] == len(y_test)
    assert ours["test_r2"] >= theirs - 0.03, (ours["test_r2"], theirs)
    assert ours["test_mae"] < 50
