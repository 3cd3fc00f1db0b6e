"""Online and small-batch epochs in one compiled call (:mod:`mlpkit.fast.online`) inside
:func:`mlpkit.train`.

With ``engine="auto"`` or ``"fast"``, ``batch_size`` at most
:data:`mlpkit.fast.online.MAX_BATCH` (or :data:`~mlpkit.fast.online.MAX_SPARSE_BATCH` on data
that is mostly 0, as MNIST: :func:`mlpkit.fast.online.pays`) and a network, loss and optimiser
that :class:`~mlpkit.fast.online.OnlineEpoch` supports, every epoch of the training loop runs
in one compiled call instead of one Python step per batch. Everything the loop does per epoch stays:
shuffling from the run's generator, the History's loss and accuracy (the same sums), the
learning-rate schedule, early stopping, end-of-epoch checkpoints (and resuming mid-epoch: the
rest of that epoch runs compiled), divergence (the same :class:`TrainingDivergedError`, the
weights kept finite) and the callbacks' epoch events.

What needs Python between batches turns the compiled epoch off, at the cost of one Python
step per batch (about 10× slower at ``batch_size=1`` on the 784-100-10 net; see the
CHANGELOG): a callback overriding :meth:`Callback.on_batch_end` without overriding
:meth:`Callback.on_batches_end` (:class:`~mlpkit.training.progress.ProgressBar` has both and
keeps it), and ``checkpoint_every``. A stop request (Ctrl-C, SIGTERM, ``stop_training``) is
seen when the epoch's call returns, so training stops after the current epoch, not batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .callbacks import Callback
from .divergence import TrainingDivergedError

if TYPE_CHECKING:
    from ..fast.online import OnlineEpoch

__all__ = ["CompiledEpochs", "wants_every_batch"]


def wants_every_batch(callback: Callback) -> bool:
    """True when ``callback`` needs ``on_batch_end`` after every batch: it overrides it (as a
    method or an instance attribute, as :class:`LambdaCallback` sets it) and does not take the
    compiled epoch's ``on_batches_end`` instead."""
    method = getattr(callback, "on_batch_end", None)
    if method is None or getattr(method, "__func__", method) is Callback.on_batch_end:
        return False
    bulk = getattr(callback, "on_batches_end", None)
    return bulk is None or getattr(bulk, "__func__", bulk) is Callback.on_batches_end


class CompiledEpochs:
    """The compiled epoch of one training run (a :class:`mlpkit.training.loop._Run`)."""

    def __init__(self, online: OnlineEpoch, x: np.ndarray, t: np.ndarray,
                 norm2: float | None = None) -> None:
        self.online = online
        self.x, self.t = np.ascontiguousarray(x), np.ascontiguousarray(t)
        self.stats = online.data_stats(self.x, norm2)  # once per run: x does not change
        self.outputs = np.empty_like(self.t)

    @classmethod
    def create(cls, engine: str, run, every: int | None) -> CompiledEpochs | None:
        """The compiled epoch for ``run``, or None where the loop must step batch by batch
        (``engine="plain"``, batches where it does not pay, an unsupported setting,
        ``checkpoint_every``, sample weights or a callback that wants every batch)."""
        if engine == "plain" or run.settings["batch_size"] is None or every is not None:
            return None
        if run.data.w is not None:  # the compiled epoch has no sample weights
            return None
        if any(wants_every_batch(callback) for callback in run.callbacks):
            return None
        from ..fast.online import OnlineEpoch, pays

        size = run.batches.size
        if not pays(size, run.data.x):
            return None
        online = OnlineEpoch.for_training(run.network, run.loss, run.optimizer, size)
        return None if online is None else cls(online, run.data.x, run.data.t, run.data.norm2)

    def epoch(self, run, epoch: int, first_batch: int, order: np.ndarray | None) -> bool:
        """Train the batches ``first_batch``, … of this epoch in ``order`` (None: data order);
        record them in ``run.tally`` and tell the callbacks. Returns True when a callback asks
        to stop; raises :class:`TrainingDivergedError` as the per-batch loop does."""
        batches, tally = run.batches, run.tally
        start = first_batch * batches.size
        positions = np.arange(start, batches.n) if order is None else order[start:]
        outputs = self.outputs[:positions.shape[0]]
        result = self.online.run(self.x, self.t, positions, outputs, self.stats)
        stop = min(start + result.batches * batches.size, batches.n)
        done = stop - start
        if done:
            tally.add_outputs(outputs[:done], self.t[positions[:done]], result.loss_sum,
                              result.last_finite_loss, start, stop)
        if result.diverged is not None:
            _raise_diverged(run, epoch, first_batch + result.batches, result)
        mean = result.loss_sum / (done if run.loss.reduction == "mean" else result.batches)
        for callback in run.callbacks:
            bulk = getattr(callback, "on_batches_end", None)
            if bulk is not None:
                bulk(epoch, first_batch, result.batches, mean)
        tally.tally(stop)
        return any(callback.stop_training for callback in run.callbacks)


def _raise_diverged(run, epoch: int, batch: int, result) -> None:
    """The per-batch loop's TrainingDivergedError for a compiled epoch that stopped at
    ``batch`` (the kernel never takes a step with a non-finite gradient)."""
    if result.diverged == "loss":
        run._check_loss(epoch, batch, result.value)  # restores finite weights, raises
    run.history.stop_reason = "diverged"
    raise TrainingDivergedError(epoch, batch, result.last_finite_loss,
                                run.optimizer.learning_rate, "gradient", result.value)
