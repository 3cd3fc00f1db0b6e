"""Model files: round trips, and every way a damaged or hostile file is refused."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlpkit
from mlpkit.io import ModelFileError, UnsupportedFormatVersion, load, read_model_file, save
from mlpkit.io import model_file as io


def small_network(dtype=np.float64) -> mlpkit.Network:
    return mlpkit.mlp(
        [3, 4, 2], activation="tanh", output_activation="softmax", seed=0, dtype=dtype
    )


def forge(header: dict, data: bytes = b"", header_bytes: bytes | None = None) -> bytes:
    """A file with the right magic and checksum around an arbitrary header and data."""
    raw = header_bytes if header_bytes is not None else json.dumps(header).encode()
    body = struct.pack("<8sQ", io.MAGIC, len(raw)) + raw + data
    return body + hashlib.sha256(body).digest()


def split(data: bytes) -> tuple[dict, bytes]:
    (length,) = struct.unpack_from("<Q", data, 8)
    return json.loads(data[16 : 16 + length]), data[16 + length : -32]


@pytest.fixture
def model_bytes() -> bytes:
    return io.encode(small_network(), {"class_names": ["no", "yes"]})


def test_round_trip_predicts_identically(tmp_path, rng):
    net = small_network(np.float32)
    X = rng.normal(size=(10, 3))
    y = np.arange(10) % 2
    optimizer = mlpkit.SGD(0.1, momentum=0.9)
    history = mlpkit.train(
        net, X, y, loss="cross_entropy", optimizer=optimizer, epochs=2, batch_size=4, seed=0
    )
    path = save(
        net,
        tmp_path / "m.mlpk",
        {"dataset": "toy", "scale": np.float32(1.5)},
        optimizer=optimizer,
        history=history,
    )
    loaded = read_model_file(path)
    assert np.array_equal(loaded.network.forward(X), net.forward(X))
    assert loaded.network.dtype == np.float32
    assert loaded.metadata == {"dataset": "toy", "scale": 1.5}
    assert loaded.network.metadata["history"]["loss"] == history.loss
    assert loaded.history.loss == history.loss
    assert loaded.format_version == io.FORMAT_VERSION
    for a, b in zip(loaded.optimizer.velocities, optimizer.velocities, strict=True):
        assert np.array_equal(a, b)
    assert load(path).get_config() == net.get_config()


def test_round_trip_adam_state_and_dropout(tmp_path):
    net = mlpkit.mlp(
        [2, 5, 1], activation="relu", output_activation="sigmoid", dropout=0.25, seed=1
    )
    optimizer = mlpkit.Adam(0.01)
    mlpkit.train(
        net, [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0], optimizer=optimizer, epochs=3, seed=0
    )
    loaded = read_model_file(save(net, tmp_path / "m.mlpk", optimizer=optimizer))
    assert loaded.optimizer.step_count == optimizer.step_count == 3
    assert [type(layer).__name__ for layer in loaded.network.layers] == [
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert np.array_equal(loaded.optimizer.second_moments[0], optimizer.second_moments[0])


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match=r"network must be a mlpkit\.Network"):
        save("net", tmp_path / "m.mlpk")
    with pytest.raises(TypeError, match=r"metadata\.bad must hold only JSON values"):
        save(small_network(), tmp_path / "m.mlpk", {"bad": object()})
    assert not (tmp_path / "m.mlpk").exists()


def test_nan_metadata_becomes_null(tmp_path):
    loaded = load(save(small_network(), tmp_path / "m.mlpk", {"score": float("nan")}))
    assert loaded.metadata == {"score": None}


def test_every_prefix_is_refused(model_bytes):
    for length in range(len(model_bytes)):
        with pytest.raises(ModelFileError, match=r"truncated|empty file"):
            io.decode(model_bytes[:length])


def test_trailing_bytes_refused(model_bytes):
    with pytest.raises(ModelFileError, match="trailing bytes"):
        io.decode(model_bytes + b"PK\x03\x04")


def test_flipped_byte_refused(model_bytes):
    damaged = bytearray(model_bytes)
    damaged[len(damaged) - 40] ^= 0x01
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        io.decode(bytes(damaged))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    position=st.integers(min_value=0),
    value=st.integers(min_value=0, max_value=255),
    cut=st.integers(min_value=0),
)
def test_property_any_flip_or_cut_is_model_file_error(position, value, cut):
    data = bytearray(io.encode(small_network(), {"class_names": ["a", "b"]}))
    position %= len(data)
    changed = data[position] != value
    data[position] = value
    data = bytes(data[: len(data) - cut % 4]) if cut % 2 else bytes(data)
    if not changed and len(data) == len(io.encode(small_network(), {"class_names": ["a", "b"]})):
        io.decode(data)  # unchanged file loads
        return
    with pytest.raises(ModelFileError):
        io.decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_property_arbitrary_bytes_only_model_file_error(data):
    with pytest.raises(ModelFileError):
        io.decode(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_property_arbitrary_header_after_magic(raw):
    with pytest.raises(ModelFileError):
        io.decode(forge({}, header_bytes=raw))


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
    activation=st.sampled_from(["sigmoid", "tanh", "relu", "identity", "leaky_relu"]),
    dtype=st.sampled_from([np.float32, np.float64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_round_trip_any_architecture(sizes, activation, dtype, seed):
    net = mlpkit.mlp(sizes, activation=activation, seed=seed, dtype=dtype)
    loaded = io.decode(io.encode(net)).network
    X = np.random.default_rng(seed).normal(size=(3, sizes[0]))
    assert np.array_equal(loaded.forward(X), net.forward(X))
    assert loaded.get_config() == net.get_config()


def test_header_length_huge(model_bytes):
    data = bytearray(model_bytes)
    data[8:16] = struct.pack("<Q", 2**62)
    with pytest.raises(ModelFileError, match="header length 4,611,686,018,427,387,904"):
        io.decode(bytes(data))


def test_header_length_past_end(model_bytes):
    data = bytearray(model_bytes)
    data[8:16] = struct.pack("<Q", len(model_bytes))
    with pytest.raises(ModelFileError, match="truncated: header says"):
        io.decode(bytes(data))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"{not json", "not valid JSON"),
        (b'{"a": 1, "a": 2}', "duplicate key 'a'"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        (b'{"x": NaN}', "non-standard JSON constant NaN"),
        (b"[]", "must be a JSON object"),
        (b'{"format": "other-lib"}', "not an mlpkit model file: format field"),
        (b'{"x": 1' + b"1" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_hostile_headers(raw, message):
    with pytest.raises(ModelFileError, match=message):
        io.decode(forge({}, header_bytes=raw))


def test_large_header_refused_before_reading():
    data = struct.pack("<8sQ", io.MAGIC, io.MAX_HEADER_BYTES + 1) + b" " * 64
    with pytest.raises(ModelFileError, match="exceeds the limit"):
        io.decode(data)


def _tampered(model_bytes: bytes, change) -> bytes:
    header, data = split(model_bytes)
    result = change(header, data)
    if isinstance(result, tuple):
        header, data = result
    return forge(header, data)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda h, d: h["tensors"][0].update(shape=[2**40, 2**40, 2**40]), "needs"),
        (lambda h, d: h["tensors"][0].update(shape=[-3, 4]), "non-negative ints"),
        (lambda h, d: h["tensors"][1].update(offset=0), "overlaps or leaves a gap"),
        (lambda h, d: h["tensors"][0].update(dtype="<f2"), "dtype '<f2' is not supported"),
        (lambda h, d: h["tensors"][0].update(dtype="|O"), "dtype '|O' is not supported"),
        (lambda h, d: h.update(data_bytes=h["data_bytes"] + 8), "truncated: header says"),
        (lambda h, d: h["tensors"].pop(), "tensor table covers"),
        (lambda h, d: h["tensors"].append(dict(h["tensors"][0])), "listed twice"),
        (
            lambda h, d: h["network"]["layers"][0].update(activation="os.system"),
            "'os.system' is not one of",
        ),
        (
            lambda h, d: h["network"]["layers"][1].update(n_outputs=3),
            r"layers\.1\.weights'?: shape \(4, 2\) but the layer sizes imply \(4, 3\)",
        ),
        (lambda h, d: h["network"].update(dtype="float32"), "dtype float64 but the network"),
        (lambda h, d: h["network"]["layers"][0].update(type="Lambda"), "must be 'Dense'"),
        (
            lambda h, d: h["metadata"].update(class_names=["a", "b", "c"]),
            "lists 3 classes but the network has 2 outputs",
        ),
        (lambda h, d: h.pop("network"), "header field header.network is missing"),
    ],
)
def test_semantically_wrong_files(model_bytes, change, message):
    with pytest.raises(ModelFileError, match=message):
        io.decode(_tampered(model_bytes, change))


def test_missing_and_extra_tensors(model_bytes):
    def drop_biases(header, data):
        entry = header["tensors"].pop()
        header["data_bytes"] -= entry["nbytes"]
        return header, data[: entry["offset"]]

    with pytest.raises(ModelFileError, match=r"tensor 'layers\.1\.biases' is missing"):
        io.decode(_tampered(model_bytes, drop_biases))

    def extra(header, data):
        header["tensors"].append(
            {
                "name": "layers.7.weights",
                "dtype": "<f8",
                "shape": [1],
                "offset": header["data_bytes"],
                "nbytes": 8,
            }
        )
        header["data_bytes"] += 8
        return header, data + b"\0" * 8

    with pytest.raises(ModelFileError, match="do not belong to any layer"):
        io.decode(_tampered(model_bytes, extra))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_weights_refused(value):
    net = small_network()
    net.dense_layers[0].weights[1, 2] = value
    with pytest.raises(ModelFileError, match=r"'layers\.0\.weights' contains NaN or infinite"):
        io.decode(io.encode(net))


def test_future_major_version(model_bytes):
    data = _tampered(model_bytes, lambda h, d: h.update(format_version=[3, 1]))
    with pytest.raises(UnsupportedFormatVersion, match=r"file format 3\.1 .* reads format <= 1"):
        io.decode(data)


def test_newer_minor_version_still_loads(model_bytes):
    data = _tampered(model_bytes, lambda h, d: h.update(format_version=[1, 7], future="x"))
    assert io.decode(data).format_version == (1, 7)


def test_not_a_model_file_messages(tmp_path):
    np.savez(tmp_path / "w.npz", a=np.zeros(3))
    with pytest.raises(ModelFileError, match=r"zip/\.npz"):
        load(tmp_path / "w.npz")
    (tmp_path / "e.mlpk").write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty file"):
        load(tmp_path / "e.mlpk")


def test_file_system_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot read model file .*missing"):
        load(tmp_path / "missing.mlpk")
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        load(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="not a regular file"):
        load(fifo)


def test_max_bytes(tmp_path):
    path = save(small_network(), tmp_path / "m.mlpk")
    with pytest.raises(ModelFileError, match=r"more than the limit of 100 \(max_bytes\)"):
        load(path, max_bytes=100)


def test_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = save(small_network(), tmp_path / "m.mlpk", {"generation": 1})
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(
        OSError,
        match=r"could not write model to .*No space left on device "
        r"\(28\)",
    ):
        save(small_network(), path, {"generation": 2})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.mlpk"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = save(small_network(), folder / "m.mlpk")
    before = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=r"could not write model to .*Permission"):
            save(small_network(), path)
    finally:
        folder.chmod(0o755)
    assert path.read_bytes() == before
