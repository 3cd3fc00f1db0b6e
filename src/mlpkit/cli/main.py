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
from ..data.preprocessing import one_hot
from ..io.atomic import atomic_write
from ..metrics import classification_report, confusion_matrix
from ..network import Network, mlp
from ..optimizers import SGD, Adam
from ..schedules import Constant, ReduceOnPlateau, StepDecay
from ..training.checkpoint import TrainingInterrupted
from ..training.loop import EarlyStopping, TrainingDivergedError, train
from ._data import CLIError, Data, apply_input, load_data, load_inputs
from .config import load_config, write_config

__all__ = ["RECIPES", "build_parser", "main"]

#: Hyper-parameters each recipe sets unless given on the command line or in --config.
#: "lecture": the lectures' MNIST network, 784-100-10 sigmoid units trained on the squared error
#: by mini-batch gradient descent (eta = 2.0, batches of 10; why: docs/cli.md). It keeps
#: biases, as Nielsen and the TU Dortmund deck do (--no-bias: the HAW deck's 79,400 weights).
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
}  # fmt: skip

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (raised, printed by :func:`main`)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{message} (see '{self.prog} --help')")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _hidden_size(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"hidden layer sizes must be >= 1, got {text}")
    return value


def _say(args: argparse.Namespace, *lines: str) -> None:
    """Progress text for people: on stderr, not in --quiet mode."""
    if not args.quiet:
        for line in lines:
            print(line, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ train
#: data options and their defaults for ``train``
_DATA_OPTIONS = {"dataset": "mnist", "data_dir": None, "target": "-1", "scale": "unit",
                 "n_samples": None, "noise": 0.1, "test_size": 0.2}  # fmt: skip


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", default="mnist", help="mnist, fashion-mnist, digits, a 2-D "
                       "toy set (xor, circle, xor_quadrants, gaussians, spiral, ...), a CSV file "
                       "or a folder of images with one sub-folder per class (default: mnist)")
    group.add_argument("--data-dir", help="folder holding the MNIST / Fashion-MNIST files "
                       "(default: $MLPKIT_DATA, the user cache, or download)")
    group.add_argument("--target", default="-1",
                       help="CSV: the class column, by index or name (default: the last)")
    group.add_argument("--scale", choices=["unit", "lecture"], default="unit",
                       help="pixel scaling: unit = x/255, lecture = 0.01 + 0.99 x/255")
    group.add_argument("--n-samples", type=_positive_int, help="toy sets: number of points")
    group.add_argument("--noise", type=float, default=0.1, help="toy sets: noise (default 0.1)")
    group.add_argument("--test-size", type=float, default=0.2, help="fraction held out as test "
                       "set for data without one (digits, toy sets, CSV, folders; default 0.2)")


def _add_train(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network and report its test accuracy",
        description="Train a multi-layer perceptron. Options not given come from --config, then "
        "from --recipe (lecture: 784-100-10 sigmoid, squared error, SGD eta 2.0, batches of 10, "
        "10 epochs; fast: 256-128 ReLU, softmax + cross-entropy, Adam, early stopping).",
    )  # fmt: skip
    _add_data_options(parser)
    group = parser.add_argument_group("data subsets")
    group.add_argument("--train-size", type=_positive_int,
                       help="train on the first N training samples only (quick runs)")
    net = parser.add_argument_group("network")
    net.add_argument("--recipe", choices=sorted(RECIPES), default="lecture")
    net.add_argument("--hidden", type=_hidden_size, nargs="*", metavar="UNITS",
                     help="hidden layer sizes, e.g. --hidden 256 128 (none: a single layer)")
    net.add_argument("--activation", help="hidden activation (sigmoid, tanh, relu, ...)")
    net.add_argument("--output-activation", help="output activation (sigmoid, softmax, ...)")
    net.add_argument("--init", help="weight initialiser (uniform, normal, glorot, he)")
    net.add_argument("--bias", action=argparse.BooleanOptionalAction, default=None,
                     help="give every unit a bias (default: yes)")
    net.add_argument("--dropout", type=float, help="dropout rate after hidden layers")
    net.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    fit = parser.add_argument_group("training")
    fit.add_argument("--loss", help="squared_error, cross_entropy, binary_cross_entropy, ...")
    fit.add_argument("--optimizer", choices=["sgd", "adam"])
    fit.add_argument("--learning-rate", "--lr", type=float, help="eta")
    fit.add_argument("--momentum", type=float, help="SGD momentum alpha")
    fit.add_argument("--nesterov", action="store_true", help="Nesterov momentum")
    fit.add_argument("--weight-decay", type=float, help="L2 weight decay lambda")
    fit.add_argument("--schedule", choices=["constant", "plateau", "step"],
                     help="learning rate: constant; plateau = halve it after 2 epochs without "
                     "improvement (validation loss, else training loss); step = halve it every "
                     "10 epochs")
    fit.add_argument("--batch-size", type=_non_negative_int,
                     help="samples per mini-batch (1: online, 0: full batch)")
    fit.add_argument("--epochs", type=_non_negative_int)
    fit.add_argument("--validation-split", type=float,
                     help="fraction of the training data held out for validation")
    fit.add_argument("--early-stopping", type=_non_negative_int, metavar="PATIENCE",
                     help="stop after PATIENCE epochs without improvement (0: off)")
    fit.add_argument("--seed", type=int, default=0, help="seed of weights, shuffling, splits")
    fit.add_argument("--checkpoint", metavar="DIR", help="keep a resumable training checkpoint "
                     "in this folder (written every epoch and on Ctrl-C)")  # fmt: skip
    fit.add_argument("--checkpoint-every", type=_positive_int, metavar="BATCHES",
                     help="also write the checkpoint every this many batches")
    fit.add_argument("--resume", action="store_true",
                     help="continue the run saved in --checkpoint DIR (same options required)")
    fit.add_argument("--threads", type=_positive_int, help="BLAS threads (default: chosen by "
                     "layer size and machine load)")
    out = parser.add_argument_group("output")
    out.add_argument("--save", metavar="MODEL", help="write the trained model (.mlpk) there")
    out.add_argument("--plots", metavar="DIR", help="write PNG plots into this folder")
    out.add_argument("--config", metavar="FILE", help="TOML file of options (as written by a "
                     "previous run next to its model or plots)")
    out.add_argument("--metrics-json", metavar="FILE",
                     help="write test accuracy, loss, epochs and seconds as JSON")
    out.add_argument("--quiet", "-q", action="store_true", help="print only the result line")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(run=_run_train)


#: options that are not part of a run's configuration
_NOT_CONFIG = {"command", "run", "config", "quiet", "no_progress", "save", "plots", "metrics_json",
               "checkpoint", "checkpoint_every", "resume", "threads"}


def _apply_config(parser: argparse.ArgumentParser, path: str) -> None:
    """Make the options of a TOML file the parser's defaults (the command line still wins)."""
    options = load_config(path)
    actions = {a.dest: a for a in parser._actions if a.dest not in _NOT_CONFIG | {"help"}}
    defaults = {}
    for key, value in options.items():
        if key not in actions:
            raise CLIError(f"config file {path!r}: unknown option {key!r}; known options: "
                           f"{', '.join(sorted(actions))}")  # fmt: skip
        action = actions[key]
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
            raise CLIError(f"config file {path!r}: {key} = {value!r}: {error}") from None
        defaults[key] = value
    parser.set_defaults(**defaults)


def _resolve_recipe(args: argparse.Namespace) -> None:
    for key, value in RECIPES[args.recipe].items():
        if getattr(args, key) is None:
            setattr(args, key, list(value) if isinstance(value, list) else value)
    if not 0.0 <= args.validation_split < 1.0:
        raise CLIError(f"--validation-split must be in [0, 1), got {args.validation_split}")
    if not 0.0 <= args.dropout < 1.0:
        raise CLIError(f"--dropout must be in [0, 1), got {args.dropout}")
    if not (args.learning_rate > 0 and math.isfinite(args.learning_rate)):
        raise CLIError(f"--learning-rate must be a positive number, got {args.learning_rate}")


def _build(args: argparse.Namespace, data: Data) -> tuple[Network, Any]:
    sizes = [data.X_train.shape[1], *args.hidden, len(data.class_names)]
    network = mlp(sizes, activation=args.activation, output_activation=args.output_activation,
                  bias=args.bias, init=args.init, seed=args.seed, dtype=args.dtype,
                  dropout=args.dropout)  # fmt: skip
    if args.optimizer == "sgd":
        optimizer: SGD | Adam = SGD(learning_rate=args.learning_rate, momentum=args.momentum,
                        nesterov=args.nesterov, weight_decay=args.weight_decay)  # fmt: skip
    else:
        optimizer = Adam(learning_rate=args.learning_rate, weight_decay=args.weight_decay)
    return network, optimizer


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


def _evaluate(network: Network, loss_name: str, X: np.ndarray, y: np.ndarray,
              n_classes: int) -> dict[str, Any]:  # fmt: skip
    """Test loss, accuracy and confusion matrix of ``network`` on (X, y)."""
    from ..losses import get_loss

    outputs = np.concatenate([network.forward(X[i:i + 4096]) for i in range(0, len(X), 4096)])
    loss = get_loss(loss_name)
    value = loss.value(outputs, loss.targets(one_hot(y, n_classes), n_classes, outputs.dtype))
    predicted = np.argmax(outputs, axis=1)
    matrix = confusion_matrix(y, predicted, n_classes)
    return {"accuracy": float(np.mean(predicted == y)), "loss": float(value),
            "predicted": predicted, "matrix": matrix}  # fmt: skip


def _report(args: argparse.Namespace, result: dict[str, Any], y: np.ndarray, names: list[str],
            suffix: str = "") -> None:  # fmt: skip
    print(f"test accuracy {100 * result['accuracy']:.2f}%  (loss {result['loss']:.4f}, "
          f"{len(y)} samples){suffix}", flush=True)  # fmt: skip
    if args.quiet:
        return
    print()
    print(classification_report(y, result["predicted"], names))
    print("\nconfusion matrix (rows: true class, columns: predicted class)")
    width = max(5, len(str(int(result["matrix"].max()))) + 1)
    short = [n[:width] for n in names]
    print(" " * 12 + "".join(f"{n:>{width}}" for n in short))
    for name, row in zip(names, result["matrix"], strict=True):
        print(f"{name[:12]:>12}" + "".join(f"{v:>{width}d}" for v in row))


def _write_plots(folder: Path, network: Network, history: Any, data: Data,
                 result: dict[str, Any]) -> list[Path]:  # fmt: skip
    from .. import plots

    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "history.png", folder / "confusion_matrix.png"]
    plots.plot_history(history, written[0])
    plots.plot_confusion_matrix(result["matrix"], data.class_names, written[1])
    if data.image_shape is not None:
        written.append(folder / "weights.png")
        plots.plot_weights(network, data.image_shape, written[-1])
    if data.X_train.shape[1] == 2:
        written.append(folder / "decision_regions.png")
        plots.plot_decision_regions(network, data.X_test, data.y_test, written[-1],
                                    class_names=data.class_names)  # fmt: skip
    return written


def _run_train(args: argparse.Namespace) -> int:
    from ..training.progress import StopOnInterrupt

    _resolve_recipe(args)
    data = load_data(args, training=True)
    network, optimizer = _build(args, data)
    n_classes = len(data.class_names)
    _say(args, f"{data.description}: {len(data.X_train)} training and {len(data.X_test)} test "
         f"samples; network {'-'.join(map(str, network.sizes))} ({args.activation}/"
         f"{args.output_activation}, {network.n_parameters:,} parameters), {args.loss}, "
         f"{args.optimizer} eta={args.learning_rate:g}, batch size {args.batch_size or 'full'}")
    stopper = EarlyStopping(patience=args.early_stopping) if args.early_stopping else None
    started = time.perf_counter()
    resume_note = None
    with StopOnInterrupt() as interrupt:
        try:
            history = train(
                network, data.X_train, one_hot(data.y_train, n_classes, dtype=args.dtype),
                loss=args.loss, optimizer=optimizer, epochs=args.epochs,
                batch_size=args.batch_size or None, seed=args.seed,
                validation_split=args.validation_split, early_stopping=stopper,
                schedule=_SCHEDULES[args.schedule](),
                callbacks=[interrupt, *_callbacks(args)], checkpoint=args.checkpoint,
                checkpoint_every=args.checkpoint_every, resume=args.resume,
                threads=getattr(args, "threads", None),
            )  # fmt: skip
        except TrainingInterrupted as stopped:  # checkpoint written: report and save all the same
            history, resume_note = stopped.history, str(stopped)
    seconds = time.perf_counter() - started
    result = _evaluate(network, args.loss, data.X_test, data.y_test, n_classes)
    why = {"early_stopping": ", early stopping", "interrupted": ", interrupted",
           "loss_goal": ", loss goal reached"}.get(history.stop_reason, "")  # fmt: skip
    _report(args, result, data.y_test, data.class_names,
            f" after {history.epochs} epochs in {seconds:.1f} s{why}")
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _NOT_CONFIG}
    metadata = {
        "class_names": data.class_names, "dataset": args.dataset, "input": data.input_info,
        "loss": args.loss, "config": options, "mlpkit_version": __version__,
        "test_accuracy": result["accuracy"], "test_loss": result["loss"],
        "epochs": history.epochs, "seconds": seconds, "stop_reason": history.stop_reason,
        "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }  # fmt: skip
    comment = f"mlpkit {__version__} train options; repeat with: mlpkit train --config FILE"
    if args.save:
        from ..io.model_file import save

        save(network, args.save, metadata, optimizer=optimizer, history=history)
        write_config(Path(args.save).with_suffix(".toml"), options, comment)
        _say(args, f"model written to {args.save} (options in "
             f"{Path(args.save).with_suffix('.toml')})")  # fmt: skip
    if args.plots:
        written = _write_plots(Path(args.plots), network, history, data, result)
        write_config(Path(args.plots) / "run.toml", options, comment)
        _say(args, f"plots written: {', '.join(str(p) for p in written)}")
    if args.metrics_json:
        metrics = {"test_accuracy": result["accuracy"], "test_loss": result["loss"],
                   "epochs": history.epochs, "seconds": round(seconds, 3),
                   "stop_reason": history.stop_reason, "dataset": args.dataset,
                   "train_samples": len(data.X_train), "test_samples": len(data.X_test),
                   "final_training_loss": history.last("loss")}  # fmt: skip
        with atomic_write(args.metrics_json, "w") as fh:
            json.dump(metrics, fh, indent=2)
            fh.write("\n")
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


def _add_evaluate(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="test accuracy, per-class table and confusion matrix of a saved model",
        description="Evaluate a saved model: on the test set of mnist / fashion-mnist, on the "
        "held-out part (same --seed and --test-size as training) of digits and toy sets, and on "
        "every row / image of a CSV file or image folder.",
    )  # fmt: skip
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    _add_data_options(parser)
    parser.add_argument("--seed", type=int, help="seed of the split (default: the training's)")
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the result line")
    # data options left out are taken from the options the model was trained with
    parser.set_defaults(run=_run_evaluate, **{key: None for key in _DATA_OPTIONS})


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
            setattr(args, key, config.get(key, default) if same_data else default)
    args.train_size = None
    data = load_data(args, training=False, model=network)
    result = _evaluate(network, meta.get("loss", "squared_error"), data.X_test, data.y_test,
                       network.n_outputs)  # fmt: skip
    _report(args, result, data.y_test, data.class_names)
    return 0


def _add_predict(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "predict", help="class and probabilities for an image, a folder of images or a CSV file")
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    parser.add_argument("input", help="an image (.png, .pgm), a folder of images, or a CSV file")
    parser.add_argument("--top", type=_positive_int, default=3,
                        help="how many of the most likely classes to list (default 3)")
    parser.set_defaults(run=_run_predict)


def _run_predict(args: argparse.Namespace) -> int:
    network = _load_model(args.model)
    names, X = load_inputs(args.input, network)
    outputs = np.asarray(network.forward(apply_input(X, network)), dtype=np.float64)
    if network.output_layer.activation.name != "softmax":
        # sigmoid outputs do not sum to 1: shown normalised so they read as probabilities
        outputs = np.clip(outputs, 0.0, None)
        outputs /= np.maximum(outputs.sum(axis=1, keepdims=True), 1e-12)
    classes = [str(c) for c in network.metadata.get("class_names",
                                                     range(network.n_outputs))]  # fmt: skip
    width = max(len(n) for n in names)
    for name, p in zip(names, outputs, strict=True):
        order = np.argsort(-p)[: args.top]
        rest = "  ".join(f"{classes[k]}: {p[k]:.3f}" for k in order)
        print(f"{name:<{width}}  {classes[order[0]]}  ({rest})")
    return 0


def _add_info(subparsers: Any) -> None:
    parser = subparsers.add_parser("info", help="architecture, parameters and training record")
    parser.add_argument("model", help="model file written by 'mlpkit train --save'")
    parser.set_defaults(run=_run_info)


def _run_info(args: argparse.Namespace) -> int:
    network = _load_model(args.model)
    meta = network.metadata
    print(f"model {args.model}: network {'-'.join(map(str, network.sizes))}, "
          f"{network.n_parameters:,} parameters, {network.dtype}")  # fmt: skip
    for i, layer in enumerate(network.layers):
        print(f"  layer {i + 1}: {layer!r}")
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
    config = meta.get("config")
    if config:
        print("options: " + "  ".join(f"{k}={v}" for k, v in config.items() if v is not None))
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
    parser.add_argument("--seed", type=int, default=0, help="weights of a new network")
    parser.add_argument("--input", type=_numbers, required=True, help="e.g. 0.05,0.10")
    parser.add_argument("--target", type=_numbers, required=True, help="e.g. 0.01,0.99")
    parser.add_argument("--loss", default="squared_error")
    parser.add_argument("--learning-rate", type=float, default=0.5)
    parser.add_argument("--momentum", type=float, default=0.0)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--digits", type=_positive_int, default=9)
    parser.add_argument("--markdown", action="store_true", help="Markdown tables")
    parser.set_defaults(run=_run_trace)


def _run_trace(args: argparse.Namespace) -> int:
    from ..lectures.trace import trace_step
    from ..network import mlp
    from ..optimizers import SGD

    if args.model:
        network = _load_model(args.model)
    else:
        network = mlp([int(v) for v in args.sizes.split("-")], seed=args.seed, dtype=np.float64)
    optimizer = SGD(args.learning_rate, momentum=args.momentum, weight_decay=args.weight_decay)
    trace = trace_step(network, args.input, args.target, args.loss, optimizer)
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
               _add_trace, _add_lecture]

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


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "config", None):
        subparser = parser._subparsers._group_actions[0].choices[args.command]  # type: ignore
        _apply_config(subparser, args.config)
        args = parser.parse_args(argv)
    return args


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
