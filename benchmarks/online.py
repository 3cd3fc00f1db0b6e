"""Online (batch 1) and small-batch (batch 10) training speed: mlpkit's compiled epoch
(mlpkit.fast.online) alone and through ``mlpkit.train`` (which runs it for batches up to 6, and
up to 16 on data that is mostly 0 such as MNIST), ``mlpkit.train`` stepping per batch (forced
by a callback with ``on_batch_end``: the fast engine's NumPy path), a plain per-sample NumPy
loop and PyTorch eager doing the same loop, in µs per sample; and the memory-bound limit
measured on this machine: one pass reading and one pass updating every weight per step, the
best of a compiled stream and a NumPy stream over a flat array of the weights' size and dtype.

Configurations: the 784-100-10 sigmoid lecture net (½ squared error, SGD) on MNIST, and
Mitchell's 960-3-4 face net shape (sigmoid, ½ squared error, SGD momentum 0.3) on random data,
each at batch 1 and batch 10 (the 784-100-10 net at batch 10 is compare.py's C1 on MNIST).

Usage::

    MLPKIT_DATA=/work/shared/data python benchmarks/online.py               # 10,000 samples
    python benchmarks/online.py --samples 2000 --configs mnist-b1 --repeats 1
    python benchmarks/online.py --accuracy-epochs 1   # + test accuracy against the core

Threads: ``--threads`` (default 1) for PyTorch (``torch.set_num_threads``), mlpkit's
``train(threads=…)`` and the NumPy loop's BLAS; the compiled epoch runs on one core. Figures on
a shared machine are noisy: wall-clock and CPU seconds are both printed, with the load average;
the best of ``--repeats`` runs is kept.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from mlpkit import SGD, Callback, mlp, train
from mlpkit.fast.online import OnlineEpoch
from mlpkit.losses import SquaredError


@dataclass(frozen=True)
class Setup:
    name: str
    sizes: tuple[int, ...]
    batch_size: int
    learning_rate: float
    momentum: float
    data: str  # "mnist" or "random"


SETUPS = {
    "mnist-b1": Setup("mnist-b1", (784, 100, 10), 1, 0.3, 0.0, "mnist"),
    "mnist-b10": Setup("mnist-b10", (784, 100, 10), 10, 3.0, 0.0, "mnist"),
    "face-b1": Setup("face-b1", (960, 3, 4), 1, 0.3, 0.3, "random"),
    "face-b10": Setup("face-b10", (960, 3, 4), 10, 0.3, 0.3, "random"),
}
TARGETS = {"mnist-b1": "<= 0.1x PyTorch and <= 3x the memory-bound limit",
           "mnist-b10": "<= 0.2x PyTorch (C1)",
           "face-b1": "none (issue 14's memory-bound target is the 784-100-10 net's)"}
#: threads for PyTorch, mlpkit.train and the NumPy loop's BLAS; None: each library's default
THREADS: int | None = None


def load(setup: Setup, n: int, seed: int = 0):
    """(x, one-hot t, test x, test labels) as float32."""
    if setup.data == "random":
        rng = np.random.default_rng(seed)
        x = rng.random((n, setup.sizes[0]), dtype=np.float32)
        labels = rng.integers(0, setup.sizes[-1], n)
        return x, np.eye(setup.sizes[-1], dtype=np.float32)[labels], None, None
    from mlpkit.datasets import load_mnist

    (x, y), (x_test, y_test) = load_mnist(scale="unit", download=False, progress=False)
    x = np.ascontiguousarray(x[:n], dtype=np.float32)
    return x, np.eye(10, dtype=np.float32)[y[:n]], x_test, y_test


def network(setup: Setup, seed: int = 0):
    net = mlp(list(setup.sizes), activation="sigmoid", init="normal", seed=seed)
    return net, SGD(setup.learning_rate, momentum=setup.momentum)


def timed(run, repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeats`` calls."""
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


# -- the implementations: each returns a function that trains one epoch in a given order ------


def mlpkit_compiled(setup, x, t):
    net, opt = network(setup)
    epoch = OnlineEpoch.for_training(net, SquaredError(), opt, setup.batch_size)
    if epoch is None:
        raise SystemExit("the compiled epoch is not available (numba missing or MLPKIT_NUMBA=0)")
    epoch.run(x[:50], t[:50])  # compile or load from the cache outside the timing
    stats = epoch.data_stats(x)  # once, as train() does
    return lambda order: epoch.run(x, t, order, stats=stats)


def mlpkit_train(setup, x, t):
    net, opt = network(setup)
    rng = np.random.default_rng(0)
    train(net, x[:50], t[:50], optimizer=opt, epochs=1, batch_size=setup.batch_size, seed=rng,
          threads=THREADS)
    return lambda order: train(net, x, t, loss="squared_error", optimizer=opt, epochs=1,
                               batch_size=setup.batch_size, seed=rng, threads=THREADS)


class _EveryBatch(Callback):
    """A callback with on_batch_end: train() then steps every batch from Python (the fast
    engine per batch), as it did before the compiled epoch was wired into it."""

    def on_batch_end(self, epoch, batch, loss):
        pass


def mlpkit_train_per_batch(setup, x, t):
    net, opt = network(setup)
    rng = np.random.default_rng(0)
    every = [_EveryBatch()]
    train(net, x[:50], t[:50], optimizer=opt, epochs=1, batch_size=setup.batch_size, seed=rng,
          callbacks=every, threads=THREADS)
    return lambda order: train(net, x, t, loss="squared_error", optimizer=opt, epochs=1,
                               batch_size=setup.batch_size, seed=rng, callbacks=every,
                               threads=THREADS)


def numpy_loop(setup, x, t):
    """The textbook loop: per batch forward, δ, backward and update with plain NumPy."""
    net, _ = network(setup)
    ws = [layer.weights.copy() for layer in net.dense_layers]
    bs = [layer.biases.copy() for layer in net.dense_layers]
    vs = [np.zeros_like(p) for p in ws + bs]
    lr, alpha, k = np.float32(setup.learning_rate), np.float32(setup.momentum), setup.batch_size

    def epoch(order):
        if THREADS is None:
            return steps(order)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=THREADS, user_api="blas"):
            return steps(order)

    def steps(order):
        for start in range(0, len(order), k):
            index = order[start:start + k]
            acts = [x[index]]
            for w, b in zip(ws, bs, strict=True):
                acts.append(1.0 / (1.0 + np.exp(-(acts[-1] @ w + b))))
            a = acts[-1]
            delta = (a - t[index]) / len(index) * a * (1.0 - a)
            grads = []
            for i in range(len(ws) - 1, -1, -1):
                grads.append((i, acts[i].T @ delta, delta.sum(axis=0)))
                if i:
                    delta = (delta @ ws[i].T) * acts[i] * (1.0 - acts[i])
            for i, gw, gb in grads:
                for p, g, v in ((ws[i], gw, vs[i]), (bs[i], gb, vs[len(ws) + i])):
                    v *= alpha
                    v -= lr * g
                    p += v
    return epoch


def pytorch_loop(setup, x, t):
    import torch
    from torch import nn

    torch.set_num_threads(THREADS or os.cpu_count() or 1)  # default: PyTorch's own
    net, _ = network(setup)
    modules = []
    for layer in net.dense_layers:
        linear = nn.Linear(layer.n_inputs, layer.n_outputs)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(layer.weights.T)))
            linear.bias.copy_(torch.from_numpy(layer.biases))
        modules += [linear, nn.Sigmoid()]
    model = nn.Sequential(*modules)
    opt = torch.optim.SGD(model.parameters(), lr=setup.learning_rate, momentum=setup.momentum)
    xt, tt, k = torch.from_numpy(x), torch.from_numpy(t), setup.batch_size

    def epoch(order):
        order = torch.from_numpy(order)
        for start in range(0, len(order), k):
            index = order[start:start + k]
            loss = 0.5 * ((model(xt[index]) - tt[index]) ** 2).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return epoch


IMPLEMENTATIONS = {"mlpkit compiled": mlpkit_compiled, "mlpkit train": mlpkit_train,
                   "train per batch": mlpkit_train_per_batch,
                   "numpy loop": numpy_loop, "pytorch": pytorch_loop}


def memory_bound_us(sizes: tuple[int, ...], batch_size: int, dtype=np.float32,
                    repeats: int = 7) -> tuple[float, float]:
    """µs per sample to read every weight once and update every weight once per step (the
    least a step must do: the forward pass reads W, the update reads and writes it; biases
    included, the data and the optimiser's velocities not), measured on arrays of the weights'
    size and dtype: the best of a compiled stream over one flat array (a reading pass summing
    it, then a pass adding a constant) and NumPy's ``w.sum(); w += c``. Returns (best
    wall-clock, best CPU µs) per sample."""
    import numba

    @numba.njit(fastmath={"reassoc"})
    def passes(w, c, steps):  # pragma: no cover - compiled
        total = w[0] - w[0]
        for _ in range(steps):
            acc = w[0] - w[0]
            for i in range(w.shape[0]):  # one pass reading (it vectorises, as a dot product)
                acc += w[i]
            for i in range(w.shape[0]):  # one pass updating
                w[i] += c
            total += acc
        return total

    n = sum(a * b + b for a, b in pairwise(sizes))
    w, c = np.zeros(n, dtype), dtype(0)
    steps = max(1, int(2e8 // n))  # about 0.1-0.5 s a run

    def numpy_passes():
        for _ in range(steps // 10):
            w.sum()
            np.add(w, c, out=w)

    passes(w, c, 1)
    compiled = timed(lambda: passes(w, c, steps), repeats)
    numpy = [v * 10 for v in timed(numpy_passes, repeats)]
    wall, cpu = min(compiled[0], numpy[0]), min(compiled[1], numpy[1])
    return wall / steps / batch_size * 1e6, cpu / steps / batch_size * 1e6


def bench(setup: Setup, names: list[str], n: int, repeats: int) -> dict:
    x, t, _, _ = load(setup, n)
    order = np.random.default_rng(1).permutation(x.shape[0])
    rows = {}
    for name in names:
        epoch = IMPLEMENTATIONS[name](setup, x, t)
        wall, cpu = timed(lambda epoch=epoch: epoch(order), repeats)
        rows[name] = (wall / x.shape[0] * 1e6, cpu / x.shape[0] * 1e6)
    return rows


def accuracy(setup: Setup, epochs: int, seed: int = 0) -> tuple[float, float]:
    """Test accuracy after ``epochs`` over all of MNIST, trained by ``mlpkit.train`` with
    ``engine="auto"`` (the compiled epoch) and ``engine="plain"`` (the core's formulas), from
    the same weights (``seed``) in the same sample orders (``seed``)."""
    x, t, x_test, y_test = load(setup, 60000)
    results = []
    for engine in ("auto", "plain"):
        net, opt = network(setup, seed)
        train(net, x, t, loss="squared_error", optimizer=opt, epochs=epochs,
              batch_size=setup.batch_size, seed=seed, engine=engine, threads=THREADS)
        results.append(float(np.mean(net.predict(x_test) == y_test)))
    return results[0], results[1]


def report(setup: Setup, rows: dict, limit: tuple[float, float]) -> None:
    torch_wall, torch_cpu = rows.get("pytorch", (float("nan"), float("nan")))
    print(f"\n{setup.name}: {'-'.join(map(str, setup.sizes))} sigmoid, ½ squared error, SGD "
          f"eta={setup.learning_rate:g} momentum={setup.momentum:g}, batch {setup.batch_size}"
          f"; memory-bound limit {limit[0]:.2f} us/sample wall, {limit[1]:.2f} CPU")
    print(f"  {'implementation':16} {'us/sample':>10} {'CPU us':>8} {'x PyTorch':>10} "
          f"{'(CPU)':>7} {'x limit':>8} {'(CPU)':>7}")
    for name, (wall, cpu) in rows.items():
        print(f"  {name:16} {wall:10.2f} {cpu:8.2f} {wall / torch_wall:10.3f} "
              f"{cpu / torch_cpu:7.3f} {wall / limit[0]:8.1f} {cpu / limit[1]:7.1f}")
    if setup.name in TARGETS:
        print(f"  target: {TARGETS[setup.name]}")


def main(argv: list[str] | None = None) -> int:
    global THREADS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", choices=sorted(SETUPS), default=list(SETUPS))
    parser.add_argument("--implementations", nargs="+", choices=list(IMPLEMENTATIONS),
                        default=list(IMPLEMENTATIONS))
    parser.add_argument("--samples", type=int, default=10000, help="samples per timed epoch")
    parser.add_argument("--repeats", type=int, default=2, help="timed epochs; the best counts")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of PyTorch, mlpkit.train and the NumPy loop's BLAS (0: "
                        "each library's default)")
    parser.add_argument("--accuracy-epochs", type=int, default=0,
                        help="also train mnist-b1 and mnist-b10 this many epochs on all of "
                        "MNIST with engine='auto' and 'plain' and compare test accuracy "
                        "(target: within 0.3 points)")
    parser.add_argument("--seed", type=int, default=0, help="weights and order (accuracy)")
    args = parser.parse_args(argv)
    THREADS = args.threads or None
    print(f"online benchmark: {args.samples} samples, best of {args.repeats}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start; "
          f"threads {THREADS or 'library defaults'}")
    for name in args.configs:
        setup = SETUPS[name]
        rows = bench(setup, args.implementations, args.samples, args.repeats)
        report(setup, rows, memory_bound_us(setup.sizes, setup.batch_size))
    for name in ("mnist-b1", "mnist-b10") if args.accuracy_epochs else ():
        compiled, plain = accuracy(SETUPS[name], args.accuracy_epochs, args.seed)
        print(f"\n{name} test accuracy after {args.accuracy_epochs} epoch(s), seed "
              f"{args.seed}: engine='auto' (compiled) {compiled:.4f}, engine='plain' "
              f"{plain:.4f}, difference {100 * (compiled - plain):+.2f} points (target: within "
              "0.3)")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
