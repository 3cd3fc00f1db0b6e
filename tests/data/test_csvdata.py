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
    with pytest.raises(ValueError, match="a column name needs a header row"):
        load_csv(tmp_path / "data.csv", target="x0", header=False, delimiter=";")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,c\n1,2,0\n3,x,1\n", r"line 3, column 2 \('b'\): 'x' is not a number"),
        ("a,b\n1,2\n\n3, \n", r"line 4, column 2 \('b'\): missing value"),
        ("a,b,c\n1,nan,0\n", r"line 2, column 2 \('b'\): missing value 'nan'"),
        ("a,b,c\n1,inf,0\n", r"line 2, column 2 \('b'\): 'inf' is not a finite number"),
        ("a,b,c\n1,NA,0\n", r"line 2, column 2 \('b'\): missing value 'NA'"),
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
    with pytest.raises(ValueError, match=r"no column named 'c'; the columns are 'a', 'b'"):
        load_csv(path, target="c")
    with pytest.raises(ValueError, match="target: column index 2 out of range"):
        load_csv(path, target=2)
    with pytest.raises(TypeError, match="target must be"):
        load_csv(path, target=1.0)


# ------------------------------------------- issue 13: headers, columns, labels, the task
def test_a_headerless_file_keeps_its_first_row(tmp_path):
    # before: load_csv assumed a header and silently dropped the first sample
    X, y, names = load_csv(write_csv(tmp_path, "1,2,0\n3,4,1\n5,6,0\n"))
    assert X.tolist() == [[1, 2], [3, 4], [5, 6]] and y.tolist() == [0, 1, 0]
    assert names == ["x0", "x1"]


def test_header_detection_and_override(tmp_path):
    X, y, names = load_csv(write_csv(tmp_path, "f1,f2,species\n1,2,cat\n3,4,dog\n"))
    assert names == ["f1", "f2"] and y.tolist() == ["cat", "dog"] and len(X) == 2
    # string labels without a header: the first row is data
    X, y, _ = load_csv(write_csv(tmp_path, "1,2,cat\n3,4,dog\n"))
    assert y.tolist() == ["cat", "dog"] and y.dtype.kind == "U"
    # a header of numbers cannot be detected: header=True says so
    X, y, names = load_csv(write_csv(tmp_path, "10,20,30\n1,2,3\n"), header=True)
    assert names == ["10", "20"] and X.tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="line 1, column 1: 'a' is not a number"):
        load_csv(write_csv(tmp_path, "a,b,c\n1,2,3\n"), header=False)


def test_features_and_target_by_name_or_index(tmp_path):
    path = write_csv(tmp_path, "speaker,f1,f2,vowel\ns01,1.5,2,IY\ns02,3,4.5,AA\n")
    X, y, names = load_csv(path, target="vowel", features=["f1", "f2"])
    assert names == ["f1", "f2"] and X.tolist() == [[1.5, 2], [3, 4.5]]
    assert y.tolist() == ["IY", "AA"]
    X2, y2, names2 = load_csv(path, target=3, features=[1, 2])
    assert names2 == names and np.array_equal(X2, X) and np.array_equal(y2, y)
    X3, _, _ = load_csv(path, target="vowel", features=["1:3"])
    assert np.array_equal(X3, X)
    with pytest.raises(ValueError, match=r"line 2, column 1 \('speaker'\): 's01' is not a number"):
        load_csv(path, target="vowel")
    with pytest.raises(ValueError, match="features: no column named 'f3'"):
        load_csv(path, target="vowel", features=["f1", "f3"])
    with pytest.raises(ValueError, match="target column 'vowel' is listed as a feature"):
        load_csv(path, target="vowel", features=["f1", "vowel"])


def test_delimiter_and_missing_target(tmp_path):
    X, y, _ = load_csv(write_csv(tmp_path, "a;b;c\n1;2;x\n3;4;y\n"), delimiter=";")
    assert X.shape == (2, 2) and y.tolist() == ["x", "y"]
    with pytest.raises(ValueError, match=r"line 3, column 3 \('c'\): missing value '' in the"):
        load_csv(write_csv(tmp_path, "a,b,c\n1,2,x\n3,4,\n"))
    with pytest.raises(ValueError, match="delimiter must be one character"):
        load_csv(tmp_path / "data.csv", delimiter=";;")


def test_infer_task():
    from mlpkit.data.csvdata import infer_task

    assert infer_task(np.array(["cat", "dog"])) == ("classification", None)
    assert infer_task(np.array([True, False])) == ("classification", None)
    assert infer_task(np.array([0, 1, 2, 1])) == ("classification", None)
    assert infer_task(np.array([0.5, 1.25])) == ("regression", None)
    # an integer-valued regression target (e.g. prices) is not 532 classes
    task, warning = infer_task(np.arange(532))
    assert task == "regression" and "532 distinct integers" in warning
    assert "--task classification" in warning
