"""One playground session (one browser tab): its data, network and optimiser, trained by
:func:`mlpkit.train` and traced by :func:`mlpkit.trace_step`, and the pictures the page draws.

Training goes through :class:`~mlpkit.playground.live.LiveTraining`: one call of
:func:`mlpkit.train` kept alive between the page's updates (the same numbers as a call per
update, without its set-up every time); whatever changes the network, the optimiser or the
data stops that call first.

A session keeps a log of what was done (epochs with their batch size, single-sample steps,
live changes of the learning rate and regularisation) so that :meth:`Session.script` writes
a Python script that repeats the run and ends with the same weights.
"""

from __future__ import annotations

import base64
import copy
import tempfile
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..io.model_file import save
from ..lectures.trace import trace_step
from ..losses import get_loss
from ..network import Network, mlp
from ..optimizers import SGD, Adam, Optimizer
from . import datasets
from .config import LIVE_FIELDS, PlaygroundConfig
from .live import LiveTraining
from .presets import preset

__all__ = ["Session"]

UNIT_GRID = 32  # heatmap resolution of every unit (and input feature)
OUTPUT_GRID = 64  # resolution of the output's decision heatmap (a multiple of UNIT_GRID)


def build_optimizer(config: PlaygroundConfig) -> Optimizer:
    """The optimiser of ``config``: SGD with momentum α or Adam, with L1 or L2 (weight decay λ)."""
    decay = config.reg_rate if config.regularization == "L2" else 0.0
    l1 = config.reg_rate if config.regularization == "L1" else 0.0
    if config.optimizer == "adam":
        return Adam(learning_rate=config.learning_rate, weight_decay=decay, l1=l1)
    return SGD(learning_rate=config.learning_rate, momentum=config.momentum,
               weight_decay=decay, l1=l1)


def build_network(config: PlaygroundConfig) -> Network:
    """A fresh network for ``config`` (weights drawn from ``seed + 1``)."""
    sizes = [len(config.features), *config.hidden, 1]
    return mlp(sizes, activation=config.activation, output_activation=config.output_activation,
               init=config.init, seed=config.seed + 1, dtype=np.float64)


def _scaled(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Values scaled from [low, high] to bytes 0..255 (clipped), as uint8."""
    return ((np.clip(values, low, high) - low) * (255.0 / (high - low)) + 0.5).astype(np.uint8)


def _bytes(values: np.ndarray, low: float, high: float) -> str:
    """Values scaled from [low, high] to bytes 0..255 (clipped), base64-encoded."""
    return base64.b64encode(_scaled(values, low, high).tobytes()).decode("ascii")


def _grid(domain: tuple[float, float], n: int) -> np.ndarray:
    """(n * n, 2) points of the square, row by row from the top (largest x2) down."""
    xs = np.linspace(domain[0], domain[1], n)
    x1, x2 = np.meshgrid(xs, xs[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def _range(activation: str) -> tuple[float, float]:
    return (0.0, 1.0) if activation in ("sigmoid", "step") else (-1.0, 1.0)


class Session:
    """The state behind one page: call :meth:`configure`, :meth:`train`, :meth:`one_sample`,
    :meth:`trace`, :meth:`frame`; :meth:`model_bytes` and :meth:`script` take it away."""

    def __init__(self, config: PlaygroundConfig | None = None) -> None:
        config = PlaygroundConfig() if config is None else config
        if config.preset:
            config = replace(config, **_preset_settings(config.preset))
        self.config = config
        self._live = LiveTraining()
        weakref.finalize(self, self._live.stop)  # a forgotten session ends its training thread
        self._build()

    def close(self) -> None:
        """End the session's kept-alive training call (the page closed)."""
        self._live.stop()

    # -- settings --------------------------------------------------------------------------
    def configure(self, config: PlaygroundConfig) -> bool:
        """Switch to ``config``; returns True when the network was rebuilt (a reset), False
        when only live settings (learning rate, regularisation, momentum, batches) changed."""
        old = self.config
        changed = config.changed(old)
        if not changed:
            return False
        if config.preset and config.preset != old.preset:
            config = replace(config, **_preset_settings(config.preset))
        elif changed and changed <= set(LIVE_FIELDS):
            self.config = config
            self._set_live(changed)
            return False
        elif config.preset and changed - {"seed"}:
            config = replace(config, preset="")  # any other change leaves the preset
        self.config = config
        self._build()
        return True

    def _set_live(self, changed: set[str]) -> None:
        if changed != {"epochs_per_update"}:  # (the page's business: train's epochs)
            self._live.stop()  # its learning-rate schedule would put the old rate back
        values = {}
        fresh = build_optimizer(self.config)
        for name in ("learning_rate", "momentum", "weight_decay", "l1"):
            if hasattr(self.optimizer, name) and getattr(self.optimizer, name) != getattr(
                    fresh, name):
                setattr(self.optimizer, name, getattr(fresh, name))
                values[name] = getattr(fresh, name)
        if values:
            self.log.append(("set", values))

    def _build(self) -> None:
        c = self.config
        if c.preset:
            p = preset(c.preset)
            self.domain, self.n_outputs = p.domain, p.T.shape[1]
            self.X_train = self.X_test = p.X
            self.y_train = self.y_test = p.labels
            self.T_train = self.T_test = p.T
        else:
            X, y = datasets.make_dataset(c.dataset, c.n_points, c.noise / 100, c.seed)
            self.X_train, self.y_train, self.X_test, self.y_test = datasets.split(
                X, y, c.train_ratio / 100)
            self.T_train = datasets.targets(self.y_train, c.problem, c.targets)
            self.T_test = datasets.targets(self.y_test, c.problem, c.targets)
            self.domain, self.n_outputs = datasets.DOMAIN, 1
        self.F_train = datasets.feature_matrix(self.X_train, c.features)
        self.F_test = datasets.feature_matrix(self.X_test, c.features)
        self.loss = get_loss(c.mlpkit_loss)
        self.reset()

    def reset(self) -> None:
        """New initial weights (the same for the same seed), optimiser state and epoch 0."""
        c = self.config
        self._live.stop()
        self.network = preset(c.preset).network if c.preset else build_network(c)
        # a float32 twin for the heatmaps only (pictures of 256 colours; float32's tanh is
        # several times faster than float64's); training and traces use ``network``
        self._picture = copy.deepcopy(self.network).astype(np.float32)
        self.optimizer = build_optimizer(c)
        self.rng = np.random.default_rng(c.seed + 2)
        self.epoch = self.updates = 0
        self.log: list[tuple] = []
        self.start_config = c  # the settings the log starts from

    # -- training --------------------------------------------------------------------------
    def train(self, epochs: int = 1) -> None:
        """``epochs`` epochs of :func:`mlpkit.train` with the session's optimiser and
        generator (so k calls of one epoch equal one call of k epochs), continuing the
        kept-alive call."""
        batch = self.config.batch
        self._live.train(epochs, self.network, self.F_train, self.T_train, self.loss,
                         self.optimizer, batch, self.rng)
        n = len(self.F_train)
        self.epoch += epochs
        self.updates += epochs * (1 if batch is None else -(-n // min(batch, n)))
        if self.log and self.log[-1][0] == "train" and self.log[-1][2] == batch:
            self.log[-1] = ("train", self.log[-1][1] + epochs, batch)
        else:
            self.log.append(("train", epochs, batch))

    def one_sample(self, index: int) -> dict:
        """Exactly one online update on training point ``index``; returns its trace."""
        result = self.trace(index, apply=True)
        self.updates += 1
        self.log.append(("sample", index))
        return result

    def trace(self, index: int, apply: bool = False) -> dict:
        """The lecture's numbers for training point ``index``: z, a, δ of every unit and, for
        every weight and bias, ∂E/∂w and the update split into its terms."""
        if not 0 <= index < len(self.F_train):
            raise ValueError(f"index must be a training point in [0, {len(self.F_train) - 1}], "
                             f"got {index}")
        x, t = self.F_train[index:index + 1], self.T_train[index:index + 1]
        self._live.stop()  # trace_step computes gradients into new arrays, not the engine's
        try:
            step = trace_step(self.network, x, t, self.loss, self.optimizer, apply=apply)
        except TypeError as error:  # step units: forward pass only, no derivative
            return _forward_only(self.network, x, t, index, str(error))
        return _trace_dict(step, index, x)

    # -- what the page draws ---------------------------------------------------------------
    def losses(self) -> tuple[float, float]:
        """Mean loss on the training and on the test points (NaN where there are none)."""
        def mean_loss(F, T):
            return float(self.loss.value(self.network.forward(F), T)) if len(F) else float("nan")
        with np.errstate(all="ignore"):
            return mean_loss(self.F_train, self.T_train), mean_loss(self.F_test, self.T_test)

    def heatmaps(self) -> dict:
        """Every unit's output over the square (UNIT_GRID² bytes each) and the output unit's at
        OUTPUT_GRID², base64; ``ranges`` gives the values that bytes 0 and 255 stand for.

        One forward pass over the OUTPUT_GRID² points gives all of them (the units' maps take
        every second row and column)."""
        inputs, input_maps, input_ranges = self._input_maps()
        maps: list[list[str]] = [input_maps]
        ranges: list[list[list[float]]] = [input_ranges]
        step = OUTPUT_GRID // UNIT_GRID
        picture = self._picture
        picture.set_weights(self.network.get_weights())
        with np.errstate(all="ignore"):
            output = picture.forward(inputs)[:, 0]
            for layer in picture.dense_layers:
                low, high = _range(layer.activation.name)
                # a layer's units at once: (UNIT_GRID, UNIT_GRID, units) bytes, then unit by unit
                a = np.asarray(layer.a).reshape(OUTPUT_GRID, OUTPUT_GRID, -1)[::step, ::step]
                maps.append([base64.b64encode(unit.tobytes()).decode("ascii")
                             for unit in _scaled(a, low, high).transpose(2, 0, 1)])
                ranges.append([[low, high]] * layer.n_outputs)
        low, high = _range(picture.output_layer.activation.name)
        return {"unit_grid": UNIT_GRID, "units": maps, "ranges": ranges,
                "output_grid": OUTPUT_GRID, "output": _bytes(output, low, high),
                "output_range": [low, high]}  # fmt: skip

    def _input_maps(self) -> tuple[np.ndarray, list[str], list[list[float]]]:
        """The grid's inputs (float32) and the input features' maps; they change only with
        the features and the square, so they are kept."""
        key = (self.config.features, self.domain, self.config.preset)
        if getattr(self, "_inputs_key", None) != key:
            features = self.config.features
            inputs = datasets.feature_matrix(_grid(self.domain, OUTPUT_GRID), features)
            step = OUTPUT_GRID // UNIT_GRID
            maps, ranges = [], []
            for j, name in enumerate(features):
                top = datasets.feature_range(name) if not self.config.preset else self.domain[1]
                values = inputs[:, j].reshape(OUTPUT_GRID, OUTPUT_GRID)[::step, ::step]
                maps.append(_bytes(values, -top, top))
                ranges.append([-top, top])
            self._inputs_key = key
            self._inputs = (inputs.astype(np.float32), maps, ranges)
        return self._inputs

    def frame(self) -> dict:
        """What changes at every update: epoch, losses, weights, heatmaps."""
        train_loss, test_loss = self.losses()
        layers = [{"weights": layer.weights.tolist(),
                   "biases": (np.zeros(layer.n_outputs) if layer.biases is None
                              else layer.biases).tolist()}
                  for layer in self.network.dense_layers]  # fmt: skip
        return {"epoch": self.epoch, "updates": self.updates, "train_loss": _finite(train_loss),
                "test_loss": _finite(test_loss), "layers": layers, "maps": self.heatmaps()}

    def state(self) -> dict:
        """Everything the page needs after a (re)configuration: settings, points, frame."""
        def points(X, labels):
            return np.column_stack([X, labels]).round(4).tolist()
        net = self.network
        return {
            "config": self.config.to_dict(),
            "domain": list(self.domain),
            "problem": "regression" if self.config.problem == "regression"
            and not self.config.preset else "classification",
            "sizes": net.sizes,
            "activations": [layer.activation.name for layer in net.dense_layers],
            "train_points": points(self.X_train, self.y_train),
            "test_points": [] if self.config.preset else points(self.X_test, self.y_test),
            "frame": self.frame(),
        }

    # -- take it with you ------------------------------------------------------------------
    def model_bytes(self) -> bytes:
        """The network as an mlpkit model file (:func:`mlpkit.save`), with the settings in its
        metadata and the optimiser's state."""
        metadata = {"playground": self.config.to_dict(), "epoch": self.epoch,
                    "inputs": list(self.config.features)}  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = save(self.network, Path(folder) / "playground.mlpk", metadata,
                        optimizer=self.optimizer)
            return path.read_bytes()

    def script(self) -> str:
        """A Python script that repeats this session's run with :func:`mlpkit.train`."""
        from .script import reproduction_script

        return reproduction_script(self.start_config, self.log)


def _preset_settings(name: str) -> dict:
    settings = dict(preset(name).settings)
    for key in ("features", "hidden"):
        if key in settings:
            settings[key] = tuple(settings[key])
    return settings


def _finite(value: float) -> float | None:
    return value if np.isfinite(value) else None


def _param_dict(p) -> dict:
    return {"before": p.before.tolist(), "gradient": p.gradient.tolist(),
            "terms": {k: v.tolist() for k, v in p.terms.items()},
            "term_equations": p.term_equations, "update": p.update.tolist(),
            "after": p.after.tolist()}  # fmt: skip


def _trace_dict(step, index: int, x: np.ndarray) -> dict:
    layers = []
    for layer in step.layers:
        entry = {"z": layer.z[0].tolist(), "a": layer.a[0].tolist(),
                 "delta": layer.delta[0].tolist(), "delta_equation": layer.delta_equation}
        for p in layer.parameters:
            entry[p.name] = _param_dict(p)
        layers.append(entry)
    return {"point": index, "inputs": x[0].tolist(), "targets": step.targets[0].tolist(),
            "loss": step.loss_value, "applied": step.applied, "layers": layers,
            "note": ""}  # fmt: skip


def _forward_only(network: Network, x: np.ndarray, t: np.ndarray, index: int,
                  note: str) -> dict:
    network.forward(x)
    layers = [{"z": np.asarray(layer.z)[0].tolist(), "a": np.asarray(layer.a)[0].tolist(),
               "delta": None}
              for layer in network.dense_layers]  # fmt: skip
    return {"point": index, "inputs": x[0].tolist(), "targets": t[0].tolist(), "loss": None,
            "applied": False, "layers": layers, "note": note}
