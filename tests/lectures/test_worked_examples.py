"""The lectures' worked examples, reproduced to the digits they print.

Each number is compared with half a unit in its last printed place as the tolerance; the
arithmetic that produces it is written out in the comments, as the decks do.
"""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import SGD, Dense, Network, SquaredError


def assert_printed(value: float, printed: str) -> None:
    """``value`` agrees with the decimal ``printed`` to its printed number of places."""
    places = len(printed.split(".")[1]) if "." in printed else 0
    assert abs(value - float(printed)) <= 0.5 * 10.0**-places, f"{value!r} is not {printed}"


# -- Mazur's 2-2-2 step-by-step example (lecture 004, slides 12-33) ----------------------------


def mazur_network() -> Network:
    # Weights are (n_inputs, n_outputs): row i holds the weights out of input i.
    # w1: i1→h1, w2: i2→h1, w3: i1→h2, w4: i2→h2;  w5: h1→o1, w6: h2→o1, w7: h1→o2, w8: h2→o2
    hidden = Dense(2, 2, "sigmoid", dtype=np.float64)
    hidden.weights = [[0.15, 0.25], [0.20, 0.30]]  # [[w1, w3], [w2, w4]]
    hidden.biases = [0.35, 0.35]  # b1
    output = Dense(2, 2, "sigmoid", dtype=np.float64)
    output.weights = [[0.40, 0.50], [0.45, 0.55]]  # [[w5, w7], [w6, w8]]
    output.biases = [0.60, 0.60]  # b2
    return Network([hidden, output])


MAZUR_X, MAZUR_T = [[0.05, 0.10]], [[0.01, 0.99]]


def test_mazur_forward_pass():
    net = mazur_network()
    out = net.forward(MAZUR_X)[0]
    hidden = net.dense_layers[0]
    # net_h1 = w1 i1 + w2 i2 + b1 = 0.15·0.05 + 0.20·0.10 + 0.35 = 0.3775
    assert_printed(hidden.z[0, 0], "0.3775")
    # out_h1 = 1 / (1 + e^−0.3775) = 0.593269992;  out_h2 = σ(0.3925) = 0.596884378
    assert_printed(hidden.a[0, 0], "0.593269992")
    assert_printed(hidden.a[0, 1], "0.596884378")
    # net_o1 = w5 out_h1 + w6 out_h2 + b2 = 0.40·0.593269992 + 0.45·0.596884378 + 0.60
    #        = 1.105905967;  out_o1 = σ(1.105905967) = 0.75136507
    assert_printed(net.output_layer.z[0, 0], "1.105905967")
    assert_printed(out[0], "0.75136507")
    # out_o2 = σ(0.50·0.593269992 + 0.55·0.596884378 + 0.60) = σ(1.224921404) = 0.772928465
    assert_printed(out[1], "0.772928465")
    # (The deck's slides 15-18 print these to four places, cut rather than rounded in places:
    # 0.5932 for 0.593270. The nine-place values above are the reference.)


def test_mazur_total_error():
    # E = ½(t1 − o1)² + ½(t2 − o2)² = ½(0.01 − 0.75136507)² + ½(0.99 − 0.772928465)²
    #   = 0.274811083 + 0.023560026 = 0.298371109
    # mlpkit's default squared error is ½ Σ over the outputs, averaged over the (one) sample.
    net = mazur_network()
    assert_printed(net.backprop(MAZUR_X, MAZUR_T, SquaredError()), "0.298371109")
    assert_printed(SquaredError().value(net.forward(MAZUR_X), np.array(MAZUR_T)), "0.298371109")


def test_mazur_one_sgd_step():
    net = mazur_network()
    hidden, output = net.dense_layers
    net.backprop(MAZUR_X, MAZUR_T, SquaredError())
    # ∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5
    #        = (out_o1 − t1) · out_o1(1 − out_o1) · out_h1
    #        = 0.74136507 · 0.186815602 · 0.593269992 = 0.082167041  (the deck cuts it to 0.0821)
    assert_printed(output.grad_weights[0, 0], "0.082167041")
    # One step with η = 0.5; the example holds the biases fixed, so compare weights only
    # (every gradient is taken before any weight changes, as in the example).
    SGD(learning_rate=0.5).step(net.parameters())
    # w5⁺ = 0.40 − 0.5 · 0.082167041 = 0.35891648  (the deck: 0.3589)
    assert_printed(output.weights[0, 0], "0.35891648")
    assert_printed(output.weights[0, 0], "0.3589")
    # w6⁺ = 0.45 − 0.5 · (0.74136507 · 0.186815602 · 0.596884378) = 0.408666186
    assert_printed(output.weights[1, 0], "0.408666186")
    # w7⁺ = 0.50 − 0.5 · (−0.217071535 · 0.175510053 · 0.593269992) = 0.511301270
    assert_printed(output.weights[0, 1], "0.511301270")
    # w8⁺ = 0.55 − 0.5 · (−0.217071535 · 0.175510053 · 0.596884378) = 0.561370121
    assert_printed(output.weights[1, 1], "0.561370121")
    # Hidden layer, with the *old* w5..w8:
    # ∂E/∂out_h1 = δ_o1 w5 + δ_o2 w7 = 0.138498562 · 0.40 + (−0.038098236) · 0.50 = 0.036350306
    # ∂E/∂w1 = 0.036350306 · out_h1(1 − out_h1) · i1 = 0.036350306 · 0.241300709 · 0.05
    #        = 0.000438568;  w1⁺ = 0.15 − 0.5 · 0.000438568 = 0.149780716
    assert_printed(hidden.weights[0, 0], "0.149780716")
    # ∂E/∂w2 = 0.036350306 · 0.241300709 · 0.10 = 0.000877135;  w2⁺ = 0.19956143
    assert_printed(hidden.weights[1, 0], "0.19956143")
    # ∂E/∂out_h2 = δ_o1 w6 + δ_o2 w8 = 0.138498562 · 0.45 − 0.038098236 · 0.55 = 0.041370323
    # ∂E/∂w3 = 0.041370323 · out_h2(1 − out_h2) · i1 = 0.041370323 · 0.240613417 · 0.05
    #        = 0.000497713;  w3⁺ = 0.25 − 0.5 · 0.000497713 = 0.24975114
    assert_printed(hidden.weights[0, 1], "0.24975114")
    # ∂E/∂w4 = 0.041370323 · 0.240613417 · 0.10 = 0.000995425;  w4⁺ = 0.29950229
    assert_printed(hidden.weights[1, 1], "0.29950229")


# -- Lecture 001 "Simple Example": forward propagation with a constant input 1 -----------------


def test_forward_propagation_simple_example():
    # The first input is the constant 1 (it plays the bias); no Dense biases.
    # Hidden unit 1 weights (0.1, 0.2, 0.1), hidden unit 2 weights (−0.2, 0.3, −0.4), as columns.
    hidden = Dense(3, 2, "sigmoid", bias=False, dtype=np.float64)
    hidden.weights = [[0.1, -0.2], [0.2, 0.3], [0.1, -0.4]]
    # o1 = σ(−0.2 h1 − 0.1 h2), o2 = σ(0.1 h1 − 0.5 h2)
    output = Dense(2, 2, "sigmoid", bias=False, dtype=np.float64)
    output.weights = [[-0.2, 0.1], [-0.1, -0.5]]
    net = Network([hidden, output])
    out = net.forward([[1.0, 0.4, 0.1]])[0]
    # h1 = σ((.1)(1) + (.2)(.4) + (.1)(.1)) = σ(.19) = .547
    assert_printed(hidden.z[0, 0], ".19")
    assert_printed(hidden.a[0, 0], ".547")
    # h2 = σ((−.2)(1) + (.3)(.4) + (−.4)(.1)) = σ(−.12) = .470
    assert_printed(hidden.z[0, 1], "-.12")
    assert_printed(hidden.a[0, 1], ".470")
    # o1 = σ((−.2)(.547) + (−.1)(.470)) = σ(−.1564) = .461. (The deck multiplies the rounded
    # h; with the exact h, z = −.15648, so z is compared to three places here.)
    assert_printed(output.z[0, 0], "-.156")
    assert_printed(out[0], ".461")
    # o2 = σ((.1)(.547) + (−.5)(.470)) = σ(−.180) = .455
    assert_printed(output.z[0, 1], "-.180")
    assert_printed(out[1], ".455")


# -- Lecture 001 backprop example with momentum (η = 0.2, α = 0.9) -----------------------------


def momentum_network() -> Network:
    # 2-2-1 sigmoid network; every weight and bias (the lecture's w_j0, w_k0) is 0.1.
    hidden = Dense(2, 2, "sigmoid", dtype=np.float64)
    hidden.weights, hidden.biases = np.full((2, 2), 0.1), np.full(2, 0.1)
    output = Dense(2, 1, "sigmoid", dtype=np.float64)
    output.weights, output.biases = np.full((2, 1), 0.1), np.full(1, 0.1)
    return Network([hidden, output])


# Training set: (1, 0) with label .9, then (0, 1) with label −.3
MOMENTUM_X = np.array([[1.0, 0.0], [0.0, 1.0]])
MOMENTUM_T = np.array([[0.9], [-0.3]])


def test_momentum_example_first_step():
    net = momentum_network()
    hidden, output = net.dense_layers
    optimizer = SGD(learning_rate=0.2, momentum=0.9)
    net.backprop(MOMENTUM_X[:1], MOMENTUM_T[:1], SquaredError())  # E = ½ (t − o)²
    # h1 = h2 = σ((1)(.1) + (1)(.1) + (0)(.1)) = σ(.2) = .55
    assert_printed(hidden.a[0, 0], ".55")
    assert_printed(hidden.a[0, 1], ".55")
    # o = σ(.1 + (.1)(.55) + (.1)(.55)) = σ(.21) = .552
    assert_printed(output.a[0, 0], ".552")
    # The lecture's δ = o(1 − o)(t − o) is −∂E/∂z; mlpkit's δ is ∂E/∂z (the opposite sign).
    # For one sample the bias gradient ∂E/∂b equals mlpkit's δ, so −grad_biases is the lecture's:
    # δ_k=1 = .552(.448)(.9 − .552) = .086
    assert_printed(-output.grad_biases[0], ".086")
    # δ_j = h_j(1 − h_j) w_kj δ_k = (.55)(.45)(.1)(.086) = .002
    assert_printed(-hidden.grad_biases[0], ".002")
    assert_printed(-hidden.grad_biases[1], ".002")

    optimizer.step(net.parameters())
    # Δw_k0 = (.2)(.086)(1) + (.9)(0) = .0172;  w_k0 = .1 + .0172 = .1172
    assert_printed(output.biases[0], ".1172")
    # Δw_kj = (.2)(.086)(.55) + (.9)(0) = .0095;  w_kj = .1 + .0095 = .1095
    assert_printed(output.weights[0, 0], ".1095")
    assert_printed(output.weights[1, 0], ".1095")
    # Δw_j0 = (.2)(.002)(1) = .0004;  w_j0 = .1004 (both hidden units)
    np.testing.assert_allclose(hidden.biases, 0.1004, atol=0.00005)
    # Δw_j1 = (.2)(.002)(x1 = 1) = .0004;  w_j1 = .1004
    np.testing.assert_allclose(hidden.weights[0], 0.1004, atol=0.00005)
    # Δw_j2 = (.2)(.002)(x2 = 0) = 0;  w_j2 = .1 exactly
    np.testing.assert_array_equal(hidden.weights[1], 0.1)


def test_momentum_example_second_step_online():
    """Online training over both examples: the second update carries α Δw(t−1).

    The deck stops at "time step 2, so momentum term will be nonzero"; the expected numbers
    are the lecture's formulas evaluated here step by step, independently of mlpkit.
    """
    net = momentum_network()
    mk.train(
        net,
        MOMENTUM_X,
        MOMENTUM_T,
        loss=SquaredError(),
        optimizer=SGD(learning_rate=0.2, momentum=0.9),
        epochs=1,
        batch_size=1,
        shuffle=False,
    )

    def sigmoid(z):
        return 1.0 / (1.0 + np.exp(-z))

    eta, alpha = 0.2, 0.9
    # Lecture layout: W_hidden[j, i] with i = 0 the bias input; W_output[i] likewise.
    w_hidden, w_output = np.full((2, 3), 0.1), np.full(3, 0.1)
    dw_hidden, dw_output = np.zeros((2, 3)), np.zeros(3)
    for x, t in zip(MOMENTUM_X, MOMENTUM_T[:, 0], strict=True):
        x1 = np.concatenate([[1.0], x])
        h = sigmoid(w_hidden @ x1)
        h1 = np.concatenate([[1.0], h])
        o = sigmoid(w_output @ h1)
        delta_k = o * (1 - o) * (t - o)  # δ_k = o(1 − o)(t − o)
        delta_j = h * (1 - h) * (w_output[1:] * delta_k)  # δ_j = h(1 − h) w_kj δ_k
        dw_output = eta * delta_k * h1 + alpha * dw_output  # Δw(t) = η δ h + α Δw(t−1)
        dw_hidden = eta * np.outer(delta_j, x1) + alpha * dw_hidden
        w_output = w_output + dw_output
        w_hidden = w_hidden + dw_hidden
    hidden, output = net.dense_layers
    np.testing.assert_allclose(output.biases, w_output[:1], rtol=1e-14)
    np.testing.assert_allclose(output.weights[:, 0], w_output[1:], rtol=1e-14)
    np.testing.assert_allclose(hidden.biases, w_hidden[:, 0], rtol=1e-14)
    np.testing.assert_allclose(hidden.weights, w_hidden[:, 1:].T, rtol=1e-14)
    # Step 2 presents x = (0, 1): the first input's weights get no gradient term, so they move
    # by the momentum term alone, Δw(2) = α Δw(1), i.e. w = .1 + (1 + α) Δw(1).
    after_first = momentum_network()
    after_first.backprop(MOMENTUM_X[:1], MOMENTUM_T[:1], SquaredError())
    SGD(learning_rate=0.2, momentum=0.9).step(after_first.parameters())
    first_change = after_first.dense_layers[0].weights[0] - 0.1
    np.testing.assert_allclose(hidden.weights[0] - 0.1, (1 + alpha) * first_change, rtol=1e-12)


# -- XOR (lecture 004, slides 4-7) -------------------------------------------------------------

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_T = np.array([0, 1, 1, 0])


def test_xor_with_hand_set_step_neurons():
    # The deck's output neuron sees x0, x1 and the AND neuron. A Dense network has no such skip
    # connections, so two relay step units copy x0 and x1 (weight 1, threshold 1) next to the
    # AND unit (weights 1, 1, threshold 1.2). A threshold θ is the bias −θ and step(z) = 1
    # where z >= 0, i.e. where the weighted sum reaches θ.
    hidden = Dense(2, 3, "step", dtype=np.float64)
    hidden.weights = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    hidden.biases = [-1.0, -1.0, -1.2]
    # Output: weights 1, 1 and −2 from the AND unit, threshold 0.6.
    output = Dense(3, 1, "step", dtype=np.float64)
    output.weights = [[1.0], [1.0], [-2.0]]
    output.biases = [-0.6]
    net = Network([hidden, output])
    out = net.forward(XOR_X)[:, 0]
    # AND: 1·0+1·0 < 1.2, 1·0+1·1 < 1.2, 1·1+1·0 < 1.2, 1·1+1·1 >= 1.2
    np.testing.assert_array_equal(hidden.a[:, 2], [0, 0, 0, 1])
    # XOR: 0 < .6, 1 >= .6, 1 >= .6, 1·1+1·1−2·1 = 0 < .6
    np.testing.assert_array_equal(output.z[:, 0] + 0.6, [0, 1, 1, 0])
    np.testing.assert_array_equal(out, XOR_T)
    np.testing.assert_array_equal(net.predict(XOR_X), XOR_T)


@pytest.mark.parametrize("n_hidden", [2, 3])
def test_xor_learned_by_backpropagation(n_hidden):
    net = mk.mlp([2, n_hidden, 1], activation="sigmoid", init="glorot", seed=3, dtype=np.float64)
    history = mk.train(
        net,
        XOR_X,
        XOR_T,
        optimizer=SGD(2.0, momentum=0.9),
        epochs=3000,
        batch_size=None,
        loss_goal=0.01,
        seed=0,
    )
    assert history.stop_reason == "loss_goal"
    # The loss of the trained network, recomputed: ½ (t − o)² averaged over the 4 patterns
    final = SquaredError().value(net.forward(XOR_X), XOR_T.reshape(-1, 1).astype(float))
    assert final < 0.01
    np.testing.assert_array_equal(net.predict(XOR_X), XOR_T)
