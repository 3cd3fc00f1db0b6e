"""The training loop: shuffle, cut into batches, forward, loss, backward, optimiser step, evaluate.

``batch_size=None`` is full-batch ("true") gradient descent, ``1`` online (per-sample) and
``k`` mini-batch. Stopping: the epoch limit, a training-loss goal, or early stopping when the
monitored loss stalls. Progress goes to callbacks; this module never prints. The per-batch
arithmetic is an engine's (:mod:`mlpkit.training.engines`); the data, the per-epoch sums and
checkpoints are the collaborators in :mod:`~mlpkit.training.data`,
:mod:`~mlpkit.training.tally` and :mod:`~mlpkit.training.resume`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..fast.threads import CollapseGuard, blas_threads, check_threads, rows_per_step
from ..layers import Dropout
from ..losses import Loss, get_loss
from ..metrics import accuracy_from_outputs
from ..network import Network
from ..optimizers import Optimizer, get_optimizer
from ..schedules import Schedule, get_schedule
from ..validation import as_generator, check_positive_int, check_probability
from .callbacks import Callback
from .checkpoint import TrainingInterrupted
from .compiled import CompiledEpochs
from .data import Batches, TrainingData
from .divergence import TrainingDivergedError, all_finite
from .early_stopping import EarlyStopping, resolve_early_stopping
from .engines import ENGINES, make_engine
from .history import History
from .resume import CheckpointedRun, open_checkpoint
from .tally import EpochTally

__all__ = ["EarlyStopping", "TrainingDivergedError", "train"]


# Bug fix (test_training.py::test_loss_overflowing_in_the_batch_sum_raises_training_diverged):
# overflow to inf and inf − inf = NaN are how divergence shows; the loop detects them and raises
# TrainingDivergedError, so NumPy's RuntimeWarnings for them must not pre-empt it.
@np.errstate(over="ignore", invalid="ignore")
def train(
    network: Network,
    X,
    T,
    loss: str | Loss = "squared_error",
    optimizer: str | Optimizer | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    validation_data: tuple | None = None,
    validation_split: float = 0.0,
    early_stopping: EarlyStopping | bool | int | None = None,
    loss_goal: float | None = None,
    callbacks: Sequence[Callback] = (),
    schedule: str | Schedule | None = None,
    history: History | None = None,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    threads: int | None = None,
    sample_weight=None,
    engine: str = "auto",
) -> History:
    """Train ``network`` by backpropagation and gradient descent; return the :class:`History`.

    Parameters
    ----------
    network : Network
    X : array (n_samples, n_inputs)
    T : array (n_samples, n_outputs), or (n_samples,) class labels for cross-entropy
    loss : str or Loss
    optimizer : str, Optimizer or None
        ``None`` is ``SGD(learning_rate=0.1)``. Its state carries over between calls.
    epochs : int
        Epoch limit.
    batch_size : int or None
        ``None`` full batch, ``1`` online, ``k`` mini-batches of k samples (the last may be
        smaller).
    shuffle : bool
        Visit the samples in a new random order every epoch.
    seed : int, Generator or None
        Source of the shuffling and of ``validation_split``; the same seed gives the same
        weights bit for bit on the same machine (and the same engine).
    validation_data : (X_val, T_val) or None
    validation_split : float in [0, 1)
        Fraction of (X, T) held out at random as validation data (ignored when
        ``validation_data`` is given).
    early_stopping : EarlyStopping, True, int (patience) or None
    loss_goal : float or None
        Stop once the epoch's training loss is at or below this value.
    callbacks : sequence of Callback
    schedule : str, Schedule or None
        Learning-rate schedule (constant when None).
    history : History or None
        Append to this history (to continue a training run).
    checkpoint : str, PathLike or None
        Folder for a training checkpoint (created if needed, locked while training). It is
        written atomically at the end of every epoch, every ``checkpoint_every`` batches, when
        training ends and when SIGINT/SIGTERM arrives (training then stops after the current
        batch and raises :class:`~mlpkit.training.checkpoint.TrainingInterrupted`).
    checkpoint_every : int or None
        Also write the checkpoint every this many batches.
    resume : bool
        Continue from the checkpoint in ``checkpoint`` if there is one (the network's weights,
        optimiser, generator and history are replaced by the saved ones). The settings must
        equal those of the interrupted run, else :class:`CheckpointMismatchError` names the
        differences. Without ``resume`` an existing checkpoint is never overwritten.
    threads : int or None
        BLAS threads for this run; None chooses by layer size and machine load (one thread for
        small products or a busy machine; see :mod:`mlpkit.fast.threads`).
    sample_weight : array (n_samples,) or None
        Weight w_k >= 0 of each sample's loss (finite, not all 0): every sample's loss term
        E_k is multiplied by w_k. A batch B's loss is the weighted mean
        Σ_(k∈B) w_k E_k / Σ_(k∈B) w_k (with ``reduction="sum"``: Σ_(k∈B) w_k E_k), and its
        gradients are those of that number: row k of δ^L carries w_k / Σ_(k∈B) w_k where the
        unweighted mean has 1/|B|. This is scikit-learn's normalisation of a mini-batch (and
        :mod:`mlpkit.sklearn`'s, which calls the same :meth:`Loss.output_delta`); a batch
        whose weights are all 0 has loss 0 and zero gradients (its optimiser step is still
        taken). The weights follow their samples through shuffling and ``validation_split``;
        the History's ``loss`` is the weighted mean Σ w_k E_k / Σ w_k over the epoch's
        batches, ``val_loss`` weighted by the held-out samples' weights (``validation_data``
        may be a triple (X_val, T_val, w_val); a pair is unweighted); the accuracies count
        samples, unweighted. All ones trains exactly as no weights, bit for bit. The fast
        engine has no weighted kernels: with weights ``engine="auto"`` runs the plain core and
        ``engine="fast"`` raises ValueError. With ``optimizer="lbfgs"`` the full batch is
        weighted the same way (:func:`mlpkit.training.lbfgs.train_lbfgs`).
    engine : {"auto", "fast", "plain"}
        Who computes each step. ``"plain"`` runs exactly the lecture core: ``Dense.forward``
        and ``backward``, ``Activation.derivative``, the ``Loss`` and ``Optimizer.step`` (edit
        one of them and training changes). ``"fast"`` runs :mod:`mlpkit.fast` (reused
        buffers, fused numba kernels, compiled updates; the same numbers as the plain core,
        bit for bit except the loss value's and Adam's rounding) and raises ValueError where
        it does not apply (it needs numba, Dense layers with biases, identity/sigmoid/tanh/
        ReLU, squared error or softmax + cross-entropy). ``"auto"`` (default) is "fast" where
        it applies and "plain" otherwise. With "auto"/"fast" and ``batch_size`` at most
        :data:`mlpkit.fast.online.MAX_BATCH` (6; 16 on data that is mostly 0, as MNIST:
        :func:`mlpkit.fast.online.pays`), every epoch of SGD on Dense layers (biases
        on or off; the cross-entropies, squared error, weight decay, L1) runs in one compiled
        call (:mod:`mlpkit.training.compiled`; equal to "plain" to float rounding), unless a
        callback overrides ``on_batch_end`` (and not ``on_batches_end``),
        ``checkpoint_every`` or ``sample_weight`` is set: those step every batch from Python,
        about 10× slower at ``batch_size=1``. A stop request is then honoured at the end of
        the epoch.

    Raises
    ------
    TrainingDivergedError
        The loss or a gradient became NaN or infinite (the weights stay the last finite ones).
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    if isinstance(optimizer, str) and optimizer.strip().lower() == "lbfgs":
        from .lbfgs import train_with_lbfgs

        return train_with_lbfgs(**{k: v for k, v in locals().items()
                                   if k not in ("optimizer", "engine")})
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    settings: dict[str, Any] = {
        "epochs": check_positive_int("epochs", epochs, minimum=0),
        "batch_size": check_positive_int("batch_size", batch_size, allow_none=True),
        "shuffle": shuffle, "seed": seed,
        "validation_split": check_probability("validation_split", validation_split),
        "loss_goal": _check_loss_goal(loss_goal),
    }
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be a bool, got {type(resume).__name__}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=<folder> to resume from")
    check_threads(threads)
    run = _Run(network, get_loss(loss), get_optimizer(optimizer), get_schedule(schedule),
               resolve_early_stopping(early_stopping), list(callbacks),
               History() if history is None else history, settings)
    rng = as_generator(seed)
    with open_checkpoint(checkpoint, checkpoint_every, resume, rng) as checkpointed:
        data = TrainingData.prepare(network, run.loss, X, T, validation_data,
                                    settings["validation_split"], rng, sample_weight)
        with (blas_threads(threads, network.sizes, rows_per_step(X, batch_size)) as chosen,
              CollapseGuard(chosen, explicit=threads is not None) as run.guard):
            return run.train(data, checkpointed, rng, engine)


def _check_loss_goal(loss_goal) -> float | None:
    if loss_goal is not None and not (isinstance(loss_goal, int | float)
                                      and math.isfinite(loss_goal)):
        raise ValueError(f"loss_goal must be a finite number or None, got {loss_goal!r}")
    return loss_goal


class _Run:
    """One call of :func:`train`: its collaborators and the epoch loop."""

    def __init__(self, network: Network, loss: Loss, optimizer: Optimizer, schedule: Schedule,
                 stopper: EarlyStopping | None, callbacks: list[Callback], history: History,
                 settings: dict[str, Any]) -> None:
        self.network, self.loss, self.optimizer = network, loss, optimizer
        self.schedule, self.stopper, self.callbacks = schedule, stopper, callbacks
        self.history, self.settings = history, settings
        self.dropouts = [layer for layer in network.layers if isinstance(layer, Dropout)]
        self.guard = CollapseGuard(1)  # train() sets the run's own (BLAS threads watched)

    def train(self, data: TrainingData, checkpointed: CheckpointedRun,
              rng: np.random.Generator, engine: str) -> History:
        """Set up, then :meth:`epoch` after epoch until a stop; returns the history."""
        self.data, self.checkpointed, self.rng = data, checkpointed, rng
        start_epoch = self.history.epochs
        self.end_epoch = start_epoch + self.settings["epochs"]
        checkpointed.set_fingerprint(
            network=self.network, loss=self.loss, optimizer=self.optimizer,
            schedule=self.schedule, stopper=self.stopper, x=data.given[0], t=data.given[1],
            val=data.given_val, w=data.given_w, start_epoch=start_epoch, **self.settings)
        self.batches = Batches(data.x, data.t, self.settings["batch_size"], data.w)
        self.tally = EpochTally(self.network, self.loss, data.t, data.w)
        self.schedule.start(self.optimizer.learning_rate)
        self.monitor = self._monitor()
        first_epoch, first_batch = start_epoch, 0
        if checkpointed.state is not None:
            where = checkpointed.restore(self)
            if where is None:
                return self.history
            first_epoch, first_batch = where
        if checkpointed.saver is not None:
            self.callbacks.append(checkpointed.saver.flag)
        every = None if checkpointed.saver is None else checkpointed.saver.every
        self.compiled = CompiledEpochs.create(engine, self, every)  # a whole epoch per call
        self.engine: Any = None if self.compiled is not None else make_engine(
            engine, self.network, self.loss, self.optimizer, data.norm2, data.w is not None)
        for callback in self.callbacks:
            callback.stop_training = False
            callback.on_train_begin(self.network, self.history, self.batches.count)
        stop_reason, epoch = "epochs", first_epoch
        for epoch in range(first_epoch, self.end_epoch):
            stop_reason = self.epoch(epoch, first_batch if epoch == first_epoch else 0)
            if stop_reason:
                break
        return self.finish(epoch, stop_reason or "epochs")

    def _monitor(self) -> str | None:
        if self.stopper is None:
            return None
        self.stopper.reset()
        monitor = self.stopper.monitor
        if monitor == "auto":
            monitor = "val_loss" if self.data.has_validation else "loss"
        if monitor == "val_loss" and not self.data.has_validation:
            raise ValueError(
                "early stopping on 'val_loss' needs validation_data or validation_split"
            )
        return monitor

    def epoch(self, epoch: int, first_batch: int) -> str:
        """One epoch, the lecture's loop; returns why training stops after it ("" if not)."""
        started = time.perf_counter()
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch)
        batches, engine, tally = self.batches, self.engine, self.tally
        self.checkpointed.start_epoch()
        shuffled = self.settings["shuffle"] and batches.count > 1
        order = self.rng.permutation(batches.n) if shuffled else None  # shuffle
        self.epoch_start_weights = self.network.get_weights()
        tally.start_epoch(order, first_batch * batches.size)
        if self.compiled is not None:
            stopped = self.compiled.epoch(self, epoch, first_batch, order)
            return self.end_of_epoch(epoch, started, interrupted=stopped)
        interrupted_at, stop, guard = None, tally.counted, self.guard
        guard.epoch_start()
        for batch in range(first_batch, batches.count):
            guard.batch_start()
            xb, tb = batches.get(batch, order)
            wb = batches.weights(batch, order)  # None without sample weights
            start, stop = batches.bounds(batch)
            batch_loss = engine.forward_loss(xb, tb) if wb is None else \
                engine.forward_loss(xb, tb, wb)  # forward pass and loss
            self._check_loss(epoch, batch, batch_loss)
            engine.backward()  # backpropagation: every ∂E/∂W, ∂E/∂b
            self._check_gradients(epoch, batch, batch_loss)
            tally.add(engine.output, tb, batch_loss, start, stop, wb)
            engine.step()  # gradient descent step
            guard.batch_end(stop - start)  # other work took a core: one BLAS thread
            if self._batch_end(epoch, batch, batch_loss):
                interrupted_at = batch + 1
                break
            if self.checkpointed.due() and batch + 1 < batches.count:
                tally.tally(stop)
                self.checkpointed.write(self, epoch, batch + 1, False)
        tally.tally(stop)
        if interrupted_at is not None and interrupted_at < batches.count:
            self.checkpointed.write(self, epoch, interrupted_at, False)
            return "interrupted"
        return self.end_of_epoch(epoch, started, interrupted=interrupted_at is not None)

    def _check_loss(self, epoch: int, batch: int, batch_loss: float) -> None:
        if not math.isfinite(batch_loss):
            if not all_finite(self.network.parameters()):
                self.network.set_weights(self.epoch_start_weights)
            self.history.stop_reason = "diverged"
            raise TrainingDivergedError(epoch, batch, self.tally.last_finite,
                                        self.optimizer.learning_rate, "loss", batch_loss)

    def _check_gradients(self, epoch: int, batch: int, batch_loss: float) -> None:
        gradient_sum = self.engine.gradient_sum()
        if not math.isfinite(gradient_sum):  # the step is skipped: weights stay finite
            self.history.stop_reason = "diverged"
            raise TrainingDivergedError(epoch, batch, batch_loss, self.optimizer.learning_rate,
                                        "gradient", gradient_sum)

    def _batch_end(self, epoch: int, batch: int, batch_loss: float) -> bool:
        """Tell the callbacks; True when one of them asks to stop."""
        for callback in self.callbacks:
            callback.on_batch_end(epoch, batch, batch_loss)
        return any(callback.stop_training for callback in self.callbacks)

    def end_of_epoch(self, epoch: int, started: float, interrupted: bool) -> str:
        """Evaluate, record, adjust the learning rate, decide whether to stop; checkpoint."""
        data, tally = self.data, self.tally
        epoch_loss = tally.epoch_loss()
        val_loss = val_accuracy = math.nan
        if data.x_val is not None and data.t_val is not None:
            val_loss, val_accuracy = evaluate(self.network, self.loss, data.x_val, data.t_val,
                                              sample_weight=data.w_val)
        self.history.append(loss=epoch_loss, accuracy=tally.accuracy(), val_loss=val_loss,
                            val_accuracy=val_accuracy,
                            learning_rate=self.optimizer.learning_rate,
                            seconds=time.perf_counter() - started)
        monitored = val_loss if data.has_validation else epoch_loss
        self.optimizer.learning_rate = self.schedule.rate(epoch, tally.samples_seen, monitored)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, self.history)
        loss_goal = self.settings["loss_goal"]
        if loss_goal is not None and epoch_loss <= loss_goal:
            return "loss_goal"
        if self.stopper is not None:
            value = val_loss if self.monitor == "val_loss" else epoch_loss
            if self.stopper.update(epoch, value, self.network):
                return "early_stopping"
        self.checkpointed.epoch_rng_state = None
        if interrupted or any(callback.stop_training for callback in self.callbacks):
            done = epoch + 1 >= self.end_epoch
            self.checkpointed.write(self, epoch + 1, 0, done, "epochs")
            return "interrupted"
        if epoch + 1 < self.end_epoch:
            self.checkpointed.write(self, epoch + 1, 0, False)
        return ""

    def finish(self, epoch: int, stop_reason: str) -> History:
        """Put back the best weights, write the final checkpoint, tell the callbacks."""
        history, checkpointed = self.history, self.checkpointed
        if self.stopper is not None:
            self.stopper.restore(self.network)
            history.best_epoch = self.stopper.best_epoch
        history.stop_reason = stop_reason
        if stop_reason != "interrupted":
            checkpointed.write(self, self.end_epoch, 0, True, stop_reason)
        for callback in self.callbacks:
            callback.on_train_end(history)
        if checkpointed.signal is not None:
            raise TrainingInterrupted(epoch, self.end_epoch, str(checkpointed.folder), history)
        return history


def evaluate(network: Network, loss: Loss, x: np.ndarray, t: np.ndarray,
             batch_size: int = 4096, sample_weight: np.ndarray | None = None
             ) -> tuple[float, float]:
    """Loss and accuracy of ``network`` over (x, t), in chunks so large sets need little
    memory; the loss is the exact one of :meth:`Loss.output_value`, weighted by
    ``sample_weight`` (n,) if given (Σ w_k E_k / Σ w_k); the accuracy is unweighted."""
    total, correct_weight = 0.0, 0.0
    n = x.shape[0]
    w = sample_weight
    output = network.output_layer
    for start in range(0, n, batch_size):
        a = network.forward(x[start:start + batch_size])
        tb = t[start:start + batch_size]
        wb = None if w is None else w[start:start + batch_size]
        assert output.z is not None  # set by forward
        value = loss.output_value(output.activation, output.z, a, tb, wb)
        if loss.reduction == "mean":
            value *= a.shape[0] if wb is None else float(wb.sum())
        total += value
        correct_weight += accuracy_from_outputs(a, tb, output.activation.name) * a.shape[0]
    if loss.reduction == "mean":
        total /= n if w is None else float(w.sum())
    return total, correct_weight / n
