"""Callbacks: how the training loop reports progress without printing.

A callback receives the events of :func:`mlpkit.train`; set ``stop_training = True`` on it
(from any event, or from a signal handler) to stop after the current batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..network import Network
    from .history import History

__all__ = ["Callback", "LambdaCallback"]


class Callback:
    """Base class with empty event methods; override the ones you need."""

    stop_training: bool = False

    def on_train_begin(self, network: Network, history: History, n_batches: int) -> None:
        """Before the first epoch; ``n_batches`` is the number of batches per epoch."""

    def on_epoch_begin(self, epoch: int) -> None:
        """Before epoch ``epoch`` (0-based)."""

    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
        """After the optimiser step of batch ``batch`` (0-based) with that batch's loss.

        Overriding it costs speed with small batches: :func:`mlpkit.train` then steps every
        batch from Python instead of running each epoch in one compiled call
        (:mod:`mlpkit.training.compiled`), unless :meth:`on_batches_end` is overridden too.
        """

    def on_batches_end(self, epoch: int, first_batch: int, n_batches: int,
                       mean_loss: float) -> None:
        """After a compiled epoch trained batches ``first_batch`` … ``first_batch + n_batches
        − 1`` of epoch ``epoch`` in one call (instead of ``on_batch_end`` per batch);
        ``mean_loss`` is their mean loss (per sample for ``reduction="mean"``, per batch for
        ``"sum"``)."""

    def on_epoch_end(self, epoch: int, history: History) -> None:
        """After the epoch's evaluation; ``history`` already holds its row."""

    def on_train_end(self, history: History) -> None:
        """After training stopped (``history.stop_reason`` says why)."""


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda e, h: ...)``."""

    def __init__(self, **events) -> None:
        for name, function in events.items():
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise ValueError(f"unknown callback event {name!r}")
            setattr(self, name, function)
