"""Speed on a busy machine: the configurations of benchmarks/online.py and compare.py's C3,
timed quiet, then with one and with two competing busy processes (``while True: pass``), and
each library's slowdown factor (epoch time under contention / quiet epoch time).

On two cores, two busy processes leave a fair share of 2/3 of the machine to the benchmark, so
a slowdown of about 1.5–2x is fair; a library whose threads spin waiting for each other falls
far behind that. mlpkit runs with its default thread policy (``threads=None``,
mlpkit.fast.threads) and, for comparison, with the BLAS's own thread count (every core, as
before the policy); PyTorch with its default thread count.

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/contention.py
    python benchmarks/contention.py --configs C3 --c3-samples 3000 --busy 0 2

Targets (issue 14): C3 with two busy processes at most 2.5x its quiet time, and mlpkit at most
0.75x PyTorch under the same contention.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compare
import online

from mlpkit import train


@contextlib.contextmanager
def busy(count: int):
    """``count`` processes spinning on a core each, for the duration of the block."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(count)]
    try:
        time.sleep(0.5 if count else 0.0)  # let the scheduler see them
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            spinner.wait()


def online_runs(name: str, n: int) -> dict:
    """Per library, a function timing one epoch of an online.py configuration (seconds)."""
    setup = online.SETUPS[name]
    x, t, _, _ = online.load(setup, n)
    order = np.random.default_rng(1).permutation(x.shape[0])
    runs = {}
    for label, impl in (("mlpkit compiled", "mlpkit compiled"), ("mlpkit train", "mlpkit train"),
                        ("pytorch", "pytorch")):
        epoch = online.IMPLEMENTATIONS[impl](setup, x, t)
        runs[label] = lambda epoch=epoch: online.timed(lambda: epoch(order), 1)[0]
    return runs


def c3_runs(n: int) -> dict:
    """Per library, a function timing one epoch of compare.py's C3 on n Fashion-MNIST samples."""
    cfg = compare.CONFIGS["C3"]
    (x, y), test = compare.load_data(None)
    data = ((np.ascontiguousarray(x[:n]), y[:n]), test)
    runs = {}
    for label, threads in (("mlpkit", None), ("mlpkit, BLAS threads", os.cpu_count())):
        network, loss, optimizer = compare.build_mlpkit(cfg, 0)
        rng = np.random.default_rng(0)

        def epoch(network=network, loss=loss, optimizer=optimizer, rng=rng, threads=threads):
            started = time.perf_counter()
            train(network, data[0][0], data[0][1], loss=loss, optimizer=optimizer, epochs=1,
                  batch_size=cfg.batch_size, seed=rng, threads=threads)
            return time.perf_counter() - started
        epoch()  # warm-up
        runs[label] = epoch
    torch_run = compare.TorchRun(cfg, data, 0)
    torch_run.epoch()
    runs["pytorch"] = torch_run.epoch
    return runs


def measure(runs: dict, levels: list[int], repeats: int) -> dict:
    """{library: {busy count: best epoch seconds}}; the libraries take turns at each level."""
    times: dict = {label: {} for label in runs}
    for count in levels:
        with busy(count):
            for _ in range(repeats):
                for label, run in runs.items():
                    seconds = run()
                    times[label][count] = min(times[label].get(count, np.inf), seconds)
    return times


def report(name: str, times: dict, levels: list[int]) -> None:
    print(f"\n{name}: best epoch seconds with 0/1/2 busy processes, slowdown vs quiet")
    header = "".join(f"{f'{c} busy':>10}" for c in levels)
    slow = "".join(f"{f'x{c}':>8}" for c in levels if c)
    print(f"  {'library':22}{header}{slow}")
    for label, by_count in times.items():
        quiet = by_count.get(0, np.nan)
        cells = "".join(f"{by_count[c]:10.3f}" for c in levels)
        factors = "".join(f"{by_count[c] / quiet:8.2f}" for c in levels if c)
        print(f"  {label:22}{cells}{factors}")
    if "pytorch" in times:
        for count in levels:
            ratio = times[next(iter(times))][count] / times["pytorch"][count]
            print(f"  {next(iter(times))} / pytorch with {count} busy: {ratio:.3f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=["mnist-b1", "mnist-b10", "C3"],
                        choices=[*online.SETUPS, "C3"])
    parser.add_argument("--busy", nargs="+", type=int, default=[0, 1, 2],
                        help="numbers of competing busy processes (0 = quiet, measured first)")
    parser.add_argument("--samples", type=int, default=1000, help="online configurations")
    parser.add_argument("--c3-samples", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    levels = sorted(set(args.busy) | {0})
    print(f"contention benchmark: {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} before starting (other users' work counts as load too)")
    for name in args.configs:
        runs = c3_runs(args.c3_samples) if name == "C3" else online_runs(name, args.samples)
        report(name, measure(runs, levels, args.repeats), levels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
