"""Training checkpoints: everything needed to continue an interrupted run of gradient descent
exactly where it stopped (weights, optimiser state, epoch and batch, random generator state,
early-stopping record), kept in a folder that one process at a time may write.

Files are written atomically (see :mod:`mlpkit._atomic`), so a kill at any moment leaves the
previous complete checkpoint; a configuration fingerprint refuses resuming with other settings.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import math
import os
import signal
import threading
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..io import model_file as io
from ..validation import check_positive_int
from .callbacks import Callback
from .history import History

if TYPE_CHECKING:
    from ..schedules import Schedule

__all__ = [
    "CHECKPOINT_NAME",
    "CheckpointError",
    "CheckpointLockedError",
    "CheckpointMismatchError",
    "TrainingInterrupted",
    "config_fingerprint",
    "data_fingerprint",
]

#: File name of the checkpoint inside the checkpoint folder.
CHECKPOINT_NAME = "checkpoint.mlpk"
_LOCK_NAME = ".lock"


class CheckpointError(ValueError):
    """A checkpoint cannot be used (damaged, or not a checkpoint)."""


class CheckpointMismatchError(CheckpointError):
    """Resuming was asked with a configuration that differs from the checkpoint's."""


class CheckpointLockedError(RuntimeError):
    """Another living process is writing to the same checkpoint folder."""


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped training after a batch; a checkpoint was written first.

    ``history`` is the record up to the interruption; the network keeps what was trained.
    """

    def __init__(self, epoch: int, epochs: int, folder: str, history=None) -> None:
        self.epoch, self.epochs, self.folder = epoch, epochs, folder
        self.history = history
        super().__init__(
            f"interrupted at epoch {epoch + 1}/{epochs}; resume with --checkpoint {folder} --resume"
        )


def data_fingerprint(*arrays: np.ndarray) -> str:
    """SHA-256 over shapes, dtypes and bytes of the arrays (first 16 hex digits)."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.shape}{array.dtype.str}".encode())
        digest.update(array.data.cast("B"))
    return digest.hexdigest()[:16]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def describe_differences(saved: dict, current: dict) -> list[str]:
    """``"field: checkpoint has A, this call asks B"`` for every field that differs."""
    old, new = _flatten(saved), _flatten(current)
    lines = []
    for key in sorted(set(old) | set(new)):
        if old.get(key, "<absent>") != new.get(key, "<absent>"):
            lines.append(
                f"{key}: checkpoint has {old.get(key, '<absent>')!r}, this call asks "
                f"{new.get(key, '<absent>')!r}"
            )
    return lines


class _SignalFlag(Callback):
    """Sets ``stop_training`` on the first SIGINT/SIGTERM; a second one aborts at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._previous[signum] = signal.signal(signum, self._handle)

    def uninstall(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, frame) -> None:
        if self.signal is not None:  # second signal: stop now (writes stay atomic)
            self.uninstall()
            raise KeyboardInterrupt
        self.signal = signum
        self.stop_training = True


class CheckpointFolder:
    """A locked checkpoint folder for one training run (used by :func:`mlpkit.train`)."""

    def __init__(self, folder: str | os.PathLike[str], every: int | None) -> None:
        if not isinstance(folder, str | os.PathLike):
            raise TypeError(f"checkpoint must be a folder path, got {type(folder).__name__}")
        every = check_positive_int("checkpoint_every", every, allow_none=True)
        self.folder = Path(folder)
        self.path = self.folder / CHECKPOINT_NAME
        self.every = None if every is None else int(every)
        self.steps = 0
        self.run_id = uuid.uuid4().hex[:8]
        self._lock_file: Any = None
        self.flag = _SignalFlag()

    # -- the folder lock ------------------------------------------------------------------------
    def open(self) -> None:
        import fcntl

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise type(error)(
                error.errno,
                f"could not create checkpoint folder {str(self.folder)!r}: {error.strerror}",
            ) from error
        lock = open(self.folder / _LOCK_NAME, "a+")  # held (and so locked) until close()
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            lock.seek(0)
            owner = lock.read().strip() or "another process"
            lock.close()
            if error.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise CheckpointLockedError(
                    f"checkpoint dir {str(self.folder)!r} in use by {owner}; wait for it to "
                    "finish or use another folder"
                ) from None
            raise
        lock.seek(0)
        lock.truncate()
        lock.write(f"PID {os.getpid()} (run {self.run_id})")
        lock.flush()
        self._lock_file = lock
        # Orphaned temporary files of a killed writer are never valid; we own the folder now.
        for orphan in self.folder.glob(f".{CHECKPOINT_NAME}.*.tmp"):
            with contextlib.suppress(OSError):
                orphan.unlink()
        self.flag.install()

    def close(self) -> None:
        self.flag.uninstall()
        if self._lock_file is not None:
            self._lock_file.close()  # closing releases the flock
            self._lock_file = None

    # -- reading and writing --------------------------------------------------------------------
    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> tuple[io.ModelFile, dict]:
        try:
            model = io.read_model_file(self.path)
        except io.ModelFileError as error:
            raise CheckpointError(f"cannot resume: {error}") from None
        state = model.metadata.get("checkpoint")
        if not isinstance(state, dict) or state.get("kind") != "mlpkit-checkpoint":
            raise CheckpointError(
                f"cannot resume: {self.path} is a model file, not a training checkpoint"
            )
        return model, state

    def due(self) -> bool:
        """Count one batch; True when ``every`` batches have passed since the last write."""
        self.steps += 1
        return self.every is not None and self.steps % self.every == 0

    def write(
        self,
        network,
        optimizer,
        history: History,
        state: dict,
        best_weights: list[np.ndarray] | None,
    ) -> None:
        extra = {f"best.{i}": w for i, w in enumerate(best_weights or [])}
        data = io.encode(
            network,
            {"checkpoint": state},
            optimizer=optimizer,
            history=history,
            extra_tensors=extra,
        )
        io.write_bytes_atomic(self.path, data, what="checkpoint")


def check_fingerprint(folder: Path, saved: dict, current: dict) -> None:
    differences = describe_differences(saved, current)
    if differences:
        raise CheckpointMismatchError(
            f"cannot resume from {str(folder)!r}: the checkpoint was made with a different "
            f"configuration ({'; '.join(differences)}). Use the original settings or a new "
            "checkpoint folder"
        )


def rng_state(rng: np.random.Generator) -> dict:
    return cast(dict, rng.bit_generator.state)


def set_rng_state(rng: np.random.Generator, state: dict, folder: Path) -> None:
    try:
        rng.bit_generator.state = state
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(
            f"cannot resume from {str(folder)!r}: the random generator state "
            f"does not fit this generator ({error})"
        ) from None


def encode_float(value: float | None) -> float | str | None:
    """JSON has no inf/NaN: keep them as strings."""
    if value is None or math.isfinite(value):
        return value
    return repr(value)


def decode_float(value) -> float | None:
    return None if value is None else float(value)


def encode_state(state: dict) -> dict:
    """A flat state dict with non-finite floats kept as strings (JSON has no inf/NaN)."""
    return {k: encode_float(v) if isinstance(v, float) else v for k, v in state.items()}


def decode_state(state: dict) -> dict:
    return {k: float(v) if v in ("inf", "-inf", "nan") else v for k, v in state.items()}


def _schedule_config(schedule: Schedule) -> dict:
    skip = ("initial_learning_rate", "current", "best", "wait")
    return {"name": schedule.name, **{k: v for k, v in vars(schedule).items() if k not in skip}}


def config_fingerprint(network, loss, optimizer, schedule, stopper, x, t, val, *, epochs,
                       batch_size, shuffle, seed, validation_split, loss_goal,
                       start_epoch) -> dict:
    """The settings a checkpoint must agree with before it may be resumed."""
    return {
        "network": {"sizes": network.sizes, "dtype": str(network.dtype),
                    "layers": [layer.get_config() for layer in network.layers]},
        "loss": {"name": loss.name, **loss.get_config()},
        "optimizer": {"name": optimizer.name, **optimizer.get_config()},
        "schedule": _schedule_config(schedule),
        "early_stopping": None if stopper is None else {
            "patience": stopper.patience, "min_delta": stopper.min_delta,
            "monitor": stopper.monitor, "restore_best_weights": stopper.restore_best_weights},
        "epochs": start_epoch + epochs,
        "batch_size": None if batch_size is None else int(batch_size),
        "shuffle": bool(shuffle),
        "seed": seed if isinstance(seed, int) else None,
        "validation_split": float(validation_split),
        "loss_goal": loss_goal,
        "data": {"shape": list(x.shape), "targets": list(t.shape),
                 "sha256": data_fingerprint(x, t)},
        "validation_data": None if val is None else data_fingerprint(*val),
    }
