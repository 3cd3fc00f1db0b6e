"""Greyscale images for training MLPs: a dependency-free reader of PGM (P2/P5) and PNG files.

:func:`read_image` returns one image as float32 values in [0, 1]; :func:`load_image_folder`
loads a folder with one sub-folder per class into a sample matrix and integer labels.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path
from typing import cast

import numpy as np

__all__ = ["load_image_folder", "read_image"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_PIXELS = 1 << 28
_IMAGE_SUFFIXES = (".pgm", ".png")


def _read_pgm(data: bytes, name: str) -> np.ndarray:
    tokens: list[int] = []
    pos = 2
    while len(tokens) < 3:
        while pos < len(data) and (data[pos : pos + 1].isspace() or data[pos] == ord("#")):
            if data[pos] == ord("#"):
                end = data.find(b"\n", pos)
                pos = len(data) if end < 0 else end
            pos += 1
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace() and data[pos] != ord("#"):
            pos += 1
        # found by fuzz/fuzz_image.py: int() of thousands of digits raises without the file name
        if start == pos or not data[start:pos].isdigit() or pos - start > 12:
            raise ValueError(f"{name!r}: bad PGM header (width, height, maxval expected)")
        tokens.append(int(data[start:pos]))
    width, height, maxval = tokens
    if not (0 < width * height <= _MAX_PIXELS and 0 < maxval <= 65535):
        raise ValueError(f"{name!r}: bad PGM size {width}x{height} or maxval {maxval}")
    if data[:2] == b"P2":
        body = re.sub(rb"#[^\n]*", b"", data[pos:]).split()
        if len(body) != width * height or not all(t.isdigit() for t in body):
            raise ValueError(
                f"{name!r}: PGM declares {width}x{height} pixels, found {len(body)} values "
                "(or a non-integer)"
            )
        # found by fuzz/fuzz_image.py: a value past int64 raised OverflowError in np.array
        big = next((t for t in body if len(t.lstrip(b"0")) > 5), None)  # maxval <= 65535
        if big is not None:
            raise ValueError(f"{name!r}: PGM pixel value {big[:20].decode()} above maxval {maxval}")
        pixels = np.array([int(t) for t in body], dtype=np.int64)
    else:
        if pos >= len(data):
            raise ValueError(f"{name!r}: PGM data missing")
        pos += 1  # the single whitespace byte after maxval
        dtype = np.dtype("u1") if maxval < 256 else np.dtype(">u2")
        n = width * height * dtype.itemsize
        if len(data) - pos < n or data[pos + n :].strip():
            raise ValueError(
                f"{name!r}: PGM declares {width}x{height} pixels ({n} bytes), found "
                f"{len(data) - pos} bytes"
            )
        pixels = np.frombuffer(data, dtype, width * height, pos)
    if pixels.max() > maxval:
        raise ValueError(f"{name!r}: PGM pixel value {pixels.max()} above maxval {maxval}")
    return (pixels.reshape(height, width) / maxval).astype(np.float32)


def _unfilter_png(raw: bytes, height: int, stride: int, bpp: int, name: str) -> np.ndarray:
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind == 0:
            cur = line
        elif kind == 1:
            cur = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).ravel()
        elif kind == 2:
            cur = line + prev
        elif kind in (3, 4):
            cur_b, up, filt = bytearray(stride), prev.tolist(), line.tolist()
            for i in range(stride):
                a = cur_b[i - bpp] if i >= bpp else 0
                if kind == 3:
                    pred = (a + up[i]) >> 1
                else:
                    b, c = up[i], up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur_b[i] = (filt[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(cur_b), np.uint8)
        else:
            raise ValueError(f"{name!r}: bad PNG filter type {kind} in row {y}")
        out[y] = prev = cur
    return out


def _read_png(data: bytes, name: str) -> np.ndarray:
    pos, header, idat = 8, None, []
    while True:
        if pos + 8 > len(data):
            raise ValueError(f"{name!r}: PNG file truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) < length or len(crc) < 4:
            raise ValueError(f"{name!r}: PNG file truncated in chunk {ctype!r}")
        if zlib.crc32(ctype + body) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"{name!r}: PNG chunk {ctype!r} has a bad CRC")
        pos += 12 + length
        if ctype == b"IHDR":
            if length != 13:
                raise ValueError(f"{name!r}: PNG IHDR chunk of {length} bytes, expected 13")
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ValueError(f"{name!r}: PNG file without IHDR chunk")
    width, height, depth, color, _comp, _filter, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if channels is None or depth not in (8, 16) or interlace:
        raise ValueError(
            f"{name!r}: unsupported PNG (colour type {color}, bit depth {depth}, interlace "
            f"{interlace}); expected 8- or 16-bit greyscale/RGB(A), not interlaced"
        )
    if not 0 < width * height <= _MAX_PIXELS:
        raise ValueError(f"{name!r}: bad PNG size {width}x{height}")
    bpp = channels * depth // 8
    stride, expected = width * bpp, height * (width * bpp + 1)
    try:
        decomp = zlib.decompressobj()
        raw = decomp.decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise ValueError(f"{name!r}: damaged PNG data ({exc})") from exc
    if len(raw) != expected:
        raise ValueError(f"{name!r}: PNG data holds {len(raw)} bytes, expected {expected}")
    rows = _unfilter_png(raw, height, stride, bpp, name)
    dtype = np.dtype("u1") if depth == 8 else np.dtype(">u2")
    pixels = rows.view(dtype).reshape(height, width, channels) / float(2**depth - 1)
    if channels >= 3:  # RGB(A) to luminance (ITU-R BT.601); alpha is ignored
        return (pixels[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.float32)
    return pixels[..., 0].astype(np.float32)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a greyscale image: PGM (P2 ASCII or P5 binary, maxval up to 65535) or PNG.

    PNG files must be 8- or 16-bit greyscale, greyscale+alpha, RGB or RGBA, not interlaced;
    colour is converted to luminance (0.299 R + 0.587 G + 0.114 B) and alpha is ignored.
    The format is recognised by the file's first bytes.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (height, width) with values in [0, 1].
    """
    name = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] in (b"P2", b"P5") and data[2:3].isspace():
        return _read_pgm(data, name)
    if data.startswith(_PNG_SIGNATURE):
        return _read_png(data, name)
    raise ValueError(f"{name!r}: not a PGM (P2/P5) or PNG image (first bytes {data[:8]!r})")


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows = (np.arange(size[0]) * image.shape[0]) // size[0]
    cols = (np.arange(size[1]) * image.shape[1]) // size[1]
    return image[np.ix_(rows, cols)]


def load_image_folder(
    path: str | os.PathLike[str], *, size: tuple[int, int] | int | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load images stored one sub-folder per class (``path/<class>/*.pgm|*.png``).

    Parameters
    ----------
    path : str or os.PathLike
        Folder whose sub-folders (hidden ones skipped) are the classes, in sorted order.
    size : (height, width) or int, optional
        Resize every image to this size (nearest neighbour). By default all images must
        have the same shape.

    Returns
    -------
    X : numpy.ndarray
        float32 of shape (n_images, height * width), values in [0, 1] (see :func:`read_image`).
    y : numpy.ndarray
        int64 of shape (n_images,): index of the image's class in ``class_names``.
    class_names : list of str
        The sub-folder names, sorted.
    """
    if size is not None:
        size = (size, size) if isinstance(size, int) else cast("tuple[int, int]", tuple(size))
        if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
            raise ValueError(f"size must be None, an int or (height, width) > 0, got {size!r}")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: image folder {str(root)!r} does not exist")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"path: {str(root)!r} has no sub-folders (one per class expected)")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, cls in enumerate(classes):
        files = sorted(
            p for p in (root / cls).iterdir()
            if p.suffix.lower() in _IMAGE_SUFFIXES and not p.name.startswith(".")
        )  # fmt: skip
        if not files:
            raise ValueError(f"path: class folder {str(root / cls)!r} has no .pgm or .png image")
        for file in files:
            image = read_image(file)
            if size is not None:
                image = _resize(image, size)
            elif images and image.shape != images[0].shape:
                raise ValueError(
                    f"{str(file)!r} has shape {image.shape}, but the images before it have "
                    f"{images[0].shape}; pass size=(height, width) to resize them"
                )
            images.append(image)
            labels.append(label)
    X = np.stack(images).reshape(len(images), -1)
    return X, np.array(labels, dtype=np.int64), classes
