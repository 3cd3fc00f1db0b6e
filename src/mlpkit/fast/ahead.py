"""The online kernel compiled ahead of time, once per machine, into mlpkit's user cache.

numba's own on-disk cache still costs every new process numba's import and the loading of the
cached code (about 1.5 s here, against a 5-epoch MNIST run of a few seconds). So the first
process that needs the compiled epoch (:func:`mlpkit.fast.online._kernel`) also has numba
write it out as a CPython extension module (``numba.pycc``, with the host CPU's instruction
set), ``$XDG_CACHE_HOME/mlpkit/kernels/mlpkit_online_<key><suffix>``; later processes import
that module in milliseconds without importing numba at all. The key covers the kernel's source,
the versions of Python, NumPy and numba and the CPU (model and flags), so a change of any of
them builds a new module. When the build fails (``numba.pycc`` needs setuptools and a C
compiler), a marker file beside it says why and numba's JIT cache is used instead, without
trying again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import platform
import shutil
import sys
import sysconfig
import tempfile
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

__all__ = ["build", "load", "module_file"]

#: changed when the build below changes in a way the sources do not show
RECIPE = "1"
PREFIX = "mlpkit_online"
#: numba signature of the exported epoch per dtype (see online_kernel._epoch)
SIGNATURE = "void({0}[:, ::1], {0}[:, ::1], i8[::1], i8, {0}[::1], i8[::1], f8[::1], {0}[:, ::1])"
DTYPES = {"f4": np.float32, "f8": np.float64}


def _sources() -> list[Path]:
    here = Path(__file__).parent
    return [here / "online_kernel.py", here / "_intrinsics.py"]


def _cpu() -> str:
    """The CPU model and its instruction-set flags (Linux), else what ``platform`` knows."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    wanted = ("model name", "flags", "Features", "CPU part")
    found = {}
    for line in lines:
        name = line.split(":", 1)[0].strip()
        if name in wanted and name not in found:
            found[name] = line
    return "|".join([platform.machine(), platform.processor(), *sorted(found.values())])


def _numba_version() -> str:
    try:
        return importlib.metadata.version("numba")
    except importlib.metadata.PackageNotFoundError:
        return "none"


def key() -> str:
    """What the module depends on, hashed (16 hex digits)."""
    digest = hashlib.sha256()
    for part in (RECIPE, sys.version, np.__version__, _numba_version(), _cpu()):
        digest.update(part.encode() + b"\0")
    for source in _sources():
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def folder() -> Path:
    from ..data.datasets import cache_dir

    return cache_dir() / "kernels"


def module_file() -> Path:
    """Where the module for this machine, Python, NumPy, numba and kernel source is (or will
    be)."""
    return folder() / f"{PREFIX}_{key()}{sysconfig.get_config_var('EXT_SUFFIX')}"


def load() -> ModuleType | None:
    """The compiled module if it was built, else None (no numba import either way)."""
    path = module_file()
    if not path.exists():
        return None
    name = path.name.split(".")[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return None
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except (ImportError, OSError):
        return None
    return module


def build(epoch: Any) -> ModuleType | None:
    """Compile ``epoch`` (online_kernel._epoch, its callees already set up for numba) for both
    dtypes into the module; None, and a marker file, where this fails."""
    path = module_file()
    failed = path.with_suffix(".failed")
    if failed.exists():
        return None
    folder().mkdir(parents=True, exist_ok=True)
    print("mlpkit: compiling the online training kernel for this machine (once; about a "
          "minute)", file=sys.stderr, flush=True)
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="build-", dir=folder()))
    try:
        _compile(epoch, path.name.split(".")[0], scratch)
        (scratch / path.name).replace(path)  # atomic: a concurrent build only replaces it
    except Exception as error:  # pycc missing, no C compiler, …: numba's JIT cache instead
        failed.write_text(f"{type(error).__name__}: {error}\n")
        print(f"mlpkit: could not compile the kernel ahead of time ({type(error).__name__}: "
              f"{error}); numba compiles it in each process instead", file=sys.stderr)
        return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"mlpkit: compiled in {time.perf_counter() - started:.0f} s into {path}",
          file=sys.stderr)
    return load()


def _compile(epoch: Any, name: str, output: Path) -> None:
    with warnings.catch_warnings():  # pycc is "pending deprecation" since numba 0.57
        warnings.simplefilter("ignore")
        from numba.pycc import CC

        cc = CC(name)
        cc.output_dir = str(output)
        cc.target_cpu = "host"
        cc.verbose = False
        for code in DTYPES:
            cc.export(f"epoch_{code}", SIGNATURE.format(code))(epoch)
        cc.compile()
