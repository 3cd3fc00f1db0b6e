"""scikit-learn's own estimator checks on mlpkit.sklearn.MLPClassifier and MLPRegressor.

One check skips by design: ``check_classifiers_multilabel_output_format_decision_function``
(the classifier has no ``decision_function``, like scikit-learn's own ``MLPClassifier``).
"""

import os
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks

from mlpkit.sklearn import MLPClassifier, MLPRegressor

# Small networks and few epochs keep the checks fast (the defaults are unchanged; scikit-learn
# runs its own MLPs with max_iter=100 in its common tests). Convergence warnings are expected.
ESTIMATORS = [
    MLPClassifier(max_iter=100, random_state=0),
    MLPRegressor(max_iter=100, random_state=0),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_array_api_check_with_dispatch_enabled():
    """``check_array_api_input`` skips unless SCIPY_ARRAY_API=1 is set before SciPy is
    imported, so it runs here in a fresh interpreter with that variable set."""
    code = (
        "import warnings\n"
        "from sklearn.exceptions import ConvergenceWarning\n"
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from mlpkit.sklearn import MLPClassifier, MLPRegressor\n"
        "warnings.simplefilter('error')\n"
        "warnings.simplefilter('ignore', ConvergenceWarning)\n"
        "for est in (MLPClassifier(max_iter=100, random_state=0),\n"
        "            MLPRegressor(max_iter=100, random_state=0)):\n"
        "    check_array_api_input(type(est).__name__, est, array_namespace='numpy',\n"
        "                          expect_only_array_outputs=False)\n"
    )
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
