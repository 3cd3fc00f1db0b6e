"""Early stopping: end training when the monitored loss stops improving, keep the best weights.

The lectures' use of a validation set: training stops once the validation loss has not fallen
for ``patience`` epochs, and the weights of the best epoch are put back.
"""

from __future__ import annotations

import math

import numpy as np

from ..network import Network
from ..validation import check_number, check_positive_int

__all__ = ["EarlyStopping", "resolve_early_stopping"]


class EarlyStopping:
    """Stop when the monitored loss has not improved by ``min_delta`` for ``patience`` epochs.

    Parameters
    ----------
    patience : int
        Epochs without improvement before stopping.
    min_delta : float
        Smallest decrease that counts as an improvement.
    monitor : {"auto", "val_loss", "loss"}
        "auto" watches the validation loss when there is validation data, else the training loss.
    restore_best_weights : bool
        Put back the weights of the best epoch when training ends.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0, monitor: str = "auto",
                 restore_best_weights: bool = True) -> None:
        patience = check_positive_int("patience", patience)
        min_delta = check_number("min_delta", min_delta, low=0.0)
        if monitor not in ("auto", "val_loss", "loss"):
            raise ValueError(f"monitor must be 'auto', 'val_loss' or 'loss', got {monitor!r}")
        self.patience, self.min_delta, self.monitor = patience, float(min_delta), monitor
        self.restore_best_weights = restore_best_weights
        self.reset()

    def reset(self) -> None:
        self.best = math.inf
        self.best_epoch: int | None = None
        self.best_weights: list[np.ndarray] | None = None
        self.wait = 0

    def update(self, epoch: int, value: float, network: Network) -> bool:
        """Record epoch ``epoch``'s monitored ``value``; return True when training should stop.

        A NaN value counts as no improvement.
        """
        if math.isfinite(value) and value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = network.get_weights()
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self, network: Network) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            network.set_weights(self.best_weights)


def resolve_early_stopping(early_stopping) -> EarlyStopping | None:
    if early_stopping is None or early_stopping is False:
        return None
    if early_stopping is True:
        return EarlyStopping()
    if isinstance(early_stopping, EarlyStopping):
        return early_stopping
    if isinstance(early_stopping, int):
        return EarlyStopping(patience=early_stopping)
    raise TypeError(
        "early_stopping must be None, a bool, a patience (int) or an EarlyStopping, "
        f"got {type(early_stopping).__name__}"
    )
