"""Tests for mlpkit.training.progress: the per-epoch summary, the tqdm bar and Ctrl-C handling."""

from __future__ import annotations

import io
import math
import os
import signal

import numpy as np
import pytest

import mlpkit
from mlpkit.training.history import History
from mlpkit.training.progress import EpochSummary, ProgressBar, StopOnInterrupt, format_epoch


def _xor_run(callbacks, epochs=3, batch_size=2):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    T = np.array([[0], [1], [1], [0]], dtype=float)
    network = mlpkit.mlp([2, 3, 1], seed=0)
    history = mlpkit.train(network, X, T, optimizer=mlpkit.SGD(0.5), epochs=epochs,
                           batch_size=batch_size, seed=0, callbacks=callbacks)
    return network, history


def test_format_epoch_shows_the_columns_that_apply():
    history = History()
    history.append(loss=0.25, accuracy=0.5, val_loss=math.nan, val_accuracy=math.nan,
                   learning_rate=0.1, seconds=1.234)
    line = format_epoch(0, history, 10)
    assert line == "epoch 1/10  loss 0.2500  accuracy 50.00%  1.2s"
    history.append(loss=0.2, accuracy=0.75, val_loss=0.3, val_accuracy=0.6, learning_rate=0.1,
                   seconds=2.0)
    assert "val_loss 0.3000  val_accuracy 60.00%" in format_epoch(1, history)
    assert format_epoch(1, history).startswith("epoch 2  ")


def test_epoch_summary_writes_one_line_per_epoch():
    stream = io.StringIO()
    _, history = _xor_run([EpochSummary(epochs=3, stream=stream)])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 == history.epochs
    assert lines[0].startswith("epoch 1/3  loss ")
    assert f"{history.loss[-1]:.4f}" in lines[-1]


def test_progress_bar_counts_batches_and_shows_the_epoch_result():
    stream = io.StringIO()
    bar = ProgressBar(epochs=2, stream=stream, disable=False, refresh_every=1)
    _, history = _xor_run([bar], epochs=2, batch_size=1)
    text = stream.getvalue()
    assert "epoch 1/2" in text and "epoch 2/2" in text
    assert "4/4" in text  # four batches of one sample each
    assert f"loss {history.loss[-1]:.4f}" in text
    assert bar.bar is None  # closed after every epoch


def test_progress_bar_is_silent_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()  # isatty() is False
    _xor_run([ProgressBar(epochs=2, stream=stream)])
    assert stream.getvalue() == ""


def test_progress_bar_rejects_a_bad_refresh_interval():
    with pytest.raises(ValueError, match="refresh_every must be >= 1, got 0"):
        ProgressBar(refresh_every=0)
    with pytest.raises(TypeError, match="refresh_every must be an int"):
        ProgressBar(refresh_every=1.5)


def test_first_sigint_stops_after_the_batch_and_keeps_the_training():
    stream = io.StringIO()
    stopper = StopOnInterrupt(stream=stream)

    class Interrupter(mlpkit.Callback):
        def on_batch_end(self, epoch, batch, loss):
            if epoch == 1 and batch == 0:
                os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    with stopper:
        _, history = _xor_run([stopper, Interrupter()], epochs=50, batch_size=1)
    assert stopper.interrupted
    assert history.stop_reason == "interrupted"
    assert history.epochs == 1  # the interrupted epoch is not recorded
    assert "stopping after the current batch" in stream.getvalue()
    assert signal.getsignal(signal.SIGINT) is before


def test_second_sigint_aborts():
    stopper = StopOnInterrupt(message=None)

    class Interrupter(mlpkit.Callback):
        def on_batch_end(self, epoch, batch, loss):
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt), stopper:
        # one sample per batch: the second signal comes before the loop checks the first
        mlpkit.train(mlpkit.mlp([2, 2, 1], seed=0), np.zeros((4, 2)), np.zeros((4, 1)),
                     epochs=5, batch_size=1, callbacks=[Interrupter(), Interrupter(), stopper])
