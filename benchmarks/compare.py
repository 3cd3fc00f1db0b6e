"""Speed side by side: mlpkit, PyTorch (CPU, eager) and scikit-learn on Fashion-MNIST.

One process, one run: every framework trains the same configurations on the same float32
data for the same number of epochs, and the ratios are taken from timings of this run. mlpkit
and PyTorch also start from the same initial weights and visit the batches in the same order,
so their test accuracies are directly comparable. The ideal epoch time is the forward and
backward matrix-product FLOPs of one epoch divided by the float32 matrix-multiply rate
measured at the start of the run, with the BLAS as configured (threads, OPENBLAS_CORETYPE).

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/compare.py            # all, 5 epochs
    python benchmarks/compare.py --configs C1 C2 --epochs 3 --markdown
"""

from __future__ import annotations

import argparse
import gc
import gzip
import itertools
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import mlpkit
from mlpkit import train


@dataclass(frozen=True)
class Config:
    name: str
    description: str
    sizes: tuple[int, ...]
    hidden: str  # "sigmoid" or "relu"
    output: str  # "sigmoid" (with ½ squared error) or "softmax" (with cross-entropy)
    optimizer: str  # "sgd" or "adam"
    learning_rate: float
    momentum: float
    batch_size: int
    init: str


CONFIGS = {
    "C1": Config(
        "C1",
        "lecture net: sigmoid, ½ squared error, SGD η=3.0, batch 10",
        (784, 100, 10),
        "sigmoid",
        "sigmoid",
        "sgd",
        3.0,
        0.0,
        10,
        "normal",
    ),
    "C2": Config(
        "C2",
        "modern small: ReLU, softmax + CE, SGD momentum 0.9, η=0.05, batch 64",
        (784, 100, 10),
        "relu",
        "softmax",
        "sgd",
        0.05,
        0.9,
        64,
        "he",
    ),
    "C3": Config(
        "C3",
        "bigger: ReLU, softmax + CE, Adam 1e-3, batch 128",
        (784, 512, 256, 10),
        "relu",
        "softmax",
        "adam",
        1e-3,
        0.0,
        128,
        "he",
    ),
    "C4": Config(
        "C4",
        "wide: ReLU, softmax + CE, Adam 1e-3, batch 256",
        (784, 1024, 1024, 10),
        "relu",
        "softmax",
        "adam",
        1e-3,
        0.0,
        256,
        "he",
    ),
}

SKLEARN_CANNOT = {
    "C1": "MLPClassifier always trains log-loss through a softmax/logistic output; it has no "
    "½ squared error on sigmoid outputs (MLPRegressor has squared error but only an "
    "identity output)",
}


@dataclass
class Result:
    framework: str
    epoch_seconds: list[float] = field(default_factory=list)
    accuracy: float = math.nan
    peak_extra_mb: float = math.nan  # resident-set high-water mark above the start, MB
    note: str = ""

    @property
    def seconds(self) -> float:
        """Median seconds per epoch, leaving out the first (warm-up) epoch."""
        timed = self.epoch_seconds[1:] or self.epoch_seconds
        return statistics.median(timed) if timed else math.nan


# -- data -------------------------------------------------------------------------------------


def _read_idx_gz(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_data(data_dir: str | None):
    """Fashion-MNIST as float32 (n, 784) in [0, 1] and int64 labels."""
    try:
        from mlpkit.datasets import load_fashion_mnist
    except ImportError:
        load_fashion_mnist = None
    if load_fashion_mnist is not None:
        return load_fashion_mnist(data_dir, scale="unit", download=False, progress=False)
    folder = Path(data_dir or os.environ["MLPKIT_DATA"]) / "fashion-mnist"
    out = []
    for kind in ("train", "t10k"):
        images = _read_idx_gz(folder / f"{kind}-images-idx3-ubyte.gz")
        labels = _read_idx_gz(folder / f"{kind}-labels-idx1-ubyte.gz")
        x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
        out.append((x, labels.astype(np.int64)))
    return tuple(out)


# -- machine facts ----------------------------------------------------------------------------


def matmul_gflops(n: int = 2048, repeats: int = 7) -> float:
    """float32 matrix-multiply rate of NumPy's BLAS as configured: the best of ``repeats``
    products (the ideal time is a lower bound, so the fastest observed rate is the fair one
    on a machine shared with other work)."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), dtype=np.float32)
    np.matmul(a, b, out=c)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        times.append(time.perf_counter() - start)
    return 2.0 * n**3 / min(times) / 1e9


def epoch_flops(sizes: tuple[int, ...], n_samples: int) -> float:
    """Matrix-product FLOPs of one epoch: forward z = a W, backward ∂E/∂W = aᵀ δ and δ Wᵀ
    (the last one not for the first layer, whose input is the data)."""
    products = [n_in * n_out for n_in, n_out in itertools.pairwise(sizes)]
    per_sample = 2 * (3 * sum(products) - products[0])
    return float(per_sample) * n_samples


def _status_kb(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current VmRSS (Linux >= 4.0)
        return True
    except OSError:
        return False


class PeakRSS:
    """Resident-set high-water mark above the level at entry, in MB (Linux only)."""

    def __enter__(self):
        gc.collect()
        self.ok = _reset_peak_rss()
        self.start = _status_kb("VmRSS")
        return self

    def __exit__(self, *exc):
        self.extra_mb = (_status_kb("VmHWM") - self.start) / 1024 if self.ok else math.nan


# -- mlpkit -------------------------------------------------------------------------------------


def build_mlpkit(cfg: Config, seed: int, package=mlpkit):
    """Network, loss and optimiser of ``cfg`` made with ``package`` (mlpkit, or another
    version of it imported under another name, see ``against_commit.py``)."""
    network = package.mlp(
        list(cfg.sizes),
        activation=cfg.hidden,
        output_activation=cfg.output,
        init=cfg.init,
        seed=seed,
        dtype=np.float32,
    )
    losses = package.losses
    loss = losses.SquaredError(half=True) if cfg.output == "sigmoid" else losses.CrossEntropy()
    if cfg.optimizer == "sgd":
        optimizer = package.SGD(cfg.learning_rate, momentum=cfg.momentum)
    else:
        optimizer = package.Adam(cfg.learning_rate)
    return network, loss, optimizer


def _targets(cfg: Config, y: np.ndarray) -> np.ndarray:
    """Labels for cross-entropy; one-hot float32 rows for ½ squared error."""
    if cfg.output == "softmax":
        return y
    return np.eye(cfg.sizes[-1], dtype=np.float32)[y]


#: ``--threads``: threads of both libraries (mlpkit's train(threads=…), PyTorch's
#: set_num_threads); None: each one's default (mlpkit's policy, PyTorch every core)
THREADS: int | None = None


class MlpkitRun:
    """mlpkit.train, one epoch per call; the optimiser, history and shuffling rng carry over."""

    framework = "mlpkit"

    def __init__(self, cfg: Config, data, seed: int, package=mlpkit) -> None:
        (self.x, y), (self.x_test, self.y_test) = data
        self.cfg = cfg
        self.package = package
        self.network, self.loss, self.optimizer = build_mlpkit(cfg, seed, package)
        self.t = _targets(cfg, y)
        self.rng = np.random.default_rng(seed)
        self.history = package.History()
        # another commit's mlpkit may have no ``threads`` (its BLAS then keeps its own setting)
        self.options = {"threads": THREADS} if package is mlpkit else {}

    def epoch(self) -> float:
        self.package.train(
            self.network,
            self.x,
            self.t,
            loss=self.loss,
            optimizer=self.optimizer,
            epochs=1,
            batch_size=self.cfg.batch_size,
            seed=self.rng,
            history=self.history,
            **self.options,
        )
        return self.history.seconds[-1]

    def accuracy(self) -> float:
        return float(np.mean(self.network.predict(self.x_test) == self.y_test))


def mlpkit_memory(cfg: Config, data, seed: int) -> tuple[float, float]:
    """Peak bytes while training one epoch (traced NumPy allocations plus the data passed in)
    and the budget: dataset in float32 + parameters + optimiser state + one batch's
    activations (z and a of every layer, and the input batch)."""
    (x, y), _ = data
    network, loss, optimizer = build_mlpkit(cfg, seed)
    n_classes = cfg.sizes[-1]
    t = _targets(cfg, y)
    gc.collect()
    tracemalloc.start()
    try:
        train(
            network,
            x,
            t,
            loss=loss,
            optimizer=optimizer,
            epochs=1,
            batch_size=cfg.batch_size,
            seed=seed,
        )
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak = x.nbytes + traced_peak
    dataset = x.nbytes + x.shape[0] * n_classes * 4  # inputs and one-hot targets, float32
    params = network.n_parameters * 4
    state = {"sgd": params if cfg.momentum else 0, "adam": 2 * params}[cfg.optimizer]
    activations = cfg.batch_size * (cfg.sizes[0] + 2 * sum(cfg.sizes[1:])) * 4
    return peak, dataset + params + state + activations


# -- PyTorch --------------------------------------------------------------------------------------


class TorchRun:
    """Eager nn.Sequential + torch.optim, same initial weights and shuffles as mlpkit."""

    framework = "pytorch"

    def __init__(self, cfg: Config, data, seed: int) -> None:
        import torch
        from torch import nn

        self.torch = torch
        torch.set_num_threads(THREADS or os.cpu_count() or 1)
        (x, y), (self.x_test, self.y_test) = data
        self.cfg = cfg
        network, _, _ = build_mlpkit(cfg, seed)  # same initial weights as mlpkit
        modules: list[nn.Module] = []
        dense = network.dense_layers
        for i, layer in enumerate(dense):
            linear = nn.Linear(layer.n_inputs, layer.n_outputs)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.weights.T)))
                linear.bias.copy_(torch.from_numpy(layer.biases))
            modules.append(linear)
            if i < len(dense) - 1:
                modules.append(nn.Sigmoid() if cfg.hidden == "sigmoid" else nn.ReLU())
            elif cfg.output == "sigmoid":
                modules.append(nn.Sigmoid())
            # a softmax output is folded into nn.CrossEntropyLoss, as PyTorch code does it
        self.model = nn.Sequential(*modules)
        if cfg.optimizer == "sgd":
            self.opt = torch.optim.SGD(
                self.model.parameters(), lr=cfg.learning_rate, momentum=cfg.momentum
            )
        else:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.learning_rate)
        self.x = torch.from_numpy(x)
        if cfg.output == "sigmoid":
            self.targets = torch.from_numpy(_targets(cfg, y))

            def loss_fn(out, t):
                return 0.5 * ((out - t) ** 2).sum(dim=1).mean()

            self.loss_fn = loss_fn
        else:
            self.targets = torch.from_numpy(y)
            self.loss_fn = nn.CrossEntropyLoss()
        # mlpkit.train(seed=rng) draws one permutation per epoch from this rng; so does this
        self.rng = np.random.default_rng(seed)

    def epoch(self) -> float:
        started = time.perf_counter()
        n, size = len(self.x), self.cfg.batch_size
        model, opt, loss_fn, x, targets = self.model, self.opt, self.loss_fn, self.x, self.targets
        order = self.torch.from_numpy(self.rng.permutation(n))
        total = 0.0  # the epoch's training loss, as mlpkit's History records it
        for start in range(0, n, size):
            index = order[start : start + size]
            loss = loss_fn(model(x[index]), targets[index])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(index)
        return time.perf_counter() - started

    def accuracy(self) -> float:
        with self.torch.no_grad():
            predicted = self.model(self.torch.from_numpy(self.x_test)).argmax(dim=1).numpy()
        return float(np.mean(predicted == self.y_test))


# -- scikit-learn ------------------------------------------------------------------------------


class SklearnRun:
    """MLPClassifier.partial_fit, one epoch per call (own initial weights and shuffles)."""

    framework = "scikit-learn"

    def __init__(self, cfg: Config, data, seed: int) -> None:
        from sklearn.neural_network import MLPClassifier

        (self.x, self.y), (self.x_test, self.y_test) = data
        self.model = MLPClassifier(
            hidden_layer_sizes=cfg.sizes[1:-1],
            activation=cfg.hidden,
            solver=cfg.optimizer,
            alpha=0.0,
            batch_size=cfg.batch_size,
            learning_rate_init=cfg.learning_rate,
            momentum=cfg.momentum,
            nesterovs_momentum=False,
            shuffle=True,
            random_state=seed,
        )
        self.classes = np.unique(self.y)

    def epoch(self) -> float:
        started = time.perf_counter()
        self.model.partial_fit(self.x, self.y, classes=self.classes)
        return time.perf_counter() - started

    def accuracy(self) -> float:
        return float(self.model.score(self.x_test, self.y_test))


RUNNERS = {"mlpkit": MlpkitRun, "pytorch": TorchRun, "scikit-learn": SklearnRun}


def compare(cfg: Config, data, frameworks: list[str], epochs: int, seed: int) -> dict:
    """Warm-up epoch of each framework alone (its peak memory is taken there), then the
    timed epochs interleaved framework by framework, so that all see the same machine load."""
    runs, results = [], {}
    for framework in RUNNERS:
        result = results[framework] = Result(framework)
        if framework == "scikit-learn" and cfg.name in SKLEARN_CANNOT:
            result.note = "cannot express: " + SKLEARN_CANNOT[cfg.name]
        elif framework not in frameworks:
            result.note = "not run"
        else:
            run = RUNNERS[framework](cfg, data, seed)
            with PeakRSS() as peak:
                result.epoch_seconds.append(run.epoch())
            result.peak_extra_mb = peak.extra_mb
            runs.append((run, result))
    for _ in range(epochs - 1):
        for run, result in runs:
            result.epoch_seconds.append(run.epoch())
    for run, result in runs:
        result.accuracy = run.accuracy()
        if run.framework == "scikit-learn":
            result.note = "own initial weights (Glorot uniform) and shuffles"
    return results


def accuracy_over_seeds(cfg: Config, data, epochs: int, seeds: list[int]) -> dict:
    """Test accuracy of mlpkit and PyTorch after ``epochs`` epochs, from each seed (same
    initial weights and batch order for both, as in :func:`compare`; not timed): the two
    lists, their means and the mean paired difference mlpkit − PyTorch with its standard
    error. One run's difference mixes a systematic gap with the epoch-to-epoch swing of
    either framework; over seeds the swing averages out."""
    accuracies: dict[str, list[float]] = {"mlpkit": [], "pytorch": []}
    for seed in seeds:
        for framework in accuracies:
            run = RUNNERS[framework](cfg, data, seed)
            for _ in range(epochs):
                run.epoch()
            accuracies[framework].append(run.accuracy())
    differences = [m - p for m, p in zip(accuracies["mlpkit"], accuracies["pytorch"], strict=True)]
    spread = statistics.stdev(differences) / math.sqrt(len(seeds)) if len(seeds) > 1 else math.nan
    return {
        "seeds": seeds,
        **accuracies,
        "mean_mlpkit": statistics.fmean(accuracies["mlpkit"]),
        "mean_pytorch": statistics.fmean(accuracies["pytorch"]),
        "mean_difference": statistics.fmean(differences),
        "standard_error": spread,
    }


# -- report ---------------------------------------------------------------------------------------


def _fmt(value: float, spec: str) -> str:
    return "n/a" if value is None or not math.isfinite(value) else format(value, spec)


def table(rows: list[dict], markdown: bool) -> str:
    headers = [
        "config",
        "mlpkit s/epoch",
        "PyTorch s/epoch",
        "sklearn s/epoch",
        "mlpkit/PyTorch",
        "mlpkit/sklearn",
        "ideal s/epoch",
        "mlpkit/ideal",
        "acc mlpkit",
        "acc PyTorch",
        "acc sklearn",
        "peak MB m/P/s",
        "mlpkit peak/budget",
    ]
    lines = []
    for r in rows:
        m, p, s = r["mlpkit"], r["pytorch"], r["scikit-learn"]
        lines.append(
            [
                r["config"],
                _fmt(m["seconds"], ".3f"),
                _fmt(p["seconds"], ".3f"),
                _fmt(s["seconds"], ".3f"),
                _fmt(m["seconds"] / p["seconds"], ".2f"),
                _fmt(m["seconds"] / s["seconds"], ".2f"),
                _fmt(r["ideal_seconds"], ".3f"),
                _fmt(m["seconds"] / r["ideal_seconds"], ".2f"),
                _fmt(100 * m["accuracy"], ".2f"),
                _fmt(100 * p["accuracy"], ".2f"),
                _fmt(100 * s["accuracy"], ".2f"),
                "/".join(_fmt(x["peak_extra_mb"], ".0f") for x in (m, p, s)),
                _fmt(r["memory_ratio"], ".2f"),
            ]
        )
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    out = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    out += ["  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--frameworks", nargs="+", default=list(RUNNERS), choices=list(RUNNERS))
    parser.add_argument(
        "--epochs", type=int, default=5, help="epochs per run; the first is the warm-up (default 5)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads of mlpkit and PyTorch alike (default: mlpkit's policy, PyTorch every core)",
    )
    parser.add_argument("--data-dir", default=None, help="default: $MLPKIT_DATA")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", default=None, help="also write the raw results here")
    parser.add_argument(
        "--accuracy-seeds",
        type=int,
        default=0,
        metavar="K",
        help="afterwards, train mlpkit and PyTorch from K more seeds (untimed) and report the "
        "mean test accuracies and their mean difference (default 0: skip)",
    )
    parser.add_argument(
        "--accuracy-configs",
        nargs="+",
        default=["C1"],
        choices=list(CONFIGS),
        help="configurations for --accuracy-seeds (default C1)",
    )
    args = parser.parse_args(argv)
    global THREADS
    THREADS = args.threads
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (one warm-up epoch and one timed)")

    data = load_data(args.data_dir)
    (x, _), _ = data
    gflops = matmul_gflops()
    try:
        import threadpoolctl

        blas = [
            (i["internal_api"], i.get("architecture"), i["num_threads"])
            for i in threadpoolctl.threadpool_info()
            if i["user_api"] == "blas"
        ]
    except ImportError:
        blas = "threadpoolctl not installed"
    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mlpkit": mlpkit.__version__,
    }
    for module in ("torch", "sklearn"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            pass
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores; {versions}")
    print(
        f"# NumPy BLAS (api, kernels, threads): {blas}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; "
        f"--threads {THREADS or 'unset (mlpkit: its policy, PyTorch: every core)'}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"# float32 matmul rate (2048², best of 7): {gflops:.1f} GFLOP/s")
    print(
        f"# {x.shape[0]} training samples, {args.epochs} epochs per run, seconds per epoch "
        "are the median of the epochs after the first"
    )
    sys.stdout.flush()

    rows = []
    for name in args.configs:
        cfg = CONFIGS[name]
        row = {
            "config": name,
            "description": cfg.description,
            "ideal_seconds": epoch_flops(cfg.sizes, x.shape[0]) / (gflops * 1e9),
        }
        results = compare(cfg, data, args.frameworks, args.epochs, args.seed)
        for framework, result in results.items():
            row[framework] = {
                "seconds": result.seconds,
                "epoch_seconds": result.epoch_seconds,
                "accuracy": result.accuracy,
                "peak_extra_mb": result.peak_extra_mb,
                "note": result.note,
            }
            gc.collect()
        if "mlpkit" in args.frameworks:
            peak, budget = mlpkit_memory(cfg, data, args.seed)
            row["memory_ratio"] = peak / budget
            row["mlpkit_peak_mb"], row["budget_mb"] = peak / 2**20, budget / 2**20
        else:
            row["memory_ratio"] = math.nan
        rows.append(row)
        epochs_text = {f: [round(s, 3) for s in row[f]["epoch_seconds"]] for f in RUNNERS}
        print(f"# {name} ({cfg.description}): epoch seconds {epochs_text}", flush=True)

    print()
    print(table(rows, args.markdown))
    for r in rows:
        for framework in RUNNERS:
            if r[framework]["note"] and r[framework]["note"] != "not run":
                print(f"# {r['config']} {framework}: {r[framework]['note']}")
    over_seeds = {}
    if args.accuracy_seeds > 0 and {"mlpkit", "pytorch"} <= set(args.frameworks):
        seeds = list(range(args.seed + 1, args.seed + 1 + args.accuracy_seeds))
        print(f"\n# test accuracy after {args.epochs} epochs from seeds {seeds}, mlpkit/PyTorch")
        for name in args.accuracy_configs:
            result = over_seeds[name] = accuracy_over_seeds(
                CONFIGS[name], data, args.epochs, seeds
            )
            print(
                f"# {name}: mlpkit {[round(100 * a, 2) for a in result['mlpkit']]} "
                f"mean {100 * result['mean_mlpkit']:.2f}; PyTorch "
                f"{[round(100 * a, 2) for a in result['pytorch']]} mean "
                f"{100 * result['mean_pytorch']:.2f}; mean difference "
                f"{100 * result['mean_difference']:+.2f} ± {100 * result['standard_error']:.2f} "
                "points (standard error)",
                flush=True,
            )
    if args.json:
        meta = {"gflops": gflops, "blas": blas, "versions": versions, "epochs": args.epochs}
        document = {"meta": meta, "rows": rows, "accuracy_over_seeds": over_seeds}
        Path(args.json).write_text(json.dumps(document, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
