"""Rosenblatt's perceptron: one Heaviside unit o = H(w · x + b) trained by w ← w + η (t − o) x.

The perceptron learning rule converges in a finite number of steps when the classes are
linearly separable (Rosenblatt) and can never fit XOR (Minsky and Papert); hand-built networks
of step neurons (:func:`logic_gate_network`) compute XOR with one hidden layer.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..layers import Dense
from ..network import Network
from ..validation import check_number, check_positive_int

__all__ = ["NotLinearlySeparableWarning", "Perceptron", "logic_gate_network"]


class NotLinearlySeparableWarning(UserWarning):
    """The perceptron rule did not converge: the training data are (or may be) not linearly
    separable."""


def _heaviside(z: np.ndarray) -> np.ndarray:
    """H(z) = 1 where z >= 0 (the weighted sum reaches the threshold), else 0."""
    return (z >= 0).astype(np.int64)


class Perceptron:
    """A single threshold unit trained with Rosenblatt's rule, one sample at a time.

    For every sample x (a row of X) in order: o = H(w · x + b), then
    w ← w + η (t − o) x and b ← b + η (t − o). An epoch without a single change means every
    sample is classified correctly: the rule has converged. If it has not after
    ``max_epochs`` epochs, ``fit`` warns with :class:`NotLinearlySeparableWarning`. Because the
    samples are visited in a fixed order, weights that repeat at the start of two epochs prove
    that training cycles for ever; by Rosenblatt's convergence theorem the data are then not
    linearly separable (``linearly_separable_`` is False, as for XOR).

    Parameters
    ----------
    learning_rate : float > 0, default 1.0
        η.
    max_epochs : int >= 1, default 100
        Epoch limit.
    warn : bool, default True
        Warn when the rule has not converged.

    Attributes
    ----------
    weights_ : ndarray (n_features,)
    bias_ : float
    converged_ : bool
        Whether the last epoch made no change.
    linearly_separable_ : bool or None
        True when converged, False when the weights were seen to cycle, None when unknown.
    n_epochs_ : int
        Epochs run (including the last one without changes).
    n_updates_ : int
        Samples on which the weights changed.
    errors_ : list of int
        Misclassified samples per epoch.
    """

    def __init__(self, learning_rate: float = 1.0, max_epochs: int = 100, warn: bool = True):
        self.learning_rate = check_number("learning_rate", learning_rate, low=0.0, low_open=True)
        self.max_epochs = check_positive_int("max_epochs", max_epochs)
        self.warn = bool(warn)

    @staticmethod
    def _check_X(X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"X must have shape (n_samples, n_features), got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X must be numeric, got dtype {X.dtype}")
        X = X.astype(np.float64)
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinite values")
        return X

    def fit(self, X, y) -> Perceptron:
        """Train on X (n_samples, n_features) with labels y (n_samples,) in {0, 1}."""
        X = self._check_X(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X, got {y.shape}")
        if y.size and not np.all((y == 0) | (y == 1)):
            raise ValueError(f"y must hold labels 0 and 1, got values {np.unique(y)[:5]}")
        t = y.astype(np.int64)
        eta = self.learning_rate
        w = np.zeros(X.shape[1])
        b = 0.0
        seen: dict[bytes, int] = {}
        self.errors_: list[int] = []
        self.n_updates_ = 0
        self.converged_ = False
        self.linearly_separable_: bool | None = None
        cycle_from: int | None = None
        for epoch in range(self.max_epochs):
            key = np.append(w, b).tobytes()
            if cycle_from is None and key in seen:
                cycle_from = seen[key]
            seen.setdefault(key, epoch)
            errors = 0
            for x, target in zip(X, t, strict=True):
                o = 1 if w @ x + b >= 0 else 0
                if o != target:
                    # Rosenblatt's rule: w ← w + η (t − o) x, b ← b + η (t − o)
                    w += eta * (target - o) * x
                    b += eta * (target - o)
                    errors += 1
            self.errors_.append(errors)
            self.n_updates_ += errors
            if errors == 0:
                self.converged_ = True
                self.linearly_separable_ = True
                break
        self.n_epochs_ = len(self.errors_)
        self.weights_, self.bias_ = w, b
        if not self.converged_:
            if cycle_from is not None:
                self.linearly_separable_ = False
                message = (
                    f"the perceptron rule did not converge in {self.max_epochs} epochs and its "
                    f"weights repeat (the state at the start of epoch {cycle_from} came back), "
                    "so it cycles for ever: the data are not linearly separable"
                )
            else:
                message = (
                    f"the perceptron rule did not converge in {self.max_epochs} epochs: the data "
                    "may not be linearly separable (raise max_epochs to be sure)"
                )
            self.message_ = message
            if self.warn:
                warnings.warn(message, NotLinearlySeparableWarning, stacklevel=2)
        else:
            self.message_ = f"converged after {self.n_epochs_} epochs ({self.n_updates_} updates)"
        return self

    def net_input(self, X) -> np.ndarray:
        """The weighted sums w · x + b, shape (n_samples,)."""
        if not hasattr(self, "weights_"):
            raise RuntimeError("this Perceptron is not fitted yet; call fit(X, y) first")
        X = self._check_X(X)
        if X.shape[1] != self.weights_.shape[0]:
            raise ValueError(f"X must have {self.weights_.shape[0]} features, got shape {X.shape}")
        return X @ self.weights_ + self.bias_

    def predict(self, X) -> np.ndarray:
        """Labels H(w · x + b) in {0, 1}, shape (n_samples,), int64."""
        return _heaviside(self.net_input(X))

    def __repr__(self) -> str:
        return f"Perceptron(learning_rate={self.learning_rate}, max_epochs={self.max_epochs})"


# Hand-built weights of step neurons (inputs 0/1). A unit fires when Σ w x ≥ threshold, i.e.
# bias b = −threshold. AND uses the threshold 1.2 of the Merceron lecture, NAND the weights
# −2, −2 and bias 3 of the Schweizer lecture.
_SINGLE_GATES = {
    "and": ([1.0, 1.0], -1.2),
    "or": ([1.0, 1.0], -0.5),
    "nand": ([-2.0, -2.0], 3.0),
    "nor": ([-1.0, -1.0], 0.5),
}


def logic_gate_network(name: str) -> Network:
    """A hand-built network of step (Heaviside) neurons computing a 2-input logic gate.

    ``"and"``, ``"or"``, ``"nand"`` and ``"nor"`` are a single unit. ``"xor"`` is the Merceron
    lecture's construction: a hidden unit h = H(x0 + x1 − 1.2) (AND) and an output unit
    H(x0 + x1 − 2h − 0.6). Because mlpkit's layers are fully connected layer to layer, the
    inputs reach the output through two pass-through units H(x − 0.5), which equal x for
    inputs 0 and 1.

    Returns
    -------
    Network
        float64 network with ``Step`` activations; ``network.forward(X)`` for X (n, 2) in
        {0, 1} gives the gate's output, shape (n, 1).
    """
    key = name.lower() if isinstance(name, str) else name
    if key in _SINGLE_GATES:
        weights, bias = _SINGLE_GATES[key]
        layer = Dense(2, 1, activation="step", dtype=np.float64)
        layer.weights = np.array(weights).reshape(2, 1)
        layer.biases = [bias]
        return Network([layer])
    if key == "xor":
        hidden = Dense(2, 3, activation="step", dtype=np.float64)
        # columns: pass x0, pass x1, h = AND(x0, x1)
        hidden.weights = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
        hidden.biases = [-0.5, -0.5, -1.2]
        output = Dense(3, 1, activation="step", dtype=np.float64)
        output.weights = [[1.0], [1.0], [-2.0]]
        output.biases = [-0.6]
        return Network([hidden, output])
    raise ValueError(f"name must be one of {[*sorted(_SINGLE_GATES), 'xor']}, got {name!r}")
