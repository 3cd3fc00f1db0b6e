"""The shared machinery of :mod:`mlpkit.sklearn`: hyper-parameters, the fit loop, fitted attributes.

A scikit-learn estimator here is a thin adapter: ``fit`` checks the hyper-parameters, builds a
network with :func:`mlpkit.mlp`, an :class:`~mlpkit.SGD` or :class:`~mlpkit.Adam` optimiser and
a schedule, and hands the training to :func:`mlpkit.train` (backpropagation with mini-batch
gradient descent); nothing of the training loop is written twice.
"""

from __future__ import annotations

import math
import sys
import warnings
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..initializers import INITIALIZERS
from ..losses import Loss, get_loss
from ..network import mlp
from ..optimizers import SGD, Adam
from ..schedules import Constant, InverseScaling, ReduceOnPlateau
from ..training.callbacks import Callback
from ..training.loop import EarlyStopping, train
from ..validation import check_model_size

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _sk_validate_data = None

__all__ = ["BaseMLP"]

_HIDDEN_ACTIVATIONS = {"identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu", "linear"}
_OUTPUT_ACTIVATIONS = _HIDDEN_ACTIVATIONS | {"softmax"}
# scikit-learn's names for the output activation (out_activation_)
_SKLEARN_ACTIVATION_NAMES = {"sigmoid": "logistic"}


def validate_data(estimator, *args, **kwargs):
    """scikit-learn's ``validate_data`` on any version from 1.4 on."""
    if _sk_validate_data is not None:
        return _sk_validate_data(estimator, *args, **kwargs)
    return estimator._validate_data(*args, **kwargs)  # pragma: no cover


class _ClassWeightedLoss(Loss):
    """A loss whose every sample counts ``class_weight[class of the sample]`` times.

    The per-sample loss and its row of the output error δ^L are both multiplied by the weight
    (δ^L of a sample is linear in that sample's loss), so backpropagation is unchanged.
    """

    def __init__(self, base: Loss, weights: np.ndarray) -> None:
        super().__init__(base.reduction)
        self.base, self.weights = base, np.asarray(weights, dtype=np.float64)
        self.name = base.name  # type: ignore[misc]  # Loss.name is a ClassVar; wrapped per instance

    def sample_weights(self, t: np.ndarray) -> np.ndarray:
        """Weight of each sample (n_samples,) from its one-hot or 0/1 target row."""
        if t.shape[1] == 1:  # binary: one sigmoid unit, t = 1 for classes_[1]
            w = self.weights[0] + (self.weights[-1] - self.weights[0]) * t[:, 0]
        else:
            w = t @ self.weights
        return w.astype(t.dtype, copy=False)

    def targets(self, t, n_outputs, dtype):
        return self.base.targets(t, n_outputs, dtype)

    def value(self, a, t):
        per_sample = self.base._per_sample(a, t) * self.sample_weights(t)
        return float(np.sum(per_sample, dtype=np.float64) * self._scale(a.shape[0]))

    def output_delta(self, activation, z, a, t):
        delta = self.base.output_delta(activation, z, a, t)
        delta *= self.sample_weights(t)[:, None]
        return delta

    def get_config(self):
        return {**self.base.get_config(), "class_weights": self.weights.tolist()}


class _ValidationScore(Callback):
    """Scores the validation set after every epoch (accuracy or R²); with ``stopper`` set, stops
    training when the score has not risen by ``tol`` for ``n_iter_no_change`` epochs and puts
    back the weights of the best-scoring epoch (scikit-learn's ``early_stopping=True``)."""

    def __init__(self, score, stopper: EarlyStopping | None) -> None:
        self.score, self.stopper = score, stopper
        self.scores: list[float] = []
        self.stopped = False

    def on_train_begin(self, network, history, n_batches):
        self.network = network
        if self.stopper is not None:
            self.stopper.reset()

    def on_epoch_end(self, epoch, history):
        self.scores.append(float(self.score()))
        # EarlyStopping minimises, so it watches the negated score.
        if self.stopper is not None and self.stopper.update(epoch, -self.scores[-1], self.network):
            self.stopped = self.stop_training = True

    def on_train_end(self, history):
        if self.stopper is not None:
            self.stopper.restore(self.network)


class BaseMLP(BaseEstimator):
    """Hyper-parameters and ``fit`` shared by :class:`~mlpkit.sklearn.MLPClassifier` and
    :class:`~mlpkit.sklearn.MLPRegressor`; see those for the parameters."""

    _optimizer: SGD | Adam  # set by the first fit (annotation only: hasattr stays False)

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_HIDDEN_ACTIVATIONS)],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "output_activation": [None, StrOptions(_OUTPUT_ACTIVATIONS)],
        "l1": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions(set(INITIALIZERS)), callable],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dtype": [StrOptions({"float32", "float64"}), Options(type, {np.float32, np.float64})],
        "callbacks": [None, list, tuple],
        "threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    # -- what the two estimators define ------------------------------------------------------
    _y_numeric = True

    def _encode_targets(self, y, first: bool, classes=None) -> np.ndarray:
        """Targets as a (n_samples, n_outputs) float array; sets ``classes_`` on the first fit."""
        raise NotImplementedError

    def _default_output_activation(self) -> str:
        raise NotImplementedError

    def _loss_name(self, output_activation: str) -> str:
        return self.loss

    def _class_weights(self, y) -> np.ndarray | None:
        return None

    def _validation_score(self, outputs: np.ndarray, y) -> float:
        raise NotImplementedError

    def _split_stratify(self, y):
        return None

    # -- fitting -------------------------------------------------------------------------------
    def _check_hidden_layer_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, Integral) or size <= 0:
                raise ValueError(f"hidden_layer_sizes must be > 0, got {self.hidden_layer_sizes}.")
        return [int(s) for s in sizes]

    def _make_optimizer(self, batch_size: int) -> SGD | Adam:
        # scikit-learn adds alpha/(2 n_batch)·‖W‖² to the batch loss, i.e. alpha·W/batch_size to
        # the gradient of the mean loss: that is mlpkit's weight_decay λ = alpha / batch_size.
        decay = float(self.alpha) / batch_size
        if self.solver == "sgd":
            return SGD(
                learning_rate=self.learning_rate_init,
                momentum=self.momentum,
                nesterov=bool(self.nesterovs_momentum and self.momentum > 0),
                weight_decay=decay,
                l1=self.l1,
            )
        return Adam(
            learning_rate=self.learning_rate_init,
            beta1=self.beta_1,
            beta2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay=decay,
            l1=self.l1,
        )

    def _make_schedule(self, incremental: bool):
        if self.solver != "sgd" or incremental or self.learning_rate == "constant":
            return Constant()
        if self.learning_rate == "invscaling":
            return InverseScaling(power_t=self.power_t, per="sample")
        return ReduceOnPlateau(factor=0.2, patience=2, min_delta=self.tol)

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                UserWarning,
                stacklevel=5,
            )
        return min(int(self.batch_size), n_samples)

    def _progress_callbacks(self, epochs: int) -> list[Callback]:
        """``verbose``: a tqdm bar on a terminal or in Jupyter, else one summary line per epoch on
        stderr (where scikit-learn prints its "Iteration k, loss = ..." lines)."""
        if not self.verbose:
            return []
        from ..training.progress import EpochSummary, ProgressBar, in_notebook

        if not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()) and not in_notebook():
            return [EpochSummary(epochs=epochs)]
        try:
            return [ProgressBar(epochs=epochs)]
        except ImportError as error:
            raise ImportError(
                'verbose=True shows a progress bar, which needs tqdm: pip install "mlpkit[cli]"'
            ) from error

    def _fit(self, X, y, *, incremental: bool, validation_data=None, classes=None):
        if incremental and self.early_stopping:
            # as scikit-learn (gh-25693): one epoch per call leaves no epochs to compare
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "network_") or not (incremental or self.warm_start)
        X, y = validate_data(
            self,
            X,
            y,
            reset=first,
            dtype=[np.float64, np.float32],
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        hidden = self._check_hidden_layer_sizes()
        T = self._encode_targets(y, first, classes)
        dtype = np.dtype(self.dtype)
        if first:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            self._rng = np.random.default_rng(seed)
            activation = "sigmoid" if self.activation == "logistic" else self.activation
            out = self.output_activation or self._default_output_activation()
            out = "sigmoid" if out == "logistic" else out
            check_model_size([X.shape[1], *hidden, T.shape[1]], dtype)  # before allocating
            self.network_ = mlp(
                [X.shape[1], *hidden, T.shape[1]],
                activation=activation,
                output_activation=out,
                init=self.init,
                seed=self._rng,
                dtype=dtype,
                dropout=float(self.dropout),
            )
            self.history_ = None
            self.t_ = 0
            for name in ("_optimizer", "validation_scores_", "validation_loss_curve_"):
                self.__dict__.pop(name, None)
        network = self.network_
        out_name = network.output_layer.activation.name
        loss: Loss = get_loss(self._loss_name(out_name))
        weights = self._class_weights(y)
        if weights is not None:
            loss = _ClassWeightedLoss(loss, weights)

        # Validation data: given, or held out for early stopping (as scikit-learn does).
        X_val = y_val = T_val = None
        if validation_data is not None:
            if not (isinstance(validation_data, tuple | list) and len(validation_data) == 2):
                raise TypeError(
                    "validation_data must be a pair (X_val, y_val), got "
                    f"{type(validation_data).__name__}"
                )
            X_val, y_val = validate_data(
                self,
                *validation_data,
                reset=False,
                dtype=[np.float64, np.float32],
                multi_output=True,
            )
            T_val = self._encode_targets(y_val, False)
        elif self.early_stopping and not incremental:
            index = np.arange(X.shape[0])
            train_index, val_index = train_test_split(
                index,
                test_size=self.validation_fraction,
                stratify=self._split_stratify(y),
                random_state=int(self._rng.integers(np.iinfo(np.int32).max)),
            )
            if val_index.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            X_val, y_val, T_val = X[val_index], y[val_index], T[val_index]
            X, y, T = X[train_index], y[train_index], T[train_index]

        batch_size = self._batch_size(X.shape[0])
        if incremental and hasattr(self, "_optimizer"):
            optimizer = self._optimizer
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                optimizer.learning_rate = self.learning_rate_init / (self.t_ + 1) ** self.power_t
        else:
            optimizer = self._optimizer = self._make_optimizer(batch_size)

        callbacks: list[Callback] = []
        scorer = None
        if X_val is not None:
            use_for_stopping = self.early_stopping and not incremental
            patience = None if math.isinf(self.n_iter_no_change) else int(self.n_iter_no_change)
            stopper = None
            if use_for_stopping and patience is not None:
                # scikit-learn stops after more than n_iter_no_change epochs without a gain of tol
                stopper = EarlyStopping(patience=patience + 1, min_delta=self.tol)
            scorer = _ValidationScore(
                lambda: self._validation_score(network.forward(X_val), y_val), stopper
            )
            callbacks.append(scorer)
        epochs = 1 if incremental else int(self.max_iter)
        callbacks += list(self.callbacks or ()) + self._progress_callbacks(epochs)
        stopper = None
        if not incremental and not self.early_stopping and not math.isinf(self.n_iter_no_change):
            stopper = EarlyStopping(
                patience=int(self.n_iter_no_change) + 1,
                min_delta=self.tol,
                monitor="loss",
                restore_best_weights=False,
            )

        epochs_before = 0 if self.history_ is None else self.history_.epochs
        history = train(
            network,
            X,
            T,
            loss=loss,
            optimizer=optimizer,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=bool(self.shuffle),
            seed=self._rng,
            validation_data=None if X_val is None else (X_val, T_val),
            early_stopping=stopper,
            callbacks=callbacks,
            schedule=self._make_schedule(incremental),
            history=self.history_,
            threads=self.threads,
        )
        self.history_ = history
        epochs_run = history.epochs - epochs_before
        self.t_ += X.shape[0] * epochs_run
        self._set_fitted_attributes(network, history, scorer, epochs_before)
        if not incremental and history.stop_reason == "epochs" and epochs_run == self.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=4,  # _fit, fit, scikit-learn's fit wrapper, the caller
            )
        return self

    def _set_fitted_attributes(self, network, history, scorer, epochs_before: int) -> None:
        dense = network.dense_layers
        self.coefs_ = [layer.weights for layer in dense]
        self.intercepts_ = [layer.biases for layer in dense]
        self.n_iter_ = history.epochs
        self.n_layers_ = len(dense) + 1
        self.n_outputs_ = network.n_outputs
        name = network.output_layer.activation.name
        self.out_activation_ = _SKLEARN_ACTIVATION_NAMES.get(name, name)
        self.loss_curve_ = list(history.loss)
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else math.nan
        if scorer is not None:  # continue the curves of earlier warm-start / partial_fit calls
            scores = getattr(self, "validation_scores_", None) or []
            losses = getattr(self, "validation_loss_curve_", None) or []
            self.validation_scores_ = scores + scorer.scores
            self.validation_loss_curve_ = losses + list(history.val_loss[epochs_before:])
            self.best_validation_score_ = max(self.validation_scores_, default=None)
        else:
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_ = None
        self.best_loss_ = None if self.early_stopping else min(self.loss_curve_, default=None)

    # -- prediction ----------------------------------------------------------------------------
    def _forward(self, X) -> np.ndarray:
        """Output activations (n_samples, n_outputs) for X (n_samples, n_features_in_)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.network_.forward(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
