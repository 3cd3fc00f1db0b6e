"""Optimiser updates recomputed from their formulas over several steps, and their validation.

Every test feeds the same sequence of gradients to mlpkit and to the formula written out here,
for a weight matrix W (decayed) and a bias vector b (not decayed by default).
"""

from __future__ import annotations

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import SGD, Adam, get_optimizer

N_STEPS = 5


@pytest.fixture
def setup(rng):
    """Start values of W (2, 3) and b (3,), and N_STEPS gradient pairs for them."""
    start = [rng.normal(size=(2, 3)), rng.normal(size=3)]
    grads = [[rng.normal(size=(2, 3)), rng.normal(size=3)] for _ in range(N_STEPS)]
    return start, grads


def run(optimizer, start, grads):
    """Apply ``optimizer`` to copies of ``start`` with the gradient sequence ``grads``;
    return the parameters after every step."""
    params = [p.copy() for p in start]
    buffers = [np.zeros_like(p) for p in params]
    trajectory = []
    for step_grads in grads:
        for buffer, grad in zip(buffers, step_grads, strict=True):
            buffer[...] = grad  # the network overwrites its gradient arrays in place
        optimizer.step(list(zip(params, buffers, strict=True)))
        trajectory.append([p.copy() for p in params])
    return trajectory


def assert_trajectories(actual, expected):
    for got, want in zip(actual, expected, strict=True):
        for a, e in zip(got, want, strict=True):
            np.testing.assert_allclose(a, e, rtol=1e-13, atol=1e-15)


def test_plain_sgd(setup):
    start, grads = setup
    eta = 0.3
    w = [p.copy() for p in start]
    expected = []
    for g in grads:
        w = [p - eta * gp for p, gp in zip(w, g, strict=True)]  # w ← w − η ∂E/∂w
        expected.append(w)
    assert_trajectories(run(SGD(eta), start, grads), expected)


def test_sgd_with_momentum(setup):
    start, grads = setup
    eta, alpha = 0.2, 0.9
    w, dw = [p.copy() for p in start], [np.zeros_like(p) for p in start]
    expected = []
    for g in grads:
        # Δw(t) = −η ∂E/∂w + α Δw(t−1);  w ← w + Δw(t)
        dw = [-eta * gp + alpha * d for gp, d in zip(g, dw, strict=True)]
        w = [p + d for p, d in zip(w, dw, strict=True)]
        expected.append(w)
    optimizer = SGD(eta, momentum=alpha)
    assert_trajectories(run(optimizer, start, grads), expected)
    assert_trajectories([optimizer.velocities], [dw])


def test_sgd_with_nesterov_momentum(setup):
    start, grads = setup
    eta, alpha = 0.2, 0.8
    w, v = [p.copy() for p in start], [np.zeros_like(p) for p in start]
    expected = []
    for g in grads:
        # v ← α v − η g;  w ← w + α v − η g  (the step is taken from the look-ahead point)
        v = [alpha * vp - eta * gp for vp, gp in zip(v, g, strict=True)]
        w = [p + alpha * vp - eta * gp for p, vp, gp in zip(w, v, g, strict=True)]
        expected.append(w)
    assert_trajectories(run(SGD(eta, momentum=alpha, nesterov=True), start, grads), expected)


@pytest.mark.parametrize("decay_biases", [False, True])
def test_weight_decay(setup, decay_biases):
    start, grads = setup
    eta, alpha, lam = 0.1, 0.5, 0.3
    w, dw = [p.copy() for p in start], [np.zeros_like(p) for p in start]
    expected = []
    for g in grads:
        # ∂/∂w of E + ½ λ ‖W‖²: g + λ w for the weight matrix; the bias only if asked
        g = [g[0] + lam * w[0], g[1] + lam * w[1] if decay_biases else g[1]]
        dw = [-eta * gp + alpha * d for gp, d in zip(g, dw, strict=True)]
        w = [p + d for p, d in zip(w, dw, strict=True)]
        expected.append(w)
    optimizer = SGD(eta, momentum=alpha, weight_decay=lam, decay_biases=decay_biases)
    assert_trajectories(run(optimizer, start, grads), expected)


def test_biases_are_not_decayed_by_default(setup):
    start, _ = setup
    zero = [[np.zeros((2, 3)), np.zeros(3)]] * 3
    final = run(SGD(0.5, weight_decay=0.2), start, zero)[-1]
    np.testing.assert_array_equal(final[1], start[1])  # b untouched
    np.testing.assert_allclose(final[0], start[0] * (1 - 0.5 * 0.2) ** 3, rtol=1e-14)  # W shrinks


def test_lecture_weight_decay_form(setup):
    # The lecture writes Δw = η δ x + α Δw(t−1) − λ' w; that is weight_decay = λ'/η here.
    start, grads = setup
    eta, lam_lecture = 0.25, 0.01
    w = start[0].copy()
    for g in grads:
        w = w - eta * g[0] - lam_lecture * w
    final = run(SGD(eta, weight_decay=lam_lecture / eta), start, grads)[-1]
    np.testing.assert_allclose(final[0], w, rtol=1e-13)


def test_l1(setup):
    start, grads = setup
    eta, l1 = 0.1, 0.05
    w = [p.copy() for p in start]
    expected = []
    for g in grads:
        # ∂/∂w of E + l1 ‖W‖₁: g + l1 sign(w), weights only
        w = [w[0] - eta * (g[0] + l1 * np.sign(w[0])), w[1] - eta * g[1]]
        expected.append(w)
    assert_trajectories(run(SGD(eta, l1=l1), start, grads), expected)


@pytest.mark.parametrize(
    ("beta1", "beta2", "epsilon", "weight_decay"), [(0.9, 0.999, 1e-8, 0.0), (0.5, 0.8, 1e-3, 0.1)]
)
def test_adam_with_bias_correction(setup, beta1, beta2, epsilon, weight_decay):
    start, grads = setup
    eta = 0.01
    w = [p.copy() for p in start]
    m = [np.zeros_like(p) for p in start]
    v = [np.zeros_like(p) for p in start]
    expected = []
    for t, g in enumerate(grads, start=1):
        g = [g[0] + weight_decay * w[0], g[1]]
        m = [beta1 * mp + (1 - beta1) * gp for mp, gp in zip(m, g, strict=True)]
        v = [beta2 * vp + (1 - beta2) * gp**2 for vp, gp in zip(v, g, strict=True)]
        m_hat = [mp / (1 - beta1**t) for mp in m]  # bias corrections
        v_hat = [vp / (1 - beta2**t) for vp in v]
        w = [
            p - eta * mh / (np.sqrt(vh) + epsilon)
            for p, mh, vh in zip(w, m_hat, v_hat, strict=True)
        ]
        expected.append(w)
    optimizer = Adam(eta, beta1=beta1, beta2=beta2, epsilon=epsilon, weight_decay=weight_decay)
    assert_trajectories(run(optimizer, start, grads), expected)
    assert optimizer.step_count == N_STEPS
    assert_trajectories([optimizer.first_moments, optimizer.second_moments], [m, v])


def test_adam_first_step_moves_every_weight_by_the_learning_rate(setup):
    # With m̂ = g and v̂ = g² after one step, the update is η g / (|g| + ε) ≈ η sign(g).
    start, grads = setup
    final = run(Adam(0.01), start, grads[:1])[-1]
    for p, s, g in zip(final, start, grads[0], strict=True):
        np.testing.assert_allclose(p - s, -0.01 * np.sign(g), rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda: Adam(0.01, weight_decay=0.01),
    ],
    ids=["sgd", "adam"],
)
def test_state_dict_resumes_exactly(setup, make):
    start, grads = setup
    straight = run(make(), start, grads)[-1]
    first = make()
    middle = run(first, start, grads[:3])[-1]
    second = make()
    second.load_state_dict(first.state_dict())
    resumed = run(second, middle, grads[3:])[-1]
    for a, b in zip(resumed, straight, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make", [lambda: SGD(0.1, momentum=0.9), lambda: Adam(0.01)], ids=["sgd", "adam"]
)
def test_reset_forgets_the_state(setup, make):
    start, grads = setup
    optimizer = make()
    run(optimizer, start, grads)
    optimizer.reset()
    fresh = run(make(), start, grads[:2])
    assert_trajectories(run(optimizer, start, grads[:2]), fresh)


def test_momentum_keeps_moving_on_zero_gradient(setup):
    start, grads = setup
    optimizer = SGD(0.1, momentum=0.5)
    before = run(optimizer, start, grads[:1])[-1]
    zero = [[np.zeros((2, 3)), np.zeros(3)]]
    after = run(optimizer, before, zero)[-1]
    for a, b, s in zip(after, before, start, strict=True):
        np.testing.assert_allclose(a - b, 0.5 * (b - s), rtol=1e-13)


def test_float32_parameters_stay_float32():
    net = mk.mlp([3, 4, 2], seed=0)
    net.backprop(np.ones((2, 3)), np.zeros((2, 2)))
    for optimizer in (SGD(0.1), SGD(0.1, momentum=0.9, weight_decay=0.1), Adam(0.01)):
        optimizer.step(net.parameters())
    for p, g in net.parameters():
        assert p.dtype == np.float32 and g.dtype == np.float32


# -- names and validation ----------------------------------------------------------------------


def test_get_optimizer():
    assert isinstance(get_optimizer(None), SGD)
    adam = get_optimizer("Adam", learning_rate=0.5)
    assert isinstance(adam, Adam) and adam.learning_rate == 0.5
    sgd = SGD(0.2)
    assert get_optimizer(sgd) is sgd
    with pytest.raises(ValueError, match=r"optimizer must be one of \['adam', 'sgd'\]"):
        get_optimizer("lbfgs")


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: SGD(0.0), ValueError, r"learning_rate must be a finite number in \(0.0, inf\]"),
        (lambda: SGD(-1), ValueError, r"learning_rate .*got -1.0"),
        (lambda: SGD(float("nan")), ValueError, r"learning_rate .*got nan"),
        (lambda: SGD("0.1"), TypeError, r"learning_rate must be a number, got str '0.1'"),
        (lambda: SGD(True), TypeError, r"learning_rate must be a number, got bool"),
        (lambda: SGD(0.1, momentum=1.0), ValueError, r"momentum must be .*\[0.0, 1.0\), got 1.0"),
        (lambda: SGD(0.1, momentum=-0.1), ValueError, r"momentum .*got -0.1"),
        (lambda: SGD(0.1, nesterov=True), ValueError, r"nesterov=True needs momentum > 0"),
        (lambda: SGD(0.1, weight_decay=-1e-3), ValueError, r"weight_decay .*got -0.001"),
        (lambda: SGD(0.1, l1=float("inf")), ValueError, r"l1 must be a finite number"),
        (lambda: Adam(beta1=1.0), ValueError, r"beta1 must be .*\[0.0, 1.0\), got 1.0"),
        (lambda: Adam(beta2=-0.5), ValueError, r"beta2 .*got -0.5"),
        (lambda: Adam(epsilon=0.0), ValueError, r"epsilon must be .*\(0.0, inf\], got 0.0"),
    ],
)
def test_bad_hyper_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_configs_round_trip():
    sgd = SGD(0.2, momentum=0.5, nesterov=True, weight_decay=0.1, l1=0.01, decay_biases=True)
    assert SGD(**sgd.get_config()).get_config() == sgd.get_config()
    adam = Adam(0.02, beta1=0.8, beta2=0.99, epsilon=1e-6, weight_decay=0.1)
    assert Adam(**adam.get_config()).get_config() == adam.get_config()
    assert repr(sgd).startswith("SGD(learning_rate=0.2, momentum=0.5")
