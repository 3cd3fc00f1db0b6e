"""Fit time through the estimator API: mlpkit.sklearn against scikit-learn on Fashion-MNIST.

One process, one run: ``MLPClassifier(hidden_layer_sizes=(100,))`` and ``(512, 256)``, solver
sgd and adam, the same epochs (``max_iter`` with ``n_iter_no_change`` large enough that both
run every epoch), the same ``random_state``. The reference is scikit-learn's own
``MLPClassifier`` on the same data in this run; the ratio is mlpkit's fit time over
scikit-learn's (issue 12's target: at most 0.5). Three mlpkit rows per configuration:

* ``mlpkit``: the drop-in as is (float64 input, as scikit-learn gets it): the same model as
  scikit-learn's, so the same accuracy by construction;
* ``mlpkit dtype=float32``: the same steps in single precision (the estimator's ``dtype``);
* the test accuracies of all of them.

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/sklearn_fit.py --quick  # 3,000 images
    MLPKIT_DATA=/work/shared/data python benchmarks/sklearn_fit.py --epochs 10
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import sklearn.neural_network as skl
from sklearn.exceptions import ConvergenceWarning

import mlpkit
import mlpkit.sklearn as mk
import sklearn

SIZES = {"(100,)": (100,), "(512, 256)": (512, 256)}


def _fit(estimator, X, y, X_test, y_test, repeat: int) -> tuple[float, float, int]:
    """Best fit time of ``repeat`` fits (the same model each time: fixed random_state)."""
    times = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeat):
            start = time.perf_counter()
            estimator.fit(X, y)
            times.append(time.perf_counter() - start)
    return min(times), float(estimator.score(X_test, y_test)), int(estimator.n_iter_)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3,000 training images, 2 epochs")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 5; quick 2)")
    parser.add_argument("--samples", type=int, default=None, help="training images used")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="best of this many fits")
    args = parser.parse_args(argv)
    epochs = args.epochs or (2 if args.quick else 5)
    samples = args.samples or (3_000 if args.quick else 60_000)

    (X, y), (X_test, y_test) = mlpkit.load_fashion_mnist(os.environ.get("MLPKIT_DATA"),
                                                         download=False)
    X = np.asarray(X[:samples], dtype=np.float64)
    y = y[:samples]
    X_test = np.asarray(X_test, dtype=np.float64)
    _fit(skl.MLPClassifier((10,), max_iter=1), X[:500], y[:500], X[:10], y[:10], 1)  # warm-up
    print(f"Fashion-MNIST: {X.shape[0]} training, {X_test.shape[0]} test images; {epochs} "
          f"epochs; scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{'network':<11} {'solver':<6} {'estimator':<22} {'fit s':>8} {'ratio':>6} "
          f"{'test acc':>8} {'epochs':>6}")
    for name, sizes in SIZES.items():
        for solver in ("sgd", "adam"):
            params = dict(hidden_layer_sizes=sizes, solver=solver, max_iter=epochs,
                          n_iter_no_change=epochs + 1, random_state=args.seed)
            rows = [
                ("scikit-learn", skl.MLPClassifier(**params)),
                ("mlpkit", mk.MLPClassifier(**params)),
                ("mlpkit dtype=float32", mk.MLPClassifier(dtype="float32", **params)),
            ]
            reference = None
            for label, estimator in rows:
                seconds, accuracy, n_iter = _fit(estimator, X, y, X_test, y_test, args.repeat)
                reference = reference or seconds
                print(f"{name:<11} {solver:<6} {label:<22} {seconds:8.2f} "
                      f"{seconds / reference:6.2f} {accuracy:8.4f} {n_iter:6d}", flush=True)


if __name__ == "__main__":
    main()
