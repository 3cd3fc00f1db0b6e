"""Fuzz target for model files (:func:`mlpkit.io.model_file.decode`, behind ``mlpkit.io.load``).

Inputs are raw files, forged files or edit programs (see ``_forge.py``), so most inputs get
past the checksum to the JSON, tensor-table, architecture and optimiser checks.
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from _common import main
from _forge import to_file

import mlpkit
from mlpkit.io import model_file as io

CONTRACT = (
    "decode(bytes) returns a ModelFile whose network predicts outputs of its declared shape, "
    "whose history rows agree and whose optimiser takes a training step on the network (or "
    "diverges), or raises ModelFileError naming the file and the field"
)
INSTRUMENT = ["mlpkit.io.model_file", "mlpkit.training.history"]


@functools.cache
def base() -> bytes:
    """A valid model file with every part: Adam state, history, class names, dropout layer."""
    net = mlpkit.mlp([3, 4, 2], activation="tanh", output_activation="softmax", seed=0,
                     dropout=0.25)
    optimizer = mlpkit.Adam(0.01)
    X = np.random.default_rng(0).normal(size=(8, 3))
    history = mlpkit.train(net, X, np.arange(8) % 2, loss="cross_entropy", optimizer=optimizer,
                           epochs=2, batch_size=4, seed=0)
    return io.encode(net, {"class_names": ["a", "b"]}, optimizer=optimizer, history=history)


def test_one_input(data: bytes) -> None:
    try:
        model = io.decode(to_file(data, base()), "fuzz.mlpk")
    except io.ModelFileError as error:
        if "fuzz.mlpk" not in str(error):
            raise AssertionError(f"ModelFileError without the file name: {error}") from None
        return
    network = model.network
    X = np.zeros((2, network.n_inputs), dtype=network.dtype)
    with np.errstate(all="ignore"):
        outputs = network.forward(X)
    if outputs.shape != (2, network.n_outputs):
        raise AssertionError(f"loaded network gives outputs of shape {outputs.shape}")
    if model.history is not None and len({len(v) for v in vars(model.history).values()
                                          if isinstance(v, list)}) > 1:
        raise AssertionError(f"history lists of different lengths: {model.history}")
    if model.optimizer is not None:  # the saved optimiser state must fit: one more step works
        try:
            mlpkit.train(network, X, np.zeros_like(outputs), optimizer=model.optimizer,
                         epochs=1, batch_size=2, seed=0)
        except mlpkit.TrainingDivergedError:
            pass


def prepare() -> None:
    """Make the base file and compile what training needs (numba) before -timeout counts."""
    test_one_input(base())


if __name__ == "__main__":
    main(sys.modules[__name__])
