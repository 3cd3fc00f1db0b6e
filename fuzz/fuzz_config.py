"""Fuzz target for CLI configuration files: ``mlpkit train --config FILE``.

The file goes through :func:`mlpkit.cli.config.load_config` and the parser's checks of every
option value (everything before data is loaded; the recipe's defaults depend on the data).
"""

from __future__ import annotations

import importlib
import sys

from _common import main, via_file

from mlpkit.cli._data import CLIError

# mlpkit.cli re-exports the function main, which hides the module of the same name
cli = importlib.import_module("mlpkit.cli.main")

CONTRACT = (
    "parsing 'mlpkit train --config FILE' gives options or raises CLIError/ValueError naming "
    "the file (a bad option value also names the option)"
)
INSTRUMENT = ["mlpkit.cli.config"]


def test_one_input(data: bytes) -> None:
    path = via_file(data, ".toml")
    try:
        args = cli._parse(["train", "--config", path])
    except (CLIError, ValueError) as error:
        if path not in str(error) and "--" not in str(error):
            raise AssertionError(f"error names neither the file nor an option: {error}") from None
        return
    if args.hidden is not None and not all(isinstance(h, int) for h in args.hidden):
        raise AssertionError(f"hidden = {args.hidden!r}")


if __name__ == "__main__":
    main(sys.modules[__name__])
