"""The compiled online / small-batch epoch (mlpkit.fast.online) against the plain core, batch by
batch through the core API only. No timings here."""

from __future__ import annotations

import numpy as np
import pytest

from mlpkit import SGD, Adam, mlp
from mlpkit.layers import Dense
from mlpkit.losses import BinaryCrossEntropy, CrossEntropy, SquaredError
from mlpkit.network import Network

pytest.importorskip("numba")
online = pytest.importorskip("mlpkit.fast.online")
if online._kernel() is None:  # MLPKIT_NUMBA=0
    pytest.skip("the compiled kernels are switched off", allow_module_level=True)

OnlineEpoch = online.OnlineEpoch
online_kernel = online.k

HIDDEN = ["identity", "sigmoid", "tanh", "relu"]
# (loss, output activation): squared error in its ½/sum forms after each element-wise output,
# and the two canonical cross-entropy pairs
OUTPUTS = {
    "se-half-mean-sigmoid": (lambda: SquaredError(), "sigmoid"),
    "se-full-sum-identity": (lambda: SquaredError(half=False, reduction="sum"), "identity"),
    "se-full-mean-tanh": (lambda: SquaredError(half=False), "tanh"),
    "se-half-sum-relu": (lambda: SquaredError(reduction="sum"), "relu"),
    "bce-sigmoid": (lambda: BinaryCrossEntropy(), "sigmoid"),
    "ce-softmax": (lambda: CrossEntropy(), "softmax"),
}
OPTIMIZERS = {
    "sgd": dict(learning_rate=0.2),
    "momentum": dict(learning_rate=0.05, momentum=0.9),
    "nesterov": dict(learning_rate=0.05, momentum=0.8, nesterov=True),
    "decay-l1": dict(learning_rate=0.2, weight_decay=0.01, l1=0.001),
    "momentum-decay-biases": dict(learning_rate=0.1, momentum=0.5, weight_decay=0.02, l1=0.002,
                                  decay_biases=True),
}


def data(n=40, n_in=6, n_out=3, dtype=np.float64, low=0.0, high=1.0, seed=0):
    """Inputs with exact zeros (as MNIST's background) and targets in {low, high}."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, n_in)).astype(dtype)
    x[x < 0.3] = 0.0
    labels = rng.integers(0, n_out, n)
    t = np.full((n, n_out), low, dtype=dtype)
    t[np.arange(n), labels] = high
    return x, t


def reference_epoch(network, loss, optimizer, x, t, order, batch_size):
    """One epoch through the core API: forward, loss and δ^L, backward, optimiser step."""
    total, outputs = 0.0, []
    output = network.output_layer
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        a = network.forward(x[index], training=True)
        outputs.append(a.copy())
        value, delta = loss.value_and_delta(output.activation, output.z, a, t[index])
        network.backward(delta)
        optimizer.step(network.parameters())
        total += value * len(index) if loss.reduction == "mean" else value
    return total, np.concatenate(outputs)


def twins(sizes, hidden, output, dtype, bias=True, seed=3):
    return [mlp(sizes, activation=hidden, output_activation=output, bias=bias, seed=seed,
                dtype=dtype) for _ in range(2)]


def assert_same_training(sizes, hidden, make_loss, output, opt_args, *, dtype, batch_size,
                         epochs=2, bias=True, low=0.0, high=1.0, rtol):
    x, t = data(n_in=sizes[0], n_out=sizes[-1], dtype=dtype, low=low, high=high)
    compiled_net, plain_net = twins(sizes, hidden, output, dtype, bias)
    loss = make_loss()
    compiled_opt, plain_opt = SGD(**opt_args), SGD(**opt_args)
    epoch = OnlineEpoch.for_training(compiled_net, loss, compiled_opt, batch_size)
    assert epoch is not None
    rng = np.random.default_rng(7)
    for _ in range(epochs):
        order = rng.permutation(x.shape[0])
        result = epoch.run(x, t, order)
        total, outputs = reference_epoch(plain_net, loss, plain_opt, x, t, order, batch_size)
        assert result.diverged is None and result.batches == -(-x.shape[0] // batch_size)
        np.testing.assert_allclose(result.loss_sum, total, rtol=rtol)
        np.testing.assert_allclose(result.outputs, outputs, rtol=rtol, atol=rtol)
        for w_compiled, w_plain in zip(compiled_net.get_weights(), plain_net.get_weights(),
                                       strict=True):
            np.testing.assert_allclose(w_compiled, w_plain, rtol=rtol, atol=rtol)
    if plain_opt.velocities is not None:  # the optimiser state is kept in sync
        for v_compiled, v_plain in zip(compiled_opt.velocities, plain_opt.velocities,
                                       strict=True):
            np.testing.assert_allclose(v_compiled, v_plain, rtol=rtol, atol=rtol)


# The kernel keeps W of layers with fewer than online_kernel.WIDE (16) units transposed (one
# row per unit) and W of wider layers by rows (one row per input, the inputs that are 0
# skipped): "narrow" takes the first path in every layer, "wide" the second in its first two
# (the second one propagates δ through W by rows).
SHAPES = {"narrow": [6, 5, 3], "wide": [6, 18, 16, 3]}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("opt", OPTIMIZERS)
@pytest.mark.parametrize("out", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_online_epoch_equals_the_core(hidden, out, opt, shape):
    make_loss, output = OUTPUTS[out]
    assert_same_training(SHAPES[shape], hidden, make_loss, output, OPTIMIZERS[opt],
                         dtype=np.float64, batch_size=1, rtol=1e-10)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("opt", ["sgd", "momentum", "decay-l1"])
@pytest.mark.parametrize("out", ["se-half-mean-sigmoid", "ce-softmax", "bce-sigmoid"])
@pytest.mark.parametrize("batch_size", [3, 7])
def test_small_batches_equal_the_core(batch_size, out, opt, shape):
    # 40 samples: the last batch is smaller (40 = 13·3 + 1 = 5·7 + 5), its mean scaled by it
    make_loss, output = OUTPUTS[out]
    assert_same_training(SHAPES[shape], "tanh", make_loss, output, OPTIMIZERS[opt],
                         dtype=np.float64, batch_size=batch_size, rtol=1e-10)


@pytest.mark.parametrize("hidden", ["relu", "sigmoid"])
@pytest.mark.parametrize("batch_size", [1, 5, 10])
def test_wide_layers_dense_and_sparse_inputs_in_batches(batch_size, hidden):
    # ReLU hidden units (some 0: their rows of the next W are skipped) and data without zeros
    # (listing them does not pay: every row is summed), plain SGD where both paths apply
    for low in (0.0, 0.3):
        x, t = data(n=37, n_in=20, n_out=4, seed=2)
        x = x + low  # with low = 0.3 no input is 0
        compiled_net, plain_net = twins([20, 24, 17, 4], hidden, "softmax", np.float64)
        loss = CrossEntropy()
        compiled_opt, plain_opt = SGD(0.3), SGD(0.3)
        order = np.random.default_rng(5).permutation(37)
        epoch = OnlineEpoch.for_training(compiled_net, loss, compiled_opt, batch_size)
        result = epoch.run(x, t, order)
        total, outputs = reference_epoch(plain_net, loss, plain_opt, x, t, order, batch_size)
        np.testing.assert_allclose(result.loss_sum, total, rtol=1e-10)
        np.testing.assert_allclose(result.outputs, outputs, rtol=1e-10, atol=1e-12)
        for a, b in zip(compiled_net.get_weights(), plain_net.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("opt", ["sgd", "momentum"])
def test_first_deck_net_float32_no_biases_and_point_one_point_nine_targets(opt, batch_size,
                                                                           shape):
    # The first deck's net has no biases and trains towards 0.1/0.9
    assert_same_training(SHAPES[shape], "sigmoid", SquaredError, "sigmoid", OPTIMIZERS[opt],
                         dtype=np.float32, batch_size=batch_size, bias=False, low=0.1,
                         high=0.9, rtol=2e-5)


def test_three_weight_layers_and_one_output_unit():
    assert_same_training([6, 4, 3, 1], "relu", BinaryCrossEntropy, "sigmoid",
                         OPTIMIZERS["nesterov"], dtype=np.float64, batch_size=1, rtol=1e-10)


def test_the_plain_path_continues_exactly_where_the_compiled_epoch_left_off():
    x, t = data(dtype=np.float64)
    compiled_net, plain_net = twins([6, 5, 3], "sigmoid", "softmax", np.float64)
    loss = CrossEntropy()
    compiled_opt, plain_opt = SGD(0.1, momentum=0.9), SGD(0.1, momentum=0.9)
    order = np.random.default_rng(1).permutation(40)
    OnlineEpoch.for_training(compiled_net, loss, compiled_opt, 1).run(x, t, order)
    reference_epoch(plain_net, loss, plain_opt, x, t, order, 1)
    # the second epoch on the plain path for both: the velocities carried over
    reference_epoch(compiled_net, loss, compiled_opt, x, t, order, 1)
    reference_epoch(plain_net, loss, plain_opt, x, t, order, 1)
    for a, b in zip(compiled_net.get_weights(), plain_net.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_learning_rate_and_weights_are_read_at_every_run():
    x, t = data(dtype=np.float64)
    compiled_net, plain_net = twins([6, 5, 3], "tanh", "sigmoid", np.float64)
    loss = SquaredError()
    compiled_opt, plain_opt = SGD(0.5), SGD(0.5)
    epoch = OnlineEpoch.for_training(compiled_net, loss, compiled_opt, 1)
    for net, opt in ((compiled_net, compiled_opt), (plain_net, plain_opt)):
        opt.learning_rate = 0.05  # a schedule's new rate
        net.dense_layers[0].weights = np.full((6, 5), 0.1)  # a new array, set by hand
    order = np.arange(40)
    result = epoch.run(x, t, None)
    total, _ = reference_epoch(plain_net, loss, plain_opt, x, t, order, 1)
    np.testing.assert_allclose(result.loss_sum, total, rtol=1e-10)
    for a, b in zip(compiled_net.get_weights(), plain_net.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_a_diverging_loss_stops_before_the_bad_step():
    x, t = data(dtype=np.float32)
    x *= 1e19
    net = mlp([6, 5, 3], activation="relu", output_activation="identity", seed=0)
    epoch = OnlineEpoch.for_training(net, SquaredError(), SGD(1.0), 1)
    result = epoch.run(x, t, np.arange(40))
    assert result.diverged == "loss" and not np.isfinite(result.value)
    # the plain path: the same batch is the first with a non-finite loss
    plain = mlp([6, 5, 3], activation="relu", output_activation="identity", seed=0)
    loss, opt = SquaredError(), SGD(1.0)
    for batch in range(40):
        with np.errstate(over="ignore", invalid="ignore"):
            a = plain.forward(x[batch:batch + 1], training=True)
            value, delta = loss.value_and_delta(plain.output_layer.activation,
                                                plain.output_layer.z, a, t[batch:batch + 1])
        if not np.isfinite(value):
            break
        plain.backward(delta)
        opt.step(plain.parameters())
    assert result.batches == batch
    if result.batches:
        assert result.last_finite_loss is not None and np.isfinite(result.last_finite_loss)


def test_a_non_finite_gradient_with_a_finite_loss_is_caught():
    # x·w is small, but ∂E/∂w = x·δ overflows float32
    net = Network([Dense(1, 1, activation="identity"), Dense(1, 1, activation="identity")])
    net.dense_layers[0].weights = [[1e-38]]
    net.dense_layers[1].weights = [[1.0]]
    x = np.array([[3e38], [1.0]], dtype=np.float32)
    t = np.zeros((2, 1), dtype=np.float32)
    before = net.get_weights()
    result = OnlineEpoch.for_training(net, SquaredError(), SGD(0.1), 1).run(x, t)
    assert result.diverged == "gradient" and result.batches == 0
    assert np.isfinite(result.last_finite_loss) and not np.isfinite(result.value)
    for after, saved in zip(net.get_weights(), before, strict=True):
        np.testing.assert_array_equal(after, saved)


def test_a_non_finite_weight_behind_a_zero_input_is_not_skipped():
    # 0 · inf is NaN in the core's product; skipping zero inputs must not hide it
    x, t = data(dtype=np.float32)
    x[:, 0] = 0.0
    net = mlp([6, 5, 3], seed=0)
    net.dense_layers[0].weights[0, 2] = np.inf
    result = OnlineEpoch.for_training(net, SquaredError(), SGD(0.1), 1).run(x, t)
    assert result.diverged == "loss" and result.batches == 0


@pytest.mark.parametrize("case", ["adam", "dropout", "leaky_relu", "softmax-squared-error",
                                  "bce-identity", "full-batch", "mixed-dtype"])
def test_unsupported_settings_give_none(case):
    net, loss, opt, batch = mlp([4, 3, 2], seed=0), SquaredError(), SGD(0.1), 1
    if case == "adam":
        opt = Adam()
    elif case == "dropout":
        net = mlp([4, 3, 2], dropout=0.5, seed=0)
    elif case == "leaky_relu":
        net = mlp([4, 3, 2], activation="leaky_relu", seed=0)
    elif case == "softmax-squared-error":
        net = mlp([4, 3, 2], output_activation="softmax", seed=0)
    elif case == "bce-identity":
        net, loss = mlp([4, 3, 2], output_activation="identity", seed=0), BinaryCrossEntropy()
    elif case == "full-batch":
        batch = None
    else:
        layers = [Dense(4, 3, dtype=np.float32), Dense(3, 2, dtype=np.float32)]
        net = Network(layers)
        net.dense_layers[1].astype(np.float64)
    assert OnlineEpoch.for_training(net, loss, opt, batch) is None


def test_run_names_wrong_arguments():
    net = mlp([4, 3, 2], seed=0)
    epoch = OnlineEpoch.for_training(net, SquaredError(), SGD(0.1), 1)
    x, t = data(n=5, n_in=4, n_out=2, dtype=np.float32)
    with pytest.raises(ValueError, match="x must be"):
        epoch.run(x.astype(np.float64), t)
    with pytest.raises(ValueError, match="t must be"):
        epoch.run(x, t[:3])
    with pytest.raises(ValueError, match="order must be"):
        epoch.run(x, t, np.array([0, 5]))


CACHE_PROBE = """
import json, sys
import numpy as np
from mlpkit import SGD, mlp, train
from mlpkit.fast import kernels, online
from mlpkit.losses import SquaredError

rng = np.random.default_rng(0)
x = rng.random((20, 4)).astype(np.float32)
t = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 20)]
net = mlp([4, 3, 2], seed=0)
# batches over online.MAX_BATCH: the per-batch fast engine's fused kernels and the SGD kernel
train(net, x, t, epochs=1, batch_size=20, optimizer=SGD(0.1))
online.OnlineEpoch.for_training(net, SquaredError(), SGD(0.1), 1).run(x, t)
dispatchers = {"online": online._kernel().epoch, "sgd": kernels.kernel("sgd"),
               "squared_error_output": kernels.kernel("squared_error_output")}
json.dump({name: [d.stats.cache_path, sum(d.stats.cache_hits.values()),
                  sum(d.stats.cache_misses.values())] for name, d in dispatchers.items()},
          sys.stdout)
"""


def run_probe(code, **env):
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=900, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return result


@pytest.mark.slow
def test_compiled_kernels_are_cached_on_disk_for_the_next_process():
    # numba's JIT cache (MLPKIT_NUMBA=jit for the online kernel: no ahead-of-time module)
    import json
    from pathlib import Path

    def probe():
        return json.loads(run_probe(CACHE_PROBE, MLPKIT_NUMBA="jit").stdout)

    first = probe()  # compiles, or loads what an earlier run cached
    for name, (folder, _, _) in first.items():
        stem = {"online": "online_kernel._epoch", "sgd": "kernels._sgd",
                "squared_error_output": "kernels._squared_error_output"}[name]
        assert list(Path(folder).glob(f"{stem}-*.nbi")), f"no cache index for {name}"
    second = probe()
    for name, (_, hits, misses) in second.items():
        assert hits >= 1 and misses == 0, (name, hits, misses)


AHEAD_PROBE = """
import json, sys
if sys.argv[1] == "hide-numba":
    sys.modules["numba"] = None  # an import of numba fails from here on
import numpy as np
from mlpkit import SGD, mlp
from mlpkit.fast import ahead, online
from mlpkit.losses import SquaredError

rng = np.random.default_rng(0)
x = rng.random((30, 5)).astype(np.float32)
x[x < 0.3] = 0.0
t = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 30)]
results = []
for dtype, batch in ((np.float32, 1), (np.float64, 4)):
    net = mlp([5, 20, 3], seed=0, dtype=dtype)
    result = online.OnlineEpoch.for_training(net, SquaredError(), SGD(0.3), batch).run(
        x.astype(dtype), t.astype(dtype), rng.permutation(30))
    results.append([result.loss_sum, *[w.tolist() for w in net.get_weights()]])
json.dump({"ahead": online._kernel().ahead, "file": str(ahead.module_file()),
           "numba": sys.modules.get("numba") is not None, "results": results}, sys.stdout)
"""


@pytest.mark.slow
def test_the_kernel_compiled_ahead_of_time_loads_without_numba(tmp_path):
    # First process: builds the module into an empty cache; then one without numba loads it
    # and trains as the JIT-compiled kernel does, bit for bit
    import json
    from pathlib import Path

    def probe(*args, **env):
        code = AHEAD_PROBE.replace("sys.argv[1]", repr(args[0] if args else ""))
        return json.loads(run_probe(code, XDG_CACHE_HOME=str(tmp_path), **env).stdout)

    built = probe()
    assert built["ahead"] and Path(built["file"]).exists()
    assert Path(built["file"]).parent == tmp_path / "mlpkit" / "kernels"
    loaded = probe("hide-numba")
    assert loaded["ahead"] and not loaded["numba"] and loaded["file"] == built["file"]
    jit = probe(MLPKIT_NUMBA="jit")
    assert not jit["ahead"]
    assert loaded["results"] == built["results"] == jit["results"]


def test_a_failed_ahead_of_time_build_falls_back_to_numba_once(tmp_path, monkeypatch, capsys):
    from mlpkit.fast import ahead

    monkeypatch.setattr(ahead, "folder", lambda: tmp_path)
    calls = []

    def fail(*args):
        calls.append(args)
        raise OSError("no C compiler")

    monkeypatch.setattr(ahead, "_compile", fail)
    assert ahead.build(online_kernel._epoch) is None
    assert "no C compiler" in capsys.readouterr().err
    assert ahead.module_file().with_suffix(".failed").read_text().startswith("OSError")
    assert ahead.build(online_kernel._epoch) is None and len(calls) == 1  # not tried again
    assert ahead.load() is None and not list(tmp_path.glob("build-*"))


def test_the_module_key_changes_with_the_kernel_source_and_the_versions(monkeypatch, tmp_path):
    from mlpkit.fast import ahead

    keys = [ahead.key(), ahead.key()]
    monkeypatch.setattr(ahead, "RECIPE", ahead.RECIPE + "x")
    keys.append(ahead.key())
    monkeypatch.setattr(ahead, "_numba_version", lambda: "0.0.1")
    keys.append(ahead.key())
    source = tmp_path / "kernel.py"
    source.write_text("# a kernel")
    monkeypatch.setattr(ahead, "_sources", lambda: [source])
    keys.append(ahead.key())
    source.write_text("# another kernel")
    keys.append(ahead.key())
    assert keys[0] == keys[1] and len(set(keys)) == 5


@pytest.mark.parametrize("out", ["ce-softmax", "bce-sigmoid"])
def test_cross_entropy_value_is_the_exact_one_from_z_not_clipped(out):
    # confidently wrong outputs: ln a underflows; the clipped value would stop at −ln ε ≈ 36
    make_loss, output = OUTPUTS[out]
    loss = make_loss()
    x, _ = data(n=4, n_in=6, n_out=3, dtype=np.float64)
    t = np.zeros((4, 3))
    t[:, 0] = 1.0  # the outputs say class 1
    compiled_net, plain_net = twins([6, 5, 3], "tanh", output, np.float64)
    for net in (compiled_net, plain_net):
        net.dense_layers[-1].weights = np.full((5, 3), 1e4) * np.array([1.0, -1.0, 1.0])
    order = np.arange(4)
    result = OnlineEpoch.for_training(compiled_net, loss, SGD(1e-9), 1).run(x, t, order)
    total, _ = reference_epoch(plain_net, loss, SGD(1e-9), x, t, order, 1)
    assert result.loss_sum > 4 * 40.0
    np.testing.assert_allclose(result.loss_sum, total, rtol=1e-12)
