"""The activation × loss pairings that the gradient tests cover (finite differences and
PyTorch alike): every output activation with every loss form, the cross-entropies only where
the outputs are probabilities."""

from __future__ import annotations

from collections.abc import Callable

from mlpkit import AbsoluteError, BinaryCrossEntropy, CrossEntropy, Loss, SquaredError

OUTPUT_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
PROBABILITY_OUTPUTS = ("sigmoid", "softmax")
LOSSES: dict[str, Callable[[], Loss]] = {
    "half_squared_mean": lambda: SquaredError(),
    "half_squared_sum": lambda: SquaredError(reduction="sum"),
    "squared_mean": lambda: SquaredError(half=False),
    "squared_sum": lambda: SquaredError(half=False, reduction="sum"),
    "absolute_mean": lambda: AbsoluteError(),
    "absolute_sum": lambda: AbsoluteError(reduction="sum"),
    "binary_cross_entropy_mean": lambda: BinaryCrossEntropy(),
    "binary_cross_entropy_sum": lambda: BinaryCrossEntropy(reduction="sum"),
    "cross_entropy_mean": lambda: CrossEntropy(),
    "cross_entropy_sum": lambda: CrossEntropy(reduction="sum"),
}
VALID_PAIRS = [
    (activation, loss)
    for activation in OUTPUT_ACTIVATIONS
    for loss in LOSSES
    if "cross_entropy" not in loss or activation in PROBABILITY_OUTPUTS
]
