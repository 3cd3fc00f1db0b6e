"""Forward-mode derivatives against backpropagation (Schweizer lecture 003): the multiply-adds
each performs for one sample, counted while they run, as the network grows. Backpropagation
grows with the number of weights, forward mode with weights × weights.
Prints the counts; writes a log-log plot.

    python examples/forward_vs_backward.py            # n-n-n-1 networks, n = 2 ... 64
    python examples/forward_vs_backward.py --quick    # n = 2 ... 8 (CI)
"""

import argparse
from pathlib import Path

import numpy as np

from mlpkit.lectures.forward_mode import operation_counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    parser.add_argument("--quick", action="store_true", help="widths 2, 4, 8")
    parser.add_argument("--out", type=Path, default=Path("runs/forward_vs_backward"))
    args = parser.parse_args(argv)
    if args.quick:
        args.widths = [2, 4, 8]
    args.out.mkdir(parents=True, exist_ok=True)

    print("n-n-n-1 sigmoid networks, one sample; multiply-adds of the derivative computation")
    print(
        f"{'network':>14} {'weights':>8} {'backprop':>10} {'forward mode':>13} "
        f"{'ratio':>7} {'fwd / weights²':>15}"
    )
    rows = []
    for n in args.widths:
        counts = operation_counts([n, n, n, 1])
        rows.append(counts)
        w = counts["n_weights"]
        print(
            f"{f'{n}-{n}-{n}-1':>14} {w:>8} {counts['backprop']:>10} "
            f"{counts['forward_mode']:>13} {counts['forward_mode'] / counts['backprop']:>7.1f} "
            f"{counts['forward_mode'] / w**2:>15.3f}"
        )
    weights = np.array([r["n_weights"] for r in rows], dtype=float)
    slopes = {
        key: np.polyfit(np.log(weights), np.log([r[key] for r in rows]), 1)[0]
        for key in ("backprop", "forward_mode")
    }
    print(
        f"log-log slope against the number of weights: backprop {slopes['backprop']:.2f}, "
        f"forward mode {slopes['forward_mode']:.2f} (lecture: 1 and 2)"
    )

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for key, label in (("backprop", "backpropagation"), ("forward_mode", "forward mode")):
        axes.loglog(weights, [r[key] for r in rows], "o-", label=f"{label} (measured)")
    axes.loglog(weights, weights, "k:", label="weights")
    axes.loglog(weights, weights**2, "k--", label="weights²")
    axes.set_xlabel("number of weights")
    axes.set_ylabel("multiply-adds for ∂E/∂θ, one sample")
    axes.legend()
    path = args.out / "forward_vs_backward.png"
    figure.savefig(path, dpi=100)
    print(f"figure: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
