"""Data sets for training MLPs: MNIST and Fashion-MNIST, scikit-learn's 8x8 digits, image folders,
numeric CSV files and seeded 2-D toy problems.

MNIST-like files are found locally (``data_dir``, ``$MLPKIT_DATA``, the user cache, Debian's
``/usr/share/datasets``) or downloaded into the cache, and always checked against SHA-256
checksums of their content. Everything returns NumPy arrays with one sample per row.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import hashlib
import http.client
import math
import numbers
import os
import re
import struct
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from ._atomic import atomic_write
from .idx import _read_idx

__all__ = [
    "FASHION_MNIST_CLASSES",
    "TOY_DATASETS",
    "DatasetChecksumError",
    "DatasetNotFoundError",
    "circle",
    "gaussians",
    "load_csv",
    "load_digits",
    "load_fashion_mnist",
    "load_image_folder",
    "load_mnist",
    "logic_gate",
    "make_toy_dataset",
    "parabola_vs_random",
    "read_image",
    "spiral",
    "xor",
    "xor_quadrants",
]

Seed = int | np.random.Generator | None


class DatasetNotFoundError(FileNotFoundError):
    """The files of a data set are in none of the places searched and could not be downloaded."""


class DatasetChecksumError(ValueError):
    """A data-set file does not have the published content (damaged or another version)."""


# --------------------------------------------------------------------------- MNIST-like sets

ENV_VAR = "MLPKIT_DATA"
#: System-wide folders holding ``<name>/`` data-set folders (Debian's dataset-* packages).
SYSTEM_DATA_DIRS: tuple[Path, ...] = (Path("/usr/share/datasets"),)

IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

#: SHA-256 of the decompressed IDX content; the same whatever the compression (Debian
#: recompresses Fashion-MNIST, so the .gz bytes differ from upstream's).
# Each tuple is in the order of IDX_STEMS: train images, train labels, test images, test labels.
CONTENT_SHA256: dict[str, dict[str, str]] = {
    "mnist": dict(zip(IDX_STEMS, (
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ), strict=True)),
    "fashion-mnist": dict(zip(IDX_STEMS, (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ), strict=True)),
}  # fmt: skip

#: SHA-256 of the published .gz files, where known (downloads are also checked by content).
#: MNIST's MD5s match those its authors publish; Fashion-MNIST's .gz bytes vary by copy.
DOWNLOAD_SHA256: dict[str, dict[str, str]] = {
    "mnist": dict(zip(IDX_STEMS, (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ), strict=True)),
    "fashion-mnist": {},
}  # fmt: skip

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": (
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

_TITLES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
_MAX_DOWNLOAD = 1 << 26  # 64 MiB, well above the largest file (26 MB)
_TIMEOUT = 30.0


def cache_dir() -> Path:
    """Folder of mlpkit's user cache: ``$XDG_CACHE_HOME/mlpkit`` or ``~/.cache/mlpkit``."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "mlpkit"


def _found_files(folder: Path) -> dict[str, Path]:
    """The IDX files present in ``folder``, uncompressed or gzipped, by stem."""
    found = {}
    for stem in IDX_STEMS:
        for candidate in (folder / stem, folder / f"{stem}.gz"):
            if candidate.is_file():
                found[stem] = candidate
                break
    return found


def _search_folders(name: str, data_dir: str | os.PathLike[str] | None) -> list[tuple[str, Path]]:
    """Folders to look in, in order, each with a description of where it comes from."""
    folders = []
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        folders += [("data_dir", root), ("data_dir", root / name)]
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        folders += [(f"${ENV_VAR}", root), (f"${ENV_VAR}", root / name)]
    folders.append(("user cache", cache_dir() / name))
    folders += [("system", Path(d) / name) for d in SYSTEM_DATA_DIRS]
    return folders


class _NullBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


class _TextBar(_NullBar):
    def __init__(self, total: int | None, desc: str) -> None:
        self.total, self.desc, self.done, self.shown = total, desc, 0, -1

    def update(self, n: int) -> None:
        self.done += n
        if self.total:
            pct = min(100, 100 * self.done // self.total)
            if pct // 10 != self.shown // 10:
                self.shown = pct
                print(f"\r{self.desc}: {pct:3d}%", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


def _progress_bar(total: int | None, desc: str, progress: bool | None) -> _NullBar | Any:
    if progress is False:
        return _NullBar()
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if progress is None and (tqdm is None or not sys.stderr.isatty()):
        return _NullBar()
    if tqdm is not None:
        return tqdm(total=total, desc=desc, unit="B", unit_scale=True, leave=False)
    return _TextBar(total, desc)


class _FetchError(Exception):
    pass


def _fetch(url: str, out: IO[bytes], desc: str, progress: bool | None) -> str:
    """Stream ``url`` into ``out``; return the SHA-256 of the bytes received."""
    hasher, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            length = (
                response.headers.get("Content-Length") if hasattr(response, "headers") else None
            )
            bar = _progress_bar(
                int(length) if length and length.isdigit() else None, desc, progress
            )
            try:
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                    if size > _MAX_DOWNLOAD:
                        raise _FetchError(f"more than {_MAX_DOWNLOAD} bytes, not a data-set file")
                    hasher.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            finally:
                bar.close()
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
        raise _FetchError(str(exc)) from exc
    return hasher.hexdigest()


def _verify(path: Path, name: str, stem: str, source: str | None = None) -> np.ndarray:
    """Read an IDX file and check the SHA-256 of its decompressed content."""
    hasher = hashlib.sha256()
    array = _read_idx(path, hasher=hasher)
    expected, got = CONTENT_SHA256[name][stem], hasher.hexdigest()
    if got != expected:
        what = f"downloaded from {source}" if source else f"{str(path)!r}"
        raise DatasetChecksumError(
            f"{stem} {what} does not hold the {_TITLES[name]} data: the SHA-256 of its "
            f"decompressed content is {got}, expected {expected}. The file is damaged or another "
            "version; delete it so that it is downloaded again, or replace it."
        )
    return array


def _download(
    name: str, stem: str, folder: Path, progress: bool | None, errors: list[str]
) -> Path | None:
    """Download one file into ``folder`` from the first mirror that serves it correctly.

    Returns None when no mirror could be reached (the reasons appended to ``errors``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    dest, bad = folder / f"{stem}.gz", None
    for mirror in MIRRORS[name]:
        url = mirror + f"{stem}.gz"
        try:
            with atomic_write(dest) as f:
                digest = _fetch(url, f, f"{_TITLES[name]} {stem}", progress)
                f.flush()
                expected = DOWNLOAD_SHA256[name].get(stem)
                if expected is not None and digest != expected:
                    raise DatasetChecksumError(
                        f"{stem}.gz downloaded from {url} has SHA-256 {digest}, expected {expected}"
                    )
                _verify(Path(f.name), name, stem, source=url)
            return dest
        except _FetchError as exc:
            errors.append(f"{url}: {exc}")
        except ValueError as exc:  # checksum or format error: try the next mirror
            errors.append(f"{url}: {exc}")
            bad = exc
    if bad is not None:
        raise DatasetChecksumError("; ".join(errors)) from bad
    return None


def _not_found(name: str, searched: list[tuple[str, Path]], dest: Path, why: str) -> Exception:
    title = _TITLES[name]
    where = "\n".join(f"  - {p} ({origin})" for origin, p in searched)
    return DatasetNotFoundError(
        f"{title} files not found. Looked in:\n{where}\n"
        f"Put these 4 files (gzipped '.gz' or uncompressed) in one of those folders, e.g. "
        f"{dest}:\n  " + ", ".join(f"{s}.gz" for s in IDX_STEMS) + "\n"
        f"or set {ENV_VAR} to the folder that holds them (or to a parent folder with a "
        f"'{name}/' subfolder). They are published at {MIRRORS[name][0]}.\n{why}"
    )


def _locate(
    name: str, data_dir: str | os.PathLike[str] | None, download: bool, progress: bool | None
) -> dict[str, Path]:
    searched = _search_folders(name, data_dir)
    for _origin, folder in searched:
        found = _found_files(folder)
        if len(found) == len(IDX_STEMS):
            return found
    dest = (Path(data_dir).expanduser() if data_dir is not None else cache_dir()) / name
    if not download:
        raise _not_found(name, searched, dest, "Downloading is off (download=False).")
    found, errors = _found_files(dest), []
    for stem in IDX_STEMS:
        if stem not in found:
            path = _download(name, stem, dest, progress, errors)
            if path is None:
                with contextlib.suppress(OSError):
                    dest.rmdir()  # only if we left it empty
                raise _not_found(name, searched, dest, "Download failed:\n" + "\n".join(errors))
            found[stem] = path
    return found


def _scale_images(images: np.ndarray, scale: str | None, flatten: bool) -> np.ndarray:
    if flatten:
        images = images.reshape(len(images), -1)
    if scale is None:
        return images
    x = images.astype(np.float32)  # scaled in place: one 188 MB array for MNIST, not three
    if scale == "unit":
        x /= np.float32(255.0)
    else:
        x *= np.float32(0.99 / 255.0)
        x += np.float32(0.01)
    return x


def _load_idx_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None,
    scale: str | None,
    flatten: bool,
    download: bool,
    progress: bool | None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    if scale not in ("unit", "lecture", None):
        raise ValueError(f"scale must be 'unit', 'lecture' or None, got {scale!r}")
    files = _locate(name, data_dir, download, progress)
    a = {stem: _verify(path, name, stem) for stem, path in files.items()}
    return (
        (_scale_images(a[IDX_STEMS[0]], scale, flatten), a[IDX_STEMS[1]].astype(np.int64)),
        (_scale_images(a[IDX_STEMS[2]], scale, flatten), a[IDX_STEMS[3]].astype(np.int64)),
    )


def load_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    scale: str | None = "unit",
    flatten: bool = True,
    download: bool = True,
    progress: bool | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST's handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.

    The four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each gzipped with ``.gz`` or not)
    are looked for, in order, in ``data_dir``, in ``$MLPKIT_DATA``, in the user cache
    (``$XDG_CACHE_HOME/mlpkit/mnist``, by default ``~/.cache/mlpkit/mnist``) and in
    ``/usr/share/datasets/mnist``; each of those may hold the files directly or in a
    ``mnist/`` subfolder (except the last two). If none has all four, they are downloaded into
    ``data_dir/mnist`` or the user cache. Every file is checked against the SHA-256 of its
    published content.

    Parameters
    ----------
    data_dir : str or os.PathLike, optional
        Folder holding the files (or a parent folder with a ``mnist/`` subfolder).
    scale : {"unit", "lecture", None}, default "unit"
        ``"unit"``: float32 pixels ``x / 255`` in [0, 1]; ``"lecture"``: float32
        ``x / 255 * 0.99 + 0.01`` in [0.01, 1] (no zero inputs); None: the raw uint8 values.
    flatten : bool, default True
        Return images as rows of 784 pixels; otherwise as 28x28 arrays.
    download : bool, default True
        Download missing files; with False, a missing file raises at once.
    progress : bool, optional
        Show a download progress bar (tqdm if installed). By default only on a terminal;
        False prints nothing.

    Returns
    -------
    (X_train, y_train), (X_test, y_test)
        ``X_train`` of shape (60000, 784) (or (60000, 28, 28)), ``y_train`` int64 of shape
        (60000,) with labels 0-9; the test set likewise with 10000 rows.

    Raises
    ------
    DatasetNotFoundError
        (a :class:`FileNotFoundError`) if the files are nowhere and cannot be downloaded; the
        message says where to put them and under which names.
    DatasetChecksumError
        (a :class:`ValueError`) if a file does not hold the published content.
    """
    return _load_idx_dataset("mnist", data_dir, scale, flatten, download, progress)


def load_fashion_mnist(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    scale: str | None = "unit",
    flatten: bool = True,
    download: bool = True,
    progress: bool | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST: 60,000 + 10,000 28x28 greyscale images of 10 kinds of clothing.

    Same files, search order (with ``fashion-mnist/`` subfolders; Debian's
    ``dataset-fashion-mnist`` package installs them in ``/usr/share/datasets/fashion-mnist``),
    parameters and return values as :func:`load_mnist`. Class ``k`` is named
    ``FASHION_MNIST_CLASSES[k]``.
    """
    return _load_idx_dataset("fashion-mnist", data_dir, scale, flatten, download, progress)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load the 1,797 8x8 handwritten digits that scikit-learn bundles (no download needed).

    Returns
    -------
    X : numpy.ndarray
        float32 of shape (1797, 64), pixel values scaled from 0-16 to [0, 1].
    y : numpy.ndarray
        int64 of shape (1797,), labels 0-9.
    """
    try:
        from sklearn.datasets import load_digits as sk_load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits needs scikit-learn, which is not installed: pip install 'mlpkit[sklearn]'"
        ) from exc
    digits = sk_load_digits()
    return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)


# --------------------------------------------------------------------------- images

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_PIXELS = 1 << 28
_IMAGE_SUFFIXES = (".pgm", ".png")


def _read_pgm(data: bytes, name: str) -> np.ndarray:
    tokens, pos = [], 2
    while len(tokens) < 3:
        while pos < len(data) and (data[pos : pos + 1].isspace() or data[pos] == ord("#")):
            if data[pos] == ord("#"):
                end = data.find(b"\n", pos)
                pos = len(data) if end < 0 else end
            pos += 1
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace() and data[pos] != ord("#"):
            pos += 1
        if start == pos or not data[start:pos].isdigit():
            raise ValueError(f"{name!r}: bad PGM header (width, height, maxval expected)")
        tokens.append(int(data[start:pos]))
    width, height, maxval = tokens
    if not (0 < width * height <= _MAX_PIXELS and 0 < maxval <= 65535):
        raise ValueError(f"{name!r}: bad PGM size {width}x{height} or maxval {maxval}")
    if data[:2] == b"P2":
        body = re.sub(rb"#[^\n]*", b"", data[pos:]).split()
        if len(body) != width * height or not all(t.isdigit() for t in body):
            raise ValueError(
                f"{name!r}: PGM declares {width}x{height} pixels, found {len(body)} values "
                "(or a non-integer)"
            )
        pixels = np.array([int(t) for t in body], dtype=np.int64)
    else:
        if pos >= len(data):
            raise ValueError(f"{name!r}: PGM data missing")
        pos += 1  # the single whitespace byte after maxval
        dtype = np.dtype("u1") if maxval < 256 else np.dtype(">u2")
        n = width * height * dtype.itemsize
        if len(data) - pos < n or data[pos + n :].strip():
            raise ValueError(
                f"{name!r}: PGM declares {width}x{height} pixels ({n} bytes), found "
                f"{len(data) - pos} bytes"
            )
        pixels = np.frombuffer(data, dtype, width * height, pos)
    if pixels.max() > maxval:
        raise ValueError(f"{name!r}: PGM pixel value {pixels.max()} above maxval {maxval}")
    return (pixels.reshape(height, width) / maxval).astype(np.float32)


def _unfilter_png(raw: bytes, height: int, stride: int, bpp: int, name: str) -> np.ndarray:
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, np.uint8, stride, start + 1)
        if kind == 0:
            cur = line
        elif kind == 1:
            cur = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).ravel()
        elif kind == 2:
            cur = line + prev
        elif kind in (3, 4):
            cur_b, up, filt = bytearray(stride), prev.tolist(), line.tolist()
            for i in range(stride):
                a = cur_b[i - bpp] if i >= bpp else 0
                if kind == 3:
                    pred = (a + up[i]) >> 1
                else:
                    b, c = up[i], up[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur_b[i] = (filt[i] + pred) & 0xFF
            cur = np.frombuffer(bytes(cur_b), np.uint8)
        else:
            raise ValueError(f"{name!r}: bad PNG filter type {kind} in row {y}")
        out[y] = prev = cur
    return out


def _read_png(data: bytes, name: str) -> np.ndarray:
    pos, header, idat = 8, None, []
    while True:
        if pos + 8 > len(data):
            raise ValueError(f"{name!r}: PNG file truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        crc = data[pos + 8 + length : pos + 12 + length]
        if len(body) < length or len(crc) < 4:
            raise ValueError(f"{name!r}: PNG file truncated in chunk {ctype!r}")
        if zlib.crc32(ctype + body) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"{name!r}: PNG chunk {ctype!r} has a bad CRC")
        pos += 12 + length
        if ctype == b"IHDR":
            if length != 13:
                raise ValueError(f"{name!r}: PNG IHDR chunk of {length} bytes, expected 13")
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ValueError(f"{name!r}: PNG file without IHDR chunk")
    width, height, depth, color, _comp, _filter, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(color)
    if channels is None or depth not in (8, 16) or interlace:
        raise ValueError(
            f"{name!r}: unsupported PNG (colour type {color}, bit depth {depth}, interlace "
            f"{interlace}); expected 8- or 16-bit greyscale/RGB(A), not interlaced"
        )
    if not 0 < width * height <= _MAX_PIXELS:
        raise ValueError(f"{name!r}: bad PNG size {width}x{height}")
    bpp = channels * depth // 8
    stride, expected = width * bpp, height * (width * bpp + 1)
    try:
        decomp = zlib.decompressobj()
        raw = decomp.decompress(b"".join(idat), expected + 1)
    except zlib.error as exc:
        raise ValueError(f"{name!r}: damaged PNG data ({exc})") from exc
    if len(raw) != expected:
        raise ValueError(f"{name!r}: PNG data holds {len(raw)} bytes, expected {expected}")
    rows = _unfilter_png(raw, height, stride, bpp, name)
    dtype = np.dtype("u1") if depth == 8 else np.dtype(">u2")
    pixels = rows.view(dtype).reshape(height, width, channels) / float(2**depth - 1)
    if channels >= 3:  # RGB(A) to luminance (ITU-R BT.601); alpha is ignored
        return (pixels[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.float32)
    return pixels[..., 0].astype(np.float32)


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a greyscale image: PGM (P2 ASCII or P5 binary, maxval up to 65535) or PNG.

    PNG files must be 8- or 16-bit greyscale, greyscale+alpha, RGB or RGBA, not interlaced;
    colour is converted to luminance (0.299 R + 0.587 G + 0.114 B) and alpha is ignored.
    The format is recognised by the file's first bytes.

    Returns
    -------
    numpy.ndarray
        float32 array of shape (height, width) with values in [0, 1].
    """
    name = os.fspath(path)
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] in (b"P2", b"P5") and data[2:3].isspace():
        return _read_pgm(data, name)
    if data.startswith(_PNG_SIGNATURE):
        return _read_png(data, name)
    raise ValueError(f"{name!r}: not a PGM (P2/P5) or PNG image (first bytes {data[:8]!r})")


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    rows = (np.arange(size[0]) * image.shape[0]) // size[0]
    cols = (np.arange(size[1]) * image.shape[1]) // size[1]
    return image[np.ix_(rows, cols)]


def load_image_folder(
    path: str | os.PathLike[str], *, size: tuple[int, int] | int | None = None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load images stored one sub-folder per class (``path/<class>/*.pgm|*.png``).

    Parameters
    ----------
    path : str or os.PathLike
        Folder whose sub-folders (hidden ones skipped) are the classes, in sorted order.
    size : (height, width) or int, optional
        Resize every image to this size (nearest neighbour). By default all images must
        have the same shape.

    Returns
    -------
    X : numpy.ndarray
        float32 of shape (n_images, height * width), values in [0, 1] (see :func:`read_image`).
    y : numpy.ndarray
        int64 of shape (n_images,): index of the image's class in ``class_names``.
    class_names : list of str
        The sub-folder names, sorted.
    """
    if size is not None:
        size = (size, size) if isinstance(size, int) else tuple(size)
        if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
            raise ValueError(f"size must be None, an int or (height, width) > 0, got {size!r}")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: image folder {str(root)!r} does not exist")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise ValueError(f"path: {str(root)!r} has no sub-folders (one per class expected)")
    images, labels = [], []
    for label, cls in enumerate(classes):
        files = sorted(
            p for p in (root / cls).iterdir()
            if p.suffix.lower() in _IMAGE_SUFFIXES and not p.name.startswith(".")
        )  # fmt: skip
        if not files:
            raise ValueError(f"path: class folder {str(root / cls)!r} has no .pgm or .png image")
        for file in files:
            image = read_image(file)
            if size is not None:
                image = _resize(image, size)
            elif images and image.shape != images[0].shape:
                raise ValueError(
                    f"{str(file)!r} has shape {image.shape}, but the images before it have "
                    f"{images[0].shape}; pass size=(height, width) to resize them"
                )
            images.append(image)
            labels.append(label)
    X = np.stack(images).reshape(len(images), -1)
    return X, np.array(labels, dtype=np.int64), classes


# --------------------------------------------------------------------------- CSV


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


# --------------------------------------------------------------------------- toy problems


def _rng(seed: Seed) -> np.random.Generator:
    ok = seed is None or isinstance(seed, int | np.integer | np.random.Generator)
    if isinstance(seed, bool) or not ok:
        raise TypeError(f"seed must be None, an int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(seed)


def _check(n_samples: int, noise: float, minimum: int = 2) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int | np.integer):
        raise TypeError(f"n_samples must be an int, got {type(n_samples).__name__}")
    if n_samples < minimum:
        raise ValueError(f"n_samples must be at least {minimum}, got {n_samples}")
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= noise < math.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


_GATES = {
    "and": (0, 0, 0, 1), "or": (0, 1, 1, 1), "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0), "xor": (0, 1, 1, 0), "xnor": (1, 0, 0, 1),
}  # fmt: skip
_TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def logic_gate(
    name: str, n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """The truth table of a 2-input logic gate: and, or, nand, nor, xor or xnor.

    With ``n_samples=None`` the 4 rows (0,0), (0,1), (1,0), (1,1) in this order; otherwise
    ``n_samples`` rows cycling through the table, shuffled. ``noise`` adds Gaussian noise of
    that standard deviation to the inputs (labels unchanged).

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n, 2).
    y : numpy.ndarray
        int64 of shape (n,), 0 or 1.
    """
    if name not in _GATES:
        raise ValueError(f"name must be one of {sorted(_GATES)}, got {name!r}")
    _check(4 if n_samples is None else n_samples, noise, minimum=1)
    rng = _rng(seed)
    idx = np.arange(4) if n_samples is None else rng.permutation(np.arange(n_samples) % 4)
    X = _TRUTH_INPUTS[idx]
    if noise:
        X = X + rng.normal(0.0, noise, X.shape)
    return X, np.array(_GATES[name], dtype=np.int64)[idx]


def xor(
    n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """XOR's truth table: X of shape (4, 2), y = [0, 1, 1, 0]. See :func:`logic_gate`."""
    return logic_gate("xor", n_samples, noise=noise, seed=seed)


# The TensorFlow Playground's 2-D data sets (playground.tensorflow.org), with coordinates
# divided by 5 so that they lie about in [-1, 1]^2, and labels 1/-1 mapped to 1/0.


def circle(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """A disc (label 1, radius < 0.5) inside a ring (label 0, radius 0.7 to 1).

    ``noise`` shifts each point by up to ``noise`` in x and y (uniform); the label is that of
    the shifted point, so noise blurs the boundary. Returns shuffled float64 ``X`` (n, 2) and
    int64 ``y`` (n,), half of each class without noise.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n_in = n_samples // 2
    radius = np.concatenate([rng.uniform(0, 0.5, n_in), rng.uniform(0.7, 1.0, n_samples - n_in)])
    angle = rng.uniform(0, 2 * np.pi, n_samples)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    if not noise:
        return _shuffled(rng, X, np.arange(n_samples) < n_in)
    X += rng.uniform(-1, 1, X.shape) * noise
    return _shuffled(rng, X, np.hypot(X[:, 0], X[:, 1]) < 0.5)


def xor_quadrants(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Points in the four quadrants, label 1 where x*y >= 0 (1st and 3rd), else 0.

    Points keep 0.06 away from the axes; ``noise`` shifts them by up to ``noise`` (uniform)
    and the label follows the shifted point. Balanced classes without noise.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n_pos = n_samples // 2
    X = rng.uniform(0.06, 1.06, (n_samples, 2)) * rng.choice([-1.0, 1.0], (n_samples, 1))
    X[n_pos:, 1] *= -1  # first half same signs (x*y > 0), second half opposite signs
    X += rng.uniform(-1, 1, X.shape) * noise
    return _shuffled(rng, X, X[:, 0] * X[:, 1] >= 0)


def gaussians(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs: label 1 around (0.4, 0.4), label 0 around (-0.4, -0.4).

    The standard deviation grows with ``noise`` from 0.14 (noise 0) to 0.4 (noise 1), as in
    the Playground (variance 0.5 to 4 before scaling). Half of the samples in each class.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    n_pos = n_samples // 2
    std = math.sqrt(0.5 + 3.5 * noise) / 5
    centre = np.where(np.arange(n_samples) < n_pos, 0.4, -0.4)[:, None]
    X = centre + rng.normal(0, std, (n_samples, 2))
    return _shuffled(rng, X, np.arange(n_samples) < n_pos)


def spiral(
    n_samples: int = 200, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.75 turns (label 1, and label 0 turned by 180 degrees).

    ``noise`` shifts each point by up to ``noise / 5`` (uniform). Half of the samples per class.
    """
    _check(n_samples, noise)
    rng = _rng(seed)
    parts = []
    for n, delta in ((n_samples // 2, 0.0), (n_samples - n_samples // 2, np.pi)):
        frac = np.arange(n) / n
        t = 1.75 * frac * 2 * np.pi + delta
        parts.append(np.column_stack([frac * np.sin(t), frac * np.cos(t)]))
    X = np.concatenate(parts) + rng.uniform(-1, 1, (n_samples, 2)) * noise / 5
    return _shuffled(rng, X, np.arange(n_samples) < n_samples // 2)


def parabola_vs_random(
    n_samples: int = 10000,
    *,
    noise: float = 0.0,
    order: str = "random_first",
    seed: Seed = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Points on the parabola y = x^2 (label 1) against uniform random points (label 0).

    ``n_samples // 2`` points (x, x^2) with x uniform in [-1, 1] (``noise``: Gaussian noise of
    that standard deviation added to y), and the rest uniform in the square [-1, 1] x [0, 1].
    The lecture uses this set, in its default order, to show that online training without
    shuffling fails: the network only learns the class it saw last.

    Parameters
    ----------
    order : {"random_first", "parabola_first", "shuffled"}, default "random_first"
        All random points, then all parabola points; the reverse; or shuffled.

    Returns
    -------
    X : numpy.ndarray
        float64 of shape (n_samples, 2).
    y : numpy.ndarray
        int64 of shape (n_samples,).
    """
    _check(n_samples, noise)
    if order not in ("random_first", "parabola_first", "shuffled"):
        raise ValueError(
            f"order must be 'random_first', 'parabola_first' or 'shuffled', got {order!r}"
        )
    rng = _rng(seed)
    n_par = n_samples // 2
    random = np.column_stack(
        [rng.uniform(-1, 1, n_samples - n_par), rng.uniform(0, 1, n_samples - n_par)]
    )
    x = rng.uniform(-1, 1, n_par)
    parabola = np.column_stack([x, x**2 + (rng.normal(0, noise, n_par) if noise else 0.0)])
    y_random, y_parabola = np.zeros(len(random), np.int64), np.ones(n_par, np.int64)
    if order == "parabola_first":
        return np.concatenate([parabola, random]), np.concatenate([y_parabola, y_random])
    X, y = np.concatenate([random, parabola]), np.concatenate([y_random, y_parabola])
    return _shuffled(rng, X, y) if order == "shuffled" else (X, y)


#: Toy problems by name, each called as ``f(n_samples, noise=..., seed=...)``.
TOY_DATASETS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "xor": xor,
    **{g: functools.partial(logic_gate, g) for g in _GATES if g != "xor"},
    "circle": circle,
    "xor_quadrants": xor_quadrants,
    "gaussians": gaussians,
    "spiral": spiral,
    "parabola_vs_random": parabola_vs_random,
}


def make_toy_dataset(
    name: str, n_samples: int | None = None, *, noise: float = 0.0, seed: Seed = None
) -> tuple[np.ndarray, np.ndarray]:
    """Generate the toy problem ``name`` from :data:`TOY_DATASETS` (its default size if None)."""
    if name not in TOY_DATASETS:
        raise ValueError(f"name must be one of {sorted(TOY_DATASETS)}, got {name!r}")
    kwargs: dict[str, Any] = {"noise": noise, "seed": seed}
    if n_samples is not None:
        kwargs["n_samples"] = n_samples
    return TOY_DATASETS[name](**kwargs)
