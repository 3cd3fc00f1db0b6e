"""The learning slowdown (Schweizer lecture 003, after Nielsen): a sigmoid neuron that starts
badly wrong (input 1, target 0, output 0.98) learns slowly with the squared error, because
∂E/∂w carries σ'(z) ≈ 0, and fast with the cross-entropy, where σ'(z) cancels.
Prints the epochs each loss needs to bring the output below 0.1; writes the loss curves.

    python examples/learning_slowdown.py            # 300 epochs
    python examples/learning_slowdown.py --quick    # 60 epochs (CI)
"""

import argparse
from pathlib import Path

import numpy as np

import mlpkit


def run(loss: str, epochs: int, learning_rate: float) -> tuple[list[float], list[float]]:
    """Train the single neuron (w = b = 2) and record its output and loss per epoch."""
    neuron = mlpkit.Dense(1, 1, activation="sigmoid", dtype=np.float64)
    neuron.weights, neuron.biases = [[2.0]], [2.0]
    network = mlpkit.Network([neuron])
    X, T = np.array([[1.0]]), np.array([[0.0]])
    per_epoch: list[float] = []
    record = mlpkit.LambdaCallback(
        on_epoch_end=lambda epoch, history: per_epoch.append(float(network.forward(X)[0, 0]))
    )
    history = mlpkit.train(
        network,
        X,
        T,
        loss,
        mlpkit.SGD(learning_rate),
        epochs=epochs,
        batch_size=1,
        shuffle=False,
        callbacks=[record],
    )
    return history.loss, per_epoch


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--learning-rate", type=float, default=0.15)
    parser.add_argument("--quick", action="store_true", help="60 epochs")
    parser.add_argument("--out", type=Path, default=Path("runs/learning_slowdown"))
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs = 60
    args.out.mkdir(parents=True, exist_ok=True)

    print(
        f"one sigmoid neuron, w = b = 2, input 1, target 0 (output starts at 0.982), "
        f"η = {args.learning_rate}, {args.epochs} epochs"
    )
    curves = {}
    for loss in ("squared_error", "binary_cross_entropy"):
        losses, outputs = run(loss, args.epochs, args.learning_rate)
        curves[loss] = losses
        below = next((i + 1 for i, o in enumerate(outputs) if o < 0.1), None)
        drop = outputs[min(9, len(outputs) - 1)]
        print(
            f"{loss:<21} output after 10 epochs {drop:.3f}, after {args.epochs}: "
            f"{outputs[-1]:.3f}; output < 0.1 after "
            f"{below if below else f'more than {args.epochs}'} epochs"
        )

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for loss, values in curves.items():
        axes.plot(np.arange(1, len(values) + 1), values, label=loss)
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss E")
    axes.set_title("A badly wrong sigmoid neuron: squared error vs cross-entropy")
    axes.legend()
    path = args.out / "learning_slowdown.png"
    figure.savefig(path, dpi=100)
    print(f"figure: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
