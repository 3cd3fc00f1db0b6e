"""How many BLAS threads a training run gets: ``threads`` in :func:`mlpkit.train`, the
estimators and the CLI (``--threads``), applied with threadpoolctl's context manager (never
through environment variables, which only act before NumPy is loaded).

* An int ``threads >= 1`` is used as given.
* ``threads=None`` (the default) chooses:

  - **one thread for small products**: when the largest matrix product of a training step,
    batch × n_inputs × n_outputs multiply-adds over the layers, is below
    :data:`SMALL_PRODUCT` (2²⁰). Measured on the 2-core development machine (OpenBLAS 0.3,
    float32): at batch 1 and batch 10 of the 784-100-10 net the second thread saved nothing
    even on a quiet machine (8.7 → 8.2 µs) and, with other processes running, made the product
    up to 47× slower (154 µs → 7.3 ms for 10 × 784 × 100) while its threads spun waiting for a
    core;
  - **no more threads than there are idle cores**: the cores this process may use, less the
    runnable tasks of other processes at the start of training (``/proc/loadavg`` less this
    process's own runnable threads, such as another library's workers still spinning; on a
    system without it, every core counts as idle), and at least one. With two other busy
    processes on two cores that is one thread: the step then runs at its fair share instead of
    collapsing (5–14× slower measured for C1–C4's products with two spinning threads);
  - **one thread inside a Dask worker** (several workers share a machine; Dask's nanny also sets
    ``OPENBLAS_NUM_THREADS=1`` for worker processes it starts, this covers the others).

  Otherwise the BLAS keeps its own setting (usually one thread per core).

The choice is made once per call of ``train`` (a long run on a machine whose load changes can
pass ``threads`` explicitly).
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np

__all__ = ["SMALL_PRODUCT", "blas_threads", "check_threads", "choose_threads", "idle_cores"]

#: multiply-adds of the largest product below which one BLAS thread is used
SMALL_PRODUCT = 1 << 20


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


def idle_cores(cores: int | None = None, loadavg: str = "/proc/loadavg",
               own_running: int | None = None) -> int:
    """Usable cores less the runnable tasks of *other* processes right now (at least 1).

    This process's own runnable threads (say PyTorch's or the BLAS's workers still spinning
    after a product) are not competition: they are subtracted from the kernel's count.
    """
    cores = usable_cores() if cores is None else cores
    try:
        with open(loadavg) as f:
            running = int(f.read().split()[3].split("/")[0])  # "0.5 0.4 0.3 3/412 1234"
    except (OSError, ValueError, IndexError):
        return cores
    own = own_runnable_threads() if own_running is None else max(1, own_running)
    return max(1, min(cores, cores - (running - own)))


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


@contextlib.contextmanager
def blas_threads(threads: int | None, sizes: Sequence[int], rows: int | None) -> Iterator[
        int | None]:
    """Run the ``with`` block with the BLAS thread count :func:`choose_threads` gives (``rows``
    None: unknown, taken as large); yields that count (None: the BLAS's own setting)."""
    chosen = choose_threads(threads, sizes, math.inf if rows is None else rows)
    if chosen is None:
        yield None
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=chosen, user_api="blas"):
        yield chosen


def rows_per_step(X, batch_size: int | None) -> int | None:
    """Samples in one training step: ``batch_size``, or all of X for full batch (None when X
    has no length yet: it is checked later)."""
    try:
        n = len(X)
    except TypeError:
        return batch_size
    return n if batch_size is None else min(batch_size, n)
