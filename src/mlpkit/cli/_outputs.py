"""Output paths checked before any work starts: a typo in ``--save`` must not cost a training run,
and an existing file is never overwritten without ``--force``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ._data import CLIError

__all__ = ["check_file", "check_folder", "plot_files"]

#: every file ``train --plots DIR`` may write
PLOT_FILES = ("history.png", "confusion_matrix.png", "weights.png", "decision_regions.png",
              "predicted_vs_true.png", "run.toml")  # fmt: skip


def _existing_ancestor(path: Path) -> Path:
    for parent in [path, *path.parents]:
        if parent.exists():
            return parent
    return Path(".")


def _writable_folder(option: str, path: Path, folder: Path) -> None:
    ancestor = _existing_ancestor(folder)
    if not ancestor.is_dir():
        raise CLIError(f"{option} {str(path)!r}: {str(ancestor)!r} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise CLIError(f"{option} {str(path)!r}: the folder {str(ancestor)!r} is not writable")


def check_file(option: str, value: str | os.PathLike[str] | None, force: bool,
               create_parents: bool = False) -> None:  # fmt: skip
    """Refuse ``value`` for ``option`` unless it can be written: its folder exists (or can be
    created with ``create_parents``) and is writable, it is not a folder, and it does not
    exist already unless ``force``."""
    if value is None:
        return
    path = Path(value)
    if str(value).strip() == "":
        raise CLIError(f"{option}: expected a file path, got an empty string")
    if path.is_dir():
        raise CLIError(f"{option} {str(path)!r} is a folder; expected a file path")
    parent = path.parent
    if not create_parents and not parent.is_dir():
        raise CLIError(f"{option} {str(path)!r}: the folder {str(parent)!r} does not exist")
    _writable_folder(option, path, parent)
    if path.exists() and not force:
        raise CLIError(f"{option} {str(path)!r} already exists; pass --force to overwrite it, "
                       "or choose another path")  # fmt: skip


def check_folder(option: str, value: str | os.PathLike[str] | None, force: bool,
                 files: Iterable[str] = ()) -> None:  # fmt: skip
    """Refuse a folder for ``option`` that cannot be created or written, or that holds one of
    ``files`` already (unless ``force``)."""
    if value is None:
        return
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise CLIError(f"{option} {str(path)!r} is a file; expected a folder")
    _writable_folder(option, path, path)
    present = [name for name in files if (path / name).exists()]
    if present and not force:
        raise CLIError(f"{option} {str(path)!r} already holds {', '.join(present)}; pass --force "
                       "to overwrite, or choose another folder")  # fmt: skip


def plot_files() -> tuple[str, ...]:
    return PLOT_FILES
