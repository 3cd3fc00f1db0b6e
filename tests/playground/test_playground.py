"""The playground's data, settings, session (same engine, same numbers), protocol and server.

The server tests use Starlette's TestClient (skipped without the 'playground' extra); the
browser tests are in test_playground_browser.py.
"""

from __future__ import annotations

import base64
import gc
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import mlpkit
from mlpkit.playground import PlaygroundConfig, Session, datasets, protocol
from mlpkit.playground.live import LiveTraining
from mlpkit.playground.session import build_network


def weights_equal(a: mlpkit.Network, b: mlpkit.Network) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights(), strict=True))


# -- data ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "spiral", "reg-plane", "reg-gauss"])
def test_datasets_are_seeded_and_in_the_playground_square(name):
    X, y = datasets.make_dataset(name, 200, 0.1, seed=3)
    X2, y2 = datasets.make_dataset(name, 200, 0.1, seed=3)
    assert X.shape == (200, 2) and y.shape == (200,)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert np.abs(X).max() <= 6.5
    if name.startswith("reg"):
        assert -1 <= y.min() < y.max() <= 1
    else:
        assert set(np.unique(y)) == {0, 1}


def test_features_and_targets():
    X = np.array([[1.0, 2.0], [-3.0, 0.5]])
    F = datasets.feature_matrix(X, ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"])
    assert np.allclose(F[1], [-3, 0.5, 9, 0.25, -1.5, np.sin(-3), np.sin(0.5)])
    y = np.array([0, 1])
    assert datasets.targets(y, "classification", "pm1").ravel().tolist() == [-1, 1]
    assert datasets.targets(y, "classification", "0109").ravel().tolist() == [0.1, 0.9]
    X_train, _, X_test, _ = datasets.split(np.zeros((10, 2)), np.zeros(10), 0.3)
    assert len(X_train) == 3 and len(X_test) == 7


# -- settings -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"colour": 1}, "unknown field"),
        ({"hidden": [4] * 7}, "hidden must be a list of 0 to 6"),
        ({"hidden": [9]}, "[1, 8]"),
        ({"hidden": [True]}, "integer"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"learning_rate": "0.1"}, "must be a number"),
        ({"features": []}, "features"),
        ({"features": ["x1", "x1"]}, "at most once"),
        ({"dataset": "moons"}, "dataset must be one of"),
        ({"n_points": 10**6}, "n_points"),
        ({"loss": "cross_entropy"}, "targets '01' or '0109'"),
        ({"seed": -1}, "seed"),
        ({"epochs_per_update": 0}, "epochs_per_update must be an integer in [1, 50]"),
        ({"epochs_per_update": 51}, "epochs_per_update must be an integer in [1, 50]"),
    ],
)
def test_bad_settings_are_refused_with_the_field_named(fields, words):
    with pytest.raises((TypeError, ValueError), match=None) as info:
        PlaygroundConfig.from_dict(fields)
    assert words in str(info.value)


def test_settings_round_trip_through_their_dict():
    config = PlaygroundConfig.from_dict({"hidden": [3, 2, 1], "features": ["x2", "x1"],
                                         "loss": "cross_entropy", "targets": "0109"})
    assert config.features == ("x1", "x2")  # the page's order
    assert PlaygroundConfig.from_dict(config.to_dict()) == config


# -- same engine, same numbers -------------------------------------------------------------
@pytest.mark.parametrize("fields", [
    {},
    {"dataset": "xor", "hidden": [5, 3], "momentum": 0.9, "regularization": "L2",
     "reg_rate": 0.01, "features": ["x1", "x2", "x1sq", "sinx2"]},
    {"dataset": "gauss", "optimizer": "adam", "batch_mode": "online", "n_points": 100,
     "loss": "cross_entropy", "targets": "01", "regularization": "L1", "reg_rate": 0.001},
    {"dataset": "reg-plane", "batch_mode": "fullbatch", "activation": "relu", "init": "he"},
])
def test_a_session_and_mlpkit_train_with_the_same_seed_give_the_same_weights(fields):
    config = PlaygroundConfig.from_dict(fields)
    session = Session(config)
    for _ in range(3):  # as the page does: one update at a time
        session.train(1)
    session.train(2)

    # the same run written with the public API only
    X, y = datasets.make_dataset(config.dataset, config.n_points, config.noise / 100, config.seed)
    X_train, y_train, _, _ = datasets.split(X, y, config.train_ratio / 100)
    F = datasets.feature_matrix(X_train, config.features)
    T = datasets.targets(y_train, config.problem, config.targets)
    network = mlpkit.mlp([F.shape[1], *config.hidden, 1], activation=config.activation,
                         output_activation=config.output_activation, init=config.init,
                         seed=config.seed + 1, dtype=np.float64)
    decay = config.reg_rate if config.regularization == "L2" else 0.0
    l1 = config.reg_rate if config.regularization == "L1" else 0.0
    optimizer = (mlpkit.Adam(config.learning_rate, weight_decay=decay, l1=l1)
                 if config.optimizer == "adam" else
                 mlpkit.SGD(config.learning_rate, momentum=config.momentum, weight_decay=decay,
                            l1=l1))
    mlpkit.train(network, F, T, loss=config.mlpkit_loss, optimizer=optimizer, epochs=5,
                 batch_size=config.batch, seed=config.seed + 2)
    assert session.epoch == 5
    assert weights_equal(session.network, network)


def test_the_kept_alive_training_call_equals_one_call_of_mlpkit_train():
    """Updates of 1, 1, 3 and 2 epochs through calls of at most 2 epochs each (so the kept-alive
    call ends and a new one goes on, mid-update too), with the network read in between as the
    page's frame does: the weights of one 7-epoch call of mlpkit.train, bit for bit."""
    config = PlaygroundConfig(dataset="xor", hidden=(5, 3), momentum=0.9)
    session = Session(config)
    live = LiveTraining(epochs_per_call=2)
    for epochs in (1, 1, 3, 2):
        live.train(epochs, session.network, session.F_train, session.T_train, session.loss,
                   session.optimizer, config.batch, session.rng)
        session.frame()  # forward passes over the data and the grid while the call is parked
    live.stop()
    network = build_network(config)
    mlpkit.train(network, session.F_train, session.T_train, loss=config.mlpkit_loss,
                 optimizer=mlpkit.SGD(config.learning_rate, momentum=0.9), epochs=7,
                 batch_size=config.batch, seed=config.seed + 2)
    assert weights_equal(session.network, network)


def test_the_kept_alive_call_stops_and_hands_on_what_train_raises():
    session = Session(PlaygroundConfig(dataset="reg-plane", activation="relu", learning_rate=10.0))
    live = LiveTraining()
    arguments = (session.network, session.F_train, session.T_train, session.loss,
                 session.optimizer, 10, session.rng)
    live.train(1, *arguments)
    assert any(t.name == "mlpkit-playground-train" for t in threading.enumerate())
    live.stop()
    assert not any(t.name == "mlpkit-playground-train" for t in threading.enumerate())
    with pytest.raises(mlpkit.TrainingDivergedError):
        live.train(50, *arguments)  # ReLU units and η = 10 on a regression: the loss overflows
    assert not any(t.name == "mlpkit-playground-train" for t in threading.enumerate())
    assert all(np.isfinite(w).all() for w in session.network.get_weights())
    session.close()


def test_a_session_ends_its_training_thread_when_closed_or_forgotten():
    def running() -> int:
        return sum(t.name == "mlpkit-playground-train" for t in threading.enumerate())

    before = running()
    session = Session()
    session.train(1)
    assert running() == before + 1
    session.close()
    assert running() == before
    session = Session()
    session.train(1)
    del session
    gc.collect()
    assert running() == before


def test_overlapping_kept_alive_calls_leave_the_blas_threads_as_they_were():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    one, two = Session(), Session()
    one.train(1)  # loads what training loads (numba, the BLAS libraries)
    one.close()
    before = blas_threads()
    if max(before, default=1) < 2:
        pytest.skip("a one-thread BLAS cannot show a changed thread count")
    one.train(1)  # mlpkit.train sets one BLAS thread for these small products...
    two.train(1)
    assert max(blas_threads()) == 1
    one.close()  # ...and the calls end in the other order than they began
    two.close()
    assert blas_threads() == before


def test_epochs_per_update_is_a_setting_and_what_a_train_message_trains():
    session = Session()
    answer = protocol.handle(session, '{"type": "config", "config": {"epochs_per_update": 5}}')
    assert answer["type"] == "state" and answer["config"]["epochs_per_update"] == 5
    assert protocol.handle(session, '{"type": "train"}')["epoch"] == 5
    assert protocol.handle(session, '{"type": "train", "epochs": 2}')["epoch"] == 7
    # a live setting: the network and its epochs stay
    assert protocol.handle(session, '{"type": "config", "config": {"epochs_per_update": 1}}'
                           )["frame"]["epoch"] == 7
    assert protocol.handle(session, '{"type": "train"}')["epoch"] == 8
    assert Session(PlaygroundConfig.from_dict({"epochs_per_update": 3})).config.to_dict()[
        "epochs_per_update"] == 3


def test_one_sample_is_exactly_one_online_update():
    session = Session(PlaygroundConfig(momentum=0.5))
    session.train(1)
    before = session.network.get_weights()
    network = build_network(session.config)
    network.set_weights(before)
    x, t = session.F_train[7:8], session.T_train[7:8]
    network.backprop(x, t, "squared_error")
    # Δw(t) = −η ∂E/∂w + α Δw(t−1) with η = 0.03, α = 0.5
    velocities = [v.copy() for v in session.optimizer.velocities]
    trace = session.one_sample(7)
    expected = [w - 0.03 * g + 0.5 * v for w, (_, g), v in
                zip(before, network.parameters(), velocities, strict=True)]
    for got, want in zip(session.network.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert trace["applied"] and session.updates == 25 + 1
    terms = trace["layers"][0]["weights"]["terms"]
    assert set(terms) == {"gradient", "momentum", "weight decay"}


def test_the_script_repeats_the_run(tmp_path):
    session = Session(PlaygroundConfig(dataset="xor", momentum=0.9, n_points=200))
    session.train(3)
    session.one_sample(4)
    session.configure(PlaygroundConfig.from_dict({"learning_rate": 0.1}, base=session.config))
    session.train(2)
    script = tmp_path / "run.py"
    script.write_text(session.script())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "test loss" in result.stdout
    assert weights_equal(mlpkit.load(tmp_path / "playground.mlpk"), session.network)


def test_live_settings_keep_the_network_and_others_reset_it():
    session = Session()
    session.train(2)
    kept = session.network
    assert not session.configure(PlaygroundConfig.from_dict({"learning_rate": 0.3},
                                                            base=session.config))
    assert session.network is kept and session.optimizer.learning_rate == 0.3
    assert not session.configure(session.config) and session.network is kept  # no change
    assert session.epoch == 2
    assert session.configure(PlaygroundConfig.from_dict({"hidden": [3]}, base=session.config))
    assert session.epoch == 0 and session.network.sizes == [2, 3, 1]


def test_presets_load_from_the_settings_and_an_architecture_change_leaves_them():
    session = Session()
    session.configure(PlaygroundConfig.from_dict({"preset": "backprop-2-2-2"},
                                                 base=session.config))
    assert session.config.learning_rate == 0.5 and session.network.sizes == [2, 2, 2]
    state = session.state()
    assert state["domain"] == [-0.5, 0.5] and len(state["train_points"]) == 1
    assert not session.configure(PlaygroundConfig.from_dict({"learning_rate": 0.1},
                                                            base=session.config))
    assert session.config.preset == "backprop-2-2-2" and session.optimizer.learning_rate == 0.1
    session.configure(PlaygroundConfig.from_dict({"hidden": [3]}, base=session.config))
    assert session.config.preset == "" and session.network.sizes == [2, 3, 1]


def test_regression_has_a_linear_output_and_learns():
    session = Session(PlaygroundConfig(dataset="reg-plane"))
    assert session.network.output_layer.activation.name == "identity"
    before = session.losses()[1]
    session.train(20)
    assert session.losses()[1] < before / 2
    assert session.state()["problem"] == "regression"


# -- the lecture's numbers -------------------------------------------------------------------
def test_the_2_2_2_preset_shows_the_lectures_numbers():
    session = Session(PlaygroundConfig(preset="backprop-2-2-2"))
    example = {c.label: c for c in mlpkit.worked_example("backprop-2-2-2").checks}
    trace = session.trace(0)
    hidden, output = trace["layers"]
    assert example["out_h1"].ok and abs(hidden["a"][0] - example["out_h1"].computed) < 1e-12
    assert abs(output["a"][0] - float(example["out_o1"].published)) <= example["out_o1"].allowed
    assert abs(trace["loss"] - float(example["E_total"].published)) < 1e-9
    w5 = output["weights"]["after"][0][0]
    assert abs(w5 - float(example["w5 after"].published)) <= example["w5 after"].allowed
    w1 = hidden["weights"]["after"][0][0]
    assert abs(w1 - float(example["w1 after"].published)) <= example["w1 after"].allowed


def test_the_momentum_preset_shows_the_lectures_numbers_and_then_the_momentum_term():
    session = Session(PlaygroundConfig(preset="momentum-2-2-1"))
    example = {c.label: c for c in mlpkit.worked_example("momentum-2-2-1").checks}
    first = session.one_sample(0)
    hidden, output = first["layers"]
    delta_out = example["δ_out (lecture sign, −∂E/∂z)"]
    assert abs(-output["delta"][0] - float(delta_out.published)) <= delta_out.allowed
    assert abs(hidden["a"][0] - float(example["h (hidden outputs)"].published)) <= 0.005
    assert abs(output["biases"]["after"][0] - 0.1172) <= 0.00005
    assert abs(output["weights"]["after"][0][0] - 0.1095) <= 0.00005
    assert output["weights"]["terms"]["momentum"] == [[0.0], [0.0]]
    second = session.trace(0)["layers"][1]["weights"]
    velocity = np.array(first["layers"][1]["weights"]["update"])
    np.testing.assert_allclose(second["terms"]["momentum"], 0.9 * velocity, rtol=1e-12)


def test_the_xor_step_preset_computes_xor_and_says_it_cannot_be_trained():
    session = Session(PlaygroundConfig(preset="xor-step"))
    outputs = [session.trace(i)["layers"][-1]["a"][0] for i in range(4)]
    assert outputs == [0.0, 1.0, 1.0, 0.0]
    assert "step" in session.trace(0)["note"]
    answer = protocol.handle(session, json.dumps({"type": "train", "epochs": 1}))
    assert answer["type"] == "error" and "step" in answer["message"]


# -- the protocol ----------------------------------------------------------------------------
def malformed_messages(n: int) -> list:
    rng = np.random.default_rng(0)
    fixed = [
        "", "not json", "[]", "1", "null", '"text"', "{}", '{"type": 3}', '{"type": "fly"}',
        '{"type": "train", "epochs": 0}', '{"type": "train", "epochs": 1000000}',
        '{"type": "train", "epochs": "5"}', '{"type": "train", "epochs": true}',
        '{"type": "train", "speed": 1}', '{"type": "sample", "index": -1}',
        '{"type": "sample", "index": 10000}', '{"type": "trace"}',
        '{"type": "config", "config": {"hidden": [8, 8, 8, 8, 8, 8, 8]}}',
        '{"type": "config", "config": {"hidden": [100]}}',
        '{"type": "config", "config": {"n_points": 100000000}}',
        '{"type": "config", "config": {"learning_rate": NaN}}',
        '{"type": "config", "config": {"learning_rate": Infinity}}',
        '{"type": "config", "config": []}', '{"type": "config"}',
        '{"type": "download", "what": "/etc/passwd"}', '{"type": "ping", "id": [1]}',
        '{"type": "ping", "id": "' + "x" * 100 + '"}', "[" * 10000 + "]" * 10000,
        "x" * (protocol.MAX_MESSAGE + 1), None, b"binary",
    ]
    messages = list(fixed)
    while len(messages) < n:
        raw = bytes(rng.integers(0, 256, rng.integers(1, 200))).decode("latin-1")
        messages.append(raw if rng.random() < 0.5 else '{"type": "config", "config": '
                        + json.dumps({"seed": raw}) + "}")
    return messages[:n]


def test_a_thousand_malformed_messages_are_answered_with_errors_and_change_nothing():
    session = Session()
    weights = session.network.get_weights()
    for text in malformed_messages(1000):
        answer = protocol.handle(session, text)
        assert answer["type"] == "error", text
        assert isinstance(answer["message"], str) and answer["message"]
    assert all(np.array_equal(a, b) for a, b in zip(weights, session.network.get_weights(),
                                                    strict=True))
    assert protocol.handle(session, '{"type": "ping", "id": 5}') == {"type": "pong", "id": 5}
    assert protocol.handle(session, '{"type": "train", "epochs": 2}')["epoch"] == 2


def test_downloads_are_a_model_file_and_a_script(tmp_path):
    session = Session()
    session.train(1)
    answer = protocol.handle(session, '{"type": "download", "what": "model"}')
    path = tmp_path / answer["name"]
    path.write_bytes(base64.b64decode(answer["data"]))
    loaded = mlpkit.load(path)
    assert weights_equal(loaded, session.network)
    assert loaded.metadata["playground"]["dataset"] == "circle"
    script = protocol.handle(session, '{"type": "download", "what": "script"}')
    assert "mlpkit.train(" in base64.b64decode(script["data"]).decode()
