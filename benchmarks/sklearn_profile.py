"""Where the fit time goes: scikit-learn's ``MLPClassifier._fit_stochastic`` part by part,
mlpkit's estimator, and the matrix products alone (the GEMM floor).

For each network ((100,) and (512, 256) on Fashion-MNIST) and solver (sgd, adam):

* scikit-learn's fit with every part of its step wrapped in a timer (exclusive times: a nested
  call's time is counted once, in its own part): the matrix products (``safe_sparse_dot``),
  the gather of the shuffled batch rows (``_safe_indexing``), the loss, the L2 term's
  ``np.dot``, the activations, their derivatives, ``_compute_loss_grad`` (the ``+ αW``,
  ``/ Σw`` and ``Σ δ`` passes around its product) and the optimiser's ``update_params``;
  "other" is the rest of the fit (the ``a − y`` of δ^L, the intercept additions, shuffling,
  the loop, input validation);
* mlpkit's fit with its matrix products timed the same way (``mlpkit.sklearn._step.matmul``);
* the **GEMM floor**: the same products (shapes, layouts, dtype, threads) timed alone over the
  same batches and epochs (:func:`gemm_floor`).

``--threads N`` (default 1) pins both libraries; ``0`` leaves each at its default. The
breakdown is of one fit (the best of ``--repeat``); the wrappers add about a microsecond per
call. ``benchmarks/sklearn_fit.py`` gives the fit-time ratios without wrappers.

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/sklearn_profile.py --threads 1
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import time
import types
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator

import numpy as np
import sklearn.neural_network as skl
import sklearn.neural_network._multilayer_perceptron as skl_mlp
import sklearn.neural_network._stochastic_optimizers as skl_opt
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches
from threadpoolctl import threadpool_limits

import mlpkit
import mlpkit.sklearn as mk
from mlpkit.sklearn import _engine, _step

SIZES = {"(100,)": (100,), "(512, 256)": (512, 256)}


class Timers:
    """Exclusive seconds per category of wrapped callables."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)
        self.stack: list[float] = []

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            self.stack.append(0.0)
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                inner = self.stack.pop()
                self.totals[name] += elapsed - inner
                if self.stack:
                    self.stack[-1] += elapsed

        return timed


@contextlib.contextmanager
def patched(target, name: str, value) -> Iterator[None]:
    old = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, old)


def limited(threads: int | None):
    """threadpoolctl's limit for ``threads``, or nothing for the default."""
    return threadpool_limits(threads) if threads else contextlib.nullcontext()


@contextlib.contextmanager
def sklearn_timers(timers: Timers) -> Iterator[None]:
    """Wrap the parts of scikit-learn's stochastic step in ``timers``."""
    numpy_proxy = types.SimpleNamespace(**{k: getattr(np, k) for k in dir(np)
                                           if not k.startswith("__")})
    numpy_proxy.dot = timers.wrap("L2 term (np.dot)", np.dot)
    parts = [
        (skl_mlp, "safe_sparse_dot", "matrix products"),
        (skl_mlp, "_safe_indexing", "gather batch rows"),
        (skl_mlp.BaseMultilayerPerceptron, "_compute_loss_grad", "+αW, /Σw, Σδ"),
        (skl_opt.BaseOptimizer, "update_params", "optimiser update"),
    ]
    tables = [("ACTIVATIONS", "activations"), ("DERIVATIVES", "derivatives"),
              ("LOSS_FUNCTIONS", "loss")]
    with contextlib.ExitStack() as stack:
        stack.enter_context(patched(skl_mlp, "np", numpy_proxy))
        for target, name, label in parts:
            stack.enter_context(patched(target, name, timers.wrap(label, getattr(target, name))))
        for name, label in tables:
            table = {k: timers.wrap(label, f) for k, f in getattr(skl_mlp, name).items()}
            stack.enter_context(patched(skl_mlp, name, table))
        yield


def fit_seconds(estimator, X, y, threads: int | None) -> float:
    """Seconds of ``estimator.fit(X, y)`` with ``threads`` BLAS threads set by threadpoolctl
    (None: as they are). Setting them is timed, as mlpkit's ``threads=`` is inside its fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        with limited(threads):
            estimator.fit(X, y)
        return time.perf_counter() - start


def gemm_floor(units: list[int], n: int, batch: int, epochs: int, dtype,
               threads: int | None) -> float:
    """Seconds of the matrix products of ``epochs`` epochs over ``n`` samples in batches of
    ``batch``, alone: per batch a·W for every layer, aᵀ·δ for every layer and δ·Wᵀ for all but
    the first. As in the fits, each batch's X rows are first gathered into a new array (not
    timed: only the products are)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, units[0])).astype(dtype)
    weights = [rng.normal(size=(a, b)).astype(dtype) for a, b in itertools.pairwise(units)]
    acts = {m: [rng.normal(size=(m, k)).astype(dtype) for k in units[1:]]
            for m in {s.stop - s.start for s in gen_batches(n, batch)}}
    order, clock, seconds = rng.permutation(n), time.perf_counter, 0.0
    with limited(threads):
        for _ in range(epochs):
            for batch_slice in gen_batches(n, batch):
                xb = X[order[batch_slice]]
                outs = acts[xb.shape[0]]
                layer_inputs = [xb, *outs[:-1]]
                start = clock()
                for a, w in zip(layer_inputs, weights, strict=True):  # forward
                    a @ w
                for i in range(len(weights) - 1, -1, -1):  # backward
                    layer_inputs[i].T @ outs[i]
                    if i > 0:
                        outs[i] @ weights[i].T
                seconds += clock() - start
    return seconds


def profile_sklearn(params, X, y, threads) -> dict[str, float]:
    """scikit-learn's fit time split into its parts (and "other"), seconds."""
    timers = Timers()
    with sklearn_timers(timers):
        total = fit_seconds(skl.MLPClassifier(**params), X, y, threads)
    parts = dict(timers.totals)
    parts["other"] = total - sum(parts.values())
    parts["fit"] = total
    return parts


def profile_mlpkit(params, X, y, threads, dtype) -> dict[str, float]:
    """mlpkit's fit time and the part of it in matrix products, seconds."""
    timers = Timers()
    with contextlib.ExitStack() as stack:
        for module, name in ((_step, "matmul"), (_engine, "safe_sparse_dot")):
            stack.enter_context(patched(module, name,
                                        timers.wrap("matrix products", getattr(module, name))))
        estimator = mk.MLPClassifier(**params, threads=threads, dtype=dtype)
        total = fit_seconds(estimator, X, y, None)
    return {"fit": total, "matrix products": timers.totals["matrix products"]}


def _best(runs: list[dict[str, float]]) -> dict[str, float]:
    return min(runs, key=lambda parts: parts["fit"])


def run(args) -> None:
    (X, y), _ = mlpkit.load_fashion_mnist(os.environ.get("MLPKIT_DATA"), download=False)
    X = np.asarray(X[: args.samples], dtype=np.float64)
    y = y[: args.samples]
    threads = args.threads or None
    for dtype in ("float64", "float32"):  # warm-up: imports, numba's cached kernels
        fit_seconds(mk.MLPClassifier((10,), max_iter=1, dtype=dtype), X[:500], y[:500], threads)
    print(f"Fashion-MNIST {X.shape[0]} samples, batch 200, {args.epochs} epochs, threads "
          f"{args.threads or 'default'}, best of {args.repeat}; seconds")
    for name, hidden in SIZES.items():
        for solver in ("sgd", "adam"):
            params = dict(hidden_layer_sizes=hidden, solver=solver, max_iter=args.epochs,
                          n_iter_no_change=args.epochs + 1, random_state=0)
            runs: dict[str, list] = defaultdict(list)
            for _ in range(args.repeat):  # the libraries interleaved
                runs["sklearn"].append(profile_sklearn(params, X, y, threads))
                for dtype in ("float64", "float32"):
                    runs[dtype].append(profile_mlpkit(params, X, y, threads, dtype))
                    runs[f"floor {dtype}"].append({"fit": gemm_floor(
                        [X.shape[1], *hidden, 10], X.shape[0], 200, args.epochs, dtype,
                        threads)})
            sk = _best(runs["sklearn"])
            print(f"\n{name} {solver}: scikit-learn fit {sk['fit']:.3f}")
            for part, seconds in sorted(sk.items(), key=lambda kv: -kv[1]):
                if part != "fit":
                    print(f"    {part:<20} {seconds:8.3f}  {seconds / sk['fit']:6.1%}")
            for dtype in ("float64", "float32"):
                ours, floor = _best(runs[dtype]), _best(runs[f"floor {dtype}"])["fit"]
                print(f"  mlpkit {dtype}: fit {ours['fit']:.3f} ({ours['fit'] / sk['fit']:.2f}x),"
                      f" its products {ours['matrix products']:.3f}; products alone {floor:.3f} "
                      f"(best ratio {floor / sk['fit']:.2f}x)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="0: each library's default")
    parser.add_argument("--repeat", type=int, default=3)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
