"""The ``mlpkit`` command: train a network and watch it learn, evaluate it, predict, inspect it.

``mlpkit train`` runs the lectures' experiment end to end (by default the 784-100-10 sigmoid
network with squared error and mini-batch gradient descent on MNIST); ``--recipe fast`` selects a
modern one. Each subcommand has one function that builds its parser and one that runs it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from .. import __version__
from ..io.atomic import atomic_write
from ..network import Network, mlp
from ..optimizers import SGD, Adam
from ..schedules import Constant, ReduceOnPlateau, StepDecay
from ..training.checkpoint import TrainingInterrupted
from ..training.loop import EarlyStopping, TrainingDivergedError, train
from ..validation import check_model_size
from ._data import CLIError, Data, apply_input, load_data, load_inputs
from ._outputs import check_file, check_folder, plot_files
from ._report import evaluate, print_report, probabilities, training_targets, write_predictions
from .config import load_config, write_config

__all__ = ["RECIPES", "build_parser", "main"]

#: Hyper-parameters each recipe sets unless given on the command line or in --config.
#: "lecture": the lectures' MNIST network, 784-100-10 sigmoid units trained on the squared error
#: by mini-batch gradient descent (eta = 2.0, batches of 10; why: docs/cli.md). It keeps
#: biases, as Nielsen and the TU Dortmund deck do (--no-bias: the HAW deck's 79,400 weights).
#: "table": the default for everything but MNIST-like sets (toy sets, CSV tables, digits,
#: image folders: small data, few features): two ReLU
#: layers, Adam at 0.01, a constant rate, and as many epochs as give about 6,000 steps
#: (20 to 200; "epochs": None).
RECIPES: dict[str, dict[str, Any]] = {
    "lecture": {
        "hidden": [100], "activation": "sigmoid", "output_activation": "sigmoid",
        "loss": "squared_error", "optimizer": "sgd", "learning_rate": 2.0, "momentum": 0.0,
        "batch_size": 10, "epochs": 10, "init": "uniform", "bias": True, "dropout": 0.0,
        "validation_split": 0.0, "early_stopping": 0, "weight_decay": 0.0,
        "schedule": "constant",
    },
    "fast": {
        "hidden": [256, 128], "activation": "relu", "output_activation": "softmax",
        "loss": "cross_entropy", "optimizer": "adam", "learning_rate": 0.001, "momentum": 0.0,
        "batch_size": 64, "epochs": 40, "init": "he", "bias": True, "dropout": 0.0,
        "validation_split": 0.1, "early_stopping": 5, "weight_decay": 0.0001,
        "schedule": "plateau",
    },
    "table": {
        "hidden": [64, 64], "activation": "relu", "output_activation": "softmax",
        "loss": "cross_entropy", "optimizer": "adam", "learning_rate": 0.01, "momentum": 0.0,
        "batch_size": 32, "epochs": None, "init": "he", "bias": True, "dropout": 0.0,
        "validation_split": 0.0, "early_stopping": 0, "weight_decay": 0.0,
        "schedule": "constant",
    },
}  # fmt: skip

#: "table" for a regression target: a small table's regression overfits 64-64 units at 0.01
#: (scikit-learn's diabetes: R² 0.20 against MLPRegressor's 0.50); one layer of 32 units, Adam
#: at 0.001 and L2 weight decay 0.03 match it (tests/data/test_tables.py)
TABLE_REGRESSION = {"hidden": [32], "learning_rate": 0.001, "weight_decay": 0.03}

#: the learning rate an optimiser brings when --optimizer switches away from the recipe's
#: and no --learning-rate is given (eta = 2 suits the lecture's SGD, not Adam)
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "adam": 0.001}

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (raised, printed by :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see '{self.prog} --help')")


def _number(text: str, kind: type, what: str, ok: Any) -> Any:
    """``text`` as ``kind`` if ``ok(value)``, else an ArgumentTypeError saying ``what`` was
    expected and what was given (argparse prefixes the option's name)."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return value


def _positive_int(text: str) -> int:
    return _number(text, int, "a positive integer", lambda v: v >= 1)


def _non_negative_int(text: str) -> int:
    return _number(text, int, "an integer >= 0", lambda v: v >= 0)


def _hidden_size(text: str) -> int:
    return _number(text, int, "hidden layer sizes >= 1", lambda v: v >= 1)


def _positive_float(text: str) -> float:
    return _number(text, float, "a positive number", lambda v: v > 0 and math.isfinite(v))


def _non_negative_float(text: str) -> float:
    return _number(text, float, "a number >= 0", lambda v: v >= 0 and math.isfinite(v))


def _fraction(text: str) -> float:
    return _number(text, float, "a number in [0, 1)", lambda v: 0 <= v < 1)


def _open_fraction(text: str) -> float:
    return _number(text, float, "a number in (0, 1)", lambda v: 0 < v < 1)


def _delimiter(text: str) -> str:
    text = {"\\t": "\t", "tab": "\t"}.get(text, text)
    if len(text) != 1:
        raise argparse.ArgumentTypeError(f"expected one character (or 'tab'), got {text!r}")
    return text


class _InitAction(argparse.Action):
    """``--init NAME`` picks a weight initialiser; ``--init MODEL`` (an existing file, or a
    path ending in .mlpk) continues training that model."""

    def __call__(self, parser: Any, namespace: argparse.Namespace, value: Any,
                 option: str | None = None) -> None:  # fmt: skip
        from ..initializers import INITIALIZERS

        text = str(value)
        if text in INITIALIZERS:
            namespace.init = text
        elif Path(text).is_file() or text.endswith(".mlpk"):
            namespace.init_model = text
        else:
            raise argparse.ArgumentError(self, f"expected an initialiser "
                                         f"({', '.join(sorted(INITIALIZERS))}) or a model file, "
                                         f"got {text!r}")  # fmt: skip


def _say(args: argparse.Namespace, *lines: str) -> None:
    """Progress text for people: on stderr, not in --quiet mode."""
    if not args.quiet:
        for line in lines:
            print(line, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ train
#: data options and their defaults for ``train``
_DATA_OPTIONS = {"dataset": "mnist", "data_dir": None, "target": None, "scale": "unit",
                 "n_samples": None, "noise": 0.1, "test_size": 0.2, "features": None,
                 "header": None, "delimiter": None, "task": None}  # fmt: skip


def _add_table_options(group: Any) -> None:
    group.add_argument("--features", metavar="COLUMNS", help="CSV: the feature columns, by name "
                       "or index, comma-separated; 'a:b' index ranges, e.g. 1: (default: every "
                       "column but the target)")  # fmt: skip
    group.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                       help="CSV: the first row names the columns (default: detected)")
    group.add_argument("--delimiter", type=_delimiter, help="CSV: field separator (default ,)")


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default="mnist", help="mnist, fashion-mnist, digits, auto "
                       "(MNIST if found or downloadable, else the bundled 8x8 digits), a 2-D "
                       "toy set (xor, circle, xor_quadrants, gaussians, spiral, ...), a CSV file "
                       "or a folder of images with one sub-folder per class (default: mnist)")
    group.add_argument("--data-dir", help="folder holding the MNIST / Fashion-MNIST files "
                       "(default: $MLPKIT_DATA, the user cache, or download)")
    group.add_argument("--target", help="CSV: the target column, by index or name (default: "
                       "the last)")
    _add_table_options(group)
    group.add_argument("--task", choices=["classification", "regression"],
                       help="CSV: what to learn (default: from the target column: text, "
                       "booleans or at most 20 distinct integers are classes, other numbers "
                       "a regression target)")  # fmt: skip
    group.add_argument("--scale", choices=["unit", "lecture"], default="unit",
                       help="pixel scaling: unit = x/255, lecture = 0.01 + 0.99 x/255")
    group.add_argument("--n-samples", type=_positive_int,
                       help="toy sets: number of points (default 400)")
    group.add_argument("--noise", type=_non_negative_float, default=0.1,
                       help="toy sets: noise (default 0.1)")
    group.add_argument("--test-size", type=_open_fraction, default=0.2, help="fraction held "
                       "out as test set for data without one (digits, toy sets, CSV, folders; "
                       "default 0.2)")  # fmt: skip


def _add_network_options(parser: argparse.ArgumentParser) -> None:
    net = parser.add_argument_group("network")
    net.add_argument("--recipe", choices=sorted(RECIPES), help="defaults for the options below "
                     "(default: lecture for mnist and fashion-mnist, else table)")
    net.add_argument("--hidden", type=_hidden_size, nargs="*", metavar="UNITS",
                     help="hidden layer sizes, e.g. --hidden 256 128 (none: a single layer)")
    net.add_argument("--activation", help="hidden activation (sigmoid, tanh, relu, ...)")
    net.add_argument("--output-activation", help="output activation (sigmoid, softmax, ...); "
                     "two classes with sigmoid and binary_cross_entropy get one output unit")
    net.add_argument("--init", action=_InitAction, metavar="INIT|MODEL",
                     help="weight initialiser (uniform, normal, glorot, he), or a saved model "
                     "(.mlpk) to continue training: its weights and optimiser state, --epochs "
                     "more epochs, options not given are the model's")  # fmt: skip
    net.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                     help="give every unit a bias (default: yes)")
    net.add_argument("--dropout", type=_fraction, help="dropout rate after hidden layers")
    net.add_argument("--dtype", choices=["float32", "float64"], default="float32")


def _add_fit_options(parser: argparse.ArgumentParser) -> None:
    fit = parser.add_argument_group("training")
    fit.add_argument("--loss", help="squared_error, cross_entropy, binary_cross_entropy, ...")
    fit.add_argument("--optimizer", choices=["sgd", "adam"], help="sgd or adam; switching "
                     "from the recipe's brings its own learning rate (sgd 0.1, adam 0.001) "
                     "unless --learning-rate is given")  # fmt: skip
    fit.add_argument("--learning-rate", "--lr", type=_positive_float, help="eta")
    fit.add_argument("--momentum", type=_fraction, help="SGD momentum alpha")
    fit.add_argument("--nesterov", action="store_true", help="Nesterov momentum")
    fit.add_argument("--weight-decay", type=_non_negative_float, help="L2 weight decay lambda")
    fit.add_argument("--schedule", choices=["constant", "plateau", "step"],
                     help="learning rate: constant; plateau = halve it after 2 epochs without "
                     "improvement (validation loss, else training loss); step = halve it every "
                     "10 epochs")
    fit.add_argument("--batch-size", type=_non_negative_int,
                     help="samples per mini-batch (1: online, 0: full batch)")
    fit.add_argument("--epochs", type=_non_negative_int)
    fit.add_argument("--validation-split", type=_fraction,
                     help="fraction of the training data held out for validation")
    fit.add_argument("--early-stopping", type=_non_negative_int, metavar="PATIENCE",
                     help="stop after PATIENCE epochs without improvement (0: off)")
    fit.add_argument("--seed", type=_non_negative_int, default=0,
                     help="seed of weights, shuffling, splits (an integer >= 0)")
    fit.add_argument("--checkpoint", metavar="DIR", help="keep a resumable training checkpoint "
                     "in this folder (written every epoch and on Ctrl-C)")  # fmt: skip
    fit.add_argument("--checkpoint-every", type=_positive_int, metavar="BATCHES",
                     help="also write the checkpoint every this many batches")
    fit.add_argument("--resume", action="store_true",
                     help="continue the run saved in --checkpoint DIR (same options required)")
    fit.add_argument("--threads", type=_positive_int, help="BLAS threads (default: chosen by "
                     "layer size and machine load)")


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--save", metavar="MODEL", help="write the trained model (.mlpk) there")
    out.add_argument("--plots", metavar="DIR", help="write PNG plots into this folder")
    out.add_argument("--config", metavar="FILE", help="TOML file of options (as written by a "
                     "previous run next to its model or plots)")
    out.add_argument("--metrics-json", metavar="FILE",
                     help="write test accuracy (or R², MAE, RMSE), loss, epochs and seconds as "
                     "JSON")  # fmt: skip
    out.add_argument("--force", action="store_true", help="overwrite existing output files")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the result line")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_train(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network and report its test accuracy (or R² for regression)",
        description="Train a multi-layer perceptron. Options not given come from --config (or "
        "the --init model), then from --recipe (lecture: 784-100-10 sigmoid, squared error, "
        "SGD eta 2.0, batches of 10, 10 epochs; fast: 256-128 ReLU, softmax + cross-entropy, "
        "Adam, early stopping; table: 64-64 ReLU, Adam 0.01, for toy sets and CSV files).",
    )  # fmt: skip
    _add_data_options(parser)
    group = parser.add_argument_group("data subsets")
    group.add_argument("--train-size", type=_positive_int,
                       help="train on the first N training samples only (quick runs)")
    _add_network_options(parser)
    _add_fit_options(parser)
    _add_output_options(parser)
    parser.set_defaults(run=_run_train, init_model=None)


#: options that are not part of a run's configuration
_NOT_CONFIG = {"command", "run", "config", "quiet", "no_progress", "save", "plots", "metrics_json",
               "checkpoint", "checkpoint_every", "resume", "force", "init_model", "threads"}


def _apply_options(parser: argparse.ArgumentParser, options: dict[str, Any], where: str) -> None:
    """Make ``options`` the parser's defaults (the command line still wins)."""
    actions = {a.dest: a for a in parser._actions if a.dest not in _NOT_CONFIG | {"help"}}
    defaults = {}
    for key, value in options.items():
        if key not in actions:
            raise CLIError(f"{where}: unknown option {key!r}; known options: "
                           f"{', '.join(sorted(actions))}")  # fmt: skip
        action = actions[key]
        if value is None:
            continue
        try:
            if isinstance(action, argparse.BooleanOptionalAction | argparse._StoreTrueAction):
                if not isinstance(value, bool):
                    raise ValueError("expected true or false")
            elif action.nargs in ("*", "+"):
                value = [cast(Any, action.type)(str(v)) if action.type else v for v in
                         (value if isinstance(value, list) else [value])]  # fmt: skip
            elif isinstance(value, list | bool):
                raise ValueError("expected a single value")
            elif action.type is not None:
                value = cast(Any, action.type)(str(value))
            else:
                value = str(value)
            if action.choices is not None and value not in action.choices:
                raise ValueError(f"expected one of {', '.join(map(str, action.choices))}")
        except (ValueError, TypeError, argparse.ArgumentTypeError) as error:
            raise CLIError(f"{where}: {key} = {value!r}: {error}") from None
        defaults[key] = value
    parser.set_defaults(**defaults)


def _apply_config(parser: argparse.ArgumentParser, path: str) -> None:
    """Make the options of a TOML file the parser's defaults (the command line still wins)."""
    _apply_options(parser, load_config(path), f"config file {path!r}")


def _recipe_defaults(args: argparse.Namespace, data: Data) -> dict[str, Any]:
    if args.recipe is None:  # the lectures' MNIST experiment, else small data: "table"
        args.recipe = "lecture" if data.description in ("mnist", "fashion-mnist") else "table"
    recipe = dict(RECIPES[args.recipe])
    if data.task == "regression":
        recipe.update(output_activation="identity", loss="squared_error")
        if args.recipe == "table":
            recipe.update(TABLE_REGRESSION)
    if (args.optimizer is not None and args.optimizer != recipe["optimizer"]
            and args.learning_rate is None):  # fmt: skip
        recipe["learning_rate"] = DEFAULT_LEARNING_RATES[args.optimizer]
        _say(args, f"--optimizer {args.optimizer}: learning rate "
             f"{recipe['learning_rate']:g} (the recipe's {RECIPES[args.recipe]['learning_rate']:g} "
             f"is for {recipe['optimizer']}; set it with --learning-rate)")  # fmt: skip
    if recipe["epochs"] is None:  # about 6,000 steps, 20 to 200 epochs
        batch = args.batch_size if args.batch_size is not None else recipe["batch_size"]
        per_epoch = math.ceil(len(data.X_train) / batch) if batch else 1
        recipe["epochs"] = int(min(200, max(20, math.ceil(6000 / max(per_epoch, 1)))))
    return recipe


def _resolve_recipe(args: argparse.Namespace, data: Data) -> None:
    for key, value in _recipe_defaults(args, data).items():
        if getattr(args, key) is None:
            setattr(args, key, list(value) if isinstance(value, list) else value)
    if data.task == "regression" and args.loss in ("cross_entropy", "binary_cross_entropy"):
        raise CLIError(f"--loss {args.loss} is for classification; {args.dataset!r} has a "
                       "regression target (use squared_error, or --task classification)")
    if data.task == "regression" and args.output_activation == "softmax":
        raise CLIError("--output-activation softmax cannot predict a regression target (one "
                       "output unit); use identity")  # fmt: skip


def _n_outputs(args: argparse.Namespace, data: Data) -> int:
    """1 for regression and for two classes with one sigmoid unit and binary cross-entropy."""
    if data.task == "regression":
        return 1
    if (len(data.class_names) == 2 and args.output_activation == "sigmoid"
            and args.loss == "binary_cross_entropy"):  # fmt: skip
        return 1
    return len(data.class_names)


def _build(args: argparse.Namespace, data: Data) -> tuple[Network, Any]:
    sizes = [data.X_train.shape[1], *args.hidden, _n_outputs(args, data)]
    try:  # --hidden 1000000000 went on to allocate 16 GB (tests/test_properties.py covers it)
        check_model_size(sizes, args.dtype)
    except ValueError as error:
        raise CLIError(f"--hidden {' '.join(map(str, args.hidden))}: {error}") from None
    network = mlp(sizes, activation=args.activation, output_activation=args.output_activation,
                  bias=args.bias, init=args.init, seed=args.seed, dtype=args.dtype,
                  dropout=args.dropout)  # fmt: skip
    return network, _optimizer(args)


def _optimizer(args: argparse.Namespace) -> Any:
    if args.optimizer == "sgd":
        return SGD(learning_rate=args.learning_rate, momentum=args.momentum,
                   nesterov=args.nesterov, weight_decay=args.weight_decay)  # fmt: skip
    return Adam(learning_rate=args.learning_rate, weight_decay=args.weight_decay)


_SCHEDULES = {
    "constant": Constant,
    "plateau": lambda: ReduceOnPlateau(factor=0.5, patience=2),
    "step": lambda: StepDecay(drop=0.5, every=10),
}


def _callbacks(args: argparse.Namespace) -> list:
    from ..training.progress import EpochSummary, ProgressBar

    callbacks: list = []
    if args.quiet:
        return callbacks
    if not args.no_progress and sys.stderr.isatty():
        try:
            callbacks.append(ProgressBar(epochs=args.epochs, leave=False))
        except ImportError:
            _say(args, 'no progress bar: tqdm is not installed (pip install "mlpkit[cli]")')
    callbacks.append(EpochSummary(epochs=args.epochs))
    return callbacks


def _write_plots(folder: Path, network: Network, history: Any, data: Data,
                 result: dict[str, Any]) -> list[Path]:  # fmt: skip
    from .. import plots

    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "history.png"]
    plots.plot_history(history, written[0])
    if data.task == "regression":
        written.append(folder / "predicted_vs_true.png")
        plots.plot_predicted_vs_true(result["true"], result["predicted"], written[-1])
        return written
    written.append(folder / "confusion_matrix.png")
    plots.plot_confusion_matrix(result["matrix"], data.class_names, written[-1])
    if data.image_shape is not None:
        written.append(folder / "weights.png")
        plots.plot_weights(network, data.image_shape, written[-1])
    if data.X_train.shape[1] == 2:
        written.append(folder / "decision_regions.png")
        plots.plot_decision_regions(network, data.X_test, data.y_test, written[-1],
                                    class_names=data.class_names)  # fmt: skip
    return written


def _check_train_outputs(args: argparse.Namespace) -> None:
    """Every output path of ``train``, before any data is read."""
    check_file("--save", args.save, args.force)
    if args.save:
        check_file("--save", Path(args.save).with_suffix(".toml"), args.force)
    check_file("--metrics-json", args.metrics_json, args.force)
    check_folder("--plots", args.plots, args.force, plot_files())
    check_folder("--checkpoint", args.checkpoint, args.resume or args.force,
                 ["checkpoint.mlpk"])  # fmt: skip
    if args.resume and not args.checkpoint:
        raise CLIError("--resume needs --checkpoint DIR (the folder of the run to continue)")
    if args.init_model and args.resume:
        raise CLIError("--init and --resume both say where to start from; give one of them")


def _start(args: argparse.Namespace) -> tuple[Data, Network, Any, Any]:
    """The data, the network, its optimiser and the history to continue (or None)."""
    if not args.init_model:
        data = load_data(args, training=True)
        _resolve_recipe(args, data)
        return (data, *_build(args, data), None)
    from ..io.model_file import read_model_file

    saved = read_model_file(args.init_model)
    network = saved.network
    data = load_data(args, training=True, model=network)
    _resolve_recipe(args, data)
    optimizer = saved.optimizer
    if optimizer is None or getattr(optimizer, "name", type(optimizer).__name__.lower()) \
            != args.optimizer:
        optimizer = _optimizer(args)
    else:  # moments, velocities and step count kept; the rate is --learning-rate's
        optimizer.learning_rate = args.learning_rate
    return data, network, optimizer, saved.history


def _train_header(args: argparse.Namespace, data: Data, network: Network) -> str:
    start = f"continuing {args.init_model}; " if args.init_model else ""
    return (f"{start}{data.description}: {len(data.X_train)} training and {len(data.X_test)} "
            f"test samples; network {'-'.join(map(str, network.sizes))} ({args.activation}/"
            f"{args.output_activation}, {network.n_parameters:,} parameters), {args.loss}, "
            f"{args.optimizer} eta={args.learning_rate:g}, batch size "
            f"{args.batch_size or 'full'}, {args.epochs} epochs")  # fmt: skip


def _fit(args: argparse.Namespace, data: Data, network: Network, optimizer: Any,
         history: Any) -> tuple[Any, str | None, Any]:  # fmt: skip
    from ..training.progress import StopOnInterrupt

    stopper = EarlyStopping(patience=args.early_stopping) if args.early_stopping else None
    T = training_targets(data.y_train, network.n_outputs, data.task, args.dtype)
    resume_note = None
    with StopOnInterrupt() as interrupt:
        try:
            history = train(
                network, data.X_train, T, loss=args.loss, optimizer=optimizer,
                epochs=args.epochs, batch_size=args.batch_size or None, seed=args.seed,
                validation_split=args.validation_split, early_stopping=stopper,
                schedule=_SCHEDULES[args.schedule](), history=history,
                callbacks=[interrupt, *_callbacks(args)], checkpoint=args.checkpoint,
                checkpoint_every=args.checkpoint_every, resume=args.resume,
                threads=getattr(args, "threads", None),
            )  # fmt: skip
        except TrainingInterrupted as stopped:  # checkpoint written: report and save all the same
            history, resume_note = stopped.history, str(stopped)
    return history, resume_note, interrupt


def _metadata(args: argparse.Namespace, data: Data, result: dict, history: Any,
              seconds: float, options: dict) -> dict[str, Any]:  # fmt: skip
    meta = {
        "task": data.task, "dataset": args.dataset, "input": data.input_info,
        "loss": args.loss, "config": options, "mlpkit_version": __version__,
        "test_loss": result["loss"], "epochs": history.epochs, "seconds": seconds,
        "stop_reason": history.stop_reason, "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }  # fmt: skip
    if data.task == "regression":
        meta.update(target=data.target_info, test_r2=result["r2"], test_mae=result["mae"],
                    test_rmse=result["rmse"])  # fmt: skip
    else:
        meta.update(class_names=data.class_names, test_accuracy=result["accuracy"])
    return meta


def _metrics(args: argparse.Namespace, data: Data, result: dict, history: Any,
             seconds: float) -> dict[str, Any]:  # fmt: skip
    metrics = {"task": data.task, "test_loss": result["loss"], "epochs": history.epochs,
               "seconds": round(seconds, 3), "stop_reason": history.stop_reason,
               "dataset": args.dataset, "train_samples": len(data.X_train),
               "test_samples": len(data.X_test),
               "final_training_loss": history.last("loss")}  # fmt: skip
    if data.task == "regression":
        metrics.update(test_r2=result["r2"], test_mae=result["mae"], test_rmse=result["rmse"])
    else:
        metrics["test_accuracy"] = result["accuracy"]
    return metrics


def _write_outputs(args: argparse.Namespace, data: Data, network: Network, optimizer: Any,
                   history: Any, result: dict, seconds: float) -> None:  # fmt: skip
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _NOT_CONFIG}
    comment = f"mlpkit {__version__} train options; repeat with: mlpkit train --config FILE"
    if args.save:
        from ..io.model_file import save

        save(network, args.save, _metadata(args, data, result, history, seconds, options),
             optimizer=optimizer, history=history)  # fmt: skip
        write_config(Path(args.save).with_suffix(".toml"), options, comment)
        _say(args, f"model written to {args.save} (options in "
             f"{Path(args.save).with_suffix('.toml')})")  # fmt: skip
    if args.plots:
        written = _write_plots(Path(args.plots), network, history, data, result)
        write_config(Path(args.plots) / "run.toml", options, comment)
        _say(args, f"plots written: {', '.join(str(p) for p in written)}")
    if args.metrics_json:
        with atomic_write(args.metrics_json, "w") as fh:
            json.dump(_metrics(args, data, result, history, seconds), fh, indent=2)
            fh.write("\n")


def _run_train(args: argparse.Namespace) -> int:
    _check_train_outputs(args)
    data, network, optimizer, history = _start(args)
    _say(args, _train_header(args, data, network))
    started = time.perf_counter()
    history, resume_note, interrupt = _fit(args, data, network, optimizer, history)
    seconds = time.perf_counter() - started
    result = evaluate(network, args.loss, data.X_test, data.y_test, data.task,
                      len(data.class_names), data.target_info)  # fmt: skip
    why = {"early_stopping": ", early stopping", "interrupted": ", interrupted",
           "loss_goal": ", loss goal reached"}.get(history.stop_reason, "")  # fmt: skip
    print_report(result, data.y_test, data.class_names, args.quiet,
                 f" after {history.epochs} epochs in {seconds:.1f} s{why}")
    _write_outputs(args, data, network, optimizer, history, result, seconds)
    if resume_note is not None:
        print(f"mlpkit: {resume_note}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if interrupt.interrupted:
        _say(args, "stopped by Ctrl-C; the report above is for the network as trained so far")
        return EXIT_INTERRUPTED
    return 0


# --------------------------------------------------------------------- evaluate, predict, info
def _load_model(path: str) -> Network:
    from ..io.model_file import load

    if not Path(path).is_file():
        raise CLIError(f"model file {path!r} does not exist; train one with "
                       "'mlpkit train --save MODEL'")  # fmt: skip
    return load(path)


def _class_names(network: Network) -> list[str]:
    names = network.metadata.get("class_names")
    if names:
        return [str(c) for c in names]
    return [str(c) for c in range(max(2, network.n_outputs))]


def _add_evaluate(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="test accuracy (or R²), per-class table and confusion matrix of a "
        "saved model",
        description="Evaluate a saved model: on the test set of mnist / fashion-mnist, and on "
        "the held-out part (same --seed and --test-size as training) of digits, toy sets and "
        "the CSV file or image folder it was trained on; on every row / image of another file.",
    )  # fmt: skip
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    _add_data_options(parser)
    parser.add_argument("--seed", type=_non_negative_int,
                        help="seed of the split (default: the training's)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the result line")
    # data options left out are taken from the options the model was trained with
    parser.set_defaults(run=_run_evaluate, **{key: None for key in _DATA_OPTIONS})


def _evaluation_label(args: argparse.Namespace, data: Data, config: dict,
                      same_data: bool) -> tuple[str, str]:  # fmt: skip
    """What the evaluated samples are ("test", another file, or data overlapping training)
    and a note for the result line."""
    if data.test_label == "file" or not config or not same_data:  # other data, or no record
        return f"{Path(str(args.dataset)).name}:", ""
    split = ("seed", "test_size", "n_samples", "noise")
    if args.dataset in ("mnist", "fashion-mnist") or (same_data and all(
            getattr(args, k) == config.get(k, getattr(args, k)) for k in split)):  # fmt: skip
        return "test", ""
    return "training-data", (" (not a test score: this split differs from the training's, so "
                             "it includes samples the model was trained on)")


def _run_evaluate(args: argparse.Namespace) -> int:
    network = _load_model(args.model)
    meta = network.metadata
    config = meta.get("config", {})
    same_data = args.dataset is None or args.dataset == meta.get("dataset")
    if not same_data and meta.get("dataset"):
        print(f"mlpkit: warning: the model was trained on {meta['dataset']!r}, evaluating it "
              f"on {args.dataset!r}", file=sys.stderr, flush=True)
    for key, default in {**_DATA_OPTIONS, "seed": 0}.items():
        if getattr(args, key) is None:
            value = config.get(key, default) if same_data or key not in (
                "features", "target", "header") else default
            setattr(args, key, value)
    args.train_size = None
    data = load_data(args, training=False, model=network)
    task = meta.get("task", "classification")
    result = evaluate(network, meta.get("loss", "squared_error"), data.X_test, data.y_test,
                      task, len(_class_names(network)), data.target_info)  # fmt: skip
    what, note = _evaluation_label(args, data, config, same_data)
    print_report(result, data.y_test, _class_names(network), args.quiet, note, what)
    return 0


def _add_predict(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "predict", help="class and probabilities (or the predicted value) for an image, a "
        "folder of images or each row of a CSV file",
        description="Predict with a saved model. A CSV file's columns are matched by name to "
        "the features the model was trained on (extra columns, such as the target or an id, "
        "are left out); a file without a header must hold exactly the feature columns, or "
        "name them with --features. Pixel values up to 255 are divided by 255 for image "
        "models, as in training.",
    )  # fmt: skip
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    parser.add_argument("input", help="an image (.png, .pgm), a folder of images, or a CSV file")
    parser.add_argument("--top", type=_positive_int, default=3,
                        help="how many of the most likely classes to list (default 3)")
    _add_table_options(parser)
    parser.add_argument("--output", metavar="FILE", help="write the predictions as CSV: input, "
                        "label and one probability column per class (regression: the value)")
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")
    parser.set_defaults(run=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    check_file("--output", args.output, args.force)
    network = _load_model(args.model)
    names, X = load_inputs(args, network)
    X = apply_input(X, network)
    width = max(len(n) for n in names)
    if network.metadata.get("task") == "regression":
        target = network.metadata.get("target", {"mean": 0.0, "std": 1.0})
        a = np.asarray(network.forward(X), dtype=np.float64)[:, 0]
        values = [f"{v:.6g}" for v in a * target["std"] + target["mean"]]
        for name, value in zip(names, values, strict=True):
            print(f"{name:<{width}}  {value}")
        if args.output:
            write_predictions(args.output, names, values, None, [])
        return 0
    p = probabilities(network, X)
    classes = _class_names(network)
    labels = [classes[k] for k in np.argmax(p, axis=1)]
    for name, label, row in zip(names, labels, p, strict=True):
        order = np.argsort(-row, kind="stable")[: args.top]
        rest = "  ".join(f"{classes[k]}: {row[k]:.3f}" for k in order)
        print(f"{name:<{width}}  {label}  ({rest})")
    if args.output:
        write_predictions(args.output, names, labels, p, classes)
    return 0


def _add_info(subparsers: Any) -> None:
    parser = subparsers.add_parser("info", help="layer table, parameters, inputs, classes and "
                                   "training record of a saved model")  # fmt: skip
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    parser.set_defaults(run=_run_info)


def _info_inputs(meta: dict) -> list[str]:
    lines = []
    info = meta.get("input", {})
    if info.get("feature_names"):
        lines.append(f"inputs: {len(info['feature_names'])} features "
                     f"({', '.join(info['feature_names'])}), standardised as in training")
    elif info.get("kind") == "image":
        lines.append(f"inputs: {'x'.join(map(str, info.get('image_shape', [])))} images, "
                     f"pixels scaled {info.get('scale', 'unit')}")  # fmt: skip
    if meta.get("task") == "regression":
        target = meta.get("target", {})
        lines.append(f"task: regression of {target.get('name') or 'the target'}")
    elif meta.get("class_names"):
        lines.append(f"classes: {', '.join(map(str, meta['class_names']))}")
    return lines


def _run_info(args: argparse.Namespace) -> int:
    network = _load_model(args.model)
    meta = network.metadata
    print(f"model {args.model}: network {'-'.join(map(str, network.sizes))}, "
          f"{network.n_parameters:,} parameters, {network.dtype}")  # fmt: skip
    print(network.summary())
    for line in _info_inputs(meta):
        print(line)
    if "dataset" in meta:
        print(f"trained on {meta['dataset']} ({len(meta.get('class_names', []))} classes), "
              f"loss {meta.get('loss')}")  # fmt: skip
    history = meta.get("history")
    if history and history.get("loss"):
        print(f"training record: {len(history['loss'])} epochs, final training loss "
              f"{history['loss'][-1]:.4f}, stopped by {history.get('stop_reason') or '?'}"
              + (f", {meta['seconds']:.1f} s" if "seconds" in meta else ""))  # fmt: skip
    if "test_accuracy" in meta:
        print(f"test accuracy {100 * meta['test_accuracy']:.2f}% (loss {meta['test_loss']:.4f})")
    if "test_r2" in meta:
        print(f"test R² {meta['test_r2']:.4f}, MAE {meta['test_mae']:.4g} "
              f"(loss {meta['test_loss']:.4f})")  # fmt: skip
    config = meta.get("config")
    if config:
        print("options: " + "  ".join(f"{k}={v}" for k, v in config.items() if v is not None))
    return 0


def _add_export(subparsers: Any) -> None:
    parser = subparsers.add_parser("export", help="write a saved model as ONNX, for any ONNX "
                                   "runtime")  # fmt: skip
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    parser.add_argument("--onnx", metavar="FILE", required=True,
                        help="the ONNX file to write (needs: pip install \"mlpkit[onnx]\")")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.set_defaults(run=_run_export)


def _run_export(args: argparse.Namespace) -> int:
    from ..io.onnx import export_onnx

    check_file("--onnx", args.onnx, args.force)
    network = _load_model(args.model)
    export_onnx(network, args.onnx)
    print(f"{args.onnx}: ONNX graph of {'-'.join(map(str, network.sizes))} "
          f"({network.n_parameters:,} parameters), input 'input' (batch, {network.n_inputs}) "
          "float32, scaled as in training; output 'output'")  # fmt: skip
    return 0


def _numbers(text: str) -> list[list[float]]:
    """'0.05,0.1' or '0,0;0,1' (samples separated by ';') as rows of floats."""
    try:
        return [[float(v) for v in row.split(",")] for row in text.split(";")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by ',' (samples by ';'), got {text!r}") from None


def _add_trace(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "trace", help="one training step written out: z, a, δ, ∂E/∂W, ∂E/∂b and the update")
    parser.add_argument("model", nargs="?", help="model file (default: a new network, --sizes)")
    parser.add_argument("--sizes", default="2-2-2", help="layer sizes of a new sigmoid network")
    parser.add_argument("--seed", type=_non_negative_int, default=0,
                        help="weights of a new network")
    parser.add_argument("--input", type=_numbers, required=True, help="e.g. 0.05,0.10")
    parser.add_argument("--target", type=_numbers, required=True, help="e.g. 0.01,0.99 (a "
                        "class label per sample for cross-entropy models)")
    parser.add_argument("--loss", help="default: the model's own loss (squared_error for a new "
                        "network)")  # fmt: skip
    parser.add_argument("--learning-rate", type=_positive_float, default=0.5)
    parser.add_argument("--momentum", type=_fraction, default=0.0)
    parser.add_argument("--weight-decay", type=_non_negative_float, default=0.0)
    parser.add_argument("--digits", type=_positive_int, default=9)
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    parser.add_argument("--full", action="store_true", help="every number even for a large "
                        f"network (above {TRACE_FULL_LIMIT} parameters the default is a "
                        "summary per layer)")  # fmt: skip
    parser.set_defaults(run=_run_trace)


#: networks with more parameters are traced as a summary per layer unless --full
TRACE_FULL_LIMIT = 200


def _run_trace(args: argparse.Namespace) -> int:
    from ..lectures.trace import trace_step
    from ..network import mlp
    from ..optimizers import SGD
    from ._trace import trace_summary

    if args.model:
        network = _load_model(args.model)
        loss = args.loss or network.metadata.get("loss", "squared_error")
    else:
        try:
            sizes = [int(v) for v in args.sizes.split("-")]
        except ValueError:
            raise CLIError(f"--sizes: expected layer sizes such as 2-2-2, got {args.sizes!r}") \
                from None
        network = mlp(sizes, seed=args.seed, dtype=np.float64)
        loss = args.loss or "squared_error"
    optimizer = SGD(args.learning_rate, momentum=args.momentum, weight_decay=args.weight_decay)
    target: Any = args.target
    if loss == "cross_entropy" and network.n_outputs > 1 and all(len(t) == 1 for t in target):
        target = np.array([int(t[0]) for t in target])  # class labels, one per sample
    trace = trace_step(network, args.input, target, loss, optimizer)
    if network.n_parameters > TRACE_FULL_LIMIT and not args.full:
        print(trace_summary(trace, network, args.digits))
    else:
        print(trace.to_markdown(args.digits) if args.markdown else trace.to_text(args.digits))
    return 0


def _add_lecture(subparsers: Any) -> None:
    from ..lectures.worked_examples import LECTURES

    parser = subparsers.add_parser(
        "lecture", help="a lecture's worked example with all its numbers, checked")
    parser.add_argument("name", choices=sorted(LECTURES))
    parser.set_defaults(run=_run_lecture)


def _run_lecture(args: argparse.Namespace) -> int:
    from ..lectures.worked_examples import worked_example

    example = worked_example(args.name)
    print(example.text())
    return 0 if example.ok else 1


# ------------------------------------------------------------------------------------ main
#: one function per subcommand, adding its parser (which sets ``run``)
SUBCOMMANDS = [_add_train, _add_evaluate, _add_predict, _add_info,
               _add_trace, _add_lecture, _add_export]

# the playground's subcommand lives in its package (its web server is imported only when run)
from ..playground.cli import add_parser as _add_playground  # noqa: E402

SUBCOMMANDS.append(_add_playground)


def build_parser() -> argparse.ArgumentParser:
    """The ``mlpkit`` argument parser with every subcommand."""
    parser = _Parser(prog="mlpkit", description="Multi-layer perceptrons trained by "
                     "backpropagation, as the lectures teach them.")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"mlpkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for add in SUBCOMMANDS:
        add(subparsers)
    return parser


def _model_options(path: str) -> dict[str, Any]:
    """The training options stored in a model (for ``train --init MODEL``)."""
    model = _load_model(path)
    options = dict(model.metadata.get("config", {}))
    options.pop("init_model", None)
    return options


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (getattr(args, "init_model", None) or getattr(args, "config", None)):
        return args
    subparser = parser._subparsers._group_actions[0].choices[args.command]  # type: ignore
    if getattr(args, "init_model", None):
        _apply_options(subparser, _model_options(args.init_model),
                       f"model {args.init_model!r}")  # fmt: skip
    if getattr(args, "config", None):
        _apply_config(subparser, args.config)
    return parser.parse_args(argv)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def main(argv: list[str] | None = None) -> int:
    """Run the ``mlpkit`` command line; returns the exit status.

    0 success, 1 training diverged, 2 a usage or input error (one line on stderr), 130
    interrupted by Ctrl-C.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parse(argv)
        return args.run(args)
    except (CLIError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"mlpkit: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return EXIT_USAGE
    except TrainingDivergedError as error:
        print(f"mlpkit: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return 1
    except TrainingInterrupted as interrupted:  # checkpoint written; tell how to go on
        print(f"mlpkit: {interrupted}", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\nmlpkit: aborted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
