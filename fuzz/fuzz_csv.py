"""Fuzz target for the CSV reader (:func:`mlpkit.data.csvdata.load_csv`) and its options.

The first byte of an input chooses the keyword options (header, delimiter, target column), the
rest is the file, so one corpus covers every option combination the reader has.
"""

from __future__ import annotations

import sys

from _common import main, via_file

from mlpkit.data.csvdata import load_csv

CONTRACT = (
    "load_csv(path, target=..., header=..., delimiter=...) returns (X, y, names) with matching "
    "row counts and finite values, or raises ValueError (UnicodeDecodeError is one) naming the "
    "file, line and column or the option"
)
INSTRUMENT = ["mlpkit.data.csvdata"]
DELIMITERS = (",", ";", "\t", " ", "|", ":", ",", ",")
TARGETS = (-1, 0, 1, -2, "y", "label", 5, "x0")


def options(selector: int) -> dict:
    """Keyword options from one byte: bit 0 header, bits 1-3 delimiter, bits 4-6 target."""
    return {
        "header": not selector & 1,
        "delimiter": DELIMITERS[(selector >> 1) & 7],
        "target": TARGETS[(selector >> 4) & 7],
    }


def test_one_input(data: bytes) -> None:
    kwargs = options(data[0]) if data else {}
    path = via_file(data[1:], ".csv")
    try:
        X, y, names = load_csv(path, **kwargs)
    except ValueError:
        return
    if not (X.ndim == 2 and y.shape == (X.shape[0],) and len(names) == X.shape[1]):
        raise AssertionError(f"inconsistent shapes {X.shape}, {y.shape}, {len(names)} names")
    if X.shape[0] == 0 or not (X.dtype.kind == "f" and bool(abs(X).max(initial=0) < float("inf"))):
        raise AssertionError(f"empty or non-finite X of shape {X.shape}")


if __name__ == "__main__":
    main(sys.modules[__name__])
