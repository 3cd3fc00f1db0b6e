"""The shared machinery of :mod:`mlpkit.sklearn`: hyper-parameters, fit loops, fitted attributes.

The estimator keeps its model the way scikit-learn's does: ``coefs_`` and ``intercepts_`` are
plain lists of arrays (assigning new arrays changes the predictions), and ``_fit_stochastic``
and ``_fit_lbfgs`` take scikit-learn's steps in scikit-learn's order: the same draws from the
random state (initial weights, validation split, shuffles), the same mini-batches, the same
optimiser updates and the same stopping rule. The arithmetic lives in :mod:`._engine`; the
activations and output errors come from mlpkit's core. The stochastic solvers' mini-batch step
runs :class:`._step.StochasticStep` where it applies (the same numbers with reused buffers and
compiled kernels), else :func:`._engine.backprop`. ``network_`` gives the fitted model as a
:class:`mlpkit.Network`.
"""

from __future__ import annotations

import math
import warnings
from itertools import chain, pairwise
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..fast.threads import blas_threads
from ..initializers import INITIALIZERS, get_initializer
from ..training.callbacks import Callback
from ..training.history import History
from ..training.lbfgs import minimize_lbfgs
from ..validation import check_model_size
from . import _engine
from ._step import StochasticStep

__all__ = ["BaseMLP"]

_HIDDEN_ACTIVATIONS = {"identity", "logistic", "tanh", "relu", "sigmoid", "leaky_relu", "linear"}
_OUTPUT_ACTIVATIONS = _HIDDEN_ACTIVATIONS | {"softmax", "exp"}
# mlpkit's names -> scikit-learn's (out_activation_ and activation use scikit-learn's)
_SKLEARN_NAMES = {"sigmoid": "logistic", "linear": "identity"}


def _sk_name(name: str) -> str:
    return _SKLEARN_NAMES.get(name, name)


class BaseMLP(BaseEstimator):
    """Hyper-parameters and ``fit`` shared by :class:`~mlpkit.sklearn.MLPClassifier` and
    :class:`~mlpkit.sklearn.MLPRegressor`; see those for the parameters."""

    _parameter_constraints: ClassVar[dict] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(_HIDDEN_ACTIVATIONS)],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
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
        "momentum": [Interval(Real, 0, 1, closed="both")],
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
        "max_fun": [Interval(Integral, 1, None, closed="left")],
        "output_activation": [None, StrOptions(_OUTPUT_ACTIVATIONS)],
        "l1": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions(set(INITIALIZERS)), callable],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dtype": [
            None,
            StrOptions({"float32", "float64"}),
            Options(type, {np.float32, np.float64}),
        ],
        "callbacks": [None, list, tuple],
        "threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    # -- what the two estimators define ------------------------------------------------------
    def _validate_input(self, X, y, incremental, reset):
        """(X, Y): X validated, Y the targets as (n_samples, n_outputs) or 1-D."""
        raise NotImplementedError

    def _default_output_activation(self) -> str:
        raise NotImplementedError

    def _predict(self, X, check_input=True):
        raise NotImplementedError

    def _score(self, X, y, sample_weight=None):
        raise NotImplementedError

    def _class_sample_weight(self, Y, sample_weight):
        return sample_weight

    def _check_solver(self):
        if self.solver not in ("sgd", "adam"):
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    # -- fitting -------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False, validation_data=None):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {hidden_layer_sizes}.")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if self.dtype is not None:
            X = X.astype(np.dtype(self.dtype), copy=False)
        n_features = X.shape[1]
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features, *hidden_layer_sizes, self.n_outputs_]
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        sample_weight = self._class_sample_weight(y, sample_weight)
        Y = np.asarray(y, dtype=X.dtype)
        # Overflow on the way to divergence is not warned about, but its result is reported:
        # non-finite weights raise below (scikit-learn's error), a NaN score stops early.
        if self.solver == "lbfgs" or self.batch_size == "auto":
            rows = X.shape[0] if self.solver == "lbfgs" else min(200, X.shape[0])
        else:
            rows = min(int(self.batch_size), X.shape[0])
        with (
            blas_threads(self.threads, layer_units, rows),
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        ):
            if self.solver == "lbfgs":
                self._fit_lbfgs(X, Y, sample_weight)
            else:
                self._fit_stochastic(X, Y, sample_weight, incremental, validation_data)
        weights = chain(self.coefs_, self.intercepts_)
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = _sk_name(self.output_activation or self._default_output_activation())
        check_model_size(layer_units, dtype)  # refuse an impossible model before allocating
        self.coefs_, self.intercepts_ = [], []
        for fan_in, fan_out in pairwise(layer_units):
            coef, intercept = self._init_coef(fan_in, fan_out, dtype)
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        self.history_ = History()
        for name in ("_optimizer", "loss_curve_", "loss_"):
            self.__dict__.pop(name, None)
        self.validation_loss_curve_ = None
        if self.solver != "lbfgs":
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        if self.init in ("glorot", "xavier"):
            # scikit-learn's Glorot uniform: bound √(6 / (fan_in + fan_out)), √(2 / ...) for
            # logistic units; the weights, then the intercepts, from the estimator's RandomState
            factor = 2.0 if self.activation in ("logistic", "sigmoid") else 6.0
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept = self._random_state.uniform(-bound, bound, fan_out)
        else:  # mlpkit's initialisers: weights from the initialiser, intercepts 0
            rng = np.random.default_rng(self._random_state.randint(np.iinfo(np.int32).max))
            coef = np.asarray(get_initializer(self.init)(fan_in, fan_out, rng))
            intercept = np.zeros(fan_out)
        return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)

    def _fit_lbfgs(self, X, Y, sample_weight):
        def fun(packed):
            return self._loss_grad_lbfgs(packed, X, Y, sample_weight)

        result = minimize_lbfgs(
            fun,
            _engine.pack(self.coefs_, self.intercepts_),
            max_iter=self.max_iter,
            max_fun=self.max_fun,
            tol=self.tol,
        )
        self.n_iter_ = min(result.nit, self.max_iter)
        if result.status != 0:
            message = (
                f"lbfgs failed to converge after {self.n_iter_} iteration(s) "
                f"(status={result.status}):\n{result.message}\n"
            )
            if self.n_iter_ == self.max_iter:
                message += (
                    "\nIncrease the number of iterations to improve the convergence "
                    f"(max_iter={self.max_iter})."
                )
            message += (
                "\nYou might also want to scale the data as shown in:\n"
                "    https://scikit-learn.org/stable/modules/preprocessing.html"
            )
            warnings.warn(message, ConvergenceWarning, stacklevel=4)
        self.loss_ = result.fun
        _engine.unpack(self, result.x)

    def _loss_grad_lbfgs(self, packed_coef_inter, X, y, sample_weight, *buffers):
        """Loss and its gradient as one flat vector for the packed parameters (coefficients,
        then intercepts), as scikit-learn's method of the same name (its work buffers, if
        passed, are not needed)."""
        _engine.unpack(self, packed_coef_inter)
        loss, coef_grads, intercept_grads = _engine.backprop(
            self, X, np.asarray(y, dtype=X.dtype), sample_weight
        )
        return loss, _engine.pack(coef_grads, intercept_grads)

    def _make_optimizer(self):
        params = self.coefs_ + self.intercepts_
        if self.solver == "sgd":
            return _engine.SGDOptimizer(
                params,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return _engine.AdamOptimizer(
            params, self.learning_rate_init, self.beta_1, self.beta_2, self.epsilon
        )

    def _split(self, X, Y, sample_weight, incremental, validation_data):
        """(train, validation) parts: ``validation_data`` if given, else scikit-learn's
        ``validation_fraction`` split with early stopping (the same draw), else no validation."""
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if validation_data is not None:
            if not (isinstance(validation_data, tuple | list) and len(validation_data) == 2):
                raise TypeError(
                    "validation_data must be a pair (X_val, y_val), got "
                    f"{type(validation_data).__name__}"
                )
            X_val, y_val = validate_data(
                self, *validation_data, reset=False, dtype=[np.float64, np.float32],
                accept_sparse=["csr", "csc"], multi_output=True,
            )
            X_val = X_val.astype(X.dtype, copy=False)
            T_val = self._targets_for_validation(y_val)
            return (X, Y, sample_weight), (X_val, y_val, T_val, None)
        if not self.early_stopping:
            return (X, Y, sample_weight), None
        # scikit-learn stratifies on its boolean label-indicator targets
        stratify = Y.astype(bool) if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, Y) if sample_weight is None else (X, Y, sample_weight)
        parts = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, Y_train, T_val = parts[:4]
        sw_train, sw_val = (None, None) if sample_weight is None else parts[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        y_val = self._validation_labels(T_val)
        return (X_train, Y_train, sw_train), (X_val, y_val, T_val, sw_val)

    def _targets_for_validation(self, y_val):
        raise NotImplementedError

    def _validation_labels(self, T_val):
        return T_val

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than sample size. It is going to be "
                "clipped",
                stacklevel=5,
            )
        return int(np.clip(self.batch_size, 1, n_samples))

    def _fit_stochastic(self, X, Y, sample_weight, incremental, validation_data):
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._make_optimizer()
        if getattr(self, "history_", None) is None:  # coefs_ set by hand (as in scikit-learn)
            self.history_ = History()
        (X_train, Y_train, sw_train), validation = self._split(
            X, Y, sample_weight, incremental, validation_data
        )
        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=int)
        batch_size = self._batch_size(n_samples)
        dropout_rng = None
        if self.dropout:
            dropout_rng = np.random.default_rng(self._random_state.randint(np.iinfo(np.int32).max))
        _check_callbacks(self.callbacks)
        bars = self._progress_callbacks(1 if incremental else int(self.max_iter))
        self._print_lines = bool(self.verbose) and not bars
        callbacks = list(self.callbacks or ()) + bars
        if callbacks:
            network = self.network_
            for callback in callbacks:
                callback.stop_training = False
                callback.on_train_begin(network, self.history_, -(-n_samples // batch_size))
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                for callback in callbacks:
                    callback.on_epoch_begin(self.history_.epochs)
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                self.loss_ = self._epoch(
                    X_train, Y_train, sw_train, sample_idx, batch_size, dropout_rng, callbacks
                )
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self._print_lines:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                self._update_no_improvement_count(validation)
                self._record_epoch(callbacks)
                self._optimizer.iteration_ends(self.t_)
                if self._no_improvement_count > self.n_iter_no_change:
                    if self._stop_or_lower_rate(validation):
                        break
                if incremental or any(callback.stop_training for callback in callbacks):
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                        "and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=5,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=4)
        if validation is not None and self.early_stopping:
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts
        for callback in callbacks:
            callback.on_train_end(self.history_)

    def _epoch(self, X, Y, sample_weight, sample_idx, batch_size, dropout_rng,
               callbacks=()) -> float:
        """One pass over the mini-batches; returns the mean batch loss weighted by batch size."""
        params = self.coefs_ + self.intercepts_
        n_samples = X.shape[0]
        accumulated_loss = 0.0
        epoch = self.history_.epochs
        # the same numbers as _engine.backprop, with reused buffers and compiled kernels
        step = StochasticStep.create(self, X, Y, sample_weight, batch_size)
        for batch, batch_slice in enumerate(gen_batches(n_samples, batch_size)):
            batch_idx = sample_idx[batch_slice] if self.shuffle else batch_slice
            if step is not None:
                batch_loss, grads = step.backprop(batch_idx), step.grads
            else:
                sw = None if sample_weight is None else sample_weight[batch_idx]
                batch_loss, coef_grads, intercept_grads = _engine.backprop(
                    self, X[batch_idx], Y[batch_idx], sw, dropout_rng
                )
                grads = coef_grads + intercept_grads
            accumulated_loss += batch_loss * (batch_slice.stop - batch_slice.start)
            self._optimizer.update_params(params, grads)
            for callback in callbacks:
                callback.on_batch_end(epoch, batch, float(batch_loss))
        return accumulated_loss / n_samples

    def _progress_callbacks(self, epochs: int) -> list[Callback]:
        """``verbose`` in Jupyter: a tqdm notebook bar per epoch instead of scikit-learn's
        "Iteration k, loss = ..." lines, which are printed everywhere else."""
        if not self.verbose:
            return []
        from ..training.progress import ProgressBar, in_notebook

        if not in_notebook():
            return []
        try:
            return [ProgressBar(epochs=epochs)]
        except ImportError as error:
            raise ImportError(
                'verbose=True in Jupyter draws a progress bar, which needs tqdm: '
                'pip install "mlpkit[cli]"'
            ) from error

    def _stop_or_lower_rate(self, validation) -> bool:
        if validation is not None and self.early_stopping:
            msg = (
                f"Validation score did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
        else:
            msg = (
                f"Training loss did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
        if self._optimizer.trigger_stopping(msg, getattr(self, "_print_lines", self.verbose)):
            return True
        self._no_improvement_count = 0
        return False

    def _update_no_improvement_count(self, validation):
        self._validation_loss = None
        if validation is None:
            self._compare_training_loss()
            return
        X_val, y_val, T_val, sw_val = validation
        outputs = self._forward_pass_fast(X_val, check_input=False)
        score = self._score_from_outputs(outputs, y_val, sw_val)
        with np.errstate(all="ignore"):
            self._validation_loss = float(
                _engine.loss_value(self.loss, self.out_activation_, T_val, outputs, sw_val)
            )
        if self.validation_scores_ is None:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        self.validation_scores_.append(score)
        if self._print_lines:
            print(f"Validation score: {score:f}")
        if not self.early_stopping:
            self.best_validation_score_ = max(self.best_validation_score_, score)
            self._compare_training_loss()
            return
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_coefs = [c.copy() for c in self.coefs_]
            self._best_intercepts = [i.copy() for i in self.intercepts_]

    def _compare_training_loss(self):
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if self.loss_curve_[-1] < self.best_loss_:
            self.best_loss_ = self.loss_curve_[-1]

    def _record_epoch(self, callbacks):
        val_loss, score = math.nan, math.nan
        if self._validation_loss is not None:
            if getattr(self, "validation_loss_curve_", None) is None:
                self.validation_loss_curve_ = []
            self.validation_loss_curve_.append(self._validation_loss)
            val_loss, score = self._validation_loss, self.validation_scores_[-1]
        self.history_.append(
            loss=self.loss_,
            accuracy=math.nan,
            val_loss=val_loss,
            val_accuracy=score,
            learning_rate=self._optimizer.learning_rate,
            seconds=math.nan,
        )
        for callback in callbacks:
            callback.on_epoch_end(self.history_.epochs - 1, self.history_)

    def _score_from_outputs(self, outputs, y, sample_weight):
        raise NotImplementedError

    # -- prediction ----------------------------------------------------------------------------
    def _forward_pass_fast(self, X, check_input=True):
        """Output activations (n_samples, n_outputs) for X (n_samples, n_features_in_)."""
        if check_input:
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
            if self.dtype is not None:
                X = X.astype(np.dtype(self.dtype), copy=False)
        return _engine.forward(self, X)

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    @property
    def network_(self):
        """The fitted model as a :class:`mlpkit.Network` (a copy of ``coefs_`` and
        ``intercepts_``), e.g. for :func:`mlpkit.save` or the lecture tools."""
        check_is_fitted(self, "coefs_")
        from ..network import mlp

        dtype = self.coefs_[0].dtype
        network = mlp(
            [self.coefs_[0].shape[0], *(c.shape[1] for c in self.coefs_)],
            activation=self.activation,
            output_activation=self.out_activation_,
            init="uniform",
            seed=0,
            dtype=dtype,
        )
        network.set_weights(
            [p for pair in zip(self.coefs_, self.intercepts_, strict=True) for p in pair]
        )
        return network

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags


def _check_callbacks(callbacks) -> None:
    for callback in callbacks or ():
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks must be mlpkit.Callback instances, got {type(callback).__name__}"
            )
