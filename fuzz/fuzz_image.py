"""Fuzz target for the image reader (:func:`mlpkit.data.images.read_image`): PNG and PGM."""

from __future__ import annotations

import sys
import zlib

import numpy as np
from _common import main, via_file

from mlpkit.data.images import read_image

CONTRACT = (
    "read_image(path) returns a float32 (height, width) array with values in [0, 1], or raises "
    "ValueError naming the file; a declared size above 2**28 pixels is refused before "
    "decompressing"
)
INSTRUMENT = ["mlpkit.data.images"]


def png_with_valid_crcs(data: bytes) -> bytes:
    """Recompute every chunk CRC of a PNG-looking input, so mutations reach the decoder."""
    out, pos = bytearray(data[:8]), 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        body = data[pos + 4 : pos + 8 + length]
        out += data[pos : pos + 4] + body + zlib.crc32(body).to_bytes(4, "big")
        pos += 12 + length
    return bytes(out) + data[pos:]


def test_one_input(data: bytes) -> None:
    # Inputs starting with "!" stand for a PNG with correct CRCs (the rest, CRCs recomputed).
    if data[:1] == b"!":
        data = png_with_valid_crcs(b"\x89PNG\r\n\x1a\n" + data[9:])
    path = via_file(data, ".img")
    try:
        image = read_image(path)
    except ValueError as error:
        if path not in str(error):
            raise AssertionError(f"ValueError without the file name: {error}") from None
        return
    if not (image.ndim == 2 and image.dtype == np.float32 and image.size > 0):
        raise AssertionError(f"image of shape {image.shape} and dtype {image.dtype}")
    if not (0.0 <= float(image.min()) and float(image.max()) <= 1.0):
        raise AssertionError(f"values outside [0, 1]: {image.min()}..{image.max()}")


if __name__ == "__main__":
    main(sys.modules[__name__])
