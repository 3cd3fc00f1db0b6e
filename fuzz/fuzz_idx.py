"""Fuzz target for the IDX reader (mlpkit.data.idx.read_idx), raw and gzipped: any bytes must either
parse or raise IDXFormatError."""

from __future__ import annotations

import gzip
import struct

import atheris

with atheris.instrument_imports():
    from mlpkit.data.idx import IDXFormatError, read_idx

from _common import run, via_file


def target(data: bytes) -> None:
    path = via_file(data)
    try:
        read_idx(path, max_bytes=1 << 20)
    except IDXFormatError:
        pass


def seeds() -> list[bytes]:
    images = b"\x00\x00\x08\x03" + struct.pack(">III", 2, 3, 3) + bytes(range(18))
    labels = b"\x00\x00\x08\x01" + struct.pack(">I", 2) + b"\x03\x07"
    floats = b"\x00\x00\x0d\x02" + struct.pack(">II", 1, 2) + struct.pack(">ff", 1.5, -2.0)
    return [images, labels, floats, gzip.compress(images), images[:9], b"\xff\xff\x08\x00"]


if __name__ == "__main__":
    run("idx", target, seeds())
