"""Tests of mlpkit.datasets: MNIST-like loaders (search order, checksums, download), images,
CSV files and the toy generators. No test touches the network.

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
import zlib
from pathlib import Path

import numpy as np
import pytest

from mlpkit import datasets
from mlpkit.datasets import (
    FASHION_MNIST_CLASSES,
    TOY_DATASETS,
    DatasetChecksumError,
    DatasetNotFoundError,
    circle,
    gaussians,
    load_csv,
    load_digits,
    load_fashion_mnist,
    load_image_folder,
    load_mnist,
    logic_gate,
    make_toy_dataset,
    parabola_vs_random,
    read_image,
    spiral,
    xor,
    xor_quadrants,
)
from mlpkit.idx import IDXFormatError, write_idx

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


# --------------------------------------------------------------------------- images


def png_bytes(pixels: np.ndarray, color: int, depth: int = 8, filt: int | None = None) -> bytes:
    """Encode a PNG with one filter type for every row (None: cycle through 0-4)."""
    height = pixels.shape[0]
    raw = pixels.astype(">u2" if depth == 16 else np.uint8).reshape(height, -1).view(np.uint8)
    bpp = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color] * depth // 8
    out, prev = bytearray(), np.zeros(raw.shape[1], dtype=np.int64)
    for y in range(height):
        kind = y % 5 if filt is None else filt
        cur = raw[y].astype(np.int64)
        left = np.concatenate([np.zeros(bpp, np.int64), cur[:-bpp]])
        upleft = np.concatenate([np.zeros(bpp, np.int64), prev[:-bpp]])
        if kind == 0:
            pred = np.zeros_like(cur)
        elif kind == 1:
            pred = left
        elif kind == 2:
            pred = prev
        elif kind == 3:
            pred = (left + prev) // 2
        else:
            p = left + prev - upleft
            pa, pb, pc = abs(p - left), abs(p - prev), abs(p - upleft)
            pred = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prev, upleft))
        out += bytes([kind]) + ((cur - pred) % 256).astype(np.uint8).tobytes()
        prev = cur

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", pixels.shape[1], height, depth, color, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(out)))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture
def grey():
    return np.random.default_rng(3).integers(0, 256, (7, 5), dtype=np.uint8)


def test_read_pgm_ascii_and_binary(tmp_path, grey):
    p2 = tmp_path / "a.pgm"
    p2.write_text("P2\n# a comment\n5 7\n255\n" + "\n".join(" ".join(map(str, r)) for r in grey))
    np.testing.assert_allclose(read_image(p2), grey / 255, rtol=1e-6)
    p5 = tmp_path / "b.pgm"
    p5.write_bytes(b"P5 5 7 255\n" + grey.tobytes())
    np.testing.assert_allclose(read_image(p5), grey / 255, rtol=1e-6)
    wide = grey.astype(np.uint16) * 257
    p16 = tmp_path / "c.pgm"
    p16.write_bytes(b"P5\n5 7\n65535\n" + wide.astype(">u2").tobytes())
    np.testing.assert_allclose(read_image(p16), grey / 255, rtol=1e-6)
    small = tmp_path / "d.pgm"
    small.write_text("P2 2 1 3 0 3\n")
    assert read_image(small).tolist() == [[0.0, 1.0]]


@pytest.mark.parametrize("filt", [0, 1, 2, 3, 4, None])
def test_read_png_every_filter(tmp_path, grey, filt):
    path = tmp_path / "g.png"
    path.write_bytes(png_bytes(grey, 0, filt=filt))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)
    rgb = np.random.default_rng(4).integers(0, 256, (6, 4, 3), dtype=np.uint8)
    path.write_bytes(png_bytes(rgb, 2, filt=filt))
    expected = rgb @ np.array([0.299, 0.587, 0.114]) / 255
    np.testing.assert_allclose(read_image(path), expected, rtol=1e-5)


def test_read_png_16_bit_and_alpha(tmp_path, grey):
    path = tmp_path / "g.png"
    path.write_bytes(png_bytes(grey.astype(np.uint16) * 257, 0, depth=16))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)
    ga = np.stack([grey, np.full_like(grey, 7)], axis=-1)
    path.write_bytes(png_bytes(ga, 4))
    np.testing.assert_allclose(read_image(path), grey / 255, rtol=1e-6)


def test_read_png_written_by_pillow(tmp_path, grey):
    image = pytest.importorskip("PIL.Image")
    big = np.tile(grey, (8, 8))
    image.fromarray(big, mode="L").save(tmp_path / "p.png", optimize=True)
    np.testing.assert_allclose(read_image(tmp_path / "p.png"), big / 255, rtol=1e-6)


BAD_IMAGES = {
    "bad.txt": (b"hello", "not a PGM"),
    "short.pgm": (b"P5 5 7 255\n" + bytes(10), "found 10 bytes"),
    "p2count.pgm": (b"P2 2 2 255\n1 2 3\n", "found 3 values"),
    "maxval.pgm": (b"P2 1 1 3\n9\n", "above maxval"),
    "header.pgm": (b"P5 x 7 255\n", "bad PGM header"),
    "palette.png": (None, "unsupported PNG"),
    "crc.png": (None, "bad CRC"),
    "cut.png": (None, "truncated"),
}


@pytest.mark.parametrize("name", sorted(BAD_IMAGES))
def test_bad_images_raise_value_error_naming_the_file(tmp_path, grey, name):
    data, message = BAD_IMAGES[name]
    good = png_bytes(grey, 0)
    if name == "palette.png":
        data = png_bytes(grey, 3)
    elif name == "crc.png":
        data = good[:-5] + b"\x00" + good[-4:]
    elif name == "cut.png":
        data = good[:40]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(ValueError, match=message) as info:
        read_image(tmp_path / name)
    assert name in str(info.value)


def make_folder(root: Path, grey: np.ndarray) -> None:
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    (root / ".hidden").mkdir()
    (root / "cats" / "1.pgm").write_bytes(b"P5 5 7 255\n" + grey.tobytes())
    (root / "cats" / "2.png").write_bytes(png_bytes(255 - grey, 0))
    (root / "cats" / "notes.txt").write_text("ignored")
    (root / "dogs" / "a.pgm").write_text("P2 5 7 255\n" + " ".join(map(str, grey.ravel())))


def test_load_image_folder(tmp_path, grey):
    make_folder(tmp_path, grey)
    X, y, names = load_image_folder(tmp_path)
    assert names == ["cats", "dogs"]
    assert X.shape == (3, 35) and X.dtype == np.float32 and y.tolist() == [0, 0, 1]
    np.testing.assert_allclose(X[1], (255 - grey.ravel()) / 255, rtol=1e-6)
    X2, _, _ = load_image_folder(tmp_path, size=(14, 10))
    assert X2.shape == (3, 140)


def test_image_folder_errors(tmp_path, grey):
    make_folder(tmp_path, grey)
    (tmp_path / "dogs" / "b.pgm").write_bytes(b"P5 4 4 255\n" + bytes(16))
    with pytest.raises(ValueError, match=r"b\.pgm.*shape \(4, 4\)"):
        load_image_folder(tmp_path)
    X, _, _ = load_image_folder(tmp_path, size=4)
    assert X.shape == (4, 16)
    with pytest.raises(ValueError, match="size must be"):
        load_image_folder(tmp_path, size=(0, 3))
    (tmp_path / "dogs" / "b.pgm").unlink()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        load_image_folder(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "flat").mkdir()
    with pytest.raises(ValueError, match="no sub-folders"):
        load_image_folder(tmp_path / "flat")


# --------------------------------------------------------------------------- CSV


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


# --------------------------------------------------------------------------- toy problems

GENERATORS = [circle, xor_quadrants, gaussians, spiral, parabola_vs_random]


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_shape_seed_balance(make):
    X, y = make(n_samples=101, seed=7)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert sorted(np.bincount(y).tolist()) == [50, 51]
    X2, y2 = make(n_samples=101, seed=7)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _ = make(n_samples=101, seed=8)
    assert not np.array_equal(X, X3)
    Xn, yn = make(n_samples=200, noise=0.3, seed=np.random.default_rng(1))
    assert Xn.shape == (200, 2) and set(yn.tolist()) <= {0, 1}


def test_generators_geometry():
    X, y = circle(400, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert (r[y == 1] < 0.5).all() and ((r[y == 0] >= 0.7) & (r[y == 0] <= 1.0)).all()
    X, y = xor_quadrants(400, seed=0)
    assert ((X[:, 0] * X[:, 1] > 0) == (y == 1)).all() and (np.abs(X) >= 0.06).all()
    X, y = gaussians(400, seed=0)
    assert X[y == 1].mean() > 0.3 and X[y == 0].mean() < -0.3
    X, y = spiral(400, seed=0)
    assert np.abs(X).max() <= 1.0


def test_parabola_vs_random_order():
    X, y = parabola_vs_random(seed=0)
    assert X.shape == (10000, 2) and y[:5000].sum() == 0 and y[5000:].sum() == 5000
    np.testing.assert_allclose(X[y == 1, 1], X[y == 1, 0] ** 2)
    rand = X[y == 0]
    assert (np.abs(rand[:, 0]) <= 1).all() and ((rand[:, 1] >= 0) & (rand[:, 1] <= 1)).all()
    _, yp = parabola_vs_random(100, order="parabola_first", seed=0)
    assert yp[:50].tolist() == [1] * 50 and yp[50:].tolist() == [0] * 50
    _, ys = parabola_vs_random(100, order="shuffled", seed=0)
    assert ys.sum() == 50 and ys[:50].sum() not in (0, 50)
    with pytest.raises(ValueError, match="order must be"):
        parabola_vs_random(10, order="sorted")


def test_logic_gates():
    X, y = xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    tables = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0],
              "nor": [1, 0, 0, 0], "xor": [0, 1, 1, 0], "xnor": [1, 0, 0, 1]}  # fmt: skip
    for name, table in tables.items():
        assert logic_gate(name)[1].tolist() == table
    X, y = logic_gate("and", 10, noise=0.1, seed=0)
    assert X.shape == (10, 2) and y.shape == (10,)
    corners = np.round(X).astype(int)
    assert (y == (corners[:, 0] & corners[:, 1])).all()
    with pytest.raises(ValueError, match="name must be one of"):
        logic_gate("implies")


def test_registry_and_make_toy_dataset():
    for name, make in TOY_DATASETS.items():
        X, y = make(n_samples=40, noise=0.1, seed=0)
        assert X.shape == (40, 2) and y.shape == (40,), name
    assert {"xor", "circle", "xor_quadrants", "gaussians", "spiral",
            "parabola_vs_random"} <= set(TOY_DATASETS)  # fmt: skip
    assert make_toy_dataset("xor")[0].shape == (4, 2)
    assert make_toy_dataset("spiral", 30, seed=1)[0].shape == (30, 2)
    with pytest.raises(ValueError, match="name must be one of"):
        make_toy_dataset("moons")


def test_generator_argument_errors():
    with pytest.raises(ValueError, match="n_samples must be at least 2"):
        circle(1)
    with pytest.raises(TypeError, match="n_samples must be an int"):
        spiral(10.0)
    with pytest.raises(ValueError, match="noise must be"):
        gaussians(10, noise=-1)
    with pytest.raises(TypeError, match="seed must be"):
        xor_quadrants(10, seed="abc")
