"""Fuzz target for checkpoint folders: ``mlpkit.train(..., checkpoint=DIR, resume=True)``.

Each input becomes ``DIR/checkpoint.mlpk`` (raw, forged or an edit program applied to a real
mid-epoch checkpoint, see ``_forge.py``), and training resumes from it with the configuration
that wrote the base checkpoint, so edits reach the resume code rather than the fingerprint.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys

import numpy as np
from _common import main, scratch_dir
from _forge import to_file

import mlpkit
from mlpkit.training.checkpoint import CHECKPOINT_NAME, CheckpointError

CONTRACT = (
    "train(..., checkpoint=DIR, resume=True) resumes and returns a History, or raises "
    "CheckpointError (a ValueError) naming the folder or file, before any batch is trained; "
    "TrainingDivergedError is accepted (finite but huge weights may diverge)"
)
INSTRUMENT = ["mlpkit.training.checkpoint", "mlpkit.io.model_file", "mlpkit.training.history",
              "mlpkit.schedules"]
EPOCHS = 3
_X = np.random.default_rng(0).normal(size=(12, 3))
_T = (np.arange(12) % 2).astype(np.int64)


class _StopAfter(mlpkit.Callback):
    def __init__(self, batches: int) -> None:
        self.left = batches

    def on_batch_end(self, epoch, batch, loss) -> None:
        self.left -= 1
        self.stop_training = self.left <= 0


def run(folder: str, resume: bool, callbacks=()) -> mlpkit.History:
    """The one configuration of this target (dropout, Adam, schedule, early stopping)."""
    net = mlpkit.mlp([3, 4, 2], activation="tanh", output_activation="softmax", seed=1,
                     dropout=0.25)
    return mlpkit.train(net, _X, _T, loss="cross_entropy", optimizer=mlpkit.Adam(0.01),
                        epochs=EPOCHS, batch_size=4, seed=2, validation_split=0.25,
                        early_stopping=mlpkit.EarlyStopping(patience=2), schedule="step",
                        callbacks=list(callbacks), checkpoint=folder, resume=resume)


@functools.cache
def base() -> bytes:
    """A checkpoint written in the middle of the second epoch."""
    folder = scratch_dir("checkpoint-base")
    try:
        run(folder, False, [_StopAfter(4)])
        with open(os.path.join(folder, CHECKPOINT_NAME), "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_FOLDER: list[str] = []


def test_one_input(data: bytes) -> None:
    if not _FOLDER:
        _FOLDER.append(scratch_dir("checkpoint"))
    folder = _FOLDER[0]
    with open(os.path.join(folder, CHECKPOINT_NAME), "wb") as f:
        f.write(to_file(data, base()))
    try:
        history = run(folder, True)
    except CheckpointError as error:
        if folder not in str(error):
            raise AssertionError(f"CheckpointError without the folder: {error}") from None
        return
    except mlpkit.TrainingDivergedError:
        return
    if not 0 < history.epochs <= EPOCHS:
        raise AssertionError(f"resumed run reports {history.epochs} epochs of {EPOCHS}")


def prepare() -> None:
    """Make the base file and compile what training needs (numba) before -timeout counts."""
    test_one_input(base())


if __name__ == "__main__":
    main(sys.modules[__name__])
