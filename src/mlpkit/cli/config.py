"""Run configurations for ``mlpkit train --config FILE``: a flat TOML table of training options.

A run writes the options it actually used (``run.toml``) next to its model and plots, so the
same experiment (the lectures' training set-up: layers, activations, loss, optimiser, epochs)
can be repeated with ``--config``. Reading uses the standard library's :mod:`tomllib`.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from typing import Any

from ..io.atomic import atomic_write

__all__ = ["dump_config", "load_config", "write_config"]


def load_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML file of ``option = value`` lines into a dict.

    Keys may be written with dashes or underscores (``learning-rate`` or ``learning_rate``);
    they are returned with underscores. A ``[train]`` table, if present, is used instead of
    the top level.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not valid TOML, or holds a nested table other than ``[train]``.
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise FileNotFoundError(f"config file {os.fspath(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"config file {os.fspath(path)!r} is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:  # found by fuzz/fuzz_config.py: TOML must be UTF-8
        raise ValueError(f"config file {os.fspath(path)!r} is not UTF-8 text: {exc}") from None
    except ValueError as exc:  # found by fuzz/fuzz_config.py: an integer of 5,000 digits
        raise ValueError(f"config file {os.fspath(path)!r}: {exc}") from None
    if isinstance(data.get("train"), dict):
        data = data["train"]
    options = {}
    for key, value in data.items():
        if isinstance(value, dict):
            raise ValueError(
                f"config file {os.fspath(path)!r}: [{key}] is a table; expected flat "
                "'option = value' lines (or one [train] table)"
            )
        options[key.replace("-", "_")] = value
    return options


def _value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{key}: cannot write the non-finite number {value!r} to TOML")
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(key, v) for v in value) + "]"
    raise TypeError(f"{key}: cannot write a {type(value).__name__} to TOML")


def dump_config(options: Mapping[str, Any], comment: str | None = None) -> str:
    """TOML text for a flat mapping of options (None values are left out).

    Keys are written with dashes, as on the command line.
    """
    lines = [f"# {line}" for line in (comment or "").splitlines()]
    for key, value in options.items():
        if value is not None:
            lines.append(f"{key.replace('_', '-')} = {_value(key, value)}")
    return "\n".join(lines) + "\n"


def write_config(
    path: str | os.PathLike[str], options: Mapping[str, Any], comment: str | None = None
) -> None:
    """Write :func:`dump_config`'s text to ``path`` atomically."""
    with atomic_write(path, "w") as fh:
        fh.write(dump_config(options, comment))
