"""Model-file inputs that get past the checksum: how the model and checkpoint targets read bytes.

A byte-mutated model file almost never has a valid SHA-256, so plain mutation only exercises
the first checks of the reader. An input is therefore read in one of three ways, by its first
byte:

- ``0x89`` (the magic's first byte): the raw file, as it is;
- ``{``: a JSON header, a NUL byte, then the tensor data; the prefix (magic, header length)
  and the checksum are computed here, so every mutation of the header reaches the parser and
  the semantic checks behind the checksum;
- anything else: a program of edits to the header of a valid base file (replace a value by an
  int, a float, a string, null, a bool or another value of the header; delete a key), then
  forged as above. This reaches deep fields (optimiser state, checkpoint state) that random
  bytes rarely spell.
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

MAGIC = b"\x89MLPK\r\n\x1a"  # also asserted against mlpkit.io.model_file.MAGIC by the tests
_PREFIX = struct.Struct("<8sQ")


def forge(header: bytes, data: bytes) -> bytes:
    """A model file with header ``header`` and tensor data ``data``; prefix and checksum right."""
    body = _PREFIX.pack(MAGIC, len(header)) + header + data
    return body + hashlib.sha256(body).digest()


def split(file: bytes) -> tuple[bytes, bytes]:
    """(header, data) of a valid model file: the inverse of :func:`forge`."""
    _, n = _PREFIX.unpack_from(file)
    return file[_PREFIX.size : _PREFIX.size + n], file[_PREFIX.size + n : -32]


def forged_input(file: bytes) -> bytes:
    """The ``{``-form input for a valid model file (a seed for the corpus)."""
    header, data = split(file)
    return header + b"\x00" + data


def _nodes(tree: Any) -> list[tuple[Any, Any]]:
    """(container, key) for every value in ``tree``, depth first (the root is not listed)."""
    out: list[tuple[Any, Any]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            out.append((node, key))
            if isinstance(value, dict | list):
                stack.append(value)
    return out


def _value(op: int, payload: bytes, nodes: list[tuple[Any, Any]]) -> Any:
    if op == 1:
        return int.from_bytes(payload[:8].ljust(8, b"\0"), "little", signed=True)
    if op == 2:
        return struct.unpack("<d", payload[:8].ljust(8, b"\0"))[0]
    if op == 3:
        return payload[1 : 1 + (payload[0] if payload else 0) % 24].decode("latin-1")
    if op == 4:
        return None
    if op == 5:
        return bool(payload[:1] and payload[0] & 1)
    if op == 6 and nodes:
        container, key = nodes[int.from_bytes(payload[:2].ljust(2, b"\0"), "little") % len(nodes)]
        return json.loads(json.dumps(container[key]))  # a copy of another value of the header
    return (payload[0] if payload else 0) - 2  # op 7 (and 6 on an empty header): a small int


def edit(tree: Any, program: bytes) -> Any:
    """Apply the edits in ``program`` to ``tree`` (in place) and return it.

    Each edit is 12 bytes: an operation byte, a 2-byte index of the value to change (modulo
    the number of values) and up to 9 bytes of payload.
    """
    for start in range(0, len(program), 12):
        chunk = program[start : start + 12]
        nodes = _nodes(tree)
        if not nodes or len(chunk) < 3:
            break
        op = chunk[0] % 8
        container, key = nodes[int.from_bytes(chunk[1:3], "little") % len(nodes)]
        if op == 0:
            del container[key]
        else:
            container[key] = _value(op, chunk[3:], nodes)
    return tree


def to_file(data: bytes, base: bytes) -> bytes:
    """The model-file bytes that input ``data`` stands for (see the module docstring)."""
    if data[:1] == MAGIC[:1]:
        return data
    if data[:1] == b"{":
        header, _, tensors = data.partition(b"\x00")
        return forge(header, tensors)
    header, tensors = split(base)
    tree = edit(json.loads(header), data[1:])
    text = json.dumps(tree, separators=(",", ":"), allow_nan=True).encode()
    return forge(text, tensors)
