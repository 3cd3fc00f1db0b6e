"""Watching training: a progress bar per epoch, a one-line summary per epoch, and Ctrl-C handling.

These are :class:`~mlpkit.callbacks.Callback` objects for :func:`mlpkit.train`, which itself never
prints (the lectures' training loop, with its reporting moved out of it). The bar needs tqdm,
the ``cli`` extra: ``pip install "mlpkit[cli]"``.
"""

from __future__ import annotations

import math
import signal
import sys
from typing import IO, TYPE_CHECKING, Any

from .callbacks import Callback

if TYPE_CHECKING:
    from ..network import Network
    from .history import History

__all__ = ["EpochSummary", "ProgressBar", "StopOnInterrupt", "format_epoch", "in_notebook"]


def _percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{100 * value:.2f}%"


def format_epoch(epoch: int, history: History, epochs: int | None = None) -> str:
    """One line describing epoch ``epoch`` (0-based) from the last row of ``history``.

    For example ``epoch 3/10  loss 0.0213  accuracy 97.12%  val_loss 0.0250  val_accuracy
    96.80%  1.9s``; validation and accuracy columns are left out where they are NaN.
    """
    total = f"/{epochs}" if epochs else ""
    parts = [f"epoch {epoch + 1}{total}", f"loss {history.last('loss'):.4f}"]
    if not math.isnan(history.last("accuracy")):
        parts.append(f"accuracy {_percent(history.last('accuracy'))}")
    if not math.isnan(history.last("val_loss")):
        parts.append(f"val_loss {history.last('val_loss'):.4f}")
    if not math.isnan(history.last("val_accuracy")):
        parts.append(f"val_accuracy {_percent(history.last('val_accuracy'))}")
    parts.append(f"{history.last('seconds'):.1f}s")
    return "  ".join(parts)


class EpochSummary(Callback):
    """Write :func:`format_epoch`'s line to ``stream`` after every epoch.

    Parameters
    ----------
    epochs : int, optional
        The epoch limit, shown as ``epoch k/epochs``.
    stream : file object, default sys.stderr
        Where to write (looked up when training starts, so a replaced ``sys.stderr`` is used).
    """

    def __init__(self, epochs: int | None = None, stream: IO[str] | None = None) -> None:
        self.epochs = epochs
        self.stream = stream
        self.lines: list[str] = []

    def on_epoch_end(self, epoch: int, history: History) -> None:
        line = format_epoch(epoch, history, self.epochs)
        self.lines.append(line)
        stream = self.stream if self.stream is not None else sys.stderr
        print(line, file=stream, flush=True)


def in_notebook() -> bool:
    """True when running in a Jupyter kernel, where tqdm.auto draws a notebook widget bar."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            'the progress bar needs tqdm, which is not installed: pip install "mlpkit[cli]"'
        ) from exc
    return tqdm


class ProgressBar(Callback):
    """A tqdm bar per epoch: batches done, running mean loss, and the time left.

    When the epoch ends the bar shows the epoch's loss and accuracy (and their validation
    values) and stays on screen.

    Parameters
    ----------
    epochs : int, optional
        The epoch limit, shown in the bar's label as ``epoch k/epochs``.
    stream : file object, default sys.stderr
    disable : bool or None, default None
        True: no bar. None: a bar when ``stream`` is a terminal, or in Jupyter (where
        ``tqdm.auto`` draws tqdm's notebook widget instead of text).
    refresh_every : int, default 50
        Update the loss shown every this many batches (tqdm itself limits redraws to 10 per
        second).
    leave : bool, default True
        Keep each epoch's finished bar on screen (False: remove it, e.g. when an
        :class:`EpochSummary` line follows).

    Raises
    ------
    ImportError
        If tqdm is not installed (the ``cli`` extra).
    """

    def __init__(
        self,
        epochs: int | None = None,
        stream: IO[str] | None = None,
        disable: bool | None = None,
        refresh_every: int = 50,
        leave: bool = True,
    ) -> None:
        if isinstance(refresh_every, bool) or not isinstance(refresh_every, int):
            raise TypeError(f"refresh_every must be an int, got {type(refresh_every).__name__}")
        if refresh_every < 1:
            raise ValueError(f"refresh_every must be >= 1, got {refresh_every}")
        self._tqdm = _tqdm()
        self.epochs = epochs
        self.stream = stream
        self.disable = disable
        self.refresh_every = refresh_every
        self.leave = leave
        self.n_batches = 0
        self.bar: Any = None
        self._loss_sum = 0.0
        self._count = 0

    def on_train_begin(self, network: Network, history: History, n_batches: int) -> None:
        self.n_batches = n_batches

    def on_epoch_begin(self, epoch: int) -> None:
        stream = self.stream if self.stream is not None else sys.stderr
        disable = self.disable
        if disable is None:
            disable = not (hasattr(stream, "isatty") and stream.isatty()) and not in_notebook()
        total = f"/{self.epochs}" if self.epochs else ""
        self.bar = self._tqdm(
            total=self.n_batches,
            desc=f"epoch {epoch + 1}{total}",
            unit="batch",
            file=stream,
            disable=disable,
            leave=self.leave,
            dynamic_ncols=True,
        )
        self._loss_sum, self._count = 0.0, 0

    def on_batch_end(self, epoch: int, batch: int, loss: float) -> None:
        if self.bar is None:
            return
        self._loss_sum += loss
        self._count += 1
        if self._count % self.refresh_every == 0:
            self.bar.set_postfix_str(f"loss {self._loss_sum / self._count:.4f}", refresh=False)
        self.bar.update(1)

    def on_batches_end(self, epoch: int, first_batch: int, n_batches: int,
                       mean_loss: float) -> None:
        """A compiled epoch's batches: the bar advances by all of them at once."""
        if self.bar is None:
            return
        self._loss_sum += mean_loss * n_batches
        self._count += n_batches
        self.bar.set_postfix_str(f"loss {self._loss_sum / self._count:.4f}", refresh=False)
        self.bar.update(n_batches)

    def on_epoch_end(self, epoch: int, history: History) -> None:
        if self.bar is None:
            return
        parts = [f"loss {history.last('loss'):.4f}"]
        for key in ("accuracy", "val_loss", "val_accuracy"):
            value = history.last(key)
            if not math.isnan(value):
                parts.append(f"{key} {_percent(value) if 'accuracy' in key else f'{value:.4f}'}")
        self.bar.set_postfix_str("  ".join(parts), refresh=False)
        self.bar.close()
        self.bar = None

    def on_train_end(self, history: History) -> None:
        if self.bar is not None:  # interrupted inside an epoch
            self.bar.close()
            self.bar = None


class StopOnInterrupt(Callback):
    """Ctrl-C stops training cleanly after the current batch; a second Ctrl-C aborts.

    Use it as a context manager around :func:`mlpkit.train` and pass it in ``callbacks``::

        with StopOnInterrupt() as stopper:
            history = mlpkit.train(network, X, T, callbacks=[stopper])
        if stopper.interrupted:
            ...  # history.stop_reason == "interrupted"; the network keeps what it learnt

    The first SIGINT sets ``stop_training`` (the loop stops after the batch it is in); the
    second raises :class:`KeyboardInterrupt` as usual. The previous handler is restored on
    exit. Signal handlers can only be installed from the main thread; elsewhere this does
    nothing.

    Parameters
    ----------
    message : str or None
        Written to ``stream`` on the first Ctrl-C.
    stream : file object, default sys.stderr
    """

    def __init__(
        self,
        message: str | None = "interrupted: stopping after the current batch "
        "(press Ctrl-C again to abort)",
        stream: IO[str] | None = None,
    ) -> None:
        self.message = message
        self.stream = stream
        self.interrupted = False
        self._previous: Any = None
        self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        if self.interrupted:
            raise KeyboardInterrupt
        self.interrupted = True
        self.stop_training = True
        if self.message:
            stream = self.stream if self.stream is not None else sys.stderr
            print(f"\n{self.message}", file=stream, flush=True)

    def on_train_begin(self, network: Network, history: History, n_batches: int) -> None:
        # train() clears stop_training when it starts; keep a Ctrl-C that came before it.
        self.stop_training = self.interrupted

    def __enter__(self) -> StopOnInterrupt:
        self.interrupted = False
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        except ValueError:  # not the main thread
            self._installed = False
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
