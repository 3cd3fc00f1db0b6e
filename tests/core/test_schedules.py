"""Learning-rate schedules η(epoch) recomputed from their formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlpkit as mk
from mlpkit import Constant, InverseScaling, ReduceOnPlateau, StepDecay
from mlpkit.schedules import get_schedule


def rates(schedule, initial, monitored, samples_per_epoch=10):
    """η for epochs 1, 2, … after epochs 0, 1, … ended with the ``monitored`` losses."""
    schedule.start(initial)
    return [
        schedule.rate(epoch, (epoch + 1) * samples_per_epoch, value)
        for epoch, value in enumerate(monitored)
    ]


def test_constant():
    assert rates(Constant(), 0.3, [1.0, 2.0, math.nan]) == [0.3, 0.3, 0.3]


def test_step_decay():
    # η = η₀ · drop^⌊(epoch + 1) / every⌋ for the next epoch
    got = rates(StepDecay(drop=0.5, every=3), 0.8, [1.0] * 7)
    assert got == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2], rel=1e-15)


def test_inverse_scaling_per_epoch():
    # η = η₀ / (t + 1)^power_t with t = epochs done
    got = rates(InverseScaling(power_t=0.5), 1.0, [1.0] * 4)
    assert got == pytest.approx([1 / math.sqrt(t + 1) for t in range(1, 5)], rel=1e-15)


def test_inverse_scaling_per_sample():
    # scikit-learn's invscaling: t = samples seen so far
    got = rates(InverseScaling(power_t=0.25, per="sample"), 0.1, [1.0] * 3, samples_per_epoch=8)
    assert got == pytest.approx([0.1 / (8 * k + 1) ** 0.25 for k in (1, 2, 3)], rel=1e-15)


def test_reduce_on_plateau():
    schedule = ReduceOnPlateau(factor=0.5, patience=2, min_delta=0.1, min_learning_rate=0.05)
    monitored = [
        1.0,  # improvement (best 1.0)
        0.95,  # not better by min_delta: wait 1
        0.5,  # improvement: wait 0
        0.45,  # wait 1
        0.44,  # wait 2 → η 0.8 → 0.4, wait 0
        math.nan,  # NaN counts as no improvement: wait 1
        0.42,  # wait 2 → 0.2
        0.1,  # improvement
        0.5,  # wait 1
        0.5,  # wait 2 → 0.1
        0.5,
        0.5,  # → 0.05
        0.5,
        0.5,  # floor: stays at min_learning_rate 0.05
    ]
    expected = [0.8, 0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.05]
    assert rates(schedule, 0.8, monitored) == pytest.approx(expected, rel=1e-15)


def test_reduce_on_plateau_nan_is_never_an_improvement():
    schedule = ReduceOnPlateau(factor=0.1, patience=3, min_delta=0.0)
    assert rates(schedule, 1.0, [math.nan] * 6) == pytest.approx([1.0, 1.0, 0.1, 0.1, 0.1, 0.01])
    assert schedule.best == math.inf


def test_start_resets_the_plateau_state():
    schedule = ReduceOnPlateau(factor=0.5, patience=1)
    rates(schedule, 1.0, [1.0, 2.0, 3.0])
    assert rates(schedule, 1.0, [5.0]) == [1.0]  # a new run: 5.0 is an improvement on inf


def test_state_dict_round_trip():
    schedule = ReduceOnPlateau(factor=0.5, patience=2)
    rates(schedule, 1.0, [1.0, 1.0])
    copy = ReduceOnPlateau()
    copy.load_state_dict(schedule.state_dict())
    assert copy.rate(2, 30, 1.0) == schedule.rate(2, 30, 1.0) == 0.5


def test_get_schedule():
    assert isinstance(get_schedule(None), Constant)
    assert isinstance(get_schedule("step"), StepDecay)
    assert isinstance(get_schedule("invscaling"), InverseScaling)
    assert isinstance(get_schedule("adaptive"), ReduceOnPlateau)
    plateau = ReduceOnPlateau()
    assert get_schedule(plateau) is plateau
    with pytest.raises(ValueError, match=r"schedule must be one of .*got 'cosine'"):
        get_schedule("cosine")


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: StepDecay(drop=0.0), r"drop must be in \(0, 1\], got 0.0"),
        (lambda: StepDecay(drop=1.5), r"drop must be in \(0, 1\], got 1.5"),
        (lambda: StepDecay(every=0), r"every must be a positive number of epochs, got 0"),
        (lambda: InverseScaling(power_t=-1.0), r"power_t must be a finite number >= 0"),
        (lambda: InverseScaling(per="batch"), r"per must be 'epoch' or 'sample', got 'batch'"),
        (lambda: ReduceOnPlateau(factor=1.0), r"factor must be in \(0, 1\), got 1.0"),
        (lambda: ReduceOnPlateau(patience=0), r"patience must be a positive number of epochs"),
    ],
)
def test_bad_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_inverse_scaling_in_training(rng):
    net = mk.mlp([2, 3, 1], seed=0)
    X, T = rng.normal(size=(6, 2)), rng.uniform(size=6)
    history = mk.train(
        net,
        X,
        T,
        optimizer=mk.SGD(0.5),
        epochs=3,
        batch_size=4,
        schedule=InverseScaling(power_t=1.0, per="sample"),
        seed=0,
    )
    # epoch 0 at η₀, then η₀ / (samples seen + 1) after 6 and 12 samples
    np.testing.assert_allclose(history.learning_rate, [0.5, 0.5 / 7, 0.5 / 13], rtol=1e-15)


def test_epoch_counts_must_be_whole_numbers():
    with pytest.raises(ValueError, match=r"every must be a positive number of epochs, got 2\.5"):
        StepDecay(every=2.5)
    with pytest.raises(ValueError, match=r"patience must be a positive number of epochs, got 1\.5"):
        ReduceOnPlateau(patience=1.5)
