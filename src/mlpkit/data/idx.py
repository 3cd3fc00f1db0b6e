"""Reading and writing IDX files, the format in which MNIST and Fashion-MNIST are published.

An IDX file is a 4-byte magic number (two zero bytes, a type byte, the number of dimensions),
one big-endian uint32 per dimension, then the data in big-endian C order, often gzipped.
:func:`read_idx` checks every part of that layout and never reads more than the header declares.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
import zlib
from typing import IO, cast

import numpy as np

from ..io.atomic import atomic_write

__all__ = ["DEFAULT_MAX_BYTES", "IDX_TYPES", "IDXFormatError", "read_idx", "write_idx"]

#: IDX type byte -> NumPy dtype of the stored (big-endian) values.
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: Largest data section :func:`read_idx` accepts unless told otherwise (2 GiB).
DEFAULT_MAX_BYTES = 2**31

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22  # 4 MiB


class IDXFormatError(ValueError):
    """An IDX file is malformed: bad magic number, bad sizes or a damaged gzip stream."""


def _open(path: str | os.PathLike[str], stack: contextlib.ExitStack) -> tuple[IO[bytes], bool]:
    """Open ``path`` for reading, through gzip when it starts with the gzip magic bytes."""
    raw = stack.enter_context(open(path, "rb"))
    if raw.read(2) == _GZIP_MAGIC:
        raw.seek(0)
        unzipped = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
        return cast(IO[bytes], unzipped), True
    raw.seek(0)
    return raw, False


def _read_upto(f: IO[bytes], n: int, hasher: hashlib._Hash | None) -> bytearray:
    """Read at most ``n`` bytes in bounded chunks; fewer only at the end of the stream."""
    buf = bytearray()
    while len(buf) < n:
        chunk = f.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    if hasher is not None:
        hasher.update(buf)
    return buf


def _read_idx(
    path: str | os.PathLike[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
    hasher: hashlib._Hash | None = None,
) -> np.ndarray:
    """Implementation of :func:`read_idx`; ``hasher`` is fed the decompressed bytes."""
    name = os.fspath(path)
    stack = contextlib.ExitStack()
    f, compressed = _open(path, stack)
    kind = "gzip-compressed IDX file" if compressed else "IDX file"

    def fail(what: str) -> IDXFormatError:
        return IDXFormatError(f"{name!r} is not a valid {kind}: {what}")

    try:
        with stack:
            magic = _read_upto(f, 4, hasher)
            if len(magic) < 4:
                raise fail(f"it holds {len(magic)} bytes, fewer than the 4-byte magic number")
            if magic[0] != 0 or magic[1] != 0:
                raise fail(
                    f"the magic number must start with two zero bytes, got {bytes(magic[:2])!r}"
                )
            code, ndim = magic[2], magic[3]
            if code not in IDX_TYPES:
                known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
                raise fail(f"unknown type byte 0x{code:02X} (expected one of {known})")
            if ndim == 0:
                raise fail("the number of dimensions is 0 (expected at least 1)")
            head = _read_upto(f, 4 * ndim, hasher)
            if len(head) < 4 * ndim:
                raise fail(f"it ends inside the sizes of its {ndim} dimensions")
            shape = struct.unpack(f">{ndim}I", head)
            dtype = IDX_TYPES[code]
            n_bytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if n_bytes > max_bytes:
                raise fail(
                    f"its header declares shape {shape}, {n_bytes} bytes of data, more than "
                    f"max_bytes={max_bytes}"
                )
            # NumPy refuses any shape whose non-zero sizes multiply past its index range, even
            # when another size is 0 (an empty array): refuse it here, naming the header.
            extent = int(np.prod([d for d in shape if d], dtype=object)) * dtype.itemsize
            if extent > np.iinfo(np.intp).max:
                raise fail(
                    f"its header declares shape {shape}, whose non-zero sizes multiply to "
                    f"{extent} bytes, more than NumPy can index ({np.iinfo(np.intp).max})"
                )
            if not compressed:
                size = os.fstat(f.fileno()).st_size
                expected = 4 + 4 * ndim + n_bytes
                if size != expected:
                    what = "fewer" if size < expected else "more"
                    raise fail(
                        f"its header declares shape {shape} ({expected} bytes in all) but the "
                        f"file holds {size} bytes ({what} than declared)"
                    )
            data = _read_upto(f, n_bytes, hasher)
            if len(data) < n_bytes:
                raise fail(
                    f"its header declares shape {shape}, {n_bytes} bytes of data, but the data "
                    f"ends after {len(data)} bytes"
                )
            if f.read(1):
                raise fail(f"trailing bytes after the {n_bytes} bytes of data of shape {shape}")
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise fail(f"damaged gzip stream ({exc})") from exc
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    if dtype.itemsize > 1:
        array = array.astype(dtype.newbyteorder("="))
    return array


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Read an IDX file, plain or gzip-compressed, into a NumPy array.

    Gzip is detected by the magic bytes ``1f 8b`` at the start of the file, not by the suffix.
    The header is checked completely and the data must have exactly the declared length:
    a file that is too short, has trailing bytes, or whose gzip stream is damaged is refused.
    At most the declared number of bytes is decompressed, so a gzip bomb cannot exhaust memory,
    and a header declaring more than ``max_bytes`` of data is refused before any allocation.

    Parameters
    ----------
    path : str or os.PathLike
        The IDX file.
    max_bytes : int, default 2**31
        Largest data section accepted, in bytes.

    Returns
    -------
    numpy.ndarray
        Array of the shape declared in the header and of the declared type in native byte
        order: ``uint8`` (type 0x08), ``int8`` (0x09), ``int16`` (0x0B), ``int32`` (0x0C),
        ``float32`` (0x0D) or ``float64`` (0x0E).

    Raises
    ------
    IDXFormatError
        (a :class:`ValueError`) if the file is malformed; the message names the file and
        what is wrong.
    FileNotFoundError
        If ``path`` does not exist.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise TypeError(f"max_bytes must be a non-negative int, got {max_bytes!r}")
    return _read_idx(path, max_bytes)


def write_idx(
    path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None
) -> None:
    """Write ``array`` as an IDX file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; replaced only once the whole file has been written.
    array : numpy.ndarray
        Array of 1 to 255 dimensions with dtype ``uint8``, ``int8``, ``int16``, ``int32``,
        ``float32`` or ``float64`` (any byte order); each dimension below 2**32.
    compress : bool, optional
        Gzip the file. By default, compress when ``path`` ends with ``.gz``.
    """
    array = np.asarray(array)
    code = next(
        (c for c, dt in IDX_TYPES.items() if array.dtype.newbyteorder(">") == dt.newbyteorder(">")),
        None,
    )
    if code is None:
        raise TypeError(
            "array must have dtype uint8, int8, int16, int32, float32 or float64, "
            f"got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got {array.ndim}")
    if max(array.shape) >= 2**32:
        raise ValueError(f"array dimensions must be below 2**32, got shape {array.shape}")
    if compress is None:
        compress = os.fspath(path).endswith(".gz")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    data = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    with atomic_write(path, "wb") as f:
        if compress:
            # filename="" keeps the temporary file's name out of the gzip header.
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0) as gz:
                gz.write(header)
                gz.write(data)
        else:
            f.write(header)
            f.write(data)
