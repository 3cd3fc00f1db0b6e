"""ONNX export: onnxruntime runs the exported file and gives network.forward's outputs (float32,
relative 1e-5) for every activation and output the core has; onnx.checker accepts the graph."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import mlpkit
from mlpkit import Dense, Dropout, Network, mlp

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "softmax", "exp", "step"]


def run_onnx(path, X: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (out,) = session.run(["output"], {"input": X.astype(np.float32)})
    return out


@pytest.mark.parametrize("output", ACTIVATIONS)
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
def test_onnxruntime_equals_forward(tmp_path, rng, hidden, output):
    seed = int(rng.integers(1 << 30))
    sizes = [5, 7, 6, 1 if output in ("sigmoid", "step") and seed % 2 else 3]
    network = mlp(sizes, activation=hidden, output_activation=output, init="glorot", seed=seed)
    for layer in network.dense_layers:  # biases drawn too, so that Add is exercised
        layer.biases = rng.normal(0, 0.5, layer.n_outputs).astype(np.float32)
    path = mlpkit.export_onnx(network, tmp_path / "net.onnx")
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    X = rng.normal(0, 2, (64, 5)).astype(np.float32)
    expected = network.forward(X)
    got = run_onnx(path, X)
    assert got.shape == expected.shape and got.dtype == np.float32
    if output == "step":  # 0/1: equal except where z sits within rounding of 0
        assert np.mean(got == expected) >= 0.98
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_no_bias_dropout_and_float64_networks(tmp_path, rng):
    network = Network([Dense(4, 8, "relu", bias=False, seed=1, dtype=np.float64), Dropout(0.5),
                       Dense(8, 2, "softmax", seed=2, dtype=np.float64)])
    network.metadata["class_names"] = ["cat", "dog"]
    path = mlpkit.export_onnx(network, tmp_path / "net.onnx")
    X = rng.normal(size=(10, 4))
    np.testing.assert_allclose(run_onnx(path, X), network.forward(X), rtol=1e-5, atol=1e-6)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["class_names"] == "cat,dog"


def test_sklearn_poisson_regressor_exports_with_exp(tmp_path, rng):
    # MLPRegressor(loss="poisson") ends in the exp activation: ONNX's Exp gives its predictions
    pytest.importorskip("sklearn")
    from mlpkit.sklearn import MLPRegressor

    X = rng.normal(0, 0.5, (80, 3))
    y = rng.poisson(np.exp(X.sum(axis=1)))
    model = MLPRegressor(hidden_layer_sizes=(6,), loss="poisson", solver="lbfgs", max_iter=500,
                         random_state=0).fit(X, y)
    network = model.network_
    assert network.output_layer.activation.name == "exp"
    path = mlpkit.export_onnx(network, tmp_path / "poisson.onnx")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert "Exp" in ops
    got = run_onnx(path, X)
    assert np.all(got > 0)
    np.testing.assert_allclose(got.ravel(), model.predict(X), rtol=1e-5, atol=1e-6)


def test_unknown_activation_is_refused(tmp_path):
    from mlpkit.activations import Activation

    class Swish(Activation):
        name = "swish"

        def value(self, z, out=None):
            return z / (1 + np.exp(-z))

    network = mlp([2, 2], activation="sigmoid")
    network.output_layer.activation = Swish()
    with pytest.raises(ValueError, match="activation 'swish', which ONNX export does not support"):
        mlpkit.export_onnx(network, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_importing_mlpkit_does_not_import_onnx():
    code = "import sys, mlpkit; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
