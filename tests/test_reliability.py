"""One test per case C1–C38 of docs/reliability.md: mistakes give one clear error, never a
traceback from deep inside, a lost file, or code run from a file.

These need only NumPy. The scikit-learn estimators' side of the same cases is in
``test_reliability_sklearn.py`` (skipped without scikit-learn), under the same test names."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

import mlpkit
from mlpkit.data.csvdata import load_csv
from mlpkit.data.idx import IDXFormatError, read_idx
from mlpkit.io import ModelFileError, UnsupportedFormatVersion
from mlpkit.io import model_file as io
from mlpkit.training.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointFolder,
    CheckpointLockedError,
    CheckpointMismatchError,
    TrainingInterrupted,
)
from mlpkit.training.loop import EarlyStopping, TrainingDivergedError, train
from mlpkit.validation import InvalidInputError, check_model_size

SRC = str(Path(mlpkit.__file__).resolve().parents[1])


def small_net(**kw) -> mlpkit.Network:
    return mlpkit.mlp([4, 5, 2], activation="tanh", output_activation="softmax", seed=0, **kw)


# -- 2.1 training data -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_c01_nan_inf_in_x(blobs, bad):
    X, y = blobs
    Xbad = X.copy()
    Xbad[3, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or infinite"):
        train(small_net(), Xbad, y, loss="cross_entropy")


def test_c03_wrong_shapes(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"same number of samples, got 40 and 39"):
        train(small_net(), X, y[:-1], loss="cross_entropy")


def test_c04_empty_data(tmp_path):
    with pytest.raises(ValueError, match=r"0 samples"):
        train(small_net(), np.empty((0, 4)), np.empty(0, dtype=int), loss="cross_entropy")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="the file is empty"):
        load_csv(empty)


def test_c05_one_sample_one_feature_one_class(rng):
    with pytest.raises(ValueError, match="validation set is too small"):
        train(
            small_net(), rng.normal(size=(2, 4)), [0, 1], loss="cross_entropy", validation_split=0.2
        )


def test_c07_dtype_variety(blobs, tmp_path):
    X, y = blobs
    images = (np.abs(X) * 60).astype(np.uint8)
    memmap_path = tmp_path / "X.npy"
    np.save(memmap_path, X)
    readonly = np.load(memmap_path, mmap_mode="r")
    train(small_net(), readonly, y, loss="cross_entropy", epochs=1)  # never written to
    train(small_net(), images, y, loss="cross_entropy", epochs=1)


def test_c08_feature_count_mismatch(blobs):
    X, _ = blobs
    with pytest.raises(
        ValueError,
        match=r"shape \(n_samples, 4\) for this network, got "
        r"shape \(40, 3\)",
    ):
        small_net().predict(X[:, :3])


def test_c10_huge_but_finite_inputs(rng):
    X = np.finfo(np.float64).max * rng.uniform(size=(20, 4))
    y = (X[:, 0] > X[:, 1]).astype(int)
    network = small_net(dtype=np.float64)
    try:  # either a clear error or a usable model, never a silent NaN model
        train(network, X, y, loss="cross_entropy", epochs=3)
    except TrainingDivergedError as error:
        assert "last finite loss" in str(error)
    assert all(np.all(np.isfinite(w)) for w in network.get_weights())


# -- 2.2 hyper-parameters ------------------------------------------------------------------------
def test_c11_invalid_values_checked_in_fit_not_init():
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        mlpkit.SGD(learning_rate=-1.0)


def test_c12_wrong_types_and_numpy_integers(blobs):
    X, y = blobs
    train(small_net(), X, y, loss="cross_entropy", epochs=np.int64(1), batch_size=np.int32(8))


def test_c13_resource_exhausting_values():
    with pytest.raises(InvalidInputError, match=r"model would need .* TB .*limit is 4\.0 GB"):
        check_model_size([784, 10**9, 10**3])
    assert check_model_size([784, 100, 10]) == 79_510


def test_c14_incompatible_combinations(blobs, tmp_path):
    X, y = blobs
    train(small_net(), X, y, loss="cross_entropy", epochs=2, checkpoint=tmp_path)
    with pytest.raises(
        CheckpointMismatchError,
        match=r"epochs: checkpoint has 2, this call "
        r"asks 3",
    ):
        train(small_net(), X, y, loss="cross_entropy", epochs=3, checkpoint=tmp_path, resume=True)


# -- 2.3 numerical faults ------------------------------------------------------------------------
def test_c16_no_overflow_in_activations_and_losses():
    z = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        sigmoid = mlpkit.Sigmoid().value(z)
        softmax = mlpkit.Softmax().value(z)
        loss = mlpkit.CrossEntropy().value(np.array([[0.0, 1.0]]), np.array([[1.0, 0.0]]))
        bce = mlpkit.BinaryCrossEntropy().value(np.array([[0.0]]), np.array([[1.0]]))
        # from the pre-activation (what training reports) the same losses are finite, exact
        zs, zb = np.array([[-1000.0, 1000.0]]), np.array([[-1000.0]])
        loss_z = mlpkit.CrossEntropy().output_value(
            mlpkit.Softmax(), zs, mlpkit.Softmax().value(zs), np.array([[1.0, 0.0]]))
        bce_z = mlpkit.BinaryCrossEntropy().output_value(
            mlpkit.Sigmoid(), zb, mlpkit.Sigmoid().value(zb), np.array([[1.0]]))
    assert np.array_equal(sigmoid, [[0.0, 0.5, 1.0]]) and np.allclose(softmax, [[0, 0, 1]])
    # a probability of exactly 0 for the target class costs −ln 0 = +inf (no clip, issue 11)
    assert loss == np.inf and bce == np.inf
    assert loss_z == 2000.0 and bce_z == 1000.0


def test_c17_divergence_stops_with_a_clear_error(rng):
    X = rng.normal(size=(30, 4)) * 50
    T = rng.normal(size=(30, 2)) * 50
    network = mlpkit.mlp([4, 8, 2], activation="relu", output_activation="identity", seed=0)
    with pytest.raises(TrainingDivergedError) as info:
        train(network, X, T, optimizer=mlpkit.SGD(5.0), epochs=50, batch_size=5, seed=0)
    message = str(info.value)
    assert "epoch" in message and "batch" in message and "last finite loss" in message
    assert "smaller than 5" in message and info.value.last_finite_loss is not None
    assert all(np.all(np.isfinite(w)) for w in network.get_weights())


def test_c18_nan_validation_score_is_no_improvement():
    network = small_net()
    stopper = EarlyStopping(patience=2)
    assert not stopper.update(0, 1.0, network)
    assert not stopper.update(1, float("nan"), network)
    assert stopper.best == 1.0 and stopper.best_epoch == 0
    assert stopper.update(2, float("nan"), network)  # two epochs without improvement
    assert stopper.best_weights is not None and all(
        np.all(np.isfinite(w)) for w in stopper.best_weights
    )


def test_c19_gradients_at_edge_points(rng):
    X = np.array([[0.0, 1.0, -1.0, 0.5], [3.0, -2.0, 0.0, 1.0]])
    for activation in ("relu", "tanh", "sigmoid"):
        network = mlpkit.mlp(
            [4, 3, 2], activation=activation, output_activation="softmax", seed=1, dtype=np.float64
        )
        error = mlpkit.check_gradients(
            network, X * (8.0 if activation == "tanh" else 1.0), [0, 1], loss="cross_entropy"
        )
        assert error < 1e-4
    relu = mlpkit.ReLU()
    assert relu.derivative(np.array([0.0]), np.array([0.0]))[0] == 0.0  # sub-gradient choice


# -- 2.4 model files -------------------------------------------------------------------------------
class _Payload:
    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return (Path.touch, (Path(self.sentinel),))


@pytest.mark.parametrize("suffix", [".mlpk", ".mlp", ".npz", ".safetensors", ".pkl"])
def test_c22_malicious_pickle_never_runs(tmp_path, suffix):
    sentinel = tmp_path / "PWNED"
    payload = pickle.dumps(_Payload(str(sentinel)), protocol=4)
    assert payload.startswith(b"\x80\x04")
    path = tmp_path / f"model{suffix}"
    path.write_bytes(payload)
    with pytest.raises(
        ModelFileError,
        match=r"not an mlpkit model file: starts with "
        r"b'\\x80\\x04.*pickle",
    ):
        io.load(path)
    zipped = tmp_path / f"zipped{suffix}"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("data.pkl", payload)
    with pytest.raises(ModelFileError, match="zip"):
        io.load(zipped)
    assert not sentinel.exists()
    pickle.loads(payload)  # proves the payload is live: it does create the sentinel
    assert sentinel.exists()


def test_c23_truncated_model_file(tmp_path):
    data = io.encode(small_net())
    for length in range(len(data)):
        with pytest.raises(ModelFileError, match=r"truncated|empty file"):
            io.decode(data[:length])
    for length in (0, 5, 20, len(data) // 2):  # and through the file reader
        (tmp_path / "m.mlpk").write_bytes(data[:length])
        with pytest.raises(ModelFileError, match=r"truncated|empty file"):
            io.load(tmp_path / "m.mlpk")
    (tmp_path / "m.mlpk").write_bytes(data[:-40])
    with pytest.raises(
        ModelFileError,
        match=r"truncated: header says [\d,]+ bytes of tensor "
        r"data, file has",
    ):
        io.load(tmp_path / "m.mlpk")


def _forge(header: dict | bytes) -> bytes:
    import hashlib

    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = struct.pack("<8sQ", io.MAGIC, len(raw)) + raw
    return body + hashlib.sha256(body).digest()


def test_c24_lying_header():
    base = {"format": "mlpkit-model", "format_version": [1, 0], "data_bytes": 0}
    cases = {
        struct.pack("<8sQ", io.MAGIC, 2**62) + bytes(40): "exceeds the limit",
        struct.pack("<8sQ", io.MAGIC, 500) + bytes(40): "truncated: header says",
        _forge(b"\xc3\x28{}"): "not UTF-8",
        _forge(b"[" * 5000 + b"]" * 5000): "nested deeper",
        _forge(b'{"a":1,"a":2}'): "duplicate key",
        _forge(
            {
                **base,
                "tensors": [
                    {"name": "t", "dtype": "<f8", "shape": [2**63, 2**63], "offset": 0, "nbytes": 0}
                ],
            }
        ): "needs",
        _forge(
            {
                **base,
                "tensors": [{"name": "t", "dtype": "<f8", "shape": [-1], "offset": 0, "nbytes": 0}],
            }
        ): "non-negative",
    }
    for data, message in cases.items():
        with pytest.raises(ModelFileError, match=message):
            io.decode(data)


def test_c25_semantically_wrong_model():
    network = small_net()
    data = bytearray(io.encode(network))
    (length,) = struct.unpack_from("<Q", data, 8)
    header = json.loads(data[16 : 16 + length])
    header["network"]["layers"][1]["n_outputs"] = 3
    body = bytes(data[16 + length : -32])
    forged = _forge(json.dumps(header).encode())[:-32]
    import hashlib

    forged += body
    forged += hashlib.sha256(forged).digest()
    with pytest.raises(
        ModelFileError,
        match=r"layers\.1\.weights'?: shape \(5, 2\) but the "
        r"layer sizes imply \(5, 3\)",
    ):
        io.decode(forged)
    network.dense_layers[1].biases[0] = np.nan
    with pytest.raises(ModelFileError, match="contains NaN or infinite values"):
        io.decode(io.encode(network))


def test_c26_wrong_version_or_library(tmp_path):
    data = bytearray(io.encode(small_net()))
    (length,) = struct.unpack_from("<Q", data, 8)
    header = json.loads(data[16 : 16 + length])
    header["format_version"] = [3, 0]
    import hashlib

    body = (
        struct.pack("<8sQ", io.MAGIC, len(json.dumps(header)))
        + json.dumps(header).encode()
        + bytes(data[16 + length : -32])
    )
    with pytest.raises(UnsupportedFormatVersion, match=r"file format 3\.0.*Upgrade mlpkit"):
        io.decode(body + hashlib.sha256(body).digest())
    np.savez(tmp_path / "keras_like.npz", kernel=np.zeros((2, 2)))
    with pytest.raises(ModelFileError, match="not an mlpkit model file"):
        io.load(tmp_path / "keras_like.npz")
    fixture = Path(__file__).parent / "fixtures" / "model-format-1.0.mlpk"
    loaded = io.load(fixture)  # golden file of format 1.0 keeps loading
    assert loaded.sizes == [4, 5, 2] and loaded.metadata["class_names"] == ["no", "yes"]


# -- 2.5 dataset files --------------------------------------------------------------------------
def _idx(magic: bytes, dims: list[int], payload: bytes) -> bytes:
    return magic + b"".join(struct.pack(">I", d) for d in dims) + payload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_idx(b"\x01\x00\x08\x01", [2], b"\0\0"), "magic"),
        (_idx(b"\x00\x00\x07\x01", [2], b"\0\0"), "unknown type byte 0x07"),
        (_idx(b"\x00\x00\x08\x00", [], b""), "number of dimensions is 0"),
    ],
)
def test_c27_idx_wrong_magic(tmp_path, data, message):
    (tmp_path / "f").write_bytes(data)
    with pytest.raises(IDXFormatError, match=message):
        read_idx(tmp_path / "f")


def test_c28_idx_truncated_or_trailing(tmp_path):
    (tmp_path / "short").write_bytes(_idx(b"\x00\x00\x08\x03", [2, 2, 2], b"\0" * 7))
    with pytest.raises(IDXFormatError, match=r"8"):
        read_idx(tmp_path / "short")
    (tmp_path / "long").write_bytes(_idx(b"\x00\x00\x08\x01", [2], b"\0" * 3))
    with pytest.raises(IDXFormatError, match=r"holds 11 bytes \(more than declared\)"):
        read_idx(tmp_path / "long")


def test_c29_idx_huge_dims(tmp_path):
    (tmp_path / "huge").write_bytes(_idx(b"\x00\x00\x08\x03", [0xFFFFFFFF] * 3, b"\0" * 16))
    with pytest.raises(IDXFormatError, match="4294967295"):
        read_idx(tmp_path / "huge")


def test_c30_gzip_handling(tmp_path):
    bomb = tmp_path / "bomb.gz"
    with gzip.open(bomb, "wb") as f:
        f.write(_idx(b"\x00\x00\x08\x01", [10], b""))
        f.write(b"\0" * 50_000_000)  # inflates far past the 10 declared bytes
    assert bomb.stat().st_size < 200_000
    with pytest.raises(IDXFormatError, match=r"trailing|more than declared"):
        read_idx(bomb)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(gzip.compress(_idx(b"\x00\x00\x08\x01", [4], b"abcd"))[:-10])
    with pytest.raises(IDXFormatError, match=r"gzip|ends|truncated|fewer"):
        read_idx(broken)
    fake = tmp_path / "plain.gz"
    fake.write_bytes(_idx(b"\x00\x00\x08\x01", [2], b"ab"))
    assert read_idx(fake).tolist() == [97, 98]  # detected by magic, not by the name


def test_c31_image_label_file_mismatch(data_dir, tmp_path):
    from mlpkit.datasets import DatasetChecksumError, load_mnist

    swapped = tmp_path / "mnist"
    swapped.mkdir()
    source = data_dir / "mnist"
    for stem in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (swapped / f"{stem}.gz").symlink_to(source / f"{stem}.gz")
    (swapped / "train-labels-idx1-ubyte.gz").symlink_to(source / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(DatasetChecksumError, match="train-labels-idx1-ubyte"):
        load_mnist(swapped, download=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,y\n1,2\n", "2 columns, expected 3"),
        ("a,b,y\n1,x,0\n", r"column 2 \('b'\): 'x' is not a number"),
        ("a,b,y\n1,nan,0\n", r"line 2, column 2 \('b'\): missing value 'nan'"),
        ("a,b,y\n1,1e400,0\n", "not a finite number"),
        ("a,b,y\n", "no data rows"),
    ],
)
def test_c32_csv_pitfalls(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_csv(path)
    path.write_bytes(b"\xef\xbb\xbfa,y\n1,0\n2,1\n")  # a BOM is skipped
    X, y, names = load_csv(path)
    assert names[0] == "a" and X.tolist() == [[1.0], [2.0]] and y.tolist() == [0, 1]


def test_c33_file_system_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        io.load(tmp_path / "missing.mlpk")
    with pytest.raises(IsADirectoryError, match="directory"):
        io.load(tmp_path)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(ModelFileError, match="not a regular file"):
        io.load(tmp_path / "fifo")  # returns at once: no hang waiting for a writer
    with pytest.raises(ModelFileError, match="not a regular file"):
        io.load("/dev/zero")


# -- 2.6 interruption and storage faults --------------------------------------------------------
def test_c34_sigint_finishes_batch_and_checkpoints(tmp_path, blobs):
    X, y = blobs
    sent = mlpkit.LambdaCallback(
        on_batch_end=lambda e, b, l: (
            os.kill(os.getpid(), signal.SIGINT) if (e, b) == (1, 2) else None
        )
    )
    common = dict(loss="cross_entropy", epochs=4, batch_size=8, seed=0, checkpoint=tmp_path)
    with pytest.raises(TrainingInterrupted, match=r"interrupted at epoch 2/4; resume with"):
        train(small_net(), X, y, callbacks=[sent], **common)
    state = io.read_model_file(tmp_path / CHECKPOINT_NAME).metadata["checkpoint"]
    assert (state["epoch"], state["batch"]) == (1, 3)  # the batch was finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # bit for bit on one path: the callback above steps every batch from Python, so these do
    # too (the compiled epoch of mlpkit.training.compiled equals it to float rounding)
    every_batch = [mlpkit.LambdaCallback(on_batch_end=lambda e, b, l: None)]
    reference = small_net()
    expected = train(reference, X, y, callbacks=every_batch,
                     **{**common, "checkpoint": tmp_path / "ref"})
    resumed = small_net()
    assert train(resumed, X, y, resume=True, callbacks=every_batch,
                 **common).loss == expected.loss
    assert np.array_equal(resumed.get_weights()[0], reference.get_weights()[0])


CHILD_KILL_IN_WRITE = textwrap.dedent("""
    import os, sys
    import mlpkit
    from mlpkit.io import model_file as io
    path = sys.argv[1]
    io.save(mlpkit.mlp([2, 3, 1], seed=0), path, {"generation": 1})
    real_replace = os.replace
    os.replace = lambda *a: os._exit(1)  # killed after fsync, before the rename
    io.save(mlpkit.mlp([2, 3, 1], seed=1), path, {"generation": 2})
""")


def test_c35_kill_during_write_leaves_old_file(tmp_path):
    path = tmp_path / CHECKPOINT_NAME
    env = dict(os.environ, PYTHONPATH=SRC)
    result = subprocess.run(
        [sys.executable, "-c", CHILD_KILL_IN_WRITE, str(path)],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert io.load(path).metadata == {"generation": 1}
    orphans = list(tmp_path.glob(f".{CHECKPOINT_NAME}.*.tmp"))
    assert len(orphans) == 1
    folder = CheckpointFolder(tmp_path, None)
    folder.open()  # the next run cleans up the orphan
    folder.close()
    assert not orphans[0].exists() and io.load(path).metadata == {"generation": 1}


CHILD_FSIZE = textwrap.dedent("""
    import resource, signal, sys
    import mlpkit
    from mlpkit.io import model_file as io
    path = sys.argv[1]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    try:
        io.save(mlpkit.mlp([100, 100, 10], seed=0), path)
    except OSError as error:
        print(error)
        sys.exit(3)
""")


def test_c36_file_too_large_keeps_previous_file(tmp_path):
    path = tmp_path / "m.mlpk"
    io.save(small_net(), path)
    before = path.read_bytes()
    env = dict(os.environ, PYTHONPATH=SRC)
    result = subprocess.run(
        [sys.executable, "-c", CHILD_FSIZE, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert "could not write model to" in result.stdout and "(27)" in result.stdout
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.mlpk"]


def test_c37_resume_reproduces_uninterrupted_run(tmp_path, blobs):
    X, y = blobs
    common = dict(
        loss="cross_entropy",
        optimizer=None,
        epochs=5,
        batch_size=6,
        seed=3,
        validation_split=0.25,
        early_stopping=EarlyStopping(patience=2),
    )
    reference = small_net(dropout=0.2)
    expected = train(reference, X, y, **common)
    stop = mlpkit.LambdaCallback(on_epoch_end=lambda e, h: setattr(stop, "stop_training", e == 1))
    train(small_net(dropout=0.2), X, y, checkpoint=tmp_path, callbacks=[stop], **common)
    resumed = small_net(dropout=0.2)
    history = train(resumed, X, y, checkpoint=tmp_path, resume=True, **common)
    assert history.loss == expected.loss and history.val_loss == expected.val_loss
    for got, want in zip(resumed.get_weights(), reference.get_weights(), strict=True):
        assert np.array_equal(got, want)


def _writer(path: str, seed: int, rounds: int) -> None:
    network = mlpkit.mlp([20, 30, 5], seed=seed)
    for _ in range(rounds):
        io.save(network, path, {"writer": seed})


def test_c38_concurrent_writers_and_lock(tmp_path):
    path = tmp_path / "shared.mlpk"
    io.save(mlpkit.mlp([20, 30, 5], seed=0), path, {"writer": 0})
    expected = {seed: mlpkit.mlp([20, 30, 5], seed=seed).get_weights()[0] for seed in (0, 1, 2)}
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(str(path), seed, 40)) for seed in (1, 2)]
    for process in writers:
        process.start()
    loads = 0
    while any(process.is_alive() for process in writers) or loads < 5:
        network = io.load(path)  # never a torn file
        assert np.array_equal(network.get_weights()[0], expected[network.metadata["writer"]])
        loads += 1
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    holder = CheckpointFolder(tmp_path / "ck", None)
    holder.open()
    try:
        with pytest.raises(CheckpointLockedError, match=r"in use by PID \d+ \(run [0-9a-f]+\)"):
            CheckpointFolder(tmp_path / "ck", None).open()
    finally:
        holder.close()
