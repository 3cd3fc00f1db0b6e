"""Learning-rate schedules η(epoch): constant, step decay, inverse scaling, reduce on plateau.

The training loop asks the schedule for η at the start of every epoch (after the first) and
writes it into the optimiser; ``ReduceOnPlateau`` also watches the monitored loss.
"""

from __future__ import annotations

import math

__all__ = ["SCHEDULES", "Constant", "InverseScaling", "ReduceOnPlateau", "Schedule",
           "StepDecay", "get_schedule"]


class Schedule:
    """Base class. ``rate(epoch, samples_seen, monitored)`` returns η for the next epoch."""

    name = "schedule"

    def start(self, initial_learning_rate: float) -> None:
        self.initial_learning_rate = float(initial_learning_rate)
        self.current = self.initial_learning_rate

    def rate(self, epoch: int, samples_seen: int, monitored: float | None) -> float:
        """η for epoch ``epoch + 1`` after ``epoch`` (0-based) ended with loss ``monitored``."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        vars(self).update(state)

    def __repr__(self) -> str:
        keys = [k for k in vars(self) if k not in ("initial_learning_rate", "current", "best",
                                                    "wait")]
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in keys)})"


class Constant(Schedule):
    """η stays as set."""

    name = "constant"

    def rate(self, epoch, samples_seen, monitored):
        return self.current


class StepDecay(Schedule):
    """η = η₀ · ``drop`` ^ ⌊(epoch + 1) / ``every``⌋: times ``drop`` every ``every`` epochs."""

    name = "step"

    def __init__(self, drop: float = 0.5, every: int = 10) -> None:
        if not 0.0 < drop <= 1.0:
            raise ValueError(f"drop must be in (0, 1], got {drop!r}")
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive number of epochs, got {every!r}")
        self.drop, self.every = float(drop), int(every)

    def rate(self, epoch, samples_seen, monitored):
        self.current = self.initial_learning_rate * self.drop ** ((epoch + 1) // self.every)
        return self.current


class InverseScaling(Schedule):
    """η = η₀ / (t + 1)^``power_t``; t counts epochs, or samples seen with ``per="sample"``
    (scikit-learn's ``learning_rate="invscaling"``)."""

    name = "invscaling"

    def __init__(self, power_t: float = 0.5, per: str = "epoch") -> None:
        if per not in ("epoch", "sample"):
            raise ValueError(f"per must be 'epoch' or 'sample', got {per!r}")
        if not math.isfinite(power_t) or power_t < 0:
            raise ValueError(f"power_t must be a finite number >= 0, got {power_t!r}")
        self.power_t, self.per = float(power_t), per

    def rate(self, epoch, samples_seen, monitored):
        t = epoch + 1 if self.per == "epoch" else samples_seen
        self.current = self.initial_learning_rate / (t + 1) ** self.power_t
        return self.current


class ReduceOnPlateau(Schedule):
    """Multiply η by ``factor`` when the monitored loss (the validation loss if there is
    validation data, else the training loss) has not fallen by ``min_delta`` for ``patience``
    epochs; never below ``min_learning_rate``. With factor 0.2, patience 2 and min_delta = tol
    this is scikit-learn's ``learning_rate="adaptive"``."""

    name = "plateau"

    def __init__(self, factor: float = 0.5, patience: int = 5, min_delta: float = 1e-4,
                 min_learning_rate: float = 1e-6) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"patience must be a positive number of epochs, got {patience!r}")
        self.factor, self.patience = float(factor), int(patience)
        self.min_delta, self.min_learning_rate = float(min_delta), float(min_learning_rate)

    def start(self, initial_learning_rate):
        super().start(initial_learning_rate)
        self.best, self.wait = math.inf, 0

    def rate(self, epoch, samples_seen, monitored):
        improved = monitored is not None and math.isfinite(monitored)
        if improved and monitored < self.best - self.min_delta:
            self.best, self.wait = monitored, 0
        else:  # no improvement; a NaN loss counts as none
            self.wait += 1
            if self.wait >= self.patience:
                self.current = max(self.current * self.factor, self.min_learning_rate)
                self.wait = 0
        if monitored is not None and math.isfinite(monitored):
            self.best = min(self.best, monitored)
        return self.current


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "invscaling": InverseScaling,
    "plateau": ReduceOnPlateau,
    "adaptive": ReduceOnPlateau,
}


def get_schedule(schedule: str | Schedule | None) -> Schedule:
    """A :class:`Schedule` from a name or an instance; ``None`` is constant."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule):
        return schedule
    if isinstance(schedule, str) and schedule.lower() in SCHEDULES:
        return SCHEDULES[schedule.lower()]()
    raise ValueError(f"schedule must be one of {sorted(SCHEDULES)} or a Schedule, got {schedule!r}")
