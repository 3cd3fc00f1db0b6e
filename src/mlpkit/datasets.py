"""``mlpkit.datasets`` is :mod:`mlpkit.data.datasets` (the import path of earlier releases)."""

import sys

from .data import datasets as _datasets

sys.modules[__name__] = _datasets
