"""What the hidden units learn (CS 445 lecture 001, the hidden-unit weight pictures): train a
784-h-10 sigmoid network on MNIST or Fashion-MNIST and draw each hidden unit's incoming
weights as a 28x28 image. Prints the test accuracy; writes the weight tiles and the curves.

    python examples/hidden_units.py --dataset mnist             # 60,000 images, 5 epochs
    python examples/hidden_units.py --dataset fashion-mnist
    python examples/hidden_units.py --quick                     # 8x8 digits, no data files (CI)

MNIST files are looked for in --data-dir or $MLPKIT_DATA (never downloaded by this script).
"""

import argparse
from pathlib import Path

import numpy as np

import mlpkit
from mlpkit import datasets


def load(name: str, data_dir, n_train: int | None):
    if name == "digits":
        X, y = datasets.load_digits()
        order = np.random.default_rng(0).permutation(len(y))
        X, y = X[order], y[order]
        return (X[:1400], y[:1400]), (X[1400:], y[1400:]), (8, 8)
    loader = datasets.load_mnist if name == "mnist" else datasets.load_fashion_mnist
    (X, y), test = loader(data_dir, download=False)
    if n_train:
        X, y = X[:n_train], y[:n_train]
    return (X, y), test, (28, 28)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        choices=["mnist", "fashion-mnist", "digits"],
        default=None,
        help="mnist (default), or digits with --quick",
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n-train", type=int, default=None, help="use the first N images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the 8x8 digits, 16 hidden units, 10 epochs (unless --dataset)",
    )
    parser.add_argument("--out", type=Path, default=Path("runs/hidden_units"))
    args = parser.parse_args(argv)
    if args.quick:
        args.hidden, args.epochs = 16, 10
        args.n_train = args.n_train or 2000
    if args.dataset is None:
        args.dataset = "digits" if args.quick else "mnist"
    args.out.mkdir(parents=True, exist_ok=True)

    (X, y), (X_test, y_test), shape = load(args.dataset, args.data_dir, args.n_train)
    n_in = X.shape[1]
    network = mlpkit.mlp(
        [n_in, args.hidden, 10], activation="sigmoid", output_activation="softmax", seed=args.seed
    )
    history = mlpkit.train(
        network,
        X,
        y,
        "cross_entropy",
        mlpkit.SGD(0.5, momentum=0.5),
        epochs=args.epochs,
        batch_size=32,
        seed=args.seed,
        validation_data=(X_test, y_test),
    )
    accuracy = float(np.mean(network.predict(X_test) == y_test))
    print(
        f"{args.dataset}: {len(y)} training images, {n_in}-{args.hidden}-10 sigmoid/softmax, "
        f"SGD η = 0.5, α = 0.5, mini-batches of 32, {args.epochs} epochs"
    )
    print(f"test accuracy {accuracy:.2%} ({len(y_test)} test images)")
    from mlpkit import plots

    plots.plot_weights(
        network,
        shape,
        args.out / f"hidden_units_{args.dataset}.png",
        title=f"first-layer weights, {args.dataset}",
    )
    plots.plot_history(history, args.out / f"history_{args.dataset}.png")
    print(f"figures in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
