"""Fuzz target for the IDX reader (:func:`mlpkit.data.idx.read_idx`), plain and gzipped."""

from __future__ import annotations

import sys

from _common import main, via_file

from mlpkit.data.idx import IDXFormatError, read_idx

CONTRACT = (
    "read_idx(path, max_bytes=1 MiB) returns an array of the declared shape and type, or raises "
    "IDXFormatError naming the file; at most max_bytes of data are read or decompressed"
)
INSTRUMENT = ["mlpkit.data.idx"]
MAX_BYTES = 1 << 20


def test_one_input(data: bytes) -> None:
    path = via_file(data)
    try:
        array = read_idx(path, max_bytes=MAX_BYTES)
    except IDXFormatError as error:
        if path not in str(error):
            raise AssertionError(f"IDXFormatError without the file name: {error}") from None
        return
    if array.nbytes > MAX_BYTES:
        raise AssertionError(f"read {array.nbytes} bytes, more than max_bytes={MAX_BYTES}")


if __name__ == "__main__":
    main(sys.modules[__name__])
