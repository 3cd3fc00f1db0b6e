"""``mlpkit playground [--host HOST] [--port N] [--no-browser]``: the subcommand's parser and
runner (the web server is imported only when it runs, so ``mlpkit --help`` needs no extra)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_parser", "run"]

DEFAULT_PORT = 8765


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be an integer, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be in [0, 65535], got {port}")
    return port


def add_parser(subparsers: Any) -> None:
    """Add the ``playground`` subcommand to an argparse ``subparsers`` object."""
    parser = subparsers.add_parser(
        "playground",
        help="the lecture's network live in the browser (needs the extra 'playground')",
        description="Start a local web page where a small network learns 2-D data, every "
        "step computed by mlpkit; Ctrl-C stops it.",
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a web browser, only print the URL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; returns the exit status 0."""
    from .server import serve

    serve(args.host, args.port, open_browser=not args.no_browser)
    return 0
