"""Atomic file writing: write to a temporary file, then rename it over the target.

Readers of ``path`` see either the complete old file or the complete new one, never a partly
written file; if writing fails, the previous file (if any) is left intact and the temporary
file is removed.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write"]

_MODES = ("wb", "w", "wt")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows opening folders (POSIX)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` only when the ``with`` block succeeds.

    The temporary file lives in the same folder as ``path`` (so the final :func:`os.replace`
    is an atomic rename on the same file system). On leaving the block without error the
    data is flushed and fsynced, then renamed over ``path``. On any error the temporary file
    is removed and ``path`` keeps its previous content.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Its folder must exist.
    mode : {"wb", "w", "wt"}, default "wb"
        Binary (``"wb"``) or text (``"w"``/``"wt"``) writing.
    encoding : str, optional
        Text encoding for text modes (default ``"utf-8"``); must be None in binary mode.
        Text is written as given (no newline translation), which suits :mod:`csv`.

    Yields
    ------
    file object
        The open temporary file; its ``name`` attribute is the temporary path, so the
        content can be re-read and checked before the block ends.

    Examples
    --------
    >>> with atomic_write("model.npz") as f:  # doctest: +SKIP
    ...     f.write(data)
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    binary = "b" in mode
    if binary and encoding is not None:
        raise ValueError(f"encoding must be None in binary mode, got {encoding!r}")
    target = Path(os.fspath(path))
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"path: folder {str(folder)!r} does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # Keep the permissions of the file being replaced, else the usual umask default
        # (mkstemp creates files readable by the owner only).
        try:
            perms = stat.S_IMODE(target.stat().st_mode)
        except OSError:
            perms = 0o666 & ~_umask()
        os.chmod(tmp, perms)
        if binary:
            f = open(tmp, mode)
        else:
            f = open(tmp, mode, encoding=encoding or "utf-8", newline="")
        try:
            yield f
            f.flush()
            os.fsync(f.fileno())
        finally:
            f.close()
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(folder)
