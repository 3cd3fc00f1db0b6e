"""Microseconds per training step of mlpkit (and optionally PyTorch) for each configuration.

A development aid for the hot path: each figure is the minimum over several one-epoch runs on
a slice of Fashion-MNIST, which is robust to other processes on a busy machine (the medians in
``compare.py`` are what the README reports).

    python benchmarks/step_times.py --samples 12000 --repeats 5 [--torch]
"""

from __future__ import annotations

import argparse

import numpy as np
from compare import CONFIGS, MlpkitRun, TorchRun, load_data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--samples", type=int, default=12000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--torch", action="store_true")
    args = parser.parse_args(argv)
    (x, y), test = load_data(None)
    data = ((np.ascontiguousarray(x[: args.samples]), y[: args.samples]), test)
    for name in args.configs:
        cfg = CONFIGS[name]
        steps = -(-args.samples // cfg.batch_size)
        line = f"{name}: "
        for cls in (MlpkitRun, TorchRun) if args.torch else (MlpkitRun,):
            run = cls(cfg, data, 0)
            best = min(run.epoch() for _ in range(args.repeats))
            line += f"{cls.framework} {1e6 * best / steps:8.1f} µs/step  "
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
