"""Fuzz target for the model-file loader (mlpkit.io.model_file.decode): any bytes must either
load or raise ModelFileError."""

from __future__ import annotations

import atheris

with atheris.instrument_imports():
    import numpy as np

    import mlpkit
    from mlpkit.io import model_file as io

from _common import run


def target(data: bytes) -> None:
    try:
        io.decode(data)
    except io.ModelFileError:
        pass


def seeds() -> list[bytes]:
    net = mlpkit.mlp([3, 4, 2], activation="tanh", output_activation="softmax", seed=0)
    optimizer = mlpkit.Adam()
    mlpkit.train(net, np.eye(3), [0, 1, 0], loss="cross_entropy", optimizer=optimizer, epochs=1)
    valid = io.encode(net, {"class_names": ["a", "b"]}, optimizer=optimizer)
    return [valid, valid[:40], b"\x80\x04junk", b"PK\x03\x04", io.MAGIC + bytes(8)]


if __name__ == "__main__":
    run("model", target, seeds())
