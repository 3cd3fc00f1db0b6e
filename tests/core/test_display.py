"""How objects show themselves in Jupyter (``_repr_html_``) and in a terminal (``repr``)."""

from __future__ import annotations

import ast
import io
import math
import re
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit import _display
from mlpkit.training import progress


def _cells(html: str) -> list[list[str]]:
    """The text of each table row's cells."""
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html)]  # fmt: skip


def test_display_module_builds_strings_only():
    tree = ast.parse(Path(_display.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "annotations", "html", "escape", "math", "typing", "Any"}


def test_network_html_lists_every_layer_and_the_total():
    network = mlpkit.mlp([4, 3, 2], "tanh", "softmax", dropout=0.5, seed=0)
    rows = _cells(network._repr_html_())
    assert rows[0] == ["#", "layer", "inputs → units", "activation σ", "bias", "parameters"]
    assert rows[1] == ["1", "Dense", "4 → 3", "tanh", "yes", "15"]
    assert rows[2][1] == "Dropout(0.5)"
    assert rows[3] == ["3", "Dense", "3 → 2", "softmax", "yes", "8"]
    assert rows[4][1:] == ["total", "", "", "", "23"]
    assert "Network 4-3-2 (float32)" in network._repr_html_()


def test_dense_html_shows_shapes_and_parameter_range():
    layer = mlpkit.Dense(2, 3, activation="relu", bias=False, seed=0)
    layer.weights = np.array([[-1.0, 0.0, 2.0], [0.5, 0.5, 0.5]])
    rows = _cells(layer._repr_html_())
    assert rows[1] == ["weights W", "(2, 3)", "float32", "-1 / 0.417 / 2"]
    assert rows[2] == ["biases b", "–", "–", "–"]
    assert "a = relu(z)" in layer._repr_html_()


def _history(epochs: int, best: int | None = None) -> mlpkit.History:
    history = mlpkit.History(stop_reason="early_stopping" if best is not None else "max_epochs",
                             best_epoch=best)  # fmt: skip
    for e in range(epochs):
        history.append(loss=1.0 / (e + 1), accuracy=0.5 + e / 100, val_loss=math.nan,
                       val_accuracy=math.nan, learning_rate=0.1, seconds=0.25)  # fmt: skip
    return history


def test_history_html_one_row_per_epoch_without_empty_columns():
    rows = _cells(_history(3, best=1)._repr_html_())
    assert rows[0] == ["epoch", "loss", "accuracy", "η", "seconds"]  # no validation columns
    assert rows[1] == ["1", "1.0000", "50.00%", "0.1", "0.25"]
    assert len(rows) == 4
    html = _history(3, best=1)._repr_html_()
    assert '<tr style="font-weight: bold;"><td style="text-align: left;">2</td>' in html
    assert "best epoch 2 (bold)" in html


def test_long_history_shows_first_and_last_epochs():
    rows = _cells(_display.history_html(_history(100), max_rows=10))
    epochs = [row[0] for row in rows[1:]]
    assert epochs == ["1", "2", "3", "4", "5", "…", "96", "97", "98", "99", "100"]


def test_history_repr_is_short_and_names_the_last_epoch():
    assert repr(_history(30)) == (
        "History(epochs=30, loss=0.0333, accuracy=79.00%, stop_reason='max_epochs')")
    assert repr(mlpkit.History()) == "History(epochs=0)"


def test_step_trace_html_has_a_table_per_block_and_a_short_repr():
    network = mlpkit.mlp([2, 2, 2], seed=0, dtype=np.float64)
    trace = mlpkit.trace_step(network, [[0.05, 0.10]], [[0.01, 0.99]], "squared_error",
                              mlpkit.SGD(0.5))  # fmt: skip
    html = trace._repr_html_()
    titles = [title for title, _, _ in trace._blocks(6)]
    assert html.count("<table") == len(titles) == 6
    for title in titles:
        assert f"<h4>{title}</h4>" in html
    assert repr(trace).startswith("StepTrace(loss='squared_error', E=")
    assert repr(trace).endswith("layers=2, applied=False)")


def test_html_is_escaped():
    html = _display.html_table(["<a>"], [["x & y"]], caption="<b>")
    assert "&lt;a&gt;" in html and "x &amp; y" in html and "&lt;b&gt;" in html


def test_history_plot_draws_loss_and_accuracy(tmp_path):
    pytest.importorskip("matplotlib")
    figure = _history(5, best=2).plot(tmp_path / "history.png")
    assert len(figure.axes) == 2
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"


def test_progress_bar_is_drawn_in_a_notebook(monkeypatch):
    pytest.importorskip("tqdm")
    assert not progress.in_notebook()  # pytest is no Jupyter kernel
    stream = io.StringIO()  # not a terminal: no bar ...
    bar = progress.ProgressBar(epochs=1, stream=stream)
    bar.on_train_begin(None, None, 3)
    bar.on_epoch_begin(0)
    assert bar.bar.disable
    bar.on_train_end(None)
    monkeypatch.setattr(progress, "in_notebook", lambda: True)  # ... unless in Jupyter
    bar.on_epoch_begin(0)
    assert not bar.bar.disable
    bar.on_train_end(None)


def test_estimator_verbose_draws_a_bar_in_a_notebook(monkeypatch):
    pytest.importorskip("tqdm")
    estimators = pytest.importorskip("mlpkit.sklearn")
    model = estimators.MLPClassifier(verbose=True)
    assert model._progress_callbacks(3) == []  # scikit-learn's "Iteration k" lines instead
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert [type(c).__name__ for c in model._progress_callbacks(3)] == ["ProgressBar"]
