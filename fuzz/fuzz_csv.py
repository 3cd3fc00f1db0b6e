"""Fuzz target for the CSV reader (:func:`mlpkit.data.csvdata.load_csv`) and its options.

The first two bytes of an input choose the keyword options (header detection or not, delimiter,
target column, feature columns), the rest is the file, so one corpus covers every option
combination the reader has.
"""

from __future__ import annotations

import sys

from _common import main, via_file

from mlpkit.data.csvdata import load_csv

CONTRACT = (
    "load_csv(path, target=..., features=..., header=..., delimiter=...) returns (X, y, names) "
    "with matching row counts, finite float X and int, float or string labels, or raises "
    "ValueError (UnicodeDecodeError is one) naming the file, line and column or the option"
)
INSTRUMENT = ["mlpkit.data.csvdata"]
HEADERS = (None, True, False, None)
DELIMITERS = (",", ";", "\t", " ", "|", ":", ",", ",")
TARGETS = (-1, 0, 1, -2, "y", "label", 5, "x0")
FEATURES = (None, [0], [0, 1], ["a"], [-1], [1, "x0"], None, None)


def options(selector: int, second: int = 0) -> dict:
    """Keyword options from two bytes: header (2 bits), delimiter (3), target (3); features."""
    return {
        "header": HEADERS[selector & 3],
        "delimiter": DELIMITERS[(selector >> 2) & 7],
        "target": TARGETS[(selector >> 5) & 7],
        "features": FEATURES[second & 7],
    }


def test_one_input(data: bytes) -> None:
    kwargs = options(data[0], data[1]) if len(data) > 1 else {}
    path = via_file(data[2:], ".csv")
    try:
        X, y, names = load_csv(path, **kwargs)
    except ValueError:
        return
    if not (X.ndim == 2 and y.shape == (X.shape[0],) and len(names) == X.shape[1]):
        raise AssertionError(f"inconsistent shapes {X.shape}, {y.shape}, {len(names)} names")
    if X.shape[0] == 0 or not (X.dtype.kind == "f" and bool(abs(X).max(initial=0) < float("inf"))):
        raise AssertionError(f"empty or non-finite X of shape {X.shape}")
    if y.dtype.kind not in "ifU":
        raise AssertionError(f"labels of dtype {y.dtype}")


if __name__ == "__main__":
    main(sys.modules[__name__])
