"""Issue 13, your own data end to end through the ``mlpkit`` command (in-process, through
``cli.main``): each problem the issue lists has a test here that failed before and passes now.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit import cli
from mlpkit.datasets import gaussians

ROOT = Path(__file__).resolve().parents[2]
# small and quick: the toy sets train in about a second with these
QUICK = ["--epochs", "40", "--quiet"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write_rows(path: Path, header: list[str] | None, rows) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def vowels(tmp_path) -> Path:
    """Two formant-like features, a speaker id and string labels (IY, AA), with a header."""
    X, y = gaussians(n_samples=240, noise=0.3, seed=3)
    rows = [[f"s{i % 7:02d}", f"{a:.4f}", f"{b:.4f}", "IY" if c else "AA"]
            for i, ((a, b), c) in enumerate(zip(X, y, strict=True))]
    return write_rows(tmp_path / "vowels.csv", ["speaker", "f1", "f2", "vowel"], rows)


# ----------------------------------------------------- make demo without network or data
def test_auto_dataset_trains_on_the_bundled_digits_offline_and_says_why(
        capsys, tmp_path, monkeypatch):
    from mlpkit.data import datasets

    pytest.importorskip("sklearn")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MLPKIT_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", ())
    # no network: every mirror refuses the connection at once
    monkeypatch.setitem(datasets.MIRRORS, "mnist", ("http://127.0.0.1:9/",))
    code, out, err = run(capsys, "train", "--dataset", "auto", "--epochs", "2",
                         "--plots", tmp_path / "demo")
    assert code == 0, err
    assert ("dataset auto: MNIST is not on this machine and could not be downloaded: training "
            "on the 1,797 8x8 digits bundled with scikit-learn instead") in err
    assert out.startswith("test accuracy ") and float(out.split()[2].rstrip("%")) > 80
    assert (tmp_path / "demo" / "weights.png").is_file()


def test_make_demo_uses_the_auto_dataset():
    demo = ROOT.joinpath("Makefile").read_text().split("\ndemo:")[1].split("\n\n")[0]
    assert "--dataset auto" in demo and "--force" in demo


# --------------------------------------------------- binary models with one output unit
def test_one_sigmoid_output_predicts_and_evaluates(capsys, tmp_path):
    # the README's 2-3-1 XOR network, trained with the library and saved without metadata
    X, y = mlpkit.datasets.xor(400, noise=0.1, seed=0)
    network = mlpkit.mlp([2, 3, 1], activation="sigmoid", seed=1, init="glorot")
    mlpkit.train(network, X, y[:, None], loss="binary_cross_entropy",
                 optimizer=mlpkit.Adam(0.05), epochs=100, batch_size=16, seed=0)
    model = tmp_path / "xor.mlpk"
    mlpkit.save(network, model)
    points = write_rows(tmp_path / "p.csv", ["a", "b"], [[0, 0], [0, 1], [1, 0], [1, 1]])
    code, out, err = run(capsys, "predict", model, points)
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()] == ["0", "1", "1", "0"]
    code, out, err = run(capsys, "evaluate", model, "--dataset", "xor")
    assert code == 0, err
    # the model does not say what it was trained on: the line names the data, not "test"
    assert out.startswith("xor: accuracy") and float(out.split()[2].rstrip("%")) >= 95
    assert "confusion matrix" in out and "zip()" not in out + err


def test_cli_trains_one_sigmoid_unit_with_binary_cross_entropy(capsys, vowels, tmp_path):
    model = tmp_path / "m.mlpk"
    code, out, err = run(capsys, "train", "--dataset", vowels, "--features", "f1,f2",
                         "--target", "vowel", "--output-activation", "sigmoid",
                         "--loss", "binary_cross_entropy", "--save", model, *QUICK)
    assert code == 0, err
    assert mlpkit.load(model).n_outputs == 1
    code, out, err = run(capsys, "evaluate", model)
    assert code == 0 and "AA" in out and "IY" in out and "confusion matrix" in out


# ------------------------------------------------------------- CSV headers and labels
def test_headerless_csv_keeps_its_first_row(capsys, tmp_path):
    X, y = gaussians(n_samples=100, noise=0.2, seed=0)
    path = write_rows(tmp_path / "h.csv", None, [[*x, c] for x, c in zip(X, y, strict=True)])
    code, _out, err = run(capsys, "train", "--dataset", path, "--epochs", "5")
    assert code == 0, err
    assert "80 training and 20 test samples" in err  # all 100 rows (before: 99)


def test_string_labels_are_kept_everywhere(capsys, vowels, tmp_path):
    model, predictions = tmp_path / "v.mlpk", tmp_path / "pred.csv"
    code, out, err = run(capsys, "train", "--dataset", vowels, "--features", "f1,f2",
                         "--target", "vowel", "--save", model, "--epochs", "40")
    assert code == 0, err
    assert "AA" in out and "IY" in out  # per-class table and confusion matrix
    assert mlpkit.load(model).metadata["class_names"] == ["AA", "IY"]
    code, out, err = run(capsys, "predict", model, vowels, "--output", predictions)
    assert code == 0, err
    assert {line.split()[2] for line in out.splitlines()} == {"AA", "IY"}
    rows = list(csv.reader(predictions.read_text().splitlines()))
    assert rows[0] == ["input", "label", "p_AA", "p_IY"] and len(rows) == 241
    truth = [r[3] for r in csv.reader(vowels.read_text().splitlines())][1:]
    assert np.mean([r[1] == t for r, t in zip(rows[1:], truth, strict=True)]) > 0.9
    assert abs(float(rows[1][2]) + float(rows[1][3]) - 1) < 1e-5


def test_missing_values_are_refused_with_row_and_column(capsys, tmp_path):
    path = write_rows(tmp_path / "m.csv", ["a", "b", "y"], [[1, 2, 0], [3, "", 1], [4, 5, 0]])
    code, _out, err = run(capsys, "train", "--dataset", path)
    assert code == 2 and "line 3, column 2 ('b'): missing value" in err


# ------------------------------------------------------------ predict checks the columns
@pytest.fixture
def table_model(capsys, tmp_path):
    X, y = gaussians(n_samples=200, noise=0.2, seed=0)
    path = write_rows(tmp_path / "t.csv", ["a", "b", "label"],
                      [[f"{u:.4f}", f"{v:.4f}", c] for (u, v), c in zip(X, y, strict=True)])
    model = tmp_path / "t.mlpk"
    assert run(capsys, "train", "--dataset", path, "--save", model, *QUICK)[0] == 0
    return model, X


def test_predict_matches_columns_by_name(capsys, tmp_path, table_model):
    model, X = table_model
    plain = write_rows(tmp_path / "plain.csv", ["a", "b"], X[:20])
    shuffled = write_rows(tmp_path / "shuffled.csv", ["id", "b", "a", "label"],
                          [[i, v, u, "?"] for i, (u, v) in enumerate(X[:20])])
    first = run(capsys, "predict", model, plain)[1]
    code, second, err = run(capsys, "predict", model, shuffled)
    assert code == 0, err
    assert second == first  # the extra id and label columns left out, a and b found by name


def test_predict_refuses_columns_that_do_not_match(capsys, tmp_path, table_model):
    model, X = table_model
    wrong = write_rows(tmp_path / "w.csv", ["a", "c"], X[:3])
    code, _, err = run(capsys, "predict", model, wrong)
    assert code == 2 and "lacks the column(s) 'b' the model was trained on" in err
    headerless = write_rows(tmp_path / "n.csv", None, [[i, u, v] for i, (u, v) in enumerate(X)])
    code, _, err = run(capsys, "predict", model, headerless)
    assert code == 2 and "has 3 columns but the model expects 2 (a, b)" in err
    assert "--features" in err
    code, out, err = run(capsys, "predict", model, headerless, "--features", "1:")
    assert code == 0 and len(out.splitlines()) == 200


def test_image_model_scales_0_255_pixels_and_refuses_a_label_column(capsys, tmp_path):
    pytest.importorskip("sklearn")
    model = tmp_path / "d.mlpk"
    assert run(capsys, "train", "--dataset", "digits", "--epochs", "3", "--quiet",
               "--save", model)[0] == 0
    X, y = mlpkit.load_digits()
    pixels = np.round(X[:50] * 255).astype(int)
    kaggle = write_rows(tmp_path / "k.csv", ["label", *(f"pixel{i}" for i in range(64))],
                        [[c, *p] for c, p in zip(y[:50], pixels, strict=True)])
    code, _, err = run(capsys, "predict", model, kaggle)
    assert code == 2 and "has 65 columns but the model expects 64" in err  # not shifted
    code, out, err = run(capsys, "predict", model, kaggle, "--features", "1:")
    assert code == 0 and "divided by 255" in err
    predicted = [int(line.split()[2]) for line in out.splitlines()]
    assert np.mean(np.array(predicted) == y[:50]) > 0.8


# -------------------------------------------------------------------------- regression
def test_integer_regression_target_is_a_regression(capsys, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 3))
    price = np.round(300 + 100 * X[:, 0] - 50 * X[:, 1] ** 2 + 20 * X[:, 2]).astype(int)
    path = write_rows(tmp_path / "r.csv", ["x0", "x1", "x2", "price"],
                      [[*x, p] for x, p in zip(X, price, strict=True)])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run(capsys, "train", "--dataset", path, "--metrics-json",
                         out_dir / "m.json", "--plots", out_dir, "--save", out_dir / "r.mlpk",
                         "--quiet")
    assert code == 0, err
    assert "distinct integers: taken as a regression target" in err
    metrics = json.loads((out_dir / "m.json").read_text())
    assert metrics["task"] == "regression" and metrics["test_r2"] > 0.9
    assert metrics["test_mae"] < 10 and "test_accuracy" not in metrics
    assert out.startswith("test R² ")
    assert (out_dir / "predicted_vs_true.png").read_bytes()[:4] == b"\x89PNG"
    code, again, _ = run(capsys, "evaluate", out_dir / "r.mlpk")
    assert again.split()[:3] == out.split()[:3]  # same held-out part, same R²
    code, predicted, _ = run(capsys, "predict", out_dir / "r.mlpk", path)
    values = np.array([float(line.split()[2]) for line in predicted.splitlines()])
    assert np.mean(np.abs(values - price)) < 10  # in the target's units


def test_task_override_and_many_classes_warning(capsys, tmp_path):
    path = write_rows(tmp_path / "c.csv", ["x", "y"], [[i / 30, i] for i in range(30)])
    code, _out, err = run(capsys, "train", "--dataset", path, "--task", "classification",
                         "--epochs", "1", "--quiet")
    assert code == 0 and "regression target" not in err


# ------------------------------------------------------------ outputs checked up front
def test_output_paths_are_checked_before_training(capsys, tmp_path):
    code, out, err = run(capsys, "train", "--dataset", "circle", "--save",
                         tmp_path / "typo" / "m.mlpk")
    assert code == 2 and "the folder" in err and "does not exist" in err
    assert "epoch" not in err  # nothing trained
    existing = tmp_path / "metrics.json"
    existing.write_text("keep me")
    code, out, err = run(capsys, "train", "--dataset", "circle", "--metrics-json", existing)
    assert code == 2 and "already exists; pass --force" in err
    assert existing.read_text() == "keep me"
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "history.png").write_text("old")
    code, out, err = run(capsys, "train", "--dataset", "circle", "--plots", tmp_path / "plots")
    assert code == 2 and "already holds history.png" in err and out == ""
    code, _out, err = run(capsys, "train", "--dataset", "circle", "--metrics-json", existing,
                         "--force", "--epochs", "1", "--quiet")
    assert code == 0 and json.loads(existing.read_text())["epochs"] == 1
    code, _, err = run(capsys, "predict", "missing.mlpk", "x.csv", "--output", existing)
    assert code == 2 and "--output" in err and "already exists" in err


# --------------------------------------------------------------- defaults on the toy sets
@pytest.mark.parametrize("name", ["circle", "xor", "gaussians", "spiral"])
def test_toy_sets_reach_95_percent_with_the_defaults(capsys, tmp_path, name):
    code, _out, err = run(capsys, "train", "--dataset", name, "--quiet",
                         "--metrics-json", tmp_path / "m.json")
    assert code == 0, err
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["test_samples"] == 80  # 400 points, 20% held out (xor: not the 4-row table)
    assert metrics["test_accuracy"] >= 0.95


def test_optimizer_switch_brings_its_learning_rate(capsys):
    code, out, err = run(capsys, "train", "--dataset", "circle", "--recipe", "lecture",
                         "--optimizer", "adam", "--epochs", "1")
    assert code == 0 and out.startswith("test accuracy")
    assert "--optimizer adam: learning rate 0.001" in err and "adam eta=0.001" in err
    code, _out, err = run(capsys, "train", "--dataset", "circle", "--recipe", "lecture",
                         "--optimizer", "adam", "--learning-rate", "0.05", "--epochs", "1")
    assert "adam eta=0.05" in err


# ------------------------------------------------------------------------- trace, info
def test_trace_uses_the_models_loss_and_summarises_large_networks(capsys, tmp_path):
    model = tmp_path / "big.mlpk"
    assert run(capsys, "train", "--dataset", "circle", "--recipe", "fast", "--epochs", "1",
               "--quiet", "--save", model)[0] == 0
    code, out, _ = run(capsys, "trace", model, "--input", "0.1,0.2", "--target", "1")
    assert code == 0
    assert "loss cross_entropy" in out.splitlines()[0]
    assert len(out.splitlines()) < 40 and "--full prints all 33,922 parameters" in out
    code, full, _ = run(capsys, "trace", model, "--input", "0.1,0.2", "--target", "1", "--full")
    assert len(full.splitlines()) > 30000


def test_info_prints_the_layer_table_inputs_and_classes(capsys, vowels, tmp_path):
    model = tmp_path / "v.mlpk"
    assert run(capsys, "train", "--dataset", vowels, "--features", "f1,f2", "--target",
               "vowel", "--save", model, "--epochs", "2", "--quiet")[0] == 0
    _code, out, _ = run(capsys, "info", model)
    assert "Layer (type)" in out and "dense_1 (Dense)" in out and "Total params: 4,482" in out
    assert "inputs: 2 features (f1, f2)" in out and "classes: AA, IY" in out


# -------------------------------------------------------------------- continue training
def test_init_continues_a_saved_model_with_its_optimizer_state(capsys, tmp_path):
    first, second = tmp_path / "a.mlpk", tmp_path / "b.mlpk"
    assert run(capsys, "train", "--dataset", "circle", "--epochs", "3", "--quiet",
               "--save", first)[0] == 0
    code, _out, err = run(capsys, "train", "--init", first, "--epochs", "2", "--save", second)
    assert code == 0, err
    assert f"continuing {first}; toy set circle" in err
    saved = mlpkit.read_model_file(second)
    assert saved.history.epochs == 5
    assert saved.optimizer.step_count == 5 * 10  # 320 samples in batches of 32, 5 epochs
    assert saved.optimizer.learning_rate == 0.01  # the model's option
    assert run(capsys, "train", "--init", first, "--epochs", "1", "--learning-rate", "0.002",
               "--save", second, "--force", "--quiet")[0] == 0
    assert mlpkit.read_model_file(second).optimizer.learning_rate == 0.002
    code, _, err = run(capsys, "train", "--init", first, "--epochs", "1", "--save", first)
    assert code == 2 and "already exists; pass --force" in err


# -------------------------------------------------------------------------------- export
def test_export_onnx(capsys, tmp_path, table_model):
    ort = pytest.importorskip("onnxruntime")
    model, X = table_model
    code, _out, err = run(capsys, "export", model, "--onnx", tmp_path / "t.onnx")
    assert code == 0, err
    network = mlpkit.load(model)
    from mlpkit.cli._data import apply_input

    inputs = apply_input(X[:10], network).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "t.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": inputs})[0], network.forward(inputs),
                               rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ evaluate says what it is
def test_evaluate_on_another_split_says_it_is_not_a_test_score(capsys, tmp_path, table_model):
    model, _X = table_model
    code, out, _ = run(capsys, "evaluate", model)
    assert code == 0 and out.startswith("test accuracy")
    _code, out, _ = run(capsys, "evaluate", model, "--seed", "5")
    assert out.startswith("training-data accuracy") and "not a test score" in out


# ---------------------------------------------------------- models written before issue 13
def test_a_model_without_the_new_metadata_still_predicts_and_evaluates(capsys, tmp_path):
    X, y = gaussians(n_samples=200, noise=0.2, seed=0)
    scaler = mlpkit.Standardizer().fit(X)
    network = mlpkit.mlp([2, 8, 2], activation="tanh", output_activation="softmax", seed=0)
    mlpkit.train(network, scaler.transform(X), y, loss="cross_entropy",
                 optimizer=mlpkit.Adam(0.05), epochs=30, seed=0)
    old = {"class_names": ["0", "1"], "dataset": "gaussians", "loss": "cross_entropy",
           "input": {"kind": "table", "standardizer": scaler.to_dict()},
           "config": {"dataset": "gaussians", "seed": 0, "test_size": 0.2, "noise": 0.2,
                      "n_samples": 200, "target": "-1"}}  # as mlpkit 0.1.0 wrote it
    model = tmp_path / "old.mlpk"
    mlpkit.save(network, model, old)
    points = write_rows(tmp_path / "p.csv", ["x1", "x2"], X[:10])
    code, out, err = run(capsys, "predict", model, points)
    assert code == 0, err
    assert [line.split()[2] for line in out.splitlines()] == [str(c) for c in y[:10]]
    code, out, err = run(capsys, "evaluate", model)
    assert code == 0 and out.startswith("test accuracy"), err
    code, out, _ = run(capsys, "info", model)
    assert code == 0 and "classes: 0, 1" in out
