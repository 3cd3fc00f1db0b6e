"""Model files: a trained network (architecture, weights, optimiser state, training record)
as plain arrays plus a JSON header, written atomically and read without running any code.

Layout of a ``.mlpk`` file: 8 magic bytes, the header length (uint64, little-endian), the UTF-8
JSON header, the raw little-endian tensor bytes packed in header order, and a SHA-256 of all
preceding bytes. Every size is checked against the real file size before anything is allocated.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS
from ..layers import Dense, Dropout
from ..network import Network
from ..optimizers import OPTIMIZERS, Optimizer
from ..training.history import History
from .atomic import atomic_write

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "ModelFile",
    "ModelFileError",
    "UnsupportedFormatVersion",
    "load",
    "read_model_file",
    "save",
]

#: First 8 bytes of every model file (PNG-style: a non-ASCII byte, the name, a newline).
MAGIC = b"\x89MLPK\r\n\x1a"
#: (major, minor) of the format written; files of a later major version are refused.
FORMAT_VERSION = (1, 0)
#: Largest JSON header accepted (bytes); a bigger one is refused before it is read.
MAX_HEADER_BYTES = 16 * 2**20
#: Largest model file accepted unless ``max_bytes`` says otherwise.
DEFAULT_MAX_BYTES = 2**31
#: Deepest JSON nesting accepted in the header.
MAX_JSON_DEPTH = 64

_PREFIX = struct.Struct("<8sQ")
_DIGEST = 32
_DTYPES: dict[str, np.dtype] = {"<f4": np.dtype("<f4"), "<f8": np.dtype("<f8")}


class ModelFileError(ValueError):
    """A file is not a valid mlpkit model file (wrong magic, truncated, inconsistent, …)."""


class UnsupportedFormatVersion(ModelFileError):
    """The file was written by a newer mlpkit whose format this version cannot read."""


@dataclass
class ModelFile:
    """Everything a model file holds."""

    network: Network
    metadata: dict
    optimizer: Optimizer | None = None
    history: History | None = None
    format_version: tuple[int, int] = FORMAT_VERSION
    library_version: str = ""
    extra_tensors: dict[str, np.ndarray] = field(default_factory=dict)


# -- writing ----------------------------------------------------------------------------------


def _jsonable(value: Any, where: str) -> Any:
    """``value`` with NumPy scalars/arrays as Python numbers/lists and NaN/inf as None."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: keys must be str, got {type(key).__name__} {key!r}")
            out[key] = _jsonable(item, f"{where}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist(), where)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(
        f"{where} must hold only JSON values (str, numbers, bools, None, lists, dicts), "
        f"got {type(value).__name__}"
    )


def _optimizer_parts(optimizer: Optimizer) -> tuple[dict, dict[str, np.ndarray]]:
    state = optimizer.state_dict()
    header: dict[str, Any] = {
        "name": optimizer.name,
        "config": optimizer.get_config(),
        "state": {},
        "lists": {},
    }
    tensors: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if key == "config":
            continue
        if isinstance(value, list):
            header["lists"][key] = len(value)
            for i, array in enumerate(value):
                tensors[f"optimizer.{key}.{i}"] = np.asarray(array)
        else:
            header["state"][key] = _jsonable(value, f"optimizer.{key}")
    return header, tensors


def encode(
    network: Network,
    metadata: dict | None = None,
    *,
    optimizer: Optimizer | None = None,
    history: History | None = None,
    extra_tensors: dict[str, np.ndarray] | None = None,
) -> bytes:
    """The bytes of a model file for ``network`` (see :func:`save`)."""
    from .. import __version__

    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None, got {type(metadata).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a mlpkit Optimizer, got {type(optimizer).__name__}")
    if history is not None and not isinstance(history, History):
        raise TypeError(f"history must be a mlpkit History, got {type(history).__name__}")
    tensors: dict[str, np.ndarray] = {}
    for i, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            tensors[f"layers.{i}.weights"] = layer.weights
            if layer.biases is not None:
                tensors[f"layers.{i}.biases"] = layer.biases
    header: dict[str, Any] = {
        "format": "mlpkit-model",
        "format_version": list(FORMAT_VERSION),
        "library_version": __version__,
        "network": _jsonable(network.get_config(), "network"),
        "metadata": _jsonable(metadata or {}, "metadata"),
        "optimizer": None,
        "history": None if history is None else _jsonable(history.as_dict(), "history"),
    }
    if optimizer is not None:
        header["optimizer"], optimizer_tensors = _optimizer_parts(optimizer)
        tensors.update(optimizer_tensors)
    for name, array in (extra_tensors or {}).items():
        tensors[f"extra.{name}"] = np.asarray(array)
    table, chunks, offset = [], [], 0
    for name, array in tensors.items():
        if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):
            array = array.astype(np.float64)
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        data = array.tobytes()
        table.append(
            {
                "name": name,
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "offset": offset,
                "nbytes": len(data),
            }
        )
        chunks.append(data)
        offset += len(data)
    header["tensors"] = table
    header["data_bytes"] = offset
    header_bytes = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    body = _PREFIX.pack(MAGIC, len(header_bytes)) + header_bytes + b"".join(chunks)
    return body + hashlib.sha256(body).digest()


def save(
    network: Network,
    path: str | os.PathLike[str],
    metadata: dict | None = None,
    *,
    optimizer: Optimizer | None = None,
    history: History | None = None,
) -> Path:
    """Write ``network`` to ``path`` atomically: the file is either the old one or the new one.

    Parameters
    ----------
    network : Network
    path : str or PathLike
        Destination; its folder must exist. Suffix ``.mlpk`` is conventional, not required.
    metadata : dict, optional
        JSON values (class names, dataset, scaling, …); NumPy values become plain numbers
        and NaN/inf become null. :func:`load` puts it back in ``network.metadata``.
    optimizer : Optimizer, optional
        Its hyper-parameters and state (velocities, moments, step count) are stored too.
    history : History, optional
        The training record.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    OSError
        "could not write model to <path>: <reason>"; the previous file is left intact.
    """
    data = encode(network, metadata, optimizer=optimizer, history=history)
    return write_bytes_atomic(path, data, what="model")


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, what: str = "model") -> Path:
    """Write ``data`` to ``path`` via a temporary file and ``os.replace``; clear OSError."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    target = Path(path)
    try:
        with atomic_write(target, "wb") as f:
            f.write(data)
    except OSError as error:
        reason = error.strerror or str(error)
        code = f" ({error.errno})" if error.errno is not None else ""
        raise type(error)(
            error.errno,
            f"could not write {what} to {str(target)!r}: {reason}{code}; the "
            "previous file (if any) is unchanged",
        ) from error
    return target


# -- reading ----------------------------------------------------------------------------------


def _fail(path: str, message: str, cls: type[ModelFileError] = ModelFileError) -> ModelFileError:
    return cls(f"{path}: {message}")


def _read_bytes(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    name = os.fspath(path)
    try:
        info = os.stat(name)
    except OSError as error:
        raise type(error)(
            error.errno, f"cannot read model file {name!r}: {error.strerror}"
        ) from error
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(21, f"cannot read model file {name!r}: it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise _fail(name, "not a regular file (a FIFO or device cannot hold a model)")
    if info.st_size > max_bytes:
        raise _fail(
            name,
            f"file is {info.st_size:,} bytes, more than the limit of {max_bytes:,} (max_bytes)",
        )
    try:
        with open(name, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as error:
        raise type(error)(
            error.errno, f"cannot read model file {name!r}: {error.strerror}"
        ) from error
    if len(data) > max_bytes:
        raise _fail(name, f"file grew past the limit of {max_bytes:,} bytes (max_bytes)")
    return data


def _json_depth_ok(text: str, limit: int) -> bool:
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_header(name: str, raw: bytes) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _fail(
            name, f"header is not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    if not _json_depth_ok(text, MAX_JSON_DEPTH):
        raise _fail(name, f"header JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        header = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise _fail(name, f"header is not valid JSON: {error}") from None
    if not isinstance(header, dict):
        raise _fail(name, f"header must be a JSON object, got {type(header).__name__}")
    return header


def _get(name: str, mapping: dict, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise _fail(name, f"header field {where}.{key} is missing")
    value = mapping[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _fail(name, f"header field {where}.{key} has the wrong type ({type(value).__name__})")
    return value


def _check_version(name: str, header: dict) -> tuple[int, int]:
    if header.get("format") != "mlpkit-model":
        raise _fail(name, f"not an mlpkit model file: format field is {header.get('format')!r}")
    version = header.get("format_version")
    if not (
        isinstance(version, list)
        and len(version) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in version)
    ):
        raise _fail(name, f"format_version must be [major, minor], got {version!r}")
    major, minor = version
    if major > FORMAT_VERSION[0]:
        raise _fail(
            name,
            f"file format {major}.{minor} was written by mlpkit "
            f"{header.get('library_version', '?')}; this mlpkit reads format <= "
            f"{FORMAT_VERSION[0]}.x. Upgrade mlpkit to load it",
            UnsupportedFormatVersion,
        )
    return major, minor


def _tensors(name: str, header: dict, data: memoryview) -> dict[str, np.ndarray]:
    table = _get(name, header, "tensors", list, "header")
    expected = 0
    out: dict[str, np.ndarray] = {}
    for i, entry in enumerate(table):
        where = f"tensors[{i}]"
        tname = _get(name, entry, "name", str, where)
        dtype_str = _get(name, entry, "dtype", str, where)
        shape = _get(name, entry, "shape", list, where)
        offset = _get(name, entry, "offset", int, where)
        nbytes = _get(name, entry, "nbytes", int, where)
        if tname in out:
            raise _fail(name, f"tensor {tname!r} is listed twice")
        if dtype_str not in _DTYPES:
            raise _fail(
                name,
                f"tensor {tname!r}: dtype {dtype_str!r} is not supported "
                f"(expected one of {sorted(_DTYPES)})",
            )
        if len(shape) > 8 or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise _fail(
                name, f"tensor {tname!r}: shape {shape!r} must be at most 8 non-negative ints"
            )
        dtype = _DTYPES[dtype_str]
        count = math.prod(shape)  # Python ints: no overflow
        if count * dtype.itemsize != nbytes:
            raise _fail(
                name,
                f"tensor {tname!r}: shape {tuple(shape)} of {dtype_str} needs "
                f"{count * dtype.itemsize:,} bytes but nbytes says {nbytes:,}",
            )
        if offset != expected:
            raise _fail(
                name,
                f"tensor {tname!r}: offset {offset:,} overlaps or leaves a gap "
                f"(expected {expected:,})",
            )
        if offset + nbytes > len(data):
            raise _fail(
                name,
                f"tensor {tname!r}: bytes {offset:,}..{offset + nbytes:,} lie "
                f"past the end of the tensor data ({len(data):,} bytes)",
            )
        array = np.frombuffer(data[offset : offset + nbytes], dtype=dtype).reshape(shape)
        if not np.all(np.isfinite(array)):
            raise _fail(
                name,
                f"tensor {tname!r} contains NaN or infinite values; refusing to "
                "load a model that cannot predict",
            )
        out[tname] = array.astype(dtype.newbyteorder("="))
        expected = offset + nbytes
    if expected != len(data):
        raise _fail(
            name, f"tensor table covers {expected:,} bytes but the data section has {len(data):,}"
        )
    return out


def _zeros(n_inputs: int, n_outputs: int, rng: np.random.Generator) -> np.ndarray:
    return np.zeros((n_inputs, n_outputs))


def _build_network(name: str, config: dict, tensors: dict[str, np.ndarray]) -> Network:
    dtype_name = _get(name, config, "dtype", str, "network")
    if dtype_name not in ("float32", "float64"):
        raise _fail(name, f"network.dtype must be 'float32' or 'float64', got {dtype_name!r}")
    dtype = np.dtype(dtype_name)
    layer_configs = _get(name, config, "layers", list, "network")
    if not layer_configs:
        raise _fail(name, "network.layers is empty")
    layers: list[Dense | Dropout] = []
    used: set[str] = set()
    for i, cfg in enumerate(layer_configs):
        where = f"network.layers[{i}]"
        kind = _get(name, cfg, "type", str, where)
        if kind == "Dropout":
            rate = _get(name, cfg, "rate", (int, float), where)
            if not 0.0 <= rate < 1.0:
                raise _fail(name, f"{where}.rate must be in [0, 1), got {rate!r}")
            layers.append(Dropout(float(rate)))
            continue
        if kind != "Dense":
            raise _fail(name, f"{where}.type must be 'Dense' or 'Dropout', got {kind!r}")
        n_in = _get(name, cfg, "n_inputs", int, where)
        n_out = _get(name, cfg, "n_outputs", int, where)
        has_bias = _get(name, cfg, "bias", bool, where)
        act_name = _get(name, cfg, "activation", str, where)
        act_config = cfg.get("activation_config", {})
        if act_name not in ACTIVATIONS:  # a fixed table: nothing is imported by name
            raise _fail(
                name, f"{where}.activation {act_name!r} is not one of {sorted(ACTIVATIONS)}"
            )
        if not isinstance(act_config, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in act_config.values()
        ):
            raise _fail(name, f"{where}.activation_config must map names to numbers")
        if n_in < 1 or n_out < 1:
            raise _fail(name, f"{where}: layer sizes must be positive, got {n_in}x{n_out}")
        for suffix, shape, present in (
            ("weights", (n_in, n_out), True),
            ("biases", (n_out,), has_bias),
        ):
            key = f"layers.{i}.{suffix}"
            if not present:
                continue
            if key not in tensors:
                raise _fail(name, f"tensor {key!r} is missing ({where} is {n_in}x{n_out})")
            if tensors[key].shape != shape:
                raise _fail(
                    name,
                    f"tensor {key!r}: shape {tensors[key].shape} but the layer sizes imply {shape}",
                )
            if tensors[key].dtype != dtype:
                raise _fail(
                    name,
                    f"tensor {key!r}: dtype {tensors[key].dtype} but the network dtype is {dtype}",
                )
            used.add(key)
        try:
            activation = ACTIVATIONS[act_name](**act_config)
        except (TypeError, ValueError) as error:
            raise _fail(name, f"{where}.activation_config is invalid: {error}") from None
        layer = Dense(n_in, n_out, activation=activation, bias=has_bias, init=_zeros, dtype=dtype)
        init = cfg.get("init")
        layer.init = init if isinstance(init, str) else "uniform"
        layer.weights = tensors[f"layers.{i}.weights"]
        if has_bias:
            layer.biases = tensors[f"layers.{i}.biases"]
        layers.append(layer)
    extra = sorted(k for k in tensors if k.startswith("layers.") and k not in used)
    if extra:
        raise _fail(name, f"tensor(s) {extra} do not belong to any layer of the architecture")
    try:
        return Network(layers)
    except (TypeError, ValueError) as error:
        raise _fail(name, f"network architecture is inconsistent: {error}") from None


def _build_optimizer(name: str, spec: dict, tensors: dict[str, np.ndarray]) -> Optimizer:
    opt_name = _get(name, spec, "name", str, "optimizer")
    if opt_name not in OPTIMIZERS:
        raise _fail(name, f"optimizer.name {opt_name!r} is not one of {sorted(OPTIMIZERS)}")
    config = _get(name, spec, "config", dict, "optimizer")
    try:
        optimizer = OPTIMIZERS[opt_name](**config)
    except (TypeError, ValueError) as error:
        raise _fail(name, f"optimizer.config is invalid: {error}") from None
    state: dict[str, Any] = {"config": config}
    state.update(_get(name, spec, "state", dict, "optimizer"))
    lists = _get(name, spec, "lists", dict, "optimizer")
    for key, length in lists.items():
        if not isinstance(length, int) or isinstance(length, bool) or not 0 <= length <= 10_000:
            raise _fail(name, f"optimizer.lists.{key} must be a small int, got {length!r}")
        arrays = []
        for i in range(length):
            tname = f"optimizer.{key}.{i}"
            if tname not in tensors:
                raise _fail(name, f"tensor {tname!r} is missing")
            arrays.append(tensors[tname])
        state[key] = arrays
    try:
        optimizer.load_state_dict(state)
    except (TypeError, ValueError, KeyError) as error:
        raise _fail(name, f"optimizer state is invalid: {error}") from None
    return optimizer


def _check_prefix(name: str, data: bytes) -> int:
    """Check the magic bytes and the size of the prefix; return the header's length."""
    size = len(data)
    if size == 0:
        raise _fail(name, "empty file (0 bytes); not an mlpkit model file")
    if data[: len(MAGIC)] != MAGIC:
        if size < len(MAGIC) and data == MAGIC[:size]:
            raise _fail(
                name,
                f"truncated: only {size} bytes, a model file has at least {_PREFIX.size + _DIGEST}",
            )
        hint = ""
        if data[:1] == b"\x80":
            hint = " (it looks like a Python pickle, which mlpkit never loads)"
        elif data[:2] == b"PK":
            hint = " (it looks like a zip/.npz archive)"
        raise _fail(
            name,
            f"not an mlpkit model file: starts with {bytes(data[:8])!r}, expected {MAGIC!r}{hint}",
        )
    if size < _PREFIX.size + _DIGEST:
        raise _fail(
            name,
            f"truncated: only {size} bytes, a model file has at least {_PREFIX.size + _DIGEST}",
        )
    _, header_len = _PREFIX.unpack_from(data)
    if header_len > MAX_HEADER_BYTES:
        raise _fail(
            name, f"header length {header_len:,} bytes exceeds the limit of {MAX_HEADER_BYTES:,}"
        )
    available = size - _PREFIX.size - _DIGEST
    if header_len > available:
        raise _fail(
            name,
            f"truncated: header says {header_len:,} bytes of header, file has "
            f"{max(available, 0):,} after the prefix",
        )
    return int(header_len)


def _check_body(name: str, data: bytes, header: dict, header_len: int) -> int:
    """Check the tensor data's length and the checksum; return where the data ends."""
    size = len(data)
    data_bytes = _get(name, header, "data_bytes", int, "header")
    body_end = _PREFIX.size + header_len + data_bytes
    if data_bytes < 0:
        raise _fail(name, f"data_bytes must be >= 0, got {data_bytes}")
    if body_end + _DIGEST > size:
        raise _fail(
            name,
            f"truncated: header says {data_bytes:,} bytes of tensor data, file "
            f"has {max(size - _DIGEST - _PREFIX.size - header_len, 0):,}",
        )
    if body_end + _DIGEST < size:
        raise _fail(
            name, f"{size - body_end - _DIGEST:,} unexpected trailing bytes after the checksum"
        )
    view = memoryview(data)
    if hashlib.sha256(view[:body_end]).digest() != bytes(view[body_end:]):
        raise _fail(name, "checksum mismatch: the file is damaged")
    return body_end


def _read_history(name: str, header: dict) -> History | None:
    if header.get("history") is None:
        return None
    record = _get(name, header, "history", dict, "header")
    try:
        return History.from_dict(record)
    except (TypeError, ValueError) as error:
        raise _fail(name, f"history is invalid: {error}") from None


def _check_class_names(name: str, metadata: dict, network: Network) -> None:
    for key in ("class_names", "classes"):
        classes = metadata.get(key)
        if classes is not None and not isinstance(classes, list):  # found by fuzz/fuzz_onnx.py
            raise _fail(name, f"metadata.{key} must be a list, got {type(classes).__name__}")
        if (
            isinstance(classes, list)
            and len(classes) != network.n_outputs
            and not (network.n_outputs == 1 and len(classes) == 2)
        ):
            raise _fail(
                name,
                f"metadata.{key} lists {len(classes)} classes but the network "
                f"has {network.n_outputs} outputs",
            )


def decode(data: bytes, name: str = "<bytes>") -> ModelFile:
    """Parse the bytes of a model file; every problem is a :class:`ModelFileError`."""
    header_len = _check_prefix(name, data)
    header = _parse_header(name, data[_PREFIX.size : _PREFIX.size + header_len])
    version = _check_version(name, header)
    body_end = _check_body(name, data, header, header_len)
    tensors = _tensors(name, header, memoryview(data)[_PREFIX.size + header_len : body_end])
    network = _build_network(name, _get(name, header, "network", dict, "header"), tensors)
    metadata = _get(name, header, "metadata", dict, "header")
    optimizer = None
    if header.get("optimizer") is not None:
        optimizer = _build_optimizer(name, _get(name, header, "optimizer", dict, "header"), tensors)
        _check_optimizer_fits(name, optimizer, network)
    history = _read_history(name, header)
    _check_class_names(name, metadata, network)
    network.metadata = dict(metadata)
    if history is not None:
        network.metadata.setdefault("history", history.as_dict())
    extra = {k[len("extra.") :]: v for k, v in tensors.items() if k.startswith("extra.")}
    return ModelFile(
        network,
        metadata,
        optimizer,
        history,
        version,
        str(header.get("library_version", "")),
        extra,
    )


def read_model_file(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ModelFile:
    """Read everything a model file holds (network, metadata, optimiser, history).

    Raises
    ------
    ModelFileError
        The file is not a valid model file (the message names what is wrong).
    UnsupportedFormatVersion
        The file comes from a newer format version.
    OSError
        The file cannot be read (missing, a directory, permission denied).
    """
    return decode(_read_bytes(path, max_bytes), os.fspath(path))


def load(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> Network:
    """Load a network written by :func:`save`; ``network.metadata`` holds the saved metadata.

    No content of the file is ever executed: it holds only JSON and raw float arrays, and
    activations, layers and optimisers are looked up in fixed tables.

    Parameters
    ----------
    path : str or PathLike
    max_bytes : int
        Files larger than this are refused before reading (default 2 GiB).

    Returns
    -------
    Network
    """
    return read_model_file(path, max_bytes=max_bytes).network


def _check_optimizer_fits(name: str, optimizer: Optimizer, network: Network) -> None:
    """Refuse optimiser state arrays that do not match the network's parameters one for one.

    Found by fuzz/fuzz_checkpoint.py: a file with three Adam moments for four parameters
    loaded, and the first training step with that optimiser failed with an IndexError.
    """
    shapes = [p.shape for p, _ in network.parameters()]
    state = optimizer.state_dict()
    buffers = {k: v for k, v in state.items()
               if k != "config" and (v is None or isinstance(v, list))}
    if len({v is None for v in buffers.values()}) > 1:
        raise _fail(name, f"optimizer state has some buffers but not all: {sorted(buffers)}")
    count = state.get("step_count", 0)
    if not (isinstance(count, int) and 0 <= count < 2**53):
        raise _fail(name, f"optimizer step_count must be an integer >= 0, got {count!r}")
    for key, value in buffers.items():
        if value is None:
            continue
        found = [np.shape(v) for v in value]
        if found != shapes:
            raise _fail(
                name,
                f"optimizer.{key} holds arrays of shapes {found[:8]} but the network's "
                f"parameters have shapes {shapes[:8]}",
            )
