"""Replay every committed fuzz corpus under plain pytest (no atheris needed).

Each file of ``fuzz/corpus/<target>/`` goes through its target's ``test_one_input``, which
checks the target's contract (load, or raise the documented error); the ``regression-*`` files
are past findings. Fuzzing itself (``fuzz/run_campaign.py``) needs the ``fuzz`` extra.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
SRC = str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, str(FUZZ))

_common = importlib.import_module("_common")
TARGETS = ("idx", "csv", "model", "checkpoint", "image", "config", "playground", "onnx")
CASES = [(t, p) for t in TARGETS for p in _common.corpus(t)]


def target(name: str):
    return importlib.import_module(f"fuzz_{name}")


def test_every_target_has_a_corpus_with_its_seeds_and_a_contract() -> None:
    assert {p.name for p in FUZZ.glob("fuzz_*.py")} == {f"fuzz_{t}.py" for t in TARGETS}
    for name in TARGETS:
        module = target(name)
        assert module.CONTRACT and module.INSTRUMENT and callable(module.test_one_input)
        assert sum(p.name.startswith("seed-") for p in _common.corpus(name)) >= 5, name


@pytest.mark.parametrize(("name", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_corpus_input_keeps_the_contract(name: str, path: Path) -> None:
    target(name).test_one_input(path.read_bytes())


def test_forge_matches_the_model_file_format() -> None:
    from _forge import MAGIC, forged_input, split, to_file

    from mlpkit.io import model_file

    assert MAGIC == model_file.MAGIC
    base = target("model").base()
    assert to_file(forged_input(base), base) == base
    assert split(base)[0].startswith(b"{")
    # an empty edit program is the base file re-encoded: it still loads
    model_file.decode(to_file(b"\x01", base))


def test_the_valid_seeds_are_accepted_not_just_refused() -> None:
    """The targets reach the code behind the checks: their base files load and resume."""
    from _forge import to_file

    from mlpkit.io import model_file

    for name in ("model", "checkpoint"):
        module = target(name)
        model = model_file.decode(to_file(module.base(), module.base()))
        assert model.optimizer is not None and model.history is not None
    checkpoint = target("checkpoint")
    state = model_file.decode(checkpoint.base()).metadata["checkpoint"]
    assert not state["complete"] and state["batch"] > 0  # resumes inside an epoch


def test_model_target_fuzzes_with_numba_installed(tmp_path: Path) -> None:
    """Issue 17: atheris' import hook broke the numba kernels; only the reader is instrumented.

    A short real atheris run of the model target, whose seeds train with the compiled kernels
    when numba is installed, in a subprocess (instrumentation patches code for good).
    """
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in _common.corpus("model")[:5]:
        (corpus / path.name).write_bytes(path.read_bytes())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, str(FUZZ / "fuzz_model.py"), str(corpus), "-runs=40",
         "-seed=1"], capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "instrumented" in result.stderr and "Done 40 runs" in result.stderr
    assert "_trace_branch" not in result.stderr


def test_instrumentation_is_limited_to_the_reader_under_test() -> None:
    pytest.importorskip("atheris")
    code = (
        f"import sys; sys.path.insert(0, {str(FUZZ)!r}); import _common, fuzz_idx; "
        "import mlpkit.training.loop as loop; from mlpkit.data import idx; "
        "n = _common.instrument(fuzz_idx.INSTRUMENT); "
        "mark = '__ATHERIS_INSTRUMENTED__'; "
        "assert n > 0 and mark in idx._read_idx.__code__.co_consts, n; "
        "assert mark not in loop.train.__code__.co_consts"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
