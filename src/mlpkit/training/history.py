"""The training record: one row per epoch, and why training stopped."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from .. import _display

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["History"]


@dataclass
class History:
    """Per-epoch training loss, validation loss and accuracy, learning rate and seconds.

    Lists have one entry per epoch run; accuracies are ``nan`` where they do not apply
    (regression) and validation entries are ``nan`` without validation data.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    stop_reason: str = ""
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Number of epochs run."""
        return len(self.loss)

    def append(self, **row: float) -> None:
        for key, value in row.items():
            getattr(self, key).append(float(value))

    def last(self, key: str) -> float:
        values = getattr(self, key)
        return values[-1] if values else math.nan

    def as_dict(self) -> dict:
        """Plain lists and strings (JSON-ready; NaN becomes None)."""
        def clean(value):
            if isinstance(value, list):
                return [None if isinstance(v, float) and math.isnan(v) else v for v in value]
            return value

        return {key: clean(value) for key, value in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> History:
        """The inverse of :meth:`as_dict`; ``ValueError`` names a field of the wrong type."""
        def restore(key, value):
            if key == "stop_reason" and isinstance(value, str):
                return value
            if key == "best_epoch" and (value is None or _is_int(value)):
                return value
            if key not in ("stop_reason", "best_epoch") and isinstance(value, list) and all(
                    v is None or _is_number(v) for v in value):
                return [math.nan if v is None else float(v) for v in value]
            raise ValueError(f"history field {key!r} has the wrong type: {value!r:.60}")

        if not isinstance(data, dict):
            raise ValueError(f"history must be a mapping, got {type(data).__name__}")
        known = {k: restore(k, v) for k, v in data.items() if k in cls.__dataclass_fields__}
        history = cls(**known)
        lengths = {len(v) for v in vars(history).values() if isinstance(v, list)}
        if len(lengths) > 1:  # found by fuzz/fuzz_model.py: rows of unequal length
            raise ValueError(f"history lists have different lengths {sorted(lengths)}")
        return history

    def __repr__(self) -> str:
        return _display.history_repr(self)

    def _repr_html_(self) -> str:  # Jupyter: a table, one row per epoch
        return _display.history_html(self)

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """Loss and accuracy per epoch, training and validation (:func:`mlpkit.plots.plot_history`).

        Parameters
        ----------
        path : path, optional
            Also write the figure there as PNG.

        Returns
        -------
        matplotlib.figure.Figure
            In Jupyter, the value of a cell ending in ``history.plot()`` is drawn below it.

        Raises
        ------
        ImportError
            If matplotlib is not installed (the ``plot`` extra).
        """
        from ..plots import plot_history

        return plot_history(self, path)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
