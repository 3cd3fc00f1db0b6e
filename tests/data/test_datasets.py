"""Tests of mlpkit.datasets: MNIST-like loaders (search order, checksums, download) and
scikit-learn's digits. No test touches the network. Images, CSV files and the toy generators
are tested in test_images.py, test_csvdata.py and test_toydata.py.

Tests against the real MNIST/Fashion-MNIST files run when ``MLPKIT_DATA`` points at a folder
with ``mnist/`` and ``fashion-mnist/`` subfolders; they are skipped otherwise.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from mlpkit import datasets
from mlpkit.data.idx import IDXFormatError, write_idx
from mlpkit.datasets import (
    FASHION_MNIST_CLASSES,
    DatasetChecksumError,
    DatasetNotFoundError,
    load_digits,
    load_fashion_mnist,
    load_mnist,
)

REAL_DATA = os.environ.get("MLPKIT_DATA")
STEMS = datasets.IDX_STEMS


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no system folder, no $MLPKIT_DATA and no network in any test."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MLPKIT_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", ())

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


# --------------------------------------------------------------------------- fake MNIST files


def fake_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        STEMS[0]: rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        STEMS[1]: np.array([0, 1, 2, 3, 4, 9], dtype=np.uint8),
        STEMS[2]: rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        STEMS[3]: np.array([5, 6, 7, 8], dtype=np.uint8),
    }


def content_sha(array: np.ndarray) -> str:
    buf = io.BytesIO()
    # same bytes write_idx produces: header + big-endian data
    buf.write(bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape))
    buf.write(array.tobytes())
    return hashlib.sha256(buf.getvalue()).hexdigest()


@pytest.fixture
def fake(monkeypatch):
    """Make the checksum tables describe small fake data sets; return a writer of them."""
    arrays = fake_arrays()
    for name in ("mnist", "fashion-mnist"):
        monkeypatch.setitem(
            datasets.CONTENT_SHA256, name, {s: content_sha(a) for s, a in arrays.items()}
        )
        monkeypatch.setitem(datasets.DOWNLOAD_SHA256, name, {})

    def write(folder: Path, *, gz: bool = True, corrupt: bool = False, only=STEMS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for stem in only:
            array = arrays[stem].copy()
            if corrupt:
                array.flat[0] ^= 1
            write_idx(folder / (stem + ".gz" if gz else stem), array)
        return folder

    write.arrays = arrays
    return write


def test_explicit_dir_and_its_subfolder(tmp_path, fake):
    fake(tmp_path / "flat", gz=False)
    (X, y), (Xt, _yt) = load_mnist(tmp_path / "flat", download=False)
    assert X.shape == (6, 784) and X.dtype == np.float32 and Xt.shape == (4, 784)
    assert y.dtype == np.int64 and y.tolist() == [0, 1, 2, 3, 4, 9]
    np.testing.assert_array_equal(X * 255, fake.arrays[STEMS[0]].reshape(6, -1))
    fake(tmp_path / "parent" / "fashion-mnist")
    (X2, _), _ = load_fashion_mnist(tmp_path / "parent", download=False, flatten=False)
    assert X2.shape == (6, 28, 28)


def test_scale_options(tmp_path, fake):
    fake(tmp_path)
    (raw, _), _ = load_mnist(tmp_path, scale=None, download=False)
    (unit, _), _ = load_mnist(tmp_path, download=False)
    (lect, _), _ = load_mnist(tmp_path, scale="lecture", download=False)
    assert raw.dtype == np.uint8 and raw.shape == (6, 784)
    np.testing.assert_allclose(unit, raw / 255.0, rtol=1e-6)
    np.testing.assert_allclose(lect, raw / 255.0 * 0.99 + 0.01, rtol=1e-6)
    assert lect.dtype == np.float32 and lect.min() >= 0.01 and lect.max() <= 1.0
    with pytest.raises(ValueError, match="scale must be"):
        load_mnist(tmp_path, scale="minmax", download=False)


def test_explicit_dir_beats_env_var(tmp_path, fake, monkeypatch):
    fake(tmp_path / "explicit")
    fake(tmp_path / "env" / "mnist", corrupt=True)
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "env"))
    load_mnist(tmp_path / "explicit", download=False)  # the corrupt env copy is not read
    found = datasets._locate("mnist", tmp_path / "explicit", False, False)
    assert {p.parent for p in found.values()} == {tmp_path / "explicit"}
    with pytest.raises(DatasetChecksumError, match=str(tmp_path / "env")):
        load_mnist(download=False)


def test_env_var_beats_cache_and_cache_beats_system(tmp_path, fake, monkeypatch):
    fake(tmp_path / "data" / "mnist")
    fake(tmp_path / "xdg" / "mlpkit" / "mnist", corrupt=True)
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "data"))
    load_mnist(download=False)
    monkeypatch.delenv("MLPKIT_DATA")
    with pytest.raises(DatasetChecksumError, match="xdg"):
        load_mnist(download=False)
    fake(tmp_path / "xdg" / "mlpkit" / "mnist")
    fake(tmp_path / "system" / "mnist", corrupt=True)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", (tmp_path / "system",))
    load_mnist(download=False)


def test_env_var_may_name_the_folder_itself(tmp_path, fake, monkeypatch):
    fake(tmp_path / "here")
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "here"))
    (X, _), _ = load_mnist(download=False)
    assert len(X) == 6


def test_cache_respects_xdg_and_home(tmp_path, fake, monkeypatch):
    assert datasets.cache_dir() == tmp_path / "xdg" / "mlpkit"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert datasets.cache_dir() == tmp_path / "home" / ".cache" / "mlpkit"
    fake(tmp_path / "home" / ".cache" / "mlpkit" / "fashion-mnist")
    (X, _), _ = load_fashion_mnist(download=False)
    assert len(X) == 6


def test_debian_system_folder(tmp_path, fake, monkeypatch):
    fake(tmp_path / "usr-share-datasets" / "fashion-mnist")
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIRS", (tmp_path / "usr-share-datasets",))
    (_, y), _ = load_fashion_mnist(download=False)
    assert y.tolist() == [0, 1, 2, 3, 4, 9]


def test_incomplete_folder_is_skipped(tmp_path, fake, monkeypatch):
    fake(tmp_path / "partial" / "mnist", only=STEMS[:3])
    fake(tmp_path / "xdg" / "mlpkit" / "mnist")
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "partial"))
    found = datasets._locate("mnist", None, False, False)
    assert {p.parent for p in found.values()} == {tmp_path / "xdg" / "mlpkit" / "mnist"}


def test_offline_error_says_where_and_what(tmp_path, fake, monkeypatch):
    monkeypatch.setenv("MLPKIT_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(download=False)
    message = str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    for stem in STEMS:
        assert f"{stem}.gz" in message
    assert str(tmp_path / "nowhere") in message and "MLPKIT_DATA" in message
    assert str(tmp_path / "xdg" / "mlpkit" / "mnist") in message
    assert "download=False" in message


def test_download_failure_is_dataset_not_found(tmp_path, fake, monkeypatch):
    calls = []

    def offline(url, timeout=None):
        calls.append(url)
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetNotFoundError, match="Download failed") as info:
        load_mnist(progress=False)
    assert "no network" in str(info.value)
    assert calls == [m + f"{STEMS[0]}.gz" for m in datasets.MIRRORS["mnist"]]
    assert not (tmp_path / "xdg" / "mlpkit" / "mnist").exists()  # no empty folder left


class FakeResponse(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def serve(monkeypatch, files: dict[str, bytes], log: list[str], fail_first: bool = False):
    def urlopen(url, timeout=None):
        log.append(url)
        if fail_first and url.startswith(datasets.MIRRORS["mnist"][0]):
            raise urllib.error.URLError("mirror down")
        return FakeResponse(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


def gz_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_download_verifies_and_writes_into_the_cache(tmp_path, fake, monkeypatch, capsys):
    files = gz_files(fake(tmp_path / "server"))
    monkeypatch.setitem(
        datasets.DOWNLOAD_SHA256,
        "mnist",
        {s: hashlib.sha256(files[s + ".gz"]).hexdigest() for s in STEMS},
    )
    log: list[str] = []
    serve(monkeypatch, files, log, fail_first=True)
    (X, _y), (_Xt, yt) = load_mnist(progress=False)
    assert X.shape == (6, 784) and yt.tolist() == [5, 6, 7, 8]
    cache = tmp_path / "xdg" / "mlpkit" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(s + ".gz" for s in STEMS)
    assert len(log) == 8  # each file: first mirror down, second one serves it
    assert capsys.readouterr().err == ""  # progress=False prints nothing
    log.clear()
    load_mnist(progress=False)  # now from the cache
    assert log == []


def test_download_into_explicit_dir_only_fetches_missing_files(tmp_path, fake, monkeypatch):
    files = gz_files(fake(tmp_path / "server"))
    fake(tmp_path / "mine" / "mnist", only=STEMS[1:])
    log: list[str] = []
    serve(monkeypatch, files, log)
    load_mnist(tmp_path / "mine", progress=False)
    assert [u.rsplit("/", 1)[1] for u in log] == [STEMS[0] + ".gz"]
    assert (tmp_path / "mine" / "mnist" / (STEMS[0] + ".gz")).is_file()


@pytest.mark.parametrize("which", ["compressed", "content"])
def test_download_with_bad_checksum_leaves_nothing(tmp_path, fake, monkeypatch, which):
    files = gz_files(fake(tmp_path / "server", corrupt=(which == "content")))
    if which == "compressed":
        monkeypatch.setitem(datasets.DOWNLOAD_SHA256, "mnist", {STEMS[0]: "0" * 64})
    log: list[str] = []
    serve(monkeypatch, files, log)
    with pytest.raises(DatasetChecksumError, match=STEMS[0]):
        load_mnist(progress=False)
    cache = tmp_path / "xdg" / "mlpkit" / "mnist"
    assert list(cache.iterdir()) == []  # neither the file nor a temporary file
    assert len(log) == len(datasets.MIRRORS["mnist"])  # every mirror was tried


def test_download_of_garbage_is_refused(tmp_path, fake, monkeypatch):
    serve(monkeypatch, {s + ".gz": b"<html>not found</html>" for s in STEMS}, [])
    with pytest.raises(DatasetChecksumError, match="not a valid IDX"):
        load_fashion_mnist(progress=False)
    assert list((tmp_path / "xdg" / "mlpkit" / "fashion-mnist").iterdir()) == []


def test_download_progress_bar_goes_to_stderr(tmp_path, fake, monkeypatch, capsys):
    serve(monkeypatch, gz_files(fake(tmp_path / "server")), [])
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain fallback bar
    load_mnist(progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "100%" in captured.err


def test_local_file_with_wrong_content_names_the_file(tmp_path, fake):
    folder = fake(tmp_path / "d")
    fake(folder, only=STEMS[3:], corrupt=True)
    with pytest.raises(DatasetChecksumError) as info:
        load_mnist(folder, download=False)
    assert str(folder / (STEMS[3] + ".gz")) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_local_malformed_file_names_the_file(tmp_path, fake):
    folder = fake(tmp_path / "d")
    (folder / (STEMS[1] + ".gz")).write_bytes(gzip.compress(b"\x00\x00\x08\x01"))
    with pytest.raises(IDXFormatError, match=STEMS[1]):
        load_mnist(folder, download=False)


# --------------------------------------------------------------------------- real data

needs_real = pytest.mark.skipif(
    not REAL_DATA or not (Path(REAL_DATA) / "mnist").is_dir(),
    reason="set MLPKIT_DATA to a folder with mnist/ and fashion-mnist/ to test the real data",
)

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@needs_real
@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_checksum_table_matches_real_files(name):
    for stem in STEMS:
        path = Path(REAL_DATA) / name / f"{stem}.gz"
        digest = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest()
        assert datasets.CONTENT_SHA256[name][stem] == digest
        if stem in datasets.DOWNLOAD_SHA256[name]:
            assert (
                datasets.DOWNLOAD_SHA256[name][stem]
                == hashlib.sha256(path.read_bytes()).hexdigest()
            )


@needs_real
def test_real_mnist_via_env_var_parent_folder(monkeypatch):
    monkeypatch.setenv("MLPKIT_DATA", REAL_DATA)
    start = time.perf_counter()
    (X, y), (Xt, yt) = load_mnist(download=False)
    elapsed = time.perf_counter() - start
    assert X.shape == (60000, 784) and Xt.shape == (10000, 784)
    assert X.dtype == Xt.dtype == np.float32 and y.dtype == yt.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.bincount(y).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(yt).tolist() == MNIST_TEST_COUNTS
    assert elapsed < 10  # about 0.5 s; generous for slow CI machines


@needs_real
def test_real_fashion_mnist_raw_and_lecture_scale():
    (X, y), (Xt, yt) = load_fashion_mnist(Path(REAL_DATA) / "fashion-mnist", scale=None,
                                          flatten=False, download=False)  # fmt: skip
    assert X.shape == (60000, 28, 28) and X.dtype == np.uint8 and Xt.shape == (10000, 28, 28)
    assert np.bincount(y).tolist() == [6000] * 10 and np.bincount(yt).tolist() == [1000] * 10
    assert len(FASHION_MNIST_CLASSES) == 10
    (L, _), _ = load_fashion_mnist(REAL_DATA, scale="lecture", download=False)
    assert L.dtype == np.float32 and L.min() == np.float32(0.01) and L.max() == 1.0


# --------------------------------------------------------------------------- scikit-learn digits


def test_load_digits():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and set(y.tolist()) == set(range(10))


def test_load_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"mlpkit\[sklearn\]"):
        load_digits()
