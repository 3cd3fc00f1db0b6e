"""scikit-learn estimators for multi-layer perceptrons trained by backpropagation.

:class:`MLPClassifier` and :class:`MLPRegressor` take the constructor parameters of
scikit-learn's classes of the same name, plus the lecture's own (other losses, L1, dropout,
initialisers, class weights, a validation set, callbacks), and train with :func:`mlpkit.train`.
Needs the ``sklearn`` extra: ``pip install "mlpkit[sklearn]"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np

try:
    from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils._param_validation import StrOptions
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import column_or_1d
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError('mlpkit.sklearn needs scikit-learn: pip install "mlpkit[sklearn]"') from error

from ..training.callbacks import Callback
from ._base import BaseMLP

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, a drop-in for scikit-learn's ``MLPClassifier``.

    The output layer is softmax with cross-entropy for several classes and one sigmoid unit
    per label with binary cross-entropy for two classes and for multilabel targets (as in
    scikit-learn), unless ``output_activation`` or ``loss`` say otherwise.

    Parameters
    ----------
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate, \
learning_rate_init, power_t, max_iter, shuffle, random_state, tol, warm_start, momentum, \
nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon, \
n_iter_no_change
        As in scikit-learn, with the same defaults; ``solver`` is 'sgd' or 'adam' ('lbfgs'
        is not offered). ``alpha`` becomes mlpkit's ``weight_decay = alpha / batch_size``.
    verbose : bool
        Show a progress bar on a terminal (needs the ``cli`` extra), else one line per epoch
        on stderr.
    output_activation : str or None
        Activation of the output layer; None chooses softmax or sigmoid as above.
    loss : {"log_loss", "squared_error", "absolute_error"}
        "log_loss" is cross-entropy matched to the output activation.
    l1 : float >= 0
        L1 penalty: adds ``l1 · sign(W)`` to the gradient of the mean batch loss.
    init : str or callable
        Weight initialiser ("glorot", the default like scikit-learn's, "uniform", "normal", "he").
    dropout : float in [0, 1)
        Dropout rate after every hidden layer while training.
    class_weight : dict, "balanced" or None
        Weight of each class's samples in the loss (as in scikit-learn's linear models).
    dtype : {"float64", "float32"}
        Precision of the network; float32 is about twice as fast.
    callbacks : list of mlpkit.Callback or None
        Receive the training events of :func:`mlpkit.train`.
    threads : int or None
        BLAS threads while fitting; None chooses by layer size and machine load (see
        :mod:`mlpkit.fast.threads`).

    Attributes
    ----------
    classes_ : ndarray (n_classes,)
    coefs_, intercepts_ : lists of ndarray
        ``coefs_[i]`` is (n_units_i, n_units_{i+1}); they are the network's own arrays.
    loss_, best_loss_, loss_curve_ : training loss (mean over samples, without the penalty)
    validation_scores_, best_validation_score_ : accuracy on the validation set per epoch
    validation_loss_curve_ : list of float or None
        Loss on the validation set per epoch.
    n_iter_, t_, n_layers_, n_outputs_, out_activation_, n_features_in_, feature_names_in_
    network_ : mlpkit.Network
    history_ : mlpkit.History
    """

    _y_numeric = False
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
        output_activation: str | None = None,
        loss: str = "log_loss",
        l1: float = 0.0,
        init="glorot",
        dropout: float = 0.0,
        class_weight: dict | str | None = None,
        dtype: str = "float64",
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
    def _encode_targets(self, y, first, classes=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y if classes is None or y.ndim == 2 else classes)
            self.classes_ = self._label_binarizer.classes_
        else:
            known = self.classes_
            labels = unique_labels(y)
            if y.ndim == 1 and not np.isin(labels, known).all():
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{known}. 'y' has {labels}."
                )
        T = self._label_binarizer.transform(y)
        return np.asarray(T, dtype=np.dtype(self.dtype))

    def _default_output_activation(self):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "sigmoid"

    def _loss_name(self, output_activation):
        if self.loss == "log_loss":
            return "cross_entropy" if output_activation == "softmax" else "binary_cross_entropy"
        return self.loss

    def _class_weights(self, y):
        if self.class_weight is None:
            return None
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError(
                "class_weight is not supported for multilabel targets, got "
                f"class_weight={self.class_weight!r}"
            )
        y = column_or_1d(y) if y.ndim == 2 else y
        return compute_class_weight(self.class_weight, classes=self.classes_, y=y)

    def _split_stratify(self, y):
        return y if y.ndim == 1 else None

    def _validation_score(self, outputs, y):
        predicted = self._outputs_to_labels(outputs)
        y = column_or_1d(y) if y.ndim == 2 and y.shape[1] == 1 else y
        if predicted.ndim == 2:  # multilabel: exact-match accuracy, as scikit-learn's score
            return float(np.mean(np.all(predicted == y, axis=1)))
        return float(np.mean(predicted == y))

    def _outputs_to_labels(self, outputs):
        if self._label_binarizer.y_type_ == "multiclass":
            return self.classes_[np.argmax(outputs, axis=1)]
        threshold = 0.0 if self.network_.output_layer.activation.name == "tanh" else 0.5
        return self._label_binarizer.inverse_transform(outputs, threshold=threshold)

    # -- public API ---------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, validation_data=None):
        """Train on X (n_samples, n_features) and labels y (n_samples,), or a label-indicator
        matrix (n_samples, n_labels) for multilabel; ``max_iter`` epochs at most.

        ``validation_data=(X_val, y_val)`` is scored after every epoch (and used for early
        stopping instead of a ``validation_fraction`` split). Returns ``self``.
        """
        return self._fit(X, y, incremental=False, validation_data=validation_data)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch over (X, y); ``classes`` (all labels) is required on the first call."""
        first = not hasattr(self, "network_")
        if first and classes is None and not (np.ndim(y) == 2 and np.shape(y)[1] > 1):
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if (
            not first
            and classes is not None
            and not np.array_equal(self.classes_, unique_labels(classes))
        ):
            raise ValueError(
                f"`classes={classes!r}` is not the same as on last call to "
                f"partial_fit, was: {self.classes_!r}"
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n_samples, n_classes); rows sum to 1 except for multilabel."""
        a = self._forward(X)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return a
        if len(self.classes_) == 1:
            return np.ones((a.shape[0], 1), dtype=a.dtype)
        if a.shape[1] == 1:
            return np.hstack([1.0 - a, a])
        if self.network_.output_layer.activation.name != "softmax":
            # non-softmax outputs (e.g. sigmoid with squared error) normalised to sum to 1
            a = np.clip(a, 0.0, None)
            total = a.sum(axis=1, keepdims=True)
            a = np.where(total > 0, a / np.where(total > 0, total, 1.0), 1.0 / a.shape[1])
        return a

    def predict_log_proba(self, X) -> np.ndarray:
        """Natural log of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Labels (n_samples,), or a label-indicator matrix for multilabel targets."""
        return self._outputs_to_labels(self._forward(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor, a drop-in for scikit-learn's ``MLPRegressor``.

    Identity output units with the squared error ½ Σ (a − t)² averaged over the samples
    (``loss="absolute_error"`` for Σ |a − t|). The parameters are those of
    :class:`MLPClassifier` without ``class_weight``; ``validation_scores_`` are R² scores.
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error"})],
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
        output_activation: str | None = None,
        loss: str = "squared_error",
        l1: float = 0.0,
        init="glorot",
        dropout: float = 0.0,
        dtype: str = "float64",
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
        self.output_activation = output_activation
        self.loss = loss
        self.l1 = l1
        self.init = init
        self.dropout = dropout
        self.dtype = dtype
        self.callbacks = callbacks
        self.threads = threads

    def _encode_targets(self, y, first, classes=None):
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        T = y.reshape(-1, 1) if y.ndim == 1 else y
        if not first and T.shape[1] != self.network_.n_outputs:
            raise ValueError(
                f"y must have {self.network_.n_outputs} target columns, one per network "
                f"output, got {T.shape[1]}"
            )
        return np.asarray(T, dtype=np.dtype(self.dtype))

    def _default_output_activation(self):
        return "identity"

    def _validation_score(self, outputs, y):
        from sklearn.metrics import r2_score

        return float(r2_score(y, outputs.ravel() if np.ndim(y) == 1 else outputs))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, validation_data=None):
        """Train on X (n_samples, n_features) and targets y (n_samples,) or (n_samples,
        n_targets); ``validation_data=(X_val, y_val)`` is scored (R²) after every epoch.
        Returns ``self``."""
        return self._fit(X, y, incremental=False, validation_data=validation_data)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """One epoch over (X, y), continuing from the current weights."""
        return self._fit(X, y, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predicted targets, (n_samples,) for one target, else (n_samples, n_targets)."""
        a = self._forward(X)
        return a.ravel() if a.shape[1] == 1 else a
