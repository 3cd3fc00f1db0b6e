"""The data side of training: checked arrays, the held-out validation set, and the batches of
an epoch (drawn in a shuffled order into reused buffers, never a permuted copy of the data)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..losses import Loss
from ..network import Network
from ..validation import check_sample_weight
from .divergence import finite

__all__ = ["Batches", "TrainingData", "check_data"]


def check_data(network: Network, loss: Loss, X, T,
               what: str) -> tuple[np.ndarray, np.ndarray, float]:
    """X and T as arrays of the network's dtype, checked; and ‖X‖² (Σ of every x², inf when
    it overflows)."""
    x = network.check_input(X)
    if x.shape[0] == 0:
        raise ValueError(f"{what}: X is empty (0 samples); training needs at least one sample")
    # Σ x² in one BLAS pass is finite only if every x is; if it is not (NaN, inf or merely
    # huge values), the chunked test decides.
    norm2 = float(np.vdot(x, x))
    if not math.isfinite(norm2) and not finite(x):
        raise ValueError(f"{what}: X contains NaN or infinite values")
    t = network.check_targets(T, loss, x.shape[0], f"{what}: ")
    if not finite(t):
        raise ValueError(f"{what}: T contains NaN or infinite values")
    return x, t, norm2


@dataclass
class TrainingData:
    """Training inputs ``x`` (n, n_inputs), targets ``t`` (n, n_outputs) and sample weights
    ``w`` (n,) or None, ‖X‖² of all the given inputs, and the validation set (``x_val``,
    ``t_val``, ``w_val``) or None.

    ``given`` is the (x, t) pair before any split, ``given_w`` the checked ``sample_weight``
    and ``given_val`` the checked ``validation_data`` (not a split-off part): what a
    checkpoint's fingerprint records.
    """

    x: np.ndarray
    t: np.ndarray
    norm2: float
    x_val: np.ndarray | None
    t_val: np.ndarray | None
    given: tuple[np.ndarray, np.ndarray]
    given_val: tuple[np.ndarray, ...] | None
    w: np.ndarray | None = None
    w_val: np.ndarray | None = None
    given_w: np.ndarray | None = None

    @classmethod
    def prepare(cls, network: Network, loss: Loss, X, T, validation_data,
                validation_split: float, rng: np.random.Generator,
                sample_weight=None) -> TrainingData:
        """Check the data; hold out ``validation_split`` of it at random (drawn from ``rng``)
        unless ``validation_data`` is given. The weights follow their samples into the
        training or the validation part."""
        x, t, norm2 = check_data(network, loss, X, T, "training data")
        given = (x, t)
        w = None if sample_weight is None else check_sample_weight(sample_weight, x.shape[0])
        if validation_data is not None:
            x_val, t_val, w_val = _check_validation_data(network, loss, validation_data)
            given_val = (x_val, t_val) if w_val is None else (x_val, t_val, w_val)
            return cls(x, t, norm2, x_val, t_val, given, given_val, w, w_val, w)
        if validation_split > 0.0:
            n_val = held_out(x.shape[0], validation_split)
            if n_val < 1 or n_val >= x.shape[0]:
                raise ValueError(
                    f"validation_split={validation_split} leaves {n_val} validation samples "
                    f"out of {x.shape[0]}: the validation set is too small; raise it or "
                    "provide more data"
                )
            order = rng.permutation(x.shape[0])
            held, kept = order[:n_val], order[n_val:]
            w_kept, w_held = (None, None) if w is None else (w[kept], w[held])
            for part, weights in (("training", w_kept), ("validation", w_held)):
                if weights is not None and not weights.any():
                    raise ValueError(
                        f"sample_weight: every sample of the {part} part that "
                        f"validation_split={validation_split} leaves has weight 0"
                    )
            return cls(x[kept], t[kept], norm2, x[held], t[held], given, None, w_kept, w_held,
                       w)
        return cls(x, t, norm2, None, None, given, None, w, None, w)

    @property
    def has_validation(self) -> bool:
        return self.x_val is not None


def _check_validation_data(network: Network, loss: Loss, validation_data
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``validation_data`` (X_val, T_val) or (X_val, T_val, w_val), checked."""
    if not (isinstance(validation_data, tuple | list) and len(validation_data) in (2, 3)):
        raise TypeError("validation_data must be a pair (X_val, T_val) or a triple "
                        "(X_val, T_val, sample_weight_val)")
    x_val, t_val, _ = check_data(network, loss, validation_data[0], validation_data[1],
                                 "validation_data")
    w_val = None
    if len(validation_data) == 3 and validation_data[2] is not None:
        w_val = check_sample_weight(validation_data[2], x_val.shape[0],
                                    "validation_data's sample_weight")
    return x_val, t_val, w_val


def held_out(n: int, validation_split: float) -> int:
    """Samples of ``n`` that ``validation_split`` holds out for validation."""
    return round(n * validation_split)


def batch_layout(n: int, batch_size: int | None) -> tuple[int, int]:
    """(samples per batch, batches per epoch) for ``n`` samples; ``None`` is full batch."""
    size = n if batch_size is None else min(int(batch_size), n)
    return size, math.ceil(n / size)


class Batches:
    """The batches of one epoch: ``batch_size`` samples each (the last may be smaller), in
    the order of a permutation or in data order; with sample weights ``w`` (n,) each batch's
    weights follow its samples (:meth:`weights`)."""

    def __init__(self, x: np.ndarray, t: np.ndarray, batch_size: int | None,
                 w: np.ndarray | None = None) -> None:
        self.x, self.t, self.w = x, t, w
        self.n = x.shape[0]
        self.size, self.count = batch_layout(self.n, batch_size)
        self.x_buffer = np.empty((self.size, x.shape[1]), dtype=x.dtype)
        self.t_buffer = np.empty((self.size, t.shape[1]), dtype=t.dtype)

    def bounds(self, batch: int) -> tuple[int, int]:
        """Positions [start, stop) of batch ``batch`` in the epoch's order."""
        return batch * self.size, min((batch + 1) * self.size, self.n)

    def get(self, batch: int, order: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Inputs and targets of batch ``batch`` (views of the gather buffers when shuffled)."""
        start, stop = self.bounds(batch)
        if order is None:
            return self.x[start:stop], self.t[start:stop]
        index = order[start:stop]  # a permutation's: mode="clip" never clips, and unlike the
        # default "raise" it does not copy through a temporary buffer when given out=
        return (self.x.take(index, axis=0, out=self.x_buffer[: stop - start], mode="clip"),
                self.t.take(index, axis=0, out=self.t_buffer[: stop - start], mode="clip"))

    def weights(self, batch: int, order: np.ndarray | None) -> np.ndarray | None:
        """Sample weights (batch rows,) of batch ``batch``, or None without weights."""
        if self.w is None:
            return None
        start, stop = self.bounds(batch)
        return self.w[start:stop] if order is None else self.w[order[start:stop]]
