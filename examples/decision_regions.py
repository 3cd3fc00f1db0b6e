"""Decision regions grow with the hidden layer (CS 445 lecture 001, universal approximation):
a 2-D problem (the XOR quadrants by default; --dataset picks another) learnt by networks
with 1, 2, 3 and 8 hidden units. Prints each network's training and test accuracy; writes one
region plot each.

    python examples/decision_regions.py            # 400 points, 1,000 epochs
    python examples/decision_regions.py --quick    # 100 points, 20 epochs (CI)
"""

import argparse
from pathlib import Path

import numpy as np

import mlpkit
from mlpkit.datasets import TOY_DATASETS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(TOY_DATASETS), default="xor_quadrants")
    parser.add_argument("--n-samples", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[1, 2, 3, 8])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="100 points, 20 epochs")
    parser.add_argument("--out", type=Path, default=Path("runs/decision_regions"))
    args = parser.parse_args(argv)
    if args.quick:
        args.n_samples, args.epochs = 100, 20
    args.out.mkdir(parents=True, exist_ok=True)

    make = TOY_DATASETS[args.dataset]
    X, y = make(n_samples=args.n_samples, noise=0.05, seed=args.seed)
    X_test, y_test = make(n_samples=args.n_samples, noise=0.05, seed=args.seed + 1)
    print(
        f"{args.dataset}: {args.n_samples} points; 2-h-1 tanh/sigmoid networks, Adam "
        f"(η = 0.01), mini-batches of 16, binary cross-entropy, {args.epochs} epochs"
    )
    print("hidden units  train accuracy  test accuracy")
    from mlpkit import plots

    for hidden in args.hidden:
        network = mlpkit.mlp(
            [2, hidden, 1],
            activation="tanh",
            output_activation="sigmoid",
            init="glorot",
            seed=args.seed,
            dtype=np.float64,
        )
        mlpkit.train(
            network,
            X,
            y,
            "binary_cross_entropy",
            mlpkit.Adam(0.01),
            epochs=args.epochs,
            batch_size=16,
            seed=args.seed,
        )
        train_acc = float(np.mean(network.predict(X) == y))
        test_acc = float(np.mean(network.predict(X_test) == y_test))
        print(f"{hidden:>12}  {train_acc:>14.1%}  {test_acc:>13.1%}")
        plots.plot_decision_regions(
            network,
            X,
            y,
            args.out / f"regions_{hidden}_hidden.png",
            resolution=150,
            title=f"{hidden} hidden unit(s): test {test_acc:.1%}",
        )
    print(f"figures in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
