"""The "take it with you" script: plain Python that rebuilds a playground session's data and
network and repeats what was done with :func:`mlpkit.train` (and, for single-sample steps,
:func:`mlpkit.trace_step`), ending with the same weights."""

from __future__ import annotations

from .config import PlaygroundConfig

__all__ = ["reproduction_script"]

_HEADER = '''"""Repeats a run of the mlpkit playground: same data, same seed, same weights.

Settings: {summary}
"""

import numpy as np

import mlpkit
from mlpkit.playground import datasets
'''

_DATA = '''
# the data set in the Playground's coordinates, split into training and test points
X, y = datasets.make_dataset({dataset!r}, {n_points}, noise={noise}, seed={seed})
X_train, y_train, X_test, y_test = datasets.split(X, y, {ratio})
features = {features!r}
F_train = datasets.feature_matrix(X_train, features)
F_test = datasets.feature_matrix(X_test, features)
T_train = datasets.targets(y_train, {problem!r}, {targets!r})
T_test = datasets.targets(y_test, {problem!r}, {targets!r})

network = mlpkit.mlp({sizes!r}, activation={activation!r}, output_activation={output!r},
                     init={init!r}, seed={net_seed}, dtype=np.float64)
'''

_PRESET = '''
# the lecture's worked example {preset!r}: its network and data
from mlpkit.playground.presets import preset

example = preset({preset!r})
network, F_train, T_train = example.network, example.X, example.T
F_test, T_test = F_train, T_train
'''


def _optimizer(config: PlaygroundConfig) -> str:
    decay = config.reg_rate if config.regularization == "L2" else 0.0
    l1 = config.reg_rate if config.regularization == "L1" else 0.0
    if config.optimizer == "adam":
        return (f"mlpkit.Adam(learning_rate={config.learning_rate!r}, weight_decay={decay!r}, "
                f"l1={l1!r})")
    return (f"mlpkit.SGD(learning_rate={config.learning_rate!r}, momentum={config.momentum!r}, "
            f"weight_decay={decay!r}, l1={l1!r})")


def _steps(log: list[tuple], loss: str) -> list[str]:
    lines = []
    for entry in log:
        if entry[0] == "train":
            lines.append(f"mlpkit.train(network, F_train, T_train, loss={loss!r}, "
                         f"optimizer=optimizer, epochs={entry[1]}, batch_size={entry[2]}, "
                         "seed=rng)")
        elif entry[0] == "sample":
            i = entry[1]
            lines.append(f"mlpkit.trace_step(network, F_train[{i}:{i + 1}], "
                         f"T_train[{i}:{i + 1}], {loss!r}, optimizer, apply=True)  "
                         "# one online update")
        else:
            lines += [f"optimizer.{name} = {value!r}" for name, value in entry[1].items()]
    return lines or ["pass  # nothing was trained yet"]


def reproduction_script(config: PlaygroundConfig, log: list[tuple]) -> str:
    """The script's text for ``config`` and the session's ``log`` of steps."""
    summary = ", ".join(f"{k}={v}" for k, v in config.to_dict().items())
    parts = [_HEADER.format(summary=summary)]
    if config.preset:
        parts.append(_PRESET.format(preset=config.preset))
    else:
        parts.append(_DATA.format(
            dataset=config.dataset, n_points=config.n_points, noise=config.noise / 100,
            seed=config.seed, ratio=config.train_ratio / 100, features=list(config.features),
            problem=config.problem, targets=config.targets,
            sizes=[len(config.features), *config.hidden, 1], activation=config.activation,
            output=config.output_activation, init=config.init, net_seed=config.seed + 1))
    loss = config.mlpkit_loss
    parts += [
        f"\noptimizer = {_optimizer(config)}",
        f"rng = np.random.default_rng({config.seed + 2})  # shuffles the batches\n",
        *_steps(log, loss),
        "",
        f"train_loss = mlpkit.get_loss({loss!r}).value(network.forward(F_train), T_train)",
        f"test_loss = mlpkit.get_loss({loss!r}).value(network.forward(F_test), T_test)",
        'print(f"training loss {train_loss:.6f}, test loss {test_loss:.6f}")',
        'mlpkit.save(network, "playground.mlpk")',
        "",
    ]
    return "\n".join(parts)
