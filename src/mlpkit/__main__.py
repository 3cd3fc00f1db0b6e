"""``python -m mlpkit``: the command line (see :mod:`mlpkit.cli`)."""

from .cli.main import main

raise SystemExit(main())
