"""A fully connected layer: z = a_prev · W + b, a = σ(z), and its part of backpropagation.

Samples are rows, so ``a_prev`` is (n_samples, n_inputs), ``weights`` W is
(n_inputs, n_outputs) and ``biases`` b is (n_outputs,). (Nielsen's book uses column vectors
and the transposed (n_outputs, n_inputs) matrix; the formulas are the same.) ``forward``
keeps exactly what ``backward`` needs: ``a_prev``, ``z`` and ``a``; ``backward`` writes the
backpropagation equations once each. (The fast engine, :mod:`mlpkit.fast`, computes the same
numbers with reused buffers and compiled kernels; this module is the reference it is tested
against.)
"""

from __future__ import annotations

import numpy as np

from .activations import Activation, get_activation
from .initializers import Initializer, get_initializer
from .validation import as_generator, check_positive_int

__all__ = ["Dense", "Dropout"]


class Dense:
    """Fully connected layer with ``n_inputs`` inputs and ``n_outputs`` units.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Units of the previous layer and of this one.
    activation : str or Activation, default "sigmoid"
        σ; a name from :data:`mlpkit.activations.ACTIVATIONS` or an instance.
    bias : bool, default True
        Whether the layer has ``biases``; without, ``biases`` is ``None``.
    init : str or callable, default "uniform"
        Weight initialiser ("uniform", "normal", "glorot", "he"); biases start at 0.
    seed : int, numpy.random.Generator or None
        Source of the initial weights.
    dtype : numpy dtype, default float32

    Attributes
    ----------
    weights : ndarray (n_inputs, n_outputs)
    biases : ndarray (n_outputs,) or None
    grad_weights, grad_biases : ndarray, same shapes
        ∂E/∂W and ∂E/∂b of the last backward pass (overwritten, never accumulated).
    a_prev, z, a : ndarray (n_samples, ·)
        Input, pre-activation and activation of the last forward pass. (After training with
        the fast engine they are its buffers, overwritten by its next step: copy to keep.)
    last_delta : ndarray (n_samples, n_outputs) or None
        δ = ∂E/∂z handed to the last ``backward``.
    """

    trainable = True

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        activation: str | Activation = "sigmoid",
        bias: bool = True,
        init: str | Initializer = "uniform",
        seed: int | np.random.Generator | None = None,
        dtype: np.typing.DTypeLike = np.float32,
    ) -> None:
        self.n_inputs = check_positive_int("n_inputs", n_inputs)
        self.n_outputs = check_positive_int("n_outputs", n_outputs)
        self.activation = get_activation(activation)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating type such as float32, got {self.dtype}")
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        initializer = get_initializer(init)
        weights = initializer(self.n_inputs, self.n_outputs, as_generator(seed))
        self._weights = np.ascontiguousarray(weights, dtype=self.dtype)
        self._biases = np.zeros(self.n_outputs, dtype=self.dtype) if bias else None
        self.grad_weights = np.zeros_like(self._weights)
        self.grad_biases = None if self._biases is None else np.zeros_like(self._biases)
        self.a_prev: np.ndarray | None = None
        self.z: np.ndarray | None = None
        self.a: np.ndarray | None = None
        self.last_delta: np.ndarray | None = None

    # Parameters are properties so that assigning a list or a float64 array keeps the
    # layer's shape and dtype (the worked examples assign weights by hand).
    @property
    def weights(self) -> np.ndarray:
        return self._weights

    @weights.setter
    def weights(self, value) -> None:
        self._weights = self._checked("weights", value, (self.n_inputs, self.n_outputs))

    @property
    def biases(self) -> np.ndarray | None:
        return self._biases

    @biases.setter
    def biases(self, value) -> None:
        if value is None:
            self._biases, self.grad_biases = None, None
            return
        self._biases = self._checked("biases", value, (self.n_outputs,))
        if self.grad_biases is None:
            self.grad_biases = np.zeros_like(self._biases)

    def _checked(self, name: str, value, shape: tuple[int, ...]) -> np.ndarray:
        array = np.array(value, dtype=self.dtype)
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
        return array

    @property
    def bias(self) -> bool:
        return self._biases is not None

    @property
    def n_parameters(self) -> int:
        return self._weights.size + (0 if self._biases is None else self._biases.size)

    def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
        """a = σ(a_prev · W + b) for a batch ``a_prev`` of shape (n_samples, n_inputs);
        returns ``a`` (n_samples, n_outputs). ``training`` is unused (dropout's switch)."""
        self.a_prev = a_prev
        # Weighted input: z = a_prev · W + b
        self.z = a_prev @ self.weights
        if self.biases is not None:
            self.z = self.z + self.biases
        # Activation: a = σ(z)
        self.a = self.activation.value(self.z)
        return self.a

    def delta(self, grad_a: np.ndarray) -> np.ndarray:
        """δ = ∂E/∂z = ∂E/∂a ⊙ σ'(z), from ∂E/∂a of this layer's output (n_samples, n_outputs)."""
        if self.z is None or self.a is None:
            raise RuntimeError("Dense.delta needs a forward pass first (z and a are unset)")
        return self.activation.backward(self.z, self.a, grad_a)

    def backward(self, delta: np.ndarray, need_grad_input: bool = True) -> np.ndarray | None:
        """Set ``grad_weights``/``grad_biases`` from δ (n_samples, n_outputs); return ∂E/∂a_prev
        (n_samples, n_inputs), or None with ``need_grad_input=False`` (the first layer)."""
        if self.a_prev is None:
            raise RuntimeError("Dense.backward needs a forward pass first (a_prev is unset)")
        self.last_delta = delta
        # Weight gradient (BP4): ∂E/∂W = a_prevᵀ · δ, summed over the samples of the batch
        self.grad_weights = self.a_prev.T @ delta
        # Bias gradient (BP3): ∂E/∂b = Σ_samples δ
        if self.biases is not None:
            self.grad_biases = np.sum(delta, axis=0)
        if not need_grad_input:
            return None
        # Error propagation (BP2), first half: ∂E/∂a_prev = δ · Wᵀ (the previous layer's
        # ``delta`` multiplies by its σ'(z) to finish δ_prev = (δ Wᵀ) ⊙ σ'(z_prev))
        return delta @ self.weights.T

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(parameter, gradient) pairs: weights first, then biases if present."""
        pairs = [(self._weights, self.grad_weights)]
        if self._biases is not None and self.grad_biases is not None:
            pairs.append((self._biases, self.grad_biases))
        return pairs

    def astype(self, dtype: np.typing.DTypeLike) -> Dense:
        """Convert parameters and gradients to ``dtype`` in place; returns ``self``."""
        self.dtype = np.dtype(dtype)
        self._weights = self._weights.astype(self.dtype)
        self.grad_weights = np.zeros_like(self._weights)
        if self._biases is not None:
            self._biases = self._biases.astype(self.dtype)
            self.grad_biases = np.zeros_like(self._biases)
        return self

    def get_config(self) -> dict:
        return {
            "type": "Dense",
            "n_inputs": self.n_inputs,
            "n_outputs": self.n_outputs,
            "activation": self.activation.name,
            "activation_config": self.activation.get_config(),
            "bias": self.bias,
            "init": self.init,
        }

    def __repr__(self) -> str:
        return (
            f"Dense({self.n_inputs}, {self.n_outputs}, activation={self.activation.name!r}, "
            f"bias={self.bias})"
        )

    def _repr_html_(self) -> str:  # Jupyter: shapes, activation, parameter ranges
        from ._display import dense_html

        return dense_html(self)


class Dropout:
    """Inverted dropout: while training, zero each input with probability ``rate`` and scale
    the rest by 1/(1 − rate); at prediction time the identity.

    Parameters
    ----------
    rate : float in [0, 1)
    seed : int, numpy.random.Generator or None
    """

    trainable = False

    def __init__(self, rate: float, seed: int | np.random.Generator | None = None) -> None:
        # Bug fix: NumPy scalars (np.float32(0.5), values from np.linspace) are rates too.
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.integer | np.floating):
            raise TypeError(f"rate must be a float in [0, 1), got {type(rate).__name__} {rate!r}")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be a float in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.rng = as_generator(seed)
        self.mask: np.ndarray | None = None
        self.n_inputs = self.n_outputs = None  # set by the network from its neighbours

    n_parameters = 0

    def forward(self, a_prev: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.rate == 0.0:
            self.mask = None
            return a_prev
        keep = 1.0 - self.rate
        self.mask = (self.rng.random(a_prev.shape, dtype=np.float64) < keep).astype(
            a_prev.dtype
        ) / np.asarray(keep, dtype=a_prev.dtype)
        return a_prev * self.mask

    def delta(self, grad_a: np.ndarray) -> np.ndarray:
        return grad_a

    def backward(self, delta: np.ndarray, need_grad_input: bool = True) -> np.ndarray | None:
        if not need_grad_input:
            return None
        return delta if self.mask is None else delta * self.mask

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return []

    def astype(self, dtype) -> Dropout:
        return self

    def get_config(self) -> dict:
        return {"type": "Dropout", "rate": self.rate}

    def __repr__(self) -> str:
        return f"Dropout({self.rate})"
