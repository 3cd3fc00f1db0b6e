"""Shared driver for the fuzz targets: corpus folders, temporary files, selective instrumentation.

Every target module ``fuzz/fuzz_<name>.py`` defines

- ``CONTRACT``: one sentence saying what every input must do (load, or raise the documented
  error); any other exception, a hang past ``-timeout`` or memory past ``-rss_limit_mb`` is a
  finding;
- ``INSTRUMENT``: the modules whose code is the reader under test (only these are instrumented);
- ``test_one_input(data: bytes) -> None``: one input, checked against the contract;
- optionally ``prepare()``: one-off set-up run before fuzzing (outside ``-timeout``).

The modules import without atheris, so ``tests/test_fuzz.py`` replays every corpus under plain
pytest. Run one target with atheris (``pip install "mlpkit[fuzz]"``)::

    python fuzz/fuzz_idx.py -max_total_time=60           # grows a scratch copy of the corpus
    python fuzz/fuzz_idx.py fuzz/corpus/idx -runs=0      # replays the committed corpus
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
#: Defaults for every run: a hang or a memory blow-up is a finding like an exception.
DEFAULT_FLAGS = ("-rss_limit_mb=2048", "-timeout=10")

# Temporary files live in RAM where possible: the readers take paths, and fsync-heavy writers
# (checkpoints) should not wear the disk at thousands of inputs per second.
_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def corpus(name: str) -> list[Path]:
    """The committed corpus files of target ``name``, sorted by name."""
    folder = CORPUS_DIR / name
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def scratch_dir(prefix: str) -> str:
    """A new private temporary folder (in RAM when /dev/shm is writable)."""
    return tempfile.mkdtemp(prefix=f"mlpkit-fuzz-{prefix}-", dir=_TMP)


_FILE_DIR: str | None = None


def via_file(data: bytes, suffix: str = "") -> str:
    """Write ``data`` to a reused temporary file and return its path (the readers take paths)."""
    global _FILE_DIR
    if _FILE_DIR is None:
        _FILE_DIR = scratch_dir("files")
    path = os.path.join(_FILE_DIR, f"input{suffix}")
    with open(path, "wb") as f:
        f.write(data)
    return path


def _functions(module: ModuleType) -> Iterable[Callable]:
    """Plain functions and methods defined in ``module`` itself (not imported into it)."""
    for value in vars(module).values():
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            yield value
        elif inspect.isclass(value) and value.__module__ == module.__name__:
            for member in vars(value).values():
                func = getattr(member, "__func__", member)  # staticmethod / classmethod
                if isinstance(member, property):
                    func = member.fget
                if inspect.isfunction(func):
                    yield func


def instrument(module_names: Iterable[str]) -> int:
    """Add atheris' coverage instrumentation to the functions of the named modules only.

    ``atheris.instrument_imports`` instruments whole top-level packages, and instrumented code
    cannot be compiled by numba (``Unknown attribute '_trace_branch' of type Module(atheris)``);
    so the reader under test is instrumented function by function, and NumPy, numba and the
    rest of mlpkit run as installed. Returns the number of functions instrumented.
    """
    import atheris

    count = 0
    for name in module_names:
        for func in _functions(importlib.import_module(name)):
            atheris.instrument_func(func)
            count += 1
    return count


def main(module: ModuleType) -> None:
    """Command-line entry of a target: fuzz ``module.test_one_input`` with libFuzzer's flags.

    Without a corpus folder on the command line, a scratch copy of the committed corpus is
    grown (the committed one changes only through ``fuzz/run_campaign.py --merge``).
    """
    try:
        import atheris
    except ImportError:  # pragma: no cover - optional extra
        raise SystemExit('the fuzz targets need atheris: pip install "mlpkit[fuzz]"') from None
    name = Path(module.__file__).stem.removeprefix("fuzz_")
    argv = list(sys.argv)
    flags = [a for a in argv[1:] if a.startswith("-")]
    folders = [a for a in argv[1:] if not a.startswith("-")]
    if not folders:
        work = scratch_dir(name)
        for path in corpus(name):
            Path(work, path.name).write_bytes(path.read_bytes())
        folders = [work]
    defaults = [f for f in DEFAULT_FLAGS if not any(a.startswith(f.split("=")[0] + "=")
                                                    for a in flags)]
    if hasattr(module, "prepare"):  # one-off set-up (base files, JIT) outside the timeout
        module.prepare()
    count = instrument(module.INSTRUMENT)
    print(f"INFO: {name}: instrumented {count} functions of {', '.join(module.INSTRUMENT)}",
          file=sys.stderr)
    prefix = next((a.split("=", 1)[1] for a in flags if a.startswith("-artifact_prefix=")), "")
    # libFuzzer runs argv[0] through sh for -merge, -fork and minimising: name the interpreter
    program = f"{sys.executable} {os.path.abspath(argv[0])}"
    atheris.Setup([program, *defaults, *flags, *folders], _keeping_findings(module, prefix))
    atheris.Fuzz()


def _keeping_findings(module: ModuleType, prefix: str) -> Callable[[bytes], None]:
    """``module.test_one_input``, writing ``<prefix>finding-<sha1>`` before any exception leaves.

    libFuzzer writes its own ``crash-*`` file too, but not when the process dies in its crash
    handler; this copy is written first, so a finding is never lost.
    """
    import hashlib

    target = module.test_one_input

    def checked(data: bytes) -> None:
        try:
            target(data)
        except BaseException:
            with open(f"{prefix}finding-{hashlib.sha1(data).hexdigest()}", "wb") as f:
                f.write(data)
            raise

    return checked
