"""Export a network to ONNX, so that any ONNX runtime can run it without mlpkit.

Each Dense layer becomes ``MatMul`` (inputs are rows, weights (n_inputs, n_outputs), as in
mlpkit), ``Add`` of the biases and the activation's operator; Dropout layers are the identity
at prediction time and are left out. Needs the optional ``onnx`` package
(``pip install "mlpkit[onnx]"``); mlpkit's core never imports it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..layers import Dense
from ..network import Network

__all__ = ["ONNX_OPSET", "export_onnx", "to_onnx"]

#: The ONNX operator set the graph is written for (Softmax on the last axis, GreaterOrEqual).
ONNX_OPSET = 17

#: Activations by name and the ONNX operator that computes them.
_OPERATORS = {"identity": None, "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu",
              "leaky_relu": "LeakyRelu", "softmax": "Softmax", "exp": "Exp",
              "step": "GreaterOrEqual"}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:
        raise ImportError('ONNX export needs the onnx package: pip install "mlpkit[onnx]"') from exc
    return onnx


def _activation_nodes(onnx: Any, layer: Dense, i: int, z: str,
                      initializers: list) -> tuple[list, str]:  # fmt: skip
    """Nodes computing the activation of ``z`` and the name of their output."""
    helper = onnx.helper
    name = layer.activation.name
    if name not in _OPERATORS:
        raise ValueError(f"network: layer {i + 1} has the activation {name!r}, which ONNX "
                         f"export does not support (supported: {', '.join(_OPERATORS)})")
    out = f"a{i}"
    if name == "identity":
        return [helper.make_node("Identity", [z], [out], name=f"identity{i}")], out
    if name == "leaky_relu":
        alpha = float(getattr(layer.activation, "negative_slope", 0.01))
        return [helper.make_node("LeakyRelu", [z], [out], alpha=alpha, name=f"leaky{i}")], out
    if name == "softmax":
        return [helper.make_node("Softmax", [z], [out], axis=-1, name=f"softmax{i}")], out
    if name == "step":  # Heaviside: 1 where z >= 0, else 0
        zero = f"zero{i}"
        initializers.append(onnx.numpy_helper.from_array(np.zeros((), np.float32), zero))
        return [helper.make_node("GreaterOrEqual", [z, zero], [f"ge{i}"], name=f"ge{i}"),
                helper.make_node("Cast", [f"ge{i}"], [out], to=onnx.TensorProto.FLOAT,
                                 name=f"step{i}")], out  # fmt: skip
    return [helper.make_node(_OPERATORS[name], [z], [out], name=f"{name}{i}")], out


def to_onnx(network: Network, *, name: str = "mlpkit") -> Any:
    """The network as an ``onnx.ModelProto`` (float32 input ``"input"`` of shape
    (batch, n_inputs), output ``"output"`` of shape (batch, n_outputs), as
    :meth:`Network.forward`), checked with ``onnx.checker``."""
    onnx = _onnx()
    if not isinstance(network, Network):
        raise TypeError(f"network must be a mlpkit.Network, got {type(network).__name__}")
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    nodes: list = []
    initializers: list = []
    current = "input"
    for i, layer in enumerate(network.dense_layers):
        w = f"W{i}"
        initializers.append(numpy_helper.from_array(layer.weights.astype(np.float32), w))
        nodes.append(helper.make_node("MatMul", [current, w], [f"xw{i}"], name=f"matmul{i}"))
        z = f"xw{i}"
        if layer.biases is not None:
            initializers.append(numpy_helper.from_array(layer.biases.astype(np.float32), f"b{i}"))
            nodes.append(helper.make_node("Add", [z, f"b{i}"], [f"z{i}"], name=f"add{i}"))
            z = f"z{i}"
        new, current = _activation_nodes(onnx, layer, i, z, initializers)
        nodes += new
    nodes.append(helper.make_node("Identity", [current], ["output"], name="output"))
    float32 = onnx.TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", float32, ["batch", network.n_inputs])],
        [helper.make_tensor_value_info("output", float32, ["batch", network.n_outputs])],
        initializer=initializers,
    )  # fmt: skip
    model = helper.make_model(graph, producer_name="mlpkit",
                              opset_imports=[helper.make_opsetid("", ONNX_OPSET)])  # fmt: skip
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases since 1.10
    classes = network.metadata.get("class_names")
    if classes:
        helper.set_model_props(model, {"class_names": ",".join(map(str, classes))})
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(network: Network, path: str | os.PathLike[str]) -> Path:
    """Write ``network`` as an ONNX file (atomically); returns ``path``.

    The graph computes :meth:`Network.forward` in float32: input ``"input"`` of shape
    (batch, n_inputs), output ``"output"`` of shape (batch, n_outputs). Every activation of
    the core is supported (identity, sigmoid, tanh, ReLU, leaky ReLU, softmax, the exponential
    of Poisson regression as ``Exp``, and the step function as ``GreaterOrEqual`` + ``Cast``);
    any other activation raises ValueError. The
    inputs must be scaled as in training (``network.metadata["input"]``). Class names, if the
    network has them, are kept in the model's metadata properties.

    Raises
    ------
    ImportError
        If the ``onnx`` package is not installed (``pip install "mlpkit[onnx]"``).
    """
    from .model_file import write_bytes_atomic

    model = to_onnx(network)
    return write_bytes_atomic(path, model.SerializeToString(), what="ONNX model")
