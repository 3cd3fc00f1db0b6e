"""Shared driver for the atheris fuzz targets: seeds, a temporary file, bounded runs."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable

try:
    import atheris
except ImportError as error:  # pragma: no cover - optional extra
    raise SystemExit('the fuzz targets need atheris: pip install "mlpkit[fuzz]"') from error


def run(name: str, target: Callable[[bytes], None], seeds: list[bytes]) -> None:
    """Fuzz ``target`` starting from ``seeds``; any exception it lets through is a finding.

    Usage: ``python fuzz/<target>.py -atheris_runs=50000`` (or ``-max_total_time=120``).
    """
    corpus = tempfile.mkdtemp(prefix=f"mlpkit-fuzz-{name}-")
    for i, seed in enumerate(seeds):
        with open(os.path.join(corpus, f"seed{i}"), "wb") as f:
            f.write(seed)
    atheris.Setup([*sys.argv, corpus], target)
    atheris.Fuzz()


def via_file(data: bytes, suffix: str = "") -> str:
    """Write ``data`` to a reused temporary file and return its path (the readers take paths)."""
    path = os.path.join(tempfile.gettempdir(), f"mlpkit-fuzz-{os.getpid()}{suffix}")
    with open(path, "wb") as f:
        f.write(data)
    return path
