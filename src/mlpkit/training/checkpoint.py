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
from .data import batch_layout, held_out
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
        problems = state_problems(model, state)
        if problems:
            raise CheckpointError(
                f"cannot resume: {self.path} holds a damaged training state ({'; '.join(problems)})"
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
    except (TypeError, ValueError, KeyError, OverflowError) as error:
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
                       start_epoch, w=None) -> dict:
    """The settings a checkpoint must agree with before it may be resumed (the sample
    weights ``w``, if any, are part of the data's)."""
    data = {"shape": list(x.shape), "targets": list(t.shape), "sha256": data_fingerprint(x, t)}
    if w is not None:
        data["sample_weight"] = data_fingerprint(w)
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
        "data": data,
        "validation_data": None if val is None else data_fingerprint(*val),
    }


# -- checking a checkpoint's training state before anything is restored -------------------------
# Found by fuzz/fuzz_checkpoint.py: a checkpoint whose JSON state had a field missing or of the
# wrong type (a history that is a number, a batch index past the epoch, too few best weights)
# resumed into a KeyError, TypeError or OverflowError deep in the loop, or failed only after
# training. Every field the loop reads is checked here, so such a file is a CheckpointError.

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_float_field(value: Any) -> bool:
    """A float as :func:`encode_float` writes it: a number, None or "inf"/"-inf"/"nan"."""
    return value is None or _is_number(value) or value in ("inf", "-inf", "nan")


def _non_negative(value: Any) -> bool:
    return _is_int(value) and value >= 0


_FIELDS: dict[str, tuple[Any, str]] = {
    "fingerprint": (lambda v: isinstance(v, dict), "a table"),
    "complete": (lambda v: isinstance(v, bool), "true or false"),
    "stop_reason": (lambda v: isinstance(v, str), "a string"),
    "epoch": (_non_negative, "an integer >= 0"),
    "batch": (_non_negative, "an integer >= 0"),
    "initial_rng_state": (lambda v: isinstance(v, dict), "a generator state"),
    "epoch_rng_state": (lambda v: v is None or isinstance(v, dict), "a generator state or null"),
    "rng_state": (lambda v: isinstance(v, dict), "a generator state"),
    "dropout_rng_states": (lambda v: isinstance(v, list), "a list of generator states"),
    "samples_seen": (_non_negative, "an integer >= 0"),
    "last_finite": (_is_float_field, "a number or null"),
    "total_loss": (_is_number, "a finite number"),
    "total_correct": (_is_number, "a finite number"),
    "schedule": (lambda v: isinstance(v, dict), "a table"),
    "stopper": (lambda v: v is None or isinstance(v, dict), "a table or null"),
}
_SCHEDULE_STATE: dict[str, Any] = {
    "initial_learning_rate": lambda v: _is_number(v) and v >= 0,
    "current": lambda v: _is_number(v) and v >= 0,
    "best": lambda v: v is not None and _is_float_field(v),
    "wait": _non_negative,
}


def _rng_state_ok(state: Any) -> bool:
    try:
        np.random.default_rng().bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError):
        return False
    return True


def _n_batches(fingerprint: dict) -> int | None:
    """Batches per epoch of the recorded configuration, as the loop computes them (or None)."""
    try:
        n = int(fingerprint["data"]["shape"][0])
        split, size = float(fingerprint["validation_split"]), fingerprint["batch_size"]
        if fingerprint["validation_data"] is None and split > 0.0:
            n -= held_out(n, split)
        return batch_layout(n, size)[1]
    except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError, OverflowError):
        return None  # not a real fingerprint: the comparison with this call refuses it


def _network_problems(model: io.ModelFile, state: dict) -> list[str]:
    import json

    from ..layers import Dropout

    network, fingerprint, problems = model.network, state["fingerprint"], []
    recorded = {"sizes": network.sizes, "dtype": str(network.dtype),
                "layers": [layer.get_config() for layer in network.layers]}
    if json.loads(json.dumps(recorded)) != fingerprint.get("network"):
        problems.append("the saved network differs from the one in the fingerprint")
    optimizer = model.optimizer
    if optimizer is None or {"name": optimizer.name, **optimizer.get_config()} != json.loads(
            json.dumps(fingerprint.get("optimizer"))):
        problems.append("the saved optimiser state is missing or differs from the fingerprint")
    n_dropouts = sum(isinstance(layer, Dropout) for layer in network.layers)
    if len(state["dropout_rng_states"]) != n_dropouts:
        problems.append(f"dropout_rng_states: {len(state['dropout_rng_states'])} states for "
                        f"{n_dropouts} dropout layers")
    shapes = [p.shape for p, _ in network.parameters()]
    best = sorted(k for k in model.extra_tensors if k.startswith("best."))
    expected = [f"best.{i}" for i in range(len(shapes))]
    if best and (sorted(best) != sorted(expected)
                 or [model.extra_tensors[k].shape for k in expected] != shapes):
        problems.append(f"best weights: tensors {best} do not match the parameters {shapes}")
    return problems


def _progress_problems(model: io.ModelFile, state: dict) -> list[str]:
    fingerprint, problems = state["fingerprint"], []
    epochs, n_batches = fingerprint.get("epochs"), _n_batches(fingerprint)
    if _is_int(epochs) and state["epoch"] > epochs:
        problems.append(f"epoch: {state['epoch']} is past the run's {epochs} epochs")
    if n_batches is not None and state["batch"] >= max(n_batches, 1):
        problems.append(f"batch: {state['batch']} is past the epoch's {n_batches} batches")
    if state["batch"] > 0 and state["epoch_rng_state"] is None:
        problems.append("epoch_rng_state: missing for a checkpoint inside an epoch")
    rows = 0 if model.history is None else model.history.epochs
    if rows > state["epoch"] or (not state["complete"] and rows != state["epoch"]):
        problems.append(f"history: {rows} epochs recorded for epoch {state['epoch']}")
    states = [state["initial_rng_state"], state["rng_state"], *state["dropout_rng_states"]]
    if state["epoch_rng_state"] is not None:
        states.append(state["epoch_rng_state"])
    if not all(_rng_state_ok(s) for s in states):
        problems.append("a random generator state does not fit NumPy's default generator")
    return problems


def _schedule_problems(state: dict) -> list[str]:
    config = state["fingerprint"].get("schedule")
    config = config if isinstance(config, dict) else {}
    problems = []
    for key, value in state["schedule"].items():
        if key in config and key != "name" and value != config[key]:
            problems.append(f"schedule.{key}: {value!r} differs from the fingerprint")
        elif key not in config and not (key in _SCHEDULE_STATE and _SCHEDULE_STATE[key](value)):
            problems.append(f"schedule.{key}: unexpected field or value {value!r:.40}")
    stopper, early = state["stopper"], state["fingerprint"].get("early_stopping")
    if (stopper is None) != (early is None):
        problems.append("stopper: early-stopping state does not match the fingerprint")
    elif stopper is not None and not (
            _SCHEDULE_STATE["best"](stopper.get("best")) and _non_negative(stopper.get("wait"))
            and "best_epoch" in stopper
            and (stopper["best_epoch"] is None or _non_negative(stopper["best_epoch"]))):
        problems.append(f"stopper: expected best, best_epoch and wait, got {stopper!r:.80}")
    return problems


def state_problems(model: io.ModelFile, state: dict) -> list[str]:
    """What is wrong with a checkpoint's training state (empty if it can be resumed)."""
    problems = [f"{key}: expected {what}, got {state.get(key, '<absent>')!r:.40}"
                for key, (ok, what) in _FIELDS.items() if not ok(state.get(key, _ABSENT))]
    if problems:
        return problems
    return (_network_problems(model, state) + _progress_problems(model, state)
            + _schedule_problems(state))


_ABSENT = object()
