"""Fit time through the estimator API: mlpkit.sklearn against scikit-learn on Fashion-MNIST.

One process, one run: ``MLPClassifier(hidden_layer_sizes=(100,))`` and ``(512, 256)``, solver
sgd and adam, the same epochs (``max_iter`` with ``n_iter_no_change`` large enough that both
run every epoch), the same ``random_state``. The reference is scikit-learn's own
``MLPClassifier`` on the same data in this run; the ratio is mlpkit's fit time over
scikit-learn's (issue 12's target: at most 0.5). Per configuration:

* ``scikit-learn``: its fit time;
* ``products``: the GEMM floor, the same matrix products alone (same shapes, layouts, dtype
  float64 and threads; :func:`sklearn_profile.gemm_floor`), and ``best`` = floor /
  scikit-learn, the lowest ratio any implementation of the same float64 steps can reach;
* ``mlpkit``: the drop-in as is (float64 input as scikit-learn gets it): the same model as
  scikit-learn's, bit for bit (tests/sklearn), so the same accuracy by construction;
* ``mlpkit f32``: ``dtype="float32"``, the same steps in single precision (half the bytes
  for the products), with its products-alone time;
* the test accuracy of each.

Threads: the table is printed twice, first with both libraries pinned to ``--threads`` BLAS
threads (threadpoolctl for scikit-learn, ``threads=`` for mlpkit), then with each library's
default (scikit-learn: the BLAS's own, one per core; mlpkit: its thread policy, which gives
fewer threads on a busy machine, see ``mlpkit.fast.threads``). The libraries are interleaved
``--repeat`` times (in reverse order every other time); each time shown is the best, each
ratio the median of the repeats' ratios to the scikit-learn fit of the same repeat (on a
shared machine whose load changes, paired ratios are steadier than ratios of best times).
``benchmarks/sklearn_profile.py`` shows where the time goes inside each fit.

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/sklearn_fit.py --quick  # 3,000 images
    MLPKIT_DATA=/work/shared/data python benchmarks/sklearn_fit.py --epochs 2 --threads 1
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from collections import defaultdict

import numpy as np
import sklearn.neural_network as skl
from sklearn.exceptions import ConvergenceWarning
from sklearn_profile import fit_seconds, gemm_floor

import mlpkit
import mlpkit.sklearn as mk
import sklearn

SIZES = {"(100,)": (100,), "(512, 256)": (512, 256)}


def _row(name, solver, times, accuracy) -> str:
    """Best time of each column and its ratio to scikit-learn: the median over the repeats of
    the ratio to the scikit-learn fit of the same repeat (paired, so that a slow moment of
    the shared machine cancels)."""
    sk = np.asarray(times["scikit-learn"])
    cells = [f"{name:<11} {solver:<5} {sk.min():7.2f}"]
    for label in ("floor float64", "float64", "float32", "floor float32"):
        seconds = np.asarray(times[label])
        width = 8 if label.startswith("floor") else 7
        cells.append(f"{seconds.min():{width}.2f} {np.median(seconds / sk):5.2f}")
    cells.append(" ".join(f"{accuracy[k]:.4f}" for k in ("scikit-learn", "float64", "float32")))
    return "  ".join(cells)


def table(X, y, X_test, y_test, epochs: int, repeat: int, threads: int | None) -> None:
    print(f"\nthreads: {threads if threads else 'each library default'}; best seconds, "
          "median paired ratio to scikit-learn")
    print(f"{'network':<11} {'':<5} {'sklearn':>7}  {'products':>8} {'best':>5}  "
          f"{'mlpkit':>7} {'ratio':>5}  {'mk f32':>7} {'ratio':>5}  {'f32 prod':>8} "
          f"{'best':>5}  test accuracy sk / mk / mk f32")
    for name, sizes in SIZES.items():
        for solver in ("sgd", "adam"):
            params = dict(hidden_layer_sizes=sizes, solver=solver, max_iter=epochs,
                          n_iter_no_change=epochs + 1, random_state=0)
            times: dict[str, list[float]] = defaultdict(list)
            accuracy: dict[str, float] = {}
            for repeat_index in range(repeat):
                estimators = {
                    "scikit-learn": skl.MLPClassifier(**params),
                    "float64": mk.MLPClassifier(**params, threads=threads),
                    "float32": mk.MLPClassifier(**params, threads=threads, dtype="float32"),
                }
                order = list(estimators.items())
                for label, estimator in order if repeat_index % 2 == 0 else order[::-1]:
                    seconds = fit_seconds(estimator, X, y, threads if label == "scikit-learn"
                                          else None)
                    times[label].append(seconds)
                    accuracy[label] = float(estimator.score(X_test, y_test))
                    if label != "scikit-learn":
                        times[f"floor {label}"].append(gemm_floor(
                            [X.shape[1], *sizes, 10], X.shape[0], 200, epochs, label, threads))
            print(_row(name, solver, times, accuracy), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 training images, 2 epochs")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 5; quick 2)")
    parser.add_argument("--samples", type=int, default=None, help="training images used")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved fits per row")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads of both libraries in the first table (default 1)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    samples = args.samples or (3_000 if args.quick else 60_000)

    (X, y), (X_test, y_test) = mlpkit.load_fashion_mnist(os.environ.get("MLPKIT_DATA"),
                                                         download=False)
    X = np.asarray(X[:samples], dtype=np.float64)
    y = y[:samples]
    X_test = np.asarray(X_test, dtype=np.float64)
    with warnings.catch_warnings():  # warm-up: imports, numba's cached kernels
        warnings.simplefilter("ignore", ConvergenceWarning)
        skl.MLPClassifier((10,), max_iter=1).fit(X[:500], y[:500])
        for dtype in ("float64", "float32"):
            mk.MLPClassifier((10,), max_iter=1, dtype=dtype).fit(X[:500], y[:500])
    print(f"Fashion-MNIST: {X.shape[0]} training, {X_test.shape[0]} test images; {epochs} "
          f"epochs, batch 200; scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.repeat} interleaved repeats")
    for threads in (args.threads, None):
        table(X, y, X_test, y_test, epochs, args.repeat, threads)


if __name__ == "__main__":
    main()
