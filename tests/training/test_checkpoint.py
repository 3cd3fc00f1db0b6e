"""Checkpoints: resuming reproduces the uninterrupted run, and the folder is kept safe."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit.io import model_file as io
from mlpkit.training.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    CheckpointFolder,
    CheckpointLockedError,
    CheckpointMismatchError,
)
from mlpkit.training.loop import TrainingDivergedError, train

SRC = str(Path(mlpkit.__file__).resolve().parents[1])


def data(seed: int = 0, n: int = 60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def make(dropout: float = 0.0) -> mlpkit.Network:
    return mlpkit.mlp(
        [3, 6, 2], activation="tanh", output_activation="softmax", seed=1, dropout=dropout
    )


class StopAfter(mlpkit.Callback):
    def __init__(self, batches: int) -> None:
        self.batches, self.seen = batches, 0

    def on_batch_end(self, epoch, batch, loss):
        self.seen += 1
        if self.seen == self.batches:
            self.stop_training = True


CONFIGS = {
    "sgd-momentum": dict(
        optimizer=lambda: mlpkit.SGD(0.1, momentum=0.9), dropout=0.0, kw=dict(schedule="step")
    ),
    "adam-dropout-early-stopping": dict(
        optimizer=lambda: mlpkit.Adam(0.02),
        dropout=0.3,
        kw=dict(
            validation_split=0.25,
            early_stopping=mlpkit.EarlyStopping(patience=3),
            schedule="plateau",
        ),
    ),
    # sample weights follow their samples into the split, the batches and the resumed epoch
    "adam-sample-weight-validation-split": dict(
        optimizer=lambda: mlpkit.Adam(0.02),
        dropout=0.0,
        kw=dict(validation_split=0.25, sample_weight=np.random.default_rng(7).uniform(0, 2, 60)),
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, name):
    config = CONFIGS[name]
    X, y = data()
    common = dict(loss="cross_entropy", epochs=8, batch_size=7, seed=5, **config["kw"])
    # StopAfter steps every batch from Python (it overrides on_batch_end), so the reference
    # and the last resume do too: bit for bit holds on one path (the compiled epoch of
    # mlpkit.training.compiled equals it to float rounding; tests/test_online_training.py)
    every_batch = [StopAfter(10**9)]
    reference = make(config["dropout"])
    expected = train(reference, X, y, optimizer=config["optimizer"](), callbacks=every_batch,
                     **common)
    for stop in (4, 9, 13, 20):  # mid-epoch and at epoch ends
        history = train(
            make(config["dropout"]),
            X,
            y,
            optimizer=config["optimizer"](),
            checkpoint=tmp_path,
            checkpoint_every=3,
            resume=True,
            callbacks=[StopAfter(stop)],
            **common,
        )
        assert history.stop_reason == "interrupted"
    network = make(config["dropout"])
    history = train(
        network, X, y, optimizer=config["optimizer"](), checkpoint=tmp_path, resume=True,
        callbacks=[StopAfter(10**9)], **common
    )
    assert history.loss == expected.loss
    assert history.stop_reason == expected.stop_reason
    for got, want in zip(network.get_weights(), reference.get_weights(), strict=True):
        assert np.array_equal(got, want)
    # a finished checkpoint resumes to the same final state without training
    again = make(config["dropout"])
    assert (
        train(
            again, X, y, optimizer=config["optimizer"](), checkpoint=tmp_path, resume=True, **common
        ).loss
        == expected.loss
    )
    assert np.array_equal(again.get_weights()[0], reference.get_weights()[0])


def test_checkpoint_holds_the_training_state(tmp_path):
    X, y = data()
    train(
        make(),
        X,
        y,
        loss="cross_entropy",
        optimizer=mlpkit.Adam(0.01),
        epochs=3,
        batch_size=10,
        seed=0,
        checkpoint=tmp_path,
        callbacks=[StopAfter(8)],
    )
    model = io.read_model_file(tmp_path / CHECKPOINT_NAME)
    state = model.metadata["checkpoint"]
    assert (state["epoch"], state["batch"], state["complete"]) == (1, 2, False)
    assert model.optimizer.step_count == 8
    assert state["rng_state"]["bit_generator"] == "PCG64"
    assert state["fingerprint"]["batch_size"] == 10
    assert sorted(os.listdir(tmp_path)) == [".lock", CHECKPOINT_NAME]


def test_resume_with_other_settings_names_the_fields(tmp_path):
    X, y = data()
    train(
        make(),
        X,
        y,
        loss="cross_entropy",
        epochs=2,
        seed=0,
        checkpoint=tmp_path,
        callbacks=[StopAfter(2)],
    )
    with pytest.raises(
        CheckpointMismatchError,
        match=r"batch_size: checkpoint has 32, this call asks 16.*"
        r"learning_rate: checkpoint has 0\.1, this call asks 0\.5",
    ):
        train(
            make(),
            X,
            y,
            loss="cross_entropy",
            optimizer=mlpkit.SGD(0.5),
            epochs=2,
            batch_size=16,
            seed=0,
            checkpoint=tmp_path,
            resume=True,
        )
    with pytest.raises(CheckpointMismatchError, match=r"data\.sha256"):
        train(
            make(),
            X + 1.0,
            y,
            loss="cross_entropy",
            epochs=2,
            seed=0,
            checkpoint=tmp_path,
            resume=True,
        )
    with pytest.raises(CheckpointMismatchError, match=r"network\.sizes"):
        train(
            mlpkit.mlp([3, 4, 2], output_activation="softmax"),
            X,
            y,
            loss="cross_entropy",
            epochs=2,
            seed=0,
            checkpoint=tmp_path,
            resume=True,
        )


def test_sample_weights_are_part_of_the_data_fingerprint(tmp_path):
    X, y = data()
    w = np.linspace(0.5, 2.0, 60)
    common = dict(loss="cross_entropy", epochs=4, batch_size=8, seed=1, checkpoint=tmp_path,
                  resume=True)
    train(make(), X, y, sample_weight=w, callbacks=[StopAfter(5)], **common)
    with pytest.raises(CheckpointMismatchError, match=r"data\.sample_weight: checkpoint has "):
        train(make(), X, y, sample_weight=w[::-1].copy(), **common)
    with pytest.raises(CheckpointMismatchError, match=r"data\.sample_weight: checkpoint has "
                                                      r"'[0-9a-f]{16}', this call asks '<absent>'"):
        train(make(), X, y, **common)
    history = train(make(), X, y, sample_weight=w, **common)  # the same weights resume
    assert history.epochs == 4


def test_existing_checkpoint_is_not_overwritten_without_resume(tmp_path):
    X, y = data()
    train(make(), X, y, loss="cross_entropy", epochs=1, checkpoint=tmp_path)
    before = (tmp_path / CHECKPOINT_NAME).read_bytes()
    with pytest.raises(ValueError, match="already holds a checkpoint; pass resume=True"):
        train(make(), X, y, loss="cross_entropy", epochs=1, checkpoint=tmp_path)
    assert (tmp_path / CHECKPOINT_NAME).read_bytes() == before


def test_bad_checkpoint_arguments(tmp_path):
    X, y = data()
    with pytest.raises(ValueError, match="checkpoint_every must be a positive int or None, got 0"):
        train(make(), X, y, checkpoint=tmp_path, checkpoint_every=0)
    with pytest.raises(ValueError, match="resume=True needs checkpoint"):
        train(make(), X, y, resume=True)
    with pytest.raises(TypeError, match="checkpoint must be a folder path"):
        train(make(), X, y, checkpoint=3)


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    X, y = data()
    io.save(make(), tmp_path / CHECKPOINT_NAME)
    with pytest.raises(CheckpointError, match="is a model file, not a training checkpoint"):
        train(make(), X, y, loss="cross_entropy", checkpoint=tmp_path, resume=True)
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"\x80\x04junk")
    with pytest.raises(CheckpointError, match=r"cannot resume: .*not an mlpkit model file"):
        train(make(), X, y, loss="cross_entropy", checkpoint=tmp_path, resume=True)


def test_second_writer_is_refused(tmp_path):
    first = CheckpointFolder(tmp_path, None)
    first.open()
    try:
        with pytest.raises(CheckpointLockedError, match=rf"in use by PID {os.getpid()} \(run "):
            train(make(), *data(), checkpoint=tmp_path)
    finally:
        first.close()
    train(make(), *data(), loss="cross_entropy", epochs=1, checkpoint=tmp_path)


def test_orphaned_temp_files_are_removed(tmp_path):
    orphan = tmp_path / f".{CHECKPOINT_NAME}.abc123.tmp"
    orphan.write_bytes(b"half a checkpoint")
    train(make(), *data(), loss="cross_entropy", epochs=1, checkpoint=tmp_path)
    assert not orphan.exists()


def test_disk_full_keeps_previous_checkpoint_and_model(tmp_path, monkeypatch):
    X, y = data()
    common = dict(loss="cross_entropy", epochs=3, batch_size=10, seed=0, checkpoint=tmp_path)
    train(make(), X, y, callbacks=[StopAfter(2)], **common)
    before = (tmp_path / CHECKPOINT_NAME).read_bytes()
    real_fsync = os.fsync

    def full(fd):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".tmp"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full)
    network = make()
    with pytest.raises(
        OSError,
        match=r"could not write checkpoint to .*No space left on "
        r"device \(28\)",
    ):
        train(network, X, y, resume=True, **common)
    assert (tmp_path / CHECKPOINT_NAME).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []
    assert all(np.all(np.isfinite(w)) for w in network.get_weights())
    monkeypatch.undo()  # space freed: the same run resumes and finishes
    assert train(make(), X, y, resume=True, **common).stop_reason == "epochs"


def test_divergence_never_writes_nan_weights(tmp_path):
    X, y = data()
    X = X * 1e3
    network = mlpkit.mlp(
        [3, 8, 1], activation="relu", output_activation="identity", seed=0, dtype=np.float32
    )
    with pytest.raises(TrainingDivergedError, match=r"epoch \d+, batch \d+"):
        train(
            network,
            X,
            y * 1e30,
            epochs=50,
            batch_size=5,
            seed=0,
            checkpoint=tmp_path,
            checkpoint_every=1,
            optimizer=mlpkit.SGD(10.0),
        )
    assert all(np.all(np.isfinite(w)) for w in network.get_weights())
    if (tmp_path / CHECKPOINT_NAME).exists():
        saved = io.read_model_file(tmp_path / CHECKPOINT_NAME)  # loads: weights are finite
        assert saved.metadata["checkpoint"]["complete"] is False


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import mlpkit
    from mlpkit.training.checkpoint import TrainingInterrupted
    from mlpkit.training.loop import train

    folder, out, every = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 8))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    net = mlpkit.mlp([8, 16, 2], activation="tanh", output_activation="softmax", seed=1,
                     dropout=0.1)
    slow = mlpkit.LambdaCallback(on_batch_end=lambda e, b, l: __import__("time").sleep(0.002))
    try:
        train(net, X, y, loss="cross_entropy", optimizer=mlpkit.Adam(0.01), epochs=12,
              batch_size=16, seed=2, validation_split=0.2, early_stopping=20,
              checkpoint=folder, checkpoint_every=every, resume=True, callbacks=[slow])
    except TrainingInterrupted as interrupted:
        print(interrupted, file=sys.stderr)
        sys.exit(130)
    np.savez(out, *net.get_weights())
    """
)


def _run_child(tmp_path: Path, folder: Path, out: Path, every: int = 1) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(
        os.environ,
        PYTHONPATH=SRC,
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return subprocess.Popen(
        [sys.executable, str(script), str(folder), str(out), str(every)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _weights(path: Path) -> list[np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return [archive[f"arr_{i}"] for i in range(len(archive.files))]


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_is_bitwise_identical(tmp_path):
    reference = _run_child(tmp_path, tmp_path / "ref", tmp_path / "ref.npz")
    _wait_for(tmp_path / "ref" / CHECKPOINT_NAME, reference)
    started = time.monotonic()
    assert reference.wait(timeout=120) == 0, reference.stderr.read()
    span = time.monotonic() - started  # training time after the first checkpoint
    folder = tmp_path / "killed"
    # four kills that together stay inside the run, however fast this machine trains it
    delays = np.random.default_rng(7).uniform(0.02, 0.2, size=4) * span
    killed = 0
    for delay in delays:
        child = _run_child(tmp_path, folder, tmp_path / "out.npz")
        _wait_for(folder / CHECKPOINT_NAME, child)
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        killed += child.wait(timeout=60) == -signal.SIGKILL
        child.stdout.close()
        child.stderr.close()
    assert killed >= 3  # most kills hit a running training, not a finished one
    final = _run_child(tmp_path, folder, tmp_path / "out.npz")
    assert final.wait(timeout=120) == 0, final.stderr.read()
    for got, want in zip(
        _weights(tmp_path / "out.npz"), _weights(tmp_path / "ref.npz"), strict=True
    ):
        assert np.array_equal(got, want)
    for process in (reference, final):
        process.stdout.close()
        process.stderr.close()


@pytest.mark.slow
def test_sigint_finishes_batch_checkpoints_and_exits_130(tmp_path):
    folder = tmp_path / "run"
    child = _run_child(tmp_path, folder, tmp_path / "out.npz", every=1000)
    _wait_for(folder / ".lock", child)
    time.sleep(0.4)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "interrupted at epoch" in stderr
    assert f"resume with --checkpoint {folder} --resume" in stderr
    state = io.read_model_file(folder / CHECKPOINT_NAME).metadata["checkpoint"]
    assert state["complete"] is False
    final = _run_child(tmp_path, folder, tmp_path / "out.npz")
    _, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr
