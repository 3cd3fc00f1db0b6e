"""scikit-learn estimators for multi-layer perceptrons trained by backpropagation.

:class:`MLPClassifier` and :class:`MLPRegressor` are drop-ins for scikit-learn's classes of the
same name: the same parameters and defaults, the same fitted attributes, and the same training
steps in the same order, so that the same ``random_state`` gives the same model (initial
weights, validation split, shuffles, mini-batches, optimiser updates, stopping rule; see
``docs/sklearn.md`` for the few differences). scikit-learn's own ``test_mlp.py``, with its
import pointed here, passes (``tests/sklearn/test_sklearn_upstream.py``).

On top of scikit-learn's parameters they take mlpkit's own: other losses
(``"absolute_error"``, Poisson), an ``output_activation``, an ``l1`` penalty, initialisers,
dropout, class weights, a ``dtype``, ``validation_data`` for ``fit`` and ``callbacks``.
:func:`save` and :func:`load` keep a fitted estimator in mlpkit's model file (no pickle).
Needs the ``sklearn`` extra: ``pip install "mlpkit[sklearn]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

try:
    from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils._param_validation import StrOptions
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import (
        _check_partial_fit_first_call,
        type_of_target,
        unique_labels,
    )
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('mlpkit.sklearn needs scikit-learn: pip install "mlpkit[sklearn]"') from error

from ..training.callbacks import Callback
from ._base import BaseMLP
from ._files import load, save

__all__ = ["MLPClassifier", "MLPRegressor", "load", "save"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's ``MLPClassifier``.

    Softmax outputs with cross-entropy for several classes, one logistic unit per label with
    binary cross-entropy for two classes and for multilabel targets, as in scikit-learn.

    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, \
learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start, \
momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon, \
n_iter_no_change, max_fun
        As in scikit-learn, with the same defaults and the same effect.
    output_activation : str or None
        Activation of the output layer; None chooses softmax or logistic as above.
    loss : {"log_loss", "squared_error", "absolute_error"}
        "log_loss" (scikit-learn's) is the cross-entropy matched to the output activation.
    l1 : float >= 0
        L1 penalty: adds ``l1 · sign(W)`` to the gradient of the batch loss.
    init : str or callable
        "glorot" (default) draws scikit-learn's initial weights and intercepts; the other
        initialisers of :mod:`mlpkit.initializers` draw the weights and start intercepts at 0.
    dropout : float in [0, 1)
        Dropout rate after every hidden layer while training (inverted dropout).
    class_weight : dict, "balanced" or None
        Multiplies each sample's weight by the weight of its class.
    dtype : None, "float32" or "float64"
        Precision of the network; None (default) keeps the input's, as scikit-learn does.
    callbacks : list of mlpkit.Callback or None
        Receive mlpkit's training events once per epoch (stochastic solvers).
    threads : int or None
        BLAS threads while fitting; None chooses by layer size and machine load (see
        :mod:`mlpkit.fast.threads`).

    Attributes
    ----------
    classes_, coefs_, intercepts_, loss_, best_loss_, loss_curve_, validation_scores_, \
best_validation_score_, t_, n_features_in_, feature_names_in_, n_iter_, n_layers_, \
n_outputs_, out_activation_
        As in scikit-learn; ``coefs_[i]`` is (n_units_i, n_units_{i+1}).
    validation_loss_curve_ : list of float or None
        Loss on the validation set after every epoch (with a validation set).
    history_ : mlpkit.History
        Per-epoch loss, validation loss and score, learning rate.
    network_ : mlpkit.Network
        The fitted model as an mlpkit network (a copy).
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error", "absolute_error"})],
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        output_activation: str | None = None,
        loss: str = "log_loss",
        l1: float = 0.0,
        init="glorot",
        dropout: float = 0.0,
        class_weight: dict | str | None = None,
        dtype: str | None = None,
        callbacks: Sequence[Callback] | None = None,
        threads: int | None = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.loss = loss
        self.l1 = l1
        self.init = init
        self.dropout = dropout
        self.class_weight = class_weight
        self.dtype = dtype
        self.callbacks = callbacks
        self.threads = threads

    # -- targets ------------------------------------------------------------------------------
    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        self._class_labels = y
        return X, self._label_binarizer.transform(y).astype(bool)

    def _targets_for_validation(self, y_val):
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        return self._label_binarizer.transform(y_val).astype(np.float64)

    def _validation_labels(self, T_val):
        return self._label_binarizer.inverse_transform(T_val)

    def _default_output_activation(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    def _class_sample_weight(self, Y, sample_weight):
        if self.class_weight is None:
            return sample_weight
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets, got "
                f"class_weight={self.class_weight!r}"
            )
        y = self._class_labels
        present = np.isin(self.classes_, y)
        weights = np.ones(len(self.classes_))
        weights[present] = compute_class_weight(
            self.class_weight, classes=self.classes_[present], y=y
        )
        per_sample = weights[np.searchsorted(self.classes_, y)]
        return per_sample if sample_weight is None else sample_weight * per_sample

    def _score_from_outputs(self, outputs, y, sample_weight):
        y_pred = self._outputs_to_labels(outputs)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return float(accuracy_score(y, y_pred, sample_weight=sample_weight))

    def _outputs_to_labels(self, outputs):
        if self.n_outputs_ == 1:
            outputs = outputs.ravel()
        return self._label_binarizer.inverse_transform(outputs)

    # -- public API ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Train on X (n_samples, n_features) and labels y (n_samples,), or a label-indicator
        matrix (n_samples, n_labels) for multilabel.

        ``sample_weight`` (n_samples,) weights each sample's loss. ``validation_data=(X_val,
        y_val)`` is scored after every epoch (and used for early stopping instead of a
        ``validation_fraction`` split). Returns ``self``.
        """
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y); ``classes`` (all labels) is required on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X, check_input=True):
        return self._outputs_to_labels(self._forward_pass_fast(X, check_input=check_input))

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def predict(self, X) -> np.ndarray:
        """Labels (n_samples,), or a label-indicator matrix for multilabel targets."""
        check_is_fitted(self)
        return self._predict(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n_samples, n_classes), in the order of ``classes_``."""
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        if self._label_binarizer.y_type_ == "multiclass" and self.out_activation_ != "softmax":
            # mlpkit's other output activations: non-negative parts normalised to sum to 1
            y_pred = np.clip(y_pred, 0, None)
            total = y_pred.sum(axis=1, keepdims=True)
            uniform = np.asarray(1.0 / y_pred.shape[1], dtype=y_pred.dtype)
            y_pred = np.where(total > 0, y_pred / np.where(total > 0, total, 1), uniform)
        return y_pred

    def predict_log_proba(self, X) -> np.ndarray:
        """Natural log of :meth:`predict_proba`."""
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's ``MLPRegressor``.

    Identity outputs with half the squared error, or exponential outputs with the half Poisson
    deviance for ``loss="poisson"``, as in scikit-learn; mlpkit adds ``"absolute_error"``
    (Σ_outputs |a − t|). The other parameters are those of :class:`MLPClassifier` without
    ``class_weight``; ``validation_scores_`` are R² scores.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson", "absolute_error"})],
    }

    def __init__(
        self,
        loss: str = "squared_error",
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state=None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        max_fun: int = 15000,
        output_activation: str | None = None,
        l1: float = 0.0,
        init="glorot",
        dropout: float = 0.0,
        dtype: str | None = None,
        callbacks: Sequence[Callback] | None = None,
        threads: int | None = None,
    ) -> None:
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.output_activation = output_activation
        self.l1 = l1
        self.init = init
        self.dropout = dropout
        self.dtype = dtype
        self.callbacks = callbacks
        self.threads = threads

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if not reset and hasattr(self, "coefs_"):
            n_targets = 1 if y.ndim == 1 else y.shape[1]
            if n_targets != self.coefs_[-1].shape[1]:
                raise ValueError(
                    f"y must have {self.coefs_[-1].shape[1]} target columns, one per network "
                    f"output, got {n_targets}"
                )
        return X, y

    def _targets_for_validation(self, y_val):
        return y_val.reshape(-1, 1) if y_val.ndim == 1 else y_val

    def _default_output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    def _score_from_outputs(self, outputs, y, sample_weight):
        y_pred = outputs.ravel() if outputs.shape[1] == 1 else outputs
        if not np.isfinite(y_pred).all():
            return np.nan
        return float(r2_score(y, y_pred, sample_weight=sample_weight))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, validation_data=None):
        """Train on X (n_samples, n_features) and targets y (n_samples,) or
        (n_samples, n_targets); see :meth:`MLPClassifier.fit`. Returns ``self``."""
        return self._fit(X, y, sample_weight=sample_weight, validation_data=validation_data)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def predict(self, X) -> np.ndarray:
        """Predictions (n_samples,), or (n_samples, n_targets) for several targets."""
        check_is_fitted(self)
        return self._predict(X)
