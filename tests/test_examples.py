"""Every example script runs on reduced sizes, prints its measurements and writes its figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# script, extra arguments, text its output must contain, figures it must write
CASES = [
    ("shuffling.py", [], "shuffled every epoch", 3),
    ("learning_slowdown.py", [], "binary_cross_entropy", 1),
    ("decision_regions.py", ["--hidden", "1", "8"], "hidden units", 2),
    ("forward_vs_backward.py", [], "log-log slope", 1),
    ("perceptron_gates.py", [], "not linearly separable", 0),
    ("hidden_units.py", [], "test accuracy", 2),
]


def run(script: str, args: list[str], out: Path, env_extra: dict | None = None):
    env = {**os.environ, "MPLBACKEND": "Agg", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", "--out", str(out), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize(("script", "args", "expected", "n_figures"), CASES)
def test_example_runs_quickly(tmp_path, script, args, expected, n_figures):
    if script == "hidden_units.py":
        pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    result = run(script, args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert len(list(tmp_path.glob("*.png"))) == n_figures


def test_hidden_units_on_mnist_when_data_present(tmp_path):
    data = os.environ.get("MLPKIT_DATA")
    if not data or not (Path(data) / "mnist").is_dir():
        pytest.skip("MLPKIT_DATA is not set to a folder with mnist/")
    pytest.importorskip("matplotlib")
    result = run("hidden_units.py", ["--dataset", "mnist", "--n-train", "1000"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "mnist: 1000 training images" in result.stdout
    assert (tmp_path / "hidden_units_mnist.png").is_file()
