"""Regression tests for the findings of the fuzz campaigns (issue 17), one input each.

The same inputs sit in ``fuzz/corpus/<target>/regression-*`` (replayed by test_fuzz.py); here
each one is checked for the exact error it must now give.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit.cli.config import load_config
from mlpkit.data.idx import IDXFormatError, read_idx
from mlpkit.io import model_file
from mlpkit.training.checkpoint import CHECKPOINT_NAME, CheckpointError
from mlpkit.training.history import History

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fuzz"))
from _forge import forge, split

ISSUE17_IDX = base64.b64decode("AAANBgAACAMAAAAAAAAAISEhISEhISEhISEhAA==")


def test_idx_zero_dimension_beside_huge_ones_is_the_readers_error(tmp_path: Path) -> None:
    """Issue 17: float32, 6 dimensions, one of them 0: NumPy's "array is too big" leaked."""
    assert len(ISSUE17_IDX) == 28
    path = tmp_path / "bomb.idx"
    path.write_bytes(ISSUE17_IDX)
    with pytest.raises(IDXFormatError) as error:
        read_idx(path, max_bytes=1 << 20)
    message = str(error.value)
    assert str(path) in message and "(2051, 0, 33, 555819297, 555819297, 555819264)" in message
    assert "more than NumPy can index" in message


def test_idx_zero_dimension_with_small_ones_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "empty.idx"
    mlpkit.write_idx(path, np.zeros((0, 3, 4), dtype=np.float32))
    assert read_idx(path).shape == (0, 3, 4)


def test_config_file_that_is_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_bytes(b"epochs = 3\n\xff\n")
    with pytest.raises(ValueError, match=r"run\.toml.*is not UTF-8 text"):
        load_config(path)


# -- model files ------------------------------------------------------------------------------
def trained(optimizer: mlpkit.Optimizer | None = None):
    net = mlpkit.mlp([3, 4, 2], activation="tanh", output_activation="softmax", seed=0)
    optimizer = optimizer or mlpkit.Adam(0.01)
    X = np.random.default_rng(0).normal(size=(8, 3))
    history = mlpkit.train(net, X, np.arange(8) % 2, loss="cross_entropy", optimizer=optimizer,
                           epochs=2, batch_size=4, seed=0)
    return model_file.encode(net, optimizer=optimizer, history=history)


def rewrite(data: bytes, change) -> bytes:
    """``data`` with its JSON header changed by ``change(header)``; checksum made valid."""
    header, tensors = split(data)
    tree = json.loads(header)
    change(tree)
    return forge(json.dumps(tree).encode(), tensors)


def without_tensor(data: bytes, name: str, change=lambda tree: None) -> bytes:
    """``data`` without tensor ``name`` (table entry and bytes), then ``change(header)``."""
    header, tensors = split(data)
    tree = json.loads(header)
    entry = next(t for t in tree["tensors"] if t["name"] == name)
    start, n = entry["offset"], entry["nbytes"]
    tree["tensors"].remove(entry)
    for t in tree["tensors"]:
        if t["offset"] > start:
            t["offset"] -= n
    tree["data_bytes"] -= n
    change(tree)
    return forge(json.dumps(tree).encode(), tensors[:start] + tensors[start + n :])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda h: h["history"].update(loss=5), "history field 'loss' has the wrong type"),
        (lambda h: h["history"].update(accuracy=[]), "history lists have different lengths"),
        (lambda h: h["optimizer"]["state"].update(step_count=-3), "step_count must be"),
    ],
    ids=["history-not-a-list", "history-rows-unequal", "negative-adam-step"],
)
def test_model_file_with_inconsistent_parts_is_refused(change, match) -> None:
    with pytest.raises(model_file.ModelFileError, match=match):
        model_file.decode(rewrite(trained(), change), "m.mlpk")


def test_model_file_whose_optimizer_state_misses_an_array_is_refused() -> None:
    """Three Adam moments for four parameters loaded, then the first step hit an IndexError."""
    data = without_tensor(trained(), "optimizer.second_moments.3",
                          lambda tree: tree["optimizer"]["lists"].update(second_moments=3))
    with pytest.raises(model_file.ModelFileError, match=r"optimizer\.second_moments holds arrays"):
        model_file.decode(data, "m.mlpk")


def test_history_from_dict_checks_types() -> None:
    good = {"loss": [1.0, None], "accuracy": [0.5, 0.5], "val_loss": [1, 2],
            "val_accuracy": [0, 0], "learning_rate": [0.1, 0.1], "seconds": [1, 2],
            "stop_reason": "epochs", "best_epoch": 1}
    assert History.from_dict(good).epochs == 2
    for bad in ({"stop_reason": 3}, {"best_epoch": "x"}, {"loss": ["a"]}, {"loss": [True]}):
        with pytest.raises(ValueError, match="history field"):
            History.from_dict(bad)


# -- checkpoints ------------------------------------------------------------------------------
X = np.random.default_rng(0).normal(size=(12, 3))
T = (np.arange(12) % 2).astype(np.int64)


class StopAfter(mlpkit.Callback):
    def __init__(self, batches: int) -> None:
        self.left = batches

    def on_batch_end(self, epoch, batch, loss) -> None:
        self.left -= 1
        self.stop_training = self.left <= 0


def run(folder: Path, resume: bool, callbacks=()) -> tuple[mlpkit.Network, mlpkit.History]:
    net = mlpkit.mlp([3, 4, 2], activation="tanh", output_activation="softmax", seed=1)
    history = mlpkit.train(net, X, T, loss="cross_entropy", optimizer=mlpkit.Adam(0.01),
                           epochs=3, batch_size=4, seed=2, validation_split=0.25,
                           early_stopping=mlpkit.EarlyStopping(patience=2),
                           callbacks=list(callbacks), checkpoint=folder, resume=resume)
    return net, history


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("extra.best.3", "best weights"),
        (lambda h: h["history"].update(loss=3), "history field 'loss'"),
        (lambda h: h["metadata"]["checkpoint"].update(batch=99), "batch: 99 is past"),
        (lambda h: h["metadata"]["checkpoint"].pop("samples_seen"), "samples_seen: expected"),
        (lambda h: h["metadata"]["checkpoint"]["rng_state"]["state"].update(state=-1),
         "random generator state"),
        (lambda h: h["metadata"]["checkpoint"]["schedule"].update(current=None), "schedule."),
        (lambda h: h["metadata"]["checkpoint"]["stopper"].update(best=None), "stopper"),
        (lambda h: h["metadata"]["checkpoint"]["stopper"].pop("best_epoch"), "stopper"),
        (lambda h: h["metadata"]["checkpoint"].update(dropout_rng_states=[{}]),
         "dropout_rng_states"),
    ],
    ids=["best-weights-incomplete", "history-type", "batch-past-epoch", "field-missing",
         "rng-state-overflow", "schedule-rate-null", "stopper-best-null",
         "stopper-best-epoch-missing", "dropout-states"],
)
def test_damaged_checkpoint_state_is_refused_before_training(tmp_path: Path, change,
                                                             match) -> None:
    """Each of these resumed into a KeyError/TypeError/OverflowError or failed after training."""
    run(tmp_path, False, [StopAfter(4)])
    path = tmp_path / CHECKPOINT_NAME
    data = path.read_bytes()
    path.write_bytes(without_tensor(data, change) if isinstance(change, str)
                     else rewrite(data, change))
    with pytest.raises(CheckpointError, match=match) as error:
        run(tmp_path, True)
    assert str(tmp_path) in str(error.value)


def test_undamaged_checkpoint_still_resumes_to_the_uninterrupted_result(tmp_path: Path) -> None:
    run(tmp_path / "a", False, [StopAfter(4)])
    resumed, _ = run(tmp_path / "a", True)
    straight, _ = run(tmp_path / "b", False)
    for a, b in zip(resumed.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_config_file_with_an_integer_of_5000_digits_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text("epochs = " + "1" * 5000 + "\n")
    with pytest.raises(ValueError, match=r"run\.toml.*4300 digits"):
        load_config(path)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"P2\n2 2\n255\n0 1 2 2" + b"5" * 60 + b"\n", "PGM pixel value 2555"),
        (b"P2\n" + b"1" * 5000 + b" 2\n255\n0\n", "bad PGM header"),
    ],
    ids=["pixel-past-int64", "header-5000-digits"],
)
def test_pgm_with_huge_numbers_is_refused_naming_the_file(tmp_path: Path, data, match) -> None:
    """An OverflowError from np.array, and int()'s digit limit without the file name."""
    from mlpkit.data.images import read_image

    path = tmp_path / "x.pgm"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as error:
        read_image(path)
    assert str(path) in str(error.value)


def test_cli_refuses_a_hidden_layer_too_large_to_allocate_before_building_it() -> None:
    """``--hidden 1000000000`` went on to allocate 16 GB (found by review; the CLI property
    now draws it)."""
    import contextlib
    import importlib
    import io

    cli = importlib.import_module("mlpkit.cli.main")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = cli.main(["train", "--dataset", "xor", "--n-samples", "20", "--quiet",
                         "--hidden", "1000000000", "--epochs", "1"])
    assert code == 2
    assert "--hidden 1000000000: model would need" in err.getvalue()


def test_model_file_whose_class_names_are_not_a_list_is_refused() -> None:
    """It loaded, and ONNX export then failed with "'int' object is not iterable"."""
    data = rewrite(trained(), lambda h: h["metadata"].update(class_names=5))
    with pytest.raises(model_file.ModelFileError, match=r"metadata\.class_names must be a list"):
        model_file.decode(data, "m.mlpk")
