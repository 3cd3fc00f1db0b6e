"""The ``mlpkit`` command: train, evaluate, predict, info, trace, lecture."""

from .main import RECIPES, build_parser, main

__all__ = ["RECIPES", "build_parser", "main"]
