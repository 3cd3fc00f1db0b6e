"""The lecture notebooks run from top to bottom without an error, and are stored clean.

Each notebook in notebooks/ is executed with nbclient in a Jupyter kernel (``python3``, the
interpreter running the tests), in a temporary folder. They use small data (said in each
notebook) so that each runs in seconds on 2 cores; the MNIST notebook
uses ``$MLPKIT_DATA`` when it is set and scikit-learn's digits otherwise. Needs the ``docs``
extra (nbclient, nbformat, ipykernel); skipped without it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _kernel_name() -> str:
    """A kernel that runs this interpreter (registered for it if it has none)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if Path(spec.argv[0]).resolve() == Path(sys.executable).resolve() or spec.argv[0] in (
            "python", "python3", "{python}"
        ):
            return "python3"
    except NoSuchKernel:
        pass
    pytest.skip("no Jupyter kernel 'python3' for this interpreter: "
                "python -m ipykernel install --sys-prefix")  # fmt: skip


def test_there_is_a_notebook_per_lecture_theme():
    names = [p.stem for p in NOTEBOOKS]
    for theme in ("perceptron", "forward-pass", "backpropagation", "minibatch", "mnist",
                  "shuffling", "forward-vs-reverse"):  # fmt: skip
        assert any(theme in name for name in names), f"no notebook on {theme}: {names}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name}: clear the outputs before committing "
                "(jupyter nbconvert --clear-output --inplace)")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_without_error(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    # The kernel is a new process: with numba it would compile the optional kernels again
    # (about 10 s each time on 2 cores, minutes on a loaded machine); the notebooks teach the
    # plain NumPy path, which every other test checks against the compiled one. One BLAS
    # thread: several multi-threaded BLAS processes on 2 cores slow each other down 10-fold.
    monkeypatch.setenv("MLPKIT_NUMBA", "0")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]  # fmt: skip
    assert not errors
    streams = "".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "stream" and o.name == "stderr")
    assert "Warning" not in streams, f"{path.name} warns:\n{streams}"
