"""Tests of mlpkit.data.csvdata: loading numeric CSV files, choosing the target column, and the
errors that name the line and column of a bad value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlpkit.data.csvdata import load_csv


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv(tmp_path):
    path = write_csv(tmp_path, "a,b,label\n1,2.5,0\n\n3,-4e1,1\n")
    X, y, names = load_csv(path)
    assert X.tolist() == [[1.0, 2.5], [3.0, -40.0]] and X.dtype == np.float64
    assert y.tolist() == [0, 1] and y.dtype == np.int64 and names == ["a", "b"]
    X, y, names = load_csv(path, target="a")
    assert names == ["b", "label"] and y.tolist() == [1, 3]
    X, y, names = load_csv(path, target=1)
    assert y.dtype == np.float64 and y.tolist() == [2.5, -40.0]


def test_load_csv_without_header(tmp_path):
    X, y, names = load_csv(write_csv(tmp_path, "1;2;1\n3;4;0\n"), header=False, delimiter=";")
    assert X.shape == (2, 2) and y.tolist() == [1, 0] and names == ["x0", "x1"]
    with pytest.raises(ValueError, match="needs header=True"):
        load_csv(tmp_path / "data.csv", target="x0", header=False, delimiter=";")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3,x\n", r"line 3, column 2 \('b'\): 'x' is not a number"),
        ("a,b\n1,2\n\n3, \n", r"line 4, column 2 \('b'\): missing value"),
        ("a,b\n1,nan\n", r"line 2, column 2 \('b'\): 'nan' is not a finite number"),
        ("a,b\n1,2,3\n", r"line 2: 3 columns, expected 2"),
        ("", "the file is empty"),
        ("\n\n", "the file is empty"),
        ("a,b\n", "no data rows"),
        ("a\n1\n", "only one column"),
    ],
)
def test_load_csv_errors(tmp_path, text, message):
    with pytest.raises(ValueError, match=message) as info:
        load_csv(write_csv(tmp_path, text))
    assert "data.csv" in str(info.value)


def test_load_csv_target_errors(tmp_path):
    path = write_csv(tmp_path, "a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"no column named 'c'; the columns are \['a', 'b'\]"):
        load_csv(path, target="c")
    with pytest.raises(ValueError, match="target: column index 2 out of range"):
        load_csv(path, target=2)
    with pytest.raises(TypeError, match="target must be"):
        load_csv(path, target=1.0)
