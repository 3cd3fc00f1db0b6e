"""Data sets for training MLPs: MNIST and Fashion-MNIST, and scikit-learn's 8x8 digits.

MNIST-like files are found locally (``data_dir``, ``$MLPKIT_DATA``, the user cache, Debian's
``/usr/share/datasets``) or downloaded into the cache, and always checked against SHA-256
checksums of their content. Everything returns NumPy arrays with one sample per row.

Image folders (:mod:`mlpkit.images`), CSV files (:mod:`mlpkit.csvdata`) and the 2-D toy
problems (:mod:`mlpkit.toydata`) live in their own modules and are re-exported here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..io.atomic import atomic_write
from .csvdata import load_csv
from .idx import _read_idx
from .images import load_image_folder, read_image
from .toydata import (
    TOY_DATASETS,
    circle,
    gaussians,
    logic_gate,
    make_toy_dataset,
    parabola_vs_random,
    spiral,
    xor,
    xor_quadrants,
)
from .toydata import Seed as Seed

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
    # Imported here: http.client and urllib (with email, ssl, socket) take 0.04-0.08 s to
    # import, which every ``import mlpkit`` would pay for a download most processes never make.
    import http.client
    import urllib.error
    import urllib.request

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
    found = _found_files(dest)
    errors: list[str] = []
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
