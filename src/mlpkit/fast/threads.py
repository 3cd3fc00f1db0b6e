"""How many BLAS threads a training run gets: ``threads`` in :func:`mlpkit.train`, the
estimators and the CLI (``--threads``), applied with threadpoolctl's context manager (never
through environment variables, which only act before NumPy is loaded).

* An int ``threads >= 1`` is used as given.
* ``threads=None`` (the default) chooses:

  - **one thread for small products**: when the largest matrix product of a training step,
    batch × n_inputs × n_outputs multiply-adds over the layers, is below
    :data:`SMALL_PRODUCT` (2²³, about 8.4 million). Measured on the 2-core development machine
    (OpenBLAS 0.3, float32, quiet): a whole fast-engine step of the 784-100-10 net takes 0.192
    / 0.230 ms on one / two threads at batch 32 (largest product 2.5 M), 0.295 / 0.314 ms at
    batch 64 (5.0 M: the momentum update alone 0.026 / 0.087 ms, reading a gradient that two
    cores wrote), 0.523 / 0.481 ms at batch 128 (10 M); 784-256-10 at batch 64 (12.8 M) 0.652
    / 0.567 ms. With other processes running, a second thread made a 10 × 784 × 100 product
    up to 47× slower (154 µs → 7.3 ms) while its threads spun waiting for a core. On the AMD
    EPYC development machine (2026-12-03) a second thread's effect between 2²³ and 2²⁵ flipped
    within a quarter of an hour (C3's net at batch 64, largest product 25.7 M: 0.50 / 0.74 s
    per 12,000 images, then 0.55 / 0.35 s; ``MLPClassifier((100,))`` in float64, 15.7 M: 0.13
    / 0.18 s, then 0.14 / 0.10 s), so the threshold stayed;
  - **no more threads than there are idle cores**: the cores this process may use, less the
    runnable tasks of other processes at the start of training (``/proc/loadavg`` less this
    process's own runnable threads, such as another library's workers still spinning; on a
    system without it, every core counts as idle), and at least one. With two other busy
    processes on two cores that is one thread: the step then runs at its fair share instead of
    collapsing (5–14× slower measured for C1–C4's products with two spinning threads);
  - **competition weighed by priority**: when ``/proc/loadavg`` shows other runnable tasks,
    each counts by the share of a core it takes from this process's threads under Linux's
    scheduler (:func:`competing_tasks`): a task of this process's session at 1.25^(own nice −
    its nice), at most 1 (a ``nice 19`` job next to ``nice 0`` training: 0.014); a task of
    another session, where the kernel groups sessions (``sched_autogroup``, on in the
    development machine's kernel and in many distributions'), at its *session's* weight,
    whatever its own nice value:
    there a ``nice 19`` fuzzing job started from another shell takes a full share (measured
    on the development machine: two such jobs made two ``nice 0`` processes 3× slower), so it
    counts as a busy core;
  - **one thread inside a Dask worker** (several workers share a machine; Dask's nanny also sets
    ``OPENBLAS_NUM_THREADS=1`` for worker processes it starts, this covers the others).

  Otherwise the BLAS keeps its own setting (usually one thread per core).

The choice is made once per call of ``train``, from what runs at that instant; a job that was
between two bursts then is missed. So while several BLAS threads train, :class:`CollapseGuard`
watches the time per sample of the steps: when other work takes a core, the threads of every
product wait for each other and steps take 5–100× their usual time (measured: the 784-100-10
net at batch 64, 0.4 ms per step on one thread, 59 ms on two with two other busy processes).
After :data:`CollapseGuard.SLOW_STEPS` steps in a row over :data:`CollapseGuard.FACTOR` times the
fastest seen, and at least :data:`CollapseGuard.SLOW_SECONDS`, the run drops to one BLAS
thread; at the start of each epoch it takes its threads back if the policy finds the cores idle
again. With ``threads`` given explicitly the guard stays out of the way.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SMALL_PRODUCT",
    "CollapseGuard",
    "blas_threads",
    "check_threads",
    "choose_threads",
    "competing_tasks",
    "idle_cores",
]

#: multiply-adds of the largest product below which one BLAS thread is used
SMALL_PRODUCT = 1 << 23


def check_threads(threads) -> int | None:
    """``threads`` as None or a positive int; TypeError/ValueError naming it otherwise."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, int | np.integer):
        raise TypeError(f"threads must be a positive int or None (automatic), got "
                        f"{type(threads).__name__} {threads!r}")
    if threads < 1:
        raise ValueError(f"threads must be a positive int or None (automatic), got {threads!r}")
    return int(threads)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def own_runnable_threads(tasks: str = "/proc/self/task") -> int:
    """Threads of this process that are runnable right now (at least 1: the caller)."""
    count = 0
    try:
        for stat in Path(tasks).glob("*/stat"):
            # "pid (name) S ...": the state follows the last ')' (a name may hold spaces)
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "R":
                count += 1
    except (OSError, IndexError):
        return 1
    return max(1, count)


#: share of a core that a task of nice n takes from one of nice n − 1 (CFS weights)
NICE_STEP = 1.25


def _stat_fields(path: str) -> list[str]:
    """The fields of a ``/proc/.../stat`` file after the command name (state first)."""
    with open(path) as f:
        return f.read().rsplit(")", 1)[1].split()


def _autogroup(path: str) -> tuple[str, int] | None:
    """(name, nice) of a ``/proc/<pid>/autogroup`` file ("/autogroup-10 nice 0"), or None."""
    try:
        with open(path) as f:
            name, _, nice = f.read().split()
        return name, int(nice)
    except (OSError, ValueError):
        return None


def competing_tasks(proc: str = "/proc", own_pid: int | None = None,
                    own_nice: int | None = None) -> float | None:
    """Runnable tasks of other processes, each weighed by the share of a core it takes from
    a thread of this process (CFS weights, 1.25 per nice level, at most 1): by its own nice
    value within this process's session, by its session's (autogroup's) nice value when the
    kernel groups sessions and it belongs to another. None when ``proc`` cannot be read."""
    own_pid = os.getpid() if own_pid is None else own_pid
    own_nice = os.getpriority(os.PRIO_PROCESS, 0) if own_nice is None else own_nice
    try:
        pids = [name for name in os.listdir(proc) if name.isdigit() and int(name) != own_pid]
    except OSError:
        return None
    own_group = None
    try:
        with open(f"{proc}/sys/kernel/sched_autogroup_enabled") as f:
            if f.read().strip() == "1":
                own_group = _autogroup(f"{proc}/{own_pid}/autogroup")
    except OSError:
        pass
    total = 0.0
    for pid in pids:
        try:
            fields = _stat_fields(f"{proc}/{pid}/stat")  # state ... nice (16) threads (17)
            states = [(fields[0], int(fields[16]))]
            if int(fields[17]) > 1:  # the threads' own states (the first is only the leader's)
                states = [(task[0], int(task[16])) for task in (
                    _stat_fields(f"{proc}/{pid}/task/{tid}/stat")
                    for tid in os.listdir(f"{proc}/{pid}/task"))]
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        running = [nice for state, nice in states if state == "R"]
        if not running:
            continue
        group = None if own_group is None else _autogroup(f"{proc}/{pid}/autogroup")
        if group is not None and own_group is not None and group[0] != own_group[0]:
            total += len(running) * min(1.0, NICE_STEP ** (own_group[1] - group[1]))
        else:
            total += sum(min(1.0, NICE_STEP ** (own_nice - nice)) for nice in running)
    return total


def idle_cores(cores: int | None = None, loadavg: str = "/proc/loadavg",
               own_running: int | None = None, proc: str | None = "/proc") -> int:
    """Usable cores less the runnable tasks of *other* processes right now (at least 1).

    This process's own runnable threads (say PyTorch's or the BLAS's workers still spinning
    after a product) are not competition: they are subtracted from the kernel's count. When
    others run, each is weighed by its priority (:func:`competing_tasks` over ``proc``;
    ``proc=None`` counts every runnable task as a whole core).
    """
    cores = usable_cores() if cores is None else cores
    try:
        with open(loadavg) as f:
            running = int(f.read().split()[3].split("/")[0])  # "0.5 0.4 0.3 3/412 1234"
    except (OSError, ValueError, IndexError):
        return cores
    own = own_runnable_threads() if own_running is None else max(1, own_running)
    others = running - own
    if others > 0 and proc is not None:
        weighed = competing_tasks(proc)
        if weighed is not None:
            others = min(others, math.floor(weighed + 0.5))
    return max(1, min(cores, cores - others))


def in_dask_worker() -> bool:
    """Whether this code runs inside a Dask distributed worker."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except (ValueError, AttributeError):
        return False
    return True


def largest_product(sizes: Sequence[int], rows: float) -> float:
    """Multiply-adds of the largest product z = a · W of a step with ``rows`` samples."""
    return max(rows * n_in * n_out for n_in, n_out in pairwise(sizes))


def choose_threads(threads: int | None, sizes: Sequence[int], rows: float) -> int | None:
    """The BLAS thread count for training a network of layer ``sizes`` on batches of ``rows``
    samples (see the module docstring); None leaves the BLAS as it is."""
    threads = check_threads(threads)
    if threads is not None:
        return threads
    if len(sizes) < 2 or largest_product(sizes, rows) < SMALL_PRODUCT or in_dask_worker():
        return 1
    idle = idle_cores()
    return idle if idle < usable_cores() else None


_controller: Any = None  # threadpoolctl's controller, kept (see blas_controller)
_controller_modules = -1  # len(sys.modules) when it was made


def blas_controller() -> Any:
    """threadpoolctl's ``ThreadpoolController`` of the thread pools this process has loaded,
    made once and kept: making one scans every loaded shared library, 1.5-2 ms that every
    :func:`mlpkit.train` call paid before (measured with and without PyTorch loaded). Made
    again when modules were imported since (an import may bring another BLAS)."""
    global _controller, _controller_modules
    if _controller is None or len(sys.modules) != _controller_modules:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
        _controller_modules = len(sys.modules)
    return _controller


@contextlib.contextmanager
def blas_threads(threads: int | None, sizes: Sequence[int], rows: int | None) -> Iterator[
        int | None]:
    """Run the ``with`` block with the BLAS thread count :func:`choose_threads` gives (``rows``
    None: unknown, taken as large); yields that count (None: the BLAS's own setting)."""
    chosen = choose_threads(threads, sizes, math.inf if rows is None else rows)
    if chosen is None:
        yield None
        return
    with blas_controller().limit(limits=chosen, user_api="blas"):
        yield chosen


def rows_per_step(X, batch_size: int | None) -> int | None:
    """Samples in one training step: ``batch_size``, or all of X for full batch (None when X
    has no length yet: it is checked later)."""
    try:
        n = len(X)
    except TypeError:
        return batch_size
    return n if batch_size is None else min(batch_size, n)


class CollapseGuard:
    """Drops a multi-threaded training run to one BLAS thread when its steps collapse (other
    work took a core; see the module docstring), and gives the threads back at an epoch start
    once the cores are idle again.

    ``threads`` is the count :func:`blas_threads` chose (None: the BLAS's own setting, taken as
    one per usable core); ``explicit`` (the user gave ``threads``) turns the guard off. Per
    step: :meth:`batch_start` before the batch, :meth:`batch_end` with its number of samples
    after the optimiser step (callbacks and checkpoints in between are not timed).
    """

    #: a step slower than this multiple of the fastest (per sample) counts as collapsed ...
    FACTOR = 4.0
    #: ... and this many of them in a row, lasting at least SLOW_SECONDS, drop the threads
    SLOW_STEPS = 8
    SLOW_SECONDS = 0.05

    def __init__(self, threads: int | None, explicit: bool = False) -> None:
        self.threads = usable_cores() if threads is None else threads
        self.active = not explicit and self.threads > 1
        self.limiter: Any = None  # threadpoolctl's limit to one thread while dropped
        self.dropped = 0  # how many times this run dropped to one thread
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf  # fastest seconds per sample seen at the full thread count
        self.slow = 0  # collapsed steps in a row ...
        self.slow_seconds = 0.0  # ... and their time
        self.started = 0.0

    def __enter__(self) -> CollapseGuard:
        return self

    def __exit__(self, *exc) -> None:
        self.restore()

    def batch_start(self) -> None:
        if self.active:
            self.started = time.perf_counter()

    def batch_end(self, samples: int) -> None:
        """Time the step since :meth:`batch_start`; drop to one thread after a collapse."""
        if not self.active:
            return
        seconds = time.perf_counter() - self.started
        per_sample = seconds / max(1, samples)
        if per_sample < self.best:
            self.best = per_sample
        if per_sample > self.FACTOR * self.best:
            self.slow += 1
            self.slow_seconds += seconds
            if self.slow >= self.SLOW_STEPS and self.slow_seconds >= self.SLOW_SECONDS:
                self.drop()
        else:
            self.slow, self.slow_seconds = 0, 0.0

    def drop(self) -> None:
        """One BLAS thread from now on (until :meth:`epoch_start` finds the cores idle)."""
        self.limiter = blas_controller().limit(limits=1, user_api="blas")
        self.active = False
        self.dropped += 1

    def epoch_start(self) -> None:
        """After a drop: take the threads back if no other process needs the cores now."""
        if self.limiter is not None and idle_cores() >= self.threads:
            self.restore()
            self.active = True
            self._reset()

    def restore(self) -> None:
        """Undo a drop (the thread count in force before it comes back)."""
        if self.limiter is not None:
            self.limiter.restore_original_limits()
            self.limiter = None
