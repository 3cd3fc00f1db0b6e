"""Rosenblatt's perceptron on the logic gates (CS 445 lecture 001, Merceron lecture 004): the
rule converges on AND, OR and NAND in a few epochs and cycles for ever on XOR, which no single
threshold unit can compute; two step neurons can. Prints epochs, updates and weights.

    python examples/perceptron_gates.py [--quick]
"""

import argparse
import warnings

import numpy as np

from mlpkit.lectures.perceptron import NotLinearlySeparableWarning, Perceptron, logic_gate_network

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
TABLES = {"and": [0, 0, 0, 1], "or": [0, 1, 1, 1], "nand": [1, 1, 1, 0], "xor": [0, 1, 1, 0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="max 20 epochs")
    parser.add_argument("--out", default=None, help="unused (no figures)")
    args = parser.parse_args(argv)
    if args.quick:
        args.max_epochs = 20
    print(f"perceptron rule, η = 1, w = 0 and b = 0 at the start, at most {args.max_epochs} epochs")
    for gate, table in TABLES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotLinearlySeparableWarning)
            model = Perceptron(max_epochs=args.max_epochs).fit(X, table)
        print(
            f"{gate.upper():>4}: {model.message_}; w = {model.weights_}, b = {model.bias_:g}, "
            f"predictions {model.predict(X)} (truth {table})"
        )
    print("XOR by two step neurons:", logic_gate_network("xor").forward(X)[:, 0].astype(int))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
