"""Fuzz target for ONNX export of loaded models (:func:`mlpkit.io.onnx.to_onnx`).

Inputs are model files as for ``fuzz_model.py`` (raw, forged past the checksum, or edit
programs on a valid file, see ``_forge.py``): a model file that loads must export to a graph
that ONNX's checker accepts and onnxruntime runs, or be refused clearly.
"""

from __future__ import annotations

import sys

import numpy as np
from _common import main
from _forge import to_file
from fuzz_model import base

from mlpkit.io import model_file as io
from mlpkit.io.onnx import to_onnx

CONTRACT = (
    "a model file either raises ModelFileError, or its network exports (to_onnx) to a checked "
    "graph whose onnxruntime outputs have the network's shape, or export raises ValueError "
    "naming the unsupported layer"
)
INSTRUMENT = ["mlpkit.io.onnx", "mlpkit.io.model_file"]

try:
    import onnxruntime
except ImportError:  # pragma: no cover - then only the export and ONNX's checker are fuzzed
    onnxruntime = None


def test_one_input(data: bytes) -> None:
    try:
        network = io.decode(to_file(data, base()), "fuzz.mlpk").network
    except io.ModelFileError:
        return
    try:
        model = to_onnx(network)
    except ValueError as error:
        if "network" not in str(error):
            raise AssertionError(f"ValueError not naming the network: {error}") from None
        return
    if onnxruntime is None:
        return
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    X = np.zeros((2, network.n_inputs), dtype=np.float32)
    (outputs,) = session.run(["output"], {"input": X})
    if outputs.shape != (2, network.n_outputs):
        raise AssertionError(f"ONNX outputs of shape {outputs.shape}, network "
                             f"{(2, network.n_outputs)}")


def prepare() -> None:
    """Make the base file and compile what training needs (numba) before -timeout counts."""
    test_one_input(base())


if __name__ == "__main__":
    main(sys.modules[__name__])
