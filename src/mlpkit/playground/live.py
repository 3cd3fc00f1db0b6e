"""One :func:`mlpkit.train` call kept alive across the page's updates.

Every press of play sends a "train" message per update (one epoch by default). Calling
:func:`mlpkit.train` afresh for each costs its set-up every time (checking the data, choosing
and applying the BLAS thread count, building the engine and the batches): for the 2-8-8-1 page
network on 250 points, an epoch took 2.4 to 5.0 ms as a fresh call against 1.2 to 3.5 ms kept
alive, and 14 to 30 ms against 2.5 to 16 ms with four busy processes on the two cores (the
set-up's /proc reads and library scan; benchmarks/playground_speed.py). :class:`LiveTraining`
instead starts one call of :func:`mlpkit.train` in a worker thread, for up to
:data:`EPOCHS_PER_CALL` epochs, and parks it between updates in a callback's
``on_epoch_end``; :meth:`LiveTraining.train` lets it run ``k`` more epochs and waits for them.

The numbers are those of :func:`mlpkit.train` itself, since nothing else trains: the same
network, optimiser and generator, and k epochs in one call equal k calls of one epoch (the
generator draws each epoch's order; the optimiser keeps its state). While the run is parked
the network may be read (the page's frame: losses, weights, heatmaps); anything that changes
the network, the optimiser, the data or the batches must :meth:`LiveTraining.stop` it first.

A parked call keeps the BLAS thread count that :func:`mlpkit.train` set for it (threadpoolctl
sets it for the whole process and restores it when the call ends). Calls of several tabs that
overlap end in any order, so the last restore could leave another call's setting behind: when
the last kept-alive call of the process ends, the counts from before the first are put back.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..fast.threads import blas_controller
from ..losses import Loss
from ..network import Network
from ..optimizers import Optimizer
from ..training import train
from ..training.callbacks import Callback
from ..training.history import History

__all__ = ["EPOCHS_PER_CALL", "LiveTraining"]

#: epochs of one kept-alive call of :func:`mlpkit.train` (its History holds one row each);
#: a longer run continues in a new call, which gives the same numbers
EPOCHS_PER_CALL = 1000


class _BlasThreads:
    """The process's BLAS thread counts from before the first of the kept-alive calls that
    run now, put back when the last of them ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before: list[tuple[Any, int]] = []  # (threadpoolctl library controller, threads)

    def enter(self) -> None:
        with self.lock:
            if self.running == 0:
                self.before = [(library, library.num_threads)
                               for library in blas_controller().lib_controllers]
            self.running += 1

    def leave(self) -> None:
        with self.lock:
            self.running -= 1
            if self.running == 0:
                for library, threads in self.before:
                    library.set_num_threads(threads)
                self.before = []


_BLAS = _BlasThreads()


class _Gate(Callback):
    """Parks the training thread after each epoch until more epochs are asked for (or the
    run is stopped). All fields are guarded by ``condition``."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.wanted = 0  # epochs still to train for the current request
        self.done = 0  # epochs trained by this call of mlpkit.train
        self.stopping = False
        self.finished = False  # mlpkit.train has returned or raised
        self.error: BaseException | None = None

    def on_epoch_end(self, epoch: int, history: History) -> None:
        with self.condition:
            self.wanted -= 1
            self.done += 1
            if self.wanted <= 0:
                self.condition.notify_all()
            while self.wanted <= 0 and not self.stopping:
                self.condition.wait()
            if self.stopping:
                self.stop_training = True  # mlpkit.train returns without another epoch


class LiveTraining:
    """A kept-alive :func:`mlpkit.train` call, continued by :meth:`train`.

    Parameters
    ----------
    epochs_per_call : int
        Epochs of one call of :func:`mlpkit.train` before the next one starts.
    """

    def __init__(self, epochs_per_call: int = EPOCHS_PER_CALL) -> None:
        self.epochs_per_call = epochs_per_call
        self._arguments: dict = {}
        self._gate: _Gate | None = None
        self._thread: threading.Thread | None = None

    def train(self, epochs: int, network: Network, X: np.ndarray, T: np.ndarray, loss: Loss,
              optimizer: Optimizer, batch_size: int | None, rng: np.random.Generator) -> None:
        """``epochs`` more epochs of :func:`mlpkit.train` with these arguments (X of shape
        (n_samples, n_inputs), T (n_samples, n_outputs), ``rng`` its ``seed``); returns when
        they are done. The parked call goes on when the arguments are the same objects as
        its own, else it is stopped and a new one starts.

        Raises what :func:`mlpkit.train` raises (for instance
        :class:`~mlpkit.TrainingDivergedError`); that call is then over.
        """
        arguments = {"network": network, "X": X, "T": T, "loss": loss, "optimizer": optimizer,
                     "batch_size": batch_size, "seed": rng}
        if self._gate is not None and _differ(arguments, self._arguments):
            self.stop()
        self._arguments = arguments
        while epochs > 0:
            gate = self._gate
            if gate is None:
                gate = self._start(epochs)
            else:
                with gate.condition:
                    gate.wanted = epochs
                    gate.condition.notify_all()
            with gate.condition:
                while gate.wanted > 0 and not gate.finished:
                    gate.condition.wait()
                finished, error, epochs = gate.finished, gate.error, max(0, gate.wanted)
            if finished:  # the call ended: its epoch limit (go on in a new one) or an error
                self._join()
                if error is not None:
                    raise error

    def _start(self, epochs: int) -> _Gate:
        gate = self._gate = _Gate()
        gate.wanted = epochs
        self._thread = threading.Thread(target=_run, args=(gate, dict(self._arguments),
                                                           self.epochs_per_call),
                                        name="mlpkit-playground-train", daemon=True)
        self._thread.start()
        return gate

    def stop(self) -> None:
        """End the parked call of :func:`mlpkit.train` (no further epoch) and wait for it."""
        gate = self._gate
        if gate is None:
            return
        with gate.condition:
            gate.stopping = True
            gate.condition.notify_all()
        self._join()

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
        self._gate = self._thread = None


def _differ(new: dict, old: dict) -> bool:
    """Whether two calls' arguments differ: other objects, or another batch size."""
    return new["batch_size"] != old["batch_size"] or any(
        new[name] is not old[name] for name in new if name != "batch_size")


def _run(gate: _Gate, arguments: dict, epochs: int) -> None:
    """The training thread: one call of :func:`mlpkit.train`, its end told to the gate."""
    _BLAS.enter()
    try:
        train(**arguments, epochs=epochs, callbacks=[gate])
    except BaseException as error:  # handed to the waiting caller, who raises it
        gate.error = error
    finally:
        _BLAS.leave()
        with gate.condition:
            gate.finished = True
            gate.condition.notify_all()
