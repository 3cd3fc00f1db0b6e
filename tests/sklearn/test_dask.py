"""Cross-validated choice of the number of hidden units, run on a Dask cluster through joblib's
Dask backend, gives the same result as the same search run locally."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402

from mlpkit.sklearn import MLPClassifier  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning",
    # the cluster's own shutdown chatter is not under test
    "ignore::ResourceWarning",
    "ignore::UserWarning:distributed.*",
    "ignore::DeprecationWarning",
)


def search(n_jobs=None):
    return GridSearchCV(
        MLPClassifier(max_iter=30, learning_rate_init=0.01, random_state=0),
        {"hidden_layer_sizes": [(2,), (8,), (32,)]},
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
        return_train_score=True,
        n_jobs=n_jobs,
    )


def test_grid_search_on_a_local_dask_cluster_equals_the_local_run():
    X, y = make_classification(
        n_samples=240, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    local = search().fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        with joblib.parallel_backend("dask"):
            remote = search(n_jobs=-1).fit(X, y)
        # the fits really ran in the workers' processes: they had to import the estimator
        imported = client.run(lambda: "mlpkit.sklearn" in __import__("sys").modules)
        assert len(imported) == 2 and any(imported.values())

    assert remote.best_params_ == local.best_params_
    for key in ("mean_test_score", "mean_train_score", "split0_test_score"):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
