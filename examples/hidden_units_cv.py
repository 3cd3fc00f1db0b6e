"""Choose the number of hidden units by cross-validation, locally or on a Dask cluster.

The lectures pick the size of the hidden layer by k-fold cross-validation: train one network per
candidate size on k-1 folds, score it on the held-out fold, and keep the size with the best mean
validation score. This script runs that search with scikit-learn's ``GridSearchCV`` over
:class:`mlpkit.sklearn.MLPClassifier` and draws the validation curve with :mod:`mlpkit.plots`.

    python examples/hidden_units_cv.py                          # this machine, all cores
    python examples/hidden_units_cv.py --local-cluster 2        # a 2-worker Dask LocalCluster
    python examples/hidden_units_cv.py --scheduler tcp://10.0.0.5:8786   # an existing cluster

Needs the ``sklearn`` and ``plot`` extras, and ``dask`` for the cluster options.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import numpy as np


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--hidden-units",
        type=int,
        nargs="+",
        default=[2, 4, 8, 16, 32, 64, 128],
        help="candidate sizes",
    )
    parser.add_argument("--folds", type=int, default=5, help="k of k-fold cross-validation")
    parser.add_argument("--epochs", type=int, default=200, help="max_iter of every network")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="hidden_units_cv.png", help="PNG of the curve")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler")
    where.add_argument(
        "--local-cluster",
        type=int,
        metavar="N_WORKERS",
        help="start a Dask LocalCluster with this many worker processes",
    )
    return parser.parse_args(argv)


@contextlib.contextmanager
def dask_backend(args: argparse.Namespace):
    """joblib's Dask backend on the chosen cluster, or nothing (joblib's local processes)."""
    if args.scheduler is None and args.local_cluster is None:
        yield "this machine"
        return
    try:
        import joblib
        from distributed import Client, LocalCluster
    except ImportError as error:
        raise SystemExit('the Dask options need: pip install "mlpkit[dask]"') from error
    with contextlib.ExitStack() as stack:
        if args.scheduler is not None:
            client = stack.enter_context(Client(args.scheduler))
        else:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=args.local_cluster,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        stack.enter_context(joblib.parallel_backend("dask"))
        n_workers = len(client.scheduler_info()["workers"])
        yield f"Dask cluster {client.scheduler.address} ({n_workers} workers)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlpkit import plots
    from mlpkit.datasets import load_digits
    from mlpkit.sklearn import MLPClassifier

    X, y = load_digits()
    model = make_pipeline(
        StandardScaler(),
        # early stopping on a 10 % validation split of each training fold, as in the lectures
        MLPClassifier(max_iter=args.epochs, random_state=args.seed, early_stopping=True),
    )
    grid = {"mlpclassifier__hidden_layer_sizes": [(n,) for n in args.hidden_units]}
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    search = GridSearchCV(model, grid, cv=folds, return_train_score=True, n_jobs=-1)

    with dask_backend(args) as where:
        started = time.perf_counter()
        search.fit(X, y)
        seconds = time.perf_counter() - started

    results = search.cv_results_
    folds_of = lambda kind: np.column_stack(  # noqa: E731 - (n_values, n_folds) score table
        [results[f"split{i}_{kind}_score"] for i in range(args.folds)]
    )
    print(f"{len(args.hidden_units) * args.folds} fits on {where} in {seconds:.1f} s")
    print(f"{'hidden units':>12}  {'train':>7}  {'validation':>10}")
    for n, train, val in zip(
        args.hidden_units, results["mean_train_score"], results["mean_test_score"], strict=True
    ):
        print(f"{n:>12}  {train:7.4f}  {val:10.4f}")
    best = search.best_params_["mlpclassifier__hidden_layer_sizes"][0]
    print(f"best: {best} hidden units (validation accuracy {search.best_score_:.4f})")
    plots.plot_validation_curve(
        args.hidden_units, folds_of("train"), folds_of("test"), "hidden units", path=args.output
    )
    print(f"validation curve written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
