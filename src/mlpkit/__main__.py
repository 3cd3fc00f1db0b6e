"""``python -m mlpkit``: the command line (see :mod:`mlpkit.cli`)."""

from .cli import main

raise SystemExit(main())
