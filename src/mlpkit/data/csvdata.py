"""CSV tables as training data: one sample per row, some columns the features, one the target.

:func:`read_table` reads the cells and decides whether the first row is a header;
:func:`load_csv` returns the feature matrix, the targets (numbers, or the user's own string
labels) and the feature names; :func:`infer_task` says whether a target column asks for
classification or regression. Every malformed or missing value is refused with its line and
column.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["MISSING", "Table", "infer_task", "load_csv", "read_table", "resolve_columns",
           "table_xy"]

#: Cells read as a missing value (compared after stripping spaces, case-insensitively).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: An integer target with more distinct values than this is taken as a regression target.
MAX_INTEGER_CLASSES = 20


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


@dataclass
class Table:
    """The cells of a CSV file as strings, with its column names.

    Attributes
    ----------
    path : str
    names : list of str
        Column names: the header's, or ``"x0"``, ``"x1"``, ... without a header.
    header : bool
        Whether the first row was a header.
    rows : list of list of str
        The data rows (blank lines skipped), each with ``len(names)`` cells.
    lines : list of int
        The file line (from 1) of each row, for error messages.
    """

    path: str
    names: list[str]
    header: bool
    rows: list[list[str]]
    lines: list[int]

    def where(self, i: int, j: int) -> str:
        """'<path>, line L, column C ('name')' of cell (row i, column j)."""
        col = f"column {j + 1} ({self.names[j]!r})" if self.header else f"column {j + 1}"
        return f"{self.path!r}, line {self.lines[i]}, {col}"

    def column(self, j: int) -> list[str]:
        return [row[j] for row in self.rows]

    def numbers(self, columns: Sequence[int]) -> np.ndarray:
        """float64 array (n_rows, len(columns)); a missing or non-numeric cell raises
        ValueError naming its line and column."""
        cells = [[row[j] for j in columns] for row in self.rows]
        try:
            data = np.array(cells, dtype=np.float64).reshape(len(cells), len(columns))
        except ValueError:
            data = None
        if data is not None and np.all(np.isfinite(data)):
            return data
        for i, row in enumerate(cells):  # find the first bad cell to name it
            for k, cell in enumerate(row):
                if _is_missing(cell):
                    raise ValueError(f"{self.where(i, columns[k])}: missing value {cell!r}; "
                                     "remove or fill in rows with missing values")
                if not _is_number(cell):
                    raise ValueError(f"{self.where(i, columns[k])}: {cell!r} is not a number "
                                     f"(column {self.names[columns[k]]!r} is used as a feature)")
                if not math.isfinite(float(cell)):
                    raise ValueError(f"{self.where(i, columns[k])}: {cell!r} is not a finite "
                                     "number")
        raise AssertionError("unreachable")  # pragma: no cover

    def labels(self, j: int) -> np.ndarray:
        """Column ``j`` as targets: int64 if every value is an integer, float64 if every value
        is a number, else the strings themselves; missing values raise ValueError."""
        cells = [cell.strip() for cell in self.column(j)]
        for i, cell in enumerate(cells):
            if _is_missing(cell):
                raise ValueError(f"{self.where(i, j)}: missing value {cell!r} in the target "
                                 "column; remove or fill in rows with missing values")
        if all(_is_number(c) for c in cells):
            y = self.numbers([j])[:, 0]
            if np.all(y == np.round(y)) and np.all(np.abs(y) < 2**53):
                return y.astype(np.int64)
            return y
        return np.array(cells, dtype=str)


def _detect_header(rows: list[list[str]]) -> bool:
    """A first row is a header when one of its cells is not a number (nor missing) while
    its column is numeric in the next rows (up to 100)."""
    if len(rows) < 2:
        return not all(_is_number(c) or _is_missing(c) for c in rows[0])
    body = rows[1:101]
    for j, cell in enumerate(rows[0]):
        if _is_number(cell) or _is_missing(cell):
            continue
        column = [row[j] for row in body if j < len(row)]
        if all(_is_number(c) or _is_missing(c) for c in column):
            return True
    return False


def read_table(
    path: str | os.PathLike[str], *, header: bool | None = None, delimiter: str = ","
) -> Table:
    """Read a CSV file's cells, deciding whether its first row is a header.

    Parameters
    ----------
    path : str or os.PathLike
        UTF-8 text (an optional BOM is skipped; blank lines are skipped).
    header : bool or None, default None
        Whether the first row holds column names; None detects it: a header is a first row
        with a non-numeric cell in a column whose other values are numbers. (A header of
        numbers only, or a file whose every column is text, needs ``header=True``.)
    delimiter : str, default ","
        Field separator (one character).

    Raises
    ------
    ValueError
        For an empty file, no data rows, or a row with another number of columns.
    """
    name = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ValueError(f"delimiter must be one character, got {delimiter!r}")
    if header is not None and not isinstance(header, bool):
        raise TypeError(f"header must be True, False or None (detect), got {header!r}")
    rows: list[list[str]] = []
    lines: list[int] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(reader.line_num)
    if not rows:
        raise ValueError(f"{name!r}: the file is empty")
    if header is None:
        header = _detect_header(rows)
    width = len(rows[0])
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            raise ValueError(f"{name!r}, line {line}: {len(row)} columns, expected {width}"
                             + ("" if delimiter != "," or width > 1 else
                                " (is the delimiter another character? see delimiter=)"))
    names = [c.strip() for c in rows[0]] if header else [f"x{j}" for j in range(width)]
    if header:
        rows, lines = rows[1:], lines[1:]
    if not rows:
        raise ValueError(f"{name!r}: no data rows" + (" after the header" if header else ""))
    return Table(name, names, header, rows, lines)


def resolve_columns(table: Table, spec: int | str | Sequence[int | str],
                    what: str = "features") -> list[int]:  # fmt: skip
    """Column indices for names or indices (negative counts from the end); ``"a:b"`` slices
    of indices are allowed in a string spec, e.g. ``"1:"``. Raises ValueError naming ``what``
    and the unknown column."""
    if isinstance(spec, str | int):
        spec = [spec]
    found: list[int] = []
    n = len(table.names)
    for item in spec:
        if isinstance(item, bool) or not isinstance(item, int | str | np.integer):
            raise TypeError(f"{what}: expected column names or indices, got {item!r}")
        text = str(item).strip()
        if isinstance(item, str) and item in table.names:
            found.append(table.names.index(item))
        elif text.lstrip("-").isdigit():
            index = int(text)
            if not -n <= index < n:
                raise ValueError(f"{what}: column index {index} out of range for {n} columns")
            found.append(index % n)
        elif ":" in text and all(p.strip().lstrip("-").isdigit() or not p.strip()
                                 for p in text.split(":", 1)):  # fmt: skip
            start, stop = (int(p) if p.strip() else None for p in text.split(":", 1))
            found.extend(range(n)[slice(start, stop)])
        else:
            known = ", ".join(map(repr, table.names[:20])) + (" ..." if n > 20 else "")
            hint = "" if table.header else " (the file has no header: give column indices)"
            raise ValueError(f"{what}: no column named {text!r}; the columns are {known}{hint}")
    if len(set(found)) != len(found):
        raise ValueError(f"{what}: a column is listed twice ({spec!r})")
    return found


def load_csv(
    path: str | os.PathLike[str],
    target: int | str = -1,
    *,
    features: Sequence[int | str] | None = None,
    header: bool | None = None,
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a CSV table: one sample per row, some columns the features, one the target.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file (UTF-8, an optional BOM is skipped; blank lines are skipped).
    target : int or str, default -1
        The target column: its 0-based index (negative counts from the end) or its name in
        the header.
    features : sequence of int or str, optional
        The feature columns by index or name (e.g. to leave out an id column); by default
        every column except the target.
    header : bool or None, default None
        The first row holds the column names; None detects it (see :func:`read_table`).
    delimiter : str, default ","
        Field separator.

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n_rows, n_features).
    y : numpy.ndarray
        Shape (n_rows,): int64 if every target value is an integer, float64 if every value
        is a number, else the labels as strings (``dtype str``), exactly as in the file.
    feature_names : list of str
        Names of the columns of ``X`` (``"x<j>"`` for column index j without a header).

    Raises
    ------
    ValueError
        For an empty file, no data rows, an unknown column, a row with another number of
        columns, or a missing (empty, ``NA``, ``nan``, ``?``), non-numeric or non-finite
        feature value or a missing target (the message names the line, counted from 1, and
        the column).
    """
    table = read_table(path, header=header, delimiter=delimiter)
    return table_xy(table, target, features)


def table_xy(
    table: Table, target: int | str = -1, features: Sequence[int | str] | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(X, y, feature_names) of a :class:`Table`, as :func:`load_csv` returns them."""
    if isinstance(target, str) and not target.lstrip("-").isdigit() and not table.header:
        raise ValueError(f"target: a column name needs a header row, got {target!r} "
                         f"(the file {table.path!r} has none; give the column's index)")
    if not isinstance(target, int | str) or isinstance(target, bool):
        raise TypeError(f"target must be a column index or name, got {type(target).__name__}")
    (t,) = resolve_columns(table, target, "target")
    if features is None:
        columns = [j for j in range(len(table.names)) if j != t]
    else:
        columns = resolve_columns(table, features, "features")
        if t in columns:
            raise ValueError(f"features: the target column {table.names[t]!r} is listed as a "
                             "feature too")
    if not columns:
        raise ValueError(f"{table.path!r}: only one column, no feature columns besides the "
                         "target")
    return table.numbers(columns), table.labels(t), [table.names[j] for j in columns]


def infer_task(y: np.ndarray) -> tuple[str, str | None]:
    """``("classification" | "regression", warning or None)`` for a target column.

    Strings and booleans are class labels; integers are class labels when there are at most
    :data:`MAX_INTEGER_CLASSES` distinct values, else a regression target (with a warning);
    other numbers are a regression target.
    """
    y = np.asarray(y)
    if y.dtype.kind in "USOb":
        return "classification", None
    if y.dtype.kind in "iu":
        distinct = len(np.unique(y))
        if distinct <= MAX_INTEGER_CLASSES:
            return "classification", None
        return "regression", (
            f"the target holds {distinct} distinct integers: taken as a regression target; "
            "for classification pass --task classification")
    return "regression", None
