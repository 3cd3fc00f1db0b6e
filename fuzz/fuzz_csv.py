"""Fuzz target for the CSV reader (mlpkit.data.csvdata.load_csv): any bytes must either load or
raise ValueError (UnicodeDecodeError is one) with a located message."""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    from mlpkit.data.csvdata import load_csv

from _common import run, via_file


def target(data: bytes) -> None:
    path = via_file(data, ".csv")
    try:
        load_csv(path)
    except ValueError:
        pass


def seeds() -> list[bytes]:
    return [b"a,b,y\n1,2,0\n3,4,1\n", b"\xef\xbb\xbfx,y\n1,0\n", b"a,y\n1,nan\n", b"a,b\n1\n",
            b"", b"y\n1\n", b"a,y\n1e400,0\n"]


if __name__ == "__main__":
    run("csv", target, seeds())
