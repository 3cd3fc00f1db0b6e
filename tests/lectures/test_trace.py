"""The one-step trace: numbers equal backprop and the optimiser, the update split adds up."""

import copy

import numpy as np
import pytest

from mlpkit import SGD, Adam, Dense, Network, mlp
from mlpkit.lectures.trace import trace_step


def mazur_network():
    hidden = Dense(2, 2, dtype=np.float64)
    hidden.weights, hidden.biases = [[0.15, 0.25], [0.20, 0.30]], [0.35, 0.35]
    output = Dense(2, 2, dtype=np.float64)
    output.weights, output.biases = [[0.40, 0.50], [0.45, 0.55]], [0.60, 0.60]
    return Network([hidden, output])


X1, T1 = [[0.05, 0.10]], [[0.01, 0.99]]


def test_trace_prints_the_mazur_numbers():
    trace = trace_step(mazur_network(), X1, T1, "squared_error", SGD(learning_rate=0.5))
    text = trace.to_text()
    for number in [
        "0.593269992",
        "0.75136507",
        "0.772928465",
        "0.298371109",
        "0.35891648",
        "0.408666186",
        "0.51130127",
        "0.561370121",
        "0.149780716",
    ]:
        assert number in text
    assert "δ = ∂E/∂z" in text and "opposite sign" in text
    for equation in ["BP1", "BP2", "BP3", "BP4", "−η ∂E/∂w", "α Δw(t−1)"]:
        assert equation in text


def test_trace_does_not_change_network_or_optimizer_unless_applied():
    network = mazur_network()
    optimizer = SGD(learning_rate=0.5, momentum=0.9)
    before = network.get_weights()
    trace = trace_step(network, X1, T1, "squared_error", optimizer)
    for old, new in zip(before, network.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert optimizer.velocities is None and not trace.applied
    trace = trace_step(network, X1, T1, "squared_error", optimizer, apply=True)
    after = [p.after for layer in trace.layers for p in layer.parameters]
    for expected, new in zip(after, network.get_weights(), strict=True):
        np.testing.assert_array_equal(expected, new)
    assert optimizer.velocities is not None


def test_numbers_match_backprop_and_a_real_step():
    rng = np.random.default_rng(1)
    network = mlp(
        [3, 4, 2], activation="tanh", output_activation="sigmoid", seed=2, dtype=np.float64
    )
    X, T = rng.random((5, 3)), rng.random((5, 2))
    reference = copy.deepcopy(network)
    optimizer = SGD(learning_rate=0.3)
    trace = trace_step(network, X, T, "squared_error", optimizer)
    reference.backprop(X, T, "squared_error")
    for layer, ref in zip(trace.layers, reference.dense_layers, strict=True):
        np.testing.assert_allclose(layer.z, ref.z)
        np.testing.assert_allclose(layer.a, ref.a)
        np.testing.assert_allclose(layer.parameters[0].gradient, ref.grad_weights)
        np.testing.assert_allclose(layer.parameters[1].gradient, ref.grad_biases)
        # BP4 and BP3 from the traced δ
        np.testing.assert_allclose(ref.a_prev.T @ layer.delta, ref.grad_weights)
        np.testing.assert_allclose(layer.delta.sum(axis=0), ref.grad_biases)
    SGD(learning_rate=0.3).step(reference.parameters())
    after = [p.after for layer in trace.layers for p in layer.parameters]
    for expected, new in zip(after, reference.get_weights(), strict=True):
        np.testing.assert_allclose(expected, new)


def test_split_into_gradient_momentum_and_decay_terms():
    network = mazur_network()
    optimizer = SGD(learning_rate=0.5, momentum=0.9, weight_decay=0.1)
    trace_step(network, X1, T1, "squared_error", optimizer, apply=True)  # Δw(1) is now non-zero
    velocities = [v.copy() for v in optimizer.velocities]
    trace = trace_step(network, X1, T1, "squared_error", optimizer)
    params = [p for layer in trace.layers for p in layer.parameters]
    for p, velocity in zip(params, velocities, strict=True):
        assert set(p.terms) == {"gradient", "momentum", "weight decay"}
        np.testing.assert_allclose(p.terms["gradient"], -0.5 * p.gradient)
        np.testing.assert_allclose(p.terms["momentum"], 0.9 * velocity)
        decay = -0.5 * 0.1 * p.before if p.before.ndim == 2 else np.zeros_like(p.before)
        np.testing.assert_allclose(p.terms["weight decay"], decay)
        np.testing.assert_allclose(sum(p.terms.values()), p.update, atol=1e-12)
        np.testing.assert_allclose(p.before + p.update, p.after, atol=1e-12)
        assert np.any(p.terms["momentum"] != 0)


def test_nesterov_split_adds_up():
    network = mazur_network()
    optimizer = SGD(learning_rate=0.5, momentum=0.5, nesterov=True)
    trace_step(network, X1, T1, "squared_error", optimizer, apply=True)
    trace = trace_step(network, X1, T1, "squared_error", optimizer)
    for p in (p for layer in trace.layers for p in layer.parameters):
        assert "momentum" in p.terms
        np.testing.assert_allclose(sum(p.terms.values()), p.update, atol=1e-12)


def test_adam_split_adds_up():
    network = mazur_network()
    optimizer = Adam(learning_rate=0.01, weight_decay=0.01)
    trace_step(network, X1, T1, "squared_error", optimizer, apply=True)
    trace = trace_step(network, X1, T1, "squared_error", optimizer)
    for p in (p for layer in trace.layers for p in layer.parameters):
        assert set(p.terms) == {"adaptive gradient", "weight decay"}
        np.testing.assert_allclose(sum(p.terms.values()), p.update, atol=1e-12)


def test_markdown_has_tables_and_batches_show_samples():
    network = mazur_network()
    markdown = trace_step(network, [[0.05, 0.1], [0.2, 0.3]], [[0.01, 0.99], [1, 0]]).to_markdown()
    assert "| --- |" in markdown and "### Layer 2 weights" in markdown
    assert "sample 2, unit 1" in markdown
    assert "-0 " not in markdown


def test_validation():
    network = mazur_network()
    with pytest.raises(TypeError, match=r"network must be a mlpkit\.Network"):
        trace_step("net", X1, T1)
    with pytest.raises(ValueError, match="same number of samples"):
        trace_step(network, [[0.1, 0.2], [0.3, 0.4]], T1)
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 2\)"):
        trace_step(network, [[0.1, 0.2, 0.3]], T1)


def test_cli_trace(capsys):
    from mlpkit.cli.main import main

    args = ["trace", "--input", "0.05,0.10", "--target", "0.01,0.99", "--sizes", "2-3-2"]
    assert main([*args, "--markdown", "--momentum", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "### Layer 2 weights" in out and "α Δw(t−1)" in out
    assert main(["trace", "--input", "1,x", "--target", "1"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def softmax_case(seed: int = 0):
    network = mlp([3, 4, 3], activation="tanh", output_activation="softmax", init="normal",
                  seed=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    return network, rng.normal(size=(4, 3)), rng.integers(0, 3, 4)


def test_softmax_with_cross_entropy_shows_a_minus_t():
    network, X, labels = softmax_case()
    trace = trace_step(network, X, labels, "cross_entropy", SGD(learning_rate=0.1))
    output = trace.layers[-1]
    t = np.eye(3)[labels]
    # what softmax + cross-entropy really does: δ^L = (a − t) / n
    np.testing.assert_allclose(output.delta, (output.a - t) / 4, rtol=1e-12, atol=1e-15)
    assert output.delta_equation.startswith("(a − t) / n")
    assert "σ'" not in output.delta_equation
    assert output.activation_equation == "a = e^(z_j) / Σ_k e^(z_k)"
    for text in (trace.to_text(), trace.to_markdown()):
        assert "δ = (a − t) / n (BP1: softmax + cross-entropy" in text
        assert "Softmax is not element-wise" in text and "a_k (1[k = j] − a_j)" in text
    # the hidden tanh layer keeps the element-wise formula; no softmax note without softmax
    assert trace.layers[0].delta_equation == "(δ_next W_nextᵀ) ⊙ σ'(z) (BP2)"
    sigmoid = mlp([3, 2], seed=0, dtype=np.float64)
    assert "Softmax" not in trace_step(sigmoid, X, np.ones((4, 2))).to_text()


def test_softmax_with_another_loss_shows_the_jacobian_product():
    network, X, labels = softmax_case(1)
    T = np.eye(3)[labels]
    trace = trace_step(network, X, T, "squared_error", SGD(learning_rate=0.1))
    output = trace.layers[-1]
    a, g = output.a, (output.a - T) / 4  # g = ∂E/∂a for E = ½ Σ (a − t)², batch mean
    jacobian = a * (g - np.sum(g * a, axis=1, keepdims=True))
    np.testing.assert_allclose(output.delta, jacobian, rtol=1e-12, atol=1e-15)
    # the element-wise formula σ'(z) = a (1 − a) that the trace used to print is wrong here
    assert not np.allclose(output.delta, g * a * (1 - a))
    assert output.delta_equation == (
        "a ⊙ (g − Σ_j g_j a_j), g = ∂E/∂a (softmax Jacobian; BP1)"
    )
    assert output.delta_equation in trace.to_markdown()


def test_a_hidden_softmax_layer_shows_the_jacobian_product():
    hidden = Dense(2, 3, "softmax", init="normal", seed=0, dtype=np.float64)
    output = Dense(3, 1, "identity", init="normal", seed=1, dtype=np.float64)
    network = Network([hidden, output])
    X, T = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([[1.0], [-1.0]])
    trace = trace_step(network, X, T, "squared_error")
    layer = trace.layers[0]
    g = trace.layers[1].delta @ output.weights.T
    np.testing.assert_allclose(
        layer.delta, layer.a * (g - np.sum(g * layer.a, axis=1, keepdims=True)), rtol=1e-12
    )
    assert layer.delta_equation == (
        "a ⊙ (g − Σ_j g_j a_j), g = δ_next W_nextᵀ (softmax Jacobian; BP2)"
    )
