"""Tests for the ``mlpkit`` command line, run as ``python -m mlpkit`` in a subprocess (and, for
the many error messages, through ``cli.main`` in-process, which is faster)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlpkit import cli
from mlpkit.datasets import gaussians

# small, fast settings for toy problems
FAST = ["--recipe", "fast", "--hidden", "8", "--epochs", "30", "--early-stopping", "0",
        "--validation-split", "0", "--batch-size", "16", "--learning-rate", "0.02"]


def mlpkit(*args: str, timeout: float = 300, check_rc: int | None = 0):
    env = {**os.environ, "COLUMNS": "100"}
    result = subprocess.run([sys.executable, "-m", "mlpkit", *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, env=env)
    if check_rc is not None:
        assert result.returncode == check_rc, result.stderr
    return result


def write_pgm(path: Path, image: np.ndarray) -> None:
    pixels = np.clip(image * 255, 0, 255).astype(np.uint8)
    path.write_bytes(b"P5\n%d %d\n255\n" % (pixels.shape[1], pixels.shape[0]) + pixels.tobytes())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One quiet training run on the circle problem with every output switched on."""
    folder = tmp_path_factory.mktemp("run")
    result = mlpkit("train", "--dataset", "circle", "--n-samples", "200", *FAST, "--quiet",
                    "--save", folder / "model.mlpk", "--plots", folder / "plots",
                    "--metrics-json", folder / "metrics.json")
    return folder, result


def test_quiet_train_prints_one_result_line_and_writes_everything(trained):
    folder, result = trained
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    assert line.startswith("test accuracy ") and "after 30 epochs" in line
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics) >= {"test_accuracy", "test_loss", "epochs", "seconds"}
    assert metrics["epochs"] == 30 and metrics["test_samples"] == 40
    assert metrics["test_accuracy"] >= 0.9  # a circle is easy for 8 ReLU units
    assert f"{100 * metrics['test_accuracy']:.2f}%" in line
    for name in ("history.png", "confusion_matrix.png", "decision_regions.png"):
        assert (folder / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "model.mlpk").is_file()
    assert (folder / "model.toml").read_text() == (folder / "plots" / "run.toml").read_text()


def test_config_repeats_the_run_exactly(trained, tmp_path):
    folder, _ = trained
    mlpkit("train", "--config", folder / "model.toml", "--quiet",
           "--metrics-json", tmp_path / "again.json")
    first = json.loads((folder / "metrics.json").read_text())
    again = json.loads((tmp_path / "again.json").read_text())
    for key in ("test_accuracy", "test_loss", "final_training_loss", "epochs"):
        assert again[key] == first[key]


def test_command_line_overrides_the_config(trained, tmp_path):
    folder, _ = trained
    result = mlpkit("train", "--config", folder / "model.toml", "--epochs", "2", "--quiet")
    assert "after 2 epochs" in result.stdout


def test_info_shows_architecture_and_training_record(trained):
    folder, _ = trained
    out = mlpkit("info", folder / "model.mlpk").stdout
    assert "network 2-8-2" in out and "42 parameters" in out
    assert "trained on circle" in out and "30 epochs" in out
    assert "test accuracy" in out


def test_evaluate_reproduces_the_test_accuracy(trained):
    folder, _ = trained
    metrics = json.loads((folder / "metrics.json").read_text())
    # the data set, its size, noise, split and seed come from the options saved in the model
    out = mlpkit("evaluate", folder / "model.mlpk").stdout
    assert out.splitlines()[0].startswith(f"test accuracy {100 * metrics['test_accuracy']:.2f}%")
    assert "confusion matrix" in out and "precision" in out


def test_evaluate_on_another_dataset_warns(trained):
    folder, _ = trained
    result = mlpkit("evaluate", folder / "model.mlpk", "--dataset", "xor_quadrants")
    assert "trained on 'circle', evaluating it on 'xor_quadrants'" in result.stderr
    assert result.stdout.startswith("xor_quadrants: accuracy")  # not a "test accuracy"


def test_predict_on_a_csv_prints_class_and_probabilities(trained, tmp_path):
    folder, _ = trained
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2\n0.0,0.0\n3.0,3.0\n")
    lines = mlpkit("predict", folder / "model.mlpk", csv).stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("row 1  ") and lines[1].startswith("row 2  ")
    probabilities = [float(part.split(": ")[1].rstrip(")")) for part in
                     lines[0].split("(", 1)[1].split("  ")]
    assert abs(sum(probabilities) - 1.0) < 0.01  # both classes listed, summing to 1
    # the centre is inside the circle, (3, 3) far outside: different classes
    assert lines[0].split()[2] != lines[1].split()[2]


def test_default_output_has_epoch_lines_table_and_no_bar_when_not_a_terminal(tmp_path):
    X, y = gaussians(n_samples=120, noise=0.5, seed=1)
    csv = tmp_path / "blobs.csv"
    rows = "\n".join(f"{a:.5f},{b:.5f},{c}" for (a, b), c in zip(X, y, strict=True))
    csv.write_text("a,b,label\n" + rows + "\n")
    result = mlpkit("train", "--dataset", csv, *FAST[:-6], "--epochs", "3")
    epoch_lines = [line for line in result.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    assert "\r" not in result.stderr and "batch/s" not in result.stderr
    assert "CSV file" in result.stderr and "network 2-8-" in result.stderr
    assert "precision" in result.stdout
    assert "confusion matrix (rows: true class, columns: predicted class)" in result.stdout


def test_image_folder_train_and_predict(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "shapes"
    for name, bright in (("dark", 0.1), ("light", 0.9)):
        (root / name).mkdir(parents=True)
        for i in range(12):
            write_pgm(root / name / f"{i}.pgm", np.clip(bright + 0.05 * rng.normal(size=(4, 5)),
                                                         0, 1))
    model = tmp_path / "shapes.mlpk"
    mlpkit("train", "--dataset", root, *FAST, "--quiet", "--save", model,
           "--plots", tmp_path / "plots")
    assert (tmp_path / "plots" / "weights.png").is_file()  # 4x5 tiles of the 8 hidden units
    single = mlpkit("predict", model, root / "light" / "0.pgm").stdout
    assert single.split()[:2] == ["0.pgm", "light"]
    lines = mlpkit("predict", model, root).stdout.splitlines()
    assert len(lines) == 24
    assert sum(line.split()[1] == Path(line.split()[0]).parent.name for line in lines) >= 22
    wrong = tmp_path / "big.pgm"
    write_pgm(wrong, np.zeros((6, 6)))
    bad = mlpkit("predict", model, wrong, check_rc=2)
    assert "model expects 4x5 images" in bad.stderr


def interrupt_a_long_run(*options) -> tuple[int, str, str]:
    """Start a 100,000-epoch run, press Ctrl-C once epoch 2 is reported; (code, stdout, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mlpkit", "train", "--dataset", "xor", "--n-samples", "400",
         "--hidden", "4", "--epochs", "100000", *map(str, options)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stderr:
            if line.startswith("epoch 2/"):
                break
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    return process.returncode, stdout, stderr


def test_ctrl_c_stops_after_the_batch_saves_and_exits_130(tmp_path):
    model = tmp_path / "stopped.mlpk"
    code, stdout, stderr = interrupt_a_long_run("--save", model)
    assert code == 130
    assert "stopping after the current batch" in stderr
    assert "test accuracy" in stdout and "interrupted" in stdout
    assert model.is_file()
    assert "stopped by interrupted" in mlpkit("info", model).stdout


def test_ctrl_c_with_checkpoint_reports_saves_and_says_how_to_resume(tmp_path):
    model, folder = tmp_path / "stopped.mlpk", tmp_path / "ckpt"
    code, stdout, stderr = interrupt_a_long_run("--save", model, "--checkpoint", folder)
    assert code == 130
    assert "test accuracy" in stdout  # the report of what was trained
    assert f"resume with --checkpoint {folder} --resume" in stderr
    assert model.is_file() and (folder / "checkpoint.mlpk").is_file()


def test_python_dash_m_and_version():
    result = mlpkit("--version")
    assert result.stdout.startswith("mlpkit ")


# --------------------------------------------------------------------- errors (in-process)
def run_main(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: COMMAND"),
        (("train", "--epochs", "-1"), "expected an integer >= 0, got -1"),
        (("train", "--optimizer", "rmsprop"), "invalid choice: 'rmsprop'"),
        (("train", "--dataset", "nonsense"), "unknown dataset 'nonsense'"),
        (("train", "--dataset", "xor", "--validation-split", "1.5"),
         "argument --validation-split: expected a number in [0, 1), got 1.5"),
        # issue 13: every message names the option and what was given
        (("train", "--seed", "-1"), "argument --seed: expected an integer >= 0, got -1"),
        (("train", "--epochs", "ten"), "argument --epochs: expected an integer >= 0, got 'ten'"),
        (("train", "--noise", "-0.5"), "argument --noise: expected a number >= 0, got -0.5"),
        (("train", "--learning-rate", "0"), "argument --learning-rate/--lr: expected a positive"),
        (("train", "--test-size", "1"), "argument --test-size: expected a number in (0, 1), got 1"),
        (("train", "--dropout", "1"), "argument --dropout: expected a number in [0, 1), got 1"),
        (("train", "--momentum", "-1"), "argument --momentum: expected a number in [0, 1)"),
        (("train", "--hidden", "0"), "argument --hidden: expected hidden layer sizes >= 1, got 0"),
        (("train", "--delimiter", ";;"), "argument --delimiter: expected one character"),
        (("train", "--init", "zeros"), "argument --init: expected an initialiser"),
        (("trace", "--input", "1,x", "--target", "1"), "argument --input: expected numbers"),
        (("trace", "--input", "1", "--target", "1", "--sizes", "2-a"), "--sizes: expected"),
        (("predict", "missing.mlpk", "x.csv", "--top", "0"), "argument --top: expected a positive"),
        (("train", "--dataset", "xor", "--activation", "swish"), "activation"),
        (("train", "--dataset", "xor", "--config", "missing.toml"), "missing.toml"),
        (("evaluate", "missing.mlpk"), "model file 'missing.mlpk' does not exist"),
        (("info", "missing.mlpk"), "mlpkit train --save"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(capsys, args, message):
    code, err = run_main(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("mlpkit: error: ")
    assert message in err


def test_config_errors_name_the_option(capsys, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('dataset = "xor"\nlearning-rat = 0.1\n')
    code, err = run_main(capsys, "train", "--config", config)
    assert code == 2 and "unknown option 'learning_rat'" in err
    config.write_text('dataset = "xor"\nepochs = "many"\n')
    code, err = run_main(capsys, "train", "--config", config)
    assert code == 2 and "epochs = 'many'" in err
    config.write_text("dataset = [\n")
    code, err = run_main(capsys, "train", "--config", config)
    assert code == 2 and "is not valid TOML" in err


def test_csv_with_text_labels_cannot_be_a_regression(capsys, tmp_path):
    csv = tmp_path / "labels.csv"
    csv.write_text("x,y\n0.1,cat\n0.2,dog\n0.3,cat\n")
    code, err = run_main(capsys, "train", "--dataset", csv, "--task", "regression")
    assert code == 2 and "--task regression: the target column" in err and "'cat'" in err


def test_mnist_quick_run(data_dir, tmp_path):
    result = mlpkit("train", "--dataset", "mnist", "--epochs", "1", "--train-size", "3000",
                    "--quiet", "--plots", tmp_path, "--metrics-json", tmp_path / "m.json")
    metrics = json.loads((tmp_path / "m.json").read_text())
    assert metrics["train_samples"] == 3000 and metrics["test_samples"] == 10000
    assert metrics["test_accuracy"] > 0.6
    assert result.stdout.startswith("test accuracy")
    assert (tmp_path / "weights.png").stat().st_size > 10000
