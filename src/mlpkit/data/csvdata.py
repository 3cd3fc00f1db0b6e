"""Numeric CSV files as training data: one sample per row, one column the target.

:func:`load_csv` returns the feature matrix, the targets (integers where they all are) and
the feature names, and names the line and column of any malformed value.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np

__all__ = ["load_csv"]


def load_csv(
    path: str | os.PathLike[str],
    target: int | str = -1,
    *,
    header: bool = True,
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a numeric CSV file: one sample per row, one column of it the target.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (UTF-8, an optional BOM is skipped; blank lines are skipped).
    target : int or str, default -1
        The target column: its 0-based index (negative counts from the end) or its name in
        the header.
    header : bool, default True
        The first row holds the column names.
    delimiter : str, default ","
        Field separator.

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n_rows, n_columns - 1).
    y : numpy.ndarray
        Shape (n_rows,): int64 if every target value is an integer, else float64.
    feature_names : list of str
        Names of the columns of ``X`` (``"x<j>"`` for column index j without a header).

    Raises
    ------
    ValueError
        For an empty file, no data rows, an unknown target column, a row with another number
        of columns, or a missing, non-numeric or non-finite value (the message names the line,
        counted from 1, and the column).
    """
    name = os.fspath(path)
    names: list[str] | None = None
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if names is None:
                names = [c.strip() for c in row] if header else [f"x{j}" for j in range(len(row))]
                if header:
                    continue
            if len(row) != len(names):
                raise ValueError(
                    f"{name!r}, line {reader.line_num}: {len(row)} columns, expected {len(names)}"
                )
            values = []
            for j, cell in enumerate(row):
                try:
                    value = float(cell)
                    what = "" if math.isfinite(value) else f"{cell!r} is not a finite number"
                except ValueError:
                    what = f"{cell!r} is not a number" if cell.strip() else "missing value"
                if what:
                    col = f"column {j + 1} ({names[j]!r})" if header else f"column {j + 1}"
                    raise ValueError(f"{name!r}, line {reader.line_num}, {col}: {what}")
                values.append(value)
            rows.append(values)
    if names is None:
        raise ValueError(f"{name!r}: the file is empty")
    if not rows:
        raise ValueError(f"{name!r}: no data rows" + (" after the header" if header else ""))
    if isinstance(target, str):
        if not header:
            raise ValueError(f"target: a column name needs header=True, got {target!r}")
        if target not in names:
            raise ValueError(f"target: no column named {target!r}; the columns are {names}")
        t = names.index(target)
    elif isinstance(target, int) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(f"target: column index {target} out of range for {len(names)} columns")
        t = target % len(names)
    else:
        raise TypeError(f"target must be a column index or name, got {type(target).__name__}")
    if len(names) < 2:
        raise ValueError(f"{name!r}: only one column, no feature columns besides the target")
    data = np.array(rows, dtype=np.float64)
    y = data[:, t]
    if np.all(y == np.round(y)) and np.all(np.abs(y) < 2**53):
        y = y.astype(np.int64)
    return np.delete(data, t, axis=1), y, names[:t] + names[t + 1 :]
