"""Checkpoint and resume for one call of :func:`mlpkit.train`: what the loop must record at a
batch or epoch boundary so that a killed run continues bit for bit, and how it is put back.

The files, the folder lock and the fingerprint live in :mod:`mlpkit.training.checkpoint`; this
module decides what goes into a checkpoint and restores it into the loop's objects.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import checkpoint as ckpt
from .divergence import TrainingDivergedError, all_finite
from .history import History

__all__ = ["CheckpointedRun", "open_checkpoint"]


@contextlib.contextmanager
def open_checkpoint(folder: str | os.PathLike[str] | None, every: int | None, resume: bool,
                    rng: np.random.Generator) -> Iterator[CheckpointedRun]:
    """A :class:`CheckpointedRun` for ``folder`` (locked until the block ends), or an inactive
    one without a folder. Refuses to overwrite an existing checkpoint unless ``resume``."""
    saver = None
    if folder is not None:
        saver = ckpt.CheckpointFolder(folder, every)
        saver.open()
    try:
        saved = None
        if saver is not None and saver.exists():
            if not resume:
                raise ValueError(
                    f"checkpoint folder {str(saver.folder)!r} already holds a checkpoint; pass "
                    "resume=True (CLI: --resume) to continue it, or choose another folder"
                )
            saved = saver.read()
        yield CheckpointedRun(saver, saved, rng)
    finally:
        if saver is not None:
            saver.close()


class CheckpointedRun:
    """The checkpoint side of a training run (inactive when ``saver`` is None).

    Created before the data is split, it puts the generator back to the saved run's initial
    state so that the validation split and every shuffle repeat exactly.
    """

    def __init__(self, saver: ckpt.CheckpointFolder | None, saved, rng: np.random.Generator):
        self.saver, self.rng = saver, rng
        self.model: Any = None if saved is None else saved[0]  # the checkpoint's ModelFile
        self.state: Any = None if saved is None else saved[1]  # its "checkpoint" record
        if self.state is not None:
            ckpt.set_rng_state(rng, self.state["initial_rng_state"], self.folder)
        self.initial_rng_state = ckpt.rng_state(rng) if saver is not None else None
        self.epoch_rng_state: dict | None = None
        self.fingerprint: dict | None = None

    @property
    def active(self) -> bool:
        return self.saver is not None

    @property
    def signal(self) -> int | None:
        """The SIGINT/SIGTERM that stopped training, if any."""
        return None if self.saver is None else self.saver.flag.signal

    @property
    def folder(self):
        return None if self.saver is None else self.saver.folder

    def due(self) -> bool:
        """Count a batch; True when a mid-epoch checkpoint is due."""
        return self.saver is not None and self.saver.due()

    def start_epoch(self) -> None:
        """Remember the generator before the epoch's shuffle (to redraw it on resume)."""
        if self.saver is not None:
            self.epoch_rng_state = ckpt.rng_state(self.rng)

    def set_fingerprint(self, **settings: Any) -> None:
        if self.saver is not None:
            self.fingerprint = ckpt.config_fingerprint(**settings)

    # -- resume ------------------------------------------------------------------------------------
    def restore(self, run) -> tuple[int, int] | None:
        """Put the saved state into ``run`` (a :class:`mlpkit.training.loop._Run`); return
        (epoch, batch) to continue from, or None when the saved run had finished (then only
        its results are restored)."""
        state, model = self.state, self.model
        ckpt.check_fingerprint(self.folder, state["fingerprint"], _jsonable(self.fingerprint))
        run.network.set_weights(model.network.get_weights())
        if model.optimizer is not None:
            run.optimizer.load_state_dict(model.optimizer.state_dict())
        run.history.__dict__.update(vars(model.history or History()))
        run.schedule.load_state_dict(ckpt.decode_state(state["schedule"]))
        for layer, layer_state in zip(run.dropouts, state["dropout_rng_states"], strict=True):
            ckpt.set_rng_state(layer.rng, layer_state, self.folder)
        if run.stopper is not None:
            self._restore_stopper(run.stopper, len(run.network.parameters()))
        if state["complete"]:
            run.history.stop_reason = state["stop_reason"]
            return None
        tally = run.tally
        tally.samples_seen = state["samples_seen"]
        tally.last_finite = ckpt.decode_float(state["last_finite"])
        tally.total_loss, tally.total_correct = state["total_loss"], state["total_correct"]
        self.epoch_rng_state = state["epoch_rng_state"]
        batch = state["batch"]
        ckpt.set_rng_state(self.rng, self.epoch_rng_state if batch else state["rng_state"],
                           self.folder)
        run.end_epoch = state["fingerprint"]["epochs"]
        return state["epoch"], batch

    def _restore_stopper(self, stopper, n_parameters: int) -> None:
        saved = self.state["stopper"]
        stopper.best = ckpt.decode_float(saved["best"])
        stopper.best_epoch, stopper.wait = saved["best_epoch"], saved["wait"]
        extra = self.model.extra_tensors
        best = [extra[f"best.{i}"] for i in range(n_parameters) if f"best.{i}" in extra]
        stopper.best_weights = best or None

    # -- write ---------------------------------------------------------------------------------
    def write(self, run, epoch: int, batch: int, complete: bool, reason: str = "") -> None:
        """Write the checkpoint of ``run`` at (epoch, batch); nothing when inactive."""
        if self.saver is None:
            return
        tally, stopper = run.tally, run.stopper
        if not all_finite(run.network.parameters()):  # NaN weights never replace a good one
            raise TrainingDivergedError(epoch, max(batch - 1, 0), tally.last_finite,
                                        run.optimizer.learning_rate, "weights")
        record = {
            "kind": "mlpkit-checkpoint", "fingerprint": self.fingerprint, "complete": complete,
            "stop_reason": reason, "epoch": epoch, "batch": batch,
            "initial_rng_state": self.initial_rng_state, "epoch_rng_state": self.epoch_rng_state,
            "rng_state": ckpt.rng_state(self.rng),
            "dropout_rng_states": [ckpt.rng_state(layer.rng) for layer in run.dropouts],
            "samples_seen": tally.samples_seen,
            "last_finite": ckpt.encode_float(tally.last_finite),
            "total_loss": tally.total_loss, "total_correct": tally.total_correct,
            "schedule": ckpt.encode_state(run.schedule.state_dict()),
            "stopper": None if stopper is None else {
                "best": ckpt.encode_float(stopper.best), "best_epoch": stopper.best_epoch,
                "wait": stopper.wait},
        }
        best = None if stopper is None else stopper.best_weights
        self.saver.write(run.network, run.optimizer, run.history, record, best)


def _jsonable(value):
    """``value`` as it reads back from a checkpoint's JSON (tuples become lists)."""
    return json.loads(json.dumps(value))
